"""compliance.indicators: which indicators a rulebook asks for, their targets, the pass rule."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from mentorlib import compliance as C
from mentorlib.compliance.indicators import passed, passed_vec, target_of
from mentorlib.rules import rulebook

from _compliance_fixtures import make_tiny_primary


@pytest.fixture
def a_only():
    """The tiny primary school with only mentor A's term-1 group (s01-s04): a talk with every
    student in every school month, so the default rule (one a month) holds everywhere."""
    P = make_tiny_primary()
    a = P.tables["assignments"]
    keep = a["student_id"].isin(["s01", "s02", "s03", "s04"]) & (a["term"] == 1)
    P.tables["assignments"] = a.loc[keep].reset_index(drop=True)
    return P


def test_talks_per_month_sets_the_talk_target_and_the_verdict(a_only):
    one = C.compliance_report(a_only, 2023).indicators.set_index("indicator")
    assert one.loc["talk", "target_zh"] == "≥1次/月"
    assert one.loc["talk", "target_en"] == ">= 1 a month"
    assert one.loc["talk", "value"] == 1.0 and bool(one.loc["talk", "passed"])
    two_rules = rulebook("primary", {"talks_per_month": 2})
    two = C.compliance_report(a_only, 2023, rules=two_rules).indicators.set_index("indicator")
    assert two.loc["talk", "target_zh"] == "≥2次/月"
    assert two.loc["talk", "target_en"] == ">= 2 a month"
    assert two.loc["talk", "value"] == 0.0 and not bool(two.loc["talk", "passed"])
    assert two.loc["talk", "n"] == one.loc["talk", "n"]


def test_required_indicators_follow_the_rulebook():
    primary = C.required_indicators(rulebook("primary"))
    assert primary[:3] == ["staff_coverage", "student_coverage", "group_size"]
    assert "mood_participation" in primary
    no_talks = C.required_indicators(rulebook("primary", {"talks_per_month": 0}))
    assert "talk" not in no_talks and len(no_talks) == len(primary) - 1
    middle = C.required_indicators(rulebook("middle"))
    assert "home_visit" in middle and "mood_participation" not in middle


def test_targets_are_formatted_from_the_rules():
    r = rulebook("primary", {"max_regroup_share": 0.2, "group_min": 4, "group_max": 9})
    assert target_of("regroup_share", r) == (0.2, "≤20%", "<= 20%")
    assert target_of("group_size", r)[1:] == ("每位导师4–9人", "4-9 students per mentor")
    value, zh, en = target_of("staff_coverage", rulebook("middle"))
    assert math.isnan(value) and zh.startswith("不适用")


def test_pass_rule_direction_and_missing():
    assert passed("talk", 1.0, 1.0) is True and passed("talk", 0.99, 1.0) is False
    assert passed("regroup_share", 0.15, 0.15) is True
    assert passed("regroup_share", 0.16, 0.15) is False
    assert passed("talk", math.nan, 1.0) is pd.NA
    got = passed_vec(
        pd.Series(["talk", "regroup_share", "talk"]),
        pd.Series([1.0, 0.2, math.nan]),
        pd.Series([1.0, 0.15, 1.0]),
    )
    assert got.tolist() == [True, False, pd.NA]
