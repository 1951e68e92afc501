"""What ``mentorlib report`` and ``mentorlib review`` print before the paths (issue 16 item 7).

:func:`document_headline` reads a drafted :class:`~mentorlib.report.Report`, not the analyses,
so the terminal says exactly what the document says: the executive summary's opening
paragraph (the certified share, the estimated true share and what they mean for the target;
in the review, the rates of every year), the indicators with a target that were missed (in
the review, in its last year) and, for the review, the grouping decision.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..labels import Lang
from .document import Para, Report
from .render.fmt import pts

__all__ = ["document_headline", "headline_lines", "missed_indicators"]


def missed_indicators(report: Report) -> list[str]:
    """Labels of the KPIs with a target that were not met (``passed`` False), with their value
    and target as printed; the review: its last year."""
    k = getattr(report, "kpis", None)
    if not isinstance(k, pd.DataFrame) or not len(k) or "passed" not in k:
        return []
    if "year" in k and k["year"].notna().any():
        k = k.loc[k["year"] == k["year"].max()]
    missed = k.loc[k["passed"].eq(False).fillna(False).astype(bool).to_numpy()]
    out = []
    for r in missed.to_dict("records"):
        target = "" if pd.isna(r.get("target_text")) else str(r["target_text"])
        out.append(f"{r['label']!s} {r['value_text']!s}" + (f" ({target})" if target else ""))
    return out


def _lead(report: Report) -> list[str]:
    """The executive summary's lead paragraphs (kind "lead" in section ``summary``)."""
    secs = [s for s in getattr(report, "sections", []) if getattr(s, "key", None) == "summary"]
    return [b.text for s in secs for b in s.blocks if isinstance(b, Para) and b.kind == "lead"]


def document_headline(report: Report, recommendation: Any = None) -> dict[str, Any]:
    """``headline`` (the lead sentences), ``missed`` (indicators missed) and, given the
    review's :class:`~mentorlib.grouping.Recommendation`, ``grouping`` (its decision)."""
    out: dict[str, Any] = {"headline": _lead(report), "missed": missed_indicators(report)}
    if recommendation is not None:
        out["grouping"] = recommendation.to_json_dict()
    return out


def headline_lines(report: Report, recommendation: Any = None) -> list[str]:
    """:func:`document_headline` as the lines the CLI prints (in the document's language)."""
    t = Lang(getattr(report, "lang", "zh"))
    h = document_headline(report, recommendation)
    lines = [str(getattr(report, "title", "")), *[f"  {x}" for x in h["headline"]]]
    missed = h["missed"]
    lines.append(
        t("  未达标的指标：", "  Indicators missed: ")
        + (t("；", "; ").join(missed) if missed else t("无", "none"))
    )
    g = h.get("grouping")
    if g and g.get("policy"):
        lines.append(
            t("  分组建议：", "  Grouping: ")
            + f"{g['decision']} ({g['policy']}: {pts(g['difference'])}, "
            + f"{pts(g['ci_low'])} {t('至', 'to')} {pts(g['ci_high'])}; MC ± {abs(g['mc_error'] or 0) * 100:.1f})"
        )
    return lines
