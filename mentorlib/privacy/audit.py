"""The disclosure auditor: can any suppressed cell be narrowed from what a document shows?"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from .cells import HIDDEN, PRIMARY, SECONDARY, SHOWN

if TYPE_CHECKING:
    from .document import Document, _Rate


# =========================================================================== auditor


class AuditState:
    """What one pass of the auditor reads of a document: the shown values, the constraints
    (relations and shown rates) and, per cell, the constraints it appears in. Built once per
    pass (the document does not change within it), not once per audited cell."""

    def __init__(self, doc: Document):
        self.known = {k: c.value for k, c in doc.cells.items() if c.status == SHOWN}
        self.cons: list[tuple[dict[str, int], _Rate | None]] = [(r, None) for r in doc.relations]
        self.cons += [({r.k: 0, r.n: 0}, r) for r in doc.rates.values() if r.shown]
        self.where: dict[str, list[int]] = {}
        #: The programme of each connected component (its unknowns), built once per pass: every
        #: cell of a component shares it, only the objective differs.
        self.programmes: dict[frozenset, tuple] = {}
        for i, (members, _) in enumerate(self.cons):
            for m in members:
                self.where.setdefault(m, []).append(i)


def programme(doc: Document, target: str, state: AuditState | None = None):
    """The integer programme of the unknowns connected to ``target`` (or None if known)."""
    st = state if state is not None else AuditState(doc)
    known, cons = st.known, st.cons
    if target in known:
        return None
    # connected component of unknowns
    comp, frontier, used = {target}, [target], set()
    while frontier:
        nxt = []
        for u in frontier:
            for i in st.where.get(u, ()):
                if i in used:
                    continue
                used.add(i)
                for m in cons[i][0]:
                    if m not in known and m not in comp:
                        comp.add(m)
                        nxt.append(m)
        frontier = nxt
    fz = frozenset(comp)
    if fz not in st.programmes:
        st.programmes[fz] = _build(doc, sorted(comp), used, known, cons)
    return st.programmes[fz]


def _build(doc: Document, var: list[str], used: set[int], known: dict, cons: list):
    """The component's constraint matrix, bounds and digest (the key of its answers)."""
    idx = {v: i for i, v in enumerate(var)}
    # the constraint matrix is sparse (a relation touches its parts, a rate two cells): built
    # as coordinates, not as one dense row per constraint (a school's breakdown by mentor has
    # hundreds of unknowns and constraints)
    ri: list[int] = []
    ci: list[int] = []
    vals: list[float] = []
    lo: list[float] = []
    hi: list[float] = []

    def put(coefs: dict[int, float], low: float, high: float) -> None:
        r = len(lo)
        for j, c in coefs.items():
            ri.append(r)
            ci.append(j)
            vals.append(c)
        lo.append(low)
        hi.append(high)

    for i in sorted(used):
        members, rate = cons[i]
        if rate is None:
            a: dict[int, float] = {}
            b = 0.0
            for m, coef in members.items():
                if m in idx:
                    a[idx[m]] = a.get(idx[m], 0.0) + coef
                else:
                    b -= coef * known[m]
            put(a, b, b)
        else:
            kc, nc = doc.cells[rate.k], doc.cells[rate.n]
            p = round(kc.value / nc.value, rate.decimals + (2 if rate.percent else 0))
            h = 0.5 * 10 ** -(rate.decimals + (2 if rate.percent else 0)) + 1e-12
            # (p - h) n <= k <= (p + h) n
            for sign, bound in ((1, p + h), (-1, p - h)):
                a = {}
                b = 0.0
                if rate.k in idx:
                    a[idx[rate.k]] = a.get(idx[rate.k], 0.0) + sign
                else:
                    b -= sign * kc.value
                if rate.n in idx:
                    a[idx[rate.n]] = a.get(idx[rate.n], 0.0) - sign * bound
                else:
                    b += sign * bound * nc.value
                put(a, -np.inf, b)
    rows = sparse.csr_array((vals, (ri, ci)), shape=(len(lo), len(var)))
    lb = np.zeros(len(var))
    ub = np.full(len(var), np.inf)
    for v, i in idx.items():
        c = doc.cells[v]
        if c.status == PRIMARY:
            ub[i] = doc.min_cell - 1
        elif c.status == SECONDARY:
            lb[i] = doc.min_cell
    # a digest, not the arrays: answers are cached as long as the document lives, and a
    # component's matrix is large (keys holding it took 11 GB on a school of 1,200 a year)
    h = hashlib.blake2b(digest_size=16)
    for part in (lb, ub, rows.indptr, rows.indices, rows.data, np.asarray(lo), np.asarray(hi)):
        h.update(np.ascontiguousarray(part).tobytes())
        h.update(b"|")
    return var, idx, rows, lo, hi, lb, ub, h.digest()


def value_range(doc: Document, target: str, state: AuditState | None = None) -> tuple[float, float]:
    """The smallest and largest value of cell ``target`` consistent with what ``doc`` shows."""
    pr = programme(doc, target, state)
    if pr is None:
        v = doc.cells[target].value
        return v, v
    var, idx, rows, lo, hi, lb, ub, digest = pr
    # the same programme (same unknowns, bounds and constraints) has the same answer: protect()
    # re-audits after every suppression, and most components are untouched by it
    key = (target, tuple(var), digest)
    cache = doc.__dict__.setdefault("_range_cache", {})
    if key in cache:
        return cache[key]
    cache[key] = res = solve_bounds(var, idx, rows, lo, hi, lb, ub, target, doc)
    return res


def solve_bounds(var, idx, rows, lo, hi, lb, ub, target, doc):
    n = len(var)
    cons = [LinearConstraint(rows, lo, hi)] if rows.shape[0] else []
    out = []
    for sign in (1, -1):
        c = np.zeros(n)
        c[idx[target]] = sign
        res = milp(c, integrality=np.ones(n), bounds=Bounds(lb, ub), constraints=cons)
        if res.status == 0:
            out.append(sign * res.fun)
        elif res.status == 3 or (res.status == 4 and _feasible(n, lb, ub, cons)):
            # unbounded (HiGHS may say only "unbounded or infeasible": status 4 on a feasible
            # programme is unbounded, e.g. a "—" cell equal to a "—" part plus a hidden rest)
            out.append(np.inf if sign < 0 else -np.inf)
        else:  # infeasible: the document contradicts itself; report the true value
            v = doc.cells[target].value
            return v, v
    return float(round(out[0])), (float(round(out[1])) if np.isfinite(out[1]) else np.inf)


def _feasible(n: int, lb, ub, cons) -> bool:
    """True when the programme has an integer solution at all (objective zero)."""
    res = milp(np.zeros(n), integrality=np.ones(n), bounds=Bounds(lb, ub), constraints=cons)
    return bool(res.status == 0)


def audited(doc: Document) -> list[str]:
    return [
        k
        for k, c in doc.cells.items()
        if c.status in (PRIMARY, SECONDARY) or (c.status == HIDDEN and doc.sensitive(k))
    ]


def failures(doc: Document, *, first: bool = False, passed: set[str] | None = None) -> list[str]:
    """The audited cells the document lets be narrowed (``first``: stop at the first).

    ``passed``: cells already found protected, skipped and added to. Protection only adds
    suppression (a shown cell becomes an unknown of at least ``min_cell``, a shown rate drops
    its constraint), which only widens every range, so a cell once protected stays protected.
    """
    bad = []
    state = AuditState(doc)
    for k in audited(doc):
        if passed is not None and k in passed:
            continue
        lo, hi = value_range(doc, k, state)
        if hi - lo < (doc.required_width if doc.sensitive(k) else 1):
            bad.append(k)
            if first:
                break
        elif passed is not None:
            passed.add(k)
    return bad


def audit(document: Document) -> pd.DataFrame:
    """Solve for every suppressed (and every hidden small) cell of a document.

    For each such cell, integer programmes (:func:`scipy.optimize.milp`) find the smallest and
    largest value consistent with everything the document shows: the printed cells, the
    relations among them, the printed rates (a percentage with ``d`` decimals bounds its
    numerator to ``(p ± half a unit) · n``), a ``"<5"`` meaning 0-4 and a ``"—"`` meaning at
    least ``min_cell``; counts are non-negative integers.

    Parameters
    ----------
    document : Document
        Audited as its cells and rates stand (call :meth:`Document.protect` first, or
        :meth:`Document.primary_only` to see what primary suppression alone leaves).

    Returns
    -------
    DataFrame
        One row per audited cell: ``cell, status, value, low, high, recoverable`` (the range
        is a single value), ``protected`` (the range is at least ``required_width`` wide for a
        small cell, more than one value for another).
    """
    doc = document
    rows = []
    state = AuditState(doc)
    for k in audited(doc):
        lo, hi = value_range(doc, k, state)
        need = doc.required_width if doc.sensitive(k) else 1
        rows.append(
            {
                "cell": k,
                "status": doc.cells[k].status,
                "value": doc.cells[k].value,
                "low": lo,
                "high": hi,
                "recoverable": bool(lo == hi),
                "protected": bool(hi - lo >= need),
            }
        )
    cols = ["cell", "status", "value", "low", "high", "recoverable", "protected"]
    return pd.DataFrame(rows, columns=cols)
