"""Safe writing: one home for every file and folder mentorlib writes.

Promises
--------
- **Never replace what we did not write.** Every output folder carries a marker: a processed
  study its ``study.json`` with ``"format": "mentorlib-processed/1"``, a reports folder a small
  ``.mentorlib-output`` JSON file with its ``kind``, a synthetic study its ``truth/`` folder
  (and only files the generator writes: :func:`foreign_in_synth`).
  :func:`check_output_dir` refuses, with one line, an existing folder that is not empty and not
  ours (of that kind), a folder equal to, inside or above a raw study folder (one holding a
  ``study.toml``), the current folder or one above it, a symbolic link and an existing file.
  An *empty* existing folder is accepted (nothing can be lost). Folders written before the
  markers existed are recognised by their shape (see :func:`is_ours`).
- **Atomic.** A file is written to a temporary name in its own folder, flushed to disk and
  renamed over the final name (:func:`atomic_write`), so a full disk or a kill never leaves a
  truncated file under the final name. A folder is built beside its final place and swapped in
  (:func:`replace_dir`).
- **Temporary files live beside the output** (same file system), are named
  ``.mentorlib-tmp-<pid>-<purpose>-<random>``, are removed on normal exit and on exceptions
  (the command line turns SIGTERM and SIGHUP into ``SystemExit`` so ``finally`` blocks run), and
  every run removes stale ones it finds (:func:`sweep_stale`: the process that made them is gone,
  or they are older than :data:`STALE_HOURS`), so even ``kill -9`` leaves nothing for long.
  Cleaning in memory (no output folder) spills to the system temporary folder, under the same
  names.
- **No formula injection.** Every CSV/xlsx cell of text that starts with ``=``, ``+``, ``-``,
  ``@``, a tab or a carriage return is prefixed with ``'`` (:func:`neutralise_cells`, OWASP's
  rule), so a spreadsheet shows it as text instead of running it.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import shutil
import tempfile
import time
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd

from .errors import InputError

PROCESSED_FORMAT = "mentorlib-processed/1"
#: A district output's ``district.json`` (its ``format``, and ``files``: every file it holds).
DISTRICT_META = "district.json"
DISTRICT_FORMAT = "mentorlib-district/1"
#: The key of ``study.json`` and ``district.json`` listing every file of the output folder.
FILES_KEY = "files"
#: How many files a refusal names.
SHOWN_FILES = 5
OUTPUT_FORMAT = "mentorlib-output/1"
MARKER = ".mentorlib-output"
TMP_PREFIX = ".mentorlib-tmp-"
STALE_HOURS = 12.0
#: ``district``: a district run's output (mentorlib.district); ``district_synth``: a synthetic
#: district folder (its schools are synthetic studies); both marked with ``.mentorlib-output``.
KINDS = ("processed", "reports", "synth", "district", "district_synth")

_TMP_RE = re.compile(r"^\.mentorlib-tmp-(\d+)-")
# files of a reports folder written before the marker existed (reports/<study>/ of older runs)
_LEGACY_REPORT_FILE = re.compile(
    r"^(年度总结|三年试点评估报告|annual_summary|pilot_review)_.*\.(docx|html|md|png)$"
    r"|^(progress|mentors)_\d{4}\.json$|^grouping_policies_\d{4}\.csv$"
)


# ----------------------------------------------------------------------------- markers


def is_ours(path: str | Path, kind: str) -> bool:
    """Whether ``path`` is an output folder mentorlib wrote, of this ``kind``.

    Parameters
    ----------
    path : path
        An existing folder.
    kind : {"processed", "reports", "synth", "district", "district_synth"}
        ``processed``: ``study.json`` with ``"format": "mentorlib-processed/1"`` and no file
        beside it that its ``files`` list does not name (or, written before the tag, a ``study.json`` with the cleaner's keys beside ``cleaning_log.parquet``).
        ``reports``: a ``.mentorlib-output`` marker of kind ``reports`` (or, before the marker,
        only files named as the report writers name them). ``synth``: a ``study.toml`` saying
        ``synthetic = true`` beside ``truth/params.json``, and no file in the folder that the
        generator did not write (see :func:`foreign_in_synth`). ``district``: a
        ``.mentorlib-output`` marker of that kind beside a ``district.json`` of the district
        format, and no file in the folder that its ``files`` list does not name (or, written
        before the list, no file not named as a run names them: :func:`foreign_in_district`).
        ``district_synth``: a ``.mentorlib-output`` marker of that kind.

    Returns
    -------
    bool
    """
    p = Path(path)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    if kind == "processed":
        meta = _read_json(p / "study.json")
        if meta.get("format") == PROCESSED_FORMAT:  # and nothing in it that we did not write
            listed = meta.get(FILES_KEY)
            return not isinstance(listed, list) or {f.name for f in p.iterdir()} <= set(listed)
        return {"name", "codebooks", "pseudonymised"} <= set(meta) and (
            p / "cleaning_log.parquet"
        ).is_file()
    if kind == "synth":
        return foreign_in_synth(p) is None
    marker = _read_json(p / MARKER)
    if marker:
        marked = marker.get("kind") == kind and marker.get("format") == OUTPUT_FORMAT
        if kind != "district" or not marked:
            return marked
        meta = _read_json(p / DISTRICT_META)  # and nothing in it that we did not write
        return meta.get("format") == DISTRICT_FORMAT and not foreign_in_district(p)
    if kind == "reports":  # before the marker: only files named as the report writers name them
        files = [f for f in p.rglob("*") if f.is_file()]
        return bool(files) and all(
            _LEGACY_REPORT_FILE.match(f.name)
            or (f.suffix == ".png" and f.parent.name.endswith("_figures"))
            for f in files
        )
    return False


def output_files(root: str | Path) -> list[str]:
    """Every file (and symbolic link) under ``root`` as a relative POSIX path, sorted;
    mentorlib's temporaries left out. Links are never followed."""
    root = Path(root)
    out = []
    for here, dirs, files in os.walk(root):
        base = Path(here)
        links = [d for d in dirs if (base / d).is_symlink()]
        dirs[:] = [d for d in dirs if d not in links and not d.startswith(TMP_PREFIX)]
        for name in [*files, *links]:
            if not name.startswith(TMP_PREFIX):
                out.append((base / name).relative_to(root).as_posix())
    return sorted(out)


# the names a district run gives its files (folders written before the files list existed)
_DISTRICT_FILE = re.compile(
    r"^(district\.json|district_schools\.csv|\.mentorlib-output)$"
    r"|^results/[^/]+/(progress|mentors|compliance)_\d{4}\.json$"
    r"|^tables/[^/]+/school_id=[^/]+/part-0\.parquet$"
    r"|^reports/(\.mentorlib-output|(区域总结_\d+学年|district_summary_\d+)\.(docx|html|md))$"
    r"|^reports/(区域总结_\d+学年|district_summary_\d+)_figures/[^/]+\.png$"
)


def foreign_in_district(path: str | Path) -> list[str]:
    """The files of a would-be district output that mentorlib did not write.

    A district run lists every file it writes in ``district.json``'s ``files`` (its summaries
    are added after, :func:`mentorlib.district.manifest.record_files`); a folder written before
    the list existed is judged by its files' names, as a run names them (a school's processed
    files by its ``study.json`` list).

    Parameters
    ----------
    path : path
        An existing folder.

    Returns
    -------
    list of str
        The other files (relative POSIX paths, :func:`output_files`), in order; empty when
        every file is mentorlib's.
    """
    p = Path(path)
    listed = _read_json(p / DISTRICT_META).get(FILES_KEY)
    if isinstance(listed, list):
        ours = {str(x) for x in listed}
        return [f for f in output_files(p) if f not in ours]
    return [f for f in output_files(p) if not (_DISTRICT_FILE.match(f) or _school_file(p, f))]


def _school_file(out: Path, rel: str) -> bool:
    """A file of a district's school's processed folder that its ``study.json`` lists."""
    parts = rel.split("/")
    if len(parts) != 3 or parts[0] != "schools":
        return False
    listed = _read_json(out / parts[0] / parts[1] / "study.json").get(FILES_KEY)
    return isinstance(listed, list) and parts[2] in listed


# the generator's file names (mentorlib.synth.export: plan_files and _write_truth)
_SYNTH_SOURCE = re.compile(
    r"^(roster|groups|surveys|exams|records)/[^/]+_\d{4}学年[^/]*\.(xlsx|csv)$"
)
_SYNTH_TRUTH = re.compile(
    r"^truth/(params\.json|README\.md|manifest_summary\.csv|[a-z_]+\.parquet"
    r"|canonical/[a-z_]+\.parquet)$"
)


def foreign_in_synth(path: str | Path) -> str | None:
    """The first file in a would-be synthetic study folder that the generator did not write.

    The generator writes ``study.toml`` (saying ``synthetic = true``), the raw files its
    ``[[sources]]`` list (named ``<folder>/<name>_<year>学年....xlsx|csv``) and ``truth/`` (its
    parameters, answer key and manifest). Anything else (a file of the user's, a symbolic link,
    a source file the ``study.toml`` does not list) means the folder is not only ours.

    Parameters
    ----------
    path : path
        An existing folder.

    Returns
    -------
    str or None
        None when every file is the generator's; otherwise a description of one other file
        (its path relative to the folder), or of the missing marker.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> foreign_in_synth(d)
    'no study.toml saying synthetic = true beside truth/params.json'
    """

    p = Path(path)
    no_marker = "no study.toml saying synthetic = true beside truth/params.json"
    toml = p / "study.toml"
    if toml.is_symlink() or not toml.is_file() or not (p / "truth" / "params.json").is_file():
        return no_marker
    try:
        cfg = tomllib.loads(toml.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return no_marker
    study = cfg.get("study")
    if not isinstance(study, dict) or study.get("synthetic") is not True:
        return no_marker
    sources = cfg.get("sources")
    listed = {
        s["path"]
        for s in (sources if isinstance(sources, list) else [])
        if isinstance(s, dict) and isinstance(s.get("path"), str)
    }
    for root, dirs, files in os.walk(p):  # never follows a symbolic link
        for name in sorted(dirs) + sorted(files):
            full = Path(root) / name
            rel = full.relative_to(p).as_posix()
            if full.is_symlink():
                return rel
            if name in dirs:
                continue
            if (
                rel == "study.toml"
                or (rel in listed and _SYNTH_SOURCE.match(rel))
                or _SYNTH_TRUTH.match(rel)
                or (Path(root) == p and (name == MARKER or _TMP_RE.match(name)))
            ):
                continue
            return rel
    return None


def processed_root(path: str | Path) -> Path | None:
    """The mentorlib processed study folder that ``path`` is in or equals, if any.

    A processed folder is one whose ``study.json`` carries ``"format": "mentorlib-processed/1"``
    (or, written before the tag, the cleaner's keys beside ``cleaning_log.parquet``).
    """
    p = Path(path).resolve()
    for d in (p, *p.parents):
        meta = _read_json(d / "study.json") if (d / "study.json").is_file() else {}
        if meta.get("format") == PROCESSED_FORMAT or (
            {"name", "codebooks", "pseudonymised"} <= set(meta)
            and (d / "cleaning_log.parquet").is_file()
        ):
            return d
    return None


def mark_output_dir(path: str | Path, kind: str) -> None:
    """Write the ``.mentorlib-output`` marker of an output folder (atomically)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    text = json.dumps({"format": OUTPUT_FORMAT, "kind": kind, "writer": "mentorlib"}) + "\n"
    with atomic_write(Path(path) / MARKER, "w", encoding="utf-8") as f:
        f.write(text)


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def raw_study_root(path: str | Path) -> Path | None:
    """The raw study folder (one holding ``study.toml``) that ``path`` is in or equals, if any."""
    p = Path(path).resolve()
    for d in (p, *p.parents):
        if (d / "study.toml").is_file():
            return d
    return None


# ----------------------------------------------------------------------------- checks


def check_output_dir(
    path: str | Path, *, kind: str, raw_roots: Iterable[str | Path] = (), what: str = "--out"
) -> Path:
    """Refuse an output folder that writing could damage; return it resolved.

    Parameters
    ----------
    path : path
        The folder about to be written (created, or replaced when it is ours).
    kind : {"processed", "reports", "synth", "district", "district_synth"}
        What will be written; an existing folder must be ours of this kind (or empty).
    raw_roots : iterable of path
        Raw study folders the command reads (beside any folder with a ``study.toml``, which is
        always protected).
    what : str
        How the message names the folder (``--out``, ``OUT``).

    Returns
    -------
    Path
        ``path`` made absolute (symbolic links in its parents resolved).

    Raises
    ------
    InputError
        One line: an existing file; a symbolic link; the current folder or one above it; a
        folder equal to, inside or above a raw study folder; an existing non-empty folder that is
        not a mentorlib output of this kind.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    given = Path(path)
    if given.is_symlink():
        _refuse(what, given, "it is a symbolic link")
    out = given.resolve()
    if out.exists() and not out.is_dir():
        _refuse(what, given, "it is an existing file, not a folder")
    cwd = Path.cwd().resolve()
    if out == cwd or out in cwd.parents:
        _refuse(what, given, "it is the current folder or contains it")
    for raw in raw_roots:
        r = Path(raw).resolve()
        if out == r or out in r.parents:
            _refuse(what, given, f"it is or contains the raw study folder {raw}")
        if r in out.parents:
            _refuse(what, given, f"it is inside the raw study folder {raw}")
    inside = raw_study_root(out.parent)
    if inside is not None:
        _refuse(what, given, f"it is inside the raw study folder {inside}")
    if out.is_dir() and any(out.iterdir()):
        if kind != "synth" and (out / "study.toml").is_file():
            _refuse(what, given, "it is a raw study folder (it holds study.toml)")
        if kind == "synth":
            foreign = foreign_in_synth(out)
            if foreign is not None:
                _refuse(
                    what,
                    given,
                    f"the folder exists and is not only a synthetic study mentorlib wrote "
                    f"({foreign}); nothing is replaced that mentorlib did not write, so choose a "
                    "new or empty folder",
                )
        elif kind == "district" and (others := foreign_in_district(out)):
            refuse_foreign(what, given, others)
        elif not is_ours(out, kind):
            _refuse(
                what,
                given,
                f"the folder exists, is not empty and is not a mentorlib {kind} output "
                "(nothing is replaced that mentorlib did not write; choose a new or empty folder)",
            )
    return out


def prepare_output_dir(
    path: str | Path, *, kind: str, raw_roots: Iterable[str | Path] = (), what: str = "--out"
) -> Path:
    """:func:`check_output_dir`, then create the folder and mark it as ours; return it.

    For folders filled file by file (reports); a processed study or a synthetic study is built
    in a temporary folder and swapped in instead (:func:`replace_dir`).
    """
    out = check_output_dir(path, kind=kind, raw_roots=raw_roots, what=what)
    out.mkdir(parents=True, exist_ok=True)
    if not (out / MARKER).is_file():
        mark_output_dir(out, kind)
    return out


def check_output_file(
    path: str | Path,
    *,
    header: Iterable[str] | None = None,
    what: str = "--out",
    place_only: bool = False,
) -> Path:
    """Refuse a file target that writing could damage; return it resolved.

    A new file is fine. An existing file is replaced only when it is a CSV this command wrote
    before: its first line is exactly the header about to be written (``header``). Anything else
    is refused with one line: a name that is a folder (``.``, ``..``, ``/``, an existing folder),
    another file, a symbolic link, a file inside a raw study folder or inside a processed study
    folder (whose ``study.json`` lists every file in it).

    Parameters
    ----------
    path : path
        The file about to be written.
    header : iterable of str, optional
        The CSV's column names; without it an existing file is always refused.
    what : str
        How the message names the file.
    place_only : bool
        Check only where the path points (not a folder, not inside a raw or processed study),
        not whether an existing file may be replaced (for a name still to be derived, or a
        header not yet known).

    Returns
    -------
    Path
    """
    given = Path(path)
    if given.name in ("", ".", "..") or str(path).endswith(("/", os.sep)):
        _refuse(what, given, "it names a folder, not a file; give a file name such as effects.csv")
    if given.is_symlink():
        _refuse(what, given, "it is a symbolic link")
    out = given.resolve()
    if out.is_dir():
        _refuse(what, given, "it is an existing folder, not a file; give a file name")
    raw = raw_study_root(out.parent)
    if raw is not None:
        _refuse(what, given, f"it is inside the raw study folder {raw} (raw data is never written)")
    proc = processed_root(out.parent)
    if proc is not None:
        _refuse(
            what,
            given,
            f"it is inside the processed study folder {proc} (only the cleaner writes there)",
        )
    if out.exists() and not place_only:
        first = _first_csv_row(out)
        if header is None or first != [str(h) for h in header]:
            _refuse(
                what,
                given,
                "the file exists and is not a CSV this command wrote (different header); "
                "choose a new file name",
            )
    return out


def _first_csv_row(path: Path) -> list[str] | None:

    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            return next(csv.reader(f), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None


def _refuse(what: str, path: Path, reason: str):
    raise InputError(f"{what} {path}: refusing to write there: {reason}")


def refuse_foreign(what: str, path: Path, foreign: list[str]):
    """Refuse, with one line naming them (the first :data:`SHOWN_FILES`), to replace a folder
    holding files mentorlib did not write."""
    more = f" and {len(foreign) - SHOWN_FILES} more" if len(foreign) > SHOWN_FILES else ""
    _refuse(
        what,
        path,
        f"it holds file(s) mentorlib did not write ({', '.join(foreign[:SHOWN_FILES])}{more}); "
        "a re-run replaces the folder, so move them out or choose a new folder",
    )


# ----------------------------------------------------------------------------- atomic writing


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "wb", *, encoding: str | None = None):
    """Open a temporary file beside ``path``; on success flush, fsync and rename it into place.

    Parameters
    ----------
    path : path
        The final name. Its folder must exist.
    mode : {"wb", "w"}
    encoding : str, optional
        For text mode.

    Yields
    ------
    file object
        Write to it. If the ``with`` body raises, the temporary file is removed and nothing
        appears under (or replaces) the final name.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_write(d / "a.txt", "w", encoding="utf-8") as f:
    ...     _ = f.write("hello")
    >>> (d / "a.txt").read_text()
    'hello'
    """
    if mode not in ("wb", "w"):
        raise ValueError("mode must be 'wb' or 'w'")
    final = Path(path)
    sweep_stale(final.parent)
    _TEMP_PARENTS.add(final.parent.resolve())  # before creating: see remove_own_temporaries
    fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{os.getpid()}-file-", dir=final.parent)
    try:
        text = mode == "w"
        with os.fdopen(
            fd, mode, encoding=encoding if text else None, newline="" if text else None
        ) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(final.parent)


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (:func:`atomic_write`); return the path."""
    with atomic_write(path, "wb") as f:
        f.write(data)
    return Path(path)


def write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (:func:`atomic_write`); return the path."""
    with atomic_write(path, "w", encoding=encoding) as f:
        f.write(text)
    return Path(path)


def write_csv(df: pd.DataFrame, path: str | Path, *, index: bool = False) -> Path:
    """Write a table as UTF-8 CSV (with BOM, for Excel): cells neutralised, atomically.

    Parameters
    ----------
    df : DataFrame
    path : path
    index : bool
        Also write the index (neutralised too).

    Returns
    -------
    Path
    """
    safe = neutralise_cells(df)
    if index:
        safe.index = _neutral_index(safe.index)
    with atomic_write(path, "w", encoding="utf-8-sig") as f:
        safe.to_csv(f, index=index, lineterminator="\r\n")  # RFC 4180: a CR in a cell is quoted
    return Path(path)


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def _fsync_dir(d: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a folder
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def replace_dir(tmp: str | Path, out: str | Path) -> Path:
    """Move the finished folder ``tmp`` to ``out``, replacing our own previous output.

    The previous ``out`` (already checked to be ours by :func:`check_output_dir`) is first renamed
    to a temporary name, then ``tmp`` is renamed to ``out`` (one rename each, on the same file
    system), then the old copy is removed. ``out`` never holds a half-written folder.
    """
    tmp, out = Path(tmp), Path(out)
    old = None
    if out.exists():
        _TEMP_PARENTS.add(out.parent.resolve())
        old = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-old-", dir=out.parent))
        old.rmdir()
        out.rename(old)
    tmp.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return out


# ----------------------------------------------------------------------------- temporary folders


def make_temp_dir(parent: str | Path | None, purpose: str) -> Path:
    """A new private folder ``.mentorlib-tmp-<pid>-<purpose>-<random>`` in ``parent``.

    ``parent`` None means the system temporary folder. Stale temporary folders found there are
    removed first (:func:`sweep_stale`). The caller removes the folder (see :func:`temp_dir`).
    """
    base = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    sweep_stale(base)
    _TEMP_PARENTS.add(base.resolve())  # before creating: see remove_own_temporaries
    return Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-{purpose}-", dir=base))


# Folders this process has made temporaries in, registered *before* each one is created, so a
# signal that lands between the creation and the ``try`` that would remove it leaves nothing:
# the command line calls remove_own_temporaries() on its way out, however it leaves.
_TEMP_PARENTS: set[Path] = set()


def remove_own_temporaries() -> list[Path]:
    """Remove every temporary file or folder this process made (``.mentorlib-tmp-<pid>-*``).

    Called by the command line when a command ends (normally, on an error, Ctrl-C or SIGTERM),
    after the ``finally`` blocks; it closes the window between creating a temporary and
    entering the block that removes it.

    Returns
    -------
    list of Path
        What was removed.
    """
    gone = []
    for base in list(_TEMP_PARENTS):
        for e in base.glob(f"{TMP_PREFIX}{os.getpid()}-*"):
            _remove(e)
            gone.append(e)
    return gone


def _remove(p: Path) -> None:
    """Remove a temporary folder (never following a link) or file; ignore what is gone."""
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            p.unlink()


@contextlib.contextmanager
def temp_dir(parent: str | Path | None, purpose: str) -> Iterator[Path]:
    """:func:`make_temp_dir`, removed when the ``with`` block ends, however it ends."""
    d = make_temp_dir(parent, purpose)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C_EVENT there: rely on the age
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def sweep_stale(parent: str | Path, *, max_age_hours: float = STALE_HOURS) -> list[Path]:
    """Remove temporary files and folders of mentorlib runs that are gone.

    An entry ``.mentorlib-tmp-<pid>-...`` in ``parent`` is stale when process ``pid`` no longer
    runs, or when it is older than ``max_age_hours`` (a reused pid). This process's own entries
    are never touched.

    Parameters
    ----------
    parent : path
    max_age_hours : float

    Returns
    -------
    list of Path
        What was removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    now, me = time.time(), os.getpid()
    for e in entries:
        m = _TMP_RE.match(e.name)
        if not m or int(m.group(1)) == me:
            continue
        try:
            age_h = (now - e.stat(follow_symlinks=False).st_mtime) / 3600
        except OSError:
            continue
        if _pid_alive(int(m.group(1))) and age_h < max_age_hours:
            continue
        p = Path(e.path)
        _remove(p)
        removed.append(p)
    return removed


# ----------------------------------------------------------------------------- cell neutralising

_DANGER = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """One cell: a text starting with ``= + - @``, tab or CR gets a leading ``'``.

    Numbers are never touched (``-0.5`` stays a number); text that looks like a negative number
    (``"-3"``) is prefixed like any other text, as OWASP advises (a spreadsheet reading it back
    sees the text ``'-3``; the data contract keeps numbers in numeric columns).

    Examples
    --------
    >>> neutralise("=1+1"), neutralise("-3"), neutralise(-3), neutralise("王芳")
    ("'=1+1", "'-3", -3, '王芳')
    """
    if isinstance(value, str) and value.startswith(_DANGER):
        return "'" + value
    return value


def neutralise_cells(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` safe to open in a spreadsheet (OWASP CSV-injection rule).

    Every text cell (object, string and categorical columns, and the column names) that starts
    with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'``. Numeric,
    boolean and date columns are returned unchanged; the input is never modified.

    Parameters
    ----------
    df : DataFrame

    Returns
    -------
    DataFrame
        Same shape, index and dtypes (text columns stay text).

    Notes
    -----
    OWASP, "CSV Injection" (https://owasp.org/www-community/attacks/CSV_Injection).
    """
    # by position (isetitem), not by name: a hostile file may repeat a column name.
    # pandas-stubs types isetitem's value as a scalar; pandas takes a Series (ignores below).
    out = df.copy()
    for j, col in enumerate(df.columns):
        s = df.iloc[:, j]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats = s.cat.categories
            if cats.dtype == object or pd.api.types.is_string_dtype(cats.dtype):
                new = [neutralise(c) for c in cats]
                if new == list(cats):
                    continue
                if len(set(new)) == len(new):
                    out.isetitem(j, s.cat.rename_categories(new))  # type: ignore[arg-type]
                else:  # "=a" and "'=a" both present: plain text then
                    out.isetitem(j, s.astype(object).map(neutralise, na_action="ignore"))  # type: ignore[arg-type]
            continue
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            vals = s.astype(object).where(s.notna(), None).tolist()
            mask = [isinstance(v, str) and v.startswith(_DANGER) for v in vals]
            if any(mask):
                fixed = [neutralise(v) for v in vals]
                fixed_s = pd.Series(fixed, index=s.index, name=col).astype(s.dtype)
                out.isetitem(j, fixed_s)  # type: ignore[arg-type]
    out.columns = _neutral_index(df.columns)
    return out


def _neutral_index(idx: pd.Index) -> pd.Index:
    if isinstance(idx, pd.MultiIndex):
        return pd.MultiIndex.from_tuples(
            [tuple(neutralise(v) for v in t) for t in idx], names=idx.names
        )
    if idx.dtype == object or pd.api.types.is_string_dtype(idx.dtype):
        return pd.Index([neutralise(v) for v in idx], name=idx.name, dtype=idx.dtype)
    return idx
