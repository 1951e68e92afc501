"""The grouping recommendation drawn from a policy comparison (issue 16 item 1).

:func:`recommend` turns a :class:`~mentorlib.grouping.PolicyComparison` into one decision,
``adopt``, ``trial`` or ``keep``, that does not depend on the random seed:

- the candidates are the policies that meet every hard rule, other than the reference (the
  recorded groups) and ``random``; the best is the one with the highest mean of the outcome
  measure (``improved_any``; ``mean_fit`` without an outcome model);
- its improvement on the reference is *robust* when the lower bound of the interval of the
  paired difference exceeds zero by more than ``z x mc_error``, where ``mc_error`` is the
  Monte Carlo error of that difference (:mod:`~mentorlib.grouping.montecarlo`) and ``z`` the
  two-sided normal quantile of the rulebook's ``alpha`` (1.96): a lower bound that more draws
  could still move to the other side of zero is not enough;
- ``adopt``: robust, and the policy changes the mentor of at most ``max_regroup_share`` of
  the students (it can be adopted at the next adjustment); ``trial``: robust, but it changes
  more students than one adjustment allows (to be tried where groups are formed anew, at the
  start of a year); ``keep``: not robust (keep the current grouping).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from scipy.stats import norm

from .check import hard_rules_met

if TYPE_CHECKING:
    from .simulate import PolicyComparison

__all__ = ["DECISIONS", "Recommendation", "recommend"]

#: The decisions of :func:`recommend`, strongest first.
DECISIONS: tuple[str, ...] = ("adopt", "trial", "keep")

#: Policies never recommended: the reference and the random benchmark.
_NOT_CANDIDATES = ("recorded", "random")


@dataclass(frozen=True)
class Recommendation:
    """The decision and the numbers behind it (all nan / None when there is no candidate).

    ``reason``: ``robust``, ``interval_includes_zero`` (the lower bound is not above zero),
    ``within_mc_error`` (above zero by less than ``z x mc_error``) or ``no_candidate``.
    """

    policy: str | None
    decision: str
    measure: str
    difference: float
    ci_low: float
    ci_high: float
    mc_error: float
    mean: float
    lo: float
    hi: float
    changed_share: float
    reason: str
    draws: int

    def to_json_dict(self) -> dict[str, Any]:
        """``policy, decision, difference, ci_low, ci_high, mc_error`` (the CLI's
        ``grouping_recommendation``), nan as None."""
        d = asdict(self)
        keys = ("policy", "decision", "difference", "ci_low", "ci_high", "mc_error")
        return {k: (None if isinstance(d[k], float) and math.isnan(d[k]) else d[k]) for k in keys}


def _changed_share(C: PolicyComparison, policy: str) -> float:
    ch = C.checks.loc[(C.checks["policy"] == policy) & (C.checks["rule"] == "changed_share")]
    return float(ch["value"].iloc[0]) if len(ch) else math.nan


def recommend(C: PolicyComparison) -> Recommendation:
    """The grouping recommendation of a comparison (the rule is in the module docstring)."""
    o = C.outcomes
    measure = "improved_any" if (o["measure"] == "improved_any").any() else "mean_fit"
    ok = [
        p
        for p in C.policies[1:]
        if p not in _NOT_CANDIDATES and hard_rules_met(C.checks.loc[C.checks["policy"] == p])
    ]
    sub = o.loc[(o["measure"] == measure) & o["policy"].isin(ok)].set_index("policy")
    if sub.empty:
        nan = math.nan
        return Recommendation(
            None, "keep", measure, nan, nan, nan, nan, nan, nan, nan, nan, "no_candidate", 0
        )
    best = str(sub["mean"].idxmax())
    row: dict[Any, Any] = sub.loc[[best]].iloc[0].to_dict()
    r: dict[str, float] = {
        k: float(row[k]) for k in ("mean", "lo", "hi", "diff", "diff_lo", "diff_hi")
    }
    z = float(norm.ppf(1 - C.rules.alpha / 2))
    mc = float(row.get("mc_error", math.nan))
    mc = mc if math.isfinite(mc) else 0.0
    changed = _changed_share(C, best)
    if not r["diff_lo"] > 0:
        reason, decision = "interval_includes_zero", "keep"
    elif not r["diff_lo"] > z * mc:
        reason, decision = "within_mc_error", "keep"
    else:
        reason = "robust"
        small = math.isnan(changed) or changed <= C.rules.max_regroup_share
        decision = "adopt" if small else "trial"
    return Recommendation(
        best,
        decision,
        measure,
        r["diff"],
        r["diff_lo"],
        r["diff_hi"],
        mc,
        r["mean"],
        r["lo"],
        r["hi"],
        changed,
        reason,
        int(C.n_draws),
    )
