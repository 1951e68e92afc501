"""The award in the reports beyond the annual table (issue 15 item 4): why the annual summary
has no award table, in one sentence (zh/en); the pilot review's award part per year (total
distributed, bands, mentee rewards) from the same functions, protected at min_cell."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pandas as pd
import pytest

from mentorlib.data import Processed, from_synth
from mentorlib.labels import Lang
from mentorlib.report.document import Heading, Para, Section
from mentorlib.report.sections_award import award_blocks, with_award

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
