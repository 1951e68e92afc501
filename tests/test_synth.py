"""The synthetic school: its properties, its truth, its files, its determinism."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mentorlib import ids as idmod
from mentorlib import rulebook
from mentorlib.codebook import load_codebook, norm_text
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


def cronbach_alpha(x: np.ndarray) -> float:
    x = x[~np.isnan(x).any(1)]
    k = x.shape[1]
    return k / (k - 1) * (1 - x.var(0, ddof=1).sum() / x.sum(1).var(ddof=1))


def recoded(study, dim, year, wave):
    items = study.truth["items"].query("dimension == @dim")
    w = study.tables["assessment_wide"].query("year == @year and wave == @wave")
    x = np.array(w[items["var"]].to_numpy(dtype=float))
    rev = items["reverse"].to_numpy()
    x[:, rev] = 6 - x[:, rev]
    return x


# ----------------------------------------------------------------------------- model


@pytest.mark.parametrize("which", ["primary_study", "middle_study"])
def test_alphas_realistic_and_match_true_reliability(which, request):
    study = request.getfixturevalue(which)
    rel = study.truth["reliability"]
    for dim in study.params.dimensions:
        for year in study.params.years:
            for wave in ("pre", "post"):
                a = cronbach_alpha(recoded(study, dim, year, wave))
                true = rel.query("dimension == @dim and year == @year and wave == @wave")[
                    "reliability"
                ].item()
                assert 0.70 <= a <= 0.90, (dim, year, wave, a)
                # alpha estimates the population reliability of the mean score (n = 600: SE ~ 0.01)
                assert abs(a - true) < 0.04, (dim, year, wave, a, true)


def _groups_by_term(study):
    """Mentor of every student in every term, with regroupings applied."""
    a = study.tables["assignments"]
    out = []
    for year in study.params.years:
        t1 = a.query("year == @year and term == 1").set_index("student_id")["mentor_id"]
        out.append(t1.rename("mentor_id").reset_index().assign(year=year, term=1))
        moves = a.query("year == @year and term == 2").set_index("student_id")["mentor_id"]
        t2 = t1.copy()
        t2.loc[moves.index] = moves
        out.append(t2.rename("mentor_id").reset_index().assign(year=year, term=2))
    return pd.concat(out, ignore_index=True)


@pytest.mark.parametrize("which", ["primary_study", "middle_study"])
def test_group_sizes_within_the_rulebook(which, request):
    study = request.getfixturevalue(which)
    rb = rulebook(study.params.level)
    sizes = _groups_by_term(study).groupby(["year", "term", "mentor_id"]).size()
    assert sizes.min() >= rb.group_min and sizes.max() <= rb.group_max, sizes.describe()


@pytest.mark.parametrize("which", ["primary_study", "middle_study"])
def test_regrouping_under_fifteen_percent_and_present(which, request):
    study = request.getfixturevalue(which)
    a = study.tables["assignments"]
    s = study.tables["students"]
    for year in study.params.years:
        mentees = int(s.query("year == @year")["mentee"].sum())
        moved = int(a.query("year == @year and term == 2")["regroup"].sum())
        assert 0 < moved / mentees < 0.15, (year, moved, mentees)


def test_primary_everyone_has_a_mentor_middle_a_nominated_share(primary_study, middle_study):
    s = primary_study.tables["students"]
    assert s["mentee"].all()
    t1 = primary_study.tables["assignments"].query("term == 1")
    assert (
        t1.groupby("year")["student_id"].nunique().to_dict() == s.groupby("year").size().to_dict()
    )
    m = middle_study.tables["students"]
    share = m.groupby("year")["mentee"].mean()
    assert ((share > 0.10) & (share < 0.20)).all(), share
    # the comparison group is the rest of the grade
    assert (~m["mentee"]).sum() > 3 * m["mentee"].sum()


def test_roster_rates_and_valid_ids(primary_study):
    s = primary_study.tables["students"]
    first = s.drop_duplicates("student_id")
    assert 0.08 < (first["family"] == "single_parent").mean() < 0.17
    assert 0.02 < (first["family"] == "reconstituted").mean() < 0.09
    assert all(idmod.is_valid_student_id(x) for x in first["student_id"])
    assert first["student_id"].str[0].isin(["G", "L", "J"]).all()
    assert s.groupby(["year", "grade", "class_no"]).size().between(15, 60).all()


def test_left_behind_rate_is_configurable():
    s = generate(SynthParams(n_students=800, n_years=1, seed=3, left_behind_rate=0.3)).tables[
        "students"
    ]
    assert abs(s["left_behind"].mean() - 0.3) < 0.05


def test_truth_improvement_follows_delta(primary_study):
    lat = primary_study.truth["latent"]
    thr = primary_study.params.improve_threshold
    assert (lat["improved"] == (lat["delta"] > thr)).all()
    np.testing.assert_allclose(lat["theta_post"] - lat["theta_pre"], lat["delta"])


def test_mentor_effect_sd_matches_parameters():
    p = SynthParams(n_students=6000, n_years=1, seed=5)
    eff = generate(p).truth["mentor_effects"]
    sds = eff.groupby("dimension")["effect"].std()
    for dim, sd in zip(p.dimensions, p.mentor_sd, strict=True):
        assert abs(sds[dim] - sd) < 0.25 * sd, (dim, sds[dim], sd)


def test_mentor_effects_move_latent_change(primary_study):
    """Students of mentors with larger true effects change more (the signal exists)."""
    lat = primary_study.truth["latent"]
    eff = primary_study.truth["mentor_effects"]
    m = lat.merge(eff, on=["mentor_id", "year", "dimension"])
    r = np.corrcoef(m["effect"], m["delta"])[0, 1]
    assert r > 0.1, r


def test_placebo_height_does_not_depend_on_mentor(primary_study):
    s = primary_study.tables["students"].query("year == 2023")
    a = primary_study.tables["assignments"].query("year == 2023 and term == 1")
    d = s.merge(a[["student_id", "mentor_id"]], on="student_id")
    resid = d["height_cm"] - d.groupby(["grade", "gender"])["height_cm"].transform("mean")
    means = resid.groupby(d["mentor_id"]).mean()
    sizes = d.groupby("mentor_id").size()
    # the spread of mentor means is what sampling alone gives (no mentor variance)
    expected_var = (resid.var() / sizes).mean()
    assert means.var() < 2.0 * expected_var


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


def test_gb11643_published_example():
    # GB 11643-1999 appendix example: 11010519491231002X
    assert idmod.check_digit("11010519491231002") == "X"
    assert idmod.is_valid_id18("11010519491231002X")
    assert not idmod.is_valid_id18("110105194912310021")
    assert idmod.is_valid_student_id("G11010519491231002X")
    assert not idmod.is_valid_student_id("X11010519491231002X")
