"""Sections of the annual summary on student progress: the verdict on the target with its
sensitivity, reliability, grades and gender, mentees against non-mentees; the focus groups."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..labels import (
    CI_METHOD_LABELS,
    FOCUS_LABELS,
    GENDER_LABELS,
    INTERVAL_METHODS,
    MISSING_DATA_RULES,
    Lang,
)
from ..labels_privacy import VERDICT_WITHHELD
from ..plots import plot_intervals
from ..progress import (
    WITHHELD,
    definition_label,
    plot_dimensions_improved,
    plot_rate_by_group,
    plot_rate_by_year,
    rate_difference,
)
from .analyses import YearAnalyses
from .disclosure import printed
from .document import Heading, Para, Section, Table, Todo
from .levels import figure_target, shows_target
from .render.fmt import (
    as_int,
    ci,
    count_text,
    dim_label,
    frame,
    missing,
    num,
    numci,
    pct,
    pts,
    pvalue,
    sep,
    share,
)
from .shared import (
    add_figure,
    focus_order,
    verdict_text,
    verdict_withheld_note,
    with_interval,
)

__all__ = ["focus_section", "progress_section"]


def _verdict_table(a: YearAnalyses, t: Lang) -> Table:
    """The rate against the target under both missing-data rules (Wilson and bootstrap)."""
    target, lv = a.progress.target, a.level
    method = t.of(CI_METHOD_LABELS, a.processed.rules.ci_method)
    decided = str(a.progress.headline_row()["interval_method"])
    rows = []
    for r in a.progress.verdict.itertuples(index=False):
        # the deciding interval is ci_low/ci_high; a bootstrap verdict keeps the binomial
        # interval in binomial_ci_low/high
        boot = str(r.interval_method).startswith("bootstrap")
        b_lo, b_hi = (r.ci_low, r.ci_high) if boot else (np.nan, np.nan)
        rows.append(
            [
                t.of(MISSING_DATA_RULES, r.rule),
                printed(a, "n_evaluable" if r.rule == "evaluable_only" else "n_students", r.n),
                printed(a, "n_progressing", r.n_progressing),
                pct(r.proportion),
                ci(
                    getattr(r, "binomial_ci_low", r.ci_low),
                    getattr(r, "binomial_ci_high", r.ci_high),
                ),
                ci(b_lo, b_hi),
                pct(r.lower_bound),
                pvalue(r.p_value),
                verdict_text(r.verdict, t),
            ]
        )
    cols = [
        t("缺失处理", "Missing data"),
        t("分母（人）", "Denominator"),
        t("显著进步人数", "Progressing"),
        t("比例", "Rate"),
        t(f"{lv} {method}区间", f"{lv} {method} CI"),
        t(f"{lv}自助法区间", f"{lv} bootstrap CI"),
        t(f"单侧{lv}下限", "One-sided lower bound"),
        t("p值", "p"),
        t("判定", "Verdict"),
    ]
    if not shows_target(a.processed.rules):  # no target: rates and intervals only
        return Table(
            frame([r[:6] for r in rows], cols[:6]),
            t("显著进步比例（两种缺失处理）", "The progress rate under both missing-data rules"),
            "verdict",
            t(
                "实施方案未设定量化目标，不作判定。自助法区间同时考虑阈值估计的误差。",
                "The plan sets no numeric target: no verdict. The bootstrap interval also "
                "carries the error of the estimated threshold.",
            ),
        )
    return Table(
        frame(rows, cols),
        t(
            f"显著进步比例与{share(target)}目标的判定",
            f"The progress rate and the verdict on the {share(target)} target",
        ),
        "verdict",
        t(
            f"单侧下限、p值（备择假设：比例高于目标）与判定均来自{t.of(INTERVAL_METHODS, decided)}。"
            "自助法区间同时考虑阈值估计的误差。",
            f"Lower bound, p (alternative: the rate exceeds the target) and verdict all come "
            f"from the {t.of(INTERVAL_METHODS, decided)}. The bootstrap interval also carries "
            "the error of the estimated threshold.",
        )
        + verdict_withheld_note(a.progress.verdict, t, a.min_cell),
    )


def _sensitivity_table(a: YearAnalyses, t: Lang) -> Table:
    decided = str(a.progress.headline_row()["interval_method"])
    rows = []
    for r in a.progress.sensitivity.itertuples(index=False):
        d_zh, d_en = (
            definition_label(str(r.definition), g, mid=a.progress.mid) for g in ("zh", "en")
        )
        head = bool(r.headline)
        rows.append(
            [
                t(d_zh, d_en) + (t("（主口径）", " (headline)") if head else ""),
                t(f"≥{r.k}个维度", f">= {r.k}"),
                t.of(MISSING_DATA_RULES, r.rule),
                pct(r.proportion),
                ci(r.ci_low, r.ci_high),
                verdict_text(r.verdict, t),
            ]
        )
    cols = [
        t("“显著进步”的定义", "Definition of significant progress"),
        t("维度数", "Dimensions"),
        t("缺失处理", "Missing data"),
        t("比例", "Rate"),
        t(f"{a.level}置信区间", f"{a.level} CI"),
        t("判定", "Verdict"),
    ]
    return Table(
        frame(rows, cols),
        t(
            "敏感性分析：不同定义与缺失处理下的判定",
            "Sensitivity: the verdict under each definition and missing-data rule",
        ),
        "sensitivity",
        t(
            f"各行区间与判定均来自{t.of(INTERVAL_METHODS, decided)}，与主判定同法。",
            f"Each row's interval and verdict come from the {t.of(INTERVAL_METHODS, decided)}, "
            "as the headline's.",
        )
        + verdict_withheld_note(a.progress.sensitivity, t, a.min_cell),
    )


#: A group's point of a dot-and-interval figure: label, rate, low, high (table cells as they
#: are, NaN when withheld) and whether it is suppressed.
GroupPoint = tuple[str, object, object, object, bool]


def _group_rate_rows(
    a: YearAnalyses,
    by: str,
    labeler: Callable[[str], str],
    t: Lang,
    *,
    bd: pd.DataFrame | None = None,
    ref: tuple[int, int] | None = None,
) -> tuple[list[list[str]], list[GroupPoint]]:
    """Table rows (and figure points) of the groups of one breakdown (``bd``, default the
    year's ``a.progress.breakdowns``), counts as the disclosure document prints them, with
    the difference from ``ref`` = (progressing, evaluable) when given (Newcombe interval at
    the study's ``alpha``)."""
    rows: list[list[str]] = []
    plot: list[GroupPoint] = []
    bd = a.progress.breakdowns if bd is None else bd
    part = bd.loc[bd["by"] == by]
    if by == "grade":
        part = part.assign(_o=pd.to_numeric(part["group"], errors="coerce")).sort_values("_o")
    for r in part.itertuples(index=False):
        sup, group = bool(r.suppressed), str(r.group)
        key = f"bd.{by}.{group}"
        row = [
            labeler(group),
            printed(a, f"{key}.n_students", r.n_students),
            printed(a, f"{key}.n_evaluable", r.n_evaluable),
            pct(r.proportion),
            ci(r.ci_low, r.ci_high),
        ]
        if ref is not None:
            row.append("—" if sup or group == "none" else _difference_text(a, r, ref, t))
        rows.append(row)
        plot.append((labeler(group), r.proportion, r.ci_low, r.ci_high, sup))
    return rows, plot


def _difference_text(a: YearAnalyses, r, ref: tuple[int, int], t: Lang) -> str:
    """A group's rate minus the reference's, in points, with its interval ("—" if unknown)."""
    if missing(r.n_evaluable) or missing(r.n_progressing):
        return "—"
    d = rate_difference(
        as_int(r.n_progressing), as_int(r.n_evaluable), *ref, alpha=a.processed.rules.alpha
    ).iloc[0]
    return with_interval(
        pts(d["difference"]), t("，", ", ").join((pts(d["ci_low"]), pts(d["ci_high"]))), t
    )


class CountText(str):
    """A count already formatted by the disclosure document (``_count`` passes it through)."""


def _categories_sentence(a: YearAnalyses, t: Lang) -> str:
    """How many students improved in 3+, 1-2, no dimension, deteriorated, not evaluable."""
    R, mc = a.progress, a.min_cell
    c = R.per_student["category"].astype("object").value_counts()
    raw = {
        k: int(c.get(k, 0))
        for k in ("improved_3plus", "improved_1_2", "no_change", "deteriorated", "not_evaluable")
    }
    n = {k: CountText(printed(a, f"cat.{k}", v)) for k, v in raw.items()}
    ev = CountText(
        printed(a, "n_evaluable", sum(v for k, v in raw.items() if k != "not_evaluable"))
    )
    who = t("受导学生", "mentees") if a.processed.level == "middle" else t("学生", "students")
    return t(
        f"按主口径（{definition_label(R.definition, 'zh', mid=R.mid)}），{count_text(ev, mc)}名可评估{who}中，"
        f"{count_text(n['improved_3plus'], mc)}名在3个及以上维度显著进步，{count_text(n['improved_1_2'], mc)}名在1–2个维度显著进步，"
        f"{count_text(n['no_change'], mc)}名无可靠变化，{count_text(n['deteriorated'], mc)}名显著退步且无进步；"
        f"另有{count_text(n['not_evaluable'], mc)}名因缺少前测或后测无法评估。两种缺失处理下的判定见下表。",
        f"Under the headline definition ({definition_label(R.definition, 'en', mid=R.mid)}), of "
        f"{count_text(ev, mc)} evaluable {who} "
        f"{count_text(n['improved_3plus'], mc)} improved significantly in 3 or more dimensions, "
        f"{count_text(n['improved_1_2'], mc)} in 1-2, {count_text(n['no_change'], mc)} showed no reliable "
        f"change and {count_text(n['deteriorated'], mc)} deteriorated without improving; "
        f"{count_text(n['not_evaluable'], mc)} more lack a pre or post test. The table gives the "
        "verdict under both missing-data rules.",
    )


def _dims_texts(a: YearAnalyses):
    """The printed text of each bar of the dimensions figure (None: not registered)."""
    doc = a.disclosure
    if doc is None:
        return None
    keys = sorted((k for k in doc.cells if k.startswith("dims.")), key=lambda k: int(k[5:]))
    return [doc.text(k) for k in keys] + [doc.text("cat.not_evaluable")]


def _sensitivity_blocks(a: YearAnalyses, t: Lang) -> list:
    """Whether the verdict holds under every definition and missing-data rule."""
    R = a.progress
    s = R.summary_dict()
    b: list = []
    robust = s["verdict_robust"]
    shown = {v: n for v, n in s["sensitivity_verdicts"].items() if v != WITHHELD}
    verdicts = sep(t).join(
        t(f"“{verdict_text(v, t)}”{n}种", f"{n} '{v}'") for v, n in shown.items()
    )
    if robust is None:  # some rows withheld: their verdicts are not said, not even as "same"
        n = s["sensitivity_verdicts"].get(WITHHELD, 0)
        said = (
            t.pair(VERDICT_WITHHELD["some"]).format(
                n=n, m=len(R.sensitivity) - n, total=len(R.sensitivity), verdicts=verdicts
            )
            if shown
            else t.pair(VERDICT_WITHHELD["all"])
        )
    else:
        said = t(
            f"判定在全部{len(R.sensitivity)}种口径下一致，均为“{verdict_text(s['verdict'], t)}”。"
            if robust
            else f"判定随口径而变（{verdicts}），结论应谨慎表述。",
            f"The verdict is the same under all {len(R.sensitivity)} combinations of "
            f"definition and missing-data rule: {s['verdict']}."
            if robust
            else f"The verdict depends on the definition ({verdicts}); state it with care.",
        )
    b += [Heading(t("敏感性分析", "Sensitivity")), Para(said), _sensitivity_table(a, t)]
    return b


def _context_blocks(a: YearAnalyses, t: Lang) -> list:
    """False positives of the rule and the rate at a threshold 5% either side."""
    s = a.progress.summary_dict()
    ctx = []
    if s["false_positive_rate"] is not None:
        ctx.append(
            t(
                f"测量误差本身也会让一部分学生被判定为进步：若无任何真实变化，按主口径约有{s['false_positive_rate']:.1%}的学生会被判定为显著进步。",
                f"Measurement error alone makes some students look improved: with no true change "
                f"the headline rule would flag about {s['false_positive_rate']:.1%} of students.",
            )
        )
    if s["rate_threshold_minus5"] is not None and s["rate_threshold_plus5"] is not None:
        ctx.append(
            t(
                f"若把判定阈值放宽或收紧5%，比例分别为{s['rate_threshold_minus5']:.1%}和{s['rate_threshold_plus5']:.1%}。",
                f"With the threshold 5% lower or higher the rate would be "
                f"{s['rate_threshold_minus5']:.1%} or {s['rate_threshold_plus5']:.1%}.",
            )
        )
    if not ctx:
        return []
    return [Para("".join(ctx) if t.zh else " ".join(ctx))]


def _reliability_table(a: YearAnalyses, t: Lang) -> list:
    """Cronbach's alpha of each dimension and wave, beside the published value."""
    mc, level = a.min_cell, a.processed.level
    rel = a.progress.context.get("reliability")
    if rel is None or not len(rel):
        return []
    rows = [
        [
            dim_label(level, r.dimension, t),
            t("前测", "pre") if r.wave == "pre" else t("后测", "post"),
            count_text(r.n, mc),
            num(r.alpha),
            numci(r.ci_low, r.ci_high, t=t),
            num(getattr(r, "published_alpha", np.nan)),
        ]
        for r in rel.itertuples(index=False)
    ]
    cols = [
        t("维度", "Dimension"),
        t("测次", "Wave"),
        t("人数", "n"),
        "Cronbach α",
        t(f"{a.level}置信区间", f"{a.level} CI"),
        t("量表公布值", "Published α"),
    ]
    return [
        Table(
            frame(rows, cols),
            t("各维度测评的信度", "Reliability of each dimension"),
            "reliability",
        )
    ]


def _group_blocks(a: YearAnalyses, t: Lang) -> list:
    """The rate by grade and gender (a table) and the figures of the section."""
    R, mc, lv = a.progress, a.min_cell, a.level
    b: list = []
    b.append(Heading(t("分年级与分性别", "By grade and gender")))
    grade_rows, _ = _group_rate_rows(a, "grade", lambda g: t(f"{g}年级", f"grade {g}"), t)
    sex_rows, _ = _group_rate_rows(a, "gender", lambda g: t.of(GENDER_LABELS, g), t)
    cols = [
        t("组别", "Group"),
        t("学生数", "Students"),
        t("可评估", "Evaluable"),
        t("显著进步比例", "Rate"),
        t(f"{lv}置信区间", f"{lv} CI"),
    ]
    b.append(
        Table(
            frame(grade_rows + sex_rows, cols),
            t("各年级、性别的显著进步比例", "Progress rate by grade and gender"),
            "by_grade",
        )
    )
    add_figure(
        b,
        t,
        "progress_by_grade",
        t(f"各年级显著进步比例（{lv}置信区间）", f"Progress rate by grade ({lv} CI)"),
        lambda: plot_rate_by_group(
            R.breakdowns,
            by="grade",
            target=figure_target(a.processed.rules, R.target),
            lang=t.code,
            min_cell=mc,
        ),
        13,
    )
    add_figure(
        b,
        t,
        "dimensions_improved",
        t("学生显著进步的维度数", "Number of dimensions in which students improved"),
        lambda: plot_dimensions_improved(
            R.per_student, min_cell=mc, lang=t.code, texts=_dims_texts(a)
        ),
        13,
    )
    if len(R.trend) > 1:
        add_figure(
            b,
            t,
            "progress_by_year",
            t(f"历年显著进步比例（{lv}置信区间）", f"Progress rate by year ({lv} CI)"),
            lambda: plot_rate_by_year(
                R.trend,
                target=figure_target(a.processed.rules, R.target),
                lang=t.code,
                confidence=1 - R.alpha,
            ),
            13,
        )
    return b


def _comparison_blocks(a: YearAnalyses, t: Lang) -> list:
    """Mentees against non-mentees (middle school): the rates and their difference."""
    b: list = []
    cr = a.progress.context.get("comparison_rates")
    if cr is not None and len(cr):
        b.append(Heading(t("与未受导学生的比较", "Mentees against non-mentees")))
        rows = []
        for r in cr.itertuples(index=False):
            sup = bool(getattr(r, "suppressed", False))
            rows.append(
                [
                    printed(a, "cmp.n1", r.n1),
                    "—" if sup else pct(r.p1),
                    printed(a, "cmp.n2", r.n2),
                    "—" if sup else pct(r.p2),
                    "—" if sup else f"{pts(r.difference)}",
                    "—" if sup else f"{pts(r.ci_low)}, {pts(r.ci_high)}",
                ]
            )
        cols = [
            t("受导学生数", "Mentees"),
            t("受导学生比例", "Mentee rate"),
            t("未受导学生数", "Non-mentees"),
            t("未受导学生比例", "Non-mentee rate"),
            t("差（百分点）", "Difference (points)"),
            t(f"{a.level}置信区间", f"{a.level} CI"),
        ]
        b.append(
            Table(
                frame(rows, cols),
                t("受导与未受导学生的显著进步比例", "Progress of mentees and non-mentees"),
                "comparison",
                t(
                    "Newcombe区间。受导学生经推荐产生，差异包含向均值回归。",
                    "Newcombe interval. Mentees were nominated: the difference includes regression to the mean.",
                ),
            )
        )
    return b


def progress_section(a: YearAnalyses, t: Lang) -> Section:
    """Progress: the verdict sentence (with its interval and test), who improved, the verdict
    table, sensitivity, reliability, groups."""
    b: list = [
        Para(a.progress.headline(t.code)),
        Para(_categories_sentence(a, t)),
        _verdict_table(a, t),
    ]
    b += _sensitivity_blocks(a, t)
    b += _context_blocks(a, t)
    b += _reliability_table(a, t)
    b += _group_blocks(a, t)
    b += _comparison_blocks(a, t)
    b.append(
        Todo(
            t(
                "结合各年级、各维度的结果，说明本学年进步情况的特点及可能原因。",
                "What characterises this year's progress across grades and dimensions, and why.",
            )
        )
    )
    return Section("progress", t("学生发展：显著进步情况", "Student progress"), b)


def _focus_reference(R) -> tuple[int, int] | None:
    """(progressing, evaluable) of the other students: the reference of the differences."""
    fg = R.breakdowns.loc[R.breakdowns["by"] == "focus_group"]
    other = fg.loc[(fg["group"] == "none") & ~fg["suppressed"].astype(bool)]
    if not len(other) or missing(other["n_evaluable"].iloc[0]) or R.rule != "evaluable_only":
        return None
    o = other.iloc[0]
    return (int(o["n_progressing"]), int(o["n_evaluable"]))


def _focus_intro(a: YearAnalyses, t: Lang) -> Para:
    """Which groups the plan names (middle school: one more), and why their intervals are wide."""
    middle = a.processed.level == "middle"
    return Para(
        t(
            "实施方案要求重点关注转学生、单亲家庭学生和留守儿童"
            + ("（初中另含重组家庭学生）" if middle else "")
            + "。各群体人数较少，区间较宽；一名学生可同时属于多个群体。",
            "The plan asks for extra attention to transfer students, children of single-parent "
            "families and left-behind children"
            + (" (middle school: also reconstituted families)" if middle else "")
            + ". The groups are small, so the intervals are wide; a student can belong to "
            "several groups.",
        )
    )


def _focus_table(a: YearAnalyses, t: Lang) -> tuple[Table, list[GroupPoint]]:
    """The focus groups' rates (in report order), with the difference from the other
    students when it can be said; and the points of the figure."""
    mc, lv, bd = a.min_cell, a.level, a.progress.breakdowns
    ref = _focus_reference(a.progress)
    bd_sorted = pd.concat(
        [bd.loc[bd["by"] != "focus_group"], focus_order(bd.loc[bd["by"] == "focus_group"])]
    )
    rows, plot = _group_rate_rows(
        a, "focus_group", lambda g: t.of(FOCUS_LABELS, g), t, bd=bd_sorted, ref=ref
    )
    cols = [
        t("学生群体", "Group"),
        t("学生数", "Students"),
        t("可评估", "Evaluable"),
        t("显著进步比例", "Rate"),
        t(f"{lv}置信区间", f"{lv} CI"),
    ]
    if ref is not None:
        cols.append(
            t(
                f"与其他学生之差（百分点，{lv}区间）",
                f"Difference from other students (points, {lv} CI)",
            )
        )
    table = Table(
        frame(rows, cols),
        t("重点关注学生的显著进步比例", "Progress of the focus groups"),
        "focus",
        t(
            f"“<{mc}”：人数少于{mc}人，不报告；“—”：为防止推算而不报告。差值为Newcombe区间。",
            f"'<{mc}': fewer than {mc} students, not reported; '—': withheld so that it cannot "
            "be worked out. Differences with Newcombe intervals.",
        ),
    )
    return table, plot


def _focus_figure(b: list, a: YearAnalyses, t: Lang, plot: list[GroupPoint]) -> None:
    """The focus groups' rates as dots and intervals against the target (none if no group)."""
    if not plot:
        return
    labels, est, lo, hi, sup = zip(*plot, strict=True)
    add_figure(
        b,
        t,
        "focus_groups",
        t(
            f"重点关注学生的显著进步比例（{a.level}置信区间）",
            f"Progress of the focus groups ({a.level} CI)",
        ),
        lambda: plot_intervals(
            labels,
            est,
            lo,
            hi,
            suppressed=sup,
            min_cell=a.min_cell,
            target=figure_target(a.processed.rules, a.progress.target),
            xlabel=t("显著进步学生比例", "share progressing"),
            lang=t.code,
        ),
        13,
    )


def focus_section(a: YearAnalyses, t: Lang) -> Section:
    """The focus groups' progress rates, against the other students where it can be said."""
    table, plot = _focus_table(a, t)
    b: list = [_focus_intro(a, t), table]
    _focus_figure(b, a, t, plot)
    b.append(
        Todo(
            t(
                "重点关注学生的个别跟进情况（谈心、家访、转介与跟踪）由导师和年级组补充；请勿写入学生姓名。",
                "How the focus students were followed up (talks, home visits, referrals), from the "
                "mentors and grade teams; do not name students.",
            )
        )
    )
    return Section("focus", t("重点关注学生", "Focus groups"), b)
