"""The questionnaire exports: assessment, growth needs and satisfaction (问卷星 按文本 / 按序号,
腾讯问卷), with their defects.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..io.codebook import load_codebook
from . import formats as fm
from .defects import mess_class, mess_identity, unknown_rows
from .formats import STAFF_SUBJECT_ZH
from .params import SynthStudy
from .rawtable import Messer, Table
from .sheets import rows_of
from .writers import Identities, RawFile


def _multi_columns(fld, toks: np.ndarray, other: np.ndarray, form: str, qn: int):
    """A multi-select question as 问卷星 / 腾讯问卷 export it (via the distinct answer sets)."""
    code_to_label = dict(zip(fld.codes, fld.options, strict=True))
    uniq, inv = np.unique(toks.astype(str), return_inverse=True)
    sets = [set(u.split(";")) - {""} for u in uniq]
    has_other = np.array([isinstance(o, str) for o in other], dtype=bool)
    if form == "wjx_text":
        lab = np.array(
            ["┋".join(code_to_label[x] for x in fld.codes if x in s_) for s_ in sets], dtype=object
        )
        col = lab[inv]
        for i in np.flatnonzero(has_other):
            col[i] = "┋".join([p for p in (col[i], f"其他〖{other[i]}〗") if p])
        return {f"{qn}、{fld.label}": col}
    out = {}
    for code, label in zip(fld.codes, fld.options, strict=True):
        h = f"{qn}({label})" if form == "wjx_number" else f"{qn}.{fld.label}:{label}"
        out[h] = np.array(["1" if code in s_ else "0" for s_ in sets], dtype=object)[inv]
    if fld.other:
        h = f"{qn}(其他)" if form == "wjx_number" else f"{qn}.{fld.label}:其他"
        col = np.full(len(toks), "0", dtype=object)
        col[has_other] = np.char.add(np.char.add("1〖", other[has_other].astype(str)), "〗").astype(
            object
        )
        out[h] = col
    return out


def _survey_table(st: SynthStudy, spec, m: Messer, ids: Identities, data: pd.DataFrame, cb, extra):
    """A 问卷星 (按文本 / 按序号) or 腾讯问卷 export of ``data`` (canonical, one row each).

    ``extra`` maps a codebook var to a function ``form -> raw values``. Returns the file, the
    table, and the raw header(s) of every codebook field.
    """
    form, y = spec["form"], spec["year"]
    f = RawFile(spec["path"], spec["fmt"], spec.get("encoding"))
    name, g, c, gender = ids.get(y, data["student_id"])
    n = len(data)
    body: dict = {}
    colmap: dict[str, list[str]] = {}
    qn = 0
    stems: dict[str, int] = {}

    def header(num, text, sub=None):
        if form == "tencent":
            return f"{num}.{text}" + (f"_{sub}" if sub else "")
        return f"{num}、{text}" + (f"—{sub}" if sub else "")

    for fld in cb.fields:
        if fld.type == "likert":
            key = fld.dimension or fld.stem_of
            stem = (cb.dimensions[key].stem if key in cb.dimensions else fld.stem) or fld.label
            if stem not in stems:
                qn += 1
                stems[stem] = qn
            h = header(stems[stem], stem, fld.label)
            body[h] = _likert_column(data[fld.var], cb.scale_of(fld).labels, form)
            colmap[fld.var] = [h]
            continue
        qn += 1
        h = header(qn, fld.label)
        if fld.type == "multi":
            other = (
                data[f"{fld.var}_other"].to_numpy(dtype=object)
                if f"{fld.var}_other" in data
                else np.full(n, None, dtype=object)
            )
            cols = _multi_columns(
                fld, data[fld.var].fillna("").to_numpy(dtype=object), other, form, qn
            )
            if form == "tencent":
                cols = {k.replace(f"{qn}、", f"{qn}."): v for k, v in cols.items()}
            body.update(cols)
            colmap[fld.var] = list(cols)
            continue
        if fld.type == "name":
            body[h] = name
        elif fld.type == "student_id":
            body[h] = data["student_id"].to_numpy(dtype=object)
        elif fld.type == "grade_class":
            body[h] = fm.class_labels(g, c, "std")
        elif fld.type == "gender":
            male = gender == "male"
            pair = {
                "wjx_number": ("1", "2"),
                "tencent": ("A.男", "B.女"),
                "wjx_text": ("男", "女"),
            }[form]
            body[h] = np.where(male, pair[0], pair[1]).astype(object)
        else:
            body[h] = extra[fld.var](form)
        colmap[fld.var] = [h]
    submitted = pd.DatetimeIndex(pd.to_datetime(data["submitted_at"]))
    sys_cols = _system_columns(form, submitted, m.rng)
    t = Table({**sys_cols, **body})
    t.ts = submitted.to_numpy()
    return f, t, colmap, (name, g, c)


def _finish_survey(f: RawFile, t: Table, form: str) -> RawFile:
    assert t.ts is not None  # survey tables carry submission times
    order = np.lexsort((t.rk, t.ts))
    t = t.take(order)
    t[("编号" if form == "tencent" else "序号")] = np.arange(1, t.n + 1)
    if form == "tencent":  # 腾讯问卷 exports end with empty columns
        t[""] = np.full(t.n, None, dtype=object)
        t[" "] = np.full(t.n, None, dtype=object)
    f.sheets["Sheet1"] = t
    return f


def _likert_raw(v, labels, form):
    if form == "wjx_number":
        return str(v)
    if form == "tencent":
        return f"{chr(64 + v)}.{labels[v - 1]}"
    return labels[v - 1]


def _survey_defects(
    m: Messer, f, t: Table, spec, colmap, cb, ngc, *, items=(), attention=None
) -> Table:
    """Identity defects, class spellings, attention checks, out-of-range answers, repeated
    submissions and unknown students."""
    form, rel = spec["form"], f.rel
    id_col, name_col, cls_col = colmap["student_id"][0], colmap["name"][0], colmap["grade_class"][0]
    _, g, c = ngc
    used = np.zeros(t.n, dtype=bool)
    mess_identity(m, t, rel, used, id_col=id_col, name_col=name_col, class_col=cls_col, rate=0.03)
    mess_class(
        m,
        t,
        rel,
        cls_col,
        g,
        c,
        0.15,
        ("std", "num", "paren", "fwparen", "dash", "short", "fullwidth"),
        "std",
    )
    if attention is not None:
        (h,) = colmap[attention.var]
        labels = cb.scale_of(attention).labels
        wrong_vals = [v for v in cb.scale_of(attention).values if v != attention.attention]
        pick = m.take(np.flatnonzero(~used), m.count(t.n, 0.01))
        raw = np.array(
            [_likert_raw(int(m.rng.choice(wrong_vals)), labels, form) for _ in pick], dtype=object
        )
        if len(pick):
            t.put(h, pick, raw)
            used[pick] = True
            m.add(rel, t.rk[pick], h, "attention_fail", raw, None, "quarantine")
    if form == "wjx_number" and items:
        pick = m.take(np.flatnonzero(~used), m.count(t.n, 0.01))
        which = m.rng.integers(0, len(items), len(pick))
        for k, fld in enumerate(items):
            sel = pick[which == k]
            if not len(sel):
                continue
            (h,) = colmap[fld.var]
            raw = m.rng.choice(np.array(["0", "6", "7", "33"], dtype=object), len(sel))
            t.put(h, sel, raw)
            m.add(rel, t.rk[sel], h, "out_of_range", raw, "", "missing")
    # repeated submissions: an earlier complete one, or a later one left mostly blank
    src = m.take(np.flatnonzero(~used), m.count(t.n, 0.02))
    if len(src):
        dup = t.take(src)
        dup.rk = np.arange(t.next_rk(), t.next_rk() + dup.n)
        later = (m.rng.random(dup.n) < 0.3) & bool(items)
        shift = pd.to_timedelta(m.rng.integers(5, 3000, dup.n), unit="min").to_numpy()
        assert dup.ts is not None
        dup.ts = np.where(later, dup.ts + shift, dup.ts - shift)
        blank = {"wjx_number": "-2", "tencent": None, "wjx_text": "(空)"}[form]
        item_cols = [colmap[fl.var][0] for fl in items]
        rows_later = np.flatnonzero(later)
        for hc in item_cols[len(item_cols) // 3 :]:
            if len(rows_later):
                dup.put(hc, rows_later, [blank] * len(rows_later))
        ts = pd.DatetimeIndex(dup.ts)
        if form == "tencent":
            dup["结束答题时间"] = np.asarray(ts.strftime("%Y-%m-%d %H:%M:%S"), dtype=object)
        else:
            dup["提交答卷时间"] = np.asarray(ts.strftime("%Y/%m/%d %H:%M:%S"), dtype=object)
        m.add(rel, dup.rk, None, "duplicate_submission", None, t.rk[src], "merge")
        t = t.extend(dup)
    return unknown_rows(m, t, m.count(t.n, 0.005), id_col, name_col, rel)


def _skip_markers(m: Messer, rel, t: Table, colmap, fields, form):
    """Record every skip marker written for a missing answer (data, not errors)."""
    marks = {"wjx_number": ("-2", "-3"), "wjx_text": ("(空)", "(跳过)"), "tencent": ()}[form]
    if not marks:
        return
    for fld in fields:
        for h in colmap.get(fld.var, []):
            base = t.base(h)
            base = base.cast(pa.string()) if pa.types.is_dictionary(base.type) else base
            mask = pc.fill_null(pc.is_in(base, value_set=pa.array(list(marks))), False)
            mask = mask.to_numpy(zero_copy_only=False).copy()
            for i, v in t.over.get(h, {}).items():
                mask[i] = v in marks
            hit = np.flatnonzero(mask)
            m.add(rel, t.rk[hit], h, "skip_marker", t.values(h, hit), "", "missing")


def assessment_file(st, spec, m, ids):
    y, wave = spec["year"], spec["wave"]
    cb = load_codebook(f"assessment_{st.params.level}")
    w = rows_of(st.tables["assessment_wide"], year=y, wave=wave)
    f, t, colmap, ngc = _survey_table(st, spec, m, ids, w, cb, {})
    t = _survey_defects(
        m, f, t, spec, colmap, cb, ngc, items=list(cb.items), attention=cb.attention_checks[0]
    )
    _skip_markers(m, f.rel, t, colmap, cb.items, spec["form"])
    return _finish_survey(f, t, spec["form"])


def needs_file(st, spec, m, ids):
    y = spec["year"]
    cb = load_codebook(f"needs_{st.params.level}")
    nd = (
        st.tables["needs"]
        .query("year == @y")
        .reset_index(drop=True)
        .assign(weak_areas_other=lambda d: d["other_text"])
    )
    staff = rows_of(st.tables["staff"], year=y).set_index("staff_id")
    label = {
        sid: f"{r['name']}（{STAFF_SUBJECT_ZH.get(r['subject'], '')}）"
        for sid, r in staff.iterrows()
    }
    msgs = np.array(["谢谢老师", "希望老师多陪我聊天", "老师辛苦了", None], dtype=object)
    pick_msg = msgs[m.rng.integers(0, len(msgs), len(nd))]

    def message(form):
        blank = {"wjx_number": "-2", "tencent": None, "wjx_text": "(空)"}[form]
        return np.where(pd.isna(pick_msg), blank, pick_msg)

    extra = {"message": message}
    for k in (1, 2, 3):
        col = f"pref_{k}"
        if col in nd:
            extra[col] = lambda form, col=col: np.array(
                [label.get(v) if isinstance(v, str) else "(跳过)" for v in nd[col]], dtype=object
            )
    f, t, colmap, ngc = _survey_table(st, spec, m, ids, nd, cb, extra)
    t = _survey_defects(m, f, t, spec, colmap, cb, ngc)
    return _finish_survey(f, t, spec["form"])


def satisfaction_file(st, spec, m, ids):
    y, term, form = spec["year"], spec["term"], spec["form"]
    cb = load_codebook("satisfaction")
    sat = rows_of(st.tables["satisfaction"], year=y, term=term)
    rf = cb.field("reason")

    def want(form):
        return np.where(
            sat["want_change"].to_numpy(), *(("1", "2") if form == "wjx_number" else ("是", "否"))
        ).astype(object)

    def reason(form):
        out = []
        for r, txt in zip(sat["reason"], sat["reason_text"], strict=True):
            if not isinstance(r, str):
                out.append("-3" if form == "wjx_number" else "(跳过)")
            elif r == "other":
                out.append(
                    f"{len(rf.options) + 1}〖{txt}〗" if form == "wjx_number" else f"其他〖{txt}〗"
                )
            else:
                k = list(rf.codes).index(r)
                out.append(str(k + 1) if form == "wjx_number" else rf.options[k])
        return np.array(out, dtype=object)

    f, t, colmap, ngc = _survey_table(
        st, spec, m, ids, sat, cb, {"want_change": want, "reason": reason}
    )
    items = [fl for fl in cb.fields if fl.type == "likert"]
    t = _survey_defects(m, f, t, spec, colmap, cb, ngc, items=items)
    _skip_markers(m, f.rel, t, colmap, [*items, rf], form)
    return _finish_survey(f, t, form)


def _likert_column(answers: pd.Series, labels, form: str):
    """A Likert item's column as the export form writes it (codes into the form's labels)."""
    vals = answers.to_numpy(dtype=float)
    iv = np.nan_to_num(vals).astype(int)
    if form == "wjx_number":
        opts = np.array(["-2", *[str(v) for v in range(1, len(labels) + 1)]], dtype=object)
    elif form == "tencent":
        opts = np.array(
            ["", *[f"{chr(65 + k)}.{lab}" for k, lab in enumerate(labels)]], dtype=object
        )
    else:
        opts = np.array(["(空)", *labels], dtype=object)
    return pa.DictionaryArray.from_arrays(pa.array(iv.astype(np.int8)), pa.array(opts, pa.string()))


def _system_columns(form: str, submitted: pd.DatetimeIndex, rng) -> dict:
    """The platform's own columns: submission number, times, duration, source, IP."""
    n = len(submitted)
    secs = rng.integers(60, 900, n)
    if form == "tencent":
        sys_cols = {
            "编号": np.zeros(n, dtype=np.int64),
            "开始答题时间": np.asarray(
                (submitted - pd.to_timedelta(secs, unit="s")).strftime("%Y-%m-%d %H:%M:%S"),
                dtype=object,
            ),
            "结束答题时间": np.asarray(submitted.strftime("%Y-%m-%d %H:%M:%S"), dtype=object),
            "答题时长": np.char.add(
                np.char.add((secs // 60).astype(str), "分"),
                np.char.add((secs % 60).astype(str), "秒"),
            ).astype(object),
        }
    else:
        ip = rng.integers(1, 255, (n, 2)).astype(str)
        sys_cols = {
            "序号": np.zeros(n, dtype=np.int64),
            "提交答卷时间": np.asarray(submitted.strftime("%Y/%m/%d %H:%M:%S"), dtype=object),
            "所用时间": np.char.add(secs.astype(str), "秒").astype(object),
            "来源": rng.choice(np.array(["微信", "手机提交", "链接"], dtype=object), n),
            "来源详情": np.full(n, "N/A", dtype=object),
            "来自IP": np.char.add(
                np.char.add(np.char.add("112.96.", ip[:, 0]), "."),
                np.char.add(ip[:, 1], "(广东-广州)"),
            ).astype(object),
        }
    return sys_cols
