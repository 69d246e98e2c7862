"""The warm-up's hand-over: the accounts alive at its end start the reported horizon.

The engine runs the warm-up (months ``-W .. -1``) as a batch of its own and hands its
state over to the batch of the horizon (months ``0 .. H-1``):

* each replication row keeps only its accounts alive at the end of the warm-up, in
  their slot order, in slots ``0 .. A_r - 1``; rows are padded with dead slots to the
  batch's widest row, and the horizon's new-logo blocks follow. Each random stream of
  the row skips its padding (:meth:`cs_sim.sim.rng.UniformStream.set_gap`), so a
  replication's numbers never depend on the other rows of its batch;
* every account keeps its state: tenure, acquisition month, segment, tier, contract,
  seats, price, MRR, health, loyalty membership, last month's active users and NPS
  answer, and the survival of its current contract term;
* plays are matched by *name*: a play of the horizon's scenario found in the warm-up's
  keeps its effect levels, last firing months and queued requests (a request whose
  play takes no CSM hours in the account's tier any more is dropped); a play new in
  the horizon starts from nothing, and its random stream starts there;
* when the horizon's tier rules differ from the warm-up's (a re-tiering what-if run on
  the baseline's warm-up), every account is re-tiered by the new rules at month 0.

The segments must be the same (names, order) in both scenarios: the horizon's
segment parameters then apply to the carried accounts from month 0.

A warm-up depends only on its scenario, the seed, the replications and the slot
layout, and a comparison runs the baseline's twice (once before each scenario's
horizon), an interactive session many times: the state it hands over (the accounts
and where each random stream stands) is kept for the last :data:`CACHE_ENTRIES` warm-ups
of synthetic populations (:func:`clear_warmup_cache` empties it). A run from the cache
gives the same numbers, bit for bit, as one without.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from cs_sim.sim.capacity import NO_REQUEST
from cs_sim.sim.numerics import count_rows, nonzero_2d
from cs_sim.sim.population import UNBORN, tier_of
from cs_sim.sim.rng import UniformStream, batch_streams, play_generator

__all__ = ["ACCOUNT_STATE", "BATCH_STATE", "CACHE_ENTRIES", "Carry", "RunStreams",
           "cached_warmup", "clear_warmup_cache", "hand_over", "place_carry",
           "remember_warmup", "tier_rules"]

#: warm-ups kept (the last ones run), and the most memory one may take
CACHE_ENTRIES = 2
CACHE_MAX_BYTES = 256 * 2**20
_CACHE: OrderedDict[tuple[Any, ...], tuple[Carry, dict[str, Any]]] = OrderedDict()


class RunStreams:
    """A run's random streams, shared by its warm-up and its horizon.

    The engine's monthly component streams and the acquisition uniforms of all months
    (:func:`cs_sim.sim.rng.batch_streams`), and each play's stream (by its key),
    created when a phase first needs it and continued by the next.
    """

    def __init__(self, seed: int, reps: tuple[int, ...], width: int, months: int,
                 per_month: int) -> None:
        st = batch_streams(seed, reps, width, [], months=months, per_month=per_month)
        self.monthly, self.acquisition = st.monthly, st.acquisition
        self.seed, self.reps, self.width = seed, reps, width
        self._plays: dict[int, UniformStream] = {}
        self._gap: tuple[np.ndarray, np.ndarray] | None = None

    def play(self, key: int) -> UniformStream:
        """The stream of the play with ``key`` (continued if an earlier phase drew it)."""
        if key not in self._plays:
            s = UniformStream([play_generator(self.seed, r, key) for r in self.reps],
                              self.width)
            if self._gap is not None:
                s.set_gap(*self._gap)
            self._plays[key] = s
        return self._plays[key]

    def set_gap(self, start: np.ndarray, length: np.ndarray) -> None:
        """Every stream skips each row's padding from now on (see the hand-over)."""
        self._gap = (start, length)
        for s in (*self.monthly.values(), *self._plays.values()):
            s.set_gap(start, length)

    def snapshot(self) -> dict[str, Any]:
        """Where every stream stands (for :meth:`restore`)."""
        return {"monthly": {c: s.get_state() for c, s in self.monthly.items()},
                "plays": {k: s.get_state() for k, s in self._plays.items()}}

    def restore(self, snap: dict[str, Any]) -> None:
        """Continue every stream from a :meth:`snapshot` of a run with the same seed."""
        for c, state in snap["monthly"].items():
            self.monthly[c].set_state(state)
        for key, state in snap["plays"].items():
            self.play(key).set_state(state)


def cached_warmup(key: tuple[Any, ...]) -> tuple[Carry, dict[str, Any]] | None:
    """The hand-over and stream snapshot of the warm-up ``key``, if it was kept."""
    got = _CACHE.get(key)
    if got is not None:
        _CACHE.move_to_end(key)
    return got


def remember_warmup(key: tuple[Any, ...], carry: Carry, snap: dict[str, Any]) -> None:
    """Keep a warm-up's hand-over (unless it is too big), dropping the oldest."""
    size = sum(a.nbytes for a in carry.slots.values()) + sum(
        a.nbytes for d in carry.plays.values() for a in d.values())
    if size > CACHE_MAX_BYTES:
        return
    _CACHE[key] = (carry, snap)
    _CACHE.move_to_end(key)
    while len(_CACHE) > CACHE_ENTRIES:
        _CACHE.popitem(last=False)


def clear_warmup_cache() -> None:
    """Forget every kept warm-up."""
    _CACHE.clear()

#: per-slot arrays of :class:`~cs_sim.sim.population.AccountSlots` that are handed over
ACCOUNT_STATE = ("alive", "acq", "ten", "seg", "tier", "annual", "employees", "seats",
                 "price", "mrr", "health", "member")
#: per-slot arrays of the engine's batch that are handed over
BATCH_STATE = ("au_prev", "nps_last", "term_vol", "term_inv", "term_con")


def tier_rules(scenario: Any) -> list[Any]:
    """The tier names and rules of a scenario, to tell whether two scenarios tier alike."""
    return [(t.name, [c.model_dump() for c in t.rule]) for t in scenario.tiers]


@dataclass
class Carry:
    """The accounts alive at the end of a warm-up, compacted row by row.

    Attributes
    ----------
    count : ndarray of int64
        ``(R,)`` accounts of each row (``A_r``).
    slots : dict of str to ndarray
        :data:`ACCOUNT_STATE` and :data:`BATCH_STATE`, each ``(R, width)``; slots
        ``A_r ..`` of row ``r`` are dead padding.
    plays : dict of str to dict
        By play name: ``level``, ``last_fire`` and ``since`` (queued request), ``(R,
        width)`` each.
    source : ndarray of intp
        ``(R, width)`` slot of each account among the warm-up's starting customers (-1
        for one born in the warm-up, and for padding).
    rules : list
        :func:`tier_rules` of the warm-up's scenario.
    """

    count: np.ndarray
    slots: dict[str, np.ndarray]
    plays: dict[str, dict[str, np.ndarray]]
    source: np.ndarray
    rules: list[Any]

    @property
    def width(self) -> int:
        """Slots of the widest row."""
        return int(self.source.shape[1])


def hand_over(batch: Any) -> Carry:
    """The state of a warm-up batch at its end, compacted (see the module)."""
    n = batch.n
    alive = batch.alive[:, :n]
    count = count_rows(alive)
    width = int(count.max()) if count.size else 0
    order = np.argsort(~alive, axis=1, kind="stable")[:, :width]
    pad = np.arange(width)[None, :] >= count[:, None]
    flat = order + (np.arange(order.shape[0]) * batch.NT)[:, None]  # into (R, NT) arrays

    def take(a: np.ndarray) -> np.ndarray:  # np.take_along_axis(a[:, :n], order, axis=1)
        return a.reshape(-1)[flat]

    slots = {k: take(getattr(batch, k)) for k in ACCOUNT_STATE + BATCH_STATE}
    slots["acq"][pad] = UNBORN
    slots["ten"][pad] = -float(UNBORN)
    slots["mrr"][pad] = 0.0
    plays = {
        p.name: {"level": take(batch.level[k]), "last_fire": take(batch.last_fire[k]),
                 "since": take(batch.queue.since[k])}
        for k, p in enumerate(batch.plays)
    }
    source = np.where(slots["acq"] < batch.first, order, -1)  # born before the warm-up
    source[pad] = -1
    return Carry(count, slots, plays, source, tier_rules(batch.sc))


def place_carry(batch: Any, carry: Carry) -> None:
    """Put the carried accounts in slots ``0 .. width - 1`` of the horizon's batch."""
    w = carry.width
    sl = np.s_[:, :w]
    for k in ACCOUNT_STATE + BATCH_STATE:
        getattr(batch, k)[sl] = carry.slots[k]
    batch.phase[sl] = batch.acq[sl] % 12
    batch._set_seg_params(sl)  # the horizon's segment parameters
    if carry.rules != tier_rules(batch.sc):
        r, i = nonzero_2d(batch.alive[sl])
        batch.tier[r, i] = tier_of(
            batch.sc, mrr=batch.mrr[r, i], employees=batch.employees[r, i],
            seats=batch.seats[r, i], seg=batch.seg[r, i], health=batch.health[r, i],
            annual=batch.annual[r, i],
        )
    for k, p in enumerate(batch.plays):
        got = carry.plays.get(p.name)
        if got is None:
            continue
        batch.level[k][sl] = got["level"]
        batch.level_on[k] = bool(got["level"].any())
        batch.last_fire[k][sl] = got["last_fire"]
        since = got["since"]
        r, i = nonzero_2d(since != NO_REQUEST)
        keep = batch.alive[r, i] & (p.hours_by_tier[batch.tier[r, i]] > 0)
        keep &= p.tier_mask[batch.tier[r, i]]
        r, i = r[keep], i[keep]
        if r.size:
            batch.queue.add(k, r, i, since[r, i])
    batch.mrr_initial = batch.mrr[sl].copy()
