"""A study folder as a school hands it over, end to end (issue 13, Tests).

tests/fixtures/messy.py writes a primary and a middle school's folder by hand (no synth);
each goes through the command line as a researcher would run it: ``init`` -> ``check`` ->
``clean`` -> ``progress`` -> ``mentors`` -> ``report``. The first tests check what works on
every folder (init's guesses, partial cleaning, the row accounting, nobody linkable lost); then
one test per messy feature of issue 13 item 5/6, asserting the agreed cleaning-log rules and
quarantine reasons against the values the fixture wrote.
"""

from __future__ import annotations

import contextlib
import io
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from fixtures import messy as M

from mentorlib.cli import main
from mentorlib.tables import CONTRACT

# one worker runs both studies once (`make test` uses --dist loadgroup)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("messy_study")]


# ----------------------------------------------------------------------------- the runs
@dataclass
class Run:
    """One folder through the command line: exit codes and output of every command."""

    raw: Path
    out: Path
    rc: dict[str, int] = field(default_factory=dict)
    text: dict[str, str] = field(default_factory=dict)

    def cli(self, name: str, *argv) -> None:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            try:
                self.rc[name] = main([str(a) for a in argv])
            except SystemExit as e:  # argparse
                self.rc[name] = int(e.code or 0)
        self.text[name] = buf.getvalue()

    def toml(self) -> dict:
        return tomllib.loads((self.raw / "study.toml").read_text(encoding="utf-8"))

    def table(self, name: str) -> pd.DataFrame:
        """A processed table; an empty one (absent, or written without columns) has the
        contract's columns."""
        path = self.out / f"{name}.parquet"
        df = pd.read_parquet(path) if path.is_file() else pd.DataFrame()
        if df.empty:
            df = df.reindex(columns=[c.name for c in CONTRACT[name].columns])
        return df

    def log(self, rule: str | None = None, source: str | None = None) -> pd.DataFrame:
        df = self.table("cleaning_log")
        if rule is not None:
            df = df[df["rule"].astype(str).str.split(" ").str[0] == rule]
        if source is not None:
            df = df[df["source"].astype(str) == source]
        return df

    def quarantine(self, source: str | None = None) -> pd.DataFrame:
        q = self.table("quarantine")
        return q if source is None else q[q["source"] == source]

    def summary(self) -> pd.DataFrame:
        return pd.read_csv(self.out / "source_summary.csv").set_index("source")

    def meta(self) -> dict:
        return json.loads((self.out / "study.json").read_text(encoding="utf-8"))


#: what the researcher answers to init's "what is this file?" for the two unreadable files
ANSWERS = f"""
[[sources]]
kind = "rewards"
path = "{M.P_GARBAGE}"
year = 2024

[[sources]]
kind = "activities"
path = "{M.P_ENCRYPTED}"
year = 2024
"""


def pipeline(raw: Path, work: Path, answers: str = "") -> Run:
    r = Run(raw, work / "processed")
    r.cli("init", "init", raw)
    if answers:
        with open(raw / "study.toml", "a", encoding="utf-8") as fh:
            fh.write(answers)
    r.cli("check", "check", raw)
    r.cli("clean", "clean", raw, "--out", r.out)
    if r.rc["clean"] == 0:
        r.cli("progress", "progress", r.out)
        r.cli("progress_2023", "progress", r.out, "--year", 2023)
        r.cli("mentors", "mentors", r.out)
        r.cli("report", "report", r.out, "--format", "md", "--out", work / "reports")
    return r


@pytest.fixture(scope="session")
def primary(tmp_path_factory) -> Run:
    work = tmp_path_factory.mktemp("messy_primary")
    return pipeline(M.write_primary(work / "raw"), work, ANSWERS)


@pytest.fixture(scope="session")
def middle(tmp_path_factory) -> Run:
    work = tmp_path_factory.mktemp("messy_middle")
    return pipeline(M.write_middle(work / "raw"), work)


def init_sources(run: Run) -> dict[str, tuple]:
    return {
        s["path"]: (s["kind"], s.get("year"), s.get("term"), s.get("wave"))
        for s in run.toml()["sources"]
    }


def cells(log: pd.DataFrame) -> int:
    """Cells a cleaning-log extract covers: a "(column convention, N cells)" line counts N."""
    n = log["rule"].astype(str).str.extract(r"column convention, (\d+) cells")[0]
    return int(pd.to_numeric(n).fillna(1).sum())


def ids(df: pd.DataFrame, **where) -> set[str]:
    for k, v in where.items():
        df = df[df[k] == v]
    return set(df["student_id"].dropna())


# ------------------------------------------------------------------ primary: what works today
def test_primary_init_finds_every_readable_source(primary):
    assert primary.rc["init"] == 0
    got = init_sources(primary)
    for path, want in M.P_SOURCES.items():
        assert got.get(path) == want, path
    toml = primary.toml()
    assert toml["study"]["level"] == "primary" and toml["study"]["years"] == list(M.YEARS)
    # the two unreadable files are asked about, not guessed
    for path in (M.P_GARBAGE, M.P_ENCRYPTED):
        assert f"? {path}: unreadable" in primary.text["init"]


def test_primary_check_names_the_unreadable_and_encrypted_files(primary):
    out = primary.text["check"]
    assert f"BAD rewards       {M.P_GARBAGE}" in out
    assert f"BAD activities    {M.P_ENCRYPTED}" in out
    assert "加密的工作簿" in out and "不是Excel工作簿" in out
    assert f"{len(M.P_SOURCES)} of {len(M.P_SOURCES) + 2} sources readable" in out


def test_primary_check_exits_0_when_clean_can_run(primary):
    assert primary.rc["check"] == 0
    assert "clean can run, partially" in primary.text["check"]


def test_primary_clean_is_partial_and_lists_the_failed_sources(primary):
    assert primary.rc["clean"] == 0, primary.text["clean"]
    meta = primary.meta()
    assert meta["partial"] is True
    failed = {f["path"]: f for f in meta["failed_sources"]}
    assert set(failed) == {M.P_GARBAGE, M.P_ENCRYPTED}
    assert "加密的工作簿" in failed[M.P_ENCRYPTED]["reason"]
    assert "不是Excel工作簿" in failed[M.P_GARBAGE]["reason"]
    assert "PARTIAL" in primary.text["clean"]


def accounting(run: Run, level: str) -> None:
    s = run.summary()
    for path, n in M.ROWS[level].items():
        if path not in s.index:  # a file init did not recognise is not cleaned
            continue
        row = s.loc[path]
        assert row["rows_in"] == n, path
        assert row[["kept", "merged", "quarantined", "not_read"]].sum() == n, path


def test_primary_rows_add_up_per_source(primary):
    accounting(primary, "primary")
    s = primary.summary()
    assert pd.isna(s.loc[M.P_GARBAGE, "rows_in"]) and s.loc[M.P_GARBAGE, "kept"] == 0


def test_primary_no_linkable_student_is_lost(primary):
    ks, late = M.primary_people()
    st = primary.table("students")
    assert ids(st, year=2023) == {k.sid for k in ks}
    assert ids(st, year=2024) == {k.sid for k in ks} | {late.sid}
    # the 合计 row is the roster's only quarantined row
    q = primary.quarantine("roster/学生名册_2023学年.xlsx")
    assert len(q) == 1 and "合计" in q["raw"].iloc[0]
    assert q["reason"].iloc[0] == "totals_row"  # told apart from a student with a bad 学籍号
    items = primary.table("assessment_items")
    for year in M.YEARS:
        pool = ks if year == 2023 else [*ks, late]
        answered = {k.sid for k in pool if k.seat % 29 != 7}
        for wave in ("pre", "post"):
            assert ids(items, year=year, wave=wave) == answered, (year, wave)
    assert ids(primary.table("assignments"), year=2024) == {k.sid for k in ks}
    assert len(primary.table("satisfaction")) == len(ks)


def test_primary_hint_and_reworded_question_still_match(primary):
    approx = primary.log("header_approx", "surveys/发展评估_2024学年_前测.xlsx")
    assert len(approx) == 1 and "上课时我能够专心听讲" in str(approx["old"].iloc[0])
    items = primary.table("assessment_items")
    academic_2 = items[(items["year"] == 2024) & (items["item"] == "academic_2")]
    assert len(academic_2) == 2 * 117


def test_primary_rare_characters_survive(primary):
    st = primary.table("students")
    by_name = st[st["year"] == 2023].set_index("name")["student_id"]
    items = primary.table("assessment_items")
    for nm in M.P_RARE:
        assert nm in by_name.index, nm
        assert by_name[nm] in set(items["student_id"])
    report = next((primary.out.parent / "reports").rglob("*.md")).read_text(encoding="utf-8")
    assert not any(nm in report for nm in M.P_RARE)  # names never reach a report


def test_primary_progress_and_report_run(primary):
    assert primary.rc["progress"] == 0, primary.text["progress"]
    assert primary.rc["progress_2023"] == 0, primary.text["progress_2023"]
    assert "2024学年" in primary.text["progress"]
    assert primary.rc["report"] == 0, primary.text["report"]
    assert list((primary.out.parent / "reports").rglob("*.md"))


def test_primary_mentors_runs(primary):
    assert primary.rc["mentors"] == 0, primary.text["mentors"]


# ------------------------------------------------------------- primary: features being built
def test_primary_staff_id_zero_restored(primary):
    src = "groups/导师分组_2023学年.xlsx"
    assert "unknown_mentor" not in set(primary.quarantine(src)["reason"])
    assign = primary.table("assignments")
    got = set(assign.loc[assign["year"] == 2023, "mentor_id"])
    assert got == {s[0] for s in M.P_STAFF}
    assert len(primary.log("staff_id_zero_restored", src)) >= 1


LOG = "records/导师工作记录_2023学年.xlsx"


def test_primary_activity_log_without_student_id_is_read(primary):
    assert primary.summary().loc[LOG, "kept"] == M.ROWS["primary"][LOG]
    assert len(primary.table("activities")) == M.ROWS["primary"][LOG]


def test_primary_group_session(primary):
    acts = primary.table("activities")
    group = acts[acts["student_id"].isna()]
    assert len(group) == M.P_GROUP_ROWS
    assert set(group["activity"].astype(str)) == {"group_counselling"}
    assert cells(primary.log("group_session", LOG)) == M.P_GROUP_ROWS


def test_primary_date_filled_down(primary):
    filled = primary.log("date_filled_down", LOG)
    assert cells(filled) == 5 * 3  # five days of four rows: three rows under each merged date
    assert primary.table("activities")["date"].notna().all()


def test_primary_date_year_from_term(primary):
    acts = primary.table("activities")
    dates = pd.to_datetime(acts["date"])
    autumn = dates.dt.month >= 9
    assert (dates[autumn].dt.year == 2023).all() and (dates[~autumn].dt.year == 2024).all()
    assert set(acts.loc[autumn, "term"]) == {1} and set(acts.loc[~autumn, "term"]) == {2}
    assert len(primary.log("date_year_from_term", LOG)) >= 1


def test_primary_duration_text(primary):
    # most of the column is written in words, so duration_text is the column's convention:
    # one log line with an example and the number of cells it covers (the decode contract)
    ks, late = M.primary_people()
    written = [r[6] for r in M.p_log_rows(ks, late)]
    texts = [d for d in written if isinstance(d, str)]
    log = primary.log("duration_text", LOG)
    assert cells(log) == len(texts)
    assert set(log["old"].astype(str)) <= set(M.P_DURATIONS) | {"1小时"}
    # every cell read as the minutes it says
    minutes = {**M.P_DURATIONS, "1小时": 60}
    want = sorted(float(minutes[d]) if isinstance(d, str) else float(d) for d in written)
    assert sorted(primary.table("activities")["duration_min"].astype(float)) == want


def test_primary_mentor_by_name(primary):
    log = primary.log("mentor_by_name", LOG)
    assert len(log) == 1 and "01201" in str(log["new"].iloc[0])
    assert not (
        primary.quarantine(LOG)["reason"].isin(["ambiguous_mentor", "unknown_mentor"])
    ).any()


def test_primary_late_joiner(primary):
    _, late = M.primary_people()
    acts = primary.table("activities")
    mine = acts[acts["student_id"] == late.sid]
    assert len(mine) == 1 and mine["year"].iloc[0] == 2023 and mine["term"].iloc[0] == 2
    assert len(primary.log("late_joiner")) >= 1


EXAM = "exams/成绩单_2023学年_第2学期.xlsx"


def test_primary_exams_by_seat_number(primary):
    ks, _ = M.primary_people()
    ex = primary.table("exams")
    ex = ex[(ex["year"] == 2023) & (ex["term"] == 2)]
    assert ids(ex) == {k.sid for k in ks}
    assert len(ex) == 3 * len(ks)
    sheet, seat, _ = M.P_ABSENT
    absent = next(k for k in ks if f"{k.cls}班" == sheet and k.seat == seat)
    row = ex[(ex["student_id"] == absent.sid) & (ex["subject"] == "math")]
    assert row["status"].iloc[0] == "absent" and pd.isna(row["score"].iloc[0])
    assert len(primary.log("class_from_sheet", EXAM)) >= 1
    assert len(primary.log("derived_column_ignored", EXAM)) >= 1  # 总分, 排名
    assert "ambiguous_student" not in set(primary.quarantine(EXAM)["reason"])


# -------------------------------------------------------------------- middle: what works today
def test_middle_init_finds_every_readable_source(middle):
    assert middle.rc["init"] == 0
    assert "?" not in middle.text["init"]  # nothing to ask
    got = init_sources(middle)
    for path, want in M.M_SOURCES.items():
        assert got.get(path) == want, path
    toml = middle.toml()
    assert toml["study"]["level"] == "middle" and toml["study"]["years"] == list(M.YEARS)


def test_middle_check_and_clean_run(middle):
    assert middle.rc["check"] == 0, middle.text["check"]
    assert middle.rc["clean"] == 0, middle.text["clean"]
    assert middle.meta()["partial"] is False


def test_middle_rows_add_up_per_source(middle):
    accounting(middle, "middle")


def test_middle_groups_and_staff_are_kept(middle):
    ks = M.middle_people()
    assign = middle.table("assignments")
    mentees = M.m_mentees(ks)
    temp = M.m_temp_kid(ks)
    assert ids(assign, year=2024) == {k.ids[2024] for k, _ in mentees}
    assert ids(assign, year=2023) >= {k.ids[2023] for k, _ in mentees if k is not temp}
    per_mentor = assign[assign["year"] == 2024].groupby("mentor_id").size()
    assert set(per_mentor) == {1, 2}
    assert len(middle.table("staff")) == 2 * len(M.M_STAFF)


# -------------------------------------------------------------- middle: features being built
def test_middle_cohort_class(middle):
    ks = M.middle_people()
    st = middle.table("students")
    st24 = st[st["year"] == 2024]
    assert ids(st24) == {k.ids[2024] for k in ks}
    assert set(st24["grade"]) == {8} and set(st24["class_no"]) == {1, 2, 3, 4, 5}
    assert len(middle.log("cohort_class", "roster/学生名册_2024学年.xlsx")) >= 1


def test_middle_temp_id(middle):
    temp = M.m_temp_kid(M.middle_people())
    roster = "roster/学生名册_2023学年.xlsx"
    flagged = middle.log("temp_id", roster)
    assert list(flagged["old"].astype(str)) == [temp.ids[2023]]  # accepted, flagged
    # the student is kept in 2023, under the G number that replaced the L number next year
    st = middle.table("students")
    assert temp.ids[2024] in ids(st, year=2023)
    assert temp.ids[2023] not in ids(st)
    assert middle.quarantine(roster).empty


def test_middle_temp_id_replaced(middle):
    temp = M.m_temp_kid(M.middle_people())
    assign = middle.table("assignments")
    assert temp.ids[2024] in ids(assign, year=2023)  # the 2023 rows now carry the G number
    assert len(middle.log("temp_id_replaced")) >= 1


SURVEY_PRE = "surveys/成长评估_2023学年_前测.xlsx"
SURVEY_POST = "surveys/成长评估_2023学年_后测.xlsx"


def test_middle_linked_by_seat_number(middle):
    ks = M.middle_people()
    items = middle.table("assessment_items")
    temp = M.m_temp_kid(ks)
    answered = {k.ids[2023] for k in ks if k.seat % 29 != 11 and k is not temp}
    assert ids(items, year=2023, wave="pre") >= answered
    assert cells(middle.log("linked_by_seat_number", SURVEY_PRE)) >= 100
    assert "ambiguous_student" not in set(middle.quarantine(SURVEY_PRE)["reason"])


def test_middle_name_variant(middle):
    ks = M.middle_people()
    kid = next(k for k in ks if k.name == M.M_NAME_ROSTER)
    items = middle.table("assessment_items")
    assert kid.ids[2023] in ids(items, year=2023, wave="pre")
    log = middle.log("name_variant", SURVEY_PRE)
    assert M.M_NAME_TYPED in set(log["old"].astype(str))


def test_middle_linked_in_grade(middle):
    ks = M.middle_people()
    moved = {k.ids[2023] for k in ks if M.m_split(k) and k.seat % 29 != 11}
    items = middle.table("assessment_items")
    assert moved <= ids(items, year=2023, wave="post")
    assert cells(middle.log("linked_in_grade", SURVEY_POST)) >= len(moved)


MEXAM = "exams/期末成绩_2023学年_第1学期.xlsx"


def test_middle_exams_per_subject(middle):
    ks = M.middle_people()
    ex = middle.table("exams")
    ex = ex[(ex["year"] == 2023) & (ex["term"] == 1)]
    assert ex.groupby("subject", observed=True).size().to_dict() == {
        "chinese": len(ks),
        "math": len(ks),
        "english": len(ks),
    }
    assert ex.loc[ex["subject"] == "math", "score"].max() > 100  # out of 120, not out of range
    sheet, cls, seat = M.M_VOID
    kid = next(k for k in ks if k.cls == cls and k.seat == seat)
    void = ex[(ex["student_id"] == kid.ids[2023]) & (ex["subject"] == "english")]
    assert void["status"].iloc[0] == "void"
    assert (ex["status"] == "absent").sum() == 1
    assert len(middle.log("subject_from_sheet", MEXAM)) >= 3
    full = middle.log("full_marks", MEXAM)
    assert "120" in full.astype(str).to_string()
    assert len(middle.log("derived_column_ignored", MEXAM)) >= 1  # 排名


REWARDS = "records/奖惩记录_2023学年.xlsx"


def test_middle_rewards_points_text(middle):
    assert init_sources(middle).get(REWARDS) == M.M_SOURCES[REWARDS]
    rw = middle.table("rewards")
    rows = M.m_reward_rows(M.middle_people())
    assert len(rw) == len(rows)
    assert set(rw["points"]) == set(M.M_REWARD_POINTS.values())
    assert set(rw.loc[rw["points"] > 0, "kind"].astype(str)) == {"reward"}
    assert set(rw.loc[rw["points"] < 0, "kind"].astype(str)) == {"penalty"}
    assert len(middle.log("points_text", REWARDS)) >= 1
    assert len(middle.log("reward_kind_from_sign", REWARDS)) >= 1


def test_middle_dropped_item_in_second_year(middle):
    got = init_sources(middle)
    for path in ("surveys/成长评估_2024学年_前测.xlsx", "surveys/成长评估_2024学年_后测.xlsx"):
        assert got.get(path) == M.M_SOURCES[path], path
    # init wrote the study's codebook with the 2024 version dropping the item
    local = tomllib.loads((middle.raw / "codebooks/assessment_middle.toml").read_text("utf-8"))
    assert local["versions"] == [{"from_year": 2024, "drop": [M.m_dropped()]}]
    items = middle.table("assessment_items")
    assert M.m_dropped() not in set(items.loc[items["year"] == 2024, "item"].astype(str))
    assert len(ids(items, year=2024, wave="post")) > 100
    assert middle.rc["progress"] == 0, middle.text["progress"]
    assert "2024学年" in middle.text["progress"]


def test_middle_progress_2023_runs(middle):
    assert middle.rc["progress_2023"] == 0, middle.text["progress_2023"]


def test_middle_mentors_and_report_run(middle):
    assert middle.rc["mentors"] == 0, middle.text["mentors"]
    assert middle.rc["report"] == 0, middle.text["report"]
