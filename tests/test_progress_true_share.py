"""The estimated share of students who truly progressed (plausible values of the latent change)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mentorlib.errors import InputError
from mentorlib.progress.pv_sampler import (
    EIG_FLOOR,
    MIN_CHANGE_SD,
    _draw_pair,
    conditional_pair,
    population_update,
)
from mentorlib.progress.true_share import (
    bootstrap_interval,
    estimated_true_share,
    share_from_draws,
)
from mentorlib.rules import rulebook
from tests._true_share_sim import simulate_items


def test_rubin_interval_without_between_variance_is_the_binomial_one():
    hit = np.zeros((5, 100), dtype=bool)
    hit[:, :30] = True
    est, lo, hi = share_from_draws(hit)
    assert est == pytest.approx(0.3)
    assert hi - est == pytest.approx(est - lo)
    assert (hi - est) == pytest.approx(1.96 * np.sqrt(0.3 * 0.7 / 100), rel=0.02)


@pytest.fixture(scope="module")
def fitted():
    items, change = simulate_items(n=1000, seed=3)
    return change, estimated_true_share(
        items, "assessment_primary", delta=0.5, k=1, m=10, seed=1, n_boot=0
    )


def test_per_dimension_shares_match_the_simulated_truth(fitted):
    change, res = fitted
    assert set(res.as_dict()) == {"estimate", "ci_low", "ci_high", "delta", "k", "method"}
    assert res.method == "grm_pv" and res.n_students == 1000
    per_dim_truth = (change > 0.5).mean()  # about 0.36 in each dimension
    got = res.per_dimension.set_index("dimension")["estimate"]
    # about two standard errors of a dimension's share at n = 1,000 (interval half-width ~0.05)
    assert (got - per_dim_truth.reindex(got.index)).abs().max() < 0.05


def test_share_in_at_least_k_dimensions_matches_the_truth(fitted):
    # True changes correlate 0.6 across the four dimensions. Drawing each dimension on its own
    # lost that correlation and gave 0.747 for a truth of 0.620; the joint population model
    # gives 0.626. One seeded school: the bias over replications (a few points at n = 400, where
    # the change's covariances are weakly identified) is measured in
    # benchmarks/bench_true_share.py.
    change, res = fitted
    truth = float(((change > 0.5).sum(axis=1) >= 1).mean())
    assert abs(res.estimate - truth) < 0.02
    assert res.ci_low <= truth <= res.ci_high


def test_degenerate_dimension_does_not_collapse_the_change():
    # Habits answered identically at both waves: its fitted pre-post correlation tends to 1.
    # The pooled prior keeps the change SD at least the floor, so the joint model still fits
    # and the other dimensions' shares are unaffected.
    items, change = simulate_items(n=300, seed=5)
    hab = items["dimension"] == "habits"
    pre = items[hab & (items["wave"] == "pre")].set_index(["student_id", "item"])["value"]
    post_rows = hab & (items["wave"] == "post")
    keys = pd.MultiIndex.from_frame(items.loc[post_rows, ["student_id", "item"]])
    items.loc[post_rows, "value"] = pre.reindex(keys).to_numpy()
    res = estimated_true_share(items, "assessment_primary", delta=0.5, k=1, m=6, seed=2, n_boot=0)
    per_dim = res.per_dimension.set_index("dimension")
    assert np.isfinite(res.estimate) and res.ci_low < res.estimate < res.ci_high
    assert per_dim.loc["habits", "estimate"] < 0.15  # no change is what the answers show
    others = per_dim.drop(index="habits")["estimate"]
    truth = (change > 0.5).mean().reindex(others.index)
    assert (others - truth).abs().max() < 0.15  # about 2.5 standard errors at n = 300
    widths = (per_dim["ci_high"] - per_dim["ci_low"]).drop(index="habits")
    assert widths.min() > 0.05  # the others keep honest intervals


def test_bootstrap_interval_is_wider_than_rubin_and_covers_the_truth():
    # Rubin's rules over the plausible values ignore the population model's uncertainty (the
    # change covariances are weakly identified at n = 400): the quick benchmark's Rubin
    # intervals covered 33-67% of schools. The student bootstrap re-estimates the population
    # model per replicate; its interval must be wider and cover this seeded school's truth.
    items, change = simulate_items(n=400, seed=3)
    truth = float(((change > 0.5).sum(axis=1) >= 1).mean())
    kw = {"delta": 0.5, "k": 1, "m": 6, "seed": 4}
    old = estimated_true_share(items, "assessment_primary", n_boot=0, **kw)
    new = estimated_true_share(items, "assessment_primary", n_boot=12, **kw)
    assert old.method == "grm_pv" and new.method == "grm_pv_boot"
    assert new.estimate == old.estimate  # the bootstrap changes the interval, not the estimate
    assert new.ci_high - new.ci_low > old.ci_high - old.ci_low
    assert new.ci_low <= truth <= new.ci_high
    widths = new.per_dimension["ci_high"] - new.per_dimension["ci_low"]
    assert (widths > 0.05).all()


def test_bootstrap_interval_adds_the_monte_carlo_variance():
    hit = np.zeros((4, 100), dtype=bool)
    hit[:, :30] = True  # no between-draw spread
    boot = np.array([[0.28, 0.30], [0.32, 0.30], [0.30, 0.29], [0.31, 0.31]])
    est, lo, hi = bootstrap_interval(hit, boot)
    sd = boot.mean(axis=1).std(ddof=1)
    assert est == pytest.approx(0.3)
    assert hi - est == pytest.approx(stats.t.ppf(0.975, 3) * sd)


def test_bootstrap_interval_adds_the_realised_shares_posterior_variance():
    # draws whose shares differ: the between-draw variance enters with (1 + 1/m), the
    # posterior variance of the share among these students plus the Monte Carlo variance
    hit = np.zeros((4, 100), dtype=bool)
    for i, n_hit in enumerate([26, 30, 30, 34]):
        hit[i, :n_hit] = True
    boot = np.array([[0.28, 0.30], [0.32, 0.30], [0.30, 0.29], [0.31, 0.31]])
    est, lo, hi = bootstrap_interval(hit, boot)
    between = np.var([0.26, 0.30, 0.30, 0.34], ddof=1)
    total = boot.mean(axis=1).var(ddof=1) + (1 + 1 / 4) * between
    assert est == pytest.approx(0.3)
    assert hi - est == pytest.approx(stats.t.ppf(0.975, 3) * np.sqrt(total))


def test_joint_sampler_floors_the_conditional_change_variance():
    cov = np.array([[1.0, 1.0], [1.0, 1.0]])  # a collapsed pair: change variance 0
    _, _, cov2 = conditional_pair(cov, [0, 1])
    assert cov2[0, 0] + cov2[1, 1] - 2 * cov2[0, 1] >= (MIN_CHANGE_SD / 2) ** 2 - 1e-12
    assert np.linalg.eigvalsh(cov2).min() > 0


def test_rulebook_carries_the_latent_threshold():
    assert rulebook("primary").true_delta == 0.5
    assert rulebook("middle", {"true_delta": 0.3}).true_delta == 0.3
    assert pd.notna(rulebook("primary").true_delta)


def test_population_covariance_is_floored_so_the_gibbs_step_stays_stable():
    # a near-singular covariance (what the stochastic EM reached before the floor): the Gibbs
    # regression of one pair on the others had weights summing to 80+ and the draws exploded
    rng = np.random.default_rng(0)
    z = rng.normal(size=(300, 4))
    z[:, 1] = z[:, 0] + 1e-3 * rng.normal(size=300)
    z[:, 3] = z[:, 2] + 1e-3 * rng.normal(size=300)
    x = np.ones((300, 1))
    _, cov = population_update(z, x, np.eye(4) * 1e-6)
    assert np.linalg.eigvalsh(cov).min() >= EIG_FLOOR - 1e-12
    _, reg, _ = conditional_pair(cov, [0, 1])
    assert np.abs(reg).sum(axis=1).max() < 25


def test_school_where_the_change_variance_used_to_explode():
    # seed 3 at n = 400: before the eigenvalue floor the change SD went 0.4 -> 0.9 and "at
    # least one of four" came out 16 points above the school's realised share
    items, change = simulate_items(n=400, seed=3)
    res = estimated_true_share(items, "assessment_primary", m=10, seed=3, n_boot=0)
    realised = float(((change > 0.5).sum(axis=1) >= 1).mean())
    assert abs(res.estimate - realised) < 0.08


def test_grid_draws_keep_the_posterior_variance_of_the_change():
    # With no answers the posterior of (pre, post) is the conditional normal itself, so the
    # draws' change variance must be its 1 + 1 - 2 x 0.8 = 0.4. The nodes are a quadrature of
    # the density; a uniform jitter within the cell (an earlier version) added width^2 / 12
    # per latent, +0.029 here (7%), and pushed "at least one of four" up ~0.8 points.
    fit = SimpleNamespace(a=np.array([1.0]), b=[np.array([0.0, 1.0])])
    cov2 = np.array([[1.0, 0.8], [0.8, 1.0]])
    rng = np.random.default_rng(7)
    n = 20_000
    resp = (np.full((n, 1), -1), np.full((n, 1), -1))
    approx = [np.column_stack([np.zeros(n), np.full(n, 0.01)])] * 2
    draws = np.vstack(
        [_draw_pair(resp, fit, approx, np.zeros((n, 2)), cov2, rng) for _ in range(10)]
    )
    change_var = float(np.var(draws[:, 1] - draws[:, 0]))
    assert change_var == pytest.approx(0.4, rel=0.02)  # ~5 standard errors from 0.429
    assert np.var(draws[:, 0]) == pytest.approx(1.0, rel=0.02)


def test_sample_calibrates_items_on_everyone_and_estimates_the_sample(fitted):
    # The middle school: every student assessed, a few mentored. The item parameters come from
    # all 1,000 students (the same fits as without ``sample``); the share is the sample's.
    change, full = fitted
    items, _ = simulate_items(n=1000, seed=3)
    sample = change.index[:300]
    res = estimated_true_share(
        items, "assessment_primary", delta=0.5, k=1, m=10, seed=1, n_boot=0, sample=sample
    )
    assert res.n_students == 300
    for d, f in full.fits.items():  # calibrated on everyone: identical item parameters
        np.testing.assert_allclose(res.fits[d].a, f.a)
        np.testing.assert_allclose(res.fits[d].b, f.b)
    truth = float(((change.loc[sample] > 0.5).sum(axis=1) >= 1).mean())
    assert res.ci_low <= truth <= res.ci_high
    assert abs(res.estimate - truth) < 0.06  # ~2 SE of a share among 300 students


def test_sample_without_answers_is_a_one_line_error():
    items, _ = simulate_items(n=200, seed=4)
    with pytest.raises(InputError, match="none of the sample"):
        estimated_true_share(
            items, "assessment_primary", m=2, n_boot=0, sample=pd.Index(["nobody"])
        )
