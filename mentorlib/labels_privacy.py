"""Report texts of disclosure control: what a withheld number's mark means, said once.

Each a ``(zh, en)`` pair, beside :mod:`mentorlib.labels` (at its 800-line limit);
:class:`mentorlib.labels.Lang` picks a side. Numbers come in as fields (``{min_cell}``), from
the study's rules.
"""

from __future__ import annotations

from .labels import Pair

__all__ = ["CLEANING_TEXTS", "VERDICT_WITHHELD"]

#: A share withheld by the disclosure document, and its verdict with it.
VERDICT_WITHHELD: dict[str, Pair] = {
    # under a table whose withheld rates and verdicts print "—"
    "note": (
        "“—”：该比例会直接或经相减透露少于{min_cell}名学生的情况，按隐私规则不报告，其判定（是否达成目标）也不报告。",
        "'—': the rate would reveal, directly or by subtraction, fewer than {min_cell} "
        "students, so neither it nor its verdict on the target is reported (privacy rule).",
    ),
    # the robustness sentence when some combinations are withheld
    "some": (
        "{n}种口径的比例与判定按隐私规则不报告；其余{m}种口径下的判定：{verdicts}。",
        "{n} of the {total} combinations of definition and missing-data rule are withheld "
        "for privacy (rate and verdict); the other {m}: {verdicts}.",
    ),
    "all": (
        "各口径的比例与判定均按隐私规则不报告。",
        "Every combination's rate and verdict is withheld for privacy.",
    ),
}

#: The cleaning table of the annual summary (rows per source kind, small counts withheld).
CLEANING_TEXTS: dict[str, Pair] = {
    "note": (
        "“<{min_cell}”：少于{min_cell}行（含0）；“—”：为使“<{min_cell}”不能经相减（原始行数 = 保留 + 合并 + 隔离）"
        "算出而不报告。",
        "'<{min_cell}': fewer than {min_cell} rows (0 included); '—': withheld so that a "
        "'<{min_cell}' cannot be worked out by subtraction (rows in = kept + merged + "
        "quarantined).",
    ),
}
