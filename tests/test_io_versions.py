"""Questionnaires that change between years (issue 13, item 6).

From 2024 on the school's assessment drops one habits item (我吃饭不挑食), rewords a moral item
and answers on 非常不同意…非常同意 instead of 完全不符合…完全符合. The school's files of 2024 and
2025 are rewritten BY HAND here the way the new 问卷星 export looks (the column gone, the new
wording, the new answer labels), and a study-local codebook carries the change as a
``[[versions]]`` table. The cleaner must read each year with the version in force, record it,
and every analysis must run with change and reliability on the items both waves share.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from importlib import resources
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from mentorlib.clean import clean_study
from mentorlib.data import load_processed
from mentorlib.io.codebook import CodebookError, codebook_from_dict, load_codebook
from mentorlib.progress import study_changes
from mentorlib.progress.report import progress_report

from conftest import SAMPLE

OLD = ["完全不符合", "比较不符合", "不确定", "比较符合", "完全符合"]
NEW = ["非常不同意", "不同意", "说不清", "同意", "非常同意"]
DROPPED = "我吃饭不挑食"  # habits_3
OLD_MORAL = "我会主动帮助有困难的同学"  # moral_1
NEW_MORAL = "同学有困难时我会主动帮忙"
VERSIONS = f'''

[[versions]]
from_year = 2024
label = "2024版"
drop = ["habits_3"]
rename = {{ moral_1 = "{NEW_MORAL}" }}
scales = {{ agree5 = {json.dumps(NEW, ensure_ascii=False)} }}
'''
FILES_2024_ON = {
    "surveys/发展评估_2024学年_前测.csv": "utf-8-sig",
    "surveys/发展评估_2024学年_后测.xlsx": None,
    "surveys/发展评估_2025学年_前测.csv": "gb18030",
    "surveys/发展评估_2025学年_后测.csv": "utf-8-sig",
}


def _new_row(header: list, row: list) -> tuple[list, list]:
    """One row of the new questionnaire: the dropped question gone, new wording and labels."""
    keep = [j for j, h in enumerate(header) if DROPPED not in str(h)]
    head = [str(header[j]).replace(OLD_MORAL, NEW_MORAL) for j in keep]
    return head, [_relabel(row[j]) for j in keep]


def _relabel(cell):
    """An answer in the new labels, keeping the tool's option letter ("B.比较不符合")."""
    if not isinstance(cell, str):
        return cell
    m = re.fullmatch(r"([A-E][.、])?(.*)", cell)
    assert m is not None
    label = m.group(2)
    return (m.group(1) or "") + NEW[OLD.index(label)] if label in OLD else cell


def _rewrite_csv(path: Path, encoding: str) -> None:
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode(encoding))))
    out = io.StringIO()
    w = csv.writer(out)
    head = _new_row(rows[0], rows[0])[0]
    w.writerow(head)
    for r in rows[1:]:
        w.writerow(_new_row(rows[0], r)[1])
    path.write_bytes(out.getvalue().encode(encoding))


def _rewrite_xlsx(path: Path) -> None:
    ws = openpyxl.load_workbook(path).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    wb = openpyxl.Workbook()
    new = wb.active
    new.append(_new_row(rows[0], rows[0])[0])
    for r in rows[1:]:
        new.append(_new_row(rows[0], r)[1])
    wb.save(path)


def versioned_study(dest: Path) -> Path:
    study = shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns("truth"))
    base = resources.files("mentorlib.io.codebooks").joinpath("assessment_primary.toml")
    (study / "assessment_v.toml").write_text(
        base.read_text(encoding="utf-8") + VERSIONS, encoding="utf-8"
    )
    toml = study / "study.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(
        text.replace('codebook = "assessment_primary"', 'codebook = "assessment_v.toml"'),
        encoding="utf-8",
    )
    for rel, enc in FILES_2024_ON.items():
        if enc is None:
            _rewrite_xlsx(study / rel)
        else:
            _rewrite_csv(study / rel, enc)
    return study


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("versions")
    res = clean_study(versioned_study(tmp / "study"), tmp / "out")
    return res, tmp / "out"


# ------------------------------------------------------------------ the codebook format


def test_for_year_applies_the_versions_in_force():
    cb = load_codebook("assessment_primary")
    data = {
        "codebook": {"name": "v", "kind": "assessment"},
        "scales": {"agree5": {"labels": OLD}},
        "dimensions": {"habits": {"label": "行为习惯"}},
        "fields": [
            {"var": f.var, "text": list(f.text), "type": "likert", "scale": "agree5"}
            | {"dimension": "habits"}
            for f in cb.items_of("habits")
        ],
        "versions": [
            {
                "from_year": 2025,
                "add": [
                    {"var": "habits_7", "text": "我按时睡觉"}
                    | {"type": "likert", "scale": "agree5"}
                    | {"dimension": "habits"}
                ],
            },
            {"from_year": 2024, "drop": ["habits_3"], "scales": {"agree5": NEW}},
        ],
    }
    v = codebook_from_dict(data)
    assert [x.from_year for x in v.versions] == [2024, 2025]
    assert v.has("habits_7")  # the codebook as written knows every item of every year
    y23, y24, y25 = v.for_year(2023), v.for_year(2024), v.for_year(2025)
    assert y23.version is None and y24.version == "2024" and y25.version == "2025"
    assert y23.has("habits_3") and not y23.has("habits_7")
    assert not y24.has("habits_3") and not y24.has("habits_7")
    assert not y25.has("habits_3") and y25.has("habits_7")
    assert y23.scales["agree5"].labels == tuple(OLD)
    assert y24.scales["agree5"].labels == tuple(NEW)
    assert y24.scales["agree5"].values == (1, 2, 3, 4, 5)


def test_relabelled_options_keep_their_codes():
    data = {
        "codebook": {"name": "v", "kind": "students"},
        "fields": [{"var": "gender", "type": "gender", "options": ["男", "女"]}],
        "versions": [{"from_year": 2024, "options": {"gender": ["男生", "女生"]}}],
    }
    g = codebook_from_dict(data).for_year(2024).field("gender")
    assert g.code_of() == {"男生": "男", "女生": "女"}


@pytest.mark.parametrize(
    "version, match",
    [
        ({"drop": ["habits_3"]}, "from_year"),
        ({"from_year": 2024, "drop": ["nope_1"]}, "unknown field"),
        ({"from_year": 2024, "scales": {"agree5": ["a", "b"]}}, "relabels scale"),
    ],
)
def test_a_bad_version_is_one_line(version, match):
    data = {
        "codebook": {"name": "v", "kind": "assessment"},
        "scales": {"agree5": {"labels": OLD}},
        "dimensions": {"habits": {}},
        "fields": [{"var": "habits_3", "type": "likert", "scale": "agree5", "dimension": "habits"}],
        "versions": [version],
    }
    with pytest.raises(CodebookError, match=match):
        codebook_from_dict(data, "x.toml")


# ------------------------------------------------------------------ cleaning and analyses


def test_each_year_is_read_with_its_version(cleaned):
    res, _ = cleaned
    ai = res.tables["assessment_items"]
    habits_3 = ai[ai["item"].astype("str") == "habits_3"]
    assert set(habits_3["year"]) == {2023}  # asked in 2023 only; no empty rows after
    moral_1 = ai[(ai["item"].astype("str") == "moral_1") & (ai["year"] == 2024)]
    assert moral_1["value"].notna().mean() > 0.9  # the new wording and labels were read
    assert set(moral_1["value"].dropna().astype(int)) <= {1, 2, 3, 4, 5}
    assessment = [s for s in res.meta["sources"] if s["kind"] == "assessment"]
    versions = {s["path"]: s["codebook_version"] for s in assessment}
    assert versions["surveys/发展评估_2023学年_前测.xlsx"] is None
    assert versions["surveys/发展评估_2024学年_后测.xlsx"] == "2024版"
    assert versions["surveys/发展评估_2025学年_前测.csv"] == "2024版"
    assert all(s["read"] for s in assessment)
    assert not res.meta["partial"]


def test_progress_runs_on_the_shared_items_and_says_so(cleaned):
    _, out = cleaned
    p = load_processed(out)
    rep = progress_report(p, 2024, n_boot=50)
    assert any("habits_3" in n for n in rep.notes)
    ch = study_changes(p, 2024)
    assert ch["reliability"].between(0, 1, inclusive="neither").all()
    rep23 = progress_report(p, 2023, n_boot=50)
    assert not any("not used" in n for n in rep23.notes)


def test_an_item_removed_from_one_year_of_processed_data(cleaned, tmp_path):
    """The reported failure: a year-2 table without one item made progress raise
    "reliability outside (0, 1) for {...: nan}"."""
    _, out = cleaned
    copy = shutil.copytree(out, tmp_path / "p")
    ai = pd.read_parquet(copy / "assessment_items.parquet")
    gone = (ai["year"] == 2023) & (ai["wave"] == "post") & (ai["item"] == "moral_2")
    ai.loc[~gone].to_parquet(copy / "assessment_items.parquet")
    p = load_processed(copy)
    ch = study_changes(p, 2023)
    assert np.isfinite(ch["reliability"]).all()
    rep = progress_report(p, 2023, n_boot=50)
    assert any("moral_2" in n and "habits_3" not in n for n in rep.notes)


def test_a_missing_optional_column_writes_no_rows(tmp_path):
    """Without a version, a question the file lacks (required = false) has no answer rows."""
    study = shutil.copytree(SAMPLE, tmp_path / "s", ignore=shutil.ignore_patterns("truth"))
    base = resources.files("mentorlib.io.codebooks").joinpath("assessment_primary.toml")
    text = base.read_text(encoding="utf-8").replace(
        f'text = "{DROPPED}"', f'text = "{DROPPED}"\nrequired = false'
    )
    (study / "a.toml").write_text(text, encoding="utf-8")
    toml = study / "study.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace(
            'path = "surveys/发展评估_2024学年_前测.csv"\nyear = 2024\nwave = "pre"\n'
            'encoding = "utf-8-sig"\ncodebook = "assessment_primary"',
            'path = "surveys/发展评估_2024学年_前测.csv"\nyear = 2024\nwave = "pre"\n'
            'encoding = "utf-8-sig"\ncodebook = "a.toml"',
        ),
        encoding="utf-8",
    )
    path = study / "surveys/发展评估_2024学年_前测.csv"
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    keep = [j for j, h in enumerate(rows[0]) if DROPPED not in h]
    buf = io.StringIO()
    csv.writer(buf).writerows([[r[j] for j in keep] for r in rows])
    path.write_bytes(buf.getvalue().encode("utf-8-sig"))
    res = clean_study(study)
    ai = res.tables["assessment_items"]
    h3 = ai[(ai["item"].astype("str") == "habits_3") & (ai["year"] == 2024)]
    assert set(h3["wave"].astype("str")) == {"post"}
