"""The command line's ``synth``: write a synthetic study folder with its ground truth.

The generator lives in :mod:`mentorlib.synth`; this module is its parser and the few lines that
call it (split from :mod:`mentorlib.cli`, which is at its size limit). ``--param NAME=VALUE``
sets any :class:`~mentorlib.synth.SynthParams` field (tuples comma-separated, one value per
dimension) and ``--null`` starts from :func:`~mentorlib.synth.null_params` (every programme,
mentor, fit and dose effect zero); ``--param`` applies after ``--null``. Like the rest of the
command line, the command loads the generator only when it runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .cli_progress import Progress
from .errors import InputError
from .results import to_json

HELP = "write a synthetic study folder with its ground truth"
_PARAM_HELP = (
    "set any generator parameter (a SynthParams field), repeatable: "
    "--param nominated_share=0.2 --param maturation=0.3,0.3,0.3,0.3 (tuples comma-separated)"
)
_NULL_HELP = "the null: every programme, mentor, fit and dose effect zero (--param applies after)"


def add_synth_command(sub, common: argparse.ArgumentParser) -> None:
    """Register ``synth`` on the command line's subparsers."""
    p = sub.add_parser("synth", parents=[common], help=HELP, description=HELP)
    p.add_argument("out_dir", type=Path, help="study folder to create")
    p.add_argument("--level", choices=["primary", "middle"], default=None, help="default primary")
    p.add_argument(
        "--students",
        type=int,
        default=None,
        help="students per year (default 1200); with --district the district's total",
    )
    p.add_argument(
        "--district",
        type=int,
        metavar="N",
        help="a district of N schools (200-2,500 students each, primary and middle) with "
        "school effects in truth/schools.parquet",
    )
    p.add_argument("--years", type=int, default=3, help="school years (default 3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help=_PARAM_HELP)
    p.add_argument("--null", action="store_true", help=_NULL_HELP)
    p.add_argument(
        "--clean", action="store_true", help="no injected defects, one plain form per source"
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    p.add_argument("--json", action="store_true", help="machine-readable summary")
    p.set_defaults(func=cmd_synth)


def synth_params(args: argparse.Namespace):
    """The generator's parameters from ``--level/--students/--years/--seed``, ``--null`` and
    ``--param``, checked."""
    from .synth import SynthParams, null_params
    from .synth.params import parse_params

    fields = {
        "level": args.level or "primary",
        "n_students": args.students if args.students is not None else 1200,
        "n_years": args.years,
        "seed": args.seed,
        **parse_params(args.param),
    }
    try:
        return null_params(**fields) if args.null else SynthParams(**fields)
    except InputError as e:  # name the options the user typed
        raise InputError(
            f"{e} (--students {fields['n_students']}, --years {fields['n_years']})"
        ) from e
    except TypeError as e:  # a value of the wrong kind reached the dataclass
        raise InputError(f"--param: {e}") from None


def cmd_synth(args: argparse.Namespace) -> int:
    import pandas as pd

    from .outputs import check_output_dir
    from .synth import generate, write_study
    from .synth.export import plan_files

    if args.district is not None:
        return _synth_district(args)
    if args.overwrite and Path(args.out_dir).is_dir() and any(Path(args.out_dir).iterdir()):
        check_output_dir(args.out_dir, kind="synth", what="synth folder")  # before generating
    p = synth_params(args)
    study = generate(p)
    bar = Progress(len(plan_files(study, args.clean)), "writing files", not args.json)
    try:
        out = write_study(
            study, args.out_dir, clean=args.clean, overwrite=args.overwrite, progress=bar
        )
    finally:
        bar.close()
    man = pd.read_parquet(Path(out) / "truth" / "manifest.parquet")
    defects = man[man["kind"] != "skip_marker"]
    files = sorted(
        str(f.relative_to(out))
        for f in Path(out).rglob("*")
        if f.is_file() and "truth" not in f.parts and f.name != ".mentorlib-output"
    )
    s = study.tables["students"]
    summary = {
        "out_dir": str(out),
        "level": p.level,
        "years": p.years,
        "files": len(files),
        "students": int(s["student_id"].nunique()),
        "student_years": len(s),
        "staff": int(study.tables["staff"]["staff_id"].nunique()),
        "clean": args.clean,
        "null": args.null,
        "params": p.to_dict(),
        "defects": len(defects),
        "defect_kinds": defects["kind"].value_counts(),
    }
    lines = [
        f"Wrote a synthetic {'primary' if p.level == 'primary' else 'middle'} school to {out}",
        f"  {summary['students']:,} students ({summary['student_years']:,} student-years), "
        f"{summary['staff']} staff, {len(p.years)} school years {p.years[0]}-{p.years[-1]}",
        f"  {len(files)} raw files + study.toml; truth/ holds the parameters (params.json), "
        f"latent traits, the true effect of being mentored (att), mentor effects and a manifest "
        f"of {len(defects):,} injected defects ({defects['kind'].nunique()} kinds)"
        + (" (--clean: none injected)" if args.clean else ""),
    ]
    if args.null:
        lines.append("  --null: every programme, mentor, fit and dose effect is zero")
    print(to_json(summary) if args.json else "\n".join(lines))
    return 0


def _synth_district(args: argparse.Namespace) -> int:
    """``synth OUT --district N [--students TOTAL]``: a synthetic district."""
    import pandas as pd

    from .district import synth_district

    if args.level is not None or args.param or args.null:
        raise InputError("--district mixes both levels and takes no --level, --param or --null")
    bar = Progress(args.district, "schools", not args.json)
    try:
        out = synth_district(
            args.out_dir,
            args.district,
            students=args.students,
            years=args.years,
            seed=args.seed,
            clean=args.clean,
            overwrite=args.overwrite,
            progress=bar,
        )
    finally:
        bar.close()
    truth = pd.read_parquet(Path(out) / "truth" / "schools.parquet")
    one = truth.drop_duplicates("school_id")
    levels = one["level"].value_counts()
    summary = {
        "out_dir": str(out),
        "schools": len(one),
        "students": int(one["n_students"].sum()),
        "levels": levels,
        "truth": truth,
    }
    lines = [
        f"Wrote a synthetic district of {len(one)} schools to {out}",
        f"  {summary['students']:,} students a year (schools of {one['n_students'].min():,}-"
        f"{one['n_students'].max():,}); " + ", ".join(f"{k} {v}" for k, v in levels.items()),
        "  district.toml; one synthetic study per school; truth/schools.parquet holds each "
        "school's effect and true share",
    ]
    print(to_json(summary) if args.json else "\n".join(lines))
    return 0
