"""Labels of the mentee comparison (issue 15 item 2), every one a ``(zh, en)`` pair.

They live beside :mod:`mentorlib.labels` (which is at its 800-line limit) and follow its
conventions: :class:`mentorlib.labels.Lang` picks a side.
"""

from __future__ import annotations

from .labels import Pair

__all__ = [
    "COMPARISON_ASSUMPTIONS",
    "COMPARISON_COVARIATES",
    "COMPARISON_DISPLAY",
    "COMPARISON_DISPLAY_DIMENSIONS",
    "COMPARISON_DISPLAY_SUPPORTED",
    "COMPARISON_ESTIMATORS",
    "COMPARISON_LINE",
    "COMPARISON_LINE_SD",
    "COMPARISON_LOVE_PLOT",
]


#: Estimators of :mod:`mentorlib.progress.comparison` (rows of its ``estimators`` and ``guidance``).
COMPARISON_ESTIMATORS: dict[str, Pair] = {
    "naive_rate": (
        "未调整的进步比例差（Newcombe区间）",
        "unadjusted difference of improvement rates (Newcombe)",
    ),
    "naive_change": (
        "未调整的变化量差（Welch区间）",
        "unadjusted difference of score changes (Welch)",
    ),
    "ancova_latent": (
        "潜在量表上的协方差分析（合理值）",
        "ANCOVA on the latent scale (plausible values)",
    ),
    "ipw": ("倾向得分加权（ATT权重）", "propensity-score weighting (ATT weights)"),
    "aipw": ("双重稳健估计（AIPW）", "doubly robust estimator (AIPW)"),
    "did": (
        "双重差分（成为受导学生之前的测量）",
        "difference-in-differences (measures before mentoring)",
    ),
}
#: What each estimator assumes (the guidance table's ``assumption``).
COMPARISON_ASSUMPTIONS: dict[str, Pair] = {
    "naive_rate": (
        "受导与未受导学生不受导时会有同样的进步（无选择）",
        "mentees and non-mentees would have progressed alike unmentored (no selection)",
    ),
    "naive_change": (
        "同上；且量表没有天花板或地板效应",
        "as above, and the scale has no ceiling or floor",
    ),
    "ancova_latent": (
        "给定潜在前测、年级和关注群体后无未测混杂；潜在变量模型为线性正态",
        "no unmeasured confounding given the latent pre-test, grade and focus groups; a linear "
        "normal latent model",
    ),
    "ipw": (
        "给定协变量后无未测混杂；倾向得分模型正确；共同支撑",
        "no unmeasured confounding given the covariates; a correct propensity model; overlap",
    ),
    "aipw": (
        "给定协变量后无未测混杂；倾向得分模型或结果模型之一正确；共同支撑",
        "no unmeasured confounding given the covariates; the propensity or the outcome model "
        "correct; overlap",
    ),
    "did": (
        "平行趋势：不受导时两组的变化相同（用前一年检验）",
        "parallel trends: both groups would have changed alike unmentored (checked on the "
        "year before)",
    ),
}
#: The love plot (balance before and after weighting).
COMPARISON_LOVE_PLOT: dict[str, Pair] = {
    "title": ("加权前后的协变量平衡", "Covariate balance before and after weighting"),
    "xlabel": ("标准化均值差（绝对值）", "absolute standardised mean difference"),
    "before": ("加权前", "before weighting"),
    "after": ("加权后", "after weighting"),
}
#: Covariates of the propensity model (the pre-test of each dimension is ``pre_<dimension>``).
COMPARISON_COVARIATES: dict[str, Pair] = {
    "class_mean_pre": ("班级前测均值", "class mean pre-test"),
    "pre_missing": ("前测缺失", "pre-test missing"),
    "transfer": ("转学生", "transfer student"),
    "single_parent": ("单亲家庭", "single-parent family"),
    "reconstituted": ("重组家庭", "reconstituted family"),
    "left_behind": ("留守儿童", "left-behind child"),
    "male": ("男生", "boy"),
    "class_rank_pre": ("前测在班内的排名", "pre-test rank in the class"),
    "prev_pre": ("上一学年前测", "last year's pre-test"),
    "prev_class_rank": ("上一学年前测班内排名", "last year's pre-test rank in the class"),
    "prev_missing": ("上一学年无前测", "no pre-test last year"),
    "pre": ("前测", "pre-test"),
    "grade": ("年级", "grade"),
}
#: The line ``mentorlib progress`` prints for the comparison of mentees with non-mentees.
COMPARISON_LINE: Pair = (
    "受导与未受导学生比较（{label}，已调整前测、年级、班级和关注群体）："
    "进步比例差{estimate:+.1%}，95%区间[{ci_low:+.1%}, {ci_high:+.1%}]",
    "Mentees against non-mentees ({label}; adjusted for pre-test, grade, class and focus "
    "groups): difference in the improvement rate {estimate:+.1%} [{ci_low:+.1%}, {ci_high:+.1%}]",
)
#: The same line on the SD scale.
COMPARISON_LINE_SD: Pair = (
    "受导与未受导学生比较（{label}）：差异{estimate:+.2f}个前测标准差，"
    "95%区间[{ci_low:+.2f}, {ci_high:+.2f}]",
    "Mentees against non-mentees ({label}): difference {estimate:+.2f} pre-test SD "
    "[{ci_low:+.2f}, {ci_high:+.2f}]",
)


# ---- issue 15 notebook 02: the comparison's display tables (progress/comparison_display.py)

#: Column headers of the display tables.
COMPARISON_DISPLAY: dict[str, Pair] = {
    "estimator": ("方法", "method"),
    "dimension": ("维度", "dimension"),
    "scale": ("尺度", "scale"),
    "estimate": ("估计值", "estimate"),
    "interval": ("95%区间", "95% interval"),
    "n_treated": ("受导学生数", "mentees"),
    "n_control": ("未受导学生数", "non-mentees"),
    "truth": ("生成器真值", "generator truth"),
    "covariate": ("协变量", "covariate"),
    "mean_mentees": ("受导学生均值", "mentees' mean"),
    "mean_others": ("未受导学生均值", "non-mentees' mean"),
    "mean_others_weighted": ("加权后未受导学生均值", "non-mentees' mean, weighted"),
    "smd_before": ("加权前标准化均值差", "SMD before weighting"),
    "smd_after": ("加权后标准化均值差", "SMD after weighting"),
    "balanced": ("已平衡", "balanced"),
    "assumption": ("假设", "assumption"),
    "diagnostic": ("数据怎么说", "what the data say"),
    "supported": ("假设得到支持", "assumption supported"),
    "rate": ("进步比例差", "difference in the improvement rate"),
    "sd": ("前测标准差", "pre-test SD"),
}
#: The headline rows' dimensions ("any": the headline rule; "mean": the mean of dimensions).
COMPARISON_DISPLAY_DIMENSIONS: dict[str, Pair] = {
    "any": ("达到进步标准（任意维度）", "improved by the headline rule"),
    "mean": ("各维度平均", "mean of the dimensions"),
}
#: ``supported`` / ``balanced`` as words (None: the data cannot check the assumption).
COMPARISON_DISPLAY_SUPPORTED: dict[str, Pair] = {
    "True": ("是", "yes"),
    "False": ("否", "no"),
    "None": ("无法检验", "not testable"),
}
