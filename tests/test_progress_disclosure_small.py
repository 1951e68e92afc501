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
