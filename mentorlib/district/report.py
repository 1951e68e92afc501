"""The district summary (区域总结): a :class:`mentorlib.report.document.Report` of a district run.

Sections: the schools' verdicts (``district_schools.csv``), the funnel plot of the schools'
improved rates against size (:mod:`.analysis`), the school effects with shrinkage and ranking
uncertainty (:mod:`.multilevel`), compliance by school (the schools' compliance JSON), methods
and privacy. Schools are named; students never are: only school-level counts and rates are
shown, and any of fewer than ``min_cell`` students is blank with a note. Written to
``OUT/reports/区域总结_<year>学年.docx/.html`` (``district_summary_<year>`` in English).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..labels import Lang
from ..labels_district import DISTRICT_TEXTS
from ..report.document import Figure, Para, Report, Section, Table
from ..report.render.fmt import ci, pct
from ..rules import rulebook
from .analysis import (
    combine_outcomes,
    compliance_table,
    funnel_table,
    school_rates,
    student_outcomes,
)
from .multilevel import SchoolEffects, fit_school_effects, school_rank_probabilities

#: A school is "surely" in the top (bottom) quarter above this probability (the report's lead).
SURE = 0.9
N_SIMS = 4000


@dataclass
class DistrictAnalysis:
    """What the district summary shows, as numbers (school level only)."""

    name: str
    year: int | None
    min_cell: int
    schools: pd.DataFrame
    funnel: pd.DataFrame
    p0: float
    effects: SchoolEffects | None
    ranks: pd.DataFrame
    compliance: pd.DataFrame
    stages: list[str]
    synthetic: bool = False
    notes: list[str] = field(default_factory=list)


def analyse_district(
    out_dir: str | Path,
    *,
    year: int | None = None,
    min_cell: int | None = None,
    outcomes: list[pd.DataFrame] | None = None,
    seed: int = 0,
) -> DistrictAnalysis:
    """Read a district run's outputs and analyse them (funnel, school effects, compliance).

    ``outcomes``: the schools' student outcomes when already computed on the cluster
    (``DistrictResult.outcomes``); else computed here from the schools' processed folders
    (:func:`.analysis.student_outcomes`).
    """
    out = Path(out_dir)
    meta_file = out / "district.json"
    if not meta_file.is_file():
        raise InputError(f"{out} is not a district output (no district.json)")
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    schools = pd.read_csv(out / "district_schools.csv", dtype={"school_id": str})
    ok = schools.loc[schools["status"] == "ok", "school_id"].tolist()
    if min_cell is None:
        min_cell = max([rulebook(str(lv)).min_cell for lv in schools["level"].dropna()] or [5])
    if outcomes is None:
        frame, notes = student_outcomes(out, ok, year)
    else:
        frame, notes = combine_outcomes(outcomes)
    rates = school_rates(frame)
    small = rates["n"] < min_cell  # out of the funnel: its rate, and the district's, would show it
    if small.any():
        notes.append(
            f"{int(small.sum())} school(s) with fewer than {min_cell} evaluable students left "
            "out of the funnel plot and the district rate"
        )
    funnel, p0 = funnel_table(rates.loc[~small].reset_index(drop=True))
    effects, ranks = None, pd.DataFrame()
    try:
        effects = fit_school_effects(frame)
        ranks = school_rank_probabilities(effects, n_sims=N_SIMS, seed=seed)
        notes += effects.notes
    except InputError as e:
        notes.append(str(e))
    years = sorted({int(y) for y in frame["year"].dropna()})
    synthetic = any(_synthetic(out / "schools" / sid) for sid in ok)
    return DistrictAnalysis(
        str(meta.get("name", out.name)),
        year if year is not None else (years[-1] if years else None),
        int(min_cell),
        schools,
        funnel,
        p0,
        effects,
        ranks,
        compliance_table(out, ok),
        list(meta.get("stages", [])),
        synthetic,
        notes,
    )


def _tuples(df: pd.DataFrame) -> list[Any]:
    """The rows as named tuples (cells typed Any: they are read by column name)."""
    return list(df.itertuples(index=False))


def _synthetic(processed: Path) -> bool:
    f = processed / "study.json"
    return f.is_file() and bool(json.loads(f.read_text(encoding="utf-8")).get("synthetic"))


def _hide(n, min_cell: int) -> bool:
    return pd.isna(n) or int(n) < min_cell


def _names(a: DistrictAnalysis) -> dict[str, str]:
    names = a.schools["school"].fillna(a.schools["school_id"])
    return dict(zip(a.schools["school_id"], names, strict=True))


def _sec_schools(a: DistrictAnalysis, t: Lang) -> Section:
    T = DISTRICT_TEXTS
    rows = []
    for r in _tuples(a.schools):
        status = "ok" if r.status == "ok" else t(*T["failed"]).format(reason=r.reason)
        rows.append(
            [
                r.school,
                t(*T[r.level]) if r.level in T else str(r.level),
                "—" if _hide(r.n, a.min_cell) else str(int(r.n)),
                "—" if _hide(r.n_evaluable, a.min_cell) else str(int(r.n_evaluable)),
                f"{pct(r.certified_share)} ({ci(r.certified_ci_low, r.certified_ci_high)})"
                if pd.notna(r.certified_share)
                else "—",
                f"{pct(r.true_share)} ({ci(r.true_share_ci_low, r.true_share_ci_high)})"
                if pd.notna(r.true_share)
                else "—",
                status,
            ]
        )
    cols = [t(*T[k]) for k in ("school", "level", "n", "n_evaluable", "certified")]
    cols += [t(*T["true_share"]), t(*T["status"])]
    note = t(*T["suppressed_note"]).format(min_cell=a.min_cell)
    blocks: list = [
        Table(pd.DataFrame(rows, columns=cols), t(*T["verdicts_caption"]), "schools", note)
    ]
    if "progress" not in a.stages:
        blocks.insert(0, Para(t(*T["no_progress"]), "note"))
    return Section("schools", t(*T["sec_schools"]), blocks)


def _funnel_figure(f: pd.DataFrame, p0: float, t: Lang) -> bytes:
    import matplotlib.pyplot as plt

    from ..plots import fig_png, use_style

    T = DISTRICT_TEXTS
    use_style()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    grid = np.unique(np.round(np.geomspace(max(2, f["n"].min() * 0.8), f["n"].max() * 1.2, 200)))
    lim = funnel_table(pd.DataFrame({"n": grid, "successes": grid * p0, "rate": p0}))[0]
    for tag, style in (("95", "--"), ("99.8", ":")):
        ax.plot(grid, lim[f"lo_{tag}"], style, color="grey", lw=1)
        ax.plot(grid, lim[f"hi_{tag}"], style, color="grey", lw=1, label=f"{tag}%")
    ax.axhline(p0, color="black", lw=1, label=t(*T["funnel_district"]))
    ax.scatter(f["n"], f["rate"], zorder=3)
    ax.set_xlabel(t(*T["funnel_x"]))
    ax.set_ylabel(t(*T["funnel_y"]))
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.legend(loc="lower right", fontsize=8)
    return fig_png(fig)


def _sec_funnel(a: DistrictAnalysis, t: Lang) -> Section:
    T = DISTRICT_TEXTS
    f = a.funnel
    if f.empty:
        return Section("funnel", t(*T["sec_funnel"]), [Para(t(*T["no_outcomes"]), "note")])
    pos = f["position"].value_counts()
    lead = t(*T["funnel_lead"]).format(
        p0=pct(a.p0),
        n=int(a.funnel["n"].sum()),
        above=int(pos.get("above", 0)),
        below=int(pos.get("below", 0)),
        warning=int(pos.get("above_warning", 0) + pos.get("below_warning", 0)),
    )
    names = _names(a)
    rows = [
        [
            names.get(r.school_id, r.school_id),
            str(int(r.n)),
            pct(r.rate),
            ci(r.lo_95, r.hi_95),
            ci(r.lo_99_8, r.hi_99_8),
            t(*T[r.position]),
        ]
        for r in _tuples(f.rename(columns={"lo_99.8": "lo_99_8", "hi_99.8": "hi_99_8"}))
    ]
    cols = [
        t(*T[k]) for k in ("school", "n_evaluable", "rate", "limits95", "limits998", "position")
    ]
    note = t(*T["suppressed_note"]).format(min_cell=a.min_cell)
    return Section(
        "funnel",
        t(*T["sec_funnel"]),
        [
            Para(lead, "lead"),
            Figure(_funnel_figure(f, a.p0, t), t(*T["funnel_caption"]), "funnel"),
            Table(pd.DataFrame(rows, columns=cols), t(*T["funnel_table_caption"]), "funnel", note),
        ],
    )


def _pp(v: float) -> str:
    return "—" if pd.isna(v) else f"{100 * v:+.1f}"


def _sec_effects(a: DistrictAnalysis, t: Lang) -> Section:
    T = DISTRICT_TEXTS
    if a.effects is None or a.ranks.empty:
        reason = "; ".join(a.notes) or t(*T["no_outcomes"])
        return Section(
            "effects", t(*T["sec_effects"]), [Para(t(*T["effects_failed"]).format(reason=reason))]
        )
    e, r = a.effects, a.ranks
    lead = t(*T["effects_lead"]).format(
        sd_school=f"{100 * e.sd_school:.1f}",
        sd_mentor=f"{100 * e.sd_mentor:.1f}",
        icc=pct(e.icc_school),
        n_sure_top=int((r["p_top"] > SURE).sum()),
        n_sure_bottom=int((r["p_bottom"] > SURE).sum()),
        sure=pct(SURE, 0),
    )
    names = _names(a)
    lb, rb = t("（", " ("), t("）", ")")
    rows = []
    for x in _tuples(r.sort_values("effect", ascending=False)):
        small = _hide(x.n, a.min_cell)
        rows.append(
            [names.get(x.school_id, x.school_id), "—" if small else str(int(x.n))]
            + (
                ["—"] * 6
                if small
                else [
                    _pp(x.raw),
                    f"{_pp(x.effect)}{lb}{_pp(x.ci_low)}, {_pp(x.ci_high)}{rb}",
                    f"{x.shrinkage:.2f}",
                    pct(x.p_top, 0),
                    pct(x.p_bottom, 0),
                    f"{int(x.rank_low)}–{int(x.rank_high)}",
                ]
            )
        )
    keys = ("school", "n_evaluable", "raw", "effect", "shrinkage", "p_top", "p_bottom")
    cols = [t(*T[k]) for k in keys] + [t(*T["rank_interval"])]
    note = t(*T["effects_note"]) + " " + t(*T["suppressed_note"]).format(min_cell=a.min_cell)
    table = Table(pd.DataFrame(rows, columns=cols), t(*T["effects_caption"]), "effects", note)
    return Section("effects", t(*T["sec_effects"]), [Para(lead, "lead"), table])


def _sec_compliance(a: DistrictAnalysis, t: Lang) -> Section:
    T = DISTRICT_TEXTS
    c = a.compliance
    if c.empty:
        return Section("compliance", t(*T["sec_compliance"]), [Para(t(*T["no_compliance"]))])
    label = "label_zh" if t.zh else "label_en"
    names = _names(a)

    def cell(x) -> str:
        if _hide(x.n, a.min_cell) or pd.isna(x.value):
            return "—"
        mark = "" if pd.isna(x.passed) else (" √" if bool(x.passed) else " ×")
        return f"{pct(x.value)}{mark}"

    c = c.assign(cell=[cell(x) for x in _tuples(c)])
    c = c.assign(school=c["school_id"].map(names))
    wide = c.pivot_table(
        index="school", columns=label, values="cell", aggfunc="first", sort=False
    ).reset_index()
    wide = wide.rename(columns={"school": t(*T["school"])}).fillna("—")
    note = t(*T["suppressed_note"]).format(min_cell=a.min_cell)
    table = Table(wide, t(*T["compliance_caption"]), "compliance", note)
    return Section("compliance", t(*T["sec_compliance"]), [table])


def district_report(a: DistrictAnalysis, *, lang: str = "zh") -> Report:
    """The district summary of an analysed district (:func:`analyse_district`)."""
    t = Lang(lang)
    T = DISTRICT_TEXTS
    ok = a.schools["status"] == "ok"
    n_students = int(pd.to_numeric(a.schools["n"], errors="coerce").fillna(0).sum())
    front = [
        t(*T["front"]).format(n_schools=len(a.schools), n_ok=int(ok.sum()), n_students=n_students)
    ]
    if a.synthetic:
        front.append(t(*T["synthetic"]))
    methods = [
        Para(t(*T["methods"]).format(n_sims=N_SIMS)),
        Para(t(*T["privacy"]).format(min_cell=a.min_cell)),
        *[Para(n, "note") for n in a.notes],
    ]
    year = a.year if a.year is not None else 0
    return Report(
        kind="district_summary",
        lang=lang,
        public=True,
        years=(year,),
        title=t(*T["title"]).format(name=a.name),
        subtitle=t(*T["subtitle"]).format(year=year),
        front=front,
        sections=[
            _sec_schools(a, t),
            _sec_funnel(a, t),
            _sec_effects(a, t),
            _sec_compliance(a, t),
            Section("methods", t(*T["sec_methods"]), methods),
        ],
        meta={"district": a.name, "min_cell": a.min_cell, "synthetic": a.synthetic},
    )


def write_district_report(
    out_dir: str | Path, *, lang: str = "zh", formats=("docx", "html"), **kw
) -> list[Path]:
    """Analyse a district output and write its summary into ``OUT/reports/``."""
    rep = district_report(analyse_district(out_dir, **kw), lang=lang)
    return rep.write(Path(out_dir) / "reports", formats)
