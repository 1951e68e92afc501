"""Every stage runs on a study with only the required kinds (issue 13, item 7).

The committed sample study is cleaned once; each optional kind's table is then taken out of
the processed study (and, separately, every optional table at once), and every stage runs on
what is left: progress, mentors, compliance, grouping, the annual summary and the pilot
review. Where a kind is absent the reports say so in one line (labels.MISSING_KIND_LABELS).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io

import pytest

from mentorlib import grouping as G
from mentorlib import report as R
from mentorlib.cli import main
from mentorlib.compliance import compliance_report
from mentorlib.data import OPTIONAL_TABLES, Processed, from_synth, load_processed
from mentorlib.effectiveness import mentor_report
from mentorlib.errors import InputError
from mentorlib.labels import MISSING_KIND_LABELS
from mentorlib.progress import progress_report
from mentorlib.report.render.md import to_markdown
from mentorlib.synth import SynthParams, generate

from conftest import SAMPLE

REQUIRED_TABLES = ("students", "staff", "assignments", "assessment_items")


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Processed:
    out = tmp_path_factory.mktemp("optional") / "sample"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["clean", str(SAMPLE), "--out", str(out)]) == 0
    return load_processed(out)


def without(P: Processed, drop: tuple[str, ...]) -> Processed:
    return dataclasses.replace(P, tables={k: v for k, v in P.tables.items() if k not in drop})


def headline(kind: str, lang: int) -> str:
    """The first clause of the kind's missing line ("本学年未提供奖惩记录")."""
    return MISSING_KIND_LABELS[kind][lang].split("，")[0].split(";")[0]


def test_every_optional_table_has_its_missing_line():
    assert set(MISSING_KIND_LABELS) == set(OPTIONAL_TABLES)
    assert all(zh and en for zh, en in MISSING_KIND_LABELS.values())


def test_an_absent_optional_table_reads_as_an_empty_contract_table(sample):
    Q = without(sample, ("rewards",))
    assert "rewards" not in Q and len(Q["rewards"]) == 0
    assert list(Q["rewards"].columns) == list(sample["rewards"].columns)
    with pytest.raises(KeyError, match="no table 'students'"):
        without(sample, ("students",))["students"]


@pytest.mark.slow
@pytest.mark.parametrize("drop", [*((t,) for t in OPTIONAL_TABLES), OPTIONAL_TABLES])
def test_every_stage_runs_without_optional_kinds(sample, drop):
    Q = without(sample, drop)
    assert set(REQUIRED_TABLES) <= set(Q.tables)
    y = Q.years[-1]
    assert len(progress_report(Q, y, n_boot=0).per_student)
    M = mentor_report(Q, y, n_sims=20, stability=False)
    assert len(M.models)
    compliance_report(Q, y)
    assert len(G.run_policy(Q, y, "optimal").assignment)
    G.compare_policies(Q, y, draws=2, progress=False)
    a = R.analyse_year(Q, y)
    md = to_markdown(R.annual_summary(Q, y, lang="zh", analyses=a))
    for k in drop:
        assert headline(k, 0) in md, k
    p = R.analyse_pilot(Q, draws=2)
    md = to_markdown(R.pilot_review(Q, lang="zh", analyses=p))
    for k in drop:
        assert headline(k, 0) in md, k


def test_a_study_with_every_kind_prints_no_missing_line(sample):
    from mentorlib.report.sources import missing_kinds

    assert missing_kinds(sample, sample.years[-1]) == []
    assert missing_kinds(without(sample, ("mood",)), sample.years) == ["mood"]


def test_mentors_says_why_when_no_assignment_is_left(sample):
    a = sample["assignments"]
    Q = dataclasses.replace(sample, tables={**sample.tables, "assignments": a.iloc[:0]})
    with pytest.raises(InputError, match="no student has a mentor in .*quarantined"):
        mentor_report(Q, Q.years[-1], n_sims=20, stability=False)


def test_middle_school_with_one_or_two_mentees_per_mentor_runs_mentor_report():
    P = from_synth(generate(SynthParams(level="middle", n_students=300, n_years=1, seed=3)))
    M = mentor_report(P, P.years[-1], n_sims=20, stability=False)
    per_mentor = M.models["n_students"] / M.models["n_mentors"]
    assert (per_mentor < 3).all()
    assert len(M.models) == len(P.dimensions) + 1


def test_a_roster_only_school_gets_one_line_per_stage(sample):
    """A school that handed over only its roster: the cleaner writes the required kinds it
    lacks as tables without columns. They read as empty contract tables (no KeyError 'year'
    in grouping or compliance), and the stages that need the assessment say so in one line
    (not an IndexError from the reverse-keyed items)."""
    empty = {t: sample[t].iloc[0:0, 0:0] for t in ("assignments", "assessment_items")}
    Q = dataclasses.replace(sample, tables={**sample.tables, **empty})
    y = Q.years[-1]
    assert list(Q["assignments"].columns) == list(sample["assignments"].columns)
    assert Q["assignments"].empty
    # a required table missing altogether reads the same; only the roster must be there
    assert without(Q, ("staff",))["staff"].empty
    for stage in (
        lambda: progress_report(Q, y, n_boot=0),
        lambda: mentor_report(Q, y, n_sims=20, stability=False),
    ):
        with pytest.raises(InputError, match="no assessment answers"):
            stage()
