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


def true_share_study():
    """A small primary study (one year, 400 students) for the estimated true share, with its
    generator truth: the share whose latent change beats ``improve_threshold`` in >= 1 dim."""
    from mentorlib.synth import SynthParams, generate

    key = "true_share_study"
    if key not in _CACHE:
        st = generate(SynthParams(level="primary", n_students=400, n_years=1, seed=5))
        lat = st.truth["latent"]
        truth = float(lat.groupby("student_id")["improved"].any().mean())
        _CACHE[key] = (from_synth(st), truth, st.params.improve_threshold)
    return _CACHE[key]
