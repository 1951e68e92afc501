"""Surveys and measurement: satisfaction, growth needs, the development assessment.

The end-of-term satisfaction survey is driven by mentor quality, fit and talk frequency (with
change requests and reasons); the growth-needs survey follows the weak dimensions (middle school
adds preferred mentors); the assessment answers come from the graded-response model at a pre
(September) and a post (June) wave.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import calendar
from ..io.codebook import load_codebook
from .base import GeneratorBase
from .draws import sigmoid
from .params import INTERESTS, OTHER_NEEDS_TEXT, OTHER_REASON_TEXT, REASONS, SAT_ITEMS


class SurveysMixin(GeneratorBase):
    """Satisfaction, needs and the assessment."""

    def satisfaction(self, yi, term, roster, mentor, fitv, talk_rate, rng):
        p = self.p
        m_idx = np.flatnonzero(mentor >= 0)
        mm = mentor[m_idx]
        zfit = (fitv[m_idx] - fitv[m_idx].mean()) / (fitv[m_idx].std() + 1e-9)
        target = self.rules.talks_per_month
        s = (
            0.6 * self.quality[mm]
            + 0.5 * zfit
            + 0.4 * (talk_rate[m_idx] - target)
            + rng.standard_normal(len(m_idx))
        )
        tau = np.array([-2.4, -1.5, -0.5, 0.7])
        items = 1 + (
            s[:, None, None] + 0.6 * rng.standard_normal((len(m_idx), SAT_ITEMS, 1)) > tau
        ).sum(2)
        want = rng.random(len(m_idx)) < sigmoid(-3.4 - 1.1 * s)
        w = np.tile(np.array([0.25, 0.3, 0.25, 0.12, 0.08]), (len(m_idx), 1))
        w[:, 1] *= np.exp(-1.0 * zfit)
        w[:, 2] *= np.exp(-0.8 * (talk_rate[m_idx] - target))
        w /= w.sum(1, keepdims=True)
        reason_i = (rng.random(len(m_idx))[:, None] > np.cumsum(w, 1)).sum(1)
        reason = np.where(want, np.asarray(REASONS, dtype=object)[np.minimum(reason_i, 4)], None)
        text = np.where(reason == "other", rng.choice(OTHER_REASON_TEXT, len(m_idx)), None)
        year = p.years[yi]
        d0 = calendar.term_bounds(year, term)[1] - pd.Timedelta(days=12)
        submitted = (
            d0
            + pd.to_timedelta(rng.integers(0, 8 * 86400, len(m_idx)), unit="s")
            + pd.Timedelta(hours=8)
        )
        ids = self.reg.a["student_id"][roster["sid"].to_numpy()[m_idx]]
        df = pd.DataFrame({"student_id": ids, "year": year, "term": term})
        for j in range(SAT_ITEMS):
            df[f"sat_{j + 1}"] = items[:, j]
        df["satisfaction"] = items.mean(1)
        df["want_change"] = want
        df["reason"] = reason
        df["reason_text"] = text
        df["submitted_at"] = submitted
        full = {
            "want_change": np.zeros(len(roster), bool),
            "reason": np.full(len(roster), None, dtype=object),
        }
        full["want_change"][m_idx] = want
        full["reason"][m_idx] = reason
        return df, full

    def needs(self, yi, roster, weak, rng):
        p = self.p
        year = p.years[yi]
        a = self.reg.a
        sid = roster["sid"].to_numpy()
        cb = load_codebook(f"needs_{p.level}")
        optdim = cb.option_dimensions["weak_areas"]
        by_dim = {d: [o for o, dd in optdim.items() if dd == d] for d in self.dims}
        n = len(sid)
        help_of = {
            "academic": "tutoring",
            "psychological": "talk",
            "moral": "talk",
            "habits": "care",
            "life": "care",
        }
        order = list(cb.field("weak_areas").codes)
        horder = list(cb.field("help_wanted").codes)
        u = rng.random((n, 3))
        # answers as bitmasks over the options, turned into text once per distinct mask
        wmask = np.zeros(n, dtype=np.int64)
        hmask = np.zeros(n, dtype=np.int64)
        for d, dim in enumerate(self.dims):
            opts = [order.index(o) for o in by_dim[dim]]
            if not opts:
                continue
            on = weak[:, d]
            pick = np.asarray(opts)[(u[:, 0] * len(opts)).astype(int)]
            wmask |= np.where(on, 1 << pick, 0)
            if len(opts) > 1:
                wmask |= np.where(on & (u[:, 1] < 0.3), sum(1 << o for o in opts), 0)
            hmask |= np.where(on, 1 << horder.index(help_of[dim]), 0)
        wmask = np.where(wmask == 0, 1 << (u[:, 2] * len(order)).astype(int), wmask)
        hmask |= np.where(u[:, 1] > 0.8, 1 << horder.index("family"), 0)
        hmask |= np.where((u[:, 2] > 0.85) | (hmask == 0), 1 << horder.index("interest"), 0)
        imask = (a["interests"][sid].astype(np.int64) << np.arange(len(INTERESTS))).sum(1)

        def text(mask, codes):
            uniq, inv = np.unique(mask, return_inverse=True)
            words = np.array(
                [";".join(c for j, c in enumerate(codes) if m >> j & 1) for m in uniq], dtype=object
            )
            return words[inv]

        weak_tok, help_tok, inter_tok = (
            text(wmask, order),
            text(hmask, horder),
            text(imask, INTERESTS),
        )
        other = np.where(rng.random(n) < 0.04, rng.choice(OTHER_NEEDS_TEXT, n), None)
        d0 = pd.Timestamp(year, 9, 2, 8)
        df = pd.DataFrame(
            {
                "student_id": a["student_id"][sid],
                "year": year,
                "weak_areas": weak_tok,
                "help_wanted": help_tok,
                "interests": inter_tok,
                "other_text": other,
                "submitted_at": d0 + pd.to_timedelta(rng.integers(0, 7 * 86400, n), unit="s"),
            }
        )
        prefs = (
            self._preferences(yi, roster, weak, rng)
            if p.level == "middle"
            else [[] for _ in range(n)]
        )
        if p.level == "middle":
            staff_ids = self.staff["staff_id"].to_numpy()
            for k in range(3):
                df[f"pref_{k + 1}"] = [staff_ids[pl[k]] if len(pl) > k else None for pl in prefs]
        return df, prefs

    def measure(self, yi, wave, roster, theta, rng):
        p = self.p
        year = p.years[yi]
        n = len(roster)
        present = rng.random(n) >= p.absent_rate
        th = theta[present][:, self.item_dim].astype(np.float32)  # (n, J) trait per item
        a32, b32 = self.a.astype(np.float32), self.b.astype(np.float32)
        pr = sigmoid(a32[None, :, None] * (th[:, :, None] - b32[None, :, :]))
        y = 1 + (rng.random(th.shape + (1,), dtype=np.float32) < pr).sum(2)
        y = np.where(self.item_rev[None, :], 6 - y, y).astype(np.float32)
        y[rng.random(y.shape) < p.item_skip_rate] = np.nan
        ids = self.reg.a["student_id"][roster["sid"].to_numpy()[present]]
        month, day0 = (9, 8) if wave == "pre" else (6, 2)
        cy = year if wave == "pre" else year + 1
        d0 = pd.Timestamp(cy, month, day0, 8)
        submitted = d0 + pd.to_timedelta(rng.integers(0, 12 * 86400, present.sum()), unit="s")
        wide = pd.DataFrame(y, columns=[f.var for f in self.items])
        wide.insert(0, "student_id", ids)
        wide.insert(1, "year", year)
        wide.insert(2, "wave", wave)
        wide["submitted_at"] = submitted
        # attention check: nearly everyone answers 4 ("比较符合")
        wide["attention_1"] = 4
        return wide

    def pre_composite(self, roster, pre: pd.DataFrame) -> np.ndarray:
        """The observed pre-test composite per roster student, standardised over the year's
        students: the mean over dimensions of each dimension's item mean (reverse-keyed items
        recoded), i.e. the scale scores as written, with their measurement error. Students who
        missed the wave (or skipped a whole dimension) get 0, the mean: the class teacher then
        has only her impression."""
        y = pre[[f.var for f in self.items]].to_numpy(dtype=float)
        y = np.where(self.item_rev[None, :], 6 - y, y)
        ok = ~np.isnan(y)
        D = len(self.dims)
        onehot = (self.item_dim[:, None] == np.arange(D)[None, :]).astype(float)
        n_d = ok.astype(float) @ onehot
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(ok, y, 0.0) @ onehot / n_d
        comp = scale.mean(1)  # NaN when a dimension has no answer
        z = (comp - np.nanmean(comp)) / np.nanstd(comp)
        out = np.zeros(len(roster))
        ids = self.reg.a["student_id"][roster["sid"].to_numpy()]
        pos = pd.Index(ids).get_indexer(pre["student_id"].to_numpy())
        out[pos] = np.where(np.isnan(z), 0.0, z)
        return out

    def _preferences(self, yi, roster, weak, rng):
        """Middle: each student's three preferred mentors of the grade team (staff indices),
        by fit with Gumbel noise."""
        a = self.reg.a
        sid = roster["sid"].to_numpy()
        prefs: list[list[int]] = [[] for _ in range(len(sid))]
        g_staff = self.staff_grade(yi)
        grades = roster["grade"].to_numpy()
        for g in self.grades:
            team = np.flatnonzero((g_staff == g) & self.mentor_ok)
            in_g = np.flatnonzero(grades == g)
            if not len(team) or not len(in_g):
                continue
            f = self.fit(weak[in_g], a["interests"][sid[in_g]], team) + rng.gumbel(
                0, 0.15, (len(in_g), len(team))
            )
            top = np.argsort(-f, axis=1, kind="stable")[:, :3]
            for t, i in enumerate(in_g):
                prefs[i] = [int(team[j]) for j in top[t]]
        return prefs
