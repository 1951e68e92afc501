"""Every bilingual label of the workbench: one table shape, one helper.

Every table here maps a canonical code to a ``(zh, en)`` pair; a test checks that both sides are
filled in for every key. Chinese comes first everywhere: ``lang="zh"`` is every default, and an
unknown ``lang`` is an :class:`~mentorlib.errors.InputError`, never a silent fall-back to
English.

>>> L = Lang("en")
>>> L("达成", "met"), L.of(ACTIVITY_LABELS, "home_visit")
('met', 'home visit')
>>> label(ACTIVITY_LABELS, "home_visit")
'家访'
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import InputError

#: Languages of reports, figures and tables: Chinese first.
LANGS: tuple[str, ...] = ("zh", "en")

Pair = tuple[str, str]


def check_lang(lang: object) -> str:
    """Return ``lang`` if it is one of :data:`LANGS`, else raise a one-line InputError."""
    if isinstance(lang, Lang):
        return lang.code
    if lang not in LANGS:
        raise InputError(f"lang must be 'zh' (Chinese, the default) or 'en', got {lang!r}")
    return str(lang)


class Lang:
    """A language choice: pick the right side of a ``(zh, en)`` pair.

    Parameters
    ----------
    lang : {"zh", "en"} or Lang
        The language; "zh" by default.
    """

    __slots__ = ("code",)

    def __init__(self, lang: object = "zh") -> None:
        self.code = check_lang(lang)

    @property
    def zh(self) -> bool:
        return self.code == "zh"

    def __call__(self, zh: str, en: str) -> str:
        """The Chinese or the English text, whichever this language is."""
        return zh if self.code == "zh" else en

    def pair(self, pair: Pair) -> str:
        return pair[0] if self.code == "zh" else pair[1]

    def of(self, table: Mapping[str, Pair], key: object, default: str | None = None) -> str:
        """The label of ``key`` in ``table``; ``default`` (or the key itself) when absent."""
        pair = table.get(str(key))
        if pair is None:
            return str(key) if default is None else default
        return self.pair(pair)

    def __repr__(self) -> str:
        return f"Lang({self.code!r})"


def label(table: Mapping[str, Pair], key: object, lang: object = "zh", default=None) -> str:
    """Shortcut for ``Lang(lang).of(table, key, default)``."""
    return Lang(lang).of(table, key, default)


def zh_of(table: Mapping[str, Pair]) -> dict[str, str]:
    """The Chinese side of a table, as a plain dict (for code that only writes Chinese)."""
    return {k: v[0] for k, v in table.items()}


def en_of(table: Mapping[str, Pair]) -> dict[str, str]:
    """The English side of a table."""
    return {k: v[1] for k, v in table.items()}


# =========================================================================== programme
# Dimensions, roles, activities and focus groups: the seeds' own words.

#: Development dimensions per level (the assessment's four dimensions, in report order).
DIMENSION_LABELS: dict[str, dict[str, Pair]] = {
    "primary": {
        "moral": ("思想引领", "moral and ideological"),
        "academic": ("学业支持", "academic"),
        "psychological": ("心理关怀", "psychological"),
        "habits": ("习惯养成", "habits"),
    },
    "middle": {
        "moral": ("思想引导", "moral and ideological"),
        "academic": ("学业辅导", "academic"),
        "psychological": ("心理疏导", "psychological"),
        "life": ("生活指导", "life guidance"),
    },
}

#: Staff roles.
ROLE_LABELS: dict[str, Pair] = {
    "principal": ("校长", "principal"),
    "admin": ("行政人员", "administrator"),
    "class_teacher": ("班主任", "class teacher"),
    "subject_teacher": ("科任教师", "subject teacher"),
    "support": ("教辅人员", "support staff"),
}

#: Activity kinds of the process records.
ACTIVITY_LABELS: dict[str, Pair] = {
    "talk": ("谈心谈话", "one-to-one talk"),
    "student_report": ("学生汇报", "student report"),
    "three_party": ("三方沟通", "three-party talk"),
    "parent_call": ("家长电话", "parent call"),
    "home_visit": ("家访", "home visit"),
    "subject_exchange": ("学科教师交流", "subject-teacher exchange"),
    "group_counselling": ("团体辅导", "group counselling"),
    "case_conference": ("个案分析", "case conference"),
}

#: Compatibility views (Chinese only) used by code that predates this module.
DIMENSION_LABELS_ZH: dict[str, dict[str, str]] = {
    lvl: zh_of(t) for lvl, t in DIMENSION_LABELS.items()
}
DIMENSION_LABELS_EN: dict[str, str] = {
    k: v[1] for t in DIMENSION_LABELS.values() for k, v in t.items()
}
ROLES_ZH: dict[str, str] = zh_of(ROLE_LABELS)
ACTIVITIES_ZH: dict[str, str] = zh_of(ACTIVITY_LABELS)


# =========================================================================== io and clean
# (tables of the cleaner, the codebooks and the data-quality checks go here)


# =========================================================================== progress
# (definitions, missing-data rules, verdicts, categories, breakdowns)


# =========================================================================== effectiveness
# (outcomes, exposures, the award scheme's bands)


# =========================================================================== grouping
# (policies, checker rules)


# =========================================================================== compliance
# (indicators, activity frequencies)


# =========================================================================== report and plots
# (section titles, table headers, figure axes)


# =========================================================================== command line
# (stage names, summary lines)

#: Lines of the command line's human output (``--lang`` picks the side).
CLI_LABELS: dict[str, Pair] = {
    "sensitivity": (
        "敏感性分析（不同定义 × 缺失处理）：",
        "Sensitivity (definition x missing-data rule):",
    ),
    "small_cells": ("（人数过少，不显示）", "(small cells)"),
    "grouped": (
        "{policy}：{year}学年共分组 {n:,} 名学生；",
        "{policy}: {n:,} students grouped for {year}; ",
    ),
    "hard_met": ("硬性规则全部满足", "hard rules met"),
    "hard_not_met": ("硬性规则未全部满足", "hard rules NOT met"),
}
