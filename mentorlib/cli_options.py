"""The analysis commands' method options (split from :mod:`mentorlib.cli`, at its size limit).

``progress``: how the verdict's bootstrap resamples (mentor groups or students) and which
interval it reads (percentile or BCa), and whether the estimated true share is computed.
``mentors``: the intervals of the mentor effects (integrated or conditional) and Firth's
penalised fit for the dose-response model.
"""

from __future__ import annotations

import argparse


def add_progress_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--boot-cluster",
        choices=["mentor", "student"],
        default="mentor",
        help="the verdict's bootstrap resamples mentor groups (default) or students",
    )
    p.add_argument(
        "--boot-interval",
        choices=["percentile", "bca"],
        default="percentile",
        help="the verdict's bootstrap interval: percentile (default) or BCa",
    )
    add_true_share_option(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap and the estimate")


def add_true_share_option(p: argparse.ArgumentParser) -> None:
    """``--no-true-share`` (``progress`` and ``district``): the certified share only."""
    p.add_argument(
        "--no-true-share",
        action="store_true",
        help="skip the estimated share that truly progressed (the slow part; certified only)",
    )


def progress_options(args: argparse.Namespace) -> dict:
    """``progress_report`` keyword arguments from the options above."""
    return {
        "boot_cluster": args.boot_cluster,
        "boot_interval": args.boot_interval,
        "true_share": not args.no_true_share,
        "seed": args.seed,
    }


def add_mentor_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--intervals",
        choices=["integrated", "conditional"],
        default="integrated",
        help="mentor effects' intervals: integrated over the mentor variance's uncertainty "
        "(default) or conditional on its estimate",
    )
    p.add_argument(
        "--firth",
        action="store_true",
        help="dose-response by Firth's penalised logistic fit: a separating covariate is kept "
        "with a finite estimate instead of dropped with a note",
    )


def mentor_options(args: argparse.Namespace) -> dict:
    """``mentor_report`` keyword arguments from the options above."""
    return {"intervals": args.intervals, "firth": args.firth}
