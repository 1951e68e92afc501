"""One figure style for the whole workbench, with a CJK font the project installs itself.

The font is Noto Sans CJK SC from the ``mplfonts`` package (a PyPI dependency), registered
with matplotlib at first use, so every Chinese glyph renders on any machine the project is
installed on; nothing depends on the system's fonts.

Every figure function in the library calls :func:`use_style` and labels through :func:`label`,
which picks the Chinese or English text (``lang="zh"`` is the default; any other language is an
:class:`~mentorlib.errors.InputError`). Counts of fewer than ``min_cell`` students are never
drawn: the callers pass the study's ``min_cell`` (``processed.rules.min_cell``).

>>> label("目标", "target"), label("目标", "target", "en")
('目标', 'target')
"""

from __future__ import annotations

import io
import math
import os
from functools import lru_cache

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager
from matplotlib.ticker import PercentFormatter

from .labels import Lang, check_lang

CJK_FAMILY = "Noto Sans CJK SC"
PALETTE = ["#1b6ca8", "#e07b39", "#3a9e5f", "#b5443b", "#7a5aa6", "#8c6d46", "#d16ba5", "#6f6f6f"]
TARGET_COLOR = "#b5443b"


@lru_cache(maxsize=1)
def cjk_font_path() -> str:
    """Path of the bundled CJK font file (registered with matplotlib)."""
    import mplfonts  # lazy: only its font file is needed, at the first figure

    path = os.path.join(os.path.dirname(mplfonts.__file__), "fonts", "NotoSansCJKsc-Regular.otf")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"CJK font missing from the mplfonts package: {path}")
    font_manager.fontManager.addfont(path)
    return path


def use_style() -> None:
    """Apply the workbench style (font with every CJK glyph, quiet axes, the palette)."""
    cjk_font_path()
    plt.rcParams.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": [CJK_FAMILY, "DejaVu Sans"],
            "axes.unicode_minus": False,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.prop_cycle": plt.cycler(color=PALETTE),
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            # ticks and legends at 9.5 pt: figures are placed at their own size (at most the
            # text width), so no printed label is under 9 pt
            "xtick.labelsize": 9.5,
            "ytick.labelsize": 9.5,
            "legend.fontsize": 9.5,
            "legend.frameon": False,
            "figure.dpi": 110,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
        }
    )


def label(zh: str, en: str, lang: str = "zh") -> str:
    """The label in the report language: ``zh`` or ``en`` (anything else: InputError)."""
    return Lang(lang)(zh, en)


# --------------------------------------------------------------------- report figures


def fig_png(fig, *, dpi: int = 150) -> bytes:
    """The figure as PNG bytes, reproducibly (no software/date metadata), then closed.

    The same figure gives the same bytes on the same matplotlib: the PNG carries no
    ``Software`` or creation-time chunk, so a report built twice embeds identical images.
    """
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    finally:
        plt.close(fig)
    return buf.getvalue()


def _percent_axis(axis) -> None:
    axis.set_major_formatter(PercentFormatter(1.0, decimals=0))


def target_marker(ax, target: float, lang: str = "zh", *, vertical: bool) -> None:
    """A dashed line at ``target`` (a share) labelled "目标 85%" / "target 85%".

    ``vertical=True`` draws it across a horizontal value axis (dot-and-interval charts),
    ``vertical=False`` across a vertical one (lines over years).
    """
    txt = label(f"目标 {target:.0%}", f"target {target:.0%}", lang)
    if vertical:
        ax.axvline(target, color=TARGET_COLOR, ls="--", lw=1.1, zorder=1)
        ax.annotate(
            txt,
            xy=(target, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -2),
            textcoords="offset points",
            va="top",
            color=TARGET_COLOR,
            fontsize=8,
        )
    else:
        ax.axhline(target, color=TARGET_COLOR, ls="--", lw=1.1, zorder=1)
        ax.annotate(
            txt,
            xy=(1.0, target),
            xycoords=("axes fraction", "data"),
            xytext=(-2, 3),
            textcoords="offset points",
            ha="right",
            va="bottom",
            color=TARGET_COLOR,
            fontsize=8,
        )


def _interval_xlim(est, lo, hi, target: float | None, percent: bool) -> tuple[float, float]:
    """The value axis of a dot-and-interval chart: every interval and the target, padded."""
    finite = np.concatenate([lo[np.isfinite(lo)], hi[np.isfinite(hi)], est[np.isfinite(est)]])
    if target is not None:
        finite = np.append(finite, target)
    left = float(finite.min()) if finite.size else 0.0
    right = float(finite.max()) if finite.size else 1.0
    pad = max(0.05 * (right - left), 0.02 if percent else 0.1)
    if percent:  # a share stays within 0-100% (with room for a point at the edge)
        return (max(-0.01, left - pad), min(1.01, right + pad))
    return (left - pad, right + pad)


def plot_intervals(
    labels,
    estimate,
    low=None,
    high=None,
    *,
    title: str = "",
    xlabel: str = "",
    target: float | None = None,
    suppressed=None,
    min_cell: int,
    percent: bool = True,
    lang: str = "zh",
    xlim: tuple[float, float] | None = None,
):
    """Horizontal dot-and-interval chart, one row per group (first label at the top).

    Parameters
    ----------
    labels : sequence of str
        Row labels.
    estimate, low, high : sequence of float
        Point estimates and interval limits (``low``/``high`` optional; NaN allowed).
    title, xlabel : str
        Texts (already in the report language).
    target : float, optional
        A dashed target line.
    suppressed : sequence of bool, optional
        Rows describing fewer than ``min_cell`` students: nothing drawn, ``"<min_cell"``
        written instead.
    min_cell : int
        The study's small-cell threshold (``processed.rules.min_cell``), written as ``"<5"``.
    percent : bool, default True
        Percent axis.
    lang : {"zh", "en"}
    xlim : (float, float), optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_lang(lang)
    use_style()
    labels = [str(x) for x in labels]
    n = len(labels)
    est = np.asarray(estimate, dtype=float)
    lo = est if low is None else np.asarray(low, dtype=float)
    hi = est if high is None else np.asarray(high, dtype=float)
    sup = np.zeros(n, bool) if suppressed is None else np.asarray(suppressed, dtype=bool)
    est, lo, hi = (np.where(sup, np.nan, a) for a in (est, lo, hi))
    y = np.arange(n)[::-1]
    fig, ax = plt.subplots(figsize=(6.4, 1.1 + 0.42 * max(n, 2)))
    ok = np.isfinite(est)
    ax.errorbar(
        est[ok],
        y[ok],
        xerr=np.vstack([est[ok] - np.fmin(lo[ok], est[ok]), np.fmax(hi[ok], est[ok]) - est[ok]]),
        fmt="o",
        color=PALETTE[0],
        ecolor=PALETTE[0],
        capsize=3,
        ms=5,
    )
    ax.set_xlim(*(xlim or _interval_xlim(est, lo, hi, target, percent)))
    for yi in y[sup]:
        ax.annotate(
            f"<{min_cell}",
            xy=(0.02, yi),
            xycoords=("axes fraction", "data"),
            va="center",
            color="#555555",
            fontsize=9,
        )
    if target is not None:
        target_marker(ax, target, lang, vertical=True)
    _label_rows(ax, y, labels, percent=percent, xlabel=xlabel, title=title)
    fig.tight_layout()
    return fig


def _label_rows(ax, y, labels: list[str], *, percent: bool, xlabel: str, title: str) -> None:
    """The row labels, value axis, title and grid of a dot-and-interval chart."""
    ax.set_yticks(y, labels)
    ax.set_ylim(-0.7, len(labels) - 0.3)
    if percent:
        _percent_axis(ax.xaxis)
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title)
    ax.grid(axis="x", color="#e5e5e5", lw=0.6)
    ax.set_axisbelow(True)


def plot_lines(
    data,
    *,
    x: str,
    y: str,
    group: str | None = None,
    low: str | None = None,
    high: str | None = None,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    target: float | None = None,
    percent: bool = True,
    lang: str = "zh",
    xticklabels=None,
    ylim: tuple[float, float] | None = None,
):
    """Lines over an ordered x (years), one per group, with optional interval bars.

    Missing (suppressed) values are simply not drawn. ``xticklabels`` maps x values to text;
    ``ylim`` fixes the value axis (e.g. the whole 1-5 range of a rating).

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_lang(lang)
    use_style()
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    xs = sorted(data[x].dropna().unique())
    pos = {v: i for i, v in enumerate(xs)}
    groups = [None] if group is None else list(dict.fromkeys(data[group]))
    for i, g in enumerate(groups):
        d = data if g is None else data.loc[data[group] == g]
        d = d.sort_values(x)
        xi = np.array([pos[v] for v in d[x]], dtype=float) + (
            0 if group is None else (i - (len(groups) - 1) / 2) * 0.06
        )
        yv = d[y].to_numpy(dtype=float, na_value=np.nan)
        col = PALETTE[i % len(PALETTE)]
        ax.plot(xi, yv, marker="o", color=col, ms=5, lw=1.5, label=None if g is None else str(g))
        if low is not None and high is not None:
            lo = d[low].to_numpy(dtype=float, na_value=np.nan)
            hi = d[high].to_numpy(dtype=float, na_value=np.nan)
            okk = np.isfinite(yv) & np.isfinite(lo) & np.isfinite(hi)
            ax.errorbar(
                xi[okk],
                yv[okk],
                yerr=[yv[okk] - lo[okk], hi[okk] - yv[okk]],
                fmt="none",
                ecolor=col,
                capsize=3,
                lw=1,
            )
    if target is not None:
        target_marker(ax, target, lang, vertical=False)
    ax.set_xticks(
        range(len(xs)), [xticklabels.get(v, str(v)) if xticklabels else str(v) for v in xs]
    )
    ax.set_xlim(-0.4, len(xs) - 0.6)
    if percent:
        _percent_axis(ax.yaxis)
        top = np.nanmax(
            [np.nanmax(data[c].to_numpy(dtype=float, na_value=np.nan)) for c in (y, high) if c]
            + ([target] if target is not None else [])
        )
        ax.set_ylim(0, min(1.0, top + 0.08) if top <= 1 else top + 0.08)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if group is not None:
        ax.legend(fontsize=8, loc="best")
    ax.grid(axis="y", color="#e5e5e5", lw=0.6)
    ax.set_axisbelow(True)
    fig.tight_layout()
    return fig


def plot_counts(
    labels,
    counts,
    *,
    title: str = "",
    xlabel: str = "",
    min_cell: int,
    lang: str = "zh",
    texts=None,
):
    """Horizontal bars of counts of students; a bar under ``min_cell`` is not drawn ("<5").

    ``min_cell`` is the study's small-cell threshold (``processed.rules.min_cell``).

    ``texts`` (optional, one per bar): what the document prints for each count after
    disclosure control (:meth:`mentorlib.privacy.Document.text`); a bar whose text is not a
    number ("<5", "—") is not drawn and shows its text.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_lang(lang)
    use_style()
    labels = [str(v) for v in labels]
    c = np.asarray(counts, dtype=float)
    shown = np.where(c >= min_cell, c, 0)
    if texts is not None:
        texts = [str(x) for x in texts]
        shown = np.where([x.replace(",", "").isdigit() for x in texts], np.nan_to_num(c), 0)
    y = np.arange(len(labels))[::-1]
    fig, ax = plt.subplots(figsize=(6.4, 1.1 + 0.4 * max(len(labels), 2)))
    ax.barh(y, shown, color=PALETTE[0], height=0.6)
    right = float(shown.max()) if len(shown) else 1.0
    for i, (yi, v, w) in enumerate(zip(y, c, shown, strict=True)):
        txt = f"{int(v):,}" if v >= min_cell else (f"<{min_cell}" if v > 0 else "0")
        if texts is not None:
            txt = texts[i]
        ax.annotate(
            txt, xy=(w, yi), xytext=(3, 0), textcoords="offset points", va="center", fontsize=9
        )
    ax.set_xlim(0, max(right * 1.15, min_cell * 2))
    ax.set_yticks(y, labels)
    ax.set_xlabel(xlabel or label("学生人数", "students", lang))
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_panels(
    data,
    *,
    panel: str,
    x: str,
    y: str,
    target: str | None = None,
    title: str = "",
    ncol: int = 4,
    lang: str = "zh",
    xticklabels=None,
):
    """Small multiples: one panel per ``panel`` value, ``y`` (a share) over ``x`` (years).

    ``target`` names a column with each panel's target (a dashed line). Panel titles are the
    ``panel`` values as given (already labelled in the report language).

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_lang(lang)
    use_style()
    names = list(dict.fromkeys(data[panel]))
    ncol = max(1, min(ncol, len(names)))
    nrow = max(1, math.ceil(len(names) / ncol))
    fig, axes = plt.subplots(
        nrow, ncol, figsize=(2.3 * ncol + 0.4, 2.0 * nrow + 0.5), squeeze=False, sharey=True
    )
    xs = sorted(data[x].dropna().unique())
    pos = {v: i for i, v in enumerate(xs)}
    for ax, name in zip(axes.ravel(), names, strict=False):
        d = data.loc[data[panel] == name].sort_values(x)
        xi = [pos[v] for v in d[x]]
        yv = d[y].to_numpy(dtype=float, na_value=np.nan)
        ax.plot(xi, yv, marker="o", color=PALETTE[0], ms=4, lw=1.4)
        if target is not None and d[target].notna().any():
            tv = float(d[target].dropna().iloc[0])
            ax.axhline(tv, color=TARGET_COLOR, ls="--", lw=1)
        ax.set_title(str(name), fontsize=9)
        ax.set_xticks(
            range(len(xs)),
            [xticklabels.get(v, str(v)) if xticklabels else str(v) for v in xs],
            fontsize=8,
        )
        ax.set_xlim(-0.4, len(xs) - 0.6)
        ax.set_ylim(0, 1.05)
        _percent_axis(ax.yaxis)
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(axis="y", color="#e5e5e5", lw=0.6)
        ax.set_axisbelow(True)
    for ax in axes.ravel()[len(names) :]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def plot_pairs(x, y, *, xlabel: str, ylabel: str, title: str = "", lang: str = "zh"):
    """Scatter of paired values (a mentor's effect in two years) with the identity line.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_lang(lang)
    use_style()
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.scatter(x, y, s=14, color=PALETTE[0], alpha=0.7)
    both = np.concatenate([x, y])
    if both.size:
        lo, hi = float(np.nanmin(both)), float(np.nanmax(both))
        pad = 0.05 * (hi - lo or 1)
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="#888888", lw=0.8, ls="--")
    ax.axhline(0, color="#cccccc", lw=0.6)
    ax.axvline(0, color="#cccccc", lw=0.6)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
