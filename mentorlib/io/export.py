"""Export a processed study for Excel and SPSS users: xlsx, csv (UTF-8 with BOM) or sav.

``mentorlib export PROCESSED --format xlsx|sav|csv [--out DIR]`` writes every canonical table
(:data:`mentorlib.tables.TABLES`, as :func:`mentorlib.data.load_processed` reads them) and a
per-student progress table per year (:func:`mentorlib.progress.change.student_progress` of
:func:`~mentorlib.progress.change.study_changes`, table ``progress_<year>``) into a new folder:

- ``xlsx``: one workbook, one sheet per table (cells neutralised against formula injection);
- ``csv``: one file per table, UTF-8 with BOM so Excel shows Chinese (:func:`mentorlib.outputs.
  write_csv`);
- ``sav``: one SPSS file per table (pyreadstat); a coded column becomes numbers 1..n with its
  Chinese value labels (the codebooks' option labels, :mod:`mentorlib.labels`), a yes/no column
  1/0 labelled 是/否.

Nothing is added to what the processed folder holds: from a pseudonymised study the export
holds no real name or ID either. A table that is empty (a kind the study does not have) is
skipped; a year whose progress cannot be computed (no assessment) has no progress table.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd
import pyreadstat

from ..data import Processed, load_processed
from ..errors import InputError
from ..labels import (
    ACTIVITIES_ZH,
    DIMENSION_LABELS_ZH,
    EXPORT_VALUE_LABELS,
    GENDER_LABELS,
    PROGRESS_CATEGORIES,
    REASON_LABELS,
    ROLES_ZH,
    zh_of,
)
from ..outputs import neutralise_cells, prepare_output_dir, temp_dir, write_bytes, write_csv
from ..progress.change import student_progress, study_changes
from ..tables import TABLES
from .codebook import option_labels

FORMATS = ("xlsx", "sav", "csv")


def value_labels(table: str, column: str) -> dict[str, str]:
    """Chinese label of each code of a coded column (empty: not a coded column)."""
    by_column = {
        "gender": zh_of(GENDER_LABELS),
        "role": ROLES_ZH,
        "activity": ACTIVITIES_ZH,
        "family": option_labels("students", "family"),
        "subject": option_labels("staff", "subject"),
        "mode": option_labels("activities", "mode"),
        "kind": option_labels("rewards", "kind"),
        "reason": zh_of(REASON_LABELS),
        "category": zh_of(PROGRESS_CATEGORIES),
        "wave": zh_of(EXPORT_VALUE_LABELS["wave"]),
        "status": zh_of(EXPORT_VALUE_LABELS["status"]),
        "dimension": {k: v for d in DIMENSION_LABELS_ZH.values() for k, v in d.items()},
    }
    return {str(k): str(v) for k, v in by_column.get(column, {}).items()}


def export_tables(P: Processed) -> dict[str, pd.DataFrame]:
    """The tables to export: every non-empty canonical table, then ``progress_<year>``."""
    out = {t: P[t] for t in TABLES if t in P and len(P[t])}
    if "assessment_items" in out:
        for year in P.years:
            prog = student_progress(study_changes(P, year))
            if len(prog):
                out[f"progress_{year}"] = prog
    return out


def _sav_frame(df: pd.DataFrame, table: str) -> tuple[pd.DataFrame, dict[str, dict]]:
    """A frame pyreadstat can write, with the value labels of its coded columns."""
    out, labels = pd.DataFrame(index=df.index), {}
    yes_no = zh_of(EXPORT_VALUE_LABELS["bool"])
    for col in df.columns:
        s = df[col]
        if isinstance(s.dtype, pd.CategoricalDtype) or value_labels(table, col):
            codes = [
                str(c) for c in (s.cat.categories if hasattr(s, "cat") else s.dropna().unique())
            ]
            names = value_labels(table, col)
            num = {c: i for i, c in enumerate(codes, 1)}
            out[col] = (
                s.astype("object")
                .map(lambda v, m=num: m.get(str(v)) if pd.notna(v) else None)
                .astype("float64")
            )
            labels[col] = {i: names.get(c, c) for c, i in num.items()}
        elif str(s.dtype) == "boolean" or s.dtype == bool:
            out[col] = s.astype("Float64").astype("float64")
            labels[col] = {1: yes_no["1"], 0: yes_no["0"]}
        elif pd.api.types.is_numeric_dtype(s):
            out[col] = s.astype("float64")
        elif pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.astype("datetime64[ns]")
        else:
            out[col] = s.astype("object").where(s.notna(), None)
    return out, labels


def _write_sav(df: pd.DataFrame, table: str, path: Path) -> Path:
    frame, labels = _sav_frame(df, table)
    with temp_dir(path.parent, "sav") as tmp:
        pyreadstat.write_sav(frame, str(tmp / path.name), variable_value_labels=labels)
        os.replace(tmp / path.name, path)
    return path


def _xlsx_bytes(tables: dict[str, pd.DataFrame]) -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter") as xw:
        for name, df in tables.items():
            safe = neutralise_cells(df)
            for col in safe.columns:  # Excel has no categorical or nullable types
                if isinstance(safe[col].dtype, pd.CategoricalDtype):
                    safe[col] = safe[col].astype("object")
            safe.to_excel(xw, sheet_name=name[:31], index=False)
            xw.sheets[name[:31]].freeze_panes(1, 0)
    return buf.getvalue()


def export(processed: str | Path, fmt: str = "xlsx", out: str | Path | None = None) -> list[Path]:
    """Export a processed study folder; return the files written.

    Raises
    ------
    InputError
        An unknown format; ``processed`` is not a processed study; ``out`` is not a new or
        empty folder (nor an earlier export of ours).
    """
    if fmt not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    P = load_processed(processed)
    target = out if out is not None else Path(processed).with_name(f"{Path(processed).name}_export")
    root = prepare_output_dir(target, kind="reports", raw_roots=[processed], what="--out")
    tables = export_tables(P)
    if fmt == "xlsx":
        return [write_bytes(root / f"{P.name}.xlsx", _xlsx_bytes(tables))]
    if fmt == "csv":
        return [write_csv(df, root / f"{name}.csv") for name, df in tables.items()]
    return [_write_sav(df, name, root / f"{name}.sav") for name, df in tables.items()]
