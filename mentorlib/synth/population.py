"""The student population: everyone who ever attends, with their static attributes.

:class:`Registry` draws students as they enter (gender, birth date consistent with grade, a
学籍号 with a valid GB 11643 check digit, family structure, left-behind flag, home area,
interests, latent traits at entry); the school part (:mod:`mentorlib.synth.school`) places
them in classes year by year.
"""

from __future__ import annotations

import numpy as np

from ..ids import check_digits_vec
from . import names as nm
from .draws import corr_normal
from .params import INTERESTS, SynthParams


class Registry:
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
        area_idx = rng.choice(len(nm.AREA_CODES), size=n, p=area_p())
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
            "theta": corr_normal(rng, n, np.ones(dims), p.dim_corr),
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


def area_p():
    """Probabilities of the home-area codes: the school's own district six times the others."""
    w = np.array([6.0] + [1.0] * (len(nm.AREA_CODES) - 1))
    return w / w.sum()
