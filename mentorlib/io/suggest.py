"""A draft codebook for a questionnaire the built-in codebooks do not know.

:func:`suggest_codebook` reads one source (a 问卷星/腾讯问卷 export or any sheet with a header
row), and writes a study-local codebook TOML (format: :mod:`mentorlib.io.codebook`) for the
researcher to confirm: the identity questions (姓名, 学籍号, 班级, 性别) as the level's
assessment codebook reads them, one field per other question with its header as the text, and
the answer scale detected from the values (the labels of a built-in scale, numbers 1..k, or the
labels found). What a program cannot know is left to the researcher, marked ``TODO``: which
dimension each item measures (suggested from the matrix stem, on lines starting ``#> `` to
uncomment once checked), reverse keying, and the order of labels no built-in scale has.

Examples
--------
``mentorlib codebook suggest data/raw/myschool --source surveys/新问卷.csv`` writes
``data/raw/myschool/新问卷.codebook.toml``; then, in study.toml, ``codebook =
"新问卷.codebook.toml"`` for that source.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from .codebook import (
    Codebook,
    Scale,
    builtin_names,
    default_codebook,
    header_forms,
    load_codebook,
    norm_text,
)
from .readers import MAX_HEADER_SCAN, TENCENT_SYSTEM, WJX_SYSTEM, _cell_str, read_file
from .study import load_config

#: Most distinct text answers a column may have to be read as a scale or a single choice.
MAX_LABELS = 7
_NUM = re.compile(r"^[+\-]?\d+(?:\.0+)?$")
_ATTENTION = re.compile(r"请选择[“\"'「]?(.+?)[”\"'」]?$")
_STEM_SEP = re.compile(r"—|–|--|[-_:：]")


@dataclass
class _Column:
    header: str
    values: list[str]


def _q(s: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML)."""
    return json.dumps(str(s), ensure_ascii=False)


def _header_row(cells) -> int:
    """The first row (of the first few) with nearly as many filled cells as the fullest."""
    scan = min(MAX_HEADER_SCAN, len(cells))
    counts = [int(cells.iloc[i].notna().sum()) for i in range(scan)]
    top = max(counts, default=0)
    return next(i for i, c in enumerate(counts) if c >= 0.8 * top)


def _read_columns(path: Path, rel: str, encoding: str | None) -> list[_Column]:
    sheets = [s for s in read_file(path, rel, encoding=encoding) if not s[1].empty]
    if not sheets:
        raise InputError("no rows to suggest a codebook from", file=rel)
    _, cells, _ = sheets[0]
    h = _header_row(cells)
    out = []
    for j in range(cells.shape[1]):
        header = _cell_str(cells.iat[h, j])
        vals = [_cell_str(v) for v in cells.iloc[h + 1 :, j]]
        if header:
            out.append(_Column(header, [v for v in vals if v]))
    return out


def _known_scales() -> list[Scale]:
    seen: dict[tuple, Scale] = {}
    for name in builtin_names():
        for sc in load_codebook(name).scales.values():
            seen.setdefault((sc.labels, sc.values), sc)
    return list(seen.values())


def _scale_for(values: list[str], scales: list[Scale]) -> tuple[Scale, str] | None:
    """A scale the answers fit, with a note on how sure (None: not a scale)."""
    if not values:
        return None
    nums = [int(float(v)) for v in values if _NUM.match(unicodedata.normalize("NFKC", v))]
    if len(nums) >= 0.9 * len(values):
        top = max((n for n in nums if 1 <= n <= MAX_LABELS), default=0)
        fits = [s for s in scales if s.values == tuple(range(1, len(s.values) + 1))]
        fits = [s for s in fits if len(s.values) >= top >= 3]
        if not fits:
            return None
        sc = min(fits, key=lambda s: len(s.values))
        return sc, f"answers were numbers 1-{top}: TODO check these labels are the form's"
    labs = {norm_text(v) for v in values}
    for sc in scales:
        if labs <= {norm_text(x) for x in sc.labels}:
            return sc, ""
    return None


def _stem(header: str) -> str | None:
    parts = [p for p in _STEM_SEP.split(header) if norm_text(p)]
    return norm_text(parts[-2]) if len(parts) > 1 else None


def _bare(header: str) -> str:
    """The header without its question number (the text a field matches it by)."""
    t = unicodedata.normalize("NFKC", header).strip()
    return re.sub(r"^\s*(?:第?\s*\d+\s*题?|[Qq]\s*\d+)\s*[、.:)]?\s*", "", t) or t


def _identity(col: _Column, cb: Codebook) -> str | None:
    forms = set(header_forms(col.header))
    for f in cb.fields:
        if f.type != "likert" and forms & {norm_text(t) for t in f.text}:
            return f.var
    return None


def suggest_codebook(study_dir: str | Path, source: str | Path, *, kind: str = "assessment") -> str:
    """The text of a draft codebook for ``source`` (a path relative to the study folder).

    Raises
    ------
    InputError
        The study or the source cannot be read, or the source has no header row.
    """
    cfg = load_config(study_dir)
    rel = str(source)
    path = Path(source) if Path(source).is_absolute() else cfg.root / source
    declared = next((s.encoding for s in cfg.sources if s.path == rel), None)
    cols = _read_columns(path, rel, declared)
    ref = load_codebook(default_codebook("assessment", cfg.level))
    scales = _known_scales()
    system = {*WJX_SYSTEM, *TENCENT_SYSTEM}
    body: list[str] = []
    used: dict[str, Scale] = {}
    dims: dict[str, str] = {}  # stem -> dimension key
    taken: set[str] = set()
    for k, col in enumerate(cols, 1):
        if col.header in system:
            continue
        var = _identity(col, ref)
        if var and var not in taken:
            taken.add(var)
            f = ref.field(var)
            body += ["[[fields]]", f"var = {_q(var)}"]
            texts = dict.fromkeys((_bare(col.header), *f.text))
            body.append(f"text = [{', '.join(_q(t) for t in texts)}]")
            body.append(f"type = {_q(f.type)}")
            if f.options:
                body.append(f"options = [{', '.join(_q(o) for o in f.options)}]")
            body.append("")
            continue
        body += _item_lines(f"item_{k}", col, scales, used, dims)
    return _assemble(cfg.name, kind, cfg.level, rel, used, dims, body)


def _item_lines(
    var: str, col: _Column, scales: list[Scale], used: dict[str, Scale], dims: dict[str, str]
) -> list[str]:
    out = ["[[fields]]", f"var = {_q(var)}", f"text = {_q(_bare(col.header))}"]
    fit = _scale_for(col.values, scales)
    distinct = list(dict.fromkeys(col.values))
    if fit is None:
        if distinct and len(distinct) <= MAX_LABELS:
            opts = ", ".join(_q(v) for v in distinct)
            return [*out, 'type = "single"', f"options = [{opts}]", "required = false", ""]
        return [*out, 'type = "text"', "required = false", ""]
    sc, note = fit
    name = next((n for n, s in used.items() if s == sc), f"scale{len(used) + 1}")
    used[name] = sc
    out += ['type = "likert"', f"scale = {_q(name)}"]
    if note:
        out.append(f"# {note}")
    m = _ATTENTION.search(unicodedata.normalize("NFKC", col.header))
    hit = [v for lab, v in zip(sc.labels, sc.values, strict=True) if m and m.group(1) == lab]
    if hit:
        return [*out, f"attention = {hit[0]}  # TODO check: an attention check", ""]
    stem = _stem(col.header)
    if stem:
        dims.setdefault(stem, f"dim{len(dims) + 1}")
    dim = dims[stem] if stem else "TODO"
    out.append(f"#> dimension = {_q(dim)}  # TODO check the dimension")
    out.append("# reverse = true  # TODO uncomment if the item is reverse-keyed")
    return [*out, ""]


def _assemble(
    study: str,
    kind: str,
    level: str,
    rel: str,
    used: dict[str, Scale],
    dims: dict[str, str],
    body: list[str],
) -> str:
    head = [
        f"# Draft codebook for {rel}, written by `mentorlib codebook suggest`.",
        "# Check every TODO; lines starting '#> ' are suggestions: remove the '#> ' to accept.",
        '# Then name this file in study.toml for the source: codebook = "<this file>".',
        "[codebook]",
        f"name = {_q(f'{study}_{Path(rel).stem}')}",
        f"kind = {_q(kind)}",
        f"level = {_q(level)}",
        f"title = {_q(Path(rel).stem)}",
        "",
    ]
    for name, sc in used.items():
        head += [
            f"[scales.{name}]",
            f"labels = [{', '.join(_q(x) for x in sc.labels)}]",
            f"values = [{', '.join(str(v) for v in sc.values)}]",
            "",
        ]
    for stem, key in dims.items():
        head += [
            "# TODO: the dimension's name (a key), its label and its published reliability",
            f"#> [dimensions.{key}]",
            f"#> label = {_q(stem)}",
            f"#> stem = {_q(stem)}",
            "# published_alpha = 0.80",
            "",
        ]
    return "\n".join(head + body)


def write_suggestion(
    study_dir: str | Path, source: str | Path, out: str | Path | None = None
) -> Path:
    """Write :func:`suggest_codebook`'s draft (default: ``<study>/<source name>.codebook.toml``);
    an existing file is never overwritten."""
    text = suggest_codebook(study_dir, source)
    root = Path(study_dir)
    dest = Path(out) if out else root / f"{Path(source).stem}.codebook.toml"
    if dest.exists():
        raise InputError(
            "already exists: not overwritten (pass --out another file)", file=str(dest)
        )
    dest.write_text(text, encoding="utf-8")
    return dest
