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


def overview(study_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Tidy tables describing a synthetic study folder (for the overview notebook).

    Returns
    -------
    dict
        ``sources``: kind, path, year, term, wave, encoding, size_kb per raw file;
        ``defects``: injected defects by kind and expected outcome;
        ``reliability``: true population reliability by dimension, year and wave;
        ``improvement``: true share of students improving by year and dimension, and the share
        improving in at least one dimension;
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
    improvement = by_dim.assign(any_dimension=any_dim)
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
