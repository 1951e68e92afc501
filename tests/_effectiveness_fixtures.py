"""Helpers shared by the tests of mentorlib.effectiveness (reference data, simulated studies)."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mentorlib.data import Processed
from mentorlib.effectiveness import fit_mentor_model

#: Reference files of the tests (with the script that made them): never statsmodels' own folder.
RESULTS = Path(__file__).resolve().parent / "results"


def lme4_reference(name: str) -> dict:
    """``tests/results/lme4_<name>.json``: lme4 fits with their provenance."""
    return json.loads((RESULTS / f"lme4_{name}.json").read_text(encoding="utf-8"))


def reference_data(name: str) -> pd.DataFrame:
    """``tests/results/statsmodels_<name>.csv`` (copied by make_statsmodels_data.py)."""
    return pd.read_csv(RESULTS / f"statsmodels_{name}.csv")


def simulated(seed: int = 0, n: int = 2400, groups: int = 300) -> pd.DataFrame:
    """Students in mentor groups: post = 0.8 pre + 0.1 flag + mentor effect (SD 0.3) + noise."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, groups, n)
    df = pd.DataFrame(
        {
            "pre": rng.normal(size=n),
            "flag": rng.random(n) < 0.3,
            "cat": rng.choice(["a", "b", "c"], n),
            "mentor": pd.Series([f"m{j:03d}" for j in g], dtype="str"),
        }
    )
    df["post"] = 0.8 * df["pre"] + 0.1 * df["flag"] + rng.normal(0, 0.3, groups)[g]
    df["post"] += rng.normal(size=n)
    return df


def fit_quiet(data, **kw):
    """:func:`fit_mentor_model` with its (optimiser) warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_mentor_model(data, **kw)


@dataclass
class WithRules(Processed):
    """A study whose rulebook has some rules changed (as a ``[rules]`` table would)."""

    rule_changes: dict = field(default_factory=dict)

    @property
    def rules(self):
        return super().rules.with_changes(**self.rule_changes)


def with_rules(processed: Processed, **changes) -> WithRules:
    """The same study with ``changes`` applied to its rulebook."""
    return WithRules(
        name=processed.name,
        level=processed.level,
        years=processed.years,
        tables=processed.tables,
        codebooks=processed.codebooks,
        root=processed.root,
        rule_changes=changes,
    )
