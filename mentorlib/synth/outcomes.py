"""Outcomes: the yearly change of the latent traits, exams, the physical check, the truth.

``delta = maturation + mentored * (programme_effect + u_mentor + fit_effect * fit + dose_effect *
(talks per month - rule)) + focus-group penalties + e`` (see :mod:`mentorlib.synth.model`);
exams follow the academic trait, height and weight follow age and sex only (the placebo).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import GeneratorBase
from .draws import corr_normal, grm_moments
from .params import SUBJECTS_MIDDLE, SUBJECTS_PRIMARY


class OutcomesMixin(GeneratorBase):
    """Change, exams, the physical check and the truth tables."""

    def year_change(self, yi, roster, theta_pre, m1, m2, weak, talks):
        """The year's change of the latent traits (see the module docstring).

        Returns theta_post, delta, the fit per dimension, talks per month, this year's
        mentor effects (after their drift) and each student's mentoring term (0 for students
        without a mentor; ``delta - ment_term`` is the untreated counterfactual)."""
        p = self.p
        a = self.reg.a
        sid = roster["sid"].to_numpy()
        D = len(self.dims)
        target = self.rules.talks_per_month
        mentee = m1 >= 0
        rng_o = self.rng["outcome"]
        talk_rate = (talks[0] + talks[1]) / 9.0
        u_y = self.u + rng_o.normal(0, p.mentor_drift_sd, self.u.shape) * (yi > 0)
        self.u_year = u_y
        w1 = 5 / 9
        ment = mentee.astype(float)
        u_i = np.zeros((len(sid), D))
        fit_d = np.zeros((len(sid), D))
        for m, w in ((m1, w1), (m2, 1 - w1)):
            ok = m >= 0
            u_i[ok] += w * u_y[m[ok]]
            fit_d[ok] += w * (weak[ok] & self.strength[m[ok]])
        eps = corr_normal(rng_o, len(sid), np.full(D, p.change_sd), p.change_corr)
        lb = a["left_behind"][sid].astype(float)
        sp = (a["family"][sid] != "two_parent").astype(float)
        psych = self.dims.index("psychological")
        ment_term = ment[:, None] * (
            np.asarray(p.programme_effect)[None, :]
            + u_i
            + p.fit_effect * fit_d
            + p.dose_effect * (talk_rate - target)[:, None]
        )
        delta = np.asarray(p.maturation)[None, :] + ment_term + eps
        delta[:, psych] += p.left_behind_psych * lb + p.single_parent_psych * sp
        return theta_pre + delta, delta, fit_d, talk_rate, u_y, ment_term

    def summer(self, sid, theta_post) -> None:
        """The summer: next September's traits lose ``summer_loss`` plus noise."""
        p = self.p
        self.reg.a["theta"][sid] = (
            theta_post
            - p.summer_loss
            + self.rng["outcome"].normal(0, p.summer_sd, theta_post.shape)
        )

    def student_table(self, year, roster, mentee, yi):
        a = self.reg.a
        sid = roster["sid"].to_numpy()
        g = roster["grade"].to_numpy()
        male = a["gender"][sid] == "male"
        if self.p.level == "primary":
            base = 119.5 + 5.6 * (g - 1) + 0.8 * male
        else:
            base = np.where(male, 156.0 + 6.0 * (g - 7), 154.0 + 2.5 * (g - 7))
        rng = self.rng["misc"]
        height = np.round(base + 5.5 * a["height_z"][sid] + rng.normal(0, 0.4, len(sid)), 1)
        bmi = 16.0 + 0.35 * (g - 1) + 2.0 * a["bmi_z"][sid]
        weight = np.round(np.clip(bmi, 12, 35) * (height / 100) ** 2, 1)
        return pd.DataFrame(
            {
                "student_id": a["student_id"][sid],
                "year": year,
                "name": a["name"][sid],
                "gender": a["gender"][sid],
                "birth_date": a["birth_date"][sid],
                "grade": g,
                "class_no": roster["class_no"].to_numpy(),
                "transfer": a["transfer"][sid],
                "family": a["family"][sid],
                "left_behind": a["left_behind"][sid],
                "home_area": a["home_area"][sid],
                "mentee": mentee,
                "height_cm": height,
                "weight_kg": weight,
            }
        )

    def exams(self, yi, roster, pre, post, rng):
        p = self.p
        year = p.years[yi]
        sid = roster["sid"].to_numpy()
        g = roster["grade"].to_numpy()
        acad = self.dims.index("academic")
        subj_z = None
        frames = []
        for term, th in (
            (1, pre[:, acad] + 0.5 * (post[:, acad] - pre[:, acad])),
            (2, post[:, acad]),
        ):
            z = np.empty_like(th)
            for gg in np.unique(g):
                s = g == gg
                z[s] = (th[s] - th[s].mean()) / (th[s].std() + 1e-9)
            if p.level == "primary":
                subjects = SUBJECTS_PRIMARY
                mu, sd = 82.0, 11.0
            else:
                subjects = SUBJECTS_MIDDLE
                mu, sd = 72.0, 15.0
            if subj_z is None:
                subj_z = rng.standard_normal((len(sid), len(subjects)))
            for j, subj in enumerate(subjects):
                if subj == "english" and p.level == "primary":
                    took = g >= 3
                elif subj == "physics":
                    took = g >= 8
                elif subj == "chemistry":
                    took = g >= 9
                else:
                    took = np.ones(len(sid), bool)
                score = np.clip(
                    np.round(
                        mu
                        + sd
                        * (0.75 * z + 0.45 * subj_z[:, j] + 0.45 * rng.standard_normal(len(sid)))
                    ),
                    0,
                    100,
                )
                absent = rng.random(len(sid)) < 0.01
                idx = np.flatnonzero(took)
                frames.append(
                    pd.DataFrame(
                        {
                            "student_id": self.reg.a["student_id"][sid[idx]],
                            "year": year,
                            "term": term,
                            "subject": subj,
                            "score": np.where(absent[idx], np.nan, score[idx]),
                            "status": np.where(absent[idx], "absent", "sat"),
                        }
                    )
                )
        return pd.concat(frames, ignore_index=True)

    def emit_att(self, year, mentee, pre, delta, ment_term) -> None:
        """The true effect of being mentored on the mentored (ATT), one row per dimension and
        a row ``dimension = "any"`` (see :func:`att_table`)."""
        r = self.rules
        self.emit(
            "att",
            att_table(year, self.dims, mentee, pre, delta, ment_term, r.true_delta, r.k_dimensions),
            truth=True,
        )

    def emit_truth(self, year, roster, m1, pre, post, delta, fit_d, talk_rate, u_y):
        p = self.p
        ids = self.reg.a["student_id"][roster["sid"].to_numpy()]
        staff_ids = self.staff["staff_id"].to_numpy()
        n, D = pre.shape
        self.emit(
            "latent",
            pd.DataFrame(
                {
                    "student_id": np.repeat(ids, D),
                    "year": year,
                    "dimension": np.tile(np.asarray(self.dims), n),
                    "theta_pre": pre.ravel(),
                    "theta_post": post.ravel(),
                    "delta": delta.ravel(),
                    "improved": delta.ravel() > p.improve_threshold,
                    "mentor_id": np.repeat(
                        np.where(m1 >= 0, staff_ids[np.maximum(m1, 0)], None), D
                    ),
                    "fit": fit_d.ravel(),
                    "talks_per_month": np.repeat(talk_rate, D),
                }
            ),
            truth=True,
        )
        M = len(staff_ids)
        self.emit(
            "mentor_effects",
            pd.DataFrame(
                {
                    "mentor_id": np.repeat(staff_ids, D),
                    "year": year,
                    "dimension": np.tile(np.asarray(self.dims), M),
                    "effect": u_y.ravel(),
                }
            ),
            truth=True,
        )
        # population reliability of the mean score given this cohort's theta, per wave (exact
        # moments; a random 20,000 students are plenty to pin the variances down)
        sub = (
            np.sort(np.random.default_rng(year).choice(n, 20000, replace=False))
            if n > 20000
            else slice(None)
        )
        for wave, th in (("pre", pre[sub]), ("post", post[sub])):
            for d, dim in enumerate(self.dims):
                j = np.flatnonzero(self.item_dim == d)
                mean, var = grm_moments(th[:, d], self.a[j], self.b[j], np.zeros(len(j), bool))
                t = mean.sum(1)
                rel = t.var() / (t.var() + var.sum(1).mean())
                self.emit(
                    "reliability",
                    pd.DataFrame(
                        {"year": [year], "wave": [wave], "dimension": [dim], "reliability": [rel]}
                    ),
                    truth=True,
                )


def att_table(year, dims, mentee, pre, delta, ment_term, true_delta, k_dimensions) -> pd.DataFrame:
    """The true effect of being mentored on the mentored, for one year.

    ``att_latent``: mean over the mentored of their mentoring term (generator units);
    ``att_sd``: the same in SDs of the year's pre-test latent of all students;
    ``p_improved`` / ``p_improved_untreated``: share of the mentored whose true change exceeds
    ``true_delta`` pre-test SDs with / without their mentoring term; ``att_rate`` their
    difference. The ``"any"`` row counts change above the threshold in at least
    ``k_dimensions`` dimensions (att_latent and att_sd NaN).

    >>> t = att_table(2023, ("x",), np.array([True, True, False]), np.array([[0.0], [1.0], [2.0]]),
    ...               np.array([[1.5], [0.2], [0.0]]), np.array([[1.0], [0.0], [0.0]]), 1.0, 1)
    >>> t.loc[0, ["att_latent", "att_sd", "p_improved", "p_improved_untreated", "att_rate"]].tolist()
    [0.5, 0.5, 0.5, 0.0, 0.5]
    """
    n = int(mentee.sum())
    sd = pre.std(0, ddof=1)
    thr = true_delta * sd[None, :]
    above = delta[mentee] > thr
    above0 = (delta - ment_term)[mentee] > thr
    empty = n == 0
    att = np.full(len(dims), np.nan) if empty else ment_term[mentee].mean(0)
    rows = {
        "year": year,
        "dimension": [*dims, "any"],
        "n_mentored": n,
        "att_latent": [*att, np.nan],
        "att_sd": [*(att / sd), np.nan],
    }
    if empty:
        p1 = p0 = np.full(len(dims) + 1, np.nan)
    else:
        p1 = np.r_[above.mean(0), (above.sum(1) >= k_dimensions).mean()]
        p0 = np.r_[above0.mean(0), (above0.sum(1) >= k_dimensions).mean()]
    return pd.DataFrame({**rows, "p_improved": p1, "p_improved_untreated": p0, "att_rate": p1 - p0})
