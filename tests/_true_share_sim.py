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
    selected: tuple[float, float] | None = None,
):
    """Long items of one year (4 dimensions, 6 items each) and the per-student true changes.

    Pre traits correlate 0.5 across dimensions, true changes ``change_corr`` (one number, or a
    D x D correlation matrix for unequal correlations); reverse-keyed items are recorded as
    6 - answer, as on the paper form. ``level`` picks the item table (:func:`item_table`).
    ``selected = (share, shift)``: the ``share`` of students with the lowest observed pre-test
    (the sum of their pre answers over all items, as a class teacher reads the test) is flagged
    and their true change is raised by ``shift`` in every dimension (the middle school's
    nominated mentees); the changes' ``attrs["flagged"]`` holds their IDs.
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
    ids = np.array([f"S{i:05d}" for i in range(n)])

    def answers(theta: np.ndarray, it) -> np.ndarray:
        b = it[["b1", "b2", "b3", "b4"]].to_numpy(dtype=float)
        cum = np.cumsum(grm_probabilities(it["a"], b, theta), axis=1)
        return 1 + (rng.random(n)[:, None] > cum).sum(axis=1)

    rows = list(table.iterrows())
    flagged = np.zeros(n, dtype=bool)
    if selected is None:  # pre and post answers item by item (the draws of earlier versions)
        post = pre + change
        waves = []
        for _, it in rows:
            k = dims.index(it["dimension"])
            waves.append((answers(pre[:, k], it), answers(post[:, k], it)))
    else:  # every pre answer first: the nomination reads the observed pre-test
        pre_y = [answers(pre[:, dims.index(it["dimension"])], it) for _, it in rows]
        observed = np.sum(pre_y, axis=0)
        flagged[np.argsort(observed, kind="stable")[: round(selected[0] * n)]] = True
        change = change + selected[1] * flagged[:, None]
        post = pre + change
        waves = [
            (y, answers(post[:, dims.index(it["dimension"])], it))
            for (_, it), y in zip(rows, pre_y, strict=True)
        ]
    frames = []
    for (_, it), (y_pre, y_post) in zip(rows, waves, strict=True):
        for wave, y in (("pre", y_pre), ("post", y_post)):
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
    out = pd.DataFrame(change, index=ids, columns=dims)
    out.attrs["flagged"] = pd.Index(ids[flagged])
    return pd.concat(frames, ignore_index=True), out
