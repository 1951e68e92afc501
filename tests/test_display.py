"""The notebooks' display helpers (mentorlib.display): labels, formats, the study fallback, the
wide-interval sentence; and the grouping table's labels that used to mislead."""

from __future__ import annotations

import pandas as pd
import pytest

from mentorlib.display import (
    kpi_table,
    kpi_trend_table,
    resolve_study,
    show,
    wide_ratio_notes,
)
from mentorlib.errors import InputError
from mentorlib.grouping.report import comparison_table
from mentorlib.rules import rulebook


def _verdict() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "definition": ["rci_data", "mid"],
            "rule": ["evaluable_only", "missing_not_progressing"],
            "n": pd.array([133, 1510], dtype="Int64"),
            "proportion": [0.300752, float("nan")],
            "verdict": ["not met", "met"],
            "extra": [1, 2],
        }
    )


def test_show_labels_codes_headers_and_formats():
    html = show(_verdict(), view="verdict").to_html()
    for text in ("可靠变化指数，α取本校前测", "缺测计为未进步", "最小重要差异，0.5个标准差"):
        assert text in html
    assert "30.1%" in html and "0.300752" not in html and "1,510" in html
    assert "判定标准" in html and "显著进步比例" in html and "未达成" in html
    assert "extra" not in html and "rci_data" not in html  # not in the view; code relabelled
    en = show(_verdict(), "en", view="verdict").to_html()
    assert "missing counted as not progressing" in en and "share progressing" in en
    # the rulebook's mid goes into the MID label; an unknown code stays as it is
    mid = show(_verdict(), rules=rulebook("primary").with_changes(mid=0.3)).data
    assert mid.iloc[1, 0] == "最小重要差异，0.3个标准差"
    odd = show(pd.DataFrame({"kind": ["left_behind", "students"]})).data
    assert odd.iloc[:, 0].tolist() == ["left_behind", "学生名册"]


def test_show_bools_in_words_and_bad_view():
    # a column named like a share but holding text (a check's target) is shown as text
    txt = show(pd.DataFrame({"target": [">= 5", "0"], "pass": [True, False]})).to_html()
    assert "&gt;= 5" in txt and "是" in txt
    d = show(pd.DataFrame({"pass": pd.array([True, False, None], dtype="boolean")})).data
    assert d.iloc[:, 0].tolist() == ["是", "否", "—"]
    with pytest.raises(InputError):
        show(_verdict(), view="nope")


def test_differences_of_shares_in_percentage_points():
    d = pd.DataFrame(
        {"policy": ["optimal"], "mean": [0.2726], "diff": [0.0102], "mc_error": [0.003]}
    )
    html = show(d, view="outcomes").to_html()
    assert "最优匹配" in html and "27.3%" in html and "+1.0" in html and "0.3" in html
    assert "与现有分组之差（百分点）" in html and "1.0%" not in html


def test_kpi_table_says_what_n_counts():
    kpis = pd.DataFrame(
        {
            "key": ["progress", "talk"],
            "label": ["显著进步学生比例", "谈心谈话达标率"],
            "value_text": ["30.1%", "80.1%"],
            "ci_text": ["22.6%–36.2%", "—"],
            "target_text": ["≥85%", "≥1次/月"],
            "status": ["未达成", "未达标"],
            "n": [133, 1359],
            "value": [0.3, 0.8],
        }
    )
    d = kpi_table(kpis).data
    assert d.columns.tolist()[-1] == "计数单位"
    assert d.iloc[:, -1].tolist() == ["学生", "学生·月"] and "value" not in d.columns


def test_resolve_study_falls_back_to_the_sample(tmp_path, capsys):
    assert resolve_study(tmp_path) == str(tmp_path)
    assert capsys.readouterr().out == ""
    sample = tmp_path / "sample"
    sample.mkdir()
    assert resolve_study(tmp_path / "demo", sample=sample) == str(sample)
    assert "make demo" in capsys.readouterr().out
    with pytest.raises(InputError):
        resolve_study(tmp_path / "demo", sample=tmp_path / "none")


def test_wide_ratio_notes_flag_only_wide_intervals():
    dose = pd.DataFrame(
        {
            "term": ["talk", "parent_contact"],
            "ratio": [0.79, 15.93],
            "ratio_low": [0.30, 2.65],
            "ratio_high": [2.64, 95.75],
        }
    )
    rules = rulebook("primary")
    notes = wide_ratio_notes(dose, 151, rules)
    assert len(notes) == 1  # talk: 2.64 / 0.30 = 8.8 fold, within the rulebook's 10
    assert "每月家校联系次数" in notes[0] and "151名学生" in notes[0] and "36倍" in notes[0]
    assert len(wide_ratio_notes(dose, 151, rules.with_changes(wide_ratio_fold=40))) == 0
    assert len(wide_ratio_notes(dose, 151, rules.with_changes(wide_ratio_fold=5))) == 2
    assert "only 151 students" in wide_ratio_notes(dose, 151, rules, "en")[0]


def test_comparison_table_counts_invalid_rows_and_answers_in_chinese():
    class Cmp:
        policies = ["recorded"]
        checks = pd.DataFrame(
            {
                "policy": ["recorded"],
                "rule": ["assignment_valid"],
                "value": [0.0],
                "target": ["0"],
                "pass": [True],
                "hard": [True],
            }
        )
        outcomes = pd.DataFrame(columns=["policy", "measure"])
        level = "primary"

    zh = comparison_table(Cmp(), lang="zh")  # type: ignore[arg-type]
    assert "分组表无效行数" in zh.index and zh.iloc[0, 0] == "是"


def test_kpi_trend_table_one_row_per_indicator_one_column_per_year():
    kpis = pd.DataFrame(
        {
            "key": ["progress", "progress", "talk", "talk"],
            "year": [2023, 2024, 2023, 2024],
            "label": ["显著进步学生比例"] * 2 + ["谈心谈话达标率"] * 2,
            "value_text": ["33.6%", "30.1%", "77.3%", "—"],
            "target_text": ["≥85%", "≥85%", "≥1次/月", "≥1次/月"],
            "passed": pd.array([False, False, True, None], dtype="boolean"),
        }
    )
    d = kpi_trend_table(kpis).data
    assert d.columns.tolist() == ["指标", "目标", "计数单位", "2023学年", "2024学年"]
    assert d["2023学年"].tolist() == ["33.6% ✗", "77.3% ✓"] and d.iloc[1, -1] == "—"
    assert d["计数单位"].tolist() == ["学生", "学生·月"]


def test_comparison_table_in_chinese_reads_shares_as_percentages():
    class Cmp:
        policies = ["optimal"]
        checks = pd.DataFrame(
            {
                "policy": ["optimal"] * 2,
                "rule": ["changed_share", "mean_fit"],
                "value": [0.728477, 0.598288],
                "target": ["-", "-"],
                "pass": pd.array([None, None], dtype="boolean"),
                "hard": [False, False],
            }
        )
        outcomes = pd.DataFrame(
            {
                "policy": ["optimal", "optimal"],
                "measure": ["improved_any", "mean_fit"],
                "mean": [0.272632, 0.598288],
                "lo": [0.198510, 0.598288],
                "hi": [0.357616, 0.598288],
                "diff": [0.010199, 0.22],
                "diff_lo": [-0.004, 0.22],
                "diff_hi": [0.030, 0.22],
                "mc_error": [0.002, 0.0],
            }
        )
        level = "primary"

    zh = comparison_table(Cmp(), lang="zh")  # type: ignore[arg-type]
    col = zh["最优匹配"]
    assert col["调整比例"] == "72.8%" and col["平均匹配度"] == "0.598"
    assert col["预测显著进步学生比例"] == "27.3% [19.9%, 35.8%]"
    assert col["与参照方案之差（百分点）［区间］±模拟误差"] == "+1.0 [-0.4, +3.0] ±0.2"
    assert col["预测平均匹配度"] == "0.598 [0.598, 0.598]"
    en = comparison_table(Cmp(), lang="en")["optimal"]
    assert en["pred_improved_any"] == "0.273 [0.199, 0.358]" and en["changed_share"] == "0.728"
