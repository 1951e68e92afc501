"""The body of the annual summary in the shape of a real 年度总结 (issue 16 item 2).

Sections, in order (:data:`NARRATIVE_SECTIONS`): 基本情况 (the school, mentors, ratio,
backbone mentors and training, from the rosters, groups and rules), 主要做法 (the activities
by month, from the process records), 取得成效 (the headline and what improved, from the
progress and compliance analyses), 存在问题 (the targets missed and the groups left behind),
下一步计划 and 典型案例 (places for the researcher), 落款 (school and date). The statistical
detail follows as the appendix (:mod:`mentorlib.report.annual`).

Every number is computed; every student count goes through the disclosure documents
(:func:`~mentorlib.report.disclosure.printed`, :func:`~.narrative_facts.activities_by_month`).
"""

from __future__ import annotations

import pandas as pd

from ..calendar import term_bounds
from ..labels import ACTIVITY_LABELS, FOCUS_LABELS, GENDER_LABELS, ROLE_LABELS, Lang
from ..labels_compliance import UNMEASURED_TEXTS
from ..labels_narrative import NARRATIVE, NARRATIVE_TITLES, PLACEHOLDERS
from ..labels_units import en_noun
from .analyses import YearAnalyses
from .disclosure import printed
from .document import Para, Section, Table, Todo
from .headline import certified_shown, plain_headline
from .levels import shows_target
from .narrative_facts import activities_by_month, required_activities, school_facts
from .render.fmt import (
    as_float,
    as_int,
    count_text,
    dim_label,
    frame,
    missing,
    pct,
    sep,
    year_label,
)
from .shared import label_column, school_label, unmeasured_item, unmeasured_of, verdict_text

__all__ = ["NARRATIVE_SECTIONS", "narrative_sections", "signature_section"]

#: Section keys of the annual summary's body, in order.
NARRATIVE_SECTIONS: tuple[str, ...] = (
    "basics",
    "practice",
    "results",
    "problems",
    "next_steps",
    "cases",
    "signature",
)


def _f(t: Lang, key: str, **kw) -> str:
    return t.pair(NARRATIVE[key]).format(**kw)


def _title(t: Lang, key: str) -> str:
    return t.pair(NARRATIVE_TITLES[key])


def _todo(t: Lang, key: str) -> Todo:
    return Todo(t.pair(PLACEHOLDERS[key]))


def _count(a: YearAnalyses, key: str, v) -> str:
    """A student count: the disclosure document's text when it registered the same value."""
    doc = a.disclosure
    if doc is not None and key in doc.cells and doc.cells[key].value == int(v):
        return printed(a, key, v)
    return count_text(v, a.min_cell)


def _roles_text(roles: dict, t: Lang) -> str:
    items = [
        f"{t.of(ROLE_LABELS, r)}{n}名" if t.zh else f"{t.of(ROLE_LABELS, r)} {n}"
        for r, n in roles.items()
    ]
    return sep(t).join(items)


def _training_para(f: dict, hours: float | None, t: Lang) -> str:
    if not f["n_hours"]:
        return _f(t, "training_none")
    kw = {"n": f["n_hours"], "mean": f"{f['mean_hours']:.1f}", "cert": f["n_certified"]}
    if hours is None:
        return _f(t, "training_no_rule", **kw)
    share = pct(f["n_trained"] / f["n_mentors"]) if f["n_mentors"] else "—"
    return _f(t, "training", hours=f"{hours:g}", ok=f["n_trained"], share=share, **kw)


def _range(lo, hi, t: Lang) -> str:
    """ "5–8" (or "2" when both ends agree)."""
    return str(lo) if lo == hi else f"{lo}–{hi}" if t.zh else f"{lo}-{hi}"


def basics_section(a: YearAnalyses, t: Lang) -> Section:
    """基本情况: students, classes, mentors by role, the ratio, backbone mentors, training."""
    P, y = a.processed, a.year
    f = school_facts(P, y)
    b: list = []
    if not f["n_students"] and not f["n_staff"]:
        b.append(Para(_f(t, "no_roster")))
    else:
        school = school_label(P, t)
        txt = _f(
            t,
            "students",
            year=year_label(y, t),
            school=school,
            n=_count(a, "n_students", f["n_students"]),
            grades=f["n_grades"],
            classes=f["n_classes"],
            grades_en=en_noun(f["n_grades"], "grade"),
            classes_en=en_noun(f["n_classes"], "class", "classes"),
        )
        if P.level == "middle" and f["n_mentees"]:
            txt += ("" if t.zh else " ") + _f(
                t, "mentees", n=_count(a, "school.n_mentees", f["n_mentees"])
            )
        b.append(Para(txt))
        if f["n_mentors"]:
            parts = [
                _f(
                    t,
                    "mentors",
                    staff=f["n_staff"],
                    n=f["n_mentors"],
                    roles=_roles_text(f["roles"], t),
                ),
                _ratio_text(a, f, t),
                _f(t, "backbone", n=f["n_backbone"]),
                _training_para(f, P.rules.training_hours, t),
            ]
            b.append(Para(("" if t.zh else " ").join(parts)))
    b.append(_todo(t, "leading_group"))
    return Section("basics", _title(t, "basics"), b)


def _ratio_text(a: YearAnalyses, f: dict, t: Lang) -> str:
    """The students with a mentor, the mentor-student ratio and the group sizes: the ratio
    and the sizes only when the number of students is printed (with the mentors, printed,
    either would give it back)."""
    P = a.processed
    n = _count(a, "school.n_mentored", f["n_mentored"])
    shown = n.replace(",", "").isdigit()
    return _f(
        t,
        "ratio",
        n=n,
        ratio=f"{f['n_mentored'] / f['n_mentors']:.1f}" if shown else "—",
        size=_range(f["group_min"], f["group_max"], t) if shown else "—",
        gmin=P.rules.group_min,
        gmax=P.rules.group_max,
    )


def _month_label(m: str, t: Lang) -> str:
    if m == "total":
        return t.pair(NARRATIVE["total"])
    yy, mm = m.split("-")
    return f"{yy}年{int(mm)}月" if t.zh else m


def practice_blocks(P, year: int, min_cell: int, t: Lang) -> list:
    """The activities by month as a table, with the year's totals in words (a list of blocks;
    one sentence instead when the year has no activity record)."""
    counts, doc = activities_by_month(P, year, min_cell)
    if not counts.shape[1]:
        kinds = sep(t).join(t.of(ACTIVITY_LABELS, k) for k in required_activities(P.rules))
        return [Para(_f(t, "practice_none", kinds=kinds))]

    def cell(m: str, k: str) -> str:
        key = f"{k}.{m}"
        return doc.text(key) if key in doc.cells else f"{as_int(counts.at[m, k]):,}"

    rows = [[_month_label(m, t), *(cell(m, k) for k in counts.columns)] for m in counts.index]
    cols = [t.pair(NARRATIVE["month"]), *(t.of(ACTIVITY_LABELS, k) for k in counts.columns)]
    n_rec = int(counts.loc["total"].to_numpy().sum())
    items = sep(t).join(
        f"{t.of(ACTIVITY_LABELS, k)}{cell('total', k)}次"
        if t.zh
        else f"{t.of(ACTIVITY_LABELS, k)} {cell('total', k)}"
        for k in counts.columns
    )
    b: list = [
        Para(_f(t, "practice_intro", n=count_text(n_rec, min_cell))),
        Table(
            frame(rows, cols),
            t.pair(NARRATIVE["table_caption"]),
            "activities_by_month",
            _f(t, "practice_note", mc=min_cell),
        ),
        Para(_f(t, "practice_totals", items=items)),
    ]
    absent = [k for k in required_activities(P.rules) if k not in counts.columns]
    if absent:
        kinds = sep(t).join(t.of(ACTIVITY_LABELS, k) for k in absent)
        b.append(Para(_f(t, "practice_missing", kinds=kinds)))
    return b


def practice_section(a: YearAnalyses, t: Lang) -> Section:
    """主要做法: talks, three-party communications, home visits, group counselling, case
    conferences, counted by month from the process records."""
    b = practice_blocks(a.processed, a.year, a.min_cell, t)
    if a.compliance is not None:
        b.append(Para(_f(t, "practice_compliance")))
    b.append(_todo(t, "practice_more_middle" if a.processed.level == "middle" else "practice_more"))
    return Section("practice", _title(t, "practice"), b)


def _trend_sentence(a: YearAnalyses, t: Lang) -> str | None:
    """The certified share against the previous school year (when both are shown)."""
    tr = a.progress.trend.set_index("year")
    y0 = a.year - 1
    if y0 not in tr.index or a.year not in tr.index:
        return None
    r0, r1 = tr.loc[y0], tr.loc[a.year]
    if any(bool(r["suppressed"]) or missing(r["proportion"]) for r in (r0, r1)):
        return None
    p0, p1 = as_float(r0["proportion"]), as_float(r1["proportion"])
    d = (p1 - p0) * 100
    key = "trend_up" if d >= 0 else "trend_down"
    return _f(t, key, prev=year_label(y0, t), d=f"{abs(d):.1f}", p0=pct(p0), p1=pct(p1))


def _headline_shown(a: YearAnalyses) -> bool:
    return certified_shown(a.progress)


def _dims_sentence(a: YearAnalyses, t: Lang) -> str | None:
    """The dimensions with the highest and lowest share improving (shares whose numerator or
    remainder describes fewer than ``min_cell`` students are left out; none at all when the
    headline share is withheld, so that they cannot narrow it)."""
    if not _headline_shown(a):
        return None
    ch = a.progress.changes
    ch = ch.loc[(ch["year"] == a.year) & ch["evaluable"].fillna(False).astype(bool)]
    rates = {}
    for dim, g in ch.groupby("dimension", observed=True):
        n, k = len(g), int(g["improved"].fillna(False).astype(bool).sum())
        if k >= a.min_cell and n - k >= a.min_cell:
            rates[dim] = k / n
    if len(rates) < 2:
        return None
    best, worst = max(rates, key=rates.__getitem__), min(rates, key=rates.__getitem__)
    lvl = a.processed.level
    return _f(
        t,
        "dims",
        best=dim_label(lvl, best, t),
        pb=pct(rates[best]),
        worst=dim_label(lvl, worst, t),
        pw=pct(rates[worst]),
    )


def _indicator_items(ind: pd.DataFrame, t: Lang, passed: bool, with_value: bool) -> list[str]:
    have = ind.loc[ind["passed"].notna()]
    rows = have.loc[have["passed"].astype(bool) == passed]
    lab = label_column(t)
    tgt = "target_zh" if t.zh else "target_en"
    out = []
    for _, r in rows.iterrows():
        name = r[lab] if t.zh else str(r[lab]).lower()
        if with_value:
            name += t(f"{pct(r['value'])}（目标{r[tgt]}）", f" {pct(r['value'])} (target {r[tgt]})")
        out.append(name)
    return out


def results_section(a: YearAnalyses, t: Lang) -> Section:
    """取得成效: the headline in plain words, then what improved."""
    n = printed(a, "n_evaluable", a.progress.headline_row(public=False)["n_evaluable"])
    b: list = [Para(("" if t.zh else " ").join(plain_headline(a, t, n)), "lead")]
    extra = [_trend_sentence(a, t), _dims_sentence(a, t)]
    if a.compliance is not None:
        met = _indicator_items(a.compliance.indicators, t, True, False)
        if met:
            extra.append(_f(t, "met_process", items=sep(t).join(met)))
    year = a.satisfaction.loc[a.satisfaction["term"] == 0] if len(a.satisfaction) else None
    if year is not None and len(year) and not missing(year["mean"].iloc[0]):
        extra.append(_f(t, "satisfaction", mean=f"{as_float(year['mean'].iloc[0]):.2f}"))
    b += [Para(x) for x in extra if x]
    b.append(Para(_f(t, "see_appendix"), "note"))
    return Section("results", _title(t, "results"), b)


def _behind(a: YearAnalyses, t: Lang) -> str | None:
    """The groups (grade, gender, focus group) whose interval lies below the school's rate
    (None when the school's rate is withheld)."""
    R = a.progress
    row = R.headline_row(public=True)
    if not _headline_shown(a):
        return None
    school = as_float(row["proportion"])
    bd = R.breakdowns
    bd = bd.loc[bd["by"].isin(["grade", "gender", "focus_group"]) & ~bd["suppressed"].astype(bool)]
    bd = bd.loc[(bd["group"].astype(str) != "none") & pd.notna(bd["ci_high"])]
    low = bd.loc[bd["ci_high"].astype(float) < school]
    items = []
    for r in low.itertuples(index=False):
        g = str(r.group)
        name = (
            t(f"{g}年级", f"grade {g}")
            if r.by == "grade"
            else t.of(FOCUS_LABELS, g)
            if r.by == "focus_group"
            else t.of(GENDER_LABELS, g) + t("生", "")
        )
        items.append(name + t(f"（{pct(r.proportion)}）", f" ({pct(r.proportion)})"))
    if not items:
        return _f(t, "none_behind", mc=a.min_cell)
    return _f(t, "behind", school_share=pct(school), items=sep(t).join(items))


def _process_problems(ind: pd.DataFrame, t: Lang) -> list[Para]:
    """The process indicators missed, and those with no records (not assessed: neither
    met nor not met, never "0% not met")."""
    missed = _indicator_items(ind, t, False, True)
    lab = label_column(t)
    gaps = [
        unmeasured_item(r, r[lab] if t.zh else str(r[lab]).lower(), t)
        for _, r in ind.iterrows()
        if unmeasured_of(r)
    ]
    out = []
    if missed:
        out.append(Para(_f(t, "missed", items=sep(t).join(missed))))
    elif not gaps:
        out.append(Para(_f(t, "none_missed")))
    elif ind["passed"].notna().any():
        out.append(Para(t.pair(UNMEASURED_TEXTS["none_missed"])))
    if gaps:
        out.append(Para(t.pair(UNMEASURED_TEXTS["items"]).format(items=sep(t).join(gaps))))
    return out


def problems_section(a: YearAnalyses, t: Lang) -> Section:
    """存在问题: the progress target and the process indicators missed, the groups behind."""
    b: list = []
    row = a.progress.headline_row(public=True)
    if _progress_missed(a):
        share = pct(row["proportion"])
        b.append(
            Para(
                _f(
                    t,
                    "progress_missed",
                    share=share,
                    verdict=verdict_text(row.get("verdict"), t),
                    target=pct(a.progress.target, 0),
                )
            )
        )
    if a.compliance is None:
        b.append(Para(_f(t, "no_compliance")))
    else:
        b += _process_problems(a.compliance.indicators, t)
    behind = _behind(a, t)
    if behind:
        b.append(Para(behind))
    b.append(_todo(t, "problems_causes"))
    return Section("problems", _title(t, "problems"), b)


def _n_missed(a: YearAnalyses) -> int:
    n = (
        0
        if a.compliance is None
        else len(_indicator_items(a.compliance.indicators, Lang("zh"), False, False))
    )
    return n + int(_progress_missed(a))


def _progress_missed(a: YearAnalyses) -> bool:
    """The progress target is listed among the problems: a target, a published share and a
    verdict other than met. A withheld share is not listed either way (its verdict would say
    on which side of the target it lies); the summary says it is withheld."""
    row = a.progress.headline_row(public=True)
    return shows_target(a.processed.rules) and _headline_shown(a) and row.get("verdict") != "met"


def next_steps_section(a: YearAnalyses, t: Lang) -> Section:
    """下一步计划: a pointer to the problems, and the researcher's place."""
    b: list = []
    n = _n_missed(a)
    if n:
        b.append(Para(_f(t, "next_hint", n=n)))
    b.append(_todo(t, "next_steps"))
    return Section("next_steps", _title(t, "next_steps"), b)


def cases_section(a: YearAnalyses, t: Lang) -> Section:
    """典型案例: where the examples can come from, and the researcher's place."""
    b: list = []
    doc = a.disclosure
    if (
        doc is not None
        and "cat.improved_3plus" in doc.cells
        and doc.cells["cat.improved_3plus"].value
    ):
        b.append(Para(_f(t, "cases_pool", n=printed(a, "cat.improved_3plus"))))
    b.append(_todo(t, "cases"))
    return Section("cases", _title(t, "cases"), b)


def signature_section(processed, last_year: int, t: Lang) -> Section:
    """落款: the school (study.toml) and the last day of the school year (the calendar)."""
    end = term_bounds(last_year, 2)[1]
    date = t(f"{end.year}年{end.month}月{end.day}日", end.strftime("%d %B %Y").lstrip("0"))
    return Section(
        "signature",
        _title(t, "signature"),
        [
            Para(school_label(processed, t), "sign"),
            Para(date, "sign"),
            Para(t.pair(PLACEHOLDERS["date"]), "note"),
        ],
        numbered=False,
    )


def narrative_sections(a: YearAnalyses, t: Lang) -> list[Section]:
    """The body of the annual summary (:data:`NARRATIVE_SECTIONS`), in order."""
    return [
        basics_section(a, t),
        practice_section(a, t),
        results_section(a, t),
        problems_section(a, t),
        next_steps_section(a, t),
        cases_section(a, t),
        signature_section(a.processed, a.year, t),
    ]
