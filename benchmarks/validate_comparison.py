"""The mentee comparison against the generator's truth, naive and adjusted side by side.

Each school: a synthetic middle school (mentorlib.synth, two years so the difference-in-
differences has a year before) -> :func:`mentorlib.progress.comparison.compare_mentees` on the
last year -> one CSV row with every estimator's headline estimate, interval, whether it excludes
zero and, when the generator's truth table ``truth["att"]`` is there, the true ATT and whether
the interval covers it (the rate estimators against ``att_rate`` of the "any" row, the SD ones
against the mean of the dimensions' ``att_sd``). ``--null`` sets every programme, mentor, fit
and dose effect to zero (``mentorlib.synth.null_params`` when present): the headline's interval
should exclude zero in 3-7% of schools, the naive one does far more often.

``--twin`` (a known ATT on the headline's own scale): a one-year school is generated twice
with the same seed, once as is and once with every effect zero; the students, the nomination
(made on the September pre-test, before any effect) and every random draw are the same, so the
second world is the mentees' counterfactual, and ``truth_rate_obs`` = the mean over the mentees
of (improved as is - improved without the programme), by the workbench's own improvement rule
in each world. The AIPW headline (the effect on that rule's rate) is compared with it.

    python benchmarks/validate_comparison.py --null --students 1200 --schools 100
    python benchmarks/validate_comparison.py --twin --students 1200 --schools 100
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import pandas as pd  # noqa: E402

import mentorlib.synth as synth  # noqa: E402
from mentorlib.data import from_synth  # noqa: E402
from mentorlib.progress.comparison import compare_mentees  # noqa: E402
from mentorlib.progress.improved import improved_students  # noqa: E402
from mentorlib.synth import SynthParams, generate  # noqa: E402

#: (estimator, dimension of its headline row)
HEADS = (
    ("naive_rate", "any"),
    ("naive_change", "mean"),
    ("ancova_latent", "mean"),
    ("ipw", "any"),
    ("aipw", "any"),
    ("did", "mean"),
)


def params(students: int, seed: int, null: bool, years: int = 2) -> SynthParams:
    base = {"level": "middle", "n_students": students, "n_years": years, "seed": seed}
    return synth.null_params(**base) if null else SynthParams(**base)


def twin_truth(P, students: int, seed: int, year: int) -> float:
    """The mentees' effect on the improvement rule's rate, from the same school without effects
    (NaN when the two worlds' mentees differ)."""
    P0 = from_synth(generate(params(students, seed, True, years=1)))
    r1, r0 = (year_roster_of(x, year) for x in (P, P0))
    if r1 != r0:
        return math.nan
    a = improved_students(P, year)["improved"]
    b = improved_students(P0, year)["improved"]
    both = a.index[a.notna()].intersection(b.index[b.notna()]).intersection(pd.Index(r1))
    return float((a.loc[both] - b.loc[both]).mean())


def year_roster_of(P, year: int) -> list[str]:
    """The year's mentees (sorted IDs)."""
    s = P["students"]
    s = s.loc[s["year"] == year] if "year" in s else s
    return sorted(s.loc[s["mentee"].fillna(False).astype(bool), "student_id"].astype(str))


def _truth(st, year: int) -> tuple[float, float]:
    att = st.truth.get("att") if hasattr(st.truth, "get") else None
    if att is None or not len(att):
        return math.nan, math.nan
    a = att.loc[att["year"] == year]
    rate = a.loc[a["dimension"] == "any", "att_rate"]
    sd = a.loc[a["dimension"] != "any", "att_sd"]
    return (float(rate.iloc[0]) if len(rate) else math.nan), float(sd.mean())


def one_school(students: int, seed: int, null: bool, twin: bool = False) -> dict:
    t0 = time.perf_counter()
    st = generate(params(students, seed, null, years=1 if twin else 2))
    P = from_synth(st)
    year = P.years[-1]
    c = compare_mentees(P, year, seed=seed, latent=True)
    secs = time.perf_counter() - t0
    t_rate, t_sd = _truth(st, year)
    if twin:
        t_rate = twin_truth(P, students, seed, year)
    row: dict = {"n": students, "seed": seed, "null": int(null), "year": year}
    row |= {"truth_rate": round(t_rate, 4), "truth_sd": round(t_sd, 4)}
    row |= {"n_treated": c.n_treated, "n_control": c.n_control}
    est = c.estimators
    for name, dim in HEADS:
        hit = est.loc[(est["estimator"] == name) & (est["dimension"] == dim)] if len(est) else est
        e, lo, hi = (
            (float(hit.iloc[0][k]) for k in ("estimate", "ci_low", "ci_high"))
            if len(hit)
            else (math.nan,) * 3
        )
        truth = t_rate if dim == "any" else t_sd
        row |= {
            f"{name}_est": round(e, 4),
            f"{name}_lo": round(lo, 4),
            f"{name}_hi": round(hi, 4),
            f"{name}_excl0": int(lo > 0 or hi < 0) if not math.isnan(e) else "",
            f"{name}_covers": int(lo <= truth <= hi) if not math.isnan(truth + e) else "",
        }
    row["notes"] = " | ".join(c.notes)
    row["seconds"] = round(secs, 1)
    return row


def main(argv=None) -> Path:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=1200)
    ap.add_argument("--schools", type=int, default=20)
    ap.add_argument("--start", type=int, default=0, help="first school; > 0 appends")
    ap.add_argument("--null", action="store_true", help="every effect zero")
    ap.add_argument("--twin", action="store_true", help="known ATT from a world without effects")
    args = ap.parse_args(argv)
    tag = "null" if args.null else "twin" if args.twin else "att"
    out = HERE / "results" / f"comparison_{tag}_middle_n{args.students}.csv"
    out.parent.mkdir(exist_ok=True)
    with out.open("a" if args.start else "w", newline="", encoding="utf-8") as fh:
        w = None
        for s in range(args.start, args.start + args.schools):
            row = one_school(args.students, 3000 + s, args.null, args.twin)
            if w is None:
                w = csv.DictWriter(fh, fieldnames=list(row))
                if not args.start:
                    w.writeheader()
            w.writerow(row)
            fh.flush()
    return out


if __name__ == "__main__":
    print(main())
