"""The body of the pilot review in the shape of a real 试点评估报告 (issue 16 item 2).

Sections (:data:`REVIEW_NARRATIVE`): 试点背景 (the school, the years, the plan's targets from
the rulebook), 实施阶段 (the years with what changed, from the rosters, groups and records),
then the review's summary (主要成效), 经验与模式提炼 (the process indicators met or missed in
every year), 保障措施 (certified and backbone mentors by year; the middle school's award
budget), 推广建议 (the verdicts by year, the grouping comparison) and 落款; each ends with the
researcher's place where the data cannot speak. The statistical detail follows as the appendix
(:mod:`mentorlib.report.review`).
"""

from __future__ import annotations

import pandas as pd

from ..calendar import TERM_MONTHS
from ..labels import COMPLIANCE_LEVELS, Lang
from ..labels_narrative import NARRATIVE, NARRATIVE_TITLES, PLACEHOLDERS
from .analyses import PilotAnalyses
from .disclosure import printed
from .document import Para, Section, Table, Todo
from .levels import shows_target
from .narrative_facts import school_facts
from .render.fmt import as_int, frame, missing, pct, sep, year_label, years_span
from .sections_goals import rates_sentence
from .sections_narrative import signature_section
from .shared import label_column, school_label

__all__ = ["REVIEW_NARRATIVE", "review_body"]

#: Section keys of the review's body before and after its summary, in order.
REVIEW_NARRATIVE: tuple[tuple[str, ...], tuple[str, ...]] = (
    ("background", "stages"),
    ("experience", "safeguards", "promotion", "signature"),
)


def _f(t: Lang, key: str, **kw) -> str:
    return t.pair(NARRATIVE[key]).format(**kw)


def _sec(key: str, t: Lang, blocks: list) -> Section:
    return Section(key, t.pair(NARRATIVE_TITLES[key]), blocks)


def _programme(level: str, t: Lang) -> str:
    if level == "middle":
        return t("学生成长导师制", "student growth mentorship programme")
    return t("全员育人导师制", "all-staff mentorship programme")


def _goals(rules, t: Lang) -> list[str]:
    """The plan's numeric targets, each from the rulebook (none typed here)."""
    out = []
    if shows_target(rules):
        out.append(_f(t, "goal_progress", k=rules.k_dimensions, target=pct(rules.target_share, 0)))
    out.append(_f(t, "goal_group", lo=rules.group_min, hi=rules.group_max))
    if rules.training_hours is not None:
        out.append(_f(t, "goal_training", hours=f"{rules.training_hours:g}"))
    if rules.talks_per_month:
        out.append(_f(t, "goal_talks", n=rules.talks_per_month))
    if rules.three_party_per_month:
        out.append(_f(t, "goal_three_party", n=rules.three_party_per_month))
    out.append(_f(t, "goal_regroup", share=pct(rules.max_regroup_share, 0)))
    return out


def background_section(p: PilotAnalyses, t: Lang) -> Section:
    """试点背景: the school, the pilot's years, the first year's size, the plan's targets."""
    P, y0, y1 = p.processed, p.years[0], p.years[-1]
    b: list = [
        Para(
            _f(
                t,
                "bg_school",
                school=school_label(P, t),
                level=t.of(COMPLIANCE_LEVELS, P.level),
                first=year_label(y0, t),
                programme=_programme(P.level, t),
                n=len(p.years),
                years=years_span(y0, y1, t),
            )
        )
    ]
    f = school_facts(P, y0)
    if f["n_students"]:
        b.append(
            Para(
                _f(
                    t,
                    "bg_first",
                    students=printed(p, f"stage.{y0}.n_students", f["n_students"]),
                    mentors=f["n_mentors"],
                )
            )
        )
    goals = _goals(P.rules, t)
    b.append(Para(_f(t, "bg_goals", items=sep(t).join(goals))))
    if not shows_target(P.rules):
        b.append(Para(_f(t, "bg_no_target")))
    b.append(Todo(t.pair(PLACEHOLDERS["policy_basis"])))
    return _sec("background", t, b)


def _change(v: int, t: Lang, unit: tuple[str, str] = ("", "")) -> str:
    """A change from the year before in words: 增加3名 / 减少2条 / 持平."""
    if not v:
        return _f(t, "same")
    return _f(t, "more" if v > 0 else "fewer", n=f"{abs(int(v)):,}{t(*unit)}")


def stages_section(p: PilotAnalyses, t: Lang, s: pd.DataFrame) -> Section:
    """实施阶段: each year's size and what changed from the year before (``s``:
    :attr:`PilotAnalyses.stages`; its student counts as the review's disclosure document
    prints them)."""
    mc = p.min_cell
    rows = [
        [
            year_label(as_int(r.year), t),
            printed(p, f"stage.{r.year}.n_students", r.n_students),
            printed(p, f"stage.{r.year}.n_mentored", r.n_mentored),
            str(r.n_mentors),
            "—" if missing(r.n_new) else str(r.n_new),
            str(r.n_backbone),
            str(r.n_certified),
            f"{r.n_records:,}",
            printed(p, f"stage.{r.year}.n_regrouped", r.n_regrouped),
        ]
        for r in s.itertuples(index=False)
    ]
    cols = [
        t.pair(NARRATIVE[c])
        for c in (
            "col_year",
            "col_students",
            "col_mentored",
            "col_mentors",
            "col_new",
            "col_backbone",
            "col_certified",
            "col_records",
            "col_regrouped",
        )
    ]
    b: list = [
        Para(_f(t, "stages_intro")),
        Table(
            frame(rows, cols),
            t.pair(NARRATIVE["stages_caption"]),
            "stages",
            _f(t, "stages_note", mc=mc),
        ),
    ]
    recs = s.to_dict("records")
    for r0, r1 in zip(recs[:-1], recs[1:], strict=True):
        b.append(
            Para(
                _f(
                    t,
                    "stage_change",
                    year=year_label(int(r1["year"]), t),
                    dm=_change(int(r1["n_mentors"]) - int(r0["n_mentors"]), t, ("名", "")),
                    new=r1["n_new"],
                    dr=_change(int(r1["n_records"]) - int(r0["n_records"]), t, ("条", "")),
                ),
                "bullet",
            )
        )
    b.append(Todo(t.pair(PLACEHOLDERS["stages"])))
    return _sec("stages", t, b)


def _every_year(p: PilotAnalyses, t: Lang) -> tuple[list[str], list[str]]:
    """Process indicators met in every year and missed in every year (with a pass mark in
    each year of the pilot)."""
    c = p.compliance
    if not len(c):
        return [], []
    c = c.loc[c["passed"].notna()]
    lab = label_column(t)
    met, never = [], []
    for _code, g in c.groupby("indicator", sort=False):
        if len(g) != len(p.years):
            continue
        name = str(g[lab].iloc[0]) if t.zh else str(g[lab].iloc[0]).lower()
        ok = g["passed"].astype(bool)
        if ok.all():
            met.append(name)
        elif not ok.any():
            never.append(name)
    return met, never


def experience_section(p: PilotAnalyses, t: Lang) -> Section:
    """经验与模式提炼: the practices settled in every year, and those that never were."""
    met, never = _every_year(p, t)
    b: list = [Para(_f(t, "exp_stable", items=sep(t).join(met)) if met else _f(t, "exp_none"))]
    if never:
        b.append(Para(_f(t, "exp_never", items=sep(t).join(never))))
    b.append(Todo(t.pair(PLACEHOLDERS["experience"])))
    return _sec("experience", t, b)


def safeguards_section(p: PilotAnalyses, t: Lang, s: pd.DataFrame) -> Section:
    """保障措施: the mentors' certificates and backbone mentors by year (``s``:
    :attr:`PilotAnalyses.stages`); the middle school's award budget."""
    b: list = []
    if s["n_mentors"].sum():

        def by_year(col: str) -> str:
            return sep(t).join(
                _f(t, "per_year", year=year_label(int(y), t), n=n)
                for y, n in zip(s["year"], s[col], strict=True)
            )

        cert, bb = by_year("n_certified"), by_year("n_backbone")
        b.append(Para(_f(t, "safe_training", cert=cert, backbone=bb)))
    P = p.processed
    if P.level == "middle":
        f = school_facts(P, p.years[-1])
        amount = P.rules.award_per_mentee_term
        key = f"stage.{p.years[-1]}.n_mentees"  # the budget gives the mentees back: both or none
        if f["n_mentees"] >= p.min_cell and not (
            p.disclosure is not None and key in p.disclosure.cells and p.disclosure.suppressed(key)
        ):
            b.append(
                Para(
                    _f(
                        t,
                        "safe_award",
                        amount=f"{amount:g}",
                        year=year_label(p.years[-1], t),
                        n=f["n_mentees"],
                        terms=len(TERM_MONTHS),
                        total=f"{amount * f['n_mentees'] * len(TERM_MONTHS):,.0f}",
                    )
                )
            )
    b.append(Todo(t.pair(PLACEHOLDERS["safeguards"])))
    return _sec("safeguards", t, b)


def promotion_section(p: PilotAnalyses, t: Lang) -> Section:
    """推广建议: the verdicts by year, a pointer to the grouping comparison, the researcher."""
    b: list = [Para(_f(t, "promo_verdicts", items=rates_sentence(p, t)))]
    if p.comparison is not None:
        b.append(Para(_f(t, "promo_grouping")))
    b.append(Todo(t.pair(PLACEHOLDERS["promotion"])))
    return _sec("promotion", t, b)


def review_body(p: PilotAnalyses, t: Lang, summary: Section) -> list[Section]:
    """The review's body: background, stages, ``summary`` (主要成效), experience, safeguards,
    promotion, signature (:data:`REVIEW_NARRATIVE` around the summary)."""
    summary.title = t("主要成效", "Main results")
    s = p.stages
    return [
        background_section(p, t),
        stages_section(p, t, s),
        summary,
        experience_section(p, t),
        safeguards_section(p, t, s),
        promotion_section(p, t),
        signature_section(p.processed, p.years[-1], t),
    ]
