"""The staff: roles, subjects, strengths, training, latent quality and compliance.

Primary: every staff member mentors, each linked to one class (the links follow the class up
the school). Middle: the subject teachers of each grade mentor, teams follow their grade.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import names as nm
from .base import GeneratorBase
from .draws import corr_normal, sigmoid
from .params import INTERESTS


class StaffMixin(GeneratorBase):
    """Staff rosters and mentor traits."""

    def build_staff(self) -> None:
        """Draw the school's staff for its level (after the class sizes are known)."""
        if self.p.level == "primary":
            self._staff_primary()
        else:
            self._staff_middle()

    def _mentor_traits(self, m: int, rng):
        p = self.p
        # standardised draws first: a mentor's quality still varies when mentor_sd is 0 (null)
        zq = corr_normal(rng, m, np.ones(len(p.mentor_sd)), p.mentor_corr)
        self.u = zq * np.asarray(p.mentor_sd)
        self.quality = 0.6 * zq.mean(1) / np.sqrt(
            (1 + 3 * p.mentor_corr) / 4
        ) + 0.8 * rng.standard_normal(m)
        self.quality /= self.quality.std() if m > 1 else 1.0
        self.compliance = sigmoid(1.2 + 0.6 * self.quality + 0.5 * rng.standard_normal(m))
        self.c3 = sigmoid(0.6 + 0.5 * self.quality + 0.6 * rng.standard_normal(m))

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
            cls: list[str | None] = []
            for i in range(M):
                if not self.teaches_link[i]:
                    cls.append(None)
                    continue
                cc = sorted([c_link[i], *self.teach_extra[i]])
                cls.append(";".join(f"{g_now[i]}-{c}" for c in cc))
            df["classes"] = cls
        else:
            g_now = self.staff_grade(yi)
            df["grade"] = np.where(g_now > 0, g_now, np.array(pd.NA, dtype=object))
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
