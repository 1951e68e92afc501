"""A district's students are those of the year it reports, not its schools' whole rosters.

One school is the sample study (rosters of 2023, 2024 and 2025) cleaned by the district's own
task; the others are hand-made processed rosters of two years. The schools' table and the
summary's front page count each school's students of the year reported (``--year 2023``)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mentorlib.district.report import analyse_district, district_report
from mentorlib.district.tasks import school_task
from mentorlib.district.verdicts import school_key, school_verdicts

from conftest import SAMPLE

pytestmark = pytest.mark.xdist_group("district")

YEAR = 2023


def _roster(out, sid: str, years: dict[int, list[str]]) -> None:
    """A hand-made processed roster: a row per student and year."""
    rows = [(sid_, y) for y, ids in years.items() for sid_ in ids]
    d = out / "schools" / sid
    d.mkdir(parents=True)
    pd.DataFrame(rows, columns=["student_id", "year"]).to_parquet(d / "students.parquet")


def _summary(out, rows: list[dict]):
    meta = {"name": "T", "stages": ["clean"], "schools": [r["school_id"] for r in rows]}
    (out / "district.json").write_text(json.dumps(meta), encoding="utf-8")
    school_verdicts(rows, min_cell=5).to_csv(out / "district_schools.csv", index=False)
    return analyse_district(out, year=YEAR, min_cell=5, outcomes=[])


def _row(sid: str, n: int) -> dict:
    return {"school_id": sid, "school": sid.upper(), "level": "primary", "n": n, "year": YEAR}


def test_front_page_counts_the_students_of_the_year(tmp_path):
    out = tmp_path / "out"
    done = school_task("a", str(SAMPLE), str(out), stages=("clean",), year=YEAR)
    roster = pd.read_parquet(out / "schools" / "a" / "students.parquet")
    in_year = roster.loc[roster["year"] == YEAR, "student_id"].nunique()
    assert in_year < roster["student_id"].nunique()  # the sample's roster spans three years
    row = done["row"] | {"school": "A", "level": "primary", "status": "ok"}
    assert row["n"] == in_year and row["year"] == YEAR
    b_2023 = [f"b{i}" for i in range(40)]
    _roster(out, "b", {2023: b_2023, 2024: b_2023 + [f"b{i}" for i in range(40, 70)]})
    a = _summary(out, [row, _row("b", 40) | {"status": "ok"}])
    (front, *_) = district_report(a, lang="en").front
    assert f"{in_year + 40} students" in front, front
    assert a.schools.set_index("school_id")["n"].to_dict() == {"a": in_year, "b": 40}


def test_a_withheld_school_count_is_its_year_on_the_roster(tmp_path):
    """A count blank in the schools' table (fewer than min_cell) is registered from the
    school's roster for the same year: 3 students in 2023, not its 53 of both years."""
    out = tmp_path / "out"
    _roster(out, "c", {2023: ["c0", "c1", "c2"], 2024: [f"c{i}" for i in range(3, 53)]})
    b = [f"b{i}" for i in range(40)]
    _roster(out, "b", {2023: b, 2024: b})
    a = _summary(out, [_row("b", 40) | {"status": "ok"}, _row("c", 3) | {"status": "ok"}])
    assert pd.isna(a.schools.set_index("school_id").loc["c", "n"])  # blank in the csv
    assert a.disclosure is not None
    assert a.disclosure.cells[school_key("c", "n")].value == 3
