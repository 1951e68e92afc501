"""The annual summary's part on the school's award (middle school: seed 001, section 5).

The middle school pays ``award_per_mentee_term`` yuan per mentee per term into a pool shared by
the mentors' scheme bands (:func:`~mentorlib.effectiveness.school_scheme`), and rewards the
mentees who progress markedly. :func:`award_blocks` drafts that part:

- internal: each mentor's three component scores (normal scores), overall score, band and award
  in whole yuan (:func:`~mentorlib.effectiveness.award_table`, amounts adding up exactly to the
  pool), beside the credibility of the band (:func:`~mentorlib.effectiveness.band_credibility`),
  the totals per term and year, and the mentees to reward
  (:func:`~mentorlib.effectiveness.mentee_rewards`, students by pseudonym only);
- public: the distribution only (mentors, mentees and yuan per band), with the mentee counts
  protected at ``min_cell`` (:class:`mentorlib.privacy.Document`).

:func:`with_award` appends it to the mentor section of a middle-school study.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..effectiveness import (
    MentorReport,
    award_distribution,
    award_table,
    award_totals,
    mentee_rewards,
    reward_k,
)
from ..errors import InputError
from ..labels import Lang, Pair
from ..labels_award import AWARD_ABSENT, AWARD_HEADING, AWARD_SOURCES
from ..privacy import Document
from ..rules import Rulebook
from .analyses import YearAnalyses
from .document import Heading, Para, Section, Table
from .render.fmt import frame, integer, missing, num, pct

__all__ = [
    "AWARD_COLUMNS",
    "award_absent",
    "award_blocks",
    "award_frame",
    "public_distribution",
    "study_award_absent",
    "with_award",
]

#: Column headers of the award tables (kept here, as the other sections' headers are: labels.py
#: is at its 800-line limit).
AWARD_COLUMNS: dict[str, Pair] = {
    "mentor": ("导师", "Mentor"),
    "staff_id": ("工号", "Staff ID"),
    "term": ("学期", "Term"),
    "band": ("等级", "Band"),
    "n_mentors": ("导师人数", "Mentors"),
    "n_mentees": ("受导学生", "Mentees"),
    "satisfaction": ("学生评价（正态分）", "Rating (normal score)"),
    "progress": ("成绩进退（正态分）", "Exam progress (normal score)"),
    "points": ("奖罚得分（正态分）", "Reward points (normal score)"),
    "score": ("综合得分", "Overall score"),
    "yuan": ("成效奖（元）", "Award (yuan)"),
    "yuan_per_mentee": ("每名受导学生（元）", "Per mentee (yuan)"),
    "p_band": ("等级可信度", "Band credibility"),
    "student": ("学生（假名编号）", "Student (pseudonym)"),
    "grade": ("年级", "Grade"),
    "class_no": ("班级", "Class"),
    "n_evaluable": ("可评估维度", "Dimensions evaluable"),
    "n_improved": ("显著进步维度", "Dimensions improved"),
    "total": ("合计", "Total"),
    "year": ("全学年", "Year"),
    "no_band": ("未评等级", "No band"),
}


def with_award(section: Section, a: YearAnalyses, t: Lang, public: bool) -> Section:
    """``section`` (the mentor section) with the award part appended, in a middle school."""
    if a.processed.level != "middle":
        return section
    try:
        blocks = award_blocks(a, t, public)
    except InputError as err:  # one part that cannot be computed does not stop the report
        blocks = [
            Heading(t.pair(AWARD_HEADING)),
            Para(t(f"本学年的导师成效奖无法计算：{err}", f"The award cannot be computed: {err}")),
        ]
    if not blocks:
        return section
    return replace(section, blocks=[*section.blocks, *blocks])


def award_frame(M: MentorReport) -> pd.DataFrame:
    """The award per mentor and term (whole yuan) with each band's credibility."""
    eff = M.effects
    if "outcome" in eff:
        eff = eff.loc[eff["outcome"] == "composite"]
    var = np.nan
    if len(M.models) and "composite" in set(M.models["outcome"]):
        row = M.models.loc[M.models["outcome"] == "composite", "var_mentor"]
        var = float(row.to_numpy(dtype=float)[0])
    return award_table(M.scheme, M.rules, effects=eff, var_mentor=var)


def study_award_absent(processed, t: Lang) -> str | None:
    """Why the study can have no award at all, in one sentence saying what to set (None: it
    can): no scheme (``award_per_mentee_term`` 0), or the rating, exam or reward records are
    not among its sources."""
    if processed.rules.award_per_mentee_term <= 0:
        return t.of(AWARD_ABSENT, "not_set")
    need = [k for k in AWARD_SOURCES if k not in processed]
    if need:
        return t.of(AWARD_ABSENT, "missing_tables").format(
            tables=t("、", ", ").join(t.of(AWARD_SOURCES, k) for k in need),
            kinds=t("、", ", ").join(f'"{k}"' for k in need),
        )
    return None


def award_absent(processed, M: MentorReport | None, t: Lang) -> str | None:
    """Why the year has no award table, in one sentence saying what to set (None: it has one).

    In order: :func:`study_award_absent`, the mentor analysis could not be run (``M`` None),
    no mentor could be scored."""
    why = study_award_absent(processed, t)
    if why is not None:
        return why
    if M is None:
        return t.of(AWARD_ABSENT, "no_mentor_report")
    return None if len(M.scheme) else t.of(AWARD_ABSENT, "none_scored")


def award_blocks(a: YearAnalyses, t: Lang, public: bool) -> list:
    """The award part: heading, the pool, then the internal table or the public distribution;
    without an award table, the heading and why (:func:`award_absent`)."""
    M = a.mentors
    why = award_absent(a.processed, M, t)
    if why is not None or M is None:
        return [Heading(t.pair(AWARD_HEADING)), Para(why or "")]
    rules = M.rules
    table = award_frame(M)
    tot = award_totals(table, rules)
    year = tot.loc[tot["term"] == 0].to_dict("records")[0]
    b: list = [
        Heading(t.pair(AWARD_HEADING)),
        Para(
            t(
                f"按学校方案，每学期每名受导学生投入{rules.award_per_mentee_term:g}元作为导师成效奖；"
                f"本学年两学期共{int(year['n_mentees'])}人次受导，奖金总额"
                f"{int(round(year['due'])):,}元（{rules.award_per_mentee_term:g}元×"
                f"{int(year['n_mentees'])}人次），按学生评价、成绩进退、奖罚得分三项的正态分"
                f"（权重{_weights_text(rules, t)}）合成后分为{_bands_text(rules, t)}。",
                f"The school pays {rules.award_per_mentee_term:g} yuan per mentee per term into "
                f"the mentor award: {int(year['n_mentees'])} mentee-terms this year, "
                f"{int(round(year['due'])):,} yuan in all ({rules.award_per_mentee_term:g} x "
                f"{int(year['n_mentees'])}), shared by bands of the normal-score composite of "
                f"the mentees' rating, exam progress and reward points (weights "
                f"{_weights_text(rules, t)}): {_bands_text(rules, t)}.",
            )
        ),
    ]
    unpaid = tot.loc[(tot["term"] != 0) & (tot["paid"] < tot["due"] - 0.5), "term"].tolist()
    if unpaid:
        terms = t("、", ", ").join(str(int(x)) for x in unpaid)
        b.append(
            Para(
                t(
                    f"第{terms}学期没有可评分的导师（缺少评分所需的记录），该学期奖金未分配。",
                    f"Term {terms}: no mentor could be scored (the records the scores need are "
                    "missing), so that term's pool is not distributed.",
                ),
                "note",
            )
        )
    if public:
        return b + _public_blocks(table, rules, t, a.min_cell)
    return b + _internal_blocks(table, tot, M, t) + _reward_blocks(a, t)


def _weights_text(rules: Rulebook, t: Lang) -> str:
    w = dict(rules.award_weights)
    return "/".join(f"{w[c]:.0%}" for c in ("satisfaction", "progress", "points"))


def _bands_text(rules: Rulebook, t: Lang) -> str:
    m = dict(rules.award_multipliers)
    parts = [
        t(f"{b}等{s:.0%}（系数{m[b]:g}）", f"{b} {s:.0%} (multiplier {m[b]:g})")
        for b, s in rules.award_bands
    ]
    return t("、", ", ").join(parts)


def _internal_blocks(table: pd.DataFrame, tot: pd.DataFrame, M: MentorReport, t: Lang) -> list:
    """Each mentor and term: components, band, yuan, credibility; the totals."""
    L = AWARD_COLUMNS
    rows = []
    for r in table.itertuples(index=False):
        name = getattr(r, "mentor_name", None)
        rows.append(
            [
                "" if missing(name) else str(name),
                str(r.mentor_id),
                integer(r.term),
                integer(r.n_mentees),
                num(r.ns_satisfaction),
                num(r.ns_progress),
                num(r.ns_points),
                num(r.score),
                t.of(L, "no_band") if missing(r.band) else str(r.band),
                integer(r.yuan),
                pct(r.p_band, 0),
            ]
        )
    for r in tot.itertuples(index=False):
        label = (
            t.of(L, "year")
            if r.term == 0
            else t(f"第{integer(r.term)}学期", f"term {integer(r.term)}")
        )
        rows.append(
            [
                t.of(L, "total"),
                "",
                label,
                integer(r.n_mentees),
                "",
                "",
                "",
                "",
                "",
                integer(r.paid),
                "",
            ]
        )
    keys = (
        "mentor", "staff_id", "term", "n_mentees", "satisfaction", "progress", "points",
        "score", "band", "yuan", "p_band",
    )  # fmt: skip
    p = table["p_band"].dropna()
    cred = (
        t(
            f"等级可信度的中位数为{p.median():.0%}，{int((p >= 0.5).sum())}/{len(p)}个等级的可信度达到50%。",
            f"The median band credibility is {p.median():.0%}; {int((p >= 0.5).sum())} of "
            f"{len(p)} bands reach 50%.",
        )
        if len(p)
        else t(
            "导师效应的方差估计为零或无法估计，无法判断任何等级是否可信。",
            "The mentor variance is estimated at zero (or not at all): no band can be called "
            "credible.",
        )
    )
    note = t(
        "内部资料，仅供学校核发成效奖。三项得分为各学期导师间的正态分（平均0、标准差1）；"
        "金额按最大余数法取整到元，各学期合计恰好等于奖池。等级可信度：在导师综合发展效应的"
        "收缩估计及其标准误下，导师真实效应落在所评等级区间（按导师效应分布的同一分位数切分）的概率。",
        "Internal: for paying the award only. Component scores are normal scores across the "
        "term's mentors (mean 0, SD 1); amounts are rounded to the yuan by largest remainder, "
        "so each term adds up exactly to its pool. Band credibility: the probability, given the "
        "shrunken composite effect and its standard error, that the mentor's true effect lies in "
        "the band assigned (cut at the same quantiles of the mentor distribution).",
    )
    return [
        Table(
            frame(rows, [t.of(L, k) for k in keys]),
            t("各导师的成效奖（内部）", "Each mentor's award (internal)"),
            "award_internal",
            note,
        ),
        Para(cred, "note"),
    ]


def public_distribution(table: pd.DataFrame, rules: Rulebook, min_cell: int) -> pd.DataFrame:
    """Per term and band: mentors, mentees, yuan and yuan per mentee, protected.

    The mentees per band of a term add up to the term's (printed) mentees; cells below
    ``min_cell`` and their complements are blanked with their mentors. The yuan of a band
    and the multipliers would give its mentee count back, so a term with any blanked cell
    shows no amounts.
    """
    dist = award_distribution(table, rules)
    doc = Document(min_cell, name="award distribution")
    keys = []
    for term, part in dist.groupby("term", sort=True):
        ks = [doc.count(f"award.{term}.{i}", r["n_mentees"]) for i, r in part.iterrows()]
        tot = doc.count(f"award.{term}.total", int(part["n_mentees"].sum()))
        doc.total(tot, ks)
        keys += ks
    doc.protect()
    out = dist.assign(yuan_per_mentee=dist["yuan"] / dist["n_mentees"].where(dist["n_mentees"] > 0))
    out = doc.mask_table(out, {"n_mentees": keys, "n_mentors": keys})
    hidden = out.groupby("term")["suppressed"].transform("any")
    out["yuan"] = out["yuan"].astype("Int64").where(~hidden)
    out.loc[hidden, "yuan_per_mentee"] = np.nan
    return out


def _public_blocks(table: pd.DataFrame, rules: Rulebook, t: Lang, min_cell: int) -> list:
    """The distribution of bands and amounts (no mentor named)."""
    L = AWARD_COLUMNS
    dist = public_distribution(table, rules, min_cell)
    rows = []
    for r in dist.itertuples(index=False):
        hide = bool(r.suppressed)
        rows.append(
            [
                integer(r.term),
                t.of(L, "no_band") if missing(r.band) else str(r.band),
                "—" if hide else integer(r.n_mentors),
                f"<{min_cell}" if hide else integer(r.n_mentees),
                integer(r.yuan),
                num(r.yuan_per_mentee, 0),
            ]
        )
    keys = ("term", "band", "n_mentors", "n_mentees", "yuan", "yuan_per_mentee")
    return [
        Table(
            frame(rows, [t.of(L, k) for k in keys]),
            t("成效奖的等级分布", "The award by band"),
            "award_public",
            t(
                f"不足{min_cell}名受导学生的等级不显示人数；该学期也不显示金额（金额可反推人数）。",
                f"Bands with fewer than {min_cell} mentees show no counts, and their term no "
                "amounts (amounts would give the counts back).",
            ),
        )
    ]


def _reward_blocks(a: YearAnalyses, t: Lang) -> list:
    """Internal: the mentees who progressed markedly (seed 001, 5.1), by pseudonym."""
    P, rules = a.processed, a.processed.rules
    try:
        rw = mentee_rewards(P, a.year)
    except (InputError, KeyError, ValueError) as e:
        return [
            Para(
                t(f"未能确定进步显著的受导学生（{e}）。", f"Mentee rewards not computed ({e})."),
                "note",
            )
        ]
    k = reward_k(rules)
    head = [
        Heading(t("进步显著的受导学生（内部）", "Mentees who progressed markedly (internal)")),
        Para(
            t(
                f"按本报告的进步判定规则（可靠变化指数），在至少{k}个维度显著进步的受导学生共{len(rw)}名，"
                "建议按学校方案予以奖励。",
                f"By the report's rule (reliable change), {len(rw)} mentees improved significantly "
                f"in at least {k} dimensions; the school's plan rewards them.",
            )
        ),
    ]
    if not len(rw):
        return head
    names = _mentor_names(a)
    L = AWARD_COLUMNS
    rows = [
        [
            str(r.student_id) if P.pseudonymised else "—",
            integer(r.grade),
            integer(r.class_no),
            names.get(str(r.mentor_id), str(r.mentor_id)),
            integer(r.n_evaluable),
            integer(r.n_improved),
        ]
        for r in rw.itertuples(index=False)
    ]
    keys = ("student", "grade", "class_no", "mentor", "n_evaluable", "n_improved")
    note = t(
        "学生以假名编号列出"
        + ("" if P.pseudonymised else "（本研究未设假名密钥，编号不列出，请按导师与班级核对）")
        + f"；“至少{k}个维度”为规则 mentee_reward_k，可在 study.toml 的 [rules] 中修改。",
        "Students are listed by pseudonym"
        + (
            ""
            if P.pseudonymised
            else " (this study has no pseudonym key: no ID is listed; "
            "identify the mentee by mentor and class)"
        )
        + f"; 'at least {k} dimensions' is the rule mentee_reward_k, settable in study.toml's "
        "[rules].",
    )
    return head + [
        Table(
            frame(rows, [t.of(L, c) for c in keys]),
            t("进步显著的受导学生", "Mentees who progressed markedly"),
            "mentee_rewards",
            note,
        )
    ]


def _mentor_names(a: YearAnalyses) -> dict[str, str]:
    """Staff ID -> name (internal), from the mentor report's scheme table."""
    M = a.mentors
    if M is None or "mentor_name" not in M.scheme:
        return {}
    s = M.scheme.dropna(subset=["mentor_name"])
    return dict(zip(s["mentor_id"].astype(str), s["mentor_name"].astype(str), strict=True))
