"""Change and reliability on the items a student's pre and post share (issue 13, item 6).

A hand-made long item table for a made-up two-dimension questionnaire in which the post wave
no longer asks one item; the change score and Cronbach's alpha are checked against values
computed here by hand (the mean of the shared items, alpha by its textbook formula).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mentorlib.io.codebook import codebook_from_dict
from mentorlib.progress import StudyScores, change_scores, shared_items_note
from mentorlib.scales import keep_shared, reliability, score_scales, shared_items

CB = codebook_from_dict(
    {
        "codebook": {"name": "tiny", "kind": "assessment"},
        "scales": {"agree5": {"labels": ["1", "2", "3", "4", "5"]}},
        "dimensions": {
            "life": {"label": "生活适应", "published_alpha": 0.8},
            "moral": {"label": "品德发展", "published_alpha": 0.8},
        },
        "fields": [
            {"var": v, "text": v, "type": "likert", "scale": "agree5", "dimension": v[:-2]}
            for v in ("life_1", "life_2", "life_3", "moral_1", "moral_2")
        ],
    },
    None,
)

# five students; life_3 is not asked in the post wave
PRE = {
    "life_1": [1, 2, 3, 4, 5],
    "life_2": [2, 2, 4, 4, 5],
    "life_3": [1, 3, 3, 5, 4],
    "moral_1": [3, 3, 4, 2, 5],
    "moral_2": [2, 4, 4, 3, 5],
}
POST = {
    "life_1": [2, 3, 3, 5, 5],
    "life_2": [3, 2, 5, 4, 5],
    "moral_1": [4, 3, 4, 3, 5],
    "moral_2": [3, 4, 5, 3, 4],
}
IDS = [f"G{i}" for i in range(1, 6)]


def _long() -> pd.DataFrame:
    rows = []
    for wave, table in (("pre", PRE), ("post", POST)):
        for item, values in table.items():
            for sid, v in zip(IDS, values, strict=True):
                rows.append(
                    {"student_id": sid, "year": 2024, "wave": wave, "item": item, "value": v}
                )
    return pd.DataFrame(rows)


def _alpha_by_hand(cols: list[list[int]]) -> float:
    x = np.array(cols, dtype=float).T  # respondents x items
    k = x.shape[1]
    return k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))


def test_shared_items_names_the_item_one_wave_lacks():
    sh = shared_items(_long(), CB).set_index("dimension")
    assert sh.loc["life", "shared"] == ("life_1", "life_2")
    assert sh.loc["life", "only_pre"] == ("life_3",)
    assert sh.loc["moral", "shared"] == ("moral_1", "moral_2")
    kept = keep_shared(_long(), CB)
    assert "life_3" not in set(kept["item"])
    assert len(kept) == len(_long()) - 5


def test_change_is_the_mean_over_the_shared_items():
    kept = keep_shared(_long(), CB)
    sc = score_scales(kept, CB)
    life = sc[sc["dimension"] == "life"].set_index(["wave", "student_id"])
    assert (life["n_items"] == 2).all()  # the items asked, not the codebook's three
    pre_by_hand = [(a + b) / 2 for a, b in zip(PRE["life_1"], PRE["life_2"], strict=True)]
    post_by_hand = [(a + b) / 2 for a, b in zip(POST["life_1"], POST["life_2"], strict=True)]
    ch = change_scores(sc, year=2024, codebook=CB, reliability=0.8).set_index(
        ["dimension", "student_id"]
    )
    for sid, pre, post in zip(IDS, pre_by_hand, post_by_hand, strict=True):
        assert ch.loc[("life", sid), "pre"] == pytest.approx(pre)
        assert ch.loc[("life", sid), "change"] == pytest.approx(post - pre)


def test_alpha_is_cronbach_over_the_shared_items_and_the_rci_runs():
    kept = keep_shared(_long(), CB)
    rel = reliability(kept, CB)
    pre_life = rel[(rel["wave"] == "pre") & (rel["dimension"] == "life")].iloc[0]
    assert pre_life["k"] == 2 and pre_life["n"] == 5
    assert pre_life["alpha"] == pytest.approx(_alpha_by_hand([PRE["life_1"], PRE["life_2"]]))
    sc = score_scales(kept, CB)
    ch = change_scores(sc, year=2024, codebook=CB, reliability=rel)
    assert ch["reliability"].between(0, 1, inclusive="neither").all()
    life = ch[ch["dimension"] == "life"]
    sd = np.std([(a + b) / 2 for a, b in zip(PRE["life_1"], PRE["life_2"], strict=True)], ddof=1)
    assert life["sd_pre"].iloc[0] == pytest.approx(sd)


def test_a_dropped_item_without_shared_items_still_has_a_finite_alpha():
    """Even on all the rows, an item a wave did not ask is not a column of missing answers."""
    rel = reliability(_long(), CB)
    assert rel["alpha"].notna().all()
    post_life = rel[(rel["wave"] == "post") & (rel["dimension"] == "life")].iloc[0]
    assert post_life["k"] == 2


def test_the_note_names_the_items_left_out():
    sh = shared_items(_long(), CB)
    scored = StudyScores(CB, keep_shared(_long(), CB), pd.DataFrame(), None, sh)
    zh = shared_items_note(scored.shared, CB, 2024, "zh")
    en = shared_items_note(scored.shared, CB, 2024, "en")
    assert zh is not None and "生活适应用2题" in zh and "life_3" in zh
    assert en is not None and "life 2 items (not used: life_3)" in en
    assert "moral" not in en
    assert shared_items_note(sh, CB, 2023, "en") is None
