"""What the cleaning of one study carries from source to source, and one raw sheet in work."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io.codebook import Codebook
from ..io.readers import ColumnMap, RawSheet
from ..io.study import Source, StudyConfig
from ..rules import Rulebook
from ..tables import table as contract_of
from .log import CleanLog, RowStatus

if TYPE_CHECKING:  # link imports this module
    from .link import Roster


@dataclass
class Context:
    """Everything the cleaning of one study carries from source to source."""

    cfg: StudyConfig
    rules: Rulebook
    log: CleanLog = field(default_factory=CleanLog)
    statuses: list[RowStatus] = field(default_factory=list)
    sheets: list = field(default_factory=list)
    parts: dict[str, list] = field(default_factory=dict)  # frames, or Parquet paths once spilled
    spill_dir: Path | None = (
        None  # big tables go to disk as they are made (a district fits in memory)
    )
    roster: Roster | None = None
    staff_ids: dict[int, set] = field(default_factory=dict)
    staff_by_name: dict[tuple, list[tuple]] = field(default_factory=dict)
    attention: str = "quarantine"
    reader: str = "calamine"
    seen: dict = field(default_factory=dict)  # table -> Seen: records read so far (daily logs)
    strict: bool = False  # stop at the first source that cannot be read
    failed: list[dict] = field(default_factory=list)  # sources not read: path, kind, reason, rows
    codebook_files: dict[str, str] = field(default_factory=dict)  # codebooks/x.toml -> study file

    def emit(self, table: str, df: pd.DataFrame, sh: Sheet, rows=None):
        """Add canonical rows; ``rows`` is the raw row of each (default: the frame's index).

        Provenance (``_sheet``, ``_i``) rides along until validation, then is dropped."""
        if len(df):
            src_rows = df.index.to_numpy() if rows is None else np.asarray(rows)
            df = compact_part(table, df.assign(_sheet=np.int32(sh.k), _i=src_rows.astype(np.int32)))
            if self.spill_dir is not None and table not in (
                "students",
                "staff",
            ):  # the roster stays at hand
                path = self.spill_dir / f"{table}.{len(self.parts.get(table, [])):05d}.parquet"
                df.to_parquet(path, index=False)
                self.parts.setdefault(table, []).append(path)
                return
            self.parts.setdefault(table, []).append(df)

    def linked_roster(self) -> Roster:
        """The student roster every source but the rosters links to (indexed once they are read)."""
        if self.roster is None:
            raise InputError(
                "no students roster source: every other source links to it", file="study.toml"
            )
        return self.roster


@dataclass
class Sheet:
    """One raw sheet being cleaned: its source, codebook, columns and row fates."""

    src: Source
    rs: RawSheet
    cb: Codebook
    cm: ColumnMap
    st: RowStatus
    k: int = 0  # index of the sheet among all sheets read

    def raw(self, var: str) -> pd.Series | None:
        """The raw column of a field, or None when the sheet does not have it."""
        j = self.cm.single.get(var)
        return None if j is None else self.rs.col(j)

    def column(self, var: str) -> pd.Series:
        """The raw column of a field the sheet has (a required field, or one checked first:
        :func:`~mentorlib.io.readers.match_columns` refuses a sheet without a required field)."""
        j = self.cm.single.get(var)
        if j is None:
            raise KeyError(f"{var!r} is not a column of {self.rs.file}")
        return self.rs.col(j)

    def filled(self, var: str) -> np.ndarray:
        """Rows with a cell in the field's column (none when the sheet does not have it)."""
        raw = self.raw(var)
        return raw.notna().to_numpy() if raw is not None else np.zeros(self.rs.n, dtype=bool)

    def header_of(self, var: str) -> str | None:
        j = self.cm.single.get(var)
        return None if j is None else self.rs.header[j]


_TEXT_IDS = ("student_id", "mentor_id")


def compact_part(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """A canonical part in small dtypes as it is emitted (a district's tables must fit in memory).

    Codes with a fixed vocabulary become categoricals with that vocabulary, so parts concatenate
    without losing it; IDs become Arrow-backed text; item and dimension names categoricals."""
    vocab = {c.name: list(c.vocab) for c in contract_of(name).columns if c.vocab}
    for c in df.columns:
        if c in vocab:
            df[c] = pd.Categorical(df[c].astype(object), categories=vocab[c])
        elif c in _TEXT_IDS:
            df[c] = df[c].astype(object).where(df[c].notna(), None).astype("str")
        elif c in ("subject", "mode", "month"):
            df[c] = df[c].astype("str")
        elif c in ("item", "dimension"):  # a codebook's names: few, repeated millions of times
            df[c] = df[c].astype("category")
    return df
