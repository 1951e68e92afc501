"""Normalisers of when and how long: dates (with or without a year), school years, terms,
months, durations and points, each returning ``(value, rule)`` as in :mod:`.normalise`."""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime

import numpy as np
import pandas as pd

from .normalise import (
    EXCEL_EPOCH,
    IntResult,
    NumberResult,
    TextResult,
    chinese_numeral,
    is_blank,
    number,
    text,
)

# ----------------------------------------------------------------------------- durations and points


def duration_seconds(x) -> IntResult:
    """所用时间 / 答题时长 in seconds: '152秒', '2分32秒', '1小时2分', or a bare number.

    >>> duration_seconds("2分32秒")
    (152, 'duration')
    """
    if is_blank(x):
        return None, None
    if isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool):
        return (int(x), None) if math.isfinite(float(x)) and x >= 0 else (None, "fail:duration")
    s = unicodedata.normalize("NFKC", str(x)).strip()
    m = re.fullmatch(
        r"(?:(\d+)\s*(?:小时|时|h))?\s*(?:(\d+)\s*(?:分钟|分|min))?\s*(?:(\d+)\s*(?:秒|s))?", s
    )
    if s.isdigit():
        return int(s), None
    if not m or not any(m.groups()):
        return None, "fail:duration"
    h, mi, se = (int(g) if g else 0 for g in m.groups())
    return h * 3600 + mi * 60 + se, "duration"


_HOURS = re.compile(
    r"^(?P<n>\d+(?:\.\d+)?|[零〇一二两三四五六七八九十]+)?(?P<half>个半|半)?(?:个)?\s*"
    r"(?:小时|钟头|h|hr|hrs|hour|hours)(?P<rest>.*)$",
    re.I,
)
_MINUTES = re.compile(
    r"^(?P<n>\d+(?:\.\d+)?|[零〇一二两三四五六七八九十]+)\s*(?:分钟|分|min|mins|m)$", re.I
)


def _amount(s: str | None) -> float | None:
    """An Arabic or Chinese count ('1.5', '两', '十五'); None for text that is not one."""
    if not s:
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return float(s)
    v = chinese_numeral(s)
    return float(v) if v is not None else None


def _duration_text_minutes(s: str) -> float | None:
    """Minutes in a written duration: 半小时, 一个半小时, 1.5h, 1h20m, 40分钟, 90min."""
    s = s.replace(" ", "")
    if s in ("半小时", "半个小时", "半个钟头"):
        return 30.0
    m = _HOURS.match(s)
    if m:
        n = _amount(m.group("n")) if m.group("n") else (0.0 if m.group("half") else None)
        if n is None:
            return None
        hours = n + (0.5 if m.group("half") else 0.0)
        rest = m.group("rest")
        if not rest:
            return hours * 60
        extra = _duration_text_minutes(rest) if _MINUTES.match(rest) else None
        return None if extra is None else hours * 60 + extra
    m = _MINUTES.match(s)
    if m:
        return _amount(m.group("n"))
    return None


def duration_minutes(x) -> NumberResult:
    """A duration in minutes: '20', '20分钟', '1小时' (60), '半小时' (30), '一个半小时' (90),
    '1.5h' (90), '1h20m' (80), '90min', '90秒' (1.5). A text form is logged ``duration_text``.

    >>> [duration_minutes(x)[0] for x in ("半小时", "一个半小时", "1.5h", "1h20m", "两小时")]
    [30, 90, 90, 80, 120]
    """
    if is_blank(x):
        return None, None
    if isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool):
        return number(x, lo=0)
    s = unicodedata.normalize("NFKC", str(x)).strip()
    if re.fullmatch(r"\d+(\.\d+)?", s):
        return number(s, lo=0)
    v = _duration_text_minutes(s)
    if v is None:
        secs, _ = duration_seconds(s if re.search(r"[秒时分hs]", s) else s + "分")
        if secs is None:
            return None, "fail:duration"
        v = secs / 60
    return (int(v) if v == int(v) else v), "duration_text"


_POINTS = re.compile(
    r"^(?P<w>扣|减|罚|加|奖|奖励|扣除)?\s*(?P<n>[+\-]?\d+(?:\.\d+)?)\s*(?:分|积分)?$"
)


def points(x, *, lo: float | None = None, hi: float | None = None) -> NumberResult:
    """Reward points as a teacher writes them: '+2分', '-1分', '2', '扣1分' (-1), '加2分'.

    A text form is logged ``points_text``.

    >>> [points(x)[0] for x in ("+2分", "-1分", "扣1分", "加2分", 3)]
    [2, -1, -1, 2, 3]
    """
    if is_blank(x):
        return None, None
    if isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool):
        return number(x, lo=lo, hi=hi)
    s = unicodedata.normalize("NFKC", str(x)).replace(" ", "").strip()
    m = _POINTS.match(s)
    if not m:
        return None, "fail:points"
    v = float(m.group("n"))
    if m.group("w") in ("扣", "减", "罚", "扣除"):
        v = -abs(v)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        return None, "fail:out_of_range"
    out = int(v) if v == int(v) else v
    return out, (None if s == str(out) else "points_text")


# ----------------------------------------------------------------------------- dates

_DATE_PATTERNS = [
    (
        re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$"),
        "ymd",
    ),
    (
        re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]?(?:\s*(\d{1,2}):(\d{2})(?::(\d{2}))?)?$"),
        "ymd",
    ),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), "ymd"),
]


def excel_serial_date(v: float) -> datetime | None:
    """The date of an Excel serial (1900 system; 45536 = 2024-09-01)."""
    if not (1 <= v < 2958466):
        return None
    return EXCEL_EPOCH + pd.Timedelta(days=float(v)).to_pytimedelta()


def date_(x, *, with_time: bool = False) -> TextResult:
    """A date (or date-time) from 2024/9/1, 2024-09-01, 2024年9月1日, 2024.9.1, Excel serials.

    Returns ISO text ``YYYY-MM-DD`` (``YYYY-MM-DD HH:MM:SS`` with ``with_time``).

    >>> date_("2024年9月1日")
    ('2024-09-01', 'date_cn')
    >>> date_(45536)
    ('2024-09-01', 'excel_serial')
    """
    fmt = "%Y-%m-%d %H:%M:%S" if with_time else "%Y-%m-%d"
    if is_blank(x):
        return None, None
    if isinstance(x, datetime | pd.Timestamp):
        return x.strftime(fmt), None
    if isinstance(x, date):
        return datetime(x.year, x.month, x.day).strftime(fmt), None
    if isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool):
        d = (
            excel_serial_date(float(x))
            if math.isfinite(float(x)) and 10000 <= float(x) < 100000
            else None
        )
        return (d.strftime(fmt), "excel_serial") if d else (None, "fail:date")
    s = unicodedata.normalize("NFKC", str(x)).strip()
    if re.fullmatch(r"\d{5}(\.\d+)?", s):  # a serial number that travelled as text
        d = excel_serial_date(float(s))
        return (d.strftime(fmt), "excel_serial") if d else (None, "fail:date")
    for pat, _ in _DATE_PATTERNS:
        m = pat.match(s)
        if m:
            parts = [int(p) if p else 0 for p in m.groups()]
            y, mo, day, hh, mi, ss = (parts + [0] * 6)[:6]
            try:
                d = datetime(y, mo, day, hh, mi, ss)
            except ValueError:
                return None, "fail:date"
            out = d.strftime(fmt)
            if out == s:
                return out, None
            sep = (
                "年"
                if "年" in s
                else ("/" if "/" in s else "." if "." in s else "-" if "-" in s else "")
            )
            style = {
                "年": "date_cn",
                "/": "date_slash",
                ".": "date_dot",
                "-": "date_dash",
                "": "date_compact",
            }[sep]
            return out, style + ("_time" if ":" in s else "")
    return None, "fail:date"


_MONTH_DAY = re.compile(
    r"^(\d{1,2})\s*(?:[./\-]|月)\s*(\d{1,2})\s*[日号]?\s*"
    r"(?:[(（]?\s*(?:周|星期|礼拜)[一二三四五六日天]\s*[)）]?)?$"
)


def month_day(x) -> tuple[tuple[int, int] | None, str | None]:
    """A date written without its year: '10.12', '10/12', '10月12日', '10月12日(周四)'.

    Returns ``((month, day), rule)``; a number cell 10.12 reads as it shows (10.1 is 1 October).

    >>> month_day("10月12日(周四)")[0], month_day(10.12)[0]
    ((10, 12), (10, 12))
    """
    if is_blank(x) or isinstance(x, bool):
        return None, None
    if isinstance(x, int | float | np.integer | np.floating):
        s = repr(float(x))
    else:
        s = unicodedata.normalize("NFKC", str(x)).strip()
    m = _MONTH_DAY.match(s)
    if not m:
        return None, "fail:date"
    mo, day = int(m.group(1)), int(m.group(2))
    try:
        date(2000, mo, day)  # a leap year: 2月29日 is a date
    except ValueError:
        return None, "fail:date"
    return (mo, day), "date_year_from_term"


def date_in_year(x, year: int | None, term: int | None = None) -> TextResult:
    """:func:`date_`, and a date without a year dated in school year ``year`` (September
    ``year`` .. August ``year + 1``: months 8-12 in ``year``, 1-7 in ``year + 1``). With a
    ``term``, a month outside it (term 1: August-January, term 2: February-July) is unreadable.

    >>> date_in_year("10月12日(周四)", 2024), date_in_year("3.5", 2024, 2)
    (('2024-10-12', 'date_year_from_term'), ('2025-03-05', 'date_year_from_term'))
    """
    v, rule = date_(x)
    if v is not None or rule is None:
        return v, rule
    md, r2 = month_day(x)
    if md is None:
        return None, rule
    if year is None:
        return None, "fail:date_without_year"
    mo, day = md
    if term in (1, 2) and (1 if mo >= 8 or mo == 1 else 2) != term:
        return None, "fail:date_outside_term"
    y = year if mo >= 8 else year + 1
    try:
        return date(y, mo, day).isoformat(), r2
    except ValueError:  # 2月29日 in a year that has none
        return None, "fail:date"


def school_year(x) -> IntResult:
    """A school year by its first calendar year: '2023-2024学年', '2023学年', 2023."""
    v, _ = text(x)
    if v is None:
        return None, None
    m = re.match(r"^(\d{4})(?:\s*[-—~至/]\s*(\d{4}))?\s*(?:学年|年度|年)?(?:第.学期)?$", v)
    if not m:
        return None, "fail:school_year"
    y1 = int(m.group(1))
    if m.group(2) and int(m.group(2)) != y1 + 1:
        return None, "fail:school_year"
    return y1, (None if v == str(y1) else "school_year_label")


def term(x) -> IntResult:
    """Term 1 (autumn) or 2 (spring): 第一学期, 上学期, 秋季, 1; 第二学期, 下学期, 春季, 2."""
    v, _ = text(x)
    if v is None:
        return None, None
    s = v.replace(" ", "")
    if s in ("1", "第一学期", "上学期", "秋季学期", "秋季", "第1学期", "一"):
        return 1, (None if s == "1" else "term_label")
    if s in ("2", "第二学期", "下学期", "春季学期", "春季", "第2学期", "二"):
        return 2, (None if s == "2" else "term_label")
    return None, "fail:term"


def month(x) -> TextResult:
    """A calendar month as ``YYYY-MM``: '2023年9月', '2023-09', '2023/9', a date."""
    if isinstance(x, datetime | pd.Timestamp | date):
        return f"{x.year:04d}-{x.month:02d}", None
    v, _ = text(x)
    if v is None:
        return None, None
    m = re.match(r"^(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*月?$", v)
    if not m or not 1 <= int(m.group(2)) <= 12:
        return None, "fail:month"
    out = f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"
    return out, (None if out == v else "month_label")
