"""Labels of the narrative parts of the reports (issue 16 item 2): the body of a real 年度总结 and
试点评估报告, every one a ``(zh, en)`` pair; sentences are templates filled with computed numbers.

They live beside :mod:`mentorlib.labels` (which is at its 800-line limit) and follow its
conventions: :class:`mentorlib.labels.Lang` picks a side (``t.pair(NARRATIVE[key]).format(...)``).
"""

from __future__ import annotations

from .labels import Pair

__all__ = ["NARRATIVE", "NARRATIVE_TITLES", "PLACEHOLDERS"]

#: Section titles of the narrative body (annual summary and pilot review).
NARRATIVE_TITLES: dict[str, Pair] = {
    "basics": ("基本情况", "Background"),
    "practice": ("主要做法", "What was done"),
    "results": ("取得成效", "Results"),
    "problems": ("存在问题", "Problems"),
    "next_steps": ("下一步计划", "Next steps"),
    "cases": ("典型案例", "Case examples"),
    "signature": ("落款", "Signed"),
    "background": ("试点背景", "Background of the pilot"),
    "stages": ("实施阶段", "Stages of implementation"),
    "experience": ("经验与模式提炼", "Lessons and the model"),
    "safeguards": ("保障措施", "Support measures"),
    "promotion": ("推广建议", "Recommendations for wider use"),
}

#: The places left to the researcher (rendered after the 【待补充】 mark).
PLACEHOLDERS: dict[str, Pair] = {
    "leading_group": (
        "请填写：学校领导小组、年级执行小组的组成，以及本学年召开专题会议的次数和议题。",
        "Please write: who sits on the school's leading group and the grade teams, and the "
        "meetings held this year.",
    ),
    "practice_more": (
        "请填写：其他做法（主题活动、家校共育活动、心情晴雨表和悄悄话信箱的使用、导师经验交流等）。",
        "Please write: other work (theme activities, home-school activities, the mood chart and "
        "letter box, mentors' exchanges).",
    ),
    "practice_more_middle": (
        "请填写：其他做法（成长档案的建立与更新、学生每月汇报、年级组的个案会诊、导师经验交流等）。",
        "Please write: other work (the growth files, the students' monthly reports, the grade "
        "group's case conferences, mentors' exchanges).",
    ),
    "problems_causes": (
        "请填写：上述问题的原因分析（结合学校实际，不写学生姓名）。",
        "Please write: why these problems arose (from the school's situation; no student names).",
    ),
    "next_steps": (
        "请填写：下一学年的工作计划——针对上述问题的改进措施、时间安排和责任部门。",
        "Please write: next year's plan: the measures for the problems above, the timetable and "
        "who is responsible.",
    ),
    "cases": (
        "请填写：1–2个典型案例（导师如何发现问题、采取了哪些措施、学生有何变化）。"
        "请用化名或“学生A”，不写真实姓名、学籍号或可识别的细节。",
        "Please write: one or two case examples (how the mentor noticed the problem, what was "
        "done, what changed). Use a pseudonym or 'student A'; no real name, ID or identifying "
        "detail.",
    ),
    "date": (
        "落款日期为本学年的最后一天，签发时请改为实际日期并加盖公章。",
        "The date is the last day of the school year; replace it with the date of issue.",
    ),
    "policy_basis": (
        "请填写：试点的政策依据与学校开展导师制的原因（文件名称、学校面临的育人问题）。",
        "Please write: the policy basis of the pilot and why the school took it up.",
    ),
    "stages": (
        "请填写：各阶段的重点工作（启动准备、全面推进、总结提炼）与关键事件。",
        "Please write: the focus of each stage (preparation, full running, consolidation) and "
        "the key events.",
    ),
    "experience": (
        "请填写：可复制的做法与模式（分组、谈心、家校沟通、导师培训等方面的具体经验）。",
        "Please write: the practices worth copying (grouping, talks, home-school contact, "
        "training).",
    ),
    "safeguards": (
        "请填写：组织保障、制度保障、经费与时间保障（领导小组、考核办法、经费来源）。",
        "Please write: the organisational, institutional, funding and time support.",
    ),
    "promotion": (
        "请填写：推广的范围、步骤与条件（在哪些年级或学校推广、需要哪些准备）。",
        "Please write: where and how to extend the programme, and what it needs.",
    ),
}

#: The school's name where study.toml leaves ``school`` empty (the folder's name is no school).
SCHOOL_UNNAMED: Pair = ("【待补充：学校名称】", "[to be completed: the school's name]")

#: Sentence templates of the narrative sections (fields filled by the section builders).
NARRATIVE: dict[str, Pair] = {
    "students": (
        "{year}，{school}共有学生{n}名，分布在{grades}个年级、{classes}个班级。",
        "In {year}, {school} had {n} students in {grades_en} and {classes_en}.",
    ),
    "mentees": (
        "其中受导学生{n}名，其余学生为自然对照组。",
        "Of them, {n} were mentees; the others form a natural comparison group.",
    ),
    "mentors": (
        "教职工名册共{staff}人，其中{n}人担任导师（{roles}）。",
        "The staff roster lists {staff} people; {n} served as mentors ({roles}).",
    ),
    "ratio": (
        "有导师的学生{n}名，导师与学生之比为1∶{ratio}；每位导师每学期所带学生为{size}名"
        "（实施方案要求每组{gmin}–{gmax}名）。",
        "{n} students had a mentor: a ratio of 1:{ratio}; each mentor had {size} students in a "
        "term (the plan asks for {gmin}-{gmax} per group).",
    ),
    "backbone": ("骨干导师{n}名。", "Backbone mentors: {n}."),
    "training": (
        "实施方案要求导师上岗前完成{hours}学时培训：{n}名导师有培训记录，平均{mean}学时，"
        "{ok}名达到要求（{share}）；{cert}名导师持证。",
        "The plan asks for {hours} hours of training before serving: {n} mentors have a record, "
        "{mean} hours on average, {ok} meet the requirement ({share}); {cert} are certified.",
    ),
    "training_no_rule": (
        "实施方案未规定培训学时；{n}名导师有培训记录，平均{mean}学时；{cert}名导师持证。",
        "The plan sets no training hours; {n} mentors have a record, {mean} hours on average; "
        "{cert} are certified.",
    ),
    "training_none": (
        "教职工名册没有培训学时记录。",
        "The staff roster records no training hours.",
    ),
    "no_roster": (
        "本学年没有学生名册或教职工名册，基本情况无法统计。",
        "No student or staff roster this year: the background cannot be counted.",
    ),
    "practice_intro": (
        "本学年共有过程记录{n}条。下表按月统计各类活动的次数（个别活动按次计，团体活动按场次计）。",
        "The year has {n} process records. The table counts each kind of activity by month "
        "(individual activities by session, group activities by meeting).",
    ),
    "practice_totals": ("全年共开展{items}。", "Over the year: {items}."),
    "practice_missing": (
        "实施方案要求的{kinds}本学年没有记录。",
        "No record this year of {kinds}, which the plan asks for.",
    ),
    "practice_none": (
        "本学年没有活动记录（过程记录表），无法按月统计{kinds}等做法。"
        "请补充活动记录，或在此处文字说明。",
        "No activity records this year: {kinds} cannot be counted by month. Add the activity "
        "log, or describe the work here.",
    ),
    "practice_compliance": (
        "各项活动是否达到实施方案的频次要求，见附录“过程落实”。",
        "Whether each activity reached the plan's frequency: see the appendix on process records.",
    ),
    "practice_note": (
        "“<{mc}”：少于{mc}次（涉及学生的活动），不报告；“—”：为防止推算而不报告。",
        "'<{mc}': fewer than {mc} (activities with a student), not reported; '—': withheld "
        "so that it cannot be worked out.",
    ),
    "month": ("月份", "Month"),
    "total": ("全年合计", "Year total"),
    "table_caption": ("各类活动按月统计（次）", "Activities by month (count)"),
    "trend_up": (
        "与{prev}相比，能确认有明显进步的学生比例升高{d}个百分点（{p0}→{p1}）。",
        "Compared with {prev}, the share confirmed to improve rose by {d} percentage points "
        "({p0} to {p1}).",
    ),
    "trend_down": (
        "与{prev}相比，能确认有明显进步的学生比例降低{d}个百分点（{p0}→{p1}）。",
        "Compared with {prev}, the share confirmed to improve fell by {d} percentage points "
        "({p0} to {p1}).",
    ),
    "dims": (
        "分维度看，{best}方面明显进步的学生比例最高（{pb}），{worst}方面最低（{pw}）。",
        "By dimension, the share improving was highest in {best} ({pb}) and lowest in {worst} "
        "({pw}).",
    ),
    "met_process": ("过程指标中达到目标的有：{items}。", "Process indicators met: {items}."),
    "satisfaction": (
        "学生对导师的平均满意度为{mean}分（满分5分）。",
        "Mean satisfaction with the mentor: {mean} out of 5.",
    ),
    "see_appendix": (
        "各项数字的区间、计算方法和分群体结果见附录。",
        "Intervals, methods and results by group: see the appendix.",
    ),
    "progress_missed": (
        "显著进步学生比例为{share}，{verdict}（目标{target}）。",
        "The share progressing significantly was {share}: {verdict} (target {target}).",
    ),
    "missed": ("未达到目标的过程指标：{items}。", "Process indicators not met: {items}."),
    "none_missed": (
        "有明确目标的过程指标全部达到目标。",
        "Every process indicator with a target was met.",
    ),
    "no_compliance": (
        "没有过程记录，无法判断过程指标是否达标。",
        "No process records: whether the process targets were met cannot be said.",
    ),
    "behind": (
        "显著进步比例明显低于全校（{school_share}）的群体：{items}。",
        "Groups clearly below the school's rate ({school_share}): {items}.",
    ),
    "none_behind": (
        "各年级、性别和重点关注群体中，没有显著进步比例明显低于全校水平的群体"
        "（人数少于{mc}人的群体未单独比较）。",
        "No grade, gender or focus group was clearly below the school's rate (groups of fewer "
        "than {mc} students were not compared).",
    ),
    "cases_pool": (
        "本学年有{n}名学生在三个及以上维度明显进步，可从中选取典型案例（须征得学生和家长同意）。",
        "{n} students improved clearly in three dimensions or more this year; case examples can "
        "be chosen among them (with the consent of the student and the parents).",
    ),
    "next_hint": (
        "计划可围绕“存在问题”中列出的{n}项未达标指标逐项制定改进措施。",
        "The plan can take the {n} targets missed (see Problems) one by one.",
    ),
    "bg_school": (
        "{school}（{level}）于{first}起试行{programme}，试点共{n}个学年（{years}）。",
        "{school} ({level}) has run the {programme} since {first}: {n} school years ({years}).",
    ),
    "bg_first": (
        "试点第一年有学生{students}名、导师{mentors}名。",
        "In the first year: {students} students and {mentors} mentors.",
    ),
    "bg_goals": ("实施方案的量化目标：{items}。", "The plan's numeric targets: {items}."),
    "bg_no_target": (
        "实施方案未设量化的进步目标，评估其工作目标并比较受导与未受导学生。",
        "The plan sets no numeric progress target; the review evaluates its work goals and "
        "compares mentees with non-mentees.",
    ),
    "stages_intro": (
        "下表按学年列出试点的规模和变化（均由名册、分组和过程记录统计）。",
        "The table lists the pilot's size and changes by year (counted from the rosters, the "
        "groups and the process records).",
    ),
    "stages_caption": ("各学年的实施情况", "The pilot year by year"),
    "stage_change": (
        "{year}与上一学年相比：导师人数{dm}，新任导师{new}名，过程记录{dr}。",
        "{year} against the year before: mentors {dm}, new mentors {new}, process records {dr}.",
    ),
    "same": ("持平", "unchanged"),
    "more": ("增加{n}", "up {n}"),
    "fewer": ("减少{n}", "down {n}"),
    "per_year": ("{year}{n}名", "{year}: {n}"),
    "col_year": ("学年", "Year"),
    "col_students": ("学生", "Students"),
    "col_mentored": ("有导师的学生", "With a mentor"),
    "col_mentors": ("导师", "Mentors"),
    "col_new": ("新任导师", "New mentors"),
    "col_backbone": ("骨干导师", "Backbone"),
    "col_certified": ("持证导师", "Certified"),
    "col_records": ("过程记录（条）", "Records"),
    "col_regrouped": ("调整导师（人次）", "Changes of mentor"),
    "stages_note": (
        "学生人数少于{mc}（含0）时以“<{mc}”表示，学生人数为“—”：为防止与本报告其他数字相减推算出这类人数而不报告；"
        "新任导师：上一学年未担任导师者；调整导师：学年初重新分组与第二学期更换导师的人次之和。",
        "'<{mc}': fewer than {mc} students (0 included); a count of students shown as '—' is "
        "withheld so that such a number cannot be worked out by subtraction from the report's "
        "other numbers. New mentors: not a mentor the year before. Changes of mentor: "
        "regrouped at the start of the year plus changed in term 2.",
    ),
    "goal_progress": (
        "每年至少{k}个发展维度显著进步的学生比例不低于{target}",
        "at least {target} of students progressing significantly in at least {k} dimension(s) "
        "each year",
    ),
    "goal_group": ("每位导师带{lo}–{hi}名学生", "{lo}-{hi} students per mentor"),
    "goal_training": ("导师上岗前培训{hours}学时", "{hours} hours of training before serving"),
    "goal_talks": ("每月至少{n}次谈心", "at least {n} talk(s) a month"),
    "goal_three_party": ("每月至少{n}次三方沟通", "at least {n} three-party talk(s) a month"),
    "goal_regroup": (
        "单次调整更换导师的学生不超过{share}",
        "at most {share} of students regrouped in one adjustment",
    ),
    "exp_stable": (
        "每个学年都达到目标的过程指标：{items}。这些做法已经稳定，可作为模式的基础。",
        "Process indicators met in every year: {items}. These practices are settled and can "
        "form the core of the model.",
    ),
    "exp_never": (
        "每个学年都未达到目标的过程指标：{items}。这些做法需要先改进再推广。",
        "Process indicators missed in every year: {items}. These need work before they spread.",
    ),
    "exp_none": (
        "没有在每个学年都达到目标的过程指标。",
        "No process indicator was met in every year.",
    ),
    "safe_training": (
        "导师队伍：各学年持证导师分别为{cert}，骨干导师分别为{backbone}。",
        "The mentors: certified mentors by year {cert}; backbone mentors by year {backbone}.",
    ),
    "safe_award": (
        "激励：实施方案按每名受导学生每学期{amount}元设立导师成效奖；{year}有受导学生{n}名，"
        "按{terms}个学期计，年度经费约{total}元。",
        "Incentives: the plan budgets {amount} yuan per mentee per term for the mentors' award; "
        "{year} had {n} mentees, about {total} yuan for its {terms} terms.",
    ),
    "promo_verdicts": (
        "各学年的显著进步比例：{items}。",
        "Share progressing significantly, by year: {items}.",
    ),
    "promo_grouping": (
        "分组方式的比较与建议见附录“分组方式比较”。",
        "The comparison of grouping policies and its recommendation: see the appendix.",
    ),
}
