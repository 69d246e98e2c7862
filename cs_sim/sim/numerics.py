"""Numeric helpers of the engine: in-place sigmoid, Poisson and normal quantiles, masks.

The engine works on ``(R, n)`` arrays (replications x account slots); these helpers
keep that fast: the sigmoid overwrites its argument, the dense Poisson quantile decides
the common counts 0 and 1 with whole-array operations, and sparse cells are found with
one flat search.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "count_rows",
    "nonzero_2d",
    "norm_ppf",
    "poisson_ppf",
    "poisson_ppf_dense",
    "sigmoid_",
]


def sigmoid_(v: np.ndarray) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-v))`` computed in place; returns ``v``."""
    np.negative(v, out=v)
    np.exp(v, out=v)
    v += 1.0
    np.reciprocal(v, out=v)
    return v


def nonzero_2d(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` of a 2-D mask, fast (flat search on a contiguous copy).

    Returns
    -------
    rows, cols : ndarray of intp
        The True cells in row-major order.
    """
    flat = np.flatnonzero(np.ascontiguousarray(mask))
    r, i = np.divmod(flat, mask.shape[1])
    return r, i


def count_rows(mask: np.ndarray) -> np.ndarray:
    """Number of True per row (a loop over rows is much faster than ``axis=1``)."""
    return np.array([np.count_nonzero(row) for row in mask], dtype=np.int64)


def norm_ppf(u: np.ndarray) -> np.ndarray:
    """Standard normal quantile ``Φ^{-1}(u)``, with ``u`` clipped to ``[1e-12, 1 - 1e-12]``."""
    from scipy.special import ndtri

    return ndtri(np.clip(u, 1e-12, 1 - 1e-12))


def poisson_ppf(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Exact Poisson quantiles for a few ``(u, lam)`` pairs (1-D), via scipy.

    The smallest ``k`` with ``P(X <= k) >= u`` for ``X ~ Poisson(lam)`` (0 where
    ``lam <= 0``), from scipy's ``pdtrik`` polished with ``pdtr``.
    """
    from scipy.special import pdtr, pdtrik

    out = np.zeros(u.shape, dtype=np.int64)
    pos = lam > 0
    if not pos.any():
        return out
    uu, ll = u[pos], lam[pos]
    k = np.maximum(np.ceil(pdtrik(uu, ll)), 0.0)
    k = np.where(np.isfinite(k), k, 0.0)
    for _ in range(3):  # polish: smallest k with P(X <= k) >= u
        lower = (k > 0) & (pdtr(np.maximum(k - 1, 0), ll) >= uu)
        k = np.where(lower, k - 1, k)
        higher = pdtr(k, ll) < uu
        k = np.where(higher, k + 1, k)
    out[pos] = k.astype(np.int64)
    return out


def poisson_ppf_dense(
    u: np.ndarray, lam: np.ndarray, w1: np.ndarray, w2: np.ndarray
) -> np.ndarray:
    """Inverse CDF of Poisson(``lam``) at ``u`` (2-D), dense int16 counts.

    Counts 0 and 1 are decided with whole-array operations (``w1``, ``w2`` are scratch
    arrays of the same shape); the few cells beyond continue sparsely. At step ``j``
    every cell still searching has count ``j``, so ``P(j) = P(j-1) * (lam / j)`` is one
    vector operation. Whether a cell goes on (``u > P(X <= j)`` and ``P(j) > 0``) can
    only turn from true to false, so a cell's count is ``1 +`` the steps it took part in,
    whether or not finished cells are dropped at once; they are dropped (the arrays
    compacted) only when at most a quarter of the cells are still searching.
    """
    p = w1
    np.negative(lam, out=p)
    np.exp(p, out=p)  # P(0)
    out = (u > p).astype(np.int16)  # >= 1
    cdf = w2
    np.multiply(p, lam, out=cdf)  # P(1)
    cdf += p  # P(X <= 1)
    more = u > cdf
    r, i = nonzero_2d(more)
    if r.size:
        uu = u[r, i]
        ll = lam[r, i]
        c = cdf[r, i]
        pk = p[r, i] * ll  # P(1)
        k = np.empty(r.size, dtype=np.int64)
        pos = np.arange(r.size)
        n_on = np.zeros(r.size, dtype=np.int64)  # steps after which the cell went on
        steps = 0
        while steps < 10_000:
            steps += 1
            pk *= ll / np.float64(steps + 1)  # float64 ratio, as lam / k with an int64 k
            c += pk
            on = uu > c
            on &= pk > 0
            n_on += on
            still = int(np.count_nonzero(on))
            if still == 0:
                break
            if 4 * still <= on.size:
                off = ~on
                k[pos[off]] = 2 + n_on[off]
                pos, uu, ll, c, pk, n_on = (a[on] for a in (pos, uu, ll, c, pk, n_on))
        k[pos] = 1 + np.minimum(steps, 1 + n_on)
        out[r, i] = k.astype(np.int16)
    return out
