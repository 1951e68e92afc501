"""Figures of the progress report (mentorlib.progress.figures)."""

from __future__ import annotations

import matplotlib
import pytest

from _progress_fixtures import primary_report

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def report(primary_study):
    return primary_report(primary_study)


def test_figures(report):
    import matplotlib.pyplot as plt

    for lang in ("zh", "en"):
        figs = report.figures(lang=lang)
        assert set(figs) == {"by_year", "by_grade", "dimensions", "pre_post"}
        for f in figs.values():
            assert isinstance(f, matplotlib.figure.Figure)
        title = figs["by_year"].axes[0].get_title()
        assert ("学年" in title) == (lang == "zh")
        # the dimensions figure never draws a bar for fewer than 5 students
        ax = figs["dimensions"].axes[0]
        heights = [p.get_height() for p in ax.patches]
        assert all(h == 0 or h >= 5 for h in heights)
        plt.close("all")


def test_internal_figures_and_bad_lang(report):
    import matplotlib.pyplot as plt

    from mentorlib.errors import InputError

    figs = report.figures(public=False)
    assert set(figs) == {"by_year", "by_grade", "dimensions", "pre_post"}
    plt.close("all")
    with pytest.raises(InputError, match="lang"):
        report.figures(lang="de")
