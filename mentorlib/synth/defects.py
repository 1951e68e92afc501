"""Defects real school files have: misspelled identities, class and date spellings, odd values,
unknown students and repeated rows, each recorded by :class:`~mentorlib.synth.rawtable.Messer`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from ..ids import check_digit, is_valid_student_id
from . import formats as fm
from . import names as nm
from .rawtable import Messer, Table


def mess_identity(
    m: Messer,
    t: Table,
    rel,
    used,
    *,
    id_col,
    name_col=None,
    class_col=None,
    rate=0.012,
    numeric_cells=False,
    allow=None,
):
    """Identity defects: broken 学籍号 of every kind, and typos in names."""
    kinds = list(
        allow
        or [
            "id_missing_g",
            "id_sci",
            "id_typo",
            "id_missing",
            "id_space",
            "id_fullwidth",
            "name_typo",
        ]
    )
    if name_col is None or class_col is None:
        kinds = [k for k in kinds if k not in ("id_typo", "id_missing", "name_typo")]
    arr = pc.fill_null(t.base(id_col), "")
    is_g = pc.starts_with(arr, "G").to_numpy(zero_copy_only=False)
    digit_end = pc.match_substring_regex(arr, r"\d$").to_numpy(zero_copy_only=False)
    for kind in kinds:
        ok = is_g & ~used & (digit_end if kind == "id_sci" else True)
        pick = m.take(np.flatnonzero(ok), m.count(t.n, rate / len(kinds)))
        if not len(pick):
            continue
        sids = t.values(id_col, pick)
        col, exp = id_col, "value"
        if kind == "id_missing_g":
            raw = [s[1:] for s in sids]
        elif kind == "id_sci":
            raw = [
                fm.sci_mangle_number(s[1:]) if numeric_cells else fm.sci_mangle_text(s[1:])
                for s in sids
            ]
            exp = "value_or_quarantine"
        elif kind == "id_typo":
            raw, keep = [], []
            for j, s in enumerate(sids):
                pos = int(m.rng.integers(7, 17))
                r = s[:pos] + str((int(s[pos]) + int(m.rng.integers(1, 10))) % 10) + s[pos + 1 :]
                if not is_valid_student_id(r):
                    raw.append(r)
                    keep.append(j)
            pick, sids, exp = pick[keep], sids[keep], "link"
        elif kind == "id_missing":
            raw, exp = [""] * len(pick), "link"
        elif kind == "id_space":
            raw = [
                (f" {s} ", f"{s[:7]} {s[7:]}", f"{s}\u3000")[int(m.rng.integers(0, 3))]
                for s in sids
            ]
        elif kind == "id_fullwidth":
            raw = [s[0] + fm.fullwidth(s[1:]) for s in sids]
        else:  # name_typo: the ID stays valid, the name is mistyped
            names = t.values(name_col, pick)
            raw = [nm.typo(x, m.rng) for x in names]
            keep = [j for j, (a, b) in enumerate(zip(raw, names, strict=True)) if a != b]
            pick, sids, raw = pick[keep], sids[keep], [raw[j] for j in keep]
            col, exp = name_col, "link"
        if not len(pick):
            continue
        raw_arr = np.empty(len(pick), dtype=object)
        raw_arr[:] = raw
        t.put(col, pick, raw_arr)
        used[pick] = True
        m.add(rel, t.rk[pick], col, kind, raw_arr, sids, exp)


def mess_class(m: Messer, t: Table, rel, col, g, c, rate, styles, base):
    alts = [s for s in styles if s != base]
    pick = m.take(np.arange(t.n), m.count(t.n, rate))
    if not len(pick):
        return
    which = m.rng.integers(0, len(alts), len(pick))
    raw = np.empty(len(pick), dtype=object)
    for k, st in enumerate(alts):
        sel = which == k
        if sel.any():
            raw[sel] = fm.class_labels(g[pick[sel]], c[pick[sel]], st)
    t.put(col, pick, raw)
    true = [f"{int(a)}-{int(b)}" for a, b in zip(g[pick], c[pick], strict=True)]
    m.add(rel, t.rk[pick], col, "class_spelling", raw, true, "value")


def mess_dates(
    m: Messer, t: Table, rel, col, dates, rate, base, styles=("slash", "cn", "serial", "dot")
):
    alts = [s for s in styles if s != base]
    pick = m.take(np.arange(t.n), m.count(t.n, rate))
    if not len(pick):
        return
    d = pd.DatetimeIndex(pd.to_datetime(np.asarray(dates)[pick]))
    which = m.rng.integers(0, len(alts), len(pick))
    raw = np.empty(len(pick), dtype=object)
    for k, st in enumerate(alts):
        sel = which == k
        if sel.any():
            raw[sel] = fm.date_labels(d[sel], st)
    t.put(col, pick, raw)
    true = np.asarray(d.strftime("%Y-%m-%d"), dtype=object)
    kinds = np.where(
        np.asarray(alts, dtype=object)[which] == "serial", "date_serial", "date_format"
    )
    for kind in ("date_serial", "date_format"):
        sel = kinds == kind
        m.add(rel, t.rk[pick[sel]], col, kind, raw[sel], true[sel], "value")


def mess_values(m: Messer, t: Table, rel, col, rate, kind, make, expected="value", pool=None):
    """Generic cell defect: ``make(values, rng) -> (raw, true)`` for cells picked from ``pool``."""
    pool = np.arange(t.n) if pool is None else pool
    pick = m.take(pool, m.count(len(pool), rate))
    if not len(pick):
        return pick
    raw, true = make(t.values(col, pick), m.rng)
    raw_arr = np.empty(len(pick), dtype=object)
    raw_arr[:] = list(raw)
    t.put(col, pick, raw_arr)
    m.add(rel, t.rk[pick], col, kind, raw_arr, list(true), expected)
    return pick


def unknown_rows(m: Messer, t: Table, n, id_col, name_col, rel, pool=None) -> Table:
    """Rows from students who are not on the roster (typed by someone else, not yet registered)."""
    if n == 0 or t.n == 0:
        return t
    src = m.take(pool, n) if pool is not None else m.rng.integers(0, t.n, n)
    rows = t.take(src)
    rows.rk = np.arange(t.next_rk(), t.next_rk() + rows.n)
    fakes = []
    for _ in range(rows.n):
        body = "".join(str(int(x)) for x in m.rng.integers(0, 10, 17))
        fakes.append("G" + body + check_digit(body))
    rows.put(id_col, np.arange(rows.n), np.array(fakes, dtype=object))
    if name_col:  # a name nobody on the roster has, so nothing can link the row by name
        taken = _roster_names()
        names = [n for n in nm.draw_names(m.rng, 4 * rows.n + 20) if n not in taken][: rows.n]
        rows.put(name_col, np.arange(rows.n), np.array(names, dtype=object))
    m.add(rel, rows.rk, id_col, "unknown_student", fakes, None, "quarantine")
    return t.extend(rows)


ROSTER_NAMES: set = set()


def _roster_names() -> set:
    return ROSTER_NAMES


def duplicate_rows(m: Messer, t: Table, rel, src, kind) -> Table:
    if not len(src):
        return t
    rows = t.take(src)
    rows.rk = np.arange(t.next_rk(), t.next_rk() + rows.n)
    m.add(rel, rows.rk, None, kind, None, t.rk[src], "merge")
    return t.extend(rows)
