"""``mentorlib demo``: every stage runs, in order, and writes the files it names."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mentorlib import demo
from mentorlib.cli import main
from mentorlib.data import load_processed

STAGE_NAMES = ["synth", "clean", "progress", "plan", "mentors", "groups", "reports", "district"]


def _stub(name: str, log: list[str]):
    def stage(p: demo.DemoPaths) -> dict:
        log.append(name)
        return {"output": str(p.root / name), "detail": f"{name} done"}

    return stage


def test_stages_are_the_pipeline_in_order():
    assert [name for name, _ in demo.STAGES] == STAGE_NAMES


def test_paths_of_the_demo_study(tmp_path):
    p = demo.DemoPaths(tmp_path, students=100, seed=1)
    assert p.raw == tmp_path / "data" / "raw" / "demo"
    assert p.processed == tmp_path / "data" / "processed" / "demo"
    assert p.reports == tmp_path / "reports" / "demo"
    assert p.district_raw == tmp_path / "data" / "raw" / "demo_district"
    assert p.district_out == tmp_path / "data" / "processed" / "demo_district"


def test_run_stages_times_each_stage_and_reports_it(tmp_path):
    log: list[str] = []
    seen: list[dict] = []
    stages = [(n, _stub(n, log)) for n in ("a", "b", "c")]
    steps = demo.run_stages(demo.DemoPaths(tmp_path, 50, 0), stages, on_step=seen.append)
    assert log == ["a", "b", "c"] and seen == steps
    assert [s["stage"] for s in steps] == ["a", "b", "c"]
    for s in steps:
        assert set(s) == {"stage", "output", "detail", "seconds"} and s["seconds"] >= 0


@pytest.mark.parametrize("json_out", [True, False])
def test_demo_command_prints_its_steps(tmp_path, monkeypatch, capsys, json_out):
    log: list[str] = []
    monkeypatch.setattr(demo, "STAGES", [(n, _stub(n, log)) for n in STAGE_NAMES])
    argv = ["demo", "--root", str(tmp_path), "--students", "60", *(["--json"] if json_out else [])]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert log == STAGE_NAMES
    if json_out:
        steps = json.loads(out)["steps"]
        assert [s["stage"] for s in steps] == STAGE_NAMES
        assert steps[0]["output"] == str(tmp_path / "synth")
    else:
        assert out.startswith("mentorlib demo:")
        assert all(f"[{n}] {tmp_path / n}" in out for n in STAGE_NAMES)


@pytest.mark.slow
def test_a_small_demo_runs_every_stage_and_writes_what_it_lists(tmp_path, capsys):
    """200 students: 90-160 s on the shared two-core machine (60 s of CPU), most of it the reports."""
    assert demo.run_demo(root=tmp_path, students=200, seed=5, json_out=True) == 0
    steps = {s["stage"]: s for s in json.loads(capsys.readouterr().out)["steps"]}
    assert list(steps) == STAGE_NAMES
    p = demo.DemoPaths(tmp_path, 200, 5)
    assert steps["synth"]["output"] == str(p.raw) and (p.raw / "study.toml").is_file()
    assert steps["clean"]["output"] == str(p.processed)
    P = load_processed(p.processed)
    assert len(P.years) == 3 and (P["students"]["year"] == P.years[-1]).sum() >= 150

    assert steps["progress"]["output"] == str(p.reports / "progress_<year>.json")
    for year in P.years:
        rep = json.loads((p.reports / f"progress_{year}.json").read_text(encoding="utf-8"))
        assert rep["summary"]["year"] == year
        for r in rep["verdict"]:
            assert 0 <= r["ci_low"] <= r["proportion"] <= r["ci_high"] <= 1
            assert r["target"] == P.rules.target_share
        assert f"{year}: " in steps["progress"]["detail"]

    plan = json.loads(Path(steps["plan"]["output"]).read_text(encoding="utf-8"))
    assert plan["settings"]["n_students"] == plan["study"]["n_students"]
    assert {v["rule"] for v in plan["verdicts"]} == {"rci_certified", "estimated_true_share"}

    mentors = json.loads(Path(steps["mentors"]["output"]).read_text(encoding="utf-8"))
    assert mentors["year"] == P.years[-1] and mentors["public"] is True
    assert all(0 <= r["icc"] <= 1 for r in mentors["tables"]["models"])

    table = pd.read_csv(steps["groups"]["output"], index_col=0, encoding="utf-8-sig")
    assert len(table) and len(table.columns) == len(demo.DEMO_POLICIES)

    reports = Path(steps["reports"]["output"])
    assert reports == p.reports
    for year in P.years:
        assert list(reports.glob(f"年度总结_{year}学年*.docx"))
        assert list(reports.glob(f"年度总结_{year}学年*.html"))
    assert list(reports.glob("三年试点评估报告_*.docx"))

    # the district stage: a small synthetic district on a Dask LocalCluster, as
    # `mentorlib district` runs it, with its summary; the stage's line prints the CSV's shares
    d = Path(steps["district"]["output"])
    assert d == p.district_out
    schools = pd.read_csv(d / "district_schools.csv", encoding="utf-8-sig")
    assert len(schools) == demo.DEMO_DISTRICT["schools"] and schools["status"].eq("ok").all()
    assert schools["true_share"].isna().all()  # certified verdicts only
    for r in schools.itertuples(index=False):
        shown = f"{r.certified_share:.1%}" if pd.notna(r.certified_share) else "—"
        assert f"{r.school_id} {shown}" in steps["district"]["detail"]
    assert list((d / "reports").glob("区域总结_*.docx"))
