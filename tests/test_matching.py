"""Matching: deferred acceptance against worked examples and brute force, the exact solver
against brute-force enumeration.

Independent sources: the hospital-resident and one-to-one examples are worked examples of the
deferred-acceptance algorithm (the hospital-resident one is the tutorial example of the
``matching`` library, Wilde, Knight & Gillard 2020, JOSS 5(48):2169; the one-to-one one is
solved by hand in the comment below). Optima and stability are checked against brute-force
enumeration of every assignment.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mentorlib import matching as mt
from mentorlib.errors import InfeasibleError, InputError

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------- deferred acceptance


def test_hospital_resident_known_answer():
    # the `matching` library's hospital-resident tutorial (Wilde, Knight & Gillard 2020)
    residents = {
        "A": ["C"],
        "S": ["C", "M"],
        "D": ["C", "M", "G"],
        "J": ["C", "G", "M"],
        "L": ["M", "C", "G"],
    }
    hospitals = {"M": ["D", "L", "S", "J"], "C": ["D", "A", "S", "L", "J"], "G": ["D", "J", "L"]}
    got = mt.deferred_acceptance(residents, hospitals, dict.fromkeys(hospitals, 2))
    assert got == {"M": ["L", "S"], "C": ["D", "A"], "G": ["J"]}


def test_one_to_one_known_answer():
    # by hand: A->D, B->D, C->F; D keeps B (B before A) and rejects A; A->E. {A:E, B:D, C:F}
    men = {"A": ["D", "E", "F"], "B": ["D", "F", "E"], "C": ["F", "D", "E"]}
    women = {"D": ["B", "C", "A"], "E": ["A", "C", "B"], "F": ["C", "B", "A"]}
    got = mt.deferred_acceptance(men, women, dict.fromkeys(women, 1))
    assert {m: s[0] for m, s in got.items()} == {"E": "A", "D": "B", "F": "C"}


def _blocking(match, sp, mp, caps):
    """Brute force: pairs (s, m) that both prefer each other to what they have."""
    of = {s: m for m, ss in match.items() for s in ss}
    out = []
    for s, lst in sp.items():
        for m in lst:
            if s not in mp.get(m, []):
                continue
            if s in of and lst.index(of[s]) <= lst.index(m):
                continue
            held = match.get(m, [])
            if len(held) < caps[m] or any(mp[m].index(s) < mp[m].index(t) for t in held):
                out.append((s, m))
    return out


@FAST
@given(st.integers(0, 10**9))
def test_deferred_acceptance_is_stable_and_student_optimal(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 6)), int(rng.integers(1, 4))
    S, M = [f"s{i}" for i in range(n)], [f"m{j}" for j in range(m)]
    sp = {s: [M[j] for j in rng.permutation(m)[: rng.integers(0, m + 1)]] for s in S}
    mp = {x: [S[i] for i in rng.permutation(n)[: rng.integers(0, n + 1)]] for x in M}
    caps = {x: int(rng.integers(1, 3)) for x in M}
    got = mt.deferred_acceptance(sp, mp, caps)
    assert not _blocking(got, sp, mp, caps)
    of = {s: x for x, ss in got.items() for s in ss}
    for x, ss in got.items():
        assert len(ss) <= caps[x] and all(x in sp[s] and s in mp[x] for s in ss)
    # every stable matching, by enumeration: DA is weakly best for every student
    opts = [[None] + [x for x in sp[s] if s in mp[x]] for s in S]
    for combo in itertools.product(*opts):
        match = {x: [s for s, y in zip(S, combo, strict=True) if y == x] for x in M}
        if any(len(v) > caps[x] for x, v in match.items()) or _blocking(match, sp, mp, caps):
            continue
        for s, y in zip(S, combo, strict=True):
            mine = of.get(s)
            rank = sp[s].index(mine) if mine else len(sp[s])
            assert rank <= (sp[s].index(y) if y else len(sp[s]))


# --------------------------------------------------------------------------- the exact solver


def _brute(w, ok, lo, hi, req, female, tol, areas, max_areas):
    n, m = w.shape
    r = female.mean()
    best = None
    for combo in itertools.product(range(m), repeat=n):
        a = np.array(combo)
        if not ok[np.arange(n), a].all():
            continue
        size = np.bincount(a, minlength=m)
        if ((size > hi) | (req & (size < lo)) | (~req & (size > 0) & (size < lo))).any():
            continue
        if tol is not None:
            fem = np.bincount(a, weights=female.astype(float), minlength=m)
            if (np.abs(fem - r * size) > tol * size + 1e-9).any():
                continue
        if max_areas is not None:
            if any(len(set(areas[a == j])) > max_areas for j in range(m)):
                continue
        total = w[np.arange(n), a].sum()
        best = total if best is None else max(best, total)
    return best


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**9))
def test_solver_total_equals_brute_force_optimum(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 8)), int(rng.integers(1, 4))
    w = np.round(rng.random((n, m)), 1)  # ties on purpose
    ok = rng.random((n, m)) < 0.85
    lo = rng.integers(0, 3, m)
    hi = lo + rng.integers(0, 4, m)
    req = rng.random(m) < 0.7
    female = rng.random(n) < 0.5
    tol = [None, 0.2, 0.4][int(rng.integers(3))]
    areas = rng.integers(0, 3, n)
    max_areas = [None, 1, 2][int(rng.integers(3))]
    best = _brute(w, ok, lo, hi, req, female, tol, areas, max_areas)
    kw = dict(lower=lo, upper=hi, allowed=ok, required=req, female=female, gender_tol=tol)
    kw.update(areas=areas, max_areas=max_areas)
    if best is None:
        with pytest.raises(InfeasibleError):
            mt.solve_assignment(w, **kw)
        return
    got = mt.solve_assignment(w, **kw)
    assert got.shape == (n,) and ok[np.arange(n), got].all()
    assert w[np.arange(n), got].sum() == pytest.approx(best, abs=1e-6)


def test_solver_doc_example_and_bad_input():
    w = np.array([[3.0, 1.0], [2.0, 1.0], [0.0, 1.0]])
    assert mt.solve_assignment(w, lower=1, upper=2).tolist() == [0, 0, 1]
    with pytest.raises(InputError, match="finite"):
        mt.solve_assignment(np.array([[np.nan]]), lower=0, upper=1)
    with pytest.raises(InfeasibleError, match="^group_max: the school has 3 students"):
        mt.solve_assignment(w, lower=0, upper=1)
    with pytest.raises(InfeasibleError, match="^group_min"):
        mt.solve_assignment(w, lower=2, upper=3)
