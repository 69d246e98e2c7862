"""Simulation results: ratios from the KPI formulas, and results that render themselves.

Expected values are recomputed here from the tidy frames (or by hand), not taken from
the code under test.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cs_sim
from cs_sim.kpis import clv_simple, formulas, revenue_retention
from cs_sim.sim.results import METRICS, ROI

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "templates" / "scenarios"


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("scenarios")
    path = folder / "small.yaml"
    path.write_text(
        f"extends: {SCENARIOS / 'baseline.yaml'}\nname: small\nhorizon_months: 6\n"
        "population: {n_accounts: 150}\nacquisition: {new_logos_per_month: 4}\n"
    )
    return path


@pytest.fixture(scope="module")
def run(small):
    return cs_sim.simulate(small, replications=4, seed=3)


@pytest.fixture(scope="module")
def pair(small):
    variant = small.parent / "small_save.yaml"
    variant.write_text(
        "extends: small.yaml\nname: small_save\n"
        "plays:\n"
        "  - name: save_play\n    kind: data\n    tiers: [high_touch, low_touch]\n"
        "    condition: [{metric: health, op: '<', value: 45}]\n    hours: 4\n"
        "    cost: 100\n    effect: {hazard_multiplier: 0.6, health: 8}\n"
    )
    return cs_sim.compare(small, variant, replications=4, seed=3)


# ----------------------------------------------------------------------------- formulas
def test_formulas_by_hand() -> None:
    assert formulas.grr(1000.0, 900.0) == pytest.approx(0.9)
    assert formulas.nrr(1000.0, 1050.0) == pytest.approx(1.05)
    assert formulas.logo_churn(3, 150) == pytest.approx(0.02)
    assert formulas.clv(100.0, 0.8, 0.02) == pytest.approx(4000.0)
    assert formulas.nps(50, 20, 100) == pytest.approx(30.0)
    # undefined where the denominator is 0: NaN, never an error or an infinity
    for value in (formulas.grr(0.0, 0.0), formulas.clv(100.0, 0.8, 0.0), formulas.nps(0, 0, 0)):
        assert math.isnan(value)
    out = formulas.nps(np.array([5, 0]), np.array([1, 0]), np.array([10, 0]))
    assert out[0] == pytest.approx(40.0) and np.isnan(out[1])
    # the checked user-facing version agrees and still refuses zero churn
    assert clv_simple(100.0, gross_margin=0.8, churn_rate=0.02) == formulas.clv(100.0, 0.8, 0.02)
    with pytest.raises(ValueError):
        clv_simple(100.0, gross_margin=0.8, churn_rate=0.0)


def test_table_kpis_use_the_formulas() -> None:
    ds = cs_sim.load_dataset(ROOT / "data" / "example")
    row = revenue_retention(ds.mrr, start="2025-01", end="2025-06").iloc[0]
    assert row["grr"] == formulas.grr(row["start_mrr"], row["retained_mrr"])
    assert row["nrr"] == formulas.nrr(row["start_mrr"], row["cohort_end_mrr"])
    assert row["logo_churn_rate"] == formulas.logo_churn(row["churned_accounts"],
                                                         row["start_accounts"])
    assert cs_sim.kpis.nps([10, 9, 8, 6, 0]).nps == pytest.approx(100 * (2 - 2) / 5)


def test_simulated_ratios_follow_their_definitions(run) -> None:
    m = run.monthly
    start = m["mrr_start"].to_numpy()
    kept = start - m["churned_mrr"] - m["contraction_mrr"]
    np.testing.assert_allclose(m["grr"], kept / start, rtol=1e-12)
    np.testing.assert_allclose(
        m["nrr"], (kept + m["expansion_mrr"]) / start, rtol=1e-12
    )
    churn = m["churned"] / m["accounts_start"]
    np.testing.assert_allclose(m["logo_churn_rate"], churn, rtol=1e-12)
    arpa = m["mrr_end"] / m["accounts_end"]
    clv = (arpa * run.scenario.gross_margin / churn).where(churn > 0)  # no churn: undefined
    assert (churn == 0).any()
    np.testing.assert_allclose(m["clv"], clv, rtol=1e-12)
    p = run.per_replication
    g = m.groupby("replication")
    mlc = (g["churned"].sum() / g["accounts_start"].sum()).to_numpy()
    np.testing.assert_allclose(p["monthly_logo_churn"], mlc, rtol=1e-12)
    np.testing.assert_allclose(
        p["clv"], g["arpa"].mean().to_numpy() * run.scenario.gross_margin / mlc, rtol=1e-12
    )


# ---------------------------------------------------------------------------- rendering
def test_every_metric_has_a_label_and_a_unit(run) -> None:
    assert set(METRICS) == set(run.per_replication.columns) - {"replication"}
    labels = [label for label, _ in METRICS.values()]
    assert len(set(labels)) == len(labels)
    assert {unit for _, unit in [*METRICS.values(), ROI]} <= set(cs_sim.format.UNITS)


def test_simulation_result_renders_itself(run, tmp_path) -> None:
    summary = run.summary()
    frame = run.to_frame()
    assert list(frame.columns) == ["label", "unit", "mean", "std", "se", "lo", "hi", "n"]
    pd.testing.assert_frame_equal(frame.drop(columns=["label", "unit"]), summary)
    assert frame.loc["nrr", "label"] == METRICS["nrr"][0]
    doc = run.to_dict()
    assert json.loads(json.dumps(doc, allow_nan=False)) == doc
    assert doc["replications"] == 4 and doc["seed"] == 3 and doc["scenario"] == "small"
    assert doc["summary"]["nrr"]["mean"] == summary.loc["nrr", "mean"]
    assert doc["intervals"]["lo/hi"] == "range of outcomes (5%-95% of replications)"
    text = run.to_text()
    assert "range of outcomes (5%-95% of replications)" in text
    churn = next(ln for ln in text.splitlines() if ln.startswith("Annual logo churn"))
    row = summary.loc["annual_logo_churn"]
    assert churn.split()[3:] == [f"{100 * row['mean']:.1f}%", f"{100 * row['lo']:.1f}%", "..",
                                 f"{100 * row['hi']:.1f}%"]
    mrr = next(ln for ln in text.splitlines() if ln.startswith("MRR at the end"))
    assert f"{summary.loc['mrr_end', 'mean']:,.0f}" in mrr
    accounts = next(ln for ln in text.splitlines() if ln.startswith("Accounts at the end"))
    assert f"{round(summary.loc['accounts_end', 'mean']):,d}" in accounts
    assert "e+" not in text and "e-0" not in text
    html = run._repr_html_()
    assert "<table" in html and f"{100 * row['mean']:.1f}%" in html
    written = run.write(tmp_path)
    assert sorted(p.name for p in written) == sorted(
        ["monthly.csv", "tiers.csv", "plays.csv", "per_replication.csv",
         "summary.csv", "summary.json", "summary.txt"]
    )
    assert json.loads((tmp_path / "summary.json").read_text()) == doc


def test_comparison_renders_itself(pair, tmp_path) -> None:
    summary = pair.summary()
    frame = pair.to_frame()
    assert frame.loc["roi", "label"] == ROI[0]
    pd.testing.assert_frame_equal(frame.drop(columns=["label", "unit"]), summary)
    doc = pair.to_dict()
    assert json.loads(json.dumps(doc, allow_nan=False)) == doc
    assert (doc["baseline"], doc["variant"]) == ("small", "small_save")
    assert doc["roi"] == summary.loc["roi", "diff"]
    text = pair.to_text()
    assert text.startswith('Scenario "small_save" (variant) compared with scenario "small" '
                           "(baseline)")
    assert "uncertainty of the mean difference (90% CI)" in text
    line = next(ln for ln in text.splitlines() if ln.startswith("CS cost"))
    row = summary.loc["total_cost"]
    assert line.split()[3:] == [f"{row['baseline']:,.0f}", f"{row['variant']:,.0f}",
                                f"{row['diff']:+,.0f}", f"{row['ci_lo']:+,.0f}", "..",
                                f"{row['ci_hi']:+,.0f}"]
    roi = next(ln for ln in text.splitlines() if ln.startswith("ROI of the change"))
    assert roi.split()[-1] == f"{summary.loc['roi', 'diff']:.2f}"
    assert "pp" in pair._repr_html_()
    written = pair.write(tmp_path)
    assert (tmp_path / "comparison.txt").read_text() == text + "\n"
    assert (tmp_path / "variant" / "summary.json").exists() and len(written) == 4 + 2 * 7


def test_a_scenario_compared_with_itself_shows_zero_and_no_roi(small) -> None:
    same = cs_sim.compare(small, small, replications=2, seed=1)
    text = same.to_text()
    nrr = next(ln for ln in text.splitlines() if ln.startswith("NRR (starting"))
    assert "+0.00 pp" in nrr
    roi = next(ln for ln in text.splitlines() if ln.startswith("ROI of the change"))
    assert "n/a" in roi and "no difference in cost" in roi
    assert same.to_dict()["roi"] is None
