"""Process records: talks, contacts, group events, rewards and penalties, mood charts.

Each record is dated on a school day of its month (:mod:`mentorlib.calendar`). Talks follow
the mentor's compliance (primary: at least one a month; middle: Poisson around two); rewards
and penalties follow the moral and habit traits; mood colours follow the psychological trait.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import calendar
from .base import GeneratorBase
from .params import ACTIVITIES, MODES, MOOD_CODES, PENALTY_REASONS, REWARD_REASONS


class RecordsMixin(GeneratorBase):
    """Activities, rewards and mood."""

    def activities(self, yi, term, roster, mentor, rng):
        """One term's activity records and the talks each student had.

        Returns the records (mentor and student as integer codes, turned into IDs in
        ``collect``) and the number of talks per roster row."""
        year = self.p.years[yi]
        sid = roster["sid"].to_numpy()
        m_idx = np.flatnonzero(mentor >= 0)
        out = _Records(rng, year, mentor, sid)
        talks = np.zeros(len(roster))
        months = calendar.term_months(year, term)
        for cal in months:
            if self.p.level == "primary":
                talks[m_idx] += self._primary_month(out, m_idx, mentor[m_idx], sid, cal)
            else:
                talks[m_idx] += self._middle_month(out, m_idx, mentor[m_idx], sid, cal)
        if self.p.level == "primary":
            ms = np.unique(mentor[m_idx])
            ngc = rng.binomial(3, np.clip(0.45 + 0.4 * (self.compliance[ms] - 0.75), 0.05, 0.95))
            cal = months[int(rng.integers(0, len(months)))]
            out.add("group_counselling", ms, ngc, cal, ["group"], [1.0], (30, 60))
        else:
            self._middle_term_events(out, yi, term, m_idx, self.compliance[mentor[m_idx]], months)
            self._case_conferences(out, yi, roster, m_idx, months)
        df = pd.concat(out.frames, ignore_index=True) if out.frames else pd.DataFrame()
        return df, talks

    def _focus(self, sid, m_idx):
        """Focus-group students (left-behind or not living with both parents)."""
        a = self.reg.a
        return a["left_behind"][sid[m_idx]] | (a["family"][sid[m_idx]] != "two_parent")

    def _primary_month(self, out, m_idx, mm, sid, cal):
        """Primary: talks, three-party talks and subject-teacher exchanges of one month."""
        rng = out.rng
        comp = self.compliance[mm]
        has = rng.random(len(m_idx)) < np.minimum(comp + 0.08 * self._focus(sid, m_idx), 0.99)
        n_talk = has * (1 + rng.poisson(0.25, len(m_idx)))
        out.add(
            "talk", m_idx, n_talk, cal, ["face", "letter", "online"], [0.93, 0.03, 0.04], (10, 30)
        )
        n3 = (rng.random(len(m_idx)) < self.c3[mm]).astype(int)
        out.add(
            "three_party", m_idx, n3, cal, ["face", "phone", "online"], [0.5, 0.35, 0.15], (15, 45)
        )
        ms = np.unique(mm)
        nx = (rng.random(len(ms)) < 0.85).astype(int)
        out.add("subject_exchange", ms, nx, cal, ["face"], [1.0], (10, 30))
        return n_talk

    def _middle_month(self, out, m_idx, mm, sid, cal):
        """Middle: talks, student reports and parent calls of one month."""
        rng = out.rng
        comp = self.compliance[mm]
        n_talk = rng.poisson(2.2 * comp / 0.75 + 0.1 * self._focus(sid, m_idx))
        modes = ["face", "letter", "journal", "email"]
        out.add("talk", m_idx, n_talk, cal, modes, [0.55, 0.1, 0.25, 0.1], (10, 40))
        n_rep = (rng.random(len(m_idx)) < 0.8 * comp / 0.75).astype(int)
        out.add("student_report", m_idx, n_rep, cal, ["face", "journal"], [0.6, 0.4], (5, 20))
        n_call = (rng.random(len(m_idx)) < comp).astype(int)
        out.add("parent_call", m_idx, n_call, cal, ["phone"], [1.0], (5, 20))
        return n_talk

    def _middle_term_events(self, out, yi, term, m_idx, comp, months):
        """Middle: the autumn home visits (the case conferences: :meth:`_case_conferences`)."""
        rng = out.rng
        if term == 1:
            hv = (rng.random(len(m_idx)) < 0.9 * comp).astype(int)
            cal = months[int(rng.integers(0, len(months)))]
            out.add("home_visit", m_idx, hv, cal, ["visit"], [1.0], (30, 90))

    def _case_conferences(self, out, yi, roster, m_idx, months):
        """Middle: the grade groups' case conferences, one log row per mentee discussed.

        Each month a grade's conference is held with probability 0.6, led by the grade's first
        class teacher; it discusses 1 + Poisson(``cases_per_conference`` - 1) of the grade's
        mentees (no one twice in a meeting), drawn with weights exp(-mean latent trait) x 3 for
        a focus-group student (a grade without mentees: a conference naming no one). Who was
        discussed is in the truth: ``case_conferences`` (year, student_id, grade, date)."""
        rng, rc = out.rng, self.rng["cases"]
        g_staff = self.staff_grade(yi)
        grade = roster["grade"].to_numpy()
        theta = self.reg.a["theta"][roster["sid"].to_numpy()].mean(axis=1)
        focus = self._focus(roster["sid"].to_numpy(), np.arange(len(roster)))
        weight = np.exp(-theta) * np.where(focus, 3.0, 1.0)
        extra = max(self.p.cases_per_conference - 1.0, 0.0)
        ids = self.reg.a["student_id"][roster["sid"].to_numpy()]
        named: list[pd.DataFrame] = []
        for g in self.grades:
            lead = np.flatnonzero(
                (g_staff == g) & (self.staff["role"].to_numpy() == "class_teacher")
            )
            pool = m_idx[grade[m_idx] == g]
            if not len(lead):
                continue
            for cal in months:
                if rng.random() >= 0.6:  # the draw the mentor-level conferences made
                    continue
                k = min(1 + int(rc.poisson(extra)), len(pool))
                who = pool[:0]
                if k:
                    who = rc.choice(pool, k, replace=False, p=weight[pool] / weight[pool].sum())
                day = out.add_named("case_conference", int(lead[0]), who, cal, (40, 90))
                named.append(pd.DataFrame({"student_id": ids[who], "date": day, "grade": g}))
        if named:
            df = pd.concat(named, ignore_index=True).assign(year=self.p.years[yi])
            self.emit("case_conferences", df[["year", "student_id", "grade", "date"]], truth=True)

    def rewards(self, yi, roster, theta, rng):
        year = self.p.years[yi]
        sid = roster["sid"].to_numpy()
        mor = theta[:, self.dims.index("moral")]
        hab = theta[:, 3]  # habits (primary) or life guidance (middle)
        frames = []
        for term in (1, 2):
            months = calendar.term_months(year, term)
            for kind, lam, pts, pp, reasons in (
                (
                    "reward",
                    0.6 * np.exp(0.3 * mor + 0.2 * hab),
                    [1, 2, 3, 5],
                    [0.4, 0.3, 0.2, 0.1],
                    REWARD_REASONS,
                ),
                (
                    "penalty",
                    0.12 * np.exp(-0.4 * mor - 0.2 * hab),
                    [-1, -2, -3],
                    [0.6, 0.3, 0.1],
                    PENALTY_REASONS,
                ),
            ):
                cnt = rng.poisson(lam)
                rep = np.repeat(np.arange(len(sid)), cnt)
                n = len(rep)
                if not n:
                    continue
                mi = rng.integers(0, len(months), n)
                dates = np.empty(n, dtype="datetime64[D]")
                for k, (cy, mo) in enumerate(months):
                    sel = mi == k
                    dates[sel] = calendar.random_school_days(rng, year, cy, mo, int(sel.sum()))
                frames.append(
                    pd.DataFrame(
                        {
                            "student_id": self.reg.a["student_id"][sid[rep]],
                            "date": dates,
                            "kind": kind,
                            "reason": rng.choice(reasons, n),
                            "points": rng.choice(pts, n, p=pp),
                        }
                    )
                )
        df = pd.concat(frames, ignore_index=True)
        return df.sort_values(["date", "student_id"], kind="stable", ignore_index=True)

    def mood(self, yi, roster, pre, post, rng):
        """Daily colours: the monthly canonical table, and day-code matrices for the export.

        Codes index :data:`MOOD_CODES`; -1 = no sticker that day.
        """
        year = self.p.years[yi]
        sid = roster["sid"].to_numpy()
        n = len(sid)
        psych = self.dims.index("psychological")
        part = rng.beta(12, 1.5, n)
        rows = []
        months = calendar.year_months(year)
        for k, (cy, mo) in enumerate(months):
            days = calendar.school_days_in_month(year, cy, mo)
            th = pre[:, psych] + (k + 0.5) / len(months) * (post[:, psych] - pre[:, psych])
            logits = np.stack([1.0 + 0.8 * th, 0.6 + 0 * th, -0.7 - 0.6 * th, -1.3 - 0.4 * th], 1)
            pr = np.exp(logits)
            pr /= pr.sum(1, keepdims=True)
            cum = np.cumsum(pr, 1)
            u = rng.random((n, len(days)), dtype=np.float32)
            code = (u[:, :, None] > cum[:, None, :].astype(np.float32)).sum(2).astype(np.int8)
            code[rng.random((n, len(days)), dtype=np.float32) >= part[:, None]] = -1
            rows.append((cy, mo, days.day.to_numpy(), code))
        ids = self.reg.a["student_id"][sid]
        self.mood_days.append((year, ids, rows))
        frames = []
        for cy, mo, days, code in rows:
            df = pd.DataFrame(
                {
                    "student_id": ids,
                    "year": year,
                    "month": calendar.month_label(cy, mo),
                    "school_days": len(days),
                    "days_recorded": (code >= 0).sum(1),
                }
            )
            for k, c in enumerate(MOOD_CODES):
                df[f"n_{c}"] = (code == k).sum(1)
            frames.append(df)
        return pd.concat(frames, ignore_index=True)


#: Activities recorded per mentor, not per student (case conferences name their students:
#: :meth:`_Records.add_named`; a conference in a grade without mentees names no one).
_MENTOR_LEVEL = ("subject_exchange", "group_counselling", "case_conference")


class _Records:
    """The activity records of one term, drawn kind by kind."""

    def __init__(self, rng, year, mentor, sid):
        self.rng, self.year, self.mentor, self.sid = rng, year, mentor, sid
        self.frames: list[pd.DataFrame] = []

    def add(self, kind, who, counts, cal, modes, mode_p, dur) -> None:
        """``counts[i]`` records of ``kind`` for ``who[i]`` (roster rows, or staff indices for
        mentor-level kinds) on random school days of the month ``cal``."""
        n = int(counts.sum())
        if n == 0:
            return
        rng = self.rng
        rep = np.repeat(who, counts)
        cy, mo = cal
        dates = calendar.random_school_days(rng, self.year, cy, mo, n)
        mode = pd.Categorical(rng.choice(modes, n, p=mode_p), categories=MODES)
        per_student = kind not in _MENTOR_LEVEL
        self.frames.append(
            pd.DataFrame(
                {  # integer codes here; turned into categorical IDs once, in collect()
                    "mentor_id": self.mentor[rep] if per_student else rep,
                    "student_id": self.sid[rep] if per_student else np.full(n, -1),
                    "date": dates,
                    "activity": pd.Categorical(np.full(n, kind), categories=ACTIVITIES),
                    "mode": mode,
                    "duration_min": rng.integers(dur[0], dur[1] + 1, n).astype(np.int16),
                }
            )
        )

    def add_named(self, kind, staff: int, rows: np.ndarray, cal, dur):
        """One meeting of ``kind`` led by staff index ``staff`` on a random school day of the
        month ``cal``, one record per roster row in ``rows`` (the students discussed; none:
        one record naming no one). Draws from the stream what :meth:`add` draws for one
        record. Returns the day."""
        n = len(rows)
        cy, mo = cal
        day = calendar.random_school_days(self.rng, self.year, cy, mo, 1)
        self.rng.choice(["group"], 1, p=[1.0])  # the mode draw of add()
        dur_min = self.rng.integers(dur[0], dur[1] + 1, 1).astype(np.int16)
        if n == 0:
            rows, sid = np.zeros(1, dtype=np.int64), np.full(1, -1)
            n = 1
        else:
            sid = self.sid[rows]
        self.frames.append(
            pd.DataFrame(
                {
                    "mentor_id": np.full(n, staff),
                    "student_id": sid,
                    "date": np.repeat(day, n),
                    "activity": pd.Categorical(np.full(n, kind), categories=ACTIVITIES),
                    "mode": pd.Categorical(np.full(n, "group"), categories=MODES),
                    "duration_min": np.repeat(dur_min, n),
                }
            )
        )
        return day[0]
