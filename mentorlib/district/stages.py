"""The per-school stages after cleaning: the same library functions the single-school command
line calls (``progress_report``, ``mentor_report``, ``compliance_report``); each stage's public
JSON is written, its headline numbers go into the school's summary row."""

from __future__ import annotations

from pathlib import Path

from ..compliance import compliance_report
from ..effectiveness import mentor_report
from ..errors import is_user_error
from ..io.open import open_study
from ..outputs import atomic_write
from ..progress import progress_report
from ..results import to_json
from .analysis import school_outcomes
from .messages import one_line

__all__ = ["run_stages", "school_outcomes"]


def run_stages(
    processed: Path, results: Path, row: dict, later, year, seed: int, true_share: bool = True
) -> None:
    """progress, mentors, compliance: each stage's status in ``row`` (``ok`` or its one-line
    reason), its headline numbers beside, its public JSON in ``results``. ``true_share=False``:
    the progress stage gives the certified verdict only (no estimated true share, the slow
    part). A stage that fails, by the data or by a bug (said as an internal error), fails
    alone: the school's cleaning and its other stages are kept."""
    try:
        P = open_study(processed)
        y = P.report_year(year)
    except Exception as e:
        row |= {stage: _reason(e) for stage in later}
        return
    row["year"] = y
    results.mkdir(parents=True, exist_ok=True)
    for stage in later:
        try:
            rep, numbers = _STAGE[stage](P, y, seed, true_share)
            with atomic_write(results / f"{stage}_{y}.json", "w", encoding="utf-8") as f:
                f.write(to_json(rep, public=True) + "\n")
        except Exception as e:
            row[stage] = _reason(e)
            continue
        row[stage] = "ok"
        row |= numbers


#: The verdict column of a school whose rules set no numeric target (``show_target`` off).
NO_TARGET = "no target"


def _reason(exc: Exception) -> str:
    """A stage's failure as one line: the user's to fix as it is, a bug said as one."""
    if is_user_error(exc):
        return one_line(exc)
    return f"internal error ({one_line(exc)}); please report it"


def _progress(P, year: int, seed: int, true_share: bool = True):
    rep = progress_report(P, year, seed=seed, true_share=true_share)
    s = rep.summary_dict(public=True)
    ts = s["estimated_true_share"] or {}
    return rep, {
        "n_evaluable": s["n_evaluable"],
        "certified_share": s["proportion"],
        "certified_ci_low": s["ci_low"],
        "certified_ci_high": s["ci_high"],
        # a level whose plan sets no numeric target (the middle school) has no verdict on one
        "verdict": s["verdict"] if P.rules.show_target else NO_TARGET,
        "true_share_n": (rep.true_share or {}).get("n_students"),
        "true_share": ts.get("estimate"),
        "true_share_ci_low": ts.get("ci_low"),
        "true_share_ci_high": ts.get("ci_high"),
    }


def _mentors(P, year: int, seed: int, true_share: bool = True):
    rep = mentor_report(P, year, seed=seed)
    eff = rep.effects
    n = eff["mentor_id"].nunique() if "mentor_id" in eff.columns else 0
    return rep, {"mentors_scored": int(n)}


def _compliance(P, year: int, seed: int, true_share: bool = True):
    rep = compliance_report(P, year)
    ind = rep.indicators
    judged = ind["passed"].notna()
    return rep, {
        "compliance_met": int(ind.loc[judged, "passed"].astype(bool).sum()),
        "compliance_judged": int(judged.sum()),
    }


_STAGE = {"progress": _progress, "mentors": _mentors, "compliance": _compliance}
