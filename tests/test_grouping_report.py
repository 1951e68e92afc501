"""Grouping report: run_policy's result (unpacking, the result protocol, public output) and the
labels of the comparison's rows."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mentorlib import grouping as g
from mentorlib.data import Processed
from mentorlib.errors import InputError
from mentorlib.grouping.report import row_label
from mentorlib.rules import rulebook

# --------------------------------------------------------------------------- fixtures


# --------------------------------------------------------------------------- run_policy


def test_policy_run_unpacks_and_follows_the_result_protocol(primary):
    run = g.run_policy(primary, 2024, "optimal")
    assignment, checks = run  # the old tuple
    assert assignment is run.assignment and checks is run.checks
    assert run[0] is run.assignment and len(run) == 2
    assert run.policy == "optimal" and run.year == 2024 and run.hard_rules_met
    assert run.summary().startswith("最优匹配：2024 学年") and "硬性规则全部满足" in run.summary()
    assert run.summary("en").startswith("optimal match: ") and "hard rules met" in run.summary("en")
    with pytest.raises(InputError, match="lang"):
        run.summary("fr")
    with pytest.raises(InputError, match="lang"):
        run.tables(lang="de")
    pub = run.tables()
    assert set(pub) == {"checks"}  # the student-level assignment is for the research team
    assert pub["checks"].columns[:2].tolist() == ["rule", "label"]
    assert "学生全覆盖" in pub["checks"]["label"].tolist()
    assert "students assigned" in run.tables(lang="en")["checks"]["label"].tolist()
    internal = run.tables(public=False)
    assert set(internal) == {"assignment", "checks"} and len(internal["assignment"]) > 0
    assert run.figures() == {}
    d = run.to_json_dict()
    json.dumps(d)  # plain values only
    assert d["policy"] == "optimal" and d["students"] == len(assignment)
    assert all("suppressed" in r for r in d["checks"])
    # the smallest group (5 to 8 students) is not a small cell; blocking pairs may be
    rows = {r["rule"]: r for r in d["checks"]}
    assert rows["group_min"]["value"] == checks.set_index("rule").loc["group_min", "value"]
    assert "suppressed" not in run.to_json_dict(public=False)["checks"][0]


def test_run_policy_checks_against_the_study_rulebook(primary, monkeypatch):
    # a study whose rulebook caps regrouping at 20%: the checker's target follows
    wide = rulebook("primary", {"max_regroup_share": 0.2})
    monkeypatch.setattr(Processed, "rules", property(lambda self: wide))
    run = g.run_policy(primary, 2024, "regroup")
    row = run.checks.set_index("rule").loc["changed_share"]
    assert row["target"] == "<= 0.2" and row["pass"] and row["value"] <= 0.2
    assert run.to_json_dict()["checks"]


def test_small_rosters_are_suppressed_in_public_output(primary):
    run = g.run_policy(primary, 2024, "current")
    tiny = g.PolicyRun(
        assignment=run.assignment.iloc[:3],
        checks=run.checks,
        policy="current",
        year=2024,
        rules=primary.rules,
    )
    assert tiny.to_json_dict()["students"] is None
    assert tiny.to_json_dict(public=False)["students"] == 3


def test_row_labels():
    assert row_label("hard_rules_met", "primary") == "硬性规则全部满足"
    assert row_label("mean_fit", "primary") == "平均匹配度"  # the checker's row
    assert row_label("pred_mean_fit", "primary") == "预测平均匹配度"  # the prediction
    assert row_label("pred_improved_academic", "primary") == "预测学业支持显著进步比例"
    assert row_label("pred_improved_life", "middle", "en") == (
        "predicted share improving in life guidance"
    )
    assert row_label("something_else", "primary") == "something_else"
    with pytest.raises(InputError):
        row_label("mean_fit", "primary", "english")
    assert isinstance(g.POLICY_LABELS_ZH, dict) and g.POLICY_LABELS_ZH["optimal"] == "最优匹配"
    assert pd.Series(g.RULE_LABELS_ZH).notna().all()
