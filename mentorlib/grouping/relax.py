"""Soft rules: when a grouping is infeasible, relax what the rulebook does not make hard.

The rulebook makes group sizes (``group_min``/``group_max``), coverage and the regrouping cap
hard; gender balance, home areas and the scope are targets. :func:`solve_soft` solves a
policy's problem and, when a unit (a class, a grade) has no grouping, relaxes in this order,
recording each step as a :class:`~mentorlib.matching.Relaxation`:

1. the unit's gender tolerance, in steps of ``GENDER_TOL_STEP`` up to ``GENDER_TOL_CAP``
   (:mod:`mentorlib.matching`);
2. the unit's gender reference: its own female share instead of the school's (``unit``),
   the tolerance again from the rulebook's up to the cap;
3. the home-area limit (when a policy sets ``max_areas``);
4. the unit's scope, one level at a time: class -> grade -> school (only the failing unit's
   students may then go to mentors of their grade, or of the school).

Steps 1-3 are tried inside the unit (:func:`mentorlib.matching.solve_spec` with ``relax``);
step 4 widens the unit and starts again. When even the whole school cannot meet the group
sizes, the error names the unit and the numbers. ``strict`` turns relaxing off: the first
infeasibility is raised, with its one-line reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from ..matching import AssignmentSpec, Relaxation, UnitInfeasible, solve_spec
from .roster import SCOPES, Problem, allowed_pairs

__all__ = ["solve_soft"]


def solve_soft(
    pb: Problem, spec_for: Callable[[Problem], AssignmentSpec], *, strict: bool = False
) -> tuple[np.ndarray, list[Relaxation]]:
    """Solve ``spec_for(pb)``; unless ``strict``, relax soft rules in the documented order.

    Returns
    -------
    (ndarray, list of Relaxation)
        Each student's mentor column, and the relaxations needed (empty when none).
    """
    if strict:
        return solve_spec(spec_for(pb), pb.names), []
    level = np.full(pb.n, SCOPES.index(pb.scope))
    wider: dict[str, np.ndarray] = {}
    widened: list[Relaxation] = []
    while True:
        log: list[Relaxation] = []
        try:
            col = solve_spec(spec_for(pb), pb.names, relax=True, log=log)
            return col, widened + log
        except UnitInfeasible as e:
            rows = np.asarray(e.rows, dtype=int)
            if not len(rows) or (level[rows] >= len(SCOPES) - 1).all():
                raise
            new = int(level[rows].min()) + 1
            rows = rows[level[rows] == new - 1]  # the unit's students not yet widened
            scope = SCOPES[new]
            if scope not in wider:
                wider[scope] = allowed_pairs(pb.students, pb.mentors, scope)[0]
            units = pd.unique(pb.unit[rows])
            unit = str(units[0]) if len(units) == 1 else f"{units[0]} (with {len(units) - 1} more)"
            widened.append(Relaxation("scope", unit, SCOPES[new - 1], scope))
            allowed = pb.allowed.copy()
            allowed[rows] = wider[scope][rows]
            level[rows] = new
            pb = replace(pb, allowed=allowed)
