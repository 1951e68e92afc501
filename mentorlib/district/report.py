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

from ..compliance import STUDENT_INDICATORS
from ..errors import InputError
from ..labels import Lang
from ..labels_district import DISTRICT_TEXTS
from ..privacy import HIDDEN, Document
from ..report.document import Figure, Para, Report, Section, Table
from ..report.render.fmt import ci, pct
from .analysis import (
    combine_outcomes,
    compliance_table,
    funnel_table,
    school_rates,
    student_outcomes,
)
from .manifest import record_files
from .multilevel import SchoolEffects, fit_school_effects, school_rank_probabilities
from .tasks import students_of_year
from .verdicts import CLEANED, district_min_cell, register_school, school_counts, school_key

#: A sentence of the summary as data: its label key and the fields it is formatted with.
Note = tuple[str, dict[str, Any]]
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
    #: What the summary says about the analysis, as ``(label key, fields)`` of
    #: :data:`mentorlib.labels_district.DISTRICT_TEXTS` (said in the report's language).
    notes: list[Note] = field(default_factory=list)
    #: Why the school effects were not estimated (a note), or None.
    effects_failed: Note | None = None
    #: Every count and rate the summary prints, with the relations among them, protected
    #: (:func:`district_document`); the sections print what it says.
    disclosure: Document | None = None
    #: Document key of each school's evaluable students (``n``), certified numerator (``k``)
    #: and rate (``rate``) in the funnel and effects tables: the schools' table's keys when
    #: the outcomes are the same students, else the funnel's own (:func:`funnel_key`).
    funnel_keys: dict[str, dict[str, str]] = field(default_factory=dict)


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
    ok = schools.loc[schools["status"].isin(CLEANED), "school_id"].tolist()
    min_cell = district_min_cell(schools["level"], min_cell, schools.get("min_cell"))
    if outcomes is None:
        frame, missing = student_outcomes(out, ok, year)
    else:
        frame, missing = combine_outcomes(outcomes)
    names = dict(
        zip(schools["school_id"], schools["school"].fillna(schools["school_id"]), strict=True)
    )
    notes: list[Note] = [
        ("note_no_outcome", {"school": names.get(sid, sid), "reason": why}) for sid, why in missing
    ]
    rates = school_rates(frame)
    small = rates["n"] < min_cell  # out of the funnel: its rate, and the district's, would show it
    if small.any():
        notes.append(("note_small_left_out", {"n": int(small.sum()), "min_cell": int(min_cell)}))
    funnel, p0 = funnel_table(rates.loc[~small].reset_index(drop=True))
    effects, ranks, failed = _effects(frame, seed)  # said in the effects section
    if effects is not None and not effects.converged:
        notes.append(("effects_not_converged", {}))
    years = sorted({int(y) for y in frame["year"].dropna()})
    synthetic = any(_synthetic(out / "schools" / sid) for sid in ok)
    a = DistrictAnalysis(
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
        failed,
    )
    row_year = dict(zip(schools["school_id"], schools["year"], strict=True))
    roster = {sid: _roster(out, sid, row_year.get(sid), a.year) for sid in ok}
    a.disclosure, a.funnel_keys = district_document(a, rates, roster)
    return a


def _effects(
    frame: pd.DataFrame, seed: int
) -> tuple[SchoolEffects | None, pd.DataFrame, Note | None]:
    """The school effects and rank probabilities, or why they cannot be estimated."""
    with_outcome = frame.loc[frame["improved"].notna(), "school_id"].nunique()
    if with_outcome < 2:
        return None, pd.DataFrame(), ("effects_two_schools", {"n": int(with_outcome)})
    try:
        effects = fit_school_effects(frame)
    except InputError as e:
        return None, pd.DataFrame(), ("effects_error", {"reason": str(e)})
    return effects, school_rank_probabilities(effects, n_sims=N_SIMS, seed=seed), None


def _tuples(df: pd.DataFrame) -> list[Any]:
    """The rows as named tuples (cells typed Any: they are read by column name)."""
    return list(df.itertuples(index=False))


def _roster(out: Path, school_id: str, year, default: int | None) -> int | None:
    """A school's students in the year its row reports (``year``; blank: ``default``, the
    summary's), from its cleaned roster (:func:`.tasks.students_of_year`); None when
    unreadable or no year is known."""
    y = default if pd.isna(year) else int(year)
    f = out / "schools" / school_id / "students.parquet"
    try:
        students = pd.read_parquet(f, columns=["student_id", "year"])
    except (OSError, ValueError, KeyError):
        return None
    return None if y is None else students_of_year(students, y)


def _synthetic(processed: Path) -> bool:
    f = processed / "study.json"
    return f.is_file() and bool(json.loads(f.read_text(encoding="utf-8")).get("synthetic"))


def _hide(n, min_cell: int) -> bool:
    return pd.isna(n) or int(n) < min_cell


def _names(a: DistrictAnalysis) -> dict[str, str]:
    names = a.schools["school"].fillna(a.schools["school_id"])
    return dict(zip(a.schools["school_id"], names, strict=True))


# ----------------------------------------------------------------------------- disclosure


def _register_schools(doc: Document, schools: pd.DataFrame, roster: dict, min_cell: int):
    """The schools' table as ``district_schools.csv`` published it (its shown numbers kept;
    a blank one registered from the raw value, as "<5" when small, else not printed).
    Returns school_id -> (evaluable, certified k) as published (None: blank or not run)."""
    out: dict[str, tuple[int | None, int | None]] = {}
    for r in _tuples(schools.loc[schools["status"].isin(CLEANED)]):
        sid = str(r.school_id)
        n, ev, k = school_counts(r.n, r.n_evaluable, r.certified_share)
        if n is None and roster.get(sid) is not None:  # blank in the csv
            raw = int(roster[sid])
            doc.count(school_key(sid, "n"), raw, printed=raw < min_cell)
        register_school(doc, sid, n, ev, k, keep=True)
        if r.progress == "ok":
            out[sid] = (ev, None if pd.isna(r.certified_share) else k)
    return out


def funnel_key(keys: dict[str, dict[str, str]], school_id: str, what: str) -> str:
    """The document key of a school's ``n``, ``k`` or ``rate`` in the funnel and effects."""
    return keys.get(school_id, {}).get(what, f"f.{school_id}.{what}")


def _register_funnel(doc: Document, rates: pd.DataFrame, csv: dict, min_cell: int) -> dict:
    """Each school's evaluable students and improved ones from the outcomes: the schools'
    table's cells when they are the same students (a blank one registered here from the
    outcomes), else the funnel's own."""
    keys: dict[str, dict[str, str]] = {}
    for r in _tuples(rates):
        sid, n, k = str(r.school_id), int(r.n), int(r.successes)
        ev, kc = csv.get(sid, (None, None))
        same = sid in csv and ev in (None, n) and kc in (None, k)
        pre = f"s.{sid}" if same else f"f.{sid}"
        keys[sid] = {w: f"{pre}.{w}" for w in ("n", "k", "rate")}
        if same:
            keys[sid]["n"] = school_key(sid, "ev")
            if ev is None:  # blank in the csv: "<5" when small, else not printed
                doc.count(keys[sid]["n"], n, printed=n < min_cell)
            doc.count(keys[sid]["k"], k, printed=False)
            if kc is None:  # the csv hides the rate: so does the summary (its students who
                # did not improve are a hidden cell all the same, audited when small)
                doc.count(f"{pre}.not", n - k, printed=False)
                doc.total(keys[sid]["n"], [keys[sid]["k"], f"{pre}.not"])
                continue
        else:
            doc.count(keys[sid]["n"], n)
            doc.count(keys[sid]["k"], k, printed=False)
        doc.rate(keys[sid]["rate"], keys[sid]["k"], keys[sid]["n"])
    return keys


def district_document(
    a: DistrictAnalysis, rates: pd.DataFrame, roster: dict[str, int | None]
) -> tuple[Document, dict[str, dict[str, str]]]:
    """Every count and rate the district summary prints, with their relations, protected.

    Cells: each school's students and evaluable students and its certified share as
    ``district_schools.csv`` published them (:func:`.verdicts.register_school`, kept: the
    summary never hides what the csv shows); the funnel's and effects' evaluable and improved
    students per school (the same cells when they are the same students); the district's
    students (``d.n``, the front page: the sum of the schools', each its students of the year
    its row reports, :func:`.tasks.students_of_year`), the funnel's evaluable
    students (``f.n``: the sum of the funnel's schools) and its improved ones (``f.k``, not
    printed) with the district rate ``f.rate`` (the centre line); the student-based compliance
    indicators of each school (``c.{school}.{indicator}``: their ``n`` as the school's own
    compliance JSON publishes it, the students meeting it ``k``, the rate). Protection then
    adds complementary suppression until no hidden small number can be worked out
    (:meth:`mentorlib.privacy.Document.protect`).

    Returns the document and the funnel's keys per school (:func:`funnel_key`).
    """
    doc = Document(a.min_cell, name=f"district summary {a.name}")
    csv = _register_schools(doc, a.schools, roster, a.min_cell)
    keys = _register_funnel(doc, rates, csv, a.min_cell)
    ok = a.schools.loc[a.schools["status"].isin(CLEANED), "school_id"].astype(str)
    parts = [school_key(sid, "n") for sid in ok]
    if parts and all(p in doc.cells for p in parts):
        doc.count("d.n", sum(doc.cells[p].value for p in parts), label="district students")
        doc.total("d.n", parts)
    if len(a.funnel):
        fs = a.funnel["school_id"].astype(str)
        for w in ("n", "k"):
            ps = [funnel_key(keys, sid, w) for sid in fs]
            doc.count(f"f.{w}", sum(doc.cells[p].value for p in ps), printed=w == "n")
            doc.total(f"f.{w}", ps)
        doc.rate("f.rate", "f.k", "f.n")
    for x in _tuples(a.ranks):
        sid = str(x.school_id)
        if sid in keys and int(x.n) != doc.cells[keys[sid]["n"]].value:
            keys[sid]["n"] = doc.count(f"e.{sid}.n", int(x.n))  # other students: own cell
    _register_compliance(doc, a.compliance)
    return doc.protect(), keys


def _register_compliance(doc: Document, c: pd.DataFrame) -> None:
    for r in _tuples(c):
        if r.indicator not in STUDENT_INDICATORS or pd.isna(r.n) or pd.isna(r.value):
            continue
        pre = f"c.{r.school_id}.{r.indicator}"
        doc.count(f"{pre}.n", int(r.n))
        doc.count(f"{pre}.k", int(round(float(r.value) * int(r.n))), printed=False)
        doc.rate(f"{pre}.rate", f"{pre}.k", f"{pre}.n")


def _count(doc: Document, key: str) -> str:
    """A count as the document prints it ("<5", "—"); a cell it holds but does not print,
    or one it does not hold, as "—"."""
    if key not in doc.cells or doc.status(key) == HIDDEN:
        return "—"
    return doc.text(key)


def _rate_ok(doc: Document, key: str) -> bool:
    """True when the rate may be printed (registered and shown)."""
    return key in doc.rates and doc.rate_shown(key)


def _doc(a: DistrictAnalysis) -> Document:
    """The analysis's protected document (built from its tables when it has none)."""
    if a.disclosure is None:
        a.disclosure, a.funnel_keys = district_document(a, a.funnel, {})
    return a.disclosure


def _status(r, t: Lang) -> str:
    """A school's status in the summary's language, with its reason when not ``ok``."""
    key = {"ok": "status_ok", "partial": "status_partial", "skipped": "status_skipped"}
    reason = "" if pd.isna(r.reason) else str(r.reason)
    return t(*DISTRICT_TEXTS[key.get(r.status, "failed")]).format(reason=reason)


def _notes(a: DistrictAnalysis, t: Lang, *, na: bool = False) -> str:
    """A table's footnote: what "<min_cell" and "—" mean, and "n/a" when the table uses it."""
    T = DISTRICT_TEXTS
    note = t(*T["suppressed_note"]).format(min_cell=a.min_cell)
    return note + t(*T["na_note"]).format(na=t(*T["na"])) if na else note


def _school_row(a: DistrictAnalysis, r, t: Lang) -> list[str]:
    """One school's row: counts and shares as the document prints them ("—": withheld), and
    "n/a" for what was not computed (a school not cleaned, no progress stage, no estimate)."""
    T, doc = DISTRICT_TEXTS, _doc(a)
    na = t(*T["na"])
    sid = str(r.school_id)
    cleaned = r.status in CLEANED
    ran = cleaned and r.progress == "ok"
    shown = _rate_ok(doc, school_key(sid, "rate"))
    if not ran:
        cert = true = na
    else:
        cert = (
            f"{pct(r.certified_share)} ({ci(r.certified_ci_low, r.certified_ci_high)})"
            if pd.notna(r.certified_share) and shown
            else "—"
        )
        if pd.notna(r.true_share) and (shown or pd.isna(r.certified_share)):
            true = f"{pct(r.true_share)} ({ci(r.true_share_ci_low, r.true_share_ci_high)})"
        elif pd.notna(r.true_share) or bool(r.true_share_suppressed):
            true = "—"
        else:  # not estimated (--no-true-share, or the estimate could not be made)
            true = na
    return [
        r.school,
        t(*T[r.level]) if r.level in T else na,
        _count(doc, school_key(sid, "n")) if cleaned else na,
        _count(doc, school_key(sid, "ev")) if ran else na,
        cert,
        true,
        _status(r, t),
    ]


def _sec_schools(a: DistrictAnalysis, t: Lang) -> Section:
    T = DISTRICT_TEXTS
    rows = [_school_row(a, r, t) for r in _tuples(a.schools)]
    cols = [t(*T[k]) for k in ("school", "level", "n", "n_evaluable", "certified")]
    cols += [t(*T["true_share"]), t(*T["status"])]
    table = pd.DataFrame(rows, columns=cols)
    note = _notes(a, t, na=bool((table == t(*T["na"])).any().any()))
    blocks: list = [Table(table, t(*T["verdicts_caption"]), "schools", note)]
    if "progress" not in a.stages:
        blocks.insert(0, Para(t(*T["no_progress"]), "note"))
    return Section("schools", t(*T["sec_schools"]), blocks)


def _funnel_figure(f: pd.DataFrame, p0: float, t: Lang, plotted: list[bool]) -> bytes:
    """The funnel plot: the limits around the district rate over the schools' sizes, and the
    points of the schools whose size and rate are printed (``plotted``)."""
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
    pts = f.loc[plotted]
    ax.scatter(pts["n"], pts["rate"], zorder=3)
    ax.set_xlabel(t(*T["funnel_x"]))
    ax.set_ylabel(t(*T["funnel_y"]))
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.legend(loc="lower right", fontsize=8)
    return fig_png(fig)


def _funnel_rows(a: DistrictAnalysis, t: Lang) -> tuple[list[list[str]], list[bool]]:
    """The funnel table's rows as printed, and which schools' points may be plotted (their
    rate and size shown): a hidden size hides its limits, a hidden rate its position, and a
    hidden district rate every limit and position (they are centred on it and give it back)."""
    T, doc = DISTRICT_TEXTS, _doc(a)
    centre = _rate_ok(doc, "f.rate")
    names = _names(a)
    rows, plotted = [], []
    f = a.funnel.rename(columns={"lo_99.8": "lo_99_8", "hi_99.8": "hi_99_8"})
    for r in _tuples(f):
        sid = str(r.school_id)
        nk = funnel_key(a.funnel_keys, sid, "n")
        n_ok = nk in doc.cells and doc.status(nk) == "shown"
        rate_ok = _rate_ok(doc, funnel_key(a.funnel_keys, sid, "rate"))
        rows.append(
            [
                names.get(r.school_id, r.school_id),
                _count(doc, nk),
                pct(r.rate) if rate_ok else "—",
                ci(r.lo_95, r.hi_95) if n_ok and centre else "—",
                ci(r.lo_99_8, r.hi_99_8) if n_ok and centre else "—",
                t(*T[r.position]) if rate_ok and centre else "—",
            ]
        )
        plotted.append(n_ok and rate_ok and centre)
    return rows, plotted


def _sec_funnel(a: DistrictAnalysis, t: Lang) -> Section:
    T = DISTRICT_TEXTS
    f = a.funnel
    if f.empty:
        return Section("funnel", t(*T["sec_funnel"]), [Para(t(*T["no_outcomes"]), "note")])
    doc = _doc(a)
    rows, plotted = _funnel_rows(a, t)
    cols = [
        t(*T[k]) for k in ("school", "n_evaluable", "rate", "limits95", "limits998", "position")
    ]
    note = t(*T["suppressed_note"]).format(min_cell=a.min_cell)
    table = Table(pd.DataFrame(rows, columns=cols), t(*T["funnel_table_caption"]), "funnel", note)
    if not _rate_ok(doc, "f.rate"):  # no centre line, limits or positions: they give it back
        lead = t(*T["funnel_withheld"]).format(n=_count(doc, "f.n"))
        return Section("funnel", t(*T["sec_funnel"]), [Para(lead, "lead"), table])
    pos = f.loc[plotted, "position"].value_counts()
    lead = t(*T["funnel_lead"]).format(
        p0=doc.rate_text("f.rate"),
        n=_count(doc, "f.n"),
        above=int(pos.get("above", 0)),
        below=int(pos.get("below", 0)),
        warning=int(pos.get("above_warning", 0) + pos.get("below_warning", 0)),
    )
    return Section(
        "funnel",
        t(*T["sec_funnel"]),
        [
            Para(lead, "lead"),
            Figure(_funnel_figure(f, a.p0, t, plotted), t(*T["funnel_caption"]), "funnel"),
            table,
        ],
    )


def _say(note: Note, t: Lang) -> str:
    """A note as a sentence of the summary's language."""
    key, fields = note
    return t(*DISTRICT_TEXTS[key]).format(**fields)


def _pp(v: float) -> str:
    return "—" if pd.isna(v) else f"{100 * v:+.1f}"


def _sec_effects(a: DistrictAnalysis, t: Lang) -> Section:
    T = DISTRICT_TEXTS
    if a.effects is None or a.ranks.empty:
        reason = _say(a.effects_failed, t) if a.effects_failed else t(*T["no_outcomes"])
        return Section(
            "effects", t(*T["sec_effects"]), [Para(t(*T["effects_failed"]).format(reason=reason))]
        )
    e, r = a.effects, a.ranks
    names, doc = _names(a), _doc(a)
    # the raw deviation and the effect (with its shrinkage) give the school's rate back: a
    # school whose rate is hidden shows none of them, is counted in no sentence and listed last
    hidden = [
        _hide(x.n, a.min_cell)
        or not _rate_ok(doc, funnel_key(a.funnel_keys, str(x.school_id), "rate"))
        for x in _tuples(r)
    ]
    r = r.assign(withheld=hidden).sort_values(["withheld", "effect"], ascending=[True, False])
    shown = r.loc[~r["withheld"]]
    lead = t(*T["effects_lead"]).format(
        sd_school=f"{100 * e.sd_school:.1f}",
        sd_mentor=f"{100 * e.sd_mentor:.1f}",
        icc=pct(e.icc_school),
        n_sure_top=int((shown["p_top"] > SURE).sum()),
        n_sure_bottom=int((shown["p_bottom"] > SURE).sum()),
        sure=pct(SURE, 0),
    )
    lb, rb = t("（", " ("), t("）", ")")
    # a school's rate minus its raw deviation gives a withheld district rate back, and so does
    # its rate minus its effect over its shrinkage: all three are then withheld; the rank
    # probabilities and intervals compare the schools with one another and stay
    centre = _rate_ok(doc, "f.rate")
    rows = []
    for x in _tuples(r):
        sid, small = str(x.school_id), bool(x.withheld)
        rows.append(
            [names.get(x.school_id, x.school_id), _count(doc, funnel_key(a.funnel_keys, sid, "n"))]
            + (
                ["—"] * 6
                if small
                else [
                    _pp(x.raw) if centre else "—",
                    f"{_pp(x.effect)}{lb}{_pp(x.ci_low)}, {_pp(x.ci_high)}{rb}" if centre else "—",
                    f"{x.shrinkage:.2f}" if centre else "—",
                    pct(x.p_top, 0),
                    pct(x.p_bottom, 0),
                    f"{int(x.rank_low)}–{int(x.rank_high)}",
                ]
            )
        )
    keys = ("school", "n_evaluable", "raw", "effect", "shrinkage", "p_top", "p_bottom")
    cols = [t(*T[k]) for k in keys] + [t(*T["rank_interval"])]
    note = t(*T["effects_note"]) + " " + t(*T["suppressed_note"]).format(min_cell=a.min_cell)
    if not centre:
        note = t(*T["effects_withheld"]) + " " + note
    table = Table(pd.DataFrame(rows, columns=cols), t(*T["effects_caption"]), "effects", note)
    return Section("effects", t(*T["sec_effects"]), [Para(lead, "lead"), table])


def _sec_compliance(a: DistrictAnalysis, t: Lang) -> Section:
    T = DISTRICT_TEXTS
    c = a.compliance
    if c.empty:
        return Section("compliance", t(*T["sec_compliance"]), [Para(t(*T["no_compliance"]))])
    label = "label_zh" if t.zh else "label_en"
    names, doc = _names(a), _doc(a)
    na = t(*T["na"])

    def cell(x) -> str:
        if pd.isna(x.value):
            return na  # not computed (no record of it at this school)
        if _hide(x.n, a.min_cell):
            return "—"
        key = f"c.{x.school_id}.{x.indicator}.rate"
        if x.indicator in STUDENT_INDICATORS and not _rate_ok(doc, key):
            return "—"  # it would reveal fewer than min_cell students meeting it or not
        mark = "" if pd.isna(x.passed) else (" √" if bool(x.passed) else " ×")
        return f"{pct(x.value)}{mark}"

    c = c.assign(cell=[cell(x) for x in _tuples(c)])
    c = c.assign(school=c["school_id"].map(names))
    wide = c.pivot_table(
        index="school", columns=label, values="cell", aggfunc="first", sort=False
    ).reset_index()
    wide = wide.rename(columns={"school": t(*T["school"])}).fillna(na)  # not at this level
    note = _notes(a, t, na=bool((wide == na).any().any()))
    table = Table(wide, t(*T["compliance_caption"]), "compliance", note)
    return Section("compliance", t(*T["sec_compliance"]), [table])


def district_report(a: DistrictAnalysis, *, lang: str = "zh") -> Report:
    """The district summary of an analysed district (:func:`analyse_district`)."""
    t = Lang(lang)
    T = DISTRICT_TEXTS
    ok = a.schools["status"] == "ok"
    n_students = _count(_doc(a), "d.n")
    front = [
        t(*T["front"]).format(n_schools=len(a.schools), n_ok=int(ok.sum()), n_students=n_students)
    ]
    if a.synthetic:
        front.append(t(*T["synthetic"]))
    methods = [
        Para(t(*T["methods"]).format(n_sims=N_SIMS)),
        Para(t(*T["privacy"]).format(min_cell=a.min_cell)),
        *[Para(_say(n, t), "note") for n in a.notes],
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
    paths = rep.write(Path(out_dir) / "reports", formats)
    record_files(out_dir, paths)  # the folder's files list: a re-run knows them for its own
    return paths
