"""The body of the reports in the shape of a real 年度总结 / 试点评估报告 (issue 16 item 2):
report/sections_narrative.py, sections_narrative_review.py, narrative_facts.py.

The order checks reuse the drafted sample reports (tests/_report_fixtures.py, shared with the
other report tests); the counting checks run one quick year analysis (no mentor models) on the
committed sample and on copies of it with the activity log changed or removed.
"""

from __future__ import annotations

import dataclasses
import re
from functools import lru_cache

import pandas as pd
import pytest

from mentorlib import report
from mentorlib.compliance import compliance_report
from mentorlib.labels import Lang
from mentorlib.labels_compliance import UNMEASURED_VERDICT
from mentorlib.labels_narrative import NARRATIVE, PLACEHOLDERS
from mentorlib.report.annual import APPENDIX_SECTIONS
from mentorlib.report.document import Todo
from mentorlib.report.narrative_facts import activities_by_month, school_facts
from mentorlib.report.review import REVIEW_APPENDIX
from mentorlib.report.sections_narrative import (
    NARRATIVE_SECTIONS,
    basics_section,
    practice_section,
    problems_section,
)

from _compliance_fixtures import make_tiny_primary
from _report_fixtures import YEAR, drafted_reports, sample_study

BODY_ZH = ["基本情况", "主要做法", "取得成效", "存在问题", "下一步计划", "典型案例"]
BODY_EN = ["Background", "What was done", "Results", "Problems", "Next steps", "Case examples"]
REVIEW_ZH = ["试点背景", "实施阶段", "主要成效", "经验与模式提炼", "保障措施", "推广建议"]


@lru_cache(maxsize=4)
def _quick(kind: str):
    """The sample with its year analyses (the drafted reports' own), or a copy of it:
    ``"no_records"``, no activity log (analysed afresh, without mentor models: the whole
    chain must cope); ``"visits"``, three talks of one month recorded as home visits (the
    activity table is all the practice section reads, so the analyses are reused)."""
    P, a = sample_study(), drafted_reports()["year_analyses"]
    if kind == "no_records":
        P = dataclasses.replace(P, tables={k: v for k, v in P.tables.items() if k != "activities"})
        return P, report.analyse_year(P, YEAR, seed=0, mentors=False)
    if kind == "visits":
        acts = P["activities"].copy()
        talks = acts.index[(acts["year"] == YEAR) & (acts["activity"] == "talk")][:3]
        acts["activity"] = acts["activity"].astype("object")
        acts.loc[talks, "activity"] = "home_visit"
        P = dataclasses.replace(P, tables={**P.tables, "activities": acts})
        return P, dataclasses.replace(a, processed=P)
    return P, a


def _positions(text: str, titles: list[str]) -> list[int]:
    return [text.find(x) for x in titles]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_annual_body_then_appendix_in_order(lang):
    rep = drafted_reports()["annual", lang, True]
    assert rep.section_keys == [*NARRATIVE_SECTIONS, *APPENDIX_SECTIONS]
    body = [s for s in rep.sections if not s.appendix]
    assert [s.key for s in body] == list(NARRATIVE_SECTIONS)
    text = rep.text()
    titles = BODY_ZH if lang == "zh" else BODY_EN
    numbered = [f"{n}、{x}" for n, x in zip("一二三四五六", titles, strict=True)]
    if lang == "en":
        numbered = [f"{i} {x}" for i, x in enumerate(titles, 1)]
    pos = _positions(text, numbered)
    assert min(pos) >= 0 and pos == sorted(pos), (numbered, pos)
    # the signature closes the body; the appendix (附录一 / Appendix A) follows it
    school = sample_study().school
    sign = text.find(school, pos[-1])
    first_app = text.find("附录一" if lang == "zh" else "Appendix A.")
    assert pos[-1] < sign < first_app


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_review_body_then_appendix_in_order(lang):
    rep = drafted_reports()["review", lang, True]
    assert rep.section_keys[-len(REVIEW_APPENDIX) :] == list(REVIEW_APPENDIX)
    body = [s.key for s in rep.sections if not s.appendix]
    want = ["background", "stages", "summary", "experience", "safeguards", "promotion"]
    assert body == [*want, "signature"]
    if lang == "zh":
        pos = _positions(
            rep.text(), [f"{n}、{x}" for n, x in zip("一二三四五六", REVIEW_ZH, strict=True)]
        )
        assert min(pos) >= 0 and pos == sorted(pos)
        assert rep.text().find("附录一") > pos[-1]
    # every review section the researcher must write has its marked place
    for key in ("background", "stages", "experience", "safeguards", "promotion"):
        assert any(isinstance(b, Todo) for b in rep.section(key).blocks), key


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_placeholders_are_marked(lang):
    rep = drafted_reports()["annual", lang, True]
    t = 0 if lang == "zh" else 1
    text = rep.text()
    for key, section in (("next_steps", "next_steps"), ("cases", "cases")):
        todos = [b.text for b in rep.section(section).blocks if isinstance(b, Todo)]
        assert PLACEHOLDERS[key][t] in todos
        assert rep.todo_label() + PLACEHOLDERS[key][t] in text


def test_basics_match_the_rosters():
    P, a = _quick("sample")
    f = school_facts(P, YEAR)
    st = P["students"].loc[P["students"]["year"] == YEAR]
    assert f["n_students"] == st["student_id"].nunique()
    assert f["n_classes"] == len(st[["grade", "class_no"]].drop_duplicates())
    mentors = set(P["assignments"].loc[P["assignments"]["year"] == YEAR, "mentor_id"])
    sf = P["staff"].loc[(P["staff"]["year"] == YEAR) & P["staff"]["staff_id"].isin(mentors)]
    assert f["roles"] == sf["role"].astype(str).value_counts().to_dict()
    assert f["n_backbone"] == int(sf["backbone"].sum())
    assert f["n_trained"] == int((sf["training_hours"] >= P.rules.training_hours).sum())
    basics = " ".join(b.text for b in basics_section(a, Lang("zh")).blocks)
    assert f"共有学生{f['n_students']}名" in basics
    assert f"{f['n_classes']}个班级" in basics
    ratio = f["n_mentored"] / f["n_mentors"]
    assert f"1∶{ratio:.1f}" in basics
    assert f"{P.rules.training_hours:g}学时培训" in basics


def _direct(P, kind: str) -> pd.Series:
    a = P["activities"]
    a = a.loc[(a["year"] == YEAR) & (a["activity"] == kind)]
    return pd.to_datetime(a["date"]).dt.strftime("%Y-%m").value_counts()


def test_activities_by_month_equal_a_direct_count():
    P, a = _quick("visits")
    counts, doc = activities_by_month(P, YEAR, a.min_cell)
    for kind in ("talk", "three_party", "group_counselling", "home_visit"):
        direct = _direct(P, kind)
        got = counts[kind].drop("total")
        assert got[got > 0].sort_index().to_dict() == direct.sort_index().to_dict(), kind
        assert counts.at["total", kind] == direct.sum()
    # the rendered table: a shown cell is the direct count; the 3 home visits print "<5"
    table = next(b for b in practice_section(a, Lang("zh")).blocks if hasattr(b, "data")).data
    col = table["家访"]
    month_of = dict(zip(table["月份"], col, strict=True))
    (m,) = _direct(P, "home_visit").index
    label = f"{int(m[:4])}年{int(m[5:])}月"
    assert month_of[label] == "<5"
    # the year total would give the suppressed month away: it is withheld too
    assert month_of[NARRATIVE["total"][0]] in ("<5", "—")
    talks = _direct(P, "talk")
    for mm, v in talks.items():
        lab = f"{int(mm[:4])}年{int(mm[5:])}月"
        shown = dict(zip(table["月份"], table["谈心谈话"], strict=True))[lab]
        assert shown in ("<5", "—") or int(shown.replace(",", "")) == v


def test_a_study_without_records_gets_a_sentence():
    P, a = _quick("no_records")
    rep = report.annual_summary(P, YEAR, analyses=a)  # the whole chain copes
    assert rep.section_keys[: len(NARRATIVE_SECTIONS)] == list(NARRATIVE_SECTIONS)
    for lang in ("zh", "en"):
        blocks = practice_section(a, Lang(lang)).blocks
        practice = " ".join(getattr(b, "text", "") for b in blocks)
        start = NARRATIVE["practice_none"][0 if lang == "zh" else 1].split("{")[0]
        assert start in practice
        assert ("谈心谈话" if lang == "zh" else "one-to-one talk") in practice
        assert not any(hasattr(b, "data") for b in blocks)


def test_missing_required_activity_is_named():
    P, a = _quick("sample")
    # the sample's primary rules ask for no home visit: asking for one names it as missing
    Q = P.with_rules(home_visits_per_year=1)
    blocks = practice_section(dataclasses.replace(a, processed=Q), Lang("zh")).blocks
    practice = " ".join(getattr(b, "text", "") for b in blocks)
    assert "实施方案要求的家访本学年没有记录" in practice


def test_problems_list_the_missed_indicators():
    P, a = _quick("sample")
    text = " ".join(getattr(b, "text", "") for b in problems_section(a, Lang("zh")).blocks)
    ind = a.compliance.indicators
    missed = ind.loc[ind["passed"].notna() & ~ind["passed"].astype(bool).fillna(True)]
    for label in missed["label_zh"]:
        assert label in text
    met = ind.loc[ind["passed"].notna() & ind["passed"].astype(bool).fillna(False)]
    for label in met["label_zh"]:
        assert label not in text


def test_body_names_no_student_or_mentor():
    rep = drafted_reports()["annual", "zh", True]
    body = "\n".join(
        getattr(b, "text", "")
        + ("\n".join(map(str, b.data.to_numpy().ravel())) if hasattr(b, "data") else "")
        for s in rep.sections
        if not s.appendix
        for b in s.blocks
    )
    P = sample_study()
    st = P["students"]
    names = set(st["name"].dropna()) | set(P["staff"]["name"].dropna())
    ids = set(st["student_id"].astype(str)) | set(P["staff"]["staff_id"].astype(str))
    tokens = set(re.findall(r"[\w]+", body))
    assert not (ids & tokens)
    assert not [n for n in names if len(n) >= 2 and n in body]


def test_signature_is_the_school_and_the_end_of_the_year():
    rep = drafted_reports()["annual", "zh", True]
    sig = rep.section("signature")
    assert not sig.numbered
    texts = [b.text for b in sig.blocks]
    assert texts[0] == sample_study().school
    assert texts[1] == f"{YEAR + 1}年6月30日"


def test_review_stages_match_the_tables():
    rep = drafted_reports()["review", "zh", True]
    table = next(b for b in rep.section("stages").blocks if hasattr(b, "data")).data
    P = sample_study()
    acts, asg = P["activities"], P["assignments"]
    for y, row in zip(P.years, table.itertuples(index=False), strict=True):
        assert row[0] == f"{y}学年"
        assert int(row[7].replace(",", "")) == int((acts["year"] == y).sum())
        assert int(row[3]) == asg.loc[asg["year"] == y, "mentor_id"].nunique()
        n = P["students"].loc[P["students"]["year"] == y, "student_id"].nunique()
        assert row[1] == f"{n:,}"
    # a count of students under min_cell (zero included) never prints as a number
    for v in table["调整导师（人次）"]:
        assert v == "<5" or int(v) >= 5


def _no_talk_records():
    """The sample year's analyses with the compliance of a hand-written school whose groups
    and staff are known but which recorded no activity in the year (tiny primary school,
    tests/_compliance_fixtures.py, its log moved a year back)."""
    P, a = _quick("sample")
    tiny = make_tiny_primary()
    acts = tiny["activities"]
    moved = acts.assign(date=acts["date"] - pd.DateOffset(years=1), year=2022)
    tiny = dataclasses.replace(tiny, tables={**tiny.tables, "activities": moved})
    return P, dataclasses.replace(a, compliance=compliance_report(tiny, 2023))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_records_is_not_assessed_not_zero(lang):
    """An indicator with no records for the year is 无记录，未评估 (no records, not
    assessed) in the problems list, the executive summary and the appendix: never "0.0%
    not met"."""
    P, a = _no_talk_records()
    t = Lang(lang)
    talk = t("谈心谈话达标率", "one-to-one talks")
    problems = " ".join(getattr(b, "text", "") for b in problems_section(a, t).blocks)
    assert t.pair(UNMEASURED_VERDICT).split("，")[0].split(",")[0] in problems
    assert talk + t("（无活动记录）", " (no activity records)") in problems
    missed = problems.split(t("未达到目标的过程指标", "Process indicators not met"))[1]
    assert talk not in missed.split(t("。", "."))[0]  # not among the indicators missed
    assert not re.search(re.escape(talk) + r"\s?[\d.]+%", problems)  # no "谈心谈话达标率0.0%"
    rep = report.annual_summary(P, YEAR, lang=lang, analyses=a)
    summary = " ".join(getattr(b, "text", "") for b in rep.section("summary").blocks)
    assert t("另有4项无记录，未评估", "4 more with no records, not assessed") in summary
    for key in ("kpi", "compliance"):
        table = next(b.data for b in rep.section(key).blocks if hasattr(b, "data"))
        rows = table.set_index(table.columns[0])
        row = rows.loc[t("谈心谈话达标率", "One-to-one talks")]
        assert t.pair(UNMEASURED_VERDICT) in row.tolist(), key
        assert "0.0%" not in row.tolist() and t("未达标", "not met") not in row.tolist(), key
    monthly = [b.data for b in rep.section("compliance").blocks if hasattr(b, "data")][1:]
    assert not any(t("谈心谈话达标率", "One-to-one talks") in d.columns for d in monthly)
