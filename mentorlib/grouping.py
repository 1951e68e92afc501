"""Grouping students with mentors: fit, matching policies, the rulebook checker, a simulator.

The programme forms groups (分组, PROGRAMME.md) from a growth-needs questionnaire: mentors are
matched to students by the fit between a mentor's strengths and a student's needs (two-way
selection, 双向选择), the class teacher adjusts for gender balance and home address, and after
each term's satisfaction survey at most 15% of students are regrouped. This module lets a
researcher run candidate grouping policies on a real roster, check each against the rulebook
and compare what each would likely yield.

Flow
----
:func:`roster`
    A processed study's year -> ``(students, mentors)``, the two tables every policy reads.
:func:`fit_scores`, :func:`student_preferences`, :func:`mentor_preferences`
    Needs-strength fit of every student with every mentor; preferences from stated choices
    (middle school names three mentors) or from fit.
:data:`POLICIES`, :func:`make_policy`
    Policies, scikit-learn style: ``__init__`` stores parameters, ``assign(students, mentors,
    rules, *, seed)`` returns an assignment table (student_id, mentor_id, fit, source).
:func:`check`
    Any assignment against the rulebook: a tidy table (rule, value, target, pass, hard).
:class:`OutcomeModel`, :func:`simulate_outcomes`, :func:`compare`, :func:`compare_policies`
    Predicted improvement rates under each policy over random draws, with intervals.
:func:`run_policy`
    One policy on one year of a processed study (the ``mentorlib groups`` command).

Low level (in :mod:`mentorlib.matching`): :func:`deferred_acceptance` (Gale-Shapley with capacities, on plain dicts) and
:func:`solve_assignment` (the exact maximum-fit assignment under the side constraints).

Examples
--------
>>> from mentorlib.synth import generate, SynthParams
>>> from mentorlib.data import from_synth
>>> P = from_synth(generate(SynthParams(n_students=300, n_years=1, seed=3)))
>>> assignment, table = run_policy(P, 2023, "optimal")
>>> bool(table.loc[table["hard"], "pass"].all())
True
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from .codebook import load_codebook
from .errors import InfeasibleError, InputError
from .matching import AssignmentSpec, UnitNames, deferred_acceptance, solve_spec
from .rules import DIMENSION_LABELS_ZH, Rulebook

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .data import Processed

#: Default weights of the fit components (the generator's needs-strength fit).
DEFAULT_WEIGHTS: dict[str, float] = {"needs": 0.7, "interests": 0.3, "help": 0.0}

#: Which mentor strength serves each kind of help a student asks for (needs survey codes).
#: ``interest`` is served by a shared interest; ``family`` (every mentor's duty) is not scored.
HELP_DIMENSIONS: dict[str, tuple[str, ...]] = {
    "tutoring": ("academic",),
    "talk": ("psychological", "moral"),
    "care": ("habits", "life"),
}

#: Where each policy may place a student: with mentors of the student's class, grade or school.
SCOPES = ("class", "grade", "school")

#: Default gender tolerance: every group's female share within this of the school's share.
GENDER_TOL = 0.25

#: Chinese labels of the policies (figures and reports).
POLICY_LABELS_ZH: dict[str, str] = {
    "recorded": "现有分组",
    "current": "班主任默认分组",
    "random": "随机分组",
    "two_way": "双向选择",
    "optimal": "最优匹配",
    "regroup": "学期调整",
}

#: Chinese labels of the checker's rules.
RULE_LABELS_ZH: dict[str, str] = {
    "assignment_valid": "分组表有效",
    "students_assigned": "学生全覆盖",
    "staff_mentoring": "教职工全员任导师",
    "group_min": "最小组人数",
    "group_max": "最大组人数",
    "students_per_mentor": "师生比",
    "gender_balance": "性别均衡",
    "in_scope": "同班/同年级",
    "first_choice": "第一志愿满足率",
    "top3_choice": "前三志愿满足率",
    "blocking_pairs": "不稳定师生对",
    "changed_share": "调整比例",
    "total_fit": "总匹配度",
    "mean_fit": "平均匹配度",
}

_PREF_COLUMNS = ("pref_1", "pref_2", "pref_3")


# =========================================================================== data


def roster(processed: Processed, year: int, *, term: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The students and mentors of one school year, as every policy reads them.

    Parameters
    ----------
    processed : Processed
        A processed study (:func:`mentorlib.data.load_processed` or ``from_synth``).
    year : int
        School year (its first calendar year).
    term : {1, 2}
        The term whose groups are "current" and whose satisfaction survey is attached.

    Returns
    -------
    students : DataFrame
        One row per student to group (primary: every student; middle: the nominated
        mentees): ``student_id``, ``gender``, ``grade``, ``class_no``, ``class`` ("3-2"),
        ``home_area``, ``weak_areas``, ``help_wanted``, ``interests`` (";"-joined codes from
        the needs survey), ``pref_1``..``pref_3`` (middle school: named mentors),
        ``current_mentor`` (the mentor in ``term``), ``want_change``, ``reason`` and
        ``satisfaction`` (that term's survey).
    mentors : DataFrame
        Staff eligible to mentor under the rulebook: ``mentor_id``, ``gender``, ``role``,
        ``grade``, ``link_class``, ``homeroom``, ``classes``, ``strengths``.
    """
    rules = processed.rules
    st = processed["students"]
    st = st.loc[st["year"] == year]
    if st.empty:
        raise InputError(f"no students in year {year}; the study has {list(processed.years)}")
    if not rules.all_students_mentored and "mentee" in st.columns:
        st = st.loc[st["mentee"].fillna(False).astype(bool)]
    grade = pd.to_numeric(st["grade"], errors="coerce").astype("Int64")
    cls_no = pd.to_numeric(st["class_no"], errors="coerce").astype("Int64")
    students = pd.DataFrame(
        {
            "student_id": st["student_id"].astype(str).to_numpy(),
            "gender": st["gender"].astype(str).to_numpy(),
            "grade": grade.to_numpy(),
            "class_no": cls_no.to_numpy(),
            "class": (grade.astype(str) + "-" + cls_no.astype(str)).to_numpy(),
        }
    )
    if "home_area" in st:
        students["home_area"] = st["home_area"].astype("str").to_numpy()
    if "needs" in processed:
        nd = processed["needs"]
        nd = nd.loc[nd["year"] == year]
        keep = [c for c in ("weak_areas", "help_wanted", "interests", *_PREF_COLUMNS) if c in nd]
        nd = nd[["student_id", *keep]].assign(student_id=lambda d: d["student_id"].astype(str))
        nd = nd.drop_duplicates("student_id", keep="last")
        students = students.merge(nd, on="student_id", how="left")
    if "assignments" in processed:
        a = processed["assignments"]
        a = a.loc[(a["year"] == year) & (a["term"] <= term)]
        sort = ["term", "start_date"] if "start_date" in a else ["term"]
        a = a.sort_values(sort, kind="stable").drop_duplicates("student_id", keep="last")
        cur = dict(zip(a["student_id"].astype(str), a["mentor_id"].astype(str), strict=True))
        students["current_mentor"] = students["student_id"].map(cur).astype("str")
    if "satisfaction" in processed:
        sat = processed["satisfaction"]
        sat = sat.loc[(sat["year"] == year) & (sat["term"] == term)]
        sat = sat.drop_duplicates("student_id", keep="last")
        cols = [c for c in ("want_change", "reason", "satisfaction") if c in sat]
        sat = sat[["student_id", *cols]].assign(
            student_id=lambda d: d["student_id"].astype(str),
            **({"reason": lambda d: d["reason"].astype(str)} if "reason" in cols else {}),
        )
        students = students.merge(sat, on="student_id", how="left")
    sf = processed["staff"]
    sf = sf.loc[(sf["year"] == year) & sf["role"].astype(str).isin(rules.mentor_roles)]
    mentors = pd.DataFrame(
        {
            "mentor_id": sf["staff_id"].astype(str).to_numpy(),
            "gender": sf["gender"].astype(str).to_numpy(),
            "role": sf["role"].astype(str).to_numpy(),
            "grade": pd.to_numeric(sf["grade"], errors="coerce").astype("Int64").to_numpy(),
        }
    )
    for c in ("link_class", "homeroom", "classes", "strengths"):
        mentors[c] = sf[c].astype("str").to_numpy() if c in sf else pd.NA
    if mentors.empty:
        raise InputError(f"no staff eligible to mentor in year {year} ({rules.mentor_roles})")
    return students, mentors


def _tokens(values: Iterable | None, n: int) -> list[set[str]]:
    """';'-joined codes -> a set per row (missing -> empty)."""
    if values is None:
        return [set() for _ in range(n)]
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            out.append(set())
        else:
            out.append({t.strip() for t in str(v).split(";") if t.strip() and t.strip() != "nan"})
    return out


def _indicator(sets: list[set[str]], vocab: Sequence[str]) -> np.ndarray:
    pos = {v: j for j, v in enumerate(vocab)}
    out = np.zeros((len(sets), len(vocab)), dtype=bool)
    for i, s in enumerate(sets):
        for t in s:
            j = pos.get(t)
            if j is not None:
                out[i, j] = True
    return out


def _col(df: pd.DataFrame, name: str):
    return df[name].to_numpy(dtype=object) if name in df.columns else None


@dataclass
class _Problem:
    """A roster as arrays: ids, attributes, fit, allowed pairs and bounds."""

    students: pd.DataFrame
    mentors: pd.DataFrame
    rules: Rulebook
    scope: str
    sid: np.ndarray
    mid: np.ndarray
    female: np.ndarray
    weak: np.ndarray  # (n, D) weak dimensions from the needs survey
    strength: np.ndarray  # (m, D) mentor strength dimensions
    fit: np.ndarray  # (n, m)
    allowed: np.ndarray  # (n, m)
    unit: np.ndarray  # per student, for messages
    lower: np.ndarray
    upper: np.ndarray
    required: np.ndarray
    names: UnitNames

    @property
    def n(self) -> int:
        return len(self.sid)

    @property
    def m(self) -> int:
        return len(self.mid)

    def current(self) -> np.ndarray:
        """Column of each student's current mentor (-1 if none or not a mentor here)."""
        if "current_mentor" not in self.students:
            raise InputError("students has no current_mentor column (the groups now in place)")
        pos = {v: j for j, v in enumerate(self.mid)}
        cur = self.students["current_mentor"].to_numpy(dtype=object)
        return np.array([pos.get(str(c), -1) for c in cur], dtype=int)

    def ratio(self, gender_ref: str = "school") -> float | np.ndarray:
        """Reference female share: the school's, or per mentor that of the students in scope."""
        if gender_ref not in ("school", "unit"):
            raise InputError(f"unknown gender_ref {gender_ref!r}: expected 'school' or 'unit'")
        r = float(self.female.mean()) if self.n else 0.0
        if gender_ref == "school":
            return r
        k = self.allowed.sum(0)
        f = self.female.astype(float) @ self.allowed
        return np.where(k > 0, f / np.maximum(k, 1), r)

    def spec(
        self,
        w: np.ndarray,
        *,
        gender_tol=None,
        gender_ref="school",
        max_areas=None,
        time_limit=None,
    ) -> AssignmentSpec:
        tol = gender_tol if _gender_applies(self.rules) else None
        areas = None
        if max_areas is not None:
            if "home_area" not in self.students:
                raise InputError("max_areas needs the students' home_area")
            areas = pd.factorize(self.students["home_area"], use_na_sentinel=False)[0]
        return AssignmentSpec(
            w=w,
            ok=self.allowed,
            lo=self.lower,
            hi=self.upper,
            req=self.required,
            female=self.female,
            tol=tol,
            ratio=self.ratio(gender_ref),
            areas=areas,
            max_areas=max_areas,
            time_limit=time_limit,
        )


def _gender_applies(rules: Rulebook) -> bool:
    """Gender balance is a rule for groups of several students (primary 5-8), not of 1-2."""
    return rules.group_min >= 3


def _require(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{what} must be a DataFrame, got {type(df).__name__}")
    miss = [c for c in cols if c not in df.columns]
    if miss:
        raise InputError(f"{what} lacks column(s) {', '.join(miss)}")


def _ids(df: pd.DataFrame, col: str, what: str) -> np.ndarray:
    ids = df[col].astype(str).to_numpy(dtype=object)
    if pd.isna(df[col]).any():
        raise InputError(f"{what}: missing {col}")
    dup = pd.Index(ids).duplicated()
    if dup.any():
        raise InputError(f"{what}: duplicate {col} {ids[dup][0]!r}")
    return ids


def _mentor_classes(mentors: pd.DataFrame) -> list[set[str]]:
    """Classes a mentor mentors in: the link class, else the homeroom and classes taught."""
    link = _tokens(_col(mentors, "link_class"), len(mentors))
    home = _tokens(_col(mentors, "homeroom"), len(mentors))
    taught = _tokens(_col(mentors, "classes"), len(mentors))
    return [lk if lk else (h | t) for lk, h, t in zip(link, home, taught, strict=True)]


def _mentor_grades(mentors: pd.DataFrame, classes: list[set[str]]) -> np.ndarray:
    g = (
        pd.to_numeric(mentors["grade"], errors="coerce").to_numpy(dtype=float)
        if "grade" in mentors
        else np.full(len(mentors), np.nan)
    )
    for j, cs in enumerate(classes):
        if np.isnan(g[j]) and cs:
            g[j] = float(sorted(cs)[0].split("-")[0])
    return g


def _allowed(students, mentors, scope, n, m) -> tuple[np.ndarray, np.ndarray]:
    if scope not in SCOPES:
        raise InputError(f"unknown scope {scope!r}: expected one of {', '.join(SCOPES)}")
    if scope == "school":
        return np.ones((n, m), dtype=bool), np.full(n, "the school", dtype=object)
    if scope == "class":
        if "class" in students:
            cls = students["class"].astype(str).to_numpy(dtype=object)
        else:
            _require(students, ("grade", "class_no"), "students (class scope)")
            cls = (students["grade"].astype(str) + "-" + students["class_no"].astype(str)).to_numpy(
                dtype=object
            )
        mcls = _mentor_classes(mentors)
        codes, uniq = pd.factorize(pd.Series(cls, dtype=object))
        ok_u = np.array([[u in cs for cs in mcls] for u in uniq], dtype=bool).reshape(len(uniq), m)
        return ok_u[codes], np.array([f"class {c}" for c in cls], dtype=object)
    _require(students, ("grade",), "students (grade scope)")
    sg = pd.to_numeric(students["grade"], errors="coerce").to_numpy(dtype=float)
    mg = _mentor_grades(mentors, _mentor_classes(mentors))
    unit = np.array([f"grade {int(g)}" if not np.isnan(g) else "grade ?" for g in sg], dtype=object)
    return sg[:, None] == mg[None, :], unit


def _fit_parts(students, mentors, rules):
    """Indicator matrices for the fit: weak dims, help, interests (students); strengths."""
    n, m = len(students), len(mentors)
    dims = list(rules.dimensions)
    optdim = dict(load_codebook(f"needs_{rules.level}").option_dimensions.get("weak_areas", {}))
    optdim.update({d: d for d in dims})  # a code that already names a dimension
    weak_sets = [
        {optdim[t] for t in s if t in optdim} for s in _tokens(_col(students, "weak_areas"), n)
    ]
    weak = _indicator(weak_sets, dims)
    help_sets = _tokens(_col(students, "help_wanted"), n)
    s_int = _tokens(_col(students, "interests"), n)
    strengths = _tokens(_col(mentors, "strengths"), m)
    strength = _indicator(strengths, dims)
    m_int = [s - set(dims) for s in strengths]
    vocab = sorted(set().union(*s_int, *m_int)) if (s_int or m_int) else []
    return weak, help_sets, _indicator(s_int, vocab), strength, _indicator(m_int, vocab)


def _fit_matrix(weak, help_sets, s_int, strength, m_int, dims, weights) -> np.ndarray:
    wk = weak.astype(float)
    cover = wk @ strength.T.astype(float) / np.maximum(wk.sum(1, keepdims=True), 1.0)
    si, mi = s_int.astype(float), m_int.astype(float)
    inter = si @ mi.T
    union = si.sum(1)[:, None] + mi.sum(1)[None, :] - inter
    jac = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    fit = weights["needs"] * cover + weights["interests"] * jac
    if weights.get("help", 0.0):
        serve = {
            code: strength[:, [dims.index(d) for d in ds if d in dims]].any(1)
            for code, ds in HELP_DIMENSIONS.items()
        }
        serve["interest"] = None
        num = np.zeros_like(fit)
        den = np.zeros(len(help_sets))
        for i, hs in enumerate(help_sets):
            for code in hs:
                if code not in serve:
                    continue
                den[i] += 1
                num[i] += (inter[i] > 0) if code == "interest" else serve[code]
        fit = fit + weights["help"] * num / np.maximum(den, 1.0)[:, None]
    return fit


def _weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    w = dict(DEFAULT_WEIGHTS)
    if weights is not None:
        bad = set(weights) - set(w)
        if bad:
            raise InputError(f"unknown fit weight(s) {sorted(bad)}: expected {sorted(w)}")
        w.update({k: float(v) for k, v in weights.items()})
    if any(v < 0 for v in w.values()) or sum(w.values()) <= 0:
        raise InputError("fit weights must be non-negative and not all zero")
    return w


def _default_scope(rules: Rulebook) -> str:
    return "class" if rules.all_students_mentored else "grade"


def _problem(students, mentors, rules, *, weights=None, scope=None) -> _Problem:
    if not isinstance(rules, Rulebook):
        raise InputError(f"rules must be a Rulebook (mentorlib.rulebook(level)), got {rules!r}")
    _require(students, ("student_id", "gender"), "students")
    _require(mentors, ("mentor_id",), "mentors")
    sid = _ids(students, "student_id", "students")
    mid = _ids(mentors, "mentor_id", "mentors")
    gender = students["gender"].astype(str).str.lower()
    bad = ~gender.isin(["female", "male"])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"students: gender must be female or male, got {students['gender'].iloc[i]!r} "
            f"for {sid[i]}"
        )
    scope = scope or _default_scope(rules)
    n, m = len(sid), len(mid)
    allowed, unit = _allowed(students, mentors, scope, n, m)
    weak, help_sets, s_int, strength, m_int = _fit_parts(students, mentors, rules)
    fit = _fit_matrix(
        weak, help_sets, s_int, strength, m_int, list(rules.dimensions), _weights(weights)
    )
    req = np.full(m, bool(rules.all_students_mentored))
    return _Problem(
        students=students,
        mentors=mentors,
        rules=rules,
        scope=scope,
        sid=sid,
        mid=mid,
        female=(gender == "female").to_numpy(),
        weak=weak,
        strength=strength,
        fit=fit,
        allowed=allowed,
        unit=unit,
        lower=np.full(m, rules.group_min),
        upper=np.full(m, rules.group_max),
        required=req,
        names=UnitNames(
            np.array([f"student {s}" for s in sid], dtype=object),
            np.array([f"mentor {s}" for s in mid], dtype=object),
            unit,
        ),
    )


def fit_scores(
    students: pd.DataFrame,
    mentors: pd.DataFrame,
    rules: Rulebook,
    *,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Needs-strength fit of every student with every mentor.

    Parameters
    ----------
    students, mentors : DataFrame
        As returned by :func:`roster` (``weak_areas``, ``help_wanted``, ``interests``;
        ``strengths``: ";"-joined dimension and interest codes).
    rules : Rulebook
        Picks the dimensions and the needs codebook (which weak area points to which
        dimension: ``option_dimensions`` in ``needs_<level>.toml``).
    weights : mapping, optional
        ``needs``, ``interests``, ``help`` (default 0.7, 0.3, 0.0).

    Returns
    -------
    DataFrame
        Index ``student_id``, one column per ``mentor_id``, values in ``[0, sum(weights)]``.

    Notes
    -----
    ``fit = w_n * |W_s & S_m| / |W_s| + w_i * |I_s & I_m| / |I_s | I_m| + w_h * H_sm``, where
    ``W_s`` are the dimensions of the student's weak areas, ``S_m`` the mentor's strength
    dimensions, ``I`` the interest codes (the second term is the Jaccard index; Jaccard 1912)
    and ``H_sm`` the share of the help the student asks for that the mentor can give
    (:data:`HELP_DIMENSIONS`; a shared interest serves ``interest``). Empty sets count 0.
    With the default weights this is the needs-strength fit of the synthetic generator
    (``mentorlib.synth.model``), the programme's "fit between a mentor's strengths and a
    student's needs" (PROGRAMME.md, 分组 2).

    Examples
    --------
    >>> from mentorlib.rules import rulebook
    >>> s = pd.DataFrame({"student_id": ["a"], "gender": ["male"],
    ...                   "weak_areas": ["study_method;emotion"], "interests": ["art;music"]})
    >>> m = pd.DataFrame({"mentor_id": ["x"], "strengths": ["academic;art"]})
    >>> float(fit_scores(s, m, rulebook("primary")).loc["a", "x"])  # 0.7*1/2 + 0.3*1/2
    0.5
    """
    pb = _problem(students, mentors, rules, weights=weights, scope="school")
    return pd.DataFrame(
        pb.fit,
        index=pd.Index(pb.sid, name="student_id"),
        columns=pd.Index(pb.mid, name="mentor_id"),
    )


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _stated(pb: _Problem) -> list[list[int]] | None:
    """Stated choices (pref_1..pref_3) as mentor columns, or None if nobody stated any."""
    cols = [c for c in _PREF_COLUMNS if c in pb.students.columns]
    if not cols:
        return None
    raw = pb.students[cols].astype("str").to_numpy(dtype=object)
    pos = {v: j for j, v in enumerate(pb.mid)}
    out, any_stated = [], False
    for i, row in enumerate(raw):
        lst: list[int] = []
        for v in row:
            j = pos.get(str(v))
            if j is not None and pb.allowed[i, j] and j not in lst:
                lst.append(j)
        any_stated |= bool(lst)
        out.append(lst)
    return out if any_stated else None


def _student_lists(pb, source="auto", noise=0.0, length=None, rng=None) -> list[list[int]]:
    if source not in ("auto", "stated", "fit"):
        raise InputError(f"unknown preference source {source!r}: expected auto, stated or fit")
    if source in ("auto", "stated"):
        stated = _stated(pb)
        if stated is not None:
            return stated
        if source == "stated":
            raise InputError("students have no stated choices (pref_1..pref_3)")
    u = pb.fit + (rng.gumbel(0.0, noise, pb.fit.shape) if noise > 0 else 0.0)
    u = np.where(pb.allowed, u, -np.inf)
    order = np.argsort(-u, axis=1, kind="stable")
    k = pb.allowed.sum(1)
    return [list(order[i, : min(k[i], length or k[i])]) for i in range(pb.n)]


def _mentor_lists(pb, noise=0.0, rng=None) -> list[list[int]]:
    u = pb.fit + (rng.gumbel(0.0, noise, pb.fit.shape) if noise > 0 else 0.0)
    u = np.where(pb.allowed, u, -np.inf)
    order = np.argsort(-u, axis=0, kind="stable")
    k = pb.allowed.sum(0)
    return [list(order[: k[j], j]) for j in range(pb.m)]


def student_preferences(
    students: pd.DataFrame,
    mentors: pd.DataFrame,
    rules: Rulebook,
    *,
    source: str = "auto",
    length: int | None = None,
    noise: float = 0.0,
    scope: str | None = None,
    weights: Mapping[str, float] | None = None,
    seed=None,
) -> pd.DataFrame:
    """Each student's ranked list of acceptable mentors.

    Parameters
    ----------
    source : {"auto", "stated", "fit"}
        ``stated``: the mentors a student named (middle school ``pref_1..pref_3``), those
        outside the scope dropped; ``fit``: every mentor in scope by decreasing fit;
        ``auto``: stated where the survey has choices, else fit.
    length : int, optional
        Keep the first ``length`` mentors of a fit-based list.
    noise : float
        Scale of Gumbel noise added to fit before ranking (a student's imperfect view).
    scope : {"class", "grade", "school"}, optional
        Which mentors are acceptable; default class (primary) or grade (middle).

    Returns
    -------
    DataFrame
        ``student_id``, ``rank`` (1 = first choice), ``mentor_id``, ``fit``.

    Notes
    -----
    With Gumbel noise the ranking follows the random-utility (Plackett-Luce) model:
    ``P(m first) = exp(fit_m / noise) / sum_k exp(fit_k / noise)`` (McFadden 1974).
    """
    pb = _problem(students, mentors, rules, weights=weights, scope=scope)
    lists = _student_lists(pb, source, noise, length, _rng(seed))
    rows = [
        (pb.sid[i], r + 1, pb.mid[j], pb.fit[i, j])
        for i, lst in enumerate(lists)
        for r, j in enumerate(lst)
    ]
    return pd.DataFrame(rows, columns=["student_id", "rank", "mentor_id", "fit"])


def mentor_preferences(
    students: pd.DataFrame,
    mentors: pd.DataFrame,
    rules: Rulebook,
    *,
    noise: float = 0.0,
    scope: str | None = None,
    weights: Mapping[str, float] | None = None,
    seed=None,
) -> pd.DataFrame:
    """Each mentor's ranking of the students in scope, by decreasing fit (plus noise).

    Returns
    -------
    DataFrame
        ``mentor_id``, ``rank`` (1 = most preferred), ``student_id``, ``fit``.

    Notes
    -----
    Mentors rank by the same needs-strength fit as :func:`fit_scores` (the programme: a
    mentor chooses the students whose needs match the mentor's strengths), with optional
    Gumbel noise as in :func:`student_preferences`.
    """
    pb = _problem(students, mentors, rules, weights=weights, scope=scope)
    lists = _mentor_lists(pb, noise, _rng(seed))
    rows = [
        (pb.mid[j], r + 1, pb.sid[i], pb.fit[i, j])
        for j, lst in enumerate(lists)
        for r, i in enumerate(lst)
    ]
    return pd.DataFrame(rows, columns=["mentor_id", "rank", "student_id", "fit"])


# =========================================================================== policies


def _result(pb: _Problem, col: np.ndarray, source) -> pd.DataFrame:
    ok = col >= 0
    fit = np.where(ok, pb.fit[np.arange(pb.n), np.maximum(col, 0)], np.nan)
    return pd.DataFrame(
        {
            "student_id": pd.array(pb.sid, dtype="str"),
            "mentor_id": pd.array(np.where(ok, pb.mid[np.maximum(col, 0)], None), dtype="str"),
            "fit": fit,
            "source": pd.array(
                np.broadcast_to(np.asarray(source, dtype=object), (pb.n,)), dtype="str"
            ),
        }
    )


class Policy:
    """A grouping policy: parameters in ``__init__``, groups from :meth:`assign`.

    Subclasses set ``name`` (the command-line name), ``stochastic`` (the result depends on
    ``seed``) and ``adjusts`` (an adjustment of current groups, bound by the 15% rule).
    """

    name: ClassVar[str] = ""
    stochastic: ClassVar[bool] = False
    adjusts: ClassVar[bool] = False

    def assign(
        self, students: pd.DataFrame, mentors: pd.DataFrame, rules: Rulebook, *, seed=None
    ) -> pd.DataFrame:
        """Group the students.

        Parameters
        ----------
        students, mentors : DataFrame
            As returned by :func:`roster`; neither is modified.
        rules : Rulebook
            Group-size bounds, coverage and the regrouping cap.
        seed : int or numpy Generator, optional
            Randomness (noisy preferences, random groups).

        Returns
        -------
        DataFrame
            One row per student, in the order of ``students``: ``student_id``, ``mentor_id``,
            ``fit`` (needs-strength fit of the pair), ``source`` (how the pair came about,
            e.g. ``matched``, ``reconciled``, ``kept``, ``moved``).

        Raises
        ------
        InfeasibleError
            When no grouping meets the rules; the message names the binding rule.
        """
        raise NotImplementedError

    @classmethod
    def _param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self) -> dict[str, Any]:
        """The policy's parameters (scikit-learn convention)."""
        return {k: getattr(self, k) for k in self._param_names()}

    @property
    def is_stochastic(self) -> bool:
        return self.stochastic

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


class RecordedPolicy(Policy):
    """The groups as recorded (``students.current_mentor``): the baseline of a comparison."""

    name = "recorded"

    def __init__(self):
        pass

    def assign(self, students, mentors, rules, *, seed=None):
        pb = _problem(students, mentors, rules, scope="school")
        cur = pb.current()
        if (cur < 0).any():
            i = int(np.flatnonzero(cur < 0)[0])
            raise InputError(
                f"recorded: student {pb.sid[i]} has no current mentor among the mentors "
                f"({int((cur < 0).sum())} students)"
            )
        return _result(pb, cur, "recorded")


class ClassDefaultPolicy(Policy):
    """Current practice: the class teacher splits the class list among the class's mentors.

    Students in roster order (student number) go in consecutive blocks of near-equal size to
    the mentors of their class (primary: the staff linked to the class, the class teacher
    first; middle: the teachers of the class), each up to ``group_max``; a student whose
    class has no room goes to the least-loaded mentor of the grade. No fit is used.
    """

    name = "current"

    def __init__(self):
        pass

    def assign(self, students, mentors, rules, *, seed=None):
        pb = _problem(students, mentors, rules, scope="class")
        grade_ok, _ = _allowed(students, mentors, "grade", pb.n, pb.m)
        home = [
            str(v) for v in (_col(mentors, "homeroom") if "homeroom" in mentors else [None] * pb.m)
        ]
        cls = np.array([u.removeprefix("class ") for u in pb.unit], dtype=object)
        load = np.zeros(pb.m, dtype=int)
        out = np.full(pb.n, -1)
        order = np.lexsort((pb.sid, cls))
        for c in pd.unique(cls[order]):
            idx = order[cls[order] == c]
            cand = np.flatnonzero(pb.allowed[idx[0]])
            cand = cand[np.lexsort((pb.mid[cand], [home[j] != c for j in cand]))]
            counts = np.zeros(len(cand), dtype=int)
            for _ in idx:
                room = np.flatnonzero(load[cand] + counts < pb.upper[cand])
                if not len(room):
                    continue
                counts[room[np.argmin(load[cand][room] + counts[room])]] += 1
            k = 0
            for j, cnt in zip(cand, counts, strict=True):
                out[idx[k : k + cnt]] = j
                k += cnt
            load[cand] += counts
            for i in idx[k:]:  # spill-over: the grade's least-loaded mentor with room
                pool = np.flatnonzero(grade_ok[i] & (load < pb.upper))
                if not len(pool):
                    raise InfeasibleError(
                        f"group_max: class {c} has {len(idx)} students but its mentors and its "
                        f"grade's mentors have no room left (at most {rules.group_max} each)"
                    )
                j = pool[np.argmin(load[pool])]
                out[i] = j
                load[j] += 1
        short = np.flatnonzero(pb.required & (load < pb.lower))
        if len(short):
            j = short[0]
            raise InfeasibleError(
                f"group_min: by the class default {pb.names.mentors[j]} gets {load[j]} students, "
                f"fewer than {pb.lower[j]} (the class is too small for its mentors)"
            )
        return _result(pb, out, "class_default")


class RandomPolicy(Policy):
    """Random groups within the constraints (scope, group-size bounds, gender balance).

    Parameters
    ----------
    scope : {"class", "grade", "school"}, optional
        Default: class (primary), grade (middle).
    gender_tol, gender_ref
        As for :class:`OptimalPolicy`.

    Notes
    -----
    The exact maximum of uniform random pair scores under the constraints: a random grouping
    that meets every rule (not uniform over all such groupings).
    """

    name = "random"
    stochastic = True

    def __init__(
        self,
        scope: str | None = None,
        gender_tol: float | None = GENDER_TOL,
        gender_ref: str = "school",
    ):
        self.scope = scope
        self.gender_tol = gender_tol
        self.gender_ref = gender_ref

    def assign(self, students, mentors, rules, *, seed=None):
        pb = _problem(students, mentors, rules, scope=self.scope)
        w = _rng(seed).random(pb.fit.shape)
        spec = pb.spec(w, gender_tol=self.gender_tol, gender_ref=self.gender_ref)
        col = solve_spec(spec, pb.names)
        return _result(pb, col, "random")


class TwoWayPolicy(Policy):
    """Two-way selection (双向选择): student-proposing deferred acceptance, then reconciliation.

    Parameters
    ----------
    choices : {"auto", "stated", "fit"}
        Students' lists: named mentors (middle school), or every mentor in scope by fit.
    list_length : int, optional
        Truncate fit-based lists (a survey that asks for the top k).
    noise : float
        Gumbel noise on fit when students and mentors rank (each side's imperfect view).
    scope, gender_tol, gender_ref, weights
        As for :class:`OptimalPolicy`.

    Notes
    -----
    Deferred acceptance (Gale & Shapley 1962; Roth 1984) with capacity ``group_max`` gives a
    stable matching. The school then reconciles (PROGRAMME.md, 分组 2-3): an exact
    assignment that keeps the largest number of matched pairs and, among those, the largest
    total fit, while placing unmatched students and meeting ``group_min``, the scope and
    gender balance (pair score ``fit + B * matched`` with ``B`` larger than any fit total).
    ``source`` is ``matched``, ``reconciled`` (moved from the match) or ``placed``.
    """

    name = "two_way"

    def __init__(
        self,
        choices: str = "auto",
        list_length: int | None = None,
        noise: float = 0.1,
        scope: str | None = None,
        gender_tol: float | None = GENDER_TOL,
        gender_ref: str = "school",
        weights: Mapping[str, float] | None = None,
    ):
        self.choices = choices
        self.list_length = list_length
        self.noise = noise
        self.scope = scope
        self.gender_tol = gender_tol
        self.gender_ref = gender_ref
        self.weights = weights

    @property
    def is_stochastic(self) -> bool:
        return self.noise > 0

    def assign(self, students, mentors, rules, *, seed=None):
        pb = _problem(students, mentors, rules, weights=self.weights, scope=self.scope)
        rng = _rng(seed)
        slists = _student_lists(pb, self.choices, self.noise, self.list_length, rng)
        mlists = _mentor_lists(pb, self.noise, rng)
        matched = deferred_acceptance(
            {i: [int(j) for j in lst] for i, lst in enumerate(slists)},
            {j: [int(i) for i in lst] for j, lst in enumerate(mlists)},
            {j: int(c) for j, c in enumerate(pb.upper)},
        )
        da = np.full(pb.n, -1)
        for j, ss in matched.items():
            da[ss] = j
        bonus = float(np.ptp(pb.fit)) * pb.n + 1.0 if pb.n else 1.0
        w = pb.fit + bonus * (np.arange(pb.m)[None, :] == da[:, None])
        spec = pb.spec(w, gender_tol=self.gender_tol, gender_ref=self.gender_ref)
        col = solve_spec(spec, pb.names)
        src = np.where(da < 0, "placed", np.where(col == da, "matched", "reconciled"))
        return _result(pb, col, src)


class OptimalPolicy(Policy):
    """Maximum total fit under the rules, solved exactly (:func:`solve_assignment`).

    Parameters
    ----------
    scope : {"class", "grade", "school"}, optional
        Students go to mentors of their class (primary default), grade (middle default) or
        anywhere in the school.
    gender_tol : float or None
        Each group's female share within this of the school's share (groups of 3 or more;
        None: no gender constraint).
    gender_ref : {"school", "unit"}
        The share to balance around: the school's, or that of the students each mentor may
        take (the class under class scope). A class whose own share is far from the
        school's may have no grouping within ``gender_tol`` of the school's.
    max_areas : int, optional
        Each group draws from at most this many home areas (家庭住址: home visits and
        gatherings stay near).
    weights : mapping, optional
        Fit weights (:func:`fit_scores`).
    noise : float
        Normal noise added to the fit the school sees (0: the fit as measured).
    time_limit : float, optional
        Seconds per solver call.

    Notes
    -----
    ``max sum fit_sm x_sm`` subject to one mentor per student, ``group_min <= size <=
    group_max`` (every staff member a mentor where the rulebook says so), the scope, the
    gender band and the home-area limit; see :func:`solve_assignment` for the formulation and
    the algorithms (slot assignment, or the HiGHS MILP with side constraints).
    """

    name = "optimal"

    def __init__(
        self,
        scope: str | None = None,
        gender_tol: float | None = GENDER_TOL,
        gender_ref: str = "school",
        max_areas: int | None = None,
        weights: Mapping[str, float] | None = None,
        noise: float = 0.0,
        time_limit: float | None = None,
    ):
        self.scope = scope
        self.gender_tol = gender_tol
        self.gender_ref = gender_ref
        self.max_areas = max_areas
        self.weights = weights
        self.noise = noise
        self.time_limit = time_limit

    @property
    def is_stochastic(self) -> bool:
        return self.noise > 0

    def assign(self, students, mentors, rules, *, seed=None):
        pb = _problem(students, mentors, rules, weights=self.weights, scope=self.scope)
        w = pb.fit
        if self.noise > 0:
            w = w + _rng(seed).normal(0.0, self.noise, w.shape)
        spec = pb.spec(
            w,
            gender_tol=self.gender_tol,
            gender_ref=self.gender_ref,
            max_areas=self.max_areas,
            time_limit=self.time_limit,
        )
        return _result(pb, solve_spec(spec, pb.names), "optimal")


class RegroupPolicy(Policy):
    """The end-of-term adjustment: move only students who asked or sit in low-fit pairs.

    Parameters
    ----------
    max_share : float, optional
        At most this share of students change mentor (default: the rulebook's 0.15).
    sound_reasons : sequence of str, optional
        Reasons that count (default: ``options.sound_reasons`` of the satisfaction
        codebook: personality, needs_mismatch, too_little_contact).
    low_fit : float, optional
        Students whose fit with their current mentor is below this are low-fit and may also
        move (None: only those who asked).
    min_gain : float
        What staying is worth to a low-fit student: moves of low-fit students must raise
        their total fit by more than ``min_gain`` each (one move may make room for another,
        or for a student who asked).
    scope, weights
        As for :class:`OptimalPolicy`.
    gender_tol : float or None
        No group may end further from the reference female share than ``gender_tol`` or, if
        it is already further, than it is now (groups of 3 or more).
    gender_ref : {"school", "unit"}
        As for :class:`OptimalPolicy`.

    Notes
    -----
    PROGRAMME.md 分组 4. Everybody else keeps their mentor. Among the candidates the exact
    assignment maximises, lexicographically, (1) the number of students who asked with a
    sound reason and move, (2) the total fit, counting ``min_gain`` for each low-fit student
    who stays, subject to ``changes <= floor(max_share * n)`` (n: students with a current
    mentor), the scope, and group sizes and gender balance no worse than now
    (``min(group_min, size now) <= size <= max(group_max, size now)``). ``source`` is
    ``kept``, ``moved`` (asked), ``moved_low_fit`` or ``placed`` (had no current mentor).
    """

    name = "regroup"
    adjusts = True

    def __init__(
        self,
        max_share: float | None = None,
        sound_reasons: Sequence[str] | None = None,
        low_fit: float | None = 0.1,
        min_gain: float = 0.2,
        scope: str | None = None,
        gender_tol: float | None = GENDER_TOL,
        gender_ref: str = "school",
        weights: Mapping[str, float] | None = None,
    ):
        self.max_share = max_share
        self.sound_reasons = sound_reasons
        self.low_fit = low_fit
        self.min_gain = min_gain
        self.scope = scope
        self.gender_tol = gender_tol
        self.gender_ref = gender_ref
        self.weights = weights

    def _askers(self, students: pd.DataFrame, has: np.ndarray) -> np.ndarray:
        sound = set(
            self.sound_reasons
            if self.sound_reasons is not None
            else load_codebook("satisfaction").options.get("sound_reasons", ())
        )
        n = len(students)
        want = (
            students["want_change"].fillna(False).astype(bool).to_numpy()
            if "want_change" in students
            else np.zeros(n, dtype=bool)
        )
        reason = (
            students["reason"].astype(str).to_numpy(dtype=object)
            if "reason" in students
            else np.full(n, "", dtype=object)
        )
        return has & want & np.isin(reason, list(sound))

    def assign(self, students, mentors, rules, *, seed=None):
        pb = _problem(students, mentors, rules, weights=self.weights, scope=self.scope)
        cur = pb.current()
        has = cur >= 0
        rows = np.arange(pb.n)
        share = rules.max_regroup_share if self.max_share is None else float(self.max_share)
        if not 0 <= share <= 1:
            raise InputError(f"max_share must be between 0 and 1, got {share}")
        ask = self._askers(students, has)
        fit_cur = np.where(has, pb.fit[rows, np.maximum(cur, 0)], np.inf)
        low = has & ~ask & (fit_cur < self.low_fit if self.low_fit is not None else False)
        cand = ask | low
        ok = pb.allowed.copy()
        fixed = has & ~cand
        ok[fixed] = False
        ok[fixed, cur[fixed]] = True
        ok[cand, cur[cand]] = True
        moves = np.zeros_like(ok)
        moves[cand] = ok[cand]
        moves[cand, cur[cand]] = False
        span = float(np.ptp(pb.fit)) if pb.fit.size else 0.0
        gain = max(float(self.min_gain), 0.0)
        ask_bonus = (span + gain) * max(int(cand.sum()), 1) + 1.0
        w = pb.fit.copy()
        w[ask] += ask_bonus * moves[ask]
        w[low, cur[low]] += gain
        n0 = np.bincount(cur[has], minlength=pb.m)
        tol = None
        r = pb.ratio(self.gender_ref)
        if self.gender_tol is not None and _gender_applies(rules):
            f0 = np.bincount(cur[has], weights=pb.female[has].astype(float), minlength=pb.m)
            dev = np.where(n0 >= 3, np.abs(f0 / np.maximum(n0, 1) - r), 0.0)
            tol = np.maximum(float(self.gender_tol), dev + 1e-9)
        spec = AssignmentSpec(
            w=w,
            ok=ok,
            lo=np.where(pb.required, np.minimum(pb.lower, n0), pb.lower),
            hi=np.maximum(pb.upper, n0),
            req=pb.required,
            female=pb.female,
            tol=tol,
            ratio=r,
            moves=moves,
            max_moves=math.floor(share * int(has.sum()) + 1e-9),
        )
        col = solve_spec(spec, pb.names)
        src = np.where(
            ~has,
            "placed",
            np.where(col == cur, "kept", np.where(ask, "moved", "moved_low_fit")),
        )
        return _result(pb, col, src)


#: Policy name (as on the command line) -> class.
POLICIES: dict[str, type[Policy]] = {
    cls.name: cls
    for cls in (
        RecordedPolicy,
        ClassDefaultPolicy,
        RandomPolicy,
        TwoWayPolicy,
        OptimalPolicy,
        RegroupPolicy,
    )
}


def make_policy(name: str, **params) -> Policy:
    """A policy by its command-line name (:data:`POLICIES`), with parameters.

    Examples
    --------
    >>> make_policy("random", gender_tol=0.2)
    RandomPolicy(scope=None, gender_tol=0.2, gender_ref='school')
    """
    if isinstance(name, Policy):
        return name
    try:
        cls = POLICIES[name]
    except KeyError:
        raise InputError(
            f"unknown policy {name!r}: expected one of {', '.join(POLICIES)}"
        ) from None
    bad = set(params) - set(cls._param_names())
    if bad:
        raise InputError(
            f"policy {name!r} takes no parameter(s) {sorted(bad)}; it takes "
            f"{cls._param_names() or 'none'}"
        )
    return cls(**params)


# =========================================================================== checker


def _as_mapping(prev, what: str) -> dict[str, str]:
    if prev is None:
        return {}
    if isinstance(prev, pd.DataFrame):
        _require(prev, ("student_id", "mentor_id"), what)
        d = prev.dropna(subset=["mentor_id"])
        return dict(zip(d["student_id"].astype(str), d["mentor_id"].astype(str), strict=True))
    if isinstance(prev, pd.Series):
        prev = prev.dropna()
        return dict(zip(prev.index.astype(str), prev.astype(str), strict=True))
    return {str(k): str(v) for k, v in dict(prev).items() if v is not None and not pd.isna(v)}


def _columns_of(pb: _Problem, assignment: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Mentor column per student (-1 unassigned) and the number of invalid rows."""
    _require(assignment, ("student_id", "mentor_id"), "assignment")
    spos = {s: i for i, s in enumerate(pb.sid)}
    mpos = {s: j for j, s in enumerate(pb.mid)}
    a_s = assignment["student_id"].astype(str).to_numpy(dtype=object)
    a_m = assignment["mentor_id"].to_numpy(dtype=object)
    dup = pd.Index(a_s).duplicated(keep=False)
    col = np.full(pb.n, -1)
    invalid = 0
    for s, mm, d in zip(a_s, a_m, dup, strict=True):
        i = spos.get(s)
        if pd.isna(mm):
            invalid += i is None
            continue
        j = mpos.get(str(mm))
        if i is None or j is None or d:
            invalid += 1
            continue
        col[i] = j
    return col, invalid


def _blocking_pairs(pb: _Problem, col: np.ndarray) -> int:
    """Pairs (s, m) who both strictly prefer each other to what they have (Gale-Shapley)."""
    stated = _stated(pb)
    if stated is not None:
        rank = np.full((pb.n, pb.m), np.inf)
        for i, lst in enumerate(stated):
            rank[i, lst] = np.arange(len(lst))
    else:
        rank = np.where(pb.allowed, -pb.fit, np.inf)
    view = np.where(pb.allowed, -pb.fit, np.inf)  # the mentor's view (smaller = preferred)
    a = np.flatnonzero(col >= 0)
    own = np.full(pb.n, np.inf)
    own[a] = rank[a, col[a]]
    load = np.bincount(col[a], minlength=pb.m)
    worst = np.full(pb.m, -np.inf)
    np.maximum.at(worst, col[a], view[a, col[a]])
    room = load < pb.upper
    block = (rank < own[:, None]) & np.isfinite(view) & (room[None, :] | (view < worst[None, :]))
    return int(block.sum())


def check(
    assignment: pd.DataFrame,
    students: pd.DataFrame,
    mentors: pd.DataFrame,
    rules: Rulebook,
    *,
    previous=None,
    adjustment: bool = False,
    gender_tol: float | None = GENDER_TOL,
    gender_ref: str = "school",
    scope: str | None = None,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Score an assignment against the rulebook.

    Parameters
    ----------
    assignment : DataFrame
        ``student_id``, ``mentor_id`` (any policy's output, or recorded groups).
    students, mentors : DataFrame
        As returned by :func:`roster`.
    rules : Rulebook
    previous : DataFrame, Series or mapping, optional
        The groups before (student -> mentor), for the change ratio.
    adjustment : bool
        The assignment is an adjustment of ``previous``: the change ratio must then stay
        within ``rules.max_regroup_share`` (a hard rule).
    gender_tol : float or None
        Tolerance of the gender-balance row.
    gender_ref : {"school", "unit"}
        Balance around the school's female share, or that of the students in each mentor's
        scope (:class:`OptimalPolicy`).
    scope : {"class", "grade", "school"}, optional
        For the in-scope share and the acceptable mentors of fit-based preferences.

    Returns
    -------
    DataFrame
        One row per rule: ``rule``, ``value``, ``target`` (text), ``pass`` (nullable
        boolean; missing where the rule has no target), ``hard`` (a rule of the programme
        that every grouping must meet). Rules: ``assignment_valid`` (rows with an unknown
        student or mentor, or a student listed twice), ``students_assigned`` (share with
        exactly one mentor), ``staff_mentoring`` (share of eligible staff with students;
        required in primary), ``group_min`` / ``group_max`` (smallest / largest group),
        ``students_per_mentor``, ``gender_balance`` (largest gap between a group's female
        share and the school's, groups of 3+), ``in_scope`` (share with a mentor of their
        class or grade), ``first_choice`` / ``top3_choice`` (share given their first / a
        top-three choice: stated choices, else the best fit in scope), ``blocking_pairs``,
        ``changed_share`` (against ``previous``), ``total_fit``, ``mean_fit``.

    Notes
    -----
    A blocking pair is a student and a mentor who both strictly prefer each other to their
    assignment: the mentor has room or ranks the student above one of their students (Gale
    & Shapley 1962). Students rank by stated choices (unlisted mentors unacceptable) or by
    fit; mentors rank by fit. Zero blocking pairs means the grouping is stable.
    """
    pb = _problem(students, mentors, rules, weights=weights, scope=scope)
    col, invalid = _columns_of(pb, assignment)
    a = np.flatnonzero(col >= 0)
    load = np.bincount(col[a], minlength=pb.m)
    groups = load[load > 0]
    rows: list[tuple] = []

    def row(rule, value, target, ok, hard=False):
        rows.append((rule, float(value) if value is not None else np.nan, target, ok, hard))

    lo, hi = rules.group_min, rules.group_max
    row("assignment_valid", invalid, "0", invalid == 0, True)
    row("students_assigned", len(a) / pb.n if pb.n else 1.0, "1", len(a) == pb.n, True)
    if rules.all_students_mentored:
        row(
            "staff_mentoring", (load > 0).mean() if pb.m else 1.0, "1", bool((load > 0).all()), True
        )
    else:
        row("staff_mentoring", (load > 0).mean() if pb.m else 1.0, "not required", pd.NA)
    gmin = groups.min() if len(groups) else np.nan
    gmax = groups.max() if len(groups) else np.nan
    row("group_min", gmin, f">= {lo}", bool(not len(groups) or gmin >= lo), True)
    row("group_max", gmax, f"<= {hi}", bool(not len(groups) or gmax <= hi), True)
    spm = len(a) / len(groups) if len(groups) else np.nan
    row("students_per_mentor", spm, f"{lo}-{hi}", bool(len(groups) and lo <= spm <= hi))
    if _gender_applies(rules) and gender_tol is not None:
        r = np.broadcast_to(np.asarray(pb.ratio(gender_ref)), (pb.m,))
        fem = np.bincount(col[a], weights=pb.female[a].astype(float), minlength=pb.m)
        big = load >= 3
        dev = np.abs(fem[big] / load[big] - r[big]).max() if big.any() else 0.0
        row("gender_balance", dev, f"<= {gender_tol:g}", bool(dev <= gender_tol + 1e-9))
    else:
        row("gender_balance", None, "n/a (groups of 1-2)", pd.NA)
    row(
        "in_scope",
        pb.allowed[a, col[a]].mean() if len(a) else 1.0,
        "1",
        bool(pb.allowed[a, col[a]].all()),
    )
    stated = _stated(pb)
    if stated is not None:
        first = np.array([bool(lst) and col[i] == lst[0] for i, lst in enumerate(stated)])
        top3 = np.array([col[i] in lst[:3] for i, lst in enumerate(stated)])
        how = "stated choices"
    else:
        best = np.where(pb.allowed, pb.fit, -np.inf)
        srt = -np.sort(-best, axis=1)
        own = np.where(col >= 0, pb.fit[np.arange(pb.n), np.maximum(col, 0)], -np.inf)
        first = own >= srt[:, 0] - 1e-12
        third = srt[:, min(2, pb.m - 1)] if pb.m else np.zeros(pb.n)
        top3 = own >= np.where(np.isfinite(third), third, srt[:, 0]) - 1e-12
        how = "best fit in scope"
    row("first_choice", first.mean() if pb.n else np.nan, f"- ({how})", pd.NA)
    row("top3_choice", top3.mean() if pb.n else np.nan, f"- ({how})", pd.NA)
    bp = _blocking_pairs(pb, col)
    row("blocking_pairs", bp, "0 (stable)", bp == 0)
    if previous is not None:
        prev = _as_mapping(previous, "previous")
        had = [i for i, s in enumerate(pb.sid) if s in prev]
        changed = sum(col[i] < 0 or pb.mid[col[i]] != prev[pb.sid[i]] for i in had)
        share = changed / len(had) if had else 0.0
        cap = rules.max_regroup_share
        if adjustment:
            row("changed_share", share, f"<= {cap:g}", bool(share <= cap + 1e-12), True)
        else:
            row("changed_share", share, "- (a new grouping)", pd.NA)
    total = pb.fit[a, col[a]].sum()
    row("total_fit", total, "-", pd.NA)
    row("mean_fit", total / len(a) if len(a) else np.nan, "-", pd.NA)
    out = pd.DataFrame(rows, columns=["rule", "value", "target", "pass", "hard"])
    out["rule"] = out["rule"].astype("str")
    out["target"] = out["target"].astype("str")
    out["pass"] = out["pass"].astype("boolean")
    out["hard"] = out["hard"].astype(bool)
    return out


def hard_rules_met(check_table: pd.DataFrame) -> bool:
    """Whether every hard rule of a :func:`check` table passes."""
    hard = check_table.loc[check_table["hard"], "pass"]
    return bool(hard.fillna(False).all())


# =========================================================================== simulator


@dataclass(frozen=True, eq=False)
class OutcomeModel:
    """What predicts a student's change over the year: the inputs of the simulator.

    ``change = baseline_d + u_{m,d} + fit_effect * fit_{s,m,d} + e_sd`` for a student
    ``s`` with mentor ``m`` in dimension ``d``, and the student improves significantly in
    ``d`` when the change exceeds ``threshold``. Feed it the fitted effectiveness model
    (mentor effects with their standard errors), or the generator's truth
    (:meth:`from_synth`).

    Parameters
    ----------
    effects : DataFrame
        ``mentor_id``, ``dimension``, ``effect`` and optionally ``se`` (0 if absent): each
        mentor's effect on the change (empirical-Bayes estimates and their standard errors).
        Mentors without a row get effect 0 with the standard deviation of the listed
        effects as their uncertainty (a new mentor is an average mentor).
    baseline : mapping
        Dimension -> expected change of a mentored student with an average mentor and no
        fit (maturation + programme effect). Its keys are the dimensions simulated.
    fit_effect : float
        Change for a student whose weak dimension ``d`` is among the mentor's strengths
        (``fit_{s,m,d}`` = 1, else 0).
    fit_effect_se : float
        Standard error of ``fit_effect`` (drawn once per simulation draw).
    residual_sd : float or mapping
        Standard deviation of the student-level residual ``e`` (per dimension if a mapping).
    residual_corr : float
        Correlation of the residuals across dimensions.
    threshold : float
        A change above this is a significant improvement (same scale as the effects).
    min_dimensions : int
        A student progresses with significant improvement in at least this many dimensions
        (PROGRAMME.md: "in 1-2 development dimensions"; default 1).
    """

    effects: pd.DataFrame
    baseline: Mapping[str, float]
    fit_effect: float = 0.0
    fit_effect_se: float = 0.0
    residual_sd: float | Mapping[str, float] = 1.0
    residual_corr: float = 0.0
    threshold: float = 0.5
    min_dimensions: int = 1

    def __post_init__(self):
        _require(self.effects, ("mentor_id", "dimension", "effect"), "effects")
        k = len(self.baseline)
        if not k:
            raise InputError("baseline needs at least one dimension")
        if k > 1 and not -1.0 / (k - 1) < self.residual_corr < 1.0:
            raise InputError(f"residual_corr {self.residual_corr} is not a valid correlation")
        if not 1 <= self.min_dimensions <= k:
            raise InputError(f"min_dimensions must be between 1 and {k}")

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(self.baseline)

    @classmethod
    def from_synth(cls, study, year: int) -> OutcomeModel:
        """The generator's true outcome model for one year (a known-truth predictor).

        Mentor effects are the year's true effects (``truth["mentor_effects"]``, se 0);
        baseline = maturation + programme effect; fit effect, residual SD and correlation
        and the improvement threshold are the generator's parameters. Left out: the dose
        effect of talk frequency and the focus-group penalties (the same under any policy).
        """
        p = study.params
        eff = study.truth["mentor_effects"]
        eff = eff.loc[eff["year"] == year]
        if eff.empty:
            raise InputError(f"the synthetic study has no mentor effects for year {year}")
        dims = tuple(p.dimensions)
        return cls(
            effects=pd.DataFrame(
                {
                    "mentor_id": eff["mentor_id"].astype(str).to_numpy(),
                    "dimension": eff["dimension"].astype(str).to_numpy(),
                    "effect": eff["effect"].to_numpy(dtype=float),
                    "se": 0.0,
                }
            ),
            baseline={
                d: float(a + b)
                for d, a, b in zip(dims, p.maturation, p.programme_effect, strict=True)
            },
            fit_effect=float(p.fit_effect),
            residual_sd=float(p.change_sd),
            residual_corr=float(p.change_corr),
            threshold=float(p.improve_threshold),
            min_dimensions=1,
        )

    @classmethod
    def from_fitted(
        cls,
        processed: Processed,
        year: int,
        *,
        term: int = 1,
        z: float = 1.96,
        min_dimensions: int = 1,
        models: Mapping | None = None,
        reliability: str = "data",
    ) -> OutcomeModel:
        """The outcome model estimated from a study's own data (what a school would use).

        Every quantity is expressed in units of each dimension's reliable-change criterion
        ``c_d = z * sqrt(2) * SD_pre * sqrt(1 - r_d)`` (Jacobson & Truax 1991; ``r_d`` the pre
        wave's Cronbach alpha, as in the headline verdict of :mod:`mentorlib.progress`, or with
        ``reliability="published"`` the codebook's published alpha), so a change above 1 is a
        reliable improvement and ``threshold = 1``:

        * mentor effects: the empirical-Bayes effects (and conditional SEs) of
          :func:`mentorlib.effectiveness.study_models`, divided by ``c_d``;
        * fit effect: the pooled OLS coefficient of the standardised change on the
          needs-strength fit indicator (student's weak dimension among the mentor's strengths),
          with dimension intercepts and standard errors clustered by mentor;
        * baseline: the mean standardised change net of the fit effect;
        * residual SD and correlation: of the standardised change net of baseline, fit and
          the mentor's effect.

        Notes
        -----
        The fit effect is observational (students were not assigned to mentors at random), so
        predictions for a new grouping extrapolate it; the comparison states so.
        """
        import statsmodels.api as sm

        from .effectiveness import _cronbach_alpha, _scale_scores, study_models

        students, mentors = roster(processed, year, term=term)
        pb = _problem(students, mentors, processed.rules)
        cur = pb.current()
        dims = list(processed.dimensions)
        rdims = list(pb.rules.dimensions)
        sc = _scale_scores(processed, year).reindex(
            pb.students["student_id"].astype(str).to_numpy()
        )
        cb = processed.codebook("assessment")
        models = models or study_models(processed, year, outcomes=dims)
        std, fit, crit = {}, {}, {}
        for d in dims:
            pre, post = sc[f"pre_{d}"].to_numpy(float), sc[f"post_{d}"].to_numpy(float)
            dim = cb.dimensions.get(d)
            published = dim.published_alpha if dim is not None else None
            r = (
                published
                if reliability == "published" and published
                else _cronbach_alpha(processed, year, d)
            )
            crit[d] = z * np.sqrt(2.0) * np.nanstd(pre, ddof=1) * np.sqrt(1.0 - r)
            sign = -1.0 if dim is not None and dim.direction == "down" else 1.0
            std[d] = sign * (post - pre) / crit[d]
            k = rdims.index(d)
            has = cur >= 0
            f = np.zeros(len(cur))
            f[has] = (pb.weak[has, k] & pb.strength[cur[has], k]).astype(float)
            fit[d] = f
        long = pd.DataFrame(
            {
                "y": np.concatenate([std[d] for d in dims]),
                "fit": np.concatenate([fit[d] for d in dims]),
                "dim": np.repeat(dims, len(cur)),
                # a student with no recorded mentor is a cluster of their own
                "mentor": np.tile(
                    np.where(cur >= 0, cur, len(pb.mentors) + np.arange(len(cur))), len(dims)
                ),
            }
        ).dropna()
        X = pd.get_dummies(long["dim"], dtype=float)
        X["fit"] = long["fit"].to_numpy()
        ols = sm.OLS(long["y"].to_numpy(), X.to_numpy()).fit(
            cov_type="cluster", cov_kwds={"groups": long["mentor"]}
        )
        fit_effect, fit_se = float(ols.params[-1]), float(ols.bse[-1])
        rows, resid = [], {}
        ids = pb.mentors["mentor_id"].astype(str).to_numpy()
        for d in dims:
            e = models[d].effects
            e = e[e["term"] == "intercept"]
            eff = pd.Series(e["effect"].to_numpy(float) / crit[d], index=e["mentor_id"].astype(str))
            rows.append(
                pd.DataFrame(
                    {
                        "mentor_id": eff.index,
                        "dimension": d,
                        "effect": eff.to_numpy(),
                        "se": e["se"].to_numpy(float) / crit[d],
                    }
                )
            )
            u = np.where(cur >= 0, eff.reindex(ids[np.maximum(cur, 0)]).fillna(0.0).to_numpy(), 0.0)
            resid[d] = std[d] - fit_effect * fit[d] - u
        baseline = {d: float(np.nanmean(resid[d])) for d in dims}
        res = np.column_stack([resid[d] - baseline[d] for d in dims])
        ok = ~np.isnan(res).any(axis=1)
        cor = np.corrcoef(res[ok].T) if ok.sum() > 2 and len(dims) > 1 else np.eye(len(dims))
        off = cor[~np.eye(len(dims), dtype=bool)].mean() if len(dims) > 1 else 0.0
        return cls(
            effects=pd.concat(rows, ignore_index=True),
            baseline=baseline,
            fit_effect=fit_effect,
            fit_effect_se=fit_se,
            residual_sd={d: float(np.nanstd(resid[d], ddof=1)) for d in dims},
            residual_corr=float(np.clip(off, -0.9 / max(len(dims) - 1, 1), 0.95)),
            threshold=1.0,
            min_dimensions=min_dimensions,
        )


class _OutcomeSampler:
    """Draws mentor effects, the fit coefficient and residuals; scores an assignment."""

    def __init__(self, pb: _Problem, model: OutcomeModel):
        dims = list(model.dimensions)
        rdims = list(pb.rules.dimensions)
        miss = [d for d in dims if d not in rdims]
        if miss:
            raise InputError(f"outcome model dimensions {miss} are not the rulebook's {rdims}")
        idx = [rdims.index(d) for d in dims]
        self.dims = dims
        self.weak = pb.weak[:, idx]
        self.strength = pb.strength[:, idx]
        e = model.effects.assign(
            mentor_id=lambda d: d["mentor_id"].astype(str),
            dimension=lambda d: d["dimension"].astype(str),
        )
        if "se" not in e:
            e = e.assign(se=0.0)
        e = e.loc[e["dimension"].isin(dims)].drop_duplicates(
            ["mentor_id", "dimension"], keep="last"
        )
        mean = e.pivot(index="mentor_id", columns="dimension", values="effect").reindex(
            columns=dims
        )
        se = e.pivot(index="mentor_id", columns="dimension", values="se").reindex(columns=dims)
        prior = mean.std(ddof=1).fillna(0.0).to_numpy() if len(mean) > 1 else np.zeros(len(dims))
        mean = mean.reindex(pb.mid)
        se = se.reindex(pb.mid)
        known = mean.notna().to_numpy()
        self.u_mean = np.where(known, mean.to_numpy(dtype=float), 0.0)
        self.u_se = np.where(known, se.fillna(0.0).to_numpy(dtype=float), prior[None, :])
        self.n_unknown = int((~known.all(1)).sum())
        self.base = np.array([model.baseline[d] for d in dims], dtype=float)
        sd = model.residual_sd
        self.sd = np.array(
            [float(sd[d]) for d in dims] if isinstance(sd, Mapping) else [float(sd)] * len(dims)
        )
        c = np.full((len(dims), len(dims)), model.residual_corr) + (
            1 - model.residual_corr
        ) * np.eye(len(dims))
        self.chol = np.linalg.cholesky(c)
        self.model = model

    def draw(self, rng: np.random.Generator, n: int):
        u = self.u_mean + self.u_se * rng.standard_normal(self.u_mean.shape)
        beta = self.model.fit_effect + self.model.fit_effect_se * rng.standard_normal()
        eps = (rng.standard_normal((n, len(self.dims))) @ self.chol.T) * self.sd
        return u, beta, eps

    def rates(self, col: np.ndarray, u, beta, eps) -> dict[str, float]:
        a = np.flatnonzero(col >= 0)
        if not len(a):
            return {}
        m = col[a]
        fitd = self.weak[a] & self.strength[m]
        delta = self.base + u[m] + beta * fitd + eps[a]
        imp = delta > self.model.threshold
        out = {"improved_any": float((imp.sum(1) >= self.model.min_dimensions).mean())}
        out.update({f"improved_{d}": float(imp[:, k].mean()) for k, d in enumerate(self.dims)})
        out["fit_covered"] = float(fitd.sum() / max(self.weak[a].sum(), 1))
        return out


def simulate_outcomes(
    assignment: pd.DataFrame,
    students: pd.DataFrame,
    mentors: pd.DataFrame,
    rules: Rulebook,
    model: OutcomeModel,
    *,
    draws: int = 200,
    seed=None,
) -> pd.DataFrame:
    """Predicted improvement rates under one assignment, over random draws.

    Parameters
    ----------
    assignment : DataFrame
        ``student_id``, ``mentor_id``.
    students, mentors : DataFrame
        As returned by :func:`roster` (weak areas and strengths give the per-dimension fit).
    rules : Rulebook
    model : OutcomeModel
        Mentor effects with SEs, the fit effect, baseline change and residual SD.
    draws : int
        Random draws of mentor effects (from their sampling distribution), of the fit effect
        and of students' residuals.

    Returns
    -------
    DataFrame
        ``draw``, ``measure``, ``value``. Measures: ``improved_any`` (share of students
        improving significantly in at least ``model.min_dimensions`` dimensions),
        ``improved_<dimension>``, ``fit_covered`` (share of weak dimensions covered by the
        mentor's strengths).

    Notes
    -----
    Each draw samples ``u_m ~ N(effect_m, se_m^2)``, ``beta ~ N(fit_effect, se^2)`` and
    ``e_s ~ N(0, Sigma)`` (``Sigma``: ``residual_sd`` and ``residual_corr``), computes
    ``delta_sd = baseline_d + u_{m(s),d} + beta * 1[d weak for s and a strength of m(s)] +
    e_sd`` and counts ``delta_sd > threshold``. The spread over draws is a prediction
    interval for the rate a school of this roster would observe (parameter uncertainty and
    finite-sample noise together), in the spirit of Gelman & Hill (2007, ch. 7).
    """
    pb = _problem(students, mentors, rules, scope="school")
    col, invalid = _columns_of(pb, assignment)
    if invalid:
        raise InputError(f"assignment has {invalid} rows with unknown or repeated IDs")
    sampler = _OutcomeSampler(pb, model)
    rows = []
    for r, ss in enumerate(np.random.SeedSequence(_seed_int(seed)).spawn(int(draws))):
        u, beta, eps = sampler.draw(np.random.default_rng(ss), pb.n)
        rows += [(r, k, v) for k, v in sampler.rates(col, u, beta, eps).items()]
    return pd.DataFrame(rows, columns=["draw", "measure", "value"])


def _seed_int(seed) -> int | None:
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**32))
    return seed


@dataclass
class PolicyComparison:
    """The result of :func:`compare`: checks, predicted outcomes and the draws behind them.

    Attributes
    ----------
    checks : DataFrame
        ``policy`` + the :func:`check` table of the policy's first-draw assignment.
    outcomes : DataFrame
        ``policy``, ``measure``, ``mean``, ``lo``, ``hi`` (interval over draws), ``diff``,
        ``diff_lo``, ``diff_hi`` (paired difference from the reference policy, the first).
    draws : DataFrame
        ``policy``, ``draw``, ``measure``, ``value``: every draw (measures of
        :func:`simulate_outcomes` plus ``mean_fit``, ``top3_choice``, ``blocking_pairs``,
        ``gender_balance``, ``changed_share``, ``hard_rules_met``).
    assignments : dict
        Policy -> its first-draw assignment.
    target : float
        The rulebook's progress target (0.85).
    confidence : float
        Level of the intervals.
    notes : list of str
        Policies skipped and why; mentors without an effect estimate.
    level : str
        The rulebook's school level (labels).
    """

    checks: pd.DataFrame
    outcomes: pd.DataFrame
    draws: pd.DataFrame
    assignments: dict[str, pd.DataFrame]
    target: float = 0.85
    confidence: float = 0.95
    notes: list[str] = field(default_factory=list)
    level: str = "primary"

    @property
    def policies(self) -> list[str]:
        return list(self.assignments)

    def table(self, *, lang: str = "en") -> pd.DataFrame:
        """Side by side: one column per policy; hard rules, checks and predicted outcomes.

        Parameters
        ----------
        lang : {"en", "zh"}
            Row and column labels: codes (``en``) or Chinese (``zh``).

        Returns
        -------
        DataFrame
            Index ``row`` (``hard_rules_met``, each checker rule, ``pred_<measure>``), one
            column of text per policy: check values (a failed target marked ✗), and
            predicted rates as ``"0.871 [0.850, 0.893]"``.
        """
        out: dict[str, dict[str, str]] = {}
        for pol in self.policies:
            c = self.checks.loc[self.checks["policy"] == pol]
            col = {"hard_rules_met": "yes" if hard_rules_met(c) else "NO"}
            for _, r in c.iterrows():
                v = r["value"]
                txt = "" if pd.isna(v) else (f"{v:.0f}" if float(v).is_integer() else f"{v:.3f}")
                if r["pass"] is False or (pd.notna(r["pass"]) and not r["pass"]):
                    txt += " ✗"
                col[r["rule"]] = txt
            o = self.outcomes.loc[self.outcomes["policy"] == pol]
            for _, r in o.iterrows():
                col[f"pred_{r['measure']}"] = f"{r['mean']:.3f} [{r['lo']:.3f}, {r['hi']:.3f}]"
            out[pol] = col
        df = pd.DataFrame(out).fillna("")
        if lang == "zh":
            df = df.rename(
                index=lambda r: _row_label_zh(r, self.level),
                columns=lambda p: POLICY_LABELS_ZH.get(p, p),
            )
        df.index.name = "row"
        return df

    def plot(self, *, lang: str = "zh") -> Figure:
        """See :func:`plot_comparison`."""
        return plot_comparison(self, lang=lang)


DEFAULT_COMPARISON = ("recorded", "current", "random", "two_way", "optimal", "regroup")

_MEASURES_ZH = {
    "improved_any": "预测显著进步学生比例",
    "mean_fit": "预测平均匹配度",
    "fit_covered": "预测弱项被导师特长覆盖比例",
}


def _row_label_zh(row: str, level: str) -> str:
    if row == "hard_rules_met":
        return "硬性规则全部满足"
    if row in RULE_LABELS_ZH:
        return RULE_LABELS_ZH[row]
    measure = row.removeprefix("pred_")
    if measure in _MEASURES_ZH:
        return _MEASURES_ZH[measure]
    dim = measure.removeprefix("improved_")
    zh = DIMENSION_LABELS_ZH.get(level, {})
    return f"预测{zh[dim]}显著进步比例" if dim in zh else row


def _policy_list(policies) -> list[tuple[str, Policy]]:
    out = []
    for p in policies:
        pol = make_policy(p) if isinstance(p, str) else p
        if not isinstance(pol, Policy):
            raise InputError(f"not a policy: {p!r}")
        name = p if isinstance(p, str) else (pol.name or type(pol).__name__)
        base, k = name, 2
        while name in [n for n, _ in out]:
            name, k = f"{base}_{k}", k + 1
        out.append((name, pol))
    if not out:
        raise InputError("no policies to compare")
    return out


def compare(
    students: pd.DataFrame,
    mentors: pd.DataFrame,
    rules: Rulebook,
    *,
    policies: Sequence[str | Policy] = DEFAULT_COMPARISON,
    model: OutcomeModel | None = None,
    draws: int = 20,
    seed=0,
    confidence: float = 0.95,
    progress: bool | None = None,
) -> PolicyComparison:
    """Compare grouping policies on one roster over random draws.

    Parameters
    ----------
    students, mentors : DataFrame
        As returned by :func:`roster`.
    rules : Rulebook
    policies : sequence of str or Policy
        Names in :data:`POLICIES` or configured policy objects; the first is the reference
        for the paired differences. Policies that cannot run on this roster (``recorded``
        without current groups, a policy whose rules no grouping meets) are skipped with a
        note in ``notes``.
    model : OutcomeModel, optional
        Predictive model of the year's change; without it only the checks are compared.
    draws : int
        Random draws: stochastic policies are re-run with a new seed each draw (noise in
        preferences, random groups), and mentor effects, the fit effect and residuals are
        drawn afresh (common to all policies within a draw).
    seed : int, optional
    confidence : float
        Level of the percentile intervals.
    progress : bool, optional
        Progress bar (tqdm); by default it appears only when the run takes more than 2 s.

    Returns
    -------
    PolicyComparison

    Notes
    -----
    Common random numbers (the same mentor effects and student residuals for every policy
    in a draw) make the paired differences far more precise than the separate intervals
    (Glasserman & Yao 1992). Intervals are percentile intervals over draws.
    """
    from tqdm.auto import tqdm

    if draws < 1:
        raise InputError("draws must be at least 1")
    pols = _policy_list(policies)
    pb = _problem(students, mentors, rules, scope="school")
    sampler = _OutcomeSampler(pb, model) if model is not None else None
    has_prev = "current_mentor" in students and students["current_mentor"].notna().any()
    previous = (
        dict(zip(students["student_id"].astype(str), students["current_mentor"], strict=True))
        if has_prev
        else None
    )
    notes: list[str] = []
    if sampler is not None and sampler.n_unknown:
        notes.append(f"{sampler.n_unknown} mentors have no effect estimate (taken as average)")
    checks, drows, first = [], [], {}
    cache: dict[str, tuple[np.ndarray, dict]] = {}
    skip: set[str] = set()
    children = np.random.SeedSequence(_seed_int(seed)).spawn(int(draws))
    bar = tqdm(
        total=draws * len(pols),
        desc="policies",
        disable=True
        if progress is False
        else (None if progress is None else False),  # None: TTY only
        delay=0 if progress else 2,
        leave=False,
    )
    try:
        for r, ss in enumerate(children):
            pol_seed, out_ss = ss.spawn(2)
            if sampler is not None:
                u, beta, eps = sampler.draw(np.random.default_rng(out_ss), pb.n)
            for name, pol in pols:
                bar.update(1)
                if name in skip:
                    continue
                if r == 0 or pol.is_stochastic:
                    try:
                        a = pol.assign(
                            students, mentors, rules, seed=np.random.default_rng(pol_seed)
                        )
                    except (InputError, InfeasibleError) as e:
                        if r == 0 and (
                            isinstance(e, InfeasibleError) or isinstance(pol, RecordedPolicy)
                        ):
                            skip.add(name)
                            notes.append(f"{name} skipped: {e}")
                            continue
                        raise
                    c = check(
                        a,
                        students,
                        mentors,
                        rules,
                        previous=previous,
                        adjustment=pol.adjusts,
                        scope=getattr(pol, "scope", None),
                    )
                    if r == 0:
                        first[name] = a
                        checks.append(c.assign(policy=name))
                    col, _ = _columns_of(pb, a)
                    vals = dict(zip(c["rule"], c["value"], strict=True))
                    stats = {
                        k: vals[k]
                        for k in (
                            "mean_fit",
                            "top3_choice",
                            "blocking_pairs",
                            "gender_balance",
                            "changed_share",
                        )
                        if k in vals
                    }
                    stats["hard_rules_met"] = float(hard_rules_met(c))
                    cache[name] = (col, stats)
                col, stats = cache[name]
                drows += [(name, r, k, v) for k, v in stats.items()]
                if sampler is not None:
                    drows += [(name, r, k, v) for k, v in sampler.rates(col, u, beta, eps).items()]
    finally:
        bar.close()
    draws_df = pd.DataFrame(drows, columns=["policy", "draw", "measure", "value"])
    if not first:
        raise InfeasibleError("no policy could group this roster: " + "; ".join(notes))
    checks_df = pd.concat(checks, ignore_index=True)
    checks_df = checks_df[["policy", *[c for c in checks_df.columns if c != "policy"]]]
    return PolicyComparison(
        checks=checks_df,
        outcomes=_summarise(draws_df, list(first), sampler is not None, confidence),
        draws=draws_df,
        assignments=first,
        target=rules.target_share,
        confidence=confidence,
        notes=notes,
        level=rules.level,
    )


def _summarise(draws: pd.DataFrame, order: list[str], outcomes: bool, conf: float):
    cols = ["policy", "measure", "mean", "lo", "hi", "diff", "diff_lo", "diff_hi"]
    if draws.empty:
        return pd.DataFrame(columns=cols)
    keep = draws["measure"].str.startswith("improved_") | draws["measure"].isin(
        ["fit_covered", "mean_fit"]
    )
    d = draws.loc[keep]
    wide = d.pivot_table(index=["measure", "draw"], columns="policy", values="value")
    q = (1 - conf) / 2
    ref = order[0]
    rows = []
    for measure, w in wide.groupby(level="measure", sort=False):
        for pol in order:
            if pol not in w:
                continue
            v = w[pol].to_numpy()
            dv = v - w[ref].to_numpy() if ref in w else np.full(len(v), np.nan)
            rows.append(
                (
                    pol,
                    measure,
                    np.nanmean(v),
                    np.nanquantile(v, q),
                    np.nanquantile(v, 1 - q),
                    np.nanmean(dv),
                    np.nanquantile(dv, q) if np.isfinite(dv).any() else np.nan,
                    np.nanquantile(dv, 1 - q) if np.isfinite(dv).any() else np.nan,
                )
            )
    out = pd.DataFrame(rows, columns=cols)
    first = ["improved_any"] if outcomes else []
    rank = {m: i for i, m in enumerate([*first, "mean_fit"])}
    out["_k"] = out["measure"].map(rank).fillna(len(rank))
    out["_p"] = out["policy"].map({p: i for i, p in enumerate(order)})
    out = out.sort_values(["_k", "measure", "_p"], kind="stable").drop(columns=["_k", "_p"])
    return out.reset_index(drop=True)


def plot_comparison(comparison: PolicyComparison, *, lang: str = "zh") -> Figure:
    """Predicted share of students progressing under each policy, and mean fit.

    Left: the predicted share improving significantly (at least the model's number of
    dimensions) with its interval and the 85% target; right: the mean needs-strength fit.
    Without an outcome model only the right panel is drawn.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from .plots import PALETTE, TARGET_COLOR, label, use_style

    use_style()
    o = comparison.outcomes
    have = bool((o["measure"] == "improved_any").any()) if len(o) else False
    fig, axes = plt.subplots(1, 2 if have else 1, figsize=(10 if have else 5.5, 3.8), squeeze=False)
    axes = axes[0]
    pols = comparison.policies
    names = [POLICY_LABELS_ZH.get(p, p) if lang == "zh" else p for p in pols]
    y = np.arange(len(pols))[::-1]
    panels = [("mean_fit", label("平均匹配度", "mean needs-strength fit", lang), None)]
    if have:
        panels.insert(
            0,
            (
                "improved_any",
                label("预测显著进步学生比例", "predicted share progressing", lang),
                comparison.target,
            ),
        )
    for ax, (measure, title, target) in zip(axes, panels, strict=True):
        sub = o.loc[o["measure"] == measure].set_index("policy").reindex(pols)
        mean, lo, hi = sub["mean"].to_numpy(), sub["lo"].to_numpy(), sub["hi"].to_numpy()
        lo, hi = np.minimum(lo, mean), np.maximum(hi, mean)
        ax.errorbar(
            mean,
            y,
            xerr=np.vstack([mean - lo, hi - mean]),
            fmt="o",
            color=PALETTE[0],
            capsize=3,
        )
        if target is not None:
            ax.axvline(target, color=TARGET_COLOR, ls="--", lw=1)
            ax.text(
                target, y.max() + 0.4, f"{target:.0%}", color=TARGET_COLOR, ha="center", fontsize=8
            )
        ax.set_yticks(y, names)
        ax.set_title(title)
        ax.set_ylim(-0.6, len(pols) - 0.2)
    r, conf = int(comparison.draws["draw"].max()) + 1, comparison.confidence
    fig.suptitle(
        label(
            f"分组方案比较（{r} 次模拟，{conf:.0%} 区间）",
            f"Grouping policies ({r} draws, {conf:.0%} intervals)",
            lang,
        ),
        fontsize=11,
    )
    fig.tight_layout()
    return fig


# =========================================================================== entry points


def run_policy(
    processed: Processed,
    year: int,
    name: str | Policy,
    *,
    seed=0,
    term: int = 1,
    **params,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Group one year of a study with one policy and check the result against the rulebook.

    Parameters
    ----------
    processed : Processed
    year : int
    name : str or Policy
        A name in :data:`POLICIES` (``recorded``, ``current``, ``random``, ``two_way``,
        ``optimal``, ``regroup``) or a configured policy.
    seed : int, optional
    term : {1, 2}
        The term whose groups are current (the regrouping starts from them and the change
        ratio is measured against them) and whose satisfaction survey is used.
    **params
        Policy parameters (``gender_tol=0.2``, ``scope="grade"``...).

    Returns
    -------
    assignment : DataFrame
        ``student_id``, ``mentor_id``, ``fit``, ``source`` (:meth:`Policy.assign`).
    checks : DataFrame
        :func:`check` table (with ``changed_share`` against the current groups).
    """
    students, mentors = roster(processed, year, term=term)
    pol = make_policy(name, **params) if isinstance(name, str) else name
    a = pol.assign(students, mentors, processed.rules, seed=seed)
    prev = None
    if "current_mentor" in students and students["current_mentor"].notna().any():
        prev = dict(zip(students["student_id"], students["current_mentor"], strict=True))
    c = check(
        a,
        students,
        mentors,
        processed.rules,
        previous=prev,
        adjustment=pol.adjusts,
        scope=getattr(pol, "scope", None),
    )
    return a, c


def compare_policies(
    processed: Processed,
    year: int,
    *,
    policies: Sequence[str | Policy] = DEFAULT_COMPARISON,
    model: OutcomeModel | None = None,
    draws: int = 20,
    seed=0,
    term: int = 1,
    confidence: float = 0.95,
    progress: bool | None = None,
) -> PolicyComparison:
    """Compare grouping policies on one year of a study (:func:`roster` + :func:`compare`).

    Parameters
    ----------
    processed : Processed
    year : int
    policies, model, draws, seed, confidence, progress
        See :func:`compare`. ``model``: the fitted effectiveness model as an
        :class:`OutcomeModel` (or ``OutcomeModel.from_synth(study, year)`` on synthetic data).
    term : {1, 2}
        See :func:`run_policy`.

    Returns
    -------
    PolicyComparison
        ``.checks``, ``.outcomes``, ``.draws``, ``.assignments``; ``.table()`` side by side;
        ``.plot()`` the figure.

    Examples
    --------
    >>> from mentorlib.synth import generate, SynthParams
    >>> from mentorlib.data import from_synth
    >>> st = generate(SynthParams(n_students=300, n_years=1, seed=3))
    >>> cmp = compare_policies(from_synth(st), 2023, policies=("current", "optimal"),
    ...                        model=OutcomeModel.from_synth(st, 2023), draws=5)
    >>> cmp.table().columns.tolist()
    ['current', 'optimal']
    """
    students, mentors = roster(processed, year, term=term)
    return compare(
        students,
        mentors,
        processed.rules,
        policies=policies,
        model=model,
        draws=draws,
        seed=seed,
        confidence=confidence,
        progress=progress,
    )
