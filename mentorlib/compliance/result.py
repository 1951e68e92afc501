"""The compliance report: one school year's indicators, by month, by grade and by mentor.

:class:`ComplianceReport` follows the result protocol of :mod:`mentorlib.results`
(``summary``, ``tables``, ``figures``, ``to_json_dict``); it is built by
:func:`mentorlib.compliance.compliance_report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from ..labels import COMPLIANCE_LEVELS, COMPLIANCE_VERDICTS, Lang, check_lang
from ..labels_compliance import UNMEASURED_REASONS, UNMEASURED_TEXTS, UNMEASURED_VERDICT
from ..results import records
from .figures import grade_month, heatmap

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass
class ComplianceReport:
    """Process compliance of one school year against the level's rulebook.

    Attributes
    ----------
    year : int
    level : {"primary", "middle"}
    indicators : DataFrame
        School level, one row per indicator (see :mod:`mentorlib.compliance` for the
        definitions): ``indicator, label_zh, label_en, value`` (a share in [0, 1]), ``target``
        (NaN when none), ``target_zh, target_en`` (the rule in words), ``unit`` ("share"),
        ``passed`` (nullable boolean; missing when not applicable), ``n`` (the denominator),
        ``note`` (what ``n`` counts and anything counted specially, English), ``unmeasured``
        (missing, or why the year's records cannot measure it: value and ``passed`` missing,
        ``n`` 0; :mod:`mentorlib.compliance.unmeasured`).
    by_month : DataFrame
        ``month`` (YYYY-MM), ``indicator, value, target, passed, n``, plus ``n_students`` and
        ``suppressed`` (small cells blanked). Monthly indicators only.
    by_grade : DataFrame
        ``grade, indicator, value, target, passed, n``, plus ``n_students`` and
        ``suppressed``. Per-student indicators only (students of unknown grade are left out).
    by_mentor : DataFrame
        INTERNAL: ``mentor_id, month, indicator, value, n`` (n = the mentor's mentees that
        month; 1 for the mentor-level ``subject_exchange``).
    min_cell : int
        The suppression threshold used (the rulebook's ``min_cell`` unless overridden).
    case_conferences : DataFrame
        ``grade`` (missing when unknown), ``month`` (YYYY-MM), ``n_conferences``: the case
        conferences (个案分析) of the year by grade and month (:mod:`mentorlib.compliance.cases`;
        meetings, not students: not suppressed). Empty when none were recorded. The coverage
        of the students who needed one is the indicator ``case_conference``.
    by_grade_month : DataFrame
        ``grade, month, indicator, value, target, passed, n, n_students, suppressed``: the
        per-student monthly rules by grade and month, suppressed as ``by_grade`` (the public
        summary figure, :meth:`grade_month_figure`). Empty when not measured.
    """

    year: int
    level: str
    indicators: pd.DataFrame
    by_month: pd.DataFrame
    by_grade: pd.DataFrame
    by_mentor: pd.DataFrame
    min_cell: int
    case_conferences: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["grade", "month", "n_conferences"])
    )
    by_grade_month: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=["grade", "month", "indicator", "value", "target", "passed", "n"]
            + ["n_students", "suppressed"]
        )
    )

    INTERNAL: ClassVar[tuple[str, ...]] = ("by_mentor",)

    def _has_cases(self) -> bool:
        """Case conferences are asked for (the indicator is measured) or were recorded."""
        asked = bool((self.indicators["indicator"] == "case_conference").any())
        return asked or bool(len(self.case_conferences))

    def heatmap(self, *, lang: str = "zh", indicator: str = "talk", public: bool = True) -> Figure:
        """Mentor x month grid of one indicator (:func:`mentorlib.compliance.figures.heatmap`)."""
        return heatmap(
            self.by_mentor,
            year=self.year,
            min_cell=self.min_cell,
            lang=lang,
            indicator=indicator,
            public=public,
        )

    def grade_month_figure(self, *, lang: str = "zh") -> Figure:
        """Grade x month panels of the monthly rules, small cells blank
        (:func:`mentorlib.compliance.figures.grade_month`): the public summary figure."""
        return grade_month(self.by_grade_month, year=self.year, min_cell=self.min_cell, lang=lang)

    def tables(self, *, lang: str = "zh", public: bool = True) -> dict[str, pd.DataFrame]:
        """``indicators``, ``by_month``, ``by_grade``, ``by_grade_month``, ``case_conferences`` (where the rulebook
        asks for case conferences or some were recorded) and ``by_mentor`` (when not public).

        Each indicator row also gets ``label``, its name in ``lang``.
        """
        L = Lang(lang)
        ind = self.indicators.copy()
        ind.insert(1, "label", ind["label_zh" if L.zh else "label_en"])
        out = {
            "indicators": ind,
            "by_month": self.by_month.copy(),
            "by_grade": self.by_grade.copy(),
            "by_grade_month": self.by_grade_month.copy(),
        }
        if self._has_cases():
            out["case_conferences"] = self.case_conferences.copy()
        if not public:
            out["by_mentor"] = self.by_mentor.copy()
        return out

    def figures(self, *, lang: str = "zh", public: bool = True) -> dict[str, Figure]:
        """The grade x month summary (``grade_month``) when there are grade x month values, and
        the talk heatmap (``heatmap_talk``) when there are per-mentor talk values."""
        check_lang(lang)
        out: dict[str, Figure] = {}
        if len(self.by_grade_month):
            out["grade_month"] = self.grade_month_figure(lang=lang)
        if (self.by_mentor["indicator"] == "talk").any():
            out["heatmap_talk"] = self.heatmap(lang=lang, indicator="talk", public=public)
        return out

    def to_json_dict(self, *, public: bool = True) -> dict[str, Any]:
        """Every table as records of plain Python values (``by_mentor`` only when internal)."""
        out: dict[str, Any] = {
            "year": int(self.year),
            "level": self.level,
            "min_cell": int(self.min_cell),
            "indicators": records(self.indicators),
            "by_month": records(self.by_month),
            "by_grade": records(self.by_grade),
            "by_grade_month": records(self.by_grade_month),
        }
        if self._has_cases():
            out["case_conferences"] = records(self.case_conferences)
        if not public:
            out["by_mentor"] = records(self.by_mentor)
        return out

    def summary(self, lang: str = "zh") -> str:
        """A few lines for the command line: each indicator, its target and the verdict."""
        L = Lang(lang)
        t = self.indicators
        n_pass = int(t["passed"].fillna(False).astype(bool).sum())
        n_app = int(t["passed"].notna().sum())
        n_un = int(t["unmeasured"].notna().sum()) if "unmeasured" in t else 0
        lvl = L.of(COMPLIANCE_LEVELS, self.level)
        head = L(
            f"{self.year}学年过程合规（{lvl}）：{n_app}项有目标的指标中{n_pass}项达标",
            f"Process compliance {self.year} ({lvl}): {n_pass} of {n_app} "
            "indicators with a target met",
        )
        if n_un:
            head += L("；", "; ") + L.of(UNMEASURED_TEXTS, "count").format(n=n_un)
        lines = [head]
        for r in t.to_dict("records"):
            v = "—" if pd.isna(r["value"]) else f"{r['value']:.1%}"
            key = "na" if pd.isna(r["passed"]) else ("met" if r["passed"] else "not_met")
            verdict = L.of(COMPLIANCE_VERDICTS, key)
            if not pd.isna(r.get("unmeasured")):
                why = L.of(UNMEASURED_REASONS, r["unmeasured"])
                verdict = L.pair(UNMEASURED_VERDICT) + L(f"（{why}）", f" ({why})")
            if L.zh:
                lines.append(
                    f"  {r['label_zh']}：{v}（目标 {r['target_zh']}，n={r['n']:,}）{verdict}"
                )
            else:
                lines.append(
                    f"  {r['label_en']}: {v} (target {r['target_en']}, n={r['n']:,}) {verdict}"
                )
        return "\n".join(lines)
