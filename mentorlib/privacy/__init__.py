"""Small-cell suppression: no published number describes fewer than ``min_cell`` students.

Every table that leaves the workbench (a report, a figure's data, ``--json`` output) passes
through :func:`suppress_small_cells` at the output stage; analyses keep the full numbers.
:func:`format_suppressed` turns the blanked cells into the text a reader sees (``"<5"``).

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"group": ["a", "b"], "n": [40, 3], "rate": [0.9, 1.0]})
>>> out = suppress_small_cells(t, counts="n")
>>> out["suppressed"].tolist(), out["rate"].isna().tolist()
([False, True], [False, True])
>>> format_suppressed(out)["n"].tolist()
['40', '<5']
"""

from __future__ import annotations

from .audit import audit
from .cells import (
    MIN_CELL,
    few_text,
    format_suppressed,
    suppress_rule_values,
    suppress_small_cells,
)
from .document import HIDDEN, PRIMARY, SECONDARY, SHOWN, Document, DocumentView

__all__ = [
    "HIDDEN",
    "MIN_CELL",
    "PRIMARY",
    "SECONDARY",
    "SHOWN",
    "Document",
    "DocumentView",
    "audit",
    "few_text",
    "format_suppressed",
    "suppress_rule_values",
    "suppress_small_cells",
]
