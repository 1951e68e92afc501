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

from ..clean import normalise as nz
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

    pairs = [_outcome(e, fate, by_cell, enc) for e in man.itertuples(index=False)]
    outcomes = [o for o, _ in pairs]
    got = [g for _, g in pairs]
    man["outcome"] = outcomes
    man["got"] = got
    return man


def _outcome(e, fate: pd.DataFrame, by_cell, enc: dict) -> tuple[str, object]:
    """Outcome of one manifest entry ``e`` and what the cleaner produced for it."""
    if e.expected == "encoding":
        g = enc.get(e.file)
        return ("fixed" if g == e.true_value else ("wrong" if g else "missed")), g
    k = f"{e.file}|{'' if pd.isna(e.sheet) else e.sheet}|{e.row}"
    if k not in fate.index:
        return "missed", None
    r = fate.loc[k]  # one row: row_status has one row per raw row
    status, sid = str(r["status"]), r["student_id"]
    if e.expected == "merge":
        into = str(r["merged_into"]) if status == "merged" else None
        ok = into is not None and into.endswith(f"#{e.true_value}")
        if ok:
            return "fixed", into
        return {"quarantined": "quarantined", "merged": "wrong"}.get(status, "missed"), into
    if e.expected == "quarantine":
        return {"quarantined": "fixed", "merged": "merged"}.get(status, "missed"), r["reason"]
    if status == "quarantined":
        return "quarantined", r["reason"]
    if status == "merged":
        return "merged", None
    if e.expected in ("link", "value_or_quarantine") or (
        e.expected == "value" and str(e.kind).startswith("id_")
    ):
        ok = isinstance(sid, str) and sid == e.true_value
        return ("fixed" if ok else ("wrong" if isinstance(sid, str) else "missed")), sid
    ck = f"{k}|{e.column}"
    entries = by_cell.get_group(ck) if ck in by_cell.groups else None
    if e.expected == "missing":
        last = None if entries is None else entries["new"].iloc[-1]
        if entries is not None and entries["new"].isna().any():
            return "fixed", last
        return ("wrong" if entries is not None else "missed"), last
    # expected value: the logged new value equals the truth (numbers compared as numbers)
    if entries is not None:
        new = entries["new"].iloc[-1]
        return ("fixed" if _same(new, e.true_value) else "wrong"), new
    same = _same(nz.text(e.raw)[0], e.true_value)
    return ("fixed" if same else "missed"), (e.raw if same else None)


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
