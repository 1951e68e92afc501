"""Read a synthetic study's ``truth/`` back: what the generator knows and nobody observes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..io.study import load_config
from ..labels import Lang
from ..rules import rulebook


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


def att_overview(att: pd.DataFrame) -> pd.DataFrame:
    """The generator's true effect of being mentored on the mentored (``truth["att"]``), a row
    per year: ``n_mentored``; for the ``"any"`` row (true change above ``true_delta`` pre-test
    SDs in at least ``k_dimensions`` dimensions) the share improving with their mentoring
    (``p_improved``), without it (``p_improved_untreated``) and the difference (``att_rate``);
    then ``att_sd_<dimension>``, the ATT per dimension in pre-test SDs.

    >>> att = pd.DataFrame({"year": [1, 1], "dimension": ["x", "any"], "n_mentored": [4, 4],
    ...     "att_latent": [0.2, None], "att_sd": [0.25, None], "p_improved": [0.5, 0.75],
    ...     "p_improved_untreated": [0.25, 0.5], "att_rate": [0.25, 0.25]})
    >>> att_overview(att).loc[1].tolist()
    [4.0, 0.75, 0.5, 0.25, 0.25]
    """
    cols = ["n_mentored", "p_improved", "p_improved_untreated", "att_rate"]
    anyrow = att.loc[att["dimension"] == "any"].set_index("year")[cols]
    dims = att.loc[att["dimension"] != "any"]
    sd = dims.pivot_table(index="year", columns="dimension", values="att_sd", observed=True)
    sd = sd[list(dict.fromkeys(dims["dimension"].astype(str)))]  # the generator's order
    return anyrow.join(sd.add_prefix("att_sd_")).round(3)


def att_sentence(truth: dict, lang: str = "zh", year: int | None = None) -> str:
    """One sentence on the generator's ATT of ``year`` (default the last), Chinese or English.

    ``truth``: :func:`load_truth` (``att`` and ``params``; the level's rulebook gives
    ``k_dimensions`` and ``true_delta``, the definition :func:`att_table
    <mentorlib.synth.outcomes.att_table>` used)."""
    att = truth["att"]
    rules = rulebook(str(truth["params"]["level"]))
    y = int(att["year"].max()) if year is None else int(year)
    a = att.loc[att["year"] == y]
    if not len(a):
        raise InputError(f"the truth has no ATT for {y}")
    r = a.loc[a["dimension"] == "any"].iloc[0]
    sd = a.loc[a["dimension"] != "any", "att_sd"]
    n, k, d = int(r["n_mentored"]), rules.k_dimensions, rules.true_delta
    p1, p0, diff = r["p_improved"], r["p_improved_untreated"], r["att_rate"] * 100
    t = Lang(lang)
    return t(
        f"{y}–{y + 1}学年，{n}名受导学生中真实变化在至少{k}个维度超过{d:g}个前测标准差的比例为"
        f"{p1:.1%}，若未受导则为{p0:.1%}：受导的真实效应（ATT）为{diff:+.1f}个百分点；"
        f"各维度的真实效应为{sd.min():+.2f}至{sd.max():+.2f}个标准差。",
        f"In {y}-{y + 1}, {p1:.1%} of the {n} mentored students truly changed by more than "
        f"{d:g} pre-test SD in at least {k} dimension(s), against {p0:.1%} had they not been "
        f"mentored: the true effect of mentoring on the mentored (ATT) is {diff:+.1f} "
        f"percentage points; {sd.min():+.2f} to {sd.max():+.2f} SD by dimension.",
    )
