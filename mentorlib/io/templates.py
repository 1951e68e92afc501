"""Data-entry templates for schools: the workbooks and questionnaires mentorlib reads back.

``mentorlib templates OUT --level primary|middle`` writes a new study folder that a school fills
in: one workbook per record kind (学生名册, 教职工名册, 导师分组, 导师工作记录, 心情晴雨表 for a
primary school, 奖惩记录) whose headers are the built-in codebooks' own texts, with a drop-down
list on every coded column (options taken from the codebooks), a frozen header row, text-format
ID columns (so Excel never turns a 学籍号 into ``4.40106E+17``) and a 填写说明 sheet; each
questionnaire as a printable Markdown document and as a 问卷星 text-import file (numbered
questions, one option per line); and a ``study.toml`` naming every file, so that
``mentorlib clean OUT`` reads the filled-in folder without any editing.

Examples
--------
>>> [w.file for w in workbooks("middle")]  # doctest: +NORMALIZE_WHITESPACE
['名册/学生名册.xlsx', '名册/教职工名册.xlsx', '分组/导师分组.xlsx', '记录/导师工作记录.xlsx',
 '记录/奖惩记录.xlsx']
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import tomli_w
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..errors import InputError
from ..labels import TEMPLATE_TEXTS
from ..outputs import check_output_dir, write_bytes, write_text
from .codebook import Codebook, Field, load_codebook
from .study import MAX_NAME

LEVELS = ("primary", "middle")
GRADES = {
    "primary": ("一年级", "二年级", "三年级", "四年级", "五年级", "六年级"),
    "middle": ("七年级", "八年级", "九年级"),
}
TERMS = ("第一学期", "第二学期")
YES_NO = ("是", "否")
GENDERS = ("男", "女")
ID_TYPES = ("student_id", "staff_id")
MAX_ROWS = 2000  # rows the drop-down lists and text formats cover
WAVE_NAMES = {"": "", "pre": "_前测", "post": "_后测"}


@dataclass(frozen=True)
class Sheet:
    """One data-entry workbook: its file, the codebook it is read with, its example row."""

    file: str
    codebook: str
    example: dict[str, object]
    levels: tuple[str, ...] = LEVELS


_SHEETS = (
    Sheet(
        "名册/学生名册.xlsx",
        "students",
        {
            "学籍号": "G110101201601010016",
            "姓名": "张小明",
            "性别": "男",
            "出生日期": "2016-01-01",
            "班级": "三年级2班",
            "是否转入生": "否",
            "家庭结构": "双亲",
            "是否留守儿童": "否",
            "家庭住址片区": "城东",
        },
    ),
    Sheet(
        "名册/教职工名册.xlsx",
        "staff",
        {
            "工号": "01201",
            "姓名": "王芳",
            "性别": "女",
            "岗位": "班主任",
            "任教学科": "语文",
            "导师培训学时": 12,
            "是否取得导师证书": "是",
            "是否骨干导师": "否",
            "特长": "阅读;书法",
        },
    ),
    Sheet(
        "分组/导师分组.xlsx",
        "groups",
        {
            "学年": "2024-2025",
            "学期": "第一学期",
            "导师工号": "01201",
            "导师姓名": "王芳",
            "学籍号": "G110101201601010016",
            "学生姓名": "张小明",
            "开始日期": "2024-09-01",
        },
    ),
    Sheet(
        "记录/导师工作记录.xlsx",
        "activities",
        {
            "日期": "2024-09-12",
            "导师工号": "01201",
            "导师姓名": "王芳",
            "学生姓名": "张小明",
            "学籍号": "G110101201601010016",
            "活动类型": "谈心谈话",
            "方式": "面谈",
            "时长(分钟)": 20,
        },
    ),
    Sheet(
        "记录/心情晴雨表.xlsx",
        "mood",
        {
            "学籍号": "G110101201601010016",
            "姓名": "张小明",
            "班级": "三年级2班",
            "月份": "2024-09",
            "1日": "红",
            "2日": "黄",
        },
        ("primary",),
    ),
    Sheet(
        "记录/奖惩记录.xlsx",
        "rewards",
        {
            "日期": "2024-10-08",
            "学籍号": "G110101201601010016",
            "姓名": "张小明",
            "班级": "三年级2班",
            "类别": "奖励",
            "事由": "拾金不昧",
            "分值": 2,
        },
    ),
)

#: The questionnaires: (file stem, codebook of a level).
_SURVEYS = (
    ("成长需求问卷", "needs_{level}", "needs_survey"),
    ("发展评估问卷", "assessment_{level}", "assessment"),
    ("满意度调查", "satisfaction", "satisfaction"),
)


def workbooks(level: str) -> list[Sheet]:
    """The data-entry workbooks of a school level."""
    _check_level(level)
    return [s for s in _SHEETS if level in s.levels]


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise InputError(f"--level must be one of {', '.join(LEVELS)}, not {level!r}")


def choices(f: Field, level: str) -> tuple[str, ...]:
    """The drop-down list of a field (empty: free entry)."""
    if f.type == "gender":
        return f.options or GENDERS
    if f.type == "bool":
        return f.options or YES_NO
    if f.type in ("single", "likert") and f.options:
        return f.options
    if f.type == "grade":
        return GRADES[level]
    if f.type == "term":
        return TERMS
    return ()


def columns(cb: Codebook, level: str) -> list[tuple[str, tuple[str, ...], bool]]:
    """(header, drop-down options, is an ID) of each column of a workbook."""
    cols = [(f.label, choices(f, level), f.type in ID_TYPES) for f in cb.fields]
    if cb.kind == "mood":
        colours = tuple(cb.options.get("colours", ()))
        cols += [(f"{d}日", colours, False) for d in range(1, 32)]
    return cols


def workbook_bytes(sheet: Sheet, level: str) -> bytes:
    """One data-entry workbook as .xlsx bytes."""
    cb = load_codebook(sheet.codebook)
    cols = columns(cb, level)
    wb = Workbook()
    ws = wb.active
    ws.title = cb.title
    ws.append([c[0] for c in cols])
    ws.freeze_panes = "A2"
    lists = wb.create_sheet("选项")
    lists.sheet_state = "hidden"
    for j, (header, opts, is_id) in enumerate(cols, 1):
        letter = get_column_letter(j)
        ws.cell(1, j).font = Font(bold=True)
        ws.column_dimensions[letter].width = max(8, 2 * len(header) + 2)
        if is_id:  # a column style: Excel formats what is typed there as text
            ws.column_dimensions[letter].number_format = "@"
        if opts:
            for i, o in enumerate(opts, 1):
                lists.cell(i, j, o)
            dv = DataValidation(
                type="list", formula1=f"=选项!${letter}$1:${letter}${len(opts)}", allow_blank=True
            )
            dv.error, dv.errorTitle = TEMPLATE_TEXTS["pick"][0], cb.title
            dv.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
            ws.add_data_validation(dv)
    _guide(wb.create_sheet("填写说明"), sheet, cols)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _guide(ws, sheet: Sheet, cols) -> None:
    t = TEMPLATE_TEXTS
    ws.append([t["column"][0], t["how"][0], t["example_col"][0]])
    for header, opts, is_id in cols:
        if is_id:
            how = TEMPLATE_TEXTS["id"][0]
        elif opts:
            how = TEMPLATE_TEXTS["choose"][0] + "、".join(opts)
        else:
            how = ""
        ws.append([header, how, sheet.example.get(header)])
    ws.append([])
    ws.append([t["rows"][0]])
    ws.append([t["dates"][0]])
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 60
    ws.column_dimensions["C"].width = 24
    ws.freeze_panes = "A2"


def _question(f: Field, cb: Codebook) -> tuple[str, tuple[str, ...]]:
    """(问卷星 question type, options) of a questionnaire field."""
    if f.type == "likert":
        return "单选题", cb.scale_of(f).labels
    if f.type == "multi":
        return "多选题", f.options + (("其他〖〗",) if f.other else ())
    if f.type in ("single", "gender", "bool") and (f.options or f.type != "single"):
        return "单选题", (f.options or (GENDERS if f.type == "gender" else YES_NO)) + (
            ("其他〖〗",) if f.other else ()
        )
    return "填空题", ()


def _question_text(f: Field, cb: Codebook) -> str:
    stem = f.stem or (cb.dimensions[f.dimension].stem if f.dimension else None)
    stem = stem or (cb.dimensions[f.stem_of].stem if f.stem_of in cb.dimensions else None)
    return f"{stem}—{f.label}" if stem and f.type == "likert" else f.label


def wjx_text(cb: Codebook) -> str:
    """A questionnaire in 问卷星's text-import format (numbered questions, one option a line)."""
    lines = [cb.title, ""]
    for i, f in enumerate(cb.fields, 1):
        qtype, opts = _question(f, cb)
        lines.append(f"{i}. {_question_text(f, cb)}[{qtype}]")
        lines.extend(opts)
        lines.append("")
    return "\n".join(lines)


def survey_markdown(cb: Codebook) -> str:
    """A questionnaire as a printable Markdown document (□ before each option)."""
    lines = [f"# {cb.title}", "", TEMPLATE_TEXTS["print"][0], ""]
    for i, f in enumerate(cb.fields, 1):
        qtype, opts = _question(f, cb)
        lines.append(f"**{i}. {_question_text(f, cb)}**（{qtype}）")
        lines.append("")
        lines.append("　".join(f"□ {o}" for o in opts) if opts else "______________________")
        lines.append("")
    return "\n".join(lines)


def study_toml(level: str, year: int, name: str = "my_study", school: str = "") -> str:
    """The template folder's study.toml: every workbook, and each survey export commented out."""
    _check_level(level)
    study = {"study": {"name": name[:MAX_NAME], "school": school, "level": level, "years": [year]}}
    blocks = []
    for s in workbooks(level):  # the data sheet only (not 选项 and 填写说明)
        cb = load_codebook(s.codebook)
        blocks.append(
            f'[[sources]]\nkind = "{cb.kind}"\npath = "{s.file}"\nsheet = "{cb.title}"'
            f"\nyear = {year}"
        )
    notes = [TEMPLATE_TEXTS["toml"][0]]
    for stem, cb_name, kind in _SURVEYS:
        waves = ("pre", "post") if kind == "assessment" else ("",)
        for w in waves:
            extra = f'\nwave = "{w}"' if w else ("\nterm = 1" if kind == "satisfaction" else "")
            entry = (
                f'[[sources]]\nkind = "{kind}"\npath = "问卷/{stem}{WAVE_NAMES[w]}_导出.xlsx"'
                f'\nyear = {year}{extra}\ncodebook = "{cb_name.format(level=level)}"'
            )
            notes.append("\n".join("# " + line for line in entry.splitlines()))
    head = f"# {TEMPLATE_TEXTS['header'][0]}\n" + tomli_w.dumps(study)
    return "\n\n".join([head.rstrip(), *blocks, *notes]) + "\n"


def write_templates(
    out: str | Path, level: str, *, year: int = 2024, name: str = "my_study"
) -> list[Path]:
    """Write the template folder (a new or empty folder); return the files written.

    Raises
    ------
    InputError
        An unknown level; ``out`` is an existing file, a symbolic link, not empty, or inside a
        study folder.
    """
    _check_level(level)
    root = check_output_dir(out, kind="reports", what="OUT")
    if root.is_dir() and any(root.iterdir()):
        raise InputError(f"OUT {out}: the folder is not empty; choose a new or empty folder")
    written = []
    for s in workbooks(level):
        (root / s.file).parent.mkdir(parents=True, exist_ok=True)
        written.append(write_bytes(root / s.file, workbook_bytes(s, level)))
    (root / "问卷").mkdir(parents=True, exist_ok=True)
    for stem, cb_name, _ in _SURVEYS:
        cb = load_codebook(cb_name.format(level=level))
        written.append(write_text(root / "问卷" / f"{stem}.md", survey_markdown(cb)))
        written.append(write_text(root / "问卷" / f"{stem}_问卷星导入.txt", wjx_text(cb)))
    written.append(write_text(root / "study.toml", study_toml(level, year, name)))
    return written
