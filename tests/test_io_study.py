"""study.toml: a config that cannot be right gives one clear line naming the file and entry."""

from __future__ import annotations

import pytest

from mentorlib.errors import InputError
from mentorlib.io.study import load_config


def write(tmp_path, text):
    (tmp_path / "study.toml").write_text(text, encoding="utf-8")
    return tmp_path


GOOD = """
[study]
name = "x"
level = "primary"
years = [2023]

[[sources]]
kind = "students"
path = "roster.xlsx"
year = 2023
"""


def test_good_config(tmp_path):
    cfg = load_config(write(tmp_path, GOOD))
    assert cfg.level == "primary" and cfg.years == (2023,)
    assert cfg.sources[0].codebook == "students"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (GOOD.replace('kind = "students"', 'kind = "roster"'), "unknown kind 'roster'"),
        (GOOD.replace('level = "primary"', 'level = "high"'), "level must be"),
        (GOOD.replace("year = 2023\n", "year = 2019\n"), "year 2019 is not one of"),
        (GOOD.replace('kind = "students"', 'kind = "assessment"'), "wave"),
        (GOOD + 'encoding = "latin-9"\n', "unknown encoding"),
        ("[study\nlevel=", "not valid TOML"),
        ("[study]\nlevel = 'primary'\nyears = [2023]\n", "no [[sources]]"),
    ],
)
def test_bad_configs_say_what_and_where(tmp_path, text, needle):
    with pytest.raises(InputError) as e:
        load_config(write(tmp_path, text))
    msg = str(e.value)
    assert needle in msg and "study.toml" in msg and "\n" not in msg


def test_missing_folder_and_file(tmp_path):
    with pytest.raises(InputError, match="study folder not found"):
        load_config(tmp_path / "nope")
    with pytest.raises(InputError, match="no study.toml"):
        load_config(tmp_path)


# ----------------------------------------------------------------------------- issue 11: boundary


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("示范小学_2023", True),
        ("../../etc", False),
        ("a/b", False),
        ("a\\\\b", False),
        ("..", False),
        (".hidden", False),
        ("x\\u0007y", False),
        ("x\\ny", False),
    ],
)
def test_study_name_must_be_a_safe_folder_name(tmp_path, name, ok):
    text = GOOD.replace('name = "x"', f'name = "{name}"')
    if ok:
        assert load_config(write(tmp_path, text)).name == name
    else:
        with pytest.raises(InputError, match="study.toml") as e:
            load_config(write(tmp_path, text))
        assert "\n" not in str(e.value)


def test_source_outside_the_study_folder_is_refused(tmp_path):
    study = tmp_path / "study"
    study.mkdir()
    (tmp_path / "secret.xlsx").write_bytes(b"x")
    for p in ("../secret.xlsx", str(tmp_path / "secret.xlsx"), "roster/../../secret.xlsx"):
        with pytest.raises(InputError, match="leads outside the study folder") as e:
            load_config(write(study, GOOD.replace('"roster.xlsx"', repr(p))))
        assert "[[sources]] #1" in str(e.value)
    # allowed when the entry says so
    cfg = load_config(
        write(study, GOOD.replace('"roster.xlsx"', '"../secret.xlsx"') + "allow_outside = true\n")
    )
    assert cfg.sources[0].path == "../secret.xlsx"


def test_symlink_out_of_the_study_folder_is_refused(tmp_path):
    study = tmp_path / "study"
    study.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "roster.xlsx").write_bytes(b"x")
    (study / "data").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InputError, match="leads outside the study folder"):
        load_config(write(study, GOOD.replace('"roster.xlsx"', '"data/roster.xlsx"')))
    # a symlink that stays inside is fine
    (study / "inside").mkdir()
    (study / "link").symlink_to(study / "inside")
    assert load_config(write(study, GOOD.replace('"roster.xlsx"', '"link/roster.xlsx"'))).sources


def test_same_source_listed_twice_names_both_entries(tmp_path):
    text = GOOD + (
        '\n[[sources]]\nkind = "staff"\npath = "staff.xlsx"\nyear = 2023\n'
        '\n[[sources]]\nkind = "students"\npath = "./sub/../roster.xlsx"\nyear = 2023\n'
    )
    with pytest.raises(InputError) as e:
        load_config(write(tmp_path, text))
    assert "[[sources]] #1 and #3 both read" in str(e.value)
    # two sheets of one workbook are two sources
    two = (
        GOOD
        + 'sheet = "A"\n'
        + GOOD.split("\n\n", 1)[1].replace("year = 2023\n", 'year = 2023\nsheet = "B"\n')
    )
    assert len(load_config(write(tmp_path, two)).sources) == 2


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (GOOD + "encoding = 5\n", "[[sources]] #1: encoding = 5 is not valid"),
        (GOOD.replace("[[sources]]", "[sources]"), "[sources] is written as one table"),
        (GOOD.replace('name = "x"', "name = 5"), "[study] name must be text"),
        (GOOD.replace("years = [2023]", 'years = ["2023"]'), "years must be a list"),
        (GOOD.replace("year = 2023\n", 'year = "2023"\n'), "year = '2023' is not valid"),
        (GOOD + "sheet = 1\n", "sheet = 1 is not valid"),
        (GOOD + "codebook = 3\n", "codebook = 3 is not valid"),
        (GOOD.replace('name = "x"', 'name = "x"\nschool = "a\\u0000b"'), "control character"),
        (GOOD.replace('"roster.xlsx"', '"roster\\u001b.xlsx"'), "sources #1.path"),
        (GOOD + "\n[limits]\nsheet_mb = -1\n", "[limits] sheet_mb must be a positive"),
        (GOOD + "\n[limits]\nrows = 5\n", "[limits] rows: unknown limit"),
    ],
)
def test_more_bad_configs_say_what_and_where(tmp_path, text, needle):
    with pytest.raises(InputError) as e:
        load_config(write(tmp_path, text))
    msg = str(e.value)
    assert needle in msg and "study.toml" in msg and "\n" not in msg


def test_limits_are_read(tmp_path):
    cfg = load_config(write(tmp_path, GOOD + "\n[limits]\nsheet_mb = 10\ncells = 1000\n"))
    assert cfg.limits == {"sheet_mb": 10, "cells": 1000, "csv_mb": 1000, "ratio": 100}


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("研" * 300, "300 characters long: keep it to at most 64"),
        ("a" * 65, "65 characters long: keep it to at most 64"),
        ("report\u202egpj.exe", "U+202E"),
        ("\u2066study\u2069", "U+2066"),
        ("stu\u200edy", "U+200E"),
        ("stu\u200fdy", "U+200F"),
        ("stu\u200bdy", "U+200B"),  # zero-width space: Cf too
    ],
)
def test_a_long_or_bidi_study_name_is_refused_with_one_line(tmp_path, name, needle):
    """Red team: a 300-character name gave "[Errno 36] File name too long" only when writing;
    a right-to-left override made the name read as something else."""
    with pytest.raises(InputError) as e:
        load_config(write(tmp_path, GOOD.replace('name = "x"', f'name = "{name}"')))
    msg = str(e.value)
    assert needle in msg and "[study] name" in msg and "study.toml" in msg and "\n" not in msg
    assert "\u202e" not in msg and "\u2066" not in msg  # the message itself is plain


def test_a_64_character_name_is_fine(tmp_path):
    cfg = load_config(write(tmp_path, GOOD.replace('name = "x"', f'name = "{"研" * 64}"')))
    assert cfg.name == "研" * 64


# ----------------------------------------------------------------------------- [rules]


def test_rules_are_read_and_validated(tmp_path):
    cfg = load_config(write(tmp_path, GOOD + "\n[rules]\ntarget_share = 0.9\nmin_cell = 10\n"))
    assert cfg.rules == {"target_share": 0.9, "min_cell": 10}
    assert load_config(write(tmp_path, GOOD)).rules == {}


@pytest.mark.parametrize(
    ("rules", "needle"),
    [
        ("min_cel = 10", r"\[rules\] unknown rule 'min_cel' \(did you mean 'min_cell'\?\)"),
        ("min_cell = 1", r"\[rules\] min_cell = 1: must be between 2 and 100"),
        ('target_share = "high"', r"\[rules\] target_share = 'high': expected a number"),
    ],
)
def test_a_bad_rule_is_one_line_naming_study_toml(tmp_path, rules, needle):
    with pytest.raises(InputError, match=needle) as e:
        load_config(write(tmp_path, GOOD + f"\n[rules]\n{rules}\n"))
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith(str(tmp_path / "study.toml") + ": [rules]")


def test_rules_must_be_a_table(tmp_path):
    with pytest.raises(InputError, match=r"\[rules\] must be a table"):
        load_config(write(tmp_path, 'rules = "strict"\n' + GOOD))
