"""What a district output folder holds, so a re-run replaces only what mentorlib wrote.

A run writes the whole folder (``schools/``, ``results/``, ``tables/``, the summary files) and
lists every file in ``district.json``'s ``files`` (paths relative to the folder, like a
processed study's ``study.json``); the summaries written after it (``reports/``) are added to
the list (:func:`record_files`). Before a re-run replaces the folder, any file not in the list
(a user's notes, an edited copy of a report under another name) stops it with one line naming
the files (:func:`check_no_foreign`): nothing is removed that mentorlib did not write. A folder
written before the list existed is judged by its files' names, as a district run names them.
A re-run carries the previous run's reports over (:func:`keep_reports`): a summary in the
other language, or of another year, is not the run's to remove; one of the same name is
replaced.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from ..errors import InputError
from ..outputs import MARKER, TMP_PREFIX, atomic_write

META = "district.json"
#: The key of ``district.json`` listing every file of the output folder.
FILES_KEY = "files"
#: How many foreign files the refusal names.
SHOWN = 5

# the names a district run gives its files (folders written before the files list existed)
_NAMED = re.compile(
    r"^(district\.json|district_schools\.csv|\.mentorlib-output)$"
    r"|^results/[^/]+/(progress|mentors|compliance)_\d{4}\.json$"
    r"|^tables/[^/]+/school_id=[^/]+/part-0\.parquet$"
    r"|^reports/(\.mentorlib-output|(区域总结_\d+学年|district_summary_\d+)\.(docx|html|md))$"
    r"|^reports/(区域总结_\d+学年|district_summary_\d+)_figures/[^/]+\.png$"
)


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


def _read_meta(out: Path) -> dict:
    try:
        meta = json.loads((out / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def foreign_files(out: str | Path) -> list[str]:
    """The files of an existing district output that mentorlib did not write: not in
    ``district.json``'s files list (or, without the list, not named as a run names them)."""
    out = Path(out)
    have = output_files(out)
    listed = _read_meta(out).get(FILES_KEY)
    if isinstance(listed, list):
        ours = {str(f) for f in listed}
        return [f for f in have if f not in ours]
    return [f for f in have if not (_NAMED.match(f) or _processed_file(out, f))]


def _processed_file(out: Path, rel: str) -> bool:
    """A file of a school's processed folder that its ``study.json`` lists."""
    parts = rel.split("/")
    if len(parts) != 3 or parts[0] != "schools":
        return False
    try:
        meta = json.loads((out / parts[0] / parts[1] / "study.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    listed = meta.get("files") if isinstance(meta, dict) else None
    return isinstance(listed, list) and parts[2] in listed


def check_no_foreign(out: str | Path, what: str = "--out") -> None:
    """Refuse, with one line naming them, to replace a folder holding files mentorlib did
    not write."""
    out = Path(out)
    foreign = foreign_files(out) if out.is_dir() else []
    if foreign:
        more = f" and {len(foreign) - SHOWN} more" if len(foreign) > SHOWN else ""
        raise InputError(
            f"{what} {out}: refusing to write there: it holds file(s) mentorlib did not write "
            f"({', '.join(foreign[:SHOWN])}{more}); a re-run replaces the folder, so move them "
            "out or choose a new folder"
        )


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
