"""The planner's texts (issue 14 item 7: a planner for the target), each a ``(zh, en)`` pair.

Beside :mod:`mentorlib.labels` (at its 800-line limit); :class:`mentorlib.labels.Lang` picks
a side. Every number in them is formatted from :func:`mentorlib.progress.plan.plan_target`.
"""

from __future__ import annotations

from .labels import Pair

__all__ = ["PLAN_LABELS"]


#: The planner's verdict rules, its design-search axes, and its sentences (``str.format``
#: templates; every number is formatted from :func:`mentorlib.progress.plan.plan_target`).
PLAN_LABELS: dict[str, Pair] = {
    "rci_certified": ("可认定进步比例（可靠变化指数）", "certified share (reliable change index)"),
    "estimated_true_share": ("估计的真实进步比例", "estimated true share"),
    "items": ("每维度题数", "items per dimension"),
    "points": ("{x}个百分点", "{x} points"),
    "students": ("学生数", "students"),
    "design": (
        "设计：{n}名学生，{dims}个维度，每维度{items}题（{cats}级），信度{rel}；假设真实进步比例为{share}"
        "（真实变化超过{delta}个标准差的维度至少{k}个），按同一测量模型模拟{sims}所学校（随机种子{seed}）。",
        "Design: {n} students, {dims} dimensions, {items} items per dimension ({cats} categories), "
        "reliability {rel}; assumed true share {share} (true change above {delta} SD in at least "
        "{k} dimensions); {sims} schools simulated from the same measurement model (seed {seed}).",
    ),
    "rci": (
        "按可靠变化指数可认定进步的比例平均为{mean}（90%的模拟学校在{q05}至{q95}之间），"
        "判定达成{target}目标的概率为{p}。",
        "The reliable change index would certify {mean} on average (90% of simulated schools "
        "{q05} to {q95}); the probability that it shows the {target} target met is {p}.",
    ),
    "true": (
        "估计的真实进步比例（按其中{n}所学校拟合）平均为{mean}（{q05}至{q95}；与各校真实比例平均相差{bias}，"
        "误差约{err}），"
        "其置信区间整体高于{target}目标（判定达成）的概率约为{p}。",
        "The estimated true share (fitted on {n} of the schools) averages {mean} ({q05} to "
        "{q95}; {bias} from each school's "
        "true share on average, error about {err}); the probability that its interval lies "
        "above the {target} target is about {p}.",
    ),
    "true_students_enough": (
        "按估计的真实进步比例，现有{n}名学生已足以在真实比例为{share}时以至少{power}的概率判定达成。",
        "By the estimated true share, the present {n} students are enough to show the target "
        "met with probability at least {power} when the true share is {share}.",
    ),
    "true_students": (
        "按估计的真实进步比例，真实比例为{share}时，要以至少{power}的概率判定达成，约需{n}名学生"
        "（由模拟学校的误差按学生数的平方根外推）。",
        "By the estimated true share, when the true share is {share}, about {n} students are "
        "needed to show the target met with probability at least {power} (the simulated "
        "schools' error extrapolated by the square root of the number of students).",
    ),
    "need_items": (
        "按可认定的比例判定：要在真实进步比例为{share}时以至少{power}的概率判定达成{target}目标，"
        "每维度至少需要{items}题（信度约{rel}）。",
        "By the certified share: to show the {target} target met with probability at least "
        "{power} when the true share is {share}, each dimension needs at least {items} items "
        "(reliability about {rel}).",
    ),
    "no_items": (
        "按可认定的比例判定：每维度{max}题以内，都不能在真实进步比例为{share}时以{power}的概率"
        "判定达成{target}目标。",
        "By the certified share: up to {max} items per dimension, no design shows the {target} "
        "target met with probability {power} when the true share is {share}.",
    ),
    "need_students": (
        "题目不变时，需要至少{n}名学生。",
        "With the present items, at least {n} students are needed.",
    ),
    "no_students": (
        "题目不变时，增加学生也无济于事：可认定的比例平均只有{mean}，低于{target}的目标。",
        "With the present items more students cannot help: the certified share averages only "
        "{mean}, below the {target} target.",
    ),
    "no_students_cap": (
        "题目不变时，{max}名学生以内都不够。",
        "With the present items, up to {max} students are not enough.",
    ),
    "review_lead": (
        "测评设计（按本校{year}学年的测评模拟估算，见 mentorlib plan）：假如{share}的学生真实进步"
        "（至少{k}个维度的真实变化超过{delta}个标准差），以现有测评（每维度{items}题，信度{rel}）",
        "The assessment's design (simulated from the school's {year} assessment, see mentorlib "
        "plan): if {share} of students truly progressed (true change above {delta} SD in at "
        "least {k} dimensions), with the present assessment ({items} items per dimension, "
        "reliability {rel}) ",
    ),
    "review_failed": (
        "未能估算所需的测评设计：{reason}",
        "The assessment design needed could not be estimated: {reason}",
    ),
}
