"""``mentorlib demo``: generate the demo study and run every stage that exists, end to end.

The demo study is a primary school of about 1,200 students over three school years, written
to ``data/raw/demo``; each stage writes beside it (``data/processed/demo``, ``reports/demo``).
The last stage runs a small synthetic district (:data:`DEMO_DISTRICT`: a few schools, one
year) on a Dask LocalCluster, as ``mentorlib district`` does: ``data/raw/demo_district`` ->
``data/processed/demo_district`` with its summary in ``reports/`` there.
Each stage is a function below, ``DemoPaths -> {"output": ..., "detail": ...}``; a stage that
lands adds itself to :data:`STAGES`. The settings of every analysis are the demo study's rules
(:attr:`mentorlib.data.Processed.rules`).

This module imports every stage at its top: the command line imports it only for ``demo``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import grouping as G
from . import report as R
from .clean import clean_study
from .data import Processed, load_processed
from .district import run_district, synth_district
from .district.report import write_district_report
from .effectiveness import mentor_report
from .outputs import prepare_output_dir, write_csv, write_text
from .progress import progress_report
from .progress.plan import plan_target
from .results import to_json
from .rules import DEFAULT_SEED
from .synth import synth
from .synth.truth import true_share_in_pre_sd

__all__ = ["DEMO_NAME", "STAGES", "DemoPaths", "run_demo", "run_stages"]

DEMO_NAME = "demo"
#: The demo's district: schools, students in all, school years, Dask workers (certified
#: verdicts only: the estimated true share is the demo school's progress stage).
DEMO_DISTRICT: dict[str, int] = {"schools": 3, "students": 900, "years": 1, "workers": 2}

#: The grouping policies the demo compares (as many draws as the Monte Carlo precision
#: needs, the review's comparison: the same policies, seed and numbers).
DEMO_POLICIES = ("recorded", "current", "random", "two_way", "optimal", "regroup")


@dataclass
class DemoPaths:
    """Where the demo writes: ``root/data/raw/demo``, ``root/data/processed/demo``,
    ``root/reports/demo``; with the generator's size and seed (``seed`` makes the synthetic
    school; every analysis uses :data:`mentorlib.rules.DEFAULT_SEED`, as the CLI does)."""

    root: Path
    students: int
    seed: int

    @property
    def raw(self) -> Path:
        return self.root / "data" / "raw" / DEMO_NAME

    @property
    def processed(self) -> Path:
        return self.root / "data" / "processed" / DEMO_NAME

    @property
    def reports(self) -> Path:
        return self.root / "reports" / DEMO_NAME

    @property
    def district_raw(self) -> Path:
        return self.root / "data" / "raw" / f"{DEMO_NAME}_district"

    @property
    def district_out(self) -> Path:
        return self.root / "data" / "processed" / f"{DEMO_NAME}_district"


def stage_synth(p: DemoPaths) -> dict:
    out = synth(p.raw, level="primary", students=p.students, years=3, seed=p.seed, overwrite=True)
    return {
        "output": str(out),
        "detail": f"primary school, {p.students:,} students a year, 3 school years",
    }


def stage_clean(p: DemoPaths) -> dict:
    res = clean_study(p.raw, p.processed)
    s = res.summary[["rows_in", "kept", "merged", "quarantined"]].sum()
    return {
        "output": str(p.processed),
        "detail": f"{int(s['rows_in']):,} rows: {int(s['kept']):,} kept, "
        f"{int(s['merged']):,} merged, {int(s['quarantined']):,} quarantined",
    }


def _processed(p: DemoPaths) -> Processed:
    return load_processed(p.processed)


def _reports_folder(p: DemoPaths) -> Path:
    prepare_output_dir(p.reports, kind="reports", what="demo reports folder")
    return p.reports


def _save_json(path: Path, data: object) -> None:
    """A result's JSON (:func:`mentorlib.results.to_json`), in the demo's reports folder."""
    prepare_output_dir(path.parent, kind="reports", what="demo reports folder")
    write_text(path, to_json(data) + "\n")


def stage_progress(p: DemoPaths) -> dict:
    P = _processed(p)
    truth = _true_shares(p, P.rules)
    lines = []
    for year in P.years:
        rep = progress_report(P, year)
        _save_json(p.reports / f"progress_{year}.json", rep)
        v = rep.verdict.iloc[0]
        line = (
            f"{year}: certified {v['proportion']:.1%} [{v['ci_low']:.1%}, {v['ci_high']:.1%}] "
            f"-> {v['verdict']}"
        )
        ts = rep.true_share
        if ts is not None:
            line += (
                f"; estimated truly progressed {ts['estimate']:.1%} "
                f"[{ts['ci_low']:.1%}, {ts['ci_high']:.1%}]"
            )
            if year in truth.index:
                line += f" (generator's truth {truth.loc[year]:.1%})"
        lines.append(line)
    return {"output": str(p.reports / "progress_<year>.json"), "detail": "\n".join(lines)}


def _true_shares(p: DemoPaths, rules) -> pd.Series:
    """The generator's truth of the estimated true share, per year (the demo knows it)."""
    latent = p.raw / "truth" / "latent.parquet"
    if not latent.is_file():
        return pd.Series(dtype=float)
    lat = pd.read_parquet(latent)
    return true_share_in_pre_sd(lat, rules.true_delta, rules.k_dimensions)


#: Simulation sizes of the demo's planner run (the command's defaults take longer).
DEMO_PLAN_SIMS: dict[str, Any] = {"n_sims": 100, "n_true_sims": 10, "n_design_sims": 60}


def stage_plan(p: DemoPaths) -> dict:
    """How many items per dimension would the demo school need to show the target met?"""
    P = _processed(p)
    res = plan_target(P, seed=DEFAULT_SEED, **DEMO_PLAN_SIMS)
    year = res.study["year"] if res.study else P.years[-1]
    out = p.reports / f"plan_{year}.json"
    _save_json(out, res)
    v, e, need = res.verdict("rci_certified"), res.verdict("estimated_true_share"), res.needed
    items = (
        "none within the search"
        if need["items"] is None
        else (f"{need['items']} items per dimension (reliability {need['reliability']:.2f})")
    )
    return {
        "output": str(out),
        "detail": f"{year}: at a true share of {res.settings['true_share']:.0%}, P(met) "
        f"{v['p_met']:.0%} by the certified share (it needs {items}), {e['p_met']:.0%} by the "
        f"estimated true share (bias {100 * e['minus_truth']:+.1f} points)",
    }


def stage_mentors(p: DemoPaths) -> dict:
    P = _processed(p)
    year = P.years[-1]
    rep = mentor_report(P, year, seed=DEFAULT_SEED)
    _save_json(p.reports / f"mentors_{year}.json", rep)
    tables = rep.tables(public=True)
    m = tables["models"]
    comp = m[m["outcome"] == "composite"].iloc[0] if "outcome" in m else m.iloc[0]
    pl = tables["placebo"].iloc[0]
    return {
        "output": str(p.reports / f"mentors_{year}.json"),
        "detail": f"{year}: composite ICC {comp['icc']:.3f}; placebo (height) ICC {pl['icc']:.3f}",
    }


def stage_groups(p: DemoPaths) -> dict:
    P = _processed(p)
    year = P.years[-1]
    model = G.OutcomeModel.from_fitted(P, year)
    cmp = G.compare_policies(
        P,
        year,
        policies=DEMO_POLICIES,
        model=model,
        seed=DEFAULT_SEED,
        progress=False,
    )
    out = _reports_folder(p) / f"grouping_policies_{year}.csv"
    write_csv(cmp.table(lang="zh"), out, index=True)
    o = cmp.outcomes
    o = o[o["measure"] == "improved_any"]
    detail = ", ".join(f"{r.policy} {r.mean:.1%}" for r in o.itertuples(index=False))
    return {"output": str(out), "detail": f"{year}, predicted share improving: {detail}"}


def stage_reports(p: DemoPaths) -> dict:
    P = _processed(p)
    written = []
    for year in P.years:
        a = R.analyse_year(P, year, seed=DEFAULT_SEED)
        written += R.annual_summary(P, year, analyses=a).write(p.reports)
    review = R.pilot_review(P, analyses=R.analyse_pilot(P, seed=DEFAULT_SEED))
    written += review.write(p.reports)
    docs = [w for w in written if w.suffix in (".docx", ".html")]
    return {
        "output": str(p.reports),
        "detail": f"{len(P.years)} annual summaries and the pilot review: "
        + ", ".join(sorted({w.stem for w in docs})),
    }


def stage_district(p: DemoPaths) -> dict:
    """A small synthetic district on a Dask LocalCluster, with its district summary."""
    d = DEMO_DISTRICT
    src = synth_district(
        p.district_raw,
        d["schools"],
        students=d["students"],
        years=d["years"],
        seed=p.seed,
        overwrite=True,
    )
    res = run_district(
        src,
        p.district_out,
        workers=d["workers"],
        seed=DEFAULT_SEED,
        outcomes=True,
        true_share=False,
    )
    ok = res.schools.loc[res.schools["status"] == "ok"]
    written = write_district_report(res.out_dir, seed=DEFAULT_SEED, outcomes=res.outcomes)
    shares = ", ".join(
        f"{sid} {share:.1%}" if pd.notna(share) else f"{sid} —"
        for sid, share in zip(
            ok["school_id"].astype(str), ok["certified_share"].astype(float), strict=True
        )
    )
    return {
        "output": str(res.out_dir),
        "detail": f"{len(ok)} of {len(res.schools)} schools on {d['workers']} Dask workers; "
        f"certified shares: {shares}; summary: " + ", ".join(sorted(w.name for w in written)),
    }


Stage = Callable[[DemoPaths], dict]

#: The demo's stages in order: (name, function).
STAGES: list[tuple[str, Stage]] = [
    ("synth", stage_synth),
    ("clean", stage_clean),
    ("progress", stage_progress),
    ("plan", stage_plan),
    ("mentors", stage_mentors),
    ("groups", stage_groups),
    ("reports", stage_reports),
    ("district", stage_district),
]


def run_stages(
    p: DemoPaths,
    stages: list[tuple[str, Stage]] | None = None,
    *,
    on_step: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Run the stages in order; one step per stage: ``stage, output, detail, seconds``."""
    steps = []
    for name, fn in STAGES if stages is None else stages:
        t0 = time.perf_counter()
        step = {"stage": name, **fn(p), "seconds": round(time.perf_counter() - t0, 1)}
        steps.append(step)
        if on_step is not None:
            on_step(step)
    return steps


def _print_step(step: dict) -> None:
    print(f"  [{step['stage']}] {step['output']}  ({step['seconds']} s)", flush=True)
    if step.get("detail"):
        for line in str(step["detail"]).splitlines():
            print(f"      {line}", flush=True)


def run_demo(*, root: Path, students: int = 1200, seed: int = 2023, json_out: bool = False) -> int:
    """Generate the demo study under ``root`` and run every stage; print what each wrote.

    ``json_out``: print ``{"steps": [...]}`` (see :func:`run_stages`) instead of text.
    Returns the exit code (0).
    """
    p = DemoPaths(Path(root), students, seed)
    if not json_out:
        print("mentorlib demo: the synthetic demo school, end to end", flush=True)
    steps = run_stages(p, on_step=None if json_out else _print_step)
    if json_out:
        print(to_json({"steps": steps}))
    return 0
