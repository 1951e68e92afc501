"""A district on dask.distributed: 5 synthetic schools x 200 students cleaned on a LocalCluster
of 2 worker processes; one school's roster is broken (reported, the others finish); the worker
running another school is killed the first time (the school is retried and its output equals a
plain single-process clean); the hive dataset equals the schools' tables concatenated."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from pathlib import Path

import cloudpickle
import pandas as pd
import pytest

from mentorlib.clean import clean_study
from mentorlib.clean.pseudonymise import ENV_KEY
from mentorlib.cli import main
from mentorlib.district import load_district, run_district, synth_district
from mentorlib.district.synth import school_sizes
from mentorlib.district.tasks import school_task
from mentorlib.district.verdicts import school_verdicts
from mentorlib.errors import InputError
from mentorlib.io.study import load_config

from conftest import SAMPLE

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("district")]

KILLED = "school_01"
BROKEN = "school_05"
KEY = "district-test-key"


def killing_task(school_id, study_dir, out, **kw):
    """The district task, but the first time it runs KILLED its worker process dies (SIGKILL,
    no cleanup), as a machine lost mid-run would."""
    marker = Path(out).parent / f"killed-{school_id}"
    if school_id == KILLED and not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return school_task(school_id, study_dir, out, **kw)


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    root = tmp_path_factory.mktemp("district")
    d = synth_district(root / "raw", 5, students=1000, years=1, seed=3, clean=True)
    roster = next((d / BROKEN / "roster").glob("学生名册*"))
    roster.write_bytes(b"\x00not a workbook")  # the school's roster cannot be read
    (root / "key.txt").write_text(KEY, encoding="utf-8")  # one key for the whole district
    toml = (d / "district.toml").read_text(encoding="utf-8")
    toml = toml.replace('pseudonym = "school"', 'pseudonym = "district"')
    (d / "district.toml").write_text(toml + 'pseudonym_key_file = "../key.txt"\n', "utf-8")
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers need killing_task
    res = run_district(
        d, root / "out", workers=2, stages=("clean",), task=killing_task, retries=1, outcomes=True
    )
    return d, root, res


def test_synth_district_sizes_and_truth(district):
    d, _, _ = district
    cfg = load_district(d)
    truth = pd.read_parquet(d / "truth" / "schools.parquet")
    assert [s.school_id for s in cfg.schools] == sorted(truth["school_id"])
    assert truth["n_students"].sum() == 1000  # --students is the district's total
    assert set(truth["level"]) == {"primary", "middle"}
    assert truth["school_effect"].std() > 0  # school effects recorded, not all equal
    assert truth["true_share"].between(0, 1).all()


def test_school_sizes_bounds():
    import numpy as np

    s = school_sizes(40, 40 * 2400, np.random.default_rng(1))
    assert s.sum() == 40 * 2400 and s.min() >= 200 and s.max() <= 2500


def test_broken_school_reported_others_finish(district):
    _, _, res = district
    assert [f["school_id"] for f in res.failed] == [BROKEN]
    assert res.failed[0]["reason"] and "\n" not in res.failed[0]["reason"]
    done = sorted(p.name for p in (res.out_dir / "schools").iterdir())
    assert done == ["school_01", "school_02", "school_03", "school_04"]
    rows = pd.read_csv(res.out_dir / "district_schools.csv")
    assert rows.set_index("school_id")["status"].to_dict()[BROKEN] == "failed"
    assert not list(res.out_dir.rglob(".mentorlib-tmp-*"))  # the killed task left nothing


def test_district_key_pseudonymises_every_school(district):
    d, _, res = district
    for sid in ("school_01", "school_02", "school_03", "school_04"):
        meta = json.loads((res.out_dir / "schools" / sid / "study.json").read_text("utf-8"))
        assert meta["pseudonymised"] is True
        raw = load_config(d / sid)
        assert raw.pseudonym_key is None and raw.pseudonym_key_file is None  # the district's key


def test_district_key_policy_checked(tmp_path, district):
    d, _, _ = district
    school = tmp_path / "s1"
    shutil.copytree(d / "school_02", school)
    st = (school / "study.toml").read_text("utf-8")
    (school / "study.toml").write_text(
        st.replace("[study]\n", '[study]\npseudonym_key = "own"\n', 1), "utf-8"
    )
    (tmp_path / "district.toml").write_text('[district]\npseudonym = "district"\n', "utf-8")
    with pytest.raises(InputError, match="key of their own"):
        load_district(tmp_path)


def test_killed_worker_school_retried_identical(district, monkeypatch):
    d, root, res = district
    assert (root / f"killed-{KILLED}").exists()  # the worker was killed once
    monkeypatch.setenv(ENV_KEY, KEY)  # the single-process clean with the district's key
    ref = clean_study(d / KILLED, root / "reference")
    got = res.out_dir / "schools" / KILLED
    for name, table in ref.tables.items():
        pd.testing.assert_frame_equal(
            pd.read_parquet(got / f"{name}.parquet"),
            pd.read_parquet(root / "reference" / f"{name}.parquet"),
            obj=name,
        )
        assert len(table) == len(pd.read_parquet(got / f"{name}.parquet"))


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype) or out[c].dtype == object:
            out[c] = out[c].astype("string")
        elif pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].astype("string")
    return out


@pytest.mark.parametrize("table", ["students", "needs", "activities", "exams"])
def test_hive_dataset_is_the_schools_tables(district, table):
    _, _, res = district
    got = pd.read_parquet(res.out_dir / "tables" / table)
    assert got["school_id"].nunique() == 4
    parts = []
    for sid in sorted(got["school_id"].astype(str).unique()):
        t = pd.read_parquet(res.out_dir / "schools" / sid / f"{table}.parquet")
        parts.append(t.assign(school_id=sid))
    want = pd.concat(parts, ignore_index=True)
    got = got.assign(school_id=got["school_id"].astype(str))[list(want.columns)]
    pd.testing.assert_frame_equal(
        _plain(got).reset_index(drop=True), _plain(want), check_dtype=False, obj=table
    )


def test_cli_district_errors_are_one_line(tmp_path, capsys):
    assert main(["district", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "district.toml" in err and "\n" not in err
    assert main(["synth", str(tmp_path / "d"), "--district", "3", "--students", "100"]) == 2
    assert "600" in capsys.readouterr().err
    assert main(["district", str(tmp_path), "--min-cell", "0"]) == 2
    assert "--min-cell 0" in capsys.readouterr().err  # checked before the folder is read


def test_output_folder_protected(tmp_path):
    """Refused before any cluster starts: a folder mentorlib did not write, the district folder
    itself or a folder inside it (the rule of `clean --out`, mentorlib/outputs.py)."""
    d = tmp_path / "district"
    d.mkdir()
    (d / "district.toml").write_text(
        f'[district]\nname = "d"\n[[schools]]\nid = "sample"\npath = "{SAMPLE.as_posix()}"\n',
        encoding="utf-8",
    )
    assert [s.school_id for s in load_district(d).schools] == ["sample"]
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.docx").write_bytes(b"x")
    for out in (foreign, d, d / "out"):
        with pytest.raises(InputError, match="refusing|not a mentorlib|raw study"):
            run_district(d, out, workers=1, stages=("clean",))
    assert (foreign / "thesis.docx").read_bytes() == b"x"
    with pytest.raises(InputError):
        synth_district(foreign, 2, overwrite=True)  # --overwrite replaces only our own


def test_school_verdicts_suppress_small_schools_only():
    rows = [
        {
            "school_id": "big",
            "level": "primary",
            "progress": "ok",
            "n": 900,
            "n_evaluable": 850,
            "certified_share": 0.3,
            "certified_ci_low": 0.27,
            "certified_ci_high": 0.33,
            "verdict": "not met",
            "true_share_n": 900,
            "true_share": 0.7,
            "true_share_ci_low": 0.6,
            "true_share_ci_high": 0.8,
        },
        {
            "school_id": "tiny",
            "level": "middle",
            "progress": "ok",
            "n": 210,
            "n_evaluable": 4,
            "certified_share": 0.75,
            "certified_ci_low": 0.3,
            "certified_ci_high": 0.95,
            "verdict": "not met",
        },
        {"school_id": "broken", "level": "primary", "status": "failed", "reason": "no roster"},
    ]
    t = school_verdicts(rows).set_index("school_id")
    assert t.loc["big", "certified_share"] == 0.3 and t.loc["big", "true_share"] == 0.7
    tiny = t.loc["tiny"]  # 4 evaluable students < min_cell 5: share, interval, verdict blank
    assert tiny[["certified_share", "certified_ci_low", "n_evaluable", "verdict"]].isna().all()
    assert tiny["certified_suppressed"] and not tiny["true_share_suppressed"]  # none estimated
    assert not t.loc["broken", "certified_suppressed"]  # nothing was computed to hide
    assert "student_id" not in t.columns and "name" not in t.columns
    assert pd.isna(school_verdicts(rows, min_cell=1000).loc[0, "certified_share"])


def _docx_text(path: Path) -> str:
    import zipfile

    with zipfile.ZipFile(path) as z:
        return z.read("word/document.xml").decode("utf-8")


def test_district_report_sections_and_no_student(district):
    """The district summary of the clean-only run: every section, the broken school reported,
    school effects fitted on the four cleaned schools, the funnel's schools and rates from the
    students' improved flags, and no student ID in the DOCX or the HTML (zh and en)."""
    from mentorlib.district.analysis import student_outcomes
    from mentorlib.district.report import (
        analyse_district,
        district_report,
        write_district_report,
    )

    _, _, res = district
    a = analyse_district(res.out_dir, outcomes=res.outcomes)  # computed on the cluster
    here = analyse_district(res.out_dir)  # ... and in this process: the same
    pd.testing.assert_frame_equal(a.funnel, here.funnel)
    assert a.effects is not None and len(a.ranks) == 4
    assert a.ranks["p_top"].sum() == pytest.approx(1)  # one school in the top quarter of four
    outcomes, _ = student_outcomes(res.out_dir, ["school_02"])
    row = a.funnel.set_index("school_id").loc["school_02"]
    assert row["n"] == outcomes["improved"].notna().sum()
    assert row["rate"] == pytest.approx(outcomes["improved"].mean())
    for lang in ("zh", "en"):
        rep = district_report(a, lang=lang)
        assert rep.section_keys == ["schools", "funnel", "effects", "compliance", "methods"]
        assert ("未完成" if lang == "zh" else "not done") in rep.text()  # the broken school
    en = district_report(a, lang="en").text()
    assert "compliance stage" in en and "progress stage" in en  # this run cleaned only
    paths = write_district_report(res.out_dir)
    assert {p.suffix for p in paths} == {".docx", ".html"}
    assert paths[0].name.startswith("区域总结_")
    text = "\n".join(_docx_text(p) if p.suffix == ".docx" else p.read_text("utf-8") for p in paths)
    assert "school_02" in text or "示范" in text  # schools are named
    ids = pd.read_parquet(res.out_dir / "tables" / "students")["student_id"].astype(str)
    assert len(ids) > 500
    leaked = [i for i in ids.unique() if i in text]
    assert not leaked, leaked[:3]


def test_duckdb_reads_the_hive_dataset(district):
    """The district tables are one hive-partitioned Parquet dataset per table: DuckDB reads it
    directly with school_id as a column, the same rows per school as each school's folder."""
    duckdb = pytest.importorskip("duckdb")
    _, _, res = district
    glob = (res.out_dir / "tables" / "students" / "*" / "*.parquet").as_posix()
    con = duckdb.connect()
    got = con.execute(
        "SELECT school_id, count(*) AS n, count(DISTINCT student_id) AS ids "
        f"FROM read_parquet('{glob}', hive_partitioning = true) GROUP BY school_id"
    ).df()
    assert len(got) == 4
    for r in got.itertuples(index=False):
        t = pd.read_parquet(res.out_dir / "schools" / str(r.school_id) / "students.parquet")
        assert (int(r.n), int(r.ids)) == (len(t), t["student_id"].nunique())
