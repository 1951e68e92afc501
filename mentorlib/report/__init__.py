"""Draft the annual summary (年度总结) and the three-year pilot review (三年试点评估报告).

What the researchers finally hand to the principal and the school's leading group is a
document. This module assembles one from the analyses (every number is computed, none is
typed), as an editable first draft with clearly marked places for the researcher's own
judgement (【待补充】 / "[to be completed]"), in three formats: Word (DOCX, real tables,
embedded figures, East Asian fonts set), self-contained HTML (CSS, figures and a subset of
the CJK font inline; no external reference of any kind) and Markdown (figures beside it).

Entry points
------------
:func:`annual_summary`
    One school year: executive summary, KPI table against every target, the verdict on the
    progress target with its sensitivity table, focus groups, mentor effectiveness, process compliance,
    satisfaction and regrouping, data quality, methods.
:func:`pilot_review`
    The whole pilot: KPI trends, a goal-by-goal assessment of the four work goals (全覆盖,
    个性化, 协同化, 长效化), cohort tracking, stability of mentor effects, the grouping-policy
    comparison with a recommendation, limitations, a methods appendix.
:class:`Report`
    The document model both return: ``sections`` of paragraphs, tables, figures and
    placeholders; ``kpis`` (the KPI table as numbers); :meth:`Report.write` to files.
:func:`analyse_year`, :func:`analyse_pilot`
    The analyses behind a report, computed once and reusable for several languages or
    versions (``annual_summary(..., analyses=a)``).

Privacy
-------
No student name or ID ever enters a report: the builders read only aggregated tables.
Every table cell and figure element describing fewer than ``min_cell`` students (the study's
rule, ``processed.rules.min_cell``, 5 by default) is suppressed and shown as ``"<5"``. Mentor names appear only with ``public=False``, whose
title says 内部版 / internal. Free-text survey answers are never used.

Layout
------
:mod:`~.document` (the document model), :mod:`~.render` (Markdown, HTML, Word, fonts, the
number formatters), :mod:`~.analyses` (the calls into progress, effectiveness, grouping and
compliance) with :mod:`~.sources` and :mod:`~.disclosure`, :mod:`~.annual` and
:mod:`~.review` (the two documents) with their ``sections_*`` modules, :mod:`~.shared`
(pieces both use) and :mod:`~.methods` (the methods text, generated from the rules used).

Determinism
-----------
The same inputs give the same documents byte for byte: seeded analyses, PNGs without
metadata, fixed DOCX core properties (dated the last day of the school year, never "now")
and fixed ZIP entry times.

Examples
--------
>>> r = Report(kind="annual_summary", lang="en", public=True, years=(2024,),
...            title="Annual summary", sections=[Section("summary", "Summary",
...            [Para("Hello.")])])
>>> r.stem
'annual_summary_2024'
>>> "Hello." in r.to_markdown()
True
"""

from __future__ import annotations

from ..labels import FOCUS_LABELS, GENDER_LABELS, REASON_LABELS
from .analyses import PilotAnalyses, YearAnalyses, analyse_pilot, analyse_year
from .annual import ANNUAL_SECTIONS, annual_summary
from .document import Block, Figure, Heading, Para, Report, Section, Table, Todo
from .methods import REFERENCES
from .review import REVIEW_SECTIONS, pilot_review

__all__ = [
    "ANNUAL_SECTIONS",
    "FOCUS_LABELS",
    "GENDER_LABELS",
    "REASON_LABELS",
    "REFERENCES",
    "REVIEW_SECTIONS",
    "Block",
    "Figure",
    "Heading",
    "Para",
    "PilotAnalyses",
    "Report",
    "Section",
    "Table",
    "Todo",
    "YearAnalyses",
    "analyse_pilot",
    "analyse_year",
    "annual_summary",
    "pilot_review",
]
