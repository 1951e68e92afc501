"""Figures of the progress report (``lang="zh"`` by default, or ``"en"``).

plot_rate_by_year, plot_rate_by_group, plot_dimensions_improved, plot_pre_post. The target
line and the small-cell threshold are passed in (the report passes its rulebook's values).
matplotlib and :mod:`mentorlib.plots` are imported inside the functions: importing
matplotlib takes a second, and the command line and analyses need no figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import InputError
from ..labels import PROGRESS_BREAKDOWN_TITLES, Lang, confidence_text

__all__ = [
    "plot_dimensions_improved",
    "plot_pre_post",
    "plot_rate_by_group",
    "plot_rate_by_year",
]


def _pct_axis(ax) -> None:
    from matplotlib.ticker import PercentFormatter  # lazy: matplotlib is slow to import

    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))


def _target_line(ax, target: float | None, lang: str) -> None:
    """The dashed target line, none when ``target`` is None (a plan without a target)."""
    if target is None:
        return
    from ..plots import target_marker  # lazy: plots imports matplotlib

    target_marker(ax, target, lang, vertical=False)


def _lowest(ci_low: pd.Series, target: float | None) -> float:
    """The lowest value the rate axis must show: every interval and the target line."""
    vals = pd.to_numeric(ci_low, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    vals = np.append(vals, [] if target is None else [target])
    vals = vals[np.isfinite(vals)]
    return float(vals.min()) if len(vals) else 0.0


def _interval_points(ax, x, t: pd.DataFrame, color) -> None:
    p = t["proportion"].to_numpy(dtype=float, na_value=np.nan)
    lo = t["ci_low"].to_numpy(dtype=float, na_value=np.nan)
    hi = t["ci_high"].to_numpy(dtype=float, na_value=np.nan)
    ax.errorbar(
        x, p, yerr=[p - lo, hi - p], fmt="o", color=color, ecolor=color, capsize=4, lw=1.5, ms=6
    )


def plot_rate_by_year(
    trend: pd.DataFrame,
    *,
    target: float | None,
    lang: str = "zh",
    confidence: float = 0.95,
    ax=None,
):
    """The progress rate per year with its confidence interval, against the target line.

    Parameters
    ----------
    trend : DataFrame
        ``year, proportion, ci_low, ci_high`` (``ProgressReport.trend``).
    target : float or None
        The target share (the rulebook's ``target_share``), drawn as a dashed line; None
        draws no target line (a plan without a numeric target: ``show_target`` False).
    lang : {"zh", "en"}
        Label language.
    confidence : float, default 0.95
        The intervals' confidence level (for the title).
    ax : matplotlib Axes, optional
        Draw into it instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt  # lazy: matplotlib is slow to import

    from ..plots import PALETTE, use_style

    L = Lang(lang)
    use_style()
    fig, ax = plt.subplots(figsize=(6, 3.6)) if ax is None else (ax.figure, ax)
    t = trend.sort_values("year")
    x = np.arange(len(t))
    _interval_points(ax, x, t, PALETTE[0])
    ax.set_xticks(x, [L(f"{y}学年", str(y)) for y in t["year"]])
    _target_line(ax, target, L.code)
    ax.set_ylim(max(0.0, _lowest(t["ci_low"], target) - 0.1), 1.0)
    _pct_axis(ax)
    ax.set_ylabel(L("取得显著进步的学生比例", "share of students progressing"))
    c = confidence_text(confidence)
    ax.set_title(L(f"各学年显著进步比例（{c}置信区间）", f"Progress rate by year ({c} CI)"))
    return fig


def plot_rate_by_group(
    breakdown: pd.DataFrame,
    *,
    by: str = "grade",
    target: float | None,
    lang: str = "zh",
    min_cell: int,
):
    """The progress rate per group (grade by default) with intervals; suppressed cells marked.

    Parameters
    ----------
    breakdown : DataFrame
        ``ProgressReport.breakdowns`` (``by, group, proportion, ci_low, ci_high``, and
        ``suppressed``).
    by : str, default "grade"
        Which breakdown to draw.
    target : float or None
        The target share (the rulebook's ``target_share``), drawn as a dashed line; None
        draws no target line (a plan without a numeric target: ``show_target`` False).
    lang : {"zh", "en"}
        Label language.
    min_cell : int
        The threshold the table was suppressed with (for the "<min_cell" marks).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt  # lazy: matplotlib is slow to import

    from ..plots import PALETTE, use_style

    L = Lang(lang)
    use_style()
    t = breakdown.loc[breakdown["by"] == by].reset_index(drop=True)
    if t.empty:
        raise InputError(f"no {by!r} rows in the breakdown table")
    if by == "grade":
        t = t.assign(_o=pd.to_numeric(t["group"], errors="coerce")).sort_values("_o")
        names = [L(f"{g}年级", f"grade {g}") for g in t["group"]]
    else:
        names = [str(g) for g in t["group"]]
    fig, ax = plt.subplots(figsize=(max(4.5, 0.7 * len(t) + 2), 3.6))
    x = np.arange(len(t))
    _interval_points(ax, x, t, PALETTE[0])
    sup = t["suppressed"].to_numpy(dtype=bool) if "suppressed" in t else np.zeros(len(t), bool)
    for xi in x[sup]:
        ax.annotate(f"<{min_cell}", xy=(xi, 0.02), xycoords=("data", "axes fraction"), ha="center")
    ax.set_xticks(x, names)
    _target_line(ax, target, L.code)
    ax.set_ylim(max(0.0, _lowest(t["ci_low"], target) - 0.1), 1.0)
    _pct_axis(ax)
    title = PROGRESS_BREAKDOWN_TITLES.get(by, (by, f"by {by}"))
    ax.set_ylabel(L("取得显著进步的学生比例", "share of students progressing"))
    ax.set_title(L(f"{title[0]}显著进步比例", f"Progress rate {title[1]}"))
    return fig


def plot_dimensions_improved(
    per_student: pd.DataFrame, *, min_cell: int, lang: str = "zh", texts=None
):
    """How many dimensions each student improved in (and how many were not evaluable).

    Parameters
    ----------
    per_student : DataFrame
        :func:`student_progress` output.
    min_cell : int
        The rulebook's small-cell threshold: bars counting fewer students are not drawn;
        they read "<min_cell".
    lang : {"zh", "en"}
        Label language.
    texts : list of str, optional
        What the document prints for each bar (0..D dimensions, then not evaluable) after
        disclosure control; a bar whose text is not a number is not drawn.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt  # lazy: matplotlib is slow to import

    from ..plots import PALETTE, use_style

    L = Lang(lang)
    use_style()
    D = int(per_student["n_dimensions"].max()) if len(per_student) else 0
    ev = per_student["n_evaluable"] > 0
    counts = per_student.loc[ev, "n_improved"].value_counts().reindex(range(D + 1), fill_value=0)
    n_not = int((~ev).sum())
    names = [str(i) for i in range(D + 1)] + [L("无法评估", "not evaluable")]
    vals = np.append(counts.to_numpy(), n_not)
    colors = [PALETTE[7]] + [PALETTE[2]] * D + [PALETTE[1]]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    shown = np.where(vals >= min_cell, vals, 0)
    if texts is not None:
        texts = [str(x) for x in texts]
        shown = np.where([x.replace(",", "").isdigit() for x in texts], vals, 0)
    ax.bar(np.arange(len(vals)), shown, color=colors)
    for i, v in enumerate(vals):
        txt = f"{v:,}" if v >= min_cell else (f"<{min_cell}" if v > 0 else "0")
        if texts is not None:
            txt = texts[i]
        ax.annotate(txt, (i, shown[i]), xytext=(0, 2), textcoords="offset points", ha="center")
    ax.set_xticks(np.arange(len(vals)), names)
    ax.set_xlabel(L("取得显著进步的维度数", "dimensions with significant improvement"))
    ax.set_ylabel(L("学生人数", "students"))
    ax.set_title(L("学生显著进步的维度数分布", "Number of dimensions improved"))
    return fig


def plot_pre_post(
    changes: pd.DataFrame,
    *,
    dimension: str | None = None,
    lang: str = "zh",
    labels: Mapping[str, str] | None = None,
    seed: int = 0,
    max_points: int = 20000,
):
    """Pre against post score with the reliable-change band, one panel per dimension.

    Parameters
    ----------
    changes : DataFrame
        :func:`change_scores` output (``dimension, pre, post, threshold, direction,
        improved, deteriorated``).
    dimension : str, optional
        One dimension; default all.
    lang : {"zh", "en"}
        Label language.
    labels : mapping, optional
        Dimension name -> panel title.
    seed : int, default 0
        Seed of the jitter (scale means sit on a grid) and of the subsample.
    max_points : int, default 20000
        At most this many students are drawn per panel (a seeded random subsample).

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Points outside the band :math:`post = pre \\pm` threshold changed reliably (the band of
    Jacobson & Truax 1991); when the threshold varies between students (``sd_by="grade"``)
    the band drawn is at the median threshold. No student is labelled.
    """
    import matplotlib.pyplot as plt  # lazy: matplotlib is slow to import

    from ..plots import PALETTE, use_style

    L = Lang(lang)
    use_style()
    rng = np.random.default_rng(seed)
    c = changes.loc[changes["evaluable"].astype(bool)]
    dims = [dimension] if dimension else list(pd.unique(c["dimension"].astype("str")))
    if not dims or c.empty:
        raise InputError("no evaluable students to draw")
    ncol = min(2, len(dims))
    nrow = math.ceil(len(dims) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 4.0 * nrow), squeeze=False)
    for ax, d in zip(axes.ravel(), dims, strict=False):
        part = c.loc[c["dimension"] == d]
        if len(part) > max_points:
            part = part.iloc[np.sort(rng.choice(len(part), max_points, replace=False))]
        jit = rng.uniform(-0.04, 0.04, (2, len(part)))
        x, y = part["pre"].to_numpy() + jit[0], part["post"].to_numpy() + jit[1]
        imp = part["improved"].fillna(False).to_numpy(dtype=bool)
        det = part["deteriorated"].fillna(False).to_numpy(dtype=bool)
        for mask, col, name in (
            (~imp & ~det, PALETTE[7], L("无可靠变化", "no reliable change")),
            (imp, PALETTE[2], L("显著进步", "improved")),
            (det, PALETTE[3], L("显著退步", "deteriorated")),
        ):
            ax.scatter(x[mask], y[mask], s=4, alpha=0.35, color=col, label=name, rasterized=True)
        lo = float(np.nanmin([part["pre"].min(), part["post"].min()])) - 0.2
        hi = float(np.nanmax([part["pre"].max(), part["post"].max()])) + 0.2
        thr = float(part["threshold"].median())
        line = np.array([lo, hi])
        ax.plot(line, line, color="black", lw=0.8)
        for s in (1, -1):
            ax.plot(line, line + s * thr, color="black", lw=0.8, ls="--")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_aspect("equal")
        ax.set_title((labels or {}).get(d, d))
        ax.set_xlabel(L("前测", "pre"))
        ax.set_ylabel(L("后测", "post"))
    for ax in axes.ravel()[len(dims) :]:
        ax.set_visible(False)
    axes.ravel()[0].legend(loc="upper left", markerscale=3, fontsize=8)
    fig.suptitle(L("前后测得分与可靠变化区间", "Pre against post with the reliable-change band"))
    fig.tight_layout()
    return fig
