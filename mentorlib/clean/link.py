"""Linkage: every survey and log row to a student on the roster (by 学籍号, else by name).

By 学籍号; a number that lost its prefix letter gets it back from the roster; Excel's
scientific-notation damage is recovered only when the roster leaves exactly one student
consistent with the digits left (and the name and class, when the row has them); a missing or
broken 学籍号 links by name + grade + class (exact, then normalised, then without the dots of a
transliterated name: ``name_variant``). A short number in the 学号 column is the student's seat in
the class, not damage: the row links by name + class (``linked_by_seat_number``). A class the
roster does not have (split after September) links by name within the grade
(``linked_in_grade``); a student only on a later roster is kept (``late_joiner``). A temporary
L/J 学籍号 a later roster replaced with a G number links to the G number (``temp_id_replaced``).
Ambiguous or unknown rows are quarantined with the candidates listed.
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
    """Who the students are: the lookups that link survey and log rows to a 学籍号.

    ``replaced`` maps a temporary 学籍号 (L/J) to the G number a later roster gave the same
    student: a row still written with the L number links to the G number."""

    def __init__(self, students: pd.DataFrame, replaced: dict[str, str] | None = None):
        s = students
        self.replaced = dict(replaced or {})
        self.ids = set(s["student_id"]) | set(self.replaced)
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
        self.year_ids: dict[int, set] = {}
        self.by_name: dict[tuple, list[str]] = {}
        self.by_name_cls: dict[tuple, list[str]] = {}
        self.by_key_grade: dict[tuple, list[tuple[int, str]]] = {}  # (year, key) -> (grade, id)
        for y, i, n, g, c in zip(
            s["year"], s["student_id"], s["name"], s["grade"], s["class_no"], strict=True
        ):
            self.year_ids.setdefault(int(y), set()).add(i)
            k = nz.name_key(n)
            for nm in dict.fromkeys((n, k)):  # the name as written, and its key (no dots)
                self.by_name.setdefault((y, nm), []).append(i)
                self.by_name_cls.setdefault((y, nm, int(g), int(c)), []).append(i)
            self.by_key_grade.setdefault((int(y), k), []).append((int(g), i))
        for t, gid in self.replaced.items():  # the L number names the G number's student
            for y in self.year_ids:
                if (y, gid) in self.name_of:
                    self.name_of[(y, t)] = self.name_of[(y, gid)]
                    self.cls_of[(y, t)] = self.cls_of[(y, gid)]
        self.classes = {(int(y), int(g), int(c)) for (y, _), (g, c) in self.cls_of.items()}
        self.years = set(s["year"])
        self._later: dict[int, pa.Array] = {}

    def lookup(self, year, name, gc) -> tuple[list[str], str]:
        """Candidates by name (+ class when known): exact name first, then normalised, then
        without the dots and spaces of a transliterated name (买买提·艾力 = 买买提 艾力)."""
        if not name:
            return [], "no name"
        names = list(dict.fromkeys((name, nz.name(name)[0], nz.name_key(name))))
        for nm in names:
            if not nm:
                continue
            if gc:
                g, c = (int(x) for x in gc.split("-"))
                hits = self.by_name_cls.get((year, nm, g, c), [])
            else:
                hits = self.by_name.get((year, nm), [])
            if hits:
                return list(dict.fromkeys(hits)), "name+class" if gc else "name"
        return [], "none"

    def in_grade(self, year, name, gc) -> list[str]:
        """Students of a name in the grade of a class the roster does not have (a class split
        after the September roster was taken); none when the class is on the roster."""
        if not name or not gc:
            return []
        g, c = (int(x) for x in gc.split("-"))
        if (int(year), g, c) in self.classes:
            return []
        hits = self.by_key_grade.get((int(year), nz.name_key(name)), [])
        return list(dict.fromkeys(i for gg, i in hits if gg == g))

    def later(self, year, name, gc) -> list[str]:
        """Students of a name on a later year's roster, in the grade the row's class implies
        (a student who joined after the roster was taken)."""
        if not name:
            return []
        g = int(gc.split("-")[0]) if gc else None
        key = nz.name_key(name)
        out: list[str] = []
        for y in sorted(y for y in self.year_ids if y > int(year)):
            for gg, i in self.by_key_grade.get((y, key), []):
                if g is None or gg - (y - int(year)) == g:
                    out.append(i)
        return list(dict.fromkeys(out))

    def later_ids(self, year) -> pa.Array:
        """The 学籍号 on a later year's roster but not on this year's."""
        y0 = int(year)
        if y0 not in self._later:  # once per year: a district has hundreds of sheets a year
            now = self.year_ids.get(y0, set())
            ids = set().union(*(v for y, v in self.year_ids.items() if y > y0)) - now
            self._later[y0] = pa.array(sorted(ids), pa.string())
        return self._later[y0]

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
    "seat": "学号 is a seat number",
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
    typed = _typed(sh, name_vals)
    found = _Found(np.full(n, None, dtype=object))
    todo = st.alive if mask is None else st.alive & mask
    if raw is not None:  # the common case first, vectorised: a good 学籍号 on the roster
        fast = _link_fast(sh, ctx, raw, todo, found)
        if names is not None and fast.any():
            _names_differ(sh, ctx, year, fast, name_vals, typed, found.out)
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
        rule = _name_rule(nm, rn)
        if rule:
            ctx.log.add(rs, [i], sh.header_of("name"), [typed[i]], [rn], rule)
    _late_joiners(ctx, year, raw_vals, found)
    _temp_replaced(ctx, found)
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


def _typed(sh: Sheet, name_vals: np.ndarray) -> np.ndarray:
    """The name cells as typed (the log's ``old``: 买买提 艾力, not the normalised 买买提艾力);
    the names given when the sheet has no name column of its own."""
    raw = sh.raw("name")
    if raw is None or len(raw) != len(name_vals):
        return name_vals
    vals = raw.to_numpy(dtype=object)
    return np.where(pd.notna(vals), vals, name_vals)


def _name_rule(nm, rn) -> str | None:
    """How a row's name departs from the roster's: another spelling of a transliterated name
    (``name_variant``: 买买提 艾力 for 买买提·艾力), another name, or not at all (None)."""
    if not nm or not rn or nm == rn or nz.name(nm)[0] == rn:
        return None
    return "name_variant" if nz.name_key(nm) == nz.name_key(rn) else "name_differs_from_roster"


def _late_joiners(ctx: Context, year: int, raw_vals: np.ndarray, found: _Found) -> None:
    """Note the rows linked to a student not on this year's roster but on a later one's."""
    later = ctx.linked_roster().later_ids(year)
    if not len(later):
        return
    out = found.out
    ids = pa.array([v if isinstance(v, str) else None for v in out], pa.string())
    hit = pc.fill_null(pc.is_in(ids, value_set=later), False).to_numpy(zero_copy_only=False)
    done = {r[0] for r in found.repairs if r[3] == "late_joiner"}
    for i in np.flatnonzero(hit):
        if int(i) not in done:
            found.repairs.append((int(i), raw_vals[i], out[i], "late_joiner"))


def _temp_replaced(ctx: Context, found: _Found) -> None:
    """A temporary 学籍号 (L/J) a later roster replaced: the row links to the G number."""
    rep = ctx.linked_roster().replaced
    if not rep:
        return
    out = found.out
    for i in np.flatnonzero(pd.Series(out, dtype=object).isin(list(rep)).to_numpy()):
        found.repairs.append((int(i), out[i], rep[out[i]], "temp_id_replaced"))
        out[i] = rep[out[i]]


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
    sh: Sheet,
    ctx: Context,
    year: int,
    fast: np.ndarray,
    name_vals: np.ndarray,
    typed: np.ndarray,
    out: np.ndarray,
) -> None:
    """Log the rows linked by 学籍号 whose name is not the roster's (the row stays linked);
    ``typed``: the cells as typed, for the log."""
    roster = ctx.linked_roster()
    rn = np.array([roster.name_of.get((year, i)) for i in out[fast]], dtype=object)
    nm_fast = name_vals[fast]
    rules = np.array([_name_rule(a, b) for a, b in zip(nm_fast, rn, strict=True)], dtype=object)
    differ = pd.notna(rules)
    if differ.any():
        di = np.flatnonzero(fast)[differ]
        ctx.log.add(sh.rs, di, sh.header_of("name"), typed[di], rn[differ], rules[differ])


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
        sid, rule = _by_name(roster, year, i, nm, g, status, found)
        if sid is None:
            return None
    found.out[i] = sid
    if rule:
        found.repairs.append((i, x, sid, rule))
    return sid


def _by_name(
    roster: Roster, year: int, i: int, nm, g, status: str, found: _Found
) -> tuple[str | None, str | None]:
    """A row without a usable 学籍号, by name: in its class (a seat number as 学号 is only the
    student's place in the class), in its grade when the class is not on the roster (split after
    September), else on a later year's roster (a late joiner)."""
    hits, how = roster.lookup(year, nm, g)
    seat = " (学号 is a seat number; the roster has none to tell them apart)" * (status == "seat")
    if len(hits) > 1:
        found.ambiguous.append(
            (i, f"{len(hits)} students match {how}: " + ", ".join(hits[:5]) + seat)
        )
        return None, None
    if hits:
        rule = "linked_by_seat_number" if status == "seat" and g else f"linked_by_{how}"
        return hits[0], rule.replace("+", "_")
    for rule, cands in (
        ("linked_in_grade", roster.in_grade(year, nm, g)),
        ("late_joiner", roster.later(year, nm, g)),
    ):
        if len(cands) == 1:
            return cands[0], rule
    why = _WHY_UNKNOWN.get(status, status)
    found.unknown.append(
        (i, f"{why}; no roster student named {nm!r}" + (f" in class {g}" if g else ""))
    )
    return None, None


def index_roster(ctx: Context, students: pd.DataFrame) -> Roster:
    """The roster every later source links to, once every roster is read: a temporary 学籍号
    (L/J) a later year's roster replaced by a G number becomes the G number everywhere."""
    replaced = temp_replacements(students)
    if replaced:
        students = _replace_ids(ctx, students, replaced)
        ctx.parts["students"] = [students]
    return Roster(students, replaced)


def temp_replacements(students: pd.DataFrame) -> dict[str, str]:
    """L/J number -> the G number of the same student on a later roster: the same name and
    birth date, a grade up for every year later. A temporary number two G numbers fit is kept."""
    s = students
    sid = s["student_id"].astype(object)
    temp = sid.map(lambda v: isinstance(v, str) and v[:1] in ("L", "J")).to_numpy(dtype=bool)
    if not temp.any():
        return {}
    keys = s["name"].map(nz.name_key).to_numpy(dtype=object)
    birth = pd.to_datetime(s["birth_date"], errors="coerce").to_numpy()
    years, grades = s["year"].to_numpy(), s["grade"].to_numpy()
    regular: dict[tuple, list[tuple[int, int, str]]] = {}
    for j in np.flatnonzero(~temp & pd.notna(birth)):
        regular.setdefault((keys[j], birth[j]), []).append(
            (int(years[j]), int(grades[j]), sid.iloc[j])
        )
    fits: dict[str, set[str]] = {}
    for j in np.flatnonzero(temp & pd.notna(birth)):
        y, g = int(years[j]), int(grades[j])
        fits.setdefault(sid.iloc[j], set()).update(
            gid
            for y2, g2, gid in regular.get((keys[j], birth[j]), [])
            if y2 > y and g2 - g == y2 - y
        )
    return {t: next(iter(gs)) for t, gs in fits.items() if len(gs) == 1}


def _replace_ids(ctx: Context, students: pd.DataFrame, replaced: dict[str, str]) -> pd.DataFrame:
    """The roster rows of a replaced temporary number, rewritten and logged (``temp_id_replaced``)."""
    s = students.copy()
    sid = s["student_id"].astype(object)
    hit = sid.isin(list(replaced)).to_numpy()
    headers = {sh.k: sh.header_of("student_id") for sh in ctx.sheets}
    for k in np.unique(s.loc[hit, "_sheet"].to_numpy(dtype=np.int64)):
        part = s[hit & (s["_sheet"] == k).to_numpy()]
        st = ctx.statuses[int(k)]
        rows = part["_i"].to_numpy(dtype=np.int64)
        old = part["student_id"].astype(object).to_numpy()
        new = np.array([replaced[v] for v in old], dtype=object)
        ctx.log.add(st.rs, rows, headers.get(int(k)), old, new, "temp_id_replaced")
        st.student_id[rows] = new
    s["student_id"] = sid.map(lambda v: replaced.get(v, v)).astype(s["student_id"].dtype)
    return s


def id_on_roster(x, on_roster: set):
    """A well-formed 学籍号 found on the roster (the fast path of linkage), else None."""
    v, rule, status = nz.student_id(x)
    return (v, rule) if status == "ok" and v in on_roster else (None, None)
