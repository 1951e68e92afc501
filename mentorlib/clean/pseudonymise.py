"""Pseudonymisation of a whole processed folder: the key, and the scrubbing of every output.

With a pseudonym key (``pseudonym_key`` or ``pseudonym_key_file`` in ``study.toml``, or the
environment variable ``MENTORLIB_PSEUDONYM_KEY``), ``mentorlib clean`` writes no real 学籍号, no
name and no IP address to any file of the processed folder:

- every ``student_id`` becomes its keyed pseudonym (:func:`mentorlib.ids.pseudonym`), in the
  canonical tables, in ``row_status`` and wherever an ID appears in text;
- student and staff names are dropped from ``students`` and ``staff``; birth dates are coarsened
  to the month (the first day of the month of birth, so the column stays a date);
- the cleaning log's old/new values, the quarantine's raw rows and details, row status details,
  validation failures and the per-source summary are scrubbed: a cell of a name column becomes
  〔姓名〕, of a 学籍号 column the pseudonym (or 〔学籍号〕 when it names no roster student), of an
  IP, location, nickname or phone column 〔已删除〕, of a birth-date column its ``YYYY-MM``; every
  other text has each roster name (and every name seen in a name column) replaced by 〔姓名〕,
  each thing that looks like a 学籍号 (G/L/J and 17-18 digits, any run of 15 or more digits,
  Excel's 4.40106E+17) by the pseudonym or 〔学籍号〕, each IPv4/IPv6 address (with the place
  问卷星 writes after it) by 〔IP〕, each mainland mobile (13900001111, 139-0000-1111,
  +86 139 0000 1111) or landline number (010-12345678) by 〔电话〕;
- the path of every source file (the ``source`` column of the log, quarantine, row status and
  summary) is scrubbed like free text (``问卷_〔姓名〕妈妈转发.xlsx``), the same path the same way
  in every table, so they still join on it; so are the free texts of ``[study]`` (``school``)
  before they reach ``study.json`` and the reports;
- free-text answers in the canonical tables (``other_text``, ``reason_text``, ``reason``) are
  scrubbed the same way; in what a person typed (these answers, and the raw cells and log
  values of columns that are not IDs or names) the given name of every roster name of three or
  more characters is replaced too (我和欣妍是同桌 -> 我和〔姓名〕是同桌). The machine-written
  texts (quarantine and row-status details) get full names only.

Staff IDs (工号) stay: they are the school's own internal numbers, and reports need them to
group by mentor.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..ids import pseudonym
from . import normalise as nz
from . import when

ENV_KEY = "MENTORLIB_PSEUDONYM_KEY"
NAME_MASK = "〔姓名〕"
ID_MASK = "〔学籍号〕"
IP_MASK = "〔IP〕"
PHONE_MASK = "〔电话〕"
DROP_MASK = "〔已删除〕"
FREE_TEXT = ("other_text", "reason_text", "reason")  # canonical columns a person typed
_BOM = b"\xef\xbb\xbf"

_ID_LIKE = re.compile(
    # a 学籍号 (maybe without its letter, full-width, with spaces or dashes), any run of 15 or
    # more digits, or what Excel's scientific notation left of one
    r"(?<![0-9０-９])(?:[GLJglj]|[ＧＬＪ])?[ \u3000]?(?:[0-9０-９][ \u3000\-－]?){14,}[0-9０-９XxＸｘ]"
    r"(?:\.0+)?(?![0-9０-９])"
    r"|(?<![0-9])[0-9](?:\.[0-9]+)?[Ee]\+?(?:1[4-9]|2[0-9])(?![0-9])"
)
_IP = re.compile(
    r"(?<![0-9.])[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?!\.?[0-9])"
    r"|(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{1,4}:){5,7}[0-9A-Fa-f]{1,4}(?![0-9A-Fa-f:])"
    r"|(?<![0-9A-Fa-f:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{1,4})*::(?:[0-9A-Fa-f]{1,4}:)*"
    r"[0-9A-Fa-f]{1,4}(?![0-9A-Fa-f:])"
)
_PHONE = re.compile(
    # a mainland mobile number (3-4-4, optionally split by a space or dash, optionally +86 / 0086
    # / 86 before it) or a landline with its area code (010-12345678, 075512345678); never inside
    # a longer run of digits, a decimal, a date (20240901) or a pseudonym (P + hex)
    r"(?<![0-9A-Za-z.])(?:(?:\+|00)?86[ \-]?)?1[3-9][0-9][ \-]?[0-9]{4}[ \-]?[0-9]{4}"
    r"(?![0-9]|\.[0-9])"
    r"|(?<![0-9A-Za-z.\-])(?:[(（]0[1-9][0-9]{1,2}[)）]|0[1-9][0-9]{1,2})[ \-]?[0-9]{7,8}"
    r"(?![0-9]|\.[0-9])"
)
_QUOTED_ID = re.compile(r"学籍号 (['\"])(.*?)\1")  # the cleaner's "学籍号 'G4401' is invalid"
_PLACE_AFTER = re.compile(r"\s*[(（][^()（）]{0,40}[)）]")  # 112.96.207.225(广东-广州)
_DROP_HEADER = re.compile(
    r"(?<![A-Za-z])ip(?![A-Za-z])|地理位置|位置|属地|定位|所在地|来源详情|昵称|手机|电话|身份证|邮箱",
    re.I,
)


# ----------------------------------------------------------------------------- the key


def load_key(cfg) -> bytes | None:
    """The study's pseudonym key, or None when none is configured.

    Three ways, first found wins: ``pseudonym_key = "..."`` in ``[study]``, ``pseudonym_key_file
    = "path"`` (relative to the study folder; outer whitespace and newlines of the file are
    ignored), the environment variable ``MENTORLIB_PSEUDONYM_KEY``.

    Parameters
    ----------
    cfg : StudyConfig
        The study's configuration (:func:`mentorlib.io.study.load_config`).

    Returns
    -------
    bytes or None

    Raises
    ------
    InputError
        A key given but unusable: an empty or whitespace-only ``pseudonym_key``, a key file that
        is missing, not a file, unreadable or empty, an environment variable set but empty, or
        both ``pseudonym_key`` and ``pseudonym_key_file`` given. A key that was meant but cannot
        be read never silently means "no key".
    """
    toml = cfg.root / "study.toml"
    if cfg.pseudonym_key is not None and cfg.pseudonym_key_file is not None:
        raise InputError(
            "[study] gives both pseudonym_key and pseudonym_key_file: keep one", file=str(toml)
        )
    if cfg.pseudonym_key is not None:
        k = cfg.pseudonym_key
        if not isinstance(k, str) or not k.strip():
            raise InputError(
                "[study] pseudonym_key is empty (or not text): give the key, or remove the line",
                file=str(toml),
            )
        return k.encode("utf-8")
    if cfg.pseudonym_key_file is not None:
        return _read_key_file(cfg.root, cfg.pseudonym_key_file, toml)
    env = os.environ.get(ENV_KEY)
    if env is None:
        return None
    if not env.strip():
        raise InputError(f"{ENV_KEY} is set but empty: give the key, or unset it")
    return env.encode("utf-8")


def _read_key_file(root: Path, name, toml: Path) -> bytes:
    if not isinstance(name, str) or not name.strip():
        raise InputError("[study] pseudonym_key_file is empty (or not text)", file=str(toml))
    p = root / name
    if not p.exists():
        raise InputError("pseudonym_key_file not found", file=str(p))
    if not p.is_file():
        raise InputError("pseudonym_key_file is not a file", file=str(p))
    try:
        data = p.read_bytes()
    except OSError as e:
        raise InputError(f"pseudonym_key_file cannot be read ({e.strerror})", file=str(p)) from None
    key = data.strip()
    if not key.removeprefix(_BOM).strip():
        raise InputError(
            "pseudonym_key_file is empty: write the key in it (an empty key is no key)",
            file=str(p),
        )
    return key


# ----------------------------------------------------------------------------- the scrubber


def header_kind(header) -> str | None:
    """What a raw column holds, guessed from its header alone (for columns no codebook matched).

    Returns ``"drop"`` (IP address, location, nickname, phone, ID card, e-mail), ``"name"``
    (a header with 姓名), ``"birth_date"`` (出生日期, 生日: kept to the month), ``"student_id"``
    (学籍号, 学号) or None (text, scrubbed as text).
    """
    h = str(header or "")
    if _DROP_HEADER.search(h):
        return "drop"
    if "姓名" in h or "名字" in h:
        return "name"
    if "出生" in h or "生日" in h:
        return "birth_date"
    if "学籍号" in h or "学号" in h:
        return "student_id"
    return None


class Scrubber:
    """Replaces real IDs, names and IP addresses in cells and texts (see the module docstring).

    Parameters
    ----------
    key : bytes
        The pseudonym key.
    student_ids : iterable of str
        Every real 学籍号 of the roster (mapped to pseudonyms wherever they appear).
    names : iterable of str
        Names to replace by 〔姓名〕 in any text (roster students and staff, and every name seen
        in a name column). Names shorter than two characters are ignored; given names
        (:func:`given_name`) are replaced in free text (:meth:`free_text`).
    """

    def __init__(self, key: bytes, student_ids: Iterable[str], names: Iterable[str] = ()):
        self.key = key
        self._given: dict[str, str] = {}  # given names: replaced in free text only
        self._free: dict[str, str] = {}
        self.ids = {i for i in student_ids if isinstance(i, str)}
        self._by_digits = {i[1:]: i for i in self.ids}
        self._pid: dict[str, str] = {}
        self._lits: dict[str, str] = {}
        self._first: set[str] = set()
        self._lens: list[int] = []
        self._text: dict[str, str] = {}
        self.add_names(names)

    # -- what to look for

    def add_names(self, names: Iterable) -> None:
        """Also replace these names (and their normalised spelling) in every text."""
        for n in names:
            if not isinstance(n, str) or nz.skip(n) or not any(c.isalpha() for c in n):
                continue  # a skip marker (跳过) typed into a name column is no name
            for v in {n.strip(), _squash(n)}:
                if len(v) >= 2:
                    self._add_literal(v, NAME_MASK)
                g = given_name(v)
                if g:
                    self._given[g] = NAME_MASK
                    self._free.clear()

    def add_raw_ids(self, raws: Iterable) -> None:
        """Also replace these raw 学籍号 cells (damaged or not) wherever they appear in text."""
        for r in raws:
            if isinstance(r, str | int | float) and not isinstance(r, bool):
                s = _num_text(r).strip()
                if len(s) >= 6 and s not in self._lits:
                    repl = self.student_id(s)
                    if repl is not None:  # None: nothing left of it ("------"), so no ID to hide
                        self._add_literal(s, repl)

    def _add_literal(self, s: str, repl: str) -> None:
        self._lits.setdefault(s, repl)
        self._first.add(s[0])
        if len(s) not in self._lens:
            self._lens = sorted({*self._lens, len(s)}, reverse=True)
        self._text.clear()

    # -- replacing

    def pid(self, sid: str) -> str:
        """The pseudonym of a real 学籍号."""
        p = self._pid.get(sid)
        if p is None:
            p = self._pid[sid] = pseudonym(sid, self.key)
        return p

    def student_id(self, raw) -> str | None:
        """A raw 学籍号 cell: its pseudonym when it names a roster student, else 〔学籍号〕."""
        if raw is None or (isinstance(raw, float) and raw != raw):
            return None
        s = _squash(_num_text(raw)).upper().removesuffix(".0").replace("-", "")
        if not s:
            return None
        sid = s if s in self.ids else self._by_digits.get(s[1:] if s[0] in "GLJ" else s)
        return self.pid(sid) if sid else ID_MASK

    def cell(self, value, kind: str | None = None):
        """One cell of a column of ``kind`` (see :func:`header_kind`; ``"text"``: a text the
        cleaner wrote, :meth:`text`; ``"path"``: a source path, :meth:`path`; None: what a person
        typed, :meth:`free_text`)."""
        if value is None or (isinstance(value, float) and value != value):
            return value
        if kind == "student_id":
            return self.student_id(value)
        if kind in ("name", "staff_name", "staff_choice"):
            return NAME_MASK
        if kind == "drop":
            return DROP_MASK
        if kind == "birth_date":  # to the month, as in the students table
            d = when.date_(value)[0]
            return d[:7] if d else DROP_MASK
        if kind == "text":  # written by the cleaner: full names only
            return self.text(value)
        if kind == "path":
            return self.path(value)
        return self.free_text(value)

    def path(self, value):
        """A source file's path, as named by a person (``问卷_邓沐妈妈转发.xlsx``): scrubbed as
        free text (:meth:`free_text`), so one path always gives the same scrubbed path and the
        tables that name it still join on it. Separators and the extension are kept."""
        return self.free_text(value)

    def text(self, value):
        """Free text with IDs, IP addresses and names replaced (non-text returned as is)."""
        if not isinstance(value, str):
            if isinstance(value, int | float | np.integer | np.floating) and not isinstance(
                value, bool
            ):
                s = _num_text(value)
                return self.text(s) if _ID_LIKE.search(s) or _PHONE.search(s) else value
            return value
        out = self._text.get(value)
        if out is None:
            s = _ID_LIKE.sub(lambda m: self.student_id(m.group(0)), value)
            s = _QUOTED_ID.sub(lambda m: f"学籍号 {m[1]}{self.student_id(m[2]) or ''}{m[1]}", s)
            s = _IP.sub(IP_MASK, s)
            if IP_MASK in s:
                s = re.sub(re.escape(IP_MASK) + _PLACE_AFTER.pattern, IP_MASK, s)
            s = _PHONE.sub(PHONE_MASK, s)
            out = self._text[value] = self._literals(s)
        return out

    def free_text(self, value):
        """What a person typed (an 其他〖…〗 answer, a 事由, a message): :meth:`text`, and the
        given name of every roster name of three or more characters too (我和欣妍是同桌)."""
        s = self.text(value)
        if not isinstance(s, str) or not self._given:
            return s
        out = self._free.get(s)
        if out is None:
            first = {g[0] for g in self._given}
            out = self._free[s] = _replace_literals(s, self._given, first, [3, 2])
        return out

    def _literals(self, s: str) -> str:
        return _replace_literals(s, self._lits, self._first, self._lens)

    def series(self, s: pd.Series, kind: str | None = None) -> pd.Series:
        """A column scrubbed cell by cell (each distinct value once), keeping its dtype family."""
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats = s.cat.categories
            new_cats = [self.cell(c, kind) for c in cats]
            if len(set(new_cats)) == len(new_cats):
                return s.cat.rename_categories(new_cats)
            return s.astype(object).map(dict(zip(cats, new_cats, strict=True))).astype("category")
        if not (pd.api.types.is_string_dtype(s) or s.dtype == object):
            return s
        codes, uniq = pd.factorize(s, use_na_sentinel=True)
        new = np.array([self.cell(u, kind) for u in uniq] + [None], dtype=object)
        out = pd.Series(new[codes], index=s.index, name=s.name)
        return out.astype(s.dtype) if s.dtype != object else out

    def raw_row(self, raw: str | None, kinds: dict) -> str | None:
        """A quarantined row kept as JSON text ({header: cell}): every cell scrubbed by the kind
        of its column (``kinds``: header -> kind; unknown headers by :func:`header_kind`)."""
        if not isinstance(raw, str):
            return raw
        try:
            row = json.loads(raw)
        except ValueError:
            return self.text(raw)
        if not isinstance(row, dict):
            return self.text(raw)
        out = {
            self.text(h): self.cell(v, kinds[h] if h in kinds else header_kind(h))
            for h, v in row.items()
        }
        return json.dumps(out, ensure_ascii=False)


def _replace_literals(s: str, lits: dict, first: set, lens: list) -> str:
    """Replace every occurrence of a literal (longest first, left to right)."""
    if not lits or first.isdisjoint(s):
        return s
    out, i, n = [], 0, len(s)
    while i < n:
        if s[i] in first:
            for k in lens:
                r = lits.get(s[i : i + k]) if i + k <= n else None
                if r is not None:
                    out.append(r)
                    i += k
                    break
            else:
                out.append(s[i])
                i += 1
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


COMPOUND_SURNAMES = (
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "轩辕", "令狐", "端木", "西门", "南宫", "独孤", "申屠",
)  # fmt: skip


def given_name(name: str) -> str | None:
    """The two- or three-character given name of a Chinese full name, else None.

    >>> given_name("余欣妍"), given_name("欧阳娜娜"), given_name("刘鹏"), given_name("A·B")
    ('欣妍', '娜娜', None, None)
    """
    if not isinstance(name, str) or not all("\u4e00" <= c <= "\u9fff" for c in name):
        return None
    g = name[2:] if name[:2] in COMPOUND_SURNAMES else name[1:]
    return g if 2 <= len(g) <= 3 else None


def _num_text(x) -> str:
    if isinstance(x, str):
        return x
    f = float(x)
    return str(int(f)) if np.isfinite(f) and f == int(f) else repr(f)


def _squash(s: str) -> str:
    """NFKC, no whitespace, no control or format characters: the spelling of a cleaned name."""
    s = unicodedata.normalize("NFKC", s)
    return "".join(c for c in s if not c.isspace() and unicodedata.category(c) not in ("Cc", "Cf"))


# ----------------------------------------------------------------------------- the folder


def pseudonymise_outputs(
    tables: dict[str, pd.DataFrame],
    *,
    log: pd.DataFrame,
    row_status: pd.DataFrame,
    quarantine: pd.DataFrame,
    summary: pd.DataFrame,
    validation: pd.DataFrame,
    key: bytes,
    column_kinds: dict[tuple[str, str], str | None],
    study_text: dict[str, str] | None = None,
) -> dict:
    """Pseudonymise everything a cleaning writes (the canonical tables in place).

    Parameters
    ----------
    tables : dict of DataFrame
        The canonical tables, with real IDs and names; changed in place.
    log, row_status, quarantine, summary, validation : DataFrame
        The cleaning log, the fate of every raw row, the quarantine (``raw`` holds each row as
        JSON text), the per-source summary and the schema failures.
    key : bytes
        The pseudonym key.
    column_kinds : dict
        ``(source file, header) -> kind`` of every raw column the codebooks matched
        (``"student_id"``, ``"name"``, ``"staff_name"``, ``"staff_choice"``, ``"drop"`` or None).
    study_text : dict of str, optional
        Free texts of ``[study]`` that reach the outputs (``{"school": ...}``).

    Returns
    -------
    dict
        ``log``, ``row_status``, ``quarantine``, ``summary`` and ``validation``, scrubbed (the
        ``source`` path of each scrubbed by :meth:`Scrubber.path`, the same path the same way in
        every frame), and ``study_text``: the texts of ``study_text`` scrubbed as free text.
    """
    sc = Scrubber(key, *_ids_and_names(tables))

    def kind(src, col):
        k = column_kinds.get((str(src), str(col)), "?")
        return header_kind(col) if k == "?" else k

    # names and IDs seen in the raw cells of name and ID columns are replaced in texts too
    lk = _log_kinds(log, sc, kind)
    qkinds = _quarantine_kinds(quarantine, sc, kind)
    _tables(tables, sc)
    log = _scrub_log(log, lk, sc)
    rs = row_status.copy()
    if len(rs):
        rs["student_id"] = _pseudonyms(rs["student_id"], sc)
        for c in ("sheet", "detail", "merged_into"):
            rs[c] = sc.series(rs[c], "text")
    q = quarantine.copy()
    if len(q):
        q["sheet"] = sc.series(q["sheet"].astype(object), "text")
        q["detail"] = sc.series(q["detail"].astype(object), "text")
        q["raw"] = [
            sc.raw_row(r, qkinds.get(str(s), {}))
            for s, r in zip(q["source"], q["raw"], strict=True)
        ]
    summ = summary.copy()
    for c in ("sheet", "error"):  # error: why a source could not be read (partial cleaning)
        if c in summ.columns:
            summ[c] = sc.series(summ[c].astype(object), "text")
    val = validation.astype(str)
    for c in val.columns:
        val[c] = sc.series(val[c].astype(object), "text")
    for df in (log, rs, q, summ):  # last: the kinds above are looked up by the real path
        if "source" in df.columns and len(df):
            df["source"] = sc.series(df["source"], "path")
    texts = {k: sc.free_text(v) for k, v in (study_text or {}).items()}
    return {
        "log": log,
        "row_status": rs,
        "quarantine": q,
        "summary": summ,
        "validation": val,
        "study_text": texts,
    }


def _ids_and_names(tables: dict[str, pd.DataFrame]) -> tuple[set[str], set]:
    """Every student ID of the tables, and every student and staff name."""
    ids: set[str] = set()
    for df in tables.values():
        if "student_id" in df.columns:
            ids.update(df["student_id"].dropna().astype(str))
    names: set = set()
    for t in ("students", "staff"):
        if "name" in tables.get(t, pd.DataFrame()).columns:
            names.update(tables[t]["name"].dropna().astype(str))
    return ids, names


def _log_kinds(log: pd.DataFrame, sc: Scrubber, kind) -> np.ndarray:
    """The kind of every log row's column (worked out once per source and column); the names
    and IDs of its name and ID columns are given to the scrubber."""
    lk = np.empty(0, dtype=object)
    if not len(log):
        return lk
    pair = pd.MultiIndex.from_arrays([log["source"].astype(object), log["column"].astype(object)])
    codes, uniq = pd.factorize(pair)
    lk = np.array([kind(s, c) for s, c in uniq] + [None], dtype=object)[codes]
    for col in ("old", "new"):
        vals = log[col].to_numpy(dtype=object)
        sc.add_names(vals[lk == "name"])
        sc.add_names(vals[lk == "staff_name"])
        sc.add_raw_ids(vals[lk == "student_id"])
    return lk


def _quarantine_kinds(quarantine: pd.DataFrame, sc: Scrubber, kind) -> dict[str, dict]:
    """The kind of every header of each quarantined raw row, per source; names and IDs found
    in them are given to the scrubber."""
    qkinds: dict[str, dict] = {}
    for src, raw in zip(quarantine.get("source", []), quarantine.get("raw", []), strict=True):
        if not isinstance(raw, str):
            continue
        try:
            row = json.loads(raw)
        except ValueError:
            continue
        kinds = qkinds.setdefault(str(src), {})
        for h, v in row.items() if isinstance(row, dict) else ():
            k = kinds.setdefault(h, kind(src, h))
            if k in ("name", "staff_name"):
                sc.add_names([v])
            elif k == "student_id":
                sc.add_raw_ids([v])
    return qkinds


def _scrub_log(log: pd.DataFrame, lk: np.ndarray, sc: Scrubber) -> pd.DataFrame:
    log = log.copy()
    if not len(log):
        return log
    for col in ("old", "new"):
        vals = log[col].to_numpy(dtype=object)
        out = vals.copy()
        for k in pd.unique(lk):
            if col == "new" and k == "staff_choice":
                continue  # the 工号 the choice was decoded to
            m = lk == k
            out[m] = sc.series(pd.Series(vals[m], dtype=object), k).to_numpy(dtype=object)
        log[col] = out
    log["sheet"] = sc.series(log["sheet"], "text")
    return log


def _pseudonyms(s: pd.Series, sc: Scrubber) -> pd.Series:
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    new = np.array([sc.pid(u) for u in uniq] + [None], dtype=object)
    return pd.Series(new[codes], index=s.index, name=s.name).astype("str")


def _tables(tables: dict[str, pd.DataFrame], sc: Scrubber) -> None:
    for name, df in tables.items():
        if "student_id" in df.columns:
            df["student_id"] = _pseudonyms(df["student_id"], sc)
        for c in FREE_TEXT:
            if c in df.columns:
                df[c] = sc.series(df[c])
        if name in ("students", "staff") and "name" in df.columns:
            tables[name] = df = df.drop(columns="name")
        if name == "students" and "birth_date" in df.columns:
            b = pd.to_datetime(df["birth_date"], errors="coerce")
            df["birth_date"] = b.dt.to_period("M").dt.to_timestamp().astype(b.dtype)
