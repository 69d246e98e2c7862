"""What the research and segmentation notebooks show beyond the analyses themselves: the
dataset overview, the whole company's figures, the headline items, the score split by
criterion, and the segment bar charts.

Truth comes from the hand calculations of data/example (its README and
expected_kpis.json), from counting the CSV files with the standard library, and from hand
calculations written next to each assertion.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

import cs_sim
from cs_sim.format import Table, fmt, html_escaped
from cs_sim.io import Dataset
from cs_sim.research import analyse_research, dataset_overview
from cs_sim.segmentation import ATTRACTIVENESS_WEIGHTS, attractiveness_parts, targeting

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "example"
EXPECTED = json.loads((EXAMPLE / "expected_kpis.json").read_text())


@pytest.fixture(scope="module")
def example() -> Dataset:
    return cs_sim.load_dataset(EXAMPLE)


@pytest.fixture(scope="module")
def research(example):
    return analyse_research(example, by="plan")


def _rows(name: str) -> list[dict[str, str]]:
    with open(EXAMPLE / f"{name}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# --------------------------------------------------------------------------- overview
def test_overview_counts_the_files(example) -> None:
    over = dataset_overview(example)
    tables = over.tables
    for name in ("accounts", "mrr", "usage", "tickets", "surveys", "trials", "interactions",
                 "costs"):
        rows = _rows(name)
        assert tables.loc[name, "in dataset"] and tables.loc[name, "rows"] == len(rows), name
        if "account_id" in rows[0]:
            assert tables.loc[name, "accounts"] == len({r["account_id"] for r in rows}), name
    assert not tables.loc["fx", "in dataset"] and pd.isna(tables.loc["fx", "rows"])
    # usage runs 2025-01 .. 2025-06: six months
    assert tables.loc["usage", "months"] == 6
    assert tables.loc["usage", "from"] == pd.Timestamp("2025-01-01")
    # the MRR months and the closing month, as the README works them out
    months = EXPECTED["mrr_by_month"]
    assert over.months == len(months) == 17 and fmt(over.first_month, "month") == "2024-02"
    last = months[-1]
    assert fmt(over.last_month, "month") == last["month"]
    assert over.mrr == last["mrr"] and over.paying_accounts == last["active_accounts"]
    assert over.accounts == len(_rows("accounts"))


def test_overview_segments_add_up(example) -> None:
    over = dataset_overview(example, by="plan")
    seg = over.segments
    plans = pd.Series([r["plan"] for r in _rows("accounts")]).value_counts()
    assert seg["accounts"].to_dict() == plans.to_dict()
    assert seg["paying_accounts"].sum() == over.paying_accounts
    assert seg["mrr"].sum() == pytest.approx(over.mrr) and seg["mrr_share"].sum() == \
        pytest.approx(1.0)
    # the company size band (no segment column): bands in their natural order
    bands = dataset_overview(example).segments.index.tolist()
    assert bands[:2] == ["1-49 employees", "50-249 employees"]
    assert bands[-1] == "(never paid)"


def test_overview_views_headlines_and_outline(example) -> None:
    over = dataset_overview(example)
    items = {k: (v, u) for k, _, v, u in over.headline_items()}
    assert items["paying_accounts"] == (9, "count") and items["mrr_at_end"] == (6550.0, "money")
    assert items["months_covered"] == (17, "count")
    text = over.outline()
    assert "2024-02 to 2025-06 (17)" in text and "fx" not in text
    summary = over.view("summary").to_text()
    assert "6,550 USD" in summary and "data/example" in summary  # as typed, not absolute
    kpis = over.kpis
    assert kpis.loc["nps", "available"] and kpis.loc["stickiness", "needs"] == "usage (with dau)"
    assert "nps_ci_low" not in kpis.index
    with pytest.raises(ValueError, match="unknown view"):
        over.view("nope")


def test_overview_says_what_a_bare_dataset_lacks(example) -> None:
    no_dau = example.usage.drop(columns=["dau"])
    bare = Dataset(accounts=example.accounts, mrr=example.mrr, usage=no_dau, source="bare")
    over = dataset_overview(bare)
    assert not over.tables.loc["tickets", "in dataset"]
    assert over.kpis.loc["seat_utilisation", "available"]
    assert not over.kpis.loc["stickiness", "available"]  # usage without its dau column
    assert not over.kpis.loc["nps", "available"]


# --------------------------------------------------------------------------- research
def test_company_figures_match_the_hand_calculations(research) -> None:
    c = research.company
    assert c["nps"] == pytest.approx(EXPECTED["nps"]["nps"])  # (8 - 4) / 16 -> 25
    assert c["csat"] == pytest.approx(100 * EXPECTED["csat"]["csat"])  # 5 of 8
    assert c["ces"] == pytest.approx(EXPECTED["ces"]["ces"])  # 18 / 5
    assert c["fcr"] == pytest.approx(EXPECTED["support"]["fcr"])  # 14 of 20 resolved
    assert c["aht"] == pytest.approx(EXPECTED["support"]["aht"])  # 504 minutes / 21 tickets
    # 21 tickets over 9 + 10 + 8 + 8 + 9 + 9 = 53 paying account-months (2025-01 .. 06)
    assert c["tickets_per_100_accounts"] == pytest.approx(100 * 21 / 53)
    # usage figures: the mean of the last three months (2025-04 .. 2025-06)
    last3 = EXPECTED["usage"][-3:]
    for key in ("seat_utilisation", "stickiness", "usage_rate"):
        assert c[key] == pytest.approx(np.mean([m[key] for m in last3])), key
    assert c["minutes_per_active_user"] == pytest.approx(
        np.mean([m["time_on_platform"] for m in last3]))
    assert c["coded_comment_share"] == 1.0  # every comment of the example carries a theme
    items = research.headline_items()
    assert [k for k, *_ in items][:3] == ["nps", "csat", "ces"]
    assert all(v == c[k] for k, _, v, _ in items)


def test_stickiness_by_segment_by_hand(research) -> None:
    # enterprise (A01, A02, A12) in 2025-01: A01 and A02 have usage rows; DAU / MAU summed
    usage = pd.DataFrame(_rows("usage"))
    plan = {r["account_id"]: r["plan"] for r in _rows("accounts")}
    jan = usage[(usage["month"] == "2025-01") & (usage["account_id"].map(plan) == "enterprise")]
    want = jan["dau"].astype(float).sum() / jan["active_users"].astype(float).sum()
    got = research.usage.set_index(["segment", "month"]).loc[
        ("enterprise", pd.Timestamp("2025-01-01")), "stickiness"]
    assert got == pytest.approx(want)


def test_views_have_readable_headings_and_escape_labels(research, example) -> None:
    tickets = research.view("tickets")
    assert "FCR" in tickets.frame.columns and "fcr" not in tickets.frame.columns
    assert tickets.units["FCR"] == "pct"
    row = tickets.to_text().splitlines()
    assert any(r.startswith("enterprise") and "33.3%" in r for r in row)  # 2 of 6, README
    company = research.view("company").to_text()
    assert "NPS" in company and fmt(25.0, "score") in company
    quotes = research.view("themes_by_segment").frame
    assert not quotes.isna().any().any()  # a quote nobody wrote is shown empty, not NaN
    # segment labels as a MultiIndex level (the answers' spread) are escaped too
    frame = pd.DataFrame({"x": [0.5]}, index=pd.MultiIndex.from_tuples(
        [("nps", "<b>x</b>")], names=["kind", "segment"]))
    assert html_escaped(frame).index[0] == ("nps", "&lt;b&gt;x&lt;/b&gt;")
    assert "<b>x</b>" not in Table(frame, {"x": "pct"})._repr_html_()
    assert research.outline().startswith("Research by accounts column 'plan'")


# --------------------------------------------------------------------------- segmentation
def test_attractiveness_parts_add_up_to_the_score() -> None:
    sample = cs_sim.load_dataset(ROOT / "data" / "sample")
    stp = targeting(sample, "segment")
    parts = stp.attractiveness_parts()
    assert parts.sum(axis=1).to_numpy() == pytest.approx(stp.attractiveness["score"].to_numpy())
    # each criterion's best segment gets its whole weight, its worst none
    for key, weight in ATTRACTIVENESS_WEIGHTS.items():
        assert parts[key].max() == pytest.approx(100 * weight) and parts[key].min() == 0.0


def test_attractiveness_parts_by_hand() -> None:
    # two segments; b is best on growth and risk, a on revenue and cost: a gets
    # 35 + 15 = 50 points, b 25 + 25 = 50; without a cost figure for b, b's weights are
    # 35 + 25 + 25 = 85 and it gets 50 / 0.85 of its points
    frame = pd.DataFrame({"revenue": [200.0, 100.0], "growth": [0.9, 1.1],
                          "risk": [0.3, 0.1], "cost_share": [0.1, 0.2]}, index=["a", "b"])
    parts = attractiveness_parts(frame)
    assert parts.loc["a"].tolist() == pytest.approx([35.0, 0.0, 0.0, 15.0])
    assert parts.loc["b"].tolist() == pytest.approx([0.0, 25.0, 25.0, 0.0])
    frame.loc["b", "cost_share"] = np.nan
    parts = attractiveness_parts(frame)
    assert parts.loc["b"].sum() == pytest.approx(100 * 0.5 / 0.85)


def test_targeting_headlines_and_outline(example) -> None:
    from cs_sim.segmentation import compare_segmentations

    trade = compare_segmentations(example, candidates=["plan"], min_size=1)
    stp = targeting(example, "plan")
    items = {k: (v, u) for k, _, v, u in stp.headline_items(trade)}
    assert items["segments"] == (3.0, "count")
    assert items["churn_explained"][0] == trade.table.loc["plan", "churn_explained"]
    assert items["csm_headcount"][0] == pytest.approx(stp.service["csm_headcount"].sum())
    assert "churn_explained" not in {k for k, *_ in stp.headline_items()}
    assert stp.outline() == ("Targeting by accounts column 'plan': enterprise high-touch, "
                             "growth low-touch, starter low-touch.")
    service = stp.view("service").frame
    assert "CSMs (FTE)" in service.columns and service["tier"].iloc[0] == "high-touch"


# --------------------------------------------------------------------------- figures
def test_segment_bars_draw_the_values_and_leave_room_for_labels() -> None:
    import matplotlib.pyplot as plt

    from cs_sim.plotting import plot_segment_bars

    values = pd.Series([0.25, np.nan, 0.75], index=["a", "b", "c"])
    fig, ax = plt.subplots()
    assert plot_segment_bars(values, unit="pct", reference=0.5, ax=ax) is ax
    widths = [p.get_width() for p in ax.patches]
    assert widths == [0.25, 0.0, 0.75]  # first segment at the top (drawn first)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["25.0%", "n/a", "75.0%"]
    assert ax.get_xlim()[1] > 0.75  # room for the label after the longest bar
    assert all(t.get_text().endswith("%") for t in ax.get_xticklabels() if t.get_text())
    plt.close(fig)


def test_panels_and_nps_mix_and_theme_figure(research) -> None:
    import matplotlib.pyplot as plt

    fig = research.plot_tickets()
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[1].startswith("First contact resolution") and "70.0%" in titles[1]
    plt.close(fig)
    ax = research.plot_nps_mix()
    # growth: 5 promoters, 3 passives, 0 detractors of 8 NPS answers (README) -> 62.5
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "growth\nNPS 62.5" in labels
    plt.close(ax.figure)
    fig = research.plot_theme_impact()
    left = fig.axes[0]
    order = [t.get_text() for t in left.get_yticklabels()]
    assert order[0] == research.digest.iloc[0]["theme"].replace("_", " ")
    assert [p.get_width() for p in left.patches] == research.digest["detractor_mrr"].tolist()
    plt.close(fig)


def test_attractiveness_and_service_figures() -> None:
    import matplotlib.pyplot as plt

    sample = cs_sim.load_dataset(ROOT / "data" / "sample")
    stp = targeting(sample, "segment")
    fig = stp.plot_attractiveness()
    ax = fig.axes[0]
    parts = stp.attractiveness_parts()
    top = parts.sum(axis=1).idxmax()
    assert ax.get_yticklabels()[0].get_text() == top
    first_bars = [p.get_width() for p in ax.patches[::len(parts)]]  # the top segment's bars
    assert first_bars == pytest.approx(parts.loc[top].tolist())
    plt.close(fig)
    ax = stp.plot_service()
    assert [p.get_width() for p in ax.patches] == pytest.approx(
        stp.service["csm_headcount"].tolist())
    plt.close(ax.figure)
