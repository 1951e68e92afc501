"""The roster every policy reads, the needs-strength fit, preferences and the problem builder.

:func:`roster`
    A processed study's year -> ``(students, mentors)``.
:func:`fit_scores`, :func:`student_preferences`, :func:`mentor_preferences`
    Needs-strength fit of every student with every mentor; preferences from stated choices
    (middle school names three mentors) or from fit.
:func:`build_problem`, :class:`Problem`
    A roster as arrays (ids, genders, fit, allowed pairs, bounds): what the policies, the
    checker and the simulator share.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io.codebook import load_codebook
from ..matching import AssignmentSpec, UnitNames
from ..rules import Rulebook

if TYPE_CHECKING:
    from ..data import Processed

__all__ = [
    "DEFAULT_WEIGHTS",
    "FROM_RULES",
    "HELP_DIMENSIONS",
    "PREF_COLUMNS",
    "SCOPES",
    "Problem",
    "allowed_pairs",
    "as_rng",
    "build_problem",
    "column_values",
    "fit_scores",
    "gender_applies",
    "mentor_lists",
    "mentor_preferences",
    "require_columns",
    "resolve_gender_tol",
    "roster",
    "stated_choices",
    "student_lists",
    "student_preferences",
]

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

#: The stated choices of the middle-school needs survey.
PREF_COLUMNS = ("pref_1", "pref_2", "pref_3")

#: The default of every ``gender_tol`` parameter: the rulebook's ``gender_tol`` (``None`` turns
#: the gender constraint off).
FROM_RULES = "rules"

GenderTol = float | str | None


def resolve_gender_tol(value: GenderTol, rules: Rulebook) -> float | None:
    """A ``gender_tol`` parameter as a number: ``"rules"`` -> ``rules.gender_tol``, None -> None."""
    if value is None:
        return None
    if isinstance(value, str):
        if value != FROM_RULES:
            raise InputError(f"gender_tol must be a number, None or {FROM_RULES!r}, got {value!r}")
        return float(rules.gender_tol)
    return float(value)


# =========================================================================== the roster


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
    students = _students_of(processed, year)
    if "needs" in processed:
        students = _with_needs(students, processed["needs"], year)
    if "assignments" in processed:
        students = _with_current(students, processed["assignments"], year, term)
    if "satisfaction" in processed:
        students = _with_satisfaction(students, processed["satisfaction"], year, term)
    return students, _mentors_of(processed, year)


def _students_of(processed: Processed, year: int) -> pd.DataFrame:
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
    return students


def _with_needs(students: pd.DataFrame, needs: pd.DataFrame, year: int) -> pd.DataFrame:
    nd = needs.loc[needs["year"] == year]
    keep = [c for c in ("weak_areas", "help_wanted", "interests", *PREF_COLUMNS) if c in nd]
    nd = nd[["student_id", *keep]].assign(student_id=lambda d: d["student_id"].astype(str))
    nd = nd.drop_duplicates("student_id", keep="last")
    return students.merge(nd, on="student_id", how="left")


def _with_current(students: pd.DataFrame, a: pd.DataFrame, year: int, term: int) -> pd.DataFrame:
    a = a.loc[(a["year"] == year) & (a["term"] <= term)]
    sort = ["term", "start_date"] if "start_date" in a else ["term"]
    a = a.sort_values(sort, kind="stable").drop_duplicates("student_id", keep="last")
    cur = dict(zip(a["student_id"].astype(str), a["mentor_id"].astype(str), strict=True))
    return students.assign(current_mentor=students["student_id"].map(cur).astype("str"))


def _with_satisfaction(
    students: pd.DataFrame, sat: pd.DataFrame, year: int, term: int
) -> pd.DataFrame:
    sat = sat.loc[(sat["year"] == year) & (sat["term"] == term)]
    sat = sat.drop_duplicates("student_id", keep="last")
    cols = [c for c in ("want_change", "reason", "satisfaction") if c in sat]
    sat = sat[["student_id", *cols]].assign(
        student_id=lambda d: d["student_id"].astype(str),
        **({"reason": lambda d: d["reason"].astype(str)} if "reason" in cols else {}),
    )
    return students.merge(sat, on="student_id", how="left")


def _mentors_of(processed: Processed, year: int) -> pd.DataFrame:
    rules = processed.rules
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
    return mentors


# =========================================================================== helpers


def _tokens(values: Iterable | None, n: int) -> list[set[str]]:
    """';'-joined codes -> a set per row (missing -> empty)."""
    if values is None:
        return [set() for _ in range(n)]
    out: list[set[str]] = []
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


def column_values(df: pd.DataFrame, name: str) -> np.ndarray | None:
    """A column as an object array, or None when the frame has no such column."""
    return df[name].to_numpy(dtype=object) if name in df.columns else None


def require_columns(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    """Raise InputError unless ``df`` is a DataFrame with every column of ``cols``."""
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


def gender_applies(rules: Rulebook) -> bool:
    """Gender balance is a rule for groups of several students (primary 5-8), not of 1-2."""
    return rules.group_min >= 3


def as_rng(seed: Any) -> np.random.Generator:
    """A NumPy generator from a seed (or the generator itself)."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


# =========================================================================== the problem


@dataclass
class Problem:
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
        gender_tol: float | None = None,
        gender_ref: str = "school",
        max_areas: int | None = None,
        time_limit: float | None = None,
    ) -> AssignmentSpec:
        """The solver's specification with scores ``w`` (``gender_tol`` already resolved)."""
        tol = gender_tol if gender_applies(self.rules) else None
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


def _mentor_classes(mentors: pd.DataFrame) -> list[set[str]]:
    """Classes a mentor mentors in: the link class, else the homeroom and classes taught."""
    link = _tokens(column_values(mentors, "link_class"), len(mentors))
    home = _tokens(column_values(mentors, "homeroom"), len(mentors))
    taught = _tokens(column_values(mentors, "classes"), len(mentors))
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


def allowed_pairs(
    students: pd.DataFrame, mentors: pd.DataFrame, scope: str
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs a scope allows, ``(n, m)`` booleans, and each student's unit ("class 3-2")."""
    n, m = len(students), len(mentors)
    if scope not in SCOPES:
        raise InputError(f"unknown scope {scope!r}: expected one of {', '.join(SCOPES)}")
    if scope == "school":
        return np.ones((n, m), dtype=bool), np.full(n, "the school", dtype=object)
    if scope == "class":
        if "class" in students:
            cls = students["class"].astype(str).to_numpy(dtype=object)
        else:
            require_columns(students, ("grade", "class_no"), "students (class scope)")
            cls = (students["grade"].astype(str) + "-" + students["class_no"].astype(str)).to_numpy(
                dtype=object
            )
        mcls = _mentor_classes(mentors)
        codes, uniq = pd.factorize(pd.Series(cls, dtype=object))
        ok_u = np.array([[u in cs for cs in mcls] for u in uniq], dtype=bool).reshape(len(uniq), m)
        return ok_u[codes], np.array([f"class {c}" for c in cls], dtype=object)
    require_columns(students, ("grade",), "students (grade scope)")
    sg = pd.to_numeric(students["grade"], errors="coerce").to_numpy(dtype=float)
    mg = _mentor_grades(mentors, _mentor_classes(mentors))
    unit = np.array([f"grade {int(g)}" if not np.isnan(g) else "grade ?" for g in sg], dtype=object)
    return sg[:, None] == mg[None, :], unit


# =========================================================================== fit


@dataclass
class _FitParts:
    """Indicator matrices of the fit: weak dims, help, interests (students); strengths."""

    weak: np.ndarray
    help_sets: list[set[str]]
    s_int: np.ndarray
    strength: np.ndarray
    m_int: np.ndarray


def _fit_parts(students: pd.DataFrame, mentors: pd.DataFrame, rules: Rulebook) -> _FitParts:
    n, m = len(students), len(mentors)
    dims = list(rules.dimensions)
    optdim = dict(load_codebook(f"needs_{rules.level}").option_dimensions.get("weak_areas", {}))
    optdim.update({d: d for d in dims})  # a code that already names a dimension
    weak_sets = [
        {optdim[t] for t in s if t in optdim}
        for s in _tokens(column_values(students, "weak_areas"), n)
    ]
    s_int = _tokens(column_values(students, "interests"), n)
    strengths = _tokens(column_values(mentors, "strengths"), m)
    m_int = [s - set(dims) for s in strengths]
    vocab = sorted(set().union(*s_int, *m_int)) if (s_int or m_int) else []
    return _FitParts(
        weak=_indicator(weak_sets, dims),
        help_sets=_tokens(column_values(students, "help_wanted"), n),
        s_int=_indicator(s_int, vocab),
        strength=_indicator(strengths, dims),
        m_int=_indicator(m_int, vocab),
    )


def _help_share(parts: _FitParts, inter: np.ndarray, dims: list[str]) -> np.ndarray:
    """Share of the help each student asks for that each mentor can give (:data:`HELP_DIMENSIONS`)."""
    serve: dict[str, Any] = {
        code: parts.strength[:, [dims.index(d) for d in ds if d in dims]].any(1)
        for code, ds in HELP_DIMENSIONS.items()
    }
    serve["interest"] = None
    num = np.zeros_like(inter)
    den = np.zeros(len(parts.help_sets))
    for i, hs in enumerate(parts.help_sets):
        for code in hs:
            if code not in serve:
                continue
            den[i] += 1
            num[i] += (inter[i] > 0) if code == "interest" else serve[code]
    return num / np.maximum(den, 1.0)[:, None]


def _fit_matrix(parts: _FitParts, dims: list[str], weights: Mapping[str, float]) -> np.ndarray:
    wk = parts.weak.astype(float)
    cover = wk @ parts.strength.T.astype(float) / np.maximum(wk.sum(1, keepdims=True), 1.0)
    si, mi = parts.s_int.astype(float), parts.m_int.astype(float)
    inter = si @ mi.T
    union = si.sum(1)[:, None] + mi.sum(1)[None, :] - inter
    jac = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    fit = weights["needs"] * cover + weights["interests"] * jac
    if weights.get("help", 0.0):
        fit = fit + weights["help"] * _help_share(parts, inter, dims)
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


def _genders(students: pd.DataFrame, sid: np.ndarray) -> np.ndarray:
    gender = students["gender"].astype(str).str.lower()
    bad = ~gender.isin(["female", "male"])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"students: gender must be female or male, got {students['gender'].iloc[i]!r} "
            f"for {sid[i]}"
        )
    return (gender == "female").to_numpy()


def build_problem(
    students: pd.DataFrame,
    mentors: pd.DataFrame,
    rules: Rulebook,
    *,
    weights: Mapping[str, float] | None = None,
    scope: str | None = None,
) -> Problem:
    """Check a roster and turn it into a :class:`Problem` (fit, allowed pairs, bounds).

    Raises
    ------
    InputError
        ``rules`` is not a Rulebook, a column is missing, an id is missing or repeated, a
        gender is neither female nor male, or the scope or weights are unknown.
    """
    if not isinstance(rules, Rulebook):
        raise InputError(f"rules must be a Rulebook (mentorlib.rulebook(level)), got {rules!r}")
    require_columns(students, ("student_id", "gender"), "students")
    require_columns(mentors, ("mentor_id",), "mentors")
    sid = _ids(students, "student_id", "students")
    mid = _ids(mentors, "mentor_id", "mentors")
    female = _genders(students, sid)
    scope = scope or _default_scope(rules)
    m = len(mid)
    allowed, unit = allowed_pairs(students, mentors, scope)
    parts = _fit_parts(students, mentors, rules)
    return Problem(
        students=students,
        mentors=mentors,
        rules=rules,
        scope=scope,
        sid=sid,
        mid=mid,
        female=female,
        weak=parts.weak,
        strength=parts.strength,
        fit=_fit_matrix(parts, list(rules.dimensions), _weights(weights)),
        allowed=allowed,
        unit=unit,
        lower=np.full(m, rules.group_min),
        upper=np.full(m, rules.group_max),
        required=np.full(m, bool(rules.all_students_mentored)),
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
        ``needs``, ``interests``, ``help`` (default :data:`DEFAULT_WEIGHTS`).

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
    pb = build_problem(students, mentors, rules, weights=weights, scope="school")
    return pd.DataFrame(
        pb.fit,
        index=pd.Index(pb.sid, name="student_id"),
        columns=pd.Index(pb.mid, name="mentor_id"),
    )


# =========================================================================== preferences


def stated_choices(pb: Problem) -> list[list[int]] | None:
    """Stated choices (pref_1..pref_3) as mentor columns, or None if nobody stated any."""
    cols = [c for c in PREF_COLUMNS if c in pb.students.columns]
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


def student_lists(
    pb: Problem,
    source: str = "auto",
    noise: float = 0.0,
    length: int | None = None,
    rng: np.random.Generator | None = None,
) -> list[list[int]]:
    """Each student's acceptable mentors (columns) in order: stated, or by fit plus noise."""
    if source not in ("auto", "stated", "fit"):
        raise InputError(f"unknown preference source {source!r}: expected auto, stated or fit")
    if source in ("auto", "stated"):
        stated = stated_choices(pb)
        if stated is not None:
            return stated
        if source == "stated":
            raise InputError("students have no stated choices (pref_1..pref_3)")
    u = pb.fit + (as_rng(rng).gumbel(0.0, noise, pb.fit.shape) if noise > 0 else 0.0)
    u = np.where(pb.allowed, u, -np.inf)
    order = np.argsort(-u, axis=1, kind="stable")
    k = pb.allowed.sum(1)
    return [list(order[i, : min(k[i], length or k[i])]) for i in range(pb.n)]


def mentor_lists(
    pb: Problem, noise: float = 0.0, rng: np.random.Generator | None = None
) -> list[list[int]]:
    """Each mentor's students in scope (rows), by decreasing fit plus noise."""
    u = pb.fit + (as_rng(rng).gumbel(0.0, noise, pb.fit.shape) if noise > 0 else 0.0)
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
    seed: Any = None,
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
    pb = build_problem(students, mentors, rules, weights=weights, scope=scope)
    lists = student_lists(pb, source, noise, length, as_rng(seed))
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
    seed: Any = None,
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
    pb = build_problem(students, mentors, rules, weights=weights, scope=scope)
    lists = mentor_lists(pb, noise, as_rng(seed))
    rows = [
        (pb.mid[j], r + 1, pb.sid[i], pb.fit[i, j])
        for j, lst in enumerate(lists)
        for r, i in enumerate(lst)
    ]
    return pd.DataFrame(rows, columns=["mentor_id", "rank", "student_id", "fit"])
