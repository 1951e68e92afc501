"""The work of one school, run as one Dask task on a worker.

:func:`school_task` cleans one school's study into ``<out>/schools/<school_id>`` and runs the
per-school stages the single-school command line runs (``progress_report``, ``mentor_report``,
``compliance_report``: the same library functions), writing each stage's public JSON to
``<out>/results/<school_id>/``. It returns a small dict (paths and one summary row), never
tables. :func:`partition_task` then writes the school's tables into the district dataset.

A school's user error (an unreadable roster, a study with no post-wave data) is returned as
its one-line reason, not raised: Dask's ``retries`` are for failures that may pass (a bug is
raised and retried once, then reported); a killed worker's task is rescheduled by the
scheduler and rewrites the same files.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..clean import clean_study
from ..clean.pseudonymise import ENV_KEY
from ..errors import is_user_error
from ..outputs import atomic_write
from ..results import plain
from .messages import one_line

STAGES = ("clean", "progress", "mentors", "compliance")


@contextlib.contextmanager
def _district_key(key: str | None, key_file: str | None) -> Iterator[None]:
    """The district's pseudonym key as the environment variable for one task (the worker runs
    one task per process thread; the variable is restored after)."""
    if key is None and key_file is None:
        yield
        return
    value = key if key is not None else Path(str(key_file)).read_text(encoding="utf-8").strip()
    saved = os.environ.get(ENV_KEY)
    os.environ[ENV_KEY] = value
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(ENV_KEY, None)
        else:
            os.environ[ENV_KEY] = saved


def school_task(
    school_id: str,
    study_dir: str,
    out: str,
    *,
    stages: tuple[str, ...] = STAGES,
    year: int | None = None,
    seed: int = 0,
    key: str | None = None,
    key_file: str | None = None,
    true_share: bool = True,
) -> dict:
    """Clean one school and run its stages; return paths and a summary row (small).
    ``true_share=False``: certified verdicts only (the progress stage skips the estimate).

    Returns
    -------
    dict
        ``school_id``, ``ok`` (cleaned), ``reason`` (one line when not), ``processed`` (the
        processed folder), ``tables`` (table name -> parquet path), ``row`` (the school's
        summary: level, its own ``[rules] min_cell`` (None: none), year (given, else the school's last
        assessed), its students that year, each stage's status and headline numbers),
        ``seconds``.
    """
    t0 = time.perf_counter()
    dest = Path(out) / "schools" / school_id
    row: dict = {"school_id": school_id}
    try:
        with _district_key(key, key_file):
            res = clean_study(study_dir, dest)
    except Exception as e:
        if not is_user_error(e):
            raise  # a bug: Dask retries it, then the district reports it
        return {"school_id": school_id, "ok": False, "reason": one_line(e), "row": row}
    P = res.processed()
    y = P.report_year(year)  # the year the stages and the summary report
    row |= {
        "clean": "ok" if not res.partial else "partial",
        "pseudonymised": bool(res.meta["pseudonymised"]),
        # its own [rules] min_cell (None: it sets none): the district publishes no smaller cell
        "min_cell": P.overrides.get("min_cell"),
        "year": y,
        "n": students_of_year(res.tables["students"], y),
    }
    _run_stages(dest, Path(out) / "results" / school_id, row, stages, year, seed, true_share)
    tables = {p.stem: str(p) for p in sorted(dest.glob("*.parquet"))}
    row["seconds"] = round(time.perf_counter() - t0, 2)
    return {
        "school_id": school_id,
        "ok": True,
        "reason": "",
        "processed": str(dest),
        "tables": tables,
        "row": row,
    }


def students_of_year(students: pd.DataFrame, year: int) -> int:
    """A school's students in one school year: the roster's distinct ``student_id`` of that
    ``year`` (the roster holds a row per student and year; its other years are not counted)."""
    return int(students.loc[students["year"] == year, "student_id"].nunique())


def _run_stages(
    processed: Path, results: Path, row: dict, stages, year, seed: int, true_share: bool = True
) -> None:
    """The stages after cleaning (:mod:`.stages`, loaded only when a school runs them: a
    clean-only run's workers start without the analysis libraries)."""
    later = [s for s in stages if s != "clean"]
    if later:
        from .stages import run_stages

        run_stages(processed, results, row, later, year, seed, true_share)


def outcome_task(school_id: str, processed: str, year: int | None) -> pd.DataFrame:
    """One school's programme students with the "improved" outcome, for the district analysis
    (:func:`mentorlib.district.analysis.school_outcomes`, loaded with the stages); an empty
    frame with its reason in ``attrs["reason"]`` when the school has none."""
    from .stages import school_outcomes

    return school_outcomes(school_id, Path(processed), year)


# ----------------------------------------------------------------------------- the dataset


def plain_schema(schema: pa.Schema) -> pa.Schema:
    """A table's schema with dictionary (categorical) columns as their plain value type, so
    every school's file of a table can share one schema."""
    fields = [
        pa.field(f.name, f.type.value_type) if pa.types.is_dictionary(f.type) else f for f in schema
    ]
    return pa.schema(fields)


def partition_task(school_id: str, path: str, table: str, schema: pa.Schema, dest: str) -> str:
    """Write one school's table as ``dest/<table>/school_id=<id>/part-0.parquet`` in the
    district schema (columns another school has and this one lacks: missing)."""
    t = pq.read_table(path)
    cols = []
    for f in schema:
        if f.name in t.column_names:
            cols.append(t.column(f.name).cast(f.type))
        else:
            cols.append(pa.nulls(t.num_rows, type=f.type))
    out = pa.Table.from_arrays(cols, schema=schema)
    d = Path(dest) / table / f"school_id={school_id}"
    d.mkdir(parents=True, exist_ok=True)
    with atomic_write(d / "part-0.parquet") as f:
        pq.write_table(out, f)
    return str(d / "part-0.parquet")


def summary_frame(rows: list[dict]) -> pd.DataFrame:
    """The schools' summary rows as one table (plain values)."""
    return pd.DataFrame([{k: plain(v) for k, v in r.items()} for r in rows])
