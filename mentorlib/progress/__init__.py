"""Judge the progress target: reliable change per student, the verdict with its uncertainty.

The programme's headline goal: every year a target share of students (the rulebook's
``target_share``, 85% in the seeds) make significant progress in at least ``k_dimensions``
development dimensions. This package defines "significant", counts the students who made it,
puts an interval and a one-sided test on the share, shows whether the verdict depends on the
choices made, and sets it against what measurement error and maturation alone give.

Modules
-------
change
    The improvement rule (the only one): :func:`reliable_change`, :func:`minimal_change`,
    :func:`standardised_gain`, :func:`change_scores`, :func:`study_changes` (every stage
    calls it), :func:`student_progress`, :func:`false_positive_rate`.
improved
    :func:`improved_students` (per student: improved in at least ``k`` dimensions, evaluable
    and improved counts; every stage calls it) and :func:`improved_flags`.
proportions
    :func:`proportion_ci`, :func:`proportion_test`, :func:`rate_difference`,
    :func:`mean_difference`, :func:`trend_test`.
verdict
    :func:`year_verdict`, :func:`breakdowns`, :func:`threshold_sensitivity`, the bootstrap.
year
    One school year of a study (roster, cached changes, the report's context tables).
report
    :func:`progress_report` and :class:`ProgressReport` (the result protocol of
    :mod:`mentorlib.results`: ``summary(lang)``, ``tables``, ``figures``, ``to_json_dict``).
disclosure, text, figures
    Small-cell protection of the report, its sentences, its figures (``plot_*``).

Every study-level number (target, k, interval method, alpha, rci z, mid, min_answered,
min_cell) comes from the study's rulebook (``processed.rules``) unless the caller overrides
it; the low-level functions keep the published conventions as documented defaults.
"""

from ..labels import MISSING_DATA_RULES as RULES
from ..labels import PROGRESS_CATEGORIES as CATEGORIES
from ..labels import PROGRESS_DEFINITIONS
from ..labels import PROGRESS_VERDICTS as VERDICTS
from ..rules import rulebook as _rulebook
from .change import (
    DEFINITION_SPECS,
    StudyScores,
    change_scores,
    definition_label,
    false_positive_rate,
    is_improved,
    minimal_change,
    reliable_change,
    standardised_gain,
    student_progress,
    study_changes,
    study_scores,
    year_changes,
)
from .disclosure import WITHHELD
from .figures import (
    plot_dimensions_improved,
    plot_pre_post,
    plot_rate_by_group,
    plot_rate_by_year,
)
from .improved import improved_flags, improved_students
from .proportions import (
    mean_difference,
    proportion_ci,
    proportion_test,
    rate_difference,
    target_verdict,
    trend_test,
)
from .report import ProgressReport, progress_report
from .text import shared_items_note
from .verdict import BREAKDOWNS, breakdowns, threshold_sensitivity, year_verdict

#: Definitions of "significant progress" (code -> (zh, en)) with the default rulebook's
#: ``mid`` filled in; for a study's own ``mid`` use :func:`definition_label`.
DEFINITIONS: dict[str, tuple[str, str]] = {
    k: (zh.format(mid=_rulebook("primary").mid), en.format(mid=_rulebook("primary").mid))
    for k, (zh, en) in PROGRESS_DEFINITIONS.items()
}

__all__ = [
    "BREAKDOWNS",
    "CATEGORIES",
    "DEFINITIONS",
    "DEFINITION_SPECS",
    "RULES",
    "VERDICTS",
    "WITHHELD",
    "ProgressReport",
    "StudyScores",
    "breakdowns",
    "change_scores",
    "definition_label",
    "false_positive_rate",
    "improved_flags",
    "improved_students",
    "is_improved",
    "mean_difference",
    "minimal_change",
    "plot_dimensions_improved",
    "plot_pre_post",
    "plot_rate_by_group",
    "plot_rate_by_year",
    "progress_report",
    "proportion_ci",
    "proportion_test",
    "rate_difference",
    "reliable_change",
    "shared_items_note",
    "standardised_gain",
    "student_progress",
    "study_changes",
    "study_scores",
    "target_verdict",
    "threshold_sensitivity",
    "trend_test",
    "year_changes",
    "year_verdict",
]
