"""The pilot review's paragraph on the assessment's design: what the planner says it would take
for the reliable-change rule, and for the estimated true share, to show the target met (issue
14 item 7).

Every number comes from :func:`mentorlib.progress.plan.plan_target` run on the study itself
(its students, items, categories and pre-wave alphas; the rulebook's target, ``true_delta``,
``k_dimensions``, interval and alpha), seeded with the review's seed; none is typed here.
"""

from __future__ import annotations

import weakref
from typing import Any

from ..errors import InputError
from ..labels import Lang
from ..labels_plan import PLAN_LABELS
from ..progress.plan import PlanResult, plan_target
from .analyses import PilotAnalyses
from .document import Para

__all__ = ["plan_paragraph", "review_plan"]

#: Simulation sizes of the review's planner run (fewer than the command's defaults: the review
#: runs in a pipeline; 6 schools fitted by the item model take about 30 s at 1,200 students).
REVIEW_SIMS: dict[str, Any] = {"n_sims": 100, "n_true_sims": 6, "n_design_sims": 60}

#: One planner run per analyses object (the review is drafted in several languages/versions).
_RUNS: dict[int, tuple[weakref.ref, PlanResult | Exception]] = {}


def review_plan(p: PilotAnalyses) -> PlanResult | Exception:
    """The planner on the review's study and last year (cached per analyses object), or the
    error that stopped it."""
    hit = _RUNS.get(id(p))
    if hit is not None and hit[0]() is p:
        return hit[1]
    res: PlanResult | Exception
    try:
        res = plan_target(p.processed, year=p.years[-1], seed=p.seed, **REVIEW_SIMS)
    except (InputError, ValueError) as e:
        res = e
    _RUNS[id(p)] = (weakref.ref(p), res)
    return res


def _range(x: list[float]) -> str:
    return f"{min(x):.2f}–{max(x):.2f}" if min(x) != max(x) else f"{x[0]:.2f}"


def plan_paragraph(p: PilotAnalyses, t: Lang) -> list[Para]:
    """One paragraph for the review's recommendations (a list: empty never, one ``Para``)."""
    res = review_plan(p)
    if isinstance(res, Exception):
        return [Para(t.pair(PLAN_LABELS["review_failed"]).format(reason=res))]
    s = res.settings
    lead = t.pair(PLAN_LABELS["review_lead"]).format(
        year=(res.study or {}).get("year", p.years[-1]),
        share=f"{s['true_share']:.1%}",
        k=s["k"],
        delta=s["delta"],
        items="/".join(str(j) for j in sorted(set(s["n_items"]))),
        rel=_range([round(r, 2) for r in s["reliability"]]),
    )
    said = res.lines(t.code)[1:]  # the certified share, the estimated true share, the design
    if not t.zh:
        said[0] = said[0].replace("The reliable change index", "the reliable change index", 1)
    return [Para(lead + ("" if t.zh else " ").join(said))]
