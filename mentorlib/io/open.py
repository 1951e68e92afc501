"""Open a study from either kind of folder: processed (fast) or raw (cleaned in memory)."""

from __future__ import annotations

from pathlib import Path

from ..clean.pipeline import load_study
from ..data import Processed, load_processed
from ..errors import InputError


def open_study(path: str | Path) -> Processed:
    """A study's canonical tables from a processed folder, or a raw study folder cleaned in memory.

    The notebooks take either: ``data/processed/demo`` (fast) or ``data/raw/demo`` / ``data/sample``
    (cleaned on the fly, nothing written). Either way the study's ``[rules]`` come along
    (``processed.rules``).
    """
    root = Path(path)
    if (root / "study.json").is_file():
        return load_processed(root)
    if (root / "study.toml").is_file():
        return load_study(root)
    raise InputError(
        "neither a processed study (study.json) nor a raw study folder (study.toml)", file=str(root)
    )
