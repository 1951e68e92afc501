"""One school year of a study, as the progress report sees it: roster, changes, context.

:class:`StudyYear` holds a year's roster and scores and caches the change and per-student
tables per definition; :func:`sensitivity_table` and :func:`context_tables` build the
report's sensitivity table and its context (false positives, threshold sensitivity, the
comparison of mentees with non-mentees).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import scales
from ..errors import InputError
from ..io.codebook import Codebook
from ..rules import Rulebook
from ._common import year_roster
from .change import StudyScores, false_positive_rate, student_progress, year_changes
from .proportions import mean_difference, rate_difference
from .verdict import (
    bootstrap_interval,
    bootstrap_rates_ks,
    counts,
    jackknife_rates,
    mentor_term1,
    threshold_sensitivity,
    year_verdict,
)

__all__ = ["StudyYear", "available_definitions", "context_tables", "sensitivity_table"]


def available_definitions(cb: Codebook) -> list[str]:
    """The definitions a codebook allows (``rci_published`` needs every published alpha)."""
    names = ["rci_data", "rci_published", "mid"]
    if any(d.published_alpha is None for d in cb.dimensions.values()):
        names.remove("rci_published")
    return names


class StudyYear:
    """Scores and rosters of one year, and per-student tables per definition (cached).

    ``change_scores`` returns the roster's students in roster order, each with one row per
    dimension, and ``student_progress`` keeps that order, so the population and comparison
    rows are picked by position (no string matching on large rosters). The changes come
    from :func:`~mentorlib.progress.change.year_changes`, the path
    :func:`~mentorlib.progress.study_changes` takes, with the same rulebook.
    """

    def __init__(
        self,
        processed,
        scored: StudyScores,
        year: int,
        *,
        rules: Rulebook,
        sd_by: str | None = None,
    ) -> None:
        self.year, self.scored, self.rules, self.sd_by = year, scored, rules, sd_by
        self.cb = scored.codebook
        self.roster = year_roster(processed["students"], year)
        self.mentee = (
            self.roster["mentee"].fillna(False).to_numpy(dtype=bool)
            if "mentee" in self.roster.columns
            else np.ones(len(self.roster), dtype=bool)
        )
        self.assignments = processed.tables.get("assignments")
        self.pop = self.roster.loc[self.mentee]
        self.comparison = self.roster.loc[~self.mentee]
        sc = scored.scores.loc[scored.scores["year"] == year]
        self.has_post = bool((sc["wave"].astype("str") == "post").any())
        scored_ids = pd.Index(sc["student_id"].astype("str").unique())
        roster_ids = pd.Index(self.roster["student_id"])
        self.n_unmatched = int((roster_ids.get_indexer(scored_ids) < 0).sum())
        self._cache: dict[tuple[str, str], pd.DataFrame] = {}
        self._boot: dict[tuple, pd.DataFrame] = {}

    def changes(self, name: str) -> pd.DataFrame:
        """:func:`~mentorlib.progress.change_scores` of the whole roster under ``name``."""
        key = ("changes", name)
        if key not in self._cache:
            self._cache[key] = year_changes(
                self.scored,
                self.roster,
                self.year,
                definition=name,
                rules=self.rules,
                sd_by=self.sd_by,
            )
        return self._cache[key]

    def group_changes(self, name: str, group: str = "pop") -> pd.DataFrame:
        """The changes of the population (``"pop"``) or of the comparison group."""
        ch = self.changes(name)
        rows = np.repeat(self.mentee if group == "pop" else ~self.mentee, len(self.cb.dimensions))
        return ch.loc[rows].reset_index(drop=True)

    def per_student(self, name: str, group: str = "pop") -> pd.DataFrame:
        """:func:`~mentorlib.progress.student_progress` of the population or comparison."""
        key = ("per", name)
        if key not in self._cache:
            per = student_progress(self.changes(name))
            ids = self.roster["student_id"].to_numpy(dtype=object)
            if len(per) != len(ids) or not (per["student_id"].to_numpy(dtype=object) == ids).all():
                raise RuntimeError("per-student rows out of roster order")  # pragma: no cover
            self._cache[key] = per
        rows = self.mentee if group == "pop" else ~self.mentee
        return self._cache[key].loc[rows].reset_index(drop=True)

    def pre_items(self) -> list[np.ndarray]:
        """Pre-wave recoded answers per dimension, as roster-aligned N x k matrices (the k
        items the change used: :attr:`StudyScores.items` holds the shared items only)."""
        it = self.scored.items
        it = it.loc[(it["year"] == self.year) & (it["wave"].astype("str") == "pre")]
        rec = scales.reverse_code(it, self.cb)
        row = pd.Index(self.roster["student_id"]).get_indexer(
            pd.Index(rec["student_id"].astype("str"))
        )
        out = []
        asked = set(rec.loc[rec["value"].notna(), "item"].astype("str").unique())
        for d in self.cb.dimensions:
            names = [f.var for f in self.cb.items_of(d) if f.var in asked]
            m = (rec["dimension"] == d).to_numpy() & (row >= 0)
            col = pd.Index(names).get_indexer(pd.Index(rec.loc[m, "item"].astype("str")))
            X = np.full((len(self.roster), len(names)), np.nan)
            X[row[m], col] = rec.loc[m, "value"].to_numpy()
            out.append(X)
        return out

    def mentors(self) -> np.ndarray:
        """The term-1 mentor of each roster student (None for students without one)."""
        m = mentor_term1(self.assignments, self.year)
        return m.reindex(self.roster["student_id"].astype("str")).to_numpy(dtype=object)

    def bootstrap(
        self,
        name: str,
        k: int,
        n_boot: int,
        seed: int,
        *,
        cluster: str = "mentor",
        interval: str = "percentile",
        ks: Sequence[int] = (),
    ) -> pd.DataFrame:
        """Bootstrap interval, lower bound and p-value of the rate (threshold re-estimated
        in every replicate): ``cluster`` "mentor" resamples term-1 mentor groups (students
        without a mentor alone), "student" resamples students; ``interval`` "percentile"
        or "bca". Adds ``interval_method`` ("bootstrap_<interval>_<cluster>").

        Cached per (definition, k, settings): the report's verdict, sensitivity table and
        trend ask for the same replicates. ``ks``: other k computed from the same
        replicates in the same pass (the threshold, the costly part, is re-estimated once);
        a k's result does not depend on which others come with it.
        """
        if cluster not in ("mentor", "student"):
            raise InputError(f"cluster must be 'mentor' or 'student', got {cluster!r}")
        if interval not in ("percentile", "bca"):
            raise InputError(f"interval must be 'percentile' or 'bca', got {interval!r}")

        def key(kk: int) -> tuple:
            return (name, kk, n_boot, seed, cluster, interval)

        todo = tuple(sorted(kk for kk in {k, *ks} if key(kk) not in self._boot))
        if todo:
            for kk, res in self._bootstrap(name, todo, n_boot, seed, cluster, interval).items():
                self._boot[key(kk)] = res
        return self._boot[key(k)].copy()

    def _bootstrap(
        self, name: str, ks: tuple[int, ...], n_boot: int, seed: int, cluster: str, interval: str
    ) -> dict[int, pd.DataFrame]:
        groups = (
            self.roster["grade"].to_numpy()
            if self.sd_by == "grade"
            else np.zeros(len(self.roster), dtype=int)
        )
        args = (
            self.changes(name),
            groups,
            self.mentee,
            self.pre_items() if name == "rci_data" else None,
        )
        z, mid = self.rules.rci_z, self.rules.mid
        clusters = self.mentors() if cluster == "mentor" else None
        reps = bootstrap_rates_ks(
            *args, ks=ks, n_boot=n_boot, seed=seed, z=z, mid=mid, clusters=clusters
        )
        out = {}
        for k in ks:
            est: dict[str, float] | None = None
            jack: dict[str, np.ndarray] | None = None
            if interval == "bca":
                est, jack = jackknife_rates(*args, k=k, z=z, mid=mid, clusters=clusters)
            res = bootstrap_interval(
                reps[k],
                self.rules.alpha,
                target=self.rules.target_share,
                estimate=est,
                jackknife=jack,
            )
            out[k] = res.assign(interval_method=f"bootstrap_{interval}_{cluster}")
        return out


def sensitivity_table(
    y: StudyYear, names: Sequence[str], ks: Sequence[int], headline: tuple[str, int, str]
) -> pd.DataFrame:
    """The verdict for each definition x k x rule; ``headline`` marks (definition, k, rule)."""
    r = y.rules
    rows = []
    for name in names:
        ps = y.per_student(name)
        for kk in ks:
            v = year_verdict(ps, k=kk, target=r.target_share, method=r.ci_method, alpha=r.alpha)
            rows.append(v.assign(definition=name))
    t = pd.concat(rows, ignore_index=True)
    t.insert(0, "definition", t.pop("definition"))
    d, k, rule = headline
    return t.assign(headline=(t["definition"] == d) & (t["k"] == k) & (t["rule"] == rule))


def _false_positive(y: StudyYear, names, ks, sens: pd.DataFrame, rel_year) -> pd.DataFrame:
    """Each definition's rate under no true change beside the observed rate."""
    D = len(y.cb.dimensions)
    pre = rel_year.loc[rel_year["wave"] == "pre"].set_index("dimension")["alpha"]
    rows = []
    for name in names:
        for kk in ks:
            if name == "mid":
                r = pre.reindex(list(y.cb.dimensions)).to_numpy(dtype=float)
                t = false_positive_rate(n_dimensions=D, k=kk, mid=y.rules.mid, reliability=r)
            else:
                t = false_positive_rate(n_dimensions=D, k=kk, z=y.rules.rci_z)
            obs = sens.loc[
                (sens["definition"] == name)
                & (sens["k"] == kk)
                & (sens["rule"] == "evaluable_only"),
                "proportion",
            ]
            rows.append(t.assign(definition=name, observed=float(obs.iloc[0])))
    fp = pd.concat(rows, ignore_index=True)
    fp.insert(0, "definition", fp.pop("definition"))
    return fp


def _comparison(y: StudyYear, definition: str, k: int) -> dict[str, pd.DataFrame]:
    """Mentees against non-mentees: progress rates and mean changes per dimension."""
    out: dict[str, pd.DataFrame] = {}
    alpha = y.rules.alpha
    a, b = y.per_student(definition), y.per_student(definition, "comparison")
    _, ea, pa = counts(a, k)
    _, eb, pb = counts(b, k)
    if ea and eb:
        out["comparison_rates"] = rate_difference(pa, ea, pb, eb, alpha=alpha).assign(
            group1="mentees", group2="non_mentees", definition=definition, k=k
        )
    ch1, ch2 = y.group_changes(definition), y.group_changes(definition, "comparison")
    rows = []
    for d in y.cb.dimensions:
        x1 = ch1.loc[ch1["dimension"] == d, "change"]
        x2 = ch2.loc[ch2["dimension"] == d, "change"]
        if x1.notna().sum() >= 2 and x2.notna().sum() >= 2:
            rows.append(mean_difference(x1, x2, alpha=alpha).assign(dimension=d))
    if rows:
        m = pd.concat(rows, ignore_index=True)
        m.insert(0, "dimension", m.pop("dimension"))
        out["comparison_means"] = m
    return out


def context_tables(
    y: StudyYear, names, ks, sens: pd.DataFrame, definition: str, k: int, rel_year
) -> dict[str, pd.DataFrame]:
    """``false_positive``, ``threshold_sensitivity`` and, with non-mentees, the comparison."""
    ctx = {
        "false_positive": _false_positive(y, names, ks, sens, rel_year),
        "threshold_sensitivity": threshold_sensitivity(y.group_changes(definition), k=k),
    }
    if len(y.comparison):
        ctx |= _comparison(y, definition, k)
    return ctx
