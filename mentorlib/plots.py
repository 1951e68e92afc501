"""One figure style for the whole workbench, with a CJK font the project installs itself.

The font is Noto Sans CJK SC from the ``mplfonts`` package (a PyPI dependency), registered
with matplotlib at first use, so every Chinese glyph renders on any machine the project is
installed on; nothing depends on the system's fonts.

Every figure function in the library calls :func:`use_style` and labels through :func:`label`,
which picks the Chinese or English text (``lang="zh"`` is the default).
"""

from __future__ import annotations

import os
from functools import lru_cache

import matplotlib.pyplot as plt
from matplotlib import font_manager

CJK_FAMILY = "Noto Sans CJK SC"
PALETTE = ["#1b6ca8", "#e07b39", "#3a9e5f", "#b5443b", "#7a5aa6", "#8c6d46", "#d16ba5", "#6f6f6f"]
TARGET_COLOR = "#b5443b"


@lru_cache(maxsize=1)
def cjk_font_path() -> str:
    """Path of the bundled CJK font file (registered with matplotlib)."""
    import mplfonts

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
            "legend.frameon": False,
            "figure.dpi": 110,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
        }
    )


def label(zh: str, en: str, lang: str = "zh") -> str:
    """The label in the report language."""
    return zh if lang == "zh" else en
