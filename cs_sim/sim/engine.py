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

Warm-up
-------
A run first simulates ``W = scenario.warmup()`` months (numbered ``-W .. -1``) with
nothing reported, so that health, tenure, seats, tiers, play effects and contract
terms reach the steady state of the policy before the horizon (months ``0 .. H-1``)
starts; the "starting customers" are the accounts alive after the warm-up. The
warm-up runs as a batch of its own, without books or records, and hands its accounts
over (:mod:`cs_sim.sim.handover`). It runs the policy of the scenario given as
``warmup`` (default: the scenario itself); :func:`cs_sim.compare` passes the baseline,
so both scenarios of a comparison start the horizon from the same state and the
change starts at month 0. Plays with a ``start_month`` and team changes never act in
the warm-up. A population from a dataset does not warm up by default (its accounts
are the real start).

Slots and random numbers
------------------------
Slots ``0 .. N0-1`` hold the starting customers; each month ``m`` reserves a block of
``K`` slots (:class:`~cs_sim.sim.population.Layout` ``per_month``) for new logos, so
slot layout is fixed in advance (after a warm-up, ``N0`` is the widest row's accounts
and each row's streams skip its padding).
Replication ``r`` of seed ``s`` uses ``SeedSequence(s, spawn_key=(r, c))`` for component
``c`` (the same as ``SeedSequence(s).spawn(R)[r].spawn(9)[c]``; components in
:data:`~cs_sim.sim.rng.COMPONENTS` order) and ``SeedSequence(s, spawn_key=(r, 2**32 +
crc32(name)))`` for each play whose reach is below 1 (:mod:`cs_sim.sim.rng`). Every
component draws a *fixed* number of uniforms per slot and month for every slot born so
far, alive or dead, whatever the scenario does with them (a play before its
``start_month`` included): two scenarios with the same seed and slot layout share their
random numbers (common random numbers) and a difference between them is the policy.
The warm-up and the horizon continue the same streams. Nothing mixes replications, so
results do not depend on how replications are chunked.
Bit generator: PCG64DXSM. Monthly uniforms are float32 ``(k + 1/2) / 2**24`` (never 0
or 1: ``gen.random(n, dtype=np.float32) + 2**-25``, drawn in bulk by
:class:`~cs_sim.sim.rng.UniformStream`), and the behavioural state (health, usage,
probabilities) is float32, which halves the work per cell; money (seats, prices, MRR)
is float64. Plays with ``reach == 1`` draw nothing. The acquisition stream is drawn for
all months (warm-up and horizon) at the start.
"""

# ruff: noqa: N806 (R, N, H, T, P, K, S, W: replications, slots, months, tiers, plays, ...)
from __future__ import annotations

from typing import Any

import numpy as np

from cs_sim.sim import model, numerics
from cs_sim.sim.books import Ledger
from cs_sim.sim.capacity import WorkQueue, team_plan, team_process
from cs_sim.sim.handover import (
    Carry,
    RunStreams,
    cached_warmup,
    hand_over,
    place_carry,
    remember_warmup,
)
from cs_sim.sim.numerics import nonzero_2d, nonzero_flat, put2, select, take2
from cs_sim.sim.plays import CompiledPlay, compile_plays, retention_multipliers
from cs_sim.sim.playsteps import PlaySteps
from cs_sim.sim.population import (
    UNBORN,
    AccountSlots,
    Layout,
    StartingPopulation,
    born_logo_accounts,
    default_layout,
    new_logo_accounts,
    starting_population,
    tier_inputs,
    tier_of,
)
from cs_sim.sim.rawrun import RawRun
from cs_sim.sim.record import Recorder
from cs_sim.sim.rng import words_below
from cs_sim.sim.scenario import Scenario

__all__ = ["RawRun", "run_engine"]

_MONTHLY = (
    "accounts_start", "new_logos", "churned_voluntary", "churned_involuntary",
    "accounts_end", "mrr_start", "new_mrr", "expansion_mrr", "contraction_mrr",
    "churned_mrr", "mrr_end", "csm_cost", "play_cost", "programme_cost",
    "members", "nps_responses", "nps_promoters", "nps_detractors",
    "failed_tickets", "mean_health", "capped_acquisition",
)
#: monthly totals that are the sums over segments of the ledger's books
_FROM_SEGMENTS = ("accounts_start", "new_logos", "accounts_end", "mrr_start", "new_mrr",
                  "expansion_mrr", "contraction_mrr", "churned_mrr", "mrr_end", "play_cost")
_BY_TIER = ("accounts", "capacity_hours", "hours_used", "delivered", "dropped", "queued",
            "wait_sum", "mrr")
_BY_PLAY = ("requested", "delivered", "dropped", "cost", "hours", "eligible")
_COHORT = ("cohort_mrr_start", "cohort_mrr_end", "cohort_mrr_kept", "cohort_accounts_start",
           "cohort_accounts_end")


class _Batch(PlaySteps, AccountSlots):
    """State and monthly steps of one batch of replications over one phase (internal).

    The accounts' arrays come from :class:`~cs_sim.sim.population.AccountSlots`, the
    plays' steps from :class:`~cs_sim.sim.playsteps.PlaySteps`; :func:`_timeline` drives
    the batch month by month: :meth:`begin_month` (accounts
    and plays), the queue's ``collect`` and :meth:`serve` (the CSM teams),
    :meth:`end_month` (churn, expansion, books). Months are absolute (the warm-up's
    negative); ``j = m - first`` indexes the batch's layout and output arrays. A warm-up
    batch (``warm``) keeps no books and no fixed layout: its new logos take free slots
    (:meth:`~cs_sim.sim.population.AccountSlots.give_birth_recycled`), so it works on
    about as many slots as it has customers; each row's streams draw for the row's
    slots in use only.
    """

    def __init__(
        self, scenario: Scenario, layout: Layout, streams: RunStreams, start: Any, *,
        first: int, acq_offset: int, warm: bool, record: Recorder | None = None,
    ) -> None:
        super().__init__(scenario, layout, len(streams.reps))
        self.b = scenario.behaviour
        self.seed, self.reps = streams.seed, streams.reps
        self.first, self.warm = first, warm
        self.H, self.R, self.NT = layout.horizon, len(self.reps), layout.n_total
        self.T, self.S = len(scenario.tiers), len(scenario.segments)
        self.plays: list[CompiledPlay] = compile_plays(scenario)
        self.P = len(self.plays)
        self.rec = record
        self._streams = streams
        self._init_state()
        self.streams = streams.monthly
        self.play_streams = [streams.play(p.stream_key) if p.reach < 1 else None
                             for p in self.plays]
        self.blk = streams.acquisition[:, acq_offset : acq_offset + self.H]
        lo = scenario.loyalty
        self.logo_counts = None  # new logos of every month, when referrals do not count
        if layout.per_month and not (lo.enabled and lo.referral_rate > 0):
            self.logo_counts = model.new_logos(self.blk[:, :, 0].copy(), scenario.acquisition,
                                               lo, self.members_now, layout.per_month)
        self.champ_words = words_below(self.b.support.champion_leave_rate)
        self.resp_words = words_below(self.b.surveys.nps_response_rate)
        self._init_parameters()
        self.fresh = not isinstance(start, Carry)  # no history before the first month
        if self.fresh:
            self.place_starting(start, first_month=first)
        else:
            place_carry(self, start)
        if warm:  # new logos' attributes by month block; slots recycled as they are born
            self.used = np.full(self.R, layout.n_initial, dtype=np.int64)
            self.logo_pool: dict[str, np.ndarray] = {}
            if self.logo_counts is not None:  # the attributes of the slots born only
                self.logo_pool, self.logo_first = born_logo_accounts(
                    scenario, self.blk, layout.per_month, self.logo_counts[0])
            elif layout.per_month:
                pool = new_logo_accounts(scenario, self.blk, layout.per_month)
                self.logo_pool = {k: v.reshape(-1) for k, v in pool.items()}
                width = self.H * layout.per_month
                self.logo_first = (np.arange(self.R)[:, None] * width
                                   + np.arange(self.H)[None, :] * layout.per_month)
            self._gap_used = self.used.copy()
            self.n = layout.n_initial
        else:  # a recorded history shows every slot: give them all their attributes
            self.place_new_logos(self.blk, None if self.rec is not None or self.logo_counts is None
                                 else self.logo_counts[0])
        self._ticket_head(cols=layout.n_initial if warm else None)  # births set their own
        self.tier_initial = self.tier[:, : layout.n_initial].copy()
        self.ledger: Ledger | None = None
        if not warm:
            self.ledger = Ledger(self.R, self.S, self.T, self.H)
            n0 = layout.n_initial
            self.ledger.reset(self.alive[:, :n0], self.seg[:, :n0], self.tier[:, :n0],
                              self.mrr[:, :n0])

    # ----------------------------------------------------------------- set-up
    def _init_state(self) -> None:
        R, NT, P, H, T = self.R, self.NT, self.P, self.H, self.T
        f4 = np.float32  # behaviour state and scratch: float32 halves the work per cell
        self.au_prev = np.zeros((R, NT), dtype=f4)
        self.nps_last = np.full((R, NT), np.nan, dtype=f4)
        self.term_vol = np.ones((R, NT), dtype=f4)  # survival over the contract term
        self.term_inv = np.ones((R, NT), dtype=f4)
        self.term_con = np.ones((R, NT), dtype=f4)
        self.level = np.zeros((P, R, NT), dtype=f4)
        self.last_fire = np.full((P, R, NT), -UNBORN, dtype=np.int32)
        self.wbuf = [np.empty((R, NT), dtype=f4) for _ in range(7)]
        self.au_buf = np.zeros((R, NT), dtype=f4)
        self.share_buf = np.zeros((R, NT), dtype=f4)
        self.bbuf = np.empty((R, NT), dtype=bool)
        # failed tickets: each slot's λ and its P(0), P(X <= 1), kept as seats change
        self.t_block = np.zeros((3, R, NT), dtype=f4)
        self.t_lam, self.t_p0, self.t_cdf1 = self.t_block
        self.level_on = [False] * P
        self.out_m = {k: np.zeros((R, H)) for k in _MONTHLY}
        self.out_t = {k: np.zeros((R, H, T)) for k in _BY_TIER}
        self.out_p = {k: np.zeros((R, H, P)) for k in _BY_PLAY}

    def _init_parameters(self) -> None:
        sc, P = self.sc, self.P
        self.tier_mask = np.array([p.tier_mask for p in self.plays]).reshape(P, self.T)
        self.seg_mask = np.array([p.seg_mask for p in self.plays]).reshape(P, self.S)
        self.wait_decay = np.array([p.wait_decay for p in self.plays], dtype=float)
        months = range(self.first, self.first + self.H)
        plans = [team_plan(t.team, months) for t in sc.tiers]
        self.queue = WorkQueue(self.plays, self.R, self.NT,
                               [fte * t.team.hours_per_month
                                for (_, fte), t in zip(plans, sc.tiers, strict=True)])
        self.team_cost = np.sum([head * t.team.cost_per_month
                                 for (head, _), t in zip(plans, sc.tiers, strict=True)], axis=0)
        self.rc = retention_multipliers(sc)
        self.rc_cost = float(sum(rc.cost_per_month for rc in sc.retention_changes))
        self.need_au_prev = self.rec is not None or any(
            p.event == "usage_drop" or any(c[0] == "usage_change" for c in p.conditions)
            for p in self.plays
        )
        self.all_terms_12 = bool(np.all(self.term_months == 12))
        self.tier_inputs = tier_inputs(sc)
        # no factor of the voluntary hazard exceeds 1 (plays' effect levels are <= 1)
        lo = sc.loyalty
        self.hazard_at_most_one = (
            all(p.hazard_multiplier <= 1.0 for p in self.plays)
            and all(self.rc[t] is None or bool(np.all(self.rc[t] <= 1.0))
                    for t in ("voluntary_churn", "early_life_churn"))
            and not (lo.enabled and lo.hazard_multiplier > 1.0)
        )

    def _ticket_head(self, flat: np.ndarray | None = None, *, cols: int | None = None) -> None:
        """Update the slots' λ of failed tickets, P(0), P(X <= 1): first ``cols``, or ``flat``."""
        fr, seats = self.sp["fail_rate"], self.seats
        if flat is None:
            sl = np.s_[:, :cols]
            model.ticket_head(fr[sl], seats[sl], lam=self.t_lam[sl], p0=self.t_p0[sl],
                              cdf1=self.t_cdf1[sl])
            return
        head = np.empty((3, flat.size), dtype=np.float32)
        model.ticket_head(fr.reshape(-1)[flat], seats.reshape(-1)[flat], lam=head[0],
                          p0=head[1], cdf1=head[2])
        every = (np.arange(3)[:, None] * self.t_lam.size + flat).reshape(-1)
        self.t_block.reshape(-1)[every] = head.reshape(-1)

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
            b.usage, share_out=self.share_buf[:, :n],
            users_out=self.au_buf[:, :n] if self.need_au_prev else None,
            tmp=self._work(3),
        )
        u_support = self._uniform("support", n)
        head = (self.t_lam[:, :n], self.t_p0[:, :n], self.t_cdf1[:, :n])
        self.fail, more = model.failed_tickets_kept(  # counts >= 2 below
            u_support, alive, head, out=np.empty((self.R, n), dtype=np.int16),
            scratch=self.bbuf[:, :n], defer=True)
        self._fail_sparse: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.champ = model.champion_left(self.streams["events"].words(n), self.champ_words,
                                         alive)
        words = self.streams["surveys"].words(n)  # valid until the next monthly draw
        answered = model.champion_left(words, self.resp_words, alive)  # the same test
        # one search for the cells of all three (failed tickets >= 2, champions, answers)
        r, i, f = nonzero_flat((more | self.champ) | answered, self.NT)
        fn = r * n + i
        numerics.poisson_ppf_tail(self.fail, select(self.bbuf.reshape(-1)[f], r, i),
                                  u_support, *head)
        self.champ_nz = select(self.champ.reshape(-1)[fn], r, i, f)
        self.resp = model.nps_survey(words, self.resp_words, alive, x, b.surveys,
                                     cells=select(answered.reshape(-1)[fn], r, i))
        rr, ii, score = self.resp
        put2(self.nps_last, rr, ii, score)
        model.update_health(h, self.sp["health_mean"][:, :n], eps, self.fail, self.champ_nz[:2],
                            b.health, dh=self._work(4), tmp=self._work(5))
        self._plays(m)

    def _start_month(self, m: int) -> None:
        """Advance tenure, re-tier at anniversaries, open the books, give birth."""
        L = self.L
        self.m, self.j = m, m - self.first
        j = self.j
        if self.warm:  # new logos first: they take free slots (and set the slots in use)
            self.ten[:, : self.n] += 1.0
            self._births(m, j)
            n = self.n
        else:
            n = self.n = L.limit(j)
            self.ten[:, : L.limit(j - 1)] += 1.0
        self.tenure = self.ten[:, :n]
        self.anniv = self.phase[:, :n] == m % 12  # tenure % 12 == 0 (new logos: not alive yet)
        self.anniv &= self.alive[:, :n]
        if self.warm:
            self.anniv &= self.acq[:, :n] != m
        self._change: np.ndarray | None = None
        self.anniv_cells: tuple[np.ndarray, ...] = (np.zeros(0, dtype=np.intp),) * 3
        if self.anniv.any():
            r, i, f = self.anniv_cells = nonzero_flat(self.anniv, self.NT)
            old = self.tier.reshape(-1)[f].astype(np.intp)
            seg = self.seg.reshape(-1)[f]
            new = tier_of(self.sc, seg=seg,
                          **{k: getattr(self, k).reshape(-1)[f] for k in self.tier_inputs})
            self.tier.reshape(-1)[f] = new
            if self.ledger is not None:
                self.ledger.move(r, seg.astype(np.intp), old, new, self.mrr.reshape(-1)[f])
        if self.rec is not None:
            self.rec.month_start(self, m)
        if self.ledger is not None:
            self.ledger.open(j)
        if not self.warm:
            self._births(m, j)

    def _births(self, m: int, j: int) -> None:
        K = self.L.per_month
        self.new_nz = (np.zeros(0, dtype=np.intp),) * 3
        self.new_row: np.ndarray | None = None
        if K == 0:
            return
        if self.logo_counts is not None:
            count, capped = self.logo_counts[0][:, j], self.logo_counts[1][:, j]
        else:
            count, capped = model.new_logos(self.blk[:, j, 0].copy(), self.sc.acquisition,
                                            self.sc.loyalty, self.members_now, K)
        self.out_m["capped_acquisition"][:, j] = capped
        if self.rec is not None:
            self.rec.births.append((m, int(count[self.rec.row])))
        if self.warm:
            self._recycle(m, j, count)
            return
        # the block's attributes were set at start (drawn from the same stream positions)
        born = self.give_birth(m, count, block=j)
        r, jj = nonzero_2d(born)
        i = jj + self.L.n_initial + j * K
        self.new_nz = (r, i, r * self.NT + i)  # the new accounts, row-major
        self.new_row = born[self.rec.row] if self.rec is not None else None
        if self.ledger is not None and r.size:
            f = self.new_nz[2]
            self.ledger.new(j, r, self.seg.reshape(-1)[f].astype(np.intp),
                            self.tier.reshape(-1)[f].astype(np.intp), self.mrr.reshape(-1)[f])

    def _recycle(self, m: int, j: int, count: np.ndarray) -> None:
        """Warm-up births in free slots; the batch's state of those slots starts afresh."""
        r, i = self.give_birth_recycled(m, count, self.logo_pool, self.used,
                                        first=self.logo_first[:, j])
        flat = r * self.NT + i
        self.new_nz = (r, i, flat)
        if r.size:
            for a, value in ((self.au_prev, 0.0), (self.nps_last, np.nan), (self.term_vol, 1.0),
                             (self.term_inv, 1.0), (self.term_con, 1.0)):
                a.reshape(-1)[flat] = value
            every = (np.arange(self.P)[:, None] * (self.R * self.NT) + flat).reshape(-1)
            self.level.reshape(-1)[every] = 0.0  # each play's cells of the slots
            self.last_fire.reshape(-1)[every] = -UNBORN
            self._ticket_head(flat)
        n = int(self.used.max()) if self.R else 0
        if n != self.n or r.size and (self.used != self._gap_used).any():
            self._streams.set_gap(self.used, n - self.used)  # each row draws for its slots
            self._gap_used = self.used.copy()
        self.n = n

    @property
    def fail_sparse(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows, slots and counts of the cells with failed tickets this month."""
        if self._fail_sparse is None:
            r, i = nonzero_2d(self.fail > 0)
            self._fail_sparse = (r, i, take2(self.fail, r, i).astype(np.int64))
        return self._fail_sparse

    @property
    def change(self) -> np.ndarray:
        """Relative change of active users on last month (0 without last month's users)."""
        if self._change is None:
            prev = self.au_prev[:, : self.n]
            assert self.au is not None  # computed whenever a play reads the change
            with np.errstate(divide="ignore", invalid="ignore"):
                self._change = np.where(prev > 0, self.au / prev - 1.0, 0.0)
        return self._change

    # ------------------------------------------------------------- month, part 2
    def end_month(self, m: int) -> None:
        """Churn, expansion and contraction, loyalty, books, then the month's carry-over."""
        n = self.n
        x = model.health_term(self.health[:, :n], out=self._work(0))  # health after plays
        active = self.alive[:, :n].copy()  # alive with tenure >= 1: all but this month's new
        nr, ni, _ = self.new_nz
        active.reshape(-1)[nr * n + ni] = False
        hm, em = model.play_multipliers(self.plays, self.level, self.level_on, n,
                                        hazard_out=self._work(5), expansion_out=self._work(6),
                                        tmp=self._work(1))
        renew, renew_cells = self._renewals(active)
        in_term = active & self.annual[:, :n]
        months = None
        if self.fresh and self.j == 0:  # a term begun before: its months at this hazard
            months = (self.tenure - 1.0) % self.term_months[self.seg[:, :n]] + 1.0
        vol, inv = self._churn(x, hm, active, (renew, renew_cells), (in_term, months))
        churned = vol | inv
        survivors = np.greater(active, churned)  # active & ~churned
        expand, contract, (vr, vi, vf) = self._resize(x, em, survivors, churned,
                                                      (renew, renew_cells), (in_term, months))
        changed = self._reprice(expand, contract)
        churned_before = self.mrr.reshape(-1)[vf]  # churned accounts did not expand or contract
        if self.ledger is not None and vr.size:  # booked by the tier before churning
            self.ledger.churn(self.j, vr, self.seg.reshape(-1)[vf].astype(np.intp),
                              self.tier.reshape(-1)[vf].astype(np.intp), churned_before)
        if vr.size:  # a churned account's MRR is 0 from this month
            self.alive.reshape(-1)[vf] = False
            self.mrr.reshape(-1)[vf] = 0.0
            self.queue.cancel(vr, vi, flat=vf)
        if self.ledger is not None:
            self._books(vr, take2(vol, vr, vi), changed)
        if self.rec is not None:
            self.rec.month_end(self, m, self.j, vol, inv)
        if self.need_au_prev:
            self.au_prev[:, :n] = self.au
        model.decay_effects(self.plays, self.level, self.level_on, n)

    def _renewals(self, active: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """Annual contracts at the end of their term this month (tenure % term == 0).

        Returns the mask and its cells (row-major).
        """
        annual = self.annual[:, : self.n]
        renew = np.zeros(annual.shape, dtype=bool)
        if self.all_terms_12:  # the anniversaries of annual contracts
            r, i, f = self.anniv_cells
            r, i = select(self.annual.reshape(-1)[f], r, i)
        else:
            r, i = nonzero_2d(active & annual)
            r, i = select(self.tenure[r, i] % self.term_months[self.seg[r, i]] == 0, r, i)
        renew.reshape(-1)[r * self.n + i] = True
        return renew, (r, i)

    def _churn(
        self, x: np.ndarray, hm: np.ndarray | None, active: np.ndarray,
        renew: tuple[np.ndarray, tuple[np.ndarray, np.ndarray]],
        term: tuple[np.ndarray, np.ndarray | None],
    ) -> tuple[np.ndarray, np.ndarray]:
        """Voluntary and involuntary churn of the month (masks).

        ``renew``: the renewals' mask and cells; ``term``: in term, months.
        """
        n = self.n
        annual = self.annual[:, :n]
        pv, q = model.churn_hazards(
            x, self.tenure, self.sp["churn_intercept"][:, :n],
            self.sp["involuntary_rate"][:, :n], self.b.churn,
            cells=(self.seg[:, :n], self.tier[:, :n]), retention=self.rc, play_hazard=hm,
            member=self.member[:, :n], loyalty=self.sc.loyalty, out=self._work(2),
            tmp=self._work(1), at_most_one=self.hazard_at_most_one,
        )
        survival = (self.term_vol[:, :n], self.term_inv[:, :n])
        model.accumulate_term(survival, (pv, q), in_term=term[0], months=term[1],
                              tmp=self._work(1))
        return model.decide_churn(self._uniform("churn", n), pv, q, active=active,
                                  annual=annual, renew=renew[0], survival=survival,
                                  renew_cells=renew[1], tmp=self._work(1))

    def _resize(
        self, x: np.ndarray, em: np.ndarray | None, survivors: np.ndarray, churned: np.ndarray,
        renew: tuple[np.ndarray, tuple[np.ndarray, np.ndarray]],
        term: tuple[np.ndarray, np.ndarray | None],
    ) -> tuple[tuple[np.ndarray, ...], ...]:
        """Expand or contract the survivors' seats; the cells expanded, contracted, churned.

        (``churned`` is the month's churn mask: one search finds all three.)"""
        n, sp = self.n, self.sp
        pe, pc = model.expansion_probabilities(
            x, self.b.expansion,
            intercepts=(sp["expansion_intercept"][:, :n], sp["contraction_intercept"][:, :n]),
            cells=(self.seg[:, :n], self.tier[:, :n]), retention=self.rc, play_expansion=em,
            pe_out=self._work(3), pc_out=self._work(4),
        )
        model.accumulate_term((self.term_con[:, :n],), (pc,), in_term=term[0] & survivors,
                              months=term[1], tmp=self._work(1))
        exp_, con = model.decide_resize(self._uniform("expansion", n), pe, pc,
                                        survivors=survivors, annual=self.annual[:, :n],
                                        renewal=renew[0], term=self.term_con[:, :n],
                                        renewal_cells=renew[1])
        events = exp_ | con  # disjoint from the churned
        events |= churned
        r, i, f = nonzero_flat(events, self.NT)
        fn = r * n + i
        is_exp, is_con = exp_.reshape(-1)[fn], con.reshape(-1)[fn]
        expand, contract = select(is_exp, r, i), select(is_con, r, i)
        churn_cells = select(~(is_exp | is_con), r, i, f)
        model.resize_seats(self.seats, expand, contract, sp["expansion_size"],
                           sp["contraction_size"])
        changed = np.concatenate([expand[0], contract[0]]) * self.NT
        changed += np.concatenate([expand[1], contract[1]])
        if changed.size:
            self._ticket_head(changed)
        return expand, contract, churn_cells

    def _reprice(
        self, expand: tuple[np.ndarray, np.ndarray], contract: tuple[np.ndarray, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """New loyalty members join; MRR of resized (and discounted) accounts.

        Returns the repriced cells and their MRR change.
        """
        ch_r = np.concatenate([expand[0], contract[0]])
        ch_i = np.concatenate([expand[1], contract[1]])
        lo = self.sc.loyalty
        if lo.enabled:
            jr, ji = model.join_loyalty(self.member, self.resp, lo)
            if lo.discount:  # a resized account may join too: count each account once
                flat = np.unique(np.concatenate([ch_r, jr]) * self.NT + np.concatenate([ch_i, ji]))
                ch_r, ch_i = np.divmod(flat, self.NT)
        before = take2(self.mrr, ch_r, ch_i)
        model.reprice(self.mrr, (ch_r, ch_i), seats=self.seats, price=self.price,
                      member=self.member, loyalty=lo)
        return ch_r, ch_i, take2(self.mrr, ch_r, ch_i) - before

    def _books(
        self, vr: np.ndarray, is_vol: np.ndarray, changed: tuple[np.ndarray, ...]
    ) -> None:
        """Close the month's books (``vr``: rows of the churned, ``changed``: repricing)."""
        j, n, om, lg = self.j, self.n, self.out_m, self.ledger
        assert lg is not None
        ch_r, ch_i, d = changed
        if ch_r.size:
            lg.resize(j, ch_r, take2(self.seg, ch_r, ch_i).astype(np.intp),
                      take2(self.tier, ch_r, ch_i).astype(np.intp), d)
        lg.close(j)
        for k in _FROM_SEGMENTS:
            om[k][:, j] = lg.segments[k][:, j].sum(axis=1)
        n_vol = np.bincount(vr, weights=is_vol, minlength=self.R)
        om["churned_voluntary"][:, j] = n_vol
        om["churned_involuntary"][:, j] = lg.segments["churned"][:, j].sum(axis=1) - n_vol
        alive = self.alive[:, :n]
        model.book_costs(om, j, team_cost=float(self.team_cost[j]), play_cost=om["play_cost"][:, j],
                         programme_cost=self.rc_cost + self.sc.other_cost_per_month,
                         loyalty=self.sc.loyalty, member=self.member[:, :n], alive=alive)
        model.book_voice(om, j, answers=self.resp, fail=self.fail, health=self.health[:, :n],
                         alive=alive, n_alive=om["accounts_end"][:, j])
        self.out_t["accounts"][:, j] = lg.tiers["accounts_end"][:, j]
        self.out_t["mrr"][:, j] = lg.tiers["mrr_end"][:, j]

    # ------------------------------------------------------------------ output
    def _cohorts(self) -> tuple[dict[str, np.ndarray], ...]:
        """The starting customers' MRR and accounts: in all, by segment, by starting tier."""
        n0 = self.L.n_initial
        mp0 = self.mrr_initial if n0 else np.zeros((self.R, 0))
        end0 = self.mrr[:, :n0]
        values = {
            "cohort_mrr_start": mp0, "cohort_mrr_end": end0,
            "cohort_mrr_kept": np.minimum(end0, mp0),
            "cohort_accounts_start": (mp0 > 0).astype(float),
            "cohort_accounts_end": (end0 > 0).astype(float),
        }
        rows = np.repeat(np.arange(self.R), n0)
        out: list[dict[str, np.ndarray]] = []
        for codes, size in ((None, 1), (self.seg[:, :n0], self.S), (self.tier_initial, self.T)):
            key = rows * size + (0 if codes is None else codes.reshape(-1).astype(np.intp))
            out.append({k: np.bincount(key, weights=v.reshape(-1), minlength=self.R * size)
                        .reshape(self.R, size) for k, v in values.items()})
        total = {k: v[:, 0] for k, v in out[0].items()}
        return total, out[1], out[2]

    def output(self, layout: Layout, warmup: int) -> RawRun:
        """The run's raw arrays."""
        cohort, by_seg, by_tier = self._cohorts()
        lg = self.ledger
        assert lg is not None
        tiers = {**self.out_t, **lg.tiers}
        return RawRun(
            reps=self.reps, seed=self.seed, tier_names=self.sc.tier_names(),
            play_names=[p.name for p in self.plays], monthly=self.out_m, tiers=tiers,
            plays=self.out_p, cohort=cohort,
            record=None if self.rec is None else self.rec.record(self.reps[self.rec.row]),
            layout=layout, segment_names=self.sc.segment_names(), segments=lg.segments,
            cohort_segments=by_seg, cohort_tiers=by_tier, warmup_months=warmup,
        )


def _timeline(batch: _Batch, months: range) -> None:
    """Run ``batch`` over ``months``: a monthly tick and a team process per tier (SimPy)."""
    import simpy

    env = simpy.Environment()
    stores = [simpy.Store(env) for _ in batch.sc.tiers]
    for t, store in enumerate(stores):
        env.process(team_process(env, store, lambda m, t=t: batch.serve(t, m)))

    def tick() -> Any:
        for m in months:
            batch.begin_month(m)
            batch.queue.collect(batch.tier)
            done = [env.event() for _ in stores]
            for store, ev in zip(stores, done, strict=True):
                store.put((m, ev))
            yield env.all_of(done)
            batch.end_month(m)
            yield env.timeout(1)

    env.process(tick())
    env.run(until=len(months))


def run_engine(
    scenario: Scenario,
    seed: int,
    reps: tuple[int, ...],
    *,
    layout: Layout | None = None,
    dataset: Any = None,
    record_rep: int | None = None,
    warmup: Scenario | None = None,
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
    warmup : Scenario, optional
        The scenario whose population, policy and ``warmup()`` months run the warm-up
        (default ``scenario``; :func:`cs_sim.compare` passes its baseline). Its segments
        must be the scenario's.

    Returns
    -------
    RawRun
    """
    reps = tuple(int(r) for r in reps)
    if record_rep is not None and record_rep not in reps:
        raise ValueError(f"record_rep {record_rep} is not among the replications run")
    warm_sc = scenario if warmup is None else warmup
    if warm_sc.segment_names() != scenario.segment_names():
        raise ValueError("the warm-up scenario must have the scenario's segments")
    W, H = warm_sc.warmup(), scenario.horizon_months
    population = starting_population(warm_sc, seed, reps, dataset)
    if layout is None:
        k = max(default_layout(s, population.n, warmup=W).per_month
                for s in {id(scenario): scenario, id(warm_sc): warm_sc}.values())
        layout = Layout(population.n, k, H, warmup=W)
    elif (layout.n_initial, layout.horizon, layout.warmup) != (population.n, H, W):
        raise ValueError("layout does not match the scenario's population, horizon and warm-up")
    row = None if record_rep is None else reps.index(record_rep)
    K = layout.per_month
    streams = RunStreams(seed, reps, layout.n_total, W + H, K)
    start: StartingPopulation | Carry = population
    gap = None
    ids = population.account_id
    if W:
        key = (warm_sc.model_dump_json(), seed, reps, layout.n_initial, K, W)
        kept = None if population.account_id is not None else cached_warmup(key)
        if kept is None:
            wb = _Batch(warm_sc, Layout(population.n, K, W), streams, population, first=-W,
                        acq_offset=0, warm=True)
            _timeline(wb, range(-W, 0))
            start = hand_over(wb)
            del wb
            if population.account_id is None:
                remember_warmup(key, start, streams.snapshot())
        else:
            start = kept[0]
            streams.restore(kept[1])
        streams.set_gap(start.count, start.width - start.count)
        if row is not None:
            gap = (int(start.count[row]), int(start.width - start.count[row]))
            src = start.source[row, : gap[0]]
            ids = None if ids is None else [ids[s] if s >= 0 else None for s in src]
    n0 = start.width if isinstance(start, Carry) else population.n
    rec = None if row is None else Recorder(row, gap=gap, ids=ids)
    batch = _Batch(scenario, Layout(n0, K, H), streams, start, first=0, acq_offset=W,
                   warm=False, record=rec)
    _timeline(batch, range(H))
    return batch.output(layout, W)
