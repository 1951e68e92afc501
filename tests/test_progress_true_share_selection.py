"""The selection-aware model of a middle school's nominated mentees (issue 14 item 1): every
student assessed, the lowest observed pre-tests nominated, the flag in the post-test means."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mentorlib.errors import InputError
from mentorlib.progress.pv_sampler import population_update, restricted_coef
from mentorlib.progress.true_share import estimated_true_share
from tests._true_share_sim import simulate_items


def _selected_pairs(n: int, seed: int, *, b: float, tau: float):
    """(pre, post) latents of one dimension; the lowest 25% of an error-laden pre-test score
    flagged (selection on the observed, not the true, pre-test) and their post raised by tau."""
    rng = np.random.default_rng(seed)
    pre = rng.normal(0.0, 1.0, n)
    observed = pre + rng.normal(0.0, 0.7, n)
    flag = (observed < np.quantile(observed, 0.25)).astype(float)
    post = 0.3 + b * pre + tau * flag + rng.normal(0.0, 0.5, n)
    return np.column_stack([pre, post]), np.column_stack([np.ones(n), flag])


def test_restricted_coefficients_recover_the_flags_effect_given_the_pre_test():
    # closed form: post = 0.3 + b pre + tau flag + e with pre ~ N(0, 1) for everyone, so the
    # post-test mean of the unflagged-equivalent is 0.3 + b E[pre] and the flag's shift is tau
    z, x = _selected_pairs(200_000, 1, b=0.8, tau=0.4)
    post_only = np.array([False, True])
    coef = restricted_coef(z, x, post_only)
    assert coef[1, 0] == 0.0  # the flag does not move the pre-test mean
    assert coef[0, 0] == pytest.approx(z[:, 0].mean(), abs=1e-12)
    assert coef[1, 1] == pytest.approx(0.4, abs=0.01)
    assert coef[0, 1] == pytest.approx(0.3 + 0.8 * z[:, 0].mean(), abs=0.01)
    # per-column OLS reads the flagged students' lower pre-test as a post-test effect
    naive = np.linalg.lstsq(x, z, rcond=None)[0]
    gap = z[x[:, 1] == 1, 0].mean() - z[x[:, 1] == 0, 0].mean()
    assert naive[1, 1] == pytest.approx(0.4 + 0.8 * gap, abs=0.01) and gap < -0.8


def test_population_update_conditional_mean_is_the_generating_regression():
    z, x = _selected_pairs(200_000, 2, b=0.6, tau=-0.3)
    coef, cov = population_update(z, x, np.eye(2), np.array([False, True]))
    slope = cov[0, 1] / cov[0, 0]
    assert slope == pytest.approx(0.6, abs=0.01)
    # E[post | pre, flag] implied by the joint normal = 0.3 + 0.6 pre - 0.3 flag
    implied = coef[0, 1] + coef[1, 1] + slope * (1.0 - coef[0, 0])
    assert implied == pytest.approx(0.3 + 0.6 - 0.3, abs=0.02)
    np.testing.assert_allclose(
        population_update(z, x, np.eye(2))[0], np.linalg.lstsq(x, z, rcond=None)[0]
    )


@pytest.fixture(scope="module")
def nominated():
    items, change = simulate_items(800, 7, mean_change=0.2, selected=(0.25, 0.3))
    flagged = change.attrs["flagged"]
    truth = float(((change.loc[flagged] > 0.5).sum(axis=1) >= 1).mean())
    kw = {"m": 6, "seed": 1, "n_boot": 0}
    aware = estimated_true_share(items, "assessment_primary", treated=flagged, **kw)
    naive = estimated_true_share(items, "assessment_primary", sample=flagged, **kw)
    return truth, aware, naive, flagged


def test_selection_aware_share_of_nominees_matches_the_truth(nominated):
    # 200 nominees on the lowest observed pre-tests: a model of the nominees alone reads their
    # low observed scores (partly bad luck on the day) as their level and overstates their
    # change; fitted on everyone with the flag in the post-test means, the share is unbiased
    truth, aware, naive, flagged = nominated
    assert aware.n_students == len(flagged) == 200
    assert abs(aware.estimate - truth) < 0.06  # ~2 SE among 200 students
    assert naive.estimate - truth > aware.estimate - truth


def test_selection_aware_needs_both_groups():
    items, change = simulate_items(150, 8)
    with pytest.raises(InputError, match="flagged and unflagged"):
        estimated_true_share(
            items, "assessment_primary", m=2, n_boot=0, treated=pd.Index(change.index)
        )
