"""Codebooks: declarative maps from raw headers and answers to canonical variables.

A codebook is a TOML file. The built-in ones live in ``mentorlib/io/codebooks/``; a study can
point a source at its own file (``codebook = "my_survey.toml"`` in ``study.toml``, relative to
the study folder). The format::

    [codebook]
    name = "assessment_primary"      # unique name
    kind = "assessment"              # the source kind it reads (see DESIGN.md)
    level = "primary"                # optional
    title = "小学生成长发展评估问卷"

    [scales.agree5]                  # answer scales for likert items
    labels = ["完全不符合", "比较不符合", "不确定", "比较符合", "完全符合"]
    values = [1, 2, 3, 4, 5]

    [dimensions.moral]               # scale / dimension membership
    label = "品德发展"
    stem = "品德发展情况"            # matrix stem used in survey headers
    published_alpha = 0.80           # a published reliability, for the reliable change index
    direction = "up"                 # which way is improvement

    [[fields]]                       # one per question or column
    var = "moral_5"                  # canonical variable (snake_case)
    text = "我经常和同学争吵"        # header text, or a list of accepted alternatives
    type = "likert"                  # see FIELD_TYPES
    scale = "agree5"
    dimension = "moral"
    reverse = true                   # reverse-keyed item
    # optional: options / codes (single, multi), other = true (其他〖…〗), range = [lo, hi],
    # attention = 4 (an attention check and its expected answer), required = false,
    # subject = "math" and full_marks = 120 (an exam score column),
    # aliases = { "label" = "code" } (more spellings of an option)

A questionnaire that changes between years carries its versions, each applied from its
school year on (:meth:`Codebook.for_year`; the cleaner reads a source with the version in force
in its ``year`` and records the version's label in ``study.json``)::

    [[versions]]
    from_year = 2024                 # in force from this school year on
    label = "2024版"                 # optional (default: the year)
    drop = ["habits_3"]              # questions no longer asked
    rename = { moral_1 = "同学有困难时我会主动帮忙" }   # new wording (the old still matches)
    scales = { agree5 = ["非常不同意", "不同意", "说不清", "同意", "非常同意"] }  # new labels,
                                     # same values
    options = { gender = ["男生", "女生"] }   # new option labels of a single-choice field

    [[versions.add]]                 # a new question of that version, written like [[fields]]
    var = "habits_7"
    text = "我每天运动一小时"
    type = "likert"
    scale = "agree5"
    dimension = "habits"

The codebook as written lists every question of every version (so all years score together);
change scores use the items both waves of a year asked (:func:`mentorlib.scales.keep_shared`).

Header matching ignores question numbering ("5、", "Q5.", "第5题"), punctuation, spaces and
character width, and a matrix header "N、题干—子题" matches the field whose text is the sub-item.
It also tolerates wording drift between years (:func:`header_forms`): hints added in brackets
("你的学籍号（以G开头）"), section prefixes ("学习情况-", "【学习情况】") and, failing an exact
match, small rewordings scored by character similarity (:func:`similarity`) of at least
:data:`FUZZY_THRESHOLD`.

Examples
--------
>>> cb = load_codebook("assessment_primary")
>>> cb.field("moral_5").reverse
True
>>> list(cb.dimensions)
['moral', 'academic', 'psychological', 'habits']
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

from rapidfuzz import fuzz

FIELD_TYPES = {
    "student_id",  # 学籍号, read as text
    "staff_id",  # 工号, read as text
    "name",  # a student's name (for linkage; never in outputs)
    "staff_name",
    "gender",
    "grade",
    "grade_class",  # 三年级2班, 初一(3)班, 3-2 ...
    "class_list",  # several classes in one cell
    "date",
    "datetime",
    "duration",
    "month",
    "school_year",
    "term",
    "bool",
    "single",
    "multi",
    "likert",
    "number",
    "score",
    "text",
    "staff_choice",
}


class CodebookError(ValueError):
    """A codebook file that cannot be read or is inconsistent."""


@dataclass(frozen=True)
class Scale:
    labels: tuple[str, ...]
    values: tuple[int, ...]

    @property
    def range(self) -> tuple[int, int]:
        return min(self.values), max(self.values)


@dataclass(frozen=True)
class Dimension:
    name: str
    label: str
    stem: str | None = None
    published_alpha: float | None = None
    direction: str = "up"


@dataclass(frozen=True)
class Field:
    var: str
    text: tuple[str, ...]
    type: str
    required: bool = True
    options: tuple[str, ...] = ()
    codes: tuple = ()
    aliases: dict = field(default_factory=dict)
    other: bool = False
    scale: str | None = None
    dimension: str | None = None
    reverse: bool = False
    attention: int | None = None
    range: tuple[float, float] | None = None
    subject: str | None = None
    full_marks: float | None = None  # an exam score's full mark (100, 120, 150)
    stem: str | None = None
    stem_of: str | None = None

    @property
    def label(self) -> str:
        """The field's main header text."""
        return self.text[0]

    def code_of(self) -> dict[str, object]:
        """Option label (normalised) -> canonical code, including aliases."""
        codes = self.codes or self.options
        out = {norm_text(o): c for o, c in zip(self.options, codes, strict=True)}
        out.update({norm_text(k): v for k, v in self.aliases.items()})
        return out


@dataclass(frozen=True)
class Version:
    """A change of the questionnaire from a school year on (``[[versions]]`` in the TOML)."""

    from_year: int
    label: str
    drop: tuple[str, ...] = ()
    add: tuple[str, ...] = ()
    rename: dict = field(default_factory=dict)
    scales: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Codebook:
    name: str
    kind: str
    title: str
    fields: tuple[Field, ...]
    scales: dict[str, Scale]
    dimensions: dict[str, Dimension]
    level: str | None = None
    options: dict = field(default_factory=dict)
    option_dimensions: dict = field(default_factory=dict)
    path: str | None = None
    versions: tuple[Version, ...] = ()
    #: The version this codebook is (:meth:`for_year`); None for a codebook as written.
    version: str | None = None

    def version_of(self, year: int | None) -> str | None:
        """The label of the version in force in ``year`` (None: the base questionnaire)."""
        in_force = [v for v in self.versions if year is not None and v.from_year <= year]
        return in_force[-1].label if in_force else None

    def for_year(self, year: int | None) -> Codebook:
        """The questionnaire as asked in ``year``: the versions from that year or before
        applied in order (items dropped, added, reworded; answer labels changed).

        The codebook as written (every item any version asks, so that the answers of all
        years can be scored together) is returned when it has no versions.
        """
        if not self.versions or year is None:
            return self
        later = {a for v in self.versions if v.from_year > year for a in v.add}
        active = {f.var for f in self.fields} - later
        rename: dict[str, tuple[str, ...]] = {}
        scales = dict(self.scales)
        options: dict[str, tuple[str, ...]] = {}
        for v in self.versions:
            if v.from_year > year:
                break
            active = (active - set(v.drop)) | set(v.add)
            for var, text in v.rename.items():  # the new wording first, the old still accepted
                rename[var] = (*_as_tuple(text), *rename.get(var, self.field(var).text))
            for name, labels in v.scales.items():
                scales[name] = Scale(tuple(labels), scales[name].values)
            options.update({k: tuple(o) for k, o in v.options.items()})
        fields = []
        for f in self.fields:
            if f.var not in active:
                continue
            if f.var in rename:
                f = replace(f, text=rename[f.var])
            if f.var in options:  # new labels, the same canonical codes
                f = replace(f, options=options[f.var], codes=f.codes or f.options)
            fields.append(f)
        return replace(
            self, fields=tuple(fields), scales=scales, versions=(), version=self.version_of(year)
        )

    def field(self, var: str) -> Field:
        for f in self.fields:
            if f.var == var:
                return f
        raise KeyError(f"codebook {self.name!r} has no field {var!r}")

    def has(self, var: str) -> bool:
        return any(f.var == var for f in self.fields)

    @property
    def items(self) -> tuple[Field, ...]:
        """Likert items that belong to a dimension (attention checks excluded)."""
        return tuple(f for f in self.fields if f.type == "likert" and f.dimension)

    def items_of(self, dimension: str) -> tuple[Field, ...]:
        return tuple(f for f in self.items if f.dimension == dimension)

    @property
    def score_fields(self) -> tuple[Field, ...]:
        """An exam book's score columns: one per subject (语文, 数学 …) and the one 成绩 column."""
        return tuple(f for f in self.fields if f.type == "score")

    @property
    def attention_checks(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.attention is not None)

    def scale_of(self, f: Field) -> Scale:
        if f.scale is None or f.scale not in self.scales:
            raise CodebookError(f"codebook {self.name!r}: field {f.var!r} has no scale")
        return self.scales[f.scale]


_NUMBERING = re.compile(r"^\s*(?:第?\s*[0-9０-９]+\s*题?|[QqＱ]\s*[0-9０-９]+)\s*[、.．:：)）]?\s*")
_DROP = re.compile(r"[\s\W_]+", re.UNICODE)


def norm_text(s: str) -> str:
    """Normalise header or label text: NFKC width folding, no numbering, punctuation, spaces.

    >>> norm_text("５、我会主动帮助有困难的同学！")
    '我会主动帮助有困难的同学'
    >>> norm_text("Q12. 你的性别")
    '你的性别'
    """
    s = unicodedata.normalize("NFKC", str(s))
    s = _NUMBERING.sub("", s)
    return _DROP.sub("", s).lower()


#: Lowest character similarity (0-100, :func:`similarity`) at which a reworded header is taken
#: for a codebook question when no header matches it exactly. A method setting, not a
#: programme rule: 85 accepts one or two characters added or changed in a ten-character
#: question ("上课时我能够专心听讲" for "上课时我能专心听讲": 95) and rejects a different
#: question that shares most of its words ("上课时我能专心做笔记": 74).
FUZZY_THRESHOLD = 85.0

_HINT = re.compile(r"\([^()]*\)|【[^【】]*】|\[[^\[\]]*\]")
_SECTION_SEP = re.compile(r"—|–|--|[-_:|/】]")
_EDGE_PUNCT = " :?.!*。,;、"


def header_forms(s: str) -> tuple[str, ...]:
    """The normalised forms a header may match a codebook text by, most literal first.

    The whole header (:func:`norm_text`); the header without bracketed hints and section
    markers (（…）, (...), 【…】, [...]); and the text after its last section separator
    ("学习情况—…", "学习情况-…", "学习情况：…"). Empty forms and repeats are left out.

    >>> header_forms("2、你的学籍号（以G开头，不清楚请问班主任）：")
    ('你的学籍号以g开头不清楚请问班主任', '你的学籍号')
    >>> header_forms("【学习情况】上课时我能专心听讲")
    ('学习情况上课时我能专心听讲', '上课时我能专心听讲')
    >>> header_forms("6、学习情况-上课时我能专心听讲")
    ('学习情况上课时我能专心听讲', '上课时我能专心听讲')
    """
    t = unicodedata.normalize("NFKC", str(s))
    out = [norm_text(t)]
    bare = _HINT.sub(" ", t).strip(_EDGE_PUNCT)
    out.append(norm_text(bare))
    parts = [p for p in _SECTION_SEP.split(_NUMBERING.sub("", bare)) if norm_text(p)]
    if len(parts) > 1:
        out.append(norm_text(parts[-1]))
    return tuple(dict.fromkeys(x for x in out if x))


def similarity(a: str, b: str) -> float:
    """Character similarity of two normalised texts, 0-100 (``rapidfuzz.fuzz.ratio``: twice
    the characters in common over the total length; no partial or token matching, so a short
    text inside a long one does not score high).

    >>> round(similarity("上课时我能够专心听讲", "上课时我能专心听讲"))
    95
    """
    return float(fuzz.ratio(a, b))


def _as_tuple(x) -> tuple:
    if x is None:
        return ()
    if isinstance(x, list | tuple):
        return tuple(x)
    return (x,)


def _parse_field(f: dict, which: str, where: str, scales: dict, dims: dict) -> Field:
    """One ``[[fields]]`` entry (or a field a version adds), checked."""
    try:
        ftype = f["type"]
        var = f["var"]
    except KeyError as e:
        raise CodebookError(f"{where}: {which} lacks {e.args[0]!r}") from None
    if ftype not in FIELD_TYPES:
        raise CodebookError(f"{where}: field {var!r} has unknown type {ftype!r}")
    if f.get("scale") and f["scale"] not in scales:
        raise CodebookError(f"{where}: field {var!r} uses undefined scale {f['scale']!r}")
    if f.get("dimension") and f["dimension"] not in dims:
        raise CodebookError(f"{where}: field {var!r} uses undefined dimension")
    opts, codes = _as_tuple(f.get("options")), _as_tuple(f.get("codes"))
    if codes and len(codes) != len(opts):
        raise CodebookError(f"{where}: field {var!r} has {len(opts)} options, {len(codes)} codes")
    rng = f.get("range")
    return Field(
        var=var,
        text=_as_tuple(f.get("text", var)),
        type=ftype,
        required=f.get("required", True),
        options=opts,
        codes=codes,
        aliases=dict(f.get("aliases", {})),
        other=f.get("other", False),
        scale=f.get("scale"),
        dimension=f.get("dimension"),
        reverse=f.get("reverse", False),
        attention=f.get("attention"),
        range=tuple(rng) if rng else None,
        subject=f.get("subject"),
        full_marks=f.get("full_marks"),
        stem=f.get("stem"),
        stem_of=f.get("stem_of"),
    )


def _parse_versions(
    raw: list, where: str, fields: list[Field], scales: dict, dims: dict
) -> tuple[Version, ...]:
    """``[[versions]]``, checked against the fields; the fields they add join ``fields``."""
    out = []
    for i, v in enumerate(raw, 1):
        year = v.get("from_year")
        if not isinstance(year, int):
            raise CodebookError(f"{where}: version #{i} needs from_year = <a school year>")
        added = [
            _parse_field(f, f"a field of version {year}", where, scales, dims)
            for f in v.get("add", [])
        ]
        fields.extend(added)
        known = {f.var for f in fields}
        opts = {f.var: len(f.options) for f in fields}
        for key in ("drop", "rename", "options"):
            bad = sorted(set(v.get(key, ())) - known)
            if bad:
                raise CodebookError(f"{where}: version {year} {key}s unknown field(s) {bad}")
        for name, labels in v.get("scales", {}).items():
            if name not in scales or len(labels) != len(scales[name].labels):
                raise CodebookError(
                    f"{where}: version {year} relabels scale {name!r}: it needs "
                    f"{len(scales[name].labels) if name in scales else 'a defined scale of'} labels"
                )
        for var, labels in v.get("options", {}).items():
            if len(labels) != opts[var]:
                raise CodebookError(
                    f"{where}: version {year} gives {var!r} {len(labels)} options, not {opts[var]}"
                )
        out.append(
            Version(
                from_year=year,
                label=str(v.get("label", year)),
                drop=tuple(v.get("drop", ())),
                add=tuple(f.var for f in added),
                rename=dict(v.get("rename", {})),
                scales={k: tuple(x) for k, x in v.get("scales", {}).items()},
                options={k: tuple(x) for k, x in v.get("options", {}).items()},
            )
        )
    return tuple(sorted(out, key=lambda x: x.from_year))


def _parse(data: dict, path: str | None) -> Codebook:
    where = path or "<codebook>"
    try:
        meta = data["codebook"]
        name, kind = meta["name"], meta["kind"]
    except KeyError as e:
        raise CodebookError(f"{where}: missing [codebook] {e.args[0]!r}") from None
    scales = {
        k: Scale(tuple(v["labels"]), tuple(v.get("values", range(1, len(v["labels"]) + 1))))
        for k, v in data.get("scales", {}).items()
    }
    dims = {
        k: Dimension(
            name=k,
            label=v.get("label", k),
            stem=v.get("stem"),
            published_alpha=v.get("published_alpha"),
            direction=v.get("direction", "up"),
        )
        for k, v in data.get("dimensions", {}).items()
    }
    fields = [
        _parse_field(f, f"field #{i}", where, scales, dims)
        for i, f in enumerate(data.get("fields", []), 1)
    ]
    versions = _parse_versions(data.get("versions", []), where, fields, scales, dims)
    vars_ = [f.var for f in fields]
    dup = {v for v in vars_ if vars_.count(v) > 1}
    if dup:
        raise CodebookError(f"{where}: duplicate field names {sorted(dup)}")
    return Codebook(
        name=name,
        kind=kind,
        title=meta.get("title", name),
        level=meta.get("level"),
        fields=tuple(fields),
        scales=scales,
        dimensions=dims,
        options=dict(data.get("options", {})),
        option_dimensions=dict(data.get("option_dimensions", {})),
        path=path,
        versions=versions,
    )


@lru_cache(maxsize=64)
def _load_builtin(name: str) -> Codebook:
    ref = resources.files("mentorlib.io.codebooks").joinpath(f"{name}.toml")
    if not ref.is_file():
        raise CodebookError(
            f"no built-in codebook {name!r}; built-in: {', '.join(builtin_names())}"
        )
    return _parse(tomllib.loads(ref.read_text(encoding="utf-8")), f"codebooks/{name}.toml")


def codebook_from_dict(data: dict, path: str | None = None) -> Codebook:
    """A codebook from its parsed TOML (a dict), e.g. one built in a test or a notebook."""
    return _parse(data, path)


def builtin_names() -> list[str]:
    """Names of the built-in codebooks."""
    root = resources.files("mentorlib.io.codebooks")
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml"))


def load_codebook(name_or_path: str | Path, *, base: Path | None = None) -> Codebook:
    """Load a built-in codebook by name, or a codebook file by path.

    Parameters
    ----------
    name_or_path : str or Path
        A built-in name (``"students"``, ``"assessment_primary"``...) or a ``.toml`` path.
    base : Path, optional
        Folder that relative paths are resolved against (the study folder).
    """
    s = str(name_or_path)
    if not s.endswith(".toml"):
        return _load_builtin(s)
    p = Path(s)
    if base is not None and not p.is_absolute():
        p = base / p
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CodebookError(f"{p}: codebook file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise CodebookError(f"{p}: not a valid TOML codebook ({e})") from None
    return _parse(data, str(p))


def default_codebook(kind: str, level: str) -> str:
    """Name of the built-in codebook for a source kind at a school level."""
    if kind in ("assessment", "needs_survey"):
        stem = "assessment" if kind == "assessment" else "needs"
        return f"{stem}_{level}"
    return kind


def option_labels(codebook: str, var: str) -> dict:
    """Canonical code -> label of a field's options (``option_labels("staff", "subject")``)."""
    f = load_codebook(codebook).field(var)
    return dict(zip(f.codes or f.options, f.options, strict=True))
