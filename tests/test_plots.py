"""The workbench's figure style: labels in the report language, the bundled CJK font, the
target marker, small cells never drawn."""

from __future__ import annotations

import os
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib import font_manager

from mentorlib import plots
from mentorlib.errors import InputError

matplotlib.use("Agg")


def test_label_picks_the_language_and_rejects_others():
    assert plots.label("目标", "target") == "目标"  # Chinese first
    assert plots.label("目标", "target", "zh") == "目标"
    assert plots.label("目标", "target", "en") == "target"
    for bad in ("fr", "EN", "", None):
        with pytest.raises(InputError, match="lang"):
            plots.label("目标", "target", bad)


def test_the_cjk_font_is_bundled_and_registered():
    path = plots.cjk_font_path()
    assert os.path.isfile(path) and path.endswith(".otf")
    names = {f.name for f in font_manager.fontManager.ttflist}
    assert plots.CJK_FAMILY in names
    plots.use_style()
    assert matplotlib.rcParams["font.sans-serif"][0] == plots.CJK_FAMILY


def test_chinese_figure_renders_without_missing_glyphs():
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r"Glyph .* missing")
        fig = plots.plot_intervals(
            ["转学生", "留守儿童"],
            [0.3, 0.4],
            [0.2, 0.3],
            [0.4, 0.5],
            target=0.85,
            min_cell=5,
            xlabel="显著进步学生比例",
        )
        png = plots.fig_png(fig)
    assert png.startswith(b"\x89PNG") and b"Software" not in png


def test_target_marker_draws_at_the_value():
    fig, ax = matplotlib.pyplot.subplots()
    plots.target_marker(ax, 0.9, "en", vertical=False)
    line = ax.get_lines()[-1]
    assert list(line.get_ydata()) == [0.9, 0.9]
    assert [t.get_text() for t in ax.texts] == ["target 90%"]
    plots.target_marker(ax, 0.85, vertical=True)
    assert list(ax.get_lines()[-1].get_xdata()) == [0.85, 0.85]
    assert ax.texts[-1].get_text() == "目标 85%"
    with pytest.raises(InputError):
        plots.target_marker(ax, 0.5, "de", vertical=True)
    matplotlib.pyplot.close(fig)


def test_suppressed_rows_show_the_min_cell_given():
    fig = plots.plot_intervals(
        ["a", "b"], [0.3, 0.4], suppressed=[False, True], min_cell=10, lang="en"
    )
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["<10"]
    matplotlib.pyplot.close(fig)
    with pytest.raises(TypeError):  # the caller passes the study's min_cell
        plots.plot_intervals(["a"], [0.3])


def test_counts_below_min_cell_are_not_drawn():
    fig = plots.plot_counts(["x", "y", "z"], [12, 3, 0], min_cell=5, lang="en")
    ax = fig.axes[0]
    widths = [p.get_width() for p in ax.patches]
    assert widths == [12, 0, 0]
    assert [t.get_text() for t in ax.texts] == ["12", "<5", "0"]
    assert ax.get_xlabel() == "students"
    matplotlib.pyplot.close(fig)
    fig = plots.plot_counts(["x"], [12], min_cell=5, texts=["—"])
    assert [p.get_width() for p in fig.axes[0].patches] == [0]  # withheld by the document
    matplotlib.pyplot.close(fig)


def test_lines_and_panels_and_pairs():
    d = pd.DataFrame(
        {"year": [2023, 2024, 2023, 2024], "v": [0.2, 0.3, 0.5, np.nan], "g": list("aabb")}
    )
    fig = plots.plot_lines(d, x="year", y="v", group="g", target=0.85, lang="en")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2023", "2024"]
    assert ax.get_ylim()[1] >= 0.85
    matplotlib.pyplot.close(fig)
    fig = plots.plot_panels(d.assign(t=0.9), panel="g", x="year", y="v", target="t")
    assert len([a for a in fig.axes if a.get_visible()]) == 2
    matplotlib.pyplot.close(fig)
    fig = plots.plot_pairs([0.1, -0.2], [0.2, -0.1], xlabel="x", ylabel="y")
    assert fig.axes[0].get_xlabel() == "x"
    matplotlib.pyplot.close(fig)
    with pytest.raises(InputError):
        plots.plot_lines(d, x="year", y="v", lang="fr")
