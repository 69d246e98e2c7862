"""The figures of the KPI, maturity and journey notebooks draw the numbers they are given,
with nothing clipped, legends off the data and ticks in the figures' units.

Truth: the hand calculations of data/example (expected_kpis.json), the result objects'
own tables (a bar is the figure it stands for) and matplotlib's geometry.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import numpy as np
import pytest

import cs_sim
from cs_sim import plotting
from cs_sim.baseline import kpi_baseline
from cs_sim.format import fmt

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "example"
EXPECTED = json.loads((EXAMPLE / "expected_kpis.json").read_text())


@pytest.fixture(autouse=True)
def _close():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


@pytest.fixture(scope="module")
def example() -> cs_sim.Dataset:
    return cs_sim.load_dataset(EXAMPLE)


@pytest.fixture(scope="module")
def baseline(example: cs_sim.Dataset):
    return kpi_baseline(example, start="2025-01", by="plan")


def _inside(ax, artists) -> None:
    """Every artist's drawn box lies inside the figure."""
    fig = ax.figure
    fig.canvas.draw()
    box = fig.bbox
    for a in artists:
        b = a.get_window_extent()
        assert box.x0 - 1 <= b.x0 and b.x1 <= box.x1 + 1, a
        assert box.y0 - 1 <= b.y0 and b.y1 <= box.y1 + 1, a


# ------------------------------------------------------------------------- MRR bridge
def test_bridge_leaves_room_and_puts_the_legend_outside(baseline) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
    plotting.plot_mrr_bridge(baseline.bridge, currency="USD", ax=ax)
    hand = EXPECTED["mrr_bridge"][-5:]
    gains = max(r["new"] + r["expansion"] + r["reactivation"] for r in hand)
    losses = max(r["contraction"] + r["churned"] for r in hand)
    lo, hi = ax.get_ylim()
    assert hi > gains * 1.05 and lo < -losses * 1.05  # the tallest bar is not clipped
    tops = [p.get_y() + p.get_height() for p in ax.patches]
    assert max(tops) == pytest.approx(gains)
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1  # beside the bars, not over them
    assert ax.yaxis.get_major_formatter()(1234567.0, 0) == "1,234,567"
    assert ax.yaxis.get_offset_text().get_text() == ""  # no 1e6 offset
    assert "USD" in ax.get_ylabel()


def test_waterfall_adds_up_to_the_hand_bridge(baseline) -> None:
    ax = plotting.plot_mrr_waterfall(baseline.bridge)
    hand = EXPECTED["mrr_bridge"][-5:]
    bars = ax.patches
    assert len(bars) == 7
    heights = [b.get_height() for b in bars]
    assert heights[0] == hand[0]["start_mrr"] and heights[-1] == hand[-1]["end_mrr"]
    for i, col in enumerate(("new", "expansion", "reactivation", "contraction", "churned")):
        assert heights[i + 1] == pytest.approx(sum(r[col] for r in hand)), col
    # the churned bar hangs from the level before it down to the ending MRR
    churned = bars[5]
    assert churned.get_y() == pytest.approx(hand[-1]["end_mrr"])
    lo, hi = ax.get_ylim()
    assert all(lo <= b.get_y() + b.get_height() <= hi for b in bars[1:-1])
    labels = [t.get_text() for t in ax.texts]
    assert fmt(-sum(r["churned"] for r in hand), "money", diff=True) in labels
    _inside(ax, ax.texts)


# ------------------------------------------------------------------------------ cohorts
def test_cohort_heatmap_writes_every_cell(example: cs_sim.Dataset) -> None:
    from cs_sim.kpis import cohort_retention

    table = cohort_retention(example.mrr, freq="Q")
    ax = plotting.plot_cohort_heatmap(table, step=2, freq="Q")
    shown = table[[c for c in table.columns[::2] if table[c].notna().any()]]
    cells = shown.to_numpy(dtype=float)
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == np.isfinite(cells).sum()
    assert texts[0] == fmt(cells[0, 0], "pct", digits=0)
    assert [t.get_text() for t in ax.get_yticklabels()][0].endswith("-Q1")
    _inside(ax, ax.texts)


# ----------------------------------------------------------------------------- segments
def test_segment_panels_show_each_segments_figure(baseline) -> None:
    fig = plotting.segment_kpis_figure(baseline.headline)
    axes = fig.get_axes()
    assert len(axes) == 3
    widths = sorted(p.get_width() for p in axes[0].patches)
    nrr = baseline.headline.loc["nrr", ["enterprise", "growth", "starter"]].astype(float)
    assert widths == pytest.approx(sorted(nrr))
    with pytest.raises(ValueError, match="not in the headline"):
        plotting.segment_kpis_figure(baseline.headline, ["nope"])
    whole = kpi_baseline(cs_sim.load_dataset(EXAMPLE), start="2025-01")
    assert "No segments" in plotting.segment_kpis_figure(whole.headline).texts[0].get_text()


# ---------------------------------------------------------------------- models' figures
@pytest.fixture(scope="module")
def sample() -> cs_sim.Dataset:
    return cs_sim.load_dataset(ROOT / "data" / "sample")


def test_clv_bars_are_the_models_figures(sample: cs_sim.Dataset) -> None:
    from cs_sim.calibration import Unavailable
    from cs_sim.models import clv_by_segment

    clv = clv_by_segment(sample, gross_margin=0.8, by="segment")
    ax = plotting.plot_clv_by_segment(clv, currency="USD")
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx(list(clv.table["clv"]))
    assert ax.get_xscale() == ("log" if clv.table["clv"].max() / clv.table["clv"].min() > 30
                               else "linear")
    assert ax.xaxis.get_major_formatter()(1e6, 0) == "1,000,000"
    ax = plotting.plot_clv_by_segment(Unavailable("Model-based CLV", "too few customers"))
    assert "too few customers" in ax.texts[0].get_text()


def test_health_validation_figure(sample: cs_sim.Dataset) -> None:
    from cs_sim.models import validate_health_score

    check = validate_health_score(sample)
    fig = plotting.health_validation_figure(check)
    roc, bands, weights = fig.get_axes()
    heights = [p.get_height() for p in bands.patches]
    assert heights == pytest.approx(list(check.calibration["bands"]["churn_rate"]))
    fitted = [p.get_width() for p in weights.patches][len(check.weights):]
    assert fitted == pytest.approx(list(check.weights["fitted_weight"]))
    assert len(roc.get_lines()) == 3  # configured, fitted, chance
    none = plotting.health_validation_figure(None)
    assert "not validated" in none.get_axes()[0].texts[0].get_text()


def test_survival_legend_counts_the_accounts(sample: cs_sim.Dataset) -> None:
    from cs_sim.models import account_lifetimes, kaplan_meier

    lives = account_lifetimes(sample, by="segment")
    km = kaplan_meier(lives["duration"], lives["churned"], groups=lives["segment"],
                      entry=lives["entry"])
    ax = km.plot(xlabel="months since first payment", title="survival")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    # accounts at risk for some time (with late entries, a life that ends where its
    # observation starts adds nothing and is left out of the fit)
    assert (lives["entry"] > 0).any()
    fitted = lives[lives["duration"] > lives["entry"]]
    counts = fitted["segment"].value_counts()
    assert len(counts) == len(labels)
    for seg, n in counts.items():
        assert f"{seg} ({fmt(n, 'count')} accounts)" in labels
    assert ax.get_xlabel() == "months since first payment" and ax.get_title() == "survival"


# ------------------------------------------------------------------ maturity and journey
def test_maturity_radar_and_gaps(example: cs_sim.Dataset) -> None:
    from cs_sim.maturity import assess_maturity

    a = assess_maturity(ROOT / "tests" / "data" / "maturity_proactive.yaml", dataset=example)
    ax = a.plot_radar()
    lines = ax.get_lines()
    assert list(lines[2].get_ydata()[:-1]) == list(a.scores["next_stage_needs"])
    ax = a.plot_gaps()
    short = (a.scores["score"] < a.scores["next_stage_needs"]).to_numpy()
    red = [matplotlib.colors.to_hex(p.get_facecolor()) == "#e31a1c" for p in ax.patches]
    assert red == list(short) and short.any()
    gaps = [t.get_text() for t in ax.texts if "gap" in t.get_text()]
    assert len(gaps) == short.sum()
    items = dict((k, v) for k, _, v, _ in a.headline_items())
    assert items["maturity_stage"] == 2 and items["maturity_score"] == pytest.approx(a.overall)


def test_journey_outcome_bars_share_the_entered_accounts(example: cs_sim.Dataset) -> None:
    from matplotlib.patches import Rectangle

    from cs_sim.journey import journey_map

    jm = journey_map(example)
    ax = jm.plot()
    bars = [p for p in ax.patches if type(p) is Rectangle and p.get_facecolor()[3] > 0]
    adoption = jm.stages.loc["adoption"]
    i = list(jm.stages.index).index("adoption")
    mine = [b for b in bars if i + 0.05 < b.get_x() < i + 0.95]
    widths = [b.get_width() for b in mine]
    assert widths == pytest.approx([0.8 * adoption[c] / adoption["entered"]
                                    for c in ("converted", "dropped", "in_progress")])
    items = {k: v for k, _, v, _ in jm.headline_items()}
    assert items["adoption_conversion"] == pytest.approx(0.625)  # 5 of 8 (README)
    _inside(ax, ax.texts)
