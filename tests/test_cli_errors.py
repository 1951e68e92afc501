"""How the command line fails: a user's error is one plain line naming file, row and column
(exit 2); a bug is one "please report" line (exit 70) or, with --debug, the traceback; Ctrl-C
exits 130 (issue 11, item 9; issue 12)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from mentorlib import cli
from mentorlib.cli import main
from mentorlib.errors import ImpossibleNumberError, InfeasibleError, InputError

from conftest import SAMPLE

ROOT = Path(__file__).resolve().parents[1]

GOOD = """[study]
name = "x"
level = "primary"
years = [2023]

[[sources]]
kind = "students"
path = "roster.csv"
year = 2023
"""
ROSTER_HEAD = "序号,学籍号,姓名,性别,出生日期,班级,是否转入生,家庭结构,是否留守儿童,家庭住址片区,身高(cm),体重(kg)\n"
ROSTER_ROWS = [
    "1,G44010620161218723X,潘阳,男,2016-12-18,一年级1班,否,双亲,否,西城片区,129.7,30.9\n",
    "2,G330106201611174802,余欣妍,女,2016-11-17,一年级1班,是,双亲,否,城郊村,115.1,21.8\n",
    "3,G440106201702067856,李天,男,2017-02-06,一年级2班,否,双亲,否,北湖片区,121.8,19.7\n",
]


def run(argv, capsys) -> tuple[int, list[str]]:
    rc = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return rc, [ln for ln in err.splitlines() if ln.strip()]


def study(tmp_path, toml=GOOD, roster: bytes | None = None) -> Path:
    d = tmp_path / "study"
    d.mkdir(exist_ok=True)
    (d / "study.toml").write_text(toml, encoding="utf-8")
    (d / "roster.csv").write_bytes(
        roster if roster is not None else (ROSTER_HEAD + "".join(ROSTER_ROWS)).encode("utf-8")
    )
    return d


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        (GOOD + "encoding = 5\n", "[[sources]] #1: encoding = 5 is not valid"),
        (GOOD.replace("[[sources]]", "[sources]"), "[sources] is written as one table"),
        (GOOD.replace('name = "x"', "name = 5"), "[study] name must be text in quotes, got 5"),
        (GOOD.replace("years = [2023]", 'years = ["2023"]'), "got ['2023']"),
        (GOOD.replace('name = "x"', 'name = "x\\u0008"'), "study.name = 'x\\x08' holds a control"),
        (GOOD.replace('name = "x"', 'name = "../../x"'), "cannot be used as a folder name"),
        (GOOD.replace('"roster.csv"', '"../roster.csv"'), "leads outside the study folder"),
        (
            GOOD + GOOD[GOOD.index("[[sources]]") :],
            "[[sources]] #1 and #2 both read 'roster.csv'",
        ),
    ],
)
def test_clean_config_errors_are_one_plain_line(tmp_path, capsys, toml, needle):
    rc, lines = run(["clean", study(tmp_path, toml), "--out", tmp_path / "out"], capsys)
    assert rc == 2 and len(lines) == 1
    assert needle in lines[0] and "study.toml" in lines[0]
    assert lines[0].startswith("mentorlib clean: error: ")


def test_csv_mixing_utf8_and_gbk_names_the_lines(tmp_path, capsys):
    utf8 = (ROSTER_HEAD + ROSTER_ROWS[0]).encode("utf-8")
    gbk = "".join(ROSTER_ROWS[1:]).encode("gbk")
    rc, lines = run(["clean", study(tmp_path, roster=utf8 + gbk), "--out", tmp_path / "o"], capsys)
    assert rc == 2 and len(lines) == 1
    assert "roster.csv" in lines[0]  # the study stops: no roster could be read
    assert "mixes two encodings: line 1 is UTF-8 but line 3 is not (GBK?)" in lines[0]


def test_csv_mixing_gbk_then_utf8_names_the_lines(tmp_path, capsys):
    gbk = (ROSTER_HEAD + ROSTER_ROWS[0]).encode("gbk")
    utf8 = "".join(ROSTER_ROWS[1:]).encode("utf-8")
    rc, lines = run(["clean", study(tmp_path, roster=gbk + utf8), "--out", tmp_path / "o"], capsys)
    assert rc == 2 and len(lines) == 1
    assert "mixes two encodings: line 3 is UTF-8 but line 1 is not" in lines[0]


def test_declared_encoding_that_fails_names_the_line(tmp_path, capsys):
    raw = (ROSTER_HEAD + ROSTER_ROWS[0]).encode("utf-8") + ROSTER_ROWS[1].encode("gbk")
    toml = GOOD + 'encoding = "utf-8"\n'
    rc, lines = run(["clean", study(tmp_path, toml, raw), "--out", tmp_path / "o"], capsys)
    assert rc == 2 and len(lines) == 1
    assert "does not decode as utf-8 (as study.toml says): line 3 is the first" in lines[0]


def test_a_plain_gbk_csv_still_reads(tmp_path, capsys):
    raw = (ROSTER_HEAD + "".join(ROSTER_ROWS)).encode("gbk")
    rc, _ = run(["clean", study(tmp_path, roster=raw), "--out", tmp_path / "o", "--json"], capsys)
    assert rc == 0
    s = pd.read_parquet(tmp_path / "o" / "students.parquet")
    assert sorted(s["name"]) == sorted(["潘阳", "余欣妍", "李天"])


def test_out_dot_is_one_line_and_touches_nothing(tmp_path, capsys, monkeypatch):
    d = study(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    (work / "thesis.docx").write_bytes(b"years of work")
    monkeypatch.chdir(work)
    for out in (".", "./", "..", "sub/.."):
        rc, lines = run(["clean", d, "--out", out], capsys)
        assert rc == 2 and len(lines) == 1 and "--out" in lines[0]
    assert sorted(p.name for p in work.iterdir()) == ["thesis.docx"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study", "work"]


@pytest.mark.parametrize("command", ["progress", "report", "review"])
@pytest.mark.parametrize("value", ["0", "-1", "100000"])
def test_extreme_min_cell_is_one_line(tmp_path, capsys, command, value):
    rc, lines = run([command, tmp_path, f"--min-cell={value}"], capsys)
    assert rc == 2 and len(lines) == 1
    assert f"--min-cell {value} is out of range: give a whole number from 2 to 100" in lines[0]


def test_groups_compare_with_a_student_without_a_mentor(tmp_path, capsys):
    from mentorlib.clean import clean_study

    out = tmp_path / "proc"
    clean_study(SAMPLE, out)
    a = pd.read_parquet(out / "assignments.parquet")
    sid = a.loc[a["year"] == 2025, "student_id"].iloc[0]
    a = a[~((a["student_id"] == sid) & (a["year"] == 2025))]
    a.to_parquet(out / "assignments.parquet", index=False)
    rc = main(["groups", str(out), "--compare", "recorded,optimal", "--draws", "2", "--json"])
    captured = capsys.readouterr()
    assert rc == 0 and "Traceback" not in captured.err and "error" not in captured.err
    out = json.loads(captured.out)
    policies = {r["policy"] for r in out["outcomes"]}
    # the recorded grouping cannot run without every student's mentor: said, never dropped silently
    if "recorded" not in policies:
        assert any(n.startswith("recorded skipped") and "mentor" in n for n in out["notes"])
        assert "note: recorded skipped" in captured.err
    assert "optimal" in policies


def _catches_sigint(pid: int) -> bool:
    """Whether the process has installed its own SIGINT handler (Linux: SigCgt in /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    return False


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("delay", [0.0, 0.2, 1.0])
def test_ctrl_c_during_start_up_exits_130_quietly(tmp_path, delay):
    """Started with SIGINT ignored (a background job of a script), as CI starts us: from the moment
    ``python -m mentorlib`` takes over the signal, Ctrl-C while the libraries load or while the
    command runs exits 130 with one line. Timed from that moment, not from the launch, so a loaded
    machine (the interpreter itself can take 0.2 s to start) does not change what is tested."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.Popen(
        [sys.executable, "-m", "mentorlib", "clean", str(SAMPLE), "--out", str(tmp_path / "o")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    deadline = time.monotonic() + 60
    while not _catches_sigint(p.pid):
        assert p.poll() is None and time.monotonic() < deadline, "never took over SIGINT"
        time.sleep(0.002)
    time.sleep(delay)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    # 130 from mentorlib, or ended by SIGINT itself (Python re-raises an interrupt that lands as
    # the interpreter exits): a shell shows both as exit status 130
    assert p.returncode in (130, -signal.SIGINT), err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip() and "cleaning" not in ln]
    assert lines == ["mentorlib: interrupted"]
    assert not (tmp_path / "o").exists()


# ----------------------------------------------------------------------------- user error or bug


def _raiser(exc: BaseException):
    def cmd(args):
        raise exc

    return cmd


def _fail_with(monkeypatch, capsys, exc, argv) -> tuple[int, list[str]]:
    monkeypatch.setattr(cli, "cmd_progress", _raiser(exc))
    rc = main([str(a) for a in argv])
    err = capsys.readouterr().err
    return rc, [ln for ln in err.splitlines() if ln.strip()]


@pytest.mark.parametrize(
    "exc",
    [
        KeyError("year"),
        AttributeError("'NoneType' object has no attribute 'rules'"),
        ValueError("operands could not be broadcast together"),  # a bare ValueError is a bug
        ImpossibleNumberError("a share of 120.0% is outside [0, 100%]"),
        TypeError("unsupported operand type(s) for +: 'int' and 'str'"),
    ],
)
def test_a_bug_is_one_please_report_line_and_exit_70(monkeypatch, capsys, exc):
    rc, lines = _fail_with(monkeypatch, capsys, exc, ["progress", "x"])
    assert rc == cli.EXIT_INTERNAL_ERROR == 70
    assert lines == [cli.internal_error_line(exc)]
    name = type(exc).__name__
    assert lines[0].startswith(f"mentorlib: internal error ({name}: ")
    assert lines[0].endswith(
        "please report it with the command you ran — rerun with --debug for the full traceback"
    )


def test_the_internal_error_line_quotes_the_exception():
    assert cli.internal_error_line(KeyError("year")) == (
        "mentorlib: internal error (KeyError: 'year'); please report it with the command you "
        "ran — rerun with --debug for the full traceback"
    )
    assert "(RuntimeError);" in cli.internal_error_line(RuntimeError())
    long = cli.internal_error_line(ValueError("x\n" * 500))
    assert "\n" not in long and len(long) < 350


@pytest.mark.parametrize(
    "argv", [["--debug", "progress", "x"], ["progress", "x", "--debug"]], ids=["before", "after"]
)
def test_debug_shows_the_full_traceback_of_a_bug(monkeypatch, capsys, argv):
    rc, lines = _fail_with(monkeypatch, capsys, KeyError("year"), argv)
    assert rc == 70
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[-1] == "KeyError: 'year'"
    assert any("in cmd" in ln for ln in lines)  # the frame that raised it
    assert not any("internal error" in ln for ln in lines)


@pytest.mark.parametrize(
    "exc",
    [
        InputError("no column 学籍号", file="roster.csv", row=3),
        InfeasibleError("group_max: the school has 3 students and 1 mentor"),
        FileNotFoundError(2, "No such file or directory", "data/raw/x/study.toml"),
        PermissionError(13, "Permission denied", "reports/x"),
    ],
)
def test_a_user_error_is_one_line_and_exit_2(monkeypatch, capsys, exc):
    rc, lines = _fail_with(monkeypatch, capsys, exc, ["progress", "x"])
    assert rc == cli.EXIT_USER_ERROR == 2
    assert lines == [f"mentorlib progress: error: {exc}"]
    rc, lines = _fail_with(monkeypatch, capsys, exc, ["--debug", "progress", "x"])
    assert rc == 2 and lines[0].startswith("Traceback") and type(exc).__name__ in lines[-1]


def test_no_error_leaves_the_cli_as_an_exception(monkeypatch, capsys):
    """main() returns a code for anything a command raises (argparse's own exits aside)."""
    rc, _ = _fail_with(
        monkeypatch, capsys, ZeroDivisionError("division by zero"), ["progress", "x"]
    )
    assert rc == 70
    with pytest.raises(SystemExit) as e:  # a usage error: argparse's exit 2, its own message
        main(["progress"])
    assert e.value.code == 2


def test_a_missing_study_folder_is_a_user_error(tmp_path, capsys):
    rc, lines = run(["progress", tmp_path / "nowhere"], capsys)
    assert rc == 2 and len(lines) == 1
    assert lines[0].startswith("mentorlib progress: error: ") and "study.toml" in lines[0]


def test_synth_refuses_too_few_students_in_one_line(tmp_path, capsys):
    rc, lines = run(["synth", tmp_path / "s", "--students", "3"], capsys)
    assert rc == 2 and len(lines) == 1
    assert "--students 3" in lines[0] and not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    ("option", "needle"),
    [(["--lang", "zh,fr"], "lang must be 'zh'"), (["--format", "pdf"], "unknown format")],
)
@pytest.mark.parametrize("command", ["report", "review"])
def test_report_options_are_checked_before_the_study_is_read(
    tmp_path, capsys, command, option, needle
):
    rc, lines = run([command, tmp_path / "not_a_study", *option], capsys)
    assert rc == 2 and len(lines) == 1 and needle in lines[0]
