"""Tests of mentorlib.effectiveness.report: the mentor report of one year (the result protocol)."""

from __future__ import annotations

import dataclasses
import json

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from numpy.testing import assert_allclose

from mentorlib import effectiveness as E
from mentorlib.errors import InputError
from mentorlib.results import Result


@pytest.fixture(scope="module")
def report(primary):
    return E.mentor_report(primary, 2024, seed=0, n_sims=500)


def test_report_tables_and_effects_track_the_truth(report, primary_study):
    assert set(report.models["outcome"]) == {
        "moral",
        "academic",
        "psychological",
        "habits",
        "composite",
    }
    e = report.effects[report.effects["outcome"] == "composite"].set_index("mentor_id")
    assert (e["ci_low"] <= e["effect"]).all() and (e["effect"] <= e["ci_high"]).all()
    assert e["p_top"].between(0, 1).all() and e["rank_low"].le(e["rank_high"]).all()
    truth = primary_study.truth["mentor_effects"]
    truth = truth[truth["year"] == 2024].groupby("mentor_id", observed=True)["effect"].mean()
    r = np.corrcoef(e["effect"], truth.reindex(e.index))[0, 1]
    assert r > 0.3, r
    assert not report.placebo["flagged"].iloc[0]
    assert report.stability["n_mentors"].gt(0).all()


def test_report_scheme_pool_and_audit(report, primary):
    s = report.scheme
    per_term = s.groupby("term").agg(n=("n_mentees", "sum"), paid=("award", "sum"))
    # the rulebook's award per mentee per term (250 yuan)
    assert_allclose(per_term["paid"], primary.rules.award_per_mentee_term * per_term["n"])
    assert set(s["band"].dropna()) <= {b for b, _ in primary.rules.award_bands}
    a = report.audit.iloc[0]
    assert -1 <= a["spearman"] <= 1 and 0 <= a["n_band_changed"] <= a["n_mentors"]
    assert report.bands["n_mentors"].sum() == a["n_mentors"]
    rel = report.reliability.set_index("n_mentees")
    assert rel.loc[8, "satisfaction"] >= rel.loc[1, "satisfaction"]  # more mentees, more reliable


def test_report_public_output_names_no_mentor(report):
    pub = report.to_json_dict(public=True)
    text = json.dumps(pub, ensure_ascii=False)  # plain Python types only
    assert "mentor_name" not in text and "mentor_id" not in text
    names = report.effects["mentor_name"].dropna().unique()
    assert len(names) and not any(n in text for n in names)
    assert set(pub["tables"]) >= {"models", "placebo", "audit", "effects_summary", "scheme_summary"}
    internal = report.to_json_dict(public=False)
    assert set(internal["internal_tables"]) == {*E.MentorReport.INTERNAL, "dose_sparse"}
    assert names[0] in json.dumps(internal, ensure_ascii=False)
    es = report.effects_summary()
    assert (es[["n_above", "n_below", "n_indistinguishable"]].sum(axis=1) == es["n_mentors"]).all()


def test_report_summary_and_dose(report):
    txt = report.summary("en")
    assert "placebo" in txt and "Spearman" in txt and "not randomised" in txt
    assert "不是随机分配" in report.summary("zh")
    d = report.dose.set_index("term")
    assert set(d.index) == {"talk", "parent_contact"}
    assert (d["ratio_low"] <= d["ratio"]).all() and (d["ratio"] <= d["ratio_high"]).all()
    assert report.dose_curve["predicted"].between(0, 1).all()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_figures(report, lang):
    figs = report.figures(lang=lang)
    assert set(figs) == {"caterpillar", "naive_vs_shrunk", "dose_response"}
    assert all(isinstance(f, Figure) for f in figs.values())
    for f in figs.values():
        plt.close(f)


def test_report_follows_the_result_protocol(report, primary):
    assert isinstance(report, Result)
    assert "导师效应" in report.summary() and "安慰剂" in report.summary()  # Chinese by default
    for call in (
        lambda: report.summary("fr"),
        lambda: report.tables(lang="english"),
        lambda: report.figures(lang="EN"),
    ):
        with pytest.raises(InputError, match="lang"):
            call()
    assert set(report.tables(lang="en")) == set(report.tables())
    pub = report.to_json_dict()
    assert pub["public"] and pub["min_cell"] == primary.rules.min_cell
    json.dumps(pub, allow_nan=False)  # plain values: NaN became None


def test_public_tables_protect_cells_below_the_rulebooks_min_cell(report):
    obs = report.tables()["dose_observed"]
    assert obs["n"].notna().all()  # every bin of this school holds more than 5 students
    # a study whose rulebook says 100: the smaller bins (and their rates) are suppressed
    strict = dataclasses.replace(report, rules=report.rules.with_changes(min_cell=100))
    obs = strict.tables()["dose_observed"]
    small = report.dose_observed["n"].to_numpy() < 100
    assert small.any() and obs.loc[small, "n"].isna().all()
    assert obs.loc[obs["n"].isna(), "mean"].isna().all()
    assert strict.to_json_dict()["min_cell"] == 100


@pytest.mark.slow
def test_middle_school_report_runs(middle):
    rep = E.mentor_report(middle, 2024, n_sims=200, stability=False)
    assert rep.models["mean_mentees"].max() <= 2  # 1-2 nominated students per mentor
    assert (rep.scheme.groupby("term")["award"].sum() > 0).all()
    assert rep.stability.empty
    assert rep.effects["reliability"].max() < 1
