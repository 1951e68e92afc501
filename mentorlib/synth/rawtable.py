"""Raw sheets in compact form and the defect recorder.

:class:`Table` is one sheet of a raw file (Arrow text, NumPy numbers, categoricals, with sparse
overridden cells); :class:`Messer` injects defects and records each for the manifest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from ..io.xlsx import Patched, text_or_none

# ----------------------------------------------------------------------------- raw tables


class Table:
    """One sheet of a raw file: header -> column, plus row keys and submit times.

    Columns are Arrow string arrays, numpy numeric arrays or categoricals: compact, no Python
    object per cell. A defect replaces a few cells; those live in sparse per-column overrides
    (``{row: value}``, text or number) until the file is written, so a district-sized file
    never becomes millions of Python strings. Row keys (``rk``) follow each row through
    defects, appended rows and re-ordering, so the manifest can name the final spreadsheet row.
    """

    def __init__(self, cols: dict, rk: np.ndarray | None = None):
        self.cols = {k: _col(v) for k, v in cols.items()}
        self.n = len(next(iter(self.cols.values()))) if self.cols else 0
        self.rk = np.arange(self.n) if rk is None else np.asarray(rk)
        self.ts: np.ndarray | None = None
        self.over: dict[str, dict[int, object]] = {}

    def __contains__(self, k):
        return k in self.cols

    def __setitem__(self, k, v):
        if np.ndim(v) == 0:
            v = (
                pa.array([v] * self.n, pa.string())
                if isinstance(v, str) or v is None
                else np.full(self.n, v)
            )
        self.cols[k] = _col(v)
        self.over.pop(k, None)

    def base(self, k):
        return self.cols[k]

    def values(self, k, idx) -> np.ndarray:
        """Current values (object array) of column ``k`` at rows ``idx``."""
        idx = np.asarray(idx, dtype=np.int64)
        b = self.cols[k]
        if isinstance(b, pa.Array):
            out = np.asarray(b.take(pa.array(idx)).to_pylist(), dtype=object)
        else:
            out = np.asarray(
                b[idx] if not isinstance(b, pd.Categorical) else b.take(idx), dtype=object
            )
        over = self.over.get(k)
        if over:
            for j, i in enumerate(idx.tolist()):
                if i in over:
                    out[j] = over[i]
        return out

    def overridden(self, k) -> np.ndarray:
        return np.fromiter(self.over.get(k, {}).keys(), dtype=np.int64)

    def put(self, k, idx, values):
        self.over.setdefault(k, {}).update(zip(np.asarray(idx).tolist(), list(values), strict=True))

    def take(self, idx) -> Table:
        idx = np.asarray(idx, dtype=np.int64)
        t = Table({k: _take(v, idx) for k, v in self.cols.items()}, self.rk[idx])
        t.ts = None if self.ts is None else self.ts[idx]
        for k, d in self.over.items():
            if not d:
                continue
            pos = np.flatnonzero(np.isin(idx, np.fromiter(d.keys(), dtype=np.int64)))
            t.over[k] = {int(p): d[int(idx[p])] for p in pos}
        return t

    def extend(self, other: Table) -> Table:
        t = Table(
            {k: _concat(v, other.cols[k]) for k, v in self.cols.items()},
            np.concatenate([self.rk, other.rk]),
        )
        if self.ts is not None:
            t.ts = np.concatenate([self.ts, other.ts])
        for k in set(self.over) | set(other.over):
            t.over[k] = {
                **self.over.get(k, {}),
                **{i + self.n: v for i, v in other.over.get(k, {}).items()},
            }
        return t

    def next_rk(self) -> int:
        return int(self.rk.max()) + 1 if self.n else 0

    def out_cols(self) -> dict:
        """Columns for the writers: overridden cells as :class:`Patched`."""
        out = {}
        for k, v in self.cols.items():
            d = self.over.get(k)
            if d:
                idx = np.array(sorted(d), dtype=np.int64)
                vals = np.empty(len(idx), dtype=object)
                vals[:] = [d[i] for i in idx.tolist()]
                out[k] = Patched(v, idx, vals)
            else:
                out[k] = v
        return out


def _col(v):
    """A column in compact form: Arrow strings (plain or dictionary), numbers or a categorical."""
    if isinstance(v, pa.DictionaryArray):
        return v
    if isinstance(v, pd.Categorical | pa.Array):
        return _as_string(v) if isinstance(v, pa.Array) else v
    if isinstance(v, pa.ChunkedArray):
        return _as_string(v.combine_chunks())
    if isinstance(v, pd.Series | pd.Index):
        if pd.api.types.is_numeric_dtype(v) and not pd.api.types.is_bool_dtype(v):
            return v.to_numpy()
        try:  # Arrow-backed text (pandas' str dtype, categoricals of text): no copy into Python
            a = pa.array(v)
            if isinstance(a, pa.ChunkedArray):
                a = a.combine_chunks()
            if pa.types.is_dictionary(a.type):
                a = a.cast(a.type.value_type)
            if pa.types.is_string(a.type) or pa.types.is_large_string(a.type):
                return _as_string(a)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            pass
        v = v.to_numpy(dtype=object)
    v = np.asarray(v)
    if v.dtype.kind in "fiu":
        return v
    arr = text_or_none(v.astype(object) if v.dtype.kind in "USb" else v)
    if arr is None:
        raise TypeError("a raw column must be all text or all numbers; put() the odd cells")
    return arr


def _as_string(a):
    return a.cast(pa.string()) if pa.types.is_large_string(a.type) else a


def _take(v, idx):
    if isinstance(v, pa.Array):
        return v.take(pa.array(idx))
    if isinstance(v, pd.Categorical):
        return v.take(idx)
    return v[idx]


def _concat(a, b):
    if isinstance(a, pa.Array):
        try:
            return pa.concat_arrays([a, b])
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # different dictionaries
            return pa.concat_arrays([a.cast(pa.string()), b.cast(pa.string())])
    if isinstance(a, pd.Categorical):
        return pd.Categorical.from_codes(np.concatenate([a.codes, b.codes]), a.categories)
    return np.concatenate([a, b])


# ----------------------------------------------------------------------------- defects


@dataclass
class Messer:
    """Injects defects and records each one (in bulk) for the manifest."""

    rng: np.random.Generator
    clean: bool
    chunks: list = field(default_factory=list)

    def count(self, n: int, rate: float, min_n: int = 1) -> int:
        if self.clean or n == 0 or rate <= 0:
            return 0
        return int(min(n, max(min_n, self.rng.binomial(n, rate))))

    def take(self, pool: np.ndarray, k: int) -> np.ndarray:
        pool = np.asarray(pool)
        if k <= 0 or len(pool) == 0:
            return np.array([], dtype=int)
        return np.sort(self.rng.choice(pool, min(k, len(pool)), replace=False))

    def add(self, file, rk, column, kind, raw, true, expected, sheet=None):
        rk = np.atleast_1d(np.asarray(rk))
        n = len(rk)
        if n == 0:
            return

        def arr(x):
            if x is None or np.ndim(x) == 0:
                return np.full(n, None if x is None else str(x), dtype=object)
            return np.array([None if v is None else str(v) for v in x], dtype=object)

        self.chunks.append(
            pd.DataFrame(
                {
                    "file": file,
                    "sheet": sheet,
                    "rk": rk.astype(np.int64),
                    "column": column,
                    "kind": kind,
                    "raw": arr(raw),
                    "true_value": arr(true),
                    "expected": expected,
                }
            )
        )

    def frame(self, rows: dict) -> pd.DataFrame:
        """The manifest, with row keys turned into sheet and spreadsheet row (``rows``)."""
        cols = ["file", "sheet", "row", "column", "kind", "raw", "true_value", "expected"]
        if not self.chunks:
            return pd.DataFrame(columns=cols)
        out = []
        for ch in self.chunks:
            f = ch["file"].iat[0]
            if f not in rows:  # file-level entries (encoding)
                out.append(ch.assign(row=pd.NA))
                continue
            row_of, sheet_of = rows[f]
            rk = ch["rk"].to_numpy()
            if (rk < 0).all():
                out.append(ch.assign(row=pd.NA))
                continue
            ch = ch.assign(row=row_of[rk], sheet=sheet_of[rk] if sheet_of is not None else None)
            if (ch["expected"] == "merge").any():
                tv = ch["true_value"].to_numpy(dtype=object)
                mm = (ch["expected"] == "merge").to_numpy()
                tv[mm] = [str(row_of[int(v)]) for v in tv[mm]]
                ch = ch.assign(true_value=tv)
            out.append(ch)
        df = pd.concat(out, ignore_index=True)[cols]
        return df.astype({"row": "Int64"})
