"""compliance.figures: the mentor x month heatmap."""

from __future__ import annotations

import io
import warnings

import matplotlib
import matplotlib.pyplot as plt
import pytest
from matplotlib.text import Text

from mentorlib import compliance as C
from mentorlib.data import Processed
from mentorlib.errors import InputError

from _compliance_fixtures import (
    make_tiny_middle,
    make_tiny_primary,
)

matplotlib.use("Agg")


@pytest.fixture
def tiny_primary() -> Processed:
    return make_tiny_primary()


@pytest.fixture
def tiny_middle() -> Processed:
    return make_tiny_middle()


# --------------------------------------------------------------------------- figure and outputs


def _texts(fig) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(Text))


def test_heatmap_renders_without_missing_glyphs(truth_report):
    mentors = set(truth_report.by_mentor["mentor_id"])
    for lang in ("zh", "en"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fig = truth_report.heatmap(lang=lang)
            fig.savefig(io.BytesIO(), format="png")
        try:
            ax = fig.axes[0]
            assert ax.get_yticklabels() == [] or all(
                t.get_text() == "" for t in ax.get_yticklabels()
            )
            assert not any(m in _texts(fig) for m in mentors)
            assert ax.images[0].get_array().shape == (len(mentors), 9)
        finally:
            plt.close(fig)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = truth_report.heatmap(public=False, indicator="three_party")
        fig.savefig(io.BytesIO(), format="png")
    try:
        assert mentors <= {t.get_text() for t in fig.axes[0].get_yticklabels()}
    finally:
        plt.close(fig)


def test_heatmap_public_blanks_small_groups(tiny_primary, tiny_middle):
    rep = C.compliance_report(tiny_primary, 2023)
    fig = rep.heatmap()
    try:
        grid = fig.axes[0].images[0].get_array()
        # A has four students in term 2: blanked; B (5-6 students) shown
        assert grid.mask.sum() == 4 and not grid.mask[:, :5].any()
        assert "A" not in _texts(fig).split() and "B" not in _texts(fig).split()
    finally:
        plt.close(fig)
    fig = C.compliance_report(tiny_middle, 2023).heatmap(lang="en")
    try:
        assert fig.axes[0].images[0].get_array().mask.all()
    finally:
        plt.close(fig)
    with pytest.raises(InputError, match="home_visit"):
        rep.heatmap(indicator="home_visit")
