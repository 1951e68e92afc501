"""The methods section, generated from the rules the analyses used.

Every number it states is a setting read from the study's rulebook (``processed.rules``): the
share of items a score needs (``min_answered``), the reliable-change cut-off (``rci_z``), the
interval (``ci_method``, ``alpha``), the target (``target_share``), the dimensions a student
must improve in (``k_dimensions``), the regrouping cap (``max_regroup_share``) and the
small-cell threshold actually applied (``min_cell``). A study that changes a rule reads the new
number here.
"""

from __future__ import annotations

from scipy.stats import norm

from ..labels import CI_METHOD_LABELS, Lang, level_text
from ..rules import Rulebook
from .document import Heading, Para, Section
from .levels import process_methods_text, shows_target
from .render.fmt import share, zh_count

__all__ = ["REFERENCES", "methods_section"]

#: The works the methods cite (Clopper & Pearson is added when that interval is used).
REFERENCES: tuple[str, ...] = (
    "Armitage, P. (1955). Tests for linear trends in proportions and frequencies. Biometrics, 11(3), 375-386.",
    "Barnett, A. G., van der Pols, J. C., & Dobson, A. J. (2005). Regression to the mean: what it is and how to deal with it. International Journal of Epidemiology, 34(1), 215-220.",
    "Chetty, R., Friedman, J. N., & Rockoff, J. E. (2014). Measuring the impacts of teachers I: Evaluating bias in teacher value-added estimates. American Economic Review, 104(9), 2593-2632.",
    "Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests. Psychometrika, 16(3), 297-334.",
    "Efron, B. (2016). Empirical Bayes deconvolution estimates. Biometrika, 103(1), 1-20.",
    "Efron, B., & Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.",
    "Gale, D., & Shapley, L. S. (1962). College admissions and the stability of marriage. American Mathematical Monthly, 69(1), 9-15.",
    "Hundepool, A., et al. (2012). Statistical Disclosure Control. Wiley.",
    "Jacobson, N. S., & Truax, P. (1991). Clinical significance: a statistical approach to defining meaningful change in psychotherapy research. Journal of Consulting and Clinical Psychology, 59(1), 12-19.",
    "Liang, K.-Y., & Zeger, S. L. (1986). Longitudinal data analysis using generalized linear models. Biometrika, 73(1), 13-22.",
    "Little, R. J. A., & Rubin, D. B. (2002). Statistical Analysis with Missing Data (2nd ed.). Wiley.",
    "Mislevy, R. J. (1991). Randomization-based inference about latent variables from complex samples. Psychometrika, 56(2), 177-196.",
    "Newcombe, R. G. (1998). Two-sided confidence intervals for the single proportion: comparison of seven methods. Statistics in Medicine, 17, 857-872.",
    "Newcombe, R. G. (1998). Interval estimation for the difference between independent proportions: comparison of eleven methods. Statistics in Medicine, 17, 873-890.",
    "Raudenbush, S. W., & Bryk, A. S. (2002). Hierarchical Linear Models (2nd ed.). Sage.",
    "Rubin, D. B. (1987). Multiple Imputation for Nonresponse in Surveys. Wiley.",
    "Samejima, F. (1969). Estimation of latent ability using a response pattern of graded scores. Psychometrika Monograph Supplement, 34(4, Pt. 2).",
    "Self, S. G., & Liang, K.-Y. (1987). Asymptotic properties of maximum likelihood estimators and likelihood ratio tests under nonstandard conditions. Journal of the American Statistical Association, 82(398), 605-610.",
    "Shadish, W. R., Cook, T. D., & Campbell, D. T. (2002). Experimental and Quasi-Experimental Designs for Generalized Causal Inference. Houghton Mifflin.",
    "Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference. Journal of the American Statistical Association, 22(158), 209-212.",
    "von Davier, M., Gonzalez, E., & Mislevy, R. J. (2009). What are plausible values and why are they useful? IERI Monograph Series, 2, 9-36.",
)


CLOPPER_PEARSON = (
    "Clopper, C. J., & Pearson, E. S. (1934). The use of confidence or fiducial limits "
    "illustrated in the case of the binomial. Biometrika, 26(4), 404-413."
)


def _interval_names(rules: Rulebook) -> tuple[str, str]:
    """(zh, en) of the proportion interval ``rules.ci_method`` with its references."""
    if rules.ci_method == "clopper-pearson":
        return (
            "Clopper-Pearson精确区间（Clopper & Pearson, 1934）",
            "Clopper-Pearson exact intervals (Clopper & Pearson 1934)",
        )
    return (
        "Wilson区间（Wilson, 1927；Newcombe, 1998）",
        "Wilson intervals (Wilson 1927; Newcombe 1998)",
    )


def _change_para(t: Lang, rules: Rulebook) -> Para:
    """Scores, the reliable change index and the k-dimension rule."""
    answered, z, k = share(rules.min_answered), f"{rules.rci_z:g}", rules.k_dimensions
    k_en = "one dimension" if k == 1 else f"{k} dimensions"
    quote = rules.level == "primary"  # the phrase is the primary plan's
    return Para(
        t(
            f"每个发展维度的得分为该维度各题（反向题先反向计分）的平均分；作答不足{answered}的题目时该维度记为缺失。"
            "采用可靠变化指数（RCI，Jacobson & Truax, 1991）：RCI = （后测 − 前测）/（√2 × 前测标准差 × √(1 − 信度)），"
            f"信度取本学年前测的Cronbach α；RCI大于{z}判定为显著进步，小于−{z}为显著退步。"
            f"一名学生在至少{zh_count(k)}个维度显著进步即计为“取得显著进步”"
            + ("（实施方案：“在1-2个发展维度取得显著进步”）。" if quote else "。"),
            "A dimension's score is the mean of its items (reverse-keyed items recoded), missing "
            f"when fewer than {answered} of the items are answered. Progress uses the reliable change "
            "index (RCI; Jacobson & Truax 1991): RCI = (post - pre) / (sqrt(2) x SD_pre x "
            f"sqrt(1 - r)), with r the pre-test Cronbach alpha of the year; RCI > {z} is a "
            f"significant improvement, < -{z} a deterioration. A student progresses with a "
            f"significant improvement in at least {k_en}"
            + (" (the plan: 'in 1-2 development dimensions')." if quote else "."),
        )
    )


def _verdict_para(t: Lang, rules: Rulebook) -> Para:
    """The interval, the test against the target and the three verdicts."""
    target, level = share(rules.target_share), level_text(rules.alpha)
    zh, en = _interval_names(rules)
    if not shows_target(rules):
        return Para(
            t(
                f"比例的{level}置信区间采用{zh}，另报告按导师组重抽样并重估阈值的百分位自助法区间"
                "（阈值由同一批学生估计，只有重估阈值的区间才能达到名义覆盖率；Efron & Tibshirani, 1993）。"
                "实施方案未设定量化的进步目标，因此不作目标判定。",
                f"Intervals are {en}, with a percentile bootstrap resampling mentor groups and "
                "re-estimating the threshold (estimated from the same students, so only such an "
                "interval reaches its nominal coverage; Efron & Tibshirani 1993). The plan sets "
                "no numeric progress target, so no verdict against one is given.",
            )
        )
    return Para(
        t(
            f"比例的{level}置信区间、下限、p值与对{target}目标的判定来自同一方法：按导师组重抽样并重估阈值的百分位自助法（未做自助法时为{zh}及其对应检验）；"
            f"敏感性分析的各行与历年趋势的各年也用这一方法，各分组（年级、班级等）的比例区间采用{zh}。"
            f"判定分三档：置信下限高于{target}为“达成”，点估计达到而下限未达为“仅点估计达成”，否则“未达成”。"
            "由于阈值（前测标准差与信度）本身由同一批学生估计，只有重估阈值的自助法区间才能达到名义覆盖率（Efron & Tibshirani, 1993）。",
            f"The verdict against {target}, its {level} interval, lower bound and p-value come "
            "from one method: a percentile bootstrap resampling mentor groups and re-estimating the "
            f"threshold (without a bootstrap, {en} and its own test); so do each row of the "
            f"sensitivity analysis and each year of the trend, while the groups' rates (grade, "
            f"class, ...) have {en}. The verdict: 'met' when the lower bound exceeds {target}, "
            "'met by point estimate only' when only the estimate does, else 'not met'. Because "
            "the threshold (pre-test SD and alpha) is estimated from the same students, only "
            "an interval that re-estimates it reaches its nominal coverage (Efron & "
            "Tibshirani 1993).",
        )
    )


def _true_share_blocks(t: Lang, rules: Rulebook) -> list:
    """The two shares of the executive summary: the certified share (the RCI rule) and the
    estimated true share (graded-response model and plausible values, or deconvolution), with
    the delta and k of the rulebook, and how the two decide what the summary says of the
    target."""
    target, k = share(rules.target_share), rules.k_dimensions
    delta = f"{rules.true_delta:g}"
    k_en = "one dimension" if k == 1 else f"{k} dimensions"
    blocks = [
        Heading(t("能确认的比例与估计的实际比例", "Certified and estimated true shares")),
        Para(
            t(
                "执行摘要中“能确认有明显进步”的学生比例即按上述可靠变化指数（RCI）判定进步的学生比例。"
                "RCI只确认大于测量误差的变化，真实但较小的进步大多无法逐个确认，因此它低估实际进步的学生比例。"
                "“估计实际有进步”的学生比例：每个维度用等级反应模型（graded-response model，Samejima, 1969）"
                "把前后测题目放在同一潜在量尺上（题目参数前后测共享），以前测总体的标准差为单位；"
                "再按NAEP与PISA估计总体分布的方法为每名学生抽取潜在变化的合理值（plausible values，"
                "Mislevy, 1991；von Davier, Gonzalez & Mislevy, 2009），"
                f"计算真实变化超过{delta}个标准差的维度至少有{zh_count(k)}个的学生比例；"
                "其区间综合合理值之间的差异与对学生的自助重抽（Rubin, 1987）。"
                "只有量表分数、没有题目数据时，按信度推算每名学生变化分数的测量误差，"
                "对变化分数的分布做反卷积估计（Efron, 2016），"
                "各维度之间按校正测量误差后的真实变化相关（高斯copula）合并。",
                "The share 'we can confirm improved' in the executive summary is the share of "
                "students progressing under the reliable change index (RCI) above. The RCI "
                "confirms only changes larger than the measurement error, so most real but "
                "smaller gains go unconfirmed and it understates the share that truly improved. "
                "The 'estimated share that truly improved': per dimension a graded-response "
                "model (Samejima 1969) puts both waves' items on one latent scale (item "
                "parameters shared across waves), in SDs of the pre-test population; plausible "
                "values of each student's latent change are drawn, as NAEP and PISA estimate "
                "population distributions (Mislevy 1991; von Davier, Gonzalez & Mislevy 2009), "
                f"and the share whose true change exceeds {delta} SD in at least {k_en} is "
                "computed; its interval combines the spread between plausible values with a "
                "bootstrap of students (Rubin 1987). A study with scale scores only (no items) "
                "deconvolves the change scores with the measurement error implied by the "
                "reliability (Efron 2016) and joins the dimensions by the true changes' "
                "correlation, corrected for the errors (a Gaussian copula).",
            )
        ),
        Para(
            t(
                f"执行摘要对{target}目标的表述：能确认的比例判定为“达成”时，目标已经达到；"
                f"否则看估计的实际比例的区间：整个区间高于{target}为已经达到，整个区间低于{target}为没有达到，"
                f"区间包含{target}为“可能已经达到，但测量无法证明”；无法估计实际比例时，只能说目标无法证明已经达到。",
                f"What the executive summary says of the {target} goal: reached when the "
                "certified share's verdict is met; otherwise it reads the estimated true share's "
                f"interval: reached when the whole interval is above {target}, not reached when "
                f"it is below, and 'may have been reached but the measurement cannot show it' "
                f"when it contains {target}; without an estimated true share the goal cannot be "
                "shown to be reached.",
            )
        ),
    ]
    # the last paragraph reads the target: only where the plan sets one
    return blocks if shows_target(rules) else blocks[:-1]


def _missing_para(t: Lang) -> Para:
    return Para(
        t(
            "缺失数据：缺少前测或后测的学生不被悄悄删除。主口径只计可评估学生（假设完全随机缺失），"
            "另一口径把缺测学生计为未进步；两者构成真实比例的大致范围（Little & Rubin, 2002）。",
            "Missing data: students without a pre or post test are never dropped silently. The "
            "headline counts evaluable students only (missing completely at random); the "
            "second rule counts the missing as not progressing; the two bracket the truth "
            "(Little & Rubin 2002).",
        )
    )


def _mentor_blocks(t: Lang) -> list:
    """Mixed models, shrinkage and the GEE of frequencies."""
    return [
        Heading(t("导师效应", "Mentor effects")),
        Para(
            t(
                "以线性混合模型（限制性极大似然）估计：后测 ~ 前测 + 学生协变量 + 导师随机截距；"
                "导师间差异的显著性用边界校正的似然比检验（Self & Liang, 1987）；各导师效应为经验贝叶斯收缩估计及其区间"
                "（Raudenbush & Bryk, 2002），并以模拟给出排名进入前后25%的概率。学校按正态分数计算的考核方案与之并列比较。",
                "A linear mixed model fitted by REML: post ~ pre + student covariates + a random "
                "mentor intercept; the mentor variance is tested with the boundary-corrected "
                "likelihood-ratio test (Self & Liang 1987); each mentor's effect is the "
                "empirical-Bayes (shrunken) estimate with its interval (Raudenbush & Bryk 2002), "
                "with simulated probabilities of being in the top or bottom quarter. The school's "
                "normal-score scheme is set beside it.",
            )
        ),
        Para(
            t(
                "谈心与家校联系频次与进步的关联用广义估计方程（GEE，按导师聚类；Liang & Zeger, 1986）估计，为相关关系而非因果效应。",
                "Talk and parent-contact frequencies are related to progress with generalised "
                "estimating equations (GEE, clustered by mentor; Liang & Zeger 1986): "
                "associations, not causal effects.",
            )
        ),
    ]


def _process_blocks(t: Lang, rules: Rulebook) -> list:
    """How the activity records are checked against the plan (the level's activities only)."""
    return [Heading(t("过程指标", "Process indicators")), Para(process_methods_text(rules, t))]


def _privacy_blocks(t: Lang, min_cell: int) -> list:
    """Suppression below ``min_cell`` and the complementary suppression."""
    return [
        Heading(t("隐私保护", "Privacy")),
        Para(
            t(
                f"报告不含任何学生姓名或学籍号；描述少于{min_cell}名学生的表格单元格与图形元素一律不报告（显示为“<{min_cell}”，"
                f"Hundepool et al., 2012），分子或其余人数少于{min_cell}人的比例也不报告（“—”）；"
                f"为防止由合计、其他行或其他表推算出被隐去的数字，另隐去部分不少于{min_cell}人的数字（“—”，"
                "补充隐藏），并以整数规划逐一核验每个隐去的数字都无法被推算；导师姓名只出现在内部版中。",
                f"The report carries no student name or ID; every table cell and figure element "
                f"describing fewer than {min_cell} students is suppressed ('<{min_cell}'; "
                f"Hundepool et al. 2012), as is every rate whose numerator or remainder is below "
                f"{min_cell} ('—'). So that no suppressed number can be worked out from totals, "
                f"other rows or other tables, some numbers of {min_cell} or more are hidden too "
                "('—', complementary suppression), and an integer programme checks that no hidden "
                "number can be solved for; mentor names appear only in the internal version.",
            )
        ),
    ]


def _review_blocks(t: Lang, rules: Rulebook) -> list:
    """The review's cohorts, stability and grouping-policy comparison."""
    cap = share(rules.max_regroup_share)
    method = t.of(CI_METHOD_LABELS, rules.ci_method)
    return [
        Heading(t("跟踪、稳定性与分组方案", "Cohorts, stability and grouping policies")),
        Para(
            t(
                f"同批学生跟踪：取三个学年都在评估名单上的学生，按首年年级分组，逐年报告显著进步比例及其{method}区间。"
                "年度趋势用Cochran-Armitage趋势检验（Armitage, 1955）；因各年学生大部分相同，检验的独立性假设不成立，仅供参考。",
                "Cohort tracking: students on the assessed roster in every year, grouped by "
                f"their first-year grade, with the yearly rate and {method} interval. The trend "
                "test is Cochran-Armitage (Armitage 1955); the years share students, so its "
                "independence assumption fails and it is indicative only.",
            )
        ),
        Para(
            t(
                "导师效应的稳定性：同一导师相邻学年经验贝叶斯效应的相关（Fisher z区间），以及扣除测量噪声后的“真实效应”相关"
                "（Chetty, Friedman & Rockoff, 2014 的漂移估计，导师自助法区间）。",
                "Stability: the correlation of a mentor's empirical-Bayes effects across years "
                "(Fisher z interval) and of the true effects net of noise (the drift estimator "
                "of Chetty, Friedman & Rockoff 2014, mentor bootstrap interval).",
            )
        ),
        Para(
            t(
                "分组方案比较：在最后一个学年的名单上运行各分组方案（现有分组、班主任默认、随机、学生提名的延迟接受算法即“双向选择”"
                f"（Gale & Shapley, 1962）、约束下的最优匹配、不超过{cap}的学期调整），按学校规则逐项检查，"
                "并用由本校数据拟合的结果模型多次模拟，预测各方案下显著进步学生的比例及其区间。",
                "Grouping policies: each policy (recorded, class-teacher default, random, "
                "two-way selection as student-proposing deferred acceptance (Gale & Shapley "
                "1962), the optimal fit under the constraints, a term regrouping capped at "
                f"{cap}) is run on the last year's roster, checked against the rules, and "
                "simulated repeatedly with the outcome model fitted to the school's own data.",
            )
        ),
    ]


def _random_blocks(t: Lang, rules: Rulebook, seed: int | None, review: bool) -> list:
    """The review's Monte Carlo precision and decision rule; the random seed used."""
    b: list = []
    z = f"{norm.ppf(1 - rules.alpha / 2):.2f}"
    if review:
        b.append(
            Para(
                t(
                    f"模拟次数与建议的稳定性：模拟不断增加，直到每项“与现有分组之差”的蒙特卡洛标准误（其均值与区间两端标准误中的最大者）"
                    f"不超过该差值区间半宽的{share(rules.sim_mc_ratio)}，至少{rules.sim_draws_min}次、最多{rules.sim_draws_max}次；"
                    f"只有当差值区间的下限高于0且超出模拟误差的{z}倍时，才建议采用（调整学生不超过规定比例）或试行（需整体重新分组）新方案，否则建议保持现有分组。",
                    "Draws and a stable recommendation: draws are added until every difference "
                    "from the recorded grouping has a Monte Carlo standard error (the largest of "
                    "its mean's and its interval bounds') at most "
                    f"{share(rules.sim_mc_ratio)} of its interval's half-width, with "
                    f"{rules.sim_draws_min} to {rules.sim_draws_max} draws; a policy is "
                    "recommended (adopt: within the adjustment limit; trial: needs a full "
                    "regrouping) only when the interval's lower bound exceeds 0 by more than "
                    f"{z} Monte Carlo errors; otherwise: keep the current grouping.",
                )
            )
        )
    if seed is not None:
        b.append(
            Para(
                t(
                    f"随机种子：本报告中所有含随机成分的计算（自助法、模拟）使用随机种子{seed}，重新生成可得到相同结果。",
                    f"Random seed: every computation with a random part (bootstrap, simulation) "
                    f"used seed {seed}; regenerating the report gives the same numbers.",
                )
            )
        )
    return b


def references(rules: Rulebook) -> tuple[str, ...]:
    """:data:`REFERENCES`, with Clopper & Pearson (1934) when that interval is used."""
    if rules.ci_method != "clopper-pearson":
        return REFERENCES
    return tuple(sorted((*REFERENCES, CLOPPER_PEARSON)))


def methods_section(
    t: Lang, rules: Rulebook, *, review: bool, min_cell: int, seed: int | None = None
) -> Section:
    """The methods section (annual summary) or appendix (review), from ``rules`` as used.

    Parameters
    ----------
    t : Lang
    rules : Rulebook
        The study's resolved rules (``processed.rules``).
    review : bool
        The pilot review's appendix: adds cohorts, stability and the grouping policies.
    min_cell : int
        The small-cell threshold the analyses applied.
    seed : int, optional
        The random seed the analyses used, recorded in the section (issue 16).
    """
    b: list = [
        Heading(t("“显著进步”的判定", "Significant progress")),
        _change_para(t, rules),
        _verdict_para(t, rules),
        _missing_para(t),
        *_true_share_blocks(t, rules),
        *_mentor_blocks(t),
        *_process_blocks(t, rules),
        *_privacy_blocks(t, min_cell),
    ]
    if review:
        b += _review_blocks(t, rules)
    b += _random_blocks(t, rules, seed, review)
    b.append(Heading(t("参考文献", "References")))
    b += [Para(r, "bullet") for r in references(rules)]
    title = t("方法附录", "Methods appendix") if review else t("方法说明", "Methods")
    return Section("methods", title, b)
