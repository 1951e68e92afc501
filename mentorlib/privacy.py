"""Small-cell suppression: no published number describes fewer than ``min_cell`` students.

Every table that leaves the workbench (a report, a figure's data, ``--json`` output) passes
through :func:`suppress_small_cells` at the output stage; analyses keep the full numbers.
:func:`format_suppressed` turns the blanked cells into the text a reader sees (``"<5"``).

Examples
--------
>>> t = pd.DataFrame({"group": ["a", "b"], "n": [40, 3], "rate": [0.9, 1.0]})
>>> out = suppress_small_cells(t, counts="n")
>>> out["suppressed"].tolist(), out["rate"].isna().tolist()
([False, True], [False, True])
>>> format_suppressed(out)["n"].tolist()
['40', '<5']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError
from .rules import Rulebook

MIN_CELL: int = Rulebook.min_cell  # the default; a study's own value is processed.rules.min_cell


def _as_list(x: str | Sequence[str] | None) -> list[str]:
    if x is None:
        return []
    return [x] if isinstance(x, str) else list(x)


def suppress_small_cells(
    df: pd.DataFrame,
    *,
    counts: str | Sequence[str],
    min_cell: int = MIN_CELL,
    columns: Sequence[str] | None = None,
    flag: str = "suppressed",
) -> pd.DataFrame:
    """Blank every number of a row that describes fewer than ``min_cell`` students.

    Parameters
    ----------
    df : DataFrame
        A tidy output table, one row per cell (group, year...).
    counts : str or list of str
        Columns counting the students a row describes (``n_students``, ``n_evaluable``; add a
        numerator such as ``n_progressing`` and its complement for complementary
        suppression). A row is suppressed when any of them is below ``min_cell``; a missing
        count counts as small.
    min_cell : int, default 5
        The smallest number of students a published cell may describe.
    columns : list of str, optional
        Columns blanked in a suppressed row. Default: the ``counts`` columns and every
        floating-point column (rates, intervals, means); labels and keys stay.
    flag : str, default "suppressed"
        Name of the boolean column added (True where the row was blanked).

    Returns
    -------
    DataFrame
        A copy of ``df`` with the blanked cells missing (integer columns become nullable
        ``Int64``) and the ``flag`` column. The input is not modified.

    Raises
    ------
    InputError
        A count column that is not in ``df``, or ``min_cell`` below 1.

    Notes
    -----
    Threshold ("minimum cell size") suppression as in statistical disclosure control
    (Hundepool et al. 2012, *Statistical Disclosure Control*, ch. 5; the usual rule in
    education statistics is 5 or 10). Suppression here is primary only: a suppressed group
    can sometimes be recovered as a total minus the other groups, so keep totals and group
    rows in different tables or pass more ``counts`` when that matters.
    """
    if min_cell < 1:
        raise InputError(f"min_cell must be at least 1, got {min_cell}")
    cnt = _as_list(counts)
    missing = [c for c in cnt if c not in df.columns]
    if missing:
        raise InputError(f"count column(s) {missing} not in the table ({list(df.columns)})")
    if columns is None:
        floats = [c for c in df.columns if pd.api.types.is_float_dtype(df[c])]
        columns = list(dict.fromkeys([*cnt, *floats]))
    else:
        columns = _as_list(columns)
        absent = [c for c in columns if c not in df.columns]
        if absent:
            raise InputError(f"column(s) {absent} not in the table")
    small = np.zeros(len(df), dtype=bool)
    for c in cnt:
        v = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        small |= ~(v >= min_cell)
    out = df.copy()
    for c in columns:
        if flag == c:
            continue
        s = out[c]
        if pd.api.types.is_integer_dtype(s) or pd.api.types.is_bool_dtype(s):
            s = s.astype("Int64" if pd.api.types.is_integer_dtype(s) else "boolean")
        out[c] = s.mask(small)
    out[flag] = small
    return out


def format_suppressed(
    df: pd.DataFrame,
    *,
    flag: str = "suppressed",
    min_cell: int = MIN_CELL,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Show the blanked cells of suppressed rows as ``"<min_cell"`` (e.g. ``"<5"``).

    Parameters
    ----------
    df : DataFrame
        A table returned by :func:`suppress_small_cells`.
    flag : str, default "suppressed"
        Its flag column.
    min_cell : int, default 5
        The threshold that was used (for the text).
    columns : list of str, optional
        Columns to format; default every column with a missing cell in a suppressed row.

    Returns
    -------
    DataFrame
        A copy in which each formatted column is text: ``"<5"`` in the blanked cells, the
        value (``str``) elsewhere, ``""`` for values that were missing anyway.
    """
    if flag not in df.columns:
        raise InputError(f"no {flag!r} column: run suppress_small_cells first")
    rows = df[flag].fillna(False).to_numpy(dtype=bool)
    if columns is None:
        columns = [c for c in df.columns if c != flag and df.loc[rows, c].isna().any()]
    out = df.copy()
    for c in _as_list(columns):
        s = out[c]
        text = s.astype("object").map(lambda v: "" if pd.isna(v) else str(v))
        out[c] = text.mask(rows & s.isna().to_numpy(), f"<{min_cell}").astype("str")
    return out


def suppress_rule_values(
    df: pd.DataFrame,
    *,
    counts: Sequence[str] = (),
    shares: dict[str, float] | None = None,
    min_cell: int = MIN_CELL,
    rule: str = "rule",
    value: str = "value",
    flag: str = "suppressed",
) -> pd.DataFrame:
    """Blank the values of a long table of checks (``rule``, ``value``) that describe few students.

    Parameters
    ----------
    df : DataFrame
        One row per check (``rule`` and ``value`` columns; e.g. a grouping's rulebook checks,
        several policies stacked).
    counts : list of str
        Rules whose value counts students (a group size, invalid rows): blanked when between 1
        and ``min_cell - 1`` (mean values over random draws included).
    shares : dict, optional
        Rule -> the number of students ``n`` its value is a share of: blanked when the students
        it counts, ``round(value * n)``, or the others, ``n - round(value * n)``, number 1 to
        ``min_cell - 1`` (a share of 0 or 1 says only "none" or "all", as the pass flag does).
    min_cell : int, default 5
    rule, value, flag : str
        Column names; ``flag`` (added) is True where the value was blanked.

    Returns
    -------
    DataFrame
        A copy with the blanked values missing (``value`` becomes ``object`` with None).

    Examples
    --------
    >>> t = pd.DataFrame({"rule": ["group_min", "in_scope", "mean_fit"], "value": [3, 0.98, 0.6]})
    >>> out = suppress_rule_values(t, counts=["group_min"], shares={"in_scope": 100})
    >>> out["value"].tolist(), out["suppressed"].tolist()
    ([None, None, 0.6], [True, True, False])
    """
    if min_cell < 1:
        raise InputError(f"min_cell must be at least 1, got {min_cell}")
    for c in (rule, value):
        if c not in df.columns:
            raise InputError(f"no {c!r} column in the table of checks")
    shares = dict(shares or {})
    counts = set(_as_list(counts))

    def small(x: float) -> bool:
        return 0 < x < min_cell

    out = df.copy().reset_index(drop=True)
    vals = out[value].astype("object").tolist()
    blank = []
    for r, v in zip(out[rule], vals, strict=True):
        hide = False
        if not _missing(v):
            x = float(v)
            if r in counts:
                hide = small(x) or (0 < x < 1)
            elif r in shares and not _missing(shares[r]):
                n = int(shares[r])
                k = int(round(x * n))
                hide = small(k) or small(n - k) or (n > 0 and small(n))
        blank.append(hide)
    kept = [None if h or _missing(v) else v for h, v in zip(blank, vals, strict=True)]
    out[value] = pd.Series(kept, index=out.index, dtype="object")
    out[flag] = blank
    return out


# =========================================================================== documents
#
# Primary suppression alone is undone by subtraction (a total minus the visible rows). The
# classes below model what a document publishes as cells (counts of students) tied by linear
# relations (a total is the sum of its parts; two tables or a sentence and a table that
# partition the same students) and shown rates (a percentage printed with its n bounds the
# numerator). :meth:`Document.protect` adds complementary suppression until the auditor
# (:func:`audit`, integer programming) can no longer narrow any small cell.

#: Status of a cell in a :class:`Document`.
SHOWN, PRIMARY, SECONDARY, HIDDEN = "shown", "primary", "secondary", "hidden"


@dataclass
class _Cell:
    value: int
    printed: bool
    status: str = SHOWN
    label: str = ""


@dataclass
class _Rate:
    k: str
    n: str
    decimals: int
    percent: bool
    shown: bool = True
    forced_hidden: bool = False


class Document:
    """The numbers a published document shows, the relations among them, and their protection.

    A *cell* is a count of students (an integer). It is *printed* (a table cell, a number in a
    sentence, a bar's label) or *hidden* (not printed but implied, e.g. the numerator of a
    printed percentage or the students who did not progress). A *relation* says a total is the
    sum of its parts. A *rate* is ``k / n`` printed as a percentage.

    After :meth:`protect`, each printed cell is ``"shown"``, ``"primary"`` (fewer than
    ``min_cell`` students: printed as ``"<5"``) or ``"secondary"`` (complementary suppression:
    printed as ``"—"``; always ``min_cell`` or more), and each rate shown or not (``"—"``).
    Builders then ask :meth:`text` / :meth:`rate_text` for what to print.

    Parameters
    ----------
    min_cell : int, default 5
        The smallest number of students a published number may describe.
    name : str, optional
        For messages.

    Notes
    -----
    The protection rule enforced (and checked by :func:`audit`): for every cell describing
    fewer than ``min_cell`` students (printed as "<5", or hidden such as the complement of a
    printed rate), the set of values consistent with everything the document shows is an
    interval at least :attr:`required_width` wide (default ``max(1, (min_cell - 1) // 2)``:
    2 for a threshold of 5, i.e. at least three possible values); no suppressed cell can be
    solved for exactly. Complementary cells are chosen greedily, nearest in the relations and
    smallest first, as the hypercube/"singleton" heuristics of tau-ARGUS and sdcTable do.

    Examples
    --------
    >>> d = Document(min_cell=5)
    >>> for g, v in {"a": 3, "b": 40, "c": 57}.items():
    ...     _ = d.count(g, v)
    >>> _ = d.count("total", 100)
    >>> d.total("total", ["a", "b", "c"])
    >>> _ = d.protect()
    >>> [d.text(k) for k in ("a", "b", "c", "total")]
    ['<5', '—', '57', '100']
    >>> bool(audit(d)["recoverable"].any())
    False
    """

    def __init__(self, min_cell: int = MIN_CELL, *, name: str = "", required_width=None):
        if min_cell < 1:
            raise InputError(f"min_cell must be at least 1, got {min_cell}")
        self.min_cell = int(min_cell)
        self.name = name
        self.required_width = (
            max(1, (self.min_cell - 1) // 2) if required_width is None else int(required_width)
        )
        self.cells: dict[str, _Cell] = {}
        self.relations: list[dict[str, int]] = []
        self.rates: dict[str, _Rate] = {}
        self.kept: set[str] = set()
        self.protected = False

    def keep(self, *keys: str) -> None:
        """Mark cells or rates as the document's headline: complementary suppression takes
        other numbers first (a kept number is hidden only when nothing else would do)."""
        self.kept.update(keys)

    # ------------------------------------------------------------------ registering

    def count(self, key: str, value, *, printed: bool = True, label: str = "") -> str:
        """Register a count of students; the same key again must carry the same value.

        Parameters
        ----------
        key : str
            Stable name (``"progress.grade.3.n_evaluable"``).
        value : int
            The true count (missing counts as 0).
        printed : bool, default True
            False for a number the document implies but does not print.
        label : str, optional
            Human-readable description for the audit.

        Returns
        -------
        str
            ``key`` (for chaining).
        """
        v = 0 if _missing(value) else int(value)
        if v < 0:
            raise InputError(f"{key}: a count cannot be negative ({v})")
        old = self.cells.get(key)
        if old is not None:
            if old.value != v:
                raise InputError(f"{key} registered twice with different values {old.value}, {v}")
            old.printed = old.printed or printed
            if old.printed and old.status == HIDDEN:
                old.status = SHOWN
            return key
        self.cells[key] = _Cell(v, printed, SHOWN if printed else HIDDEN, label or key)
        self.protected = False
        return key

    def total(self, total: str, parts: Sequence[str], *, strict: bool = True) -> None:
        """Register ``total = sum(parts)`` (every key must be registered; checked).

        ``strict=False``: a relation that does not hold in the data is left out silently
        (instead of an error).
        """
        keys = [total, *parts]
        absent = [k for k in keys if k not in self.cells]
        if absent:
            raise InputError(f"relation on unregistered cell(s) {absent}")
        s = sum(self.cells[p].value for p in parts)
        if s != self.cells[total].value:
            if not strict:
                return
            raise InputError(
                f"{total} = {self.cells[total].value} is not the sum of its parts ({s}): {parts}"
            )
        rel: dict[str, int] = {total: -1}
        for p in parts:
            rel[p] = rel.get(p, 0) + 1
        self.relations.append(rel)
        self.protected = False

    def partition(self, total: str, parts: dict[str, int], *, prefix: str) -> list[str]:
        """Register parts (``{label: value}``) that add up to ``total``; a remainder part.

        Parts that do not cover the total get a hidden ``"{prefix}.rest"`` cell (e.g.
        students of unknown grade), so the relation stays true.
        """
        keys = [self.count(f"{prefix}.{g}", v) for g, v in parts.items()]
        rest = self.cells[total].value - sum(int(0 if _missing(v) else v) for v in parts.values())
        if rest:
            keys.append(self.count(f"{prefix}.rest", rest, printed=False))
        self.total(total, keys)
        return keys

    def rate(self, key: str, k: str, n: str, *, decimals: int = 1, percent: bool = True) -> str:
        """Register a rate ``k / n`` that the document prints (with ``decimals`` places).

        Its complement ``n - k`` becomes a hidden cell ``"{key}~not"``: a rate is published
        only when numerator and complement both describe ``min_cell`` or more students and
        neither ``k`` nor ``n`` is suppressed.
        """
        for c in (k, n):
            if c not in self.cells:
                raise InputError(f"rate {key}: unregistered cell {c}")
        comp = f"{key}~not"
        if self.cells[n].value < self.cells[k].value:  # not a share of n: never shown
            self.rates[key] = _Rate(k, n, int(decimals), bool(percent), False, True)
            return key
        self.count(comp, self.cells[n].value - self.cells[k].value, printed=False)
        if not any(set(r) == {n, k, comp} for r in self.relations):
            self.total(n, [k, comp])
        self.rates[key] = _Rate(k, n, int(decimals), bool(percent))
        self.protected = False
        return key

    # ------------------------------------------------------------------ protection

    def sensitive(self, key: str) -> bool:
        """True for a cell describing fewer than ``min_cell`` students (zero included)."""
        return self.cells[key].value < self.min_cell

    def _update_rates(self) -> None:
        for r in self.rates.values():
            kc, nc = self.cells[r.k], self.cells[r.n]
            r.shown = (
                not r.forced_hidden
                and nc.value > 0
                and kc.value >= self.min_cell
                and nc.value - kc.value >= self.min_cell
                and kc.status in (SHOWN, HIDDEN)
                and nc.status in (SHOWN, HIDDEN)
            )

    def protect(self, *, max_rounds: int = 10_000) -> Document:
        """Primary then complementary suppression, until :func:`audit` finds nothing to narrow.

        Returns
        -------
        Document
            ``self``, protected.
        """
        for c in self.cells.values():
            if c.printed:
                c.status = PRIMARY if c.value < self.min_cell else SHOWN
        self._update_rates()
        for _ in range(max_rounds):
            bad = _failures(self, first=True)
            if not bad:
                break
            if not self._suppress_near(bad[0]):
                raise InputError(f"{self.name}: cannot protect {bad[0]}")  # pragma: no cover
            self._update_rates()
        self.protected = True
        return self

    def _suppress_near(self, key: str) -> bool:
        """Suppress a published item so that ``key`` is no longer narrowed.

        Candidates: the printed cells and shown rates in the relations reaching ``key``
        (nearest first). Of the few nearest and smallest, the smallest that alone protects
        ``key`` is taken; else the one that widens its range most; else the nearest smallest.
        """
        seen_cells, frontier, seen_cons = {key}, [key], set()
        cons = self._constraints()
        cands = []
        dist = 0
        while frontier and len(cands) < 12:
            nxt = []
            for ck in frontier:
                for i, (members, rate) in enumerate(cons):
                    if ck not in members or i in seen_cons:
                        continue
                    seen_cons.add(i)
                    if rate is not None and self.rates[rate].shown:
                        cands.append((dist, self.cells[self.rates[rate].k].value, "rate", rate))
                    for m in members:
                        if m in seen_cells:
                            continue
                        seen_cells.add(m)
                        if self.cells[m].status == SHOWN:
                            cands.append((dist, self.cells[m].value, "cell", m))
                        else:
                            nxt.append(m)
            frontier = nxt
            dist += 1
        if not cands:
            return False
        free = [c for c in cands if c[3] not in self.kept]
        cands = free or cands
        need = self.required_width if self.sensitive(key) else 1
        lo, hi = _range(self, key)
        best, best_score = None, None
        for cand in sorted(set(cands), key=lambda c: (c[1], c[0]))[:12]:
            self._set(cand, True)
            lo2, hi2 = _range(self, key)
            self._set(cand, False)
            gain = (hi2 - lo2) - (hi - lo)
            score = (0 if hi2 - lo2 >= need else 1, -min(gain, need), cand[0], cand[1])
            if gain > 0 and (best_score is None or score < best_score):
                best, best_score = cand, score
        self._set(best if best is not None else min(cands), True)
        return True

    def _set(self, cand, on: bool) -> None:
        _, _, kind, which = cand
        if kind == "rate":
            self.rates[which].forced_hidden = on
            self.rates[which].shown = not on
        else:
            self.cells[which].status = SECONDARY if on else SHOWN

    def primary_only(self) -> Document:
        """Primary suppression only, as mentorlib did before complementary suppression.

        Small printed cells become ``"<5"``; every rate whose denominator is printed is shown
        (whatever its numerator). For demonstrating attacks with :func:`audit`.
        """
        for c in self.cells.values():
            if c.printed:
                c.status = PRIMARY if c.value < self.min_cell else SHOWN
        for r in self.rates.values():
            r.shown = self.cells[r.n].status == SHOWN and self.cells[r.n].value > 0
        self.protected = True
        return self

    def _constraints(self) -> list[tuple[set[str], str | None]]:
        out: list[tuple[set[str], str | None]] = [(set(r), None) for r in self.relations]
        out += [({r.k, r.n}, key) for key, r in self.rates.items()]
        return out

    # ------------------------------------------------------------------ reading

    def status(self, key: str) -> str:
        """``"shown"``, ``"primary"``, ``"secondary"`` or ``"hidden"``."""
        return self.cells[key].status

    def suppressed(self, key: str) -> bool:
        """True when the cell is printed as ``"<5"`` or ``"—"`` (or a rate is not shown)."""
        if key in self.rates:
            self._check()
            return not self.rates[key].shown
        return self.cells[key].status in (PRIMARY, SECONDARY)

    def value(self, key: str):
        """The value to publish, or None when suppressed."""
        self._check()
        c = self.cells[key]
        return None if c.status in (PRIMARY, SECONDARY) else c.value

    def text(self, key: str) -> str:
        """What to print for a count: ``"1,234"``, ``"<5"`` (primary) or ``"—"``."""
        self._check()
        c = self.cells[key]
        if c.status == PRIMARY:
            return f"<{self.min_cell}"
        if c.status == SECONDARY:
            return "—"
        return f"{c.value:,}"

    def rate_shown(self, key: str) -> bool:
        """True when rate ``key`` may be printed."""
        self._check()
        return self.rates[key].shown

    def rate_text(self, key: str, value=None) -> str:
        """What to print for a rate: ``"87.3%"`` or ``"—"``."""
        self._check()
        r = self.rates[key]
        if not r.shown:
            return "—"
        v = self.cells[r.k].value / self.cells[r.n].value if value is None else float(value)
        return f"{v:.{r.decimals}%}" if r.percent else f"{v:.{r.decimals}f}"

    def _check(self) -> None:
        if not self.protected:
            self.protect()

    def view(self, prefix: str) -> DocumentView:
        """This document under a key prefix (e.g. ``"2024:"`` for one year of a review)."""
        return DocumentView(self, prefix)

    def mask_table(
        self,
        df: pd.DataFrame,
        keys: dict[str, Sequence[str | None]],
        *,
        rates: Sequence[str | None] | None = None,
        rate_columns: Sequence[str] = (),
        flag: str = "suppressed",
    ) -> pd.DataFrame:
        """Blank the cells of ``df`` that the document suppresses.

        Parameters
        ----------
        df : DataFrame
            A published table, one row per group.
        keys : dict
            Column of ``df`` -> the cell (or rate) key of each row (None: not registered).
        rates : list of str, optional
            The rate key of each row: where it is suppressed, ``rate_columns`` are blanked.
        rate_columns : list of str
            Columns derived from the row's rate (proportion, interval, p-value...).
        flag : str, default "suppressed"
            Set on rows with any suppressed cell or rate (kept if already set).

        Returns
        -------
        DataFrame
            A copy; integer columns with a blank become nullable ``Int64``.
        """
        self._check()
        out = df.copy().reset_index(drop=True)
        flagged = (
            out[flag].fillna(False).to_numpy(dtype=bool).copy()
            if flag in out
            else np.zeros(len(out), bool)
        )
        for col, ks in keys.items():
            if col not in out:
                continue
            if pd.api.types.is_integer_dtype(out[col]):
                out[col] = out[col].astype("Int64")
            elif pd.api.types.is_object_dtype(
                out[col]
            ) is False and not pd.api.types.is_float_dtype(out[col]):
                out[col] = out[col].astype("object")
            for i, k in enumerate(ks):
                if k is not None and self.suppressed(k):
                    out.iloc[i, out.columns.get_loc(col)] = np.nan
                    flagged[i] = True
        if rates is not None:
            for i, k in enumerate(rates):
                if k is not None and k in self.rates and self.suppressed(k):
                    flagged[i] = True
                    for c in rate_columns:
                        if c in out:
                            if not pd.api.types.is_float_dtype(out[c]):
                                out[c] = out[c].astype("object")
                            out.iloc[i, out.columns.get_loc(c)] = np.nan
        out[flag] = flagged
        return out


class _Keys:
    """A read-only mapping of a document's cells or rates under a key prefix."""

    def __init__(self, d: dict, prefix: str):
        self._d, self._p = d, prefix

    def __getitem__(self, key):
        return self._d[self._p + key]

    def __contains__(self, key) -> bool:
        return self._p + key in self._d

    def __iter__(self):
        n = len(self._p)
        return (k[n:] for k in self._d if k.startswith(self._p))


class DocumentView:
    """A :class:`Document` seen under a key prefix (one year of a multi-year document).

    ``count``, ``total``, ``rate``, ``text``, ``suppressed``, ``mask_table``... take and
    return unprefixed keys; everything is stored in the underlying document.
    """

    def __init__(self, doc: Document, prefix: str):
        self.doc, self.prefix = doc, prefix
        self.min_cell = doc.min_cell
        self.cells = _Keys(doc.cells, prefix)
        self.rates = _Keys(doc.rates, prefix)

    def _k(self, key):
        return None if key is None else self.prefix + key

    def count(self, key: str, value, **kw) -> str:
        """See :meth:`Document.count`."""
        self.doc.count(self._k(key), value, **kw)
        return key

    def total(self, total: str, parts: Sequence[str], **kw) -> None:
        """See :meth:`Document.total`."""
        self.doc.total(self._k(total), [self._k(p) for p in parts], **kw)

    def rate(self, key: str, k: str, n: str, **kw) -> str:
        """See :meth:`Document.rate`."""
        self.doc.rate(self._k(key), self._k(k), self._k(n), **kw)
        return key

    def suppressed(self, key: str) -> bool:
        """See :meth:`Document.suppressed`."""
        return self.doc.suppressed(self._k(key))

    def text(self, key: str) -> str:
        """See :meth:`Document.text`."""
        return self.doc.text(self._k(key))

    def rate_shown(self, key: str) -> bool:
        """See :meth:`Document.rate_shown`."""
        return self.doc.rate_shown(self._k(key))

    def keep(self, *keys: str) -> None:
        """See :meth:`Document.keep`."""
        self.doc.keep(*(self._k(k) for k in keys))

    def protect(self) -> DocumentView:
        """Protect the underlying document."""
        self.doc.protect()
        return self

    def mask_table(self, df, keys, *, rates=None, **kw) -> pd.DataFrame:
        """See :meth:`Document.mask_table`."""
        keys = {c: [self._k(k) for k in ks] for c, ks in keys.items()}
        rates = None if rates is None else [self._k(k) for k in rates]
        return self.doc.mask_table(df, keys, rates=rates, **kw)


def _missing(v) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


# =========================================================================== auditor


class _State:
    """What one pass of the auditor reads of a document: the shown values, the constraints
    (relations and shown rates) and, per cell, the constraints it appears in. Built once per
    pass (the document does not change within it), not once per audited cell."""

    def __init__(self, doc: Document):
        self.known = {k: c.value for k, c in doc.cells.items() if c.status == SHOWN}
        self.cons = [(r, None) for r in doc.relations]
        self.cons += [({r.k: 0, r.n: 0}, r) for r in doc.rates.values() if r.shown]
        self.where: dict[str, list[int]] = {}
        for i, (members, _) in enumerate(self.cons):
            for m in members:
                self.where.setdefault(m, []).append(i)


def _problem(doc: Document, target: str, state: _State | None = None):
    """The integer programme of the unknowns connected to ``target`` (or None if known)."""
    st = state if state is not None else _State(doc)
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
    var = sorted(comp)
    idx = {v: i for i, v in enumerate(var)}
    rows, lo, hi = [], [], []
    for i in sorted(used):
        members, rate = cons[i]
        if rate is None:
            a = np.zeros(len(var))
            b = 0.0
            for m, coef in members.items():
                if m in idx:
                    a[idx[m]] += coef
                else:
                    b -= coef * known[m]
            rows.append(a), lo.append(b), hi.append(b)
        else:
            kc, nc = doc.cells[rate.k], doc.cells[rate.n]
            p = round(kc.value / nc.value, rate.decimals + (2 if rate.percent else 0))
            h = 0.5 * 10 ** -(rate.decimals + (2 if rate.percent else 0)) + 1e-12
            # (p - h) n <= k <= (p + h) n
            for sign, bound in ((1, p + h), (-1, p - h)):
                a = np.zeros(len(var))
                b = 0.0
                if rate.k in idx:
                    a[idx[rate.k]] += sign
                else:
                    b -= sign * kc.value
                if rate.n in idx:
                    a[idx[rate.n]] -= sign * bound
                else:
                    b += sign * bound * nc.value
                rows.append(a), lo.append(-np.inf), hi.append(b)
    lb = np.zeros(len(var))
    ub = np.full(len(var), np.inf)
    for v, i in idx.items():
        c = doc.cells[v]
        if c.status == PRIMARY:
            ub[i] = doc.min_cell - 1
        elif c.status == SECONDARY:
            lb[i] = doc.min_cell
    return var, idx, rows, lo, hi, lb, ub


def _range(doc: Document, target: str, state: _State | None = None) -> tuple[float, float]:
    from scipy.optimize import Bounds, LinearConstraint, milp

    pr = _problem(doc, target, state)
    if pr is None:
        v = doc.cells[target].value
        return v, v
    var, idx, rows, lo, hi, lb, ub = pr
    # the same programme (same unknowns, bounds and constraints) has the same answer: protect()
    # re-audits after every suppression, and most components are untouched by it
    key = (
        target,
        tuple(var),
        lb.tobytes(),
        ub.tobytes(),
        np.asarray(rows).tobytes(),
        np.asarray(lo).tobytes(),
        np.asarray(hi).tobytes(),
    )
    cache = doc.__dict__.setdefault("_range_cache", {})
    if key in cache:
        return cache[key]
    cache[key] = res = _solve(
        var, idx, rows, lo, hi, lb, ub, target, doc, milp, Bounds, LinearConstraint
    )
    return res


def _solve(var, idx, rows, lo, hi, lb, ub, target, doc, milp, Bounds, LinearConstraint):
    n = len(var)
    cons = [LinearConstraint(np.array(rows), lo, hi)] if rows else []
    out = []
    for sign in (1, -1):
        c = np.zeros(n)
        c[idx[target]] = sign
        res = milp(c, integrality=np.ones(n), bounds=Bounds(lb, ub), constraints=cons)
        if res.status == 0:
            out.append(sign * res.fun)
        elif res.status == 3:  # unbounded
            out.append(np.inf if sign < 0 else -np.inf)
        else:  # infeasible: the document contradicts itself; report the true value
            v = doc.cells[target].value
            return v, v
    return float(round(out[0])), (float(round(out[1])) if np.isfinite(out[1]) else np.inf)


def _audited(doc: Document) -> list[str]:
    return [
        k
        for k, c in doc.cells.items()
        if c.status in (PRIMARY, SECONDARY) or (c.status == HIDDEN and doc.sensitive(k))
    ]


def _failures(doc: Document, *, first: bool = False) -> list[str]:
    bad = []
    state = _State(doc)
    for k in _audited(doc):
        lo, hi = _range(doc, k, state)
        if hi - lo < (doc.required_width if doc.sensitive(k) else 1):
            bad.append(k)
            if first:
                break
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
    state = _State(doc)
    for k in _audited(doc):
        lo, hi = _range(doc, k, state)
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
