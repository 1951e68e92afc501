"""The workbench's own errors, and which of them a user can act on.

The command line (:mod:`mentorlib.cli`) sorts every exception into one of two kinds:

- a **user error**: the input, the study folder or the rules are not what they should be, and
  the user can fix that. It is printed as one line naming the file, row and column, and the
  command exits 2. These are the :class:`MentorlibError` subclasses whose ``user_error`` is
  true (:class:`InputError`, :class:`InfeasibleError`) and the operating system's refusals
  (``OSError``: a missing file, no permission, a full disk), whose message names the path.
- an **internal error**: anything else (``KeyError``, ``AttributeError``, a bare
  ``ValueError``, and :class:`ImpossibleNumberError`, a number the cleaned data should never
  have produced) is a bug. The command prints a short "please report it" line and exits 70
  (``EX_SOFTWARE``); ``--debug`` prints the full traceback instead.

A library function that rejects its caller's arguments raises :class:`InputError` (a
``ValueError``, so ``except ValueError`` in a notebook still catches it), never a bare
``ValueError``: only then does the command line show it as the user's to fix.
"""

from __future__ import annotations

__all__ = [
    "ImpossibleNumberError",
    "InfeasibleError",
    "InputError",
    "MentorlibError",
    "is_user_error",
    "reason_without_file",
]


class MentorlibError(Exception):
    """Base of the workbench's own errors.

    Attributes
    ----------
    user_error : bool
        True if the user can act on it (the command line prints one line and exits 2); false
        if it means a bug (the command line asks for a report and exits 70).
    """

    user_error: bool = True


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
        self.message = message
        self.file, self.sheet, self.row, self.column = file, sheet, row, column


class InfeasibleError(MentorlibError, ValueError):
    """No assignment can satisfy the rules; the message names the binding rule.

    A user error: the roster or the study's ``[rules]`` ask for the impossible.
    """


class ImpossibleNumberError(MentorlibError, ValueError):
    """A number a report would print cannot be right (a rate above 100%).

    Data that passed the cleaner's checks should never produce one, so the command line treats
    it as a bug (``user_error`` false): better a report to the maintainers than a wrong number.
    """

    user_error = False


def is_user_error(exc: BaseException) -> bool:
    """True if the command line should show ``exc`` as one line the user can act on.

    >>> is_user_error(InputError("no such column"))
    True
    >>> is_user_error(ImpossibleNumberError("rate 120%")), is_user_error(ValueError("x"))
    (False, False)
    >>> is_user_error(FileNotFoundError("data/raw/x"))
    True
    """
    if isinstance(exc, MentorlibError):
        return exc.user_error
    return isinstance(exc, OSError)


def reason_without_file(exc: BaseException, *files) -> str:
    """The first line of an error's message without the name of the file it is about, for a
    report that names the file itself ("x.csv: not a readable CSV", not "x.csv: x.csv: ...").

    ``files``: the names the file may go by (as study.toml gives it, its full path). The sheet,
    row and column an :class:`InputError` names are kept.

    >>> reason_without_file(InputError("not a readable CSV", file="exams/x.csv"), "exams/x.csv")
    'not a readable CSV'
    >>> e = InputError("no 姓名 column", file="x.xlsx", sheet="语文")
    >>> reason_without_file(e, "x.xlsx"), reason_without_file(e, "y.xlsx")
    ('sheet 语文: no 姓名 column', 'x.xlsx, sheet 语文: no 姓名 column')
    """
    names = {str(f) for f in files}
    if isinstance(exc, InputError) and exc.file is not None and str(exc.file) in names:
        exc = InputError(exc.message, sheet=exc.sheet, row=exc.row, column=exc.column)
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    for f in names:
        msg = msg.removeprefix(f"{f}: ")
    return msg
