"""Grouping: known matchings, brute-force optima, the checker, policies and the simulator.

Independent sources: the hospital-resident and one-to-one examples are worked examples of the
deferred-acceptance algorithm (the hospital-resident one is the tutorial example of the
``matching`` library, Wilde, Knight & Gillard 2020, JOSS 5(48):2169; the one-to-one one is
solved by hand in the comment below). Optima and stability are checked against brute-force
enumeration of every assignment; predicted rates against the normal-CDF closed form and the
synthetic generator's known truth.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from mentorlib import grouping as g
from mentorlib import matching as mt
from mentorlib.data import from_synth
from mentorlib.errors import InfeasibleError, InputError
from mentorlib.rules import rulebook

PRIMARY = rulebook("primary")
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def primary(primary_study):
    return from_synth(primary_study)


@pytest.fixture(scope="module")
def middle(middle_study):
    return from_synth(middle_study)


@pytest.fixture(scope="module")
def proster(primary):
    return g.roster(primary, 2024)


@pytest.fixture(scope="module")
def mroster(middle):
    return g.roster(middle, 2024)


WEAK = ["study_method", "homework", "emotion", "peers", "manners", "time"]
INTERESTS = ["reading", "sports", "art", "music", "science"]
DIMS = ["moral", "academic", "psychological", "habits"]


def _subset(rng, pool, p):
    return ";".join(x for x in pool if rng.random() < p)


def small_roster(seed: int, *, classes: int = 2, with_current: bool = False):
    """A random primary roster: 1-3 mentors per class, 5-8 students per mentor."""
    rng = np.random.default_rng(seed)
    srows, mrows = [], []
    for c in range(1, classes + 1):
        k = int(rng.integers(1, 4))
        n = int(rng.integers(5 * k, 8 * k + 1))
        for j in range(k):
            mrows.append(
                {
                    "mentor_id": f"m{c}{j}",
                    "role": "class_teacher" if j == 0 else "subject_teacher",
                    "grade": 1,
                    "link_class": f"1-{c}",
                    "homeroom": f"1-{c}" if j == 0 else None,
                    "strengths": ";".join(
                        [DIMS[int(rng.integers(4))], *[x for x in INTERESTS if rng.random() < 0.3]]
                    ),
                }
            )
        for i in range(n):
            srows.append(
                {
                    "student_id": f"s{c}{i:02d}",
                    "gender": "female" if rng.random() < 0.5 else "male",
                    "grade": 1,
                    "class_no": c,
                    "home_area": f"a{int(rng.integers(3))}",
                    "weak_areas": _subset(rng, WEAK, 0.3),
                    "interests": _subset(rng, INTERESTS, 0.3),
                }
            )
    students, mentors = pd.DataFrame(srows), pd.DataFrame(mrows)
    if with_current:
        cur = g.ClassDefaultPolicy().assign(students, mentors, PRIMARY)
        reasons = np.array(["personality", "friends", "needs_mismatch", None], dtype=object)
        students = students.assign(
            current_mentor=cur["mentor_id"].to_numpy(),
            want_change=rng.random(len(students)) < 0.3,
            reason=reasons[rng.integers(0, 4, len(students))],
        )
    return students, mentors


def gender_feasible(students, mentors, rules, tol) -> bool:
    """Brute force over group compositions: mentors of a class are interchangeable."""
    r = (students["gender"] == "female").mean()
    for c, s in students.groupby("class_no"):
        k = int((mentors["link_class"] == f"1-{c}").sum())
        n, f = len(s), int((s["gender"] == "female").sum())
        reach = {(0, 0)}
        for _ in range(k):
            reach = {
                (a + nj, b + fj)
                for a, b in reach
                for nj in range(rules.group_min, rules.group_max + 1)
                for fj in range(nj + 1)
                if abs(fj - r * nj) <= tol * nj + 1e-9 and a + nj <= n and b + fj <= f
            }
        if (n, f) not in reach:
            return False
    return True


# --------------------------------------------------------------------------- deferred acceptance


def test_hospital_resident_known_answer():
    # the `matching` library's hospital-resident tutorial (Wilde, Knight & Gillard 2020)
    residents = {
        "A": ["C"],
        "S": ["C", "M"],
        "D": ["C", "M", "G"],
        "J": ["C", "G", "M"],
        "L": ["M", "C", "G"],
    }
    hospitals = {"M": ["D", "L", "S", "J"], "C": ["D", "A", "S", "L", "J"], "G": ["D", "J", "L"]}
    got = mt.deferred_acceptance(residents, hospitals, dict.fromkeys(hospitals, 2))
    assert got == {"M": ["L", "S"], "C": ["D", "A"], "G": ["J"]}


def test_one_to_one_known_answer():
    # by hand: A->D, B->D, C->F; D keeps B (B before A) and rejects A; A->E. {A:E, B:D, C:F}
    men = {"A": ["D", "E", "F"], "B": ["D", "F", "E"], "C": ["F", "D", "E"]}
    women = {"D": ["B", "C", "A"], "E": ["A", "C", "B"], "F": ["C", "B", "A"]}
    got = mt.deferred_acceptance(men, women, dict.fromkeys(women, 1))
    assert {m: s[0] for m, s in got.items()} == {"E": "A", "D": "B", "F": "C"}


def _blocking(match, sp, mp, caps):
    """Brute force: pairs (s, m) that both prefer each other to what they have."""
    of = {s: m for m, ss in match.items() for s in ss}
    out = []
    for s, lst in sp.items():
        for m in lst:
            if s not in mp.get(m, []):
                continue
            if s in of and lst.index(of[s]) <= lst.index(m):
                continue
            held = match.get(m, [])
            if len(held) < caps[m] or any(mp[m].index(s) < mp[m].index(t) for t in held):
                out.append((s, m))
    return out


@FAST
@given(st.integers(0, 10**9))
def test_deferred_acceptance_is_stable_and_student_optimal(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 6)), int(rng.integers(1, 4))
    S, M = [f"s{i}" for i in range(n)], [f"m{j}" for j in range(m)]
    sp = {s: [M[j] for j in rng.permutation(m)[: rng.integers(0, m + 1)]] for s in S}
    mp = {x: [S[i] for i in rng.permutation(n)[: rng.integers(0, n + 1)]] for x in M}
    caps = {x: int(rng.integers(1, 3)) for x in M}
    got = mt.deferred_acceptance(sp, mp, caps)
    assert not _blocking(got, sp, mp, caps)
    of = {s: x for x, ss in got.items() for s in ss}
    for x, ss in got.items():
        assert len(ss) <= caps[x] and all(x in sp[s] and s in mp[x] for s in ss)
    # every stable matching, by enumeration: DA is weakly best for every student
    opts = [[None] + [x for x in sp[s] if s in mp[x]] for s in S]
    for combo in itertools.product(*opts):
        match = {x: [s for s, y in zip(S, combo, strict=True) if y == x] for x in M}
        if any(len(v) > caps[x] for x, v in match.items()) or _blocking(match, sp, mp, caps):
            continue
        for s, y in zip(S, combo, strict=True):
            mine = of.get(s)
            rank = sp[s].index(mine) if mine else len(sp[s])
            assert rank <= (sp[s].index(y) if y else len(sp[s]))


# --------------------------------------------------------------------------- the exact solver


def _brute(w, ok, lo, hi, req, female, tol, areas, max_areas):
    n, m = w.shape
    r = female.mean()
    best = None
    for combo in itertools.product(range(m), repeat=n):
        a = np.array(combo)
        if not ok[np.arange(n), a].all():
            continue
        size = np.bincount(a, minlength=m)
        if ((size > hi) | (req & (size < lo)) | (~req & (size > 0) & (size < lo))).any():
            continue
        if tol is not None:
            fem = np.bincount(a, weights=female.astype(float), minlength=m)
            if (np.abs(fem - r * size) > tol * size + 1e-9).any():
                continue
        if max_areas is not None:
            if any(len(set(areas[a == j])) > max_areas for j in range(m)):
                continue
        total = w[np.arange(n), a].sum()
        best = total if best is None else max(best, total)
    return best


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**9))
def test_solver_total_equals_brute_force_optimum(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 8)), int(rng.integers(1, 4))
    w = np.round(rng.random((n, m)), 1)  # ties on purpose
    ok = rng.random((n, m)) < 0.85
    lo = rng.integers(0, 3, m)
    hi = lo + rng.integers(0, 4, m)
    req = rng.random(m) < 0.7
    female = rng.random(n) < 0.5
    tol = [None, 0.2, 0.4][int(rng.integers(3))]
    areas = rng.integers(0, 3, n)
    max_areas = [None, 1, 2][int(rng.integers(3))]
    best = _brute(w, ok, lo, hi, req, female, tol, areas, max_areas)
    kw = dict(lower=lo, upper=hi, allowed=ok, required=req, female=female, gender_tol=tol)
    kw.update(areas=areas, max_areas=max_areas)
    if best is None:
        with pytest.raises(InfeasibleError):
            mt.solve_assignment(w, **kw)
        return
    got = mt.solve_assignment(w, **kw)
    assert got.shape == (n,) and ok[np.arange(n), got].all()
    assert w[np.arange(n), got].sum() == pytest.approx(best, abs=1e-6)


def test_solver_doc_example_and_bad_input():
    w = np.array([[3.0, 1.0], [2.0, 1.0], [0.0, 1.0]])
    assert mt.solve_assignment(w, lower=1, upper=2).tolist() == [0, 0, 1]
    with pytest.raises(InputError, match="finite"):
        mt.solve_assignment(np.array([[np.nan]]), lower=0, upper=1)
    with pytest.raises(InfeasibleError, match="^group_max: the school has 3 students"):
        mt.solve_assignment(w, lower=0, upper=1)
    with pytest.raises(InfeasibleError, match="^group_min"):
        mt.solve_assignment(w, lower=2, upper=3)


# --------------------------------------------------------------------------- fit and data


def test_fit_hand_computed():
    s = pd.DataFrame(
        {
            "student_id": ["a", "b"],
            "gender": ["male", "female"],
            "weak_areas": ["study_method;emotion", None],
            "help_wanted": ["tutoring;talk;family", "interest"],
            "interests": ["art;music", "dance"],
        }
    )
    m = pd.DataFrame({"mentor_id": ["x", "y"], "strengths": ["academic;art", "moral;dance"]})
    f = g.fit_scores(s, m, PRIMARY)
    # a-x: 0.7 * 1/2 (academic of academic+psychological) + 0.3 * |{art}|/|{art, music}|
    assert f.loc["a", "x"] == pytest.approx(0.7 * 0.5 + 0.3 * 0.5)
    assert f.loc["a", "y"] == pytest.approx(0.0)
    assert f.loc["b", "y"] == pytest.approx(0.3 * 1.0)  # no weak area; Jaccard {dance}
    h = g.fit_scores(s, m, PRIMARY, weights={"needs": 0, "interests": 0, "help": 1})
    # a asks tutoring, talk (family is not scored): x gives tutoring, y gives talk (moral)
    assert h.loc["a", "x"] == pytest.approx(0.5) and h.loc["a", "y"] == pytest.approx(0.5)
    assert h.loc["b", "y"] == pytest.approx(1.0) and h.loc["b", "x"] == pytest.approx(0.0)
    with pytest.raises(InputError, match="unknown fit weight"):
        g.fit_scores(s, m, PRIMARY, weights={"personality": 1})


def test_fit_matches_generator_truth(primary_study, primary, proster):
    # the generator's per-dimension fit (weak dimension covered by a strength) for students
    # who kept their term-1 mentor all year equals ours from the needs survey and strengths
    students, mentors = proster
    pb = g._problem(students, mentors, PRIMARY, scope="school")
    cur = pb.current()
    ours = pb.weak & pb.strength[cur]
    lat = primary_study.truth["latent"]
    lat = lat.loc[lat["year"] == 2024]
    truth = (
        lat.pivot(index="student_id", columns="dimension", values="fit")
        .reindex(index=pb.sid, columns=list(PRIMARY.dimensions))
        .to_numpy()
    )
    whole = np.isin(truth, [0.0, 1.0]).all(1)  # same mentor both terms
    assert whole.mean() > 0.9
    assert (ours[whole] == truth[whole].astype(bool)).mean() > 0.98


def test_roster_primary_and_middle(primary, middle, proster, mroster):
    students, mentors = proster
    st_ = primary["students"]
    assert len(students) == int((st_["year"] == 2024).sum())
    assert len(mentors) == int((primary["staff"]["year"] == 2024).sum())  # every staff member
    a = primary["assignments"]
    a = a.loc[(a["year"] == 2024) & (a["term"] == 1)]
    rec = dict(zip(a["student_id"].astype(str), a["mentor_id"].astype(str), strict=True))
    assert students["current_mentor"].tolist() == [rec[s] for s in students["student_id"]]
    ms, mm = mroster
    m_st = middle["students"]
    assert len(ms) == int(m_st.loc[m_st["year"] == 2024, "mentee"].sum())  # nominated only
    assert set(mm["role"]) <= {"class_teacher", "subject_teacher"}
    assert {"pref_1", "pref_2", "pref_3"} <= set(ms.columns)
    with pytest.raises(InputError, match="no students in year 1999"):
        g.roster(primary, 1999)


def test_preferences_stated_and_fit(mroster, proster):
    ms, mm = mroster
    rules = rulebook("middle")
    sp = g.student_preferences(ms, mm, rules)
    first = sp.loc[sp["rank"] == 1].set_index("student_id")["mentor_id"]
    stated = ms.set_index("student_id")["pref_1"].dropna()
    common = stated.index.intersection(first.index)
    assert (first[common] == stated[common]).mean() > 0.95  # named mentors in scope
    ps, pm = proster
    fp = g.student_preferences(ps, pm, PRIMARY)
    assert fp.groupby("student_id")["fit"].apply(lambda f: f.is_monotonic_decreasing).all()
    mp = g.mentor_preferences(ps, pm, PRIMARY)
    assert mp.groupby("mentor_id")["fit"].apply(lambda f: f.is_monotonic_decreasing).all()
    # class scope: every listed mentor is linked to the student's class
    cls = ps.set_index("student_id")["class"]
    link = pm.set_index("mentor_id")["link_class"]
    assert (fp["student_id"].map(cls).to_numpy() == fp["mentor_id"].map(link).to_numpy()).all()


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
    pb = g._problem(students, mentors, PRIMARY)
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


# --------------------------------------------------------------------------- simulator


def test_simulated_rates_match_the_closed_form(proster):
    # independent residuals, no parameter uncertainty: P(improve in d) = Phi((mu - t) / sd)
    students, mentors = proster
    dims = list(PRIMARY.dimensions)
    rng = np.random.default_rng(0)
    eff = pd.DataFrame(
        [(m, d, rng.normal(0, 0.2)) for m in mentors["mentor_id"] for d in dims],
        columns=["mentor_id", "dimension", "effect"],
    )
    model = g.OutcomeModel(
        effects=eff,
        baseline=dict(zip(dims, [0.3, 0.3, 0.3, 0.3], strict=True)),
        fit_effect=0.25,
        residual_sd=0.4,
        threshold=0.5,
    )
    a = g.OptimalPolicy().assign(students, mentors, PRIMARY)
    sim = g.simulate_outcomes(a, students, mentors, PRIMARY, model, draws=300, seed=1)
    got = sim.groupby("measure")["value"].mean()
    pb = g._problem(students, mentors, PRIMARY)
    col = pd.Index(pb.mid).get_indexer(a["mentor_id"])
    u = eff.pivot(index="mentor_id", columns="dimension", values="effect").loc[pb.mid, dims]
    mu = 0.3 + u.to_numpy()[col] + 0.25 * (pb.weak & pb.strength[col])
    p = norm.cdf((mu - 0.5) / 0.4)
    se = math.sqrt(0.25 / (len(students) * 300))  # Monte Carlo standard error, at most
    for k, d in enumerate(dims):
        assert got[f"improved_{d}"] == pytest.approx(p[:, k].mean(), abs=5 * se)
    assert got["improved_any"] == pytest.approx((1 - (1 - p).prod(1)).mean(), abs=5 * se)


def test_simulator_recovers_the_generator_truth(primary_study, primary):
    # the generator's true mentor effects, fit effect, baseline and residual SD predict the
    # share of students who truly improved in at least one dimension (truth["latent"])
    gaps = []
    for year in primary.years:
        students, mentors = g.roster(primary, year)
        model = g.OutcomeModel.from_synth(primary_study, year)
        a = g.RecordedPolicy().assign(students, mentors, PRIMARY)
        sim = g.simulate_outcomes(a, students, mentors, PRIMARY, model, draws=200, seed=year)
        v = sim.loc[sim["measure"] == "improved_any", "value"]
        lat = primary_study.truth["latent"]
        lat = lat.loc[(lat["year"] == year) & lat["student_id"].isin(students["student_id"])]
        truth = lat.groupby("student_id", observed=True)["improved"].any().mean()
        assert v.quantile(0.005) <= truth <= v.quantile(0.995)
        gaps.append(v.mean() - truth)
    # pooled over three years (about 1,800 students): within 3 binomial SEs (0.011 each)
    assert abs(np.mean(gaps)) < 0.035


def test_parameter_uncertainty_widens_the_interval(proster, primary_study):
    students, mentors = proster
    model = g.OutcomeModel.from_synth(primary_study, 2024)
    a = g.RecordedPolicy().assign(students, mentors, PRIMARY)

    def width(m):
        s = g.simulate_outcomes(a, students, mentors, PRIMARY, m, draws=200, seed=2)
        v = s.loc[s["measure"] == "improved_any", "value"]
        return v.quantile(0.975) - v.quantile(0.025)

    wide = g.OutcomeModel(
        **{**model.__dict__, "effects": model.effects.assign(se=0.3), "fit_effect_se": 0.2}
    )
    assert width(wide) > 1.3 * width(model)


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
    tab = cmp.table()
    assert list(tab.columns) == list(pols) and "pred_improved_any" in tab.index
    assert (tab.loc["hard_rules_met"] == "yes").all()
    assert tab.loc["changed_share", "regroup"].startswith("0.1")
    zh = cmp.table(lang="zh")
    assert "最优匹配" in zh.columns and "预测显著进步学生比例" in zh.index
    assert "预测学业支持显著进步比例" in zh.index and zh.shape == tab.shape
    fig = cmp.plot()
    assert len(fig.axes) == 2 and "预测" in fig.axes[0].get_title()
    fig_en = cmp.plot(lang="en")
    assert fig_en.axes[0].get_title() == "predicted share progressing"
    import matplotlib.pyplot as plt

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
    import matplotlib.pyplot as plt

    plt.close("all")


def test_compare_skips_a_policy_no_grouping_can_satisfy(proster):
    students, mentors = proster
    pols = ("current", g.OptimalPolicy(gender_tol=0.0))
    cmp = g.compare(students, mentors, PRIMARY, policies=pols, draws=1, progress=False)
    assert cmp.policies == ["current"]
    assert cmp.notes and cmp.notes[0].startswith("optimal skipped: gender balance")
    with pytest.raises(InfeasibleError, match="no policy could group"):
        g.compare(students, mentors, PRIMARY, policies=pols[1:], draws=1, progress=False)


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


def test_outcome_model_from_fitted_predicts_the_observed_rate():
    """Fitted on a school's own data, the simulator reproduces that school's measured rate for
    the grouping it actually had (the reliable-change rate of mentorlib.progress)."""
    from mentorlib import progress
    from mentorlib.clean import clean_study

    from conftest import SAMPLE

    P = clean_study(SAMPLE).processed()
    model = g.OutcomeModel.from_fitted(P, 2024)
    assert model.threshold == 1.0 and set(model.baseline) == set(P.dimensions)
    cmp = g.compare_policies(
        P, 2024, policies=("recorded", "optimal"), model=model, draws=30, seed=1
    )
    out = cmp.outcomes
    rec = out[(out["policy"] == "recorded") & (out["measure"] == "improved_any")].iloc[0]
    observed = progress.progress_report(P, 2024).verdict.iloc[0]["proportion"]
    assert rec["lo"] - 0.05 <= observed <= rec["hi"] + 0.05
