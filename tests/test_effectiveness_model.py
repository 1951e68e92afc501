"""Tests of mentorlib.effectiveness.model: lme4 known answers, statsmodels, closed forms, bad input."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from statsmodels.regression.mixed_linear_model import MixedLM

from mentorlib import effectiveness as E
from mentorlib.effectiveness import model as M
from mentorlib.errors import InputError

from _effectiveness_fixtures import fit_quiet, lme4_reference, reference_data, simulated


@pytest.fixture(scope="module")
def lme4():
    return lme4_reference("dietox")


@pytest.fixture(scope="module")
def dietox():
    # geepack's dietox, as statsmodels ships it for its own lme4 comparisons (copied to
    # tests/results/ by make_statsmodels_data.py)
    return reference_data("dietox")


# --------------------------------------------------------------------------- lme4 known answers


@pytest.mark.parametrize("method", ["auto", "mixedlm"])
@pytest.mark.parametrize("reml", [True, False])
def test_dietox_random_intercept_matches_lme4(dietox, lme4, method, reml):
    ref = lme4["intercept"]["reml" if reml else "ml"]  # lme4::lmer, via statsmodels' tests
    fit = fit_quiet(dietox, outcome="Weight", group="Pig", pre="Time", reml=reml, method=method)
    assert fit.method == ("profiled" if method == "auto" else fit.method)
    assert_allclose(fit.fixed["coef"], [ref["fixed"]["Intercept"], ref["fixed"]["Time"]], rtol=1e-5)
    assert_allclose(fit.fixed["se"], [ref["se"]["Intercept"], ref["se"]["Time"]], rtol=1e-5)
    assert_allclose(fit.var_resid, ref["residual_variance"], rtol=1e-5)
    assert_allclose(fit.var_group, ref["group_variance"], rtol=1e-5)
    assert_allclose(fit.llf, ref["loglik"], rtol=1e-6)
    assert fit.converged
    assert fit.n_groups == dietox["Pig"].nunique() and fit.n_obs == len(dietox)


@pytest.mark.slow
@pytest.mark.parametrize("reml", [True, False])
def test_dietox_random_slope_matches_lme4(dietox, lme4, reml):
    ref = lme4["slopes"]["reml" if reml else "ml"]  # lmer(Weight ~ Time + (1 + Time | Pig))
    fit = fit_quiet(
        dietox, outcome="Weight", group="Pig", pre="Time", random_slope="Time", reml=reml
    )
    assert fit.method.startswith("mixedlm:")
    assert_allclose(fit.llf, ref["loglik"], rtol=1e-6)
    assert_allclose(fit.fixed["coef"], list(ref["fixed"].values()), rtol=1e-5)
    assert_allclose(fit.fixed["se"], list(ref["se"].values()), rtol=1e-3)
    assert_allclose(fit.var_resid, ref["residual_variance"], rtol=1e-3)
    v = fit.variance.set_index("component")["variance"]
    cov = ref["cov_re"]
    assert_allclose(
        [v["Pig"], v["cov(intercept, slope)"], v["slope"]],
        [cov["intercept"], cov["cov"], cov["slope"]],
        rtol=1e-3,
    )
    # every optimiser was tried and is reported
    assert list(fit.optimizers["optimizer"]) == list(E.OPTIMIZERS)
    # the slope test is the 0.5 chi2_1 + 0.5 chi2_2 mixture against the intercept-only fit
    assert fit.lrt["mixture"] == "0.5 chi2_1 + 0.5 chi2_2"
    ri = lme4["intercept"]["reml" if reml else "ml"]["loglik"]
    assert_allclose(fit.lrt["llf_null"], ri, rtol=1e-6)


@pytest.mark.slow
def test_extra_group_matches_lme4_pastes():
    # lme4: lmer(strength ~ (1|batch) + (1|batch:cask), Pastes), REML; the numbers are the ones
    # statsmodels' test_lme.py::test_pastes_vcomp copies from R (rtol 1e-3 there too), kept in
    # tests/results/lme4_pastes.json
    ref = lme4_reference("pastes")["reml"]
    data = reference_data("pastes")
    fit = fit_quiet(data, outcome="strength", group="sample", extra_group="batch")
    assert_allclose(fit.fixed.loc["Intercept", "coef"], ref["fixed"]["Intercept"], rtol=1e-3)
    assert_allclose(fit.fixed.loc["Intercept", "se"], ref["se"]["Intercept"], rtol=1e-3)
    assert_allclose(fit.var("batch"), ref["batch_variance"], rtol=1e-3)
    assert_allclose(fit.var_resid, ref["residual_variance"], rtol=1e-3)
    assert fit.n_groups == 30 and len(fit.effects) == 30


def test_reference_files_name_their_source():
    for name in ("dietox", "pastes"):
        prov = lme4_reference(name)["provenance"]
        assert "statsmodels" in prov["source"] and "lmer" in " ".join(prov["r_code"])
        assert f"statsmodels_{name}.csv" in prov["data"]


# --------------------------------------------------------------------------- profiled vs MixedLM


def test_profiled_fit_matches_statsmodels_to_1e6():
    """The direct random-intercept fit against statsmodels MixedLM run to a tight optimum."""
    df = simulated(seed=1)
    ours = E.fit_mentor_model(  # conditional: statsmodels' random_effects(_cov)
        df,
        outcome="post",
        group="mentor",
        pre="pre",
        covariates=["flag", "cat"],
        intervals="conditional",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = MixedLM.from_formula("post ~ pre + flag + cat", groups="mentor", data=df).fit(
            reml=True, method="powell", xtol=1e-10, ftol=1e-12
        )
    names = {"Intercept": "Intercept", "pre": "pre", "flag": "flag[T.True]"}
    names |= {"cat[b]": "cat[T.b]", "cat[c]": "cat[T.c]"}
    fe = ref.fe_params[[names[n] for n in ours.fixed.index]]
    assert_allclose(ours.fixed["coef"], fe, rtol=1e-6)
    assert_allclose(ours.var_group, ref.cov_re.iloc[0, 0], rtol=1e-6)
    assert_allclose(ours.var_resid, ref.scale, rtol=1e-6)
    assert_allclose(ours.llf, ref.llf, rtol=1e-9)
    re = pd.Series({k: v.iloc[0] for k, v in ref.random_effects.items()})
    rv = pd.Series({k: v.iloc[0, 0] for k, v in ref.random_effects_cov.items()})
    e = ours.effects.set_index("mentor")
    assert_allclose(e["effect"], re[e.index], rtol=1e-6, atol=1e-9)
    assert_allclose(e["se"] ** 2, rv[e.index], rtol=1e-6)


def test_profiled_and_mixedlm_paths_agree():
    df = simulated(seed=2, n=900, groups=120)
    kw = dict(outcome="post", group="mentor", pre="pre", covariates=["flag"])
    a = E.fit_mentor_model(df, **kw)
    b = fit_quiet(df, method="mixedlm", optimizers=("powell", "nm"), **kw)
    assert_allclose(a.llf, b.llf, rtol=1e-7)
    assert_allclose(a.fixed["coef"], b.fixed["coef"], rtol=1e-4, atol=1e-6)
    assert_allclose(a.lrt["stat"], b.lrt["stat"], rtol=1e-4)


# --------------------------------------------------------------------------- closed forms


def test_boundary_lrt_hand_cases():
    # q = 0: p = 0.5 P(chi2_1 > x) = 0.5 erfc(sqrt(x / 2)); 2.705543 is chi2_1's 90% point
    stat, p = E.boundary_lrt(-100.0, -100.0 - 2.705543 / 2)
    assert_allclose(stat, 2.705543)
    assert_allclose(p, 0.5 * math.erfc(math.sqrt(2.705543 / 2)), rtol=1e-12)
    assert_allclose(p, 0.05, atol=1e-6)
    # q = 1: 0.5 erfc(sqrt(x/2)) + 0.5 exp(-x/2); Stram & Lee (1994) 5% critical value 5.14
    x = 5.138
    assert_allclose(
        E.boundary_lrt(0.0, -x / 2, q=1)[1],
        0.5 * math.erfc(math.sqrt(x / 2)) + 0.5 * math.exp(-x / 2),
        rtol=1e-12,
    )
    assert_allclose(E.boundary_lrt(0.0, -x / 2, q=1)[1], 0.05, atol=5e-4)
    # no improvement (or a numerically negative one): the point mass at zero, p = 1
    assert E.boundary_lrt(-10.0, -10.0) == (0.0, 1.0)
    assert E.boundary_lrt(-10.0, -9.9999)[0] == 0.0


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda d: d.drop(columns="pre"), "column pre: missing column"),
        (lambda d: d.assign(mentor="one"), "at least 2 groups"),
        (lambda d: d.assign(post=np.nan), "missing in every row"),
        (lambda d: d.assign(post=1.0), "does not vary"),
        (lambda d: d.assign(post="x"), "must be numeric"),
        (lambda d: d.assign(pre2=d["pre"] * 2), "collinear"),
    ],
)
def test_bad_input_is_one_line(change, match):
    df = change(simulated(n=200, groups=20))
    cov = ["pre2"] if "pre2" in df.columns else []
    with pytest.raises(InputError, match=match) as err:
        E.fit_mentor_model(df, outcome="post", group="mentor", pre="pre", covariates=cov)
    assert "\n" not in str(err.value)


def test_bad_input_other_cases():
    with pytest.raises(InputError, match="DataFrame"):
        E.fit_mentor_model([1, 2], outcome="y", group="g")
    df = simulated(n=200, groups=20)
    with pytest.raises(InputError, match="unknown method"):
        E.fit_mentor_model(df, outcome="post", group="mentor", method="fast")
    with pytest.raises(InputError, match="random intercept only"):
        E.fit_mentor_model(
            df, outcome="post", group="mentor", random_slope="pre", method="profiled"
        )


def test_input_not_modified_and_missing_rows_counted():
    df = simulated(n=400, groups=40)
    df.loc[df.index[:7], "pre"] = np.nan
    before = df.copy()
    fit = E.fit_mentor_model(df, outcome="post", group="mentor", pre="pre", covariates=["cat"])
    pd.testing.assert_frame_equal(df, before)
    assert fit.n_dropped == 7 and fit.n_obs == 393
    assert list(fit.fixed.index) == ["Intercept", "pre", "cat[b]", "cat[c]"]
    assert fit.effects["n"].sum() == 393


def test_no_mentor_variance_gives_boundary_fit():
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"g": np.repeat(np.arange(50), 2), "y": rng.normal(size=100)})
    df["y"] -= df.groupby("g")["y"].transform("mean") * 0.9  # groups closer than chance
    fit = E.fit_mentor_model(df, outcome="y", group="g", intervals="conditional")
    assert fit.var_group == 0 and fit.icc == 0
    assert fit.lrt["stat"] == 0 and fit.lrt["p"] == 1.0 and fit.lrt["null"] == "rlrt_sim"
    assert (fit.effects["effect"] == 0).all() and (fit.effects["reliability"] == 0).all()
    assert any("boundary" in n for n in fit.notes)


def test_integrated_intervals(dietox):
    kw = dict(outcome="Weight", group="Pig", pre="Time")
    c = E.fit_mentor_model(dietox, intervals="conditional", **kw)
    i = E.fit_mentor_model(dietox, **kw)  # integrated: the default since issue 14
    assert c.intervals == "conditional" and i.intervals == "integrated"
    # 12 weighings per pig pin the variance down: integrating over it changes little
    assert_allclose(i.effects["effect"], c.effects["effect"], atol=0.01)
    assert_allclose(i.effects["se"], c.effects["se"], rtol=0.01)
    # at the boundary the conditional intervals collapse to 0; the integrated ones do not
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"g": np.repeat(np.arange(50), 2), "y": rng.normal(size=100)})
    df["y"] -= df.groupby("g")["y"].transform("mean") * 0.9
    c0 = E.fit_mentor_model(df, outcome="y", group="g", intervals="conditional")
    i0 = E.fit_mentor_model(df, outcome="y", group="g")
    assert c0.var_group == 0 and (c0.effects["se"] == 0).all()
    assert (i0.effects["se"] > 0).all() and (i0.effects["ci_high"] > i0.effects["ci_low"]).all()
    with pytest.raises(InputError, match="unknown intervals"):
        E.fit_mentor_model(df, outcome="y", group="g", intervals="bayes")


def test_constant_covariate_dropped_with_a_note():
    df = simulated(n=300, groups=30).assign(const=True)
    fit = E.fit_mentor_model(df, outcome="post", group="mentor", covariates=["const", "flag"])
    assert "const" not in fit.fixed.index and any("const" in n for n in fit.notes)


def test_optimiser_disagreement_warns(monkeypatch):
    class Fit:
        def __init__(self, llf, converged=True):
            self.llf, self.converged, self.fe_params = llf, converged, np.zeros(1)

    class Model:
        results = {"a": Fit(-15.0), "b": Fit(-10.0), "c": Fit(-1.0, converged=False)}

        def fit(self, reml, method):
            if method == "d":
                raise np.linalg.LinAlgError("Singular matrix")
            return self.results[method]

    monkeypatch.setattr(M, "_mixedlm_model", lambda d, g, x: (Model(), None))
    d = M.prepare_design(simulated(n=100, groups=10), "post", "mentor")
    with pytest.warns(E.OptimizerWarning, match="disagree"):
        _, _, ok, meth, table, notes = M._fit_mixedlm(d, True, list("abcd"), "mentor", None)
    assert meth == "b" and ok  # the best *converged* fit, not the unconverged -1
    assert table.set_index("optimizer").loc["d", "note"] == "Singular matrix"
    assert "disagree" in notes[0]
    Model.results = {"a": Fit(-3.0, False), "b": Fit(-2.0, False)}
    with pytest.warns(E.OptimizerWarning, match="no MixedLM optimiser converged"):
        _, _, ok, meth, _, _ = M._fit_mixedlm(d, True, ["a", "b"], "mentor", None)
    assert meth == "b" and not ok


@pytest.mark.parametrize("everyone", [False, True])
def test_constant_covariate_note_names_no_empty_group(everyone):
    """A covariate nobody (or everybody) has is dropped with a note: "dropped flag: no
    variation" told a public reader that no student is left behind, a group of 0. The note
    now reads as the sparse-level notes do, from the study's ``min_cell``."""
    df = simulated(n=200, groups=20).assign(flag=everyone)
    fit = M.fit_mentor_model(
        df, outcome="post", group="mentor", pre="pre", covariates=["flag"], min_cell=7
    )
    assert "flag" not in fit.fixed.index
    notes = [n for n in fit.notes if "flag" in n]
    assert notes == ["dropped flag: fewer than 7 students differ from the others"]
    assert not any("variation" in n for n in fit.notes)
