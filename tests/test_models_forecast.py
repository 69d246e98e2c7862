"""MRR, logo and renewal forecasts: hand-made data, the sample's own totals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cs_sim.errors import ModelInputError
from cs_sim.io import Dataset, load_dataset
from cs_sim.models import forecast_logos, forecast_mrr, forecast_renewals

ROOT = Path(__file__).resolve().parents[1]


def _steady_dataset(months: int = 24) -> Dataset:
    """40 accounts, 4 of them off in every third month: a level series with a wobble."""
    rows = []
    for m, month in enumerate(pd.date_range("2023-01-01", periods=months, freq="MS")):
        n = 40 - (4 if m % 3 == 0 else 0) + (2 if m % 4 == 0 else 0)
        rows += [(f"A{i:02d}", month, 100.0) for i in range(n)]
    mrr = pd.DataFrame(rows, columns=["account_id", "month", "mrr"])
    accounts = pd.DataFrame({"account_id": sorted(mrr["account_id"].unique())})
    accounts["segment"] = np.where(accounts.index % 2 == 0, "a", "b")
    return Dataset(accounts=accounts, mrr=mrr)


def test_forecast_of_a_level_series_stays_level() -> None:
    ds = _steady_dataset()
    fc = forecast_mrr(ds, horizon=12)
    future = fc.forecast()
    assert len(future) == 12
    assert future["month"].iloc[0] == pd.Timestamp("2025-01-01")
    assert (future["month"].diff().dropna().dt.days.between(28, 31)).all()
    hist = fc.table[fc.table["kind"] == "history"]["value"]
    # a level series: the forecast stays within the range seen
    assert future["value"].between(hist.min(), hist.max()).all()
    assert (future["lower"] < future["value"]).all() and (future["value"] < future["upper"]).all()
    # intervals widen with the horizon
    width = future["upper"] - future["lower"]
    assert width.iloc[-1] >= width.iloc[0]
    # the same data always give the same numbers (analytic intervals, no simulation)
    pd.testing.assert_frame_equal(forecast_mrr(ds, horizon=12).table, fc.table)
    assert not fc.summary().empty
    assert ("all", "smoothing_level") in fc.params.index
    assert fc.params.index.equals(fc.bse.index)


def test_logo_forecast_history_is_the_paying_count() -> None:
    ds = _steady_dataset()
    fc = forecast_logos(ds, by="segment")
    hist = fc.table[fc.table["kind"] == "history"]
    by_hand = (ds.mrr.merge(ds.accounts, on="account_id")
               .groupby(["segment", "month"]).size())
    got = hist.set_index(["group", "month"])["value"]
    np.testing.assert_allclose(got.loc[by_hand.index].to_numpy(), by_hand.to_numpy())
    assert set(fc.forecast()["group"]) == {"a", "b"}
    assert "Paying accounts forecast" in fc.to_text()


def test_sample_mrr_forecast(tmp_path: Path) -> None:
    ds = load_dataset(ROOT / "data" / "sample")
    fc = forecast_mrr(ds, by="segment")
    hist = fc.table[fc.table["kind"] == "history"]
    last = pd.to_datetime(ds.mrr["month"]).max()
    total = ds.mrr.assign(month=pd.to_datetime(ds.mrr["month"]))
    total = total[total["month"] == last].merge(ds.accounts[["account_id", "segment"]])
    by_hand = total.groupby("segment")["mrr"].sum()
    got = hist[hist["month"] == last].set_index("group")["value"]
    np.testing.assert_allclose(got.loc[by_hand.index].to_numpy(), by_hand.to_numpy())
    f = fc.forecast()
    assert len(f) == 12 * ds.accounts["segment"].nunique()
    assert (f["lower"] > 0).all() and (f["lower"] < f["value"]).all()
    assert (f["value"] < f["upper"]).all()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assert fc.plot() is not None
    plt.close("all")


def test_forecast_errors() -> None:
    with pytest.raises(ModelInputError, match="at least 6"):
        forecast_mrr(_steady_dataset(months=4))
    with pytest.raises(ModelInputError, match="horizon"):
        forecast_mrr(_steady_dataset(), horizon=0)
    with pytest.raises(ModelInputError, match="not found"):
        forecast_mrr(_steady_dataset(), by="nope")


def _renewal_dataset() -> Dataset:
    months = pd.date_range("2023-01-01", "2024-06-01", freq="MS")
    rows = []
    # A annual from 2023-02, renews in 2024-02 and pays to the end
    rows += [("A", m, 1000.0) for m in months if m >= pd.Timestamp("2023-02-01")]
    # B annual from 2023-03, gone in 2024-03 (its first anniversary)
    rows += [("B", m, 500.0) for m in months
             if pd.Timestamp("2023-03-01") <= m < pd.Timestamp("2024-03-01")]
    # C annual from 2023-04, renews in 2024-04
    rows += [("C", m, 200.0) for m in months if m >= pd.Timestamp("2023-04-01")]
    # D monthly: never counted
    rows += [("D", m, 50.0) for m in months]
    mrr = pd.DataFrame(rows, columns=["account_id", "month", "mrr"])
    accounts = pd.DataFrame({
        "account_id": ["A", "B", "C", "D"],
        "signup_date": pd.to_datetime(["2023-02-10", "2023-03-01", "2023-04-20",
                                       "2022-06-01"]),
        "contract": ["annual", "annual", "annual", "monthly"],
    })
    return Dataset(accounts=accounts, mrr=mrr)


def test_renewals_by_hand() -> None:
    """Three anniversaries in the data, two renewed: rate 2/3. Due next: A in 2025-02 and
    C in 2025-04 (B left, D is monthly)."""
    from statsmodels.stats.proportion import proportion_confint

    res = forecast_renewals(_renewal_dataset())
    rate = res.rates.loc["all"]
    assert (rate["due"], rate["renewed"]) == (3, 2)
    assert rate["rate"] == pytest.approx(2 / 3)
    lo, hi = proportion_confint(2, 3, method="wilson")
    assert (rate["ci_lower"], rate["ci_upper"]) == (pytest.approx(lo), pytest.approx(hi))
    t = res.table.set_index("month")
    assert list(t.index) == [pd.Timestamp("2025-02-01"), pd.Timestamp("2025-04-01")]
    assert t.loc[pd.Timestamp("2025-02-01"), "mrr_due"] == 1000.0
    assert t["expected_renewals"].tolist() == pytest.approx([2 / 3, 2 / 3])
    assert t.loc[pd.Timestamp("2025-04-01"), "expected_mrr_renewed"] == pytest.approx(200 * 2 / 3)
    assert ((t["lower"] >= 0) & (t["upper"] <= t["due"])).all()
    assert "renewal rate all: 66.7%" in res.to_text()


def test_renewals_sample_and_example() -> None:
    ds = load_dataset(ROOT / "data" / "sample")
    res = forecast_renewals(ds, by="segment")
    assert set(res.rates.index) <= set(ds.accounts["segment"].unique())
    assert (res.rates["rate"].between(0, 1)).all()
    assert res.table["month"].nunique() <= 12
    ex = load_dataset(ROOT / "data" / "example")
    assert "Annual renewals" in forecast_renewals(ex).to_text()
    no_contract = Dataset(accounts=ds.accounts.drop(columns="contract"), mrr=ds.mrr)
    with pytest.raises(ModelInputError, match="contract"):
        forecast_renewals(no_contract)
