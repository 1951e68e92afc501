"""The progress report's sentences (Chinese first), with every number from the report itself.

The definition, the confidence level, the target, k and the small-cell threshold are the
ones the report was computed with (the study's rulebook unless overridden), never literals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ..io.codebook import Codebook
from ..labels import (
    INTERVAL_METHODS,
    PROGRESS_K_WORDS,
    PROGRESS_VERDICTS,
    SHARED_ITEMS_DIMENSION,
    SHARED_ITEMS_NOTE,
    TRUE_SHARE_LINE,
    TRUE_SHARE_NONE,
    Lang,
    level_text,
)
from .change import definition_label

if TYPE_CHECKING:
    from .report import ProgressReport

__all__ = ["headline", "shared_items_note", "true_share_lines"]


def headline(rep: ProgressReport, lang: str = "zh", *, public: bool = True) -> str:
    """The report sentence with the verdict, its interval and the missing students."""
    L = Lang(lang)
    s = rep.summary_dict(public=public)
    if s["proportion"] is None:
        return L(
            f"{rep.year}学年的显著进步比例涉及少于{rep.min_cell}名学生，按小单元格规则不报告。",
            f"The {rep.year} progress rate rests on fewer than {rep.min_cell} "
            "students (progressing or not): not reported.",
        )
    doc = rep.disclosure if public else None

    def cnt(key: str) -> str:
        return doc.text(key) if doc is not None and key in doc.cells else f"{s[key]:,}"

    return _zh(rep, s, cnt) if L.zh else _en(rep, s, cnt)


def _zh(rep: ProgressReport, s: dict[str, Any], cnt) -> str:
    o = s["other_rule"]
    conf = level_text(rep.alpha)
    who = "受导学生" if rep.level == "middle" else "学生"
    k_txt = Lang("zh").of(PROGRESS_K_WORDS, rep.k)
    text = (
        f"{rep.year}学年共评估{cnt('n_evaluable')}名{who}，其中{s['proportion']:.1%}"
        f"（{conf}置信区间{s['ci_low']:.1%}–{s['ci_high']:.1%}）至少在{k_txt}个发展维度"
        f"取得显著进步（判定标准：{definition_label(rep.definition, 'zh', mid=rep.mid)}）"
    )
    if s["n_not_evaluable"] is None or s["n_not_evaluable"]:
        text += f"；另有{cnt('n_not_evaluable')}名{who}缺少前测或后测" + (
            f"，若计为未进步，比例为{o['proportion']:.1%}（{o['ci_low']:.1%}–{o['ci_high']:.1%}）"
            if o["proportion"] is not None
            else ""
        )
    if not rep.rules.show_target:  # the plan sets no target: no verdict sentence
        text += "。"
    else:
        text += (
            f"。对照{rep.target:.0%}的目标：{PROGRESS_VERDICTS[s['verdict']][0]}"
            f"（单侧{conf}置信下限{s['lower_bound']:.1%}，p = {s['p_value']:.3f}；"
            f"区间与p值均来自{Lang('zh').of(INTERVAL_METHODS, s['interval_method'])}）。"
        )
    if s["false_positive_rate"] is not None:
        text += f"若无任何真实变化，此规则也会判定约{s['false_positive_rate']:.1%}的学生进步。"
    return text


def _en(rep: ProgressReport, s: dict[str, Any], cnt) -> str:
    o = s["other_rule"]
    conf = level_text(rep.alpha)
    dims = "dimension" if rep.k == 1 else "dimensions"
    text = (
        f"In the {rep.year} school year {cnt('n_evaluable')} students were assessed; "
        f"{s['proportion']:.1%} ({conf} CI {s['ci_low']:.1%}–{s['ci_high']:.1%}) made "
        f"significant progress in at least {rep.k} development {dims} "
        f"({definition_label(rep.definition, 'en', mid=rep.mid)})"
    )
    if s["n_not_evaluable"] is None or s["n_not_evaluable"]:
        text += f"; {cnt('n_not_evaluable')} more lack a pre or post test" + (
            f", and counting them as not progressing gives {o['proportion']:.1%} "
            f"({o['ci_low']:.1%}–{o['ci_high']:.1%})"
            if o["proportion"] is not None
            else ""
        )
    if not rep.rules.show_target:  # the plan sets no target: no verdict sentence
        text += "."
    else:
        text += (
            f". Against the {rep.target:.0%} target: {s['verdict']} (one-sided {conf} lower "
            f"bound {s['lower_bound']:.1%}, p = {s['p_value']:.3f}; interval and p-value both "
            f"from the {Lang('en').of(INTERVAL_METHODS, s['interval_method'])})."
        )
    if s["false_positive_rate"] is not None:
        text += (
            f" With no true change at all the rule would still flag about "
            f"{s['false_positive_rate']:.1%} of students."
        )
    return text


def shared_items_note(
    shared: pd.DataFrame | None, codebook: Codebook, year: int, lang: str = "zh"
) -> str | None:
    """One line saying which items a year's change used, when not every codebook item of a
    dimension (None when every item was used).

    Parameters
    ----------
    shared : DataFrame or None
        :func:`mentorlib.scales.shared_items` (``StudyScores.shared``).
    codebook : Codebook
        The assessment codebook (item order and dimension labels).
    year : int
    lang : {"zh", "en"}

    Examples
    --------
    >>> sh = pd.DataFrame({"year": [2024], "dimension": ["life"], "shared": [("life_1",
    ...     "life_2", "life_3", "life_4", "life_5")], "only_pre": [()], "only_post": [()]})
    >>> from mentorlib.io.codebook import load_codebook
    >>> cb = load_codebook("assessment_middle")
    >>> shared_items_note(sh, cb, 2024, "en")
    '2024: change scores and their reliability use only the items both waves asked: life 5 items (not used: life_6).'
    """
    t = Lang(lang)
    if shared is None:
        return None
    parts = []
    for dim, used in zip(
        shared.loc[shared["year"] == year, "dimension"],
        shared.loc[shared["year"] == year, "shared"],
        strict=True,
    ):
        left = [f.var for f in codebook.items_of(str(dim)) if f.var not in used]
        if left:
            label = codebook.dimensions[str(dim)].label if t.zh else str(dim)
            parts.append(
                t.pair(SHARED_ITEMS_DIMENSION).format(
                    label=label, n=len(used), left=", ".join(left)
                )
            )
    if not parts:
        return None
    sep = "；" if t.zh else "; "
    return t.pair(SHARED_ITEMS_NOTE).format(year=year, dims=sep.join(parts))


def true_share_lines(rep: ProgressReport, lang: str = "zh") -> list[str]:
    """The estimated true share as one line (empty when the report skipped it)."""
    L = Lang(lang)
    ts = rep.true_share
    if ts is None:
        asked = any(n.startswith("estimated true share") for n in rep.notes)
        return [L.pair(TRUE_SHARE_NONE)] if asked else []
    return [
        L.pair(TRUE_SHARE_LINE).format(
            delta=ts["delta"],
            k=ts["k"],
            method=ts["method"],
            estimate=ts["estimate"],
            ci_low=ts["ci_low"],
            ci_high=ts["ci_high"],
            n=ts["n_students"],
        )
    ]
