"""Column headers and sentences of the notebooks' display tables (:mod:`mentorlib.display`).

Each a ``(zh, en)`` pair, beside :mod:`mentorlib.labels` (at its 800-line limit);
:class:`mentorlib.labels.Lang` picks a side. A column missing here is shown by its code.
"""

from __future__ import annotations

from .labels import Pair

__all__ = ["COLUMN_LABELS", "DISPLAY_TEXTS", "PERCENT_COLUMNS", "POINT_COLUMNS"]

#: The header of a column of the library's tables (column code -> pair).
COLUMN_LABELS: dict[str, Pair] = {
    # cleaning (notebook 01)
    "source": ("原始文件", "file"),
    "sheet": ("工作表", "sheet"),
    "kind": ("数据类别", "kind"),
    "encoding": ("编码", "encoding"),
    "platform": ("问卷平台", "platform"),
    "header_row": ("表头行", "header row"),
    "rows_in": ("读入行数", "rows in"),
    "kept": ("保留", "kept"),
    "merged": ("合并（重复提交）", "merged"),
    "quarantined": ("隔离", "quarantined"),
    "blank_rows": ("空行", "blank rows"),
    "cells": ("单元格数", "cells"),
    "column": ("列", "column"),
    "old": ("原值", "old value"),
    "new": ("新值", "new value"),
    "reason": ("原因", "reason"),
    "rows": ("行数", "rows"),
    "row": ("行号", "row"),
    "detail": ("说明", "detail"),
    "expected": ("正确处理", "expected"),
    "injected": ("注入数", "injected"),
    "fixed": ("已修复", "fixed"),
    "wrong": ("处理错误", "wrong"),
    "missed": ("遗漏", "missed"),
    # progress (notebook 02)
    "definition": ("判定标准", "definition"),
    "missing_rule": ("缺测处理", "missing data"),
    "k": ("至少进步维度数", "dimensions needed"),
    "n_students": ("学生数", "students"),
    "n_evaluable": ("可评估学生", "evaluable"),
    "n_not_evaluable": ("无法评估", "not evaluable"),
    "n_progressing": ("显著进步人数", "progressing"),
    "n": ("计算基数（人）", "n (students)"),
    "proportion": ("显著进步比例", "share progressing"),
    "ci_low": ("区间下限", "interval low"),
    "ci_high": ("区间上限", "interval high"),
    "target": ("目标", "target"),
    "verdict": ("结论", "verdict"),
    "n_dimensions": ("维度数", "dimensions"),
    "p_student": ("无真实变化时仍判为进步的概率", "chance of a false 'progress'"),
    "observed": ("实际比例", "observed share"),
    "factor": ("阈值倍数", "threshold factor"),
    "threshold": ("阈值", "threshold"),
    "rate": ("比例", "share"),
    "level": ("维度", "dimension"),
    "slope": ("每年变化", "change per year"),
    "p_value": ("p值", "p"),
    "note": ("说明", "note"),
    "year": ("学年", "school year"),
    "wave": ("测次", "wave"),
    "dimension": ("维度", "dimension"),
    "alpha": ("α系数（本校）", "alpha (this school)"),
    "published_alpha": ("α系数（量表公布）", "alpha (published)"),
    "by": ("分组依据", "by"),
    "group": ("组别", "group"),
    # mentors (notebook 03)
    "outcome": ("结果变量", "outcome"),
    "n_mentors": ("导师数", "mentors"),
    "mean_mentees": ("平均受导学生数", "mentees per mentor"),
    "icc": ("导师间差异占比（ICC）", "ICC"),
    "lrt_p": ("导师差异检验p值", "p (mentor variance)"),
    "mean_reliability": ("导师效应平均信度", "mean reliability"),
    "message": ("结论", "message"),
    "spearman": ("秩相关（Spearman）", "Spearman"),
    "n_band_changed": ("等级改变的导师数", "mentors changing band"),
    "share_band_changed": ("等级改变比例", "share changing band"),
    "n_mentees": ("受导学生数", "mentees"),
    "n_groups": ("导师组数", "mentor groups"),
    "satisfaction": ("满意度", "satisfaction"),
    "progress": ("进步", "progress"),
    "points": ("积分", "points"),
    "composite": ("综合", "composite"),
    "spearman_p": ("p值", "p"),
    "term": ("因素", "term"),
    "ratio": ("比值比", "odds ratio"),
    "ratio_low": ("区间下限", "interval low"),
    "ratio_high": ("区间上限", "interval high"),
    "p": ("p值", "p"),
    # grouping (notebook 04)
    "policy": ("分组方式", "policy"),
    "label": ("指标", "measure"),
    "value": ("数值", "value"),
    "pass": ("是否达到", "met"),
    "hard": ("硬性规则", "hard rule"),
    "measure": ("预测指标", "measure"),
    "mean": ("预测值", "prediction"),
    "lo": ("区间下限", "interval low"),
    "hi": ("区间上限", "interval high"),
    "diff": ("与现有分组之差（百分点）", "difference from recorded (points)"),
    "mc_error": ("模拟误差（百分点）", "MC error (points)"),
    # KPIs (notebooks 05, 06)
    "value_text": ("结果", "result"),
    "ci_text": ("95%置信区间", "95% interval"),
    "target_text": ("目标", "target"),
    "status": ("是否达标", "status"),
    "unit": ("计数单位", "unit counted"),
}

#: Columns that hold shares (0-1), shown as percentages.
PERCENT_COLUMNS: frozenset[str] = frozenset(
    {
        "proportion",
        "ci_low",
        "ci_high",
        "target",
        "p_student",
        "observed",
        "rate",
        "share_band_changed",
        "icc",
        "mean",
        "lo",
        "hi",
    }
)

#: Columns that hold differences of shares, shown in percentage points.
POINT_COLUMNS: frozenset[str] = frozenset({"diff", "mc_error"})

#: Sentences of the display helpers.
DISPLAY_TEXTS: dict[str, Pair] = {
    "fallback": (
        "未找到示范研究 {wanted}（先运行 `make demo` 生成）；改用随仓库提交的小样本 {sample}"
        "（约150名学生的合成小学）。",
        "No demo study at {wanted} (run `make demo` to build it); using the committed small "
        "sample {sample} (a synthetic primary school of about 150 students) instead.",
    ),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "wide_ratio": (
        "{term}：比值比{ratio}，95%置信区间{low}至{high}，上限是下限的{fold}倍。"
        "本样本只有{n}名学生，区间极宽，这个数值几乎没有信息量，不能据此下结论。",
        "{term}: odds ratio {ratio}, 95% interval {low} to {high}, the upper end {fold} times "
        "the lower. With only {n} students the interval is very wide: the number says almost "
        "nothing and supports no conclusion.",
    ),
}
