"""``mentorlib report`` and ``review`` print the document's headline, then the paths (issue 16
item 7); ``review --json`` carries the grouping recommendation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mentorlib.cli import main

from conftest import SAMPLE

YEAR = 2024


@pytest.fixture
def once(monkeypatch):
    """The analyses run once for the two calls of a test (text, then --json)."""
    import mentorlib.report as R

    for name in ("analyse_year", "analyse_pilot"):
        real, memo = getattr(R, name), {}

        def cached(P, *args, _real=real, _memo=memo, **kw):
            key = (args, tuple(sorted(kw.items())))
            if key not in _memo:
                _memo[key] = _real(P, *args, **kw)
            return _memo[key]

        monkeypatch.setattr(R, name, cached)


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli-headline") / "processed" / "sample"
    assert main(["clean", str(SAMPLE), "--out", str(out), "--json"]) == 0
    return out


def test_report_prints_the_headline_then_the_paths(processed, tmp_path, capsys, once):
    capsys.readouterr()
    argv = ["report", str(processed), "--year", str(YEAR), "--format", "md", "--out"]
    assert main([*argv, str(tmp_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    (md,) = out["files"]
    doc = Path(md).read_text(encoding="utf-8")
    # the executive summary's opening, as the document prints it: certified share, estimated
    # share, what they mean for the target
    (lead,) = out["headline"]
    assert lead in doc and lead.count("%") >= 2 and "85%" in lead
    for m in out["missed"]:  # "label value (target)", each a KPI of the document
        assert m.split(" ")[0] in doc
    assert main([*argv, str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("年度总结") and f"{YEAR}学年（{YEAR}–{YEAR + 1}）" in lines[0]
    assert lines[1].strip() == lead
    missed = next(x for x in lines if x.strip().startswith("未达标的指标："))
    assert missed.strip() == "未达标的指标：" + ("；".join(out["missed"]) or "无")
    # then the paths, after the headline
    at = lines.index(next(x for x in lines if x.startswith("Drafted the annual summary")))
    assert at > lines.index(missed) and [x.strip() for x in lines[at + 1 :]] == [md]
    assert md.endswith(f"年度总结_{YEAR}学年.md")


@pytest.mark.slow
def test_review_prints_the_headline_and_the_grouping_decision(processed, tmp_path, capsys, once):
    capsys.readouterr()
    argv = ["review", str(processed), "--format", "md", "--draws", "5", "--lang", "en"]
    assert main([*argv, "--out", str(tmp_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rec = out["grouping_recommendation"]
    assert set(rec) == {"policy", "decision", "difference", "ci_low", "ci_high", "mc_error"}
    assert rec["decision"] in ("adopt", "trial", "keep")
    if rec["policy"] is not None:
        assert rec["ci_low"] <= rec["difference"] <= rec["ci_high"] and rec["mc_error"] >= 0
    (lead,) = out["headline"]  # the rates of every year, as the summary opens
    assert all(f"{y} " in lead for y in (2023, 2024, 2025)) and lead.count("%") >= 9
    assert main([*argv, "--out", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "three-year pilot review, school years 2023–2025" in lines[0]
    assert lines[1].strip() == out["headline"][0]
    assert any(x.strip().startswith("Indicators missed:") for x in lines)
    if rec["policy"] is not None:
        grouping = next(x for x in lines if x.strip().startswith("Grouping:"))
        assert f"{rec['decision']} ({rec['policy']}" in grouping
    assert lines[-1].strip().endswith("pilot_review_2023-2025.md")
