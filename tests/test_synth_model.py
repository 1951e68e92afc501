"""synth.model and its parts: the generated school against the rulebook and the truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mentorlib import ids as idmod
from mentorlib import rulebook
from mentorlib.synth import SynthParams, generate


def cronbach_alpha(x: np.ndarray) -> float:
    x = x[~np.isnan(x).any(1)]
    k = x.shape[1]
    return k / (k - 1) * (1 - x.var(0, ddof=1).sum() / x.sum(1).var(ddof=1))


def recoded(study, dim, year, wave):
    items = study.truth["items"].query("dimension == @dim")
    w = study.tables["assessment_wide"].query("year == @year and wave == @wave")
    x = np.array(w[items["var"]].to_numpy(dtype=float))
    rev = items["reverse"].to_numpy()
    x[:, rev] = 6 - x[:, rev]
    return x


# ----------------------------------------------------------------------------- model


@pytest.mark.parametrize("which", ["primary_study", "middle_study"])
def test_alphas_realistic_and_match_true_reliability(which, request):
    study = request.getfixturevalue(which)
    rel = study.truth["reliability"]
    for dim in study.params.dimensions:
        for year in study.params.years:
            for wave in ("pre", "post"):
                a = cronbach_alpha(recoded(study, dim, year, wave))
                true = rel.query("dimension == @dim and year == @year and wave == @wave")[
                    "reliability"
                ].item()
                assert 0.70 <= a <= 0.90, (dim, year, wave, a)
                # alpha estimates the population reliability of the mean score (n = 600: SE ~ 0.01)
                assert abs(a - true) < 0.04, (dim, year, wave, a, true)


def _groups_by_term(study):
    """Mentor of every student in every term, with regroupings applied."""
    a = study.tables["assignments"]
    out = []
    for year in study.params.years:
        t1 = a.query("year == @year and term == 1").set_index("student_id")["mentor_id"]
        out.append(t1.rename("mentor_id").reset_index().assign(year=year, term=1))
        moves = a.query("year == @year and term == 2").set_index("student_id")["mentor_id"]
        t2 = t1.copy()
        t2.loc[moves.index] = moves
        out.append(t2.rename("mentor_id").reset_index().assign(year=year, term=2))
    return pd.concat(out, ignore_index=True)


@pytest.mark.parametrize("which", ["primary_study", "middle_study"])
def test_group_sizes_within_the_rulebook(which, request):
    study = request.getfixturevalue(which)
    rb = rulebook(study.params.level)
    sizes = _groups_by_term(study).groupby(["year", "term", "mentor_id"]).size()
    assert sizes.min() >= rb.group_min and sizes.max() <= rb.group_max, sizes.describe()


@pytest.mark.parametrize("which", ["primary_study", "middle_study"])
def test_regrouping_under_fifteen_percent_and_present(which, request):
    study = request.getfixturevalue(which)
    a = study.tables["assignments"]
    s = study.tables["students"]
    for year in study.params.years:
        mentees = int(s.query("year == @year")["mentee"].sum())
        moved = int(a.query("year == @year and term == 2")["regroup"].sum())
        assert 0 < moved / mentees < 0.15, (year, moved, mentees)


def test_primary_everyone_has_a_mentor_middle_a_nominated_share(primary_study, middle_study):
    s = primary_study.tables["students"]
    assert s["mentee"].all()
    t1 = primary_study.tables["assignments"].query("term == 1")
    assert (
        t1.groupby("year")["student_id"].nunique().to_dict() == s.groupby("year").size().to_dict()
    )
    m = middle_study.tables["students"]
    share = m.groupby("year")["mentee"].mean()
    assert ((share > 0.10) & (share < 0.20)).all(), share
    # the comparison group is the rest of the grade
    assert (~m["mentee"]).sum() > 3 * m["mentee"].sum()


def test_roster_rates_and_valid_ids(primary_study):
    s = primary_study.tables["students"]
    first = s.drop_duplicates("student_id")
    assert 0.08 < (first["family"] == "single_parent").mean() < 0.17
    assert 0.02 < (first["family"] == "reconstituted").mean() < 0.09
    assert all(idmod.is_valid_student_id(x) for x in first["student_id"])
    assert first["student_id"].str[0].isin(["G", "L", "J"]).all()
    assert s.groupby(["year", "grade", "class_no"]).size().between(15, 60).all()


def test_left_behind_rate_is_configurable():
    s = generate(SynthParams(n_students=800, n_years=1, seed=3, left_behind_rate=0.3)).tables[
        "students"
    ]
    assert abs(s["left_behind"].mean() - 0.3) < 0.05


def test_truth_improvement_follows_delta(primary_study):
    lat = primary_study.truth["latent"]
    thr = primary_study.params.improve_threshold
    assert (lat["improved"] == (lat["delta"] > thr)).all()
    np.testing.assert_allclose(lat["theta_post"] - lat["theta_pre"], lat["delta"])


def test_mentor_effect_sd_matches_parameters():
    p = SynthParams(n_students=6000, n_years=1, seed=5)
    eff = generate(p).truth["mentor_effects"]
    sds = eff.groupby("dimension")["effect"].std()
    for dim, sd in zip(p.dimensions, p.mentor_sd, strict=True):
        assert abs(sds[dim] - sd) < 0.25 * sd, (dim, sds[dim], sd)


def test_mentor_effects_move_latent_change(primary_study):
    """Students of mentors with larger true effects change more (the signal exists)."""
    lat = primary_study.truth["latent"]
    eff = primary_study.truth["mentor_effects"]
    m = lat.merge(eff, on=["mentor_id", "year", "dimension"])
    r = np.corrcoef(m["effect"], m["delta"])[0, 1]
    assert r > 0.1, r


def test_placebo_height_does_not_depend_on_mentor(primary_study):
    s = primary_study.tables["students"].query("year == 2023")
    a = primary_study.tables["assignments"].query("year == 2023 and term == 1")
    d = s.merge(a[["student_id", "mentor_id"]], on="student_id")
    resid = d["height_cm"] - d.groupby(["grade", "gender"])["height_cm"].transform("mean")
    means = resid.groupby(d["mentor_id"]).mean()
    sizes = d.groupby("mentor_id").size()
    # the spread of mentor means is what sampling alone gives (no mentor variance)
    expected_var = (resid.var() / sizes).mean()
    assert means.var() < 2.0 * expected_var


def test_gb11643_published_example():
    # GB 11643-1999 appendix example: 11010519491231002X
    assert idmod.check_digit("11010519491231002") == "X"
    assert idmod.is_valid_id18("11010519491231002X")
    assert not idmod.is_valid_id18("110105194912310021")
    assert idmod.is_valid_student_id("G11010519491231002X")
    assert not idmod.is_valid_student_id("X11010519491231002X")
