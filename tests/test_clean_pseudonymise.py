"""Pseudonymisation is a property of the whole processed folder (issue 11, item 3).

The committed sample study is copied and made messier by hand: a needs-survey answer naming a
classmate with his 学籍号 (plain and as Excel's 4.40106E+17), a quarantined survey row with an IP
address and a place, a reward whose 事由 names a classmate, a misspelt name
(``name_differs_from_roster``), and names with control characters (``张\\x07三``, ``李四\\u200b``).
It is cleaned with a key given each of the three ways; then every file under the output is read
twice, as raw bytes and (Parquet) decoded by pandas, and searched for every roster name (students
and staff, every year, from the RAW roster files and the generator's answer key), every real
学籍号 and every damaged form of one in the raw files, every name written in a name column, and
any IPv4 address.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from mentorlib.clean import clean_study
from mentorlib.clean.pseudonymise import ENV_KEY, Scrubber, header_kind, load_key
from mentorlib.errors import InputError
from mentorlib.ids import pseudonym
from mentorlib.io.study import load_config

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
KEY = "k3y-for-the-pseudonym-tests"
GROUPS = "groups/导师分组_2024学年.csv"
NEEDS = "surveys/成长需求问卷_2024学年.csv"
NEEDS_2023 = "surveys/成长需求问卷_2023学年.xlsx"
PHONE, PHONE_2 = "13900001111", "139-0000-2222"
REWARDS = "records/奖惩记录_2024学年.xlsx"
STRANGER = "司马小明"  # a child not on the roster, named in a quarantined row
IP = "10.20.30.40"
IPV4 = re.compile(r"(?<![0-9.])\d{1,3}(?:\.\d{1,3}){3}(?![0-9])")


# ----------------------------------------------------------------------------- the messy study


def _csv(study: Path, rel: str) -> pd.DataFrame:
    return pd.read_csv(study / rel, encoding="gb18030", dtype=str, keep_default_na=False)


def _write_csv(df: pd.DataFrame, study: Path, rel: str) -> None:
    (study / rel).write_bytes(df.to_csv(index=False).encode("gb18030"))


def _roster_ids(study: Path) -> set[str]:
    ids = set()
    for f in (study / "roster").glob("学生名册_*.xlsx"):
        for x in pd.read_excel(f, sheet_name=None, dtype=str, engine="calamine").values():
            ids |= set(x["学籍号"].dropna().str.strip())
    return ids


def _roster_names(study: Path) -> set[str]:
    names = set()
    for f in (study / "roster").glob("*名册_*.xlsx"):
        for x in pd.read_excel(f, sheet_name=None, dtype=str, engine="calamine").values():
            names |= set(x["姓名"].dropna().str.replace(r"\s", "", regex=True))
    return names


def _excel_sci(sid: str) -> str:
    d = sid[1:]
    return f"{d[0]}.{d[1:6]}E+17"


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    """A copy of the sample with the hand-made traps; returns (folder, facts about the traps)."""
    study = tmp_path_factory.mktemp("pseudo") / "study"
    shutil.copytree(SAMPLE, study)
    ids = _roster_ids(study)
    g = _csv(study, GROUPS)
    ok = g[g["学籍号"].isin(ids) & (g["学期"] == "第一学期")].drop_duplicates("学籍号", keep=False)
    a, b, c = ok.index[:3]
    facts = {
        "bell": (g.at[a, "学生姓名"], g.at[a, "学籍号"]),
        "zwsp": (g.at[b, "学生姓名"], g.at[b, "学籍号"]),
        "typo": (g.at[c, "学生姓名"][:-1] + "蕤", g.at[c, "学生姓名"]),
    }
    name = g.at[a, "学生姓名"]
    g.at[a, "学生姓名"] = name[0] + "\x07" + name[1:]  # 张\x07三, and no 学籍号: linked by name
    g.at[a, "学籍号"] = ""
    g.at[b, "学生姓名"] = g.at[b, "学生姓名"] + "\u200b"  # 李四\u200b
    g.at[c, "学生姓名"] = facts["typo"][0]
    d = ok.index[3]  # a parent's phone number typed in a free-text cell (red team)
    facts["phone"] = (g.at[d, "学生姓名"], PHONE)
    g.at[d, "调整原因"] = f"家长（{g.at[d, '学生姓名']}妈妈）要求更换，电话{PHONE}"
    _write_csv(g, study, GROUPS)

    n = _csv(study, NEEDS)
    n = n[n["2、你的学籍号"].isin(ids)].drop_duplicates("2、你的学籍号", keep=False)
    i, j = n.index[:2]
    n = _csv(study, NEEDS)
    mate, mate_id = n.at[j, "1、你的姓名"], n.at[j, "2、你的学籍号"]
    trio = next(x for x in n["1、你的姓名"] if len(x) == 3 and x != mate)  # called by given name
    n.at[i, "5(其他)"] = (
        f"1〖想和{mate}一起学习，他的学籍号{mate_id}，表上是{_excel_sci(mate_id)}，"
        f"也想认识{trio[1:]}〗"
    )
    stranger = n.loc[[i]].copy()
    stranger["序号"] = str(len(n) + 1)
    stranger["来自IP"] = f"{IP}(广东-深圳)"
    stranger["1、你的姓名"] = STRANGER
    stranger["2、你的学籍号"] = "G" + "9" * 17 + "1"
    stranger["8、你最想对导师说的话"] = f"我和{mate}是同桌"
    _write_csv(pd.concat([n, stranger], ignore_index=True), study, NEEDS)
    facts["needs"] = (n.at[i, "2、你的学籍号"], mate, mate_id)

    wb = openpyxl.load_workbook(study / REWARDS)
    ws = wb.active
    head = [c.value for c in ws[1]]
    col = head.index("事由") + 1
    ws.cell(row=2, column=col, value=f"帮助{mate}补习数学")
    wb.save(study / REWARDS)
    facts["reward"] = (ws.cell(row=2, column=head.index("学籍号") + 1).value, mate)

    # a roster name in a source FILE NAME, and [study] school naming a teacher, an ID, a phone
    renamed = NEEDS_2023.replace(".xlsx", f"_{mate}妈妈转发.xlsx")
    (study / NEEDS_2023).rename(study / renamed)
    facts["renamed"] = (renamed, NEEDS_2023.replace(".xlsx", "_〔姓名〕妈妈转发.xlsx"))
    teacher, school_id = g.at[a, "导师姓名"], facts["needs"][0]
    toml = (study / "study.toml").read_text(encoding="utf-8")
    school = f"示范小学（合成数据 seed 7） 联系人{teacher} {school_id} 电话 {PHONE_2}"
    toml = re.sub(r'(?m)^school = ".*"$', f'school = "{school}"', toml)
    toml = toml.replace(f'path = "{NEEDS_2023}"', f'path = "{renamed}"')
    assert renamed in toml and teacher in toml
    (study / "study.toml").write_text(toml, encoding="utf-8")
    facts["school"] = (teacher, school_id)
    return study, facts


def _with_key(messy_dir: Path, dest: Path, how: str) -> Path:
    study = dest / "study"
    shutil.copytree(messy_dir, study)
    toml = (study / "study.toml").read_text(encoding="utf-8")
    if how == "toml":
        line = f'pseudonym_key = "{KEY}"\n'
    elif how == "file":
        (study / "keys").mkdir()
        (study / "keys" / "study.key").write_text(KEY + "\n", encoding="utf-8")
        line = 'pseudonym_key_file = "keys/study.key"\n'
    else:
        line = ""
    (study / "study.toml").write_text(toml.replace("[study]\n", "[study]\n" + line), "utf-8")
    return study


def _needles(study: Path, extra=()) -> set[str]:
    """Everything that must not appear: real IDs, their damaged forms, names, the stranger."""
    ids = _roster_ids(study)
    names = _roster_names(study)
    truth = study / "truth"
    s = pd.read_parquet(truth / "canonical" / "students.parquet")
    ids |= set(s["student_id"])
    names |= set(s["name"])
    names |= set(pd.read_parquet(truth / "canonical" / "staff.parquet")["name"])
    m = pd.read_parquet(truth / "manifest.parquet")
    col = m["column"].astype(str)
    damaged = set(m.loc[col.str.contains("学籍号"), "raw"].dropna().astype(str))
    misspelt = set(m.loc[col.str.contains("姓名"), "raw"].dropna().astype(str))
    every = ids | damaged | names | misspelt | {STRANGER, *extra}
    every |= {i[1:] for i in ids} | {_excel_sci(i) for i in ids}
    return {x.strip() for x in every if len(x.strip()) >= 2}


def _birth_dates(study: Path) -> set[str]:
    """Exact birth dates as the cleaner writes them and as the raw files spell them (not the
    first of a month: that is what a coarsened date looks like)."""
    b = pd.read_parquet(study / "truth" / "canonical" / "students.parquet")["birth_date"]
    b = pd.to_datetime(b).dropna()
    out = set(b[b.dt.day != 1].dt.strftime("%Y-%m-%d"))
    m = pd.read_parquet(study / "truth" / "manifest.parquet")
    raw = m.loc[m["column"].astype(str) == "出生日期", "raw"].dropna().astype(str)
    return out | {r for r in raw if not r.isdigit() and not re.search(r"[-/.年]0?1日?$", r)}


def _leaks(out: Path, needles: set[str]) -> list[tuple[str, str, str]]:
    found = []
    files = sorted(p for p in out.rglob("*") if p.is_file())
    assert {"row_status.parquet", "cleaning_log.parquet", "quarantine.parquet"} <= {
        p.name for p in files
    }
    for p in files:
        raw = p.read_bytes()
        if p.suffix == ".parquet":
            df = pd.read_parquet(p)
            cells = [str(c) for c in df.columns]
            for c in df.columns:
                cells += [str(v) for v in pd.unique(df[c].astype(object))]
            text = "\n".join(cells)
        else:
            text = raw.decode("utf-8-sig")
        for s in needles:
            if s.encode("utf-8") in raw:
                found.append((p.name, "bytes", s))
            elif s in text:
                found.append((p.name, "text", s))
        for t in (text, raw.decode("latin-1")):
            found += [(p.name, "ip", m.group(0)) for m in IPV4.finditer(t)]
    return found


# ----------------------------------------------------------------------------- the whole folder


@pytest.mark.slow
@pytest.mark.parametrize("how", ["toml", "file", "env"])
def test_no_real_id_name_or_ip_in_any_output_file(messy, tmp_path, monkeypatch, how):
    study_dir, facts = messy
    study = _with_key(study_dir, tmp_path, how)
    if how == "env":
        monkeypatch.setenv(ENV_KEY, KEY)
    else:
        monkeypatch.delenv(ENV_KEY, raising=False)
    out = tmp_path / "out"
    res = clean_study(study, out)
    assert res.meta["pseudonymised"]
    needles = _needles(study, [facts["typo"][0], PHONE, PHONE_2, PHONE_2.replace("-", "")])
    assert len(needles) > 500 and facts["school"][0] in needles
    assert _leaks(out, needles) == []
    births = _birth_dates(study)
    assert len(births) > 100 and _leaks(out, births) == []

    key = KEY.encode()
    # the key is the same whichever way it was given: the same pseudonyms
    s = pd.read_parquet(out / "students.parquet")
    assert pseudonym(facts["bell"][1], key) in set(s["student_id"])
    assert "name" not in s.columns and "name" not in pd.read_parquet(out / "staff.parquet")
    # birth dates to the month (the first day of it), still dates
    b = s["birth_date"].dropna()
    assert pd.api.types.is_datetime64_any_dtype(s["birth_date"]) and (b.dt.day == 1).all()
    assert b.dt.month.nunique() > 6

    # free text: the classmate's name and 学籍号 replaced, the damaged one masked
    me, mate, mate_id = facts["needs"]
    needs = pd.read_parquet(out / "needs.parquet")
    me_2024 = (needs["student_id"] == pseudonym(me, key)) & (needs["year"] == 2024)
    (mine,) = needs.loc[me_2024, "other_text"]
    p = pseudonym(mate_id, key)
    assert mine == f"想和〔姓名〕一起学习，他的学籍号{p}，表上是〔学籍号〕，也想认识〔姓名〕"
    rw = pd.read_parquet(out / "rewards.parquet")
    assert "帮助〔姓名〕补习数学" in set(rw["reason"].astype(str))

    # the quarantined row: ID masked, names replaced, the IP and its place gone
    q = pd.read_parquet(out / "quarantine.parquet")
    raw = [json.loads(r) for r in q["raw"] if "我和" in r]
    assert len(raw) == 1
    assert raw[0]["1、你的姓名"] == "〔姓名〕" and raw[0]["2、你的学籍号"] == "〔学籍号〕"
    assert (
        raw[0]["来自IP"] == "〔已删除〕" and raw[0]["8、你最想对导师说的话"] == "我和〔姓名〕是同桌"
    )
    assert "深圳" not in q["raw"].str.cat()

    # the log keeps the fact of every repair, not the names
    lg = pd.read_parquet(out / "cleaning_log.parquet")
    typo = lg[(lg["rule"] == "name_differs_from_roster") & (lg["source"] == GROUPS)]
    assert len(typo) >= 1 and set(typo["old"]) == set(typo["new"]) == {"〔姓名〕"}
    ctl = lg[lg["rule"] == "control_chars"]
    assert len(ctl) == 2 and set(ctl["old"]) == {"〔姓名〕"}
    linked = lg[(lg["rule"] == "linked_by_name_class") & (lg["source"] == GROUPS)]
    assert pseudonym(facts["bell"][1], key) in set(linked["new"])

    # row status: pseudonyms, no real 学籍号
    rs = pd.read_parquet(out / "row_status.parquet")
    kept = rs[rs["status"] == "kept"]["student_id"].dropna()
    assert kept.str.fullmatch(r"P[0-9a-f]{16}").all() and len(kept) > 10_000

    # red team: the name in a file name is masked the same way in every table (they still join)
    _, masked = facts["renamed"]
    summ = pd.read_csv(out / "source_summary.csv", dtype=str)
    assert masked in set(summ["source"]) and masked in set(rs["source"].astype(str))
    assert set(rs["source"].astype(str)) == set(summ["source"])
    assert set(q["source"].astype(str)) | set(lg["source"].astype(str)) <= set(summ["source"])
    assert (rs["source"] == masked).sum() == int(
        summ.loc[summ["source"] == masked, "rows_in"].sum()
    )
    # the phone number typed in a 调整原因, and [study] school in study.json
    typed = lg.loc[lg["column"].astype(str) == "调整原因", "old"].astype(str)
    assert "家长（〔姓名〕妈妈）要求更换，电话〔电话〕" in set(typed)
    school = json.loads((out / "study.json").read_text(encoding="utf-8"))["school"]
    assert (
        school
        == f"示范小学（合成数据 seed 7） 联系人〔姓名〕 {pseudonym(facts['school'][1], key)} 电话 〔电话〕"
    )


def test_without_a_key_the_internal_outputs_keep_names(messy, tmp_path, monkeypatch):
    """No key: names stay in the internal outputs, as before; control characters are still
    stripped from names at cleaning, with a log line, and the stripped name links."""
    study_dir, facts = messy
    monkeypatch.delenv(ENV_KEY, raising=False)
    res = clean_study(study_dir, tmp_path / "out")
    assert not res.meta["pseudonymised"]
    s = res.tables["students"]
    assert "name" in s.columns and (s["birth_date"].dropna().dt.day != 1).any()
    lg = res.log
    typo = lg[(lg["rule"] == "name_differs_from_roster") & (lg["old"] == facts["typo"][0])]
    assert list(typo["new"]) == [facts["typo"][1]]
    ctl = lg[lg["rule"] == "control_chars"].set_index("new")
    bell, zwsp = facts["bell"], facts["zwsp"]
    assert ctl.loc[bell[0], "old"] == bell[0][0] + "\x07" + bell[0][1:]
    assert ctl.loc[zwsp[0], "old"] == zwsp[0] + "\u200b"
    rows = ctl.loc[bell[0], "row"]
    st = res.row_status
    hit = st[(st["source"] == GROUPS) & (st["row"] == rows)]
    assert list(hit["status"]) == ["kept"] and list(hit["student_id"]) == [bell[1]]
    needs = res.tables["needs"]
    assert facts["needs"][1] in needs["other_text"].dropna().str.cat()


# ----------------------------------------------------------------------------- the key


def _study_with(tmp_path: Path, line: str) -> Path:
    study = tmp_path / "study"
    study.mkdir(parents=True)
    shutil.copy(SAMPLE / "study.toml", study / "study.toml")
    toml = (study / "study.toml").read_text(encoding="utf-8")
    (study / "study.toml").write_text(toml.replace("[study]\n", "[study]\n" + line), "utf-8")
    return study


@pytest.mark.parametrize(
    "content", [b"", b"   \n\t\n", b"\xef\xbb\xbf\n", None], ids=["empty", "blank", "bom", "dir"]
)
def test_an_unusable_key_file_is_an_error_naming_it(tmp_path, monkeypatch, content):
    monkeypatch.delenv(ENV_KEY, raising=False)
    study = _study_with(tmp_path, 'pseudonym_key_file = "secret.key"\n')
    if content is None:
        (study / "secret.key").mkdir()
    else:
        (study / "secret.key").write_bytes(content)
    with pytest.raises(InputError, match=r"secret\.key.*pseudonym_key_file"):
        load_key(load_config(study))
    with pytest.raises(InputError, match=r"secret\.key"):
        load_key(load_config(study))


def test_an_empty_key_string_or_variable_is_an_error(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_KEY, raising=False)
    study = _study_with(tmp_path, 'pseudonym_key = "  "\n')
    with pytest.raises(InputError, match=r"study\.toml.*pseudonym_key is empty"):
        load_key(load_config(study))
    plain = _study_with(tmp_path / "b", "")
    assert load_key(load_config(plain)) is None
    monkeypatch.setenv(ENV_KEY, " ")
    with pytest.raises(InputError, match=ENV_KEY):
        load_key(load_config(plain))
    monkeypatch.setenv(ENV_KEY, "s3cret")
    assert load_key(load_config(plain)) == b"s3cret"


def test_the_key_file_keeps_its_old_meaning(tmp_path, monkeypatch):
    """A key file's outer whitespace is ignored, as before: pseudonyms made earlier still match."""
    monkeypatch.delenv(ENV_KEY, raising=False)
    study = _study_with(tmp_path, 'pseudonym_key_file = "k"\n')
    (study / "k").write_text("  a-study-secret\n", encoding="utf-8")
    assert load_key(load_config(study)) == b"a-study-secret"


def test_clean_with_an_empty_key_file_exits_with_one_line(tmp_path):
    study = tmp_path / "study"
    shutil.copytree(SAMPLE, study)
    (study / "empty.key").write_text("", encoding="utf-8")
    toml = (study / "study.toml").read_text(encoding="utf-8")
    (study / "study.toml").write_text(
        toml.replace("[study]\n", '[study]\npseudonym_key_file = "empty.key"\n'), "utf-8"
    )
    env = {k: v for k, v in os.environ.items() if k != ENV_KEY}
    env["PYTHONPATH"] = str(ROOT)
    r = subprocess.run(
        [sys.executable, "-m", "mentorlib", "clean", str(study), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "empty.key" in lines[0] and "empty" in lines[0]
    assert "Traceback" not in r.stderr and not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------- the scrubber


def test_scrubber_finds_ids_in_every_shape():
    sid = "G440106201504012088"
    sc = Scrubber(b"k", [sid], ["范桂", "欧阳娜娜"])
    p = pseudonym(sid, b"k")
    full = "".join(chr(ord(c) + 0xFEE0) for c in sid)  # Ｇ４４０…, as a phone keyboard types it
    assert sc.text(f"学号{sid}。") == f"学号{p}。"
    assert sc.text(full) == p
    assert sc.text("440106 2015 0401 2088") == p  # no G, spaces
    assert sc.text("440106201504012088.0") == p
    assert sc.text("见4.40106E+17号") == "见〔学籍号〕号"
    assert sc.text("G110105201457160270") == "〔学籍号〕"  # a typo: no roster student
    assert sc.text("电话13812345678") == "电话〔电话〕"  # 11 digits: not an ID, a phone
    assert sc.text(4.40106201504012e17) == "〔学籍号〕"
    assert sc.text(85.0) == 85.0
    assert sc.text("范贵→范桂，和欧阳娜娜一起") == "范贵→〔姓名〕，和〔姓名〕一起"
    assert sc.text("来自112.96.207.225(广东-广州)，2001:db8::8a2e:370:7334") == "来自〔IP〕，〔IP〕"
    assert sc.text("09:39:33 2024.09.01") == "09:39:33 2024.09.01"
    sc.add_names(["范贵", "(跳过)", "-2", None])
    assert sc.text("(跳过)") == "(跳过)"
    assert sc.text("范贵→范桂") == "〔姓名〕→〔姓名〕"
    assert sc.cell("G440106201504012088", "student_id") == p
    assert sc.cell("G4401", "student_id") == "〔学籍号〕"
    assert sc.cell("任何人", "name") == "〔姓名〕"
    assert sc.cell(42691, "birth_date") == sc.cell("2016年11月17日", "birth_date") == "2016-11"
    assert sc.cell("不详", "birth_date") == "〔已删除〕"
    assert sc.text("440106-2015-0401-2088") == p
    assert sc.text("20240901093933") == "20240901093933"  # a 14-digit timestamp stays
    # a given name alone is a name in what a person typed, not in what the cleaner wrote
    assert sc.free_text("我和娜娜是同桌") == sc.cell("我和娜娜是同桌") == "我和〔姓名〕是同桌"
    assert sc.text("我和娜娜是同桌") == sc.cell("我和娜娜是同桌", "text") == "我和娜娜是同桌"


def test_header_kinds():
    assert header_kind("来自IP") == header_kind("IP属地") == header_kind("地理位置省") == "drop"
    assert header_kind("微信昵称") == "drop" and header_kind("出生日期") == "birth_date"
    assert header_kind("1、你的姓名") == "name" and header_kind("2、你的学籍号") == "student_id"
    assert header_kind("8、你最想对导师说的话") is None and header_kind(None) is None


# ----------------------------------------------------------------------------- downstream


@pytest.mark.slow
def test_progress_and_report_run_on_a_pseudonymised_folder(tmp_path, monkeypatch):
    study = _with_key(SAMPLE, tmp_path, "file")
    monkeypatch.delenv(ENV_KEY, raising=False)
    out = tmp_path / "processed" / "sample"
    clean_study(study, out)
    env = {k: v for k, v in os.environ.items() if k != ENV_KEY}
    env["PYTHONPATH"] = str(ROOT)

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "mentorlib", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=600,
        )

    p = run("progress", str(out), "--year", "2024", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)
    reports = tmp_path / "reports"
    r = run("report", str(out), "--year", "2024", "--format", "md", "--out", str(reports))
    assert r.returncode == 0, r.stderr
    md = list(reports.rglob("年度总结_2024学年*.md"))
    assert len(md) == 1
    text = md[0].read_text(encoding="utf-8")
    assert "2024" in text
    needles = _needles(study)
    assert [s for s in needles if s in text] == []


@pytest.mark.slow
def test_a_middle_school_study_leaks_nothing_either(tmp_path, monkeypatch):
    """Middle school: 腾讯问卷 exports, and mentor preferences written as names (张伟（数学）)."""
    from mentorlib.synth import SynthParams, generate, write_study

    monkeypatch.delenv(ENV_KEY, raising=False)
    synth = generate(SynthParams(level="middle", n_students=240, n_years=2, seed=5))
    study = write_study(synth, tmp_path / "study", workers=1)
    toml = (study / "study.toml").read_text(encoding="utf-8")
    (study / "study.toml").write_text(
        toml.replace("[study]\n", f'[study]\npseudonym_key = "{KEY}"\n'), "utf-8"
    )
    out = tmp_path / "out"
    res = clean_study(study, out)
    assert res.meta["level"] == "middle" and res.meta["pseudonymised"]
    needles = _needles(study)
    assert len(needles) > 500 and _leaks(out, needles) == []
    assert _leaks(out, _birth_dates(study)) == []
    needs = res.tables["needs"]
    staff = set(res.tables["staff"]["staff_id"])
    assert needs["pref_1"].notna().mean() > 0.5 and set(needs["pref_1"].dropna()) <= staff


def test_pseudonymise_outputs_scrubs_every_frame_by_hand():
    """Each frame a cleaning writes, made by hand: validation failures included (the sample has
    none), a quarantined roster row with an exact birth date, a raw IP column no codebook knows."""
    from mentorlib.clean.pseudonymise import pseudonymise_outputs

    sid, other = "G440106201504012088", "G110105201709055222"
    key = b"k"
    p = pseudonym(sid, key)
    tables = {
        "students": pd.DataFrame(
            {
                "student_id": [sid, other],
                "name": ["范桂", "欧阳娜娜"],
                "birth_date": pd.to_datetime(["2015-04-01", "2017-09-05"]),
            }
        ),
        "staff": pd.DataFrame({"staff_id": ["20001"], "name": ["程馨"]}),
        "rewards": pd.DataFrame(
            {"student_id": [sid], "reason": pd.Categorical(["帮助欧阳娜娜和娜娜"])}
        ),
    }
    log = pd.DataFrame(
        {
            "source": pd.Categorical(["a.csv", "a.csv", "r.xlsx"]),
            "sheet": pd.Categorical([None, None, "一年级"]),
            "row": [2, 3, 4],
            "column": pd.Categorical(["学生姓名", "学籍号", "出生日期"]),
            "old": ["范贵", "4.40106E+17", "42108"],
            "new": ["范桂", sid, "2015-04-14"],
            "rule": ["name_differs_from_roster", "id_sci_recovered", "excel_serial"],
        }
    )
    raw = {"学籍号": "G4401", "姓名": "王小二", "出生日期": "2015年4月14日", "IP地址": "1.2.3.4"}
    quarantine = pd.DataFrame(
        {
            "source": ["r.xlsx"],
            "sheet": ["一年级"],
            "row": [9],
            "kind": ["students"],
            "reason": ["invalid_roster_id"],
            "detail": ["学籍号 'G4401' is invalid; 王小二"],
            "raw": [json.dumps(raw, ensure_ascii=False)],
        }
    )
    row_status = pd.DataFrame(
        {
            "sheet": pd.Categorical(["一年级", "一年级"]),
            "detail": pd.array([None, f"2 students match name: {sid}, {other}"], dtype="str"),
            "merged_into": pd.array([None, None], dtype="str"),
            "student_id": pd.array([sid, None], dtype="str"),
        }
    )
    validation = pd.DataFrame(
        {"table": ["students"], "column": ["student_id"], "failure_case": [f"{other}x"]}
    )
    summary = pd.DataFrame({"source": ["r.xlsx"], "sheet": ["一年级"], "rows_in": [30]})
    kinds = {("a.csv", "学生姓名"): "name", ("a.csv", "学籍号"): "student_id"}
    kinds[("r.xlsx", "出生日期")] = "birth_date"
    done = pseudonymise_outputs(
        tables,
        log=log,
        row_status=row_status,
        quarantine=quarantine,
        summary=summary,
        validation=validation,
        key=key,
        column_kinds=kinds,
    )
    assert list(tables["students"].columns) == ["student_id", "birth_date"]
    assert list(tables["students"]["student_id"]) == [p, pseudonym(other, key)]
    assert list(tables["students"]["birth_date"].dt.strftime("%Y-%m-%d")) == [
        "2015-04-01",
        "2017-09-01",
    ]
    assert list(tables["staff"].columns) == ["staff_id"]
    assert list(tables["rewards"]["reason"]) == ["帮助〔姓名〕和〔姓名〕"]
    lg = done["log"]
    assert list(lg["old"]) == ["〔姓名〕", "〔学籍号〕", "2015-04"]
    assert list(lg["new"]) == ["〔姓名〕", p, "2015-04"]
    q = done["quarantine"]
    assert json.loads(q.at[0, "raw"]) == {
        "学籍号": "〔学籍号〕",
        "姓名": "〔姓名〕",
        "出生日期": "2015-04",
        "IP地址": "〔已删除〕",
    }
    assert q.at[0, "detail"] == "学籍号 '〔学籍号〕' is invalid; 〔姓名〕"
    rs = done["row_status"]
    assert list(rs["student_id"].fillna("-")) == [p, "-"]
    assert rs.at[1, "detail"] == f"2 students match name: {p}, {pseudonym(other, key)}"
    assert done["validation"].at[0, "failure_case"] == "〔学籍号〕"
    assert list(done["summary"]["sheet"]) == ["一年级"]


def test_source_paths_phones_and_study_text_are_scrubbed_by_hand():
    """Red team (issue 11, item 3): a roster name in a source FILE NAME reached every frame's
    ``source`` column; a phone number typed in a 调整原因 reached the log; ``[study] school``
    reached study.json verbatim. The scrubbed path is the same string in every frame, so the
    frames still join on it."""
    from mentorlib.clean.pseudonymise import pseudonymise_outputs

    sid = "G440106201504012088"
    key = b"k"
    path = "surveys/成长需求问卷_2023学年_邓沐妈妈转发.xlsx"
    masked = "surveys/成长需求问卷_2023学年_〔姓名〕妈妈转发.xlsx"
    tables = {
        "students": pd.DataFrame({"student_id": [sid, "G440106201505023333"]}),
        "staff": pd.DataFrame({"staff_id": ["20001"], "name": ["胡嘉华"]}),
        "groups": pd.DataFrame(
            {"student_id": [sid], "reason": ["家长要求更换，电话139-0000-1111，办公室020-87654321"]}
        ),
    }
    tables["students"]["name"] = ["邓沐", "杨婷紫"]
    src = pd.Categorical([path, "groups/g.csv"])
    log = pd.DataFrame(
        {
            "source": src,
            "sheet": pd.Categorical(["Sheet1", None]),
            "row": [2, 3],
            "column": pd.Categorical(["3、你的年级", "调整原因"]),
            "old": ["一 年级", "家长（杨婷紫妈妈）要求更换，电话13900001111"],
            "new": ["一年级", "家长(杨婷紫妈妈)要求更换,电话13900001111"],
            "rule": ["whitespace", "nfkc"],
        }
    )
    quarantine = pd.DataFrame(
        {
            "source": [path],
            "sheet": ["Sheet1"],
            "row": [9],
            "kind": ["needs"],
            "reason": ["unknown_student"],
            "detail": ["no such student"],
            "raw": [json.dumps({"8、想说的话": "打我电话 +86 139 0000 1111"}, ensure_ascii=False)],
        }
    )
    row_status = pd.DataFrame(
        {
            "source": pd.Categorical([path, path, "groups/g.csv"]),
            "sheet": pd.Categorical(["Sheet1"] * 3),
            "detail": pd.array([None] * 3, dtype="str"),
            "merged_into": pd.array([None] * 3, dtype="str"),
            "student_id": pd.array([sid, None, sid], dtype="str"),
        }
    )
    summary = pd.DataFrame({"source": [path, "groups/g.csv"], "sheet": ["Sheet1", None]})
    done = pseudonymise_outputs(
        tables,
        log=log,
        row_status=row_status,
        quarantine=quarantine,
        summary=summary,
        validation=pd.DataFrame(),
        key=key,
        column_kinds={(path, "3、你的年级"): None},
        study_text={"school": f"示范小学 联系人胡嘉华 {sid} 电话13900001111"},
    )
    for f in ("log", "row_status", "quarantine", "summary"):
        assert set(done[f]["source"].astype(str)) <= {masked, "groups/g.csv"}, f
        assert masked in set(done[f]["source"].astype(str)), f
    assert list(done["row_status"]["source"]) == [masked, masked, "groups/g.csv"]
    # still joins: the quarantined row's source is a row-status source and a summary source
    assert set(done["quarantine"]["source"]) <= set(done["summary"]["source"])
    assert list(done["log"]["old"]) == ["一 年级", "家长（〔姓名〕妈妈）要求更换，电话〔电话〕"]
    assert list(done["log"]["new"]) == ["一年级", "家长(〔姓名〕妈妈)要求更换,电话〔电话〕"]
    assert json.loads(done["quarantine"].at[0, "raw"]) == {"8、想说的话": "打我电话 〔电话〕"}
    assert list(tables["groups"]["reason"]) == ["家长要求更换，电话〔电话〕，办公室〔电话〕"]
    assert done["study_text"] == {
        "school": f"示范小学 联系人〔姓名〕 {pseudonym(sid, key)} 电话〔电话〕"
    }


@pytest.mark.parametrize(
    ("text", "out"),
    [
        ("电话13900001111", "电话〔电话〕"),
        ("139-0000-1111 / 139 0000 1111", "〔电话〕 / 〔电话〕"),
        ("+86 13900001111, +86-139-0000-1111, 8613900001111", "〔电话〕, 〔电话〕, 〔电话〕"),
        ("座机010-12345678或075512345678、（020）87654321", "座机〔电话〕或〔电话〕、〔电话〕"),
        # not phone numbers: dates, timestamps, 学籍号 (its pseudonym), decimals, serials
        ("20240901，2024-09-01，2024/09/01 08:00:00", "20240901，2024-09-01，2024/09/01 08:00:00"),
        ("1725148800000，12345678901，0001234567", "1725148800000，12345678901，0001234567"),
        (
            "0.13900001111，2023-2024学年，第13900001111.5",
            "0.13900001111，2023-2024学年，第13900001111.5",
        ),
    ],
)
def test_phone_numbers_are_masked_and_nothing_else(text, out):
    sc = Scrubber(b"k", ["G440106201805036884"])
    assert sc.text(text) == out
    p = pseudonym("G440106201805036884", b"k")
    assert sc.text("G440106201805036884，13900001111") == f"{p}，〔电话〕"
    assert sc.text(p) == p  # a pseudonym is never read as a phone number
    assert sc.cell(13900001111) == "〔电话〕" and sc.cell(20240901) == 20240901
