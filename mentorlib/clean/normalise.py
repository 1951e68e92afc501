"""Normalisers: one raw cell in, its canonical value and the rule that changed it out.

Every function here takes whatever a spreadsheet or CSV cell may hold (text, a number, a date,
``None``) and returns ``(value, rule)``: ``value`` is the canonical value (``None`` when the cell
is missing or cannot be read), ``rule`` names what was done to get there, or is ``None`` when the
cell was already canonical. A rule beginning with ``"fail:"`` means the cell could not be read
(the value is ``None``). Nothing here raises on odd input: property tests throw arbitrary
strings and bytes at every normaliser.

:func:`apply` runs a normaliser over a pandas Series once per distinct value, which keeps the
cleaner fast on district-sized files where a column has few distinct spellings.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from datetime import datetime

import numpy as np
import pandas as pd

from ..ids import is_valid_id18, is_valid_student_id

CN_NUM = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "百": 100,
    "千": 1000,
}
CHU = {
    "初一": 7,
    "初二": 8,
    "初三": 9,
    "高一": 10,
    "高二": 11,
    "高三": 12,
    "初1": 7,
    "初2": 8,
    "初3": 9,
    "高1": 10,
    "高2": 11,
    "高3": 12,
}
SKIP_MARKERS = {
    "(跳过)",
    "(空)",
    "（跳过）",
    "（空）",
    "-2",
    "-3",
    "跳过",
    "空",
    "N/A",
    "n/a",
    "NA",
    "#N/A",
    "—",
    "--",
    "-",
    "/",
}
EXCEL_EPOCH = datetime(1899, 12, 30)
_SPACES = re.compile(r"[\s\u3000\u00a0]+")

#: ``(value, rule)``: what every normaliser returns (see the module's docstring).
Result = tuple[object, str | None]
#: A :data:`Result` whose value is text (or None).
TextResult = tuple[str | None, str | None]
#: A :data:`Result` whose value is an integer (or None).
IntResult = tuple[int | None, str | None]
#: A :data:`Result` whose value is a number (or None).
NumberResult = tuple[int | float | None, str | None]


# ----------------------------------------------------------------------------- text


def is_blank(x) -> bool:
    """True for None, NaN, and text that is empty after trimming."""
    if x is None:
        return True
    if isinstance(x, float) and math.isnan(x):
        return True
    if isinstance(x, str) and not _SPACES.sub("", x):
        return True
    try:
        return bool(pd.isna(x)) if not isinstance(x, str | bytes) else False
    except (TypeError, ValueError):
        return False


def text(x) -> TextResult:
    """Text with full-width forms folded (NFKC) and outer whitespace trimmed.

    >>> text("  三年级（２）班 ")
    ('三年级(2)班', 'fullwidth')
    """
    if is_blank(x):
        return None, None
    if isinstance(x, bytes):
        try:
            x = x.decode("utf-8")
        except UnicodeDecodeError:
            return None, "fail:bytes"
    s = number_text(x) if isinstance(x, int | float | np.integer | np.floating) else str(x)
    n = unicodedata.normalize("NFKC", s)
    stripped = _SPACES.sub(" ", n).strip()
    if stripped == s:
        return s, None
    return stripped, ("fullwidth" if n != s else "whitespace")


def number_text(x) -> str:
    """A number as a spreadsheet shows it: 85.0 -> '85', 4.40106201505123e+17 -> '440106201505123000'."""
    if isinstance(x, bool | np.bool_):
        return str(x)
    f = float(x)
    if math.isfinite(f) and f == int(f) and abs(f) < 1e21:
        return str(int(f))
    return repr(f) if math.isfinite(f) else ""


def name(x) -> TextResult:
    """A Chinese name: full-width folded, every space removed (张 伟 -> 张伟), control and
    invisible format characters stripped (张\\x07三, 李四\\u200b -> 张三, 李四; rule
    ``control_chars``).

    >>> name("李四\u200b")
    ('李四', 'control_chars')
    """
    v, rule = text(x)
    if v is None:
        return None, rule
    compact = _SPACES.sub("", v)
    if not compact.isprintable():  # a bell, a zero-width space, a direction mark, ...
        kept = "".join(c for c in compact if unicodedata.category(c) not in _INVISIBLE)
        if kept != compact:
            return (kept or None), "control_chars"
    if compact != v:
        return compact, "whitespace"
    return v, rule


# the dots and spaces that part a transliterated name (买买提·艾力, 买买提•艾力, 买买提 艾力)
_NAME_DOTS = re.compile("[\\s\u00b7\u0387\u2022\u2027\u2219\u22c5\u30fb\uff65\u318d\u16eb.．]+")


def name_key(x) -> str | None:
    """A name with the dots and spaces of a transliterated name removed: the form two
    spellings of one name share (买买提·艾力, 买买提 艾力, 买买提艾力, 买买提•艾力 -> 买买提艾力).

    >>> name_key("买买提・艾力") == name_key("买买提 艾力") == "买买提艾力"
    True
    """
    v, _ = name(x)
    return (_NAME_DOTS.sub("", v) or None) if v else None


# control, format (zero-width, direction marks), lone surrogates; private-use and unassigned
# code points stay: rosters write rare name characters (生僻字) with them
_INVISIBLE = ("Cc", "Cf", "Cs")


def skip(x) -> bool:
    """True for the skip and blank markers of 问卷星 / 腾讯问卷 exports ((跳过), (空), -2, -3)."""
    if is_blank(x):
        return True
    if isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool):
        return float(x) in (-2.0, -3.0)
    return isinstance(x, str) and unicodedata.normalize("NFKC", x).strip() in SKIP_MARKERS


# ----------------------------------------------------------------------------- numbers


def chinese_numeral(s: str) -> int | None:
    """Integer value of a Chinese (or Arabic) numeral up to 9999; None if it is not one.

    >>> [chinese_numeral(x) for x in ("三", "十二", "二十", "一百零五", "12", "两")]
    [3, 12, 20, 105, 12, 2]
    """
    if not isinstance(s, str) or not s:
        return None
    s = unicodedata.normalize("NFKC", s).strip()
    if s.isdigit():
        return int(s)
    if any(c not in CN_NUM for c in s):
        return None
    total, cur = 0, 0
    for c in s:
        v = CN_NUM[c]
        if v >= 10:
            total += (cur or 1) * v
            cur = 0
        else:
            cur = v
    return total + cur


_NUM = re.compile(r"^[+\-]?\d+(?:\.\d+)?(?:[eE][+\-]?\d+)?$")


def number(x, *, lo: float | None = None, hi: float | None = None) -> NumberResult:
    """A number from a cell: '135.5cm', '40学时', '＋２', '８５' all read; out of range -> None.

    >>> number("135.5cm")
    (135.5, 'number_text')
    >>> number(105, lo=0, hi=100)
    (None, 'fail:out_of_range')
    """
    if is_blank(x):
        return None, None
    rule = None
    if isinstance(x, bool | np.bool_):
        return None, "fail:not_a_number"
    if isinstance(x, int | float | np.integer | np.floating):
        v = float(x)
        if not math.isfinite(v):
            return None, "fail:not_a_number"
    else:
        s = unicodedata.normalize("NFKC", str(x)).strip()
        core = re.sub(
            r"(cm|kg|学时|小时|分钟|分|秒|次|个|元|厘米|公斤|千克)$", "", s, flags=re.I
        ).strip()
        core = core.replace(",", "")
        if not _NUM.match(core):
            return None, "fail:not_a_number"
        v = float(core)
        rule = "number_text" if core != str(x) else None
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        return None, "fail:out_of_range"
    return (int(v) if v == int(v) and abs(v) < 1e15 else v), rule


# ----------------------------------------------------------------------------- categories


def gender(x) -> TextResult:
    """female / male from 女, 男, 女生, M, F, male, ... (not from option numbers: see codebook)."""
    v, rule = text(x)
    if v is None:
        return None, rule
    s = v.lower().replace(" ", "")
    s = re.sub(r"^[a-d][.、)]", "", s)  # 腾讯问卷 "A.男"
    male = {"男", "男生", "男性", "m", "male", "boy", "b"}
    female = {"女", "女生", "女性", "f", "female", "girl", "g"}
    if s in male:
        return "male", (None if x == "男" else "gender_label")
    if s in female:
        return "female", (None if x == "女" else "gender_label")
    return None, "fail:gender"


_TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "✔", "有", "t", "对"}
_FALSE = {"否", "n", "no", "false", "0", "×", "✗", "✘", "无", "f", "不是", "错"}


def boolean(x) -> tuple[bool | None, str | None]:
    """True / False from 是/否, Y/N, √/×, 1/0, 有/无."""
    if isinstance(x, bool | np.bool_):
        return bool(x), None
    if is_blank(x):
        return None, None
    v, rule = text(x)
    if v is None:
        return None, "fail:bool"
    s = v.lower()
    if s in _TRUE:
        return True, (None if x == "是" else "bool_label")
    if s in _FALSE:
        return False, (None if x == "否" else "bool_label")
    return None, "fail:bool"


# ----------------------------------------------------------------------------- grade and class

_GC = [
    # 三年级2班, 3年级2班, 三年级(2)班, 三年级二班, 七年级1班, 三年2班
    re.compile(
        r"^(?P<g>[一二三四五六七八九十\d]{1,3})年级?\s*[(（]?(?P<c>[一二三四五六七八九十百\d]{1,4})[)）]?\s*班?$"
    ),
    # 初一(3)班, 高一3班, 初1(3)班
    re.compile(
        r"^(?P<chu>[初高][一二三123])\s*[(（]?(?P<c>[一二三四五六七八九十百\d]{1,4})[)）]?\s*班?$"
    ),
    # 三(2)班, 3(2)班
    re.compile(
        r"^(?P<g>[一二三四五六七八九十\d]{1,2})\s*[(（](?P<c>[一二三四五六七八九十百\d]{1,4})[)）]\s*班?$"
    ),
    # 3-2, 3.2, 3－2, 3/2
    re.compile(r"^(?P<g>\d{1,2})\s*[-./_]\s*(?P<c>\d{1,4})\s*班?$"),
]
_G_ONLY = [
    re.compile(r"^(?P<g>[一二三四五六七八九十\d]{1,3})年级$"),
    re.compile(r"^(?P<chu>[初高][一二三123])(?:年级)?$"),
]
_C_ONLY = re.compile(r"^[(（]?(?P<c>[一二三四五六七八九十百\d]{1,4})[)）]?\s*班$|^(?P<d>\d{1,4})$")


def _gnum(m) -> int | None:
    d = m.groupdict()
    if d.get("chu"):
        return CHU.get(d["chu"])
    return chinese_numeral(d["g"])


def grade_class(x) -> TextResult:
    """Grade and class as ``"g-c"`` from every common spelling.

    >>> [grade_class(s)[0] for s in ("三年级2班", "初一(3)班", "七年级（1）班", "3-2", "３年级２班")]
    ['3-2', '7-3', '7-1', '3-2', '3-2']

    A number cell is not read: Excel turns a typed 3.10 into 3.1, so 3.1 could be class 1 or 10.
    """
    if isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool):
        return None, "fail:grade_class"
    v, _ = text(x)
    if v is None:
        return None, None
    s = v.replace(" ", "")
    for pat in _GC:
        m = pat.match(s)
        if m:
            g, c = _gnum(m), chinese_numeral(m.group("c"))
            if g and c and 1 <= g <= 12 and c >= 1:
                out = f"{g}-{c}"
                return out, (None if out == x else f"grade_class:{spelling(x)}")
    return None, "fail:grade_class"


_COHORT = re.compile(
    r"^(?P<stage>[初高])?(?P<y>(?:19|20)\d{2})\s*级\s*[(（]?(?P<c>[一二三四五六七八九十百\d]{1,4})[)）]?\s*班?$"
)


def cohort_class(x) -> tuple[str, int, int] | None:
    """A class named by its cohort (入学年份): ``(stage, entry year, class)``, else None.

    ``stage`` is 初 or 高 when the label says so, else ``""`` (the school's level decides).
    The grade depends on the school year the label was written in, so it is resolved where
    that is known (:func:`cohort_grade`).

    >>> cohort_class("初2024级3班"), cohort_class("2020级（2）班"), cohort_class("3班")
    (('初', 2024, 3), ('', 2020, 2), None)
    """
    if isinstance(x, int | float | np.integer | np.floating) or is_blank(x):
        return None
    v, _ = text(x)
    m = _COHORT.match((v or "").replace(" ", ""))
    if not m:
        return None
    c = chinese_numeral(m.group("c"))
    return (m.group("stage") or "", int(m.group("y")), c) if c else None


def cohort_grade(stage: str, entry: int, year: int, level: str) -> int | None:
    """The grade in school year ``year`` of a cohort that entered in ``entry``: a middle
    school's entrants are in grade 7 (初一), a high school's in 10, a primary school's in 1."""
    first = {"初": 7, "高": 10}.get(stage) or (7 if level == "middle" else 1)
    g = year - entry + first
    return g if first <= g <= min(first + 5, 12) else None


def spelling(x) -> str:
    """The shape of a spelling: digit runs -> 9, Chinese-numeral runs -> 九, width marked.

    >>> spelling("三年级12班"), spelling("3年级2班"), spelling("３年级２班")
    ('九年级9班', '9年级9班', 'fw:9年级9班')
    """
    raw = str(x)
    t = unicodedata.normalize("NFKC", raw).strip()
    shape = re.sub(r"[零〇一二三四五六七八九十百千两]+", "九", re.sub(r"\d+", "9", t))
    return ("fw:" if t != raw.strip() else "") + shape


def grade(x) -> NumberResult:
    """A grade on its own: 三年级, 3年级, 初一, 七年级, 3."""
    if isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool):
        return number(x, lo=1, hi=12)
    v, _ = text(x)
    if v is None:
        return None, None
    s = v.replace(" ", "")
    if s.isdigit():
        return number(s, lo=1, hi=12)
    for pat in _G_ONLY:
        m = pat.match(s)
        if m:
            g = _gnum(m)
            if g and 1 <= g <= 12:
                return g, "grade_label"
    return None, "fail:grade"


def class_number(x) -> NumberResult:
    """A class on its own: 2班, (2)班, 二班, 2."""
    if isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool):
        return number(x, lo=1)
    v, _ = text(x)
    if v is None:
        return None, None
    m = _C_ONLY.match(v.replace(" ", ""))
    if not m:
        return None, "fail:class"
    c = chinese_numeral(m.group("c") or m.group("d"))
    return (c, "class_label") if c else (None, "fail:class")


# ----------------------------------------------------------------------------- IDs


def staff_id(x) -> TextResult:
    """工号 as text: a number cell 20003.0 becomes '20003'."""
    if is_blank(x):
        return None, None
    if isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool):
        return number_text(x), None
    v, rule = text(x)
    if v is None:
        return None, rule
    return _SPACES.sub("", v), rule


#: A temporary 学籍号 (临时学籍号, L; J: other): its check digit is often not GB 11643's
_TEMP_ID = re.compile(r"[LJ]\d{17}[\dX]")


def student_id(x) -> tuple[str | None, str | None, str]:
    """Read a 学籍号 cell. Returns ``(value, rule, status)``.

    ``status`` is one of:

    * ``"ok"``: a valid G number, or an L/J (temporary) number whatever its check digit
      (``rule`` names any cosmetic repair: whitespace, width);
    * ``"seat"``: a short number (1-8 digits, 12 or 12号): the student's 学号 (seat number) in
      the class, not a 学籍号; ``value`` is the number as text;
    * ``"no_prefix"``: a valid 18-character ID number without its letter (``value`` is the
      18 characters; the roster decides the letter);
    * ``"mangled"``: Excel's scientific-notation damage (``value`` holds the significant
      digits left, e.g. ``"4.40106E+17"`` -> ``"440106"``); only the roster can recover it;
    * ``"invalid"``: a check-digit or format error (``value`` is the cleaned text);
    * ``"missing"``: empty.

    Notes
    -----
    Excel keeps 15 significant digits of a number, so an 18-digit ID typed into a General cell
    loses its last three digits (and the check digit); shown in General format it is only
    ``4.40106E+17`` (6 digits).
    """
    if is_blank(x):
        return None, None, "missing"
    if isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool):
        f = float(x)
        if not math.isfinite(f):
            return None, "fail:id", "invalid"
        digits = number_text(f)
        if len(digits) == 18 and is_valid_id18(digits):
            return digits, "id_number_cell", "no_prefix"
        if f == int(f) and 0 <= f < 1e8:  # a 学号 in the class (座号), not a 学籍号
            return digits, "seat_number", "seat"
        sig = f"{f:.15g}".split("e")[0].replace(".", "").rstrip("0") if f >= 1e15 else digits
        return sig, "id_sci", "mangled"
    raw = str(x)
    s = unicodedata.normalize("NFKC", raw)
    s = _SPACES.sub("", s).upper()
    rule = (
        None
        if s == raw
        else ("id_fullwidth" if unicodedata.normalize("NFKC", raw) != raw else "id_whitespace")
    )
    m = re.fullmatch(r"(\d)\.(\d+)E\+?(\d+)", s)
    if m and int(m.group(3)) >= 15:
        return (m.group(1) + m.group(2)).rstrip("0"), "id_sci", "mangled"
    seat = re.fullmatch(r"(\d{1,8})号?", s)
    if seat:  # a 学号 in the class (座号), not a 学籍号
        return str(int(seat.group(1))), "seat_number", "seat"
    if is_valid_student_id(s) or _TEMP_ID.fullmatch(s):
        return s, rule, "ok"
    if len(s) == 18 and is_valid_id18(s):
        return s, "id_prefix", "no_prefix"
    return s, rule or "id_invalid", "invalid"


# ----------------------------------------------------------------------------- labels


def likert(x, labels: tuple[str, ...], values: tuple[int, ...]) -> IntResult:
    """A Likert answer from its label, its option number, or a 腾讯问卷 "B.比较不符合" option.

    Skip markers give ``(None, "skip_marker")``; numbers outside the scale
    ``(None, "fail:out_of_range")``.
    """
    if skip(x):
        return None, ("skip_marker" if not is_blank(x) else None)
    lo, hi = min(values), max(values)
    if isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool):
        f = float(x)
        if math.isfinite(f) and f == int(f) and lo <= f <= hi:
            return int(f), None
        return None, "fail:out_of_range"
    s = unicodedata.normalize("NFKC", str(x)).strip()
    if re.fullmatch(r"[+\-]?\d+", s):
        v = int(s)
        return (v, None) if lo <= v <= hi else (None, "fail:out_of_range")
    t = re.sub(r"^[A-Za-z][.、．)]\s*", "", s)
    for lab, val in zip(labels, values, strict=True):
        if t == unicodedata.normalize("NFKC", lab):
            return val, (None if t == s else "option_letter")
    return None, "fail:label"


OTHER = re.compile(r"^(?:其他|其它|other)?\s*[〖\[【(（]?(?P<t>.*?)[〗\]】)）]?$", re.I)


def other_text(x) -> str | None:
    """The free text of an 其他〖…〗 answer ('其他〖想学画画〗' -> '想学画画', '1〖…〗' too)."""
    if not isinstance(x, str):
        return None
    m = re.search(r"〖(.*?)〗", x)
    return (m.group(1).strip() or None) if m else None


# ----------------------------------------------------------------------------- vectorised


def apply(series: pd.Series, fn: Callable[[object], Result]) -> tuple[pd.Series, pd.Series]:
    """Run a normaliser once per distinct value of ``series``.

    Returns
    -------
    values : Series (object)
        Canonical values, aligned with ``series``.
    rules : Series (object)
        The rule applied to each cell (``None`` when unchanged).
    """
    raw = series.to_numpy(dtype=object)
    codes, uniq = pd.factorize(raw, use_na_sentinel=True)  # 85 and "85" stay apart
    pos = np.flatnonzero(codes >= 0)
    _, first = np.unique(codes[pos], return_index=True)
    vals = np.empty(len(uniq) + 1, dtype=object)
    rules = np.empty(len(uniq) + 1, dtype=object)
    for k, i in enumerate(pos[first]):
        vals[k], rules[k] = fn(raw[i])
    vals[-1], rules[-1] = fn(None)  # the code -1 (missing) indexes the last slot
    return (
        pd.Series(vals[codes], index=series.index, dtype=object),
        pd.Series(rules[codes], index=series.index, dtype=object),
    )
