"""Figures of the grouping-policy comparison."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..labels import POLICY_LABELS, Lang, confidence_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .simulate import PolicyComparison

__all__ = ["plot_comparison"]


def plot_comparison(comparison: PolicyComparison, *, lang: str = "zh") -> Figure:
    """Predicted share of students progressing under each policy, and mean fit.

    Left: the predicted share improving significantly (at least the model's number of
    dimensions) with its interval and the rulebook's target (``target_share``); right: the mean
    needs-strength fit. Without an outcome model only the right panel is drawn.

    Returns
    -------
    matplotlib.figure.Figure
    """
    L = Lang(lang)
    # matplotlib (and the workbench's style, which loads it) only when a figure is drawn
    import matplotlib.pyplot as plt

    from ..plots import PALETTE, TARGET_COLOR, use_style

    use_style()
    o = comparison.outcomes
    have = bool((o["measure"] == "improved_any").any()) if len(o) else False
    fig, axes = plt.subplots(1, 2 if have else 1, figsize=(10 if have else 5.5, 3.8), squeeze=False)
    pols = comparison.policies
    names = [L.of(POLICY_LABELS, p) for p in pols]
    y = np.arange(len(pols))[::-1]
    panels: list[tuple[str, str, float | None]] = [
        ("mean_fit", L("平均匹配度", "mean needs-strength fit"), None)
    ]
    if have:
        title = L("预测显著进步学生比例", "predicted share progressing")
        panels.insert(0, ("improved_any", title, comparison.target))
    for ax, (measure, title, target) in zip(axes[0], panels, strict=True):
        sub = o.loc[o["measure"] == measure].set_index("policy").reindex(pols)
        mean, lo, hi = sub["mean"].to_numpy(), sub["lo"].to_numpy(), sub["hi"].to_numpy()
        lo, hi = np.minimum(lo, mean), np.maximum(hi, mean)
        ax.errorbar(
            mean,
            y,
            xerr=np.vstack([mean - lo, hi - mean]),
            fmt="o",
            color=PALETTE[0],
            capsize=3,
        )
        if target is not None:
            ax.axvline(target, color=TARGET_COLOR, ls="--", lw=1)
            ax.text(
                target, y.max() + 0.4, f"{target:.0%}", color=TARGET_COLOR, ha="center", fontsize=8
            )
        ax.set_yticks(y, names)
        ax.set_title(title)
        ax.set_ylim(-0.6, len(pols) - 0.2)
    r, conf = int(comparison.draws["draw"].max()) + 1, comparison.confidence
    fig.suptitle(
        L(
            f"分组方案比较（{r} 次模拟，{confidence_text(conf)} 区间）",
            f"Grouping policies ({r} draws, {confidence_text(conf)} intervals)",
        ),
        fontsize=11,
    )
    fig.tight_layout()
    return fig
