"""Grouping outcome model: simulated rates against the normal-CDF closed form and the synthetic
generator's known truth; the model fitted on a study's own data against its measured rate."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from mentorlib import grouping as g
from mentorlib import progress
from mentorlib.clean import clean_study
from mentorlib.effectiveness import study_models
from mentorlib.errors import InputError
from mentorlib.grouping.roster import build_problem
from mentorlib.progress import study_changes

from _grouping_fixtures import PRIMARY
from conftest import SAMPLE

# --------------------------------------------------------------------------- fixtures


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
    pb = build_problem(students, mentors, PRIMARY)
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


def test_outcome_model_from_fitted_predicts_the_observed_rate():
    """Fitted on a school's own data, the simulator reproduces that school's measured rate for
    the grouping it actually had (the reliable-change rate of mentorlib.progress)."""
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


def test_from_fitted_uses_the_headline_rule_and_the_rulebook(primary):
    """Thresholds are study_changes' (the headline's): a larger rci_z shrinks every change in
    threshold units in proportion; min_dimensions defaults to the rulebook's k_dimensions."""
    models = study_models(primary, 2024, outcomes=list(primary.dimensions))
    base = g.OutcomeModel.from_fitted(primary, 2024, models=models)
    assert base.min_dimensions == primary.rules.k_dimensions and base.threshold == 1.0
    z = primary.rules.rci_z
    wide = g.OutcomeModel.from_fitted(primary, 2024, models=models, z=2 * z)
    for d in primary.dimensions:
        assert wide.baseline[d] == pytest.approx(base.baseline[d] / 2)
        assert wide.residual_sd[d] == pytest.approx(base.residual_sd[d] / 2)
    assert wide.fit_effect == pytest.approx(base.fit_effect / 2)
    e0, e1 = base.effects["effect"].to_numpy(), wide.effects["effect"].to_numpy()
    assert e1 == pytest.approx(e0 / 2)
    # a threshold of one: the change in threshold units is the headline's "improved"
    ch = study_changes(primary, 2024)
    thr = ch.groupby("dimension")["threshold"].agg(["min", "max"])
    assert (thr["max"] - thr["min"] < 1e-12).all()  # one threshold per dimension
    two = g.OutcomeModel.from_fitted(primary, 2024, models=models, min_dimensions=2)
    assert two.min_dimensions == 2
    with pytest.raises(InputError, match="reliability"):
        g.OutcomeModel.from_fitted(primary, 2024, models=models, reliability="sample")
