"""One school's trouble stays that school's: an unreadable study.toml, a year its study does
not have, a stage that fails (by the data or by a bug) are reported for that school (and
stage) with one line, and the others finish; district.toml's own typos, and a year no school
has, are errors up front."""

from __future__ import annotations

import json
import re
import shutil
from types import SimpleNamespace

import pandas as pd
import pytest

from mentorlib.clean import clean_study
from mentorlib.cli import main
from mentorlib.cli_district import _lines
from mentorlib.district import analysis as district_analysis
from mentorlib.district import load_district, run_district, synth_district
from mentorlib.district import stages as district_stages
from mentorlib.district.run import _rows
from mentorlib.district.verdicts import INT_COLUMNS, school_verdicts
from mentorlib.errors import InputError
from mentorlib.outputs import write_csv

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("district")]


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    root = tmp_path_factory.mktemp("failures")
    return synth_district(root / "raw", 3, students=600, years=1, seed=7, clean=True)


def _copy(district, tmp_path):
    d = tmp_path / "d"
    shutil.copytree(district, d)
    return d


@pytest.mark.parametrize(
    "typo, named",
    [
        ('[district]\nname = "d"\npseudonymn = "school"\n', "'pseudonymn'"),
        ('[district]\nname = "d"\n[[school]]\nid = "a"\npath = "school_01"\n', "'school'"),
        ('[district]\n[[schools]]\nid = "a"\npaht = "school_01"\n', "'paht'"),
    ],
)
def test_district_toml_unknown_key_is_an_error(district, tmp_path, typo, named):
    d = _copy(district, tmp_path)
    (d / "district.toml").write_text(typo, "utf-8")
    with pytest.raises(InputError, match=re.escape(named)) as e:
        load_district(d)
    assert "district.toml" in str(e.value) and "\n" not in str(e.value)


def test_bad_study_toml_fails_that_school_only(district, tmp_path, capsys):
    d = _copy(district, tmp_path)
    with open(d / "school_02" / "study.toml", "a", encoding="utf-8") as f:
        f.write('name = "oops\n')
    assert load_district(d).schools[1].error  # read, not raised
    out = tmp_path / "out"
    argv = ["district", str(d), "--out", str(out), "--workers", "1", "--stages", "clean"]
    assert main([*argv, "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert [f["school_id"] for f in res["schools_failed"]] == ["school_02"]
    assert "not valid TOML" in res["schools_failed"][0]["reason"]
    status = {s["school_id"]: s["status"] for s in res["schools"]}
    assert status == {"school_01": "ok", "school_02": "failed", "school_03": "ok"}
    csv = pd.read_csv(out / "district_schools.csv").set_index("school_id")
    assert "not valid TOML" in csv.loc["school_02", "reason"]
    assert (out / "schools" / "school_03" / "students.parquet").is_file()
    html = next((out / "reports").glob("*.html")).read_text("utf-8")
    assert "not valid TOML" in html and "未完成" in html
    run = SimpleNamespace(  # the lines the command prints without --json
        name=res["district"],
        out_dir=out,
        seconds=res["seconds"],
        rows=res["schools"],
        failed=res["schools_failed"],
        schools=pd.DataFrame(res["schools"]),
        tables=res["tables"],
        notes=res["notes"],
    )
    text = "\n".join(_lines(run))
    assert "FAILED school_02:" in text and "not valid TOML" in text
    assert "2 of 3 schools done" in text


def test_year_no_school_has_is_refused_up_front(district, tmp_path):
    with pytest.raises(InputError, match=r"--year 2030: .*2023"):
        run_district(district, tmp_path / "o", workers=1, year=2030)
    assert not (tmp_path / "o").exists()


def test_school_without_the_year_skipped_and_failed_stage_said(district, tmp_path):
    """school_03 lists 2024 too (with no data of it): with --year 2024 it runs and its
    progress stage says why it has no verdict; the others, without 2024, are skipped."""
    d = _copy(district, tmp_path)
    toml = d / "school_03" / "study.toml"
    text = toml.read_text("utf-8")
    toml.write_text(re.sub(r"years = \[\s*2023,\s*\]", "years = [2023, 2024]", text), "utf-8")
    res = run_district(
        d, tmp_path / "out", workers=1, year=2024, stages=("clean", "progress"), true_share=False
    )
    t = res.schools.set_index("school_id")
    assert t.loc["school_01", "status"] == "skipped" and "2024" in t.loc["school_01", "reason"]
    assert t.loc["school_03", "status"] == "partial"
    assert t.loc["school_03", "reason"].startswith("progress: ")
    assert t.loc["school_03", "year"] == 2024
    assert {f["school_id"]: f["status"] for f in res.failed} == {
        "school_01": "skipped",
        "school_02": "skipped",
    }


def test_a_stage_bug_fails_that_stage_only(district, tmp_path, monkeypatch):
    """A bug in one stage (the roster-only school's KeyError: 'year') is that stage's reason;
    the other stage's result is kept, and the school's row says which stage did not run."""
    processed = tmp_path / "processed"
    clean_study(district / "school_01", processed)  # as the school's task cleans it

    def broken(P, year, seed, true_share=True):
        raise KeyError("year")

    monkeypatch.setitem(district_stages._STAGE, "compliance", broken)
    row: dict = {"school_id": "school_01"}
    results = tmp_path / "results"
    district_stages.run_stages(processed, results, row, ["progress", "compliance"], None, 0, False)
    assert row["progress"] == "ok" and row["verdict"]
    assert "KeyError: 'year'" in row["compliance"] and "internal error" in row["compliance"]
    assert [p.name for p in results.iterdir()] == ["progress_2023.json"]
    cfg = load_district(district)
    done = [
        {"school_id": "school_01", "ok": True, "reason": "", "row": row},
        {"school_id": "school_02", "ok": False, "reason": "no roster", "row": {}},
    ]
    rows, failed = _rows(cfg, done, ("clean", "progress", "compliance"))
    assert rows[0]["status"] == "partial" and rows[0]["reason"].startswith("compliance: ")
    assert failed == [{"school_id": "school_02", "status": "failed", "reason": "no roster"}]
    path = write_csv(school_verdicts(rows), tmp_path / "district_schools.csv")
    csv = pd.read_csv(path, dtype=str, encoding="utf-8-sig")  # the text as written
    assert csv.loc[0, "year"] == "2023"
    for c in INT_COLUMNS:  # a failed row's blanks leave whole numbers whole (not 2023.0)
        assert not csv[c].dropna().str.contains(".", regex=False).any(), c


def test_a_bug_in_one_schools_outcomes_is_its_note(monkeypatch, tmp_path):
    """The district analysis's outcome task: a bug at one school (here a KeyError) gives that
    school no outcome and its one-line reason, instead of stopping the run."""

    def broken(school_id, processed, year):
        raise KeyError("year")

    monkeypatch.setattr(district_analysis, "_school_outcomes", broken)
    got = district_analysis.school_outcomes("school_04", tmp_path, None)
    assert got.empty and got.attrs["school_id"] == "school_04"
    assert got.attrs["reason"] == "KeyError: 'year'"
    frame, missing = district_analysis.combine_outcomes([got])
    assert frame.empty and missing == [("school_04", "KeyError: 'year'")]


def test_a_middle_school_has_no_verdict_on_a_target_its_plan_does_not_set(primary, middle):
    # the middle school's plan sets no numeric target (rules.show_target off): its district
    # row says so instead of "not met"; a primary school keeps its verdict
    for P, want in ((middle, {district_stages.NO_TARGET}), (primary, {"met", "not met"})):
        _, numbers = district_stages._progress(P, P.years[0], 0, true_share=False)
        assert numbers["certified_share"] is not None
        assert {numbers["verdict"]} <= want
