"""The command line's ``plan``: can a design show that the target is met (issue 14 item 7)?

The logic lives in :func:`mentorlib.progress.plan.plan_target`; this module is its parser and
the few lines that call it (split from :mod:`mentorlib.cli`, which is at its size limit). Like
the rest of the command line, the command loads the planner only when it runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .errors import InputError
from .results import to_json

HELP = "simulate whether a design can show the target met, and the items or students it needs"

_ITEMS_HELP = "items per dimension: one number or one per dimension, comma-separated"
_REL_HELP = "reliability (Cronbach's alpha) per dimension: one number or comma-separated"


def _numbers(text: str | None, kind):
    if text is None:
        return None
    try:
        values = [kind(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InputError(f"expected a number or comma-separated numbers, got {text!r}") from None
    return values[0] if len(values) == 1 else values


def add_plan_command(sub, common: argparse.ArgumentParser) -> None:
    """Register ``plan`` on the command line's subparsers."""
    p = sub.add_parser("plan", parents=[common], help=HELP, description=HELP)
    p.add_argument("--study", type=Path, help="a processed (or raw) study folder to read from")
    p.add_argument("--year", type=int, help="the study's year (default the last assessed)")
    p.add_argument("--level", choices=["primary", "middle"], default="primary")
    p.add_argument("--students", type=int, help="students (default the study's)")
    p.add_argument("--items", help=_ITEMS_HELP)
    p.add_argument("--categories", type=int, help="answer categories per item (default 5)")
    p.add_argument("--reliability", help=_REL_HELP)
    p.add_argument("--dimensions", type=int, help="dimensions (default the rulebook's)")
    p.add_argument("--true-share", type=float, help="assumed true share (default --design-share)")
    p.add_argument("--delta", type=float, help="true change that counts, latent SDs (true_delta)")
    p.add_argument("--k", type=int, help="dimensions to progress in (default k_dimensions)")
    p.add_argument("--change-sd", type=float, default=0.6, help="SD of the true change")
    p.add_argument("--model", choices=["grm", "normal"], default="grm")
    p.add_argument("--design-share", type=float, default=0.9, help="true share of the search")
    p.add_argument("--power", type=float, default=0.8, help="P(met) the design must reach")
    p.add_argument("--sims", type=int, default=200, help="simulated schools")
    p.add_argument(
        "--true-sims",
        type=int,
        default=20,
        help="of them, with the estimated true share (~5 s each)",
    )
    p.add_argument("--design-sims", type=int, default=100, help="schools per searched design")
    p.add_argument("--max-items", type=int, default=60)
    p.add_argument("--max-students", type=int, default=20000)
    p.add_argument("--no-search", action="store_true", help="skip the design search")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_plan)


def cmd_plan(args: argparse.Namespace) -> int:
    from .io.open import open_study
    from .progress.plan import plan_target

    study = open_study(args.study) if args.study is not None else None
    res = plan_target(
        study,
        n_students=args.students,
        n_items=_numbers(args.items, int),
        n_categories=args.categories,
        reliability=_numbers(args.reliability, float),
        n_dims=args.dimensions,
        true_share=args.true_share,
        delta=args.delta,
        k=args.k,
        level=args.level,
        year=args.year,
        design_share=args.design_share,
        power=args.power,
        change_sd=args.change_sd,
        model=args.model,
        n_sims=args.sims,
        n_true_sims=args.true_sims,
        n_design_sims=args.design_sims,
        max_items=args.max_items,
        max_students=args.max_students,
        search=not args.no_search,
        seed=args.seed,
    )
    print(to_json(res) if args.json else "\n".join(res.lines(args.lang)))
    return 0
