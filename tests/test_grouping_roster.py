"""Grouping roster: the roster of a study's year, the needs-strength fit (by hand and against
the generator's truth) and preferences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mentorlib import grouping as g
from mentorlib.errors import InputError
from mentorlib.grouping.roster import build_problem
from mentorlib.rules import rulebook

from _grouping_fixtures import PRIMARY

# --------------------------------------------------------------------------- fixtures


# --------------------------------------------------------------------------- fit and data


def test_fit_hand_computed():
    s = pd.DataFrame(
        {
            "student_id": ["a", "b"],
            "gender": ["male", "female"],
            "weak_areas": ["study_method;emotion", None],
            "help_wanted": ["tutoring;talk;family", "interest"],
            "interests": ["art;music", "dance"],
        }
    )
    m = pd.DataFrame({"mentor_id": ["x", "y"], "strengths": ["academic;art", "moral;dance"]})
    f = g.fit_scores(s, m, PRIMARY)
    # a-x: 0.7 * 1/2 (academic of academic+psychological) + 0.3 * |{art}|/|{art, music}|
    assert f.loc["a", "x"] == pytest.approx(0.7 * 0.5 + 0.3 * 0.5)
    assert f.loc["a", "y"] == pytest.approx(0.0)
    assert f.loc["b", "y"] == pytest.approx(0.3 * 1.0)  # no weak area; Jaccard {dance}
    h = g.fit_scores(s, m, PRIMARY, weights={"needs": 0, "interests": 0, "help": 1})
    # a asks tutoring, talk (family is not scored): x gives tutoring, y gives talk (moral)
    assert h.loc["a", "x"] == pytest.approx(0.5) and h.loc["a", "y"] == pytest.approx(0.5)
    assert h.loc["b", "y"] == pytest.approx(1.0) and h.loc["b", "x"] == pytest.approx(0.0)
    with pytest.raises(InputError, match="unknown fit weight"):
        g.fit_scores(s, m, PRIMARY, weights={"personality": 1})


def test_fit_matches_generator_truth(primary_study, primary, proster):
    # the generator's per-dimension fit (weak dimension covered by a strength) for students
    # who kept their term-1 mentor all year equals ours from the needs survey and strengths
    students, mentors = proster
    pb = build_problem(students, mentors, PRIMARY, scope="school")
    cur = pb.current()
    ours = pb.weak & pb.strength[cur]
    lat = primary_study.truth["latent"]
    lat = lat.loc[lat["year"] == 2024]
    truth = (
        lat.pivot(index="student_id", columns="dimension", values="fit")
        .reindex(index=pb.sid, columns=list(PRIMARY.dimensions))
        .to_numpy()
    )
    whole = np.isin(truth, [0.0, 1.0]).all(1)  # same mentor both terms
    assert whole.mean() > 0.9
    assert (ours[whole] == truth[whole].astype(bool)).mean() > 0.98


def test_roster_primary_and_middle(primary, middle, proster, mroster):
    students, mentors = proster
    st_ = primary["students"]
    assert len(students) == int((st_["year"] == 2024).sum())
    assert len(mentors) == int((primary["staff"]["year"] == 2024).sum())  # every staff member
    a = primary["assignments"]
    a = a.loc[(a["year"] == 2024) & (a["term"] == 1)]
    rec = dict(zip(a["student_id"].astype(str), a["mentor_id"].astype(str), strict=True))
    assert students["current_mentor"].tolist() == [rec[s] for s in students["student_id"]]
    ms, mm = mroster
    m_st = middle["students"]
    assert len(ms) == int(m_st.loc[m_st["year"] == 2024, "mentee"].sum())  # nominated only
    assert set(mm["role"]) <= {"class_teacher", "subject_teacher"}
    assert {"pref_1", "pref_2", "pref_3"} <= set(ms.columns)
    with pytest.raises(InputError, match="no students in year 1999"):
        g.roster(primary, 1999)


def test_preferences_stated_and_fit(mroster, proster):
    ms, mm = mroster
    rules = rulebook("middle")
    sp = g.student_preferences(ms, mm, rules)
    first = sp.loc[sp["rank"] == 1].set_index("student_id")["mentor_id"]
    stated = ms.set_index("student_id")["pref_1"].dropna()
    common = stated.index.intersection(first.index)
    assert (first[common] == stated[common]).mean() > 0.95  # named mentors in scope
    ps, pm = proster
    fp = g.student_preferences(ps, pm, PRIMARY)
    assert fp.groupby("student_id")["fit"].apply(lambda f: f.is_monotonic_decreasing).all()
    mp = g.mentor_preferences(ps, pm, PRIMARY)
    assert mp.groupby("mentor_id")["fit"].apply(lambda f: f.is_monotonic_decreasing).all()
    # class scope: every listed mentor is linked to the student's class
    cls = ps.set_index("student_id")["class"]
    link = pm.set_index("mentor_id")["link_class"]
    assert (fp["student_id"].map(cls).to_numpy() == fp["mentor_id"].map(link).to_numpy()).all()
