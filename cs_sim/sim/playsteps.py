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
from cs_sim.sim.numerics import nonzero_2d
from cs_sim.sim.plays import CompiledPlay, condition_mask
from cs_sim.sim.rng import to_uniform

__all__ = ["PlaySteps"]


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
    R: int
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

    def _event(self, p: CompiledPlay) -> tuple[np.ndarray, np.ndarray]:
        """Rows and slots where the play's event happened this month."""
        if p.event == "new_account":
            return self.new_nz
        if p.event == "champion_left":
            return self.champ_nz
        if p.event == "usage_drop":
            assert p.threshold is not None
            return nonzero_2d(self.change <= -p.threshold)
        if p.event == "support_failure":
            fr, fi, fk = self.fail_sparse
            hit = fk >= (p.threshold or 1.0)
            return fr[hit], fi[hit]
        if p.event == "detractor":
            rr, ii, score = self.resp
            hit = score <= (p.threshold if p.threshold is not None else 6.0)
            return rr[hit], ii[hit]
        raise AssertionError(p.event)  # pragma: no cover

    def _in_tiers(self, k: int) -> np.ndarray:
        """Dense mask of alive accounts in the tiers eligible for play ``k``."""
        tier = self.tier[:, : self.n]
        mask = self.tier_mask[k]
        out = self.alive[:, : self.n].copy()
        if mask.all():
            return out
        elig = np.zeros(out.shape, dtype=bool)
        for t in np.flatnonzero(mask):
            elig |= tier == t
        out &= elig
        return out

    def _due(self, k: int, p: CompiledPlay, m: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and slots where play ``k`` is due this month (before reach and eligibility)."""
        if p.kind == "time":  # candidates by tier first (cheap compares), then cadence
            r, i = nonzero_2d(self._in_tiers(k))
            ok = model.due_by_schedule(m - self.acq[r, i], p.every, p.offset)
        elif p.kind == "data":
            r, i = nonzero_2d(condition_mask(p.conditions, _LazyMetrics(self), (self.R, self.n)))
            ok = model.cooled_down(m, self.last_fire[k, r, i], p.cooldown)
        else:
            return self._event(p)
        return r[ok], i[ok]

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
            r, i = self._due(k, p, m)
            if stream is not None:  # fixed consumption: a uniform for every slot, every month
                ok = to_uniform(stream.words(self.n)[r, i]) < p.reach
                r, i = r[ok], i[ok]
            if r.size == 0:
                continue
            ok = model.eligible((r, i), alive=self.alive, tier=self.tier, seg=self.seg,
                                tier_mask=self.tier_mask[k], seg_mask=self.seg_mask[k],
                                pending=self.queue.since[k])
            r, i = r[ok], i[ok]
            if r.size:
                self._request(k, m, r, i)

    def _request(self, k: int, m: int, r: np.ndarray, i: np.ndarray) -> None:
        """Play ``k`` requested for the cells ``(r, i)``: deliver automated work, queue CSM work."""
        if self.plays[k].kind == "data":
            self.last_fire[k, r, i] = m
        self.out_p["requested"][:, self.j, k] += np.bincount(r, minlength=self.R)
        auto = self.queue.hours_u[k][self.tier[r, i]] == 0
        if auto.any():
            na = int(auto.sum())
            self._deliver(k, m, r[auto], i[auto], np.ones(na), np.zeros(na))
        q = ~auto
        if q.any():
            self.queue.add(k, r[q], i[q], m)

    # ------------------------------------------------------------------ capacity
    def serve(self, t: int, m: int) -> None:
        """Serve tier ``t``'s queue in month ``m`` (the team process); deliver what was served."""
        books = self.ledger is not None
        k, r, i, wait, w_months = self.queue.serve(
            t, m, self.out_t, self.out_p, col=self.j, seg=self.seg if books else None,
            segments=self.ledger.segments if self.ledger is not None else None)
        wf = model.wait_factor(self.wait_decay[k], wait)
        for kk in np.unique(k):
            sel = k == kk
            self._deliver(int(kk), m, r[sel], i[sel], wf[sel], w_months[sel])

    def _deliver(
        self, k: int, m: int, r: np.ndarray, i: np.ndarray, wf: np.ndarray, wait: np.ndarray
    ) -> None:
        p, j = self.plays[k], self.j
        model.deliver_effect(self.health, self.level[k], (r, i), p, wf)
        self.level_on[k] = True
        cnt = np.bincount(r, minlength=self.R)
        self.out_p["delivered"][:, j, k] += cnt
        self.out_p["cost"][:, j, k] += cnt * p.cost
        if self.ledger is not None:
            self.ledger.deliveries(j, r, self.seg[r, i].astype(np.intp),
                                   self.tier[r, i].astype(np.intp), p.cost)
        if self.rec is not None:
            sel = r == self.rec.row
            if sel.any():
                self.rec.delivered(i[sel], m, k, self.tier[r[sel], i[sel]], wait[sel])
