"""The synthetic school: the workbench's demo and its test bench.

:func:`generate` runs the generative model (documented in :mod:`mentorlib.synth.model`) in
memory; :func:`write_study` writes it as a raw study folder with ``truth/``; :func:`synth`
does both.
"""

from __future__ import annotations

from pathlib import Path

from .export import canonical_tables, write_study
from .model import generate
from .params import SynthParams, SynthStudy, null_params

__all__ = [
    "SynthParams",
    "SynthStudy",
    "canonical_tables",
    "generate",
    "null_params",
    "synth",
    "write_study",
]


def synth(
    out_dir: str | Path,
    *,
    level: str = "primary",
    students: int = 1200,
    years: int = 3,
    seed: int = 0,
    clean: bool = False,
    overwrite: bool = False,
    progress=None,
    **params,
) -> Path:
    """Generate a synthetic study and write it to ``out_dir`` (see ``mentorlib synth``).

    Extra keyword arguments set fields of :class:`SynthParams` (``left_behind_rate=0.3``).
    """
    p = SynthParams(level=level, n_students=students, n_years=years, seed=seed, **params)
    study = generate(p)
    return write_study(study, out_dir, clean=clean, overwrite=overwrite, progress=progress)
