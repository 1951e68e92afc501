"""synth.export: the raw study folder, its defects manifest, the answer key and the command."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mentorlib.io.codebook import load_codebook, norm_text
from mentorlib.synth import SynthParams, canonical_tables, generate, write_study
from mentorlib.synth.model import grm_moments

from conftest import cell_text, read_sheet_rows, study_sources

DESIGN_KINDS = {
    "students",
    "staff",
    "groups",
    "needs_survey",
    "assessment",
    "exams",
    "satisfaction",
    "activities",
    "rewards",
    "mood",
}


# ----------------------------------------------------------------------------- files


def test_study_toml_lists_every_kind_and_every_file(messy_dir):
    srcs = study_sources(messy_dir)
    assert {s["kind"] for s in srcs} == DESIGN_KINDS
    listed = {s["path"] for s in srcs}
    on_disk = {
        str(p.relative_to(messy_dir))
        for p in messy_dir.rglob("*")
        if p.is_file() and "truth" not in p.parts and p.name != "study.toml"
    }
    assert listed == on_disk
    encodings = {s.get("encoding") for s in srcs}
    assert {"gb18030", "utf-8-sig"} <= encodings


def test_every_manifest_entry_is_in_the_messy_files(messy_dir):
    man = pd.read_parquet(messy_dir / "truth" / "manifest.parquet")
    enc = {s["path"]: s.get("encoding") for s in study_sources(messy_dir)}
    assert {
        "id_missing_g",
        "id_sci",
        "id_typo",
        "name_typo",
        "duplicate_submission",
        "attention_fail",
        "unknown_student",
        "class_spelling",
        "date_serial",
        "skip_marker",
        "out_of_range",
        "encoding",
    } <= set(man["kind"])
    checked = 0
    cells = man[man["column"].notna()]
    for (file, sheet), grp in cells.groupby(["file", "sheet"], dropna=False):
        rows = read_sheet_rows(messy_dir / file, None if pd.isna(sheet) else sheet, enc.get(file))
        header_idx = next(
            i for i, r in enumerate(rows) if set(grp["column"]) <= {str(c) for c in r}
        )
        header = [str(c) for c in rows[header_idx]]
        for e in grp.itertuples():
            assert e.row - 1 > header_idx, e
            got = cell_text(rows[e.row - 1][header.index(e.column)])
            assert got == (e.raw or ""), (file, sheet, e.row, e.column, got, e.raw)
            checked += 1
    assert checked == len(cells)
    # row-level entries point at data rows too
    merges = man[man["expected"] == "merge"]
    assert (merges["true_value"].astype(int) != merges["row"]).all()


def test_gbk_files_are_gbk(messy_dir):
    for s in study_sources(messy_dir):
        if s.get("encoding") == "gb18030":
            raw = (messy_dir / s["path"]).read_bytes()
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
            assert "学籍号" in raw.decode("gb18030")


def _read_clean_assessment(path: Path, cb) -> pd.DataFrame:
    """A deliberately simple reader for the --clean 问卷星 按文本 export (not the cleaner)."""
    rows = read_sheet_rows(path, None)
    header = [str(h) for h in rows[0]]
    data = pd.DataFrame(rows[1:], columns=header)
    out = {"student_id": data[header[7]]}
    for f in cb.items:
        col = next(h for h in header if norm_text(h).endswith(norm_text(f.label)))
        labels = {
            lab: v for lab, v in zip(cb.scale_of(f).labels, cb.scale_of(f).values, strict=True)
        }
        out[f.var] = data[col].map(labels).astype(float)  # "(空)" -> NaN
    return pd.DataFrame(out)


def test_clean_export_item_means_match_the_truth(clean_dir, primary_study):
    """Item means recomputed from the --clean files equal those the truth implies (within 4 SE)."""
    man = pd.read_parquet(clean_dir / "truth" / "manifest.parquet")
    assert set(man["kind"]) <= {"skip_marker"}  # --clean injects nothing
    cb = load_codebook("assessment_primary")
    items = pd.read_parquet(clean_dir / "truth" / "items.parquet").set_index("var")
    latent = pd.read_parquet(clean_dir / "truth" / "latent.parquet")
    src = [s for s in study_sources(clean_dir) if s["kind"] == "assessment"]
    assert len(src) == 6
    for s in src:
        obs = _read_clean_assessment(clean_dir / s["path"], cb)
        col = "theta_pre" if s["wave"] == "pre" else "theta_post"
        lat = latent[latent["year"] == s["year"]].pivot(
            index="student_id", columns="dimension", values=col
        )
        lat = lat.reindex(obs["student_id"])
        for f in cb.items:
            it = items.loc[f.var]
            b = it[["b1", "b2", "b3", "b4"]].to_numpy(dtype=float)[None, :]
            mean, var = grm_moments(
                lat[f.dimension].to_numpy(), np.array([it["a"]]), b, np.array([it["reverse"]])
            )
            ok = obs[f.var].notna().to_numpy()
            expected = mean[ok, 0].mean()
            se = np.sqrt(var[ok, 0].sum()) / ok.sum()
            assert abs(obs[f.var][ok].mean() - expected) < 4 * se + 1e-9, (s["path"], f.var)


def test_canonical_answer_key_matches_the_tables(clean_dir, primary_study):
    key = canonical_tables(primary_study)
    for name in ("students", "assignments", "assessment_items", "exams"):
        on_disk = pd.read_parquet(clean_dir / "truth" / "canonical" / f"{name}.parquet")
        assert len(on_disk) == len(key[name])
    items = key["assessment_items"]
    assert set(items["dimension"]) == set(primary_study.params.dimensions)
    assert items["value"].dropna().between(1, 5).all()


def _hashes(d: Path) -> dict[str, str]:
    return {
        str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(d.rglob("*"))
        if p.is_file()
    }


def test_same_arguments_give_byte_identical_files(tmp_path):
    p = SynthParams(level="middle", n_students=200, n_years=2, seed=99)
    a = write_study(generate(p), tmp_path / "a" / "study", workers=1)
    b = write_study(generate(p), tmp_path / "b" / "study", workers=2)  # parallel writing too
    ha, hb = _hashes(a), _hashes(b)
    assert ha == hb
    assert len(ha) > 30
    c = write_study(
        generate(SynthParams(level="middle", n_students=200, n_years=2, seed=100)),
        tmp_path / "c" / "study",
    )
    assert _hashes(c) != ha


def test_existing_folder_needs_overwrite(tmp_path, primary_study):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        write_study(primary_study, tmp_path / "x")


# ----------------------------------------------------------------------------- the command


def _cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "mentorlib", *args], capture_output=True, text=True, cwd=cwd
    )


def test_cli_synth_json_and_errors(tmp_path):
    r = _cli(
        "synth", str(tmp_path / "s"), "--students", "120", "--years", "1", "--seed", "4", "--json"
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["student_years"] == len(
        pd.read_parquet(tmp_path / "s" / "truth" / "canonical" / "students.parquet")
    )
    assert out["defects"] > 0
    again = _cli("synth", str(tmp_path / "s"), "--students", "120")
    assert again.returncode == 2
    assert again.stderr.strip().count("\n") == 0 and "--overwrite" in again.stderr
    bad = _cli("synth", str(tmp_path / "t"), "--students", "3")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


# ----------------------------------------------------------------------------- the committed sample


def test_committed_sample_is_what_the_generator_makes(tmp_path):
    from mentorlib.sample import make_sample

    from conftest import SAMPLE

    fresh = make_sample(tmp_path / "sample")
    assert _hashes(fresh) == _hashes(SAMPLE), "data/sample is stale: run `make sample`"


_CHILD_PROBE = r"""
import signal, sys
import multiprocessing as mp
from mentorlib.cli import _on_signals
from mentorlib.synth import export

def caught(_):
    status = open("/proc/self/status").read()
    cgt = int(next(l for l in status.splitlines() if l.startswith("SigCgt")).split()[1], 16)
    ign = int(next(l for l in status.splitlines() if l.startswith("SigIgn")).split()[1], 16)
    bit = lambda m, s: bool(m >> (s - 1) & 1)
    return bit(cgt, signal.SIGTERM), bit(ign, signal.SIGTERM), bit(ign, signal.SIGINT)

_on_signals()  # what the command line installs before `synth` runs
export._JOB = caught
with mp.get_context("fork").Pool(2, initializer=export._child_signals) as pool:
    print(pool.map(export._run_in_child, range(4)))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_writer_children_die_on_sigterm_and_leave_ctrl_c_to_the_parent():
    """A forked writer must not keep the command line's SIGTERM handler (it turned the pool's
    terminate into an exception and then ignored signals: `synth --district` hung for ever
    on a worker blocked on the queue lock)."""
    out = subprocess.run(
        [sys.executable, "-c", _CHILD_PROBE], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    # (SIGTERM caught, SIGTERM ignored, SIGINT ignored) in each child
    assert out.stdout.strip() == str([(False, False, True)] * 4)
