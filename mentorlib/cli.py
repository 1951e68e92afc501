"""The ``mentorlib`` command line: one subcommand per stage, plus ``demo``.

Every command prints a short human summary (``--json`` for the same as data where it reports
numbers), exits non-zero with a one-line reason on bad input, and shows a progress bar on work
that takes more than a few seconds. ``--debug`` shows the full traceback instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import MentorlibError


class _Progress:
    """A tqdm bar that appears only when the work takes more than two seconds."""

    def __init__(self, total: int | None, desc: str, enabled: bool = True):
        from tqdm.auto import tqdm

        self.bar = tqdm(
            total=total,
            desc=desc,
            delay=2.0,
            disable=not enabled,
            leave=False,
            file=sys.stderr,
            unit="step",
        )

    def __call__(self, label: str = ""):
        self.bar.set_postfix_str(label[-40:], refresh=False)
        self.bar.update(1)

    def close(self):
        self.bar.close()


def _emit(args, summary: dict, lines: list[str]):
    if getattr(args, "json", False):
        print(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    else:
        print("\n".join(lines))


# ----------------------------------------------------------------------------- synth


def cmd_synth(args) -> int:
    import pandas as pd

    from .outputs import check_output_dir
    from .synth import SynthParams, generate, write_study
    from .synth.export import _plan

    if args.overwrite and Path(args.out_dir).is_dir() and any(Path(args.out_dir).iterdir()):
        check_output_dir(args.out_dir, kind="synth", what="synth folder")  # before generating
    p = SynthParams(level=args.level, n_students=args.students, n_years=args.years, seed=args.seed)
    study = generate(p)
    bar = _Progress(len(_plan(study, args.clean)), "writing files", not args.json)
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
        "defects": len(defects),
        "defect_kinds": defects["kind"].value_counts().to_dict(),
    }
    lines = [
        f"Wrote a synthetic {'primary' if p.level == 'primary' else 'middle'} school to {out}",
        f"  {summary['students']:,} students ({summary['student_years']:,} student-years), "
        f"{summary['staff']} staff, {len(p.years)} school years {p.years[0]}-{p.years[-1]}",
        f"  {len(files)} raw files + study.toml; truth/ holds the parameters, latent traits, "
        f"mentor effects and a manifest of {len(defects):,} injected defects "
        f"({defects['kind'].nunique()} kinds)"
        + (" (--clean: none injected)" if args.clean else ""),
    ]
    _emit(args, summary, lines)
    return 0


# ----------------------------------------------------------------------------- clean


def default_processed_dir(study_dir: Path) -> Path:
    """data/raw/<name> -> data/processed/<name>; anything else -> ./data/processed/<name>."""
    study_dir = Path(study_dir).resolve()
    if study_dir.parent.name == "raw" and study_dir.parent.parent.name == "data":
        return study_dir.parent.parent / "processed" / study_dir.name
    return Path.cwd() / "data" / "processed" / study_dir.name


def cmd_clean(args) -> int:
    from .clean import clean_study
    from .study import load_config

    cfg = load_config(args.study_dir)
    if args.out is not None and Path(args.out).name in ("", ".", ".."):
        from .errors import InputError

        raise InputError(
            f"--out {args.out}: refusing to write there: it names a folder by '.' or '..', not a "
            f"new folder for the cleaned tables; give one, e.g. --out data/processed/{cfg.name}"
        )
    out = Path(args.out) if args.out else default_processed_dir(args.study_dir)
    bar = _Progress(len(cfg.sources), "cleaning", not args.json)
    try:
        res = clean_study(
            args.study_dir, out, attention=args.attention, reader=args.reader, progress=bar
        )
    finally:
        bar.close()
    s = res.summary
    tot = s[["rows_in", "kept", "merged", "quarantined", "blank_rows"]].sum()
    reasons = res.quarantine["reason"].value_counts() if len(res.quarantine) else pd_empty()
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
        "quarantine_reasons": {k: int(v) for k, v in reasons.items()},
        "cell_repairs": int(len(cell_log)),
        "repair_rules": {k: int(v) for k, v in rules.head(15).items()},
        "tables": {k: len(v) for k, v in res.tables.items()},
        "pseudonymised": res.meta["pseudonymised"],
        "per_source": s.to_dict(orient="records"),
    }
    top = ", ".join(f"{k} {v:,}" for k, v in list(reasons.items())[:4]) or "none"
    lines = [
        f"Cleaned {cfg.name} ({cfg.school or cfg.level}, {cfg.years[0]}-{cfg.years[-1]}) in {res.meta['seconds']} s -> {res.out_dir}",
        f"  {summary['files']} files ({summary['sheets']} sheets), {summary['rows_in']:,} rows: {summary['kept']:,} kept, "
        f"{summary['merged']:,} merged (repeated submissions), {summary['quarantined']:,} quarantined"
        + (f"; {summary['blank_rows']:,} blank rows skipped" if summary["blank_rows"] else ""),
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
    ]
    _emit(args, summary, lines)
    return 0


def pd_empty():
    import pandas as pd

    return pd.Series(dtype=int)


# ----------------------------------------------------------------------------- analyses


MIN_CELL_RANGE = (2, 100)


def _check_min_cell(args) -> None:
    """``--min-cell`` within reason: below 2 nothing is suppressed, above 100 everything is."""
    v = getattr(args, "min_cell", None)
    lo, hi = MIN_CELL_RANGE
    if v is not None and not lo <= v <= hi:
        from .errors import InputError

        raise InputError(
            f"--min-cell {v} is out of range: give a whole number from {lo} to {hi} (default 5; "
            "groups of fewer students are shown as '<N'; below 2 nothing would be hidden, above "
            "100 every group of a school would be)"
        )


def _study_and_year(args):
    from .io.open import open_study

    _check_min_cell(args)

    P = open_study(args.processed)
    year = args.year if args.year is not None else P.years[-1]
    if year not in P.years:
        from .errors import InputError

        raise InputError(
            f"year {year} is not one of the study's years {list(P.years)}", file=str(args.processed)
        )
    return P, year


def cmd_progress(args) -> int:
    from pandas import isna as pd_isna

    from .progress import progress_report

    P, year = _study_and_year(args)
    rep = progress_report(P, year, k=args.k, method=args.method, min_cell=args.min_cell)
    if args.json:
        out = rep.to_json_dict(internal=args.internal)
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
        return 0
    v = rep.sensitivity
    lines = [
        rep.headline(args.lang),
        "",
        "敏感性分析（不同定义 × 缺失处理）："
        if args.lang == "zh"
        else "Sensitivity (definition x missing-data rule):",
    ]
    for r in v.itertuples(index=False):
        if pd_isna(r.proportion):
            lines.append(f"  {r.definition:14s} k={r.k} {r.rule:24s}      —  (small cells)")
            continue
        lines.append(
            f"  {r.definition:14s} k={r.k} {r.rule:24s} {r.proportion:6.1%} "
            f"[{r.ci_low:.1%}, {r.ci_high:.1%}]  {r.verdict}"
        )
    print("\n".join(lines))
    return 0


def _internal_name(path: str | Path) -> Path:
    """The file a ``--out`` naming mentors is written to: marked internal in its name.

    The path as given is checked first (:func:`mentorlib.outputs.check_output_file`: not ``.``,
    ``..``, ``/`` or an existing folder, not inside a raw or processed study folder), then
    ``_internal`` is added to its name unless the name already says internal (or 内部), then
    that file is checked (an existing one is refused here; the caller checks it again with the
    header it writes).

    Parameters
    ----------
    path : path
        ``--out`` as given.

    Returns
    -------
    Path
        The file to write.

    Raises
    ------
    InputError
        One line, before anything is computed or written.
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


def cmd_mentors(args) -> int:
    from .effectiveness import mentor_report
    from .outputs import check_output_file, write_csv

    out = _internal_name(args.out) if args.out else None  # refused before any work
    P, year = _study_and_year(args)
    rep = mentor_report(P, year, seed=args.seed)
    if out is not None:  # an existing file is replaced only if it is an effects table we wrote
        effects = rep.tables(public=False)["effects"]
        write_csv(effects, check_output_file(out, header=effects.columns))
        print(f"wrote {out} (internal: names mentors)", file=sys.stderr)
    if args.json:
        print(
            json.dumps(
                rep.to_json_dict(public=not args.internal),
                ensure_ascii=False,
                indent=2,
                default=str,
            )
        )
        return 0
    print(rep.summary(args.lang))
    return 0


#: Rulebook checks whose value counts students (``groups --json``: suppressed when small).
_GROUP_COUNT_RULES = ("assignment_valid", "group_min", "group_max", "blocking_pairs")
#: Rulebook checks whose value is a share of the year's students.
_GROUP_SHARE_RULES = (
    "students_assigned",
    "in_scope",
    "first_choice",
    "top3_choice",
    "changed_share",
)


def cmd_groups(args) -> int:
    """``mentorlib groups``: one policy's grouping and its checks, or a comparison.

    ``--json`` is public unless ``--internal``: checks counting 1 to ``min_cell - 1`` students
    (the smallest group, invalid rows, blocking pairs) and shares whose students or others
    number 1 to ``min_cell - 1`` are null, with ``"suppressed": true``
    (:func:`mentorlib.privacy.suppress_rule_values`).
    """
    from . import grouping as G
    from .privacy import MIN_CELL, suppress_rule_values

    P, year = _study_and_year(args)
    internal = bool(getattr(args, "internal", False))
    min_cell = MIN_CELL

    def public(checks):
        if internal:
            return checks
        n = len(G.roster(P, year)[0])
        return suppress_rule_values(
            checks,
            counts=_GROUP_COUNT_RULES,
            shares=dict.fromkeys(_GROUP_SHARE_RULES, n),
            min_cell=min_cell,
        )

    if args.compare:
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
            print(
                json.dumps(
                    {
                        "checks": public(cmp.checks).to_dict(orient="records"),
                        "outcomes": cmp.outcomes.to_dict(orient="records"),
                        "notes": list(cmp.notes),
                    },
                    ensure_ascii=False,
                    indent=2,
                    default=_json_default,
                )
            )
        else:
            print(cmp.table(lang=args.lang).to_string())
        for note in cmp.notes:  # a policy that could not run is said, never dropped silently
            print(f"mentorlib groups: note: {note}", file=sys.stderr)
        return 0
    assignment, checks = G.run_policy(P, year, args.policy, seed=args.seed)
    if args.out:  # an existing file is replaced only if it is an assignment we wrote
        from .outputs import check_output_file, write_csv

        write_csv(assignment, check_output_file(args.out, header=assignment.columns))
        print(f"wrote {args.out}", file=sys.stderr)
    if args.json:
        print(
            json.dumps(
                {
                    "policy": args.policy,
                    "year": year,
                    "students": (
                        len(assignment) if internal or not 0 < len(assignment) < min_cell else None
                    ),
                    "checks": public(checks).to_dict(orient="records"),
                },
                ensure_ascii=False,
                indent=2,
                default=_json_default,
            )
        )
        return 0
    hard = bool(G.hard_rules_met(checks))
    print(
        f"{args.policy}: {len(assignment):,} students grouped for {year}; hard rules "
        + ("met" if hard else "NOT met")
    )
    print(checks.to_string(index=False))
    return 0


def _reports_dir(args, P) -> Path:
    """The reports folder, checked (new, empty or ours) before any analysis runs."""
    from .outputs import check_output_dir
    from .study import safe_name

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
    from .errors import InputError

    fmts = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    bad = [f for f in fmts if f not in ("docx", "html", "md")]
    if bad or not fmts:
        raise InputError(f"unknown format(s) {bad or text!r}: use docx, html and/or md")
    return fmts


def cmd_report(args) -> int:
    from . import report as R

    P, year = _study_and_year(args)
    fmts = _formats(args.format)
    out = _reports_dir(args, P)
    a = R.analyse_year(P, year, min_cell=args.min_cell, seed=args.seed)
    paths = []
    for lang in args.lang.split(","):
        rep = R.annual_summary(
            P,
            year,
            lang=lang,
            public=not args.internal,
            min_cell=args.min_cell,
            seed=args.seed,
            analyses=a,
        )
        paths += [p for p in rep.write(out, formats=fmts) if p.suffix in (".docx", ".html", ".md")]
    return _report_done(args, paths, f"annual summary {year}")


def cmd_review(args) -> int:
    from . import report as R
    from .io.open import open_study

    _check_min_cell(args)
    P = open_study(args.processed)
    fmts = _formats(args.format)
    out = _reports_dir(args, P)
    a = R.analyse_pilot(P, min_cell=args.min_cell, seed=args.seed, draws=args.draws)
    paths = []
    for lang in args.lang.split(","):
        rep = R.pilot_review(
            P,
            lang=lang,
            public=not args.internal,
            min_cell=args.min_cell,
            seed=args.seed,
            draws=args.draws,
            analyses=a,
        )
        paths += [p for p in rep.write(out, formats=fmts) if p.suffix in (".docx", ".html", ".md")]
    return _report_done(args, paths, f"pilot review {P.years[0]}-{P.years[-1]}")


def _report_done(args, paths, what: str) -> int:
    summary = {"report": what, "internal": args.internal, "files": [str(p) for p in paths]}
    lines = [f"Drafted the {what}" + (" (INTERNAL: names mentors)" if args.internal else "") + ":"]
    lines += [f"  {p}" for p in paths]
    _emit(args, summary, lines)
    return 0


def _json_default(v):
    import pandas as pd

    if v is pd.NA or v is None:
        return None
    if hasattr(v, "item"):
        return v.item()
    return str(v)


# ----------------------------------------------------------------------------- demo


def cmd_demo(args) -> int:
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
    ap.add_argument("--debug", action="store_true", help="show full tracebacks")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("synth", help="write a synthetic study folder with its ground truth")
    p.add_argument("out_dir", type=Path, help="study folder to create")
    p.add_argument("--level", choices=["primary", "middle"], default="primary")
    p.add_argument("--students", type=int, default=1200, help="students per year (default 1200)")
    p.add_argument("--years", type=int, default=3, help="school years (default 3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--clean", action="store_true", help="no injected defects, one plain form per source"
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    p.add_argument("--json", action="store_true", help="machine-readable summary")
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("clean", help="clean a study folder into canonical tables")
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
    p.add_argument("--json", action="store_true", help="machine-readable summary")
    p.set_defaults(func=cmd_clean)

    def analysis(name, help_):
        p = sub.add_parser(name, help=help_)
        p.add_argument(
            "processed",
            type=Path,
            help="processed study folder (data/processed/<study>) or a raw one",
        )
        p.add_argument(
            "--year", type=int, default=None, help="school year (default: the study's last)"
        )
        p.add_argument("--lang", choices=["zh", "en"], default="zh")
        p.add_argument("--json", action="store_true", help="machine-readable output")
        return p

    p = analysis(
        "progress", "the 85%% verdict for a year, with intervals and the sensitivity table"
    )
    p.add_argument(
        "--k",
        type=int,
        default=None,
        help="dimensions improved to count as progressing (default 1)",
    )
    p.add_argument("--method", choices=["wilson", "clopper-pearson"], default="wilson")
    p.add_argument(
        "--min-cell", type=int, default=5, help="suppress cells of fewer students (default 5)"
    )
    p.add_argument(
        "--internal",
        action="store_true",
        help="--json without disclosure control (small counts shown: not for publication)",
    )
    p.set_defaults(func=cmd_progress)

    p = analysis(
        "mentors", "mentor effects with shrinkage, placebo check, audit of the school's scheme"
    )
    p.add_argument("--out", help="CSV of every mentor's effects (internal: names mentors)")
    p.add_argument("--internal", action="store_true", help="--json includes tables naming mentors")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_mentors)

    p = analysis(
        "groups", "group students with mentors under a policy, checked against the rulebook"
    )
    p.add_argument(
        "--policy", default="optimal", help="recorded, current, random, two_way, optimal, regroup"
    )
    p.add_argument(
        "--compare", metavar="P1,P2,...", help="compare policies (predicted improvement rates)"
    )
    p.add_argument("--draws", type=int, default=20, help="random draws per policy when comparing")
    p.add_argument("--out", help="CSV of the assignment")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--internal",
        action="store_true",
        help="--json without disclosure control (small counts shown: not for publication)",
    )
    p.set_defaults(func=cmd_groups)

    for name, help_ in (
        ("report", "draft the annual summary (年度总结) of a year: DOCX, HTML, Markdown"),
        ("review", "draft the three-year pilot review (三年试点评估报告)"),
    ):
        p = sub.add_parser(name, help=help_)
        p.add_argument(
            "processed",
            type=Path,
            help="processed study folder (data/processed/<study>) or a raw one",
        )
        if name == "report":
            p.add_argument(
                "--year", type=int, default=None, help="school year (default: the study's last)"
            )
        else:
            p.add_argument(
                "--draws", type=int, default=10, help="random draws in the grouping comparison"
            )
        p.add_argument(
            "--format", default="docx,html,md", help="any of docx,html,md (default all three)"
        )
        p.add_argument("--lang", default="zh", help="zh, en, or zh,en for both (default zh)")
        p.add_argument(
            "--internal",
            action="store_true",
            help="internal version: names mentors (never students)",
        )
        p.add_argument(
            "--min-cell", type=int, default=5, help="suppress cells of fewer students (default 5)"
        )
        p.add_argument("--out", help="output folder (default: reports/<study>)")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=cmd_report if name == "report" else cmd_review)

    p = sub.add_parser("demo", help="generate the demo study and run every stage")
    p.add_argument("--root", default=".", help="project folder (data/ and reports/ go here)")
    p.add_argument("--students", type=int, default=1200)
    p.add_argument("--seed", type=int, default=2023)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_demo)
    return ap


class _Terminated(SystemExit):
    """SIGTERM or SIGHUP: leave through ``finally`` blocks (temporary files removed)."""


def _on_signals() -> dict:
    """Make SIGINT, SIGTERM and SIGHUP exceptions, so every ``finally`` runs (temporary and
    spill folders are removed); further signals are ignored while that cleanup runs."""
    import signal

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
    import tempfile

    from .outputs import sweep_stale

    sweep_stale(tempfile.gettempdir())


def main(argv: list[str] | None = None) -> int:
    try:
        ap = build_parser()
        args = ap.parse_args(argv)
    except KeyboardInterrupt:
        print("mentorlib: interrupted", file=sys.stderr)
        return 130
    saved = _on_signals()
    try:
        _sweep_system_temp()
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("mentorlib: interrupted", file=sys.stderr)
        return 130
    except _Terminated as e:
        print("mentorlib: terminated", file=sys.stderr)
        return int(e.code)
    except BrokenPipeError:  # `mentorlib ... | head`: the reader left, nothing went wrong
        sys.stderr.close()
        return 0
    except (MentorlibError, FileNotFoundError, FileExistsError, ValueError, OSError) as e:
        if args.debug:
            raise
        print(f"mentorlib {args.command}: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # never a deep traceback for a user; --debug shows it
        if args.debug:
            raise
        print(
            f"mentorlib {args.command}: unexpected {type(e).__name__}: {e} (rerun with --debug)",
            file=sys.stderr,
        )
        return 1
    finally:
        import signal

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
