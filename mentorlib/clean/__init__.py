"""Cleaning: a study folder in, the canonical tables out, nothing lost (``mentorlib clean``).

Modules, in the order of the flow:

- :mod:`~mentorlib.clean.pipeline`: :func:`clean_study`, :func:`load_study`,
  :func:`write_processed` (the whole run, and the processed folder it writes);
- :mod:`~mentorlib.clean.sources`: one cleaner per kind of source;
- :mod:`~mentorlib.clean.decode` and :mod:`~mentorlib.clean.normalise`: cell values by type;
- :mod:`~mentorlib.clean.link`: rows to students on the roster;
- :mod:`~mentorlib.clean.dedupe`: repeated submissions and records;
- :mod:`~mentorlib.clean.log`: the cleaning log and the fate of every raw row;
- :mod:`~mentorlib.clean.validate`: pandera schemas of the table contract;
- :mod:`~mentorlib.clean.pseudonymise`: pseudonyms and the scrubbing of every output.
"""

from __future__ import annotations

from .decode import AGE_RANGE
from .pipeline import ORDER, CleanResult, clean_study, load_study, write_processed
from .validate import schemas, validate_tables

__all__ = [
    "AGE_RANGE",
    "ORDER",
    "CleanResult",
    "clean_study",
    "load_study",
    "schemas",
    "validate_tables",
    "write_processed",
]
