"""Labels of the district summary (区域总结, issue 17 item 4), every one a ``(zh, en)`` pair.

They live beside :mod:`mentorlib.labels` (which is at its 800-line limit) and follow its
conventions: :class:`mentorlib.labels.Lang` picks a side. ``{name}`` fields are filled from the
analysis (never a number typed into the text).
"""

from __future__ import annotations

from .labels import Pair

__all__ = ["DISTRICT_TEXTS"]

#: Titles, headings, captions, column headers and sentences of the district summary.
DISTRICT_TEXTS: dict[str, Pair] = {
    "title": ("{name}导师制区域总结", "{name}: district summary of the mentorship programme"),
    "subtitle": ("{year}学年", "School year {year}"),
    "front": (
        "学校 {n_schools} 所（完成 {n_ok} 所），学生 {n_students} 人。学校具名，学生从不出现。",
        "{n_schools} schools ({n_ok} done), {n_students} students. Schools are named; "
        "students never are.",
    ),
    "synthetic": ("数据为合成数据，仅供演示。", "Synthetic data, for demonstration only."),
    # sections
    "sec_schools": ("各校结论", "School verdicts"),
    "sec_funnel": ("漏斗图：各校认定比例与规模", "Funnel plot: certified share against size"),
    "sec_effects": ("学校效应（多层模型）", "School effects (multilevel model)"),
    "sec_compliance": ("各校过程落实", "Compliance by school"),
    "sec_methods": ("方法与隐私", "Methods and privacy"),
    # school verdict table
    "school": ("学校", "School"),
    "level": ("学段", "Level"),
    "primary": ("小学", "primary"),
    "middle": ("初中", "middle"),
    "n": ("学生数", "Students"),
    "n_evaluable": ("可评估人数", "Evaluable"),
    "certified": ("认定进步比例（95%区间）", "Certified share (95% CI)"),
    "true_share": ("估计真实进步比例（95%区间）", "Estimated true share (95% CI)"),
    "status": ("状态", "Status"),
    "failed": ("未完成：{reason}", "not done: {reason}"),
    "status_ok": ("完成", "done"),
    "status_partial": ("部分完成：{reason}", "partly done: {reason}"),
    "status_skipped": ("未运行：{reason}", "not run: {reason}"),
    # a value never computed (a stage not run, an estimate not made, an indicator of the other
    # level): distinct from "—", which is a number withheld for privacy
    "na": ("未计算", "n/a"),
    "na_note": (
        "“{na}”：本次运行未计算，或不适用于该校（未运行的环节、未估计的真实进步比例、"
        "该学段没有的指标、未完成的学校）。",
        ' "{na}": not computed in this run or not applicable to the school (a stage not run, '
        "a true share not estimated, an indicator of the other school level, a school not "
        "done).",
    ),
    "verdicts_caption": ("各校认定进步比例", "Certified share by school"),
    "no_progress": (
        "本次运行未包含进步判定环节（progress），各校认定比例由下文的学生结果计算。",
        "This run did not include the progress stage; the schools' rates below are computed "
        "from the student outcomes.",
    ),
    "suppressed_note": (
        "“<{min_cell}”：少于 {min_cell} 人，不予公布；“—”：不公布，包括为防止由总数减去其他学校"
        "或由比例推算出少于 {min_cell} 名学生（进步的或未进步的）而隐去的数字。",
        '"<{min_cell}": fewer than {min_cell} students, not published; "—": not published, '
        "including numbers withheld so that fewer than {min_cell} students (progressing or "
        "not) cannot be worked out from a total minus the other schools or from a share.",
    ),
    # funnel
    "funnel_lead": (
        "全区进步比例 {p0}（{n} 名可评估学生）。落在 99.8% 控制限之外的学校：高于 {above} 所，"
        "低于 {below} 所；落在 95% 与 99.8% 之间的：{warning} 所。其余学校与全区的差异不超出"
        "随机波动。",
        "District rate {p0} ({n} evaluable students). Outside the 99.8% limits: {above} "
        "above, {below} below; between the 95% and 99.8% limits: {warning}. The other "
        "schools differ from the district by no more than chance.",
    ),
    "funnel_withheld": (
        "全区进步比例不公布（{n} 名可评估学生中，进步或未进步的人数过少，公布会暴露个别学生），"
        "因此不画漏斗图、不给控制限：控制限以全区比例为中心，由它可以反推出全区比例。",
        "The district rate is not published ({n} evaluable students: too few progressed, or "
        "too few did not, to publish it without revealing individual students), so there is "
        "no funnel plot and no limits: the limits are centred on the district rate and would "
        "give it back.",
    ),
    "funnel_caption": ("各校进步比例与可评估人数（漏斗图）", "School rates against size (funnel)"),
    "funnel_x": ("可评估学生数", "Evaluable students"),
    "funnel_y": ("进步比例", "Share improved"),
    "funnel_district": ("全区比例", "District rate"),
    "funnel_table_caption": ("各校在漏斗图中的位置", "Each school's place in the funnel"),
    "rate": ("进步比例", "Share improved"),
    "limits95": ("95%控制限", "95% limits"),
    "limits998": ("99.8%控制限", "99.8% limits"),
    "position": ("位置", "Position"),
    "within": ("限内", "within"),
    "above_warning": ("偏高（95%）", "high (95%)"),
    "below_warning": ("偏低（95%）", "low (95%)"),
    "above": ("高于（99.8%）", "above (99.8%)"),
    "below": ("低于（99.8%）", "below (99.8%)"),
    "no_outcomes": (
        "没有可用的学生结果（各校无前后测或无导师分配），无法作图与建模。",
        "No student outcome available (no pre/post assessment or no mentor assignment).",
    ),
    # effects
    "effects_lead": (
        "学校间标准差 {sd_school}（百分点），导师间标准差 {sd_mentor}，学校间方差占 {icc}。"
        "收缩后仅 {n_sure_top} 所学校进入前四分之一的概率超过 {sure}，{n_sure_bottom} 所进入"
        "后四分之一的概率超过 {sure}：其余学校的名次主要是噪声，不宜排名。",
        "Between-school SD {sd_school} (percentage points), between-mentor SD {sd_mentor}; "
        "schools hold {icc} of the variance. After shrinkage only {n_sure_top} schools have a "
        "probability above {sure} of being in the top quarter and {n_sure_bottom} of being in "
        "the bottom quarter: the other schools' places are mostly noise and should not be "
        "ranked.",
    ),
    "effects_caption": (
        "学校效应、收缩与排名不确定性",
        "School effects, shrinkage and rank uncertainty",
    ),
    "raw": ("原始差异", "Raw difference"),
    "effect": ("收缩后效应（95%区间）", "Shrunken effect (95% CI)"),
    "shrinkage": ("收缩系数", "Shrinkage"),
    "p_top": ("前1/4概率", "P(top quarter)"),
    "p_bottom": ("后1/4概率", "P(bottom quarter)"),
    "rank_interval": ("名次区间", "Rank interval"),
    "effects_note": (
        "效应为该校进步比例与全区均值之差（百分点），按学校数据量向均值收缩；"
        "收缩系数 1 表示完全采信本校数据，0 表示完全取全区均值。",
        "An effect is the school's improved rate minus the district mean (percentage "
        "points), pooled towards the mean in proportion to how little the school's data "
        "say; shrinkage 1 trusts the school's own rate, 0 the district mean.",
    ),
    "effects_withheld": (
        "全区进步比例不公布，因此各校与全区均值之差、效应和收缩系数也不公布（由它们可以反推出全区"
        "比例）；进入前后四分之一的概率和名次区间只比较学校之间，照常给出。",
        "The district rate is not published, so neither are the schools' deviations from it, "
        "their effects or their shrinkage (they would give it back); the probabilities of the "
        "top and bottom quarters and the rank intervals compare schools with one another and "
        "are given.",
    ),
    "effects_failed": ("学校效应无法估计：{reason}", "School effects not estimated: {reason}"),
    "effects_two_schools": (
        "学校效应模型至少需要两所有学生结果的学校（本次 {n} 所）。",
        "the school-effects model needs at least two schools with student outcomes ({n} here).",
    ),
    "effects_error": ("模型无法拟合（{reason}）。", "the model could not be fitted ({reason})."),
    "effects_not_converged": (
        "学校效应模型的方差估计（REML）未报告收敛，结果请谨慎解读。",
        "The REML optimiser of the school-effects model did not report convergence; read the "
        "effects with care.",
    ),
    # notes of the analysis (methods section)
    "note_no_outcome": (
        "{school}：没有可用的学生结果（{reason}）。",
        "{school}: no student outcome ({reason}).",
    ),
    "note_small_left_out": (
        "{n} 所学校的可评估学生少于 {min_cell} 人，未列入漏斗图和全区比例。",
        "{n} school(s) with fewer than {min_cell} evaluable students left out of the funnel "
        "plot and the district rate.",
    ),
    # compliance
    "compliance_caption": ("各校过程指标达标情况", "Process indicators by school"),
    "no_compliance": (
        "本次运行未包含过程落实环节（compliance）。",
        "This run did not include the compliance stage.",
    ),
    "met": ("达标", "met"),
    "not_met": ("未达标", "not met"),
    # methods
    "methods": (
        "认定进步：可靠变化指数，至少 k 个维度显著进步（与单校年度总结同一规则）。漏斗图控制限为"
        "全区比例下的精确二项分位数（Spiegelhalter 2005）。学校效应：学生—导师—学校三层线性"
        "概率模型，限制性极大似然估计方差，经验贝叶斯收缩；效应及其区间对学校间方差的不确定性取平均；名次概率由各校效应的后验分布模拟 {n_sims} 次得到"
        "（Goldstein & Spiegelhalter 1996）。模型未调整生源差异。",
        "Certified progress: the reliable change index, significant in at least k dimensions "
        "(the single-school summary's rule). Funnel limits: exact binomial quantiles at the "
        "district rate (Spiegelhalter 2005). School effects: a three-level linear probability "
        "model (students in mentors in schools), variances by REML, empirical-Bayes "
        "shrinkage; the effects and their intervals are averaged over the uncertainty of the "
        "between-school variance; rank probabilities "
        "from {n_sims} draws of the school effects' posteriors (Goldstein & Spiegelhalter "
        "1996). Intake is not adjusted for.",
    ),
    "privacy": (
        "隐私：学校具名，学生从不出现；少于 {min_cell} 人的单元格不予公布；本总结、各校表"
        "（district_schools.csv）所列的全部数字经过互补隐藏核查：由全区合计、各校人数与比例"
        "均无法推算出少于 {min_cell} 名学生的数字（整数规划核查）。",
        "Privacy: schools are named, students never; any cell of fewer than {min_cell} "
        "students is not published, and every number of this summary and of the schools' "
        "table (district_schools.csv) is checked together (integer programming) so that no "
        "number of fewer than {min_cell} students can be worked out from the district totals, "
        "the schools' counts and their shares; numbers are withheld until none can.",
    ),
}
