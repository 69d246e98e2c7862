r"""The array engine: accounts are rows of numpy arrays, SimPy drives the timeline.

State is held as ``(R, N)`` arrays (R replications x N account *slots*). A SimPy
environment runs one *tick* process (a month over all accounts and replications at
once) and one *team* process per tier (see :mod:`cs_sim.sim.capacity`). Each month
the tick updates the accounts (acquisition, usage, support, champion events, NPS
survey, health), evaluates the plays, hands the queued CSM work to the teams through
SimPy stores, waits for them, then settles churn, expansion and the books. The
equations of each step are functions of :mod:`cs_sim.sim.model` (its docstring states
them all); this module holds the state arrays, the scratch buffers, the random streams
and the timeline.

Slots and random numbers
------------------------
Slots ``0 .. N0-1`` hold the starting customers; each month ``m`` reserves a block of
``K`` slots (:class:`~cs_sim.sim.population.Layout` ``per_month``) for new logos, so
slot layout is fixed in advance.
Replication ``r`` of seed ``s`` uses ``SeedSequence(s, spawn_key=(r, c))`` for component
``c`` (the same as ``SeedSequence(s).spawn(R)[r].spawn(9)[c]``; components in
:data:`~cs_sim.sim.rng.COMPONENTS` order) and ``SeedSequence(s, spawn_key=(r, 2**32 +
crc32(name)))`` for each play whose reach is below 1 (:mod:`cs_sim.sim.rng`). Every
component draws a *fixed* number of uniforms per slot and month for every slot born so
far, alive or dead, whatever the scenario does with them: two scenarios with the same
seed and slot layout share their random numbers (common random numbers) and a
difference between them is the policy. Nothing mixes replications, so results do not
depend on how replications are chunked.
Bit generator: PCG64DXSM. Monthly uniforms are float32 ``(k + 1/2) / 2**24`` (never 0
or 1: ``gen.random(n, dtype=np.float32) + 2**-25``, drawn in bulk by
:class:`~cs_sim.sim.rng.UniformStream`), and the behavioural state (health, usage,
probabilities) is float32, which halves the work per cell; money (seats, prices, MRR)
is float64. Plays with ``reach == 1`` draw nothing. The acquisition stream is drawn for
all months at the start (the same stream positions as month by month).
"""

# ruff: noqa: N806 (R, N, H, T, P, K: replications, slots, months, tiers, plays, block)
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cs_sim.sim import model
from cs_sim.sim.capacity import WorkQueue, team_process
from cs_sim.sim.numerics import nonzero_2d
from cs_sim.sim.plays import CompiledPlay, compile_plays, condition_mask, retention_multipliers
from cs_sim.sim.population import (
    UNBORN,
    AccountSlots,
    Layout,
    StartingPopulation,
    default_layout,
    starting_population,
    tier_of,
)
from cs_sim.sim.rng import batch_streams, to_uniform, words_below
from cs_sim.sim.scenario import Scenario

__all__ = ["RawRun", "run_engine"]

_CHURN_NONE, _CHURN_VOL, _CHURN_INVOL = 0, 1, 2
_MONTHLY = (
    "accounts_start", "new_logos", "churned_voluntary", "churned_involuntary",
    "accounts_end", "mrr_start", "new_mrr", "expansion_mrr", "contraction_mrr",
    "churned_mrr", "mrr_end", "csm_cost", "play_cost", "programme_cost",
    "members", "nps_responses", "nps_promoters", "nps_detractors",
    "failed_tickets", "mean_health", "capped_acquisition",
)
_BY_TIER = ("accounts", "capacity_hours", "hours_used", "delivered", "dropped", "queued",
            "wait_sum", "mrr")
_BY_PLAY = ("requested", "delivered", "dropped", "cost", "hours")


@dataclass
class RawRun:
    """Raw arrays of a run (replication rows in ``reps`` order); see results.py."""

    reps: tuple[int, ...]
    seed: int
    tier_names: list[str]
    play_names: list[str]
    monthly: dict[str, np.ndarray]  # each (R, H)
    tiers: dict[str, np.ndarray]  # each (R, H, T)
    plays: dict[str, np.ndarray]  # each (R, H, P)
    cohort: dict[str, np.ndarray]  # each (R,)
    record: dict[str, Any] | None = None
    layout: Layout | None = None


@dataclass
class _Recorder:
    row: int
    rows: list[dict[str, np.ndarray]] = field(default_factory=list)
    deliveries: list[tuple[np.ndarray, int, int, np.ndarray, np.ndarray]] = field(
        default_factory=list
    )
    surveys: list[tuple[np.ndarray, int, np.ndarray]] = field(default_factory=list)
    births: list[tuple[int, int]] = field(default_factory=list)


class _LazyMetrics:
    """Mapping view of the batch's metrics (for data-based plays), computed on first use."""

    def __init__(self, batch: _Batch) -> None:
        self._b = batch

    def __getitem__(self, name: str) -> np.ndarray:
        return self._b._metric(name)


class _Batch(AccountSlots):
    """State and monthly steps of one batch of replications (internal).

    The accounts' arrays come from :class:`~cs_sim.sim.population.AccountSlots`;
    :func:`run_engine` drives the batch month by month: :meth:`begin_month` (accounts
    and plays), the queue's ``collect`` and :meth:`serve` (the CSM teams),
    :meth:`end_month` (churn, expansion, books).
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        reps: tuple[int, ...],
        layout: Layout,
        population: StartingPopulation,
        record_row: int | None,
    ) -> None:
        super().__init__(scenario, layout, len(reps))
        self.b = scenario.behaviour
        self.seed, self.reps = seed, reps
        self.H, self.R, self.NT = scenario.horizon_months, len(reps), layout.n_total
        self.T, self.S = len(scenario.tiers), len(scenario.segments)
        self.plays: list[CompiledPlay] = compile_plays(scenario)
        self.P = len(self.plays)
        self.rec = _Recorder(record_row) if record_row is not None else None
        self._init_state()
        self._init_streams()
        self._init_parameters()
        self.place_starting(population)
        self.place_new_logos(self.blk)

    # ----------------------------------------------------------------- set-up
    def _init_state(self) -> None:
        R, NT, P, H, T = self.R, self.NT, self.P, self.H, self.T
        f4 = np.float32  # behaviour state and scratch: float32 halves the work per cell
        self.au_prev = np.zeros((R, NT), dtype=f4)
        self.nps_last = np.full((R, NT), np.nan, dtype=f4)
        self.level = np.zeros((P, R, NT), dtype=f4)
        self.last_fire = np.full((P, R, NT), -UNBORN, dtype=np.int32)
        self.wbuf = [np.empty((R, NT), dtype=f4) for _ in range(7)]
        self.au_buf = np.zeros((R, NT), dtype=f4)
        self.share_buf = np.zeros((R, NT), dtype=f4)
        self.level_on = [False] * P
        self.out_m = {k: np.zeros((R, H)) for k in _MONTHLY}
        self.out_t = {k: np.zeros((R, H, T)) for k in _BY_TIER}
        self.out_p = {k: np.zeros((R, H, P)) for k in _BY_PLAY}

    def _init_streams(self) -> None:
        keys = [p.stream_key if p.reach < 1 else None for p in self.plays]  # reach 1: no draws
        st = batch_streams(self.seed, self.reps, self.NT, keys, months=self.H,
                           per_month=self.L.per_month)
        self.streams, self.play_streams = st.monthly, st.plays
        # acquisition: month m uses 1 + 4K uniforms (count, then the block's segment,
        # employees, contract, health)
        self.blk = st.acquisition
        self.champ_words = words_below(self.b.support.champion_leave_rate)
        self.resp_words = words_below(self.b.surveys.nps_response_rate)

    def _init_parameters(self) -> None:
        sc, P = self.sc, self.P
        self.tier_mask = np.array([p.tier_mask for p in self.plays]).reshape(P, self.T)
        self.seg_mask = np.array([p.seg_mask for p in self.plays]).reshape(P, self.S)
        self.wait_decay = np.array([p.wait_decay for p in self.plays], dtype=float)
        self.queue = WorkQueue(self.plays, self.R, self.NT,
                               [t.team.headcount * t.team.hours_per_month for t in sc.tiers])
        self.team_cost = float(sum(t.team.headcount * t.team.cost_per_month for t in sc.tiers))
        self.rc = retention_multipliers(sc)
        self.rc_cost = float(sum(rc.cost_per_month for rc in sc.retention_changes))
        self.need_au_prev = self.rec is not None or any(
            p.event == "usage_drop" or any(c[0] == "usage_change" for c in p.conditions)
            for p in self.plays
        )

    # ------------------------------------------------------------------ draws
    def _uniform(self, comp: str, n: int) -> np.ndarray:
        """One float32 uniform per slot: ``(k + 1/2) / 2**24``, never 0 or 1."""
        return self.streams[comp].uniform(n)

    def _work(self, j: int) -> np.ndarray:
        """Scratch array ``j`` of shape (R, n) (contents undefined)."""
        return self.wbuf[j][:, : self.n]

    # ------------------------------------------------------------- month, part 1
    def begin_month(self, m: int) -> None:
        """Accounts' month up to the plays: births, usage, support, events, survey, health."""
        self._start_month(m)
        n, b = self.n, self.b
        alive = self.alive[:, :n]
        h = self.health[:, :n]
        x = model.health_term(h, out=self._work(0))  # last month's health
        eps = model.logistic_shock(self._uniform("usage", n), out=self._work(1))
        self.share, self.au = model.active_users(
            x, eps, self.seats[:, :n], alive, self.sp["active_share_intercept"][:, :n],
            b.usage, share_out=self.share_buf[:, :n], users_out=self.au_buf[:, :n],
            tmp=self._work(3),
        )
        self.fail = model.failed_tickets(
            self._uniform("support", n), self.sp["fail_rate"][:, :n], self.seats[:, :n],
            alive, lam=self._work(3), w1=self._work(4), w2=self._work(5),
        )
        self._fail_sparse: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.champ = model.champion_left(self.streams["events"].words(n), self.champ_words,
                                         alive)
        self.champ_nz = nonzero_2d(self.champ)
        self.resp = model.nps_survey(self.streams["surveys"].words(n), self.resp_words,
                                     alive, x, b.surveys)
        rr, ii, score = self.resp
        self.nps_last[rr, ii] = score
        model.update_health(h, self.sp["health_mean"][:, :n], eps, self.fail, self.champ_nz,
                            b.health, dh=self._work(4), tmp=self._work(5))
        self._plays(m)

    def _start_month(self, m: int) -> None:
        """Advance tenure, give birth to the month's new logos, re-tier at anniversaries."""
        L = self.L
        self.m = m
        n = self.n = L.limit(m)
        self.ten[:, : L.limit(m - 1)] += 1.0
        self._births(m)
        if self.rec is not None:
            row = self.rec.row
            self.alive_start_rec = self.alive[row, :n] & (self.acq[row, :n] < m)
            self.seats_start_rec = self.seats[row, :n].copy()
        self.tenure = self.ten[:, :n]
        self.anniv = self.phase[:, :n] == m % 12  # tenure % 12 == 0 where born
        self.anniv &= self.alive[:, :n]
        if L.per_month:
            self.anniv[:, L.n_initial + m * L.per_month :] = False  # new accounts
        self._change: np.ndarray | None = None
        if self.anniv.any():
            r, i = nonzero_2d(self.anniv)
            self.tier[r, i] = tier_of(
                self.sc, mrr=self.mrr[r, i], employees=self.employees[r, i],
                seats=self.seats[r, i], seg=self.seg[r, i], health=self.health[r, i],
                annual=self.annual[r, i],
            )

    def _births(self, m: int) -> None:
        K = self.L.per_month
        self.new_nz = (np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp))
        self.new_row: np.ndarray | None = None
        if K == 0:
            return
        count, capped = model.new_logos(self.blk[:, m, 0].copy(), self.sc.acquisition,
                                        self.sc.loyalty, self.members_now, K)
        self.out_m["capped_acquisition"][:, m] = capped
        if self.rec is not None:
            self.rec.births.append((m, int(count[self.rec.row])))
        # the block's attributes were set at start (drawn from the same stream positions)
        born = self.give_birth(m, count)
        r, j = nonzero_2d(born)
        self.new_nz = (r, j + self.L.n_initial + m * K)  # the new accounts, row-major
        self.new_row = born[self.rec.row] if self.rec is not None else None

    @property
    def fail_sparse(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows, slots and counts of the cells with failed tickets this month."""
        if self._fail_sparse is None:
            r, i = nonzero_2d(self.fail > 0)
            self._fail_sparse = (r, i, self.fail[r, i].astype(np.int64))
        return self._fail_sparse

    @property
    def change(self) -> np.ndarray:
        """Relative change of active users on last month (0 without last month's users)."""
        if self._change is None:
            prev = self.au_prev[:, : self.n]
            with np.errstate(divide="ignore", invalid="ignore"):
                self._change = np.where(prev > 0, self.au / prev - 1.0, 0.0)
        return self._change

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
            tmod12 = (self.m % 12 - self.phase[:, :n].astype(np.int64)) % 12  # tenure % 12
            return np.where(self.annual[:, :n], (12 - tmod12) % 12, 0)
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
        for k, p in enumerate(self.plays):
            r, i = self._due(k, p, m)
            stream = self.play_streams[k]
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
        self.out_p["requested"][:, m, k] += np.bincount(r, minlength=self.R)
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
        k, r, i, wait, w_months = self.queue.serve(t, m, self.out_t, self.out_p)
        wf = model.wait_factor(self.wait_decay[k], wait)
        for kk in np.unique(k):
            sel = k == kk
            self._deliver(int(kk), m, r[sel], i[sel], wf[sel], w_months[sel])

    def _deliver(
        self, k: int, m: int, r: np.ndarray, i: np.ndarray, wf: np.ndarray, wait: np.ndarray
    ) -> None:
        p = self.plays[k]
        model.deliver_effect(self.health, self.level[k], (r, i), p, wf)
        self.level_on[k] = True
        cnt = np.bincount(r, minlength=self.R)
        self.out_p["delivered"][:, m, k] += cnt
        self.out_p["cost"][:, m, k] += cnt * p.cost
        if self.rec is not None:
            sel = r == self.rec.row
            if sel.any():
                self.rec.deliveries.append((i[sel].copy(), m, k, self.tier[r[sel], i[sel]],
                                            wait[sel].copy()))

    # ------------------------------------------------------------- month, part 2
    def end_month(self, m: int) -> None:
        """Churn, expansion and contraction, loyalty, books, then the month's carry-over."""
        n = self.n
        x = model.health_term(self.health[:, :n], out=self._work(0))  # health after plays
        active = self.alive[:, :n] & (self.tenure >= 1)
        hm, em = model.play_multipliers(self.plays, self.level, self.level_on, n,
                                        hazard_out=self._work(5), expansion_out=self._work(6),
                                        tmp=self._work(1))
        vol, inv = self._churn(x, hm, active)
        churned = vol | inv
        expand, contract = self._resize(x, em, active & ~churned)
        changed = self._reprice(expand, contract)
        vr, vi = nonzero_2d(churned)
        churned_before = self.mrr[vr, vi]  # churned accounts did not expand or contract
        if vr.size:  # a churned account's MRR is 0 from this month
            self.alive[vr, vi] = False
            self.mrr[vr, vi] = 0.0
            self.queue.cancel(vr, vi)
        self._books(m, (vr, vol[vr, vi], churned_before), changed)
        if self.rec is not None:
            self._record(m, vol, inv)
        if self.need_au_prev:
            self.au_prev[:, :n] = self.au
        model.decay_effects(self.plays, self.level, self.level_on, n)

    def _churn(
        self, x: np.ndarray, hm: np.ndarray | None, active: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Voluntary and involuntary churn of the month (masks)."""
        n = self.n
        annual = self.annual[:, :n]
        pv, q = model.churn_hazards(
            x, self.tenure, self.sp["churn_intercept"][:, :n],
            self.sp["involuntary_rate"][:, :n], self.b.churn,
            cells=(self.seg[:, :n], self.tier[:, :n]), retention=self.rc, play_hazard=hm,
            member=self.member[:, :n], loyalty=self.sc.loyalty, out=self._work(2),
            tmp=self._work(1),
        )
        return model.decide_churn(self._uniform("churn", n), pv, q, active=active,
                                  annual=annual, renew=self.anniv & annual)

    def _resize(
        self, x: np.ndarray, em: np.ndarray | None, survivors: np.ndarray
    ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """Expand or contract the survivors' seats; returns the cells of each."""
        n, sp = self.n, self.sp
        pe, pc = model.expansion_probabilities(
            x, self.b.expansion,
            intercepts=(sp["expansion_intercept"][:, :n], sp["contraction_intercept"][:, :n]),
            cells=(self.seg[:, :n], self.tier[:, :n]), retention=self.rc, play_expansion=em,
            pe_out=self._work(3), pc_out=self._work(4),
        )
        exp_, con = model.decide_resize(self._uniform("expansion", n), pe, pc,
                                        survivors=survivors, annual=self.annual[:, :n],
                                        anniversary=self.anniv)
        expand, contract = nonzero_2d(exp_), nonzero_2d(con)
        model.resize_seats(self.seats, expand, contract, sp["expansion_size"],
                           sp["contraction_size"])
        return expand, contract

    def _reprice(
        self, expand: tuple[np.ndarray, np.ndarray], contract: tuple[np.ndarray, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """New loyalty members join; MRR of resized (and discounted) accounts.

        Returns the repriced cells and their MRR before.
        """
        ch_r = np.concatenate([expand[0], contract[0]])
        ch_i = np.concatenate([expand[1], contract[1]])
        lo = self.sc.loyalty
        if lo.enabled:
            jr, ji = model.join_loyalty(self.member, self.resp, lo)
            if lo.discount:
                ch_r = np.concatenate([ch_r, jr])
                ch_i = np.concatenate([ch_i, ji])
        before = self.mrr[ch_r, ch_i]
        model.reprice(self.mrr, (ch_r, ch_i), seats=self.seats, price=self.price,
                      member=self.member, loyalty=lo)
        return ch_r, ch_i, before

    def _books(
        self,
        m: int,
        churned: tuple[np.ndarray, np.ndarray, np.ndarray],
        changed: tuple[np.ndarray, np.ndarray, np.ndarray],
    ) -> None:
        """Write month ``m``'s books (``churned``: rows, voluntary, MRR before churn)."""
        n, om = self.n, self.out_m
        alive = self.alive[:, :n]
        mrr = self.mrr[:, :n]
        vr, is_vol, churned_before = churned
        ch_r, ch_i, ch_before = changed
        n_alive = model.book_logos(om, m, new_rows=self.new_nz[0], churned_rows=vr,
                                   voluntary=is_vol, accounts_start=self.accounts_now)
        self.accounts_now = n_alive
        self.mrr_now = model.book_mrr(om, m, mrr, new=self.new_nz,
                                      changed=(ch_r, mrr[ch_r, ch_i] - ch_before),
                                      churned=(vr, churned_before), mrr_start=self.mrr_now)
        model.book_costs(om, m, team_cost=self.team_cost,
                         play_cost=self.out_p["cost"][:, m, :].sum(axis=1),
                         programme_cost=self.rc_cost + self.sc.other_cost_per_month,
                         loyalty=self.sc.loyalty, member=self.member[:, :n], alive=alive)
        model.book_voice(om, m, answers=self.resp, fail=self.fail, health=self.health[:, :n],
                         alive=alive, n_alive=n_alive)
        model.book_tiers(self.out_t, m, tier=self.tier[:, :n], alive=alive, mrr=mrr)

    def _record(self, m: int, vol: np.ndarray, inv: np.ndarray) -> None:
        """Append the recorded replication's panel rows and survey answers of month ``m``."""
        rec = self.rec
        assert rec is not None
        r = rec.row
        n = self.n
        present = self.alive_start_rec.copy()
        if self.new_row is not None:
            b0 = self.L.n_initial + m * self.L.per_month
            present[b0 : b0 + self.L.per_month] |= self.new_row
        idx = np.flatnonzero(present)
        churn = np.where(vol[r, idx], _CHURN_VOL, np.where(inv[r, idx], _CHURN_INVOL,
                                                           _CHURN_NONE))
        rec.rows.append({
            "slot": idx,
            "month": np.full(idx.size, m),
            "segment": self.seg[r, idx].copy(),
            "tier": self.tier[r, idx].copy(),
            "annual": self.annual[r, idx].copy(),
            "employees": self.employees[r, idx].copy(),
            "acquired": self.acq[r, idx].copy(),
            "mrr": self.mrr[r, :n][idx].copy(),
            "seats": self.seats_start_rec[idx],
            "active_users": self.au[r, idx].copy(),
            "active_share": self.share[r, idx].copy(),
            "health": self.health[r, idx].copy(),
            "failed_tickets": self.fail[r, idx].copy(),
            "tickets_per_seat": self.sp["tickets_per_seat"][r, idx].copy(),
            "champion_left": self.champ[r, idx].copy(),
            "churn": churn,
            "member": self.member[r, idx].copy(),
        })
        rr, ii, score = self.resp
        sel = rr == r
        rec.surveys.append((ii[sel].copy(), m, score[sel].copy()))

    def output(self) -> RawRun:
        """The run's raw arrays."""
        mp0 = self.mrr_initial if self.L.n_initial else np.zeros((self.R, 0))
        end0 = self.mrr[:, : self.L.n_initial]
        cohort = {
            "cohort_mrr_start": mp0.sum(axis=1),
            "cohort_mrr_end": end0.sum(axis=1),
            "cohort_mrr_kept": np.minimum(end0, mp0).sum(axis=1),
            "cohort_accounts_start": (mp0 > 0).sum(axis=1).astype(float),
            "cohort_accounts_end": (end0 > 0).sum(axis=1).astype(float),
        }
        record = None
        if self.rec is not None:
            record = {
                "rows": self.rec.rows,
                "deliveries": self.rec.deliveries,
                "surveys": self.rec.surveys,
                "births": self.rec.births,
                "account_id": self.pop_ids,
                "rep": self.reps[self.rec.row],
            }
        return RawRun(
            reps=self.reps,
            seed=self.seed,
            tier_names=self.sc.tier_names(),
            play_names=[p.name for p in self.plays],
            monthly=self.out_m,
            tiers=self.out_t,
            plays=self.out_p,
            cohort=cohort,
            record=record,
            layout=self.L,
        )



def run_engine(
    scenario: Scenario,
    seed: int,
    reps: tuple[int, ...],
    *,
    layout: Layout | None = None,
    dataset: Any = None,
    record_rep: int | None = None,
) -> RawRun:
    """Run replications ``reps`` of ``scenario`` with ``seed`` in one batch.

    Parameters
    ----------
    scenario : Scenario
    seed : int
        Root seed; replication ``r`` depends only on ``(seed, r)``.
    reps : tuple of int
        Replication indices to run (as rows, in this order).
    layout : Layout, optional
        Slot layout (default :func:`~cs_sim.sim.population.default_layout`);
        :func:`cs_sim.compare` passes a layout shared by both scenarios so that their
        random numbers line up.
    dataset : cs_sim.io.Dataset, optional
        Starting customers when ``population.source`` is ``dataset``.
    record_rep : int, optional
        A replication (one of ``reps``) whose per-account monthly panel is recorded.

    Returns
    -------
    RawRun
    """
    import simpy

    reps = tuple(int(r) for r in reps)
    if record_rep is not None and record_rep not in reps:
        raise ValueError(f"record_rep {record_rep} is not among the replications run")
    population = starting_population(scenario, seed, reps, dataset)
    if layout is None:
        layout = default_layout(scenario, population.n)
    elif layout.n_initial != population.n or layout.horizon != scenario.horizon_months:
        raise ValueError("layout does not match the scenario's population and horizon")
    row = None if record_rep is None else reps.index(record_rep)
    batch = _Batch(scenario, seed, reps, layout, population, row)

    env = simpy.Environment()
    stores = [simpy.Store(env) for _ in scenario.tiers]
    for t, store in enumerate(stores):
        env.process(team_process(env, store, lambda m, t=t: batch.serve(t, m)))

    def tick() -> Any:
        for m in range(scenario.horizon_months):
            batch.begin_month(m)
            batch.queue.collect(batch.tier)
            done = [env.event() for _ in stores]
            for store, ev in zip(stores, done, strict=True):
                store.put((m, ev))
            yield env.all_of(done)
            batch.end_month(m)
            yield env.timeout(1)

    env.process(tick())
    env.run(until=scenario.horizon_months)
    return batch.output()
