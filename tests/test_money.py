"""Money and decisions: CLV, NPV, terminal value, intervals, ROI, payback, savings.

Truth comes from outside the code under test: hand calculations on a tiny hand-built
run (every figure worked below), brute-force sums, a second library (statsmodels for
the t-interval), the independent cohort model of ``retention_profit``, and the sign
rules a decision must obey on the bundled scenarios.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cs_sim
from cs_sim.errors import ScenarioError
from cs_sim.kpis import clv_discounted, formulas, retention_profit
from cs_sim.kpis._util import KpiInputError
from cs_sim.sim import money
from cs_sim.sim.rng import bootstrap_generator
from cs_sim.sim.scenario_io import scenario_from_dict
from cs_sim.sim.summaries import chunk_from_raw

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "templates" / "scenarios"


# ------------------------------------------------------------------------------ CLV
def test_clv_discounted_by_hand_and_by_brute_force() -> None:
    # margin 0.8 x ARPA 100 = 80 a month; r = 0.98; i = 0.01:
    # 80 x 1.01 / (1.01 - 0.98) = 80.8 / 0.03 = 2693.33...
    assert formulas.clv_discounted(100.0, 0.8, 0.98, 0.01) == pytest.approx(2693.3333333, rel=1e-9)
    k = np.arange(20_000)
    for r, i in ((0.98, 0.01), (0.9898, 0.007974), (1.004, 0.007974), (0.95, 0.0)):
        brute = (80.0 * (r / (1 + i)) ** k).sum()
        assert formulas.clv_discounted(100.0, 0.8, r, i) == pytest.approx(brute, rel=1e-9)
    # undiscounted and without expansion it is the simple ARPA x margin / churn
    assert formulas.clv_discounted(100.0, 0.8, 0.98, 0.0) == pytest.approx(
        formulas.clv(100.0, 0.8, 0.02), rel=1e-12)
    # Gupta and Lehmann (2003) count from the first renewal: m r / (1 + i - r)
    m, r, i = 80.0, 0.97, 0.0125
    assert formulas.clv_discounted(100.0, 0.8, r, i) - m == pytest.approx(m * r / (1 + i - r))
    # diverging: revenue kept grows at least as fast as the discount rate
    assert math.isnan(formulas.clv_discounted(100.0, 0.8, 1.02, 0.01))


def test_monthly_rate_by_hand() -> None:
    # 1.1 ** (1/12) = exp(ln(1.1) / 12) = exp(0.0079425) = 1.0079741
    assert formulas.monthly_rate(0.10) == pytest.approx(0.0079741404, rel=1e-8)
    assert (1 + formulas.monthly_rate(0.10)) ** 12 == pytest.approx(1.10, rel=1e-12)


def test_checked_clv_agrees_with_the_cohort_model_of_retention_profit() -> None:
    # retention_profit sums the discounted cohort month by month (its own code path)
    for churn, growth, d in ((0.02, 0.0, 0.10), (0.03, 0.01, 0.08), (0.015, 0.004, 0.0)):
        cohort = retention_profit(customers=1, arpa=250.0, gross_margin=0.75,
                                  monthly_churn=churn, retention_gain_pts=0,
                                  discount_rate_annual=d, arpa_growth_monthly=growth)
        value = clv_discounted(250.0, gross_margin=0.75, monthly_churn=churn,
                               monthly_expansion=growth, discount_rate_annual=d)
        assert value == pytest.approx(cohort.clv_before, rel=1e-10)
    series = clv_discounted(pd.Series([100.0, 200.0], index=["a", "b"]), gross_margin=0.8,
                            monthly_churn=0.02, discount_rate_annual=0.0)
    assert list(series.index) == ["a", "b"] and series["b"] == pytest.approx(8000.0)
    with pytest.raises(KpiInputError, match="infinite"):
        clv_discounted(100.0, gross_margin=0.8, monthly_churn=0.0, discount_rate_annual=0.0)
    with pytest.raises(KpiInputError, match="monthly_churn"):
        clv_discounted(100.0, gross_margin=0.8, monthly_churn=1.5)


# ------------------------------------------------------------ a tiny hand-built run
GM = 0.5  # gross margin; the monthly discount rate is 0.01 (annual 1.01 ** 12 - 1)


def _scenario(terminal_value: bool = True, terminal_years: int | None = None
              ) -> cs_sim.sim.Scenario:
    return scenario_from_dict({
        "name": "tiny", "horizon_months": 2, "gross_margin": GM,
        "segments": [{"name": "a"}, {"name": "b"}],
        "tiers": [{"name": "t", "team": {"headcount": 1, "hours_per_month": 120,
                                         "cost_per_month": 100}}],
        "money": {"discount_rate": 1.01**12 - 1, "terminal_value": terminal_value,
                  "terminal_years": terminal_years},
    })


def _tiny_raw():
    """Two segments, two months; see test_npv_terminal_value_and_clv_by_hand.

    Segment a: 6 accounts x 100 MRR; in month 1 one churns (100 MRR) and gets a play
    (2 CSM hours, cost 10). Segment b: 4 accounts, 400 MRR; in month 1 one expands by 20
    and another contracts by 20. The team (1 CSM) costs 100 a month.
    """
    from cs_sim.sim.engine import RawRun

    def two(a, b):  # (R=1, H=2, S=2) from the months of a and b
        return np.array([[[a[0], b[0]], [a[1], b[1]]]], dtype=float)

    seg = {
        "accounts_start": two([6, 6], [4, 4]), "new_logos": two([0, 0], [0, 0]),
        "churned": two([0, 1], [0, 0]), "accounts_end": two([6, 5], [4, 4]),
        "mrr_start": two([600, 600], [400, 400]), "new_mrr": two([0, 0], [0, 0]),
        "expansion_mrr": two([0, 0], [0, 20]), "contraction_mrr": two([0, 0], [0, 20]),
        "churned_mrr": two([0, 100], [0, 0]), "mrr_end": two([600, 500], [400, 400]),
        "play_cost": two([0, 10], [0, 0]), "hours_used": two([0, 2], [0, 0]),
        "delivered": two([0, 1], [0, 0]), "dropped": two([0, 0], [0, 0]),
    }
    tot = {k: v.sum(axis=2) for k, v in seg.items()}
    monthly = {k: tot[k] for k in ("accounts_start", "new_logos", "accounts_end", "mrr_start",
                                   "new_mrr", "expansion_mrr", "contraction_mrr",
                                   "churned_mrr", "mrr_end", "play_cost")}
    monthly.update(churned_voluntary=tot["churned"], churned_involuntary=np.zeros((1, 2)),
                   csm_cost=np.full((1, 2), 100.0), programme_cost=np.zeros((1, 2)),
                   members=np.zeros((1, 2)), nps_responses=np.array([[2.0, 2.0]]),
                   nps_promoters=np.array([[1.0, 1.0]]), nps_detractors=np.zeros((1, 2)),
                   failed_tickets=np.zeros((1, 2)), mean_health=np.full((1, 2), 60.0),
                   capped_acquisition=np.zeros((1, 2)))
    tiers = {k: v[:, :, None] for k, v in tot.items()}
    tiers.update(accounts=tot["accounts_end"][:, :, None],
                 capacity_hours=np.full((1, 2, 1), 120.0), queued=np.zeros((1, 2, 1)),
                 wait_sum=np.zeros((1, 2, 1)), mrr=tot["mrr_end"][:, :, None])
    plays = {"requested": np.array([[[0.0], [1.0]]]), "delivered": np.array([[[0.0], [1.0]]]),
             "dropped": np.zeros((1, 2, 1)), "cost": np.array([[[0.0], [10.0]]]),
             "hours": np.array([[[0.0], [2.0]]]), "eligible": np.full((1, 2, 1), 10.0)}
    cohort_seg = {"cohort_mrr_start": np.array([[600.0, 400.0]]),
                  "cohort_mrr_end": np.array([[500.0, 400.0]]),
                  "cohort_mrr_kept": np.array([[500.0, 380.0]]),
                  "cohort_accounts_start": np.array([[6.0, 4.0]]),
                  "cohort_accounts_end": np.array([[5.0, 4.0]])}
    cohort = {k: v.sum(axis=1) for k, v in cohort_seg.items()}
    values = {
        "reps": (0,), "seed": 0, "tier_names": ["t"], "play_names": ["call"],
        "monthly": monthly, "tiers": tiers, "plays": plays, "cohort": cohort,
        "record": None, "layout": None, "segment_names": ["a", "b"], "segments": seg,
        "cohort_segments": cohort_seg,
        "cohort_tiers": {k: v[:, None] for k, v in cohort.items()},
    }
    names = {f.name for f in dataclasses.fields(RawRun)}
    raw = RawRun(**{k: v for k, v in values.items() if k in names})
    for k, v in values.items():  # fields an engine may not carry yet
        if k not in names:
            setattr(raw, k, v)
    return raw


def test_npv_terminal_value_and_clv_by_hand() -> None:
    chunk = chunk_from_raw(_tiny_raw(), _scenario())
    p = chunk.per_replication.iloc[0]
    # profit: month 0 = 0.5 x 1000 - 100 = 400; month 1 = 0.5 x 900 - (100 + 10) = 340
    assert p["profit"] == pytest.approx(740.0)
    npv_h = 400 / 1.01 + 340 / 1.01**2
    assert p["npv_horizon"] == pytest.approx(npv_h, rel=1e-12)
    # team cost by CSM hours (by accounts in month 0, when no hours were used):
    # a: 60 + (100 + play 10) = 170, b: 40 + 0 -> end-state mean cost a 85, b 20
    # end-state net retention a = (600 + 500) / (600 + 600), b = (400 + 400) / 800 = 1
    ra = 1100 / 1200
    qa, qb = ra / 1.01, 1 / 1.01
    tv_a = (GM * 500 - 85) * qa / (1 - qa) / 1.01**2
    tv_b = (GM * 400 - 20) * qb / (1 - qb) / 1.01**2  # = 180 x 100 / 1.0201
    assert p["terminal_value"] == pytest.approx(tv_a + tv_b, rel=1e-12)
    assert p["npv"] == pytest.approx(npv_h + tv_a + tv_b, rel=1e-12)
    # CLV: ARPA 100 in both segments; margin 50 x 1.01 / (1.01 - r)
    clv_a, clv_b = 50 * 1.01 / (1.01 - ra), 50 * 1.01 / 0.01
    seg = chunk.per_segment.set_index("segment")
    assert seg.loc["a", "clv"] == pytest.approx(clv_a)
    assert seg.loc["b", "clv"] == pytest.approx(clv_b)
    assert p["clv_segments"] == pytest.approx((5 * clv_a + 4 * clv_b) / 9)
    # pooled: ARPA 1900 / 19 = 100, r = 1900 / 2000 = 0.95: far below the weighted average
    assert p["clv"] == pytest.approx(50 * 1.01 / (1.01 - 0.95))
    assert (seg.loc["a", "cs_cost"], seg.loc["b", "cs_cost"]) == pytest.approx((170, 40))
    assert (seg.loc["a", "grr"], seg.loc["b", "grr"]) == pytest.approx((500 / 600, 0.95))
    assert p["grr"] == pytest.approx(0.88) and p["grr_annualised"] == pytest.approx(0.88**6)
    # the segments add up to the book
    for seg_col, book_col in (("revenue", "revenue"), ("cs_cost", "total_cost"),
                              ("profit", "profit"), ("terminal_value", "terminal_value"),
                              ("logos_churned", "logos_churned"), ("mrr_end", "mrr_end")):
        assert seg[seg_col].sum() == pytest.approx(p[book_col], rel=1e-12), seg_col
    # without a terminal value the NPV is the horizon's
    off = chunk_from_raw(_tiny_raw(), _scenario(terminal_value=False)).per_replication.iloc[0]
    assert math.isnan(off["terminal_value"]) and off["npv"] == pytest.approx(npv_h)


def test_terminal_value_over_a_finite_number_of_years_by_hand() -> None:
    """Default: 5 years after the horizon. Brute-force sum of the 60 discounted months."""
    assert scenario_from_dict({}).money.terminal_years == 5
    p = chunk_from_raw(_tiny_raw(), _scenario(terminal_years=5)).per_replication.iloc[0]
    ra = 1100 / 1200
    tv = 0.0
    for pi, r in ((GM * 500 - 85, ra), (GM * 400 - 20, 1.0)):
        tv += sum(pi * (r / 1.01) ** k for k in range(1, 61)) / 1.01**2
    assert p["terminal_value"] == pytest.approx(tv, rel=1e-12)
    # fewer years than a perpetuity, more than nothing
    perpetual = chunk_from_raw(_tiny_raw(), _scenario()).per_replication.iloc[0]
    assert 0 < p["terminal_value"] < perpetual["terminal_value"]


def test_terminal_value_needs_a_discount_rate() -> None:
    # a perpetuity needs discounting; a finite terminal value does not
    with pytest.raises(ScenarioError, match="terminal_years: null needs a discount_rate > 0"):
        scenario_from_dict({"money": {"discount_rate": 0.0, "terminal_years": None}})
    assert scenario_from_dict({"money": {"discount_rate": 0.0}}).money.terminal_years == 5
    sc = scenario_from_dict({"money": {"discount_rate": 0.0, "terminal_value": False}})
    assert sc.money.discount_rate == 0.0


# ------------------------------------------------------------------------ intervals
def test_t_interval_agrees_with_statsmodels_and_scipy() -> None:
    from scipy import stats
    from statsmodels.stats.weightstats import DescrStatsW

    x = np.array([3.1, -0.4, 2.2, 5.0, 1.7])
    for level in (0.9, 0.95):
        mean, se, lo, hi = money.t_interval(x, level)
        ref = DescrStatsW(x).tconfint_mean(alpha=1 - level)
        assert (lo, hi) == pytest.approx(ref, rel=1e-12)
        assert (lo, hi) == pytest.approx(
            stats.t.interval(level, len(x) - 1, loc=x.mean(), scale=stats.sem(x)), rel=1e-12)
        assert se == pytest.approx(stats.sem(x))
    # at 5 replications the t multiplier (2.13) is far above the normal one (1.64)
    assert money.t_quantile(0.9, 5) == pytest.approx(2.131847, rel=1e-6)
    assert np.isnan(money.t_interval(np.array([1.0]), 0.9)[2])


def test_payback_month_by_hand() -> None:
    # cumulative mean: -10, -20, -15, +15, +16 -> positive from month 4 on
    d = np.array([[-10, -10, 5, 30, 1], [-10, -10, 5, 30, 1.0]])
    assert money.payback_month(d) == 4
    # positive at month 2, negative again at 3, positive for good from month 4
    assert money.payback_month(np.array([[-5.0, 10, -8, 10]])) == 4
    assert money.payback_month(np.array([[1.0, 1.0]])) == 1
    assert money.payback_month(np.array([[-1.0, -1.0]])) is None


def test_bootstrap_is_paired_and_reproducible() -> None:
    num = np.array([10.0, 12.0, 8.0, 11.0, 9.0, 30.0])
    den = np.array([2.0, 2.0, 2.0, 2.0, 2.0, 6.0])  # the outlier is large in both
    a = money.bootstrap_ratio(num, den, level=0.9, generator=bootstrap_generator(7))
    b = money.bootstrap_ratio(num, den, level=0.9, generator=bootstrap_generator(7))
    assert a == b
    # paired: every resample's ratio of means lies between the smallest and largest
    # per-replication ratio (5, 6 and 4 .. 5.5), which unpaired resampling would break
    assert 4.0 <= a[0] <= num.sum() / den.sum() <= a[1] <= 6.0
    # a denominator that can be <= 0 in a resample has no ratio interval
    assert np.isnan(money.bootstrap_ratio(num, np.array([1.0, -1, 1, -1, 1, -1]), level=0.9,
                                          generator=bootstrap_generator(1))[0])


# ------------------------------------------------------------------ decisions on runs
def _small(path: Path, n: int = 600):
    return cs_sim.load_scenario(path).with_changes(
        {"population": {"n_accounts": n}, "horizon_months": 12,
         "acquisition": {"new_logos_per_month": 12}})


@pytest.fixture(scope="module")
def base():
    return _small(SCENARIOS / "baseline.yaml")


@pytest.mark.parametrize("variant", ["save_play.yaml", "more_csms.yaml",
                                     "onboarding_programme.yaml"])
def test_roi_lies_inside_its_interval(base, variant) -> None:
    cmp = cs_sim.compare(base, _small(SCENARIOS / variant), replications=8, seed=11)
    dec = cmp.decision()
    assert dec.case == "costs_more" and dec.extra_cost > 0
    d = cmp.differences
    assert dec.roi == pytest.approx(d["profit"].mean() / d["total_cost"].mean(), rel=1e-12)
    assert dec.roi_lo <= dec.roi <= dec.roi_hi
    row = cmp.summary().loc["roi"]
    assert (row["diff"], row["ci_lo"], row["ci_hi"]) == (dec.roi, dec.roi_lo, dec.roi_hi)
    assert 0.0 <= dec.prob_profit_better <= 1.0
    assert dec.prob_profit_better == pytest.approx((d["profit"] > 0).mean())


def test_a_saving_has_no_roi_tech_touch_long_tail() -> None:
    # the bundled what-if: cost falls (one low-touch CSM less) and profit rises; the old
    # ROI ((gross profit gained - extra cost) / extra cost) read about -0.97 here
    cmp = cs_sim.compare(SCENARIOS / "baseline.yaml", SCENARIOS / "tech_touch_long_tail.yaml",
                         replications=8, seed=3)
    dec = cmp.decision()
    d = cmp.differences
    assert d["total_cost"].mean() < 0 and dec.case == "saves"
    assert dec.profit_change > 0  # the case under test: cheaper and more profitable
    assert "cheaper and more profitable" in dec.sentences()[0]
    assert math.isnan(dec.roi) and math.isnan(cmp.summary().loc["roi", "diff"])
    assert dec.extra_cost == pytest.approx(d["total_cost"].mean())
    assert dec.profit_change == pytest.approx(d["profit"].mean())
    text = cmp.to_text()
    assert "saves" in text and "No ROI" in text
    roi = next(ln for ln in text.splitlines() if ln.startswith("ROI of the change"))
    assert "n/a" in roi and "saves money" in roi
    assert cmp.to_dict()["roi"] is None


def test_zero_csms_report_the_saving_and_the_profit_loss() -> None:
    # the bundled baseline at full size: without CSMs it saves their cost and loses more
    base = cs_sim.load_scenario(SCENARIOS / "baseline.yaml")
    none = base.with_changes({"name": "no_csms", "tiers": [
        {"name": t, "team": {"headcount": 0}} for t in ("high_touch", "low_touch", "tech_touch")]})
    cmp = cs_sim.compare(base, none, replications=4, seed=5)
    dec = cmp.decision()
    assert dec.case == "saves" and math.isnan(dec.roi)
    # 4 + 3 + 1 CSMs at 11,000, 8,000 and 7,000 a month for 24 months
    assert cmp.differences["csm_cost"].to_numpy() == pytest.approx(-24 * (44_000 + 24_000 + 7_000))
    assert dec.profit_change < 0 and dec.prob_profit_better == 0.0
    words = " ".join(dec.sentences())
    assert "saves" in words and "profit falls" in words
    assert "more gross profit than it saves" in words
    assert "ROI" not in words.replace("No ROI", "")
