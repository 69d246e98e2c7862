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
    "nonzero_flat",
    "norm_ppf",
    "poisson_ppf",
    "poisson_head",
    "poisson_ppf_dense",
    "poisson_ppf_head",
    "poisson_ppf_tail",
    "put2",
    "rows_flat",
    "select",
    "sigmoid_",
    "sigmoid_neg_",
    "take2",
]


def sigmoid_(v: np.ndarray) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-v))`` computed in place; returns ``v``."""
    np.negative(v, out=v)
    np.exp(v, out=v)
    v += 1.0
    np.divide(1.0, v, out=v)  # the same as np.reciprocal, and faster
    return v


def sigmoid_neg_(w: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(w))``, the logistic function of ``-w``, in place; returns ``w``.

    Equal, bit for bit, to :func:`sigmoid_` of ``v = -w``: a caller that builds the
    negated argument directly (negating each term is exact) saves the negation pass.
    """
    np.exp(w, out=w)
    w += 1.0
    np.divide(1.0, w, out=w)  # the same as np.reciprocal, and several times faster
    return w


def nonzero_2d(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` of a 2-D mask, fast (flat search on a contiguous copy).

    Returns
    -------
    rows, cols : ndarray of intp
        The True cells in row-major order.
    """
    flat = np.flatnonzero(np.ascontiguousarray(mask))
    r = flat // mask.shape[1]  # faster than np.divmod (a division by a constant)
    flat -= r * mask.shape[1]
    return r, flat


def nonzero_flat(mask: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, columns and flat indices ``r * width + i`` of the True cells of a 2-D mask.

    ``width`` is the row length of the full arrays the mask's columns index (the slot
    arrays are ``(R, width)``, C-contiguous): ``a.reshape(-1)[f]`` is then ``a[r, i]``,
    several times faster than indexing with two arrays.
    """
    flat = np.flatnonzero(np.ascontiguousarray(mask))
    n = mask.shape[1]
    r = flat // n
    i = flat - r * n
    if width != n:
        flat += r * (width - n)
    return r, i, flat


def rows_flat(a: np.ndarray) -> tuple[np.ndarray, int]:
    """A 1-D view over the rows of a 2-D array and its row stride ``s`` (in elements).

    ``a[r, i]`` is ``v[r * s + i]``: for a C-contiguous array, or a column slice
    ``b[:, :n]`` of one (the engine's state and scratch arrays), any array whose rows are
    contiguous. The view spans the rows' memory (the gaps between them lie inside the
    array's own buffer and are never indexed).
    """
    if a.ndim == 2 and a.flags.c_contiguous:
        return a.reshape(-1), a.shape[1]
    item = a.itemsize
    if a.ndim != 2:
        raise ValueError("rows_flat needs a 2-D array with contiguous rows")
    s0, s1 = a.strides
    if s1 != item or s0 <= 0 or s0 % item:
        raise ValueError("rows_flat needs a 2-D array with contiguous rows")
    s = s0 // item
    size = (a.shape[0] - 1) * s + a.shape[1] if a.shape[0] else 0
    return np.lib.stride_tricks.as_strided(a, shape=(size,), strides=(item,)), s


#: below this many cells, two index arrays cost less than making a flat index
_FLAT_MIN = 256


def take2(a: np.ndarray, r: np.ndarray, i: np.ndarray) -> np.ndarray:
    """``a[r, i]`` (2-D ``a`` with contiguous rows), by flat index: several times faster."""
    if r.size < _FLAT_MIN:
        return a[r, i]
    v, s = rows_flat(a)
    return v[r * s + i]


def put2(a: np.ndarray, r: np.ndarray, i: np.ndarray, values: object) -> None:
    """``a[r, i] = values`` (2-D ``a`` with contiguous rows), by flat index."""
    if r.size < _FLAT_MIN:
        a[r, i] = values
        return
    v, s = rows_flat(a)
    v[r * s + i] = values


def select(mask: np.ndarray, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """``tuple(a[mask] for a in arrays)`` for a 1-D mask: one search, then a gather each.

    Much faster than boolean indexing when the True cells are scattered (boolean
    indexing copies each run of them separately).
    """
    idx = np.flatnonzero(mask)
    return tuple(a[idx] for a in arrays)


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


def poisson_head(lam: np.ndarray, *, p0: np.ndarray, cdf1: np.ndarray) -> None:
    """``P(X = 0) = e^{-lam}`` into ``p0`` and ``P(X <= 1)`` into ``cdf1`` (float32).

    The same operations as :func:`poisson_ppf_dense`, so a quantile from these (
    :func:`poisson_ppf_head`) equals one from ``lam``; ``lam``, ``p0`` and ``cdf1``
    have one shape (2-D, or 1-D for a few cells: the result per cell is the same).
    """
    np.negative(lam, out=p0)
    np.exp(p0, out=p0)  # P(0)
    np.multiply(p0, lam, out=cdf1)  # P(1)
    cdf1 += p0  # P(X <= 1)


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
    p, cdf = w1, w2
    poisson_head(lam, p0=p, cdf1=cdf)
    out = (u > p).astype(np.int16)  # >= 1
    more = u > cdf
    r, i = nonzero_2d(more)
    if r.size:
        out[r, i] = _poisson_tail(u[r, i], lam[r, i], cdf[r, i], p[r, i])
    return out


def poisson_ppf_head(
    u: np.ndarray, lam: np.ndarray, p0: np.ndarray, cdf1: np.ndarray, live: np.ndarray, *,
    out: np.ndarray, scratch: np.ndarray, defer: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """``poisson_ppf_dense(u, lam * live)`` from ``lam``'s :func:`poisson_head`, kept per cell.

    ``p0`` and ``cdf1`` are ``poisson_head(lam)``; cells where ``live`` is False count 0
    (as with ``lam = 0``). ``out`` (int16) receives the counts; ``scratch`` is a boolean
    array of the same shape. Two comparisons replace the exponentials of the dense form.
    ``defer``: return ``out`` counting 0 and 1 only and the mask (in ``scratch``) of the
    cells beyond, for the caller to finish with :func:`poisson_ppf_tail`.
    """
    np.greater(u, p0, out=scratch)
    np.logical_and(scratch, live, out=out)  # >= 1
    more = np.greater(u, cdf1, out=scratch)
    more &= live
    if defer:
        return out, more
    poisson_ppf_tail(out, nonzero_2d(more), u, lam, p0, cdf1)
    return out


def poisson_ppf_tail(
    out: np.ndarray, cells: tuple[np.ndarray, np.ndarray], u: np.ndarray, lam: np.ndarray,
    p0: np.ndarray, cdf1: np.ndarray,
) -> None:
    """The counts (>= 2) of ``cells`` (those with ``u > P(X <= 1)``) into ``out``."""
    r, i = cells
    if r.size:
        put2(out, r, i, _poisson_tail(take2(u, r, i), take2(lam, r, i), take2(cdf1, r, i),
                                      take2(p0, r, i)))


def _poisson_tail(uu: np.ndarray, ll: np.ndarray, c: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Counts (>= 2, int16) of the cells with ``u > P(X <= 1)``: ``u``, ``lam``, that CDF, ``P(0)``.

    Float32 as the dense arrays; each step's ratio ``lam / (j + 1)`` is float64 (as with an
    int64 ``j``), the probability then rounded to float32.
    """
    pk = p * ll  # P(1)
    ll64 = ll.astype(np.float64)
    ratio = np.empty(ll64.shape)
    k = np.empty(uu.size, dtype=np.int64)
    pos = np.arange(uu.size)
    n_on = np.zeros(uu.size, dtype=np.int64)  # steps after which the cell went on
    steps = 0
    while steps < 10_000:
        steps += 1
        np.divide(ll64, steps + 1, out=ratio)
        pk *= ratio
        c += pk
        on = uu > c
        on &= pk > 0
        n_on += on
        still = int(np.count_nonzero(on))
        if still == 0:
            break
        if 4 * still <= on.size:
            p_off, n_off = select(~on, pos, n_on)
            k[p_off] = 2 + n_off
            pos, uu, ll64, c, pk, n_on = select(on, pos, uu, ll64, c, pk, n_on)
            ratio = ratio[: pos.size]
    k[pos] = 1 + np.minimum(steps, 1 + n_on)
    return k.astype(np.int16)
