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
from .clean import clean_study, load_study
from .codebook import load_codebook
from .data import Processed, from_synth, load_processed, open_study
from .effectiveness import fit_mentor_model, mentor_report
from .errors import InfeasibleError, InputError, MentorlibError
from .grouping import OutcomeModel, check, compare_policies, deferred_acceptance, run_policy
from .progress import progress_report, proportion_test, reliable_change
from .rules import DIMENSIONS, Rulebook, rulebook
from .scales import cronbach_alpha, score_scales
from .synth import SynthParams, generate

__version__ = "0.1.0"

__all__ = [
    "DIMENSIONS",
    "OutcomeModel",
    "Processed",
    "check",
    "clean_study",
    "compare_policies",
    "cronbach_alpha",
    "fit_mentor_model",
    "from_synth",
    "load_processed",
    "load_study",
    "mentor_report",
    "open_study",
    "progress_report",
    "proportion_test",
    "reliable_change",
    "run_policy",
    "score_scales",
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
