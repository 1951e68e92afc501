"""The award in the reports beyond the annual table (issue 15 item 4): why the annual summary
has no award table, in one sentence (zh/en); the pilot review's award part per year (total
distributed, bands, mentee rewards) from the same functions, protected at min_cell."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pandas as pd
import pytest

from mentorlib import effectiveness as E
from mentorlib.data import Processed, from_synth
from mentorlib.labels import Lang
from mentorlib.report.document import Heading, Para, Section, Table
from mentorlib.report.render.fmt import count_text
from mentorlib.report.sections_award import award_blocks, with_award
from mentorlib.report.sections_award_review import (
    YearAward,
    award_review_blocks,
    review_awards,
    with_award_review,
)

from _effectiveness_fixtures import with_rules


@pytest.fixture(scope="module")
def P():
    from mentorlib.synth import SynthParams, generate

    return from_synth(generate(SynthParams(level="middle", n_students=300, n_years=1, seed=4)))


def _paras(blocks) -> list[str]:
    return [b.text for b in blocks if isinstance(b, Para)]


def _without(P: Processed, table: str) -> Processed:
    return dataclasses.replace(P, tables={k: v for k, v in P.tables.items() if k != table})


# ---------------------------------------------------------------- annual: why no award table


@pytest.mark.parametrize(
    ("case", "zh", "en"),
    [
        ("not_set", "award_per_mentee_term 为 0", "award_per_mentee_term is 0"),
        ("missing", "缺少评分所需的奖惩记录（rewards）", 'kind = "rewards"'),
        ("no_report", "导师效应分析未能完成", "the mentor analysis could not be run"),
        ("none_scored", "没有导师可以评分", "no mentor could be scored"),
    ],
)
def test_annual_award_part_says_why_it_has_no_table(P, case, zh, en):
    M = SimpleNamespace(rules=P.rules, scheme=pd.DataFrame())
    study = P
    if case == "not_set":
        study = with_rules(P, award_per_mentee_term=0)
        M = SimpleNamespace(rules=study.rules, scheme=pd.DataFrame({"x": [1]}))
    elif case == "missing":
        study = _without(P, "rewards")
    elif case == "no_report":
        M = None
    a = SimpleNamespace(processed=study, mentors=M, min_cell=5, year=P.years[0])
    for lang, want in (("zh", zh), ("en", en)):
        blocks = award_blocks(a, Lang(lang), public=True)
        assert isinstance(blocks[0], Heading)
        text = _paras(blocks)
        assert len(text) == 1 and want in text[0], (case, lang, text)
        assert text[0].count("。") <= 1 and "nan" not in text[0]
        # the mentor section carries it in a middle school
        sec = with_award(Section("mentors", "m", [Para("x")]), a, Lang(lang), True)
        assert sec.blocks[-1].text == text[0]


def test_primary_sections_stay_without_an_award():
    a = SimpleNamespace(processed=SimpleNamespace(level="primary"))
    sec = Section("mentors", "m", [Para("x")])
    assert with_award(sec, a, Lang("zh"), True) is sec
    assert with_award_review(sec, SimpleNamespace(processed=a.processed), Lang("zh")) is sec


# ---------------------------------------------------------------- review: per year


def _pilot(P, min_cell=5):
    return SimpleNamespace(processed=P, years=tuple(P.years), min_cell=min_cell)


@pytest.fixture(scope="module")
def awards(P):
    """min_cell -> review_awards (each computed once)."""
    cache: dict = {}

    def get(mc: int):
        if mc not in cache:
            cache[mc] = review_awards(_pilot(P, mc))
        return cache[mc]

    return get


def test_review_award_adds_up_to_the_pool_and_counts_the_rewards(P, awards):
    y = P.years[0]
    aw = awards(5)[y]
    assert isinstance(aw, YearAward)
    mentee_terms = len(E.scheme_components(P, y))  # one row per mentee and term
    assert aw.n_mentee_terms == mentee_terms > 0
    assert aw.paid == 250 * mentee_terms
    assert list(aw.bands["band"].dropna()) == [b for b, _ in P.rules.award_bands]
    assert not aw.bands["suppressed"].any()
    assert int(aw.bands["yuan"].sum()) == aw.paid
    assert int(aw.bands["n_mentees"].sum()) == mentee_terms
    rewarded = len(E.mentee_rewards(P, y))
    assert aw.n_rewarded == rewarded
    for lang, words in (
        ("zh", f"共发放成效奖{aw.paid:,}元"),
        ("en", f"{aw.paid:,} yuan distributed"),
    ):
        blocks = award_review_blocks(_pilot(P), Lang(lang), awards(5))
        text = " ".join(_paras(blocks))
        assert words in text
        assert f"{count_text(rewarded, 5)}" in text
        table = next(b for b in blocks if isinstance(b, Table))
        assert table.key == "award_review" and len(table.data) == len(aw.bands)
        yuan = pd.to_numeric(table.data.iloc[:, -1].str.replace(",", ""), errors="coerce")
        assert int(yuan.sum()) == aw.paid


def test_review_award_respects_min_cell(P, awards):
    y = P.years[0]
    full = awards(5)[y]
    mc = int(full.bands["n_mentees"].max())  # every band but the largest falls under it
    aw = awards(mc)[y]
    small = full.bands["n_mentees"] < mc
    assert small.any()
    assert aw.bands.loc[small.to_numpy(), "n_mentees"].isna().all()
    assert aw.bands["yuan"].isna().all()  # amounts would give the counts back
    blocks = award_review_blocks(_pilot(P, mc), Lang("en"), awards(mc))
    table = next(b for b in blocks if isinstance(b, Table)).data
    assert (table.iloc[:, 3] == f"<{mc}").sum() >= small.sum()
    assert set(table.iloc[:, -1]) == {"—"}
    # the year's total hides when its mentee-terms fall under min_cell
    big = full.n_mentee_terms + 1
    assert awards(big)[y].paid is None
    text = " ".join(_paras(award_review_blocks(_pilot(P, big), Lang("zh"), awards(big))))
    assert f"{full.paid:,}" not in text and f"<{big}人次受导" in text


def test_review_award_says_why_when_the_study_sets_none(P):
    for lang, want in (("zh", "未设导师成效奖方案"), ("en", "sets no mentor award scheme")):
        blocks = award_review_blocks(_pilot(with_rules(P, award_per_mentee_term=0)), Lang(lang))
        assert len(blocks) == 2 and want in blocks[1].text
        assert not any(isinstance(b, Table) for b in blocks)
