"""The programme's rulebooks: every number in ``PROGRAMME.md`` that the workbench measures.

A study's ``level`` (``"primary"`` for 全员育人导师制, ``"middle"`` for 学生成长导师制) picks the
rulebook. Every stage (the generator, the cleaner's ranges, compliance, grouping, reports) reads
its targets from here, so a school that changes a rule changes it in one place.

Examples
--------
>>> rulebook("primary").group_max
8
>>> rulebook("middle").talks_per_month
2
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from .calendar import (  # re-exported: the calendar lives in mentorlib.calendar
    TERM_MONTHS,
    school_year_of,
    term_of_month,
)
from .errors import InputError
from .labels import (  # re-exported: the labels live in mentorlib.labels
    ACTIVITIES_ZH,
    DIMENSION_LABELS_EN,
    DIMENSION_LABELS_ZH,
    ROLES_ZH,
)

__all__ = [
    "ACTIVITIES_ZH",
    "AWARD_COMPONENTS",
    "BOUNDS",
    "DEFAULT_SEED",
    "DIMENSIONS",
    "DIMENSION_LABELS_EN",
    "DIMENSION_LABELS_ZH",
    "FOCUS_GROUPS",
    "ROLES_ZH",
    "Rulebook",
    "TERM_MONTHS",
    "rule_names",
    "rulebook",
    "school_year_of",
    "term_of_month",
]

#: Development dimensions measured by the assessment, in report order.
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "primary": ("moral", "academic", "psychological", "habits"),
    "middle": ("moral", "academic", "psychological", "life"),
}

#: Focus groups that get extra attention (student-table boolean columns or family values).
FOCUS_GROUPS: tuple[str, ...] = ("transfer", "single_parent", "reconstituted", "left_behind")


@dataclass(frozen=True)
class Rulebook:
    """The numeric rules of one school level.

    Attributes
    ----------
    level : {"primary", "middle"}
    grades : tuple of int
        Grades that take part.
    group_min, group_max : int
        Students per mentor (primary 5-8, middle 1-2).
    all_students_mentored : bool
        Primary: every student has a mentor. Middle: nominated students only.
    mentor_roles : tuple of str
        Roles eligible (and, in primary, required) to mentor.
    training_hours : float or None
        Hours of training before serving (primary 40; middle not stated).
    talks_per_month : int
        One-to-one talks per student per month (primary 1, middle 2).
    three_party_per_month : int
        Three-party communications per student per month (primary 1).
    parent_calls_per_month : int
        Parent phone calls per mentee per month (middle 1).
    home_visits_per_year : int
        Home visits per mentee per school year (middle 1).
    student_reports_per_month : int
        Reports from the student to the mentor per month (middle 1).
    subject_exchanges_per_month : int
        Mentor / subject-teacher exchanges per month (primary 1).
    group_counselling_per_term : int
        Group counselling sessions per group per term (primary 2).
    mood_chart : bool
        Daily mood chart kept (primary).
    target_share : float
        Share of students making significant progress each year (0.85).
    k_dimensions : int
        "in 1-2 development dimensions": a student progresses with significant improvement in at
        least this many dimensions (1).
    max_regroup_share : float
        At most this share of students change mentor in one adjustment (0.15).
    award_per_mentee_term : float
        Mentor effectiveness award pool, yuan per mentee per term (middle 250).
    award_bands : tuple of (str, float)
        The school's effectiveness bands, best first, with the share of mentors in each
        (A 20%, B 30%, C 30%, D 20%: our reading of "按正态分布", not stated in the seed).
        A study sets its own in study.toml: ``award_bands = {A = 0.2, B = 0.3, ...}``.
    award_multipliers : tuple of (str, float)
        Award weight of each band (A 1.5, B 1.2, C 0.8, D 0.5; our assumption, not stated in
        the seed), the same band names as ``award_bands``, never higher for a lower band.
    min_cell : int
        Reports suppress any cell describing fewer than this many students (5).
    rci_z : float
        Critical value of the reliable change index: improvement when RCI > rci_z (1.96,
        Jacobson & Truax 1991).
    mid : float
        The minimal important difference in pre-test SDs, the alternative definition (0.5,
        Norman, Sloan & Wyrwich 2003).
    true_delta : float
        The estimated share of students who truly progressed counts a true (latent) change
        above this many SDs of the pre-test population's latent trait (0.5, as ``mid``).
    alpha : float
        Error rate of every interval and test (0.05: 95% intervals).
    ci_method : {"wilson", "clopper-pearson"}
        Interval of the school's proportion (Wilson 1927 by default).
    min_answered : float
        A dimension score is computed only when at least this share of its items is answered
        (0.8).
    gender_tol : float
        Grouping: every group's share of girls stays within this of the school's share (0.25).
    rlrt_min_mentees : float
        The test of the mentor variance uses the exact restricted likelihood-ratio test by
        simulation (Crainiceanu & Ruppert 2004) when mentors have fewer mentees than this on
        average (3), the 50:50 chi-square mixture otherwise.
    rlrt_n_sim : int
        Draws of that simulation (10,000, as R's RLRsim).
    award_weights : tuple of (str, float)
        Weights of the award scheme's three components, ``satisfaction`` (the mentees' rating
        of the mentor), ``progress`` (their exam progress) and ``points`` (their reward and
        penalty points), adding up to 1. The seed (001, section 5.2) names the three components
        but gives no weights: equal thirds is our assumption.
    mentee_reward_k : int
        Mentees who "progress markedly" (进步显著, seed 001 section 5.1, which gives no
        threshold) are those the headline rule (reliable change, ``rci_z``) finds improved in
        at least this many dimensions (2: our assumption, one more than the headline's
        ``k_dimensions``); a study whose ``k_dimensions`` is higher uses that instead.
    show_target : bool
        The reports show ``target_share`` and their verdict on it (primary True: the plan's
        85%; middle False: the middle school's plan sets no numeric target, the reports show the
        mentee vs non-mentee comparison instead). A middle-school study that adopts a target
        sets ``show_target = true`` in ``[rules]``.
    case_conferences : bool
        The grade groups hold case conferences (个案分析, seed 001 section 4: "年级组定期组织导师
        进行个案分析", no number): compliance counts them by grade and month and measures the
        share of the students needing one who had one (:mod:`mentorlib.compliance.cases`).
        Middle True, primary False (seed 000 names case analysis only as training content).
    sim_mc_ratio : float
        The grouping-policy comparison (:func:`mentorlib.grouping.compare`) adds random draws
        until the Monte Carlo standard error of every compared difference is at most this
        share of its interval's half-width (0.1).
    sim_draws_min, sim_draws_max : int
        Draws of that comparison before the first check of its Monte Carlo error (40) and at
        most (400, after which the comparison reports the error it reached).
    sim_assignments : int
        Distinct groupings drawn for a policy with a random part (random groups, noisy
        preferences; 30): later draws reuse them with fresh outcome draws, and the Monte
        Carlo errors treat the draws sharing a grouping as one cluster.
    wide_ratio_fold : float
        A ratio's 95% interval (an odds ratio) whose upper end is more than this many times its
        lower end is called too wide to read, and the notebooks say so beside it (10: an
        interval spanning more than one order of magnitude).
    """

    level: str
    grades: tuple[int, ...]
    group_min: int
    group_max: int
    all_students_mentored: bool
    mentor_roles: tuple[str, ...]
    training_hours: float | None
    talks_per_month: int
    three_party_per_month: int
    parent_calls_per_month: int
    home_visits_per_year: int
    student_reports_per_month: int
    subject_exchanges_per_month: int
    group_counselling_per_term: int
    mood_chart: bool
    target_share: float = 0.85
    k_dimensions: int = 1
    max_regroup_share: float = 0.15
    award_per_mentee_term: float = 250.0
    award_bands: tuple[tuple[str, float], ...] = (("A", 0.2), ("B", 0.3), ("C", 0.3), ("D", 0.2))
    award_multipliers: tuple[tuple[str, float], ...] = (
        ("A", 1.5),
        ("B", 1.2),
        ("C", 0.8),
        ("D", 0.5),
    )
    min_cell: int = 5
    rci_z: float = 1.96
    mid: float = 0.5
    true_delta: float = 0.5
    alpha: float = 0.05
    ci_method: str = "wilson"
    min_answered: float = 0.8
    gender_tol: float = 0.25
    dimensions: tuple[str, ...] = field(default=())
    # issue 14 item 4: the exact test of the mentor variance (see the docstring)
    rlrt_min_mentees: float = 3.0
    rlrt_n_sim: int = 10000
    # issue 15 item 4 (award scheme): component weights and the mentee reward (see docstring)
    award_weights: tuple[tuple[str, float], ...] = (
        ("satisfaction", 1 / 3),
        ("progress", 1 / 3),
        ("points", 1 / 3),
    )
    mentee_reward_k: int = 2
    # issue 15 item 3: the target is shown only where the level's plan sets one
    show_target: bool = True
    # issue 15 item 5: case conferences (个案分析) are a required activity of the level
    case_conferences: bool = False
    # issue 16 item 1: Monte Carlo precision of the grouping-policy comparison (see docstring)
    sim_mc_ratio: float = 0.1
    sim_draws_min: int = 40
    sim_draws_max: int = 400
    sim_assignments: int = 30
    # issue 16 item 6: a ratio's interval wider than this fold is flagged as uninformative
    wide_ratio_fold: float = 10.0

    def with_changes(self, **changes) -> Rulebook:
        """Return a copy with some rules changed (for sensitivity analyses)."""
        return replace(self, **changes)

    @property
    def dimension_labels_zh(self) -> dict[str, str]:
        return DIMENSION_LABELS_ZH[self.level]


_RULEBOOKS = {
    "primary": Rulebook(
        level="primary",
        grades=(1, 2, 3, 4, 5, 6),
        group_min=5,
        group_max=8,
        all_students_mentored=True,
        mentor_roles=("principal", "admin", "class_teacher", "subject_teacher", "support"),
        training_hours=40.0,
        talks_per_month=1,
        three_party_per_month=1,
        parent_calls_per_month=0,
        home_visits_per_year=0,
        student_reports_per_month=0,
        subject_exchanges_per_month=1,
        group_counselling_per_term=2,
        mood_chart=True,
        dimensions=DIMENSIONS["primary"],
    ),
    "middle": Rulebook(
        level="middle",
        grades=(7, 8, 9),
        group_min=1,
        group_max=2,
        all_students_mentored=False,
        mentor_roles=("class_teacher", "subject_teacher"),
        training_hours=None,
        talks_per_month=2,
        three_party_per_month=0,
        parent_calls_per_month=1,
        home_visits_per_year=1,
        student_reports_per_month=1,
        subject_exchanges_per_month=0,
        group_counselling_per_term=0,
        mood_chart=False,
        dimensions=DIMENSIONS["middle"],
        show_target=False,
        case_conferences=True,
    ),
}


#: Rules a study may not override (they define the programme, not a setting).
FIXED = frozenset({"level", "dimensions"})

#: Bounds of the numeric rules a study may set in ``[rules]``: name -> (low, high), inclusive.
BOUNDS: dict[str, tuple[float, float]] = {
    "target_share": (0.01, 0.99),
    "k_dimensions": (1, 4),
    "max_regroup_share": (0.0, 1.0),
    "min_cell": (2, 100),
    "rci_z": (0.5, 5.0),
    "mid": (0.05, 3.0),
    "true_delta": (0.0, 3.0),
    "alpha": (0.001, 0.5),
    "min_answered": (0.1, 1.0),
    "gender_tol": (0.0, 1.0),
    "group_min": (1, 50),
    "group_max": (1, 50),
    "training_hours": (0, 1000),
    "award_per_mentee_term": (0, 100000),
    "rlrt_min_mentees": (0.0, 1000.0),
    "rlrt_n_sim": (200, 1_000_000),
    "mentee_reward_k": (1, 4),
    "sim_mc_ratio": (0.01, 1.0),
    "sim_draws_min": (2, 100_000),
    "sim_draws_max": (2, 100_000),
    "sim_assignments": (1, 100_000),
    "wide_ratio_fold": (1.0, 1e6),
}

#: The award scheme's three components (the keys of ``award_weights``).
AWARD_COMPONENTS: tuple[str, ...] = ("satisfaction", "progress", "points")

CI_METHODS = ("wilson", "clopper-pearson")

#: The one default random seed of every analysis with a random part (the grouping-policy
#: comparison, bootstrap and simulation tests): the library's functions, the CLI's ``--seed``,
#: ``mentorlib demo``'s analyses, ``tools/render_reports.py`` and the notebooks. The reports
#: record the seed they used (methods section). Not a study rule: a study cannot set it.
DEFAULT_SEED = 0


def rule_names() -> tuple[str, ...]:
    """Names a study may set in ``[rules]`` of study.toml (every field but the fixed ones)."""
    return tuple(f.name for f in fields(Rulebook) if f.name not in FIXED)


def rulebook(level: str, overrides: Mapping[str, Any] | None = None) -> Rulebook:
    """The rulebook of a school level, with a study's own rules applied.

    Parameters
    ----------
    level : {"primary", "middle"}
        The school level: 全员育人导师制 (primary) or 学生成长导师制 (middle).
    overrides : mapping, optional
        A study's ``[rules]`` table: rule name -> value (see :func:`rule_names`), e.g.
        ``{"target_share": 0.9, "min_cell": 10}``. Validated: an unknown name, a wrong type or a
        value out of range is an :class:`~mentorlib.errors.InputError` naming the rule.

    Returns
    -------
    Rulebook
        The resolved rules; every stage and every report sentence reads its numbers from it.

    Examples
    --------
    >>> rulebook("primary", {"target_share": 0.9}).target_share
    0.9
    """
    try:
        base = _RULEBOOKS[level]
    except KeyError:
        raise InputError(f"unknown level {level!r}: expected 'primary' or 'middle'") from None
    if not overrides:
        return base
    changes = {name: _checked(base, name, value) for name, value in overrides.items()}
    out = replace(base, **changes)
    if out.group_min > out.group_max:
        raise InputError(f"[rules] group_min ({out.group_min}) exceeds group_max ({out.group_max})")
    if out.k_dimensions > len(out.dimensions):
        raise InputError(
            f"[rules] k_dimensions ({out.k_dimensions}) exceeds the {len(out.dimensions)} "
            "dimensions measured"
        )
    _check_award(out)
    return out


def _check_award(r: Rulebook) -> None:
    """The award scheme's rules agree with one another (one-line errors)."""
    labels = [b for b, _ in r.award_bands]
    mult = dict(r.award_multipliers)
    if sorted(labels) != sorted(mult) or len(set(labels)) != len(labels):
        raise InputError("[rules] award_bands and award_multipliers must name the same bands")
    if any(s <= 0 for _, s in r.award_bands):
        raise InputError("[rules] every band of award_bands needs a positive share")
    if abs(sum(s for _, s in r.award_bands) - 1) > 1e-6:
        raise InputError("[rules] the shares of award_bands must add up to 1")
    for hi, lo in zip(labels, labels[1:], strict=False):
        if mult[lo] > mult[hi]:
            raise InputError(
                f"[rules] award_multipliers pay band {lo} ({mult[lo]:g}) more than the better "
                f"band {hi} ({mult[hi]:g}); bands are listed best first"
            )
    if not any(m > 0 for m in mult.values()):
        raise InputError("[rules] award_multipliers are all zero: nothing would be paid")
    w = dict(r.award_weights)
    if sorted(w) != sorted(AWARD_COMPONENTS) or len(w) != len(r.award_weights):
        raise InputError(
            "[rules] award_weights must weight exactly satisfaction, progress and points, "
            f"got {', '.join(w) or 'none'}"
        )
    if abs(sum(w.values()) - 1) > 1e-6:
        raise InputError(f"[rules] the award_weights must add up to 1, got {sum(w.values()):g}")
    if r.mentee_reward_k > len(r.dimensions):
        raise InputError(
            f"[rules] mentee_reward_k ({r.mentee_reward_k}) exceeds the {len(r.dimensions)} "
            "dimensions measured"
        )


def _checked(base: Rulebook, name: str, value: Any) -> Any:
    """One ``[rules]`` entry, converted to the rule's type and range-checked."""
    allowed = rule_names()
    if name not in allowed:
        near = difflib.get_close_matches(str(name), allowed, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise InputError(f"[rules] unknown rule {name!r}{hint}; rules: {', '.join(allowed)}")
    current = getattr(base, name)
    where = f"[rules] {name} = {value!r}"
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise InputError(f"{where}: expected true or false")
        return value
    if name in ("award_bands", "award_multipliers", "award_weights"):
        return _pairs(value, where)
    if name == "mentor_roles":
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise InputError(f"{where}: expected a list of role codes")
        return tuple(value)
    if name == "grades":
        if not isinstance(value, list | tuple) or not all(type(v) is int for v in value):
            raise InputError(f"{where}: expected a list of grades")
        return tuple(value)
    if name == "ci_method":
        if value not in CI_METHODS:
            raise InputError(f"{where}: expected one of {', '.join(CI_METHODS)}")
        return value
    if isinstance(current, int) and not isinstance(current, bool):
        if type(value) is not int:
            raise InputError(f"{where}: expected a whole number")
    elif type(value) not in (int, float):
        raise InputError(f"{where}: expected a number")
    if not math.isfinite(value):
        raise InputError(f"{where}: expected a finite number")
    lo, hi = BOUNDS.get(name, (0, math.inf))
    if not lo <= value <= hi:
        raise InputError(f"{where}: must be between {lo:g} and {hi:g}")
    return value if isinstance(current, int) else float(value)


def _pairs(value: Any, where: str) -> tuple[tuple[str, float], ...]:
    """A TOML table ``{A = 0.2, B = 0.3}`` (ordered, best first) as (label, number) pairs."""
    if not isinstance(value, Mapping) or not value:
        raise InputError(f"{where}: expected a table such as {{A = 0.2, B = 0.3, ...}}")
    out = []
    for k, v in value.items():
        if type(v) not in (int, float) or not math.isfinite(v) or v < 0:
            raise InputError(f"{where}: band {k!r} needs a non-negative number")
        out.append((str(k), float(v)))
    return tuple(out)
