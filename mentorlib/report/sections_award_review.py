"""The pilot review's part on the school's award (middle school: seed 001, section 5).

Per year of the pilot: the total distributed, the award by band (mentor-terms, mentee-terms,
yuan) and the number of mentees who progressed markedly; from the same functions as the annual
summary (:func:`~mentorlib.effectiveness.year_award`, i.e. the school's scheme and
:func:`~mentorlib.effectiveness.award_table`; :func:`~mentorlib.effectiveness.mentee_rewards`),
with its counts protected at ``min_cell`` as the annual summary's public distribution
(:func:`~mentorlib.report.sections_award.public_distribution`, a year in place of a term).
:func:`with_award_review` appends it to the review's mentor section in a middle school.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from ..effectiveness import award_totals, mentee_rewards, year_award
from ..errors import InputError
from ..labels import Lang
from ..labels_award import AWARD_ABSENT, AWARD_HEADING, AWARD_REVIEW
from .analyses import PilotAnalyses
from .document import Heading, Para, Section, Table
from .render.fmt import count_text, frame, integer, missing, year_label
from .sections_award import public_distribution, study_award_absent

__all__ = ["YearAward", "award_review_blocks", "review_awards", "with_award_review"]


@dataclass
class YearAward:
    """One year's award as the review prints it (counts protected at ``min_cell``).

    ``bands``: band, n_mentors (mentor-terms), n_mentees (mentee-terms), yuan, suppressed
    (:func:`~mentorlib.report.sections_award.public_distribution`); ``paid`` the yuan
    distributed (None when the year's mentee-terms fall under ``min_cell``: the total would
    give them back); ``n_mentee_terms``; ``n_rewarded`` the mentees who progressed markedly
    (None when not computed, with the reason in ``note``)."""

    year: int
    bands: pd.DataFrame
    paid: int | None
    n_mentee_terms: int
    n_rewarded: int | None
    note: str = ""


def review_awards(p: PilotAnalyses) -> dict[int, YearAward | str]:
    """Year -> :class:`YearAward`, or the reason (English) the year has none."""
    P, rules, mc = p.processed, p.processed.rules, p.min_cell
    out: dict[int, YearAward | str] = {}
    for y in p.years:
        try:
            table = year_award(P, y)
        except (InputError, KeyError, ValueError) as e:
            out[y] = f"not computed: {e}"
            continue
        if not len(table):
            out[y] = "no mentor could be scored"
            continue
        totals = award_totals(table, rules)
        tot = totals.loc[totals["term"] == 0].to_dict("records")[0]
        n_terms = int(tot["n_mentees"])
        bands = public_distribution(table.assign(term=y), rules, mc)
        try:
            n_rw: int | None = len(mentee_rewards(P, y))
            note = ""
        except (InputError, KeyError, ValueError) as e:
            n_rw, note = None, f"mentee rewards not computed: {e}"
        paid = int(tot["paid"]) if n_terms >= mc else None
        out[y] = YearAward(y, bands.drop(columns="term"), paid, n_terms, n_rw, note)
    return out


def with_award_review(section: Section, p: PilotAnalyses, t: Lang) -> Section:
    """``section`` (the review's mentor section) with the award part, in a middle school."""
    if p.processed.level != "middle":
        return section
    return replace(section, blocks=[*section.blocks, *award_review_blocks(p, t)])


def _year_sentence(y: int, a: YearAward | str, t: Lang, per: float, mc: int) -> str:
    """One year's line: the total distributed and the mentees to reward, or why none."""
    yl = year_label(y, t)
    if isinstance(a, str):
        if a == "no mentor could be scored":
            return t(f"{yl}：没有导师可以评分，未分配成效奖。", f"{yl}: no mentor could be scored.")
        return t(f"{yl}：成效奖未能计算（{a}）。", f"{yl}: the award was not computed ({a}).")
    terms = count_text(a.n_mentee_terms, mc)
    paid = "—" if a.paid is None else f"{a.paid:,}"
    rw = "—" if a.n_rewarded is None else count_text(a.n_rewarded, mc)
    return t(
        f"{yl}：{terms}人次受导，按每人次{per:g}元共发放成效奖{paid}元；"
        f"进步显著、应予奖励的受导学生{rw}名。",
        f"{yl}: {terms} mentee-terms at {per:g} yuan, {paid} yuan distributed; "
        f"{rw} mentees progressed markedly and are to be rewarded.",
    )


def award_review_blocks(
    p: PilotAnalyses, t: Lang, awards: dict[int, YearAward | str] | None = None
) -> list:
    """The heading, one line per year, the band table of every year; or why there is none
    (``awards``: :func:`review_awards` of ``p`` when already computed)."""
    P, mc = p.processed, p.min_cell
    rules = P.rules
    b: list = [Heading(t.pair(AWARD_HEADING))]
    why = study_award_absent(P, t)
    if why is not None:
        return [*b, Para(why)]
    awards = review_awards(p) if awards is None else awards
    per = rules.award_per_mentee_term
    b += [Para(_year_sentence(y, a, t, per, mc), "bullet") for y, a in awards.items()]
    rows = []
    for y, a in awards.items():
        if isinstance(a, str):
            continue
        for r in a.bands.itertuples(index=False):
            hide = bool(r.suppressed)
            rows.append(
                [
                    year_label(y, t),
                    t.of(AWARD_REVIEW, "no_band") if missing(r.band) else str(r.band),
                    "—" if hide else integer(r.n_mentors),
                    f"<{mc}" if hide else integer(r.n_mentees),
                    "—" if missing(r.yuan) else integer(r.yuan),
                ]
            )
    if not rows:
        return [*b, Para(t.of(AWARD_ABSENT, "none_scored"))]
    keys = ("year", "band", "n_mentors", "n_mentees", "yuan")
    note = t(
        f"每学年两学期合计（人次）；不足{mc}人次的等级不显示人数，该学年也不显示各等级金额"
        "（金额可反推人数）。进步显著：按本报告的进步判定规则（可靠变化指数），规则 "
        "mentee_reward_k。",
        f"Both terms of each year (mentor- and mentee-terms); bands with fewer than {mc} "
        "mentee-terms show no counts, and their year no amounts by band (amounts would give "
        "the counts back). Progressed markedly: the report's rule (reliable change), rule "
        "mentee_reward_k.",
    )
    cols = [t.of(AWARD_REVIEW, k) for k in keys]
    b.append(Table(frame(rows, cols), t.of(AWARD_REVIEW, "caption"), "award_review", note))
    return b
