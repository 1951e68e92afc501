"""Readable tables of a :class:`~.comparison.Comparison`, in Chinese or English.

The comparison's own tables (``estimators``, ``balance``, ``guidance``) are tidy and numeric, for
code; these are for a reader (notebook 02, a report appendix): labelled columns in the chosen
language, estimates and intervals as text on their own scale (a rate difference as a percentage,
an SD difference to two decimals), means and SMDs rounded, yes/no in words.

:func:`estimator_table`
    Method, dimension, scale, estimate, 95% interval, mentees, non-mentees; optionally the
    generator's truth (``SynthStudy.truth["att"]``) beside each row.
:func:`balance_display`
    The balance before and after weighting, covariates by name.
:func:`guidance_display`
    Each design's assumption, what the data say, whether it holds, its estimate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..labels import DIMENSION_LABELS, Lang
from ..labels_comparison import (
    COMPARISON_DISPLAY,
    COMPARISON_DISPLAY_DIMENSIONS,
    COMPARISON_DISPLAY_SUPPORTED,
    COMPARISON_ESTIMATORS,
)
from .comparison_guide import guidance_table
from .comparison_ps import BALANCE_COLUMNS

if TYPE_CHECKING:
    from .comparison import Comparison

__all__ = ["balance_display", "estimator_table", "format_effect", "guidance_display"]


def format_effect(value: float | None, scale: str) -> str:
    """One estimate as text: a rate difference as a signed percentage (``+13.6%``), an SD
    difference to two decimals (``+0.23``); missing as an empty string.

    >>> format_effect(0.1364, "rate"), format_effect(-0.0312, "sd"), format_effect(None, "sd")
    ('+13.6%', '-0.03', '')
    """
    if value is None or not np.isfinite(value):
        return ""
    return f"{value:+.1%}" if scale == "rate" else f"{value:+.2f}"


def _interval(lo, hi, scale: str) -> str:
    a, b = format_effect(lo, scale), format_effect(hi, scale)
    return f"[{a}, {b}]" if a and b else ""


def _truth_of(truth: pd.DataFrame, year: int | None, scale: str, dim: str) -> float:
    """The generator's ATT on the row's scale: ``att_rate`` of "any", ``att_sd`` of a dimension
    or their mean."""
    t = truth if year is None or "year" not in truth else truth.loc[truth["year"] == year]
    if scale == "rate":
        hit = t.loc[t["dimension"] == "any", "att_rate"]
    elif dim == "mean":
        hit = t.loc[t["dimension"] != "any", "att_sd"]
        return float(hit.mean()) if len(hit) else float("nan")
    else:
        hit = t.loc[t["dimension"] == dim, "att_sd"]
    return float(hit.iloc[0]) if len(hit) else float("nan")


def estimator_table(
    comparison: Comparison,
    lang: str = "zh",
    *,
    dimensions: bool = False,
    truth: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every estimator's estimate and interval, one readable row each.

    Parameters
    ----------
    comparison : Comparison
    lang : {"zh", "en"}
    dimensions : bool, default False
        Also each dimension's row (by default only the headline rows: the rate and the mean
        over dimensions).
    truth : DataFrame, optional
        The generator's truth (``SynthStudy.truth["att"]``: ``year, dimension, att_sd,
        att_rate``); adds its value on each row's scale.

    Returns
    -------
    DataFrame
        Columns (labelled in ``lang``): method, dimension, scale, estimate, 95% interval,
        mentees, non-mentees[, generator truth]. Text, for reading.
    """
    L = Lang(lang)
    est = comparison.estimators
    if not dimensions and len(est):
        est = est.loc[est["dimension"].isin(["any", "mean"])]
    dims = DIMENSION_LABELS.get(comparison.level, {})
    rows = []
    for r in est.to_dict("records"):
        dim, scale = str(r["dimension"]), str(r["scale"])
        row = {
            "estimator": L.of(COMPARISON_ESTIMATORS, r["estimator"]),
            "dimension": L.of(COMPARISON_DISPLAY_DIMENSIONS, dim, L.of(dims, dim)),
            "scale": L.of(COMPARISON_DISPLAY, scale),
            "estimate": format_effect(float(r["estimate"]), scale),
            "interval": _interval(r["ci_low"], r["ci_high"], scale),
            "n_treated": int(r["n_treated"]),
            "n_control": int(r["n_control"]),
        }
        if truth is not None:
            row["truth"] = format_effect(_truth_of(truth, comparison.year, scale, dim), scale)
        rows.append(row)
    cols = ["estimator", "dimension", "scale", "estimate", "interval", "n_treated", "n_control"]
    cols += ["truth"] if truth is not None else []
    return _labelled(pd.DataFrame(rows, columns=cols), L)


def balance_display(comparison: Comparison, lang: str = "zh", *, digits: int = 2) -> pd.DataFrame:
    """The balance table with covariates by name, rounded to ``digits``.

    Returns
    -------
    DataFrame
        Columns (labelled in ``lang``): covariate, mentees' mean, non-mentees' mean, their
        weighted mean, SMD before, SMD after, balanced (yes/no). Empty without a balance table.
    """
    L = Lang(lang)
    cols = BALANCE_COLUMNS
    bal = comparison.balance
    if bal is None or not len(bal):
        return _labelled(pd.DataFrame(columns=cols), L)
    names = comparison.covariate_labels(lang)
    out = bal[cols].assign(
        covariate=bal["covariate"].map(lambda c: names.get(c, c)),
        balanced=[_yes_no(b, L) for b in bal["balanced"]],
    )
    num = cols[1:-1]
    out[num] = out[num].astype(float).round(digits)
    return _labelled(out.reset_index(drop=True), L)


def guidance_display(comparison: Comparison, lang: str = "zh") -> pd.DataFrame:
    """The guidance table in ``lang``: which assumption each design needs and whether the data
    support it.

    Returns
    -------
    DataFrame
        Columns (labelled in ``lang``): method, assumption, what the data say, assumption
        supported (yes / no / not testable), scale, estimate, 95% interval.
    """
    L = Lang(lang)
    cols = ["estimator", "assumption", "diagnostic", "supported", "scale", "estimate", "interval"]
    est = comparison.estimators
    if not len(est):
        return _labelled(pd.DataFrame(columns=cols), L)
    g = guidance_table(est, comparison.balance, comparison.facts, lang=L.code)
    out = pd.DataFrame(
        {
            "estimator": g["label"],
            "assumption": g["assumption"],
            "diagnostic": g["diagnostic"],
            "supported": [_yes_no(s, L) for s in g["supported"]],
            "scale": [L.of(COMPARISON_DISPLAY, s) for s in g["scale"]],
            "estimate": [
                format_effect(v, s) for v, s in zip(g["estimate"], g["scale"], strict=True)
            ],
            "interval": [
                _interval(lo, hi, s)
                for lo, hi, s in zip(g["ci_low"], g["ci_high"], g["scale"], strict=True)
            ],
        },
        columns=cols,
    )
    return _labelled(out, L)


def _yes_no(value, L: Lang) -> str:
    """True / False in words; None or NaN: "not testable"."""
    key = "None" if value is None or pd.isna(value) else str(bool(value))
    return L.of(COMPARISON_DISPLAY_SUPPORTED, key)


def _labelled(df: pd.DataFrame, L: Lang) -> pd.DataFrame:
    return df.rename(columns={c: L.of(COMPARISON_DISPLAY, c) for c in df.columns})
