"""Fonts of the rendered documents: the CJK subset embedded in HTML, the Word fonts.

HTML carries a WOFF subset of the bundled Noto Sans CJK SC (:func:`mentorlib.plots.cjk_font_path`)
with just the characters of the page; Word names 宋体 / 微软雅黑 for East Asian text and Times New
Roman / Arial for Latin text, on every style and run, with no theme fonts.
"""

from __future__ import annotations

import io
from functools import lru_cache

from docx.oxml.ns import qn
from fontTools import subset
from fontTools.ttLib import TTFont

from ...plots import cjk_font_path


@lru_cache(maxsize=16)
def font_subset(chars: str) -> bytes:
    """A WOFF subset of the bundled CJK font covering ``chars`` (b"" when unavailable)."""
    try:
        font = TTFont(cjk_font_path(), lazy=True, recalcTimestamp=False)
    except OSError:  # pragma: no cover - the font is a dependency
        return b""
    opts = subset.Options()
    opts.flavor = "woff"
    opts.layout_features = ["*"]
    opts.name_IDs = [0, 1, 2, 3, 4, 5, 6]  # keeps the copyright notice (SIL OFL)
    opts.notdef_outline = True
    opts.recalc_timestamp = False
    buf = io.BytesIO()
    with font:
        sub = subset.Subsetter(opts)
        sub.populate(text=chars + "0123456789%.,:;()[]<>–—-+=·×√ ")
        sub.subset(font)
        font.flavor = "woff"
        font.save(buf)
    return buf.getvalue()


# ----------------------------------------------------------------------- docx

BODY_EA, HEAD_EA = "宋体", "微软雅黑"
BODY_LATIN, HEAD_LATIN = "Times New Roman", "Arial"


def set_fonts(rpr_owner, latin: str, east_asian: str) -> None:
    """Set ascii/hAnsi/cs and w:eastAsia fonts on a style's or run's rPr (no theme fonts)."""
    rpr = rpr_owner.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, rfonts)
    for a in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(a), None)
    for a in ("w:ascii", "w:hAnsi", "w:cs"):
        rfonts.set(qn(a), latin)
    rfonts.set(qn("w:eastAsia"), east_asian)


def east_asian_hint(doc) -> None:
    """Mark every run w:hint="eastAsia" so ambiguous characters (“”、…—) take the Chinese
    font, as Word does for text typed in a Chinese document."""
    for r in doc.element.body.iter(qn("w:r")):
        rpr = r.get_or_add_rPr()
        rfonts = rpr.find(qn("w:rFonts"))
        if rfonts is None:
            rfonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.insert(0, rfonts)
        rfonts.set(qn("w:hint"), "eastAsia")
