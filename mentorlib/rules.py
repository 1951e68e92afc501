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

from dataclasses import dataclass, field, replace

#: Development dimensions measured by the assessment, in report order.
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "primary": ("moral", "academic", "psychological", "habits"),
    "middle": ("moral", "academic", "psychological", "life"),
}

#: Chinese labels of the dimensions (the seeds' own words).
DIMENSION_LABELS_ZH: dict[str, dict[str, str]] = {
    "primary": {
        "moral": "思想引领",
        "academic": "学业支持",
        "psychological": "心理关怀",
        "habits": "习惯养成",
    },
    "middle": {
        "moral": "思想引导",
        "academic": "学业辅导",
        "psychological": "心理疏导",
        "life": "生活指导",
    },
}

DIMENSION_LABELS_EN: dict[str, str] = {
    "moral": "moral and ideological",
    "academic": "academic",
    "psychological": "psychological",
    "habits": "habits",
    "life": "life guidance",
}

#: Staff roles (canonical code -> Chinese label).
ROLES_ZH: dict[str, str] = {
    "principal": "校长",
    "admin": "行政人员",
    "class_teacher": "班主任",
    "subject_teacher": "科任教师",
    "support": "教辅人员",
}

#: Activity kinds in the process records (canonical code -> Chinese label).
ACTIVITIES_ZH: dict[str, str] = {
    "talk": "谈心谈话",
    "student_report": "学生汇报",
    "three_party": "三方沟通",
    "parent_call": "家长电话",
    "home_visit": "家访",
    "subject_exchange": "学科教师交流",
    "group_counselling": "团体辅导",
    "case_conference": "个案分析",
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
    progress_target : float
        Share of students making significant progress each year (0.85).
    progress_dimensions : int
        "in 1-2 development dimensions": the default k, at least this many.
    max_regroup_share : float
        At most this share of students change mentor in one adjustment (0.15).
    award_per_mentee_term : float
        Mentor effectiveness award pool, yuan per mentee per term (middle 250).
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
    progress_target: float = 0.85
    progress_dimensions: int = 1
    max_regroup_share: float = 0.15
    award_per_mentee_term: float = 250.0
    dimensions: tuple[str, ...] = field(default=())

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
    ),
}


def rulebook(level: str) -> Rulebook:
    """Return the rulebook of a school level (``"primary"`` or ``"middle"``).

    Raises
    ------
    ValueError
        For an unknown level, naming the valid ones.
    """
    try:
        return _RULEBOOKS[level]
    except KeyError:
        raise ValueError(f"unknown level {level!r}: expected 'primary' or 'middle'") from None


#: School calendar: months of each term (term 1 = autumn, term 2 = spring).
TERM_MONTHS: dict[int, tuple[int, ...]] = {1: (9, 10, 11, 12, 1), 2: (3, 4, 5, 6)}


def term_of_month(month: int) -> int:
    """Term (1 autumn, 2 spring) of a calendar month: September-January is term 1."""
    return 1 if month in (9, 10, 11, 12, 1) else 2


def school_year_of(date) -> int:
    """The school year (named by its first calendar year) a date falls in: Sep-Aug."""
    return date.year if date.month >= 9 else date.year - 1
