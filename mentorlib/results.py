"""The protocol every result object follows, and the one way results become JSON.

A result object (the progress report, the mentor report, a grouping comparison, a compliance
report, a checked assignment …) answers the same four questions, in Chinese by default:

``summary(lang="zh") -> str``
    A few sentences a reader can paste into a note.
``tables(*, lang="zh", public=True) -> dict[str, DataFrame]``
    Its tidy tables by name; ``public=True`` applies small-cell protection (``min_cell`` of the
    study's rulebook), ``public=False`` is for the research team's own eyes.
``figures(*, lang="zh", public=True) -> dict[str, Figure]``
    Its figures by name (matplotlib), drawn from the same tables.
``to_json_dict(*, public=True) -> dict``
    Plain Python values only (``json.dumps`` works without a ``default=``); the command line's
    ``--json`` prints exactly this.

:func:`to_json` turns any result (or a dict of them) into JSON text, :func:`jsonable` makes any
nested structure of frames, NumPy and pandas scalars plain.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from .labels import check_lang

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Result", "check_lang", "jsonable", "plain", "records", "to_json"]


@runtime_checkable
class Result(Protocol):
    """What every result object of the workbench offers (see the module docstring)."""

    def summary(self, lang: str = "zh") -> str: ...

    def tables(self, *, lang: str = "zh", public: bool = True) -> dict[str, pd.DataFrame]: ...

    def figures(self, *, lang: str = "zh", public: bool = True) -> dict[str, Figure]: ...

    def to_json_dict(self, *, public: bool = True) -> dict[str, Any]: ...


def plain(v: Any) -> Any:
    """One value as plain Python: NaN, NA and NaT become None, NumPy scalars Python ones."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, pd.Timestamp | datetime | date):
        return v.isoformat()
    return v


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as a list of plain dicts (column names as strings)."""
    return [
        {str(k): plain(v) for k, v in row.items()} for row in df.astype("object").to_dict("records")
    ]


def jsonable(v: Any) -> Any:
    """Any nesting of dicts, lists, frames, series and scalars as plain JSON-ready values."""
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [jsonable(x) for x in v]
    if isinstance(v, pd.DataFrame):
        return records(v)
    if isinstance(v, pd.Series):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):
        return [jsonable(x) for x in v.tolist()]
    v = plain(v)
    if v is None or isinstance(v, bool | int | float | str):
        return v
    return str(v)


def to_json(result: Any, *, public: bool = True) -> str:
    """JSON text of a result object (its ``to_json_dict``) or of any plain structure."""
    data = result.to_json_dict(public=public) if hasattr(result, "to_json_dict") else result
    return json.dumps(jsonable(data), ensure_ascii=False, indent=2)
