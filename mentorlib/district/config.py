"""A district folder: ``district.toml`` and its schools.

Layout::

    district/
      district.toml          [district] name, pseudonym policy; optional [[schools]]
      <school_id>/           one folder per school, holding its study folder:
        study.toml           either directly (the school folder is the study folder)
        ... or <study>/study.toml (exactly one study folder inside)

``district.toml``::

    [district]
    name = "示范区"
    pseudonym = "school"            # "school" (default) or "district"
    pseudonym_key_file = "key.txt"  # with pseudonym = "district" (else MENTORLIB_PSEUDONYM_KEY)
    synthetic = true                # written by `mentorlib synth --district` (informative)

    [[schools]]                     # optional: without it every sub-folder holding a study is
    id = "school_01"                # a school (found automatically, sorted by folder name)
    path = "school_01"              # relative to the district folder
    name = "第一小学"               # optional display name (default: the study's school)

Pseudonym key policy: ``school`` (each school's own ``study.toml`` key, or the environment
variable, exactly as ``mentorlib clean``); ``district`` (one key for every school, so a student
who moves between schools keeps one pseudonym: ``pseudonym_key_file`` here or
``MENTORLIB_PSEUDONYM_KEY``; a school whose ``study.toml`` names a key of its own is an error,
since the two policies would disagree).

Any other table or key is an error naming it (a misspelt ``pseudonym`` would otherwise change
the privacy set-up silently). A school whose own ``study.toml`` cannot be read is not: it is
kept with its one-line reason (:attr:`School.error`) and reported as failed by the run, while
the other schools go on.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..clean.pseudonymise import ENV_KEY
from ..errors import InputError
from ..io.study import load_config, safe_name
from .messages import one_line

DISTRICT_FILE = "district.toml"
POLICIES = ("school", "district")
#: Sub-folders of a district folder that are never schools.
NOT_SCHOOLS = frozenset({"truth"})
#: The tables of district.toml and the keys each may hold.
KNOWN_KEYS = {
    "district": ("name", "pseudonym", "pseudonym_key_file", "synthetic"),
    "schools": ("id", "path", "name"),
}


@dataclass(frozen=True)
class School:
    """One school of a district: its id (folder-safe, public), study folder and name.

    ``error``: why the school's ``study.toml`` cannot be read (one line), or None; such a
    school has no level and no years and is reported as failed, the others run."""

    school_id: str
    study_dir: Path
    name: str
    level: str
    years: tuple[int, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class DistrictConfig:
    """A district folder read and checked (:func:`load_district`)."""

    root: Path
    name: str
    schools: tuple[School, ...]
    pseudonym: str = "school"
    #: With ``pseudonym = "district"``: the key file (absolute), or None for the environment.
    key_file: Path | None = None
    notes: list[str] = field(default_factory=list)


def load_district(path: str | Path) -> DistrictConfig:
    """Read ``path/district.toml`` and find the schools.

    Raises
    ------
    InputError
        No district.toml, invalid TOML, an unknown pseudonym policy, a listed school whose
        folder holds no study, two schools with one id, no school at all, a district key policy
        with no key (file missing, variable unset) or a school with a key of its own.
    """
    root = Path(path)
    toml = root / DISTRICT_FILE
    if not toml.is_file():
        raise InputError(
            f"no {DISTRICT_FILE} in {root} (a district folder holds district.toml and one "
            "folder per school; `mentorlib synth OUT --district N` writes an example)"
        )
    try:
        data = tomllib.loads(toml.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"invalid TOML: {e}", file=str(toml)) from None
    d = data.get("district", {})
    if not isinstance(d, dict):
        raise InputError("[district] must be a table", file=str(toml))
    _check_keys(data, toml)
    name = str(d.get("name", root.resolve().name))
    policy = d.get("pseudonym", "school")
    if policy not in POLICIES:
        raise InputError(f"[district] pseudonym must be one of {POLICIES}", file=str(toml))
    notes: list[str] = []
    listed = data.get("schools")
    schools = _listed(listed, root, toml) if listed is not None else _found(root, notes)
    if not schools:
        raise InputError(f"no school found in {root}: no sub-folder holds a study.toml")
    ids = [s.school_id for s in schools]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise InputError(f"school id(s) {dup} given twice", file=str(toml))
    key_file = _key_policy(policy, d, root, toml, schools)
    return DistrictConfig(root, name, tuple(schools), policy, key_file, notes)


def _check_keys(data: dict, toml: Path) -> None:
    """An unknown table or key of district.toml is an error naming it (and the near miss)."""
    unknown = [k for k in data if k not in KNOWN_KEYS]
    if unknown:
        shown = {"district": "[district]", "schools": "[[schools]]"}
        close = difflib.get_close_matches(unknown[0], list(shown), n=1)
        hint = f" (did you mean {shown[close[0]]}?)" if close else ""
        raise InputError(
            f"unknown table or key {unknown[0]!r}{hint} (known: [district], [[schools]])",
            file=str(toml),
        )
    entries = data.get("schools")
    tables = [("[district]", data.get("district", {}), KNOWN_KEYS["district"])]
    if isinstance(entries, list):
        tables += [("[[schools]]", e, KNOWN_KEYS["schools"]) for e in entries]
    for where, table, known in tables:
        bad = [k for k in table if k not in known] if isinstance(table, dict) else []
        if bad:
            raise InputError(
                f"{where}: unknown key {bad[0]!r}{_near(bad[0], known)} "
                f"(known: {', '.join(known)})",
                file=str(toml),
            )


def _near(key: str, known) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _school(school_id: str, study_dir: Path, name: str | None, toml: Path) -> School:
    sid = safe_name(school_id, what="school id", file=str(toml))
    try:
        cfg = load_config(study_dir)
    except InputError as e:  # this school fails, with its reason; the others run
        return School(sid, study_dir, name or sid, "", error=one_line(e))
    return School(sid, study_dir, name or cfg.school or sid, cfg.level, tuple(cfg.years))


def _listed(listed, root: Path, toml: Path) -> list[School]:
    if not isinstance(listed, list) or not all(isinstance(x, dict) for x in listed):
        raise InputError("[[schools]] must be a list of tables (id, path)", file=str(toml))
    out = []
    for x in listed:
        if "id" not in x or "path" not in x:
            raise InputError("every [[schools]] entry needs id and path", file=str(toml))
        study = _study_in(root / str(x["path"]))
        if study is None:
            raise InputError(f"school {x['id']}: no study.toml in {x['path']}", file=str(toml))
        out.append(_school(str(x["id"]), study, x.get("name"), toml))
    return out


def _found(root: Path, notes: list[str]) -> list[School]:
    out = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if sub.name in NOT_SCHOOLS:
            continue
        study = _study_in(sub)
        if study is None:
            notes.append(f"{sub.name}: not a school (no study.toml in it or one level down)")
            continue
        out.append(_school(sub.name, study, None, root / DISTRICT_FILE))
    return out


def _study_in(folder: Path) -> Path | None:
    """The study folder of a school folder: itself, or its one sub-folder with a study.toml."""
    if (folder / "study.toml").is_file():
        return folder
    if not folder.is_dir():
        return None
    inner = sorted(p.parent for p in folder.glob("*/study.toml"))
    if len(inner) > 1:
        raise InputError(
            f"{folder}: {len(inner)} study folders in one school folder; list the school in "
            "district.toml [[schools]] with the path of its study"
        )
    return inner[0] if inner else None


def _key_policy(policy: str, d: dict, root: Path, toml: Path, schools) -> Path | None:
    if policy == "school":
        if "pseudonym_key_file" in d:
            raise InputError(
                'pseudonym_key_file applies only with pseudonym = "district"', file=str(toml)
            )
        return None
    own = [s.school_id for s in schools if s.error is None and _has_own_key(s.study_dir)]
    if own:
        raise InputError(
            f'pseudonym = "district" but school(s) {own} name a key of their own in '
            'study.toml: remove it there, or use pseudonym = "school"',
            file=str(toml),
        )
    if "pseudonym_key_file" in d:
        kf = (root / str(d["pseudonym_key_file"])).resolve()
        if not kf.is_file():
            raise InputError(f"pseudonym_key_file not found: {kf}", file=str(toml))
        return kf
    if not os.environ.get(ENV_KEY, "").strip():
        raise InputError(
            f'pseudonym = "district" needs a key: pseudonym_key_file in [district] or {ENV_KEY}',
            file=str(toml),
        )
    return None


def _has_own_key(study_dir: Path) -> bool:
    cfg = load_config(study_dir)
    return cfg.pseudonym_key is not None or cfg.pseudonym_key_file is not None
