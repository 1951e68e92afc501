"""The annual summary's section on mentor effectiveness (and, internally, each mentor)."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..effectiveness import (
    EXPOSURE_LABELS,
    DoseResponse,
    MentorReport,
    band_outcomes,
    plot_band_outcomes,
    plot_caterpillar,
    plot_dose_response,
    plot_naive_vs_shrunk,
)
from ..errors import InputError
from ..labels import (
    EFFECT_VERDICT_LABELS,
    MENTOR_FALLBACK_LABEL,
    MENTOR_FALSE_FLAGS_COLUMN,
    MENTOR_INTERVALS_NOTE,
    Lang,
    level_text,
)
from ..labels_units import ASSESSED_MENTEES
from .analyses import YearAnalyses
from .document import Heading, Para, Section, Table, Todo
from .render.fmt import (
    as_float,
    count_text,
    dim_label,
    frame,
    integer,
    missing,
    num,
    numci,
    pct,
    pvalue,
    zh_count,
)
from .shared import add_figure

__all__ = ["caterpillar_title", "effects_by_outcome", "mentors_section"]


def _caterpillar(effects: pd.DataFrame, t: Lang, mc: int, *, public: bool, confidence: float):
    """The caterpillar plot of the mentors with ``mc`` or more mentees (named if internal),
    intervals at level ``confidence``."""
    e = effects.loc[effects["n"] >= mc]
    if e.empty:
        raise InputError(t(f"没有受导学生达到{mc}人的导师", f"no mentor has {mc} or more mentees"))
    title = caterpillar_title(e, t, mc)
    if public:
        return plot_caterpillar(e, lang=t.code, show_ids=False, title=title, confidence=confidence)
    id_col = (
        "mentor_name"
        if "mentor_name" in e.columns and e["mentor_name"].notna().all()
        else "mentor_id"
    )
    return plot_caterpillar(
        e, lang=t.code, show_ids=True, id_col=id_col, title=title, confidence=confidence
    )


def caterpillar_title(e: pd.DataFrame, t: Lang, mc: int) -> str:
    up = int((e["ci_low"] > 0).sum())
    down = int((e["ci_high"] < 0).sum())
    return t(
        f"{ASSESSED_MENTEES[0]}不少于{mc}人的{len(e)}名导师：高于平均{up}人，低于平均{down}人，"
        f"无法区分{len(e) - up - down}人",
        f"{len(e)} mentors with {mc}+ {ASSESSED_MENTEES[1]}: {up} above, {down} below average, "
        f"{len(e) - up - down} indistinguishable",
    )


def effects_by_outcome(M: MentorReport) -> dict[str, dict[Hashable, Any]]:
    """:meth:`MentorReport.effects_summary` as outcome -> its row (a dict of plain cells)."""
    return {str(r["outcome"]): r for r in M.effects_summary().to_dict("records")}


def _models_blocks(M: MentorReport, level: str, t: Lang) -> list:
    """The mixed models by outcome: how the effects were estimated, and a table."""
    lv = level_text(M.rules.alpha)
    es = effects_by_outcome(M)
    rows = []
    for r in M.models.itertuples(index=False):
        e = es.get(str(r.outcome))
        rows.append(
            [
                dim_label(level, r.outcome, t),
                integer(r.n_students),
                integer(r.n_mentors),
                pct(r.icc),
                pvalue(r.lrt_p),
                "—"
                if e is None
                else f"{int(e['n_above'])} / {int(e['n_below'])} / {int(e['n_indistinguishable'])}",
                "—"
                if e is None
                else f"{as_float(e['expected_false_flags']):.1f} "
                f"({as_float(e['null_false_flags']):.0f})",
            ]
        )
    cols = [
        t("结果", "Outcome"),
        t("学生数", "Students"),
        t("导师数", "Mentors"),
        t("导师间差异占比（ICC）", "Share of variance between mentors (ICC)"),
        t("似然比检验 p", "LRT p"),
        t("高于 / 低于 / 无法区分", "Above / below / indistinguishable"),
        t(*MENTOR_FALSE_FLAGS_COLUMN),
    ]
    n_max = int(M.models["n_mentors"].max()) if len(M.models) else 0
    note = t(*MENTOR_INTERVALS_NOTE).format(n=n_max, alpha=f"{M.rules.alpha:g}")
    ols = [dim_label(level, r.outcome, t) for r in M.models.itertuples() if r.method == "ols"]
    fallback = [Para(f"{t(*MENTOR_FALLBACK_LABEL)} ({', '.join(ols)})", "note")] if ols else []
    return fallback + [
        Para(
            t(
                "导师效应以线性混合模型估计（后测 ~ 前测 + 年级 + 性别 + 重点群体 + 导师随机截距），"
                "再经经验贝叶斯收缩：受导学生少的导师，其估计向平均值收缩得更多。"
                f"“高于/低于平均”指{lv}区间不含0。",
                "Mentor effects come from a linear mixed model (post ~ pre + grade + gender + "
                "focus groups + a random mentor intercept) with empirical-Bayes shrinkage: the "
                "fewer mentees, the more an estimate is pulled to the average. 'Above/below "
                f"average' means the {lv} interval excludes 0.",
            )
            + t("", " ")
            + note
        ),
        Table(
            frame(rows, cols),
            t("导师效应模型（按发展维度）", "Mentor-effect models by outcome"),
            "mentor_models",
        ),
    ]


def _composite_blocks(a: YearAnalyses, M: MentorReport, t: Lang, public: bool) -> list:
    """How precisely mentors can be ranked on the composite, and the caterpillar figure."""
    mc, lv = a.min_cell, a.level
    e = effects_by_outcome(M).get("composite")
    b: list = []
    if e is not None:
        b.append(
            Para(
                t(
                    f"综合结果上，导师效应{lv}区间的中位宽度为{e['median_ci_width']:.2f}分，排名区间的中位跨度为{e['median_rank_interval']:.0f}位；"
                    f"能以90%以上把握确定处于前25%的导师{int(e['n_surely_top'])}名，处于后25%的{int(e['n_surely_bottom'])}名。"
                    "因此不宜依据单一学年的结果对导师排名或奖惩。",
                    f"On the composite the median width of a mentor's {lv} interval is "
                    f"{e['median_ci_width']:.2f} points and the median rank interval spans "
                    f"{e['median_rank_interval']:.0f} places; {int(e['n_surely_top'])} mentors are "
                    f"in the top quarter and {int(e['n_surely_bottom'])} in the bottom quarter with "
                    "90% certainty. One year's results should not rank or reward mentors.",
                )
            )
        )
        comp = M.effects.loc[M.effects["outcome"] == "composite"]
        if a.processed.rules.group_max < mc:
            # 1-2 mentees a mentor by design: no mentor's effect may be drawn (min_cell)
            b.append(Para(_no_caterpillar_note(a.processed.rules.group_max, mc, t), "note"))
            return b + _band_outcome_blocks(a, M, t)
        add_figure(
            b,
            t,
            "mentor_effects",
            t(
                f"导师效应及{lv}区间（综合结果；仅含{ASSESSED_MENTEES[0]}不少于{mc}人的导师，"
                "未达此数的导师不单独显示）",
                f"Mentor effects with {lv} intervals (composite; mentors with {mc}+ "
                f"{ASSESSED_MENTEES[1]}; the others are not shown on their own)",
            )
            if public
            else t(
                f"导师效应及{lv}区间（综合结果）", f"Mentor effects with {lv} intervals (composite)"
            ),
            lambda: _caterpillar(comp, t, mc, public=public, confidence=1 - M.rules.alpha),
            14,
        )
    return b


def _band_outcome_blocks(a: YearAnalyses, M: MentorReport, t: Lang) -> list:
    """In place of the caterpillar (1-2 mentees a mentor): the mentees' change by the band
    their mentor got in the school's scheme (bands under min_cell not drawn)."""
    if not len(M.scheme):
        return []
    mc, lv = a.min_cell, a.level
    b: list = []
    add_figure(
        b,
        t,
        "band_outcomes",
        t(
            f"受导学生综合得分的变化（后测减前测）及{lv}区间，按其导师（第一学期）的成效奖等级；"
            f"不足{mc}名受导学生的等级不绘制",
            f"The mentees' composite change (post minus pre) with {lv} intervals, by their "
            f"(term-1) mentor's award band; bands with fewer than {mc} mentees are not drawn",
        ),
        lambda: plot_band_outcomes(
            band_outcomes(a.processed, a.year, M.scheme, min_cell=mc),
            lang=t.code,
            confidence=1 - M.rules.alpha,
            min_cell=mc,
        ),
        12,
    )
    return b


def _no_caterpillar_note(group_max: int, mc: int, t: Lang) -> str:
    """Why the figure of mentor effects is left out when no mentor can have ``mc`` mentees."""
    return t(
        f"本校每位导师至多{group_max}名受导学生，少于{mc}人的隐私下限，因此不绘制逐位导师的效应图；"
        "导师之间的差异见上表的方差检验。",
        f"Each mentor has at most {group_max} mentees, fewer than the privacy threshold of "
        f"{mc}, so no per-mentor figure is drawn; the test of the mentor variance above says "
        "whether mentors differ.",
    )


def _audit_blocks(M, t: Lang) -> list:
    """The school's scoring scheme against the shrunken estimates; the placebo check."""
    b: list = []
    if len(M.audit) and int(M.audit.iloc[0]["n_mentors"]) == 0:
        b += [
            Heading(t("学校现行考核方案的核查", "The school's own scoring scheme")),
            Para(
                t(
                    "本学年没有导师能按学校的考核办法评分（缺少满意度、成绩或奖惩记录），无法核查。",
                    "No mentor could be scored by the school's scheme this year (satisfaction, "
                    "exam or reward records are missing), so it cannot be checked.",
                )
            ),
        ]
    elif len(M.audit):
        au = M.audit.iloc[0]
        b += [
            Heading(t("学校现行考核方案的核查", "The school's own scoring scheme")),
            Para(
                t(
                    f"学校按正态分数合成满意度、成绩进步与奖惩积分的考核办法，与上述收缩估计的秩相关为{au['spearman']:.2f}；"
                    f"{int(au['n_mentors'])}名导师中有{int(au['n_band_changed'])}名（{au['share_band_changed']:.0%}）换用收缩估计后等级改变，"
                    f"原方案评为最高等级的{int(au['n_naive_top'])}名导师中，{int(au['n_naive_top_not_credible'])}名的优势在统计上并不可信。",
                    f"The school's normal-score scheme (satisfaction, exam progress, reward points) "
                    f"agrees with the shrunken estimates with a Spearman correlation of "
                    f"{au['spearman']:.2f}; {int(au['n_band_changed'])} of {int(au['n_mentors'])} "
                    f"mentors ({au['share_band_changed']:.0%}) change band, and of the "
                    f"{int(au['n_naive_top'])} mentors the scheme puts in the top band "
                    f"{int(au['n_naive_top_not_credible'])} are not credibly above average.",
                )
            ),
        ]
    if len(M.placebo):
        pl = M.placebo.iloc[0]
        b.append(
            Para(
                t(
                    f"安慰剂检验（身高不应受导师影响）：导师间差异 ICC = {pl['icc']:.3f}，p = {pvalue(pl['lrt_p'])}"
                    + (
                        "，出现异常，提示模型或分组存在问题。"
                        if bool(pl["flagged"])
                        else "，未见异常。"
                    ),
                    f"Placebo check (a mentor cannot change height): ICC = {pl['icc']:.3f}, "
                    f"p = {pvalue(pl['lrt_p'])}"
                    + (
                        ": FLAGGED, check the model or the grouping."
                        if bool(pl["flagged"])
                        else ": no sign of a problem."
                    ),
                ),
                "note",
            )
        )
    return b


def _dose_blocks(M, t: Lang, mc: int) -> list:
    """Talk and parent-contact frequencies against progress (GEE) and its figure."""
    b: list = []
    if mc != M.rules.min_cell:  # a --min-cell for this run only
        M = replace(M, rules=M.rules.with_changes(min_cell=mc))
    lv = level_text(M.rules.alpha)
    tabs = M.tables(public=True)
    dose = tabs.get("dose")
    if dose is not None and len(dose):
        b.append(Heading(t("谈心与家校联系频次", "Frequency of talks and parent contact")))
        rows = [
            [
                t(*EXPOSURE_LABELS.get(r.term, (r.term, r.term))),
                num(getattr(r, "ratio", np.nan)),
                numci(getattr(r, "ratio_low", np.nan), getattr(r, "ratio_high", np.nan), t=t),
                pvalue(r.p),
            ]
            for r in dose.itertuples(index=False)
        ]
        cols = [
            t("频次（每月每生）", "Frequency (per student per month)"),
            t("比值比（每多1次）", "Odds ratio (per one more)"),
            t(f"{lv}置信区间", f"{lv} CI"),
            "p",
        ]
        b += [
            Table(
                frame(rows, cols),
                t(
                    f"频次与“至少{zh_count(M.rules.k_dimensions)}个维度显著进步”的关联（GEE）",
                    "Frequency and significant progress (GEE)",
                ),
                "dose",
            ),
            Para(M.dose_warning["zh" if t.zh else "en"], "note"),
        ]
        obs = tabs["dose_observed"]
        curve = tabs["dose_curve"]
        if len(curve):
            d = DoseResponse(
                outcome="improved_any",
                method=M.dose_method,
                table=dose,
                curve=curve,
                observed=obs,
                n_students=0,
                n_mentors=0,
            )
            add_figure(
                b,
                t,
                "dose_response",
                t("频次与显著进步比例", "Frequency and the share progressing"),
                lambda: plot_dose_response(d, lang=t.code),
                15,
            )
    return b


def mentors_section(a: YearAnalyses, t: Lang, public: bool) -> Section:
    """Mentor effectiveness: models, ranking precision, the school's scheme, frequencies."""
    M, mc, level = a.mentors, a.min_cell, a.processed.level
    title = t("导师育人成效", "Mentor effectiveness")
    if M is None:
        why = "; ".join(a.notes) or "-"
        return Section(
            "mentors",
            title,
            [
                Para(
                    t(
                        f"本学年未能估计导师效应（{why}）。",
                        f"Mentor effects were not estimated ({why}).",
                    )
                ),
                Todo(t("说明原因。", "Explain why.")),
            ],
        )
    b = _models_blocks(M, level, t)
    b += _composite_blocks(a, M, t, public)
    b += _audit_blocks(M, t)
    b += _dose_blocks(M, t, mc)
    if not public:
        b += _mentor_internal(a, M, t)
    b.append(
        Todo(
            t(
                "结合导师工作记录与年级组意见，说明导师队伍建设的情况与下一步培训重点。",
                "What the records and the grade teams say about the mentor team, and next year's "
                "training priorities.",
            )
        )
    )
    return Section("mentors", title, b)


def _mentor_internal(a: YearAnalyses, M: MentorReport, t: Lang) -> list:
    """Internal only: each mentor by name, with the effect, its interval and ranking chances."""
    mc = a.min_cell
    e = M.effects.loc[M.effects["outcome"] == "composite"]
    # suppressed mentors go last (by ID): their place in the ranking would reveal the effect
    e = e.assign(_small=e["n"] < mc).sort_values(
        ["_small", "effect", "mentor_id"], ascending=[True, False, True], kind="stable"
    )
    rows = []
    for r in e.itertuples(index=False):
        small = as_float(r.n) < mc
        name = getattr(r, "mentor_name", None)
        rows.append(
            [
                "" if missing(name) else str(name),
                str(r.mentor_id),
                count_text(r.n, mc),
                f"<{mc}" if small else f"{as_float(r.effect):+.3f}",
                "—" if small else f"{as_float(r.ci_low):+.3f}, {as_float(r.ci_high):+.3f}",
                "—" if small else t.of(EFFECT_VERDICT_LABELS, r.verdict),
                "—" if small else pct(r.p_top, 0),
                "—" if small else pct(r.p_bottom, 0),
            ]
        )
    cols = [
        t("导师", "Mentor"),
        t("工号", "Staff ID"),
        t("受导学生", "Mentees"),
        t("效应", "Effect"),
        t(f"{a.level}区间", f"{a.level} interval"),
        t("判断", "Verdict"),
        t("前25%概率", "P(top 25%)"),
        t("后25%概率", "P(bottom 25%)"),
    ]
    out = [
        Heading(t("逐位导师的结果（内部）", "Each mentor (internal)")),
        Para(
            t(
                "下表仅供内部研讨导师培训与支持之用，不宜单独作为考核或奖惩依据：多数导师的区间相互重叠。",
                "For internal discussion of training and support only, not for appraisal on its "
                "own: most mentors' intervals overlap.",
            ),
            "note",
        ),
        Table(
            frame(rows, cols),
            t(
                "各导师的综合效应（按效应从高到低）",
                "Composite effect of each mentor (highest first)",
            ),
            "mentor_effects_internal",
        ),
    ]
    if len(M.comparison):
        c = (
            M.comparison.loc[M.comparison["n_mentees"] >= mc]
            if "n_mentees" in M.comparison
            else M.comparison
        )
        if len(c) > 2:
            add_figure(
                out,
                t,
                "scheme_vs_shrunk",
                t(
                    "学校考核方案得分与收缩估计",
                    "The school's scheme score against the shrunken effect",
                ),
                lambda: plot_naive_vs_shrunk(c, lang=t.code, confidence=1 - M.rules.alpha),
                12,
            )
    return out
