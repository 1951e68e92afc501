"""Scale scores and their reliability: from item answers to one score per dimension.

The assessment asks six Likert items per development dimension at a pre (September) and a post
(June) wave. This module turns the long ``assessment_items`` table into scale scores (the
canonical ``scores`` table) and measures how reliable those scores are.

Functions
---------
reverse_code
    Recode reverse-keyed items so that a high answer always means "more of the dimension".
score_scales
    The mean of answered items per student, year, wave and dimension (prorated at >= 80%).
cronbach_alpha
    Cronbach's alpha of one item matrix with Feldt's (1965) exact interval.
weighted_alpha
    Cronbach's alpha under frequency weights, many weight vectors at once (the bootstrap).
item_total
    Corrected item-total correlations and alpha if the item is deleted, for one item matrix.
reliability
    Alpha with its interval per year, wave and dimension of a study, beside the published value.
item_statistics
    :func:`item_total` per year, wave and dimension of a study.
shared_items
    The items of each dimension that both waves of a year asked (a questionnaire that
    dropped or added an item between waves or years).
keep_shared
    The answers to those shared items only: what change scores and their reliability use.

A dimension is scored on the items *asked* in that year and wave (items with answer rows: the
cleaner writes none for a question the file lacks): an item a later version of the
questionnaire dropped is not counted as missing. Change needs
the same items at both waves, so :func:`keep_shared` leaves out an item only one wave asked.

Examples
--------
>>> import numpy as np
>>> x = np.array([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 4]])
>>> round(float(cronbach_alpha(x)["alpha"].iloc[0]), 4)
0.9485
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from scipy import stats

from .errors import InputError
from .io.codebook import Codebook, load_codebook

__all__ = [
    "ITEM_COLUMNS",
    "WAVES",
    "as_codebook",
    "cronbach_alpha",
    "item_statistics",
    "item_total",
    "keep_shared",
    "reliability",
    "reverse_code",
    "score_scales",
    "shared_items",
    "weighted_alpha",
]

WAVES = ("pre", "post")
ITEM_COLUMNS = ("student_id", "year", "wave", "item", "value")


def as_codebook(codebook: Codebook | str) -> Codebook:
    """The codebook itself, or the built-in / file codebook of that name; it must have items."""
    cb = load_codebook(codebook) if isinstance(codebook, str) else codebook
    if not cb.items:
        raise InputError(f"codebook {cb.name!r} has no Likert items with a dimension")
    return cb


def _codes(s: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes and their labels (categorical codes are read, not recomputed)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy(), s.cat.categories
    codes, uniq = pd.factorize(s)
    return codes, pd.Index(uniq)


def _waves(s: pd.Series) -> pd.Categorical[str]:
    codes, cat_index = _codes(s)
    cats = [str(c) for c in cat_index]
    bad = sorted(
        {c for c in cats if c not in WAVES} & {cats[i] for i in np.unique(codes) if i >= 0}
    )
    if bad or (codes < 0).any():
        raise InputError(f"wave must be 'pre' or 'post'; found {bad or ['<missing>']}")
    remap = np.array([WAVES.index(c) if c in WAVES else -1 for c in cats] + [-1])
    return pd.Categorical.from_codes(remap[codes], categories=pd.Index(WAVES))


def _check_dimensions(given: pd.Series, pos, dim_of, names, dims) -> None:
    """Each item's dimension in the data must be the codebook's (checked on distinct pairs)."""
    g_codes, g_cats = _codes(given)
    key = np.unique(pos.astype(np.int64) * (len(g_cats) + 1) + g_codes + 1)
    for k in key:
        j, g = divmod(int(k), len(g_cats) + 1)
        if g and str(g_cats[g - 1]) != dims[dim_of[j]]:
            raise InputError(
                f"item {names[j]} is filed under dimension {str(g_cats[g - 1])!r}; the "
                f"codebook says {dims[dim_of[j]]!r}"
            )


def reverse_code(items: pd.DataFrame, codebook: Codebook | str) -> pd.DataFrame:
    """Recode reverse-keyed items and attach each item's dimension from the codebook.

    Parameters
    ----------
    items : DataFrame
        Long item answers: ``student_id, year, wave, item, value`` (``dimension`` optional;
        when present it must agree with the codebook). Answers are as given (1-5).
    codebook : Codebook or str
        The assessment codebook (or a built-in name such as ``"assessment_primary"``).

    Returns
    -------
    DataFrame
        ``student_id`` (as given), ``year``, ``wave``, ``dimension`` (categorical in codebook
        order), ``item`` (categorical in codebook order), ``value`` (float, missing as NaN,
        reverse-keyed items recoded).

    Raises
    ------
    InputError
        A missing column, an item the codebook does not know, an item filed under another
        dimension, a non-numeric answer, or an answer outside its scale.

    Notes
    -----
    A reverse-keyed item answered :math:`v` on a scale from ``lo`` to ``hi`` becomes
    :math:`(lo + hi) - v` (on a 1-5 scale, :math:`6 - v`), so a high recoded answer always
    means more of the dimension. The input is never modified.
    """
    cb = as_codebook(codebook)
    missing = [c for c in ITEM_COLUMNS if c not in items.columns]
    if missing:
        raise InputError(f"assessment items lack column(s) {missing}")
    fields = cb.items
    names = [f.var for f in fields]
    dims = list(cb.dimensions)
    codes, cats = _codes(items["item"])
    cats = pd.Index([str(c) for c in cats])
    known = cats.isin(names)
    used = np.unique(codes[codes >= 0])
    unknown = [cats[i] for i in used if not known[i]]
    if unknown:
        raise InputError(
            f"items not in codebook {cb.name!r}: {', '.join(unknown[:5])}"
            + (" ..." if len(unknown) > 5 else "")
        )
    if (codes < 0).any():
        raise InputError("assessment items: some rows have no item name")
    pos = np.array([names.index(c) if c in names else -1 for c in cats])[codes]
    lo = np.array([cb.scale_of(f).range[0] for f in fields], dtype=float)
    hi = np.array([cb.scale_of(f).range[1] for f in fields], dtype=float)
    rev = np.array([f.reverse for f in fields])
    dim_of = np.array([dims.index(str(f.dimension)) for f in fields])
    value = pd.to_numeric(items["value"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    text = np.isnan(value) & items["value"].notna().to_numpy()
    if text.any():
        i = int(np.flatnonzero(text)[0])
        raise InputError(
            f"{int(text.sum())} non-numeric answer(s), e.g. {items['value'].iloc[i]!r}: the "
            "cleaner maps answer labels to codes first"
        )
    bad = ~np.isnan(value) & ((value < lo[pos]) | (value > hi[pos]))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{int(bad.sum())} answer(s) outside the item's scale, e.g. item {names[pos[i]]} "
            f"= {value[i]:g} (scale {lo[pos[i]]:g}-{hi[pos[i]]:g})"
        )
    value = np.where(rev[pos], lo[pos] + hi[pos] - value, value)
    dim_codes = dim_of[pos]
    if "dimension" in items.columns:
        _check_dimensions(items["dimension"], pos, dim_of, names, dims)
    return pd.DataFrame(
        {
            "student_id": items["student_id"].array,
            "year": items["year"].to_numpy(),
            "wave": _waves(items["wave"]),
            "dimension": pd.Categorical.from_codes(dim_codes, categories=pd.Index(dims)),
            "item": pd.Categorical.from_codes(pos, categories=pd.Index(names)),
            "value": value,
        }
    )


def score_scales(
    items: pd.DataFrame, codebook: Codebook | str, *, min_answered: float = 0.8
) -> pd.DataFrame:
    """Scale score per student, year, wave and dimension: the mean of the answered items.

    Parameters
    ----------
    items : DataFrame
        Long item answers (``student_id, year, wave, item, value``), e.g.
        ``processed["assessment_items"]``; reverse-keyed items *not* yet recoded.
    codebook : Codebook or str
        The assessment codebook: item membership, reverse keys and answer scales.
    min_answered : float, default 0.8
        The share of a dimension's items asked in that year and wave (items with answer
        rows there; the codebook's items when every one was asked) that must be answered for a
        score; below it the score is missing.

    Returns
    -------
    DataFrame
        One row per student, year, wave and dimension that has any answer row:
        ``student_id`` (str), ``year``, ``wave`` (pre/post), ``dimension`` (codebook order),
        ``score`` (float, NaN when too few items were answered), ``n_items`` (items of the
        dimension asked in that year and wave), ``n_answered``.

    Raises
    ------
    InputError
        Bad items (see :func:`reverse_code`), a student answering one item twice in a wave,
        or ``min_answered`` outside (0, 1].

    Notes
    -----
    After reverse-coding (:func:`reverse_code`),
    :math:`\\text{score} = \\frac{1}{m}\\sum_{j \\in A} x_j` over the :math:`m` answered items
    :math:`A` of the dimension, kept when :math:`m \\ge \\lceil \\text{min\\_answered} \\cdot
    J \\rceil` for a dimension of :math:`J` items. Averaging the answered items is person-mean
    imputation ("prorating"), acceptable when few items are missing and the items are
    roughly parallel (Schafer & Graham 2002; Enders 2010, ch. 2).

    Examples
    --------
    >>> items = pd.DataFrame({"student_id": "s1", "year": 2024, "wave": "pre",
    ...     "item": ["moral_1", "moral_2", "moral_3", "moral_4", "moral_5", "moral_6"],
    ...     "value": [4, 4, 5, 4, 2, 1]})
    >>> score_scales(items, "assessment_primary")["score"].round(3).tolist()
    [4.333]
    """
    if not 0 < min_answered <= 1:
        raise InputError(f"min_answered must be in (0, 1], got {min_answered}")
    cb = as_codebook(codebook)
    rec = reverse_code(items, cb)
    n_dup = int(rec.duplicated(["student_id", "year", "wave", "item"]).sum())
    if n_dup:
        raise InputError(f"{n_dup} duplicate answer(s): a student answered an item twice in a wave")
    g = rec.groupby(["student_id", "year", "wave", "dimension"], observed=True, sort=True)
    out = g["value"].agg(["sum", "count"]).reset_index()
    keys = ["year", "wave", "dimension"]
    asked = rec.groupby(keys, observed=True, sort=False)["item"].nunique().rename("_asked")
    n_items = out[keys].join(asked, on=keys)["_asked"].fillna(0).to_numpy()
    need = np.ceil(min_answered * n_items - 1e-9)
    ok = (out["count"].to_numpy() >= need) & (out["count"].to_numpy() > 0)
    score = np.where(ok, out["sum"] / out["count"].clip(lower=1), np.nan)
    return out.drop(columns=["sum", "count"]).assign(
        student_id=out["student_id"].astype("str"),
        score=score,
        n_items=n_items.astype(np.int64),
        n_answered=out["count"].astype(np.int64),
    )


def _matrix(data) -> tuple[np.ndarray, list[str]]:
    if isinstance(data, pd.DataFrame):
        x = data.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        names = [str(c) for c in data.columns]
    else:
        x = np.asarray(data, dtype=float)
        if x.ndim != 2:
            raise InputError("item data must be 2-D: one row per respondent, one column per item")
        names = [f"item_{j + 1}" for j in range(x.shape[1])]
    if x.shape[1] < 2:
        raise InputError("Cronbach's alpha needs at least two items")
    return x, names


def _complete(x: np.ndarray, nan_policy: str) -> np.ndarray:
    if nan_policy == "listwise":
        return x[~np.isnan(x).any(axis=1)]
    raise InputError(f"nan_policy must be 'listwise', got {nan_policy!r}")


def _alpha(x: np.ndarray) -> float:
    k = x.shape[1]
    total = x.sum(axis=1).var(ddof=1)
    if not total > 0:
        return np.nan
    return k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / total)


def cronbach_alpha(data, *, ci: float = 0.95, nan_policy: str = "listwise") -> pd.DataFrame:
    """Cronbach's alpha with Feldt's exact confidence interval.

    Parameters
    ----------
    data : DataFrame or 2-D array
        One row per respondent, one column per item (already reverse-coded).
    ci : float, default 0.95
        Confidence level of the two-sided interval.
    nan_policy : {"listwise"}
        Respondents with any missing item are left out.

    Returns
    -------
    DataFrame
        One row: ``n`` (respondents used), ``k`` (items), ``alpha``, ``ci_low``, ``ci_high``.

    Notes
    -----
    With :math:`k` items, item variances :math:`s_j^2` and the variance :math:`s_T^2` of the
    total score (Cronbach 1951),

    .. math:: \\alpha = \\frac{k}{k-1}\\left(1 - \\frac{\\sum_j s_j^2}{s_T^2}\\right).

    Feldt (1965) showed that :math:`(1-\\alpha)/(1-\\hat\\alpha)` follows an
    :math:`F(n-1, (n-1)(k-1))` distribution under the parallel-items normal model, so

    .. math:: [1 - (1-\\hat\\alpha) F_{1-\\gamma/2},\\; 1 - (1-\\hat\\alpha) F_{\\gamma/2}]

    with :math:`\\gamma = 1 - \\text{ci}` (Feldt, Woodruff & Salih 1987). ``alpha`` is NaN
    when the total score does not vary or fewer than two respondents are complete.

    References: Cronbach, L. J. (1951). Psychometrika 16, 297-334. Feldt, L. S. (1965).
    Psychometrika 30, 357-370. Feldt, Woodruff & Salih (1987). Applied Psychological
    Measurement 11, 93-103.

    Examples
    --------
    >>> x = np.array([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 4]])
    >>> cronbach_alpha(x).round(4).to_dict("records")
    [{'n': 4, 'k': 3, 'alpha': 0.9485, 'ci_low': 0.6604, 'ci_high': 0.9965}]
    """
    if not 0 < ci < 1:
        raise InputError(f"ci must be in (0, 1), got {ci}")
    x, _ = _matrix(data)
    x = _complete(x, nan_policy)
    n, k = x.shape
    a = _alpha(x) if n >= 2 else np.nan
    lo = hi = np.nan
    if n >= 2 and np.isfinite(a):
        df1, df2 = n - 1, (n - 1) * (k - 1)
        lo = 1 - (1 - a) * stats.f.ppf(1 - (1 - ci) / 2, df1, df2)
        hi = 1 - (1 - a) * stats.f.ppf((1 - ci) / 2, df1, df2)
    return pd.DataFrame({"n": [n], "k": [k], "alpha": [a], "ci_low": [lo], "ci_high": [hi]})


def weighted_alpha(weights: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Cronbach's alpha of an item matrix under frequency weights, for many weight vectors.

    Parameters
    ----------
    weights : 2-D array, B x N
        Frequency weights of the N respondents, one row per replicate (e.g. bootstrap counts).
    x : 2-D array, N x k
        Item answers (already reverse-coded); a respondent with a missing item is left out
        (listwise, as in :func:`cronbach_alpha`).

    Returns
    -------
    1-D array of B alphas.

    Notes
    -----
    The alpha of :func:`cronbach_alpha` with every variance computed from weighted sums
    (:math:`\\sum w x^2 - (\\sum w x)^2 / \\sum w`, divided by :math:`\\sum w - 1`): integer
    weights give exactly the alpha of the matrix with each row repeated that many times.
    """
    c = ~np.isnan(x).any(axis=1)
    xc = np.where(c[:, None], np.nan_to_num(x), 0.0)
    wc = weights * c
    n = wc.sum(axis=1)[:, None]
    var_j = (wc @ xc**2 - (wc @ xc) ** 2 / n) / (n - 1)
    t = xc.sum(axis=1)
    var_t = (wc @ t**2 - (wc @ t) ** 2 / n[:, 0]) / (n[:, 0] - 1)
    k = x.shape[1]
    return k / (k - 1) * (1 - var_j.sum(axis=1) / var_t)


def item_total(data, *, nan_policy: str = "listwise") -> pd.DataFrame:
    """Corrected item-total correlations and alpha if each item were deleted.

    Parameters
    ----------
    data : DataFrame or 2-D array
        One row per respondent, one column per item (already reverse-coded).
    nan_policy : {"listwise"}
        Respondents with any missing item are left out.

    Returns
    -------
    DataFrame
        One row per item: ``item``, ``n``, ``mean``, ``sd``, ``r_corrected`` (Pearson
        correlation of the item with the sum of the *other* items), ``alpha_if_deleted``.

    Notes
    -----
    The corrected item-total correlation :math:`r_{j,T-j} = \\operatorname{corr}(x_j,
    \\sum_{i \\ne j} x_i)` leaves the item out of the total so that it does not correlate with
    itself (Nunnally & Bernstein 1994, ch. 8). An item with a low or negative value is often a
    reverse-keyed item that was not recoded. With two items ``alpha_if_deleted`` is NaN.
    """
    x, names = _matrix(data)
    x = _complete(x, nan_policy)
    n, k = x.shape
    total = x.sum(axis=1)
    rows = []
    for j in range(k):
        rest = total - x[:, j]
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.corrcoef(x[:, j], rest)[0, 1] if n >= 2 else np.nan
        aid = _alpha(np.delete(x, j, axis=1)) if k > 2 and n >= 2 else np.nan
        rows.append(
            {
                "item": names[j],
                "n": n,
                "mean": x[:, j].mean() if n else np.nan,
                "sd": x[:, j].std(ddof=1) if n >= 2 else np.nan,
                "r_corrected": r,
                "alpha_if_deleted": aid,
            }
        )
    return pd.DataFrame(rows)


def _blocks(rec: pd.DataFrame, cb: Codebook) -> Iterator[tuple[tuple, np.ndarray, list[str]]]:
    """(year, wave, dimension), respondents x items matrix, item names."""
    for (year, wave, dim), part in rec.groupby(
        ["year", "wave", "dimension"], observed=True, sort=True
    ):
        present = set(part.loc[part["value"].notna(), "item"].astype("str").unique())
        names = [f.var for f in cb.items_of(str(dim)) if f.var in present]  # asked this wave
        s_codes, s_uniq = pd.factorize(part["student_id"])
        j = pd.Index(names).get_indexer(pd.Index(part["item"].astype("str")))
        x = np.full((len(s_uniq), len(names)), np.nan)
        x[s_codes, j] = part["value"].to_numpy()
        yield (year, str(wave), str(dim)), x, names


def shared_items(items: pd.DataFrame, codebook: Codebook | str) -> pd.DataFrame:
    """The items of each dimension that both waves of a year asked.

    Parameters
    ----------
    items : DataFrame
        Long item answers (``student_id, year, wave, item, value``).
    codebook : Codebook or str
        The assessment codebook (item membership and order).

    Returns
    -------
    DataFrame
        One row per year and dimension: ``year, dimension``, ``shared`` (tuple of the items
        both waves asked, codebook order; every item asked when the year has one wave only),
        ``only_pre``, ``only_post`` (tuples of the items one wave alone asked).

    Notes
    -----
    An item counts as asked in a wave when anyone answered it there (a question the file
    lacks has no answers, whether it has rows of missing values or none). A dimension one wave did not ask at all keeps its
    items (there is no change to compute for it).
    """
    cb = as_codebook(codebook)
    rec = reverse_code(items, cb)
    cb_order = list(cb.dimensions).index
    ans = rec.loc[rec["value"].notna()].drop_duplicates(["year", "dimension", "wave", "item"])
    asked: dict[tuple, set[str]] = {}
    for y, d, w, it in zip(ans["year"], ans["dimension"], ans["wave"], ans["item"], strict=True):
        asked.setdefault((y, str(d), str(w)), set()).add(str(it))
    rows = []
    for year, dim in sorted({(y, d) for y, d, _ in asked}, key=lambda k: (k[0], cb_order(k[1]))):
        pre, post = asked.get((year, dim, "pre"), set()), asked.get((year, dim, "post"), set())
        both = pre & post if pre and post else pre | post
        order = [f.var for f in cb.items_of(str(dim))]
        rows.append(
            {
                "year": year,
                "dimension": str(dim),
                "shared": tuple(v for v in order if v in both),
                "only_pre": tuple(v for v in order if v in pre - both),
                "only_post": tuple(v for v in order if v in post - both),
            }
        )
    return pd.DataFrame(rows, columns=["year", "dimension", "shared", "only_pre", "only_post"])


def keep_shared(
    items: pd.DataFrame, codebook: Codebook | str, *, shared: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The answers to the items both waves of their year asked (:func:`shared_items`, or
    ``shared`` when already computed).

    Change scores and the reliability the RCI uses are computed on these rows, so a pre and a
    post score of a dimension always average the same items.

    Examples
    --------
    >>> items = pd.DataFrame({"student_id": "s1", "year": 2024,
    ...     "wave": ["pre", "pre", "post"], "item": ["moral_1", "moral_2", "moral_1"],
    ...     "value": [4, 5, 3]})
    >>> keep_shared(items, "assessment_primary")["item"].tolist()
    ['moral_1', 'moral_1']
    """
    sh = shared_items(items, codebook) if shared is None else shared
    if sh.empty or not (sh["only_pre"].map(len) + sh["only_post"].map(len)).any():
        return items
    drop = {
        (y, v)
        for y, a, b in zip(sh["year"], sh["only_pre"], sh["only_post"], strict=True)
        for v in (*a, *b)
    }
    key = pd.MultiIndex.from_arrays([items["year"], items["item"].astype("str")])
    return items.loc[~key.isin(list(drop))]


def reliability(items: pd.DataFrame, codebook: Codebook | str, *, ci: float = 0.95) -> pd.DataFrame:
    """Cronbach's alpha with its Feldt interval per year, wave and dimension.

    Parameters
    ----------
    items : DataFrame
        Long item answers (``processed["assessment_items"]``), not yet reverse-coded.
    codebook : Codebook or str
        The assessment codebook (reverse keys, membership, published alphas).
    ci : float, default 0.95
        Confidence level of the interval.

    Returns
    -------
    DataFrame
        ``year, wave, dimension, n, k, alpha, ci_low, ci_high, published_alpha`` (the
        codebook's value, NaN when it gives none).

    Notes
    -----
    Items are reverse-coded first (:func:`reverse_code`); respondents with a missing item in
    the dimension are left out of that dimension's alpha (listwise). See
    :func:`cronbach_alpha` for the formula and the interval.
    """
    cb = as_codebook(codebook)
    rec = reverse_code(items, cb)
    rows = []
    for (year, wave, dim), x, _ in _blocks(rec, cb):
        a = cronbach_alpha(x, ci=ci).iloc[0].to_dict()
        pub = cb.dimensions[dim].published_alpha
        rows.append(
            {"year": year, "wave": wave, "dimension": dim, **a}
            | {"published_alpha": np.nan if pub is None else float(pub)}
        )
    cols = ["year", "wave", "dimension", "n", "k", "alpha", "ci_low", "ci_high"]
    out = pd.DataFrame(rows, columns=[*cols, "published_alpha"])
    return out.astype({"n": np.int64, "k": np.int64})


def item_statistics(items: pd.DataFrame, codebook: Codebook | str) -> pd.DataFrame:
    """Corrected item-total correlations per year, wave and dimension.

    Parameters
    ----------
    items : DataFrame
        Long item answers, not yet reverse-coded.
    codebook : Codebook or str
        The assessment codebook.

    Returns
    -------
    DataFrame
        ``year, wave, dimension, item, reverse, n, mean, sd, r_corrected,
        alpha_if_deleted`` (see :func:`item_total`; ``mean`` after reverse-coding).
    """
    cb = as_codebook(codebook)
    rec = reverse_code(items, cb)
    frames = []
    for (year, wave, dim), x, names in _blocks(rec, cb):
        t = item_total(pd.DataFrame(x, columns=names))
        t.insert(0, "dimension", dim)
        t.insert(0, "wave", wave)
        t.insert(0, "year", year)
        t.insert(4, "reverse", [cb.field(v).reverse for v in names])
        frames.append(t)
    if not frames:
        raise InputError("no assessment items to analyse")
    return pd.concat(frames, ignore_index=True)
