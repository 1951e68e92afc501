"""Partial cleaning (issue 13, item 3) and study-local codebooks (item 8).

A copy of the committed sample study is broken by hand the way a school's folder breaks: one
workbook overwritten with garbage bytes, one CSV replaced by a sheet of unrelated columns, the
rosters unreadable. The expected tables come from a clean of the intact sample.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from mentorlib.clean import clean_study
from mentorlib.cli import main
from mentorlib.data import load_processed
from mentorlib.errors import InputError
from mentorlib.progress.report import progress_report

from conftest import SAMPLE

GARBAGE = "records/奖惩记录_2024学年.xlsx"  # rewards, 2024
UNMATCHED = "records/心情晴雨表_2024学年.csv"  # mood, 2024 (study.toml: gb18030)
BROKEN_KINDS = {"rewards", "mood"}


def copy_sample(dest: Path) -> Path:
    """The sample study without the generator's answer key."""
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns("truth"))
    return dest


def write_garbage(path: Path) -> None:
    """Bytes no reader understands (a half-copied file from a USB stick)."""
    path.write_bytes(bytes((i * 37 + 11) % 256 for i in range(4000)))


def write_unrelated_csv(path: Path) -> None:
    """A CSV a 班主任 kept for something else: none of the mood chart's columns."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["日期", "值日生", "备注"])
    w.writerow(["2024-09-02", "一组", "扫地"])
    w.writerow(["2024-09-03", "二组", ""])
    w.writerow(["2024-09-04", "三组", "擦黑板"])
    path.write_bytes(buf.getvalue().encode("gb18030"))


def broken_study(tmp_path: Path) -> Path:
    study = copy_sample(tmp_path / "study")
    write_garbage(study / GARBAGE)
    write_unrelated_csv(study / UNMATCHED)
    return study


def run(argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def intact():
    return clean_study(SAMPLE)


@pytest.fixture(scope="module")
def partial(tmp_path_factory):
    """The broken study, cleaned once: (result, processed folder)."""
    tmp = tmp_path_factory.mktemp("partial")
    return clean_study(broken_study(tmp), tmp / "out"), tmp / "out"


def test_unreadable_sources_do_not_stop_the_study(partial, intact):
    res, out = partial
    assert res.partial
    failed = {f["path"]: f for f in res.failed_sources}
    assert set(failed) == {GARBAGE, UNMATCHED}
    assert failed[GARBAGE]["kind"] == "rewards"
    assert "not an Excel workbook" in failed[GARBAGE]["reason"]
    assert failed[UNMATCHED]["kind"] == "mood"
    assert "no header row found for codebook 'mood'" in failed[UNMATCHED]["reason"]
    # every other table is exactly what the intact study gives
    for name, df in res.tables.items():
        if name not in BROKEN_KINDS:
            pd.testing.assert_frame_equal(df, intact.tables[name], obj=name)
    # the broken kinds keep their other years, and lose only the failed year
    for name in BROKEN_KINDS:
        got, full = res.tables[name], intact.tables[name]
        assert set(got["year"]) == set(full["year"]) - {2024}
        assert len(got) == (full["year"] != 2024).sum()
    # study.json: partial, with both reasons
    meta = json.loads((out / "study.json").read_text(encoding="utf-8"))
    assert meta["partial"] is True
    assert {(f["path"], f["kind"]) for f in meta["failed_sources"]} == {
        (GARBAGE, "rewards"),
        (UNMATCHED, "mood"),
    }
    assert all(f["reason"] for f in meta["failed_sources"])
    assert {s["path"] for s in meta["sources"] if not s["read"]} == {GARBAGE, UNMATCHED}


def test_failed_rows_are_counted_as_not_read(partial):
    res, out = partial
    s = pd.read_csv(out / "source_summary.csv").set_index("source")
    # the unmatched CSV could be counted: 3 rows below its first; the garbage could not
    assert s.loc[UNMATCHED, "rows_in"] == 3 and s.loc[UNMATCHED, "not_read"] == 3
    assert pd.isna(s.loc[GARBAGE, "rows_in"]) and pd.isna(s.loc[GARBAGE, "not_read"])
    ok = s["error"].isna()
    assert (s.loc[ok, "not_read"] == 0).all()
    known = s["rows_in"].notna()
    balance = s[["kept", "merged", "quarantined", "not_read"]].sum(axis=1)
    assert (s.loc[known, "rows_in"] == balance[known]).all()
    assert res.meta["rows"]["not_read"] == 3
    # no row of a failed source reached the row status or the log's cells
    assert not set(res.row_status["source"].astype(str)) & {GARBAGE, UNMATCHED}


def test_cli_lists_failures_and_exits_0(tmp_path):
    study = broken_study(tmp_path)
    rc, out, err = run(["clean", study, "--out", tmp_path / "out"])
    assert rc == 0, err
    assert "PARTIAL: 2 source(s) not read" in out
    assert f"{GARBAGE} (rewards): 不是Excel工作簿" in out
    assert f"{UNMATCHED} (mood): no header row found" in out
    assert "Traceback" not in err


def test_strict_stops_at_the_first(tmp_path):
    study = broken_study(tmp_path)
    with pytest.raises(InputError, match="奖惩记录_2024学年"):  # rewards are read before mood
        clean_study(study, strict=True)
    rc, out, err = run(["clean", study, "--strict", "--out", tmp_path / "out"])
    assert rc == 2 and "奖惩记录_2024学年.xlsx" in err and "心情晴雨表" not in err
    assert not (tmp_path / "out").exists()


def test_no_readable_roster_exits_non_zero(tmp_path):
    study = broken_study(tmp_path)
    for p in (study / "roster").glob("学生名册_*.xlsx"):
        write_garbage(p)
    with pytest.raises(InputError, match="no student roster could be read"):
        clean_study(study)
    rc, out, err = run(["clean", study, "--out", tmp_path / "out"])
    assert rc == 2
    assert "no student roster could be read" in err and "学生名册_2023学年.xlsx" in err
    assert "Traceback" not in err


def test_missing_study_local_codebook_fails_only_its_source(tmp_path):
    study = copy_sample(tmp_path / "study")
    toml = study / "study.toml"
    text = toml.read_text(encoding="utf-8")
    entry = 'path = "surveys/成长需求问卷_2024学年.csv"\nyear = 2024\nencoding = "gb18030"\n'
    assert entry + 'codebook = "needs_primary"' in text
    toml.write_text(
        text.replace(entry + 'codebook = "needs_primary"', entry + 'codebook = "gone.toml"'),
        encoding="utf-8",
    )
    res = clean_study(study)
    assert [(f["kind"], "codebook file not found" in f["reason"]) for f in res.failed_sources] == [
        ("needs_survey", True)
    ]


# ----------------------------------------------------------------------------- item 8


def test_study_local_codebook_travels_with_the_processed_folder(tmp_path, monkeypatch, intact):
    study = copy_sample(tmp_path / "study")
    builtin = Path(__file__).resolve().parents[1] / "mentorlib/io/codebooks/assessment_primary.toml"
    shutil.copyfile(builtin, study / "my_codebook.toml")
    toml = study / "study.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace(
            'codebook = "assessment_primary"', 'codebook = "my_codebook.toml"'
        ),
        encoding="utf-8",
    )
    out = tmp_path / "processed"
    res = clean_study(study, out)
    meta = json.loads((out / "study.json").read_text(encoding="utf-8"))
    assert meta["codebooks"]["assessment"] == "codebooks/my_codebook.toml"
    assert (out / "codebooks" / "my_codebook.toml").read_bytes() == builtin.read_bytes()
    used = {s["codebook"] for s in meta["sources"] if s["kind"] == "assessment"}
    assert used == {"codebooks/my_codebook.toml"}
    pd.testing.assert_frame_equal(res.tables["assessment_items"], intact.tables["assessment_items"])
    # from another folder: the processed folder alone is enough
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    p = load_processed(out)
    assert p.codebook("assessment").name == "assessment_primary"
    rep = progress_report(p, 2024)
    assert rep.headline("en")
    rc, text, err = run(["progress", out, "--year", 2024])
    assert rc == 0, err
    # the folder, codebooks/ included, is known as ours: cleaning again replaces it
    assert clean_study(study, out).out_dir == out
    # in memory (not written), the study's own file is used
    assert clean_study(study).processed().codebook("assessment").name == "assessment_primary"
