"""The estimated true share through the whole progress report, against the generator's truth.

benchmarks/coverage_true_share.py checks the estimator on item tables simulated directly; this
runs what a user runs: a synthetic study (mentorlib.synth) -> ``progress_report`` for every
year -> ``ProgressReport.true_share``, and compares it with the generator's truth of the same
estimand (:func:`mentorlib.synth.truth.true_share_in_pre_sd`: latent change above the
rulebook's ``true_delta`` SDs of the year's pre-test population in at least ``k_dimensions``
dimensions; ``truth`` over all the year's students, ``truth_report`` over the students the
report counts: the middle school's mentees). One CSV row per school year, written as it goes.

    python benchmarks/validate_true_share_pipeline.py --level primary --students 1200 --schools 20
    python benchmarks/validate_true_share_pipeline.py --years 3 --students 800 --schools 10
    # a school whose true share is near 85%: stronger growth, scenario named in the CSV
    python benchmarks/validate_true_share_pipeline.py --scenario high \
        --param maturation=0.55,0.6,0.5,0.55
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import numpy as np  # noqa: E402

from mentorlib.data import from_synth  # noqa: E402
from mentorlib.progress import progress_report, true_share  # noqa: E402
from mentorlib.progress._common import year_roster  # noqa: E402
from mentorlib.synth import SynthParams, generate  # noqa: E402
from mentorlib.synth.truth import true_share_in_pre_sd  # noqa: E402


def parse_params(pairs: list[str]) -> dict:
    """``NAME=VALUE`` generator overrides; a comma makes a tuple (per-dimension values)."""
    out = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        parts = [float(v) for v in value.split(",")]
        out[name] = tuple(parts) if len(parts) > 1 else parts[0]
    return out


def _report_students(P, year) -> set:
    """The report's population (the middle school's mentees; every primary student) with item
    answers in the year: whom the estimate is about."""
    roster = year_roster(P["students"], year)
    if "mentee" in roster.columns:
        roster = roster.loc[roster["mentee"].fillna(False).to_numpy(dtype=bool)]
    a = P["assessment_items"]
    answered = set(a.loc[a["year"] == year, "student_id"].astype(str))
    return answered & set(roster["student_id"].astype(str))


class _Components:
    """Records the inputs of the first :func:`~mentorlib.progress.true_share.bootstrap_interval`
    call of each estimate (the school's share; the later calls are its dimensions and groups),
    so the interval's variance can be split and other interval rules evaluated offline
    (``summarise_true_share.py --rules``): ``vb`` the replicates' spread, ``vw`` the
    between-draw variance of the share, ``vi`` the between-student variance of the students'
    posterior probabilities over n (what a new sample of students would redraw), ``n_boot``
    and ``m``."""

    COLUMNS = ("vb", "vw", "vi", "n_boot", "m")

    def __init__(self) -> None:
        self.first: dict | None = None
        self._orig = true_share.bootstrap_interval

    def __call__(self, hit, boot, alpha=0.05):
        if self.first is None:
            good = boot[np.isfinite(boot).all(axis=1)]
            p_i = hit.mean(axis=0)
            self.first = {
                "vb": float(good.mean(axis=1).var(ddof=1)) if len(good) > 1 else float("nan"),
                "vw": float(hit.mean(axis=1).var(ddof=1)),
                "vi": float(p_i.var(ddof=1) / max(len(p_i), 1)),
                "n_boot": int(len(good)),
                "m": int(hit.shape[0]),
            }
        return self._orig(hit, boot, alpha)


def one_school(level: str, students: int, seed: int, years: int = 1, **params) -> list[dict]:
    t0 = time.perf_counter()
    st = generate(SynthParams(level=level, n_students=students, n_years=years, seed=seed, **params))
    P = from_synth(st)
    rules = P.rules
    lat = st.truth["latent"]
    truth = true_share_in_pre_sd(lat, rules.true_delta, rules.k_dimensions)
    rows = []
    for i, year in enumerate(P.years):
        t1 = time.perf_counter()
        rec = _Components()
        true_share.bootstrap_interval = rec
        try:
            rep = progress_report(P, year, n_boot=0, seed=seed)
        finally:
            true_share.bootstrap_interval = rec._orig
        ts = rep.true_share or {}
        keep = _report_students(P, year)
        lat_y = lat[(lat["year"] == year) & lat["student_id"].isin(keep)]
        # in SDs of the year's whole pre-test population, as ``truth`` (the middle school's
        # item parameters rest on every student assessed; its share is the mentees')
        sd = lat[lat["year"] == year].groupby("dimension", observed=True)["theta_pre"].std()
        above = lat_y["delta"] > rules.true_delta * lat_y["dimension"].map(sd).to_numpy()
        n_above = above.groupby(lat_y["student_id"]).sum()
        rows.append(
            {
                "level": level,
                "n": students,
                "seed": seed,
                "year_index": i + 1,
                "truth": round(float(truth.loc[year]), 4),
                "truth_report": round(float((n_above >= rules.k_dimensions).mean()), 4),
                "n_report": len(keep),
                "certified": round(float(rep.verdict.iloc[0]["proportion"]), 4),
                **{
                    k: round(float(ts.get(k, float("nan"))), 4)
                    for k in ("estimate", "ci_low", "ci_high")
                },
                "method": ts.get("method", ""),
                **(rec.first or dict.fromkeys(_Components.COLUMNS, float("nan"))),
                "seconds": round(time.perf_counter() - (t0 if i == 0 else t1), 1),
            }
        )
    return rows


def main(argv=None) -> Path:
    ap = argparse.ArgumentParser()
    ap.add_argument("--level", default="primary")
    ap.add_argument("--students", type=int, default=1200)
    ap.add_argument("--schools", type=int, default=20)
    ap.add_argument("--years", type=int, default=1, help="years per study (each one a row)")
    ap.add_argument("--start", type=int, default=0, help="first school; > 0 appends")
    ap.add_argument("--param", action="append", default=[], help="generator NAME=VALUE")
    ap.add_argument("--scenario", default="", help="label of --param overrides (in the name)")
    ap.add_argument("--part", default="", help="suffix of the CSV (parallel runs, one file each)")
    args = ap.parse_args(argv)
    params = parse_params(args.param)
    tag = f"_y{args.years}" if args.years > 1 else ""
    tag += f"_{args.scenario}" if args.scenario else ""
    tag += f"_{args.part}" if args.part else ""
    out = HERE / "results" / f"true_share_pipeline_{args.level}_n{args.students}{tag}.csv"
    out.parent.mkdir(exist_ok=True)
    with out.open("a" if args.start else "w", newline="", encoding="utf-8") as fh:
        w = None
        for s in range(args.start, args.start + args.schools):
            for row in one_school(args.level, args.students, 2000 + s, args.years, **params):
                row["scenario"] = args.scenario or "default"
                if w is None:
                    w = csv.DictWriter(fh, fieldnames=list(row))
                    if not args.start:
                        w.writeheader()
                w.writerow(row)
                fh.flush()
    return out


if __name__ == "__main__":
    print(main())
