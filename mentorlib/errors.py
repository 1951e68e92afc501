"""Errors a user can act on: each carries a one-line message naming the file, row and column."""

from __future__ import annotations


class MentorlibError(Exception):
    """Base of every error the command line reports as one line (no traceback)."""


class InputError(MentorlibError, ValueError):
    """Bad input: a file that is not what study.toml says, a missing column, garbage bytes."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ):
        where = ", ".join(
            x
            for x in (
                str(file) if file else None,
                f"sheet {sheet}" if sheet else None,
                f"row {row}" if row is not None else None,
                f"column {column}" if column else None,
            )
            if x
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.file, self.sheet, self.row, self.column = file, sheet, row, column


class InfeasibleError(MentorlibError, ValueError):
    """No assignment can satisfy the rules; the message names the binding rule."""


class ImpossibleNumberError(MentorlibError, ValueError):
    """A number a report would print cannot be right (a rate above 100%): a bug or bad data."""
