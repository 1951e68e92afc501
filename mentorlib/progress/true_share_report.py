"""The progress report's estimated true share: which students, settings, fallback, suppression.

:func:`year_true_share` estimates, for the programme's population of one year (the report's
``StudyYear.pop``), the share of students whose latent change exceeds the rulebook's
``true_delta`` in at least ``k_dimensions`` dimensions (:mod:`.true_share`, plausible values of
an anchored graded-response model), with a breakdown by grade and focus group. The latent
regression is conditioned on grade, focus-group flags and gender (NAEP's conditioning
variables), so the group shares are not shrunk towards the school's. When the item model
cannot be fitted, the share is deconvolved from the scale-score changes (:mod:`.deconvolve`);
when that fails too, or the year has too few students, the share is None and a note says why.

The middle school's population, its mentees, was nominated by class teachers on the observed
pre-test (plus their impressions), the test the model reads. A population model fitted to the
nominees alone takes their low observed pre-tests at face value (selection on the measurement
error is not in the model) and overstates their change: +7.4 points (SE 0.8) over 15 synthetic
middle schools of 800 and 3 years (benchmarks/README.md). The selection-aware model
(:data:`SELECTION_NOTE`) is fitted on every student assessed instead, with the mentee flag in
the post-test means only (:func:`.pv_sampler.restricted_coef`): the nomination depends on the
pre-test answers, which are in the model, so it is ignorable given them, and the flag carries
the programme's shift of the mentees' post-test. The share, its breakdowns and their bootstrap
(flagged and unflagged students resampled apart) are the mentees'. The model needs
``MIN_STUDENTS`` students assessed; the share, at least ``min_cell`` mentees.

Settings for the report (one school-year must stay near 30 s at 1,200 students on one core):
``REPORT_M`` = 10 plausible values and ``REPORT_N_BOOT`` = 6 bootstrap replicates (t quantile
with 5 degrees of freedom). Measured at 1,200 students on a machine loaded ~3x (load 5.6 on
2 cores): the chain alone 46 s, with 10 replicates 108 s (~6 s per replicate), so ~16 s +
6 x ~2 s ~ 30 s on an idle core. With the interval's variance = the replicates' spread +
(1 + 1/m) x the between-draw variance, these settings covered the realised share in 94-95% of
simulated primary schools of 400 and 1,200 (:mod:`.true_share`'s table; 18-19 s per school of
1,200 with B = 6 on a loaded machine): more replicates were not needed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from ..privacy import few_text
from ..rules import Rulebook
from .deconvolve import changes_for_deconvolution, deconvolved_true_share
from .true_share import estimated_true_share
from .verdict import _group_labels

__all__ = ["MIN_STUDENTS", "SELECTION_NOTE", "REPORT_M", "REPORT_N_BOOT", "year_true_share"]

#: Fewest students with item answers the estimate is tried on (the population model has
#: 2D means and a 2D x 2D covariance; below this its change covariances are noise).
MIN_STUDENTS = 100
#: Plausible values of the full-sample chain and bootstrap replicates in the report.
REPORT_M, REPORT_N_BOOT = 10, 6
#: Bootstrap replicates of the deconvolution fallback, for the school and each of its ~11
#: groups (100 took ~140 s for a school of 400 with its groups on a loaded machine).
DECONV_N_BOOT = 40
_BY = ("grade", "focus_group")
_COLUMNS = ["by", "group", "estimate", "ci_low", "ci_high", "n_students"]


#: How a middle school's mentees' estimated true share is made (benchmarks/README.md).
SELECTION_NOTE = (
    "estimated true share: the mentees were nominated on the same test's pre-test, so the "
    "model is fitted on every student assessed, with being a mentee shifting the post-test "
    "only (a model fitted to the nominees alone reads their low pre-test scores as their true "
    "level and overstates their change); the share is the mentees'"
)


def _groups(pop: pd.DataFrame) -> tuple[dict[tuple[str, str], pd.Series], pd.DataFrame]:
    """Subsets (grade, focus group; overlapping) and the conditioning covariates."""
    sid = pop["student_id"].astype("str")
    subsets: dict[tuple[str, str], pd.Series] = {}
    for by in _BY:
        try:
            lab = _group_labels(pop, by, None)
        except InputError:
            continue
        for g, rows in lab.groupby("group", sort=True):
            subsets[(by, str(g))] = pd.Series(sid.isin(rows["student_id"]).to_numpy(), index=sid)
    cov = pd.DataFrame(index=sid)
    for (by, g), mask in subsets.items():
        if g != "none":
            cov[f"{by}={g}"] = mask.to_numpy(dtype=float)
    if "gender" in pop.columns:
        cov["male"] = pop["gender"].astype("str").eq("male").to_numpy(dtype=float)
    return subsets, cov


def _table(rows: pd.DataFrame, min_cell: int, notes: list[str]) -> pd.DataFrame:
    small = rows["n_students"] < min_cell
    if small.any():
        notes.append(
            f"estimated true share: {int(small.sum())} group(s) of fewer than {min_cell} "
            "students not shown"
        )
    return rows.loc[~small, _COLUMNS].reset_index(drop=True)


def _by_pv(items, cb, rules: Rulebook, seed: int, subsets, cov, treated=None):
    res = estimated_true_share(
        items,
        cb,
        delta=rules.true_delta,
        k=rules.k_dimensions,
        m=REPORT_M,
        seed=seed,
        n_boot=REPORT_N_BOOT,
        covariates=cov,
        subsets=subsets,
        treated=treated,
    )
    by = res.subsets if res.subsets is not None else pd.DataFrame(columns=_COLUMNS)
    return res.as_dict() | {"n_students": res.n_students}, by


def _no_deconvolution(y, ids: pd.Index, treated) -> str | None:
    """Why the scale-score deconvolution cannot stand in for the item model, or None.

    - Students nominated on the same test's pre-test (the middle school's mentees): their
      observed change carries regression to the mean, which a deconvolution of their changes
      reads as true change (the item model separates it: :data:`SELECTION_NOTE`).
    - Fewer than :data:`MIN_STUDENTS` students with a change: the g-model's 5-8 degrees of
      freedom are then fitted on a handful of points per dimension (when the dimensions were
      still combined as if independent, 24 mentees of a hand-made middle school came out at
      98.8% [98.0%, 99.4%] where 13 were certified).
    """
    if treated is not None:
        return (
            "the scale-score changes of students nominated on the same pre-test cannot be "
            "deconvolved: their observed change carries regression to the mean"
        )
    ch = y.changes("rci_data").dropna(subset=["change"])
    n = int(ch.loc[ch["student_id"].astype("str").isin(ids), "student_id"].nunique())
    if n < MIN_STUDENTS:  # not the count: the report's own may print it as "<5"
        return f"fewer than {MIN_STUDENTS} students have scale-score changes"
    return None


def _by_deconvolution(changes: pd.DataFrame, rules: Rulebook, seed: int, subsets):
    table = changes_for_deconvolution(changes.dropna(subset=["change", "reliability", "sd_pre"]))

    def one(t):
        return deconvolved_true_share(
            t, delta=rules.true_delta, k=rules.k_dimensions, n_boot=DECONV_N_BOOT, seed=seed
        )

    res = one(table)
    d = res.to_json_dict()
    out = {c: d[c] for c in ("estimate", "ci_low", "ci_high", "delta", "k", "method")}
    rows = []
    for (by, g), mask in subsets.items():
        ids = mask.index[mask.to_numpy(dtype=bool)]
        sub = table.loc[table["student_id"].isin(ids)]
        n = int(sub["student_id"].nunique())
        try:
            r = one(sub)
            rows.append((by, g, r.estimate, r.ci_low, r.ci_high, n))
        except InputError:
            rows.append((by, g, np.nan, np.nan, np.nan, n))
    return out | {"n_students": res.n_students}, pd.DataFrame(rows, columns=_COLUMNS)


#: Results of :func:`year_true_share` by a fingerprint of its inputs (the annual summary, the
#: review and the demo ask for the same school-year several times in one process).
_CACHE: dict[tuple, tuple[dict | None, pd.DataFrame | None, list[str]]] = {}
_CACHE_SIZE = 16


def _fingerprint(y, rules: Rulebook, seed: int) -> tuple:
    """What the estimate depends on: the year's items and population, the codebook, rules, seed."""
    pop = y.pop.reset_index(drop=True)
    items = y.scored.items
    items = items.loc[items["year"] == y.year].reset_index(drop=True)
    h_items = int(pd.util.hash_pandas_object(items, index=False).sum())
    h_pop = int(pd.util.hash_pandas_object(pop.astype("str"), index=False).sum())
    cb = repr(y.cb)
    settings = (rules.true_delta, rules.k_dimensions, rules.min_cell, rules.rci_z)
    return (y.year, h_items, h_pop, cb, settings, seed)


def year_true_share(
    y, rules: Rulebook, *, seed: int, notes: list[str]
) -> tuple[dict | None, pd.DataFrame | None]:
    """Cached :func:`_year_true_share` (the same inputs give the same seeded result)."""
    key = _fingerprint(y, rules, seed)
    if key not in _CACHE:
        own: list[str] = []
        share, by = _year_true_share(y, rules, seed=seed, notes=own)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = (share, by, own)
    share, by, own = _CACHE[key]
    notes.extend(own)
    return (dict(share) if share is not None else None), (None if by is None else by.copy())


def _year_true_share(
    y, rules: Rulebook, *, seed: int, notes: list[str]
) -> tuple[dict | None, pd.DataFrame | None]:
    """``(true_share, true_share_by)`` of the report's year (see the module docstring).

    ``y`` is the report's :class:`~mentorlib.progress.year.StudyYear`; notes are appended to
    ``notes``. ``true_share`` has ``estimate, ci_low, ci_high, delta, k, method, n_students``;
    ``true_share_by`` has ``by, group, estimate, ci_low, ci_high, n_students`` (groups of fewer
    than ``rules.min_cell`` students left out).
    """
    pop = y.pop
    ids = pd.Index(pop["student_id"].astype("str"))
    # the model rests on every student of the year's roster (the middle school assesses all
    # and mentors a few, nominated on the pre-test): the share is the report population's
    everyone = pd.Index(y.roster["student_id"].astype("str"))
    items = y.scored.items
    items = items.loc[
        (items["year"] == y.year) & items["student_id"].astype("str").isin(everyone)
    ].assign(student_id=lambda d: d["student_id"].astype("str"))
    # the model needs MIN_STUDENTS answering (all assessed); the share, min_cell of the report's
    n_fit = int(items["student_id"].nunique())
    n = int(items.loc[items["student_id"].isin(ids), "student_id"].nunique())
    if n_fit < MIN_STUDENTS or n < rules.min_cell:
        # no exact count: a small one is a disclosure, and a larger one, taken from the roster
        # the report counts, would give a small one back
        few = (
            f"{few_text(n, rules.min_cell, zero=False)} students of the report"
            if n < rules.min_cell
            else f"fewer than {MIN_STUDENTS} students"
        )
        need = rules.min_cell if n < rules.min_cell else MIN_STUDENTS
        notes.append(
            f"estimated true share: not estimated ({few} with item answers; it needs {need})"
        )
        return None, None
    subsets, cov = _groups(y.roster)
    try:
        treated = None if len(everyone) == len(ids) else ids
        if treated is not None:
            notes.append(SELECTION_NOTE)
        share, by = _by_pv(items, y.cb, rules, seed, subsets, cov, treated)
    except (InputError, np.linalg.LinAlgError, ValueError) as e:
        why = _no_deconvolution(y, ids, treated)
        if why:
            notes.append(
                f"estimated true share: not estimated: the item model could not be fitted "
                f"({e}), and {why}"
            )
            return None, None
        notes.append(
            f"estimated true share: the item model could not be fitted ({e}); "
            "deconvolved from the scale-score changes instead"
        )
        try:
            ch = y.changes("rci_data")
            ch = ch.loc[ch["student_id"].astype("str").isin(ids)]
            share, by = _by_deconvolution(ch, rules, seed, subsets)
        except (InputError, np.linalg.LinAlgError, ValueError) as e2:
            notes.append(f"estimated true share: not estimated ({e2})")
            return None, None
    return share, _table(by, rules.min_cell, notes)
