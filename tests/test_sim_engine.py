"""Array engine and runners: determinism, chunking, common random numbers, capacity,
books, histories, dataset starts."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import cs_sim
from cs_sim.errors import CsSimError, ScenarioError
from cs_sim.sim import combine_chunks, compare, run_chunk, run_history, simulate
from cs_sim.sim.capacity import serve_queue
from cs_sim.sim.numerics import poisson_ppf, poisson_ppf_dense
from cs_sim.sim.scenario import Scenario
from cs_sim.sim.scenario_io import load_scenario

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "scenarios"


@pytest.fixture(scope="module")
def small() -> Scenario:
    """The baseline, shrunk: 300 accounts, 12 months, 6 new logos a month."""
    return load_scenario(TEMPLATES / "baseline.yaml").with_changes({
        "population": {"n_accounts": 300},
        "horizon_months": 12,
        "acquisition": {"new_logos_per_month": 6},
        "tiers": [{"name": "high_touch", "rule": [{"attribute": "arr", "op": ">=",
                                                    "value": 40000}],
                   "team": {"headcount": 1}}],
    })


def _frames(res):
    return (res.monthly, res.tiers, res.plays, res.per_replication)


def test_same_seed_same_numbers_bit_for_bit(small: Scenario) -> None:
    a = simulate(small, replications=3, seed=11)
    b = simulate(small, replications=3, seed=11)
    for fa, fb in zip(_frames(a), _frames(b), strict=True):
        pd.testing.assert_frame_equal(fa, fb, check_exact=True)
    c = simulate(small, replications=3, seed=12)
    assert not a.monthly["mrr_end"].equals(c.monthly["mrr_end"])


def test_chunks_concatenate_to_the_single_run(small: Scenario) -> None:
    whole = simulate(small, replications=5, seed=7)
    parts = [run_chunk(small, 7, [3, 4]), run_chunk(small, 7, [0]), run_chunk(small, 7, [1, 2])]
    joined = combine_chunks(small, 7, parts)
    one_by_one = simulate(small, replications=5, seed=7, chunk_size=1)
    for fw, fj, fo in zip(_frames(whole), _frames(joined), _frames(one_by_one), strict=True):
        pd.testing.assert_frame_equal(fw, fj, check_exact=True)
        pd.testing.assert_frame_equal(fw, fo, check_exact=True)


def test_compare_with_itself_is_exactly_zero(small: Scenario) -> None:
    cmp = compare(small, small, replications=3, seed=5)
    d = cmp.differences.drop(columns=["replication", "roi"])
    assert (d.fillna(0.0).to_numpy() == 0.0).all()
    s = cmp.summary()
    assert s.loc["logos_churned", "diff"] == 0.0 and s.loc["nrr", "ci_hi"] == 0.0


def test_zero_effect_play_changes_only_cost(small: Scenario) -> None:
    # an automated play with no effect: CRN makes churn and MRR identical, cost grows by
    # exactly deliveries x cost
    noop = {"name": "newsletter", "kind": "time", "schedule": {"every_months": 1},
            "tiers": ["high_touch", "low_touch", "tech_touch"], "owner": "automated",
            "hours": 0, "cost": 2.5, "reach": 0.5}
    variant = small.with_changes({"plays": [noop]})
    cmp = compare(small, variant, replications=3, seed=9)
    b, v = cmp.baseline.monthly, cmp.variant.monthly
    for col in ("churned_voluntary", "churned_involuntary", "new_logos", "mrr_end",
                "expansion_mrr", "contraction_mrr", "churned_mrr", "mean_health"):
        pd.testing.assert_series_equal(b[col], v[col], check_exact=True)
    sent = cmp.variant.plays.query("play == 'newsletter'")
    assert sent["delivered"].sum() > 0
    extra = (v["total_cost"] - b["total_cost"]).to_numpy()
    per_month = sent.groupby(["replication", "month"])["delivered"].sum().to_numpy() * 2.5
    np.testing.assert_allclose(extra, per_month, rtol=0, atol=1e-6)
    assert cmp.summary().loc["roi", "diff"] == -1.0  # pure cost, no gain


def test_zero_csms_deliver_no_csm_work(small: Scenario) -> None:
    sc = small.with_changes({"tiers": [{"name": t, "team": {"headcount": 0}}
                                       for t in ("high_touch", "low_touch", "tech_touch")]})
    res = simulate(sc, replications=2, seed=3)
    iv = res.plays.groupby("play")[["requested", "delivered", "dropped"]].sum()
    for name in ("qbr", "champion_change", "low_usage_check"):
        assert iv.loc[name, "delivered"] == 0
    assert iv.loc["qbr", "requested"] > 0 and iv.loc["qbr", "dropped"] > 0
    # onboarding of tech-touch accounts and the detractor email are automated
    assert iv.loc["detractor_email", "delivered"] > 0
    assert (res.tiers["hours_used"] == 0).all()


def test_tripling_saturated_capacity_shortens_waits(small: Scenario) -> None:
    # after the warm-up, demand is ~136 CSM hours a month: one CSM with 60 h is
    # saturated, three are not
    one = small.with_changes({"tiers": [{"name": "high_touch",
                                         "team": {"headcount": 1, "hours_per_month": 60}}]})
    two = one.with_changes({"tiers": [{"name": "high_touch", "team": {"headcount": 3}}]})
    cmp = compare(one, two, replications=4, seed=21)
    t1 = cmp.baseline.tiers.query("tier == 'high_touch'")
    t2 = cmp.variant.tiers.query("tier == 'high_touch'")
    # saturated: work is left waiting every month (strict order leaves a few hours idle)
    assert t1["utilisation"].mean() > 0.85 and (t1["queued"] > 0).mean() > 0.8
    wait1 = t1["wait_sum_months"].sum() / t1["delivered"].sum()
    wait2 = t2["wait_sum_months"].sum() / t2["delivered"].sum()
    assert wait2 < 0.7 * wait1
    assert t2["dropped"].sum() < t1["dropped"].sum()
    assert t2["delivered"].sum() > t1["delivered"].sum()


def test_positive_effect_lowers_churn(small: Scenario) -> None:
    save = {"name": "save", "kind": "data", "tiers": ["high_touch", "low_touch", "tech_touch"],
            "condition": [{"metric": "health", "op": "<", "value": 55}], "owner": "automated",
            "hours": 0, "cooldown_months": 1, "effect": {"hazard_multiplier": 0.3}}
    cmp = compare(small, small.with_changes({"plays": [save]}), replications=6,
                  seed=4)
    d = cmp.differences
    assert d["logos_churned"].mean() < 0
    assert (d["logos_churned"] <= 0).mean() >= 5 / 6
    assert cmp.summary().loc["logos_churned", "ci_hi"] < 0


def test_retention_change_and_loyalty(small: Scenario) -> None:
    half = small.with_changes({"retention_changes": [
        {"name": "half", "target": "voluntary_churn", "multiplier": 0.5, "cost_per_month": 10}]})
    cmp = compare(small, half, replications=4, seed=8)
    assert cmp.differences["churned_voluntary"].mean() < 0
    np.testing.assert_allclose(cmp.differences["programme_cost"], 10 * 12)
    loyal = small.with_changes({"loyalty": {"enabled": True, "referral_rate": 0.2,
                                            "join_min_score": 8}})
    res = simulate(loyal, replications=2, seed=8)
    base = simulate(small, replications=2, seed=8)
    assert res.monthly["members"].iloc[-1] > 0
    assert res.per_replication["new_logos"].sum() > base.per_replication["new_logos"].sum()


def test_books_balance(small: Scenario) -> None:
    res = simulate(small, replications=3, seed=2)
    m = res.monthly
    lhs = m["mrr_start"] + m["new_mrr"] + m["expansion_mrr"] - m["contraction_mrr"] \
        - m["churned_mrr"]
    np.testing.assert_allclose(lhs, m["mrr_end"], rtol=1e-12)
    assert (m["accounts_start"] + m["new_logos"] - m["churned"] == m["accounts_end"]).all()
    for _, g in m.groupby("replication"):
        np.testing.assert_array_equal(g["mrr_start"].to_numpy()[1:], g["mrr_end"].to_numpy()[:-1])
    assert (res.tiers.groupby(["replication", "month"])["accounts"].sum().to_numpy()
            == m["accounts_end"].to_numpy()).all()
    s = res.summary()
    assert s.loc["grr", "lo"] <= s.loc["grr", "mean"] <= s.loc["grr", "hi"] <= 1.0
    assert list(m["date"].iloc[:2]) == [pd.Timestamp("2025-01-01"), pd.Timestamp("2025-02-01")]


def test_poisson_inverse_cdfs_match_scipy() -> None:
    from scipy.stats import poisson

    rng = np.random.default_rng(0)
    u = rng.random((3, 4000)).astype(np.float32)
    lam = (rng.random((3, 4000)) * 4).astype(np.float32)
    got = poisson_ppf_dense(u, lam, np.empty_like(u), np.empty_like(u))
    want = poisson.ppf(u.astype(float), lam.astype(float))
    assert (np.abs(got - want) <= 1).all() and (got == want).mean() > 0.999  # float32 cdf
    u64 = rng.random(50)
    lam64 = rng.random(50) * 300
    np.testing.assert_array_equal(poisson_ppf(u64, lam64), poisson.ppf(u64, lam64))


def test_uniform_stream_equals_numpy_float32_uniforms() -> None:
    # the bulk stream must give NumPy's own float32 uniforms (+ 2**-25), call after call,
    # with odd counts carrying a half 64-bit word over to the next call
    from cs_sim.sim.rng import UniformStream, to_uniform, words_below

    def gens() -> list[np.random.Generator]:
        return [np.random.Generator(np.random.PCG64DXSM(s)) for s in (3, 4)]

    ref, stream = gens(), UniformStream(gens(), 20)
    for n in (7, 8, 1, 0, 13, 20, 3):
        want = np.stack([g.random(n, dtype=np.float32) for g in ref]) + np.float32(2**-25)
        np.testing.assert_array_equal(stream.uniform(n), want)
    k = np.arange(2**24, dtype=np.uint32)[::997]
    u = to_uniform(k)
    for p in (0.0, 0.01, 0.08, 0.6, 1.0):
        assert ((k < words_below(p)) == (u < p)).all()


def test_serve_queue_by_hand() -> None:
    # one replication, capacity 10 units; requests (priority, since, slot, hours):
    # a(1,0,5,4) b(0,1,9,3) c(1,0,2,4) d(1,1,1,1) -> order b, c, a, d; cumulative 3, 7, 11
    # -> b and c served, a (and d behind it) wait: strict order
    rep = np.zeros(4, dtype=np.int64)
    prio = np.array([1, 0, 1, 1])
    since = np.array([0, 1, 0, 1])
    slot = np.array([5, 9, 2, 1])
    hours = np.array([4, 3, 4, 1])
    order, served, before = serve_queue(rep, prio, since, slot, hours, np.array([10]))
    assert list(order) == [1, 2, 0, 3]
    assert list(served) == [True, True, False, False]
    assert list(before) == [0, 3, 7, 11]



def test_numeric_helpers_against_numpy_and_scipy() -> None:
    from scipy.stats import norm

    from cs_sim.sim.numerics import count_rows, nonzero_2d, norm_ppf, sigmoid_

    rng = np.random.default_rng(1)
    v = rng.normal(size=(3, 50)) * 4
    w = v.copy()
    assert sigmoid_(w) is w  # in place
    np.testing.assert_allclose(w, 1.0 / (1.0 + np.exp(-v)), rtol=1e-12)
    mask = rng.random((4, 37)) < 0.3
    r, i = nonzero_2d(mask[:, ::2])  # a non-contiguous view
    er, ei = np.nonzero(mask[:, ::2])
    assert r.tolist() == er.tolist() and i.tolist() == ei.tolist()
    assert count_rows(mask).tolist() == mask.sum(axis=1).tolist()
    u = np.array([0.0, 1e-3, 0.5, 0.975, 1.0])
    np.testing.assert_allclose(norm_ppf(u), norm.ppf(np.clip(u, 1e-12, 1 - 1e-12)))


def test_play_schedule_and_churn_equations_by_hand() -> None:
    from cs_sim.sim import model
    from cs_sim.sim.plays import RETENTION_TARGETS
    from cs_sim.sim.scenario import ChurnParams, Loyalty

    tenure = np.arange(10)
    assert np.flatnonzero(model.due_by_schedule(tenure, 3, 1)).tolist() == [1, 4, 7]
    assert np.flatnonzero(model.due_by_schedule(tenure, 3, 0)).tolist() == [3, 6, 9]
    assert model.cooled_down(10, np.array([7, 8, 9]), 2).tolist() == [True, True, False]
    # voluntary hazard against the formula, in float64
    f4 = np.float32
    x = np.array([[-1.0, 0.5, 2.0]], f4)
    ten = np.array([[2.0, 12.0, 48.0]], f4)
    cp = ChurnParams(health_slope=-0.4, early_life_months=6, early_life=0.5, tenure_slope=-0.2)
    retention = dict.fromkeys(RETENTION_TARGETS)
    retention["voluntary_churn"] = np.array([[2.0]])  # one segment x one tier
    member = np.array([[False, True, False]])
    inv = np.full((1, 3), 0.01, f4)
    zero = np.zeros((1, 3), np.intp)
    pv, q = model.churn_hazards(
        x, ten, np.full((1, 3), -3.0, f4), inv, cp, cells=(zero, zero), retention=retention,
        play_hazard=None, member=member, loyalty=Loyalty(enabled=True, hazard_multiplier=0.5),
        out=np.empty_like(x), tmp=np.empty_like(x),
    )
    x64, t64 = x.astype(float), ten.astype(float)
    v = -3.0 - 0.4 * x64 + 0.5 * (t64 < 6) - 0.2 * np.minimum(t64, 36) / 12
    want = 2.0 / (1.0 + np.exp(-v)) * np.where(member, 0.5, 1.0)
    np.testing.assert_allclose(pv, want, rtol=1e-5)
    assert q is inv  # no involuntary multiplier
    # monthly contracts decide on p and q, annual ones at renewal on the term's hazard:
    # twelve months at p = 0.1, q = 0.01: 1 - 0.9**12 = 0.718 and 1 - 0.99**12 = 0.114
    params = np.full((1, 8), 0.01, f4)
    q = params[:, :5]  # a view of per-slot parameters: must stay unchanged
    p = np.full((1, 5), 0.1, f4)
    u = np.array([[0.5, 0.5, 0.95, 0.01, 0.01]], f4)
    active = np.array([[True, True, True, True, False]])
    annual = np.array([[False, True, True, True, False]])
    renew = np.array([[False, True, True, False, False]])
    survival = (np.ones((1, 5), f4), np.ones((1, 5), f4))
    for _ in range(11):
        model.accumulate_term(survival, (p, q), in_term=active & annual, tmp=np.empty_like(p))
    # the first simulated month of a term begun earlier counts its earlier months
    fresh = (np.ones((1, 5), f4), np.ones((1, 5), f4))
    model.accumulate_term(fresh, (p, q), in_term=active & annual, tmp=np.empty_like(p),
                          months=np.full((1, 5), 12.0, f4))
    model.accumulate_term(survival, (p, q), in_term=active & annual, tmp=np.empty_like(p))
    np.testing.assert_allclose(survival[0], [[1, 0.9**12, 0.9**12, 0.9**12, 1]], rtol=1e-5)
    np.testing.assert_allclose(fresh[1], survival[1], rtol=1e-5)
    vol, inv_ = model.decide_churn(u, p, q, active=active, annual=annual, renew=renew,
                                   survival=survival)
    assert vol.tolist() == [[False, True, False, False, False]]
    assert inv_.tolist() == [[False, False, True, False, False]]
    assert (params == f4(0.01)).all()
    # the renewing accounts start a new term; the one in mid-term keeps its survival
    np.testing.assert_allclose(survival[0], [[1, 1, 1, 0.9**12, 1]], rtol=1e-5)
    # the term's hazard, not the renewal month's: 11 months at p = 0.1 then one at 0.5
    # gives 1 - 0.9**11 * 0.5 = 0.843, where the renewal month alone would give
    # 1 - 0.5**12 ~ 1.0
    s = (np.ones((1, 1), f4), np.ones((1, 1), f4))
    one = np.ones((1, 1), bool)
    for pm in [0.1] * 11 + [0.5]:
        model.accumulate_term(s, (np.full((1, 1), pm, f4), np.zeros((1, 1), f4)), in_term=one,
                              tmp=np.empty((1, 1), f4))
    pv = np.full((1, 1), 0.5, f4)
    vol, _ = model.decide_churn(np.full((1, 1), 0.84, f4), pv, np.zeros((1, 1), f4),
                                active=one, annual=one, renew=one, survival=s)
    assert pv[0, 0] == pytest.approx(1 - 0.9**11 * 0.5, rel=1e-5) and vol[0, 0]


def test_work_queue_serves_in_order_drops_and_books() -> None:
    from cs_sim.sim.capacity import NO_REQUEST, WorkQueue

    plays = [SimpleNamespace(uses_csm=True, hours_by_tier=np.array([2.0]), max_wait=1, priority=0),
             SimpleNamespace(uses_csm=True, hours_by_tier=np.array([3.0]), max_wait=0, priority=1)]
    queue = WorkQueue(plays, 1, 6, [4.0])  # one replication, 6 slots, 4 hours a month
    tier = np.zeros((1, 6), dtype=np.int8)
    tiers = {k: np.zeros((1, 3, 1)) for k in ("capacity_hours", "dropped", "hours_used",
                                              "delivered", "wait_sum", "queued")}
    books = {k: np.zeros((1, 3, 2)) for k in ("dropped", "hours")}
    queue.add(0, np.array([0, 0, 0]), np.array([1, 3, 5]), 0)
    queue.add(1, np.array([0]), np.array([2]), 0)
    # month 0: priority 0 first, by slot: slots 1 and 3 fill the 4 hours; 5 and play 1 wait
    queue.collect(tier)
    k, _, i, wait, w_months = queue.serve(0, 0, tiers, books)
    assert k.tolist() == [0, 0] and i.tolist() == [1, 3] and wait.tolist() == [0, 0]
    np.testing.assert_allclose(w_months, [0.0, 0.5])  # started after half the capacity
    assert tiers["queued"][0, 0, 0] == 2 and tiers["hours_used"][0, 0, 0] == 4.0
    assert queue.since[0, 0, [1, 3]].tolist() == [NO_REQUEST] * 2 and queue.since[0, 0, 5] == 0
    # month 1: play 1 (max wait 0) is dropped; slot 5 is served after a month
    queue.collect(tier)
    k, _, i, wait, _ = queue.serve(0, 1, tiers, books)
    assert k.tolist() == [0] and i.tolist() == [5] and wait.tolist() == [1]
    assert books["dropped"][0, 1].tolist() == [0.0, 1.0] and tiers["dropped"][0, 1, 0] == 1
    assert queue.since[1, 0, 2] == NO_REQUEST
    assert tiers["capacity_hours"][0, :2, 0].tolist() == [4.0, 4.0]
    # a churned account's requests are cancelled
    queue.add(0, np.array([0]), np.array([4]), 2)
    queue.cancel(np.array([0]), np.array([4]))
    queue.collect(tier)
    assert queue.serve(0, 2, tiers, books)[0].size == 0


def test_batch_streams_use_the_documented_keys() -> None:
    from cs_sim.sim.rng import batch_streams

    def gen(seed: int, key: tuple[int, int]) -> np.random.Generator:
        return np.random.Generator(np.random.PCG64DXSM(np.random.SeedSequence(seed,
                                                                              spawn_key=key)))

    st = batch_streams(5, (2, 0), 10, [None, 77], months=3, per_month=2)
    assert st.plays[0] is None
    half = np.float32(2**-25)
    usage = np.stack([gen(5, (r, 2)).random(7, dtype=np.float32) for r in (2, 0)]) + half
    np.testing.assert_array_equal(st.monthly["usage"].uniform(7), usage)
    play = np.stack([gen(5, (r, 2**32 + 77)).random(4, dtype=np.float32) for r in (2, 0)])
    np.testing.assert_array_equal(st.plays[1].uniform(4), play + half)
    acq = np.stack([gen(5, (r, 1)).random((3, 1 + 4 * 2)) for r in (2, 0)])
    np.testing.assert_array_equal(st.acquisition, acq)
    assert batch_streams(5, (0,), 10, [], months=3, per_month=0).acquisition.shape == (1, 3, 1)


def test_retention_multipliers_and_births_by_hand(small: Scenario) -> None:
    from cs_sim.sim.plays import retention_multipliers
    from cs_sim.sim.population import UNBORN, AccountSlots, Layout

    sc = small.with_changes({"retention_changes": [
        {"name": "a", "target": "voluntary_churn", "multiplier": 0.8, "segments": ["smb"]},
        {"name": "b", "target": "voluntary_churn", "multiplier": 0.5, "tiers": ["tech_touch"]},
        {"name": "c", "target": "expansion", "multiplier": 1.0},
    ]})
    rm = retention_multipliers(sc)
    segs, tiers = sc.segment_names(), sc.tier_names()
    want = np.ones((len(segs), len(tiers)))
    want[segs.index("smb"), :] *= 0.8
    want[:, tiers.index("tech_touch")] *= 0.5
    np.testing.assert_array_equal(rm["voluntary_churn"], want)
    assert rm["expansion"] is None and rm["early_life_churn"] is None
    # month 1's block of 3 slots starts at slot 2 + 3 = 5
    slots = AccountSlots(small, Layout(n_initial=2, per_month=3, horizon=2), 2)
    slots.seats[:] = 4.0
    slots.price[:] = 10.0
    born = slots.give_birth(1, np.array([2, 0]))
    assert born.tolist() == [[True, True, False], [False, False, False]]
    assert slots.alive[:, 5:8].tolist() == born.tolist() and not slots.alive[:, :5].any()
    assert slots.acq[0, 5:8].tolist() == [1, 1, UNBORN] and (slots.acq[1, 5:8] == UNBORN).all()
    assert slots.mrr[0, 5:8].tolist() == [40.0, 40.0, 0.0] and slots.ten[0, 5] == 0.0
    assert (slots.phase[:, 5:8] == 1).all()

def test_history_is_consistent_with_the_run(small: Scenario) -> None:
    res = simulate(small, replications=2, seed=6, record=1)
    h = res.history
    assert h is not None and h.replication == 1
    mon = res.monthly.query("replication == 1").reset_index(drop=True)
    alive = h.panel[h.panel["churn"] == ""]
    np.testing.assert_allclose(alive.groupby("month")["mrr"].sum().to_numpy(),
                               mon["mrr_end"].to_numpy(), rtol=1e-12)
    churned = h.panel[h.panel["churn"] != ""].groupby("churn").size()
    assert churned.get("voluntary", 0) == mon["churned_voluntary"].sum()
    assert churned.get("involuntary", 0) == mon["churned_involuntary"].sum()
    assert (h.panel.groupby("month")["failed_tickets"].sum().to_numpy()
            == mon["failed_tickets"].to_numpy()).all()
    assert (~h.tickets["first_contact"]).sum() == h.panel["failed_tickets"].sum()
    assert (h.tickets.loc[h.tickets["first_contact"], "contacts_to_resolve"] == 1).all()
    nps = h.surveys[h.surveys["kind"] == "nps"]
    assert len(nps) == mon["nps_responses"].sum() and nps["score"].between(0, 10).all()
    assert len(h.plays) == res.plays.query("replication == 1")["delivered"].sum()
    assert (h.acquisitions["new_logos"].to_numpy() == mon["new_logos"].to_numpy()).all()
    assert len(h.accounts) == h.panel["slot"].nunique()
    assert ((h.usage["active_users"] <= h.usage["seats"]) & (h.usage["sessions"] >= 0)).all()
    # run_history gives the same replication's numbers
    again = run_history(small, 6, replication=1)
    pd.testing.assert_frame_equal(again.panel, h.panel, check_exact=True)
    pd.testing.assert_frame_equal(again.tickets, h.tickets, check_exact=True)


def test_start_from_a_dataset(small: Scenario) -> None:
    months = pd.to_datetime(["2024-11-01", "2024-12-01"])
    accounts = pd.DataFrame({
        "account_id": ["a", "b", "c", "d"], "employees": [20, 300, 4000, 50],
        "contract": ["monthly", "annual", "annual", "monthly"],
        "segment": ["smb", "mid_market", "enterprise", "smb"],
    })
    mrr = pd.DataFrame({
        "account_id": ["a", "b", "c", "d", "a", "b", "c"],
        "month": list(months[[0] * 4]) + list(months[[1] * 3]),
        "mrr": [200.0, 2000.0, 15000.0, 90.0, 220.0, 2000.0, 15000.0],
    })
    usage = pd.DataFrame({"account_id": ["a", "b", "c"], "month": [months[1]] * 3,
                          "active_users": [2, 30, 50], "seats": [10, 50, 300]})
    ds = SimpleNamespace(accounts=accounts, mrr=mrr, usage=usage)
    sc = small.with_changes({"population": {"source": "dataset"}})
    res = simulate(sc, replications=2, seed=1, dataset=ds, record=True)
    m0 = res.monthly.query("month == 0")
    assert (m0["accounts_start"] == 3).all()  # d is no longer paying
    assert (m0["mrr_start"] == 17220.0).all()
    first = res.history.accounts.query("initial")
    assert sorted(first["account_id"]) == ["a", "b", "c"]
    with pytest.raises(ScenarioError, match="no dataset was given"):
        simulate(sc, replications=1, seed=1)


def test_argument_errors(small: Scenario) -> None:
    with pytest.raises(ScenarioError, match="replications"):
        simulate(small, replications=0, seed=1)
    with pytest.raises(ScenarioError, match="seed"):
        simulate(small, replications=1, seed=-3)
    with pytest.raises(CsSimError, match="unknown engine"):
        simulate(small, replications=1, seed=1, engine="warp")


def test_package_level_names_and_template_comparison() -> None:
    assert cs_sim.simulate is simulate and cs_sim.compare is compare
    base = load_scenario(TEMPLATES / "baseline.yaml").with_changes(
        {"population": {"n_accounts": 400}, "horizon_months": 12,
         "acquisition": {"new_logos_per_month": 8}})
    more = base.with_changes({"tiers": [{"name": "high_touch", "team": {"headcount": 6}},
                                        {"name": "low_touch", "team": {"headcount": 5}}]})
    cmp = cs_sim.compare(base, more, replications=3, seed=1)
    s = cmp.summary()
    # 2 + 2 more CSMs at 11000 and 8000 a month for 12 months
    assert s.loc["csm_cost", "diff"] == pytest.approx(12 * (2 * 11000 + 2 * 8000))
    assert np.isfinite(s.loc["roi", "diff"])


def test_annual_contracts_contract_at_renewal_on_the_terms_hazard() -> None:
    from cs_sim.sim import model

    f4 = np.float32
    # three annual accounts, pc = 0.02 a month for a 12-month term: at renewal the
    # contraction hazard is 1 - 0.98**12 = 0.2153; u = 0.9 (>= 1 - 0.2153) contracts,
    # u = 0.7 does not; the one not at renewal never contracts; a monthly one decides
    # on this month's pc alone
    term = np.ones((1, 4), f4)
    pc = np.full((1, 4), 0.02, f4)
    annual = np.array([[True, True, True, False]])
    for _ in range(12):
        model.accumulate_term((term,), (pc,), in_term=annual, tmp=np.empty_like(pc))
    np.testing.assert_allclose(term[0, :3], 0.98**12, rtol=1e-5)
    u = np.array([[0.9, 0.7, 0.99, 0.99]], f4)
    renew = np.array([[True, True, False, False]])
    pc_now = pc.copy()
    exp_, con = model.decide_resize(u, np.zeros((1, 4), f4), pc_now, survivors=np.ones((1, 4),
                                    bool), annual=annual, renewal=renew, term=term)
    assert con.tolist() == [[True, False, False, True]] and not exp_.any()
    assert term[0].tolist() == [1.0, 1.0, pytest.approx(0.98**12, rel=1e-5), 1.0]
