"""Tests of mentorlib.effectiveness.study: the study data, the models per outcome, rankings."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from mentorlib import effectiveness as E
from mentorlib.errors import InputError
from mentorlib.scales import reverse_code

from _effectiveness_fixtures import with_rules

# --------------------------------------------------------------------------- rankings


def test_rank_probabilities_without_noise_are_exact():
    e = pd.DataFrame({"mentor_id": list("abcd"), "effect": [3.0, 2.0, 1.0, 0.0], "se": 0.0})
    r = E.rank_probabilities(e, n_sims=50, seed=1)
    assert r["rank"].tolist() == [1, 2, 3, 4]
    assert r["p_top"].tolist() == [1, 0, 0, 0] and r["p_bottom"].tolist() == [0, 0, 0, 1]
    assert (r["rank_low"] == r["rank"]).all() and (r["rank_high"] == r["rank"]).all()


def test_rank_probabilities_are_seeded_and_coherent():
    rng = np.random.default_rng(0)
    e = pd.DataFrame({"mentor_id": range(40), "effect": rng.normal(size=40), "se": 0.5})
    a = E.rank_probabilities(e, seed=3, n_sims=500)
    b = E.rank_probabilities(e, seed=3, n_sims=500)
    pd.testing.assert_frame_equal(a, b)
    # each draw puts exactly ceil(40 / 4) = 10 mentors in the top quarter
    assert_allclose([a["p_top"].sum(), a["p_bottom"].sum()], [10, 10])
    assert (a["rank_low"] <= a["rank_median"]).all() and (a["rank_median"] <= a["rank_high"]).all()
    assert a.loc[a["effect"].idxmax(), "p_top"] > 0.5


def test_rank_ties_are_broken_at_random():
    e = pd.DataFrame({"mentor_id": range(8), "effect": 0.0, "se": 0.0})
    r = E.rank_probabilities(e, n_sims=4000, seed=0)
    assert_allclose(r["p_top"], 2 / 8, atol=0.03)  # each mentor equally likely on top


# --------------------------------------------------------------------------- the study


def test_mentor_data_rows_and_scores(primary, primary_study):
    d = E.mentor_data(primary, 2024, outcome="academic")
    st = primary_study.tables["students"]
    assert len(d) == (st["year"] == 2024).sum()  # primary: every student is mentored
    assert d["pre"].between(1, 5).all() or d["pre"].isna().any()
    # the score follows the latent trait it measures
    lat = primary_study.truth["latent"]
    lat = lat[(lat["year"] == 2024) & (lat["dimension"] == "academic")].set_index("student_id")
    th = lat["theta_post"].reindex(d["student_id"]).to_numpy()
    ok = np.isfinite(d["post"].to_numpy())
    assert np.corrcoef(th[ok], d["post"].to_numpy()[ok])[0, 1] > 0.8
    with pytest.raises(InputError, match="unknown outcome"):
        E.mentor_data(primary, 2024, outcome="happiness")
    with pytest.raises(InputError, match="year 1999"):
        E.mentor_data(primary, 1999)


def test_scores_reverse_key_like_the_codebook(primary):
    # the study's scores come from mentorlib.scales (the only scorer): a reverse-keyed item
    # answered v counts as 6 - v on the 1-5 scale
    cb = primary.codebook()
    rev = [f.var for f in cb.items if f.reverse]
    assert rev, "the codebook has reverse-keyed items"
    items = primary["assessment_items"]
    items = items[items["year"] == 2024]
    k = reverse_code(items, cb)
    raw = items[items["item"] == rev[0]]["value"].astype(float)
    got = k.loc[k["item"] == rev[0], "value"]
    assert_allclose(np.sort(got.dropna()), np.sort(6 - raw.dropna()))
    # and mentor_data's scores are the means of those recoded answers
    d = E.mentor_data(primary, 2024, outcome="moral").set_index("student_id")
    pre = k[(k["wave"] == "pre") & (k["dimension"] == "moral")]
    full = pre.groupby("student_id", observed=True)["value"].agg(["mean", "count"])
    full = full[full["count"] == len(cb.items_of("moral"))]
    assert_allclose(d["pre"].reindex(full.index.astype(str)), full["mean"], rtol=1e-12)


def test_scores_scored_once_and_passed_down(primary):
    scores = E.study_scores(primary)
    assert set(scores["year"]) == set(primary.years)
    for oc in ("academic", "composite"):
        a = E.mentor_data(primary, 2024, outcome=oc)
        b = E.mentor_data(primary, 2024, outcome=oc, scores=scores)
        pd.testing.assert_frame_equal(a, b)


def test_scores_follow_the_rulebooks_min_answered(primary):
    strict = with_rules(primary, min_answered=1.0)
    a = E.mentor_data(primary, 2024, outcome="academic")
    b = E.mentor_data(strict, 2024, outcome="academic")
    # every item answered is stricter than 80%: more missing scores, none that were missing
    assert b["pre"].isna().sum() > a["pre"].isna().sum()
    assert not (a["pre"].isna() & b["pre"].notna()).any()


@pytest.mark.slow
def test_class_variance_component_and_mentor_term(primary):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", E.OptimizerWarning)
        m = E.study_models(primary, 2024, outcomes=["composite"], class_effect=True)["composite"]
    assert m.method.startswith("mixedlm:")
    assert m.var("class_id") >= 0 and len(m.effects) == m.n_groups
    d2 = E.mentor_data(primary, 2024, mentor_term=2)
    d1 = E.mentor_data(primary, 2024, mentor_term=1)
    regrouped = (d1["mentor_id"] != d2["mentor_id"]).mean()
    assert regrouped <= primary.rules.max_regroup_share  # the cap on regrouping
