"""One policy on a study's year (:func:`run_policy`), and the tables and sentences the command
line and the reports print for a run or a comparison.

:class:`PolicyRun` is the result of :func:`run_policy`: ``.assignment`` and ``.checks``, the
result protocol of :mod:`mentorlib.results`, and it unpacks like the old tuple
(``assignment, checks = run_policy(...)``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..labels import (
    COMPARISON_ROW_LABELS,
    DIMENSION_LABELS,
    POLICY_LABELS,
    RELAXATION_LABELS,
    RULE_LABELS,
    Lang,
    check_lang,
    confidence_text,
)
from ..matching import Relaxation
from ..privacy import suppress_rule_values
from ..results import records
from ..rules import Rulebook
from .check import COUNT_RULES, SHARE_RULES, check, hard_rules_met
from .policies import Policy, make_policy
from .roster import roster

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..data import Processed
    from .simulate import PolicyComparison

__all__ = [
    "PolicyRun",
    "comparison_summary",
    "comparison_table",
    "labelled_checks",
    "public_checks",
    "row_label",
    "run_policy",
]


def public_checks(checks: pd.DataFrame, n_students: int, min_cell: int) -> pd.DataFrame:
    """A check table (one or several policies stacked) with small counts and shares blanked.

    Values of :data:`~mentorlib.grouping.check.COUNT_RULES` between 1 and ``min_cell - 1``, and
    shares of :data:`~mentorlib.grouping.check.SHARE_RULES` whose students or others number 1
    to ``min_cell - 1``, become missing with ``suppressed = True``
    (:func:`mentorlib.privacy.suppress_rule_values`).
    """
    return suppress_rule_values(
        checks,
        counts=COUNT_RULES,
        shares=dict.fromkeys(SHARE_RULES, n_students),
        min_cell=min_cell,
    )


def labelled_checks(checks: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """A check table with a ``label`` column (the rule's name in ``lang``) after ``rule``."""
    L = Lang(lang)
    out = checks.copy()
    out.insert(
        list(out.columns).index("rule") + 1,
        "label",
        [L.of(RULE_LABELS, r) for r in out["rule"]],
    )
    return out


def row_label(row: str, level: str, lang: str = "zh") -> str:
    """The label of a row of :meth:`PolicyComparison.table` (a rule or ``pred_<measure>``)."""
    L = Lang(lang)
    if row == "hard_rules_met":
        return L.of(COMPARISON_ROW_LABELS, row)
    if row == "diff_improved_any":
        return L(
            "与参照方案之差（百分点）［区间］±模拟误差",
            "difference from the reference [interval] ± MC error",
        )
    if row in RULE_LABELS:
        return L.of(RULE_LABELS, row)
    measure = row.removeprefix("pred_")
    if measure in COMPARISON_ROW_LABELS:
        return L.of(COMPARISON_ROW_LABELS, measure)
    dim = measure.removeprefix("improved_")
    dims = DIMENSION_LABELS.get(level, {})
    if dim not in dims:
        return row
    name = L.pair(dims[dim])
    return L(f"预测{name}显著进步比例", f"predicted share improving in {name}")


def _value_text(v: Any, ok: Any, share: bool = False) -> str:
    """A check's value: a count as an integer, a share as a percentage (``share``), else 3
    decimals; a failed target marked ✗."""
    if pd.isna(v):
        txt = ""
    elif share:
        txt = f"{float(v):.1%}"
    else:
        txt = f"{v:.0f}" if float(v).is_integer() else f"{v:.3f}"
    if ok is False or (pd.notna(ok) and not ok):
        txt += " ✗"
    return txt


def _outcome_texts(r: Any, pct: bool) -> dict[str, str]:
    """A predicted outcome as text (``pct``: shares as percentages, the difference from the
    reference in percentage points; else 3 decimals), with the difference of ``improved_any``."""
    share = pct and r["measure"] != "mean_fit"
    f = (lambda v: f"{v:.1%}") if share else (lambda v: f"{v:.3f}")
    out = {f"pred_{r['measure']}": f"{f(r['mean'])} [{f(r['lo'])}, {f(r['hi'])}]"}
    if r["measure"] == "improved_any" and pd.notna(r.get("mc_error")):
        k, d = (100, 1) if pct else (1, 3)
        out["diff_improved_any"] = (
            f"{k * r['diff']:+.{d}f} [{k * r['diff_lo']:+.{d}f}, {k * r['diff_hi']:+.{d}f}] "
            f"±{k * r['mc_error']:.{d}f}"
        )
    return out


def comparison_table(
    comparison: PolicyComparison, *, lang: str = "zh", checks: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Side by side: one column per policy; hard rules, checks and predicted outcomes.

    Parameters
    ----------
    comparison : PolicyComparison
    lang : {"zh", "en"}
        Row and column labels: Chinese (``zh``) or the codes (``en``).
    checks : DataFrame, optional
        The check table to show (default ``comparison.checks``; e.g. :func:`public_checks`).

    Returns
    -------
    DataFrame
        Index ``row`` (``hard_rules_met``, each checker rule, ``pred_<measure>``,
        ``diff_improved_any``), one column of text per policy: check values (a failed target
        marked ✗), predicted rates as ``"0.871 [0.850, 0.893]"`` and the paired difference
        from the reference with its interval and Monte Carlo error, ``"+0.012 [-0.004,
        +0.030] ±0.002"``. In Chinese the shares read as percentages (``"87.1% [85.0%,
        89.3%]"``) and the difference in percentage points (``"+1.2 [-0.4, +3.0] ±0.2"``).
    """
    L = Lang(lang)
    checks = comparison.checks if checks is None else checks
    out: dict[str, dict[str, str]] = {}
    for pol in comparison.policies:
        c = checks.loc[checks["policy"] == pol]
        col = {"hard_rules_met": L("是", "yes") if hard_rules_met(c) else L("否", "NO")}
        for _, r in c.iterrows():
            col[r["rule"]] = _value_text(r["value"], r["pass"], L.zh and r["rule"] in SHARE_RULES)
        o = comparison.outcomes.loc[comparison.outcomes["policy"] == pol]
        for _, r in o.iterrows():
            col |= _outcome_texts(r, L.zh)
        out[pol] = col
    df = pd.DataFrame(out).fillna("")
    if L.zh:
        df = df.rename(
            index=lambda r: row_label(r, comparison.level, "zh"),
            columns=lambda p: L.of(POLICY_LABELS, p),
        )
    df.index.name = "row"
    return df


def comparison_summary(comparison: PolicyComparison, lang: str = "zh") -> str:
    """A few sentences: the predicted share progressing (or mean fit) and the hard rules."""
    L = Lang(lang)
    o = comparison.outcomes
    measure = "improved_any" if (o["measure"] == "improved_any").any() else "mean_fit"
    rows = o.loc[o["measure"] == measure].set_index("policy")
    n_draws = int(comparison.draws["draw"].max()) + 1 if len(comparison.draws) else 0

    def fmt(v: float) -> str:
        return f"{v:.1%}" if measure == "improved_any" else f"{v:.3f}"

    parts = [
        f"{L.of(POLICY_LABELS, p)} {fmt(r['mean'])} [{fmt(r['lo'])}, {fmt(r['hi'])}]"
        for p, r in rows.iterrows()
    ]
    sep = L("，", ", ")
    what = L.of(COMPARISON_ROW_LABELS, measure)
    head = L(
        f"分组方案比较（{n_draws} 次模拟，{confidence_text(comparison.confidence)} 区间）",
        f"Grouping policies ({n_draws} draws, {confidence_text(comparison.confidence)} intervals)",
    )
    text = f"{head}{L('：', ': ')}{what}{L('：', ': ')}{sep.join(parts)}"
    if measure == "improved_any":
        text += L(f"；目标 {comparison.target:.0%}。", f"; target {comparison.target:.0%}.")
    else:
        text += L("。", ".")
    failed = [
        L.of(POLICY_LABELS, p)
        for p in comparison.policies
        if not hard_rules_met(comparison.checks.loc[comparison.checks["policy"] == p])
    ]
    if failed:
        text += L("未满足硬性规则：", " Hard rules not met: ") + sep.join(failed) + L("。", ".")
    else:
        text += L("各方案均满足硬性规则。", " Every policy meets the hard rules.")
    if comparison.notes:
        text += L(
            f"（另有 {len(comparison.notes)} 条说明。）", f" ({len(comparison.notes)} notes.)"
        )
    return text


@dataclass
class PolicyRun:
    """The result of :func:`run_policy`: one policy's grouping of one year and its checks.

    Unpacks like the tuple it replaces: ``assignment, checks = run_policy(...)``.

    Attributes
    ----------
    assignment : DataFrame
        ``student_id``, ``mentor_id``, ``fit``, ``source`` (:meth:`Policy.assign`).
    checks : DataFrame
        :func:`~mentorlib.grouping.check` table (``changed_share`` against the current groups).
    policy : str
        The policy's name.
    year : int
    rules : Rulebook
        The study's rulebook (``min_cell`` for public output).
    relaxations : list of Relaxation
        The soft rules relaxed to find a grouping, in order (:mod:`mentorlib.grouping.relax`);
        the checks still score the rulebook's targets.
    """

    assignment: pd.DataFrame
    checks: pd.DataFrame
    policy: str
    year: int
    rules: Rulebook
    relaxations: list[Relaxation] = field(default_factory=list)

    def __iter__(self) -> Iterator[pd.DataFrame]:
        return iter((self.assignment, self.checks))

    def __getitem__(self, i: int) -> pd.DataFrame:
        return (self.assignment, self.checks)[i]

    def __len__(self) -> int:
        return 2

    @property
    def n_students(self) -> int:
        return len(self.assignment)

    @property
    def hard_rules_met(self) -> bool:
        return hard_rules_met(self.checks)

    def summary(self, lang: str = "zh") -> str:
        """One line: how many students were grouped and whether the hard rules are met."""
        L = Lang(lang)
        name = L.of(POLICY_LABELS, self.policy)
        if L.zh:
            ok = "全部满足" if self.hard_rules_met else "未全部满足"
            line = f"{name}：{self.year} 学年 {self.n_students:,} 名学生分组；硬性规则{ok}"
        else:
            ok = "met" if self.hard_rules_met else "NOT met"
            line = f"{name}: {self.n_students:,} students grouped for {self.year}; hard rules {ok}"
        return line + "".join(L("；", "; ") + t for t in self.relaxation_lines(lang))

    def relaxation_lines(self, lang: str = "zh") -> list[str]:
        """One phrase per relaxation, e.g. "class 3-1: gender tolerance widened 0.25 -> 0.3"."""
        L = Lang(lang)
        return [
            f"{r.unit}{L('：', ': ')}{L.of(RELAXATION_LABELS, r.rule)} "
            f"{L.of(RELAXATION_LABELS, r.before)} → {L.of(RELAXATION_LABELS, r.after)}"
            for r in self.relaxations
        ]

    def tables(self, *, lang: str = "zh", public: bool = True) -> dict[str, pd.DataFrame]:
        """``checks`` (with a ``label`` column; small cells blanked when ``public``) and, for
        the research team only (``public=False``), the student-level ``assignment``."""
        check_lang(lang)
        if public:
            return {"checks": labelled_checks(self._checks(public=True), lang)}
        return {"assignment": self.assignment, "checks": labelled_checks(self.checks, lang)}

    def figures(self, *, lang: str = "zh", public: bool = True) -> dict[str, Figure]:
        """No figures: a single grouping is a table."""
        check_lang(lang)
        return {}

    def to_json_dict(self, *, public: bool = True) -> dict[str, Any]:
        """``policy``, ``year``, ``students`` (None when public and 1 to ``min_cell - 1``),
        ``checks`` (public: small cells blanked, ``suppressed`` flags)."""
        n = self.n_students
        small = 0 < n < self.rules.min_cell
        return {
            "policy": self.policy,
            "year": int(self.year),
            "students": None if public and small else n,
            "checks": records(self._checks(public=public)),
            "relaxations": [r.as_dict() for r in self.relaxations],
        }

    def _checks(self, *, public: bool) -> pd.DataFrame:
        if not public:
            return self.checks
        return public_checks(self.checks, self.n_students, self.rules.min_cell)


def run_policy(
    processed: Processed,
    year: int,
    name: str | Policy,
    *,
    seed: Any = 0,
    term: int = 1,
    strict: bool = False,
    **params: Any,
) -> PolicyRun:
    """Group one year of a study with one policy and check the result against the rulebook.

    Parameters
    ----------
    processed : Processed
    year : int
    name : str or Policy
        A name in :data:`~mentorlib.grouping.POLICIES` (``recorded``, ``current``, ``random``,
        ``two_way``, ``optimal``, ``regroup``) or a configured policy.
    seed : int, optional
    term : {1, 2}
        The term whose groups are current (the regrouping starts from them and the change
        ratio is measured against them) and whose satisfaction survey is used.
    strict : bool
        False (default): a policy that solves (random, two_way, optimal, regroup) relaxes
        gender balance, home areas and the scope where the roster leaves no grouping, in the
        documented order (:mod:`mentorlib.grouping.relax`), and ``.relaxations`` says which.
        True: raise InfeasibleError instead. Ignored for a configured ``Policy``.
    **params
        Policy parameters (``gender_tol=0.2``, ``scope="grade"``...).

    Returns
    -------
    PolicyRun
        ``.assignment`` (``student_id``, ``mentor_id``, ``fit``, ``source``) and ``.checks``
        (:func:`~mentorlib.grouping.check`, with ``changed_share`` against the current
        groups); unpacks as ``assignment, checks``.
    """
    students, mentors = roster(processed, year, term=term)
    if isinstance(name, str):
        if "strict" in make_policy(name).get_params():
            params.setdefault("strict", strict)
        pol = make_policy(name, **params)
    else:
        pol = name
    a = pol.assign(students, mentors, processed.rules, seed=seed)
    prev = None
    if "current_mentor" in students and students["current_mentor"].notna().any():
        prev = dict(zip(students["student_id"], students["current_mentor"], strict=True))
    c = check(
        a,
        students,
        mentors,
        processed.rules,
        previous=prev,
        adjustment=pol.adjusts,
        scope=getattr(pol, "scope", None),
    )
    label = name if isinstance(name, str) else (pol.name or type(pol).__name__)
    return PolicyRun(
        assignment=a,
        checks=c,
        policy=label,
        year=year,
        rules=processed.rules,
        relaxations=list(pol.relaxations_),
    )
