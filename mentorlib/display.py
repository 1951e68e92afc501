"""Tables for a reader: what the notebooks show instead of raw DataFrames.

The library's tables are tidy and numeric, for code. :func:`show` turns one into a pandas Styler
for a reader: the columns worth reading (a named view such as ``"verdict"`` or a list), headers in
Chinese or English (:data:`mentorlib.labels_display.COLUMN_LABELS`), codes such as ``rci_data``,
``left_behind`` or ``optimal`` shown as their labels, shares as percentages, counts with
thousands separators, yes/no in words and no index.

:func:`resolve_study` picks the study a notebook opens: the demo study when it was built
(``make demo``), else the committed sample, with a sentence saying so. :func:`wide_ratio_notes`
says in words when an odds ratio's interval is too wide to read (a tiny sample).

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"definition": ["rci_data"], "proportion": [0.3007], "n": [133]})
>>> styled = show(df)
>>> styled.data.columns.tolist(), styled.data.iloc[0, 0]
(['判定标准', '显著进步比例', '计算基数（人）'], '可靠变化指数，α取本校前测')
>>> "30.1%" in styled.to_html()
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

from .errors import InputError
from .labels import (
    COMPARISON_ROW_LABELS,
    DIMENSION_LABELS,
    EXPOSURE_LABELS,
    FOCUS_LABELS,
    GENDER_LABELS,
    MISSING_DATA_RULES,
    POLICY_LABELS,
    PROGRESS_BREAKDOWN_TITLES,
    PROGRESS_DEFINITIONS,
    PROGRESS_VERDICTS,
    ROW_FATE_LABELS,
    SOURCE_KIND_LABELS,
    Lang,
    Pair,
)
from .labels_display import COLUMN_LABELS, DISPLAY_TEXTS, PERCENT_COLUMNS, POINT_COLUMNS
from .labels_units import COUNT_UNITS
from .rules import Rulebook, rulebook

__all__ = [
    "VIEWS",
    "kpi_table",
    "kpi_trend_table",
    "resolve_study",
    "show",
    "wide_ratio_notes",
]

#: The committed sample study (the fallback of :func:`resolve_study`).
SAMPLE_STUDY = Path(__file__).resolve().parents[1] / "data" / "sample"

_WAVES: dict[str, Pair] = {"pre": ("前测", "pre"), "post": ("后测", "post")}
_STUDENT: dict[str, Pair] = {
    "student": ("学生（任一维度）", "student (any dimension)"),
    "composite": ("综合（各维度平均）", "composite (mean of dimensions)"),
    "height_cm": ("身高（安慰剂）", "height (placebo)"),
}

#: Named views: the columns a reader needs, and headers that differ from the shared ones.
VIEWS: dict[str, tuple[tuple[str, ...], dict[str, Pair]]] = {
    "verdict": (
        ("definition", "rule", "k", "n", "n_progressing", "proportion", "ci_low", "ci_high")
        + ("target", "verdict"),
        {"rule": ("缺测处理", "missing data")},
    ),
    "trend": (
        ("year", "n_students", "n", "n_progressing", "proportion", "ci_low", "ci_high", "verdict"),
        {},
    ),
    "breakdowns": (
        ("by", "group", "n_students", "n_evaluable", "n_progressing", "proportion")
        + ("ci_low", "ci_high"),
        {},
    ),
    "false_positive": (("definition", "k", "p_student", "observed"), {}),
    "reliability": (("year", "wave", "dimension", "n", "alpha", "published_alpha"), {}),
    "repairs": (("rule", "cells"), {"rule": ("修复规则", "repair")}),
    "models": (
        ("outcome", "n_students", "n_mentors", "mean_mentees", "icc", "lrt_p", "mean_reliability"),
        {},
    ),
    "placebo": (("outcome", "n_students", "n_mentors", "icc", "lrt_p"), {}),
    "audit": (("n_mentors", "spearman", "spearman_p", "n_band_changed", "share_band_changed"), {}),
    "dose": (("term", "ratio", "ratio_low", "ratio_high", "p"), {}),
    "checks": (("label", "value", "target", "pass", "hard"), {}),
    "outcomes": (("policy", "measure", "mean", "lo", "hi", "diff", "mc_error"), {}),
}

_DIGITS = {
    "spearman_p": 3,
    "p_value": 3,
    "lrt_p": 3,
    "p": 3,
    "alpha": 2,
    "published_alpha": 2,
    "value": 3,
}


def _code_tables(level: str) -> dict[str, Mapping[str, Pair]]:
    """The label table of each coded column (codes missing from a table are shown as they are)."""
    dims = DIMENSION_LABELS.get(level, {}) | _STUDENT
    return {
        "kind": SOURCE_KIND_LABELS,
        "by": PROGRESS_BREAKDOWN_TITLES,
        "definition": PROGRESS_DEFINITIONS,
        "rule": MISSING_DATA_RULES,
        "verdict": PROGRESS_VERDICTS,
        "dimension": dims,
        "level": dims,
        "outcome": dims,
        "policy": POLICY_LABELS,
        "measure": COMPARISON_ROW_LABELS,
        "group": {**FOCUS_LABELS, **GENDER_LABELS},
        "gender": GENDER_LABELS,
        "term": EXPOSURE_LABELS,
        "wave": _WAVES,
        "fate": ROW_FATE_LABELS,
    }


def _relabel(values: pd.Series, table: Mapping[str, Pair], L: Lang, mid: float) -> pd.Series:
    def one(v):
        if isinstance(v, str) and v in table:
            return L.pair(table[v]).format(mid=mid) if "{mid" in table[v][0] else L.pair(table[v])
        return v

    return values.map(one).astype(object)


def _yes_no(values: pd.Series, L: Lang) -> pd.Series:
    yes, no = L.pair(DISPLAY_TEXTS["yes"]), L.pair(DISPLAY_TEXTS["no"])
    return values.map(lambda v: "—" if pd.isna(v) else (yes if bool(v) else no)).astype(object)


def _formatter(name: str, values: pd.Series, percent: Iterable[str]):
    """The format of one column: percentages, counts or decimals (missing shown as —)."""
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if name in percent and numeric:
        return lambda v: "—" if pd.isna(v) else f"{float(v):.1%}"
    if name in POINT_COLUMNS and numeric:
        sign = "+" if name == "diff" else ""
        return lambda v: "—" if pd.isna(v) else f"{100 * float(v):{sign}.1f}"
    if pd.api.types.is_integer_dtype(values):
        return lambda v: "—" if pd.isna(v) else f"{int(v):,}"
    if pd.api.types.is_float_dtype(values):
        d = _DIGITS.get(name, 2)
        return lambda v: "—" if pd.isna(v) else (f"{v:,.0f}" if v == int(v) else f"{v:,.{d}f}")
    return lambda v: "—" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)


def show(
    df: pd.DataFrame,
    lang: str = "zh",
    *,
    view: str | None = None,
    columns: Sequence[str] | None = None,
    headers: Mapping[str, Pair] | None = None,
    percent: Iterable[str] | None = None,
    rules: Rulebook | None = None,
) -> Styler:
    """A library table for a reader: chosen columns, labelled headers and codes, formatted.

    Parameters
    ----------
    df : DataFrame
    lang : {"zh", "en"}
    view : str, optional
        A name of :data:`VIEWS` (its columns and headers); ``columns`` and ``headers`` add to it.
    columns : sequence of str, optional
        The columns to show, in order (those absent from ``df`` are skipped); default all.
    headers : mapping, optional
        Headers ``(zh, en)`` replacing the shared ones (:data:`COLUMN_LABELS`).
    percent : iterable of str, optional
        Columns of shares (0-1) to show as percentages; default :data:`PERCENT_COLUMNS`.
    rules : Rulebook, optional
        The study's rulebook (its level names the dimensions, its ``mid`` the MID definition).

    Returns
    -------
    Styler
        ``.data`` holds the relabelled values (numbers still numbers); the display formats them.
    """
    L = Lang(lang)
    rules = rules or rulebook("primary")
    if view is not None and view not in VIEWS:
        raise InputError(f"no display view {view!r}; views: {', '.join(VIEWS)}")
    cols, head = VIEWS[view] if view is not None else ((), {})
    wanted = list(columns or cols or df.columns)
    out = df.loc[:, [c for c in wanted if c in df.columns]].reset_index(drop=True)
    head = {**COLUMN_LABELS, **head, **(headers or {})}
    pct = set(PERCENT_COLUMNS if percent is None else percent)
    tables = _code_tables(rules.level)
    for c in out.columns:
        if c in tables and not pd.api.types.is_numeric_dtype(out[c]):
            out[c] = _relabel(out[c], tables[c], L, rules.mid)
        elif pd.api.types.is_bool_dtype(out[c]) or c in {"pass", "hard", "passed"}:
            out[c] = _yes_no(out[c], L)
    fmt = {c: _formatter(c, out[c], pct) for c in out.columns}
    names = {c: L.pair(head[c]) if c in head else c for c in out.columns}
    styled = out.rename(columns=names).style.format(
        {names[c]: f for c, f in fmt.items()}, na_rep="—", escape="html"
    )
    return styled.hide(axis="index")


def kpi_table(kpis: pd.DataFrame, lang: str = "zh") -> Styler:
    """A report's KPI table (``rep.kpis``): indicator, result, interval, target, status, n and
    what the n counts (:data:`mentorlib.labels_units.COUNT_UNITS`)."""
    L = Lang(lang)
    k = kpis.assign(unit=[L.of(COUNT_UNITS, key, "") for key in kpis["key"]])
    cols = ("label", "value_text", "ci_text", "target_text", "status", "n", "unit")
    return show(k, lang, columns=cols, headers={"label": ("指标", "indicator"), "n": ("n", "n")})


def kpi_trend_table(kpis: pd.DataFrame, lang: str = "zh") -> Styler:
    """A review's KPI table (``rep.kpis`` with a ``year``) with one column per school year:
    each indicator once, its target, what its n counts and each year's result (✗ a missed
    target)."""
    L = Lang(lang)
    k = kpis.assign(
        shown=[
            f"{v}{'' if pd.isna(p) else (' ✓' if p else ' ✗')}"
            for v, p in zip(kpis["value_text"], kpis["passed"], strict=True)
        ]
    )
    wide = k.pivot_table(index="key", columns="year", values="shown", aggfunc="first", sort=False)
    first = k.drop_duplicates("key").set_index("key")
    out = pd.DataFrame(
        {
            L("指标", "indicator"): first["label"],
            L.pair(COLUMN_LABELS["target_text"]): first["target_text"],
            L.pair(COLUMN_LABELS["unit"]): [L.of(COUNT_UNITS, key, "") for key in first.index],
        }
    )
    for y in wide.columns:
        out[L(f"{y}学年", f"{y}")] = wide[y].reindex(out.index).fillna("—")
    return out.reset_index(drop=True).style.hide(axis="index")


def resolve_study(study: str | Path, lang: str = "zh", *, sample: Path | None = None) -> str:
    """The study folder a notebook opens: ``study`` when it exists, else the committed sample
    (with a printed sentence saying so).

    Raises
    ------
    InputError
        Neither ``study`` nor the sample exists.
    """
    sample = SAMPLE_STUDY if sample is None else Path(sample)
    if Path(study).exists():
        return str(study)
    if not sample.exists():
        raise InputError(f"no study at {study} and no sample at {sample}")
    print(Lang(lang).pair(DISPLAY_TEXTS["fallback"]).format(wanted=study, sample=sample))
    return str(sample)


def wide_ratio_notes(
    dose: pd.DataFrame, n_students: int, rules: Rulebook, lang: str = "zh"
) -> list[str]:
    """A sentence for each odds ratio whose 95% interval is too wide to read.

    A ratio is flagged when its interval's upper end is more than the rulebook's
    ``wide_ratio_fold`` times its lower end (columns ``term, ratio, ratio_low, ratio_high``, as
    the mentor report's ``dose`` table).
    """
    L = Lang(lang)
    out = []
    for r in dose.to_dict("records"):
        lo, hi = float(r["ratio_low"]), float(r["ratio_high"])
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo <= 0:
            continue
        fold = hi / lo
        if fold <= rules.wide_ratio_fold:
            continue
        out.append(
            L.pair(DISPLAY_TEXTS["wide_ratio"]).format(
                term=L.of(EXPOSURE_LABELS, r["term"]),
                ratio=f"{float(r['ratio']):.2f}",
                low=f"{lo:.2f}",
                high=f"{hi:.2f}",
                fold=f"{fold:,.0f}",
                n=f"{int(n_students):,}",
            )
        )
    return out
