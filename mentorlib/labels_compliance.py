"""Labels of the compliance indicators that could not be measured, every one a ``(zh, en)``
pair.

They live beside :mod:`mentorlib.labels` (which is at its 800-line limit) and follow its
conventions: :class:`mentorlib.labels.Lang` picks a side. The reason codes are those of
:mod:`mentorlib.compliance.unmeasured`.
"""

from __future__ import annotations

from .labels import Pair

__all__ = ["UNMEASURED_REASONS", "UNMEASURED_TEXTS", "UNMEASURED_VERDICT"]

#: The verdict of an indicator with no records for the year: neither met nor not met.
UNMEASURED_VERDICT: Pair = ("无记录，未评估", "no records, not assessed")

#: Why an indicator could not be measured (``ComplianceReport.indicators["unmeasured"]``).
UNMEASURED_REASONS: dict[str, Pair] = {
    "no_roster": ("无学生名册", "no student roster"),
    "no_groups": ("无导师分组表", "no mentor groups"),
    "no_staff": ("无教职工名册", "no staff roster"),
    "no_activity_records": ("无活动记录", "no activity records"),
    "no_activity_kind": ("无该项活动记录", "no records of this activity"),
    "no_mood_records": ("无心情晴雨表记录", "no mood-chart records"),
}

#: Sentences of the reports about the indicators not measured ({items}: "name (reason)"; {n}:
#: how many).
UNMEASURED_TEXTS: dict[str, Pair] = {
    "items": (
        "本学年无记录、未评估的过程指标（不计为达标或未达标）：{items}。",
        "Process indicators with no records this year, not assessed (neither met nor not "
        "met): {items}.",
    ),
    "none_missed": (
        "有记录且有明确目标的过程指标全部达到目标。",
        "Every process indicator with a target and records was met.",
    ),
    "count": ("另有{n}项无记录，未评估", "{n} more with no records, not assessed"),
}
