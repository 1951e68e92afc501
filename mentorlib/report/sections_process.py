"""Sections of the annual summary on the process: compliance with the plan's rules,
satisfaction and regrouping, data quality."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..compliance import ComplianceReport
from ..labels import MISSING_KIND_LABELS, REASON_LABELS, SOURCE_LABELS, Lang
from ..labels_privacy import CLEANING_TEXTS
from ..labels_units import COUNT_UNIT_HEADER, COUNT_UNITS, RESPONSES_HEADER, SATISFACTION_WHOLE_YEAR
from ..plots import plot_counts, plot_lines
from ..progress import shared_items_note
from ..quality import KIND_ZH
from ..rules import Rulebook
from .analyses import YearAnalyses
from .disclosure import CLEANING_COUNTS, cleaning_key, printed
from .document import Heading, Para, Section, Table, Todo
from .render.fmt import ci, count_text, en_count, frame, missing, num, numci, pct, zh_count
from .render.fmt import share as share_text
from .sections_cases import case_conference_blocks
from .shared import (
    add_figure,
    indicator_verdict,
    label_column,
    passed_text,
    technical_notes,
    unmeasured_of,
)
from .sources import missing_kinds

__all__ = ["compliance_intro", "compliance_section", "quality_section", "satisfaction_section"]


def _month_text(m: str, t: Lang) -> str:
    return t(f"{m[:4]}年{int(m[5:])}月", m)


def _indicator_grid(
    frame: pd.DataFrame, key: str, keys, key_text, inds, min_cell: int
) -> list[list]:
    """Rows of a key (month, grade) x indicator table of shares, suppressed cells as "<min_cell"."""
    rows = []
    for k in keys:
        row = [key_text(k)]
        for ind in inds:
            c = frame.loc[(frame[key] == k) & (frame["indicator"] == ind)]
            if not len(c):
                row.append("—")
            elif bool(c["suppressed"].iloc[0]):
                row.append(f"<{min_cell}")
            else:
                row.append(pct(c["value"].iloc[0]))
        rows.append(row)
    return rows


def compliance_intro(rules: Rulebook, t: Lang) -> str:
    """What a process indicator measures, with the plan's talk frequencies from ``rules``."""
    talks = rules.talks_per_month
    examples = [f"每位学生每月至少{zh_count(talks)}次谈心"]
    if rules.three_party_per_month:
        examples.append(f"每月至少{zh_count(rules.three_party_per_month)}次三方沟通")
    talk_en = f"at least {en_count(talks)} talk{'s' if talks > 1 else ''} with each student a month"
    return t(
        f"过程指标以实施方案的要求为目标（如{'、'.join(examples)}），"
        "数值为达到要求的学生·月（或导师·月、导师·学期）所占比例；要求为100%时，"
        "只有每个计数单位都做到才算达标。",
        "Each process indicator is the share of student-months (or mentor-months, "
        f"mentor-terms) that met the plan's rule (e.g. {talk_en}"
        "); with a 100% target the rule must hold in every unit counted.",
    )


def _by_month_blocks(C, t: Lang, mc: int) -> list:
    """The process indicators month by month: a table and a figure."""
    b: list = []
    bm = C.by_month
    lab = label_column(t)
    if len(bm):
        inds = list(dict.fromkeys(bm["indicator"]))
        names = C.indicators.set_index("indicator")[lab].to_dict()
        months = sorted(bm["month"].unique())
        rows = _indicator_grid(bm, "month", months, lambda m: _month_text(m, t), inds, mc)
        cols = [t("月份", "Month"), *[names.get(i, i) for i in inds]]
        b += [
            Heading(t("分月情况", "By month")),
            Table(
                frame(rows, cols),
                t("各月过程指标", "Process indicators by month"),
                "compliance_month",
            ),
        ]
        plot_df = bm.loc[~bm["suppressed"].astype(bool)].assign(
            name=lambda d: d["indicator"].map(names), label=lambda d: d["month"]
        )
        add_figure(
            b,
            t,
            "compliance_by_month",
            t("各月过程指标达标比例", "Process indicators by month"),
            lambda: plot_lines(
                plot_df,
                x="month",
                y="value",
                group="name",
                target=1.0,
                ylabel=t("达到要求的比例", "share meeting the rule"),
                lang=t.code,
                xticklabels={m: t(f"{int(m[5:])}月", m[2:]) for m in months},
            ),
            14,
        )
    return b


def _by_grade_blocks(C, t: Lang, mc: int) -> list:
    """The process indicators by grade (a table)."""
    b: list = []
    bg = C.by_grade
    lab = label_column(t)
    if len(bg):
        inds = list(dict.fromkeys(bg["indicator"]))
        names = C.indicators.set_index("indicator")[lab].to_dict()
        grades = sorted(pd.to_numeric(bg["grade"]).unique())
        rows = _indicator_grid(
            bg.assign(grade=pd.to_numeric(bg["grade"])),
            "grade",
            grades,
            lambda g: t(f"{g}年级", f"grade {g}"),
            inds,
            mc,
        )
        cols = [t("年级", "Grade"), *[names.get(i, i) for i in inds]]
        b += [
            Heading(t("分年级情况", "By grade")),
            Table(
                frame(rows, cols),
                t("各年级过程指标", "Process indicators by grade"),
                "compliance_grade",
            ),
        ]
    return b


def compliance_section(a: YearAnalyses, t: Lang, public: bool) -> Section:
    """Process compliance: every indicator against its rule, by month, by grade, by mentor."""
    C, mc = a.compliance, a.min_cell
    title = t("过程落实情况", "Process compliance")
    if C is None:
        return Section(
            "compliance",
            title,
            [Para(t("本学年无过程记录，未能评估。", "No process records this year."))],
        )
    lab = label_column(t)
    rows = []
    for _, r in C.indicators.iterrows():
        if unmeasured_of(r):  # no records: "no records, not assessed", no value, no n
            rows.append(
                [r[lab], "—", t(r["target_zh"], r["target_en"]), indicator_verdict(r, t), "—"]
                + [t.of(COUNT_UNITS, r["indicator"], "—")]
            )
            continue
        small = not missing(r["n"]) and r["n"] < mc
        rows.append(
            [
                r[lab],
                f"<{mc}" if small else pct(r["value"]),
                t(r["target_zh"], r["target_en"]),
                "—" if small else passed_text(r["passed"], t),
                count_text(r["n"], mc),
                t.of(COUNT_UNITS, r["indicator"], "—"),
            ]
        )
    cols = [
        t("指标", "Indicator"),
        t("数值", "Value"),
        t("要求", "Rule"),
        t("是否达标", "Met?"),
        t("计数基数 n", "Base n"),
        t.pair(COUNT_UNIT_HEADER),
    ]
    b: list = [
        Para(compliance_intro(a.processed.rules, t)),
        Table(
            frame(rows, cols),
            t("过程指标与要求", "Process indicators against the rules"),
            "compliance",
        ),
    ]
    b += _by_month_blocks(C, t, mc)
    b += _by_grade_blocks(C, t, mc)
    b += case_conference_blocks(C, a.processed.rules, t, mc)
    if len(C.by_grade_month):
        add_figure(
            b,
            t,
            "compliance_grade_month",
            t("各年级每月过程指标达标比例", "Process indicators by grade and month"),
            lambda: C.grade_month_figure(lang=t.code),
            16,
        )
    # the 180-row mentor grid tells a principal little: internal version only
    if not public and len(C.by_mentor) and (C.by_mentor["indicator"] == "talk").any():
        add_figure(
            b,
            t,
            "talk_heatmap",
            t("各导师每月谈心达标情况（内部）", "Talks: each mentor by month (internal)"),
            # always the public grid: a named row of a small group would describe its students
            lambda: C.heatmap(lang=t.code, indicator="talk", public=True),
            14,
        )
        b += _compliance_internal(a, C, t)
    b.append(
        Todo(
            t(
                "对未达标的过程指标说明原因（如记录遗漏或工作未落实），并提出改进措施。",
                "For each rule not met: was the work not done or not recorded? What will change?",
            )
        )
    )
    return Section("compliance", title, b)


def _compliance_internal(a: YearAnalyses, C: ComplianceReport, t: Lang) -> list:
    """Internal only: the mentors with the lowest talk compliance, by name."""
    mc = a.min_cell
    bm = C.by_mentor
    names = {}
    st = a.processed["staff"] if "staff" in a.processed else None
    if st is not None and "name" in st.columns:
        s = st.loc[st["year"] == a.year]
        names = dict(zip(s["staff_id"].astype(str), s["name"].astype(str), strict=True))
    per = []
    for (mid, ind), g in bm.groupby(["mentor_id", "indicator"], sort=True):
        if ind not in ("talk", "three_party"):
            continue
        n = g["n"].to_numpy(dtype=float)
        per.append((str(mid), ind, float((g["value"] * g["n"]).sum() / n.sum()), int(n.max())))
    if not per:
        return []
    df = pd.DataFrame(per, columns=["mentor_id", "indicator", "value", "n"])
    wide = df.pivot(index="mentor_id", columns="indicator", values="value")
    size = df.groupby("mentor_id")["n"].max()
    # mentors with too few mentees are not ranked (their place would reveal the value)
    wide = wide.assign(n=size).loc[lambda d: d["n"] >= mc]
    wide = wide.sort_values(["talk", "n"], kind="stable").head(15)
    rows = []
    for mid, r in wide.iterrows():
        small = r["n"] < mc
        rows.append(
            [
                names.get(str(mid), ""),
                str(mid),
                count_text(r["n"], mc),
                f"<{mc}" if small else pct(r.get("talk")),
                f"<{mc}" if small else pct(r.get("three_party", np.nan)),
            ]
        )
    cols = [
        t("导师", "Mentor"),
        t("工号", "Staff ID"),
        t("受导学生", "Mentees"),
        t("谈心达标率", "Talks met"),
        t("三方沟通达标率", "Three-party met"),
    ]
    return [
        Heading(t("谈心达标率最低的导师（内部）", "Mentors with the fewest talks (internal)")),
        Table(
            frame(rows, cols),
            t("谈心达标率最低的15名导师", "The 15 mentors with the lowest talk compliance"),
            "compliance_mentors_internal",
        ),
    ]


def _satisfaction_table(a: YearAnalyses, t: Lang) -> list:
    """Satisfaction and the wish to change mentor, by term and for the whole year."""
    sat = a.satisfaction
    b: list = []
    if not len(sat):
        return []
    rows = []
    for r in sat.itertuples(index=False):
        rows.append(
            [
                t.pair(SATISFACTION_WHOLE_YEAR)
                if r.term == 0
                else t(f"第{r.term}学期", f"term {r.term}"),
                printed(a, f"sat.{r.term}.n", r.n),
                num(r.mean),
                numci(r.ci_low, r.ci_high, t=t),
                printed(a, f"sat.{r.term}.n_want", r.n_want),
                pct(r.want),
                ci(r.want_low, r.want_high),
            ]
        )
    cols = [
        t("调查", "Survey"),
        t.pair(RESPONSES_HEADER),
        t("平均满意度", "Mean satisfaction"),
        t(f"{a.level}置信区间", f"{a.level} CI"),
        t("希望更换导师", "Want to change"),
        t("比例", "Share"),
        t(f"{a.level}置信区间", f"{a.level} CI"),
    ]
    b += [
        Para(
            t(
                "每学期末学生填写师生满意度调查（5个题目，1–5分），并回答是否希望更换导师及理由。"
                "全学年一行合并两个学期的全部回答。",
                "At the end of each term students rate their mentor (5 items, 1-5) and say "
                "whether they want to change mentor and why. The whole-year row pools both terms.",
            )
        ),
        Table(
            frame(rows, cols),
            t("学生满意度与更换导师意愿", "Satisfaction and wish to change mentor"),
            "satisfaction",
        ),
    ]
    return b


def _reasons_blocks(a: YearAnalyses, t: Lang) -> list:
    """Why students want to change mentor: a table and a figure."""
    mc = a.min_cell
    b: list = []
    if len(a.reasons):
        labels = [t(*REASON_LABELS.get(r, (r, r))) for r in a.reasons["reason"]]
        texts = [
            printed(a, f"reasons.{r}", n)
            for r, n in zip(a.reasons["reason"], a.reasons["n"], strict=True)
        ]
        rows = [[lab, x] for lab, x in zip(labels, texts, strict=True)]
        b.append(
            Table(
                frame(rows, [t("理由", "Reason"), t("人次", "Responses")]),
                t("希望更换导师的理由", "Reasons for wanting to change mentor"),
                "change_reasons",
            )
        )
        counts = a.reasons["n"].tolist()
        add_figure(
            b,
            t,
            "change_reasons",
            t("希望更换导师的理由（人次）", "Reasons for wanting to change mentor (responses)"),
            lambda: plot_counts(
                labels,
                counts,
                min_cell=mc,
                xlabel=t("人次", "responses"),
                lang=t.code,
                texts=texts,
            ),
            12,
        )
    return b


def _regroup_blocks(a: YearAnalyses, t: Lang) -> list:
    """The changes of mentor in the year, against the plan's cap, and their reasons."""
    b: list = []
    rg = a.regroup
    if rg:
        share = None
        if a.compliance is not None:
            ind = a.compliance.indicators.set_index("indicator")
            if "regroup_share" in ind.index:
                share = ind.loc["regroup_share"]
        b.append(Heading(t("分组调整", "Regrouping")))
        txt = t(
            f"本学年有导师的学生{printed(a, 'regroup.n_students', rg['n_students'])}名，"
            f"学年初调整{printed(a, 'regroup.start', rg['n_start'])}名，"
            f"第二学期更换导师{printed(a, 'regroup.term2', rg['n_term2'])}名",
            f"{printed(a, 'regroup.n_students', rg['n_students'])} students had a mentor; "
            f"{printed(a, 'regroup.start', rg['n_start'])} were regrouped at the start of the year "
            f"and {printed(a, 'regroup.term2', rg['n_term2'])} changed mentor in term 2",
        )
        if share is not None and not missing(share["value"]):
            cap = share_text(a.processed.rules.max_regroup_share)
            txt += t(
                f"；单次调整的最大比例为{pct(share['value'])}，{'符合' if bool(share['passed']) else '超出'}“不超过{cap}”的规定。",
                f"; the largest share in one adjustment was {pct(share['value'])}, "
                f"{'within' if bool(share['passed']) else 'above'} the {cap} limit.",
            )
        else:
            txt += t("。", ".")
        b.append(Para(txt))
        if len(a.regroup_reasons):
            rows = [
                [t(*REASON_LABELS.get(r, (r, r))), printed(a, f"regroup.reason.{r}", n)]
                for r, n in zip(a.regroup_reasons["reason"], a.regroup_reasons["n"], strict=True)
            ]
            b.append(
                Table(
                    frame(rows, [t("记录的调整原因", "Recorded reason"), t("人数", "Students")]),
                    t("更换导师的原因", "Reasons for the changes of mentor"),
                    "regroup_reasons",
                )
            )
    return b


def satisfaction_section(a: YearAnalyses, t: Lang) -> Section:
    """Satisfaction with the mentor, the wish to change, and the regrouping of the year."""
    b: list = _satisfaction_table(a, t) + _reasons_blocks(a, t) + _regroup_blocks(a, t)
    if not b:
        b.append(
            Para(
                t(
                    "本学年无满意度调查或分组记录。",
                    "No satisfaction survey or grouping records this year.",
                )
            )
        )
    b.append(
        Todo(
            t(
                "结合满意度调查与调整情况，评价分组的合理性及学生、家长的反馈。",
                "How well the grouping worked, in the light of the survey, the changes and what "
                "students and parents said.",
            )
        )
    )
    return Section("satisfaction", t("满意度与分组调整", "Satisfaction and regrouping"), b)


def _coverage_blocks(a: YearAnalyses, t: Lang) -> list:
    """Who was to be assessed and who lacks a test; the data sources of the year."""
    rows = [
        [t.of(SOURCE_LABELS, src), printed(a, f"coverage.{src}", n)]
        for src, n in zip(a.coverage["source"], a.coverage["n"], strict=True)
    ]
    s = a.progress.summary_dict()
    n_all, n_not = (
        printed(a, "n_students", s["n_students"]),
        printed(a, "n_not_evaluable", s["n_not_evaluable"]),
    )
    share = (
        f"{s['n_not_evaluable'] / max(s['n_students'], 1):.1%}"
        if s["n_not_evaluable"] is not None
        and s["n_students"] is not None
        and s["n_evaluable"] is not None
        and min(s["n_not_evaluable"], s["n_evaluable"]) >= a.min_cell
        else "—"
    )
    return [
        Para(
            t(
                f"本学年名册上的评估对象{n_all}名，其中{n_not}名缺少前测或后测"
                f"（{share}）。缺测学生在主口径中不计入分母，"
                "在“缺测计为未进步”的口径中计为未进步，两种结果均已报告。",
                f"{n_all} students were to be assessed; {n_not} "
                f"({share}) lack a pre or post test. "
                "The headline leaves them out of the denominator; the second rule counts them as "
                "not progressing; both are reported.",
            )
        ),
        Table(
            frame(rows, [t("数据来源", "Source"), t("数量", "Count")]),
            t("本学年的数据覆盖", "Data available this year"),
            "coverage",
        ),
    ]


def _cleaning_blocks(a: YearAnalyses, t: Lang) -> list:
    """What the cleaner kept, merged and quarantined, per source kind (all years)."""
    cl = a.cleaning
    if cl is None or not len(cl):
        return []
    rows = []
    for r in cl.itertuples(index=False):
        kind = str(r.kind)
        rows.append(
            [
                t(KIND_ZH.get(kind, kind), kind),
                *(printed(a, cleaning_key(kind, c), getattr(r, c)) for c in CLEANING_COUNTS),
            ]
        )
    cols = [
        t("来源类型", "Source kind"),
        t("原始行数", "Rows in"),
        t("保留", "Kept"),
        t("合并（重复提交）", "Merged (duplicates)"),
        t("隔离（无法使用）", "Quarantined"),
    ]
    return [
        Para(
            t(
                "数据清洗（全部学年）：每一行原始数据或被保留，或作为重复提交合并，或因无法使用而隔离并记录原因。",
                "Cleaning (all years): every raw row was kept, merged as a duplicate, or "
                "quarantined with a reason.",
            )
        ),
        Table(
            frame(rows, cols),
            t("数据清洗概况", "Cleaning overview"),
            "cleaning",
            t.pair(CLEANING_TEXTS["note"]).format(min_cell=a.min_cell),
        ),
    ]


def quality_section(a: YearAnalyses, t: Lang, public: bool) -> Section:
    """Data quality: who was assessed, the sources of the year, the cleaning, notes."""
    b: list = _coverage_blocks(a, t) + _cleaning_blocks(a, t)
    b += [  # an optional kind the year has no rows of: one line each, instead of its tables
        Para(t(*MISSING_KIND_LABELS[k]), "note") for k in missing_kinds(a.processed, a.year)
    ]
    used = shared_items_note(
        a.progress.shared_items, a.processed.codebook("assessment"), a.year, t.code
    )
    if used:  # a questionnaire that changed: which items the change used
        b.append(Para(used, "note"))
    notes = list(a.notes) + list(a.progress.notes)
    if a.mentors is not None:
        notes += list(a.mentors.notes)
    if notes and not public:
        b += technical_notes(notes, t)
    b.append(
        Todo(
            t(
                "说明数据收集中的问题（如漏测、记录不全）及下一学年的改进。",
                "Problems in collecting the data (missed tests, incomplete records) and how to fix them.",
            )
        )
    )
    return Section("quality", t("数据质量说明", "Data quality"), b)
