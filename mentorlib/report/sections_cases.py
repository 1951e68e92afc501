"""The case conferences (个案分析) in the reports: how many the grade groups held, by grade and
month, and the coverage of the students who needed one (:mod:`mentorlib.compliance.cases`).

Shown only where the level's rulebook asks for case conferences (``rules.case_conferences``:
the middle school). The counts are of meetings, not students, and are printed as they are; the
coverage is a compliance indicator that counts students, printed as the reports' disclosure
document left it (:func:`mentorlib.report.disclosure.register_compliance`).
"""

from __future__ import annotations

import pandas as pd

from .. import calendar
from ..compliance import case_conference_table
from ..labels import Lang
from ..labels_cases import CASE_CONFERENCE_INDICATOR
from ..labels_cases import CASE_CONFERENCE_TEXTS as TX
from .document import Heading, Para, Table
from .render.fmt import count_text, frame, missing, pct, sep, year_label
from .shared import indicator_verdict, unmeasured_item, unmeasured_of

__all__ = ["case_conference_blocks", "case_review_bullets"]


def _grade_text(g, t: Lang) -> str:
    return t.of(TX, "unknown_grade") if missing(g) else t(f"{int(g)}年级", f"grade {int(g)}")


def _counts_table(counts: pd.DataFrame, t: Lang, year: int) -> Table:
    """Grades x months of the conferences held, with totals (every school month, so a month
    without one shows as 0)."""
    school = {calendar.month_label(cy, m) for cy, m in calendar.year_months(year)}
    months = sorted(school | set(counts["month"]))
    g = counts.assign(grade=counts["grade"].astype("Int64"))
    grades = list(dict.fromkeys(g.sort_values("grade", na_position="last")["grade"]))
    rows = []
    for gr in grades:
        sel = g.loc[g["grade"].isna()] if missing(gr) else g.loc[g["grade"] == gr]
        per = sel.groupby("month")["n_conferences"].sum()
        rows.append(
            [
                _grade_text(gr, t),
                *[str(int(per.get(m, 0))) for m in months],
                str(int(per.sum())),
            ]
        )
    tot = g.groupby("month")["n_conferences"].sum()
    rows.append(
        [t.of(TX, "total"), *[str(int(tot.get(m, 0))) for m in months], str(int(tot.sum()))]
    )
    cols = [t.of(TX, "grade"), *[t(f"{m[:4]}年{int(m[5:])}月", m) for m in months]]
    return Table(frame(rows, [*cols, t.of(TX, "total")]), t.of(TX, "counts_caption"), "cases")


def _coverage_para(row, t: Lang, min_cell: int) -> Para:
    """The coverage sentence, or why it is not available."""
    if unmeasured_of(row):  # "需个案分析学生的覆盖率（无活动记录）：无记录，未评估。"
        what = unmeasured_item(row, t.pair(CASE_CONFERENCE_INDICATOR), t)
        return Para(
            t(f"{what}：", f"{what}: ") + indicator_verdict(row, t) + t("。", "."), "bullet"
        )
    if missing(row["value"]):
        if "not available" in str(row["note"]):
            return Para(t.of(TX, "not_available"), "bullet")
        return Para(
            t(
                f"需个案分析的学生：{count_text(row['n'], min_cell)}人，覆盖率不报告。",
                f"Students needing a case conference: {count_text(row['n'], min_cell)}; "
                "coverage not reported.",
            ),
            "bullet",
        )
    return Para(
        t(
            f"需个案分析的{count_text(row['n'], min_cell)}名学生中，{pct(row['value'])}"
            "在本学年的个案分析记录中被提及。",
            f"Of the {count_text(row['n'], min_cell)} students needing a case conference, "
            f"{pct(row['value'])} were named in a case-conference record this year.",
        ),
        "bullet",
    )


def case_conference_blocks(C, rules, t: Lang, min_cell: int) -> list:
    """The annual summary's case-conference block (``C``: the year's ComplianceReport, its
    indicators as the disclosure document prints them); empty where the plan has none."""
    if C is None or not rules.case_conferences:
        return []
    ind = C.indicators.set_index("indicator")
    counts = C.case_conferences
    n = int(counts["n_conferences"].sum()) if len(counts) else 0
    b: list = [Heading(t.of(TX, "heading"))]
    if n:
        b.append(
            Para(
                t(
                    f"本学年共记录个案分析{n}次（各年级组按月统计见下表）。",
                    f"{n} case conferences were recorded this year (by grade group and month "
                    "below).",
                )
            )
        )
        b.append(_counts_table(counts, t, C.year))
    else:
        b.append(Para(t.of(TX, "none_held")))
    if "case_conference" in ind.index:
        b.append(_coverage_para(ind.loc["case_conference"], t, min_cell))
    b.append(Para(t.of(TX, "needing"), "note"))
    return b


def case_review_bullets(p, t: Lang) -> list:
    """The review's bullets: conferences held each year (by grade) and the coverage each year
    (``p``: PilotAnalyses; its compliance trend as the disclosure document prints it)."""
    if not p.processed.rules.case_conferences:
        return []
    parts = []
    for y in p.years:
        c = case_conference_table(p.processed, y)
        by = c.groupby(c["grade"].astype("Int64"), dropna=False)["n_conferences"].sum()
        detail = sep(t).join(f"{_grade_text(g, t)} {int(k)}" for g, k in by.items())
        total = int(c["n_conferences"].sum()) if len(c) else 0
        parts.append(
            f"{year_label(y, t)} {total}" + (t(f"（{detail}）", f" ({detail})") if total else "")
        )
    b = [
        Para(
            t(
                f"个案分析次数：{sep(t).join(parts)}。",
                f"Case conferences held: {sep(t).join(parts)}.",
            ),
            "bullet",
        )
    ]
    cov = p.compliance.loc[p.compliance["indicator"] == "case_conference"].sort_values("year")
    if len(cov) and cov["value"].notna().any():
        vals = sep(t).join(
            f"{year_label(int(r.year), t)} {pct(r.value)}" for r in cov.itertuples(index=False)
        )
        b.append(
            Para(
                t(
                    f"需个案分析学生的覆盖率：{vals}。",
                    f"Students needing a case conference who had one: {vals}.",
                ),
                "bullet",
            )
        )
    elif len(cov):
        b.append(Para(t.of(TX, "not_available"), "bullet"))
    b.append(Para(t.of(TX, "needing"), "note"))
    return b
