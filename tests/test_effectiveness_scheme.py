"""Tests of mentorlib.effectiveness.scheme: normal scores, bands, the award, reliability."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from mentorlib import effectiveness as E
from mentorlib.data import from_synth
from mentorlib.errors import InputError
from mentorlib.rules import rulebook

from _effectiveness_fixtures import with_rules


def test_normal_scores_hand_cases():
    assert_allclose(E.normal_scores([1.0, 2.0, 3.0]), [-1, 0, 1])
    # mean 5, sample SD sqrt(36 / 3) = sqrt(12)
    assert_allclose(
        E.normal_scores([2.0, 4.0, 4.0, 10.0]), np.array([-3, -1, -1, 5]) / math.sqrt(12)
    )
    # Blom with a tie: average ranks 1, 2.5, 2.5, 4 -> Phi^-1((r - 3/8) / (n + 1/4))
    inv = NormalDist().inv_cdf
    expect = [inv(0.625 / 4.25), inv(2.125 / 4.25), inv(2.125 / 4.25), inv(3.625 / 4.25)]
    assert_allclose(E.normal_scores([1.0, 2.0, 2.0, 3.0], method="blom"), expect, rtol=1e-12)
    # missing stays missing, fewer than two values or no spread gives no scores
    out = E.normal_scores([1.0, np.nan, 3.0])
    assert np.isnan(out[1])
    assert_allclose(out[[0, 2]], [-1 / math.sqrt(2), 1 / math.sqrt(2)])
    assert np.isnan(E.normal_scores([2.0, 2.0, 2.0])).all()
    assert np.isnan(E.normal_scores([np.nan, 1.0])).all()
    with pytest.raises(InputError):
        E.normal_scores([1.0, 2.0], method="rank")


def test_bands_cut_at_normal_quantiles():
    c = NormalDist().inv_cdf(0.8)  # 0.8416: top 20% -> A, then 30% B, 30% C, 20% D
    got = E.assign_bands([c + 1e-9, c - 1e-9, 0.0, -1e-9, -c + 1e-9, -c - 1e-9, np.nan]).tolist()
    assert got == ["A", "B", "B", "C", "C", "D", None]
    # Blom scores of many values fall into the bands in (almost exactly) the stated shares
    s = E.normal_scores(np.arange(1000.0), method="blom")
    shares = pd.Series(E.assign_bands(s)).value_counts(normalize=True)
    assert_allclose(shares[["A", "B", "C", "D"]], [0.2, 0.3, 0.3, 0.2], atol=0.002)
    with pytest.raises(InputError):
        E.assign_bands([0.0], bands=(("A", 0.5), ("B", 0.4)))


def test_default_bands_are_the_rulebooks():
    bands = rulebook("middle").award_bands
    s = E.normal_scores(np.arange(1000.0), method="blom")
    assert E.assign_bands(s).tolist() == E.assign_bands(s, bands=bands).tolist()
    # other bands from a study's rules: halves
    got = E.assign_bands([0.5, -0.5], bands=(("top", 0.5), ("bottom", 0.5))).tolist()
    assert got == ["top", "bottom"]


def test_award_rules_spend_the_pool_exactly():
    t = pd.DataFrame({"n_mentees": [2, 1, 1], "band": ["A", "C", "D"], "score": [1.0, 0.0, -1.0]})
    # band: weights 2*1.5, 1*0.8, 1*0.5 = 3, 0.8, 0.5 of a 4-mentee pool of 1000 yuan
    assert_allclose(E.allocate_award(t), 1000 * np.array([3, 0.8, 0.5]) / 4.3)
    assert_allclose(E.allocate_award(t, rule="flat"), [500, 250, 250])
    phi = np.array([NormalDist().cdf(1.0), 0.5, NormalDist().cdf(-1.0)])
    w = np.array([2, 1, 1]) * phi
    assert_allclose(E.allocate_award(t, rule="score", award=100), 400 * w / w.sum())
    with pytest.raises(InputError):
        E.allocate_award(t, rule="lottery")


def test_reliability_matches_one_way_anova_by_hand():
    # groups {1,2,3} and {4,5,6}: MSB = 13.5, MSW = 1, n = 3
    # ICC(1) = (MSB - MSW) / (MSB + 2 MSW) = 12.5 / 15.5; ICC(1,k) = (MSB - MSW) / MSB = 12.5 / 13.5
    comp = pd.DataFrame(
        {
            "student_id": list("abcdef"),
            "term": 1,
            "mentor_id": ["x"] * 3 + ["y"] * 3,
            "satisfaction": [1.0, 2, 3, 4, 5, 6],
            "progress": np.nan,
            "points": [0.0, 1, 0, 1, 0, 1],
        }
    )
    r = E.scheme_reliability(comp, weights={"satisfaction": 1.0, "points": 0.0}).set_index(
        "n_mentees"
    )
    assert_allclose(r.loc[0, "satisfaction"], 12.5 / 15.5)
    assert_allclose(r.loc[3, "satisfaction"], 12.5 / 13.5)
    # a composite of one component (the other weighted 0) is that component
    assert_allclose(r.loc[3, "composite"], 12.5 / 13.5)
    assert "progress" not in r.columns  # a component with no data is left out


def test_school_scheme_follows_the_study_rulebook(middle_study):
    P = from_synth(middle_study)
    comps = E.scheme_components(P, 2024, terms=(2,))
    base = E.school_scheme(P, 2024, terms=(2,), components=comps)
    per = base.groupby("term").agg(n=("n_mentees", "sum"), paid=("award", "sum"))
    assert_allclose(per["paid"], P.rules.award_per_mentee_term * per["n"])
    # a study that pays 100 a mentee, in two bands with a flat multiplier
    Q = with_rules(
        P,
        award_per_mentee_term=100.0,
        award_bands=(("high", 0.5), ("low", 0.5)),
        award_multipliers=(("high", 1.0), ("low", 1.0)),
    )
    other = E.school_scheme(Q, 2024, terms=(2,), components=comps)
    per = other.groupby("term").agg(n=("n_mentees", "sum"), paid=("award", "sum"))
    assert_allclose(per["paid"], 100 * per["n"])
    assert set(other["band"].dropna()) == {"high", "low"}
    assert_allclose(other["award"], 100 * other["n_mentees"])  # flat multipliers: flat pay
