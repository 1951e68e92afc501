"""A document's published numbers and their complementary suppression."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from .audit import failures, value_range
from .cells import HIDDEN, MIN_CELL, PRIMARY, SECONDARY, SHOWN, is_missing

# =========================================================================== documents
#
# Primary suppression alone is undone by subtraction (a total minus the visible rows). The
# classes below model what a document publishes as cells (counts of students) tied by linear
# relations (a total is the sum of its parts; two tables or a sentence and a table that
# partition the same students) and shown rates (a percentage printed with its n bounds the
# numerator). :meth:`Document.protect` adds complementary suppression until the auditor
# (:func:`audit`, integer programming) can no longer narrow any small cell.


@dataclass
class _Cell:
    value: int
    printed: bool
    status: str = SHOWN
    label: str = ""
    sensitive: bool = True


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
    >>> from mentorlib.privacy import audit
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

    def count(
        self, key: str, value, *, printed: bool = True, label: str = "", sensitive: bool = True
    ) -> str:
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
        sensitive : bool, default True
            False for a hidden cell that is an unknown of the audit but not a group to protect
            itself even when small (a remainder of :meth:`subset`; nobody at all without a
            mentor). Only a new cell takes it.

        Returns
        -------
        str
            ``key`` (for chaining).
        """
        v = 0 if is_missing(value) else int(value)
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
        self.cells[key] = _Cell(v, printed, SHOWN if printed else HIDDEN, label or key, sensitive)
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
        rest = self.cells[total].value - sum(int(0 if is_missing(v) else v) for v in parts.values())
        if rest:
            keys.append(self.count(f"{prefix}.rest", rest, printed=False))
        self.total(total, keys)
        return keys

    def subset(self, total: str, part: str) -> str | None:
        """Register that ``part`` counts some of the students of ``total`` (``part <= total``).

        A hidden remainder ``"{part}~rest"`` (``total - part``) ties them; it is an unknown of
        the audit (at least 0, so a printed part bounds a withheld total from below) but not
        a cell to protect itself (who did not answer a survey is not a published group).
        Nothing is registered when ``part`` exceeds ``total`` (not a subset in these data).

        Returns
        -------
        str or None
            The remainder's key.
        """
        for c in (total, part):
            if c not in self.cells:
                raise InputError(f"subset: unregistered cell {c}")
        rest = self.cells[total].value - self.cells[part].value
        if rest < 0:
            return None
        key = self.count(f"{part}~rest", rest, printed=False, sensitive=False)
        self.total(total, [part, key])
        return key

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
        """True for a cell describing fewer than ``min_cell`` students (zero included), except
        a remainder registered by :meth:`subset`."""
        c = self.cells[key]
        return c.sensitive and c.value < self.min_cell

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
        passed: set[str] = set()  # protected cells stay protected as suppression is added
        for _ in range(max_rounds):
            bad = failures(self, first=True, passed=passed)
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
        cands: list[tuple[int, int, str, str]] = []
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
        lo, hi = value_range(self, key)
        best, best_score = None, None
        # ties broken by kind and key, never by set order (which depends on the hash seed)
        for cand in sorted(set(cands), key=lambda c: (c[1], c[0], c[2], c[3]))[:12]:
            self._set(cand, True)
            lo2, hi2 = value_range(self, key)
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
                    out.loc[out.index[i], col] = np.nan
                    flagged[i] = True
        if rates is not None:
            for i, k in enumerate(rates):
                if k is not None and k in self.rates and self.suppressed(k):
                    flagged[i] = True
                    for c in rate_columns:
                        if c in out:
                            if not pd.api.types.is_float_dtype(out[c]):
                                out[c] = out[c].astype("object")
                            out.loc[out.index[i], c] = np.nan
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
