"""District analysis from a district run's outputs: funnel plot, school effects, compliance.

- :func:`student_outcomes`: each school's programme students (those with a term-1 mentor) with
  the workbench's one "improved" rule (:func:`mentorlib.progress.improved_students`), read from
  the schools' processed folders of ``OUT/schools/``: the rows the funnel and the multilevel
  model use (student level: never written, never shown).
- :func:`funnel_limits`, :func:`funnel_table`: each school's certified share against its size,
  with exact binomial control limits around the district rate (Spiegelhalter 2005, Stat Med
  24:1185, "Funnel plots for comparing institutional performance", appendix A.1.1: the
  binomial quantile with interpolation between the attainable proportions).
- :func:`compliance_table`: each school's compliance indicators from its
  ``results/<id>/compliance_<year>.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..io.open import open_study
from ..progress import improved_students
from ..progress.verdict import mentor_term1
from .messages import one_line

#: The funnel's control limits (two-sided coverage): about 2 and 3 standard errors, the usual
#: "warning" and "action" limits of Spiegelhalter (2005).
FUNNEL_LEVELS = (0.95, 0.998)


def funnel_limits(n, p0: float, coverage: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper control limits of a proportion over ``n`` trials around ``p0``.

    For each tail probability ``p`` (``(1 - coverage) / 2`` and its complement), ``r_p`` is the
    ``p`` quantile of Binomial(n, p0), ``a = (F(r_p) - p) / (F(r_p) - F(r_p - 1))`` and the
    limit is ``(r_p - a) / n`` (Spiegelhalter 2005, appendix A.1.1).

    >>> lo, hi = funnel_limits([100], 0.5, 0.95)
    >>> round(float(lo[0]), 3), round(float(hi[0]), 3)
    (0.397, 0.593)
    """
    n = np.asarray(n, dtype=float)
    out = []
    for p in ((1 - coverage) / 2, (1 + coverage) / 2):
        r = stats.binom.ppf(p, n, p0)
        f_r = stats.binom.cdf(r, n, p0)
        f_below = stats.binom.cdf(r - 1, n, p0)
        step = np.where(f_r > f_below, f_r - f_below, 1.0)
        a = (f_r - p) / step
        out.append(np.clip((r - a) / np.where(n > 0, n, np.nan), 0.0, 1.0))
    return out[0], out[1]


def school_rates(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per school: evaluable programme students ``n``, improved ``successes``, ``rate``."""
    d = outcomes.loc[outcomes["improved"].notna()]
    g = d.groupby("school_id", sort=True)["improved"]
    t = g.agg(n="size", successes="sum").reset_index()
    t["successes"] = t["successes"].round().astype(int)
    t["rate"] = t["successes"] / t["n"]
    return t


def funnel_table(rates: pd.DataFrame, levels=FUNNEL_LEVELS) -> tuple[pd.DataFrame, float]:
    """Each school's rate with the control limits at its size, and the district rate.

    Returns ``(table, p0)``: ``rates`` plus ``lo_<pct>, hi_<pct>`` for each level (``pct`` as
    ``95``, ``99.8``) and ``position``: ``above`` / ``below`` (outside the widest limits),
    ``above_warning`` / ``below_warning`` (outside the narrowest only) or ``within``.
    """
    p0 = float(rates["successes"].sum() / rates["n"].sum()) if len(rates) else float("nan")
    t = rates.copy()
    names = []
    for lev in levels:
        tag = f"{100 * lev:g}"
        t[f"lo_{tag}"], t[f"hi_{tag}"] = funnel_limits(t["n"].to_numpy(), p0, lev)
        names.append(tag)
    pos = np.full(len(t), "within", dtype=object)
    for tag, suffix in ((names[0], "_warning"), (names[-1], "")):
        pos = np.where(t["rate"] > t[f"hi_{tag}"], "above" + suffix, pos)
        pos = np.where(t["rate"] < t[f"lo_{tag}"], "below" + suffix, pos)
    t["position"] = pos
    return t, p0


OUTCOME_COLUMNS = ["school_id", "year", "student_id", "mentor_id", "improved"]


def _school_outcomes(school_id: str, processed: Path, year: int | None) -> pd.DataFrame:
    P = open_study(processed)
    y = P.report_year(year)
    imp = improved_students(P, y)
    mentors = mentor_term1(P["assignments"] if "assignments" in P else None, y)
    out = imp.join(mentors.rename("mentor_id"), how="inner").reset_index()
    return out.assign(school_id=school_id, year=y)[OUTCOME_COLUMNS]


def school_outcomes(school_id: str, processed: Path, year: int | None) -> pd.DataFrame:
    """One school's programme students (term-1 mentor) with ``improved`` (1/0/NaN): the
    columns :data:`OUTCOME_COLUMNS`; a school whose outcome cannot be computed (no assessment,
    no assignment, or a bug said as one) gives no row, its id and one-line reason in
    ``attrs["school_id"]`` and ``attrs["reason"]``."""
    try:
        return _school_outcomes(school_id, processed, year)
    except Exception as e:  # a bug too: this school has no outcome, the others go on
        msg = one_line(e)[:200]
        out = pd.DataFrame(columns=OUTCOME_COLUMNS)
        out.attrs["school_id"], out.attrs["reason"] = school_id, msg
        return out


def combine_outcomes(parts: list[pd.DataFrame]) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """The schools' outcome frames as one, and ``(school_id, reason)`` of the schools
    without any."""
    missing = [(p.attrs["school_id"], p.attrs["reason"]) for p in parts if p.attrs.get("reason")]
    rows = [p for p in parts if len(p)]
    frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=OUTCOME_COLUMNS)
    return frame, missing


def student_outcomes(out_dir: str | Path, school_ids, year: int | None = None):
    """:func:`school_outcomes` of each school of a district output, in this process.

    Returns ``(frame, missing)``: ``school_id, year, student_id, mentor_id, improved``, and
    ``(school_id, reason)`` of each school without outcomes.
    (``mentorlib district`` computes the same on the cluster, one task per school.)
    """
    return combine_outcomes(
        [school_outcomes(sid, Path(out_dir) / "schools" / sid, year) for sid in school_ids]
    )


def compliance_table(out_dir: str | Path, school_ids) -> pd.DataFrame:
    """Long: ``school_id, indicator, label_zh, label_en, value, target, passed, n`` from each
    school's ``results/<id>/compliance_<year>.json`` (the latest year there)."""
    rows = []
    for sid in school_ids:
        files = sorted((Path(out_dir) / "results" / sid).glob("compliance_*.json"))
        if not files:
            continue
        data = json.loads(files[-1].read_text(encoding="utf-8"))
        for r in data.get("indicators", []):
            keep = ("indicator", "label_zh", "label_en", "value", "target", "passed", "n")
            rows.append({"school_id": sid, **{k: r.get(k) for k in keep}})
    cols = ["school_id", "indicator", "label_zh", "label_en", "value", "target", "passed", "n"]
    return pd.DataFrame(rows, columns=cols)
