"""mentorlib export: the processed sample read back with pandas and pyreadstat, values intact."""

from __future__ import annotations

import pandas as pd
import pyreadstat
import pytest

from mentorlib.clean.pipeline import clean_study
from mentorlib.data import load_processed
from mentorlib.errors import InputError
from mentorlib.io.export import export, export_tables

from conftest import SAMPLE


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    out = tmp_path_factory.mktemp("exp") / "sample"
    clean_study(SAMPLE, out)
    return out


@pytest.fixture(scope="module")
def tables(processed):
    return export_tables(load_processed(processed))


def test_tables_include_progress_per_year(tables):
    assert {"students", "staff", "activities", "progress_2023", "progress_2025"} <= set(tables)


def test_xlsx_round_trip(processed, tables, tmp_path):
    (path,) = export(processed, "xlsx", tmp_path / "x")
    book = pd.read_excel(
        path, sheet_name=None, engine="openpyxl", dtype={"student_id": str, "staff_id": str}
    )
    assert set(book) == set(tables)
    for name, df in tables.items():
        assert len(book[name]) == len(df), name
    s = tables["students"]
    back = book["students"]
    assert list(back["student_id"]) == list(s["student_id"])
    assert list(back["gender"]) == list(s["gender"].astype(str))
    assert back["height_cm"].tolist() == pytest.approx(s["height_cm"].tolist(), nan_ok=True)


def test_csv_round_trip_utf8_bom(processed, tables, tmp_path):
    export(processed, "csv", tmp_path / "c")
    raw = (tmp_path / "c" / "staff.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    for name, df in tables.items():
        back = pd.read_csv(tmp_path / "c" / f"{name}.csv", encoding="utf-8-sig", dtype=str)
        assert len(back) == len(df), name
    a = tables["activities"]
    back = pd.read_csv(tmp_path / "c" / "activities.csv", encoding="utf-8-sig", dtype=str)
    assert list(back["activity"]) == list(a["activity"].astype(str))
    assert list(back["mentor_id"]) == list(a["mentor_id"])


def test_sav_round_trip_with_chinese_value_labels(processed, tables, tmp_path):
    export(processed, "sav", tmp_path / "s")
    for name, df in tables.items():
        back, meta = pyreadstat.read_sav(str(tmp_path / "s" / f"{name}.sav"))
        assert len(back) == len(df), name
        assert list(back.columns) == list(df.columns), name
    st = tables["students"]
    back, meta = pyreadstat.read_sav(str(tmp_path / "s" / "students.sav"))
    assert set(meta.variable_value_labels["gender"].values()) == {"女", "男"}
    assert set(meta.variable_value_labels["family"].values()) <= {"双亲", "单亲", "重组"}
    labelled = back["gender"].map(meta.variable_value_labels["gender"])
    assert list(labelled) == list(st["gender"].map({"female": "女", "male": "男"}))
    assert list(back["student_id"]) == list(st["student_id"])
    assert back["left_behind"].tolist() == st["left_behind"].astype(float).tolist()
    act, meta = pyreadstat.read_sav(str(tmp_path / "s" / "activities.sav"))
    assert "谈心谈话" in meta.variable_value_labels["activity"].values()
    prog, meta = pyreadstat.read_sav(str(tmp_path / "s" / "progress_2024.sav"))
    assert "无可靠变化" in meta.variable_value_labels["category"].values()


def test_refuses_foreign_folder_and_bad_format(processed, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "a.txt").write_text("keep")
    with pytest.raises(InputError, match="not a mentorlib"):
        export(processed, "csv", tmp_path / "mine")
    with pytest.raises(InputError, match="format"):
        export(processed, "pdf", tmp_path / "n")
    with pytest.raises(InputError):
        export(processed, "csv", processed / "inside")
    assert (tmp_path / "mine" / "a.txt").read_text() == "keep"
