"""The rulebook and a study's own rules (``[rules]`` in study.toml)."""

from __future__ import annotations

import pytest

from mentorlib.errors import InputError
from mentorlib.rules import BOUNDS, Rulebook, rule_names, rulebook


def test_defaults_are_the_programme_numbers():
    p, m = rulebook("primary"), rulebook("middle")
    # PROGRAMME.md: 85% each year, groups of 5-8 (primary) and 1-2 (middle), one talk a month
    # in primary and two in middle school, at most 15% regrouped.
    assert (p.target_share, p.group_min, p.group_max, p.talks_per_month) == (0.85, 5, 8, 1)
    assert (m.group_min, m.group_max, m.talks_per_month, m.award_per_mentee_term) == (1, 2, 2, 250)
    assert p.max_regroup_share == 0.15 and p.min_cell == 5 and p.rci_z == 1.96


def test_overrides_change_only_what_they_name():
    r = rulebook("primary", {"target_share": 0.9, "min_cell": 10, "k_dimensions": 2})
    assert (r.target_share, r.min_cell, r.k_dimensions) == (0.9, 10, 2)
    base = rulebook("primary")
    same = [n for n in rule_names() if n not in ("target_share", "min_cell", "k_dimensions")]
    assert all(getattr(r, n) == getattr(base, n) for n in same)
    assert rulebook("primary", {}) is base


def test_float_rules_accept_integers_and_keep_their_type():
    r = rulebook("middle", {"award_per_mentee_term": 300, "gender_tol": 0})
    assert r.award_per_mentee_term == 300.0 and isinstance(r.award_per_mentee_term, float)
    assert r.gender_tol == 0.0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"targt_share": 0.9}, r"unknown rule 'targt_share' \(did you mean 'target_share'\?\)"),
        ({"level": "middle"}, "unknown rule 'level'"),
        ({"min_cell": 1}, "min_cell = 1: must be between 2 and 100"),
        ({"min_cell": 5.5}, "expected a whole number"),
        ({"min_cell": True}, "expected a whole number"),
        ({"target_share": "85%"}, "expected a number"),
        ({"target_share": 1.2}, "between"),
        ({"mood_chart": 1}, "expected true or false"),
        ({"ci_method": "wald"}, "wilson, clopper-pearson"),
        ({"group_min": 9}, "group_min .9. exceeds group_max .8."),
        ({"k_dimensions": 4, "rci_z": 2.5}, None),
        ({"award_bands": {"A": 0.5, "B": 0.5}}, "name the same bands"),
        ({"award_bands": {"A": 0.5, "B": 0.2, "C": 0.1, "D": 0.1}}, "add up to 1"),
    ],
)
def test_bad_overrides_are_one_line_errors(overrides, message):
    if message is None:
        assert rulebook("primary", overrides).rci_z == 2.5
        return
    with pytest.raises(InputError, match=message) as e:
        rulebook("primary", overrides)
    assert "\n" not in str(e.value)


def test_k_cannot_exceed_the_dimensions_measured():
    assert rulebook("primary", {"k_dimensions": 4}).k_dimensions == 4
    with pytest.raises(InputError, match="k_dimensions = 5: must be between 1 and 4"):
        rulebook("primary", {"k_dimensions": 5})


def test_award_scheme_is_settable():
    r = rulebook(
        "middle",
        {
            "award_bands": {"A": 0.1, "B": 0.4, "C": 0.5},
            "award_multipliers": {"A": 2, "B": 1, "C": 0.5},
        },
    )
    assert r.award_bands == (("A", 0.1), ("B", 0.4), ("C", 0.5))
    assert dict(r.award_multipliers)["A"] == 2.0


def test_unknown_level_is_an_input_error():
    with pytest.raises(InputError, match="unknown level 'high'"):
        rulebook("high")


def test_every_numeric_rule_has_bounds_or_is_structural():
    numeric = [
        n
        for n in rule_names()
        if isinstance(getattr(rulebook("primary"), n), int | float)
        and not isinstance(getattr(rulebook("primary"), n), bool)
    ]
    unbounded = [n for n in numeric if n not in BOUNDS]
    # the per-month / per-year frequencies default to (0, inf): counts cannot be negative
    for n in unbounded:
        with pytest.raises(InputError, match="between 0 and inf"):
            rulebook("primary", {n: -1})
    assert set(BOUNDS) <= set(rule_names())
    assert Rulebook.min_cell == 5
