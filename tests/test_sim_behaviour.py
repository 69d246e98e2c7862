"""Behaviour of the simulator against magnitudes worked out by hand from its equations.

Each test runs a scenario stripped to the equation it checks (constant hazards, no
warm-up, no new logos) and compares what the engine did, account by account, with the
equation of cs_sim/sim/model.py (its docstring). They catch errors that a statistical
comparison with the oracle (tests/test_sim_oracle.py) sees only faintly; the
mutation check (tools/mutation_check.py) shows which test catches which error.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cs_sim.sim import run_history, simulate
from cs_sim.sim.scenario import Scenario

SEED = 8


def _sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _constant(*, n: int, months: int, segment: dict[str, Any], **extra: Any) -> Scenario:
    """One segment of monthly contracts whose hazards do not depend on health or tenure."""
    seg = {"name": "all", "annual_share": 0.0, "involuntary_rate": 0.0, **segment}
    return Scenario.model_validate({
        "name": "constant", "horizon_months": months, "warmup_months": 0,
        "population": {"n_accounts": n}, "segments": [seg],
        "behaviour": {
            "churn": {"health_slope": 0.0, "early_life": 0.0, "tenure_slope": 0.0},
            "expansion": {"expansion_health_slope": 0.0, "contraction_health_slope": 0.0},
        },
        **extra,
    })


def _tenure(h: Any) -> pd.Series:
    acquired = h.accounts.set_index("slot")["acquired_month"]
    return h.panel["month"] - h.panel["slot"].map(acquired)


def test_a_plays_effect_halves_every_half_life() -> None:
    # monthly hazard p = 0.08; a play delivered when tenure % 4 == 0 (automated, reach 1)
    # sets its level L = 1, which halves every half-life h = 1 month: d months after a
    # delivery the hazard is p (1 + (m - 1) 0.5 ** (d / h)) with m = 0.02, i.e. p times
    # 0.02, 0.51, 0.755, 0.8775 for d = 0..3 (churn is decided after the month's plays)
    p, mult, half = 0.08, 0.02, 1.0
    play = {"name": "check_in", "kind": "time", "schedule": {"every_months": 4},
            "tiers": ["tech_touch"], "owner": "automated", "hours": 0,
            "effect": {"hazard_multiplier": mult}, "decay": {"half_life_months": half}}
    sc = _constant(n=4000, months=12, segment={"churn_intercept": _logit(p)}, plays=[play])
    h = run_history(sc, SEED)
    panel = h.panel.assign(d=_tenure(h) % 4)
    # the account-months whose latest delivery was d = tenure % 4 months ago
    delivered = set(zip(h.plays["slot"], h.plays["month"], strict=True))
    since = [(s, mo - d) in delivered for s, mo, d in
             zip(panel["slot"], panel["month"], panel["d"], strict=True)]
    rows = panel[np.array(since)]
    assert len(rows) > 20_000
    for d, g in rows.groupby("d"):
        want = p * (1 + (mult - 1) * 0.5 ** (d / half))
        rate = (g["churn"] == "voluntary").mean()
        se = math.sqrt(want * (1 - want) / len(g))
        assert abs(rate - want) < 4 * se, (d, rate, want)
    # with a four times longer half-life, d = 1 would be 0.176 p, not 0.51 p


def test_survivors_expand_and_contract_at_their_own_rates_whatever_the_churn() -> None:
    # voluntary churn p = 0.3 a month; the survivors expand with probability pe = 0.25
    # and contract with pc = 0.2, from a uniform of their own: among the survivors'
    # months, 25% expand and 20% contract (those with more than one seat), whatever the
    # churn draw was (were churn and resize to share a uniform, no survivor would expand)
    pv, pe, pc = 0.3, 0.25, 0.2
    sc = _constant(n=3000, months=6, segment={
        "churn_intercept": _logit(pv), "expansion_intercept": _logit(pe),
        "contraction_intercept": _logit(pc), "employees": {"median": 40, "sigma": 0.3}})
    h = run_history(sc, SEED)
    price = sc.segments[0].price_per_seat
    alive = h.panel[(h.panel["churn"] == "") & (h.panel["seats"] > 1)]
    change = np.sign(alive["mrr"] - alive["seats"] * price)
    n = len(alive)
    assert n > 5000
    for share, want in (((change > 0).mean(), pe), ((change < 0).mean(), pc)):
        assert abs(share - want) < 4 * math.sqrt(want * (1 - want) / n), (share, want)
    churned = (h.panel["churn"] == "voluntary").mean()
    assert abs(churned - pv) < 4 * math.sqrt(pv * (1 - pv) / len(h.panel))


def test_usage_and_health_follow_their_equations_account_by_account() -> None:
    # x = (h_{m-1} - 50) / 10; active_share = sigma(a + b x + s eps) gives each
    # account-month's shock eps; then h_m = clip(h_{m-1} + r (mean - h_{m-1}) + sd eps
    # - 3 F - 15 champion, 0, 100), plus effect.health (1 - wait_decay) ** w for a play
    # delivered after waiting w whole months (clipped again)
    play = {"name": "call", "kind": "time", "schedule": {"every_months": 1},
            "tiers": ["tech_touch"], "hours": 2, "max_wait_months": 2, "wait_decay": 0.5,
            "effect": {"health": 6.0}}
    sc = _constant(n=1500, months=6, segment={"churn_intercept": -4.0,
                                              "tickets_per_seat": 0.08},
                   plays=[play], tiers=[{"name": "tech_touch",
                                         "team": {"headcount": 1, "hours_per_month": 2000}}],
                   behaviour={"support": {"champion_leave_rate": 0.05}})
    s, b = sc.segments[0], sc.behaviour
    h = run_history(sc, SEED)
    prev = h.panel.assign(month=h.panel["month"] + 1)[["slot", "month", "health"]]
    rows = h.panel.merge(prev, on=["slot", "month"], suffixes=("", "_prev"))
    got = h.plays.assign(whole=np.floor(h.plays["wait_months"]))[["slot", "month", "whole"]]
    rows = rows.merge(got, on=["slot", "month"], how="left")
    h0 = rows["health_prev"].to_numpy(dtype=float)
    x = (h0 - 50.0) / 10.0
    share = rows["active_share"].to_numpy(dtype=float)
    eps = (np.log(share / (1 - share)) - s.active_share_intercept - b.usage.health_slope * x)
    eps /= b.usage.noise_sd
    hp = b.health
    want = np.clip(h0 + hp.reversion * (s.health_mean - h0) + hp.noise_sd * eps
                   - hp.failed_ticket_penalty * rows["failed_tickets"]
                   - hp.champion_leave_penalty * rows["champion_left"], 0.0, 100.0)
    w = rows["whole"].to_numpy()
    delivered = ~np.isnan(w)
    want = np.where(delivered, np.clip(want + 6.0 * 0.5 ** np.nan_to_num(w), 0.0, 100.0), want)
    np.testing.assert_allclose(rows["health"].to_numpy(dtype=float), want, atol=0.02)
    # the equation was exercised: shocks, tickets, champions, deliveries after waits
    assert rows["failed_tickets"].sum() > 300 and rows["champion_left"].sum() > 200
    assert (w == 0).sum() > 500 and (w >= 1).sum() > 500
    assert np.corrcoef(h0, share)[0, 1] > 0.2  # healthier accounts use more


def test_nps_rises_with_health_by_its_slope() -> None:
    # score = clip(round(a + b x + s Z), 0, 10) with a = 5, b = 0.6, s = 1: far from the
    # clips, the least-squares slope of the answers on x is b (rounding adds noise only)
    sc = _constant(n=3000, months=6, segment={"churn_intercept": -5.0, "health_sd": 15.0},
                   behaviour={"surveys": {"nps_response_rate": 0.5, "nps_intercept": 5.0,
                                          "nps_health_slope": 0.6, "nps_noise_sd": 1.0}})
    h = run_history(sc, SEED)
    prev = h.panel.assign(month=h.panel["month"] + 1)[["slot", "month", "health"]]
    nps = h.surveys[h.surveys["kind"] == "nps"].merge(prev, on=["slot", "month"])
    x = (nps["health"].to_numpy(dtype=float) - 50.0) / 10.0
    fit = stats.linregress(x, nps["score"].to_numpy(dtype=float))
    assert len(nps) > 5000 and abs(fit.slope - 0.6) < 4 * fit.stderr + 0.02


def test_a_play_reaches_its_share_of_the_due_accounts() -> None:
    # an automated play due every month for everyone, reach 0.3: delivered in 30% of
    # the account-months (tenure >= 1: every starting customer)
    play = {"name": "tip", "kind": "time", "schedule": {"every_months": 1},
            "tiers": ["tech_touch"], "owner": "automated", "hours": 0, "reach": 0.3}
    sc = _constant(n=2000, months=6, segment={"churn_intercept": -5.0}, plays=[play])
    h = run_history(sc, SEED)
    n = len(h.panel)
    share = len(h.plays) / n
    assert abs(share - 0.3) < 4 * math.sqrt(0.3 * 0.7 / n)


@pytest.mark.parametrize(("size", "seats", "want"), [
    ({"expansion_size": 0.2, "expansion_intercept": 5.0}, 5, 6),  # ceil(5 x 1.2) = 6
    ({"expansion_size": 0.2, "expansion_intercept": 5.0}, 20, 24),  # ceil(20 x 1.2) = 24
    ({"contraction_size": 0.1, "contraction_intercept": 5.0}, 10, 9),  # floor(10 x 0.9) = 9
])
def test_seats_resize_by_the_documented_rounding(size: dict, seats: int, want: int) -> None:
    # every account has `seats` seats (employees x seat_share, no spread); the
    # resize is near certain (intercept 5: probability 0.993), the other one and churn
    # practically impossible (intercept -30)
    seg = {"churn_intercept": -30.0, "employees": {"median": seats * 10, "sigma": 0.0},
           "seat_share": 0.1, "expansion_intercept": -30.0, "contraction_intercept": -30.0,
           **size}
    sc = _constant(n=200, months=2, segment=seg)
    h = run_history(sc, SEED)
    first = h.panel[h.panel["month"] == 0]
    assert (first["seats"] == seats).all()
    resized = h.panel[(h.panel["month"] == 1) & (h.panel["seats"] != seats)]
    assert len(resized) > 150
    assert set(resized["seats"]) == {want}


def test_a_scenario_without_plays_runs_its_warm_up() -> None:
    # the Scenario defaults: no onboarding, no plays; new logos during the warm-up
    sc = Scenario(population={"n_accounts": 50}, acquisition={"new_logos_per_month": 3},
                  horizon_months=3)
    res = simulate(sc, replications=1, seed=1)
    m = res.monthly
    assert (m["accounts_start"] + m["new_logos"] - m["churned"] == m["accounts_end"]).all()


def test_a_missing_value_never_satisfies_a_condition() -> None:
    # nps_score is NaN until an account answers a survey: "!=" must not hold for it
    from cs_sim.sim.plays import condition_mask

    score = np.array([np.nan, 5.0, 7.0], dtype=np.float32)
    for op, want in (("!=", [False, False, True]), ("==", [False, True, False]),
                     ("<=", [False, True, False]), (">=", [False, True, True])):
        got = condition_mask((("nps_score", op, 5.0),), {"nps_score": score}, (3,))
        assert got.tolist() == want, op
