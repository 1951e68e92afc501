"""Simulated assessment items with known latent change (numpy only, not mentorlib.synth)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from mentorlib.progress.irt import grm_probabilities
from mentorlib.synth import generate

TRUTH = "data/sample/truth/items.parquet"


@lru_cache
def item_table(level: str = "primary") -> pd.DataFrame:
    """The generator's item parameters: the sample study's (primary), or those of a small
    middle-school study made by mentorlib.synth (seed 0)."""
    if level == "primary":
        return pd.read_parquet(TRUTH)
    return generate(level=level, n_students=200, seed=0).truth["items"]


def simulate_items(
    n: int,
    seed: int,
    mean_change: float = 0.35,
    change_sd: float = 0.4,
    *,
    change_corr: float | np.ndarray = 0.6,
    level: str = "primary",
):
    """Long items of one year (4 dimensions, 6 items each) and the per-student true changes.

    Pre traits correlate 0.5 across dimensions, true changes ``change_corr`` (one number, or a
    D x D correlation matrix for unequal correlations); reverse-keyed items are recorded as
    6 - answer, as on the paper form. ``level`` picks the item table (:func:`item_table`).
    """
    rng = np.random.default_rng(seed)
    table = item_table(level)
    dims = list(dict.fromkeys(table["dimension"]))
    d = len(dims)
    c_pre = 0.5 * np.ones((d, d)) + 0.5 * np.eye(d)
    c_chg = (
        np.asarray(change_corr, dtype=float)
        if np.ndim(change_corr)
        else change_corr * np.ones((d, d)) + (1 - change_corr) * np.eye(d)
    )
    pre = rng.multivariate_normal(np.zeros(d), c_pre, size=n)
    change = mean_change + change_sd * rng.multivariate_normal(np.zeros(d), c_chg, size=n)
    post = pre + change
    ids = np.array([f"S{i:05d}" for i in range(n)])
    frames = []
    for _, it in table.iterrows():
        k = dims.index(it["dimension"])
        b = it[["b1", "b2", "b3", "b4"]].to_numpy(dtype=float)
        for wave, theta in (("pre", pre[:, k]), ("post", post[:, k])):
            cum = np.cumsum(grm_probabilities(it["a"], b, theta), axis=1)
            y = 1 + (rng.random(n)[:, None] > cum).sum(axis=1)
            frames.append(
                pd.DataFrame(
                    {
                        "student_id": ids,
                        "year": 2024,
                        "wave": wave,
                        "dimension": it["dimension"],
                        "item": it["var"],
                        "value": np.where(it["reverse"], 6 - y, y),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True), pd.DataFrame(change, index=ids, columns=dims)
