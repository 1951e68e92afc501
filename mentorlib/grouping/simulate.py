"""Comparing grouping policies over random draws: :func:`compare`, :func:`compare_policies` and
their result, :class:`PolicyComparison`.

Each draw re-runs the stochastic policies with a new seed, checks every policy's grouping
against the rulebook and, with an :class:`~mentorlib.grouping.OutcomeModel`, predicts the share
of students who would improve, with common random numbers across policies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from tqdm.std import tqdm  # plain text: tqdm.auto warns in a kernel without ipywidgets

from ..errors import InfeasibleError, InputError
from ..labels import check_lang
from ..results import records
from ..rules import DEFAULT_SEED, Rulebook
from .advice import Recommendation, recommend
from .check import assignment_columns, check, hard_rules_met
from .figures import plot_comparison
from .montecarlo import mc_error, next_draws, shortfall
from .outcome import OutcomeModel, OutcomeSampler, seed_int
from .policies import Policy, RecordedPolicy, make_policy
from .report import comparison_summary, comparison_table, labelled_checks, public_checks
from .roster import Problem, build_problem, roster

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..data import Processed

__all__ = ["DEFAULT_COMPARISON", "PolicyComparison", "compare", "compare_policies"]

#: The policies compared by default, the reference (the recorded groups) first.
DEFAULT_COMPARISON = ("recorded", "current", "random", "two_way", "optimal", "regroup")

#: Check values kept per draw (beside ``hard_rules_met``).
_DRAW_STATS = ("mean_fit", "top3_choice", "blocking_pairs", "gender_balance", "changed_share")


@dataclass
class PolicyComparison:
    """The result of :func:`compare`: checks, predicted outcomes and the draws behind them.

    Attributes
    ----------
    checks : DataFrame
        ``policy`` + the :func:`~mentorlib.grouping.check` table of the policy's first-draw
        assignment.
    outcomes : DataFrame
        ``policy``, ``measure``, ``mean``, ``lo``, ``hi`` (interval over draws), ``diff``,
        ``diff_lo``, ``diff_hi`` (paired difference from the reference policy, the first),
        ``mc_error`` (the Monte Carlo error of the difference: the largest standard error of
        its mean and bounds, :mod:`~mentorlib.grouping.montecarlo`).
    draws : DataFrame
        ``policy``, ``draw``, ``measure``, ``value``: every draw (measures of
        :func:`~mentorlib.grouping.simulate_outcomes` plus ``mean_fit``, ``top3_choice``,
        ``blocking_pairs``, ``gender_balance``, ``changed_share``, ``hard_rules_met``).
    assignments : dict
        Policy -> its first-draw assignment.
    rules : Rulebook
        The rulebook the policies were checked against (target, level, ``min_cell``).
    confidence : float
        Level of the intervals.
    notes : list of str
        Policies skipped and why; mentors without an effect estimate.
    n_students : int
        Students on the roster (the base of the shares, for small-cell protection).
    n_draws : int
        Draws made (fixed, or reached by the adaptive rule).
    mc_converged : bool
        Whether every compared difference of the outcome measure reached the rulebook's
        precision (``sim_mc_ratio``); False after ``sim_draws_max`` draws short of it (a note
        says so) and for a fixed number of draws short of it.
    """

    checks: pd.DataFrame
    outcomes: pd.DataFrame
    draws: pd.DataFrame
    assignments: dict[str, pd.DataFrame]
    rules: Rulebook
    confidence: float
    notes: list[str] = field(default_factory=list)
    n_students: int = 0
    n_draws: int = 0
    mc_converged: bool = False

    @property
    def policies(self) -> list[str]:
        return list(self.assignments)

    @property
    def target(self) -> float:
        """The rulebook's progress target (``target_share``)."""
        return float(self.rules.target_share)

    @property
    def level(self) -> str:
        """The rulebook's school level (labels)."""
        return self.rules.level

    def table(self, *, lang: str = "zh") -> pd.DataFrame:
        """Side by side, one column per policy (:func:`~mentorlib.grouping.report.comparison_table`).

        ``lang="zh"``: Chinese row and column labels; ``lang="en"``: the codes.
        """
        return comparison_table(self, lang=lang)

    def plot(self, *, lang: str = "zh") -> Figure:
        """See :func:`~mentorlib.grouping.plot_comparison`."""
        return plot_comparison(self, lang=lang)

    def summary(self, lang: str = "zh") -> str:
        """A few sentences: predicted shares (or mean fit) and the hard rules."""
        return comparison_summary(self, lang)

    def recommendation(self) -> Recommendation:
        """The grouping recommendation (adopt / trial / keep): :func:`~mentorlib.grouping.recommend`."""
        return recommend(self)

    def public_checks(self) -> pd.DataFrame:
        """:attr:`checks` with small counts and shares blanked (``min_cell`` of the rulebook)."""
        return public_checks(self.checks, self.n_students, self.rules.min_cell)

    def tables(self, *, lang: str = "zh", public: bool = True) -> dict[str, pd.DataFrame]:
        """``comparison`` (side by side), ``checks`` (with labels) and ``outcomes``.

        ``public=True`` blanks checks that count 1 to ``min_cell - 1`` students.
        """
        checks = self.public_checks() if public else self.checks
        return {
            "comparison": comparison_table(self, lang=lang, checks=checks),
            "checks": labelled_checks(checks, lang),
            "outcomes": self.outcomes,
        }

    def figures(self, *, lang: str = "zh", public: bool = True) -> dict[str, Figure]:
        """``comparison``: predicted shares and mean fit per policy (no small cells)."""
        check_lang(lang)
        return {"comparison": plot_comparison(self, lang=lang)}

    def to_json_dict(self, *, public: bool = True) -> dict[str, Any]:
        """``checks`` (public: small cells blanked, ``suppressed`` flags), ``outcomes``,
        ``notes``, ``policies``, ``target``, ``confidence``, ``draws``, ``mc_converged``."""
        checks = self.public_checks() if public else self.checks
        return {
            "checks": records(checks),
            "outcomes": records(self.outcomes),
            "notes": list(self.notes),
            "policies": self.policies,
            "target": self.target,
            "confidence": float(self.confidence),
            "draws": int(self.n_draws),
            "mc_converged": bool(self.mc_converged),
        }


def _policy_list(policies: Sequence[str | Policy]) -> list[tuple[str, Policy]]:
    out: list[tuple[str, Policy]] = []
    for p in policies:
        pol = make_policy(p) if isinstance(p, str) else p
        if not isinstance(pol, Policy):
            raise InputError(f"not a policy: {p!r}")
        name = p if isinstance(p, str) else (pol.name or type(pol).__name__)
        base, k = name, 2
        while name in [n for n, _ in out]:
            name, k = f"{base}_{k}", k + 1
        out.append((name, pol))
    if not out:
        raise InputError("no policies to compare")
    return out


class _Runner:
    """The state of a comparison as the draws run: checks, draw rows, skipped policies.

    A policy with a random part is re-run for each of the first ``sim_assignments`` draws;
    later draws reuse those groupings (draw ``r`` the grouping of draw ``r % sim_assignments``)
    with fresh outcome draws: the groupings are costly, the outcome draws are not.
    """

    def __init__(self, students: pd.DataFrame, mentors: pd.DataFrame, pb: Problem):
        self.students, self.mentors, self.pb = students, mentors, pb
        self.n_assign = max(int(pb.rules.sim_assignments), 1)
        has_prev = "current_mentor" in students and students["current_mentor"].notna().any()
        self.previous = (
            dict(zip(students["student_id"].astype(str), students["current_mentor"], strict=True))
            if has_prev
            else None
        )
        self.notes: list[str] = []
        self.checks: list[pd.DataFrame] = []
        self.rows: list[tuple] = []
        self.first: dict[str, pd.DataFrame] = {}
        self.cache: dict[tuple[str, int], tuple[np.ndarray, dict]] = {}
        self.skip: set[str] = set()

    def key(self, name: str, pol: Policy, r: int) -> tuple[str, int]:
        """The grouping a draw uses: the policy's only one, or draw ``r % sim_assignments``."""
        return (name, r % self.n_assign if pol.is_stochastic else 0)

    def evaluate(self, name: str, pol: Policy, r: int, pol_seed: np.random.SeedSequence) -> bool:
        """Group (first draw, or the first draws if stochastic) and check; False when skipped."""
        if name in self.skip:
            return False
        if self.key(name, pol, r) in self.cache:
            return True
        rules = self.pb.rules
        try:
            a = pol.assign(self.students, self.mentors, rules, seed=np.random.default_rng(pol_seed))
        except (InputError, InfeasibleError) as e:
            if r == 0 and (isinstance(e, InfeasibleError) or isinstance(pol, RecordedPolicy)):
                self.skip.add(name)
                self.notes.append(f"{name} skipped: {e}")
                return False
            raise
        c = check(
            a,
            self.students,
            self.mentors,
            rules,
            previous=self.previous,
            adjustment=pol.adjusts,
            scope=getattr(pol, "scope", None),
        )
        if r == 0:
            self.first[name] = a
            self.checks.append(c.assign(policy=name))
        col, _ = assignment_columns(self.pb, a)
        vals = dict(zip(c["rule"], c["value"], strict=True))
        stats = {k: vals[k] for k in _DRAW_STATS if k in vals}
        stats["hard_rules_met"] = float(hard_rules_met(c))
        self.cache[self.key(name, pol, r)] = (col, stats)
        return True

    def record(
        self, name: str, pol: Policy, r: int, sampler: OutcomeSampler | None, shocks: Any
    ) -> None:
        col, stats = self.cache[self.key(name, pol, r)]
        self.rows += [(name, r, k, v) for k, v in stats.items()]
        if sampler is not None:
            self.rows += [(name, r, k, v) for k, v in sampler.rates(col, *shocks).items()]


def compare(
    students: pd.DataFrame,
    mentors: pd.DataFrame,
    rules: Rulebook,
    *,
    policies: Sequence[str | Policy] = DEFAULT_COMPARISON,
    model: OutcomeModel | None = None,
    draws: int | None = None,
    seed: Any = DEFAULT_SEED,
    confidence: float | None = None,
    progress: bool | None = None,
) -> PolicyComparison:
    """Compare grouping policies on one roster over random draws.

    Parameters
    ----------
    students, mentors : DataFrame
        As returned by :func:`~mentorlib.grouping.roster`.
    rules : Rulebook
    policies : sequence of str or Policy
        Names in :data:`~mentorlib.grouping.POLICIES` or configured policy objects; the first
        is the reference for the paired differences. Policies that cannot run on this roster
        (``recorded`` without current groups, a policy whose rules no grouping meets) are
        skipped with a note in ``notes``.
    model : OutcomeModel, optional
        Predictive model of the year's change; without it only the checks are compared.
    draws : int, optional
        Random draws: stochastic policies are re-run with a new seed each draw (noise in
        preferences, random groups; up to the rulebook's ``sim_assignments`` groupings, then
        reused), and mentor effects, the fit effect and residuals are drawn afresh (common to
        all policies within a draw). Default (None): adaptive, see Notes.
    seed : int, optional
        Default :data:`mentorlib.rules.DEFAULT_SEED`. Draw ``r`` is the same whatever the
        number of draws.
    confidence : float, optional
        Level of the percentile intervals (default ``1 - rules.alpha``).
    progress : bool, optional
        Progress bar (tqdm); by default it appears only when the run takes more than 2 s.

    Returns
    -------
    PolicyComparison

    Notes
    -----
    Common random numbers (the same mentor effects and student residuals for every policy
    in a draw) make the paired differences far more precise than the separate intervals
    (Glasserman & Yao 1992). Intervals are percentile intervals over draws.

    Adaptive draws (``draws=None``): ``sim_draws_min`` draws first; then, while the Monte
    Carlo error of some compared difference of the outcome measures (``improved_*``, or
    ``mean_fit`` without a model) exceeds ``sim_mc_ratio`` of its interval's half-width,
    more draws (as many as that error predicts, at least half as many again), up to
    ``sim_draws_max`` (then a note gives the error reached). See
    :mod:`~mentorlib.grouping.montecarlo`; ``outcomes["mc_error"]`` reports every error.
    """
    if draws is not None and draws < 1:
        raise InputError("draws must be at least 1")
    conf = 1.0 - rules.alpha if confidence is None else float(confidence)
    pols = _policy_list(policies)
    pb = build_problem(students, mentors, rules, scope="school")
    sampler = OutcomeSampler(pb, model) if model is not None else None
    run = _Runner(students, mentors, pb)
    if sampler is not None and sampler.n_unknown:
        run.notes.append(f"{sampler.n_unknown} mentors have no effect estimate (taken as average)")
    most = int(draws) if draws is not None else max(rules.sim_draws_max, rules.sim_draws_min)
    root = np.random.SeedSequence(seed_int(seed))
    target, done = (most if draws is not None else min(rules.sim_draws_min, most)), 0
    bar = _progress_bar(most * len(pols), progress)
    try:
        while True:
            _run_draws(run, pols, sampler, root.spawn(target - done), done, bar)
            done = target
            if not run.first:
                raise InfeasibleError("no policy could group this roster: " + "; ".join(run.notes))
            draws_df = pd.DataFrame(run.rows, columns=["policy", "draw", "measure", "value"])
            outcomes = _summarise(
                draws_df, list(run.first), sampler is not None, conf, run.n_assign
            )
            short = _shortfall(outcomes, rules.sim_mc_ratio)
            if short <= 1 or done >= most:
                break
            target = next_draws(done, short, most)
    finally:
        bar.close()
    if short > 1 and draws is None:
        run.notes.append(
            f"after {done} draws the Monte Carlo error is {short:.1f} times the precision asked "
            f"for ({rules.sim_mc_ratio:g} of an interval's half-width)"
        )
    checks_df = pd.concat(run.checks, ignore_index=True)
    checks_df = checks_df[["policy", *[c for c in checks_df.columns if c != "policy"]]]
    return PolicyComparison(
        checks=checks_df,
        outcomes=outcomes,
        draws=draws_df,
        assignments=run.first,
        rules=rules,
        confidence=conf,
        notes=run.notes,
        n_students=pb.n,
        n_draws=done,
        mc_converged=short <= 1,
    )


def _run_draws(
    run: _Runner,
    pols: list[tuple[str, Policy]],
    sampler: OutcomeSampler | None,
    seeds: list[np.random.SeedSequence],
    start: int,
    bar: Any,
) -> None:
    """Draws ``start``, ``start + 1``, ... with their seeds: group, check, predict."""
    for r, ss in enumerate(seeds, start=start):
        pol_seed, out_ss = ss.spawn(2)
        shocks = sampler.draw(np.random.default_rng(out_ss), run.pb.n) if sampler else None
        for name, pol in pols:
            bar.update(1)
            if run.evaluate(name, pol, r, pol_seed):
                run.record(name, pol, r, sampler, shocks)


def _shortfall(outcomes: pd.DataFrame, ratio: float) -> float:
    """:func:`~mentorlib.grouping.montecarlo.shortfall` over the outcome measures'
    differences (``improved_*``; ``mean_fit`` when there is no outcome model)."""
    m = outcomes["measure"].astype(str)
    sub = outcomes.loc[m.str.startswith("improved_")]
    if sub.empty:
        sub = outcomes.loc[m == "mean_fit"]
    mc, lo, hi = (sub[c].to_numpy(dtype=float) for c in ("mc_error", "diff_lo", "diff_hi"))
    return shortfall(mc, lo, hi, ratio)


def _progress_bar(total: int, progress: bool | None) -> Any:
    """A tqdm bar: shown if asked, hidden if not, by default on a terminal after 2 s."""
    return tqdm(
        total=total,
        desc="policies",
        disable=True if progress is False else (None if progress is None else False),
        delay=0 if progress else 2,
        leave=False,
    )


def _summarise(draws: pd.DataFrame, order: list[str], outcomes: bool, conf: float, n_assign: int):
    cols = ["policy", "measure", "mean", "lo", "hi", "diff", "diff_lo", "diff_hi", "mc_error"]
    if draws.empty:
        return pd.DataFrame(columns=cols)
    keep = draws["measure"].str.startswith("improved_") | draws["measure"].isin(
        ["fit_covered", "mean_fit"]
    )
    wide = draws.loc[keep].pivot_table(index=["measure", "draw"], columns="policy", values="value")
    q = (1 - conf) / 2
    ref = order[0]
    rows = []
    for measure, w in wide.groupby(level="measure", sort=False):
        for pol in order:
            if pol not in w:
                continue
            v = w[pol].to_numpy()
            dv = v - w[ref].to_numpy() if ref in w else np.full(len(v), np.nan)
            some = np.isfinite(dv).any()
            clusters = w.index.get_level_values("draw").to_numpy() % n_assign
            rows.append(
                (
                    pol,
                    measure,
                    np.nanmean(v),
                    np.nanquantile(v, q),
                    np.nanquantile(v, 1 - q),
                    np.nanmean(dv),
                    np.nanquantile(dv, q) if some else np.nan,
                    np.nanquantile(dv, 1 - q) if some else np.nan,
                    mc_error(dv, clusters, q) if some else np.nan,
                )
            )
    out = pd.DataFrame(rows, columns=cols)
    first = ["improved_any"] if outcomes else []
    rank = {m: i for i, m in enumerate([*first, "mean_fit"])}
    out["_k"] = out["measure"].map(rank).fillna(len(rank))
    out["_p"] = out["policy"].map({p: i for i, p in enumerate(order)})
    out = out.sort_values(["_k", "measure", "_p"], kind="stable").drop(columns=["_k", "_p"])
    return out.reset_index(drop=True)


def compare_policies(
    processed: Processed,
    year: int,
    *,
    policies: Sequence[str | Policy] = DEFAULT_COMPARISON,
    model: OutcomeModel | None = None,
    draws: int | None = None,
    seed: Any = DEFAULT_SEED,
    term: int = 1,
    confidence: float | None = None,
    progress: bool | None = None,
) -> PolicyComparison:
    """Compare grouping policies on one year of a study (:func:`roster` + :func:`compare`).

    Parameters
    ----------
    processed : Processed
    year : int
    policies, model, draws, seed, confidence, progress
        See :func:`compare`. ``model``: the fitted effectiveness model as an
        :class:`~mentorlib.grouping.OutcomeModel` (or ``OutcomeModel.from_synth(study,
        year)`` on synthetic data).
    term : {1, 2}
        See :func:`~mentorlib.grouping.run_policy`.

    Returns
    -------
    PolicyComparison
        ``.checks``, ``.outcomes``, ``.draws``, ``.assignments``; ``.table()`` side by side;
        ``.plot()`` the figure; the result protocol (``summary``, ``tables``, ``figures``,
        ``to_json_dict``).

    Examples
    --------
    >>> from mentorlib.synth import generate, SynthParams
    >>> from mentorlib.data import from_synth
    >>> st = generate(SynthParams(n_students=300, n_years=1, seed=3))
    >>> cmp = compare_policies(from_synth(st), 2023, policies=("current", "optimal"),
    ...                        model=OutcomeModel.from_synth(st, 2023), draws=5)
    >>> cmp.table(lang="en").columns.tolist()
    ['current', 'optimal']
    """
    students, mentors = roster(processed, year, term=term)
    return compare(
        students,
        mentors,
        processed.rules,
        policies=policies,
        model=model,
        draws=draws,
        seed=seed,
        confidence=confidence,
        progress=progress,
    )
