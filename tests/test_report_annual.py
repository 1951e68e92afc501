"""The annual summary: the headline, the KPI table against numbers recomputed here from progress_report, compliance_report and the satisfaction table, the mentor figure.

Inputs drafted once per test process: see ``_report_fixtures``.
"""

from __future__ import annotations

import re

import docx
import pandas as pd
import pytest

from mentorlib import report
from mentorlib.compliance import compliance_report
from mentorlib.labels import Lang
from mentorlib.plots import fig_png
from mentorlib.progress import progress_report
from mentorlib.report.sections_mentors import caterpillar_title

from _report_fixtures import (
    YEAR,
    hidden_rate,
    number,
)


def test_progress_section_carries_the_computed_headline(report_study, drafted):
    # progress_report's own sentence (interval, test), with the year's numbers, opens the
    # progress section; the executive summary opens with the plain-words headline
    # (tests/test_report_headline.py)
    R = progress_report(report_study, YEAR, seed=0)
    for lang in ("zh", "en"):
        rep = drafted["annual", lang, True]
        assert rep.section("progress").blocks[0].text == R.headline(lang)
    s = R.summary_dict()
    assert (
        f"{s['proportion']:.1%}" in drafted["annual", "zh", True].section("summary").blocks[0].text
    )


def test_docx_kpi_table_equals_the_computed_numbers(report_study, written):
    """The KPI table of the Word file, read back with python-docx, against numbers computed
    here from progress_report, compliance_report and the satisfaction table."""
    _, files = written
    path = next(p for p in files["annual", "zh", True] if p.suffix == ".docx")
    d = docx.Document(path)
    kpi = next(t for t in d.tables if [c.text for c in t.rows[0].cells][:2] == ["指标", "数值"])
    rows = {r.cells[0].text: [c.text for c in r.cells] for r in kpi.rows[1:]}

    R = progress_report(report_study, YEAR, seed=0).summary_dict()
    prog = next(v for k, v in rows.items() if k.startswith("显著进步学生比例"))
    assert number(prog[1]) == pytest.approx(R["proportion"], abs=5e-4)
    lo, hi = (float(x) / 100 for x in re.findall(r"(\d+\.\d)%", prog[2]))
    assert lo == pytest.approx(R["ci_low"], abs=5e-4)
    assert hi == pytest.approx(R["ci_high"], abs=5e-4)
    assert prog[4] == "未达成" if R["verdict"] == "not met" else prog[4] != "未达成"
    assert number(prog[5]) == R["n_evaluable"]

    C = compliance_report(report_study, YEAR).indicators
    assert len(C) >= 10
    for r in C.itertuples(index=False):
        cells = rows[r.label_zh]
        if hidden_rate(r):  # a share of students with fewer than 5 on one side: not printed
            assert cells[1] == "—" and number(cells[5]) == r.n, r.indicator
            continue
        assert number(cells[1]) == pytest.approx(r.value, abs=5e-4), r.indicator
        assert cells[3] == r.target_zh
        assert cells[4] == ("达标" if r.passed else "未达标")
        assert number(cells[5]) == r.n

    s = report_study["satisfaction"]
    s = s.loc[s["year"] == YEAR]
    sat = rows["学生对导师的平均满意度（1–5分）"]
    assert number(sat[1]) == pytest.approx(s["satisfaction"].mean(), abs=5e-3)
    want = rows["希望更换导师的学生比例"]
    w = s["want_change"].dropna().astype(bool)
    assert number(want[1]) == pytest.approx(w.mean(), abs=5e-4)
    assert number(want[5]) == len(w)


def test_kpis_frame_matches_the_analyses(report_study, drafted):
    k = drafted["annual", "en", True].kpis.set_index("key")
    R = progress_report(report_study, YEAR, seed=0).summary_dict()
    assert k.at["progress", "value"] == pytest.approx(R["proportion"])
    assert k.at["progress", "target"] == 0.85
    C = compliance_report(report_study, YEAR).indicators.set_index("indicator")
    for code, r in C.iterrows():
        if hidden_rate(r):  # disclosure control: k or n - k below min_cell
            assert pd.isna(k.at[code, "value"]), code
            continue
        assert k.at[code, "value"] == pytest.approx(r["value"])
        assert bool(k.at[code, "passed"]) == bool(r["passed"])
    rv = drafted["review", "zh", True].kpis
    assert set(rv["year"]) == {2023, 2024, 2025}
    for y in (2023, 2024, 2025):
        p = progress_report(report_study, y, seed=0).summary_dict()["proportion"]
        got = rv.loc[(rv["key"] == "progress") & (rv["year"] == y), "value"].item()
        assert got == pytest.approx(p)


def test_kpi_base_n_prints_the_documents_text_for_a_complementary_cell(report_study):
    """A base n hidden as a complement (5 or more) prints "—", never "<5" nor its value."""
    import copy
    import dataclasses

    a = report.analyse_year(report_study, YEAR, mentors=False, seed=0)
    doc = copy.deepcopy(a.disclosure)
    n_sat = doc.cells["sat.0.n"].value
    assert n_sat >= 5
    doc.cells["sat.0.n"].status = "secondary"  # as complementary suppression leaves it
    sat = a.satisfaction.copy()
    sat["n"] = sat["n"].astype("Int64")
    sat.loc[sat["term"] == 0, "n"] = pd.NA  # as doc.mask_table leaves the table
    a2 = dataclasses.replace(a, satisfaction=sat, disclosure=doc)
    rep = report.annual_summary(report_study, YEAR, lang="en", analyses=a2)
    kpi = next(b for b in rep.section("kpi").blocks if isinstance(b, report.Table))
    base = dict(zip(kpi.data["Indicator"], kpi.data["Base n"], strict=True))
    sat_row = next(v for k, v in base.items() if k.startswith("Mean satisfaction"))
    assert sat_row == "—"  # was "<5" for a count of 302
    want_row = next(v for k, v in base.items() if k.startswith("Students who want"))
    assert want_row == doc.text("sat.0.n_answer")
    prog_row = next(v for k, v in base.items() if k.startswith("Students progressing"))
    assert prog_row == doc.text("n_evaluable") == f"{doc.cells['n_evaluable'].value:,}"
    # no "<5" in the column for a registered count of 5 or more
    for key in ("n_evaluable", "sat.0.n", "sat.0.n_answer"):
        if doc.cells[key].value >= 5:
            assert doc.text(key) != "<5"


def test_public_figures_hide_mentors_with_few_mentees(report_study, drafted):
    ya = drafted["year_analyses"]
    eff = ya.mentors.effects
    comp = eff.loc[eff["outcome"] == "composite"]
    n_small = int((comp["n"] < 5).sum())
    title = caterpillar_title(comp.loc[comp["n"] >= 5], Lang("zh"), 5)
    assert f"{len(comp) - n_small}名导师" in title


# ------------------------------------------------------------------ another school


def test_cli_report_and_review_write_documents(tmp_path):
    import json
    import subprocess
    import sys

    from conftest import SAMPLE

    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "mentorlib",
            "report",
            str(SAMPLE),
            "--year",
            "2024",
            "--format",
            "docx,html",
            "--out",
            str(tmp_path),
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    files = json.loads(r.stdout)["files"]
    assert {p.rsplit(".", 1)[1] for p in files} == {"docx", "html"}
    assert all((tmp_path / p.rsplit("/", 1)[1]).is_file() for p in files)
    bad = subprocess.run(
        [sys.executable, "-m", "mentorlib", "report", str(SAMPLE), "--format", "pdf"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "unknown format" in bad.stderr and "Traceback" not in bad.stderr
    rv = subprocess.run(
        [
            sys.executable,
            "-m",
            "mentorlib",
            "review",
            str(SAMPLE),
            "--format",
            "md",
            "--draws",
            "2",
            "--out",
            str(tmp_path),
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    assert rv.returncode == 0, rv.stderr
    assert any(p.endswith(".md") for p in json.loads(rv.stdout)["files"])


def test_public_summary_shows_grades_by_month_and_only_the_internal_one_the_mentor_grid(drafted):
    """Issue 16 item 5: the principal's figure is the grade x month compliance summary; the
    mentor x month heatmap (one row a mentor) is in the internal version only."""
    C = drafted["year_analyses"].compliance
    assert len(C.by_grade_month)
    for lang in ("zh", "en"):
        keys = {
            public: [
                b.key
                for s in drafted["annual", lang, public].sections
                for b in s.blocks
                if isinstance(b, report.Figure)
            ]
            for public in (True, False)
        }
        assert "compliance_grade_month" in keys[True] and "talk_heatmap" not in keys[True]
        assert "compliance_grade_month" in keys[False] and "talk_heatmap" in keys[False]
        fig = next(
            b
            for b in drafted["annual", lang, True].section("compliance").blocks
            if isinstance(b, report.Figure) and b.key == "compliance_grade_month"
        )
        assert fig.png == fig_png(C.grade_month_figure(lang=lang))  # drawn from the analysis
