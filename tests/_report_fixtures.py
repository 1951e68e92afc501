"""Shared, computed-once inputs of the report tests (tests/test_report_*.py).

Reports are drafted once per test process on the committed 150-student sample (cleaned without
pseudonymisation, so the roster's names and student IDs are there to scan for): the annual
summary of 2024 and the review, in Chinese and English, public and internal, written as DOCX,
HTML and Markdown. The drafting is cached here (not in per-module fixtures) so that the test
files mirroring the report package share one drafting.
"""

from __future__ import annotations

import re
import tempfile
import warnings
import zipfile
from functools import lru_cache
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

from mentorlib import report

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
YEAR = 2024
VARIANTS = [(lang, public) for lang in ("zh", "en") for public in (True, False)]
GLYPH = re.compile(r"Glyph .* missing|missing from (current )?font", re.I)


@lru_cache(maxsize=1)
def sample_study():
    """The sample study with real (synthetic) names and IDs: no pseudonymisation key."""
    from mentorlib.clean import clean_study

    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MENTORLIB_PSEUDONYM_KEY", raising=False)
        P = clean_study(SAMPLE).processed()
    assert not P.pseudonymised and "name" in P["students"].columns
    return P


@lru_cache(maxsize=1)
def drafted_reports() -> dict:
    """Every report variant, drafted with every warning recorded (for the glyph check)."""
    study = sample_study()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # a missing glyph stops the drafting (every figure is rendered while drafting)
        warnings.filterwarnings("error", message=r"Glyph .* missing")
        ya = report.analyse_year(study, YEAR, seed=0)
        pa = report.analyse_pilot(study, seed=0, draws=3)
        out: dict = {"year_analyses": ya, "pilot_analyses": pa}
        for lang, public in VARIANTS:
            out["annual", lang, public] = report.annual_summary(
                study, YEAR, lang=lang, public=public, analyses=ya
            )
            out["review", lang, public] = report.pilot_review(
                study, lang=lang, public=public, analyses=pa
            )
    out["warnings"] = [str(w.message) for w in caught]
    return out


@lru_cache(maxsize=1)
def written_reports() -> tuple[Path, dict]:
    """Every drafted variant written (DOCX, HTML, Markdown) into one temporary folder."""
    out = Path(tempfile.mkdtemp(prefix="mentorlib-reports-")) / "reports"
    files = {}
    for key, rep in drafted_reports().items():
        if isinstance(key, tuple):
            files[key] = rep.write(out)
    return out, files


def reports(drafted) -> dict:
    return {k: v for k, v in drafted.items() if isinstance(k, tuple)}


def docx_text(path: Path) -> str:
    """Every text node of every XML part of a DOCX (body, tables, core properties ...)."""
    with zipfile.ZipFile(path) as z:
        parts = [z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml")]
    return "\n".join("".join(re.findall(r">([^<]*)<", p)) for p in parts)


def number(text: str) -> float:
    """The first number of a cell, as a share when it carries a percent sign."""
    m = re.search(r"[-+]?\d[\d,]*\.?\d*", text)
    assert m, f"no number in {text!r}"
    v = float(m.group().replace(",", ""))
    return v / 100 if text[m.end() : m.end() + 1] == "%" else v


def hidden_rate(r) -> bool:
    """A student-based compliance share whose numerator or remainder is below 5 students."""
    from mentorlib.compliance import STUDENT_INDICATORS

    code = r.indicator if hasattr(r, "indicator") else r.name
    if code not in STUDENT_INDICATORS or pd.isna(r.value) or pd.isna(r.n):
        return False
    k = round(float(r.value) * float(r.n))
    return min(k, int(r.n) - k) < 5
