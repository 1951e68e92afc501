"""Draft the annual summary (年度总结) and the three-year pilot review (三年试点评估报告).

What the researchers finally hand to the principal and the school's leading group is a
document. This module assembles one from the analyses (every number is computed, none is
typed), as an editable first draft with clearly marked places for the researcher's own
judgement (【待补充】 / "[to be completed]"), in three formats: Word (DOCX, real tables,
embedded figures, East Asian fonts set), self-contained HTML (CSS, figures and a subset of
the CJK font inline; no external reference of any kind) and Markdown (figures beside it).

Entry points
------------
:func:`annual_summary`
    One school year: executive summary, KPI table against every target, the 85% verdict with
    its sensitivity table, focus groups, mentor effectiveness, process compliance,
    satisfaction and regrouping, data quality, methods.
:func:`pilot_review`
    The whole pilot: KPI trends, a goal-by-goal assessment of the four work goals (全覆盖,
    个性化, 协同化, 长效化), cohort tracking, stability of mentor effects, the grouping-policy
    comparison with a recommendation, limitations, a methods appendix.
:class:`Report`
    The document model both return: ``sections`` of paragraphs, tables, figures and
    placeholders; ``kpis`` (the KPI table as numbers); :meth:`Report.write` to files.
:func:`analyse_year`, :func:`analyse_pilot`
    The analyses behind a report, computed once and reusable for several languages or
    versions (``annual_summary(..., analyses=a)``).

Privacy
-------
No student name or ID ever enters a report: the builders read only aggregated tables.
Every table cell and figure element describing fewer than ``min_cell`` students (default 5)
is suppressed and shown as ``"<5"``. Mentor names appear only with ``public=False``, whose
title says 内部版 / internal. Free-text survey answers are never used.

Determinism
-----------
The same inputs give the same documents byte for byte: seeded analyses, PNGs without
metadata, fixed DOCX core properties (dated the last day of the school year, never "now")
and fixed ZIP entry times.

Examples
--------
>>> r = Report(kind="annual_summary", lang="en", public=True, years=(2024,),
...            title="Annual summary", sections=[Section("summary", "Summary",
...            [Para("Hello.")])])
>>> r.stem
'annual_summary_2024'
>>> "Hello." in r.to_markdown()
True
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import html
import io
import math
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import outputs
from .compliance import STUDENT_INDICATORS
from .errors import InputError
from .privacy import MIN_CELL, Document
from .quality import check_rate

__all__ = [
    "Para",
    "Heading",
    "Table",
    "Figure",
    "Todo",
    "Section",
    "Report",
    "YearAnalyses",
    "PilotAnalyses",
    "analyse_year",
    "analyse_pilot",
    "annual_summary",
    "pilot_review",
    "ANNUAL_SECTIONS",
    "REVIEW_SECTIONS",
]

#: Section keys of the annual summary, in order.
ANNUAL_SECTIONS: tuple[str, ...] = (
    "summary",
    "kpi",
    "progress",
    "focus",
    "mentors",
    "compliance",
    "satisfaction",
    "quality",
    "judgement",
    "methods",
)

#: Section keys of the pilot review, in order.
REVIEW_SECTIONS: tuple[str, ...] = (
    "summary",
    "trends",
    "goals",
    "cohort",
    "stability",
    "grouping",
    "limitations",
    "judgement",
    "methods",
)

_ZH_NUM = "一二三四五六七八九十"


def _zh_number(i: int) -> str:
    if i <= 10:
        return _ZH_NUM[i - 1]
    if i < 20:
        return "十" + _ZH_NUM[i - 11]
    return str(i)


# =========================================================================== document model


@dataclass
class Para:
    """A paragraph. ``kind``: "text", "lead" (emphasised), "note" (small print), "bullet"."""

    text: str
    kind: str = "text"


@dataclass
class Heading:
    """A sub-heading inside a section."""

    text: str


@dataclass
class Todo:
    """A place for the researcher's own judgement (【待补充】 / "[to be completed]")."""

    text: str


@dataclass
class Table:
    """A table of text cells (already formatted and suppressed).

    ``data`` columns are the header labels; ``key`` names the table (``"kpi"`` ...);
    ``note`` is printed under it.
    """

    data: pd.DataFrame
    caption: str
    key: str
    note: str = ""

    def numeric_columns(self) -> list[bool]:
        """Which columns hold numbers (right-aligned, never wrapped): every cell a number, a
        range of two numbers, ``"<5"`` or a dash, optionally followed by a bracket."""
        num = r"[<>≤≥]?\s*[-+−]?[\d,]*\.?\d+\s*%?"
        pat = re.compile(rf"^\s*({num}(\s*[–,]\s*{num})?|—|–|-|)\s*[√×]?\s*$")
        out = []
        for c in range(self.data.shape[1]):
            col = [re.split(r"（| \(", str(v))[0] for v in self.data.iloc[:, c]]
            out.append(
                bool(col) and all(pat.match(v) for v in col) and any(v.strip("—–- ") for v in col)
            )
        return out


@dataclass
class Figure:
    """A figure as PNG bytes, with its caption; ``width`` in centimetres on the page."""

    png: bytes
    caption: str
    key: str
    width: float = 15.0


@dataclass
class Section:
    """A top-level section: ``key`` (stable, e.g. ``"kpi"``), title, blocks in order."""

    key: str
    title: str
    blocks: list = field(default_factory=list)


Block = Para | Heading | Todo | Table | Figure


@dataclass
class Report:
    """A drafted document, independent of its output format.

    Attributes
    ----------
    kind : {"annual_summary", "pilot_review"}
    lang : {"zh", "en"}
    public : bool
        False: the internal version (names mentors; the title says so).
    years : tuple of int
        The school year (annual summary) or the years reviewed.
    title : str
    subtitle : str
    front : list of str
        Lines of the title page under the title (school, data source, version).
    sections : list of Section
    kpis : DataFrame
        The KPI table as numbers: ``key, label, value, ci_low, ci_high, target, target_text,
        passed, status, n, value_text`` (annual summary: one row per KPI; pilot review:
        ``year`` too, one row per KPI and year). ``value`` is a share in [0, 1] for rates
        (shown with one decimal as a percentage) or a mean (two decimals).
    meta : dict
        school, study, level, synthetic, min_cell, seed.
    """

    kind: str
    lang: str
    public: bool
    years: tuple[int, ...]
    title: str
    sections: list[Section]
    subtitle: str = ""
    front: list[str] = field(default_factory=list)
    kpis: pd.DataFrame = field(default_factory=pd.DataFrame)
    meta: dict = field(default_factory=dict)
    #: The :class:`mentorlib.privacy.Document` of the student counts and rates the report
    #: prints (audit it with :func:`mentorlib.privacy.audit`); None if none was registered.
    disclosure: object = field(default=None, repr=False, compare=False)

    # ------------------------------------------------------------------ naming

    @property
    def stem(self) -> str:
        """File name without extension, named by content (年度总结_2024学年, pilot_review_2023-2025)."""
        span = (
            str(self.years[0]) if len(self.years) == 1 else f"{min(self.years)}-{max(self.years)}"
        )
        if self.lang == "zh":
            base = {"annual_summary": "年度总结", "pilot_review": "三年试点评估报告"}[self.kind]
            return f"{base}_{span}学年" + ("" if self.public else "_内部版")
        return f"{self.kind}_{span}" + ("" if self.public else "_internal")

    @property
    def section_keys(self) -> list[str]:
        return [s.key for s in self.sections]

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(f"no section {key!r}; have {self.section_keys}")

    def _numbered(self):
        """Sections with their numbered titles, and the caption numbers of tables/figures."""
        out, nt, nf = [], 0, 0
        for i, s in enumerate(self.sections, 1):
            title = f"{_zh_number(i)}、{s.title}" if self.lang == "zh" else f"{i} {s.title}"
            blocks = []
            for b in s.blocks:
                if isinstance(b, Table):
                    nt += 1
                    cap = (f"表{nt}　" if self.lang == "zh" else f"Table {nt}. ") + b.caption
                    blocks.append((b, cap))
                elif isinstance(b, Figure):
                    nf += 1
                    cap = (f"图{nf}　" if self.lang == "zh" else f"Figure {nf}. ") + b.caption
                    blocks.append((b, cap))
                else:
                    blocks.append((b, None))
            out.append((s, title, blocks))
        return out

    def figures(self) -> list[tuple[str, Figure]]:
        """(file name, figure) of every figure, in order (``fig01_<key>.png``)."""
        out = []
        for s in self.sections:
            for b in s.blocks:
                if isinstance(b, Figure):
                    out.append((f"fig{len(out) + 1:02d}_{b.key}.png", b))
        return out

    def _todo_label(self) -> str:
        return "【待补充】" if self.lang == "zh" else "[to be completed] "

    # ------------------------------------------------------------------ text

    def text(self) -> str:
        """Every word of the document as plain text (for checks and diffs)."""
        lines = [self.title, self.subtitle, *self.front]
        for _s, title, blocks in self._numbered():
            lines.append(title)
            for b, cap in blocks:
                if isinstance(b, Para | Heading):
                    lines.append(b.text)
                elif isinstance(b, Todo):
                    lines.append(f"{self._todo_label()}{b.text}")
                elif isinstance(b, Table):
                    lines.append(cap)
                    lines.append("\t".join(map(str, b.data.columns)))
                    lines += ["\t".join(map(str, r)) for r in b.data.itertuples(index=False)]
                    if b.note:
                        lines.append(b.note)
                elif isinstance(b, Figure):
                    lines.append(cap)
        return "\n".join(x for x in lines if x)

    # ------------------------------------------------------------------ markdown

    def to_markdown(self, figure_dir: str | None = None) -> str:
        """Markdown (pipe tables); figures link to ``figure_dir/figNN_key.png``."""
        figure_dir = figure_dir or f"{self.stem}_figures"
        names = iter(n for n, _ in self.figures())
        m = _md_text  # every text from the document is escaped: data never becomes markup
        out = [f"# {m(self.title)}", ""]
        if self.subtitle:
            out += [f"**{m(self.subtitle)}**", ""]
        out += [f"{m(line)}  " for line in self.front] + [""]
        for _s, title, blocks in self._numbered():
            out += [f"## {m(title)}", ""]
            for b, cap in blocks:
                if isinstance(b, Heading):
                    out += [f"### {m(b.text)}", ""]
                elif isinstance(b, Para):
                    if b.kind == "bullet":
                        out += [f"- {m(b.text)}"]
                        continue
                    txt = f"*{m(b.text)}*" if b.kind == "note" else m(b.text)
                    out += [txt, ""]
                elif isinstance(b, Todo):
                    out += [f"> **{self._todo_label().strip()}** {m(b.text)}", ""]
                elif isinstance(b, Table):
                    out += [f"**{m(cap)}**", "", *_md_table(b.data), ""]
                    if b.note:
                        out += [f"*{m(b.note)}*", ""]
                elif isinstance(b, Figure):
                    c = m(cap)
                    out += [f"![{c}]({figure_dir}/{next(names)})", "", f"*{c}*", ""]
            if out[-1] != "":
                out.append("")
        return "\n".join(out).rstrip() + "\n"

    # ------------------------------------------------------------------ html

    def to_html(self, *, embed_font: bool = True) -> str:
        """One self-contained HTML page: CSS, figures (data: URIs) and, by default, a subset
        of the bundled CJK font inline. No external reference of any kind."""
        e = html.escape
        lang = "zh-CN" if self.lang == "zh" else "en"
        body = ['<header class="front">', f"<h1>{e(self.title)}</h1>"]
        if self.subtitle:
            body.append(f'<p class="subtitle">{e(self.subtitle)}</p>')
        body += [f'<p class="frontline">{e(x)}</p>' for x in self.front]
        toc = "目录" if self.lang == "zh" else "Contents"
        numbered = self._numbered()
        body.append(f'<nav class="toc"><p class="toc-title">{toc}</p><ol>')
        body += [f'<li><a href="#sec-{s.key}">{e(t)}</a></li>' for s, t, _ in numbered]
        body += ["</ol></nav>", "</header>"]
        for s, title, blocks in numbered:
            body.append(f'<section id="sec-{s.key}"><h2>{e(title)}</h2>')
            in_list = False
            for b, cap in blocks:
                if in_list and not (isinstance(b, Para) and b.kind == "bullet"):
                    body.append("</ul>")
                    in_list = False
                if isinstance(b, Heading):
                    body.append(f"<h3>{e(b.text)}</h3>")
                elif isinstance(b, Para):
                    if b.kind == "bullet":
                        if not in_list:
                            body.append("<ul>")
                            in_list = True
                        body.append(f"<li>{e(b.text)}</li>")
                    else:
                        body.append(f'<p class="{b.kind}">{e(b.text)}</p>')
                elif isinstance(b, Todo):
                    body.append(
                        f'<p class="todo"><strong>{e(self._todo_label().strip())}</strong>{e(b.text)}</p>'
                    )
                elif isinstance(b, Table):
                    body.append(_html_table(b, cap))
                elif isinstance(b, Figure):
                    uri = "data:image/png;base64," + base64.b64encode(b.png).decode("ascii")
                    body.append(
                        f'<figure><img src="{uri}" alt="{e(cap)}" style="max-width:'
                        f'{min(100, b.width / 15 * 100):.0f}%"><figcaption>{e(cap)}'
                        "</figcaption></figure>"
                    )
            if in_list:
                body.append("</ul>")
            body.append("</section>")
        page = "\n".join(body)
        font_css = ""
        if embed_font:
            chars = "".join(sorted(set(html.unescape(re.sub(r"<[^>]+>", "", page)))))
            woff = _font_subset(chars)
            if woff:
                font_css = (
                    '@font-face{font-family:"MentorlibCJK";src:url(data:font/woff;base64,'
                    + base64.b64encode(woff).decode("ascii")
                    + ') format("woff");font-weight:100 900;}\n'
                )
        return (
            f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{e(self.title)}</title>\n<style>\n{font_css}{_CSS}</style>\n</head>\n"
            f"<body>\n{page}\n</body>\n</html>\n"
        )

    # ------------------------------------------------------------------ docx

    def to_docx(self) -> bytes:
        """The Word document as bytes (real tables, embedded PNGs, East Asian fonts set)."""
        return _docx_bytes(self)

    # ------------------------------------------------------------------ files

    def write(
        self, out_dir: str | Path, formats: Sequence[str] = ("docx", "html", "md")
    ) -> list[Path]:
        """Write the report into ``out_dir`` (created) in each format; return the paths.

        ``out_dir`` must be new, empty or a reports folder mentorlib wrote
        (:func:`mentorlib.outputs.check_output_dir`); each file is written to a temporary name
        and renamed, so a failure never leaves a truncated file under the final name.

        Parameters
        ----------
        out_dir : path
        formats : sequence of {"docx", "html", "md"}
            Markdown also writes its figures to ``<stem>_figures/``.

        Returns
        -------
        list of Path
            The files written (documents first, then the Markdown figures).
        """
        bad = [f for f in formats if f not in ("docx", "html", "md")]
        if bad:
            raise InputError(f"unknown format(s) {bad}: expected docx, html or md")
        out = outputs.prepare_output_dir(out_dir, kind="reports")
        paths, extra = [], []
        for fmt in formats:  # each file to a temporary name, then renamed: never half a file
            p = out / f"{self.stem}.{fmt}"
            if fmt == "docx":
                outputs.write_bytes(p, self.to_docx())
            elif fmt == "html":
                outputs.write_text(p, self.to_html())
            else:
                fig_dir = out / f"{self.stem}_figures"
                fig_dir.mkdir(exist_ok=True)
                for name, fig in self.figures():
                    outputs.write_bytes(fig_dir / name, fig.png)
                    extra.append(fig_dir / name)
                outputs.write_text(p, self.to_markdown(fig_dir.name))
            paths.append(p)
        return paths + extra


# =========================================================================== renderers


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])|<(?=[A-Za-z/!?])|(?<=[A-Za-z])(:)(?=//)|(?i:\b(www)\.)")


def _md_text(text) -> str:
    r"""Text from the data made inert in Markdown: no raw HTML, links, images or emphasis.

    Backslash-escapes ``\ ` * _ [ ] | ~`` (so ``[x](url)`` and ``![`` are plain text and table
    pipes stay inside their cell), ``<`` before a letter, ``/``, ``!`` or ``?`` (no HTML tag,
    comment or autolink; "<5" stays as it is), and breaks bare web addresses (``http:\//``,
    ``www\.``) so no renderer turns them into links. Line breaks become spaces. Rendered, the
    text reads exactly as written.

    Examples
    --------
    >>> _md_text("<script>x</script> [a](http://e.example) <5")
    '\\<script>x\\</script> \\[a\\](http\\://e.example) <5'
    """

    def sub(mt):
        if mt.group(3):
            return mt.group(3) + "\\."
        return "\\" + mt.group(0)

    return _MD_SPECIAL.sub(sub, re.sub(r"[\r\n]+", " ", str(text)))


def _md_cell(v) -> str:
    return _md_text(v)


def _md_table(df: pd.DataFrame) -> list[str]:
    head = "| " + " | ".join(_md_cell(c) for c in df.columns) + " |"
    num = Table(df, "", "").numeric_columns()
    sep = "|" + "|".join("---:" if n else "---" for n in num) + "|"
    rows = ["| " + " | ".join(_md_cell(v) for v in r) + " |" for r in df.itertuples(index=False)]
    return [head, sep, *rows]


def _html_table(t: Table, cap: str) -> str:
    e = html.escape
    num = t.numeric_columns()
    cls = ["num" if n else "" for n in num]
    out = [f'<div class="table-wrap"><table><caption>{e(cap)}</caption><thead><tr>']
    out += [f'<th class="{c}">{e(str(h))}</th>' for h, c in zip(t.data.columns, cls, strict=True)]
    out.append("</tr></thead><tbody>")
    for r in t.data.itertuples(index=False):
        out.append(
            "<tr>"
            + "".join(f'<td class="{c}">{e(str(v))}</td>' for v, c in zip(r, cls, strict=True))
            + "</tr>"
        )
    out.append("</tbody></table>")
    if t.note:
        out.append(f'<p class="tnote">{e(t.note)}</p>')
    out.append("</div>")
    return "".join(out)


_CSS = """\
:root{--ink:#1f2328;--muted:#59636e;--line:#d0d7de;--accent:#1b6ca8;}
html{background:#f6f7f9;}
body{font-family:"MentorlibCJK","Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",\
"PingFang SC","SimSun",sans-serif;color:var(--ink);line-height:1.75;font-size:15px;\
max-width:60rem;margin:0 auto;padding:2.5rem 3rem 4rem;background:#fff;}
h1{font-size:1.9rem;line-height:1.35;margin:1.5rem 0 .6rem;color:#102a43;}
h2{font-size:1.35rem;margin:2.6rem 0 .8rem;padding-bottom:.3rem;\
border-bottom:2px solid var(--accent);color:#102a43;}
h3{font-size:1.08rem;margin:1.6rem 0 .5rem;color:#243b53;}
p{margin:.55rem 0;}
html[lang="zh-CN"] p{text-align:justify;}
p.lead{border-left:4px solid var(--accent);padding-left:.8rem;}
p.note,p.tnote{font-size:.86rem;color:var(--muted);}
p.subtitle{font-size:1.15rem;color:#243b53;margin:.2rem 0 1rem;}
p.frontline{margin:.15rem 0;color:var(--muted);}
.front{border-bottom:1px solid var(--line);padding-bottom:1.2rem;margin-bottom:1rem;}
nav.toc{margin-top:1.2rem;font-size:.95rem;}
nav.toc .toc-title{font-weight:600;margin-bottom:.2rem;}
nav.toc ol{margin:.2rem 0 0;padding-left:1.2rem;list-style:none;}
nav.toc a{color:var(--accent);text-decoration:none;}
p.todo{background:#fff6d5;border-left:4px solid #e0a800;padding:.55rem .8rem;\
border-radius:3px;}
p.todo strong{color:#9a6700;margin-right:.3rem;}
ul{margin:.4rem 0 .6rem 1.2rem;padding:0;}
li{margin:.2rem 0;}
.table-wrap{overflow-x:auto;margin:1rem 0 1.2rem;}
table{border-collapse:collapse;font-size:.88rem;min-width:50%;}
caption{caption-side:top;text-align:left;font-weight:600;padding:.2rem 0 .45rem;\
color:#243b53;}
th,td{border:1px solid var(--line);padding:.32rem .6rem;vertical-align:top;}
th{background:#eef2f6;font-weight:600;text-align:left;}
td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums;}
tbody tr:nth-child(even){background:#fafbfc;}
figure{margin:1.2rem 0 1.6rem;text-align:center;}
figure img{height:auto;border:1px solid #eceff3;}
figcaption{font-size:.9rem;color:var(--muted);margin-top:.4rem;}
@media print{html{background:#fff;}body{max-width:none;padding:0;font-size:11pt;}\
h2{break-after:avoid;}figure,table{break-inside:avoid;}nav.toc{display:none;}}
"""


@lru_cache(maxsize=16)
def _font_subset(chars: str) -> bytes:
    """A WOFF subset of the bundled CJK font covering ``chars`` (b"" when unavailable)."""
    try:
        from fontTools import subset
        from fontTools.ttLib import TTFont

        from .plots import cjk_font_path

        font = TTFont(cjk_font_path(), lazy=True, recalcTimestamp=False)
    except (ImportError, OSError):  # pragma: no cover - the font is a dependency
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

_BODY_EA, _HEAD_EA = "宋体", "微软雅黑"
_BODY_LATIN, _HEAD_LATIN = "Times New Roman", "Arial"


def _set_fonts(rpr_owner, latin: str, east_asian: str) -> None:
    """Set ascii/hAnsi/cs and w:eastAsia fonts on a style's or run's rPr (no theme fonts)."""
    from docx.oxml.ns import qn

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


def _style_doc(doc, lang: str) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    sec = doc.sections[0]
    sec.page_height, sec.page_width = Cm(29.7), Cm(21.0)
    sec.left_margin = sec.right_margin = Cm(2.4)
    sec.top_margin = sec.bottom_margin = Cm(2.4)
    # document defaults: East Asian font and language for every run
    rpr_default = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
    rpr = rpr_default.find(qn("w:rPr"))
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, rfonts)
    for a in list(rfonts.attrib):
        del rfonts.attrib[a]
    for a in ("w:ascii", "w:hAnsi", "w:cs"):
        rfonts.set(qn(a), _BODY_LATIN)
    rfonts.set(qn("w:eastAsia"), _BODY_EA)
    if lang == "zh":
        rfonts.set(qn("w:hint"), "eastAsia")
    lang_el = rpr.find(qn("w:lang"))
    if lang_el is None:
        lang_el = rpr.makeelement(qn("w:lang"), {})
        rpr.append(lang_el)
    lang_el.set(qn("w:val"), "en-US")  # Latin text (numbers) breaks by Western rules
    lang_el.set(qn("w:eastAsia"), "zh-CN")

    normal = doc.styles["Normal"]
    _set_fonts(normal.element, _BODY_LATIN, _BODY_EA)
    normal.font.size = Pt(10.5)
    pf = normal.paragraph_format
    pf.space_after = Pt(4)
    pf.line_spacing = 1.3
    for name, size in (("Title", 22), ("Subtitle", 14), ("Heading 1", 15), ("Heading 2", 12.5)):
        st = doc.styles[name]
        _set_fonts(st.element, _HEAD_LATIN, _HEAD_EA)
        st.font.size = Pt(size)
        st.font.bold = name != "Subtitle"
        st.font.italic = False
        st.font.color.rgb = RGBColor(0x10, 0x2A, 0x43)
        st.paragraph_format.space_before = Pt(14 if name == "Heading 1" else 8)
        st.paragraph_format.space_after = Pt(6)
        st.paragraph_format.keep_with_next = True
    doc.styles["Title"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.styles["Subtitle"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    cap = doc.styles["Caption"]
    _set_fonts(cap.element, _BODY_LATIN, _HEAD_EA)
    cap.font.size = Pt(9.5)
    cap.font.bold = True
    cap.font.italic = False
    cap.font.color.rgb = RGBColor(0x24, 0x3B, 0x53)
    # remove the title's bottom border of the default template (a stray rule in WPS)
    ppr = doc.styles["Title"].element.pPr
    if ppr is not None:
        for el in ppr.findall(qn("w:pBdr")):
            ppr.remove(el)


def _shade(cell, fill: str) -> None:
    from docx.oxml.ns import qn

    tcpr = cell._tc.get_or_add_tcPr()
    shd = tcpr.makeelement(qn("w:shd"), {qn("w:val"): "clear", qn("w:color"): "auto"})
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


_PAGE_TEXT_CM = 21.0 - 2 * 2.4


def _text_units(text: str) -> float:
    """Width of a text in half-em units: a CJK character (and ≥ ≤ — …, which Chinese fonts
    draw full width) is 2; Latin about 1.25 (room for wider substitute fonts)."""
    return sum(2.0 if ord(ch) >= 0x2E80 or ch in "≥≤—…" else 1.25 for ch in str(text))


def _unbroken_units(text: str) -> float:
    """Width of a numeric cell that may wrap before its bracket: "28.7%（26.2%–31.5%）"."""
    parts = re.split(r"(?=（)|(?<=）)| (?=\()", str(text))
    return max(_text_units(x.strip()) for x in parts) if parts else 0.0


def _column_widths(t: Table, font_pt: float) -> list[float]:
    """Column widths (cm) that fit the page: plain numbers never wrap; a number with a
    bracketed interval gives way first (the bracket moves to a second line), then text
    columns (they wrap), and only then is everything scaled."""
    unit = font_pt / 72 * 2.54 / 2  # half an em, in cm
    pad = 0.6  # cell margins and a little slack
    num = t.numeric_columns()
    natural, floor = [], []
    for j, h in enumerate(t.data.columns):
        values = list(t.data.iloc[:, j])
        cells = [_text_units(v) for v in values] or [0.0]
        head = _text_units(h)
        # a short header stays on one line; a long one may take two
        head_min = head if head <= 16 else max(head / 2, 16.0)
        need = max(max(cells), head_min, 3.0)
        natural.append(need * unit + pad)
        if num[j]:
            tight = max([_unbroken_units(v) for v in values] + [head_min, 3.0])
        else:
            tight = max(head_min, min(need, 14.0))
        floor.append(min(natural[-1], tight * unit + pad))
    widths = list(natural)
    over = sum(widths) - _PAGE_TEXT_CM
    for group in (
        [j for j in range(len(num)) if num[j]],
        [j for j in range(len(num)) if not num[j]],
    ):
        if over <= 0:
            break
        spare = sum(widths[j] - floor[j] for j in group)
        if spare <= 0:
            continue
        take = min(over, spare)
        for j in group:
            widths[j] -= (widths[j] - floor[j]) / spare * take
        over -= take
    if over > 0:
        widths = [w * _PAGE_TEXT_CM / sum(widths) for w in widths]
    return widths


def _docx_table(doc, t: Table, cap: str) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    p = doc.add_paragraph(cap, style="Caption")
    p.paragraph_format.keep_with_next = True
    p.paragraph_format.space_before = Pt(8)
    nrow, ncol = t.data.shape
    table = doc.add_table(rows=nrow + 1, cols=ncol)
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    num = t.numeric_columns()
    font_pt = 9 if ncol <= 6 else 8
    size = Pt(font_pt)
    widths = _column_widths(t, font_pt)
    for j, w in enumerate(widths):
        table.columns[j].width = Cm(w)

    def fill(cell, text, bold, right, width):
        cell.width = Cm(width)
        para = cell.paragraphs[0]
        para.paragraph_format.space_after = Pt(0)
        para.paragraph_format.line_spacing = 1.1
        if right:
            para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        run = para.add_run(str(text))
        run.font.size = size
        run.bold = bold

    rows = list(table.rows)  # row.cells once per row: table.cell(i, j) is quadratic
    for i, (row, values) in enumerate(
        zip(rows, [list(t.data.columns), *t.data.itertuples(index=False)], strict=True)
    ):
        trpr = row._tr.get_or_add_trPr()
        trpr.append(trpr.makeelement(qn("w:cantSplit"), {qn("w:val"): "true"}))
        if i == 0:  # the header row repeats on every page
            trpr.append(trpr.makeelement(qn("w:tblHeader"), {qn("w:val"): "true"}))
        for j, (cell, v) in enumerate(zip(row.cells, values, strict=True)):
            fill(cell, v, i == 0, num[j], widths[j])
            if i == 0:
                _shade(cell, "EEF2F6")
    if t.note:
        n = doc.add_paragraph()
        run = n.add_run(t.note)
        run.font.size = Pt(8.5)
        n.paragraph_format.space_after = Pt(8)
    else:
        doc.add_paragraph().paragraph_format.space_after = Pt(2)


def _docx_bytes(rep: Report) -> bytes:
    import docx
    from docx.enum.text import WD_BREAK, WD_COLOR_INDEX
    from docx.shared import Cm, Pt, RGBColor

    doc = docx.Document()
    _style_doc(doc, rep.lang)
    for _ in range(6):
        doc.add_paragraph()
    doc.add_paragraph(rep.title, style="Title")
    if rep.subtitle:
        doc.add_paragraph(rep.subtitle, style="Subtitle")
    doc.add_paragraph()
    for line in rep.front:
        p = doc.add_paragraph(line)
        p.alignment = 1
    numbered = rep._numbered()
    doc.add_paragraph()
    p = doc.add_paragraph()
    p.alignment = 1
    p.add_run("目录" if rep.lang == "zh" else "Contents").bold = True
    for _s, title, _b in numbered:
        q = doc.add_paragraph(title)
        q.alignment = 1
        q.paragraph_format.space_after = Pt(0)
    doc.paragraphs[-1].add_run().add_break(WD_BREAK.PAGE)
    todo = rep._todo_label()
    for _s, title, blocks in numbered:
        doc.add_heading(title, level=1)
        for b, cap in blocks:
            if isinstance(b, Heading):
                doc.add_heading(b.text, level=2)
            elif isinstance(b, Para):
                if b.kind == "bullet":
                    doc.add_paragraph(b.text, style="List Bullet")
                    continue
                p = doc.add_paragraph()
                run = p.add_run(b.text)
                if b.kind == "note":
                    run.font.size = Pt(9)
                    run.font.color.rgb = RGBColor(0x59, 0x63, 0x6E)
            elif isinstance(b, Todo):
                p = doc.add_paragraph()
                r1 = p.add_run(todo)
                r1.bold = True
                r1.font.highlight_color = WD_COLOR_INDEX.YELLOW
                r2 = p.add_run(b.text)
                r2.font.highlight_color = WD_COLOR_INDEX.YELLOW
            elif isinstance(b, Table):
                _docx_table(doc, b, cap)
            elif isinstance(b, Figure):
                doc.add_picture(io.BytesIO(b.png), width=Cm(min(b.width, 16.0)))
                doc.paragraphs[-1].alignment = 1
                doc.paragraphs[-1].paragraph_format.keep_with_next = True
                doc.add_paragraph(cap, style="Caption").alignment = 1
    if rep.lang == "zh":
        _east_asian_hint(doc)
    cp = doc.core_properties
    cp.title = rep.title
    cp.subject = rep.subtitle
    cp.author = "mentorlib"
    cp.last_modified_by = "mentorlib"
    cp.comments = "Draft generated by mentorlib; every number comes from the analysis."
    cp.revision = 1
    stamp = _dt.datetime(max(rep.years) + 1, 8, 31, 0, 0, 0)
    cp.created = cp.modified = stamp
    cp.last_printed = stamp
    buf = io.BytesIO()
    doc.save(buf)
    return _fixed_zip(buf.getvalue())


def _east_asian_hint(doc) -> None:
    """Mark every run w:hint="eastAsia" so ambiguous characters (“”、…—) take the Chinese
    font, as Word does for text typed in a Chinese document."""
    from docx.oxml.ns import qn

    for r in doc.element.body.iter(qn("w:r")):
        rpr = r.get_or_add_rPr()
        rfonts = rpr.find(qn("w:rFonts"))
        if rfonts is None:
            rfonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.insert(0, rfonts)
        rfonts.set(qn("w:hint"), "eastAsia")


def _fixed_zip(data: bytes) -> bytes:
    """Rewrite a ZIP with fixed entry times (byte-identical output for identical content)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, src.read(info.filename))
    return out.getvalue()


# =========================================================================== formatting


class _L:
    """Language helper: ``t("中文", "English")`` picks the report language."""

    def __init__(self, lang: str):
        if lang not in ("zh", "en"):
            raise InputError(f"lang must be 'zh' or 'en', got {lang!r}")
        self.lang = lang
        self.zh = lang == "zh"

    def __call__(self, zh: str, en: str) -> str:
        return zh if self.zh else en

    @property
    def sep(self) -> str:
        return "、" if self.zh else ", "


def _nan(v) -> bool:
    if v is None or v is pd.NA:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _pct(v, d: int = 1, what: str = "a percentage") -> str:
    return "—" if _nan(v) else f"{check_rate(v, what):.{d}%}"


def _ci(lo, hi, d: int = 1) -> str:
    if _nan(lo) or _nan(hi):
        return "—"
    return (
        f"{check_rate(lo, 'an interval bound'):.{d}%}–{check_rate(hi, 'an interval bound'):.{d}%}"
    )


def _num(v, d: int = 2) -> str:
    return "—" if _nan(v) else f"{float(v):.{d}f}"


def _numci(lo, hi, d: int = 2) -> str:
    return "—" if _nan(lo) or _nan(hi) else f"{float(lo):.{d}f}–{float(hi):.{d}f}"


def _int(v) -> str:
    return "—" if _nan(v) else f"{int(v):,}"


def _count(v, min_cell: int) -> str:
    """A count of students: ``"<5"`` for 1-4 (0 stays 0)."""
    if isinstance(v, str):  # already formatted by the disclosure document
        return v
    if _nan(v):
        return f"<{min_cell}"
    v = int(v)
    return f"<{min_cell}" if 0 < v < min_cell else f"{v:,}"


def _pts(v) -> str:
    """A signed difference of shares in percentage points ("+1.5", "-0.3", "0.0")."""
    if _nan(v):
        return "—"
    txt = f"{float(v) * 100:+.1f}"
    return "0.0" if txt in ("+0.0", "-0.0") else txt


def _p(v) -> str:
    if _nan(v):
        return "—"
    return "< 0.001" if float(v) < 0.001 else f"{float(v):.3f}"


def _frame(rows: list[list], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([[str(x) for x in r] for r in rows], columns=columns, dtype=object)


def _year_label(year: int, t: _L) -> str:
    return t(f"{year}学年", str(year))


def _year_span(year: int, t: _L) -> str:
    return t(f"{year}–{year + 1}学年", f"{year}-{str(year + 1)[2:]} school year")


def _dim_label(level: str, dim: str, t: _L) -> str:
    from .rules import DIMENSION_LABELS_EN, DIMENSION_LABELS_ZH

    if dim == "composite":
        return t("综合", "composite")
    return t(DIMENSION_LABELS_ZH.get(level, {}).get(dim, dim), DIMENSION_LABELS_EN.get(dim, dim))


FOCUS_LABELS: dict[str, tuple[str, str]] = {
    "transfer": ("转学生", "transfer students"),
    "single_parent": ("单亲家庭学生", "single-parent families"),
    "reconstituted": ("重组家庭学生", "reconstituted families"),
    "left_behind": ("留守儿童", "left-behind children"),
    "none": ("其他学生", "all other students"),
}

REASON_LABELS: dict[str, tuple[str, str]] = {
    "friends": ("希望与好朋友同组", "wants to be with friends"),
    "needs_mismatch": ("需求与导师特长不匹配", "needs do not match the mentor"),
    "personality": ("性格不合", "personality"),
    "too_little_contact": ("与导师交流太少", "too little contact"),
    "rebalance": ("人数调整", "rebalancing group sizes"),
    "other": ("其他", "other"),
}

GENDER_LABELS = {"female": ("女", "girls"), "male": ("男", "boys")}


def _fig(blocks: list, t: _L, key: str, caption: str, make: Callable, width: float = 15.0):
    """Render ``make()`` to PNG and append it; an analysis that cannot draw leaves a note."""
    from .plots import fig_png

    try:
        fig = make()
    except InputError as e:
        blocks.append(Para(t(f"（图未生成：{e}）", f"(figure not drawn: {e})"), "note"))
        return
    blocks.append(Figure(fig_png(fig), caption, key, width))


# =========================================================================== analyses


def _is_synthetic(processed) -> bool:
    if getattr(processed, "synthetic", False):  # carried from study.toml by the cleaner
        return True
    if "合成数据" in (processed.school or "") or str(processed.name).startswith("synth"):
        return True
    root = getattr(processed, "root", None)
    if root is not None:
        import json

        meta = Path(root) / "study.json"
        if meta.is_file():
            try:
                if json.loads(meta.read_text(encoding="utf-8")).get("synthetic"):
                    return True
            except ValueError:
                pass
        if (Path(root) / "truth").is_dir():
            return True
    return False


def _satisfaction(processed, year: int, min_cell: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per term (and the whole year, term 0): responses, mean satisfaction, want-change share;
    and the reasons given by students who want to change (counts)."""
    from scipy import stats

    from .progress import proportion_ci

    cols = ["term", "n", "mean", "sd", "ci_low", "ci_high", "n_answer", "n_want"]
    cols += ["want", "want_low", "want_high"]
    if "satisfaction" not in processed:
        return pd.DataFrame(columns=cols), pd.DataFrame(columns=["reason", "n"])
    s = processed["satisfaction"]
    s = s.loc[s["year"] == year]
    rows = []
    for term, g in [*s.groupby("term", sort=True), (0, s)]:
        v = g["satisfaction"].to_numpy(dtype=float, na_value=np.nan)
        v = v[np.isfinite(v)]
        n = len(v)
        m = float(v.mean()) if n else np.nan
        sd = float(v.std(ddof=1)) if n > 1 else np.nan
        h = float(stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)) if n > 1 else np.nan
        w = g["want_change"].dropna().astype(bool)
        nw, na = int(w.sum()), int(len(w))
        ci = proportion_ci(nw, na).iloc[0] if na else None
        rows.append(
            [
                int(term),
                n,
                m,
                sd,
                m - h,
                m + h,
                na,
                nw,
                nw / na if na else np.nan,
                ci["ci_low"] if ci is not None else np.nan,
                ci["ci_high"] if ci is not None else np.nan,
            ]
        )
    sat = pd.DataFrame(rows, columns=cols)
    small = sat["n"] < min_cell
    sat.loc[small, ["mean", "sd", "ci_low", "ci_high"]] = np.nan
    small = sat["n_answer"] < min_cell
    sat.loc[small, ["want", "want_low", "want_high"]] = np.nan
    want = s.loc[s["want_change"].fillna(False).astype(bool)]
    reasons = (
        want["reason"].astype("object").fillna("other").value_counts().rename("n").reset_index()
    )
    reasons.columns = ["reason", "n"]
    reasons = reasons.sort_values(["n", "reason"], ascending=[False, True], kind="stable")
    return sat, reasons.reset_index(drop=True)


def _regrouping(processed, year: int) -> tuple[dict, pd.DataFrame]:
    """Changes of mentor in a year: counts and the recorded reasons (no student rows out)."""
    if "assignments" not in processed:
        return {}, pd.DataFrame(columns=["reason", "n"])
    a = processed["assignments"]
    a = a.loc[a["year"] == year]
    t1 = a.loc[a["term"] == 1].drop_duplicates("student_id", keep="first")
    first = t1.set_index(t1["student_id"].astype(str))["mentor_id"].astype(str)
    t2 = a.loc[a["term"] == 2].drop_duplicates("student_id", keep="last")
    prev = first.reindex(t2["student_id"].astype(str))
    # a change: a term-2 mentor other than the student's term-1 mentor (as compliance counts)
    moved = prev.notna().to_numpy() & (
        prev.astype(object).to_numpy() != t2["mentor_id"].astype(str).to_numpy()
    )
    changed = t2.loc[moved]
    start = t1.loc[t1["regroup"].fillna(False).astype(bool)] if "regroup" in t1 else t1.iloc[:0]
    moves = pd.concat([start, changed])
    reasons = moves["reason"].astype("object").fillna("other").value_counts()
    reasons = reasons.rename("n").reset_index()
    reasons.columns = ["reason", "n"]
    counts = {
        "n_students": int(len(first)),
        "n_start": int(len(start)),
        "n_term2": int(len(changed)),
    }
    return counts, reasons.sort_values(["n", "reason"], ascending=[False, True], kind="stable")


def _data_coverage(processed, year: int) -> pd.DataFrame:
    """Counts of students per source for the year (roster, pre/post assessment, surveys)."""
    rows = []
    st = processed["students"]
    st = st.loc[st["year"] == year]
    rows.append(("roster", int(st["student_id"].nunique())))
    if "assessment_items" in processed:
        ai = processed["assessment_items"]
        ai = ai.loc[ai["year"] == year]
        for w in ("pre", "post"):
            rows.append((f"assessment_{w}", int(ai.loc[ai["wave"] == w, "student_id"].nunique())))
    if "satisfaction" in processed:
        s = processed["satisfaction"]
        s = s.loc[s["year"] == year]
        for term, g in s.groupby("term", sort=True):
            rows.append((f"satisfaction_{int(term)}", int(g["student_id"].nunique())))
    if "needs" in processed:
        nd = processed["needs"]
        rows.append(("needs", int(nd.loc[nd["year"] == year, "student_id"].nunique())))
    if "activities" in processed:
        ac = processed["activities"]
        rows.append(("activities", int((ac["year"] == year).sum())))
    return pd.DataFrame(rows, columns=["source", "n"])


def _cleaning(processed) -> pd.DataFrame | None:
    """Rows in / kept / merged / quarantined per source kind, when the cleaner's files exist."""
    root = getattr(processed, "root", None)
    if root is None or not (Path(root) / "source_summary.csv").is_file():
        return None
    s = pd.read_csv(Path(root) / "source_summary.csv")
    need = ["kind", "rows_in", "kept", "merged", "quarantined"]
    if not set(need) <= set(s.columns):
        return None
    return s.groupby("kind", sort=False)[need[1:]].sum().reset_index()


@dataclass
class YearAnalyses:
    """The analyses behind one annual summary (computed once by :func:`analyse_year`).

    Attributes
    ----------
    progress : mentorlib.progress.ProgressReport
    mentors : mentorlib.effectiveness.MentorReport or None
        None when the mentor models could not be fitted (the reason is in ``notes``).
    compliance : mentorlib.compliance.ComplianceReport or None
    satisfaction : DataFrame
        term (0 = whole year), n, mean, sd, ci_low, ci_high, n_answer, n_want, want,
        want_low, want_high (small cells blanked).
    reasons : DataFrame
        reason, n: why students want to change mentor.
    regroup : dict
        n_students (with a term-1 mentor), n_start (regrouped at the start), n_term2.
    regroup_reasons : DataFrame
        reason, n: recorded reasons of the changes.
    coverage : DataFrame
        source, n: students (rows for activities) per source in the year.
    cleaning : DataFrame or None
        Rows per source kind from the cleaner's ``source_summary.csv``.
    """

    processed: object
    year: int
    min_cell: int
    seed: int
    progress: object
    mentors: object | None
    compliance: object | None
    satisfaction: pd.DataFrame
    reasons: pd.DataFrame
    regroup: dict
    regroup_reasons: pd.DataFrame
    coverage: pd.DataFrame
    cleaning: pd.DataFrame | None
    synthetic: bool = False
    notes: list[str] = field(default_factory=list)
    #: Every student count and rate the annual summary prints, with the relations among them
    #: (:class:`mentorlib.privacy.Document`), protected; builders print ``disclosure.text``.
    disclosure: Document | None = None


def _register_compliance(doc: Document, ind: pd.DataFrame, prefix: str = "comp") -> None:
    """Register the annual summary's compliance indicators that count students.

    For each indicator of :data:`mentorlib.compliance.STUDENT_INDICATORS` with a value:
    ``comp.{indicator}.n`` (the students counted, printed), ``comp.{indicator}.k`` (those
    meeting it, not printed) and the rate ``comp.{indicator}.rate`` = ``k`` / ``n``.

    Parameters
    ----------
    doc : Document
        The year's disclosure document (not yet protected).
    ind : DataFrame
        :attr:`mentorlib.compliance.ComplianceReport.indicators`.
    """
    for r in ind.itertuples(index=False):
        if r.indicator not in STUDENT_INDICATORS or _nan(r.n) or _nan(r.value):
            continue
        pre = f"{prefix}.{r.indicator}"
        doc.count(f"{pre}.n", r.n)
        doc.count(f"{pre}.k", round(float(r.value) * int(r.n)), printed=False)
        doc.rate(f"{pre}.rate", f"{pre}.k", f"{pre}.n")


def _register_year(doc: Document, prog, sat, reasons, regroup, rreasons, coverage) -> None:
    """Register the annual summary's student counts and their relations in ``doc``.

    The progress report's own tables (:meth:`ProgressReport.register`), then: the categories
    sentence (``cat.*``: the evaluable students split by dimensions improved), the bars of the
    dimensions figure (``dims.*``), the satisfaction table (``sat.{term}.*``: the year is the
    sum of its terms), the reasons for wanting a change (``reasons.*``: they add up to the
    students wanting one), the regrouping sentence and its reasons table (``regroup.*``: the
    start-of-year and term-2 changes add up to the reasons) and the coverage table.
    """
    prog.register(doc)
    ps = prog.per_student
    cat = ps["category"].astype("object").value_counts()
    names = ("improved_3plus", "improved_1_2", "no_change", "deteriorated", "not_evaluable")
    for c in names:
        doc.count(f"cat.{c}", int(cat.get(c, 0)))
    _try_total(doc, "n_evaluable", [f"cat.{c}" for c in names[:4]])
    _try_total(doc, "n_not_evaluable", ["cat.not_evaluable"])
    if prog.k == 1:
        _try_total(doc, "n_progressing", ["cat.improved_3plus", "cat.improved_1_2"])
    D = int(ps["n_dimensions"].max()) if len(ps) else 0
    ev = ps["n_evaluable"] > 0
    dims = ps.loc[ev, "n_improved"].value_counts().reindex(range(D + 1), fill_value=0)
    for i, v in dims.items():
        doc.count(f"dims.{i}", int(v))
    _try_total(doc, "n_evaluable", [f"dims.{i}" for i in dims.index])
    _try_total(doc, "cat.improved_3plus", [f"dims.{i}" for i in dims.index if i >= 3])
    _try_total(doc, "cat.improved_1_2", [f"dims.{i}" for i in dims.index if 1 <= i <= 2])
    _try_total(doc, "n_progressing", [f"dims.{i}" for i in dims.index if i >= prog.k])
    for r in sat.itertuples(index=False):
        for c in ("n", "n_answer", "n_want"):
            doc.count(f"sat.{r.term}.{c}", getattr(r, c))
        doc.rate(f"sat.{r.term}.want", f"sat.{r.term}.n_want", f"sat.{r.term}.n_answer")
    terms = [int(x) for x in sat["term"] if int(x) != 0]
    if len(sat) and 0 in set(sat["term"].astype(int)) and terms:
        for c in ("n", "n_answer", "n_want"):
            _try_total(doc, f"sat.0.{c}", [f"sat.{x}.{c}" for x in terms])
    rk = [
        doc.count(f"reasons.{r}", n) for r, n in zip(reasons["reason"], reasons["n"], strict=True)
    ]
    if rk and "sat.0.n_want" in doc.cells:
        _try_total(doc, "sat.0.n_want", rk)
    if regroup:
        doc.count("regroup.n_students", regroup["n_students"])
        doc.count("regroup.start", regroup["n_start"])
        doc.count("regroup.term2", regroup["n_term2"])
        moves = doc.count("regroup.moves", regroup["n_start"] + regroup["n_term2"], printed=False)
        doc.total(moves, ["regroup.start", "regroup.term2"])
        keys = [
            doc.count(f"regroup.reason.{r}", n)
            for r, n in zip(rreasons["reason"], rreasons["n"], strict=True)
        ]
        if keys:
            _try_total(doc, moves, keys)
    for src, n in zip(coverage["source"], coverage["n"], strict=True):
        if src != "activities":  # rows, not students
            doc.count(f"coverage.{src}", n)
    if "coverage.roster" in doc.cells:
        _try_total(doc, "coverage.roster", ["n_students"])


def _try_total(doc: Document, total: str, parts: list[str]) -> None:
    """A relation that holds in these data (parts that do not add up are not related)."""
    if total in doc.cells and all(p in doc.cells for p in parts):
        if sum(doc.cells[p].value for p in parts) == doc.cells[total].value:
            doc.total(total, parts)


def _ct(a, key: str, v=None) -> str:
    """The printed text of a registered count (``"<5"``, ``"—"`` or the number)."""
    doc = getattr(a, "disclosure", None)
    if doc is not None and key in doc.cells:
        return doc.text(key)
    return _count(v, a.min_cell)


def analyse_year(
    processed, year: int, *, min_cell: int = MIN_CELL, seed: int = 0, mentors: bool = True
) -> YearAnalyses:
    """Run every analysis an annual summary needs, once.

    Parameters
    ----------
    processed : mentorlib.data.Processed
    year : int
        A school year with a post-wave assessment.
    min_cell : int, default 5
        Small-cell threshold of every published number.
    seed : int, default 0
        Seeds the bootstrap of the verdict and the mentor ranking simulation.
    mentors : bool, default True
        Fit the mentor-effectiveness models (False skips them, e.g. for quick drafts).

    Returns
    -------
    YearAnalyses
    """
    from .compliance import compliance_report
    from .effectiveness import mentor_report
    from .progress import progress_report

    if min_cell < 1:
        raise InputError(f"min_cell must be at least 1, got {min_cell}")
    if year not in processed.years:
        raise InputError(f"year {year} is not in study {processed.name!r} ({processed.years})")
    notes: list[str] = []
    prog = progress_report(processed, year, min_cell=min_cell, seed=seed)
    mrep = None
    if mentors:
        try:
            mrep = mentor_report(processed, year, seed=seed)
        except (InputError, ValueError, np.linalg.LinAlgError) as e:
            notes.append(f"mentor effectiveness not estimated: {e}")
    try:
        comp = compliance_report(processed, year, min_cell=min_cell)
    except InputError as e:
        comp = None
        notes.append(f"compliance not measured: {e}")
    sat, reasons = _satisfaction(processed, year, min_cell)
    counts, rreasons = _regrouping(processed, year)
    coverage = _data_coverage(processed, year)
    doc = Document(min_cell, name=f"annual summary {processed.name} {year}")
    _register_year(doc, prog, sat, reasons, counts, rreasons, coverage)
    if comp is not None:
        _register_compliance(doc, comp.indicators)
    doc.protect()
    prog.apply(doc)
    if comp is not None and len(comp.indicators):
        # the student-based indicators' value and pass mark go where their rate is hidden
        ck = [
            f"comp.{i}" if i in STUDENT_INDICATORS else None for i in comp.indicators["indicator"]
        ]
        comp = dataclasses.replace(
            comp,
            indicators=doc.mask_table(
                comp.indicators,
                {"n": [None if k is None else f"{k}.n" for k in ck]},
                rates=[None if k is None else f"{k}.rate" for k in ck],
                rate_columns=["value", "passed"],
            ),
        )
    sat = doc.mask_table(
        sat,
        {c: [f"sat.{t}.{c}" for t in sat["term"]] for c in ("n", "n_answer", "n_want")},
        rates=[f"sat.{t}.want" for t in sat["term"]],
        rate_columns=["want", "want_low", "want_high"],
    )
    return YearAnalyses(
        processed=processed,
        year=year,
        min_cell=min_cell,
        seed=seed,
        progress=prog,
        mentors=mrep,
        compliance=comp,
        satisfaction=sat,
        reasons=reasons,
        regroup=counts,
        regroup_reasons=rreasons,
        coverage=coverage,
        cleaning=_cleaning(processed),
        synthetic=_is_synthetic(processed),
        notes=notes,
        disclosure=doc,
    )


# =========================================================================== annual summary


def _verdict_text(verdict: str | None, t: _L) -> str:
    from .progress import VERDICTS

    if verdict is None or _nan(verdict):
        return "—"
    return t(VERDICTS.get(verdict, verdict), verdict)


def _passed_text(passed, t: _L) -> str:
    if _nan(passed):
        return "—"
    return t("达标", "met") if bool(passed) else t("未达标", "not met")


def _kpis(a: YearAnalyses, t: _L) -> pd.DataFrame:
    """The KPI table of one year as numbers (the annual summary's ``Report.kpis``)."""
    s = a.progress.summary()
    rows = []
    k_txt = t(
        f"至少{s['k']}个维度",
        "in at least one dimension" if s["k"] == 1 else f"in at least {s['k']} dimensions",
    )
    rows.append(
        {
            "key": "progress",
            "label": t(
                f"显著进步学生比例（{k_txt}）", f"Students progressing significantly ({k_txt})"
            ),
            "value": s["proportion"],
            "ci_low": s["ci_low"],
            "ci_high": s["ci_high"],
            "target": s["target"],
            "target_text": f"≥{s['target']:.0%}",
            "passed": None if s["verdict"] is None else s["verdict"] == "met",
            "status": _verdict_text(s["verdict"], t),
            "n": s["n_evaluable"],
        }
    )
    if a.compliance is not None:
        for r in a.compliance.indicators.itertuples(index=False):
            rows.append(
                {
                    "key": r.indicator,
                    "label": t(r.label_zh, r.label_en),
                    "value": r.value,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "target": r.target,
                    "target_text": t(r.target_zh, r.target_en),
                    "passed": None if _nan(r.passed) else bool(r.passed),
                    "status": _passed_text(r.passed, t),
                    "n": r.n,
                }
            )
    year = a.satisfaction.loc[a.satisfaction["term"] == 0]
    if len(year):
        y = year.iloc[0]
        rows.append(
            {
                "key": "satisfaction",
                "label": t(
                    "学生对导师的平均满意度（1–5分）", "Mean satisfaction with the mentor (1-5)"
                ),
                "value": y["mean"],
                "ci_low": y["ci_low"],
                "ci_high": y["ci_high"],
                "target": np.nan,
                "target_text": t("无量化目标", "no numeric target"),
                "passed": None,
                "status": "—",
                "n": y["n"],
            }
        )
        rows.append(
            {
                "key": "want_change",
                "label": t("希望更换导师的学生比例", "Students who want to change mentor"),
                "value": y["want"],
                "ci_low": y["want_low"],
                "ci_high": y["want_high"],
                "target": np.nan,
                "target_text": t("无量化目标", "no numeric target"),
                "passed": None,
                "status": "—",
                "n": y["n_answer"],
            }
        )
    k = pd.DataFrame(rows)
    k["passed"] = k["passed"].astype("boolean")
    k["value_text"] = [
        _num(v) if key == "satisfaction" else _pct(v)
        for key, v in zip(k["key"], k["value"], strict=True)
    ]
    k["ci_text"] = [
        _numci(lo, hi) if key == "satisfaction" else ("—" if _nan(lo) else _ci(lo, hi))
        for key, lo, hi in zip(k["key"], k["ci_low"], k["ci_high"], strict=True)
    ]
    return k


#: The disclosure-document cell of each KPI row's base n (other rows count other units).
_KPI_N_KEYS = {
    "progress": "n_evaluable",
    "satisfaction": "sat.0.n",
    "want_change": "sat.0.n_answer",
}


def _kpi_n(r, min_cell: int, doc: Document | None) -> tuple[str, bool]:
    """The printed base n of a KPI row and whether the row describes fewer than ``min_cell``.

    A registered count prints the document's own text (``"<5"`` only for a primary cell,
    ``"—"`` for a complementary one, never its value); an unregistered missing n prints
    ``"—"``.
    """
    key = _KPI_N_KEYS.get(r.key)
    if doc is not None and key in doc.cells:
        return doc.text(key), doc.status(key) == "primary"
    if _nan(r.n):
        return "—", False
    small = int(r.n) < min_cell
    return (f"<{min_cell}" if small else _count(r.n, min_cell)), small


def _kpi_table(k: pd.DataFrame, t: _L, min_cell: int, doc: Document | None = None) -> Table:
    rows = []
    for r in k.itertuples(index=False):
        n, small = _kpi_n(r, min_cell, doc)
        if small:
            rows.append([r.label, f"<{min_cell}", "—", r.target_text, "—", n])
        else:
            rows.append([r.label, r.value_text, r.ci_text, r.target_text, r.status, n])
    cols = [
        t("指标", "Indicator"),
        t("数值", "Value"),
        t("95%置信区间", "95% CI"),
        t("目标", "Target"),
        t("是否达成", "Met?"),
        t("计数基数 n", "Base n"),
    ]
    note = t(
        "注：过程指标的计数基数各不相同（学生、学生·月、导师·月或导师·学期，见“方法说明”）；"
        "显著进步比例的判定依据置信下限，“仅点估计达成”表示点估计达到而置信下限未达到目标。",
        "Note: process indicators count different units (students, student-months, "
        "mentor-months or mentor-terms; see Methods). The progress verdict uses the lower "
        "confidence bound: 'met by point estimate only' means the estimate reaches the target "
        "but its lower bound does not.",
    )
    return Table(
        _frame(rows, cols), t("关键指标与目标对照", "Key indicators against targets"), "kpi", note
    )


def _title_page(processed, kind: str, years, public: bool, synthetic: bool, t: _L):
    school = processed.school or processed.name
    prog = t("全员育人导师制", "all-staff mentorship programme")
    if processed.level == "middle":
        prog = t("学生成长导师制", "student growth mentorship programme")
    if kind == "annual_summary":
        y = years[0]
        title = t(
            f"{school}{prog}{_year_span(y, t)}年度总结",
            f"{school}: {prog}, annual summary {_year_span(y, t)}",
        )
        subtitle = t("年度总结（初稿）", "Annual summary (draft)")
    else:
        title = t(
            f"{school}{prog}三年试点评估报告（{min(years)}–{max(years) + 1}）",
            f"{school}: {prog}, three-year pilot review ({min(years)}-{max(years) + 1})",
        )
        subtitle = t("三年试点评估报告（初稿）", "Three-year pilot review (draft)")
    if not public:
        title += t("（内部版）", " (internal)")
    front = [
        t(
            f"研究对象：{school}（研究编号 {processed.name}）",
            f"School: {school} (study {processed.name})",
        ),
        t(
            "本稿由 mentorlib 根据过程记录与测评数据自动生成，所有数字均来自分析；"
            "标有【待补充】之处请研究者填写判断与说明。",
            "Drafted by mentorlib from the process records and assessments; every number comes "
            "from the analysis. Places marked [to be completed] are for the researcher's judgement.",
        ),
        t("编制人与日期：【待补充】", "Prepared by / date: [to be completed]"),
    ]
    if public:
        front.append(
            t(
                "公开版：不含任何学生姓名、学籍号或导师姓名；少于5名学生的数据格以“<5”表示。",
                "Public version: no student name, student ID or mentor name; cells describing "
                "fewer than 5 students show '<5'.",
            )
        )
    else:
        front.append(
            t(
                "内部版：含导师姓名与逐位导师的结果，仅供学校领导小组内部使用，不得外传；"
                "不含任何学生姓名或学籍号。",
                "Internal version: names mentors and shows per-mentor results; for the school's "
                "leading group only, not for circulation. No student name or ID.",
            )
        )
    if synthetic:
        front.append(
            t(
                "说明：本报告所用数据为合成数据（模拟学校），仅用于演示和测试，不代表任何真实学校。",
                "Note: the data are synthetic (a simulated school), for demonstration and "
                "testing only; they describe no real school.",
            )
        )
    return title, subtitle, front


def _sec_summary(a: YearAnalyses, t: _L, k: pd.DataFrame) -> Section:
    b: list = [Para(a.progress.headline(t.lang), "lead")]
    s = a.progress.summary()
    cmp_ = s.get("comparison")
    if cmp_ and not _nan(cmp_.get("difference")):
        b.append(
            Para(
                t(
                    f"与未受导学生相比，受导学生的显著进步比例高{cmp_['difference'] * 100:.1f}个百分点"
                    f"（95%置信区间{cmp_['ci_low'] * 100:.1f}至{cmp_['ci_high'] * 100:.1f}个百分点）；"
                    "受导学生经推荐产生，这一差异包含向均值回归，不能视为导师制的效果。",
                    f"Mentees progressed {cmp_['difference'] * 100:.1f} percentage points more often "
                    f"than non-mentees (95% CI {cmp_['ci_low'] * 100:.1f} to "
                    f"{cmp_['ci_high'] * 100:.1f}); mentees were nominated, so this includes "
                    "regression to the mean and is not the programme's effect.",
                )
            )
        )
    if a.compliance is not None:
        ind = a.compliance.indicators
        have = ind.loc[ind["passed"].notna()]
        met = have.loc[have["passed"].astype(bool)]
        miss = have.loc[~have["passed"].astype(bool)]
        lab = "label_zh" if t.zh else "label_en"
        missed = t.sep.join(
            f"{r[lab]}{_pct(r['value'])}" if t.zh else f"{r[lab].lower()} {_pct(r['value'])}"
            for _, r in miss.iterrows()
        )
        b.append(
            Para(
                t(
                    f"过程落实方面，{len(have)}项有明确目标的过程指标中{len(met)}项达标"
                    + (f"；未达标的是：{missed}" if len(miss) else "")
                    + "。",
                    f"Process records: {len(met)} of the {len(have)} indicators with a target "
                    "were met" + (f"; not met: {missed}" if len(miss) else "") + ".",
                )
            )
        )
    if a.mentors is not None and len(a.mentors.models):
        m = a.mentors.models.set_index("outcome")
        es = a.mentors.effects_summary().set_index("outcome")
        if "composite" in m.index and "composite" in es.index:
            r, e = m.loc["composite"], es.loc["composite"]
            b.append(
                Para(
                    t(
                        f"导师之间综合发展水平的差异较小：导师解释的差异占{r['icc']:.1%}（ICC），"
                        f"{int(e['n_mentors'])}名导师中{int(e['n_above'])}名明显高于平均、"
                        f"{int(e['n_below'])}名明显低于平均，其余与平均水平无法区分。"
                        if r["icc"] < 0.05
                        else f"导师解释的综合发展差异占{r['icc']:.1%}（ICC）；"
                        f"{int(e['n_mentors'])}名导师中{int(e['n_above'])}名明显高于平均、"
                        f"{int(e['n_below'])}名明显低于平均，其余与平均水平无法区分。",
                        f"Mentors account for {r['icc']:.1%} of the variation in the composite "
                        f"outcome (ICC). Of {int(e['n_mentors'])} mentors, clearly above "
                        f"average: {int(e['n_above'])}; clearly below: {int(e['n_below'])}; the "
                        "rest cannot be told apart from the average.",
                    )
                )
            )
    kk = k.set_index("key")
    if "satisfaction" in kk.index and not _nan(kk.at["satisfaction", "value"]):
        b.append(
            Para(
                t(
                    f"学生对导师的平均满意度为{kk.at['satisfaction', 'value']:.2f}分（满分5分），"
                    f"{_pct(kk.at['want_change', 'value'])}的学生表示希望更换导师。",
                    f"Mean satisfaction with the mentor was {kk.at['satisfaction', 'value']:.2f} "
                    f"out of 5; {_pct(kk.at['want_change', 'value'])} of students said they "
                    "would like to change mentor.",
                )
            )
        )
    b.append(
        Todo(
            t(
                "研究者的总体评价：本学年工作的主要成绩、存在的问题及其原因（请结合上述数字和学校实际撰写，"
                "并说明数字的局限）。",
                "The researcher's overall assessment: the year's main achievements, the problems "
                "and their causes, in the light of these numbers and their limits.",
            )
        )
    )
    return Section("summary", t("执行摘要", "Executive summary"), b)


def _sec_kpi(a: YearAnalyses, t: _L, k: pd.DataFrame) -> Section:
    b: list = [
        Para(
            t(
                "下表逐项对照实施方案中的量化目标。数值均由本学年的测评与过程记录计算得出。",
                "The table sets every numeric target of the programme against this year's value, "
                "computed from the assessments and the process records.",
            )
        ),
        _kpi_table(k, t, a.min_cell, a.disclosure),
        Todo(
            t(
                "对未达成的指标逐项说明原因与改进措施。",
                "For each target not met: the reasons and what will change.",
            )
        ),
    ]
    return Section("kpi", t("关键指标一览", "Key indicators"), b)


_RULE_TXT = {
    "evaluable_only": ("仅计可评估学生", "evaluable students only"),
    "missing_not_progressing": ("缺测计为未进步", "missing counted as not progressing"),
}


def _verdict_table(a: YearAnalyses, t: _L) -> Table:
    rows = []
    for r in a.progress.verdict.itertuples(index=False):
        boot = getattr(r, "boot_ci_low", np.nan)
        rows.append(
            [
                t(*_RULE_TXT[r.rule]),
                _ct(a, "n_evaluable" if r.rule == "evaluable_only" else "n_students", r.n),
                _ct(a, "n_progressing", r.n_progressing),
                _pct(r.proportion),
                _ci(r.ci_low, r.ci_high),
                _ci(boot, getattr(r, "boot_ci_high", np.nan)),
                _pct(r.lower_bound),
                _p(r.p_value),
                _verdict_text(r.verdict, t),
            ]
        )
    cols = [
        t("缺失处理", "Missing data"),
        t("分母（人）", "Denominator"),
        t("显著进步人数", "Progressing"),
        t("比例", "Rate"),
        t("95% Wilson区间", "95% Wilson CI"),
        t("95%自助法区间", "95% bootstrap CI"),
        t("单侧95%下限", "One-sided lower bound"),
        t("p值", "p"),
        t("判定", "Verdict"),
    ]
    return Table(
        _frame(rows, cols),
        t("显著进步比例与85%目标的判定", "The progress rate and the verdict on the 85% target"),
        "verdict",
        t(
            "p为单侧精确二项检验（备择假设：比例高于目标）。自助法区间同时考虑阈值估计的误差。",
            "p: one-sided exact binomial test (alternative: the rate exceeds the target). The "
            "bootstrap interval also carries the error of the estimated threshold.",
        ),
    )


def _sensitivity_table(a: YearAnalyses, t: _L) -> Table:
    from .progress import DEFINITIONS

    rows = []
    for r in a.progress.sensitivity.itertuples(index=False):
        d_zh, d_en = DEFINITIONS.get(r.definition, (r.definition, r.definition))
        head = bool(r.headline)
        rows.append(
            [
                t(d_zh, d_en) + (t("（主口径）", " (headline)") if head else ""),
                t(f"≥{r.k}个维度", f">= {r.k}"),
                t(*_RULE_TXT[r.rule]),
                _pct(r.proportion),
                _ci(r.ci_low, r.ci_high),
                _verdict_text(r.verdict, t),
            ]
        )
    cols = [
        t("“显著进步”的定义", "Definition of significant progress"),
        t("维度数", "Dimensions"),
        t("缺失处理", "Missing data"),
        t("比例", "Rate"),
        t("95%置信区间", "95% CI"),
        t("判定", "Verdict"),
    ]
    return Table(
        _frame(rows, cols),
        t(
            "敏感性分析：不同定义与缺失处理下的判定",
            "Sensitivity: the verdict under each definition and missing-data rule",
        ),
        "sensitivity",
    )


def _group_rate_rows(bd: pd.DataFrame, by: str, labeler, t: _L, mc: int, ref=None, a=None):
    from .progress import rate_difference

    rows, plot = [], []
    part = bd.loc[bd["by"] == by]
    if by == "grade":
        part = part.assign(_o=pd.to_numeric(part["group"], errors="coerce")).sort_values("_o")
    for r in part.itertuples(index=False):
        sup = bool(r.suppressed)
        diff = "—"
        if (
            ref is not None
            and not sup
            and r.group != "none"
            and not _nan(r.n_evaluable)
            and not _nan(r.n_progressing)
        ):
            d = rate_difference(int(r.n_progressing), int(r.n_evaluable), *ref).iloc[0]
            diff = (
                f"{_pts(d['difference'])}（{_pts(d['ci_low'])}，{_pts(d['ci_high'])}）"
                if t.zh
                else f"{_pts(d['difference'])} ({_pts(d['ci_low'])}, {_pts(d['ci_high'])})"
            )
        if sup and a is not None:
            diff = "—"
        key = f"bd.{by}.{r.group}"
        row = [
            labeler(r.group),
            _ct(a, f"{key}.n_students", r.n_students) if a else _count(r.n_students, mc),
            _ct(a, f"{key}.n_evaluable", r.n_evaluable) if a else _count(r.n_evaluable, mc),
            _pct(r.proportion) if a else (f"<{mc}" if sup else _pct(r.proportion)),
            _ci(r.ci_low, r.ci_high) if a else ("—" if sup else _ci(r.ci_low, r.ci_high)),
        ]
        if ref is not None:
            row.append(diff)
        rows.append(row)
        plot.append((labeler(r.group), r.proportion, r.ci_low, r.ci_high, sup))
    return rows, plot


class _CountText(str):
    """A count already formatted by the disclosure document (``_count`` passes it through)."""


def _categories_sentence(a: YearAnalyses, t: _L) -> str:
    """How many students improved in 3+, 1-2, no dimension, deteriorated, not evaluable."""
    from .progress import DEFINITIONS

    R, mc = a.progress, a.min_cell
    c = R.per_student["category"].astype("object").value_counts()
    raw = {
        k: int(c.get(k, 0))
        for k in ("improved_3plus", "improved_1_2", "no_change", "deteriorated", "not_evaluable")
    }
    n = {k: _CountText(_ct(a, f"cat.{k}", v)) for k, v in raw.items()}
    ev = _CountText(_ct(a, "n_evaluable", sum(v for k, v in raw.items() if k != "not_evaluable")))
    who = t("受导学生", "mentees") if a.processed.level == "middle" else t("学生", "students")
    return t(
        f"按主口径（{DEFINITIONS[R.definition][0]}），{_count(ev, mc)}名可评估{who}中，"
        f"{_count(n['improved_3plus'], mc)}名在3个及以上维度显著进步，{_count(n['improved_1_2'], mc)}名在1–2个维度显著进步，"
        f"{_count(n['no_change'], mc)}名无可靠变化，{_count(n['deteriorated'], mc)}名显著退步且无进步；"
        f"另有{_count(n['not_evaluable'], mc)}名因缺少前测或后测无法评估。两种缺失处理下的判定见下表。",
        f"Under the headline definition ({DEFINITIONS[R.definition][1]}), of "
        f"{_count(ev, mc)} evaluable {who} "
        f"{_count(n['improved_3plus'], mc)} improved significantly in 3 or more dimensions, "
        f"{_count(n['improved_1_2'], mc)} in 1-2, {_count(n['no_change'], mc)} showed no reliable "
        f"change and {_count(n['deteriorated'], mc)} deteriorated without improving; "
        f"{_count(n['not_evaluable'], mc)} more lack a pre or post test. The table gives the "
        "verdict under both missing-data rules.",
    )


def _dims_texts(a: YearAnalyses):
    """The printed text of each bar of the dimensions figure (None: not registered)."""
    doc = a.disclosure
    if doc is None:
        return None
    keys = sorted((k for k in doc.cells if k.startswith("dims.")), key=lambda k: int(k[5:]))
    return [doc.text(k) for k in keys] + [doc.text("cat.not_evaluable")]


def _sec_progress(a: YearAnalyses, t: _L) -> Section:
    R, mc, level = a.progress, a.min_cell, a.processed.level
    s = R.summary()
    b: list = [Para(_categories_sentence(a, t)), _verdict_table(a, t)]
    robust = s["verdict_robust"]
    verdicts = t.sep.join(
        t(f"“{_verdict_text(v, t)}”{n}种", f"{n} '{v}'")
        for v, n in s["sensitivity_verdicts"].items()
    )
    b += [
        Heading(t("敏感性分析", "Sensitivity")),
        Para(
            t(
                f"判定在全部{len(R.sensitivity)}种口径下一致，均为“{_verdict_text(s['verdict'], t)}”。"
                if robust
                else f"判定随口径而变（{verdicts}），结论应谨慎表述。",
                f"The verdict is the same under all {len(R.sensitivity)} combinations of "
                f"definition and missing-data rule: {s['verdict']}."
                if robust
                else f"The verdict depends on the definition ({verdicts}); state it with care.",
            )
        ),
        _sensitivity_table(a, t),
    ]
    ctx = []
    if s["false_positive_rate"] is not None:
        ctx.append(
            t(
                f"测量误差本身也会让一部分学生被判定为进步：若无任何真实变化，按主口径约有{s['false_positive_rate']:.1%}的学生会被判定为显著进步。",
                f"Measurement error alone makes some students look improved: with no true change "
                f"the headline rule would flag about {s['false_positive_rate']:.1%} of students.",
            )
        )
    if s["rate_threshold_minus5"] is not None and s["rate_threshold_plus5"] is not None:
        ctx.append(
            t(
                f"若把判定阈值放宽或收紧5%，比例分别为{s['rate_threshold_minus5']:.1%}和{s['rate_threshold_plus5']:.1%}。",
                f"With the threshold 5% lower or higher the rate would be "
                f"{s['rate_threshold_minus5']:.1%} or {s['rate_threshold_plus5']:.1%}.",
            )
        )
    if ctx:
        b.append(Para("".join(ctx) if t.zh else " ".join(ctx)))
    rel = R.context.get("reliability")
    if rel is not None and len(rel):
        rows = [
            [
                _dim_label(level, r.dimension, t),
                t("前测", "pre") if r.wave == "pre" else t("后测", "post"),
                _count(r.n, mc),
                _num(r.alpha),
                _numci(r.ci_low, r.ci_high),
                _num(getattr(r, "published_alpha", np.nan)),
            ]
            for r in rel.itertuples(index=False)
        ]
        cols = [
            t("维度", "Dimension"),
            t("测次", "Wave"),
            t("人数", "n"),
            "Cronbach α",
            t("95%置信区间", "95% CI"),
            t("量表公布值", "Published α"),
        ]
        b.append(
            Table(
                _frame(rows, cols),
                t("各维度测评的信度", "Reliability of each dimension"),
                "reliability",
            )
        )
    b.append(Heading(t("分年级与分性别", "By grade and gender")))
    grade_rows, gplot = _group_rate_rows(
        R.breakdowns, "grade", lambda g: t(f"{g}年级", f"grade {g}"), t, mc, a=a
    )
    sex_rows, splot = _group_rate_rows(
        R.breakdowns,
        "gender",
        lambda g: t(*GENDER_LABELS.get(str(g), (str(g), str(g)))),
        t,
        mc,
        a=a,
    )
    cols = [
        t("组别", "Group"),
        t("学生数", "Students"),
        t("可评估", "Evaluable"),
        t("显著进步比例", "Rate"),
        t("95%置信区间", "95% CI"),
    ]
    b.append(
        Table(
            _frame(grade_rows + sex_rows, cols),
            t("各年级、性别的显著进步比例", "Progress rate by grade and gender"),
            "by_grade",
        )
    )
    from .progress import plot_dimensions_improved, plot_rate_by_group, plot_rate_by_year

    _fig(
        b,
        t,
        "progress_by_grade",
        t("各年级显著进步比例（95%置信区间）", "Progress rate by grade (95% CI)"),
        lambda: plot_rate_by_group(
            R.breakdowns, by="grade", target=R.target, lang=t.lang, min_cell=mc
        ),
        13,
    )
    _fig(
        b,
        t,
        "dimensions_improved",
        t("学生显著进步的维度数", "Number of dimensions in which students improved"),
        lambda: plot_dimensions_improved(
            R.per_student, min_cell=mc, lang=t.lang, texts=_dims_texts(a)
        ),
        13,
    )
    if len(R.trend) > 1:
        _fig(
            b,
            t,
            "progress_by_year",
            t("历年显著进步比例（95%置信区间）", "Progress rate by year (95% CI)"),
            lambda: plot_rate_by_year(R.trend, target=R.target, lang=t.lang),
            13,
        )
    cr = R.context.get("comparison_rates")
    if cr is not None and len(cr):
        b.append(Heading(t("与未受导学生的比较", "Mentees against non-mentees")))
        rows = []
        for r in cr.itertuples(index=False):
            sup = bool(getattr(r, "suppressed", False))
            rows.append(
                [
                    _ct(a, "cmp.n1", r.n1),
                    "—" if sup else _pct(r.p1),
                    _ct(a, "cmp.n2", r.n2),
                    "—" if sup else _pct(r.p2),
                    "—" if sup else f"{_pts(r.difference)}",
                    "—" if sup else f"{_pts(r.ci_low)}, {_pts(r.ci_high)}",
                ]
            )
        cols = [
            t("受导学生数", "Mentees"),
            t("受导学生比例", "Mentee rate"),
            t("未受导学生数", "Non-mentees"),
            t("未受导学生比例", "Non-mentee rate"),
            t("差（百分点）", "Difference (points)"),
            t("95%置信区间", "95% CI"),
        ]
        b.append(
            Table(
                _frame(rows, cols),
                t("受导与未受导学生的显著进步比例", "Progress of mentees and non-mentees"),
                "comparison",
                t(
                    "Newcombe区间。受导学生经推荐产生，差异包含向均值回归。",
                    "Newcombe interval. Mentees were nominated: the difference includes regression to the mean.",
                ),
            )
        )
    b.append(
        Todo(
            t(
                "结合各年级、各维度的结果，说明本学年进步情况的特点及可能原因。",
                "What characterises this year's progress across grades and dimensions, and why.",
            )
        )
    )
    return Section("progress", t("学生发展：显著进步情况", "Student progress"), b)


def _sec_focus(a: YearAnalyses, t: _L) -> Section:
    from .plots import plot_intervals

    R, mc = a.progress, a.min_cell
    bd = R.breakdowns
    fg = bd.loc[bd["by"] == "focus_group"]
    other = fg.loc[(fg["group"] == "none") & ~fg["suppressed"].astype(bool)]
    ref = None
    if len(other) and not _nan(other["n_evaluable"].iloc[0]):
        o = other.iloc[0]
        if R.rule == "evaluable_only":
            ref = (int(o["n_progressing"]), int(o["n_evaluable"]))
    order = {g: i for i, g in enumerate(FOCUS_LABELS)}
    bd_sorted = pd.concat(
        [
            bd.loc[bd["by"] != "focus_group"],
            fg.assign(_o=fg["group"].map(order)).sort_values("_o").drop(columns="_o"),
        ]
    )
    rows, plot = _group_rate_rows(
        bd_sorted, "focus_group", lambda g: t(*FOCUS_LABELS.get(g, (g, g))), t, mc, ref, a=a
    )
    cols = [
        t("学生群体", "Group"),
        t("学生数", "Students"),
        t("可评估", "Evaluable"),
        t("显著进步比例", "Rate"),
        t("95%置信区间", "95% CI"),
    ]
    if ref is not None:
        cols.append(
            t(
                "与其他学生之差（百分点，95%区间）",
                "Difference from other students (points, 95% CI)",
            )
        )
    b: list = [
        Para(
            t(
                "实施方案要求重点关注转学生、单亲家庭学生和留守儿童"
                + ("（初中另含重组家庭学生）" if a.processed.level == "middle" else "")
                + "。各群体人数较少，区间较宽；一名学生可同时属于多个群体。",
                "The plan asks for extra attention to transfer students, children of single-parent "
                "families and left-behind children"
                + (
                    " (middle school: also reconstituted families)"
                    if a.processed.level == "middle"
                    else ""
                )
                + ". The groups are small, so the intervals are wide; a student can belong to "
                "several groups.",
            )
        ),
        Table(
            _frame(rows, cols),
            t("重点关注学生的显著进步比例", "Progress of the focus groups"),
            "focus",
            t(
                f"“<{mc}”：人数少于{mc}人，不报告；“—”：为防止推算而不报告。差值为Newcombe区间。",
                f"'<{mc}': fewer than {mc} students, not reported; '—': withheld so that it cannot "
                "be worked out. Differences with Newcombe intervals.",
            ),
        ),
    ]
    if plot:
        labels, est, lo, hi, sup = zip(*plot, strict=True)
        _fig(
            b,
            t,
            "focus_groups",
            t("重点关注学生的显著进步比例（95%置信区间）", "Progress of the focus groups (95% CI)"),
            lambda: plot_intervals(
                labels,
                est,
                lo,
                hi,
                suppressed=sup,
                min_cell=mc,
                target=R.target,
                xlabel=t("显著进步学生比例", "share progressing"),
                lang=t.lang,
            ),
            13,
        )
    b.append(
        Todo(
            t(
                "重点关注学生的个别跟进情况（谈心、家访、转介与跟踪）由导师和年级组补充；请勿写入学生姓名。",
                "How the focus students were followed up (talks, home visits, referrals), from the "
                "mentors and grade teams; do not name students.",
            )
        )
    )
    return Section("focus", t("重点关注学生", "Focus groups"), b)


def _caterpillar_public(effects: pd.DataFrame, t: _L, mc: int):
    from .effectiveness import plot_caterpillar

    e = effects.loc[effects["n"] >= mc]
    if e.empty:
        raise InputError(t(f"没有受导学生达到{mc}人的导师", f"no mentor has {mc} or more mentees"))
    return plot_caterpillar(e, lang=t.lang, show_ids=False, title=_caterpillar_title(e, t, mc))


def _caterpillar_title(e: pd.DataFrame, t: _L, mc: int) -> str:
    up = int((e["ci_low"] > 0).sum())
    down = int((e["ci_high"] < 0).sum())
    return t(
        f"受导学生不少于{mc}人的{len(e)}名导师：高于平均{up}人，低于平均{down}人，"
        f"无法区分{len(e) - up - down}人",
        f"{len(e)} mentors with {mc}+ mentees: {up} above, {down} below average, "
        f"{len(e) - up - down} indistinguishable",
    )


def _sec_mentors(a: YearAnalyses, t: _L, public: bool) -> Section:
    M, mc, level = a.mentors, a.min_cell, a.processed.level
    title = t("导师育人成效", "Mentor effectiveness")
    if M is None:
        why = "; ".join(a.notes) or "-"
        return Section(
            "mentors",
            title,
            [
                Para(
                    t(
                        f"本学年未能估计导师效应（{why}）。",
                        f"Mentor effects were not estimated ({why}).",
                    )
                ),
                Todo(t("说明原因。", "Explain why.")),
            ],
        )
    es = M.effects_summary().set_index("outcome")
    rows = []
    for r in M.models.itertuples(index=False):
        e = es.loc[r.outcome] if r.outcome in es.index else None
        rows.append(
            [
                _dim_label(level, r.outcome, t),
                _int(r.n_students),
                _int(r.n_mentors),
                _pct(r.icc),
                _p(r.lrt_p),
                "—"
                if e is None
                else f"{int(e['n_above'])} / {int(e['n_below'])} / {int(e['n_indistinguishable'])}",
            ]
        )
    cols = [
        t("结果", "Outcome"),
        t("学生数", "Students"),
        t("导师数", "Mentors"),
        t("导师间差异占比（ICC）", "Share of variance between mentors (ICC)"),
        t("似然比检验 p", "LRT p"),
        t("高于 / 低于 / 无法区分", "Above / below / indistinguishable"),
    ]
    b: list = [
        Para(
            t(
                "导师效应以线性混合模型估计（后测 ~ 前测 + 年级 + 性别 + 重点群体 + 导师随机截距），"
                "再经经验贝叶斯收缩：受导学生少的导师，其估计向平均值收缩得更多。"
                "“高于/低于平均”指95%区间不含0。",
                "Mentor effects come from a linear mixed model (post ~ pre + grade + gender + "
                "focus groups + a random mentor intercept) with empirical-Bayes shrinkage: the "
                "fewer mentees, the more an estimate is pulled to the average. 'Above/below "
                "average' means the 95% interval excludes 0.",
            )
        ),
        Table(
            _frame(rows, cols),
            t("导师效应模型（按发展维度）", "Mentor-effect models by outcome"),
            "mentor_models",
        ),
    ]
    if "composite" in es.index:
        e = es.loc["composite"]
        b.append(
            Para(
                t(
                    f"综合结果上，导师效应95%区间的中位宽度为{e['median_ci_width']:.2f}分，排名区间的中位跨度为{e['median_rank_interval']:.0f}位；"
                    f"能以90%以上把握确定处于前25%的导师{int(e['n_surely_top'])}名，处于后25%的{int(e['n_surely_bottom'])}名。"
                    "因此不宜依据单一学年的结果对导师排名或奖惩。",
                    f"On the composite the median width of a mentor's 95% interval is "
                    f"{e['median_ci_width']:.2f} points and the median rank interval spans "
                    f"{e['median_rank_interval']:.0f} places; {int(e['n_surely_top'])} mentors are "
                    f"in the top quarter and {int(e['n_surely_bottom'])} in the bottom quarter with "
                    "90% certainty. One year's results should not rank or reward mentors.",
                )
            )
        )
        comp = M.effects.loc[M.effects["outcome"] == "composite"]
        _fig(
            b,
            t,
            "mentor_effects",
            t(
                f"导师效应及95%区间（综合结果；仅含受导学生不少于{mc}人的导师）",
                f"Mentor effects with 95% intervals (composite; mentors with {mc}+ mentees)",
            )
            if public
            else t(
                "导师效应及95%区间（综合结果）", "Mentor effects with 95% intervals (composite)"
            ),
            (lambda: _caterpillar_public(comp, t, mc))
            if public
            else (lambda: _caterpillar_internal(comp, t, mc)),
            14,
        )
    if len(M.audit):
        au = M.audit.iloc[0]
        b += [
            Heading(t("学校现行考核方案的核查", "The school's own scoring scheme")),
            Para(
                t(
                    f"学校按正态分数合成满意度、成绩进步与奖惩积分的考核办法，与上述收缩估计的秩相关为{au['spearman']:.2f}；"
                    f"{int(au['n_mentors'])}名导师中有{int(au['n_band_changed'])}名（{au['share_band_changed']:.0%}）换用收缩估计后等级改变，"
                    f"原方案评为最高等级的{int(au['n_naive_top'])}名导师中，{int(au['n_naive_top_not_credible'])}名的优势在统计上并不可信。",
                    f"The school's normal-score scheme (satisfaction, exam progress, reward points) "
                    f"agrees with the shrunken estimates with a Spearman correlation of "
                    f"{au['spearman']:.2f}; {int(au['n_band_changed'])} of {int(au['n_mentors'])} "
                    f"mentors ({au['share_band_changed']:.0%}) change band, and of the "
                    f"{int(au['n_naive_top'])} mentors the scheme puts in the top band "
                    f"{int(au['n_naive_top_not_credible'])} are not credibly above average.",
                )
            ),
        ]
    if len(M.placebo):
        pl = M.placebo.iloc[0]
        b.append(
            Para(
                t(
                    f"安慰剂检验（身高不应受导师影响）：导师间差异 ICC = {pl['icc']:.3f}，p = {_p(pl['lrt_p'])}"
                    + (
                        "，出现异常，提示模型或分组存在问题。"
                        if bool(pl["flagged"])
                        else "，未见异常。"
                    ),
                    f"Placebo check (a mentor cannot change height): ICC = {pl['icc']:.3f}, "
                    f"p = {_p(pl['lrt_p'])}"
                    + (
                        ": FLAGGED, check the model or the grouping."
                        if bool(pl["flagged"])
                        else ": no sign of a problem."
                    ),
                ),
                "note",
            )
        )
    tabs = M.tables(public=True, min_cell=mc)
    dose = tabs.get("dose")
    if dose is not None and len(dose):
        from .effectiveness import EXPOSURE_LABELS

        b.append(Heading(t("谈心与家校联系频次", "Frequency of talks and parent contact")))
        rows = [
            [
                t(*EXPOSURE_LABELS.get(r.term, (r.term, r.term))),
                _num(getattr(r, "ratio", np.nan)),
                _numci(getattr(r, "ratio_low", np.nan), getattr(r, "ratio_high", np.nan)),
                _p(r.p),
            ]
            for r in dose.itertuples(index=False)
        ]
        cols = [
            t("频次（每月每生）", "Frequency (per student per month)"),
            t("比值比（每多1次）", "Odds ratio (per one more)"),
            t("95%置信区间", "95% CI"),
            "p",
        ]
        b += [
            Table(
                _frame(rows, cols),
                t(
                    "频次与“至少一个维度显著进步”的关联（GEE）",
                    "Frequency and significant progress (GEE)",
                ),
                "dose",
            ),
            Para(M.dose_warning["zh" if t.zh else "en"], "note"),
        ]
        obs = tabs["dose_observed"]
        curve = tabs["dose_curve"]
        if len(curve):
            from .effectiveness import DoseResponse, plot_dose_response

            d = DoseResponse(
                outcome="improved_any",
                method=M.dose_method,
                table=dose,
                curve=curve,
                observed=obs,
                n_students=0,
                n_mentors=0,
            )
            _fig(
                b,
                t,
                "dose_response",
                t("频次与显著进步比例", "Frequency and the share progressing"),
                lambda: plot_dose_response(d, lang=t.lang),
                15,
            )
    if not public:
        b += _mentor_internal(a, t)
    b.append(
        Todo(
            t(
                "结合导师工作记录与年级组意见，说明导师队伍建设的情况与下一步培训重点。",
                "What the records and the grade teams say about the mentor team, and next year's "
                "training priorities.",
            )
        )
    )
    return Section("mentors", title, b)


def _caterpillar_internal(effects: pd.DataFrame, t: _L, mc: int):
    from .effectiveness import plot_caterpillar

    e = effects.loc[effects["n"] >= mc]
    if e.empty:
        raise InputError(t(f"没有受导学生达到{mc}人的导师", f"no mentor has {mc} or more mentees"))
    id_col = (
        "mentor_name"
        if "mentor_name" in e.columns and e["mentor_name"].notna().all()
        else "mentor_id"
    )
    return plot_caterpillar(
        e, lang=t.lang, show_ids=True, id_col=id_col, title=_caterpillar_title(e, t, mc)
    )


def _mentor_internal(a: YearAnalyses, t: _L) -> list:
    """Internal only: each mentor by name, with the effect, its interval and ranking chances."""
    M, mc = a.mentors, a.min_cell
    e = M.effects.loc[M.effects["outcome"] == "composite"]
    # suppressed mentors go last (by ID): their place in the ranking would reveal the effect
    e = e.assign(_small=e["n"] < mc).sort_values(
        ["_small", "effect", "mentor_id"], ascending=[True, False, True], kind="stable"
    )
    verdict = {
        "above": t("高于平均", "above"),
        "below": t("低于平均", "below"),
        "indistinguishable": t("无法区分", "indistinguishable"),
    }
    rows = []
    for r in e.itertuples(index=False):
        small = r.n < mc
        name = getattr(r, "mentor_name", None)
        rows.append(
            [
                "" if _nan(name) else str(name),
                str(r.mentor_id),
                _count(r.n, mc),
                f"<{mc}" if small else f"{r.effect:+.3f}",
                "—" if small else f"{r.ci_low:+.3f}, {r.ci_high:+.3f}",
                "—" if small else verdict.get(r.verdict, r.verdict),
                "—" if small else _pct(r.p_top, 0),
                "—" if small else _pct(r.p_bottom, 0),
            ]
        )
    cols = [
        t("导师", "Mentor"),
        t("工号", "Staff ID"),
        t("受导学生", "Mentees"),
        t("效应", "Effect"),
        t("95%区间", "95% interval"),
        t("判断", "Verdict"),
        t("前25%概率", "P(top 25%)"),
        t("后25%概率", "P(bottom 25%)"),
    ]
    out = [
        Heading(t("逐位导师的结果（内部）", "Each mentor (internal)")),
        Para(
            t(
                "下表仅供内部研讨导师培训与支持之用，不宜单独作为考核或奖惩依据：多数导师的区间相互重叠。",
                "For internal discussion of training and support only, not for appraisal on its "
                "own: most mentors' intervals overlap.",
            ),
            "note",
        ),
        Table(
            _frame(rows, cols),
            t(
                "各导师的综合效应（按效应从高到低）",
                "Composite effect of each mentor (highest first)",
            ),
            "mentor_effects_internal",
        ),
    ]
    if len(M.comparison):
        from .effectiveness import plot_naive_vs_shrunk

        c = (
            M.comparison.loc[M.comparison["n_mentees"] >= mc]
            if "n_mentees" in M.comparison
            else M.comparison
        )
        if len(c) > 2:
            _fig(
                out,
                t,
                "scheme_vs_shrunk",
                t(
                    "学校考核方案得分与收缩估计",
                    "The school's scheme score against the shrunken effect",
                ),
                lambda: plot_naive_vs_shrunk(c, lang=t.lang),
                12,
            )
    return out


def _month_text(m: str, t: _L) -> str:
    return t(f"{m[:4]}年{int(m[5:])}月", m)


def _indicator_grid(
    frame: pd.DataFrame, key: str, keys, key_text, inds, min_cell: int
) -> list[list]:
    """Rows of a key (month, grade) x indicator table of shares, suppressed cells as "<min_cell"."""
    rows = []
    for k in keys:
        row = [key_text(k)]
        for ind in inds:
            c = frame.loc[(frame[key] == k) & (frame["indicator"] == ind)]
            if not len(c):
                row.append("—")
            elif bool(c["suppressed"].iloc[0]):
                row.append(f"<{min_cell}")
            else:
                row.append(_pct(c["value"].iloc[0]))
        rows.append(row)
    return rows


def _sec_compliance(a: YearAnalyses, t: _L, public: bool) -> Section:
    from .plots import plot_lines

    C, mc = a.compliance, a.min_cell
    title = t("过程落实情况", "Process compliance")
    if C is None:
        return Section(
            "compliance",
            title,
            [Para(t("本学年无过程记录，未能评估。", "No process records this year."))],
        )
    lab = "label_zh" if t.zh else "label_en"
    rows = []
    for _, r in C.indicators.iterrows():
        small = not _nan(r["n"]) and r["n"] < mc
        rows.append(
            [
                r[lab],
                f"<{mc}" if small else _pct(r["value"]),
                t(r["target_zh"], r["target_en"]),
                "—" if small else _passed_text(r["passed"], t),
                _count(r["n"], mc),
            ]
        )
    cols = [
        t("指标", "Indicator"),
        t("数值", "Value"),
        t("要求", "Rule"),
        t("是否达标", "Met?"),
        t("计数基数 n", "Base n"),
    ]
    b: list = [
        Para(
            t(
                "过程指标以实施方案的要求为目标（如每位学生每月至少一次谈心、每月至少一次三方沟通），"
                "数值为达到要求的学生·月（或导师·月、导师·学期）所占比例；要求为100%时，"
                "只有每个计数单位都做到才算达标。",
                "Each process indicator is the share of student-months (or mentor-months, "
                "mentor-terms) that met the plan's rule (e.g. at least one talk with each student "
                "a month); with a 100% target the rule must hold in every unit counted.",
            )
        ),
        Table(
            _frame(rows, cols),
            t("过程指标与要求", "Process indicators against the rules"),
            "compliance",
        ),
    ]
    bm = C.by_month
    if len(bm):
        inds = list(dict.fromkeys(bm["indicator"]))
        names = C.indicators.set_index("indicator")[lab].to_dict()
        months = sorted(bm["month"].unique())
        rows = _indicator_grid(bm, "month", months, lambda m: _month_text(m, t), inds, mc)
        cols = [t("月份", "Month"), *[names.get(i, i) for i in inds]]
        b += [
            Heading(t("分月情况", "By month")),
            Table(
                _frame(rows, cols),
                t("各月过程指标", "Process indicators by month"),
                "compliance_month",
            ),
        ]
        plot_df = bm.loc[~bm["suppressed"].astype(bool)].assign(
            name=lambda d: d["indicator"].map(names), label=lambda d: d["month"]
        )
        _fig(
            b,
            t,
            "compliance_by_month",
            t("各月过程指标达标比例", "Process indicators by month"),
            lambda: plot_lines(
                plot_df,
                x="month",
                y="value",
                group="name",
                target=1.0,
                ylabel=t("达到要求的比例", "share meeting the rule"),
                lang=t.lang,
                xticklabels={m: t(f"{int(m[5:])}月", m[2:]) for m in months},
            ),
            14,
        )
    bg = C.by_grade
    if len(bg):
        inds = list(dict.fromkeys(bg["indicator"]))
        names = C.indicators.set_index("indicator")[lab].to_dict()
        grades = sorted(pd.to_numeric(bg["grade"]).unique())
        rows = _indicator_grid(
            bg.assign(grade=pd.to_numeric(bg["grade"])),
            "grade",
            grades,
            lambda g: t(f"{g}年级", f"grade {g}"),
            inds,
            mc,
        )
        cols = [t("年级", "Grade"), *[names.get(i, i) for i in inds]]
        b += [
            Heading(t("分年级情况", "By grade")),
            Table(
                _frame(rows, cols),
                t("各年级过程指标", "Process indicators by grade"),
                "compliance_grade",
            ),
        ]
    if len(C.by_mentor) and (C.by_mentor["indicator"] == "talk").any():
        _fig(
            b,
            t,
            "talk_heatmap",
            t("各导师每月谈心达标情况", "Talks: each mentor by month"),
            # always the public grid: a named row of a small group would describe its students
            lambda: C.heatmap(lang=t.lang, indicator="talk", public=True),
            14,
        )
        if not public:
            b += _compliance_internal(a, t)
    b.append(
        Todo(
            t(
                "对未达标的过程指标说明原因（如记录遗漏或工作未落实），并提出改进措施。",
                "For each rule not met: was the work not done or not recorded? What will change?",
            )
        )
    )
    return Section("compliance", title, b)


def _compliance_internal(a: YearAnalyses, t: _L) -> list:
    """Internal only: the mentors with the lowest talk compliance, by name."""
    C, mc = a.compliance, a.min_cell
    bm = C.by_mentor
    names = {}
    st = a.processed["staff"] if "staff" in a.processed else None
    if st is not None and "name" in st.columns:
        s = st.loc[st["year"] == a.year]
        names = dict(zip(s["staff_id"].astype(str), s["name"].astype(str), strict=True))
    per = []
    for (mid, ind), g in bm.groupby(["mentor_id", "indicator"], sort=True):
        if ind not in ("talk", "three_party"):
            continue
        n = g["n"].to_numpy(dtype=float)
        per.append((str(mid), ind, float((g["value"] * g["n"]).sum() / n.sum()), int(n.max())))
    if not per:
        return []
    df = pd.DataFrame(per, columns=["mentor_id", "indicator", "value", "n"])
    wide = df.pivot(index="mentor_id", columns="indicator", values="value")
    size = df.groupby("mentor_id")["n"].max()
    # mentors with too few mentees are not ranked (their place would reveal the value)
    wide = wide.assign(n=size).loc[lambda d: d["n"] >= mc]
    wide = wide.sort_values(["talk", "n"], kind="stable").head(15)
    rows = []
    for mid, r in wide.iterrows():
        small = r["n"] < mc
        rows.append(
            [
                names.get(mid, ""),
                mid,
                _count(r["n"], mc),
                f"<{mc}" if small else _pct(r.get("talk")),
                f"<{mc}" if small else _pct(r.get("three_party", np.nan)),
            ]
        )
    cols = [
        t("导师", "Mentor"),
        t("工号", "Staff ID"),
        t("受导学生", "Mentees"),
        t("谈心达标率", "Talks met"),
        t("三方沟通达标率", "Three-party met"),
    ]
    return [
        Heading(t("谈心达标率最低的导师（内部）", "Mentors with the fewest talks (internal)")),
        Table(
            _frame(rows, cols),
            t("谈心达标率最低的15名导师", "The 15 mentors with the lowest talk compliance"),
            "compliance_mentors_internal",
        ),
    ]


def _sec_satisfaction(a: YearAnalyses, t: _L) -> Section:
    from .plots import plot_counts

    mc = a.min_cell
    b: list = []
    sat = a.satisfaction
    if len(sat):
        rows = []
        for r in sat.itertuples(index=False):
            rows.append(
                [
                    t("全学年", "whole year")
                    if r.term == 0
                    else t(f"第{r.term}学期", f"term {r.term}"),
                    _ct(a, f"sat.{r.term}.n", r.n),
                    _num(r.mean),
                    _numci(r.ci_low, r.ci_high),
                    _ct(a, f"sat.{r.term}.n_want", r.n_want),
                    _pct(r.want),
                    _ci(r.want_low, r.want_high),
                ]
            )
        cols = [
            t("调查", "Survey"),
            t("回答人数", "Responses"),
            t("平均满意度", "Mean satisfaction"),
            t("95%置信区间", "95% CI"),
            t("希望更换导师", "Want to change"),
            t("比例", "Share"),
            t("95%置信区间", "95% CI"),
        ]
        b += [
            Para(
                t(
                    "每学期末学生填写师生满意度调查（5个题目，1–5分），并回答是否希望更换导师及理由。"
                    "全学年一行合并两个学期的全部回答。",
                    "At the end of each term students rate their mentor (5 items, 1-5) and say "
                    "whether they want to change mentor and why. The whole-year row pools both terms.",
                )
            ),
            Table(
                _frame(rows, cols),
                t("学生满意度与更换导师意愿", "Satisfaction and wish to change mentor"),
                "satisfaction",
            ),
        ]
    if len(a.reasons):
        labels = [t(*REASON_LABELS.get(r, (r, r))) for r in a.reasons["reason"]]
        texts = [
            _ct(a, f"reasons.{r}", n)
            for r, n in zip(a.reasons["reason"], a.reasons["n"], strict=True)
        ]
        rows = [[lab, x] for lab, x in zip(labels, texts, strict=True)]
        b.append(
            Table(
                _frame(rows, [t("理由", "Reason"), t("人次", "Responses")]),
                t("希望更换导师的理由", "Reasons for wanting to change mentor"),
                "change_reasons",
            )
        )
        counts = a.reasons["n"].tolist()
        _fig(
            b,
            t,
            "change_reasons",
            t("希望更换导师的理由（人次）", "Reasons for wanting to change mentor (responses)"),
            lambda: plot_counts(
                labels,
                counts,
                min_cell=mc,
                xlabel=t("人次", "responses"),
                lang=t.lang,
                texts=texts,
            ),
            12,
        )
    rg = a.regroup
    if rg:
        share = None
        if a.compliance is not None:
            ind = a.compliance.indicators.set_index("indicator")
            if "regroup_share" in ind.index:
                share = ind.loc["regroup_share"]
        b.append(Heading(t("分组调整", "Regrouping")))
        txt = t(
            f"本学年有导师的学生{_ct(a, 'regroup.n_students', rg['n_students'])}名，"
            f"学年初调整{_ct(a, 'regroup.start', rg['n_start'])}名，"
            f"第二学期更换导师{_ct(a, 'regroup.term2', rg['n_term2'])}名",
            f"{_ct(a, 'regroup.n_students', rg['n_students'])} students had a mentor; "
            f"{_ct(a, 'regroup.start', rg['n_start'])} were regrouped at the start of the year "
            f"and {_ct(a, 'regroup.term2', rg['n_term2'])} changed mentor in term 2",
        )
        if share is not None and not _nan(share["value"]):
            txt += t(
                f"；单次调整的最大比例为{_pct(share['value'])}，{'符合' if bool(share['passed']) else '超出'}“不超过15%”的规定。",
                f"; the largest share in one adjustment was {_pct(share['value'])}, "
                f"{'within' if bool(share['passed']) else 'above'} the 15% limit.",
            )
        else:
            txt += t("。", ".")
        b.append(Para(txt))
        if len(a.regroup_reasons):
            rows = [
                [t(*REASON_LABELS.get(r, (r, r))), _ct(a, f"regroup.reason.{r}", n)]
                for r, n in zip(a.regroup_reasons["reason"], a.regroup_reasons["n"], strict=True)
            ]
            b.append(
                Table(
                    _frame(rows, [t("记录的调整原因", "Recorded reason"), t("人数", "Students")]),
                    t("更换导师的原因", "Reasons for the changes of mentor"),
                    "regroup_reasons",
                )
            )
    if not b:
        b.append(
            Para(
                t(
                    "本学年无满意度调查或分组记录。",
                    "No satisfaction survey or grouping records this year.",
                )
            )
        )
    b.append(
        Todo(
            t(
                "结合满意度调查与调整情况，评价分组的合理性及学生、家长的反馈。",
                "How well the grouping worked, in the light of the survey, the changes and what "
                "students and parents said.",
            )
        )
    )
    return Section("satisfaction", t("满意度与分组调整", "Satisfaction and regrouping"), b)


_SOURCE_LABELS = {
    "roster": ("学生名册（人）", "student roster (students)"),
    "assessment_pre": ("发展评估·前测（人）", "assessment, pre (students)"),
    "assessment_post": ("发展评估·后测（人）", "assessment, post (students)"),
    "satisfaction_1": ("满意度调查·第1学期（人）", "satisfaction survey, term 1 (students)"),
    "satisfaction_2": ("满意度调查·第2学期（人）", "satisfaction survey, term 2 (students)"),
    "needs": ("成长需求问卷（人）", "growth-needs questionnaire (students)"),
    "activities": ("导师工作记录（条）", "mentor activity records (rows)"),
}


def _sec_quality(a: YearAnalyses, t: _L, public: bool) -> Section:
    from .quality import KIND_ZH

    mc = a.min_cell
    rows = [
        [t(*_SOURCE_LABELS.get(s, (s, s))), _ct(a, f"coverage.{s}", n)]
        for s, n in zip(a.coverage["source"], a.coverage["n"], strict=True)
    ]
    s = a.progress.summary()
    n_all, n_not = (
        _ct(a, "n_students", s["n_students"]),
        _ct(a, "n_not_evaluable", s["n_not_evaluable"]),
    )
    share = (
        f"{s['n_not_evaluable'] / max(s['n_students'], 1):.1%}"
        if s["n_not_evaluable"] is not None
        and s["n_students"] is not None
        and s["n_evaluable"] is not None
        and min(s["n_not_evaluable"], s["n_evaluable"]) >= mc
        else "—"
    )
    b: list = [
        Para(
            t(
                f"本学年名册上的评估对象{n_all}名，其中{n_not}名缺少前测或后测"
                f"（{share}）。缺测学生在主口径中不计入分母，"
                "在“缺测计为未进步”的口径中计为未进步，两种结果均已报告。",
                f"{n_all} students were to be assessed; {n_not} "
                f"({share}) lack a pre or post test. "
                "The headline leaves them out of the denominator; the second rule counts them as "
                "not progressing; both are reported.",
            )
        ),
        Table(
            _frame(rows, [t("数据来源", "Source"), t("数量", "Count")]),
            t("本学年的数据覆盖", "Data available this year"),
            "coverage",
        ),
    ]
    cl = a.cleaning
    if cl is not None and len(cl):
        rows = [
            [
                t(KIND_ZH.get(r.kind, r.kind), r.kind),
                _count(r.rows_in, mc),
                _count(r.kept, mc),
                _count(r.merged, mc),
                _count(r.quarantined, mc),
            ]
            for r in cl.itertuples(index=False)
        ]
        cols = [
            t("来源类型", "Source kind"),
            t("原始行数", "Rows in"),
            t("保留", "Kept"),
            t("合并（重复提交）", "Merged (duplicates)"),
            t("隔离（无法使用）", "Quarantined"),
        ]
        b += [
            Para(
                t(
                    "数据清洗（全部学年）：每一行原始数据或被保留，或作为重复提交合并，或因无法使用而隔离并记录原因。",
                    "Cleaning (all years): every raw row was kept, merged as a duplicate, or "
                    "quarantined with a reason.",
                )
            ),
            Table(_frame(rows, cols), t("数据清洗概况", "Cleaning overview"), "cleaning"),
        ]
    notes = list(a.notes) + list(a.progress.notes)
    if a.mentors is not None:
        notes += list(a.mentors.notes)
    if notes and not public:
        b.append(Heading(t("分析过程中的技术说明（内部）", "Technical notes (internal)")))
        b += [Para(n, "bullet") for n in notes]
    b.append(
        Todo(
            t(
                "说明数据收集中的问题（如漏测、记录不全）及下一学年的改进。",
                "Problems in collecting the data (missed tests, incomplete records) and how to fix them.",
            )
        )
    )
    return Section("quality", t("数据质量说明", "Data quality"), b)


def _sec_judgement(t: _L, kind: str) -> Section:
    if kind == "annual_summary":
        items = [
            ("主要成绩与经验", "Main achievements and what worked"),
            ("存在的问题及原因分析", "Problems and their causes"),
            (
                "下一学年的改进措施（分组、培训、过程管理、家校协同）",
                "Next year's measures (grouping, training, process, home-school work)",
            ),
            ("提请学校领导小组审议的事项", "Matters for the school leading group"),
        ]
    else:
        items = [
            ("三年试点的总体结论", "Overall conclusion of the three-year pilot"),
            (
                "可复制、可推广的做法（形成的模式）",
                "What can be replicated (the model that emerged)",
            ),
            ("需要修订的制度与指标", "Rules and indicators to revise"),
            ("下一阶段的工作建议", "Recommendations for the next phase"),
        ]
    b = [
        Para(
            t(
                "本部分由研究者根据以上证据撰写，系统不作自动判断。",
                "This part is written by the researcher from the evidence above; the workbench "
                "makes no judgement here.",
            )
        )
    ]
    b += [Todo(t(zh, en)) for zh, en in items]
    return Section("judgement", t("研究者意见与建议", "The researcher's assessment"), b)


REFERENCES: tuple[str, ...] = (
    "Armitage, P. (1955). Tests for linear trends in proportions and frequencies. Biometrics, 11(3), 375-386.",
    "Barnett, A. G., van der Pols, J. C., & Dobson, A. J. (2005). Regression to the mean: what it is and how to deal with it. International Journal of Epidemiology, 34(1), 215-220.",
    "Chetty, R., Friedman, J. N., & Rockoff, J. E. (2014). Measuring the impacts of teachers I: Evaluating bias in teacher value-added estimates. American Economic Review, 104(9), 2593-2632.",
    "Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests. Psychometrika, 16(3), 297-334.",
    "Efron, B., & Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.",
    "Gale, D., & Shapley, L. S. (1962). College admissions and the stability of marriage. American Mathematical Monthly, 69(1), 9-15.",
    "Hundepool, A., et al. (2012). Statistical Disclosure Control. Wiley.",
    "Jacobson, N. S., & Truax, P. (1991). Clinical significance: a statistical approach to defining meaningful change in psychotherapy research. Journal of Consulting and Clinical Psychology, 59(1), 12-19.",
    "Liang, K.-Y., & Zeger, S. L. (1986). Longitudinal data analysis using generalized linear models. Biometrika, 73(1), 13-22.",
    "Little, R. J. A., & Rubin, D. B. (2002). Statistical Analysis with Missing Data (2nd ed.). Wiley.",
    "Newcombe, R. G. (1998). Two-sided confidence intervals for the single proportion: comparison of seven methods. Statistics in Medicine, 17, 857-872.",
    "Newcombe, R. G. (1998). Interval estimation for the difference between independent proportions: comparison of eleven methods. Statistics in Medicine, 17, 873-890.",
    "Raudenbush, S. W., & Bryk, A. S. (2002). Hierarchical Linear Models (2nd ed.). Sage.",
    "Self, S. G., & Liang, K.-Y. (1987). Asymptotic properties of maximum likelihood estimators and likelihood ratio tests under nonstandard conditions. Journal of the American Statistical Association, 82(398), 605-610.",
    "Shadish, W. R., Cook, T. D., & Campbell, D. T. (2002). Experimental and Quasi-Experimental Designs for Generalized Causal Inference. Houghton Mifflin.",
    "Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference. Journal of the American Statistical Association, 22(158), 209-212.",
)


def _methods_blocks(t: _L, *, review: bool, min_cell: int) -> list:
    b: list = [
        Heading(t("“显著进步”的判定", "Significant progress")),
        Para(
            t(
                "每个发展维度的得分为该维度各题（反向题先反向计分）的平均分；作答不足80%的题目时该维度记为缺失。"
                "采用可靠变化指数（RCI，Jacobson & Truax, 1991）：RCI = （后测 − 前测）/（√2 × 前测标准差 × √(1 − 信度)），"
                "信度取本学年前测的Cronbach α；RCI大于1.96判定为显著进步，小于−1.96为显著退步。"
                "一名学生在至少一个维度显著进步即计为“取得显著进步”（实施方案：“在1-2个发展维度取得显著进步”）。",
                "A dimension's score is the mean of its items (reverse-keyed items recoded), missing "
                "when fewer than 80% of the items are answered. Progress uses the reliable change "
                "index (RCI; Jacobson & Truax 1991): RCI = (post - pre) / (sqrt(2) x SD_pre x "
                "sqrt(1 - r)), with r the pre-test Cronbach alpha of the year; RCI > 1.96 is a "
                "significant improvement, < -1.96 a deterioration. A student progresses with a "
                "significant improvement in at least one dimension (the plan: 'in 1-2 "
                "development dimensions').",
            )
        ),
        Para(
            t(
                "比例的95%置信区间采用Wilson区间（Wilson, 1927；Newcombe, 1998）；对85%目标做单侧精确二项检验。"
                "判定分三档：置信下限高于85%为“达成”，点估计达到而下限未达为“仅点估计达成”，否则“未达成”。"
                "由于阈值（前测标准差与信度）本身由同一批学生估计，另报告重抽学生并重估阈值的自助法区间（Efron & Tibshirani, 1993）。",
                "Intervals are Wilson intervals (Wilson 1927; Newcombe 1998) with a one-sided exact "
                "binomial test against 85%. The verdict: 'met' when the lower bound exceeds 85%, "
                "'met by point estimate only' when only the estimate does, else 'not met'. Because "
                "the threshold (pre-test SD and alpha) is estimated from the same students, a "
                "bootstrap interval that resamples students and re-estimates it is also reported "
                "(Efron & Tibshirani 1993).",
            )
        ),
        Para(
            t(
                "缺失数据：缺少前测或后测的学生不被悄悄删除。主口径只计可评估学生（假设完全随机缺失），"
                "另一口径把缺测学生计为未进步；两者构成真实比例的大致范围（Little & Rubin, 2002）。",
                "Missing data: students without a pre or post test are never dropped silently. The "
                "headline counts evaluable students only (missing completely at random); the "
                "second rule counts the missing as not progressing; the two bracket the truth "
                "(Little & Rubin 2002).",
            )
        ),
        Heading(t("导师效应", "Mentor effects")),
        Para(
            t(
                "以线性混合模型（限制性极大似然）估计：后测 ~ 前测 + 学生协变量 + 导师随机截距；"
                "导师间差异的显著性用边界校正的似然比检验（Self & Liang, 1987）；各导师效应为经验贝叶斯收缩估计及其区间"
                "（Raudenbush & Bryk, 2002），并以模拟给出排名进入前后25%的概率。学校按正态分数计算的考核方案与之并列比较。",
                "A linear mixed model fitted by REML: post ~ pre + student covariates + a random "
                "mentor intercept; the mentor variance is tested with the boundary-corrected "
                "likelihood-ratio test (Self & Liang 1987); each mentor's effect is the "
                "empirical-Bayes (shrunken) estimate with its interval (Raudenbush & Bryk 2002), "
                "with simulated probabilities of being in the top or bottom quarter. The school's "
                "normal-score scheme is set beside it.",
            )
        ),
        Para(
            t(
                "谈心与家校联系频次与进步的关联用广义估计方程（GEE，按导师聚类；Liang & Zeger, 1986）估计，为相关关系而非因果效应。",
                "Talk and parent-contact frequencies are related to progress with generalised "
                "estimating equations (GEE, clustered by mentor; Liang & Zeger 1986): "
                "associations, not causal effects.",
            )
        ),
        Heading(t("过程指标", "Process indicators")),
        Para(
            t(
                "以实施方案的要求逐月核对导师工作记录：谈心、三方沟通按“学生·月”计，学科教师交流按“导师·月”计，"
                "团体辅导按“导师·学期”计，心情晴雨表按记录天数占上学天数计，分组调整取单次调整中更换导师的最大比例。"
                "记录缺失即视为未做到，因此数值同时反映工作落实与记录完整两方面。",
                "The activity records are checked month by month against the plan: talks and "
                "three-party communication per student-month, exchanges with subject teachers per "
                "mentor-month, group counselling per mentor-term, the mood chart as days recorded "
                "over school days, regrouping as the largest share changing mentor in one "
                "adjustment. A missing record counts as not done, so the values reflect both the "
                "work and the record keeping.",
            )
        ),
        Heading(t("隐私保护", "Privacy")),
        Para(
            t(
                f"报告不含任何学生姓名或学籍号；描述少于{min_cell}名学生的表格单元格与图形元素一律不报告（显示为“<{min_cell}”，"
                f"Hundepool et al., 2012），分子或其余人数少于{min_cell}人的比例也不报告（“—”）；"
                f"为防止由合计、其他行或其他表推算出被隐去的数字，另隐去部分不少于{min_cell}人的数字（“—”，"
                "补充隐藏），并以整数规划逐一核验每个隐去的数字都无法被推算；导师姓名只出现在内部版中。",
                f"The report carries no student name or ID; every table cell and figure element "
                f"describing fewer than {min_cell} students is suppressed ('<{min_cell}'; "
                f"Hundepool et al. 2012), as is every rate whose numerator or remainder is below "
                f"{min_cell} ('—'). So that no suppressed number can be worked out from totals, "
                f"other rows or other tables, some numbers of {min_cell} or more are hidden too "
                "('—', complementary suppression), and an integer programme checks that no hidden "
                "number can be solved for; mentor names appear only in the internal version.",
            )
        ),
    ]
    if review:
        b += [
            Heading(t("跟踪、稳定性与分组方案", "Cohorts, stability and grouping policies")),
            Para(
                t(
                    "同批学生跟踪：取三个学年都在评估名单上的学生，按首年年级分组，逐年报告显著进步比例及其Wilson区间。"
                    "年度趋势用Cochran-Armitage趋势检验（Armitage, 1955）；因各年学生大部分相同，检验的独立性假设不成立，仅供参考。",
                    "Cohort tracking: students on the assessed roster in every year, grouped by "
                    "their first-year grade, with the yearly rate and Wilson interval. The trend "
                    "test is Cochran-Armitage (Armitage 1955); the years share students, so its "
                    "independence assumption fails and it is indicative only.",
                )
            ),
            Para(
                t(
                    "导师效应的稳定性：同一导师相邻学年经验贝叶斯效应的相关（Fisher z区间），以及扣除测量噪声后的“真实效应”相关"
                    "（Chetty, Friedman & Rockoff, 2014 的漂移估计，导师自助法区间）。",
                    "Stability: the correlation of a mentor's empirical-Bayes effects across years "
                    "(Fisher z interval) and of the true effects net of noise (the drift estimator "
                    "of Chetty, Friedman & Rockoff 2014, mentor bootstrap interval).",
                )
            ),
            Para(
                t(
                    "分组方案比较：在最后一个学年的名单上运行各分组方案（现有分组、班主任默认、随机、学生提名的延迟接受算法即“双向选择”"
                    "（Gale & Shapley, 1962）、约束下的最优匹配、不超过15%的学期调整），按学校规则逐项检查，"
                    "并用由本校数据拟合的结果模型多次模拟，预测各方案下显著进步学生的比例及其区间。",
                    "Grouping policies: each policy (recorded, class-teacher default, random, "
                    "two-way selection as student-proposing deferred acceptance (Gale & Shapley "
                    "1962), the optimal fit under the constraints, a term regrouping capped at "
                    "15%) is run on the last year's roster, checked against the rules, and "
                    "simulated repeatedly with the outcome model fitted to the school's own data.",
                )
            ),
        ]
    b.append(Heading(t("参考文献", "References")))
    b += [Para(r, "bullet") for r in REFERENCES]
    return b


def _sec_methods(t: _L, *, review: bool, min_cell: int) -> Section:
    title = t("方法附录", "Methods appendix") if review else t("方法说明", "Methods")
    return Section("methods", title, _methods_blocks(t, review=review, min_cell=min_cell))


def annual_summary(
    processed,
    year: int,
    *,
    lang: str = "zh",
    public: bool = True,
    min_cell: int = MIN_CELL,
    seed: int = 0,
    analyses: YearAnalyses | None = None,
) -> Report:
    """Draft the annual summary (年度总结) of one school year.

    Parameters
    ----------
    processed : mentorlib.data.Processed
        The study.
    year : int
        The school year (2024 = 2024-2025 学年); it needs a post-wave assessment.
    lang : {"zh", "en"}, default "zh"
    public : bool, default True
        False drafts the internal version: mentors named, per-mentor tables, technical
        notes; its title says 内部版 / internal.
    min_cell : int, default 5
        Cells and figure elements describing fewer students are suppressed ("<5").
    seed : int, default 0
        Seeds the analyses (bootstrap, ranking simulation).
    analyses : YearAnalyses, optional
        Precomputed :func:`analyse_year` results (same year and min_cell), to draft several
        versions without recomputing.

    Returns
    -------
    Report
        Sections :data:`ANNUAL_SECTIONS`; ``kpis`` holds the KPI table as numbers.
    """
    t = _L(lang)
    a = (
        analyses
        if analyses is not None
        else analyse_year(processed, year, min_cell=min_cell, seed=seed)
    )
    if a.year != year or a.min_cell != min_cell:
        raise InputError("the analyses passed were computed for another year or min_cell")
    k = _kpis(a, t)
    title, subtitle, front = _title_page(
        processed, "annual_summary", (year,), public, a.synthetic, t
    )
    sections = [
        _sec_summary(a, t, k),
        _sec_kpi(a, t, k),
        _sec_progress(a, t),
        _sec_focus(a, t),
        _sec_mentors(a, t, public),
        _sec_compliance(a, t, public),
        _sec_satisfaction(a, t),
        _sec_quality(a, t, public),
        _sec_judgement(t, "annual_summary"),
        _sec_methods(t, review=False, min_cell=min_cell),
    ]
    return Report(
        kind="annual_summary",
        lang=lang,
        public=public,
        years=(year,),
        title=title,
        subtitle=subtitle,
        front=front,
        sections=sections,
        kpis=k,
        meta={
            "school": processed.school,
            "study": processed.name,
            "level": processed.level,
            "synthetic": a.synthetic,
            "min_cell": min_cell,
            "seed": seed,
        },
        disclosure=a.disclosure,
    )


# =========================================================================== pilot review

#: Sensitivity and specificity of "significant improvement in at least one dimension" against
#: the generator's truth, and interval coverage, from ``benchmarks/validate_progress.py``
#: (200 synthetic primary schools of 1,200 students; benchmarks/out/validate_progress.json).
VALIDATION: dict[str, float] = {
    "sensitivity_any": 0.3668,
    "specificity_any": 0.8675,
    "ppv_any": 0.8743,
    "true_rate_any": 0.7153,
    "measured_rate_any": 0.3001,
    "wilson_coverage": 0.70,
    "bootstrap_coverage": 0.905,
    "mid_wilson_coverage": 0.945,
}


@dataclass
class PilotAnalyses:
    """The analyses behind the pilot review (computed once by :func:`analyse_pilot`).

    Attributes
    ----------
    years : tuple of int
        The years with a verdict (a post-wave assessment).
    progress : dict
        Year -> :class:`~mentorlib.progress.ProgressReport`.
    compliance : DataFrame
        :func:`mentorlib.compliance.compliance_trend`.
    satisfaction : DataFrame
        year, n, mean, ci_low, ci_high, n_answer, n_want, want, want_low, want_high.
    stability : Stability or None
        :func:`mentorlib.effectiveness.mentor_stability` (composite).
    mentors : MentorReport or None
        The last year's mentor report (models, dose-response; no stability refit).
    comparison : PolicyComparison or None
        :func:`mentorlib.grouping.compare_policies` on the last year.
    cohort : DataFrame
        cohort (first-year grade, or "all"), year, n_students, n_evaluable, n_progressing,
        proportion, ci_low, ci_high, suppressed: the students assessed in every year.
    persistence : DataFrame
        years_progressed (0..number of years), n, share: among the cohort evaluable every year.
    staff : DataFrame
        year, n_mentors, n_backbone, n_certified, retained (mentors who also mentored in
        the first year).
    """

    processed: object
    years: tuple[int, ...]
    min_cell: int
    seed: int
    progress: dict
    compliance: pd.DataFrame
    satisfaction: pd.DataFrame
    stability: object | None
    mentors: object | None
    comparison: object | None
    cohort: pd.DataFrame
    persistence: pd.DataFrame
    staff: pd.DataFrame
    synthetic: bool = False
    notes: list[str] = field(default_factory=list)
    #: The review's student counts and rates with their relations, protected.
    disclosure: Document | None = None


def _cohort(progress: dict, students: pd.DataFrame, min_cell: int):
    from .progress import proportion_ci

    years = sorted(progress)
    k = progress[years[-1]].k
    per = {
        y: progress[y]
        .per_student.assign(student_id=lambda d: d["student_id"].astype(str))
        .set_index("student_id")
        for y in years
    }
    panel = sorted(set.intersection(*(set(p.index) for p in per.values()))) if per else []
    first = students.loc[students["year"] == years[0]]
    grade = first.assign(student_id=first["student_id"].astype(str)).drop_duplicates("student_id")
    grade = grade.set_index("student_id")["grade"].reindex(panel)
    rows = []
    known = grade.dropna()
    groups = [("all", panel)] + [
        (str(int(g)), sorted(ids)) for g, ids in sorted(known.groupby(known).groups.items())
    ]
    for name, ids in groups:
        for y in years:
            p = per[y].reindex(ids)
            ev = int((p["n_evaluable"] >= k).sum())
            pr = int((p["n_improved"] >= k).sum())
            ci = proportion_ci(pr, ev).iloc[0] if ev else None
            rows.append(
                {
                    "cohort": name,
                    "year": y,
                    "n_students": len(ids),
                    "n_evaluable": ev,
                    "n_progressing": pr,
                    "proportion": pr / ev if ev else np.nan,
                    "ci_low": ci["ci_low"] if ci is not None else np.nan,
                    "ci_high": ci["ci_high"] if ci is not None else np.nan,
                }
            )
    cols = ["cohort", "year", "n_students", "n_evaluable", "n_progressing", "proportion"]
    cohort = pd.DataFrame(rows, columns=[*cols, "ci_low", "ci_high"])
    ev_all = [s for s in panel if all(per[y].at[s, "n_evaluable"] >= k for y in years)]
    times = pd.Series(
        [sum(int(per[y].at[s, "n_improved"] >= k) for y in years) for s in ev_all], dtype="int64"
    )
    counts = times.value_counts().reindex(range(len(years) + 1), fill_value=0)
    pers = pd.DataFrame(
        {
            "years_progressed": counts.index.to_numpy(),
            "n": counts.to_numpy(),
            "share": counts.to_numpy() / max(len(ev_all), 1),
        }
    )
    if len(ev_all) < min_cell:
        pers["share"] = np.nan
    return cohort, pers


def _staff_trend(processed, years) -> pd.DataFrame:
    a = processed["assignments"] if "assignments" in processed else None
    st = processed["staff"] if "staff" in processed else None
    rows, first = [], None
    for y in years:
        mentors = set() if a is None else set(a.loc[a["year"] == y, "mentor_id"].astype(str))
        if first is None:
            first = mentors
        s = st.loc[st["year"] == y] if st is not None else pd.DataFrame()
        s = s.loc[s["staff_id"].astype(str).isin(mentors)] if len(s) else s
        rows.append(
            {
                "year": y,
                "n_mentors": len(mentors),
                "n_backbone": int(s["backbone"].fillna(False).astype(bool).sum())
                if "backbone" in s
                else np.nan,
                "n_certified": int(s["certified"].fillna(False).astype(bool).sum())
                if "certified" in s
                else np.nan,
                "retained": len(mentors & first),
            }
        )
    return pd.DataFrame(rows)


def analyse_pilot(
    processed,
    *,
    min_cell: int = MIN_CELL,
    seed: int = 0,
    draws: int = 10,
    years: Sequence[int] | None = None,
) -> PilotAnalyses:
    """Run every analysis the pilot review needs, once.

    Parameters
    ----------
    processed : mentorlib.data.Processed
    min_cell : int, default 5
    seed : int, default 0
    draws : int, default 10
        Simulation draws of the grouping-policy comparison (each is a full matching of the
        last year's roster; 10 take about 6 s for 1,200 students).
    years : sequence of int, optional
        Default: every study year with a post-wave assessment.

    Returns
    -------
    PilotAnalyses
    """
    from .compliance import compliance_trend
    from .effectiveness import mentor_report, mentor_stability
    from .grouping import OutcomeModel, compare_policies
    from .progress import progress_report

    if min_cell < 1:
        raise InputError(f"min_cell must be at least 1, got {min_cell}")
    notes: list[str] = []
    progress = {}
    for y in years or processed.years:
        try:
            progress[y] = progress_report(processed, y, min_cell=min_cell, seed=seed)
        except InputError as e:
            notes.append(f"{y}: no verdict ({e})")
    if not progress:
        raise InputError("no study year has a post-wave assessment: nothing to review")
    ys = tuple(sorted(progress))
    last = ys[-1]
    comp = compliance_trend(processed, years=ys, min_cell=min_cell)
    sats = []
    for y in ys:
        sat, _ = _satisfaction(processed, y, min_cell)
        row = sat.loc[sat["term"] == 0]
        if len(row):
            sats.append(row.drop(columns="term").assign(year=y))
    sat = pd.concat(sats, ignore_index=True) if sats else pd.DataFrame()
    stab = mrep = cmp_ = None
    if len(ys) > 1:
        try:
            stab = mentor_stability(processed, years=ys, seed=seed)
        except (InputError, ValueError, np.linalg.LinAlgError) as e:
            notes.append(f"mentor stability not estimated: {e}")
    try:
        mrep = mentor_report(processed, last, seed=seed, stability=False)
    except (InputError, ValueError, np.linalg.LinAlgError) as e:
        notes.append(f"mentor effectiveness not estimated: {e}")
    try:
        try:
            model = OutcomeModel.from_fitted(processed, last)
        except (InputError, ValueError, np.linalg.LinAlgError) as e:
            model = None
            notes.append(f"no outcome model for the policy comparison: {e}")
        cmp_ = compare_policies(processed, last, model=model, draws=draws, seed=seed)
    except (InputError, ValueError) as e:
        notes.append(f"grouping policies not compared: {e}")
    cohort, pers = _cohort(progress, processed["students"], min_cell)
    doc = Document(min_cell, name=f"pilot review {processed.name}")
    _register_pilot(doc, progress, cohort, pers, sat=sat, comp=comp)
    doc.protect()
    if len(sat):
        sk = [f"sat.{y}" for y in sat["year"]]
        nk = [f"{k}.n" for k in sk]
        sat = doc.mask_table(
            sat,
            {
                "n": nk,
                "n_answer": [f"{k}.n_answer" for k in sk],
                "n_want": [f"{k}.n_want" for k in sk],
                # a mean of students the document does not count is not shown either
                **{c: nk for c in ("mean", "sd", "ci_low", "ci_high")},
            },
            rates=[f"{k}.want" for k in sk],
            rate_columns=["want", "want_low", "want_high"],
        )
    if len(comp):
        ck = [
            f"comp.{r.year}.{r.indicator}" if r.indicator in STUDENT_INDICATORS else None
            for r in comp.itertuples(index=False)
        ]
        comp = doc.mask_table(
            comp,
            {"n": [None if k is None else f"{k}.n" for k in ck]},
            rates=[None if k is None else f"{k}.rate" for k in ck],
            rate_columns=["value", "passed"],
        )
    for y, R in progress.items():
        R.apply(doc.view(f"{y}:"))
    ck = {
        c: [
            f"cohort.{r.cohort}.n_students"
            if c == "n_students"
            else f"cohort.{r.cohort}.{r.year}.{c}"
            for r in cohort.itertuples(index=False)
        ]
        for c in ("n_students", "n_evaluable", "n_progressing")
    }
    cohort = doc.mask_table(
        cohort,
        ck,
        rates=[f"cohort.{r.cohort}.{r.year}.rate" for r in cohort.itertuples(index=False)],
        rate_columns=["proportion", "ci_low", "ci_high"],
    )
    pers = doc.mask_table(
        pers,
        {"n": [f"pers.{i}" for i in pers["years_progressed"]]},
        rates=[f"pers.share.{i}" for i in pers["years_progressed"]],
        rate_columns=["share"],
    )
    return PilotAnalyses(
        processed=processed,
        years=ys,
        min_cell=min_cell,
        seed=seed,
        progress=progress,
        compliance=comp,
        satisfaction=sat,
        stability=stab,
        mentors=mrep,
        comparison=cmp_,
        cohort=cohort,
        persistence=pers,
        staff=_staff_trend(processed, ys),
        synthetic=_is_synthetic(processed),
        notes=notes,
        disclosure=doc,
    )


def _register_pilot(
    doc: Document, progress: dict, cohort: pd.DataFrame, pers, *, sat=None, comp=None
) -> None:
    """Register the review's student counts: each year's progress tables (``"{year}:"``
    prefix), the cohort table (``cohort.{grade}.*``: the grades add up to ``all``), the
    persistence table (``pers.*``: counts adding up to the students evaluable every year),
    the satisfaction trend (``sat.{year}.*``: ``n`` = those answering + ``no_answer``; the
    share wanting a change is the rate ``want`` of ``n_want`` in ``n_answer``) and the
    compliance trend's indicators that count students (``comp.{year}.{indicator}.*``: the
    share ``rate`` of ``k`` students in ``n``;
    :data:`mentorlib.compliance.STUDENT_INDICATORS`)."""
    for y, R in progress.items():
        R.register(doc.view(f"{y}:"))
    groups = [g for g in dict.fromkeys(cohort["cohort"]) if g != "all"]
    for r in cohort.itertuples(index=False):
        doc.count(f"cohort.{r.cohort}.n_students", r.n_students)
        for c in ("n_evaluable", "n_progressing"):
            doc.count(f"cohort.{r.cohort}.{r.year}.{c}", getattr(r, c))
        pre = f"cohort.{r.cohort}.{r.year}"
        doc.rate(f"{pre}.rate", f"{pre}.n_progressing", f"{pre}.n_evaluable")
    if "all" in set(cohort["cohort"]) and groups:
        _try_total(doc, "cohort.all.n_students", [f"cohort.{g}.n_students" for g in groups])
        for y in dict.fromkeys(cohort["year"]):
            for c in ("n_evaluable", "n_progressing"):
                _try_total(doc, f"cohort.all.{y}.{c}", [f"cohort.{g}.{y}.{c}" for g in groups])
    if len(pers):
        keys = [
            doc.count(f"pers.{i}", n)
            for i, n in zip(pers["years_progressed"], pers["n"], strict=True)
        ]
        tot = doc.count("pers.total", int(pers["n"].sum()), printed=False)
        doc.total(tot, keys)
        for i in pers["years_progressed"]:
            doc.rate(f"pers.share.{i}", f"pers.{i}", tot)
    if sat is not None and len(sat):
        for r in sat.itertuples(index=False):
            pre = f"sat.{r.year}"
            for c in ("n", "n_answer", "n_want"):
                doc.count(f"{pre}.{c}", getattr(r, c))
            rest = doc.cells[f"{pre}.n"].value - doc.cells[f"{pre}.n_answer"].value
            if rest > 0:
                doc.count(f"{pre}.no_answer", rest, printed=False)
                doc.total(f"{pre}.n", [f"{pre}.n_answer", f"{pre}.no_answer"])
            doc.rate(f"{pre}.want", f"{pre}.n_want", f"{pre}.n_answer")
    if comp is not None and len(comp):
        for y in dict.fromkeys(comp["year"]):
            _register_compliance(doc, comp[comp["year"] == y], prefix=f"comp.{y}")


def _review_kpis(p: PilotAnalyses, t: _L) -> pd.DataFrame:
    """One row per KPI and year (the review's ``Report.kpis``)."""
    rows = []
    for y, R in p.progress.items():
        s = R.summary()
        rows.append(
            {
                "key": "progress",
                "year": y,
                "label": t("显著进步学生比例", "Students progressing significantly"),
                "value": s["proportion"],
                "ci_low": s["ci_low"],
                "ci_high": s["ci_high"],
                "target": s["target"],
                "target_text": f"≥{s['target']:.0%}",
                "passed": None if s["verdict"] is None else s["verdict"] == "met",
                "status": _verdict_text(s["verdict"], t),
                "n": s["n_evaluable"],
            }
        )
    for r in p.compliance.itertuples(index=False):
        rows.append(
            {
                "key": r.indicator,
                "year": r.year,
                "label": t(r.label_zh, r.label_en),
                "value": r.value,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "target": r.target,
                "target_text": _target_short(r.indicator, r.target, t),
                "passed": None if _nan(r.passed) else bool(r.passed),
                "status": _passed_text(r.passed, t),
                "n": r.n,
            }
        )
    for r in p.satisfaction.itertuples(index=False):
        for key, lab, v, lo, hi, n in (
            (
                "satisfaction",
                t("平均满意度（1–5分）", "Mean satisfaction (1-5)"),
                r.mean,
                r.ci_low,
                r.ci_high,
                r.n,
            ),
            (
                "want_change",
                t("希望更换导师的比例", "Want to change mentor"),
                r.want,
                r.want_low,
                r.want_high,
                r.n_answer,
            ),
        ):
            rows.append(
                {
                    "key": key,
                    "year": r.year,
                    "label": lab,
                    "value": v,
                    "ci_low": lo,
                    "ci_high": hi,
                    "target": np.nan,
                    "target_text": "—",
                    "passed": None,
                    "status": "—",
                    "n": n,
                }
            )
    k = pd.DataFrame(rows)
    k["passed"] = k["passed"].astype("boolean")
    k["value_text"] = [
        _num(v) if key == "satisfaction" else _pct(v)
        for key, v in zip(k["key"], k["value"], strict=True)
    ]
    return k


def _target_short(code: str, target, t: _L) -> str:
    if _nan(target):
        return "—"
    if code == "regroup_share":
        return f"≤{target:.0%}"
    return f"{target:.0%}"


def _trend_table(p: PilotAnalyses, k: pd.DataFrame, t: _L) -> Table:
    years = list(p.years)
    rows = []
    for key, g in k.groupby("key", sort=False):
        g = g.set_index("year")
        row = [g["label"].iloc[0], g["target_text"].iloc[0]]
        for y in years:
            if y not in g.index:
                row.append("—")
                continue
            v = g.at[y, "value_text"]
            passed = g.at[y, "passed"]
            if not _nan(passed):
                v += " √" if bool(passed) else " ×"
            if key == "progress":
                v += (
                    f"（{_ci(g.at[y, 'ci_low'], g.at[y, 'ci_high'])}）"
                    if t.zh
                    else f" ({_ci(g.at[y, 'ci_low'], g.at[y, 'ci_high'])})"
                )
            row.append(v)
        rows.append(row)
    cols = [t("指标", "Indicator"), t("目标", "Target"), *[_year_label(y, t) for y in years]]
    return Table(
        _frame(rows, cols),
        t("各项指标的年度变化", "Every indicator by year"),
        "kpi_trends",
        t(
            "√ 达到目标，× 未达到目标；显著进步比例括号内为95%置信区间，“达成”以置信下限判定。",
            "√ target met, × not met; the progress rate shows its 95% CI in brackets and is "
            "judged on the lower bound.",
        ),
    )


def _rates_sentence(p: PilotAnalyses, t: _L) -> str:
    parts = []
    for y, R in p.progress.items():
        s = R.summary()
        if s["proportion"] is None:
            parts.append(t(f"{y}学年不报告", f"{y}: not reported"))
        else:
            parts.append(
                t(
                    f"{y}学年{s['proportion']:.1%}（{_ci(s['ci_low'], s['ci_high'])}，{_verdict_text(s['verdict'], t)}）",
                    f"{y} {s['proportion']:.1%} ({_ci(s['ci_low'], s['ci_high'])}, {s['verdict']})",
                )
            )
    return t.sep.join(parts)


def _trend_test_text(p: PilotAnalyses, t: _L) -> str:
    R = p.progress[p.years[-1]]
    tt = R.context.get("trend_test")
    if tt is None or not len(tt):
        return ""
    r = tt.iloc[0]
    return t(
        f"线性趋势检验：每年变化{_pts(r['slope'])}个百分点，p = {_p(r['p_value'])}（各年学生多有重叠，仅供参考）。",
        f"Linear trend: {_pts(r['slope'])} points a year, p = {_p(r['p_value'])} (the years "
        "share students: indicative only).",
    )


def _recommendation(p: PilotAnalyses, t: _L) -> tuple[str, str | None]:
    """(recommendation sentence, best policy code) from the policy comparison."""
    from .grouping import POLICY_LABELS_ZH, hard_rules_met

    C = p.comparison
    if C is None:
        return t("未能比较分组方案。", "The grouping policies could not be compared."), None

    def name(pol):
        return t(POLICY_LABELS_ZH.get(pol, pol), pol.replace("_", "-"))

    ok = [
        pol
        for pol in C.policies
        if pol not in ("recorded", "random")
        and hard_rules_met(C.checks.loc[C.checks["policy"] == pol])
    ]
    o = C.outcomes
    measure = "improved_any" if (o["measure"] == "improved_any").any() else "mean_fit"
    sub = o.loc[(o["measure"] == measure) & o["policy"].isin(ok)].set_index("policy")
    if sub.empty:
        return t(
            "没有满足全部硬性规则的候选方案。", "No candidate policy meets every hard rule."
        ), None
    best = sub["mean"].idxmax()
    r = sub.loc[best]
    ch = C.checks.loc[(C.checks["policy"] == best) & (C.checks["rule"] == "changed_share"), "value"]
    changed = float(ch.iloc[0]) if len(ch) else np.nan
    up = r["diff"] >= 0
    if measure == "improved_any":
        gap = abs(r["diff"]) * 100
        diff = t(
            f"预测显著进步比例为{r['mean']:.1%}（模拟区间{r['lo']:.1%}–{r['hi']:.1%}），比现有分组"
            f"{'高' if up else '低'}{gap:.1f}个百分点（差的区间{_pts(r['diff_lo'])}至{_pts(r['diff_hi'])}）",
            f"its predicted rate is {r['mean']:.1%} (simulation interval {r['lo']:.1%}-"
            f"{r['hi']:.1%}), {gap:.1f} points {'above' if up else 'below'} the recorded "
            f"grouping (interval of the difference {_pts(r['diff_lo'])} to {_pts(r['diff_hi'])})",
        )
    else:
        diff = t(
            f"平均匹配度{r['mean']:.3f}，比现有分组{'高' if up else '低'}{abs(r['diff']):.3f}",
            f"its mean fit is {r['mean']:.3f}, {abs(r['diff']):.3f} {'above' if up else 'below'} "
            "the recorded grouping",
        )
    sure = r["diff_lo"] > 0
    target = C.target
    below = measure == "improved_any" and (o.loc[o["measure"] == measure, "hi"] < target).all()
    txt = t(
        f"在满足全部硬性规则的方案中，“{name(best)}”的预测结果最好：{diff}。",
        f"Among the policies meeting every hard rule, {name(best)} does best: {diff}.",
    )
    if sure:
        txt += t(
            "差异的区间不含0，模型支持在下一学年试行该方案，并继续监测。",
            " The interval excludes 0: the model supports piloting it next year, with monitoring.",
        )
    else:
        txt += t(
            "差异的区间包含0，现有数据不足以说明它优于现有分组，不建议仅据此改变分组方式。",
            " The interval includes 0: the data do not show it beats the recorded grouping; do not "
            "change the grouping on this evidence alone.",
        )
    if not _nan(changed) and changed > 0.15:
        txt += t(
            f"该方案需要更换{changed:.0%}学生的导师，远超一次调整不超过15%的规定，只适合在新学年初整体重新分组时采用。",
            f" It changes the mentor of {changed:.0%} of students, far above the 15% limit for one "
            "adjustment: only an option when groups are formed anew at the start of a year.",
        )
    if below:
        txt += t(
            f"所有方案的预测比例都明显低于{target:.0%}的目标：仅靠调整分组无法达到目标。",
            f" Every policy is predicted well below the {target:.0%} target: regrouping alone "
            "will not reach it.",
        )
    txt += t(
        "预测依赖本校数据拟合的结果模型，其中“匹配度”的作用来自观察数据而非随机分配，结论应视为假设而非定论。",
        " The predictions rest on an outcome model fitted to the school's own data, and the "
        "effect of fit in it is observational, not randomised: treat this as a hypothesis.",
    )
    return txt, best


def _rsec_summary(p: PilotAnalyses, t: _L) -> Section:
    y0, y1 = p.years[0], p.years[-1]
    b: list = [
        Para(
            t(
                f"试点覆盖{y0}–{y1 + 1}年共{len(p.years)}个学年。各学年至少在一个发展维度取得显著进步的学生比例（95%置信区间，判定）为：{_rates_sentence(p, t)}。",
                f"The pilot covers {len(p.years)} school years, {y0}-{y1 + 1}. The share of "
                f"students progressing significantly each year (95% CI, verdict): {_rates_sentence(p, t)}.",
            ),
            "lead",
        )
    ]
    tt = _trend_test_text(p, t)
    if tt:
        b.append(Para(tt))
    c = p.compliance
    last = c.loc[(c["year"] == y1) & c["passed"].notna()]
    if len(last):
        met = int(last["passed"].astype(bool).sum())
        b.append(
            Para(
                t(
                    f"过程落实：{y1}学年{len(last)}项有目标的过程指标中{met}项达标（逐年情况见第二部分）。",
                    f"Process: in {y1} {met} of {len(last)} indicators with a target were met "
                    "(every year in section 2).",
                )
            )
        )
    if p.stability is not None and len(p.stability.correlation):
        cr = p.stability.correlation.dropna(subset=["r_eb"])
        if len(cr):
            b.append(
                Para(
                    t(
                        f"导师效应在学年之间的相关为{cr['r_eb'].min():.2f}至{cr['r_eb'].max():.2f}（经验贝叶斯估计）。",
                        f"Mentor effects correlate {cr['r_eb'].min():.2f} to {cr['r_eb'].max():.2f} "
                        "between years (empirical-Bayes estimates).",
                    )
                )
            )
    rec, _ = _recommendation(p, t)
    b.append(Para(rec))
    b.append(
        Todo(
            t(
                "研究者对三年试点的总体评价（是否实现“形成可复制的全员育人模式”的目标）。",
                "The researcher's overall assessment of the pilot (did it produce a replicable model?).",
            )
        )
    )
    return Section("summary", t("摘要", "Summary"), b)


def _rsec_trends(p: PilotAnalyses, t: _L, k: pd.DataFrame) -> Section:
    from .plots import plot_lines, plot_panels
    from .progress import plot_rate_by_year

    b: list = [
        Para(
            t(
                "下表列出每项指标在各学年的数值与目标。",
                "The table lists every indicator in every year against its target.",
            )
        ),
        _trend_table(p, k, t),
    ]
    trend = pd.concat(
        [R.verdict.loc[R.verdict["rule"] == R.rule] for R in p.progress.values()], ignore_index=True
    )
    R = p.progress[p.years[-1]]
    _fig(
        b,
        t,
        "progress_by_year",
        t("各学年显著进步比例（95%置信区间）", "Progress rate by year (95% CI)"),
        lambda: plot_rate_by_year(trend, target=R.target, lang=t.lang),
        13,
    )
    if len(p.compliance):
        lab = "label_zh" if t.zh else "label_en"
        d = p.compliance.assign(name=p.compliance[lab])
        _fig(
            b,
            t,
            "compliance_by_year",
            t("过程指标的年度变化（虚线为目标）", "Process indicators by year (dashed: target)"),
            lambda: plot_panels(
                d,
                panel="name",
                x="year",
                y="value",
                target="target",
                lang=t.lang,
                xticklabels={y: str(y) for y in p.years},
            ),
            16,
        )
    if len(p.satisfaction):
        s = p.satisfaction
        _fig(
            b,
            t,
            "satisfaction_by_year",
            t("学生平均满意度的年度变化（95%置信区间）", "Mean satisfaction by year (95% CI)"),
            lambda: plot_lines(
                s,
                x="year",
                y="mean",
                low="ci_low",
                high="ci_high",
                percent=False,
                ylim=(1, 5),
                ylabel=t("平均满意度（1–5分）", "mean satisfaction (1-5)"),
                lang=t.lang,
                xticklabels={y: _year_label(y, t) for y in p.years},
            ),
            12,
        )
    b.append(
        Todo(
            t("解读各项指标三年来的变化及其原因。", "What changed over the three years, and why."),
        )
    )
    return Section("trends", t("各项指标的三年变化", "Indicators over the pilot"), b)


_GOALS = {
    "primary": {
        "coverage": (
            "目标一　全覆盖",
            "Goal 1: full coverage",
            "实施方案：全体教师（含行政、教辅人员）参与导师工作，全校学生（1-6年级）均有固定导师，构建“1名导师+5-8名学生”的精准指导小组。",
            "The plan: every staff member (including administrators and support staff) mentors, every student (grades 1-6) has a fixed mentor, in groups of one mentor and 5-8 students.",
        ),
        "personal": (
            "目标二　个性化",
            "Goal 2: personalised guidance",
            "实施方案：制定“一人一档”成长档案，实施差异化指导，每年至少帮助85%以上学生在1-2个发展维度取得显著进步。",
            "The plan: a growth file for every student, differentiated guidance, and every year at least 85% of students making significant progress in 1-2 development dimensions.",
        ),
        "collab": (
            "目标三　协同化",
            "Goal 3: collaboration",
            "实施方案：建立“导师-学科教师-家长-社区”协同机制，每月开展至少1次三方沟通，形成教育合力。",
            "The plan: mentor, subject teachers, parents and community working together, with at least one three-party communication a month.",
        ),
        "lasting": (
            "目标四　长效化",
            "Goal 4: sustainability",
            "实施方案：通过3年实践，形成可复制的全员育人模式，培养一批“懂教育、会沟通、善引导”的导师队伍。",
            "The plan: after three years, a replicable model and a team of mentors who understand education, communicate and guide well.",
        ),
    },
    "middle": {
        "coverage": (
            "目标一　全覆盖",
            "Goal 1: coverage",
            "实施方案：受导学生由班主任推荐、年级组确定，每名受导学生都有导师，导师与受导学生的比例控制在1:1~2。",
            "The plan: nominated students each have a mentor, one or two mentees per mentor.",
        ),
        "personal": (
            "目标二　个性化",
            "Goal 2: personalised guidance",
            "实施方案：满足学生个性化发展需求，努力做到不使一个学生掉队；评估沿用每年85%受导学生显著进步的目标。",
            "The plan: meet each student's needs and leave no student behind; judged against the 85% progress target.",
        ),
        "collab": (
            "目标三　协同化",
            "Goal 3: collaboration",
            "实施方案：建立家长联络制度，每月至少一次电话访问，每学年一次家访；学生每月主动向导师汇报一次。",
            "The plan: a parent call every month, a home visit every year, and a monthly report from the student.",
        ),
        "lasting": (
            "目标四　长效化",
            "Goal 4: sustainability",
            "实施方案：提升教师“教书育人”的艺术水平，形成稳定的导师队伍与工作制度。",
            "The plan: develop the teachers as educators, with a stable mentor team and working rules.",
        ),
    },
}

_GOAL_INDICATORS = {
    "coverage": ("staff_coverage", "student_coverage", "group_size"),
    "collab": (
        "three_party",
        "subject_exchange",
        "parent_call",
        "home_visit",
        "student_report",
        "group_counselling",
    ),
}


def _indicator_bullets(p: PilotAnalyses, codes, t: _L) -> list:
    c = p.compliance
    lab = "label_zh" if t.zh else "label_en"
    out = []
    for code in codes:
        g = c.loc[c["indicator"] == code].sort_values("year")
        if not len(g):
            continue
        vals = t.sep.join(
            f"{_year_label(int(r.year), t)} {_pct(r.value)}" for r in g.itertuples(index=False)
        )
        tg = g["target"].dropna()
        tgt = _target_short(code, tg.iloc[0], t) if len(tg) else "—"
        met = g["passed"].dropna()
        status = (
            t(
                f"，{int(met.astype(bool).sum())}/{len(met)}个学年达标",
                f"; met in {int(met.astype(bool).sum())} of {len(met)} years",
            )
            if len(met)
            else ""
        )
        out.append(
            Para(
                t(
                    f"{g[lab].iloc[0]}：{vals}（目标{tgt}{status}）。",
                    f"{g[lab].iloc[0]}: {vals} (target {tgt}{status}).",
                ),
                "bullet",
            )
        )
    return out


def _rsec_goals(p: PilotAnalyses, t: _L) -> Section:
    level = p.processed.level
    goals = _GOALS.get(level, _GOALS["primary"])
    judge = t(
        "研究者判断：该目标是否实现（实现 / 基本实现 / 部分实现 / 未实现），依据与保留意见。",
        "The researcher's judgement: achieved / largely / partly / not achieved, on what evidence, "
        "with what reservations.",
    )
    b: list = [
        Para(
            t(
                "以下逐项列出四项工作目标的证据。各项结论由研究者根据证据作出。",
                "The evidence for each of the four work goals; the verdict on each is the "
                "researcher's.",
            )
        )
    ]
    # 1 coverage
    zh, en, pz, pe = goals["coverage"]
    b += [
        Heading(t(zh, en)),
        Para(t(pz, pe), "note"),
        *_indicator_bullets(p, _GOAL_INDICATORS["coverage"], t),
    ]
    st = p.staff
    if len(st):
        vals = t.sep.join(
            f"{_year_label(int(r.year), t)} {int(r.n_mentors)}" for r in st.itertuples(index=False)
        )
        b.append(Para(t(f"担任导师的教职工人数：{vals}。", f"Staff mentoring: {vals}."), "bullet"))
    b.append(Todo(judge))
    # 2 personalised
    zh, en, pz, pe = goals["personal"]
    b += [Heading(t(zh, en)), Para(t(pz, pe), "note")]
    b.append(
        Para(
            t(
                f"显著进步比例：{_rates_sentence(p, t)}。",
                f"Progress rate: {_rates_sentence(p, t)}.",
            ),
            "bullet",
        )
    )
    R = p.progress[p.years[-1]]
    fg = R.breakdowns.loc[
        (R.breakdowns["by"] == "focus_group")
        & ~R.breakdowns["suppressed"].astype(bool)
        & (R.breakdowns["group"] != "none")
    ]
    fg = fg.assign(_o=fg["group"].map({g: i for i, g in enumerate(FOCUS_LABELS)})).sort_values("_o")
    if len(fg):
        vals = t.sep.join(
            f"{t(*FOCUS_LABELS.get(r.group, (r.group, r.group)))} {_pct(r.proportion)}"
            for r in fg.itertuples(index=False)
        )
        b.append(
            Para(
                t(
                    f"{p.years[-1]}学年重点关注学生：{vals}。",
                    f"Focus groups in {p.years[-1]}: {vals}.",
                ),
                "bullet",
            )
        )
    C = p.comparison
    if C is not None:
        mf = C.checks.loc[C.checks["rule"] == "mean_fit"].set_index("policy")["value"]
        if "recorded" in mf.index and "optimal" in mf.index:
            b.append(
                Para(
                    t(
                        f"学生需求与导师特长的平均匹配度：现有分组{mf['recorded']:.2f}，约束下可达到的最优匹配{mf['optimal']:.2f}（{p.years[-1]}学年）。",
                        f"Mean needs-strength fit: {mf['recorded']:.2f} for the recorded groups, "
                        f"{mf['optimal']:.2f} for the best possible under the rules ({p.years[-1]}).",
                    ),
                    "bullet",
                )
            )
    if len(p.satisfaction):
        vals = t.sep.join(
            f"{_year_label(int(r.year), t)} {_num(r.mean)}"
            for r in p.satisfaction.itertuples(index=False)
        )
        b.append(
            Para(
                t(f"学生平均满意度（1–5分）：{vals}。", f"Mean satisfaction (1-5): {vals}."),
                "bullet",
            )
        )
    b.append(Todo(judge))
    # 3 collaboration
    zh, en, pz, pe = goals["collab"]
    b += [
        Heading(t(zh, en)),
        Para(t(pz, pe), "note"),
        *_indicator_bullets(p, _GOAL_INDICATORS["collab"], t),
    ]
    M = p.mentors
    if M is not None and len(M.dose):
        d = M.dose.set_index("term")
        if "parent_contact" in d.index and not _nan(d.at["parent_contact", "ratio"]):
            r = d.loc["parent_contact"]
            b.append(
                Para(
                    t(
                        f"{p.years[-1]}学年，家校联系每月每生多1次，学生显著进步的几率为原来的{r['ratio']:.2f}倍（95%区间{r['ratio_low']:.2f}–{r['ratio_high']:.2f}）；这是相关，不是因果。",
                        f"In {p.years[-1]} one more parent contact a month goes with {r['ratio']:.2f} "
                        f"times the odds of progress (95% CI {r['ratio_low']:.2f}-{r['ratio_high']:.2f}); "
                        "an association, not an effect.",
                    ),
                    "bullet",
                )
            )
    b.append(Todo(judge))
    # 4 lasting
    zh, en, pz, pe = goals["lasting"]
    b += [Heading(t(zh, en)), Para(t(pz, pe), "note")]
    if len(st) > 1:
        r0, r1 = st.iloc[0], st.iloc[-1]
        b.append(
            Para(
                t(
                    f"导师队伍的延续：{p.years[0]}学年的{int(r0.n_mentors)}名导师中，{int(r1.retained)}名在{p.years[-1]}学年仍担任导师。",
                    f"Continuity: of {int(r0.n_mentors)} mentors in {p.years[0]}, {int(r1.retained)} "
                    f"still mentored in {p.years[-1]}.",
                ),
                "bullet",
            )
        )
        if not _nan(r1.n_backbone):
            vals = t.sep.join(
                f"{_year_label(int(r.year), t)} {int(r.n_backbone)}"
                for r in st.itertuples(index=False)
            )
            b.append(Para(t(f"骨干导师人数：{vals}。", f"Backbone mentors: {vals}."), "bullet"))
    b += _indicator_bullets(p, ("training_hours", "certified"), t)
    if p.stability is not None and len(p.stability.correlation):
        for r in p.stability.correlation.itertuples(index=False):
            if _nan(r.r_eb):
                continue
            b.append(
                Para(
                    t(
                        f"导师效应的稳定性（{r.year_a}与{r.year_b}学年，{int(r.n_mentors)}名导师）：相关{r.r_eb:.2f}（95%区间{r.r_eb_low:.2f}至{r.r_eb_high:.2f}）。",
                        f"Stability of mentor effects ({r.year_a} and {r.year_b}, {int(r.n_mentors)} "
                        f"mentors): r = {r.r_eb:.2f} (95% CI {r.r_eb_low:.2f} to {r.r_eb_high:.2f}).",
                    ),
                    "bullet",
                )
            )
    tt = _trend_test_text(p, t)
    if tt:
        b.append(Para(tt, "bullet"))
    b.append(Todo(judge))
    return Section("goals", t("四项工作目标的逐项评估", "The four work goals"), b)


def _rsec_cohort(p: PilotAnalyses, t: _L) -> Section:
    from .plots import plot_lines

    mc, y0 = p.min_cell, p.years[0]
    co = p.cohort

    def cname(c):
        if c == "all":
            return t("全部跟踪学生", "all tracked students")
        return t(f"{y0}学年{c}年级", f"grade {c} in {y0}")

    allrow = co.loc[co["cohort"] == "all"]
    n_panel = (
        int(allrow["n_students"].iloc[0])
        if len(allrow) and not _nan(allrow["n_students"].iloc[0])
        else 0
    )
    b: list = [
        Para(
            t(
                f"跟踪对象为{len(p.years)}个学年都在评估名单上的同一批学生，共{_ct(p, 'cohort.all.n_students', n_panel)}名，按{y0}学年所在年级分组。"
                "毕业离校与新入学的学生不在其中。",
                f"The same {_ct(p, 'cohort.all.n_students', n_panel)} students, on the assessed roster in all "
                f"{len(p.years)} years, grouped by their grade in {y0}. Students who left or "
                "joined are not included.",
            )
        )
    ]
    rows = []
    for c, g in co.groupby("cohort", sort=False):
        g = g.set_index("year")
        row = [cname(c), _ct(p, f"cohort.{c}.n_students", g["n_students"].iloc[0])]
        for y in p.years:
            r = g.loc[y]
            row.append(
                "—"
                if _nan(r["proportion"])
                else f"{_pct(r['proportion'])}（{_ci(r['ci_low'], r['ci_high'])}）"
                if t.zh
                else f"{_pct(r['proportion'])} ({_ci(r['ci_low'], r['ci_high'])})"
            )
        rows.append(row)
    cols = [t("跟踪组", "Cohort"), t("人数", "Students"), *[_year_label(y, t) for y in p.years]]
    b.append(
        Table(
            _frame(rows, cols),
            t(
                "同批学生逐年的显著进步比例（95%置信区间）",
                "The same students' progress rate each year (95% CI)",
            ),
            "cohort",
            t(
                f"“<{mc}”：人数少于{mc}人，不报告。",
                f"'<{mc}': fewer than {mc} students, not reported.",
            ),
        )
    )
    d = co.loc[~co["suppressed"].astype(bool)].assign(name=lambda x: x["cohort"].map(cname))
    if len(d):
        _fig(
            b,
            t,
            "cohort",
            t("同批学生逐年的显著进步比例", "The tracked students' progress rate by year"),
            lambda: plot_lines(
                d,
                x="year",
                y="proportion",
                group="name",
                target=p.progress[p.years[-1]].target,
                ylabel=t("显著进步学生比例", "share progressing"),
                lang=t.lang,
                xticklabels={y: _year_label(y, t) for y in p.years},
            ),
            14,
        )
    pe = p.persistence
    if len(pe) and pe["share"].notna().any():
        rows = [
            [
                t(f"{int(r.years_progressed)}个学年", f"{int(r.years_progressed)} year(s)"),
                _ct(p, f"pers.{r.years_progressed}", r.n),
                _pct(r.share),
            ]
            for r in pe.itertuples(index=False)
        ]
        b.append(
            Table(
                _frame(
                    rows,
                    [
                        t("取得显著进步的学年数", "Years with significant progress"),
                        t("人数", "Students"),
                        t("比例", "Share"),
                    ],
                ),
                t(
                    "每年都可评估的跟踪学生：几个学年取得显著进步",
                    "Tracked students evaluable every year: in how many years they progressed",
                ),
                "persistence",
            )
        )
    b.append(
        Todo(
            t(
                "结合关键节点（入学适应、中段转折、毕业衔接）解读同批学生的变化。",
                "Read the cohorts' paths against the key transitions (school entry, the middle "
                "years, graduation).",
            )
        )
    )
    return Section("cohort", t("同批学生的跟踪", "Cohort tracking"), b)


def _rsec_stability(p: PilotAnalyses, t: _L) -> Section:
    from .plots import plot_pairs

    mc = p.min_cell
    S = p.stability
    title = t("导师效应的稳定性", "Stability of mentor effects")
    if S is None or not len(S.correlation):
        return Section(
            "stability",
            title,
            [
                Para(
                    t(
                        "未能估计（学年不足两个或模型无法拟合）。",
                        "Not estimated (fewer than two years, or the model failed).",
                    )
                )
            ],
        )
    rows = [
        [
            f"{r.year_a}–{r.year_b}",
            _int(r.n_mentors),
            _num(r.r_eb),
            _numci(r.r_eb_low, r.r_eb_high),
            _num(r.r_true),
            _numci(r.r_true_low, r.r_true_high),
        ]
        for r in S.correlation.itertuples(index=False)
    ]
    cols = [
        t("学年", "Years"),
        t("两年均任导师", "Mentors in both"),
        t("效应估计的相关", "r of estimates"),
        t("95%区间", "95% CI"),
        t("真实效应相关（估计）", "r of true effects (est.)"),
        t("95%自助法区间", "95% bootstrap CI"),
    ]
    b: list = [
        Para(
            t(
                "若导师的作用是稳定的个人特征，同一导师在不同学年的效应应当相关。第一列相关基于收缩估计（因收缩而偏低）；"
                "第二列扣除测量噪声，估计真实效应的相关，可能超过1，小学阶段学生多跟随同一导师时偏高。",
                "If a mentor's contribution is a stable trait, the same mentor's effects should "
                "correlate across years. The first correlation uses the shrunken estimates "
                "(attenuated); the second estimates the correlation of the true effects net of "
                "noise; it can exceed 1 and is biased upwards when students keep their mentor.",
            )
        ),
        Table(
            _frame(rows, cols),
            t("导师效应的年际相关", "Year-to-year correlation of mentor effects"),
            "stability",
        ),
    ]
    e = S.effects
    if len(p.years) >= 2 and len(e):
        ya, yb = p.years[-2], p.years[-1]
        w = e.loc[e["n"] >= mc].pivot_table(index="mentor_id", columns="year", values="effect")
        if ya in w.columns and yb in w.columns:
            w = w[[ya, yb]].dropna()
            if len(w) >= 3:
                x, y = w[ya].to_numpy(), w[yb].to_numpy()
                _fig(
                    b,
                    t,
                    "stability",
                    t(
                        f"同一导师在{ya}与{yb}学年的效应（仅含两年受导学生均不少于{mc}人的导师）",
                        f"Each mentor's effect in {ya} and {yb} (mentors with {mc}+ mentees in both)",
                    ),
                    lambda: plot_pairs(
                        x,
                        y,
                        xlabel=t(f"{ya}学年导师效应", f"mentor effect {ya}"),
                        ylabel=t(f"{yb}学年导师效应", f"mentor effect {yb}"),
                        lang=t.lang,
                    ),
                    10,
                )
    b.append(
        Todo(
            t(
                "导师效应是否足够稳定，可用于导师培训的分层与经验推广？",
                "Are mentor effects stable enough to target training and spread good practice?",
            )
        )
    )
    return Section("stability", title, b)


def _rsec_grouping(p: PilotAnalyses, t: _L) -> Section:
    from .grouping import POLICY_LABELS_ZH, hard_rules_met

    C = p.comparison
    title = t("分组方案比较与建议", "Grouping policies and a recommendation")
    if C is None:
        return Section(
            "grouping",
            title,
            [Para(t("未能比较分组方案。", "The policies could not be compared."))],
        )
    y = p.years[-1]

    def name(pol):
        return t(POLICY_LABELS_ZH.get(pol, pol), pol.replace("_", "-"))

    rows = []
    measures = [
        ("mean_fit", t("平均匹配度", "Mean fit"), "num"),
        ("top3_choice", t("前三志愿满足率", "Top-3 choice met"), "pct"),
        ("first_choice", t("第一志愿满足率", "First choice met"), "pct"),
        ("gender_balance", t("性别均衡（最大偏差）", "Gender balance (largest gap)"), "num"),
        ("blocking_pairs", t("不稳定师生对", "Blocking pairs"), "int"),
        ("changed_share", t("更换导师的学生比例", "Students changing mentor"), "pct"),
    ]
    o = C.outcomes
    have_pred = (o["measure"] == "improved_any").any()
    for pol in C.policies:
        ch = C.checks.loc[C.checks["policy"] == pol].set_index("rule")
        row = [name(pol), t("是", "yes") if hard_rules_met(ch.reset_index()) else t("否", "no")]
        for m, _lab, kind in measures:
            v = ch.at[m, "value"] if m in ch.index else np.nan
            row.append(_pct(v) if kind == "pct" else (_int(v) if kind == "int" else _num(v)))
        if have_pred:
            r = o.loc[(o["policy"] == pol) & (o["measure"] == "improved_any")]
            if len(r):
                r = r.iloc[0]
                row += [
                    f"{r['mean']:.1%}",
                    _ci(r["lo"], r["hi"]),
                    f"{_pts(r['diff'])}",
                    f"{_pts(r['diff_lo'])}, {_pts(r['diff_hi'])}",
                ]
            else:
                row += ["—"] * 4
        rows.append(row)
    # transposed: one column per policy, one row per measure (fits the page)
    head = [t("方案", "Policy"), t("硬性规则全部满足", "Every hard rule met")]
    head += [lab for _, lab, _ in measures]
    if have_pred:
        head += [
            t("预测显著进步比例", "Predicted share progressing"),
            t("　模拟区间", "  simulation interval"),
            t("与现有分组之差（百分点）", "Difference from recorded (points)"),
            t("　差的模拟区间", "  its simulation interval"),
        ]
    body = [[h, *[r[i] for r in rows]] for i, h in enumerate(head) if i > 0]
    table = _frame(body, [head[0], *[r[0] for r in rows]])
    n_draws = int(C.draws["draw"].max()) + 1 if len(C.draws) else 0
    rec, _best = _recommendation(p, t)
    b: list = [
        Para(
            t(
                f"在{y}学年的学生与导师名单上运行各分组方案，按学校规则检查，并以本校数据拟合的结果模型模拟{n_draws}次，预测各方案下的结果。",
                f"Each policy was run on the {y} roster of students and mentors, checked against "
                f"the rules, and simulated {n_draws} times with the outcome model fitted to the "
                "school's data.",
            )
        ),
        Table(
            table,
            t(f"分组方案比较（{y}学年名单）", f"Grouping policies on the {y} roster"),
            "policies",
            t(
                "硬性规则：全覆盖、组人数、同班/同年级等；括号内为模拟区间。不稳定师生对：双方都更愿意彼此配对却未配对的师生对数。",
                "Hard rules: coverage, group sizes, scope. Brackets: simulation intervals. "
                "Blocking pairs: a student and a mentor who both prefer each other to their match.",
            ),
        ),
    ]
    _fig(
        b,
        t,
        "policies",
        t("各分组方案的预测结果", "Predicted outcomes of the grouping policies"),
        lambda: C.plot(lang=t.lang),
        16,
    )
    b += [
        Heading(t("建议", "Recommendation")),
        Para(rec),
        Todo(
            t(
                "研究者对分组方式的建议（是否试行、在哪些年级试行、如何评估）。",
                "The researcher's recommendation on grouping (pilot or not, in which grades, how "
                "to evaluate it).",
            )
        ),
    ]
    return Section("grouping", title, b)


def _rsec_limitations(p: PilotAnalyses, t: _L) -> Section:
    V = VALIDATION
    rel = pd.concat([R.context.get("reliability", pd.DataFrame()) for R in p.progress.values()])
    b: list = []
    if len(rel):
        b.append(
            Para(
                t(
                    f"测量信度：各学年、各维度测评的Cronbach α在{rel['alpha'].min():.2f}至{rel['alpha'].max():.2f}之间。"
                    "α在0.8左右时，可靠变化所需的分数变化较大，真实的小幅进步多数无法被识别。",
                    f"Reliability: Cronbach's alpha ranges from {rel['alpha'].min():.2f} to "
                    f"{rel['alpha'].max():.2f} across years and dimensions. With alpha near 0.8 a "
                    "reliable change needs a large score change, so most small true gains go unseen.",
                ),
                "bullet",
            )
        )
    b.append(
        Para(
            t(
                f"判定规则的准确性：在200所合成学校（每校1,200名学生、真实变化已知）的验证中，“至少一个维度显著进步”的灵敏度约为{V['sensitivity_any']:.0%}、"
                f"特异度约为{V['specificity_any']:.0%}：真实进步的学生（约{V['true_rate_any']:.0%}）中只有约三分之一被识别，"
                f"测得的比例（约{V['measured_rate_any']:.0%}）因此远低于真实比例。85%的目标在这种测量下几乎不可能被证实达到。"
                f"Wilson区间对总体比例的覆盖率只有{V['wilson_coverage']:.0%}，计入阈值误差的自助法区间为{V['bootstrap_coverage']:.1%}。",
                f"Accuracy of the rule: in a validation on 200 synthetic schools of 1,200 students "
                f"with known true change, 'significant improvement in at least one dimension' had a "
                f"sensitivity of about {V['sensitivity_any']:.0%} and a specificity of about "
                f"{V['specificity_any']:.0%}: of the students who truly improved (about "
                f"{V['true_rate_any']:.0%}) only about a third were detected, so the measured rate "
                f"(about {V['measured_rate_any']:.0%}) sits far below the true one, and an 85% "
                f"target can hardly be shown to be met with this measurement. The Wilson "
                f"interval covered the population rate {V['wilson_coverage']:.0%} of the time, the "
                f"bootstrap interval {V['bootstrap_coverage']:.1%}.",
            ),
            "bullet",
        )
    )
    fp = p.progress[p.years[-1]].summary().get("false_positive_rate")
    b.append(
        Para(
            t(
                "向均值回归与成熟：前测偏低的学生后测自然会回升，学生也会随年龄自然成长；"
                + (
                    f"即使没有任何真实变化，判定规则也会把约{fp:.1%}的学生判为进步。"
                    if fp is not None
                    else ""
                )
                + (
                    "初中受导学生因需要而被推荐，与未受导学生的差异尤其包含回归效应。"
                    if p.processed.level == "middle"
                    else ""
                ),
                "Regression to the mean and maturation: students with a low pre-test tend to score "
                "higher at post-test, and children grow up anyway"
                + (
                    f"; with no true change the rule still flags about {fp:.1%} of students"
                    if fp is not None
                    else ""
                )
                + (
                    "; middle-school mentees are nominated for need, so their gain over non-mentees includes regression"
                    if p.processed.level == "middle"
                    else ""
                )
                + ".",
            ),
            "bullet",
        )
    )
    b.append(
        Para(
            t(
                "没有随机分组：导师制面向全体学生（小学）或经推荐的学生（初中），没有随机对照组，本报告的数字描述的是变化，"
                "不能证明变化由导师制引起（Shadish, Cook & Campbell, 2002）。导师效应、频次关联与分组方案的预测都是观察性的。",
                "No randomisation: the programme covers every student (primary) or nominated "
                "students (middle); there is no randomised control group, so the numbers describe "
                "change, not its cause (Shadish, Cook & Campbell 2002). Mentor effects, the "
                "frequency associations and the policy predictions are all observational.",
            ),
            "bullet",
        )
    )
    miss = t.sep.join(
        f"{_year_label(y, t)} {_ct(p, f'{y}:n_not_evaluable', R.summary()['n_not_evaluable'])}"
        for y, R in p.progress.items()
    )
    b.append(
        Para(
            t(
                f"缺失数据：缺少前测或后测的学生人数为{miss}；两种缺失处理的结果均已报告。过程指标把未记录视为未做到。",
                f"Missing data: students without a pre or post test: {miss}; both missing-data "
                "rules are reported. Process indicators count an unrecorded activity as not done.",
            ),
            "bullet",
        )
    )
    b.append(
        Para(
            t(
                f"隐私保护造成的信息损失：少于{p.min_cell}名学生的单元格不报告，小群体的结果因此不可见。",
                f"Privacy: cells of fewer than {p.min_cell} students are not reported, so very "
                "small groups are invisible.",
            ),
            "bullet",
        )
    )
    if p.synthetic:
        b.append(
            Para(
                t(
                    "本报告使用的是合成数据（模拟学校），数字只用于演示分析流程，不能用于评价任何真实学校或导师。",
                    "This report uses synthetic data (a simulated school): the numbers demonstrate "
                    "the analysis and judge no real school or mentor.",
                ),
                "bullet",
            )
        )
    b.append(
        Todo(
            t(
                "其他需要说明的局限（如实施过程中的变化、数据收集方式的改变）。",
                "Other limitations (changes in how the programme ran or how data were collected).",
            )
        )
    )
    return Section("limitations", t("局限", "Limitations"), b)


def pilot_review(
    processed,
    *,
    lang: str = "zh",
    public: bool = True,
    min_cell: int = MIN_CELL,
    seed: int = 0,
    draws: int = 10,
    analyses: PilotAnalyses | None = None,
) -> Report:
    """Draft the three-year pilot review (三年试点评估报告).

    Parameters
    ----------
    processed : mentorlib.data.Processed
        The study (every year of the pilot).
    lang : {"zh", "en"}, default "zh"
    public : bool, default True
        False: the internal version (technical notes; its title says 内部版 / internal).
    min_cell : int, default 5
    seed : int, default 0
    draws : int, default 10
        Simulation draws of the grouping-policy comparison.
    analyses : PilotAnalyses, optional
        Precomputed :func:`analyse_pilot` results (same min_cell).

    Returns
    -------
    Report
        Sections :data:`REVIEW_SECTIONS`; ``kpis`` holds one row per KPI and year.
    """
    t = _L(lang)
    p = (
        analyses
        if analyses is not None
        else analyse_pilot(processed, min_cell=min_cell, seed=seed, draws=draws)
    )
    if p.min_cell != min_cell:
        raise InputError("the analyses passed were computed with another min_cell")
    k = _review_kpis(p, t)
    title, subtitle, front = _title_page(processed, "pilot_review", p.years, public, p.synthetic, t)
    sections = [
        _rsec_summary(p, t),
        _rsec_trends(p, t, k),
        _rsec_goals(p, t),
        _rsec_cohort(p, t),
        _rsec_stability(p, t),
        _rsec_grouping(p, t),
        _rsec_limitations(p, t),
        _sec_judgement(t, "pilot_review"),
        _sec_methods(t, review=True, min_cell=min_cell),
    ]
    if not public and p.notes:
        sections[-2].blocks[1:1] = [
            Heading(t("分析过程中的技术说明（内部）", "Technical notes (internal)"))
        ] + [Para(n, "bullet") for n in p.notes]
    return Report(
        kind="pilot_review",
        lang=lang,
        public=public,
        years=p.years,
        title=title,
        subtitle=subtitle,
        front=front,
        sections=sections,
        kpis=k,
        meta={
            "school": processed.school,
            "study": processed.name,
            "level": processed.level,
            "synthetic": p.synthetic,
            "min_cell": min_cell,
            "seed": seed,
        },
        disclosure=p.disclosure,
    )
