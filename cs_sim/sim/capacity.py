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

from cs_sim.sim.numerics import select, take2

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.sim.plays import CompiledPlay
    from cs_sim.sim.scenario import Team

__all__ = ["HOUR_UNITS", "NO_REQUEST", "WorkQueue", "serve_in_order", "serve_queue",
           "service_order", "team_plan", "team_process", "to_units"]

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
    order = service_order(rep, priority, since, slot)
    served, before_u = serve_in_order(rep[order], hours_u[order], capacity_u)
    return order, served, before_u


def service_order(
    rep: np.ndarray, priority: np.ndarray, since: np.ndarray, slot: np.ndarray
) -> np.ndarray:
    """Indices sorting requests into service order (step 2; ties keep their order)."""
    return _stable_order((rep, priority, since, slot))


def serve_in_order(
    r: np.ndarray, hours_u: np.ndarray, capacity_u: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Which requests, already in service order, fit in their row's capacity (step 2).

    ``r`` (sorted) are the requests' rows; returns ``served`` and ``before_u`` as
    :func:`serve_queue`.
    """
    cum = np.cumsum(hours_u)  # exact: int64
    start = cum - hours_u  # units before each request, from the first of all rows
    if r.size:  # ... less those before its row's first request
        first = np.minimum(np.searchsorted(r, np.arange(capacity_u.size)), r.size - 1)
        before_u = start - start[first][r]
    else:
        before_u = start
    within = before_u + hours_u  # cumulative units in the row, including this request
    served = within <= capacity_u[r]
    return served, before_u


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

    def add(
        self, k: int, r: np.ndarray, i: np.ndarray, month: int, *, flat: np.ndarray | None = None
    ) -> None:
        """Queue play ``k`` for the accounts ``(r, i)`` (none of them has one queued).

        ``flat`` is ``r * n_slots + i`` when the caller has it.
        """
        if flat is None:
            flat = r * self.n_slots + i
        self.since[k].reshape(-1)[flat] = month
        self.n_pending[k] += int(r.size)
        self.slots[k].append(flat)

    def cancel(self, r: np.ndarray, i: np.ndarray, *, flat: np.ndarray | None = None) -> None:
        """Drop every request of the accounts ``(r, i)`` (churned; ``flat``: r * n_slots + i)."""
        if flat is None:
            flat = r * self.n_slots + i
        every = np.arange(self.since.shape[0])[:, None] * (self.n_reps * self.n_slots) + flat
        self.since.reshape(-1)[every.reshape(-1)] = NO_REQUEST

    def _clear(self, k: np.ndarray, r: np.ndarray, i: np.ndarray) -> None:
        """No request queued any more of plays ``k`` for the accounts ``(r, i)``."""
        self.since.reshape(-1)[(k * self.n_reps + r) * self.n_slots + i] = NO_REQUEST

    def collect(self, tier: np.ndarray) -> None:
        """Gather this month's queued requests of every play, in each tier's service order.

        Step 2's order (:func:`serve_queue`: replication, priority, month requested,
        slot; ties in play order) for every tier at once, by one packed key; a request
        dropped later leaves the others' order as it is.
        """
        ks, fs, since = [], [], []
        for k, uses_csm in enumerate(self.uses_csm):
            if not uses_csm or self.n_pending[k] == 0:
                continue
            parts = self.slots[k]  # one sorted array, then the months' new requests
            flat = parts[0] if len(parts) == 1 else np.sort(np.concatenate(parts))
            sv = self.since[k].reshape(-1)[flat]
            live = sv != NO_REQUEST
            live[1:] &= flat[1:] != flat[:-1]  # a slot requested again after a reset
            if not live.all():
                flat, sv = select(live, flat, sv)
            self.slots[k] = [flat]
            self.n_pending[k] = flat.size
            if flat.size:
                ks.append(k)
                fs.append(flat)
                since.append(sv)
        T = self.capacity_u.shape[0]  # noqa: N806 (tiers)
        if not ks:
            none = np.zeros(0, dtype=np.int64)
            self.work = (none, none, none, none, np.zeros(T + 1, dtype=np.intp))
            return
        f_a = np.concatenate(fs)
        s_a = np.concatenate(since).astype(np.int64)
        k_a = np.repeat(np.array(ks, dtype=np.int64), [f.size for f in fs])
        r_a = f_a // self.n_slots
        i_a = f_a - r_a * self.n_slots
        t_a = take2(tier, r_a, i_a) if tier.shape[1] != self.n_slots else tier.reshape(-1)[f_a]
        # group by tier (a stable radix sort of small integers), then each group into
        # service order (it is nearly sorted already); ties keep the play order
        by_tier = np.argsort(t_a, kind="stable")
        bounds = np.searchsorted(t_a[by_tier], np.arange(T + 1))
        prio = self.priority[k_a]
        parts = []
        for t in range(T):
            g = by_tier[bounds[t] : bounds[t + 1]]
            if g.size:
                parts.append(g[service_order(r_a[g], prio[g], s_a[g], i_a[g])])
        order = np.concatenate(parts)
        self.work = (k_a[order], r_a[order], i_a[order], s_a[order], bounds)

    def serve(
        self, t: int, m: int, tiers: dict[str, np.ndarray], plays: dict[str, np.ndarray],
        *, col: int | None = None, seg: np.ndarray | None = None,
        segments: dict[str, np.ndarray] | None = None, books: bool = True,
    ) -> tuple[np.ndarray, ...]:
        """Serve tier ``t``'s collected requests in month ``m`` (steps 1-2 of the module).

        Writes the month's queue figures into column ``col`` (default ``m``) of the
        ``(R, H, T)`` arrays ``tiers`` (capacity_hours, dropped, hours_used, delivered,
        wait_sum, queued) and ``(R, H, P)`` arrays ``plays`` (dropped, hours); with
        ``seg`` (the accounts' segment codes), also of the ``(R, H, S)`` arrays
        ``segments`` (dropped, hours_used) by the account's segment. ``books=False``
        (a warm-up, which reports nothing) writes none of them.

        Returns
        -------
        play, row, slot, wait, wait_months : ndarray
            The requests served, in service order: whole months waited, and the reported
            wait (whole months plus the share of capacity used before it).
        """
        j = m if col is None else col
        R = self.n_reps  # noqa: N806 (replications)
        cap_u = self.capacity_u[t] if self.capacity_u.ndim == 1 else self.capacity_u[t, j]
        if books:
            tiers["capacity_hours"][:, j, t] = cap_u / HOUR_UNITS
        k_a, r_a, i_a, s_a, bounds = self.work
        lo, hi = int(bounds[t]), int(bounds[t + 1])
        if lo == hi:  # nothing queued for the team (the figures stay 0)
            none = np.zeros(0, dtype=np.int64)
            return none, none, none, none, np.zeros(0)
        k, r, i, since = k_a[lo:hi], r_a[lo:hi], i_a[lo:hi], s_a[lo:hi]  # in service order
        wait = m - since
        drop = wait > self.max_wait[k]
        if drop.any():
            k_d, r_d, i_d = select(drop, k, r, i)
            self._clear(k_d, r_d, i_d)
            if books:
                tiers["dropped"][:, j, t] += np.bincount(r_d, minlength=R)
                P = plays["dropped"].shape[2]  # noqa: N806 (plays)
                plays["dropped"][:, j, :] += np.bincount(r_d * P + k_d,
                                                         minlength=R * P).reshape(R, P)
                if segments is not None and seg is not None:
                    S = segments["dropped"].shape[2]  # noqa: N806 (segments)
                    segments["dropped"][:, j, :] += np.bincount(
                        r_d * S + take2(seg, r_d, i_d), minlength=R * S
                    ).reshape(R, S)
            keep = ~drop
            k, r, i, wait = select(keep, k, r, i, wait)
        hours = self.hours_u[:, t][k]
        served, before = serve_in_order(r, hours, np.full(R, cap_u, dtype=np.int64))
        s_k, s_r, s_i, s_w, s_h, s_b = select(served, k, r, i, wait, hours, before)
        w_months = s_w + s_b / max(cap_u, 1)
        if s_k.size:
            self._clear(s_k, s_r, s_i)
        if s_k.size and books:
            tiers["hours_used"][:, j, t] += np.bincount(s_r, weights=s_h, minlength=R) / HOUR_UNITS
            tiers["delivered"][:, j, t] += np.bincount(s_r, minlength=R)
            tiers["wait_sum"][:, j, t] += np.bincount(s_r, weights=w_months, minlength=R)
            P = plays["hours"].shape[2]  # noqa: N806 (plays)
            plays["hours"][:, j, :] += np.bincount(s_r * P + s_k, weights=s_h, minlength=R * P
                                                   ).reshape(R, P) / HOUR_UNITS
            if segments is not None and seg is not None:
                S = segments["hours_used"].shape[2]  # noqa: N806 (segments)
                segments["hours_used"][:, j, :] += np.bincount(
                    s_r * S + take2(seg, s_r, s_i), weights=s_h, minlength=R * S
                ).reshape(R, S) / HOUR_UNITS
        if books:
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
