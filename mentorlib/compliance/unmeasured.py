"""Which compliance indicators cannot be measured in a year, and why.

A rule is judged only on the records that could show it was followed. When the year has none
of them (no groups source to say who mentors whom, no staff roster, no activity record of the
rule's kind, no mood chart), the indicator is *not measured*: its value and pass mark are
missing, ``n`` is 0 and ``unmeasured`` names the reason. It is neither met nor not met: an
absent log says nothing about whether the work was done (the file may be missing, unreadable
or kept elsewhere), so it is never reported as 0%.

Reasons (the codes of ``ComplianceReport.indicators["unmeasured"]``; their words in the
reports: :data:`mentorlib.labels_compliance.UNMEASURED_REASONS`)
    ``no_roster``
        No student on the year's roster (the per-student rules have no one to count).
    ``no_groups``
        No assignment row for the year (no groups source): who mentors whom is unknown, so
        every rule counted on mentors or mentees.
    ``no_staff``
        No staff roster for the year: the staff coverage, training hours and certification.
    ``no_activity_records``
        No activity record dated in the school year: every rule counted from the activity log.
    ``no_activity_kind``
        Activity records exist for the year but none of the rule's kind (a three-party log
        missing from an otherwise complete log is as likely as none held).
    ``no_mood_records``
        No mood-chart row for the year.

A reason earlier in this list is the indicator's code (a roster-only school's talks are
``no_groups``); the note names every reason that applies.
"""

from __future__ import annotations

__all__ = ["ACTIVITY_KIND", "REASON_NOTES", "unmeasured_note", "unmeasured_reasons"]

#: Indicators counted from the activity log -> the activity kind they count.
ACTIVITY_KIND: dict[str, str] = {
    "talk": "talk",
    "three_party": "three_party",
    "parent_call": "parent_call",
    "student_report": "student_report",
    "subject_exchange": "subject_exchange",
    "group_counselling": "group_counselling",
    "home_visit": "home_visit",
    "case_conference": "case_conference",
}

#: Indicators that need the groups (who mentors whom in each month).
_NEEDS_GROUPS = {
    "staff_coverage",
    "student_coverage",
    "group_size",
    "training_hours",
    "certified",
    "talk",
    "three_party",
    "parent_call",
    "student_report",
    "subject_exchange",
    "group_counselling",
    "home_visit",
    "regroup_share",
}

#: Indicators that need the staff roster.
_NEEDS_STAFF = {"staff_coverage", "training_hours", "certified"}

#: Indicators that count roster students.
_NEEDS_ROSTER = {"student_coverage", "mood_participation", "case_conference"}

#: The note (English) of each reason, formatted with ``year`` and ``kind``.
REASON_NOTES: dict[str, str] = {
    "no_roster": "no students on the roster for {year}",
    "no_groups": "no groups source (mentor assignments) for {year}",
    "no_staff": "no staff roster for {year}",
    "no_activity_records": "no activity records for {year}",
    "no_activity_kind": "no {kind} records for {year} (other activities recorded)",
    "no_mood_records": "no mood-chart records for {year}",
}


def unmeasured_reasons(
    need: list[str],
    *,
    roster: bool,
    groups: bool,
    staff: bool,
    kinds: set[str],
    mood: bool,
) -> dict[str, tuple[str, ...]]:
    """The indicators of ``need`` that cannot be measured, each with its reason code.

    Parameters
    ----------
    need : list of str
        The indicator codes the rulebook asks for.
    roster, groups, staff, mood : bool
        Whether the year has roster students, assignment rows, staff rows, mood rows.
    kinds : set of str
        The activity kinds with at least one record dated in the school year.

    Returns
    -------
    dict
        indicator -> the reasons that apply (keys of :data:`REASON_NOTES`, the first is the
        indicator's ``unmeasured`` code); measurable indicators are absent.

    Examples
    --------
    >>> unmeasured_reasons(["talk", "home_visit"], roster=True, groups=True, staff=True,
    ...                    kinds={"talk"}, mood=False)
    {'home_visit': ('no_activity_kind',)}
    """
    out: dict[str, tuple[str, ...]] = {}
    for code in need:
        why = (
            ("no_roster", code in _NEEDS_ROSTER and not roster),
            ("no_groups", code in _NEEDS_GROUPS and not groups),
            ("no_staff", code in _NEEDS_STAFF and not staff),
            ("no_activity_records", code in ACTIVITY_KIND and not kinds),
            (
                "no_activity_kind",
                code in ACTIVITY_KIND and bool(kinds) and ACTIVITY_KIND[code] not in kinds,
            ),
            ("no_mood_records", code == "mood_participation" and not mood),
        )
        reasons = tuple(r for r, applies in why if applies)
        if reasons:
            out[code] = reasons
    return out


def unmeasured_note(reasons: tuple[str, ...], *, year: int, code: str) -> str:
    """The note (English) of an indicator not measured: every reason that applies.

    >>> unmeasured_note(("no_groups", "no_activity_records"), year=2024, code="talk")
    'not measured: no groups source (mentor assignments) for 2024; no activity records for 2024'
    """
    kind = ACTIVITY_KIND.get(code, code).replace("_", " ")
    return "not measured: " + "; ".join(
        REASON_NOTES[r].format(year=year, kind=kind) for r in reasons
    )
