"""The district summary's disclosure audit: every number it prints (and district_schools.csv)
comes from one protected :class:`mentorlib.privacy.Document`.

A hand-made district of six schools (outcomes built directly, no Dask cluster): one school has
3 evaluable students and 4 students on its roster while the district's students are printed on
the front page; another has all but two of its 60 evaluable students progressing. The hidden
numbers must not be recoverable from what is printed (checked by the integer-programming
auditor and by redoing the subtraction on the printed text), and a district without such
schools must print everything."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from mentorlib.district.report import analyse_district, district_document, district_report
from mentorlib.district.verdicts import school_verdicts
from mentorlib.privacy import audit

from conftest import report_table

pytestmark = pytest.mark.xdist_group("district")

#: school -> (students on the roster, evaluable, certified/improved)
SMALL = {
    "a": (300, 120, 50),
    "b": (250, 100, 45),
    "c": (200, 80, 30),
    "d": (180, 60, 58),  # all but two progressed: the two would be revealed by the share
    "e": (150, 40, 15),
    "f": (4, 3, 1),  # 3 evaluable students: "<5", and its 4 students are in the district total
}
PLAIN = {"a": (300, 120, 50), "b": (250, 100, 45), "c": (200, 80, 30), "e": (150, 40, 15)}


def _rows(schools: dict) -> list[dict]:
    return [
        {
            "school_id": sid,
            "school": f"School {sid.upper()}",
            "level": "primary",
            "status": "ok",
            "progress": "ok",
            "n": n,
            "year": 2025,
            "n_evaluable": ev,
            "certified_share": k / ev,
            "certified_ci_low": max(0.0, k / ev - 0.1),
            "certified_ci_high": min(1.0, k / ev + 0.1),
            "verdict": "not met",
            "true_share_n": ev,
            "true_share": min(1.0, k / ev + 0.05),
            "true_share_ci_low": max(0.0, k / ev - 0.05),
            "true_share_ci_high": min(1.0, k / ev + 0.15),
        }
        for sid, (n, ev, k) in schools.items()
    ]


def _outcomes(schools: dict) -> list[pd.DataFrame]:
    """Each school's evaluable students with k improved, in mentors of about 10."""
    parts = []
    for sid, (_, ev, k) in schools.items():
        y = np.zeros(ev)
        y[:k] = 1.0
        parts.append(
            pd.DataFrame(
                {
                    "school_id": sid,
                    "year": 2025,
                    "student_id": [f"{sid}-{i}" for i in range(ev)],
                    "mentor_id": [f"{sid}-m{i % max(1, ev // 10)}" for i in range(ev)],
                    "improved": y,
                }
            )
        )
    return parts


def _district(tmp_path, schools: dict):
    meta = {"name": "T", "stages": ["clean", "progress"], "schools": list(schools)}
    (tmp_path / "district.json").write_text(json.dumps(meta), encoding="utf-8")
    for sid, (n, _, _) in schools.items():  # the cleaned rosters (the front page's total)
        (tmp_path / "schools" / sid).mkdir(parents=True)
        roster = pd.DataFrame({"student_id": [f"{sid}-{i}" for i in range(n)], "year": 2025})
        roster.to_parquet(tmp_path / "schools" / sid / "students.parquet")
    csv = school_verdicts(_rows(schools))
    csv.to_csv(tmp_path / "district_schools.csv", index=False)
    a = analyse_district(tmp_path, min_cell=5, outcomes=_outcomes(schools))
    return a, csv


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return _district(tmp_path_factory.mktemp("small"), SMALL)


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    return _district(tmp_path_factory.mktemp("plain"), PLAIN)


def _number(text: str) -> int | None:
    return int(text.replace(",", "")) if re.fullmatch(r"[\d,]+", text) else None


def test_nothing_recoverable(small):
    a, _ = small
    res = audit(a.disclosure)
    assert len(res) and res["protected"].all() and not res["recoverable"].any()
    # without the protection, the district total minus the shown schools gives f's 4 students
    # back, and d's share with its size gives its 2 students who did not progress
    raw, _ = district_document(a, _rates(SMALL), {sid: v[0] for sid, v in SMALL.items()})
    raw.primary_only()
    bare = audit(raw).set_index("cell")
    assert bare.loc["s.f.n", "recoverable"] and bare.loc["s.f.n", "high"] == 4
    assert bare.loc["s.d.not", "high"] - bare.loc["s.d.not", "low"] < 2


def _rates(schools: dict) -> pd.DataFrame:
    t = pd.DataFrame(
        [(sid, ev, k) for sid, (_, ev, k) in schools.items()],
        columns=["school_id", "n", "successes"],
    )
    return t.assign(rate=t["successes"] / t["n"])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_printed_text_gives_nothing_back(small, lang):
    """Redo the attack on the printed text: the front's district total minus the schools'
    printed students; the small school's 3 evaluable students; the share of d."""
    a, _ = small
    rep = district_report(a, lang=lang)
    text = rep.text()
    t = report_table(rep, "schools")
    students, evaluable, cert = (t.iloc[:, i].tolist() for i in (2, 3, 4))
    assert evaluable[list(SMALL).index("f")] == "<5"
    assert students[list(SMALL).index("f")] == "<5"
    front = re.search(r"([\d,]+|—) (?:students|人)", text.replace("学生 ", ""))
    total = _number(front.group(1)) if front else None
    shown = [_number(x) for x in students]
    if total is not None:  # the total is printed: at least two schools' counts are not
        assert sum(v is None for v in shown) >= 2
        assert total - sum(v for v in shown if v is not None) != SMALL["f"][0]
    assert cert[list(SMALL).index("d")] == "—"  # 58 of 60: the 2 others would be revealed
    assert "96.7%" not in text
    funnel = report_table(rep, "funnel")
    row = funnel.iloc[[i for i, v in enumerate(funnel.iloc[:, 0]) if v == "School D"][0]]
    assert row.iloc[2] == "—" and row.iloc[5] == "—"  # its rate and its place in the funnel
    effects = report_table(rep, "effects")
    drow = effects.loc[effects.iloc[:, 0] == "School D"].iloc[0]
    assert (drow.iloc[2:] == "—").all()  # the raw difference would give the rate back
    withheld = (effects.iloc[:, 2] == "—").tolist()
    assert withheld == sorted(withheld)  # listed last: the order would rank them
    if lang == "en":
        assert '"<5": fewer than 5 students' in text


def test_d_share_rate_cannot_be_rebuilt_from_the_district_rate(small):
    """The district rate with the funnel's size and the others' shares would give d's 58
    improved: the document withholds enough (the district rate or another number)."""
    a, _ = small
    doc = a.disclosure
    assert "s.d.rate" not in doc.rates  # withheld in the csv: never printed
    lo = audit(doc).set_index("cell").loc["s.d.not"]
    assert lo["high"] - lo["low"] >= doc.required_width


def test_csv_never_shows_what_the_summary_hides(small, plain):
    for a, csv in (small, plain):
        t = report_table(district_report(a, lang="en"), "schools")
        for i, r in enumerate(csv.itertuples(index=False)):
            if pd.notna(r.n):
                assert t.iloc[i, 2] == f"{int(r.n):,}"
            if pd.notna(r.n_evaluable):
                assert t.iloc[i, 3] == f"{int(r.n_evaluable):,}"
            assert (t.iloc[i, 4] != "—") == pd.notna(r.certified_share)
    _, csv = small
    d = csv.set_index("school_id").loc["d"]  # 58 of 60: share, interval, verdict, true share
    assert d[["certified_share", "certified_ci_low", "verdict", "true_share"]].isna().all()
    assert d["n_evaluable"] == 60 and d["certified_suppressed"] and d["true_share_suppressed"]
    f = csv.set_index("school_id").loc["f"]
    assert pd.isna(f["n"]) and pd.isna(f["n_evaluable"])


@pytest.mark.parametrize("k", [0, 1, 38, 40])
def test_csv_share_revealing_few_students_blank(k):
    """0%, 100% and shares leaving fewer than min_cell on one side are blank; 38 of 40 too."""
    rows = _rows({"x": (60, 40, k), "y": (90, 80, 40)})
    t = school_verdicts(rows, min_cell=5).set_index("school_id")
    assert pd.isna(t.loc["x", "certified_share"]) and t.loc["x", "n_evaluable"] == 40
    assert t.loc["y", "certified_share"] == 0.5 and not t.loc["y", "certified_suppressed"]


def test_no_small_school_nothing_suppressed(plain):
    a, csv = plain
    doc = a.disclosure
    printed = [k for k, c in doc.cells.items() if c.printed]
    assert printed and not any(doc.suppressed(k) for k in printed)
    assert all(doc.rate_shown(k) for k in doc.rates if not k.startswith("c."))
    assert not csv[["certified_suppressed", "true_share_suppressed"]].any().any()
    text = district_report(a, lang="en").text()
    assert f"{sum(v[0] for v in PLAIN.values()):,} students" in text
    p0 = sum(v[2] for v in PLAIN.values()) / sum(v[1] for v in PLAIN.values())
    assert f"District rate {p0:.1%} ({sum(v[1] for v in PLAIN.values())} evaluable" in text
    rep = district_report(a, lang="en")
    for key in ("schools", "funnel", "effects"):
        cells = report_table(rep, key).iloc[:, 1:5].to_numpy().ravel().tolist()
        assert "<5" not in cells and "—" not in cells, key


def _figures(rep, key: str) -> list:
    return [
        b
        for s in rep.sections
        for b in s.blocks
        if getattr(b, "key", None) == key and not hasattr(b, "data")
    ]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_withheld_district_rate_is_not_drawn_or_given_back_by_the_limits(small, plain, lang):
    """In the small district the auditor withholds the district rate (with the funnel's size
    and the shown schools' shares it would give d's 58 back). The funnel's limits are centred
    on it (a school's 95% limits and its size give p0), and a school's rate minus its raw
    deviation is p0: none of them, and no funnel plot, may be printed."""
    a, _ = small
    doc = a.disclosure
    assert "f.rate" in doc.rates and not doc.rate_shown("f.rate")
    rep = district_report(a, lang=lang)
    funnel = report_table(rep, "funnel")
    assert (funnel.iloc[:, 3:6] == "—").all().all()  # limits and positions
    assert (funnel.iloc[:, 2] != "—").sum() >= 3  # the schools' own shares stay
    assert not _figures(rep, "funnel")
    eff = report_table(rep, "effects")
    # every raw deviation, and every effect and shrinkage: a school's shown rate minus its
    # effect over its shrinkage is the district's (GLS) mean, within a point
    assert (eff.iloc[:, 2:5] == "—").all().all()
    assert (eff.iloc[:, 7] != "—").sum() >= 3  # the rank intervals compare schools: they stay
    text = rep.text()
    assert ("effects or their shrinkage" in text) if lang == "en" else ("收缩系数也不公布" in text)
    text = rep.text()
    assert ("not published" in text) if lang == "en" else ("不公布" in text)
    # a district whose rate is shown keeps its funnel, limits and deviations
    b = district_report(plain[0], lang=lang)
    assert _figures(b, "funnel")
    assert (report_table(b, "funnel").iloc[:, 3] != "—").all()
    assert (report_table(b, "effects").iloc[:, 2:5] != "—").all().all()
