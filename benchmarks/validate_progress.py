"""Validation of the 85% verdict against the generator's truth (issue 4).

Two questions, answered over many synthetic schools drawn from the same parameters:

1. Coverage: does the Wilson 95% interval of a school's measured progress rate cover the
   *population* value of that rate (the rate measured in one very large school with the same
   parameters) about 95% of the time? Reported for every row of the sensitivity table
   (definition x k x missing-data rule), with the design effect (the variance of the school
   estimates over the mean binomial variance).
2. Agreement: how well does the measured improvement status (RCI > 1.96 with the pre-wave
   alpha) recover the true status ``truth["latent"]["improved"]`` (latent change above the
   generator's threshold)? Sensitivity and specificity per dimension and for "improved in at
   least one dimension", the true and measured rates side by side.

    python benchmarks/validate_progress.py                    # 200 schools, 200,000-student population
    python benchmarks/validate_progress.py --schools 20 --population 50000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mentorlib import progress
from mentorlib.data import from_synth
from mentorlib.synth import SynthParams
from mentorlib.synth import model as synth_model

from _measure import PeakMemory, save

KEYS = ["definition", "k", "rule"]


def generate_with_items(params: SynthParams, items=None):
    """Generate a school; with ``items`` = (a, b), measured with that instrument.

    The generator draws the graded-response item parameters from each seed, so every
    synthetic school has its own questionnaire (reliabilities 0.77-0.85). To ask whether the
    interval covers "the" population value, the schools must share the population's
    instrument; this imposes it (the rest of the generator is untouched).
    """
    g = synth_model._Generator(params)
    if items is not None:
        g.a, g.b = items[0].copy(), items[1].copy()
    study = g.run()
    study.school_name = synth_model.school_name(params)
    return study, (g.a.copy(), g.b.copy())


def one_school(params: SynthParams, items=None, n_boot: int = 1000):
    """Sensitivity table (+ bootstrap interval of the headline rows), confusion counts
    (measured vs true) and instrument of one school."""
    study, used = generate_with_items(params, items)
    year = params.start_year
    rep = progress.progress_report(from_synth(study), year, n_boot=n_boot, seed=params.seed)
    lat = study.truth["latent"].assign(
        student_id=lambda d: d["student_id"].astype(str),
        dimension=lambda d: d["dimension"].astype(str),
    )
    ch = rep.changes.loc[rep.changes["evaluable"]]
    m = ch.merge(
        lat[["student_id", "dimension", "improved"]].rename(columns={"improved": "true"}),
        on=["student_id", "dimension"],
        validate="one_to_one",
    )
    m = m.assign(measured=m["improved"].astype(bool), true=m["true"].astype(bool))
    per_dim = (
        m.groupby("dimension")
        .apply(_confusion, include_groups=False)
        .reset_index()
        .rename(columns={"dimension": "level"})
    )
    # "at least one dimension", among students evaluable in every dimension
    n_dims = rep.changes["dimension"].nunique()
    full = m.loc[m.groupby("student_id")["dimension"].transform("size") == n_dims]
    anyd = full.groupby("student_id")[["measured", "true"]].any()
    per_any = _confusion(anyd).to_frame().T.assign(level="any")
    conf = pd.concat([per_dim, per_any], ignore_index=True)
    # the true rate for the whole roster (not only the evaluable)
    true_any = lat.groupby("student_id")["improved"].any().mean()
    sens = rep.sensitivity.loc[:, [*KEYS, "successes", "n", "proportion", "ci_low", "ci_high"]]
    if n_boot:
        # the bootstrap decides the verdict: its interval is the verdict table's ci_low/ci_high
        boot = rep.verdict.loc[:, ["definition", "k", "rule", "ci_low", "ci_high"]].rename(
            columns={"ci_low": "boot_ci_low", "ci_high": "boot_ci_high"}
        )
        sens = sens.merge(boot, on=KEYS, how="left")
    return sens.assign(true_rate=true_any), conf, used


def _confusion(d: pd.DataFrame) -> pd.Series:
    t, m = d["true"].to_numpy(bool), d["measured"].to_numpy(bool)
    return pd.Series(
        {
            "tp": int((t & m).sum()),
            "fn": int((t & ~m).sum()),
            "fp": int((~t & m).sum()),
            "tn": int((~t & ~m).sum()),
        }
    )


def agreement(conf: pd.DataFrame) -> pd.DataFrame:
    c = conf.groupby("level")[["tp", "fn", "fp", "tn"]].sum()
    out = pd.DataFrame(
        {
            "sensitivity": c["tp"] / (c["tp"] + c["fn"]),
            "specificity": c["tn"] / (c["tn"] + c["fp"]),
            "true_rate": (c["tp"] + c["fn"]) / c.sum(axis=1),
            "measured_rate": (c["tp"] + c["fp"]) / c.sum(axis=1),
            "ppv": c["tp"] / (c["tp"] + c["fp"]),
            "n": c.sum(axis=1),
        }
    )
    return out.round(4)


def coverage(sens: pd.DataFrame, population: pd.Series) -> pd.DataFrame:
    """Coverage of the population value per definition x k x rule, and the design effect."""
    s = sens.join(population, on=KEYS)
    boot = s.dropna(subset=["boot_ci_low"])
    boot = (
        boot.assign(
            b=(boot["boot_ci_low"] <= boot["population"])
            & (boot["population"] <= boot["boot_ci_high"]),
            bw=boot["boot_ci_high"] - boot["boot_ci_low"],
        )
        .groupby(KEYS, sort=False)
        .agg(boot_coverage=("b", "mean"), boot_mean_width=("bw", "mean"))
    )
    s = s.assign(
        covered=(s["ci_low"] <= s["population"]) & (s["population"] <= s["ci_high"]),
        below=s["ci_high"] < s["population"],
        width=s["ci_high"] - s["ci_low"],
        binom_var=s["population"] * (1 - s["population"]) / s["n"],
    )
    cov = (
        s.groupby(KEYS, sort=False)
        .agg(
            population=("population", "first"),
            mean_estimate=("proportion", "mean"),
            coverage=("covered", "mean"),
            miss_high=("below", "mean"),
            sd_estimate=("proportion", "std"),
            mean_width=("width", "mean"),
            binom_var=("binom_var", "mean"),
        )
        .reset_index()
    )
    cov["design_effect"] = cov["sd_estimate"] ** 2 / cov["binom_var"]
    cov = cov.drop(columns="binom_var").join(boot, on=KEYS)
    return cov.round(4)


def _headline(cov: pd.DataFrame) -> pd.Series:
    m = (cov["definition"] == "rci_data") & (cov["k"] == 1) & (cov["rule"] == "evaluable_only")
    return cov.loc[m].iloc[0]


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--schools", type=int, default=200)
    ap.add_argument("--students", type=int, default=1200)
    ap.add_argument("--population", type=int, default=200_000)
    ap.add_argument("--level", default="primary")
    ap.add_argument(
        "--no-redrawn",
        dest="redrawn",
        action="store_false",
        help="skip the second pass in which every school draws its own instrument",
    )
    args = ap.parse_args(argv)
    base = SynthParams(level=args.level, n_students=args.students, n_years=1)
    res: dict = {
        "level": args.level,
        "schools": args.schools,
        "students_per_school": args.students,
        "population_students": args.population,
        "headline": "rci_data, k = 1, evaluable only, Wilson 95%",
    }
    t0 = time.perf_counter()
    with PeakMemory() as mem:
        pop_sens, pop_conf, items = one_school(
            SynthParams(level=args.level, n_students=args.population, n_years=1, seed=10_001),
            n_boot=0,
        )
        t_pop = time.perf_counter() - t0
        fixed, confs, redrawn = [], [], []
        for seed in range(1, args.schools + 1):
            p = SynthParams(**{**base.to_dict(), "seed": seed})
            s_, c_, _ = one_school(p, items)
            fixed.append(s_.assign(seed=seed))
            confs.append(c_.assign(seed=seed))
            if args.redrawn:
                redrawn.append(one_school(p)[0].assign(seed=seed))
            if seed % 25 == 0:
                print(f"  {seed} schools, {time.perf_counter() - t0:.0f} s", flush=True)
    fixed = pd.concat(fixed, ignore_index=True)
    conf = pd.concat(confs, ignore_index=True)
    cov = coverage(fixed, pop_sens.set_index(KEYS)["proportion"].rename("population"))
    head = _headline(cov)
    agree, agree_pop = agreement(conf), agreement(pop_conf)
    n_sch = args.schools
    mc_se = float(np.sqrt(0.95 * 0.05 / n_sch))
    res.update(
        {
            "population_seconds": round(t_pop, 1),
            "headline_population_rate": float(head["population"]),
            "headline_coverage": float(head["coverage"]),
            "headline_boot_coverage": float(head["boot_coverage"]),
            "headline_design_effect": float(head["design_effect"]),
            "coverage_monte_carlo_se": round(mc_se, 4),
            "true_rate_any_population": float(pop_sens["true_rate"].iloc[0]),
            "true_rate_any_schools_mean": float(fixed.groupby("seed")["true_rate"].first().mean()),
            "coverage": cov.to_dict("records"),
            "agreement_schools": agree.reset_index().to_dict("records"),
            "agreement_population": agree_pop.reset_index().to_dict("records"),
        }
    )
    pd.set_option("display.width", 160)
    print(f"\npopulation: one school of {args.population:,} students ({t_pop:.0f} s)")
    print(
        f"coverage of the population rate by the 95% Wilson interval, {n_sch} schools with the "
        f"population's instrument (Monte Carlo SE {mc_se:.3f}):"
    )
    print(cov.to_string(index=False))
    if redrawn:
        redrawn = pd.concat(redrawn, ignore_index=True)
        # with an instrument per school there is no single population school: the marginal
        # population value is estimated by the mean over the schools
        grand = redrawn.groupby(KEYS)["proportion"].mean().rename("population")
        cov_r = coverage(redrawn, grand)
        head_r = _headline(cov_r)
        res.update(
            {
                "headline_coverage_redrawn": float(head_r["coverage"]),
                "headline_boot_coverage_redrawn": float(head_r["boot_coverage"]),
                "headline_design_effect_redrawn": float(head_r["design_effect"]),
                "coverage_redrawn": cov_r.to_dict("records"),
            }
        )
        print("\nsame, each school with its own instrument (population = mean over schools):")
        print(cov_r.to_string(index=False))
    print("\nmeasured (RCI > 1.96, pre-wave alpha) vs true improvement, pooled over schools:")
    print(agree.to_string())
    print("\nsame in the population school:")
    print(agree_pop.to_string())
    res["total_seconds"] = round(time.perf_counter() - t0, 1)
    res["peak_memory_gb"] = round(mem.peak_gb, 2)
    print(
        f"\ntrue share improved in >= 1 dimension: {res['true_rate_any_population']:.3f} "
        f"(population); measured headline rate {res['headline_population_rate']:.3f}; "
        f"headline coverage Wilson {res['headline_coverage']:.3f}, bootstrap "
        f"{res['headline_boot_coverage']:.3f} (design effect {res['headline_design_effect']:.2f})"
        + (
            f"; with instruments redrawn Wilson {res['headline_coverage_redrawn']:.3f}, bootstrap "
            f"{res['headline_boot_coverage_redrawn']:.3f} (design effect "
            f"{res['headline_design_effect_redrawn']:.2f})"
            if redrawn is not None and len(redrawn)
            else ""
        )
        + f"; {res['total_seconds']} s, peak {res['peak_memory_gb']} GB"
    )
    save("validate_progress", res)
    return res


if __name__ == "__main__":
    main()
