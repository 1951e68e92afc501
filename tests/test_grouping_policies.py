"""Grouping policies: the registry, the hard rules on random rosters (against a brute-force
feasibility check), each policy on the synthetic school, infeasible and bad input, and the
rulebook's numbers reaching the policies."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mentorlib import grouping as g
from mentorlib.errors import InfeasibleError, InputError
from mentorlib.grouping.roster import build_problem
from mentorlib.rules import rulebook

from _grouping_fixtures import FAST, PRIMARY, gender_feasible, small_roster

# --------------------------------------------------------------------------- fixtures


# --------------------------------------------------------------------------- policies


def test_registry_and_sklearn_style():
    assert set(g.POLICIES) == {"recorded", "current", "random", "two_way", "optimal", "regroup"}
    for name, cls in g.POLICIES.items():
        pol = g.make_policy(name)
        assert isinstance(pol, cls) and pol.name == name
        assert type(pol)(**pol.get_params()).get_params() == pol.get_params()
    assert g.make_policy("optimal", gender_tol=0.1).gender_tol == 0.1
    with pytest.raises(InputError, match="unknown policy 'best'"):
        g.make_policy("best")
    with pytest.raises(InputError, match="takes no parameter"):
        g.make_policy("optimal", tolerance=0.1)
    assert g.RegroupPolicy.adjusts and not g.OptimalPolicy.adjusts
    assert g.TwoWayPolicy(noise=0).is_stochastic is False


POLICY_NAMES = ["current", "random", "two_way", "optimal", "regroup"]


@FAST
@given(st.integers(0, 10**9), st.sampled_from([0.1, 0.2, 0.25, 0.4]))
def test_every_policy_meets_the_hard_rules_when_feasible(seed, tol):
    students, mentors = small_roster(seed, with_current=True)
    before = students.copy()
    feasible = gender_feasible(students, mentors, PRIMARY, tol)
    for name in POLICY_NAMES:
        pol = g.make_policy(name)
        if "gender_tol" in pol.get_params():
            pol.gender_tol = tol
        try:
            a = pol.assign(students, mentors, PRIMARY, seed=seed)
        except InfeasibleError as e:
            assert name in ("random", "two_way", "optimal") and not feasible, (name, str(e))
            assert str(e).startswith("gender balance") and "\n" not in str(e)
            continue
        if name in ("random", "two_way", "optimal"):
            assert feasible  # a gender-balanced grouping was found: it exists
        c = g.check(
            a,
            students,
            mentors,
            PRIMARY,
            previous=students.set_index("student_id")["current_mentor"],
            adjustment=pol.adjusts,
            gender_tol=tol,
        )
        assert g.hard_rules_met(c), (name, c)
        if name in ("random", "two_way", "optimal"):
            assert c.set_index("rule").loc["gender_balance", "pass"]
    pd.testing.assert_frame_equal(students, before)  # input never modified


def test_policies_on_the_synthetic_school(proster):
    students, mentors = proster
    s0, m0 = students.copy(), mentors.copy()
    res = {n: g.make_policy(n).assign(students, mentors, PRIMARY, seed=1) for n in g.POLICIES}
    pd.testing.assert_frame_equal(students, s0)
    pd.testing.assert_frame_equal(mentors, m0)
    total = {n: a["fit"].sum() for n, a in res.items()}
    for n, a in res.items():
        assert list(a.columns) == ["student_id", "mentor_id", "fit", "source"]
        assert a["student_id"].tolist() == students["student_id"].tolist()
        assert g.hard_rules_met(g.check(a, students, mentors, PRIMARY)), n
    # the optimum under the same constraints beats every other policy meeting them
    assert total["optimal"] >= max(total["random"], total["two_way"]) - 1e-9
    wide = g.OptimalPolicy(scope="grade").assign(students, mentors, PRIMARY)
    free = g.OptimalPolicy(gender_tol=None).assign(students, mentors, PRIMARY)
    assert wide["fit"].sum() >= total["optimal"] - 1e-9
    assert free["fit"].sum() >= total["optimal"] - 1e-9
    assert total["optimal"] > total["recorded"] > total["current"]


def test_current_practice_splits_class_lists_in_blocks(proster):
    students, mentors = proster
    a = g.ClassDefaultPolicy().assign(students, mentors, PRIMARY)
    link = dict(zip(mentors["mentor_id"], mentors["link_class"], strict=True))
    assert (a["mentor_id"].map(link).to_numpy() == students["class"].to_numpy()).all()
    df = a.assign(cls=students["class"].to_numpy()).sort_values(["cls", "student_id"])
    for _, part in df.groupby("cls"):
        runs = (part["mentor_id"] != part["mentor_id"].shift()).sum()
        assert runs == part["mentor_id"].nunique()  # consecutive blocks of the class list
        sizes = part["mentor_id"].value_counts()
        assert sizes.max() - sizes.min() <= 1


def test_two_way_selection(proster, mroster):
    students, mentors = proster
    a = g.TwoWayPolicy(noise=0.0).assign(students, mentors, PRIMARY)
    assert (a["source"] == "matched").mean() > 0.8
    c = g.check(a, students, mentors, PRIMARY).set_index("rule")
    r = g.check(
        g.RandomPolicy().assign(students, mentors, PRIMARY, seed=0), students, mentors, PRIMARY
    )
    r = r.set_index("rule")
    assert c.loc["blocking_pairs", "value"] < r.loc["blocking_pairs", "value"] / 2
    assert c.loc["first_choice", "value"] > r.loc["first_choice", "value"]
    ms, mm = mroster
    rules = rulebook("middle")
    b = g.TwoWayPolicy(noise=0.0).assign(ms, mm, rules)
    cm = g.check(b, ms, mm, rules).set_index("rule")
    assert g.hard_rules_met(cm.reset_index())
    # stated choices drive middle school: more first choices than the fit optimum gives
    o = g.check(g.OptimalPolicy().assign(ms, mm, rules), ms, mm, rules).set_index("rule")
    assert cm.loc["first_choice", "value"] > o.loc["first_choice", "value"]
    assert pd.isna(cm.loc["gender_balance", "pass"])  # groups of 1-2


def test_regroup_moves_only_candidates_within_the_cap(proster):
    students, mentors = proster
    pol = g.RegroupPolicy()
    a = pol.assign(students, mentors, PRIMARY)
    moved = a["mentor_id"].to_numpy() != students["current_mentor"].to_numpy()
    assert moved.mean() <= PRIMARY.max_regroup_share
    sound = students["want_change"].fillna(False) & students["reason"].isin(
        ["personality", "needs_mismatch", "too_little_contact"]
    )
    pb = build_problem(students, mentors, PRIMARY)
    fit_now = pb.fit[np.arange(pb.n), pb.current()]
    candidate = sound.to_numpy() | (fit_now < pol.low_fit)
    assert not (moved & ~candidate).any()
    assert (moved[sound.to_numpy()]).mean() > 0.9  # askers move first
    # without askers, staying is feasible, so the moves must gain more than min_gain each
    # on average (one low-fit move may make room for another: gains count in total)
    quiet = students.assign(want_change=False)
    b = pol.assign(quiet, mentors, PRIMARY)
    mv = b["mentor_id"].to_numpy() != students["current_mentor"].to_numpy()
    assert 0 < mv.sum() <= math.floor(PRIMARY.max_regroup_share * len(students))
    assert (b["fit"].to_numpy()[mv] - fit_now[mv]).sum() > pol.min_gain * mv.sum()
    assert (b["source"][mv] == "moved_low_fit").all()
    none = g.RegroupPolicy(max_share=0).assign(students, mentors, PRIMARY)
    assert (none["mentor_id"] == students["current_mentor"]).all()


def test_max_areas(proster):
    students, mentors = proster
    one = students.loc[students["class"] == students["class"].iloc[0]]
    ms = mentors.loc[mentors["link_class"] == one["class"].iloc[0]]
    a = g.OptimalPolicy(max_areas=4, gender_tol=None).assign(one, ms, PRIMARY)
    areas = a.assign(area=one["home_area"].to_numpy()).groupby("mentor_id")["area"].nunique()
    assert areas.max() <= 4
    free = g.OptimalPolicy(gender_tol=None).assign(one, ms, PRIMARY)
    assert free["fit"].sum() >= a["fit"].sum() - 1e-9


# --------------------------------------------------------------------------- infeasible input


def _one_class(proster):
    students, mentors = proster
    c = students["class"].iloc[0]
    return students, mentors, c


def test_infeasible_inputs_name_the_binding_rule(proster):
    students, mentors, c = _one_class(proster)
    keep = mentors.loc[mentors["link_class"] == c, "mentor_id"].iloc[0]
    few = mentors.loc[(mentors["link_class"] != c) | (mentors["mentor_id"] == keep)]
    cases = [
        (g.OptimalPolicy(), students, few, PRIMARY, f"^group_max: class {c} has \\d+ students"),
        (g.OptimalPolicy(gender_tol=0.0), students, mentors, PRIMARY, "^gender balance"),
        (g.RandomPolicy(gender_tol=0.0), students, mentors, PRIMARY, "^gender balance"),
        (
            g.OptimalPolicy(max_areas=1, gender_tol=None),
            students,
            mentors,
            PRIMARY,
            "^home area",
        ),
        (g.OptimalPolicy(), students.loc[students["class"] != c], mentors, PRIMARY, "^group_min"),
        (
            g.TwoWayPolicy(),
            students,
            mentors.loc[mentors["link_class"] != c],
            PRIMARY,
            f"^scope: student \\S+ \\(class {c}\\) has no eligible mentor",
        ),
        (g.ClassDefaultPolicy(), students, few, PRIMARY, "^group_max"),
        (g.OptimalPolicy(), students, mentors, PRIMARY.with_changes(group_max=4), "^group_max"),
        (
            g.OptimalPolicy(),
            students,
            mentors,
            PRIMARY.with_changes(group_min=9, group_max=9),
            "^group_",
        ),
    ]
    for pol, s, m, rules, pattern in cases:
        with pytest.raises(InfeasibleError, match=pattern) as e:
            pol.assign(s, m, rules)
        msg = str(e.value)
        assert "\n" not in msg and "HiGHS" not in msg and "Traceback" not in msg


def test_bad_input_is_one_line(proster):
    students, mentors = proster
    with pytest.raises(InputError, match="duplicate student_id"):
        g.OptimalPolicy().assign(pd.concat([students, students.iloc[:1]]), mentors, PRIMARY)
    with pytest.raises(InputError, match="gender must be female or male"):
        g.OptimalPolicy().assign(students.assign(gender="x"), mentors, PRIMARY)
    with pytest.raises(InputError, match="unknown scope"):
        g.OptimalPolicy(scope="district").assign(students, mentors, PRIMARY)
    with pytest.raises(InputError, match="lacks column"):
        g.OptimalPolicy().assign(students.drop(columns="gender"), mentors, PRIMARY)
    with pytest.raises(InputError, match="no current_mentor"):
        g.RegroupPolicy().assign(students.drop(columns="current_mentor"), mentors, PRIMARY)
    with pytest.raises(InputError, match="Rulebook"):
        g.OptimalPolicy().assign(students, mentors, "primary")


def test_gender_balance_around_each_class_share():
    # class 1: 10 girls of 10 (school share 10/20 = 0.5); class 2: 10 boys. Around the school's
    # share no group of class 1 can be balanced; around each class's share every one is.
    students = pd.DataFrame(
        {
            "student_id": [f"s{i:02d}" for i in range(20)],
            "gender": ["female"] * 10 + ["male"] * 10,
            "grade": 1,
            "class_no": [1] * 10 + [2] * 10,
        }
    )
    mentors = pd.DataFrame(
        {"mentor_id": ["a", "b", "c", "d"], "link_class": ["1-1", "1-1", "1-2", "1-2"]}
    )
    with pytest.raises(InfeasibleError, match="gender_ref='unit'"):
        g.OptimalPolicy().assign(students, mentors, PRIMARY)
    a = g.OptimalPolicy(gender_ref="unit").assign(students, mentors, PRIMARY)
    c = g.check(a, students, mentors, PRIMARY, gender_ref="unit").set_index("rule")
    assert c.loc["gender_balance", "value"] == 0 and c.loc["gender_balance", "pass"]
    c = g.check(a, students, mentors, PRIMARY).set_index("rule")
    assert c.loc["gender_balance", "value"] == 0.5 and not c.loc["gender_balance", "pass"]


# --------------------------------------------------------------------------- the rulebook's numbers


def test_regroup_moves_up_to_the_rulebook_cap():
    # every student asks with a sound reason: the policy moves as many as the cap allows
    students, mentors = small_roster(11, classes=3, with_current=True)
    students = students.assign(want_change=True, reason="personality")
    n = len(students)
    wide = rulebook("primary", {"max_regroup_share": 0.2, "gender_tol": 0.1})
    moved = {}
    for rules in (PRIMARY, wide):
        a = g.RegroupPolicy(gender_tol=None).assign(students, mentors, rules)
        moved[rules.max_regroup_share] = int((a["source"] != "kept").sum())
        c = g.check(
            a,
            students,
            mentors,
            rules,
            previous=students.set_index("student_id")["current_mentor"],
            adjustment=True,
            gender_tol=None,
        ).set_index("rule")
        assert c.loc["changed_share", "pass"] and c.loc["changed_share", "hard"]
    assert moved[0.15] == math.floor(0.15 * n) < moved[0.2] == math.floor(0.2 * n)


def test_policies_take_the_gender_tolerance_from_the_rulebook():
    tight = rulebook("primary", {"gender_tol": 0.1})
    pol = g.OptimalPolicy()
    assert pol.get_params()["gender_tol"] == "rules"
    outcomes = set()
    for seed in range(6):
        students, mentors = small_roster(seed)
        for rules in (PRIMARY, tight):
            feasible = gender_feasible(students, mentors, rules, rules.gender_tol)
            try:
                a = pol.assign(students, mentors, rules)
            except InfeasibleError as e:
                assert not feasible and str(e).startswith("gender balance")
                outcomes.add((rules.gender_tol, False))
                continue
            assert feasible
            outcomes.add((rules.gender_tol, True))
            c = g.check(a, students, mentors, rules).set_index("rule")
            assert c.loc["gender_balance", "value"] <= rules.gender_tol + 1e-9
            assert c.loc["gender_balance", "target"] == f"<= {rules.gender_tol:g}"
    assert (0.1, False) in outcomes and (0.25, True) in outcomes  # the tolerance mattered
    with pytest.raises(InputError, match="gender_tol must be"):
        g.OptimalPolicy(gender_tol="tight").assign(students, mentors, PRIMARY)
