"""The verdict, its breakdowns and its firmness (mentorlib.progress.verdict)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mentorlib import progress
from mentorlib.data import from_synth

from _progress_fixtures import primary_report


@pytest.fixture(scope="module")
def report(primary_study):
    return primary_report(primary_study)


def test_bootstrap_interval_in_verdict(report, primary_study):
    v = report.verdict.set_index("rule")
    for rule in progress.RULES:
        lo, hi = v.loc[rule, "boot_ci_low"], v.loc[rule, "boot_ci_high"]
        assert lo < v.loc[rule, "proportion"] < hi
        assert lo <= v.loc[rule, "boot_lower_bound"] <= hi
        assert v.loc[rule, "boot_verdict"] in progress.VERDICTS
    s = report.summary_dict()
    assert s["boot_ci_low"] == pytest.approx(v.loc["evaluable_only", "boot_ci_low"])
    P = from_synth(primary_study)
    again = progress.progress_report(P, 2024, n_boot=1000, seed=0)
    assert again.verdict["boot_ci_low"].tolist() == report.verdict["boot_ci_low"].tolist()
    none = progress.progress_report(P, 2024, n_boot=0)
    assert "boot_ci_low" not in none.verdict and none.summary_dict()["boot_ci_low"] is None
    mid = progress.progress_report(P, 2024, definition="mid", n_boot=200, sd_by="grade")
    assert mid.verdict["boot_ci_low"].notna().all()


def test_threshold_sensitivity_counts_steps():
    # two dimensions, three students; thresholds 1.0; changes on the 1/6 grid
    ch = pd.DataFrame(
        {
            "student_id": np.repeat(["a", "b", "c"], 2),
            "dimension": ["moral", "academic"] * 3,
            "change": [1.0, 0.0, 7 / 6, 0.0, 5 / 6, np.nan],
            "threshold": 1.0,
            "direction": "up",
            "evaluable": [True, True, True, True, True, False],
            "definition": "rci",
        }
    )
    t = progress.threshold_sensitivity(ch, k=1).set_index(["level", "factor"])["rate"]
    # moral changes 1, 7/6, 5/6 against thresholds .95, 1, 1.05 (strictly above):
    assert t[("moral", 0.95)] == pytest.approx(2 / 3)  # 1 and 7/6
    assert t[("moral", 1.0)] == pytest.approx(1 / 3)  # only 7/6: the step at 1.0 drops out
    assert t[("moral", 1.05)] == pytest.approx(1 / 3)
    assert t[("academic", 1.0)] == 0.0
    assert t[("student", 0.95)] == pytest.approx(2 / 3)
    assert t[("student", 1.0)] == pytest.approx(1 / 3)
