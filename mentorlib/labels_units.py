"""What the n of every rate counts (issue 16 item 4), each a ``(zh, en)`` pair.

One home for the count base of every indicator the reports print: a process indicator's n
counts students, student-months, mentors, mentor-months or mentor-terms (as
:mod:`mentorlib.compliance.measure` builds its units); the satisfaction survey's whole-year
row counts answers of both terms (student-terms), not students. Beside
:mod:`mentorlib.labels` (at its 800-line limit); :class:`mentorlib.labels.Lang` picks a side.
And :func:`en_noun`, a count with its English noun, singular or plural, for the reports and
the command line alike (here, not among the report formatters, so ``check`` loads no report).
"""

from __future__ import annotations

from .labels import Pair

__all__ = [
    "ASSESSED_MENTEES",
    "COUNT_UNIT_HEADER",
    "COUNT_UNITS",
    "RESPONSES_HEADER",
    "SATISFACTION_WHOLE_YEAR",
    "en_noun",
]

#: The counting unit of each indicator's n (indicator or KPI key -> pair).
COUNT_UNITS: dict[str, Pair] = {
    "progress": ("学生", "students"),
    "satisfaction": ("学生·学期", "student-terms"),
    "want_change": ("学生·学期", "student-terms"),
    "staff_coverage": ("教职工", "staff"),
    "student_coverage": ("学生", "students"),
    "group_size": ("导师", "mentors"),
    "training_hours": ("导师", "mentors"),
    "certified": ("导师", "mentors"),
    "talk": ("学生·月", "student-months"),
    "three_party": ("学生·月", "student-months"),
    "parent_call": ("学生·月", "student-months"),
    "student_report": ("学生·月", "student-months"),
    "subject_exchange": ("导师·月", "mentor-months"),
    "group_counselling": ("导师·学期", "mentor-terms"),
    "home_visit": ("受导学生", "mentees"),
    "case_conference": ("学生", "students"),
    "mood_participation": ("学生·月", "student-months"),
    "regroup_share": ("学生", "students"),
}

#: The mentees a mentor's effect is estimated from: those with both waves of the assessment
#: (fewer than the students assigned, which the group-size indicator counts).
ASSESSED_MENTEES: Pair = ("前后测齐全的受导学生", "mentees assessed at both waves")

#: The header of the column naming the unit an n counts.
COUNT_UNIT_HEADER: Pair = ("计数单位", "Unit counted")

#: The satisfaction table's count column: one answer per student and term.
RESPONSES_HEADER: Pair = ("回答人次", "Responses")

#: The satisfaction table's pooled row: both terms' answers, a student counted once a term.
SATISFACTION_WHOLE_YEAR: Pair = (
    "全学年（两学期合计，学生·学期）",
    "whole year (both terms; student-terms)",
)


def en_noun(n: int, singular: str, plural: str | None = None) -> str:
    """A count with its noun in English: "1 grade", "3 grades", "1,024 rows" (``plural``: an
    irregular one).

    >>> en_noun(1, "row"), en_noun(1024, "row"), en_noun(2, "class", "classes")
    ('1 row', '1,024 rows', '2 classes')
    """
    return f"{n:,} {singular if n == 1 else (plural or singular + 's')}"
