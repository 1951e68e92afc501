"""mentorlib: a research workbench for all-staff mentorship programmes (全员育人导师制).

Stages (one module each): ``synth`` (a synthetic school with known truth), ``io`` /
``clean`` (study folder -> canonical tables, contract in ``tables``), ``scales`` and ``progress`` (the 85% verdict),
``effectiveness`` (mentor effects), ``grouping`` (matching policies), ``compliance`` and
``report`` (the annual summary and the pilot review).

>>> import mentorlib as ml
>>> ml.rulebook("primary").target_share
0.85
"""

from __future__ import annotations

import importlib

# Loaded on first use (PEP 562), so `python -m mentorlib` starts in a blink and a Ctrl-C while
# the heavy libraries load is handled by the command line (exit 130, no traceback).
_EXPORTS = {
    "clean_study": "clean",
    "load_study": "clean",
    "load_codebook": "io.codebook",
    "Processed": "data",
    "from_synth": "data",
    "load_processed": "data",
    "open_study": "io.open",
    "conform": "tables",
    "fit_mentor_model": "effectiveness",
    "mentor_report": "effectiveness",
    "InfeasibleError": "errors",
    "InputError": "errors",
    "MentorlibError": "errors",
    "OutcomeModel": "grouping",
    "check": "grouping",
    "compare_policies": "grouping",
    "deferred_acceptance": "matching",
    "run_policy": "grouping",
    "progress_report": "progress",
    "plan_target": "progress.plan",
    "proportion_test": "progress",
    "reliable_change": "progress",
    "DIMENSIONS": "rules",
    "Rulebook": "rules",
    "rulebook": "rules",
    "cronbach_alpha": "scales",
    "score_scales": "scales",
    "SynthParams": "synth",
    "generate": "synth",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    elif not name.startswith("__"):
        try:
            value = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


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
    "plan_target",
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
    "conform",
    "load_codebook",
    "rulebook",
    "rules",
    "synth",
]
