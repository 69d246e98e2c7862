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
    # CLV: margin x ARPA x (1 + i) / (1 + i - r), r the month's net retention, at most 1
    gm, i = run.scenario.gross_margin, 1.10 ** (1 / 12) - 1
    r = np.minimum(m["nrr"], 1.0)
    np.testing.assert_allclose(m["clv"], gm * arpa * (1 + i) / (1 + i - r), rtol=1e-12)
    p = run.per_replication
    g = m.groupby("replication")
    mlc = (g["churned"].sum() / g["accounts_start"].sum()).to_numpy()
    np.testing.assert_allclose(p["monthly_logo_churn"], mlc, rtol=1e-12)
    # the horizon's CLV from the end state (all 6 months here): pooled ARPA and retention
    arpa_end = (g["mrr_end"].sum() / g["accounts_end"].sum()).to_numpy()
    r_end = ((g["mrr_end"].sum() - g["new_mrr"].sum()) / g["mrr_start"].sum()).to_numpy()
    np.testing.assert_allclose(
        p["clv"], gm * arpa_end * (1 + i) / (1 + i - np.minimum(r_end, 1.0)), rtol=1e-12
    )
    # profit and its NPV over the horizon, month by month
    profit = (gm * m["mrr_end"] - m["total_cost"]).to_numpy().reshape(len(p), -1)
    np.testing.assert_allclose(p["profit"], profit.sum(axis=1), rtol=1e-12)
    disc = (1 + i) ** -np.arange(1, profit.shape[1] + 1)
    np.testing.assert_allclose(p["npv_horizon"], profit @ disc, rtol=1e-12)
    np.testing.assert_allclose(p["npv"], p["npv_horizon"] + p["terminal_value"], rtol=1e-12)


def test_segments_and_tiers_add_up_to_the_book(run) -> None:
    p = run.per_replication.set_index("replication")
    seg = run.per_segment.groupby("replication").sum(numeric_only=True)
    tier = run.per_tier.groupby("replication").sum(numeric_only=True)
    assert set(run.per_segment["segment"]) == set(run.scenario.segment_names())
    assert list(run.per_tier["tier"].unique()) == run.scenario.tier_names()
    for part in (seg, tier):
        for col, total in (("revenue", "revenue"), ("cs_cost", "total_cost"),
                           ("profit", "profit"), ("logos_churned", "logos_churned"),
                           ("new_logos", "new_logos"), ("mrr_end", "mrr_end"),
                           ("play_cost", "play_cost"), ("plays_dropped", "plays_dropped")):
            np.testing.assert_allclose(part[col], p[total], rtol=1e-9, err_msg=col)
    # every delivery by segment; by tier the CSM team's (automated plays need no team)
    np.testing.assert_allclose(seg["plays_delivered"], p["plays_delivered"], rtol=1e-9)
    # (onboarding is one play, automated in tech-touch and CSM work elsewhere)
    assert (tier["plays_delivered"] < p["plays_delivered"]).all()
    hours = run.plays.groupby("replication")["hours"].sum()
    np.testing.assert_allclose(tier["csm_hours"], hours, rtol=1e-9)
    np.testing.assert_allclose(seg["csm_hours"], hours, rtol=1e-9)
    np.testing.assert_allclose(seg["terminal_value"], p["terminal_value"], rtol=1e-9)
    np.testing.assert_allclose(tier["csm_cost"], p["csm_cost"], rtol=1e-9)
    # the monthly frames add up too
    for frame, key in ((run.segments, "segment"), (run.tiers, "tier")):
        sums = frame.groupby(["replication", "month"])[["mrr_end", "cs_cost"]].sum()
        m = run.monthly.set_index(["replication", "month"])
        np.testing.assert_allclose(sums["mrr_end"], m["mrr_end"], rtol=1e-9, err_msg=key)
        np.testing.assert_allclose(sums["cs_cost"], m["total_cost"], rtol=1e-9, err_msg=key)
    # a tier's utilisation is its hours over its capacity
    t = run.tiers.groupby(["replication", "tier"], sort=False)[
        ["hours_used", "capacity_hours"]].sum()
    pt = run.per_tier.set_index(["replication", "tier"])
    np.testing.assert_allclose(pt["csm_utilisation"],
                               (t["hours_used"] / t["capacity_hours"]).reindex(pt.index))


# ---------------------------------------------------------------------------- rendering
def test_every_metric_has_a_label_and_a_unit(run) -> None:
    assert set(METRICS) == set(run.per_replication.columns) - {"replication"}
    labels = [label for label, _ in METRICS.values()]
    assert len(set(labels)) == len(labels)
    assert {unit for _, unit in [*METRICS.values(), ROI]} <= set(cs_sim.format.UNITS)


def test_simulation_result_renders_itself(run, tmp_path) -> None:
    summary = run.summary()
    frame = run.to_frame()
    assert list(frame.columns) == ["label", "unit", "mean", "std", "se", "lo", "hi", "n",
                                   "ci_lo", "ci_hi"]
    pd.testing.assert_frame_equal(frame.drop(columns=["label", "unit"]), summary)
    assert frame.loc["nrr", "label"] == METRICS["nrr"][0]
    doc = run.to_dict()
    assert json.loads(json.dumps(doc, allow_nan=False)) == doc
    assert doc["replications"] == 4 and doc["seed"] == 3 and doc["scenario"] == "small"
    assert doc["summary"]["nrr"]["mean"] == summary.loc["nrr", "mean"]
    assert doc["intervals"]["lo/hi"] == "range of outcomes (5%-95% of replications)"
    assert doc["money"]["discount_rate"] == 0.10 and doc["money"]["terminal_value"] is True
    seg = run.to_frame(by="segment")
    assert seg.index.names == ["segment", "metric"]
    assert doc["segments"]["smb"]["clv"]["mean"] == seg.loc[("smb", "clv"), "mean"]
    assert doc["tiers"]["high_touch"]["csm_utilisation"]["mean"] == pytest.approx(
        run.per_tier.query("tier == 'high_touch'")["csm_utilisation"].mean())
    text = run.to_text()
    assert "range of outcomes (5%-95%)" in text
    assert max(len(line) for line in text.splitlines()) <= 100
    for title in ("Money over the 6 months", "Retention", "Customers", "Team and plays",
                  "By segment (mean)", "By tier (mean)"):
        assert any(line.startswith(title) for line in text.splitlines()), title
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
        ["monthly.csv", "tiers.csv", "segments.csv", "plays.csv", "per_replication.csv",
         "per_segment.csv", "per_tier.csv", "summary.csv", "summary_segments.csv",
         "summary_tiers.csv", "summary.json", "summary.txt"]
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
    assert doc["decision"]["case"] == "costs_more"
    text = pair.to_text()
    assert text.startswith('Scenario "small_save" (variant) compared with scenario "small" '
                           "(baseline)")
    assert "uncertainty of the mean difference (90% CI)" in text
    assert max(len(line) for line in text.splitlines()) <= 100
    line = next(ln for ln in text.splitlines() if ln.startswith("CS cost"))
    row = summary.loc["total_cost"]
    assert line.split()[3:] == [f"{row['baseline']:,.0f}", f"{row['variant']:,.0f}",
                                f"{row['diff']:+,.0f}", f"{row['ci_lo']:+,.0f}", "..",
                                f"{row['ci_hi']:+,.0f}"]
    # the interval of the mean difference is a Student-t interval (n - 1 = 3 df)
    from scipy import stats

    d = pair.differences["total_cost"]
    half = stats.t.ppf(0.95, 3) * d.std(ddof=1) / 2
    assert (row["ci_lo"], row["ci_hi"]) == pytest.approx((d.mean() - half, d.mean() + half))
    roi = next(ln for ln in text.splitlines() if ln.startswith("ROI of the change"))
    r = summary.loc["roi"]
    assert roi.split()[4:] == [f"{r['diff']:.2f}", f"{r['ci_lo']:.2f}", "..",
                               f"{r['ci_hi']:.2f}", "(bootstrap)"]
    assert "Decision" in text and "CSM utilisation by tier" in text
    assert "pp" in pair._repr_html_()
    seg = pair.to_frame(by="segment")
    diffs = pair.variant.per_segment.set_index(["replication", "segment"])["profit"] - \
        pair.baseline.per_segment.set_index(["replication", "segment"])["profit"]
    assert seg.loc[("smb", "profit"), "diff"] == pytest.approx(
        diffs.xs("smb", level="segment").mean())
    written = pair.write(tmp_path)
    assert (tmp_path / "comparison.txt").read_text() == text + "\n"
    assert (tmp_path / "forest.png").read_bytes()[:4] == b"\x89PNG"
    assert "<svg" in (tmp_path / "forest.svg").read_text()
    assert (tmp_path / "variant" / "summary.json").exists() and len(written) == 8 + 2 * 12


def test_a_scenario_compared_with_itself_shows_zero_and_no_roi(small) -> None:
    same = cs_sim.compare(small, small, replications=2, seed=1)
    text = same.to_text()
    nrr = next(ln for ln in text.splitlines() if ln.startswith("NRR (starting"))
    assert "+0.00 pp" in nrr
    roi = next(ln for ln in text.splitlines() if ln.startswith("ROI of the change"))
    assert "n/a" in roi and "no difference in cost" in roi
    assert same.to_dict()["roi"] is None
    assert same.decision().case == "same_cost" and same.notes() == []


def test_compare_flags_changes_that_cannot_act(small) -> None:
    base = cs_sim.load_scenario(small)
    # the low-touch team is far from busy in the small book: more of it has nothing to do
    more = base.with_changes({"name": "more_low_touch",
                              "tiers": [{"name": "low_touch", "team": {"headcount": 6}}]})
    cmp = cs_sim.compare(base, more, replications=2, seed=4)
    util = cmp.baseline.tiers.query("tier == 'low_touch'")
    used = util["hours_used"].sum() / util["capacity_hours"].sum()
    assert used < 0.8
    (note,) = cmp.notes()
    assert note.startswith(f"The low_touch team was {100 * used:.0f}% utilised")
    assert "no work to do" in note and note in cmp.to_text().replace("\n    ", " ")
    # small accounts never reach the high-touch tier: a play for them cannot act
    nobody = base.with_changes({"name": "nobody", "plays": [
        {"name": "vip_call", "kind": "time", "schedule": {"every_months": 1},
         "tiers": ["high_touch"], "segments": ["smb"], "hours": 1}]})
    cmp = cs_sim.compare(base, nobody, replications=2, seed=4)
    assert cmp.variant.plays.query("play == 'vip_call'")["requested"].sum() == 0
    assert any(n.startswith("No account was ever eligible for the play vip_call")
               for n in cmp.notes())


def test_forest_chart_shows_figures_in_their_units(pair) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from cs_sim.plotting import forest_figure, plot_forest

    frame = pair.to_frame()
    ax = plot_forest(frame, metrics=["grr_annualised", "nrr_annualised"])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    d = frame.loc["grr_annualised"]
    assert labels[0].startswith("GRR, annualised\n") and f"{100 * d['diff']:+.2f} pp" in labels[0]
    ax.figure.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ticks and all(t.endswith(" pp") for t in ticks)
    ax = plot_forest(frame)  # the money rows
    ax.figure.canvas.draw()
    text = " ".join(t.get_text() for t in [*ax.get_xticklabels(), *ax.get_yticklabels()])
    assert f"{frame.loc['profit', 'diff']:+,.0f}" in text and "e+" not in text
    with pytest.raises(ValueError, match="one unit per Axes"):
        plot_forest(frame, metrics=["profit", "nrr"])
    fig = forest_figure(frame, title="t")
    assert len(fig.axes) == 3
