"""The pilot review's assessment of the four work goals (全覆盖, 个性化, 协同化, 长效化), with
the plan's own numbers read from the study's rules, and the sentences shared with the summary."""

from __future__ import annotations

from ..labels import FOCUS_LABELS, Lang
from ..rules import Rulebook
from .analyses import PilotAnalyses
from .document import Heading, Para, Section, Todo
from .levels import MIDDLE_GOALS, comparison_of, comparison_text, shows_target
from .render.fmt import (
    as_int,
    ci,
    en_count,
    missing,
    num,
    numci,
    pct,
    pts,
    pvalue,
    sep,
    share,
    year_label,
    zh_count,
)
from .sections_cases import case_review_bullets
from .shared import focus_order, label_column, odds_ratio_text, rule_text, verdict_text

__all__ = ["goal_texts", "goals_section", "rates_sentence", "trend_test_text"]


def rates_sentence(p: PilotAnalyses, t: Lang) -> str:
    """Each year's progress rate with its interval and verdict (the verdict only when the plan
    sets a target, ``rules.show_target``), in one sentence."""
    if not shows_target(p.processed.rules):
        return sep(t).join(
            t(f"{y}学年不报告", f"{y}: not reported")
            if (s := R.summary_dict())["proportion"] is None
            else t(
                f"{y}学年{s['proportion']:.1%}（{ci(s['ci_low'], s['ci_high'])}）",
                f"{y} {s['proportion']:.1%} ({ci(s['ci_low'], s['ci_high'])})",
            )
            for y, R in p.progress.items()
        )
    parts = []
    for y, R in p.progress.items():
        s = R.summary_dict()
        if s["proportion"] is None:
            parts.append(t(f"{y}学年不报告", f"{y}: not reported"))
        else:
            parts.append(
                t(
                    f"{y}学年{s['proportion']:.1%}（{ci(s['ci_low'], s['ci_high'])}，{verdict_text(s['verdict'], t)}）",
                    f"{y} {s['proportion']:.1%} ({ci(s['ci_low'], s['ci_high'])}, {s['verdict']})",
                )
            )
    return sep(t).join(parts)


def trend_test_text(p: PilotAnalyses, t: Lang) -> str:
    """The linear trend test of the rates across years ("" when there is none)."""
    R = p.progress[p.years[-1]]
    tt = R.context.get("trend_test")
    if tt is None or not len(tt):
        return ""
    r = tt.iloc[0]
    return t(
        f"线性趋势检验：每年变化{pts(r['slope'])}个百分点，p = {pvalue(r['p_value'])}（各年学生多有重叠，仅供参考）。",
        f"Linear trend: {pts(r['slope'])} points a year, p = {pvalue(r['p_value'])} (the years "
        "share students: indicative only).",
    )


def goal_texts(level: str, rules: Rulebook) -> dict[str, tuple[str, str, str, str]]:
    """Goal -> (heading zh, heading en, the plan's words zh, en), numbers from ``rules``."""
    target, g0, g1 = share(rules.target_share), rules.group_min, rules.group_max
    heads = {
        "coverage": (
            "目标一　全覆盖",
            "Goal 1: full coverage" if level != "middle" else "Goal 1: coverage",
        ),
        "personal": ("目标二　个性化", "Goal 2: personalised guidance"),
        "collab": ("目标三　协同化", "Goal 3: collaboration"),
        "lasting": ("目标四　长效化", "Goal 4: sustainability"),
    }
    if level == "middle":
        calls, visits = rules.parent_calls_per_month, rules.home_visits_per_year
        reports = rules.student_reports_per_month
        plan = {
            "coverage": (
                f"实施方案：受导学生由班主任推荐、年级组确定，每名受导学生都有导师，导师与受导学生的比例控制在1:{g0}~{g1}。",
                f"The plan: nominated students each have a mentor, {_en_range(g0, g1)} mentees per mentor.",
            ),
            "personal": (
                f"实施方案：满足学生个性化发展需求，努力做到不使一个学生掉队；评估沿用每年{target}受导学生显著进步的目标。",
                f"The plan: meet each student's needs and leave no student behind; judged against the {target} progress target.",
            ),
            "collab": (
                f"实施方案：建立家长联络制度，每月至少{zh_count(calls)}次电话访问，每学年{zh_count(visits)}次家访；学生每月主动向导师汇报{zh_count(reports)}次。",
                f"The plan: {_en_times('a parent call', calls)} every month, {_en_times('a home visit', visits)} every year, and {_en_times('a monthly report', reports, 'monthly reports')} from the student.",
            ),
            "lasting": (
                "实施方案：提升教师“教书育人”的艺术水平，形成稳定的导师队伍与工作制度。",
                "The plan: develop the teachers as educators, with a stable mentor team and working rules.",
            ),
        }
    else:
        grades = f"{min(rules.grades)}-{max(rules.grades)}"
        three = rules.three_party_per_month
        plan = {
            "coverage": (
                f"实施方案：全体教师（含行政、教辅人员）参与导师工作，全校学生（{grades}年级）均有固定导师，构建“1名导师+{g0}-{g1}名学生”的精准指导小组。",
                f"The plan: every staff member (including administrators and support staff) mentors, every student (grades {grades}) has a fixed mentor, in groups of one mentor and {g0}-{g1} students.",
            ),
            "personal": (
                f"实施方案：制定“一人一档”成长档案，实施差异化指导，每年至少帮助{target}以上学生在1-2个发展维度取得显著进步。",
                f"The plan: a growth file for every student, differentiated guidance, and every year at least {target} of students making significant progress in 1-2 development dimensions.",
            ),
            "collab": (
                f"实施方案：建立“导师-学科教师-家长-社区”协同机制，每月开展至少{three}次三方沟通，形成教育合力。",
                f"The plan: mentor, subject teachers, parents and community working together, with at least {en_count(three)} three-party communication{'s' if three > 1 else ''} a month.",
            ),
            "lasting": (
                "实施方案：通过3年实践，形成可复制的全员育人模式，培养一批“懂教育、会沟通、善引导”的导师队伍。",
                "The plan: after three years, a replicable model and a team of mentors who understand education, communicate and guide well.",
            ),
        }
    return {k: (*heads[k], *plan[k]) for k in heads}


def _en_range(lo: int, hi: int) -> str:
    words = {1: "one", 2: "two", 3: "three"}
    return f"{words.get(lo, lo)} or {words.get(hi, hi)}" if hi == lo + 1 else f"{lo}-{hi}"


def _en_times(one: str, n: int, many: str | None = None) -> str:
    """ "a parent call" for 1, "2 parent calls" otherwise."""
    if n == 1:
        return one
    return f"{n} {many or one.split(' ', 1)[1] + 's'}"


#: The process indicators that bear on each goal.
_GOAL_INDICATORS = {
    "coverage": ("staff_coverage", "student_coverage", "group_size"),
    "collab": (
        "three_party",
        "subject_exchange",
        "parent_call",
        "home_visit",
        "student_report",
        "group_counselling",
    ),
}


def _indicator_bullets(p: PilotAnalyses, codes, t: Lang) -> list:
    """One bullet per indicator: its value each year against its target."""
    c = p.compliance
    lab = label_column(t)
    out = []
    for code in codes:
        g = c.loc[c["indicator"] == code].sort_values("year")
        if not len(g):
            continue
        vals = sep(t).join(
            f"{year_label(as_int(r.year), t)} {pct(r.value)}" for r in g.itertuples(index=False)
        )
        tgt = rule_text(g.iloc[-1], t)
        met = g["passed"].dropna()
        status = (
            t(
                f"，{int(met.astype(bool).sum())}/{len(met)}个学年达标",
                f"; met in {int(met.astype(bool).sum())} of {len(met)} years",
            )
            if len(met)
            else ""
        )
        out.append(
            Para(
                t(
                    f"{g[lab].iloc[0]}：{vals}（目标{tgt}{status}）。",
                    f"{g[lab].iloc[0]}: {vals} (target {tgt}{status}).",
                ),
                "bullet",
            )
        )
    return out


def _coverage_goal(p: PilotAnalyses, t: Lang, goals: dict) -> list:
    """Goal 1: coverage indicators and the staff mentoring each year."""
    b: list = []
    zh, en, pz, pe = goals["coverage"]
    b += [
        Heading(t(zh, en)),
        Para(t(pz, pe), "note"),
        *_indicator_bullets(p, _GOAL_INDICATORS["coverage"], t),
    ]
    st = p.staff
    if len(st):
        vals = sep(t).join(
            f"{year_label(as_int(r.year), t)} {as_int(r.n_mentors)}"
            for r in st.itertuples(index=False)
        )
        b.append(Para(t(f"担任导师的教职工人数：{vals}。", f"Staff mentoring: {vals}."), "bullet"))
    return b


def _personal_goal(p: PilotAnalyses, t: Lang, goals: dict) -> list:
    """Goal 2: the progress rates, the focus groups, the fit of the groups, satisfaction."""
    b: list = []
    zh, en, pz, pe = goals["personal"]
    b += [Heading(t(zh, en)), Para(t(pz, pe), "note")]
    b.append(
        Para(
            t(
                f"显著进步比例：{rates_sentence(p, t)}。",
                f"Progress rate: {rates_sentence(p, t)}.",
            ),
            "bullet",
        )
    )
    R = p.progress[p.years[-1]]
    fg = focus_order(
        R.breakdowns.loc[
            (R.breakdowns["by"] == "focus_group")
            & ~R.breakdowns["suppressed"].astype(bool)
            & (R.breakdowns["group"] != "none")
        ]
    )
    if len(fg):
        vals = sep(t).join(
            f"{t.of(FOCUS_LABELS, r.group)} {pct(r.proportion)}" for r in fg.itertuples(index=False)
        )
        b.append(
            Para(
                t(
                    f"{p.years[-1]}学年重点关注学生：{vals}。",
                    f"Focus groups in {p.years[-1]}: {vals}.",
                ),
                "bullet",
            )
        )
    C = p.comparison
    if C is not None:
        mf = C.checks.loc[C.checks["rule"] == "mean_fit"].set_index("policy")["value"]
        if "recorded" in mf.index and "optimal" in mf.index:
            b.append(
                Para(
                    t(
                        f"学生需求与导师特长的平均匹配度：现有分组{mf['recorded']:.2f}，约束下可达到的最优匹配{mf['optimal']:.2f}（{p.years[-1]}学年）。",
                        f"Mean needs-strength fit: {mf['recorded']:.2f} for the recorded groups, "
                        f"{mf['optimal']:.2f} for the best possible under the rules ({p.years[-1]}).",
                    ),
                    "bullet",
                )
            )
    if len(p.satisfaction):
        vals = sep(t).join(
            f"{year_label(as_int(r.year), t)} {num(r.mean)}"
            for r in p.satisfaction.itertuples(index=False)
        )
        b.append(
            Para(
                t(f"学生平均满意度（1–5分）：{vals}。", f"Mean satisfaction (1-5): {vals}."),
                "bullet",
            )
        )
    return b


def _collab_goal(p: PilotAnalyses, t: Lang, goals: dict) -> list:
    """Goal 3: collaboration indicators and the parent-contact association."""
    b: list = []
    zh, en, pz, pe = goals["collab"]
    b += [
        Heading(t(zh, en)),
        Para(t(pz, pe), "note"),
        *_indicator_bullets(p, _GOAL_INDICATORS["collab"], t),
    ]
    M, lv = p.mentors, p.level
    if M is not None and len(M.dose):
        d = M.dose.set_index("term")
        if "parent_contact" in d.index and not missing(d.at["parent_contact", "ratio"]):
            r = d.loc["parent_contact"]
            b.append(
                Para(
                    f"{p.years[-1]}"
                    + t("学年，", ": ")
                    + odds_ratio_text(
                        ("家校联系每月每生多1次", "one more parent contact a month"),
                        r["ratio"],
                        r["ratio_low"],
                        r["ratio_high"],
                        lv,
                        t,
                    ),
                    "bullet",
                )
            )
    return b


def _lasting_goal(p: PilotAnalyses, t: Lang, goals: dict) -> list:
    """Goal 4: continuity of the mentor team, training, stability, the trend."""
    st, lv = p.staff, p.level
    b: list = []
    zh, en, pz, pe = goals["lasting"]
    b += [Heading(t(zh, en)), Para(t(pz, pe), "note")]
    if len(st) > 1:
        r0, r1 = st.iloc[0], st.iloc[-1]
        b.append(
            Para(
                t(
                    f"导师队伍的延续：{p.years[0]}学年的{int(r0.n_mentors)}名导师中，{int(r1.retained)}名在{p.years[-1]}学年仍担任导师。",
                    f"Continuity: of {int(r0.n_mentors)} mentors in {p.years[0]}, {int(r1.retained)} "
                    f"still mentored in {p.years[-1]}.",
                ),
                "bullet",
            )
        )
        if not missing(r1.n_backbone):
            vals = sep(t).join(
                f"{year_label(as_int(r.year), t)} {as_int(r.n_backbone)}"
                for r in st.itertuples(index=False)
            )
            b.append(Para(t(f"骨干导师人数：{vals}。", f"Backbone mentors: {vals}."), "bullet"))
    b += _indicator_bullets(p, ("training_hours", "certified"), t)
    if p.stability is not None and len(p.stability.correlation):
        for r in p.stability.correlation.itertuples(index=False):
            if missing(r.r_eb):
                continue
            b.append(
                Para(
                    t(
                        f"导师效应的稳定性（{r.year_a}与{r.year_b}学年，{as_int(r.n_mentors)}名导师）：相关{r.r_eb:.2f}（{lv}区间{r.r_eb_low:.2f}至{r.r_eb_high:.2f}）。",
                        f"Stability of mentor effects ({r.year_a} and {r.year_b}, {as_int(r.n_mentors)} "
                        f"mentors): r = {r.r_eb:.2f} ({lv} CI {numci(r.r_eb_low, r.r_eb_high, t=t)}).",
                    ),
                    "bullet",
                )
            )
    tt = trend_test_text(p, t)
    if tt:
        b.append(Para(tt, "bullet"))
    return b


def _relations_goal(p: PilotAnalyses, t: Lang, goals: dict) -> list:
    """Middle goal 1: the contact the plan asks for, and how the mentees rate their mentor."""
    zh, en, pz, pe = goals["relations"]
    codes = ("talk", "student_report", "parent_call", "home_visit")
    b: list = [Heading(t(zh, en)), Para(t(pz, pe), "note"), *_indicator_bullets(p, codes, t)]
    b += case_review_bullets(p, t)
    if len(p.satisfaction):
        vals = sep(t).join(
            f"{year_label(as_int(r.year), t)} {num(r.mean)}"
            for r in p.satisfaction.itertuples(index=False)
        )
        b.append(
            Para(
                t(
                    f"受导学生对导师的平均满意度（1–5分）：{vals}。",
                    f"Mentees' mean satisfaction with the mentor (1-5): {vals}.",
                ),
                "bullet",
            )
        )
    return b


def _potential_goal(p: PilotAnalyses, t: Lang, goals: dict) -> list:
    """Middle goal 2: the mentees' progress and the comparison with non-mentees."""
    b = _personal_goal(p, t, {"personal": goals["potential"]})
    for y, R in p.progress.items():
        c = comparison_of(R)
        if c is not None:
            b.append(Para(f"{year_label(y, t)}: " + comparison_text(c, t, p.level), "bullet"))
    return b


def _teachers_goal(p: PilotAnalyses, t: Lang, goals: dict) -> list:
    """Middle goal 3: the mentor team's continuity and the stability of mentor effects."""
    return _lasting_goal(p, t, {"lasting": goals["teachers"]})


def goals_section(p: PilotAnalyses, t: Lang) -> Section:
    """The plan's work goals (primary: four; middle: its own three), each with its evidence
    and a place for a verdict."""
    if p.processed.level == "middle":
        goals: dict = MIDDLE_GOALS
        parts: tuple = (_relations_goal, _potential_goal, _teachers_goal)
    else:
        goals = goal_texts(p.processed.level, p.processed.rules)
        parts = (_coverage_goal, _personal_goal, _collab_goal, _lasting_goal)
    n_zh, n_en = zh_count(len(parts)), {3: "three", 4: "four"}.get(len(parts), str(len(parts)))
    judge = t(
        "研究者判断：该目标是否实现（实现 / 基本实现 / 部分实现 / 未实现），依据与保留意见。",
        "The researcher's judgement: achieved / largely / partly / not achieved, on what evidence, "
        "with what reservations.",
    )
    b: list = [
        Para(
            t(
                f"以下逐项列出{n_zh}项工作目标的证据。各项结论由研究者根据证据作出。",
                f"The evidence for each of the {n_en} work goals; the verdict on each is the "
                "researcher's.",
            )
        )
    ]
    for part in parts:
        b += part(p, t, goals)
        b.append(Todo(judge))
    return Section("goals", t(f"{n_zh}项工作目标的逐项评估", f"The {n_en} work goals"), b)
