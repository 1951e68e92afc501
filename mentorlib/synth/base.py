"""The generator's shared state: random streams, the student registry, the instrument.

:class:`GeneratorBase` holds what every part of the generator reads (parameters, rules, the
nine independent random streams, the registry of students, the questionnaire's item
parameters) and collects the tables each part emits. The parts are mixins over it (school and
rosters, staff, groups, process records, surveys, outcomes); :class:`mentorlib.synth.model`
puts them together and runs the year loop. The attributes declared below without a value are
set by the school and staff parts (``build_school``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..io.codebook import load_codebook
from ..rules import rulebook
from .params import SynthParams
from .population import Registry


class GeneratorBase:
    """State shared by the generator's parts (see the module docstring)."""

    # set by build_school (school.py) and the staff part (staff.py)
    n_classes: int
    class_base: dict[int, np.ndarray]
    staff: pd.DataFrame
    u: np.ndarray
    quality: np.ndarray
    compliance: np.ndarray
    c3: np.ndarray
    strength: np.ndarray
    s_interest: np.ndarray
    mentor_ok: np.ndarray
    link: np.ndarray
    link_now: np.ndarray
    homeroom: np.ndarray
    teach_extra: list[list[int]]
    teaches_link: np.ndarray
    grade0: np.ndarray
    homeroom0: np.ndarray
    teach_classes: list[list[int]]
    # set by the year loop (model.py)
    u_year: np.ndarray

    def __init__(self, p: SynthParams):
        self.p = p
        self.rules = rulebook(p.level)
        self.dims = p.dimensions
        ss = np.random.SeedSequence(p.seed)
        # "cases" last: spawned children depend on their index only, so a stream added at the
        # end leaves the other streams' draws as they were
        streams = ["school", "students", "staff", "groups", "process", "outcome", "measure", "misc"]
        streams.append("cases")
        self.rng = dict(
            zip(streams, (np.random.default_rng(s) for s in ss.spawn(len(streams))), strict=True)
        )
        self.reg = Registry(p, self.rng["students"])
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

    def build_staff(self) -> None:
        """Draw the staff: implemented by :class:`mentorlib.synth.staff.StaffMixin`."""
        raise NotImplementedError

    def emit(self, table: str, df: pd.DataFrame, truth: bool = False) -> None:
        """Collect one year's piece of a table (or of a truth table)."""
        (self.truth if truth else self.out).setdefault(table, []).append(df)
