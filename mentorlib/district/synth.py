"""A synthetic district: N schools of varied sizes, both levels, each with a school effect.

Every school is the single-school generator (:func:`mentorlib.synth.generate`) with its own
seed, size and level, and a school effect: one normal draw (SD ``school_sd``) added to every
dimension of the programme effect (``SynthParams.programme_effect``). The district's truth,
``truth/schools.parquet`` (and ``.csv``), holds one row per school and year: ``school_id,
school, level, n_students, seed, school_effect, programme_effect`` (the school's, mean over
dimensions), ``year, roster_n`` and ``true_share``: the share of the progress roster (primary:
every student; middle: the nominated mentees) whose true change exceeds the rulebook's
``true_delta`` pre-test SDs in at least ``k_dimensions`` dimensions
(:func:`mentorlib.synth.truth.true_share_in_pre_sd`).
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import tomli_w

from ..errors import InputError
from ..outputs import (
    check_output_dir,
    make_temp_dir,
    mark_output_dir,
    neutralise_cells,
    replace_dir,
)
from ..rules import rulebook
from ..synth import SynthParams, generate, write_study
from ..synth.truth import true_share_in_pre_sd
from .config import DISTRICT_FILE

MIN_SCHOOL, MAX_SCHOOL = 200, 2500
#: Share of primary schools in a synthetic district.
PRIMARY_SHARE = 0.6


def school_sizes(n: int, total: int | None, rng: np.random.Generator) -> np.ndarray:
    """``n`` school sizes within 200-2,500 (right-skewed, as districts are), summing to
    ``total`` when given.

    >>> s = school_sizes(5, 4000, np.random.default_rng(0))
    >>> int(s.sum()), bool(s.min() >= 200 and s.max() <= 2500)
    (4000, True)
    """
    if n < 1:
        raise InputError("--district needs at least one school")
    if total is not None and not MIN_SCHOOL * n <= total <= MAX_SCHOOL * n:
        raise InputError(
            f"--students {total} for {n} schools: give a district total from "
            f"{MIN_SCHOOL * n:,} to {MAX_SCHOOL * n:,} (each school has 200-2,500 students)"
        )
    w = rng.lognormal(np.log(800), 0.6, n)
    if total is None:
        return np.clip(np.round(w), MIN_SCHOOL, MAX_SCHOOL).astype(int)
    sizes = np.full(n, float(MIN_SCHOOL))
    free = np.ones(n, dtype=bool)
    for _ in range(n + 1):  # share what is left among the schools not at a bound
        rest = total - sizes[~free].sum()
        sizes[free] = rest * w[free] / w[free].sum()
        over, under = sizes > MAX_SCHOOL, sizes < MIN_SCHOOL
        if not (over | under).any():
            break
        sizes[over], sizes[under] = MAX_SCHOOL, MIN_SCHOOL
        free &= ~(over | under)
    out = np.floor(sizes).astype(int)
    order = np.argsort(-(sizes - out))  # the largest remainders get the last students
    for i in order[: total - int(out.sum())]:
        out[i] += 1
    return out


def district_params(
    n: int, total: int | None, *, years: int = 3, seed: int = 0, school_sd: float = 0.05
) -> list[tuple[str, SynthParams, float]]:
    """(school_id, generator parameters, school effect) of every school."""
    rng = np.random.default_rng([seed, n])
    sizes = school_sizes(n, total, rng)
    n_primary = max(1, round(PRIMARY_SHARE * n)) if n > 1 else 1
    n_primary = min(n_primary, n - 1) if n > 1 else 1
    levels = rng.permutation(["primary"] * n_primary + ["middle"] * (n - n_primary))
    effects = rng.normal(0.0, school_sd, n)
    base = SynthParams()
    width = max(2, len(str(n)))
    out = []
    for i in range(n):
        shifted = tuple(round(float(e) + float(effects[i]), 6) for e in base.programme_effect)
        p = dataclasses.replace(
            base,
            level=str(levels[i]),
            n_students=int(sizes[i]),
            n_years=years,
            seed=seed * 1000 + i + 1,
            programme_effect=shifted,
        )
        out.append((f"school_{i + 1:0{width}d}", p, float(effects[i])))
    return out


def synth_district(
    out_dir: str | Path,
    n: int,
    *,
    students: int | None = None,
    years: int = 3,
    seed: int = 0,
    clean: bool = False,
    overwrite: bool = False,
    progress: Callable[[str], object] | None = None,
) -> Path:
    """Write a synthetic district folder (``district.toml``, one synthetic study per school,
    ``truth/schools.parquet``); return it. ``students``: the district's total."""
    final = Path(out_dir)
    if final.is_dir() and any(final.iterdir()) and not overwrite:
        raise InputError(f"{final}: folder exists and is not empty (use --overwrite)")
    dest = check_output_dir(final, kind="district_synth", what="synth folder")
    plan = district_params(n, students, years=years, seed=seed)  # checked before writing
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temp_dir(dest.parent, "district-synth")
    try:
        truth = []
        for sid, p, effect in plan:
            study = generate(p)
            write_study(study, tmp / sid, clean=clean, truth_tables=False)
            truth.append(_truth_rows(sid, study, p, effect))
            if progress is not None:
                progress(sid)
        (tmp / "truth").mkdir()
        t = pd.concat(truth, ignore_index=True)
        t.to_parquet(tmp / "truth" / "schools.parquet", index=False)
        neutralise_cells(t).to_csv(tmp / "truth" / "schools.csv", index=False)
        toml = {"district": {"name": dest.name, "synthetic": True, "pseudonym": "school"}}
        (tmp / DISTRICT_FILE).write_text(
            "# District folder: one study folder per school (found automatically).\n"
            "# Synthetic: no real student data; the truth is in truth/schools.parquet.\n"
            + tomli_w.dumps(toml),
            encoding="utf-8",
        )
        mark_output_dir(tmp, "district_synth")
        replace_dir(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _truth_rows(sid: str, study, p: SynthParams, effect: float) -> pd.DataFrame:
    """The school's truth: its effect and the true share of its progress roster per year."""
    rules = rulebook(p.level)
    latent = study.truth["latent"]
    s = study.tables["students"]
    if p.level == "primary":
        share = true_share_in_pre_sd(latent, rules.true_delta, k=rules.k_dimensions)
        n_roster = latent.groupby("year")["student_id"].nunique()
    else:  # the progress roster: the nominated mentees (SDs of the whole year's pre-test)
        sd = latent.groupby(["year", "dimension"])["theta_pre"].transform("std")
        above = latent.assign(above=latent["delta"] > rules.true_delta * sd)
        hit = above.groupby(["year", "student_id"])["above"].sum() >= rules.k_dimensions
        mentees = s.loc[s["mentee"].astype(bool)].set_index(["year", "student_id"]).index
        hit = hit.loc[hit.index.isin(mentees)]
        share = hit.groupby(level="year").mean()
        n_roster = hit.groupby(level="year").size()
    return pd.DataFrame(
        {
            "school_id": sid,
            "school": study.school_name,
            "level": p.level,
            "n_students": p.n_students,
            "seed": p.seed,
            "school_effect": effect,
            "programme_effect": float(np.mean(p.programme_effect)),
            "year": share.index.astype(int),
            "roster_n": n_roster.reindex(share.index).to_numpy(),
            "true_share": share.to_numpy(),
        }
    )
