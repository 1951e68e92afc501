"""Privacy of every output: no student name or ID anywhere, mentor names only internally, small cells suppressed.

Inputs drafted once per test process: see ``_report_fixtures``.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from mentorlib import report
from mentorlib.labels import PLAIN_HEADLINE
from mentorlib.progress import progress_report

from _report_fixtures import (
    docx_text,
    reports,
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
