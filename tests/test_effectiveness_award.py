"""Tests of mentorlib.effectiveness.award: the award in whole yuan, band credibility, rewards."""

from __future__ import annotations

import tomllib
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from mentorlib import effectiveness as E
from mentorlib.data import Processed, from_synth
from mentorlib.effectiveness import award as award_module
from mentorlib.errors import InputError
from mentorlib.progress import study_changes
from mentorlib.rules import rulebook

MIDDLE = rulebook("middle")


# ------------------------------------------------------------------ rounding to the yuan


def test_round_to_total_hand_cases():
    # 1000 / 3 each: one yuan left over, to the first of the tied remainders
    assert E.round_to_total([1000 / 3] * 3, 1000).tolist() == [334, 333, 333]
    # remainders .6, .3, .1 of 10.6, 20.3, 30.1 (total 61): one unit left, to the largest
    assert E.round_to_total([10.6, 20.3, 30.1], 61).tolist() == [11, 20, 30]
    assert E.round_to_total([], 0).tolist() == []
    with pytest.raises(InputError):
        E.round_to_total([1.0, np.nan], 1)


def test_round_to_total_random_amounts_add_up_and_stay_close():
    rng = np.random.default_rng(1)
    for _ in range(300):
        n = int(rng.integers(1, 40))
        w = rng.random(n) * rng.choice([1, 1e-3, 1e3])
        total = int(rng.integers(0, 100_000))
        exact = total * w / w.sum()
        got = E.round_to_total(exact, total)
        assert got.sum() == total
        assert np.all(np.abs(got - exact) < 1)


def _term(term, n, bands, rng):
    return pd.DataFrame(
        {
            "mentor_id": [f"m{i}" for i in range(len(n))],
            "term": term,
            "n_mentees": n,
            "band": bands,
            "score": rng.normal(size=len(n)),
        }
    )


def test_award_table_total_identity_with_awkward_rounding():
    """Multipliers 1.5/1.2/0.8/0.5 on odd mentee counts give amounts with many decimals; the
    whole-yuan awards still add up to 250 x mentees per term, hence x mentee-terms a year."""
    rng = np.random.default_rng(0)
    t1 = _term(1, [2, 1, 1, 2, 1, 2, 1], ["A", "B", "B", "C", "C", "D", "A"], rng)
    t2 = _term(2, [1, 2, 2, 1, 1, 1, 2], ["A", "A", "B", "C", "D", "D", None], rng)
    parts = []
    for t in (t1, t2):
        parts.append(t.assign(award=E.allocate_award(t)))
    scheme = pd.concat(parts, ignore_index=True)
    exact = scheme["award"].to_numpy()
    assert not np.allclose(exact, np.round(exact))  # the rounding is awkward indeed
    tab = E.award_table(scheme, MIDDLE)
    per = tab.groupby("term").agg(n=("n_mentees", "sum"), paid=("yuan", "sum"))
    assert per["paid"].tolist() == [250 * 10, 250 * 10]
    tot = E.award_totals(tab, MIDDLE).set_index("term")
    assert tot.loc[0, "paid"] == 250 * 20 == tot.loc[0, "due"]
    # each whole-yuan amount is within a yuan of the exact share; no band, no award
    m = tab.merge(scheme[["mentor_id", "term", "award"]], on=["mentor_id", "term"])
    assert np.all(np.abs(m["yuan"] - m["award_y"]) < 1)
    assert tab.loc[tab["band"].isna(), "yuan"].tolist() == [0]
    assert tab["p_band"].isna().all()  # no effects given: no credibility


def test_a_term_where_nobody_could_be_banded_distributes_nothing():
    """A term without scores (a messy folder missing the term's survey): no mentor is banded,
    the awards are all 0; the table pays nothing that term instead of failing the report."""
    rng = np.random.default_rng(1)
    t1 = _term(1, [2, 1, 1], ["A", "B", "C"], rng)
    t2 = _term(2, [1, 2, 2], [None, None, None], rng)
    scheme = pd.concat([t.assign(award=E.allocate_award(t)) for t in (t1, t2)], ignore_index=True)
    assert scheme.loc[scheme["term"] == 2, "award"].sum() == 0
    tab = E.award_table(scheme, MIDDLE)
    per = tab.groupby("term")["yuan"].sum()
    assert per.loc[1] == 250 * 4 and per.loc[2] == 0
    tot = E.award_totals(tab, MIDDLE).set_index("term")
    assert tot.loc[2, "due"] == 250 * 5 and tot.loc[2, "paid"] == 0


@pytest.fixture(scope="module")
def middle_processed(middle_study):
    return from_synth(middle_study)


def test_award_total_identity_on_a_generated_middle_study(middle_processed):
    P = middle_processed
    comps = E.scheme_components(P, 2024)
    tab = E.award_table(E.school_scheme(P, 2024, components=comps), P.rules)
    mentee_terms = len(comps)  # one row per mentee and term
    assert tab["yuan"].dtype.kind == "i"
    assert int(tab["yuan"].sum()) == 250 * mentee_terms
    tot = E.award_totals(tab, P.rules)
    assert tot["paid"].tolist() == tot["due"].astype(int).tolist()
    dist = E.award_distribution(tab, P.rules)
    assert int(dist["yuan"].sum()) == 250 * mentee_terms
    assert int(dist["n_mentees"].sum()) == mentee_terms


def test_rules_override_changes_the_table(middle_processed):
    """A study.toml [rules] table (parsed as the loader parses it) changes bands, multipliers
    and weights, and the table with them."""
    P = middle_processed
    comps = E.scheme_components(P, 2024)
    base = E.award_table(E.school_scheme(P, 2024, components=comps), P.rules)
    rules = tomllib.loads(
        """
        [rules]
        award_per_mentee_term = 300
        award_bands = {top = 0.1, middle = 0.6, bottom = 0.3}
        award_multipliers = {top = 2, middle = 1, bottom = 0.25}
        award_weights = {satisfaction = 0.0, progress = 0.0, points = 1.0}
        """
    )["rules"]
    Q = replace(P, overrides=rules)
    assert dict(Q.rules.award_weights)["points"] == 1.0
    other = E.award_table(E.school_scheme(Q, 2024, components=comps), Q.rules)
    assert set(other["band"].dropna()) <= {"top", "middle", "bottom"}
    assert int(other["yuan"].sum()) == 300 * len(comps)
    # weights on points only: the composite is the points' normal score
    ok = other["ns_points"].notna()
    assert_allclose(other.loc[ok, "composite"], other.loc[ok, "ns_points"])
    assert not base["band"].equals(other["band"])
    top = other.groupby("band")["yuan"].sum() / other.groupby("band")["n_mentees"].sum()
    assert top["top"] > top["middle"] > top["bottom"]


@pytest.mark.parametrize(
    "rules, message",
    [
        ({"award_weights": {"satisfaction": 0.5, "progress": 0.5, "points": 0.5}}, "add up to 1"),
        ({"award_weights": {"satisfaction": 0.5, "exams": 0.5}}, "exactly satisfaction"),
        ({"award_weights": {"satisfaction": "a"}}, "non-negative number"),
        (
            {"award_multipliers": {"A": 1.0, "B": 2.0, "C": 0.5, "D": 0.1}},
            "pay band B",
        ),
        (
            {
                "award_bands": {"A": 0.5, "B": 0.5, "C": 0.0},
                "award_multipliers": {"A": 1, "B": 1, "C": 0},
            },
            "positive share",
        ),
        ({"award_multipliers": {"A": 0, "B": 0, "C": 0, "D": 0}}, "all zero"),
        ({"award_multipliers": {"A": 1.5, "B": 1.0}}, "same bands"),
        ({"mentee_reward_k": 0}, "between 1 and 4"),
        ({"mentee_reward_k": 2.5}, "whole number"),
    ],
)
def test_bad_award_settings_are_one_line_errors(rules, message):
    with pytest.raises(InputError, match=message) as e:
        rulebook("middle", rules)
    assert "\n" not in str(e.value)


# ------------------------------------------------------------------ band credibility


def test_band_credibility_closed_forms():
    bands = MIDDLE.award_bands
    z80 = stats.norm.ppf(0.8)
    # an effect at the B/C cut (0) with a tiny SE: half in B, half in C
    assert_allclose(E.band_credibility([0.0], [1e-9], ["B"], tau=1.0, bands=bands), [0.5])
    # effect 0.3 SD, SE 0.2, tau 0.5: P(0 < u < 0.5 z80) by hand
    want = stats.norm.cdf((0.5 * z80 - 0.3) / 0.2) - stats.norm.cdf((0 - 0.3) / 0.2)
    assert_allclose(E.band_credibility([0.3], [0.2], ["B"], tau=0.5, bands=bands), [want])
    # the four bands of one mentor add up to 1
    ps = [E.band_credibility([0.1], [0.3], [b], tau=0.4, bands=bands)[0] for b, _ in bands]
    assert_allclose(sum(ps), 1.0)
    # no mentor variance, no band, no effect: NaN
    assert np.isnan(E.band_credibility([0.1], [0.1], ["A"], tau=0.0, bands=bands)).all()
    got = E.band_credibility([0.1, np.nan], [0.1, 0.1], [None, "A"], tau=1.0, bands=bands)
    assert np.isnan(got).all()


def test_band_credibility_is_calibrated_in_a_normal_normal_simulation():
    """Known truth: u ~ N(0, tau^2), naive y = u + N(0, sigma^2), band by the school's rule on y;
    with the exact posterior N(B y, B sigma^2) the mean credibility of the assigned bands equals
    the share of mentors whose true effect lies in their band."""
    rng = np.random.default_rng(7)
    tau, sigma, n = 0.4, 0.5, 40_000
    u = rng.normal(0, tau, n)
    y = u + rng.normal(0, sigma, n)
    band = E.assign_bands(E.normal_scores(y), bands=MIDDLE.award_bands)
    shrink = tau**2 / (tau**2 + sigma**2)
    p = E.band_credibility(
        shrink * y, np.full(n, np.sqrt(shrink) * sigma), band, tau=tau, bands=MIDDLE.award_bands
    )
    true_band = E.assign_bands(u / tau, bands=MIDDLE.award_bands)
    hit = (true_band == band).mean()
    assert abs(p.mean() - hit) < 0.01
    assert 0.3 < hit < 0.7  # noisy naive scores: bands are far from certain


def test_award_table_carries_the_credibility(middle_processed):
    P = middle_processed
    sch = E.school_scheme(P, 2024, terms=(1,))
    eff = pd.DataFrame({"mentor_id": sch["mentor_id"], "effect": sch["score"] * 0.1, "se": 0.05})
    tab = E.award_table(sch, P.rules, effects=eff, var_mentor=0.01)
    ok = tab["band"].notna() & tab["effect"].notna()
    want = E.band_credibility(
        tab.loc[ok, "effect"], tab.loc[ok, "se"], tab.loc[ok, "band"], tau=0.1,
        bands=P.rules.award_bands,
    )  # fmt: skip
    assert_allclose(tab.loc[ok, "p_band"], want)
    zero = E.award_table(sch, P.rules, effects=eff, var_mentor=0.0)
    assert zero["p_band"].isna().all()


# ------------------------------------------------------------------ mentee rewards


def test_mentee_rewards_match_a_hand_computation_on_a_small_table(monkeypatch):
    students = pd.DataFrame(
        {
            "student_id": [f"s{i}" for i in range(6)],
            "year": 2024,
            "grade": [7, 7, 8, 8, 9, 9],
            "class_no": [1, 2, 1, 2, 1, 2],
        }
    )
    assignments = pd.DataFrame(
        {
            "student_id": ["s0", "s1", "s2", "s3", "s3"],
            "year": 2024,
            "term": [1, 1, 1, 1, 2],
            "mentor_id": ["t1", "t1", "t2", "t2", "t3"],
        }
    )
    # s0 3 dims improved, s1 2, s2 1, s3 2 (changed mentor in term 2), s4 4 (no mentor), s5 -
    improved = pd.DataFrame(
        {"improved": 1.0, "n_evaluable": [4, 4, 4, 2, 4, 0], "n_improved": [3, 2, 1, 2, 4, 0]},
        index=pd.Index([f"s{i}" for i in range(6)], name="student_id"),
    )
    monkeypatch.setattr(award_module, "improved_students", lambda P, year, k=1: improved)
    P = Processed(
        name="t",
        level="middle",
        years=(2024,),
        tables={"students": students, "assignments": assignments},
    )
    got = E.mentee_rewards(P, 2024)  # the rulebook's mentee_reward_k = 2
    assert got["student_id"].tolist() == ["s0", "s1", "s3"]
    assert got["mentor_id"].tolist() == ["t1", "t1", "t3"]
    assert got["grade"].tolist() == [7, 7, 8] and got["n_improved"].tolist() == [3, 2, 2]
    assert E.mentee_rewards(P, 2024, k=3)["student_id"].tolist() == ["s0"]
    Q = replace(P, overrides={"mentee_reward_k": 1})
    assert E.mentee_rewards(Q, 2024)["student_id"].tolist() == ["s0", "s1", "s2", "s3"]
    # never below the headline's k: a study counting 3 dimensions rewards 3 or more
    R = replace(P, overrides={"k_dimensions": 3})
    assert E.reward_k(R.rules) == 3
    assert E.mentee_rewards(R, 2024)["student_id"].tolist() == ["s0"]


def test_mentee_rewards_follow_the_headline_rci_by_hand(middle_processed):
    """Counted by hand from the per-dimension reliable change: mentees with RCI above the
    threshold in at least mentee_reward_k dimensions."""
    P = middle_processed
    ch = study_changes(P, 2024)
    up = ch[ch["evaluable"].astype(bool) & (ch["rci"] > P.rules.rci_z)]
    n_up = up.groupby(up["student_id"].astype(str)).size()
    a = P["assignments"]
    mentees = set(a.loc[a["year"] == 2024, "student_id"].astype(str))
    want = sorted(s for s, n in n_up.items() if n >= P.rules.mentee_reward_k and s in mentees)
    got = E.mentee_rewards(P, 2024)
    assert sorted(got["student_id"]) == want
    assert len(want) > 0
