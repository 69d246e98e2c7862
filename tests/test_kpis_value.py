"""Value KPIs: ARPA, CLV, CRC, renewal rate, retention-to-profit.

Checked against hand calculations, a geometric-series formula written out here, a
month-by-month loop over the cohort and a Monte Carlo simulation of customer lifetimes.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from cs_sim.kpis import (
    KpiInputError,
    arpa,
    clv_purchase,
    clv_simple,
    customer_retention_cost,
    renewal_rate,
    retention_profit,
)


def monthly_rows(account: str, first: str, last: str, amount: float) -> list[tuple]:
    return [(account, m, amount) for m in pd.date_range(first, last, freq="MS")]


# --------------------------------------------------------------------------- ARPA, CLV
def test_arpa_hand() -> None:
    mrr = pd.DataFrame({"account_id": ["A", "B", "C", "A", "B"],
                        "month": pd.to_datetime(["2024-01-01"] * 3 + ["2024-02-01"] * 2),
                        "mrr": [100.0, 50.0, 0.0, 90.0, 30.0]})
    out = arpa(mrr)
    # Jan: 150 / 2 active (C has 0) = 75; Feb: 120 / 2 = 60
    assert out["arpa"].tolist() == [75.0, 60.0]
    assert "arr" not in out.columns


def test_clv_simple_hand() -> None:
    # $100 ARPA x 80% margin / 2% monthly churn = $4,000 (50-month expected lifetime)
    assert clv_simple(100.0, gross_margin=0.8, churn_rate=0.02) == pytest.approx(4000.0)
    out = clv_simple(np.array([100.0, 200.0]), gross_margin=0.5, churn_rate=np.array([0.1, 0.05]))
    np.testing.assert_allclose(out, [500.0, 2000.0])
    with pytest.raises(ValueError, match="churn_rate"):
        clv_simple(100.0, gross_margin=0.8, churn_rate=0.0)
    with pytest.raises(ValueError, match="gross_margin"):
        clv_simple(100.0, gross_margin=80, churn_rate=0.02)


def test_clv_simple_equals_expected_lifetime_sum() -> None:
    # second method: sum of ARPA x margin x P(still a customer in month t)
    c, m = 0.03, 100.0 * 0.7
    total = sum(m * (1 - c) ** (t - 1) for t in range(1, 5000))
    assert clv_simple(100.0, gross_margin=0.7, churn_rate=c) == pytest.approx(total)


def test_clv_purchase_hand() -> None:
    # $50 per purchase, 4 purchases a year, 5 years = $1,000
    assert clv_purchase(50.0, frequency=4, lifespan=5) == 1000.0
    with pytest.raises(ValueError, match="lifespan"):
        clv_purchase(50.0, frequency=4, lifespan=-1)


# --------------------------------------------------------------------------- CRC
def test_customer_retention_cost_hand() -> None:
    mrr = pd.DataFrame({"account_id": ["A", "B", "A", "B", "C"],
                        "month": pd.to_datetime(["2024-01-01"] * 2 + ["2024-02-01"] * 3),
                        "mrr": [100.0, 50.0, 100.0, 50.0, 20.0]})
    costs = pd.DataFrame({"month": pd.to_datetime(["2024-02-01", "2024-01-01", "2024-06-01"]),
                          "cs_cost": [300.0, 200.0, 100.0], "support_cost": [60.0, 40.0, 0.0],
                          "tooling_cost": [30.0, 20.0, 0.0]})
    out = customer_retention_cost(costs, mrr).set_index("month")
    # Jan: (200 + 40 + 20) / 2 = 130; Feb: (300 + 60 + 30) / 3 = 130; Jun: no customers
    assert out.loc["2024-01-01", "crc"] == pytest.approx(130.0)
    assert out.loc["2024-02-01", "crc"] == pytest.approx(130.0)
    assert out.loc["2024-02-01", "total_cost"] == 390.0
    assert math.isnan(out.loc["2024-06-01", "crc"])
    with pytest.raises(KpiInputError, match="unique"):
        customer_retention_cost(pd.concat([costs, costs]), mrr)


# --------------------------------------------------------------------------- renewals
def renewal_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    """15 months, 2023-01 .. 2024-03.

    R1 annual, paid 2023-01 .. 2024-03: up at 2024-01 (active 2023-12), renewed.
    R2 annual, paid 2023-02 .. 2024-01: up at 2024-02 (active 2024-01), not renewed.
    R3 annual, paid 2023-01 .. 2023-06: left mid-term, not up at 2024-01.
    R4 monthly, paid throughout: never counted.
    R5 annual, first paid 2023-04: anniversary 2024-04 is after the data.
    """
    rows = (monthly_rows("R1", "2023-01-01", "2024-03-01", 100.0)
            + monthly_rows("R2", "2023-02-01", "2024-01-01", 100.0)
            + monthly_rows("R3", "2023-01-01", "2023-06-01", 100.0)
            + monthly_rows("R4", "2023-01-01", "2024-03-01", 100.0)
            + monthly_rows("R5", "2023-04-01", "2024-03-01", 100.0))
    mrr = pd.DataFrame(rows, columns=["account_id", "month", "mrr"])
    accounts = pd.DataFrame({"account_id": ["R1", "R2", "R3", "R4", "R5", "R6"],
                             "contract": ["annual", "annual", "annual", "monthly", "annual",
                                          "annual"],
                             "plan": ["a", "b", "a", "a", "b", "c"]})
    return accounts, mrr


def test_renewal_rate_hand() -> None:
    accounts, mrr = renewal_data()
    out = renewal_rate(accounts, mrr).set_index("month")
    assert list(out.index) == list(pd.date_range("2024-01-01", "2024-03-01", freq="MS"))
    assert out["up_for_renewal"].tolist() == [1, 1, 0]
    assert out["renewed"].tolist() == [1, 0, 0]
    assert out.loc["2024-01-01", "renewal_rate"] == 1.0
    assert out.loc["2024-02-01", "renewal_rate"] == 0.0
    assert math.isnan(out.loc["2024-03-01", "renewal_rate"])


def test_renewal_rate_by_plan_and_second_anniversary() -> None:
    accounts, mrr = renewal_data()
    out = renewal_rate(accounts, mrr, by="plan")
    a = out[out["plan"] == "a"].set_index("month")
    b = out[out["plan"] == "b"].set_index("month")
    assert a["up_for_renewal"].tolist() == [1, 0, 0]  # R1 (R3 left mid-term)
    assert b["up_for_renewal"].tolist() == [0, 1, 0]  # R2
    # R6 never paid: its plan appears with nothing up for renewal
    assert out[out["plan"] == "c"]["up_for_renewal"].sum() == 0
    # 25 months: R1 is up again at 2025-01 and renews
    long_mrr = pd.DataFrame(monthly_rows("R1", "2023-01-01", "2025-01-01", 10.0),
                            columns=["account_id", "month", "mrr"])
    out2 = renewal_rate(accounts, long_mrr).set_index("month")
    assert out2.loc["2025-01-01", "renewed"] == 1
    assert out2["up_for_renewal"].sum() == 2


# --------------------------------------------------------------------------- retention profit
def brute_force(*, customers, arpa, margin, churn, horizon, disc_annual=0.0, cost=0.0,
                acq=0.0, growth=0.0):
    """Walk the cohort month by month (expected survivors), no closed forms."""
    i = (1 + disc_annual) ** (1 / 12) - 1
    survivors, total = float(customers), 0.0
    for t in range(1, horizon + 1):
        contribution = arpa * (1 + growth) ** (t - 1) * margin - cost
        total += survivors * contribution / (1 + i) ** (t - 1)
        survivors *= 1 - churn
    return total - customers * acq


def test_retention_profit_hand_geometric() -> None:
    r = retention_profit(customers=1000, arpa=100.0, gross_margin=0.8, monthly_churn=0.02,
                         retention_gain_pts=5, acquisition_cost=1500.0)
    # before: CLV = 100 x 0.8 / 0.02 = 4000; profit = 1000 x (4000 - 1500) = 2.5M
    assert r.clv_before == pytest.approx(4000.0)
    assert r.profit_before == pytest.approx(2.5e6)
    # annual retention 0.98^12 = 0.784717 -> +5 points = 0.834717
    assert r.annual_retention_before == pytest.approx(0.98**12)
    assert r.annual_retention_after == pytest.approx(0.98**12 + 0.05)
    c_after = 1 - (0.98**12 + 0.05) ** (1 / 12)
    assert r.monthly_churn_after == pytest.approx(c_after)
    assert r.clv_after == pytest.approx(80.0 / c_after)
    assert r.profit_change_pct == pytest.approx(
        100 * (1000 * (80 / c_after - 1500) - 2.5e6) / 2.5e6)
    assert r.expected_lifetime_months_before == pytest.approx(50.0)


def test_retention_profit_vs_brute_force_loop() -> None:
    kw = dict(customers=250, arpa=120.0, gross_margin=0.75, monthly_churn=0.03,
              retention_gain_pts=5, horizon_months=36, discount_rate_annual=0.10,
              cost_per_customer_month=12.0, acquisition_cost=900.0,
              arpa_growth_monthly=0.004)
    r = retention_profit(**kw)
    before = brute_force(customers=250, arpa=120.0, margin=0.75, churn=0.03, horizon=36,
                         disc_annual=0.10, cost=12.0, acq=900.0, growth=0.004)
    after = brute_force(customers=250, arpa=120.0, margin=0.75, churn=r.monthly_churn_after,
                        horizon=36, disc_annual=0.10, cost=12.0, acq=900.0, growth=0.004)
    assert r.profit_before == pytest.approx(before, rel=1e-10)
    assert r.profit_after == pytest.approx(after, rel=1e-10)
    # the programme's own cost only hits the "after" scenario
    r2 = retention_profit(**{**kw, "extra_cost_per_customer_month": 5.0})
    after2 = brute_force(customers=250, arpa=120.0, margin=0.75, churn=r.monthly_churn_after,
                         horizon=36, disc_annual=0.10, cost=17.0, acq=900.0, growth=0.004)
    assert r2.profit_after == pytest.approx(after2, rel=1e-10)
    assert r2.profit_before == pytest.approx(before, rel=1e-10)


def test_retention_profit_vs_monte_carlo_cohort() -> None:
    # simulate each customer's lifetime: pays in month t while still a customer,
    # leaves at the end of each month with probability c (geometric lifetime)
    rng = np.random.default_rng(20240501)
    n, c, horizon = 200_000, 0.04, 24
    lifetimes = rng.geometric(c, size=n)
    months_paid = np.minimum(lifetimes, horizon)
    margin = 50.0 * 0.6
    simulated_clv = margin * months_paid.mean()
    se = margin * months_paid.std() / math.sqrt(n)
    r = retention_profit(customers=n, arpa=50.0, gross_margin=0.6, monthly_churn=c,
                         retention_gain_pts=0, horizon_months=horizon)
    assert abs(r.clv_before - simulated_clv) < 4 * se
    assert r.expected_lifetime_months_before == pytest.approx(months_paid.mean(), abs=0.05)


def test_retention_profit_monthly_basis_and_errors() -> None:
    r = retention_profit(customers=1, arpa=10.0, gross_margin=1.0, monthly_churn=0.05,
                         retention_gain_pts=1, retention_basis="monthly")
    assert r.monthly_churn_after == pytest.approx(0.04)
    assert r.clv_after == pytest.approx(10.0 / 0.04)
    with pytest.raises(KpiInputError, match="outside 0-100%"):
        retention_profit(customers=1, arpa=10.0, gross_margin=1.0, monthly_churn=0.001,
                         retention_gain_pts=5)
    with pytest.raises(KpiInputError, match="infinite"):
        retention_profit(customers=1, arpa=10.0, gross_margin=1.0, monthly_churn=0.0,
                         retention_gain_pts=0)
    # churn 0 is fine with a horizon: CLV = margin x horizon
    r0 = retention_profit(customers=1, arpa=10.0, gross_margin=1.0, monthly_churn=0.0,
                          retention_gain_pts=0, horizon_months=12)
    assert r0.clv_before == pytest.approx(120.0)
    with pytest.raises(KpiInputError, match="customers"):
        retention_profit(customers=0, arpa=10.0, gross_margin=1.0, monthly_churn=0.1,
                         retention_gain_pts=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r0.clv_before = 1.0  # type: ignore[misc]


def test_renewal_rate_of_contracts_signed_before_the_data() -> None:
    # Data covers 2025-01..2025-06. X signed 2024-03 and pays throughout: renews 2025-03.
    # Y signed 2024-04, pays Jan-Mar, stops in April: up for renewal 2025-04, not renewed.
    # Z signed 2025-02 (first paid in the data): no anniversary inside the data.
    # M is monthly: never counted. Hand result: Mar 1/1, Apr 0/1, other months 0/0.
    accounts = pd.DataFrame({
        "account_id": ["X", "Y", "Z", "M"],
        "contract": ["annual", "annual", "annual", "monthly"],
        "signup_date": pd.to_datetime(["2024-03-10", "2024-04-20", "2025-02-01", "2023-01-01"]),
    })
    months = pd.date_range("2025-01-01", periods=6, freq="MS")
    rows = [("X", m, 100.0) for m in months] + [("Y", m, 50.0) for m in months[:3]]
    rows += [("Z", m, 70.0) for m in months[1:]] + [("M", m, 10.0) for m in months]
    mrr = pd.DataFrame(rows, columns=["account_id", "month", "mrr"])
    out = renewal_rate(accounts, mrr).set_index("month")
    # the first possible anniversary is X's, 2025-03
    assert out["up_for_renewal"].to_dict() == {m: int(m.month in (3, 4)) for m in months[2:]}
    assert out["renewed"].to_dict() == {m: int(m.month == 3) for m in months[2:]}
