"""Grouping comparison: tables, figures, paired differences, skipped policies, run_policy, and
the result protocol."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import pytest

from mentorlib import grouping as g
from mentorlib.errors import InfeasibleError, InputError

from _grouping_fixtures import PRIMARY

# --------------------------------------------------------------------------- fixtures


def test_compare_policies_tables_and_figure(primary, primary_study):
    model = g.OutcomeModel.from_synth(primary_study, 2024)
    pols = ("recorded", "current", "two_way", "optimal", "regroup")
    cmp = g.compare_policies(primary, 2024, policies=pols, model=model, draws=4, progress=False)
    assert cmp.policies == list(pols)
    assert list(cmp.outcomes.columns) == [
        "policy",
        "measure",
        "mean",
        "lo",
        "hi",
        "diff",
        "diff_lo",
        "diff_hi",
        "mc_error",  # issue 16: the Monte Carlo error of each difference
    ]
    o = cmp.outcomes.set_index(["measure", "policy"])
    assert (o.loc["improved_any", "mean"].between(0, 1)).all()
    assert o.loc[("improved_any", "recorded"), "diff"] == 0
    # common random numbers: a paired difference is tighter than either interval
    opt = o.loc[("improved_any", "optimal")]
    rec = o.loc[("improved_any", "recorded")]
    assert opt["diff_hi"] - opt["diff_lo"] < min(opt["hi"] - opt["lo"], rec["hi"] - rec["lo"])
    assert o.loc[("fit_covered", "optimal"), "mean"] > o.loc[("fit_covered", "current"), "mean"]
    assert set(cmp.checks["policy"]) == set(pols)
    tab = cmp.table(lang="en")
    assert list(tab.columns) == list(pols) and "pred_improved_any" in tab.index
    assert tab.loc["diff_improved_any", "recorded"] == "+0.000 [+0.000, +0.000] ±0.000"
    assert tab.loc["diff_improved_any", "optimal"].count("±") == 1  # issue 16: the MC error
    assert (tab.loc["hard_rules_met"] == "yes").all()
    assert tab.loc["changed_share", "regroup"].startswith("0.1")
    zh = cmp.table(lang="zh")
    assert "最优匹配" in zh.columns and "预测显著进步学生比例" in zh.index
    assert "预测学业支持显著进步比例" in zh.index and zh.shape == tab.shape
    fig = cmp.plot()
    assert len(fig.axes) == 2 and "预测" in fig.axes[0].get_title()
    fig_en = cmp.plot(lang="en")
    assert fig_en.axes[0].get_title() == "predicted share progressing"
    plt.close("all")


def test_compare_without_model_and_run_policy(primary, middle):
    cmp = g.compare_policies(
        primary, 2023, policies=("current", "optimal"), draws=2, progress=False
    )
    assert set(cmp.outcomes["measure"]) == {"mean_fit"}
    assert len(cmp.plot().axes) == 1
    a, c = g.run_policy(primary, 2024, "regroup")
    row = c.set_index("rule").loc["changed_share"]
    assert row["hard"] and row["pass"] and row["value"] <= 0.15
    a, c = g.run_policy(middle, 2024, "two_way", seed=3, noise=0.2)
    assert g.hard_rules_met(c) and a["source"].isin(["matched", "reconciled", "placed"]).all()
    with pytest.raises(InputError, match="unknown policy"):
        g.run_policy(primary, 2024, "nope")
    plt.close("all")


def test_compare_skips_a_policy_no_grouping_can_satisfy(proster):
    students, mentors = proster
    pols = ("current", g.OptimalPolicy(gender_tol=0.0))
    cmp = g.compare(students, mentors, PRIMARY, policies=pols, draws=1, progress=False)
    assert cmp.policies == ["current"]
    assert cmp.notes and cmp.notes[0].startswith("optimal skipped: gender balance")
    with pytest.raises(InfeasibleError, match="no policy could group"):
        g.compare(students, mentors, PRIMARY, policies=pols[1:], draws=1, progress=False)


# --------------------------------------------------------------------------- the result protocol


def test_comparison_follows_the_result_protocol(proster):
    students, mentors = proster
    rules = PRIMARY.with_changes(target_share=0.9, alpha=0.1)
    cmp = g.compare(students, mentors, rules, policies=("current", "optimal"), draws=2)
    assert cmp.confidence == pytest.approx(0.9) and cmp.target == 0.9  # from the rulebook
    assert cmp.level == "primary" and cmp.n_students == len(students)
    zh = cmp.summary()
    assert zh.startswith("分组方案比较（2 次模拟，90% 区间）") and "最优匹配" in zh
    assert "Grouping policies (2 draws, 90% intervals)" in cmp.summary("en")
    with pytest.raises(InputError, match="lang"):
        cmp.summary("EN")
    with pytest.raises(InputError, match="lang"):
        cmp.table(lang="fr")
    assert cmp.table().columns.tolist() == ["班主任默认分组", "最优匹配"]  # Chinese by default
    t = cmp.tables()
    assert set(t) == {"comparison", "checks", "outcomes"}
    assert "suppressed" in t["checks"] and "label" in t["checks"]
    assert "suppressed" not in cmp.tables(public=False)["checks"]
    figs = cmp.figures(lang="en")
    assert list(figs) == ["comparison"] and len(figs["comparison"].axes) == 1
    d = cmp.to_json_dict()
    text = json.dumps(d)  # plain values only
    assert set(d) >= {"checks", "outcomes", "notes"} and d["target"] == 0.9
    assert "NaN" not in text
    plt.close("all")


def test_comparison_summary_states_the_target_with_a_model(primary, primary_study):
    model = g.OutcomeModel.from_synth(primary_study, 2024)
    cmp = g.compare_policies(
        primary, 2024, policies=("current", "optimal"), model=model, draws=2, progress=False
    )
    assert "目标 85%" in cmp.summary() and "target 85%" in cmp.summary("en")
    assert "预测显著进步学生比例" in cmp.summary()
