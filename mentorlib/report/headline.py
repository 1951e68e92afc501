"""The headline a principal reads: three numbers in plain words (issue 14 item 6).

The executive summary of every annual summary opens with

1. the share of students we can *certify* improved: the headline verdict row of the year's
   :class:`~mentorlib.progress.ProgressReport` (:meth:`~mentorlib.progress.ProgressReport.headline_row`,
   the reliable-change rule);
2. the *estimated* share that truly improved, with its interval
   (``ProgressReport.true_share``: ``estimate, ci_low, ci_high, delta, k, method,
   n_students``; None or absent when it could not be estimated, then the summary says so and
   shows the certified share only);
3. what the two mean for the target (:func:`goal_status`).

No method name, test statistic or interval jargon appears here; the methods section defines
both shares. Every number is the analysis's, and both shares obey the study's ``min_cell``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..labels import GOAL_STATUS_SHORT, PLAIN_HEADLINE, Lang
from .levels import no_target_text, shows_target
from .render.fmt import as_float, ci, en_count, missing, pct, share, year_label, zh_count

__all__ = [
    "GOAL_STATUSES",
    "certified_shown",
    "goal_status",
    "plain_headline",
    "shown_true_share",
    "true_share_of",
    "true_shares_sentence",
]

#: What the certified and estimated shares mean for the target.
GOAL_STATUSES: tuple[str, ...] = ("met", "not_demonstrable", "not_met")

_TRUE_KEYS = ("estimate", "ci_low", "ci_high")


def true_share_of(progress: Any) -> dict[str, Any] | None:
    """The year's estimated true share (``ProgressReport.true_share``) or None.

    None when the report has no such attribute (an older report), when it is None (the
    estimate could not be made; the report's ``notes`` say why) or when its estimate or a
    bound is missing.
    """
    ts = getattr(progress, "true_share", None)
    if not isinstance(ts, Mapping) or any(missing(ts.get(c)) for c in _TRUE_KEYS):
        return None
    return dict(ts)


def shown_true_share(progress: Any, min_cell: int) -> tuple[dict[str, Any] | None, str]:
    """(the true share a report may print, why not): reason ``"shown"``, ``"absent"`` or
    ``"withheld"``.

    The small-cell rule applied to a published rate applies here too: the estimate is
    withheld when it rests on fewer than ``min_cell`` students, or when the expected number
    of students improving or not (``estimate x n_students`` and its remainder) is below
    ``min_cell``.
    """
    ts = true_share_of(progress)
    if ts is None:
        return None, "absent"
    n = ts.get("n_students")
    if missing(n):
        n = progress.headline_row(public=False).get("n_evaluable")
    if missing(n):
        return None, "withheld"
    est, m = as_float(ts["estimate"]), as_float(n)
    if min(m, est * m, (1 - est) * m) < min_cell:
        return None, "withheld"
    return ts, "shown"


def certified_shown(progress: Any) -> bool:
    """Whether the year's certified share is published: the disclosure document's decision on
    the headline rate, as the published verdict row carries it (``suppressed`` is set, and
    the share blank, exactly when the rate is withheld). Every section asks this, never the
    counts: a withheld count (the roster, when fewer than ``min_cell`` students were not
    evaluable) does not withhold the share, and a withheld share is printed nowhere."""
    row = progress.headline_row(public=True)
    return not missing(row.get("proportion")) and not bool(row.get("suppressed", False))


def goal_status(
    certified_verdict: object, true_share: Mapping[str, Any] | None, target: float
) -> tuple[str, str]:
    """(status, basis): what the certified and the estimated true share mean for ``target``.

    ``status`` is one of :data:`GOAL_STATUSES`; ``basis`` names the number that decides it.

    - ``("met", "certified")``: the certified share's verdict is met (its deciding bound is
      above the target): even the students we can certify exceed the target.
    - ``("met", "estimated")``: the estimated true share's interval lies above the target.
    - ``("not_met", "estimated")``: the estimated true share's interval lies below it.
    - ``("not_demonstrable", "estimated")``: the certified share does not show the target and
      the true share's interval contains it: the target may have been reached, but the
      measurement cannot show it.
    - ``("not_demonstrable", "certified")``: no estimated true share and the certified share
      does not show the target; the rule misses small true gains, so a shortfall of the
      certified share cannot show the target was missed.
    """
    if certified_verdict == "met":
        return "met", "certified"
    if true_share is None:
        return "not_demonstrable", "certified"
    if as_float(true_share["ci_low"]) > target:
        return "met", "estimated"
    if as_float(true_share["ci_high"]) < target:
        return "not_met", "estimated"
    return "not_demonstrable", "estimated"


def _k_fields(k: object, t: Lang) -> dict[str, str]:
    """``k`` (两 / "one") and ``areas`` (area / areas) of a k-dimension sentence."""
    n = int(as_float(k))
    return {"k": zh_count(n) if t.zh else en_count(n), "areas": "area" if n == 1 else "areas"}


def _fields(a: Any, t: Lang, n_text: str) -> dict[str, Any]:
    R = a.progress
    return {
        "year": R.year,
        "n": n_text,
        "who": t("受导学生", "mentees") if R.level == "middle" else t("学生", "students"),
        **_k_fields(R.k, t),
        "target": share(R.target),
        "min_cell": a.min_cell,
    }


def plain_headline(a: Any, t: Lang, n_text: str) -> list[str]:
    """The executive summary's opening sentences: certified share, estimated true share,
    what they mean for the target.

    Parameters
    ----------
    a : YearAnalyses
        The year's analyses (``progress``, ``min_cell``).
    t : Lang
    n_text : str
        The number of students assessed as the disclosure document prints it.

    Returns
    -------
    list of str
        Two or three sentences; the certified share first, then the estimated true share (or
        why it is not shown), then the goal (omitted when the certified share is withheld and
        no true share is shown).
    """
    R = a.progress
    f = _fields(a, t, n_text)
    row = R.headline_row(public=True)
    certified = certified_shown(R)
    out = [
        t.pair(PLAIN_HEADLINE["certified" if certified else "certified_withheld"]).format(
            **f, share=pct(row.get("proportion"))
        )
    ]
    ts, why = shown_true_share(R, a.min_cell)
    if ts is None:
        out.append(t.pair(PLAIN_HEADLINE[f"true_{why}"]).format(**f))
    else:
        delta = ts.get("delta", R.rules.true_delta)
        out.append(
            t.pair(PLAIN_HEADLINE["true"]).format(
                **(f | _k_fields(ts.get("k", R.k), t)),
                delta=f"{as_float(delta):g}",
                est=pct(ts["estimate"]),
                lo=pct(ts["ci_low"]),
                hi=pct(ts["ci_high"]),
            )
        )
    if not shows_target(R.rules):
        out.append(no_target_text(R, t, a.level))
    elif certified or ts is not None:
        status, basis = goal_status(row.get("verdict") if certified else None, ts, R.target)
        out.append(t.pair(PLAIN_HEADLINE[f"goal.{status}.{basis}"]).format(**f))
    return out


def true_shares_sentence(p: Any, t: Lang) -> str | None:
    """The pilot review's line of estimated true shares per year, each with its interval and
    what it means for the target; None when no year has one to show (``p``: PilotAnalyses)."""
    parts, last = [], None
    for y, R in p.progress.items():
        ts, _ = shown_true_share(R, p.min_cell)
        if ts is None:
            continue
        last = ts
        h = R.headline_row(public=True)
        verdict = h.get("verdict") if certified_shown(R) else None
        status, _basis = goal_status(verdict, ts, R.target)
        said = f"，{t.of(GOAL_STATUS_SHORT, status)}" if shows_target(R.rules) else ""
        said_en = f", {t.of(GOAL_STATUS_SHORT, status)}" if said else ""
        parts.append(
            f"{year_label(y, t)} {pct(ts['estimate'])}"
            + t(
                f"（{ci(ts['ci_low'], ts['ci_high'])}{said}）",
                f" ({ci(ts['ci_low'], ts['ci_high'])}{said_en})",
            )
        )
    if last is None:
        return None
    R = p.progress[p.years[-1]]
    delta = f"{as_float(last.get('delta', R.rules.true_delta)):g}"
    k = int(as_float(last.get("k", R.k)))
    return t(
        f"估计实际有进步（真实变化超过{delta}个前测标准差的维度至少{zh_count(k)}个）的学生比例为："
        + "；".join(parts)
        + "。",
        f"Estimated share that truly improved (true change above {delta} pre-test SD in at "
        f"least {en_count(k)} dimension{'s' if k != 1 else ''}): " + "; ".join(parts) + ".",
    )
