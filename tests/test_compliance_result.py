"""compliance.result: the ComplianceReport's JSON, summary, tables and figures."""

from __future__ import annotations

import json
import re

import matplotlib
import matplotlib.pyplot as plt
import pytest

from mentorlib import compliance as C
from mentorlib.data import Processed, from_synth
from mentorlib.errors import InputError
from mentorlib.results import Result
from mentorlib.rules import rulebook

from _compliance_fixtures import (
    CONTRACT,
    make_tiny_primary,
)

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def three_years(primary_study):
    return from_synth(primary_study)


@pytest.fixture
def tiny_primary() -> Processed:
    return make_tiny_primary()


def test_json_is_plain_and_public_names_no_one(three_years):
    rep = C.compliance_report(three_years, 2024)
    public = rep.to_json_dict()
    assert "by_mentor" not in public and rep.INTERNAL == ("by_mentor",)
    text = json.dumps(public, ensure_ascii=False)  # raises on numpy or pandas values
    s = three_years["students"]
    ids = set(s["student_id"].astype(str)) | set(s["name"].astype(str))
    ids |= set(three_years["staff"]["staff_id"].astype(str)) | set(three_years["staff"]["name"])
    # shares' digits are not IDs (0.5436893203883495 holds "20388")
    text = re.sub(r"-?\d+\.\d+(e-?\d+)?", "", text)
    assert not [x for x in ids if x in text]
    internal = rep.to_json_dict(public=False)
    json.dumps(internal)
    assert len(internal["by_mentor"]) == len(rep.by_mentor)
    first = public["indicators"][0]
    assert list(first) == CONTRACT["indicators"]
    assert isinstance(first["value"], float) and isinstance(first["passed"], bool)


def test_summary_lines(three_years):
    rep = C.compliance_report(three_years, 2023)
    zh, en = rep.summary(), rep.summary("en")
    assert zh.splitlines()[0].startswith("2023学年过程合规")
    assert len(zh.splitlines()) == len(rep.indicators) + 1
    assert "谈心谈话" in zh and "≥1次/月" in zh and "One-to-one talks" in en


def test_result_protocol(tiny_primary):
    rep = C.compliance_report(tiny_primary, 2023)
    assert isinstance(rep, Result)
    assert rep.min_cell == tiny_primary.rules.min_cell
    t = rep.tables()
    assert set(t) == {"indicators", "by_month", "by_grade", "by_grade_month"}
    assert t["indicators"]["label"].iloc[0] == "教职工担任导师比例"
    assert rep.tables(lang="en")["indicators"]["label"].iloc[0] == "Staff serving as mentors"
    assert "by_mentor" in rep.tables(public=False)
    figs = rep.figures()
    try:
        assert list(figs) == ["grade_month", "heatmap_talk"]
    finally:
        for f in figs.values():
            plt.close(f)
    for call in (rep.summary, lambda lang: rep.tables(lang=lang)):
        with pytest.raises(InputError, match="lang"):
            call("fr")


def test_min_cell_comes_from_the_rulebook(tiny_primary):
    r = rulebook("primary", {"min_cell": 3})
    rep = C.compliance_report(tiny_primary, 2023, rules=r)
    assert rep.min_cell == 3
    # grade 2 has four students: suppressed at min_cell 5, shown at 3
    g2 = rep.by_grade.loc[rep.by_grade["grade"] == 2]
    assert len(g2) and not g2["suppressed"].any()
    g2_default = C.compliance_report(tiny_primary, 2023).by_grade
    assert g2_default.loc[g2_default["grade"] == 2, "suppressed"].all()
