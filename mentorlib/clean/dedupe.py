"""Repeated submissions and repeated records: which copy is kept, which are merged into it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .context import Context, Sheet


def dedupe_submissions(
    sh: Sheet,
    ctx: Context,
    sids: np.ndarray,
    keys: list,
    completeness: np.ndarray,
    submitted: np.ndarray | None,
):
    """Repeated submissions of one student: keep the latest complete one, merge the others."""
    alive = np.flatnonzero(sh.st.alive & pd.notna(sids))
    if not len(alive):
        return
    df = pd.DataFrame(
        {
            "i": alive,
            "sid": sids[alive],
            "c": completeness[alive],
            "t": submitted[alive] if submitted is not None else np.zeros(len(alive)),
            **{f"k{j}": np.asarray(k, dtype=object)[alive] for j, k in enumerate(keys)},
        }
    )
    df["complete"] = df["c"] >= ctx.rules.min_answered  # a complete submission
    keycols = ["sid", *[f"k{j}" for j in range(len(keys))]]
    dup = df[df.duplicated(keycols, keep=False)].copy()
    if dup.empty:
        return
    # rank within each group: complete before incomplete, then most answered, then latest
    dup["g"] = dup.groupby(keycols, sort=False, dropna=False).ngroup()
    order = dup.sort_values(["g", "complete", "c", "t", "i"], kind="stable")
    keep = order.groupby("g", sort=False)["i"].last()
    dup["keep"] = dup["g"].map(keep)
    merged = dup[dup["i"] != dup["keep"]]
    pointer = {int(k): sh.rs.where(int(k)) for k in keep.to_numpy()}
    for i, k in zip(
        merged["i"].to_numpy(dtype=np.int64), merged["keep"].to_numpy(dtype=np.int64), strict=True
    ):
        sh.st.merge([i], pointer[int(k)])


class Seen:
    """Hashes of the records of one daily log read so far, with where each was first read.

    A sorted array plus a few recent chunks, merged now and then: memory is two int64 per
    record, and a district's thousands of sheets are not each compared with a copy of all."""

    def __init__(self) -> None:
        self.h = np.zeros(0, np.uint64)
        self.ref = np.zeros(0, np.int64)
        self.recent: list[tuple[np.ndarray, np.ndarray]] = []

    def _settle(self, force=False):
        n_recent = sum(len(h) for h, _ in self.recent)
        if self.recent and (force or n_recent > max(100_000, len(self.h) // 4)):
            h = np.concatenate([self.h, *(h for h, _ in self.recent)])
            ref = np.concatenate([self.ref, *(r for _, r in self.recent)])
            order = np.argsort(h, kind="stable")
            self.h, self.ref, self.recent = h[order], ref[order], []

    def find(self, h: np.ndarray) -> np.ndarray:
        """The first reference of each hash, or -1."""
        self._settle(force=len(self.recent) > 8)
        out = np.full(len(h), -1, np.int64)
        if len(self.h):
            pos = np.searchsorted(self.h, h).clip(0, len(self.h) - 1)
            hit = self.h[pos] == h
            out[hit] = self.ref[pos[hit]]
        for rh, rr in self.recent:
            m = pd.Index(rh).get_indexer(h)  # recent chunks hold each hash once
            hit = (m >= 0) & (out < 0)
            out[hit] = rr[m[hit]]
        return out

    def add(self, h: np.ndarray, ref: np.ndarray):
        if len(h):
            self.recent.append((h, ref))
            self._settle()


def merge_exact_duplicates(ctx: Context, sh: Sheet, df: pd.DataFrame, table: str) -> None:
    """Merge records of a daily log (mood, activities) that repeat one already read, exactly.

    The same rows pasted twice in one file, or one file handed over again under another name
    and listed as another source, would count each day two or three times (a participation
    rate of 266.8%). Each repeat becomes ``merged`` (reason ``exact_duplicate``) into its first
    copy, and the cleaning log counts them per sheet.
    """
    alive = np.flatnonzero(sh.st.alive)
    if not len(alive):
        return
    h = pd.util.hash_pandas_object(df.iloc[alive], index=False).to_numpy(np.uint64)
    seen = ctx.seen.setdefault(table, Seen())
    before = seen.find(h)
    first_here = ~pd.Series(h).duplicated().to_numpy()
    own = (np.int64(sh.k) << 32) | alive.astype(np.int64)
    seen.add(h[first_here & (before < 0)], own[first_here & (before < 0)])
    # every copy points at the first copy ever read: an earlier sheet's, or this one's
    first_ref = pd.Series(own[first_here], index=h[first_here])
    ref = np.where(before >= 0, before, first_ref.reindex(h).to_numpy())
    dup = ref != own
    if not dup.any():
        return
    idx = alive[dup]
    pointers = {}
    for r in np.unique(ref[dup]):
        k, i = int(r) >> 32, int(r) & 0xFFFFFFFF
        pointers[int(r)] = ctx.statuses[k].rs.where(i)
    sh.st.merge(idx, np.array([pointers[int(r)] for r in ref[dup]], dtype=object))
    sh.st.reason[idx] = "exact_duplicate"
    first = pointers[int(ref[dup][0])]
    ctx.log.note(
        sh.rs,
        sh.rs.file,
        None,
        f"{len(idx)} rows",
        f"merged into their first copies (first: {first})",
        "exact_duplicate",
    )


def two_classes(sh: Sheet, ids: np.ndarray, gc: pd.Series) -> None:
    """A 学籍号 listed in two classes of one roster is not a repeated submission: quarantine
    every row of it, naming the classes (which one is right is for the school to say)."""
    alive = sh.st.alive & pd.notna(ids) & gc.notna().to_numpy()
    df = pd.DataFrame({"sid": ids[alive], "gc": gc.to_numpy(dtype=object)[alive]})
    if df.empty:
        return
    classes = df.groupby("sid")["gc"].agg(lambda v: sorted(set(v)))
    two = classes[classes.map(len) > 1]
    if two.empty:
        return
    rows = np.flatnonzero(alive)[df["sid"].isin(two.index).to_numpy()]
    sh.st.quarantine(
        rows,
        "two_classes_in_roster",
        [f"学籍号 listed in classes {' and '.join(two[ids[i]])} of this roster" for i in rows],
    )
