"""The mentee comparison (mentorlib.progress.comparison): known answers, known truth, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from mentorlib.data import from_synth
from mentorlib.errors import InputError
from mentorlib.progress import comparison as comparison_mod
from mentorlib.progress import progress_report
from mentorlib.progress.change import study_scores
from mentorlib.progress.comparison import compare_mentees, comparison_line
from mentorlib.progress.comparison_data import FLAGS, analysis_frame, design, pre_composite
from mentorlib.progress.comparison_latent import _ols_if, difference_in_differences, rubin
from mentorlib.progress.comparison_ps import att_estimate, att_weights, balance_table
from mentorlib.progress.year import StudyYear

# ---------------------------------------------------------------- AIPW / IPW: closed forms


def _strata_data():
    d = np.array([1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    s = np.array([0] * 8 + [1] * 10)
    y = np.array([1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0], float)
    return y, d, s


def test_aipw_with_saturated_models_is_the_stratified_att_with_its_closed_form_se():
    """One binary stratum: both models are saturated, so IPW = AIPW = sum_s n1s/n1 (ybar1s -
    ybar0s) and the sandwich variance is the stratified estimator's (worked by hand)."""
    y, d, s = _strata_data()
    # by hand: stratum 0: mentees 2/3, others 2/5; stratum 1: mentees 3/4, others 2/6
    tau = 3 / 7 * (2 / 3 - 2 / 5) + 4 / 7 * (3 / 4 - 2 / 6)
    p1, p0, n1s, n0s = [2 / 3, 3 / 4], [2 / 5, 2 / 6], [3, 4], [5, 6]
    vt = sum(n1s[k] / 7 * (p1[k] * (1 - p1[k]) + (p1[k] - p0[k] - tau) ** 2) for k in (0, 1))
    vc = sum((n1s[k] / 7) ** 2 * p0[k] * (1 - p0[k]) / n0s[k] for k in (0, 1))
    x = np.column_stack([np.ones(len(y)), s])
    for dr in (False, True):
        e = att_estimate(y, d, x, doubly_robust=dr)
        assert e.estimate == pytest.approx(tau, abs=1e-10)
        assert e.se == pytest.approx(np.sqrt(vt / 7 + vc), rel=1e-8)
        assert e.ci_low == pytest.approx(tau - 1.959963984540054 * e.se, rel=1e-8)


def _selected(n, tau, rng):
    """Teachers nominate on an observed noisy score; the outcome depends on that score."""
    t = rng.normal(size=n)
    obs = t + rng.normal(scale=0.6, size=n)
    grade = rng.integers(0, 3, size=n)
    d = rng.random(n) < 1 / (1 + np.exp(2.0 + 1.6 * obs - 0.3 * grade))
    lin = 0.2 - 0.8 * obs + 0.2 * grade
    p0 = 1 / (1 + np.exp(-lin))
    p1 = 1 / (1 + np.exp(-(lin + tau)))
    u = rng.random(n)
    y = np.where(d, u < p1, u < p0).astype(float)
    x = np.column_stack([np.ones(n), obs, grade == 1, grade == 2]).astype(float)
    return y, d.astype(float), x, float((p1 - p0)[d].mean())


@pytest.mark.parametrize("tau", [0.0, 0.8])
def test_weighted_estimators_recover_a_known_att_where_the_naive_difference_does_not(tau):
    """40 simulated schools of 1,500: selection on a noisy observed score, known ATT (0 = the
    null). AIPW and IPW cover the truth in at least 85% (95% nominal; SE 3.4 points) and are
    unbiased; the naive difference of rates misses it."""
    rng = np.random.default_rng(7)
    cover = {"ipw": 0, "aipw": 0}
    err = {"ipw": [], "aipw": [], "naive": []}
    for _ in range(40):
        y, d, x, truth = _selected(1500, tau, rng)
        for name in cover:
            e = att_estimate(y, d, x, doubly_robust=name == "aipw")
            cover[name] += e.ci_low <= truth <= e.ci_high
            err[name].append(e.estimate - truth)
        err["naive"].append(y[d == 1].mean() - y[d == 0].mean() - truth)
    for name in cover:
        assert cover[name] >= 34
        assert abs(np.mean(err[name])) < 0.015
    assert np.mean(err["naive"]) > 0.1


def test_aipw_is_doubly_robust_with_a_wrong_propensity():
    """Propensity without the score (wrong), outcome model right: AIPW still unbiased, IPW not."""
    rng = np.random.default_rng(3)
    a, b = [], []
    for _ in range(20):
        y, d, x, truth = _selected(2000, 0.5, rng)
        xw = x[:, [0, 2, 3]]  # drops the score from the propensity
        a.append(att_estimate(y, d, xw, x_outcome=x).estimate - truth)
        b.append(att_estimate(y, d, xw, doubly_robust=False).estimate - truth)
    assert abs(np.mean(a)) < 0.015
    assert np.mean(b) > 0.1


def test_separation_and_no_variation_are_one_line_errors():
    d = np.array([0, 0, 0, 1, 1, 1], float)
    x = np.column_stack([np.ones(6), [0.0, 0.1, 0.2, 0.8, 0.9, 1.0]])
    with pytest.raises(InputError, match="separat|cannot be fitted"):
        att_estimate(np.ones(6), d, x)
    with pytest.raises(InputError, match="does not vary"):
        att_estimate(np.ones(6), np.zeros(6), x)


def test_balance_table_smd_by_hand():
    cov = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0]})
    d = np.array([1, 1, 0, 0])
    t = balance_table(cov, d, np.array([1.0, 1.0, 3.0, 1.0])).iloc[0]
    sd = np.sqrt((0.25 + 0.25) / 2)
    assert t["smd_before"] == pytest.approx((1.5 - 3.5) / sd)
    assert t["smd_after"] == pytest.approx((1.5 - 3.25) / sd)
    assert not t["balanced"]


# ---------------------------------------------------------------- latent pieces


def test_ols_influence_function_gives_statsmodels_hc0():
    rng = np.random.default_rng(1)
    X = np.column_stack([np.ones(200), rng.normal(size=200), rng.random(200) < 0.3])
    yv = X @ [0.5, 1.0, 0.3] + rng.normal(size=200)
    b, phi = _ols_if(yv, X, 2)
    ref = sm.OLS(yv, X).fit(cov_type="HC0")
    assert b == pytest.approx(ref.params[2])
    assert np.sqrt((phi**2).sum()) == pytest.approx(ref.bse[2], rel=1e-8)


def test_rubin_rules_by_hand():
    q, u = np.array([1.0, 1.2, 0.8, 1.0]), np.full(4, 0.04)
    est, se, lo, hi = rubin(q, u, df_complete=1e9)
    total = 0.04 + 1.25 * np.var(q, ddof=1)
    assert est == pytest.approx(1.0) and se == pytest.approx(np.sqrt(total))
    lam = 1.25 * np.var(q, ddof=1) / total
    from scipy import stats

    df = 3 / lam**2
    assert hi - est == pytest.approx(stats.t.ppf(0.975, df) * se, rel=1e-4)


def test_difference_in_differences_by_hand():
    """New mentees gain 0.5 SD more from last year's post-test; no pre-trend difference."""
    n = 40
    ids = [f"s{i}" for i in range(n)]
    treated = np.arange(n) < 10
    rng = np.random.default_rng(0)
    pre0 = rng.normal(3, 1, n)
    trend = np.tile([0.1, -0.1], n // 2)
    prev = pd.DataFrame({"student_id": ids, "mentee": False, "pre_a": pre0, "post_a": pre0 + trend})
    sd = prev["pre_a"].std()
    now = pd.DataFrame(
        {
            "student_id": ids,
            "mentee": treated,
            "pre_a": pre0,
            "post_a": pre0 + trend + 0.2 * sd + 0.5 * sd * treated + np.tile([0.05, -0.05], 20),
        }
    )
    t = difference_in_differences(prev, now, ["a"], min_cell=5, alpha=0.05).set_index("dimension")
    assert t.loc["a", "estimate"] == pytest.approx(0.5, abs=1e-9)
    assert t.loc["a", "pretrend"] == pytest.approx(0.0, abs=1e-9)
    assert t.loc["a", "n_treated"] == 10 and t.loc["a", "n_control"] == 30
    with pytest.raises(InputError, match="fewer than 12"):
        difference_in_differences(prev, now, ["a"], min_cell=12, alpha=0.05)


# ---------------------------------------------------------------- the whole comparison


@pytest.fixture(scope="module")
def middle(middle_study):
    return from_synth(middle_study)


@pytest.fixture(scope="module")
def comparison(middle):
    return compare_mentees(middle, 2025, seed=1, m=4, latent=True)


def test_compare_mentees_on_a_middle_school(comparison):
    c = comparison
    assert set(c.as_dict()) == {"estimate", "ci_low", "ci_high", "method", "scale"}
    assert c.method == "aipw" and c.scale == "rate"
    assert c.ci_low < c.estimate < c.ci_high
    est = c.estimators
    assert {"naive_rate", "naive_change", "ancova_latent", "ipw", "aipw", "did"} <= set(
        est["estimator"]
    )
    lat = est.loc[est["estimator"] == "ancova_latent"]
    assert len(lat) == 5 and (lat["scale"] == "sd").all()
    assert (lat["ci_low"] < lat["estimate"]).all()
    # weighting balances the pre-test the nomination unbalanced
    pre = c.balance.loc[c.balance["covariate"].str.startswith("pre_")]
    assert pre["smd_before"].abs().max() > 0.5
    assert pre["smd_after"].abs().max() < 0.5 * pre["smd_before"].abs().max()
    g = c.guidance.set_index("estimator")
    assert g.loc["aipw", "supported"] == bool(c.balance["smd_after"].abs().max() < 0.1)
    assert list(c.guidance["estimator"])[:2] == ["naive_rate", "naive_change"]
    assert c.guidance.set_index("estimator").loc["naive_rate", "supported"] is False
    fig = c.love_plot("zh")
    assert fig is not None and "班级前测均值" in [
        t.get_text() for t in fig.axes[0].get_yticklabels()
    ]


def test_compare_mentees_errors_and_notes(middle):
    with pytest.raises(InputError, match="method"):
        compare_mentees(middle, 2025, method="magic")
    with pytest.raises(InputError, match="not in study"):
        compare_mentees(middle, 2030)
    P = middle
    students = P.tables["students"].copy()
    mentees = students.index[(students["year"] == 2024) & students["mentee"]]
    few = students.copy()
    few.loc[mentees[3:], "mentee"] = False
    P.tables["students"] = few
    try:
        c = compare_mentees(P, 2024, latent=False)
    finally:
        P.tables["students"] = students
    assert c.estimate is None and c.as_dict()["estimate"] is None
    assert any("each group needs at least" in n for n in c.notes)
    c2 = compare_mentees(P, 2023, method="did", latent=False)
    assert c2.estimate is None and any("difference-in-differences omitted" in n for n in c2.notes)


def test_progress_report_carries_the_comparison(middle, primary_study):
    r = progress_report(middle, 2025, n_boot=0, true_share=False)
    assert r.comparison is not None and r.comparison == r.comparison_detail.as_dict()
    assert r.comparison["method"] == "aipw" and r.comparison["scale"] == "rate"
    s = r.summary_dict()
    assert s["comparison"] == r.comparison
    assert "difference" in s["comparison_naive"]  # the unadjusted row, as before
    d = json.loads(json.dumps(r.to_json_dict(), allow_nan=False))
    assert set(d["summary"]["comparison"]) == {"estimate", "ci_low", "ci_high", "method", "scale"}
    assert comparison_line(r.comparison, "en")[0].startswith("Mentees against non-mentees")
    p = progress_report(from_synth(primary_study), 2024, n_boot=0, true_share=False)
    assert p.comparison is None and p.summary_dict()["comparison"] is None


def test_last_years_pre_test_not_last_years_mentoring_enters_the_propensity(middle):
    # Continuing mentees were nominated on last year's observed pre-test: that score and its
    # rank in the class are covariates; "mentored last year" is part of the treatment and as a
    # covariate left no overlap (propensities near 1 for every continuing mentee).
    rules = middle.rules
    scored = study_scores(middle, rules=rules)
    y = StudyYear(middle, scored, 2025, rules=rules)
    prev = pre_composite(scored.scores, 2024)
    s = scored.scores
    s = s.loc[(s["year"] == 2024) & (s["wave"] == "pre")]
    sid = str(s["student_id"].iloc[0])
    z = [
        (g.loc[g["student_id"].astype(str) == sid, "score"].iloc[0] - g["score"].mean())
        / g["score"].std()
        for _, g in s.groupby("dimension", observed=True)
        if (g["student_id"].astype(str) == sid).any()
    ]
    assert prev.loc[sid] == pytest.approx(np.mean(z))  # by hand: mean of standardised scores
    frame = analysis_frame(y, rules.k_dimensions, prev)
    X, _ = design(frame, list(y.cb.dimensions))
    assert {"prev_pre", "prev_class_rank", "class_rank_pre"} <= set(X.columns)
    assert "mentee_before" not in X.columns and "mentee_before" not in frame.columns
    ranks = X["class_rank_pre"]
    assert ranks.between(0, 1).all()
    # the nominated are the weakest of their classes
    assert ranks[frame["mentee"].to_numpy()].mean() < ranks[~frame["mentee"].to_numpy()].mean()


def test_clustered_interval_uses_the_t_quantile_with_g_minus_1_df():
    # Cameron & Miller (2015): with G classes the cluster-robust interval takes t(G - 1)
    rng = np.random.default_rng(3)
    n, g = 600, 12
    x = np.column_stack([np.ones(n), rng.normal(size=n)])
    d = (rng.random(n) < 1 / (1 + np.exp(1 - x[:, 1]))).astype(float)
    y = (rng.random(n) < 0.4 + 0.1 * d).astype(float)
    cl = np.arange(n) % g
    for cluster, q in ((cl, stats.t.ppf(0.975, g - 1)), (None, stats.norm.ppf(0.975))):
        eff = att_estimate(y, d, x, cluster=cluster)
        assert (eff.ci_high - eff.ci_low) / 2 == pytest.approx(q * eff.se, rel=1e-12)


def test_a_few_classes_never_narrow_the_interval_below_independent_students():
    # 4 classes of 30, the weakest 6 of each nominated, the class mean pre-test a covariate:
    # the class sums of the influence function nearly cancel, and the cluster-robust variance
    # alone gave a 24-mentee interval of +-4 points (a hand-made school; Angrist & Pischke
    # 2009, 8.2.3: take the larger of the two)
    rng = np.random.default_rng(11)
    cl = np.repeat(np.arange(4), 30)
    pre = rng.normal(size=120) + 0.3 * cl
    rank = pd.Series(pre).groupby(cl).rank(pct=True).to_numpy()
    impression = pd.Series(pre + rng.normal(size=120)).groupby(cl).rank(pct=True).to_numpy()
    d = (impression <= 0.2).astype(float)  # the teacher's impression, not the test alone
    class_mean = pd.Series(pre).groupby(cl).transform("mean").to_numpy()
    x = np.column_stack([np.ones(120), pre, class_mean, rank])
    y = (rng.random(120) < 0.5 + 0.1 * d).astype(float)
    clustered = att_estimate(y, d, x, cluster=cl)
    alone = att_estimate(y, d, x)
    assert clustered.se >= alone.se > 0.05  # 24 mentees: an SE of several points
    assert clustered.ci_high - clustered.ci_low > 2 * stats.t.ppf(0.975, 3) * alone.se - 1e-9


# ---------------------------------------------------------------- notes: no small counts
# The notes go out in `progress --json`: no count of fewer than min_cell students, no empty
# group, and no count whose rest (from a count printed elsewhere) is small.


@pytest.mark.parametrize("keep", [3, 0])
def test_a_comparison_too_small_to_estimate_prints_no_count(middle, keep):
    P = middle
    mc = P.rules.min_cell
    students = P.tables["students"].copy()
    mentees = students.index[(students["year"] == 2024) & students["mentee"]]
    few = students.copy()
    few.loc[mentees[keep:], "mentee"] = False  # 3 mentees left, or none
    P.tables["students"] = few
    try:
        c = compare_mentees(P, 2024, latent=False)
    finally:
        P.tables["students"] = students
    note = next(n for n in c.notes if "each group needs at least" in n)
    # the short group as "<min_cell", the other (whose count would give it back) not at all
    assert note == (
        f"comparison: not estimated (fewer than {mc} evaluable mentees; each group needs at "
        f"least {mc})"
    )


def _trim_frame(n: int = 240, seed: int = 4) -> pd.DataFrame:
    """A hand-made year: mentees nominated on a noisy pre-test (propensities up to ~1)."""
    rng = np.random.default_rng(seed)
    pre = rng.normal(size=n)
    mentee = rng.random(n) < 1 / (1 + np.exp(2.5 + 2.5 * pre))
    frame = pd.DataFrame(
        {
            "mentee": mentee,
            "grade": "7",
            "class": [f"7-{i % 6}" for i in range(n)],
            "pre_a": pre,
            "improved": (rng.random(n) < 0.5).astype(float),
        }
    )
    for f in FLAGS:
        frame[f] = 0.0
    return frame


@pytest.mark.parametrize("cut", ["few", "most", "some"])
def test_the_propensity_trim_note_prints_no_small_count(monkeypatch, cut):
    frame = _trim_frame()
    X, _ = design(frame, ["a"], min_cell=5)
    d = frame["mentee"].to_numpy(dtype=float)
    e, _ = att_weights(d, np.column_stack([np.ones(len(d)), X.to_numpy(dtype=float)]))
    top = np.sort(e[d == 1])[::-1]  # the mentees' propensities, highest first
    nt = len(top)
    assert nt >= 20
    k = {"few": 3, "most": nt - 2, "some": 7}[cut]  # trimmed; "most": 2 mentees left
    monkeypatch.setattr(comparison_mod, "TRIM", (top[k - 1] + top[k]) / 2)
    notes: list[str] = []
    comparison_mod._weighted(frame, ["a"], 0.05, notes, 5)
    note = next(n for n in notes if "have no comparable non-mentees" in n)
    said = {"few": "fewer than 5", "most": "all but fewer than 5", "some": "7"}[cut]
    assert note.startswith(f"comparison: {said} mentee(s) with a propensity above")


def test_a_covariate_left_out_of_the_propensity_names_no_empty_group():
    frame = _trim_frame()
    # transfer students: 6, none of them a mentee (a category with no mentee)
    others = np.flatnonzero(~frame["mentee"].to_numpy())[:6]
    frame.loc[others, "transfer"] = 1.0
    X, notes = design(frame, ["a"], min_cell=5)
    assert "transfer" not in X.columns
    note = next(n for n in notes if "transfer" in n)
    assert "no mentee" not in note and "no non-mentee" not in note
    assert "fewer than 5 mentees or non-mentees in one of its categories" in note


def test_difference_in_differences_error_prints_no_small_count():
    # 3 new mentees and 30 never-mentored students: the message becomes a published note
    ids = [f"s{i}" for i in range(33)]
    pre = np.linspace(2, 4, 33)
    prev = pd.DataFrame({"student_id": ids, "mentee": False, "pre_a": pre, "post_a": pre + 0.1})
    now = pd.DataFrame(
        {"student_id": ids, "mentee": np.arange(33) < 3, "pre_a": pre, "post_a": pre + 0.3}
    )
    with pytest.raises(InputError) as err:
        difference_in_differences(prev, now, ["a"], min_cell=5, alpha=0.05)
    msg = str(err.value)
    assert "fewer than 5 new mentees" in msg
    assert "3" not in msg and "30" not in msg and "never-mentored" not in msg
