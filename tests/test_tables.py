"""The table contract (mentorlib.tables): one definition, read by the cleaner and the schemas."""

from __future__ import annotations

import pandas as pd
import pytest

from mentorlib.clean import clean_study
from mentorlib.clean.validate import schemas
from mentorlib.errors import InputError
from mentorlib.io.codebook import load_codebook
from mentorlib.synth import canonical_tables
from mentorlib.tables import CONTRACT, TABLES, VOCAB, conform, describe, table

from conftest import SAMPLE


@pytest.fixture(scope="module")
def sample_tables():
    return clean_study(SAMPLE).tables


def _same_dtype(s: pd.Series, dtype) -> bool:
    if isinstance(dtype, pd.CategoricalDtype):
        if not isinstance(s.dtype, pd.CategoricalDtype):
            return False
        return dtype.categories is None or list(s.cat.categories) == list(dtype.categories)
    return str(s.dtype) == str(pd.Series([], dtype=dtype).dtype)


@pytest.mark.parametrize("level", ["primary", "middle"])
def test_every_schema_column_is_in_the_contract_with_its_vocabulary(level):
    for name, schema in schemas(level, [2023, 2024]).items():
        spec = table(name)
        for col, c in schema.columns.items():
            assert col in spec.names, f"{name}.{col} is checked but not in the contract"
            kind = spec.column(col).kind
            for check in c.checks:
                allowed = check.statistics.get("allowed_values")
                if allowed is not None and col in VOCAB:
                    assert tuple(allowed) == VOCAB[col], f"{name}.{col}"
                if check.name == "in_range":
                    assert kind in ("int", "float"), f"{name}.{col} has a range but is {kind}"
        assert set(schema.unique or []) <= set(spec.names)


def test_the_tables_of_data_are_the_contracts():
    assert set(TABLES) <= set(CONTRACT)
    assert "cleaning_log" in CONTRACT and "quarantine" in CONTRACT
    assert "cleaning_log" not in TABLES


def test_codebook_codes_lie_in_the_vocabularies():
    for book, var in (("students", "family"), ("staff", "role"), ("rewards", "kind")):
        f = load_codebook(book).field(var)
        assert set(f.codes) == set(VOCAB[var]), (book, var)
    assert set(load_codebook("activities").field("activity").codes) == set(VOCAB["activity"])


def test_the_cleaned_sample_has_the_contract_dtypes(sample_tables):
    for name, df in sample_tables.items():
        spec = table(name)
        assert set(df.columns) <= set(spec.names), name
        required = {c.name for c in spec.columns if not c.optional}
        assert required <= set(df.columns) or df.empty, (name, required - set(df.columns))
        for col in df.columns:
            assert _same_dtype(df[col], spec.column(col).dtype), (name, col, df[col].dtype)


def test_conform_is_idempotent_on_the_cleaned_sample(sample_tables):
    for name, df in sample_tables.items():
        once = conform(name, df)
        pd.testing.assert_frame_equal(once, df)
        pd.testing.assert_frame_equal(conform(name, once), once)


def test_conform_casts_the_generators_tables_to_the_contract(primary_study):
    for name, df in canonical_tables(primary_study).items():
        out = conform(name, df)
        spec = table(name)
        for col in out.columns:
            if col in spec.names:
                assert _same_dtype(out[col], spec.column(col).dtype), (name, col, out[col].dtype)
        pd.testing.assert_frame_equal(conform(name, out), out)
        assert list(out.columns) == list(df.columns)
        assert len(out) == len(df)


def test_conform_gives_the_documented_dtypes():
    df = pd.DataFrame(
        {
            "student_id": ["G1", None],
            "year": [2024, 2024],
            "term": pd.Series([1, 2], dtype="int16"),
            "kind": ["reward", None],
            "reason": ["迟到", "帮助同学"],
            "points": pd.Series([1, -2], dtype="int16"),
            "date": pd.to_datetime(["2024-09-01", "2024-10-01"]).astype("datetime64[s]"),
            "extra": [object(), object()],
        }
    )
    out = conform("rewards", df)
    assert str(out["student_id"].dtype) == "str" and out["student_id"].isna().iloc[1]
    assert out["year"].dtype == "Int64" and out["term"].dtype == "Int64"
    assert list(out["kind"].cat.categories) == ["reward", "penalty"]
    assert isinstance(out["reason"].dtype, pd.CategoricalDtype)
    assert out["points"].dtype == float
    assert str(out["date"].dtype) == "datetime64[us]"
    assert out["extra"].dtype == object  # unknown columns are left alone
    assert df["term"].dtype == "int16"  # the input is not modified


def test_conform_refuses_a_code_outside_the_vocabulary():
    with pytest.raises(InputError, match=r"students\.gender: other not in the vocabulary"):
        conform("students", pd.DataFrame({"gender": ["female", "other"]}))


def test_an_unknown_table_is_a_one_line_error():
    with pytest.raises(InputError, match="unknown table 'pupils'"):
        table("pupils")


def test_describe_lists_every_table_and_column():
    text = describe()
    for spec in CONTRACT.values():
        assert f"{spec.name}: one row per" in text
    assert "    term: Int64" in text
    assert "    month: str" in text
