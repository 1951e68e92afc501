"""A breakdown group on a small school where everyone evaluable progressed (issue 13, messy
middle study): the protection must blank it, never fail ("cannot protect ...")."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from mentorlib.privacy import Document, audit
from mentorlib.progress import disclosure


def tiny_report() -> SimpleNamespace:
    """24 mentees, all evaluable, 18 progressing; the focus group "none" has 6 students who
    all progressed (its rate's complement is 0)."""
    verdict = pd.DataFrame(
        [{"n_students": 24, "n_evaluable": 24, "n_not_evaluable": 0, "n_progressing": 18}]
    )
    sensitivity = pd.DataFrame(
        [{"definition": "rci_data", "k": 1, "rule": "evaluable_only", "n_progressing": 18}]
    )
    rows = [
        ("grade", "7", 24, 24, 18),
        ("focus_group", "left_behind", 10, 10, 7),
        ("focus_group", "none", 6, 6, 6),
        ("focus_group", "single_parent", 14, 14, 8),
    ]
    cols = ["by", "group", "n_students", "n_evaluable", "n_progressing"]
    internal = {
        "verdict": verdict,
        "sensitivity": sensitivity,
        "breakdowns": pd.DataFrame(rows, columns=cols),
        "trend": pd.DataFrame(columns=["year", *verdict.columns]),
        "context": {},
    }
    return SimpleNamespace(internal=internal, definition="rci_data", k=1, rule="evaluable_only")


def test_all_progressing_small_group_is_blanked_not_an_error():
    doc = Document(5, name="progress tiny 2023")
    disclosure.register(tiny_report(), doc)
    doc.protect()  # raised "cannot protect bd.focus_group.none.n_evaluable"
    a = audit(doc)
    assert not a["recoverable"].any()
    assert a["protected"].all()
    # the group's rate is 100%: not shown, nor the count it is a share of
    assert doc.suppressed("bd.focus_group.none.rate")
    assert doc.value("bd.focus_group.none.n_evaluable") is None


def test_auditor_reads_unbounded_as_unbounded():
    """n_evaluable "—" (5 or more) = n_progressing "—" + a hidden rest: no upper bound. HiGHS
    reports such a programme "unbounded or infeasible"; the auditor once took it as
    infeasible and the cell as recoverable."""
    d = Document(5)
    for c in ("n_evaluable", "n_progressing"):
        d.count(c, 6)
    d.rate("rate", "n_progressing", "n_evaluable")
    d.protect()
    assert d.suppressed("rate")
    assert audit(d)["protected"].all()


def _rows(rows, cols) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=cols)
    return df.assign(proportion=df["n_progressing"] / df["n_evaluable"], ci_low=0.3, ci_high=0.7)


def one_grade_report() -> SimpleNamespace:
    """The messy middle school of 2024 by hand: 27 mentees in one grade, 24 evaluable (3 not:
    the roster total is withheld), 13 progressing; five classes of 3 to 7."""
    v = ["definition", "k", "rule", "n_students", "n_evaluable", "n_not_evaluable"]
    verdict = _rows(
        [["rci_data", 1, "evaluable_only", 27, 24, 3, 13]], [*v, "n_progressing"]
    ).assign(n=24, successes=13)
    cols = ["by", "group", "n_students", "n_evaluable", "n_progressing"]
    classes = [
        ("8-1", 7, 6, 4),
        ("8-2", 6, 6, 3),
        ("8-3", 6, 6, 3),
        ("8-4", 4, 3, 2),
        ("8-5", 4, 3, 1),
    ]
    bd = _rows([("grade", "8", 27, 24, 13), *[("class", *c) for c in classes]], cols)
    return SimpleNamespace(
        internal={
            "verdict": verdict,
            "sensitivity": verdict[["definition", "k", "rule", "n_progressing"]],
            "breakdowns": bd,
            "trend": pd.DataFrame(columns=["year", *verdict.columns]),
            "context": {},
        },
        definition="rci_data",
        k=1,
        rule="evaluable_only",
        year=2024,
    )


def test_a_suppressed_row_carries_no_number():
    """`progress --json`: the grade-8 row said "suppressed": true (its roster count was
    withheld) yet showed n_evaluable 24, n_progressing 13, proportion 0.54. A row is now
    suppressed when its share is withheld, and then carries no number at all; a row whose
    share is published (grade 8: the school's own headline) has only the withheld count
    blank."""
    rep = one_grade_report()
    doc = Document(5, name="one grade")
    disclosure.register(rep, doc)
    doc.protect()
    disclosure.protect(rep, doc)
    numbers = ["n_students", "n_evaluable", "n_progressing", "proportion", "ci_low", "ci_high"]
    for table in (rep.verdict, rep.breakdowns):
        sup = table["suppressed"].astype(bool)
        assert table.loc[sup, [c for c in numbers if c in table]].isna().all().all()
        # the flag is the share's decision
        assert (sup == table["proportion"].isna()).all()
    assert rep.breakdowns["suppressed"].sum() >= 2  # the classes of 3
    g8 = rep.breakdowns.set_index(["by", "group"]).loc[("grade", "8")]
    head = rep.verdict.iloc[0]
    assert not g8["suppressed"] and not head["suppressed"]
    assert pd.isna(g8["n_students"]) and pd.isna(head["n_students"])  # 27 - 24 = 3
    assert (g8["n_evaluable"], g8["n_progressing"]) == (head["n_evaluable"], head["n_progressing"])
    assert not audit(doc)["recoverable"].any()
