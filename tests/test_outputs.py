"""Safe outputs (issue 11, items 1, 2 and 5): nothing replaced that we did not write, atomic
files, no spill left behind by a kill, no formula or Markdown injection from the data."""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

import mentorlib
from mentorlib import cli, outputs, report
from mentorlib.clean import clean_study, write_processed
from mentorlib.errors import InputError
from mentorlib.report.render.md import md_text

from conftest import SAMPLE

ROOT = Path(mentorlib.__file__).resolve().parents[1]  # the code under test, for subprocesses
EVIL = ["=cmd|' /C calc'!A0", "+1+1", "@SUM(1)", "-2+3", "\t=1", "\r=2"]


def _snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` (hidden ones too) with the hash of its bytes."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _run(*args, cwd=None, env=None):
    e = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "mentorlib", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=e,
    )


@pytest.fixture
def world(tmp_path):
    """A raw study, an unrelated folder with a thesis in it and a lone file, side by side."""
    shutil.copytree(SAMPLE, tmp_path / "study")
    (tmp_path / "thesis").mkdir()
    (tmp_path / "thesis" / "thesis.docx").write_bytes(b"PK\x03\x04 four years of work")
    (tmp_path / "notes.txt").write_text("do not lose me", encoding="utf-8")
    return tmp_path


@pytest.fixture(scope="module")
def cleaned():
    """The sample study cleaned in memory (no output folder)."""
    return clean_study(SAMPLE)


# ----------------------------------------------------------------------------- item 1: refusals


@pytest.mark.parametrize(
    "out, cwd",
    [
        ("study", None),  # the raw study folder itself
        (".", None),  # its parent
        ("thesis", None),  # an unrelated folder holding a thesis
        ("notes.txt", None),  # an existing file
        ("study/records", None),  # a folder inside the raw study
        (".", "thesis"),  # --out . (the current folder)
    ],
)
def test_clean_out_refuses_what_it_did_not_write(world, out, cwd):
    before = _snapshot(world)
    target = out if cwd else str(world / out)
    r = _run("clean", str(world / "study"), "--out", target, cwd=world / cwd if cwd else world)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().count("\n") == 0 and "refusing to write there" in r.stderr
    assert "Traceback" not in r.stderr
    assert _snapshot(world) == before  # every file intact, nothing added


def test_library_refuses_too(world, cleaned):
    before = _snapshot(world)
    for target in (world / "study", world, world / "thesis", world / "notes.txt"):
        with pytest.raises(InputError, match="refusing to write there"):
            write_processed(cleaned, target)
        with pytest.raises(InputError, match="refusing to write there"):
            _tiny_report().write(target)
    assert _snapshot(world) == before


def test_rerun_replaces_only_our_own_output(tmp_path, cleaned):
    out = tmp_path / "processed" / "sample"
    write_processed(cleaned, out)
    meta = json.loads((out / "study.json").read_text(encoding="utf-8"))
    assert meta["format"] == outputs.PROCESSED_FORMAT
    assert set(meta["files"]) == {p.name for p in out.iterdir()}
    first = _snapshot(out)
    (out / "students.parquet").write_bytes(b"damaged")  # ours: replaced on the next run
    write_processed(cleaned, out)
    assert _snapshot(out) == first
    assert [p.name for p in out.parent.iterdir()] == ["sample"]  # no temporary left beside
    # a file of the user's dropped into our output: the folder is no longer only ours
    (out / "my_notes.docx").write_bytes(b"mine")
    with pytest.raises(InputError, match="not a mentorlib processed output"):
        write_processed(cleaned, out)
    assert (out / "my_notes.docx").read_bytes() == b"mine"
    # an empty existing folder is accepted (nothing can be lost)
    (tmp_path / "empty").mkdir()
    write_processed(cleaned, tmp_path / "empty")
    assert (tmp_path / "empty" / "study.json").is_file()


def test_legacy_processed_folder_without_the_tag_is_recognised(tmp_path, cleaned):
    out = write_processed(cleaned, tmp_path / "old")
    meta = json.loads((out / "study.json").read_text(encoding="utf-8"))
    del meta["format"], meta["files"]
    (out / "study.json").write_text(json.dumps(meta), encoding="utf-8")
    write_processed(cleaned, out)
    assert json.loads((out / "study.json").read_text())["format"] == outputs.PROCESSED_FORMAT


def test_synth_overwrite_replaces_only_a_synthetic_study(tmp_path, world):
    before = _snapshot(world)
    r = _run("synth", str(world / "thesis"), "--students", "120", "--years", "1", "--overwrite")
    assert r.returncode == 2 and "refusing to write there" in r.stderr
    assert r.stderr.strip().count("\n") == 0
    assert _snapshot(world) == before
    s = tmp_path / "s"
    assert _run("synth", str(s), "--students", "120", "--years", "1", "--seed", "1").returncode == 0
    first = (s / "study.toml").read_bytes()
    again = _run("synth", str(s), "--students", "120", "--years", "1", "--seed", "2", "--overwrite")
    assert again.returncode == 0, again.stderr
    assert (s / "study.toml").read_bytes() != first and b"--seed 2" in (
        s / "study.toml"
    ).read_bytes()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".mentorlib-tmp")]


def test_report_out_refuses_raw_and_foreign_folders(world):
    before = _snapshot(world)
    for target in (world / "study", world / "study" / "reports", world / "thesis"):
        r = _run("report", str(world / "study"), "--format", "md", "--out", str(target))
        assert r.returncode == 2 and "refusing to write there" in r.stderr, r.stderr
    assert _snapshot(world) == before


# ----------------------------------------------------------------------------- atomic files


class _FullDisk:
    """A file that takes half of what is written, then fails as a full disk does."""

    def __init__(self, f):
        self.f = f

    def write(self, data):
        self.f.write(data[: len(data) // 2])
        self.f.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def _tiny_report(school: str = "示范小学") -> report.Report:
    table = pd.DataFrame({"学校": [school, "b|c"], "人数": [12, 30]})
    return report.Report(
        kind="annual_summary",
        lang="en",
        public=True,
        years=(2024,),
        title=f"Annual summary of {school}",
        subtitle=school,
        front=[f"School: {school}"],
        sections=[
            report.Section(
                "summary",
                "Summary",
                [
                    report.Para(f"{school} took part."),
                    report.Para(f"Note on {school}", kind="note"),
                    report.Para(f"bullet {school}", kind="bullet"),
                    report.Heading(school),
                    report.Todo(f"judge {school}"),
                    report.Table(table, f"Schools like {school}", "t", note=f"note {school}"),
                ],
            )
        ],
    )


def test_report_failing_mid_write_leaves_no_file_under_the_final_name(tmp_path, monkeypatch):
    rep = _tiny_report()
    good = rep.write(tmp_path, formats=("docx", "html", "md"))
    before = {p.name: p.read_bytes() for p in good}
    real_open = io.open

    def full_disk_open(file, mode="r", *a, **k):
        f = real_open(file, mode, *a, **k)
        return _FullDisk(f) if ("w" in mode and isinstance(file, int | str | os.PathLike)) else f

    for fmt in ("docx", "html", "md"):
        monkeypatch.setattr(io, "open", full_disk_open)
        with pytest.raises(OSError, match="No space left"):
            rep.write(tmp_path, formats=(fmt,))
        monkeypatch.setattr(io, "open", real_open)
        # the previous file is intact under its name, and no partial file sits beside it
        assert {p.name: p.read_bytes() for p in good} == before
        assert not [p for p in tmp_path.rglob("*") if ".mentorlib-tmp" in p.name]
    fresh = tmp_path / "fresh"
    monkeypatch.setattr(io, "open", full_disk_open)
    with pytest.raises(OSError):
        rep.write(fresh, formats=("docx",))
    monkeypatch.setattr(io, "open", real_open)
    assert not (fresh / f"{rep.stem}.docx").exists()


# ----------------------------------------------------------------------------- item 2: spill


def _tmp_entries(*dirs: Path) -> list[Path]:
    return [
        p for d in dirs if d.is_dir() for p in d.iterdir() if p.name.startswith(".mentorlib-tmp")
    ]


def _wait_for(pattern: str, where: Path, proc, timeout=60.0) -> bool:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if list(where.glob(pattern)):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False


@pytest.mark.slow
@pytest.mark.parametrize(
    "sig, moment",
    [
        (signal.SIGTERM, "spill"),
        (signal.SIGINT, "spill"),
        (signal.SIGTERM, "spill+1.5s"),
        (signal.SIGINT, "processed"),
        (signal.SIGKILL, "spill"),
        (signal.SIGKILL, "processed"),
    ],
)
def test_killed_clean_leaves_no_spill_and_no_partial_output(tmp_path, sig, moment):
    study = tmp_path / "study"
    shutil.copytree(SAMPLE, study)
    parent = tmp_path / "processed"
    out = parent / "sample"
    systmp = tmp_path / "systmp"
    systmp.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(systmp)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mentorlib", "clean", str(study), "--out", str(out), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    what = "processed" if moment == "processed" else "spill"
    assert _wait_for(f".mentorlib-tmp-{proc.pid}-{what}-*", parent, proc), "no temp folder seen"
    if moment.endswith("1.5s"):
        time.sleep(1.5)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    if proc.returncode == 0:  # finished before the signal landed: a complete output
        assert json.loads((out / "study.json").read_text())["format"]
    else:
        assert not out.exists()  # never a partial folder under the final name
    assert "Traceback" not in proc.stderr.read().decode()
    if sig == signal.SIGKILL:
        assert _tmp_entries(parent)  # kill -9 runs no cleanup ...
        r = _run("clean", str(study), "--out", str(out), env={"TMPDIR": str(systmp)})
        assert r.returncode == 0, r.stderr  # ... the next run removes what it left
        assert json.loads((out / "study.json").read_text())["format"]
    else:
        assert proc.returncode in (0, 130, 128 + signal.SIGTERM)
    assert _tmp_entries(parent, systmp, tmp_path) == []
    assert _snapshot(study) == _snapshot(SAMPLE)  # the raw study untouched


def test_in_memory_cleaning_spills_to_the_temp_dir_and_removes_it(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seen = []
    real = outputs.make_temp_dir

    def spy(parent, purpose):
        d = real(parent, purpose)
        seen.append(d)
        return d

    monkeypatch.setattr("mentorlib.clean.pipeline.make_temp_dir", spy)
    clean_study(SAMPLE)
    assert len(seen) == 1 and seen[0].parent == tmp_path
    assert seen[0].name.startswith(f".mentorlib-tmp-{os.getpid()}-spill-")
    assert not seen[0].exists()


def test_sweep_removes_stale_temporaries_only(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = os.getppid()
    stale_dir = tmp_path / f".mentorlib-tmp-{dead.pid}-spill-abc"
    stale_dir.mkdir()
    (stale_dir / "assessment.00001.parquet").write_bytes(b"ids")
    stale_file = tmp_path / f".mentorlib-tmp-{dead.pid}-file-xyz"
    stale_file.write_bytes(b"half a docx")
    old_alive = tmp_path / f".mentorlib-tmp-{alive}-spill-old"
    old_alive.mkdir()
    t = time.time() - (outputs.STALE_HOURS + 1) * 3600
    os.utime(old_alive, (t, t))
    fresh_alive = tmp_path / f".mentorlib-tmp-{alive}-spill-new"
    fresh_alive.mkdir()
    mine = tmp_path / f".mentorlib-tmp-{os.getpid()}-spill-me"
    mine.mkdir()
    other = tmp_path / ".mentorlib-tmp-notapid"
    other.mkdir()
    removed = outputs.sweep_stale(tmp_path)
    assert sorted(removed) == sorted([stale_dir, stale_file, old_alive])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [fresh_alive.name, mine.name, other.name]
    )


def test_sigterm_becomes_an_exception_so_finally_runs(tmp_path):
    code = (
        "import os, signal, sys, time\n"
        "from mentorlib import cli\n"
        "def work(args):\n"
        "    try:\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "        time.sleep(5)\n"
        "    finally:\n"
        f"        open({str(tmp_path / 'cleaned')!r}, 'w').close()\n"
        "    return 0\n"
        "cli.cmd_demo = work\n"
        "sys.exit(cli.main(['demo']))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert r.returncode == 128 + signal.SIGTERM, r.stderr
    assert (tmp_path / "cleaned").exists()
    assert "terminated" in r.stderr and "Traceback" not in r.stderr


# ----------------------------------------------------------------------------- item 5: injection


def _read_csv_cells(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def test_neutralise_cells_prefixes_text_never_numbers():
    df = pd.DataFrame(
        {
            "name": pd.array([*EVIL, "王芳", None], dtype="string"),
            "obj": [*EVIL, "ok", None],
            "cat": pd.Categorical([*EVIL, "ok", "ok"]),
            "x": [-0.5, -3.0, 1.0, 2.0, 3.0, 4.0, -1.0, float("nan")],
            "n": pd.array([-3, 1, 2, 3, 4, 5, 6, None], dtype="Int64"),
        }
    )
    out = outputs.neutralise_cells(df)
    want = ["'" + e for e in EVIL]
    assert list(out["name"][:6]) == want and out["name"][6] == "王芳" and pd.isna(out["name"][7])
    assert list(out["obj"][:6]) == want and out["obj"][6] == "ok"
    assert list(out["cat"][:6].astype(str)) == want and out["cat"].dtype == "category"
    pd.testing.assert_series_equal(out["x"], df["x"])
    pd.testing.assert_series_equal(out["n"], df["n"])
    assert list(df["obj"][:6]) == EVIL  # the input is not modified
    assert outputs.neutralise("-3") == "'-3" and outputs.neutralise(-3) == -3


def test_every_csv_writer_neutralises(tmp_path, cleaned, monkeypatch):
    import mentorlib.effectiveness as E
    import mentorlib.grouping as G

    n = len(EVIL)
    # source_summary.csv of a processed folder
    res = cleaned
    summary = res.summary.copy()
    summary.loc[summary.index[:n], "source"] = EVIL
    res.summary = summary
    try:
        out = write_processed(res, tmp_path / "proc")
    finally:
        res.summary = cleaned.summary
    rows = _read_csv_cells(out / "source_summary.csv")
    col = rows[0].index("source")
    assert [r[col] for r in rows[1 : n + 1]] == ["'" + e for e in EVIL]
    # mentors --out and groups --out (the analyses replaced by tables holding the attack)
    monkeypatch.setattr(cli, "_study_and_year", lambda args, outcome=False: (None, 2024))
    effects = pd.DataFrame({"mentor": EVIL, "effect": [-0.5] * n, "n": [-3] * n})

    class Rep:
        def tables(self, public):
            return {"effects": effects}

        def summary(self, lang):
            return "ok"

    monkeypatch.setattr(E, "mentor_report", lambda P, year, seed, **kw: Rep())
    assign = pd.DataFrame({"student_id": EVIL, "mentor_id": ["@T1"] * n, "fit": [-1.25] * n})
    monkeypatch.setattr(
        G,
        "run_policy",
        lambda P, year, policy, seed, **kw: SimpleNamespace(
            assignment=assign, checks=pd.DataFrame(), relaxations=[]
        ),
    )
    monkeypatch.setattr(G, "hard_rules_met", lambda checks: True)
    assert cli.main(["mentors", "x", "--out", str(tmp_path / "m.csv")]) == 0
    assert cli.main(["groups", "x", "--out", str(tmp_path / "g.csv")]) == 0
    m = _read_csv_cells(tmp_path / "m_internal.csv")
    assert m[0] == ["mentor", "effect", "n"]
    assert [r[0] for r in m[1:]] == ["'" + e for e in EVIL]
    assert {r[1] for r in m[1:]} == {"-0.5"} and {r[2] for r in m[1:]} == {"-3"}  # numbers stay
    g = _read_csv_cells(tmp_path / "g.csv")
    assert [r[0] for r in g[1:]] == ["'" + e for e in EVIL] and {r[1] for r in g[1:]} == {"'@T1"}
    assert {r[2] for r in g[1:]} == {"-1.25"}
    # re-running replaces our own CSV; a file of someone else's is refused and left intact
    assert cli.main(["groups", "x", "--out", str(tmp_path / "g.csv")]) == 0
    (tmp_path / "budget.csv").write_text("year,amount\n2024,100\n", encoding="utf-8")
    assert cli.main(["groups", "x", "--out", str(tmp_path / "budget.csv")]) == 2
    assert (tmp_path / "budget.csv").read_text(encoding="utf-8") == "year,amount\n2024,100\n"
    assert cli.main(["groups", "x", "--out", str(tmp_path)]) == 2  # a folder


MD_ATTACK = "<script>alert(1)</script>[click](http://evil.example)![x](http://evil.example/a.png)"


def test_markdown_escapes_school_and_names():
    import mistune

    rep = _tiny_report(MD_ATTACK + " www.evil.example <img src=x onerror=alert(1)>")
    md = rep.to_markdown()
    raw = re.compile(r"(?<!\\)(<script|<img|\[click\]|!\[x\]|\]\(http://)")
    assert not raw.findall(md)  # every one of them escaped
    assert "| b\\|c |" in md  # a pipe in a cell stays inside its cell
    html_ = mistune.create_markdown(escape=False, plugins=["table", "url", "strikethrough"])(md)
    assert "<script" not in html_ and "<img" not in html_ and "href=" not in html_
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_  # shown as text
    # the table still has its two columns per row
    assert html_.count("<tr>") == 3 and html_.count("<td") == 4
    assert "<5" in md_text("<5") and md_text("p<0.05") == "p<0.05"


@pytest.mark.parametrize("school", ["<img src=x onerror=alert(1)>", '=HYPERLINK("http://evil")'])
def test_html_and_docx_show_data_as_text(school, tmp_path):
    import docx

    rep = _tiny_report(school)
    page = rep.to_html(embed_font=False)
    assert "<img src=x" not in page and "onerror=alert(1)>" not in page.replace("&gt;", "")
    assert school.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;") in page
    path = rep.write(tmp_path, formats=("docx",))[0]
    with zipfile.ZipFile(path) as z:
        body = z.read("word/document.xml").decode("utf-8")
    # the only field codes are the document's own (table of contents, page numbers): the
    # school's text never becomes a field instruction (a HYPERLINK or any other)
    instr = re.findall(r"<w:instrText[^>]*>([^<]*)</w:instrText>", body)
    assert all(i.split()[0] in {"TOC", "PAGE", "NUMPAGES"} for i in instr if i.strip())
    assert "HYPERLINK" not in "".join(instr) and "fldSimple" not in body and "<img" not in body
    texts = [p.text for p in docx.Document(path).paragraphs]
    assert f"{school} took part." in texts  # the exact text, as text
    cells = [c.text for t in docx.Document(path).tables for r in t.rows for c in r.cells]
    assert school in cells


def test_reports_folder_of_older_runs_is_recognised_others_refused(tmp_path):
    rep = _tiny_report()
    old = tmp_path / "reports_old"
    (old / "annual_summary_2024_figures").mkdir(parents=True)
    (old / "年度总结_2024学年.docx").write_bytes(b"old")
    (old / "annual_summary_2024_figures" / "fig01_kpi.png").write_bytes(b"png")
    (old / "progress_2024.json").write_text("{}")
    rep.write(old, formats=("md",))
    marker = json.loads((old / outputs.MARKER).read_text())
    assert marker == {"format": outputs.OUTPUT_FORMAT, "kind": "reports", "writer": "mentorlib"}
    assert (old / "年度总结_2024学年.docx").read_bytes() == b"old"  # not ours to remove
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "annual_summary_2024.docx").write_bytes(b"old")
    (mixed / "budget.xlsx").write_bytes(b"someone else's")
    with pytest.raises(InputError, match="not a mentorlib reports output"):
        rep.write(mixed, formats=("md",))
    assert sorted(p.name for p in mixed.iterdir()) == ["annual_summary_2024.docx", "budget.xlsx"]
    # a processed folder is not a reports folder
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "study.json").write_text(json.dumps({"format": outputs.PROCESSED_FORMAT}))
    with pytest.raises(InputError, match="not a mentorlib reports output"):
        rep.write(proc)


# ----------------------------------------------------------------------------- red team, item 1


def _user_files_in_a_synthetic_study(s: Path) -> None:
    (s / "研究笔记.docx").write_bytes(b"PK\x03\x04 notes")
    (s / "analysis").mkdir()
    (s / "analysis" / "a.R").write_text("x <- 1\n", encoding="utf-8")


def test_synth_overwrite_keeps_a_users_files_in_a_synthetic_study(tmp_path):
    s = tmp_path / "S"
    shutil.copytree(SAMPLE, s)
    assert outputs.foreign_in_synth(s) is None  # the committed sample is all the generator's
    _user_files_in_a_synthetic_study(s)
    before = _snapshot(tmp_path)
    r = _run("synth", str(s), "--students", "150", "--years", "1", "--overwrite")
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().count("\n") == 0 and "Traceback" not in r.stderr
    assert "refusing to write there" in r.stderr and "研究笔记.docx" in r.stderr
    assert _snapshot(tmp_path) == before  # nothing deleted, nothing added
    assert not outputs.is_ours(s, "synth")
    (s / "研究笔记.docx").unlink()
    assert outputs.foreign_in_synth(s) == "analysis/a.R"


@pytest.mark.parametrize(
    "foreign",
    [
        "truth/my_notes.txt",  # a file of the user's inside truth/
        "records/导师工作记录_2030学年.csv",  # named like ours, but study.toml does not list it
        "surveys/link",  # a symbolic link
    ],
)
def test_a_synthetic_study_is_ours_only_if_every_file_is_the_generators(tmp_path, foreign):
    s = tmp_path / "S"
    shutil.copytree(SAMPLE, s)
    if foreign.endswith("link"):
        (s / foreign).symlink_to(tmp_path)
    else:
        (s / foreign).write_text("mine", encoding="utf-8")
    assert outputs.foreign_in_synth(s) == foreign
    assert not outputs.is_ours(s, "synth")
    before = _snapshot(tmp_path)
    from mentorlib.synth import synth

    with pytest.raises(InputError, match="refusing to write there") as e:
        synth(s, students=100, years=1, seed=1, overwrite=True)  # what `demo` calls
    assert foreign in str(e.value) and "\n" not in str(e.value)
    assert _snapshot(tmp_path) == before


def _district_output(out: Path, *, listed: bool = True) -> None:
    """A district output as a run writes it, by hand: the marker, a school's file, a summary
    csv and district.json listing them all (``listed=False``: before the list existed)."""
    (out / "schools" / "s1").mkdir(parents=True)
    (out / "schools" / "s1" / "students.parquet").write_bytes(b"PAR1")
    school = {"format": outputs.PROCESSED_FORMAT, "files": ["students.parquet", "study.json"]}
    (out / "schools" / "s1" / "study.json").write_text(json.dumps(school), encoding="utf-8")
    (out / "district_schools.csv").write_text("school_id\ns1\n", encoding="utf-8")
    outputs.mark_output_dir(out, "district")
    meta: dict = {"format": "mentorlib-district/1", "name": "d"}
    if listed:
        meta["files"] = sorted(
            ["district.json", outputs.MARKER, "district_schools.csv"]
            + ["schools/s1/students.parquet", "schools/s1/study.json"]
        )
    (out / "district.json").write_text(json.dumps(meta), encoding="utf-8")


def test_a_district_output_is_ours_only_as_its_manifest_says(tmp_path):
    """The marker alone (copied into a folder of the user's) does not make a district output:
    its district.json must be there and list every file, so the run never replaces the
    folder (it writes only where it created its output)."""
    ours = tmp_path / "ours"
    _district_output(ours)
    assert outputs.is_ours(ours, "district")
    assert outputs.check_output_dir(ours, kind="district") == ours.resolve()
    legacy = tmp_path / "legacy"
    _district_output(legacy, listed=False)  # before the files list: judged by its names later
    assert outputs.is_ours(legacy, "district")
    (legacy / "notes.txt").write_text("mine", encoding="utf-8")
    assert not outputs.is_ours(legacy, "district")

    copied = tmp_path / "mine"
    copied.mkdir()
    (copied / "thesis.docx").write_bytes(b"x")
    shutil.copy(ours / outputs.MARKER, copied / outputs.MARKER)
    assert not outputs.is_ours(copied, "district")
    with pytest.raises(InputError, match=r"did not write \(thesis\.docx\)"):
        outputs.check_output_dir(copied, kind="district")

    (ours / "reports").mkdir()
    (ours / "reports" / "我的修改.docx").write_bytes(b"edited")  # a user's file, not listed
    assert not outputs.is_ours(ours, "district")
    with pytest.raises(InputError, match="did not write") as e:
        outputs.check_output_dir(ours, kind="district")
    assert "reports/我的修改.docx" in str(e.value) and "\n" not in str(e.value)
    for meta in (legacy, ours):  # district.json copied too, with its list or without
        shutil.copy(meta / "district.json", copied / "district.json")
        assert not outputs.is_ours(copied, "district")
    assert (copied / "thesis.docx").read_bytes() == b"x"


def test_demo_refuses_a_demo_folder_holding_a_users_file(tmp_path):
    from mentorlib import demo

    paths = demo.DemoPaths(tmp_path, students=100, seed=0)
    shutil.copytree(SAMPLE, paths.raw)
    _user_files_in_a_synthetic_study(paths.raw)
    before = _snapshot(tmp_path)
    with pytest.raises(InputError, match="研究笔记.docx"):
        demo.stage_synth(paths)
    assert _snapshot(tmp_path) == before


@pytest.fixture
def proc_world(tmp_path, cleaned):
    """A processed study PROC, a raw study, an existing folder and a work folder (the cwd)."""
    write_processed(cleaned, tmp_path / "PROC")
    shutil.copytree(SAMPLE, tmp_path / "study")
    (tmp_path / "w" / "existing_folder").mkdir(parents=True)
    return tmp_path


@pytest.mark.parametrize(
    "out",
    [
        ".",
        "/",
        "..",
        "existing_folder",
        "existing_folder/",
        "../PROC/source_summary.csv",  # a file of the processed folder
        "../PROC/effects.csv",  # a new file inside it
        "../PROC/sub/effects.csv",
        "../study/effects.csv",  # inside a raw study
    ],
)
def test_mentors_out_refuses_folders_and_study_folders(proc_world, out):
    before = _snapshot(proc_world)
    r = _run("mentors", str(proc_world / "PROC"), "--out", out, cwd=proc_world / "w")
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().count("\n") == 0 and "Traceback" not in r.stderr
    assert "refusing to write there" in r.stderr and "empty name" not in r.stderr
    assert _snapshot(proc_world) == before  # no `.._internal`, no `existing_folder_internal`
    assert outputs.is_ours(proc_world / "PROC", "processed")  # still ours: clean may rerun


def test_check_output_file_refuses_inside_a_processed_folder(proc_world):
    for target in (proc_world / "PROC" / "x.csv", proc_world / "PROC" / "a" / "b.csv"):
        with pytest.raises(InputError, match="inside the processed study folder"):
            outputs.check_output_file(target, header=["a"])
    for target in (".", "/", ".."):
        with pytest.raises(InputError, match="names a folder, not a file"):
            outputs.check_output_file(target)
    assert outputs.check_output_file(proc_world / "w" / "x.csv") == proc_world / "w" / "x.csv"
    assert outputs.processed_root(proc_world / "PROC" / "a" / "b.csv") == proc_world / "PROC"
    assert outputs.processed_root(proc_world / "w") is None


def test_mentors_internal_name_is_derived_after_the_checks(tmp_path):
    assert cli._internal_name(tmp_path / "m.csv") == tmp_path / "m_internal.csv"
    assert cli._internal_name(tmp_path / "内部.csv") == tmp_path / "内部.csv"
    (tmp_path / "m_internal.csv").mkdir()
    with pytest.raises(InputError, match="existing folder"):
        cli._internal_name(tmp_path / "m.csv")


def test_signal_between_creating_a_spill_and_its_try_leaves_nothing(tmp_path, monkeypatch):
    """The race a kill at the moment the spill folder appears can hit: the folder exists but
    the ``try`` that removes it was not entered yet. The command line removes it on the way out."""
    import mentorlib.clean.pipeline as C

    study = tmp_path / "study"
    shutil.copytree(SAMPLE, study)
    real = C.make_temp_dir

    def made_then_interrupted(parent, purpose):
        real(parent, purpose)
        raise KeyboardInterrupt  # as if SIGINT landed right after mkdtemp returned

    monkeypatch.setattr(C, "make_temp_dir", made_then_interrupted)
    rc = cli.main(["clean", str(study), "--out", str(tmp_path / "processed" / "s"), "--json"])
    assert rc == 130
    assert _tmp_entries(tmp_path / "processed") == []
    assert not (tmp_path / "processed" / "s").exists()
