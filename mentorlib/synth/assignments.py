"""Mentor groups: needs-strength fit, forming groups, regrouping after the surveys.

Primary: within each class, a greedy needs-strength match with noise, then the class teacher's
gender-balance swaps. Middle: nomination by perceived need (the observed pre-test composite plus the class
teacher's impression), two-way selection by deferred
acceptance (:func:`mentorlib.matching.deferred_acceptance`), the school places the rest. After
each term's satisfaction survey, students who ask to change for a sound reason move to the
best-fitting mentor with room (at most ``max_regroup_share`` of students).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import calendar
from ..matching import deferred_acceptance
from .base import GeneratorBase
from .draws import group_index
from .params import SOUND_REASONS


class GroupsMixin(GeneratorBase):
    """Fit, groups and regroups."""

    def weak_dims(self, theta: np.ndarray, rng) -> np.ndarray:
        w = theta + rng.normal(0, 0.6, theta.shape) < -0.4
        none = ~w.any(1)
        w[none, np.argmin(theta[none], axis=1)] = rng.random(none.sum()) < 0.5
        return w

    def fit(self, weak: np.ndarray, interests: np.ndarray, mentors: np.ndarray) -> np.ndarray:
        """Needs-strength fit in [0, 1] of students (rows) with mentors (columns)."""
        S = self.strength[mentors].astype(float)
        cover = weak.astype(float) @ S.T / np.maximum(weak.sum(1, keepdims=True), 1)
        mi = self.s_interest[mentors].astype(float)
        inter = interests.astype(float) @ mi.T
        union = interests.sum(1, keepdims=True) + mi.sum(1)[None, :] - inter
        return 0.7 * cover + 0.3 * inter / np.maximum(union, 1)

    # ------------------------------------------------------------------ groups

    def form_primary_groups(self, idx, mentors, weak, interests, gender, rng):
        """Greedy needs-strength matching with noise inside one class, then gender balance."""
        n, k = len(idx), len(mentors)
        if k == 0:
            raise RuntimeError("a class has no mentor")
        cap = math.ceil(n / k)
        util = self.fit(weak, interests, mentors) + rng.normal(0, 0.35, (n, k))
        assign = np.full(n, -1)
        load = np.zeros(k, dtype=int)
        for flat in np.argsort(-util, axis=None, kind="stable"):
            i, j = divmod(int(flat), k)
            if assign[i] < 0 and load[j] < cap:
                assign[i] = j
                load[j] += 1
        fem = gender == "female"
        share = fem.mean()
        for _ in range(2 * k):  # the class teacher's gender-balance swaps
            f_share = np.array(
                [fem[assign == j].mean() if (assign == j).any() else share for j in range(k)]
            )
            hi, lo = int(np.argmax(f_share)), int(np.argmin(f_share))
            if f_share[hi] - f_share[lo] < 0.3:
                break
            a = np.flatnonzero((assign == hi) & fem)
            b = np.flatnonzero((assign == lo) & ~fem)
            if not len(a) or not len(b):
                break
            assign[a[0]], assign[b[0]] = lo, hi
        return mentors[assign]

    def primary_year_groups(self, yi, roster, cur, weak, rng):
        """Term-1 mentors: continuing students keep theirs; new ones are grouped in class."""
        a = self.reg.a
        mentor = np.full(len(roster), -1)
        keep = cur[roster["sid"].to_numpy()] >= 0
        link_now = self.link_now
        cls_code = roster["grade"].to_numpy() * 10000 + roster["class_no"].to_numpy()
        # a kept mentor must still be linked to the student's class (classes move up together)
        kept_m = cur[roster["sid"].to_numpy()]
        ok = keep & (link_now[np.maximum(kept_m, 0)] == cls_code)
        mentor[ok] = kept_m[ok]
        reasons = np.full(len(roster), None, dtype=object)
        by_cls = group_index(cls_code)
        by_link = group_index(link_now)
        empty = np.array([], dtype=int)
        for code, in_cls in by_cls.items():
            ms = by_link.get(code, empty)
            new = in_cls[mentor[in_cls] < 0]
            if not len(new):
                continue
            if (mentor[in_cls] >= 0).sum() == 0:  # a new class: form all groups
                sids = roster["sid"].to_numpy()[new]
                mentor[new] = self.form_primary_groups(
                    new, ms, weak[new], a["interests"][sids], a["gender"][sids], rng
                )
            else:  # transfer-ins join the smallest group of their class
                for i in new:
                    loads = np.array([(mentor[in_cls] == m).sum() for m in ms])
                    mentor[i] = ms[int(np.argmin(loads))]
        # the class teacher tops up any group that fell below the minimum (leavers, moves)
        for code, in_cls in by_cls.items():
            ms = by_link.get(code, empty)
            for _ in range(len(in_cls)):
                loads = np.array([(mentor[in_cls] == m).sum() for m in ms])
                lo, hi = int(np.argmin(loads)), int(np.argmax(loads))
                if loads[lo] >= self.rules.group_min or loads[hi] <= self.rules.group_min:
                    break
                donors = in_cls[mentor[in_cls] == ms[hi]]
                i = donors[int(rng.integers(len(donors)))]
                mentor[i] = ms[lo]
                if keep[i]:  # an existing group changed, not a first assignment
                    reasons[i] = "rebalance"
        return mentor, reasons

    def middle_year_groups(self, yi, roster, cur, weak, pref_lists, rng, composite):
        """Nomination, then two-way selection (deferred acceptance) within each grade.

        Class teachers nominate on the observed pre-test ``composite`` (standardised, with its
        measurement error: the source of regression to the mean) plus their impressions
        (``N(0, impression_sd)``)."""
        p, r = self.p, self.rules
        sid = roster["sid"].to_numpy()
        a = self.reg.a
        mentor = np.full(len(roster), -1)
        g_staff = self.staff_grade(yi)
        perceived = composite + rng.normal(0, p.impression_sd, len(sid))
        prev_m = cur[sid]
        for g in self.grades:
            team = np.flatnonzero((g_staff == g) & self.mentor_ok)
            in_g = np.flatnonzero(roster["grade"].to_numpy() == g)
            # continuing mentees keep their mentor when the mentor is still on the team
            cont = in_g[
                (prev_m[in_g] >= 0) & np.isin(prev_m[in_g], team) & (rng.random(len(in_g)) < 0.7)
            ]
            mentor[cont] = prev_m[cont]
            load = {m: int((mentor[in_g] == m).sum()) for m in team}
            room = sum(r.group_max - v for v in load.values())
            for in_c in group_index(roster["class_no"].to_numpy()[in_g]).values():
                in_c = in_g[in_c]
                quota = round(p.nominated_share * len(in_c)) - int((mentor[in_c] >= 0).sum())
                cand = in_c[mentor[in_c] < 0]
                quota = max(0, min(quota, len(cand), room))
                nominated = cand[np.argsort(perceived[cand], kind="stable")[:quota]]
                room -= quota
                mentor[nominated] = -2  # nominated, not yet placed
            nom = in_g[mentor[in_g] == -2]
            if not len(nom):
                continue
            fitm = self.fit(weak[nom], a["interests"][sid[nom]], team)
            sprefs = {int(i): [int(m) for m in pref_lists[i] if m in load] for i in nom}
            mprefs = {}
            for j, m in enumerate(team):
                score = fitm[:, j] + rng.normal(0, 0.3, len(nom))
                mprefs[int(m)] = [int(nom[t]) for t in np.argsort(-score, kind="stable")]
            caps = {int(m): r.group_max - load[m] for m in team}
            matched = deferred_acceptance(sprefs, mprefs, caps)
            for m, ss in matched.items():
                for s in ss:
                    mentor[s] = m
                    load[m] += 1
            for t, s in enumerate(nom):  # the school reconciles the rest
                if mentor[s] != -2:
                    continue
                order = team[np.argsort(-fitm[t], kind="stable")]
                room_m = [m for m in order if load[m] < r.group_max]
                if room_m:
                    mentor[s] = room_m[0]
                    load[room_m[0]] += 1
                else:
                    mentor[s] = -1
        return mentor, np.full(len(roster), None, dtype=object)

    def regroup(self, roster, mentor, sat, weak, rng, year, term_next):
        """Move students who asked to change for a sound reason (at most the 15% cap)."""
        p, r = self.p, self.rules
        sid = roster["sid"].to_numpy()
        mentored = mentor >= 0
        ask = np.flatnonzero(sat["want_change"] & np.isin(sat["reason"], SOUND_REASONS) & mentored)
        ask = ask[rng.random(len(ask)) < 0.9]
        cap = int(p.max_regroup_share * mentored.sum())
        if len(ask) > cap:
            ask = np.sort(rng.choice(ask, cap, replace=False))
        new = mentor.copy()
        moved = np.zeros(len(mentor), dtype=bool)
        if self.p.level == "primary":
            unit = roster["grade"].to_numpy() * 10000 + roster["class_no"].to_numpy()
            by_link = group_index(self.link_now)
            pool_of = lambda i: by_link.get(int(unit[i]), np.array([], dtype=int))  # noqa: E731
        else:
            g_staff = self.staff_grade(self.p.years.index(year))
            gr = roster["grade"].to_numpy()
            teams = {g: np.flatnonzero((g_staff == g) & self.mentor_ok) for g in self.grades}
            pool_of = lambda i: teams[int(gr[i])]  # noqa: E731
        a = self.reg.a
        load = np.bincount(new[new >= 0], minlength=len(self.staff))
        for i in ask:
            if load[new[i]] <= r.group_min and self.p.level == "primary":
                continue  # the grade team keeps every group at its minimum size
            pool = pool_of(i)
            pool = pool[(pool != new[i]) & (load[pool] < r.group_max)]
            if not len(pool):
                continue
            f = self.fit(weak[i : i + 1], a["interests"][sid[i : i + 1]], pool)[0]
            dest = pool[int(np.argmax(f))]
            load[new[i]] -= 1
            load[dest] += 1
            new[i] = dest
            moved[i] = True
        return new, moved

    def pair_fit(self, roster, mentor, weak):
        out = np.zeros(len(roster))
        ok = np.flatnonzero(mentor >= 0)
        if not len(ok):
            return out
        sid = roster["sid"].to_numpy()[ok]
        S = self.strength[mentor[ok]]
        cover = (weak[ok] & S).sum(1) / np.maximum(weak[ok].sum(1), 1)
        mi = self.s_interest[mentor[ok]]
        inter = self.reg.a["interests"][sid]
        jac = (inter & mi).sum(1) / np.maximum((inter | mi).sum(1), 1)
        out[ok] = 0.7 * cover + 0.3 * jac
        return out

    def emit_assign(self, year, term, roster, mentor, reasons, prev_ok=None):
        ok = np.flatnonzero(mentor >= 0)
        if not len(ok):
            return
        sid = roster["sid"].to_numpy()[ok]
        start = calendar.school_days(year, term)[0]
        reason = reasons[ok]
        self.emit(
            "assignments",
            pd.DataFrame(
                {
                    "student_id": self.reg.a["student_id"][sid],
                    "year": year,
                    "term": term,
                    "mentor_id": self.staff["staff_id"].to_numpy()[mentor[ok]],
                    "start_date": start,
                    "reason": reason,
                    "regroup": pd.notna(reason) if term == 1 else np.ones(len(ok), bool),
                }
            ),
        )
