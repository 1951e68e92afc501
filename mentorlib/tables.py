"""The canonical tables: every column, its dtype and its vocabulary, written once.

The cleaner (:mod:`mentorlib.clean`) casts what it read to this contract, the pandera schemas
(:mod:`mentorlib.clean.validate`) check the contract's vocabularies, :mod:`mentorlib.data` lists
the tables from it, and the synthetic generator casts its answer key with :func:`conform`.

Dtypes (pandas 3, missing is missing):

========  ==================  ==========================================================
kind      pandas dtype        used for
========  ==================  ==========================================================
text      ``str``             IDs (学籍号, 工号), names, free text, ``;``-joined codes,
                              ``month`` ("2024-09"), ``home_area``
int       ``Int64``           years, terms, grades, class numbers, answers 1-5, counts
float     ``float64``         measurements and means (height, score, minutes, points);
                              an unreadable number is NaN
bool      ``boolean``         yes/no answers
date      ``datetime64[us]``  dates and submission times
category  ``category``        coded answers; with a fixed vocabulary (the categories, in
                              this order) where the code list is the programme's own
========  ==================  ==========================================================

Examples
--------
>>> import pandas as pd
>>> df = conform("exams", pd.DataFrame({"term": [1, 2], "status": ["sat", "absent"]}))
>>> str(df["term"].dtype), list(df["status"].cat.categories)
('Int64', ['sat', 'absent', 'exempt', 'invalid', 'void'])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pandas as pd

from .errors import InputError
from .labels import ACTIVITY_LABELS, ROLE_LABELS

KINDS = ("text", "int", "float", "bool", "date", "category")
DATE_DTYPE: Final = "datetime64[us]"

#: Fixed vocabularies of coded answers (categories in this order). gender, family and role are
#: in sorted order, the order pandas gives a categorical it infers, so a frame's categories
#: never depend on which codes one school happened to use.
VOCAB: dict[str, tuple[str, ...]] = {
    "gender": ("female", "male"),
    "family": ("reconstituted", "single_parent", "two_parent"),
    "role": tuple(sorted(ROLE_LABELS)),
    "wave": ("pre", "post"),
    "status": ("sat", "absent", "exempt", "invalid", "void"),
    "kind": ("reward", "penalty"),
    "activity": tuple(ACTIVITY_LABELS),  # the programme's activity kinds, in report order
}

#: The mood chart's colours, as counted per student and month (``n_<code>``).
MOOD_CODES: tuple[str, ...] = ("happy", "calm", "sad", "angry")


@dataclass(frozen=True)
class Column:
    """One column of a canonical table."""

    name: str
    kind: str
    vocab: tuple[str, ...] | None = None
    optional: bool = False  # absent from some studies (middle-school preferences, primary mood)

    @property
    def dtype(self) -> str | pd.CategoricalDtype:
        """The pandas dtype of the column."""
        if self.kind == "category":
            return pd.CategoricalDtype(list(self.vocab) if self.vocab else None)
        return {
            "text": "str",
            "int": "Int64",
            "float": "float64",
            "bool": "boolean",
            "date": DATE_DTYPE,
        }[self.kind]


@dataclass(frozen=True)
class Table:
    """A canonical table: its columns (in order), its key and what one row is."""

    name: str
    row: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    def dtypes(self) -> dict[str, str | pd.CategoricalDtype]:
        """Column name -> pandas dtype."""
        return {c.name: c.dtype for c in self.columns}


def _c(spec: str, kind: str, *, optional: bool = False) -> tuple[Column, ...]:
    """Columns of one kind, written as a space-separated list of names."""
    return tuple(Column(n, kind, VOCAB.get(n), optional) for n in spec.split())


def _t(name: str, row: str, *groups: tuple[Column, ...], key: str = "") -> Table:
    cols = tuple(c for g in groups for c in g)
    return Table(name, row, cols, tuple(key.split()))


# Columns are listed kind by kind; their order in a frame is the order the cleaner writes them.
_TABLES = (
    _t(
        "students",
        "a student in one school year (pseudonymised: no name, birth_date the 1st of the month)",
        _c("student_id", "text"),
        _c("year", "int"),
        _c("name", "text", optional=True),
        _c("gender", "category"),
        _c("birth_date", "date"),
        _c("grade class_no", "int"),
        _c("transfer left_behind mentee", "bool"),
        _c("family", "category"),
        _c("home_area", "text"),
        _c("height_cm weight_kg", "float"),
        key="student_id year",
    ),
    _t(
        "staff",
        "a staff member in one school year",
        _c("staff_id", "text"),
        _c("year", "int"),
        _c("name", "text", optional=True),
        _c("gender role subject", "category"),
        _c("grade", "int"),
        _c("link_class homeroom classes", "text"),
        _c("training_hours", "float"),
        _c("certified backbone", "bool"),
        _c("strengths", "text"),
        key="staff_id year",
    ),
    _t(
        "assignments",
        "a student's mentor from a term on (term 2, or regroup, is a change of mentor)",
        _c("student_id", "text"),
        _c("year term", "int"),
        _c("mentor_id", "text"),
        _c("start_date", "date"),
        _c("reason", "category"),
        _c("regroup", "bool"),
    ),
    _t(
        "needs",
        "a student's growth-needs survey in one school year",
        _c("student_id", "text"),
        _c("year", "int"),
        _c("weak_areas help_wanted interests other_text", "text"),
        _c("submitted_at", "date"),
        _c("pref_1 pref_2 pref_3", "text", optional=True),
        key="student_id year",
    ),
    _t(
        "assessment_items",
        "one answer of the development assessment (as given, 1-5; reverse keys not applied)",
        _c("student_id", "text"),
        _c("year", "int"),
        _c("wave dimension item", "category"),
        _c("value", "int"),
        key="student_id year wave item",
    ),
    _t(
        "exams",
        "a student's result in one subject and term",
        _c("student_id", "text"),
        _c("year term", "int"),
        _c("subject", "category"),
        _c("score", "float"),
        _c("status", "category"),
        key="student_id year term subject",
    ),
    _t(
        "satisfaction",
        "a student's satisfaction survey in one term",
        _c("student_id", "text"),
        _c("year term sat_1 sat_2 sat_3 sat_4 sat_5", "int"),
        _c("satisfaction", "float"),
        _c("want_change", "bool"),
        _c("reason", "category"),
        _c("reason_text", "text"),
        _c("submitted_at", "date"),
        key="student_id year term",
    ),
    _t(
        "activities",
        "one mentoring activity (no student_id for a group activity; grade, class_no: the class of a"
        " class-level one, when the log names it)",
        _c("mentor_id student_id", "text"),
        _c("date", "date"),
        _c("year term", "int"),
        _c("activity mode", "category"),
        _c("duration_min", "float"),
        _c("grade class_no", "int", optional=True),
    ),
    _t(
        "rewards",
        "one reward or penalty",
        _c("student_id", "text"),
        _c("date", "date"),
        _c("year term", "int"),
        _c("kind reason", "category"),
        _c("points", "float"),
    ),
    _t(
        "mood",
        "a student's mood chart for one month (primary schools)",
        _c("student_id", "text"),
        _c("year", "int"),
        _c("month", "text"),
        _c("school_days days_recorded " + " ".join(f"n_{c}" for c in MOOD_CODES), "int"),
        key="student_id month",
    ),
    _t(
        "cleaning_log",
        "one change the cleaner made (row missing: a note about a whole column or sheet)",
        _c("source sheet", "category"),
        _c("row", "int"),
        _c("column", "category"),
        _c("old new", "text"),
        _c("rule", "category"),
    ),
    _t(
        "quarantine",
        "a raw row the cleaner could not trust, with the reason and the row as read (JSON)",
        _c("source sheet", "text"),
        _c("row", "int"),
        _c("kind reason detail raw", "text"),
    ),
)

#: Every table of the contract, by name.
CONTRACT: dict[str, Table] = {t.name: t for t in _TABLES}

#: The canonical tables of a processed study (the analysis stages read these).
TABLES: tuple[str, ...] = tuple(t for t in CONTRACT if t not in ("cleaning_log", "quarantine"))


def table(name: str) -> Table:
    """The contract of one table."""
    try:
        return CONTRACT[name]
    except KeyError:
        raise InputError(f"unknown table {name!r}: expected one of {', '.join(CONTRACT)}") from None


def conform(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Cast a frame to the contract of table ``name``.

    Parameters
    ----------
    name : str
        A table of :data:`CONTRACT`.
    df : DataFrame
        The table. Not modified.

    Returns
    -------
    DataFrame
        A copy with every column of the contract that ``df`` has in its canonical dtype; columns
        the contract does not know (provenance, a generator's extras) are left as they are, and
        the order of columns and rows is kept. Idempotent.

    Raises
    ------
    InputError
        A coded column holds a value outside its vocabulary, or a number column text that is
        not a number.
    """
    spec = table(name)
    out = df.copy()
    for c in spec.columns:
        if c.name in out.columns:
            out[c.name] = _cast(out[c.name], c, name)
    return out


def _cast(s: pd.Series, col: Column, table_name: str) -> pd.Series:
    """One column in its contract dtype (unchanged when it already has it)."""
    kind = col.kind
    if kind == "int":
        return s if s.dtype == "Int64" else _numeric(s).astype("Int64")
    if kind == "float":
        return s if s.dtype == float else _numeric(s).astype(float)
    if kind == "bool":
        if s.dtype == "boolean":
            return s
        return pd.Series(
            pd.array(s.astype(object).where(s.notna(), None).to_numpy(), dtype="boolean"),
            index=s.index,
        )
    if kind == "date":
        return s if s.dtype == DATE_DTYPE else pd.to_datetime(s).astype(DATE_DTYPE)
    if kind == "category":
        return _category(s, col, table_name)
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.astype("str")
    if not pd.api.types.is_string_dtype(s) or s.dtype == object:
        return s.astype(object).where(s.notna(), None).astype("str")
    return s


def _numeric(s: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s):
        return s
    return pd.to_numeric(s.astype(object), errors="coerce")


def _category(s: pd.Series, col: Column, table_name: str) -> pd.Series:
    if col.vocab is None:
        if isinstance(s.dtype, pd.CategoricalDtype):
            return s
        return s.astype(object).astype("category")
    vocab = list(col.vocab)
    if isinstance(s.dtype, pd.CategoricalDtype) and list(s.cat.categories) == vocab:
        return s
    values = s.astype(object)
    odd = sorted({str(v) for v in values[values.notna()] if v not in col.vocab})
    if odd:
        raise InputError(
            f"{table_name}.{col.name}: {', '.join(odd[:5])} not in the vocabulary "
            f"({', '.join(vocab)})"
        )
    return pd.Series(pd.Categorical(values, categories=vocab), index=s.index, name=s.name)


def describe() -> str:
    """The contract as text: every table, what a row is, and each column's dtype."""
    lines = []
    for t in CONTRACT.values():
        key = f" (key: {', '.join(t.key)})" if t.key else ""
        lines.append(f"{t.name}: one row per {t.row}{key}")
        for c in t.columns:
            dtype = "category" if c.kind == "category" else str(c.dtype)
            vocab = f" {{{', '.join(c.vocab)}}}" if c.vocab else ""
            opt = " (optional)" if c.optional else ""
            lines.append(f"    {c.name}: {dtype}{vocab}{opt}")
    return "\n".join(lines)
