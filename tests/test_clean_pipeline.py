"""The cleaner on the committed sample study: nothing lost, every defect handled, the truth back."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mentorlib.clean import clean_study
from mentorlib.data import load_processed
from mentorlib.errors import InputError
from mentorlib.ids import pseudonym
from mentorlib.synth.score import score_cleaning, score_table

from conftest import SAMPLE


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    out = tmp_path_factory.mktemp("proc") / "sample"
    return clean_study(SAMPLE, out)


@pytest.fixture(scope="module")
def key_tables():
    return {p.stem: pd.read_parquet(p) for p in (SAMPLE / "truth" / "canonical").glob("*.parquet")}


def test_every_row_accounted_for_per_source(cleaned):
    s = cleaned.summary
    assert (s["rows_in"] == s["kept"] + s["merged"] + s["quarantined"]).all()
    rs = cleaned.row_status
    assert set(rs["status"]) <= {"kept", "merged", "quarantined"}
    # the row-level account agrees with the summary, source by source
    # (row_status keeps its repeated texts as categoricals: compare them as text)
    counts = rs.astype({"source": str, "status": str}).groupby(["source", "status"]).size()
    counts = counts.unstack(fill_value=0)
    by_src = s.groupby("source")[["kept", "merged", "quarantined"]].sum()
    pd.testing.assert_frame_equal(
        counts.reindex(columns=by_src.columns, fill_value=0).sort_index(),
        by_src.sort_index(),
        check_dtype=False,
        check_names=False,
    )
    assert (rs.loc[rs["status"] == "merged", "merged_into"].str.contains("#")).all()
    assert rs.loc[rs["status"] == "quarantined", "reason"].notna().all()


def test_manifest_zero_missed_zero_wrong(cleaned):
    scored = score_cleaning(cleaned, SAMPLE)
    t = score_table(scored)
    single = t[t["expected"] != "value_or_quarantine"]
    assert single["missed"].sum() == 0, t.to_string()
    assert single["wrong"].sum() == 0, t.to_string()
    assert t["wrong"].sum() == 0  # not even the two-answer kinds link to the wrong student
    assert set(t["kind"]) >= {
        "id_sci",
        "name_typo",
        "duplicate_submission",
        "attention_fail",
        "unknown_student",
        "class_spelling",
        "date_serial",
        "skip_marker",
        "encoding",
    }


def _norm(v):
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, float | int | np.integer | np.floating) and not isinstance(v, bool | np.bool_):
        return round(float(v), 6)
    return str(v)


@pytest.mark.parametrize(
    ("table", "keys", "cols"),
    [
        (
            "students",
            ["student_id", "year"],
            [
                "name",
                "gender",
                "birth_date",
                "grade",
                "class_no",
                "transfer",
                "family",
                "left_behind",
                "home_area",
                "mentee",
                "height_cm",
                "weight_kg",
            ],
        ),
        (
            "staff",
            ["staff_id", "year"],
            [
                "name",
                "gender",
                "role",
                "subject",
                "grade",
                "link_class",
                "homeroom",
                "classes",
                "training_hours",
                "certified",
                "backbone",
                "strengths",
            ],
        ),
        (
            "assignments",
            ["student_id", "year", "term"],
            ["mentor_id", "start_date", "reason", "regroup"],
        ),
        ("needs", ["student_id", "year"], ["weak_areas", "help_wanted", "interests", "other_text"]),
        (
            "mood",
            ["student_id", "year", "month"],
            ["school_days", "days_recorded", "n_happy", "n_calm", "n_sad", "n_angry"],
        ),
    ],
)
def test_clean_tables_equal_the_answer_key(cleaned, key_tables, table, keys, cols):
    got, want = cleaned.tables[table].copy(), key_tables[table].copy()
    for d in (got, want):
        for k in keys:
            d[k] = d[k].astype(str)
    assert len(got) == len(want)
    m = want.merge(got, on=keys, how="outer", suffixes=("_true", "_got"), indicator=True)
    assert (m["_merge"] == "both").all()
    for c in cols:
        bad = [
            (a, b)
            for a, b in zip(m[f"{c}_true"], m[f"{c}_got"], strict=True)
            if _norm(a) != _norm(b)
        ]
        assert not bad, (table, c, bad[:3])


def test_answers_equal_the_key_except_what_must_change(cleaned, key_tables):
    """Assessment answers: identical, but for quarantined submissions (failed attention checks)
    and out-of-range answers, which must become missing."""
    got = cleaned.tables["assessment_items"]
    want = key_tables["assessment_items"].astype({"student_id": str})
    keys = ["student_id", "year", "wave", "item"]
    m = want.merge(
        got.astype({"student_id": str, "wave": str, "item": str}).assign(),
        on=keys,
        how="left",
        suffixes=("_true", "_got"),
        indicator=True,
    )
    man = pd.read_parquet(SAMPLE / "truth" / "manifest.parquet")
    attention = man[man["kind"] == "attention_fail"]
    assert (m["_merge"] == "left_only").sum() == 24 * len(attention)
    both = m[m["_merge"] == "both"]
    t, g = (
        both["value_true"].astype("Float64").fillna(-1),
        both["value_got"].astype("Float64").fillna(-1),
    )
    differ = both[(t != g).to_numpy()]
    assert len(differ) == len(
        man[(man["kind"] == "out_of_range") & man["file"].str.contains("发展评估")]
    )
    assert differ["value_got"].isna().all() and differ["value_true"].notna().all()


def test_exams_and_rewards_equal_the_key(cleaned, key_tables):
    got = cleaned.tables["exams"].astype({"student_id": str, "subject": str})
    want = key_tables["exams"].astype({"student_id": str, "subject": str})
    m = want.merge(got, on=["student_id", "year", "term", "subject"], suffixes=("_t", "_g"))
    assert len(m) == len(want) == len(got)
    man = pd.read_parquet(SAMPLE / "truth" / "manifest.parquet")
    oor = int(((man["kind"] == "out_of_range") & man["file"].str.startswith("exams")).sum())
    assert int((m["score_t"].fillna(-1) != m["score_g"].fillna(-1)).sum()) == oor
    r_got = cleaned.tables["rewards"]
    r_want = key_tables["rewards"]
    assert len(r_got) == len(r_want)
    assert r_got["points"].sum() == pytest.approx(r_want["points"].sum())


def test_raw_folder_never_written(tmp_path):
    def tree_hash(d: Path) -> str:
        h = hashlib.sha256()
        for p in sorted(d.rglob("*")):
            if p.is_file():
                h.update(str(p.relative_to(d)).encode())
                h.update(p.read_bytes())
        return h.hexdigest()

    study = tmp_path / "study"
    shutil.copytree(SAMPLE, study)
    before = tree_hash(study)
    clean_study(study, tmp_path / "out")
    assert tree_hash(study) == before


def test_output_files_and_reload(cleaned):
    out = cleaned.out_dir
    for name in ("students", "assessment_items", "cleaning_log", "quarantine", "row_status"):
        assert (out / f"{name}.parquet").is_file()
    P = load_processed(out)
    assert P.level == "primary" and P.years == (2023, 2024, 2025)
    assert len(P["students"]) == len(cleaned.tables["students"])
    summary = pd.read_csv(out / "source_summary.csv")
    assert int(summary["rows_in"].sum()) == len(cleaned.row_status)


def test_failed_run_leaves_nothing(tmp_path):
    study = tmp_path / "study"
    shutil.copytree(SAMPLE, study)
    target = next((study / "surveys").glob("*.xlsx"))
    target.write_bytes(b"garbage")
    out = tmp_path / "processed" / "study"
    with pytest.raises(InputError) as e:
        clean_study(study, out, strict=True)  # else the study is cleaned partially
    assert target.name in str(e.value)
    assert not out.exists()
    assert (
        not any((tmp_path / "processed").iterdir()) if (tmp_path / "processed").exists() else True
    )


def test_previous_output_replaced_only_on_success(tmp_path, cleaned):
    out = tmp_path / "p"
    shutil.copytree(cleaned.out_dir, out)
    marker = out / "students.parquet"
    before = marker.read_bytes()
    study = tmp_path / "study"
    shutil.copytree(SAMPLE, study)
    (study / "study.toml").write_text(
        (study / "study.toml")
        .read_text(encoding="utf-8")
        .replace('kind = "mood"', 'kind = "moods"', 1),
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="unknown kind"):
        clean_study(study, out)
    assert marker.read_bytes() == before


def test_pseudonyms(tmp_path, cleaned):
    study = tmp_path / "study"
    shutil.copytree(SAMPLE, study)
    (study / "secret.key").write_text("a-study-secret\n")
    toml = (study / "study.toml").read_text(encoding="utf-8")
    (study / "study.toml").write_text(
        toml.replace("[study]\n", '[study]\npseudonym_key_file = "secret.key"\n'), encoding="utf-8"
    )
    res = clean_study(study, tmp_path / "out")
    s = res.tables["students"]
    assert "name" not in s.columns and res.meta["pseudonymised"]
    real = set(cleaned.tables["students"]["student_id"])
    for name, df in res.tables.items():
        if "student_id" in df.columns:
            ids = set(df["student_id"].dropna())
            assert not ids & real, name
    sid = cleaned.tables["students"]["student_id"].iloc[0]
    assert pseudonym(sid, b"a-study-secret") in set(s["student_id"])
    # the same student carries the same pseudonym in every table
    a = res.tables["assessment_items"]["student_id"]
    assert set(a) <= set(s["student_id"])


def test_attention_option(tmp_path):
    res = clean_study(SAMPLE, None, attention="flag")
    assert not (res.quarantine["reason"] == "attention_check_failed").any()
    assert (res.log["rule"].astype(str) == "attention_check_failed_flagged").sum() > 0


def test_log_has_column_conventions_and_cell_repairs(cleaned):
    lg = cleaned.log
    conv = lg[lg["rule"].astype(str).str.contains("column convention")]
    assert len(conv) > 0 and conv["row"].isna().all()
    cells = lg[lg["row"].notna()]
    assert {"source", "sheet", "row", "column", "old", "new", "rule"} <= set(cells.columns)
    enc = lg[lg["rule"].astype(str) == "encoding_detected"]
    assert set(enc["new"]) >= {"gb18030", "utf-8-sig"}


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "mentorlib", *args], capture_output=True, text=True
    )


def test_cli_clean_json_and_bad_input(tmp_path):
    r = _cli("clean", str(SAMPLE), "--out", str(tmp_path / "o"), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["rows_in"] == out["kept"] + out["merged"] + out["quarantined"]
    assert out["quarantine_reasons"]["unknown_student"] > 0
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "study.toml").write_text(
        '[study]\nlevel = "primary"\nyears = [2023]\n[[sources]]\nkind = "x"\npath = "a.csv"\n'
    )
    r = _cli("clean", str(bad), "--out", str(tmp_path / "o2"))
    assert (
        r.returncode == 2 and "unknown kind 'x'" in r.stderr and r.stderr.strip().count("\n") == 0
    )
    assert not (tmp_path / "o2").exists()
    (bad / "study.toml").write_text(
        '[study]\nlevel = "primary"\nyears = [2023]\n[[sources]]\nkind = "students"\npath = "a.csv"\nyear = 2023\n'
    )
    (bad / "a.csv").write_bytes(b"\x00\x01garbage\xff")
    r = _cli("clean", str(bad), "--out", str(tmp_path / "o3"))
    assert r.returncode == 2 and "a.csv" in r.stderr and "Traceback" not in r.stderr


def test_missing_required_column_names_file_and_questions(tmp_path):
    study = tmp_path / "study"
    shutil.copytree(SAMPLE, study)
    p = next((study / "records").glob("导师工作记录_*.csv"))
    text = p.read_bytes().decode("utf-8-sig").replace("活动类型", "事项", 1)
    p.write_bytes(b"\xef\xbb\xbf" + text.encode())
    with pytest.raises(InputError) as e:
        clean_study(study, None, strict=True)
    assert p.name in str(e.value) and "activity" in str(e.value)
    [failed] = clean_study(study, None).failed_sources  # by default: listed, the rest cleaned
    assert failed["path"].endswith(p.name) and "activity" in failed["reason"]


def test_schemas_catch_what_normalisers_cannot():
    from mentorlib.clean.validate import validate_tables

    good_id = "G110105194912310020"
    bad = {
        "students": pd.DataFrame(
            {
                "student_id": [good_id, good_id, "X1"],
                "year": [2023, 2023, 2023],
                "gender": ["male", "female", "robot"],
                "grade": [3, 3, 3],
                "class_no": [1, 1, 1],
                "family": ["two_parent"] * 3,
                "height_cm": [130.0, 400.0, 120.0],
                "weight_kg": [30.0] * 3,
            }
        ),
        "assessment_items": pd.DataFrame(
            {
                "student_id": [good_id],
                "year": [2023],
                "wave": ["mid"],
                "dimension": ["moral"],
                "item": ["moral_1"],
                "value": pd.array([9], dtype="Int64"),
            }
        ),
    }
    f = validate_tables(bad, "primary", (2023,))
    found = set(zip(f["table"], f["column"], strict=True))
    assert {
        ("students", "student_id"),
        ("students", "gender"),
        ("students", "height_cm"),
        ("assessment_items", "wave"),
        ("assessment_items", "value"),
    } <= found
    assert validate_tables({}, "primary", (2023,)).empty


def test_same_file_listed_twice_is_an_error_naming_both_entries(tmp_path):
    """Issue 11: once a silent quarantine of both copies; now a config error before reading."""
    study = tmp_path / "study"
    shutil.copytree(SAMPLE, study)
    toml = (study / "study.toml").read_text(encoding="utf-8")
    block = toml[toml.index('[[sources]]\nkind = "satisfaction"') :]
    block = block[: block.index("\n\n") + 2] if "\n\n" in block else block
    first = toml[: toml.index('[[sources]]\nkind = "satisfaction"')].count("[[sources]]") + 1
    last = toml.count("[[sources]]") + 1
    (study / "study.toml").write_text(toml + "\n" + block, encoding="utf-8")
    with pytest.raises(InputError, match=rf"\[\[sources\]\] #{first} and #{last} both read"):
        clean_study(study, None)


def test_a_copy_of_a_file_listed_again_is_caught_by_validation(tmp_path):
    study = tmp_path / "study"
    shutil.copytree(SAMPLE, study)
    toml = (study / "study.toml").read_text(encoding="utf-8")
    block = toml[toml.index('[[sources]]\nkind = "satisfaction"') :]
    block = block[: block.index("\n\n") + 2] if "\n\n" in block else block
    path = block.split('path = "')[1].split('"')[0]
    shutil.copy(study / path, study / f"copy_{Path(path).name}")
    block = block.replace(path, f"copy_{Path(path).name}")
    (study / "study.toml").write_text(toml + "\n" + block, encoding="utf-8")
    res = clean_study(study, None)
    assert res.meta["schema_failures"] > 0
    q = res.quarantine
    assert (q["reason"] == "schema_violation").sum() > 0
    assert q.loc[q["reason"] == "schema_violation", "detail"].str.contains("satisfaction").all()
    s = res.summary
    assert (s["rows_in"] == s["kept"] + s["merged"] + s["quarantined"]).all()
    sat = res.tables["satisfaction"]
    assert not sat.duplicated(["student_id", "year", "term"]).any()
