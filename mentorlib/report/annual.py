"""The annual summary (年度总结): one school year against every target of the programme.

Sections :data:`ANNUAL_SECTIONS`: the body in the shape of a real 年度总结
(:data:`~mentorlib.report.sections_narrative.NARRATIVE_SECTIONS`: 基本情况, 主要做法, 取得成效,
存在问题, 下一步计划, 典型案例, 落款), then the appendix (附录) a principal may skip: executive
summary, the KPI table, progress and its verdict, focus groups, mentor effectiveness, process
compliance, satisfaction and regrouping, data quality, the researcher's judgement, methods
(generated from the rules actually used).
"""

from __future__ import annotations

import pandas as pd

from ..effectiveness import MentorReport
from ..errors import InputError
from ..labels import Lang
from ..labels_compliance import UNMEASURED_TEXTS
from ..labels_units import COUNT_UNIT_HEADER, COUNT_UNITS
from ..privacy import Document
from ..rules import DEFAULT_SEED, Rulebook
from .analyses import YearAnalyses, analyse_year, resolve_min_cell
from .disclosure import printed
from .document import Para, Report, Section, Table, Todo
from .headline import certified_shown, plain_headline
from .levels import shows_target
from .methods import methods_section
from .render.fmt import as_float, ci, count_text, frame, missing, numci, pct, sep
from .sections_award import with_award
from .sections_mentors import effects_by_outcome, mentors_section
from .sections_narrative import NARRATIVE_SECTIONS, narrative_sections
from .sections_process import compliance_section, quality_section, satisfaction_section
from .sections_progress import focus_section, progress_section
from .shared import (
    compliance_kpi,
    judgement_section,
    kpi_frame,
    label_column,
    progress_kpi,
    rule_text,
    satisfaction_kpis,
    title_page,
    unmeasured_of,
    verdict_withheld_note,
)

__all__ = ["ANNUAL_SECTIONS", "annual_summary"]

#: Section keys of the annual summary's appendix, in order.
APPENDIX_SECTIONS: tuple[str, ...] = (
    "summary",
    "kpi",
    "progress",
    "focus",
    "mentors",
    "compliance",
    "satisfaction",
    "quality",
    "judgement",
    "methods",
)

#: Section keys of the annual summary, in order: the body, then the appendix.
ANNUAL_SECTIONS: tuple[str, ...] = NARRATIVE_SECTIONS + APPENDIX_SECTIONS


def _kpis(a: YearAnalyses, t: Lang) -> pd.DataFrame:
    """The KPI table of one year as numbers (the annual summary's ``Report.kpis``)."""
    s = a.progress.summary_dict()
    k_txt = t(
        f"至少{s['k']}个维度",
        "in at least one dimension" if s["k"] == 1 else f"in at least {s['k']} dimensions",
    )
    label = t(f"显著进步学生比例（{k_txt}）", f"Students progressing significantly ({k_txt})")
    rows = [progress_kpi(s, label, t, show_target=shows_target(a.processed.rules))]
    if a.compliance is not None:
        rows += [
            compliance_kpi(r, t, rule_text(r, t))
            for r in a.compliance.indicators.itertuples(index=False)
        ]
    year = a.satisfaction.loc[a.satisfaction["term"] == 0]
    if len(year):
        labels = (
            t("学生对导师的平均满意度（1–5分）", "Mean satisfaction with the mentor (1-5)"),
            t("希望更换导师的学生比例", "Students who want to change mentor"),
        )
        rows += satisfaction_kpis(
            next(year.itertuples(index=False)), labels, t("无量化目标", "no numeric target")
        )
    k = kpi_frame(rows)
    k["ci_text"] = [
        numci(lo, hi, t=t) if key == "satisfaction" else ("—" if missing(lo) else ci(lo, hi))
        for key, lo, hi in zip(k["key"], k["ci_low"], k["ci_high"], strict=True)
    ]
    return k


#: The disclosure-document cell of each KPI row's base n (other rows count other units).
_KPI_N_KEYS = {
    "progress": "n_evaluable",
    "satisfaction": "sat.0.n",
    "want_change": "sat.0.n_answer",
}


def _kpi_n(r, min_cell: int, doc: Document | None) -> tuple[str, bool]:
    """The printed base n of a KPI row and whether the row describes fewer than ``min_cell``.

    A registered count prints the document's own text (``"<5"`` only for a primary cell,
    ``"—"`` for a complementary one, never its value); an unregistered missing n prints
    ``"—"``.
    """
    key = _KPI_N_KEYS.get(r.key)
    if doc is not None and key in doc.cells:
        return doc.text(key), doc.status(key) == "primary"
    if missing(r.n):
        return "—", False
    small = int(r.n) < min_cell
    return (f"<{min_cell}" if small else count_text(r.n, min_cell)), small


def _kpi_table(k: pd.DataFrame, t: Lang, level: str, min_cell: int, doc: Document | None) -> Table:
    rows = []
    for r in k.itertuples(index=False):
        n, small = _kpi_n(r, min_cell, doc)
        unit = t.of(COUNT_UNITS, r.key, "—")
        if small:
            rows.append([r.label, f"<{min_cell}", "—", r.target_text, "—", n, unit])
        else:
            rows.append([r.label, r.value_text, r.ci_text, r.target_text, r.status, n, unit])
    cols = [
        t("指标", "Indicator"),
        t("数值", "Value"),
        t(f"{level}置信区间", f"{level} CI"),
        t("目标", "Target"),
        t("是否达成", "Met?"),
        t("计数基数 n", "Base n"),
        t.pair(COUNT_UNIT_HEADER),
    ]
    note = t(
        "注：过程指标的计数基数各不相同（学生、学生·月、导师·月或导师·学期，见“方法说明”）；"
        "显著进步比例的判定依据置信下限，“仅点估计达成”表示点估计达到而置信下限未达到目标。",
        "Note: process indicators count different units (students, student-months, "
        "mentor-months or mentor-terms; see Methods). The progress verdict uses the lower "
        "confidence bound: 'met by point estimate only' means the estimate reaches the target "
        "but its lower bound does not.",
    )
    return Table(
        frame(rows, cols), t("关键指标与目标对照", "Key indicators against targets"), "kpi", note
    )


def _comparison_para(s: dict, t: Lang, level: str) -> Para | None:
    """Mentees against non-mentees (middle school), with the regression-to-the-mean caveat."""
    cmp_ = s.get("comparison_naive")
    if not cmp_ or missing(cmp_.get("difference")):
        return None
    d, lo, hi = (cmp_[c] * 100 for c in ("difference", "ci_low", "ci_high"))
    zh_dir, en_dir = ("高", "higher") if d >= 0 else ("低", "lower")
    return Para(
        t(
            f"未作调整时，能确认有明显进步的受导学生比例比未受导学生{zh_dir}{abs(d):.1f}个百分点"
            f"（差值可能在{lo:+.1f}到{hi:+.1f}个百分点之间）；"
            "受导学生是因需要而被推荐的，前测偏低的学生后测本来就容易回升，这一差异不能视为导师制的效果。",
            f"Unadjusted, the share confirmed to improve was {abs(d):.1f} percentage points "
            f"{en_dir} among mentees than among non-mentees (the difference probably between "
            f"{lo:+.1f} and {hi:+.1f} points); mentees were nominated for need, and students who "
            "start low tend to score higher anyway, so this is not the programme's effect.",
        )
    )


def _process_para(ind: pd.DataFrame, t: Lang) -> Para:
    """How many process indicators with a target were met, and which were not."""
    have = ind.loc[ind["passed"].notna()]
    met = have.loc[have["passed"].astype(bool)]
    miss = have.loc[~have["passed"].astype(bool)]
    lab = label_column(t)
    missed = sep(t).join(
        f"{r[lab]}{pct(r['value'])}" if t.zh else f"{r[lab].lower()} {pct(r['value'])}"
        for _, r in miss.iterrows()
    )
    n_gap = sum(1 for _, r in ind.iterrows() if unmeasured_of(r))
    gap = t("；", "; ") + t.pair(UNMEASURED_TEXTS["count"]).format(n=n_gap) if n_gap else ""
    return Para(
        t(
            f"过程落实方面，{len(have)}项有明确目标的过程指标中{len(met)}项达标"
            + (f"；未达标的是：{missed}" if len(miss) else "")
            + gap
            + "。",
            f"Process records: {len(met)} of the {len(have)} indicators with a target "
            "were met" + (f"; not met: {missed}" if len(miss) else "") + gap + ".",
        )
    )


def _mentors_para(M: MentorReport | None, t: Lang, alpha: float) -> Para | None:
    """The share of variation between mentors and how many stand out (composite outcome)."""
    if M is None or not len(M.models):
        return None
    icc = dict(zip(M.models["outcome"].astype(str), M.models["icc"], strict=True))
    e = effects_by_outcome(M).get("composite")
    if "composite" not in icc or e is None:
        return None
    p_lrt = dict(zip(M.models["outcome"].astype(str), M.models["lrt_p"], strict=True))
    if missing(p_lrt.get("composite")) or as_float(p_lrt["composite"]) >= alpha:
        # no ICC headline when the mentor variance cannot be told from zero (issue 15)
        return Para(
            t(
                "导师之间综合发展水平的差异在统计上与零无法区分（检验见“导师效应”部分），本学年不报告可归因于导师的差异比例；"
                f"{int(e['n_mentors'])}名导师中{int(e['n_above'])}名明显高于平均、{int(e['n_below'])}名明显低于平均。",
                "The mentors' differences in overall development cannot be told from zero (see "
                "Mentor effects), so no share of variation due to mentors is reported; of "
                f"{int(e['n_mentors'])} mentors, clearly above average: {int(e['n_above'])}; "
                f"clearly below: {int(e['n_below'])}.",
            )
        )
    share = as_float(icc["composite"])
    counts = (
        f"{int(e['n_mentors'])}名导师中{int(e['n_above'])}名明显高于平均、"
        f"{int(e['n_below'])}名明显低于平均，其余与平均水平无法区分。"
    )
    return Para(
        t(
            f"导师之间综合发展水平的差异较小：学生之间的差异只有{share:.1%}可归因于导师，" + counts
            if share < 0.05
            else f"学生综合发展的差异有{share:.1%}可归因于导师；" + counts,
            f"Mentors account for {share:.1%} of the differences between students in "
            f"overall development. Of {int(e['n_mentors'])} mentors, clearly above "
            f"average: {int(e['n_above'])}; clearly below: {int(e['n_below'])}; the "
            "rest cannot be told apart from the average.",
        )
    )


def _satisfaction_para(k: pd.DataFrame, t: Lang) -> Para | None:
    """The year's mean satisfaction and the share wanting another mentor."""
    kk = k.set_index("key")
    if "satisfaction" not in kk.index or missing(kk.at["satisfaction", "value"]):
        return None
    mean, want = as_float(kk.at["satisfaction", "value"]), pct(kk.at["want_change", "value"])
    return Para(
        t(
            f"学生对导师的平均满意度为{mean:.2f}分（满分5分），{want}的学生表示希望更换导师。",
            f"Mean satisfaction with the mentor was {mean:.2f} "
            f"out of 5; {want} of students said they would like to change mentor.",
        )
    )


def _lead_para(a: YearAnalyses, t: Lang) -> Para:
    """The three numbers in plain words (:func:`~mentorlib.report.headline.plain_headline`)."""
    n = printed(a, "n_evaluable", a.progress.headline_row(public=False)["n_evaluable"])
    return Para(("" if t.zh else " ").join(plain_headline(a, t, n)), "lead")


def _sec_summary(a: YearAnalyses, t: Lang, k: pd.DataFrame) -> Section:
    """The executive summary: it opens with the certified share, the estimated true share and
    what they mean for the target, in plain words (the methods section defines them)."""
    b: list = [_lead_para(a, t)]
    paras = [
        _comparison_para(a.progress.summary_dict(), t, a.level),
        None if a.compliance is None else _process_para(a.compliance.indicators, t),
        _mentors_para(a.mentors, t, a.processed.rules.alpha),
        _satisfaction_para(k, t),
    ]
    b += [x for x in paras if x is not None]
    b.append(
        Todo(
            t(
                "研究者的总体评价：本学年工作的主要成绩、存在的问题及其原因（请结合上述数字和学校实际撰写，"
                "并说明数字的局限）。",
                "The researcher's overall assessment: the year's main achievements, the problems "
                "and their causes, in the light of these numbers and their limits.",
            )
        )
    )
    return Section("summary", t("执行摘要", "Executive summary"), b)


def _sec_kpi(a: YearAnalyses, t: Lang, k: pd.DataFrame) -> Section:
    table = _kpi_table(k, t, a.level, a.min_cell, a.disclosure)
    headline = pd.DataFrame({"suppressed": [not certified_shown(a.progress)]})
    table.note += verdict_withheld_note(headline, t, a.min_cell)
    b: list = [
        Para(
            t(
                "下表逐项对照实施方案中的量化目标。数值均由本学年的测评与过程记录计算得出。",
                "The table sets every numeric target of the programme against this year's value, "
                "computed from the assessments and the process records.",
            )
        ),
        table,
        Todo(
            t(
                "对未达成的指标逐项说明原因与改进措施。",
                "For each target not met: the reasons and what will change.",
            )
        ),
    ]
    return Section("kpi", t("关键指标一览", "Key indicators"), b)


def _annual_sections(
    a: YearAnalyses, t: Lang, k: pd.DataFrame, public: bool, rules: Rulebook
) -> list[Section]:
    """The sections of :data:`ANNUAL_SECTIONS`, in order (``k``: the KPI table): the body,
    then the statistical detail as the appendix."""
    appendix = [
        _sec_summary(a, t, k),
        _sec_kpi(a, t, k),
        progress_section(a, t),
        focus_section(a, t),
        with_award(mentors_section(a, t, public), a, t, public),  # middle: the award
        compliance_section(a, t, public),
        satisfaction_section(a, t),
        quality_section(a, t, public),
        judgement_section(t, "annual_summary"),
        methods_section(t, rules, review=False, min_cell=a.min_cell, seed=a.seed),
    ]
    for s in appendix:
        s.appendix = True
    return narrative_sections(a, t) + appendix


def annual_summary(
    processed,
    year: int,
    *,
    lang: str = "zh",
    public: bool = True,
    min_cell: int | None = None,
    seed: int = DEFAULT_SEED,
    analyses: YearAnalyses | None = None,
) -> Report:
    """Draft the annual summary (年度总结) of one school year.

    Parameters
    ----------
    processed : mentorlib.data.Processed
        The study.
    year : int
        The school year (2024 = 2024-2025 学年); it needs a post-wave assessment.
    lang : {"zh", "en"}, default "zh"
    public : bool, default True
        False drafts the internal version: mentors named, per-mentor tables, technical
        notes; its title says 内部版 / internal.
    min_cell : int, optional
        Cells and figure elements describing fewer students are suppressed ("<5"); default
        the study's rule (``processed.rules.min_cell``, 5).
    seed : int, default :data:`mentorlib.rules.DEFAULT_SEED`
        Seeds the analyses (bootstrap, ranking simulation); recorded in the methods section.
    analyses : YearAnalyses, optional
        Precomputed :func:`analyse_year` results (same year and min_cell), to draft several
        versions without recomputing.

    Returns
    -------
    Report
        Sections :data:`ANNUAL_SECTIONS`; ``kpis`` holds the KPI table as numbers.
    """
    t = Lang(lang)
    min_cell = resolve_min_cell(processed, min_cell)
    processed = processed.up_to(year)  # never a later year (issue 16)
    a = (
        analyses
        if analyses is not None
        else analyse_year(processed, year, min_cell=min_cell, seed=seed)
    )
    if a.year != year or a.min_cell != min_cell:
        raise InputError("the analyses passed were computed for another year or min_cell")
    k = _kpis(a, t)
    title, subtitle, front = title_page(
        processed, "annual_summary", (year,), public, a.synthetic, t, min_cell=min_cell
    )
    return Report(
        kind="annual_summary",
        lang=lang,
        public=public,
        years=(year,),
        title=title,
        subtitle=subtitle,
        front=front,
        sections=_annual_sections(a, t, k, public, processed.rules),
        kpis=k,
        meta={
            "school": processed.school,
            "study": processed.name,
            "level": processed.level,
            "synthetic": a.synthetic,
            "min_cell": min_cell,
            "seed": a.seed,
        },
        disclosure=a.disclosure,
    )
