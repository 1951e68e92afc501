"""The document model and its files: sections in every format, file names named by content, bad arguments.

Inputs drafted once per test process: see ``_report_fixtures``.
"""

from __future__ import annotations

import html
import re

import docx
import pytest

from mentorlib import report
from mentorlib.errors import InputError

from _report_fixtures import (
    YEAR,
    reports,
)


def test_every_section_present_in_every_format(drafted, written):
    _, files = written
    for (kind, lang, public), rep in reports(drafted).items():
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


def test_bad_arguments(report_study, drafted):
    with pytest.raises(InputError, match="lang"):
        report.annual_summary(report_study, YEAR, lang="fr", analyses=drafted["year_analyses"])
    with pytest.raises(InputError, match="another year"):
        report.annual_summary(report_study, 2023, analyses=drafted["year_analyses"])
    with pytest.raises(InputError, match="format"):
        drafted["annual", "zh", True].write("/tmp/never", formats=("pdf",))


# ------------------------------------------------------------------ privacy
