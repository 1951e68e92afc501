"""study.toml: a config that cannot be right gives one clear line naming the file and entry."""

from __future__ import annotations

import pytest

from mentorlib.errors import InputError
from mentorlib.study import load_config


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
