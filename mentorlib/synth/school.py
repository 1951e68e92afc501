"""The school: classes per grade and the yearly rosters (promotion, leavers, entrants).

School sizes follow ``n_students`` and ``class_size``; classes keep their number as they move
up; the last grade graduates and a new first grade enters; each year ``leave_rate`` of students
leave and ``transfer_rate * N`` transfer in (see :mod:`mentorlib.synth.model`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import GeneratorBase


class SchoolMixin(GeneratorBase):
    """Classes and rosters."""

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
        self.build_staff()

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
