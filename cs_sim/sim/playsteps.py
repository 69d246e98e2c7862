"""The plays' part of the engine's month: who is due, reached, eligible; delivery.

:class:`PlaySteps` is a mixin of the engine's batch (:mod:`cs_sim.sim.engine`): it reads
the batch's state arrays and writes its books, following the *Plays* section of
:mod:`cs_sim.sim.model`. Each play is evaluated in turn: time-based plays by tenure
and cadence, data-based plays by their conditions and cooldown, trigger-based plays by
their event this month; a play before its ``start_month`` requests nothing (its random
stream is drawn all the same). Automated work is delivered at once; CSM work queues
for the tier's team (:mod:`cs_sim.sim.capacity`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cs_sim.sim import model
from cs_sim.sim.numerics import nonzero_flat, select
from cs_sim.sim.plays import CompiledPlay, condition_mask
from cs_sim.sim.rng import to_uniform

__all__ = ["PlaySteps"]

#: rows, slots and flat indices ``r * NT + i`` of some cells (see the engine's batch)
Cells = tuple[np.ndarray, np.ndarray, np.ndarray]


class _LazyMetrics:
    """Mapping view of the batch's metrics (for data-based plays), computed on first use."""

    def __init__(self, batch: Any) -> None:
        self._b = batch

    def __getitem__(self, name: str) -> np.ndarray:
        return self._b._metric(name)



class PlaySteps:
    """The plays' monthly steps (a mixin of the engine's batch; see the module)."""

    # the batch provides these (see cs_sim.sim.engine._Batch)
    plays: list[CompiledPlay]
    warm: bool
    R: int
    NT: int
    n: int
    j: int
    m: int
    ledger: Any
    rec: Any
    queue: Any

    # ------------------------------------------------------------------ plays
    def _metric(self, name: str) -> np.ndarray:
        n = self.n
        if name == "health":
            return self.health[:, :n]
        if name == "active_share":
            return self.share
        if name == "usage_change":
            return self.change
        if name == "tenure_months":
            return self.tenure
        if name == "mrr":
            return self.mrr[:, :n]
        if name == "arr":
            return 12.0 * self.mrr[:, :n]
        if name == "nps_score":
            return self.nps_last[:, :n]
        if name == "months_to_renewal":
            term = self.term_months[self.seg[:, :n]]
            return np.where(self.annual[:, :n], (term - self.tenure % term) % term, 0)
        if name == "failed_tickets":
            return self.fail
        raise AssertionError(name)  # pragma: no cover

    def _event(self, p: CompiledPlay) -> Cells:
        """Rows, slots and flat indices where the play's event happened this month."""
        if p.event == "new_account":
            return self.new_nz
        if p.event == "champion_left":
            return self.champ_nz
        if p.event == "usage_drop":
            assert p.threshold is not None
            return nonzero_flat(self.change <= -p.threshold, self.NT)
        if p.event == "support_failure":
            fr, fi, fk = self.fail_sparse
            hit = fk >= (p.threshold or 1.0)
            r, i = select(hit, fr, fi)
            return r, i, r * self.NT + i
        if p.event == "detractor":
            rr, ii, score = self.resp
            hit = score <= (p.threshold if p.threshold is not None else 6.0)
            r, i = select(hit, rr, ii)
            return r, i, r * self.NT + i
        raise AssertionError(p.event)  # pragma: no cover

    def _in_tiers(self, k: int) -> np.ndarray:
        """Dense mask of alive accounts in the tiers eligible for play ``k``."""
        tier = self.tier[:, : self.n]
        alive = self.alive[:, : self.n]
        mask = self.tier_mask[k]
        if mask.all():
            return alive
        ts = np.flatnonzero(mask)
        out = np.equal(tier, ts[0])
        for t in ts[1:]:
            out |= tier == t
        out &= alive
        return out

    def _due(self, k: int, p: CompiledPlay, m: int) -> Cells:
        """Cells where play ``k`` is due this month (before reach and eligibility)."""
        if p.kind == "time":  # candidates by tier first (cheap compares), then cadence
            r, i, f = nonzero_flat(self._in_tiers(k), self.NT)
            ok = model.due_by_schedule(m - self.acq.reshape(-1)[f], p.every, p.offset)
        elif p.kind == "data":
            r, i, f = nonzero_flat(
                condition_mask(p.conditions, _LazyMetrics(self), (self.R, self.n)), self.NT)
            ok = model.cooled_down(m, self.last_fire[k].reshape(-1)[f], p.cooldown)
        else:
            return self._event(p)
        return select(ok, r, i, f)  # type: ignore[return-value]

    def _plays(self, m: int) -> None:
        """Requests of every play: due, reached, eligible; automated work is delivered."""
        started = np.array([p.started(m) for p in self.plays], dtype=bool)
        if self.ledger is not None and self.P:
            self.out_p["eligible"][:, self.j, :] = started * self.ledger.eligible(
                self.seg_mask, self.tier_mask)
        for k, p in enumerate(self.plays):
            stream = self.play_streams[k]
            if not started[k]:
                if stream is not None:  # fixed consumption, started or not
                    stream.words(self.n)
                continue
            r, i, f = self._due(k, p, m)
            if stream is not None:  # fixed consumption: a uniform for every slot, every month
                ok = to_uniform(stream.words(self.n)[r, i]) < p.reach
                r, i, f = select(ok, r, i, f)
            if r.size == 0:
                continue
            ok = model.eligible((r, i, f), alive=self.alive, tier=self.tier, seg=self.seg,
                                tier_mask=self.tier_mask[k], seg_mask=self.seg_mask[k],
                                pending=self.queue.since[k])
            r, i, f = select(ok, r, i, f)
            if r.size:
                self._request(k, m, (r, i, f))

    def _request(self, k: int, m: int, cells: Cells) -> None:
        """Play ``k`` requested for ``cells``: deliver automated work, queue CSM work."""
        r, i, f = cells
        if self.plays[k].kind == "data":
            self.last_fire[k].reshape(-1)[f] = m
        if not self.warm:
            self.out_p["requested"][:, self.j, k] += np.bincount(r, minlength=self.R)
        auto = self.queue.hours_u[k][self.tier.reshape(-1)[f]] == 0
        if auto.all():
            self._deliver(k, m, cells, np.ones(r.size), np.zeros(r.size))
            return
        if auto.any():
            na = int(auto.sum())
            self._deliver(k, m, select(auto, r, i, f), np.ones(na),  # type: ignore[arg-type]
                          np.zeros(na))
            q = ~auto
            r, i, f = select(q, r, i, f)
        self.queue.add(k, r, i, m, flat=f)

    # ------------------------------------------------------------------ capacity
    def serve(self, t: int, m: int) -> None:
        """Serve tier ``t``'s queue in month ``m`` (the team process); deliver what was served."""
        books = self.ledger is not None
        k, r, i, wait, w_months = self.queue.serve(
            t, m, self.out_t, self.out_p, col=self.j, seg=self.seg if books else None,
            segments=self.ledger.segments if self.ledger is not None else None,
            books=not self.warm)
        if k.size == 0:
            return
        wf = model.wait_factor(self.wait_decay[k], wait)
        f = r * self.NT + i
        kinds = np.unique(k)
        if kinds.size == 1:
            self._deliver(int(kinds[0]), m, (r, i, f), wf, w_months)
            return
        for kk in kinds:
            sel = k == kk
            self._deliver(int(kk), m, (r[sel], i[sel], f[sel]), wf[sel], w_months[sel])

    def _deliver(
        self, k: int, m: int, cells: Cells, wf: np.ndarray, wait: np.ndarray
    ) -> None:
        p, j = self.plays[k], self.j
        r, i, f = cells
        model.deliver_effect(self.health, self.level[k], cells, p, wf)
        self.level_on[k] = True
        if not self.warm:
            cnt = np.bincount(r, minlength=self.R)
            self.out_p["delivered"][:, j, k] += cnt
            self.out_p["cost"][:, j, k] += cnt * p.cost
        if self.ledger is not None:
            self.ledger.deliveries(j, r, self.seg.reshape(-1)[f].astype(np.intp),
                                   self.tier.reshape(-1)[f].astype(np.intp), p.cost)
        if self.rec is not None:
            sel = r == self.rec.row
            if sel.any():
                self.rec.delivered(i[sel], m, k, self.tier[r[sel], i[sel]], wait[sel])
