"""One line per failure: how a district names what went wrong at a school."""

from __future__ import annotations

from ..errors import is_user_error


def one_line(exc: BaseException) -> str:
    """An exception as one line (a user error as it is, a bug with its type)."""
    msg = " ".join(str(exc).split())
    return msg if is_user_error(exc) else f"{type(exc).__name__}: {msg}"
