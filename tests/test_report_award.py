"""The award part of a middle school's annual summary: internal amounts, public distribution."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from mentorlib import effectiveness as E
from mentorlib import report
from mentorlib.data import from_synth
from mentorlib.report.sections_award import public_distribution
from mentorlib.rules import rulebook

from _report_fixtures import number

YEAR = 2024


@pytest.fixture(scope="module")
def middle_drafts(middle_study):
    P = from_synth(middle_study)
    a = report.analyse_year(P, YEAR, seed=0)
    out = {
        public: report.annual_summary(P, YEAR, lang="zh", public=public, analyses=a)
        for public in (True, False)
    }
    return P, a, out


def _table(rep, key):
    for s in rep.sections:
        for b in s.blocks:
            if isinstance(b, report.Table) and b.key == key:
                return b.data
    return None


def test_internal_summary_shows_each_mentor_with_amounts_adding_up(middle_drafts):
    P, a, drafts = middle_drafts
    rep = drafts[False]
    tab = _table(rep, "award_internal")
    assert tab is not None
    body = tab[tab["导师"] != "合计"]
    totals = tab[tab["导师"] == "合计"].set_index("学期")
    scheme = a.mentors.scheme
    assert len(body) == len(scheme)  # one row per mentor and term
    yuan = body["成效奖（元）"].map(number)
    mentees = body["受导学生"].map(number)
    assert yuan.sum() == 250 * mentees.sum() == number(totals.loc["全学年", "成效奖（元）"])
    assert mentees.sum() == len(E.scheme_components(P, YEAR))  # mentee-terms
    for term in (1, 2):
        sel = body["学期"] == str(term)
        assert yuan[sel].sum() == 250 * mentees[sel].sum()
    # the audit beside each band: a probability, blank when the mentor variance is estimated
    # at 0 (the band then says nothing about the mentor: no credibility to give)
    p = body["等级可信度"].loc[body["等级可信度"] != "—"].map(number)
    models = a.mentors.models
    var = float(models.loc[models["outcome"] == "composite", "var_mentor"].iloc[0])
    if var > 0:
        assert len(p) > 0.8 * len(body) and p.between(0, 1).all()
    else:
        assert len(p) == 0
    # the mentee rewards are listed (no student ID: the study has no pseudonym key)
    rw = _table(rep, "mentee_rewards")
    assert rw is not None and len(rw) == len(E.mentee_rewards(P, YEAR))
    ids = set(P["students"]["student_id"].astype(str))
    text = rep.text()
    assert not [i for i in ids if i in text]


def test_public_summary_shows_the_distribution_only(middle_drafts):
    P, a, drafts = middle_drafts
    rep = drafts[True]
    assert _table(rep, "award_internal") is None and _table(rep, "mentee_rewards") is None
    dist = _table(rep, "award_public")
    assert dist is not None
    text = rep.text()
    names = set(a.mentors.scheme["mentor_name"].dropna().astype(str))
    assert not [n for n in names if n in text]
    staff = set(a.mentors.scheme["mentor_id"].astype(str))
    assert not [m for m in staff if re.search(rf"(?<!\d){m}(?!\d)", text)]
    # no per-mentor amount: one row per term and band, the band totals add up to the pool
    n_bands = len(P.rules.award_bands) + int(a.mentors.scheme["band"].isna().any())
    assert len(dist) <= 2 * n_bands
    assert list(dist.columns) == [
        "学期", "等级", "导师人数", "受导学生", "成效奖（元）", "每名受导学生（元）"
    ]  # fmt: skip
    paid = dist["成效奖（元）"].loc[dist["成效奖（元）"] != "—"].map(number).sum()
    assert paid == 250 * len(E.scheme_components(P, YEAR))
    assert "内部" not in rep.title


def test_public_distribution_respects_min_cell():
    """Hand-built: term 1's band D holds 3 mentees (< 5): it and a complement are hidden with
    their mentors, and term 1 shows no amounts; term 2 is shown in full."""
    rules = rulebook("middle")
    rows = []
    for term, per_band in (
        (1, {"A": 6, "B": 8, "C": 7, "D": 3}),
        (2, {"A": 6, "B": 8, "C": 7, "D": 6}),
    ):
        for band, n in per_band.items():
            for i in range(n):  # one mentee per mentor
                rows.append({"mentor_id": f"{band}{i}", "term": term, "n_mentees": 1, "band": band})
    scheme = pd.DataFrame(rows)
    scheme["score"] = 0.0
    scheme["award"] = np.concatenate(
        [E.allocate_award(scheme[scheme["term"] == t]) for t in (1, 2)]
    )
    tab = E.award_table(scheme, rules)
    out = public_distribution(tab, rules, 5).set_index(["term", "band"])
    t1, t2 = out.loc[1], out.loc[2]
    assert pd.isna(t1.loc["D", "n_mentees"]) and pd.isna(t1.loc["D", "n_mentors"])
    assert t1["n_mentees"].isna().sum() >= 2  # a complementary cell too
    assert t1["yuan"].isna().all() and t1["yuan_per_mentee"].isna().all()
    assert t2["n_mentees"].notna().all() and int(t2["yuan"].sum()) == 250 * 27
    shown = t1["n_mentees"].dropna()
    assert (shown >= 5).all()
