"""Small-cell suppression at the output stage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mentorlib.errors import InputError
from mentorlib.privacy import format_suppressed, suppress_rule_values, suppress_small_cells


@pytest.fixture
def table():
    return pd.DataFrame(
        {
            "by": ["grade"] * 4,
            "group": ["1", "2", "3", "4"],
            "year": [2024] * 4,
            "n_students": [40, 4, 5, 0],
            "n_progressing": [30, 4, 1, 0],
            "proportion": [0.75, 1.0, 0.2, np.nan],
            "ci_low": [0.6, 0.5, 0.04, np.nan],
        }
    )


def test_rows_below_min_cell_are_blanked_and_flagged(table):
    out = suppress_small_cells(table, counts="n_students")
    assert out["suppressed"].tolist() == [False, True, False, True]
    # default columns: the counts and every float column; labels and other ints stay
    assert out["n_students"].isna().tolist() == [False, True, False, True]
    assert out["proportion"].isna().tolist() == [False, True, False, True]
    assert out["ci_low"].isna().tolist() == [False, True, False, True]
    assert out["n_progressing"].tolist() == [30, 4, 1, 0]  # not a listed count, not a float
    assert out["group"].tolist() == ["1", "2", "3", "4"] and (out["year"] == 2024).all()
    assert out["n_students"].dtype == "Int64"
    assert table["n_students"].tolist() == [40, 4, 5, 0]  # input untouched
    assert "suppressed" not in table


def test_numerator_counts_and_threshold(table):
    out = suppress_small_cells(
        table, counts=["n_students", "n_progressing"], min_cell=5, columns=None
    )
    # group 3: 5 students but only 1 progressing -> suppressed when the numerator is listed
    assert out["suppressed"].tolist() == [False, True, True, True]
    assert out.loc[2, "n_progressing"] is pd.NA
    out10 = suppress_small_cells(table, counts="n_students", min_cell=41)
    assert out10["suppressed"].all()
    out1 = suppress_small_cells(table, counts="n_students", min_cell=1)
    assert out1["suppressed"].tolist() == [False, False, False, True]


def test_explicit_columns_and_missing_counts(table):
    t = table.assign(n_students=table["n_students"].astype("float").where(table.index != 0))
    out = suppress_small_cells(t, counts="n_students", columns=["proportion"])
    assert out.loc[0, "suppressed"]  # a missing count counts as small
    assert out["ci_low"].notna().sum() == 3  # not in columns: kept


def test_format_shows_threshold_text(table):
    out = format_suppressed(suppress_small_cells(table, counts="n_students"))
    assert out["n_students"].tolist() == ["40", "<5", "5", "<5"]
    assert out["proportion"].tolist() == ["0.75", "<5", "0.2", "<5"]
    assert out["n_progressing"].tolist() == [30, 4, 1, 0]  # untouched (nothing blanked)


def test_bad_arguments(table):
    with pytest.raises(InputError, match="not in the table"):
        suppress_small_cells(table, counts="n")
    with pytest.raises(InputError, match="min_cell"):
        suppress_small_cells(table, counts="n_students", min_cell=0)
    with pytest.raises(InputError, match="suppress_small_cells first"):
        format_suppressed(table)


# ============================================================ complementary suppression, audit

from mentorlib.privacy import Document, audit  # noqa: E402


def _table_2x3(doc: Document) -> None:
    """Girls/boys x grades 1-3 with margins; girls in grade 3: 2 students."""
    cells = {("f", 1): 20, ("f", 2): 18, ("f", 3): 2, ("m", 1): 22, ("m", 2): 25, ("m", 3): 9}
    for (s, g), v in cells.items():
        doc.count(f"{s}{g}", v)
    for s in "fm":
        doc.count(f"{s}", sum(v for (s2, _), v in cells.items() if s2 == s))
        doc.total(s, [f"{s}{g}" for g in (1, 2, 3)])
    for g in (1, 2, 3):
        doc.count(f"g{g}", sum(v for (_, g2), v in cells.items() if g2 == g))
        doc.total(f"g{g}", [f"f{g}", f"m{g}"])
    doc.count("all", sum(cells.values()))
    doc.total("all", ["f", "m"])
    doc.total("all", ["g1", "g2", "g3"])


def test_2x3_table_primary_only_recovers_the_small_cell_exactly():
    d = Document(5)
    _table_2x3(d)
    a = audit(d.primary_only()).set_index("cell")
    assert a.loc["f3", "status"] == "primary"
    assert a.loc["f3", ["low", "high"]].tolist() == [2, 2]  # 40 - 20 - 18
    assert a.loc["f3", "recoverable"]


def test_2x3_table_protected_nothing_recoverable():
    d = Document(5)
    _table_2x3(d)
    d.protect()
    a = audit(d)
    assert not a["recoverable"].any() and a["protected"].all()
    f3 = a.set_index("cell").loc["f3"]
    assert f3["high"] - f3["low"] >= 2
    # complementary cells: the smallest in f3's row and column (f2 = 18, m3 = 9) and m2
    sec = {k for k, c in d.cells.items() if c.status == "secondary"}
    assert {"m3", "f2"} <= sec and "f3" not in sec
    assert d.text("f3") == "<5" and d.text("m3") == "—" and d.text("all") == "96"
    assert d.value("f1") == 20 and d.value("f2") is None


def _attack(doc: Document, key: str):
    before = audit(doc.primary_only()).set_index("cell")
    doc.protect()
    after = audit(doc)
    return before.loc[key], after


def test_attack_a_count_in_text_next_to_total():
    d = Document(5)
    parts = {"3plus": 3, "1_2": 200, "none": 100, "worse": 21}
    for k, v in parts.items():
        d.count(k, v)
    d.count("evaluable", 324)
    d.total("evaluable", list(parts))
    b, after = _attack(d, "3plus")
    assert b["low"] == b["high"] == 3  # 324 - 321
    assert not after["recoverable"].any() and after["protected"].all()
    assert d.text("3plus") == "<5" and d.text("worse") == "—"


def test_attack_b_bars_summing_to_a_printed_total():
    d = Document(5)
    bars = {0: 30, 1: 44, 2: 51, 3: 1, 4: 2}
    for k, v in bars.items():
        d.count(f"bar{k}", v)
    d.count("n", sum(bars.values()))
    d.total("n", [f"bar{k}" for k in bars])
    b, after = _attack(d, "bar3")
    # two "<5" bars: their sum (3) is known, each is 0-3 (still narrowed below 0-4)
    assert (b["low"], b["high"]) == (0, 3)
    assert not after["recoverable"].any() and after["protected"].all()
    a = after.set_index("cell")
    assert a.loc["bar3", "high"] - a.loc["bar3", "low"] >= 2


def test_attack_c_table_total_minus_visible_rows():
    d = Document(5)
    rows = {"g1": 120, "g2": 98, "g3": 4, "g4": 131}
    for k, v in rows.items():
        d.count(k, v)
    d.count("total", sum(rows.values()))
    d.total("total", list(rows))
    b, after = _attack(d, "g3")
    assert b["recoverable"] and b["low"] == 4
    assert not after["recoverable"].any()
    assert d.text("g2") == "—" and d.text("g1") == "120"


def test_attack_d_regrouping_sentence_against_reasons_table():
    d = Document(5)
    d.count("start", 5)
    d.count("term2", 10)
    reasons = {"friends": 8, "mismatch": 4, "other": 3}
    for k, v in reasons.items():
        d.count(k, v)
    d.count("moves", 15, printed=False)
    d.total("moves", ["start", "term2"])
    d.total("moves", list(reasons))
    b, after = _attack(d, "mismatch")
    # "<5" + "<5" = 15 - 8 = 7: each of mismatch / other is 3-4
    assert (b["low"], b["high"]) == (3, 4)
    assert not after["recoverable"].any() and after["protected"].all()


def test_attack_e_percentage_printed_with_its_n():
    d = Document(5)
    d.count("n", 17)
    d.count("k", 3, printed=False)
    d.rate("rate", "k", "n")
    b, after = _attack(d, "k")
    assert b["low"] == b["high"] == 3  # 17.6% of 17
    assert not d.rate_shown("rate") and d.rate_text("rate") == "—"
    assert d.text("n") == "17"
    assert not after["recoverable"].any() and after["protected"].all()
    # the complement: 94.1% of 17 leaves one child who did not progress
    d2 = Document(5)
    d2.count("n", 17)
    d2.count("k", 16, printed=False)
    d2.rate("rate", "k", "n")
    assert audit(d2.primary_only()).set_index("cell").loc["rate~not", "recoverable"]
    d2.protect()
    assert not d2.rate_shown("rate") and not audit(d2)["recoverable"].any()


def test_attack_f_grade_of_three_from_girls_plus_boys_minus_other_grades():
    d = Document(5)
    ev = {"g1": 50, "g2": 60, "g3": 3}
    pr = {"g1": 40, "g2": 45, "g3": 1}
    sex_ev, sex_pr = {"f": 56, "m": 57}, {"f": 43, "m": 43}
    for pre, tab in (("ev", ev), ("pr", pr), ("ev", sex_ev), ("pr", sex_pr)):
        for k, v in tab.items():
            d.count(f"{pre}.{k}", v)
    d.count("ev.all", 113, printed=False)
    d.count("pr.all", 86, printed=False)
    for pre in ("ev", "pr"):
        d.total(f"{pre}.all", [f"{pre}.g1", f"{pre}.g2", f"{pre}.g3"])
        d.total(f"{pre}.all", [f"{pre}.f", f"{pre}.m"])
    for g in [*ev, *sex_ev]:
        d.rate(f"rate.{g}", f"pr.{g}", f"ev.{g}")
    b, after = _attack(d, "pr.g3")
    assert b["recoverable"] and b["low"] == 1  # 43 + 43 - 40 - 45
    assert not after["recoverable"].any() and after["protected"].all()
    assert not d.rate_shown("rate.g3")


def test_attack_g_per_mentor_counts():
    d = Document(5)
    mentors = {"m1": 4, "m2": 4, "m3": 12, "m4": 14}
    for k, v in mentors.items():
        d.count(k, v)
    d.count("all", 34)
    d.total("all", list(mentors))
    b, after = _attack(d, "m1")
    assert (b["low"], b["high"]) == (4, 4)  # "<5" + "<5" = 34 - 26 = 8
    assert not after["recoverable"].any() and after["protected"].all()
    assert [d.text(k) for k in mentors] == ["<5", "<5", "—", "14"]


def test_min_cell_is_a_setting_and_registration_is_checked():
    d = Document(10)
    d.count("a", 7)
    d.count("b", 30)
    d.count("t", 37)
    d.total("t", ["a", "b"])
    d.protect()
    assert d.text("a") == "<10" and d.text("b") == "—"
    with pytest.raises(InputError, match="different values"):
        d.count("a", 8)
    with pytest.raises(InputError, match="not the sum"):
        d.total("t", ["a"])


# ============================================================ progress --json

COUNT_KEYS = {"n", "n1", "n2", "x1", "x2", "successes"}


def _counts(obj, path=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, dict | list):
                yield from _counts(v, f"{path}.{k}")
            elif ((k.startswith("n_") and k != "n_dimensions") or k in COUNT_KEYS) and isinstance(
                v, int | float
            ):
                yield f"{path}.{k}", v
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _counts(v, f"{path}[{i}]")


def test_progress_json_has_no_small_count_unless_internal(capsys):
    import json
    from pathlib import Path

    from mentorlib.cli import main

    sample = Path(__file__).resolve().parents[1] / "data" / "sample"
    assert main(["progress", str(sample), "--json"]) == 0
    pub = json.loads(capsys.readouterr().out)
    small = [(p, v) for p, v in _counts(pub) if v is not None and 0 < v < 5]
    assert small == []
    mentors = [r for r in pub["breakdowns"] if r["by"] == "mentor"]
    assert mentors and all(r["n_progressing"] is None or r["n_progressing"] >= 5 for r in mentors)
    # a shown rate never has fewer than 5 students on either side
    for r in pub["breakdowns"]:
        if r["proportion"] is not None:
            assert r["n_progressing"] >= 5 and r["n_evaluable"] - r["n_progressing"] >= 5
    assert main(["progress", str(sample), "--json", "--internal"]) == 0
    internal = json.loads(capsys.readouterr().out)
    assert any(0 < v < 5 for _, v in _counts(internal) if v is not None)  # per-mentor 1-4


# ============================================================ every public report, audited

import re  # noqa: E402
from pathlib import Path  # noqa: E402

from mentorlib import report  # noqa: E402
from mentorlib.compliance import STUDENT_INDICATORS  # noqa: E402
from mentorlib.data import from_synth  # noqa: E402
from mentorlib.synth import SynthParams, generate  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
COUNT_HEADER = re.compile(r"人数|学生数|可评估|人次|Students|Evaluable|Responses|^n$|数量|Count")


def tiny_study():
    """A small school with a grade of 3 students and 4 left-behind children (last year)."""
    s = generate(SynthParams(level="primary", n_students=150, n_years=2, seed=7))
    st = s.tables["students"]
    last = st["year"] == st["year"].max()
    g3 = st.index[last & (st["grade"] == 3)]
    st.loc[g3[3:], "grade"] = 2  # grade 3 keeps 3 students
    st["left_behind"] = False
    st.loc[st.index[last][:4], "left_behind"] = True  # a focus group of 4
    return from_synth(s)


def _check_public_reports(P, year, *, review=False):
    a = report.analyse_year(P, year, mentors=False, seed=0)
    reps = [report.annual_summary(P, year, lang=lang, analyses=a) for lang in ("zh", "en")]
    docs = [a.disclosure]
    if review:
        pa = report.analyse_pilot(P, seed=0, draws=2)
        reps += [report.pilot_review(P, lang=lang, analyses=pa) for lang in ("zh", "en")]
        docs.append(pa.disclosure)
    if review:
        # the review's satisfaction and compliance trends are registered, year by year
        pdoc = pa.disclosure
        for r in pa.satisfaction.itertuples(index=False):
            for c in ("n", "n_answer", "n_want"):
                assert f"sat.{r.year}.{c}" in pdoc.cells
            assert f"sat.{r.year}.want" in pdoc.rates
        student = pa.compliance.loc[pa.compliance["indicator"].isin(STUDENT_INDICATORS)]
        assert len(student)
        for r in student.itertuples(index=False):
            assert f"comp.{r.year}.{r.indicator}.n" in pdoc.cells
            rk = f"comp.{r.year}.{r.indicator}.rate"
            assert rk in pdoc.rates
            if pdoc.suppressed(rk):  # the value and its pass mark are not published
                assert pd.isna(r.value) and pd.isna(r.passed)
            else:
                k = pdoc.cells[f"comp.{r.year}.{r.indicator}.k"].value
                assert k >= 5 and pdoc.cells[f"comp.{r.year}.{r.indicator}.n"].value - k >= 5
    for doc in docs:
        au = audit(doc)
        assert len(au) and not au["recoverable"].any(), au.loc[au["recoverable"]]
        assert au["protected"].all(), au.loc[~au["protected"]]
    for rep in reps:
        assert rep.disclosure in docs
        for sec in rep.sections:
            for b in sec.blocks:
                if isinstance(b, report.Table):
                    for col in b.data.columns:
                        if COUNT_HEADER.search(str(col)):
                            for v in b.data[col]:
                                v = str(v).replace(",", "")
                                assert not (v.isdigit() and int(v) < 5), (b.key, col, v)
    # what a public document prints for a suppressed cell is its symbol, never the value
    doc = a.disclosure
    for key, c in doc.cells.items():
        if c.status == "primary":
            assert doc.text(key) == "<5"
        elif c.status == "secondary":
            assert doc.text(key) == "—" and c.value >= 5
    return (a, pa) if review else a


def test_tiny_group_study_reports_leave_nothing_recoverable():
    P = tiny_study()
    year = P.years[-1]
    a, pa = _check_public_reports(P, year, review=True)
    doc = a.disclosure
    # 4 of 151 students regrouped in the last year: the review printed "2.6%" with n = 151
    pdoc = pa.disclosure
    assert pdoc.cells[f"comp.{year}.regroup_share.k"].value == 4
    assert pdoc.cells[f"comp.{year}.regroup_share.n"].value == 151
    assert pdoc.suppressed(f"comp.{year}.regroup_share.rate")
    rep = report.pilot_review(P, lang="en", analyses=pa)
    tr = next(b for b in rep.section("trends").blocks if isinstance(b, report.Table))
    row = tr.data.loc[tr.data["Indicator"].str.startswith("Largest share regrouped")].iloc[0]
    assert row.iloc[-1] == "—"  # was "2.6% √"
    assert doc.cells["bd.grade.3.n_students"].value == 3
    assert doc.text("bd.grade.3.n_students") == "<5"
    assert doc.text("bd.focus_group.left_behind.n_students") == "<5"
    assert doc.suppressed("bd.grade.3.rate")
    # attack (f) on this study: primary suppression alone gives the grade away
    naive = Document(5)
    a.progress.register(naive)
    before = audit(naive.primary_only())
    assert before["recoverable"].any()


def test_tiny_group_annual_summary_compliance_kpis_registered():
    """The annual summary's student-based compliance rows are under disclosure control."""
    P = tiny_study()
    year = P.years[-1]
    a = report.analyse_year(P, year, mentors=False, seed=0)
    doc = a.disclosure
    ind = a.compliance.indicators
    student = ind.loc[ind["indicator"].isin(STUDENT_INDICATORS)]
    assert len(student)
    for r in student.itertuples(index=False):
        for c in ("n", "k"):
            assert f"comp.{r.indicator}.{c}" in doc.cells
        assert f"comp.{r.indicator}.rate" in doc.rates
    # 4 of 151 students regrouped: the summary printed "2.6%" and a pass mark for that row
    assert doc.cells["comp.regroup_share.k"].value == 4
    assert doc.cells["comp.regroup_share.n"].value == 151
    assert doc.text("comp.regroup_share.n") == "151"
    assert doc.suppressed("comp.regroup_share.rate")
    row = ind.set_index("indicator").loc["regroup_share"]
    assert pd.isna(row["value"]) and pd.isna(row["passed"])
    au = audit(doc)
    assert len(au) and not au["recoverable"].any(), au.loc[au["recoverable"]]
    for lang in ("zh", "en"):
        rep = report.annual_summary(P, year, lang=lang, analyses=a)
        k = rep.kpis.set_index("key").loc["regroup_share"]
        assert k["value_text"] == "—" and k["status"] == "—" and k["n"] == 151
        tb = next(b for b in rep.section("compliance").blocks if isinstance(b, report.Table))
        label = (
            "单次调整更换导师比例" if lang == "zh" else "Largest share regrouped in one adjustment"
        )
        # value, target, status, n (then the unit counted)
        assert tb.data.loc[tb.data.iloc[:, 0] == label].iloc[0].tolist()[1:5] == [
            "—",
            "≤15%" if lang == "zh" else "<= 15%",
            "—",
            "151",
        ]
        for out in (rep.to_markdown(), rep.to_html()):
            assert not re.search(r"(?<![\d.])2\.6\s*%", out)


@pytest.mark.slow
def test_sample_study_reports_leave_nothing_recoverable():
    from mentorlib.io.open import open_study

    P = open_study(SAMPLE)
    _check_public_reports(P, P.years[-1], review=True)


@pytest.mark.slow
def test_synth_primary_and_middle_reports_leave_nothing_recoverable(primary_study, middle_study):
    for st in (primary_study, middle_study):
        P = from_synth(st)
        _check_public_reports(P, P.years[-1])


def test_mentors_json_rates_and_bins_protected(capsys):
    import json

    from mentorlib.cli import main

    assert main(["mentors", str(SAMPLE), "--json"]) == 0
    pub = json.loads(capsys.readouterr().out)
    obs = pub["tables"]["dose_observed"]
    assert obs and any(r["mean"] is None for r in obs)
    for r in obs:
        if r["mean"] is not None:  # a shown share: 5+ students on each side
            k = round(r["mean"] * r["n"])
            assert k >= 5 and r["n"] - k >= 5, r
    for r in pub["tables"]["scheme_summary"]:
        assert r["n_mentees"] is None or r["n_mentees"] >= 5


def test_views_prefix_keys_and_years_stay_apart():
    d = Document(5)
    for y, (a, b) in {2023: (3, 40), 2024: (30, 40)}.items():
        v = d.view(f"{y}:")
        v.count("a", a)
        v.count("b", b)
        v.count("t", a + b)
        v.total("t", ["a", "b"])
        v.total("t", ["a"], strict=False)  # does not hold: left out, no error
    d.protect()
    assert d.view("2023:").text("a") == "<5" and d.view("2023:").text("b") == "—"
    assert d.view("2024:").text("a") == "30" and d.text("2024:b") == "40"
    assert not audit(d)["recoverable"].any()
    d.count("k", 9)
    d.count("n", 4)
    d.rate("bad", "k", "n")  # not a share of n: never shown
    assert d.rate_text("bad") == "—"


# ============================================================ groups --json

GROUP_COUNTS = ("assignment_valid", "group_min", "group_max", "blocking_pairs")
GROUP_SHARES = ("students_assigned", "in_scope", "first_choice", "top3_choice", "changed_share")


def _group_small(checks, n):
    """Every count of students a row of checks states or implies that lies in 1-4."""
    out = []
    for c in checks:
        v = c["value"]
        if v is None:
            continue
        if c["rule"] in GROUP_COUNTS and 0 < v < 5:
            out.append((c.get("policy"), c["rule"], v))
        if c["rule"] in GROUP_SHARES:
            k = round(v * n)
            if 0 < k < 5 or 0 < n - k < 5:
                out.append((c.get("policy"), c["rule"], k, n - k))
    return out


def test_groups_json_public_by_default_internal_raw(capsys):
    """two_way on the sample leaves 3 of 154 students outside their top three choices."""
    import json

    from mentorlib.cli import main

    args = ["groups", str(SAMPLE), "--json", "--policy", "two_way"]
    assert main([*args, "--internal"]) == 0
    raw = json.loads(capsys.readouterr().out)
    n = raw["students"]
    assert n == 154
    top3 = next(c for c in raw["checks"] if c["rule"] == "top3_choice")
    assert round(top3["value"] * n) == 151  # 3 students named by the complement
    assert _group_small(raw["checks"], n) == [(None, "top3_choice", 151, 3)]

    assert main(args) == 0
    pub = json.loads(capsys.readouterr().out)
    assert pub["students"] == 154
    assert _group_small(pub["checks"], n) == []
    top3 = next(c for c in pub["checks"] if c["rule"] == "top3_choice")
    assert top3["value"] is None and top3["suppressed"] is True
    kept = {c["rule"]: c["value"] for c in pub["checks"]}
    assert kept["group_min"] == 5 and kept["group_max"] == 8  # 5 or more: shown
    assert kept["first_choice"] == next(
        c["value"] for c in raw["checks"] if c["rule"] == "first_choice"
    )

    assert (
        main(["groups", str(SAMPLE), "--json", "--compare", "two_way,optimal", "--draws", "2"]) == 0
    )
    cmp_ = json.loads(capsys.readouterr().out)
    assert _group_small(cmp_["checks"], n) == []
    assert any(c["suppressed"] for c in cmp_["checks"] if c["policy"] == "two_way")


def test_suppress_rule_values_counts_and_shares():
    t = pd.DataFrame(
        {
            "rule": ["group_min", "group_min", "in_scope", "in_scope", "in_scope", "mean_fit"],
            "value": [3.0, 6.0, 0.98, 0.5, 1.0, 0.61],
        }
    )
    out = suppress_rule_values(t, counts=["group_min"], shares={"in_scope": 100})
    assert out["value"].tolist() == [None, 6.0, None, 0.5, 1.0, 0.61]
    assert out["suppressed"].tolist() == [True, False, True, False, False, False]
    with pytest.raises(InputError, match="no 'value' column"):
        suppress_rule_values(t.drop(columns="value"))


def _mentor_table(seed: int) -> Document:
    """A school's table by mentor (improved / not, with rates) and its totals, many small cells."""
    rng = np.random.default_rng(seed)
    d = Document(5)
    rows = []
    for m in range(40):
        k, n = int(rng.integers(0, 9)), int(rng.integers(2, 12))
        k = min(k, n)
        d.count(f"k{m}", k, printed=False)
        d.count(f"not{m}", n - k, printed=False)
        d.count(f"n{m}", n)
        d.total(f"n{m}", [f"k{m}", f"not{m}"])
        d.rate(f"r{m}", f"k{m}", f"n{m}")
        rows.append(m)
    for c in range(8):  # classes of 5 mentors, each with its printed total
        ms = [f"n{m}" for m in rows[5 * c : 5 * c + 5]]
        d.count(f"class{c}", sum(d.cells[x].value for x in ms))
        d.total(f"class{c}", ms)
    d.count("n", sum(d.cells[f"n{m}"].value for m in rows))
    d.total("n", [f"class{c}" for c in range(8)])
    return d


@pytest.mark.parametrize("seed", [1, 2])
def test_protect_skipping_cells_already_protected_changes_nothing(monkeypatch, seed):
    """protect() re-audits only the cells not yet found protected (suppression only widens
    ranges): the suppression pattern is the one re-auditing every cell every round gives, and
    the auditor then finds nothing to narrow."""
    import mentorlib.privacy.document as D

    fast = _mentor_table(seed).protect()
    orig = D.failures
    monkeypatch.setattr(D, "failures", lambda doc, first=False, passed=None: orig(doc, first=first))
    slow = _mentor_table(seed).protect()
    assert {k: c.status for k, c in fast.cells.items()} == {
        k: c.status for k, c in slow.cells.items()
    }
    assert {k: r.shown for k, r in fast.rates.items()} == {
        k: r.shown for k, r in slow.rates.items()
    }
    assert audit(fast)["protected"].all()
    assert any(c.status == "secondary" for c in fast.cells.values())
    # the answers' cache is keyed by a digest, not by the component's matrix
    keys = fast.__dict__["_range_cache"]
    assert keys and all(len(k[2]) == 16 for k in keys)


def test_a_subset_bounds_a_withheld_total():
    """27 students, 24 evaluable, 3 not: the total is withheld, but a survey answered by all
    27 printed beside it gives it back (27 - 24 = 3) unless the document knows the survey's
    students are some of the 27."""
    d = Document(5)
    for k, v in {"n": 27, "ev": 24, "not": 3, "survey": 27}.items():
        d.count(k, v)
    d.total("n", ["ev", "not"])
    d.keep("ev")
    rest = d.subset("n", "survey")
    d.protect()
    assert d.suppressed("n") and d.suppressed("survey")
    assert not d.sensitive(rest)  # who did not answer: an unknown, not a cell to protect
    assert not audit(d)["recoverable"].any()
    assert d.subset("ev", "n") is None  # 27 is not some of 24
