"""The comparison's guidance table: each design's assumption, what the data say, its estimate.

One row per estimator of :mod:`mentorlib.progress.comparison` that produced an estimate:
``estimator, label, assumption, diagnostic, supported, scale, estimate, ci_low, ci_high``.
``supported`` is True / False when the data can check the assumption (pre-test balance for the
naive rows, balance after weighting below :data:`.comparison_ps.SMD_BALANCED` and overlap for
the weighted ones, a pre-trend interval covering 0 for the DiD) and None when they cannot (the
latent ANCOVA's no-unmeasured-confounding).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..labels import Lang
from ..labels_comparison import COMPARISON_ASSUMPTIONS, COMPARISON_ESTIMATORS
from .comparison_ps import SMD_BALANCED

__all__ = ["guidance_table"]

_ORDER = ("naive_rate", "naive_change", "ancova_latent", "ipw", "aipw", "did")


def _pre_smd(bal: pd.DataFrame | None, col: str) -> float:
    if bal is None:
        return float("nan")
    pre = bal.loc[bal["covariate"].str.startswith("pre_") & (bal["covariate"] != "pre_missing")]
    return float(pre[col].abs().max()) if len(pre) else float("nan")


def _diagnostic(name: str, est: pd.DataFrame, bal, facts: dict, L: Lang):
    """``(text, supported)`` of one estimator."""
    if name in ("naive_rate", "naive_change"):
        s = _pre_smd(bal, "smd_before")
        if not np.isfinite(s):
            return "", None
        return (
            L(f"前测标准化均值差最大{s:.2f}", f"largest pre-test SMD {s:.2f}"),
            bool(s < SMD_BALANCED),
        )
    if name == "ancova_latent":
        return L("无法用数据检验", "not testable from the data"), None
    if name in ("ipw", "aipw"):
        if bal is None:
            return "", None
        s = float(bal["smd_after"].abs().max())
        n_trim = int(facts.get("n_trimmed", 0))
        ess = facts.get("ess_control", float("nan"))
        text = L(
            f"加权后标准化均值差最大{s:.2f}；剔除{n_trim}名无共同支撑的受导学生；"
            f"对照组有效样本量{ess:.0f}",
            f"largest SMD after weighting {s:.2f}; {n_trim} mentee(s) without overlap left "
            f"out; effective control sample {ess:.0f}",
        )
        return text, bool(s < SMD_BALANCED)
    r = est.loc[(est["estimator"] == "did") & (est["dimension"] == "mean")].iloc[0]
    lo, hi, p = r["pretrend_ci_low"], r["pretrend_ci_high"], r["pretrend"]
    return (
        L(
            f"前一年的趋势差{p:+.2f}个标准差[{lo:.2f}, {hi:.2f}]",
            f"pre-trend difference {p:+.2f} SD [{lo:.2f}, {hi:.2f}]",
        ),
        bool(lo <= 0 <= hi),
    )


def guidance_table(
    est: pd.DataFrame, bal: pd.DataFrame | None, facts: dict, lang: str = "en"
) -> pd.DataFrame:
    """The guidance rows (see the module docstring); the headline row of each estimator is its
    rate (``dimension = "any"``) or the mean over dimensions."""
    L = Lang(lang)
    rows = []
    for name in _ORDER:
        sub = est.loc[est["estimator"] == name] if len(est) else est
        if sub.empty:
            continue
        head = sub.loc[sub["dimension"].isin(["any", "mean"])]
        r = (head if len(head) else sub).iloc[0]
        text, ok = _diagnostic(name, est, bal, facts, L)
        rows.append(
            {
                "estimator": name,
                "label": L.of(COMPARISON_ESTIMATORS, name),
                "assumption": L.of(COMPARISON_ASSUMPTIONS, name),
                "diagnostic": text,
                "supported": ok,
                "scale": r["scale"],
                "estimate": r["estimate"],
                "ci_low": r["ci_low"],
                "ci_high": r["ci_high"],
            }
        )
    return pd.DataFrame(rows)
