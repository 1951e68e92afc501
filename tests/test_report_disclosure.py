"""Privacy of every output: no student name or ID anywhere, mentor names only internally, small cells suppressed.

Inputs drafted once per test process: see ``_report_fixtures``.
"""

from __future__ import annotations

import dataclasses
import re
from functools import lru_cache
from pathlib import Path

import pandas as pd

from mentorlib import report
from mentorlib.labels import PLAIN_HEADLINE, PROGRESS_VERDICTS
from mentorlib.labels_privacy import VERDICT_WITHHELD
from mentorlib.privacy import audit
from mentorlib.progress import improved_flags, progress_report
from mentorlib.report.headline import certified_shown

from _report_fixtures import (
    docx_text,
    reports,
    sample_study,
)


def _outputs(files) -> dict[Path, str]:
    out = {}
    for p in files:
        if p.suffix == ".docx":
            out[p] = docx_text(p)
        elif p.suffix in (".html", ".md"):
            out[p] = p.read_text(encoding="utf-8")
    return out


COUNT_HEADERS = re.compile(
    r"^(学生数|人数|可评估|分母（人）|显著进步人数|回答人数|回答人次|希望更换导师|人次|受导学生|"
    r"Students|Evaluable|Denominator|Progressing|Responses|Want to change|Mentees|n)$"
)


def test_privacy_scan_no_student_name_or_id_anywhere(report_study, written):
    """Every output (DOCX XML text, HTML, Markdown), internal and public, scanned for every
    roster name and every student ID of the processed students table."""
    _, files = written
    st = report_study["students"]
    ids = set(st["student_id"].dropna().astype(str))
    names = set(st["name"].dropna().astype(str))
    staff = set(report_study["staff"]["name"].dropna().astype(str))
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


def test_mentor_names_only_in_the_internal_version(report_study, written, drafted):
    _, files = written
    staff = set(report_study["staff"]["name"].dropna().astype(str))
    for lang in ("zh", "en"):
        internal = drafted["annual", lang, False]
        assert ("内部版" if lang == "zh" else "internal") in internal.title
        public = drafted["annual", lang, True]
        assert "内部版" not in public.title and "internal" not in public.title
        text = docx_text(next(p for p in files["annual", lang, False] if p.suffix == ".docx"))
        assert sum(n in text for n in staff) >= 10
    assert "内部版" in drafted["review", "zh", False].title


def test_small_cells_are_suppressed(drafted):
    """No table cell counting students shows 1-4; a suppressed group shows no rate."""
    for rep in reports(drafted).values():
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


def _few_not_evaluable(study, year: int, keep: int = 3):
    """The study with all but ``keep`` of the year's not-evaluable students taken out of the
    year's tables (by hand): fewer than min_cell students miss a test, so the roster's total
    must be withheld (it minus the evaluable is that small number)."""
    per = progress_report(study, year, n_boot=0).per_student
    gone = set(per.loc[per["category"] == "not_evaluable", "student_id"].astype(str)[keep:])
    tables = {
        name: df.loc[~((df["year"] == year) & df["student_id"].astype(str).isin(gone))]
        if {"year", "student_id"} <= set(df.columns)
        else df
        for name, df in study.tables.items()
    }
    return dataclasses.replace(study, tables=tables)


def test_withheld_roster_total_printed_nowhere_and_one_share_decision(report_study):
    """Messy primary school (3-4 students missing a test): 基本情况 hid the total ("共有学生—名")
    but printed "有导师的学生120名" and the KPI table the coverage base 121 (the roster), and
    the headline withheld the certified share that the appendix printed."""
    year = 2024
    study = _few_not_evaluable(report_study, year)
    a = report.analyse_year(study, year, seed=0, mentors=False)
    doc = a.disclosure
    assert doc.status("n_not_evaluable") == "primary" and doc.suppressed("n_students")
    total = doc.cells["n_students"].value
    alone = re.compile(rf"(?<![\d.,]){total}(?![\d.,%])")
    share = a.progress.internal["verdict"].iloc[0]["proportion"]
    shown = doc.rate_shown(f"rate.{a.progress.definition}.k{a.progress.k}.{a.progress.rule}")
    for lang in ("zh", "en"):
        rep = report.annual_summary(study, year, lang=lang, analyses=a)
        text = rep.text()
        # every line but the rows of the activities table (records by month, not students)
        months = next(b for b in rep.section("practice").blocks if isinstance(b, report.Table))
        records = {"\t".join(map(str, r)) for r in months.data.itertuples(index=False)}
        for line in text.splitlines():
            assert line in records or not alone.search(line), (lang, line)
        lead = " ".join(b.text for b in rep.section("summary").blocks[:1])
        said = f"{share:.1%}"
        # one decision: the share in the headline exactly when the appendix prints it
        assert (said in lead) == shown == (said in text), lang
        withheld = PLAIN_HEADLINE["certified_withheld"][0 if lang == "zh" else 1]
        assert (withheld.format(year=year, min_cell=a.min_cell) in text) != shown, lang


# ------------------------------------------------------------------ a year of few students


def _few_progressing(study, year: int, keep: int = 3):
    """The study with all but ``keep`` of the year's progressing students taken out of the
    year's tables (repeated: the year's reliability, so who counts as progressing, moves as
    students go), so that the year's certified share is withheld."""
    for _ in range(6):
        per = progress_report(study, year, n_boot=0).per_student
        up = per.loc[improved_flags(per, study.rules.k_dimensions) == 1, "student_id"]
        gone = set(sorted(up.astype(str))[keep:])
        if not gone:
            return study
        study = dataclasses.replace(study, tables=_without(study, year, gone))
    raise AssertionError("could not leave few progressing students")


def _without(study, year: int, gone: set[str]) -> dict:
    return {
        name: df.loc[~((df["year"] == year) & df["student_id"].astype(str).isin(gone))]
        if {"year", "student_id"} <= set(df.columns)
        else df
        for name, df in study.tables.items()
    }


@lru_cache(maxsize=1)
def _small_year():
    """The sample with 2024 cut down by hand: fewer than 5 students progressing (the year's
    certified share withheld) and fewer than 5 missing a test (the roster withheld); the
    annual summary's and the review's analyses of it."""
    study = _few_progressing(_few_not_evaluable(sample_study(), 2024), 2024)
    year = report.analyse_year(study, 2024, seed=0, mentors=False)
    return study, year, report.analyse_pilot(study, seed=0, draws=2)


VERDICT_WORDS = [w for pair in PROGRESS_VERDICTS.values() for w in pair]


def test_withheld_share_prints_no_verdict():
    """A verdict says on which side of the target the share lies: where the share is withheld
    the verdict table, the sensitivity table and its robustness sentence, the KPI table, the
    review's trend table and the JSON printed it anyway ("未达成" / "not met")."""
    study, a, pa = _small_year()
    assert not certified_shown(a.progress) and not certified_shown(pa.progress[2024])
    for lang in ("zh", "en"):
        rep = report.annual_summary(study, 2024, lang=lang, analyses=a)
        for key in ("verdict", "sensitivity"):
            table = next(b for s in rep.sections for b in s.blocks if getattr(b, "key", "") == key)
            withheld = table.data.loc[table.data.iloc[:, 3] == "—"]  # the rate
            assert len(withheld), (lang, key)
            assert (withheld.iloc[:, -1] == "—").all(), (lang, key)  # the verdict
            said = VERDICT_WITHHELD["note"][0 if lang == "zh" else 1].format(min_cell=5)
            assert table.note.count(said) == 1, (lang, key)
        kpi = next(b for b in rep.section("kpi").blocks if getattr(b, "key", "") == "kpi")
        assert list(kpi.data.iloc[0, [1, 4]]) == ["—", "—"], lang  # value, met?
        sens = rep.section("progress").blocks
        head = next(
            i
            for i, b in enumerate(sens)
            if isinstance(b, report.Heading) and b.text in ("敏感性分析", "Sensitivity")
        )
        robust = sens[head + 1].text
        assert not any(w in robust for w in VERDICT_WORDS), (lang, robust)
        review = report.pilot_review(study, lang=lang, analyses=pa)
        trend = next(
            b for s in review.sections for b in s.blocks if getattr(b, "key", "") == "kpi_trends"
        )
        cell = trend.data.iloc[0, 2 + list(pa.years).index(2024)]
        assert cell.startswith("—") and "√" not in cell and "×" not in cell, (lang, cell)
        assert "√" in "".join(trend.data.iloc[:, 2:].to_numpy().ravel())  # the marks elsewhere
    out = a.progress.to_json_dict(public=True)
    assert out["summary"]["verdict"] is None and out["summary"]["verdict_robust"] is None
    for name in ("verdict", "sensitivity", "trend", "breakdowns"):
        for r in out[name]:
            assert not r.get("suppressed") or r.get("verdict") is None, (name, r)


def test_review_stage_table_prints_what_the_document_allows():
    """The review's 实施阶段 table printed each year's roster and students with a mentor
    outside the disclosure document: with fewer than 5 students missing a test, the roster
    it printed gave back that number (roster minus the students evaluable)."""
    study, _, pa = _small_year()
    doc = pa.disclosure
    assert doc.status("2024:n_not_evaluable") == "primary" and doc.suppressed("2024:n_students")
    roster = f"{doc.cells['2024:n_students'].value:,}"
    for lang in ("zh", "en"):
        rep = report.pilot_review(study, lang=lang, analyses=pa)
        stages = next(
            b for s in rep.sections for b in s.blocks if getattr(b, "key", "") == "stages"
        )
        row = stages.data.iloc[list(pa.years).index(2024)]
        assert roster not in set(row.iloc[1:3]), (lang, list(row))
        for v in stages.data.iloc[:, [1, 2, 8]].to_numpy().ravel():  # no count of 0-4 students
            n = str(v).replace(",", "")
            assert not (n.isdigit() and int(n) < 5), (lang, v)
    au = audit(doc)
    assert not au["recoverable"].any() and au["protected"].all()


def test_cleaning_table_suppresses_small_and_subtracted_counts(report_study, tmp_path):
    """The cleaning table printed rows per source kind with primary suppression only: 3
    referral cases printed "<5" beside "0 merged, 0 quarantined", and 3 quarantined rows of a
    kind were rows in minus kept minus merged."""
    pd.DataFrame(
        [
            ("assessment", 103, 100, 0, 3),
            ("cases", 3, 3, 0, 0),
            ("students", 151, 140, 11, 0),
            ("satisfaction", 220, 200, 8, 12),
        ],
        columns=["kind", "rows_in", "kept", "merged", "quarantined"],
    ).assign(source="x.xlsx").to_csv(tmp_path / "source_summary.csv", index=False)
    study = dataclasses.replace(report_study, root=tmp_path)
    a = report.analyse_year(study, 2024, seed=0, mentors=False)
    for lang in ("zh", "en"):
        rep = report.annual_summary(study, 2024, lang=lang, analyses=a)
        table = next(
            b for b in rep.section("quality").blocks if getattr(b, "key", "") == "cleaning"
        )
        assert len(table.data) == 4
        for row in table.data.itertuples(index=False):
            cells = [str(v).replace(",", "") for v in row[1:]]
            assert not any(c.isdigit() and int(c) < 5 for c in cells), (lang, row)
            if "<5" in cells:  # rows in = kept + merged + quarantined: two unknowns at least
                assert sum(not c.isdigit() for c in cells) >= 2, (lang, row)
        assert "<5" in table.note
    au = audit(a.disclosure)
    assert not au["recoverable"].any() and au["protected"].all()
    assert a.cleaning.loc[a.cleaning["kind"] == "cases", "rows_in"].isna().all()
