"""Health-score validation: AUC arithmetic, the synthetic company's truth, small data.

``data/sample`` is regenerated from time to time: its truth is read from
``ground_truth.json`` at test time and no figure of it is written here.

What the generator says about the five components of the configured score
(``behaviour`` in ground_truth.json; see cs_sim.sim.model and cs_sim.sim.record):

- usage (seat utilisation): drawn every month from the current health,
  ``σ(intercept + health_slope x + noise_sd ε)`` with the same ε that moves health:
  the only component tied to this month's health with a signal larger than its noise;
- sentiment (NPS): tied to health (nps_health_slope) but noisy and answered by a few
  accounts a month, so mostly stale;
- financial (MRR change): tied to health through expansion and contraction, which are
  rare;
- engagement (key events per active user): key_events_per_session is a constant, so
  the metric does not depend on health at all;
- support (tickets per seat): tickets_per_seat is a constant per segment, so within a
  segment it does not depend on health; across segments it moves with the segment's
  churn level.

So the true order starts with usage and ends with engagement; what the fit finds for
the middle is reported, not asserted (see the report of issue 8: support ranks second
through the segment mix, and sentiment shows no out-of-sample signal).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cs_sim.errors import ModelInputError
from cs_sim.io import load_dataset
from cs_sim.models import validate_health_score
from cs_sim.models.health import _verdict, auc_delong

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((ROOT / "data" / "sample" / "ground_truth.json").read_text())


@pytest.fixture(scope="module")
def sample_report():
    return validate_health_score(load_dataset(ROOT / "data" / "sample"), horizon=3)


def test_auc_is_the_mann_whitney_statistic() -> None:
    """AUC = U / (m n) (scipy's Mann-Whitney U, computed independently), ties as 1/2."""
    y = np.array([1, 0, 1, 0, 0, 1, 0, 0, 1, 0])
    s1 = np.array([0.9, 0.1, 0.4, 0.4, 0.3, 0.8, 0.2, 0.6, 0.7, 0.05])
    s2 = np.array([0.2, 0.3, 0.9, 0.1, 0.5, 0.4, 0.6, 0.2, 0.8, 0.7])
    auc, cov = auc_delong(y, s1, s2)
    for k, s in enumerate((s1, s2)):
        u = stats.mannwhitneyu(s[y == 1], s[y == 0]).statistic
        assert auc[k] == pytest.approx(u / (4 * 6))
    assert cov.shape == (2, 2) and (np.diag(cov) > 0).all()
    # a score compared with itself: zero variance of the difference
    _, same = auc_delong(y, s1, s1)
    assert same[0, 0] + same[1, 1] - 2 * same[0, 1] == pytest.approx(0.0, abs=1e-15)
    flipped, _ = auc_delong(y, -s1)
    assert flipped[0] == pytest.approx(1 - auc[0])
    with pytest.raises(ModelInputError, match="both outcomes"):
        auc_delong(np.zeros(3), np.arange(3))


def test_sample_fitted_weights_beat_the_configured_ones(sample_report) -> None:
    cmp = sample_report.comparison
    assert cmp["auc_difference"] > 0 and cmp["p_value"] < 0.05
    m = sample_report.metrics
    assert m.loc["fitted", "auc"] > m.loc["configured", "auc"]
    assert "better than the configured weights" in sample_report.verdict


def test_sample_component_ranking_against_the_generator(sample_report, truth: dict) -> None:
    usage = truth["behaviour"]["usage"]
    assert usage["health_slope"] / usage["noise_sd"] > 1  # usage: signal above noise
    assert isinstance(usage["key_events_per_session"], (int, float))  # engagement: none
    w = sample_report.weights
    assert w.loc["usage", "fitted_rank"] == 1
    assert w.loc["usage", "fitted_weight"] > w.loc["usage", "configured_weight"]
    assert w.loc["usage", "p_value"] < 0.001
    # engagement carries no information in the generator: not significant (1% level)
    assert w.loc["engagement", "p_value"] > 0.01
    assert w.loc["engagement", "fitted_weight"] < w.loc["engagement", "configured_weight"]
    assert w["fitted_weight"].sum() == pytest.approx(1.0)
    assert w["configured_weight"].sum() == pytest.approx(1.0)


def test_sample_configured_auc_by_hand(sample_report) -> None:
    """Recompute the configured score's out-of-sample AUC from the tables themselves."""
    from cs_sim.kpis.health import health_score
    from cs_sim.models.drivers import churn_labels

    ds = load_dataset(ROOT / "data" / "sample")
    h = health_score(ds.usage, ds.mrr, tickets=ds.tickets, surveys=ds.surveys)
    lab = churn_labels(ds.mrr, horizon=3)
    d = lab.merge(h, on=["account_id", "month"])
    start = pd.Timestamp(sample_report.split["test_months"][0])
    d = d[(d["month"] >= start) & d["score"].notna()]
    y = d["churn"].to_numpy()
    u = stats.mannwhitneyu(-d["score"][y == 1], -d["score"][y == 0]).statistic
    assert sample_report.metrics.loc["configured", "auc"] == pytest.approx(
        u / (y.sum() * (1 - y).sum()))
    assert sample_report.split["test_events"] == int(y.sum())


def test_sample_report_parts(sample_report) -> None:
    r = sample_report
    assert r.enough_data
    assert list(r.metrics.index) == ["configured", "fitted"]
    for col in ("auc", "auc_lower", "auc_upper", "top_decile_lift", "red_before_churn"):
        assert np.isfinite(r.metrics[col]).all(), col
    dec = r.calibration["deciles"]
    assert dec["rows"].sum() == r.split["test_rows"] and len(dec) == 10
    # the predicted churn of the deciles rises
    assert (np.diff(dec["predicted"]) > 0).all()
    bands = r.calibration["bands"]
    assert list(bands["band"]) == ["red", "yellow", "green"]
    assert bands["rows"].sum() == r.split["test_rows"]
    # train months end `horizon` months before the test months start
    train_end = pd.Timestamp(r.split["train_months"][1])
    test_start = pd.Timestamp(r.split["test_months"][0])
    assert (test_start.year - train_end.year) * 12 + test_start.month - train_end.month == 3
    text = r.to_text()
    assert "Out of sample" in text and "AUC" in text and "Weights" in text
    json.dumps(r.to_dict())
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assert len(r.plot().get_lines()) == 3
    plt.close("all")


def test_example_says_plainly_that_there_is_too_little_churn() -> None:
    ex = load_dataset(ROOT / "data" / "example")
    for horizon in (1, 3):
        r = validate_health_score(ex, horizon=horizon)
        assert not r.enough_data
        assert r.verdict.startswith("Not enough churn to validate the health score")
        assert "Nothing can be said yet" in r.verdict
        assert r.to_text().startswith("Health-score validation")
        json.dumps(r.to_dict())
    with pytest.raises(ModelInputError, match="test_months"):
        validate_health_score(ex, test_months=50)


def test_a_score_that_does_not_predict_churn_is_called_so() -> None:
    metrics = pd.DataFrame({
        "auc": [0.51, 0.53], "auc_lower": [0.48, 0.50], "auc_upper": [0.54, 0.56],
        "auc_p_value": [0.25, 0.03], "top_decile_lift": [1.02, 1.1], "red_share": [0.1, 0.1],
        "churners": [50, 50], "red_before_churn": [0.1, 0.2],
        "median_lead_months": [np.nan, 2.0],
    }, index=["configured", "fitted"])
    weights = pd.DataFrame({"fitted_weight": [1.0, 0.0], "fitted_rank": [1, 2],
                            "direction": ["as expected", "wrong way"]},
                           index=["usage", "sentiment"])
    text = _verdict(metrics, weights, {"auc_difference": 0.02, "p_value": 0.3},
                    {"test_months": ["2025-01", "2025-06"], "test_events": 50},
                    "3 months", 0.05)
    assert text.startswith("The configured health score does not predict churn within "
                           "3 months")
    assert "no better than chance" in text
    assert "not distinguishable from the configured weights" in text
    assert "Higher sentiment scores went with more churn" in text
