"""A year whose post-wave assessment is not in yet (issue 13, the messy middle study): the
mentor models say so in the study's terms, and the cross-year analyses leave that year out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mentorlib import effectiveness as E
from mentorlib.errors import InputError


@pytest.fixture(scope="module")
def no_post(primary):
    """The synthetic primary study with its last year's post wave removed (mid-year)."""
    last = primary.years[-1]
    a = primary["assessment_items"]
    keep = ~((a["year"] == last) & (a["wave"].astype(str) == "post"))
    return replace(primary, tables={**primary.tables, "assessment_items": a[keep]})


def test_assessed_years_leave_out_a_year_without_post(primary, no_post):
    assert primary.assessed_years == primary.years
    assert no_post.assessed_years == primary.years[:-1]


def test_mentor_models_say_which_wave_is_missing(no_post):
    last = no_post.years[-1]
    with pytest.raises(InputError) as e:
        E.study_models(no_post, last, outcomes=["composite"])
    msg = str(e.value)
    assert f"no mentee has both a pre and a post assessment in {last}" in msg
    assert "post-wave composite score" in msg
    assert "\n" not in msg


def test_stability_uses_only_years_with_an_outcome(no_post):
    if len(no_post.assessed_years) < 2:
        pytest.skip("the synthetic study needs 3 years for this")
    st = E.mentor_stability(no_post, n_boot=20)
    assert set(st.effects["year"]) == set(no_post.assessed_years)
