"""Data that would put impossible numbers in a report is caught at cleaning (issue 11, item 8)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from mentorlib.clean import clean_study

from conftest import SAMPLE

MOOD = "records/心情晴雨表_2025学年.csv"


def _sources_of(toml: str, path: str) -> str:
    start = toml.index(f'path = "{path}"')
    start = toml.rindex("[[sources]]", 0, start)
    end = toml.find("\n\n", start)
    return toml[start : end + 2 if end >= 0 else None]


@pytest.fixture(scope="module")
def triplicated(tmp_path_factory):
    """The sample with its 2025 mood file handed over three times (two copies, three sources)."""
    study = tmp_path_factory.mktemp("tri") / "study"
    shutil.copytree(SAMPLE, study)
    toml = (study / "study.toml").read_text(encoding="utf-8")
    block = _sources_of(toml, MOOD)
    for k in (2, 3):
        copy = MOOD.replace(".csv", f"_副本{k}.csv")
        shutil.copy(study / MOOD, study / copy)
        toml += "\n" + block.replace(MOOD, copy)
    (study / "study.toml").write_text(toml, encoding="utf-8")
    return clean_study(study, None)


@pytest.fixture(scope="module")
def single():
    return clean_study(SAMPLE, None)


def test_triplicated_mood_file_gives_the_same_mood_table(triplicated, single):
    a = triplicated.tables["mood"].sort_values(["student_id", "month"], ignore_index=True)
    b = single.tables["mood"].sort_values(["student_id", "month"], ignore_index=True)
    pd.testing.assert_frame_equal(a, b)
    rs = triplicated.row_status
    copies = rs[rs["source"].astype(str).str.contains("副本")]
    n2025 = int((single.row_status["source"].astype(str) == MOOD).sum())
    assert len(copies) == 2 * n2025
    kept_first = single.row_status[single.row_status["source"].astype(str) == MOOD]
    n_alive = int((kept_first["status"] == "kept").sum())
    dup = copies[copies["reason"].astype(str) == "exact_duplicate"]
    assert len(dup) == 2 * n_alive and (dup["status"] == "merged").all()
    assert dup["merged_into"].str.startswith(MOOD + "#").all()
    log = triplicated.log
    notes = log[log["rule"].astype(str).eq("exact_duplicate") & log["source"].str.contains("副本")]
    assert len(notes) == 2 and notes["old"].eq(f"{n_alive} rows").all()


def test_triplicated_mood_file_keeps_rates_at_most_one(triplicated, single):
    from mentorlib.compliance import compliance_report

    tri = compliance_report(triplicated.processed(), 2025).indicators
    one = compliance_report(single.processed(), 2025).indicators
    pd.testing.assert_frame_equal(tri, one)
    mood = tri.loc[tri["indicator"] == "mood_participation", "value"]
    assert len(mood) == 1 and 0 < float(mood.iloc[0]) <= 1
    shares = pd.to_numeric(tri.loc[tri["unit"] == "share", "value"], errors="coerce").dropna()
    assert len(shares) and shares.between(0, 1).all()


def test_the_same_rows_repeated_in_one_file(tmp_path, single):
    study = tmp_path / "study"
    shutil.copytree(SAMPLE, study)
    raw = (study / MOOD).read_bytes()
    lines = raw.split(b"\n")
    body = [ln for ln in lines[1:] if ln.strip()]
    (study / MOOD).write_bytes(b"\n".join([lines[0], *body, *body[:40]]) + b"\n")
    res = clean_study(study, None)
    a = res.tables["mood"].sort_values(["student_id", "month"], ignore_index=True)
    b = single.tables["mood"].sort_values(["student_id", "month"], ignore_index=True)
    pd.testing.assert_frame_equal(a, b)
    rs = res.row_status[res.row_status["source"].astype(str) == MOOD]
    dup = rs[rs["reason"].astype(str) == "exact_duplicate"]
    first_alive = (
        single.row_status[single.row_status["source"].astype(str) == MOOD]
        .head(40)["status"]
        .eq("kept")
        .sum()
    )
    assert len(dup) == first_alive and (dup["status"] == "merged").all()
    # each repeat points at its own first copy, 40 body lines above (header is row 1)
    rows = dup["row"].to_numpy()
    assert (dup["merged_into"] == [f"{MOOD}#{r - len(body)}" for r in rows]).all()
