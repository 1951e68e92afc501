"""The estimated share of students who truly progressed: plausible values of the latent change.

The reliable-change rule certifies a student only when the measured change beats the
measurement error, so it counts far fewer students than truly improved. This module estimates
the share that truly improved the way NAEP and PISA estimate population distributions from
noisy individual measures (Mislevy 1991; von Davier, Gonzalez & Mislevy 2009):

1. Per dimension, an anchored graded-response model of the items (:mod:`.irt`) puts both waves
   on one latent scale in SDs of the pre-test population.
2. One population model across all dimensions, with the item parameters of step 1 held fixed
   (NAEP's conditioning model): the ``D`` pre and ``D`` post latents of a student are
   multivariate normal (mean from an intercept and, for a breakdown, the group dummies; one
   covariance across dimensions), so the correlation of true change across dimensions is
   estimated, not lost, and "at least k of D dimensions" is not inflated.
3. Plausible values drawn jointly by data augmentation (:mod:`.pv_sampler`): Gibbs sweeps over
   the dimensions, each student's (theta_pre, theta_post) of one dimension drawn from its 2-D
   grid posterior (item likelihood x the conditional normal given the other dimensions' current
   draws), the population model re-estimated between sweeps (stochastic EM during burn-in,
   drawn from its posterior afterwards); ``m`` draws kept a few sweeps apart. The latent change
   is ``post - pre``.
4. The share with true change > ``delta`` in at least ``k`` dimensions is computed per draw; the
   estimate is their mean. Its interval comes from a student-level bootstrap of the whole
   imputation (Schomaker & Heumann 2018, "Boot MI"): ``N_BOOT`` replicates of the students
   resampled with replacement, each re-estimating the population model (item parameters held
   fixed) and drawing ``BOOT_M`` plausible-value sets; the variance is the spread of the
   replicates' shares plus ``(1 + 1/m)`` x the between-draw variance (the posterior variance
   of the share among these students, and the point estimate's Monte Carlo variance; see
   :func:`bootstrap_interval`). Rubin's (1987) rules
   over the plausible values alone (binomial ``p(1-p)/n`` + ``(1 + 1/m)`` x between-draw
   variance, Barnard & Rubin's 1999 degrees of freedom; ``n_boot = 0``) ignore the uncertainty
   of the population model, whose change covariances are weakly identified, and covered the
   truth in 33-75% of simulated schools.

   Measured (benchmarks/bench_true_share.py, few schools: coverage steps of 17-25 points;
   realised / population truth): n = 400, 6 schools per share, Rubin -> bootstrap: share ~0.6
   coverage 33/67% -> 67/67%, width 0.118 -> 0.168; share ~0.85 67/33% -> 83/50%, width
   0.075 -> 0.112; n = 1,200, 4 schools: share ~0.6 50/50% -> 75/75%, width 0.067 -> 0.126;
   share ~0.85 75/50% -> 75/75%, width 0.049 -> 0.126.
   Still short of 93-97%: the estimate is biased up (+3.5 to +4.8 points at n = 400, +1 to +2
   at 1,200) and the interval is centred on it. ~50 s per school of 400 with B = 30 (3-4 s
   without), ~135 s at 1,200 (15 s), one thread on a loaded machine.

   Where the bias comes from (issue 14; bench_true_share.py --students 400 --schools 10
   --boot 0, share ~0.6, m = 10, seeds 1000-1009):

   - Not the definition: the generator's latent traits have SD ~1 per dimension (0.98-1.04 in
     a synthetic primary school) and its ``improve_threshold`` is the rulebook's
     ``true_delta`` (0.5), so "true change > delta pre-test SDs" is the same event.
   - Not the item parameters: with the generator's true item parameters the error over 6
     schools was +4.3 points, with the fitted ones +2.7.
   - Not the sampler: with the population model held at the truth the plausible values'
     share was within 0.2 points of the realised one on average (4 schools).
   - Not the covariance prior (``PRIOR_N`` 10 -> 2: +4.2 for +4.2) nor the burn-in
     (30 -> 120 sweeps: no systematic change).
   - One real defect, fixed: the stochastic EM could reach a near-singular covariance
     (eigenvalue 1e-4), the Gibbs regression weights then summed to 80+ and the change
     variance exploded (0.4 -> 2-5) while the change correlation collapsed (0.6 -> 0.1); some
     schools came out 8-16 points high. The covariance's eigenvalues are now floored
     (:data:`.pv_sampler.EIG_FLOOR`): those schools fall to +5 and below.
   - What is left (+4.1 points over the 10 schools, +3.7 against the population) is the
     estimated population model itself: the change correlations across dimensions rest on
     ~5% of their complete-data information, so at n = 400 they scatter (0.42-0.69 for a
     true 0.6), and "at least one of four" rises more when the correlation is too low than
     it falls when it is too high. The errors are skewed (most schools within +-3 points, a
     few +6 to +9), and the bias shrinks roughly as 1/n (+1 to +2 at 1,200). A bootstrap
     bias correction (2 x estimate - the replicates' mean) does not help: in the two worst
     schools (+6.5, +9.4) the replicates' mean sat 1.3 below and 0.4 above the estimate.
     With the report's settings (m = 10, 6 replicates; coverage_true_share.py, 20 schools
     of 400 per share): share ~0.6 bias +2.7 points, coverage 80% (realised) / 85%
     (population), width 0.167; share ~0.85 +0.8, 90% / 85%, width 0.129; 7-18 s per school.

   Follow-up (issue 14, part pv2; 16 schools of 400, share ~0.6, m = 10, no bootstrap, the
   same seeds for every variant):

   - The correlation's scatter is not the cause. Pooling the change correlations (one
     common correlation across the 6 dimension pairs, variances free) moved the estimate by
     +0.2 points (paired SD 1.8), pooling the cross-dimension pre-change correlations too by
     -0.5 (SD 2.3): neither is kept. The pooled correlation averaged 0.62 for a true 0.6, and
     the share is nearly linear in it (0.5 -> +3.8 points, 0.7 -> -3.8), so its scatter adds
     little by Jensen's inequality; the scatter of the four change means (SE ~0.04) adds ~0.6.
   - One cause found and fixed: the uniform jitter of the kept draws within their grid cell
     added the cell's variance to every latent; the plausible values' share sat 0.8 points
     above the population model's own implied share. The draws are now the grid nodes
     (:mod:`.pv_sampler`): bias +2.9 -> +2.0 on the same schools.
   - What is left (~+1.7 points at n = 400) is the estimated population model's implied
     share against the share implied by the schools' true change moments: change means
     ~+0.01 and change SDs ~+0.01 too high on average, plus the mean's scatter.
   - Unequal change correlations (0.3-0.8 across the pairs, 20 schools of 400): bias -0.5
     points (SE 0.8): the unstructured covariance needs no structure from the generator.

   Coverage with the report's settings after the fix (coverage_true_share.py, m = 10,
   B = 6 replicates, t with 5 df). With the variance = the replicates' spread + between / m
   (the Monte Carlo variance only), 40 primary schools of 400 per share: coverage of the
   realised share 92.5% (~0.6) and 90.0% (~0.85): the error against the realised share had a
   mean square 1.3-1.7 x the bootstrap variance, which measures the estimator's spread around
   the population value (1.05 x / 0.80 x of it) and leaves out the realised share's own
   uncertainty given the model. With + (1 + 1/m) x the between-draw variance
   (:func:`bootstrap_interval`; benchmarks/results/true_share_coverage*_v2.csv; the 400
   primary rows recomputed from the same chains and replicates; bias_r against each school's
   realised share with its SE over schools; cov_r / cov_p coverage of the realised share / the
   population probability; seconds per school on a loaded machine):

   ======= ==== ===== ======= ============== ===== ====== ===== ====
   level   n    share schools bias_r (SE)    cov_r cov_p  width s
   ======= ==== ===== ======= ============== ===== ====== ===== ====
   primary 400  ~0.6  40      +0.018 (0.007) 95.0% 97.5%  0.228 6.8
   primary 400  ~0.85 40      +0.008 (0.005) 95.0% 100.0% 0.143 11.0
   primary 1200 ~0.6  18      -0.009 (0.011) 94.4% 83.3%  0.146 18.7
   primary 1200 ~0.85 17      -0.000 (0.006) 94.1% 94.1%  0.101 18.1
   middle  400  ~0.6  45      +0.013 (0.006) 97.8% 100.0% 0.224 5.8
   middle  400  ~0.85 44      +0.007 (0.005) 95.5% 97.7%  0.143 6.1
   ======= ==== ===== ======= ============== ===== ====== ===== ====

   ("middle" = the item table of a small mentorlib.synth middle study, the same simulated
   latents; 17-45 schools per row, short of the issue's 100: each coverage figure has a
   standard error of 3-5 points.) Population coverage at 1,200 / ~0.6 (83%) is low because
   the interval is for the realised share, which a school of 1,200 pins more tightly.
   More replicates (each ~1 s at n = 400, ~2 s at 1,200 on an idle core; ~16 s for the chain at
   1,200) would narrow the t quantile (2.57 at B = 6, 2.26 at 10) but were not needed at 400.
   Left open: the item parameters' uncertainty (held fixed in the replicates).

Calibration sample (``sample``): the middle school assesses every student and mentors a
few, so its item parameters rest on the whole year and ``delta`` is in SDs of the whole
year's pre-test, while the population model and the share are the mentees'. With ~120
mentees of 800, item fits on the mentees alone left the share +2.4 / +5.3 / +2.7 points high
in the three years of 12-22 schools (benchmarks/validate_true_share_pipeline.py).

Functions
---------
plausible_values
    Long table of draws per student, dimension and draw.
share_from_draws
    The share and its Rubin interval from a (draws x students) indicator matrix.
bootstrap_interval
    The share and its bootstrap-of-imputations interval.
estimated_true_share
    The whole estimate, with an optional breakdown by a grouping column.

References: Mislevy, R. J. (1991). Psychometrika 56, 177-196. von Davier, M., Gonzalez, E. &
Mislevy, R. J. (2009). IERI Monograph Series 2, 9-36. Schomaker, M. & Heumann, C. (2018).
Computational Statistics & Data Analysis 122, 96-114. Rubin, D. B. (1987). Multiple Imputation
for Nonresponse in Surveys. Barnard, J. & Rubin, D. B. (1999). Biometrika 86, 948-955.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError
from ..io.codebook import Codebook
from ..scales import as_codebook
from .irt import GRMFit, blas_threads, fit_grm, prepare_dimension
from .pv_sampler import JointDraws, draw_joint

__all__ = [
    "TrueShare",
    "bootstrap_interval",
    "estimated_true_share",
    "plausible_values",
    "share_from_draws",
]

METHOD = "grm_pv"
METHOD_BOOT = "grm_pv_boot"
#: Sweeps of the full-sample chain (burn-in, thinning); plausible_values' defaults.
BURN_IN, THIN = 30, 2
#: Student-level bootstrap: replicates, plausible-value sets per replicate, stochastic-EM sweeps
#: re-estimating the population model (started from the full sample's model and chain state)
#: and sweeps between a replicate's draws.
N_BOOT, BOOT_M, BOOT_BURN_IN, BOOT_THIN = 30, 2, 10, 2
#: EM tolerance of the per-dimension item fits: item parameters move < 0.001 per iteration at
#: stop, far inside their standard errors (0.03-0.08 at n = 5,000; tests/test_progress_irt.py);
#: the population model is re-estimated jointly afterwards anyway.
FIT_TOL = 1e-3


@dataclass(frozen=True)
class TrueShare:
    """The estimated share of students whose true change exceeds ``delta`` in >= ``k`` dimensions.

    ``per_dimension`` has the share per dimension (same interval rule); ``breakdown`` the share
    per group of the ``by`` column (or None); ``fits`` the item model per dimension.
    """

    estimate: float
    ci_low: float
    ci_high: float
    delta: float
    k: int
    method: str
    n_students: int
    m: int
    per_dimension: pd.DataFrame
    breakdown: pd.DataFrame | None = None
    fits: dict[str, GRMFit] = field(default_factory=dict)
    #: Shares of the ``subsets`` asked for: ``by, group, n_students, estimate, ci_low, ci_high``.
    subsets: pd.DataFrame | None = None

    def as_dict(self) -> dict[str, float | int | str]:
        """The ``estimated_true_share`` entry of ``progress --json``."""
        return {
            "estimate": float(self.estimate),
            "ci_low": float(self.ci_low),
            "ci_high": float(self.ci_high),
            "delta": self.delta,
            "k": self.k,
            "method": self.method,
        }


def share_from_draws(hit: np.ndarray, alpha: float = 0.05) -> tuple[float, float, float]:
    """Share and Rubin interval from a (draws x students) boolean matrix."""
    m, n = hit.shape
    if n == 0:
        return np.nan, np.nan, np.nan
    p = hit.mean(axis=1)
    est = float(p.mean())
    within = float((p * (1 - p)).mean() / n)
    between = float(p.var(ddof=1)) if m > 1 else 0.0
    total = within + (1 + 1 / m) * between
    if total <= 0:
        return est, est, est
    r = (1 + 1 / m) * between / max(within, 1e-12)
    df_m = (m - 1) * (1 + 1 / max(r, 1e-12)) ** 2 if m > 1 else np.inf
    lam = (1 + 1 / m) * between / total
    df_obs = (n - 1 + 1) / (n - 1 + 3) * (n - 1) * (1 - lam)
    df = 1 / (1 / df_m + 1 / max(df_obs, 1e-12))
    half = float(stats.t.ppf(1 - alpha / 2, df)) * np.sqrt(total)
    return est, max(est - half, 0.0), min(est + half, 1.0)


def _design(
    students: pd.Index, by: pd.Series | None, covariates: pd.DataFrame | None = None
) -> np.ndarray:
    """Latent-regression design: an intercept, for a breakdown the group dummies, and the
    conditioning ``covariates`` (numeric columns indexed by student_id; a missing value is
    replaced by the column mean, constant columns are dropped)."""
    x = pd.DataFrame({"const": 1.0}, index=students)
    if by is not None:
        g = by.reindex(students).astype("string").fillna("<NA>")
        x = x.join(pd.get_dummies(g, prefix="by", drop_first=True, dtype=float).set_axis(students))
    if covariates is not None and covariates.shape[1]:
        c = covariates.copy()
        c.index = c.index.astype("str")
        c = c.loc[~c.index.duplicated()].reindex(students).astype(float)
        c = c.fillna(c.mean()).fillna(0.0)
        c = c.loc[:, c.std(ddof=0) > 0]
        x = x.join(c.add_prefix("cov_"))
    arr = x.to_numpy(dtype=float)
    # drop columns that are linear combinations of earlier ones (e.g. grade dummies + a flag)
    keep: list[int] = []
    for j in range(arr.shape[1]):
        if np.linalg.matrix_rank(arr[:, [*keep, j]]) == len(keep) + 1:
            keep.append(j)
    return arr[:, keep]


def plausible_values(
    items: pd.DataFrame,
    codebook: Codebook | str,
    *,
    m: int = 20,
    seed: int = 0,
    by: pd.Series | None = None,
    burn_in: int = BURN_IN,
    thin: int = THIN,
    covariates: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict[str, GRMFit]]:
    """Plausible values of (theta_pre, theta_post) per student, dimension and draw.

    Parameters
    ----------
    items : DataFrame
        The canonical ``assessment_items`` table of one year (``student_id, year, wave,
        dimension, item, value``), reverse-keyed items as answered.
    codebook : Codebook or str
        The assessment codebook (items, dimensions, reverse keys, answer scales).
    m : int, default 20
        Draws per student.
    seed : int
    by : Series, optional
        A grouping variable indexed by student_id (grade, focus group): its dummies enter the
        latent regression so group shares are not shrunk towards the school's.
    burn_in, thin : int
        Sweeps of the joint sampler before the first kept draw and between kept draws
        (:func:`.pv_sampler.draw_joint`).
    covariates : DataFrame, optional
        Conditioning variables of the latent regression (numeric, indexed by student_id):
        grade dummies, focus-group flags, gender, as NAEP conditions on background variables.

    Returns
    -------
    (DataFrame, dict)
        ``student_id, dimension, draw, theta_pre, theta_post, change`` and the item fits.
    """
    fj = _fit_joint(
        items, codebook, m=m, seed=seed, by=by, burn_in=burn_in, thin=thin, covariates=covariates
    )
    dims, students, nd, ns = fj.dims, fj.students, len(fj.dims), len(fj.students)
    frames = [
        pd.DataFrame(
            {
                "student_id": np.tile(students.to_numpy(), m),
                "dimension": d,
                "draw": np.repeat(np.arange(m), ns),
                "theta_pre": fj.joint.draws[:, :, j].ravel(),
                "theta_post": fj.joint.draws[:, :, nd + j].ravel(),
            }
        )
        for j, d in enumerate(dims)
    ]
    out = pd.concat(frames, ignore_index=True)
    out["change"] = out["theta_post"] - out["theta_pre"]
    return out, fj.fits


@dataclass(frozen=True)
class _JointFit:
    """Everything a bootstrap replicate reuses: the data, the item fits, the first chain."""

    dims: list[str]
    students: pd.Index
    responses: list[tuple[np.ndarray, np.ndarray]]
    fits: dict[str, GRMFit]
    x: np.ndarray
    joint: JointDraws
    #: Columns of ``x`` in the post-test means only (the ``treated`` flag), or None.
    post_only: np.ndarray | None = None
    #: The students whose share is estimated (all of them unless ``treated`` was given).
    target: np.ndarray | None = None


def _treated_design(x: np.ndarray, students: pd.Index, treated) -> tuple[np.ndarray, ...]:
    """``x`` with the ``treated`` flag appended, the post-only mask and the target mask."""
    flag = students.isin(pd.Index(treated).astype("str"))
    if flag.all() or not flag.any():
        raise InputError(
            f"{int(flag.sum())} of {len(students)} students flagged: the selection-aware model "
            "needs flagged and unflagged students with item answers"
        )
    x = np.column_stack([x, flag.astype(float)])
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise InputError("the flag is a combination of the conditioning covariates")
    post_only = np.zeros(x.shape[1], dtype=bool)
    post_only[-1] = True
    return x, post_only, flag


def _fit_joint(
    items, codebook, *, m, seed, by, burn_in, thin, covariates=None, sample=None, treated=None
) -> _JointFit:
    if m < 2:
        raise InputError(f"m = {m}: plausible values need at least 2 draws")
    cb = as_codebook(codebook)
    rng = np.random.default_rng(seed)
    dims = [
        d
        for d in cb.dimensions
        if (items["item"].astype(str).isin([f.var for f in cb.items_of(d)])).any()
    ]
    data = {d: prepare_dimension(items, cb, d) for d in dims}
    students = pd.Index(sorted(set().union(*(set(v.students) for v in data.values()))))
    if sample is not None:
        students = students[students.isin(pd.Index(sample).astype("str"))]
        if not len(students):
            raise InputError("none of the sample's students answered an item")
    x, post_only, target = _design(students, by, covariates), None, None
    if treated is not None:
        x, post_only, target = _treated_design(x, students, treated)
    with blas_threads(1):
        fits = {
            d: fit_grm(v.pre, v.post, n_categories=v.n_categories, tol=FIT_TOL)
            for d, v in data.items()
        }
        responses = [
            (_expand(v.pre, v.students, students), _expand(v.post, v.students, students))
            for v in data.values()
        ]
        joint = draw_joint(
            responses,
            list(fits.values()),
            x,
            m=m,
            burn_in=burn_in,
            thin=thin,
            rng=rng,
            post_only=post_only,
        )
    return _JointFit(dims, students, responses, fits, x, joint, post_only, target)


def _expand(resp: np.ndarray, have: pd.Index, students: pd.Index) -> np.ndarray:
    """``resp``'s rows (students ``have``) in the order of ``students``; -1 (not answered) for
    a student not in ``have``; students of ``have`` not in ``students`` are left out."""
    out = np.full((len(students), resp.shape[1]), -1, dtype=np.int64)
    pos = have.get_indexer(students)
    out[pos >= 0] = resp[pos[pos >= 0]]
    return out


def _above(draws: np.ndarray, delta: float) -> np.ndarray:
    """(draws, students, D) indicator of a latent change above ``delta``."""
    d = draws.shape[2] // 2
    return (draws[:, :, d:] - draws[:, :, :d]) > delta


def _bootstrap(
    fj: _JointFit, groups: np.ndarray, delta: float, k: int, n_boot: int, seed: int, masks=None
):
    """Shares of ``n_boot`` student-level bootstrap replicates, each with ``BOOT_M`` draws.

    Students are resampled with replacement within each group (the whole school when there is
    no breakdown, so the latent-regression design keeps every group). Each replicate repeats
    the estimator on the resampled students with the item parameters held fixed: the
    population model's start (disattenuated moments) is recomputed and re-estimated by
    ``BOOT_BURN_IN`` stochastic-EM sweeps, then ``BOOT_M`` plausible-value sets are drawn.
    A replicate started from the full sample's model and chain state instead barely moved in
    a few sweeps (the change covariances carry ~5% of their complete-data information) and its
    interval was narrower than Rubin's (width 0.09 for 0.12 at n = 400, where the estimate's
    spread over schools is ~0.056 SD); the cold start reproduces that spread (width 0.23).
    Returns (B, BOOT_M) overall shares, (B, BOOT_M, D) per-dimension shares and, per group
    level and per key of ``masks`` (boolean student masks, possibly overlapping), (B, BOOT_M)
    group shares.
    """
    rng = np.random.default_rng([seed, 14])
    target = fj.target if fj.target is not None else np.ones(len(fj.students), dtype=bool)
    levels = pd.unique(groups)
    # resampled within each group and, with a flag, flagged and unflagged apart
    members = [np.flatnonzero((groups == g) & (target == t)) for g in levels for t in (0, 1)]
    members = [r for r in members if len(r)]
    masks = {**{g: (groups == g) & target for g in levels}, **(masks or {})}
    overall = np.empty((n_boot, BOOT_M))
    per_dim = np.empty((n_boot, BOOT_M, len(fj.dims)))
    by_group = {g: np.full((n_boot, BOOT_M), np.nan) for g in masks}
    with blas_threads(1):
        for b in range(n_boot):
            idx = np.concatenate([rng.choice(r, size=len(r), replace=True) for r in members])
            jd = draw_joint(
                [(pre[idx], post[idx]) for pre, post in fj.responses],
                list(fj.fits.values()),
                fj.x[idx],
                m=BOOT_M,
                burn_in=BOOT_BURN_IN,
                thin=BOOT_THIN,
                rng=rng,
                post_only=fj.post_only,
            )
            above = _above(jd.draws, delta)
            hit = above.sum(axis=2) >= k
            tb = target[idx]
            overall[b], per_dim[b] = hit[:, tb].mean(axis=1), above[:, tb].mean(axis=1)
            for g, mask in masks.items():
                sel = mask[idx]
                if sel.any():
                    by_group[g][b] = hit[:, sel].mean(axis=1)
    return overall, per_dim, by_group


def bootstrap_interval(
    hit: np.ndarray, boot: np.ndarray, alpha: float = 0.05
) -> tuple[float, float, float]:
    """Share and interval by the bootstrap of imputations.

    ``hit`` is the full sample's (draws x students) indicator; ``boot`` the (B x m_b) shares of
    the bootstrap replicates, each replicate with its own resampled students, re-estimated
    population model and plausible values. The interval is for the share among these students
    (the realised share, what a school report claims). Its variance is the spread of the
    replicates' mean shares (the estimator's variance over samples of students and the
    population model's uncertainty; Schomaker & Heumann 2018, "Boot MI") plus ``(1 + 1/m)`` x
    the between-draw variance of the shares: the posterior variance of the realised share
    given the model (each draw is a draw of every student's latents) and the point estimate's
    Monte Carlo variance. t quantile with B - 1 degrees of freedom. With the bootstrap spread
    alone (+ between / m) the error against the realised share was larger than the interval
    said (its mean square 1.3-1.7 x the bootstrap variance: the change's reliability is low,
    so the estimate follows the population model more than this school's draw of students);
    see the coverage table above.
    """
    m, n = hit.shape
    if n == 0:
        return np.nan, np.nan, np.nan
    p = hit.mean(axis=1)
    est = float(p.mean())
    boot = boot[np.isfinite(boot).all(axis=1)]
    if boot.shape[0] < 2:
        return share_from_draws(hit, alpha)
    total = float(boot.mean(axis=1).var(ddof=1)) + (1 + 1 / m) * float(p.var(ddof=1))
    half = float(stats.t.ppf(1 - alpha / 2, boot.shape[0] - 1)) * np.sqrt(total)
    return est, max(est - half, 0.0), min(est + half, 1.0)


def estimated_true_share(
    items: pd.DataFrame,
    codebook: Codebook | str,
    *,
    delta: float = 0.5,
    k: int = 1,
    m: int = 20,
    seed: int = 0,
    by: pd.Series | None = None,
    alpha: float = 0.05,
    n_boot: int = N_BOOT,
    covariates: pd.DataFrame | None = None,
    subsets: dict[tuple[str, str], pd.Series] | None = None,
    sample: pd.Index | None = None,
    treated: pd.Index | None = None,
) -> TrueShare:
    """The estimated share of students with true change > ``delta`` in at least ``k`` dimensions.

    Parameters are those of :func:`plausible_values`, plus ``delta`` (latent SDs of the pre-test
    population; the rulebook's ``true_delta``), ``k`` (the rulebook's ``k_dimensions``),
    ``alpha`` (1 - the interval's level), ``n_boot`` (student-level bootstrap replicates;
    0 = Rubin's rules over the plausible values only, which ignore the population model's
    uncertainty and under-cover) and ``subsets``: named groups of students, possibly
    overlapping (``{(by, group): boolean Series indexed by student_id}``), whose shares are
    read from the same draws and bootstrap replicates (put their indicators in
    ``covariates`` so the latent regression does not shrink them towards the school's).
    ``sample`` (student IDs): the students whose share is estimated when the item parameters
    are calibrated on every student of ``items``. ``treated`` (student IDs): the students whose
    share is estimated by the selection-aware model, fitted on every student of ``items`` with
    the flag in the post-test means only (students selected on their observed pre-test, the
    middle school's nominated mentees: :func:`.pv_sampler.restricted_coef`); the breakdowns and
    ``subsets`` are then of the flagged students. Returns a :class:`TrueShare`; ``method`` is ``"grm_pv_boot"`` (``"grm_pv"`` with
    ``n_boot = 0``); ``subsets`` has ``by, group, n_students, estimate, ci_low, ci_high``.
    """
    chain = {"m": m, "seed": seed, "by": by, "burn_in": BURN_IN, "thin": THIN}
    fj = _fit_joint(items, codebook, covariates=covariates, sample=sample, treated=treated, **chain)
    dims, students = fj.dims, fj.students
    if not 1 <= k <= len(dims):
        raise InputError(f"k = {k}: must be between 1 and the {len(dims)} dimensions measured")
    target = fj.target if fj.target is not None else np.ones(len(students), dtype=bool)
    groups = (
        by.reindex(students).astype("string").fillna("<NA>").to_numpy()
        if by is not None
        else np.zeros(len(students), dtype=object)
    )
    masks = {
        key: mask.set_axis(mask.index.astype("str"))
        .groupby(level=0)
        .first()
        .reindex(students)
        .fillna(False)
        .to_numpy(dtype=bool)
        & target
        for key, mask in (subsets or {}).items()
    }
    boot, boot_dim, boot_group = (
        _bootstrap(fj, groups, delta, k, n_boot, seed, masks) if n_boot >= 2 else (None,) * 3
    )
    above, groups = _above(fj.joint.draws, delta)[:, target], groups[target]
    hit = above.sum(axis=2) >= k
    masks = {key: mask[target] for key, mask in masks.items()}

    def interval(h, b):
        return share_from_draws(h, alpha) if b is None else bootstrap_interval(h, b, alpha)

    est, lo, hi = interval(hit, boot)
    per_dim = pd.DataFrame(
        [
            (d, *interval(above[:, :, j], None if boot_dim is None else boot_dim[:, :, j]))
            for j, d in enumerate(dims)
        ],
        columns=["dimension", "estimate", "ci_low", "ci_high"],
    )
    breakdown = None
    if by is not None:
        rows = []
        for level in pd.unique(groups):
            sel = groups == level
            gb = None if boot_group is None else boot_group[level]
            rows.append((level, int(sel.sum()), *interval(hit[:, sel], gb)))
        breakdown = pd.DataFrame(
            rows, columns=[by.name or "group", "n", "estimate", "ci_low", "ci_high"]
        )
    sub = pd.DataFrame(
        [
            (
                *key,
                int(sel.sum()),
                *interval(hit[:, sel], None if boot_group is None else boot_group[key]),
            )
            for key, sel in masks.items()
        ],
        columns=["by", "group", "n_students", "estimate", "ci_low", "ci_high"],
    )
    method = METHOD_BOOT if n_boot >= 2 else METHOD
    return TrueShare(
        est,
        lo,
        hi,
        float(delta),
        int(k),
        method,
        int(target.sum()),
        m,
        per_dim,
        breakdown,
        fj.fits,
        sub if subsets else None,
    )
