"""Write a generated study as a raw study folder: the files a school hands over, and the truth.

Every source kind of DESIGN.md becomes the file a school really has: rosters and exam sheets
from the records system (xlsx; the exam workbook has one sheet per class, some with a title
row), 问卷星 exports in both forms (按文本 xlsx, 按序号 CSV in GBK), one 腾讯问卷 export, a
mentors' log and a mood chart as CSV. Unless ``clean=True`` the export injects the defects real
files have (see :class:`~mentorlib.synth.rawtable.Messer`) and records each in ``truth/manifest.parquet`` with the
file, sheet, spreadsheet row (header = row 1), column, kind, the raw value written, the true
canonical value and what a correct cleaner should do with it (``expected``):

======================  ===================================================================
expected                meaning
======================  ===================================================================
value                   the cleaned cell equals ``true_value`` (logged in the cleaning log)
missing                 the cell becomes missing (a skip marker, an out-of-range answer)
link                    the row is linked to the student ``true_value`` (by name and class)
merge                   the row is a repeated submission, merged into row ``true_value``
quarantine              the row is quarantined (unknown student, failed attention check)
value_or_quarantine     recovered to ``true_value`` when the roster makes it unambiguous,
                        else quarantined; never linked to anyone else
encoding                the file's encoding, detected and logged
======================  ===================================================================
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import tomli_w

from ..io.codebook import load_codebook
from ..outputs import check_output_dir, make_temp_dir, neutralise_cells, replace_dir
from ..tables import CONTRACT, conform
from .defects import ROSTER_NAMES
from .params import SynthStudy, generator_command
from .rawtable import Messer
from .record_files import activities_file, exams_file, mood_file, rewards_file
from .sheets import groups_file, staff_file, students_file
from .survey_files import assessment_file, needs_file, satisfaction_file
from .writers import Identities, write_file

__all__ = ["canonical_tables", "plan_files", "write_study"]

# ----------------------------------------------------------------------------- the plan


def plan_files(study: SynthStudy, clean: bool) -> list[dict]:
    """Which file each source becomes (form, format, encoding), per year."""
    p = study.params
    specs: list[dict] = []
    for yi, y in enumerate(p.years):
        tag = f"{y}学年"
        specs += _roster_specs(y, yi, tag, clean)
        specs += _survey_specs(y, yi, tag, clean, p.level)
        specs += _record_specs(y, tag, clean, study.rules.mood_chart)
    return specs


def _roster_specs(y: int, yi: int, tag: str, clean: bool) -> list[dict]:
    """Students, staff and groups of one year (the groups a GBK CSV some years)."""
    g_csv = not clean and yi % 3 == 1
    return [
        dict(kind="students", year=y, path=f"roster/学生名册_{tag}.xlsx", fmt="xlsx"),
        dict(kind="staff", year=y, path=f"roster/教职工名册_{tag}.xlsx", fmt="xlsx"),
        dict(
            kind="groups",
            year=y,
            path=f"groups/导师分组_{tag}" + (".csv" if g_csv else ".xlsx"),
            fmt="csv" if g_csv else "xlsx",
            encoding="gb18030" if g_csv else None,
        ),
    ]


def _survey_specs(y: int, yi: int, tag: str, clean: bool, level: str) -> list[dict]:
    """Needs survey, both assessment waves, both satisfaction surveys and both exam sheets of
    one year, each export form in turn (按文本 xlsx, 按序号 GBK CSV, 腾讯问卷 CSV)."""
    n_form = "wjx_number" if (not clean and yi % 2 == 1 and level == "primary") else "wjx_text"
    specs = [
        dict(
            kind="needs_survey",
            year=y,
            form=n_form,
            path=f"surveys/成长需求问卷_{tag}" + (".csv" if n_form == "wjx_number" else ".xlsx"),
            fmt="csv" if n_form == "wjx_number" else "xlsx",
            encoding="gb18030" if n_form == "wjx_number" else None,
        )
    ]
    for wi, wave in enumerate(("pre", "post")):
        k = (2 * yi + wi) % 3
        form = "wjx_text" if clean else ("wjx_text", "wjx_number", "tencent")[k]
        fmt = "xlsx" if form == "wjx_text" else "csv"
        enc = {"wjx_number": "gb18030", "tencent": "utf-8-sig"}.get(form)
        wz = "前测" if wave == "pre" else "后测"
        specs.append(
            dict(
                kind="assessment",
                year=y,
                wave=wave,
                form=form,
                fmt=fmt,
                encoding=enc,
                path=f"surveys/发展评估_{tag}_{wz}.{fmt}",
            )
        )
    for term in (1, 2):
        form = "wjx_number" if (not clean and (yi + term) % 4 == 0) else "wjx_text"
        fmt = "xlsx" if form == "wjx_text" else "csv"
        specs.append(
            dict(
                kind="satisfaction",
                year=y,
                term=term,
                form=form,
                fmt=fmt,
                encoding="gb18030" if fmt == "csv" else None,
                path=f"surveys/满意度调查_{tag}_第{term}学期.{fmt}",
            )
        )
        specs.append(
            dict(
                kind="exams",
                year=y,
                term=term,
                fmt="xlsx",
                path=f"exams/成绩单_{tag}_第{term}学期.xlsx",
            )
        )
    return specs


def _record_specs(y: int, tag: str, clean: bool, mood_chart: bool) -> list[dict]:
    """The mentors' log, rewards and (primary) the mood chart of one year."""
    specs = [
        dict(
            kind="activities",
            year=y,
            fmt="csv",
            encoding="utf-8-sig",
            path=f"records/导师工作记录_{tag}.csv",
        ),
        dict(kind="rewards", year=y, fmt="xlsx", path=f"records/奖惩记录_{tag}.xlsx"),
    ]
    if mood_chart:
        enc = "utf-8-sig" if clean else "gb18030"
        specs.append(
            dict(kind="mood", year=y, fmt="csv", encoding=enc, path=f"records/心情晴雨表_{tag}.csv")
        )
    return specs


# ----------------------------------------------------------------------------- the folder


_BUILDERS = {
    "students": lambda st, s, m, ids: students_file(st, s, m),
    "staff": lambda st, s, m, ids: staff_file(st, s, m),
    "groups": groups_file,
    "needs_survey": needs_file,
    "assessment": assessment_file,
    "satisfaction": satisfaction_file,
    "exams": exams_file,
    "activities": activities_file,
    "rewards": rewards_file,
    "mood": mood_file,
}


@dataclass
class _Job:
    study: SynthStudy
    out: Path
    clean: bool
    ids: Identities
    truth_tables: bool = True

    def __call__(self, k_spec) -> pd.DataFrame:
        k, spec = k_spec
        if spec["kind"] == "truth":
            _write_truth(self.study, self.out / "truth", self.truth_tables)
            return pd.DataFrame()
        # one random stream per file: a file's defects do not depend on any other file
        m = Messer(
            np.random.default_rng(np.random.SeedSequence([self.study.params.seed, 7919, k])),
            self.clean,
        )
        rows: dict = {}
        write_file(self.out, _BUILDERS[spec["kind"]](self.study, spec, m, self.ids), m, rows)
        return m.frame(rows)


_JOB: _Job | None = None


def _run_in_child(k_spec):
    return _JOB(k_spec)


def _child_signals() -> None:
    """A forked writer dies on SIGTERM (the pool's ``terminate``) and leaves Ctrl-C to the
    parent: it must not inherit the command line's handlers, which turn SIGTERM into an
    exception and then ignore further signals (a worker blocked on the pool's queue lock
    then outlived ``terminate`` and the parent waited for it for ever)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_DFL)


def _run_jobs(job: _Job, specs: list[dict], workers: int | None, progress) -> list[pd.DataFrame]:
    """Build and write every file, in parallel when there is more than one core."""

    workers = workers or min(2, os.cpu_count() or 1)
    items = list(enumerate(specs))
    # the largest files first, so the two workers finish together
    weight = {
        "truth": 10,
        "activities": 9,
        "mood": 8,
        "assessment": 7,
        "exams": 6,
        "satisfaction": 5,
        "needs_survey": 4,
    }
    items.sort(key=lambda ks: -weight.get(ks[1]["kind"], 1))
    results: dict[int, pd.DataFrame] = {}
    if workers <= 1 or len(items) < 4 or "fork" not in mp.get_all_start_methods():
        for k, spec in items:
            results[k] = job((k, spec))
            if progress:
                progress(spec["path"])
    else:
        global _JOB
        _JOB = job  # inherited by the forked workers, never pickled
        try:
            with mp.get_context("fork").Pool(workers, initializer=_child_signals) as pool:
                for (k, spec), res in zip(items, pool.imap(_run_in_child, items), strict=True):
                    results[k] = res
                    if progress:
                        progress(spec["path"])
        finally:
            _JOB = None
    return [results[k] for k in range(len(specs))]


def _source_entry(spec: dict, level: str) -> dict:
    src = {"kind": spec["kind"], "path": spec["path"]}
    for key in ("year", "term", "wave"):
        if key in spec:
            src[key] = spec[key]
    if spec.get("encoding") and spec["fmt"] == "csv":
        src["encoding"] = spec["encoding"]
    if spec["kind"] in ("assessment", "needs_survey"):
        src["codebook"] = f"{'assessment' if spec['kind'] == 'assessment' else 'needs'}_{level}"
    return src


def write_study(
    study: SynthStudy,
    out_dir: str | Path,
    *,
    clean: bool = False,
    overwrite: bool = False,
    truth_tables: bool = True,
    progress=None,
    workers: int | None = None,
) -> Path:
    """Write ``study`` as a raw study folder with ``study.toml`` and ``truth/``.

    Parameters
    ----------
    study : SynthStudy
        From :func:`mentorlib.synth.generate`.
    out_dir : path
        The study folder to create. An existing non-empty folder is an error unless
        ``overwrite`` (then it is replaced).
    clean : bool
        Write without injected defects, in one plain form per source (UTF-8, 问卷星 按文本).
    truth_tables : bool
        Also write the canonical answer key, ``truth/canonical/*.parquet``.
    progress : callable, optional
        Called with a short label after each file (for a progress bar).
    workers : int, optional
        Processes that write files in parallel (default: up to 2). Each file draws its defects
        from its own random stream, so the output does not depend on the number of workers.
    """
    final = Path(out_dir)
    if final.is_dir() and any(final.iterdir()) and not overwrite:
        raise FileExistsError(f"{final}: folder exists and is not empty (use --overwrite)")
    # --overwrite replaces only a synthetic study mentorlib wrote (study.toml saying synthetic
    # beside truth/params.json is its marker); built beside, then swapped in
    dest = check_output_dir(final, kind="synth", what="synth folder")
    out = make_temp_dir(dest.parent, "synth")
    try:
        _write_study_into(study, out, dest.name, clean, truth_tables, progress, workers)
        replace_dir(out, dest)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return final


def _write_study_into(
    study: SynthStudy, out: Path, name: str, clean: bool, truth_tables: bool, progress, workers
) -> None:
    (out / "truth").mkdir()
    ids = Identities(study.tables["students"])
    ROSTER_NAMES.clear()
    ROSTER_NAMES.update(study.tables["students"]["name"].astype(str))
    specs = plan_files(study, clean)
    job = _Job(study, out, clean, ids, truth_tables)
    manifests = _run_jobs(job, [*specs, {"kind": "truth", "path": "truth/"}], workers, progress)[
        :-1
    ]
    sources = [_source_entry(spec, study.params.level) for spec in specs]
    p = study.params
    toml = {
        "study": {
            "name": name,
            "school": study.school_name,
            "level": p.level,
            "years": p.years,
            "synthetic": True,
            "generator": generator_command(p, clean),
        },
        "sources": sources,
    }
    (out / "study.toml").write_text(
        "# Study folder (input contract: DESIGN.md). Synthetic: no real student data.\n"
        + tomli_w.dumps(toml),
        encoding="utf-8",
    )
    parts = [x for x in manifests if len(x)]
    manifest = (
        pd.concat(parts, ignore_index=True)
        if parts
        else Messer(np.random.default_rng(0), True).frame({})
    )
    tdir = out / "truth"
    manifest.to_parquet(tdir / "manifest.parquet", index=False)
    kinds = manifest.groupby(["kind", "expected"], dropna=False).size().rename("n").reset_index()
    neutralise_cells(kinds).to_csv(tdir / "manifest_summary.csv", index=False)


def _write_truth(study: SynthStudy, tdir: Path, tables: bool):
    """Everything of truth/ but the manifest (written once every file is done)."""
    tdir.mkdir(parents=True, exist_ok=True)
    (tdir / "params.json").write_text(
        json.dumps(study.params.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    for k, v in study.truth.items():
        v.to_parquet(tdir / f"{k}.parquet", index=False)
    readme = """# truth/ (what nobody observes)
- params.json: the generating parameters (mentorlib.synth.SynthParams)
- latent.parquet: theta_pre, theta_post, delta, improved (delta > improve_threshold) per student,
  year and dimension; the term-1 mentor, needs-strength fit, talks per month
- att.parquet: the true effect of being mentored on the mentored (ATT) per year and dimension:
  n_mentored, att_latent (mean mentoring term, latent units), att_sd (in SDs of the year's
  pre-test latent), p_improved / p_improved_untreated (share of the mentored whose true change
  exceeds the rulebook's true_delta pre-test SDs with / without their mentoring term), att_rate
  (the difference); dimension "any": at least k_dimensions dimensions
- case_conferences.parquet (middle school): the mentees each grade group's case conference
  discussed, one row each (year, student_id, grade, date); the activity log names them too
- mentor_effects.parquet: true mentor effect per mentor, year and dimension (latent SD units);
  the placebo outcome (height) has no mentor effect by construction
- mentors.parquet: latent quality and compliance rates of every staff member
- reliability.parquet: population reliability of each dimension's mean score, per year and wave
- items.parquet: graded-response parameters of every item
- manifest.parquet: every injected defect (file, sheet, row, column, kind, raw, true_value, expected)
- canonical/: the canonical tables a perfect cleaner would produce (the answer key)
"""
    (tdir / "README.md").write_text(readme, encoding="utf-8")
    if tables:
        cdir = tdir / "canonical"
        cdir.mkdir(exist_ok=True)
        for k, v in canonical_tables(study).items():
            v.to_parquet(cdir / f"{k}.parquet", index=False)


def canonical_tables(study: SynthStudy) -> dict[str, pd.DataFrame]:
    """The canonical tables of DESIGN.md from a generated study (the cleaner's answer key).

    ``assessment_items`` is long (student_id, year, wave, dimension, item, value), in the order
    of the wide table: by year, wave and submission, then item.
    """
    t = dict(study.tables)
    wide = t.pop("assessment_wide")
    cb = load_codebook(f"assessment_{study.params.level}")
    items = list(cb.items)
    names = [f.var for f in items]
    n, k = len(wide), len(items)
    vals = wide[names].to_numpy(dtype=float).ravel()  # row-major: each student's items together
    sid_codes, sid_cats = pd.factorize(wide["student_id"].astype(str))
    wave = pd.Categorical(wide["wave"].astype(str), categories=["pre", "post"])
    dims = list(cb.dimensions)
    t["assessment_items"] = pd.DataFrame(
        {
            "student_id": pd.Categorical.from_codes(
                np.repeat(sid_codes, k), categories=pd.Index(sid_cats)
            ),
            "year": np.repeat(wide["year"].to_numpy(), k),
            "wave": pd.Categorical.from_codes(
                np.repeat(wave.codes, k), categories=pd.Index(["pre", "post"])
            ),
            "dimension": pd.Categorical.from_codes(
                np.tile([dims.index(str(f.dimension)) for f in items], n), categories=pd.Index(dims)
            ),
            "item": pd.Categorical.from_codes(np.tile(np.arange(k), n), categories=pd.Index(names)),
            "value": pd.array(np.where(np.isnan(vals), 0, vals).astype(np.int64), dtype="Int64"),
        }
    )
    t["assessment_items"].loc[np.isnan(vals), "value"] = pd.NA
    return {k: conform(k, v) if k in CONTRACT else v for k, v in t.items()}
