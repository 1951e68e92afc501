"""Tests of mentorlib.effectiveness.figures on small hand-made tables."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from mentorlib import effectiveness as E
from mentorlib.errors import InputError


@pytest.fixture
def effects():
    rng = np.random.default_rng(0)
    e = pd.DataFrame({"mentor_id": [f"T{i}" for i in range(12)], "effect": rng.normal(size=12)})
    return e.assign(se=0.3, ci_low=e["effect"] - 0.6, ci_high=e["effect"] + 0.6)


def _dose() -> E.DoseResponse:
    v = np.linspace(0.2, 1.6, 25)
    curve = pd.DataFrame({"exposure": "talk", "value": v, "predicted": 0.3 + 0.1 * v}).assign(
        ci_low=lambda d: d["predicted"] - 0.05, ci_high=lambda d: d["predicted"] + 0.05
    )
    observed = pd.DataFrame(
        {"exposure": "talk", "bin": ["a", "b"], "value": [0.5, 1.2], "n": [40, 50]}
    ).assign(mean=[0.35, 0.42], ci_low=[0.22, 0.29], ci_high=[0.5, 0.56])
    return E.DoseResponse("improved_any", "gee", pd.DataFrame(), curve, observed, 90, 12, k=1)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_figure_in_both_languages(effects, lang):
    cmp = effects.assign(naive=effects["effect"] * 0.5, n_mentees=3, band_changed=False)
    figs = [
        E.plot_caterpillar(effects, lang=lang, confidence=0.9),
        E.plot_naive_vs_shrunk(cmp, lang=lang),
        E.plot_dose_response(_dose(), lang=lang),
    ]
    assert all(isinstance(f, Figure) for f in figs)
    ylabel = figs[0].axes[0].get_ylabel()
    assert "90%" in ylabel  # the level drawn, not a fixed 95%
    assert ("区间" in ylabel) == (lang == "zh")
    for f in figs:
        plt.close(f)


def test_unknown_language_is_an_error(effects):
    with pytest.raises(InputError, match="lang"):
        E.plot_caterpillar(effects, lang="de")
    with pytest.raises(InputError, match="lang"):
        E.plot_dose_response(_dose(), lang="english")
