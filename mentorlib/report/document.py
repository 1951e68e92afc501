"""The document model of a report: sections of paragraphs, tables, figures and placeholders.

A :class:`Report` is independent of its output format; :mod:`mentorlib.report.render` turns it
into Markdown, self-contained HTML or Word (:meth:`Report.to_markdown`, :meth:`Report.to_html`,
:meth:`Report.to_docx`, :meth:`Report.write`).

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

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import outputs
from ..errors import InputError
from .render.fmt import zh_number

__all__ = ["Block", "Figure", "Heading", "Para", "Report", "Section", "Table", "Todo"]


@dataclass
class Para:
    """A paragraph. ``kind``: "text", "lead" (emphasised), "note" (small print), "bullet",
    "sign" (落款: the school and the date, right-aligned)."""

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
    """A top-level section: ``key`` (stable, e.g. ``"kpi"``), title, blocks in order.

    ``appendix``: the section belongs to the appendix (附录) a principal may skip; its title is
    numbered 附录一 / Appendix A. ``numbered=False``: the title is printed as it is (the
    signature block, 落款).
    """

    key: str
    title: str
    blocks: list = field(default_factory=list)
    appendix: bool = False
    numbered: bool = True


Block = Para | Heading | Todo | Table | Figure


@dataclass
class Report:
    """A drafted document, independent of its output format.

    Attributes
    ----------
    kind : {"annual_summary", "pilot_review", "district_summary"}
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
            base = {
                "annual_summary": "年度总结",
                "pilot_review": "三年试点评估报告",
                "district_summary": "区域总结",
            }[self.kind]
            return f"{base}_{span}学年" + ("" if self.public else "_内部版")
        return f"{self.kind}_{span}" + ("" if self.public else "_internal")

    @property
    def section_keys(self) -> list[str]:
        """The keys of the sections, in order."""
        return [s.key for s in self.sections]

    def section(self, key: str) -> Section:
        """The section with this key (KeyError when there is none)."""
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(f"no section {key!r}; have {self.section_keys}")

    def numbered(self) -> list[tuple[Section, str, list[tuple[Block, str]]]]:
        """Sections with their numbered titles, and each block with its numbered caption
        (tables and figures; "" for the other blocks)."""
        out: list[tuple[Section, str, list[tuple[Block, str]]]] = []
        nt = nf = 0
        for s, title in zip(self.sections, self._titles(), strict=True):
            blocks: list[tuple[Block, str]] = []
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
                    blocks.append((b, ""))
            out.append((s, title, blocks))
        return out

    def _titles(self) -> list[str]:
        """Numbered section titles: body sections 一、 / 1, appendix sections 附录一　 /
        Appendix A., unnumbered ones as they are."""
        out, i, j = [], 0, 0
        for s in self.sections:
            if not s.numbered:
                out.append(s.title)
            elif s.appendix:
                j += 1
                out.append(
                    f"附录{zh_number(j)}　{s.title}"
                    if self.lang == "zh"
                    else f"Appendix {chr(64 + j) if j <= 26 else j}. {s.title}"
                )
            else:
                i += 1
                out.append(f"{zh_number(i)}、{s.title}" if self.lang == "zh" else f"{i} {s.title}")
        return out

    def figures(self) -> list[tuple[str, Figure]]:
        """(file name, figure) of every figure, in order (``fig01_<key>.png``)."""
        out: list[tuple[str, Figure]] = []
        for s in self.sections:
            for b in s.blocks:
                if isinstance(b, Figure):
                    out.append((f"fig{len(out) + 1:02d}_{b.key}.png", b))
        return out

    def todo_label(self) -> str:
        """The mark of a place for the researcher: 【待补充】 or "[to be completed] "."""
        return "【待补充】" if self.lang == "zh" else "[to be completed] "

    # ------------------------------------------------------------------ text

    def text(self) -> str:
        """Every word of the document as plain text (for checks and diffs)."""
        lines = [self.title, self.subtitle, *self.front]
        for _s, title, blocks in self.numbered():
            lines.append(title)
            for b, cap in blocks:
                if isinstance(b, Para | Heading):
                    lines.append(b.text)
                elif isinstance(b, Todo):
                    lines.append(f"{self.todo_label()}{b.text}")
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
        from .render.md import to_markdown  # the renderers import this module

        return to_markdown(self, figure_dir)

    # ------------------------------------------------------------------ html

    def to_html(self, *, embed_font: bool = True) -> str:
        """One self-contained HTML page: CSS, figures (data: URIs) and, by default, a subset
        of the bundled CJK font inline. No external reference of any kind."""
        from .render.html import to_html  # the renderers import this module

        return to_html(self, embed_font=embed_font)

    # ------------------------------------------------------------------ docx

    def to_docx(self) -> bytes:
        """The Word document as bytes (real tables, embedded PNGs, East Asian fonts set)."""
        from .render.docx import to_docx  # the renderers import this module (and python-docx)

        return to_docx(self)

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
        paths: list[Path] = []
        extra: list[Path] = []
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
