"""Run a district: one Dask task per school, then the district dataset and summary.

Output folder (``OUT``, built beside its final place and swapped in, like a processed study)::

    OUT/
      schools/<school_id>/         each school's processed folder, as ``mentorlib clean`` writes it
      results/<school_id>/         each stage's public JSON (progress_<year>.json, ...)
      tables/<table>/school_id=<id>/part-0.parquet
                                   the district tables: one Parquet dataset per table, partitioned
                                   by school (hive layout); pandas, pyarrow, Dask and DuckDB read
                                   ``OUT/tables/<table>`` directly with ``school_id`` as a column
      district_schools.csv         one row per school: verdicts with intervals (small cells blank)
      district.json                what ran: schools, failures with their reasons, tables, and
                                   every file of the folder (``files``: :mod:`.manifest`)
      reports/                     the district summaries (a re-run keeps those it does not
                                   replace)
      .mentorlib-output            marker (kind ``district``)
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from distributed import as_completed

from ..clean.pseudonymise import ENV_KEY
from ..errors import InputError
from ..outputs import (
    DISTRICT_FORMAT,
    TMP_PREFIX,
    check_output_dir,
    make_temp_dir,
    mark_output_dir,
    replace_dir,
    write_csv,
)
from .cluster import dashboard_line, dask_client
from .config import DistrictConfig, load_district
from .manifest import check_no_foreign, keep_reports, write_meta
from .messages import one_line
from .tasks import STAGES, outcome_task, partition_task, plain_schema, school_task
from .verdicts import school_verdicts


@dataclass
class DistrictResult:
    """What a district run did (small: paths and one row per school)."""

    name: str
    out_dir: Path
    rows: list[dict]
    failed: list[dict]
    tables: dict[str, str]
    seconds: float
    dashboard: str = ""
    notes: list[str] = field(default_factory=list)
    schools: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: With ``outcomes=True``: the schools' student outcomes for the district analysis
    #: (student level, in memory only: never written), one frame per cleaned school.
    outcomes: list[pd.DataFrame] | None = None


def default_out(root: Path) -> Path:
    """data/raw/<name> -> data/processed/<name>; anything else -> ./data/processed/<name>."""
    root = Path(root).resolve()
    if root.parent.name == "raw" and root.parent.parent.name == "data":
        return root.parent.parent / "processed" / root.name
    return Path.cwd() / "data" / "processed" / root.name


def check_stages(stages) -> tuple[str, ...]:
    st = tuple(stages)
    bad = [s for s in st if s not in STAGES]
    if bad or "clean" not in st:
        raise InputError(f"stages {list(st)}: give clean plus any of {list(STAGES[1:])}")
    return st


def check_year(cfg: DistrictConfig, year: int | None) -> None:
    """Refuse a ``year`` that no school's study holds (one line naming the years they have)."""
    have = sorted({y for s in cfg.schools if s.error is None for y in s.years})
    if year is not None and have and year not in have:
        raise InputError(
            f"--year {year}: no school's study.toml lists that year (the schools' years: "
            f"{', '.join(map(str, have))})"
        )


def _not_run(s, year: int | None) -> dict | None:
    """The result of a school that is not sent to the cluster: its study.toml cannot be read
    (``failed``), or it has no ``year`` (``skipped``); None when it runs."""
    if s.error is not None:
        status, reason = "failed", s.error
    elif year is not None and year not in s.years:
        have = ", ".join(map(str, s.years))
        status, reason = "skipped", f"{year} is not one of its years in study.toml ({have})"
    else:
        return None
    return {"school_id": s.school_id, "ok": False, "status": status, "reason": reason, "row": {}}


def run_district(
    district: str | Path | DistrictConfig,
    out: str | Path | None = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    stages=STAGES,
    year: int | None = None,
    seed: int = 0,
    min_cell: int | None = None,
    on_start: Callable[[str], object] | None = None,
    progress: Callable[[str], object] | None = None,
    task: Callable = school_task,
    retries: int = 1,
    outcomes: bool = False,
    true_share: bool = True,
) -> DistrictResult:
    """Clean and judge every school of a district on Dask; write ``OUT`` (module docstring).

    ``on_start`` is called with the dashboard line once the cluster is up; ``progress`` with
    each school id as its task ends. ``task`` is the per-school function (tests wrap it).
    A school that fails is listed with its one-line reason; the others finish.
    ``outcomes``: also compute each cleaned school's student outcomes on the cluster (one task
    per school, :func:`mentorlib.district.analysis.school_outcomes`) for the district summary.
    ``true_share=False``: certified verdicts only (each school's estimated true share, the
    slowest part of a school's task, is skipped).
    """
    cfg = district if isinstance(district, DistrictConfig) else load_district(district)
    stages = check_stages(stages)
    check_year(cfg, year)
    what = "--out" if out is not None else "district output"
    dest = check_output_dir(
        Path(out) if out is not None else default_out(cfg.root),
        kind="district",
        raw_roots=[cfg.root, *(s.study_dir for s in cfg.schools)],
        what=what,
    )
    check_no_foreign(dest, what)  # a re-run replaces the folder: only if it is all ours
    t0 = time.perf_counter()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temp_dir(dest.parent, "district")
    try:
        with dask_client(scheduler, workers) as client:
            dash = dashboard_line(client)
            if on_start is not None:
                on_start(dash)
            done = _schools(
                client, cfg, tmp, task, stages, year, seed, retries, progress, true_share
            )
            ok = [d for d in done if d["ok"]]
            tables, notes = _dataset(client, ok, tmp)
            per_school = _outcomes(client, ok, tmp, year, retries) if outcomes else None
        rows, failed = _rows(cfg, done, stages)
        res = _finish(cfg, tmp, dest, rows, failed, tables, notes, stages, min_cell, what)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    res.seconds = round(time.perf_counter() - t0, 2)
    res.dashboard = dash
    res.outcomes = per_school
    return res


def _outcomes(client, ok: list[dict], tmp: Path, year, retries: int) -> list[pd.DataFrame]:
    futs = [
        client.submit(
            outcome_task,
            d["school_id"],
            str(tmp / "schools" / d["school_id"]),
            year,
            retries=retries,
            pure=False,
        )
        for d in ok
    ]
    return client.gather(futs)


def _schools(
    client, cfg, tmp: Path, task, stages, year, seed, retries, progress, true_share=True
) -> list[dict]:
    key, key_file = _key(cfg)
    done = [d for s in cfg.schools if (d := _not_run(s, year)) is not None]
    for d in done if progress is not None else []:
        progress(d["school_id"])
    futures = {
        _submit(
            client, task, s, tmp, stages, year, seed, key, key_file, retries, true_share
        ): s.school_id
        for s in cfg.schools
        if _not_run(s, year) is None
    }
    for fut in as_completed(list(futures)):
        sid = futures[fut]
        try:
            done.append(fut.result())
        except Exception as e:  # a bug (after its retries) or a worker killed too often
            done.append({"school_id": sid, "ok": False, "reason": one_line(e), "row": {}})
        if progress is not None:
            progress(sid)
    order = {s.school_id: i for i, s in enumerate(cfg.schools)}
    return sorted(done, key=lambda d: order[d["school_id"]])


def _submit(client, task, s, tmp: Path, stages, year, seed, key, key_file, retries, true_share):
    return client.submit(
        task,
        s.school_id,
        str(s.study_dir.resolve()),
        str(tmp),
        stages=stages,
        year=year,
        seed=seed,
        key=key,
        key_file=key_file,
        true_share=true_share,
        retries=retries,
        pure=False,
    )


def _key(cfg: DistrictConfig) -> tuple[str | None, str | None]:
    """The district key for the tasks: its file (read by the worker), or the variable's value
    (with ``pseudonym = "district"`` and no file); nothing under the school policy."""
    if cfg.pseudonym != "district":
        return None, None
    if cfg.key_file is not None:
        return None, str(cfg.key_file)
    return os.environ[ENV_KEY].strip(), None


def _dataset(client, ok: list[dict], tmp: Path) -> tuple[dict[str, str], list[str]]:
    """Write every table of the cleaned schools as one hive-partitioned dataset (one task per
    school and table); a table whose columns disagree in kind between schools is left out and
    said."""
    schemas: dict[str, list] = {}
    for d in ok:
        for table, path in d["tables"].items():
            sch = pq.read_schema(path)
            if len(sch):  # a table with no column (no source of it at that school)
                schemas.setdefault(table, []).append(plain_schema(sch))
    unified, notes = {}, []
    for table, lst in sorted(schemas.items()):
        try:
            unified[table] = pa.unify_schemas(lst, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            notes.append(f"table {table}: not in the district dataset ({one_line(e)})")
    dest = tmp / "tables"
    futs = [
        client.submit(partition_task, d["school_id"], path, table, unified[table], str(dest))
        for d in ok
        for table, path in d["tables"].items()
        if table in unified and len(pq.read_schema(path))
    ]
    client.gather(futs)
    return {t: str(Path("tables") / t) for t in unified}, notes


def _rows(cfg: DistrictConfig, done: list[dict], stages) -> tuple[list[dict], list[dict]]:
    """One row per school with its ``status``: ``ok`` (every stage asked for ran), ``partial``
    (cleaned, a later stage did not run: ``reason`` names each such stage and why),
    ``failed`` (not cleaned) or ``skipped`` (no such year); and the schools not cleaned."""
    by_id = {s.school_id: s for s in cfg.schools}
    rows, failed = [], []
    for d in done:
        s = by_id[d["school_id"]]
        row = {"school_id": s.school_id, "school": s.name, "level": s.level or None, **d["row"]}
        if d["ok"]:
            missed = [
                f"{st}: {row.get(st) or 'not run'}" for st in stages[1:] if row.get(st) != "ok"
            ]
            row["status"], row["reason"] = ("partial" if missed else "ok"), "; ".join(missed)
        else:
            row["status"], row["reason"] = d.get("status", "failed"), d["reason"]
            failed.append(
                {"school_id": s.school_id, "status": row["status"], "reason": d["reason"]}
            )
        rows.append(row)
    return rows, failed


def _finish(cfg, tmp: Path, dest: Path, rows, failed, tables, notes, stages, min_cell, what):
    """Remove what killed tasks left, write the summary files, carry the previous run's
    reports over, swap the folder in (still only if nothing foreign came into it meanwhile)."""
    for sub in ("schools", "results", "tables"):
        for left in (tmp / sub).rglob(f"{TMP_PREFIX}*") if (tmp / sub).is_dir() else []:
            shutil.rmtree(left, ignore_errors=True) if left.is_dir() else left.unlink()
    schools = school_verdicts(rows, min_cell=min_cell)
    write_csv(schools, tmp / "district_schools.csv")
    meta = {
        "format": DISTRICT_FORMAT,
        "name": cfg.name,
        "stages": list(stages),
        "schools": [r["school_id"] for r in rows],
        "failed": failed,
        "tables": tables,
        "pseudonym": cfg.pseudonym,
        "notes": [*cfg.notes, *notes],
    }
    check_no_foreign(dest, what)
    keep_reports(dest, tmp)
    mark_output_dir(tmp, "district")
    write_meta(tmp, meta)
    replace_dir(tmp, dest)
    return DistrictResult(
        cfg.name, dest, rows, failed, tables, 0.0, notes=meta["notes"], schools=schools
    )
