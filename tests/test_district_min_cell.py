"""A school's own ``[rules] min_cell`` holds in the district too: the district publishes with
the largest of its setting (``--min-cell``, else the levels' rulebooks) and every school's own,
so no school's numbers appear with a smaller cell than it asked for (hand-made rows; one
school's task run on a copy of the sample with ``min_cell = 12`` in its study.toml)."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from mentorlib.district.report import analyse_district
from mentorlib.district.tasks import school_task
from mentorlib.district.verdicts import school_verdicts

from conftest import SAMPLE

pytestmark = pytest.mark.xdist_group("district")


def _row(sid: str, n: int, ev: int, k: int, own: int | None) -> dict:
    return {
        "school_id": sid,
        "school": sid.upper(),
        "level": "primary",  # its rulebook: min_cell 5
        "min_cell": own,
        "status": "ok",
        "progress": "ok",
        "year": 2025,
        "n": n,
        "n_evaluable": ev,
        "certified_share": k / ev,
        "certified_ci_low": k / ev - 0.1,
        "certified_ci_high": k / ev + 0.1,
    }


#: a asks for cells of 10; b sets none; c has 8 evaluable students (4 progressed): shown
#: under 5, not under a's 10.
ROWS = [_row("a", 300, 120, 60, 10), _row("b", 250, 100, 45, None), _row("c", 90, 8, 4, None)]


@pytest.mark.parametrize("given", [None, 5])
def test_the_strictest_school_rule_wins(given):
    t = school_verdicts(ROWS, min_cell=given).set_index("school_id")
    assert pd.isna(t.loc["c", "n_evaluable"]) and pd.isna(t.loc["c", "certified_share"])
    assert t.loc["a", "n_evaluable"] == 120 and t.loc["b", "n_evaluable"] == 100
    assert t.loc["a", "min_cell"] == 10 and pd.isna(t.loc["b", "min_cell"])
    lax = school_verdicts([{**r, "min_cell": None} for r in ROWS], min_cell=given)
    assert lax.set_index("school_id").loc["c", "n_evaluable"] == 8  # without a's rule: shown


def test_a_larger_district_setting_still_wins():
    rows = [{**r, "min_cell": 3} for r in ROWS]  # a school's laxer rule loosens nothing
    t = school_verdicts(rows, min_cell=10).set_index("school_id")
    assert pd.isna(t.loc["c", "n_evaluable"])


def test_the_summary_uses_the_schools_rule(tmp_path):
    meta = {"name": "T", "stages": ["clean", "progress"], "schools": ["a", "b", "c"]}
    (tmp_path / "district.json").write_text(json.dumps(meta), encoding="utf-8")
    school_verdicts(ROWS).to_csv(tmp_path / "district_schools.csv", index=False)
    assert analyse_district(tmp_path, outcomes=[]).min_cell == 10
    assert analyse_district(tmp_path, min_cell=5, outcomes=[]).min_cell == 10
    assert analyse_district(tmp_path, min_cell=20, outcomes=[]).min_cell == 20


def test_the_task_reports_the_schools_own_rule(tmp_path):
    study = tmp_path / "study"
    shutil.copytree(SAMPLE, study, ignore=shutil.ignore_patterns("truth"))
    toml = study / "study.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[rules]\nmin_cell = 12\n", "utf-8")
    done = school_task("a", str(study), str(tmp_path / "out"), stages=("clean",))
    assert done["ok"] and done["row"]["min_cell"] == 12
