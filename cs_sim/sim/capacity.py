"""CSM capacity: the team of each tier as a SimPy process serving a work queue.

Each month the engine's tick puts a work order on each tier's :class:`simpy.Store`; the
tier's team process takes it, serves the queued work with the month's hours and
signals the tick back. Queued work is held as arrays (one pending request per account
and play, with the month it was requested) for all replications at once; serving is
vectorised over replications with an exact integer prefix sum, so the result for one
replication never depends on which other replications run beside it.

Queue discipline, per replication and tier, each month:

1. requests waiting more than the play's ``max_wait_months`` are dropped;
2. the rest are ordered by (priority, month requested, account slot) and served in
   that order while the cumulative hours fit in the month's capacity
   ``headcount x hours_per_month`` (strict order: the first request that does not
   fit, and all after it, wait for next month; unused hours are lost);
3. a request served after waiting ``w`` whole months has its effect scaled by
   ``(1 - wait_decay) ** w``; its reported wait is ``w`` plus the share of the month's
   capacity used before it started (a within-month queueing delay, in months).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import numpy as np

__all__ = ["HOUR_UNITS", "serve_queue", "team_process", "to_units"]

#: hours are counted in integer units of 1/1000 hour so that prefix sums are exact
HOUR_UNITS = 1000


def to_units(hours: np.ndarray | float) -> np.ndarray:
    """Convert hours to integer hour-units (rounded to the nearest 1/1000 hour)."""
    return np.rint(np.asarray(hours, dtype=float) * HOUR_UNITS).astype(np.int64)


def serve_queue(
    rep: np.ndarray,
    priority: np.ndarray,
    since: np.ndarray,
    slot: np.ndarray,
    hours_u: np.ndarray,
    capacity_u: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Serve queued requests of one tier for every replication at once.

    Parameters
    ----------
    rep, priority, since, slot : ndarray of int
        Per request: replication row, play priority, month requested, account slot.
    hours_u : ndarray of int64
        Per request: hour-units it takes.
    capacity_u : ndarray of int64
        Hour-units available this month, per replication row.

    Returns
    -------
    order : ndarray of int
        Indices sorting the requests into service order.
    served : ndarray of bool
        In service order: whether the request is served this month.
    before_u : ndarray of int64
        In service order: hour-units used in its replication before it.
    """
    order = _stable_order((rep, priority, since, slot))
    r = rep[order]
    h = hours_u[order]
    cum = np.cumsum(h)  # exact: int64
    # start of each replication's group in the sorted list
    if r.size:
        starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
        group_base = np.repeat(cum[starts] - h[starts], np.diff(np.r_[starts, r.size]))
    else:
        group_base = np.zeros(0, dtype=np.int64)
    within = cum - group_base  # cumulative units in the group, including this request
    before_u = within - h
    served = within <= capacity_u[r]
    return order, served, before_u


def _stable_order(keys: tuple[np.ndarray, ...]) -> np.ndarray:
    """``np.lexsort(keys[::-1])`` (first key most significant; ties keep input order).

    Non-negative integer keys are packed into one int64 when their ranges allow, and
    sorted once with a stable sort, which is much faster than a sort per key.
    """
    n = keys[0].size
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    packed = np.zeros(n, dtype=np.int64)
    span = 1
    for key in keys:
        lo, hi = int(key.min()), int(key.max())
        width = hi - lo + 1
        span *= width
        if span >= 2**62:
            return np.lexsort(keys[::-1])
        packed *= width
        packed += key - lo
    return np.argsort(packed, kind="stable")


def team_process(
    env: Any, store: Any, serve: Callable[[int], None]
) -> Generator[Any, Any, None]:
    """SimPy process of one tier's CSM team.

    Parameters
    ----------
    env : simpy.Environment
    store : simpy.Store
        Work orders ``(month, done_event)`` put by the monthly tick.
    serve : callable
        ``serve(month)`` serves the tier's queue for that month (all replications).

    Yields
    ------
    simpy events
    """
    while True:
        month, done = yield store.get()
        serve(month)
        done.succeed()
