"""The school's award as paid: whole yuan per mentor, how credible each band is, mentee rewards.

The middle-school document (seed 001, section 5.2) pays ``award_per_mentee_term`` (250 yuan) per
mentee per term into a pool shared among the mentors by their scheme score
(:func:`~mentorlib.effectiveness.scheme.school_scheme`); section 5.1 rewards the mentees who
progress markedly (进步显著). This module turns the scheme into what a school pays and reads:

- :func:`round_to_total`: amounts in whole yuan that add up exactly to the pool (largest
  remainder);
- :func:`band_credibility`: the probability that a mentor's true effect lies in the band the
  scheme assigned;
- :func:`award_table` (internal: per mentor and term), :func:`award_distribution` (public: per
  band) and :func:`award_totals`;
- :func:`band_outcomes`: the mentees' change on the development assessment by their mentor's
  band (the figure that replaces the caterpillar when mentors have 1-2 mentees);
- :func:`year_award`: a year's award from the scheme alone (no mentor model), for the review;
- :func:`mentee_rewards`: the mentees the headline rule finds improved in at least the
  rulebook's ``mentee_reward_k`` dimensions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError
from ..privacy import Document
from ..progress import improved_flags, improved_students
from ..rules import Rulebook
from .scheme import school_scheme
from .study import mentor_data

__all__ = [
    "award_distribution",
    "award_table",
    "award_totals",
    "band_credibility",
    "band_outcomes",
    "mentee_rewards",
    "reward_k",
    "round_to_total",
    "year_award",
]


def reward_k(rules: Rulebook) -> int:
    """Dimensions a mentee must improve in to progress markedly: the rulebook's
    ``mentee_reward_k``, or its ``k_dimensions`` when that is higher (never below the headline)."""
    return max(int(rules.mentee_reward_k), int(rules.k_dimensions))


def round_to_total(amounts, total: int) -> np.ndarray:
    """Whole numbers close to ``amounts`` that add up exactly to ``total`` (largest remainder).

    Each amount is rounded down; the units left over go one each to the largest remainders
    (ties: the earlier row). Hamilton's method, as in apportionment (Balinski & Young 2001,
    *Fair Representation*, 2nd ed., Brookings).

    Parameters
    ----------
    amounts : array-like of float
        Non-negative; their sum should be ``total`` up to rounding.
    total : int

    Returns
    -------
    ndarray of int

    Examples
    --------
    >>> round_to_total([1000 / 3] * 3, 1000).tolist()
    [334, 333, 333]
    """
    a = np.asarray(amounts, dtype=float)
    if len(a) == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise InputError("amounts to round must be finite and non-negative")
    if a.sum() > 0:
        a = a * total / a.sum()  # remove floating-point drift before flooring
    base = np.floor(a + 1e-9).astype(np.int64)
    left = int(total) - int(base.sum())
    if left < 0 or left > len(a):
        raise InputError(f"amounts add up to {a.sum():g}, not to {total}")
    order = np.argsort(-(a - base), kind="stable")
    base[order[:left]] += 1
    return base


def band_credibility(
    effect, se, band, *, tau: float, bands: Sequence[tuple[str, float]]
) -> np.ndarray:
    """P(a mentor's true effect lies in ``band``) under a normal posterior.

    The bands cut the mentor distribution N(0, tau^2) at its quantiles (with shares 20/30/30/20%,
    A is a true effect above tau Phi^-1(0.8)); the mentor's true effect given the data is taken
    as N(effect, se^2) (the shrunken effect and its posterior SD), so the probability is
    ``Phi((hi - effect) / se) - Phi((lo - effect) / se)``.

    Parameters
    ----------
    effect, se : array-like
        Shrunken (empirical Bayes) effects and their standard errors.
    band : array-like of str
        The band the scheme assigned (None / missing: no band).
    tau : float
        The SD of the mentor effects (square root of the model's mentor variance).
    bands : sequence of (label, share)
        Best band first.

    Returns
    -------
    ndarray
        NaN where there is no band, no effect, or ``tau`` is zero (no mentor differs: no band
        is credible).

    Examples
    --------
    >>> band_credibility([0.0], [1e-9], ["B"], tau=1.0,
    ...                  bands=(("A", .2), ("B", .3), ("C", .3), ("D", .2))).round(3).tolist()
    [0.5]
    """
    labels = [b for b, _ in bands]
    shares = np.array([s for _, s in bands], dtype=float)
    cum = np.concatenate([[0.0], np.cumsum(shares)])
    # upper and lower cut of each band on the N(0, tau^2) scale, best band first
    hi = stats.norm.ppf(np.clip(1 - cum[:-1], 0, 1))
    lo = stats.norm.ppf(np.clip(1 - cum[1:], 0, 1))
    hi[0], lo[-1] = np.inf, -np.inf
    e = np.asarray(effect, dtype=float)
    s = np.asarray(se, dtype=float)
    out = np.full(e.shape, np.nan)
    if not (np.isfinite(tau) and tau > 0):
        return out
    idx = {b: i for i, b in enumerate(labels)}
    for j, b in enumerate(np.asarray(band, dtype=object)):
        if b not in idx or not (np.isfinite(e[j]) and np.isfinite(s[j]) and s[j] > 0):
            continue
        k = idx[b]
        out[j] = stats.norm.cdf((tau * hi[k] - e[j]) / s[j]) - stats.norm.cdf(
            (tau * lo[k] - e[j]) / s[j]
        )
    return out


def award_table(
    scheme: pd.DataFrame,
    rules: Rulebook,
    *,
    effects: pd.DataFrame | None = None,
    var_mentor: float = np.nan,
) -> pd.DataFrame:
    """The award per mentor and term in whole yuan, with the credibility of each band.

    Parameters
    ----------
    scheme : DataFrame
        :func:`~mentorlib.effectiveness.school_scheme` (optionally with ``mentor_name``).
    rules : Rulebook
        ``award_per_mentee_term`` and ``award_bands``.
    effects : DataFrame, optional
        mentor_id, effect, se: the composite outcome's shrunken effects.
    var_mentor : float
        The composite model's mentor variance (tau^2).

    Returns
    -------
    DataFrame
        The scheme's columns plus ``pool`` (the term's pool, ``award_per_mentee_term`` times its
        mentees, rounded to the yuan), ``yuan`` (the award in whole yuan: per term the amounts
        add up exactly to the pool; 0 for every mentor of a term where nobody could be banded,
        e.g. no scores were recorded), ``effect``, ``se`` and ``p_band``
        (:func:`band_credibility`; NaN without effects). Sorted by term and award, highest first.
    """
    t = scheme.copy()
    t["mentor_id"] = t["mentor_id"].astype(str)
    t["pool"] = 0
    t["yuan"] = 0
    for _term, part in t.groupby("term", sort=True):
        pool = int(round(rules.award_per_mentee_term * float(part["n_mentees"].sum())))
        t.loc[part.index, "pool"] = pool
        award = part["award"].to_numpy(dtype=float)
        if not np.all(np.isfinite(award)) or award.sum() <= 0:
            continue  # nobody could be banded this term (no scores): nothing is distributed
        t.loc[part.index, "yuan"] = round_to_total(award, pool)
    if effects is not None and len(effects):
        e = effects.assign(mentor_id=effects["mentor_id"].astype(str))
        e = e.drop_duplicates("mentor_id").set_index("mentor_id")
        t["effect"] = e["effect"].reindex(t["mentor_id"]).to_numpy(dtype=float)
        t["se"] = e["se"].reindex(t["mentor_id"]).to_numpy(dtype=float)
    else:
        t["effect"] = np.nan
        t["se"] = np.nan
    tau = float(np.sqrt(var_mentor)) if np.isfinite(var_mentor) and var_mentor > 0 else 0.0
    t["p_band"] = band_credibility(
        t["effect"], t["se"], t["band"], tau=tau, bands=rules.award_bands
    )
    t = t.sort_values(["term", "yuan", "mentor_id"], ascending=[True, False, True], kind="stable")
    return t.reset_index(drop=True)


def year_award(processed, year: int) -> pd.DataFrame:
    """A school year's award per mentor and term from the school's scheme alone.

    :func:`award_table` of :func:`~mentorlib.effectiveness.school_scheme` with the study's
    rulebook, without the mentor model (``effect``, ``se`` and ``p_band`` are NaN): what the
    school paid each year, for the pilot review. An empty frame when no mentor could be scored.
    """
    scheme = school_scheme(processed, year)
    if not len(scheme):
        return scheme
    return award_table(scheme, processed.rules)


def award_totals(table: pd.DataFrame, rules: Rulebook) -> pd.DataFrame:
    """Per term and for the year: mentors, mentee-terms, the pool and what was paid.

    ``due`` is ``award_per_mentee_term`` times the mentee-terms (the identity the school's
    document sets); ``paid`` the sum of the whole-yuan awards. The last row (``term = 0``) is
    the year.
    """
    g = table.groupby("term", sort=True)
    out = g.agg(
        n_mentors=("mentor_id", "nunique"), n_mentees=("n_mentees", "sum"), paid=("yuan", "sum")
    ).reset_index()
    year = {
        "term": 0,
        "n_mentors": int(table["mentor_id"].nunique()),
        "n_mentees": int(out["n_mentees"].sum()),
        "paid": int(out["paid"].sum()),
    }
    out = pd.concat([out, pd.DataFrame([year])], ignore_index=True)
    out["due"] = rules.award_per_mentee_term * out["n_mentees"]
    return out


def award_distribution(table: pd.DataFrame, rules: Rulebook) -> pd.DataFrame:
    """Per term and band (best first): mentors, mentees and yuan paid (no names).

    Bands no mentor reached are listed with zeros; mentors with no band (no score) are the band
    ``None`` row when there are any.
    """
    labels = [b for b, _ in rules.award_bands]
    rows = []
    for term, part in table.groupby("term", sort=True):
        band = part["band"].where(part["band"].notna(), None)
        for b in [*labels, None]:
            sel = part[band.isin([b])] if b is not None else part[band.isna()]
            if b is None and not len(sel):
                continue
            rows.append(
                {
                    "term": term,
                    "band": b,
                    "n_mentors": int(len(sel)),
                    "n_mentees": int(sel["n_mentees"].sum()),
                    "yuan": int(sel["yuan"].sum()),
                }
            )
    return pd.DataFrame(rows, columns=["term", "band", "n_mentors", "n_mentees", "yuan"])


def mentee_rewards(processed, year: int, *, k: int | None = None) -> pd.DataFrame:
    """The mentees who progressed markedly (进步显著, seed 001 section 5.1).

    Parameters
    ----------
    processed : Processed
    year : int
    k : int, optional
        Improved in at least ``k`` dimensions by the headline rule
        (:func:`~mentorlib.progress.improved_students`); default :func:`reward_k` (the
        rulebook's ``mentee_reward_k``, at least its ``k_dimensions``).

    Returns
    -------
    DataFrame
        student_id (as the study holds it: a pseudonym when the study was cleaned with a key),
        grade, class_no, mentor_id, n_evaluable, n_improved: the year's mentees (students with a
        mentor assignment in the year) improved in at least ``k`` dimensions, by mentor.
    """
    k = reward_k(processed.rules) if k is None else int(k)
    if k < 1:
        raise InputError(f"mentee_reward_k must be at least 1, got {k}")
    imp = improved_students(processed, year, k=1)
    a = processed["assignments"]
    a = a[a["year"] == year].sort_values(["term"], kind="stable")
    mentor = a.assign(student_id=a["student_id"].astype(str)).drop_duplicates(
        "student_id", keep="last"
    )
    mentor = mentor.set_index("student_id")["mentor_id"].astype(str)
    st = processed["students"]
    st = st[st["year"] == year].assign(student_id=lambda d: d["student_id"].astype(str))
    st = st.drop_duplicates("student_id").set_index("student_id")
    marked = improved_flags(imp, k) == 1  # the headline rule, with k dimensions
    imp = imp[imp.index.isin(mentor.index) & marked]
    out = pd.DataFrame(
        {
            "student_id": imp.index.to_numpy(),
            "grade": st["grade"].reindex(imp.index).to_numpy(),
            "class_no": st["class_no"].reindex(imp.index).to_numpy(),
            "mentor_id": mentor.reindex(imp.index).to_numpy(),
            "n_evaluable": imp["n_evaluable"].to_numpy(),
            "n_improved": imp["n_improved"].to_numpy(),
        }
    )
    return out.sort_values(["mentor_id", "student_id"], kind="stable").reset_index(drop=True)


#: Columns of :func:`band_outcomes`.
BAND_OUTCOME_COLUMNS = [
    "band", "n_mentors", "n", "mean", "sd", "ci_low", "ci_high", "suppressed",
]  # fmt: skip


def band_outcomes(
    processed,
    year: int,
    scheme: pd.DataFrame,
    *,
    term: int = 1,
    min_cell: int | None = None,
    alpha: float | None = None,
    data: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The mentees' change on the development assessment, by the band their mentor got.

    In a middle school a mentor has 1-2 mentees: no mentor's effect can be shown (min_cell),
    but the mentees of each band of the school's scheme can. A band whose mentees progress no
    more than the others' says the band is not about the mentees' development.

    Parameters
    ----------
    processed : Processed
    year : int
    scheme : DataFrame
        :func:`~mentorlib.effectiveness.school_scheme` (mentor_id, term, band).
    term : int
        The term whose mentor and band count (default 1, as the mentor model's mentor).
    min_cell : int, optional
        Bands with fewer mentees are suppressed (default the rulebook's ``min_cell``).
    alpha : float, optional
        Intervals at level 1 - alpha (default the rulebook's).
    data : DataFrame, optional
        :func:`~mentorlib.effectiveness.mentor_data` (composite, ``term``), when computed.

    Returns
    -------
    DataFrame
        :data:`BAND_OUTCOME_COLUMNS`, one row per band of the rulebook (best first), then
        ``band`` None for mentees whose mentor has no band, when any: ``n`` mentees with both
        waves, ``n_mentors`` their mentors, ``mean`` and ``sd`` of the composite change (post
        minus pre, scale points), its t interval (mentees as independent: with 1-2 mentees a
        mentor the clustering is negligible); ``suppressed`` (n below ``min_cell``: every
        number of the row but the band blank).
    """
    rules = processed.rules
    mc = rules.min_cell if min_cell is None else int(min_cell)
    a = rules.alpha if alpha is None else float(alpha)
    d = mentor_data(processed, year, mentor_term=term) if data is None else data
    d = d.loc[d["pre"].notna() & d["post"].notna()]
    s = scheme.loc[scheme["term"] == term]
    first = s.assign(mentor_id=s["mentor_id"].astype(str)).drop_duplicates("mentor_id")
    band = first.set_index("mentor_id")["band"]
    got = band.reindex(d["mentor_id"].astype(str)).to_numpy(dtype=object)
    change = (d["post"] - d["pre"]).to_numpy(dtype=float)
    mentors = d["mentor_id"].astype(str).to_numpy()
    rows = []
    labels: list = [b for b, _ in rules.award_bands]
    has_none = any(g is None or (isinstance(g, float) and np.isnan(g)) for g in got)
    for b in [*labels, *([None] if has_none else [])]:
        sel = np.array([(g == b) if b is not None else not isinstance(g, str) for g in got])
        x = change[sel]
        n = len(x)
        mean = float(x.mean()) if n else np.nan
        sd = float(x.std(ddof=1)) if n > 1 else np.nan
        half = float(stats.t.ppf(1 - a / 2, n - 1) * sd / np.sqrt(n)) if n > 1 else np.nan
        rows.append(
            {
                "band": b,
                "n_mentors": int(len(set(mentors[sel]))),
                "n": n,
                "mean": mean,
                "sd": sd,
                "ci_low": mean - half,
                "ci_high": mean + half,
            }
        )
    return _protect_bands(pd.DataFrame(rows), mc)


def _protect_bands(raw: pd.DataFrame, mc: int) -> pd.DataFrame:
    """The band rows with counts under ``mc`` (and the complements that would give them back
    from the total) suppressed: every number of such a row blank."""
    doc = Document(mc, name="mentee outcomes by band")
    keys = [doc.count(f"band.{i}", int(n)) for i, n in enumerate(raw["n"])]
    doc.total(doc.count("band.total", int(raw["n"].sum())), keys)
    doc.protect()
    out = doc.mask_table(raw, {"n": keys, "n_mentors": keys})
    hide = out["suppressed"].to_numpy(dtype=bool)
    for c in ("mean", "sd", "ci_low", "ci_high"):
        out.loc[hide, c] = np.nan
    for c in ("n", "n_mentors"):
        out[c] = out[c].astype("Int64").mask(hide)
    band = out["band"].astype(object)
    out["band"] = band.where(band.notna(), None)
    return out[BAND_OUTCOME_COLUMNS]
