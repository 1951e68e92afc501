"""Every command of the command line, run on the committed sample study, judged by its --json.

The sample is cleaned once per module (the ``clean`` command itself, into a temporary folder)
and every analysis command reads that folder. The expected numbers come from elsewhere: the
cleaned tables, the one improvement rule (:func:`mentorlib.progress.study_changes`), the
Wilson interval's closed form and the study's rulebook.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from pathlib import Path
from statistics import NormalDist
from types import SimpleNamespace

import pandas as pd
import pytest

from mentorlib import cli
from mentorlib.cli import main
from mentorlib.data import Processed, load_processed
from mentorlib.progress import study_changes

from conftest import SAMPLE

COMMANDS = (
    "synth",
    "clean",
    "progress",
    "mentors",
    "groups",
    "report",
    "review",
    "demo",
    "district",
    "init",
    "check",
    "templates",
    "export",
    "codebook",
    "plan",
)


def run_json(argv) -> dict:
    """Run one command in this process; its exit code must be 0 and its stdout JSON."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    assert rc == 0, err.getvalue()
    assert "Traceback" not in err.getvalue()
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory) -> tuple[Path, dict]:
    """``mentorlib clean data/sample --out <tmp> --json``: the folder and the command's JSON."""
    out = tmp_path_factory.mktemp("cli") / "processed" / "sample"
    return out, run_json(["clean", SAMPLE, "--out", out, "--json"])


@pytest.fixture(scope="module")
def study(cleaned) -> Processed:
    return load_processed(cleaned[0])


@pytest.fixture(scope="module")
def last_year(study) -> int:
    return study.years[-1]


def test_every_command_has_a_test_here():
    sub = next(a for a in cli.build_parser()._actions if a.dest == "command")
    assert tuple(sub.choices) == COMMANDS  # type: ignore[union-attr]


def test_district_without_a_district_folder_is_one_line(tmp_path, capsys):
    """``district`` on a folder with no district.toml or schools (the runs: test_district.py)."""
    (tmp_path / "empty").mkdir()
    rc = cli.main(["district", str(tmp_path / "empty"), "--out", str(tmp_path / "o")])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert rc == 2 and len(err) == 1 and "Traceback" not in err[0]
    assert not (tmp_path / "o").exists()


# ----------------------------------------------------------------------------- synth and clean


def test_init_json_lists_every_file_it_recognised(tmp_path):
    """``init`` on a copy of the sample without its study.toml (more in test_io_init.py)."""
    import shutil

    shutil.copytree(SAMPLE, tmp_path / "s", ignore=shutil.ignore_patterns("study.toml", "truth"))
    out = run_json(["init", tmp_path / "s", "--json"])
    assert out["path"] == str(tmp_path / "s" / "study.toml") and not out["suggested"]
    assert len(out["sources"]) == len(cli_sources()) and all(s["sure"] for s in out["sources"])


def cli_sources() -> list:
    import tomllib

    return tomllib.loads((SAMPLE / "study.toml").read_text(encoding="utf-8"))["sources"]


def test_check_json_reads_every_source_of_the_sample():
    """``check`` on the sample (more in test_io_check.py)."""
    out = run_json(["check", SAMPLE, "--json"])
    assert out["ok"] and len(out["sources"]) == len(cli_sources())


def test_synth_json_describes_the_folder_it_wrote(tmp_path):
    out = run_json(
        ["synth", tmp_path / "s", "--students", "40", "--years", "1", "--seed", "3", "--json"]
    )
    assert out["out_dir"] == str(tmp_path / "s") and out["level"] == "primary"
    assert len(out["years"]) == 1 and out["clean"] is False
    truth = tmp_path / "s" / "truth"
    students = pd.read_parquet(truth / "canonical" / "students.parquet")
    assert out["student_years"] == len(students)
    assert out["students"] == students["student_id"].nunique()
    raw = [
        f
        for f in (tmp_path / "s").rglob("*")
        if f.is_file() and "truth" not in f.relative_to(tmp_path / "s").parts
    ]
    assert out["files"] == len([f for f in raw if f.name != ".mentorlib-output"])
    manifest = pd.read_parquet(truth / "manifest.parquet")
    defects = manifest[manifest["kind"] != "skip_marker"]
    assert out["defects"] == len(defects) > 0
    assert out["defect_kinds"] == defects["kind"].value_counts().to_dict()
    assert sum(out["defect_kinds"].values()) == out["defects"]


def test_clean_json_adds_up_and_matches_the_tables_written(cleaned):
    folder, out = cleaned
    assert out["study"] == "sample" and out["out_dir"] == str(folder)
    assert out["years"] == [2023, 2024, 2025]
    assert out["rows_in"] == out["kept"] + out["merged"] + out["quarantined"]
    assert out["quarantined"] == sum(out["quarantine_reasons"].values()) > 0
    assert len(out["per_source"]) == out["sheets"] >= out["files"]
    assert sum(r["rows_in"] for r in out["per_source"]) == out["rows_in"]
    for table, n in out["tables"].items():
        assert len(pd.read_parquet(folder / f"{table}.parquet")) == n, table
    assert out["cell_repairs"] >= sum(out["repair_rules"].values()) > 0


# ----------------------------------------------------------------------------- progress


@pytest.fixture(scope="module")
def progress_json(cleaned) -> dict:
    return run_json(["progress", cleaned[0], "--json"])


def _wilson(k: int, n: int, confidence: float) -> tuple[float, float]:
    """Wilson's score interval, closed form (Wilson 1927; Agresti & Coull 1998, eq. 2)."""
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_progress_json_verdict_is_the_improvement_rule_counted(progress_json, study, last_year):
    s = progress_json["summary"]
    rules = study.rules
    assert s["year"] == last_year and s["target"] == rules.target_share
    assert s["k"] == rules.k_dimensions and s["method"] == rules.ci_method
    # who is evaluable and who progressed, from the one improvement rule
    ch = study_changes(study, last_year)
    per = ch.groupby("student_id").agg(
        evaluable=("evaluable", "sum"), improved=("improved", lambda x: x.fillna(False).sum())
    )
    n_evaluable = int((per["evaluable"] >= s["k"]).sum())
    n_progressing = int((per["improved"] >= s["k"]).sum())
    roster = study["students"]
    assert s["n_students"] == len(per) == int((roster["year"] == last_year).sum())
    assert (s["n_evaluable"], s["n_progressing"]) == (n_evaluable, n_progressing)

    rows = {r["rule"]: r for r in progress_json["verdict"]}
    head = rows["evaluable_only"]
    assert head["n"] == n_evaluable and head["successes"] == n_progressing
    assert rows["missing_not_progressing"]["n"] == s["n_students"]
    for r in rows.values():
        assert r["target"] == rules.target_share and r["year"] == last_year
        assert r["proportion"] == pytest.approx(r["successes"] / r["n"], rel=1e-12)
        assert 0 <= r["ci_low"] <= r["proportion"] <= r["ci_high"] <= 1
        lo, hi = _wilson(r["successes"], r["n"], s["confidence"])
        # issue 14: a bootstrap decides (ci_low/ci_high); Wilson's interval is kept beside
        assert r["interval_method"].startswith("bootstrap") == ("binomial_ci_low" in r)
        wl = r.get("binomial_ci_low", r["ci_low"]), r.get("binomial_ci_high", r["ci_high"])
        assert wl == pytest.approx((lo, hi), rel=1e-9)
        met = r["lower_bound"] >= r["target"]
        assert r["verdict"] == ("met" if met else "not met")
    assert s["proportion"] == head["proportion"] and s["verdict"] == head["verdict"]


def test_progress_json_sensitivity_and_breakdowns_are_shares(progress_json):
    assert set(progress_json) >= {"summary", "verdict", "sensitivity", "breakdowns", "trend"}
    assert len(progress_json["sensitivity"]) == sum(
        progress_json["summary"]["sensitivity_verdicts"].values()
    )
    for table in ("sensitivity", "breakdowns"):
        for r in progress_json[table]:
            if r["proportion"] is not None:
                assert 0 <= r["ci_low"] <= r["proportion"] <= r["ci_high"] <= 1, r


# ----------------------------------------------------------------------------- mentors


def test_mentors_json_one_model_per_outcome(cleaned, study, last_year):
    out = run_json(["mentors", cleaned[0], "--json", "--seed", "1"])
    assert out["year"] == last_year and out["level"] == "primary" and out["seed"] == 1
    assert out["public"] is True and out["internal_tables"] == []
    models = out["tables"]["models"]
    outcomes = [r["outcome"] for r in models]
    assert sorted(outcomes) == sorted([*study.rules.dimensions, "composite"])
    n_year = int((study["students"]["year"] == last_year).sum())
    for r in models:
        assert 0 <= r["icc"] <= 1, r
        assert r["var_mentor"] >= 0 and r["var_resid"] > 0
        assert r["icc"] == pytest.approx(r["var_mentor"] / (r["var_mentor"] + r["var_resid"]))
        assert 0 < r["n_students"] <= n_year and r["n_mentors"] > 1
        assert r["mean_mentees"] == pytest.approx(r["n_students"] / r["n_mentors"])
        assert 0 <= r["lrt_p"] <= 1
    assert "effects" not in out["tables"]  # names mentors: only with --internal


# ----------------------------------------------------------------------------- groups


def test_groups_json_optimal_policy_meets_every_hard_rule(cleaned, study, last_year):
    out = run_json(["groups", cleaned[0], "--json"])
    assert out["policy"] == "optimal" and out["year"] == last_year
    assert out["students"] == int((study["students"]["year"] == last_year).sum())
    checks = {c["rule"]: c for c in out["checks"]}
    hard = [c for c in out["checks"] if c["hard"]]
    assert hard and all(c["pass"] is True for c in hard), hard
    rules = study.rules
    assert rules.group_min <= checks["group_min"]["value"] <= checks["group_max"]["value"]
    assert checks["group_max"]["value"] <= rules.group_max
    assert checks["students_assigned"]["value"] == 1


def test_groups_compare_json_one_prediction_per_policy(cleaned):
    out = run_json(["groups", cleaned[0], "--compare", "random,optimal", "--draws", "2", "--json"])
    assert out["notes"] == []
    assert {c["policy"] for c in out["checks"]} == {"random", "optimal"}
    improved = [r for r in out["outcomes"] if r["measure"] == "improved_any"]
    assert {r["policy"] for r in improved} == {"random", "optimal"}
    for r in improved:
        assert 0 <= r["mean"] <= 1, r


# ----------------------------------------------------------------------------- report and review


def _documents_exist(out: dict, folder: Path, suffixes: set[str]) -> list[Path]:
    files = [Path(f) for f in out["files"]]
    assert files and {f.suffix for f in files} == suffixes
    for f in files:
        assert f.parent == folder and f.is_file() and f.stat().st_size > 0, f
    return files


@pytest.mark.slow
def test_report_writes_the_documents_it_lists(cleaned, tmp_path, last_year):
    out = run_json(["report", cleaned[0], "--format", "md,html", "--out", tmp_path / "r", "--json"])
    assert out["report"] == f"annual summary {last_year}" and out["internal"] is False
    for f in _documents_exist(out, tmp_path / "r", {".md", ".html"}):
        assert f"{last_year}" in f.name
        assert str(last_year) in f.read_text(encoding="utf-8")


@pytest.mark.slow
def test_review_writes_the_documents_it_lists(cleaned, study, tmp_path):
    out = run_json(
        ["review", cleaned[0], "--format", "md", "--draws", "2", "--out", tmp_path, "--json"]
    )
    years = f"{study.years[0]}-{study.years[-1]}"
    assert out["report"] == f"pilot review {years}"
    (md,) = _documents_exist(out, tmp_path, {".md"})
    assert years in md.name and md.read_text(encoding="utf-8").strip()


# ----------------------------------------------------------------------------- the study's rules


@pytest.fixture
def fake_study(monkeypatch):
    """A study with no tables and its own rules: all the command line reads of it."""
    import mentorlib.io.open

    P = Processed(name="fake", level="primary", years=(2024,), tables={}).with_rules(
        min_cell=7, ci_method="clopper-pearson", k_dimensions=2
    )
    monkeypatch.setattr(mentorlib.io.open, "open_study", lambda path: P)
    return P


def test_progress_settings_come_from_the_study_rules(fake_study, monkeypatch, capsys):
    import mentorlib.progress

    calls = []

    def fake_report(P, year, **kw):
        calls.append((P.rules, kw))
        return SimpleNamespace(to_json_dict=lambda **_: {"kw": kw})

    monkeypatch.setattr(mentorlib.progress, "progress_report", fake_report)
    assert main(["progress", "x", "--json"]) == 0
    rules, kw = calls[-1]
    # nothing typed on the command line: the library resolves k, method, min_cell from the rules
    defaults = {
        "boot_cluster": "mentor",
        "boot_interval": "percentile",
        "true_share": True,
        "seed": 0,
    }
    assert kw == {"k": None, "method": None, **defaults}
    assert json.loads(capsys.readouterr().out) == {"kw": kw}
    assert (rules.min_cell, rules.ci_method, rules.k_dimensions) == (7, "clopper-pearson", 2)
    assert main(["progress", "x", "--json", "--min-cell", "11", "--method", "wilson"]) == 0
    rules, kw = calls[-1]
    assert kw == {"k": None, "method": "wilson", **defaults} and rules.min_cell == 11
    assert fake_study.rules.min_cell == 7  # the run's --min-cell does not change the study
    # the verdict's bootstrap and the estimate's options reach the library as typed
    argv = ["progress", "x", "--json", "--boot-cluster", "student", "--boot-interval", "bca"]
    assert main([*argv, "--no-true-share", "--seed", "9"]) == 0
    _, kw = calls[-1]
    assert kw == {
        "k": None,
        "method": None,
        "boot_cluster": "student",
        "boot_interval": "bca",
        "true_share": False,
        "seed": 9,
    }


def test_mentor_options_reach_the_library(fake_study, monkeypatch, capsys):
    import mentorlib.effectiveness

    calls = []

    def fake_report(P, year, **kw):
        calls.append(kw)
        return SimpleNamespace(to_json_dict=lambda **_: {"kw": kw})

    monkeypatch.setattr(mentorlib.effectiveness, "mentor_report", fake_report)
    assert main(["mentors", "x", "--json"]) == 0
    assert calls[-1]["intervals"] == "integrated" and calls[-1]["firth"] is False
    assert main(["mentors", "x", "--json", "--firth", "--intervals", "conditional"]) == 0
    assert calls[-1]["intervals"] == "conditional" and calls[-1]["firth"] is True


def test_report_min_cell_comes_from_the_study_rules(fake_study, monkeypatch, tmp_path, capsys):
    import mentorlib.report as R

    seen = []

    class Doc:
        def write(self, out, formats):
            path = Path(out) / "doc.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("ok", encoding="utf-8")
            return [path]

    def analyse(P, year, *, min_cell, seed):
        seen.append(("analyse", min_cell))

    def summary(P, year, *, lang, public, min_cell, seed, analyses):
        seen.append((lang, min_cell))
        return Doc()

    monkeypatch.setattr(R, "analyse_year", analyse)
    monkeypatch.setattr(R, "annual_summary", summary)
    assert main(["report", "x", "--out", str(tmp_path / "r"), "--lang", "zh,en", "--json"]) == 0
    assert seen == [("analyse", 7), ("zh", 7), ("en", 7)]
    assert json.loads(capsys.readouterr().out)["files"] == [str(tmp_path / "r" / "doc.md")] * 2
    seen.clear()
    assert main(["report", "x", "--out", str(tmp_path / "r2"), "--min-cell", "3"]) == 0
    assert seen == [("analyse", 3), ("zh", 3)]


def test_progress_text_lines_in_both_languages():
    rep = SimpleNamespace(
        headline=lambda lang: f"headline {lang}",
        true_share_lines=lambda lang, head=False: (
            [f"headline {lang}"] * head + [f"true share {lang}"]
        ),
        comparison_lines=lambda lang: [],  # a primary school: no mentee comparison
        sensitivity=pd.DataFrame(
            {
                "definition": ["rci_data", "mid"],
                "k": [1, 1],
                "rule": ["evaluable_only", "evaluable_only"],
                "proportion": [0.5, float("nan")],
                "ci_low": [0.4, float("nan")],
                "ci_high": [0.6, float("nan")],
                "verdict": ["not met", None],
                "interval_method": ["bootstrap_percentile_mentor"] * 2,
            }
        ),
    )
    en = cli._progress_lines(rep, cli.Lang("en"))
    assert en[0] == "headline en" and en[1] == "true share en"  # the estimated true share
    # the heading names the method that decided every row (the headline's bootstrap)
    assert en[3].startswith("Sensitivity") and "percentile bootstrap resampling mentor" in en[3]
    assert "50.0% [40.0%, 60.0%]  not met" in en[4] and "(small cells)" in en[5]
    zh = cli._progress_lines(rep, cli.Lang("zh"))
    assert zh[3].startswith("敏感性分析") and "按导师组重抽样" in zh[3] and "不显示" in zh[5]


# ----------------------------------------------------------------------------- templates, export


def test_templates_and_export_commands(cleaned, tmp_path, capsys):
    assert main(["templates", str(tmp_path / "t"), "--level", "middle", "--year", "2025"]) == 0
    assert "study.toml" in {p.name for p in (tmp_path / "t").iterdir()}
    assert main(["templates", str(tmp_path / "t"), "--level", "middle"]) == 2  # never overwrites
    assert main(["export", str(cleaned[0]), "--format", "csv", "--out", str(tmp_path / "e")]) == 0
    assert (tmp_path / "e" / "students.csv").is_file()
    assert "files written to" in capsys.readouterr().out


# ----------------------------------------------------------------------------- codebook


def test_codebook_suggest_writes_a_draft_once(tmp_path):
    rel = "surveys/发展评估_2024学年_前测.csv"
    (tmp_path / "surveys").mkdir()
    (tmp_path / rel).write_bytes((SAMPLE / rel).read_bytes())
    (tmp_path / "study.toml").write_text(
        '[study]\nname = "s"\nlevel = "primary"\nyears = [2024]\n'
        f'[[sources]]\nkind = "assessment"\npath = "{rel}"\nyear = 2024\nwave = "pre"\n',
        encoding="utf-8",
    )
    out = run_json(["codebook", "suggest", tmp_path, "--source", rel, "--json"])
    assert out["codebook"] == str(tmp_path / "发展评估_2024学年_前测.codebook.toml")
    assert 'kind = "assessment"' in Path(out["codebook"]).read_text(encoding="utf-8")
    assert main(["codebook", "suggest", str(tmp_path), "--source", rel]) == 2  # not overwritten


def test_plan_json_reads_the_study(cleaned, study):
    """``plan --study``: the design read from the study, the certified share the rule's count."""
    out = run_json(
        ["plan", "--study", cleaned[0], "--sims", "5", "--true-sims", "2", "--no-search", "--json"]
    )
    year = study.assessed_years[-1]
    per = study_changes(study, year).groupby("student_id")["improved"].sum()
    k = study.rules.k_dimensions
    assert out["study"]["year"] == year and out["study"]["n_students"] == len(per)
    assert out["study"]["certified_share"] == pytest.approx((per >= k).mean())
    assert out["settings"]["n_students"] == len(per) and out["settings"]["k"] == k
    assert out["settings"]["target"] == study.rules.target_share
    assert all(0 < r < 1 for r in out["settings"]["reliability"])
    assert {v["rule"] for v in out["verdicts"]} == {"rci_certified", "estimated_true_share"}


def test_mentor_report_passes_firth_to_the_dose_response(monkeypatch):
    import mentorlib.effectiveness.report as R

    seen: dict = {}

    def fake_dose(processed, year, **kw):
        seen.update(kw)
        return SimpleNamespace(notes=["n"], table=1, curve=2, observed=3, sparse=4)

    monkeypatch.setattr(R, "dose_response", fake_dose)
    notes: list = []
    got = R._report_dose({"activities": None}, 2024, "gee", 0, 1, None, notes, True)
    assert seen["firth"] is True
    assert got == {"dose": 1, "dose_curve": 2, "dose_observed": 3, "dose_sparse": 4}
    assert notes == ["dose-response: n"]
