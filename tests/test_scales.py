"""Scale scores and reliability: hand-computed answers, closed forms and the generator's truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mentorlib import scales
from mentorlib.data import from_synth
from mentorlib.errors import InputError
from mentorlib.io.codebook import load_codebook

CB = load_codebook("assessment_primary")

# Hand example: 4 respondents x 3 items.
#   item 1: 1 2 3 4   mean 2.50, SS = 2.25+0.25+0.25+2.25 = 5.00,  var = 5/3
#   item 2: 2 3 3 5   mean 3.25, SS = 1.5625+0.0625+0.0625+3.0625 = 4.75, var = 4.75/3
#   item 3: 2 3 4 4   mean 3.25, SS = 1.5625+0.0625+0.5625+0.5625 = 2.75, var = 2.75/3
#   total:  5 8 10 13 mean 9,    SS = 16+1+1+16 = 34, var = 34/3
#   alpha = 3/2 * (1 - 12.5/34) = 1.5 * 21.5/34 = 32.25/34 = 0.948529...
HAND = np.array([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 4]], dtype=float)
HAND_ALPHA = 32.25 / 34


def test_alpha_hand_example():
    t = scales.cronbach_alpha(HAND)
    assert t.loc[0, "alpha"] == pytest.approx(HAND_ALPHA, abs=1e-12)
    assert (t.loc[0, "n"], t.loc[0, "k"]) == (4, 3)


def test_feldt_interval_closed_form():
    # Feldt (1965): [1 - (1 - a) F_.975(n-1, (n-1)(k-1)), 1 - (1 - a) / F_.975((n-1)(k-1), n-1)]
    # with n = 4, k = 3: df = (3, 6). F table (e.g. Pearson & Hartley, Biometrika Tables I,
    # Table 18, 2.5% points): F_.975(3, 6) = 6.5988, F_.975(6, 3) = 14.735.
    t = scales.cronbach_alpha(HAND)
    one_minus = 1 - HAND_ALPHA  # 1.75 / 34 = 0.0514706
    assert t.loc[0, "ci_low"] == pytest.approx(1 - one_minus * 6.5988, abs=1e-4)  # 0.66036
    assert t.loc[0, "ci_high"] == pytest.approx(1 - one_minus / 14.735, abs=1e-4)  # 0.99651


def test_feldt_interval_covers_known_alpha():
    # Simulation with known truth: k parallel normal items with inter-item correlation rho
    # have population alpha k rho / (1 + (k - 1) rho) (Spearman-Brown) = 5*.4/2.6 = 0.7692.
    rng = np.random.default_rng(7)
    k, rho, n, reps = 5, 0.4, 40, 600
    true = k * rho / (1 + (k - 1) * rho)
    cover = 0
    for _ in range(reps):
        x = np.sqrt(rho) * rng.standard_normal((n, 1)) + np.sqrt(1 - rho) * rng.standard_normal(
            (n, k)
        )
        t = scales.cronbach_alpha(x)
        cover += t.loc[0, "ci_low"] <= true <= t.loc[0, "ci_high"]
    # exact 95% under this model; binomial SE with 600 reps is 0.009
    assert 0.92 <= cover / reps <= 0.98


def test_item_total_hand_example():
    t = scales.item_total(pd.DataFrame(HAND, columns=["a", "b", "c"]))
    # item a = 1 2 3 4 against b + c = 4 6 7 9: cross products of deviations
    # (-1.5)(-2.5)+(-.5)(-.5)+(.5)(.5)+(1.5)(2.5) = 8, SS_a = 5, SS_rest = 13 -> 8/sqrt(65)
    assert t.loc[0, "r_corrected"] == pytest.approx(8 / np.sqrt(65), abs=1e-12)
    # alpha without a: items b, c, var 4.75/3 + 2.75/3 = 7.5/3, total var 13/3
    # -> 2 * (1 - 7.5/13) = 11/13
    assert t.loc[0, "alpha_if_deleted"] == pytest.approx(11 / 13, abs=1e-12)
    assert list(t["item"]) == ["a", "b", "c"]


def test_alpha_listwise_and_errors():
    x = np.vstack([HAND, [np.nan, 1, 1]])
    assert scales.cronbach_alpha(x).loc[0, "alpha"] == pytest.approx(HAND_ALPHA)
    with pytest.raises(InputError, match="two items"):
        scales.cronbach_alpha(np.ones((5, 1)))
    with pytest.raises(InputError, match="ci"):
        scales.cronbach_alpha(HAND, ci=95)
    assert np.isnan(scales.cronbach_alpha(np.ones((4, 3))).loc[0, "alpha"])


def _items(values, wave="pre", sid="s1", dim="moral"):
    return pd.DataFrame(
        {
            "student_id": sid,
            "year": 2024,
            "wave": wave,
            "dimension": dim,
            "item": [f"{dim}_{j}" for j in range(1, len(values) + 1)],
            "value": pd.array(values, dtype="Int64"),
        }
    )


def test_reverse_keyed_items_are_recoded():
    # moral_5 and moral_6 are reverse-keyed on the 1-5 scale: v -> 6 - v
    items = _items([4, 4, 5, 4, 2, 1])
    rec = scales.reverse_code(items, CB)
    assert rec["value"].tolist() == [4, 4, 5, 4, 4, 5]
    s = scales.score_scales(items, CB)
    assert s.loc[0, "score"] == pytest.approx(26 / 6)
    assert (s.loc[0, "n_items"], s.loc[0, "n_answered"]) == (6, 6)
    assert items["value"].tolist() == [4, 4, 5, 4, 2, 1]  # input untouched


def test_min_answered_rule():
    five = _items([5, 4, None, 3, 1, 2], sid="five")  # 5 of 6: scored, mean of answered
    four = _items([5, 4, None, None, 1, 2], sid="four")  # 4 of 6 < 80%: missing
    s = scales.score_scales(pd.concat([five, four]), CB).set_index("student_id")
    # answered five: 5, 4, 3, reverse 1 -> 5, reverse 2 -> 4: (5+4+3+5+4)/5 = 4.2
    assert s.loc["five", "score"] == pytest.approx(4.2)
    assert np.isnan(s.loc["four", "score"]) and s.loc["four", "n_answered"] == 4
    s50 = scales.score_scales(four, CB, min_answered=0.5)
    assert s50.loc[0, "score"] == pytest.approx((5 + 4 + 5 + 4) / 4)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d.assign(item=d["item"].replace({"moral_1": "nope_1"})), "not in codebook"),
        (lambda d: d.assign(value=pd.array([7, 4, 5, 4, 2, 1], dtype="Int64")), "outside"),
        (lambda d: d.assign(value=["4", "比较符合", "5", "4", "2", None]), "non-numeric"),
        (lambda d: pd.concat([d, d.head(1)]), "duplicate"),
        (lambda d: d.assign(dimension="habits"), "filed under"),
        (lambda d: d.assign(wave="middle"), "wave"),
        (lambda d: d.drop(columns="value"), "lack column"),
    ],
)
def test_bad_items_raise_one_line(change, match):
    with pytest.raises(InputError, match=match):
        scales.score_scales(change(_items([4, 4, 5, 4, 2, 1])), CB)


def test_scores_match_direct_computation_from_wide_table(primary_study):
    # independent path: the generator's wide answer table, recoded by hand with numpy
    wide = primary_study.tables["assessment_wide"]
    s = scales.score_scales(from_synth(primary_study)["assessment_items"], CB)
    cols = [f.var for f in CB.items_of("habits")]
    x = wide[cols].to_numpy(dtype=float, copy=True)
    rev = np.array([CB.field(c).reverse for c in cols])
    x[:, rev] = 6 - x[:, rev]
    answered = (~np.isnan(x)).sum(1)
    direct = np.where(answered >= 5, np.nansum(x, 1) / np.maximum(answered, 1), np.nan)
    ref = pd.DataFrame(
        {
            "student_id": wide["student_id"].astype(str),
            "year": wide["year"].to_numpy(),
            "wave": wide["wave"].astype(str),
            "direct": direct,
        }
    )
    got = s.loc[s["dimension"] == "habits"].assign(wave=lambda d: d["wave"].astype(str))
    m = got.merge(ref, on=["student_id", "year", "wave"], validate="one_to_one")
    assert len(m) == len(ref)
    np.testing.assert_allclose(m["score"], m["direct"], equal_nan=True)
    assert m["score"].isna().sum() == (answered < 5).sum()


def test_alpha_near_generator_reliability(primary_study):
    # truth["reliability"]: population reliability of the mean score under the generator's
    # graded-response model; alpha estimates it (alpha is a lower bound for congeneric items)
    rel = scales.reliability(from_synth(primary_study)["assessment_items"], CB)
    truth = primary_study.truth["reliability"].assign(
        wave=lambda d: d["wave"].astype(str), dimension=lambda d: d["dimension"].astype(str)
    )
    m = rel.merge(truth, on=["year", "wave", "dimension"], validate="one_to_one")
    assert len(m) == 3 * 2 * 4
    assert (m["alpha"] - m["reliability"]).abs().max() < 0.05
    assert ((m["ci_low"] <= m["reliability"]) & (m["reliability"] <= m["ci_high"])).mean() > 0.7
    assert (
        m["published_alpha"]
        == m["dimension"].map({d: CB.dimensions[d].published_alpha for d in CB.dimensions})
    ).all()


def test_item_statistics_positive_after_recoding(primary_study):
    items = from_synth(primary_study)["assessment_items"]
    st = scales.item_statistics(items, CB)
    assert len(st) == 3 * 2 * 24
    assert (st["r_corrected"] > 0.2).all()
    # the same items without the reverse keys: reverse items now correlate negatively
    plain = CB.__class__(
        **{
            **CB.__dict__,
            "fields": tuple(f.__class__(**{**f.__dict__, "reverse": False}) for f in CB.fields),
        }
    )
    bad = scales.item_statistics(items, plain)
    rev = bad["item"].isin([f.var for f in CB.items if f.reverse])
    assert (bad.loc[rev, "r_corrected"] < 0).all()


def test_weighted_alpha_equals_alpha_of_repeated_rows():
    # frequency weights are row repetitions: alpha with weights w == alpha of np.repeat(x, w)
    rng = np.random.default_rng(2)
    x = rng.integers(1, 6, size=(30, 4)).astype(float) + rng.integers(0, 2, size=(30, 1))
    x[3, 1] = np.nan  # listwise deletion applies in both
    w = rng.integers(0, 4, size=30)
    got = scales.weighted_alpha(w[None, :].astype(float), x)[0]
    ref = scales.cronbach_alpha(np.repeat(x, w, axis=0)).loc[0, "alpha"]
    assert got == pytest.approx(ref, rel=1e-10)


def test_as_codebook_by_name_or_object():
    assert scales.as_codebook("assessment_primary").name == CB.name
    assert scales.as_codebook(CB) is CB
    with pytest.raises(InputError, match="no Likert items"):
        scales.as_codebook("rewards")
