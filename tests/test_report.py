"""The annual summary and the pilot review: content, formats, determinism, privacy, glyphs.

Reports are drafted once per module on the committed 150-student sample (cleaned without
pseudonymisation, so the roster's names and student IDs are there to scan for): the annual
summary of 2024 and the review, in Chinese and English, public and internal, written as
DOCX, HTML and Markdown. Every expected number is recomputed here from ``progress_report``,
``compliance_report`` and the satisfaction table, independently of the report module.
"""

from __future__ import annotations

import html
import re
import time
import warnings
import zipfile
from pathlib import Path

import docx
import matplotlib
import numpy as np
import pandas as pd
import pytest

from mentorlib import report
from mentorlib.compliance import compliance_report
from mentorlib.errors import InputError
from mentorlib.progress import progress_report

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
YEAR = 2024
VARIANTS = [(lang, public) for lang in ("zh", "en") for public in (True, False)]
GLYPH = re.compile(r"Glyph .* missing|missing from (current )?font", re.I)


@pytest.fixture(scope="module")
def study():
    """The sample study with real (synthetic) names and IDs: no pseudonymisation key."""
    from mentorlib.clean import clean_study

    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MENTORLIB_PSEUDONYM_KEY", raising=False)
        P = clean_study(SAMPLE).processed()
    assert not P.pseudonymised and "name" in P["students"].columns
    return P


@pytest.fixture(scope="module")
def drafted(study):
    """Every report variant, drafted with every warning recorded (for the glyph check)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # a missing glyph stops the drafting (every figure is rendered while drafting)
        warnings.filterwarnings("error", message=r"Glyph .* missing")
        ya = report.analyse_year(study, YEAR, seed=0)
        pa = report.analyse_pilot(study, seed=0, draws=3)
        out = {"year_analyses": ya, "pilot_analyses": pa}
        for lang, public in VARIANTS:
            out["annual", lang, public] = report.annual_summary(
                study, YEAR, lang=lang, public=public, analyses=ya
            )
            out["review", lang, public] = report.pilot_review(
                study, lang=lang, public=public, analyses=pa
            )
    out["warnings"] = [str(w.message) for w in caught]
    return out


@pytest.fixture(scope="module")
def written(drafted, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    files = {}
    for key, rep in drafted.items():
        if isinstance(key, tuple):
            files[key] = rep.write(out)
    return out, files


def _reports(drafted):
    return {k: v for k, v in drafted.items() if isinstance(k, tuple)}


def _docx_text(path: Path) -> str:
    """Every text node of every XML part of a DOCX (body, tables, core properties ...)."""
    with zipfile.ZipFile(path) as z:
        parts = [z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml")]
    return "\n".join("".join(re.findall(r">([^<]*)<", p)) for p in parts)


def _number(text: str) -> float:
    """The first number of a cell, as a share when it carries a percent sign."""
    m = re.search(r"[-+]?\d[\d,]*\.?\d*", text)
    assert m, f"no number in {text!r}"
    v = float(m.group().replace(",", ""))
    return v / 100 if text[m.end() : m.end() + 1] == "%" else v


# ------------------------------------------------------------------ content


def test_every_section_present_in_every_format(drafted, written):
    _, files = written
    for (kind, lang, public), rep in _reports(drafted).items():
        want = report.ANNUAL_SECTIONS if kind == "annual" else report.REVIEW_SECTIONS
        assert rep.section_keys == list(want)
        paths = {
            p.suffix: p for p in files[kind, lang, public] if p.suffix in (".docx", ".html", ".md")
        }
        texts = {
            ".docx": "\n".join(p.text for p in docx.Document(paths[".docx"]).paragraphs),
            ".html": html.unescape(paths[".html"].read_text(encoding="utf-8")),
            ".md": paths[".md"].read_text(encoding="utf-8"),
        }
        for s in rep.sections:
            assert s.blocks, f"empty section {s.key}"
            for fmt, text in texts.items():
                assert s.title in text, f"{kind}/{lang}: section {s.key!r} missing from {fmt}"
        # places for the researcher's own judgement, clearly marked
        todo = "【待补充】" if lang == "zh" else "[to be completed]"
        assert all(todo in t for t in texts.values())
        assert sum(isinstance(b, report.Todo) for s in rep.sections for b in s.blocks) >= 6


def test_file_names_say_what_is_inside(written):
    _, files = written
    names = {k: [p.name for p in v] for k, v in files.items()}
    assert "年度总结_2024学年.docx" in names["annual", "zh", True]
    assert "年度总结_2024学年_内部版.html" in names["annual", "zh", False]
    assert "annual_summary_2024.md" in names["annual", "en", True]
    assert "annual_summary_2024_internal.docx" in names["annual", "en", False]
    assert "三年试点评估报告_2023-2025学年.docx" in names["review", "zh", True]
    assert "pilot_review_2023-2025.html" in names["review", "en", True]
    # Markdown figures are written beside it and linked relatively
    md = next(p for p in files["annual", "zh", True] if p.suffix == ".md")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md.read_text(encoding="utf-8"))
    assert links and all((md.parent / link).is_file() for link in links)


def test_executive_summary_carries_the_computed_headline(study, drafted):
    # progress_report's own sentence, with the year's numbers, opens the summary
    R = progress_report(study, YEAR, seed=0)
    for lang in ("zh", "en"):
        rep = drafted["annual", lang, True]
        first = rep.section("summary").blocks[0]
        assert first.text == R.headline(lang)
    s = R.summary()
    assert (
        f"{s['proportion']:.1%}" in drafted["annual", "zh", True].section("summary").blocks[0].text
    )


def _hidden_rate(r) -> bool:
    """A student-based compliance share whose numerator or remainder is below 5 students."""
    from mentorlib.compliance import STUDENT_INDICATORS

    code = r.indicator if hasattr(r, "indicator") else r.name
    if code not in STUDENT_INDICATORS or pd.isna(r.value) or pd.isna(r.n):
        return False
    k = round(float(r.value) * float(r.n))
    return min(k, int(r.n) - k) < 5


def test_docx_kpi_table_equals_the_computed_numbers(study, written):
    """The KPI table of the Word file, read back with python-docx, against numbers computed
    here from progress_report, compliance_report and the satisfaction table."""
    _, files = written
    path = next(p for p in files["annual", "zh", True] if p.suffix == ".docx")
    d = docx.Document(path)
    kpi = next(t for t in d.tables if [c.text for c in t.rows[0].cells][:2] == ["指标", "数值"])
    rows = {r.cells[0].text: [c.text for c in r.cells] for r in kpi.rows[1:]}

    R = progress_report(study, YEAR, seed=0).summary()
    prog = next(v for k, v in rows.items() if k.startswith("显著进步学生比例"))
    assert _number(prog[1]) == pytest.approx(R["proportion"], abs=5e-4)
    lo, hi = (float(x) / 100 for x in re.findall(r"(\d+\.\d)%", prog[2]))
    assert lo == pytest.approx(R["ci_low"], abs=5e-4)
    assert hi == pytest.approx(R["ci_high"], abs=5e-4)
    assert prog[4] == "未达成" if R["verdict"] == "not met" else prog[4] != "未达成"
    assert _number(prog[5]) == R["n_evaluable"]

    C = compliance_report(study, YEAR).indicators
    assert len(C) >= 10
    for r in C.itertuples(index=False):
        cells = rows[r.label_zh]
        if _hidden_rate(r):  # a share of students with fewer than 5 on one side: not printed
            assert cells[1] == "—" and _number(cells[5]) == r.n, r.indicator
            continue
        assert _number(cells[1]) == pytest.approx(r.value, abs=5e-4), r.indicator
        assert cells[3] == r.target_zh
        assert cells[4] == ("达标" if r.passed else "未达标")
        assert _number(cells[5]) == r.n

    s = study["satisfaction"]
    s = s.loc[s["year"] == YEAR]
    sat = rows["学生对导师的平均满意度（1–5分）"]
    assert _number(sat[1]) == pytest.approx(s["satisfaction"].mean(), abs=5e-3)
    want = rows["希望更换导师的学生比例"]
    w = s["want_change"].dropna().astype(bool)
    assert _number(want[1]) == pytest.approx(w.mean(), abs=5e-4)
    assert _number(want[5]) == len(w)


def test_kpis_frame_matches_the_analyses(study, drafted):
    k = drafted["annual", "en", True].kpis.set_index("key")
    R = progress_report(study, YEAR, seed=0).summary()
    assert k.at["progress", "value"] == pytest.approx(R["proportion"])
    assert k.at["progress", "target"] == 0.85
    C = compliance_report(study, YEAR).indicators.set_index("indicator")
    for code, r in C.iterrows():
        if _hidden_rate(r):  # disclosure control: k or n - k below min_cell
            assert pd.isna(k.at[code, "value"]), code
            continue
        assert k.at[code, "value"] == pytest.approx(r["value"])
        assert bool(k.at[code, "passed"]) == bool(r["passed"])
    rv = drafted["review", "zh", True].kpis
    assert set(rv["year"]) == {2023, 2024, 2025}
    for y in (2023, 2024, 2025):
        p = progress_report(study, y, seed=0).summary()["proportion"]
        got = rv.loc[(rv["key"] == "progress") & (rv["year"] == y), "value"].item()
        assert got == pytest.approx(p)


def test_review_has_goals_cohorts_stability_and_a_recommendation(drafted):
    rep = drafted["review", "zh", True]
    goals = rep.section("goals")
    heads = [b.text for b in goals.blocks if isinstance(b, report.Heading)]
    for word in ("全覆盖", "个性化", "协同化", "长效化"):
        assert any(word in h for h in heads)
    # every goal ends in a place for the researcher's judgement
    assert sum(isinstance(b, report.Todo) for b in goals.blocks) == 4
    cohort = next(b for b in rep.section("cohort").blocks if isinstance(b, report.Table))
    assert list(cohort.data.columns[-3:]) == ["2023学年", "2024学年", "2025学年"]
    assert any(isinstance(b, report.Table) for b in rep.section("stability").blocks)
    rec = rep.section("grouping")
    assert any(isinstance(b, report.Figure) for b in rec.blocks)
    text = rep.text()
    assert "区间" in text and "合成数据" in text  # uncertainty, and the synthetic caveat
    lim = drafted["review", "en", True].section("limitations")
    lim_text = " ".join(b.text for b in lim.blocks if isinstance(b, report.Para))
    for phrase in (
        "sensitivity",
        "specificity",
        "Regression to the mean",
        "No randomisation",
        "synthetic",
    ):
        assert phrase in lim_text


# ------------------------------------------------------------------ formats


def test_html_is_self_contained(written):
    out, _ = written
    pages = sorted(out.glob("*.html"))
    assert len(pages) == 8
    for p in pages:
        h = p.read_text(encoding="utf-8")
        low = h.lower()
        assert "http://" not in low and "https://" not in low, p.name
        assert "<link" not in low and "<script" not in low and "@import" not in low, p.name
        for ref in re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)""", h):
            assert ref.startswith(("data:", "#")), (p.name, ref[:40])
        for ref in re.findall(r"url\(([^)]*)\)", h):
            assert ref.strip("'\"").startswith("data:"), (p.name, ref[:40])
        assert "<img" in h and "data:image/png;base64," in h
        assert "data:font/woff;base64," in h  # the CJK glyphs travel with the page


def test_docx_has_real_tables_figures_and_east_asian_fonts(written):
    _, files = written
    path = next(p for p in files["annual", "zh", True] if p.suffix == ".docx")
    d = docx.Document(path)
    assert len(d.tables) >= 8
    assert len(d.inline_shapes) >= 5
    with zipfile.ZipFile(path) as z:
        styles = z.read("word/styles.xml").decode()
        body = z.read("word/document.xml").decode()
        media = [n for n in z.namelist() if n.startswith("word/media/")]
    assert 'w:eastAsia="宋体"' in styles and 'w:eastAsia="微软雅黑"' in styles
    assert media and all(n.endswith(".png") for n in media)
    assert "<w:tbl>" in body and "w:tblHeader" in body
    cp = d.core_properties
    assert cp.created.year == YEAR + 1 and cp.modified == cp.created


def test_same_inputs_same_documents(study, drafted):
    """Drafted again from scratch (fresh analyses, fresh font subset, a second later):
    identical text and identical bytes."""
    first = drafted["annual", "zh", True]
    first_html = first.to_html()
    report._font_subset.cache_clear()
    time.sleep(1.1)  # a timestamp anywhere (font head table, zip entries) would now differ
    again = report.annual_summary(study, YEAR, lang="zh", public=True, seed=0)
    assert again.text() == first.text()
    assert again.to_markdown() == first.to_markdown()
    assert again.to_docx() == first.to_docx()
    assert again.to_html() == first_html
    pd.testing.assert_frame_equal(again.kpis, first.kpis)
    r2 = report.pilot_review(study, lang="en", analyses=drafted["pilot_analyses"])
    assert r2.to_docx() == drafted["review", "en", True].to_docx()


def test_figures_are_reproducible_pngs(drafted):
    for rep in _reports(drafted).values():
        figs = rep.figures()
        assert figs, rep.stem
        for _name, f in figs:
            assert f.png.startswith(b"\x89PNG\r\n\x1a\n")
            assert b"Software" not in f.png and b"tIME" not in f.png


def test_no_missing_glyph_in_any_figure(drafted):
    # every figure of both reports, both languages, was rendered with glyph warnings as
    # errors (the fixture would have failed) and every other warning recorded
    n = sum(len(r.figures()) for r in _reports(drafted).values())
    assert n >= 40
    glyphs = [w for w in drafted["warnings"] if GLYPH.search(w)]
    assert not glyphs, glyphs[:3]


def test_bad_arguments(study, drafted):
    with pytest.raises(InputError, match="lang"):
        report.annual_summary(study, YEAR, lang="fr", analyses=drafted["year_analyses"])
    with pytest.raises(InputError, match="another year"):
        report.annual_summary(study, 2023, analyses=drafted["year_analyses"])
    with pytest.raises(InputError, match="format"):
        drafted["annual", "zh", True].write("/tmp/never", formats=("pdf",))


# ------------------------------------------------------------------ privacy


def _outputs(files) -> dict[Path, str]:
    out = {}
    for p in files:
        if p.suffix == ".docx":
            out[p] = _docx_text(p)
        elif p.suffix in (".html", ".md"):
            out[p] = p.read_text(encoding="utf-8")
    return out


def test_privacy_scan_no_student_name_or_id_anywhere(study, written):
    """Every output (DOCX XML text, HTML, Markdown), internal and public, scanned for every
    roster name and every student ID of the processed students table."""
    _, files = written
    st = study["students"]
    ids = set(st["student_id"].dropna().astype(str))
    names = set(st["name"].dropna().astype(str))
    staff = set(study["staff"]["name"].dropna().astype(str))
    assert len(ids) > 100 and len(names) > 100
    scanned = 0
    for (_kind, _lang, public), paths in files.items():
        for path, text in _outputs(paths).items():
            scanned += 1
            leaked = [i for i in ids if i in text]
            assert not leaked, f"{path.name}: student IDs {leaked[:3]}"
            # a student who shares a name with a staff member may be named as a mentor
            # in the internal version; nowhere else
            check = names if public else names - staff
            leaked = [n for n in check if n in text]
            assert not leaked, f"{path.name}: student names {leaked[:3]}"
            if public:
                leaked = [n for n in staff if n in text]
                assert not leaked, f"{path.name}: staff names {leaked[:3]}"
    assert scanned == 24


def test_mentor_names_only_in_the_internal_version(study, written, drafted):
    _, files = written
    staff = set(study["staff"]["name"].dropna().astype(str))
    for lang in ("zh", "en"):
        internal = drafted["annual", lang, False]
        assert ("内部版" if lang == "zh" else "internal") in internal.title
        public = drafted["annual", lang, True]
        assert "内部版" not in public.title and "internal" not in public.title
        text = _docx_text(next(p for p in files["annual", lang, False] if p.suffix == ".docx"))
        assert sum(n in text for n in staff) >= 10
    assert "内部版" in drafted["review", "zh", False].title


COUNT_HEADERS = re.compile(
    r"^(学生数|人数|可评估|分母（人）|显著进步人数|回答人数|希望更换导师|人次|受导学生|"
    r"Students|Evaluable|Denominator|Progressing|Responses|Want to change|Mentees|n)$"
)


def test_small_cells_are_suppressed(drafted):
    """No table cell counting students shows 1-4; a suppressed group shows no rate."""
    for rep in _reports(drafted).values():
        for s in rep.sections:
            for b in s.blocks:
                if not isinstance(b, report.Table):
                    continue
                for col in b.data.columns:
                    if not COUNT_HEADERS.match(str(col)):
                        continue
                    for v in b.data[col]:
                        v = str(v).replace(",", "")
                        assert not (v.isdigit() and 0 < int(v) < 5), (rep.stem, b.key, col, v)
    focus = next(
        b
        for b in drafted["annual", "zh", True].section("focus").blocks
        if isinstance(b, report.Table)
    )
    small = focus.data.loc[focus.data["可评估"] == "<5"]
    assert len(small) >= 1  # fewer than 5 evaluable children of reconstituted families
    # the group's size (6) is printed as it is: "<5" is never written for 5 or more
    assert (small["学生数"] != "<5").all()
    assert (small["显著进步比例"] == "—").all() and (small["95%置信区间"] == "—").all()


def test_public_figures_hide_mentors_with_few_mentees(study, drafted):
    ya = drafted["year_analyses"]
    eff = ya.mentors.effects
    comp = eff.loc[eff["outcome"] == "composite"]
    n_small = int((comp["n"] < 5).sum())
    title = report._caterpillar_title(comp.loc[comp["n"] >= 5], report._L("zh"), 5)
    assert f"{len(comp) - n_small}名导师" in title


# ------------------------------------------------------------------ another school


@pytest.mark.slow
def test_middle_school_reports(middle_study, tmp_path):
    from mentorlib.data import from_synth

    P = from_synth(middle_study)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("error", message=r"Glyph .* missing")
        a = report.annual_summary(P, P.years[-1], lang="zh")
        r = report.pilot_review(P, lang="en", public=False, draws=2)
    assert not [w for w in caught if GLYPH.search(str(w.message))]
    assert a.section_keys == list(report.ANNUAL_SECTIONS)
    assert r.section_keys == list(report.REVIEW_SECTIONS)
    assert "受导学生" in a.text() and "合成数据" in a.text()
    keys = set(a.kpis["key"])
    assert {"parent_call", "home_visit", "student_report"} <= keys
    paths = a.write(tmp_path, formats=("docx", "html"))
    assert all(p.stat().st_size > 10_000 for p in paths)
    ids = set(P["students"]["student_id"].astype(str))
    text = a.text() + r.text()
    assert not [i for i in ids if i in text]
    assert np.isfinite(a.kpis.set_index("key").at["progress", "value"])


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


def test_kpi_base_n_prints_the_documents_text_for_a_complementary_cell(study):
    """A base n hidden as a complement (5 or more) prints "—", never "<5" nor its value."""
    import copy
    import dataclasses

    a = report.analyse_year(study, YEAR, mentors=False, seed=0)
    doc = copy.deepcopy(a.disclosure)
    n_sat = doc.cells["sat.0.n"].value
    assert n_sat >= 5
    doc.cells["sat.0.n"].status = "secondary"  # as complementary suppression leaves it
    sat = a.satisfaction.copy()
    sat["n"] = sat["n"].astype("Int64")
    sat.loc[sat["term"] == 0, "n"] = pd.NA  # as doc.mask_table leaves the table
    a2 = dataclasses.replace(a, satisfaction=sat, disclosure=doc)
    rep = report.annual_summary(study, YEAR, lang="en", analyses=a2)
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
