"""One self-contained HTML page of a report: CSS, figures and a CJK font subset inline."""

from __future__ import annotations

import base64
import html
import re

from ..document import Figure, Heading, Para, Report, Table, Todo
from .docx import column_widths, figure_cm
from .fonts import font_subset


def html_table(t: Table, cap: str) -> str:
    e = html.escape
    num = t.numeric_columns()
    cls = ["num" if n else "" for n in num]
    # the Word layout's column widths, as shares of the row: printed with table-layout:fixed,
    # a text column keeps its room instead of collapsing to one character a line
    w = column_widths(t, 9)
    cols = "".join(f'<col style="width:{x / sum(w) * 100:.1f}%">' for x in w)
    # a short table moves whole to the next page rather than leave its caption and header
    # row stranded; a long one splits between rows and repeats its header row (thead)
    short = " short" if len(t.data) <= 18 else ""
    out = [
        f'<div class="table-wrap{short}"><table><caption>{e(cap)}</caption>'
        f"<colgroup>{cols}</colgroup><thead><tr>"
    ]
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


CSS = """\
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
p.sign{text-align:right;margin:.2rem 0;}
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
@media print{html{background:#fff;}body{max-width:none;padding:0;margin:0;font-size:10.5pt;\
line-height:1.6;}\
h1,h2,h3,caption{break-after:avoid;page-break-after:avoid;}\
h2,h3{break-inside:avoid;}\
figure,figure img,tr,p.tnote{break-inside:avoid;page-break-inside:avoid;}\
thead{display:table-header-group;}\
.table-wrap{overflow:visible;}.table-wrap.short{break-inside:avoid;page-break-inside:avoid;}\
section>p:has(+.table-wrap),section>p:has(+figure){break-after:avoid;}\
table{width:100%;table-layout:fixed;font-size:8.5pt;}\
th,td{padding:.2rem .35rem;overflow-wrap:anywhere;}\
th{overflow-wrap:normal;word-break:keep-all;}\
td.num,th.num{overflow-wrap:normal;}\
figure img{max-width:100% !important;}\
nav.toc{display:none;}\
p.todo{background:#fff6d5;-webkit-print-color-adjust:exact;print-color-adjust:exact;}}
@page{size:A4;margin:20mm 18mm 22mm;\
@bottom-center{content:counter(page) " / " counter(pages);font-size:9pt;color:#59636e;}}
"""


def to_html(rep: Report, *, embed_font: bool = True) -> str:
    """One self-contained HTML page: CSS, figures (data: URIs) and, by default, a subset
    of the bundled CJK font inline. No external reference of any kind."""
    e = html.escape
    lang = "zh-CN" if rep.lang == "zh" else "en"
    body = ['<header class="front">', f"<h1>{e(rep.title)}</h1>"]
    if rep.subtitle:
        body.append(f'<p class="subtitle">{e(rep.subtitle)}</p>')
    body += [f'<p class="frontline">{e(x)}</p>' for x in rep.front]
    toc = "目录" if rep.lang == "zh" else "Contents"
    numbered = rep.numbered()
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
                    f'<p class="todo"><strong>{e(rep.todo_label().strip())}</strong>{e(b.text)}</p>'
                )
            elif isinstance(b, Table):
                body.append(html_table(b, cap))
            elif isinstance(b, Figure):
                uri = "data:image/png;base64," + base64.b64encode(b.png).decode("ascii")
                body.append(
                    f'<figure><img src="{uri}" alt="{e(cap)}" style="width:'
                    f'{figure_cm(b):.1f}cm;max-width:100%"><figcaption>{e(cap)}'
                    "</figcaption></figure>"
                )
        if in_list:
            body.append("</ul>")
        body.append("</section>")
    page = "\n".join(body)
    font_css = ""
    if embed_font:
        chars = "".join(sorted(set(html.unescape(re.sub(r"<[^>]+>", "", page)))))
        woff = font_subset(chars)
        if woff:
            font_css = (
                '@font-face{font-family:"MentorlibCJK";src:url(data:font/woff;base64,'
                + base64.b64encode(woff).decode("ascii")
                + ') format("woff");font-weight:100 900;}\n'
            )
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(rep.title)}</title>\n<style>\n{font_css}{CSS}</style>\n</head>\n"
        f"<body>\n{page}\n</body>\n</html>\n"
    )
