"""What the cleaner did, as tables and a figure (notebook 01 and the report's data-quality note)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from .errors import ImpossibleNumberError
from .labels import ROW_FATE_LABELS, SOURCE_KIND_LABELS, Lang, zh_of
from .plots import use_style

RATE_TOLERANCE = 1e-9  # float arithmetic may land a hair outside [0, 1]

#: Chinese names of the source kinds (the report's data-quality note reads this).
KIND_ZH: dict[str, str] = zh_of(SOURCE_KIND_LABELS)


def check_rate(x, what: str = "a rate") -> float:
    """Check that a rate or share lies in [0, 1] before it is printed.

    Parameters
    ----------
    x : float
        The rate (0.85 for 85%). Missing values (None, NaN) pass through: they print as "—".
    what : str
        What the rate is, for the message.

    Returns
    -------
    float
        ``x`` as a float.

    Raises
    ------
    ImpossibleNumberError
        When ``x`` is below 0 or above 1 (a participation rate of 266.8%): either a bug or data
        the cleaner should have caught (the same records counted more than once).

    Examples
    --------
    >>> check_rate(0.85)
    0.85
    """
    v = float(x)
    if v != v:
        return v
    if not -RATE_TOLERANCE <= v <= 1 + RATE_TOLERANCE:
        raise ImpossibleNumberError(
            f"{what} of {v:.1%} is outside 0-100%: the report is not written (a bug, or records "
            "counted more than once; check the cleaning log of the study)"
        )
    return v


def cleaning_overview(res) -> dict[str, pd.DataFrame]:
    """Tidy tables of a :class:`~mentorlib.clean.pipeline.CleanResult`.

    Returns
    -------
    dict
        ``by_kind``: rows in, kept, merged, quarantined per source kind;
        ``reasons``: quarantined rows per kind and reason;
        ``repairs``: repaired cells per rule (cell-level log entries);
        ``conventions``: columns decoded wholesale (one log entry each);
        ``files``: the per-source summary.
    """
    s = res.summary
    by_kind = (
        s.groupby("kind", sort=False)[["rows_in", "kept", "merged", "quarantined", "blank_rows"]]
        .sum()
        .reset_index()
    )
    q = res.quarantine
    reasons = (
        q.groupby(["kind", "reason"])
        .size()
        .rename("rows")
        .reset_index()
        .sort_values("rows", ascending=False)
        if len(q)
        else pd.DataFrame(columns=["kind", "reason", "rows"])
    )
    lg = res.log
    cells = lg[lg["row"].notna()]
    repairs = (
        cells["rule"].astype(str).value_counts().rename_axis("rule").rename("cells").reset_index()
    )
    conv = lg[lg["rule"].astype(str).str.contains("column convention", regex=False)]
    return {
        "by_kind": by_kind,
        "reasons": reasons.reset_index(drop=True),
        "repairs": repairs,
        "conventions": conv[["source", "sheet", "column", "old", "new", "rule"]].reset_index(
            drop=True
        ),
        "files": s,
    }


def plot_cleaning(res, *, lang: str = "zh"):
    """Two panels: the fate of the rows of each source kind, and the most common repairs."""
    L = Lang(lang)
    use_style()
    ov = cleaning_overview(res)
    bk = ov["by_kind"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [1.1, 1]})
    names = [L.of(SOURCE_KIND_LABELS, k) if L.zh else k for k in bk["kind"]]
    share = bk[["kept", "merged", "quarantined"]].div(bk["rows_in"].clip(lower=1), axis=0)
    left = pd.Series(0.0, index=bk.index)
    for col in ("kept", "merged", "quarantined"):
        a1.barh(names, share[col], left=left, label=L.of(ROW_FATE_LABELS, col))
        left += share[col]
    a1.set_xlim(0.9, 1.0)
    a1.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    a1.set_xlabel(L("行的去向（横轴从 90% 起）", "fate of rows (axis starts at 90%)"))
    a1.legend(loc="upper center", bbox_to_anchor=(0.45, -0.2), ncol=3, fontsize=8)
    rep = ov["repairs"].head(10).iloc[::-1]
    a2.barh(rep["rule"], rep["cells"], color="#3a9e5f")
    a2.set_xlabel(L("修复的单元格数", "cells repaired"))
    a2.set_title(L("最常见的修复", "most common repairs"))
    fig.tight_layout()
    return fig
