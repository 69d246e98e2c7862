"""Oracle: an agent-per-process SimPy version of the simulator's model (for tests only).

One SimPy process per account, one per tier's CSM team (a ``simpy.PriorityStore`` of
work, served each month with the team's hours), one acquisition process; scalar random
draws from Python's ``random.Random``. It implements the same equations as
:mod:`cs_sim.sim.model` (read that docstring) independently, written for clarity, not
speed, so that the array engine can be checked against it statistically (their random
streams differ; only distributions must agree).

Within month m the events are ordered by time: acquisition (m + 0.0), accounts'
dynamics and play requests (m + 0.1), teams serving their queues (m + 0.3), churn and
expansion (m + 0.6). Loyalty programmes are not modelled here (the oracle raises).

The run starts ``scenario.warmup()`` months before the horizon (months ``-W .. -1``,
nothing counted); the cohort is the accounts alive when month 0 starts. Annual
contracts keep, over their term (``contract_months``), the products of ``1 - p``,
``1 - q`` and ``1 - pc`` of their months and decide churn and contraction at renewal on
one minus them. Plays act from their ``start_month``; team changes give each month's
capacity (hires ramping up linearly).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import simpy

from cs_sim.sim.plays import OPERATORS, compile_plays
from cs_sim.sim.scenario import Scenario

_LOGISTIC = math.sqrt(3.0) / math.pi
_NORMAL = __import__("statistics").NormalDist()


def _sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def _poisson(u: float, lam: float) -> int:
    p = math.exp(-lam)
    cdf = p
    k = 0
    while u > cdf and p > 0:
        k += 1
        p *= lam / k
        cdf += p
    return k


@dataclass
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
    """One replication of ``scenario`` as agent processes."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        if scenario.loyalty.enabled:
            raise NotImplementedError("the oracle does not model the loyalty programme")
        if scenario.population.source != "synthetic":
            raise NotImplementedError("the oracle starts from synthetic populations only")
        self.sc = scenario
        self.rng = random.Random(seed)
        self.env = simpy.Environment()
        self.plays = compile_plays(scenario)
        self.segs = scenario.segments
        self.accounts: list[_Account] = []
        self.queues = [simpy.PriorityStore(self.env) for _ in scenario.tiers]
        self.W = scenario.warmup()
        H = scenario.horizon_months
        self.out = {k: [0.0] * H for k in ("churned_voluntary", "churned_involuntary",
                                           "new_logos", "mrr_end", "delivered", "dropped")}
        self.cohort_start = 0.0
        self.cohort: list[_Account] = []

    # ---------------------------------------------------------------- helpers
    def _new_account(self, slot: int, acquired: int, shares: list[float]) -> _Account:
        r = self.rng
        total = sum(shares)
        u = r.random() * total
        seg = 0
        acc_share = shares[0]
        while u >= acc_share and seg < len(shares) - 1:
            seg += 1
            acc_share += shares[seg]
        s = self.segs[seg]
        employees = max(1.0, round(math.exp(math.log(s.employees.median)
                                            + s.employees.sigma * r.gauss(0, 1))))
        annual = r.random() < s.annual_share
        seats = max(1.0, round(s.seat_share * employees))
        health = min(100.0, max(0.0, s.health_mean + s.health_sd * r.gauss(0, 1)))
        a = _Account(slot, seg, employees, annual, seats, s.price_per_seat, health, acquired)
        a.mrr = seats * s.price_per_seat
        a.tier = self._tier(a)
        return a

    def _tier(self, a: _Account) -> int:
        values = {"arr": 12 * a.mrr, "mrr": a.mrr, "employees": a.employees, "seats": a.seats,
                  "health": a.health}
        names = self.sc.segment_names()
        for t, tier in enumerate(self.sc.tiers):
            ok = True
            for c in tier.rule:
                if c.attribute == "segment":
                    wanted = c.value if isinstance(c.value, list) else [c.value]
                    hit = names[a.seg] in wanted
                    ok &= (not hit) if c.op == "!=" else hit
                elif c.attribute == "contract":
                    wanted = c.value if isinstance(c.value, list) else [c.value]
                    hit = ("annual" if a.annual else "monthly") in wanted
                    ok &= (not hit) if c.op == "!=" else hit
                else:
                    ok &= bool(OPERATORS[c.op](values[c.attribute], float(c.value)))
            if ok:
                return t
        return len(self.sc.tiers) - 1

    # ------------------------------------------------------------- processes
    def acquisition(self):
        sc = self.sc
        shares = (
            [sc.acquisition.segment_mix.get(s, 0.0) for s in sc.segment_names()]
            if sc.acquisition.segment_mix else [s.share for s in sc.segments]
        )
        for m in range(-self.W, sc.horizon_months):
            if m == 0:  # the cohort: alive when the horizon starts
                self.cohort = [a for a in self.accounts if a.alive]
                self.cohort_mrr = [a.mrr for a in self.cohort]
                self.cohort_start = sum(self.cohort_mrr)
            n_new = _poisson(self.rng.random(), sc.acquisition.new_logos_per_month)
            for _ in range(n_new):
                a = self._new_account(len(self.accounts), m, shares)
                self.accounts.append(a)
                self.env.process(self.account(a, m))
            yield self.env.timeout(1)

    def account(self, a: _Account, first_month: int):
        env, sc, r = self.env, self.sc, self.rng
        b = sc.behaviour
        s = self.segs[a.seg]
        yield env.timeout(0.1)
        for m in range(first_month, sc.horizon_months):
            tenure = m - a.acquired
            if tenure > 0 and tenure % 12 == 0:
                a.tier = self._tier(a)
            x = (a.health - 50.0) / 10.0
            # usage
            u = r.random()
            eps = math.log(u / (1.0 - u)) * _LOGISTIC if 0 < u < 1 else 0.0
            a.share = _sigmoid(s.active_share_intercept + b.usage.health_slope * x
                               + b.usage.noise_sd * eps)
            a.au = float(round(a.seats * a.share))
            # support, champion, NPS
            lam = s.tickets_per_seat * (1 - b.support.fcr) * a.seats
            a.fail = _poisson(r.random(), lam)
            a.champ = r.random() < b.support.champion_leave_rate
            a.score = None
            if r.random() < b.surveys.nps_response_rate:
                sv = b.surveys
                a.score = min(10.0, max(0.0, round(sv.nps_intercept + sv.nps_health_slope * x
                                                   + sv.nps_noise_sd * r.gauss(0, 1))))
                a.nps_last = a.score
            # health
            hp = b.health
            h = a.health + hp.reversion * (s.health_mean - a.health) + hp.noise_sd * eps
            h -= hp.failed_ticket_penalty * a.fail + hp.champion_leave_penalty * a.champ
            a.health = min(100.0, max(0.0, h))
            self._request_plays(a, m, tenure)
            yield env.timeout(0.5)  # teams serve at m + 0.3
            churned = self._churn_and_expansion(a, m, tenure)
            for k in list(a.level):
                a.level[k] *= self.plays[k].decay_factor
            a.au_prev = a.au
            if churned:
                return
            yield env.timeout(0.5)

    def _request_plays(self, a: _Account, m: int, tenure: int) -> None:
        for k, p in enumerate(self.plays):
            if p.kind == "time":
                due = tenure >= 1 and tenure % p.every == p.offset % p.every
            elif p.kind == "data":
                metrics = {
                    "health": a.health, "active_share": a.share,
                    "usage_change": a.au / a.au_prev - 1 if a.au_prev > 0 else 0.0,
                    "tenure_months": tenure, "mrr": a.mrr, "arr": 12 * a.mrr,
                    "nps_score": a.nps_last,
                    "months_to_renewal": (12 - tenure % 12) % 12 if a.annual else 0,
                    "failed_tickets": a.fail,
                }
                due = all(bool(OPERATORS[op](metrics[mt], v)) for mt, op, v in p.conditions)
                due = due and m - a.last_fire.get(k, -10**6) >= max(p.cooldown, 1)
            else:
                ev = p.event
                if ev == "new_account":
                    due = tenure == 0
                elif ev == "champion_left":
                    due = a.champ
                elif ev == "usage_drop":
                    chg = a.au / a.au_prev - 1 if a.au_prev > 0 else 0.0
                    due = chg <= -p.threshold
                elif ev == "support_failure":
                    due = a.fail >= (p.threshold or 1)
                else:
                    due = a.score is not None and a.score <= p.threshold
            if p.reach < 1.0:
                due = due and self.rng.random() < p.reach
            due = due and (p.start is None or m >= p.start)
            if not due or not p.tier_mask[a.tier] or not p.seg_mask[a.seg] or k in a.pending:
                continue
            if p.kind == "data":
                a.last_fire[k] = m
            if p.hours_by_tier[a.tier] == 0:
                self._deliver(a, k, m, 1.0)
            else:
                a.pending[k] = m
                self.queues[a.tier].put(simpy.PriorityItem((p.priority, m, a.slot), (a, k)))

    def _deliver(self, a: _Account, k: int, m: int, wf: float) -> None:
        p = self.plays[k]
        a.health = min(100.0, max(0.0, a.health + p.health * wf))
        a.level[k] = max(a.level.get(k, 0.0), wf)
        if m >= 0:
            self.out["delivered"][m] += 1

    def _capacity(self, t: int, m: int) -> int:
        """Hour-units of tier ``t``'s team in month ``m`` (changes: ramping hires)."""
        team = self.sc.tiers[t].team
        fte, prev = float(team.headcount), team.headcount
        for c in team.changes:
            j = m - c.month - c.hiring_delay_months
            delta, prev = c.headcount - prev, c.headcount
            if j >= 0:
                fte += delta * (min(1.0, (j + 1) / (c.ramp_months + 1)) if delta > 0 else 1.0)
        return round(max(fte, 0.0) * team.hours_per_month * 1000)

    def team(self, t: int):
        env, sc = self.env, self.sc
        store = self.queues[t]
        yield env.timeout(0.3)
        for m in range(-self.W, sc.horizon_months):
            capacity = self._capacity(t, m)
            items = []
            while store.items:
                item = yield store.get()
                items.append(item)
            live = []
            for item in items:  # stale requests: account churned or moved tier
                a, k = item.item
                if not a.alive or a.pending.get(k) != item.priority[1]:
                    continue
                if a.tier != t:
                    self.queues[a.tier].put(item)
                    continue
                if m - item.priority[1] > self.plays[k].max_wait:
                    del a.pending[k]
                    if m >= 0:
                        self.out["dropped"][m] += 1
                    continue
                live.append(item)
            used = 0
            for j, item in enumerate(live):
                a, k = item.item
                p = self.plays[k]
                hours = round(p.hours_by_tier[t] * 1000)
                if used + hours > capacity:
                    for rest in live[j:]:
                        store.put(rest)
                    break
                used += hours
                del a.pending[k]
                wait = m - item.priority[1]
                self._deliver(a, k, m, (1.0 - p.wait_decay) ** wait)
            yield env.timeout(1)

    def _churn_and_expansion(self, a: _Account, m: int, tenure: int) -> bool:
        sc, r = self.sc, self.rng
        b = sc.behaviour
        s = self.segs[a.seg]
        x = (a.health - 50.0) / 10.0
        mult_h = mult_e = 1.0
        for k, lv in a.level.items():
            p = self.plays[k]
            mult_h *= 1 + (p.hazard_multiplier - 1) * lv
            mult_e *= 1 + (p.expansion_multiplier - 1) * lv
        cp = b.churn
        eta = (s.churn_intercept + cp.health_slope * x
               + cp.early_life * (tenure < cp.early_life_months)
               + cp.tenure_slope * min(tenure, 36) / 12.0)
        names, tiers = sc.segment_names(), sc.tier_names()
        rc = {"voluntary_churn": 1.0, "early_life_churn": 1.0, "involuntary_churn": 1.0,
              "expansion": 1.0, "contraction": 1.0}
        for c in sc.retention_changes:
            if (c.segments is None or names[a.seg] in c.segments) and (
                c.tiers is None or tiers[a.tier] in c.tiers
            ):
                rc[c.target] *= c.multiplier
        pv = _sigmoid(eta) * mult_h * rc["voluntary_churn"]
        if tenure < cp.early_life_months:
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
            if u < pe:
                a.seats = math.ceil(a.seats * (1 + s.expansion_size) - 1e-9)
            elif u >= 1 - pc and (not a.annual or renew):
                a.seats = max(1.0, math.floor(a.seats * (1 - s.contraction_size) + 1e-9))
            a.mrr = a.seats * a.price
        return False

    def _churn(self, a: _Account, m: int, kind: str) -> None:
        a.alive = False
        a.mrr = 0.0
        a.pending.clear()
        if m >= 0:
            self.out[kind][m] += 1

    def books(self):
        yield self.env.timeout(0.9 + self.W)
        for m in range(self.sc.horizon_months):
            self.out["mrr_end"][m] = sum(a.mrr for a in self.accounts if a.alive)
            self.out["new_logos"][m] = sum(1 for a in self.accounts if a.acquired == m)
            yield self.env.timeout(1)

    # --------------------------------------------------------------------- run
    def run(self) -> dict[str, float]:
        sc = self.sc
        shares = [s.share for s in sc.segments]
        for j in range(sc.population.n_accounts):
            tenure0 = int(self.rng.random() * (sc.population.max_tenure_months + 1))
            a = self._new_account(j, -self.W - 1 - tenure0, shares)
            self.accounts.append(a)
            self.env.process(self.account(a, -self.W))
        self.env.process(self.acquisition())
        for t in range(len(sc.tiers)):
            self.env.process(self.team(t))
        self.env.process(self.books())
        self.env.run(until=self.W + sc.horizon_months)
        out = {k: float(sum(v)) for k, v in self.out.items() if k != "mrr_end"}
        out["revenue"] = float(sum(self.out["mrr_end"]))
        out["mrr_end"] = float(self.out["mrr_end"][-1])
        out["nrr"] = sum(a.mrr for a in self.cohort) / self.cohort_start
        out["grr"] = sum(min(a.mrr, s) for a, s in zip(self.cohort, self.cohort_mrr,
                                                        strict=True)) / self.cohort_start
        out["logos_churned"] = out["churned_voluntary"] + out["churned_involuntary"]
        return out


def run_oracle(scenario: Scenario, seed: int, replications: int) -> list[dict[str, float]]:
    """Run ``replications`` independent oracle replications (seeds ``seed + r``)."""
    return [OracleRun(scenario, seed * 100_003 + r).run() for r in range(replications)]
