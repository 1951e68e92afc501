"""Grouping policies, scikit-learn style, and their registry.

Every policy stores its parameters in ``__init__`` and groups a roster with
``assign(students, mentors, rules, *, seed)``, returning an assignment table (``student_id``,
``mentor_id``, ``fit``, ``source``). :data:`POLICIES` maps the command-line names to the classes;
:func:`make_policy` builds one by name.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import InfeasibleError, InputError
from ..io.codebook import load_codebook
from ..matching import AssignmentSpec, Relaxation, deferred_acceptance
from ..rules import Rulebook
from .relax import solve_soft
from .roster import (
    FROM_RULES,
    GenderTol,
    Problem,
    allowed_pairs,
    as_rng,
    build_problem,
    column_values,
    gender_applies,
    mentor_lists,
    resolve_gender_tol,
    student_lists,
)

__all__ = [
    "POLICIES",
    "ClassDefaultPolicy",
    "OptimalPolicy",
    "Policy",
    "RandomPolicy",
    "RecordedPolicy",
    "RegroupPolicy",
    "TwoWayPolicy",
    "assignment_frame",
    "make_policy",
]


def assignment_frame(pb: Problem, col: np.ndarray, source: Any) -> pd.DataFrame:
    """The assignment table of a policy: one row per student, in roster order."""
    ok = col >= 0
    fit = np.where(ok, pb.fit[np.arange(pb.n), np.maximum(col, 0)], np.nan)
    mentor = np.full(pb.n, None, dtype=object)
    mentor[ok] = pb.mid[col[ok]]
    return pd.DataFrame(
        {
            "student_id": pd.array(pb.sid, dtype="str"),
            "mentor_id": pd.array(mentor, dtype="str"),
            "fit": fit,
            "source": pd.array(
                np.broadcast_to(np.asarray(source, dtype=object), (pb.n,)), dtype="str"
            ),
        }
    )


class Policy:
    """A grouping policy: parameters in ``__init__``, groups from :meth:`assign`.

    Subclasses set ``name`` (the command-line name), ``stochastic`` (the result depends on
    ``seed``) and ``adjusts`` (an adjustment of current groups, bound by the rulebook's
    ``max_regroup_share``).
    """

    name: ClassVar[str] = ""
    stochastic: ClassVar[bool] = False
    adjusts: ClassVar[bool] = False
    #: The soft rules the last :meth:`assign` relaxed (``strict=False``), in order.
    relaxations_: list[Relaxation] = []

    def assign(
        self, students: pd.DataFrame, mentors: pd.DataFrame, rules: Rulebook, *, seed: Any = None
    ) -> pd.DataFrame:
        """Group the students.

        Parameters
        ----------
        students, mentors : DataFrame
            As returned by :func:`~mentorlib.grouping.roster`; neither is modified.
        rules : Rulebook
            Group-size bounds, coverage, the gender tolerance and the regrouping cap.
        seed : int or numpy Generator, optional
            Randomness (noisy preferences, random groups).

        Returns
        -------
        DataFrame
            One row per student, in the order of ``students``: ``student_id``, ``mentor_id``,
            ``fit`` (needs-strength fit of the pair), ``source`` (how the pair came about,
            e.g. ``matched``, ``reconciled``, ``kept``, ``moved``).

        Raises
        ------
        InfeasibleError
            When no grouping meets the rules; the message names the binding rule.
        """
        raise NotImplementedError

    @classmethod
    def _param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    @classmethod
    def param_names(cls) -> list[str]:
        """The names of the policy's parameters (its ``__init__`` arguments)."""
        return cls._param_names()

    def get_params(self) -> dict[str, Any]:
        """The policy's parameters (scikit-learn convention)."""
        return {k: getattr(self, k) for k in self._param_names()}

    @property
    def is_stochastic(self) -> bool:
        return self.stochastic

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


class RecordedPolicy(Policy):
    """The groups as recorded (``students.current_mentor``): the baseline of a comparison."""

    name = "recorded"

    def __init__(self) -> None:
        pass

    def assign(
        self, students: pd.DataFrame, mentors: pd.DataFrame, rules: Rulebook, *, seed: Any = None
    ) -> pd.DataFrame:
        pb = build_problem(students, mentors, rules, scope="school")
        cur = pb.current()
        if (cur < 0).any():
            i = int(np.flatnonzero(cur < 0)[0])
            raise InputError(
                f"recorded: student {pb.sid[i]} has no current mentor among the mentors "
                f"({int((cur < 0).sum())} students)"
            )
        return assignment_frame(pb, cur, "recorded")


class ClassDefaultPolicy(Policy):
    """Current practice: the class teacher splits the class list among the class's mentors.

    Students in roster order (student number) go in consecutive blocks of near-equal size to
    the mentors of their class (primary: the staff linked to the class, the class teacher
    first; middle: the teachers of the class), each up to ``group_max``; a student whose
    class has no room goes to the least-loaded mentor of the grade. No fit is used.
    """

    name = "current"

    def __init__(self) -> None:
        pass

    def assign(
        self, students: pd.DataFrame, mentors: pd.DataFrame, rules: Rulebook, *, seed: Any = None
    ) -> pd.DataFrame:
        pb = build_problem(students, mentors, rules, scope="class")
        grade_ok, _ = allowed_pairs(students, mentors, "grade")
        homes = column_values(mentors, "homeroom")
        home = [str(v) for v in (homes if homes is not None else [None] * pb.m)]
        cls = np.array([u.removeprefix("class ") for u in pb.unit], dtype=object)
        load = np.zeros(pb.m, dtype=int)
        out = np.full(pb.n, -1)
        order = np.lexsort((pb.sid, cls))
        for c in pd.unique(cls[order]):
            idx = order[cls[order] == c]
            k = self._split_class(pb, idx, home, c, load, out)
            for i in idx[k:]:  # spill-over: the grade's least-loaded mentor with room
                pool = np.flatnonzero(grade_ok[i] & (load < pb.upper))
                if not len(pool):
                    raise InfeasibleError(
                        f"group_max: class {c} has {len(idx)} students but its mentors and its "
                        f"grade's mentors have no room left (at most {rules.group_max} each)"
                    )
                j = pool[np.argmin(load[pool])]
                out[i] = j
                load[j] += 1
        short = np.flatnonzero(pb.required & (load < pb.lower))
        if len(short):
            j = short[0]
            raise InfeasibleError(
                f"group_min: by the class default {pb.names.mentors[j]} gets {load[j]} students, "
                f"fewer than {pb.lower[j]} (the class is too small for its mentors)"
            )
        return assignment_frame(pb, out, "class_default")

    @staticmethod
    def _split_class(
        pb: Problem, idx: np.ndarray, home: list[str], c: str, load: np.ndarray, out: np.ndarray
    ) -> int:
        """Blocks of the class list to its mentors (class teacher first); students placed."""
        cand = np.flatnonzero(pb.allowed[idx[0]])
        not_home = np.array([home[j] != c for j in cand], dtype=bool)
        cand = cand[np.lexsort((pb.mid[cand], not_home))]
        counts = np.zeros(len(cand), dtype=int)
        for _ in idx:
            room = np.flatnonzero(load[cand] + counts < pb.upper[cand])
            if not len(room):
                continue
            counts[room[np.argmin(load[cand][room] + counts[room])]] += 1
        k = 0
        for j, cnt in zip(cand, counts, strict=True):
            out[idx[k : k + cnt]] = j
            k += cnt
        load[cand] += counts
        return k


class RandomPolicy(Policy):
    """Random groups within the constraints (scope, group-size bounds, gender balance).

    Parameters
    ----------
    scope : {"class", "grade", "school"}, optional
        Default: class (primary), grade (middle).
    gender_tol, gender_ref, strict
        As for :class:`OptimalPolicy`.

    Notes
    -----
    The exact maximum of uniform random pair scores under the constraints: a random grouping
    that meets every rule (not uniform over all such groupings).
    """

    name = "random"
    stochastic = True

    def __init__(
        self,
        scope: str | None = None,
        gender_tol: GenderTol = FROM_RULES,
        gender_ref: str = "school",
        strict: bool = True,
    ):
        self.scope = scope
        self.gender_tol = gender_tol
        self.gender_ref = gender_ref
        self.strict = strict

    def assign(
        self, students: pd.DataFrame, mentors: pd.DataFrame, rules: Rulebook, *, seed: Any = None
    ) -> pd.DataFrame:
        pb = build_problem(students, mentors, rules, scope=self.scope)
        w = as_rng(seed).random(pb.fit.shape)
        tol = resolve_gender_tol(self.gender_tol, rules)
        col, self.relaxations_ = solve_soft(
            pb, lambda p: p.spec(w, gender_tol=tol, gender_ref=self.gender_ref), strict=self.strict
        )
        return assignment_frame(pb, col, "random")


class TwoWayPolicy(Policy):
    """Two-way selection (双向选择): student-proposing deferred acceptance, then reconciliation.

    Parameters
    ----------
    choices : {"auto", "stated", "fit"}
        Students' lists: named mentors (middle school), or every mentor in scope by fit.
    list_length : int, optional
        Truncate fit-based lists (a survey that asks for the top k).
    noise : float
        Gumbel noise on fit when students and mentors rank (each side's imperfect view).
    scope, gender_tol, gender_ref, weights, strict
        As for :class:`OptimalPolicy`.

    Notes
    -----
    Deferred acceptance (Gale & Shapley 1962; Roth 1984) with capacity ``group_max`` gives a
    stable matching. The school then reconciles (PROGRAMME.md, 分组 2-3): an exact
    assignment that keeps the largest number of matched pairs and, among those, the largest
    total fit, while placing unmatched students and meeting ``group_min``, the scope and
    gender balance (pair score ``fit + B * matched`` with ``B`` larger than any fit total).
    ``source`` is ``matched``, ``reconciled`` (moved from the match) or ``placed``.
    """

    name = "two_way"

    def __init__(
        self,
        choices: str = "auto",
        list_length: int | None = None,
        noise: float = 0.1,
        scope: str | None = None,
        gender_tol: GenderTol = FROM_RULES,
        gender_ref: str = "school",
        weights: Mapping[str, float] | None = None,
        strict: bool = True,
    ):
        self.strict = strict
        self.choices = choices
        self.list_length = list_length
        self.noise = noise
        self.scope = scope
        self.gender_tol = gender_tol
        self.gender_ref = gender_ref
        self.weights = weights

    @property
    def is_stochastic(self) -> bool:
        return self.noise > 0

    def assign(
        self, students: pd.DataFrame, mentors: pd.DataFrame, rules: Rulebook, *, seed: Any = None
    ) -> pd.DataFrame:
        pb = build_problem(students, mentors, rules, weights=self.weights, scope=self.scope)
        rng = as_rng(seed)
        slists = student_lists(pb, self.choices, self.noise, self.list_length, rng)
        mlists = mentor_lists(pb, self.noise, rng)
        matched = deferred_acceptance(
            {i: [int(j) for j in lst] for i, lst in enumerate(slists)},
            {j: [int(i) for i in lst] for j, lst in enumerate(mlists)},
            {j: int(c) for j, c in enumerate(pb.upper)},
        )
        da = np.full(pb.n, -1)
        for j, ss in matched.items():
            da[np.asarray(ss, dtype=int)] = j
        bonus = float(np.ptp(pb.fit)) * pb.n + 1.0 if pb.n else 1.0
        w = pb.fit + bonus * (np.arange(pb.m)[None, :] == da[:, None])
        tol = resolve_gender_tol(self.gender_tol, rules)
        col, self.relaxations_ = solve_soft(
            pb, lambda p: p.spec(w, gender_tol=tol, gender_ref=self.gender_ref), strict=self.strict
        )
        src = np.where(da < 0, "placed", np.where(col == da, "matched", "reconciled"))
        return assignment_frame(pb, col, src)


class OptimalPolicy(Policy):
    """Maximum total fit under the rules, solved exactly (:func:`~mentorlib.matching.solve_assignment`).

    Parameters
    ----------
    scope : {"class", "grade", "school"}, optional
        Students go to mentors of their class (primary default), grade (middle default) or
        anywhere in the school.
    gender_tol : float, "rules" or None
        Each group's female share within this of the school's share (groups of 3 or more).
        Default ``"rules"``: the rulebook's ``gender_tol``; None: no gender constraint.
    gender_ref : {"school", "unit"}
        The share to balance around: the school's, or that of the students each mentor may
        take (the class under class scope). A class whose own share is far from the
        school's may have no grouping within ``gender_tol`` of the school's.
    max_areas : int, optional
        Each group draws from at most this many home areas (家庭住址: home visits and
        gatherings stay near).
    weights : mapping, optional
        Fit weights (:func:`~mentorlib.grouping.fit_scores`).
    noise : float
        Normal noise added to the fit the school sees (0: the fit as measured).
    time_limit : float, optional
        Seconds per solver call.
    strict : bool
        True (default): an infeasible grouping raises InfeasibleError. False: gender balance,
        home areas and the scope are relaxed in the documented order
        (:mod:`mentorlib.grouping.relax`); ``relaxations_`` lists what was relaxed.

    Notes
    -----
    ``max sum fit_sm x_sm`` subject to one mentor per student, ``group_min <= size <=
    group_max`` (every staff member a mentor where the rulebook says so), the scope, the
    gender band and the home-area limit; see :func:`~mentorlib.matching.solve_assignment` for
    the formulation and the algorithms (slot assignment, or the HiGHS MILP with side
    constraints).
    """

    name = "optimal"

    def __init__(
        self,
        scope: str | None = None,
        gender_tol: GenderTol = FROM_RULES,
        gender_ref: str = "school",
        max_areas: int | None = None,
        weights: Mapping[str, float] | None = None,
        noise: float = 0.0,
        time_limit: float | None = None,
        strict: bool = True,
    ):
        self.strict = strict
        self.scope = scope
        self.gender_tol = gender_tol
        self.gender_ref = gender_ref
        self.max_areas = max_areas
        self.weights = weights
        self.noise = noise
        self.time_limit = time_limit

    @property
    def is_stochastic(self) -> bool:
        return self.noise > 0

    def assign(
        self, students: pd.DataFrame, mentors: pd.DataFrame, rules: Rulebook, *, seed: Any = None
    ) -> pd.DataFrame:
        pb = build_problem(students, mentors, rules, weights=self.weights, scope=self.scope)
        w = pb.fit
        if self.noise > 0:
            w = w + as_rng(seed).normal(0.0, self.noise, w.shape)
        tol = resolve_gender_tol(self.gender_tol, rules)
        col, self.relaxations_ = solve_soft(
            pb,
            lambda p: p.spec(
                w,
                gender_tol=tol,
                gender_ref=self.gender_ref,
                max_areas=self.max_areas,
                time_limit=self.time_limit,
            ),
            strict=self.strict,
        )
        return assignment_frame(pb, col, "optimal")


class RegroupPolicy(Policy):
    """The end-of-term adjustment: move only students who asked or sit in low-fit pairs.

    Parameters
    ----------
    max_share : float, optional
        At most this share of students change mentor (default: the rulebook's
        ``max_regroup_share``).
    sound_reasons : sequence of str, optional
        Reasons that count (default: ``options.sound_reasons`` of the satisfaction
        codebook: personality, needs_mismatch, too_little_contact).
    low_fit : float, optional
        Students whose fit with their current mentor is below this are low-fit and may also
        move (None: only those who asked).
    min_gain : float
        What staying is worth to a low-fit student: moves of low-fit students must raise
        their total fit by more than ``min_gain`` each (one move may make room for another,
        or for a student who asked).
    scope, weights
        As for :class:`OptimalPolicy`.
    gender_tol : float, "rules" or None
        No group may end further from the reference female share than ``gender_tol`` or, if
        it is already further, than it is now (groups of 3 or more). Default: the rulebook's.
    gender_ref : {"school", "unit"}
        As for :class:`OptimalPolicy`.
    strict : bool
        As for :class:`OptimalPolicy` (the regrouping cap is never relaxed).

    Notes
    -----
    PROGRAMME.md 分组 4. Everybody else keeps their mentor. Among the candidates the exact
    assignment maximises, lexicographically, (1) the number of students who asked with a
    sound reason and move, (2) the total fit, counting ``min_gain`` for each low-fit student
    who stays, subject to ``changes <= floor(max_share * n)`` (n: students with a current
    mentor), the scope, and group sizes and gender balance no worse than now
    (``min(group_min, size now) <= size <= max(group_max, size now)``). ``source`` is
    ``kept``, ``moved`` (asked), ``moved_low_fit`` or ``placed`` (had no current mentor).
    """

    name = "regroup"
    adjusts = True

    def __init__(
        self,
        max_share: float | None = None,
        sound_reasons: Sequence[str] | None = None,
        low_fit: float | None = 0.1,
        min_gain: float = 0.2,
        scope: str | None = None,
        gender_tol: GenderTol = FROM_RULES,
        gender_ref: str = "school",
        weights: Mapping[str, float] | None = None,
        strict: bool = True,
    ):
        self.strict = strict
        self.max_share = max_share
        self.sound_reasons = sound_reasons
        self.low_fit = low_fit
        self.min_gain = min_gain
        self.scope = scope
        self.gender_tol = gender_tol
        self.gender_ref = gender_ref
        self.weights = weights

    def _askers(self, students: pd.DataFrame, has: np.ndarray) -> np.ndarray:
        sound = set(
            self.sound_reasons
            if self.sound_reasons is not None
            else load_codebook("satisfaction").options.get("sound_reasons", ())
        )
        n = len(students)
        want = (
            students["want_change"].fillna(False).astype(bool).to_numpy()
            if "want_change" in students
            else np.zeros(n, dtype=bool)
        )
        reason = (
            students["reason"].astype(str).to_numpy(dtype=object)
            if "reason" in students
            else np.full(n, "", dtype=object)
        )
        return has & want & np.isin(reason, list(sound))

    def _share(self, rules: Rulebook) -> float:
        share = rules.max_regroup_share if self.max_share is None else float(self.max_share)
        if not 0 <= share <= 1:
            raise InputError(f"max_share must be between 0 and 1, got {share}")
        return share

    def _gender_band(
        self, pb: Problem, cur: np.ndarray, has: np.ndarray, n0: np.ndarray
    ) -> tuple[np.ndarray | None, float | np.ndarray]:
        """(tolerance per mentor or None, reference share): no group ends worse than now."""
        r = pb.ratio(self.gender_ref)
        tol = resolve_gender_tol(self.gender_tol, pb.rules)
        if tol is None or not gender_applies(pb.rules):
            return None, r
        f0 = np.bincount(cur[has], weights=pb.female[has].astype(float), minlength=pb.m)
        dev = np.where(n0 >= 3, np.abs(f0 / np.maximum(n0, 1) - r), 0.0)
        return np.maximum(tol, dev + 1e-9), r

    def _spec(
        self,
        pb: Problem,
        cur: np.ndarray,
        ask: np.ndarray,
        low: np.ndarray,
        n0: np.ndarray,
        tol: np.ndarray | None,
        r: float | np.ndarray,
        share: float,
    ) -> AssignmentSpec:
        """The exact adjustment problem on ``pb``'s allowed pairs (PROGRAMME.md 分组 4)."""
        has = cur >= 0
        cand = ask | low
        ok = pb.allowed.copy()
        fixed = has & ~cand
        ok[fixed] = False
        ok[fixed, cur[fixed]] = True
        ok[cand, cur[cand]] = True
        moves = np.zeros_like(ok)
        moves[cand] = ok[cand]
        moves[cand, cur[cand]] = False
        span = float(np.ptp(pb.fit)) if pb.fit.size else 0.0
        gain = max(float(self.min_gain), 0.0)
        w = pb.fit.copy()
        w[ask] += ((span + gain) * max(int(cand.sum()), 1) + 1.0) * moves[ask]
        w[low, cur[low]] += gain
        return AssignmentSpec(
            w=w,
            ok=ok,
            lo=np.where(pb.required, np.minimum(pb.lower, n0), pb.lower),
            hi=np.maximum(pb.upper, n0),
            req=pb.required,
            female=pb.female,
            tol=tol,
            ratio=r,
            moves=moves,
            max_moves=math.floor(share * int(has.sum()) + 1e-9),
        )

    def assign(
        self, students: pd.DataFrame, mentors: pd.DataFrame, rules: Rulebook, *, seed: Any = None
    ) -> pd.DataFrame:
        pb = build_problem(students, mentors, rules, weights=self.weights, scope=self.scope)
        cur = pb.current()
        has = cur >= 0
        share = self._share(rules)
        ask = self._askers(students, has)
        fit_cur = np.where(has, pb.fit[np.arange(pb.n), np.maximum(cur, 0)], np.inf)
        low = has & ~ask & (fit_cur < self.low_fit if self.low_fit is not None else False)
        n0 = np.bincount(cur[has], minlength=pb.m)
        tol, r = self._gender_band(pb, cur, has, n0)

        def spec_for(p: Problem) -> AssignmentSpec:
            return self._spec(p, cur, ask, low, n0, tol, r, share)

        col, self.relaxations_ = solve_soft(pb, spec_for, strict=self.strict)
        src = np.where(
            ~has,
            "placed",
            np.where(col == cur, "kept", np.where(ask, "moved", "moved_low_fit")),
        )
        return assignment_frame(pb, col, src)


#: Policy name (as on the command line) -> class.
POLICIES: dict[str, type[Policy]] = {
    cls.name: cls
    for cls in (
        RecordedPolicy,
        ClassDefaultPolicy,
        RandomPolicy,
        TwoWayPolicy,
        OptimalPolicy,
        RegroupPolicy,
    )
}


def make_policy(name: str | Policy, **params: Any) -> Policy:
    """A policy by its command-line name (:data:`POLICIES`), with parameters.

    Examples
    --------
    >>> make_policy("random", gender_tol=0.2)
    RandomPolicy(scope=None, gender_tol=0.2, gender_ref='school', strict=True)
    """
    if isinstance(name, Policy):
        return name
    try:
        cls = POLICIES[name]
    except KeyError:
        raise InputError(
            f"unknown policy {name!r}: expected one of {', '.join(POLICIES)}"
        ) from None
    bad = set(params) - set(cls.param_names())
    if bad:
        raise InputError(
            f"policy {name!r} takes no parameter(s) {sorted(bad)}; it takes "
            f"{cls.param_names() or 'none'}"
        )
    return cls(**params)
