"""Sections of the pilot review: cohort tracking, stability of mentor effects, the
grouping-policy comparison with its recommendation, limitations."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..effectiveness import Stability
from ..grouping import hard_rules_met
from ..labels import MISSING_KIND_LABELS, Lang
from ..plots import plot_lines, plot_pairs
from .analyses import PilotAnalyses
from .disclosure import printed
from .document import Heading, Para, Section, Table, Todo
from .headline import shown_true_share
from .levels import figure_target, shows_target
from .render.fmt import (
    as_float,
    as_int,
    ci,
    frame,
    integer,
    missing,
    num,
    numci,
    pct,
    pts,
    sep,
    share,
    year_label,
)
from .sections_plan import plan_paragraph
from .shared import add_figure, policy_name, with_interval
from .sources import missing_kinds

__all__ = [
    "cohort_section",
    "grouping_section",
    "limitations_section",
    "recommendation",
    "stability_section",
]


def recommendation(p: PilotAnalyses, t: Lang) -> tuple[str, str | None]:
    """(recommendation sentence, best policy code) from the policy comparison.

    The decision is :func:`mentorlib.grouping.recommend`'s (adopt / trial / keep): a policy is
    recommended only when the lower bound of its difference from the recorded grouping exceeds
    zero by more than the Monte Carlo error allows, so the advice does not depend on the seed.
    """
    C = p.comparison
    if C is None:
        return t("未能比较分组方案。", "The grouping policies could not be compared."), None
    rec = C.recommendation()
    if rec.policy is None:
        return t(
            "没有满足全部硬性规则的候选方案。", "No candidate policy meets every hard rule."
        ), None
    best, o = rec.policy, C.outcomes
    up = rec.difference >= 0
    mce = t(f"，模拟误差{_mc(rec.mc_error)}", f", Monte Carlo error {_mc(rec.mc_error)}")
    if rec.measure == "improved_any":
        gap = abs(rec.difference) * 100
        diff = t(
            f"预测显著进步比例为{rec.mean:.1%}（模拟区间{rec.lo:.1%}–{rec.hi:.1%}），比现有分组"
            f"{'高' if up else '低'}{gap:.1f}个百分点（差的区间{pts(rec.ci_low)}至{pts(rec.ci_high)}{mce}）",
            f"its predicted rate is {rec.mean:.1%} (simulation interval {rec.lo:.1%}-"
            f"{rec.hi:.1%}), {gap:.1f} points {'above' if up else 'below'} the recorded "
            f"grouping (interval of the difference {pts(rec.ci_low)} to {pts(rec.ci_high)}{mce})",
        )
    else:
        diff = t(
            f"平均匹配度{rec.mean:.3f}，比现有分组{'高' if up else '低'}{abs(rec.difference):.3f}",
            f"its mean fit is {rec.mean:.3f}, {abs(rec.difference):.3f} "
            f"{'above' if up else 'below'} the recorded grouping",
        )
    target, changed = C.target, rec.changed_share
    below = (
        rec.measure == "improved_any" and (o.loc[o["measure"] == rec.measure, "hi"] < target).all()
    )
    txt = t(
        f"在满足全部硬性规则的方案中，“{policy_name(best, t)}”的预测结果最好：{diff}。",
        f"Among the policies meeting every hard rule, {policy_name(best, t)} does best: {diff}.",
    )
    txt += _decision_text(rec.reason, rec.decision, t)
    cap = p.processed.rules.max_regroup_share
    if not missing(changed) and changed > cap:
        txt += t(
            f"该方案需要更换{changed:.0%}学生的导师，远超一次调整不超过{share(cap)}的规定，只适合在新学年初整体重新分组时采用。",
            f" It changes the mentor of {changed:.0%} of students, far above the {share(cap)} limit for one "
            "adjustment: only an option when groups are formed anew at the start of a year.",
        )
    if below and shows_target(p.processed.rules):
        txt += t(
            f"所有方案的预测比例都明显低于{target:.0%}的目标：仅靠调整分组无法达到目标。",
            f" Every policy is predicted well below the {target:.0%} target: regrouping alone "
            "will not reach it.",
        )
    txt += t(
        "预测依赖本校数据拟合的结果模型，其中“匹配度”的作用来自观察数据而非随机分配，结论应视为假设而非定论。",
        " The predictions rest on an outcome model fitted to the school's own data, and the "
        "effect of fit in it is observational, not randomised: treat this as a hypothesis.",
    )
    return txt, best


def _persistence_table(p: PilotAnalyses, t: Lang) -> list:
    """In how many years the students evaluable every year progressed."""
    b: list = []
    pe = p.persistence
    if len(pe) and pe["share"].notna().any():
        rows = [
            [
                t(f"{as_int(r.years_progressed)}个学年", f"{as_int(r.years_progressed)} year(s)"),
                printed(p, f"pers.{r.years_progressed}", r.n),
                pct(r.share),
            ]
            for r in pe.itertuples(index=False)
        ]
        b.append(
            Table(
                frame(
                    rows,
                    [
                        t("取得显著进步的学年数", "Years with significant progress"),
                        t("人数", "Students"),
                        t("比例", "Share"),
                    ],
                ),
                t(
                    "每年都可评估的跟踪学生：几个学年取得显著进步",
                    "Tracked students evaluable every year: in how many years they progressed",
                ),
                "persistence",
            )
        )
    return b


def _cohort_table(p: PilotAnalyses, t: Lang, cname: Callable[[object], str]) -> Table:
    """Each cohort's rate and interval in every year (``cname``: a cohort's name)."""
    mc = p.min_cell
    rows = []
    for c, g in p.cohort.groupby("cohort", sort=False):
        g = g.set_index("year")
        row = [cname(c), printed(p, f"cohort.{c}.n_students", g["n_students"].iloc[0])]
        for y in p.years:
            r = g.loc[y]
            row.append(
                "—"
                if missing(r["proportion"])
                else with_interval(pct(r["proportion"]), ci(r["ci_low"], r["ci_high"]), t)
            )
        rows.append(row)
    cols = [t("跟踪组", "Cohort"), t("人数", "Students"), *[year_label(y, t) for y in p.years]]
    return Table(
        frame(rows, cols),
        t(
            f"同批学生逐年的显著进步比例（{p.level}置信区间）",
            f"The same students' progress rate each year ({p.level} CI)",
        ),
        "cohort",
        t(
            f"“<{mc}”：人数少于{mc}人，不报告。",
            f"'<{mc}': fewer than {mc} students, not reported.",
        ),
    )


def _cohort_figure(b: list, p: PilotAnalyses, t: Lang, cname: Callable[[object], str]) -> None:
    """The cohorts' rates over the years against the target (the suppressed left out)."""
    co = p.cohort
    d = co.loc[~co["suppressed"].astype(bool)].assign(name=lambda x: x["cohort"].map(cname))
    if not len(d):
        return
    add_figure(
        b,
        t,
        "cohort",
        t("同批学生逐年的显著进步比例", "The tracked students' progress rate by year"),
        lambda: plot_lines(
            d,
            x="year",
            y="proportion",
            group="name",
            target=figure_target(p.processed.rules, p.progress[p.years[-1]].target),
            ylabel=t("显著进步学生比例", "share progressing"),
            lang=t.code,
            xticklabels={y: year_label(y, t) for y in p.years},
        ),
        14,
    )


def cohort_section(p: PilotAnalyses, t: Lang) -> Section:
    """The same students followed through every year: rates by first-year grade, persistence."""
    y0, co = p.years[0], p.cohort

    def cname(c: object) -> str:
        if c == "all":
            return t("全部跟踪学生", "all tracked students")
        return t(f"{y0}学年{c}年级", f"grade {c} in {y0}")

    allrow = co.loc[co["cohort"] == "all"]
    n_panel = (
        as_int(allrow["n_students"].iloc[0])
        if len(allrow) and not missing(allrow["n_students"].iloc[0])
        else 0
    )
    n_text = printed(p, "cohort.all.n_students", n_panel)
    b: list = [
        Para(
            t(
                f"跟踪对象为{len(p.years)}个学年都在评估名单上的同一批学生，共{n_text}名，按{y0}学年所在年级分组。"
                "毕业离校与新入学的学生不在其中。",
                f"The same {n_text} students, on the assessed roster in all "
                f"{len(p.years)} years, grouped by their grade in {y0}. Students who left or "
                "joined are not included.",
            )
        ),
        _cohort_table(p, t, cname),
    ]
    _cohort_figure(b, p, t, cname)
    b += _persistence_table(p, t)
    b.append(
        Todo(
            t(
                "结合关键节点（入学适应、中段转折、毕业衔接）解读同批学生的变化。",
                "Read the cohorts' paths against the key transitions (school entry, the middle "
                "years, graduation).",
            )
        )
    )
    return Section("cohort", t("同批学生的跟踪", "Cohort tracking"), b)


def _stability_figure(b: list, p: PilotAnalyses, S: Stability, t: Lang) -> None:
    """Each mentor's effect in the last two years (mentors with ``min_cell`` mentees in both)."""
    mc = p.min_cell
    e = S.effects
    if len(p.years) >= 2 and len(e):
        ya, yb = p.years[-2], p.years[-1]
        w = e.loc[e["n"] >= mc].pivot_table(index="mentor_id", columns="year", values="effect")
        if ya in w.columns and yb in w.columns:
            w = w[[ya, yb]].dropna()
            if len(w) >= 3:
                x, y = w[ya].to_numpy(), w[yb].to_numpy()
                add_figure(
                    b,
                    t,
                    "stability",
                    t(
                        f"同一导师在{ya}与{yb}学年的效应（仅含两年受导学生均不少于{mc}人的导师）",
                        f"Each mentor's effect in {ya} and {yb} (mentors with {mc}+ mentees in both)",
                    ),
                    lambda: plot_pairs(
                        x,
                        y,
                        xlabel=t(f"{ya}学年导师效应", f"mentor effect {ya}"),
                        ylabel=t(f"{yb}学年导师效应", f"mentor effect {yb}"),
                        lang=t.code,
                    ),
                    10,
                )


def stability_section(p: PilotAnalyses, t: Lang) -> Section:
    """How stable mentor effects are from year to year (correlations and a scatter)."""
    S = p.stability
    title = t("导师效应的稳定性", "Stability of mentor effects")
    if S is None or not len(S.correlation):
        return Section(
            "stability",
            title,
            [
                Para(
                    t(
                        "未能估计（学年不足两个或模型无法拟合）。",
                        "Not estimated (fewer than two years, or the model failed).",
                    )
                )
            ],
        )
    rows = [
        [
            f"{r.year_a}–{r.year_b}",
            integer(r.n_mentors),
            num(r.r_eb),
            numci(r.r_eb_low, r.r_eb_high, t=t),
            num(r.r_true),
            numci(r.r_true_low, r.r_true_high, t=t),
        ]
        for r in S.correlation.itertuples(index=False)
    ]
    cols = [
        t("学年", "Years"),
        t("两年均任导师", "Mentors in both"),
        t("效应估计的相关", "r of estimates"),
        t(f"{p.level}区间", f"{p.level} CI"),
        t("真实效应相关（估计）", "r of true effects (est.)"),
        t(f"{p.level}自助法区间", f"{p.level} bootstrap CI"),
    ]
    b: list = [
        Para(
            t(
                "若导师的作用是稳定的个人特征，同一导师在不同学年的效应应当相关。第一列相关基于收缩估计（因收缩而偏低）；"
                "第二列扣除测量噪声，估计真实效应的相关，可能超过1，学生多跟随同一导师时偏高。",
                "If a mentor's contribution is a stable trait, the same mentor's effects should "
                "correlate across years. The first correlation uses the shrunken estimates "
                "(attenuated); the second estimates the correlation of the true effects net of "
                "noise; it can exceed 1 and is biased upwards when students keep their mentor.",
            )
        ),
        Table(
            frame(rows, cols),
            t("导师效应的年际相关", "Year-to-year correlation of mentor effects"),
            "stability",
        ),
    ]
    _stability_figure(b, p, S, t)
    b.append(
        Todo(
            t(
                "导师效应是否足够稳定，可用于导师培训的分层与经验推广？",
                "Are mentor effects stable enough to target training and spread good practice?",
            )
        )
    )
    return Section("stability", title, b)


def _mc(v) -> str:
    """A Monte Carlo error in percentage points, unsigned ("0.4")."""
    return "—" if missing(v) else f"{abs(float(v)) * 100:.1f}"


def _precision_text(C, seed: int, t: Lang) -> str:
    """How many draws and why: the Monte Carlo error asked for, reached or not, the seed."""
    r = C.rules
    ask = t(
        f"模拟次数按精度自动确定：每项差异的模拟误差（蒙特卡洛标准误）不超过其区间半宽的{share(r.sim_mc_ratio)}，最多{r.sim_draws_max}次",
        f" The number of draws is set by precision: each difference's Monte Carlo standard error "
        f"at most {share(r.sim_mc_ratio)} of its interval's half-width, {r.sim_draws_max} draws at most",
    )
    done = (
        t("，已达到", "; reached")
        if C.mc_converged
        else t(
            "，未完全达到（见表中的模拟误差）", "; not fully reached (see the errors in the table)"
        )
    )
    return ask + done + t(f"；随机种子{seed}。", f"; random seed {seed}.")


def _decision_text(reason: str, decision: str, t: Lang) -> str:
    """The sentence of the decision (adopt / trial / keep) and why."""
    if reason == "interval_includes_zero":
        return t(
            "差异的区间包含0，现有数据不足以说明它优于现有分组，建议保持现有分组方式。",
            " The interval includes 0: the data do not show it beats the recorded grouping; keep "
            "the current grouping.",
        )
    if reason == "within_mc_error":
        return t(
            "差异区间的下限虽高于0，但仍在模拟误差之内，结论不稳定，建议保持现有分组方式。",
            " The interval's lower bound is above 0 but within the Monte Carlo error: the result "
            "is not stable; keep the current grouping.",
        )
    if decision == "adopt":
        return t(
            "差异的区间不含0（超出模拟误差），且调整的学生不超过规定比例，模型支持在下一次调整时采用该方案，并继续监测。",
            " The interval excludes 0 beyond the Monte Carlo error and the change stays within "
            "the adjustment limit: the model supports adopting it at the next adjustment, with "
            "monitoring.",
        )
    return t(
        "差异的区间不含0（超出模拟误差），模型支持在下一学年试行该方案，并继续监测。",
        " The interval excludes 0 beyond the Monte Carlo error: the model supports piloting it "
        "next year, with monitoring.",
    )


def _policy_table(C, t: Lang) -> pd.DataFrame:
    """The policies side by side: one column per policy, one row per measure."""
    rows = []
    measures = [
        ("mean_fit", t("平均匹配度", "Mean fit"), "num"),
        ("top3_choice", t("前三志愿满足率", "Top-3 choice met"), "pct"),
        ("first_choice", t("第一志愿满足率", "First choice met"), "pct"),
        ("gender_balance", t("性别均衡（最大偏差）", "Gender balance (largest gap)"), "num"),
        ("blocking_pairs", t("不稳定师生对", "Blocking pairs"), "int"),
        ("changed_share", t("更换导师的学生比例", "Students changing mentor"), "pct"),
    ]
    o = C.outcomes
    have_pred = (o["measure"] == "improved_any").any()
    for pol in C.policies:
        ch = C.checks.loc[C.checks["policy"] == pol].set_index("rule")
        row = [
            policy_name(pol, t),
            t("是", "yes") if hard_rules_met(ch.reset_index()) else t("否", "no"),
        ]
        for m, _lab, kind in measures:
            v = ch.at[m, "value"] if m in ch.index else np.nan
            row.append(pct(v) if kind == "pct" else (integer(v) if kind == "int" else num(v)))
        if have_pred:
            r = o.loc[(o["policy"] == pol) & (o["measure"] == "improved_any")]
            if len(r):
                r = r.iloc[0]
                row += [
                    f"{r['mean']:.1%}",
                    ci(r["lo"], r["hi"]),
                    f"{pts(r['diff'])}",
                    f"{pts(r['diff_lo'])}, {pts(r['diff_hi'])}",
                    _mc(r["mc_error"]) if "mc_error" in r else "—",
                ]
            else:
                row += ["—"] * 5
        rows.append(row)
    # transposed: one column per policy, one row per measure (fits the page)
    head = [t("方案", "Policy"), t("硬性规则全部满足", "Every hard rule met")]
    head += [lab for _, lab, _ in measures]
    if have_pred:
        head += [
            t("预测显著进步比例", "Predicted share progressing"),
            t("　模拟区间", "  simulation interval"),
            t("与现有分组之差（百分点）", "Difference from recorded (points)"),
            t("　差的模拟区间", "  its simulation interval"),
            t("　差的模拟误差", "  its Monte Carlo error"),
        ]
    body = [[h, *[r[i] for r in rows]] for i, h in enumerate(head) if i > 0]
    table = frame(body, [head[0], *[r[0] for r in rows]])
    return table


def grouping_section(p: PilotAnalyses, t: Lang) -> Section:
    C = p.comparison
    title = t("分组方案比较与建议", "Grouping policies and a recommendation")
    if C is None:
        return Section(
            "grouping",
            title,
            [Para(t("未能比较分组方案。", "The policies could not be compared."))],
        )
    y = p.years[-1]

    table = _policy_table(C, t)
    n_draws = C.n_draws or (int(C.draws["draw"].max()) + 1 if len(C.draws) else 0)
    rec, _best = recommendation(p, t)
    b: list = [
        Para(
            t(
                f"在{y}学年的学生与导师名单上运行各分组方案，按学校规则检查，并以本校数据拟合的结果模型模拟{n_draws}次，预测各方案下的结果。",
                f"Each policy was run on the {y} roster of students and mentors, checked against "
                f"the rules, and simulated {n_draws} times with the outcome model fitted to the "
                "school's data.",
            )
            + _precision_text(C, p.seed, t)
        ),
        Table(
            table,
            t(f"分组方案比较（{y}学年名单）", f"Grouping policies on the {y} roster"),
            "policies",
            t(
                "硬性规则：全覆盖、组人数、同班/同年级等；括号内为模拟区间。不稳定师生对：双方都更愿意彼此配对却未配对的师生对数。",
                "Hard rules: coverage, group sizes, scope. Brackets: simulation intervals. "
                "Blocking pairs: a student and a mentor who both prefer each other to their match.",
            ),
        ),
    ]
    add_figure(
        b,
        t,
        "policies",
        t("各分组方案的预测结果", "Predicted outcomes of the grouping policies"),
        lambda: C.plot(lang=t.code),
        16,
    )
    b += [
        Heading(t("建议", "Recommendation")),
        Para(rec),
        *plan_paragraph(p, t),
        Todo(
            t(
                "研究者对分组方式的建议（是否试行、在哪些年级试行、如何评估）。",
                "The researcher's recommendation on grouping (pilot or not, in which grades, how "
                "to evaluate it).",
            )
        ),
    ]
    return Section("grouping", title, b)


def _rci_thresholds(p: PilotAnalyses) -> tuple[float, float, float, float] | None:
    """(lowest, highest pre-test reliability, smallest, largest reliable change in pre-test
    SDs) over the years and dimensions of the school: z x sqrt(2 (1 - r)) with the study's
    ``rci_z`` and the reliability each year's rule used (published alpha for
    ``rci_published``, else the year's own)."""
    r: list[float] = []
    for R in p.progress.values():
        rel = R.context.get("reliability", pd.DataFrame())
        if not len(rel) or not str(R.definition).startswith("rci"):
            continue
        col = "published_alpha" if R.definition == "rci_published" else "alpha"
        pre = rel.loc[rel["wave"] == "pre", col] if "wave" in rel.columns else rel[col]
        r += [float(x) for x in pre.dropna() if 0 < float(x) < 1]
    if not r:
        return None
    z = float(p.processed.rules.rci_z)
    thr = [z * float(np.sqrt(2 * (1 - x))) for x in (max(r), min(r))]
    return min(r), max(r), thr[0], thr[1]


def _share_pairs(p: PilotAnalyses, t: Lang) -> tuple[list[str], bool]:
    """Per year: the certified share beside the estimated true share (both as the reports
    print them, the small-cell rule applied) and the ratio of the two; and whether any year
    has an estimated true share."""
    parts, any_true = [], False
    for y, R in p.progress.items():
        h = R.headline_row(public=True)
        n = printed(p, f"{y}:n_evaluable", R.headline_row(public=False)["n_evaluable"])
        c = h.get("proportion")
        ts, _ = shown_true_share(R, p.min_cell)
        head = t(
            f"{year_label(y, t)}（评估{n}人）能确认{pct(c)}",
            f"{year_label(y, t)} (n = {n}): certified {pct(c)}",
        )
        if ts is None or missing(c):
            parts.append(head + t("，实际比例未能估计", ", true share not estimated"))
            continue
        any_true = True
        est = as_float(ts["estimate"])
        ratio = f"{as_float(c) / est:.0%}" if est > 0 else "—"
        parts.append(
            head
            + t(
                f"、估计实际{pct(est)}（{ci(ts['ci_low'], ts['ci_high'])}），能确认的约为实际的{ratio}",
                f", estimated true {pct(est)} ({ci(ts['ci_low'], ts['ci_high'])}), "
                f"so about {ratio} of it is certified",
            )
        )
    return parts, any_true


def _accuracy_bullet(p: PilotAnalyses, t: Lang) -> Para:
    """How much the rule misses, from this school's own years: the certified share beside
    the estimated true share, year by year; the target against what the rule can show."""
    target = share(p.processed.rules.target_share)
    parts, any_true = _share_pairs(p, t)
    text = t(
        "判定规则的准确性：能确认的进步比例只计变化大于测量误差的学生，通常低于实际进步的比例。本校各学年："
        + "；".join(parts)
        + "。",
        "Accuracy of the rule: the certified share counts only students whose change beats the "
        "measurement error, so it usually sits below the share that truly improved. This school: "
        + "; ".join(parts)
        + ".",
    )
    if not shows_target(p.processed.rules):  # no target to speak of
        return Para(text, "bullet")
    text += (
        t(
            f"{target}的目标因此很难由能确认的比例证实，是否达到需看估计的实际比例及其区间。",
            f" An {target} target can therefore hardly be shown by the certified share; whether "
            "it was reached rests on the estimated true share and its interval.",
        )
        if any_true
        else t(
            f"本研究未能估计实际进步的学生比例，因此无法说明能确认的比例低估了多少，也无法判断{target}的目标是否实际达到。",
            " The true share could not be estimated, so how far the certified share falls "
            f"short of it, and whether the {target} target was truly reached, cannot be said.",
        )
    )
    return Para(text, "bullet")


def _reliability_bullet(p: PilotAnalyses, t: Lang) -> Para | None:
    """The school's reliabilities and the change the rule needs, against the true-change
    delta of the rulebook."""
    rel = pd.concat([R.context.get("reliability", pd.DataFrame()) for R in p.progress.values()])
    if not len(rel):
        return None
    lo, hi = rel["alpha"].min(), rel["alpha"].max()
    text = t(
        f"测量信度：各学年、各维度测评的Cronbach α在{lo:.2f}至{hi:.2f}之间。",
        f"Reliability: Cronbach's alpha ranges from {lo:.2f} to {hi:.2f} across years and "
        "dimensions.",
    )
    thr = _rci_thresholds(p)
    if thr is not None:
        z, delta = f"{p.processed.rules.rci_z:g}", f"{p.processed.rules.true_delta:g}"
        text += t(
            f"按本研究的判定标准（RCI大于{z}）与前测信度（{thr[0]:.2f}至{thr[1]:.2f}），一个维度的分数变化须达到前测标准差的"
            f"{thr[2]:.2f}至{thr[3]:.2f}倍才能被确认为进步；估计实际进步时采用的幅度是{delta}个标准差，"
            "因此真实的小幅进步多数无法被确认。",
            f" With this study's rule (RCI > {z}) and pre-test reliabilities of {thr[0]:.2f} "
            f"to {thr[1]:.2f}, a dimension's score must change by {thr[2]:.2f} to "
            f"{thr[3]:.2f} pre-test SDs to be certified; the estimated true share counts a "
            f"true change of {delta} SD, so most small true gains go uncertified.",
        )
    return Para(text, "bullet")


def _regression_bullet(p: PilotAnalyses, t: Lang) -> Para:
    """Regression to the mean, maturation and the rule's false positives."""
    fp = p.progress[p.years[-1]].summary_dict().get("false_positive_rate")
    return Para(
        t(
            "向均值回归与成熟：前测偏低的学生后测自然会回升，学生也会随年龄自然成长；"
            + (
                f"即使没有任何真实变化，判定规则也会把约{fp:.1%}的学生判为进步。"
                if fp is not None
                else ""
            )
            + (
                "初中受导学生因需要而被推荐，与未受导学生的差异尤其包含回归效应。"
                if p.processed.level == "middle"
                else ""
            ),
            "Regression to the mean and maturation: students with a low pre-test tend to score "
            "higher at post-test, and children grow up anyway"
            + (
                f"; with no true change the rule still flags about {fp:.1%} of students"
                if fp is not None
                else ""
            )
            + (
                "; middle-school mentees are nominated for need, so their gain over non-mentees includes regression"
                if p.processed.level == "middle"
                else ""
            )
            + ".",
        ),
        "bullet",
    )


def limitations_section(p: PilotAnalyses, t: Lang) -> Section:
    """What the numbers cannot say: reliability, the rule's accuracy, regression, no
    randomisation, missing data, privacy, synthetic data."""
    b: list = [x for x in (_reliability_bullet(p, t),) if x is not None]
    b.append(_accuracy_bullet(p, t))
    b.append(_regression_bullet(p, t))
    b.append(
        Para(
            t(
                "没有随机分组：导师制面向全体学生（小学）或经推荐的学生（初中），没有随机对照组，本报告的数字描述的是变化，"
                "不能证明变化由导师制引起（Shadish, Cook & Campbell, 2002）。导师效应、频次关联与分组方案的预测都是观察性的。",
                "No randomisation: the programme covers every student (primary) or nominated "
                "students (middle); there is no randomised control group, so the numbers describe "
                "change, not its cause (Shadish, Cook & Campbell 2002). Mentor effects, the "
                "frequency associations and the policy predictions are all observational.",
            ),
            "bullet",
        )
    )
    miss = sep(t).join(
        f"{year_label(y, t)} {printed(p, f'{y}:n_not_evaluable', R.summary_dict()['n_not_evaluable'])}"
        for y, R in p.progress.items()
    )
    b.append(
        Para(
            t(
                f"缺失数据：缺少前测或后测的学生人数为{miss}；两种缺失处理的结果均已报告。过程指标把未记录视为未做到。",
                f"Missing data: students without a pre or post test: {miss}; both missing-data "
                "rules are reported. Process indicators count an unrecorded activity as not done.",
            ),
            "bullet",
        )
    )
    b.append(
        Para(
            t(
                f"隐私保护造成的信息损失：少于{p.min_cell}名学生的单元格不报告，小群体的结果因此不可见。",
                f"Privacy: cells of fewer than {p.min_cell} students are not reported, so very "
                "small groups are invisible.",
            ),
            "bullet",
        )
    )
    b += [  # an optional kind absent from every year of the pilot: one line each
        Para(t(*MISSING_KIND_LABELS[k]), "bullet") for k in missing_kinds(p.processed, p.years)
    ]
    if p.synthetic:
        b.append(
            Para(
                t(
                    "本报告使用的是合成数据（模拟学校），数字只用于演示分析流程，不能用于评价任何真实学校或导师。",
                    "This report uses synthetic data (a simulated school): the numbers demonstrate "
                    "the analysis and judge no real school or mentor.",
                ),
                "bullet",
            )
        )
    b.append(
        Todo(
            t(
                "其他需要说明的局限（如实施过程中的变化、数据收集方式的改变）。",
                "Other limitations (changes in how the programme ran or how data were collected).",
            )
        )
    )
    return Section("limitations", t("局限", "Limitations"), b)
