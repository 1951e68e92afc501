"""Shared fixtures: small synthetic studies, in memory and written to disk."""

from __future__ import annotations

import csv
import io
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

from mentorlib.synth import SynthParams, generate, write_study

# the same examples on every run: a property failure reproduces, CI is not flaky
settings.register_profile("mentorlib", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("mentorlib")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(scope="session")
def primary_study():
    return generate(SynthParams(level="primary", n_students=600, n_years=3, seed=11))


@pytest.fixture(scope="session")
def middle_study():
    return generate(SynthParams(level="middle", n_students=600, n_years=3, seed=12))


@pytest.fixture(scope="session")
def messy_dir(tmp_path_factory, primary_study):
    return write_study(primary_study, tmp_path_factory.mktemp("messy") / "study", workers=1)


@pytest.fixture(scope="session")
def clean_dir(tmp_path_factory, primary_study):
    return write_study(
        primary_study, tmp_path_factory.mktemp("clean") / "study", clean=True, workers=1
    )


def read_sheet_rows(path: Path, sheet: str | None, encoding: str | None = None) -> list[list]:
    """Every row of a raw file as a list of cells (xlsx via calamine; CSV via the csv module)."""
    if path.suffix == ".xlsx":
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_path(str(path))
        ws = wb.get_sheet_by_name(sheet) if sheet else wb.get_sheet_by_index(0)
        return ws.to_python()
    text = path.read_bytes().decode(encoding or "utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def study_sources(study_dir: Path) -> list[dict]:
    return tomllib.loads((study_dir / "study.toml").read_text(encoding="utf-8"))["sources"]


def cell_text(v) -> str:
    """A cell as the manifest spells it (integral floats without '.0')."""
    if isinstance(v, float):
        if np.isfinite(v) and float(v).is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    return "" if v is None else str(v)


# ----------------------------------------------------------------------------- shared by the
# test files that mirror one package (tests/test_<package>_<module>.py): computed once per
# worker. The helpers that build them live in tests/_<package>_fixtures.py and are imported
# when a fixture is first used, so a test that needs none of them loads none.


@pytest.fixture(scope="session")
def primary(primary_study):
    from mentorlib.data import from_synth

    return from_synth(primary_study)


@pytest.fixture(scope="session")
def middle(middle_study):
    from mentorlib.data import from_synth

    return from_synth(middle_study)


@pytest.fixture(scope="session")
def proster(primary):
    from mentorlib.grouping import roster

    return roster(primary, 2024)


@pytest.fixture(scope="session")
def mroster(middle):
    from mentorlib.grouping import roster

    return roster(middle, 2024)


@pytest.fixture(scope="session")
def truth_study():
    from _compliance_fixtures import make_truth_study

    return make_truth_study()


@pytest.fixture(scope="session")
def truth_report(truth_study):
    from mentorlib.compliance import compliance_report
    from mentorlib.data import from_synth

    return compliance_report(from_synth(truth_study), 2023)


@pytest.fixture(scope="session")
def report_study():
    from _report_fixtures import sample_study

    return sample_study()


@pytest.fixture(scope="session")
def drafted():
    from _report_fixtures import drafted_reports

    return drafted_reports()


@pytest.fixture(scope="session")
def written():
    from _report_fixtures import written_reports

    return written_reports()


def report_table(rep, key: str):
    """The data of a report's table block ``key`` (a district or annual summary)."""
    for s in rep.sections:
        for b in s.blocks:
            if getattr(b, "key", None) == key and hasattr(b, "data"):
                return b.data
    raise AssertionError(f"no table {key}")
