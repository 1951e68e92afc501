"""Labels of the award scheme's report parts (issue 15 item 4), every one a ``(zh, en)`` pair.

They live beside :mod:`mentorlib.labels` (which is at its 800-line limit) and follow its
conventions: :class:`mentorlib.labels.Lang` picks a side. Sentences with numbers are built in
:mod:`mentorlib.report.sections_award` (every number from the analysis).
"""

from __future__ import annotations

from .labels import Pair

__all__ = ["AWARD_ABSENT", "AWARD_HEADING", "AWARD_REVIEW", "AWARD_SOURCES"]

#: The heading of the award part (annual summary and review).
AWARD_HEADING: Pair = ("导师学期成效奖", "The mentor award")

#: Why the award part has no table, one sentence each, with what to set.
AWARD_ABSENT: dict[str, Pair] = {
    "not_set": (
        "本研究未设导师成效奖方案（study.toml 的 [rules] 中 award_per_mentee_term 为 0），"
        "因此不计算成效奖；如学校按方案发放，请在 [rules] 中设定 award_per_mentee_term"
        "（每学期每名受导学生的金额，元），并按学校方案设定 award_bands、award_multipliers、"
        "award_weights。",
        "This study sets no mentor award scheme (award_per_mentee_term is 0 in study.toml's "
        "[rules]), so no award is computed; to compute it, set award_per_mentee_term (yuan per "
        "mentee per term) in [rules], with award_bands, award_multipliers and award_weights as "
        "the school's scheme has them.",
    ),
    "missing_tables": (
        "本学年的导师成效奖无法计算：缺少评分所需的{tables}；请在 study.toml 中列出这些来源"
        "（kind = {kinds}）。",
        "The mentor award cannot be computed this year: the {tables} the scores need are "
        "missing; list these sources in study.toml (kind = {kinds}).",
    ),
    "none_scored": (
        "本学年的导师成效奖无法计算：没有导师可以评分（受导学生缺少学生评价、成绩或奖惩记录）；"
        "请核对这些来源中的学生能否与导师分组对应。",
        "The mentor award cannot be computed this year: no mentor could be scored (the mentees "
        "have no rating, exam or reward records); check that the students of these sources "
        "match the mentor groups.",
    ),
    "no_mentor_report": (
        "本学年的导师成效奖无法计算：导师效应分析未能完成（原因见数据说明），成效奖依赖其评分；"
        "请核对导师分组与发展性评价数据。",
        "The mentor award cannot be computed this year: the mentor analysis could not be run "
        "(the data notes say why) and the award's scores rely on it; check the mentor groups "
        "and the assessment data.",
    ),
}

#: The scored sources of the award, in the order of the scheme's components.
AWARD_SOURCES: dict[str, Pair] = {
    "satisfaction": ("学生评价（satisfaction）", "student ratings (satisfaction)"),
    "exams": ("成绩（exams）", "exam scores (exams)"),
    "rewards": ("奖惩记录（rewards）", "reward and penalty records (rewards)"),
}

#: The pilot review's award part.
AWARD_REVIEW: dict[str, Pair] = {
    "caption": ("各学年导师成效奖的等级分布", "The mentor award by band, each year"),
    "year": ("学年", "School year"),
    "band": ("等级", "Band"),
    "n_mentors": ("导师人次", "Mentor-terms"),
    "n_mentees": ("受导学生人次", "Mentee-terms"),
    "yuan": ("成效奖（元）", "Award (yuan)"),
    "rewards": ("进步显著的受导学生", "Mentees who progressed markedly"),
    "no_band": ("未评等级", "No band"),
    "total": ("合计", "Total"),
}
