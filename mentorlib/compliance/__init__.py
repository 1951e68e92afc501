"""Process compliance: the programme's records checked against its rulebook.

The activity table of ``PROGRAMME.md`` says what every mentor must do (talk with each student
every month, a three-party communication a month, two group-counselling sessions a term ...);
the targets say who must take part (100% of staff, 100% of students) and how much regrouping is
allowed (at most ``max_regroup_share``). This module measures each rule on one school year of a processed study,
school-wide, by month, by grade and by mentor, and says whether the target was met.

Modules: :mod:`~mentorlib.compliance.indicators` (which indicators a rulebook asks for, their
targets and the pass rule), :mod:`~mentorlib.compliance.measure` (the counting),
:mod:`~mentorlib.compliance.unmeasured` (the rules the year's records cannot measure),
:mod:`~mentorlib.compliance.result` (:class:`ComplianceReport`) and
:mod:`~mentorlib.compliance.figures` (the grade x month summary and the mentor heatmap).

Entry points
------------
:func:`compliance_report`
    One year: a :class:`ComplianceReport` (indicators, by_month, by_grade, by_grade_month,
    by_mentor, heatmap).
:func:`compliance_trend`
    Every year of the study: one row per indicator and year (for the three-year pilot review).
:func:`mentor_by_month`
    Who mentors whom in each school month (the base every per-student rule is counted on).

Definitions
-----------
School months
    ``calendar.year_months(year)``: September-January (term 1) and March-June (term 2). A
    record dated outside them (February, the summer) counts for no monthly rule.
The mentor of a student in a month
    The assignment row in force: each row of the year applies from its first month (the first
    month of its term, or the month of its ``start_date`` if later) until a later row replaces
    it. With the canonical rows (term 1 for everyone, term 2 only for changes) this is the
    term-1 mentor in term-1 months and, after a term-2 regroup row, the new mentor in term-2
    months. A student with no row in force that month has no mentor that month.
Which records count
    A per-student record (talk, three-party, parent call, student report, home visit) counts
    for a student-month when its mentor is the student's mentor that month, or is not recorded;
    a record made by another staff member does not count. Mentor-level records
    (subject-teacher exchange, group counselling) count for the mentor who made them.
Roster
    Primary: every student of the year's ``students`` table. Middle: the nominated mentees
    (``students.mentee``). Students with an assignment but not on the roster are counted in
    the per-student rules and noted.

Indicators (code, value, denominator ``n``; targets from :mod:`mentorlib.rules`)
    ``staff_coverage``
        Share of staff in the rulebook's mentor roles who mentor at least one student in some
        school month. ``n`` = those staff. Primary target 1.0 ("100% of staff are mentors").
        Middle school: the class and subject teachers of a grade (staff with a grade); only
        1-2 nominated students per mentor, so not every teacher mentors: no target.
    ``student_coverage``
        Share of roster students with a mentor in at least one school month. ``n`` = roster
        students (primary: all students; middle: the nominated mentees). Target 1.0.
    ``group_size``
        Share of mentors whose group size is within ``[group_min, group_max]`` in every term
        they mentor; a group's size in a term is the number of distinct students the mentor
        mentors in any month of that term. ``n`` = mentors. Target 1.0.
    ``training_hours``
        Share of mentors with ``training_hours >= rules.training_hours`` on the year's staff
        roster. A mentor without a record counts as not meeting it. Target 1.0.
    ``certified``
        Share of mentors with ``certified`` true (missing counts as not certified). Target 1.0.
    ``talk``, ``three_party``, ``parent_call``, ``student_report``
        Share of student-months (students with a mentor that month) with at least the monthly
        number the rulebook asks (``talks_per_month`` for talks). ``n`` = student-months.
    ``subject_exchange``
        Share of mentor-months (mentors with at least one student that month) with at least
        ``subject_exchanges_per_month`` exchanges. ``n`` = mentor-months.
    ``group_counselling``
        Share of mentor-terms with at least ``group_counselling_per_term`` sessions dated in the
        term (``calendar.term_bounds``). ``n`` = mentor-terms.
    ``home_visit``
        Share of mentees (students with a mentor in some month of the year) with at least
        ``home_visits_per_year`` visits dated in the school year. ``n`` = mentees.
    ``mood_participation``
        Sum of ``days_recorded`` over the sum of ``school_days``, over every roster
        student-month ("every student, every day"); a student-month without a mood row counts
        as 0 days recorded out of the calendar's school days. ``n`` = student-months.
    ``case_conference``
        Case conferences (个案分析, :mod:`~mentorlib.compliance.cases`; only when the rulebook's
        ``case_conferences`` is set: middle school): the share of the students who needed one
        (a reliable decline in at least one dimension, or a focus group) named in a
        case-conference record of the year. ``n`` = those students. No target (the plan says
        "held regularly"). Missing, with the note "not available: the records name no
        student", when the records name no student. The count of conferences by grade and
        month is :attr:`ComplianceReport.case_conferences`.
    ``regroup_share``
        The largest share of students who changed mentor in one adjustment of the year: at
        the start of the year (term-1 rows with ``regroup`` true, over the students with a
        term-1 row) and in term 2 (students whose term-2 row names a mentor other than their
        term-1 mentor, over the students with a term-1 mentor). ``n`` = the denominator of
        the larger. Target ``max_regroup_share``; passed when ``value <= target``.

    Every other indicator passes when ``value >= target``: a target of 1.0 means the rule
    held in every unit (student-month, mentor ...) counted. Indicators whose rule the
    level's rulebook does not have (0, None or False) are left out; ``passed`` is missing
    when there is no target or no unit to count.

Not measured
    A rule whose records the year does not have at all (no groups source, no staff roster, no
    activity record of its kind, no mood chart) is not measured: value and ``passed``
    missing, ``n`` 0, ``unmeasured`` the reason (:mod:`~mentorlib.compliance.unmeasured`).
    It is neither met nor not met, never 0%: an absent log cannot say the work was not done.
    Where the records exist, a unit without one counts as the rule not met.

Privacy
-------
``by_month``, ``by_grade`` and ``by_grade_month`` carry ``n_students`` (the distinct students
a cell describes; for mentor-level rules the students of the mentors counted) and are passed through
:func:`mentorlib.privacy.suppress_small_cells`: a cell describing fewer than ``min_cell``
students (the rulebook's ``min_cell``) has its value, pass flag and counts blanked (``suppressed`` true). Suppression is
primary only (see that module). ``by_mentor`` identifies mentors by staff ID and is internal
(:attr:`ComplianceReport.INTERNAL`); the public heatmap has no mentor label and blanks the
cells of mentors with fewer than ``min_cell`` mentees that month (every middle-school cell:
groups of 1-2).

Examples
--------
>>> from mentorlib.synth import generate, SynthParams
>>> from mentorlib.data import from_synth
>>> P = from_synth(generate(SynthParams(n_students=200, n_years=1, seed=5)))
>>> rep = compliance_report(P, 2023)
>>> rep.indicators["indicator"].tolist()[:4]
['staff_coverage', 'student_coverage', 'group_size', 'training_hours']
>>> float(rep.indicators.set_index("indicator").loc["student_coverage", "value"])
1.0
"""

from .cases import CASE_COUNT_COLUMNS, case_conference_counts, case_conference_coverage
from .indicators import (
    INDICATOR_COLUMNS,
    INDICATORS,
    MONTHLY,
    STUDENT_INDICATORS,
    STUDENT_MONTHLY,
    required_indicators,
)
from .measure import case_conference_table, compliance_report, compliance_trend, mentor_by_month
from .result import ComplianceReport

__all__ = [
    "CASE_COUNT_COLUMNS",
    "INDICATORS",
    "INDICATOR_COLUMNS",
    "MONTHLY",
    "STUDENT_INDICATORS",
    "STUDENT_MONTHLY",
    "ComplianceReport",
    "case_conference_counts",
    "case_conference_coverage",
    "case_conference_table",
    "compliance_report",
    "compliance_trend",
    "mentor_by_month",
    "required_indicators",
]
