"""The verdict, its breakdowns and its firmness (mentorlib.progress.verdict)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mentorlib import progress
from mentorlib.data import from_synth
from mentorlib.errors import InputError
from mentorlib.progress.verdict import bootstrap_interval, bootstrap_rates, bootstrap_rates_ks

from _progress_fixtures import primary_report


@pytest.fixture(scope="module")
def report(primary_study):
    return primary_report(primary_study)


def test_bootstrap_decides_the_verdict(report, primary_study):
    v = report.verdict.set_index("rule")
    for rule in progress.RULES:
        r = v.loc[rule]
        assert r["interval_method"] == "bootstrap_percentile_mentor"
        assert r["ci_low"] < r["proportion"] < r["ci_high"]
        assert r["ci_low"] <= r["lower_bound"] <= r["ci_high"]
        assert r["verdict"] in progress.VERDICTS
        # one method: its p-value and its bound tell the same story
        assert (r["p_value"] < report.alpha) == (r["lower_bound"] > report.target)
        # the binomial (threshold as known) columns are kept, clearly named
        assert r["binomial_ci_low"] < r["proportion"] < r["binomial_ci_high"]
        assert 0 <= r["exact_p_value"] <= 1
    s = report.summary_dict()
    assert s["ci_low"] == pytest.approx(v.loc["evaluable_only", "ci_low"])
    assert s["interval_method"] == "bootstrap_percentile_mentor"
    P = from_synth(primary_study)
    again = progress.progress_report(P, 2024, n_boot=1000, seed=0)
    assert again.verdict["ci_low"].tolist() == report.verdict["ci_low"].tolist()
    none = progress.progress_report(P, 2024, n_boot=0)
    assert none.verdict["interval_method"].eq("wilson").all()
    assert "binomial_ci_low" not in none.verdict
    assert none.summary_dict()["binomial_ci_low"] is None
    mid = progress.progress_report(
        P, 2024, definition="mid", n_boot=200, sd_by="grade", boot_interval="bca"
    )
    assert mid.verdict["interval_method"].eq("bootstrap_bca_mentor").all()
    assert mid.verdict["ci_low"].notna().all()
    with pytest.raises(InputError, match="cluster"):
        progress.progress_report(P, 2024, n_boot=10, boot_cluster="class")


def test_one_method_decides_every_verdict_of_a_report(report, primary_study):
    """Issue 14 item 2: the sensitivity table's rows and the trend's years are decided by the
    headline's bootstrap, and a year's trend row is that year's own headline verdict."""
    s = report.sensitivity
    assert s["interval_method"].eq("bootstrap_percentile_mentor").all()
    assert (s["ci_low"] <= s["lower_bound"]).all() and (s["lower_bound"] <= s["proportion"]).all()
    # the binomial interval, kept beside it, is another interval (threshold taken as known)
    assert (s["ci_low"] != s["binomial_ci_low"]).all()
    head = s.loc[s["definition"].eq("rci_data") & s["k"].eq(1)].set_index("rule")
    v = report.verdict.set_index("rule")
    cols = ["ci_low", "ci_high", "lower_bound", "p_value", "verdict"]
    pd.testing.assert_frame_equal(head.loc[list(progress.RULES), cols], v.loc[:, cols])
    # a row's verdict follows its own bound: 'met' only when the bound clears the target
    for r in s.itertuples(index=False):
        assert (r.verdict == "met") == (r.lower_bound > report.target)
        assert (r.p_value < report.alpha) == (r.lower_bound > report.target)
    P = from_synth(primary_study)
    tr = report.trend.set_index("year")
    assert tr["interval_method"].eq("bootstrap_percentile_mentor").all()
    for year in (2023, 2025):
        own = progress.progress_report(P, year, true_share=False, comparison=False)
        h = own.headline_row()
        assert tr.loc[year, ["ci_low", "ci_high", "verdict"]].tolist() == [
            h["ci_low"],
            h["ci_high"],
            h["verdict"],
        ]
    # without a bootstrap the binomial interval decides everywhere, as year_verdict gives it
    none = progress.progress_report(P, 2024, n_boot=0, true_share=False, comparison=False)
    assert none.sensitivity["interval_method"].eq("wilson").all()
    assert none.trend["interval_method"].eq("wilson").all()
    wilson = progress.year_verdict(none.per_student, k=1).set_index("rule")
    ns = none.sensitivity
    row = ns.loc[ns["definition"].eq("rci_data") & ns["k"].eq(1)].set_index("rule")
    assert row.loc["evaluable_only", "ci_low"] == pytest.approx(
        wilson.loc["evaluable_only", "ci_low"]
    )


def test_several_k_from_one_pass_equal_one_k_at_a_time():
    """bootstrap_rates_ks: each k's replicates are bootstrap_rates' with the same seed."""
    rng = np.random.default_rng(3)
    N, D = 240, 4
    pre = rng.normal(3.5, 0.6, (N, D))
    post = pre + rng.normal(0.25, 0.5, (N, D))
    post[rng.random((N, D)) < 0.05] = np.nan
    ch = pd.DataFrame(
        {
            "dimension": np.tile([f"d{j}" for j in range(D)], N),
            "pre": pre.ravel(),
            "post": post.ravel(),
            "direction": "up",
            "definition": "rci",
            "reliability": 0.8,
        }
    )
    args = (ch, np.zeros(N, dtype=int), np.ones(N, dtype=bool), None)
    clusters = np.repeat(np.arange(N // 6), 6).astype(object)
    kw = {"n_boot": 150, "seed": 9, "z": 1.96, "mid": 0.5, "clusters": clusters}
    many = bootstrap_rates_ks(*args, ks=(1, 2, 3), **kw)
    for k in (1, 2, 3):
        one = bootstrap_rates(*args, k=k, **kw)
        for rule in progress.RULES:
            np.testing.assert_array_equal(many[k][rule], one[rule])
    # more dimensions required, fewer students progress, replicate by replicate
    assert (many[1]["evaluable_only"] >= many[2]["evaluable_only"]).all()
    assert (many[2]["evaluable_only"] > many[3]["evaluable_only"]).any()


def _reps(rng, B=400):
    return {"evaluable_only": rng.normal(0.86, 0.01, B)}


@pytest.mark.parametrize("bca", [False, True])
def test_bootstrap_p_value_inverts_the_bound(bca):
    # p < alpha exactly when the lower bound is above the target, over a grid of targets
    # and levels, for the percentile and the BCa interval (skewed jackknife: a != 0)
    rng = np.random.default_rng(1)
    reps = _reps(rng)
    est = {"evaluable_only": 0.862} if bca else None
    jack = {"evaluable_only": rng.gamma(2.0, 0.001, 60)} if bca else None
    for a in (0.01, 0.05, 0.1):
        for target in np.linspace(0.82, 0.90, 161):
            t = bootstrap_interval(reps, a, target=target, estimate=est, jackknife=jack)
            r = t.iloc[0]
            assert (r["boot_p_value"] < a) == (r["boot_lower_bound"] > target), (a, target)
            assert 0 <= r["boot_p_value"] <= 1


def test_percentile_interval_closed_forms():
    # the replicates 1..100 / 100: order statistics and the share at or below the target
    reps = {"evaluable_only": np.arange(1, 101) / 100}
    t = bootstrap_interval(reps, 0.1, target=0.305).iloc[0]
    assert t["boot_lower_bound"] == 0.10 and t["boot_ci_low"] == 0.05
    assert t["boot_ci_high"] == 0.95 and t["boot_p_value"] == pytest.approx(0.30)
    # BCa with no bias (estimate at the median) and no skew (symmetric jackknife) is the
    # percentile interval
    jack = {"evaluable_only": np.array([-1.0, 0.0, 1.0])}
    b = bootstrap_interval(
        reps, 0.1, target=0.305, estimate={"evaluable_only": 0.505}, jackknife=jack
    ).iloc[0]
    assert b[["boot_ci_low", "boot_ci_high", "boot_lower_bound"]].tolist() == [0.05, 0.95, 0.10]
    assert b["boot_p_value"] == pytest.approx(0.30)


def _clustered_school(rng, G=30, m=10, tau=0.6, sigma=0.8):
    """One dimension, MID rule (threshold = 0.5 x pre-test SD): change = cluster effect +
    noise, so the population rate is 1 - Phi(0.5 / sqrt(tau^2 + sigma^2)) exactly."""
    N = G * m
    clusters = np.repeat(np.arange(G), m)
    pre = rng.normal(0, 1, N)
    post = pre + rng.normal(0, tau, G)[clusters] + rng.normal(0, sigma, N)
    ch = pd.DataFrame(
        {
            "dimension": "d",
            "pre": pre,
            "post": post,
            "direction": "up",
            "definition": "mid",
            "reliability": np.nan,
        }
    )
    return ch, clusters.astype(str)


def test_cluster_bootstrap_covers_a_clustered_rate():
    # known truth: the rate of a school whose changes share a cluster effect (ICC 0.36 of
    # the change, design effect about 2.5); resampling clusters covers near 95%, resampling
    # students (the pre-issue-14 interval) does not
    from scipy import stats

    truth = float(stats.norm.sf(0.5 / 1.0))
    rng = np.random.default_rng(14)
    hit = {"mentor": 0, "student": 0}
    n_sch = 120
    for i in range(n_sch):
        ch, cl = _clustered_school(rng)
        N = len(ch)
        for how in hit:
            reps = bootstrap_rates(
                ch,
                np.zeros(N),
                np.ones(N, bool),
                None,
                k=1,
                n_boot=300,
                seed=i,
                z=1.96,
                mid=0.5,
                clusters=cl if how == "mentor" else None,
            )
            t = bootstrap_interval(reps, 0.05).set_index("rule").loc["evaluable_only"]
            hit[how] += t["boot_ci_low"] <= truth <= t["boot_ci_high"]
    assert 0.88 <= hit["mentor"] / n_sch <= 0.99, hit
    assert hit["student"] / n_sch < 0.85, hit


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
