"""What a grouping would likely yield: the outcome model, its sampler and one assignment's rates.

:class:`OutcomeModel`
    Mentor effects (with SEs), the needs-strength fit effect, the baseline change and the
    residual spread, in units of the improvement threshold; from the generator's truth
    (:meth:`OutcomeModel.from_synth`) or fitted on a study (:meth:`OutcomeModel.from_fitted`,
    with "improved" from :func:`mentorlib.progress.study_changes`, the headline's rule).
:class:`OutcomeSampler`
    Draws mentor effects, the fit coefficient and residuals; scores an assignment.
:func:`simulate_outcomes`
    Predicted improvement rates under one assignment, over random draws.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..effectiveness import study_models
from ..errors import InputError
from ..progress import study_changes
from ..rules import Rulebook
from .check import assignment_columns
from .roster import Problem, build_problem, require_columns, roster

if TYPE_CHECKING:
    from ..data import Processed

__all__ = ["OutcomeModel", "OutcomeSampler", "seed_int", "simulate_outcomes"]

#: ``reliability`` of :meth:`OutcomeModel.from_fitted` -> definition of ``study_changes``.
_DEFINITIONS = {"data": "rci_data", "published": "rci_published"}


@dataclass(frozen=True, eq=False)
class OutcomeModel:
    """What predicts a student's change over the year: the inputs of the simulator.

    ``change = baseline_d + u_{m,d} + fit_effect * fit_{s,m,d} + e_sd`` for a student
    ``s`` with mentor ``m`` in dimension ``d``, and the student improves significantly in
    ``d`` when the change exceeds ``threshold``. Feed it the fitted effectiveness model
    (mentor effects with their standard errors), or the generator's truth
    (:meth:`from_synth`).

    Parameters
    ----------
    effects : DataFrame
        ``mentor_id``, ``dimension``, ``effect`` and optionally ``se`` (0 if absent): each
        mentor's effect on the change (empirical-Bayes estimates and their standard errors).
        Mentors without a row get effect 0 with the standard deviation of the listed
        effects as their uncertainty (a new mentor is an average mentor).
    baseline : mapping
        Dimension -> expected change of a mentored student with an average mentor and no
        fit (maturation + programme effect). Its keys are the dimensions simulated.
    fit_effect : float
        Change for a student whose weak dimension ``d`` is among the mentor's strengths
        (``fit_{s,m,d}`` = 1, else 0).
    fit_effect_se : float
        Standard error of ``fit_effect`` (drawn once per simulation draw).
    residual_sd : float or mapping
        Standard deviation of the student-level residual ``e`` (per dimension if a mapping).
    residual_corr : float
        Correlation of the residuals across dimensions.
    threshold : float
        A change above this is a significant improvement (same scale as the effects).
    min_dimensions : int
        A student progresses with significant improvement in at least this many dimensions
        (PROGRAMME.md: "in 1-2 development dimensions"; the rulebook's ``k_dimensions``).
    """

    effects: pd.DataFrame
    baseline: Mapping[str, float]
    fit_effect: float = 0.0
    fit_effect_se: float = 0.0
    residual_sd: float | Mapping[str, float] = 1.0
    residual_corr: float = 0.0
    threshold: float = 0.5
    min_dimensions: int = 1

    def __post_init__(self) -> None:
        require_columns(self.effects, ("mentor_id", "dimension", "effect"), "effects")
        k = len(self.baseline)
        if not k:
            raise InputError("baseline needs at least one dimension")
        if k > 1 and not -1.0 / (k - 1) < self.residual_corr < 1.0:
            raise InputError(f"residual_corr {self.residual_corr} is not a valid correlation")
        if not 1 <= self.min_dimensions <= k:
            raise InputError(f"min_dimensions must be between 1 and {k}")

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(self.baseline)

    @classmethod
    def from_synth(cls, study: Any, year: int) -> OutcomeModel:
        """The generator's true outcome model for one year (a known-truth predictor).

        Mentor effects are the year's true effects (``truth["mentor_effects"]``, se 0);
        baseline = maturation + programme effect; fit effect, residual SD and correlation
        and the improvement threshold are the generator's parameters. Left out: the dose
        effect of talk frequency and the focus-group penalties (the same under any policy).
        """
        p = study.params
        eff = study.truth["mentor_effects"]
        eff = eff.loc[eff["year"] == year]
        if eff.empty:
            raise InputError(f"the synthetic study has no mentor effects for year {year}")
        dims = tuple(p.dimensions)
        return cls(
            effects=pd.DataFrame(
                {
                    "mentor_id": eff["mentor_id"].astype(str).to_numpy(),
                    "dimension": eff["dimension"].astype(str).to_numpy(),
                    "effect": eff["effect"].to_numpy(dtype=float),
                    "se": 0.0,
                }
            ),
            baseline={
                d: float(a + b)
                for d, a, b in zip(dims, p.maturation, p.programme_effect, strict=True)
            },
            fit_effect=float(p.fit_effect),
            residual_sd=float(p.change_sd),
            residual_corr=float(p.change_corr),
            threshold=float(p.improve_threshold),
            min_dimensions=1,
        )

    @classmethod
    def from_fitted(
        cls,
        processed: Processed,
        year: int,
        *,
        term: int = 1,
        z: float | None = None,
        min_dimensions: int | None = None,
        models: Mapping | None = None,
        reliability: str = "data",
    ) -> OutcomeModel:
        """The outcome model estimated from a study's own data (what a school would use).

        Every quantity is expressed in units of each dimension's reliable-change criterion
        ``c_d``, the ``threshold`` of :func:`mentorlib.progress.study_changes` (the headline's
        rule: ``z * sqrt(2) * SD_pre * sqrt(1 - r_d)``, Jacobson & Truax 1991, with ``r_d`` this
        year's pre-wave Cronbach alpha, or with ``reliability="published"`` the codebook's
        published alpha; ``z`` the rulebook's ``rci_z``), so a change above 1 is a reliable
        improvement and ``threshold = 1``:

        * mentor effects: the empirical-Bayes effects (and conditional SEs) of
          :func:`mentorlib.effectiveness.study_models`, divided by ``c_d``;
        * fit effect: the pooled OLS coefficient of the standardised change on the
          needs-strength fit indicator (student's weak dimension among the mentor's strengths),
          with dimension intercepts and standard errors clustered by mentor;
        * baseline: the mean standardised change net of the fit effect;
        * residual SD and correlation: of the standardised change net of baseline, fit and
          the mentor's effect.

        Parameters
        ----------
        processed : Processed
        year : int
        term : {1, 2}
            The term whose groups are the students' mentors.
        z : float, optional
            RCI critical value (default: the rulebook's ``rci_z``).
        min_dimensions : int, optional
            Default: the rulebook's ``k_dimensions``.
        models : mapping, optional
            Dimension -> fitted mentor model (default: ``study_models(processed, year)``).
        reliability : {"data", "published"}

        Notes
        -----
        The fit effect is observational (students were not assigned to mentors at random), so
        predictions for a new grouping extrapolate it; the comparison states so.
        """
        rules = processed.rules
        students, mentors = roster(processed, year, term=term)
        pb = build_problem(students, mentors, rules)
        cur = pb.current()
        dims = list(processed.dimensions)
        std, crit = _standardised_change(processed, year, pb.sid, dims, rules, z, reliability)
        fit = {d: _fit_indicator(pb, cur, d) for d in dims}
        fit_effect, fit_se = _fit_effect(std, fit, cur, dims, len(pb.mentors))
        models = models or study_models(processed, year, outcomes=dims)
        effects, own = _mentor_effects(models, crit, pb, cur, dims)
        resid = {d: std[d] - fit_effect * fit[d] - own[d] for d in dims}
        baseline = {d: float(np.nanmean(resid[d])) for d in dims}
        return cls(
            effects=effects,
            baseline=baseline,
            fit_effect=fit_effect,
            fit_effect_se=fit_se,
            residual_sd={d: float(np.nanstd(resid[d], ddof=1)) for d in dims},
            residual_corr=_mean_correlation(resid, baseline, dims),
            threshold=1.0,
            min_dimensions=rules.k_dimensions if min_dimensions is None else min_dimensions,
        )


def _standardised_change(
    processed: Processed,
    year: int,
    sid: np.ndarray,
    dims: list[str],
    rules: Rulebook,
    z: float | None,
    reliability: str,
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Change in the good direction over each dimension's threshold, per roster student."""
    definition = _DEFINITIONS.get(reliability)
    if definition is None:
        raise InputError(f"reliability must be 'data' or 'published', got {reliability!r}")
    if z is not None:
        rules = rules.with_changes(rci_z=float(z))
    ch = study_changes(processed, year, definition=definition, rules=rules)
    ch = ch.assign(student_id=ch["student_id"].astype(str), dimension=ch["dimension"].astype(str))
    thr = ch.dropna(subset=["threshold"]).groupby("dimension", sort=False)["threshold"].first()
    sign = np.where(ch["direction"].astype(str) == "down", -1.0, 1.0)
    good = ch.assign(good=sign * ch["change"].to_numpy(dtype=float)).pivot(
        index="student_id", columns="dimension", values="good"
    )
    good = good.reindex(index=pd.Index(sid, dtype=object))
    crit = {d: float(thr.get(d, np.nan)) for d in dims}
    std = {
        d: (good[d].to_numpy(dtype=float) if d in good else np.full(len(sid), np.nan)) / crit[d]
        for d in dims
    }
    return std, crit


def _fit_indicator(pb: Problem, cur: np.ndarray, d: str) -> np.ndarray:
    """1 where dimension ``d`` is a weak dimension of the student and a strength of the mentor."""
    k = list(pb.rules.dimensions).index(d)
    has = cur >= 0
    f = np.zeros(len(cur))
    f[has] = (pb.weak[has, k] & pb.strength[cur[has], k]).astype(float)
    return f


def _fit_effect(
    std: dict[str, np.ndarray],
    fit: dict[str, np.ndarray],
    cur: np.ndarray,
    dims: list[str],
    n_mentors: int,
) -> tuple[float, float]:
    """Pooled OLS of the standardised change on the fit indicator, clustered by mentor."""
    # statsmodels is loaded only here: importing the grouping package stays quick
    import statsmodels.api as sm

    long = pd.DataFrame(
        {
            "y": np.concatenate([std[d] for d in dims]),
            "fit": np.concatenate([fit[d] for d in dims]),
            "dim": np.repeat(dims, len(cur)),
            # a student with no recorded mentor is a cluster of their own
            "mentor": np.tile(np.where(cur >= 0, cur, n_mentors + np.arange(len(cur))), len(dims)),
        }
    ).dropna()
    X = pd.get_dummies(long["dim"], dtype=float)
    X["fit"] = long["fit"].to_numpy()
    ols = sm.OLS(long["y"].to_numpy(), X.to_numpy()).fit(
        cov_type="cluster", cov_kwds={"groups": long["mentor"]}
    )
    return float(ols.params[-1]), float(ols.bse[-1])


def _mentor_effects(
    models: Mapping, crit: dict[str, float], pb: Problem, cur: np.ndarray, dims: list[str]
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Mentor effects in threshold units, and each student's mentor effect per dimension."""
    rows, own = [], {}
    ids = pb.mentors["mentor_id"].astype(str).to_numpy()
    for d in dims:
        e = models[d].effects
        e = e[e["term"] == "intercept"]
        eff = pd.Series(e["effect"].to_numpy(float) / crit[d], index=e["mentor_id"].astype(str))
        rows.append(
            pd.DataFrame(
                {
                    "mentor_id": eff.index,
                    "dimension": d,
                    "effect": eff.to_numpy(),
                    "se": e["se"].to_numpy(float) / crit[d],
                }
            )
        )
        mine = eff.reindex(ids[np.maximum(cur, 0)]).fillna(0.0).to_numpy()
        own[d] = np.where(cur >= 0, mine, 0.0)
    return pd.concat(rows, ignore_index=True), own


def _mean_correlation(
    resid: dict[str, np.ndarray], baseline: Mapping[str, float], dims: list[str]
) -> float:
    """Mean off-diagonal correlation of the residuals (clipped to a valid equicorrelation)."""
    res = np.column_stack([resid[d] - baseline[d] for d in dims])
    ok = ~np.isnan(res).any(axis=1)
    cor = (
        np.atleast_2d(np.corrcoef(res[ok].T))
        if ok.sum() > 2 and len(dims) > 1
        else np.eye(len(dims))
    )
    off = cor[~np.eye(len(dims), dtype=bool)].mean() if len(dims) > 1 else 0.0
    return float(np.clip(off, -0.9 / max(len(dims) - 1, 1), 0.95))


class OutcomeSampler:
    """Draws mentor effects, the fit coefficient and residuals; scores an assignment."""

    def __init__(self, pb: Problem, model: OutcomeModel):
        dims = list(model.dimensions)
        rdims = list(pb.rules.dimensions)
        miss = [d for d in dims if d not in rdims]
        if miss:
            raise InputError(f"outcome model dimensions {miss} are not the rulebook's {rdims}")
        idx = [rdims.index(d) for d in dims]
        self.dims = dims
        self.weak = pb.weak[:, idx]
        self.strength = pb.strength[:, idx]
        self._effects(pb, model.effects)
        self.base = np.array([model.baseline[d] for d in dims], dtype=float)
        sd = model.residual_sd
        self.sd = np.array(
            [float(sd[d]) for d in dims] if isinstance(sd, Mapping) else [float(sd)] * len(dims)
        )
        c = np.full((len(dims), len(dims)), model.residual_corr) + (
            1 - model.residual_corr
        ) * np.eye(len(dims))
        self.chol = np.linalg.cholesky(c)
        self.model = model

    def _effects(self, pb: Problem, effects: pd.DataFrame) -> None:
        """Each mentor's effect mean and SD (unknown mentors: 0 and the spread of the known)."""
        dims = self.dims
        e = effects.assign(
            mentor_id=lambda d: d["mentor_id"].astype(str),
            dimension=lambda d: d["dimension"].astype(str),
        )
        if "se" not in e:
            e = e.assign(se=0.0)
        e = e.loc[e["dimension"].isin(dims)].drop_duplicates(
            ["mentor_id", "dimension"], keep="last"
        )
        mean = e.pivot(index="mentor_id", columns="dimension", values="effect").reindex(
            columns=dims
        )
        se = e.pivot(index="mentor_id", columns="dimension", values="se").reindex(columns=dims)
        prior = mean.std(ddof=1).fillna(0.0).to_numpy() if len(mean) > 1 else np.zeros(len(dims))
        mean = mean.reindex(pb.mid)
        se = se.reindex(pb.mid)
        known = mean.notna().to_numpy()
        self.u_mean = np.where(known, mean.to_numpy(dtype=float), 0.0)
        self.u_se = np.where(known, se.fillna(0.0).to_numpy(dtype=float), prior[None, :])
        self.n_unknown = int((~known.all(1)).sum())

    def draw(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, float, np.ndarray]:
        """One draw: mentor effects ``u`` (m, D), the fit coefficient, residuals (n, D)."""
        u = self.u_mean + self.u_se * rng.standard_normal(self.u_mean.shape)
        beta = self.model.fit_effect + self.model.fit_effect_se * rng.standard_normal()
        eps = (rng.standard_normal((n, len(self.dims))) @ self.chol.T) * self.sd
        return u, beta, eps

    def rates(self, col: np.ndarray, u: np.ndarray, beta: float, eps: np.ndarray) -> dict:
        """The measures of :func:`simulate_outcomes` for one assignment under one draw."""
        a = np.flatnonzero(col >= 0)
        if not len(a):
            return {}
        m = col[a]
        fitd = self.weak[a] & self.strength[m]
        delta = self.base + u[m] + beta * fitd + eps[a]
        imp = delta > self.model.threshold
        out = {"improved_any": float((imp.sum(1) >= self.model.min_dimensions).mean())}
        out.update({f"improved_{d}": float(imp[:, k].mean()) for k, d in enumerate(self.dims)})
        out["fit_covered"] = float(fitd.sum() / max(self.weak[a].sum(), 1))
        return out


def seed_int(seed: Any) -> int | None:
    """A seed for :class:`numpy.random.SeedSequence` (a generator gives one integer)."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**32))
    return seed


def simulate_outcomes(
    assignment: pd.DataFrame,
    students: pd.DataFrame,
    mentors: pd.DataFrame,
    rules: Rulebook,
    model: OutcomeModel,
    *,
    draws: int = 200,
    seed: Any = None,
) -> pd.DataFrame:
    """Predicted improvement rates under one assignment, over random draws.

    Parameters
    ----------
    assignment : DataFrame
        ``student_id``, ``mentor_id``.
    students, mentors : DataFrame
        As returned by :func:`~mentorlib.grouping.roster` (weak areas and strengths give the
        per-dimension fit).
    rules : Rulebook
    model : OutcomeModel
        Mentor effects with SEs, the fit effect, baseline change and residual SD.
    draws : int
        Random draws of mentor effects (from their sampling distribution), of the fit effect
        and of students' residuals.

    Returns
    -------
    DataFrame
        ``draw``, ``measure``, ``value``. Measures: ``improved_any`` (share of students
        improving significantly in at least ``model.min_dimensions`` dimensions),
        ``improved_<dimension>``, ``fit_covered`` (share of weak dimensions covered by the
        mentor's strengths).

    Notes
    -----
    Each draw samples ``u_m ~ N(effect_m, se_m^2)``, ``beta ~ N(fit_effect, se^2)`` and
    ``e_s ~ N(0, Sigma)`` (``Sigma``: ``residual_sd`` and ``residual_corr``), computes
    ``delta_sd = baseline_d + u_{m(s),d} + beta * 1[d weak for s and a strength of m(s)] +
    e_sd`` and counts ``delta_sd > threshold``. The spread over draws is a prediction
    interval for the rate a school of this roster would observe (parameter uncertainty and
    finite-sample noise together), in the spirit of Gelman & Hill (2007, ch. 7).
    """
    pb = build_problem(students, mentors, rules, scope="school")
    col, invalid = assignment_columns(pb, assignment)
    if invalid:
        raise InputError(f"assignment has {invalid} rows with unknown or repeated IDs")
    sampler = OutcomeSampler(pb, model)
    rows = []
    for r, ss in enumerate(np.random.SeedSequence(seed_int(seed)).spawn(int(draws))):
        u, beta, eps = sampler.draw(np.random.default_rng(ss), pb.n)
        rows += [(r, k, v) for k, v in sampler.rates(col, u, beta, eps).items()]
    return pd.DataFrame(rows, columns=["draw", "measure", "value"])
