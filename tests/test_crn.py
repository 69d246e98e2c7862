"""The common-random-numbers contract, tested directly (docstring of cs_sim/sim/rng.py).

Every random stream of a replication has its own key (engine components by their
:data:`~cs_sim.sim.rng.COMPONENTS` index, plays by the CRC-32 of their *name*) and
draws a fixed number of uniforms per slot and month. So:

* adding, removing or reordering a play (one that does not change the accounts'
  dynamics) leaves every other play's deliveries, replication by replication and month
  by month, and every account's draws (usage, tickets, champion changes, survey answers,
  churn, resizes, health) unchanged;
* each component reads its own documented stream and nothing else: the decisions of a
  run can be recomputed, account by account, from the documented generators;
* a change that acts through one component only leaves the outcomes of the others
  unchanged, account by account.

A self-comparison of a scenario with parameters given as distributions is exactly
zero: ``test_self_comparison_with_distributions_is_exactly_zero`` in
tests/test_uncertainty.py (and without distributions
``test_compare_with_itself_is_exactly_zero`` in tests/test_sim_engine.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm, poisson

from cs_sim.sim import compare, run_history, simulate
from cs_sim.sim.rng import component_generator
from cs_sim.sim.scenario import Scenario
from cs_sim.sim.scenario_io import load_scenario

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "scenarios"
ALL_TIERS = ["high_touch", "low_touch", "tech_touch"]
#: per-account columns of a history that come from the engine's random draws
DRAWN = ["segment", "tier", "contract", "mrr", "seats", "active_users", "active_share",
         "health", "failed_tickets", "champion_left", "churn"]
SEED = 31


def _noop(name: str, reach: float) -> dict[str, Any]:
    """An automated play without effect that draws from its own stream (reach < 1)."""
    return {"name": name, "kind": "time", "schedule": {"every_months": 1}, "tiers": ALL_TIERS,
            "owner": "automated", "hours": 0, "cost": 1.0, "reach": reach}


def _with_plays(sc: Scenario, plays: list[dict[str, Any] | str]) -> Scenario:
    """``sc`` with exactly these plays, in this order (a name keeps ``sc``'s play)."""
    data = sc.model_dump()
    own = {p["name"]: p for p in data["plays"]}
    data["plays"] = [own[p] if isinstance(p, str) else p for p in plays]
    return Scenario.model_validate(data)


@pytest.fixture(scope="module")
def base() -> Scenario:
    """The baseline, small, with two no-effect plays around its four (all drawing:
    detractor_email has reach 0.6)."""
    sc = load_scenario(TEMPLATES / "baseline.yaml").with_changes({
        "population": {"n_accounts": 300}, "horizon_months": 12,
        "acquisition": {"new_logos_per_month": 6},
    })
    return _with_plays(sc, [_noop("newsletter", 0.5), "qbr", "low_usage_check",
                            "champion_change", _noop("webinar", 0.3), "detractor_email"])


VARIANTS = {
    # a play taken out in front of the others: every later position shifts
    "remove": ["qbr", "low_usage_check", "champion_change", "webinar", "detractor_email"],
    # a play put in front of the others
    "add": [_noop("tips", 0.4), "newsletter", "qbr", "low_usage_check", "champion_change",
            "webinar", "detractor_email"],
    # the no-effect plays moved (the plays with effects keep their order)
    "reorder": ["webinar", "qbr", "low_usage_check", "champion_change", "detractor_email",
                "newsletter"],
}


@pytest.mark.parametrize("change", list(VARIANTS))
def test_other_plays_deliveries_do_not_move(base: Scenario, change: str) -> None:
    variant = _with_plays(base, VARIANTS[change])
    cmp = compare(base, variant, replications=3, seed=SEED)
    key = ["replication", "month", "play"]
    b = cmp.baseline.plays.set_index(key)
    v = cmp.variant.plays.set_index(key)
    common = b.index.intersection(v.index)
    shared = {p.name for p in base.plays} & {p.name for p in variant.plays}
    assert {p for _, _, p in common} == shared | {"onboarding"}
    cols = ["eligible", "requested", "delivered", "dropped", "hours", "cost"]
    pd.testing.assert_frame_equal(b.loc[common, cols], v.loc[common, cols], check_exact=True)
    assert b.loc[common, "delivered"].sum() > 0
    for name in ("newsletter", "webinar"):  # the no-effect plays that stay keep theirs too
        if name in shared:
            assert b.xs(name, level="play")["delivered"].sum() > 0
    # ... and nothing else moved: the books are the same
    d = cmp.differences.drop(columns=["replication", "roi"])
    moved = [c for c in d.columns if not (d[c].fillna(0.0) == 0.0).all()]
    assert set(moved) <= {"play_cost", "total_cost", "profit", "npv_horizon", "npv",
                          "terminal_value", "clv", "clv_segments", "plays_delivered"}


@pytest.mark.parametrize("change", list(VARIANTS))
def test_every_accounts_draws_do_not_move(base: Scenario, change: str) -> None:
    variant = _with_plays(base, VARIANTS[change])
    names = {p.name for p in base.plays} & {p.name for p in variant.plays}
    for rep in (0, 2):
        hb = run_history(base, SEED, replication=rep)
        hv = run_history(variant, SEED, replication=rep)
        pd.testing.assert_frame_equal(hb.panel[["slot", "month", *DRAWN]],
                                      hv.panel[["slot", "month", *DRAWN]], check_exact=True)
        pd.testing.assert_frame_equal(hb.surveys, hv.surveys, check_exact=True)
        pd.testing.assert_frame_equal(hb.acquisitions, hv.acquisitions, check_exact=True)
        kept = [h.plays[h.plays["play"].isin(names)].sort_values(["month", "slot", "play"],
                                                               ignore_index=True)
                for h in (hb, hv)]
        pd.testing.assert_frame_equal(*kept, check_exact=True)
        assert (hb.panel["churn"] != "").any() and len(kept[0]) > 100


# ---------------------------------------------------------------------------------------
# each component reads its own documented stream
@pytest.fixture(scope="module")
def constant() -> Scenario:
    """Constant hazards (no health, tenure or play terms), monthly contracts, no warm-up
    and no new logos: each month every component draws one uniform for each of the
    ``n`` starting slots, and each decision is a threshold on that uniform."""
    seg = {"name": "all", "annual_share": 0.0, "churn_intercept": -2.0,
           "involuntary_rate": 0.03, "expansion_intercept": -1.5,
           "contraction_intercept": -1.8, "tickets_per_seat": 0.05,
           "employees": {"median": 40, "sigma": 0.5}, "price_per_seat": 10.0}
    return Scenario.model_validate({
        "name": "constant", "horizon_months": 6, "warmup_months": 0,
        "population": {"n_accounts": 400}, "segments": [seg],
        "behaviour": {
            "churn": {"health_slope": 0.0, "early_life": 0.0, "tenure_slope": 0.0},
            "expansion": {"expansion_health_slope": 0.0, "contraction_health_slope": 0.0},
            "usage": {"health_slope": 0.0},
            "surveys": {"nps_response_rate": 0.2, "nps_health_slope": 0.0},
            "support": {"champion_leave_rate": 0.05},
        },
    })


def _documented_uniforms(seed: int, rep: int, component: str, n: int, months: int) -> np.ndarray:
    """``(months, n)``: the component's float32 uniforms, ``n`` a month (rng.py)."""
    g = component_generator(seed, rep, component)
    return np.stack([g.random(n, dtype=np.float32) + np.float32(2**-25) for _ in range(months)])


def _sigmoid(v: float) -> float:
    return 1.0 / (1.0 + np.exp(-v))


@pytest.mark.parametrize("rep", [0, 3])
def test_each_component_reads_its_own_documented_stream(constant: Scenario, rep: int) -> None:
    sc = constant
    s, b = sc.segments[0], sc.behaviour
    n, H = sc.population.n_accounts, sc.horizon_months
    h = run_history(sc, SEED, replication=rep)
    p = h.panel.set_index(["month", "slot"])
    u = {c: _documented_uniforms(SEED, rep, c, n, H)
         for c in ("usage", "support", "events", "surveys", "churn", "expansion")}
    m, i = (p.index.get_level_values(k).to_numpy() for k in ("month", "slot"))

    def near(x: np.ndarray, edge: float) -> np.ndarray:  # too close to call in float32
        return np.abs(x - edge) < 1e-5

    # churn: voluntary if u < p, else involuntary if u >= 1 - q (every month: monthly)
    uc = u["churn"][m, i].astype(float)
    pv, q = _sigmoid(s.churn_intercept), s.involuntary_rate
    want = np.where(uc < pv, "voluntary", np.where(uc >= 1 - q, "involuntary", ""))
    ok = ~near(uc, pv) & ~near(uc, 1 - q)
    assert ok.mean() > 0.999
    np.testing.assert_array_equal(p["churn"].to_numpy()[ok], want[ok])
    assert (want == "voluntary").sum() > 100 and (want == "involuntary").sum() > 20
    # expansion and contraction of the survivors: u < pe expands, u >= 1 - pc contracts
    ue = u["expansion"][m, i].astype(float)
    pe, pc = _sigmoid(s.expansion_intercept), _sigmoid(s.contraction_intercept)
    start = p["seats"].to_numpy() * s.price_per_seat
    grew = np.sign(p["mrr"].to_numpy() - start)
    alive = p["churn"].to_numpy() == ""
    can_shrink = p["seats"].to_numpy() > 1
    want_e = np.where(ue < pe, 1, np.where((ue >= 1 - pc) & can_shrink, -1, 0))
    ok = alive & ~near(ue, pe) & ~near(ue, 1 - pc)
    np.testing.assert_array_equal(grew[ok], want_e[ok])
    assert (want_e[ok] == 1).sum() > 100 and (want_e[ok] == -1).sum() > 100
    # champion changes: u < champion_leave_rate
    ev = u["events"][m, i]
    np.testing.assert_array_equal(p["champion_left"].to_numpy(),
                                  ev < np.float32(b.support.champion_leave_rate))
    # NPS answers: u < rate; score clip(round(a + s Z)), Z = Phi^-1(u / rate)
    us = u["surveys"]
    rate = np.float32(b.surveys.nps_response_rate)
    mm, ii = np.nonzero(us < rate)
    nps = h.surveys[h.surveys["kind"] == "nps"]
    present = p.index.isin(list(zip(mm, ii, strict=True)))
    assert sorted(zip(nps["month"], nps["slot"], strict=True)) == sorted(p.index[present])
    z = norm.ppf(us[nps["month"].to_numpy(), nps["slot"].to_numpy()].astype(float) / float(rate))
    raw = b.surveys.nps_intercept + b.surveys.nps_noise_sd * z
    score = np.clip(np.rint(raw), 0, 10)
    ok = np.abs(raw - np.floor(raw) - 0.5) > 1e-4
    np.testing.assert_array_equal(nps["score"].to_numpy()[ok], score[ok])
    # usage: active share sigma(a + noise_sd * eps), eps = logit(u) * sqrt(3) / pi
    uu = u["usage"][m, i].astype(float)
    eps = np.log(uu / (1 - uu)) * np.sqrt(3) / np.pi
    share = _sigmoid(s.active_share_intercept + b.usage.noise_sd * eps)
    np.testing.assert_allclose(p["active_share"].to_numpy(), share, rtol=1e-5)
    # failed tickets: the Poisson(tickets_per_seat (1 - fcr) seats) quantile of u
    lam = s.tickets_per_seat * (1 - b.support.fcr) * p["seats"].to_numpy()
    fails = poisson.ppf(u["support"][m, i].astype(float), lam)
    got = p["failed_tickets"].to_numpy()
    assert (np.abs(got - fails) <= 1).all() and (got == fails).mean() > 0.999
    assert got.sum() > 100


# ---------------------------------------------------------------------------------------
# a change acting through one component leaves the others' outcomes unchanged
@pytest.fixture(scope="module")
def one_tier() -> Scenario:
    """The baseline in one tier without failed-ticket penalty and without CSM plays, so
    that seats feed back into nothing but MRR and one account's churn into nothing
    but its own history."""
    sc = load_scenario(TEMPLATES / "baseline.yaml")
    data = sc.model_dump()
    data["tiers"] = [{"name": "everyone", "team": {"headcount": 2}}]
    data["onboarding"] = {"hours": {}, "effect": {"hazard_multiplier": 0.8, "health": 5}}
    data["plays"] = [dict(_noop("detractor_email", 0.6), kind="trigger", schedule=None,
                          trigger={"event": "detractor"}, tiers=["everyone"],
                          effect={"hazard_multiplier": 0.9, "health": 3})]
    data["population"]["n_accounts"] = 400
    data["horizon_months"] = 12
    data["acquisition"]["new_logos_per_month"] = 8
    data["behaviour"]["health"]["failed_ticket_penalty"] = 0.0
    return Scenario.model_validate(data)


CHANGES = {
    "expansion": ({"expansion_intercept": -2.0, "expansion_size": 0.5},
                  ["churn", "health", "active_share", "champion_left"], "seats"),
    "churn": ({"churn_intercept": -2.5}, ["health", "active_share", "champion_left", "seats",
                                          "mrr"], "churn"),
}


@pytest.mark.parametrize("which", list(CHANGES))
def test_a_change_of_one_component_leaves_the_others_unchanged(one_tier: Scenario,
                                                                which: str) -> None:
    change, same, differs = CHANGES[which]
    variant = one_tier.with_changes({"segments": [{"name": s.name, **change}
                                                  for s in one_tier.segments]})
    for rep in (0, 1):  # both from the baseline's warm-up, as compare runs them
        hb, hv = (simulate(sc, replications=2, seed=SEED, record=rep, warmup=one_tier).history
                  for sc in (one_tier, variant))
        key = ["slot", "month"]
        both = hb.panel.merge(hv.panel, on=key, suffixes=("_b", "_v"))
        assert (both[f"{differs}_b"] != both[f"{differs}_v"]).any()  # the change acted
        if which == "churn":  # the accounts' months while alive in both runs
            both = both[(both["churn_b"] == "") & (both["churn_v"] == "")]
        assert len(both) > 3000
        for col in same:
            np.testing.assert_array_equal(both[f"{col}_b"].to_numpy(), both[f"{col}_v"].to_numpy(),
                                          err_msg=col)
        answers = [h.surveys[h.surveys["kind"] == "nps"].merge(both[key], on=key)
                   for h in (hb, hv)]
        pd.testing.assert_frame_equal(*answers, check_exact=True)
