"""The estimated share of students who truly progressed (plausible values of the latent change)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mentorlib.progress.true_share import estimated_true_share, share_from_draws
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
    return change, estimated_true_share(items, "assessment_primary", delta=0.5, k=1, m=10, seed=1)


def test_per_dimension_shares_match_the_simulated_truth(fitted):
    change, res = fitted
    assert set(res.as_dict()) == {"estimate", "ci_low", "ci_high", "delta", "k", "method"}
    assert res.method == "grm_pv" and res.n_students == 1000
    per_dim_truth = (change > 0.5).mean()  # about 0.36 in each dimension
    got = res.per_dimension.set_index("dimension")["estimate"]
    assert (got - per_dim_truth.reindex(got.index)).abs().max() < 0.04


@pytest.mark.xfail(
    strict=True,
    reason="known gap: conditioning on the other dimensions' observed scores leaves the draws' "
    "residual changes independent across dimensions, so 'at least 1 of 4' is too high (0.747 vs "
    "0.620 at n = 1,000); needs a joint population model across dimensions (next round)",
)
def test_share_in_at_least_k_dimensions_matches_the_truth(fitted):
    change, res = fitted
    truth = float(((change > 0.5).sum(axis=1) >= 1).mean())
    assert abs(res.estimate - truth) < 0.03


def test_rulebook_carries_the_latent_threshold():
    assert rulebook("primary").true_delta == 0.5
    assert rulebook("middle", {"true_delta": 0.3}).true_delta == 0.3
    assert pd.notna(rulebook("primary").true_delta)
