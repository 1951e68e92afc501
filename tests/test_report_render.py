"""The renderers: self-contained HTML, Word with real tables and East Asian fonts, byte-identical output, reproducible figures, no missing glyph.

Inputs drafted once per test process: see ``_report_fixtures``.
"""

from __future__ import annotations

import html
import re
import time
import zipfile

import docx
import pandas as pd
import pytest

from mentorlib import report
from mentorlib.report.render.fonts import font_subset

from _report_fixtures import (
    GLYPH,
    YEAR,
    reports,
)


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


def test_same_inputs_same_documents(report_study, drafted):
    """Drafted again from scratch (fresh analyses, fresh font subset, a second later):
    identical text and identical bytes."""
    first = drafted["annual", "zh", True]
    first_html = first.to_html()
    font_subset.cache_clear()
    time.sleep(1.1)  # a timestamp anywhere (font head table, zip entries) would now differ
    again = report.annual_summary(report_study, YEAR, lang="zh", public=True, seed=0)
    assert again.text() == first.text()
    assert again.to_markdown() == first.to_markdown()
    assert again.to_docx() == first.to_docx()
    assert again.to_html() == first_html
    pd.testing.assert_frame_equal(again.kpis, first.kpis)
    r2 = report.pilot_review(report_study, lang="en", analyses=drafted["pilot_analyses"])
    assert r2.to_docx() == drafted["review", "en", True].to_docx()


def test_figures_are_reproducible_pngs(drafted):
    for rep in reports(drafted).values():
        figs = rep.figures()
        assert figs, rep.stem
        for _name, f in figs:
            assert f.png.startswith(b"\x89PNG\r\n\x1a\n")
            assert b"Software" not in f.png and b"tIME" not in f.png


def test_no_missing_glyph_in_any_figure(drafted):
    # every figure of both reports, both languages, was rendered with glyph warnings as
    # errors (the fixture would have failed) and every other warning recorded
    n = sum(len(r.figures()) for r in reports(drafted).values())
    assert n >= 40
    glyphs = [w for w in drafted["warnings"] if GLYPH.search(w)]
    assert not glyphs, glyphs[:3]


def test_report_percentages_are_checked():
    from mentorlib.errors import ImpossibleNumberError
    from mentorlib.report.render.fmt import ci, pct

    assert pct(0.5) == "50.0%"
    assert pct(None) == "—"
    with pytest.raises(ImpossibleNumberError, match="266.8%"):
        pct(2.668)
    with pytest.raises(ImpossibleNumberError):
        ci(0.2, 1.3)


@pytest.mark.parametrize("key", [("annual", "zh", True), ("review", "en", False)])
def test_signature_paragraphs_are_right_aligned(drafted, written, key):
    """The 落款 (school, date: Para kind "sign") sits at the right margin in Word and HTML;
    the body text does not."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    signs = [
        b.text
        for s in reports(drafted)[key].sections
        for b in s.blocks
        if isinstance(b, report.Para) and b.kind == "sign"
    ]
    assert len(signs) == 2 and all(signs)
    _, files = written
    d = docx.Document(next(p for p in files[key] if p.suffix == ".docx"))
    right = [p.text for p in d.paragraphs if p.alignment == WD_ALIGN_PARAGRAPH.RIGHT]
    assert right == signs
    h = next(p for p in files[key] if p.suffix == ".html").read_text(encoding="utf-8")
    css = re.search(r"p\.sign\{([^}]*)\}", h)
    assert css and "text-align:right" in css.group(1)
    shown = re.findall(r'<p class="sign">([^<]*)</p>', h)
    assert shown == [html.escape(s) for s in signs]
