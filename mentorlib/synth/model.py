"""The generative model of a synthetic school (the truth behind ``mentorlib synth``).

Everything here happens in memory and produces the *canonical tables* (the dataset a perfect
cleaner would recover) plus the *truth* (the parameters and latent quantities nobody observes).
:mod:`mentorlib.synth.export` then writes them as a messy raw study folder.

The generator is one class put together from its parts, each a mixin over
:class:`~mentorlib.synth.base.GeneratorBase` in its own module: :mod:`~mentorlib.synth.school`
(classes, rosters), :mod:`~mentorlib.synth.staff`, :mod:`~mentorlib.synth.assignments` (groups),
:mod:`~mentorlib.synth.records` (process records), :mod:`~mentorlib.synth.surveys`
(satisfaction, needs, the assessment) and :mod:`~mentorlib.synth.outcomes`; this module runs the
year loop. Eight independent random streams (school, students, staff, groups, process, outcome,
measure, misc) keep one part's draws from shifting another's.

The model, one school year at a time
------------------------------------
School
    Grades 1-6 (primary) or 7-9 (middle), ``C = round(N / (grades * class_size))`` classes per
    grade, classes keep their number as they move up; grade 6 (9) graduates and a new first
    grade enters; each year ``leave_rate`` of students leave and ``transfer_rate * N``
    transfer in. Students have gender, birth date consistent with grade, a 学籍号 (``G``, some
    ``L``/``J``, + an 18-character ID number with a valid GB 11643 check digit), family structure
    (single-parent ``single_parent_rate``, reconstituted ``reconstituted_rate``), a left-behind
    flag (``left_behind_rate``), a home area and interests.
Staff
    Primary: every staff member mentors (principal, administrators, class teachers, subject
    teachers, support staff), enough of them for groups of 5-8 (``students_per_mentor``);
    each is linked to one class for mentoring and the links follow the class up the school.
    Middle: the subject teachers of each grade (about 3.2 per class) mentor, teams follow their
    grade; other staff do not mentor. Staff have training hours (40 needed in primary), a
    certificate, backbone-mentor status, strengths (guidance dimensions and interest areas), a
    latent quality ``q`` and compliance rates.
Groups
    Primary: within each class, a greedy needs-strength match with noise and capacity
    ``ceil(n / k)``, then the class teacher swaps students to balance gender. Middle: class
    teachers nominate ``nominated_share`` of students by *perceived* need: the observed
    September pre-test composite (the scale scores as written, standardised, with their
    measurement error: the source of regression to the mean) plus the teacher's impression
    ``N(0, impression_sd)``; students name three preferred teachers,
    two-way selection by deferred acceptance with capacity 2, and the school places the rest.
    After each term's satisfaction survey, students who ask to change for a sound reason move
    to the best-fitting mentor with room (at most ``max_regroup_share`` of students).
Outcomes
    Latent traits ``theta`` (moral, academic, psychological, habits|life), correlated
    ``dim_corr`` at entry. Each year
    ``delta = maturation + mentored * (programme_effect + u_mentor + fit_effect * fit
    + dose_effect * (talks per month - rule)) + focus-group penalties + e``, with mentor effects
    ``u ~ N(0, mentor_sd)`` (correlated ``mentor_corr`` across dimensions, drifting
    ``mentor_drift_sd`` a year), fit = the student's weak dimension covered by a mentor
    strength, ``e ~ N(0, change_sd)``. The summer subtracts ``summer_loss`` plus noise. True
    improvement = ``delta > improve_threshold``.
Measurement
    Six Likert (1-5) items per dimension at a pre (September) and a post (June) wave through a
    graded-response model ``P(Y >= k) = logistic(a (theta - b_k))``, some items reverse-keyed
    (the recorded answer is ``6 - Y``); ``absent_rate`` of students miss a wave and
    ``item_skip_rate`` of answers are blank. Exams (per term and subject, out of 100) follow
    the academic trait; height and weight at the yearly physical check follow age and sex only
    (mentors cannot affect them: the placebo outcome).
Process
    Talks (primary: at least one a month with probability = the mentor's compliance; middle:
    Poisson around two), three-party communications, subject-teacher exchanges, group
    counselling (primary); student reports, parent calls, a home visit, case conferences
    (middle); daily mood-chart colours that follow the psychological trait (primary);
    rewards and penalties that follow the moral and habit traits; an end-of-term satisfaction
    survey driven by mentor quality, fit and talk frequency, with change requests and reasons.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from .assignments import GroupsMixin
from .draws import grm_moments
from .frames import compact, to_canonical, with_year_term
from .outcomes import OutcomesMixin
from .params import (
    ACTIVITIES,
    INTERESTS,
    MODES,
    MOOD_CODES,
    SynthParams,
    SynthStudy,
    school_name,
)
from .records import RecordsMixin
from .school import SchoolMixin
from .staff import StaffMixin
from .surveys import SurveysMixin

__all__ = [
    "ACTIVITIES",
    "INTERESTS",
    "MODES",
    "MOOD_CODES",
    "SynthParams",
    "SynthStudy",
    "generate",
    "grm_moments",
    "school_name",
]


class _Generator(SchoolMixin, StaffMixin, GroupsMixin, RecordsMixin, SurveysMixin, OutcomesMixin):
    """The whole generator: its parts plus the year loop (see the module docstring)."""

    def run(self) -> SynthStudy:
        """Generate every school year, then put the tables together."""
        self.build_school()
        prev: pd.DataFrame | None = None
        cur = np.full(0, -1)  # current mentor per registry sid
        for yi in range(len(self.p.years)):
            roster = self.roster(yi, prev)
            self.reg.finish()
            if len(cur) < self.reg.n:
                cur = np.concatenate([cur, np.full(self.reg.n - len(cur), -1)])
            m3 = self.one_year(yi, roster, cur)
            cur[:] = -1
            cur[roster["sid"].to_numpy()] = m3
            prev = roster
        return self.collect()

    def one_year(self, yi: int, roster: pd.DataFrame, cur: np.ndarray) -> np.ndarray:
        """One school year: groups, two terms of records and surveys, the year's outcomes and
        the summer. Returns each student's mentor for next September (-1: none)."""
        year = self.p.years[yi]
        a = self.reg.a
        sid = roster["sid"].to_numpy()
        self.emit("staff", self.staff_table(year, yi))
        theta_pre = a["theta"][sid].copy()
        # the pre-test comes first: middle-school class teachers nominate on its scores
        pre = self.measure(yi, "pre", roster, theta_pre, self.rng["measure"])
        weak, m1, reasons1 = self.first_groups(yi, roster, cur, theta_pre, pre)
        self.emit("students", self.student_table(year, roster, m1 >= 0, yi))
        self.emit_assign(year, 1, roster, m1, reasons1, prev_ok=np.ones(len(sid), bool))
        m2, m3, talks = self.two_terms(yi, roster, m1, weak)
        theta_post, delta, fit_d, talk_rate, u_y, ment_term = self.year_change(
            yi, roster, theta_pre, m1, m2, weak, talks
        )
        self.year_measures(yi, roster, theta_pre, theta_post, pre)
        self.emit_truth(year, roster, m1, theta_pre, theta_post, delta, fit_d, talk_rate, u_y)
        self.emit_att(year, m1 >= 0, theta_pre, delta, ment_term)
        self.summer(sid, theta_post)
        return m3

    def first_groups(
        self, yi: int, roster: pd.DataFrame, cur: np.ndarray, theta: np.ndarray, pre: pd.DataFrame
    ):
        """The needs survey and the term-1 groups: weak dimensions, mentor per student (-1:
        none) and the reason of a changed mentor. ``pre`` is the year's pre-test (wide)."""
        sid = roster["sid"].to_numpy()
        rng_g = self.rng["groups"]
        weak = self.weak_dims(theta, rng_g)
        needs, prefs = self.needs(yi, roster, weak, rng_g)
        self.emit("needs", needs)
        if self.p.level == "primary":
            m1, reasons1 = self.primary_year_groups(yi, roster, cur, weak, rng_g)
        else:
            composite = self.pre_composite(roster, pre)
            m1, reasons1 = self.middle_year_groups(yi, roster, cur, weak, prefs, rng_g, composite)
        # mentors who changed since last June because of a regroup request keep its reason
        pending = getattr(self, "_pending_reason", {})
        reasons = np.array(
            [
                r0 if r0 is not None else pending.get(int(s)) if m1[i] >= 0 else None
                for i, (s, r0) in enumerate(zip(sid, reasons1, strict=True))
            ],
            dtype=object,
        )
        return weak, m1, reasons

    def two_terms(self, yi: int, roster: pd.DataFrame, m1: np.ndarray, weak: np.ndarray):
        """Both terms' records and surveys, with the regroups after each survey.

        Returns the term-2 mentors, next September's mentors and talks per student."""
        year = self.p.years[yi]
        sid = roster["sid"].to_numpy()
        rng_p = self.rng["process"]
        acts1, talks1 = self.activities(yi, 1, roster, m1, rng_p)
        fit1 = self.pair_fit(roster, m1, weak)
        sat1, s1 = self.satisfaction(yi, 1, roster, m1, fit1, talks1 / 5, rng_p)
        m2, moved = self.regroup(roster, m1, s1, weak, self.rng["groups"], year, 2)
        self.emit_assign(
            year, 2, roster, np.where(moved, m2, -1), np.where(moved, s1["reason"], None)
        )
        acts2, talks2 = self.activities(yi, 2, roster, m2, rng_p)
        fit2 = self.pair_fit(roster, m2, weak)
        sat2, s2 = self.satisfaction(yi, 2, roster, m2, fit2, talks2 / 4, rng_p)
        m3, moved3 = self.regroup(roster, m2, s2, weak, self.rng["groups"], year, 1)
        self._pending_reason = {int(sid[i]): s2["reason"][i] for i in np.flatnonzero(moved3)}
        self.emit("activities", pd.concat([acts1, acts2], ignore_index=True))
        self.emit("satisfaction", pd.concat([sat1, sat2], ignore_index=True))
        return m2, m3, (talks1, talks2)

    def year_measures(self, yi, roster, theta_pre, theta_post, pre: pd.DataFrame) -> None:
        """The assessment's post wave (the pre wave was measured in September), exams, rewards
        and (primary) the mood chart."""
        post = self.measure(yi, "post", roster, theta_post, self.rng["measure"])
        self.emit("assessment_wide", pd.concat([pre, post], ignore_index=True))
        self.emit("exams", self.exams(yi, roster, theta_pre, theta_post, self.rng["misc"]))
        self.emit("rewards", self.rewards(yi, roster, theta_pre, self.rng["misc"]))
        if self.rules.mood_chart:
            self.emit("mood", self.mood(yi, roster, theta_pre, theta_post, self.rng["misc"]))

    def collect(self) -> SynthStudy:
        cat = {}
        for k in list(self.out):  # concatenate and let the per-year pieces go at once
            cat[k] = pd.concat(self.out.pop(k), ignore_index=True)
        tables = {}
        tables["students"] = cat["students"]
        tables["staff"] = cat["staff"]
        tables["assignments"] = cat["assignments"]
        tables["needs"] = cat["needs"]
        wide = cat.pop("assessment_wide")
        tables["assessment_wide"] = wide
        tables["exams"] = cat["exams"]
        tables["satisfaction"] = cat["satisfaction"]
        acts = cat["activities"]
        acts["mentor_id"] = pd.Categorical.from_codes(
            acts["mentor_id"].to_numpy(), categories=pd.Index(self.staff["staff_id"])
        )
        acts["student_id"] = pd.Categorical.from_codes(
            acts["student_id"].to_numpy(), categories=self.reg.a["student_id"]
        )
        acts["date"] = pd.to_datetime(acts["date"])
        acts = acts.sort_values(["date", "mentor_id", "activity"], kind="stable", ignore_index=True)
        tables["activities"] = with_year_term(acts)
        tables["rewards"] = with_year_term(cat["rewards"])
        if "mood" in cat:
            tables["mood"] = cat["mood"]
        truth = {k: pd.concat(self.truth.pop(k), ignore_index=True) for k in list(self.truth)}
        to_canonical(tables)
        compact(truth)
        staff = self.staff[["staff_id"]].copy()
        staff["quality"] = self.quality
        staff["compliance"] = self.compliance
        staff["three_party_rate"] = self.c3
        staff["mentor_eligible"] = self.mentor_ok
        truth["mentors"] = staff
        truth["items"] = pd.DataFrame(
            {
                "var": [f.var for f in self.items],
                "dimension": [f.dimension for f in self.items],
                "reverse": self.item_rev,
                "a": self.a,
                **{f"b{k + 1}": self.b[:, k] for k in range(self.b.shape[1])},
            }
        )
        return SynthStudy(params=self.p, tables=tables, truth=truth, mood_days=self.mood_days)


def generate(params: SynthParams | None = None, **kwargs) -> SynthStudy:
    """Generate a synthetic study in memory.

    Parameters
    ----------
    params : SynthParams, optional
        Model parameters; keyword arguments override fields (``generate(n_students=300)``).

    Returns
    -------
    SynthStudy
        ``tables``: canonical tables (the answer key a perfect cleaner recovers);
        ``truth``: ``latent`` (theta pre/post, change, true improvement per student, year and
        dimension), ``att`` (the true effect of being mentored on the mentored per year and
        dimension, see :func:`mentorlib.synth.outcomes.att_table`), ``case_conferences``
        (middle: the mentees each grade group's case conference discussed, one row each:
        year, student_id, grade, date), ``mentor_effects``, ``mentors`` (quality,
        compliance), ``reliability``
        (population reliability per dimension, year and wave), ``items`` (GRM parameters).
    """
    p = dataclasses.replace(params or SynthParams(), **kwargs)
    study = _Generator(p).run()
    study.school_name = school_name(p)
    return study
