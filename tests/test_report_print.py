"""Consistency of the printed numbers and print-ready pages (issue 16 items 4 and 5).

The formatters and the correlation interval are checked against closed forms; the drafted
sample reports (``_report_fixtures``, shared with the other report tests) for the wording of
rules and counts; one annual summary is printed to PDF in headless Chromium (A4, page numbers,
nothing wider than the text area) and its DOCX through LibreOffice, each skipped with its
reason when the program is not installed.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mentorlib import report
from mentorlib.effectiveness.study import fisher_percentile_interval
from mentorlib.labels import Lang
from mentorlib.report.render.docx import PAGE_TEXT_CM, figure_cm, title_lines
from mentorlib.report.render.fmt import numci
from mentorlib.report.shared import odds_ratio_text

from _report_fixtures import reports

ZH, EN = Lang("zh"), Lang("en")


# ------------------------------------------------------------------ formatters


def test_ranges_with_a_negative_end_are_written_with_words():
    assert numci(-0.27, 0.23, t=ZH) == "-0.27 至 0.23"
    assert numci(-0.27, 0.23, t=EN) == "-0.27 to 0.23"
    assert numci(-0.5, -0.1, t=EN) == "-0.50 to -0.10"
    # a rounded "-0.00" is still a minus sign beside a dash
    assert numci(-0.001, 0.2, t=ZH) == "-0.00 至 0.20"
    assert numci(0.59, 0.98, t=ZH) == "0.59–0.98"
    assert numci(np.nan, 1, t=ZH) == "—"


def test_odds_ratios_are_ratios_of_odds_in_plain_words():
    up = odds_ratio_text(("多1次", "one more"), 2.01, 1.2, 3.4, "95%", ZH)
    assert "比值比" in up and "倍" not in up and "几率" not in up
    assert "越可能" in up and "1.20–3.40" in up
    down = odds_ratio_text(("多1次", "one more"), 0.5, 0.3, 0.8, "95%", EN)
    assert "odds ratio" in down and "less likely" in down
    flat = odds_ratio_text(("多1次", "one more"), 1.1, 0.8, 1.5, "95%", ZH)
    assert "区间包含1" in flat and "越可能" not in flat


def test_correlation_interval_on_the_fisher_z_scale_stays_within_one():
    rng = np.random.default_rng(1)
    # drift-type replicates around 1.05: a third of them beyond 1
    boot = rng.normal(1.05, 0.2, 2000)
    ci = fisher_percentile_interval(boot, 2.5, 97.5, prefix="r")
    assert -1 <= ci["r_low"] < ci["r_high"] <= 1
    assert ci["r_high"] == pytest.approx(1.0, abs=1e-9)
    # inside (-1, 1) it is the percentile interval (tanh is monotone)
    inner = rng.normal(0.3, 0.1, 2000)
    ci = fisher_percentile_interval(inner, 2.5, 97.5, prefix="r")
    assert ci["r_low"] == pytest.approx(np.percentile(inner, 2.5), abs=1e-6)
    assert ci["r_high"] == pytest.approx(np.percentile(inner, 97.5), abs=1e-6)
    assert np.isnan(fisher_percentile_interval([], 2.5, 97.5, prefix="r")["r_low"])


# ------------------------------------------------------------------ documents


def _texts(rep) -> str:
    out = [rep.title]
    for s in rep.sections:
        for b in s.blocks:
            if isinstance(b, report.Para):
                out.append(b.text)
            elif isinstance(b, report.Table):
                out += [" ".join(map(str, r)) for r in b.data.itertuples(index=False)]
                out.append(" ".join(map(str, b.data.columns)))
    return "\n".join(out)


def test_no_odds_multiplied_and_no_dash_after_a_minus(drafted):
    for key, rep in reports(drafted).items():
        txt = _texts(rep)
        assert "几率为原来的" not in txt, key
        # a negative number followed by a dash and a number: "-0.27–0.23"
        assert not re.search(r"-\d+(\.\d+)?–-?\d", txt), key


def test_each_rule_reads_the_same_in_summary_and_review(drafted):
    ya, pa = drafted["year_analyses"], drafted["pilot_analyses"]
    rules = ya.compliance.indicators.set_index("indicator")["target_zh"].to_dict()
    for lang in ("zh", "en"):
        summary = reports(drafted)[("annual", lang, True)]
        review = reports(drafted)[("review", lang, True)]
        col = "target_zh" if lang == "zh" else "target_en"
        for code, zh in rules.items():
            text = (
                zh
                if lang == "zh"
                else ya.compliance.indicators.set_index("indicator").at[code, col]
            )
            got = [r for r in summary.kpis.itertuples() if r.key == code]
            assert got and got[0].target_text == text, (code, lang)
            rev = [r for r in review.kpis.itertuples() if r.key == code]
            assert rev and {r.target_text for r in rev} == {text}, (code, lang)
    assert "training_hours" not in rules or "学时" in rules["training_hours"]
    assert len(pa.compliance)


def test_every_count_says_what_it_counts(drafted):
    rep = reports(drafted)[("annual", "zh", True)]
    kpi = next(b for b in rep.section("kpi").blocks if isinstance(b, report.Table))
    units = dict(zip(kpi.data["指标"], kpi.data["计数单位"], strict=True))
    assert set(units.values()) <= {
        "学生",
        "学生·学期",
        "学生·月",
        "导师",
        "导师·月",
        "导师·学期",
        "受导学生",
        "教职工",
        "—",
    }
    assert units["学生对导师的平均满意度（1–5分）"] == "学生·学期"
    sat = next(
        b
        for s in rep.sections
        for b in s.blocks
        if isinstance(b, report.Table) and b.key == "satisfaction"
    )
    assert "回答人次" in sat.data.columns
    assert any("学生·学期" in str(x) for x in sat.data.iloc[:, 0])


# ------------------------------------------------------------------ Word


def test_cover_title_breaks_between_words():
    t = "示范小学全员育人导师制2024–2025学年年度总结"
    assert title_lines(t) == ["示范小学全员育人导师制", "2024–2025学年年度总结"]
    en = "School: all-staff mentorship programme, annual summary 2024-25 school year"
    assert title_lines(en)[0].endswith("mentorship programme")
    assert title_lines("短标题") == ["短标题"]


def test_docx_has_page_numbers_a_toc_field_and_one_numeral_font(written):
    _, files = written
    path = next(p for p in files[("annual", "zh", True)] if p.suffix == ".docx")
    z = zipfile.ZipFile(path)
    footers = [z.read(n).decode() for n in z.namelist() if n.startswith("word/footer")]
    assert any("PAGE" in f and "fldChar" in f for f in footers)
    body = z.read("word/document.xml").decode()
    assert re.search(r"<w:instrText[^>]*> TOC \\o", body)
    assert "w:updateFields" in z.read("word/settings.xml").decode()
    styles = z.read("word/styles.xml").decode()
    for m in re.finditer(r"<w:rFonts [^>]*/>", styles):
        a = dict(re.findall(r'w:(ascii|eastAsia)="([^"]+)"', m.group(0)))
        if "ascii" in a and "eastAsia" in a:
            assert a["ascii"] == a["eastAsia"], m.group(0)


def test_figures_print_at_their_own_size_with_labels_of_9pt(drafted):
    for s in reports(drafted)[("annual", "zh", True)].sections:
        for b in s.blocks:
            if isinstance(b, report.Figure):
                im = Image.open(io.BytesIO(b.png))
                native_cm = im.size[0] / im.info["dpi"][0] * 2.54
                w = figure_cm(b)
                assert w <= PAGE_TEXT_CM
                # ticks are 9.5 pt at native size; the printed scale keeps them >= 9 pt
                assert 9.5 * min(1.0, w / native_cm) >= 9 or w >= 0.95 * min(native_cm, b.width), (
                    b.key
                )


# ------------------------------------------------------------------ printed pages


def _margin_blank(pdf: Path, tmp: Path) -> list[int]:
    """Pages with ink in the right margin (beyond the text area, 18 mm wide)."""
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(tmp / "pg")], check=True)
    bad = []
    for i, png in enumerate(sorted(tmp.glob("pg-*.png")), 1):
        im = np.asarray(Image.open(png).convert("L"))
        edge = im[:, int(im.shape[1] * (1 - 14 / 210)) :]  # the outer 14 mm
        if (edge < 200).any():
            bad.append(i)
    return bad


def _pdf_checks(pdf: Path, tmp: Path) -> None:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info.stdout)
    assert size and round(float(size[1])) == 595 and round(float(size[2])) == 842, info.stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info.stdout)[1])
    assert pages >= 3
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    numbered = [p for p in text.split("\f") if p.strip()]
    for i, page in enumerate(numbered, 1):
        last = page.strip().splitlines()[-1]
        assert re.search(rf"\b{i}\b", last), (i, last)
    assert _margin_blank(pdf, tmp) == []


@pytest.mark.skipif(
    not (shutil.which("chromium") and shutil.which("pdfinfo")),
    reason="chromium or poppler-utils not installed (.ci/run installs them: apt chromium "
    "poppler-utils); the HTML was not printed",
)
def test_html_prints_on_a4_with_page_numbers_and_nothing_too_wide(written, tmp_path):
    _, files = written
    html = next(p for p in files[("annual", "zh", True)] if p.suffix == ".html")
    pdf = tmp_path / "summary.pdf"
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.resolve().as_uri(),
        ],
        capture_output=True,
        timeout=180,
        check=True,
    )
    _pdf_checks(pdf, tmp_path)


@pytest.mark.skipif(
    not ((shutil.which("libreoffice") or shutil.which("soffice")) and shutil.which("pdfinfo")),
    reason="LibreOffice (or poppler-utils) not installed: the DOCX was not rendered to PDF",
)
def test_docx_prints_on_a4_with_page_numbers(written, tmp_path):
    _, files = written
    src = next(p for p in files[("annual", "zh", True)] if p.suffix == ".docx")
    office = shutil.which("libreoffice") or shutil.which("soffice")
    subprocess.run(
        [
            str(office),
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(src),
        ],
        capture_output=True,
        timeout=400,
        check=True,
    )
    _pdf_checks(tmp_path / f"{src.stem}.pdf", tmp_path)
