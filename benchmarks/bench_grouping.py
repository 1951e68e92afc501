"""Benchmark: grouping at school and district scale.

Targets (issue 6): the optimal assignment for 2,000 students and 250 mentors with the side
constraints in under 10 s; deferred acceptance in under 1 s; a district of 50 such schools in
under 5 minutes.

The school is the synthetic primary school with 2,000 students and groups of up to 8
(``students_per_mentor=8``, ``class_size=48``): 1,990 students in 42 classes, 261 mentors.
"Side constraints": group size 5-8, every staff member a mentor, gender balance (each group's
female share within 0.25 of the school's), the class scope (students with mentors linked to
their class); also measured: home areas (each group from at most 4), the grade and the whole
school as scope. Every solve is exact (proven optimal).

    python benchmarks/bench_grouping.py                  # school + 50-school district
    python benchmarks/bench_grouping.py --schools 10     # a smaller district
    python benchmarks/bench_grouping.py --school-wide    # also gender-balanced school scope (minutes)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mentorlib import grouping as g
from mentorlib.data import from_synth
from mentorlib.errors import InfeasibleError
from mentorlib.matching import deferred_acceptance
from mentorlib.synth import SynthParams, generate

from _measure import PeakMemory, save

SCHOOL = dict(level="primary", n_students=2000, n_years=1, students_per_mentor=8.0, class_size=48)


def school(seed: int):
    p = from_synth(generate(SynthParams(seed=seed, **SCHOOL)))
    return p, *g.roster(p, p.years[0])


def timed(fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return out, round(time.perf_counter() - t, 3)


def bench_school(school_wide: bool) -> dict:
    P, S, M = school(1)
    rules = P.rules
    res: dict = {"students": len(S), "mentors": len(M), "classes": int(S["class"].nunique())}
    _, res["fit_matrix_s"] = timed(g.fit_scores, S, M, rules)
    runs = {
        "optimal_class_gender_s": g.OptimalPolicy(),
        "optimal_class_gender_areas4_s": g.OptimalPolicy(max_areas=4),
        "optimal_grade_gender_s": g.OptimalPolicy(scope="grade"),
        "optimal_school_no_gender_s": g.OptimalPolicy(scope="school", gender_tol=None),
        "two_way_class_gender_s": g.TwoWayPolicy(),
        "random_class_gender_s": g.RandomPolicy(),
        "regroup_s": g.RegroupPolicy(),
    }
    if school_wide:
        runs["optimal_school_gender_s"] = g.OptimalPolicy(scope="school")
    for key, pol in runs.items():
        a, res[key] = timed(pol.assign, S, M, rules, seed=0)
        res[key[:-2] + "_total_fit"] = round(float(a["fit"].sum()), 3)
        print(f"  {key:34s} {res[key]:8.2f} s   total fit {a['fit'].sum():.2f}", flush=True)
    _, res["check_s"] = timed(g.check, a, S, M, rules)
    # deferred acceptance alone, on plain dicts: full lists over the whole school (the
    # hardest case: 1,990 x 261 proposals possible) and class-scope lists
    for scope in ("school", "class"):
        sp = g.student_preferences(S, M, rules, scope=scope, noise=0.1, seed=0)
        mp = g.mentor_preferences(S, M, rules, scope=scope, noise=0.1, seed=1)
        sl = sp.groupby("student_id", sort=False)["mentor_id"].apply(list).to_dict()
        ml = mp.groupby("mentor_id", sort=False)["student_id"].apply(list).to_dict()
        caps = dict.fromkeys(ml, rules.group_max)
        _, res[f"deferred_acceptance_{scope}_s"] = timed(deferred_acceptance, sl, ml, caps)
        res[f"deferred_acceptance_{scope}_list_entries"] = len(sp) + len(mp)
    return res


def bench_district(n: int) -> dict:
    """Roster + optimal assignment + check for each school; generation is not timed.

    Gender balance around the school's female share is the default; a school with a class
    whose own share is too far from it for any grouping (InfeasibleError, "gender balance")
    is counted and grouped again around each class's share (``gender_ref="unit"``), both
    attempts timed.
    """
    solve, per, fallback = 0.0, [], 0
    for k in range(n):
        P, _, _ = school(100 + k)
        t = time.perf_counter()
        S, M = g.roster(P, P.years[0])
        try:
            a = g.OptimalPolicy().assign(S, M, P.rules)
        except InfeasibleError as e:
            assert str(e).startswith("gender balance"), e
            fallback += 1
            a = g.OptimalPolicy(gender_ref="unit").assign(S, M, P.rules)
        c = g.check(a, S, M, P.rules)
        dt = time.perf_counter() - t
        assert g.hard_rules_met(c)
        solve += dt
        per.append(round(dt, 2))
        print(f"  school {k + 1}/{n}: {dt:.2f} s", flush=True)
    return {
        "schools": n,
        "district_s": round(solve, 1),
        "per_school_max_s": max(per),
        "per_school_mean_s": round(solve / n, 2),
        "extrapolated_50_schools_s": round(solve / n * 50, 1),
        "schools_regrouped_around_class_share": fallback,
    }


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--schools", type=int, default=50)
    ap.add_argument("--school-wide", action="store_true")
    args = ap.parse_args(argv)
    res: dict = {}
    with PeakMemory() as mem:
        print("one school (2,000 students requested):", flush=True)
        res["school"] = bench_school(args.school_wide)
        print(f"district of {args.schools} schools (optimal, class scope, gender balance):")
        res["district"] = bench_district(args.schools) if args.schools else {}
    res["peak_memory_gb"] = round(mem.peak_gb, 2)
    s, d = res["school"], res["district"]
    res["targets"] = {
        "optimal_under_10_s": s["optimal_class_gender_s"] < 10,
        "deferred_acceptance_under_1_s": s["deferred_acceptance_school_s"] < 1,
        "district_50_under_300_s": (d.get("extrapolated_50_schools_s", 1e9) < 300),
    }
    print(
        f"school: {s['students']} students, {s['mentors']} mentors; optimal (class scope, "
        f"gender) {s['optimal_class_gender_s']} s, + home areas "
        f"{s['optimal_class_gender_areas4_s']} s, grade scope {s['optimal_grade_gender_s']} s, "
        f"school scope without gender {s['optimal_school_no_gender_s']} s; deferred acceptance "
        f"{s['deferred_acceptance_school_s']} s (school-wide lists), "
        f"{s['deferred_acceptance_class_s']} s (class lists)"
    )
    if d:
        print(
            f"district: {d['schools']} schools in {d['district_s']} s "
            f"(max {d['per_school_max_s']} s a school; 50 schools ~ "
            f"{d['extrapolated_50_schools_s']} s; {d['schools_regrouped_around_class_share']} "
            f"schools balanced around each class's share); peak memory {res['peak_memory_gb']} GB"
        )
    save("grouping", res)
    return res


if __name__ == "__main__":
    main()
