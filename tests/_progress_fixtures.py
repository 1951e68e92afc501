"""The progress tests' shared report (one computation per test session)."""

from __future__ import annotations

from mentorlib import progress
from mentorlib.data import from_synth

_CACHE: dict = {}


def primary_report(study) -> progress.ProgressReport:
    """``progress_report`` of the session's primary study, 2024 (computed once, shared)."""
    key = id(study)
    if key not in _CACHE:
        _CACHE[key] = progress.progress_report(from_synth(study), 2024)
    return _CACHE[key]
