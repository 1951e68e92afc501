"""Student IDs (学籍号) and pseudonyms.

A national student number is a prefix letter followed by the 18-character citizen ID number:
``G`` (regular 学籍), ``L`` (temporary) or ``J`` (other). The ID number's last character is the
check digit of GB 11643-1999 (ISO 7064 MOD 11-2).

Notes
-----
Check digit: with weights ``w_i = 2**(17 - i) mod 11`` for positions ``i = 0..16``,
``S = sum(d_i * w_i)``, the check value is ``(12 - S mod 11) mod 11``, written ``X`` for 10.
Worked example from the standard: ``11010519491231002`` has check digit ``X``.

Examples
--------
>>> check_digit("11010519491231002")
'X'
>>> is_valid_student_id("G11010519491231002X")
True
"""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import lru_cache

import numpy as np

WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
CHECK_CHARS = "10X98765432"  # index: S mod 11 -> check character
PREFIXES = ("G", "L", "J")
_ID_RE = re.compile(r"^[GLJ]\d{17}[\dX]$")


def check_digit(body17: str) -> str:
    """GB 11643 check character of the first 17 digits of an ID number."""
    if len(body17) != 17 or not body17.isdigit():
        raise ValueError(f"need 17 digits, got {body17!r}")
    s = sum(int(c) * w for c, w in zip(body17, WEIGHTS, strict=True))
    return CHECK_CHARS[s % 11]


def is_valid_id18(idno: str) -> bool:
    """True when ``idno`` is 17 digits plus a correct check character."""
    if not isinstance(idno, str) or len(idno) != 18 or not idno[:17].isdigit():
        return False
    return _valid18(idno)


@lru_cache(maxsize=1 << 20)
def _valid18(idno: str) -> bool:  # every student's ID recurs in dozens of files: check it once
    return check_digit(idno[:17]) == idno[17].upper()


def is_valid_student_id(sid: str) -> bool:
    """True for a prefix G/L/J followed by a valid 18-character ID number."""
    return isinstance(sid, str) and bool(_ID_RE.match(sid)) and is_valid_id18(sid[1:])


def check_digits_vec(bodies: np.ndarray) -> np.ndarray:
    """Vectorised check characters for an (n, 17) integer array of digits."""
    s = (bodies * np.asarray(WEIGHTS)).sum(axis=1) % 11
    return np.asarray(list(CHECK_CHARS))[s]


def pseudonym(student_id: str, key: bytes | str, *, length: int = 16) -> str:
    """Keyed pseudonym (HMAC-SHA256, hex, truncated) of a student ID.

    The same key always gives the same pseudonym, so tables stay linkable; without the key the
    ID cannot be recovered. ``length`` hex characters are kept (16 = 64 bits).
    """
    if isinstance(key, str):
        key = key.encode("utf-8")
    digest = hmac.new(key, student_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return "P" + digest[:length]
