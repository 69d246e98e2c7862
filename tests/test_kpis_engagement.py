"""Engagement KPIs against hand calculations (3-4 accounts)."""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import pytest

from cs_sim.kpis import (
    KpiInputError,
    active_users,
    attach,
    product_usage_rate,
    seat_utilisation,
    time_on_platform,
    trial_conversion,
)


def usage_frame() -> pd.DataFrame:
    """Jan: A 5 of 10 seats, B 0 of 5; Feb: A 6/10, B 2/5, C 1/0 (no seats).

    No March rows (usage data ends in Feb).
    """
    return pd.DataFrame({
        "account_id": ["A", "B", "A", "B", "C"],
        "month": pd.to_datetime(["2024-01-01"] * 2 + ["2024-02-01"] * 3),
        "active_users": [5, 0, 6, 2, 1],
        "seats": [10, 5, 10, 5, 0],
        "sessions": [50, 0, 60, 10, 1],
        "minutes": [500.0, 0.0, 600.0, 100.0, 30.0],
        "key_feature_events": [20, 0, 30, 4, 0],
    })


def test_active_users_without_dau_is_unavailable(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="cs_sim.kpis.engagement"):
        out = active_users(usage_frame())
    # MAU: Jan 5 + 0 = 5; Feb 6 + 2 + 1 = 9
    assert out["mau"].tolist() == [5.0, 9.0]
    assert out["accounts"].tolist() == [2, 3]
    # no dau/wau columns: NaN, never zero
    assert out[["dau", "wau", "stickiness", "wau_mau"]].isna().all().all()
    assert "unavailable" in caplog.text


def test_active_users_with_dau_wau() -> None:
    u = usage_frame().assign(dau=[1.0, 0.0, 3.0, 1.0, 0.5], wau=[3.0, 0.0, 4.0, 2.0, 1.0])
    out = active_users(u).set_index("month")
    # Feb: DAU 3 + 1 + 0.5 = 4.5; MAU 9 -> stickiness 0.5; WAU 7 -> 7/9
    assert out.loc["2024-02-01", "dau"] == 4.5
    assert out.loc["2024-02-01", "stickiness"] == pytest.approx(0.5)
    assert out.loc["2024-02-01", "wau_mau"] == pytest.approx(7 / 9)
    # Jan: 1 / 5
    assert out.loc["2024-01-01", "stickiness"] == pytest.approx(0.2)
    # a missing DAU for one account makes that month's DAU unknown, not smaller
    u.loc[4, "dau"] = np.nan
    out2 = active_users(u).set_index("month")
    assert math.isnan(out2.loc["2024-02-01", "dau"])
    assert out2.loc["2024-01-01", "dau"] == 1.0


def test_active_users_by_segment() -> None:
    accounts = pd.DataFrame({"account_id": ["A", "B", "C"], "tier": ["high", "low", "low"]})
    out = active_users(attach(usage_frame(), accounts, "tier"), by="tier")
    low = out[out["tier"] == "low"].set_index("month")
    assert low["mau"].tolist() == [0.0, 3.0]


def test_product_usage_rate_hand() -> None:
    mrr = pd.DataFrame({
        "account_id": ["A", "B", "A", "B", "C", "D", "A"],
        "month": pd.to_datetime(["2024-01-01"] * 2 + ["2024-02-01"] * 4 + ["2024-03-01"]),
        "mrr": [100.0, 50.0, 110.0, 50.0, 20.0, 30.0, 100.0],
    })
    out = product_usage_rate(usage_frame(), mrr).set_index("month")
    # Jan: paying A, B; A has users -> 1/2. Feb: paying A, B, C, D; D has no usage row
    # -> 3/4. Mar: no usage data -> not reported
    assert list(out.index) == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")]
    assert out["usage_rate"].tolist() == [0.5, 0.75]
    assert out["paying_accounts"].tolist() == [2, 4]


def test_seat_utilisation_hand() -> None:
    out = seat_utilisation(usage_frame()).set_index("month")
    # Jan (5 + 0) / (10 + 5) = 1/3; Feb (6 + 2 + 1) / 15 = 0.6
    np.testing.assert_allclose(out["seat_utilisation"], [1 / 3, 0.6])


def test_time_on_platform_hand() -> None:
    out = time_on_platform(usage_frame()).set_index("month")
    # Jan 500 / 5 = 100 min per active user; Feb 730 / 9
    np.testing.assert_allclose(out["minutes_per_active_user"], [100.0, 730 / 9])
    np.testing.assert_allclose(out["sessions_per_active_user"], [10.0, 71 / 9])
    no_sessions = time_on_platform(usage_frame().drop(columns="sessions"))
    assert no_sessions["sessions_per_active_user"].isna().all()


def test_usage_bad_input() -> None:
    with pytest.raises(KpiInputError, match="seats"):
        seat_utilisation(usage_frame().drop(columns="seats"))
    with pytest.raises(KpiInputError, match="must be >= 0"):
        seat_utilisation(usage_frame().assign(seats=[1, -1, 1, 1, 1]))
    with pytest.raises(KpiInputError, match="unique"):
        active_users(pd.concat([usage_frame(), usage_frame().iloc[[0]]]))


def trials_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "account_id": ["A", "B", "C", "D", "E"],
        "trial_start": pd.to_datetime(["2023-12-01"] * 4 + ["2024-03-10"]),
        "trial_end": pd.to_datetime(["2023-12-15", "2024-01-10", "2024-03-01", "2024-03-20",
                                     "2024-04-09"]),
        "converted": [True, False, True, False, True],
        "plan": ["x", "x", "y", "y", "y"],
    })


def test_trial_conversion_hand() -> None:
    out = trial_conversion(trials_frame()).set_index("month")
    # by month of trial end: Dec 1/1, Jan 0/1, Feb none, Mar 1/2, Apr 1/1
    assert out["trials_ended"].tolist() == [1, 1, 0, 2, 1]
    assert out["converted"].tolist() == [1, 0, 0, 1, 1]
    assert math.isnan(out.loc["2024-02-01", "conversion_rate"])
    # as of 10 March: A, B, C ended (D and E still running) -> 2/3
    total = trial_conversion(trials_frame(), as_of="2024-03-10", by_month=False)
    assert total[["trials_ended", "converted"]].iloc[0].tolist() == [3, 2]
    assert total["conversion_rate"].item() == pytest.approx(2 / 3)
    by_plan = trial_conversion(trials_frame(), by_month=False, by="plan").set_index("plan")
    assert by_plan.loc["y", "conversion_rate"] == pytest.approx(2 / 3)


def test_trial_conversion_bad_converted() -> None:
    with pytest.raises(KpiInputError, match="converted"):
        trial_conversion(trials_frame().assign(converted=["yes", "no", "y", "n", "y"]))


def test_trial_conversion_of_a_window() -> None:
    """``since`` keeps the trials that ended in the window (months by trial end above)."""
    # January to March: Jan 0/1, Mar 1/2 -> 1/3; Dec and Apr fall outside
    out = trial_conversion(trials_frame(), since="2024-01-01", as_of="2024-03-31",
                           by_month=False).iloc[0]
    assert (out["trials_ended"], out["converted"]) == (1 + 2, 0 + 1)
    assert out["conversion_rate"] == pytest.approx(1 / 3)
