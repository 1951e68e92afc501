"""Clean a study folder into canonical tables, losing nothing (``mentorlib clean``).

Flow for every source listed in ``study.toml``: read the file (:mod:`mentorlib.io.readers`),
find its header row, match headers to the source's codebook, decode every field by its type
(:mod:`mentorlib.clean.decode`, :mod:`mentorlib.clean.normalise`), link each row to a student
on the roster (:mod:`mentorlib.clean.link`), merge repeated submissions
(:mod:`mentorlib.clean.dedupe`), quarantine what cannot be trusted, cast to the table contract
(:mod:`mentorlib.tables`), validate (:mod:`mentorlib.clean.validate`, pandera, lazily), and
write the tables with the cleaning log, the quarantine and a per-source summary.

Every input row ends as exactly one of: ``kept``, ``merged`` (a repeated submission, with a
pointer to the row it merged into) or ``quarantined`` (with a reason); blank rows are counted
apart. Every changed cell is in the cleaning log (source, sheet, row, column, old, new, rule);
a column decoded wholesale by its codebook (labels to codes) is logged once for the column.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import Processed
from ..errors import InputError, reason_without_file
from ..io.codebook import CodebookError, load_codebook
from ..io.study import Source, load_config
from ..outputs import (
    PROCESSED_FORMAT,
    check_output_dir,
    make_temp_dir,
    replace_dir,
    write_csv,
    write_text,
)
from ..rules import rulebook
from ..tables import TABLES, conform
from .context import Context, Sheet
from .link import index_roster
from .log import concat_compact
from .pseudonymise import header_kind, load_key, pseudonymise_outputs
from .sources import CLEANERS, open_source, read_source
from .validate import quarantine_failures

#: The order sources are read in: the rosters first (every other source links to them).
ORDER = (
    "students",
    "staff",
    "groups",
    "needs_survey",
    "assessment",
    "satisfaction",
    "exams",
    "activities",
    "rewards",
    "mood",
)
QUARANTINE_COLUMNS = ["source", "sheet", "row", "kind", "reason", "detail", "raw"]


# ----------------------------------------------------------------------------- assembling


def _finish_tables(ctx: Context) -> dict[str, pd.DataFrame]:
    out = {}
    for t in TABLES:
        parts = [pd.read_parquet(x) if isinstance(x, Path) else x for x in ctx.parts.get(t, [])]
        out[t] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        ctx.parts[t] = []
    s = out["students"]
    if len(s):
        s["mentee"] = s["mentee"].astype(object)
        if ctx.cfg.level == "primary":
            s["mentee"] = s["mentee"].where(s["mentee"].notna(), True)
        else:
            a = out["assignments"]
            assigned = set(zip(a["student_id"], a["year"], strict=True)) if len(a) else set()
            s["mentee"] = s["mentee"].where(
                s["mentee"].notna(),
                pd.Series(
                    [(i, y) in assigned for i, y in zip(s["student_id"], s["year"], strict=True)]
                ),
            )
        out["students"] = s.sort_values(
            ["year", "grade", "class_no", "student_id"], ignore_index=True
        )
    m = out["mood"]
    if len(m):
        # a school day is a day someone put a sticker on the chart that month
        days = m.groupby("month")["_days"].apply(
            lambda v: int(np.bitwise_or.reduce(v.to_numpy(dtype=np.int64))).bit_count()
        )
        m.insert(3, "school_days", m["month"].map(days).astype(int))
        out["mood"] = m.drop(columns="_days")
    return {name: conform(name, df) for name, df in out.items()}


def _pseudonymise(ctx: Context, res: dict, key: bytes) -> dict:
    """Pseudonymise everything the cleaning writes (:mod:`mentorlib.pseudonymise`).

    ``res`` holds the canonical ``tables`` (changed in place) and the ``log``, ``row_status``,
    ``quarantine``, ``summary`` and ``validation`` frames; returns those frames scrubbed, and
    ``study_text``: the ``[study] school`` text scrubbed (for ``study.json`` and the reports)."""
    kinds: dict[tuple[str, str], str | None] = {}
    for sh in ctx.sheets:
        for var, j in sh.cm.single.items():
            t = sh.cb.field(var).type if sh.cb.has(var) else None
            k = t if t in ("student_id", "name", "staff_name", "staff_choice") else None
            k = "birth_date" if var == "birth_date" else k
            kinds[(sh.rs.file, sh.rs.header[j])] = k or header_kind(sh.rs.header[j])
        for var, j in sh.cm.system.items():
            if var in ("ip", "channel_detail"):
                kinds[(sh.rs.file, sh.rs.header[j])] = "drop"
    frames = {k: res[k] for k in ("log", "row_status", "quarantine", "summary", "validation")}
    return pseudonymise_outputs(
        res["tables"],
        key=key,
        column_kinds=kinds,
        study_text={"school": ctx.cfg.school or ""},
        **frames,
    )


@dataclass
class CleanResult:
    """What ``clean_study`` produced: the canonical tables and the full account of the cleaning."""

    tables: dict[str, pd.DataFrame]
    log: pd.DataFrame
    quarantine: pd.DataFrame
    row_status: pd.DataFrame
    summary: pd.DataFrame
    meta: dict
    validation: pd.DataFrame = field(default_factory=pd.DataFrame)
    out_dir: Path | None = None
    #: study-local codebooks: their name in the processed folder -> the study's file
    codebook_files: dict[str, Path] = field(default_factory=dict)

    @property
    def partial(self) -> bool:
        """True when some source could not be read (the rest were cleaned)."""
        return bool(self.meta.get("partial", False))

    @property
    def failed_sources(self) -> list[dict]:
        """Every source not read: ``{"path", "kind", "reason"}`` (also in ``study.json``)."""
        return list(self.meta.get("failed_sources", []))

    def processed(self) -> Processed:
        """The canonical tables as a :class:`~mentorlib.data.Processed` (with the study's rules)."""
        m = self.meta
        codebooks = dict(m["codebooks"])
        if self.out_dir is None:  # not written: a study-local codebook is still the study's file
            codebooks = {k: str(self.codebook_files.get(v, v)) for k, v in codebooks.items()}
        return Processed(
            name=m["name"],
            level=m["level"],
            years=tuple(m["years"]),
            tables=self.tables,
            codebooks=codebooks,
            root=self.out_dir,
            school=m.get("school", ""),
            pseudonymised=m["pseudonymised"],
            synthetic=bool(m.get("synthetic", False)),
            overrides=dict(m.get("rules", {})),
        )


def clean_study(
    study_dir: str | Path,
    out_dir: str | Path | None = None,
    *,
    attention: str = "quarantine",
    reader: str = "calamine",
    progress: Callable[[str], object] | None = None,
    strict: bool = False,
) -> CleanResult:
    """Clean a study folder into canonical tables (and write them when ``out_dir`` is given).

    Parameters
    ----------
    study_dir : path
        The raw study folder with its ``study.toml``. Never written to.
    out_dir : path, optional
        Where to write (``data/processed/<study>``): the canonical tables as Parquet,
        ``cleaning_log.parquet``, ``quarantine.parquet``, ``row_status.parquet``,
        ``source_summary.csv`` and ``study.json`` (which carries the study's ``[rules]``).
        Written to a temporary folder first and moved into place, so a failed run leaves no
        half-written output.
    attention : {"quarantine", "flag", "ignore"}
        What to do with a failed attention check.
    reader : {"calamine", "openpyxl"}
        The xlsx reader.
    progress : callable, optional
        Called with each source path as it is done.
    strict : bool
        Stop at the first source that cannot be read or matched. By default such a source is
        listed (:attr:`CleanResult.failed_sources`, ``study.json`` ``partial`` and
        ``failed_sources``), its rows are counted as ``not_read`` in the summary, and every
        other source is cleaned.

    Returns
    -------
    CleanResult

    Raises
    ------
    InputError
        No student roster could be read (every other source links to it); with ``strict``,
        the first source that cannot be read.
    """
    t0 = time.perf_counter()
    cfg = load_config(study_dir)
    if attention not in ("quarantine", "flag", "ignore"):
        raise ValueError("attention must be 'quarantine', 'flag' or 'ignore'")
    ctx = Context(cfg=cfg, rules=rulebook(cfg.level, cfg.rules), attention=attention, reader=reader)
    ctx.strict = strict
    if out_dir is not None:  # refused before any work: never replace what we did not write
        out_dir = check_output_dir(out_dir, kind="processed", raw_roots=(study_dir,))
    # spill beside the output (same file system), or in the system temporary folder
    ctx.spill_dir = make_temp_dir(None if out_dir is None else out_dir.parent, "spill")
    try:
        res = _clean(ctx, progress)
        res.meta["seconds"] = round(time.perf_counter() - t0, 2)
    finally:
        shutil.rmtree(ctx.spill_dir, ignore_errors=True)
    if out_dir is not None:
        res.out_dir = write_processed(res, out_dir)
    return res


def _clean(ctx: Context, progress) -> CleanResult:
    """Read every source, then assemble, validate and (with a key) pseudonymise the outputs."""
    cfg = ctx.cfg
    key = load_key(cfg)
    codebooks = _read_sources(ctx, progress)
    tables = _finish_tables(ctx)
    validation = quarantine_failures(ctx, tables, cfg)
    frames: dict = {
        "tables": tables,
        "log": ctx.log.frame(),
        "row_status": concat_compact([s.frame() for s in ctx.statuses]),
        "quarantine": _quarantine(ctx),
        "summary": _summary(ctx),  # after validation
        "validation": validation,
    }
    school = cfg.school
    paths = {p: p for p in frames["summary"]["source"]}  # a source's path as the outputs name it
    if key:  # the whole folder: tables, log, quarantine, row status, summary, failures
        done = _pseudonymise(ctx, frames, key)
        paths = dict(zip(frames["summary"]["source"], done["summary"]["source"], strict=True))
        frames.update({k: done[k] for k in ("log", "row_status", "quarantine", "summary")})
        frames["validation"] = done["validation"]
        school = done["study_text"]["school"]
    meta = _meta(ctx, codebooks, frames, school=school, pseudonymised=bool(key))
    for m in meta["sources"]:  # scrubbed as in every other output (a name in a file name)
        m["path"] = paths.get(m["path"])
    files = {v: cfg.root / src for v, src in ctx.codebook_files.items()}
    return CleanResult(
        codebook_files=files,
        tables=tables,
        log=frames["log"],
        quarantine=frames["quarantine"],
        row_status=frames["row_status"],
        summary=frames["summary"],
        meta=meta,
        validation=frames["validation"],
    )


def _read_sources(ctx: Context, progress) -> dict[str, str]:
    """Clean every source, rosters first; returns the codebook of each kind of source.

    A source that cannot be read or matched is listed in ``ctx.failed`` and the rest are
    cleaned (unless ``ctx.strict``); without a student roster nothing can be linked: that stops
    the study."""
    codebooks: dict[str, str] = {}
    for src in sorted(ctx.cfg.sources, key=lambda s: ORDER.index(s.kind)):
        if src.kind not in ("students", "staff") and ctx.roster is None:
            _index_rosters(ctx)
        try:
            _read_source(ctx, src)
        except (InputError, CodebookError) as e:
            if ctx.strict and isinstance(e, CodebookError):  # the user's file: a user error
                raise InputError(str(e), file="study.toml") from None
            if ctx.strict:
                raise
            ctx.failed.append(_failure(ctx, src, e))
        else:
            codebooks.setdefault(src.kind, _codebook_used(ctx, src))
        if progress:
            progress(src.path)
    if not ctx.parts.get("students"):
        _index_rosters(ctx)  # raises: no roster
    return codebooks


def _read_source(ctx: Context, src: Source) -> None:
    """Clean one source; on failure, forget what it emitted (its rows are all ``not_read``)."""
    n_st, n_sh, n_log = len(ctx.statuses), len(ctx.sheets), len(ctx.log.chunks)
    n_parts = {t: len(v) for t, v in ctx.parts.items()}
    try:
        for sh in open_source(ctx, src):
            CLEANERS[src.kind](ctx, sh)
            sh.st.keep_raw_of_quarantined()
            ctx.sheets.append(sh)
    except (InputError, CodebookError):
        del ctx.statuses[n_st:], ctx.sheets[n_sh:], ctx.log.chunks[n_log:]
        for t, v in ctx.parts.items():
            del v[n_parts.get(t, 0) :]
        raise


def _codebook_used(ctx: Context, src: Source) -> str:
    """The codebook a source was read with, as ``study.json`` names it: a built-in name, or a
    study-local file copied into the processed folder (``codebooks/<name>.toml``)."""
    if not src.codebook.endswith(".toml"):
        return src.codebook
    for name, path in ctx.codebook_files.items():
        if path == src.codebook:
            return name
    stem, k = Path(src.codebook).stem, 1
    name = f"codebooks/{stem}.toml"
    while name in ctx.codebook_files:  # two study files of the same name
        k += 1
        name = f"codebooks/{stem}_{k}.toml"
    ctx.codebook_files[name] = src.codebook
    return name


def _failure(ctx: Context, src: Source, e: Exception) -> dict:
    """A failed source: its path, kind, one-line reason and the rows it had (None: unknown)."""
    msg = reason_without_file(e, src.path, ctx.cfg.root / src.path, "study.toml")
    return {"path": src.path, "kind": src.kind, "reason": msg, "rows_in": _count_rows(ctx, src)}


def _count_rows(ctx: Context, src: Source) -> int | None:
    """Rows of a source that failed: the non-blank rows below the first of each sheet."""
    try:
        sheets = read_source(ctx, src)
    except (InputError, OSError):
        return None
    n = 0
    for _, cells, _ in sheets:
        filled = int(cells.notna().any(axis=1).sum()) if len(cells) else 0
        n += max(filled - 1, 0)
    return n


def _index_rosters(ctx: Context) -> None:
    """The student and staff lookups every later source links to."""
    st = ctx.parts.get("students")
    if not st:
        failed = [f"{f['path']} ({f['reason']})" for f in ctx.failed if f["kind"] == "students"]
        raise InputError(
            "no student roster could be read: every other source links to it"
            + (f"; failed: {'; '.join(failed)}" if failed else " (no students source listed)"),
            file="study.toml",
        )
    ctx.roster = index_roster(ctx, pd.concat(st, ignore_index=True))
    staff = pd.concat(
        ctx.parts.get("staff", [pd.DataFrame(columns=["staff_id", "year", "name", "subject"])])
    )
    for y, g in staff.groupby("year"):
        ctx.staff_ids[int(y)] = set(g["staff_id"])
    for sid, y, nm, subj in zip(
        staff["staff_id"], staff["year"], staff["name"], staff["subject"], strict=True
    ):
        ctx.staff_by_name.setdefault((y, nm), []).append((sid, subj))


def _quarantine(ctx: Context) -> pd.DataFrame:
    qparts = [q for s in ctx.statuses if len(q := s.quarantine_frame())]
    if not qparts:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    return pd.concat(qparts, ignore_index=True)


def _meta(ctx: Context, codebooks: dict, frames: dict, *, school: str, pseudonymised: bool):
    """What ``study.json`` says of the cleaning (with the study's own ``[rules]``)."""
    cfg, summary = ctx.cfg, frames["summary"]
    failed = {f["path"] for f in ctx.failed}
    cols = ["rows_in", "kept", "merged", "quarantined", "not_read"]
    rows = summary[cols].sum() if len(summary) else {}
    return {
        "name": cfg.name,
        "school": school,
        "level": cfg.level,
        "years": list(cfg.years),
        "codebooks": codebooks,
        "pseudonymised": pseudonymised,
        "synthetic": cfg.synthetic,
        "rules": dict(cfg.rules),
        "attention": ctx.attention,
        "reader": ctx.reader,
        "schema_failures": int(len(frames["validation"])),
        "seconds": 0.0,
        "rows": {k: int(v) for k, v in dict(rows).items()},
        "sources": [_source_meta(ctx, src, failed) for src in cfg.sources],
        "partial": bool(ctx.failed),
        "failed_sources": _failed_sources(summary),
    }


def _source_meta(ctx: Context, src: Source, failed: set[str]) -> dict:
    """A source in ``study.json``: its path, kind, the codebook it was read with (and the
    version of it in force in the source's year, None for the questionnaire as first
    written), whether read."""
    read = src.path not in failed
    try:
        version = load_codebook(src.codebook, base=ctx.cfg.root).version_of(src.year)
    except CodebookError:
        version = None
    return {
        "path": src.path,
        "kind": src.kind,
        "codebook": _codebook_used(ctx, src) if read else src.codebook,
        "codebook_version": version,
        "read": read,
    }


def _failed_sources(summary: pd.DataFrame) -> list[dict]:
    """The failed sources as the summary holds them (scrubbed when pseudonymised)."""
    if "error" not in summary.columns:
        return []
    bad = summary[summary["error"].notna()]
    return [
        {"path": str(p), "kind": str(k), "reason": str(r)}
        for p, k, r in zip(bad["source"], bad["kind"], bad["error"], strict=True)
    ]


def _summary(ctx: Context) -> pd.DataFrame:
    """One row per sheet read and one per source that failed (its rows all ``not_read``)."""
    rows = [_summary_row(sh) for sh in ctx.sheets]
    for f in ctx.failed:
        n = pd.NA if f["rows_in"] is None else f["rows_in"]
        rows.append(
            {
                "source": f["path"],
                "sheet": None,
                "kind": f["kind"],
                "rows_in": n,
                "kept": 0,
                "merged": 0,
                "quarantined": 0,
                "not_read": n,
                "blank_rows": 0,
                "encoding": None,
                "platform": None,
                "header_row": pd.NA,
                "columns_ignored": 0,
                "error": f["reason"],
            }
        )
    df = pd.DataFrame(rows)
    for c in ("rows_in", "not_read", "header_row"):
        if c in df.columns:
            df[c] = df[c].astype("Int64")
    return df


def _summary_row(sh: Sheet) -> dict:
    st = sh.st.status
    return {
        "source": sh.rs.file,
        "sheet": sh.rs.sheet,
        "kind": sh.src.kind,
        "rows_in": sh.rs.n,
        "kept": int((st == "kept").sum()),
        "merged": int((st == "merged").sum()),
        "quarantined": int((st == "quarantined").sum()),
        "not_read": 0,
        "blank_rows": sh.rs.blank_rows,
        "encoding": sh.rs.encoding,
        "platform": sh.rs.platform,
        "header_row": sh.rs.header_row,
        "columns_ignored": len(sh.cm.unmatched),
        "error": None,
    }


def write_processed(res: CleanResult, out_dir: str | Path) -> Path:
    """Write a clean result atomically: a temporary sibling folder, then one rename.

    ``out_dir`` must be new, empty or a processed folder written before
    (:func:`mentorlib.outputs.check_output_dir`); ``study.json`` carries the format tag that
    marks it as ours, and the study's ``[rules]`` (:func:`mentorlib.data.load_processed`).
    """
    out = check_output_dir(out_dir, kind="processed")
    tmp = make_temp_dir(out.parent, "processed")
    try:
        for name, df in res.tables.items():
            df.to_parquet(tmp / f"{name}.parquet", index=False)
        conform("cleaning_log", res.log).to_parquet(tmp / "cleaning_log.parquet", index=False)
        q = conform("quarantine", res.quarantine)
        q.to_parquet(tmp / "quarantine.parquet", index=False)
        rs = res.row_status.astype({"merged_into": "str", "detail": "str", "reason": "str"})
        rs.to_parquet(tmp / "row_status.parquet", index=False)
        write_csv(res.summary, tmp / "source_summary.csv")
        for name, src in res.codebook_files.items():  # study-local codebooks travel along
            (tmp / name).parent.mkdir(exist_ok=True)
            shutil.copyfile(src, tmp / name)
        if len(res.validation):
            res.validation.astype(str).to_parquet(tmp / "validation_failures.parquet", index=False)
        # every entry, folders too: check_output_dir knows the folder as ours by this list
        files = sorted(f.relative_to(tmp).as_posix() for f in tmp.rglob("*")) + ["study.json"]
        meta = {"format": PROCESSED_FORMAT, **res.meta, "files": files}
        write_text(tmp / "study.json", json.dumps(meta, ensure_ascii=False, indent=2) + "\n")
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def load_study(study_dir: str | Path, **kwargs) -> Processed:
    """Clean a study folder in memory and return its canonical tables (a ``Processed``)."""
    return clean_study(study_dir, **kwargs).processed()
