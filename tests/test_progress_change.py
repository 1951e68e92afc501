"""The improvement rule (mentorlib.progress.change): published formulas, closed forms, truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mentorlib import progress, scales
from mentorlib.data import from_synth
from mentorlib.errors import InputError
from mentorlib.io.codebook import load_codebook

CB = load_codebook("assessment_primary")


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


def test_is_improved_strict_and_not():
    # the RCI must pass the threshold, the MID only reach it; missing is never improved
    x = np.array([0.5, 1.0, 1.5, np.nan])
    assert progress.is_improved(x, 1.0, strict=True).tolist() == [False, False, True, False]
    assert progress.is_improved(x, 1.0, strict=False).tolist() == [False, True, True, False]


def test_study_changes_follow_the_rulebook(primary_study):
    # one path: rci_z and mid come from the rulebook, and a larger z flags fewer students
    P = from_synth(primary_study)
    base = progress.study_changes(P, 2024)
    strict = progress.study_changes(P, 2024, rules=P.rules.with_changes(rci_z=2.5))
    assert (strict["threshold"] / base["threshold"]).dropna().round(12).unique().tolist() == [
        round(2.5 / 1.96, 12)
    ]
    assert strict["improved"].sum() < base["improved"].sum()
    mid = progress.study_changes(P, 2024, definition="mid", rules=P.rules.with_changes(mid=0.8))
    np.testing.assert_allclose(mid["threshold"], 0.8 * mid["sd_pre"])
    with pytest.raises(InputError, match="definition"):
        progress.study_changes(P, 2024, definition="magic")


def test_definition_label_uses_the_rulebook_mid():
    assert progress.definition_label("mid", mid=0.3) == "最小重要差异，0.3个标准差"
    assert progress.DEFINITIONS["mid"][1] == "minimal important difference, 0.5 SD"
    with pytest.raises(InputError, match="lang"):
        progress.definition_label("mid", "fr", mid=0.3)
