"""School effects of a district: students in mentors in schools, with shrinkage and ranks.

The model (a linear probability model of the student-level "improved" outcome, 1/0)::

    y_ijk = mu + u_i + v_ij + e_ijk,   u_i ~ N(0, s_school^2), v_ij ~ N(0, s_mentor^2),
                                       e_ijk ~ N(0, s_resid^2)

student k of mentor j of school i. The three variances are estimated by restricted maximum
likelihood (REML, Patterson & Thompson 1971), each school's effect is its best linear unbiased
predictor (BLUP, the empirical-Bayes posterior mean) with its posterior SD, and the ranking
uncertainty is simulated from those posteriors (:func:`school_rank_probabilities`, Goldstein &
Spiegelhalter 1996, JRSS A 159:385: "league tables" rank noise).

Why a linear probability model rather than a logistic mixed model: the school effects are then
on the scale of the certified share (percentage points), the nested likelihood has a closed form
computed from mentor-level sums (a 200,000-student district fits in well under a second;
statsmodels ``MixedLM`` with a mentor variance component took minutes on 36,000 students), and
the district's rates sit far from 0 and 1, where the linear and logistic models agree on the
ranking. The closed form: within a mentor of ``n`` students, ``V = s_e^2 I + s_v^2 J`` has
``1'V^-1 1 = n / (s_e^2 + n s_v^2)``; within a school the school effect adds ``s_u^2 11'``
(Sherman-Morrison), so with ``W_i`` the sum of the mentors' ``n / (s_e^2 + n s_v^2)``:

- school shrinkage ``lambda_i = s_u^2 W_i / (1 + s_u^2 W_i)`` in (0, 1);
- BLUP ``u_i = lambda_i * d_i``, ``d_i`` the school's precision-weighted mean deviation;
- posterior variance ``s_u^2 / (1 + s_u^2 W_i)`` given the variances. An effect is read as
  the school's deviation from the district's own mean (the summary's wording), so mu's
  uncertainty, shared by every school, is left out: it belongs to the deviation from a
  population of districts' schools, and with 3 schools it made every interval +-100 points
  or more. Against the deviation from the simulated schools' own mean the intervals cover
  93-98% from 3 to 170 schools (``benchmarks/validate_district_effects.py``).

The school variance is the uncertain one (a district has tens of schools, and thousands of
mentors inform the other two): by default each school's effect and SD are averaged over it
(``intervals="integrated"``, as the mentors' intervals are): a flat prior on ``s_u``, weighted
by the restricted likelihood on a grid from 0 to where it has dropped by 20 log units (at most
:data:`SD_MAX`), the mentor and residual variances at their estimates. Given the estimated
school SD (``intervals="conditional"``) the intervals covered 67% of the effects with 3
schools, 80-87% with 5 and 88-93% with 10-20, where the integrated ones cover 93-98%.

Intake is not adjusted for: a school effect is the school's improved rate compared with the
district's, pooled towards it in proportion to how little the school's data say.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..effectiveness import rank_probabilities
from ..errors import InputError

#: Columns of :attr:`SchoolEffects.effects`.
EFFECT_COLUMNS = (
    "school_id",
    "n",
    "n_mentors",
    "raw",
    "effect",
    "se",
    "ci_low",
    "ci_high",
    "shrinkage",
)

#: The largest SD of school effects on a 0/1 outcome's probability scale (the SD of any
#: variable in [0, 1] is at most 1/2): the top of the grid the school SD is averaged over.
#: With few schools the restricted likelihood barely falls as the SD grows, and an unbounded
#: grid took the intervals to +-280 points (3 schools).
SD_MAX = 0.5

#: The kinds of interval of :func:`fit_school_effects`.
INTERVALS = ("integrated", "conditional")


@dataclass
class SchoolEffects:
    """The fitted model: variances (as SDs), the district mean and one row per school."""

    mean: float
    sd_school: float
    sd_mentor: float
    sd_resid: float
    effects: pd.DataFrame
    n_students: int
    converged: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def icc_school(self) -> float:
        """Share of the outcome's variance between schools."""
        tot = self.sd_school**2 + self.sd_mentor**2 + self.sd_resid**2
        return float(self.sd_school**2 / tot) if tot > 0 else float("nan")


def _mentor_sums(df: pd.DataFrame, y: str, school: str, mentor: str) -> pd.DataFrame:
    v = df[y].to_numpy(float)
    t = pd.DataFrame({"school": df[school].to_numpy(), "mentor": df[mentor].to_numpy(), "y": v})
    t["y2"] = v * v
    g = t.groupby(["school", "mentor"], sort=True)
    m = g.agg(n=("y", "size"), sum=("y", "sum"), ss=("y2", "sum")).reset_index()
    return m


class _Nested:
    """Sufficient statistics of the nested model and its REML criterion."""

    def __init__(self, m: pd.DataFrame):
        self.n = m["n"].to_numpy(float)
        self.s = m["sum"].to_numpy(float)
        self.ss = m["ss"].to_numpy(float)
        codes, self.schools = pd.factorize(m["school"], sort=True)
        self.code = codes
        self.S = len(self.schools)
        self.N = float(self.n.sum())

    def _parts(self, theta: np.ndarray):
        se2, sv2, su2 = np.exp(theta)
        d = se2 + self.n * sv2
        w = self.n / d  # 1'V_j^-1 1
        W = np.bincount(self.code, w, self.S)
        wy = np.bincount(self.code, self.s / d, self.S)  # 1'V_j^-1 y summed per school
        return se2, sv2, su2, d, W, wy

    def criterion(self, theta: np.ndarray) -> float:
        """Minus twice the REML log-likelihood (constants dropped)."""
        se2, sv2, su2, d, W, wy = self._parts(theta)
        a = 1 + su2 * W
        prec = W / a  # 1'V_i^-1 1
        mu = float((wy / a).sum() / prec.sum())
        # r'V^-1 r per mentor, r = y - mu, then the school term by Sherman-Morrison
        rs = self.s - self.n * mu
        rr = self.ss - 2 * mu * self.s + self.n * mu**2
        q_mentor = rr / se2 - sv2 / (se2 * d) * rs**2
        q_school = np.bincount(self.code, rs / d, self.S)
        quad = q_mentor.sum() - (su2 * q_school**2 / a).sum()
        logdet = ((self.n - 1) * np.log(se2) + np.log(d)).sum() + np.log(a).sum()
        return float(logdet + quad + np.log(prec.sum()))

    def conditional(self, theta: np.ndarray):
        """Given the variances: mu, lambda, the BLUPs and their posterior variances."""
        se2, sv2, su2, _, W, wy = self._parts(theta)
        a = 1 + su2 * W
        prec = W / a
        mu = float((wy / a).sum() / prec.sum())
        dev = (wy - mu * W) / W  # precision-weighted mean deviation of each school
        lam = su2 * W / a
        return mu, lam, lam * dev, su2 / a

    def integrated(self, theta: np.ndarray, n_grid: int = 120):
        """The BLUPs and their variances averaged over the school SD (module docstring)."""
        best = self.criterion(theta)
        at = theta.copy()

        def crit(g: float) -> float:
            at[2] = math.log(g * g) if g > 0 else -60.0
            return self.criterion(at)

        top = min(max(2 * math.exp(theta[2] / 2), 1e-3), SD_MAX)
        while top < SD_MAX and crit(top) - best <= 40:  # -2 log likelihood: 20 log units
            top = min(2 * top, SD_MAX)
        grid = np.linspace(0.0, top, n_grid)
        m2l = np.array([crit(g) for g in grid])
        wt = np.exp(-(m2l - m2l.min()) / 2)
        wt /= wt.sum()
        m1 = m2 = 0.0
        for g, pk in zip(grid, wt, strict=True):
            if pk < 1e-12:
                continue
            at[2] = math.log(g * g) if g > 0 else -60.0
            _, _, u, v = self.conditional(at)
            m1 = m1 + pk * u
            m2 = m2 + pk * (v + u * u)
        return m1, np.maximum(m2 - m1 * m1, 0.0)

    def fit(self) -> tuple[np.ndarray, bool]:
        var = float(max(self.ss.sum() / self.N - (self.s.sum() / self.N) ** 2, 1e-6))
        best = None
        for start in ((0.9, 0.05, 0.05), (0.98, 0.01, 0.01)):
            x0 = np.log(np.array(start) * var)
            r = optimize.minimize(self.criterion, x0, method="L-BFGS-B", bounds=[(-30, 5)] * 3)
            if best is None or r.fun < best.fun:
                best = r
        assert best is not None
        return best.x, bool(best.success)


def fit_school_effects(
    df: pd.DataFrame,
    *,
    y: str = "improved",
    school: str = "school_id",
    mentor: str = "mentor_id",
    confidence: float = 0.95,
    intervals: str = "integrated",
) -> SchoolEffects:
    """Fit the nested model (module docstring) to one row per student.

    Parameters
    ----------
    df : DataFrame
        ``school``, ``mentor`` and the 0/1 outcome ``y`` (rows with a missing value are left
        out). Mentor ids need only be unique within a school.
    confidence : float
        Level of each school effect's interval (posterior mean +- z * posterior SD).
    intervals : {"integrated", "conditional"}
        ``integrated`` (default): effects and SDs averaged over the school variance's
        uncertainty; ``conditional``: given its estimate (under-covers with few schools).

    Returns
    -------
    SchoolEffects
        ``effects``: :data:`EFFECT_COLUMNS`: students and mentors, ``raw`` (the school's rate
        minus the district mean), ``effect`` (BLUP), ``se`` (posterior SD), the interval and
        ``shrinkage`` (lambda at the estimated variances: 1 = the school's own rate is
        trusted, 0 = pooled to the mean).

    Raises
    ------
    InputError
        Fewer than two schools, no student with an outcome, or an unknown ``intervals``.
    """
    if intervals not in INTERVALS:
        raise InputError(f"unknown intervals {intervals!r}: expected integrated or conditional")
    need = {y, school, mentor}
    if not need <= set(df.columns):
        raise InputError(f"the school-effects model needs columns {sorted(need)}")
    d = df.loc[df[y].notna(), [school, mentor, y]].copy()
    d[school] = d[school].astype(str)
    d[mentor] = d[mentor].astype(str)
    if d[school].nunique() < 2:
        raise InputError("the school-effects model needs at least two schools with outcomes")
    m = _mentor_sums(d, y, school, mentor)
    nest = _Nested(m)
    theta, ok = nest.fit()
    se2, sv2, su2 = np.exp(theta)
    mu, lam, effect, var = nest.conditional(theta)
    if intervals == "integrated":
        effect, var = nest.integrated(theta)
    post_sd = np.sqrt(var)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    counts = d.groupby(school, sort=True).agg(n=(y, "size"), n_mentors=(mentor, "nunique"))
    raw = d.groupby(school, sort=True)[y].mean() - mu
    eff = pd.DataFrame(
        {
            "school_id": list(nest.schools),
            "n": counts["n"].reindex(nest.schools).to_numpy(),
            "n_mentors": counts["n_mentors"].reindex(nest.schools).to_numpy(),
            "raw": raw.reindex(nest.schools).to_numpy(),
            "effect": effect,
            "se": post_sd,
            "ci_low": effect - z * post_sd,
            "ci_high": effect + z * post_sd,
            "shrinkage": lam,
        }
    )
    notes = [] if ok else ["the REML optimiser did not report convergence; read with care"]
    return SchoolEffects(
        mu,
        math.sqrt(su2),
        math.sqrt(sv2),
        math.sqrt(se2),
        eff,
        int(len(d)),
        ok,
        notes,
    )


def school_rank_probabilities(
    fit: SchoolEffects, *, quantile: float = 0.25, n_sims: int = 4000, seed: int | None = 0
) -> pd.DataFrame:
    """Each school's probability of being in the top or bottom ``quantile`` of the district,
    from draws of the school effects' posteriors (independent normals; ties at random):
    :func:`mentorlib.effectiveness.rank_probabilities` with schools for mentors.

    Returns the effects with ``rank`` (1 = largest effect), ``p_top``, ``p_bottom``,
    ``rank_median``, ``rank_low``, ``rank_high``, ``n_ranked``.
    """
    return rank_probabilities(
        fit.effects, id_col="school_id", quantile=quantile, n_sims=n_sims, seed=seed
    )
