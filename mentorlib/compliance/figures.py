"""Figures of a compliance report: the grade x month summary (public) and the mentor x month
heatmap."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import InputError
from ..labels import Lang
from .indicators import INDICATORS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def heatmap(
    by_mentor: pd.DataFrame,
    *,
    year: int,
    min_cell: int,
    lang: str = "zh",
    indicator: str = "talk",
    public: bool = True,
) -> Figure:
    """Mentor x month grid: the share of each mentor's mentees who met the rule that month.

    Parameters
    ----------
    by_mentor : DataFrame
        :attr:`ComplianceReport.by_mentor <mentorlib.compliance.ComplianceReport>`.
    year : int
        The school year (for the title).
    min_cell : int
        Public figures blank the cells describing fewer mentees (the rulebook's ``min_cell``).
    lang : {"zh", "en"}
        Label language.
    indicator : str, default "talk"
        Any indicator in ``by_mentor``.
    public : bool, default True
        True: rows carry no mentor label (sorted by the mentor's overall share, best at the
        top) and cells describing fewer than ``min_cell`` mentees are blanked (grey). False:
        rows labelled with the mentor's staff ID (internal use only).

    Returns
    -------
    matplotlib.figure.Figure
    """
    # matplotlib (through plots) loads lazily: importing the library stays fast
    import matplotlib.pyplot as plt

    from ..plots import use_style

    L = Lang(lang)
    grid, small, order, months = _grid(by_mentor, indicator, public, min_cell)
    use_style()
    m = len(order)
    fig, ax = plt.subplots(figsize=(6.4, min(11.0, 2.2 + 0.06 * m + (0 if public else 0.1 * m))))
    cmap = plt.get_cmap("YlGnBu").with_extremes(bad="#d9d9d9")
    im = ax.imshow(
        np.ma.masked_invalid(grid),
        aspect="auto",
        cmap=cmap,
        vmin=0,
        vmax=1,
        interpolation="nearest",
    )
    ax.set_xticks(
        np.arange(len(months)),
        [L(f"{int(x[5:])}月", x) for x in months],
        rotation=0 if L.zh else 45,
    )
    if public:
        ax.set_yticks([])
    else:
        ax.set_yticks(np.arange(m), list(order), fontsize=max(3, min(8, 400 // max(m, 1))))
    name = L.of(INDICATORS, indicator)
    ax.set_ylabel(
        L(f"导师（{m}名，按全年达标率排序）", f"mentors ({m}, sorted by the year's share)")
    )
    ax.set_title(
        L(
            f"{year}学年 {name}：各导师每月达标的受导学生比例",
            f"{year}: {name}, share of each mentor's mentees meeting the rule",
        )
    )
    cb = fig.colorbar(im, ax=ax, fraction=0.05, pad=0.02)
    cb.set_label(L("达标学生比例", "share of mentees"))
    cb.ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    _small_notes(fig, ax, small, min_cell, L)
    return fig


def _grid(by_mentor: pd.DataFrame, indicator: str, public: bool, min_cell: int):
    """Values (mentors x months, best mentor first), the blanked cells, mentors and months."""
    t = by_mentor.loc[by_mentor["indicator"] == indicator]
    if not len(t):
        have = sorted(by_mentor["indicator"].unique())
        raise InputError(f"no per-mentor values of {indicator!r}; have {have}")
    t = t.assign(w=t["value"] * t["n"])
    overall = t.groupby("mentor_id")["w"].sum() / t.groupby("mentor_id")["n"].sum()
    order = overall.sort_values(ascending=False, kind="stable").index
    months = sorted(t["month"].unique())
    val = t.pivot(index="mentor_id", columns="month", values="value").reindex(
        index=order, columns=months
    )
    cnt = t.pivot(index="mentor_id", columns="month", values="n").reindex(
        index=order, columns=months
    )
    grid = val.to_numpy(dtype=float)
    small = public & (cnt.fillna(0).to_numpy(dtype=float) < min_cell)
    return np.where(small, np.nan, grid), small, order, months


def _small_notes(fig: Figure, ax: Axes, small: np.ndarray, min_cell: int, L: Lang) -> None:
    """Say what the grey cells are (and that nothing is shown when every cell is small)."""
    if small.all():
        ax.text(
            0.5,
            0.5,
            L(
                f"每位导师的受导学生均少于{min_cell}人，公开版不显示",
                f"every mentor has fewer than {min_cell} mentees: not shown",
            ),
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=9,
            color="#333333",
        )
    if small.any():
        fig.text(
            0.01,
            0.005,
            L(
                f"灰色：少于{min_cell}名学生，不显示",
                f"grey: fewer than {min_cell} students, not shown",
            ),
            fontsize=7,
            color="#555555",
        )


def grade_month_grid(by_grade_month: pd.DataFrame, indicator: str) -> pd.DataFrame:
    """Grades (rows) x months (columns) of one indicator's share; a suppressed cell (fewer than
    ``min_cell`` students, :attr:`ComplianceReport.by_grade_month`) is missing."""
    t = by_grade_month.loc[by_grade_month["indicator"] == indicator]
    if not len(t):
        have = sorted(by_grade_month["indicator"].unique())
        raise InputError(f"no grade x month values of {indicator!r}; have {have}")
    t = t.assign(
        grade=pd.to_numeric(t["grade"]),
        value=t["value"].astype(float).where(~t["suppressed"].astype(bool)),
    )
    return t.pivot(index="grade", columns="month", values="value").sort_index().sort_index(axis=1)


def grade_month(
    by_grade_month: pd.DataFrame, *, year: int, min_cell: int, lang: str = "zh"
) -> Figure:
    """Grade x month panels, one per monthly indicator: the share of the grade's student-months
    that met the rule; cells of fewer than ``min_cell`` students are blank (grey).

    Sized for the page (16 cm wide, labels at least 9 pt when printed at that width); the
    principal's summary of compliance in place of the mentor heatmap.
    """
    import matplotlib.pyplot as plt

    from ..plots import use_style

    L = Lang(lang)
    inds = [i for i in INDICATORS if (by_grade_month["indicator"] == i).any()]
    if not inds:
        raise InputError("no grade x month values to draw")
    use_style()
    ncols = min(2, len(inds))
    nrows = -(-len(inds) // ncols)
    grids = [grade_month_grid(by_grade_month, i) for i in inds]
    rows = max(len(g) for g in grids)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(6.2, 0.9 + nrows * (0.75 + 0.22 * rows)),
        squeeze=False,
        layout="constrained",
    )
    cmap = plt.get_cmap("YlGnBu").with_extremes(bad="#d9d9d9")
    ims = []
    for ax, ind, g in zip(axes.flat, inds, grids, strict=False):
        ims.append(
            ax.imshow(
                np.ma.masked_invalid(g.to_numpy(dtype=float)),
                aspect="auto",
                cmap=cmap,
                vmin=0,
                vmax=1,
                interpolation="nearest",
            )
        )
        _cell_values(ax, g.to_numpy(dtype=float))
        ax.set_xticks(np.arange(g.shape[1]), [str(int(m[5:])) for m in g.columns])
        ax.set_yticks(np.arange(g.shape[0]), [L(f"{k}年级", f"grade {k}") for k in g.index])
        ax.set_title(L.of(INDICATORS, ind), fontsize=10)
        ax.tick_params(length=0)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
    for ax in axes.flat[len(inds) :]:
        ax.set_visible(False)
    cb = fig.colorbar(ims[0], ax=axes, orientation="horizontal", fraction=0.06, aspect=40)
    label = L(
        f"{year}学年各年级每月达到要求的学生比例（%；横轴：月份）",
        f"{year}: share of each grade's students meeting the rule (%; x: month)",
    )
    if any(np.isnan(g.to_numpy(dtype=float)).any() for g in grids):
        label += L(
            f"\n灰色：少于{min_cell}名学生，不显示",
            f"\ngrey: fewer than {min_cell} students, not shown",
        )
    cb.set_label(label, fontsize=9.5)
    cb.ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    cb.ax.tick_params(labelsize=9.5)
    return fig


def _cell_values(ax: Axes, grid: np.ndarray) -> None:
    """Each shown cell's share in whole percent (9 pt; white on the dark end of the scale)."""
    for (i, j), v in np.ndenumerate(grid):
        if not np.isnan(v):
            ax.text(
                j,
                i,
                f"{v:.0%}"[:-1],
                ha="center",
                va="center",
                fontsize=9,
                color="white" if v > 0.6 else "#222222",
            )
