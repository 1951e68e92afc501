"""The validation table of the estimated true share, from the CSVs the two runners wrote.

``validate_true_share_pipeline.py`` (synth -> ``progress_report``, against the generator's
truth of the same students) and ``coverage_true_share.py`` (items simulated directly) append
one row per school (year) to ``benchmarks/results/``; this reads them all and prints, per
level, size, scenario and (pipeline) year of the study: school years, the mean true share,
bias with its standard error over schools, the SD of the error, the share of schools within
3 points, 95% interval coverage and mean width, and how often the headline would say the 85%
target is met (the interval above it) where the truth is above it and where it is not, as a
Markdown table.

    python benchmarks/summarise_true_share.py            # the pipeline runs
    python benchmarks/summarise_true_share.py --by-year  # split by the study's year
    python benchmarks/summarise_true_share.py --simulated  # coverage_true_share.py's runs
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results"
#: The programme's target (the rulebook's ``target_share``): "met" = the interval above it.
TARGET = 0.85


def pipeline_rows(results: Path = RESULTS) -> pd.DataFrame:
    """Every pipeline row (several files per configuration when runs were split in parts)."""
    frames = []
    for f in sorted(results.glob("true_share_pipeline_*.csv")):
        if f.stat().st_size == 0:  # a run that has just started
            continue
        d = pd.read_csv(f)
        if "truth_report" not in d:  # the first run (one year, all students = the report's)
            d["truth_report"] = d["truth"]
        d["year_index"] = d.get("year_index", 1)
        d["scenario"] = d.get("scenario", "default")
        frames.append(d)
    if not frames:
        raise SystemExit(f"no true_share_pipeline_*.csv in {results}")
    return pd.concat(frames, ignore_index=True)


def simulated_rows(results: Path = RESULTS) -> pd.DataFrame:
    """coverage_true_share.py's v2 runs (the report's interval), the truth = realised share."""
    frames = []
    for f in sorted(results.glob("true_share_coverage*_v2.csv")):
        d = pd.read_csv(f).rename(columns={"realised": "truth_report"})
        d["level"] = "middle" if "_middle_" in f.name else "primary"
        d["year_index"] = 1
        frames.append(d)
    return pd.concat(frames, ignore_index=True)


def summarise(d: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Bias, error SD, within-3-points, coverage and width per group of ``keys``."""
    d = d.dropna(subset=["estimate", "ci_low", "ci_high"])
    err = d["estimate"] - d["truth_report"]
    d = d.assign(
        err=err,
        within3=err.abs() <= 0.03,
        covered=(d["ci_low"] <= d["truth_report"]) & (d["truth_report"] <= d["ci_high"]),
        width=d["ci_high"] - d["ci_low"],
    )
    met = d["ci_low"] > TARGET
    d = d.assign(
        met_true=met.where(d["truth_report"] > TARGET),
        met_false=met.where(d["truth_report"] <= TARGET),
    )
    g = d.groupby(keys, observed=True)
    out = pd.DataFrame(
        {
            "school_years": g.size(),
            "truth": g["truth_report"].mean(),
            "bias": g["err"].mean(),
            "bias_se": g["err"].std() / np.sqrt(g.size()),
            "error_sd": g["err"].std(),
            "within_3_points": g["within3"].mean(),
            "coverage": g["covered"].mean(),
            "width": g["width"].mean(),
            # the headline's "met" (the interval above the target) where the truth is above
            # it, and where it is not (a false "met")
            "met_if_true": g["met_true"].mean(),
            "false_met": g["met_false"].mean(),
        }
    )
    return out.reset_index()


#: Interval rules evaluated offline from the recorded variance components (``--rules``).
RULES = (
    "report",
    "satterthwaite",
    "realised",
    "realised_satterthwaite",
    "corrected",
    "corrected_satterthwaite",
)
#: Plausible-value draws per bootstrap replicate (mentorlib.progress.true_share.BOOT_M).
BOOT_M = 2


def rule_interval(d: pd.DataFrame, rule: str) -> tuple[pd.Series, pd.Series]:
    """``(ci_low, ci_high)`` of each row under ``rule``, from ``vb`` (the bootstrap
    replicates' spread), ``vw`` (between-draw variance), ``vi`` (between-student variance of
    the posterior probabilities / n), ``n_boot`` and ``m`` (validate_true_share_pipeline.py):

    - report: t with n_boot - 1 df x sqrt(vb + (1 + 1/m) vw) (mentorlib's interval);
    - satterthwaite: the same variance, Welch-Satterthwaite df of its two parts
      (n_boot - 1 and m - 1 df);
    - realised: vb less vi (a new sample of students, which the bootstrap draws, would change
      the realised share itself; the report's target is these students' share), t n_boot - 1;
    - realised_satterthwaite: both;
    - corrected: vb less vi and less the Monte Carlo variance of a replicate's mean over its
      BOOT_M draws (~ vw / BOOT_M: the replicates' spread carries it, the between-draw term
      counts it again), t n_boot - 1; corrected_satterthwaite: with Satterthwaite's df.
    """
    from scipy import stats

    w = (1 + 1 / d["m"]) * d["vw"]
    vb = d["vb"]
    if rule.startswith("realised"):
        vb = (vb - d["vi"]).clip(lower=0)
    if rule.startswith("corrected"):
        vb = (vb - d["vi"] - d["vw"] / BOOT_M).clip(lower=0)
    df = d["n_boot"] - 1
    if rule.endswith("satterthwaite"):
        df = (vb + w) ** 2 / (vb**2 / (d["n_boot"] - 1) + w**2 / (d["m"] - 1))
    half = stats.t.ppf(0.975, df) * np.sqrt(vb + w)
    return (d["estimate"] - half).clip(lower=0), (d["estimate"] + half).clip(upper=1)


def rule_table(d: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Coverage and mean width of every rule in :data:`RULES` per group of ``keys`` (rows with
    recorded components only)."""
    d = d.dropna(subset=["vb", "vw", "vi", "n_boot", "m", "estimate"])
    out = []
    for rule in RULES:
        lo, hi = rule_interval(d, rule)
        cov = (lo <= d["truth_report"]) & (d["truth_report"] <= hi)
        t = d.assign(covered=cov, width=hi - lo).groupby(keys, observed=True)
        out.append(
            pd.DataFrame(
                {
                    "rule": rule,
                    "schools": t.size(),
                    "coverage": t["covered"].mean(),
                    "width": t["width"].mean(),
                }
            ).reset_index()
        )
    return pd.concat(out, ignore_index=True)


def markdown(t: pd.DataFrame) -> str:
    fmt = {
        "truth": "{:.3f}",
        "bias": "{:+.3f}",
        "bias_se": "{:.3f}",
        "error_sd": "{:.3f}",
        "within_3_points": "{:.0%}",
        "coverage": "{:.1%}",
        "width": "{:.3f}",
        "met_if_true": "{:.0%}",
        "false_met": "{:.0%}",
    }
    cols = list(t.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in t.iterrows():
        lines.append("| " + " | ".join(fmt.get(c, "{}").format(r[c]) for c in cols) + " |")
    return "\n".join(lines)


def main(argv=None) -> str:
    ap = argparse.ArgumentParser()
    ap.add_argument("--by-year", action="store_true", help="split by the study's year")
    ap.add_argument("--simulated", action="store_true", help="coverage_true_share.py's runs")
    ap.add_argument("--totals", action="store_true", help="one row per level")
    ap.add_argument("--rules", action="store_true", help="coverage of other interval rules")
    args = ap.parse_args(argv)
    if args.rules:
        text = markdown(rule_table(pipeline_rows(), ["level", "n", "scenario"]))
        print(text)
        return text
    if args.simulated:
        d, keys = simulated_rows(), ["level", "n", "scenario"]
    else:
        d, keys = pipeline_rows(), ["level", "n", "scenario"]
        if args.by_year:
            keys.append("year_index")
    if args.totals:
        keys = ["level"]
    text = markdown(summarise(d, keys))
    print(text)
    return text


if __name__ == "__main__":
    main(sys.argv[1:])
