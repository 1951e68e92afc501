"""The ``mentorlib`` command line: one subcommand per stage, plus ``demo``.

Every command prints a short human summary (``--json``: the same as data, always built by
:func:`mentorlib.results.to_json`) and shows a progress bar on work that takes more than a few
seconds. Exit codes:

====  =====================================================================================
0     done
2     a user error (:func:`mentorlib.errors.is_user_error`: an :class:`~mentorlib.errors.
      InputError`, rules that cannot be met, a file the system refused): one line naming the
      file, row and column; also argparse's usage errors
70    an internal error (``EX_SOFTWARE``: anything else is a bug): one line asking for a
      report; ``--debug`` (before or after the command) prints the full traceback instead
130   interrupted (Ctrl-C); 128 + the signal number for SIGTERM and SIGHUP
====  =====================================================================================

Numbers that are settings come from the study's rulebook (``Processed.rules``, the level's
rules with the study's ``[rules]``); ``--min-cell`` replaces its ``min_cell`` for one run.

Imports: the stages (and pandas, statsmodels, matplotlib, tqdm behind them) are imported inside
the command that needs them, so ``python -m mentorlib --help`` and a mistyped command answer at
once. That is the one reason for the imports inside functions below.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cli_district import HELP as DISTRICT_HELP
from .cli_district import add_district_command
from .cli_options import add_mentor_options, add_progress_options, mentor_options, progress_options
from .cli_progress import Progress
from .cli_synth import HELP as SYNTH_HELP
from .cli_synth import add_synth_command
from .cli_tools import add_tool_commands
from .errors import InputError, is_user_error
from .labels import (
    CLI_LABELS,
    INTERVAL_METHODS,
    RELAXATION_LABELS,
    SENSITIVITY_HEADING,
    Lang,
    check_lang,
)
from .rules import BOUNDS, DEFAULT_SEED

if TYPE_CHECKING:
    import pandas as pd

    from .data import Processed

#: Exit code of a user error (bad input: one line the user can act on).
EXIT_USER_ERROR = 2
#: Exit code of an internal error (a bug), ``EX_SOFTWARE`` of sysexits.h.
EXIT_INTERNAL_ERROR = 70
#: Exit code after Ctrl-C, as a shell reports death by SIGINT.
EXIT_INTERRUPTED = 130


def _print_json(data: Any, *, public: bool = True) -> None:
    """Print a result object (its ``to_json_dict(public=...)``) or a plain structure as JSON."""
    from .results import to_json

    print(to_json(data, public=public))


def _emit(args: argparse.Namespace, summary: dict, lines: list[str]) -> None:
    if getattr(args, "json", False):
        _print_json(summary)
    else:
        print("\n".join(lines))


# ----------------------------------------------------------------------------- clean


def default_processed_dir(study_dir: Path) -> Path:
    """data/raw/<name> -> data/processed/<name>; anything else -> ./data/processed/<name>."""
    study_dir = Path(study_dir).resolve()
    if study_dir.parent.name == "raw" and study_dir.parent.parent.name == "data":
        return study_dir.parent.parent / "processed" / study_dir.name
    return Path.cwd() / "data" / "processed" / study_dir.name


def cmd_clean(args: argparse.Namespace) -> int:
    import pandas as pd

    from .clean import clean_study
    from .io.study import load_config

    cfg = load_config(args.study_dir)
    if args.out is not None and Path(args.out).name in ("", ".", ".."):
        raise InputError(
            f"--out {args.out}: refusing to write there: it names a folder by '.' or '..', not a "
            f"new folder for the cleaned tables; give one, e.g. --out data/processed/{cfg.name}"
        )
    out = Path(args.out) if args.out else default_processed_dir(args.study_dir)
    bar = Progress(len(cfg.sources), "cleaning", not args.json)
    try:
        res = clean_study(
            args.study_dir,
            out,
            attention=args.attention,
            reader=args.reader,
            progress=bar,
            strict=args.strict,
        )
    finally:
        bar.close()
    s = res.summary
    tot = s[["rows_in", "kept", "merged", "quarantined", "blank_rows"]].sum()
    q = res.quarantine
    reasons = q["reason"].value_counts() if len(q) else pd.Series(dtype="int64")
    cell_log = res.log[res.log["row"].notna()]
    rules = cell_log["rule"].astype(str).value_counts()
    summary = {
        "study": cfg.name,
        "school": cfg.school,
        "level": cfg.level,
        "years": list(cfg.years),
        "out_dir": str(res.out_dir),
        "seconds": res.meta["seconds"],
        "files": int(s["source"].nunique()),
        "sheets": len(s),
        "rows_in": int(tot["rows_in"]),
        "kept": int(tot["kept"]),
        "merged": int(tot["merged"]),
        "quarantined": int(tot["quarantined"]),
        "blank_rows": int(tot["blank_rows"]),
        "not_read": int(s["not_read"].sum()) if "not_read" in s.columns else 0,
        "quarantine_reasons": reasons,
        "cell_repairs": int(len(cell_log)),
        "repair_rules": rules.head(15),
        "tables": {k: len(v) for k, v in res.tables.items()},
        "pseudonymised": res.meta["pseudonymised"],
        "partial": res.partial,
        "failed_sources": res.failed_sources,
        "per_source": s,
    }
    _emit(args, summary, _clean_lines(cfg, res, summary, reasons, rules))
    return 0  # a partial study is a result: only an unreadable roster stops it (exit 2)


def _clean_lines(cfg, res, summary: dict, reasons: pd.Series, rules: pd.Series) -> list[str]:
    top = ", ".join(f"{k} {v:,}" for k, v in list(reasons.items())[:4]) or "none"
    blank = summary["blank_rows"]
    return [
        f"Cleaned {cfg.name} ({cfg.school or cfg.level}, {cfg.years[0]}-{cfg.years[-1]}) in "
        f"{res.meta['seconds']} s -> {res.out_dir}",
        f"  {summary['files']} files ({summary['sheets']} sheets), {summary['rows_in']:,} rows: "
        f"{summary['kept']:,} kept, {summary['merged']:,} merged (repeated submissions), "
        f"{summary['quarantined']:,} quarantined"
        + (f"; {blank:,} blank rows skipped" if blank else "")
        + (f"; {summary['not_read']:,} not read (failed sources)" if summary["not_read"] else ""),
        f"  quarantine reasons: {top}",
        f"  cleaning log: {summary['cell_repairs']:,} cell repairs ("
        + ", ".join(f"{k} {v:,}" for k, v in list(rules.items())[:4])
        + ")",
        "  student IDs: "
        + (
            "pseudonymised with the study's key (HMAC-SHA256) in every output file; names and IP "
            "addresses removed, free text scrubbed, birth dates to the month"
            if res.meta["pseudonymised"]
            else "kept as they are: no pseudonym key configured (pseudonym_key or "
            "pseudonym_key_file in study.toml, or MENTORLIB_PSEUDONYM_KEY)"
        ),
        *_failed_lines(res.failed_sources),
    ]


def _failed_lines(failed: list[dict]) -> list[str]:
    """The sources not read, each with its reason: the study is partial."""
    if not failed:
        return []
    return [
        f"  PARTIAL: {len(failed)} source(s) not read, the others cleaned (their rows are "
        "counted as not_read in source_summary.csv; fix them and clean again, or use --strict "
        "to stop at the first):",
        *(f"    {f['path']} ({f['kind']}): {f['reason']}" for f in failed),
    ]


# ----------------------------------------------------------------------------- analyses


def _check_min_cell(args: argparse.Namespace) -> None:
    """``--min-cell`` within the rulebook's bounds (checked before the study is read)."""
    v = getattr(args, "min_cell", None)
    lo, hi = (int(b) for b in BOUNDS["min_cell"])
    if v is not None and not lo <= v <= hi:
        raise InputError(
            f"--min-cell {v} is out of range: give a whole number from {lo} to {hi} (default: "
            f"the study's rules, min_cell; groups of fewer students are shown as '<N'; below "
            f"{lo} nothing would be hidden, above {hi} every group of a school would be)"
        )


def _open(args: argparse.Namespace) -> Processed:
    """The processed study, with this run's ``--min-cell`` (if given) as its rule ``min_cell``."""
    from .io.open import open_study

    _check_min_cell(args)
    P = open_study(args.processed)
    v = getattr(args, "min_cell", None)
    return P if v is None else P.with_rules(min_cell=v)


def _study_and_year(args: argparse.Namespace, outcome: bool = False) -> tuple[Processed, int]:
    """The study and ``--year``: by default the last year (the last with a post-wave assessment
    when the command needs an ``outcome``; said on stderr)."""
    P = _open(args)
    year = args.year if args.year is not None else P.years[-1]
    if args.year is None and outcome and year not in P.assessed_years and P.assessed_years:
        year, msg = P.assessed_years[-1], f"{year} has no post-wave assessment yet: year "
        print(f"{msg}{P.assessed_years[-1]} (--year to choose)", file=sys.stderr)
    if year not in P.years:
        raise InputError(
            f"year {year} is not one of the study's years {list(P.years)}", file=str(args.processed)
        )
    return P, year


def cmd_progress(args: argparse.Namespace) -> int:
    from .progress import progress_report

    P, year = _study_and_year(args, outcome=True)
    rep = progress_report(  # None: the study's rules
        P, year, k=args.k, method=args.method, **progress_options(args)
    )
    if args.json:
        _print_json(rep, public=not args.internal)
        return 0
    print("\n".join(_progress_lines(rep, Lang(args.lang))))
    return 0


def _progress_lines(rep, L: Lang) -> list[str]:
    """The headline and the sensitivity table as text."""
    lines = [*rep.true_share_lines(L.code, head=True), *rep.comparison_lines(L.code)]
    sens = rep.sensitivity
    method = L.of(INTERVAL_METHODS, str(sens["interval_method"].mode().iat[0]))
    lines += ["", L.pair(SENSITIVITY_HEADING).format(method=method)]
    for r, hidden in zip(sens.itertuples(index=False), sens["proportion"].isna(), strict=True):
        head = f"  {r.definition!s:14s} k={r.k} {r.rule!s:24s}"
        if hidden:
            lines.append(f"{head}      —  {L.of(CLI_LABELS, 'small_cells')}")
            continue
        lines.append(f"{head} {r.proportion:6.1%} [{r.ci_low:.1%}, {r.ci_high:.1%}]  {r.verdict}")
    return lines


def _internal_name(path: str | Path) -> Path:
    """The file a ``--out`` naming mentors is written to: marked internal in its name.

    The path as given is checked (:func:`mentorlib.outputs.check_output_file`: not ``.``,
    ``..``, ``/`` or a folder, not inside a study folder), then ``_internal`` is added to its
    name unless it already says internal (or 内部), then that file is checked: an
    :class:`InputError` before anything is computed or written.
    """
    from .outputs import check_output_file

    given = Path(path)
    check_output_file(given, place_only=True)  # where it points, whatever the name becomes
    out = (
        given
        if "internal" in given.stem.lower() or "内部" in given.stem
        else given.with_name(f"{given.stem}_internal{given.suffix}")
    )
    check_output_file(out, place_only=True)
    return out


def cmd_mentors(args: argparse.Namespace) -> int:
    from .effectiveness import mentor_report
    from .outputs import check_output_file, write_csv

    out = _internal_name(args.out) if args.out else None  # refused before any work
    P, year = _study_and_year(args, outcome=True)
    rep = mentor_report(P, year, seed=args.seed, **mentor_options(args))
    if out is not None:  # an existing file is replaced only if it is an effects table we wrote
        effects = rep.tables(public=False)["effects"]
        write_csv(effects, check_output_file(out, header=effects.columns))
        print(f"wrote {out} (internal: names mentors)", file=sys.stderr)
    if args.json:
        _print_json(rep, public=not args.internal)
        return 0
    print(rep.summary(args.lang))
    return 0


def cmd_groups(args: argparse.Namespace) -> int:
    """``mentorlib groups``: one policy's grouping and its checks, or a comparison."""
    P, year = _study_and_year(args)
    if args.compare:
        return _groups_compare(args, P, year)
    return _groups_one(args, P, year)


def _groups_compare(args: argparse.Namespace, P: Processed, year: int) -> int:
    from . import grouping as G

    model = G.OutcomeModel.from_fitted(P, year)
    cmp = G.compare_policies(
        P,
        year,
        policies=args.compare.split(","),
        model=model,
        draws=args.draws,
        seed=args.seed,
        progress=None if not args.json else False,
    )
    if args.json:
        _print_json(cmp, public=not args.internal)
    else:
        print(cmp.table(lang=args.lang).to_string())
    for note in cmp.notes:  # a policy that could not run is said, never dropped silently
        print(f"mentorlib groups: note: {note}", file=sys.stderr)
    return 0


def _groups_one(args: argparse.Namespace, P: Processed, year: int) -> int:
    from . import grouping as G

    params: dict[str, Any] = {}
    if args.gender_tol is not None:
        params["gender_tol"] = args.gender_tol
    if args.scope is not None:
        params["scope"] = args.scope
    if params and "scope" not in G.make_policy(args.policy).get_params():
        raise InputError(f"--gender-tol and --scope do not apply to policy {args.policy!r}")
    run = G.run_policy(P, year, args.policy, seed=args.seed, strict=args.strict, **params)
    assignment, checks = run.assignment, run.checks
    if args.out:  # an existing file is replaced only if it is an assignment we wrote
        from .outputs import check_output_file, write_csv

        write_csv(assignment, check_output_file(args.out, header=assignment.columns))
        print(f"wrote {args.out}", file=sys.stderr)
    n = len(assignment)
    if args.json:
        _print_json(run, public=not args.internal)
        return 0
    L = Lang(args.lang)
    met = "hard_met" if G.hard_rules_met(checks) else "hard_not_met"
    print(
        L.of(CLI_LABELS, "grouped").format(policy=args.policy, n=n, year=year)
        + L.of(CLI_LABELS, met)
    )
    print(checks.to_string(index=False))
    if run.relaxations:
        print(L.of(RELAXATION_LABELS, "relaxed"))
        for line in run.relaxation_lines(args.lang):
            print(f"  {line}")
    return 0


def _reports_dir(args: argparse.Namespace, P: Processed) -> Path:
    """The reports folder, checked (new, empty or ours) before any analysis runs."""
    from .io.study import safe_name
    from .outputs import check_output_dir

    root = Path(args.processed).resolve()
    if args.out:
        out = Path(args.out)
    else:
        name = safe_name(str(P.name), what="study name in study.json", file=str(args.processed))
        if root.parent.name == "processed" and root.parent.parent.name == "data":
            out = root.parent.parent.parent / "reports" / name
        else:
            out = Path.cwd() / "reports" / name
    raw = (root,) if (root / "study.toml").is_file() else ()
    check_output_dir(out, kind="reports", raw_roots=raw, what="--out" if args.out else "reports")
    return out


def _formats(text: str) -> tuple[str, ...]:
    fmts = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    bad = [f for f in fmts if f not in ("docx", "html", "md")]
    if bad or not fmts:
        raise InputError(f"unknown format(s) {bad or text!r}: use docx, html and/or md")
    return fmts


def _langs(text: str) -> tuple[str, ...]:
    """``--lang zh``, ``en`` or ``zh,en``: each checked (one line for anything else)."""
    langs = tuple(check_lang(x.strip()) for x in text.split(",") if x.strip())
    if not langs:
        raise InputError(f"--lang {text!r}: give zh, en or zh,en")
    return langs


def cmd_report(args: argparse.Namespace) -> int:
    from . import report as R

    fmts, langs = _formats(args.format), _langs(args.lang)  # before the study is read
    P, year = _study_and_year(args, outcome=True)
    min_cell = P.rules.min_cell
    out = _reports_dir(args, P)
    kw = dict(public=not args.internal, min_cell=min_cell, seed=args.seed)
    kw["analyses"] = R.analyse_year(P, year, min_cell=min_cell, seed=args.seed)
    docs = [R.annual_summary(P, year, lang=lang, **kw) for lang in langs]
    return _report_done(args, docs, out, fmts, f"annual summary {year}")


def cmd_review(args: argparse.Namespace) -> int:
    from . import report as R

    fmts, langs = _formats(args.format), _langs(args.lang)  # before the study is read
    P = _open(args)
    min_cell = P.rules.min_cell
    out = _reports_dir(args, P)
    kw = dict(public=not args.internal, min_cell=min_cell, seed=args.seed, draws=args.draws)
    pa = R.analyse_pilot(P, min_cell=min_cell, seed=args.seed, draws=args.draws)
    docs = [R.pilot_review(P, lang=lang, analyses=pa, **kw) for lang in langs]
    rec = pa.comparison.recommendation() if pa.comparison is not None else None
    what = f"pilot review {P.years[0]}-{P.years[-1]}"
    return _report_done(args, docs, out, fmts, what, review=True, rec=rec)


def _report_done(
    args: argparse.Namespace,
    docs: list,
    out: Path,
    fmts,
    what: str,
    *,
    review: bool = False,
    rec: Any = None,
) -> int:
    """Write each drafted document in each format; print the first document's headline (the
    executive summary's opening, the indicators missed, the review's grouping decision), then
    the documents (not their figures)."""
    from .report.brief import document_headline, headline_lines

    paths = [
        p for d in docs for p in d.write(out, formats=fmts) if p.suffix in (".docx", ".html", ".md")
    ]
    summary = {
        "report": what,
        "internal": args.internal,
        **document_headline(docs[0]),
        "files": [str(p) for p in paths],
    }
    if review:
        summary["grouping_recommendation"] = None if rec is None else rec.to_json_dict()
    lines = headline_lines(docs[0], rec) + [""]
    lines += [f"Drafted the {what}" + (" (INTERNAL: names mentors)" if args.internal else "") + ":"]
    lines += [f"  {p}" for p in paths]
    _emit(args, summary, lines)
    return 0


# ----------------------------------------------------------------------------- demo


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(
        root=Path(args.root), students=args.students, seed=args.seed, json_out=args.json
    )


# ----------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="mentorlib",
        description="Research workbench for all-staff mentorship programmes (全员育人导师制).",
    )
    ap.add_argument("--debug", action="store_true", help=_DEBUG_HELP)
    # every command also takes --debug after its name (default suppressed: the global wins)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG_HELP)
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_synth_command(sub, common)
    _add_clean(sub, common)
    _add_progress(sub, common)
    _add_mentors(sub, common)
    _add_groups(sub, common)
    _add_documents(sub, common)
    _add_demo(sub, common)
    add_district_command(sub, common)

    add_tool_commands(sub, common, COMMAND_HELP)
    return ap


#: One line of ``--help`` per command.
COMMAND_HELP = {
    "synth": SYNTH_HELP,
    "init": "suggest a study.toml for a folder of raw files (never overwrites one)",
    "check": "pre-flight a study folder: what each source reads and matches (no cleaning)",
    "clean": "clean a study folder into canonical tables",
    "progress": "the verdict on the target share for a year, with intervals and sensitivity",
    "mentors": "mentor effects with shrinkage, placebo check, audit of the school's scheme",
    "groups": "group students with mentors under a policy, checked against the rulebook",
    "report": "draft the annual summary (年度总结) of a year: DOCX, HTML, Markdown",
    "review": "draft the three-year pilot review (三年试点评估报告)",
    "demo": "generate the demo study and run every stage",
    "district": DISTRICT_HELP,
    "templates": "write data-entry workbooks, questionnaires and a study.toml for a school",
    "export": "export a processed study's tables for Excel (xlsx, csv) or SPSS (sav)",
    "codebook": "codebook tools: suggest a draft codebook for an unknown questionnaire",
}
_DEBUG_HELP = "on an error, show the full traceback (for a bug report)"
_STUDY_HELP = "processed study folder (data/processed/<study>) or a raw one"
_YEAR_HELP = "school year (default: the study's last)"
_INTERNAL_JSON_HELP = "--json without disclosure control (small counts shown: not for publication)"
_MIN_CELL_HELP = "suppress cells of fewer students (default: the study's rules, min_cell)"
_SEED_HELP = f"random seed (default {DEFAULT_SEED}, the one default of every analysis)"
_DRAWS_HELP = (
    "draws of the grouping comparison (default: as many as its Monte Carlo precision needs, "
    "the rules' sim_mc_ratio, sim_draws_min and sim_draws_max)"
)


def _add_clean(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("clean", parents=[common], help=COMMAND_HELP["clean"])
    p.add_argument(
        "study_dir", type=Path, help="the raw study folder (with study.toml); never written to"
    )
    p.add_argument("--out", help="processed folder (default: data/processed/<study>)")
    p.add_argument(
        "--attention",
        choices=["quarantine", "flag", "ignore"],
        default="quarantine",
        help="what to do with a failed attention check (default: quarantine)",
    )
    p.add_argument(
        "--reader", choices=["calamine", "openpyxl"], default="calamine", help="xlsx reader"
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="stop at the first source that cannot be read (default: clean the others, list it)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable summary")
    p.set_defaults(func=cmd_clean)


def _add_analysis(sub, common: argparse.ArgumentParser, name: str):
    """A command reading one year of a study: the folder, ``--year``, ``--lang``, ``--json``."""
    p = sub.add_parser(name, parents=[common], help=COMMAND_HELP[name])
    p.add_argument("processed", type=Path, help=_STUDY_HELP)
    p.add_argument("--year", type=int, default=None, help=_YEAR_HELP)
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def _add_progress(sub, common: argparse.ArgumentParser) -> None:
    p = _add_analysis(sub, common, "progress")
    k_help = "dimensions improved to count as progressing (default: the study's k_dimensions)"
    p.add_argument("--k", type=int, default=None, help=k_help)
    p.add_argument(
        "--method",
        choices=["wilson", "clopper-pearson"],
        default=None,
        help="interval method (default: the study's rules, ci_method)",
    )
    p.add_argument("--min-cell", type=int, default=None, help=_MIN_CELL_HELP)
    p.add_argument("--internal", action="store_true", help=_INTERNAL_JSON_HELP)
    add_progress_options(p)
    p.set_defaults(func=cmd_progress)


def _add_mentors(sub, common: argparse.ArgumentParser) -> None:
    p = _add_analysis(sub, common, "mentors")
    p.add_argument("--out", help="CSV of every mentor's effects (internal: names mentors)")
    p.add_argument("--internal", action="store_true", help="--json includes tables naming mentors")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=_SEED_HELP)
    add_mentor_options(p)
    p.set_defaults(func=cmd_mentors)


def _add_groups(sub, common: argparse.ArgumentParser) -> None:
    p = _add_analysis(sub, common, "groups")
    p.add_argument(
        "--policy", default="optimal", help="recorded, current, random, two_way, optimal, regroup"
    )
    p.add_argument(
        "--compare", metavar="P1,P2,...", help="compare policies (predicted improvement rates)"
    )
    p.add_argument("--draws", type=int, default=None, help=_DRAWS_HELP)
    p.add_argument("--out", help="CSV of the assignment")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=_SEED_HELP)
    p.add_argument(
        "--gender-tol", type=float, help="gender tolerance (default: the rulebook's gender_tol)"
    )
    p.add_argument(
        "--scope",
        choices=("class", "grade", "school"),
        help="where a student's mentor may come from",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="fail with the reason instead of relaxing gender balance, home area or scope",
    )
    p.add_argument("--internal", action="store_true", help=_INTERNAL_JSON_HELP)
    p.set_defaults(func=cmd_groups)


def _add_documents(sub, common: argparse.ArgumentParser) -> None:
    """``report`` (one year's annual summary) and ``review`` (the pilot review)."""
    for name in ("report", "review"):
        p = sub.add_parser(name, parents=[common], help=COMMAND_HELP[name])
        p.add_argument("processed", type=Path, help=_STUDY_HELP)
        if name == "report":
            p.add_argument("--year", type=int, default=None, help=_YEAR_HELP)
        else:
            p.add_argument("--draws", type=int, default=None, help=_DRAWS_HELP)
        p.add_argument(
            "--format", default="docx,html,md", help="any of docx,html,md (default all three)"
        )
        p.add_argument("--lang", default="zh", help="zh, en, or zh,en for both (default zh)")
        p.add_argument("--internal", action="store_true", help="names mentors (never students)")
        p.add_argument("--min-cell", type=int, default=None, help=_MIN_CELL_HELP)
        p.add_argument("--out", help="output folder (default: reports/<study>)")
        p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=_SEED_HELP)
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=cmd_report if name == "report" else cmd_review)


def _add_demo(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("demo", parents=[common], help=COMMAND_HELP["demo"])
    p.add_argument("--root", default=".", help="project folder (data/ and reports/ go here)")
    p.add_argument("--students", type=int, default=1200)
    p.add_argument(
        "--seed",
        type=int,
        default=2023,
        help=f"seed of the synthetic school (its analyses use the default seed, {DEFAULT_SEED})",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_demo)


# ----------------------------------------------------------------------------- running


class _Terminated(SystemExit):
    """SIGTERM or SIGHUP: leave through ``finally`` blocks (temporary files removed)."""


def _on_signals() -> dict:
    """Make SIGINT, SIGTERM and SIGHUP exceptions, so every ``finally`` runs (temporary and
    spill folders are removed); further signals are ignored while that cleanup runs."""
    saved: dict = {}

    def handler(signum, frame):
        for s in saved:
            signal.signal(s, signal.SIG_IGN)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise _Terminated(128 + signum)

    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            try:
                saved[sig] = signal.signal(sig, handler)
            except (ValueError, OSError):  # not the main thread: leave the handlers alone
                pass
    return saved


def _sweep_system_temp() -> None:
    """Remove spill folders that killed runs left in the system temporary folder (in-memory
    cleaning spills there); output folders' own temporaries are swept when they are written."""
    from .outputs import sweep_stale

    sweep_stale(tempfile.gettempdir())


def internal_error_line(exc: BaseException) -> str:
    """The one line a bug prints without ``--debug``.

    >>> internal_error_line(KeyError("year"))  # doctest: +ELLIPSIS
    "mentorlib: internal error (KeyError: 'year'); please report it with the command you ran ..."
    """
    msg = " ".join(str(exc).split())
    if len(msg) > 200:
        msg = msg[:199] + "…"
    what = f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__
    return (
        f"mentorlib: internal error ({what}); please report it with the command you ran "
        "— rerun with --debug for the full traceback"
    )


def _failed(args: argparse.Namespace, exc: Exception) -> int:
    """Report an exception a command raised; return the exit code (see the module docstring)."""
    user = is_user_error(exc)
    if args.debug:
        traceback.print_exception(exc, file=sys.stderr)
    elif user:
        print(f"mentorlib {args.command}: error: {exc}", file=sys.stderr)
    else:
        print(internal_error_line(exc), file=sys.stderr)
    return EXIT_USER_ERROR if user else EXIT_INTERNAL_ERROR


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit code (never raises, but for argparse's own exits)."""
    try:
        args = build_parser().parse_args(argv)
    except KeyboardInterrupt:
        print("mentorlib: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    saved = _on_signals()
    try:
        _sweep_system_temp()
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("mentorlib: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _Terminated as e:
        print("mentorlib: terminated", file=sys.stderr)
        return e.code if isinstance(e.code, int) else 1
    except BrokenPipeError:  # `mentorlib ... | head`: the reader left, nothing went wrong
        sys.stderr.close()
        return 0
    except Exception as e:  # one line for the user's errors, a "please report" line for bugs
        return _failed(args, e)
    finally:
        # a signal between creating a temporary and its `try`: remove what this process made.
        # Only if the module was loaded (it made none otherwise): importing it here, after a
        # Ctrl-C broke the libraries' import half-way, would fail.
        made = sys.modules.get(f"{__package__}.outputs")
        if made is not None:
            made.remove_own_temporaries()
        for sig, h in saved.items():
            if h is not None:
                signal.signal(sig, h)


if __name__ == "__main__":
    sys.exit(main())
