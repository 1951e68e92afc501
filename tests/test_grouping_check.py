"""Grouping checker: hand-computed checks, broken assignments, blocking pairs by brute force,
and the rulebook's numbers (gender tolerance, regrouping cap) reaching the checker."""

from __future__ import annotations

import pandas as pd
import pytest

from mentorlib import grouping as g
from mentorlib.errors import InputError
from mentorlib.rules import rulebook

from _grouping_fixtures import PRIMARY

# --------------------------------------------------------------------------- fixtures


# --------------------------------------------------------------------------- checker


def _hand():
    students = pd.DataFrame(
        {
            "student_id": [f"s{i}" for i in range(1, 8)],
            "gender": ["female"] * 3 + ["male"] * 4,
            "grade": 1,
            "class_no": 1,
            "weak_areas": ["study_method"] * 7,
            "interests": [""] * 7,
        }
    )
    mentors = pd.DataFrame(
        {"mentor_id": ["m1", "m2"], "link_class": ["1-1", "1-1"], "strengths": ["academic", ""]}
    )
    a = pd.DataFrame({"student_id": students["student_id"], "mentor_id": ["m1"] * 4 + ["m2"] * 3})
    return students, mentors, a, PRIMARY.with_changes(group_min=3, group_max=4)


def test_check_hand_computed():
    students, mentors, a, rules = _hand()
    prev = dict(zip(students["student_id"], ["m1"] * 3 + ["m2", "m1", "m2", "m2"], strict=True))
    c = g.check(a, students, mentors, rules, previous=prev, adjustment=True).set_index("rule")
    assert c.loc["students_assigned", "value"] == 1.0 and c.loc["staff_mentoring", "pass"]
    assert c.loc["group_min", "value"] == 3 and c.loc["group_max", "value"] == 4
    assert c.loc["students_per_mentor", "value"] == 3.5
    # m1: 3 of 4 female (0.75), m2: 0 of 3; school 3/7 -> largest gap 3/7
    assert c.loc["gender_balance", "value"] == pytest.approx(3 / 7)
    assert not c.loc["gender_balance", "pass"] and not c.loc["gender_balance", "hard"]
    # s4 and s5 changed: 2/7 > 0.15, a hard rule for an adjustment
    assert c.loc["changed_share", "value"] == pytest.approx(2 / 7)
    assert c.loc["changed_share", "hard"] and not c.loc["changed_share", "pass"]
    assert c.loc["total_fit", "value"] == pytest.approx(4 * 0.7)  # m1 covers academic
    # m2 students strictly prefer m1 (fit 0.7 > 0); m1 is full and indifferent: no blocking
    assert c.loc["blocking_pairs", "value"] == 0
    assert not g.hard_rules_met(c.reset_index())
    assert list(c.reset_index().columns) == ["rule", "value", "target", "pass", "hard"]


def test_check_flags_broken_assignments():
    students, mentors, a, rules = _hand()
    bad = pd.concat(
        [a.iloc[:6], pd.DataFrame({"student_id": ["zz", "s1"], "mentor_id": ["m1", "m9"]})]
    )
    c = g.check(bad, students, mentors, rules).set_index("rule")
    # unknown student zz, and s1 listed twice (both rows invalid)
    assert c.loc["assignment_valid", "value"] == 3 and not c.loc["assignment_valid", "pass"]
    assert c.loc["students_assigned", "value"] == pytest.approx(5 / 7)
    big = a.assign(mentor_id=["m1"] * 5 + ["m2"] * 2)
    c = g.check(big, students, mentors, rules).set_index("rule")
    assert not c.loc["group_max", "pass"] and not c.loc["group_min", "pass"]
    one = a.assign(mentor_id="m1")
    c = g.check(one, students, mentors, rules.with_changes(group_max=8)).set_index("rule")
    assert c.loc["staff_mentoring", "value"] == 0.5 and not c.loc["staff_mentoring", "pass"]
    with pytest.raises(InputError, match="lacks column"):
        g.check(a.drop(columns="mentor_id"), students, mentors, rules)


def test_blocking_pairs_match_brute_force(proster):
    students, mentors = proster
    a = g.RandomPolicy().assign(students, mentors, PRIMARY, seed=5)
    fit = g.fit_scores(students, mentors, PRIMARY)
    of = dict(zip(a["student_id"], a["mentor_id"], strict=True))
    cls = dict(zip(students["student_id"], students["class"], strict=True))
    link = dict(zip(mentors["mentor_id"], mentors["link_class"], strict=True))
    groups = a.groupby("mentor_id")["student_id"].apply(list).to_dict()
    count = 0
    for s in students["student_id"]:
        for m in mentors["mentor_id"]:
            if link[m] != cls[s] or fit.loc[s, m] <= fit.loc[s, of[s]]:
                continue
            held = groups.get(m, [])
            if len(held) < PRIMARY.group_max or any(fit.loc[s, m] > fit.loc[t, m] for t in held):
                count += 1
    c = g.check(a, students, mentors, PRIMARY).set_index("rule")
    assert c.loc["blocking_pairs", "value"] == count > 0


# --------------------------------------------------------------------------- the rulebook's numbers


def _balanced_pair():
    """10 students (4 girls: school share 0.4), two mentors of 5: each group 0.2 from 0.4."""
    students = pd.DataFrame(
        {
            "student_id": [f"s{i}" for i in range(10)],
            "gender": ["female"] * 3 + ["male"] * 2 + ["female"] + ["male"] * 4,
            "grade": 1,
            "class_no": 1,
        }
    )
    mentors = pd.DataFrame({"mentor_id": ["m1", "m2"], "link_class": ["1-1", "1-1"]})
    a = pd.DataFrame({"student_id": students["student_id"], "mentor_id": ["m1"] * 5 + ["m2"] * 5})
    prev = dict(zip(a["student_id"], a["mentor_id"], strict=True))
    prev["s0"], prev["s9"] = "m2", "m1"  # two of ten changed: 0.2
    return students, mentors, a, prev


def test_checker_takes_the_gender_tolerance_and_regroup_cap_from_the_rulebook():
    students, mentors, a, prev = _balanced_pair()
    base = PRIMARY.with_changes(group_min=3, group_max=5)
    tight = rulebook("primary", {"max_regroup_share": 0.2, "gender_tol": 0.1})
    tight = tight.with_changes(group_min=3, group_max=5)
    assert (base.max_regroup_share, base.gender_tol) == (0.15, 0.25)  # the defaults
    c0 = g.check(a, students, mentors, base, previous=prev, adjustment=True).set_index("rule")
    c1 = g.check(a, students, mentors, tight, previous=prev, adjustment=True).set_index("rule")
    assert c0.loc["gender_balance", "value"] == c1.loc["gender_balance", "value"] == 0.2
    assert c0.loc["gender_balance", "pass"] and not c1.loc["gender_balance", "pass"]
    assert c0.loc["gender_balance", "target"] == "<= 0.25"
    assert c1.loc["gender_balance", "target"] == "<= 0.1"
    # two of ten changed mentor: over a 15% cap (a hard rule), within a 20% one
    assert c0.loc["changed_share", "value"] == c1.loc["changed_share", "value"] == 0.2
    assert not c0.loc["changed_share", "pass"] and c1.loc["changed_share", "pass"]
    assert c1.loc["changed_share", "target"] == "<= 0.2"
    assert not g.hard_rules_met(c0.reset_index()) and g.hard_rules_met(c1.reset_index())
    # an explicit tolerance still wins; None leaves the row without a target
    c2 = g.check(a, students, mentors, tight, gender_tol=0.3).set_index("rule")
    assert c2.loc["gender_balance", "pass"]
    c3 = g.check(a, students, mentors, tight, gender_tol=None).set_index("rule")
    assert pd.isna(c3.loc["gender_balance", "pass"])
    with pytest.raises(InputError, match="gender_tol must be"):
        g.check(a, students, mentors, tight, gender_tol="loose")
