"""The anchored graded-response model: a known answer (mirt), parameter recovery, reverse keys."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from mentorlib.progress.irt import fit_grm, grm_probabilities, prepare_dimension

TRUTH = "data/sample/truth/items.parquet"
RESULTS = Path(__file__).parent / "results"


def simulate(a, b, theta, rng):
    out = np.empty((len(theta), len(a)), dtype=np.int64)
    for j in range(len(a)):
        cum = np.cumsum(grm_probabilities(a[j], b[j], theta), axis=1)
        out[:, j] = (rng.random(len(theta))[:, None] > cum).sum(axis=1)
    return out


def test_one_wave_grm_matches_mirt_on_its_science_data():
    # Known answer: mirt 1.47's own unit test (test-02-mirtTwo.R) prints the graded-response
    # fit of its Science data (4 items x 4 categories, n = 392) to 3 decimals; same model as
    # ours with post=None: theta ~ N(0, 1), 61 nodes on [-6, 6], logistic metric without D.
    ref = json.loads((RESULTS / "mirt_science_grm.json").read_text())
    data = pd.read_csv(RESULTS / "mirt_science.csv")[ref["items"]]
    fit = fit_grm(data.to_numpy() - 1)
    assert fit.converged
    # the converged reference (SEM run, TOL 1e-5) and mirt's default run (TOL 1e-4, Ramsay
    # acceleration, which stops early on the flat Future slope: a = 2.296 against 2.300)
    for run in (ref, ref["default_fit"]):
        a = np.array(run["a1"])
        b = -np.array(run["d"]) / a[:, None]  # mirt's coef(..., IRTpars = TRUE)
        # 2 decimals: observed max |difference| 0.0002 (a) and 0.0009 (b) against the SEM run
        np.testing.assert_allclose(fit.a, a, rtol=0, atol=0.005)
        np.testing.assert_allclose(fit.b, b, rtol=0, atol=0.005)


def test_parameters_are_recovered_from_two_anchored_waves():
    # The generator's own item table (moral items), simulated here with numpy: n = 5,000.
    items = pd.read_parquet(TRUTH)
    items = items[items["dimension"] == "moral"]
    a = items["a"].to_numpy()
    b = items[["b1", "b2", "b3", "b4"]].to_numpy()
    rng = np.random.default_rng(11)
    n = 5000
    pre = rng.normal(size=n)
    post = 0.4 + 1.1 * (0.7 * pre + np.sqrt(1 - 0.49) * rng.normal(size=n))
    fit = fit_grm(simulate(a, b, pre, rng), simulate(a, b, post, rng))
    # Standard errors at n = 5,000 over two waves are about 0.03-0.05 (a) and 0.02-0.08 (b,
    # largest for the rare lowest category); 0.15 is about three SEs of the worst parameter.
    assert np.abs(fit.a - a).max() < 0.15
    assert np.abs(fit.b - b).max() < 0.15
    assert abs(fit.mu_post - 0.4) < 0.05 and abs(fit.sd_post - 1.1) < 0.05
    assert abs(fit.rho - 0.7) < 0.03


def test_reverse_keyed_items_are_recoded_and_unused_categories_collapsed():
    rows = []
    for sid, (v1, v5) in {"s1": (1, 5), "s2": (2, 4), "s3": (5, 1)}.items():
        for wave in ("pre", "post"):
            rows += [
                (sid, 2024, wave, "moral", "moral_1", v1),
                (sid, 2024, wave, "moral", "moral_5", v5),
            ]
    items = pd.DataFrame(rows, columns=["student_id", "year", "wave", "dimension", "item", "value"])
    dd = prepare_dimension(items, "assessment_primary", "moral")
    j1, j5 = dd.items.index("moral_1"), dd.items.index("moral_5")  # moral_5 is reverse-keyed
    assert dd.pre[:, j1].tolist() == dd.pre[:, j5].tolist() == [0, 1, 2]
    assert dd.n_categories[j1] == 3 and (dd.pre[:, dd.items.index("moral_2")] == -1).all()
