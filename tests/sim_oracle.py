"""Oracle: an agent-per-process SimPy version of the simulator's model (for tests only).

One SimPy process per account, one per tier's CSM team (a ``simpy.PriorityStore`` of
work, served each month with the team's hours), one acquisition process, one
dispatcher (it hands each queued request to the team of the account's current tier)
and one book-keeping process; scalar random draws from Python's ``random.Random``.

It is written from the model's documentation (the docstring of
:mod:`cs_sim.sim.model`, :mod:`cs_sim.sim.capacity` and the scenario's field
descriptions), for clarity, not speed, and it is **independent of the code it
checks**: it imports nothing from ``cs_sim`` but the :class:`~cs_sim.sim.scenario.Scenario`
type, whose fields it reads. It compiles the scenario's plays itself (:func:`read_plays`:
the onboarding programme as a ``new_account`` trigger, cadences, conditions, triggers,
eligible tiers and segments, effects and half-lives), evaluates tier rules, play
conditions and triggers with its own comparisons, plans the teams' headcount and
capacity itself, and draws its own random numbers. It cannot share the array engine's
random streams, so the two agree in distribution only (tests/test_sim_oracle.py).

Within month ``m`` the events are ordered by time: acquisition (``m + 0.0``), the
accounts' dynamics and play requests (``m + 0.1``), the dispatcher (``m + 0.2``), the
teams serving their queues (``m + 0.3``), churn and expansion (``m + 0.6``), the
month's books (``m + 0.9``). Loyalty programmes and starting customers from a dataset
are not modelled here (the oracle raises).

The run starts ``scenario.warmup()`` months before the horizon (months ``-W .. -1``,
nothing counted); the cohort is the accounts alive when month 0 starts. Annual
contracts keep, over their term (``contract_months``), the products of ``1 - p``,
``1 - q`` and ``1 - pc`` of their months and decide churn and contraction at renewal on
one minus them. Plays act from their ``start_month``; team changes give each month's
capacity (hires ramping up linearly) and headcount (cost).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import simpy

from cs_sim.sim.scenario import Scenario

_LOGISTIC = math.sqrt(3.0) / math.pi  # scales a standard logistic to unit variance
_NORMAL = NormalDist()
_LN2 = math.log(2.0)


def _sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def _poisson(u: float, lam: float) -> int:
    """Inverse CDF of Poisson(``lam``) at ``u``, by summing the probabilities."""
    p = math.exp(-lam)
    cdf = p
    k = 0
    while u > cdf and p > 0:
        k += 1
        p *= lam / k
        cdf += p
    return k


def _holds(value: float, op: str, ref: float) -> bool:
    """``value op ref``; a missing value (NaN) never satisfies a condition."""
    if value != value:  # NaN
        return False
    if op == "<":
        return value < ref
    if op == "<=":
        return value <= ref
    if op == ">":
        return value > ref
    if op == ">=":
        return value >= ref
    if op == "==":
        return value == ref
    if op == "!=":
        return value != ref
    raise ValueError(f"unknown operator {op!r}")


@dataclass(frozen=True)
class OraclePlay:
    """The oracle's own reading of one play of a scenario (see :func:`read_plays`)."""

    name: str
    kind: str  # time, data, trigger
    every: int
    offset: int
    conditions: tuple[tuple[str, str, float], ...]
    cooldown: int
    event: str | None
    threshold: float | None
    tiers: frozenset[int]
    segments: frozenset[int] | None
    hours: tuple[float, ...]  # CSM hours by tier (0: automated)
    cost: float
    reach: float
    priority: int
    max_wait: int
    wait_decay: float
    hazard: float
    health: float
    expansion: float
    half_life: float
    start: int | None

    def monthly_decay(self) -> float:
        """The effect level's factor a month: it halves every ``half_life`` months."""
        return math.exp(-_LN2 / self.half_life)


def read_plays(sc: Scenario) -> list[OraclePlay]:
    """The onboarding programme (a ``new_account`` trigger) then the scenario's plays."""
    tiers = sc.tier_names()
    segs = sc.segment_names()
    out: list[OraclePlay] = []
    ob = sc.onboarding
    if ob is not None:
        out.append(OraclePlay(
            name="onboarding", kind="trigger", every=1, offset=0, conditions=(), cooldown=0,
            event="new_account", threshold=None, tiers=frozenset(range(len(tiers))),
            segments=None, hours=tuple(float(ob.hours.get(t, 0.0)) for t in tiers),
            cost=ob.cost, reach=1.0, priority=ob.priority, max_wait=ob.max_wait_months,
            wait_decay=ob.wait_decay, hazard=ob.effect.hazard_multiplier,
            health=ob.effect.health, expansion=ob.effect.expansion_multiplier,
            half_life=ob.decay.half_life_months, start=None,
        ))
    defaults = {"detractor": 6.0, "support_failure": 1.0}
    for p in sc.plays:
        event = p.trigger.event if p.trigger is not None else None
        threshold = p.trigger.threshold if p.trigger is not None else None
        if event is not None and threshold is None:
            threshold = defaults.get(event)
        out.append(OraclePlay(
            name=p.name, kind=p.kind,
            every=p.schedule.every_months if p.schedule else 1,
            offset=p.schedule.offset_months if p.schedule else 0,
            conditions=tuple((c.metric, c.op, float(c.value)) for c in p.condition),
            cooldown=p.cooldown_months, event=event, threshold=threshold,
            tiers=frozenset(tiers.index(t) for t in p.tiers),
            segments=None if p.segments is None else frozenset(segs.index(s)
                                                               for s in p.segments),
            hours=tuple((p.hours if p.owner == "csm" else 0.0) for _ in tiers),
            cost=p.cost, reach=p.reach, priority=p.priority, max_wait=p.max_wait_months,
            wait_decay=p.wait_decay, hazard=p.effect.hazard_multiplier,
            health=p.effect.health, expansion=p.effect.expansion_multiplier,
            half_life=p.decay.half_life_months, start=p.start_month,
        ))
    return out


def team_plan(sc: Scenario, t: int, m: int) -> tuple[float, float]:
    """Headcount (paid) and full-time equivalents (working) of tier ``t``'s team in ``m``.

    A change arrives ``hiring_delay_months`` after its month; a hire works ``(j + 1) /
    (ramp_months + 1)`` of a CSM in its ``j``-th month there (capped at 1); a reduction
    acts at once. Months of the warm-up (negative) see no change.
    """
    team = sc.tiers[t].team
    head = fte = float(team.headcount)
    prev = team.headcount
    for c in team.changes:
        delta, prev = c.headcount - prev, c.headcount
        j = m - c.month - c.hiring_delay_months
        if j < 0:
            continue
        head += delta
        fte += delta * min(1.0, (j + 1) / (c.ramp_months + 1)) if delta > 0 else delta
    return head, max(fte, 0.0)


@dataclass(eq=False)
class _Account:
    slot: int
    seg: int
    employees: float
    annual: bool
    seats: float
    price: float
    health: float
    acquired: int
    tier: int = 0
    alive: bool = True
    mrr: float = 0.0
    au_prev: float = 0.0
    nps_last: float = math.nan
    level: dict[int, float] = field(default_factory=dict)
    pending: dict[int, int] = field(default_factory=dict)
    last_fire: dict[int, int] = field(default_factory=dict)
    term: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])  # S_p, S_q, S_c
    # this month's observations
    share: float = 0.0
    au: float = 0.0
    fail: int = 0
    champ: bool = False
    score: float | None = None


class OracleRun:
    """One replication of ``scenario`` as agent processes (``run`` returns its totals)."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        if scenario.loyalty.enabled:
            raise NotImplementedError("the oracle does not model the loyalty programme")
        if scenario.population.source != "synthetic":
            raise NotImplementedError("the oracle starts from synthetic populations only")
        self.sc = scenario
        self.rng = random.Random(seed)
        self.env = simpy.Environment()
        self.plays = read_plays(scenario)
        self.decay = [p.monthly_decay() for p in self.plays]
        self.segs = scenario.segments
        self.accounts: list[_Account] = []
        self.live: list[_Account] = []
        self.queues = [simpy.PriorityStore(self.env) for _ in scenario.tiers]
        self.W = scenario.warmup()
        H = scenario.horizon_months
        self.out: dict[str, Any] = {k: 0.0 for k in (
            "churned_voluntary", "churned_involuntary", "new_logos", "dropped",
            "expansion_mrr", "contraction_mrr", "play_cost", "nps_responses",
            "nps_promoters", "nps_detractors")}
        self.mrr_end = [0.0] * H
        self.health_mean = [0.0] * H
        self.delivered = {p.name: 0.0 for p in self.plays}
        self.cohort: list[_Account] = []
        self.cohort_mrr: list[float] = []
        rc = scenario.retention_changes
        names, tiers = scenario.segment_names(), scenario.tier_names()
        # retention-change multipliers by (segment, tier) and target
        self.rc = [[{tgt: math.prod(c.multiplier for c in rc if c.target == tgt
                                    and (c.segments is None or names[s] in c.segments)
                                    and (c.tiers is None or tiers[t] in c.tiers))
                     for tgt in ("voluntary_churn", "early_life_churn", "involuntary_churn",
                                 "expansion", "contraction")}
                    for t in range(len(tiers))] for s in range(len(names))]

    # ---------------------------------------------------------------- helpers
    def _new_account(self, acquired: int, shares: list[float]) -> _Account:
        r = self.rng
        u = r.random() * sum(shares)
        seg, acc = 0, shares[0]
        while u >= acc and seg < len(shares) - 1:
            seg += 1
            acc += shares[seg]
        s = self.segs[seg]
        employees = max(1.0, round(math.exp(math.log(s.employees.median)
                                            + s.employees.sigma * r.gauss(0, 1))))
        annual = r.random() < s.annual_share
        seats = max(1.0, round(s.seat_share * employees))
        health = min(100.0, max(0.0, s.health_mean + s.health_sd * r.gauss(0, 1)))
        a = _Account(len(self.accounts), seg, employees, annual, seats, s.price_per_seat,
                     health, acquired)
        a.mrr = seats * s.price_per_seat
        a.tier = self._tier(a)
        self.accounts.append(a)
        self.live.append(a)
        return a

    def _tier(self, a: _Account) -> int:
        """The first tier whose rule holds (an empty rule always holds)."""
        values = {"arr": 12 * a.mrr, "mrr": a.mrr, "employees": a.employees,
                  "seats": a.seats, "health": a.health}
        labels = {"segment": self.sc.segment_names()[a.seg],
                  "contract": "annual" if a.annual else "monthly"}
        for t, tier in enumerate(self.sc.tiers):
            ok = True
            for c in tier.rule:
                if c.attribute in labels:
                    wanted = c.value if isinstance(c.value, list) else [c.value]
                    hit = labels[c.attribute] in wanted
                    ok = ok and ((not hit) if c.op == "!=" else hit)
                else:
                    ok = ok and _holds(values[c.attribute], c.op, float(c.value))
            if ok:
                return t
        return len(self.sc.tiers) - 1

    # ------------------------------------------------------------- processes
    def acquisition(self) -> Any:
        sc = self.sc
        mix = sc.acquisition.segment_mix
        shares = ([mix.get(s, 0.0) for s in sc.segment_names()] if mix
                  else [s.share for s in sc.segments])
        for m in range(-self.W, sc.horizon_months):
            if m == 0:  # the cohort: alive when the horizon starts
                self.cohort = [a for a in self.live if a.alive]
                self.cohort_mrr = [a.mrr for a in self.cohort]
            n_new = _poisson(self.rng.random(), sc.acquisition.new_logos_per_month)
            for _ in range(n_new):
                a = self._new_account(m, shares)
                self.env.process(self.account(a, m))
            if m >= 0:
                self.out["new_logos"] += n_new
            yield self.env.timeout(1)

    def account(self, a: _Account, first_month: int) -> Any:
        env, sc, r = self.env, self.sc, self.rng
        b = sc.behaviour
        s = self.segs[a.seg]
        fail_rate = s.tickets_per_seat * (1 - b.support.fcr)
        yield env.timeout(0.1)
        for m in range(first_month, sc.horizon_months):
            tenure = m - a.acquired
            if tenure > 0 and tenure % 12 == 0:
                a.tier = self._tier(a)
            x = (a.health - 50.0) / 10.0  # last month's health
            # usage: a unit-variance logistic shock, shared with health
            u = r.random()
            eps = math.log(u / (1.0 - u)) * _LOGISTIC if 0 < u < 1 else 0.0
            a.share = _sigmoid(s.active_share_intercept + b.usage.health_slope * x
                               + b.usage.noise_sd * eps)
            a.au = float(round(a.seats * a.share))
            # support, champion, NPS
            a.fail = _poisson(r.random(), fail_rate * a.seats)
            a.champ = r.random() < b.support.champion_leave_rate
            a.score = None
            sv = b.surveys
            if r.random() < sv.nps_response_rate:
                a.score = min(10.0, max(0.0, round(sv.nps_intercept + sv.nps_health_slope * x
                                                   + sv.nps_noise_sd * r.gauss(0, 1))))
                a.nps_last = a.score
                if m >= 0:
                    self.out["nps_responses"] += 1
                    self.out["nps_promoters"] += a.score >= 9
                    self.out["nps_detractors"] += a.score <= 6
            # health
            hp = b.health
            h = a.health + hp.reversion * (s.health_mean - a.health) + hp.noise_sd * eps
            h -= hp.failed_ticket_penalty * a.fail + hp.champion_leave_penalty * a.champ
            a.health = min(100.0, max(0.0, h))
            self._request_plays(a, m, tenure)
            yield env.timeout(0.5)  # teams serve at m + 0.3
            churned = self._churn_and_expansion(a, m, tenure)
            for k in a.level:
                a.level[k] *= self.decay[k]
            a.au_prev = a.au
            if churned:
                return
            yield env.timeout(0.5)

    def _metric(self, a: _Account, name: str, tenure: int) -> float:
        if name == "health":
            return a.health
        if name == "active_share":
            return a.share
        if name == "usage_change":
            return a.au / a.au_prev - 1 if a.au_prev > 0 else 0.0
        if name == "tenure_months":
            return float(tenure)
        if name == "mrr":
            return a.mrr
        if name == "arr":
            return 12 * a.mrr
        if name == "nps_score":
            return a.nps_last
        if name == "months_to_renewal":
            term = self.segs[a.seg].contract_months
            return float((term - tenure % term) % term) if a.annual else 0.0
        if name == "failed_tickets":
            return float(a.fail)
        raise ValueError(f"unknown metric {name!r}")

    def _due(self, a: _Account, k: int, p: OraclePlay, m: int, tenure: int) -> bool:
        if p.kind == "time":
            return tenure >= 1 and tenure % p.every == p.offset % p.every
        if p.kind == "data":
            return (all(_holds(self._metric(a, mt, tenure), op, v) for mt, op, v in p.conditions)
                    and m - a.last_fire.get(k, -10**9) >= max(p.cooldown, 1))
        ev = p.event
        if ev == "new_account":
            return tenure == 0
        if ev == "champion_left":
            return a.champ
        if ev == "usage_drop":
            return self._metric(a, "usage_change", tenure) <= -(p.threshold or 0.0)
        if ev == "support_failure":
            return a.fail >= (p.threshold or 1.0)
        if ev == "detractor":
            return a.score is not None and a.score <= (p.threshold or 0.0)
        raise ValueError(f"unknown event {ev!r}")

    def _request_plays(self, a: _Account, m: int, tenure: int) -> None:
        for k, p in enumerate(self.plays):
            # eligible (started, tier, segment, nothing queued), due, then reached
            if p.start is not None and m < p.start:
                continue
            if a.tier not in p.tiers or k in a.pending:
                continue
            if p.segments is not None and a.seg not in p.segments:
                continue
            if not self._due(a, k, p, m, tenure):
                continue
            if p.reach < 1.0 and self.rng.random() >= p.reach:
                continue
            if p.kind == "data":
                a.last_fire[k] = m
            if p.hours[a.tier] == 0:
                self._deliver(a, k, m, 1.0)
            else:
                a.pending[k] = m
                self.queues[a.tier].put(simpy.PriorityItem((p.priority, m, a.slot, k), (a, k)))

    def _deliver(self, a: _Account, k: int, m: int, wf: float) -> None:
        p = self.plays[k]
        a.health = min(100.0, max(0.0, a.health + p.health * wf))
        a.level[k] = max(a.level.get(k, 0.0), wf)
        if m >= 0:
            self.delivered[p.name] += 1
            self.out["play_cost"] += p.cost

    def dispatcher(self) -> Any:
        """At ``m + 0.2``: each queued request goes to the team of the account's tier now."""
        yield self.env.timeout(0.2)
        while True:
            moved = []
            for t, store in enumerate(self.queues):
                stay = []
                while store.items:
                    item = yield store.get()
                    a, _ = item.item
                    (stay if a.tier == t else moved).append(item)
                for item in stay:
                    store.put(item)
            for item in moved:
                self.queues[item.item[0].tier].put(item)
            yield self.env.timeout(1)

    def team(self, t: int) -> Any:
        env, sc = self.env, self.sc
        store = self.queues[t]
        yield env.timeout(0.3)
        for m in range(-self.W, sc.horizon_months):
            capacity = round(team_plan(sc, t, m)[1] * sc.tiers[t].team.hours_per_month * 1000)
            items = []
            while store.items:  # in order: priority, month requested, account
                items.append((yield store.get()))
            live = []
            for item in items:
                a, k = item.item
                if not a.alive or a.pending.get(k) != item.priority[1]:
                    continue  # stale: the account churned
                if m - item.priority[1] > self.plays[k].max_wait:
                    del a.pending[k]
                    if m >= 0:
                        self.out["dropped"] += 1
                    continue
                live.append(item)
            used = 0
            for j, item in enumerate(live):
                a, k = item.item
                p = self.plays[k]
                hours = round(p.hours[t] * 1000)
                if used + hours > capacity:  # strict order: the rest waits
                    for rest in live[j:]:
                        store.put(rest)
                    break
                used += hours
                del a.pending[k]
                self._deliver(a, k, m, (1.0 - p.wait_decay) ** (m - item.priority[1]))
            yield env.timeout(1)

    def _churn_and_expansion(self, a: _Account, m: int, tenure: int) -> bool:
        sc, r = self.sc, self.rng
        b = sc.behaviour
        s = self.segs[a.seg]
        x = (a.health - 50.0) / 10.0  # health after this month's plays
        mult_h = mult_e = 1.0
        for k, lv in a.level.items():
            p = self.plays[k]
            mult_h *= 1 + (p.hazard - 1) * lv
            mult_e *= 1 + (p.expansion - 1) * lv
        cp = b.churn
        early = tenure < cp.early_life_months
        eta = (s.churn_intercept + cp.health_slope * x + cp.early_life * early
               + cp.tenure_slope * min(tenure, 36) / 12.0)
        rc = self.rc[a.seg][a.tier]
        pv = _sigmoid(eta) * mult_h * rc["voluntary_churn"]
        if early:
            pv *= rc["early_life_churn"]
        pv = min(pv, 1.0)
        q = min(s.involuntary_rate * rc["involuntary_churn"], 1.0)
        renew = a.annual and tenure > 0 and tenure % s.contract_months == 0
        # months of the term this step stands for: a term begun before the run counts
        # its earlier months at the first month's hazard
        n_months = ((tenure - 1) % s.contract_months) + 1 if m == -self.W else 1
        if a.annual and tenure >= 1:
            a.term[0] *= (1 - pv) ** n_months
            a.term[1] *= (1 - q) ** n_months
        if renew:
            pv, q = 1 - a.term[0], 1 - a.term[1]
            a.term[0] = a.term[1] = 1.0
        decide = tenure >= 1 and (not a.annual or renew)
        u = r.random()
        if decide and u < pv:
            self._churn(a, m, "churned_voluntary")
            return True
        if decide and u >= 1 - q:
            self._churn(a, m, "churned_involuntary")
            return True
        ep = b.expansion
        pe = _sigmoid(s.expansion_intercept + ep.expansion_health_slope * x) * mult_e
        pe *= rc["expansion"]
        pc = _sigmoid(s.contraction_intercept + ep.contraction_health_slope * x)
        pc *= rc["contraction"]
        if a.annual and tenure >= 1:
            a.term[2] *= (1 - pc) ** n_months
        if renew:
            pc, a.term[2] = 1 - a.term[2], 1.0
        u = r.random()
        if tenure >= 1:
            before = a.mrr
            if u < pe:
                a.seats = math.ceil(a.seats * (1 + s.expansion_size) - 1e-9)
            elif u >= 1 - pc and (not a.annual or renew):
                a.seats = max(1.0, math.floor(a.seats * (1 - s.contraction_size) + 1e-9))
            a.mrr = a.seats * a.price
            if m >= 0 and a.mrr > before:
                self.out["expansion_mrr"] += a.mrr - before
            elif m >= 0 and a.mrr < before:
                self.out["contraction_mrr"] += before - a.mrr
        return False

    def _churn(self, a: _Account, m: int, kind: str) -> None:
        a.alive = False
        a.mrr = 0.0
        a.pending.clear()
        if m >= 0:
            self.out[kind] += 1

    def books(self) -> Any:
        """At ``m + 0.9``: the month's MRR, accounts and mean health (alive accounts)."""
        yield self.env.timeout(0.9)
        for m in range(-self.W, self.sc.horizon_months):
            self.live = [a for a in self.live if a.alive]
            if m >= 0:
                self.mrr_end[m] = sum(a.mrr for a in self.live)
                self.health_mean[m] = sum(a.health for a in self.live) / max(len(self.live), 1)
            yield self.env.timeout(1)

    # --------------------------------------------------------------------- run
    def run(self) -> dict[str, Any]:
        """Run the replication; its totals over the horizon (``delivered`` by play)."""
        sc = self.sc
        shares = [s.share for s in sc.segments]
        for _ in range(sc.population.n_accounts):
            tenure0 = int(self.rng.random() * (sc.population.max_tenure_months + 1))
            a = self._new_account(-self.W - 1 - tenure0, shares)
            self.env.process(self.account(a, -self.W))
        self.env.process(self.acquisition())
        self.env.process(self.dispatcher())
        for t in range(len(sc.tiers)):
            self.env.process(self.team(t))
        self.env.process(self.books())
        H = sc.horizon_months
        self.env.run(until=self.W + H)
        out = dict(self.out)
        out["logos_churned"] = out["churned_voluntary"] + out["churned_involuntary"]
        out["accounts_end"] = float(len(self.live))
        out["revenue"] = sum(self.mrr_end)
        out["mrr_end"] = self.mrr_end[-1]
        out["mean_health"] = sum(self.health_mean) / H
        out["nps"] = (100.0 * (out["nps_promoters"] - out["nps_detractors"])
                      / out["nps_responses"] if out["nps_responses"] else math.nan)
        start = sum(self.cohort_mrr)
        out["nrr"] = sum(a.mrr for a in self.cohort) / start
        out["grr"] = sum(min(a.mrr, s) for a, s in zip(self.cohort, self.cohort_mrr,
                                                       strict=True)) / start
        csm = sum(team_plan(sc, t, m)[0] * tier.team.cost_per_month
                  for t, tier in enumerate(sc.tiers) for m in range(H))
        programme = H * (sum(c.cost_per_month for c in sc.retention_changes)
                         + sc.other_cost_per_month)
        out["total_cost"] = csm + out["play_cost"] + programme
        out["delivered"] = dict(self.delivered)
        return out


def run_oracle(scenario: Scenario, seed: int, replications: int) -> list[dict[str, Any]]:
    """Run ``replications`` independent oracle replications (seeds ``seed * 100003 + r``)."""
    return [OracleRun(scenario, seed * 100_003 + r).run() for r in range(replications)]
