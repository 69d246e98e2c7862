"""When each customer's life started, for data that begin while it was already paying.

A dataset's first month holds customers who signed up before it; dating their tenure
(and so the months their annual contracts renew) from their first month with MRR would
start them all together. Their ``signup_date`` dates them instead, moved by the delay
between signup and first payment (a trial, say) that the customers who start inside the
data show: the delay, among 0 .. :data:`MAX_DELAY_DAYS` days, that puts most of those
signups into their first paid month. Used by
:func:`cs_sim.sim.population.initial_population` and by calibration's panel, so that
the simulator and the estimates agree on every account's tenure.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["MAX_DELAY_DAYS", "life_starts", "month_index"]

#: longest signup-to-payment delay searched (days)
MAX_DELAY_DAYS = 120


def month_index(values: Any) -> np.ndarray:
    """Months as integers ``year * 12 + month - 1`` (NaN where not a date)."""
    stamp = pd.to_datetime(pd.Series(values), errors="coerce")
    return (stamp.dt.year * 12 + stamp.dt.month - 1).to_numpy(dtype=float)


def life_starts(
    first_paid: np.ndarray, signup: Any, first: int
) -> tuple[np.ndarray, int | None]:
    """Each account's first month of life (a :func:`month_index`), and the delay used.

    Parameters
    ----------
    first_paid : ndarray of int
        :func:`month_index` of each account's first month with MRR > 0.
    signup : array-like of dates, or None
        Each account's ``signup_date`` (NaT where unknown); None when the data have none.
    first : int
        :func:`month_index` of the data's first month.

    Returns
    -------
    start : ndarray of int
        ``first_paid``, except for accounts paying in the first month with a known
        signup: the month of ``signup + delay``, never later than ``first``.
    delay : int or None
        The signup-to-payment delay in days (None when no account needed it).

    Examples
    --------
    >>> fp = np.array([24300, 24305])  # 2025-01 (paying from the start), 2025-06
    >>> s, d = life_starts(fp, pd.to_datetime(["2023-03-20", "2025-05-25"]), 24300)
    >>> (s.tolist(), d)
    ([24278, 24305], 7)
    """
    first_paid = np.asarray(first_paid, dtype=np.int64)
    start = first_paid.copy()
    left = first_paid == first
    if signup is None or not left.any():
        return start, None
    signup = pd.to_datetime(pd.Series(list(signup)), errors="coerce")
    known = signup.notna().to_numpy()
    inside = known & ~left
    delay = 0
    if inside.any():  # the delay that puts most signups into their first paid month
        best = -1.0
        for days in range(MAX_DELAY_DAYS + 1):
            moved = month_index(signup[inside] + pd.Timedelta(days=days))
            hit = float(np.mean(moved == first_paid[inside]))
            if hit > best + 1e-12:
                best, delay = hit, days
    moved = month_index(signup + pd.Timedelta(days=delay))
    use = left & known & np.isfinite(moved)
    start[use] = np.minimum(moved[use], first).astype(np.int64)
    return start, delay
