"""Matching and assignment solvers: deferred acceptance and the constrained optimal assignment.

Both the generator (``mentorlib.synth``) and the grouping policies (``mentorlib.grouping``)
import this module; it depends on nothing but NumPy, SciPy and :mod:`mentorlib.errors`, so the
test bench does not import the module it is meant to test.

:func:`deferred_acceptance`
    Gale-Shapley with capacities, on plain dicts.
:func:`solve_assignment`
    The exact maximum-fit assignment under group-size, gender-balance and home-area constraints.
:class:`AssignmentSpec`, :class:`UnitNames`, :func:`solve_spec`
    The same solver on a prepared specification (what the grouping policies build).

Algorithms of :func:`solve_assignment`
--------------------------------------
The gender band is modelled per mentor as a choice among admissible sizes ``k`` with
``ceil((r - tol) k) <= f <= floor((r + tol) k)`` (one binary per mentor and size), the
convex hull of the band's integer points: the same feasible set as the linear band, a
much tighter relaxation, and several times faster.

With group-size bounds only, a component is an assignment problem on mentor *slots*
(``U_m`` slots per mentor, the first ``L_m`` carrying a bonus larger than any difference
of total score, so they fill first) and is solved by the Jonker-Volgenant shortest
augmenting path algorithm (:func:`scipy.optimize.linear_sum_assignment`; Crouse 2016),
the min-cost-flow view of the transportation problem. With side constraints it is a
mixed-integer linear programme solved to proven optimality (relative gap 0) by HiGHS
(:func:`scipy.optimize.milp`; Huangfu & Hall 2018), after a check whether the optimum
without the side constraints already meets them (then it is the optimum with them).

References: Crouse, D. F. (2016). On implementing 2D rectangular assignment algorithms.
*IEEE Transactions on Aerospace and Electronic Systems* 52, 1679-1696. Huangfu, Q. &
Hall, J. A. J. (2018). Parallelizing the dual revised simplex method. *Mathematical
Programming Computation* 10, 119-142.
"""

from __future__ import annotations

import heapq
import math
import warnings
from collections import deque
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linear_sum_assignment, milp
from scipy.sparse.csgraph import connected_components

from .errors import InfeasibleError, InputError

__all__ = [
    "GENDER_TOL_CAP",
    "GENDER_TOL_STEP",
    "AssignmentSpec",
    "Relaxation",
    "UnitInfeasible",
    "UnitNames",
    "deferred_acceptance",
    "solve_assignment",
    "solve_spec",
]

#: Soft constraints (``solve_spec(..., relax=True)``): a unit's gender tolerance is widened in
#: steps of ``GENDER_TOL_STEP`` up to ``GENDER_TOL_CAP`` before anything else is relaxed.
GENDER_TOL_STEP = 0.05
GENDER_TOL_CAP = 0.4


@dataclass(frozen=True)
class Relaxation:
    """A soft constraint relaxed for one unit: ``rule`` (``gender_tol``, ``gender_ref``,
    ``home_area``, ``scope``), the unit (e.g. "class 3-1"), the setting before and after."""

    rule: str
    unit: str
    before: str
    after: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "unit": self.unit, "before": self.before, "after": self.after}


class UnitInfeasible(InfeasibleError):
    """An :class:`InfeasibleError` that knows the students (row indices) of the failing unit."""

    def __init__(self, message: str, rows: np.ndarray) -> None:
        super().__init__(message)
        self.rows = rows


def deferred_acceptance(
    student_prefs: Mapping[Hashable, Sequence[Hashable]],
    mentor_prefs: Mapping[Hashable, Sequence[Hashable]],
    capacities: Mapping[Hashable, int],
) -> dict[Hashable, list[Hashable]]:
    """Student-proposing deferred acceptance with capacities (hospital-resident problem).

    Parameters
    ----------
    student_prefs : mapping
        Student -> mentors in order of preference. Mentors not listed are unacceptable.
    mentor_prefs : mapping
        Mentor -> students in order of preference. Students not listed are unacceptable.
    capacities : mapping
        Mentor -> the most students the mentor takes.

    Returns
    -------
    dict
        Mentor -> matched students, in the mentor's order of preference. Every mentor of
        ``mentor_prefs`` is a key (possibly with an empty list); unmatched students appear
        nowhere.

    Notes
    -----
    Gale & Shapley (1962), extended to capacities by Roth (1984): students propose down their
    lists; a mentor holds the best proposals up to capacity and rejects the rest. The result is
    stable (no student and mentor both prefer each other to their match) and the best stable
    matching for every student. It is the "two-way selection" (双向选择) of the programme.

    References: Gale, D. & Shapley, L. S. (1962). College admissions and the stability of
    marriage. *American Mathematical Monthly* 69, 9-15. Roth, A. E. (1984). The evolution of
    the labor market for medical interns and residents. *Journal of Political Economy* 92,
    991-1016.

    Examples
    --------
    >>> deferred_acceptance({"a": ["x"], "b": ["x"]}, {"x": ["b", "a"]}, {"x": 1})
    {'x': ['b']}
    """
    rank = {m: {s: i for i, s in enumerate(p)} for m, p in mentor_prefs.items()}
    held: dict[Hashable, list] = {m: [] for m in mentor_prefs}  # max-heap by rank: (-rank, s)
    nxt = dict.fromkeys(student_prefs, 0)
    free = deque(student_prefs)
    while free:
        s = free.popleft()
        prefs = student_prefs[s]
        while nxt[s] < len(prefs):
            m = prefs[nxt[s]]
            nxt[s] += 1
            r = rank.get(m, {}).get(s)
            cap = capacities.get(m, 0)
            if r is None or cap <= 0:
                continue
            heap = held[m]
            if len(heap) < cap:
                heapq.heappush(heap, (-r, s))
                break
            if r < -heap[0][0]:
                _, rejected = heapq.heapreplace(heap, (-r, s))
                free.append(rejected)
                break
    return {m: [s for _, s in sorted(h, key=lambda t: -t[0])] for m, h in held.items()}


def solve_assignment(
    scores: np.ndarray,
    *,
    lower: int | Sequence[int] | np.ndarray,
    upper: int | Sequence[int] | np.ndarray,
    allowed: np.ndarray | None = None,
    required: np.ndarray | None = None,
    female: np.ndarray | None = None,
    gender_tol: float | None = None,
    ratio: float | np.ndarray | None = None,
    areas: np.ndarray | None = None,
    max_areas: int | None = None,
    time_limit: float | None = None,
) -> np.ndarray:
    """The assignment of students to mentors with the largest total score, exactly.

    Parameters
    ----------
    scores : array (n_students, n_mentors)
        Score of each pair (the fit); larger is better.
    lower, upper : int or array (n_mentors,)
        Group-size bounds per mentor.
    allowed : bool array (n_students, n_mentors), optional
        Pairs that may be formed (the class or grade scope); all by default.
    required : bool array (n_mentors,), optional
        Mentors who must take at least ``lower`` students (primary: every staff member).
        The others take none or ``lower``-``upper``. All required by default.
    female : bool array (n_students,), optional
        With ``gender_tol``: each group's female share stays within ``gender_tol`` of
        ``ratio`` (a float, or one per mentor; by default the share among all students).
    areas : array (n_students,), optional
        Home-area codes; with ``max_areas`` each group draws from at most that many areas.
    time_limit : float, optional
        Seconds for the MILP solver; the best solution found is returned when it runs out.

    Returns
    -------
    ndarray of int
        The mentor (column index) of each student.

    Raises
    ------
    InfeasibleError
        When no assignment meets the rules; the message names the binding rule.

    Notes
    -----
    The problem is ``max sum_sm w_sm x_sm`` over binary ``x`` subject to ``sum_m x_sm = 1``
    (every student one mentor), ``L_m <= sum_s x_sm <= U_m`` (group size), and, when asked,
    ``|sum_s (f_s - r) x_sm| <= tol * sum_s x_sm`` (gender balance, linear in ``x``) and
    ``x_sm <= y_m,a(s)``, ``sum_a y_ma <= K`` (home areas). It decomposes into the connected
    components of the allowed pairs (a class, a grade), each solved on its own.

    The algorithms and their references are in the module docstring.

    Examples
    --------
    >>> w = np.array([[3.0, 1.0], [2.0, 1.0], [0.0, 1.0]])
    >>> solve_assignment(w, lower=1, upper=2).tolist()
    [0, 0, 1]
    """
    w, ok, lo, hi = _checked_arrays(scores, allowed, lower, upper)
    n, m = w.shape
    req = np.ones(m, dtype=bool) if required is None else np.asarray(required, dtype=bool)
    fem = None if female is None else np.asarray(female, dtype=bool)
    if gender_tol is not None and fem is None:
        raise InputError("gender_tol needs the students' genders (female=...)")
    spec = AssignmentSpec(
        w=w,
        ok=ok,
        lo=lo,
        hi=hi,
        req=req,
        female=fem,
        tol=gender_tol,
        ratio=(float(fem.mean()) if ratio is None and fem is not None and n else ratio),
        areas=None if areas is None else pd.factorize(np.asarray(areas), use_na_sentinel=False)[0],
        max_areas=max_areas,
        time_limit=time_limit,
    )
    return solve_spec(spec, UnitNames.default(n, m))


def _checked_arrays(scores, allowed, lower, upper) -> tuple[np.ndarray, ...]:
    """Scores, allowed pairs and group-size bounds as arrays, checked (InputError)."""
    w = np.asarray(scores, dtype=float)
    if w.ndim != 2:
        raise InputError("scores must be a 2-D array (students x mentors)")
    n, m = w.shape
    if not np.isfinite(w).all():
        raise InputError("scores must be finite; mark forbidden pairs with `allowed`")
    ok = np.ones((n, m), dtype=bool) if allowed is None else np.asarray(allowed, dtype=bool)
    if ok.shape != (n, m):
        raise InputError(f"allowed has shape {ok.shape}, scores {w.shape}")
    lo = np.broadcast_to(np.asarray(lower, dtype=int), (m,)).copy()
    hi = np.broadcast_to(np.asarray(upper, dtype=int), (m,)).copy()
    if (lo > hi).any() or (hi < 0).any():
        raise InputError("group-size bounds must satisfy 0 <= lower <= upper")
    return w, ok, lo, hi


# --------------------------------------------------------------------------- solver internals


@dataclass
class UnitNames:
    """How error messages name students, mentors and the units (class, grade) they sit in."""

    students: np.ndarray
    mentors: np.ndarray
    unit: np.ndarray  # per student, e.g. "class 3-2"

    @classmethod
    def default(cls, n: int, m: int) -> UnitNames:
        return cls(
            np.array([f"student {i}" for i in range(n)], dtype=object),
            np.array([f"mentor {j}" for j in range(m)], dtype=object),
            np.full(n, "the school", dtype=object),
        )


@dataclass
class AssignmentSpec:
    """An assignment problem: scores, allowed pairs, bounds and side constraints."""

    w: np.ndarray
    ok: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    req: np.ndarray
    female: np.ndarray | None = None
    tol: float | np.ndarray | None = None  # scalar, or one per mentor
    ratio: float | np.ndarray | None = None  # scalar, or one per mentor
    areas: np.ndarray | None = None
    max_areas: int | None = None
    moves: np.ndarray | None = None  # (n, m) pairs that count as a change (regrouping)
    max_moves: int | None = None
    time_limit: float | None = None
    semi: np.ndarray = field(init=False)

    def __post_init__(self):
        # mentors not required to mentor take 0 students or lo..hi; a bound 1 is no bound
        self.semi = ~self.req & (self.lo > 1)

    def sub(self, rows: np.ndarray, cols: np.ndarray) -> AssignmentSpec:
        s = AssignmentSpec(
            w=self.w[np.ix_(rows, cols)],
            ok=self.ok[np.ix_(rows, cols)],
            lo=self.lo[cols],
            hi=self.hi[cols],
            req=self.req[cols],
            female=None if self.female is None else self.female[rows],
            tol=self.tol[cols] if isinstance(self.tol, np.ndarray) else self.tol,
            ratio=self.ratio[cols] if isinstance(self.ratio, np.ndarray) else self.ratio,
            areas=None if self.areas is None else self.areas[rows],
            max_areas=self.max_areas,
            moves=None if self.moves is None else self.moves[np.ix_(rows, cols)],
            max_moves=self.max_moves,
            time_limit=self.time_limit,
        )
        return s

    @property
    def side(self) -> bool:
        return bool(
            self.tol is not None
            or self.max_areas is not None
            or self.moves is not None
            or self.semi.any()
        )


def _components(ok: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Connected components of the bipartite graph of allowed pairs: (students, mentors)."""
    n, m = ok.shape
    r, c = np.nonzero(ok)
    g = sp.coo_array((np.ones(len(r)), (r, n + c)), shape=(n + m, n + m))
    k, lab = connected_components(g, directed=False)
    order = np.argsort(lab, kind="stable")
    cuts = np.searchsorted(lab[order], np.arange(1, k))
    out = []
    for part in np.split(order, cuts):
        out.append((part[part < n], part[part >= n] - n))
    return out


def solve_spec(
    spec: AssignmentSpec,
    names: UnitNames,
    *,
    relax: bool = False,
    log: list[Relaxation] | None = None,
) -> np.ndarray:
    """Solve, component by component when nothing couples them; raise InfeasibleError.

    With ``relax``, a component (a class, a grade) that has no solution gets its soft
    constraints relaxed in this order until one is found, each step appended to ``log``:
    (1) the gender tolerance widened by ``GENDER_TOL_STEP`` up to ``GENDER_TOL_CAP``; (2) the
    gender reference switched to the unit's own female share (tolerance again from the
    rulebook's up to the cap); (3) the home-area limit lifted. Group sizes, the scope (the
    allowed pairs) and the regrouping budget are never relaxed here; the error raised is a
    :class:`UnitInfeasible` naming the unit's students (the caller may widen the scope).
    """
    n, m = spec.w.shape
    out = np.full(n, -1)
    if n == 0:
        _check_empty_mentors(spec, names, np.arange(m))
        return out
    none = np.flatnonzero(~spec.ok.any(1))
    if len(none):
        i = none[0]
        raise UnitInfeasible(
            f"scope: {names.students[i]} ({names.unit[i]}) has no eligible mentor"
            + (f" (and {len(none) - 1} more students)" if len(none) > 1 else ""),
            none,
        )
    comps = [(np.arange(n), np.arange(m))] if spec.moves is not None else _components(spec.ok)
    for rows, cols in comps:
        if not len(rows):
            _check_empty_mentors(spec, names, cols)
            continue
        sub = spec.sub(rows, cols)
        sub_names = UnitNames(names.students[rows], names.mentors[cols], names.unit[rows])
        try:
            _precheck(sub, sub_names)
            res = _lsa(sub) if not sub.side else _relaxed(sub)
            if res is None and relax:
                res = _relax_unit(sub, sub_names, log if log is not None else [])
            if res is None:
                raise InfeasibleError(_diagnose(sub, sub_names))
        except UnitInfeasible:
            raise
        except InfeasibleError as e:
            raise UnitInfeasible(str(e), rows) from None
        out[rows] = cols[res]
    return out


def _tol_ladder(tol0: float) -> list[float]:
    """Tolerances tried when relaxing: ``tol0`` plus steps of ``GENDER_TOL_STEP`` to the cap."""
    k = max(0, math.ceil((GENDER_TOL_CAP - tol0) / GENDER_TOL_STEP - 1e-9))
    return [round(min(tol0 + GENDER_TOL_STEP * i, GENDER_TOL_CAP), 6) for i in range(1, k + 1)]


def _relax_unit(spec: AssignmentSpec, names: UnitNames, log: list[Relaxation]) -> np.ndarray | None:
    """Relax one unit's soft constraints in the documented order (:func:`solve_spec`)."""
    unit = _unit_name(names)
    if _milp(spec, gender=False, areas=False) is None:
        return None  # group sizes within the allowed pairs: only a wider scope helps
    if spec.tol is not None and spec.female is not None:
        tol0 = np.asarray(spec.tol, dtype=float)
        t0 = float(tol0.min())
        ok = spec.ok.astype(float)
        k = ok.sum(0)
        own = np.where(k > 0, spec.female.astype(float) @ ok / np.maximum(k, 1), 0.0)
        steps = [(spec.ratio, t, False) for t in _tol_ladder(t0)]
        steps += [(own, t, True) for t in [t0, *_tol_ladder(t0)]]
        for ratio, t, to_unit in steps:
            res = _relaxed(replace(spec, tol=np.maximum(tol0, t), ratio=ratio))
            if res is None:
                continue
            if t > t0:
                log.append(Relaxation("gender_tol", unit, f"{t0:g}", f"{t:g}"))
            if to_unit:
                log.append(Relaxation("gender_ref", unit, "school", "unit"))
            return res
    if spec.max_areas is not None:
        res = _relaxed(replace(spec, max_areas=None, areas=None))
        if res is not None:
            log.append(Relaxation("home_area", unit, f"<= {spec.max_areas}", "none"))
            return res
    return None


def _unit_name(names: UnitNames) -> str:
    units = pd.unique(names.unit)
    return str(units[0]) if len(units) == 1 else f"{units[0]} (with {len(units) - 1} more)"


def _check_empty_mentors(spec: AssignmentSpec, names: UnitNames, cols: np.ndarray) -> None:
    need = cols[spec.req[cols] & (spec.lo[cols] > 0)]
    if len(need):
        raise InfeasibleError(
            f"group_min: {names.mentors[need[0]]} must mentor at least {spec.lo[need[0]]} "
            "students but no student is eligible for them (every staff member mentors)"
        )


def _precheck(spec: AssignmentSpec, names: UnitNames) -> None:
    """Counting arguments that name the binding rule before any solver runs."""
    n = spec.w.shape[0]
    unit = _unit_name(names)
    cap = int(spec.hi.sum())
    if n > cap:
        raise InfeasibleError(
            f"group_max: {unit} has {n} students but its {len(spec.hi)} mentors take at most "
            f"{cap} (at most {spec.hi.max()} each)"
        )
    need = int(spec.lo[spec.req].sum())
    if need > n:
        raise InfeasibleError(
            f"group_min: {unit} has {n} students but its {int(spec.req.sum())} mentors need "
            f"at least {need} ({spec.lo[spec.req].max()} each; every staff member mentors)"
        )


def _lsa(spec: AssignmentSpec) -> np.ndarray | None:
    """Bounds only: assignment on mentor slots (the first ``lo`` of each with a bonus)."""
    n, m = spec.w.shape
    hi, lo = spec.hi, np.where(spec.req, spec.lo, 0)
    slot_mentor = np.repeat(np.arange(m), hi)
    slot_k = np.arange(len(slot_mentor)) - np.repeat(np.cumsum(hi) - hi, hi)
    w0 = spec.w - spec.w.min()  # a constant per student changes no comparison
    w = w0[:, slot_mentor]
    span = float(w0.max()) if w0.size else 0.0
    bonus = span * n + 1.0  # filling one more minimum slot beats any difference in score
    big = (bonus + span) * (n + 1) + 1.0  # a forbidden pair costs more than any gain
    cost = -(w + bonus * (slot_k < lo[slot_mentor])[None, :])
    cost = np.where(spec.ok[:, slot_mentor], cost, big)
    r, c = linear_sum_assignment(cost)
    res = np.full(n, -1)
    res[r] = slot_mentor[c]
    if (res < 0).any() or not spec.ok[np.arange(n), res].all():
        return None
    load = np.bincount(res, minlength=m)
    if (load < lo).any():
        return None
    return res


def _meets_side(spec: AssignmentSpec, res: np.ndarray) -> bool:
    """Whether an assignment found without the side constraints happens to meet them."""
    m = spec.w.shape[1]
    if spec.tol is not None and spec.female is not None:
        n_m = np.bincount(res, minlength=m)
        f_m = np.bincount(res, weights=spec.female.astype(float), minlength=m)
        dev = np.abs(f_m - np.asarray(spec.ratio) * n_m) - np.asarray(spec.tol) * n_m
        if (dev > 1e-9).any():
            return False
    if spec.max_areas is not None and spec.areas is not None:
        pairs = np.unique(res * (int(spec.areas.max()) + 1) + spec.areas)
        per = np.bincount(pairs // (int(spec.areas.max()) + 1), minlength=m)
        if (per > spec.max_areas).any():
            return False
    return True


def _relaxed(spec: AssignmentSpec) -> np.ndarray | None:
    """Side constraints: solve without them first; if that optimum meets them it is optimal.

    Only gender balance and home areas are relaxed (a regrouping budget or open mentors go
    straight to the MILP). The relaxation's optimum bounds the constrained optimum, so when
    it is feasible it is the constrained optimum.
    """
    if spec.moves is None and not spec.semi.any():
        res = _lsa(spec)
        if res is None:
            return None  # infeasible even without the side constraints
        if _meets_side(spec, res):
            return res
    return _milp(spec)


def _size_menu(spec: AssignmentSpec, deg: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Gender balance as a choice of (size, fewest, most females) per mentor: (mentor, n, L, U).

    The band ``|f - r n| <= t n`` rounded to whole students, ``ceil((r - t) n) <= f <=
    floor((r + t) n)``, for each admissible size n: the convex hull of the integer points, a
    much tighter relaxation than the band itself.
    """
    m = spec.w.shape[1]
    tol = np.broadcast_to(np.asarray(spec.tol, dtype=float), (m,))
    ratio = np.broadcast_to(np.asarray(spec.ratio, dtype=float), (m,))
    out = []
    for j in range(m):
        lo = int(spec.lo[j]) if spec.req[j] else 0
        sizes = range(lo, int(min(spec.hi[j], deg[j])) + 1)
        for k in sizes:
            if 0 < k < spec.lo[j]:  # open mentors take none or lo..hi
                continue
            fl = max(0, math.ceil((ratio[j] - tol[j]) * k - 1e-9))
            fu = min(k, math.floor((ratio[j] + tol[j]) * k + 1e-9))
            if fl <= fu:
                out.append((j, k, fl, fu))
    return out


class _Rows:
    """The constraint rows of the MILP as they are added: sparse blocks and their bounds."""

    def __init__(self, nv: int) -> None:
        self.nv = nv
        self.blocks: list[sp.csr_array] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []

    def add(self, rows, cols, vals, nrows: int, lo, hi) -> None:
        self.blocks.append(sp.csr_array((vals, (rows, cols)), shape=(nrows, self.nv)))
        self.lo.append(np.broadcast_to(np.asarray(lo, dtype=float), (nrows,)))
        self.hi.append(np.broadcast_to(np.asarray(hi, dtype=float), (nrows,)))

    def constraint(self) -> LinearConstraint:
        return LinearConstraint(
            sp.vstack(self.blocks).tocsr(), np.concatenate(self.lo), np.concatenate(self.hi)
        )


def _semi_rows(R: _Rows, spec: AssignmentSpec, mi: np.ndarray, semi: np.ndarray, p: int) -> None:
    """Open mentors (a binary ``y`` each): ``lo * y <= count <= hi * y``."""
    cols, ones = np.arange(len(mi)), np.ones(len(mi))
    r = np.searchsorted(semi, mi)
    sel = np.isin(mi, semi)
    k = np.arange(len(semi))
    rows, cc = np.r_[r[sel], k], np.r_[cols[sel], p + k]
    R.add(rows, cc, np.r_[ones[sel], -spec.hi[semi].astype(float)], len(semi), -np.inf, 0)
    R.add(rows, cc, np.r_[ones[sel], -spec.lo[semi].astype(float)], len(semi), 0, np.inf)


def _gender_rows(
    R: _Rows, female: np.ndarray, si: np.ndarray, mi: np.ndarray, menu: list, m: int
) -> None:
    """One admissible (size, fewest, most females) per mentor (:func:`_size_menu`)."""
    p = len(si)
    cols, ones = np.arange(p), np.ones(p)
    mj = np.array([t[0] for t in menu], dtype=int)
    size, fl, fu = (np.array([t[k] for t in menu], dtype=float) for k in (1, 2, 3))
    zc = p + np.arange(len(menu))
    f = female[si].astype(float)
    rows, cc = np.r_[mi, mj], np.r_[cols, zc]
    R.add(mj, zc, np.ones(len(menu)), m, 1, 1)  # one size per mentor
    R.add(rows, cc, np.r_[ones, -size], m, 0, 0)  # the group has the chosen size
    R.add(rows, cc, np.r_[f, -fl], m, 0, np.inf)  # at least the fewest females for it
    R.add(rows, cc, np.r_[f, -fu], m, -np.inf, 0)  # at most the most


def _area_rows(
    R: _Rows, areas: np.ndarray, si: np.ndarray, mi: np.ndarray, m: int, area0: int, max_areas: int
) -> None:
    """Home areas: ``x_sm <= y_m,a(s)`` and ``sum_a y_ma <= max_areas`` (m mentors)."""
    p = len(si)
    cols, ones = np.arange(p), np.ones(p)
    base = int(areas.max()) + 1
    keys, akey = np.unique(mi * base + areas[si], return_inverse=True)
    n_y, y_mentor = len(keys), keys // base
    yc = area0 + akey
    R.add(np.r_[cols, cols], np.r_[cols, yc], np.r_[ones, -ones], p, -np.inf, 0)
    R.add(y_mentor, area0 + np.arange(n_y), np.ones(n_y), m, 0, max_areas)


def _n_area_vars(areas: np.ndarray, si: np.ndarray, mi: np.ndarray) -> int:
    base = int(areas.max()) + 1
    return len(np.unique(mi * base + areas[si]))


def _milp(spec: AssignmentSpec, *, gender=True, areas=True, moves=True) -> np.ndarray | None:
    """The exact MILP (HiGHS); None when infeasible. Flags drop side constraints (diagnosis).

    Variables: ``x`` per allowed pair; with gender balance a binary per (mentor, admissible
    size) (:func:`_size_menu`), else a binary per open mentor (none or ``lo..hi``); with
    home areas a binary per (mentor, area).
    """
    n, m = spec.w.shape
    si, mi = np.nonzero(spec.ok)
    p = len(si)
    cols, ones = np.arange(p), np.ones(p)
    female = spec.female if gender and spec.tol is not None else None
    menu = _size_menu(spec, np.bincount(mi, minlength=m)) if female is not None else []
    semi = np.flatnonzero(spec.semi) if female is None else np.array([], dtype=int)
    area_codes = spec.areas if areas and spec.max_areas is not None else None
    area0 = p + len(semi) + len(menu)  # columns: x, then open-mentor or size binaries, areas
    nv = area0 + (_n_area_vars(area_codes, si, mi) if area_codes is not None else 0)
    R = _Rows(nv)
    R.add(si, cols, ones, n, 1, 1)  # every student one mentor
    R.add(mi, cols, ones, m, np.where(spec.req & ~spec.semi, spec.lo, 0), spec.hi)  # group size
    if len(semi):
        _semi_rows(R, spec, mi, semi, p)
    if female is not None:
        _gender_rows(R, female, si, mi, menu, m)
    if area_codes is not None and spec.max_areas is not None:
        _area_rows(R, area_codes, si, mi, m, area0, spec.max_areas)
    if moves and spec.moves is not None:
        sel = spec.moves[si, mi]
        R.add(np.zeros(int(sel.sum()), dtype=int), cols[sel], ones[sel], 1, 0, spec.max_moves)
    c = np.zeros(nv)
    c[:p] = -spec.w[si, mi]
    x = _run_milp(c, R.constraint(), nv, spec.time_limit)
    if x is None:
        return None
    chosen = x[:p] > 0.5
    out = np.full(n, -1)
    out[si[chosen]] = mi[chosen]
    return out if (out >= 0).all() else None


def _run_milp(
    c: np.ndarray, constraint: LinearConstraint, nv: int, time_limit: float | None
) -> np.ndarray | None:
    """HiGHS to proven optimality (gap 0); None when infeasible or out of time with nothing."""
    options: dict[str, Any] = {"mip_rel_gap": 0.0, "presolve": True}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    res = milp(
        c, constraints=constraint, integrality=np.ones(nv), bounds=Bounds(0, 1), options=options
    )
    if res.x is None:
        if res.status in (2, 1):  # infeasible, or a time limit with no solution found
            return None
        raise InfeasibleError(f"the assignment solver stopped: {res.message}")
    if res.status == 1:
        warnings.warn(
            "time limit reached: the assignment is the best found, not proven optimal",
            RuntimeWarning,
            stacklevel=3,
        )
    return res.x


def _diagnose(spec: AssignmentSpec, names: UnitNames) -> str:
    """Name the binding rule by dropping side constraints one at a time."""
    unit = _unit_name(names)
    if spec.tol is not None and _milp(spec, gender=False) is not None:
        ratio = np.asarray(spec.ratio, dtype=float)
        share = float(np.mean(spec.female)) if spec.female is not None else float("nan")
        ref = f"{float(ratio):.2f}" if ratio.ndim == 0 else f"the share in {unit} ({share:.2f})"
        return (
            f"gender balance: no grouping of {unit} keeps every group's female share within "
            f"{np.min(spec.tol):g} of {ref} (raise gender_tol, set gender_ref='unit' or widen "
            "the scope; on the command line --gender-tol or --scope, or leave out --strict)"
        )
    if spec.max_areas is not None and _milp(spec, areas=False) is not None:
        return (
            f"home area: no grouping of {unit} draws each group from at most "
            f"{spec.max_areas} home areas"
        )
    if spec.moves is not None and _milp(spec, moves=False) is not None:
        return (
            f"max_regroup_share: the students who must change mentor exceed the cap of "
            f"{spec.max_moves} changes"
        )
    return (
        f"group size: no grouping of {unit} gives every mentor {spec.lo.min()}-{spec.hi.max()} "
        "students within the allowed pairs (check the scope)"
    )
