"""The record files: exam workbooks (one sheet per class), the mentors' log, rewards and the
mood chart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import calendar
from ..labels import ACTIVITIES_ZH
from . import formats as fm
from .defects import mess_dates, mess_identity, mess_values, unknown_rows
from .formats import MODE_ZH, MOOD_ALIAS, MOOD_ZH, NOTE_TEMPLATES, SUBJECT_ZH
from .params import MOOD_CODES
from .rawtable import Table
from .sheets import rows_of
from .writers import RawFile


def exams_file(st, spec, m, ids):
    """The 成绩单 workbook: one sheet per class, some with a title row above the header."""
    y, term = spec["year"], spec["term"]
    f = RawFile(spec["path"], "xlsx")
    ex = rows_of(st.tables["exams"], year=y, term=term)
    subjects = [s for s in SUBJECT_ZH if s in set(ex["subject"])]
    sids = np.sort(ex["student_id"].unique())
    name, g, c, _ = ids.get(y, sids)
    order = np.lexsort((sids, c, g))
    sids, name, g, c = sids[order], name[order], g[order], c[order]
    cols = {"学号": sids.astype(object), "姓名": name}
    took, absent = {}, {}
    for subj in subjects:
        e = ex[ex["subject"] == subj].set_index("student_id").reindex(sids)
        zh = SUBJECT_ZH[subj]
        cols[zh] = np.where(
            (e["status"] == "sat").to_numpy(), e["score"].to_numpy(dtype=float), np.nan
        )
        absent[zh] = np.flatnonzero((e["status"] == "absent").to_numpy())
        took[zh] = e["status"].notna().to_numpy()
    t = Table(cols)
    for zh, idx in absent.items():
        t.put(zh, idx, ["缺考"] * len(idx))
    used = np.zeros(t.n, dtype=bool)
    mess_identity(
        m,
        t,
        f.rel,
        used,
        id_col="学号",
        rate=0.015,
        numeric_cells=True,
        allow=["id_missing_g", "id_sci", "id_space"],
    )
    for zh in took:
        for kind, rate, make, exp in (
            (
                "fullwidth",
                0.004,
                lambda v, r: ([fm.fullwidth(str(int(x))) for x in v], [str(int(x)) for x in v]),
                "value",
            ),
            (
                "out_of_range",
                0.003,
                lambda v, r: ([int(x) * 10 + int(r.integers(0, 10)) for x in v], [""] * len(v)),
                "missing",
            ),
        ):
            free = np.isfinite(t.base(zh))
            free[t.overridden(zh)] = False
            mess_values(m, t, f.rel, zh, rate, kind, make, exp, pool=np.flatnonzero(free))
    codes = (
        g.astype(np.int64) * 10000 + c
    )  # rows are sorted by grade and class: each class is contiguous
    uniq, first = np.unique(codes, return_index=True)
    bounds = np.append(first, t.n)
    names, headers = [], []
    keys = list(t.cols)
    for k, code in enumerate(uniq):
        gg, cc = divmod(int(code), 10000)
        sl = slice(bounds[k], bounds[k + 1])
        # a subject this grade does not take (英语 before grade 3) is left off the sheet
        present = [h for h in keys if h not in took or took[h][sl].any()]
        headers.append(keys[: max(keys.index(h) for h in present) + 1])
        sheet = fm.class_label(gg, cc, "short")
        names.append(sheet)
        if not m.clean and (gg + cc) % 2 == 0:
            f.pre_rows[sheet] = [
                [f"{y}-{y + 1}学年第{'一' if term == 1 else '二'}学期期末成绩 {sheet}"]
            ]
    f.grouped = (t, names, bounds, headers)
    return f


def activities_file(st, spec, m, ids):
    """The mentors' log of one school year (CSV), with its defects."""
    y = spec["year"]
    f = RawFile(spec["path"], "csv", spec["encoding"])
    a = st.tables["activities"]
    a = a[(calendar.school_years_of(a["date"]) == y).to_numpy()].reset_index(drop=True)
    # the IDs are categorical codes: look each person up once, then take by code
    sid = a["student_id"].astype("category")
    mid = a["mentor_id"].astype("category")
    has_s = (sid.cat.codes >= 0).to_numpy()
    snames = pa.array(ids.get(y, sid.cat.categories)[0], pa.string(), from_pandas=True)
    staff = rows_of(st.tables["staff"], year=y).set_index("staff_id")["name"]
    mnames = pa.array(
        staff.reindex(mid.cat.categories).to_numpy(dtype=object), pa.string(), from_pandas=True
    )
    act = a["activity"].astype("category")
    kinds = act.cat.categories[act.cat.codes.to_numpy()].to_numpy(dtype=object)
    u = m.rng.random(len(a))
    flat = [x for k in NOTE_TEMPLATES for x in NOTE_TEMPLATES[k]]
    note_idx = np.zeros(len(a), dtype=np.int32)
    start = 0
    for k, tmpl in NOTE_TEMPLATES.items():
        sel = kinds == k
        note_idx[sel] = start + (u[sel] * len(tmpl)).astype(np.int32)
        start += len(tmpl)

    def by_code(names: pa.Array, codes) -> pa.Array:
        codes = np.asarray(codes)
        return names.take(pa.array(np.maximum(codes, 0), mask=codes < 0))

    t = Table(
        {
            "日期": fm.date_labels(a["date"], "slash"),
            "导师工号": a["mentor_id"],
            "导师姓名": by_code(mnames, mid.cat.codes),
            "学生姓名": by_code(snames, sid.cat.codes),
            "学籍号": a["student_id"],
            "活动类型": a["activity"].map(ACTIVITIES_ZH),
            "方式": a["mode"].map(MODE_ZH),
            "时长(分钟)": pc.cast(pa.array(a["duration_min"].to_numpy()), pa.string()),
            "记录摘要": pa.DictionaryArray.from_arrays(pa.array(note_idx), pa.array(flat)).cast(
                pa.string()
            ),
        }
    )
    _mess_activities(m, t, f.rel, a, kinds, has_s)
    f.sheets["记录"] = unknown_rows(
        m, t, m.count(t.n, 0.001), "学籍号", "学生姓名", f.rel, pool=np.flatnonzero(has_s)
    )
    return f


def _mess_activities(m, t: Table, rel: str, a: pd.DataFrame, kinds: np.ndarray, has_s):
    """The log's defects: identities, date spellings, activity aliases, durations as text."""
    used = ~has_s
    mess_identity(
        m,
        t,
        rel,
        used,
        id_col="学籍号",
        name_col="学生姓名",
        rate=0.01,
        allow=["id_missing_g", "id_sci", "id_space", "id_fullwidth"],
    )
    mess_dates(m, t, rel, "日期", a["date"], 0.02, "slash", styles=("iso", "cn", "serial"))
    alias = {
        "talk": "谈心",
        "three_party": "三方会谈",
        "parent_call": "家长联系",
        "group_counselling": "团辅",
    }
    mess_values(
        m,
        t,
        rel,
        "活动类型",
        0.01,
        "label_alias",
        lambda v, r: ([alias.get(x, x) for x in kinds_of(v)], kinds_of(v)),
        pool=np.flatnonzero(np.isin(kinds, list(alias))),
    )
    mess_values(
        m,
        t,
        rel,
        "时长(分钟)",
        0.01,
        "number_text",
        lambda v, r: ([f"{x}分钟" for x in v], list(v)),
    )


_ZH_ACT = {v: k for k, v in ACTIVITIES_ZH.items()}


def kinds_of(labels) -> list[str]:
    return [_ZH_ACT[x] for x in labels]


def rewards_file(st, spec, m, ids):
    y = spec["year"]
    f = RawFile(spec["path"], "xlsx")
    r = st.tables["rewards"]
    r = r[
        (r["date"] >= np.datetime64(f"{y}-09-01")) & (r["date"] < np.datetime64(f"{y + 1}-09-01"))
    ].reset_index(drop=True)
    name, g, c, _ = ids.get(y, r["student_id"])
    t = Table(
        {
            "日期": fm.date_labels(r["date"], "iso"),
            "学籍号": r["student_id"],
            "姓名": name,
            "班级": fm.class_labels(g, c, "std"),
            "类别": np.where(r["kind"] == "reward", "奖励", "惩戒").astype(object),
            "事由": r["reason"],
            "分值": r["points"].to_numpy(),
        }
    )
    used = np.zeros(t.n, dtype=bool)
    mess_identity(
        m,
        t,
        f.rel,
        used,
        id_col="学籍号",
        name_col="姓名",
        class_col="班级",
        rate=0.02,
        numeric_cells=True,
    )
    mess_dates(m, t, f.rel, "日期", r["date"], 0.05, "iso", styles=("serial", "cn", "slash"))
    mess_values(
        m,
        t,
        f.rel,
        "分值",
        0.01,
        "number_text",
        lambda v, rr: (
            [
                (f"+{x}" if x > 0 else str(x)) if rr.random() < 0.5 else fm.fullwidth(str(x))
                for x in v
            ],
            [str(x) for x in v],
        ),
    )
    f.sheets["奖惩"] = t
    return f


def mood_file(st, spec, m, ids):
    """The mood chart as typed from the classroom wall: a row per student and month."""
    y = spec["year"]
    f = RawFile(spec["path"], "csv", spec["encoding"])
    (entry,) = [e for e in st.mood_days if e[0] == y]
    _, sids, months = entry
    name, g, c, _ = ids.get(y, sids)
    cls = fm.class_labels(g, c, "std")
    order = np.lexsort((sids, c, g))
    n = len(sids)
    dictionary = ["", *[MOOD_ZH[k] for k in MOOD_CODES], *[MOOD_ALIAS[k] for k in MOOD_CODES]]
    grids, mlabels = [], []
    for cy, mo, days, code in months:
        grid = np.zeros((n, 31), dtype=np.int8)
        grid[:, days - 1] = code[order] + 1
        grids.append(grid)
        mlabels.append(np.full(n, f"{cy}年{mo}月", dtype=object))
    k = len(months)
    t = Table(
        {
            "学籍号": np.tile(sids[order].astype(object), k),
            "姓名": np.tile(name[order], k),
            "班级": np.tile(cls[order], k),
            "月份": np.concatenate(mlabels),
        }
    )
    grid = np.concatenate(grids)
    used = np.zeros(t.n, dtype=bool)
    mess_identity(
        m, t, f.rel, used, id_col="学籍号", rate=0.005, allow=["id_missing_g", "id_space"]
    )
    nz = np.flatnonzero(grid.ravel() > 0)
    pick = m.take(nz, m.count(len(nz), 0.002))
    if len(pick):
        i, d = np.divmod(pick, 31)
        true = np.asarray(MOOD_CODES, dtype=object)[grid[i, d] - 1]
        grid[i, d] += 4
        for dd in np.unique(d):
            sel = d == dd
            m.add(
                f.rel,
                t.rk[i[sel]],
                f"{dd + 1}日",
                "label_alias",
                np.asarray(dictionary, dtype=object)[grid[i[sel], dd]],
                true[sel],
                "value",
            )
    for d in range(31):
        t.cols[f"{d + 1}日"] = pd.Categorical.from_codes(grid[:, d], dictionary)
    f.sheets["心情"] = t
    return f
