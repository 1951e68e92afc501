"""A study folder's ``study.toml``: what the school handed over, and what each file is.

See DESIGN.md ("The study folder") and README ("Using it on your own study"). Reading a config
checks everything that can be checked before a file is opened, and every problem is a one-line
:class:`~mentorlib.errors.InputError` naming the file and the offending entry.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .codebook import default_codebook
from .errors import InputError

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

    def of_kind(self, kind: str) -> list[Source]:
        return [s for s in self.sources if s.kind == kind]


def load_config(study_dir: str | Path) -> StudyConfig:
    """Read and check ``study_dir/study.toml``.

    Raises
    ------
    InputError
        No study.toml, invalid TOML, an unknown level or kind, a missing path, a year outside
        the study's years, a wave other than pre/post, an unknown encoding.
    """
    root = Path(study_dir)
    path = root / "study.toml"
    if not root.is_dir():
        raise InputError("study folder not found", file=str(root))
    if not path.is_file():
        raise InputError("no study.toml in the study folder", file=str(root))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"not valid TOML ({e})", file=str(path)) from None
    st = data.get("study")
    if not isinstance(st, dict):
        raise InputError("missing [study] table", file=str(path))
    level = st.get("level")
    if level not in ("primary", "middle"):
        raise InputError(
            f"[study] level must be 'primary' or 'middle', got {level!r}", file=str(path)
        )
    years = st.get("years")
    if not isinstance(years, list) or not years or not all(isinstance(y, int) for y in years):
        raise InputError(
            "[study] years must be a list of school years, e.g. [2023, 2024]", file=str(path)
        )
    raw_sources = data.get("sources", [])
    if not raw_sources:
        raise InputError("no [[sources]] listed", file=str(path))
    sources = []
    for i, s in enumerate(raw_sources, 1):
        where = f"[[sources]] #{i}"
        kind = s.get("kind")
        if kind not in KINDS:
            raise InputError(
                f"{where}: unknown kind {kind!r} (expected one of {', '.join(KINDS)})",
                file=str(path),
            )
        if not isinstance(s.get("path"), str):
            raise InputError(f"{where}: missing path", file=str(path))
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
        sources.append(
            Source(
                kind=kind,
                path=s["path"],
                codebook=s.get("codebook") or default_codebook(kind, level),
                year=s.get("year"),
                term=s.get("term"),
                wave=s.get("wave"),
                sheet=s.get("sheet"),
                encoding=enc.lower() if enc else None,
            )
        )
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
        name=st.get("name") or root.name,
        level=level,
        years=tuple(years),
        sources=tuple(sources),
        school=st.get("school", ""),
        synthetic=bool(st.get("synthetic", False)),
        pseudonym_key=st.get("pseudonym_key"),
        pseudonym_key_file=st.get("pseudonym_key_file"),
        extra={k: v for k, v in st.items() if k not in known},
    )
