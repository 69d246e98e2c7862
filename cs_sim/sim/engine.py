r"""The array engine: accounts are rows of numpy arrays, SimPy drives the timeline.

State is held as ``(R, N)`` arrays (R replications x N account *slots*). A SimPy
environment runs one *tick* process (a month over all accounts and replications at
once) and one *team* process per tier (see :mod:`cs_sim.sim.capacity`). Each month
the tick updates the accounts, evaluates the plays, hands the queued CSM work to the
teams through SimPy stores, waits for them, then settles churn, expansion and the
books.

Slots and random numbers
------------------------
Slots ``0 .. N0-1`` hold the starting customers; each month ``m`` reserves a block of
``K`` slots (``Layout.per_month``) for new logos, so slot layout is fixed in advance.
Replication ``r`` of seed ``s`` uses ``SeedSequence(s, spawn_key=(r, c))`` for component
``c`` (the same as ``SeedSequence(s).spawn(R)[r].spawn(9)[c]``; components in
:data:`COMPONENTS` order) and ``SeedSequence(s, spawn_key=(r, 2**32 + crc32(name)))``
for each play whose reach is below 1. Every component draws a *fixed* number of
uniforms per slot and month for every slot born so far, alive or dead, whatever the
scenario does with them: two scenarios with the same seed and slot layout share their
random numbers (common random numbers) and a difference between them is the policy.
Nothing mixes replications, so results do not depend on how replications are chunked.
Bit generator: PCG64DXSM. Monthly uniforms are float32 ``(k + 1/2) / 2**24`` (never 0
or 1: ``gen.random(n, dtype=np.float32) + 2**-25``, drawn in bulk by
:class:`UniformStream`), and the behavioural state (health, usage, probabilities) is
float32, which halves the work per cell; money (seats, prices, MRR) is float64. Plays
with ``reach == 1`` draw nothing. The acquisition stream is drawn for all months at the
start (the same stream positions as month by month).

Equations (month m; ``h`` health 0-100; ``x = (h - 50) / 10``; ``σ(v) = 1/(1+e^{-v})``;
segment parameters in the scenario's ``segments``, the rest in ``behaviour``)
--------------------------------------------------------------------------------
*Acquisition.* New logos ``n_m = min(K, F^{-1}_{Poisson(λ_m)}(u))`` with
``λ_m = new_logos_per_month + referral_rate * members_{m-1}``; each new slot draws its
segment from ``segment_mix``, employees ``~ LogNormal(median, sigma)``, contract
annual with probability ``annual_share``, health ``~ N(health_mean, health_sd)``
clipped to 0-100. ``seats = max(1, round(seat_share * employees))``,
``MRR = seats * price_per_seat``. Starting customers draw the same (tenure uniform on
0..max_tenure_months) or come from a dataset.

*Tier* by the first tier rule that holds (ARR = 12 MRR, ...), at birth and at every
12-month anniversary of tenure.

*Usage.* ``ε ~ Logistic`` scaled to unit variance (one uniform per slot-month);
``active_share = σ(active_share_intercept + health_slope * x + noise_sd * ε)`` with
``x`` from last month's health; ``active_users = round(seats * active_share)``;
``usage_change = active_users / active_users_{m-1} - 1``.

*Support.* Tickets not solved at first contact ``F ~ Poisson(tickets_per_seat * seats
* (1 - fcr))`` (inverse CDF of one uniform); those solved at first contact,
``Poisson(tickets_per_seat * seats * fcr)``, only affect recorded data.

*Champion leaves* with probability ``champion_leave_rate`` a month.

*NPS survey*: answered with probability ``nps_response_rate`` (one uniform ``u``:
``u < rate``); score ``clip(round(nps_intercept + nps_health_slope * x + nps_noise_sd *
Z), 0, 10)`` with ``Z = Φ^{-1}(u / rate) ~ N(0, 1)`` given an answer. A promoter
(score >= ``join_min_score``) joins the loyalty programme when it is enabled.

*Health*: ``h_m = clip(h_{m-1} + reversion * (health_mean - h_{m-1}) + noise_sd * ε
- failed_ticket_penalty * F - champion_leave_penalty * champion_left, 0, 100)``
(the same ε as usage: health evolves with usage), then ``+ effect.health * w`` for each
play delivered this month (``w`` the wait factor below).

*Plays.* An eligible account (alive, in an eligible tier and segment, no request of
the play already queued) is due when: time: ``tenure >= 1 and tenure % every ==
offset``; data: all conditions hold and ``cooldown_months`` have passed since the
play last fired; trigger: its event happened this month. It is reached with
probability ``reach``. Automated work (0 hours) is delivered at once; CSM work queues
(:mod:`cs_sim.sim.capacity`). A delivery after ``w`` months of waiting sets the play's
effect level ``L = max(L, (1 - wait_decay)^w)``; ``L`` decays by ``0.5^(1/half_life)``
a month.

*Churn* (accounts with tenure >= 1): monthly voluntary hazard
``p = σ(churn_intercept + health_slope * x + early_life * [tenure < early_life_months]
+ tenure_slope * min(tenure, 36) / 12) * Π_plays (1 + (hazard_multiplier - 1) L)
* retention-change multipliers * loyalty multiplier`` (capped at 1); involuntary
``q = involuntary_rate * multipliers``. Monthly contracts decide every month; annual
contracts only at each 12-month anniversary, with ``1 - (1 - p)^12`` and
``1 - (1 - q)^12``. One uniform ``u``: voluntary if ``u < p``, else involuntary if
``u >= 1 - q``. A churned account's MRR is 0 from this month.

*Expansion / contraction* (survivors with tenure >= 1): ``pe = σ(expansion_intercept
+ expansion_health_slope * x) * Π (1 + (expansion_multiplier - 1) L) * multipliers``,
``pc = σ(contraction_intercept + contraction_health_slope * x) * multipliers``
(annual contracts contract only at anniversaries); one uniform ``u``: expansion if
``u < pe`` (``seats = ceil(seats * (1 + expansion_size))``), contraction if
``u >= 1 - pc`` (``seats = max(1, floor(seats * (1 - contraction_size)))``);
``MRR = seats * price_per_seat * (1 - discount * member)``.

*Costs* a month: ``Σ_tiers headcount * cost_per_month + Σ deliveries * cost +
Σ retention-change cost_per_month + members * cost_per_member + other_cost_per_month``.
"""

# ruff: noqa: N806 (R, N, H, T, P, K: replications, slots, months, tiers, plays, block)
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cs_sim.errors import ScenarioError
from cs_sim.sim.capacity import serve_queue, team_process, to_units
from cs_sim.sim.policies import Play, compile_plays, condition_mask
from cs_sim.sim.rng import (
    COMPONENTS,
    UniformStream,
    component_generators,
    play_generator,
    to_uniform,
    words_below,
)
from cs_sim.sim.scenario import Scenario, TierCondition

__all__ = [
    "COMPONENTS",
    "Layout",
    "RawRun",
    "default_layout",
    "initial_population",
    "run_engine",
]

_LOGISTIC_SCALE = math.sqrt(3.0) / math.pi
_UNBORN = 10**6
_F = np.float32
_ONE_MINUS = np.float32(1.0 - 2.0**-24)
_CHURN_NONE, _CHURN_VOL, _CHURN_INVOL = 0, 1, 2


# ----------------------------------------------------------------------------- layout
@dataclass(frozen=True)
class Layout:
    """Slot layout: ``n_initial`` starting slots, then ``per_month`` slots per month."""

    n_initial: int
    per_month: int
    horizon: int

    @property
    def n_total(self) -> int:
        """Total number of slots."""
        return self.n_initial + self.per_month * self.horizon

    def limit(self, month: int) -> int:
        """Number of slots that may be occupied by the end of ``month``."""
        return self.n_initial + self.per_month * (month + 1)


def default_layout(scenario: Scenario, n_initial: int) -> Layout:
    """Slot layout for ``scenario`` with ``n_initial`` starting accounts.

    The block per month is ``acquisition.max_per_month`` or, by default, the 1 - 1e-9
    quantile of the Poisson number of new logos at the base rate plus the referrals
    the whole population could make (so the cap is practically never reached).
    """
    acq = scenario.acquisition
    if acq.max_per_month is not None:
        k = acq.max_per_month
    else:
        lam = acq.new_logos_per_month
        if scenario.loyalty.enabled:
            lam += scenario.loyalty.referral_rate * (n_initial + lam * scenario.horizon_months)
        k = 0 if lam <= 0 else int(math.ceil(lam + 6.0 * math.sqrt(lam) + 6.0))
    return Layout(n_initial=n_initial, per_month=k, horizon=scenario.horizon_months)


# ----------------------------------------------------------------------------- helpers
def _sigmoid(v: np.ndarray) -> np.ndarray:
    np.negative(v, out=v)
    np.exp(v, out=v)
    v += 1.0
    np.reciprocal(v, out=v)
    return v


def poisson_ppf(u: np.ndarray, lam: np.ndarray, *, max_iter: int = 10_000) -> np.ndarray:
    """Inverse CDF of Poisson(``lam``) at ``u`` (1-D arrays), by sequential search.

    Cheap for the small rates of tickets: only values still above the running CDF are
    visited at each step.
    """
    k = np.zeros(u.shape, dtype=np.int64)
    p = np.exp(-lam)
    cdf = p.copy()
    idx = np.flatnonzero(u > cdf)
    step = 0
    while idx.size and step < max_iter:
        step += 1
        k[idx] += 1
        p[idx] *= lam[idx] / k[idx]
        cdf[idx] += p[idx]
        keep = (u[idx] > cdf[idx]) & (p[idx] > 0)
        idx = idx[keep]
    return k


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
    compacted) only when at most half the cells are still searching.
    """
    p = w1
    np.negative(lam, out=p)
    np.exp(p, out=p)  # P(0)
    out = (u > p).astype(np.int16)  # >= 1
    cdf = w2
    np.multiply(p, lam, out=cdf)  # P(1)
    cdf += p  # P(X <= 1)
    more = u > cdf
    r, i = _nz(more)
    if r.size:
        uu = u[r, i]
        ll = lam[r, i]
        c = cdf[r, i]
        pk = p[r, i] * ll  # P(1)
        k = np.empty(r.size, dtype=np.int64)
        pos = np.arange(r.size)
        n_on = np.zeros(r.size, dtype=np.int64)  # steps after which the cell went on
        steps = 0
        while steps < 10_000:
            steps += 1
            pk *= ll / np.float64(steps + 1)  # float64 ratio, as lam / k with an int64 k
            c += pk
            on = uu > c
            on &= pk > 0
            n_on += on
            still = int(np.count_nonzero(on))
            if still == 0:
                break
            if 4 * still <= on.size:
                off = ~on
                k[pos[off]] = 2 + n_on[off]
                pos, uu, ll, c, pk, n_on = (a[on] for a in (pos, uu, ll, c, pk, n_on))
        k[pos] = 1 + np.minimum(steps, 1 + n_on)
        out[r, i] = k.astype(np.int16)
    return out


def poisson_ppf_2d(
    u: np.ndarray, lam: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse CDF of Poisson(``lam``) at ``u`` (2-D), returned sparse.

    Returns
    -------
    rows, cols, counts : ndarray
        The cells with a count >= 1 and their counts.
    """
    p0 = np.exp(-lam)
    r, i = _nz(u > p0)
    uu = u[r, i]
    ll = lam[r, i]
    p = p0[r, i] * ll
    cdf = p0[r, i] + p
    k = np.ones(r.size, dtype=np.int64)
    idx = np.flatnonzero((uu > cdf) & (p > 0))
    step = 0
    while idx.size and step < 10_000:
        step += 1
        k[idx] += 1
        p[idx] *= ll[idx] / k[idx]
        cdf[idx] += p[idx]
        keep = (uu[idx] > cdf[idx]) & (p[idx] > 0)
        idx = idx[keep]
    return r, i, k


def _count_rows(mask: np.ndarray) -> np.ndarray:
    """Number of True per row (a loop over rows is much faster than ``axis=1``)."""
    return np.array([np.count_nonzero(row) for row in mask], dtype=np.int64)


def _nz(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` of a 2-D mask, fast (flat search on a contiguous copy)."""
    flat = np.flatnonzero(np.ascontiguousarray(mask))
    r, i = np.divmod(flat, mask.shape[1])
    return r, i


class _LazyMetrics:
    """Mapping view of the engine's metrics, computed on first use."""

    def __init__(self, engine: _Engine) -> None:
        self._e = engine

    def __getitem__(self, name: str) -> np.ndarray:
        return self._e._metric(name)


def _poisson_ppf_scalar(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Exact Poisson quantiles for a few (u, lam) pairs (via scipy's pdtr/pdtrik)."""
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


def _ndtri(u: np.ndarray) -> np.ndarray:
    from scipy.special import ndtri

    return ndtri(np.clip(u, 1e-12, 1 - 1e-12))


# ---------------------------------------------------------------------- population
@dataclass
class Population:
    """Starting customers as ``(R, N0)`` arrays (one row per replication)."""

    seg: np.ndarray
    employees: np.ndarray
    annual: np.ndarray
    tenure: np.ndarray  # tenure at the month before the first simulated month
    seats: np.ndarray
    price: np.ndarray
    health: np.ndarray
    account_id: list[str] | None = None

    @property
    def n(self) -> int:
        """Number of starting accounts."""
        return int(self.seg.shape[1])


def _seg_table(scenario: Scenario, attr: str) -> np.ndarray:
    if attr.startswith("employees_"):
        sub = attr.removeprefix("employees_")
        return np.array([float(getattr(s.employees, sub)) for s in scenario.segments])
    return np.array([float(getattr(s, attr)) for s in scenario.segments])


def _draw_segment(u: np.ndarray, shares: np.ndarray) -> np.ndarray:
    cum = np.cumsum(shares / shares.sum())
    cum[-1] = 1.0 + 1e-12
    return np.searchsorted(cum, u, side="right")


def _draw_accounts(
    scenario: Scenario, u: np.ndarray, shares: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Accounts' attributes from 4 uniforms each (``u`` of shape (4, R, n))."""
    seg = _draw_segment(u[0], shares)
    med = np.log(_seg_table(scenario, "employees_median"))[seg]
    sig = _seg_table(scenario, "employees_sigma")[seg]
    employees = np.maximum(1.0, np.rint(np.exp(med + sig * _ndtri(u[1]))))
    annual = u[2] < _seg_table(scenario, "annual_share")[seg]
    seats = np.maximum(1.0, np.rint(_seg_table(scenario, "seat_share")[seg] * employees))
    price = _seg_table(scenario, "price_per_seat")[seg]
    hm = _seg_table(scenario, "health_mean")[seg]
    hs = _seg_table(scenario, "health_sd")[seg]
    health = np.clip(hm + hs * _ndtri(u[3]), 0.0, 100.0)
    return seg, employees, annual, seats, price, health


def synthetic_population(scenario: Scenario, gens: list[np.random.Generator]) -> Population:
    """Draw the starting customers of each replication from its population stream."""
    n = scenario.population.n_accounts
    u = np.stack([g.random((5, n)) for g in gens], axis=1)  # (5, R, n)
    shares = _seg_table(scenario, "share")
    seg, employees, annual, seats, price, health = _draw_accounts(scenario, u[:4], shares)
    tenure = np.floor(u[4] * (scenario.population.max_tenure_months + 1)).astype(np.int64)
    return Population(seg, employees, annual, tenure, seats, price, health)


def _tier_of(
    scenario: Scenario,
    *,
    mrr: np.ndarray,
    employees: np.ndarray,
    seats: np.ndarray,
    seg: np.ndarray,
    health: np.ndarray,
    annual: np.ndarray,
) -> np.ndarray:
    values = {
        "arr": 12.0 * mrr,
        "mrr": mrr,
        "employees": employees,
        "seats": seats,
        "health": health,
    }
    return _first_match(
        [t.rule for t in scenario.tiers], scenario.segment_names(), values, seg, annual
    )


def _first_match(
    rules: list[list[TierCondition]],
    seg_names: list[str],
    values: dict[str, np.ndarray],
    seg: np.ndarray,
    annual: np.ndarray,
) -> np.ndarray:
    from cs_sim.sim.policies import OPERATORS

    out = np.full(seg.shape, len(rules) - 1, dtype=np.intp)
    undecided = np.ones(seg.shape, dtype=bool)
    for t, rule in enumerate(rules):
        if not rule:
            break
        ok = undecided.copy()
        for c in rule:
            if c.attribute in ("segment", "contract"):
                wanted = c.value if isinstance(c.value, list) else [c.value]
                if c.attribute == "segment":
                    codes = [seg_names.index(str(w)) for w in wanted]
                    hit = np.isin(seg, codes)
                else:
                    hit = np.zeros(seg.shape, dtype=bool)
                    for w in wanted:
                        hit |= annual if w == "annual" else ~annual
                ok &= ~hit if c.op == "!=" else hit
            else:
                ok &= OPERATORS[c.op](values[c.attribute], float(c.value))  # type: ignore[arg-type]
        out[ok] = t
        undecided &= ~ok
    return out


def initial_population(
    scenario: Scenario, dataset: Any, n_reps: int
) -> Population:
    """Starting customers from a :class:`cs_sim.io.Dataset` (the same in every replication).

    Accounts active (MRR > 0) in the dataset's last month become the population:
    segment from an accounts ``segment`` column naming scenario segments, else from the
    segments' ``match`` rules (first match; a segment without rules matches all);
    contract from ``contract``; tenure from the first month with MRR > 0; seats from
    the usage table's last month when present, else ``seat_share * employees``; price
    per seat = MRR / seats; health from usage (inverting the active-share equation)
    when present, else the segment's mean.
    """
    import pandas as pd

    accounts = dataset.accounts
    mrr = dataset.mrr
    if mrr is None or len(mrr) == 0:
        raise ScenarioError("population: the dataset has no MRR rows to start from")
    months = pd.to_datetime(mrr["month"])
    last = months.max()
    cur = mrr.loc[(months == last) & (mrr["mrr"] > 0), ["account_id", "mrr"]]
    cur = cur.groupby("account_id", sort=True)["mrr"].sum()
    first_paid = (
        mrr.loc[mrr["mrr"] > 0]
        .assign(month=lambda d: pd.to_datetime(d["month"]))
        .groupby("account_id")["month"]
        .min()
    )
    acc = accounts.set_index("account_id").reindex(cur.index)
    ids = [str(a) for a in cur.index]
    n = len(ids)
    seg_names = scenario.segment_names()
    employees = pd.to_numeric(acc.get("employees"), errors="coerce").fillna(1.0).to_numpy()
    employees = np.maximum(employees.astype(float), 1.0)
    annual = (acc.get("contract", pd.Series(["monthly"] * n)).astype(str) == "annual").to_numpy()
    mrr_now = cur.to_numpy(dtype=float)
    if "segment" in acc.columns and acc["segment"].astype(str).isin(seg_names).all():
        seg = np.array([seg_names.index(str(s)) for s in acc["segment"]], dtype=np.intp)
    else:
        rules = [s.match for s in scenario.segments]
        if rules and rules[-1]:
            rules = [*rules, []]
        values = {"arr": 12 * mrr_now, "mrr": mrr_now, "employees": employees,
                  "seats": employees, "health": np.full(n, 50.0)}
        seg = _first_match(rules, seg_names, values, np.zeros(n, np.intp), annual)
        seg = np.minimum(seg, len(seg_names) - 1)
    fp = first_paid.reindex(cur.index)
    tenure = ((last.year - fp.dt.year) * 12 + (last.month - fp.dt.month)).to_numpy()
    tenure = np.asarray(tenure, dtype=np.int64)
    seat_share = _seg_table(scenario, "seat_share")[seg]
    seats = np.maximum(1.0, np.rint(seat_share * employees))
    health = _seg_table(scenario, "health_mean")[seg].copy()
    usage = getattr(dataset, "usage", None)
    if usage is not None and len(usage):
        um = usage.loc[pd.to_datetime(usage["month"]) == last]
        um = um.groupby("account_id")[["active_users", "seats"]].sum().reindex(cur.index)
        s = um["seats"].to_numpy(dtype=float)
        au = um["active_users"].to_numpy(dtype=float)
        have = np.isfinite(s) & (s > 0)
        seats = np.where(have, s, seats)
        slope = scenario.behaviour.usage.health_slope
        if slope != 0:
            share = np.clip(np.where(have, au / np.where(have, s, 1), np.nan), 0.02, 0.98)
            logit = np.log(share / (1 - share))
            intercept = _seg_table(scenario, "active_share_intercept")[seg]
            h = 50.0 + 10.0 * (logit - intercept) / slope
            health = np.where(have & np.isfinite(h), np.clip(h, 0, 100), health)
    price = mrr_now / seats

    def rep(a: np.ndarray) -> np.ndarray:
        return np.broadcast_to(a, (n_reps, n)).copy()

    return Population(
        rep(seg), rep(employees), rep(annual), rep(tenure), rep(seats), rep(price), rep(health),
        account_id=ids,
    )


# ---------------------------------------------------------------------------- output
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


# ---------------------------------------------------------------------------- engine
class _Engine:
    """State and monthly steps of one batch of replications (internal)."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        reps: tuple[int, ...],
        layout: Layout,
        population: Population,
        record_row: int | None,
    ) -> None:
        sc = self.sc = scenario
        self.seed = seed
        self.reps = reps
        self.L = layout
        self.H = scenario.horizon_months
        R = self.R = len(reps)
        NT = self.NT = layout.n_total
        K = layout.per_month
        self.T = len(sc.tiers)
        self.S = len(sc.segments)
        self.plays: list[Play] = compile_plays(sc)
        P = self.P = len(self.plays)
        self.gens = [component_generators(seed, r) for r in reps]
        self.comp = {c: [g[c] for g in self.gens] for c in COMPONENTS}
        self.play_gens = [
            [play_generator(seed, r, p.stream_key) for r in reps] if p.reach < 1 else []
            for p in self.plays
        ]
        b = sc.behaviour
        self.b = b
        # state ------------------------------------------------------------------
        f8 = np.float64  # money (seats, prices, MRR)
        f4 = _F  # behaviour state and scratch: float32 halves the work per cell
        self.alive = np.zeros((R, NT), dtype=bool)
        self.acq = np.full((R, NT), _UNBORN, dtype=np.int32)
        self.ten = np.full((R, NT), -float(_UNBORN), dtype=f4)  # tenure (months, exact ints)
        # acquisition month % 12: anniversaries are the months m with m % 12 == phase
        self.phase = np.zeros((R, NT), dtype=np.int8)
        self.seg = np.zeros((R, NT), dtype=np.int8 if self.S < 128 else np.intp)
        small_int = np.int8 if self.T < 128 else np.intp
        self.tier = np.full((R, NT), self.T - 1, dtype=small_int)
        self.annual = np.zeros((R, NT), dtype=bool)
        self.employees = np.ones((R, NT), dtype=f8)
        self.seats = np.ones((R, NT), dtype=f8)
        self.price = np.zeros((R, NT), dtype=f8)
        self.mrr = np.zeros((R, NT), dtype=f8)
        self.health = np.zeros((R, NT), dtype=f4)
        self.au_prev = np.zeros((R, NT), dtype=f4)
        self.nps_last = np.full((R, NT), np.nan, dtype=f4)
        self.member = np.zeros((R, NT), dtype=bool)
        self.level = np.zeros((P, R, NT), dtype=f4)
        self.pend = np.full((P, R, NT), -1, dtype=np.int32)
        self.last_fire = np.full((P, R, NT), -_UNBORN, dtype=np.int32)
        # per-slot segment parameters (set at birth)
        self._seg_params = (
            "health_mean",
            "churn_intercept",
            "involuntary_rate",
            "expansion_intercept",
            "expansion_size",
            "contraction_intercept",
            "contraction_size",
            "tickets_per_seat",
            "active_share_intercept",
            "fail_rate",
        )
        self.sp = {k: np.zeros((R, NT), dtype=f4) for k in self._seg_params}
        self.seg_tables = {k: _seg_table(sc, k) for k in self._seg_params if k != "fail_rate"}
        self.seg_tables["fail_rate"] = self.seg_tables["tickets_per_seat"] * (1.0 - b.support.fcr)
        self.wbuf = [np.empty((R, NT), dtype=f4) for _ in range(7)]
        self.au_buf = np.zeros((R, NT), dtype=f4)
        self.share_buf = np.zeros((R, NT), dtype=f4)
        self.level_on = [False] * P
        self.n_pending = [0] * P
        # flat slots (r * NT + i) that may hold a request of each play (a superset:
        # served, dropped and churned requests are filtered out in collect_work)
        self.pend_slots: list[list[np.ndarray]] = [[] for _ in range(P)]
        self.need_au_prev = record_row is not None or any(
            p.event == "usage_drop" or any(c[0] == "usage_change" for c in p.conditions)
            for p in self.plays
        )
        # uniforms buffers ----------------------------------------------------------
        # the streams share one scratch buffer: each draw is used before the next one
        words = np.empty((R, NT + 1), dtype=np.uint32)
        self.streams = {
            c: UniformStream(self.comp[c], NT, scratch=words)
            for c in ("usage", "support", "events", "surveys", "churn", "expansion")
        }
        self.champ_words = words_below(b.support.champion_leave_rate)
        self.resp_words = words_below(b.surveys.nps_response_rate)
        self.play_streams = [
            UniformStream(g, NT, scratch=words) if g else None for g in self.play_gens
        ]
        # acquisition stream: month m uses 1 + 4K uniforms (count, then the block's
        # segment, employees, contract, health); drawn for all months at once (the
        # stream's values are the same as drawing month by month)
        self.blk = np.stack(
            [g.random((self.H, 4 * K + 1)) for g in self.comp["acquisition"]]
        ) if K else np.zeros((R, self.H, 1))
        # parameters ---------------------------------------------------------------
        self.mix = (
            np.array([sc.acquisition.segment_mix.get(s, 0.0) for s in sc.segment_names()])
            if sc.acquisition.segment_mix is not None
            else _seg_table(sc, "share")
        )
        self.tier_mask = np.array([p.tier_mask for p in self.plays]).reshape(P, self.T)
        self.seg_mask = np.array([p.seg_mask for p in self.plays]).reshape(P, self.S)
        self.hours_u = np.array([to_units(p.hours_by_tier) for p in self.plays]).reshape(
            P, self.T
        )
        self.max_wait = np.array([p.max_wait for p in self.plays], dtype=np.int64)
        self.priority = np.array([p.priority for p in self.plays], dtype=np.int64)
        self.wait_decay = np.array([p.wait_decay for p in self.plays], dtype=float)
        self.capacity_u = to_units(
            np.array([t.team.headcount * t.team.hours_per_month for t in sc.tiers])
        )
        self.team_cost = float(sum(t.team.headcount * t.team.cost_per_month for t in sc.tiers))
        self._retention_tables()
        # output -------------------------------------------------------------------
        H, T = self.H, self.T
        z = np.zeros
        self.out_m = {
            k: z((R, H))
            for k in (
                "accounts_start", "new_logos", "churned_voluntary", "churned_involuntary",
                "accounts_end", "mrr_start", "new_mrr", "expansion_mrr", "contraction_mrr",
                "churned_mrr", "mrr_end", "csm_cost", "intervention_cost", "programme_cost",
                "members", "nps_responses", "nps_promoters", "nps_detractors",
                "failed_tickets", "mean_health", "capped_acquisition",
            )
        }
        self.out_t = {
            k: z((R, H, T))
            for k in ("accounts", "capacity_hours", "hours_used", "delivered", "dropped",
                      "queued", "wait_sum", "mrr")
        }
        self.out_p = {k: z((R, H, P)) for k in ("requested", "delivered", "dropped", "cost",
                                                 "hours")}
        self.rec = _Recorder(record_row) if record_row is not None else None
        self._init_population(population)
        self._init_blocks()

    # ----------------------------------------------------------------- set-up
    def _retention_tables(self) -> None:
        sc = self.sc
        names = sc.tier_names()
        segs = sc.segment_names()
        targets = ("early_life_churn", "voluntary_churn", "involuntary_churn", "expansion",
                   "contraction")
        self.rc: dict[str, np.ndarray | None] = {}
        for tgt in targets:
            tab = np.ones((self.S, self.T))
            for rc in sc.retention_changes:
                if rc.target != tgt:
                    continue
                si = [segs.index(s) for s in rc.segments] if rc.segments else range(self.S)
                ti = [names.index(t) for t in rc.tiers] if rc.tiers else range(self.T)
                for s in si:
                    for t in ti:
                        tab[s, t] *= rc.multiplier
            self.rc[tgt] = None if np.all(tab == 1.0) else tab
        self.rc_cost = float(sum(rc.cost_per_month for rc in sc.retention_changes))

    def _set_seg_params(self, sl: Any) -> None:
        """Fill the per-slot segment parameters of the slots ``sl`` (a 2-D slice)."""
        seg = self.seg[sl].astype(np.intp)
        for k in self._seg_params:
            self.sp[k][sl] = self.seg_tables[k].astype(_F)[seg]

    def _init_blocks(self) -> None:
        """Attributes of every acquisition slot (they stay dead until born)."""
        L, R, K, H = self.L, self.R, self.L.per_month, self.H
        if K == 0:
            return
        u = self.blk[:, :, 1:].reshape(R, H, 4, K).transpose(2, 0, 1, 3).reshape(4, R, H * K)
        seg, employees, annual, seats, price, health = _draw_accounts(self.sc, u, self.mix)
        s = np.s_[:, L.n_initial : L.n_initial + H * K]
        self.seg[s] = seg
        self.annual[s] = annual
        self.employees[s] = employees
        self.seats[s] = seats
        self.price[s] = price
        self.health[s] = health
        self._set_seg_params(s)
        self.tier[s] = _tier_of(
            self.sc, mrr=seats * price, employees=employees, seats=seats, seg=seg,
            health=health, annual=annual,
        )

    def _init_population(self, pop: Population) -> None:
        n0 = pop.n
        self.accounts_now = np.zeros(self.R, dtype=np.int64)
        self.mrr_now = np.zeros(self.R)
        self.mrr_initial = np.zeros((self.R, 0))
        self.pop_ids = pop.account_id
        if n0 == 0:
            return
        sl = np.s_[:, :n0]
        self.alive[sl] = True
        self.acq[sl] = -1 - pop.tenure
        self.ten[sl] = pop.tenure  # incremented at the start of month 0
        self.phase[sl] = self.acq[sl] % 12
        self.seg[sl] = pop.seg
        self.annual[sl] = pop.annual
        self.employees[sl] = pop.employees
        self.seats[sl] = pop.seats
        self.price[sl] = pop.price
        self.mrr[sl] = pop.seats * pop.price
        self.health[sl] = pop.health
        self._set_seg_params(sl)  # every starting slot is alive
        self.tier[sl] = _tier_of(
            self.sc, mrr=self.mrr[sl], employees=self.employees[sl], seats=self.seats[sl],
            seg=self.seg[sl], health=self.health[sl], annual=self.annual[sl],
        )
        self.mrr_initial = self.mrr[sl].copy()
        self.accounts_now = np.count_nonzero(self.alive[:, :n0], axis=1)
        self.mrr_now = self.mrr[:, :n0].sum(axis=1)
        self.pop_ids = pop.account_id

    # ------------------------------------------------------------------ draws
    def _uniform(self, comp: str, n: int) -> np.ndarray:
        """One float32 uniform per slot: ``(k + 1/2) / 2**24``, never 0 or 1."""
        return self.streams[comp].uniform(n)

    def _work(self, j: int) -> np.ndarray:
        """Scratch array ``j`` of shape (R, n) (contents undefined)."""
        return self.wbuf[j][:, : self.n]

    # ------------------------------------------------------------- month, part 1
    def begin_month(self, m: int) -> None:
        L = self.L
        self.m = m
        n = self.n = L.limit(m)
        n_old = L.limit(m - 1)
        self.ten[:, :n_old] += 1.0
        self._births(m)
        if self.rec is not None:
            row = self.rec.row
            self.alive_start_rec = self.alive[row, :n] & (self.acq[row, :n] < m)
            self.seats_start_rec = self.seats[row, :n].copy()
        alive = self.alive[:, :n]
        self.tenure = self.ten[:, :n]
        self.anniv = self.phase[:, :n] == m % 12  # tenure % 12 == 0 where born
        self.anniv &= alive
        if L.per_month:
            self.anniv[:, L.n_initial + m * L.per_month :] = False  # new accounts
        self._change: np.ndarray | None = None
        if self.anniv.any():
            r, i = _nz(self.anniv)
            self.tier[r, i] = _tier_of(
                self.sc, mrr=self.mrr[r, i], employees=self.employees[r, i],
                seats=self.seats[r, i], seg=self.seg[r, i], health=self.health[r, i],
                annual=self.annual[r, i],
            )
        b = self.b
        h = self.health[:, :n]
        # x = (h - 50) / 10, kept for the whole month's survey and usage terms
        x = self._work(0)
        np.multiply(h, 0.1, out=x)
        x -= 5.0
        self.x_start = x
        # usage: logistic shock eps (unit variance), active share, active users --------
        u = self._uniform("usage", n)
        np.minimum(u, _ONE_MINUS, out=u)  # k = 2**24 - 1 rounds up to 1.0 after the shift
        eps = self._work(1)
        np.subtract(1.0, u, out=eps)
        np.divide(u, eps, out=eps)
        np.log(eps, out=eps)
        eps *= _LOGISTIC_SCALE
        v = self.share_buf[:, :n]
        np.multiply(x, b.usage.health_slope, out=v)
        v += self.sp["active_share_intercept"][:, :n]
        if b.usage.noise_sd:
            tmp = self._work(3)
            np.multiply(eps, b.usage.noise_sd, out=tmp)
            v += tmp
        share = _sigmoid(v)
        au = self.au_buf[:, :n]
        np.multiply(self.seats[:, :n], share, out=au)
        np.rint(au, out=au)
        au *= alive
        self.share, self.au = share, au
        # support: tickets not solved at first contact ---------------------------------
        u = self._uniform("support", n)
        lam = self._work(3)
        np.multiply(self.sp["fail_rate"][:, :n], self.seats[:, :n], out=lam)
        lam *= alive
        fail = self.fail = poisson_ppf_dense(u, lam, self._work(4), self._work(5))
        self._fail_sparse: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        # champion leaves --------------------------------------------------------------
        champ = self.streams["events"].words(n) < self.champ_words  # u < leave rate
        champ &= alive
        self.champ = champ
        self.champ_nz = _nz(champ)
        # NPS survey ---------------------------------------------------------------------
        # one uniform u: answered if u < rate; then u / rate is uniform, giving Z
        k = self.streams["surveys"].words(n)
        sv = b.surveys
        resp = k < self.resp_words  # u < rate
        resp &= alive
        rr, ii = _nz(resp)
        z = _ndtri(to_uniform(k[rr, ii]) / sv.nps_response_rate) if rr.size else np.zeros(0)
        score = np.clip(
            np.rint(sv.nps_intercept + sv.nps_health_slope * x[rr, ii] + sv.nps_noise_sd * z),
            0.0, 10.0,
        )
        self.nps_last[rr, ii] = score
        self.resp = (rr, ii, score)
        # health -------------------------------------------------------------------------
        hp = b.health
        dh = self._work(2)  # share is no longer needed in work 2? keep share: use work 4
        dh = self._work(4)
        np.subtract(self.sp["health_mean"][:, :n], h, out=dh)
        dh *= hp.reversion
        if hp.noise_sd:
            eps *= hp.noise_sd
            dh += eps
        h += dh
        if hp.failed_ticket_penalty:
            tmp = self._work(5)
            np.multiply(fail, hp.failed_ticket_penalty, out=tmp)
            h -= tmp
        if hp.champion_leave_penalty:
            cr, ci = self.champ_nz
            h[cr, ci] -= hp.champion_leave_penalty
        np.clip(h, 0.0, 100.0, out=h)
        # plays --------------------------------------------------------------------------
        self._plays(m)

    @property
    def fail_sparse(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows, slots and counts of the cells with failed tickets this month."""
        if self._fail_sparse is None:
            r, i = _nz(self.fail > 0)
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

    def _births(self, m: int) -> None:
        L, R, K = self.L, self.R, self.L.per_month
        self.new_nz = (np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp))
        self.new_row: np.ndarray | None = None
        if K == 0:
            return
        sc = self.sc
        blk = self.blk[:, m, :]
        lam = np.full(R, float(sc.acquisition.new_logos_per_month))
        if sc.loyalty.enabled and sc.loyalty.referral_rate > 0:
            lam += sc.loyalty.referral_rate * self.members_now()
        count = _poisson_ppf_scalar(blk[:, 0].copy(), lam)
        capped = count > K
        self.out_m["capped_acquisition"][:, m] = capped
        count = np.minimum(count, K)
        b0 = L.n_initial + m * K
        if self.rec is not None:
            self.rec.births.append((m, int(count[self.rec.row])))
        # the block's attributes were set at start (drawn from the same stream positions)
        born = np.arange(K)[None, :] < count[:, None]
        s = np.s_[:, b0 : b0 + K]
        self.alive[s] = born
        self.acq[s] = np.where(born, m, _UNBORN)
        self.ten[s] = np.where(born, 0.0, -float(_UNBORN))
        self.phase[s] = m % 12
        r, j = _nz(born)
        self.new_nz = (r, j + b0)  # the new accounts, in row-major order
        self.new_row = born[self.rec.row] if self.rec is not None else None
        self.mrr[s] = np.where(born, self.seats[s] * self.price[s], 0.0)

    def members_now(self) -> np.ndarray:
        """Loyalty members alive, per replication row."""
        return np.count_nonzero(self.member & self.alive, axis=1).astype(float)

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

    def _event(self, p: Play) -> tuple[np.ndarray, np.ndarray]:
        """Rows and slots where the play's event happened this month."""
        if p.event == "new_account":
            return self.new_nz
        if p.event == "champion_left":
            return self.champ_nz
        if p.event == "usage_drop":
            assert p.threshold is not None
            return _nz(self.change <= -p.threshold)
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

    def _plays(self, m: int) -> None:
        n, R = self.n, self.R
        for k, p in enumerate(self.plays):
            if p.kind == "time":  # candidates by tier first (cheap compares), then cadence
                due = self._in_tiers(k)
                due &= self.tenure >= 1
                r, i = _nz(due)
                if p.every > 1:
                    tm = m - self.acq[r, i].astype(np.int64)  # tenure
                    ok = (tm % p.every) == (p.offset % p.every)
                    r, i = r[ok], i[ok]
            elif p.kind == "data":
                due = condition_mask(p.conditions, _LazyMetrics(self), (R, n))
                r, i = _nz(due)
                ok = (m - self.last_fire[k, r, i]) >= max(p.cooldown, 1)
                r, i = r[ok], i[ok]
            else:
                r, i = self._event(p)
            stream = self.play_streams[k]
            if stream is not None:  # fixed consumption: a uniform for every slot, every month
                ok = to_uniform(stream.words(n)[r, i]) < p.reach
                r, i = r[ok], i[ok]
            if r.size == 0:
                continue
            ok = self.alive[r, i] & self.tier_mask[k][self.tier[r, i]]
            ok &= self.pend[k, r, i] < 0
            if not p.seg_mask.all():
                ok &= self.seg_mask[k][self.seg[r, i]]
            r, i = r[ok], i[ok]
            if r.size == 0:
                continue
            if p.kind == "data":
                self.last_fire[k, r, i] = m
            self.out_p["requested"][:, m, k] += np.bincount(r, minlength=R)
            hours = self.hours_u[k][self.tier[r, i]]
            auto = hours == 0
            if auto.any():
                na = int(auto.sum())
                self._deliver(k, m, r[auto], i[auto], np.ones(na), np.zeros(na))
            q = ~auto
            if q.any():
                self.pend[k, r[q], i[q]] = m
                self.n_pending[k] += int(q.sum())
                self.pend_slots[k].append(r[q] * self.NT + i[q])

    # ------------------------------------------------------------------ capacity
    def collect_work(self, m: int) -> None:
        """Gather this month's queued requests of every play, split by tier."""
        ks, rs, is_, since = [], [], [], []
        for k, p in enumerate(self.plays):
            if not p.uses_csm or self.n_pending[k] == 0:
                continue
            flat = np.sort(np.concatenate(self.pend_slots[k]))  # row-major order
            live = self.pend[k].reshape(-1)[flat] >= 0
            live[1:] &= flat[1:] != flat[:-1]  # a slot requested again after a reset
            flat = flat[live]
            self.pend_slots[k] = [flat]
            r, i = np.divmod(flat, self.NT)
            self.n_pending[k] = r.size
            if r.size:
                ks.append(np.full(r.size, k))
                rs.append(r)
                is_.append(i)
                since.append(self.pend[k, r, i].astype(np.int64))
        if ks:
            k_a, r_a, i_a, s_a = (np.concatenate(a) for a in (ks, rs, is_, since))
        else:
            k_a = r_a = i_a = s_a = np.zeros(0, dtype=np.int64)
        t_a = self.tier[r_a, i_a]
        self.work = (k_a, r_a, i_a, s_a, t_a)

    def serve(self, t: int, m: int) -> None:
        """Serve tier ``t``'s queue in month ``m`` for all replications (team process)."""
        k_a, r_a, i_a, s_a, t_a = self.work
        sel = t_a == t
        k, r, i, since = k_a[sel], r_a[sel], i_a[sel], s_a[sel]
        R = self.R
        self.out_t["capacity_hours"][:, m, t] = self.capacity_u[t] / 1000.0
        if k.size == 0:
            return
        wait = m - since
        drop = wait > self.max_wait[k]
        if drop.any():
            self.pend[k[drop], r[drop], i[drop]] = -1
            self.out_t["dropped"][:, m, t] += np.bincount(r[drop], minlength=R)
            np.add.at(self.out_p["dropped"][:, m, :], (r[drop], k[drop]), 1)
            keep = ~drop
            k, r, i, since, wait = k[keep], r[keep], i[keep], since[keep], wait[keep]
        hours = self.hours_u[k, t]
        cap = np.full(R, self.capacity_u[t], dtype=np.int64)
        order, served, before = serve_queue(r, self.priority[k], since, i, hours, cap)
        k, r, i, wait, hours = k[order], r[order], i[order], wait[order], hours[order]
        s_k, s_r, s_i, s_w = k[served], r[served], i[served], wait[served]
        s_h = hours[served]
        if s_k.size:
            wf = (1.0 - self.wait_decay[s_k]) ** s_w
            w_months = s_w + before[served] / max(self.capacity_u[t], 1)
            self.pend[s_k, s_r, s_i] = -1
            for kk in np.unique(s_k):
                sel_k = s_k == kk
                self._deliver(int(kk), m, s_r[sel_k], s_i[sel_k], wf[sel_k], w_months[sel_k])
            self.out_t["hours_used"][:, m, t] += np.bincount(s_r, weights=s_h, minlength=R) / 1000
            self.out_t["delivered"][:, m, t] += np.bincount(s_r, minlength=R)
            self.out_t["wait_sum"][:, m, t] += np.bincount(s_r, weights=w_months, minlength=R)
            np.add.at(self.out_p["hours"][:, m, :], (s_r, s_k), s_h / 1000.0)
        self.out_t["queued"][:, m, t] += np.bincount(r[~served], minlength=R)

    def _deliver(
        self, k: int, m: int, r: np.ndarray, i: np.ndarray, wf: np.ndarray, wait: np.ndarray
    ) -> None:
        p = self.plays[k]
        if p.health:
            self.health[r, i] = np.clip(self.health[r, i] + p.health * wf, 0.0, 100.0)
        self.level[k, r, i] = np.maximum(self.level[k, r, i], wf)
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
        n, R, b, sc = self.n, self.R, self.b, self.sc
        alive = self.alive[:, :n]
        tenure = self.tenure
        h = self.health[:, :n]
        seg = self.seg[:, :n]
        tier = self.tier[:, :n]
        annual = self.annual[:, :n]
        x = self._work(0)  # health after plays
        np.multiply(h, 0.1, out=x)
        x -= 5.0
        active = alive & (tenure >= 1)
        # multipliers from plays' effect levels --------------------------------------
        hm = em = None
        tmp = self._work(1)
        for k, p in enumerate(self.plays):
            if not self.level_on[k]:
                continue
            lv = self.level[k, :, :n]
            if p.hazard_multiplier != 1.0:
                if hm is None:
                    hm = self._work(5)
                    np.multiply(lv, p.hazard_multiplier - 1.0, out=hm)
                    hm += 1.0
                else:
                    np.multiply(lv, p.hazard_multiplier - 1.0, out=tmp)
                    tmp += 1.0
                    hm *= tmp
            if p.expansion_multiplier != 1.0:
                if em is None:
                    em = self._work(6)
                    np.multiply(lv, p.expansion_multiplier - 1.0, out=em)
                    em += 1.0
                else:
                    np.multiply(lv, p.expansion_multiplier - 1.0, out=tmp)
                    tmp += 1.0
                    em *= tmp
        # churn ------------------------------------------------------------------------
        pv = self._work(2)
        np.multiply(x, b.churn.health_slope, out=pv)
        pv += self.sp["churn_intercept"][:, :n]
        cp = b.churn
        if cp.early_life and cp.early_life_months > 0:
            tmp = self._work(1)
            np.less(tenure, cp.early_life_months, out=tmp)
            tmp *= cp.early_life
            pv += tmp
        if cp.tenure_slope:
            tmp = self._work(1)
            np.minimum(tenure, 36.0, out=tmp)
            tmp *= cp.tenure_slope / 12.0
            pv += tmp
        _sigmoid(pv)
        if hm is not None:
            pv *= hm
        rc = self.rc
        if rc["voluntary_churn"] is not None:
            pv *= rc["voluntary_churn"][seg, tier]
        early = None
        if rc["early_life_churn"] is not None:
            early = tenure < b.churn.early_life_months
            pv *= np.where(early, rc["early_life_churn"][seg, tier], 1.0)
        lo = sc.loyalty
        if lo.enabled and lo.hazard_multiplier != 1.0:
            mr, mi = _nz(self.member[:, :n])
            pv[mr, mi] *= lo.hazard_multiplier
        np.minimum(pv, 1.0, out=pv)
        q = self.sp["involuntary_rate"][:, :n]
        if rc["involuntary_churn"] is not None:
            q = np.minimum(q * rc["involuntary_churn"][seg, tier], 1.0)
        # annual contracts decide at anniversaries, on the hazard accumulated over a year
        renew = self.anniv & annual
        decide = active & ~annual
        rn_r, rn_i = _nz(renew)
        if rn_r.size:
            decide[rn_r, rn_i] = True
            pv[rn_r, rn_i] = 1.0 - (1.0 - pv[rn_r, rn_i]) ** 12
            if q is self.sp["involuntary_rate"][:, :n] or q.base is self.sp["involuntary_rate"]:
                q = q.copy()
            q[rn_r, rn_i] = 1.0 - (1.0 - q[rn_r, rn_i]) ** 12
        u = self._uniform("churn", n)
        vol = u < pv
        vol &= decide
        inv = u >= 1.0 - q
        inv &= decide
        inv &= ~vol
        churned = vol | inv
        # expansion / contraction -------------------------------------------------------
        ep = b.expansion
        pe = self._work(3)
        np.multiply(x, ep.expansion_health_slope, out=pe)
        pe += self.sp["expansion_intercept"][:, :n]
        _sigmoid(pe)
        if em is not None:
            pe *= em
        if rc["expansion"] is not None:
            pe *= rc["expansion"][seg, tier]
        pc = self._work(4)
        np.multiply(x, ep.contraction_health_slope, out=pc)
        pc += self.sp["contraction_intercept"][:, :n]
        _sigmoid(pc)
        if rc["contraction"] is not None:
            pc *= rc["contraction"][seg, tier]
        u = self._uniform("expansion", n)
        surv = active & ~churned
        exp_ = u < pe
        exp_ &= surv
        np.subtract(1.0, pc, out=pc)
        con = u >= pc
        con &= surv
        con &= ~exp_
        con &= ~annual | self.anniv
        seats = self.seats[:, :n]
        er, ei = _nz(exp_)
        cr_, ci_ = _nz(con)
        if er.size:
            seats[er, ei] = np.ceil(seats[er, ei] * (1.0 + self.sp["expansion_size"][er, ei])
                                    - 1e-9)
        if cr_.size:
            seats[cr_, ci_] = np.maximum(
                1.0, np.floor(seats[cr_, ci_] * (1.0 - self.sp["contraction_size"][cr_, ci_])
                              + 1e-9)
            )
        # loyalty -----------------------------------------------------------------------
        rr, ii, score = self.resp
        ch_r = np.concatenate([er, cr_])
        ch_i = np.concatenate([ei, ci_])
        if lo.enabled:
            join = (score >= lo.join_min_score) & ~self.member[rr, ii]
            self.member[rr[join], ii[join]] = True
            if lo.discount:
                ch_r = np.concatenate([ch_r, rr[join]])
                ch_i = np.concatenate([ch_i, ii[join]])
        mrr = self.mrr[:, :n]
        ch_before = mrr[ch_r, ch_i]
        if ch_r.size:
            disc = 1.0 - lo.discount * self.member[ch_r, ch_i] if lo.enabled else 1.0
            mrr[ch_r, ch_i] = self.seats[ch_r, ch_i] * self.price[ch_r, ch_i] * disc
        # apply churn -------------------------------------------------------------------
        vr, vi = _nz(churned)
        churned_before = mrr[vr, vi]  # churned accounts did not expand or contract
        if vr.size:
            alive[vr, vi] = False
            mrr[vr, vi] = 0.0
            self.pend[:, vr, vi] = -1
        # books -------------------------------------------------------------------------
        om = self.out_m
        nr, ni = self.new_nz
        n_new = np.bincount(nr, minlength=R)
        om["new_logos"][:, m] = n_new
        om["new_mrr"][:, m] = np.bincount(nr, weights=mrr[nr, ni], minlength=R)
        is_vol = vol[vr, vi]
        n_vol = np.bincount(vr, weights=is_vol, minlength=R)
        n_churn = np.bincount(vr, minlength=R)
        om["churned_voluntary"][:, m] = n_vol
        om["churned_involuntary"][:, m] = n_churn - n_vol
        om["accounts_start"][:, m] = self.accounts_now
        n_alive = self.accounts_now + n_new - n_churn
        self.accounts_now = n_alive
        om["accounts_end"][:, m] = n_alive
        om["mrr_start"][:, m] = self.mrr_now
        d = mrr[ch_r, ch_i] - ch_before
        om["expansion_mrr"][:, m] = np.bincount(ch_r, weights=np.maximum(d, 0.0), minlength=R)
        om["contraction_mrr"][:, m] = np.bincount(ch_r, weights=np.maximum(-d, 0.0),
                                                  minlength=R)
        om["churned_mrr"][:, m] = np.bincount(vr, weights=churned_before, minlength=R)
        self.mrr_now = mrr.sum(axis=1)
        om["mrr_end"][:, m] = self.mrr_now
        om["csm_cost"][:, m] = self.team_cost
        om["intervention_cost"][:, m] = self.out_p["cost"][:, m, :].sum(axis=1)
        if lo.enabled:
            n_members = _count_rows(self.member[:, :n] & alive)
        else:
            n_members = np.zeros(R)
        om["members"][:, m] = n_members
        om["programme_cost"][:, m] = (
            self.rc_cost + sc.other_cost_per_month + lo.cost_per_member * n_members
        )
        om["nps_responses"][:, m] = np.bincount(rr, minlength=R)
        om["nps_promoters"][:, m] = np.bincount(rr, weights=score >= 9, minlength=R)
        om["nps_detractors"][:, m] = np.bincount(rr, weights=score <= 6, minlength=R)
        om["failed_tickets"][:, m] = self.fail.sum(axis=1)
        om["mean_health"][:, m] = (h * alive).sum(axis=1) / np.maximum(n_alive, 1)
        ot = self.out_t
        for t in range(self.T):
            in_t = tier == t
            in_t &= alive
            ot["accounts"][:, m, t] = _count_rows(in_t)
            ot["mrr"][:, m, t] = (mrr * in_t).sum(axis=1)  # dead accounts have MRR 0
        if self.rec is not None:
            self._record(m, vol, inv)
        # carry-over ----------------------------------------------------------------------
        if self.need_au_prev:
            self.au_prev[:, :n] = self.au
        for k, p in enumerate(self.plays):
            if self.level_on[k]:
                self.level[k, :, :n] *= p.decay_factor

    def _record(self, m: int, vol: np.ndarray, inv: np.ndarray) -> None:
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
        Slot layout (default :func:`default_layout`); :func:`cs_sim.compare` passes a
        layout shared by both scenarios so that their random numbers line up.
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
    pop_gens = [component_generators(seed, r)["population"] for r in reps]
    if scenario.population.source == "dataset":
        if dataset is None:
            if scenario.population.dataset is None:
                raise ScenarioError(
                    "population.source is 'dataset' but no dataset was given: pass "
                    "dataset=... or set population.dataset to a folder"
                )
            from cs_sim.io import load_dataset

            dataset = load_dataset(scenario.population.dataset)
        population = initial_population(scenario, dataset, len(reps))
    else:
        population = synthetic_population(scenario, pop_gens)
    if layout is None:
        layout = default_layout(scenario, population.n)
    elif layout.n_initial != population.n or layout.horizon != scenario.horizon_months:
        raise ValueError("layout does not match the scenario's population and horizon")
    row = None if record_rep is None else reps.index(record_rep)
    eng = _Engine(scenario, seed, reps, layout, population, row)

    env = simpy.Environment()
    stores = [simpy.Store(env) for _ in scenario.tiers]
    for t, store in enumerate(stores):
        env.process(team_process(env, store, lambda m, t=t: eng.serve(t, m)))

    def tick() -> Any:
        for m in range(scenario.horizon_months):
            eng.begin_month(m)
            eng.collect_work(m)
            done = [env.event() for _ in stores]
            for store, ev in zip(stores, done, strict=True):
                store.put((m, ev))
            yield env.all_of(done)
            eng.end_month(m)
            yield env.timeout(1)

    env.process(tick())
    env.run(until=scenario.horizon_months)
    return eng.output()
