"""Report text states the settings actually used: every number that is a rule comes from the
study's rulebook (``processed.rules``), never a literal.

A study whose rules differ from the defaults (min_cell 10, target 90%, two dimensions, a 20%
regrouping cap, two talks a month) must read those numbers, and none of the defaults, in the
title page, the methods section, the compliance introduction and the goals of the review.
Fast: the rule-dependent text is generated without running the analyses.
"""

from __future__ import annotations

import pytest

from mentorlib.data import Processed
from mentorlib.errors import InputError
from mentorlib.labels import Lang
from mentorlib.report.analyses import resolve_min_cell
from mentorlib.report.methods import REFERENCES, methods_section
from mentorlib.report.render import fmt
from mentorlib.report.sections_goals import goal_texts
from mentorlib.report.sections_process import compliance_intro
from mentorlib.report.shared import title_page
from mentorlib.rules import Rulebook, rulebook

CHANGED = {
    "min_cell": 10,
    "target_share": 0.9,
    "k_dimensions": 2,
    "max_regroup_share": 0.2,
    "talks_per_month": 2,
}


class RuledProcessed(Processed):
    """A Processed whose study rules are given (until study.toml's [rules] reach Processed)."""

    _rules: Rulebook

    @property
    def rules(self) -> Rulebook:  # type: ignore[override]
        return self._rules


def ruled(rules: Rulebook, level: str = "primary") -> Processed:
    P = RuledProcessed(name="synth-rules", level=level, years=(2024,), tables={}, school="示范小学")
    P._rules = rules
    return P


def _text(section) -> str:
    return "\n".join(getattr(b, "text", "") for b in section.blocks)


@pytest.fixture(scope="module")
def changed() -> Rulebook:
    return rulebook("primary", CHANGED)


def test_the_rules_reach_the_processed_study(changed):
    P = ruled(changed)
    assert P.rules.min_cell == 10
    assert resolve_min_cell(P, None) == 10  # None: the study's rule
    assert resolve_min_cell(P, 3) == 3  # a caller's value wins
    assert resolve_min_cell(ruled(rulebook("primary")), None) == 5
    with pytest.raises(InputError, match="min_cell"):
        resolve_min_cell(P, 0)


def test_title_page_states_the_min_cell_used(changed):
    P = ruled(changed)
    mc = resolve_min_cell(P, None)
    for lang, want, old in (
        ("zh", "少于10名", "少于5名"),
        ("en", "fewer than 10", "fewer than 5 "),
    ):
        _, _, front = title_page(P, "annual_summary", (2024,), True, True, Lang(lang), min_cell=mc)
        text = "\n".join(front)
        assert want in text and "<10" in text
        assert old not in text and "<5" not in text


def test_methods_state_the_rules_used(changed):
    en = _text(methods_section(Lang("en"), changed, review=True, min_cell=10))
    for want in ("at least 2 dimensions", "against 90%", "exceeds 90%", "capped at 20%", "'<10'"):
        assert want in en, want
    for old in ("at least one dimension", "85%", "15%", "'<5'"):
        assert old not in en, old
    assert "fewer than 80% of the items" in en and "RCI > 1.96" in en
    zh = _text(methods_section(Lang("zh"), changed, review=True, min_cell=10))
    assert "至少两个维度" in zh and "对90%目标" in zh and "不超过20%的学期调整" in zh
    assert "85%" not in zh and "15%" not in zh and "至少一个维度" not in zh and "<5" not in zh


def test_methods_follow_every_method_rule():
    rules = rulebook(
        "primary",
        {"min_answered": 0.75, "rci_z": 1.645, "ci_method": "clopper-pearson", "alpha": 0.1},
    )
    en = _text(methods_section(Lang("en"), rules, review=False, min_cell=5))
    assert "fewer than 75% of the items" in en
    assert "RCI > 1.645" in en and "< -1.645" in en and "1.96" not in en
    assert "Clopper-Pearson exact intervals" in en and "Wilson intervals" not in en
    assert "Clopper, C. J., & Pearson" in en
    zh = _text(methods_section(Lang("zh"), rules, review=False, min_cell=5))
    assert "比例的90%置信区间" in zh and "RCI大于1.645" in zh
    # the bootstrap decides the verdicts; without one, and for the groups' rates, the rule's
    assert "未做自助法时为Clopper-Pearson精确区间" in zh
    assert "的比例区间采用Clopper-Pearson精确区间" in zh and "Wilson区间" not in zh


def test_default_rules_keep_the_published_wording():
    rules = rulebook("primary")
    en = _text(methods_section(Lang("en"), rules, review=True, min_cell=5))
    assert "at least one dimension" in en and "against 85%" in en and "capped at 15%" in en
    assert "Wilson intervals (Wilson 1927; Newcombe 1998)" in en
    refs = [b.text for b in methods_section(Lang("en"), rules, review=True, min_cell=5).blocks]
    assert [r for r in refs if r in REFERENCES] == list(REFERENCES)
    zh = _text(methods_section(Lang("zh"), rules, review=False, min_cell=5))
    assert "RCI大于1.96判定为显著进步" in zh and "作答不足80%的题目" in zh


def test_compliance_introduction_states_the_talk_frequency(changed):
    assert "at least 2 talks with each student a month" in compliance_intro(changed, Lang("en"))
    zh = compliance_intro(changed, Lang("zh"))
    assert "每位学生每月至少两次谈心" in zh and "一次谈心" not in zh
    default = rulebook("primary")
    assert "at least one talk with each student" in compliance_intro(default, Lang("en"))
    assert "每位学生每月至少一次谈心、每月至少一次三方沟通" in compliance_intro(default, Lang("zh"))
    # middle school: two talks a month and no three-party rule
    middle = compliance_intro(rulebook("middle"), Lang("zh"))
    assert "每位学生每月至少两次谈心" in middle and "三方沟通" not in middle


def test_goals_quote_the_plan_with_the_rules_numbers(changed):
    goals = goal_texts("primary", changed)
    assert "90%" in goals["personal"][2] and "85%" not in goals["personal"][2]
    assert "at least 90% of students" in goals["personal"][3]
    default = goal_texts("primary", rulebook("primary"))
    assert "“1名导师+5-8名学生”" in default["coverage"][2] and "1-6年级" in default["coverage"][2]
    assert "每月开展至少1次三方沟通" in default["collab"][2]
    middle = goal_texts("middle", rulebook("middle", {"parent_calls_per_month": 2}))
    assert "每月至少两次电话访问，每学年一次家访" in middle["collab"][2]
    assert middle["collab"][3].startswith("The plan: 2 parent calls every month, a home visit")


def test_formatters():
    assert fmt.pct(0.853) == "85.3%" and fmt.pct(None) == "—"
    assert fmt.ci(0.8, 0.9) == "80.0%–90.0%" and fmt.ci(float("nan"), 0.9) == "—"
    assert fmt.count_text(3, 5) == "<5" and fmt.count_text(0, 5) == "0"
    assert fmt.count_text(1234, 10) == "1,234" and fmt.count_text(7, 10) == "<10"
    assert fmt.pts(-0.0004) == "0.0" and fmt.pts(0.015) == "+1.5"
    assert fmt.pvalue(0.0001) == "< 0.001" and fmt.pvalue(0.0312) == "0.031"
    assert fmt.share(0.85) == "85%" and fmt.zh_count(2) == "两" and fmt.zh_number(12) == "十二"
    assert fmt.sep(Lang("zh")) == "、" and fmt.sep(Lang("en")) == ", "
    assert fmt.dim_label("primary", "habits", Lang("zh")) == "习惯养成"
    # issue 16: a school year's first mention, then year_label
    assert fmt.year_span(2024, Lang("zh")) == "2024学年（2024–2025）"
    assert fmt.year_span(2024, Lang("en")) == "school year 2024 (2024–2025)"
    assert (
        fmt.year_label(2024, Lang("zh")) == "2024学年"
        and fmt.year_label(2024, Lang("en")) == "2024"
    )
    assert fmt.years_span(2023, 2025, Lang("zh")) == "2023–2025学年"
