"""Labels: one (zh, en) shape, Chinese first, an unknown language is an error."""

from __future__ import annotations

import pytest

from mentorlib import labels
from mentorlib.errors import InputError
from mentorlib.labels import ACTIVITY_LABELS, DIMENSION_LABELS, Lang, check_lang, label
from mentorlib.rules import DIMENSIONS


def _tables():
    """Every label table of the module: code -> (zh, en), or level -> that."""
    for name, value in vars(labels).items():
        if name.isupper() and isinstance(value, dict) and value:
            first = next(iter(value.values()))
            if isinstance(first, tuple):
                yield name, value
            elif isinstance(first, dict) and isinstance(next(iter(first.values())), tuple):
                for level, t in value.items():
                    yield f"{name}[{level}]", t


def test_there_are_label_tables():
    names = [n for n, _ in _tables()]
    assert "ACTIVITY_LABELS" in names and "DIMENSION_LABELS[middle]" in names


@pytest.mark.parametrize(("name", "table"), list(_tables()))
def test_every_key_has_chinese_and_english(name, table):
    for key, pair in table.items():
        assert isinstance(pair, tuple) and len(pair) == 2, (name, key)
        zh, en = pair
        assert zh.strip() and en.strip(), (name, key)
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in en), f"{name}[{key}] en has Chinese"


def test_dimension_labels_cover_the_rulebook_dimensions():
    for level, dims in DIMENSIONS.items():
        assert tuple(DIMENSION_LABELS[level]) == dims


def test_chinese_is_the_default_and_english_on_request():
    assert label(ACTIVITY_LABELS, "home_visit") == "家访"
    assert label(ACTIVITY_LABELS, "home_visit", "en") == "home visit"
    L = Lang()
    assert L.zh and L("达成", "met") == "达成"
    assert Lang("en")("达成", "met") == "met"
    assert Lang(Lang("en")).code == "en"


def test_unknown_key_falls_back_to_the_key_or_default():
    assert label(ACTIVITY_LABELS, "juggling") == "juggling"
    assert Lang("en").of(ACTIVITY_LABELS, "juggling", "—") == "—"


@pytest.mark.parametrize("bad", ["fr", "ZH", "", None, "chinese"])
def test_unknown_language_is_an_error_not_english(bad):
    with pytest.raises(InputError, match="lang must be 'zh'"):
        check_lang(bad)
    with pytest.raises(InputError):
        Lang(bad)
    with pytest.raises(InputError):
        label(ACTIVITY_LABELS, "talk", bad)
