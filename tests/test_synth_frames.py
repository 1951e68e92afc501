"""synth.frames and the package's layout: canonical dtypes, year and term, no analysis imports."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd

import mentorlib.synth as synth_pkg
from mentorlib.synth import SynthParams, generate
from mentorlib.synth.export import plan_files
from mentorlib.synth.frames import to_canonical, with_year_term


def test_with_year_term_uses_the_school_calendar():
    df = pd.DataFrame(
        {"date": pd.to_datetime(["2024-08-31", "2024-09-01", "2025-01-20", "2025-02-26"])}
    )
    out = with_year_term(df)
    assert list(out.columns) == ["date", "year", "term"]
    assert out["year"].tolist() == [2023, 2024, 2024, 2024]
    assert out["term"].tolist() == [2, 1, 1, 2]
    assert out["year"].dtype == np.int64 and out["term"].dtype == np.int16


def test_to_canonical_gives_the_small_dtypes():
    tables = {
        "activities": pd.DataFrame(
            {"activity": ["talk", "home_visit"], "note": ["a", None], "duration_min": [10, 20]}
        ),
        "assessment_wide": pd.DataFrame({"m1": [1.0, np.nan], "satisfaction": [3.5, 4.0]}),
    }
    out = to_canonical(tables)
    assert isinstance(out["activities"]["activity"].dtype, pd.CategoricalDtype)
    assert out["activities"]["duration_min"].dtype == np.int16
    assert out["assessment_wide"]["m1"].dtype == np.float32
    assert out["assessment_wide"]["satisfaction"].dtype == np.float64


def test_generated_tables_are_canonical():
    st = generate(SynthParams(n_students=60, n_years=1, seed=3))
    acts = st.tables["activities"]
    assert isinstance(acts["activity"].dtype, pd.CategoricalDtype)
    assert acts["term"].dtype == np.int16
    assert set(acts["year"]) == {2023}
    specs = plan_files(st, clean=True)
    assert {s["kind"] for s in specs} >= {"students", "staff", "groups", "activities", "mood"}


def test_synth_imports_no_analysis_stage():
    stages = {"grouping", "progress", "effectiveness", "report", "compliance", "plots"}
    root = Path(synth_pkg.__file__).parent
    for f in root.glob("*.py"):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level >= 2:
                top = (node.module or "").split(".")[0]
                names = {a.name for a in node.names} if not node.module else {top}
                assert not (names & stages), f"{f.name} imports {names & stages}"
