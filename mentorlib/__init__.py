"""mentorlib: a research workbench for all-staff mentorship programmes (全员育人导师制).

Stages (one module each): ``synth`` (a synthetic school with known truth), ``ingest`` /
``clean`` (study folder -> canonical tables), ``scales`` and ``progress`` (the 85% verdict),
``effectiveness`` (mentor effects), ``grouping`` (matching policies), ``compliance`` and
``report`` (the annual summary and the pilot review).

>>> import mentorlib as ml
>>> ml.rulebook("primary").progress_target
0.85
"""

from __future__ import annotations

from . import rules, synth
from .codebook import load_codebook
from .errors import InfeasibleError, InputError, MentorlibError
from .grouping import deferred_acceptance
from .rules import DIMENSIONS, Rulebook, rulebook
from .synth import SynthParams, generate

__version__ = "0.1.0"

__all__ = [
    "DIMENSIONS",
    "InfeasibleError",
    "InputError",
    "MentorlibError",
    "Rulebook",
    "SynthParams",
    "deferred_acceptance",
    "generate",
    "load_codebook",
    "rulebook",
    "rules",
    "synth",
]
