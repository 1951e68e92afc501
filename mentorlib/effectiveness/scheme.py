"""The school's own scheme: normal scores, bands and the award, and an audit of it.

The middle-school document (seed 001) scores each mentor "by the normal distribution"
(按正态分布计算) from the mentees' rating of the mentor, their exam progress and their reward
points, and pays the rulebook's ``award_per_mentee_term`` per mentee per term.
:func:`school_scheme` implements our reading of it (normal scores per component, a composite,
bands at normal quantiles from the rulebook's ``award_bands``, the pool shared by the
``award_multipliers``); :func:`scheme_reliability` says how much of a mentor's naive score is the
luck of the draw; :func:`audit_scheme` sets the naive scores beside the shrunken effects.

Functions that receive no study (:func:`assign_bands`, :func:`allocate_award`,
:func:`audit_scheme`) default to the award scheme of the middle-school rulebook, the level whose
document states the scheme.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import cast

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError
from ..rules import Rulebook, rulebook
from .study import check_year, mentor_in_term

__all__ = [
    "COMPONENTS",
    "WEIGHTS",
    "allocate_award",
    "assign_bands",
    "audit_scheme",
    "normal_scores",
    "scheme_components",
    "scheme_reliability",
    "school_scheme",
]

#: The three components of the school's scheme.
COMPONENTS: tuple[str, ...] = ("satisfaction", "progress", "points")

#: Default weights of the three components: the middle-school rulebook's ``award_weights``
#: (equal thirds: the document gives none); a study sets its own in study.toml's ``[rules]``.
WEIGHTS: dict[str, float] = dict(rulebook("middle").award_weights)


def scheme_rules(rules: Rulebook | None = None) -> Rulebook:
    """The rulebook of the award scheme: ``rules`` when given, else the middle school's."""
    return rulebook("middle") if rules is None else rules


def normal_scores(x, *, method: str = "z") -> np.ndarray:
    """Turn values into normal scores (missing values stay missing).

    Parameters
    ----------
    x : array-like
    method : {"z", "blom"}
        ``z``: ``(x - mean) / sd`` (sample SD, ddof = 1). ``blom``: rank-based inverse normal
        ``Phi^-1((r - 3/8) / (n + 1/4))`` with average ranks for ties.

    Returns
    -------
    ndarray of float
        All missing when fewer than two values are present or they do not vary.

    Notes
    -----
    Blom (1958, *Statistical estimates and transformed beta-variables*, Wiley); Beasley,
    Erickson & Allison (2009, Behav Genet 39:580) review rank-based inverse normal transforms.
    The school's rule "按正态分布计算" (score by the normal distribution) is read as either.

    Examples
    --------
    >>> normal_scores([1.0, 2.0, 3.0]).round(4).tolist()
    [-1.0, 0.0, 1.0]
    >>> normal_scores([1.0, 2.0, 3.0], method="blom").round(4).tolist()
    [-0.8694, 0.0, 0.8694]
    """
    v = np.asarray(x, dtype=float)
    out = np.full(v.shape, np.nan)
    ok = np.isfinite(v)
    n = int(ok.sum())
    if n < 2 or np.ptp(v[ok]) == 0:
        return out
    if method == "z":
        out[ok] = (v[ok] - v[ok].mean()) / v[ok].std(ddof=1)
    elif method == "blom":
        r = stats.rankdata(v[ok], method="average")
        out[ok] = stats.norm.ppf((r - 0.375) / (n + 0.25))
    else:
        raise InputError(f"unknown normal-score method {method!r}: expected 'z' or 'blom'")
    return out


def _band_cuts(bands: Sequence[tuple[str, float]]) -> tuple[list[str], np.ndarray]:
    labels = [b for b, _ in bands]
    shares = np.array([s for _, s in bands], dtype=float)
    if np.any(shares <= 0) or abs(shares.sum() - 1) > 1e-9:
        raise InputError("band shares must be positive and add up to 1")
    # cut points on the normal scale, from the bottom band up
    cum = np.cumsum(shares[::-1])[:-1]
    return labels, stats.norm.ppf(cum)


def assign_bands(scores, *, bands: Sequence[tuple[str, float]] | None = None) -> np.ndarray:
    """Bands at normal quantiles: with shares (0.2, 0.3, 0.3, 0.2), A is a score above
    Phi^-1(0.8) = 0.8416, B above 0, C above -0.8416, D the rest.

    Parameters
    ----------
    scores : array-like
        Normal scores (:func:`normal_scores`).
    bands : sequence of (label, share), optional
        Best band first; shares add up to 1. Default the rulebook's ``award_bands``.

    Returns
    -------
    ndarray of object
        The band of each score (None where the score is missing).

    Examples
    --------
    >>> assign_bands([1.0, 0.5, -0.5, -1.0]).tolist()
    ['A', 'B', 'C', 'D']
    """
    labels, cuts = _band_cuts(scheme_rules().award_bands if bands is None else bands)
    s = np.asarray(scores, dtype=float)
    idx = np.searchsorted(cuts, s, side="right")  # 0 = bottom band
    out = np.array(labels[::-1], dtype=object)[np.minimum(idx, len(labels) - 1)]
    out[~np.isfinite(s)] = None
    return out


def _exam_progress(processed, year: int, term: int) -> pd.Series:
    """Per student: mean exam z (within year, term, grade, subject) minus last term's."""
    ex = processed["exams"]
    prev = (year - 1, 2) if term == 1 else (year, 1)
    keep = ((ex["year"] == year) & (ex["term"] == term)) | (
        (ex["year"] == prev[0]) & (ex["term"] == prev[1])
    )
    ex = ex[keep & ex["score"].notna()]
    st = processed["students"]
    st = st[st["year"].isin([year, prev[0]])]
    grade = st.assign(student_id=st["student_id"].astype(str)).set_index(["student_id", "year"])[
        "grade"
    ]
    e = pd.DataFrame(
        {
            "student_id": ex["student_id"].astype(str).to_numpy(),
            "year": ex["year"].to_numpy(),
            "term": ex["term"].to_numpy(),
            "subject": ex["subject"].astype(str).to_numpy(),
            "score": ex["score"].to_numpy(dtype=float),
        }
    )
    e["grade"] = grade.reindex(pd.MultiIndex.from_frame(e[["student_id", "year"]])).to_numpy()
    g = e.groupby(["year", "term", "grade", "subject"])["score"]
    e["z"] = (e["score"] - g.transform("mean")) / g.transform("std")
    mz = e.groupby(["student_id", "year", "term"])["z"].mean()

    def at(key) -> pd.Series:
        try:
            return mz.xs(key, level=("year", "term"))
        except KeyError:
            return pd.Series(dtype=float)

    now = at((year, term))
    return (now - at(prev).reindex(now.index)).rename("progress")


def scheme_components(processed, year: int, *, terms: Sequence[int] = (1, 2)) -> pd.DataFrame:
    """The three components of the school's scheme, per mentee and term.

    Parameters
    ----------
    processed : Processed
    year : int
    terms : sequence of int

    Returns
    -------
    DataFrame
        student_id, term, mentor_id (the mentor in that term), satisfaction (the mentee's
        end-of-term rating of the mentor, mean of the items, 1-5), progress (mean exam z-score
        this term minus last term's, z within year, term, grade and subject; missing when there
        is no earlier term), points (net reward and penalty points in the term; 0 when none).
    """
    check_year(processed, year)
    sat = processed["satisfaction"]
    sat = sat[sat["year"] == year]
    rw = processed["rewards"]
    rw = rw[rw["year"] == year]
    pts = (
        rw.assign(student_id=rw["student_id"].astype(str))
        .groupby(["student_id", "term"])["points"]
        .sum()
    )
    frames = []
    for t in terms:
        mentor = mentor_in_term(processed, year, t)
        s = sat[sat["term"] == t]
        rating = pd.Series(
            s["satisfaction"].to_numpy(dtype=float), index=s["student_id"].astype(str).to_numpy()
        )
        rating = rating[~rating.index.duplicated(keep="last")]
        ids = mentor.index
        p = pts.xs(t, level="term") if t in pts.index.get_level_values("term") else pd.Series()
        frames.append(
            pd.DataFrame(
                {
                    "student_id": ids,
                    "term": t,
                    "mentor_id": mentor.to_numpy(),
                    "satisfaction": rating.reindex(ids).to_numpy(),
                    "progress": _exam_progress(processed, year, t).reindex(ids).to_numpy(),
                    "points": p.reindex(ids).fillna(0).to_numpy(dtype=float),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def allocate_award(
    scheme: pd.DataFrame,
    *,
    rule: str = "band",
    award: float | None = None,
    multipliers: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Share one term's award pool among mentors.

    Parameters
    ----------
    scheme : DataFrame
        One term: n_mentees, band, score per mentor.
    rule : {"band", "flat", "score"}
        ``band``: each mentee earns the mentor ``award * m_band``, rescaled so the pool is
        spent exactly (``amount_j = pool * n_j m_j / sum_k n_k m_k``); ``flat``: ``award`` per
        mentee; ``score``: proportional to ``n_j * Phi(score_j)`` (the mentor's percentile).
    award : float, optional
        Yuan per mentee per term (default the rulebook's ``award_per_mentee_term``).
    multipliers : mapping, optional
        Band -> weight for the ``band`` rule (default the rulebook's ``award_multipliers``).

    Returns
    -------
    ndarray
        Yuan per mentor; the total is ``award * sum(n_mentees)`` (the pool).
    """
    rules = scheme_rules()
    award = rules.award_per_mentee_term if award is None else award
    n = scheme["n_mentees"].to_numpy(dtype=float)
    pool = award * n.sum()
    if rule == "flat":
        weight = n
    elif rule == "band":
        mult = dict(rules.award_multipliers if multipliers is None else multipliers)
        weight = n * scheme["band"].map(mult).fillna(0).to_numpy(dtype=float)
    elif rule == "score":
        weight = n * np.nan_to_num(stats.norm.cdf(scheme["score"].to_numpy(dtype=float)))
    else:
        raise InputError(f"unknown allocation rule {rule!r}: expected band, flat or score")
    return pool * weight / weight.sum() if weight.sum() > 0 else np.zeros(len(n))


def school_scheme(
    processed,
    year: int,
    *,
    terms: Sequence[int] = (1, 2),
    transform: str = "z",
    weights: Mapping[str, float] | None = None,
    bands: Sequence[tuple[str, float]] | None = None,
    allocation: str = "band",
    multipliers: Mapping[str, float] | None = None,
    award: float | None = None,
    components: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The school's normal-score scheme (按正态分布计算) per mentor and term.

    Parameters
    ----------
    processed : Processed
    year : int
    terms : sequence of int
    transform : {"z", "blom"}
        How each component and the composite become normal scores (:func:`normal_scores`).
    weights : mapping, optional
        Component -> weight (default the study rulebook's ``award_weights``).
    bands : sequence of (label, share), optional
        Bands at normal quantiles, best first (default the study rulebook's ``award_bands``).
    allocation : {"band", "flat", "score"}
        Award rule (:func:`allocate_award`).
    multipliers : mapping, optional
        Band multipliers for the ``band`` rule (default the rulebook's ``award_multipliers``).
    award : float, optional
        Yuan per mentee per term (default the rulebook's ``award_per_mentee_term``).
    components : DataFrame, optional
        Output of :func:`scheme_components` (recomputed when not given).

    Returns
    -------
    DataFrame
        mentor_id, term, n_mentees, satisfaction, progress, points (mentee means),
        ns_satisfaction, ns_progress, ns_points (normal scores across mentors in the term),
        composite (weighted mean of the available normal scores), score (normal score of the
        composite), band, award (yuan). Names mentors: internal.

    Notes
    -----
    The middle-school document (seed 001) says only that the mentor's quantitative score
    combines the mentees' rating of the mentor, their progress in grades and their rewards
    and penalties, "computed by the normal distribution", with a fixed sum per mentee per term
    as the award (250 yuan in the document: the rulebook's ``award_per_mentee_term``). The
    rule implemented: per term, each component's mentor means become normal scores; the
    composite is their weighted mean (weights renormalised over the components a mentor has; a
    component missing for every mentor, e.g. progress in the first term of the data, drops
    out); the composite becomes a normal score again and is cut into bands at normal
    quantiles; the pool ``award * mentees`` is shared by ``allocation``.
    """
    rules = processed.rules
    weights = dict(rules.award_weights if weights is None else weights)
    bands = rules.award_bands if bands is None else bands
    multipliers = dict(rules.award_multipliers if multipliers is None else multipliers)
    award = rules.award_per_mentee_term if award is None else award
    comp = scheme_components(processed, year, terms=terms) if components is None else components
    g = comp.groupby(["mentor_id", "term"], sort=True)
    m = g[list(COMPONENTS)].mean().join(g.size().rename("n_mentees")).reset_index()
    parts = []
    for _, t in m.groupby("term", sort=True):
        t = _normal_composite(t, weights, transform)
        t["band"] = assign_bands(t["score"], bands=bands)
        t["award"] = allocate_award(t, rule=allocation, award=award, multipliers=multipliers)
        parts.append(t)
    cols = ["mentor_id", "term", "n_mentees", *COMPONENTS]
    cols += [f"ns_{c}" for c in COMPONENTS] + ["composite", "score", "band", "award"]
    return pd.concat(parts, ignore_index=True)[cols]


def _normal_composite(t: pd.DataFrame, weights: Mapping[str, float], transform: str):
    """One term: normal score per component, their weighted mean, its normal score."""
    t = t.copy()
    num = np.zeros(len(t))
    den = np.zeros(len(t))
    for c in COMPONENTS:
        ns = normal_scores(t[c], method=transform)
        t[f"ns_{c}"] = ns
        w = float(weights.get(c, 0.0))
        ok = np.isfinite(ns)
        num += np.where(ok, w * np.nan_to_num(ns), 0.0)
        den += np.where(ok, w, 0.0)
    t["composite"] = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    t["score"] = normal_scores(t["composite"], method=transform)
    return t


def _between_within(x: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One-way (M)ANOVA moment estimates of the between- and within-group covariance."""
    codes, _ = pd.factorize(groups)
    G, N = codes.max() + 1, len(codes)
    nj = np.bincount(codes, minlength=G).astype(float)
    means = (
        np.column_stack(
            [np.bincount(codes, weights=x[:, k], minlength=G) for k in range(x.shape[1])]
        )
        / nj[:, None]
    )
    dev = x - means[codes]
    msw = dev.T @ dev / max(N - G, 1)
    grand = x.mean(axis=0)
    bdev = means - grand
    msb = (bdev * nj[:, None]).T @ bdev / max(G - 1, 1)
    n0 = (N - (nj**2).sum() / N) / max(G - 1, 1)
    return (msb - msw) / n0, msw


def scheme_reliability(
    components: pd.DataFrame,
    *,
    weights: Mapping[str, float] | None = None,
    sizes: Sequence[int] | None = None,
) -> pd.DataFrame:
    """How reliable is a mentor's naive score, by the number of mentees?

    Parameters
    ----------
    components : DataFrame
        Output of :func:`scheme_components` (student level; groups are mentor x term).
    weights : mapping, optional
        Component weights of the composite (default the middle-school rulebook's
        ``award_weights``).
    sizes : sequence of int, optional
        Group sizes to tabulate (default 1 to the largest observed).

    Returns
    -------
    DataFrame
        n_mentees, n_groups (mentor-terms observed with that many mentees), one column per
        component and ``composite``: the reliability of the mentor mean, and a first row
        ``n_mentees = 0`` holding each component's ICC.

    Notes
    -----
    Per component, the intraclass correlation ICC(1) from the one-way random-effects ANOVA
    (McGraw & Wong 1996, Psychol Methods 1:30) and the Spearman-Brown reliability of a mean
    of n mentees, ``n ICC / (1 + (n - 1) ICC)``. For the composite of z-scores, with
    between- and within-mentor covariance matrices S_B, S_W (MANOVA moment estimators) and
    weights a_k = w_k / sd_k(n), ``R(n) = a'S_B a / (a'S_B a + a'S_W a / n)``. A reliability
    of 0.5 means half the spread of the naive scores is luck of the draw.
    """
    weights = dict(WEIGHTS if weights is None else weights)
    cols = [c for c in COMPONENTS if components[c].notna().sum() > 2]
    grp = components["mentor_id"].astype(str) + "|" + components["term"].astype(str)
    sizes_obs = grp.value_counts()
    sizes = list(sizes) if sizes is not None else list(range(1, int(sizes_obs.max()) + 1))
    icc, sb, sw = {}, {}, {}
    for c in cols:
        ok = components[c].notna().to_numpy()
        b, w = _between_within(components.loc[ok, [c]].to_numpy(float), grp[ok].to_numpy())
        sb[c], sw[c] = max(float(b[0, 0]), 0.0), float(w[0, 0])
        icc[c] = sb[c] / (sb[c] + sw[c]) if sb[c] + sw[c] > 0 else np.nan
    full = components[cols].notna().all(axis=1).to_numpy()
    B, W = _between_within(components.loc[full, cols].to_numpy(float), grp[full].to_numpy())
    rows: list[dict[str, float]] = [
        {"n_mentees": 0, "n_groups": int(len(sizes_obs)), **icc, "composite": np.nan}
    ]
    for n in sizes:
        row: dict[str, float] = {"n_mentees": n, "n_groups": int((sizes_obs == n).sum())}
        for c in cols:
            row[c] = sb[c] / (sb[c] + sw[c] / n) if sb[c] + sw[c] > 0 else np.nan
        a = np.array(
            [
                weights.get(c, 0.0) / math.sqrt(max(B[k, k] + W[k, k] / n, 1e-300))
                for k, c in enumerate(cols)
            ]
        )
        tb, tw = max(float(a @ B @ a), 0.0), float(a @ W @ a)
        row["composite"] = tb / (tb + tw / n) if tb + tw > 0 else np.nan
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=["n_mentees", "n_groups", *cols, "composite"])


def audit_scheme(
    scheme: pd.DataFrame,
    effects: pd.DataFrame,
    *,
    transform: str = "z",
    bands: Sequence[tuple[str, float]] | None = None,
) -> dict[str, pd.DataFrame]:
    """Set the school's naive scores beside the shrunken mentor effects.

    Parameters
    ----------
    scheme : DataFrame
        Output of :func:`school_scheme` (one or more terms of one year).
    effects : DataFrame
        mentor_id, effect, se (e.g. the composite model's effects, optionally with
        :func:`rank_probabilities` columns).
    transform : {"z", "blom"}
        Normal-score transform applied to both before banding.
    bands : sequence of (label, share), optional
        Default the rulebook's ``award_bands``.

    Returns
    -------
    dict of DataFrame
        ``comparison`` (internal: per mentor) mentor_id, n_mentees (mean per term), naive
        (mean of the term scores), naive_band, effect, se, eb_band, band_changed (and
        p_top, p_bottom when given); ``summary`` one row: n_mentors, spearman, spearman_p,
        kendall, kendall_p, n_band_changed, share_band_changed, n_naive_top_not_credible
        (naive top band but p_top < 0.5); ``bands`` naive_band x eb_band counts (long).

    Notes
    -----
    Rank agreement by Spearman's rho and Kendall's tau-b (scipy). Both scores are banded by
    the same rule (normal scores cut at normal quantiles), so a band change is a change of
    verdict, not of scale.
    """
    bands = scheme_rules().award_bands if bands is None else bands
    naive = (
        scheme.groupby("mentor_id")
        .agg(n_mentees=("n_mentees", "mean"), naive=("score", "mean"))
        .reset_index()
    )
    e = effects
    if "term" in e.columns:
        e = e[e["term"] == "intercept"]
    keep = ["mentor_id", "effect", "se"] + [c for c in ("p_top", "p_bottom") if c in e.columns]
    e = e[keep].assign(mentor_id=e["mentor_id"].astype(str))
    comp = naive.assign(mentor_id=naive["mentor_id"].astype(str)).merge(e, on="mentor_id")
    comp = comp[comp["naive"].notna()].reset_index(drop=True)
    labels = [b for b, _ in bands]
    comp["naive_band"] = assign_bands(normal_scores(comp["naive"], method=transform), bands=bands)
    comp["eb_band"] = assign_bands(normal_scores(comp["effect"], method=transform), bands=bands)
    if comp["effect"].std() == 0:  # all shrunk to zero: no ranking at all
        comp["eb_band"] = None
    comp["band_changed"] = comp["naive_band"] != comp["eb_band"]
    ct = (
        pd.crosstab(
            pd.Categorical(comp["naive_band"], categories=labels),
            pd.Categorical(comp["eb_band"], categories=labels),
            dropna=False,
        )
        .rename_axis(index="naive_band", columns="eb_band")
        .stack()
    )
    # pandas-stubs type stack() as a DataFrame; on a crosstab (one column level) it is a Series
    ct = cast(pd.Series, ct).rename("n_mentors").reset_index()
    return {"comparison": comp, "summary": _audit_summary(comp, labels[0]), "bands": ct}


def _audit_summary(comp: pd.DataFrame, top_band: str) -> pd.DataFrame:
    """One row: rank agreement of naive and shrunken scores, and how many change band."""
    n = len(comp)
    ok = n >= 3 and comp["effect"].std() > 0
    rho = stats.spearmanr(comp["naive"], comp["effect"]) if ok else None
    tau = stats.kendalltau(comp["naive"], comp["effect"]) if ok else None
    top = comp["naive_band"] == top_band
    row = {
        "n_mentors": n,
        "spearman": float(rho.statistic) if rho is not None else np.nan,
        "spearman_p": float(rho.pvalue) if rho is not None else np.nan,
        "kendall": float(tau.statistic) if tau is not None else np.nan,
        "kendall_p": float(tau.pvalue) if tau is not None else np.nan,
        "n_band_changed": int(comp["band_changed"].sum()),
        "share_band_changed": float(comp["band_changed"].mean()) if n else np.nan,
        "n_naive_top": int(top.sum()),
        "n_naive_top_not_credible": int((top & (comp["p_top"] < 0.5)).sum())
        if "p_top" in comp
        else np.nan,
    }
    return pd.DataFrame([row])
