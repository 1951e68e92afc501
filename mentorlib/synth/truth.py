"""Read a synthetic study's ``truth/`` back: what the generator knows and nobody observes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..io.study import load_config


def load_truth(study_dir: str | Path) -> dict:
    """Every table of ``truth/`` (parquet) plus ``params`` (dict)."""
    t = Path(study_dir) / "truth"
    if not t.is_dir():
        raise FileNotFoundError(f"{study_dir}: no truth/ folder (is this a synthetic study?)")
    out: dict = {p.stem: pd.read_parquet(p) for p in sorted(t.glob("*.parquet"))}
    out["params"] = json.loads((t / "params.json").read_text(encoding="utf-8"))
    return out


def true_share_in_pre_sd(latent: pd.DataFrame, delta: float, k: int = 1) -> pd.Series:
    """The workbench's estimand from the generator's latents, per year: the share of students
    whose true change exceeds ``delta`` SDs of that year's pre-test population in at least
    ``k`` dimensions (:mod:`mentorlib.progress.true_share`).

    The generator's own flag (``improved``: change above ``improve_threshold`` on its latent
    scale) counts in generator units; the pre-test SD grows over the years of a study (the
    students' growth differs), so from the second year the two differ by a few points.

    >>> lat = pd.DataFrame({"year": [1] * 4, "student_id": list("abcd"), "dimension": ["x"] * 4,
    ...                     "theta_pre": [-1.0, 1.0, -1.0, 1.0], "delta": [0.0, 0.5, 1.2, 2.0]})
    >>> float(true_share_in_pre_sd(lat, 0.5).loc[1])  # pre SD = 1.155: 0.577 is the threshold
    0.5
    """
    sd = latent.groupby(["year", "dimension"], observed=True)["theta_pre"].transform("std")
    above = latent.assign(above=latent["delta"] > delta * sd)
    n = above.groupby(["year", "student_id"], observed=True)["above"].sum()
    return (n >= k).groupby(level="year").mean().rename("true_share")


def overview(study_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Tidy tables describing a synthetic study folder (for the overview notebook).

    Returns
    -------
    dict
        ``sources``: kind, path, year, term, wave, encoding, size_kb per raw file;
        ``defects``: injected defects by kind and expected outcome;
        ``reliability``: true population reliability by dimension, year and wave;
        ``improvement``: true share of students improving by year and dimension, and the share
        improving in at least one dimension (generator units: change above
        ``improve_threshold``), and ``any_dimension_pre_sd``: the workbench's estimand, change
        above ``improve_threshold`` SDs of the year's pre-test population
        (:func:`true_share_in_pre_sd`);
        ``mentor_sd``: SD of the true mentor effects by dimension and year.
    """
    cfg = load_config(study_dir)
    truth = load_truth(study_dir)
    src = pd.DataFrame(
        [
            {
                "kind": s.kind,
                "path": s.path,
                "year": s.year,
                "term": s.term,
                "wave": s.wave,
                "encoding": s.encoding or "",
                "size_kb": round((cfg.root / s.path).stat().st_size / 1024, 1),
            }
            for s in cfg.sources
        ]
    )
    man = truth["manifest"]
    defects = (
        man.groupby(["kind", "expected"], observed=True)
        .size()
        .rename("n")
        .reset_index()
        .sort_values("n", ascending=False, ignore_index=True)
    )
    rel = truth["reliability"].pivot_table(
        index="dimension", columns=["year", "wave"], values="reliability"
    )
    lat = truth["latent"]
    by_dim = lat.pivot_table(index="year", columns="dimension", values="improved", observed=True)
    any_dim = (
        lat.groupby(["year", "student_id"], observed=True)["improved"]
        .any()
        .groupby(level="year")
        .mean()
    )
    improvement = by_dim.assign(
        any_dimension=any_dim,
        any_dimension_pre_sd=true_share_in_pre_sd(lat, float(truth["params"]["improve_threshold"])),
    )
    mentor_sd = truth["mentor_effects"].pivot_table(
        index="dimension", columns="year", values="effect", aggfunc="std", observed=True
    )
    return {
        "sources": src,
        "defects": defects,
        "reliability": rel.round(3),
        "improvement": improvement.round(3),
        "mentor_sd": mentor_sd.round(3),
    }
