"""Parameters of the synthetic school, the generated study, and the model's fixed vocabularies.

:class:`SynthParams` holds every number of the generative model (documented in
:mod:`mentorlib.synth.model`); :class:`SynthStudy` is what :func:`mentorlib.synth.generate`
returns.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pandas as pd

from .. import tables
from ..errors import InputError
from ..rules import DIMENSIONS, Rulebook, rulebook

SUBJECTS_PRIMARY = ["chinese", "math", "english"]
SUBJECTS_MIDDLE = ["chinese", "math", "english", "physics", "chemistry"]
INTERESTS = ["reading", "sports", "art", "music", "science", "craft", "calligraphy", "dance"]
SAT_ITEMS = 5
REASONS = ["personality", "needs_mismatch", "too_little_contact", "friends", "other"]
SOUND_REASONS = ("personality", "needs_mismatch", "too_little_contact")
OTHER_REASON_TEXT = ["想换个新老师试试", "家里人希望换", "我也说不清楚", "导师太严格了"]
OTHER_NEEDS_TEXT = ["想学画画", "希望多和我聊天", "想提高跑步成绩", "想学好书法", "想交更多朋友"]
MOOD_CODES = list(tables.MOOD_CODES)
ACTIVITIES = list(tables.VOCAB["activity"])
MODES = ["face", "letter", "journal", "email", "phone", "visit", "group", "online"]
REWARD_REASONS = [
    "拾金不昧",
    "课堂表现优秀",
    "值日认真",
    "作业进步明显",
    "运动会获奖",
    "帮助同学",
    "文明礼仪之星",
]
PENALTY_REASONS = ["上课讲话", "作业未交", "与同学打闹", "迟到", "损坏公物"]


@dataclass(frozen=True)
class SynthParams:
    """Parameters of the generative model (see the module docstring).

    Per-dimension tuples follow the order of :data:`mentorlib.rules.DIMENSIONS` for the level.
    Effect sizes are in latent standard deviations.
    """

    level: str = "primary"
    n_students: int = 1200
    n_years: int = 3
    seed: int = 0
    start_year: int = 2023
    class_size: int = 40
    students_per_mentor: float = 6.5
    teachers_per_class: float = 3.2
    nominated_share: float = 0.15
    single_parent_rate: float = 0.12
    reconstituted_rate: float = 0.05
    left_behind_rate: float = 0.10
    transfer_rate: float = 0.03
    leave_rate: float = 0.02
    absent_rate: float = 0.03
    item_skip_rate: float = 0.01
    dim_corr: float = 0.4
    maturation: tuple[float, ...] = (0.20, 0.25, 0.15, 0.20)
    programme_effect: tuple[float, ...] = (0.10, 0.05, 0.15, 0.10)
    mentor_sd: tuple[float, ...] = (0.15, 0.20, 0.20, 0.15)
    mentor_corr: float = 0.5
    mentor_drift_sd: float = 0.05
    fit_effect: float = 0.20
    dose_effect: float = 0.10
    change_sd: float = 0.40
    change_corr: float = 0.3
    left_behind_psych: float = -0.10
    single_parent_psych: float = -0.05
    summer_loss: float = 0.10
    summer_sd: float = 0.15
    improve_threshold: float = 0.5
    max_regroup_share: float = 0.15
    #: middle school: SD of the class teacher's impression added to the standardised observed
    #: pre-test composite when nominating (issue 15)
    impression_sd: float = 0.5
    #: middle school: mean number of mentees a grade group's case conference discusses (one
    #: row each in the log); the grade group picks focus-group and low-scoring mentees first
    cases_per_conference: float = 2.0

    def __post_init__(self):
        rulebook(self.level)  # validates the level
        if self.n_students < 20:
            raise InputError("n_students must be at least 20")
        if not 1 <= self.n_years <= 10:
            raise InputError("n_years must be between 1 and 10")
        for name in ("maturation", "programme_effect", "mentor_sd"):
            if len(getattr(self, name)) != 4:
                raise InputError(f"{name} needs one value per dimension (4)")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def dimensions(self) -> tuple[str, ...]:
        return DIMENSIONS[self.level]

    @property
    def years(self) -> list[int]:
        return list(range(self.start_year, self.start_year + self.n_years))


@dataclass
class SynthStudy:
    """A generated study: canonical tables (the answer key) and the hidden truth."""

    params: SynthParams
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    truth: dict[str, pd.DataFrame] = field(default_factory=dict)
    mood_days: list = field(default_factory=list, repr=False)
    school_name: str = ""

    @property
    def rules(self) -> Rulebook:
        return rulebook(self.params.level)

    def canonical_tables(self) -> dict[str, pd.DataFrame]:
        """The canonical tables (contract dtypes of :mod:`mentorlib.tables`), long assessment."""
        from .export import canonical_tables  # export imports this module: deferred to break it

        return canonical_tables(self)


#: The fields :func:`null_params` sets to zero: every programme, mentor, fit and dose effect.
NULL_EFFECTS = {
    "programme_effect": (0.0, 0.0, 0.0, 0.0),
    "mentor_sd": (0.0, 0.0, 0.0, 0.0),
    "mentor_drift_sd": 0.0,
    "fit_effect": 0.0,
    "dose_effect": 0.0,
}


def null_params(**overrides) -> SynthParams:
    """Parameters of the null: every programme, mentor (``mentor_sd``, ``mentor_drift_sd``),
    fit and dose effect zero, so being mentored changes nothing; ``overrides`` set any field
    (``null_params(level="middle", seed=2)``), including the zeroed ones.

    >>> p = null_params(level="middle")
    >>> p.programme_effect, p.fit_effect, p.level
    ((0.0, 0.0, 0.0, 0.0), 0.0, 'middle')
    """
    return SynthParams(**{**NULL_EFFECTS, **overrides})


def _parse_value(name: str, text: str, default):
    """One ``--param`` value in the type of the field's default (tuples: comma-separated, as
    many values as the default has)."""
    kind = type(default)
    parts = [x.strip() for x in text.split(",")]
    if isinstance(default, tuple) and len(parts) != len(default):
        raise InputError(
            f"--param {name}: needs {len(default)} comma-separated values (one per dimension), "
            f"got {len(parts)} ({text!r})"
        )
    try:
        if isinstance(default, tuple):
            return tuple(float(x) for x in parts)
        if kind is bool:
            low = text.strip().lower()
            if low not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return low in ("true", "1", "yes")
        return kind(text.strip())
    except ValueError:
        what = {int: "an integer", float: "a number", bool: "true or false"}.get(kind, "numbers")
        raise InputError(f"--param {name}={text}: expected {what}") from None


def parse_params(items: list[str] | tuple[str, ...]) -> dict:
    """``NAME=VALUE`` strings (``mentorlib synth --param``) as :class:`SynthParams` fields:
    values parsed by the field's type, tuples comma-separated (one value per dimension).

    >>> parse_params(["maturation=0.3,0.3,0.3,0.3", "n_students=300", "dose_effect=0"])
    {'maturation': (0.3, 0.3, 0.3, 0.3), 'n_students': 300, 'dose_effect': 0.0}
    """
    defaults = SynthParams().to_dict()
    out: dict = {}
    for item in items:
        name, eq, text = item.partition("=")
        name = name.strip()
        if not eq or name not in defaults:
            shown = f"unknown generator parameter {name!r}" if eq else f"{item!r} is not NAME=VALUE"
            raise InputError(f"--param {shown}: valid names are {', '.join(defaults)}")
        out[name] = _parse_value(name, text, defaults[name])
    return out


def generator_command(p: SynthParams, clean: bool = False) -> str:
    """The ``mentorlib synth`` options that regenerate ``p`` (``--null`` and one ``--param``
    per field that differs from its default), written into the synthetic study.toml."""
    null = all(getattr(p, k) == v for k, v in NULL_EFFECTS.items())
    base = null_params() if null else SynthParams()
    opts = f"--level {p.level} --students {p.n_students} --years {p.n_years} --seed {p.seed}"
    opts += " --null" if null else ""
    for k, v in p.to_dict().items():
        if k in ("level", "n_students", "n_years", "seed") or v == getattr(base, k):
            continue
        opts += f" --param {k}=" + (",".join(map(str, v)) if isinstance(v, tuple) else str(v))
    return f"mentorlib synth {opts}" + (" --clean" if clean else "")


def school_name(p: SynthParams) -> str:
    """The synthetic school's display name (level and seed)."""
    kind = "小学" if p.level == "primary" else "中学"
    return f"示范{kind}（合成数据 seed {p.seed}）"
