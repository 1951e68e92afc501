"""The cleaning's bookkeeping: the cleaning log and the fate of every raw row.

Every input row ends as exactly one of ``kept``, ``merged`` (a repeated submission, with a
pointer to the row it merged into) or ``quarantined`` (with a reason); every changed cell is in
the cleaning log (source, sheet, row, column, old, new, rule).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..io.readers import RawSheet

if TYPE_CHECKING:  # what pd.array(..., dtype="str") gives, as pandas-stubs names it
    from pandas.core.arrays.string_ import BaseStringArray

# ----------------------------------------------------------------------------- bookkeeping


class CleanLog:
    """The cleaning log, collected in column-sized chunks."""

    def __init__(self) -> None:
        self.chunks: list[pd.DataFrame] = []

    def add(self, rs: RawSheet, idx, column, old, new, rule):
        idx = np.atleast_1d(np.asarray(idx, dtype=np.int64))
        if not len(idx):
            return
        n = len(idx)

        def strs(x):
            if x is None or np.ndim(x) == 0:
                return np.full(n, cell_text(x), dtype=object)
            return np.array([cell_text(v) for v in x], dtype=object)

        self.chunks.append(
            pd.DataFrame(
                {
                    "source": rs.file,
                    "sheet": rs.sheet_at(idx),
                    "row": rs.rows[idx],
                    "column": column,
                    "old": strs(old),
                    "new": strs(new),
                    "rule": rule if isinstance(rule, str) else strs(rule),
                }
            )
        )

    def note(self, rs: RawSheet | None, file: str, column, old, new, rule, *, sheet=None):
        """A note on a column or a sheet, with no row (``sheet``: one of sheets read together)."""
        self.chunks.append(
            pd.DataFrame(
                {
                    "source": [file],
                    "sheet": [sheet if sheet is not None else rs.sheet if rs else None],
                    "row": [pd.NA],
                    "column": [column],
                    "old": [cell_text(old)],
                    "new": [cell_text(new)],
                    "rule": [rule],
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        cols = ["source", "sheet", "row", "column", "old", "new", "rule"]
        if not self.chunks:
            return pd.DataFrame(columns=cols)
        df = pd.concat(self.chunks, ignore_index=True)[cols]
        df["row"] = df["row"].astype("Int64")
        for c in ("source", "sheet", "column", "rule"):
            df[c] = df[c].astype("category")
        return df


def cell_text(v) -> str | None:
    if v is None or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    return str(v)


STATUSES = ["kept", "merged", "quarantined"]


def concat_compact(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate frames column by column, keeping categoricals categorical when their
    categories differ (``pd.concat`` would fall back to one Python object per row)."""
    cols: dict[str, pd.Series | pd.Categorical] = {}
    for c in frames[0].columns:
        parts = [f[c] for f in frames]
        if not all(isinstance(p.dtype, pd.CategoricalDtype) for p in parts):
            cols[c] = pd.concat(parts, ignore_index=True)
            continue
        names = [p.cat.categories.astype(str) for p in parts]
        cats = pd.Index(sorted(set().union(*names)), dtype="str")
        # a code of -1 (missing) picks the -1 appended at the end
        codes = [
            np.append(cats.get_indexer(nm), -1)[p.cat.codes.to_numpy()]
            for p, nm in zip(parts, names, strict=True)
        ]
        cols[c] = pd.Categorical.from_codes(np.concatenate(codes), cats)
    return pd.DataFrame(cols)


class RowStatus:
    """Fate of every row of one raw sheet: kept, merged (into which row) or quarantined (why)."""

    def __init__(self, rs: RawSheet, kind: str):
        self.rs, self.kind = rs, kind
        n = rs.n
        self.status = np.full(n, "kept", dtype=object)
        self.reason = np.full(n, None, dtype=object)
        self.detail = np.full(n, None, dtype=object)
        self.merged_into = np.full(n, None, dtype=object)
        # one 学籍号 per row: an object array while linking, Arrow-backed text once the sheet is done
        self.student_id: np.ndarray | BaseStringArray = np.full(n, None, dtype=object)
        self.raw_of: dict[int, str] = {}

    @property
    def alive(self) -> np.ndarray:
        return self.status == "kept"

    def quarantine(self, idx, reason: str, detail=None):
        """Quarantine rows still kept; ``detail`` is one text, or one per row of ``idx``."""
        idx = np.atleast_1d(np.asarray(idx, dtype=np.int64))
        if detail is None or isinstance(detail, str):
            detail = np.full(len(idx), detail, dtype=object)
        detail = np.asarray(detail, dtype=object)
        live = self.status[idx] == "kept"
        idx, detail = idx[live], detail[live]
        self.status[idx] = "quarantined"
        self.reason[idx] = reason
        self.detail[idx] = detail
        return idx

    def merge(self, idx, into_rows):
        self.status[idx] = "merged"
        self.merged_into[idx] = into_rows

    def frame(self) -> pd.DataFrame:
        """One row per raw row, in small dtypes: a district has tens of millions of raw rows."""
        n = self.rs.n
        sid = pd.array(self.student_id, dtype="str").copy()
        sid[self.status == "quarantined"] = None
        return pd.DataFrame(
            {
                "source": pd.Categorical.from_codes(np.zeros(n, np.int8), pd.Index([self.rs.file])),
                "sheet": pd.Categorical(self.rs.sheet_at(np.arange(n))),
                "row": self.rs.rows,
                "kind": pd.Categorical.from_codes(np.zeros(n, np.int8), pd.Index([self.kind])),
                "status": pd.Categorical(self.status, categories=STATUSES),
                "reason": pd.Categorical(self.reason),
                "detail": pd.array(self.detail, dtype="str"),
                "merged_into": pd.array(self.merged_into, dtype="str"),
                "student_id": pd.array(sid, dtype="str"),
            }
        )

    def keep_raw_of_quarantined(self) -> None:
        """Remember the raw cells of the rows quarantined so far, then let the sheet's cells go
        (a district-sized study does not fit in memory as raw cells)."""
        hdr = self.rs.header
        for i in np.flatnonzero(self.status == "quarantined"):
            if int(i) not in self.raw_of:
                row = self.rs.data.iloc[int(i)].tolist()
                self.raw_of[int(i)] = json.dumps(
                    {
                        h: cell_text(v)
                        for h, v in zip(hdr, row, strict=True)
                        if cell_text(v) is not None
                    },
                    ensure_ascii=False,
                )
        self.rs.data = pd.DataFrame(
            columns=range(self.rs.data.shape[1]), dtype=object
        )  # a view would keep every cell
        self.student_id = pd.array(self.student_id, dtype="str")  # not a Python object per row

    def quarantine_frame(self) -> pd.DataFrame:
        q = np.flatnonzero(self.status == "quarantined")
        if not len(q):
            return pd.DataFrame()
        raw = [self.raw_of.get(int(i)) for i in q]
        return pd.DataFrame(
            {
                "source": self.rs.file,
                "sheet": self.rs.sheet_at(q),
                "row": self.rs.rows[q],
                "kind": self.kind,
                "reason": self.reason[q],
                "detail": self.detail[q],
                "raw": raw,
            }
        )
