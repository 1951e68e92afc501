"""The headline a principal reads (issue 14 item 6): the executive summary opens with the
certified share, the estimated true share and what they mean for the target, in plain words;
the review's limitations carry only numbers computed from the study.

Inputs drafted once per test process: see ``_report_fixtures``. The estimated true share is
faked (``ProgressReport.true_share``, the agreed dict) so that each wording is reached.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from mentorlib import report
from mentorlib.labels import PLAIN_HEADLINE, Lang
from mentorlib.report.headline import goal_status, plain_headline, shown_true_share
from mentorlib.report.sections_review import limitations_section

from _report_fixtures import VARIANTS, YEAR

#: Method words that must not appear in the executive summary.
JARGON = (
    "可靠变化指数",
    "RCI",
    "自助法",
    "bootstrap",
    "Bootstrap",
    "ICC",
    "精确二项检验",
    "binomial",
    "p =",
    "p值",
    "置信区间",
    "置信下限",
    "confidence",
    "Wilson",
    "Cronbach",
    "plausible value",
    "合理值",
    "等级反应模型",
    "graded-response",
)


def fake(estimate, lo, hi, n=133, delta=0.5, k=1) -> dict:
    """A ``ProgressReport.true_share`` as part "pv" fills it (iface14.md)."""
    return {
        "estimate": estimate,
        "ci_low": lo,
        "ci_high": hi,
        "delta": delta,
        "k": k,
        "method": "grm_pv_boot",
        "n_students": n,
    }


def summary_text(rep) -> str:
    return "\n".join(getattr(b, "text", "") for b in rep.section("summary").blocks)


def pct(v) -> str:
    return f"{v:.1%}"


def test_summary_opens_with_the_certified_share(report_study, drafted):
    a = drafted["year_analyses"]
    R = a.progress
    cert = R.headline_row(public=True)["proportion"]
    for lang, public in VARIANTS:
        first = drafted["annual", lang, public].section("summary").blocks[0].text
        assert first.startswith(f"{YEAR}") or first.startswith("Of the")
        assert pct(cert) in first.split("。")[0].split(". ")[0]  # the first sentence
        if shown_true_share(R, a.min_cell)[0] is None:  # no estimate on this branch yet
            assert Lang(lang).pair(PLAIN_HEADLINE["true_absent"]) in first
            assert "85%" in first


def test_summary_opens_with_both_shares_when_there_is_an_estimate(
    report_study, drafted, monkeypatch
):
    a = drafted["year_analyses"]
    monkeypatch.setattr(a.progress, "true_share", fake(0.716, 0.652, 0.781), raising=False)
    cert = pct(a.progress.headline_row(public=True)["proportion"])
    for lang in ("zh", "en"):
        rep = report.annual_summary(report_study, YEAR, lang=lang, analyses=a)
        first = rep.section("summary").blocks[0].text
        # certified first, then the estimate with its interval, then the goal
        i, j = first.index(cert), first.index("71.6%")
        assert i < j < first.index("65.2%") < first.index("78.1%") < first.index("85%", j)
        assert not any(w in summary_text(rep) for w in JARGON), lang
        # the technical sentence (interval, test) moved to the progress section
        assert rep.section("progress").blocks[0].text == a.progress.headline(lang)


@pytest.mark.parametrize(
    ("ts", "status", "zh", "en"),
    [
        (
            fake(0.93, 0.88, 0.97),
            "met",
            "目标已经达到：估计的实际比例即使取最低值也高于目标",
            "goal was reached: even the bottom of the likely range",
        ),
        (
            fake(0.80, 0.72, 0.88),
            "not_demonstrable",
            "可能已经达到，但我们的测量无法证明",
            "may have been reached, but our measurement cannot show it",
        ),
        (
            fake(0.60, 0.52, 0.68),
            "not_met",
            "目标没有达到：估计的实际比例即使取最高值也低于目标",
            "goal was not reached",
        ),
    ],
)
def test_three_wordings_of_the_goal(drafted, monkeypatch, ts, status, zh, en):
    a = drafted["year_analyses"]
    R = a.progress
    assert R.headline_row()["verdict"] != "met"  # the sample's certified share is low
    assert goal_status(R.headline_row()["verdict"], ts, R.target) == (status, "estimated")
    monkeypatch.setattr(R, "true_share", ts, raising=False)
    for lang, want in (("zh", zh), ("en", en)):
        t = Lang(lang)
        text = " ".join(plain_headline(a, t, "133"))
        assert want in text, (lang, text)
        assert f"{R.target:.0%}" in text
        assert pct(ts["estimate"]) in text and pct(ts["ci_low"]) in text
        assert not any(w in text for w in JARGON)
        others = {s for s in ("met", "not_demonstrable", "not_met") if s != status}
        for o in others:
            assert t.pair(PLAIN_HEADLINE[f"goal.{o}.estimated"]).format(target="85%") not in text


def test_goal_status_reads_both_numbers():
    ts = fake(0.80, 0.72, 0.88)
    assert goal_status("met", ts, 0.85) == ("met", "certified")  # certified decides first
    assert goal_status("met", None, 0.85) == ("met", "certified")
    assert goal_status("not met", None, 0.85) == ("not_demonstrable", "certified")
    assert goal_status("met by point estimate only", ts, 0.85) == ("not_demonstrable", "estimated")
    assert goal_status("not met", ts, 0.70) == ("met", "estimated")
    assert goal_status("not met", ts, 0.90) == ("not_met", "estimated")


@pytest.mark.parametrize(
    "ts",
    [fake(0.7, 0.5, 0.9, n=4), fake(0.98, 0.95, 1.0, n=133), fake(0.02, 0.0, 0.05, n=133), None],
)
def test_the_true_share_obeys_min_cell(drafted, monkeypatch, ts):
    # n below min_cell, or fewer than min_cell expected (non-)improvers: withheld, as a rate
    a = drafted["year_analyses"]
    monkeypatch.setattr(a.progress, "true_share", ts, raising=False)
    why = "absent" if ts is None else "withheld"
    assert shown_true_share(a.progress, a.min_cell) == (None, why)
    for lang in ("zh", "en"):
        t = Lang(lang)
        text = " ".join(plain_headline(a, t, "133"))
        assert t.pair(PLAIN_HEADLINE[f"true_{why}"]).format(min_cell=a.min_cell) in text
        if ts is not None:
            assert pct(ts["estimate"]) not in text


def test_no_jargon_in_any_executive_summary(drafted):
    for lang, public in VARIANTS:
        text = summary_text(drafted["annual", lang, public])
        assert not [w for w in JARGON if w in text], (lang, public)


# --------------------------------------------------------------------- the review's caveats

NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?%?")


def _accuracy(p, lang: str) -> str:
    """The limitations' bullets on reliability and the rule's accuracy."""
    blocks = limitations_section(p, Lang(lang)).blocks
    return "\n".join(
        b.text for b in blocks if b.text.startswith(("测量信度", "判定规则", "Reliab", "Accuracy"))
    )


def _derived(p) -> set[str]:
    """Every number the two bullets may print, recomputed here from the study."""
    rules = p.processed.rules
    out = {f"{rules.target_share:.0%}", f"{rules.rci_z:g}", f"{rules.true_delta:g}"}
    alphas, pre = [], []
    for y, R in p.progress.items():
        out |= {str(y), str(y + 1)}
        out.add(f"{int(R.headline_row(public=False)['n_evaluable']):,}")
        c = R.headline_row(public=True)["proportion"]
        out.add(pct(c))
        rel = R.context["reliability"]
        alphas += list(rel["alpha"])
        pre += list(rel.loc[rel["wave"] == "pre", "alpha"])
        ts = getattr(R, "true_share", None)
        if ts is not None:
            out |= {pct(ts[x]) for x in ("estimate", "ci_low", "ci_high")}
            out.add(f"{c / ts['estimate']:.0%}")
    out |= {f"{min(alphas):.2f}", f"{max(alphas):.2f}", f"{min(pre):.2f}", f"{max(pre):.2f}"}
    out |= {f"{rules.rci_z * np.sqrt(2 * (1 - r)):.2f}" for r in (min(pre), max(pre))}
    return out


def _undervived(p, lang: str) -> list[str]:
    allowed = _derived(p) | {s.rstrip("%") for s in _derived(p)}
    return [x for x in NUMBER.findall(_accuracy(p, lang)) if x not in allowed]


def test_review_caveats_carry_no_validation_literals(drafted):
    p = drafted["pilot_analyses"]
    for lang in ("zh", "en"):
        text = _accuracy(p, lang)
        for lit in ("200", "1,200", "72%", "37%", "87%", "90.5%", "70%", "0.8左右", "near 0.8"):
            assert lit not in text, lit
        assert len(NUMBER.findall(text)) > 10 and _undervived(p, lang) == [], lang


def test_review_caveats_follow_the_study(drafted, monkeypatch):
    # change the study (its estimates and its rules) and the numbers change with it
    p = drafted["pilot_analyses"]
    years = list(p.progress)
    texts = []
    for i, base in enumerate((0.62, 0.75)):
        for j, R in enumerate(p.progress.values()):
            e = base + 0.01 * j
            monkeypatch.setattr(R, "true_share", fake(e, e - 0.07, e + 0.07), raising=False)
        q = (
            p
            if i == 0
            else dataclasses.replace(
                p, processed=p.processed.with_rules(rci_z=1.645, true_delta=0.3, target_share=0.9)
            )
        )
        for lang in ("zh", "en"):
            assert _undervived(q, lang) == [], (i, lang)
        texts.append(_accuracy(q, "en"))
        R0 = q.progress[years[0]]
        assert pct(R0.true_share["estimate"]) in texts[-1]
    assert texts[0] != texts[1]
    assert "1.96" in texts[0] and "1.645" in texts[1] and "1.96" not in texts[1]
    assert "0.5 SD" in texts[0] and "0.3 SD" in texts[1]
    assert "85%" in texts[0] and "90%" in texts[1] and "85%" not in texts[1]


def test_review_summary_lists_the_estimated_true_shares(drafted, monkeypatch):
    from mentorlib.labels import GOAL_STATUS_SHORT
    from mentorlib.report.headline import true_shares_sentence
    from mentorlib.report.review import summary_section

    p = drafted["pilot_analyses"]
    assert true_shares_sentence(p, Lang("zh")) is None or all(
        getattr(R, "true_share", None) for R in p.progress.values()
    )
    shares = [fake(0.93, 0.88, 0.97), fake(0.80, 0.72, 0.88), fake(0.60, 0.52, 0.68)]
    for R, ts in zip(p.progress.values(), shares, strict=True):
        monkeypatch.setattr(R, "true_share", ts, raising=False)
    for lang in ("zh", "en"):
        t = Lang(lang)
        text = "\n".join(b.text for b in summary_section(p, t).blocks if hasattr(b, "text"))
        for ts in shares:
            assert pct(ts["estimate"]) in text
        for status in ("met", "not_demonstrable", "not_met"):
            assert t.of(GOAL_STATUS_SHORT, status) in text, (lang, status)
