"""The 85% verdict: published worked examples, closed forms, another package, and the truth."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mentorlib import progress, scales
from mentorlib.io.codebook import load_codebook
from mentorlib.data import from_synth
from mentorlib.errors import InputError

matplotlib.use("Agg")

CB = load_codebook("assessment_primary")


# ------------------------------------------------------------------ reliable change


def test_rci_known_answer():
    # Issue 4 / Jacobson & Truax (1991) formula, by hand: S_E = 5 sqrt(0.2) = 2.236068,
    # S_diff = sqrt(2) S_E = sqrt(10) = 3.162278; RCI = change / 3.162278
    pre = np.full(5, 20.0)
    post = pre + np.array([-8, -4, 0, 4, 8])
    t = progress.reliable_change(pre, post, sd_pre=5, reliability=0.80)
    np.testing.assert_allclose(t["s_diff"], 3.162278, atol=1e-6)
    np.testing.assert_allclose(t["rci"], [-2.529822, -1.264911, 0, 1.264911, 2.529822], atol=1e-6)
    assert t["improved"].tolist() == [False, False, False, False, True]
    assert t["deteriorated"].tolist() == [True, False, False, False, False]
    down = progress.reliable_change(pre, post, sd_pre=5, reliability=0.80, direction="down")
    assert down["improved"].tolist() == [True, False, False, False, False]


def test_rci_missing_and_bad_input():
    t = progress.reliable_change([1.0, np.nan], [4.0, 2.0], sd_pre=1, reliability=0.5)
    assert t["improved"].isna().tolist() == [False, True]
    with pytest.raises(InputError, match="reliability"):
        progress.reliable_change([1], [2], sd_pre=1, reliability=1.0)
    with pytest.raises(InputError, match="sd_pre"):
        progress.reliable_change([1], [2], sd_pre=0, reliability=0.8)
    with pytest.raises(InputError, match="direction"):
        progress.reliable_change([1], [2], sd_pre=1, reliability=0.8, direction="better")


def test_minimal_change_threshold():
    # MID = 0.5 * sd_pre = 1.0: a change of exactly 1.0 counts ("at least"), 0.9 does not
    t = progress.minimal_change([3, 3, 3, 3], [4.0, 3.9, 2.0, 2.5], sd_pre=2.0)
    assert t["improved"].tolist() == [True, False, False, False]
    assert t["deteriorated"].tolist() == [False, False, True, False]
    np.testing.assert_allclose(t["effect"], [0.5, 0.45, -0.5, -0.25])


def test_rci_false_positive_rate_matches_simulation():
    # Closed form (progress.false_positive_rate) against a simulation of classical test
    # theory with no true change: x = T + e, e ~ N(0, s^2 (1 - r)), 4 dimensions.
    rng = np.random.default_rng(3)
    n, r, s = 100_000, 0.8, 1.0
    true = rng.standard_normal((n, 4)) * np.sqrt(r)
    sem = s * np.sqrt(1 - r)
    pre = true + rng.standard_normal((n, 4)) * sem
    post = true + rng.standard_normal((n, 4)) * sem
    flags = progress.reliable_change(pre.ravel(), post.ravel(), sd_pre=s, reliability=r)
    imp = flags["improved"].to_numpy(dtype=bool).reshape(n, 4)
    fp = progress.false_positive_rate(n_dimensions=4, k=1)
    # 1 - (1 - (1 - Phi(1.96)))^4 = 1 - 0.9750021^4 = 0.096304
    assert fp.loc[0, "p_student"] == pytest.approx(1 - (1 - stats.norm.sf(1.96)) ** 4)
    assert imp.any(1).mean() == pytest.approx(fp.loc[0, "p_student"], abs=0.004)
    fp2 = progress.false_positive_rate(n_dimensions=4, k=2)
    assert (imp.sum(1) >= 2).mean() == pytest.approx(fp2.loc[0, "p_student"], abs=0.001)
    # MID 0.5 SD with r = 0.8: 1 - Phi(0.5 / sqrt(0.4)) = 1 - Phi(0.790569) = 0.214598
    mid = progress.false_positive_rate(n_dimensions=4, k=1, mid=0.5, reliability=0.8)
    assert mid.loc[0, "p_dimension"] == pytest.approx(0.214598, abs=1e-6)
    m = progress.minimal_change(pre.ravel(), post.ravel(), sd_pre=s)
    assert m["improved"].to_numpy(dtype=bool).mean() == pytest.approx(0.214598, abs=0.003)


def test_false_positive_rate_unequal_reliabilities():
    # Poisson-binomial by hand: p = (0.1, 0.2); P(at least 1) = 1 - 0.9 * 0.8 = 0.28
    r = 1 - (0.5 / stats.norm.isf(np.array([0.1, 0.2]))) ** 2 / 2  # reliabilities giving p
    t = progress.false_positive_rate(n_dimensions=2, k=1, mid=0.5, reliability=r)
    assert t.loc[0, "p_student"] == pytest.approx(0.28)
    t2 = progress.false_positive_rate(n_dimensions=2, k=2, mid=0.5, reliability=r)
    assert t2.loc[0, "p_student"] == pytest.approx(0.02)
    with pytest.raises(InputError, match="k must"):
        progress.false_positive_rate(n_dimensions=4, k=5)


# ------------------------------------------------------------------ proportions


@pytest.mark.parametrize(
    ("x", "n", "wilson", "cp"),
    [
        # Newcombe (1998a), Statistics in Medicine 17:857-872, Table I (methods 3 and 5)
        (81, 263, (0.2553, 0.3662), (0.2527, 0.3676)),
        (15, 148, (0.0624, 0.1605), (0.0578, 0.1617)),
        (0, 20, (0.0, 0.1611), (0.0, 0.1684)),
    ],
)
def test_intervals_newcombe_table_1(x, n, wilson, cp):
    w = progress.proportion_ci(x, n, method="wilson")
    c = progress.proportion_ci(x, n, method="clopper-pearson")
    assert (round(w.loc[0, "ci_low"], 4), round(w.loc[0, "ci_high"], 4)) == wilson
    assert (round(c.loc[0, "ci_low"], 4), round(c.loc[0, "ci_high"], 4)) == cp


def test_proportion_ci_vectorised():
    t = progress.proportion_ci([81, 15], [263, 148])
    assert t["ci_low"].round(4).tolist() == [0.2553, 0.0624]
    with pytest.raises(InputError):
        progress.proportion_ci(5, 4)
    with pytest.raises(InputError, match="method"):
        progress.proportion_ci(5, 10, method="wald")


def test_exact_binomial_p_value():
    # P(X >= 90 | n = 100, p = 0.85), e.g. R: binom.test(90, 100, 0.85, "greater")$p.value
    t = progress.proportion_test(90, 100, target=0.85)
    assert t.loc[0, "p_value"] == pytest.approx(0.0994474, abs=1e-7)
    assert t.loc[0, "proportion"] == 0.9
    assert t.loc[0, "verdict"] == "met by point estimate only"
    assert t.loc[0, "lower_bound"] < 0.85 < t.loc[0, "proportion"]


def test_verdicts():
    assert progress.proportion_test(95, 100).loc[0, "verdict"] == "met"
    assert progress.proportion_test(85, 100).loc[0, "verdict"] == "met by point estimate only"
    assert progress.proportion_test(84, 100).loc[0, "verdict"] == "not met"
    # one-sided Wilson lower bound uses z_.95 = 1.644854: 95/100 -> 0.9006 by the formula
    z = stats.norm.isf(0.05)
    lb = (95 + z * z / 2 - z * np.sqrt(95 * 5 / 100 + z * z / 4)) / (100 + z * z)
    assert progress.proportion_test(95, 100).loc[0, "lower_bound"] == pytest.approx(lb)


def test_clopper_pearson_bound_is_dual_to_exact_test():
    # The one-sided CP lower bound exceeds p0 exactly when the exact test rejects at alpha
    for x in range(160, 201):
        t = progress.proportion_test(x, 200, method="clopper-pearson")
        assert (t.loc[0, "lower_bound"] > 0.85) == (t.loc[0, "p_value"] < 0.05), x
    # closed form for x = n: lower bound alpha^(1/n) = 0.05^(1/20) = 0.860891
    t = progress.proportion_test(20, 20, method="clopper-pearson")
    assert t.loc[0, "lower_bound"] == pytest.approx(0.05 ** (1 / 20))
    assert t.loc[0, "verdict"] == "met"


def test_proportion_test_bad_input():
    with pytest.raises(InputError):
        progress.proportion_test(0, 0)
    with pytest.raises(InputError, match="target"):
        progress.proportion_test(5, 10, target=85)


def test_newcombe_difference_table_2():
    # Newcombe (1998b), Statistics in Medicine 17:873-890, Table II, example (a) 56/70 - 48/80,
    # method 10 (score interval, hybrid): +0.0524 to +0.3339
    t = progress.rate_difference(56, 70, 48, 80)
    assert t.loc[0, "difference"] == pytest.approx(0.2)
    assert round(t.loc[0, "ci_low"], 4) == 0.0524
    assert round(t.loc[0, "ci_high"], 4) == 0.3339


def test_mean_difference_matches_scipy_welch():
    rng = np.random.default_rng(5)
    a, b = rng.normal(0.3, 1, 40), rng.normal(0, 2, 25)
    t = progress.mean_difference(a, b)
    ref = stats.ttest_ind(a, b, equal_var=False)  # another package: scipy's Welch test
    ci = ref.confidence_interval(0.95)
    assert t.loc[0, "p_value"] == pytest.approx(ref.pvalue)
    assert (t.loc[0, "ci_low"], t.loc[0, "ci_high"]) == pytest.approx((ci.low, ci.high))
    assert t.loc[0, "df"] == pytest.approx(ref.df)


def test_trend_test_matches_statsmodels():
    from statsmodels.stats.contingency_tables import Table

    x, n = np.array([10, 15, 25]), np.array([50, 50, 50])
    t = progress.trend_test(x, n)
    ref = Table(np.c_[x, n - x]).test_ordinal_association(
        row_scores=np.arange(3.0), col_scores=np.array([1.0, 0.0])
    )
    # statsmodels uses the conditional (hypergeometric) variance, which is (N-1)/N times
    # the Cochran-Armitage one: z_CA = z_sm * sqrt(N / (N - 1))
    assert t.loc[0, "z"] == pytest.approx(ref.zscore * np.sqrt(150 / 149))
    assert t.loc[0, "slope"] == pytest.approx(0.15)  # (0.5 - 0.2) / 2 for equal n


# ------------------------------------------------------------------ a year of a study


def _scores(rows):
    return pd.DataFrame(rows, columns=["student_id", "year", "wave", "dimension", "score"])


def test_change_scores_roster_and_flags():
    dims = list(CB.dimensions)
    rows = []
    pre = {"a": 2.0, "b": 3.0, "c": 4.0, "d": 3.0}
    post = {"a": 4.5, "b": 3.0, "c": 4.0}  # d has no post wave
    for s in pre:
        for d in dims:
            rows.append((s, 2024, "pre", d, pre[s]))
            if s in post:
                rows.append((s, 2024, "post", d, post[s]))
    roster = pd.DataFrame({"student_id": ["a", "b", "c", "d", "e"], "grade": 1})
    ch = progress.change_scores(
        _scores(rows), year=2024, codebook=CB, roster=roster, reliability=0.8
    )
    assert len(ch) == 5 * 4  # every roster student, every dimension
    sd = np.std([2.0, 3.0, 4.0, 3.0], ddof=1)  # pre SD of the roster (e has none)
    np.testing.assert_allclose(ch["sd_pre"], sd)
    a = ch.loc[ch["student_id"] == "a"].iloc[0]
    assert a["rci"] == pytest.approx(2.5 / (np.sqrt(2) * sd * np.sqrt(0.2)))
    assert bool(a["improved"]) and a["evaluable"]
    assert not ch.loc[ch["student_id"].isin(["d", "e"]), "evaluable"].any()
    assert ch.loc[ch["student_id"] == "e", "improved"].isna().all()
    per = progress.student_progress(ch)
    cat = per.set_index("student_id")["category"].astype(str)
    assert cat.to_dict() == {
        "a": "improved_3plus",
        "b": "no_change",
        "c": "no_change",
        "d": "not_evaluable",
        "e": "not_evaluable",
    }
    assert per.set_index("student_id").loc["a", "dims_improved"] == ";".join(dims)
    v = progress.year_verdict(per, k=1).set_index("rule")
    assert v.loc[
        "evaluable_only", ["n_students", "n_evaluable", "n_progressing", "n"]
    ].tolist() == [
        5,
        3,
        1,
        3,
    ]
    assert v.loc["missing_not_progressing", "n"] == 5
    assert v.loc["missing_not_progressing", "proportion"] == pytest.approx(0.2)


def test_change_scores_options():
    rows = [
        (s, 2024, w, d, v)
        for s, v0 in (("a", 2.0), ("b", 3.0), ("c", 4.0))
        for d in CB.dimensions
        for w, v in (("pre", v0), ("post", v0 + 0.6))
    ]
    sc = _scores(rows)
    mid = progress.change_scores(sc, year=2024, codebook=CB, definition="mid")
    # change 0.6 >= 0.5 * SD(2, 3, 4) = 0.5: all improved; RCI columns empty
    assert mid["improved"].all() and mid["rci"].isna().all()
    pub = progress.change_scores(sc, year=2024, codebook=CB, reliability="published")
    exp = {d: CB.dimensions[d].published_alpha for d in CB.dimensions}
    assert (pub["reliability"] == pub["dimension"].map(exp)).all()
    with pytest.raises(InputError, match="sd_by"):
        progress.change_scores(sc, year=2024, codebook=CB, sd_by="grade")
    with pytest.raises(InputError, match="reliability"):
        progress.change_scores(sc, year=2024, codebook=CB, reliability={"moral": 0.8})
    with pytest.raises(InputError, match="outside"):
        progress.change_scores(sc, year=2024, codebook=CB, reliability=1.2)


def test_student_progress_categories():
    ch = pd.DataFrame(
        {
            "student_id": np.repeat(["up2", "mixed", "down", "flat"], 4),
            "year": 2024,
            "dimension": np.tile(list(CB.dimensions), 4),
            "evaluable": True,
            "improved": [1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            "deteriorated": [0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0],
        }
    ).astype({"improved": "boolean", "deteriorated": "boolean"})
    per = progress.student_progress(ch).set_index("student_id")
    assert per["category"].astype(str).tolist() == [
        "improved_1_2",
        "improved_1_2",
        "deteriorated",
        "no_change",
    ]
    assert per.loc["mixed", "n_deteriorated"] == 1
    v2 = progress.year_verdict(per.reset_index(), k=2)
    assert v2.loc[0, "n_progressing"] == 1


def test_rci_calibrated_against_generator_truth(primary_study):
    # Among student-dimensions whose true latent change is near zero (|delta| < 0.2), the
    # RCI with the data alpha should flag about 2.5% as improved and 2.5% as deteriorated
    # (Jacobson & Truax's nominal rate); the generator's graded-response errors are not
    # exactly the classical model, hence the generous band.
    P = from_synth(primary_study)
    sc = scales.score_scales(P["assessment_items"], CB)
    rel = scales.reliability(P["assessment_items"], CB)
    lat = primary_study.truth["latent"].assign(
        student_id=lambda d: d["student_id"].astype(str),
        dimension=lambda d: d["dimension"].astype(str),
    )
    frames = []
    for y in P.years:
        roster = P["students"].loc[P["students"]["year"] == y]
        frames.append(
            progress.change_scores(sc, year=y, codebook=CB, roster=roster, reliability=rel)
        )
    m = pd.concat(frames).merge(lat, on=["student_id", "year", "dimension"])
    m = m.loc[m["evaluable"] & (m["delta"].abs() < 0.2)]
    assert len(m) > 1000
    assert 0.01 < m["improved_x"].astype(bool).mean() < 0.05
    assert 0.01 < m["deteriorated"].astype(bool).mean() < 0.05


def test_standardised_gain_by_hand():
    students = pd.DataFrame({"student_id": ["a", "b", "c"], "year": 2024, "grade": 3})
    exams = pd.DataFrame(
        {
            "student_id": ["a", "b", "c"] * 2,
            "year": 2024,
            "term": [1, 1, 1, 2, 2, 2],
            "subject": "math",
            "score": [60.0, 70, 80, 90, 70, 80],
        }
    )
    g = progress.standardised_gain(exams, students).set_index("student_id")
    # term 1: z = -1, 0, 1 (mean 70, sd 10). term 2: mean 80, sd 10 -> z = 1, -1, 0
    np.testing.assert_allclose(g["gain"], [2.0, -1.0, -1.0])
    assert g["improved"].tolist() == [True, False, False]
    assert g["deteriorated"].tolist() == [False, True, True]


# ------------------------------------------------------------------ the report


@pytest.fixture(scope="module")
def report(primary_study):
    return progress.progress_report(from_synth(primary_study), 2024)


def test_report_tables(report):
    assert report.verdict["rule"].tolist() == list(progress.RULES)
    s = report.sensitivity
    assert len(s) == 3 * 2 * 2  # definitions x k x rules
    assert s["headline"].sum() == 1
    h = s.loc[s["headline"]].iloc[0]
    assert (h["definition"], h["k"], h["rule"]) == ("rci_data", 1, "evaluable_only")
    v = report.headline_row()
    assert v["proportion"] == h["proportion"]
    assert v["n_students"] == v["n_evaluable"] + v["n_not_evaluable"]
    assert report.trend["year"].tolist() == [2023, 2024, 2025]
    assert set(report.breakdowns["by"]) == set(progress.BREAKDOWNS)
    fp = report.context["false_positive"]
    assert len(fp) == 3 * 2 and "observed" in fp
    assert "comparison_rates" not in report.context  # primary school: everyone is a mentee
    assert len(report.context["reliability"]) == 8


def test_report_counts_add_up(report, primary_study):
    roster = primary_study.tables["students"]
    n = int((roster["year"] == 2024).sum())
    v = report.headline_row()
    assert v["n_students"] == n == len(report.per_student)
    bd = report.breakdowns
    grade = bd.loc[bd["by"] == "grade"]
    assert grade["n_students"].sum() == n
    assert grade["n_progressing"].sum() == v["n_progressing"]
    gender = bd.loc[bd["by"] == "gender"]
    assert gender["n_evaluable"].sum() == v["n_evaluable"]
    # mentors have 5-8 students: small groups are blanked, never shown
    m = bd.loc[bd["by"] == "mentor"]
    assert m["suppressed"].any() or (m["n_students"] >= 5).all()
    assert m.loc[m["suppressed"], "proportion"].isna().all()
    assert (m.loc[~m["suppressed"], "n_evaluable"] >= 5).all()
    a = primary_study.tables["assignments"]
    term1 = a.loc[(a["year"] == 2024) & (a["term"] == 1), "mentor_id"].astype(str)
    assert set(m["group"]) == set(term1)
    focus = bd.loc[bd["by"] == "focus_group"].set_index("group")
    lb = int((roster.loc[roster["year"] == 2024, "left_behind"]).sum())
    assert focus.loc["left_behind", "n_students"] == lb


def test_report_json_and_headline(report):
    d = report.to_json_dict()
    text = json.dumps(d, allow_nan=False)  # plain types only, no NaN
    assert "per_student" not in text
    s = report.summary()
    assert isinstance(s["n_evaluable"], int) and isinstance(s["proportion"], float)
    assert s["verdict"] in progress.VERDICTS
    zh = report.headline("zh")
    assert f"{s['n_evaluable']:,}名学生" in zh and f"{s['proportion']:.1%}" in zh
    assert f"{s['ci_low']:.1%}–{s['ci_high']:.1%}" in zh
    assert "at least 1 development dimension" in report.headline("en")


def test_report_middle_school_comparison(middle_study):
    r = progress.progress_report(from_synth(middle_study), 2024, k=1)
    students = middle_study.tables["students"]
    mentees = int(((students["year"] == 2024) & students["mentee"]).sum())
    assert r.headline_row()["n_students"] == mentees
    c = r.context["comparison_rates"].iloc[0]
    assert c["n1"] <= mentees and c["n2"] > c["n1"]
    assert c["ci_low"] < c["difference"] < c["ci_high"]
    assert len(r.context["comparison_means"]) == 4


def test_report_bad_input(primary_study):
    P = from_synth(primary_study)
    with pytest.raises(InputError, match="not in study"):
        progress.progress_report(P, 2030)
    items = P["assessment_items"]
    P.tables["assessment_items"] = items.loc[~((items["year"] == 2025) & (items["wave"] == "post"))]
    with pytest.raises(InputError, match="no post-wave"):
        progress.progress_report(P, 2025)
    with pytest.raises(InputError, match="definition"):
        progress.progress_report(P, 2024, definition="magic")


def test_figures(report):
    import matplotlib.pyplot as plt

    for lang in ("zh", "en"):
        figs = report.figures(lang=lang)
        assert set(figs) == {"by_year", "by_grade", "dimensions", "pre_post"}
        for f in figs.values():
            assert isinstance(f, matplotlib.figure.Figure)
        title = figs["by_year"].axes[0].get_title()
        assert ("学年" in title) == (lang == "zh")
        # the dimensions figure never draws a bar for fewer than 5 students
        ax = figs["dimensions"].axes[0]
        heights = [p.get_height() for p in ax.patches]
        assert all(h == 0 or h >= 5 for h in heights)
        plt.close("all")


# ------------------------------------------------------------------ bootstrap interval


def test_weighted_alpha_equals_alpha_of_repeated_rows():
    # frequency weights are row repetitions: alpha with weights w == alpha of np.repeat(x, w)
    rng = np.random.default_rng(2)
    x = rng.integers(1, 6, size=(30, 4)).astype(float) + rng.integers(0, 2, size=(30, 1))
    x[3, 1] = np.nan  # listwise deletion applies in both
    w = rng.integers(0, 4, size=30)
    got = progress._weighted_alpha(w[None, :].astype(float), x)[0]
    ref = scales.cronbach_alpha(np.repeat(x, w, axis=0)).loc[0, "alpha"]
    assert got == pytest.approx(ref, rel=1e-10)


def test_bootstrap_interval_in_verdict(report, primary_study):
    v = report.verdict.set_index("rule")
    for rule in progress.RULES:
        lo, hi = v.loc[rule, "boot_ci_low"], v.loc[rule, "boot_ci_high"]
        assert lo < v.loc[rule, "proportion"] < hi
        assert lo <= v.loc[rule, "boot_lower_bound"] <= hi
        assert v.loc[rule, "boot_verdict"] in progress.VERDICTS
    s = report.summary()
    assert s["boot_ci_low"] == pytest.approx(v.loc["evaluable_only", "boot_ci_low"])
    P = from_synth(primary_study)
    again = progress.progress_report(P, 2024, n_boot=1000, seed=0)
    assert again.verdict["boot_ci_low"].tolist() == report.verdict["boot_ci_low"].tolist()
    none = progress.progress_report(P, 2024, n_boot=0)
    assert "boot_ci_low" not in none.verdict and none.summary()["boot_ci_low"] is None
    mid = progress.progress_report(P, 2024, definition="mid", n_boot=200, sd_by="grade")
    assert mid.verdict["boot_ci_low"].notna().all()


def test_threshold_sensitivity_counts_steps():
    # two dimensions, three students; thresholds 1.0; changes on the 1/6 grid
    ch = pd.DataFrame(
        {
            "student_id": np.repeat(["a", "b", "c"], 2),
            "dimension": ["moral", "academic"] * 3,
            "change": [1.0, 0.0, 7 / 6, 0.0, 5 / 6, np.nan],
            "threshold": 1.0,
            "direction": "up",
            "evaluable": [True, True, True, True, True, False],
            "definition": "rci",
        }
    )
    t = progress.threshold_sensitivity(ch, k=1).set_index(["level", "factor"])["rate"]
    # moral changes 1, 7/6, 5/6 against thresholds .95, 1, 1.05 (strictly above):
    assert t[("moral", 0.95)] == pytest.approx(2 / 3)  # 1 and 7/6
    assert t[("moral", 1.0)] == pytest.approx(1 / 3)  # only 7/6: the step at 1.0 drops out
    assert t[("moral", 1.05)] == pytest.approx(1 / 3)
    assert t[("academic", 1.0)] == 0.0
    assert t[("student", 0.95)] == pytest.approx(2 / 3)
    assert t[("student", 1.0)] == pytest.approx(1 / 3)
