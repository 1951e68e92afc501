"""Report text that depends on the school level's plan (issue 15 item 3).

Every sentence here is built from the study's :class:`~mentorlib.rules.Rulebook`: the process
methods paragraph names only the activities the level's plan asks for, the target sentences
appear only when ``rules.show_target`` is set, and the middle school's three work goals (seed
001: closer teacher-student relations; every student's potential developed so that none falls
behind; teachers' growth as educators) replace the primary plan's four.

The mentee vs non-mentee comparison (``ProgressReport.comparison``: ``{estimate, ci_low,
ci_high, method, scale}``) is read defensively: any missing or non-finite key means "not
available".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..labels import Lang
from ..rules import Rulebook
from .render.fmt import as_float, missing, zh_count

__all__ = [
    "MIDDLE_GOALS",
    "comparison_of",
    "comparison_text",
    "no_target_text",
    "process_methods_text",
    "shows_target",
]

#: The middle school's three work goals: key -> (heading zh, en, the plan's words zh, en).
MIDDLE_GOALS: dict[str, tuple[str, str, str, str]] = {
    "relations": (
        "目标一　融洽师生关系",
        "Goal 1: closer teacher-student relations",
        "实施方案：发挥教师对学生的亲和力，对学生实施亲情化、个性化教育，深入学生心灵深处，进一步融洽师生关系。",
        "The plan: teachers' warmth and personal attention reach the students and bring "
        "teachers and students closer.",
    ),
    "potential": (
        "目标二　发展每一名学生的潜能",
        "Goal 2: every student's potential developed, none left behind",
        "实施方案：寻找发现学生的发展潜能，使学生在学业、道德、心理等方面得到充分发展，努力做到不使一个学生掉队。",
        "The plan: find and develop each student's potential in study, morals and mind, so "
        "that no student falls behind.",
    ),
    "teachers": (
        "目标三　促进教师成长",
        "Goal 3: teachers' growth as educators",
        "实施方案：提升教师的教育理念，提高教师“教书育人”的艺术水平，促进教师的全面发展。",
        "The plan: raise the teachers' ideas of education and their art of teaching and "
        "guiding, for their all-round growth.",
    ),
}


def shows_target(rules: Rulebook) -> bool:
    """Whether the reports show ``target_share`` and the verdict on it (``show_target``)."""
    return bool(getattr(rules, "show_target", True))


def figure_target(rules: Rulebook, target: float) -> float | None:
    """The target line of a figure: ``target`` where the plan sets one (``show_target``), else
    None (the figure draws no target line and no target label)."""
    return float(target) if shows_target(rules) else None


def comparison_of(progress: Any) -> dict[str, Any] | None:
    """``ProgressReport.comparison`` when it has a finite estimate and interval, else None."""
    c = getattr(progress, "comparison", None)
    if not isinstance(c, Mapping):
        return None
    if any(missing(c.get(k)) for k in ("estimate", "ci_low", "ci_high")):
        return None
    return dict(c)


#: Plain words for the comparison's estimators (a principal reads them; no acronyms).
METHOD_WORDS: dict[str, tuple[str, str]] = {
    "aipw": (
        "已按前测、年级、班级与关注群体调整",
        "adjusted for the pre-test, grade, class and focus groups",
    ),
    "ipw": ("按前测等条件加权", "weighted for the pre-test and background"),
    "ancova_latent": ("按前测水平调整", "adjusted for the pre-test level"),
    "did": ("与受导前的变化相比", "against the change before mentoring"),
    "naive": ("未作调整", "unadjusted"),
}


def comparison_text(c: Mapping[str, Any], t: Lang, level: str) -> str:
    """One sentence: the mentees' estimated difference from comparable non-mentees."""
    scale = str(c.get("scale") or "")
    key = str(c.get("method") or "")
    words = METHOD_WORDS.get(key, METHOD_WORDS["naive"] if key.startswith("naive") else None)
    method = t(*words) if words else key
    est, lo, hi = (as_float(c[k]) for k in ("estimate", "ci_low", "ci_high"))
    if scale in ("rate", "proportion", "improvement_rate"):
        e, a, b = (f"{100 * v:+.1f}" for v in (est, lo, hi))
        unit_zh, unit_en = "个百分点", " percentage points"
    else:
        e, a, b = (f"{v:+.2f}" for v in (est, lo, hi))
        unit_zh, unit_en = "个标准差", " SD"
    return t(
        f"受导学生与可比的未受导学生相比（{method}）：差异{e}{unit_zh}（{level}区间{a}至{b}）。",
        f"Mentees against comparable non-mentees ({method}): {e}{unit_en} ({level} CI {a} to {b}).",
    )


def no_target_text(progress: Any, t: Lang, level: str) -> str:
    """The plan sets no numeric target: say so, and show the comparison (or its absence)."""
    head = t(
        "本校实施方案未设定量化的进步目标，因此本报告不作目标判定；",
        "The school's plan sets no numeric progress target, so this report gives no verdict "
        "against one; ",
    )
    c = comparison_of(progress)
    if c is None:
        return head + t(
            "受导学生与可比的未受导学生的比较本学年无法估计。",
            "the comparison of mentees with comparable non-mentees is not available this year.",
        )
    return head + t("以比较代替：", "the comparison instead: ") + comparison_text(c, t, level)


def process_methods_text(rules: Rulebook, t: Lang) -> str:
    """How the activity records are checked, naming only the activities of the level's plan."""
    r = rules
    zh: list[str] = []
    en: list[str] = []
    per_student = [("谈心", "talks")]
    if r.three_party_per_month:
        per_student.append(("三方沟通", "three-party communication"))
    if r.student_reports_per_month:
        per_student.append(("学生汇报", "student reports"))
    if r.parent_calls_per_month:
        per_student.append(("电话访问", "parent calls"))
    zh.append("、".join(z for z, _ in per_student) + "按“学生·月”计")
    en.append(", ".join(e for _, e in per_student) + " per student-month")
    if r.subject_exchanges_per_month:
        zh.append("学科教师交流按“导师·月”计")
        en.append("exchanges with subject teachers per mentor-month")
    if r.group_counselling_per_term:
        zh.append("团体辅导按“导师·学期”计")
        en.append("group counselling per mentor-term")
    if r.home_visits_per_year:
        zh.append(f"家访按“受导学生·学年”计（每学年{zh_count(r.home_visits_per_year)}次）")
        en.append("home visits per mentee-year")
    if r.mood_chart:
        zh.append("心情晴雨表按记录天数占上学天数计")
        en.append("the mood chart as days recorded over school days")
    if r.case_conferences:
        zh.append(
            "个案分析按年级与月份统计次数，并在记录写明学生时计算需要个案分析的学生"
            "（至少一个维度可靠退步或属于重点关注群体）中被分析的比例"
        )
        en.append(
            "case conferences counted by grade and month, with, where the records name the "
            "students, the share of the students who needed one (a reliable decline in at least "
            "one dimension, or a focus group) that had one"
        )
    zh.append("分组调整取单次调整中更换导师的最大比例")
    en.append("regrouping as the largest share changing mentor in one adjustment")
    return t(
        "以实施方案的要求逐月核对导师工作记录：" + "，".join(zh) + "。"
        "记录缺失即视为未做到，因此数值同时反映工作落实与记录完整两方面。",
        "The activity records are checked month by month against the plan: "
        + ", ".join(en)
        + ". A missing record counts as not done, so the values reflect both the work and "
        "the record keeping.",
    )
