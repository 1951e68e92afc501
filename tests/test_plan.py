"""The planner for the target (issue 14 item 7), against closed forms and known truths."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import mentorlib as ml
from mentorlib.cli import main
from mentorlib.errors import InputError
from mentorlib.progress.plan import (
    Design,
    calibrate_items,
    change_mean_for_share,
    normal_items,
    p_met_estimated,
    plan_target,
    share_at_least_k,
    simulate_design,
    students_for_estimate,
    study_design,
)
from mentorlib.rules import rulebook
from mentorlib.scales import cronbach_alpha

RULES = rulebook("primary")


def _rci_closed_form(mu: float, sd: float, rel: float, z: float) -> float:
    """P(change + e > z * SE_diff) in pre-test SD units: true change t ~ N(mu, sd^2) latent SDs
    (sqrt(rel) observed SDs each), error e ~ N(0, 2 (1 - rel)), SE_diff = sqrt(2 (1 - rel))."""
    se_diff = np.sqrt(2.0 * (1.0 - rel))
    return float(
        stats.norm.sf((z * se_diff - mu * np.sqrt(rel)) / np.sqrt(rel * sd**2 + se_diff**2))
    )


def test_items_reach_the_reliability_in_a_simulation():
    # the calibrated items' Cronbach alpha, estimated on 20,000 simulated answers
    m = calibrate_items(0.75, n_items=5, n_categories=4)
    rng = np.random.default_rng(1)
    theta = rng.standard_normal(20000)
    star = 1 / (1 + np.exp(-m.a * (theta[:, None] - m.b[None, :])))
    y = 1 + (rng.random((20000, 5))[:, :, None] < star[:, None, :]).sum(2)
    assert cronbach_alpha(y)["alpha"].iloc[0] == pytest.approx(0.75, abs=0.01)
    # more items of the same quality: Spearman-Brown
    r1 = 0.75 / (5 - 4 * 0.75)
    assert m.reliability(20) == pytest.approx(20 * r1 / (1 + 19 * r1), abs=1e-9)


def test_share_at_least_k_closed_forms():
    # one dimension: the normal tail
    assert share_at_least_k(0.3, sd=0.6, corr=0.5, delta=0.5, k=1, n_dims=1) == pytest.approx(
        stats.norm.sf((0.5 - 0.3) / 0.6), abs=1e-9
    )
    # independent dimensions: binomial
    p = stats.norm.sf((0.5 - 0.2) / 0.7)
    got = share_at_least_k(0.2, sd=0.7, corr=0.0, delta=0.5, k=2, n_dims=4)
    assert got == pytest.approx(stats.binom.sf(1, 4, p), abs=1e-9)
    # correlated: against a Monte Carlo of 400,000 students
    rng = np.random.default_rng(0)
    c = np.full((4, 4), 0.3) + 0.7 * np.eye(4)
    t = 0.1 + 0.6 * rng.standard_normal((400000, 4)) @ np.linalg.cholesky(c).T
    mc = np.mean((t > 0.5).sum(1) >= 1)
    assert share_at_least_k(0.1, sd=0.6, corr=0.3, delta=0.5, k=1, n_dims=4) == pytest.approx(
        mc, abs=0.003
    )
    mu = change_mean_for_share(0.9, sd=0.6, corr=0.3, delta=0.5, k=1, n_dims=4)
    assert share_at_least_k(mu, sd=0.6, corr=0.3, delta=0.5, k=1, n_dims=4) == pytest.approx(0.9)


def test_rci_sensitivity_matches_the_normal_closed_form():
    """One dimension: the simulated certified share = P(change + e > z SE_diff)."""
    for rel, j in ((0.8, 6), (0.7, 12)):
        ds = Design(4000, (normal_items(rel, n_items=j),), 0.6, 0.5, 1, change_sd=0.5)
        s = simulate_design(ds, rules=RULES, n_sims=20, seed=3)
        expected = _rci_closed_form(ds.change_mean(), 0.5, rel, RULES.rci_z)
        se = s["certified_share"].std(ddof=1) / np.sqrt(20)
        assert abs(s["certified_share"].mean() - expected) < 4 * se + 0.002
        assert s["true_share"].mean() == pytest.approx(0.6, abs=0.005)
    # graded-response items: the sum score is not linear in the trait, so only close to it
    ds = Design(4000, (calibrate_items(0.8, n_items=6),), 0.6, 0.5, 1, change_sd=0.5)
    s = simulate_design(ds, rules=RULES, n_sims=10, seed=3)
    expected = _rci_closed_form(ds.change_mean(), 0.5, 0.8, RULES.rci_z)
    assert s["certified_share"].mean() == pytest.approx(expected, abs=0.03)


def test_with_many_items_the_certified_share_approaches_the_true_share():
    """A near-perfect test certifies every true change above 0: with delta = 0 that is the true
    share; the gap shrinks as items are added."""
    m = calibrate_items(0.8, n_items=6)
    gaps = []
    for j in (6, 60, 1500):
        ds = Design(1500, (m.with_items(j),), 0.7, 0.0, 1, change_sd=0.5)
        s = simulate_design(ds, rules=RULES, n_sims=2, seed=5)
        gaps.append(float((s["true_share"] - s["certified_share"]).mean()))
    assert gaps[0] > gaps[1] > gaps[2] > 0
    assert gaps[2] < 0.07
    # the normal model goes all the way: 20,000 items, reliability 0.9999
    ds = Design(1500, (normal_items(0.8, n_items=6).with_items(20000),), 0.7, 0.0, 1, change_sd=0.5)
    s = simulate_design(ds, rules=RULES, n_sims=2, seed=5)
    assert float((s["true_share"] - s["certified_share"]).mean()) == pytest.approx(0, abs=0.03)


def test_plan_is_seeded_and_reports_every_rule():
    kw = dict(n_students=300, n_items=6, reliability=0.8, n_sims=20, n_true_sims=4, search=False)
    a, b = plan_target(seed=4, **kw), plan_target(seed=4, **kw)
    assert a.sims.equals(b.sims) and a.verdicts.equals(b.verdicts)
    c = plan_target(seed=5, **{**kw, "n_true_sims": 0})
    assert not a.sims["certified"].equals(c.sims["certified"])
    assert set(a.verdicts["rule"]) == {"rci_certified", "estimated_true_share"}
    assert a.verdicts["p_met"].between(0, 1).all()
    assert a.settings["delta"] == RULES.true_delta and a.settings["k"] == RULES.k_dimensions
    json.dumps(a.to_json_dict())
    assert ml.plan_target is plan_target


def test_design_search_finds_the_smallest_design():
    res = plan_target(
        n_students=400,
        n_items=4,
        reliability=0.75,
        n_sims=10,
        n_true_sims=0,
        n_design_sims=30,
        max_items=40,
        max_students=800,
        design_share=0.95,
        seed=1,
    )
    d, j = res.design, res.needed["items"]
    items = d.loc[d["axis"] == "items"].set_index("n_items")
    assert j is not None and items.loc[j, "p_met"] >= 0.8
    assert (items.loc[items.index < j, "p_met"] < 0.8).all()
    assert res.needed["reliability"] == pytest.approx(items.loc[j, "reliability"])
    assert items["reliability"].is_monotonic_increasing
    # the RCI rule certifies far less than 85% with 4 items: no sample size is enough
    assert res.needed["students"] is None
    assert "students" in res.notes
    assert any("85.0%" in line for line in res.lines("zh"))


def test_bad_input_is_one_line():
    with pytest.raises(InputError):
        plan_target(n_students=300, n_items=6)  # no reliability
    with pytest.raises(InputError):
        plan_target(n_students=300, n_items=[6, 6], reliability=0.8)
    with pytest.raises(InputError, match="cannot reach"):
        calibrate_items(0.99, n_items=2, n_categories=2)
    with pytest.raises(InputError):
        plan_target(n_students=300, n_items=6, reliability=0.8, k=9)


def test_plan_reads_the_study(primary):
    info = study_design(primary, year=2023)
    assert info["n_students"] > 0 and len(info["n_items"]) == len(primary.rules.dimensions)
    assert all(0.5 < r < 0.95 for r in info["reliability"])
    assert sum(info["category_shares"]) == pytest.approx(1)
    res = plan_target(primary, year=2023, n_sims=5, n_true_sims=2, search=False)
    assert res.settings["n_students"] == info["n_students"]
    assert res.settings["reliability"] == info["reliability"]


def test_cli_plan_json(capsys):
    code = main(
        [
            "plan",
            "--students",
            "300",
            "--items",
            "6",
            "--reliability",
            "0.8",
            "--sims",
            "5",
            "--true-sims",
            "2",
            "--no-search",
            "--json",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["settings"]["n_items"] == [6, 6, 6, 6]
    assert {v["rule"] for v in out["verdicts"]} == {"rci_certified", "estimated_true_share"}
    assert main(["plan", "--students", "300", "--items", "six", "--reliability", "0.8"]) == 2


def test_review_paragraph_prints_the_planners_numbers(primary):
    from mentorlib.labels import Lang
    from mentorlib.report.sections_plan import plan_paragraph, review_plan

    class Analyses:  # what the paragraph reads of PilotAnalyses
        processed, years, seed = primary, (2023,), 0

    p = Analyses()
    zh, en = plan_paragraph(p, Lang("zh"))[0].text, plan_paragraph(p, Lang("en"))[0].text
    res = review_plan(p)
    assert review_plan(p) is res  # one run for every language and version
    v, e = res.verdict("rci_certified"), res.verdict("estimated_true_share")
    assert e["n_sims"] > 0
    for text in (zh, en):
        assert f"{v['mean']:.1%}" in text and f"{res.settings['true_share']:.1%}" in text
        assert f"{e['mean']:.1%}" in text and f"{e['p_met']:.1%}" in text
        if res.needed["items"] is not None:
            assert str(res.needed["items"]) in text
    assert "at least" in en and "可认定" in zh


def test_estimated_true_share_is_unbiased_where_the_deconvolution_is_exact():
    """One dimension, normal measurement error: the deconvolved share centres on the truth
    (while the RCI rule certifies far fewer)."""
    r = plan_target(
        n_students=2000,
        n_items=6,
        reliability=0.8,
        n_dims=1,
        k=1,
        model="normal",
        true_share=0.6,
        n_sims=8,
        n_true_sims=8,
        search=False,
        seed=2,
    )
    est, rci = r.verdict("estimated_true_share"), r.verdict("rci_certified")
    assert abs(est["minus_truth"]) < 0.025
    assert rci["minus_truth"] < -0.2


def test_study_counts_respect_min_cell():
    # a published count and its complement are each 0 or at least min_cell
    from mentorlib.progress.plan import _publishable

    assert _publishable(75, 121, 5) and _publishable(0, 121, 5) and _publishable(121, 121, 5)
    assert not _publishable(117, 121, 5)  # 4 not evaluable could be read off
    assert not _publishable(3, 121, 5)


def test_p_met_of_the_reports_interval_is_the_noncentral_t():
    """Estimates ~ N(p, sigma) and a variance estimate sigma^2 chi2_df / df: the bound of
    est - t_crit sigma_hat lies above the target with the noncentral t's probability."""
    p, sigma, target, alpha, df = 0.90, 0.02, 0.85, 0.05, 5
    est = p + sigma * stats.norm.ppf((np.arange(4000) + 0.5) / 4000)
    got = p_met_estimated(est, sigma, target, alpha, df)
    crit = stats.t.ppf(1 - alpha / 2, df)
    want = stats.nct.sf(crit, df, (p - target) / sigma)
    assert got == pytest.approx(want, abs=0.003)
    assert p_met_estimated(est - 0.2, sigma, target, alpha, df) == 0.0


def test_students_for_the_estimate_reach_the_power():
    rng = np.random.default_rng(0)
    truth = 0.9 + 0.005 * rng.standard_normal(40)
    sims = pd.DataFrame(
        {"true_share": truth, "estimated_share": truth + 0.03 * rng.standard_normal(40)}
    )
    n = students_for_estimate(sims, 500, RULES, 0.8, 5, 20000)
    sigma = float(np.sqrt(np.mean((sims["estimated_share"] - truth) ** 2)))
    z = stats.norm.ppf((np.arange(400) + 0.5) / 400)

    def p_at(m: int) -> float:
        s = sigma * np.sqrt(500 / m)
        centre = float(sims["estimated_share"].mean())
        return p_met_estimated(centre + s * z, s, RULES.target_share, RULES.alpha, 5)

    assert n is not None and 500 < n < 20000
    assert p_at(n) >= 0.8 - 0.01 and p_at(int(n * 0.9)) < 0.8
    # a true share below the target is never shown met
    assert (
        students_for_estimate(
            sims.assign(true_share=0.8, estimated_share=0.8), 500, RULES, 0.8, 5, 20000
        )
        is None
    )


def test_the_planners_estimate_is_the_reports_item_model_and_unbiased_near_the_target():
    """Graded-response items at a true share of 90%: the scale-score deconvolution the planner
    used before averaged 85.7% (its sum scores are not linear in the trait); the report's
    item model (plausible values) centres on each school's truth."""
    r = plan_target(
        n_students=800,
        n_items=6,
        reliability=0.82,
        true_share=0.9,
        n_sims=4,
        n_true_sims=4,
        search=False,
        seed=3,
    )
    est = r.verdict("estimated_true_share")
    assert r.settings["estimator"] == "grm_pv"
    assert abs(est["minus_truth"]) < 0.015 and est["error_sd"] < 0.03
    assert r.needed["students_estimated"] is not None
    text = " ".join(r.lines("en"))
    assert f"{100 * est['minus_truth']:+.1f} points" in text
