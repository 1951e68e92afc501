"""Codebooks (mentorlib.io.codebook): the built-in ones load, and the old import path works."""

from __future__ import annotations

import pytest

from mentorlib.io.codebook import (
    Codebook,
    builtin_names,
    default_codebook,
    load_codebook,
    norm_text,
    option_labels,
)


def test_every_builtin_codebook_loads():
    names = builtin_names()
    assert {"students", "staff", "assessment_primary", "assessment_middle", "mood"} <= set(names)
    for name in names:
        assert isinstance(load_codebook(name), Codebook)


@pytest.mark.parametrize(
    ("kind", "level", "name"),
    [("assessment", "primary", "assessment_primary"), ("needs_survey", "middle", "needs_middle")],
)
def test_default_codebook_per_kind_and_level(kind, level, name):
    assert default_codebook(kind, level) == name
    assert load_codebook(name).kind == kind


def test_assessment_codebook_has_four_dimensions_and_items():
    cb = load_codebook("assessment_primary")
    assert len(cb.dimensions) == 4
    assert all(f.dimension in cb.dimensions for f in cb.items)


def test_option_labels_map_codes_to_chinese():
    labels = option_labels("staff", "subject")
    assert labels["math"] == "数学"


def test_norm_text_folds_width_and_space():
    assert norm_text("ＡＢ　c") == norm_text("AB c")


def test_a_study_codebook_file_is_read_from_the_study_folder(tmp_path):
    src = load_codebook("rewards")
    text = (
        __import__("importlib.resources", fromlist=["files"])
        .files("mentorlib.io.codebooks")
        .joinpath("rewards.toml")
        .read_text(encoding="utf-8")
    )
    (tmp_path / "my_rewards.toml").write_text(text, encoding="utf-8")
    cb = load_codebook("my_rewards.toml", base=tmp_path)
    assert [f.var for f in cb.fields] == [f.var for f in src.fields]
