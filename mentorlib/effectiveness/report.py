"""The mentor-effectiveness report of one year: :func:`mentor_report` -> :class:`MentorReport`.

The report follows the workbench's result protocol (:mod:`mentorlib.results`): ``summary``,
``tables``, ``figures`` and ``to_json_dict``, Chinese by default, ``public=True`` by default
(tables that name mentors are internal; small cells are protected with the study's
``min_cell``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..labels import (
    EFFECT_VERDICT_LABELS,
    LRT_NULL_LABELS,
    MENTOR_FALLBACK_LABEL,
    MENTOR_FLAGS_LINE,
    Lang,
    check_lang,
)
from ..privacy import Document
from ..results import jsonable
from ..rules import Rulebook
from .dose import DOSE_WARNING, DoseResponse, dose_response
from .fallback import FALLBACK_NOTE
from .figures import plot_caterpillar, plot_dose_response, plot_naive_vs_shrunk
from .flags import false_flags, flag_mentors
from .model import MentorModel, OptimizerWarning
from .scheme import audit_scheme, scheme_components, scheme_reliability, school_scheme
from .study import (
    check_year,
    mentor_stability,
    placebo_check,
    rank_probabilities,
    study_models,
    study_scores,
)

__all__ = ["MentorReport", "mentor_report"]


@dataclass
class MentorReport:
    """Everything the mentor-effectiveness stage says about one year (:func:`mentor_report`).

    Tables (all tidy DataFrames)
    ----------------------------
    models
        One row per outcome: n_students, n_mentors, mean_mentees, var_mentor, var_resid, icc,
        llf, lrt_stat, lrt_p, lrt_null (the null distribution of lrt_p: ``chibar2`` or
        ``rlrt_sim``), mean_reliability, method, intervals, converged.
    fixed
        outcome, term, coef, se, z, p, ci_low, ci_high.
    effects (internal)
        outcome, mentor_id, mentor_name, effect, se, ci_low, ci_high, n, reliability, verdict
        (above / below / indistinguishable), p_other_side, verdict_simultaneous
        (:func:`~mentorlib.effectiveness.flags.flag_mentors`), rank, p_top, p_bottom,
        rank_median, rank_low, rank_high, n_ranked.
    stability
        Year-to-year correlation of the composite effects (:func:`mentor_stability`).
    stability_effects (internal)
        mentor_id, mentor_name, year, effect, se, n, reliability.
    placebo
        :func:`placebo_check`.
    scheme (internal)
        :func:`school_scheme` per mentor and term, with mentor_name.
    comparison (internal)
        ``audit_scheme(...)["comparison"]`` with mentor_name.
    audit, bands
        ``audit_scheme(...)["summary"]`` and the naive x shrunken band table.
    reliability
        :func:`scheme_reliability`.
    dose, dose_curve, dose_observed
        :class:`DoseResponse` table, curve and observed bins.
    dose_sparse (internal)
        The covariate levels the dose-response dropped as sparse, with their exact counts
        (column, level, n_students, n_improved, n_not: below ``min_cell`` by definition); the
        public ``notes`` say which levels went without a count.

    ``public=True`` (the default of :meth:`tables` and :meth:`to_json_dict`) leaves out the
    internal tables, which name mentors, and adds aggregates instead: ``effects_summary``
    (per outcome) and ``scheme_summary`` (per term and band); cells of ``dose_observed`` and
    ``scheme_summary`` describing fewer than the rulebook's ``min_cell`` students are
    protected (:class:`mentorlib.privacy.Document`).
    """

    study: str
    level: str
    year: int
    seed: int
    rules: Rulebook
    models: pd.DataFrame
    fixed: pd.DataFrame
    effects: pd.DataFrame
    stability: pd.DataFrame
    stability_effects: pd.DataFrame
    placebo: pd.DataFrame
    scheme: pd.DataFrame
    comparison: pd.DataFrame
    audit: pd.DataFrame
    bands: pd.DataFrame
    reliability: pd.DataFrame
    dose: pd.DataFrame
    dose_curve: pd.DataFrame
    dose_observed: pd.DataFrame
    settings: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    dose_warning: dict = field(default_factory=lambda: dict(DOSE_WARNING))
    dose_method: str = "gee"
    #: The disclosure document of the last public :meth:`tables` call.
    disclosure: Document | None = field(default=None, repr=False)
    dose_sparse: pd.DataFrame = field(default_factory=pd.DataFrame)

    #: Tables that name mentors: internal use only.
    INTERNAL = ("effects", "stability_effects", "scheme", "comparison")
    #: Tables of exact counts below ``min_cell``: internal use only.
    SMALL_COUNTS = ("dose_sparse",)
    PUBLIC = (
        "models",
        "fixed",
        "stability",
        "placebo",
        "audit",
        "bands",
        "reliability",
        "dose",
        "dose_curve",
        "dose_observed",
    )

    def effects_summary(self) -> pd.DataFrame:
        """Per outcome, how many mentors are distinguishable from average (no names).

        Columns: outcome, n_mentors, n_above, n_below, n_indistinguishable, median_ci_width,
        median_rank_interval, n_surely_top, n_surely_bottom, and the multiplicity figures of
        :func:`~mentorlib.effectiveness.flags.false_flags`: n_flagged,
        expected_false_flags, null_false_flags, n_flagged_simultaneous.
        """
        rows = []
        for oc, e in self.effects.groupby("outcome", sort=False):
            rows.append(
                {
                    "outcome": oc,
                    "n_mentors": len(e),
                    "n_above": int((e["verdict"] == "above").sum()),
                    "n_below": int((e["verdict"] == "below").sum()),
                    "n_indistinguishable": int((e["verdict"] == "indistinguishable").sum()),
                    "median_ci_width": float((e["ci_high"] - e["ci_low"]).median()),
                    "median_rank_interval": float((e["rank_high"] - e["rank_low"]).median()),
                    "n_surely_top": int((e["p_top"] >= 0.9).sum()),
                    "n_surely_bottom": int((e["p_bottom"] >= 0.9).sum()),
                    **false_flags(e, alpha=self.rules.alpha),
                }
            )
        return pd.DataFrame(rows)

    def scheme_summary(self) -> pd.DataFrame:
        """Per term and band: mentors, mentees and award (no names)."""
        if not len(self.scheme):
            return pd.DataFrame()
        g = self.scheme.groupby(["term", "band"], sort=True)
        out = g.agg(
            n_mentors=("mentor_id", "size"),
            n_mentees=("n_mentees", "sum"),
            award_total=("award", "sum"),
        ).reset_index()
        return out.assign(award_per_mentee=out["award_total"] / out["n_mentees"])

    def tables(self, *, lang: str = "zh", public: bool = True) -> dict[str, pd.DataFrame]:
        """The report's tables by name; ``public=True`` drops every table that names mentors.

        Columns and codes are the same in both languages; ``lang`` is checked only.
        """
        check_lang(lang)
        out = {k: getattr(self, k) for k in self.PUBLIC}
        if public:
            obs = self.dose_observed.reset_index(drop=True)
            scheme = self.scheme_summary().reset_index(drop=True)
            obs, scheme = self._protected(obs, scheme)
            out["dose_observed"] = obs
            out["effects_summary"] = self.effects_summary()
            out["scheme_summary"] = scheme
        else:
            out |= {k: getattr(self, k) for k in (*self.INTERNAL, *self.SMALL_COUNTS)}
        return out

    def _protected(self, obs: pd.DataFrame, scheme: pd.DataFrame):
        """Disclosure control of the public tables counting students (dose bins, scheme bands).

        A :class:`mentorlib.privacy.Document` with the rulebook's ``min_cell``: the bins of an
        exposure and the bands of a term partition the students (their totals are tied to the
        models' printed ``n_students`` when equal); a bin's mean progress is a rate of its
        students.
        """
        doc = Document(self.rules.min_cell, name=f"mentor report {self.study} {self.year}")
        printed: dict[int, str] = {}
        for row in self.models.to_dict("records"):
            n = int(row["n_students"])
            printed.setdefault(n, doc.count(f"models.{row['outcome']}.n", n))
        obs_keys, obs_rates = _register_dose(doc, obs, printed)
        sch_keys = _register_scheme(doc, scheme, printed)
        doc.protect()
        if len(obs):
            obs = doc.mask_table(
                obs.drop(columns="suppressed", errors="ignore"),
                {"n": obs_keys},
                rates=obs_rates,
                rate_columns=["mean", "ci_low", "ci_high"],
            )
            obs.loc[obs["n"].isna(), ["mean", "ci_low", "ci_high"]] = np.nan
        if sch_keys:
            scheme = doc.mask_table(scheme, {"n_mentees": sch_keys})
            if "award_per_mentee" in scheme:
                scheme.loc[scheme["n_mentees"].isna(), "award_per_mentee"] = np.nan
        self.disclosure = doc
        return obs, scheme

    def to_json_dict(self, *, public: bool = True) -> dict[str, Any]:
        """Plain Python types (lists, dicts, str, int, float, bool, None) for ``--json``."""
        return jsonable(
            {
                "study": self.study,
                "level": self.level,
                "year": self.year,
                "seed": self.seed,
                "public": public,
                "min_cell": self.rules.min_cell,
                "internal_tables": [] if public else [*self.INTERNAL, *self.SMALL_COUNTS],
                "settings": self.settings,
                "notes": self.notes,
                "dose_warning": self.dose_warning,
                "tables": self.tables(public=public),
            }
        )

    def figures(self, *, lang: str = "zh", public: bool = True, outcome: str = "composite"):
        """caterpillar (of ``outcome``), naive_vs_shrunk, dose_response: matplotlib Figures.

        ``public=False`` labels mentors on the caterpillar axis when there are 60 or fewer.
        """
        check_lang(lang)
        level = 1 - self.rules.alpha
        e = self.effects[self.effects["outcome"] == outcome]
        out = {"caterpillar": plot_caterpillar(e, lang=lang, show_ids=not public, confidence=level)}
        if len(self.comparison):
            out["naive_vs_shrunk"] = plot_naive_vs_shrunk(
                self.comparison, lang=lang, confidence=level
            )
        if len(self.dose_curve):
            dose = DoseResponse(
                outcome="",
                method=self.dose_method,
                table=self.dose,
                curve=self.dose_curve,
                observed=self.dose_observed,
                n_students=0,
                n_mentors=0,
                warning=self.dose_warning,
                k=self.rules.k_dimensions,
            )
            out["dose_response"] = plot_dose_response(dose, lang=lang)
        return out

    def summary(self, lang: str = "zh") -> str:
        """A short human summary (no mentor names), Chinese by default."""
        L = Lang(lang)
        lines = [
            f"{self.study} {self.year}: "
            + L(f"{self.level} 导师效应", f"mentor effectiveness ({self.level})")
        ]
        lines += self._model_lines(L)
        if len(self.placebo):
            p = self.placebo.iloc[0]
            flag = L("异常 ", "FLAGGED ") if p["flagged"] else ""
            lines.append(
                L("  身高安慰剂检验：", "  placebo (height): ")
                + f"{flag}ICC {p['icc']:.3f}, p {p['lrt_p']:.3g}"
            )
        if len(self.audit):
            a = self.audit.iloc[0]
            changed = f"{int(a['n_band_changed'])}/{int(a['n_mentors'])}"
            lines.append(
                L(
                    f"  学校方案 vs 收缩估计：秩相关 {a['spearman']:.2f}，{changed} 位导师等级改变",
                    f"  school scheme vs shrunken: Spearman {a['spearman']:.2f}, "
                    f"{changed} mentors change band",
                )
            )
        for r in self.dose.itertuples():
            est = (
                f"OR {r.ratio:.2f} [{r.ratio_low:.2f}, {r.ratio_high:.2f}]"
                if self.dose_method == "gee"
                else f"{r.estimate:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]"
            )
            lines.append(f"  {L('频次', 'dose')} {r.term}: {est}")
        if len(self.dose):
            lines.append("  " + self.dose_warning[L.code])
        lines += [f"  {L('注', 'note')}: {n}" for n in self.notes]
        return "\n".join(lines)

    def _model_lines(self, L: Lang) -> list[str]:
        """One line per outcome: ICC, the test of the mentor variance, the verdict counts."""
        es = self.effects_summary() if len(self.effects) else pd.DataFrame()
        cols = ["n_above", "n_below", "n_indistinguishable"]
        dist = {
            str(row["outcome"]): "/".join(str(int(row[c])) for c in cols)
            for row in es.to_dict("records")
        }
        head = "/".join(L.of(EFFECT_VERDICT_LABELS, v) for v in EFFECT_VERDICT_LABELS)
        lines = []
        for r in self.models.itertuples():
            oc = str(r.outcome)
            null = L.of(LRT_NULL_LABELS, getattr(r, "lrt_null", ""), "")
            lines.append(
                f"  {oc:<14} ICC {r.icc:.3f}  LRT p {r.lrt_p:.3g} ({null})  "
                f"{head} {dist.get(oc, '-')}"
            )
        for row in es.to_dict("records"):  # the composite, and any outcome with flags
            if row["outcome"] == "composite" or row["n_flagged"] > 0:
                lines.append("  " + L.pair(MENTOR_FLAGS_LINE).format(**_flag_fields(row)))
        ols = [str(r.outcome) for r in self.models.itertuples() if r.method == "ols"]
        if ols:  # the OLS fallback (mentors with too few mentees): one line
            lines.append(f"  {L.pair(MENTOR_FALLBACK_LABEL)} ({', '.join(ols)})")
        return lines


def _flag_fields(row: Mapping) -> dict:
    """The fields of :data:`MENTOR_FLAGS_LINE` from a row of ``effects_summary``."""
    return {
        "outcome": row["outcome"],
        "n_flagged": int(row["n_flagged"]),
        "expected": float(row["expected_false_flags"]),
        "null": float(row["null_false_flags"]),
        "n_sim": int(row["n_flagged_simultaneous"]),
    }


def _register_dose(
    doc: Document, obs: pd.DataFrame, printed: dict[int, str]
) -> tuple[list[str], list[str | None]]:
    """Register the dose bins (counts, rates, per-exposure totals); their cell keys."""
    if not len(obs) or "exposure" not in obs:  # no activity records: no dose bins
        return [], []
    for ex, part in obs.groupby("exposure", sort=False):
        keys = []
        for i, r in part.iterrows():
            key = doc.count(f"dose.{ex}.{i}.n", 0 if pd.isna(r["n"]) else int(r["n"]))
            keys.append(key)
            k = float(r["mean"]) * float(r["n"]) if pd.notna(r["mean"]) else np.nan
            if np.isfinite(k) and abs(k - round(k)) < 1e-6:  # a share of students
                doc.count(f"dose.{ex}.{i}.k", round(k), printed=False)
                doc.rate(f"dose.{ex}.{i}.rate", f"dose.{ex}.{i}.k", key)
        tot = doc.count(f"dose.{ex}.total", sum(doc.cells[k].value for k in keys), printed=False)
        doc.total(tot, keys)
        _tie(doc, printed, tot)
    obs_keys: list[str] = []
    obs_rates: list[str | None] = []
    for i, r in obs.iterrows():
        obs_keys.append(f"dose.{r['exposure']}.{i}.n")
        rk = f"dose.{r['exposure']}.{i}.rate"
        obs_rates.append(rk if rk in doc.rates else None)
    return obs_keys, obs_rates


def _register_scheme(doc: Document, scheme: pd.DataFrame, printed: dict[int, str]) -> list[str]:
    """Register the mentees per term and band (each term a partition); their cell keys."""
    if not len(scheme) or "n_mentees" not in scheme:
        return []
    by = "term" if "term" in scheme else None
    groups = scheme.groupby(by, sort=False) if by else [("all", scheme)]
    for term, part in groups:
        keys = [doc.count(f"scheme.{term}.{i}", r["n_mentees"]) for i, r in part.iterrows()]
        tot = doc.count(f"scheme.{term}.total", int(part["n_mentees"].sum()), printed=False)
        doc.total(tot, keys)
        _tie(doc, printed, tot)
    return [f"scheme.{r[by] if by else 'all'}.{i}" for i, r in scheme.iterrows()]


def _tie(doc: Document, printed: dict[int, str], total_key: str) -> None:
    """A total equal to a printed number of students is that number (a known margin)."""
    value = doc.cells[total_key].value
    if value in printed:
        doc.total(printed[value], [total_key])


def _names(processed, year: int) -> pd.Series:
    if "staff" not in processed:
        return pd.Series(dtype=object)
    s = processed["staff"]
    s = s[s["year"] == year] if "year" in s.columns else s
    if "name" not in s.columns:
        return pd.Series(dtype=object)
    return (
        pd.Series(s["name"].astype(str).to_numpy(), index=s["staff_id"].astype(str).to_numpy())
        .groupby(level=0)
        .last()
    )


def _with_names(df: pd.DataFrame, names: pd.Series) -> pd.DataFrame:
    if not len(df) or "mentor_id" not in df.columns:
        return df
    pos = list(df.columns).index("mentor_id") + 1
    df = df.copy()
    df.insert(pos, "mentor_name", names.reindex(df["mentor_id"].astype(str)).to_numpy())
    return df


def _caught(notes: list[str], fn, *args, **kwargs):
    """Run ``fn`` and turn its warnings into report notes."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", OptimizerWarning)
        out = fn(*args, **kwargs)
    notes += [str(w.message) for w in caught if issubclass(w.category, OptimizerWarning)]
    return out


def _report_models(models: Mapping[str, MentorModel], class_effect: bool, alpha: float):
    """The models, fixed-effects and effects tables of a report (effects with verdicts and
    the multiplicity columns of :func:`flag_mentors`)."""
    mt = pd.DataFrame([m.summary_row() for m in models.values()])
    if class_effect:
        mt["var_class"] = [m.var("class_id") for m in models.values()]
    fixed = pd.concat(
        [m.fixed.reset_index().assign(outcome=oc) for oc, m in models.items()], ignore_index=True
    )
    fixed = fixed[["outcome", *[c for c in fixed.columns if c != "outcome"]]]
    eff = pd.concat([m.effects.assign(outcome=oc) for oc, m in models.items()], ignore_index=True)
    eff = eff[eff["term"] == "intercept"].drop(columns="term")
    eff = flag_mentors(
        eff.assign(mentor_id=eff["mentor_id"].astype(str)), alpha=alpha, by="outcome"
    )
    return mt, fixed, eff[["outcome", *[c for c in eff.columns if c != "outcome"]]]


def _report_scheme(
    processed, year: int, effects: pd.DataFrame, names: pd.Series, notes: list[str], **kw
) -> dict[str, pd.DataFrame]:
    """The scheme, its audit against the composite effects, and its reliability (by name)."""
    keys = ("scheme", "comparison", "audit", "bands", "reliability")
    need = [t for t in ("satisfaction", "exams", "rewards") if t not in processed]
    if need:
        notes.append(f"school scheme skipped: no {', '.join(need)} table")
        return {k: pd.DataFrame() for k in keys}
    comps = scheme_components(processed, year)
    scheme = school_scheme(processed, year, components=comps, **kw)
    au = audit_scheme(
        scheme,
        effects[effects["outcome"] == "composite"],
        transform=kw["transform"],
        bands=kw["bands"],
    )
    rel = scheme_reliability(comps, weights=kw["weights"])
    scheme, comparison = _with_names(scheme, names), _with_names(au["comparison"], names)
    return dict(zip(keys, (scheme, comparison, au["summary"], au["bands"], rel), strict=True))


def mentor_report(
    processed,
    year: int,
    *,
    seed: int = 0,
    outcomes: Sequence[str] | None = None,
    class_effect: bool = False,
    transform: str = "z",
    weights: Mapping[str, float] | None = None,
    bands: Sequence[tuple[str, float]] | None = None,
    allocation: str = "band",
    multipliers: Mapping[str, float] | None = None,
    quantile: float = 0.25,
    n_sims: int = 2000,
    dose_method: str = "gee",
    stability: bool = True,
    mentor_term: int = 1,
    intervals: str = "integrated",
    firth: bool = False,
) -> MentorReport:
    """The mentor-effectiveness report of one year: effects, placebo, scheme audit, dose.

    Parameters
    ----------
    processed : Processed
        A processed study (:func:`mentorlib.data.load_processed` or ``from_synth``).
    year : int
        School year.
    seed : int
        Seeds the ranking simulation, the bootstrap of the stability correlation and the
        dose-response intervals.
    outcomes : sequence of str, optional
        Dimensions (the composite is always added); default all.
    class_effect : bool
        Add a class variance component to the mentor models.
    transform, weights, bands, allocation, multipliers
        The school's scheme (:func:`school_scheme`); bands and multipliers default to the
        study rulebook's ``award_bands`` and ``award_multipliers``.
    quantile : float
        Top/bottom share for the ranking probabilities (0.25: quarters).
    n_sims : int
        Ranking simulations.
    dose_method : {"gee", "mixed"}
    stability : bool
        Fit the other years too for the year-to-year correlation (composite).
    mentor_term : {1, 2}
    intervals : {"integrated", "conditional"}
        Mentor intervals (:func:`fit_mentor_model`). The report defaults to ``integrated``:
        with few mentees per mentor the conditional intervals ignore the uncertainty of the
        mentor variance and under-cover (benchmarks/validate_effectiveness.py); the effects are
        then posterior means averaged over that uncertainty.
    firth : bool, default False
        Dose-response by Firth's penalised logistic fit (finite estimates under separation,
        the separating covariates kept) instead of dropping them with a note
        (:func:`~mentorlib.effectiveness.dose.dose_response`).

    Returns
    -------
    MentorReport

    Notes
    -----
    Every setting not given (intervals at ``1 - alpha``, ``min_cell`` of the public tables,
    the award scheme, the improvement rule of the dose-response) comes from the study's
    rulebook (``processed.rules``); the study is scored once (:func:`study_scores`) for every
    model. Methods and references are in the docstrings of the functions each table comes from:
    :func:`fit_mentor_model`, :func:`rank_probabilities`, :func:`mentor_stability`,
    :func:`placebo_check`, :func:`school_scheme`, :func:`audit_scheme`,
    :func:`scheme_reliability`, :func:`dose_response`.
    """
    check_year(processed, year)
    rules = processed.rules
    dims = list(processed.dimensions)
    outcomes = [o for o in (outcomes or dims) if o != "composite"] + ["composite"]
    notes: list[str] = []
    names = _names(processed, year)
    scores = study_scores(processed)
    fit = {"class_effect": class_effect, "mentor_term": mentor_term, "intervals": intervals}
    models = _caught(notes, study_models, processed, year, outcomes=outcomes, scores=scores, **fit)
    for oc, m in models.items():
        notes += [f"{oc}: {n}" for n in m.notes if n != FALLBACK_NOTE]  # that: one summary line
    tabs = _report_models(models, class_effect, rules.alpha)
    t = dict(zip(("models", "fixed", "effects"), tabs, strict=True))
    t["effects"] = _with_names(
        rank_probabilities(
            t["effects"],
            by="outcome",
            quantile=quantile,
            n_sims=n_sims,
            confidence=1 - rules.alpha,
            seed=seed,
        ),
        names,
    )
    t["stability"], t["stability_effects"] = pd.DataFrame(), pd.DataFrame()
    if stability and len(processed.assessed_years) > 1:
        st = _caught(
            notes,
            mentor_stability,
            processed,
            outcome="composite",
            models={year: models["composite"]},
            seed=seed,
            scores=scores,
        )
        t["stability"], t["stability_effects"] = st.correlation, _with_names(st.effects, names)
    t["placebo"] = placebo_check(processed, year, mentor_term=mentor_term)
    if bool(t["placebo"]["flagged"].iloc[0]):
        notes.append("placebo: " + t["placebo"]["message"].iloc[0])
    scheme_kw = {
        "transform": transform,
        "weights": dict(rules.award_weights if weights is None else weights),
        "bands": tuple(rules.award_bands if bands is None else bands),
        "allocation": allocation,
        "multipliers": dict(rules.award_multipliers if multipliers is None else multipliers),
    }
    t |= _report_scheme(processed, year, t["effects"], names, notes, **scheme_kw)
    t |= _report_dose(processed, year, dose_method, seed, mentor_term, scores, notes, firth)
    settings = {
        "outcomes": outcomes,
        "class_effect": class_effect,
        **scheme_kw,
        "bands": [list(b) for b in scheme_kw["bands"]],
        "award_per_mentee_term": rules.award_per_mentee_term,
        "quantile": quantile,
        "n_sims": n_sims,
        "dose_method": dose_method,
        "mentor_term": mentor_term,
        "intervals": intervals,
    }
    return _assemble(processed, year, seed, t, settings, notes, dose_method)


def _assemble(processed, year, seed, t, settings, notes, dose_method) -> MentorReport:
    """The report from its tables by name."""
    return MentorReport(
        study=processed.name,
        level=processed.level,
        year=year,
        seed=seed,
        rules=processed.rules,
        models=t["models"],
        fixed=t["fixed"],
        effects=t["effects"],
        stability=t["stability"],
        stability_effects=t["stability_effects"],
        placebo=t["placebo"],
        scheme=t["scheme"],
        comparison=t["comparison"],
        audit=t["audit"],
        bands=t["bands"],
        reliability=t["reliability"],
        dose=t["dose"],
        dose_curve=t["dose_curve"],
        dose_observed=t["dose_observed"],
        settings=settings,
        notes=notes,
        dose_method=dose_method,
        dose_sparse=t["dose_sparse"],
    )


def _report_dose(
    processed, year, method, seed, mentor_term, scores, notes, firth=False
) -> dict[str, pd.DataFrame]:
    """The dose-response table, curve and observed bins (empty without activities)."""
    if "activities" not in processed:
        notes.append("dose-response skipped: no activities table")
        return {k: pd.DataFrame() for k in ("dose", "dose_curve", "dose_observed", "dose_sparse")}
    dose = dose_response(
        processed,
        year,
        method=method,
        seed=seed,
        mentor_term=mentor_term,
        scores=scores,
        firth=firth,
    )
    notes += [f"dose-response: {n}" for n in dose.notes]
    return {
        "dose": dose.table,
        "dose_curve": dose.curve,
        "dose_observed": dose.observed,
        "dose_sparse": dose.sparse,
    }
