"""The Word document of a report: real tables, embedded PNGs, East Asian fonts set.

Reproducible: fixed core properties (dated the last day of the school year, never "now") and
fixed ZIP entry times, so the same report gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import zipfile

import docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_COLOR_INDEX
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from ..document import Figure, Heading, Para, Report, Table, Todo
from .fonts import BODY_EA, BODY_LATIN, HEAD_EA, HEAD_LATIN, east_asian_hint, set_fonts


def fonts_of(lang: str) -> tuple[str, str, str, str]:
    """(body Latin, body East Asian, heading Latin, heading East Asian) fonts of a language.

    A Chinese document draws its digits and Latin letters in the Chinese font of the same
    style (宋体 body, 微软雅黑 headings): one numeral font beside the Chinese, never a serif
    Times digit inside sans-serif Chinese. An English document keeps Times New Roman / Arial.
    """
    if lang == "zh":
        return BODY_EA, BODY_EA, HEAD_EA, HEAD_EA
    return BODY_LATIN, BODY_EA, HEAD_LATIN, HEAD_EA


def style_doc(doc, lang: str) -> None:
    body_latin, body_ea, head_latin, head_ea = fonts_of(lang)
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
        rfonts.set(qn(a), body_latin)
    rfonts.set(qn("w:eastAsia"), body_ea)
    if lang == "zh":
        rfonts.set(qn("w:hint"), "eastAsia")
    lang_el = rpr.find(qn("w:lang"))
    if lang_el is None:
        lang_el = rpr.makeelement(qn("w:lang"), {})
        rpr.append(lang_el)
    lang_el.set(qn("w:val"), "en-US")  # Latin text (numbers) breaks by Western rules
    lang_el.set(qn("w:eastAsia"), "zh-CN")

    normal = doc.styles["Normal"]
    set_fonts(normal.element, body_latin, body_ea)
    normal.font.size = Pt(10.5)
    pf = normal.paragraph_format
    pf.space_after = Pt(4)
    pf.line_spacing = 1.3
    for name, size in (("Title", 22), ("Subtitle", 14), ("Heading 1", 15), ("Heading 2", 12.5)):
        st = doc.styles[name]
        set_fonts(st.element, head_latin, head_ea)
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
    set_fonts(cap.element, head_latin if lang == "zh" else body_latin, head_ea)
    cap.font.size = Pt(9.5)
    cap.font.bold = True
    cap.font.italic = False
    cap.font.color.rgb = RGBColor(0x24, 0x3B, 0x53)
    # remove the title's bottom border of the default template (a stray rule in WPS)
    ppr = doc.styles["Title"].element.pPr
    if ppr is not None:
        for el in ppr.findall(qn("w:pBdr")):
            ppr.remove(el)


def shade(cell, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    shd = tcpr.makeelement(qn("w:shd"), {qn("w:val"): "clear", qn("w:color"): "auto"})
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


PAGE_TEXT_CM = 21.0 - 2 * 2.4


def png_cm(png: bytes) -> tuple[float, float]:
    """(width, height) in cm of a PNG at the resolution it was saved with
    (:func:`mentorlib.plots.fig_png`: 150 dpi): its size with every label at its point size."""
    w, h = struct.unpack(">II", png[16:24])
    dpi = 150.0
    i = png.find(b"pHYs")
    if i > 0:
        ppm = struct.unpack(">I", png[i + 4 : i + 8])[0]
        if png[i + 12] == 1 and ppm > 0:
            dpi = ppm * 0.0254
    return w / dpi * 2.54, h / dpi * 2.54


def figure_cm(fig: Figure) -> float:
    """The printed width of a figure: its own size (labels at their point size, never
    enlarged beyond ``fig.width``), at most the text width of the page."""
    return min(png_cm(fig.png)[0], fig.width, PAGE_TEXT_CM)


def text_units(text: str) -> float:
    """Width of a text in half-em units: a CJK character (and ≥ ≤ — …, which Chinese fonts
    draw full width) is 2; Latin about 1.25 (room for wider substitute fonts)."""
    return sum(2.0 if ord(ch) >= 0x2E80 or ch in "≥≤—…" else 1.25 for ch in str(text))


def unbroken_units(text: str) -> float:
    """Width of a numeric cell that may wrap before its bracket: "28.7%（26.2%–31.5%）"."""
    parts = re.split(r"(?=（)|(?<=）)| (?=\()", str(text))
    return max(text_units(x.strip()) for x in parts) if parts else 0.0


def column_widths(t: Table, font_pt: float) -> list[float]:
    """Column widths (cm) that fit the page: plain numbers never wrap; a number with a
    bracketed interval gives way first (the bracket moves to a second line), then text
    columns (they wrap), and only then is everything scaled."""
    unit = font_pt / 72 * 2.54 / 2  # half an em, in cm
    pad = 0.6  # cell margins and a little slack
    num = t.numeric_columns()
    natural, floor = [], []
    for j, h in enumerate(t.data.columns):
        values = list(t.data.iloc[:, j])
        cells = [text_units(v) for v in values] or [0.0]
        head = text_units(h)
        # a short header stays on one line; a long one may take two, broken between words
        # (its longest word, or a run of Chinese of up to four characters, never split)
        words = re.findall(r"[\u2e80-\uffff]{1,4}|[^\s\u2e80-\uffff]+", str(h)) or [""]
        head_min = head if head <= 16 else max(head / 2, 16.0)
        head_min = max(head_min, *(text_units(x) for x in words))
        need = max(max(cells), head_min, 3.0)
        natural.append(need * unit + pad)
        if num[j]:
            tight = max([unbroken_units(v) for v in values] + [head_min, 3.0])
        else:
            tight = max(head_min, min(need, 14.0))
        floor.append(min(natural[-1], tight * unit + pad))
    widths = list(natural)
    over = sum(widths) - PAGE_TEXT_CM
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
        widths = [w * PAGE_TEXT_CM / sum(widths) for w in widths]
    return widths


def docx_table(doc, t: Table, cap: str) -> None:
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
    widths = column_widths(t, font_pt)
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
                shade(cell, "EEF2F6")
    if t.note:
        n = doc.add_paragraph()
        run = n.add_run(t.note)
        run.font.size = Pt(8.5)
        n.paragraph_format.space_after = Pt(8)
    else:
        doc.add_paragraph().paragraph_format.space_after = Pt(2)


def add_field(paragraph, instr: str, shown: str = "") -> None:
    """A Word field (PAGE, NUMPAGES, TOC ...) in ``paragraph``, with ``shown`` as its
    cached result (what a reader sees until the field is updated)."""

    def fld(kind: str):
        r = paragraph.add_run()
        r._r.append(r._r.makeelement(qn("w:fldChar"), {qn("w:fldCharType"): kind}))
        return r

    fld("begin")
    r = paragraph.add_run()
    it = r._r.makeelement(qn("w:instrText"), {qn("xml:space"): "preserve"})
    it.text = f" {instr} "
    r._r.append(it)
    fld("separate")
    if shown:
        paragraph.add_run(shown)
    fld("end")


def page_footer(doc, lang: str) -> None:
    """Page numbers in the footer, centred: "第 3 页 / 共 14 页" or "3 / 14"."""
    p = doc.sections[0].footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    zh = lang == "zh"
    if zh:
        p.add_run("第 ")
    add_field(p, "PAGE", "1")
    p.add_run(" 页 / 共 " if zh else " / ")
    add_field(p, "NUMPAGES", "1")
    if zh:
        p.add_run(" 页")
    for r in p.runs:
        r.font.size = Pt(9)


def toc_field(doc, titles: list[str]) -> None:
    """A real table-of-contents field over the headings (levels 1-2), its cached result the
    section titles; Word is asked to update fields on opening (the page numbers)."""
    p = doc.add_paragraph()
    add_field(p, 'TOC \\o "1-2" \\h \\z \\u', "")
    # the cached result: one line per section until the reader updates the field
    fld_runs = p._p.findall(qn("w:r"))
    end = fld_runs[-1]
    p._p.remove(end)
    for t in titles:
        p.add_run(t).add_break()
    p._p.append(end)
    settings = doc.settings.element
    upd = settings.makeelement(qn("w:updateFields"), {qn("w:val"): "true"})
    settings.append(upd)


#: Where a long cover title may break: after the programme's name, before the year.
_TITLE_BREAKS = ("导师制", "mentorship programme")


def title_lines(title: str) -> list[str]:
    """The cover title in lines broken between words: after "…导师制" (never inside it),
    so a 22-point title does not break where the page runs out."""
    for mark in _TITLE_BREAKS:
        i = title.find(mark)
        if i > 0 and i + len(mark) < len(title):
            head, tail = title[: i + len(mark)], title[i + len(mark) :].lstrip(" ,:")
            return [head, tail]
    return [title]


def add_title(doc, title: str) -> None:
    """The cover title, one line break between :func:`title_lines`."""
    p = doc.add_paragraph(style="Title")
    for i, line in enumerate(title_lines(title)):
        if i:
            p.add_run().add_break()
        p.add_run(line)


def to_docx(rep: Report) -> bytes:
    doc = docx.Document()
    style_doc(doc, rep.lang)
    page_footer(doc, rep.lang)
    for _ in range(6):
        doc.add_paragraph()
    add_title(doc, rep.title)
    if rep.subtitle:
        doc.add_paragraph(rep.subtitle, style="Subtitle")
    doc.add_paragraph()
    for line in rep.front:
        p = doc.add_paragraph(line)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    numbered = rep.numbered()
    doc.add_paragraph()
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run("目录" if rep.lang == "zh" else "Contents").bold = True
    toc_field(doc, [title for _s, title, _b in numbered])
    doc.paragraphs[-1].add_run().add_break(WD_BREAK.PAGE)
    todo = rep.todo_label()
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
                elif b.kind == "sign":  # 落款: school and date at the right margin
                    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            elif isinstance(b, Todo):
                p = doc.add_paragraph()
                r1 = p.add_run(todo)
                r1.bold = True
                r1.font.highlight_color = WD_COLOR_INDEX.YELLOW
                r2 = p.add_run(b.text)
                r2.font.highlight_color = WD_COLOR_INDEX.YELLOW
            elif isinstance(b, Table):
                docx_table(doc, b, cap)
            elif isinstance(b, Figure):
                doc.add_picture(io.BytesIO(b.png), width=Cm(figure_cm(b)))
                doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
                doc.paragraphs[-1].paragraph_format.keep_with_next = True
                doc.add_paragraph(cap, style="Caption").alignment = WD_ALIGN_PARAGRAPH.CENTER
    if rep.lang == "zh":
        east_asian_hint(doc)
    cp = doc.core_properties
    cp.title = rep.title
    cp.subject = rep.subtitle
    cp.author = "mentorlib"
    cp.last_modified_by = "mentorlib"
    cp.comments = "Draft generated by mentorlib; every number comes from the analysis."
    cp.revision = 1
    stamp = dt.datetime(max(rep.years) + 1, 8, 31, 0, 0, 0)
    cp.created = cp.modified = stamp
    cp.last_printed = stamp
    buf = io.BytesIO()
    doc.save(buf)
    return fixed_zip(buf.getvalue())


def fixed_zip(data: bytes) -> bytes:
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
