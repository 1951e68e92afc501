"""A re-run of a district into its earlier output replaces only what mentorlib wrote: a file of
the user's inside it (at the top or in reports/) stops the run with one line naming it, and a
summary of the other language, written by the earlier run, stays."""

from __future__ import annotations

import json
import shutil

import pytest

from mentorlib.district import run_district, synth_district
from mentorlib.district.manifest import FILES_KEY
from mentorlib.district.report import write_district_report
from mentorlib.errors import InputError
from mentorlib.outputs import foreign_in_district

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("district")]


@pytest.fixture(scope="module")
def earlier(tmp_path_factory):
    """A tiny district run once (clean only) with its Chinese summary."""
    root = tmp_path_factory.mktemp("rerun")
    d = synth_district(root / "raw", 3, students=600, years=1, seed=5, clean=True)
    out = root / "out"
    run_district(d, out, workers=1, stages=("clean",))
    zh = write_district_report(out, lang="zh", formats=("docx",))
    return d, out, zh


def test_files_list_names_every_file(earlier):
    _, out, zh = earlier
    listed = json.loads((out / "district.json").read_text("utf-8"))[FILES_KEY]
    assert "district_schools.csv" in listed and "schools/school_01/students.parquet" in listed
    assert zh[0].relative_to(out).as_posix() in listed  # the summary written after the run
    assert foreign_in_district(out) == []


@pytest.mark.parametrize("legacy", [False, True], ids=["files-list", "before-the-list"])
def test_rerun_refuses_a_folder_with_the_users_files(earlier, tmp_path, legacy):
    d, out, _ = earlier
    mine = tmp_path / "out"
    shutil.copytree(out, mine)
    if legacy:  # written before district.json listed its files: judged by the files' names
        meta = json.loads((mine / "district.json").read_text("utf-8"))
        del meta[FILES_KEY]
        (mine / "district.json").write_text(json.dumps(meta), "utf-8")
    (mine / "my_notes.txt").write_text("notes", "utf-8")
    (mine / "reports" / "我的修改.docx").write_text("edited", "utf-8")
    with pytest.raises(InputError) as e:
        run_district(d, mine, workers=1, stages=("clean",))
    msg = str(e.value)
    assert "my_notes.txt" in msg and "reports/我的修改.docx" in msg and "\n" not in msg
    assert (mine / "my_notes.txt").read_text("utf-8") == "notes"  # untouched
    assert (mine / "reports" / "我的修改.docx").read_text("utf-8") == "edited"


def test_rerun_in_the_other_language_keeps_the_earlier_summary(earlier, tmp_path):
    d, out, zh = earlier
    again = tmp_path / "out"
    shutil.copytree(out, again)
    before = (again / zh[0].relative_to(out)).read_bytes()
    run_district(d, again, workers=1, stages=("clean",))
    en = write_district_report(again, lang="en", formats=("docx",))
    names = {p.name for p in (again / "reports").iterdir()}
    assert {zh[0].name, en[0].name} <= names
    assert (again / zh[0].relative_to(out)).read_bytes() == before  # not the run's to replace
    assert foreign_in_district(again) == []  # both listed: a third run goes ahead
