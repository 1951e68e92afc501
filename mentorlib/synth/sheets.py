"""The roster files: students, staff and mentor groups (xlsx from the records system, or CSV)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import formats as fm
from .defects import (
    duplicate_rows,
    mess_class,
    mess_dates,
    mess_identity,
    mess_values,
    unknown_rows,
)
from .formats import FAMILY_ZH, GRADE_SHEET, REASON_ZH, STAFF_SUBJECT_ZH, STRENGTH_ZH
from .params import SynthStudy
from .rawtable import Messer, Table
from .writers import Identities, RawFile

# ----------------------------------------------------------------------------- sources


def rows_of(df: pd.DataFrame, **match) -> pd.DataFrame:
    """Rows whose columns equal the given values (``rows_of(df, year=2023, term=1)``)."""
    keep = np.ones(len(df), dtype=bool)
    for col, val in match.items():
        keep &= (df[col] == val).to_numpy()
    return df[keep].reset_index(drop=True)


def _yes_no(x) -> np.ndarray:
    return np.where(np.asarray(x, dtype=bool), "是", "否").astype(object)


def students_file(st: SynthStudy, spec, m: Messer) -> RawFile:
    """The year's student roster: one sheet per grade."""
    f = RawFile(spec["path"], "xlsx")
    y, lvl = spec["year"], st.params.level
    s = rows_of(st.tables["students"], year=y)
    yi = st.params.years.index(y)
    split_cols = yi % 3 == 1 and not m.clean  # one year's export has 年级 and 班级 apart
    base = "std" if lvl == "primary" or m.clean else "chu"
    g = s["grade"].to_numpy()
    t = Table(_student_columns(s, lvl, split_cols, base))
    _mess_students(m, t, f.rel, s, split_cols, base)
    for gg in np.unique(g):
        part = t.take(np.flatnonzero(g == gg))
        part["序号"] = np.arange(1, part.n + 1)
        f.sheets[GRADE_SHEET[int(gg)]] = part
    return f


def _student_columns(s: pd.DataFrame, lvl: str, split_cols: bool, base: str) -> dict:
    """The roster's columns as the records system writes them."""
    g, c = s["grade"].to_numpy(), s["class_no"].to_numpy()
    cols = {
        "序号": np.zeros(len(s), dtype=np.int64),
        "学籍号": s["student_id"],
        "姓名": s["name"],
        "性别": np.where(s["gender"] == "male", "男", "女").astype(object),
        "出生日期": fm.date_labels(s["birth_date"], "iso"),
    }
    if split_cols:
        cols["年级"] = np.array([fm.grade_label(int(x)) for x in g], dtype=object)
        cols["班级"] = np.array([f"{int(x)}班" for x in c], dtype=object)
    else:
        cols["班级"] = fm.class_labels(g, c, base)
    cols["是否转入生"] = _yes_no(s["transfer"])
    cols["家庭结构"] = s["family"].map(FAMILY_ZH)
    cols["是否留守儿童"] = _yes_no(s["left_behind"])
    cols["家庭住址片区"] = s["home_area"]
    if lvl == "middle":
        cols["是否受导学生"] = _yes_no(s["mentee"])
    cols["身高(cm)"] = s["height_cm"].to_numpy()
    cols["体重(kg)"] = s["weight_kg"].to_numpy()
    return cols


def _mess_students(m: Messer, t: Table, rel: str, s: pd.DataFrame, split_cols: bool, base: str):
    """The roster's defects: class and date spellings, spaces in names, gender, yes/no and
    number spellings."""
    g, c = s["grade"].to_numpy(), s["class_no"].to_numpy()
    if not split_cols:
        mess_class(
            m,
            t,
            rel,
            "班级",
            g,
            c,
            0.02,
            ("std", "num", "paren", "fwparen", "fullwidth", "cnclass"),
            base,
        )
    mess_dates(m, t, rel, "出生日期", s["birth_date"], 0.03, "iso")
    mess_values(
        m,
        t,
        rel,
        "姓名",
        0.01,
        "whitespace",
        lambda v, r: ([x[0] + " " + x[1:] if r.random() < 0.5 else x + " " for x in v], v),
    )
    sp = {"男": ["男生", "M", " 男"], "女": ["女生", "F", "女 "]}
    mess_values(
        m,
        t,
        rel,
        "性别",
        0.01,
        "gender_spelling",
        lambda v, r: (
            [sp[x][int(r.integers(3))] for x in v],
            ["male" if x == "男" else "female" for x in v],
        ),
    )
    for col in ("是否留守儿童", "是否转入生"):
        mess_values(
            m,
            t,
            rel,
            col,
            0.005,
            "bool_spelling",
            lambda v, r: (
                [
                    ("√", "Y", "1")[int(r.integers(3))]
                    if x == "是"
                    else ("×", "N", "0")[int(r.integers(3))]
                    for x in v
                ],
                ["true" if x == "是" else "false" for x in v],
            ),
        )
    mess_values(
        m,
        t,
        rel,
        "身高(cm)",
        0.01,
        "number_text",
        lambda v, r: (
            [(f"{x:g}cm", fm.fullwidth(f"{x:g}"), f" {x:g}")[int(r.integers(3))] for x in v],
            [f"{x:g}" for x in v],
        ),
    )


def _cls_text(v, style="std"):
    if not isinstance(v, str):
        return None
    return "、".join(
        fm.class_label(int(x.split("-")[0]), int(x.split("-")[1]), style) for x in v.split(";")
    )


def staff_file(st: SynthStudy, spec, m: Messer) -> RawFile:
    f = RawFile(spec["path"], "xlsx")
    y = spec["year"]
    s = rows_of(st.tables["staff"], year=y)
    role_zh = {
        "principal": "校长",
        "admin": "行政",
        "class_teacher": "班主任",
        "subject_teacher": "科任教师",
        "support": "教辅",
    }
    cols = {
        "工号": np.array(
            [int(x) for x in s["staff_id"]], dtype=np.int64
        ),  # Excel keeps a numeric 工号 as a number
        "姓名": s["name"],
        "性别": np.where(s["gender"] == "male", "男", "女").astype(object),
        "岗位": s["role"].map(role_zh),
        "任教学科": np.array(
            [STAFF_SUBJECT_ZH.get(x) if isinstance(x, str) else None for x in s["subject"]],
            dtype=object,
        ),
    }
    if st.params.level == "middle":
        cols["所在年级组"] = np.array(
            [fm.grade_label(int(x)) if pd.notna(x) else None for x in s["grade"]], dtype=object
        )
    else:
        cols["联系班级"] = np.array([_cls_text(v) for v in s["link_class"]], dtype=object)
    cols["班主任班级"] = np.array([_cls_text(v) for v in s["homeroom"]], dtype=object)
    cols["任教班级"] = np.array([_cls_text(v) for v in s["classes"]], dtype=object)
    cols["导师培训学时"] = s["training_hours"].to_numpy()
    cols["是否取得导师证书"] = _yes_no(s["certified"])
    cols["是否骨干导师"] = _yes_no(s["backbone"])
    cols["特长"] = np.array(
        ["、".join(STRENGTH_ZH[x] for x in v.split(";")) for v in s["strengths"]], dtype=object
    )
    t = Table(cols)
    mess_values(
        m,
        t,
        f.rel,
        "导师培训学时",
        0.03,
        "number_text",
        lambda v, r: ([f"{x:g}学时" for x in v], [f"{x:g}" for x in v]),
    )
    mess_values(m, t, f.rel, "姓名", 0.02, "whitespace", lambda v, r: ([" " + x for x in v], v))
    f.sheets["教职工"] = t
    return f


def groups_file(st: SynthStudy, spec, m: Messer, ids: Identities) -> RawFile:
    f = RawFile(spec["path"], spec["fmt"], spec.get("encoding"))
    y = spec["year"]
    a = rows_of(st.tables["assignments"], year=y)
    staff = rows_of(st.tables["staff"], year=y).set_index("staff_id")["name"]
    name, g, c, _ = ids.get(y, a["student_id"])
    t = Table(
        {
            "学年": np.full(len(a), f"{y}-{y + 1}学年", dtype=object),
            "学期": np.where(a["term"] == 1, "第一学期", "第二学期").astype(object),
            "导师工号": a["mentor_id"],
            "导师姓名": staff.reindex(a["mentor_id"]).to_numpy(dtype=object),
            "学籍号": a["student_id"],
            "学生姓名": name,
            "班级": fm.class_labels(g, c, "std"),
            "开始日期": fm.date_labels(a["start_date"], "iso"),
            "调整原因": np.array(
                [REASON_ZH.get(r, r) if isinstance(r, str) else None for r in a["reason"]],
                dtype=object,
            ),
        }
    )
    used = np.zeros(t.n, dtype=bool)
    mess_identity(
        m,
        t,
        f.rel,
        used,
        id_col="学籍号",
        name_col="学生姓名",
        class_col="班级",
        rate=0.02,
        numeric_cells=spec["fmt"] == "xlsx",
    )
    mess_class(m, t, f.rel, "班级", g, c, 0.02, ("std", "num", "paren", "dash", "short"), "std")
    mess_dates(m, t, f.rel, "开始日期", a["start_date"], 0.05, "iso")
    t = duplicate_rows(
        m, t, f.rel, m.take(np.flatnonzero(~used), m.count(t.n, 0.005)), "duplicate_row"
    )
    t = unknown_rows(m, t, m.count(t.n, 0.002), "学籍号", "学生姓名", f.rel)
    f.sheets["分组"] = t
    return f
