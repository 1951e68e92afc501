"""Shared helpers of the grouping tests: a random small roster and a brute-force gender check."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, settings

from mentorlib import grouping as g
from mentorlib.rules import rulebook

PRIMARY = rulebook("primary")
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WEAK = ["study_method", "homework", "emotion", "peers", "manners", "time"]
INTERESTS = ["reading", "sports", "art", "music", "science"]
DIMS = ["moral", "academic", "psychological", "habits"]


def _subset(rng, pool, p):
    return ";".join(x for x in pool if rng.random() < p)


def small_roster(seed: int, *, classes: int = 2, with_current: bool = False):
    """A random primary roster: 1-3 mentors per class, 5-8 students per mentor."""
    rng = np.random.default_rng(seed)
    srows, mrows = [], []
    for c in range(1, classes + 1):
        k = int(rng.integers(1, 4))
        n = int(rng.integers(5 * k, 8 * k + 1))
        for j in range(k):
            mrows.append(
                {
                    "mentor_id": f"m{c}{j}",
                    "role": "class_teacher" if j == 0 else "subject_teacher",
                    "grade": 1,
                    "link_class": f"1-{c}",
                    "homeroom": f"1-{c}" if j == 0 else None,
                    "strengths": ";".join(
                        [DIMS[int(rng.integers(4))], *[x for x in INTERESTS if rng.random() < 0.3]]
                    ),
                }
            )
        for i in range(n):
            srows.append(
                {
                    "student_id": f"s{c}{i:02d}",
                    "gender": "female" if rng.random() < 0.5 else "male",
                    "grade": 1,
                    "class_no": c,
                    "home_area": f"a{int(rng.integers(3))}",
                    "weak_areas": _subset(rng, WEAK, 0.3),
                    "interests": _subset(rng, INTERESTS, 0.3),
                }
            )
    students, mentors = pd.DataFrame(srows), pd.DataFrame(mrows)
    if with_current:
        cur = g.ClassDefaultPolicy().assign(students, mentors, PRIMARY)
        reasons = np.array(["personality", "friends", "needs_mismatch", None], dtype=object)
        students = students.assign(
            current_mentor=cur["mentor_id"].to_numpy(),
            want_change=rng.random(len(students)) < 0.3,
            reason=reasons[rng.integers(0, 4, len(students))],
        )
    return students, mentors


def gender_feasible(students, mentors, rules, tol) -> bool:
    """Brute force over group compositions: mentors of a class are interchangeable."""
    r = (students["gender"] == "female").mean()
    for c, s in students.groupby("class_no"):
        k = int((mentors["link_class"] == f"1-{c}").sum())
        n, f = len(s), int((s["gender"] == "female").sum())
        reach = {(0, 0)}
        for _ in range(k):
            reach = {
                (a + nj, b + fj)
                for a, b in reach
                for nj in range(rules.group_min, rules.group_max + 1)
                for fj in range(nj + 1)
                if abs(fj - r * nj) <= tol * nj + 1e-9 and a + nj <= n and b + fj <= f
            }
        if (n, f) not in reach:
            return False
    return True
