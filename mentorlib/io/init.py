"""``mentorlib init``: a suggested ``study.toml`` for a folder of files as a school hands it over.

Every spreadsheet and CSV under the folder is read (every sheet; nothing is cleaned) and:

- its **kind** is the kind of the built-in codebook whose questions its header row matches best
  (the most questions matched, then the one whose required questions are all found; a best
  codebook with required questions missing is a question to answer); the level (primary or
  middle) comes from the questionnaires' codebooks;
- a questionnaire that lacks a few of its scale items (fewer than half) is a later version that
  dropped them: ``init`` writes the study's copy of the codebook, ``codebooks/<name>.toml``, with
  a ``[[versions]]`` entry dropping them from the first school year whose file lacks them, and
  every source of that questionnaire reads with it (an existing copy is never overwritten);
- its **year, term and wave** come from its path ("2023学年", "2023-2024", "前测/后测", "pre/post",
  "上学期/下学期/第一学期/第二学期/第1学期", "秋季/春季"), else the year from the dates it holds (the
  school year, :func:`mentorlib.calendar.school_year_of`, most of them fall in).

Each source gets a comment saying why and how sure; a file whose kind, year or wave cannot be
told is written commented out, with the question to answer. An existing ``study.toml`` is never
overwritten: the suggestion then goes to ``study.toml.suggested``.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd
import tomli_w

from .. import calendar
from ..errors import InputError
from .check import match_sheet, relaxed
from .codebook import Codebook, builtin_names, load_codebook
from .formats import TEXT_EXT, WORKBOOK_EXT
from .readers import RawSheet, match_columns, read_file, to_raw_sheet
from .study import KINDS

_YEAR_SPAN = re.compile(r"(20\d\d)\s*[-—–~至/_]\s*(20\d\d)")
_YEAR_XN = re.compile(r"(20\d\d)\s*学年")
_YEAR_SEASON = re.compile(r"(20\d\d)\s*年?\s*(秋|春)")
_YEAR_BARE = re.compile(r"(?<!\d)(20\d\d)(?!\d)")
_TERMS = (
    (1, re.compile(r"上学期|第[一1]学期|秋季?学期|秋季")),
    (2, re.compile(r"下学期|第[二2]学期|春季?学期|春季")),
)
_WAVES = (
    ("pre", re.compile(r"前测|(?<![a-z])pre(?:test)?(?![a-z])", re.I)),
    ("post", re.compile(r"后测|(?<![a-z])post(?:test)?(?![a-z])", re.I)),
)
#: Date fields that say when something happened (a birth date does not name the school year).
_EVENT_TYPES = ("date", "datetime")
_SYSTEM_DATES = ("submitted_at", "started_at")


@dataclass
class Guess:
    """What ``init`` made of one file (or one sheet of it)."""

    path: str
    sheet: str | None = None
    kind: str | None = None
    codebook: str | None = None
    level: str | None = None
    year: int | None = None
    term: int | None = None
    wave: str | None = None
    encoding: str | None = None
    why: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    #: scale items of its questionnaire the file does not ask (a later version dropped them)
    dropped: list[str] = field(default_factory=list)

    @property
    def sure(self) -> bool:
        return not self.questions

    def entry(self) -> dict:
        """The ``[[sources]]`` entry."""
        out: dict = {"kind": self.kind or "?", "path": self.path}
        for key in ("sheet", "year", "term", "wave", "encoding"):
            v = getattr(self, key)
            if v is not None:
                out[key] = v
        if self.codebook and self.codebook != self.kind:
            out["codebook"] = self.codebook
        return out


# ----------------------------------------------------------------------------- file names


def name_hints(rel: str) -> dict:
    """Year, term and wave as a file's path names them, and how (``why``: one phrase each)."""
    text = rel.replace("\\", "/")
    out: dict = {"why": []}
    if m := _YEAR_SPAN.search(text):
        a, b = int(m.group(1)), int(m.group(2))
        if b == a + 1:
            out["year"] = a
            out["why"].append(f"year from the file name ({m.group(0)})")
    if "year" not in out and (m := _YEAR_XN.search(text)):
        out["year"] = int(m.group(1))
        out["why"].append(f"year from the file name ({m.group(0)})")
    if "year" not in out and (m := _YEAR_SEASON.search(text)):
        y = int(m.group(1))
        out["year"] = y if m.group(2) == "秋" else y - 1
        out["term"] = 1 if m.group(2) == "秋" else 2
        out["why"].append(f"year and term from the file name ({m.group(0)})")
    bare = set(_YEAR_BARE.findall(text))
    if "year" not in out and len(bare) == 1:
        out["bare_year"] = int(bare.pop())
    for term, rx in _TERMS:
        if "term" not in out and (m := rx.search(text)):
            out["term"] = term
            out["why"].append(f"term {term} from the file name ({m.group(0)})")
    for wave, rx in _WAVES:
        if (m := rx.search(text)) and "wave" not in out:
            out["wave"] = wave
            out["why"].append(f"wave from the file name ({m.group(0)})")
    return out


# ----------------------------------------------------------------------------- contents


def _codebooks() -> list[Codebook]:
    return [load_codebook(n) for n in builtin_names()]


def score_sheet(cells: pd.DataFrame, rel: str, sheet: str | None, enc: str | None) -> list:
    """Every codebook's fit to a sheet, best first: ``(rank, codebook, report, raw sheet)``."""
    fits = []
    for cb in _codebooks():
        try:
            rs = to_raw_sheet(cells, rel, sheet, enc, cb)
        except InputError:
            continue
        rep = match_sheet(rs, cb)
        n = len(rep["matched"]) + len(rep["approximate"])
        rank = (n, not rep["missing_required"], n / max(1, rep["n_fields"]))
        fits.append((rank, cb, rep, rs))
    return sorted(fits, key=lambda t: t[0], reverse=True)


def dates_year(rs: RawSheet, cb: Codebook) -> tuple[int, int, int] | None:
    """The school year most of a sheet's event dates fall in: ``(year, n_in_it, n_dates)``."""
    cm = match_columns(rs.header, relaxed(cb))
    cols = [cm.single[f.var] for f in cb.fields if f.type in _EVENT_TYPES and f.var in cm.single]
    cols += [cm.system[k] for k in _SYSTEM_DATES if k in cm.system]
    cols = [j for j in cols if "出生" not in rs.header[j] and "birth" not in rs.header[j].lower()]
    if not cols:
        return None
    vals = pd.concat([rs.col(j) for j in cols], ignore_index=True).dropna()
    text = vals.astype(str).str.replace(r"[年月/.]", "-", regex=True).str.replace("日", "")
    # a date without its year ("9月15日", as class teachers write in a term's log) says
    # nothing of the school year: pandas would read "9-15" as a date of year 1
    text = text.loc[text.str.contains(r"(?:19|20)\d\d", regex=True)]
    days = pd.to_datetime(text, errors="coerce", format="mixed").dropna()
    days = days.loc[(days.dt.year >= 1990) & (days.dt.year <= 2100)]
    if days.empty:
        return None
    years = calendar.school_years_of(days).value_counts()
    return int(years.index[0]), int(years.iloc[0]), len(days)


def _kind_of(g: Guess, fits: list) -> Codebook | None:
    """Set the kind, codebook and level of a guess from its sheet's fits; the best codebook."""
    if not fits or fits[0][0][0] == 0:
        g.questions.append(
            "which kind of file is this? (its headers match no codebook; kinds: "
            + ", ".join(KINDS)
            + ")"
        )
        return None
    (rank, cb, rep, _), rest = fits[0], fits[1:]
    n = rank[0]
    g.kind, g.codebook, g.level = cb.kind, cb.name, cb.level
    g.why.insert(0, f"kind: {cb.kind} ({n} of {rep['n_fields']} questions matched)")
    g.dropped = dropped_items(cb, rep)
    if g.dropped:
        g.why.append(f"a later version of the questionnaire: not asked {', '.join(g.dropped)}")
    elif not rank[1]:
        g.questions.append(
            f"is this a {cb.kind} file? (required questions not found: "
            f"{', '.join(rep['missing_required'][:5])})"
        )
    rival = next((f for f in rest if f[1].kind != cb.kind and f[0] == rank), None)
    if rival is not None:
        g.questions.append(f"is this {cb.kind} or {rival[1].kind}? (their questions match equally)")
    return cb


def dropped_items(cb: Codebook, rep: dict) -> list[str]:
    """The required questions a sheet lacks when all are scale items of a questionnaire and
    fewer than half of its items: a later version dropped them (else none: not that file)."""
    missing = rep["missing_required"]
    items = {f.var for f in cb.fields if f.dimension}
    if not missing or not set(missing) <= items or 2 * len(missing) >= len(items):
        return []
    return list(missing)


def write_versions(root: Path, guesses: list[Guess]) -> None:
    """For each questionnaire some files ask without a few items, the study's copy of its
    codebook with a ``[[versions]]`` entry per school year that dropped them, used by every
    source of that questionnaire (``codebook = "codebooks/<name>.toml"``)."""
    by_cb: dict[str, list[Guess]] = {}
    for g in guesses:
        if g.codebook and g.kind:
            by_cb.setdefault(g.codebook, []).append(g)
    for name, gs in by_cb.items():
        drops: dict[int, list[str]] = {}
        for g in gs:
            if g.dropped and g.year is not None:
                drops.setdefault(g.year, [])
                drops[g.year] += [v for v in g.dropped if v not in drops[g.year]]
        for g in gs:
            if g.dropped and g.year is None:
                g.questions.append(f"which school year? (it does not ask {', '.join(g.dropped)})")
        if not drops:
            continue
        rel = f"codebooks/{name}.toml"
        builtin = resources.files("mentorlib.io.codebooks").joinpath(f"{name}.toml")
        text = (
            builtin.read_text(encoding="utf-8").rstrip() + "\n\n# ---- written by `mentorlib init`"
        )
        for year in sorted(drops):
            text += "\n" + tomli_w.dumps({"versions": [{"from_year": year, "drop": drops[year]}]})
        path = root / rel
        if path.exists() and path.read_text(encoding="utf-8") != text:
            note = f"({rel} exists and was left as it is: check its [[versions]])"
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            note = f"codebook {rel}: the versions that dropped items"
        for g in gs:
            g.codebook = rel
            g.why.append(note)


def _year_of(g: Guess, hints: dict, rs: RawSheet, cb: Codebook) -> None:
    by_dates = dates_year(rs, cb)
    if "year" in hints:
        g.year = hints["year"]
        if by_dates and by_dates[0] != g.year and by_dates[1] > by_dates[2] / 2:
            g.why.append(f"(most of its dates fall in {by_dates[0]}学年: check)")
        return
    if by_dates and by_dates[1] >= 0.8 * by_dates[2]:
        g.year = by_dates[0]
        g.why.append(f"year from its dates ({by_dates[1]} of {by_dates[2]} in {g.year}学年)")
    elif "bare_year" in hints:
        g.questions.append(
            f"which school year? (the name says {hints['bare_year']}: the school year "
            f"{hints['bare_year']}-{hints['bare_year'] + 1}, or the spring of "
            f"{hints['bare_year'] - 1}-{hints['bare_year']}?)"
        )
    else:
        g.questions.append("which school year is this file for? (no year in its name or dates)")


def guess_sheet(rel: str, sheet: str | None, cells: pd.DataFrame, enc: str | None) -> Guess:
    """What one sheet (or CSV) holds: kind, codebook, year, term, wave, with the reasons."""
    hints = name_hints(rel if sheet is None else f"{rel} {sheet}")
    g = Guess(path=rel, encoding=enc)
    fits = score_sheet(cells, rel, sheet, enc)
    cb = _kind_of(g, fits)
    if cb is None:  # what it is comes first: no question about its year yet
        return g
    _year_of(g, hints, fits[0][3], cb)
    g.why += [w for w in hints["why"] if not w.startswith("wave") or g.kind == "assessment"]
    g.term = hints.get("term") if g.kind in ("satisfaction", "exams") else None
    if g.kind != "satisfaction" and g.kind != "exams":
        g.why = [w for w in g.why if not w.startswith("term")]
    if g.kind == "assessment":
        g.wave = hints.get("wave")
        if g.wave is None:
            g.questions.append('pre or post? (前测 or 后测: write wave = "pre" or "post")')
    return g


def guess_file(root: Path, rel: str) -> list[Guess]:
    """One guess per file, or one per sheet when its sheets hold different things."""
    try:
        sheets = [(s, c, e) for s, c, e in read_file(root / rel, rel) if not c.empty]
    except InputError as e:
        return [Guess(path=rel, questions=[f"unreadable: {e}; what is this file?"])]
    guesses = [(s, guess_sheet(rel, s, c, e)) for s, c, e in sheets]
    kinds = {(g.kind, g.year, g.term, g.wave, g.codebook) for _, g in guesses}
    if len(kinds) <= 1 and guesses:
        return [guesses[0][1]]  # every sheet the same: one source, all sheets read
    out = []
    for s, g in guesses:
        g.sheet = s
        out.append(g)
    return out


def scan_folder(folder: str | Path) -> list[Guess]:
    """A guess for every spreadsheet and CSV under ``folder`` (hidden and lock files skipped)."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError("folder not found", file=str(root))
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix.lower() in WORKBOOK_EXT | TEXT_EXT
        and not any(part.startswith((".", "~$")) for part in p.relative_to(root).parts)
    )
    return [g for p in files for g in guess_file(root, p.relative_to(root).as_posix())]


# ----------------------------------------------------------------------------- study.toml


def render(guesses: list[Guess], *, name: str) -> str:
    """The text of the suggested study.toml: [study] and one commented entry per source."""
    sure = [g for g in guesses if g.sure]
    levels = Counter(g.level for g in sure if g.level)
    level = levels.most_common(1)[0][0] if levels else "primary"
    for g in guesses:  # a questionnaire of the other level is a question, not a source
        if g.sure and g.level and g.level != level:
            g.questions.append(f"a {g.level} questionnaire in a {level} study: which level?")
    years = sorted({g.year for g in guesses if g.sure and g.year is not None})
    study = {"name": name, "school": "", "level": level, "years": years or [2023]}
    head = [
        "# Suggested by `mentorlib init`: check every entry, answer the questions of the",
        "# commented-out ones, then run `mentorlib check` on this folder.",
    ]
    head.append("# ? school: the school's name as the reports print it (e.g. 某某市第一小学)")
    if not levels:
        head.append("# ? level: no questionnaire told primary from middle: check it")
    if not years:
        head.append("# ? years: no file's school year could be told: list them")
    parts = ["\n".join(head), tomli_w.dumps({"study": study}).strip()]
    for g in guesses:
        entry = "[[sources]]\n" + "".join(tomli_w.dumps({k: v}) for k, v in g.entry().items())
        entry = entry.strip()
        why = "# " + "; ".join(g.why) if g.why else "# (nothing recognised)"
        if g.sure:
            parts.append(f"{why}\n{entry}")
        else:
            qs = "\n".join(f"# ? {q}" for q in g.questions)
            body = "\n".join(f"# {line}" for line in entry.splitlines())
            parts.append(f"{qs}\n{why}\n{body}")
    return "\n\n".join(parts) + "\n"


@dataclass
class InitResult:
    """What ``init`` wrote: the file, whether it is a suggestion beside an existing study.toml,
    and the guesses (``sure``: listed; else commented out with its questions)."""

    path: Path
    suggested: bool
    guesses: list[Guess]

    def to_dict(self) -> dict:
        return {
            "path": str(self.path),
            "suggested": self.suggested,
            "sources": [
                {**g.entry(), "sure": g.sure, "why": g.why, "questions": g.questions}
                for g in self.guesses
            ],
        }

    def lines(self) -> list[str]:
        n_sure = sum(g.sure for g in self.guesses)
        out = [
            f"Wrote {self.path}: {n_sure} of {len(self.guesses)} files recognised"
            + (" (study.toml exists and was left as it is)" if self.suggested else "")
        ]
        for g in self.guesses:
            if not g.sure:
                out.append(f"  ? {g.path}{f' [{g.sheet}]' if g.sheet else ''}: {g.questions[0]}")
        return out


def init_study(folder: str | Path) -> InitResult:
    """Scan ``folder`` and write a suggested ``study.toml`` (``study.toml.suggested`` when one
    exists: an existing study.toml is never overwritten).

    Returns
    -------
    InitResult
        ``path`` written, ``suggested``, ``guesses`` (one per source, :class:`Guess`).
    """
    root = Path(folder)
    guesses = scan_folder(root)
    write_versions(root, guesses)
    name = re.sub(r'[/\\:*?"<>|\s]+', "_", root.resolve().name).strip("._") or "my_study"
    text = render(guesses, name=name[:64])
    target = root / "study.toml"
    suggested = target.exists()
    if suggested:
        target = root / "study.toml.suggested"
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    return InitResult(path=target, suggested=suggested, guesses=guesses)
