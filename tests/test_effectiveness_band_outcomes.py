"""The mentees' change by their mentor's award band (issue 15 item 3: the figure for 1-2
mentees a mentor, in place of the caterpillar): closed-form t intervals on a hand-made table,
suppression at min_cell (with the complement), the figure, and the annual summary's block."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mentorlib import effectiveness as E
from mentorlib.data import from_synth
from mentorlib.labels import Lang
from mentorlib.report.document import Figure
from mentorlib.report.sections_mentors import _band_outcome_blocks
from mentorlib.rules import rulebook

matplotlib.use("Agg")

RULES = rulebook("middle")


def _hand():
    """Mentors a1, a2 (band A), b1..b3 (B), c1 (C), d1 (D), x1 (no band); changes known."""
    changes = {
        "a1": [0.5, 0.7],
        "a2": [0.3, 0.9, 0.6],
        "b1": [0.1, 0.2],
        "b2": [0.0, 0.4],
        "b3": [-0.1, 0.3],
        "c1": [0.2, -0.2],
        "d1": [0.0, -0.3],
        "x1": [0.4],
    }
    rows = [(m, 3.0, 3.0 + c) for m, cs in changes.items() for c in cs]
    data = pd.DataFrame(rows, columns=["mentor_id", "pre", "post"])
    data.loc[len(data)] = ["a1", 3.0, np.nan]  # no post: left out
    band = {"a1": "A", "a2": "A", "b1": "B", "b2": "B", "b3": "B", "c1": "C", "d1": "D"}
    scheme = pd.DataFrame({"mentor_id": [*band, "x1"], "term": 1, "band": [*band.values(), None]})
    return data, scheme, changes


def _ci(x, alpha=0.05):
    x = np.asarray(x, dtype=float)
    h = stats.t.ppf(1 - alpha / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return x.mean(), x.mean() - h, x.mean() + h


def test_band_means_and_t_intervals_by_hand():
    data, scheme, ch = _hand()
    P = SimpleNamespace(rules=RULES)
    out = E.band_outcomes(P, 2024, scheme, min_cell=1, data=data).set_index("band", drop=False)
    assert list(out["band"]) == ["A", "B", "C", "D", None]
    a = ch["a1"] + ch["a2"]
    m, lo, hi = _ci(a)
    assert out.loc["A", "n"] == 5 and out.loc["A", "n_mentors"] == 2
    assert out.loc["A", "mean"] == pytest.approx(m)
    assert (out.loc["A", "ci_low"], out.loc["A", "ci_high"]) == pytest.approx((lo, hi))
    m, lo, hi = _ci(ch["b1"] + ch["b2"] + ch["b3"], alpha=0.1)
    out90 = E.band_outcomes(P, 2024, scheme, min_cell=1, alpha=0.1, data=data)
    b = out90.loc[out90["band"] == "B"].iloc[0]
    assert (b["mean"], b["ci_low"], b["ci_high"]) == pytest.approx((m, lo, hi))
    none = out.iloc[-1]
    assert none["n"] == 1 and none["mean"] == pytest.approx(0.4) and np.isnan(none["ci_low"])
    assert not out["suppressed"].any()


def test_small_bands_and_their_complement_are_suppressed():
    data, scheme, _ = _hand()
    out = E.band_outcomes(SimpleNamespace(rules=RULES), 2024, scheme, min_cell=5, data=data)
    s = out.set_index(out["band"].fillna("none"))
    # A (5) and B (6) are shown; C, D (2 each) and the no-band row (1) are not
    assert not s.loc["A", "suppressed"] and not s.loc["B", "suppressed"]
    for k in ("C", "D", "none"):
        assert s.loc[k, "suppressed"] and pd.isna(s.loc[k, "n"]) and np.isnan(s.loc[k, "mean"])
    # min_cell 2: only the no-band row (1) is under it, and the total minus the others would
    # give it back: a second band (the smallest) is suppressed with it
    out2 = E.band_outcomes(SimpleNamespace(rules=RULES), 2024, scheme, min_cell=2, data=data)
    hidden = out2.loc[out2["suppressed"], "band"].tolist()
    assert None in hidden and len(hidden) == 2 and hidden[0] in ("C", "D")
    assert out2.loc[~out2["suppressed"], "n"].notna().all()


def test_figure_draws_the_bands_shown_only():
    data, scheme, _ = _hand()
    out = E.band_outcomes(SimpleNamespace(rules=RULES), 2024, scheme, min_cell=5, data=data)
    for lang in ("zh", "en"):
        fig = E.plot_band_outcomes(out, lang=lang, min_cell=5)
        ax = fig.axes[0]
        ticks = [x.get_text() for x in ax.get_xticklabels()]
        assert ticks[0] == "A\n(n=5)" and ticks[2] == "C\n(n=<5)"
        pts = ax.lines[0].get_xydata()  # the errorbar's points: bands A and B only
        assert pts[:, 0].tolist() == [0.0, 1.0]
        assert pts[:, 1] == pytest.approx(out["mean"].iloc[:2].to_numpy())
        matplotlib.pyplot.close(fig)


@pytest.fixture(scope="module")
def middle():
    from mentorlib.synth import SynthParams, generate

    return from_synth(generate(SynthParams(level="middle", n_students=300, n_years=1, seed=4)))


def test_on_a_synthetic_middle_school_and_in_the_annual_summary(middle):
    P, y = middle, middle.years[0]
    scheme = E.school_scheme(P, y)
    out = E.band_outcomes(P, y, scheme, min_cell=1)
    d = E.mentor_data(P, y)
    d = d.loc[d["pre"].notna() & d["post"].notna()]
    assert int(out["n"].sum()) == len(d)  # every mentee with both waves in one row
    assert int(out["n_mentors"].sum()) == d["mentor_id"].nunique()
    a = SimpleNamespace(processed=P, year=y, min_cell=5, level="95%")
    M = SimpleNamespace(scheme=scheme, rules=P.rules)
    for lang in ("zh", "en"):
        blocks = _band_outcome_blocks(a, M, Lang(lang))
        assert len(blocks) == 1 and isinstance(blocks[0], Figure)
        assert blocks[0].key == "band_outcomes"
    assert _band_outcome_blocks(a, SimpleNamespace(scheme=pd.DataFrame()), Lang("zh")) == []
