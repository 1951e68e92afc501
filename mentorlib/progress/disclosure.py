"""Small-cell protection of the progress report: what its tables print, and what to blank.

:func:`register` records every count and rate the published tables show, with the relations
between them (totals, partitions, rates), in a :class:`mentorlib.privacy.Document`;
:func:`protect` replaces the report's published tables by the raw ones with the document's
suppressions. ``ProgressReport.register`` / ``ProgressReport.apply`` call these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .report import ProgressReport

__all__ = ["WITHHELD", "count_key", "protect", "register"]

#: What the summary counts for a row whose share, and so its verdict, is withheld
#: (``ProgressReport.summary_dict()["sensitivity_verdicts"]``).
WITHHELD = "withheld"

_TOTALS = ("n_students", "n_evaluable", "n_not_evaluable", "n_progressing")
_RATE_COLUMNS = [
    "proportion",
    "ci_low",
    "ci_high",
    "lower_bound",
    "p_value",
    "binomial_ci_low",
    "binomial_ci_high",
    "binomial_lower_bound",
    "binomial_p_value",
    "exact_p_value",
]


def count_key(rep: ProgressReport, definition: str, k: int) -> str:
    """The document key of the students progressing under ``definition`` and ``k``."""
    return "n_progressing" if (definition, k) == (rep.definition, rep.k) else f"k.{definition}.k{k}"


def _denominator(rule: object) -> str:
    return "n_evaluable" if rule == "evaluable_only" else "n_students"


def register(rep: ProgressReport, doc: Any) -> None:
    """Register every count and rate the published tables show, with their relations.

    Keys: ``n_students``, ``n_evaluable``, ``n_not_evaluable``, ``n_progressing`` (the
    year's totals, headline definition and k), ``k.{definition}.k{k}`` (students
    progressing under other definitions), ``bd.{by}.{group}.{count}`` (breakdowns: each
    of grade, class, gender and mentor partitions the totals), ``y{year}.*`` (trend),
    ``cmp.*`` (mentees against non-mentees); rates ``rate.{definition}.k{k}.{rule}``,
    ``bd.{by}.{group}.rate``, ``y{year}.rate``, ``cmp.rate1`` / ``cmp.rate2``.
    ``doc``: a :class:`mentorlib.privacy.Document` or a prefixed view of one
    (:meth:`~mentorlib.privacy.Document.view`).
    """
    raw = rep.internal
    _register_verdict(rep, doc, raw)
    _register_breakdowns(rep, doc, raw["breakdowns"])
    _register_trend(rep, doc, raw["trend"])
    _register_context(rep, doc, raw["context"])


def _register_verdict(rep: ProgressReport, doc: Any, raw: dict) -> None:
    h = raw["verdict"].iloc[0]
    for c in _TOTALS:
        doc.count(c, h[c])
    doc.total("n_students", ["n_evaluable", "n_not_evaluable"], strict=False)
    for r in raw["sensitivity"].itertuples(index=False):
        kk = count_key(rep, r.definition, r.k)
        doc.count(kk, r.n_progressing)
        doc.rate(f"rate.{r.definition}.k{r.k}.{r.rule}", kk, _denominator(r.rule))
    doc.keep(_denominator(rep.rule), "n_progressing", f"rate.{rep.definition}.k{rep.k}.{rep.rule}")


def _register_breakdowns(rep: ProgressReport, doc: Any, bd: pd.DataFrame) -> None:
    counts = ["n_students", "n_evaluable", "n_progressing"]
    n = _denominator(rep.rule)
    for by, part in bd.groupby("by", sort=False):
        for r in part.itertuples(index=False):
            pre = f"bd.{by}.{r.group}"
            for c in counts:
                doc.count(f"{pre}.{c}", getattr(r, c))
            doc.rate(f"{pre}.rate", f"{pre}.n_progressing", f"{pre}.{n}")
        if by == "focus_group":  # a student can be in several groups: no partition
            continue
        for c in counts:
            keys = [f"bd.{by}.{g}.{c}" for g in part["group"]]
            rest = doc.cells[c].value - int(part[c].fillna(0).sum())
            if rest < 0:
                continue
            if rest:
                keys.append(doc.count(f"bd.{by}.rest.{c}", rest, printed=False))
            doc.total(c, keys, strict=False)


def _register_trend(rep: ProgressReport, doc: Any, trend: pd.DataFrame) -> None:
    for r in trend.itertuples(index=False):
        if r.year == rep.year:
            continue
        pre = f"y{r.year}"
        for c in _TOTALS:
            doc.count(f"{pre}.{c}", getattr(r, c))
        doc.total(
            f"{pre}.n_students", [f"{pre}.n_evaluable", f"{pre}.n_not_evaluable"], strict=False
        )
        doc.rate(f"{pre}.rate", f"{pre}.n_progressing", f"{pre}.{_denominator(rep.rule)}")


def _register_context(rep: ProgressReport, doc: Any, context: dict) -> None:
    cr = context.get("comparison_rates")
    if cr is not None and len(cr):
        r = cr.iloc[0]
        for i in ("1", "2"):
            doc.count(f"cmp.n{i}", r[f"n{i}"])
            doc.count(f"cmp.x{i}", r[f"x{i}"])
            doc.rate(f"cmp.rate{i}", f"cmp.x{i}", f"cmp.n{i}")
    rel = context.get("reliability")
    if rel is not None:
        for r in rel.itertuples(index=False):
            doc.count(f"rel.{r.wave}.{r.dimension}.n", r.n)
    ts = context.get("threshold_sensitivity")
    n_key = _denominator(rep.rule)
    if ts is not None and doc.cells[n_key].value > 0:
        for r in ts.loc[ts["level"] == "student"].itertuples(index=False):
            if pd.isna(r.rate):
                continue
            kk = doc.count(
                f"ts.{r.factor}.k", round(r.rate * doc.cells[n_key].value), printed=False
            )
            doc.rate(f"ts.{r.factor}.rate", kk, n_key)


def _mask_rows(doc: Any, df: pd.DataFrame, rate_of, count_of) -> pd.DataFrame:
    """``doc.mask_table`` of a verdict-shaped table, its cells named by the two functions.

    ``suppressed`` then says whether the row's share is withheld (its rate suppressed, or no
    rate at all), the one decision every reader of the table (headline, report sections,
    figures, ``--json``) follows; such a row carries no count and no verdict either (a
    verdict says on which side of the target the withheld share lies). A row whose share is
    published keeps it with the counts it is a share of; a count withheld on its own (e.g.
    the students on the roster when fewer than ``min_cell`` of them were not evaluable) is
    blank.
    """
    keys: dict[str, list] = {}
    for c in _TOTALS:
        if c in df:
            keys[c] = [count_of(r, c) for r in df.itertuples(index=False)]
    for c in ("successes", "n"):
        if c in df:
            keys[c] = [
                count_of(r, "n_progressing" if c == "successes" else _denominator(r.rule))
                for r in df.itertuples(index=False)
            ]
    rk = [rate_of(r) for r in df.itertuples(index=False)]
    out = doc.mask_table(
        df.drop(columns="suppressed", errors="ignore"), keys, rates=rk, rate_columns=_RATE_COLUMNS
    )
    withheld = np.array([k not in doc.rates or doc.suppressed(k) for k in rk], dtype=bool)
    if "proportion" in out:
        withheld |= out["proportion"].isna().to_numpy()
    if withheld.any():  # a withheld share: its counts go too (the row is withheld as a whole)
        for c in keys:
            out.loc[withheld, c] = None
        if "verdict" in out:  # "met" / "not met" says on which side of the target it lies
            out["verdict"] = out["verdict"].astype("object")
            out.loc[withheld, "verdict"] = None
    return out.assign(suppressed=withheld)


def protect(rep: ProgressReport, doc: Any) -> None:
    """Replace the published tables by the raw ones with ``doc``'s suppressions."""
    raw = rep.internal
    rep.disclosure = doc

    def v_count(r, c):
        return count_key(rep, r.definition, r.k) if c == "n_progressing" else c

    def v_rate(r):
        return f"rate.{r.definition}.k{r.k}.{r.rule}"

    def y_key(r, c):
        if r.year == rep.year:
            return count_key(rep, rep.definition, rep.k) if c == "n_progressing" else c
        return f"y{r.year}.{c}"

    def y_rate(r):
        if r.year == rep.year:
            return f"rate.{rep.definition}.k{rep.k}.{rep.rule}"
        return f"y{r.year}.rate"

    rep.verdict = _mask_rows(doc, raw["verdict"], v_rate, v_count)
    rep.sensitivity = _mask_rows(doc, raw["sensitivity"], v_rate, v_count)
    rep.breakdowns = _mask_rows(
        doc,
        raw["breakdowns"],
        lambda r: f"bd.{r.by}.{r.group}.rate",
        lambda r, c: f"bd.{r.by}.{r.group}.{c}",
    )
    rep.trend = _mask_rows(doc, raw["trend"], y_rate, y_key)
    rep.context = _protect_context(doc, dict(raw["context"]))


def _protect_context(doc: Any, ctx: dict) -> dict:
    cr = ctx.get("comparison_rates")
    if cr is not None and len(cr):
        keys = {f"{c}{i}": [f"cmp.{c}{i}"] for i in "12" for c in ("n", "x")}
        keys.update({f"p{i}": [f"cmp.rate{i}"] for i in "12"})
        t = doc.mask_table(cr.reset_index(drop=True).iloc[:1], keys)
        if t["suppressed"].any():
            for c in ("difference", "ci_low", "ci_high", "p1", "p2"):
                if c in t:
                    t[c] = np.nan
        ctx["comparison_rates"] = t
    fp = ctx.get("false_positive")
    if fp is not None and "observed" in fp:
        ok = [
            not doc.suppressed(f"rate.{r.definition}.k{r.k}.evaluable_only")
            if f"rate.{r.definition}.k{r.k}.evaluable_only" in doc.rates
            else False
            for r in fp.itertuples(index=False)
        ]
        ctx["false_positive"] = fp.assign(observed=fp["observed"].where(ok))
    rel = ctx.get("reliability")
    if rel is not None and len(rel):
        keys = {"n": [f"rel.{r.wave}.{r.dimension}.n" for r in rel.itertuples(index=False)]}
        ctx["reliability"] = doc.mask_table(rel, keys)
    ts = ctx.get("threshold_sensitivity")
    if ts is not None and len(ts):
        hide = [
            lvl == "student" and (f"ts.{f}.rate" not in doc.rates or doc.suppressed(f"ts.{f}.rate"))
            for lvl, f in zip(ts["level"], ts["factor"], strict=True)
        ]
        ctx["threshold_sensitivity"] = ts.assign(rate=ts["rate"].mask(hide))
    return ctx
