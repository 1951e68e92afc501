"""Markdown of a report: pipe tables, figures linked beside it, every data text escaped."""

from __future__ import annotations

import re

import pandas as pd

from ..document import Figure, Heading, Para, Report, Table, Todo

MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])|<(?=[A-Za-z/!?])|(?<=[A-Za-z])(:)(?=//)|(?i:\b(www)\.)")


def md_text(text) -> str:
    r"""Text from the data made inert in Markdown: no raw HTML, links, images or emphasis.

    Backslash-escapes ``\ ` * _ [ ] | ~`` (so ``[x](url)`` and ``![`` are plain text and table
    pipes stay inside their cell), ``<`` before a letter, ``/``, ``!`` or ``?`` (no HTML tag,
    comment or autolink; "<5" stays as it is), and breaks bare web addresses (``http:\//``,
    ``www\.``) so no renderer turns them into links. Line breaks become spaces. Rendered, the
    text reads exactly as written.

    Examples
    --------
    >>> md_text("<script>x</script> [a](http://e.example) <5")
    '\\<script>x\\</script> \\[a\\](http\\://e.example) <5'
    """

    def sub(mt):
        if mt.group(3):
            return mt.group(3) + "\\."
        return "\\" + mt.group(0)

    return MD_SPECIAL.sub(sub, re.sub(r"[\r\n]+", " ", str(text)))


def md_cell(v) -> str:
    return md_text(v)


def md_table(df: pd.DataFrame) -> list[str]:
    head = "| " + " | ".join(md_cell(c) for c in df.columns) + " |"
    num = Table(df, "", "").numeric_columns()
    sep = "|" + "|".join("---:" if n else "---" for n in num) + "|"
    rows = ["| " + " | ".join(md_cell(v) for v in r) + " |" for r in df.itertuples(index=False)]
    return [head, sep, *rows]


def to_markdown(rep: Report, figure_dir: str | None = None) -> str:
    """Markdown (pipe tables); figures link to ``figure_dir/figNN_key.png``."""
    figure_dir = figure_dir or f"{rep.stem}_figures"
    names = iter(n for n, _ in rep.figures())
    m = md_text  # every text from the document is escaped: data never becomes markup
    out = [f"# {m(rep.title)}", ""]
    if rep.subtitle:
        out += [f"**{m(rep.subtitle)}**", ""]
    out += [f"{m(line)}  " for line in rep.front] + [""]
    for _s, title, blocks in rep.numbered():
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
                out += [f"> **{rep.todo_label().strip()}** {m(b.text)}", ""]
            elif isinstance(b, Table):
                out += [f"**{m(cap)}**", "", *md_table(b.data), ""]
                if b.note:
                    out += [f"*{m(b.note)}*", ""]
            elif isinstance(b, Figure):
                c = m(cap)
                out += [f"![{c}]({figure_dir}/{next(names)})", "", f"*{c}*", ""]
        if out[-1] != "":
            out.append("")
    return "\n".join(out).rstrip() + "\n"
