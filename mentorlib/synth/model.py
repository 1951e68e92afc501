"""The generative model of a synthetic school (the truth behind ``mentorlib synth``).

Everything here happens in memory and produces the *canonical tables* (the dataset a perfect
cleaner would recover) plus the *truth* (the parameters and latent quantities nobody observes).
:mod:`mentorlib.synth.export` then writes them as a messy raw study folder.

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
    teachers nominate ``nominated_share`` of students by *perceived* need (noisy pre-test
    composite: the source of regression to the mean), students name three preferred teachers,
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
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import calendar
from ..codebook import load_codebook
from ..ids import check_digits_vec
from ..matching import deferred_acceptance
from ..rules import DIMENSIONS, rulebook
from . import names as nm

SUBJECTS_PRIMARY = ["chinese", "math", "english"]
SUBJECTS_MIDDLE = ["chinese", "math", "english", "physics", "chemistry"]
INTERESTS = ["reading", "sports", "art", "music", "science", "craft", "calligraphy", "dance"]
SAT_ITEMS = 5
REASONS = ["personality", "needs_mismatch", "too_little_contact", "friends", "other"]
SOUND_REASONS = ("personality", "needs_mismatch", "too_little_contact")
OTHER_REASON_TEXT = ["想换个新老师试试", "家里人希望换", "我也说不清楚", "导师太严格了"]
OTHER_NEEDS_TEXT = ["想学画画", "希望多和我聊天", "想提高跑步成绩", "想学好书法", "想交更多朋友"]
MOOD_CODES = ["happy", "calm", "sad", "angry"]
ACTIVITIES = [
    "talk",
    "student_report",
    "three_party",
    "parent_call",
    "home_visit",
    "subject_exchange",
    "group_counselling",
    "case_conference",
]
MODES = ["face", "letter", "journal", "email", "phone", "visit", "group", "online"]
REWARD_REASONS = [
    "拾金不昧",
    "课堂表现优秀",
    "值日认真",
    "作业进步明显",
    "运动会获奖",
    "帮助同学",
    "文明礼仪之星",
]
PENALTY_REASONS = ["上课讲话", "作业未交", "与同学打闹", "迟到", "损坏公物"]


@dataclass(frozen=True)
class SynthParams:
    """Parameters of the generative model (see the module docstring).

    Per-dimension tuples follow the order of :data:`mentorlib.rules.DIMENSIONS` for the level.
    Effect sizes are in latent standard deviations.
    """

    level: str = "primary"
    n_students: int = 1200
    n_years: int = 3
    seed: int = 0
    start_year: int = 2023
    class_size: int = 40
    students_per_mentor: float = 6.5
    teachers_per_class: float = 3.2
    nominated_share: float = 0.15
    single_parent_rate: float = 0.12
    reconstituted_rate: float = 0.05
    left_behind_rate: float = 0.10
    transfer_rate: float = 0.03
    leave_rate: float = 0.02
    absent_rate: float = 0.03
    item_skip_rate: float = 0.01
    dim_corr: float = 0.4
    maturation: tuple[float, ...] = (0.20, 0.25, 0.15, 0.20)
    programme_effect: tuple[float, ...] = (0.10, 0.05, 0.15, 0.10)
    mentor_sd: tuple[float, ...] = (0.15, 0.20, 0.20, 0.15)
    mentor_corr: float = 0.5
    mentor_drift_sd: float = 0.05
    fit_effect: float = 0.20
    dose_effect: float = 0.10
    change_sd: float = 0.40
    change_corr: float = 0.3
    left_behind_psych: float = -0.10
    single_parent_psych: float = -0.05
    summer_loss: float = 0.10
    summer_sd: float = 0.15
    improve_threshold: float = 0.5
    max_regroup_share: float = 0.15

    def __post_init__(self):
        rulebook(self.level)  # validates the level
        if self.n_students < 20:
            raise ValueError("n_students must be at least 20")
        if not 1 <= self.n_years <= 10:
            raise ValueError("n_years must be between 1 and 10")
        for name in ("maturation", "programme_effect", "mentor_sd"):
            if len(getattr(self, name)) != 4:
                raise ValueError(f"{name} needs one value per dimension (4)")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def dimensions(self) -> tuple[str, ...]:
        return DIMENSIONS[self.level]

    @property
    def years(self) -> list[int]:
        return list(range(self.start_year, self.start_year + self.n_years))


@dataclass
class SynthStudy:
    """A generated study: canonical tables (the answer key) and the hidden truth."""

    params: SynthParams
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    truth: dict[str, pd.DataFrame] = field(default_factory=dict)
    mood_days: list = field(default_factory=list, repr=False)
    school_name: str = ""

    @property
    def rules(self):
        return rulebook(self.params.level)


# --------------------------------------------------------------------------- helpers


def _group_index(codes: np.ndarray) -> dict[int, np.ndarray]:
    """Positions of each distinct code (one sort, not one scan per code)."""
    codes = np.asarray(codes)
    if not len(codes):
        return {}
    order = np.argsort(codes, kind="stable")
    uniq, first = np.unique(codes[order], return_index=True)
    return {int(u): part for u, part in zip(uniq, np.split(order, first[1:]), strict=True)}


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _corr_normal(rng, n, sds, corr):
    d = len(sds)
    c = np.full((d, d), corr) + (1 - corr) * np.eye(d)
    z = rng.standard_normal((n, d)) @ np.linalg.cholesky(c).T
    return z * np.asarray(sds)


def _grm(rng, theta, a, b):
    """Graded-response draws: theta (n,), a (J,), b (J, K-1) -> responses (n, J) in 1..K."""
    p = _sigmoid(a[None, :, None] * (theta[:, None, None] - b[None, :, :]))
    u = rng.random((theta.shape[0], a.shape[0], 1))
    return 1 + (u < p).sum(axis=2)


def grm_moments(theta, a, b, reverse):
    """Expected answer and its variance for each item given theta (recorded direction)."""
    p = _sigmoid(a[None, :, None] * (theta[:, None, None] - b[None, :, :]))
    k = b.shape[1] + 1
    cum = np.concatenate([np.ones(p.shape[:2] + (1,)), p, np.zeros(p.shape[:2] + (1,))], 2)
    probs = cum[:, :, :-1] - cum[:, :, 1:]  # P(Y = 1..K)
    cats = np.arange(1, k + 1)
    mean = (probs * cats).sum(2)
    var = (probs * cats**2).sum(2) - mean**2
    mean = np.where(reverse[None, :], k + 1 - mean, mean)
    return mean, var


# --------------------------------------------------------------------------- registry


class _Registry:
    """Every student who ever attends, with static attributes (grows as students enter)."""

    def __init__(self, p: SynthParams, rng: np.random.Generator):
        self.p, self.rng = p, rng
        self.cols: dict[str, list[np.ndarray]] = {}
        self.n = 0
        self._ids: set[str] = set()

    def add(self, n: int, grade: int, year: int, transfer: np.ndarray) -> np.ndarray:
        p, rng = self.p, self.rng
        dims = len(p.dimensions)
        gender = np.where(rng.random(n) < 0.52, "male", "female")
        # born between 1 Sep (Y - g - 6) and 31 Aug (Y - g - 5)
        start = np.datetime64(f"{year - grade - 6}-09-01")
        birth = start + rng.integers(0, 365, size=n).astype("timedelta64[D]")
        area_idx = rng.choice(len(nm.AREA_CODES), size=n, p=_area_p())
        ids = self._make_ids(area_idx, birth, gender)
        fam_u = rng.random(n)
        family = np.where(
            fam_u < p.single_parent_rate,
            "single_parent",
            np.where(
                fam_u < p.single_parent_rate + p.reconstituted_rate, "reconstituted", "two_parent"
            ),
        )
        interests = rng.random((n, len(INTERESTS))) < 0.3
        none = ~interests.any(1)
        interests[none, rng.integers(0, len(INTERESTS), none.sum())] = True
        new = {
            "student_id": ids,
            "name": nm.draw_names(rng, n),
            "gender": gender,
            "birth_date": birth,
            "family": family,
            "left_behind": rng.random(n) < p.left_behind_rate,
            "home_area": np.asarray(nm.HOME_AREAS, dtype=object)[
                rng.integers(0, len(nm.HOME_AREAS), n)
            ],
            "transfer": transfer,
            "entry_year": np.full(n, year),
            "theta": _corr_normal(rng, n, np.ones(dims), p.dim_corr),
            "interests": interests,
            "height_z": rng.standard_normal(n),
            "bmi_z": rng.standard_normal(n),
        }
        for k, v in new.items():
            self.cols.setdefault(k, []).append(v)
        sids = np.arange(self.n, self.n + n)
        self.n += n
        return sids

    def _make_ids(self, area_idx, birth, gender):
        n = len(area_idx)
        rng = self.rng
        area = np.asarray(nm.AREA_CODES)[area_idx]
        bstr = np.datetime_as_string(birth, unit="D")
        out = np.empty(n, dtype=object)
        for attempt in range(20):
            seq = rng.integers(0, 500, size=n) * 2 + (gender == "male")  # odd = male
            bodies = np.char.add(
                np.char.add(area, np.char.replace(bstr, "-", "")), np.char.zfill(seq.astype(str), 3)
            )
            digits = np.frombuffer("".join(bodies).encode(), dtype=np.uint8).reshape(n, 17) - 48
            chk = check_digits_vec(digits.astype(np.int64))
            pref = np.where(rng.random(n) < 0.95, "G", np.where(rng.random(n) < 0.8, "L", "J"))
            cand = np.char.add(np.char.add(pref, bodies), chk)
            todo = out == None  # noqa: E711
            out[todo] = cand[todo]
            seen = self._ids
            dup = np.zeros(n, dtype=bool)
            local: set[str] = set()
            for i in np.flatnonzero(todo):
                key = out[i][1:]
                if key in seen or key in local:
                    dup[i] = True
                    out[i] = None
                else:
                    local.add(key)
            if not dup.any():
                seen.update(local)
                return out
            seen.update(local)
            if attempt == 19:
                raise RuntimeError("could not draw unique student IDs")
        return out

    def finish(self):
        """Concatenate the chunks; later in-place updates (theta) land in the registry."""
        self.a = {k: np.concatenate(v) for k, v in self.cols.items()}
        self.cols = {k: [v] for k, v in self.a.items()}
        return self.a


def _area_p():
    w = np.array([6.0] + [1.0] * (len(nm.AREA_CODES) - 1))
    return w / w.sum()


# --------------------------------------------------------------------------- the generator


class _Generator:
    def __init__(self, p: SynthParams):
        self.p = p
        self.rules = rulebook(p.level)
        self.dims = p.dimensions
        ss = np.random.SeedSequence(p.seed)
        streams = ["school", "students", "staff", "groups", "process", "outcome", "measure", "misc"]
        self.rng = dict(
            zip(streams, (np.random.default_rng(s) for s in ss.spawn(len(streams))), strict=True)
        )
        self.reg = _Registry(p, self.rng["students"])
        self.grades = self.rules.grades
        self.out: dict[str, list[pd.DataFrame]] = {}
        self.mood_days: list = []
        self.truth: dict[str, list[pd.DataFrame]] = {}
        acb = load_codebook(f"assessment_{p.level}")
        self.items = list(acb.items)
        self.item_dim = np.array([self.dims.index(f.dimension) for f in self.items])
        self.item_rev = np.array([f.reverse for f in self.items])
        # the questionnaire's item parameters belong to the instrument, not to the school: the
        # same for every seed, so every synthetic school answers the same questionnaire
        rng = np.random.default_rng(np.random.SeedSequence([20231, *map(ord, acb.name)]))
        nit = len(self.items)
        self.a = rng.uniform(1.1, 2.2, nit)
        base = np.array([-2.4, -1.3, -0.3, 0.9])
        self.b = base[None, :] + rng.normal(0, 0.25, (nit, 1)) + rng.normal(0, 0.1, (nit, 4))
        self.b.sort(axis=1)

    def emit(self, table: str, df: pd.DataFrame, truth: bool = False):
        (self.truth if truth else self.out).setdefault(table, []).append(df)

    # ------------------------------------------------------------------ school and staff

    def build_school(self):
        p, rng = self.p, self.rng["school"]
        G = len(self.grades)
        self.n_classes = max(1, round(p.n_students / (G * p.class_size)))
        per_grade = p.n_students / G
        self.class_base = {}
        for g in self.grades:
            sizes = np.full(self.n_classes, int(per_grade // self.n_classes))
            sizes[: int(round(per_grade)) - sizes.sum()] += 1
            jitter = rng.integers(-2, 3, self.n_classes)
            jitter -= int(round(jitter.mean()))
            self.class_base[g] = np.maximum(sizes + jitter, 8)
        if self.p.level == "primary":
            self._staff_primary()
        else:
            self._staff_middle()

    def _mentor_traits(self, m: int, rng):
        p = self.p
        self.u = _corr_normal(rng, m, p.mentor_sd, p.mentor_corr)
        zq = self.u / np.asarray(p.mentor_sd)
        self.quality = 0.6 * zq.mean(1) / np.sqrt(
            (1 + 3 * p.mentor_corr) / 4
        ) + 0.8 * rng.standard_normal(m)
        self.quality /= self.quality.std() if m > 1 else 1.0
        self.compliance = _sigmoid(1.2 + 0.6 * self.quality + 0.5 * rng.standard_normal(m))
        self.c3 = _sigmoid(0.6 + 0.5 * self.quality + 0.6 * rng.standard_normal(m))

    def _strengths(self, roles, subjects, rng):
        m = len(roles)
        D = len(self.dims)
        s = np.zeros((m, D), dtype=bool)
        pri = np.where(
            subjects == "psychology",
            2,
            np.where(np.isin(roles, ["class_teacher", "principal", "admin"]), 0, 1),
        )
        pri = np.where(np.isin(roles, ["support"]) & (subjects != "psychology"), 3, pri)
        s[np.arange(m), pri] = True
        second = rng.integers(0, D, m)
        s[np.arange(m), second] |= rng.random(m) < 0.6
        inter = rng.random((m, len(INTERESTS))) < 0.22
        none = ~inter.any(1)
        inter[none, rng.integers(0, len(INTERESTS), none.sum())] = True
        return s, inter

    def _staff_common(self, roles, subjects, rng):
        m = len(roles)
        backbone = rng.random(m) < 0.10
        self.strength, self.s_interest = self._strengths(roles, subjects, rng)
        self.strength[backbone, 2] = True
        if self.p.level == "primary":
            hours = np.select(
                [rng.random(m) < 0.82, rng.random(m) < 0.5],
                [40 + 4 * rng.integers(0, 5, m), 16 + 4 * rng.integers(0, 5, m)],
                40,
            ).astype(float)
            cert = (hours >= 40) & (rng.random(m) < 0.95)
        else:
            hours = (4 * rng.integers(0, 7, m)).astype(float)
            cert = rng.random(m) < 0.2
        names = nm.draw_names(rng, m)
        self.staff = pd.DataFrame(
            {
                "staff_id": [
                    f"{20000 + 7 * i + int(x)}" for i, x in enumerate(rng.integers(0, 7, m))
                ],
                "name": names,
                "gender": np.where(rng.random(m) < 0.72, "female", "male"),
                "role": roles,
                "subject": subjects,
                "training_hours": hours,
                "certified": cert,
                "backbone": backbone,
            }
        )
        self._mentor_traits(m, rng)

    def _staff_primary(self):
        rng, r = self.rng["staff"], self.rules
        C = self.n_classes
        classes = [(g, c) for g in self.grades for c in range(1, C + 1)]
        slots = {}
        for g, c in classes:
            n = int(self.class_base[g][c - 1])
            k = round(n / self.p.students_per_mentor)
            k = min(max(k, math.ceil(n / r.group_max)), max(1, n // r.group_min))
            slots[(g, c)] = k
        M = sum(slots.values())
        n_cls = len(classes)
        rest = M - n_cls
        n_admin = min(max(1, round(0.05 * M)), max(rest - 1, 0))
        n_support = min(max(1, round(0.08 * M)), max(rest - 1 - n_admin, 0))
        n_principal = 1 if rest > 0 else 0
        n_subject = rest - n_admin - n_support - n_principal
        roles = np.array(
            ["class_teacher"] * n_cls
            + ["principal"] * n_principal
            + ["admin"] * n_admin
            + ["support"] * n_support
            + ["subject_teacher"] * n_subject,
            dtype=object,
        )
        subj_pool = [
            "math",
            "english",
            "science",
            "music",
            "art",
            "pe",
            "politics",
            "it",
            "chinese",
        ]
        subj_w = np.array([3, 3, 2, 1, 1, 1.5, 1, 0.7, 2])
        subjects = np.empty(M, dtype=object)
        subjects[:] = None
        subjects[:n_cls] = np.where(rng.random(n_cls) < 0.6, "chinese", "math")
        lo = n_cls + n_principal + n_admin
        subjects[lo : lo + n_support] = np.where(rng.random(n_support) < 0.3, "psychology", None)
        subjects[n_cls : n_cls + n_principal + n_admin] = rng.choice(
            ["chinese", "math"], n_principal + n_admin
        )
        subjects[lo + n_support :] = rng.choice(subj_pool, n_subject, p=subj_w / subj_w.sum())
        self._staff_common(roles, subjects, rng)
        # link every mentor to one class; class teachers to their own
        link = [None] * M
        open_slots = []
        for i, gc in enumerate(classes):
            link[i] = gc
            open_slots += [gc] * (slots[gc] - 1)
        rng.shuffle(open_slots)
        for i, gc in zip(range(n_cls, M), open_slots, strict=True):
            link[i] = gc
        self.link = np.array([g * 10000 + c for g, c in link])  # encoded grade*10000+class
        self.homeroom = np.array(
            [classes[i][0] * 10000 + classes[i][1] if i < n_cls else 0 for i in range(M)]
        )
        extra = []
        for i in range(M):
            g, c = link[i]
            if roles[i] == "subject_teacher":
                k = min(C - 1, int(rng.integers(1, 4)))
            elif roles[i] == "class_teacher":
                k = min(C - 1, int(rng.random() < 0.3))
            else:
                k = 0
            # k other classes of the same grade: draw from 1..C-1 and skip over c
            pick = rng.choice(C - 1, k, replace=False) + 1 if k else np.array([], dtype=int)
            extra.append(sorted(int(x + (x >= c)) for x in pick))
        self.teach_extra = extra  # other class numbers in the same grade
        self.teaches_link = np.array(
            [roles[i] in ("class_teacher", "subject_teacher") for i in range(M)]
        )
        self.mentor_ok = np.ones(M, dtype=bool)

    def _staff_middle(self):
        rng = self.rng["staff"]
        C = self.n_classes
        per_grade = max(2, round(C * self.p.teachers_per_class))
        roles, subjects, grade0, homeroom, classes = [], [], [], [], []
        subj_cycle = [
            "chinese",
            "math",
            "english",
            "physics",
            "politics",
            "history",
            "geography",
            "biology",
            "chemistry",
        ]
        for g in self.grades:
            for t in range(per_grade):
                is_ct = t < C
                roles.append("class_teacher" if is_ct else "subject_teacher")
                subjects.append(
                    subj_cycle[t % len(subj_cycle)]
                    if not is_ct
                    else ["chinese", "math", "english"][t % 3]
                )
                grade0.append(g)
                homeroom.append(g * 10000 + t + 1 if is_ct else 0)
                c1 = (t % C) + 1
                c2 = ((t + 1) % C) + 1
                classes.append(sorted({c1, c2}))
        n_teach = len(roles)
        n_other = max(2, round(0.1 * n_teach))
        other_roles = (
            ["principal"] + ["admin"] * (n_other // 2) + ["support"] * (n_other - 1 - n_other // 2)
        )
        roles += other_roles
        subjects += [None] * len(other_roles)
        grade0 += [0] * len(other_roles)
        homeroom += [0] * len(other_roles)
        classes += [[]] * len(other_roles)
        roles_a = np.array(roles, dtype=object)
        subjects_a = np.array(subjects, dtype=object)
        self._staff_common(roles_a, subjects_a, rng)
        self.grade0 = np.array(grade0)
        self.homeroom0 = np.array(homeroom)
        self.teach_classes = classes
        self.mentor_ok = np.isin(roles_a, self.rules.mentor_roles)

    def staff_grade(self, year_idx: int) -> np.ndarray:
        """Middle: the grade each teacher's team teaches this year (teams follow the grade)."""
        g0 = self.grade0
        lo = self.grades[0]
        G = len(self.grades)
        return np.where(g0 > 0, lo + (g0 - lo + year_idx) % G, 0)

    def staff_table(self, year: int, yi: int) -> pd.DataFrame:
        df = self.staff.copy()
        df.insert(1, "year", year)
        M = len(df)
        if self.p.level == "primary":
            g_link = self.link // 10000
            g_now = (g_link - 1 + yi) % len(self.grades) + 1
            c_link = self.link % 10000
            self.link_now = g_now * 10000 + c_link
            df["grade"] = g_now
            df["link_class"] = [f"{g}-{c}" for g, c in zip(g_now, c_link, strict=True)]
            hr = self.homeroom
            df["homeroom"] = [
                f"{g}-{c}" if h else None for g, c, h in zip(g_now, c_link, hr, strict=True)
            ]
            cls = []
            for i in range(M):
                if not self.teaches_link[i]:
                    cls.append(None)
                    continue
                cc = sorted([c_link[i], *self.teach_extra[i]])
                cls.append(";".join(f"{g_now[i]}-{c}" for c in cc))
            df["classes"] = cls
        else:
            g_now = self.staff_grade(yi)
            df["grade"] = np.where(g_now > 0, g_now, pd.NA)
            df["link_class"] = None
            df["homeroom"] = [
                f"{g}-{h % 10000}" if h else None
                for g, h in zip(g_now, self.homeroom0, strict=True)
            ]
            df["classes"] = [
                ";".join(f"{g}-{c}" for c in cc) if cc else None
                for g, cc in zip(g_now, self.teach_classes, strict=True)
            ]
        df["training_hours"] = df["training_hours"] + 4.0 * yi * (df["training_hours"] < 40)
        df["certified"] = df["certified"] | (df["training_hours"] >= 40) & (yi > 0)
        df["strengths"] = self.strength_strings()
        cols = [
            "staff_id",
            "year",
            "name",
            "gender",
            "role",
            "subject",
            "grade",
            "link_class",
            "homeroom",
            "classes",
            "training_hours",
            "certified",
            "backbone",
            "strengths",
        ]
        return df[cols]

    def strength_strings(self):
        out = []
        for s, it in zip(self.strength, self.s_interest, strict=True):
            toks = [d for d, f in zip(self.dims, s, strict=True) if f] + [
                i for i, f in zip(INTERESTS, it, strict=True) if f
            ]
            out.append(";".join(toks))
        return out

    # ------------------------------------------------------------------ rosters

    def roster(self, yi: int, prev: pd.DataFrame | None) -> pd.DataFrame:
        p, rng = self.p, self.rng["students"]
        year = p.years[yi]
        first, last = self.grades[0], self.grades[-1]
        parts = []
        if prev is None:
            for g in self.grades:
                sizes = self.class_base[g].astype(int)
                n = int(sizes.sum())
                sids = self.reg.add(n, g, year, rng.random(n) < 2 * p.transfer_rate)
                parts.append(
                    pd.DataFrame(
                        {
                            "sid": sids,
                            "grade": g,
                            "class_no": np.repeat(np.arange(1, len(sizes) + 1), sizes),
                        }
                    )
                )
        else:
            stay = prev[(prev["grade"] < last) & (rng.random(len(prev)) >= p.leave_rate)]
            parts.append(stay.assign(grade=stay["grade"] + 1)[["sid", "grade", "class_no"]])
            sizes = (self.class_base[first] + rng.integers(-2, 3, self.n_classes)).astype(int)
            n = int(sizes.sum())
            sids = self.reg.add(n, first, year, np.zeros(n, dtype=bool))
            parts.append(
                pd.DataFrame(
                    {
                        "sid": sids,
                        "grade": first,
                        "class_no": np.repeat(np.arange(1, self.n_classes + 1), sizes),
                    }
                )
            )
            n_tr = rng.binomial(p.n_students, p.transfer_rate)
            if n_tr and len(self.grades) > 1:
                tg = rng.integers(first + 1, last + 1, n_tr)
                tc = rng.integers(1, self.n_classes + 1, n_tr)
                for g in np.unique(tg):
                    sel = tg == g
                    sids = self.reg.add(
                        int(sel.sum()), int(g), year, np.ones(sel.sum(), dtype=bool)
                    )
                    parts.append(pd.DataFrame({"sid": sids, "grade": int(g), "class_no": tc[sel]}))
        r = pd.concat(parts, ignore_index=True).sort_values(
            ["grade", "class_no", "sid"], ignore_index=True
        )
        return r

    # ------------------------------------------------------------------ fit

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
        by_cls = _group_index(cls_code)
        by_link = _group_index(link_now)
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

    def middle_year_groups(self, yi, roster, cur, weak, pref_lists, rng):
        """Nomination, then two-way selection (deferred acceptance) within each grade."""
        p, r = self.p, self.rules
        sid = roster["sid"].to_numpy()
        a = self.reg.a
        mentor = np.full(len(roster), -1)
        g_staff = self.staff_grade(yi)
        theta = a["theta"][sid]
        perceived = theta.mean(1) + rng.normal(0, 0.6, len(sid))
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
            for in_c in _group_index(roster["class_no"].to_numpy()[in_g]).values():
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
            by_link = _group_index(self.link_now)
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

    # ------------------------------------------------------------------ process records

    def activities(self, yi, term, roster, mentor, rng):
        p = self.p
        year = p.years[yi]
        sid = roster["sid"].to_numpy()
        m_idx = np.flatnonzero(mentor >= 0)
        mm = mentor[m_idx]
        comp = self.compliance[mm]
        focus = self.reg.a["left_behind"][sid[m_idx]] | (
            self.reg.a["family"][sid[m_idx]] != "two_parent"
        )
        frames = []
        talks = np.zeros(len(roster))

        def rows(kind, who, counts, cal, modes, mode_p, dur):
            n = int(counts.sum())
            if n == 0:
                return
            rep = np.repeat(who, counts)
            cy, mo = cal
            dates = calendar.random_school_days(rng, year, cy, mo, n)
            mode = pd.Categorical(rng.choice(modes, n, p=mode_p), categories=MODES)
            per_student = kind not in ("subject_exchange", "group_counselling", "case_conference")
            frames.append(
                pd.DataFrame(
                    {  # integer codes here; turned into categorical IDs once, in collect()
                        "mentor_id": mentor[rep] if per_student else rep,
                        "student_id": sid[rep] if per_student else np.full(n, -1),
                        "date": dates,
                        "activity": pd.Categorical(np.full(n, kind), categories=ACTIVITIES),
                        "mode": mode,
                        "duration_min": rng.integers(dur[0], dur[1] + 1, n).astype(np.int16),
                    }
                )
            )

        months = calendar.term_months(year, term)
        for cal in months:
            if p.level == "primary":
                has = rng.random(len(m_idx)) < np.minimum(comp + 0.08 * focus, 0.99)
                n_talk = has * (1 + rng.poisson(0.25, len(m_idx)))
                rows(
                    "talk",
                    m_idx,
                    n_talk,
                    cal,
                    ["face", "letter", "online"],
                    [0.93, 0.03, 0.04],
                    (10, 30),
                )
                talks[m_idx] += n_talk
                n3 = (rng.random(len(m_idx)) < self.c3[mm]).astype(int)
                rows(
                    "three_party",
                    m_idx,
                    n3,
                    cal,
                    ["face", "phone", "online"],
                    [0.5, 0.35, 0.15],
                    (15, 45),
                )
                ms = np.unique(mm)
                nx = (rng.random(len(ms)) < 0.85).astype(int)
                rows("subject_exchange", ms, nx, cal, ["face"], [1.0], (10, 30))
            else:
                n_talk = rng.poisson(2.2 * comp / 0.75 + 0.1 * focus)
                rows(
                    "talk",
                    m_idx,
                    n_talk,
                    cal,
                    ["face", "letter", "journal", "email"],
                    [0.55, 0.1, 0.25, 0.1],
                    (10, 40),
                )
                talks[m_idx] += n_talk
                rows(
                    "student_report",
                    m_idx,
                    (rng.random(len(m_idx)) < 0.8 * comp / 0.75).astype(int),
                    cal,
                    ["face", "journal"],
                    [0.6, 0.4],
                    (5, 20),
                )
                rows(
                    "parent_call",
                    m_idx,
                    (rng.random(len(m_idx)) < comp).astype(int),
                    cal,
                    ["phone"],
                    [1.0],
                    (5, 20),
                )
        if p.level == "primary":
            ms = np.unique(mm)
            ngc = rng.binomial(3, np.clip(0.45 + 0.4 * (self.compliance[ms] - 0.75), 0.05, 0.95))
            cal = months[int(rng.integers(0, len(months)))]
            rows("group_counselling", ms, ngc, cal, ["group"], [1.0], (30, 60))
        else:
            if term == 1:
                hv = (rng.random(len(m_idx)) < 0.9 * comp).astype(int)
                cal = months[int(rng.integers(0, len(months)))]
                rows("home_visit", m_idx, hv, cal, ["visit"], [1.0], (30, 90))
            g_staff = self.staff_grade(yi)
            for g in self.grades:
                lead = np.flatnonzero(
                    (g_staff == g) & (self.staff["role"].to_numpy() == "class_teacher")
                )
                if not len(lead):
                    continue
                for cal in months:
                    if rng.random() < 0.6:
                        rows(
                            "case_conference",
                            lead[:1],
                            np.array([1]),
                            cal,
                            ["group"],
                            [1.0],
                            (40, 90),
                        )
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        return df, talks

    # ------------------------------------------------------------------ surveys

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
        want = rng.random(len(m_idx)) < _sigmoid(-3.4 - 1.1 * s)
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
        prefs = [[] for _ in range(n)]
        if p.level == "middle":
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
            staff_ids = self.staff["staff_id"].to_numpy()
            for k in range(3):
                df[f"pref_{k + 1}"] = [staff_ids[pl[k]] if len(pl) > k else None for pl in prefs]
        return df, prefs

    # ------------------------------------------------------------------ measurement

    def measure(self, yi, wave, roster, theta, rng):
        p = self.p
        year = p.years[yi]
        n = len(roster)
        present = rng.random(n) >= p.absent_rate
        th = theta[present][:, self.item_dim].astype(np.float32)  # (n, J) trait per item
        a32, b32 = self.a.astype(np.float32), self.b.astype(np.float32)
        pr = _sigmoid(a32[None, :, None] * (th[:, :, None] - b32[None, :, :]))
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

    # ------------------------------------------------------------------ the year loop

    def run(self) -> SynthStudy:
        p = self.p
        self.build_school()
        prev = None
        cur = np.full(0, -1)  # current mentor per registry sid
        D = len(self.dims)
        target = self.rules.talks_per_month
        for yi, year in enumerate(p.years):
            roster = self.roster(yi, prev)
            a = self.reg.finish()
            if len(cur) < self.reg.n:
                cur = np.concatenate([cur, np.full(self.reg.n - len(cur), -1)])
            sid = roster["sid"].to_numpy()
            staff_y = self.staff_table(year, yi)
            self.emit("staff", staff_y)
            theta_pre = a["theta"][sid].copy()
            rng_g = self.rng["groups"]
            weak = self.weak_dims(theta_pre, rng_g)
            needs, prefs = self.needs(yi, roster, weak, rng_g)
            self.emit("needs", needs)
            if p.level == "primary":
                m1, reasons1 = self.primary_year_groups(yi, roster, cur, weak, rng_g)
            else:
                m1, reasons1 = self.middle_year_groups(yi, roster, cur, weak, prefs, rng_g)
            # mentors who changed since last June because of a regroup request keep its reason
            pending = getattr(self, "_pending_reason", {})
            reasons1 = np.array(
                [
                    r0 if r0 is not None else pending.get(int(s)) if m1[i] >= 0 else None
                    for i, (s, r0) in enumerate(zip(sid, reasons1, strict=True))
                ],
                dtype=object,
            )
            mentee = m1 >= 0
            self.emit("students", self.student_table(year, roster, mentee, yi))
            self.emit_assign(year, 1, roster, m1, reasons1, prev_ok=np.ones(len(sid), bool))
            # term 1
            acts1, talks1 = self.activities(yi, 1, roster, m1, self.rng["process"])
            fit1 = self.pair_fit(roster, m1, weak)
            rate1 = talks1 / 5
            sat1, s1 = self.satisfaction(yi, 1, roster, m1, fit1, rate1, self.rng["process"])
            m2, moved = self.regroup(roster, m1, s1, weak, self.rng["groups"], year, 2)
            reasons2 = np.where(moved, s1["reason"], None)
            self.emit_assign(year, 2, roster, np.where(moved, m2, -1), reasons2)
            acts2, talks2 = self.activities(yi, 2, roster, m2, self.rng["process"])
            fit2 = self.pair_fit(roster, m2, weak)
            rate2 = talks2 / 4
            sat2, s2 = self.satisfaction(yi, 2, roster, m2, fit2, rate2, self.rng["process"])
            m3, moved3 = self.regroup(roster, m2, s2, weak, self.rng["groups"], year, 1)
            self._pending_reason = {int(sid[i]): s2["reason"][i] for i in np.flatnonzero(moved3)}
            self.emit("activities", pd.concat([acts1, acts2], ignore_index=True))
            self.emit("satisfaction", pd.concat([sat1, sat2], ignore_index=True))
            # outcomes
            rng_o = self.rng["outcome"]
            talk_rate = (talks1 + talks2) / 9.0
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
            eps = _corr_normal(rng_o, len(sid), np.full(D, p.change_sd), p.change_corr)
            lb = a["left_behind"][sid].astype(float)
            sp = (a["family"][sid] != "two_parent").astype(float)
            psych = self.dims.index("psychological")
            delta = (
                np.asarray(p.maturation)[None, :]
                + ment[:, None]
                * (
                    np.asarray(p.programme_effect)[None, :]
                    + u_i
                    + p.fit_effect * fit_d
                    + p.dose_effect * (talk_rate - target)[:, None]
                )
                + eps
            )
            delta[:, psych] += p.left_behind_psych * lb + p.single_parent_psych * sp
            theta_post = theta_pre + delta
            rng_m = self.rng["measure"]
            pre = self.measure(yi, "pre", roster, theta_pre, rng_m)
            post = self.measure(yi, "post", roster, theta_post, rng_m)
            self.emit("assessment_wide", pd.concat([pre, post], ignore_index=True))
            self.emit("exams", self.exams(yi, roster, theta_pre, theta_post, self.rng["misc"]))
            self.emit("rewards", self.rewards(yi, roster, theta_pre, self.rng["misc"]))
            if self.rules.mood_chart:
                self.emit("mood", self.mood(yi, roster, theta_pre, theta_post, self.rng["misc"]))
            self.emit_truth(year, roster, m1, theta_pre, theta_post, delta, fit_d, talk_rate, u_y)
            # the summer
            a["theta"][sid] = (
                theta_post - p.summer_loss + rng_o.normal(0, p.summer_sd, theta_post.shape)
            )
            cur[:] = -1
            cur[sid] = m3
            prev = roster
        return self.collect()

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
            acts["mentor_id"].to_numpy(), categories=self.staff["staff_id"]
        )
        acts["student_id"] = pd.Categorical.from_codes(
            acts["student_id"].to_numpy(), categories=self.reg.a["student_id"]
        )
        acts["date"] = pd.to_datetime(acts["date"])
        acts = acts.sort_values(["date", "mentor_id", "activity"], kind="stable", ignore_index=True)
        tables["activities"] = _with_year_term(acts)
        tables["rewards"] = _with_year_term(cat["rewards"])
        if "mood" in cat:
            tables["mood"] = cat["mood"]
        truth = {k: pd.concat(self.truth.pop(k), ignore_index=True) for k in list(self.truth)}
        _compact(tables)
        _compact(truth)
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


def _with_year_term(df: pd.DataFrame) -> pd.DataFrame:
    """Add the school year and term of each dated row (after the date column)."""
    d = pd.Series(pd.DatetimeIndex(df["date"]))
    year = calendar.school_years_of(d).to_numpy()
    term = calendar.terms_of(d.dt.month.to_numpy())
    at = list(df.columns).index("date") + 1
    df.insert(at, "year", year.astype(np.int64))
    df.insert(at + 1, "term", term.astype(np.int16))
    return df


_CATEGORICAL = {
    "gender",
    "family",
    "role",
    "subject",
    "activity",
    "mode",
    "kind",
    "status",
    "wave",
    "dimension",
    "reason",
    "month",
    "home_area",
}


_SMALL_INT = {
    "points",
    "duration_min",
    "school_days",
    "days_recorded",
    "n_happy",
    "n_calm",
    "n_sad",
    "n_angry",
    "sat_1",
    "sat_2",
    "sat_3",
    "sat_4",
    "sat_5",
    "term",
}


def _compact(tables: dict[str, pd.DataFrame]) -> None:
    """Small dtypes in place: categories for codes, float32 answers, small integers."""
    for name, df in tables.items():
        for c in df.columns:
            s = df[c]
            if c in _CATEGORICAL and not isinstance(s.dtype, pd.CategoricalDtype):
                df[c] = s.astype("category")
            elif s.dtype == object:
                df[c] = s.astype("str")
            elif c in _SMALL_INT and pd.api.types.is_integer_dtype(s):
                df[c] = s.astype("int16")
            elif s.dtype == np.float64 and (
                name == "assessment_wide" and c not in ("satisfaction",)
            ):
                df[c] = s.astype("float32")


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
        dimension), ``mentor_effects``, ``mentors`` (quality, compliance), ``reliability``
        (population reliability per dimension, year and wave), ``items`` (GRM parameters).
    """
    p = dataclasses.replace(params or SynthParams(), **kwargs)
    study = _Generator(p).run()
    study.school_name = school_name(p)
    return study


def school_name(p: SynthParams) -> str:
    kind = "小学" if p.level == "primary" else "中学"
    return f"示范{kind}（合成数据 seed {p.seed}）"
