"""Labels of the case conferences (个案分析, issue 15 item 5), every one a ``(zh, en)`` pair.

They live beside :mod:`mentorlib.labels` (which is at its 800-line limit) and follow its
conventions: :class:`mentorlib.labels.Lang` picks a side.
"""

from __future__ import annotations

from .labels import Pair

__all__ = ["CASE_CONFERENCE_INDICATOR", "CASE_CONFERENCE_RULE", "CASE_CONFERENCE_TEXTS"]

#: The compliance indicator: the share of the students who needed a case conference that had one.
CASE_CONFERENCE_INDICATOR: Pair = (
    "需个案分析学生的覆盖率",
    "Students needing a case conference who had one",
)

#: The rule in words (seed 001: "年级组定期组织导师进行个案分析"; no number).
CASE_CONFERENCE_RULE: Pair = ("年级组定期组织", "held regularly by the grade group")

#: Sentences and headings of the reports' case-conference blocks.
CASE_CONFERENCE_TEXTS: dict[str, Pair] = {
    "heading": ("个案分析", "Case conferences"),
    "counts_caption": ("各年级各月个案分析次数", "Case conferences by grade and month"),
    "grade": ("年级", "Grade"),
    "month": ("月份", "Month"),
    "total": ("合计", "Total"),
    "unknown_grade": ("年级不详", "grade unknown"),
    "none_held": ("本学年没有个案分析记录。", "No case conference was recorded this year."),
    "needing": (
        "需要个案分析的学生：本学年至少一个维度可靠退步（可靠变化指数）或属于重点关注群体"
        "（转学、单亲、重组家庭、留守）的受导学生。",
        "Students needing a case conference: mentees with a reliable decline in at least one "
        "dimension this year (reliable change index) or in a focus group (transfer, "
        "single-parent, reconstituted family, left-behind).",
    ),
    "not_available": (
        "需个案分析学生的覆盖率：无法计算，记录未写明所分析的学生。"
        "若希望报告覆盖率，请在个案分析记录中填写学生学籍号。",
        "Coverage of the students needing a case conference: not available, the records name "
        "no student. Record the student ID in each case-conference row to report it.",
    ),
}
