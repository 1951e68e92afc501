"""``mentorlib check``: a fast pre-flight of a study folder, before any cleaning.

For each source of ``study.toml`` it reads the file (every sheet), finds the header row and
matches the headers to the source's codebook, and says: readable or not and why, the encoding,
the header row, the questions matched (exactly, or approximately with the score when
:func:`~mentorlib.io.readers.match_columns` reports one), the questions missing and the raw
columns no question claimed. Nothing is cleaned and nothing is written.

The study can be cleaned (:attr:`CheckResult.ok`) when a student roster can be read: ``clean``
links every other source to it and skips (listing them) the sources it cannot read, so an
unreadable or unmatched source, or a required kind (:data:`REQUIRED_KINDS`) with no source, is
listed (:attr:`CheckResult.reasons`) but does not stop it; the cleaning is then partial.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import InputError
from .codebook import Codebook, CodebookError, load_codebook
from .readers import (
    ColumnMap,
    RawSheet,
    combine_sheets,
    match_columns,
    read_file,
    shared_to_required,
    to_raw_sheet,
)
from .study import Source, load_config

#: The kinds every study needs before ``clean`` and the analyses can run.
REQUIRED_KINDS = ("students", "staff", "groups", "assessment")

#: A mood chart's day column, as the cleaner reads it (a codebook's ``day_column`` overrides it).
DAY_COLUMN = r"^(\d{1,2})日$"

_RELAXED: dict[str, tuple[Codebook, Codebook]] = {}


def relaxed(cb: Codebook) -> Codebook:
    """The codebook with every field optional: matching then reports, never refuses."""
    key = f"{cb.name}\0{cb.path}"
    if key not in _RELAXED or _RELAXED[key][0] is not cb:
        fields = tuple(replace(f, required=False) for f in cb.fields)
        _RELAXED[key] = (cb, replace(cb, fields=fields))
    return _RELAXED[key][1]


def approx_scores(cm: ColumnMap) -> dict[str, float]:
    """var -> score of the approximate matches ``match_columns`` reports (none: empty)."""
    raw = getattr(cm, "approx", None) or getattr(cm, "scores", None) or {}
    out = {}
    for var, v in dict(raw).items():
        score = v[-1] if isinstance(v, tuple | list) else v
        if isinstance(score, int | float):
            out[str(var)] = float(score)
    return out


def match_sheet(rs: RawSheet, cb: Codebook) -> dict:
    """How one sheet's headers meet a codebook, without refusing: matched, approximate (with
    the score), missing (required first) and unused raw columns."""
    cm = match_columns(rs.header, relaxed(cb), file=rs.file, sheet=rs.sheet)
    shared_to_required(cm, rs.header, cb)
    found = set(cm.single) | set(cm.options)
    approx = approx_scores(cm)
    required = {f.var for f in cb.fields if f.required}
    # a mood chart's day columns (1日 … 31日) are read by their pattern, not by a field
    day = re.compile(cb.options.get("day_column", DAY_COLUMN)) if cb.kind == "mood" else None
    return {
        "sheet": rs.sheet,
        "header_row": rs.header_row,
        "encoding": rs.encoding,
        "rows": rs.n,
        "matched": [f.var for f in cb.fields if f.var in found and f.var not in approx],
        "approximate": {v: s for v, s in approx.items() if v in found},
        "missing_required": [f.var for f in cb.fields if f.var not in found and f.var in required],
        "missing": [f.var for f in cb.fields if f.var not in found and f.var not in required],
        "unused": [h for h in cm.unmatched if not (day and day.match(h))],
        "n_fields": len(cb.fields),
    }


def read_sheets(root: Path, src: Source, cb: Codebook, limits: dict) -> list[RawSheet]:
    """The raw sheets of a source (sheets sharing a header combined), as ``clean`` reads them."""
    raws = [
        to_raw_sheet(cells, src.path, sheet, enc, cb)
        for sheet, cells, enc in read_file(
            root / src.path, src.path, sheet=src.sheet, encoding=src.encoding, limits=limits
        )
        if not cells.empty
    ]
    return combine_sheets(raws)


def check_source(root: Path, src: Source, limits: dict) -> dict:
    """The pre-flight report of one source (see the module docstring)."""
    out: dict = {
        "path": src.path,
        "kind": src.kind,
        "sheet": src.sheet,
        "codebook": src.codebook,
        "year": src.year,
        "term": src.term,
        "wave": src.wave,
        "readable": False,
        "reason": None,
        "sheets": [],
    }
    try:
        cb = load_codebook(src.codebook, base=root).for_year(src.year)  # as clean reads it
        if cb.kind != src.kind:
            raise InputError(f"codebook {cb.name!r} is for {cb.kind} sources, not {src.kind}")
        out["sheets"] = [match_sheet(rs, cb) for rs in read_sheets(root, src, cb, limits)]
    except (InputError, CodebookError) as e:
        out["reason"] = str(e)
        return out
    lost = [f"{sh['sheet'] or src.path}: {', '.join(sh['missing_required'][:8])}"
            for sh in out["sheets"] if sh["missing_required"]]  # fmt: skip
    if lost:
        out["reason"] = "required questions not found: " + "; ".join(lost)
    elif not out["sheets"]:
        out["reason"] = "no sheet with rows"
    else:
        out["readable"] = True
    return out


@dataclass
class CheckResult:
    """The pre-flight of a study: one report per source, and whether ``clean`` can run."""

    study: str
    sources: list[dict]
    missing_kinds: list[str] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        out = [f"{s['path']}: {s['reason']}" for s in self.sources if not s["readable"]]
        out += [f"no {k} source in study.toml" for k in self.missing_kinds]
        return out

    @property
    def ok(self) -> bool:
        """``clean`` can run: a students source is readable (the others it would skip)."""
        return any(s["readable"] for s in self.sources if s["kind"] == "students")

    @property
    def partial(self) -> bool:
        """``clean`` can run but some sources would not be read, or a required kind is absent."""
        return self.ok and bool(self.reasons)

    def to_dict(self) -> dict:
        return {
            "study": self.study,
            "ok": self.ok,
            "partial": self.partial,
            "reasons": self.reasons,
            "missing_kinds": self.missing_kinds,
            "sources": self.sources,
        }

    def lines(self) -> list[str]:
        """The human summary, one block per source."""
        n_ok = sum(s["readable"] for s in self.sources)
        out = [f"Checked {self.study}: {n_ok} of {len(self.sources)} sources readable"]
        for s in self.sources:
            out.append(f"  {'ok ' if s['readable'] else 'BAD'} {s['kind']:<13} {s['path']}")
            if s["reason"]:
                out.append(f"      {s['reason']}")
            for sh in s["sheets"]:
                out += _sheet_lines(sh)
        if not self.ok:
            head = "clean cannot run: no student roster can be read"
        elif self.reasons:
            head = "clean can run, partially (these sources would be skipped or are missing)"
        else:
            head = "clean can run"
        out.append(head + "".join(f"\n  {r}" for r in self.reasons))
        return out


def _sheet_lines(sh: dict) -> list[str]:
    where = f"sheet {sh['sheet']}, " if sh["sheet"] else ""
    enc = f", {sh['encoding']}" if sh["encoding"] else ""
    n_match = len(sh["matched"]) + len(sh["approximate"])
    out = [
        f"      {where}header row {sh['header_row']}{enc}, {sh['rows']:,} rows: "
        f"{n_match} of {sh['n_fields']} questions matched ({len(sh['matched'])} exactly)"
    ]
    if sh["approximate"]:
        out.append(
            "      approximate: "
            + ", ".join(f"{v} ({s:.2f})" for v, s in sh["approximate"].items())
        )
    missing = sh["missing_required"] + sh["missing"]
    if missing:
        out.append(f"      missing: {', '.join(missing[:12])}{' …' if len(missing) > 12 else ''}")
    if sh["unused"]:
        unused = sh["unused"]
        out.append(
            f"      unused columns: {'; '.join(unused[:8])}{' …' if len(unused) > 8 else ''}"
        )
    return out


def check_study(study_dir: str | Path) -> CheckResult:
    """Pre-flight a study folder: read every source's headers, match them, clean nothing.

    Parameters
    ----------
    study_dir : path
        A raw study folder with ``study.toml``.

    Returns
    -------
    CheckResult
        ``sources``: one dict per source (path, kind, sheet, codebook, year, term, wave,
        readable, reason, sheets: sheet, header_row, encoding, rows, matched, approximate
        (var -> score), missing_required, missing, unused, n_fields); ``missing_kinds``: the
        required kinds with no source; ``ok`` (a roster is readable), ``partial``, ``reasons``.

    Raises
    ------
    InputError
        study.toml itself cannot be read (:func:`~mentorlib.io.study.load_config`).
    """
    cfg = load_config(study_dir)
    reports = [check_source(cfg.root, s, cfg.limits) for s in cfg.sources]
    kinds = {s.kind for s in cfg.sources}
    return CheckResult(
        study=cfg.name,
        sources=reports,
        missing_kinds=[k for k in REQUIRED_KINDS if k not in kinds],
    )
