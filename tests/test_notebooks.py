"""Every notebook runs headless with papermill on the committed sample study.

A guard counts the notebooks found, so none is skipped silently; outputs must be stripped in git.
"""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, SAMPLE

NB_DIR = ROOT / "notebooks"
EXPECTED = [
    "00_overview.ipynb",
    "01_clean.ipynb",
    "02_progress_target.ipynb",
    "03_mentor_effectiveness.ipynb",
    "04_grouping_policies.ipynb",
    "05_annual_summary.ipynb",
    "06_pilot_review.ipynb",
    "07_district.ipynb",
]
#: Notebooks that take something other than a study: their own default (07: a small synthetic
#: district of 3 schools x 200 students it writes in a temporary folder, cleaned on 2 workers).
OWN_DEFAULTS = {"07_district.ipynb"}


def test_every_notebook_is_known_and_stripped():
    found = sorted(p.name for p in NB_DIR.glob("*.ipynb"))
    assert found == sorted(EXPECTED), "add new notebooks to EXPECTED so the suite runs them"
    for name in found:
        nb = json.loads((NB_DIR / name).read_text(encoding="utf-8"))
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert not any(c.get("outputs") or c.get("execution_count") for c in code), (
            f"{name}: strip outputs"
        )
        assert "parameters" in code[0]["metadata"].get("tags", []), (
            f"{name}: first code cell must be tagged parameters"
        )


@pytest.mark.notebooks
@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_runs_headless(name, tmp_path):
    import papermill as pm

    out = tmp_path / name
    pm.execute_notebook(
        str(NB_DIR / name),
        str(out),
        parameters={} if name in OWN_DEFAULTS else {"study": str(SAMPLE)},
        cwd=str(NB_DIR),
        kernel_name="python3",
        progress_bar=False,
    )
    nb = json.loads(out.read_text(encoding="utf-8"))
    errors = [
        o
        for c in nb["cells"]
        if c["cell_type"] == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors
