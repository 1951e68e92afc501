"""The command line's ``district``: clean and judge every school of a district on Dask.

The work lives in :mod:`mentorlib.district`; this module is its parser and the lines that call
it (split from :mod:`mentorlib.cli`, which is at its size limit). ``synth --district N`` (in
:mod:`mentorlib.cli_synth`) writes a synthetic district to try it on.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .cli_options import add_true_share_option
from .cli_progress import Progress
from .errors import InputError
from .results import records, to_json
from .rules import BOUNDS

HELP = "clean and judge every school of a district in parallel on Dask (one task per school)"
_SCHED_HELP = (
    "address of an existing Dask scheduler (tcp://host:8786; default: env "
    "MENTORLIB_DASK_SCHEDULER, else a local cluster)"
)


def add_district_command(sub, common: argparse.ArgumentParser) -> None:
    """Register ``district`` on the command line's subparsers."""
    p = sub.add_parser("district", parents=[common], help=HELP, description=HELP)
    p.add_argument("district_dir", type=Path, help="district folder (district.toml + schools)")
    p.add_argument("--out", help="output folder (default: data/processed/<district>)")
    p.add_argument("--scheduler", metavar="ADDRESS", help=_SCHED_HELP)
    p.add_argument(
        "--workers", type=int, help="local cluster: worker processes (default: one per core)"
    )
    p.add_argument(
        "--stages",
        default="clean,progress,mentors,compliance",
        help="per-school stages: clean plus any of progress,mentors,compliance (default all)",
    )
    p.add_argument("--year", type=int, help="school year (default: each school's last assessed)")
    p.add_argument(
        "--min-cell",
        type=int,
        help="suppress schools' cells of fewer students (a school's own larger min_cell wins)",
    )
    p.add_argument("--seed", type=int, default=0)
    add_true_share_option(p)
    p.add_argument(
        "--lang", choices=("zh", "en"), default="zh", help="district summary language (zh)"
    )
    p.add_argument("--json", action="store_true", help="machine-readable summary")
    p.set_defaults(func=cmd_district)


def cmd_district(args: argparse.Namespace) -> int:
    from .district import load_district, run_district
    from .district.report import write_district_report

    stages = tuple(s.strip() for s in args.stages.split(",") if s.strip())
    lo, hi = (int(b) for b in BOUNDS["min_cell"])
    if args.min_cell is not None and not lo <= args.min_cell <= hi:
        raise InputError(f"--min-cell {args.min_cell}: give a whole number from {lo} to {hi}")
    cfg = load_district(args.district_dir)
    bar = Progress(len(cfg.schools), "schools", not args.json)
    bar.bar.unit = "school"
    try:
        res = run_district(
            cfg,
            args.out,
            scheduler=args.scheduler,
            workers=args.workers,
            stages=stages,
            year=args.year,
            seed=args.seed,
            min_cell=args.min_cell,
            on_start=lambda line: print(line, file=sys.stderr),
            progress=bar,
            outcomes=True,
            true_share=not args.no_true_share,
        )
    finally:
        bar.close()
    reports = []
    if len(res.failed) < len(res.rows):  # the summary of the schools that finished
        reports = write_district_report(
            res.out_dir,
            lang=args.lang,
            year=args.year,
            min_cell=args.min_cell,
            seed=args.seed,
            outcomes=res.outcomes,
        )
    summary = {
        "district": res.name,
        "out_dir": str(res.out_dir),
        "seconds": res.seconds,
        "dashboard": res.dashboard,
        "schools_total": len(res.rows),
        "schools_failed": res.failed,
        "tables": res.tables,
        "notes": res.notes,
        "reports": [str(p) for p in reports],
        "schools": records(res.schools),
    }
    if args.json:
        print(to_json(summary))
    else:
        print("\n".join([*_lines(res), *(f"  report: {p}" for p in reports)]))
    return 0  # like a partial study: the schools that failed are listed with their reasons


def _lines(res) -> list[str]:
    import pandas as pd

    ok = len(res.rows) - len(res.failed)
    partly = sum(r.get("status") == "partial" for r in res.rows)
    some = f" ({partly} partly: a stage did not run)" if partly else ""
    lines = [
        f"District {res.name}: {ok} of {len(res.rows)} schools done{some} in {res.seconds} s "
        f"-> {res.out_dir}",
        f"  schools/<school_id>/: processed folders; tables/<table>/ (school_id=...): "
        f"{len(res.tables)} district tables as Parquet datasets; district_schools.csv",
    ]
    for r in res.schools.itertuples(index=False):
        if r.status not in ("ok", "partial"):
            continue
        if pd.notna(r.certified_share):
            cert = f"{r.certified_share:.1%} [{r.certified_ci_low:.1%}, {r.certified_ci_high:.1%}]"
        elif r.certified_suppressed:
            cert = "withheld (small numbers)"
        else:
            cert = "not computed"
        n = "withheld" if pd.isna(r.n) else r.n
        lines.append(f"  {r.school_id} {r.level:8s} n={n}: certified {cert}")
        if r.status == "partial":
            lines.append(f"    PARTLY DONE {r.school_id}: {r.reason}")
    lines += [f"  {f['status'].upper()} {f['school_id']}: {f['reason']}" for f in res.failed]
    lines += [f"  note: {n}" for n in res.notes]
    return lines
