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
   ``FTE(m) x hours_per_month`` (strict order: the first request that does not
   fit, and all after it, wait for next month; unused hours are lost);
3. a request served after waiting ``w`` whole months has its effect scaled by
   ``(1 - wait_decay) ** w``; its reported wait is ``w`` plus the share of the month's
   capacity used before it started (a within-month queueing delay, in months).

A team's headcount may change over the horizon (:class:`~cs_sim.sim.scenario.TeamChange`):
:func:`team_plan` gives its headcount (for the cost) and its full-time equivalents
``FTE(m)`` (for the capacity) month by month, hires ramping up linearly.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.sim.plays import CompiledPlay
    from cs_sim.sim.scenario import Team

__all__ = ["HOUR_UNITS", "NO_REQUEST", "WorkQueue", "serve_queue", "team_plan", "team_process",
           "to_units"]

#: hours are counted in integer units of 1/1000 hour so that prefix sums are exact
HOUR_UNITS = 1000
#: ``WorkQueue.since`` of an account with no request of the play queued (months may be
#: negative: the warm-up runs months -W .. -1)
NO_REQUEST = int(np.iinfo(np.int32).min)


def team_plan(team: Team, months: range) -> tuple[np.ndarray, np.ndarray]:
    """Headcount and full-time equivalents of a team in each of ``months``.

    With ``h_0 = team.headcount`` and the changes ``c`` in order (``Δ_c = headcount_c -
    headcount_{c-1}``, arriving in ``a_c = month_c + hiring_delay_months_c``)::

        headcount(m) = h_0 + Σ_{c: a_c <= m} Δ_c
        FTE(m) = max(0, headcount(m) - Σ_{c: Δ_c > 0, a_c <= m} Δ_c (1 - ramp_c(m - a_c)))
        ramp_c(j) = min(1, (j + 1) / (ramp_months_c + 1))

    so a hire works ``1 / (ramp_months + 1)`` of a full CSM in its first month, and fully
    from month ``ramp_months`` on. Capacity is ``FTE(m) * hours_per_month`` and cost
    ``headcount(m) * cost_per_month``.

    Parameters
    ----------
    team : Team
    months : range
        Months of the horizon (negative: the warm-up, where no change has arrived).

    Returns
    -------
    headcount, fte : ndarray of float
        One value per month.

    Examples
    --------
    >>> from cs_sim.sim.scenario import Team
    >>> t = Team(headcount=4, changes=[{"month": 2, "headcount": 6, "ramp_months": 3}])
    >>> team_plan(t, range(7))[1].tolist()
    [4.0, 4.0, 4.5, 5.0, 5.5, 6.0, 6.0]
    """
    m = np.asarray(months, dtype=float)
    head = np.full(m.shape, float(team.headcount))
    fte = head.copy()
    prev = team.headcount
    for c in team.changes:
        delta = c.headcount - prev
        prev = c.headcount
        j = m - (c.month + c.hiring_delay_months)
        arrived = j >= 0
        head += delta * arrived
        fte += delta * arrived
        if delta > 0 and c.ramp_months:
            ramp = np.minimum(1.0, (j + 1.0) / (c.ramp_months + 1.0))
            fte -= delta * arrived * (1.0 - ramp)
    return head, np.maximum(fte, 0.0)


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


class WorkQueue:
    """The CSM requests queued for every play, tier and replication.

    An account has at most one request of a play queued; ``since[k, r, i]`` is the month
    it was requested (:data:`NO_REQUEST`: none).

    Parameters
    ----------
    plays : sequence of CompiledPlay
    n_reps, n_slots : int
        Replication rows and account slots.
    capacity_hours : array_like
        Each tier's hours a month: ``(T,)`` the same every month, or ``(T, months)``
        (``FTE(m) x hours_per_month``), indexed by the ``col`` of :meth:`serve`.
    """

    def __init__(
        self,
        plays: Sequence[CompiledPlay],
        n_reps: int,
        n_slots: int,
        capacity_hours: Any,
    ) -> None:
        cap = np.asarray(capacity_hours, dtype=float)
        P, T = len(plays), cap.shape[0]  # noqa: N806 (plays, tiers)
        self.n_reps, self.n_slots = n_reps, n_slots
        self.uses_csm = [p.uses_csm for p in plays]
        self.hours_u = np.array([to_units(p.hours_by_tier) for p in plays]).reshape(P, T)
        self.max_wait = np.array([p.max_wait for p in plays], dtype=np.int64)
        self.priority = np.array([p.priority for p in plays], dtype=np.int64)
        self.capacity_u = to_units(cap)
        self.since = np.full((P, n_reps, n_slots), NO_REQUEST, dtype=np.int32)
        self.n_pending = [0] * P
        # flat slots (r * n_slots + i) that may hold a request of each play (a superset:
        # served, dropped and cancelled requests are filtered out in collect)
        self.slots: list[list[np.ndarray]] = [[] for _ in range(P)]
        self.work = (np.zeros(0, dtype=np.int64),) * 5

    def add(self, k: int, r: np.ndarray, i: np.ndarray, month: int) -> None:
        """Queue play ``k`` for the accounts ``(r, i)`` (none of them has one queued)."""
        self.since[k, r, i] = month
        self.n_pending[k] += int(r.size)
        self.slots[k].append(r * self.n_slots + i)

    def cancel(self, r: np.ndarray, i: np.ndarray) -> None:
        """Drop every request of the accounts ``(r, i)`` (they churned)."""
        self.since[:, r, i] = NO_REQUEST

    def collect(self, tier: np.ndarray) -> None:
        """Gather this month's queued requests of every play, with each account's tier."""
        ks, rs, is_, since = [], [], [], []
        for k, uses_csm in enumerate(self.uses_csm):
            if not uses_csm or self.n_pending[k] == 0:
                continue
            flat = np.sort(np.concatenate(self.slots[k]))  # row-major order
            live = self.since[k].reshape(-1)[flat] != NO_REQUEST
            live[1:] &= flat[1:] != flat[:-1]  # a slot requested again after a reset
            flat = flat[live]
            self.slots[k] = [flat]
            r, i = np.divmod(flat, self.n_slots)
            self.n_pending[k] = r.size
            if r.size:
                ks.append(np.full(r.size, k))
                rs.append(r)
                is_.append(i)
                since.append(self.since[k, r, i].astype(np.int64))
        if ks:
            k_a, r_a, i_a, s_a = (np.concatenate(a) for a in (ks, rs, is_, since))
        else:
            k_a = r_a = i_a = s_a = np.zeros(0, dtype=np.int64)
        self.work = (k_a, r_a, i_a, s_a, tier[r_a, i_a])

    def serve(
        self, t: int, m: int, tiers: dict[str, np.ndarray], plays: dict[str, np.ndarray],
        *, col: int | None = None, seg: np.ndarray | None = None,
        segments: dict[str, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, ...]:
        """Serve tier ``t``'s collected requests in month ``m`` (steps 1-2 of the module).

        Writes the month's queue figures into column ``col`` (default ``m``) of the
        ``(R, H, T)`` arrays ``tiers`` (capacity_hours, dropped, hours_used, delivered,
        wait_sum, queued) and ``(R, H, P)`` arrays ``plays`` (dropped, hours); with
        ``seg`` (the accounts' segment codes), also of the ``(R, H, S)`` arrays
        ``segments`` (dropped, hours_used) by the account's segment.

        Returns
        -------
        play, row, slot, wait, wait_months : ndarray
            The requests served, in service order: whole months waited, and the reported
            wait (whole months plus the share of capacity used before it).
        """
        j = m if col is None else col
        R = self.n_reps  # noqa: N806 (replications)
        cap_u = self.capacity_u[t] if self.capacity_u.ndim == 1 else self.capacity_u[t, j]
        tiers["capacity_hours"][:, j, t] = cap_u / HOUR_UNITS
        k_a, r_a, i_a, s_a, t_a = self.work
        sel = t_a == t
        k, r, i, since = k_a[sel], r_a[sel], i_a[sel], s_a[sel]
        wait = m - since
        drop = wait > self.max_wait[k]
        if drop.any():
            self.since[k[drop], r[drop], i[drop]] = NO_REQUEST
            tiers["dropped"][:, j, t] += np.bincount(r[drop], minlength=R)
            P = plays["dropped"].shape[2]  # noqa: N806 (plays)
            plays["dropped"][:, j, :] += np.bincount(r[drop] * P + k[drop],
                                                     minlength=R * P).reshape(R, P)
            if segments is not None and seg is not None:
                S = segments["dropped"].shape[2]  # noqa: N806 (segments)
                segments["dropped"][:, j, :] += np.bincount(
                    r[drop] * S + seg[r[drop], i[drop]], minlength=R * S).reshape(R, S)
            keep = ~drop
            k, r, i, since, wait = k[keep], r[keep], i[keep], since[keep], wait[keep]
        hours = self.hours_u[k, t]
        order, served, before = serve_queue(r, self.priority[k], since, i, hours,
                                            np.full(R, cap_u, dtype=np.int64))
        k, r, i, wait, hours = k[order], r[order], i[order], wait[order], hours[order]
        s_k, s_r, s_i, s_w, s_h = k[served], r[served], i[served], wait[served], hours[served]
        w_months = s_w + before[served] / max(cap_u, 1)
        if s_k.size:
            self.since[s_k, s_r, s_i] = NO_REQUEST
            tiers["hours_used"][:, j, t] += np.bincount(s_r, weights=s_h, minlength=R) / HOUR_UNITS
            tiers["delivered"][:, j, t] += np.bincount(s_r, minlength=R)
            tiers["wait_sum"][:, j, t] += np.bincount(s_r, weights=w_months, minlength=R)
            P = plays["hours"].shape[2]  # noqa: N806 (plays)
            plays["hours"][:, j, :] += np.bincount(s_r * P + s_k, weights=s_h, minlength=R * P
                                                   ).reshape(R, P) / HOUR_UNITS
            if segments is not None and seg is not None:
                S = segments["hours_used"].shape[2]  # noqa: N806 (segments)
                segments["hours_used"][:, j, :] += np.bincount(
                    s_r * S + seg[s_r, s_i], weights=s_h, minlength=R * S
                ).reshape(R, S) / HOUR_UNITS
        tiers["queued"][:, j, t] += np.bincount(r[~served], minlength=R)
        return s_k, s_r, s_i, s_w, w_months


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
