"""``mentorlib check``: a fast pre-flight of a study folder, before any cleaning.

For each source of ``study.toml`` it reads the file (every sheet), finds the header row and
matches the headers to the source's codebook, and says: readable or not and why, the encoding,
the header row, the questions matched (exactly, or approximately with the score when
:func:`~mentorlib.io.readers.match_columns` reports one), the questions missing and the raw
columns no question claimed; and a warning for each sheet of rows it can read but ``clean``
would quarantine: every row of an exam sheet with no score column (``no_score_column``) or of a
sheet per subject whose name and title name no subject (``unknown_subject``), and the exam rows
with no score in any score column (``blank_score``). Nothing is cleaned and nothing is written.

An exam book is judged by its layout, as ``clean`` reads it (:mod:`mentorlib.clean.exams`): a
sheet (or file) per subject with one 成绩 column takes its subject from the sheet name or title
row, a book with a column per subject holds the subjects it holds, and a sheet per class without
a 班级 column takes the class from its sheet name or title; none of these is a missing question.

The study can be cleaned (:attr:`CheckResult.ok`) when a student roster can be read: ``clean``
links every other source to it and skips (listing them) the sources it cannot read, so an
unreadable or unmatched source, or a required kind (:data:`REQUIRED_KINDS`) with no source, is
listed (:attr:`CheckResult.reasons`) but does not stop it; the cleaning is then partial.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..clean.exams import (
    BLANK_SCORE,
    GENERIC,
    NO_SCORE_COLUMN,
    blank_score_rows,
    class_in,
    subject_in,
    subject_names,
)
from ..errors import InputError, reason_without_file
from ..labels_units import en_noun
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


def _sheet_names(rs: RawSheet) -> list[str | None]:
    """The sheets read as one (their order kept), or the one sheet (None for a CSV)."""
    if rs.row_sheet is None:
        return [rs.sheet]
    return list(dict.fromkeys(rs.row_sheet.tolist()))


def exam_layout(rs: RawSheet, cb: Codebook, found: set[str]) -> tuple[set[str], dict]:
    """What an exam book's layout supplies besides its columns, as ``clean`` reads it.

    Returns the fields the layout makes unnecessary (the other subjects' columns and the one
    成绩 column of a book with a column per subject, or every subject column of a book with a
    成绩 column; 班级 when each sheet's name or title gives the class) and ``from_sheet``:
    ``subject`` (sheet -> subject code, None when it names none: ``clean`` quarantines its rows)
    for a sheet per subject, ``class`` (sheet -> 'g-c', '?-c' when the roster must give the
    grade, None when it gives no class) when there is no 班级 column.
    """
    scores = {f.var for f in cb.score_fields}
    needless: set[str] = set()
    from_sheet: dict[str, dict] = {}
    if scores & found:  # a 成绩 column, or some subject columns: the rest are not missing
        needless |= scores - found
    sheets = _sheet_names(rs)
    if GENERIC in found:
        known = subject_names(cb)
        from_sheet["subject"] = {
            s: subject_in(s, known) or subject_in(rs.title_of(s), known) for s in sheets
        }
    if "grade_class" not in found:
        classes = {}
        for s in sheets:
            gc, cls, _ = class_in([s, rs.title_of(s)])
            classes[s] = gc or (f"?-{cls}" if cls is not None else None)
        from_sheet["class"] = classes
        if all(classes.values()):
            needless.add("grade_class")
    return needless, from_sheet


def match_sheet(rs: RawSheet, cb: Codebook) -> dict:
    """How one sheet's headers meet a codebook, without refusing: matched, approximate (with
    the score), missing (required first) and unused raw columns; for an exam book, what its
    layout supplies instead of a column (:func:`exam_layout`)."""
    cm = match_columns(rs.header, relaxed(cb), file=rs.file, sheet=rs.sheet)
    shared_to_required(cm, rs.header, cb)
    found = set(cm.single) | set(cm.options)
    needless, from_sheet = exam_layout(rs, cb, found) if cb.kind == "exams" else (set(), {})
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
        "missing": [
            f.var
            for f in cb.fields
            if f.var not in found and f.var not in required and f.var not in needless
        ],
        "unused": [h for h in cm.unmatched if not (day and day.match(h))],
        "n_fields": len(cb.fields) - len(needless),
        "from_sheet": from_sheet,
        "quarantined": _quarantined(rs, cb, found) if cb.kind == "exams" else None,
        "sheet_rows": _sheet_rows(rs),
        "blank_score": _blank_scores(rs, cm, cb, from_sheet) if cb.kind == "exams" else {},
    }


def _sheet_rows(rs: RawSheet) -> dict[str | None, int]:
    """The rows of each sheet read (one sheet: all of them)."""
    if rs.row_sheet is None:
        return {rs.sheet: rs.n}
    return dict(Counter(rs.row_sheet.tolist()))


def _blank_scores(rs: RawSheet, cm: ColumnMap, cb: Codebook, from_sheet: dict) -> dict:
    """sheet -> its rows with no score in any score column, which ``clean`` quarantines
    (:func:`mentorlib.clean.exams.blank_score_rows`); not the sheets it quarantines whole
    (no subject named)."""
    blank = np.flatnonzero(blank_score_rows(rs, cm, cb))
    lost = {s for s, v in from_sheet.get("subject", {}).items() if v is None}
    return {s: n for s, n in Counter(rs.sheet_at(blank).tolist()).items() if s not in lost}


def _quarantined(rs: RawSheet, cb: Codebook, found: set[str]) -> str | None:
    """Why ``clean`` would quarantine every row of a readable sheet (None: it would not).

    An exam sheet with no score column, neither 成绩 nor a subject, has nothing to read
    (:func:`mentorlib.clean.exams.quarantine_unscored`).
    """
    if any(f.var in found for f in cb.score_fields):
        return None
    scores = "/".join(f.text[0] for f in cb.score_fields)
    return (
        f"no score column ({scores}): clean will quarantine {_all_rows(rs.n)} ({NO_SCORE_COLUMN})"
    )


def _all_rows(n: int) -> str:
    """ "all 3 rows", "its 1 row": a whole sheet's rows."""
    return ("its " if n == 1 else "all ") + en_noun(n, "row")


def _at(sheet: str | None, text: str) -> str:
    """A warning led by its sheet's name (none for a CSV: the source's path names it)."""
    return f"{sheet}: {text}" if sheet else text


def blank_score_warnings(sh: dict) -> list[str]:
    """A sheet's rows with no score, which ``clean`` quarantines (``blank_score``)."""
    return [
        _at(s, f"clean will quarantine {en_noun(k, 'row')} with no score in any score column "
            f"({BLANK_SCORE})")
        for s, k in (sh.get("blank_score") or {}).items()
    ]  # fmt: skip


def sheet_warnings(sh: dict) -> list[str]:
    """The rows of one sheet ``clean`` would quarantine, one line per sheet read and reason:
    the whole sheet (no score column; no subject named) or its rows with no score."""
    out = [_at(sh["sheet"], sh["quarantined"])] if sh["quarantined"] else []
    rows = sh.get("sheet_rows") or {}
    for s, subject in (sh.get("from_sheet") or {}).get("subject", {}).items():
        if subject is None:
            n = _all_rows(rows.get(s, 0))
            text = f"no subject in the sheet name or title: clean will quarantine {n}"
            out.append(_at(s, f"{text} (unknown_subject)"))
    return out + blank_score_warnings(sh)


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
        "warnings": [],
        "sheets": [],
    }
    try:
        cb = load_codebook(src.codebook, base=root).for_year(src.year)  # as clean reads it
        if cb.kind != src.kind:
            raise InputError(f"codebook {cb.name!r} is for {cb.kind} sources, not {src.kind}")
        out["sheets"] = [match_sheet(rs, cb) for rs in read_sheets(root, src, cb, limits)]
    except (InputError, CodebookError) as e:  # the report names the file: the reason need not
        out["reason"] = reason_without_file(e, src.path, root / src.path)
        return out
    lost = [_at(sh["sheet"], ", ".join(sh["missing_required"][:8]))
            for sh in out["sheets"] if sh["missing_required"]]  # fmt: skip
    if lost:
        out["reason"] = "required questions not found: " + "; ".join(lost)
    elif not out["sheets"]:
        out["reason"] = "no sheet with rows"
    else:
        out["readable"] = True
    out["warnings"] = [w for sh in out["sheets"] for w in sheet_warnings(sh)]
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
    def warnings(self) -> list[str]:
        """Readable sources whose rows ``clean`` would quarantine, sheet by sheet, and why."""
        return [f"{s['path']}: {w}" for s in self.sources if s["readable"] for w in s["warnings"]]

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
            "warnings": self.warnings,
            "missing_kinds": self.missing_kinds,
            "sources": self.sources,
        }

    def lines(self) -> list[str]:
        """The human summary, one block per source."""
        n_ok = sum(s["readable"] for s in self.sources)
        n_warn = sum(bool(s["readable"] and s["warnings"]) for s in self.sources)
        out = [
            f"Checked {self.study}: {n_ok} of {len(self.sources)} sources readable"
            + (f" ({n_warn} with rows clean will quarantine)" if n_warn else "")
        ]
        for s in self.sources:
            mark = "BAD" if not s["readable"] else "!! " if s["warnings"] else "ok "
            out.append(f"  {mark} {s['kind']:<13} {s['path']}")
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
        if self.ok and self.warnings:
            out.append(
                "clean will quarantine these rows (read, but not usable)"
                + "".join(f"\n  {w}" for w in self.warnings)
            )
        return out


def _sheet_lines(sh: dict) -> list[str]:
    where = f"sheet {sh['sheet']}, " if sh["sheet"] else ""
    enc = f", {sh['encoding']}" if sh["encoding"] else ""
    n_match = len(sh["matched"]) + len(sh["approximate"])
    out = [
        f"      {where}header row {sh['header_row']}{enc}, {en_noun(sh['rows'], 'row')}: "
        f"{n_match} of {sh['n_fields']} questions matched ({len(sh['matched'])} exactly)"
    ]
    if sh["approximate"]:
        out.append(
            "      approximate: "
            + ", ".join(f"{v} ({s:.2f})" for v, s in sh["approximate"].items())
        )
    out += _from_sheet_lines(sh.get("from_sheet") or {})
    missing = sh["missing_required"] + sh["missing"]
    if missing:
        out.append(f"      missing: {', '.join(missing[:12])}{' …' if len(missing) > 12 else ''}")
    if sh["quarantined"]:
        out.append(f"      warning: {sh['quarantined']}")
    out += [f"      warning: {w}" for w in blank_score_warnings(sh)]
    if sh["unused"]:
        unused = sh["unused"]
        out.append(
            f"      unused columns: {'; '.join(unused[:8])}{' …' if len(unused) > 8 else ''}"
        )
    return out


def _from_sheet_lines(from_sheet: dict) -> list[str]:
    """An exam book's subjects and classes read from its sheet names or titles, and the sheets
    that name none (their rows ``clean`` quarantines, or links without a class)."""
    out = []
    for what, rule, lost in (
        ("subject", "subject_from_sheet", "rows quarantined as unknown_subject"),
        ("class", "class_from_sheet", "no class to link names by"),
    ):
        got = from_sheet.get(what)
        if not got:
            continue
        named = [f"{s or '(file)'} {v}" for s, v in got.items() if v]
        if named:
            out.append(f"      {what} from sheet name or title ({rule}): {', '.join(named)}")
        none = [s or "(file)" for s, v in got.items() if not v]
        if none:
            out.append(f"      no {what} in the sheet name or title of {', '.join(none)}: {lost}")
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
        readable, reason, warnings, sheets: sheet, header_row, encoding, rows, matched,
        approximate (var -> score), missing_required, missing, unused, n_fields, from_sheet:
        what an exam book's layout reads from its sheet names, :func:`exam_layout`; quarantined:
        why clean would quarantine every row of the sheet, or None; sheet_rows: the rows of each
        sheet read together; blank_score: sheet -> its exam rows with no score, which clean
        quarantines), warnings (:func:`sheet_warnings`); ``missing_kinds``: the required kinds
        with no source; ``ok`` (a roster is readable), ``partial``, ``reasons``, ``warnings``
        (the rows of readable sources that clean would quarantine, sheet by sheet, and why).

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
