"""The committed sample study (``data/sample``): small, messy, synthetic.

``python -m mentorlib.sample`` (or ``make sample``) regenerates it; a test checks that the
committed copy is exactly what the generator makes today. The command-line twin:
``mentorlib synth data/sample --students 150 --seed 7``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .synth import SynthParams, generate, write_study

__all__ = ["SAMPLE_ARGS", "SAMPLE_DIR", "make_sample"]

#: The generator arguments of the sample study.
SAMPLE_ARGS: dict[str, Any] = dict(level="primary", students=150, years=3, seed=7, clean=False)
SAMPLE_DIR = Path("data") / "sample"


def make_sample(out: Path = SAMPLE_DIR, *, workers: int | None = 1) -> Path:
    """Write the sample study to ``out`` (replacing it)."""
    a = SAMPLE_ARGS
    p = SynthParams(level=a["level"], n_students=a["students"], n_years=a["years"], seed=a["seed"])
    return write_study(generate(p), out, clean=a["clean"], overwrite=True, workers=workers)


if __name__ == "__main__":
    print(f"wrote {make_sample(Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLE_DIR)}")
