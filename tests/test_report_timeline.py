"""Time and naming (issue 16 item 3): a year's summary uses the data up to that year only, and
titles, file names and body name the school year one way."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pandas as pd
import pytest

from mentorlib import report
from mentorlib.data import Processed
from mentorlib.labels import Lang
from mentorlib.labels_units import en_noun
from mentorlib.report import Report
from mentorlib.report.shared import title_page

YEAR = 2023


def _as_in(study: Processed, year: int) -> Processed:
    """The study as the school held it at the end of ``year``: later rows never recorded."""
    tables = {
        n: df.loc[df["year"] <= year].reset_index(drop=True) if "year" in df else df
        for n, df in study.tables.items()
    }
    return dataclasses.replace(
        study, years=tuple(y for y in study.years if y <= year), tables=tables
    )


def _markdown(rep, folder) -> str:
    (md,) = [p for p in rep.write(folder, formats=("md",)) if p.suffix == ".md"]
    return md.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def summaries(report_study, tmp_path_factory):
    """The 2023 summary drafted from the whole study and from the study as it was in 2023."""
    assert max(report_study.years) > YEAR  # the sample holds later years
    out = {}
    for key, study in (("later", report_study), ("then", _as_in(report_study, YEAR))):
        rep = report.annual_summary(study, YEAR, lang="zh")
        out[key] = (rep, _markdown(rep, tmp_path_factory.mktemp(key)))
    return out


def test_a_summary_is_unchanged_by_later_years(summaries):
    (later, later_md), (then, then_md) = summaries["later"], summaries["then"]
    assert later_md == then_md  # every number, sentence and caption
    pd.testing.assert_frame_equal(later.kpis, then.kpis)
    assert later.stem == then.stem == f"年度总结_{YEAR}学年"
    # the figure that used to show the later years' results is not there
    assert "历年显著进步比例" not in later_md
    for y in range(YEAR + 1, YEAR + 4):
        assert f"{y}学年" not in later_md


def test_one_form_of_the_school_year(summaries, report_study):
    rep, md = summaries["later"]
    assert rep.title.count(f"{YEAR}学年（{YEAR}–{YEAR + 1}）") == 1
    assert f"{YEAR}–{YEAR + 1}学年" not in md and f"{YEAR}-{YEAR + 1}" not in md
    assert f"{YEAR}学年" in md.split(rep.title, 1)[1]  # the body: the short form
    P, years = report_study, (2023, 2024, 2025)
    for kind, ys, lang, in_title, stem in (
        ("annual_summary", (2024,), "en", "school year 2024 (2024–2025)", "annual_summary_2024"),
        ("pilot_review", years, "zh", "（2023–2025学年）", "三年试点评估报告_2023-2025学年"),
        ("pilot_review", years, "en", "school years 2023–2025", "pilot_review_2023-2025"),
    ):
        title, _, _ = title_page(P, kind, ys, True, True, Lang(lang), min_cell=5)
        doc = Report(kind=kind, lang=lang, public=True, years=ys, title=title, sections=[])
        # the review: the same years in its title and its file name
        assert in_title in title and doc.stem == stem and "2026" not in title


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_study_without_a_school_name_asks_for_it(lang):
    # `mentorlib init` leaves `school` empty: the reports ask for it, and never print the
    # folder's name ("primary") as the school's
    P = SimpleNamespace(level="primary", name="primary", school="")
    title, _, front = title_page(P, "annual_summary", (2024,), True, True, Lang(lang), min_cell=5)
    mark = "【待补充：学校名称】" if lang == "zh" else "[to be completed: the school's name]"
    assert title.startswith(mark) and front[0].startswith(("研究对象：" + mark, "School: " + mark))
    named = SimpleNamespace(level="primary", name="primary", school="某某市第一小学")
    assert title_page(named, "annual_summary", (2024,), True, True, Lang(lang), min_cell=5)[
        0
    ].startswith("某某市第一小学")


def test_english_counts_take_their_noun_in_the_singular_for_one():
    assert en_noun(1, "grade") == "1 grade" and en_noun(3, "grade") == "3 grades"
    assert en_noun(1, "class", "classes") == "1 class" and en_noun(4, "class", "classes") == (
        "4 classes"
    )
