"""Figures of the mentor study: caterpillar, naive against shrunken, dose-response, the
mentees' change by their mentor's band.

Every function takes ``lang`` ("zh" by default; anything but "zh"/"en" is an
:class:`~mentorlib.errors.InputError`) and returns a matplotlib Figure in the workbench style.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from scipy import stats

from ..labels import EXPOSURE_LABELS, Lang, confidence_text
from .dose import DoseResponse

__all__ = ["plot_band_outcomes", "plot_caterpillar", "plot_dose_response", "plot_naive_vs_shrunk"]


def _pyplot():
    """matplotlib.pyplot with the workbench style applied."""
    # matplotlib (also through mentorlib.plots) is imported on first figure only: start-up time
    import matplotlib.pyplot as plt

    from ..plots import use_style

    use_style()
    return plt


def _axes(ax, figsize):
    plt = _pyplot()
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    return ax.figure, ax


def _palette() -> list[str]:
    # mentorlib.plots imports matplotlib: loaded on first figure only
    from ..plots import PALETTE

    return PALETTE


def plot_caterpillar(
    effects: pd.DataFrame,
    *,
    lang: str = "zh",
    id_col: str = "mentor_id",
    show_ids: bool = False,
    title: str | None = None,
    confidence: float = 0.95,
    ax=None,
):
    """Caterpillar plot: mentor effects sorted, with their intervals.

    Parameters
    ----------
    effects : DataFrame
        effect, ci_low, ci_high (and ``id_col``); ``term == "intercept"`` rows when a term
        column is present (e.g. ``MentorModel.effects`` or one outcome of
        ``MentorReport.effects``).
    lang : {"zh", "en"}
    id_col : str
    show_ids : bool
        Label the mentors on the axis (60 or fewer; internal figures only).
    title : str, optional
    confidence : float
        Level of the intervals in ``effects`` (for the axis label).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        Intervals above zero green, below zero red, the rest blue; a dashed line at zero (the
        average mentor).
    """
    L = Lang(lang)
    palette = _palette()
    e = effects
    if "term" in e.columns:
        e = e[e["term"] == "intercept"]
    e = e.sort_values("effect", kind="stable").reset_index(drop=True)
    fig, ax = _axes(ax, (7.5, 3.8))
    x = np.arange(len(e))
    above, below = e["ci_low"].to_numpy() > 0, e["ci_high"].to_numpy() < 0
    col = np.where(above, palette[2], np.where(below, palette[3], palette[0]))
    ax.vlines(x, e["ci_low"], e["ci_high"], colors=col, lw=0.9, alpha=0.7)
    ax.scatter(x, e["effect"], s=9, c=col, zorder=3)
    ax.axhline(0, color="#555555", lw=0.8, ls="--")
    level = confidence_text(confidence)
    ax.set_xlabel(L("导师（按效应从小到大排列）", "mentors, sorted by effect"))
    ax.set_ylabel(L(f"导师效应及{level}区间", f"mentor effect, {level} interval"))
    if show_ids and len(e) <= 60:
        ax.set_xticks(x, e[id_col].astype(str), rotation=90, fontsize=6)
    else:
        ax.set_xticks([])
    n_mid = len(e) - above.sum() - below.sum()
    counts = L(
        f"高于平均 {above.sum()} 人，低于平均 {below.sum()} 人，无法区分 {n_mid} 人",
        f"above average {above.sum()}, below {below.sum()}, indistinguishable {n_mid}",
    )
    ax.set_title(title or counts)
    return fig


def plot_naive_vs_shrunk(
    comparison: pd.DataFrame, *, lang: str = "zh", confidence: float = 0.95, ax=None
):
    """The school's naive score against the shrunken (empirical-Bayes) effect.

    Parameters
    ----------
    comparison : DataFrame
        ``audit_scheme(...)["comparison"]``: naive, effect, se, n_mentees, band_changed.
    lang : {"zh", "en"}
    confidence : float
        Level of the intervals drawn (effect +- z se).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        One point per mentor (size: mentees), orange when the band changes; vertical bars
        are the intervals of the effect at level ``confidence``.
    """
    L = Lang(lang)
    palette = _palette()
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    c = comparison
    fig, ax = _axes(ax, (5.6, 4.4))
    changed = c["band_changed"].to_numpy(dtype=bool)
    ax.errorbar(c["naive"], c["effect"], yerr=z * c["se"], fmt="none", ecolor="#bbbbbb", lw=0.6)
    for mask, colr, txt in (
        (~changed, palette[0], L("等级不变", "same band")),
        (changed, palette[1], L("等级改变", "band changes")),
    ):
        ax.scatter(
            c.loc[mask, "naive"],
            c.loc[mask, "effect"],
            s=10 + 6 * c.loc[mask, "n_mentees"],
            c=colr,
            alpha=0.8,
            label=f"{txt} ({int(mask.sum())})",
            zorder=3,
        )
    ax.axhline(0, color="#555555", lw=0.8, ls="--")
    ax.set_xlabel(L("学校方案得分（正态分数）", "school scheme score (normal score)"))
    ax.set_ylabel(L("收缩后的导师效应", "shrunken mentor effect"))
    if len(c) > 2 and c["effect"].std() > 0:
        rho = stats.spearmanr(c["naive"], c["effect"]).statistic
        ax.set_title(L(f"秩相关 ρ = {rho:.2f}", f"Spearman rho = {rho:.2f}"))
    ax.legend(loc="upper left", fontsize=8)
    return fig


def plot_dose_response(dose: DoseResponse, *, lang: str = "zh"):
    """Improvement against contact frequency: observed bins and the model's curve.

    Parameters
    ----------
    dose : DoseResponse
    lang : {"zh", "en"}

    Returns
    -------
    matplotlib.figure.Figure
        One panel per exposure: binned observed rates (with their intervals) and the
        population-average prediction with its band; the not-randomised warning underneath.
    """
    L = Lang(lang)
    exps = list(dict.fromkeys(dose.curve["exposure"])) if len(dose.curve) else []
    fig, axes = _pyplot().subplots(1, max(1, len(exps)), figsize=(4.2 * max(1, len(exps)), 3.8))
    axes = np.atleast_1d(axes)
    palette = _palette()
    for ax, e in zip(axes, exps, strict=False):
        cu = dose.curve[dose.curve["exposure"] == e]
        ob = dose.observed[dose.observed["exposure"] == e]
        ax.fill_between(cu["value"], cu["ci_low"], cu["ci_high"], color=palette[0], alpha=0.2)
        ax.plot(cu["value"], cu["predicted"], color=palette[0], label=L("模型", "model"))
        ax.errorbar(
            ob["value"],
            ob["mean"],
            yerr=[ob["mean"] - ob["ci_low"], ob["ci_high"] - ob["mean"]],
            fmt="o",
            color=palette[1],
            ms=4,
            label=L("实际（分组）", "observed (bins)"),
        )
        ax.set_xlabel(L.of(EXPOSURE_LABELS, e))
        ax.set_ylabel(_dose_ylabel(dose, L))
        ax.legend(fontsize=8)
    fig.text(
        0.01,
        -0.02,
        "\n".join(textwrap.wrap(dose.warning[L.code], 60 if L.zh else 110)),
        fontsize=7.5,
        va="top",
        color="#444444",
    )
    fig.tight_layout()
    return fig


def _dose_ylabel(dose: DoseResponse, L: Lang) -> str:
    if dose.method != "gee":
        return L("后测综合得分", "post composite score")
    if dose.k is None:
        return L("显著进步的学生比例", "share improving (RCI)")
    if dose.k == 1:
        return L("显著进步（至少一个维度）的比例", "share improving (RCI, any dimension)")
    return L(
        f"显著进步（至少{dose.k}个维度）的比例", f"share improving (RCI, {dose.k}+ dimensions)"
    )


def plot_band_outcomes(
    bands: pd.DataFrame, *, lang: str = "zh", confidence: float = 0.95, min_cell: int = 5
):
    """The mentees' change by the band their mentor got, with intervals.

    Parameters
    ----------
    bands : DataFrame
        :func:`~mentorlib.effectiveness.band_outcomes` (band, n, mean, ci_low, ci_high,
        suppressed).
    lang : {"zh", "en"}
    confidence : float
        Level of the intervals (for the axis label).
    min_cell : int
        The threshold of the suppressed bands (their label says "<min_cell").

    Returns
    -------
    matplotlib.figure.Figure
        One point and interval per band, best first; a suppressed band has its label only; a
        dashed line at the mean change of the bands shown (weighted by their mentees).
    """
    L = Lang(lang)
    palette = _palette()
    fig, ax = _axes(None, (6.0, 3.6))
    b = bands.reset_index(drop=True)
    x = np.arange(len(b))
    shown = ~b["suppressed"].to_numpy(dtype=bool) & b["mean"].notna().to_numpy()
    s = b.loc[shown]
    ax.errorbar(
        x[shown],
        s["mean"],
        yerr=[s["mean"] - s["ci_low"], s["ci_high"] - s["mean"]],
        fmt="o",
        color=palette[0],
        ms=5,
        capsize=3,
    )
    if shown.any():
        n = s["n"].to_numpy(dtype=float)
        ax.axhline(float(np.sum(n * s["mean"]) / n.sum()), color="#555555", lw=0.8, ls="--")
    none = L("未评等级", "no band")
    ticks = []
    counts = b["n"].astype("Float64").fillna(0).to_numpy(dtype=float)
    for band, k, hide in zip(b["band"], counts.tolist(), b["suppressed"], strict=True):
        name = str(band) if isinstance(band, str) else none
        ticks.append(f"{name}\n(n={f'<{min_cell}' if hide else int(k)})")
    ax.set_xticks(x, ticks)
    ax.set_xlim(-0.6, len(b) - 0.4)
    level = confidence_text(confidence)
    ax.set_xlabel(L("导师的成效奖等级（受导学生人数）", "the mentor's award band (mentees)"))
    ax.set_ylabel(L(f"受导学生综合得分变化及{level}区间", f"mentees' composite change, {level} CI"))
    fig.tight_layout()
    return fig
