"""Tests of mentorlib.effectiveness: known answers first (lme4, closed forms), then the study."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
import statsmodels
from numpy.testing import assert_allclose

from mentorlib import effectiveness as E
from mentorlib.data import from_synth
from mentorlib.errors import InputError

RESULTS = Path(__file__).resolve().parent / "results"
SM_RESULTS = Path(statsmodels.__file__).resolve().parent / "regression" / "tests" / "results"


@pytest.fixture(scope="module")
def lme4():
    return json.loads((RESULTS / "lme4_dietox.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def dietox():
    # the CSV statsmodels ships for its own lme4 comparisons (geepack's dietox)
    return pd.read_csv(SM_RESULTS / "dietox.csv")


def _simulated(seed: int = 0, n: int = 2400, groups: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.integers(0, groups, n)
    df = pd.DataFrame(
        {
            "pre": rng.normal(size=n),
            "flag": rng.random(n) < 0.3,
            "cat": rng.choice(["a", "b", "c"], n),
            "mentor": pd.Series([f"m{j:03d}" for j in g], dtype="str"),
        }
    )
    df["post"] = 0.8 * df["pre"] + 0.1 * df["flag"] + rng.normal(0, 0.3, groups)[g]
    df["post"] += rng.normal(size=n)
    return df


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
    # statsmodels' test_lme.py::test_pastes_vcomp copies from R (rtol 1e-3 there too)
    data = pd.read_csv(SM_RESULTS / "pastes.csv")
    fit = fit_quiet(data, outcome="strength", group="sample", extra_group="batch")
    assert_allclose(fit.fixed.loc["Intercept", "coef"], 60.0533, rtol=1e-3)
    assert_allclose(fit.fixed.loc["Intercept", "se"], 0.6769, rtol=1e-3)
    assert_allclose(fit.var("batch"), 1.657, rtol=1e-3)
    assert_allclose(fit.var_resid, 0.678, rtol=1e-3)
    assert fit.n_groups == 30 and len(fit.effects) == 30


def fit_quiet(data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return E.fit_mentor_model(data, **kw)


# --------------------------------------------------------------------------- profiled vs MixedLM


def test_profiled_fit_matches_statsmodels_to_1e6():
    """The direct random-intercept fit against statsmodels MixedLM run to a tight optimum."""
    from statsmodels.regression.mixed_linear_model import MixedLM

    df = _simulated(seed=1)
    ours = E.fit_mentor_model(
        df, outcome="post", group="mentor", pre="pre", covariates=["flag", "cat"]
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
    df = _simulated(seed=2, n=900, groups=120)
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
    df = change(_simulated(n=200, groups=20))
    cov = ["pre2"] if "pre2" in df.columns else []
    with pytest.raises(InputError, match=match) as err:
        E.fit_mentor_model(df, outcome="post", group="mentor", pre="pre", covariates=cov)
    assert "\n" not in str(err.value)


def test_bad_input_other_cases():
    with pytest.raises(InputError, match="DataFrame"):
        E.fit_mentor_model([1, 2], outcome="y", group="g")
    df = _simulated(n=200, groups=20)
    with pytest.raises(InputError, match="unknown method"):
        E.fit_mentor_model(df, outcome="post", group="mentor", method="fast")
    with pytest.raises(InputError, match="random intercept only"):
        E.fit_mentor_model(
            df, outcome="post", group="mentor", random_slope="pre", method="profiled"
        )


def test_input_not_modified_and_missing_rows_counted():
    df = _simulated(n=400, groups=40)
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
    fit = E.fit_mentor_model(df, outcome="y", group="g")
    assert fit.var_group == 0 and fit.icc == 0
    assert fit.lrt["p"] == 1.0
    assert (fit.effects["effect"] == 0).all() and (fit.effects["reliability"] == 0).all()
    assert any("boundary" in n for n in fit.notes)


def test_integrated_intervals(dietox):
    kw = dict(outcome="Weight", group="Pig", pre="Time")
    c = E.fit_mentor_model(dietox, **kw)
    i = E.fit_mentor_model(dietox, intervals="integrated", **kw)
    assert c.intervals == "conditional" and i.intervals == "integrated"
    # 12 weighings per pig pin the variance down: integrating over it changes little
    assert_allclose(i.effects["effect"], c.effects["effect"], atol=0.01)
    assert_allclose(i.effects["se"], c.effects["se"], rtol=0.01)
    # at the boundary the conditional intervals collapse to 0; the integrated ones do not
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"g": np.repeat(np.arange(50), 2), "y": rng.normal(size=100)})
    df["y"] -= df.groupby("g")["y"].transform("mean") * 0.9
    c0 = E.fit_mentor_model(df, outcome="y", group="g")
    i0 = E.fit_mentor_model(df, outcome="y", group="g", intervals="integrated")
    assert c0.var_group == 0 and (c0.effects["se"] == 0).all()
    assert (i0.effects["se"] > 0).all() and (i0.effects["ci_high"] > i0.effects["ci_low"]).all()
    with pytest.raises(InputError, match="unknown intervals"):
        E.fit_mentor_model(df, outcome="y", group="g", intervals="bayes")


def test_rank_ties_are_broken_at_random():
    e = pd.DataFrame({"mentor_id": range(8), "effect": 0.0, "se": 0.0})
    r = E.rank_probabilities(e, n_sims=4000, seed=0)
    assert_allclose(r["p_top"], 2 / 8, atol=0.03)  # each mentor equally likely on top


def test_constant_covariate_dropped_with_a_note():
    df = _simulated(n=300, groups=30).assign(const=True)
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

    monkeypatch.setattr(E, "_mixedlm_model", lambda d, g, x: (Model(), None))
    d = E._prepare(_simulated(n=100, groups=10), "post", "mentor", None, (), None, None)
    with pytest.warns(E.OptimizerWarning, match="disagree"):
        _, _, ok, meth, table, notes = E._fit_mixedlm(d, True, list("abcd"), "mentor", None)
    assert meth == "b" and ok  # the best *converged* fit, not the unconverged -1
    assert table.set_index("optimizer").loc["d", "note"] == "Singular matrix"
    assert "disagree" in notes[0]
    Model.results = {"a": Fit(-3.0, False), "b": Fit(-2.0, False)}
    with pytest.warns(E.OptimizerWarning, match="no MixedLM optimiser converged"):
        _, _, ok, meth, _, _ = E._fit_mixedlm(d, True, ["a", "b"], "mentor", None)
    assert meth == "b" and not ok


# --------------------------------------------------------------------------- the study


@pytest.fixture(scope="module")
def primary(primary_study):
    return from_synth(primary_study)


@pytest.fixture(scope="module")
def middle(middle_study):
    return from_synth(middle_study)


@pytest.fixture(scope="module")
def report(primary):
    return E.mentor_report(primary, 2024, seed=0, n_sims=500)


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


def test_private_scores_reverse_key_like_the_codebook(primary):
    cb = primary.codebook()
    rev = [f.var for f in cb.items if f.reverse]
    assert rev, "the codebook has reverse-keyed items"
    k = E._keyed_items(primary, 2024)
    raw = primary["assessment_items"]
    raw = raw[(raw["year"] == 2024) & (raw["item"] == rev[0])]["value"].astype(float)
    got = k.loc[k["item"] == rev[0], "value"]
    assert_allclose(np.sort(got.dropna()), np.sort(6 - raw.dropna()))


def test_report_tables_and_effects_track_the_truth(report, primary_study):
    assert set(report.models["outcome"]) == {
        "moral",
        "academic",
        "psychological",
        "habits",
        "composite",
    }
    e = report.effects[report.effects["outcome"] == "composite"].set_index("mentor_id")
    assert (e["ci_low"] <= e["effect"]).all() and (e["effect"] <= e["ci_high"]).all()
    assert e["p_top"].between(0, 1).all() and e["rank_low"].le(e["rank_high"]).all()
    truth = primary_study.truth["mentor_effects"]
    truth = truth[truth["year"] == 2024].groupby("mentor_id", observed=True)["effect"].mean()
    r = np.corrcoef(e["effect"], truth.reindex(e.index))[0, 1]
    assert r > 0.3, r
    assert not report.placebo["flagged"].iloc[0]
    assert report.stability["n_mentors"].gt(0).all()


def test_report_scheme_pool_and_audit(report, primary):
    s = report.scheme
    per_term = s.groupby("term").agg(n=("n_mentees", "sum"), paid=("award", "sum"))
    assert_allclose(per_term["paid"], 250 * per_term["n"])  # 250 yuan per mentee per term
    assert set(s["band"].dropna()) <= {"A", "B", "C", "D"}
    a = report.audit.iloc[0]
    assert -1 <= a["spearman"] <= 1 and 0 <= a["n_band_changed"] <= a["n_mentors"]
    assert report.bands["n_mentors"].sum() == a["n_mentors"]
    rel = report.reliability.set_index("n_mentees")
    assert rel.loc[8, "satisfaction"] >= rel.loc[1, "satisfaction"]  # more mentees, more reliable


def test_report_public_output_names_no_mentor(report):
    pub = report.to_json_dict(public=True)
    text = json.dumps(pub, ensure_ascii=False)  # plain Python types only
    assert "mentor_name" not in text and "mentor_id" not in text
    names = report.effects["mentor_name"].dropna().unique()
    assert len(names) and not any(n in text for n in names)
    assert set(pub["tables"]) >= {"models", "placebo", "audit", "effects_summary", "scheme_summary"}
    internal = report.to_json_dict(public=False)
    assert set(internal["internal_tables"]) == set(E.MentorReport.INTERNAL)
    assert names[0] in json.dumps(internal, ensure_ascii=False)
    es = report.effects_summary()
    assert (es[["n_above", "n_below", "n_indistinguishable"]].sum(axis=1) == es["n_mentors"]).all()


def test_report_summary_and_dose(report):
    txt = report.summary()
    assert "placebo" in txt and "Spearman" in txt and "not randomised" in txt
    assert "不是随机分配" in report.summary("zh")
    d = report.dose.set_index("term")
    assert set(d.index) == {"talk", "parent_contact"}
    assert (d["ratio_low"] <= d["ratio"]).all() and (d["ratio"] <= d["ratio_high"]).all()
    assert report.dose_curve["predicted"].between(0, 1).all()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_figures(report, lang):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    figs = report.figures(lang=lang)
    assert set(figs) == {"caterpillar", "naive_vs_shrunk", "dose_response"}
    assert all(isinstance(f, Figure) for f in figs.values())
    for f in figs.values():
        plt.close(f)


@pytest.mark.slow
def test_middle_school_report_runs(middle):
    rep = E.mentor_report(middle, 2024, n_sims=200, stability=False)
    assert rep.models["mean_mentees"].max() <= 2  # 1-2 nominated students per mentor
    assert (rep.scheme.groupby("term")["award"].sum() > 0).all()
    assert rep.stability.empty
    assert rep.effects["reliability"].max() < 1


@pytest.mark.slow
def test_class_variance_component_and_mentor_term(primary):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", E.OptimizerWarning)
        m = E.study_models(primary, 2024, outcomes=["composite"], class_effect=True)["composite"]
    assert m.method.startswith("mixedlm:")
    assert m.var("class_id") >= 0 and len(m.effects) == m.n_groups
    d2 = E.mentor_data(primary, 2024, mentor_term=2)
    d1 = E.mentor_data(primary, 2024, mentor_term=1)
    assert (d1["mentor_id"] != d2["mentor_id"]).mean() < 0.15  # at most 15% regrouped


def test_dose_response_mixed(primary):
    d = E.dose_response(primary, 2024, method="mixed")
    assert d.outcome == "post_composite" and d.table["ratio"].isna().all()
    assert (d.table["ci_low"] <= d.table["estimate"]).all()
    assert "not randomised" in d.warning["en"]
