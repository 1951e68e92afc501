"""Primary small-cell suppression of tidy tables and its printed form ("<5")."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..rules import Rulebook

MIN_CELL: int = Rulebook.min_cell  # the default; a study's own value is processed.rules.min_cell

#: Status of a cell in a :class:`~mentorlib.privacy.Document`.
SHOWN, PRIMARY, SECONDARY, HIDDEN = "shown", "primary", "secondary", "hidden"


def is_missing(v) -> bool:
    """True for None, NaN, NA and NaT; False for anything pandas cannot test."""
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def few_text(n: int, min_cell: int, *, total: int | None = None, zero: bool = True) -> str:
    """A count of students for a published sentence: "fewer than min_cell" for 1 to
    ``min_cell - 1`` (0 and larger counts as they are).

    ``zero=False``: 0 reads "fewer than min_cell" too (a note that must not reveal an empty
    group, as a published "<5" includes 0). ``total``: a count the reader knows (or could know)
    that ``n`` is part of; when the rest, ``total - n``, is a small count (by the same ``zero``
    rule), ``n`` reads "all but fewer than min_cell", so the rest cannot be worked out by
    subtraction.

    >>> few_text(3, 5), few_text(0, 5), few_text(12, 5)
    ('fewer than 5', '0', '12')
    >>> few_text(0, 5, zero=False), few_text(12, 5, total=14), few_text(12, 5, total=20)
    ('fewer than 5', 'all but fewer than 5', '12')
    """

    def small(k: int) -> bool:
        return (0 if zero else -1) < k < min_cell

    if small(n):
        return f"fewer than {min_cell}"
    if total is not None and small(total - n):
        return f"all but fewer than {min_cell}"
    return str(n)


def _as_list(x: str | Sequence[str] | None) -> list[str]:
    if x is None:
        return []
    return [x] if isinstance(x, str) else list(x)


def suppress_small_cells(
    df: pd.DataFrame,
    *,
    counts: str | Sequence[str],
    min_cell: int = MIN_CELL,
    columns: Sequence[str] | None = None,
    flag: str = "suppressed",
) -> pd.DataFrame:
    """Blank every number of a row that describes fewer than ``min_cell`` students.

    Parameters
    ----------
    df : DataFrame
        A tidy output table, one row per cell (group, year...).
    counts : str or list of str
        Columns counting the students a row describes (``n_students``, ``n_evaluable``; add a
        numerator such as ``n_progressing`` and its complement for complementary
        suppression). A row is suppressed when any of them is below ``min_cell``; a missing
        count counts as small.
    min_cell : int, default 5
        The smallest number of students a published cell may describe.
    columns : list of str, optional
        Columns blanked in a suppressed row. Default: the ``counts`` columns and every
        floating-point column (rates, intervals, means); labels and keys stay.
    flag : str, default "suppressed"
        Name of the boolean column added (True where the row was blanked).

    Returns
    -------
    DataFrame
        A copy of ``df`` with the blanked cells missing (integer columns become nullable
        ``Int64``) and the ``flag`` column. The input is not modified.

    Raises
    ------
    InputError
        A count column that is not in ``df``, or ``min_cell`` below 1.

    Notes
    -----
    Threshold ("minimum cell size") suppression as in statistical disclosure control
    (Hundepool et al. 2012, *Statistical Disclosure Control*, ch. 5; the usual rule in
    education statistics is 5 or 10). Suppression here is primary only: a suppressed group
    can sometimes be recovered as a total minus the other groups, so keep totals and group
    rows in different tables or pass more ``counts`` when that matters.
    """
    if min_cell < 1:
        raise InputError(f"min_cell must be at least 1, got {min_cell}")
    cnt = _as_list(counts)
    missing = [c for c in cnt if c not in df.columns]
    if missing:
        raise InputError(f"count column(s) {missing} not in the table ({list(df.columns)})")
    if columns is None:
        floats = [c for c in df.columns if pd.api.types.is_float_dtype(df[c])]
        columns = list(dict.fromkeys([*cnt, *floats]))
    else:
        columns = _as_list(columns)
        absent = [c for c in columns if c not in df.columns]
        if absent:
            raise InputError(f"column(s) {absent} not in the table")
    small = np.zeros(len(df), dtype=bool)
    for c in cnt:
        v = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        small |= ~(v >= min_cell)
    out = df.copy()
    for c in columns:
        if flag == c:
            continue
        s = out[c]
        if pd.api.types.is_integer_dtype(s) or pd.api.types.is_bool_dtype(s):
            s = s.astype("Int64" if pd.api.types.is_integer_dtype(s) else "boolean")
        out[c] = s.mask(small)
    out[flag] = small
    return out


def format_suppressed(
    df: pd.DataFrame,
    *,
    flag: str = "suppressed",
    min_cell: int = MIN_CELL,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Show the blanked cells of suppressed rows as ``"<min_cell"`` (e.g. ``"<5"``).

    Parameters
    ----------
    df : DataFrame
        A table returned by :func:`suppress_small_cells`.
    flag : str, default "suppressed"
        Its flag column.
    min_cell : int, default 5
        The threshold that was used (for the text).
    columns : list of str, optional
        Columns to format; default every column with a missing cell in a suppressed row.

    Returns
    -------
    DataFrame
        A copy in which each formatted column is text: ``"<5"`` in the blanked cells, the
        value (``str``) elsewhere, ``""`` for values that were missing anyway.
    """
    if flag not in df.columns:
        raise InputError(f"no {flag!r} column: run suppress_small_cells first")
    rows = df[flag].fillna(False).to_numpy(dtype=bool)
    if columns is None:
        columns = [c for c in df.columns if c != flag and df.loc[rows, c].isna().any()]
    out = df.copy()
    for c in _as_list(columns):
        s = out[c]
        text = s.astype("object").map(lambda v: "" if pd.isna(v) else str(v))
        out[c] = text.mask(rows & s.isna().to_numpy(), f"<{min_cell}").astype("str")
    return out


def suppress_rule_values(
    df: pd.DataFrame,
    *,
    counts: Sequence[str] = (),
    shares: dict[str, float] | None = None,
    min_cell: int = MIN_CELL,
    rule: str = "rule",
    value: str = "value",
    flag: str = "suppressed",
) -> pd.DataFrame:
    """Blank the values of a long table of checks (``rule``, ``value``) that describe few students.

    Parameters
    ----------
    df : DataFrame
        One row per check (``rule`` and ``value`` columns; e.g. a grouping's rulebook checks,
        several policies stacked).
    counts : list of str
        Rules whose value counts students (a group size, invalid rows): blanked when between 1
        and ``min_cell - 1`` (mean values over random draws included).
    shares : dict, optional
        Rule -> the number of students ``n`` its value is a share of: blanked when the students
        it counts, ``round(value * n)``, or the others, ``n - round(value * n)``, number 1 to
        ``min_cell - 1`` (a share of 0 or 1 says only "none" or "all", as the pass flag does).
    min_cell : int, default 5
    rule, value, flag : str
        Column names; ``flag`` (added) is True where the value was blanked.

    Returns
    -------
    DataFrame
        A copy with the blanked values missing (``value`` becomes ``object`` with None).

    Examples
    --------
    >>> t = pd.DataFrame({"rule": ["group_min", "in_scope", "mean_fit"], "value": [3, 0.98, 0.6]})
    >>> out = suppress_rule_values(t, counts=["group_min"], shares={"in_scope": 100})
    >>> out["value"].tolist(), out["suppressed"].tolist()
    ([None, None, 0.6], [True, True, False])
    """
    if min_cell < 1:
        raise InputError(f"min_cell must be at least 1, got {min_cell}")
    for c in (rule, value):
        if c not in df.columns:
            raise InputError(f"no {c!r} column in the table of checks")
    shares = dict(shares or {})
    count_rules = set(_as_list(counts))

    def small(x: float) -> bool:
        return 0 < x < min_cell

    out = df.copy().reset_index(drop=True)
    vals = out[value].astype("object").tolist()
    blank = []
    for r, v in zip(out[rule], vals, strict=True):
        hide = False
        if not is_missing(v):
            x = float(v)
            if r in count_rules:
                hide = small(x) or (0 < x < 1)
            elif r in shares and not is_missing(shares[r]):
                n = int(shares[r])
                k = int(round(x * n))
                hide = small(k) or small(n - k) or (n > 0 and small(n))
        blank.append(hide)
    kept = [None if h or is_missing(v) else v for h, v in zip(blank, vals, strict=True)]
    out[value] = pd.Series(kept, index=out.index, dtype="object")
    out[flag] = blank
    return out
