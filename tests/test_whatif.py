"""The what-if notebook's views (cs_sim.whatif): figures equal their own recomputation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import cs_sim
from cs_sim.format import fmt
from cs_sim.whatif import (
    decision_table,
    decision_view,
    headline_items,
    interval_table,
    variant_inputs,
    variants_table,
)

SCENARIOS = Path(__file__).resolve().parents[1] / "templates" / "scenarios"


@pytest.fixture(scope="module")
def comparisons() -> dict:
    base = cs_sim.load_scenario(SCENARIOS / "baseline.yaml")
    out = {}
    for name in ("save_play", "tech_touch_long_tail"):
        v = cs_sim.load_scenario(SCENARIOS / f"{name}.yaml")
        out[name] = cs_sim.compare(base.with_changes({"horizon_months": 6}),
                                   v.with_changes({"horizon_months": 6}),
                                   replications=4, seed=3)
    return out


def test_decision_table_recomputes_from_the_paired_differences(comparisons: dict) -> None:
    frame = decision_table(comparisons).to_frame()
    for name, cmp in comparisons.items():
        d = cmp.differences  # one row per replication: variant - baseline
        row = frame.loc[name]
        assert row["profit"] == pytest.approx(d["profit"].mean())
        assert row["CS cost"] == pytest.approx(d["total_cost"].mean())
        assert row["NPV with terminal value"] == pytest.approx(d["npv"].mean())
        assert row["P(profit better)"] == pytest.approx((d["profit"] > 0).mean())
        cost = d["total_cost"].mean()
        if cost > 0:  # ROI = a ratio of means, only where the variant costs more
            assert row["ROI"] == pytest.approx(d["profit"].mean() / cost)
            assert np.isnan(row["saving"])
        else:
            assert np.isnan(row["ROI"]) and row["saving"] == pytest.approx(-cost)
        # payback: the first month from which the cumulative mean profit difference is > 0
        b, v = cmp.baseline.monthly, cmp.variant.monthly
        monthly = (v["profit"].to_numpy() - b["profit"].to_numpy()).reshape(4, -1).mean(0)
        cum = np.cumsum(monthly)
        want = next((m + 1 for m in range(len(cum)) if (cum[m:] > 0).all()), None)
        assert (np.isnan(row["payback month"]) if want is None
                else row["payback month"] == want)
    text = decision_table(comparisons).to_text()
    assert fmt(frame.loc["save_play", "profit"], "money", diff=True) in text  # signed


def test_the_two_intervals_are_the_t_interval_and_the_quantiles(comparisons: dict) -> None:
    from scipy import stats

    table = interval_table(comparisons, metrics=["profit"]).to_frame()
    d = comparisons["save_play"].differences["profit"].to_numpy()
    half = stats.t.ppf(0.95, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    row = table[table["variant"] == "save_play"].iloc[0]
    lo, hi = np.quantile(d, [0.05, 0.95])
    assert row.iloc[3] == (f"{fmt(d.mean() - half, 'money', diff=True)} .. "
                           f"{fmt(d.mean() + half, 'money', diff=True)}")
    assert row.iloc[4] == f"{fmt(lo, 'money', diff=True)} .. {fmt(hi, 'money', diff=True)}"


def test_variant_inputs_are_its_own_numbers_effects_first() -> None:
    base = cs_sim.load_scenario(SCENARIOS / "baseline.yaml")
    save = cs_sim.load_scenario(SCENARIOS / "save_play.yaml")
    # save_play.yaml adds a play: its effect (0.6, 10) first, then its threshold (40), then
    # cooldown, hours, cost, ... as typed; decay half_life 3 is the default (not typed)
    assert variant_inputs(base, save, limit=4) == [
        "plays.save_play.effect.hazard_multiplier", "plays.save_play.effect.health",
        "plays.save_play.condition[0].value", "plays.save_play.cooldown_months"]
    more = cs_sim.load_scenario(SCENARIOS / "more_csms.yaml")
    assert variant_inputs(base, more) == ["tiers.high_touch.team.headcount",
                                          "tiers.low_touch.team.headcount"]
    assert variant_inputs(base, base) == []
    shown = variants_table(base, [more]).to_text()
    assert "tiers.high_touch.team.headcount: 4 \u2192 6" in shown


def test_views_escape_names_and_headlines_follow_the_decision(comparisons: dict) -> None:
    cmp = comparisons["save_play"]
    html = decision_view("<b>x</b>", cmp)._repr_html_()
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    items = {k: (v, u) for k, _, v, u in headline_items(comparisons, calibrated=False)}
    assert items["backtest_passed"] == (None, "flag")
    assert items["save_play_profit_diff"][0] == pytest.approx(cmp.differences["profit"].mean())
    assert items["save_play_nrr_diff"][0] == pytest.approx(
        cmp.differences["nrr_annualised"].mean())


def test_forest_of_no_difference_has_a_readable_axis(comparisons: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from cs_sim.plotting import plot_forest

    frame = comparisons["save_play"].to_frame().copy()
    frame.loc[:, ["diff", "ci_lo", "ci_hi"]] = 0.0
    ax = plot_forest(frame, metrics=["grr_annualised", "nrr_annualised"],
                     ax=Figure().add_subplot())
    assert ax.get_xlim() == (-0.01, 0.01)  # +/- 1 percentage point around no difference
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert "+0.0 pp" in labels or "+0 pp" in labels
    assert not any("0000" in t for t in labels)
