"""The disclosure documents of the reports: every student count and rate a report prints,
with the relations among them (totals, complements), registered before protection
(:class:`mentorlib.privacy.Document`); builders print :func:`printed`.
"""

from __future__ import annotations

import pandas as pd

from ..compliance import STUDENT_INDICATORS
from ..privacy import Document
from .render.fmt import as_float, as_int, count_text, missing

__all__ = [
    "CLEANING_COUNTS",
    "SAME_STUDENTS",
    "SUBSETS_OF_THE_YEAR",
    "cleaning_key",
    "printed",
    "register_cleaning",
    "register_compliance",
    "register_pilot",
    "register_stages",
    "register_year",
    "tie_same_students",
    "try_total",
]


def register_compliance(doc: Document, ind: pd.DataFrame, prefix: str = "comp") -> None:
    """Register the annual summary's compliance indicators that count students.

    For each indicator of :data:`mentorlib.compliance.STUDENT_INDICATORS` with a value:
    ``comp.{indicator}.n`` (the students counted, printed), ``comp.{indicator}.k`` (those
    meeting it, not printed) and the rate ``comp.{indicator}.rate`` = ``k`` / ``n``. Every
    student with a mentor: the students without one are no group (their 0 is not protected,
    so printing the students with a mentor beside the roster withholds neither); the 100%
    itself stays withheld by the rate rule.

    Parameters
    ----------
    doc : Document
        The year's disclosure document (not yet protected).
    ind : DataFrame
        :attr:`mentorlib.compliance.ComplianceReport.indicators`.
    """
    for r in ind.itertuples(index=False):
        if r.indicator not in STUDENT_INDICATORS or missing(r.n) or missing(r.value):
            continue
        code = str(r.indicator)
        pre = f"{prefix}.{code}"
        n, k = as_int(r.n), round(as_float(r.value) * as_int(r.n))
        doc.count(f"{pre}.n", n)
        doc.count(f"{pre}.k", k, printed=False)
        if code == "student_coverage" and k == n:  # nobody without a mentor: no group to hide
            doc.count(f"{pre}.rate~not", 0, printed=False, sensitive=False)
        doc.rate(f"{pre}.rate", f"{pre}.k", f"{pre}.n")


#: Cells that may count the same students under different names: the students of the year
#: (roster, coverage table, the coverage indicator's base, middle school: the mentees) and
#: those with a mentor (基本情况, the regrouping sentence, the indicators counting them).
#: Cells of a group with equal values are tied (a reader takes them for the same number), so
#: that one printed cannot give back another that is withheld.
SAME_STUDENTS: tuple[tuple[str, ...], ...] = (
    ("n_students", "coverage.roster", "comp.student_coverage.n", "school.n_mentees"),
    (
        "comp.student_coverage.k",
        "school.n_mentored",
        "regroup.n_students",
        "comp.regroup_share.n",
        "comp.home_visit.n",
    ),
)


#: Prefixes of the cells counting some of the year's students (the coverage table, the
#: satisfaction table's respondents, those with a mentor): each is at most ``n_students``.
SUBSETS_OF_THE_YEAR = (
    "coverage.",
    "sat.",
    "comp.student_coverage.k",
    "regroup.n_students",
    "school.n_mentored",
)


def tie_same_students(doc: Document) -> None:
    """Tie the registered cells of each group of :data:`SAME_STUDENTS` that have equal values,
    and bound ``n_students`` by the counts of some of its students
    (:data:`SUBSETS_OF_THE_YEAR`, :meth:`~mentorlib.privacy.Document.subset`): a printed
    survey count as large as the roster gives a withheld roster back otherwise."""
    if "n_students" in doc.cells:
        total = doc.cells["n_students"].value
        for k in [k for k in doc.cells if k.startswith(SUBSETS_OF_THE_YEAR)]:
            c = doc.cells[k]
            if c.printed and k != "coverage.roster" and c.value <= total:
                doc.subset("n_students", k)
    for group in SAME_STUDENTS:
        anchor: dict[int, str] = {}
        for k in group:
            if k not in doc.cells:
                continue
            v = doc.cells[k].value
            if v in anchor:
                doc.total(anchor[v], [k])
            else:
                anchor[v] = k


def register_year(
    doc: Document, prog, sat, reasons, regroup, rreasons, coverage, facts: dict | None = None
) -> None:
    """Register the annual summary's student counts and their relations in ``doc``.

    The progress report's own tables (:meth:`ProgressReport.register`), then: the categories
    sentence (``cat.*``: the evaluable students split by dimensions improved), the bars of the
    dimensions figure (``dims.*``), the satisfaction table (``sat.{term}.*``: the year is the
    sum of its terms), the reasons for wanting a change (``reasons.*``: they add up to the
    students wanting one), the regrouping sentence and its reasons table (``regroup.*``: the
    start-of-year and term-2 changes add up to the reasons), the coverage table and the
    school's facts printed in 基本情况 (``school.n_mentored``, ``school.n_mentees``;
    :func:`~mentorlib.report.narrative_facts.school_facts`). Call :func:`tie_same_students`
    once everything is registered.
    """
    prog.register(doc)
    ps = prog.per_student
    cat = ps["category"].astype("object").value_counts()
    names = ("improved_3plus", "improved_1_2", "no_change", "deteriorated", "not_evaluable")
    for c in names:
        doc.count(f"cat.{c}", int(cat.get(c, 0)))
    try_total(doc, "n_evaluable", [f"cat.{c}" for c in names[:4]])
    try_total(doc, "n_not_evaluable", ["cat.not_evaluable"])
    if prog.k == 1:
        try_total(doc, "n_progressing", ["cat.improved_3plus", "cat.improved_1_2"])
    D = int(ps["n_dimensions"].max()) if len(ps) else 0
    ev = ps["n_evaluable"] > 0
    dims = ps.loc[ev, "n_improved"].value_counts().reindex(range(D + 1), fill_value=0)
    for i, v in dims.items():
        doc.count(f"dims.{i}", int(v))
    try_total(doc, "n_evaluable", [f"dims.{i}" for i in dims.index])
    try_total(doc, "cat.improved_3plus", [f"dims.{i}" for i in dims.index if i >= 3])
    try_total(doc, "cat.improved_1_2", [f"dims.{i}" for i in dims.index if 1 <= i <= 2])
    try_total(doc, "n_progressing", [f"dims.{i}" for i in dims.index if i >= prog.k])
    for r in sat.itertuples(index=False):
        for c in ("n", "n_answer", "n_want"):
            doc.count(f"sat.{r.term}.{c}", getattr(r, c))
        doc.rate(f"sat.{r.term}.want", f"sat.{r.term}.n_want", f"sat.{r.term}.n_answer")
    terms = [int(x) for x in sat["term"] if int(x) != 0]
    if len(sat) and 0 in set(sat["term"].astype(int)) and terms:
        for c in ("n", "n_answer", "n_want"):
            try_total(doc, f"sat.0.{c}", [f"sat.{x}.{c}" for x in terms])
    rk = [
        doc.count(f"reasons.{r}", n) for r, n in zip(reasons["reason"], reasons["n"], strict=True)
    ]
    if rk and "sat.0.n_want" in doc.cells:
        try_total(doc, "sat.0.n_want", rk)
    if regroup:
        doc.count("regroup.n_students", regroup["n_students"])
        doc.count("regroup.start", regroup["n_start"])
        doc.count("regroup.term2", regroup["n_term2"])
        moves = doc.count("regroup.moves", regroup["n_start"] + regroup["n_term2"], printed=False)
        doc.total(moves, ["regroup.start", "regroup.term2"])
        keys = [
            doc.count(f"regroup.reason.{r}", n)
            for r, n in zip(rreasons["reason"], rreasons["n"], strict=True)
        ]
        if keys:
            try_total(doc, moves, keys)
    for src, n in zip(coverage["source"], coverage["n"], strict=True):
        if src != "activities":  # rows, not students
            doc.count(f"coverage.{src}", n)
    if facts and facts.get("n_students"):
        doc.count("school.n_mentored", facts["n_mentored"])
        if prog.level == "middle" and facts["n_mentees"]:
            doc.count("school.n_mentees", facts["n_mentees"])


def try_total(doc: Document, total: str, parts: list[str]) -> None:
    """A relation that holds in these data (parts that do not add up are not related)."""
    if total in doc.cells and all(p in doc.cells for p in parts):
        if sum(doc.cells[p].value for p in parts) == doc.cells[total].value:
            doc.total(total, parts)


def printed(a, key: str, v=None) -> str:
    """The printed text of a registered count (``"<5"``, ``"—"`` or the number)."""
    doc = getattr(a, "disclosure", None)
    if doc is not None and key in doc.cells:
        return doc.text(key)
    return count_text(v, a.min_cell)


def register_pilot(
    doc: Document, progress: dict, cohort: pd.DataFrame, pers, *, sat=None, comp=None
) -> None:
    """Register the review's student counts: each year's progress tables (``"{year}:"``
    prefix), the cohort table (``cohort.{grade}.*``: the grades add up to ``all``), the
    persistence table (``pers.*``: counts adding up to the students evaluable every year),
    the satisfaction trend (``sat.{year}.*``: ``n`` = those answering + ``no_answer``; the
    share wanting a change is the rate ``want`` of ``n_want`` in ``n_answer``) and the
    compliance trend's indicators that count students (``comp.{year}.{indicator}.*``: the
    share ``rate`` of ``k`` students in ``n``;
    :data:`mentorlib.compliance.STUDENT_INDICATORS`)."""
    for y, R in progress.items():
        R.register(doc.view(f"{y}:"))
    groups = [g for g in dict.fromkeys(cohort["cohort"]) if g != "all"]
    for r in cohort.itertuples(index=False):
        doc.count(f"cohort.{r.cohort}.n_students", r.n_students)
        for c in ("n_evaluable", "n_progressing"):
            doc.count(f"cohort.{r.cohort}.{r.year}.{c}", getattr(r, c))
        pre = f"cohort.{r.cohort}.{r.year}"
        doc.rate(f"{pre}.rate", f"{pre}.n_progressing", f"{pre}.n_evaluable")
    if "all" in set(cohort["cohort"]) and groups:
        try_total(doc, "cohort.all.n_students", [f"cohort.{g}.n_students" for g in groups])
        for y in dict.fromkeys(cohort["year"]):
            for c in ("n_evaluable", "n_progressing"):
                try_total(doc, f"cohort.all.{y}.{c}", [f"cohort.{g}.{y}.{c}" for g in groups])
    if len(pers):
        keys = [
            doc.count(f"pers.{i}", n)
            for i, n in zip(pers["years_progressed"], pers["n"], strict=True)
        ]
        tot = doc.count("pers.total", int(pers["n"].sum()), printed=False)
        doc.total(tot, keys)
        for i in pers["years_progressed"]:
            doc.rate(f"pers.share.{i}", f"pers.{i}", tot)
    if sat is not None and len(sat):
        for r in sat.itertuples(index=False):
            pre = f"sat.{r.year}"
            for c in ("n", "n_answer", "n_want"):
                doc.count(f"{pre}.{c}", getattr(r, c))
            rest = doc.cells[f"{pre}.n"].value - doc.cells[f"{pre}.n_answer"].value
            if rest > 0:
                doc.count(f"{pre}.no_answer", rest, printed=False)
                doc.total(f"{pre}.n", [f"{pre}.n_answer", f"{pre}.no_answer"])
            doc.rate(f"{pre}.want", f"{pre}.n_want", f"{pre}.n_answer")
    if comp is not None and len(comp):
        for y in dict.fromkeys(comp["year"]):
            register_compliance(doc, comp[comp["year"] == y], prefix=f"comp.{y}")


def register_stages(doc: Document, stages: pd.DataFrame, *, award_year: int | None = None) -> None:
    """Register the student counts of the review's 实施阶段 table and sentences.

    Per year (``stage.{year}.*``): the students on the roster (``n_students``, the first
    year's also in 试点背景), those with a mentor (``n_mentored``: some of them,
    :meth:`~mentorlib.privacy.Document.subset`), the changes of mentor (``n_regrouped``) and
    the mentees of ``award_year`` (``n_mentees``, not in the table: the middle school's award
    budget sentence). A count equal to a registered count of the same students (the year's
    progress roster ``{year}:n_students``, the coverage indicator's base and its students
    with a mentor, ``comp.{year}.student_coverage.n`` / ``.k``) is tied to it, as
    :func:`tie_same_students` ties the annual summary's: printing one cannot give back the
    other when it is withheld.

    Parameters
    ----------
    doc : Document
        The review's disclosure document (not yet protected; the years' progress and the
        compliance trend registered first).
    stages : DataFrame
        :func:`mentorlib.report.narrative_facts.stage_table`.
    award_year : int, optional
        The year whose mentees the review prints (None: no such sentence).
    """
    for r in stages.to_dict("records"):
        y = int(r["year"])
        pre = f"stage.{y}"
        n = doc.count(f"{pre}.n_students", r["n_students"])
        m = doc.count(f"{pre}.n_mentored", r["n_mentored"])
        doc.count(f"{pre}.n_regrouped", r["n_regrouped"])
        if doc.cells[m].value <= doc.cells[n].value:
            doc.subset(n, m)
        same = {
            n: (f"{y}:n_students", f"comp.{y}.student_coverage.n"),
            m: (f"comp.{y}.student_coverage.k",),
        }
        if y == award_year:
            same[doc.count(f"{pre}.n_mentees", r["n_mentees"])] = (f"{y}:n_students",)
        for key, others in same.items():
            for o in others:
                if o in doc.cells and doc.cells[o].value == doc.cells[key].value:
                    doc.total(o, [key])


#: The columns of the cleaning table: the rows read of a source kind, then what became of them
#: (kept, merged as a duplicate, quarantined), which add up to the rows read.
CLEANING_COUNTS = ("rows_in", "kept", "merged", "quarantined")


def cleaning_key(kind: object, column: str) -> str:
    """The document cell of a count of the cleaning table (``clean.{kind}.{column}``)."""
    return f"clean.{kind}.{column}"


def register_cleaning(doc: Document, cleaning: pd.DataFrame | None) -> None:
    """Register the annual summary's cleaning table: rows per source kind.

    The rows of a kind are records of its students (a referral case is a student referred
    for serious psychological problems), so each count is a cell under the small-cell rule;
    ``rows_in = kept + merged + quarantined`` (a remainder, rows not read, hidden when
    there is one) ties them, so that a suppressed count is not given back by subtraction.

    Parameters
    ----------
    doc : Document
        The year's disclosure document (not yet protected).
    cleaning : DataFrame or None
        :func:`mentorlib.report.sources.cleaning_summary`: kind and :data:`CLEANING_COUNTS`.
    """
    if cleaning is None:
        return
    for r in cleaning.itertuples(index=False):
        total = doc.count(cleaning_key(r.kind, "rows_in"), r.rows_in)
        parts = {
            c: 0 if missing(getattr(r, c)) else as_int(getattr(r, c)) for c in CLEANING_COUNTS[1:]
        }
        if sum(parts.values()) <= doc.cells[total].value:
            doc.partition(total, parts, prefix=f"clean.{r.kind}")
        else:  # not a partition in these data: each count stands alone
            for c, v in parts.items():
                doc.count(cleaning_key(r.kind, c), v)
