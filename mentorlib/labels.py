"""Every bilingual label of the workbench: one table shape, one helper.

Every table here maps a canonical code to a ``(zh, en)`` pair; a test checks that both sides are
filled in for every key. Chinese comes first everywhere: ``lang="zh"`` is every default, and an
unknown ``lang`` is an :class:`~mentorlib.errors.InputError`, never a silent fall-back to
English.

>>> L = Lang("en")
>>> L("达成", "met"), L.of(ACTIVITY_LABELS, "home_visit")
('met', 'home visit')
>>> label(ACTIVITY_LABELS, "home_visit")
'家访'
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import InputError

#: Languages of reports, figures and tables: Chinese first.
LANGS: tuple[str, ...] = ("zh", "en")

Pair = tuple[str, str]


def check_lang(lang: object) -> str:
    """Return ``lang`` if it is one of :data:`LANGS`, else raise a one-line InputError."""
    if isinstance(lang, Lang):
        return lang.code
    if lang not in LANGS:
        raise InputError(f"lang must be 'zh' (Chinese, the default) or 'en', got {lang!r}")
    return str(lang)


class Lang:
    """A language choice: pick the right side of a ``(zh, en)`` pair.

    Parameters
    ----------
    lang : {"zh", "en"} or Lang
        The language; "zh" by default.
    """

    __slots__ = ("code",)

    def __init__(self, lang: object = "zh") -> None:
        self.code = check_lang(lang)

    @property
    def zh(self) -> bool:
        return self.code == "zh"

    def __call__(self, zh: str, en: str) -> str:
        """The Chinese or the English text, whichever this language is."""
        return zh if self.code == "zh" else en

    def pair(self, pair: Pair) -> str:
        return pair[0] if self.code == "zh" else pair[1]

    def of(self, table: Mapping[str, Pair], key: object, default: str | None = None) -> str:
        """The label of ``key`` in ``table``; ``default`` (or the key itself) when absent."""
        pair = table.get(str(key))
        if pair is None:
            return str(key) if default is None else default
        return self.pair(pair)

    def __repr__(self) -> str:
        return f"Lang({self.code!r})"


def label(table: Mapping[str, Pair], key: object, lang: object = "zh", default=None) -> str:
    """Shortcut for ``Lang(lang).of(table, key, default)``."""
    return Lang(lang).of(table, key, default)


def level_text(alpha: float) -> str:
    """The confidence level ``1 - alpha`` of an interval as printed: "95%", "90%", "97.5%".

    ``alpha`` is the study's error rate (``processed.rules.alpha``); the level keeps up to
    three decimals of a percent, without trailing zeros. Every interval label of every
    table, figure and report is written with it.

    >>> level_text(0.05), level_text(0.1), level_text(0.025)
    ('95%', '90%', '97.5%')
    """
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be in (0, 1), got {alpha}")
    return f"{round(100 * (1 - alpha), 3):g}%"


def confidence_text(confidence: float) -> str:
    """:func:`level_text` of a confidence level (``0.95`` -> ``"95%"``)."""
    return level_text(1 - confidence)


def zh_of(table: Mapping[str, Pair]) -> dict[str, str]:
    """The Chinese side of a table, as a plain dict (for code that only writes Chinese)."""
    return {k: v[0] for k, v in table.items()}


def en_of(table: Mapping[str, Pair]) -> dict[str, str]:
    """The English side of a table."""
    return {k: v[1] for k, v in table.items()}


# =========================================================================== programme
# Dimensions, roles, activities and focus groups: the seeds' own words.

#: Development dimensions per level (the assessment's four dimensions, in report order).
DIMENSION_LABELS: dict[str, dict[str, Pair]] = {
    "primary": {
        "moral": ("思想引领", "moral and ideological"),
        "academic": ("学业支持", "academic"),
        "psychological": ("心理关怀", "psychological"),
        "habits": ("习惯养成", "habits"),
    },
    "middle": {
        "moral": ("思想引导", "moral and ideological"),
        "academic": ("学业辅导", "academic"),
        "psychological": ("心理疏导", "psychological"),
        "life": ("生活指导", "life guidance"),
    },
}

#: Staff roles.
ROLE_LABELS: dict[str, Pair] = {
    "principal": ("校长", "principal"),
    "admin": ("行政人员", "administrator"),
    "class_teacher": ("班主任", "class teacher"),
    "subject_teacher": ("科任教师", "subject teacher"),
    "support": ("教辅人员", "support staff"),
}

#: Activity kinds of the process records.
ACTIVITY_LABELS: dict[str, Pair] = {
    "talk": ("谈心谈话", "one-to-one talk"),
    "student_report": ("学生汇报", "student report"),
    "three_party": ("三方沟通", "three-party talk"),
    "parent_call": ("家长电话", "parent call"),
    "home_visit": ("家访", "home visit"),
    "subject_exchange": ("学科教师交流", "subject-teacher exchange"),
    "group_counselling": ("团体辅导", "group counselling"),
    "case_conference": ("个案分析", "case conference"),
}

#: Compatibility views (Chinese only) used by code that predates this module.
DIMENSION_LABELS_ZH: dict[str, dict[str, str]] = {
    lvl: zh_of(t) for lvl, t in DIMENSION_LABELS.items()
}
DIMENSION_LABELS_EN: dict[str, str] = {
    k: v[1] for t in DIMENSION_LABELS.values() for k, v in t.items()
}
ROLES_ZH: dict[str, str] = zh_of(ROLE_LABELS)
ACTIVITIES_ZH: dict[str, str] = zh_of(ACTIVITY_LABELS)


# =========================================================================== io and clean
# (tables of the cleaner, the codebooks and the data-quality checks go here)

#: Kinds of source a study folder holds (study.toml ``kind``).
SOURCE_KIND_LABELS: dict[str, Pair] = {
    "students": ("学生名册", "student roster"),
    "staff": ("教职工名册", "staff roster"),
    "groups": ("导师分组", "mentor groups"),
    "needs_survey": ("成长需求问卷", "growth-needs survey"),
    "assessment": ("发展评估", "development assessment"),
    "satisfaction": ("满意度调查", "satisfaction survey"),
    "exams": ("成绩单", "exam results"),
    "activities": ("导师工作记录", "mentor activity log"),
    "rewards": ("奖惩记录", "rewards and penalties"),
    "mood": ("心情晴雨表", "mood chart"),
}

#: The fate of a raw row in the cleaning.
ROW_FATE_LABELS: dict[str, Pair] = {
    "kept": ("保留", "kept"),
    "merged": ("合并（重复提交）", "merged"),
    "quarantined": ("隔离", "quarantined"),
}


# =========================================================================== progress
# (definitions, missing-data rules, verdicts, categories, breakdowns)

#: Definitions of "significant progress" (templates: ``{mid:g}`` is the rulebook's ``mid``;
#: :func:`mentorlib.progress.definition_label` fills it in).
PROGRESS_DEFINITIONS: dict[str, Pair] = {
    "rci_data": ("可靠变化指数，α取本校前测", "reliable change, alpha of this pre-test"),
    "rci_published": ("可靠变化指数，α取量表公布值", "reliable change, published alpha"),
    "mid": ("最小重要差异，{mid:g}个标准差", "minimal important difference, {mid:g} SD"),
}

#: Missing-data rules of the verdict.
MISSING_DATA_RULES: dict[str, Pair] = {
    "evaluable_only": ("仅计可评估学生", "evaluable students only"),
    "missing_not_progressing": ("缺测计为未进步", "missing counted as not progressing"),
}

#: Verdicts on the target share.
PROGRESS_VERDICTS: dict[str, Pair] = {
    "met": ("达成", "met"),
    "met by point estimate only": ("仅点估计达成（置信下限未达）", "met by point estimate only"),
    "not met": ("未达成", "not met"),
}

#: Per-student categories, in report order.
PROGRESS_CATEGORIES: dict[str, Pair] = {
    "improved_3plus": ("3个及以上维度显著进步", "improved in 3+ dimensions"),
    "improved_1_2": ("1-2个维度显著进步", "improved in 1-2 dimensions"),
    "no_change": ("无可靠变化", "no reliable change"),
    "deteriorated": ("显著退步且无进步", "deteriorated, no improvement"),
    "not_evaluable": ("无法评估（缺前测或后测）", "not evaluable (no pre or post)"),
}

#: "at least k dimensions": k in words (Chinese) or digits (English).
PROGRESS_K_WORDS: dict[str, Pair] = {
    "1": ("一", "1"),
    "2": ("两", "2"),
    "3": ("三", "3"),
    "4": ("四", "4"),
}

#: Titles of the breakdown figure ("<title>显著进步比例" / "Progress rate <title>").
PROGRESS_BREAKDOWN_TITLES: dict[str, Pair] = {
    "grade": ("各年级", "by grade"),
    "gender": ("按性别", "by gender"),
    "class": ("各班级", "by class"),
    "mentor": ("各导师", "by mentor"),
    "focus_group": ("各重点群体", "by focus group"),
}


# =========================================================================== effectiveness
# (outcomes, exposures, the award scheme's bands)

#: Process frequencies of the dose-response analysis (per student per month).
EXPOSURE_LABELS: dict[str, Pair] = {
    "talk": ("每月谈心次数", "talks per month"),
    "parent_contact": ("每月家校联系次数", "parent contacts per month"),
}

#: A mentor's effect against the average mentor (``MentorReport.effects["verdict"]``).
EFFECT_VERDICT_LABELS: dict[str, Pair] = {
    "above": ("高于平均", "above average"),
    "below": ("低于平均", "below average"),
    "indistinguishable": ("无法区分", "indistinguishable"),
}

#: Sentences of the mentor-effectiveness stage.
EFFECTIVENESS_TEXTS: dict[str, Pair] = {
    "dose_warning": (
        "谈心和家校联系的频次不是随机分配的：谈得多的导师可能在其他方面也不同，需要更多帮助的学生"
        "也可能得到更多谈心。这里呈现的是相关，不是“多谈心”的因果效应。",
        "Talk and contact frequencies were not randomised: mentors who talk more may also differ "
        "in other ways, and students who need more help may be given more talks. These are "
        "associations, not the effect of talking more.",
    ),
}


# =========================================================================== grouping
# (policies, checker rules)

#: Grouping policies (``mentorlib.grouping.POLICIES``).
POLICY_LABELS: dict[str, Pair] = {
    "recorded": ("现有分组", "recorded groups"),
    "current": ("班主任默认分组", "class default"),
    "random": ("随机分组", "random groups"),
    "two_way": ("双向选择", "two-way selection"),
    "optimal": ("最优匹配", "optimal match"),
    "regroup": ("学期调整", "term regrouping"),
}

#: Rules of the grouping checker (``mentorlib.grouping.check``).
RULE_LABELS: dict[str, Pair] = {
    "assignment_valid": ("分组表无效行数", "invalid rows in the assignment table"),
    "students_assigned": ("学生全覆盖", "students assigned"),
    "staff_mentoring": ("教职工全员任导师", "staff mentoring"),
    "group_min": ("最小组人数", "smallest group"),
    "group_max": ("最大组人数", "largest group"),
    "students_per_mentor": ("师生比", "students per mentor"),
    "gender_balance": ("性别均衡", "gender balance"),
    "in_scope": ("同班/同年级", "within class or grade"),
    "first_choice": ("第一志愿满足率", "first choice met"),
    "top3_choice": ("前三志愿满足率", "top-three choice met"),
    "blocking_pairs": ("不稳定师生对", "blocking pairs"),
    "changed_share": ("调整比例", "share changing mentor"),
    "total_fit": ("总匹配度", "total fit"),
    "mean_fit": ("平均匹配度", "mean fit"),
}

#: Rows of the policy comparison beside the checker's rules: ``hard_rules_met`` and the predicted
#: measures (rows ``pred_<measure>``; the rows ``pred_improved_<dimension>`` are built from
#: :data:`DIMENSION_LABELS`).
COMPARISON_ROW_LABELS: dict[str, Pair] = {
    "hard_rules_met": ("硬性规则全部满足", "all hard rules met"),
    "improved_any": ("预测显著进步学生比例", "predicted share improving significantly"),
    "mean_fit": ("预测平均匹配度", "predicted mean fit"),
    "fit_covered": ("预测弱项被导师特长覆盖比例", "predicted share of weak areas covered"),
}

#: Compatibility views (Chinese only) of the grouping tables.
POLICY_LABELS_ZH: dict[str, str] = zh_of(POLICY_LABELS)
RULE_LABELS_ZH: dict[str, str] = zh_of(RULE_LABELS)


# =========================================================================== compliance
# (indicators, activity frequencies)

#: Compliance indicators in report order (:mod:`mentorlib.compliance`).
COMPLIANCE_INDICATORS: dict[str, Pair] = {
    "staff_coverage": ("教职工担任导师比例", "Staff serving as mentors"),
    "student_coverage": ("学生配备导师比例", "Students with a mentor"),
    "group_size": ("导师组人数达标比例", "Mentors with a group of the required size"),
    "training_hours": ("导师培训学时达标比例", "Mentors with the required training hours"),
    "certified": ("导师持证比例", "Mentors certified"),
    "talk": ("谈心谈话达标率", "One-to-one talks"),
    "three_party": ("三方沟通达标率", "Three-party communication"),
    "subject_exchange": ("与学科教师交流达标率", "Exchanges with subject teachers"),
    "group_counselling": ("团体辅导达标率", "Group counselling"),
    "parent_call": ("家长电话达标率", "Parent phone calls"),
    "home_visit": ("家访达标率", "Home visits"),
    "student_report": ("学生汇报达标率", "Student reports to the mentor"),
    "mood_participation": ("心情晴雨表参与率", "Mood-chart participation"),
    "regroup_share": ("单次调整更换导师比例", "Largest share regrouped in one adjustment"),
}

#: Verdict of one compliance indicator.
COMPLIANCE_VERDICTS: dict[str, Pair] = {
    "met": ("达标", "met"),
    "not_met": ("未达标", "not met"),
    "na": ("不适用", "n/a"),
}

#: School levels as the compliance summary names them.
COMPLIANCE_LEVELS: dict[str, Pair] = {
    "primary": ("小学", "primary"),
    "middle": ("初中", "middle"),
}


# =========================================================================== report and plots
# (section titles, table headers, figure axes)

#: Focus groups of the reports, in report order ("none": every other student).
FOCUS_LABELS: dict[str, Pair] = {
    "transfer": ("转学生", "transfer students"),
    "single_parent": ("单亲家庭学生", "single-parent families"),
    "reconstituted": ("重组家庭学生", "reconstituted families"),
    "left_behind": ("留守儿童", "left-behind children"),
    "none": ("其他学生", "all other students"),
}

#: Reasons for wanting (or recording) a change of mentor.
REASON_LABELS: dict[str, Pair] = {
    "friends": ("希望与好朋友同组", "wants to be with friends"),
    "needs_mismatch": ("需求与导师特长不匹配", "needs do not match the mentor"),
    "personality": ("性格不合", "personality"),
    "too_little_contact": ("与导师交流太少", "too little contact"),
    "rebalance": ("人数调整", "rebalancing group sizes"),
    "other": ("其他", "other"),
}

#: Gender rows of the report tables.
GENDER_LABELS: dict[str, Pair] = {"female": ("女", "girls"), "male": ("男", "boys")}

#: Names of the proportion intervals (``rules.ci_method``) in report text.
CI_METHOD_LABELS: dict[str, Pair] = {
    "wilson": ("Wilson", "Wilson"),
    "clopper-pearson": ("Clopper-Pearson", "Clopper-Pearson"),
}

#: Rows of the annual summary's data-coverage table.
SOURCE_LABELS: dict[str, Pair] = {
    "roster": ("学生名册（人）", "student roster (students)"),
    "assessment_pre": ("发展评估·前测（人）", "assessment, pre (students)"),
    "assessment_post": ("发展评估·后测（人）", "assessment, post (students)"),
    "satisfaction_1": ("满意度调查·第1学期（人）", "satisfaction survey, term 1 (students)"),
    "satisfaction_2": ("满意度调查·第2学期（人）", "satisfaction survey, term 2 (students)"),
    "needs": ("成长需求问卷（人）", "growth-needs questionnaire (students)"),
    "activities": ("导师工作记录（条）", "mentor activity records (rows)"),
}


# =========================================================================== command line
# (stage names, summary lines)

#: Lines of the command line's human output (``--lang`` picks the side).
CLI_LABELS: dict[str, Pair] = {
    "sensitivity": (
        "敏感性分析（不同定义 × 缺失处理）：",
        "Sensitivity (definition x missing-data rule):",
    ),
    "small_cells": ("（人数过少，不显示）", "(small cells)"),
    "grouped": (
        "{policy}：{year}学年共分组 {n:,} 名学生；",
        "{policy}: {n:,} students grouped for {year}; ",
    ),
    "hard_met": ("硬性规则全部满足", "hard rules met"),
    "hard_not_met": ("硬性规则未全部满足", "hard rules NOT met"),
}


# =========================================================================== grouping: soft rules
# (issue 13: what a grouping relaxed when the roster left no grouping within the targets)

#: A relaxed soft rule (:class:`mentorlib.matching.Relaxation`), and the settings it moves between.
RELAXATION_LABELS: dict[str, Pair] = {
    "gender_tol": ("性别比例容差放宽", "gender tolerance widened"),
    "gender_ref": ("性别比例参照改为本单位", "gender reference switched"),
    "home_area": ("家庭住址区域限制取消", "home-area limit lifted"),
    "scope": ("分组范围扩大", "scope widened"),
    "school": ("全校", "school"),
    "unit": ("本单位", "unit"),
    "class": ("班级", "class"),
    "grade": ("年级", "grade"),
    "none": ("无", "none"),
    "relaxed": ("已放宽的规则：", "Relaxed rules:"),
}


# ----------------------------------------------------------------------------- templates, export

#: Texts of the data-entry templates (mentorlib.io.templates).
TEMPLATE_TEXTS: dict[str, Pair] = {
    "pick": ("请从下拉列表中选择", "choose from the drop-down list"),
    "column": ("列", "column"),
    "how": ("填写方法", "how to fill it in"),
    "id": (
        "按文本填写完整号码（学籍号以G/L/J开头，工号保留开头的0）",
        "the full number as text (student IDs start with G/L/J; keep leading zeros of staff IDs)",
    ),
    "choose": ("从下拉列表选择：", "choose from: "),
    "example_col": ("示例", "example"),
    "rows": (
        "从第2行起每行一条记录；不要合并单元格，不要加标题行或合计行。",
        "one record a row from row 2; no merged cells, title rows or totals.",
    ),
    "dates": (
        "日期写成 2024-09-01；多个选项用分号分隔（阅读;书法）。",
        "dates as 2024-09-01; several options separated by semicolons.",
    ),
    "print": ("请在符合的选项前的方框内打√。", "tick the box of your answer."),
    "header": (
        "mentorlib templates 生成的研究配置：填好各表后运行 mentorlib clean",
        "study.toml written by mentorlib templates: fill in the workbooks, then run clean",
    ),
    "toml": (
        "# 问卷星导出后，把文件放进 问卷/ 并去掉下面对应条目的 # 号（每次测评一个条目）。",
        "# after exporting a survey, put the file in the survey folder and uncomment its entry.",
    ),
}

#: Value labels of coded columns in exported tables (mentorlib.io.export) not found elsewhere.
EXPORT_VALUE_LABELS: dict[str, dict[str, Pair]] = {
    "wave": {"pre": ("前测", "pre"), "post": ("后测", "post")},
    "status": {
        "sat": ("正常参考", "sat"),
        "absent": ("缺考", "absent"),
        "exempt": ("免考", "exempt"),
        "invalid": ("成绩无效", "invalid"),
    },
    "bool": {"1": ("是", "yes"), "0": ("否", "no")},
}


# =========================================================================== file diagnostics
# (issue 13, item 9: what a raw file really is; io/formats.py)

#: One line each, Chinese then English: a file that is not what its name says, and what to do.
FILE_DIAGNOSTICS: dict[str, Pair] = {
    "encrypted": (
        "加密的工作簿：请在Excel中另存为无密码文件",
        "encrypted workbook: save a copy without a password in Excel",
    ),
    "html": (
        "这是网页（HTML）文件，不是Excel工作簿：请在Excel中打开后另存为.xlsx",
        "an HTML page, not an Excel workbook: open it in Excel and save it as .xlsx",
    ),
    "wps_et": (
        "WPS表格文件（.et）：请在WPS中另存为.xlsx",
        "a WPS spreadsheet (.et): save it as .xlsx in WPS",
    ),
    "zip": (
        "压缩包（zip），不是Excel工作簿：请解压，并在study.toml中分别列出其中的文件",
        "a zip archive, not a workbook: unzip it and list the files inside in study.toml",
    ),
    "empty": ("空文件：请重新导出", "empty file: export it again"),
    "not_workbook": (
        "不是Excel工作簿（无法识别的内容）：请用Excel打开并另存为.xlsx，或重新导出",
        "not an Excel workbook (unrecognised content): open it in Excel and save it as .xlsx, "
        "or export it again",
    ),
    "xls_named_xlsx": (
        "旧版.xls工作簿被命名为{ext}：已按.xls读取",
        "an old-format .xls workbook named {ext}: read as .xls",
    ),
    "xlsx_named_xls": (
        ".xlsx工作簿被命名为{ext}：已按.xlsx读取",
        "an .xlsx workbook named {ext}: read as .xlsx",
    ),
    "text_named_workbook": (
        "文本（CSV）文件被命名为{ext}：已按CSV读取",
        "a text (CSV) file named {ext}: read as CSV",
    ),
    "workbook_named_csv": (
        "Excel工作簿（{kind}）被命名为{ext}：已按工作簿读取",
        "an Excel workbook ({kind}) named {ext}: read as a workbook",
    ),
}


# =========================================================================== optional kinds
# (issue 13: every stage runs on a study with only the required kinds)

#: One line per optional source kind a report's year (or pilot) has no rows of: the table,
#: figure or paragraph built from it is left out and this line says why.
MISSING_KIND_LABELS: dict[str, Pair] = {
    "needs": (
        "本学年未提供成长需求问卷，分组未参考学生需求。",
        "No growth-needs survey was provided for this year; grouping did not use students' needs.",
    ),
    "exams": (
        "本学年未提供考试成绩，未分析成绩相关指标。",
        "No exam results were provided for this year; no exam-based indicator was analysed.",
    ),
    "satisfaction": (
        "本学年未提供满意度调查，未报告满意度。",
        "No satisfaction survey was provided for this year; satisfaction is not reported.",
    ),
    "activities": (
        "本学年未提供导师工作记录，未分析谈心与家校联系频次。",
        "No mentor activity records were provided for this year; talk and parent-contact frequencies were not analysed.",
    ),
    "rewards": (
        "本学年未提供奖惩记录，未分析奖惩相关指标。",
        "No rewards records were provided for this year; no reward-based indicator was analysed.",
    ),
    "mood": (
        "本学年未提供心情晴雨表，未分析心情记录。",
        "No mood-chart records were provided for this year; mood was not analysed.",
    ),
}


# ---- mixed-model fallback
# (issue 13 item 7: the mentor model with 1-2 mentees per mentor)

#: The one line a mentor model that fell back to ordinary least squares carries (notes, report).
MENTOR_FALLBACK_LABEL: Pair = (
    "导师名下学生太少，无法区分导师效应：改用普通最小二乘回归（OLS），不估计导师方差，不做导师排名。",
    "mentors have too few mentees to separate a mentor effect: ordinary least squares (OLS), "
    "no mentor variance, no mentor ranking",
)


# ---- exams (issue 13 item 5: exam books)

#: 作弊/违纪: the score of a student caught cheating is void (the exams table's status ``void``).
EXPORT_VALUE_LABELS["status"]["void"] = ("成绩作废（作弊/违纪）", "void (cheating or misconduct)")


# ---- versions (issue 13 item 6: questionnaires that change between years)

#: One line of a report's notes when a year's change scores did not use every codebook item
#: of a dimension: ``{dims}`` lists each such dimension with the items used and left out.
SHARED_ITEMS_NOTE: Pair = (
    "{year}学年的变化分数与信度只用前后测都问到的题目：{dims}。",
    "{year}: change scores and their reliability use only the items both waves asked: {dims}.",
)
#: One dimension in :data:`SHARED_ITEMS_NOTE`: its label, items used, items left out.
SHARED_ITEMS_DIMENSION: Pair = (
    "{label}用{n}题（未用{left}）",
    "{label} {n} items (not used: {left})",
)


# ---- mixed (issue 14 items 4-5: the test of the mentor variance; many mentors flagged)

#: The null distribution of the test of the mentor variance (``MentorModel.lrt["null"]``).
LRT_NULL_LABELS: dict[str, Pair] = {
    "chibar2": ("0.5χ²₀+0.5χ²₁混合分布", "50:50 chi-square mixture"),
    "rlrt_sim": ("模拟的精确似然比分布", "simulated exact (restricted) LRT"),
}

#: One line per outcome of the mentor report: mentors flagged and how many flags may be false.
MENTOR_FLAGS_LINE: Pair = (
    "{outcome}：{n_flagged}名导师被判为高于或低于平均，预计其中误判{expected:.1f}名"
    "（若导师间本无差异，误判至多约{null:.0f}名）；按同时区间（Šidák校正）判出{n_sim}名。",
    "{outcome}: {n_flagged} mentors flagged above or below average, {expected:.1f} of them "
    "expected to be false (at most about {null:.0f} if no mentor differed); simultaneous "
    "(Sidak) intervals flag {n_sim}.",
)

#: The column of the models table with the expected false flags (and the no-difference bound).
MENTOR_FALSE_FLAGS_COLUMN: Pair = (
    "预计误判（无差异时至多）",
    "Expected false flags (bound if none differ)",
)

#: The sentence of the mentor section on what the intervals and the false-flag figures are.
MENTOR_INTERVALS_NOTE: Pair = (
    "导师区间已计入导师间方差估计的不确定性（积分经验贝叶斯区间）。同时比较{n}名导师时，总有一些区间会偶然不含0："
    "“预计误判”是被判高于或低于平均的导师中，真实效应方向相反的预期人数；括号内为导师间本无差异时预期的误判人数上限（导师数×{alpha}）。",
    "Mentor intervals include the uncertainty of the estimated variance between mentors "
    "(integrated empirical-Bayes intervals). With {n} mentors compared at once some intervals "
    "exclude 0 by chance: 'expected false flags' is the expected number of flagged mentors "
    "whose true effect has the other sign; in brackets, the most false flags expected if no "
    "mentor differed (mentors x {alpha}).",
)
# ---- summary (issue 14 item 6: the headline a principal reads)

#: The executive summary's opening numbers in plain words: no method names, no test
#: statistics. Format fields: ``year, n, who, share, k, areas, delta, est, lo, hi, target,
#: min_cell`` (``k``: 一 / one; ``who``: 学生 / 受导学生, students / mentees; ``areas``: area
#: / areas). ``goal.<status>.<basis>``: what the two numbers mean for the target
#: (:func:`mentorlib.report.headline.goal_status`).
PLAIN_HEADLINE: dict[str, Pair] = {
    "certified": (
        "{year}学年评估的{n}名{who}中，我们能确认有明显进步的占{share}：他们至少在{k}个发展方面"
        "进步得足够多，很难用测量的偶然误差来解释。",
        "Of the {n} {who} assessed in {year}, we can confirm that {share} clearly improved: "
        "in at least {k} development {areas} their gain is too large to be explained by chance "
        "in the measurement.",
    ),
    "certified_withheld": (
        "{year}学年能确认有明显进步的学生比例会直接或经相减透露少于{min_cell}名学生的情况，不报告。",
        "The share of students we can confirm improved in {year} would reveal, directly or by "
        "subtraction, fewer than {min_cell} students: not reported (privacy rule).",
    ),
    "true": (
        "测量只能确认较大的进步，许多真实但较小的进步无法逐个确认。据估计，实际有进步（至少在{k}个发展方面"
        "进步幅度达到学生之间典型差距的{delta}倍）的学生约占{est}（可能在{lo}到{hi}之间）。",
        "The measurement can only confirm large gains, so many real but smaller gains cannot "
        "be confirmed one student at a time. We estimate that about {est} of students truly "
        "improved (by at least {delta} of the typical spread between students, in at least "
        "{k} {areas}); the true figure is probably between {lo} and {hi}.",
    ),
    "true_absent": (
        "本学年无法估计实际有进步的学生比例，以下只依据能确认的比例。",
        "The share of students who truly improved could not be estimated this year; what "
        "follows rests on the confirmed share only.",
    ),
    "true_withheld": (
        "实际有进步的学生比例的估计涉及少于{min_cell}名学生，按隐私规则不报告；以下只依据能确认的比例。",
        "The estimated share of students who truly improved rests on fewer than {min_cell} "
        "students and is not reported (privacy rule); what follows rests on the confirmed share "
        "only.",
    ),
    "goal.met.certified": (
        "这意味着{target}的目标已经达到：仅计能确认进步的学生就已超过目标。",
        "This means the {target} goal was reached: the students we can confirm already exceed it.",
    ),
    "goal.met.estimated": (
        "这意味着{target}的目标已经达到：估计的实际比例即使取最低值也高于目标，只是逐个学生的测量无法一一确认。",
        "This means the {target} goal was reached: even the bottom of the likely range of the "
        "estimated share is above it, though the measurement cannot confirm it student by "
        "student.",
    ),
    "goal.not_demonstrable.estimated": (
        "这意味着{target}的目标可能已经达到，但我们的测量无法证明：能确认的比例低于目标，"
        "而估计的实际比例可能高于也可能低于目标。",
        "This means the {target} goal may have been reached, but our measurement cannot show "
        "it: the confirmed share is below the goal, and the estimated true share may lie "
        "above or below it.",
    ),
    "goal.not_demonstrable.certified": (
        "这意味着目前无法证明{target}的目标已经达到：能确认的比例未达到目标，而测量只能确认较大的进步，"
        "实际比例是否达到目标无法判断。",
        "This means we cannot show that the {target} goal was reached: the confirmed share "
        "falls short of it, and because the measurement confirms only large gains, whether "
        "the true share reached it cannot be judged.",
    ),
    "goal.not_met.estimated": (
        "这意味着{target}的目标没有达到：估计的实际比例即使取最高值也低于目标。",
        "This means the {target} goal was not reached: even the top of the likely range of "
        "the estimated share is below it.",
    ),
}

#: The target's status in a list of years (:func:`mentorlib.report.headline.goal_status`).
GOAL_STATUS_SHORT: dict[str, Pair] = {
    "met": ("目标已达到", "goal reached"),
    "not_demonstrable": ("可能已达到但无法证明", "may be reached, cannot be shown"),
    "not_met": ("目标未达到", "goal not reached"),
}
# ---- verdict (issue 14 item 2: the interval that decides the verdict)
#: ``interval_method`` of a verdict row: the interval, bound and p-value that decided it.
INTERVAL_METHODS: dict[str, Pair] = {
    "wilson": ("Wilson区间（单侧得分检验）", "Wilson interval (one-sided score test)"),
    "clopper-pearson": (
        "Clopper-Pearson精确区间（精确二项检验）",
        "Clopper-Pearson interval (exact binomial test)",
    ),
    "bootstrap_bca_mentor": (
        "按导师组重抽样、每次重估阈值的BCa自助法",
        "BCa bootstrap resampling mentor groups, threshold re-estimated each time",
    ),
    "bootstrap_percentile_mentor": (
        "按导师组重抽样、每次重估阈值的百分位自助法",
        "percentile bootstrap resampling mentor groups, threshold re-estimated each time",
    ),
    "bootstrap_bca_student": (
        "按学生重抽样、每次重估阈值的BCa自助法",
        "BCa bootstrap resampling students, threshold re-estimated each time",
    ),
    "bootstrap_percentile_student": (
        "按学生重抽样、每次重估阈值的百分位自助法",
        "percentile bootstrap resampling students, threshold re-estimated each time",
    ),
}
#: Heading of the CLI's sensitivity table; ``{method}``: the interval that decides every row.
SENSITIVITY_HEADING: Pair = (
    "敏感性分析（各行区间与判定均来自{method}）：",
    "Sensitivity (each row's interval and verdict from the {method}):",
)

# ---- pv (issue 14 item 1: the estimated share that truly progressed)

#: The line ``mentorlib progress`` prints under the headline for the estimated true share.
TRUE_SHARE_LINE: Pair = (
    "估计真实进步比例（潜在变化超过{delta}个标准差、至少{k}个维度；{method}）："
    "{estimate:.1%}，95%区间[{ci_low:.1%}, {ci_high:.1%}]，{n}名学生",
    "Estimated share that truly progressed (latent change > {delta} SD in at least {k} "
    "dimension(s); {method}): {estimate:.1%} [{ci_low:.1%}, {ci_high:.1%}], {n} students",
)
#: The same line when the share could not be estimated (the report's notes say why).
TRUE_SHARE_NONE: Pair = (
    "估计真实进步比例：无法估计（见说明）",
    "Estimated share that truly progressed: not estimated (see the notes)",
)
