"""The verdict on the target, its breakdowns, and how firmly it stands.

year_verdict
    The verdict on the target under each missing-data rule, never dropping the unevaluable.
breakdowns
    Rates by grade, class, gender, mentor and focus group.
threshold_sensitivity
    The rate with the improvement threshold moved by a few percent.
bootstrap_rates
    Bootstrap replicates of the rate that re-estimate the threshold (SD and alpha) each time.
bootstrap_rates_ks
    The same for several k from one pass of replicates.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .. import scales
from ..errors import InputError
from ..labels import MISSING_DATA_RULES as RULES
from ._common import need_columns
from .change import STRICT, change_se, is_improved
from .proportions import proportion_ci, proportion_test

__all__ = [
    "BREAKDOWNS",
    "RULES",
    "bootstrap_interval",
    "bootstrap_rates",
    "bootstrap_rates_ks",
    "breakdowns",
    "counts",
    "jackknife_rates",
    "mentor_term1",
    "threshold_sensitivity",
    "year_verdict",
]

#: Breakdowns of ``progress_report`` (focus groups: :data:`mentorlib.rules.FOCUS_GROUPS`).
BREAKDOWNS = ("grade", "class", "gender", "mentor", "focus_group")


def counts(per_student: pd.DataFrame, k: int) -> tuple[int, int, int]:
    """(students, evaluable in at least ``k`` dimensions, progressing in at least ``k``)."""
    n = len(per_student)
    evaluable = int((per_student["n_evaluable"] >= k).sum())
    progressing = int((per_student["n_improved"] >= k).sum())
    return n, evaluable, progressing


def year_verdict(
    per_student: pd.DataFrame,
    *,
    k: int = 1,
    target: float = 0.85,
    method: str = "wilson",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """The verdict on the target under each missing-data rule.

    Parameters
    ----------
    per_student : DataFrame
        :func:`student_progress` output: every student of the population, evaluable or not.
    k : int, default 1
        Progressing = improvement in at least ``k`` dimensions.
    target, method, alpha
        As in :func:`~mentorlib.progress.proportion_test` (defaults: the published target
        and conventions; :func:`~mentorlib.progress.progress_report` passes the study's
        rulebook values).

    Returns
    -------
    DataFrame
        One row per rule (``evaluable_only``: the evaluable students are the denominator;
        ``missing_not_progressing``: every student is, the unevaluable counting as not
        progressing): ``rule, k, n_students, n_evaluable, n_not_evaluable, n_progressing``
        and the columns of :func:`proportion_test` (``successes, n, proportion, ...,
        verdict``), and ``interval_method`` (= ``method``: the interval that decided).

    Notes
    -----
    A student is evaluable when at least ``k`` dimensions have both a pre and a post
    score (fewer could not reach ``k``). The two rules bracket the truth when the
    missing students would have progressed at any rate between 0 and the observed one;
    the first assumes missing completely at random (Little & Rubin 2002, ch. 1).
    """
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    n, ev, prog = counts(per_student, k)
    rows = []
    for rule, denom in (("evaluable_only", ev), ("missing_not_progressing", n)):
        if denom == 0:
            raise InputError("no evaluable students: is the post-wave assessment in yet?")
        t = proportion_test(prog, denom, target=target, method=method, alpha=alpha)
        t = t.assign(interval_method=method)
        rows.append(
            pd.DataFrame(
                {
                    "rule": [rule],
                    "k": [k],
                    "n_students": [n],
                    "n_evaluable": [ev],
                    "n_not_evaluable": [n - ev],
                    "n_progressing": [prog],
                }
            ).join(t)
        )
    return pd.concat(rows, ignore_index=True)


def mentor_term1(assignments: pd.DataFrame | None, year: int) -> pd.Series:
    """The term-1 mentor of each student of ``year`` (indexed by student_id, as str)."""
    if assignments is None or assignments.empty:
        return pd.Series(dtype="str")
    a = assignments.loc[(assignments["year"] == year) & (assignments["term"] == 1)]
    if "start_date" in a.columns:
        a = a.sort_values("start_date", kind="stable")
    a = a.assign(student_id=a["student_id"].astype("str"), mentor_id=a["mentor_id"].astype("str"))
    return a.drop_duplicates("student_id").set_index("student_id")["mentor_id"]


def _group_labels(roster: pd.DataFrame, by: str, mentors: pd.Series | None) -> pd.DataFrame:
    """Long (student_id, group) pairs for a breakdown; focus groups overlap."""
    sid = roster["student_id"].astype("str")
    if by == "class":
        if not {"grade", "class_no"} <= set(roster.columns):
            raise InputError("a class breakdown needs grade and class_no")
        lab = roster["grade"].astype("str") + "-" + roster["class_no"].astype("str")
        return pd.DataFrame({"student_id": sid, "group": lab})
    if by == "mentor":
        if mentors is None:
            raise InputError("a mentor breakdown needs the assignments table")
        return pd.DataFrame(
            {"student_id": sid, "group": mentors.reindex(sid).fillna("none").to_numpy()}
        )
    if by == "focus_group":
        member = {
            "transfer": roster.get("transfer"),
            "single_parent": roster["family"].astype("str").eq("single_parent")
            if "family" in roster
            else None,
            "reconstituted": roster["family"].astype("str").eq("reconstituted")
            if "family" in roster
            else None,
            "left_behind": roster.get("left_behind"),
        }
        flags = {k: v.fillna(False).astype(bool) for k, v in member.items() if v is not None}
        if not flags:
            raise InputError("no focus-group columns (transfer, family, left_behind)")
        none = ~np.logical_or.reduce([v.to_numpy() for v in flags.values()])
        parts = [
            pd.DataFrame({"student_id": sid[v.to_numpy()], "group": k}) for k, v in flags.items()
        ]
        parts.append(pd.DataFrame({"student_id": sid[none], "group": "none"}))
        return pd.concat(parts, ignore_index=True)
    if by not in roster.columns:
        raise InputError(f"cannot break down by {by!r}: no such student column")
    return pd.DataFrame({"student_id": sid, "group": roster[by].astype("str")})


def _group_counts(ps: pd.DataFrame, lab: pd.DataFrame, k: int) -> pd.DataFrame:
    """``group, n_students, n_evaluable, n_progressing`` of one breakdown's labels."""
    pos = ps.index.get_indexer(pd.Index(lab["student_id"]))
    lab, j = lab.loc[pos >= 0], ps.iloc[pos[pos >= 0]]
    return (
        pd.DataFrame(
            {
                "group": lab["group"].to_numpy(),
                "ev": (j["n_evaluable"] >= k).to_numpy(),
                "prog": (j["n_improved"] >= k).to_numpy(),
            }
        )
        .groupby("group", sort=True)
        .agg(n_students=("ev", "size"), n_evaluable=("ev", "sum"), n_progressing=("prog", "sum"))
        .reset_index()
    )


def breakdowns(
    per_student: pd.DataFrame,
    roster: pd.DataFrame,
    *,
    by: Sequence[str] = BREAKDOWNS,
    assignments: pd.DataFrame | None = None,
    k: int = 1,
    rule: str = "evaluable_only",
    method: str = "wilson",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """The progress rate by grade, class, gender, mentor and focus group.

    Parameters
    ----------
    per_student : DataFrame
        :func:`student_progress` output for one year.
    roster : DataFrame
        That year's students (``student_id, grade, class_no, gender, transfer, family,
        left_behind``...).
    by : list of str
        Breakdowns: "grade", "class" (grade-class, e.g. "3-2"), "gender", "mentor" (the
        term-1 mentor; needs ``assignments``), "focus_group" (transfer, single_parent,
        reconstituted, left_behind, and "none"; groups overlap), or any roster column.
    assignments : DataFrame, optional
        The assignments table (for "mentor").
    k, rule, method, alpha
        As in :func:`year_verdict` (the report passes the rulebook's ``k_dimensions``,
        ``ci_method`` and ``alpha``).

    Returns
    -------
    DataFrame
        ``by, group, n_students, n_evaluable, n_progressing, proportion, ci_low, ci_high``
        (not yet suppressed: pass it through :func:`mentorlib.privacy.suppress_small_cells`
        before it leaves the workbench).
    """
    if rule not in RULES:
        raise InputError(f"rule must be one of {list(RULES)}, got {rule!r}")
    ps = per_student.assign(student_id=per_student["student_id"].astype("str")).set_index(
        "student_id"
    )
    if not ps.index.is_unique:
        raise InputError("breakdowns take one year of per-student rows, each student once")
    mentors = mentor_term1(assignments, int(ps["year"].iloc[0])) if "mentor" in by else None
    frames = []
    for b in by:
        if b == "mentor" and assignments is None:
            raise InputError("a mentor breakdown needs the assignments table")
        frames.append(_group_counts(ps, _group_labels(roster, b, mentors), k).assign(by=b))
    out = pd.concat(frames, ignore_index=True)
    denom = out["n_evaluable"] if rule == "evaluable_only" else out["n_students"]
    has = denom > 0
    ci = proportion_ci(
        out.loc[has, "n_progressing"], denom[has], method=method, alpha=alpha
    ).set_index(out.index[has])
    out = out.assign(
        proportion=ci["proportion"],
        ci_low=ci["ci_low"],
        ci_high=ci["ci_high"],
    )
    cols = ["by", "group", "n_students", "n_evaluable", "n_progressing"]
    return out.loc[:, [*cols, "proportion", "ci_low", "ci_high"]].astype(
        {c: np.int64 for c in cols[2:]}
    )


def threshold_sensitivity(
    changes: pd.DataFrame, *, k: int = 1, factors: Sequence[float] = (0.95, 1.0, 1.05)
) -> pd.DataFrame:
    """How the rate moves when the improvement threshold moves a little.

    Parameters
    ----------
    changes : DataFrame
        :func:`change_scores` output (one definition, one year).
    k : int, default 1
        Student level: improvement in at least ``k`` dimensions.
    factors : sequence of float
        Multiply every student's threshold by these factors.

    Returns
    -------
    DataFrame
        ``level`` (a dimension, or "student"), ``factor``, ``threshold`` (median threshold
        after scaling; NaN for the student row), ``rate`` (share of evaluable students
        improved).

    Notes
    -----
    A scale mean of six 1-5 items moves in steps of 1/6, so the rate is a step function of
    the threshold: when the estimated threshold sits next to a step, a few percent change in
    the pre-test SD or alpha moves every student on that step. A large jump between the
    factors warns that the verdict hangs on the third decimal of alpha.
    """
    need_columns(changes, {"dimension", "change", "threshold", "direction", "evaluable"}, "changes")
    rci = "definition" not in changes or bool((changes["definition"] == "rci").all())
    dims = list(pd.unique(changes["dimension"].astype("str")))
    D = len(dims)
    if len(changes) % D:
        raise InputError("changes must have one row per student and dimension")
    ev = changes["evaluable"].to_numpy(dtype=bool)
    sign = np.where(changes["direction"].to_numpy() == "down", -1.0, 1.0)
    ch = sign * changes["change"].to_numpy(dtype=float)
    thr = changes["threshold"].to_numpy(dtype=float)
    dim = changes["dimension"].astype("str").to_numpy()
    n_ev = ev.reshape(-1, D).sum(axis=1)
    rows = []
    for f in factors:
        imp = is_improved(ch, f * thr, strict=rci) & ev
        for d in dims:
            m = dim == d
            rows.append(
                {
                    "level": d,
                    "factor": f,
                    "threshold": float(np.nanmedian(thr[m]) * f) if m.any() else np.nan,
                    "rate": imp[m].sum() / max(ev[m].sum(), 1),
                }
            )
        prog = imp.reshape(-1, D).sum(axis=1) >= k
        rows.append(
            {
                "level": "student",
                "factor": f,
                "threshold": np.nan,
                "rate": prog.sum() / max((n_ev >= k).sum(), 1),
            }
        )
    return pd.DataFrame(rows)


def _weighted_sd(W: np.ndarray, g_codes: np.ndarray, n_groups: int, pre: np.ndarray) -> np.ndarray:
    """Pre-test SD (ddof = 1) per replicate, group and dimension under frequency weights W."""
    has_pre = ~np.isnan(pre)
    pre0 = np.where(has_pre, pre, 0.0)
    sd = np.empty((W.shape[0], n_groups, pre.shape[1]))
    for g in range(n_groups):
        Wg = W * (g_codes == g)
        sw, s1, s2 = Wg @ has_pre, Wg @ pre0, Wg @ pre0**2
        with np.errstate(invalid="ignore", divide="ignore"):
            sd[:, g, :] = np.sqrt((s2 - s1**2 / sw) / (sw - 1))
    return sd


class _RateData:
    """What a replicate needs to recount the rate: pre scores, signed changes, groups.

    ``ks``: the numbers of dimensions counted; one pass of replicates (the threshold, the
    costly part, re-estimated once per replicate) gives the rate of every k."""

    def __init__(self, ch, groups, pop, items, *, ks: tuple[int, ...], z: float, mid: float):
        D = ch["dimension"].nunique()
        N = len(ch) // D
        self.N, self.D, self.ks, self.z, self.mid, self.items = N, D, ks, z, mid, items
        self.pre = ch["pre"].to_numpy(dtype=float).reshape(N, D)
        sign = np.where(ch["direction"].to_numpy() == "down", -1.0, 1.0).reshape(N, D)
        self.change = sign * (ch["post"].to_numpy(dtype=float).reshape(N, D) - self.pre)
        n_ev = (~np.isnan(self.change)).sum(axis=1)
        self.rule = str(ch["definition"].iloc[0])
        self.rel_fixed = ch["reliability"].to_numpy(dtype=float).reshape(N, D)[0]
        g_codes, g_uniq = pd.factorize(pd.Series(groups))
        self.g_codes, self.n_groups = g_codes, len(g_uniq)
        self.pop = np.asarray(pop, dtype=bool)
        self.ev_k = {k: ((n_ev >= k) & self.pop).astype(float) for k in ks}
        self.pop_f = self.pop.astype(float)

    def rates(self, W: np.ndarray) -> dict[tuple[int, str], np.ndarray]:
        """The rate of each k under both rules, ``{(k, rule): rates}``, for each row of
        frequency weights W (b x N), the threshold (SD, and alpha when ``items`` are given)
        re-estimated under each row."""
        b = W.shape[0]
        sd = _weighted_sd(W, self.g_codes, self.n_groups, self.pre)
        if self.rule == "rci":
            if self.items is not None:
                rel = np.column_stack([scales.weighted_alpha(W, X) for X in self.items])
            else:
                rel = np.broadcast_to(self.rel_fixed, (b, self.D))
            thr = self.z * change_se(sd, rel[:, None, :])
        else:
            thr = self.mid * sd
        imp = is_improved(self.change[None], thr[:, self.g_codes, :], strict=STRICT[self.rule])
        n_imp = imp.sum(axis=2)
        den = W @ self.pop_f
        out = {}
        for k in self.ks:
            num = (W * ((n_imp >= k) & self.pop)).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[(k, "evaluable_only")] = num / (W @ self.ev_k[k])
                out[(k, "missing_not_progressing")] = num / den
        return out


def _cluster_codes(clusters: np.ndarray | None, N: int) -> tuple[np.ndarray, int]:
    """Cluster code per student (each student alone when ``clusters`` is None; a missing
    cluster label makes the student a cluster of one)."""
    if clusters is None:
        return np.arange(N), N
    lab = pd.Series(clusters, dtype="object")
    alone = lab.isna()
    lab[alone] = [f"\x00student{i}" for i in np.flatnonzero(alone.to_numpy())]
    codes, uniq = pd.factorize(lab)
    return codes, len(uniq)


def bootstrap_rates(
    ch: pd.DataFrame,
    groups: np.ndarray,
    pop: np.ndarray,
    items: list[np.ndarray] | None,
    *,
    k: int,
    n_boot: int,
    seed: int,
    z: float,
    mid: float,
    clusters: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Bootstrap replicates of the progress rate under both missing-data rules.

    Students of the roster are resampled with replacement, or, with ``clusters`` (a label
    per roster student, e.g. the term-1 mentor; missing = a cluster of its own), whole
    clusters are (Davison & Hinkley 1997, sec. 3.8); each replicate re-estimates the
    pre-test SD (per ``groups``: one group, or the grades), the pre-wave alpha when ``items``
    are given (:func:`mentorlib.scales.weighted_alpha`), and so the threshold, before counting
    with :func:`~mentorlib.progress.change.is_improved`. ``ch`` is
    :func:`~mentorlib.progress.change_scores` output in roster order (N students x D
    dimensions); ``z`` and ``mid`` are the rulebook's ``rci_z`` and ``mid``.
    """
    reps = bootstrap_rates_ks(
        ch, groups, pop, items, ks=(k,), n_boot=n_boot, seed=seed, z=z, mid=mid, clusters=clusters
    )
    return reps[k]


def bootstrap_rates_ks(
    ch: pd.DataFrame,
    groups: np.ndarray,
    pop: np.ndarray,
    items: list[np.ndarray] | None,
    *,
    ks: tuple[int, ...],
    n_boot: int,
    seed: int,
    z: float,
    mid: float,
    clusters: np.ndarray | None = None,
) -> dict[int, dict[str, np.ndarray]]:
    """:func:`bootstrap_rates` of several k from the same replicates, ``{k: {rule: rates}}``
    (each k's replicates are those :func:`bootstrap_rates` gives with the same seed)."""
    data = _RateData(ch, groups, pop, items, ks=tuple(ks), z=z, mid=mid)
    codes, G = _cluster_codes(clusters, data.N)
    rng = np.random.default_rng(seed)
    chunk = max(1, min(200, int(4e6 // max(data.N * data.D, 1))))
    out: dict[tuple[int, str], list[np.ndarray]] = {(k, r): [] for k in ks for r in RULES}
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        W = rng.multinomial(G, np.full(G, 1.0 / G), size=b)[:, codes].astype(float)
        for key, v in data.rates(W).items():
            out[key].append(v)
    return {k: {r: np.concatenate(out[(k, r)]) for r in RULES} for k in ks}


def jackknife_rates(
    ch: pd.DataFrame,
    groups: np.ndarray,
    pop: np.ndarray,
    items: list[np.ndarray] | None,
    *,
    k: int,
    z: float,
    mid: float,
    clusters: np.ndarray | None = None,
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """The full-sample rate and its leave-one-cluster-out (or -student) jackknife values,
    threshold re-estimated each time: the inputs of the BCa acceleration."""
    data = _RateData(ch, groups, pop, items, ks=(k,), z=z, mid=mid)
    codes, G = _cluster_codes(clusters, data.N)
    full = {r: float(v[0]) for (_, r), v in data.rates(np.ones((1, data.N))).items()}
    chunk = max(1, min(200, int(4e6 // max(data.N * data.D, 1))))
    out: dict[str, list[np.ndarray]] = {r: [] for r in RULES}
    for start in range(0, G, chunk):
        drop = np.arange(start, min(G, start + chunk))
        W = (codes[None, :] != drop[:, None]).astype(float)
        for (_, r), v in data.rates(W).items():
            out[r].append(v)
    return full, {r: np.concatenate(v) for r, v in out.items()}


def _bca_level(q: np.ndarray | float, z0: float, acc: float) -> np.ndarray:
    """The BCa-adjusted percentile level of nominal level ``q`` (Efron 1987, eq. 2.3)."""
    u = z0 + stats.norm.ppf(q)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(stats.norm.cdf(z0 + u / (1 - acc * u)))


def _bca_p(share_below: float, z0: float, acc: float) -> float:
    """The nominal level whose BCa-adjusted level is ``share_below`` (the inverse of
    :func:`_bca_level`): the p-value of H0 rate <= target by inverting the lower bound."""
    if share_below <= 0 or share_below >= 1:
        return float(share_below >= 1)
    w = stats.norm.ppf(share_below) - z0
    return float(stats.norm.cdf(w / (1 + acc * w) - z0))


def _acceleration(jack: np.ndarray) -> float:
    """BCa acceleration from jackknife values (Efron & Tibshirani 1993, eq. 14.15)."""
    jack = jack[np.isfinite(jack)]
    d = jack.mean() - jack if len(jack) else np.zeros(1)
    s2 = float((d**2).sum())
    return float((d**3).sum() / (6 * s2**1.5)) if s2 > 0 else 0.0


def _one_interval(r: np.ndarray, alpha: float, target: float, est, jack) -> dict[str, float]:
    """Interval, lower bound and p-value of one rule's finite replicates ``r``."""
    B = len(r)
    below = float((r <= target).sum() / B)
    if est is None:  # percentile
        lev = np.array([alpha / 2, 1 - alpha / 2, alpha])
        p = below
    else:
        z0 = float(
            stats.norm.ppf(
                np.clip(((r < est).sum() + 0.5 * (r == est).sum()) / B, 0.5 / B, 1 - 0.5 / B)
            )
        )
        acc = _acceleration(jack)
        # rounded: Phi(Phi^-1(q)) is q only to about 1e-16, and the order statistic jumps
        lev = np.nan_to_num(
            _bca_level(np.array([alpha / 2, 1 - alpha / 2, alpha]), z0, acc).round(12), nan=1.0
        )
        p = _bca_p(below, z0, acc)
    lo, hi, lb = (float(np.quantile(r, np.clip(q, 0, 1), method="inverted_cdf")) for q in lev)
    # the p-value and the bound must tell the same story (they do up to the rounding of
    # the quantile level): p < alpha exactly when the bound is above the target
    p = min(p, float(np.nextafter(alpha, 0))) if lb > target else max(p, alpha)
    return {"boot_ci_low": lo, "boot_ci_high": hi, "boot_lower_bound": lb, "boot_p_value": p}


def bootstrap_interval(
    reps: dict[str, np.ndarray],
    alpha: float,
    *,
    target: float = 0.85,
    estimate: dict[str, float] | None = None,
    jackknife: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Bootstrap interval, one-sided lower bound and p-value of each rule's replicates.

    Without ``estimate``: the percentile interval (Efron & Tibshirani 1993, ch. 13); with
    ``estimate`` (the full-sample rate) and ``jackknife`` (:func:`jackknife_rates`): BCa
    (ch. 14). The quantiles are order statistics (``inverted_cdf``) and ``boot_p_value``
    (H0: rate <= ``target``) inverts the same lower bound, so ``boot_p_value < alpha``
    exactly when ``boot_lower_bound > target``: percentile p = share of replicates at or
    below the target; BCa p = the nominal level whose adjusted level is that share.
    Returns ``rule, boot_ci_low, boot_ci_high, boot_lower_bound, boot_p_value``; NaN when
    no replicate is finite.
    """
    rows = []
    for rule, r in reps.items():
        r = r[np.isfinite(r)]
        if not len(r):
            rows.append({"rule": rule} | dict.fromkeys(_BOOT_COLS, np.nan))
            continue
        est = None if estimate is None else estimate[rule]
        jack = None if jackknife is None else jackknife[rule]
        rows.append({"rule": rule} | _one_interval(r, alpha, target, est, jack))
    return pd.DataFrame(rows)


_BOOT_COLS = ("boot_ci_low", "boot_ci_high", "boot_lower_bound", "boot_p_value")
