"""A study's own rules, set in study.toml, reach every stage and every sentence (issue 12).

The committed sample study is copied, given a ``[rules]`` table that changes ``min_cell``, the
target, k, the regrouping cap and the talk frequency, cleaned and loaded the way a user would;
then the verdict, the grouping checker and policy, compliance and the report text must all use
the changed numbers, and none of the defaults.
"""

from __future__ import annotations

import shutil

import pytest

from mentorlib import grouping as G
from mentorlib.clean import clean_study
from mentorlib.compliance import compliance_report
from mentorlib.data import load_processed
from mentorlib.errors import InputError
from mentorlib.labels import Lang
from mentorlib.progress import progress_report
from mentorlib.report.methods import methods_section
from mentorlib.report.sections_process import compliance_intro
from mentorlib.report.shared import title_page

from conftest import SAMPLE

RULES = """
[rules]
min_cell = 10
target_share = 0.9
k_dimensions = 2
max_regroup_share = 0.2
talks_per_month = 2
"""


@pytest.fixture(scope="module")
def ruled(tmp_path_factory):
    root = tmp_path_factory.mktemp("rules")
    shutil.copytree(SAMPLE, root / "study")
    toml = root / "study" / "study.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + RULES, encoding="utf-8")
    clean_study(root / "study", root / "processed")
    return load_processed(root / "processed")


def test_the_processed_study_carries_the_rules(ruled):
    r = ruled.rules
    assert (r.min_cell, r.target_share, r.k_dimensions) == (10, 0.9, 2)
    assert (r.max_regroup_share, r.talks_per_month) == (0.2, 2)


def test_the_verdict_follows_target_k_and_min_cell(ruled):
    year = ruled.years[-1]
    rep = progress_report(ruled, year, n_boot=0)
    v = rep.tables(public=False)["verdict"].iloc[0]
    assert v["target"] == 0.9 and int(v["k"]) == 2
    one = progress_report(ruled.with_rules(k_dimensions=1), year, n_boot=0)
    assert v["successes"] < one.tables(public=False)["verdict"].iloc[0]["successes"]
    b = rep.tables(public=True)["breakdowns"]
    small = b[(b["n_students"].notna()) & (b["n_students"] < 10)]
    assert small.empty  # no published group of fewer than 10 students
    assert "90%" in rep.summary("zh") or "少于10名" in rep.summary("zh")


def test_the_checker_and_the_regroup_policy_use_the_cap(ruled):
    year = ruled.years[-1]
    run = G.run_policy(ruled, year, "regroup", seed=0)
    row = run.checks.set_index("rule").loc["changed_share"]
    assert str(row["target"]) == "<= 0.2" and bool(row["pass"])
    tight = G.run_policy(ruled.with_rules(max_regroup_share=0.05), year, "regroup", seed=0)
    assert float(tight.checks.set_index("rule").loc["changed_share", "value"]) <= 0.05


def test_compliance_targets_the_talk_frequency(ruled):
    rep = compliance_report(ruled, ruled.years[-1])
    assert rep.min_cell == 10
    talk = rep.indicators.set_index("indicator").loc["talk"]
    assert "2" in str(talk["target_zh"]) and "2" in str(talk["target_en"])


def test_the_report_text_states_the_changed_rules(ruled):
    r = ruled.rules
    zh = "\n".join(
        getattr(b, "text", "")
        for b in methods_section(Lang("zh"), r, review=True, min_cell=r.min_cell).blocks
    )
    assert "至少两个维度" in zh and "90%" in zh and "20%" in zh
    assert "85%" not in zh and "15%" not in zh and "至少一个维度" not in zh
    _, _, front = title_page(
        ruled, "annual_summary", (ruled.years[-1],), True, True, Lang("zh"), min_cell=r.min_cell
    )
    assert "少于10名" in "\n".join(front) and "少于5名" not in "\n".join(front)
    assert "每位学生每月至少两次谈心" in compliance_intro(r, Lang("zh"))


def test_a_misspelt_rule_stops_cleaning_with_one_line(tmp_path):
    shutil.copytree(SAMPLE, tmp_path / "study")
    toml = tmp_path / "study" / "study.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8") + "\n[rules]\nmin_cel = 10\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match=r"study.toml.*unknown rule 'min_cel'.*'min_cell'") as e:
        clean_study(tmp_path / "study", tmp_path / "processed")
    assert "\n" not in str(e.value)
    assert not (tmp_path / "processed").exists()
