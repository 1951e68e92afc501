"""The cleaning overview and the rate guard (mentorlib.quality)."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from mentorlib.clean import clean_study
from mentorlib.errors import ImpossibleNumberError, InputError
from mentorlib.labels import SOURCE_KIND_LABELS
from mentorlib.quality import KIND_ZH, check_rate, cleaning_overview, plot_cleaning

from conftest import SAMPLE


@pytest.fixture(scope="module")
def res():
    return clean_study(SAMPLE)


def test_check_rate_passes_rates_and_missing_and_refuses_the_impossible():
    assert check_rate(0.85) == 0.85
    assert check_rate(1 + 1e-12) == pytest.approx(1.0)
    assert math.isnan(check_rate(float("nan")))
    with pytest.raises(ImpossibleNumberError, match="266.8%"):
        check_rate(2.668, "participation")


def test_overview_accounts_for_every_row(res):
    ov = cleaning_overview(res)
    bk = ov["by_kind"]
    assert set(bk["kind"]) == set(res.summary["kind"])
    assert (bk["kept"] + bk["merged"] + bk["quarantined"] == bk["rows_in"]).all()
    assert ov["reasons"]["rows"].sum() == len(res.quarantine)
    assert ov["repairs"]["cells"].sum() == res.log["row"].notna().sum()
    assert set(ov) == {"by_kind", "reasons", "repairs", "conventions", "files"}


def test_kind_names_come_from_the_labels():
    assert KIND_ZH == {k: v[0] for k, v in SOURCE_KIND_LABELS.items()}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_plot_cleaning_in_both_languages(res, lang):
    fig = plot_cleaning(res, lang=lang)
    a1, a2 = fig.axes[:2]
    want = "最常见的修复" if lang == "zh" else "most common repairs"
    assert a2.get_title() == want
    labels = [t.get_text() for t in a1.get_legend().get_texts()]
    assert labels == (
        ["保留", "合并（重复提交）", "隔离"] if lang == "zh" else ["kept", "merged", "quarantined"]
    )
    plt.close(fig)


def test_plot_cleaning_refuses_an_unknown_lang(res):
    with pytest.raises(InputError, match="lang must be"):
        plot_cleaning(res, lang="fr")


def test_check_rate():
    assert check_rate(0.85) == 0.85
    assert check_rate(1.0 + 1e-12) == pytest.approx(1.0)
    assert check_rate(float("nan")) != check_rate(float("nan"))
    with pytest.raises(ImpossibleNumberError, match="mood participation of 266.8% is outside"):
        check_rate(2.668, "mood participation")
    with pytest.raises(ImpossibleNumberError, match="-10.0%"):
        check_rate(-0.1)
