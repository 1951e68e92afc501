"""The confidence level printed in the reports is the study's setting, ``1 - rules.alpha``.

A study run with ``alpha = 0.1`` must label every interval of the annual summary and the pilot
review "90%" (tables, sentences, figure captions) and print no "95%" anywhere. The analyses are
computed once for the module on the committed sample (one mentor fit, one policy-comparison
draw); the default-rule wording is checked by the shared drafting of the other report tests.
"""

from __future__ import annotations

import pytest

from mentorlib import report
from mentorlib.errors import InputError
from mentorlib.labels import Lang, level_text
from mentorlib.report.methods import methods_section
from mentorlib.rules import rulebook

from _report_fixtures import YEAR, sample_study


@pytest.fixture(scope="module")
def drafted_at_90() -> dict[str, str]:
    """The annual summary (zh) and the pilot review (en) of the sample at alpha = 0.1, as
    Markdown, every caption included."""
    P = sample_study().with_rules(alpha=0.1)
    ya = report.analyse_year(P, YEAR, seed=0)
    pa = report.analyse_pilot(P, seed=0, draws=1)
    assert ya.level == pa.level == "90%"
    return {
        "annual": report.annual_summary(P, YEAR, lang="zh", analyses=ya).to_markdown(),
        "review": report.pilot_review(P, lang="en", analyses=pa).to_markdown(),
    }


def test_level_text():
    assert level_text(0.05) == "95%" and level_text(0.1) == "90%"
    assert level_text(0.01) == "99%" and level_text(0.025) == "97.5%"
    assert level_text(0.001) == "99.9%"
    with pytest.raises(InputError, match="alpha"):
        level_text(0)


def test_methods_state_the_level():
    zh = methods_section(Lang("zh"), rulebook("primary", {"alpha": 0.01}), review=True, min_cell=5)
    text = "\n".join(getattr(b, "text", "") for b in zh.blocks)
    assert "比例的99%置信区间" in text and "95%" not in text


def test_annual_summary_prints_the_studys_level(drafted_at_90):
    md = drafted_at_90["annual"]
    assert "95%" not in md
    for want in (
        "| 90%置信区间 |",  # KPI, sensitivity, grade and focus tables
        "90% Wilson区间",  # the verdict table
        "90%自助法区间",
        "单侧90%下限",
        "各年级显著进步比例（90%置信区间）",  # a figure caption
        "重点关注学生的显著进步比例（90%置信区间）",
        "与其他学生之差（百分点，90%区间）",
    ):
        assert want in md, want


def test_pilot_review_prints_the_studys_level(drafted_at_90):
    md = drafted_at_90["review"]
    assert "95%" not in md
    for want in (
        "the progress rate shows its 90% CI in brackets",
        "each year (90% CI, verdict)",
        "Progress rate by year (90% CI)",
        "The same students' progress rate each year (90% CI)",
    ):
        assert want in md, want
