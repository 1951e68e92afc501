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


# --------------------------------------------------------------------------- grade x month


def test_grade_month_table_counts_and_blanks_small_grades(tiny_primary):
    """Grade 1: s01-s06 mentored, A (s01-s05) talks every month, B (s06) records nothing;
    s05 moves to B in term 2. Grade 2 (four students) is under min_cell 5: blank."""
    rep = C.compliance_report(tiny_primary, 2023)
    g = C.figures.grade_month_grid(rep.by_grade_month, "talk")
    assert list(g.index) == [1, 2] and g.shape[1] == 9
    assert g.loc[1].iloc[:5].tolist() == pytest.approx([5 / 6] * 5)
    assert g.loc[1].iloc[5:].tolist() == pytest.approx([4 / 6] * 4)
    assert g.loc[2].isna().all()
    small = rep.by_grade_month.loc[rep.by_grade_month["grade"] == 2]
    assert small["suppressed"].all() and small["n_students"].isna().all()
    # the same rule as by_grade: shown once min_cell allows four students
    shown = C.compliance_report(tiny_primary, 2023, min_cell=3).by_grade_month
    assert not shown.loc[shown["grade"] == 2, "suppressed"].any()
    with pytest.raises(InputError, match="grade x month"):
        C.figures.grade_month_grid(rep.by_grade_month, "home_visit")


def test_grade_month_figure_fits_the_page_with_9pt_labels(tiny_primary):
    rep = C.compliance_report(tiny_primary, 2023)
    for lang in ("zh", "en"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fig = rep.grade_month_figure(lang=lang)
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=100)
        try:
            from PIL import Image

            assert Image.open(buf).size[0] / 100 * 2.54 <= 16.2  # the A4 text width, cm
            grid = fig.axes[0].images[0].get_array()
            assert grid.mask[1].all() and not grid.mask[0].any()  # grade 2 blank (grey)
            sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text().strip()]
            assert min(sizes) >= 9
            assert "5" in _texts(fig) and ("灰色" in _texts(fig) or "grey" in _texts(fig))
        finally:
            plt.close(fig)
