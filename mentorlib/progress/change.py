"""The improvement rule: when a student counts as having improved in a dimension.

This module is the workbench's one definition of "significant improvement". Every stage that
needs it (the headline verdict and its breakdowns, the dose-response analysis, the grouping
outcome model) calls :func:`study_changes`, or, inside the progress report,
:func:`year_changes` with the same resolved settings; the comparison itself is
:func:`is_improved`, which every flag of this package goes through.

reliable_change
    Jacobson & Truax (1991) reliable change index per student.
minimal_change
    Change of at least a minimal important difference (a share of the pre-test SD).
standardised_gain
    Exam scores: z within year, term, subject and grade; the gain from term 1 to term 2.
change_scores
    Pre, post, change and the improved / deteriorated flags per student and dimension.
study_changes
    :func:`change_scores` of a study's year with the study's rulebook (the one rule).
student_progress
    Per student: dimensions evaluable, improved, deteriorated, and a category.
false_positive_rate
    The share a rule flags as improved when nobody truly changed (normal theory).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .. import scales
from ..errors import InputError
from ..io.codebook import Codebook
from ..labels import PROGRESS_CATEGORIES as CATEGORIES
from ..labels import PROGRESS_DEFINITIONS, Lang
from ..rules import Rulebook
from ._common import as_float, need_columns, year_roster

__all__ = [
    "CATEGORIES",
    "DEFINITION_SPECS",
    "StudyScores",
    "change_se",
    "change_scores",
    "definition_label",
    "false_positive_rate",
    "is_improved",
    "minimal_change",
    "reliable_change",
    "standardised_gain",
    "student_progress",
    "study_changes",
    "study_scores",
    "year_changes",
]

#: The definitions of significant progress: name -> (rule, where the RCI's reliability comes
#: from: this year's pre-wave alpha, the codebook's published alpha, or none for the MID).
DEFINITION_SPECS: dict[str, tuple[str, str | None]] = {
    "rci_data": ("rci", "data"),
    "rci_published": ("rci", "published"),
    "mid": ("mid", None),
}

#: Which rules count a change exactly at the threshold: the RCI needs to pass it (RC > z),
#: the minimal important difference only to reach it (change >= mid * SD).
STRICT = {"rci": True, "mid": False}


def definition_label(definition: str, lang: str = "zh", *, mid: float) -> str:
    """The label of a definition of significant progress, with the rulebook's ``mid`` in it.

    >>> definition_label("mid", "en", mid=0.5)
    'minimal important difference, 0.5 SD'
    """
    return Lang(lang).of(PROGRESS_DEFINITIONS, definition).format(mid=mid)


# --------------------------------------------------------------------- the comparison


def change_se(sd_pre, reliability):
    """Standard error of a pre/post difference: the RCI's denominator, its only formula.

    :math:`S_{diff} = \\sqrt{2}\\, s_1 \\sqrt{1 - r_{xx}}` (Jacobson & Truax 1991): two
    measurement errors of SD :math:`s_1\\sqrt{1-r_{xx}}` each. A change is reliable when it
    exceeds ``z * change_se`` in the good direction.

    >>> round(float(change_se(5.0, 0.8)), 4)
    3.1623
    """
    return np.sqrt(2.0) * sd_pre * np.sqrt(1.0 - reliability)


def is_improved(signed_change, threshold, *, strict: bool) -> np.ndarray:
    """The one comparison that decides "improved": the change in the good direction passes
    (``strict``, the RCI) or reaches (the MID) the threshold. Missing values give False.

    Deterioration is the same comparison of the negated change.

    >>> is_improved(np.array([1.0, 2.0, np.nan]), 1.0, strict=True).tolist()
    [False, True, False]
    """
    with np.errstate(invalid="ignore"):
        return (
            np.greater(signed_change, threshold)
            if strict
            else np.greater_equal(signed_change, threshold)
        )


def _both(signed, threshold, *, strict: bool) -> tuple[np.ndarray, np.ndarray]:
    """(improved, deteriorated) by :func:`is_improved`."""
    return (
        is_improved(signed, threshold, strict=strict),
        is_improved(-signed, threshold, strict=strict),
    )


def _pair(pre, post) -> tuple[np.ndarray, np.ndarray]:
    x1, x2 = np.atleast_1d(as_float(pre, "pre")), np.atleast_1d(as_float(post, "post"))
    if x1.shape != x2.shape or x1.ndim != 1:
        raise InputError(f"pre and post must be 1-D and equally long ({x1.shape} vs {x2.shape})")
    return x1, x2


def _sign(direction: str) -> float:
    if direction not in ("up", "down"):
        raise InputError(f"direction must be 'up' or 'down', got {direction!r}")
    return 1.0 if direction == "up" else -1.0


def _flags(good: np.ndarray, bad: np.ndarray, ok: np.ndarray) -> tuple[Any, Any]:
    """Nullable boolean (improved, deteriorated): missing where ``ok`` is False."""
    imp = pd.array(good, dtype="boolean")
    det = pd.array(bad, dtype="boolean")
    imp[~ok] = pd.NA
    det[~ok] = pd.NA
    return imp, det


def reliable_change(
    pre,
    post,
    *,
    sd_pre,
    reliability,
    direction: str = "up",
    z: float = 1.96,
) -> pd.DataFrame:
    """Reliable change index (Jacobson & Truax 1991) of each pre/post pair.

    Parameters
    ----------
    pre, post : array-like
        Scores before and after (same length; missing as NaN).
    sd_pre : float or array-like
        Standard deviation of the pre-test in the reference group (the cohort, or the
        student's grade).
    reliability : float or array-like
        Reliability of the scores, in (0, 1): Cronbach's alpha of the pre wave, or a
        published value.
    direction : {"up", "down"}
        Which way is improvement.
    z : float, default 1.96
        Critical value: improvement when the RCI passes ``z`` in the good direction.

    Returns
    -------
    DataFrame
        ``pre, post, change`` (post - pre), ``s_diff`` (standard error of the difference),
        ``rci``, ``improved``, ``deteriorated`` (nullable booleans, missing when a score is).

    Notes
    -----
    .. math::

        S_E = s_1\\sqrt{1 - r_{xx}},\\quad S_{diff} = \\sqrt{2 S_E^2},\\quad
        RC = \\frac{x_2 - x_1}{S_{diff}}

    where :math:`s_1` is the pre-test SD and :math:`r_{xx}` the reliability. A change is
    reliable when :math:`|RC| > 1.96`: under no true change and normal measurement error it
    happens with probability 0.05 (0.025 in each direction).

    Jacobson, N. S., & Truax, P. (1991). Clinical significance: a statistical approach to
    defining meaningful change in psychotherapy research. *Journal of Consulting and
    Clinical Psychology*, 59(1), 12-19.

    Examples
    --------
    >>> reliable_change([10, 10], [2, 18], sd_pre=5, reliability=0.8)["rci"].round(4).tolist()
    [-2.5298, 2.5298]
    """
    x1, x2 = _pair(pre, post)
    sd, r = as_float(sd_pre, "sd_pre"), as_float(reliability, "reliability")
    if not np.all((sd > 0) & np.isfinite(sd)):
        raise InputError("sd_pre must be positive and finite")
    if not np.all((r > 0) & (r < 1)):
        raise InputError(f"reliability must be in (0, 1), got {np.unique(r)[:3]}")
    s = _sign(direction)
    change = x2 - x1
    s_diff = np.broadcast_to(change_se(sd, r), change.shape)
    rci = change / s_diff
    ok = ~np.isnan(rci)
    imp, det = _flags(*_both(s * rci, z, strict=True), ok)
    return pd.DataFrame(
        {
            "pre": x1,
            "post": x2,
            "change": change,
            "s_diff": s_diff,
            "rci": rci,
            "improved": imp,
            "deteriorated": det,
        }
    )


def minimal_change(pre, post, *, sd_pre, mid: float = 0.5, direction: str = "up") -> pd.DataFrame:
    """Change of at least a minimal important difference (a share of the pre-test SD).

    Parameters
    ----------
    pre, post : array-like
        Scores before and after (missing as NaN).
    sd_pre : float or array-like
        Pre-test standard deviation of the reference group.
    mid : float, default 0.5
        The minimal important difference in pre-test SDs.
    direction : {"up", "down"}
        Which way is improvement.

    Returns
    -------
    DataFrame
        ``pre, post, change, effect`` (change / sd_pre), ``threshold`` (mid * sd_pre),
        ``improved``, ``deteriorated`` (nullable booleans).

    Notes
    -----
    Improvement when :math:`\\pm(x_2 - x_1) \\ge \\text{mid} \\cdot s_1`. Half a standard
    deviation is the distribution-based rule of Norman, Sloan & Wyrwich (2003), *Medical
    Care* 41, 582-592. It ignores measurement error: with reliability :math:`r` a student with
    no true change passes it with probability :math:`1 - \\Phi(\\text{mid} / \\sqrt{2(1-r)})`
    (about 0.21 for :math:`r = 0.8`), see :func:`false_positive_rate`.
    """
    if not mid > 0:
        raise InputError(f"mid must be positive, got {mid}")
    x1, x2 = _pair(pre, post)
    sd = as_float(sd_pre, "sd_pre")
    if not np.all((sd > 0) & np.isfinite(sd)):
        raise InputError("sd_pre must be positive and finite")
    s = _sign(direction)
    change = x2 - x1
    thr = np.broadcast_to(mid * sd, change.shape)
    ok = ~np.isnan(change)
    imp, det = _flags(*_both(s * change, thr, strict=False), ok)
    return pd.DataFrame(
        {
            "pre": x1,
            "post": x2,
            "change": change,
            "effect": change / sd,
            "threshold": thr,
            "improved": imp,
            "deteriorated": det,
        }
    )


def standardised_gain(
    exams: pd.DataFrame, students: pd.DataFrame, *, mid: float = 0.5
) -> pd.DataFrame:
    """Exam progress as standardised gain: z within year, term, subject and grade.

    Parameters
    ----------
    exams : DataFrame
        ``student_id, year, term, subject, score`` (missing when absent).
    students : DataFrame
        ``student_id, year, grade``: the grade each student was in that year.
    mid : float, default 0.5
        A gain of at least ``mid`` (in within-grade SDs) counts as improvement.

    Returns
    -------
    DataFrame
        One row per student and year with both terms: ``student_id, year, grade,
        n_subjects`` (sat in both terms), ``z_term1, z_term2`` (mean z over those subjects),
        ``gain`` (z_term2 - z_term1), ``improved``, ``deteriorated``.

    Notes
    -----
    :math:`z = (x - \\bar x_{g}) / s_{g}` within each year, term, subject and grade
    :math:`g`; the gain is the mean over subjects of :math:`z_{2} - z_{1}`. Exams differ in
    difficulty from term to term, so only relative standing is comparable: the gains sum to
    about zero within a grade and say who moved up *relative to peers*, not whether the
    grade as a whole progressed (Cronbach & Furby 1970 on raw gains; here the papers change,
    so a raw gain is not available at all).
    """
    need_columns(exams, {"student_id", "year", "term", "subject", "score"}, "exams")
    if not {"student_id", "year", "grade"} <= set(students.columns):
        raise InputError("students need student_id, year and grade for standardised gains")
    e = exams.loc[:, ["student_id", "year", "term", "subject", "score"]].assign(
        student_id=lambda d: d["student_id"].astype("str"),
        subject=lambda d: d["subject"].astype("str"),
        score=lambda d: pd.to_numeric(d["score"], errors="coerce"),
    )
    g = students.loc[:, ["student_id", "year", "grade"]].assign(
        student_id=lambda d: d["student_id"].astype("str")
    )
    e = e.merge(g, on=["student_id", "year"], how="inner").dropna(subset=["score"])
    grp = e.groupby(["year", "term", "subject", "grade"])["score"]
    sd = grp.transform("std")
    e = e.assign(z=(e["score"] - grp.transform("mean")) / sd.where(sd > 0))
    w = e.pivot_table(
        index=["student_id", "year", "grade", "subject"], columns="term", values="z"
    ).dropna()
    if not {1, 2} <= set(w.columns):
        raise InputError("standardised gain needs exam scores from both terms")
    w = w.assign(gain=w[2] - w[1]).reset_index()
    out = w.groupby(["student_id", "year", "grade"], as_index=False).agg(
        n_subjects=("subject", "size"),
        z_term1=(1, "mean"),
        z_term2=(2, "mean"),
        gain=("gain", "mean"),
    )
    good, worse = _both(out["gain"].to_numpy(dtype=float), mid, strict=False)
    return out.assign(improved=good, deteriorated=worse)


def _at_least(p: np.ndarray, k: int) -> float:
    """P(at least k successes) for independent trials with probabilities p (Poisson-binomial)."""
    dist = np.zeros(len(p) + 1)
    dist[0] = 1.0
    for pi in p:
        dist[1:] = dist[1:] * (1 - pi) + dist[:-1] * pi
        dist[0] *= 1 - pi
    return float(dist[k:].sum())


def false_positive_rate(
    *,
    n_dimensions: int,
    k: int = 1,
    z: float = 1.96,
    mid: float | None = None,
    reliability=None,
) -> pd.DataFrame:
    """Share of students a rule flags as improved when nobody truly changed.

    Parameters
    ----------
    n_dimensions : int
        Dimensions measured (D).
    k : int, default 1
        A student counts as progressing with improvement in at least ``k`` dimensions.
    z : float, default 1.96
        RCI critical value (ignored when ``mid`` is given).
    mid : float, optional
        Give the minimal important difference (in pre-test SDs) to evaluate that rule instead.
    reliability : float or sequence of float, optional
        Reliability per dimension (one value for all, or D values); needed for ``mid``.

    Returns
    -------
    DataFrame
        One row: ``rule`` ("rci" or "mid"), ``n_dimensions, k, p_dimension`` (mean
        per-dimension rate), ``p_student`` (the student-level rate), ``assumption``.

    Notes
    -----
    Under no true change the observed change is the difference of two independent
    measurement errors, each :math:`N(0, s^2(1-r))` in classical test theory, so
    :math:`x_2 - x_1 \\sim N(0, 2 s^2 (1-r))`. Then per dimension

    - RCI rule: :math:`P(RC > z) = 1 - \\Phi(z)` (0.025 for z = 1.96), whatever r;
    - MID rule: :math:`P(x_2 - x_1 \\ge m s) = 1 - \\Phi(m / \\sqrt{2(1-r)})`.

    Assuming errors independent across the D dimensions (different items), the count of
    flagged dimensions is Poisson-binomial and :math:`P(\\text{at least } k)` follows; for
    equal rates it is the binomial tail, e.g. :math:`1 - 0.975^4 = 0.0963` for k = 1 of
    D = 4. Correlated errors would lower the k = 1 rate and raise the k = 2 rate. The
    estimate also assumes that sd_pre and the reliability used are the true ones.
    """
    if not 1 <= k <= n_dimensions:
        raise InputError(f"k must be between 1 and n_dimensions ({n_dimensions}), got {k}")
    if mid is None:
        p = np.full(n_dimensions, stats.norm.sf(z))
        rule = "rci"
    else:
        if reliability is None:
            raise InputError("the MID rule's false-positive rate needs the reliability")
        r = np.broadcast_to(np.asarray(reliability, dtype=float), (n_dimensions,))
        if not np.all((r > 0) & (r < 1)):
            raise InputError("reliability must be in (0, 1)")
        p = stats.norm.sf(mid / np.sqrt(2 * (1 - r)))
        rule = "mid"
    return pd.DataFrame(
        {
            "rule": [rule],
            "n_dimensions": [n_dimensions],
            "k": [k],
            "p_dimension": [float(p.mean())],
            "p_student": [_at_least(p, k)],
            "assumption": [
                "no true change; normal, independent measurement errors across waves and "
                "dimensions; sd_pre and reliability equal to the true values"
            ],
        }
    )


# --------------------------------------------------------------------- a study's year


def _reliability_map(reliability, year: int, cb: Codebook, dims) -> dict[str, float]:
    if isinstance(reliability, str):
        if reliability != "published":
            raise InputError(
                "reliability must be 'published', a number, a {dimension: value} mapping or "
                "the table from scales.reliability()"
            )
        published = {d: cb.dimensions[d].published_alpha for d in dims}
        missing = [d for d, v in published.items() if v is None]
        if missing:
            raise InputError(f"codebook {cb.name!r} gives no published alpha for {missing}")
        return {d: float(v) for d, v in published.items() if v is not None}
    if isinstance(reliability, pd.DataFrame):
        t = reliability.loc[(reliability["year"] == year) & (reliability["wave"] == "pre")]
        rel = dict(zip(t["dimension"].astype("str"), t["alpha"].astype(float), strict=True))
        missing = [d for d in dims if d not in rel]
        if missing:
            raise InputError(f"no pre-wave alpha for {missing} in year {year}")
        return {d: rel[d] for d in dims}
    if isinstance(reliability, Mapping):
        missing = [d for d in dims if d not in reliability]
        if missing:
            raise InputError(f"reliability mapping lacks {missing}")
        return {d: float(reliability[d]) for d in dims}
    return dict.fromkeys(dims, float(reliability))


_CHANGE_COLUMNS = [
    "student_id",
    "year",
    "dimension",
    "pre",
    "post",
    "change",
    "sd_pre",
    "reliability",
    "s_diff",
    "rci",
    "threshold",
    "direction",
    "evaluable",
    "improved",
    "deteriorated",
    "definition",
]


def _wide_scores(scores: pd.DataFrame, year: int, dims: list[str], roster) -> pd.DataFrame:
    """``student_id, dimension, pre, post``: every roster (or scored) student x dimension."""
    need_columns(scores, {"student_id", "year", "wave", "dimension", "score"}, "scores")
    sc = scores.loc[scores["year"] == year, ["student_id", "wave", "dimension", "score"]]
    sc = sc.assign(
        student_id=sc["student_id"].astype("str"),
        wave=sc["wave"].astype("str"),
        dimension=sc["dimension"].astype("str"),
    )
    if sc.duplicated(["student_id", "wave", "dimension"]).any():
        raise InputError(f"scores: a student has two scores for one wave and dimension ({year})")
    wide = sc.set_index(["student_id", "dimension", "wave"])["score"].unstack("wave")
    ids = (
        pd.Index(roster["student_id"].astype("str").unique())
        if roster is not None
        else pd.Index(sc["student_id"].unique())
    )
    grid = pd.MultiIndex.from_product([ids, dims], names=["student_id", "dimension"])
    return wide.reindex(index=grid, columns=["pre", "post"]).reset_index()


def _pre_sd(out: pd.DataFrame, roster, sd_by: str | None, year: int) -> pd.Series:
    """The pre-test SD (ddof = 1) of each row's reference group; NaN where it has no spread."""
    if sd_by is None:
        sd = out.groupby("dimension", sort=False)["pre"].transform("std")
    elif sd_by == "grade":
        if roster is None or "grade" not in roster.columns:
            raise InputError("sd_by='grade' needs a roster with a grade column")
        grade = roster.assign(student_id=roster["student_id"].astype("str")).set_index(
            "student_id"
        )["grade"]
        g = out.assign(_grade=grade.reindex(out["student_id"]).to_numpy())
        sd = g.groupby(["_grade", "dimension"], sort=False)["pre"].transform("std")
    else:
        raise InputError(f"sd_by must be None or 'grade', got {sd_by!r}")
    bad = sd.isna() | (sd <= 0)
    if bad.all():
        raise InputError(f"no pre-test spread to scale change by in year {year}")
    return sd.where(~bad)


def change_scores(
    scores: pd.DataFrame,
    *,
    year: int,
    codebook: Codebook | str,
    roster: pd.DataFrame | None = None,
    definition: str = "rci",
    reliability="published",
    sd_by: str | None = None,
    z: float = 1.96,
    mid: float = 0.5,
) -> pd.DataFrame:
    """Pre, post and the improvement flags of every student and dimension in a year.

    Parameters
    ----------
    scores : DataFrame
        Scale scores (:func:`mentorlib.scales.score_scales`): ``student_id, year, wave,
        dimension, score``.
    year : int
        The school year.
    codebook : Codebook or str
        The assessment codebook: dimensions, good direction, published alphas.
    roster : DataFrame, optional
        The year's students (``student_id``, plus ``grade`` for ``sd_by="grade"``). Every
        roster student gets a row per dimension, with missing scores when unmeasured; scored
        students not on it are left out (count them before). Default: the scored students.
    definition : {"rci", "mid"}
        Reliable change index, or a minimal important difference.
    reliability : "published", float, mapping or DataFrame
        For the RCI: the codebook's published alphas, one value, ``{dimension: value}``,
        or the table of :func:`mentorlib.scales.reliability` (its pre-wave alpha of
        ``year`` is used).
    sd_by : {None, "grade"}
        The pre-test SD of the whole roster (default), or of the student's grade.
    z : float, default 1.96
        RCI critical value (Jacobson & Truax 1991). A study's analyses pass its rulebook's
        ``rci_z`` (:func:`study_changes`).
    mid : float, default 0.5
        Minimal important difference in pre-test SDs (Norman et al. 2003); studies pass the
        rulebook's ``mid``.

    Returns
    -------
    DataFrame
        ``student_id, year, dimension, pre, post, change, sd_pre, reliability, s_diff, rci``
        (the last three NaN for MID), ``threshold`` (the change needed in the good
        direction), ``direction, evaluable`` (both scores present), ``improved,
        deteriorated`` (nullable booleans), ``definition``.

    Notes
    -----
    ``sd_pre`` is the SD (ddof = 1) of the pre scores of the reference group. See
    :func:`reliable_change` and :func:`minimal_change` for the rules.
    """
    cb = scales.as_codebook(codebook)
    dims = list(cb.dimensions)
    if definition not in STRICT:
        raise InputError(f"definition must be 'rci' or 'mid', got {definition!r}")
    out = _wide_scores(scores, year, dims, roster)
    sd = _pre_sd(out, roster, sd_by, year).to_numpy()
    direction = out["dimension"].map({d: cb.dimensions[d].direction for d in dims})
    sign = np.where(direction == "down", -1.0, 1.0)
    change = out["post"].to_numpy() - out["pre"].to_numpy()
    if definition == "rci":
        rel_map = _reliability_map(reliability, year, cb, dims)
        bad_r = {d: v for d, v in rel_map.items() if not 0 < v < 1}
        if bad_r:
            raise InputError(f"reliability outside (0, 1) for {bad_r} in year {year}")
        rel = out["dimension"].map(rel_map).to_numpy(dtype=float)
        s_diff = change_se(sd, rel)
        rci = change / s_diff
        thr = z * s_diff
        good, worse = _both(sign * rci, z, strict=True)
    else:
        rel = s_diff = rci = np.full(len(out), np.nan)
        thr = mid * sd
        good, worse = _both(sign * change, thr, strict=False)
    ok = ~np.isnan(change) & ~np.isnan(thr)
    imp, det = _flags(good, worse, ok)
    return out.assign(
        year=year,
        change=change,
        sd_pre=sd,
        reliability=rel,
        s_diff=s_diff,
        rci=rci,
        threshold=thr,
        direction=direction.astype("str"),
        evaluable=ok,
        improved=imp,
        deteriorated=det,
        definition=definition,
    ).loc[:, _CHANGE_COLUMNS]


@dataclass(frozen=True)
class StudyScores:
    """A study's scale scores and reliabilities, computed once with its rulebook.

    Attributes
    ----------
    codebook : Codebook
        The assessment codebook.
    items : DataFrame
        ``processed["assessment_items"]``.
    scores : DataFrame
        :func:`mentorlib.scales.score_scales` with the rulebook's ``min_answered``.
    reliability : DataFrame or None
        :func:`mentorlib.scales.reliability` (interval at ``1 - alpha``), when asked for.
    shared : DataFrame or None
        :func:`mentorlib.scales.shared_items`: the items each year's change used.

    Scores and reliability are computed on :func:`mentorlib.scales.keep_shared`: a dimension's
    pre and post scores average the same items, and alpha (and the pre-test SD the RCI uses)
    comes from those items, when a questionnaire dropped or added an item.
    """

    codebook: Codebook
    items: pd.DataFrame
    scores: pd.DataFrame
    reliability: pd.DataFrame | None
    shared: pd.DataFrame | None = None


def study_scores(processed, *, rules: Rulebook, reliability: bool = True) -> StudyScores:
    """Score a study's assessment (and, by default, its reliability) under ``rules``."""
    cb = processed.codebook("assessment")
    items = processed.assessment("progress")
    shared = scales.shared_items(items, cb)
    kept = scales.keep_shared(items, cb, shared=shared)
    scores = scales.score_scales(kept, cb, min_answered=rules.min_answered)
    rel = scales.reliability(kept, cb, ci=1 - rules.alpha) if reliability else None
    return StudyScores(cb, kept, scores, rel, shared)


def _spec(definition: str) -> tuple[str, str | None]:
    try:
        return DEFINITION_SPECS[definition]
    except KeyError:
        raise InputError(
            f"definition must be one of {list(DEFINITION_SPECS)}, got {definition!r}"
        ) from None


def year_changes(
    scored: StudyScores,
    roster: pd.DataFrame,
    year: int,
    *,
    definition: str,
    rules: Rulebook,
    sd_by: str | None = None,
) -> pd.DataFrame:
    """:func:`change_scores` with a definition and a rulebook resolved: the one path.

    :func:`study_changes` and the progress report both come through here, so the
    reliability source, ``z`` (``rules.rci_z``) and ``mid`` (``rules.mid``) are resolved in
    one place.
    """
    rule, source = _spec(definition)
    reliability: pd.DataFrame | str = "published"
    if source == "data":
        if scored.reliability is None:
            raise InputError("the RCI with the data's alpha needs the reliability table")
        reliability = scored.reliability
    return change_scores(
        scored.scores,
        year=year,
        codebook=scored.codebook,
        roster=roster,
        definition=rule,
        reliability=reliability,
        sd_by=sd_by,
        z=rules.rci_z,
        mid=rules.mid,
    )


def study_changes(
    processed,
    year: int,
    *,
    definition: str = "rci_data",
    rules: Rulebook | None = None,
    sd_by: str | None = None,
) -> pd.DataFrame:
    """The workbench's one improvement rule, applied to a study's year: every stage calls this.

    The headline verdict, its breakdowns, the dose-response analysis and the grouping outcome
    model all call this function (the progress report calls :func:`year_changes`, which this
    function wraps), so "improved" means the same thing in every table of every report.

    Parameters
    ----------
    processed : mentorlib.data.Processed
        The study (``students`` and ``assessment_items``).
    year : int
        The school year.
    definition : {"rci_data", "rci_published", "mid"}
        The RCI with this year's pre-wave alpha (the headline's), with the codebook's published
        alpha, or the minimal important difference.
    rules : Rulebook, optional
        Default: the study's resolved rulebook (``processed.rules``): ``rci_z``, ``mid``,
        ``min_answered`` and ``alpha`` come from it.
    sd_by : {None, "grade"}
        Scale change by the pre-test SD of the whole roster (default) or of each grade.

    Returns
    -------
    DataFrame
        The columns of :func:`change_scores`, one row per roster student and dimension.
    """
    rules = processed.rules if rules is None else rules
    source = _spec(definition)[1]
    scored = study_scores(processed, rules=rules, reliability=source == "data")
    roster = year_roster(processed["students"], year)
    return year_changes(scored, roster, year, definition=definition, rules=rules, sd_by=sd_by)


def student_progress(changes: pd.DataFrame) -> pd.DataFrame:
    """One row per student: dimensions evaluable, improved, deteriorated, and a category.

    Parameters
    ----------
    changes : DataFrame
        The output of :func:`change_scores` (one definition).

    Returns
    -------
    DataFrame
        ``student_id, year, n_dimensions, n_evaluable, n_improved, n_deteriorated,
        dims_improved`` (";"-joined), ``improved_<dimension>`` (nullable boolean per
        dimension, missing when not evaluable), ``category``: "improved_3plus",
        "improved_1_2", "no_change", "deteriorated" (reliable deterioration and no
        improvement) or "not_evaluable" (no dimension with both scores). Improvement takes
        precedence: a student who improved in one dimension and deteriorated in another is
        "improved_1_2" (``n_deteriorated`` still says so).
    """
    need = {"student_id", "year", "dimension", "evaluable", "improved", "deteriorated"}
    need_columns(changes, need, "changes")
    if "definition" in changes.columns and changes["definition"].nunique() > 1:
        raise InputError("student_progress takes one definition at a time")
    c = changes.assign(
        _imp=changes["improved"].fillna(False).astype(bool),
        _det=changes["deteriorated"].fillna(False).astype(bool),
    )
    dims = list(pd.unique(c["dimension"].astype("str")))
    g = c.groupby(["student_id", "year"], sort=False)
    out = g.agg(
        n_dimensions=("dimension", "size"),
        n_evaluable=("evaluable", "sum"),
        n_improved=("_imp", "sum"),
        n_deteriorated=("_det", "sum"),
    ).reset_index()
    wide = c.pivot(index=["student_id", "year"], columns="dimension", values="improved")
    wide = wide.reindex(pd.MultiIndex.from_frame(out[["student_id", "year"]]))
    joined = np.full(len(out), "", dtype=object)
    for d in dims:
        col = wide[d].fillna(False).to_numpy(dtype=bool)
        joined = np.where(col, joined + np.where(joined == "", "", ";") + d, joined)
        out[f"improved_{d}"] = wide[d].astype("boolean").to_numpy()
    n_imp, n_det, n_ev = out["n_improved"], out["n_deteriorated"], out["n_evaluable"]
    category = np.select(
        [n_ev == 0, n_imp >= 3, n_imp >= 1, n_det >= 1],
        ["not_evaluable", "improved_3plus", "improved_1_2", "deteriorated"],
        default="no_change",
    )
    out.insert(6, "dims_improved", pd.Series(joined, index=out.index, dtype="str"))
    return out.assign(category=pd.Categorical(category, categories=list(CATEGORIES)))
