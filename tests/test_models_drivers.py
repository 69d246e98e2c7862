"""The churn panel and the logistic churn-driver model.

Truth comes from hand-made data (labels) and from the synthetic company's generator
(``data/sample/ground_truth.json``, read at test time: the sample is regenerated from
time to time, so no figure of it is written here).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cs_sim.errors import ModelInputError
from cs_sim.io import Dataset, load_dataset
from cs_sim.models import churn_drivers, churn_labels, churn_panel

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sample() -> Dataset:
    return load_dataset(ROOT / "data" / "sample")


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((ROOT / "data" / "sample" / "ground_truth.json").read_text())


@pytest.fixture(scope="module")
def panel(sample: Dataset) -> pd.DataFrame:
    return churn_panel(sample, attributes=("segment",))


def test_churn_labels_by_hand() -> None:
    months = pd.date_range("2024-01-01", periods=5, freq="MS")
    mrr = pd.DataFrame({
        "account_id": ["A"] * 2 + ["B"] * 5,
        "month": list(months[:2]) + list(months),
        "mrr": [10.0, 10.0, 5.0, 5.0, 0.0, 5.0, 5.0],
    })
    one = churn_labels(mrr, horizon=1).set_index(["account_id", "month"])["churn"]
    # A pays Jan-Feb and is gone in March: Jan 0, Feb 1; B skips March: Feb 1, Apr 0;
    # May has no next month: no label
    assert one[("A", months[0])] == 0 and one[("A", months[1])] == 1
    assert one[("B", months[1])] == 1 and one[("B", months[3])] == 0
    assert ("B", months[4]) not in one.index and ("B", months[2]) not in one.index
    two = churn_labels(mrr, horizon=2).set_index(["account_id", "month"])["churn"]
    assert two[("A", months[0])] == 1 and two[("B", months[0])] == 1
    assert ("B", months[3]) not in two.index  # horizon runs past the data
    with pytest.raises(ModelInputError, match="horizon"):
        churn_labels(mrr, horizon=0)


def test_panel_columns(panel: pd.DataFrame, sample: Dataset) -> None:
    for col in ("account_id", "month", "churn", "mrr", "log_mrr", "tenure_months", "score",
                "seat_utilisation", "nps", "segment"):
        assert col in panel.columns, col
    assert set(panel["churn"].unique()) <= {0, 1}
    assert (panel["mrr"] > 0).all() and (panel["tenure_months"] >= 0).all()
    # the last month of the data has no one-month outcome
    last = pd.to_datetime(sample.mrr["month"]).max()
    assert panel["month"].max() < last


def test_churn_drivers_against_the_generator(panel: pd.DataFrame, truth: dict) -> None:
    """The generator (ground_truth.json) lowers churn with health (churn health_slope
    < 0), raises active users with health (usage health_slope > 0) and lowers churn
    with tenure (tenure_slope < 0); key events per active user do not depend on health
    (a fixed key_events_per_session). The fitted effects must agree in sign and
    significance; the last is a null effect, asserted at the 1% level."""
    beh = truth["behaviour"]
    assert beh["churn"]["health_slope"] < 0 < beh["usage"]["health_slope"]
    assert beh["churn"]["tenure_slope"] < 0
    assert isinstance(beh["usage"]["key_events_per_session"], (int, float))
    res = churn_drivers(panel, controls=("segment",))
    eff = res.effects
    assert eff.loc["seat_utilisation", "effect"] < 0
    assert eff.loc["seat_utilisation", "p_value"] < 0.001
    assert eff.loc["tenure_months", "effect"] < 0
    assert eff.loc["key_events_per_active_user", "p_value"] > 0.01
    assert eff.loc["nps_missing", "kind"] == "zero_to_one"
    assert "1 SD more seat_utilisation" in res.to_text()


def test_effect_per_sd_by_hand(panel: pd.DataFrame) -> None:
    """Effect = average marginal effect x SD; for a logit the average marginal effect
    of x_j is mean(p (1 - p)) b_j."""
    drivers = ["seat_utilisation", "tenure_months", "log_mrr"]
    res = churn_drivers(panel, drivers=drivers)
    p = res.predict(panel).to_numpy()
    for name in drivers:
        ame = np.mean(p * (1 - p)) * res.params[name]
        sd = panel[name].std(ddof=1)
        assert res.effects.loc[name, "effect"] == pytest.approx(ame * sd, rel=1e-6)
        assert res.effects.loc[name, "sd"] == pytest.approx(sd)
    assert res.base_rate == pytest.approx(panel["churn"].mean())
    summary = res.summary()
    assert "seat_utilisation" in summary.index and "Intercept" in summary.index


def test_same_estimates_as_a_plain_logit_with_clustered_errors(panel: pd.DataFrame) -> None:
    """Clustering by account changes the standard errors, not the estimates."""
    import statsmodels.formula.api as smf

    res = churn_drivers(panel, drivers=["tenure_months", "seat_utilisation"])
    naive = smf.logit("churn ~ tenure_months + seat_utilisation", data=panel).fit(disp=0)
    np.testing.assert_allclose(res.params, naive.params, rtol=1e-6)
    assert res.results_.cov_type == "cluster"
    assert not np.allclose(res.bse, naive.bse)


def test_churn_drivers_too_little_churn() -> None:
    ex = load_dataset(ROOT / "data" / "example")
    with pytest.raises(ModelInputError, match="events per term"):
        churn_drivers(ex)


def test_churn_drivers_errors(panel: pd.DataFrame) -> None:
    with pytest.raises(ModelInputError, match="not in the panel"):
        churn_drivers(panel, drivers=["nope"])
    with pytest.raises(ModelInputError, match="no variation"):
        churn_drivers(panel.assign(flat=1.0), drivers=["flat"])
    with pytest.raises(ModelInputError, match="both"):
        churn_drivers(panel.assign(churn=0), drivers=["seat_utilisation"])


def test_plot_returns_axes(panel: pd.DataFrame) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = churn_drivers(panel, drivers=["seat_utilisation", "tenure_months"])
    ax = res.plot()
    assert len(ax.patches) == 2
    plt.close("all")
