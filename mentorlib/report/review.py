"""The three-year pilot review (三年试点评估报告): the whole pilot against the plan's goals.

Sections :data:`REVIEW_SECTIONS`: the body in the shape of a real 试点评估报告 (试点背景,
实施阶段, the summary as 主要成效, 经验与模式提炼, 保障措施, 推广建议, 落款:
:mod:`~mentorlib.report.sections_narrative_review`), then the appendix (附录): KPI trends, the
four work goals, cohort tracking, stability of mentor effects, the grouping-policy comparison
with a recommendation, limitations, the researcher's judgement, methods (generated from the
rules used).
"""

from __future__ import annotations

import pandas as pd

from ..errors import InputError
from ..labels import Lang
from ..plots import plot_lines, plot_panels
from ..progress import plot_rate_by_year
from ..rules import DEFAULT_SEED
from .analyses import PilotAnalyses, analyse_pilot, resolve_min_cell
from .document import Para, Report, Section, Table, Todo
from .headline import certified_shown, true_shares_sentence
from .levels import MIDDLE_GOALS, figure_target, shows_target
from .methods import methods_section
from .render.fmt import as_int, ci, frame, missing, year_label, years_span, zh_count
from .sections_award_review import with_award_review
from .sections_goals import goals_section, rates_sentence, trend_test_text
from .sections_narrative_review import REVIEW_NARRATIVE, review_body
from .sections_review import (
    cohort_section,
    grouping_section,
    limitations_section,
    recommendation,
    stability_section,
)
from .shared import (
    add_figure,
    compliance_kpi,
    judgement_section,
    kpi_frame,
    label_column,
    progress_kpi,
    rule_text,
    satisfaction_kpis,
    technical_notes,
    title_page,
    verdict_withheld_note,
    with_interval,
)

__all__ = ["REVIEW_SECTIONS", "pilot_review"]

#: Section keys of the pilot review's appendix, in order.
REVIEW_APPENDIX: tuple[str, ...] = (
    "trends",
    "goals",
    "cohort",
    "stability",
    "grouping",
    "limitations",
    "judgement",
    "methods",
)

#: Section keys of the pilot review, in order: the body, then the appendix.
REVIEW_SECTIONS: tuple[str, ...] = (
    *REVIEW_NARRATIVE[0],
    "summary",
    *REVIEW_NARRATIVE[1],
    *REVIEW_APPENDIX,
)


def _review_kpis(p: PilotAnalyses, t: Lang) -> pd.DataFrame:
    """One row per KPI and year (the review's ``Report.kpis``)."""
    label = t("显著进步学生比例", "Students progressing significantly")
    show = shows_target(p.processed.rules)
    rows = [
        progress_kpi(R.summary_dict(), label, t, year=y, show_target=show)
        for y, R in p.progress.items()
    ]
    rows += [
        compliance_kpi(r, t, rule_text(r, t), year=as_int(r.year))
        for r in p.compliance.itertuples(index=False)
    ]
    labels = (
        t("平均满意度（1–5分）", "Mean satisfaction (1-5)"),
        t("希望更换导师的比例", "Want to change mentor"),
    )
    for r in p.satisfaction.itertuples(index=False):
        rows += satisfaction_kpis(r, labels, "—", year=as_int(r.year))
    return kpi_frame(rows)


def _trend_table(p: PilotAnalyses, k: pd.DataFrame, t: Lang) -> Table:
    years, lv = list(p.years), p.level
    rows = []
    for key, g in k.groupby("key", sort=False):
        g = g.set_index("year")
        row = [str(g["label"].iloc[0]), str(g["target_text"].iloc[0])]
        for y in years:
            if y not in g.index:
                row.append("—")
                continue
            v = str(g.at[y, "value_text"])
            passed = g.at[y, "passed"]
            if not missing(passed):
                v += " √" if bool(passed) else " ×"
            if key == "progress":
                v = with_interval(v, ci(g.at[y, "ci_low"], g.at[y, "ci_high"]), t)
            row.append(v)
        rows.append(row)
    cols = [t("指标", "Indicator"), t("目标", "Target"), *[year_label(y, t) for y in years]]
    return Table(
        frame(rows, cols),
        t("各项指标的年度变化", "Every indicator by year"),
        "kpi_trends",
        t(
            f"√ 达到目标，× 未达到目标；显著进步比例括号内为{lv}置信区间，“达成”以置信下限判定。",
            f"√ target met, × not met; the progress rate shows its {lv} CI in brackets and is "
            "judged on the lower bound.",
        )
        + verdict_withheld_note(_withheld_rows(p), t, p.min_cell),
    )


def _withheld_rows(p: PilotAnalyses) -> pd.DataFrame:
    """``suppressed`` of every rate of the trend table: the progress rate of each year (its
    headline verdict row) and the process indicators counting students."""
    flags = [not certified_shown(R) for R in p.progress.values()]
    if "suppressed" in p.compliance:
        flags += [bool(x) for x in p.compliance["suppressed"].fillna(False)]
    return pd.DataFrame({"suppressed": flags})


def _overall_todo(p: PilotAnalyses, t: Lang) -> str:
    """The place for the researcher's overall verdict, against the level's own plan."""
    if p.processed.level == "middle":
        goals = "、".join(g[0].split("　")[-1] for g in MIDDLE_GOALS.values())
        return t(
            f"研究者对三年试点的总体评价（实施方案的三项工作目标：{goals}，是否实现）。",
            "The researcher's overall assessment of the pilot against the plan's three work goals.",
        )
    return t(
        "研究者对三年试点的总体评价（是否实现“形成可复制的全员育人模式”的目标）。",
        "The researcher's overall assessment of the pilot (did it produce a replicable model?).",
    )


def summary_section(p: PilotAnalyses, t: Lang) -> Section:
    """The review's summary: the rates, the trend, the process, stability, the policy."""
    y0, y1, lv = p.years[0], p.years[-1], p.level
    k = p.progress[y1].k
    vz, ve = ("，判定", ", verdict") if shows_target(p.processed.rules) else ("", "")
    b: list = [
        Para(
            t(
                f"试点覆盖{years_span(y0, y1, t)}，共{len(p.years)}个学年。各学年至少在{zh_count(k)}个发展维度取得显著进步的学生比例（{lv}置信区间{vz}）为：{rates_sentence(p, t)}。",
                f"The pilot covers {len(p.years)} {years_span(y0, y1, t)}. The share of "
                f"students progressing significantly each year ({lv} CI{ve}): {rates_sentence(p, t)}.",
            ),
            "lead",
        )
    ]
    b += [Para(x) for x in (true_shares_sentence(p, t), trend_test_text(p, t)) if x]
    c = p.compliance
    last = c.loc[(c["year"] == y1) & c["passed"].notna()]
    if len(last):
        met = int(last["passed"].astype(bool).sum())
        b.append(
            Para(
                t(
                    f"过程落实：{y1}学年{len(last)}项有目标的过程指标中{met}项达标（逐年情况见附录）。",
                    f"Process: in {y1} {met} of {len(last)} indicators with a target were met "
                    "(every year in the appendix).",
                )
            )
        )
    if p.stability is not None and len(p.stability.correlation):
        cr = p.stability.correlation.dropna(subset=["r_eb"])
        if len(cr):
            b.append(
                Para(
                    t(
                        f"导师效应在学年之间的相关为{cr['r_eb'].min():.2f}至{cr['r_eb'].max():.2f}（经验贝叶斯估计）。",
                        f"Mentor effects correlate {cr['r_eb'].min():.2f} to {cr['r_eb'].max():.2f} "
                        "between years (empirical-Bayes estimates).",
                    )
                )
            )
    rec, _ = recommendation(p, t)
    b.append(Para(rec))
    b.append(Todo(_overall_todo(p, t)))
    return Section("summary", t("摘要", "Summary"), b)


def trends_section(p: PilotAnalyses, t: Lang, k: pd.DataFrame) -> Section:
    b: list = [
        Para(
            t(
                "下表列出每项指标在各学年的数值与目标。",
                "The table lists every indicator in every year against its target.",
            )
        ),
        _trend_table(p, k, t),
    ]
    trend = pd.concat(
        [R.verdict.loc[R.verdict["rule"] == R.rule] for R in p.progress.values()], ignore_index=True
    )
    R, lv = p.progress[p.years[-1]], p.level
    add_figure(
        b,
        t,
        "progress_by_year",
        t(f"各学年显著进步比例（{lv}置信区间）", f"Progress rate by year ({lv} CI)"),
        lambda: plot_rate_by_year(
            trend,
            target=figure_target(p.processed.rules, R.target),
            lang=t.code,
            confidence=1 - R.alpha,
        ),
        13,
    )
    if len(p.compliance):
        d = p.compliance.assign(name=p.compliance[label_column(t)])
        add_figure(
            b,
            t,
            "compliance_by_year",
            t("过程指标的年度变化（虚线为目标）", "Process indicators by year (dashed: target)"),
            lambda: plot_panels(
                d,
                panel="name",
                x="year",
                y="value",
                target="target",
                lang=t.code,
                xticklabels={y: str(y) for y in p.years},
            ),
            16,
        )
    if len(p.satisfaction):
        s = p.satisfaction
        add_figure(
            b,
            t,
            "satisfaction_by_year",
            t(f"学生平均满意度的年度变化（{lv}置信区间）", f"Mean satisfaction by year ({lv} CI)"),
            lambda: plot_lines(
                s,
                x="year",
                y="mean",
                low="ci_low",
                high="ci_high",
                percent=False,
                ylim=(1, 5),
                ylabel=t("平均满意度（1–5分）", "mean satisfaction (1-5)"),
                lang=t.code,
                xticklabels={y: year_label(y, t) for y in p.years},
            ),
            12,
        )
    b.append(
        Todo(
            t("解读各项指标三年来的变化及其原因。", "What changed over the three years, and why."),
        )
    )
    return Section("trends", t("各项指标的三年变化", "Indicators over the pilot"), b)


def pilot_review(
    processed,
    *,
    lang: str = "zh",
    public: bool = True,
    min_cell: int | None = None,
    seed: int = DEFAULT_SEED,
    draws: int | None = None,
    analyses: PilotAnalyses | None = None,
) -> Report:
    """Draft the three-year pilot review (三年试点评估报告).

    Parameters
    ----------
    processed : mentorlib.data.Processed
        The study (every year of the pilot).
    lang : {"zh", "en"}, default "zh"
    public : bool, default True
        False: the internal version (technical notes; its title says 内部版 / internal).
    min_cell : int, optional
        Default the study's rule (``processed.rules.min_cell``, 5).
    seed : int, default :data:`mentorlib.rules.DEFAULT_SEED`
        Recorded in the methods appendix (the analyses' seed when ``analyses`` is given).
    draws : int, optional
        Simulation draws of the grouping-policy comparison (default: adaptive, see
        :func:`mentorlib.grouping.compare`).
    analyses : PilotAnalyses, optional
        Precomputed :func:`analyse_pilot` results (same min_cell).

    Returns
    -------
    Report
        Sections :data:`REVIEW_SECTIONS`; ``kpis`` holds one row per KPI and year.
    """
    t = Lang(lang)
    min_cell = resolve_min_cell(processed, min_cell)
    p = (
        analyses
        if analyses is not None
        else analyse_pilot(processed, min_cell=min_cell, seed=seed, draws=draws)
    )
    if p.min_cell != min_cell:
        raise InputError("the analyses passed were computed with another min_cell")
    k = _review_kpis(p, t)
    title, subtitle, front = title_page(
        processed, "pilot_review", p.years, public, p.synthetic, t, min_cell=min_cell
    )
    appendix = [
        trends_section(p, t, k),
        goals_section(p, t),
        cohort_section(p, t),
        with_award_review(stability_section(p, t), p, t),  # middle: the award
        grouping_section(p, t),
        limitations_section(p, t),
        judgement_section(t, "pilot_review"),
        methods_section(t, processed.rules, review=True, min_cell=min_cell, seed=p.seed),
    ]
    for s in appendix:
        s.appendix = True
    if not public and p.notes:
        appendix[-2].blocks[1:1] = technical_notes(p.notes, t)
    sections = review_body(p, t, summary_section(p, t)) + appendix
    return Report(
        kind="pilot_review",
        lang=lang,
        public=public,
        years=p.years,
        title=title,
        subtitle=subtitle,
        front=front,
        sections=sections,
        kpis=k,
        meta={
            "school": processed.school,
            "study": processed.name,
            "level": processed.level,
            "synthetic": p.synthetic,
            "min_cell": min_cell,
            "seed": p.seed,
        },
        disclosure=p.disclosure,
    )
