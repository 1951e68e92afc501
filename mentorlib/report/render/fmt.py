"""Number, percent, interval and count formatters of the report text.

Every number a report prints passes through one of these: a share is checked to lie in
[0, 1] (:func:`mentorlib.quality.check_rate`) before it is printed, a missing value prints
"—", a count of fewer than ``min_cell`` students prints ``"<min_cell"``.

>>> pct(0.853), ci(0.8, 0.9), count_text(3, 5), pts(-0.0004), pvalue(0.0001)
('85.3%', '80.0%–90.0%', '<5', '0.0', '< 0.001')
>>> numci(-0.27, 0.23)
'-0.27 至 0.23'
>>> zh_number(12), zh_count(2), share(0.85)
('十二', '两', '85%')
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...labels import DIMENSION_LABELS, Lang
from ...quality import check_rate

_ZH_NUM = "一二三四五六七八九十"


def zh_number(i: int) -> str:
    """A small whole number in Chinese numerals (section numbers: 一、二、……十二)."""
    if i <= 10:
        return _ZH_NUM[i - 1]
    if i < 20:
        return "十" + _ZH_NUM[i - 11]
    return str(i)


def zh_count(n: int) -> str:
    """A count before a measure word in Chinese: 两 for 2 (两次, 两个维度), else :func:`zh_number`."""
    return "两" if n == 2 else zh_number(n)


def en_count(n: int, one: str = "one") -> str:
    """A count in English text: "one" for 1 (or ``one``), else the digits."""
    return one if n == 1 else str(n)


def share(v: float) -> str:
    """A setting's share as a whole percentage ("85%", "15%")."""
    return f"{check_rate(v, 'a share'):.0%}"


def sep(t: Lang) -> str:
    """The list separator of the language: "、" or ", "."""
    return "、" if t.zh else ", "


def missing(v) -> bool:
    """True for None, NA and NaN (and nothing else)."""
    if v is None or v is pd.NA:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def as_int(v: object) -> int:
    """A table cell read as an int (``int(v)`` of a Python or NumPy real number).

    pandas types a cell as any scalar (text, dates, NA ...); the report's count columns hold
    numbers, and anything else is an error here rather than a misprinted report.
    """
    if isinstance(v, int | float | np.integer | np.floating):
        return int(v)
    raise TypeError(f"expected a number, got {v!r}")


def as_float(v: object) -> float:
    """A table cell read as a float (``float(v)`` of a Python or NumPy real number)."""
    if isinstance(v, int | float | np.integer | np.floating):
        return float(v)
    raise TypeError(f"expected a number, got {v!r}")


def pct(v, d: int = 1, what: str = "a percentage") -> str:
    return "—" if missing(v) else f"{check_rate(v, what):.{d}%}"


def ci(lo, hi, d: int = 1) -> str:
    if missing(lo) or missing(hi):
        return "—"
    return (
        f"{check_rate(lo, 'an interval bound'):.{d}%}–{check_rate(hi, 'an interval bound'):.{d}%}"
    )


def num(v, d: int = 2) -> str:
    return "—" if missing(v) else f"{float(v):.{d}f}"


def numci(lo, hi, d: int = 2, t: Lang | None = None) -> str:
    """A range of two numbers: "0.59–0.98"; with a negative end the dash would read as a
    minus sign, so the words of the language join them: "-0.27 至 0.23" / "-0.27 to 0.23".

    The one formatter of every printed range of plain numbers (intervals of means, odds ratios,
    correlations, alphas). ``t`` is the report's language (Chinese when not given).

    >>> numci(0.59, 0.98), numci(-0.27, 0.23), numci(-0.27, 0.23, t=Lang("en"))
    ('0.59–0.98', '-0.27 至 0.23', '-0.27 to 0.23')
    """
    if missing(lo) or missing(hi):
        return "—"
    a, b = f"{float(lo):.{d}f}", f"{float(hi):.{d}f}"
    if a.startswith("-") or b.startswith("-"):
        return f"{a} {'to' if t is not None and not t.zh else '至'} {b}"
    return f"{a}–{b}"


def integer(v) -> str:
    return "—" if missing(v) else f"{int(v):,}"


def count_text(v, min_cell: int) -> str:
    """A count of students: ``"<5"`` for 1-4 (0 stays 0)."""
    if isinstance(v, str):  # already formatted by the disclosure document
        return v
    if missing(v):
        return f"<{min_cell}"
    v = int(v)
    return f"<{min_cell}" if 0 < v < min_cell else f"{v:,}"


def pts(v) -> str:
    """A signed difference of shares in percentage points ("+1.5", "-0.3", "0.0")."""
    if missing(v):
        return "—"
    txt = f"{float(v) * 100:+.1f}"
    return "0.0" if txt in ("+0.0", "-0.0") else txt


def pvalue(v) -> str:
    if missing(v):
        return "—"
    return "< 0.001" if float(v) < 0.001 else f"{float(v):.3f}"


def frame(rows: list[list], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([[str(x) for x in r] for r in rows], columns=columns, dtype=object)


def year_label(year: int, t: Lang) -> str:
    return t(f"{year}学年", str(year))


def year_span(year: int, t: Lang) -> str:
    """A school year's first mention (a title): "2025学年（2025–2026）", "school year 2025
    (2025–2026)"; afterwards :func:`year_label` ("2025学年", "2025")."""
    return t(f"{year}学年（{year}–{year + 1}）", f"school year {year} ({year}–{year + 1})")


def years_span(first: int, last: int, t: Lang) -> str:
    """The years of a review as its title and file name give them: "2023–2025学年",
    "school years 2023–2025" (file: ``..._2023-2025``)."""
    return t(f"{first}–{last}学年", f"school years {first}–{last}")


def dim_label(level: str, dim: object, t: Lang) -> str:
    """The label of a development dimension ("composite" included) at a school level."""
    if dim == "composite":
        return t("综合", "composite")
    return t.of(DIMENSION_LABELS.get(level, {}), dim)
