"""A processed study: the canonical tables every analysis stage reads.

The cleaner (``mentorlib clean``) writes them to ``data/processed/<study>/`` as Parquet, with a
``study.json`` beside them (name, level, years, codebooks and the study's own ``[rules]``);
:func:`load_processed` reads them back. :func:`from_synth` gives the same object straight from a
generated study (the generator's answer key), which tests and validation scripts use to study a
stage without cleaning first. :func:`mentorlib.io.open.open_study` takes either kind of folder.

This module is a leaf: it imports no stage (not the cleaner, not the generator). The columns and
dtypes of every table are written once, in :mod:`mentorlib.tables`
(``python -c "import mentorlib.tables as t; print(t.describe())"`` prints them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from .errors import InputError
from .io.codebook import Codebook, load_codebook
from .rules import Rulebook, rulebook
from .tables import TABLES, table

__all__ = ["OPTIONAL_TABLES", "TABLES", "Processed", "empty_table", "from_synth", "load_processed"]

#: The tables of the optional source kinds (needs_survey, exams, satisfaction, activities,
#: rewards, mood). A study without one of them reads it as an empty table with the contract's
#: columns, so every stage runs on a study that has only the required kinds.
OPTIONAL_TABLES = ("needs", "exams", "satisfaction", "activities", "rewards", "mood")


def empty_table(name: str) -> pd.DataFrame:
    """An empty table ``name`` with every column of the contract in its dtype.

    Examples
    --------
    >>> empty_table("rewards").columns[:3].tolist(), len(empty_table("rewards"))
    (['student_id', 'date', 'year'], 0)
    """
    return pd.DataFrame({c.name: pd.Series(dtype=c.dtype) for c in table(name).columns})


@dataclass
class Processed:
    """The canonical tables of one study and what they are.

    ``overrides`` are the study's own ``[rules]`` (study.toml, carried in study.json);
    :attr:`rules` is the level's rulebook with them applied.
    """

    name: str
    level: str
    years: tuple[int, ...]
    tables: dict[str, pd.DataFrame]
    codebooks: dict[str, str] = field(default_factory=dict)
    root: Path | None = None
    school: str = ""
    pseudonymised: bool = False
    synthetic: bool = False  # study.toml says the data are synthetic (reports say so too)
    overrides: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, table: str) -> pd.DataFrame:
        """The table; a table the study lacks or that has no columns (as the cleaner writes a
        kind with no source: a school that handed over only its roster) is read as an empty
        contract table. Only the roster itself must be there: a study without one is none."""
        df = self.tables.get(table)
        absent = df is None and table in TABLES and table != "students"
        if absent or (df is not None and len(df.columns) == 0):
            return empty_table(table)
        try:
            return self.tables[table]
        except KeyError:
            raise KeyError(
                f"study {self.name!r} has no table {table!r}; it has {sorted(self.tables)}"
            ) from None

    def assessment(self, stage: str) -> pd.DataFrame:
        """The assessment answers, or a one-line error naming what ``stage`` needs (a school
        that handed over its roster and records but no assessment)."""
        items = self["assessment_items"]
        if items.empty:
            raise InputError(
                f'study {self.name!r} has no assessment answers (no kind = "assessment" '
                f"source in its study.toml, or none read): {stage} needs the development "
                "assessment's pre- and post-test"
            )
        return items

    def __contains__(self, table: str) -> bool:
        return table in self.tables

    @property
    def rules(self) -> Rulebook:
        """The study's resolved rulebook: the level's rules with the study's ``[rules]``."""
        return rulebook(self.level, self.overrides)

    def with_rules(self, **overrides: Any) -> Processed:
        """A copy with more rules set (validated now), the tables shared, not copied.

        Examples
        --------
        >>> p = Processed("demo", "primary", (2024,), {})
        >>> p.with_rules(min_cell=10).rules.min_cell, p.rules.min_cell
        (10, 5)
        """
        merged = {**self.overrides, **overrides}
        rulebook(self.level, merged)  # an unknown rule or a bad value fails here, in one line
        return replace(self, overrides=merged)

    def up_to(self, year: int) -> Processed:
        """A copy holding the school years up to ``year`` only (every table's rows of later
        years dropped; rows without a year kept): what the study held at the end of
        ``year``, so an annual summary never shows a later year (issue 16).

        Examples
        --------
        >>> import pandas as pd
        >>> p = Processed("s", "primary", (2023, 2024), {"staff": pd.DataFrame({"year": [2023, 2024]})})
        >>> q = p.up_to(2023)
        >>> q.years, len(q["staff"]), len(p["staff"])
        ((2023,), 1, 2)
        """
        if all(y <= year for y in self.years):
            return self
        tables = {}
        for name, df in self.tables.items():
            if "year" in df.columns:
                later = pd.to_numeric(df["year"], errors="coerce") > year
                df = df.loc[~later.to_numpy()].reset_index(drop=True) if later.any() else df
            tables[name] = df
        return replace(self, years=tuple(y for y in self.years if y <= year), tables=tables)

    def report_year(self, year: int | None = None) -> int:
        """The school year a summary of the study reports: ``year`` when given, else the last
        year with a post-wave assessment (:attr:`assessed_years`), else the study's last year
        (:class:`~mentorlib.errors.InputError` when it lists none).

        Examples
        --------
        >>> Processed("s", "primary", (2023, 2024), {}).report_year(), Processed(
        ...     "s", "primary", (2023, 2024), {}).report_year(2023)
        (2024, 2023)
        """
        if year is not None:
            return int(year)
        years = self.assessed_years or self.years
        if not years:
            raise InputError(f"study {self.name!r} lists no school year")
        return int(years[-1])

    @property
    def assessed_years(self) -> tuple[int, ...]:
        """The years with a post-wave assessment (an outcome to analyse), in order."""
        a = self.tables.get("assessment_items")
        if a is None or not len(a) or "wave" not in a:
            return ()
        return tuple(sorted({int(y) for y in a.loc[a["wave"].astype(str) == "post", "year"]}))

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
    """Read a processed study folder written by the cleaner (tables, study.json, ``[rules]``)."""
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
    overrides = dict(meta.get("rules", {}))
    try:
        rulebook(meta["level"], overrides)
    except InputError as e:
        raise InputError(str(e), file=str(meta_path)) from None
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
        overrides=overrides,
    )


class SynthLike(Protocol):
    """What :func:`from_synth` needs of a generated study (:class:`mentorlib.synth.SynthStudy`)."""

    params: Any
    school_name: str

    def canonical_tables(self) -> dict[str, pd.DataFrame]: ...


def from_synth(
    study: SynthLike,
    tables: dict[str, pd.DataFrame] | None = None,
    *,
    rules: dict[str, Any] | None = None,
) -> Processed:
    """The canonical tables of a generated study (:func:`mentorlib.synth.generate`).

    Parameters
    ----------
    study : SynthStudy
        A generated study.
    tables : dict, optional
        Its canonical tables; by default ``study.canonical_tables()``.
    rules : dict, optional
        The study's ``[rules]`` (as in study.toml), e.g. ``{"min_cell": 10}``.
    """
    if tables is None:
        tables = study.canonical_tables()
    p = study.params
    out = Processed(
        name=f"synth-seed{p.seed}",
        level=p.level,
        years=tuple(p.years),
        tables=tables,
        school=study.school_name,
        synthetic=True,
    )
    return out.with_rules(**rules) if rules else out
