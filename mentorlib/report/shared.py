"""Pieces both reports use: title page, figures, verdict texts, KPI rows, the judgement
section, technical notes, policy names, focus-group order. One definition each."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..errors import InputError
from ..labels import FOCUS_LABELS, POLICY_LABELS, PROGRESS_VERDICTS, Lang
from ..labels_compliance import UNMEASURED_REASONS, UNMEASURED_VERDICT
from ..labels_narrative import SCHOOL_UNNAMED
from ..labels_privacy import VERDICT_WITHHELD
from ..plots import fig_png
from .document import Block, Figure, Heading, Para, Section, Todo
from .render.fmt import missing, num, numci, pct, year_span, years_span


def add_figure(blocks: list, t: Lang, key: str, caption: str, make: Callable, width: float = 15.0):
    """Render ``make()`` to PNG and append it; an analysis that cannot draw leaves a note."""
    try:
        fig = make()
    except InputError as e:
        blocks.append(Para(t(f"（图未生成：{e}）", f"(figure not drawn: {e})"), "note"))
        return
    blocks.append(Figure(fig_png(fig), caption, key, width))


def odds_ratio_text(what: tuple[str, str], ratio, lo, hi, level: str, t: Lang) -> str:
    """An odds ratio in words: 比值比 (odds ratio), its interval, and a plain sentence of what it
    means ("more likely", "less likely", or "no clear link" when the interval holds 1).

    ``what`` is the (zh, en) exposure, e.g. ("家校联系每月每生多1次", "one more parent contact
    a month"). Never "odds X times the original": a ratio of odds is not a ratio of chances.

    >>> odds_ratio_text(("多1次", "one more"), 2.01, 1.2, 3.4, "95%", Lang("zh"))
    '多1次，显著进步的比值比（odds ratio）为2.01（95%置信区间1.20–3.40）：频次越高，学生越可能取得显著进步。这是相关，不是因果。'
    """
    if missing(ratio):
        return t("比值比未能估计。", "The odds ratio could not be estimated.")
    rng, zh, en = numci(lo, hi, t=t), what[0], what[1]
    head = t(
        f"{zh}，显著进步的比值比（odds ratio）为{ratio:.2f}（{level}置信区间{rng}）",
        f"{en}: odds ratio of significant progress {ratio:.2f} ({level} CI {rng})",
    )
    if not missing(lo) and float(lo) > 1:
        plain = t("频次越高，学生越可能取得显著进步", "the more often, the likelier progress was")
    elif not missing(hi) and float(hi) < 1:
        plain = t(
            "频次越高，学生反而越少取得显著进步", "the more often, the less likely progress was"
        )
    else:
        plain = t(
            "区间包含1，数据不足以说明两者有关", "the interval holds 1: no clear link in these data"
        )
    return head + t(
        f"：{plain}。这是相关，不是因果。", f"; {plain}. An association, not an effect."
    )


def verdict_text(verdict: object, t: Lang) -> str:
    """The verdict on the progress target (a code of :data:`~mentorlib.labels.PROGRESS_VERDICTS`,
    e.g. a table cell) in the report language ("—" when none)."""
    if verdict is None or missing(verdict):
        return "—"
    return t.of(PROGRESS_VERDICTS, verdict)


def verdict_withheld_note(table: pd.DataFrame, t: Lang, min_cell: int) -> str:
    """Why a table's withheld rows print "—" for their rate and verdict, said once: the
    sentence to append to the table's note (led by a space in English), or "" when no row of
    ``table`` (a verdict-shaped table with ``suppressed``) is withheld."""
    if "suppressed" not in table or not table["suppressed"].fillna(False).astype(bool).any():
        return ""
    return t("", " ") + t.pair(VERDICT_WITHHELD["note"]).format(min_cell=min_cell)


def passed_text(passed, t: Lang) -> str:
    """达标 / 未达标 (met / not met) of a process indicator, "—" when it has no target."""
    if missing(passed):
        return "—"
    return t("达标", "met") if bool(passed) else t("未达标", "not met")


def unmeasured_of(r) -> str | None:
    """Why a process indicator (a row of the compliance indicators or trend, a Series or a
    namedtuple) could not be measured: its reason code, None when it was measured."""
    code = r.get("unmeasured") if isinstance(r, pd.Series) else getattr(r, "unmeasured", None)
    return None if code is None or missing(code) else str(code)


def indicator_verdict(r, t: Lang) -> str:
    """The verdict cell of a process indicator: 达标 / 未达标 / "—", or 无记录，未评估 (no
    records, not assessed) when the year's records could not measure it."""
    if unmeasured_of(r) is not None:
        return t.pair(UNMEASURED_VERDICT)
    return passed_text(r["passed"] if isinstance(r, pd.Series) else r.passed, t)


def unmeasured_item(r, label: str, t: Lang) -> str:
    """ "name (why)" of a process indicator not measured, for the reports' lists."""
    why = t.of(UNMEASURED_REASONS, unmeasured_of(r))
    return t(f"{label}（{why}）", f"{label} ({why})")


def school_label(processed, t: Lang) -> str:
    """The school's name as study.toml gives it, or a mark for the researcher to fill in (a
    study folder's name, "primary" in a folder `init` drafted, is no school's name)."""
    return str(processed.school).strip() or t.pair(SCHOOL_UNNAMED)


def title_page(
    processed, kind: str, years, public: bool, synthetic: bool, t: Lang, *, min_cell: int
) -> tuple[str, str, list[str]]:
    """(title, subtitle, front lines) of a report; ``min_cell`` is the threshold applied."""
    school = school_label(processed, t)
    prog = t("全员育人导师制", "all-staff mentorship programme")
    if processed.level == "middle":
        prog = t("学生成长导师制", "student growth mentorship programme")
    if kind == "annual_summary":
        y = years[0]
        title = t(
            f"{school}{prog}{year_span(y, t)}年度总结",
            f"{school}: {prog}, annual summary, {year_span(y, t)}",
        )
        subtitle = t("年度总结（初稿）", "Annual summary (draft)")
    else:
        title = t(
            f"{school}{prog}三年试点评估报告（{years_span(min(years), max(years), t)}）",
            f"{school}: {prog}, three-year pilot review, {years_span(min(years), max(years), t)}",
        )
        subtitle = t("三年试点评估报告（初稿）", "Three-year pilot review (draft)")
    if not public:
        title += t("（内部版）", " (internal)")
    front = [
        t(
            f"研究对象：{school}（研究编号 {processed.name}）",
            f"School: {school} (study {processed.name})",
        ),
        t(
            "本稿由 mentorlib 根据过程记录与测评数据自动生成，所有数字均来自分析；"
            "标有【待补充】之处请研究者填写判断与说明。",
            "Drafted by mentorlib from the process records and assessments; every number comes "
            "from the analysis. Places marked [to be completed] are for the researcher's judgement.",
        ),
        t("编制人与日期：【待补充】", "Prepared by / date: [to be completed]"),
    ]
    if public:
        front.append(
            t(
                "公开版：不含任何学生姓名、学籍号或导师姓名；"
                f"少于{min_cell}名学生的数据格以“<{min_cell}”表示。",
                "Public version: no student name, student ID or mentor name; cells describing "
                f"fewer than {min_cell} students show '<{min_cell}'.",
            )
        )
    else:
        front.append(
            t(
                "内部版：含导师姓名与逐位导师的结果，仅供学校领导小组内部使用，不得外传；"
                "不含任何学生姓名或学籍号。",
                "Internal version: names mentors and shows per-mentor results; for the school's "
                "leading group only, not for circulation. No student name or ID.",
            )
        )
    if synthetic:
        front.append(
            t(
                "说明：本报告所用数据为合成数据（模拟学校），仅用于演示和测试，不代表任何真实学校。",
                "Note: the data are synthetic (a simulated school), for demonstration and "
                "testing only; they describe no real school.",
            )
        )
    return title, subtitle, front


def judgement_section(t: Lang, kind: str) -> Section:
    """The researcher's assessment: placeholders only (the workbench judges nothing here)."""
    if kind == "annual_summary":
        items = [
            ("主要成绩与经验", "Main achievements and what worked"),
            ("存在的问题及原因分析", "Problems and their causes"),
            (
                "下一学年的改进措施（分组、培训、过程管理、家校协同）",
                "Next year's measures (grouping, training, process, home-school work)",
            ),
            ("提请学校领导小组审议的事项", "Matters for the school leading group"),
        ]
    else:
        items = [
            ("三年试点的总体结论", "Overall conclusion of the three-year pilot"),
            (
                "可复制、可推广的做法（形成的模式）",
                "What can be replicated (the model that emerged)",
            ),
            ("需要修订的制度与指标", "Rules and indicators to revise"),
            ("下一阶段的工作建议", "Recommendations for the next phase"),
        ]
    b: list[Block] = [
        Para(
            t(
                "本部分由研究者根据以上证据撰写，系统不作自动判断。",
                "This part is written by the researcher from the evidence above; the workbench "
                "makes no judgement here.",
            )
        )
    ]
    b += [Todo(t(zh, en)) for zh, en in items]
    return Section("judgement", t("研究者意见与建议", "The researcher's assessment"), b)


def label_column(t: Lang) -> str:
    """The column of a compliance table with the indicator's label in the language."""
    return "label_zh" if t.zh else "label_en"


def policy_name(pol: str, t: Lang) -> str:
    """A grouping policy's name in the report language."""
    return t.of(POLICY_LABELS, pol)


def focus_order(groups: pd.DataFrame) -> pd.DataFrame:
    """Focus-group rows in report order (:data:`mentorlib.labels.FOCUS_LABELS`)."""
    order = {g: i for i, g in enumerate(FOCUS_LABELS)}
    return groups.assign(_o=groups["group"].map(order)).sort_values("_o").drop(columns="_o")


def with_interval(value: str, interval: str, t: Lang) -> str:
    """A value with its interval in brackets: "28.7%（26.2%–31.5%）" / "28.7% (26.2%–31.5%)"."""
    return f"{value}（{interval}）" if t.zh else f"{value} ({interval})"


def technical_notes(notes: list[str], t: Lang) -> list:
    """The internal version's technical notes: a heading and one bullet per note."""
    return [Heading(t("分析过程中的技术说明（内部）", "Technical notes (internal)"))] + [
        Para(n, "bullet") for n in notes
    ]


def kpi_row(
    key: str,
    label: str,
    value,
    target,
    target_text: str,
    status: str,
    n,
    *,
    year: int | None = None,
    ci_low=np.nan,
    ci_high=np.nan,
    passed: bool | None = None,
) -> dict:
    """One row of a ``Report.kpis`` table (``year`` only in the pilot review's)."""
    head: dict = {"key": key} if year is None else {"key": key, "year": year}
    return {
        **head,
        "label": label,
        "value": value,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "target": target,
        "target_text": target_text,
        "passed": passed,
        "status": status,
        "n": n,
    }


def progress_kpi(
    s: dict, label: str, t: Lang, *, year: int | None = None, show_target: bool = True
) -> dict:
    """The KPI row of the progress rate from :meth:`ProgressReport.summary`; without a target
    (``rules.show_target`` off) its target reads "no numeric target" and it has no verdict."""
    if not show_target:
        return kpi_row(
            "progress",
            label,
            s["proportion"],
            np.nan,
            t("无量化目标", "no numeric target"),
            "—",
            s["n_evaluable"],
            year=year,
            ci_low=s["ci_low"],
            ci_high=s["ci_high"],
        )
    return kpi_row(
        "progress",
        label,
        s["proportion"],
        s["target"],
        f"≥{s['target']:.0%}",
        verdict_text(s["verdict"], t),
        s["n_evaluable"],
        year=year,
        ci_low=s["ci_low"],
        ci_high=s["ci_high"],
        passed=None if s["verdict"] is None else s["verdict"] == "met",
    )


def rule_text(r, t: Lang) -> str:
    """The rule of a process indicator in words ("≥40学时", "≥1次/月"), from its row of the
    compliance indicators (or of the trend): the one wording every document prints."""
    zh, en = getattr(r, "target_zh", None), getattr(r, "target_en", None)
    if missing(zh) or missing(en):
        return "—"
    return t(str(zh), str(en))


def compliance_kpi(r, t: Lang, target_text: str, *, year: int | None = None) -> dict:
    """The KPI row of a process indicator (a row of the compliance indicators)."""
    return kpi_row(
        r.indicator,
        t(r.label_zh, r.label_en),
        r.value,
        r.target,
        target_text,
        indicator_verdict(r, t),
        np.nan if unmeasured_of(r) else r.n,  # nothing counted: "—", not "<5"
        year=year,
        passed=None if missing(r.passed) else bool(r.passed),
    )


def satisfaction_kpis(
    r, labels: tuple[str, str], target_text: str, *, year: int | None = None
) -> list[dict]:
    """The two KPI rows of a satisfaction survey: the mean rating and the share wanting a
    change of mentor (``r``: a row of the satisfaction table; ``labels``: their labels)."""
    return [
        kpi_row(
            "satisfaction",
            labels[0],
            r.mean,
            np.nan,
            target_text,
            "—",
            r.n,
            year=year,
            ci_low=r.ci_low,
            ci_high=r.ci_high,
        ),
        kpi_row(
            "want_change",
            labels[1],
            r.want,
            np.nan,
            target_text,
            "—",
            r.n_answer,
            year=year,
            ci_low=r.want_low,
            ci_high=r.want_high,
        ),
    ]


def kpi_frame(rows: list[dict]) -> pd.DataFrame:
    """The KPI rows as a frame, with ``passed`` nullable and the printed ``value_text``."""
    k = pd.DataFrame(rows)
    k["passed"] = k["passed"].astype("boolean")
    k["value_text"] = [
        num(v) if key == "satisfaction" else pct(v)
        for key, v in zip(k["key"], k["value"], strict=True)
    ]
    return k
