"""Per-school verdict rows of a district (``district_schools.csv``, ``--json`` ``schools``).

One row per school: the school is named (schools are public units), no student ever is. The
numbers come from each school's public progress report (already protected with its own
``min_cell``). On top, every school's students, evaluable students and certified share
(``k / n_evaluable``, whose numerator and complement ``n_evaluable - k`` are students too) are
registered in a :class:`mentorlib.privacy.Document` (:func:`register_school`) and printed as it
says (``min_cell`` the district's, :func:`district_min_cell`: never smaller than a school's
own): a count of fewer than ``min_cell`` students is blank, and so is a share that would reveal
fewer than ``min_cell`` students who progressed or who did not (0%, 100%, all but two...),
with its interval and verdict; the estimated true share goes with the certified share (the
same students) or when fewer than ``min_cell`` students entered the estimate. The district
summary (:mod:`.report`) registers the same cells under the same keys, so nothing this table
prints is hidden there.
"""

from __future__ import annotations

import pandas as pd

from ..privacy import Document
from ..privacy.cells import is_missing
from ..rules import rulebook

#: The columns of ``district_schools.csv`` in order (missing stages leave theirs empty).
COLUMNS = (
    "school_id",
    "school",
    "level",
    "min_cell",
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
#: The columns of whole numbers (``Int64``: blank where a school has none).
INT_COLUMNS = (
    "min_cell",
    "n",
    "year",
    "n_evaluable",
    "true_share_n",
    "compliance_met",
    "compliance_judged",
    "mentors_scored",
)
#: A school's ``status``: every stage ran; cleaned but a later stage did not run (``reason``
#: names it); not cleaned; not run (its study has no such year).
STATUSES = ("ok", "partial", "failed", "skipped")
#: The statuses of a cleaned school (its processed folder and tables exist).
CLEANED = ("ok", "partial")
_CERTIFIED = ["n_evaluable", "certified_share", "certified_ci_low", "certified_ci_high", "verdict"]
_TRUE = ["true_share_n", "true_share", "true_share_ci_low", "true_share_ci_high"]


def school_counts(n, n_evaluable, share) -> tuple[int | None, int | None, int | None]:
    """A school's students, evaluable students and certified numerator ``k`` (the share
    times ``n_evaluable``, rounded; None where a number is missing or not a share)."""
    nn = None if is_missing(n) else int(n)
    ev = None if is_missing(n_evaluable) else int(n_evaluable)
    k = None
    if ev is not None and not is_missing(share) and 0 <= float(share) <= 1:
        k = int(round(float(share) * ev))
    return nn, ev, k


def school_key(school_id: str, what: str) -> str:
    """The document key of a school's cell (``n``, ``ev``, ``k``) or rate (``rate``)."""
    return f"s.{school_id}.{what}"


def register_school(
    doc: Document, school_id: str, n, ev, k, *, decimals: int = 1, keep: bool = False
) -> None:
    """Register a school's published counts (``n`` students, ``ev`` evaluable) and its
    certified share ``k / ev`` (``k`` not printed) in ``doc``; None leaves a number out.
    ``keep``: the numbers are already published (the schools' table): complementary
    suppression takes others first."""
    key = lambda w: school_key(school_id, w)  # noqa: E731
    if n is not None:
        doc.count(key("n"), n, label=f"{school_id} students")
    if ev is None:
        return
    doc.count(key("ev"), ev, label=f"{school_id} evaluable")
    if k is not None and k <= ev:
        doc.count(key("k"), k, printed=False, label=f"{school_id} certified")
        doc.rate(key("rate"), key("k"), key("ev"), decimals=decimals)
    if keep:
        doc.keep(*(key(w) for w in ("n", "ev", "rate")))


def _protect(df: pd.DataFrame, limit: int) -> dict[str, str]:
    """Protect the rows of one ``min_cell``; school_id -> what is hidden (``n``, ``ev``,
    ``rate``: a space-separated list)."""
    doc = Document(limit, name="district schools")
    for r in df.itertuples(index=False):
        register_school(
            doc, str(r.school_id), *school_counts(r.n, r.n_evaluable, r.certified_share)
        )
    doc.protect()
    out = {}
    for sid in df["school_id"].astype(str):
        keys = [(w, school_key(sid, w)) for w in ("n", "ev", "rate")]
        hidden = [w for w, k in keys if (k in doc.cells or k in doc.rates) and doc.suppressed(k)]
        out[sid] = " ".join(hidden)
    return out


def district_min_cell(levels, min_cell: int | None = None, own=None) -> int:
    """One ``min_cell`` for the whole district's published numbers: the strictest (largest) of
    the district's setting (the one given, else the largest of its levels' rulebooks) and of
    every school's own rule (``own``: each school's ``min_cell`` from its study.toml
    ``[rules]``, the ``min_cell`` column; blank where unknown), so no school's numbers are
    published with a smaller cell than it asked for. The CSV and the summary then hide the
    same cells.

    >>> district_min_cell(["primary"]), district_min_cell(["primary"], 8, own=[5, 10, None])
    (5, 10)
    """
    if min_cell is not None:
        setting = int(min_cell)
    else:
        setting = max([rulebook(str(lv)).min_cell for lv in pd.Series(levels).dropna()] or [5])
    schools = pd.to_numeric(pd.Series(own, dtype=object), errors="coerce").dropna()
    return max([setting, *(int(v) for v in schools)])


def school_verdicts(rows: list[dict], *, min_cell: int | None = None) -> pd.DataFrame:
    """The schools' rows as the published table (small cells blank, flagged).

    ``min_cell``: the district's setting (default: the largest of the schools' level
    rulebooks); a school's own larger ``min_cell`` (its row's) wins (:func:`district_min_cell`).

    >>> t = school_verdicts([
    ...     {"school_id": "a", "level": "primary", "progress": "ok", "n": 300, "n_evaluable": 280,
    ...      "certified_share": 0.5, "certified_ci_low": 0.44, "certified_ci_high": 0.56},
    ...     {"school_id": "b", "level": "primary", "progress": "ok", "n": 40, "n_evaluable": 30,
    ...      "certified_share": 28 / 30, "certified_ci_low": 0.78, "certified_ci_high": 0.99},
    ...     {"school_id": "c", "level": "primary", "progress": "ok", "n": 3, "n_evaluable": 3,
    ...      "certified_share": 1.0, "certified_ci_low": 0.44, "certified_ci_high": 1.0}])
    >>> t["certified_share"].tolist(), t["certified_suppressed"].tolist()
    ([0.5, nan, nan], [False, True, True])
    >>> t["n"].tolist(), t["n_evaluable"].tolist()  # b: 2 students did not progress
    ([300, 40, <NA>], [280, 30, <NA>])
    """
    df = pd.DataFrame(rows)
    for c in COLUMNS:
        if c not in df.columns:
            df[c] = pd.NA
    df = df[list(COLUMNS)].reset_index(drop=True)
    for c in [*_CERTIFIED[:-1], *_TRUE]:
        df[c] = pd.to_numeric(df[c], errors="coerce")
    for c in INT_COLUMNS:  # nullable: a failed school's blank row leaves them whole numbers
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("Int64")
    df["pseudonymised"] = df["pseudonymised"].astype("boolean")
    df["school_id"] = df["school_id"].astype(str)
    limit = district_min_cell(df["level"], min_cell, df["min_cell"])
    hidden = _protect(df, limit)
    what = df["school_id"].map(hidden).fillna("")
    ran = (df["progress"] == "ok").fillna(False).to_numpy(dtype=bool)
    out = df.copy()
    for c in ("verdict",):
        out[c] = out[c].astype("object")
    out.loc[what.str.contains(r"\bn\b"), "n"] = pd.NA
    out.loc[what.str.contains(r"\bev\b"), "n_evaluable"] = pd.NA
    cert = what.str.contains("ev|rate").to_numpy() | (ran & out["n_evaluable"].isna().to_numpy())
    out.loc[cert, _CERTIFIED[1:]] = pd.NA
    out["certified_suppressed"] = cert & ran
    few = ~(out["true_share_n"].astype("Float64").fillna(-1).to_numpy() >= limit)
    true = (cert | few) & out["true_share_n"].notna().to_numpy()
    out.loc[true, _TRUE] = pd.NA
    out["true_share_suppressed"] = true
    for c in [*_CERTIFIED[1:-1], *_TRUE[1:]]:
        out[c] = out[c].astype(float)
    return out
