"""A processed study: the canonical tables every analysis stage reads.

The cleaner (``mentorlib clean``) writes them to ``data/processed/<study>/`` as Parquet, with a
``study.json`` beside them; :func:`load_processed` reads them back. :func:`from_synth` gives the
same object straight from a generated study (the generator's answer key), which tests and
validation scripts use to study a stage without cleaning first.

Canonical tables (columns; DESIGN.md "Canonical tables")
--------------------------------------------------------
students
    student_id, year, name, gender (female/male), birth_date, grade, class_no, transfer,
    family (two_parent/single_parent/reconstituted), left_behind, home_area, mentee,
    height_cm, weight_kg. One row per student and school year. Pseudonymised (a study with a
    pseudonym key): no name column, and birth_date is the first day of the month of birth.
staff
    staff_id, year, name (none when pseudonymised), gender, role (principal/admin/class_teacher/subject_teacher/support),
    subject, grade, link_class ("3-2"), homeroom, classes ("3-2;3-4"), training_hours,
    certified, backbone, strengths (";"-joined: dimensions and interest areas).
assignments
    student_id, year, term, mentor_id, start_date, reason, regroup. A term-2 row (or a
    term-1 row with ``regroup``) is a change of mentor.
needs
    student_id, year, weak_areas, help_wanted, interests (";"-joined codes), other_text,
    submitted_at; middle school also pref_1..pref_3 (staff IDs).
assessment_items
    student_id, year, wave (pre/post), dimension, item, value (the answer as given, 1-5;
    reverse-keyed items are *not* recoded here).
exams
    student_id, year, term, subject, score (0-100, missing when absent), status (sat/absent).
satisfaction
    student_id, year, term, sat_1..sat_5, satisfaction (mean), want_change, reason,
    reason_text, submitted_at.
activities
    mentor_id, student_id (missing for group activities), date, year, term, activity (talk,
    student_report, three_party, parent_call, home_visit, subject_exchange,
    group_counselling, case_conference), mode, duration_min.
rewards
    student_id, date, year, term, kind (reward/penalty), reason, points.
mood
    student_id, year, month (YYYY-MM), school_days, days_recorded, n_happy, n_calm, n_sad,
    n_angry (primary only).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .codebook import Codebook, load_codebook
from .errors import InputError
from .rules import Rulebook, rulebook

TABLES = (
    "students",
    "staff",
    "assignments",
    "needs",
    "assessment_items",
    "exams",
    "satisfaction",
    "activities",
    "rewards",
    "mood",
)


@dataclass
class Processed:
    """The canonical tables of one study and what they are."""

    name: str
    level: str
    years: tuple[int, ...]
    tables: dict[str, pd.DataFrame]
    codebooks: dict[str, str] = field(default_factory=dict)
    root: Path | None = None
    school: str = ""
    pseudonymised: bool = False
    synthetic: bool = False  # study.toml says the data are synthetic (reports say so too)

    def __getitem__(self, table: str) -> pd.DataFrame:
        try:
            return self.tables[table]
        except KeyError:
            raise KeyError(
                f"study {self.name!r} has no table {table!r}; it has {sorted(self.tables)}"
            ) from None

    def __contains__(self, table: str) -> bool:
        return table in self.tables

    @property
    def rules(self) -> Rulebook:
        return rulebook(self.level)

    @property
    def dimensions(self) -> tuple[str, ...]:
        return self.rules.dimensions

    def codebook(self, kind: str = "assessment") -> Codebook:
        """The codebook the study's ``kind`` sources were read with (reverse keys, alphas)."""
        name = self.codebooks.get(kind) or (
            f"assessment_{self.level}" if kind == "assessment" else kind
        )
        return load_codebook(name, base=self.root)


def load_processed(path: str | Path) -> Processed:
    """Read a processed study folder written by the cleaner."""
    root = Path(path)
    meta_path = root / "study.json"
    if not meta_path.is_file():
        raise InputError(
            "not a processed study (no study.json); run `mentorlib clean` first", file=str(root)
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    tables = {
        p.stem: pd.read_parquet(p) for p in sorted(root.glob("*.parquet")) if p.stem in TABLES
    }
    return Processed(
        name=meta["name"],
        level=meta["level"],
        years=tuple(meta["years"]),
        tables=tables,
        codebooks=meta.get("codebooks", {}),
        root=root,
        school=meta.get("school", ""),
        pseudonymised=bool(meta.get("pseudonymised", False)),
        synthetic=bool(meta.get("synthetic", False)),
    )


def from_synth(study) -> Processed:
    """The canonical tables of a generated study (:func:`mentorlib.synth.generate`)."""
    from .synth import canonical_tables

    p = study.params
    return Processed(
        name=f"synth-seed{p.seed}",
        level=p.level,
        years=tuple(p.years),
        tables=canonical_tables(study),
        school=study.school_name,
        synthetic=True,
    )


def open_study(path: str | Path) -> Processed:
    """A study's canonical tables from a processed folder, or a raw study folder cleaned in memory.

    The notebooks take either: ``data/processed/demo`` (fast) or ``data/raw/demo`` / ``data/sample``
    (cleaned on the fly, nothing written).
    """
    root = Path(path)
    if (root / "study.json").is_file():
        return load_processed(root)
    if (root / "study.toml").is_file():
        from .clean import load_study

        return load_study(root)
    raise InputError(
        "neither a processed study (study.json) nor a raw study folder (study.toml)", file=str(root)
    )
