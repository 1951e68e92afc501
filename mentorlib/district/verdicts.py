"""Per-school verdict rows of a district (``district_schools.csv``, ``--json`` ``schools``).

One row per school: the school is named (schools are public units), no student ever is. The
numbers come from each school's public progress report (already protected with its own
``min_cell``); on top, a school's certified share is blanked when fewer than ``min_cell``
students were evaluable, and its estimated true share when fewer than ``min_cell`` students
entered the estimate (:func:`mentorlib.privacy.suppress_small_cells`).
"""

from __future__ import annotations

import pandas as pd

from ..privacy import suppress_small_cells
from ..rules import rulebook

#: The columns of ``district_schools.csv`` in order (missing stages leave theirs empty).
COLUMNS = (
    "school_id",
    "school",
    "level",
    "status",
    "reason",
    "n",
    "year",
    "n_evaluable",
    "certified_share",
    "certified_ci_low",
    "certified_ci_high",
    "verdict",
    "true_share_n",
    "true_share",
    "true_share_ci_low",
    "true_share_ci_high",
    "compliance_met",
    "compliance_judged",
    "mentors_scored",
    "pseudonymised",
    "clean",
    "progress",
    "mentors",
    "compliance",
    "seconds",
)
_CERTIFIED = ["n_evaluable", "certified_share", "certified_ci_low", "certified_ci_high", "verdict"]
_TRUE = ["true_share_n", "true_share", "true_share_ci_low", "true_share_ci_high"]


def school_verdicts(rows: list[dict], *, min_cell: int | None = None) -> pd.DataFrame:
    """The schools' rows as the published table (small cells blank, flagged).

    ``min_cell``: default each school's level rulebook's ``min_cell``.

    >>> t = school_verdicts([
    ...     {"school_id": "a", "level": "primary", "progress": "ok", "n": 300, "n_evaluable": 280,
    ...      "certified_share": 0.5, "certified_ci_low": 0.44, "certified_ci_high": 0.56},
    ...     {"school_id": "b", "level": "primary", "progress": "ok", "n": 3, "n_evaluable": 3,
    ...      "certified_share": 1.0, "certified_ci_low": 0.44, "certified_ci_high": 1.0}])
    >>> t["certified_share"].tolist(), t["certified_suppressed"].tolist()
    ([0.5, nan], [False, True])
    """
    df = pd.DataFrame(rows)
    for c in COLUMNS:
        if c not in df.columns:
            df[c] = pd.NA
    df = df[list(COLUMNS)]
    for c in [*_CERTIFIED[:-1], *_TRUE]:
        df[c] = pd.to_numeric(df[c], errors="coerce")
    for c in ("n", "n_evaluable", "true_share_n"):
        df[c] = df[c].astype("Int64")
    limits = [
        min_cell if min_cell is not None else rulebook(str(lv)).min_cell for lv in df["level"]
    ]
    parts = []
    for lim, (_, one) in zip(limits, df.groupby(df.index), strict=True):
        one = suppress_small_cells(one, counts="n_evaluable", min_cell=lim, columns=_CERTIFIED)
        one = one.rename(columns={"suppressed": "certified_suppressed"})
        one = suppress_small_cells(one, counts="true_share_n", min_cell=lim, columns=_TRUE)
        one = one.rename(columns={"suppressed": "true_share_suppressed"})
        parts.append(one)
    out = pd.concat(parts, ignore_index=True) if parts else df
    # flagged only where there was a number to hide: a school whose progress stage ran (its
    # report may have blanked the count already), a true share that was estimated (none for
    # middle-school mentees)
    out["certified_suppressed"] &= (df["progress"] == "ok").fillna(False).to_numpy()
    out["true_share_suppressed"] &= df["true_share_n"].notna().to_numpy()
    return out
