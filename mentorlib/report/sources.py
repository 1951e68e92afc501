"""The report's own tables, read from the canonical tables: satisfaction by term, changes of
mentor, data coverage, the cleaner's summary, the cohort of students tracked every year, the
mentor team by year. Aggregates only: no student row leaves this module.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..data import OPTIONAL_TABLES
from ..progress import improved_flags, proportion_ci
from ..rules import Rulebook

__all__ = [
    "cleaning_summary",
    "cohort_tables",
    "data_coverage",
    "is_synthetic",
    "regrouping",
    "satisfaction_table",
    "staff_trend",
]


def is_synthetic(processed) -> bool:
    """Whether the study's data are synthetic (study.toml, its name, or the generator's truth)."""
    if getattr(processed, "synthetic", False):  # carried from study.toml by the cleaner
        return True
    if "合成数据" in (processed.school or "") or str(processed.name).startswith("synth"):
        return True
    root = getattr(processed, "root", None)
    if root is not None:
        meta = Path(root) / "study.json"
        if meta.is_file():
            try:
                if json.loads(meta.read_text(encoding="utf-8")).get("synthetic"):
                    return True
            except ValueError:
                pass
        if (Path(root) / "truth").is_dir():
            return True
    return False


def satisfaction_table(processed, year: int, min_cell: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per term (and the whole year, term 0): responses, mean satisfaction, want-change share;
    and the reasons given by students who want to change (counts).

    Intervals at the study's error rate (``processed.rules.alpha``): t for the mean, the
    study's proportion interval (``rules.ci_method``) for the share wanting a change.
    """
    rules = processed.rules
    cols = ["term", "n", "mean", "sd", "ci_low", "ci_high", "n_answer", "n_want"]
    cols += ["want", "want_low", "want_high"]
    if "satisfaction" not in processed:
        return pd.DataFrame(columns=cols), pd.DataFrame(columns=["reason", "n"])
    s = processed["satisfaction"]
    s = s.loc[s["year"] == year]
    rows = []
    for term, g in [*s.groupby("term", sort=True), (0, s)]:
        v = g["satisfaction"].to_numpy(dtype=float, na_value=np.nan)
        v = v[np.isfinite(v)]
        n = len(v)
        m = float(v.mean()) if n else np.nan
        sd = float(v.std(ddof=1)) if n > 1 else np.nan
        h = float(stats.t.ppf(1 - rules.alpha / 2, n - 1) * sd / math.sqrt(n)) if n > 1 else np.nan
        w = g["want_change"].dropna().astype(bool)
        nw, na = int(w.sum()), int(len(w))
        ci = (
            proportion_ci(nw, na, method=rules.ci_method, alpha=rules.alpha).iloc[0] if na else None
        )
        rows.append(
            [
                int(term),
                n,
                m,
                sd,
                m - h,
                m + h,
                na,
                nw,
                nw / na if na else np.nan,
                ci["ci_low"] if ci is not None else np.nan,
                ci["ci_high"] if ci is not None else np.nan,
            ]
        )
    sat = pd.DataFrame(rows, columns=cols)
    small = sat["n"] < min_cell
    sat.loc[small, ["mean", "sd", "ci_low", "ci_high"]] = np.nan
    small = sat["n_answer"] < min_cell
    sat.loc[small, ["want", "want_low", "want_high"]] = np.nan
    want = s.loc[s["want_change"].fillna(False).astype(bool)]
    reasons = (
        want["reason"].astype("object").fillna("other").value_counts().rename("n").reset_index()
    )
    reasons.columns = ["reason", "n"]
    reasons = reasons.sort_values(["n", "reason"], ascending=[False, True], kind="stable")
    return sat, reasons.reset_index(drop=True)


def regrouping(processed, year: int) -> tuple[dict, pd.DataFrame]:
    """Changes of mentor in a year: counts and the recorded reasons (no student rows out)."""
    if "assignments" not in processed:
        return {}, pd.DataFrame(columns=["reason", "n"])
    a = processed["assignments"]
    a = a.loc[a["year"] == year]
    t1 = a.loc[a["term"] == 1].drop_duplicates("student_id", keep="first")
    first = t1.set_index(t1["student_id"].astype(str))["mentor_id"].astype(str)
    t2 = a.loc[a["term"] == 2].drop_duplicates("student_id", keep="last")
    prev = first.reindex(t2["student_id"].astype(str))
    # a change: a term-2 mentor other than the student's term-1 mentor (as compliance counts)
    moved = prev.notna().to_numpy() & (
        prev.astype(object).to_numpy() != t2["mentor_id"].astype(str).to_numpy()
    )
    changed = t2.loc[moved]
    start = t1.loc[t1["regroup"].fillna(False).astype(bool)] if "regroup" in t1 else t1.iloc[:0]
    moves = pd.concat([start, changed])
    reasons = moves["reason"].astype("object").fillna("other").value_counts()
    reasons = reasons.rename("n").reset_index()
    reasons.columns = ["reason", "n"]
    counts = {
        "n_students": int(len(first)),
        "n_start": int(len(start)),
        "n_term2": int(len(changed)),
    }
    return counts, reasons.sort_values(["n", "reason"], ascending=[False, True], kind="stable")


def data_coverage(processed, year: int) -> pd.DataFrame:
    """Counts of students per source for the year (roster, pre/post assessment, surveys)."""
    rows = []
    st = processed["students"]
    st = st.loc[st["year"] == year]
    rows.append(("roster", int(st["student_id"].nunique())))
    if "assessment_items" in processed:
        ai = processed["assessment_items"]
        ai = ai.loc[ai["year"] == year]
        for w in ("pre", "post"):
            rows.append((f"assessment_{w}", int(ai.loc[ai["wave"] == w, "student_id"].nunique())))
    if "satisfaction" in processed:
        s = processed["satisfaction"]
        s = s.loc[s["year"] == year]
        for term, g in s.groupby("term", sort=True):
            rows.append((f"satisfaction_{int(term)}", int(g["student_id"].nunique())))
    if "needs" in processed:
        nd = processed["needs"]
        rows.append(("needs", int(nd.loc[nd["year"] == year, "student_id"].nunique())))
    if "activities" in processed:
        ac = processed["activities"]
        rows.append(("activities", int((ac["year"] == year).sum())))
    return pd.DataFrame(rows, columns=["source", "n"])


def missing_kinds(processed, years) -> list[str]:
    """The optional tables (:data:`mentorlib.data.OPTIONAL_TABLES`) with no row in ``years``
    (one year or several), in the contract's order; the mood chart only where the level's
    plan keeps one (``rules.mood_chart``)."""
    ys = {int(years)} if isinstance(years, int | np.integer) else {int(y) for y in years}
    out = []
    for name in OPTIONAL_TABLES:
        if name == "mood" and not processed.rules.mood_chart:
            continue
        df = processed[name]
        if not len(df) or not df["year"].isin(ys).any():
            out.append(name)
    return out


def cleaning_summary(processed) -> pd.DataFrame | None:
    """Rows in / kept / merged / quarantined per source kind, when the cleaner's files exist."""
    root = getattr(processed, "root", None)
    if root is None or not (Path(root) / "source_summary.csv").is_file():
        return None
    s = pd.read_csv(Path(root) / "source_summary.csv")
    need = ["kind", "rows_in", "kept", "merged", "quarantined"]
    if not set(need) <= set(s.columns):
        return None
    return s.groupby("kind", sort=False)[need[1:]].sum().reset_index()


def cohort_tables(progress: dict, students: pd.DataFrame, min_cell: int, rules: Rulebook):
    """The students assessed in every year: their yearly progress rate by first-year grade
    (and "all"), and in how many years those evaluable every year progressed.

    Returns ``(cohort, persistence)``: see :class:`~mentorlib.report.analyses.PilotAnalyses`.
    """
    years = sorted(progress)
    k = progress[years[-1]].k
    per = {
        y: progress[y]
        .per_student.assign(student_id=lambda d: d["student_id"].astype(str))
        .set_index("student_id")
        for y in years
    }
    panel = sorted(set.intersection(*(set(p.index) for p in per.values()))) if per else []
    first = students.loc[students["year"] == years[0]]
    grade = first.assign(student_id=first["student_id"].astype(str)).drop_duplicates("student_id")
    grade = grade.set_index("student_id")["grade"].reindex(panel)
    rows = []
    known = grade.dropna()
    groups = [("all", panel)] + [
        (str(int(g)), sorted(ids)) for g, ids in sorted(known.groupby(known).groups.items())
    ]
    for name, ids in groups:
        for y in years:
            flags = improved_flags(per[y].reindex(ids), k)  # the headline's rule
            ev = int(np.isfinite(flags).sum())
            pr = int(np.nansum(flags))
            ci = (
                proportion_ci(pr, ev, method=rules.ci_method, alpha=rules.alpha).iloc[0]
                if ev
                else None
            )
            rows.append(
                {
                    "cohort": name,
                    "year": y,
                    "n_students": len(ids),
                    "n_evaluable": ev,
                    "n_progressing": pr,
                    "proportion": pr / ev if ev else np.nan,
                    "ci_low": ci["ci_low"] if ci is not None else np.nan,
                    "ci_high": ci["ci_high"] if ci is not None else np.nan,
                }
            )
    cols = ["cohort", "year", "n_students", "n_evaluable", "n_progressing", "proportion"]
    cohort = pd.DataFrame(rows, columns=[*cols, "ci_low", "ci_high"])
    flags = np.column_stack([improved_flags(per[y].reindex(panel), k) for y in years])
    every = np.isfinite(flags).all(axis=1) if len(panel) else np.zeros(0, dtype=bool)
    ev_all = [s for s, ok in zip(panel, every, strict=True) if ok]
    times = pd.Series(flags[every].sum(axis=1).astype("int64"), dtype="int64")
    counts = times.value_counts().reindex(range(len(years) + 1), fill_value=0)
    pers = pd.DataFrame(
        {
            "years_progressed": counts.index.to_numpy(),
            "n": counts.to_numpy(),
            "share": counts.to_numpy() / max(len(ev_all), 1),
        }
    )
    if len(ev_all) < min_cell:
        pers["share"] = np.nan
    return cohort, pers


def staff_trend(processed, years) -> pd.DataFrame:
    """Per year: mentors, backbone and certified mentors, mentors retained from the first year."""
    a = processed["assignments"] if "assignments" in processed else None
    st = processed["staff"] if "staff" in processed else None
    rows, first = [], None
    for y in years:
        mentors = set() if a is None else set(a.loc[a["year"] == y, "mentor_id"].astype(str))
        if first is None:
            first = mentors
        s = st.loc[st["year"] == y] if st is not None else pd.DataFrame()
        s = s.loc[s["staff_id"].astype(str).isin(mentors)] if len(s) else s
        rows.append(
            {
                "year": y,
                "n_mentors": len(mentors),
                "n_backbone": int(s["backbone"].fillna(False).astype(bool).sum())
                if "backbone" in s
                else np.nan,
                "n_certified": int(s["certified"].fillna(False).astype(bool).sum())
                if "certified" in s
                else np.nan,
                "retained": len(mentors & first),
            }
        )
    return pd.DataFrame(rows)
