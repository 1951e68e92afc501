"""Processed studies (mentorlib.data): loading, the study's rules, and the leaf rule."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest

import mentorlib as ml
from mentorlib.clean import clean_study
from mentorlib.data import Processed, from_synth, load_processed
from mentorlib.errors import InputError
from mentorlib.io.open import open_study
from mentorlib.rules import rulebook
from mentorlib.tables import TABLES

from conftest import ROOT, SAMPLE


@pytest.fixture(scope="module")
def ruled_sample(tmp_path_factory):
    """The sample study with ``[rules] target_share = 0.9, min_cell = 10``, cleaned to disk."""
    base = tmp_path_factory.mktemp("ruled")
    raw = base / "raw"
    shutil.copytree(SAMPLE, raw)
    toml = raw / "study.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8") + "\n[rules]\ntarget_share = 0.9\nmin_cell = 10\n",
        encoding="utf-8",
    )
    clean_study(raw, base / "processed")
    return raw, base / "processed"


def test_rules_round_trip_through_study_json(ruled_sample):
    raw, out = ruled_sample
    meta = json.loads((out / "study.json").read_text(encoding="utf-8"))
    assert meta["rules"] == {"target_share": 0.9, "min_cell": 10}
    p = load_processed(out)
    assert p.rules.target_share == 0.9 and p.rules.min_cell == 10
    assert p.rules.k_dimensions == rulebook(p.level).k_dimensions  # the rest as the level's
    assert open_study(out).rules.min_cell == 10
    assert open_study(raw).rules.min_cell == 10  # cleaned in memory


def test_a_study_without_rules_has_the_levels_rulebook():
    p = Processed("x", "middle", (2024,), {})
    assert p.rules == rulebook("middle")
    assert p.dimensions == rulebook("middle").dimensions


def test_with_rules_returns_a_validated_copy():
    tables = {"students": pd.DataFrame({"student_id": ["G1"]})}
    p = Processed("x", "primary", (2024,), tables)
    q = p.with_rules(min_cell=10).with_rules(target_share=0.9)
    assert (q.rules.min_cell, q.rules.target_share) == (10, 0.9)
    assert p.rules.min_cell == rulebook("primary").min_cell  # the original is unchanged
    assert q.tables is p.tables  # the tables are shared, not copied
    with pytest.raises(InputError, match="unknown rule 'min_cel'"):
        p.with_rules(min_cel=10)


def test_a_bad_rule_in_study_json_names_the_file(ruled_sample, tmp_path):
    _, out = ruled_sample
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    meta = json.loads((bad / "study.json").read_text(encoding="utf-8"))
    meta["rules"] = {"min_cell": 1}
    (bad / "study.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(InputError, match=r"study\.json: \[rules\] min_cell = 1"):
        load_processed(bad)


def test_load_processed_reads_every_table(ruled_sample):
    p = load_processed(ruled_sample[1])
    assert set(p.tables) == set(TABLES)
    assert "students" in p and "pupils" not in p
    with pytest.raises(KeyError, match="has no table 'pupils'"):
        p["pupils"]
    assert p.codebook().name == "assessment_primary"


def test_not_a_processed_folder(tmp_path):
    with pytest.raises(InputError, match="not a processed study"):
        load_processed(tmp_path)
    with pytest.raises(InputError, match="neither a processed study"):
        open_study(tmp_path)


def test_from_synth_with_tables_and_rules(primary_study):
    p = from_synth(primary_study, rules={"min_cell": 8})
    assert p.synthetic and p.level == "primary" and p.rules.min_cell == 8
    assert set(p.tables) >= {"students", "assessment_items"}
    given = {"students": p["students"]}
    assert from_synth(primary_study, given).tables is given


def test_the_public_names_still_work():
    assert ml.open_study is open_study
    assert ml.from_synth is from_synth and ml.load_processed is load_processed
    assert ml.Processed is Processed


def test_data_imports_no_stage():
    code = (
        "import sys, mentorlib.data; "
        "print(sorted(m for m in sys.modules if m.startswith('mentorlib.')))"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    loaded = eval(r.stdout)
    for stage in ("clean", "synth", "progress", "grouping", "effectiveness", "report", "io.open"):
        assert f"mentorlib.{stage}" not in loaded, stage
