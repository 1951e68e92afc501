"""The command line's tools around a study folder: ``init``, ``check``, ``codebook suggest``,
``templates`` and ``export`` (their logic lives in :mod:`mentorlib.io`; these are the parsers and
the few lines that call it). Split from :mod:`mentorlib.cli` to keep each module short; like the
rest of the command line, a command loads its module only when it runs (start-up time).
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from .cli_plan import add_plan_command
from .results import to_json

EXIT_USER_ERROR = 2


def _print_json(data) -> None:
    print(to_json(data))


def _emit(args: argparse.Namespace, summary: dict, lines: list[str]) -> None:
    if getattr(args, "json", False):
        _print_json(summary)
    else:
        print("\n".join(lines))


def add_tool_commands(sub, common: argparse.ArgumentParser, helps: dict[str, str]) -> None:
    """Register init, check, templates, export, codebook and plan on the command line's
    subparsers."""
    _add_init_check(sub, common, helps)
    _add_files(sub, common, helps)
    _add_codebook(sub, common, helps)
    add_plan_command(sub, common)


def cmd_init(args: argparse.Namespace) -> int:
    from .io.init import init_study

    res = init_study(args.folder)
    _emit(args, res.to_dict(), res.lines())
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from .io.check import check_study

    res = check_study(args.study_dir)
    _emit(args, res.to_dict(), res.lines())
    return 0 if res.ok else EXIT_USER_ERROR


def _add_init_check(sub, common: argparse.ArgumentParser, helps: dict[str, str]) -> None:
    for name, arg, func in (("init", "folder", cmd_init), ("check", "study_dir", cmd_check)):
        p = sub.add_parser(name, parents=[common], help=helps[name])
        p.add_argument(arg, type=Path, help="the raw study folder")
        p.add_argument("--json", action="store_true", help="machine-readable summary")
        p.set_defaults(func=func)


def _add_files(sub, common: argparse.ArgumentParser, helps: dict[str, str]) -> None:
    p = sub.add_parser("templates", parents=[common], help=helps["templates"])
    p.add_argument("out", metavar="OUT", help="a new or empty folder")
    p.add_argument("--level", choices=("primary", "middle"), required=True)
    p.add_argument("--year", type=int, default=2024, help="school year of study.toml")
    p.set_defaults(
        func=lambda a: _done(_io("templates").write_templates(a.out, a.level, year=a.year))
    )
    p = sub.add_parser("export", parents=[common], help=helps["export"])
    p.add_argument("processed", metavar="PROCESSED", help="processed study folder")
    p.add_argument("--format", choices=("xlsx", "sav", "csv"), default="xlsx")
    p.add_argument("--out", help="a new or empty folder (default: PROCESSED_export)")
    p.set_defaults(func=lambda a: _done(_io("export").export(a.processed, a.format, a.out)))


def _io(name: str):
    return importlib.import_module(f"mentorlib.io.{name}")


def _done(paths: list) -> int:
    print(f"{len(paths)} files written to {Path(paths[-1]).parent if paths else '-'}")
    return 0


def _add_codebook(sub, common: argparse.ArgumentParser, helps: dict[str, str]) -> None:
    p = sub.add_parser("codebook", parents=[common], help=helps["codebook"])
    cb_sub = p.add_subparsers(dest="codebook_command", required=True, metavar="ACTION")
    q = cb_sub.add_parser(
        "suggest",
        parents=[common],
        help="write a draft study-local codebook from a source's header row and answers",
    )
    q.add_argument("study_dir", type=Path, help="the raw study folder (with study.toml)")
    q.add_argument(
        "--source", required=True, help="the questionnaire file, relative to the study folder"
    )
    q.add_argument(
        "--out", type=Path, help="codebook file (default: <study>/<source>.codebook.toml)"
    )
    q.add_argument("--json", action="store_true", help="machine-readable summary")
    q.set_defaults(func=cmd_codebook_suggest)


def cmd_codebook_suggest(args: argparse.Namespace) -> int:
    from .io.suggest import write_suggestion

    dest = write_suggestion(args.study_dir, args.source, args.out)
    if args.json:
        _print_json({"codebook": str(dest), "source": args.source})
    else:
        print(f"draft codebook written: {dest}")
        print("check every TODO in it, then add to the source in study.toml:")
        print(
            f'  codebook = "{dest.resolve().relative_to(args.study_dir.resolve())}"'
            if dest.resolve().is_relative_to(args.study_dir.resolve())
            else f'  codebook = "{dest.resolve()}"'
        )
    return 0
