"""Array helpers and random draws shared by the generator's parts (groups of codes, correlated
normals, the graded-response model)."""

from __future__ import annotations

import numpy as np


def group_index(codes: np.ndarray) -> dict[int, np.ndarray]:
    """Positions of each distinct code (one sort, not one scan per code)."""
    codes = np.asarray(codes)
    if not len(codes):
        return {}
    order = np.argsort(codes, kind="stable")
    uniq, first = np.unique(codes[order], return_index=True)
    return {int(u): part for u, part in zip(uniq, np.split(order, first[1:]), strict=True)}


def sigmoid(x):
    """The logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


def corr_normal(rng, n, sds, corr):
    """``n`` draws of a normal vector with standard deviations ``sds`` and common correlation."""
    d = len(sds)
    c = np.full((d, d), corr) + (1 - corr) * np.eye(d)
    z = rng.standard_normal((n, d)) @ np.linalg.cholesky(c).T
    return z * np.asarray(sds)


def grm(rng, theta, a, b):
    """Graded-response draws: theta (n,), a (J,), b (J, K-1) -> responses (n, J) in 1..K."""
    p = sigmoid(a[None, :, None] * (theta[:, None, None] - b[None, :, :]))
    u = rng.random((theta.shape[0], a.shape[0], 1))
    return 1 + (u < p).sum(axis=2)


def grm_moments(theta, a, b, reverse):
    """Expected answer and its variance for each item given theta (recorded direction)."""
    p = sigmoid(a[None, :, None] * (theta[:, None, None] - b[None, :, :]))
    k = b.shape[1] + 1
    cum = np.concatenate([np.ones(p.shape[:2] + (1,)), p, np.zeros(p.shape[:2] + (1,))], 2)
    probs = cum[:, :, :-1] - cum[:, :, 1:]  # P(Y = 1..K)
    cats = np.arange(1, k + 1)
    mean = (probs * cats).sum(2)
    var = (probs * cats**2).sum(2) - mean**2
    mean = np.where(reverse[None, :], k + 1 - mean, mean)
    return mean, var
