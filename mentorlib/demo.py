"""``mentorlib demo``: generate the demo study and run every stage that exists, end to end.

The demo study is a primary school of about 1,200 students over three school years, written
to ``data/raw/demo``; each stage writes beside it (``data/processed/demo``, ``reports/demo``).
Each stage is a function below; a stage that lands adds itself to :data:`STAGES`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

DEMO_NAME = "demo"


@dataclass
class DemoPaths:
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


def stage_synth(p: DemoPaths) -> dict:
    from .synth import synth

    out = synth(p.raw, level="primary", students=p.students, years=3, seed=p.seed, overwrite=True)
    return {
        "output": str(out),
        "detail": f"primary school, {p.students:,} students a year, 3 school years",
    }


def stage_clean(p: DemoPaths) -> dict:
    from .clean import clean_study

    res = clean_study(p.raw, p.processed)
    s = res.summary[["rows_in", "kept", "merged", "quarantined"]].sum()
    return {
        "output": str(p.processed),
        "detail": f"{int(s['rows_in']):,} rows: {int(s['kept']):,} kept, {int(s['merged']):,} merged, "
        f"{int(s['quarantined']):,} quarantined",
    }


def _processed(p: DemoPaths):
    from .data import load_processed

    return load_processed(p.processed)


def _save_json(path: Path, data: dict) -> None:
    from .outputs import prepare_output_dir, write_text

    prepare_output_dir(path.parent, kind="reports", what="demo reports folder")
    write_text(path, json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def stage_progress(p: DemoPaths) -> dict:
    from .progress import progress_report

    P = _processed(p)
    lines = []
    for year in P.years:
        rep = progress_report(P, year)
        _save_json(p.reports / f"progress_{year}.json", rep.to_json_dict())
        v = rep.verdict.iloc[0]
        lines.append(
            f"{year}: {v['proportion']:.1%} [{v['ci_low']:.1%}, {v['ci_high']:.1%}] -> {v['verdict']}"
        )
    return {"output": str(p.reports / "progress_<year>.json"), "detail": "; ".join(lines)}


def stage_mentors(p: DemoPaths) -> dict:
    from .effectiveness import mentor_report

    P = _processed(p)
    year = P.years[-1]
    rep = mentor_report(P, year, seed=p.seed)
    _save_json(p.reports / f"mentors_{year}.json", rep.to_json_dict(public=True))
    m = rep.tables(public=True)["models"]
    comp = m[m["outcome"] == "composite"].iloc[0] if "outcome" in m else m.iloc[0]
    pl = rep.tables(public=True)["placebo"].iloc[0]
    return {
        "output": str(p.reports / f"mentors_{year}.json"),
        "detail": f"{year}: composite ICC {comp['icc']:.3f}; placebo (height) ICC {pl['icc']:.3f}",
    }


def stage_groups(p: DemoPaths) -> dict:
    from . import grouping as G

    P = _processed(p)
    year = P.years[-1]
    model = G.OutcomeModel.from_fitted(P, year)
    cmp = G.compare_policies(
        P,
        year,
        policies=("recorded", "current", "random", "two_way", "optimal", "regroup"),
        model=model,
        draws=5,
        seed=p.seed,
        progress=False,
    )
    from .outputs import prepare_output_dir, write_csv

    out = p.reports / f"grouping_policies_{year}.csv"
    prepare_output_dir(out.parent, kind="reports", what="demo reports folder")
    write_csv(cmp.table(lang="zh"), out, index=True)
    o = cmp.outcomes
    o = o[o["measure"] == "improved_any"]
    detail = ", ".join(f"{r.policy} {r.mean:.1%}" for r in o.itertuples(index=False))
    return {"output": str(out), "detail": f"{year}, predicted share improving: {detail}"}


def stage_reports(p: DemoPaths) -> dict:
    from . import report as R

    P = _processed(p)
    written = []
    for year in P.years:
        a = R.analyse_year(P, year, seed=p.seed)
        written += R.annual_summary(P, year, analyses=a).write(p.reports)
    review = R.pilot_review(P, analyses=R.analyse_pilot(P, seed=p.seed))
    written += review.write(p.reports)
    docs = [w for w in written if w.suffix in (".docx", ".html")]
    return {
        "output": str(p.reports),
        "detail": f"{len(P.years)} annual summaries and the pilot review: "
        + ", ".join(sorted({w.stem for w in docs})),
    }


STAGES = [
    ("synth", stage_synth),
    ("clean", stage_clean),
    ("progress", stage_progress),
    ("mentors", stage_mentors),
    ("groups", stage_groups),
    ("reports", stage_reports),
]


def run_demo(*, root: Path, students: int = 1200, seed: int = 2023, json_out: bool = False) -> int:
    p = DemoPaths(Path(root), students, seed)
    steps = []
    if not json_out:
        print("mentorlib demo: the synthetic demo school, end to end")
    for name, fn in STAGES:
        t0 = time.perf_counter()
        step = {"stage": name, **fn(p), "seconds": round(time.perf_counter() - t0, 1)}
        steps.append(step)
        if not json_out:
            print(f"  [{name}] {step['output']}  ({step['seconds']} s)")
            if step.get("detail"):
                print(f"      {step['detail']}")
    if json_out:
        print(json.dumps({"steps": steps}, ensure_ascii=False, indent=2))
    return 0
