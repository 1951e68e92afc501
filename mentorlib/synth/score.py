"""Score a cleaning run against the generator's defect manifest (``truth/manifest.parquet``).

Each injected defect says what a correct cleaner does with it (``expected``). The scorer looks
at what the cleaner did (its cleaning log, the fate of every row, and the student each kept row
was linked to) and sorts every defect into one outcome:

fixed
    Done right: the cell became the true value (or missing, as expected), the row was linked to
    the right student, merged into the right row, or quarantined as expected.
quarantined
    The row was set aside with a reason (safe, but the defect was not repaired).
merged
    The row was merged away as a repeated submission, so the defect no longer matters.
wrong
    The cleaner produced a value other than the true one, or linked the row to someone else.
missed
    Nothing was done: the defect survives into the canonical tables.

Defect kinds with one right answer (every ``expected`` but ``value_or_quarantine``) must show
zero *missed* and zero *wrong*.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import normalize as nz
from .truth import load_truth

LINK_RULES = {"id_prefix_added", "id_sci_recovered", "linked_by_name_class", "linked_by_name"}
OUTCOMES = ["fixed", "quarantined", "merged", "wrong", "missed"]


def _key(df: pd.DataFrame) -> pd.Series:
    sheet = df["sheet"].astype(object).where(df["sheet"].notna(), "")
    return (
        df["source" if "source" in df else "file"].astype(str)
        + "|"
        + sheet.astype(str)
        + "|"
        + df["row"].astype("Int64").astype(str)
    )


def score_cleaning(result, study_dir: str | Path) -> pd.DataFrame:
    """Outcome of every injected defect.

    Parameters
    ----------
    result : CleanResult
        From :func:`mentorlib.clean.clean_study` on ``study_dir``.
    study_dir : path
        The synthetic study folder (with ``truth/``).

    Returns
    -------
    DataFrame
        The manifest with an ``outcome`` column (fixed, quarantined, merged, wrong, missed) and
        ``got`` (what the cleaner produced).
    """
    man = load_truth(study_dir)["manifest"].copy()
    log = result.log.copy()
    log["row"] = log["row"].astype("Int64")
    rows = result.row_status.copy()
    rows["k"] = _key(rows)
    fate = rows.set_index("k")
    cell_log = log[log["row"].notna()].copy()
    cell_log["k"] = _key(cell_log) + "|" + cell_log["column"].astype(str)
    by_cell = cell_log.groupby("k", observed=True)
    enc = log[log["rule"].astype(str) == "encoding_detected"].set_index("source")["new"].to_dict()

    outcomes, got = [], []
    for e in man.itertuples(index=False):
        if e.expected == "encoding":
            g = enc.get(e.file)
            outcomes.append("fixed" if g == e.true_value else ("wrong" if g else "missed"))
            got.append(g)
            continue
        k = f"{e.file}|{'' if pd.isna(e.sheet) else e.sheet}|{e.row}"
        if k not in fate.index:
            outcomes.append("missed")
            got.append(None)
            continue
        r = fate.loc[k]
        status, sid = r["status"], r["student_id"]
        if e.expected == "merge":
            into = str(r["merged_into"]) if status == "merged" else None
            ok = into is not None and into.endswith(f"#{e.true_value}")
            outcomes.append(
                "fixed"
                if ok
                else {"quarantined": "quarantined", "merged": "wrong"}.get(status, "missed")
            )
            got.append(into)
            continue
        if e.expected == "quarantine":
            outcomes.append({"quarantined": "fixed", "merged": "merged"}.get(status, "missed"))
            got.append(r["reason"])
            continue
        if status == "quarantined":
            outcomes.append("quarantined")
            got.append(r["reason"])
            continue
        if status == "merged":
            outcomes.append("merged")
            got.append(None)
            continue
        if e.expected in ("link", "value_or_quarantine") or (
            e.expected == "value" and str(e.kind).startswith("id_")
        ):
            ok = isinstance(sid, str) and sid == e.true_value
            outcomes.append("fixed" if ok else ("wrong" if isinstance(sid, str) else "missed"))
            got.append(sid)
            continue
        ck = f"{k}|{e.column}"
        entries = by_cell.get_group(ck) if ck in by_cell.groups else None
        if e.expected == "missing":
            if entries is not None and entries["new"].isna().any():
                outcomes.append("fixed")
            else:
                outcomes.append("wrong" if entries is not None else "missed")
            got.append(None if entries is None else entries["new"].iloc[-1])
            continue
        # expected value: the logged new value equals the truth (numbers compared as numbers)
        if entries is not None:
            new = entries["new"].iloc[-1]
            outcomes.append("fixed" if _same(new, e.true_value) else "wrong")
            got.append(new)
        else:
            same = _same(nz.text(e.raw)[0], e.true_value)
            outcomes.append("fixed" if same else "missed")
            got.append(e.raw if same else None)
    man["outcome"] = outcomes
    man["got"] = got
    return man


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if str(a) == str(b):
        return True
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


def score_table(scored: pd.DataFrame) -> pd.DataFrame:
    """Counts per defect kind: injected, fixed, quarantined, merged, wrong, missed."""
    t = scored.pivot_table(
        index=["kind", "expected"],
        columns="outcome",
        values="file",
        aggfunc="count",
        fill_value=0,
        observed=True,
    )
    for o in OUTCOMES:
        if o not in t.columns:
            t[o] = 0
    t = t[OUTCOMES]
    t.insert(0, "injected", t.sum(axis=1))
    return t.reset_index().sort_values("injected", ascending=False, ignore_index=True)
