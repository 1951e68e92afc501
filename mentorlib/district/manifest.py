"""What a district output folder holds, so a re-run replaces only what mentorlib wrote.

A run writes the whole folder (``schools/``, ``results/``, ``tables/``, the summary files) and
lists every file in ``district.json``'s ``files`` (paths relative to the folder, like a
processed study's ``study.json``); the summaries written after it (``reports/``) are added to
the list (:func:`record_files`). Before a re-run replaces the folder, any file not in the list
(a user's notes, an edited copy of a report under another name) stops it with one line naming
the files (:func:`check_no_foreign`): nothing is removed that mentorlib did not write. A folder
written before the list existed is judged by its files' names, as a district run names them
(:func:`mentorlib.outputs.foreign_in_district`, which
:func:`mentorlib.outputs.is_ours` uses too).
A re-run carries the previous run's reports over (:func:`keep_reports`): a summary in the
other language, or of another year, is not the run's to remove; one of the same name is
replaced.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..outputs import (
    DISTRICT_META,
    FILES_KEY,
    MARKER,
    atomic_write,
    foreign_in_district,
    output_files,
    refuse_foreign,
)

META = DISTRICT_META


def _read_meta(out: Path) -> dict:
    try:
        meta = json.loads((out / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def check_no_foreign(out: str | Path, what: str = "--out") -> None:
    """Refuse, with one line naming them, to replace a folder holding files mentorlib did
    not write."""
    out = Path(out)
    foreign = foreign_in_district(out) if out.is_dir() else []
    if foreign:
        refuse_foreign(what, out, foreign)


def keep_reports(old: Path, new: Path) -> None:
    """Copy the previous output's ``reports/`` into the new folder (the run then replaces
    only the reports it writes itself)."""
    src = old / "reports"
    if src.is_dir() and not src.is_symlink():
        shutil.copytree(src, new / "reports", symlinks=True, dirs_exist_ok=True)


def write_meta(out: Path, meta: dict) -> None:
    """Write ``district.json`` with the files list of everything in ``out`` (itself and the
    folder's marker included)."""
    files = set(output_files(out)) | {META, MARKER}
    with atomic_write(out / META, "w", encoding="utf-8") as f:
        f.write(json.dumps({**meta, FILES_KEY: sorted(files)}, ensure_ascii=False, indent=2) + "\n")


def record_files(out: str | Path, paths) -> None:
    """Add files written into a district output after its run (its summaries) to the files
    list; an output without the list (written before it existed) is left as it is."""
    out = Path(out)
    meta = _read_meta(out)
    listed = meta.get(FILES_KEY)
    if not isinstance(listed, list):
        return
    add = {Path(p).resolve().relative_to(out.resolve()).as_posix() for p in paths}
    if (out / "reports" / MARKER).is_file():
        add.add(f"reports/{MARKER}")
    meta[FILES_KEY] = sorted(set(map(str, listed)) | add)
    with atomic_write(out / META, "w", encoding="utf-8") as f:
        f.write(json.dumps(meta, ensure_ascii=False, indent=2) + "\n")
