"""Linkage: every survey and log row to a student on the roster (by 学籍号, else by name).

By 学籍号; a number that lost its prefix letter gets it back from the roster; Excel's
scientific-notation damage is recovered only when the roster leaves exactly one student
consistent with the digits left (and the name and class, when the row has them); a missing or
broken 学籍号 links by name + grade + class (exact, then normalised). Ambiguous or unknown rows
are quarantined with the candidates listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import normalise as nz
from .context import Context, Sheet

# ----------------------------------------------------------------------------- the roster index


class Roster:
    """Who the students are: the lookups that link survey and log rows to a 学籍号."""

    def __init__(self, students: pd.DataFrame):
        s = students
        self.ids = set(s["student_id"])
        self.id_array = pa.array(sorted(self.ids), pa.string())
        self.by_digits: dict[str, list[str]] = {}
        for sid in self.ids:
            self.by_digits.setdefault(sid[1:], []).append(sid)
        num = sorted((int(x[1:]), x) for x in self.ids if x[1:].isdigit())
        self.num_keys = np.array([k for k, _ in num], dtype=np.int64)
        self.num_ids = np.array([v for _, v in num], dtype=object)
        self.name_of = dict(
            zip(zip(s["year"], s["student_id"], strict=True), s["name"], strict=True)
        )
        self.cls_of = {
            (y, i): (g, c)
            for y, i, g, c in zip(
                s["year"], s["student_id"], s["grade"], s["class_no"], strict=True
            )
        }
        self.by_name: dict[tuple, list[str]] = {}
        self.by_name_cls: dict[tuple, list[str]] = {}
        for y, i, n, g, c in zip(
            s["year"], s["student_id"], s["name"], s["grade"], s["class_no"], strict=True
        ):
            self.by_name.setdefault((y, n), []).append(i)
            self.by_name_cls.setdefault((y, n, int(g), int(c)), []).append(i)
        self.years = set(s["year"])

    def lookup(self, year, name, gc) -> tuple[list[str], str]:
        """Candidates by name (+ class when known): exact name first, then normalised."""
        if not name:
            return [], "no name"
        names = [name]
        norm = nz.name(name)[0]
        if norm and norm != name:
            names.append(norm)
        for nm in names:
            if gc:
                g, c = (int(x) for x in gc.split("-"))
                hits = self.by_name_cls.get((year, nm, g, c), [])
            else:
                hits = self.by_name.get((year, nm), [])
            if hits:
                return hits, "name+class" if gc else "name"
        return [], "none"

    def mangled(self, digits: str, year=None, name=None, gc=None) -> list[str]:
        """Roster IDs consistent with what Excel left of an 18-digit number.

        With a name (and class) only that student's namesakes are checked against the digits
        left; without, the whole roster is searched (a 6-digit remnant rarely settles it).
        """
        k = len(digits)
        if k < 6 or k > 18 or not digits.isdigit():
            return []
        x = int(digits) * 10 ** (18 - k)
        half = 5 * 10 ** (18 - k - 1) if k < 18 else 0
        if name:
            pool, _ = self.lookup(year, name, gc)
            if not pool and gc:
                pool, _ = self.lookup(year, name, None)
            return [i for i in pool if i[1:].isdigit() and x - half <= int(i[1:]) <= x + half]
        lo, hi = np.searchsorted(self.num_keys, [x - half, x + half + 1])
        return list(self.num_ids[lo:hi])


# ----------------------------------------------------------------------------- linkage


_WHY_UNKNOWN = {
    "ok": "学籍号 not on the roster",
    "no_prefix": "学籍号 not on the roster",
    "invalid": "学籍号 invalid (check digit/format)",
    "missing": "学籍号 missing",
}


@dataclass
class _Found:
    """What linking one sheet found: the 学籍号 of each row, the repairs and the failures."""

    out: np.ndarray
    repairs: list[tuple[int, object, str, str]] = field(default_factory=list)  # i, old, new, rule
    unknown: list[tuple[int, str]] = field(default_factory=list)
    ambiguous: list[tuple[int, str]] = field(default_factory=list)


def link_students(
    sh: Sheet,
    ctx: Context,
    year: int,
    *,
    gc: pd.Series | None,
    names: pd.Series | None,
    id_var: str = "student_id",
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """The 学籍号 of every row (None where quarantined); logs every repair, quarantines the rest.

    ``mask`` limits linking to some rows (a group activity has no student to link).
    """
    rs, st = sh.rs, sh.st
    raw = sh.raw(id_var)
    n = rs.n
    none = np.full(n, None, dtype=object)
    raw_vals = raw.to_numpy(dtype=object) if raw is not None else none
    name_vals = names.to_numpy(dtype=object) if names is not None else none
    gc_vals = gc.to_numpy(dtype=object) if gc is not None else none
    found = _Found(np.full(n, None, dtype=object))
    todo = st.alive if mask is None else st.alive & mask
    if raw is not None:  # the common case first, vectorised: a good 学籍号 on the roster
        fast = _link_fast(sh, ctx, raw, todo, found)
        if names is not None and fast.any():
            _names_differ(sh, ctx, year, fast, name_vals, found.out)
        todo = todo & ~fast
    parsed: dict = {}
    roster = ctx.linked_roster()
    for i in np.flatnonzero(todo):
        x = raw_vals[i]
        key = (type(x), x)
        if key not in parsed:
            parsed[key] = nz.student_id(x)
        sid = _link_one(ctx, year, int(i), x, parsed[key], name_vals[i], gc_vals[i], found)
        nm, rn = name_vals[i], roster.name_of.get((year, sid)) if sid else None
        if sid and nm and rn and nm != rn and nz.name(nm)[0] != rn:
            ctx.log.add(rs, [i], sh.header_of("name"), [nm], [rn], "name_differs_from_roster")
    rep = found.repairs
    ctx.log.add(
        rs,
        [r[0] for r in rep],
        sh.header_of(id_var),
        [r[1] for r in rep],
        [r[2] for r in rep],
        np.asarray([r[3] for r in rep], dtype=object),
    )
    st.student_id[:] = found.out
    st.quarantine([i for i, _ in found.unknown], "unknown_student", [d for _, d in found.unknown])
    st.quarantine(
        [i for i, _ in found.ambiguous], "ambiguous_student", [d for _, d in found.ambiguous]
    )
    return found.out


def _link_fast(
    sh: Sheet, ctx: Context, raw: pd.Series, todo: np.ndarray, found: _Found
) -> np.ndarray:
    """Rows whose 学籍号 is on the roster as written, or after a light repair (vectorised)."""
    roster, n = ctx.linked_roster(), sh.rs.n
    raw_vals = raw.to_numpy(dtype=object)
    out = found.out
    # exact 学籍号 on the roster: one Arrow set-membership pass, no Python per row
    text = pa.array([v if isinstance(v, str) else None for v in raw_vals], pa.string())
    exact = pc.fill_null(pc.is_in(text, value_set=roster.id_array), False).to_numpy(
        zero_copy_only=False
    )
    out[todo & exact] = raw_vals[todo & exact]
    rest = todo & ~exact
    ids, rules = nz.apply(raw[rest], lambda x: id_on_roster(x, roster.ids))
    fast = np.zeros(n, dtype=bool)
    fast[np.flatnonzero(rest)[pd.notna(ids).to_numpy()]] = True
    out[fast] = ids.to_numpy(dtype=object)[pd.notna(ids).to_numpy()]
    rr = np.full(n, None, dtype=object)
    rr[rest] = rules.to_numpy(dtype=object)
    fixed = fast & pd.notna(rr)
    for i in np.flatnonzero(fixed):
        found.repairs.append((int(i), raw_vals[i], out[i], rr[i]))
    return fast | (todo & exact)


def _names_differ(
    sh: Sheet, ctx: Context, year: int, fast: np.ndarray, name_vals: np.ndarray, out: np.ndarray
) -> None:
    """Log the rows linked by 学籍号 whose name is not the roster's (the row stays linked)."""
    roster = ctx.linked_roster()
    rn = np.array([roster.name_of.get((year, i)) for i in out[fast]], dtype=object)
    nm_fast = name_vals[fast]
    differ = np.array(
        [
            a is not None and b is not None and a != b and nz.name(a)[0] != b
            for a, b in zip(nm_fast, rn, strict=True)
        ],
        dtype=bool,
    )
    if differ.any():
        di = np.flatnonzero(fast)[differ]
        ctx.log.add(
            sh.rs, di, sh.header_of("name"), nm_fast[differ], rn[differ], "name_differs_from_roster"
        )


def _link_one(ctx: Context, year: int, i: int, x, parsed, nm, g, found: _Found) -> str | None:
    """One row the fast path left: a repaired 学籍号, else by name (+ class); None if neither."""
    roster = ctx.linked_roster()
    val, rule, status = parsed
    sid = None
    if status == "ok" and val in roster.ids:
        sid = val
    elif status == "no_prefix":
        c = roster.by_digits.get(val, [])
        if len(c) == 1:
            sid, rule = c[0], "id_prefix_added"
    elif status == "mangled":
        c = roster.mangled(val, year, nm, g)
        if len(c) != 1:
            found.ambiguous.append(
                (i, f"学籍号 damaged by Excel ({x}); {len(c)} roster students fit")
            )
            return None
        sid, rule = c[0], "id_sci_recovered"
    if sid is None:
        hits, how = roster.lookup(year, nm, g)
        if len(hits) > 1:
            found.ambiguous.append((i, f"{len(hits)} students match {how}: " + ", ".join(hits[:5])))
            return None
        if not hits:
            why = _WHY_UNKNOWN.get(status, status)
            found.unknown.append(
                (i, f"{why}; no roster student named {nm!r}" + (f" in class {g}" if g else ""))
            )
            return None
        sid, rule = hits[0], f"linked_by_{how.replace('+', '_')}"
    found.out[i] = sid
    if rule:
        found.repairs.append((i, x, sid, rule))
    return sid


def id_on_roster(x, on_roster: set):
    """A well-formed 学籍号 found on the roster (the fast path of linkage), else None."""
    v, rule, status = nz.student_id(x)
    return (v, rule) if status == "ok" and v in on_roster else (None, None)
