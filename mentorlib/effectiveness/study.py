"""The mentor study of one school: the data per student, the models per outcome, and checks.

:func:`mentor_data` builds one row per mentored student (outcome score before and after, mentor,
covariates); :func:`study_models` fits the mentor model (:mod:`.model`) per dimension and for
the composite; :func:`mentor_stability` correlates the effects across years;
:func:`rank_probabilities` says how sure each mentor's place is; :func:`placebo_check` fits the
same model to height, which mentors cannot change.

Scale scores come from :func:`mentorlib.scales.score_scales` (the only scorer, with the study's
``min_answered``): compute them once with :func:`study_scores` and pass them down (``scores=``)
to fit several outcomes or years without scoring again.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError
from ..scales import keep_shared, score_scales
from .model import MentorModel, fit_mentor_model

__all__ = [
    "COVARIATES",
    "FOCUS_COVARIATES",
    "Stability",
    "check_year",
    "lrt_settings",
    "mentor_data",
    "mentor_in_term",
    "mentor_stability",
    "placebo_check",
    "rank_probabilities",
    "student_covariates",
    "study_models",
    "study_scores",
    "wide_scores",
]

#: The focus groups the programme names, as student covariates.
FOCUS_COVARIATES: tuple[str, ...] = (
    "transfer",
    "single_parent",
    "reconstituted",
    "left_behind",
)

#: Covariates of every study model (besides the pre score).
COVARIATES: tuple[str, ...] = ("grade", "gender", *FOCUS_COVARIATES)


def lrt_settings(rules) -> dict:
    """The rulebook's settings of the test of the mentor variance, as keywords of
    :func:`fit_mentor_model`."""
    return {"rlrt_min_mentees": rules.rlrt_min_mentees, "n_sim": rules.rlrt_n_sim}


def check_year(processed, year: int) -> None:
    """Raise a one-line :class:`InputError` unless ``year`` is one of the study's years."""
    if year not in processed.years:
        raise InputError(
            f"year {year} is not in study {processed.name!r} (years {processed.years})"
        )


def study_scores(processed, years: Sequence[int] | None = None) -> pd.DataFrame:
    """Scale scores of the study (long), by :func:`mentorlib.scales.score_scales`.

    Parameters
    ----------
    processed : Processed
    years : sequence of int, optional
        Score only these years (default every year).

    Returns
    -------
    DataFrame
        ``student_id, year, wave, dimension, score, n_items, n_answered``; a score is missing
        when fewer than the rulebook's ``min_answered`` share of the dimension's items are
        answered. Only the items both waves of a year asked are scored
        (:func:`mentorlib.scales.keep_shared`).
    """
    items = processed.assessment("the mentor model")
    if years is not None:
        items = items[items["year"].isin(list(years))]
    cb = processed.codebook("assessment")  # pre and post on the items both waves asked
    return score_scales(keep_shared(items, cb), cb, min_answered=processed.rules.min_answered)


def wide_scores(processed, year: int, *, scores: pd.DataFrame | None = None) -> pd.DataFrame:
    """Dimension scores per student of one year, wide: columns ``<wave>_<dimension>``.

    Parameters
    ----------
    processed : Processed
    year : int
    scores : DataFrame, optional
        :func:`study_scores` output (any years); scored here when not given.

    Returns
    -------
    DataFrame
        Index student_id; ``pre_<dimension>``, ``post_<dimension>`` for every dimension, and
        ``pre_composite``, ``post_composite`` (the mean of the dimension scores when all are
        present).
    """
    sc = study_scores(processed, [year]) if scores is None else scores
    sc = sc[sc["year"] == year]
    wide = sc.pivot_table(
        index="student_id",
        columns=["wave", "dimension"],
        values="score",
        dropna=False,
        observed=True,
    )
    wide.columns = pd.Index([f"{c[0]}_{c[1]}" for c in wide.columns])
    dims = list(processed.dimensions)
    for w in ("pre", "post"):
        cols = [f"{w}_{d}" for d in dims]
        for c in cols:
            if c not in wide:
                wide[c] = np.nan
        wide[f"{w}_composite"] = wide[cols].mean(axis=1, skipna=False)
    return wide


def mentor_in_term(processed, year: int, term: int) -> pd.Series:
    """Mentor of each student in a term: the latest assignment row with term <= ``term``."""
    a = processed["assignments"]
    a = a[(a["year"] == year) & (a["term"] <= term)]
    a = a.sort_values(["term", "start_date"], kind="stable")
    last = a.drop_duplicates("student_id", keep="last")
    return pd.Series(
        last["mentor_id"].astype(str).to_numpy(),
        index=last["student_id"].astype(str).to_numpy(),
        name="mentor_id",
    )


def _flag(x) -> pd.Series:
    """A yes/no column as nullable boolean (missing stays missing)."""
    return pd.Series(pd.array(x, dtype="boolean"))


def student_covariates(processed, year: int) -> pd.DataFrame:
    """Covariates per student in a year; missing values stay missing (the fit drops them)."""
    s = processed["students"]
    s = s[s["year"] == year]
    fam = s["family"].astype("string")
    grade = s["grade"].astype("Int64").astype("string")
    return pd.DataFrame(
        {
            "student_id": s["student_id"].astype(str).to_numpy(),
            "grade": pd.Categorical(s["grade"].to_numpy()),
            "class_id": (grade + "-" + s["class_no"].astype("Int64").astype("string")).to_numpy(),
            "gender": s["gender"].astype("string").to_numpy(),
            "transfer": _flag(s["transfer"]).array,
            "single_parent": _flag(fam == "single_parent").array,
            "reconstituted": _flag(fam == "reconstituted").array,
            "left_behind": _flag(s["left_behind"]).array,
            "height_cm": s["height_cm"].to_numpy(dtype=float, na_value=np.nan),
        }
    )


def mentor_data(
    processed,
    year: int,
    *,
    outcome: str = "composite",
    mentor_term: int = 1,
    scores: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per mentored student in a year: outcome before and after, mentor, covariates.

    Parameters
    ----------
    processed : Processed
        The study (:class:`mentorlib.data.Processed`).
    year : int
        School year.
    outcome : str
        A dimension, ``"composite"`` (mean of the dimension scores) or ``"height"`` (the
        placebo: this year's height, ``pre`` last year's when the study has it).
    mentor_term : {1, 2}
        Whose mentee a student counts as: the mentor of term 1 (default; the mentor of the
        longer term) or of term 2 (after regrouping).
    scores : DataFrame, optional
        :func:`study_scores` output, to score the study once for several calls.

    Returns
    -------
    DataFrame
        student_id, mentor_id, class_id ("3-2"), grade (categorical), gender, transfer,
        single_parent, reconstituted, left_behind (bool), pre, post (float, missing when the
        wave is missing or fewer than the rulebook's ``min_answered`` share of the items are
        answered).
    """
    check_year(processed, year)
    dims = list(processed.dimensions)
    if outcome not in (*dims, "composite", "height"):
        raise InputError(f"unknown outcome {outcome!r}: expected one of {dims}, composite, height")
    cov = student_covariates(processed, year)
    mentor = mentor_in_term(processed, year, mentor_term)
    if not len(mentor):
        raise InputError(
            f"no student has a mentor in {year} (term {mentor_term}): the assignments table "
            "has no row for that year (none in the groups sources, or every row was "
            "quarantined: see quarantine.parquet)"
        )
    cov = cov[cov["student_id"].isin(mentor.index)]
    cov = cov.assign(mentor_id=mentor.reindex(cov["student_id"]).to_numpy())
    if outcome == "height":
        post = cov["height_cm"].to_numpy()
        if year - 1 in processed.years:
            prev = student_covariates(processed, year - 1).set_index("student_id")["height_cm"]
            pre = prev.reindex(cov["student_id"]).to_numpy(dtype=float)
        else:
            pre = np.full(len(cov), np.nan)
    else:
        sc = wide_scores(processed, year, scores=scores).reindex(cov["student_id"])
        pre, post = sc[f"pre_{outcome}"].to_numpy(), sc[f"post_{outcome}"].to_numpy()
    cols = ["student_id", "mentor_id", "class_id", "grade", "gender", *FOCUS_COVARIATES]
    return cov[cols].assign(pre=pre, post=post).reset_index(drop=True)


def study_models(
    processed,
    year: int,
    *,
    outcomes: Sequence[str] | None = None,
    class_effect: bool = False,
    reml: bool = True,
    mentor_term: int = 1,
    intervals: str = "integrated",
    scores: pd.DataFrame | None = None,
) -> dict[str, MentorModel]:
    """Fit the mentor model per dimension and for the composite in one year.

    Parameters
    ----------
    processed : Processed
    year : int
    outcomes : sequence of str, optional
        Dimensions and/or ``"composite"``; default every dimension and the composite.
    class_effect : bool
        Add a class variance component (MixedLM path).
    reml : bool
    mentor_term : {1, 2}
        See :func:`mentor_data`.
    intervals : {"integrated", "conditional"}
        See :func:`fit_mentor_model` (integrated by default: they cover when the true mentor
        SD is small); intervals at the level ``1 - alpha`` of the study's rulebook, the test
        of the mentor variance with its ``rlrt_min_mentees`` and ``rlrt_n_sim``.
    scores : DataFrame, optional
        :func:`study_scores` output (scored once here when not given).

    Returns
    -------
    dict
        Outcome -> :class:`MentorModel` of ``post ~ pre + grade + gender + transfer +
        single_parent + reconstituted + left_behind + (1 | mentor_id) [+ (1 | class_id)]``.

    Notes
    -----
    The value-added specification (Kane & Staiger 2008; Chetty, Friedman & Rockoff 2014,
    AER 104(9):2593): the post score adjusted for the pre score and student characteristics,
    with the mentor as a random intercept, so that each mentor's effect is shrunk toward the
    mean in proportion to how little the mentor's few mentees tell about it.
    """
    outcomes = list(outcomes) if outcomes is not None else [*processed.dimensions, "composite"]
    if scores is None and any(oc != "height" for oc in outcomes):
        scores = study_scores(processed, [year])
    out = {}
    for oc in outcomes:
        data = mentor_data(processed, year, outcome=oc, mentor_term=mentor_term, scores=scores)
        _check_outcome(data, year, oc)
        out[oc] = fit_mentor_model(
            data,
            outcome="post",
            group="mentor_id",
            pre="pre",
            covariates=COVARIATES,
            extra_group="class_id" if class_effect else None,
            reml=reml,
            confidence=1 - processed.rules.alpha,
            intervals=intervals,
            **lrt_settings(processed.rules),
            min_cell=processed.rules.min_cell,
        )
        out[oc].outcome = oc
    return out


def _check_outcome(data: pd.DataFrame, year: int, outcome: str) -> None:
    """A one-line error in the study's terms when no mentee has the outcome at both waves."""
    if data["post"].notna().any() and (data["pre"].notna() & data["post"].notna()).any():
        return
    waves = [w for w in ("pre", "post") if data[w].isna().all()]
    why = (
        f"none of the {len(data)} mentees has a {' or '.join(f'{w}-wave' for w in waves)} "
        f"{outcome} score"
        if waves
        else "the mentees with a pre-wave score have no post-wave score"
    )
    raise InputError(
        f"no mentee has both a pre and a post assessment in {year}: {why} (is the {year} "
        "assessment file in study.toml, and its students linked? see quarantine.parquet)"
    )


@dataclass
class Stability:
    """Mentor effects across years (:func:`mentor_stability`).

    Attributes
    ----------
    effects : DataFrame
        mentor_id, year, effect, se, n, reliability (long; names mentors: internal).
    correlation : DataFrame
        year_a, year_b, n_mentors, r_eb, r_eb_low, r_eb_high, r_true, r_true_low, r_true_high.
    """

    effects: pd.DataFrame
    correlation: pd.DataFrame


def mentor_stability(
    processed,
    *,
    outcome: str = "composite",
    years: Sequence[int] | None = None,
    models: Mapping[int, MentorModel] | None = None,
    n_boot: int = 500,
    seed: int | None = 0,
    alpha: float | None = None,
    scores: pd.DataFrame | None = None,
) -> Stability:
    """Are mentor effects stable from year to year, or noise?

    Parameters
    ----------
    processed : Processed
    outcome : str
        Dimension or ``"composite"``.
    years : sequence of int, optional
        Default every year of the study with a post-wave assessment.
    models : mapping, optional
        Year -> already fitted :class:`MentorModel` with conditional intervals (skips
        refitting those years).
    n_boot : int
        Bootstrap resamples of mentors for the interval of ``r_true``.
    seed : int, optional
    alpha : float, optional
        Intervals at level ``1 - alpha``; default the study's rulebook ``alpha``.
    scores : DataFrame, optional
        :func:`study_scores` output (to score the study once).

    Returns
    -------
    Stability
        ``effects`` (per mentor and year) and ``correlation`` (per pair of years).

    Notes
    -----
    ``r_eb`` is the Pearson correlation of the empirical-Bayes effects of mentors present in
    both years, with a Fisher-z interval; it is attenuated by shrinkage. ``r_true`` estimates
    the correlation of the *true* effects from the covariance of the mentors' mean residuals
    (different students and independent errors across years, so the noise does not covary),
    divided by the two mentor SDs: the drift estimator of Chetty, Friedman & Rockoff (2014,
    AER 104(9):2593, section II.B). Its interval is a percentile bootstrap over mentors taken
    on the Fisher z scale (:func:`fisher_percentile_interval`); the drift estimate itself can
    exceed 1 and is reported clipped to [-1, 1], so no printed correlation or bound leaves ±1. ``r_true`` assumes the residuals of different years do not
    covary except through the mentor; when mentees stay with their mentor (primary school),
    the part of a student's level the error-prone pre score misses persists and pushes
    ``r_true`` up (validation: 1.09 estimated against 0.98 true in the synthetic primary
    school; 0.87 against 0.99 in middle school, where groups change).
    """
    # default: the years with an outcome (a year without its post wave yet has no effects)
    years = list(years) if years is not None else list(processed.assessed_years)
    alpha = processed.rules.alpha if alpha is None else alpha
    models = dict(models or {})
    frames, sd = [], {}
    for y in years:
        if y not in models or models[y].intervals != "conditional":
            models[y] = study_models(
                processed, y, outcomes=[outcome], scores=scores, intervals="conditional"
            )[outcome]
        frames.append(_year_effects(models[y], y))
        sd[y] = math.sqrt(max(models[y].var_group, 0.0))
    eff = pd.concat(frames, ignore_index=True)
    rng = np.random.default_rng(seed)
    rows = []
    for i, a in enumerate(years):
        for b in years[i + 1 :]:
            w = eff[eff["year"].isin([a, b])].pivot_table(
                index="mentor_id", columns="year", values=["effect", "mean_residual"]
            )
            w = w.dropna()
            row = {"year_a": a, "year_b": b, "n_mentors": len(w)}
            if len(w) >= 4:
                row |= _pair_correlation(w, a, b, sd[a] * sd[b], rng, n_boot, alpha)
            rows.append(row)
    cols = ["year_a", "year_b", "n_mentors", "r_eb", "r_eb_low", "r_eb_high", "r_true"]
    corr = pd.DataFrame(rows).reindex(columns=[*cols, "r_true_low", "r_true_high"])
    return Stability(effects=eff.drop(columns="mean_residual"), correlation=corr)


def _year_effects(m: MentorModel, year: int) -> pd.DataFrame:
    """One year's mentor effects with each mentor's mean residual (unshrunk value added)."""
    e = m.effects[m.effects["term"] == "intercept"]
    rel = e["reliability"].to_numpy()
    raw = e["raw"].to_numpy()
    fallback = np.where(rel > 0, e["effect"] / np.where(rel > 0, rel, 1), 0)
    return pd.DataFrame(
        {
            "mentor_id": e[m.group].astype(str).to_numpy(),
            "year": year,
            "effect": e["effect"].to_numpy(),
            "se": e["se"].to_numpy(),
            "n": e["n"].to_numpy(),
            "reliability": rel,
            "mean_residual": np.where(np.isfinite(raw), raw, fallback),
        }
    )


def _pair_correlation(
    w: pd.DataFrame, a: int, b: int, denom: float, rng, n_boot: int, alpha: float
) -> dict:
    """r_eb with its Fisher-z interval and r_true with its bootstrap interval, for two years."""
    n = len(w)
    ea, eb = w[("effect", a)].to_numpy(), w[("effect", b)].to_numpy()
    ra, rb = w[("mean_residual", a)].to_numpy(), w[("mean_residual", b)].to_numpy()
    r = float(np.corrcoef(ea, eb)[0, 1]) if ea.std() > 0 and eb.std() > 0 else np.nan
    z = float(stats.norm.isf(alpha / 2))
    zf, h = np.arctanh(np.clip(r, -0.999999, 0.999999)), z / math.sqrt(max(n - 3, 1))

    def r_true(ix) -> float:
        return float(np.cov(ra[ix], rb[ix])[0, 1] / denom) if denom > 0 else np.nan

    boot = [r_true(rng.integers(0, n, n)) for _ in range(n_boot)]
    lo, hi = 100 * alpha / 2, 100 * (1 - alpha / 2)
    return {
        "r_eb": r,
        "r_eb_low": float(np.tanh(zf - h)),
        "r_eb_high": float(np.tanh(zf + h)),
        "r_true": float(np.clip(r_true(np.arange(n)), -1.0, 1.0)),
        **fisher_percentile_interval(boot, lo, hi, prefix="r_true"),
    }


def fisher_percentile_interval(boot, lo: float, hi: float, *, prefix: str) -> dict:
    """A percentile interval of bootstrap correlations taken on the Fisher z scale.

    A replicate beyond ±1 (the drift estimator is a ratio and can exceed 1) is a correlation
    of ±1 at most: it is clipped just inside ±1 before ``arctanh``, the percentiles are taken
    of z and mapped back with ``tanh``. The bounds therefore never leave [-1, 1]; inside it the
    interval equals the plain percentile interval (``tanh`` is monotone).
    """
    b = np.asarray(boot, dtype=float)
    b = b[np.isfinite(b)]
    if not len(b):
        return {f"{prefix}_low": np.nan, f"{prefix}_high": np.nan}
    z = np.arctanh(np.clip(b, -1 + 1e-12, 1 - 1e-12))
    return {
        f"{prefix}_low": float(np.tanh(np.percentile(z, lo))),
        f"{prefix}_high": float(np.tanh(np.percentile(z, hi))),
    }


def rank_probabilities(
    effects: pd.DataFrame,
    *,
    id_col: str = "mentor_id",
    by: str | None = None,
    quantile: float = 0.25,
    n_sims: int = 2000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> pd.DataFrame:
    """Each mentor's chance of being in the top or bottom quarter, and a rank interval.

    Parameters
    ----------
    effects : DataFrame
        ``id_col``, effect, se (e.g. ``MentorModel.effects``; only ``term == "intercept"``
        rows are used when a ``term`` column is present).
    id_col : str
    by : str, optional
        Rank separately within each value of this column (e.g. ``outcome``).
    quantile : float
        Share defining the top and bottom group (0.25: quarters).
    n_sims : int
        Draws from the approximate posterior.
    confidence : float
        Level of the rank interval.
    seed : int, optional

    Returns
    -------
    DataFrame
        The input rows with rank (1 = largest effect), p_top, p_bottom, rank_median,
        rank_low, rank_high, n_ranked.

    Notes
    -----
    The approximate posterior of each effect is N(effect, se^2), independent across mentors
    (the empirical-Bayes posterior given the estimated variances). In each draw mentors are
    ranked; ``p_top`` is the share of draws with rank <= ceil(quantile * M), ``p_bottom``
    with rank > M - ceil(quantile * M); ties (effects shrunk to the same value with no
    uncertainty) are broken at random in each draw. Goldstein & Spiegelhalter (1996, JRSS A 159:385) on
    league tables; Lockwood, Louis & McCaffrey (2002, J Educ Behav Stat 27:255) on ranking
    teachers.
    """
    df = effects
    if "term" in df.columns:
        df = df[df["term"] == "intercept"]
    df = df.reset_index(drop=True)
    rng = np.random.default_rng(seed)
    parts = []
    for _, sub in df.groupby(by, sort=False, observed=True) if by else [(None, df)]:
        sub = sub.reset_index(drop=True)
        M = len(sub)
        mu, se = sub["effect"].to_numpy(float), np.nan_to_num(sub["se"].to_numpy(float))
        k = max(1, math.ceil(quantile * M))
        ranks = _simulated_ranks(mu, se, n_sims, rng)
        lo, hi = 50 * (1 - confidence), 50 * (1 + confidence)
        point = pd.Series(-mu).rank(method="min").to_numpy()
        parts.append(
            sub.assign(
                rank=point.astype(int),
                p_top=(ranks <= k).mean(axis=0),
                p_bottom=(ranks > M - k).mean(axis=0),
                rank_median=np.median(ranks, axis=0),
                rank_low=np.percentile(ranks, lo, axis=0, method="lower"),
                rank_high=np.percentile(ranks, hi, axis=0, method="higher"),
                n_ranked=M,
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else df


def _simulated_ranks(mu: np.ndarray, se: np.ndarray, n_sims: int, rng) -> np.ndarray:
    """Ranks (1 = largest) of draws from N(mu, se^2), one row per draw, in memory-sized chunks."""
    M = len(mu)
    exact_ties = bool((se == 0).sum() > 1)
    ranks = np.empty((n_sims, M), dtype=np.int32)
    step = max(1, 2_000_000 // max(M, 1))
    for s0 in range(0, n_sims, step):
        s1 = min(n_sims, s0 + step)
        draw = mu + se * rng.standard_normal((s1 - s0, M))
        if exact_ties:  # effects with no uncertainty can tie: break ties at random
            order = np.lexsort((rng.random(draw.shape), -draw), axis=-1)
        else:
            order = np.argsort(-draw, axis=1)
        r = np.empty_like(order)
        np.put_along_axis(r, order, np.arange(1, M + 1)[None, :], axis=1)
        ranks[s0:s1] = r
    return ranks


def placebo_check(
    processed,
    year: int,
    *,
    alpha: float | None = None,
    reml: bool = True,
    mentor_term: int = 1,
) -> pd.DataFrame:
    """The mentor model on height, an outcome mentors cannot affect.

    Parameters
    ----------
    processed : Processed
    year : int
    alpha : float, optional
        Level of the boundary-corrected test above which nothing is flagged (default the
        study's rulebook ``alpha``).
    reml : bool
    mentor_term : {1, 2}

    Returns
    -------
    DataFrame
        One row: outcome, pre (the previous year's height, or "none" when the study has no
        previous year), n_students, n_mentors, var_mentor, var_resid, icc, lrt_stat, lrt_p,
        flagged (bool), message.

    Notes
    -----
    Bitler, Corcoran, Domina & Penner (2021, "Teacher effects on student achievement and
    height: a cautionary tale", J Res Educ Eff 14(4):900) found value-added models detecting
    "teacher effects" on height, a sign of sorting and noise. Here height this year given last
    year's height, grade, gender and focus flags, with a random mentor intercept; a mentor
    variance significant at ``alpha`` (:func:`~mentorlib.effectiveness.model.boundary_lrt`) flags the mentor effects as
    suspect (non-random assignment, or a mis-specified model).
    """
    alpha = processed.rules.alpha if alpha is None else alpha
    data = mentor_data(processed, year, outcome="height", mentor_term=mentor_term)
    has_pre = data["pre"].notna().mean() >= 0.5
    if not has_pre:
        data = data.drop(columns="pre")
    m = fit_mentor_model(
        data,
        outcome="post",
        group="mentor_id",
        pre="pre" if has_pre else None,
        covariates=COVARIATES,
        reml=reml,
        confidence=1 - alpha,
        intervals="conditional",  # only the test is used
        **lrt_settings(processed.rules),
        min_cell=processed.rules.min_cell,
    )
    flagged = bool(m.lrt["p"] < alpha)
    msg = (
        f"mentor variance on height is significant (p = {m.lrt['p']:.3g}): mentors 'affect' an "
        "outcome they cannot change, so the mentor effects may reflect sorting or noise"
        if flagged
        else f"no mentor variance on height (p = {m.lrt['p']:.3g}), as it should be"
    )
    return pd.DataFrame(
        [
            {
                "outcome": "height_cm",
                "pre": "height_cm previous year" if has_pre else "none",
                "n_students": m.n_obs,
                "n_mentors": m.n_groups,
                "var_mentor": m.var_group,
                "var_resid": m.var_resid,
                "icc": m.icc,
                "lrt_stat": m.lrt["stat"],
                "lrt_p": m.lrt["p"],
                "flagged": flagged,
                "message": msg,
            }
        ]
    )
