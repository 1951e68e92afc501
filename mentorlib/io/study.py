"""A study folder's ``study.toml``: what the school handed over, and what each file is.

See DESIGN.md ("The study folder") and README ("Using it on your own study"). Reading a config
checks everything that can be checked before a file is opened, and every problem is a one-line
:class:`~mentorlib.errors.InputError` naming the file and the offending entry.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..rules import rulebook
from .codebook import default_codebook

KINDS = (
    "students",
    "staff",
    "groups",
    "needs_survey",
    "assessment",
    "exams",
    "satisfaction",
    "activities",
    "rewards",
    "mood",
)
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312", "big5")
#: The longest study name (characters): it becomes a folder name under data/processed/ and
#: reports/, and file names are limited to 255 bytes (a CJK character takes three).
MAX_NAME = 64

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

#: Resource limits of the readers (``[limits]`` in study.toml); a file over a limit is refused
#: with one line before it is read. See README ("Using it on your own study").
DEFAULT_LIMITS = {
    "sheet_mb": 500,  # uncompressed XML of the worksheets and shared strings of a workbook
    "cells": 50_000_000,  # cells of a workbook's worksheets (counted in their XML)
    "csv_mb": 1000,  # size of one CSV file
    "ratio": 100,  # uncompressed / compressed size of a sheet over 20 MB (a zip bomb)
}


@dataclass(frozen=True)
class Source:
    """One raw file (or one sheet of it) and what it holds."""

    kind: str
    path: str
    codebook: str
    year: int | None = None
    term: int | None = None
    wave: str | None = None
    sheet: str | None = None
    encoding: str | None = None


@dataclass(frozen=True)
class StudyConfig:
    root: Path
    name: str
    level: str
    years: tuple[int, ...]
    sources: tuple[Source, ...]
    school: str = ""
    synthetic: bool = False
    pseudonym_key: str | None = None
    pseudonym_key_file: str | None = None
    extra: dict = field(default_factory=dict)
    limits: dict = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    rules: dict = field(default_factory=dict)  # the study's [rules]: rule name -> value

    def of_kind(self, kind: str) -> list[Source]:
        return [s for s in self.sources if s.kind == kind]


def load_config(study_dir: str | Path) -> StudyConfig:
    """Read and check ``study_dir/study.toml``.

    Raises
    ------
    InputError
        No study.toml, invalid TOML, an unknown level or kind, a missing path, a year outside
        the study's years, a wave other than pre/post, an unknown encoding; a value of the wrong
        type (``encoding = 5``, ``year = "2023"``, ``[sources]`` written as one table); a
        control character in any value; a study name that is not a safe folder name; a source
        path leading outside the study folder (symlinks followed) without
        ``allow_outside = true``; the same file (and sheet) listed twice; a bad ``[limits]``;
        an unknown rule or a bad value in ``[rules]`` (:func:`mentorlib.rules.rulebook`).
    """
    root = Path(study_dir)
    path = root / "study.toml"
    data = _read_toml(root, path)
    st = data.get("study")
    if not isinstance(st, dict):
        raise InputError("missing [study] table", file=str(path))
    level, years, name = _study_table(st, root, path)
    known = {
        "name",
        "school",
        "level",
        "years",
        "synthetic",
        "generator",
        "pseudonym_key",
        "pseudonym_key_file",
    }
    return StudyConfig(
        root=root,
        name=name,
        level=level,
        years=tuple(years),
        sources=_sources(data.get("sources", []), root, path, level, years),
        school=st.get("school", ""),
        synthetic=bool(st.get("synthetic", False)),
        pseudonym_key=st.get("pseudonym_key"),
        pseudonym_key_file=st.get("pseudonym_key_file"),
        extra={k: v for k, v in st.items() if k not in known},
        limits=_limits(data.get("limits"), path),
        rules=_rules(data.get("rules"), level, path),
    )


def _read_toml(root: Path, path: Path) -> dict:
    if not root.is_dir():
        raise InputError("study folder not found", file=str(root))
    if not path.is_file():
        raise InputError("no study.toml in the study folder", file=str(root))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"not valid TOML ({e})", file=str(path)) from None
    _no_control_chars(data, path)
    return data


def _study_table(st: dict, root: Path, path: Path) -> tuple[str, list[int], str]:
    """The level, years and name of ``[study]``, checked."""
    level = st.get("level")
    if level not in ("primary", "middle"):
        raise InputError(
            f"[study] level must be 'primary' or 'middle', got {level!r}", file=str(path)
        )
    years = st.get("years")
    if not isinstance(years, list) or not years or not all(_is_int(y) for y in years):
        raise InputError(
            "[study] years must be a list of school years written as numbers, e.g. "
            f"[2023, 2024], got {years!r}",
            file=str(path),
        )
    name = st.get("name")
    if name is None or name == "":
        name = root.resolve().name
    if not isinstance(name, str):
        raise InputError(f"[study] name must be text in quotes, got {name!r}", file=str(path))
    name = safe_name(name, what="[study] name", file=str(path))
    for key in ("school", "pseudonym_key", "pseudonym_key_file"):
        if st.get(key) is not None and not isinstance(st[key], str):
            raise InputError(
                f"[study] {key} must be text in quotes, got {st[key]!r}", file=str(path)
            )
    return level, years, name


_SOURCE_KEYS = (
    ("year", int, "year = 2023"),
    ("term", int, "term = 1"),
    ("wave", str, 'wave = "pre"'),
    ("sheet", str, 'sheet = "Sheet1"'),
    ("encoding", str, 'encoding = "gb18030"'),
    ("codebook", str, 'codebook = "needs_primary"'),
    ("allow_outside", bool, "allow_outside = true"),
)


def _sources(raw, root: Path, path: Path, level: str, years: list[int]) -> tuple[Source, ...]:
    """The ``[[sources]]`` entries, each checked, and no file (and sheet) listed twice."""
    if isinstance(raw, dict):
        raise InputError(
            "[sources] is written as one table: list each file as its own [[sources]] entry "
            "(double brackets)",
            file=str(path),
        )
    if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
        raise InputError(
            "sources must be [[sources]] entries (double brackets), one per file", file=str(path)
        )
    if not raw:
        raise InputError("no [[sources]] listed", file=str(path))
    sources = []
    seen: dict[tuple, int] = {}
    for i, s in enumerate(raw, 1):
        src, full = _source(s, f"[[sources]] #{i}", root, path, level, years)
        same = (str(full), s.get("sheet"))
        if same in seen:
            sheet = f" sheet {s['sheet']!r} of" if s.get("sheet") else ""
            raise InputError(
                f"[[sources]] #{seen[same]} and #{i} both read{sheet} {s['path']!r}: "
                "list each file once",
                file=str(path),
            )
        seen[same] = i
        sources.append(src)
    return tuple(sources)


def _source(
    s: dict, where: str, root: Path, path: Path, level: str, years: list[int]
) -> tuple[Source, Path]:
    """One ``[[sources]]`` entry, checked, and the file it resolves to."""
    kind = s.get("kind")
    if kind not in KINDS:
        raise InputError(
            f"{where}: unknown kind {kind!r} (expected one of {', '.join(KINDS)})",
            file=str(path),
        )
    if not isinstance(s.get("path"), str) or not s["path"].strip():
        raise InputError(
            f"{where}: missing path (a file name in quotes, relative to the study folder)",
            file=str(path),
        )
    for key, typ, example in _SOURCE_KEYS:
        v = s.get(key)
        ok = _is_int(v) if typ is int else isinstance(v, typ)
        if v is not None and not ok:
            raise InputError(
                f"{where}: {key} = {v!r} is not valid (write it like {example})", file=str(path)
            )
    if s.get("year") is not None and s["year"] not in years:
        raise InputError(
            f"{where}: year {s['year']} is not one of the study's years {years}", file=str(path)
        )
    if kind == "assessment" and s.get("wave") not in ("pre", "post"):
        raise InputError(f"{where}: an assessment needs wave = 'pre' or 'post'", file=str(path))
    if s.get("term") not in (None, 1, 2):
        raise InputError(f"{where}: term must be 1 (autumn) or 2 (spring)", file=str(path))
    enc = s.get("encoding")
    if enc is not None and enc.lower() not in ENCODINGS:
        raise InputError(
            f"{where}: unknown encoding {enc!r} (expected one of {', '.join(ENCODINGS)})",
            file=str(path),
        )
    full = (root / s["path"]).resolve()
    if not s.get("allow_outside", False) and not full.is_relative_to(root.resolve()):
        raise InputError(
            f"{where}: path {s['path']!r} leads outside the study folder (to {full}); "
            "move the file into the study folder, or write allow_outside = true in this "
            "entry if that is intended",
            file=str(path),
        )
    src = Source(
        kind=kind,
        path=s["path"],
        codebook=s.get("codebook") or default_codebook(kind, level),
        year=s.get("year"),
        term=s.get("term"),
        wave=s.get("wave"),
        sheet=s.get("sheet"),
        encoding=enc.lower() if enc else None,
    )
    return src, full


def _rules(raw, level: str, path: Path) -> dict:
    """The ``[rules]`` table of study.toml, validated against the level's rulebook.

    Returns the overrides as written (plain TOML values), for ``study.json``."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InputError("[rules] must be a table, e.g. [rules] min_cell = 10", file=str(path))
    try:
        rulebook(level, raw)
    except InputError as e:  # the rulebook names the rule; say which file it came from
        raise InputError(str(e), file=str(path)) from None
    return dict(raw)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _no_control_chars(data, path: Path, where: str = "") -> None:
    """Refuse control characters (a pasted escape, a NUL) in any text of study.toml."""
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for k, v in items:
        at = f"{where}.{k}" if isinstance(k, str) else f"{where} #{k + 1}"
        at = at.lstrip(".")
        if isinstance(k, str) and _CONTROL.search(k):
            raise InputError(f"control character in the key {k!r}", file=str(path))
        if isinstance(v, str) and _CONTROL.search(v):
            raise InputError(
                f"{at} = {v!r} holds a control character (an invisible character such as a "
                "tab escape or NUL): retype the value",
                file=str(path),
            )
        if isinstance(v, dict | list):
            _no_control_chars(v, path, str(at))


def safe_name(name: str, *, what: str = "study name", file: str | None = None) -> str:
    """A study name that is safe as one folder name (``data/processed/<name>``, ``reports/<name>``).

    Parameters
    ----------
    name : str
        The name as written.
    what, file : str
        Where the name came from, for the message.

    Returns
    -------
    str
        The name, stripped of surrounding spaces.

    Raises
    ------
    InputError
        Empty, ``.`` or ``..``, starting with a dot, or holding a path separator, a control
        character or one of ``:*?"<>|``: the name would write outside its folder or cannot be
        a folder name on every system. Longer than :data:`MAX_NAME` characters (a file name
        has a length limit), or holding an invisible format character (Unicode category Cf:
        bidi overrides U+202A-U+202E and isolates U+2066-U+2069, U+200E/U+200F, zero-width
        characters), which would make the name display as something it is not.
    """
    n = name.strip()
    if len(n) > MAX_NAME:
        raise InputError(
            f"{what} is {len(n)} characters long: keep it to at most {MAX_NAME} (it becomes a "
            f"folder name), e.g. {n[:20]!r}",
            file=file,
        )
    fmt = next((c for c in n if unicodedata.category(c) == "Cf"), None)
    if fmt is not None:  # bidi overrides (U+202E) and other invisible format characters
        raise InputError(
            f"{what} {n.encode('unicode_escape').decode('ascii')!r} holds the invisible format "
            f"character U+{ord(fmt):04X} (e.g. a right-to-left override that makes the name read "
            "differently from what it is): retype the name",
            file=file,
        )
    bad = (
        not n
        or n.startswith(".")
        or any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in n)
        or any(c in n for c in '/\\:*?"<>|')
    )
    if bad:
        raise InputError(
            f"{what} {name!r} cannot be used as a folder name: use letters, digits, - or _ "
            '(no /, \\, .., leading dot, control characters or :*?"<>|)',
            file=file,
        )
    return n


def _limits(raw, path: Path) -> dict:
    """The ``[limits]`` table of study.toml, over :data:`DEFAULT_LIMITS`."""
    out = dict(DEFAULT_LIMITS)
    if raw is None:
        return out
    if not isinstance(raw, dict):
        raise InputError("[limits] must be a table, e.g. [limits] sheet_mb = 800", file=str(path))
    for k, v in raw.items():
        if k not in DEFAULT_LIMITS:
            raise InputError(
                f"[limits] {k}: unknown limit (known: {', '.join(DEFAULT_LIMITS)})", file=str(path)
            )
        if not _is_int(v) or v <= 0:
            raise InputError(
                f"[limits] {k} must be a positive whole number, got {v!r}", file=str(path)
            )
        out[k] = v
    return out
