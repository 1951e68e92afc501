"""Readable tables of the mentee comparison (mentorlib/progress/comparison_display.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mentorlib.data import from_synth
from mentorlib.progress.comparison import Comparison, compare_mentees
from mentorlib.progress.comparison_display import (
    balance_display,
    estimator_table,
    format_effect,
    guidance_display,
)


@pytest.fixture(scope="module")
def comparison(middle_study):
    # the same call as tests/test_progress_comparison.py (the comparison cache shares it)
    return compare_mentees(from_synth(middle_study), 2025, seed=1, m=4, latent=True)


def _parse(text: str, scale: str) -> float:
    return float(text.rstrip("%")) / 100 if scale == "rate" else float(text)


def test_format_effect_on_each_scale():
    assert format_effect(0.1364, "rate") == "+13.6%"
    assert format_effect(-0.004, "sd") == "-0.00"
    assert format_effect(float("nan"), "rate") == "" and format_effect(None, "sd") == ""


def test_estimator_table_shows_each_estimate_and_interval_on_its_scale(comparison):
    est = comparison.estimators
    head = est.loc[est["dimension"].isin(["any", "mean"])].reset_index(drop=True)
    t = estimator_table(comparison, "en")
    assert list(t.columns) == [
        "method",
        "dimension",
        "scale",
        "estimate",
        "95% interval",
        "mentees",
        "non-mentees",
    ]
    assert len(t) == len(head) and len(head) >= 6
    for (_, row), r in zip(t.iterrows(), head.itertuples(), strict=True):
        tol = 0.0005 if r.scale == "rate" else 0.005
        assert _parse(row["estimate"], r.scale) == pytest.approx(r.estimate, abs=tol)
        lo, hi = row["95% interval"].strip("[]").split(", ")
        assert _parse(lo, r.scale) == pytest.approx(r.ci_low, abs=tol)
        assert _parse(hi, r.scale) == pytest.approx(r.ci_high, abs=tol)
        assert row["mentees"] == r.n_treated and row["non-mentees"] == r.n_control
    zh = estimator_table(comparison, "zh", dimensions=True)
    assert len(zh) == len(est) and "学业辅导" in set(zh["维度"])
    assert "双重稳健估计（AIPW）" in set(zh["方法"])


def test_estimator_table_puts_the_generator_truth_beside_each_row(comparison):
    dims = ["moral", "academic", "psychological", "life"]
    truth = pd.DataFrame(
        {
            "year": [2025] * 5 + [2024],
            "dimension": [*dims, "any", "any"],
            "att_sd": [0.1, 0.2, 0.3, 0.4, np.nan, np.nan],
            "att_rate": [np.nan] * 4 + [0.125, 0.9],  # 2024's row must not be used
        }
    )
    t = estimator_table(comparison, "zh", truth=truth, dimensions=True)
    by = dict(
        zip(
            zip(
                comparison.estimators["estimator"], comparison.estimators["dimension"], strict=True
            ),
            t["生成器真值"],
            strict=True,
        )
    )
    assert by[("aipw", "any")] == "+12.5%"
    assert by[("ancova_latent", "mean")] == "+0.25"  # (0.1 + 0.2 + 0.3 + 0.4) / 4
    assert by[("ancova_latent", "academic")] == "+0.20"


def test_balance_display_names_and_rounds_the_covariates(comparison):
    bal = comparison.balance
    t = balance_display(comparison, "zh")
    assert len(t) == len(bal)
    assert t["协变量"].iloc[bal.index[bal["covariate"] == "pre_academic"][0]] == "前测：学业辅导"
    assert "班级前测均值" in set(t["协变量"]) and not t["协变量"].str.contains("_").any()
    np.testing.assert_allclose(t["加权前标准化均值差"], bal["smd_before"].round(2))
    np.testing.assert_allclose(t["加权后标准化均值差"], bal["smd_after"].round(2))
    assert list(t["已平衡"]) == ["是" if b else "否" for b in bal["balanced"]]
    assert list(balance_display(comparison, "en").columns)[-1] == "balanced"


def test_guidance_display_rebuilds_the_guidance_in_either_language(comparison):
    g = comparison.guidance
    en = guidance_display(comparison, "en")
    # the stored (English) guidance's diagnostics come back word for word: the overlap facts
    # (mentees trimmed, effective control size) travel with the comparison
    assert list(en["what the data say"]) == list(g["diagnostic"])
    words = {True: "yes", False: "no", None: "not testable"}
    assert list(en["assumption supported"]) == [words[s] for s in g["supported"]]
    zh = guidance_display(comparison, "zh")
    assert (
        zh.set_index("方法").loc["潜在量表上的协方差分析（合理值）", "假设得到支持"] == "无法检验"
    )
    assert zh["数据怎么说"].str.contains("对照组有效样本量").any()


def test_display_tables_of_a_comparison_that_could_not_be_estimated():
    c = Comparison(None, None, None, "aipw", "rate", 3, 200, ["too few mentees"])
    assert estimator_table(c, "zh").empty and list(estimator_table(c, "zh").columns)[0] == "方法"
    assert balance_display(c, "en").empty and guidance_display(c, "en").empty
