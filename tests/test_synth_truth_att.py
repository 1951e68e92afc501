"""The truth overview's ATT display (notebook 00): the table and the sentence carry the
generator's own numbers (truth/att.parquet of the committed sample study), in both languages."""

from __future__ import annotations

import pandas as pd
import pytest

from mentorlib.errors import InputError
from mentorlib.rules import rulebook
from mentorlib.synth.truth import att_overview, att_sentence, load_truth

from conftest import SAMPLE


@pytest.fixture(scope="module")
def truth():
    return load_truth(SAMPLE)


def test_att_overview_is_the_truth_by_year(truth):
    att = truth["att"]
    ov = att_overview(att)
    assert list(ov.index) == sorted(att["year"].unique())
    dims = [d for d in att["dimension"].unique() if d != "any"]
    assert list(ov.columns[4:]) == [f"att_sd_{d}" for d in dims]
    for y, row in ov.iterrows():
        a = att.loc[att["year"] == y].set_index("dimension")
        assert row["att_rate"] == pytest.approx(
            a.loc["any", "p_improved"] - a.loc["any", "p_improved_untreated"], abs=1e-3
        )
        for d in dims:
            assert row[f"att_sd_{d}"] == pytest.approx(a.loc[d, "att_sd"], abs=5e-4)
        assert row["n_mentored"] == a.loc["any", "n_mentored"]


@pytest.mark.parametrize("year", [None, 2023])
def test_att_sentence_quotes_the_truth(truth, year):
    att = truth["att"]
    y = int(att["year"].max()) if year is None else year
    a = att.loc[att["year"] == y].set_index("dimension")
    r = a.loc["any"]
    sd = a.drop(index="any")["att_sd"]
    k = rulebook(truth["params"]["level"]).k_dimensions
    zh, en = att_sentence(truth, year=year), att_sentence(truth, "en", year=year)
    for s in (zh, en):
        assert f"{r['p_improved']:.1%}" in s and f"{r['p_improved_untreated']:.1%}" in s
        assert f"{r['att_rate'] * 100:+.1f}" in s
        assert f"{sd.min():+.2f}" in s and f"{sd.max():+.2f}" in s
        assert str(int(r["n_mentored"])) in s
    assert f"{y}–{y + 1}学年" in zh and f"至少{k}个维度" in zh and "ATT" in zh
    assert f"In {y}-{y + 1}" in en and "percentage points" in en


def test_att_sentence_for_a_year_without_truth_is_one_line(truth):
    with pytest.raises(InputError, match="no ATT for 1999"):
        att_sentence(truth, year=1999)


def test_a_null_truth_reads_zero():
    """All effects zero: untreated = treated, ATT +0.0 points and +0.00 SD."""
    att = pd.DataFrame(
        {
            "year": [2023] * 3,
            "dimension": ["moral", "academic", "any"],
            "n_mentored": [40] * 3,
            "att_latent": [0.0, 0.0, None],
            "att_sd": [0.0, 0.0, None],
            "p_improved": [0.2, 0.3, 0.4],
            "p_improved_untreated": [0.2, 0.3, 0.4],
            "att_rate": [0.0, 0.0, 0.0],
        }
    )
    s = att_sentence({"att": att, "params": {"level": "middle"}}, "en")
    assert "+0.0 percentage points" in s and "+0.00 to +0.00 SD" in s
    assert att_overview(att).loc[2023, "att_rate"] == 0
