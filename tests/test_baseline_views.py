"""What the KPI notebook shows besides the headline: KPI groups, report tables, health
bands, quarterly cohorts, segments' windows and the churn drivers' marginal effects.

Truth comes from the hand calculations of data/example (expected_kpis.json), hand-made
tables, and second implementations (statsmodels' own marginal effects, the churn labels
of cs_sim.models, revenue_retention by segment).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cs_sim
from cs_sim.baseline import HEADLINE_KEYS, KPI_GROUPS, SEGMENT_KEYS, kpi_baseline
from cs_sim.kpis import attach, cohort_retention, health_band_churn, revenue_retention

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "example"
EXPECTED = json.loads((EXAMPLE / "expected_kpis.json").read_text())


@pytest.fixture(scope="module")
def example() -> cs_sim.Dataset:
    return cs_sim.load_dataset(EXAMPLE)


@pytest.fixture(scope="module")
def by_plan(example: cs_sim.Dataset):
    return kpi_baseline(example, start="2025-01", by="plan")


# ------------------------------------------------------------------------ KPI groups
def test_groups_cover_the_registered_kpis_once(by_plan) -> None:
    grouped = [k for _, names in KPI_GROUPS.values() for k in names]
    assert len(grouped) == len(set(grouped))
    assert set(grouped) == set(by_plan.headline.index)  # nothing left for "other"
    assert not len(by_plan.view("other").frame)
    with pytest.raises(ValueError, match="unknown KPI group"):
        by_plan.view("nope")


def test_group_view_shows_the_hand_figures_in_their_units(by_plan) -> None:
    hand = EXPECTED["retention_window"]
    table = by_plan.view("retention")
    assert table.frame.loc["Net revenue retention (window)", "all"] == \
        f"{100 * hand['nrr']:.1f}%"  # 92.4%
    assert table.frame.loc["Logo churn (window)", "all"] == f"{100 * hand['logo_churn_rate']:.1f}%"
    assert list(table.frame.columns) == ["all", "enterprise", "growth", "starter"]
    text = by_plan.view("revenue").to_text()
    assert "e+" not in text and "USD" in text


def test_na_reasons_are_said_once_per_reason(example: cs_sim.Dataset) -> None:
    """CRC cannot be split by segment: one sentence naming every segment, not a table's
    missing-table message (the costs table exists)."""
    b = kpi_baseline(example, start="2025-01", by="plan")
    note = b.view("revenue").note
    assert note.count("CS costs are company-wide") == 1
    assert "(enterprise, growth, starter)" in note
    assert "which this dataset does not have" not in note


def test_headline_items_use_the_stable_keys(by_plan) -> None:
    items = by_plan.headline_items()
    assert [k for k, *_ in items] == list(HEADLINE_KEYS)
    got = {k: v for k, _, v, _ in items}
    assert got["nrr"] == pytest.approx(EXPECTED["retention_window"]["nrr"], rel=1e-12)
    assert got["grr"] == pytest.approx(EXPECTED["retention_window"]["grr"], rel=1e-12)
    assert got["mrr_end"] == EXPECTED["mrr_by_month"][-1]["mrr"]
    units = {k: u for k, _, _, u in items}
    assert units["nrr"] == "pct" and units["mrr_end"] == "money" and units["nps"] == "score"


def test_report_tables_feed_the_headlines(by_plan, example: cs_sim.Dataset) -> None:
    from cs_sim.report import headlines

    tables = by_plan.report_tables()
    seg = tables["segments"]
    assert list(seg.columns) == list(SEGMENT_KEYS) and seg.index.name == "segment"
    assert set(tables["segment_units"]) == set(SEGMENT_KEYS)
    # each segment's NRR is revenue_retention's over the same window, by plan
    rr = revenue_retention(attach(example.mrr, example.accounts, "plan"), start="2025-01",
                           end="2025-06", by="plan").set_index("plan")
    for plan in seg.index:
        assert seg.loc[plan, "nrr"] == pytest.approx(rr.loc[plan, "nrr"], rel=1e-12)
    out = headlines("03_kpi_baseline", by_plan.headline_items(), **tables).to_dict()
    assert out["segments"]["index"] == "segment" and len(out["segments"]["rows"]) == 3
    assert out["health_bands"]["index"] == "band"
    assert [r["band"] for r in out["health_bands"]["rows"]] == ["red", "yellow", "green"]
    # the tables shown to people carry labels, the report's keep the keys
    assert "NRR (window)" in by_plan.segment_kpis().frame.columns
    assert "next-month churn" in by_plan.health_band_table().frame.columns


def test_without_segments_there_are_no_segment_tables(example: cs_sim.Dataset) -> None:
    b = kpi_baseline(example, start="2025-01")
    assert b.segment_kpis() is None
    assert b.report_tables()["segments"] is None and b.report_tables()["segment_units"] is None


def test_segments_that_start_later_get_the_company_window(example: cs_sim.Dataset) -> None:
    """The default 12-month window opens in 2024-06; the starter plan's accounts first pay
    in 2025: no cohort to follow (n/a, said why) instead of an error."""
    b = kpi_baseline(example, by="plan")
    assert b.start == pd.Timestamp("2024-06-01")
    assert np.isnan(b.headline.loc["nrr", "starter"])
    assert "no account paid in the opening month 2024-06" in b.reasons["nrr"]["starter"]
    rr = revenue_retention(attach(example.mrr, example.accounts, "plan"), start="2024-06",
                           end="2025-06", by="plan").set_index("plan")
    assert b.headline.loc["nrr", "enterprise"] == pytest.approx(rr.loc["enterprise", "nrr"])
    # the segment's end-month figures are unchanged by the padding row of MRR 0
    assert b.headline.loc["active_accounts", "starter"] == \
        ((example.mrr["month"] == example.mrr["month"].max())
         & example.mrr["account_id"].isin(
             example.accounts.loc[example.accounts["plan"] == "starter", "account_id"])
         & (example.mrr["mrr"] > 0)).sum()


def test_not_measured_lists_missing_tables(tmp_path: Path) -> None:
    for name in ("accounts.csv", "mrr.csv"):
        (tmp_path / name).write_bytes((EXAMPLE / name).read_bytes())
    b = kpi_baseline(cs_sim.load_dataset(tmp_path), start="2025-01")
    table = b.not_measured()
    assert "surveys" in " ".join(table.frame["what"]) and table.note is None
    full = kpi_baseline(cs_sim.load_dataset(EXAMPLE), start="2025-01").not_measured()
    assert not (full.frame["kind"] == "not available").any()


# ------------------------------------------------------------------------ health bands
def test_health_band_churn_by_hand() -> None:
    months = pd.date_range("2025-01-01", periods=3, freq="MS")
    mrr = pd.DataFrame({
        "account_id": ["a", "a", "a", "b", "c", "c"],
        "month": [months[0], months[1], months[2], months[0], months[0], months[1]],
        "mrr": [10.0, 10.0, 10.0, 5.0, 7.0, 0.0],
    })
    health = pd.DataFrame({
        "account_id": ["a", "a", "a", "b", "c"],
        "month": [months[0], months[1], months[2], months[0], months[0]],
        "band": ["green", "yellow", "green", "red", "red"],
    })
    out = health_band_churn(health, mrr).set_index("band")
    # a: Jan green -> pays Feb (kept), Feb yellow -> pays Mar (kept), Mar: no next month
    # b: Jan red -> nothing in Feb (churned); c: Jan red -> MRR 0 in Feb (churned)
    assert out.loc["red", "account_months"] == 2 and out.loc["red", "churned"] == 2
    assert out.loc["green", "account_months"] == 1 and out.loc["green", "churn_rate"] == 0.0
    assert out.loc["yellow", "account_months"] == 1
    only_feb = health_band_churn(health, mrr, start=months[1], end=months[1]).set_index("band")
    assert only_feb["account_months"].tolist() == [0, 1, 0]
    assert np.isnan(only_feb.loc["red", "churn_rate"])


def test_baseline_health_bands_match_the_churn_labels(example: cs_sim.Dataset) -> None:
    """Next-month churn per band, recomputed from cs_sim.models' churn labels."""
    from cs_sim.kpis import health_score
    from cs_sim.models import churn_labels

    b = kpi_baseline(example, start="2025-01")
    health = health_score(example.usage, example.mrr, tickets=example.tickets,
                          surveys=example.surveys)
    window = health[(health["month"] > b.start) & (health["month"] <= b.end)]
    joined = window.merge(churn_labels(example.mrr), on=["account_id", "month"])
    rate = joined.groupby("band")["churn"].agg(["size", "sum"])
    for band, row in b.health_bands.iterrows():
        n = rate.loc[band, "size"] if band in rate.index else 0
        assert row["account_months"] == n
        assert row["churned"] == (rate.loc[band, "sum"] if n else 0)
    end = health[health["month"] == b.end]["band"].value_counts()
    assert b.health_bands["accounts"].sum() == end.sum()
    assert b.health_bands["share"].sum() == pytest.approx(1.0)


# ------------------------------------------------------------------------- cohorts
def test_quarterly_cohorts_by_hand() -> None:
    """Q1 cohort: A (Jan, pays Jan-Apr) and B (Feb, pays Feb only); Q2 cohort: C (Apr)."""
    rows = [("A", m) for m in ("2025-01", "2025-02", "2025-03", "2025-04")]
    rows += [("B", "2025-02"), ("C", "2025-04")]
    mrr = pd.DataFrame({"account_id": [a for a, _ in rows],
                        "month": pd.to_datetime([m for _, m in rows]), "mrr": 10.0})
    q = cohort_retention(mrr, freq="Q")
    assert list(q.index) == [pd.Timestamp("2025-01-01"), pd.Timestamp("2025-04-01")]
    q1 = q.loc["2025-01-01"]
    assert q1[0] == 1.0 and q1[1] == 0.5 and q1[2] == 0.5
    assert np.isnan(q1[3])  # B is not observed 3 months after its start: no whole-cohort cell
    assert q.loc["2025-04-01", 0] == 1.0 and np.isnan(q.loc["2025-04-01", 1])
    monthly = cohort_retention(mrr)
    assert monthly.loc["2025-01-01", 3] == 1.0  # A alone, observed
    with pytest.raises(ValueError, match="freq"):
        cohort_retention(mrr, freq="W")  # type: ignore[arg-type]


# ------------------------------------------------------------ churn drivers' effects
def test_average_marginal_effects_equal_statsmodels() -> None:
    """The closed-form effects and delta-method errors are statsmodels' get_margeff
    (numerical derivatives), continuous and 0/1 regressors, clustered covariance."""
    import statsmodels.formula.api as smf

    from cs_sim.models.drivers import average_marginal_effects

    rng = np.random.default_rng(3)
    n = 3000
    frame = pd.DataFrame({"x": rng.normal(size=n), "d": rng.integers(0, 2, n).astype(float),
                          "g": rng.integers(0, 300, n)})
    eta = -2.0 + 0.8 * frame["x"] - 0.6 * frame["d"]
    frame["y"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    res = smf.logit("y ~ x + d", data=frame).fit(disp=0, cov_type="cluster",
                                                 cov_kwds={"groups": frame["g"]})
    ours = average_marginal_effects(res, ["x", "d"])
    theirs = res.get_margeff(at="overall", method="dydx", dummy=True).summary_frame()
    for col in ("dy/dx", "Std. Err.", "Pr(>|z|)"):
        np.testing.assert_allclose(ours[col], theirs.loc[["x", "d"], col], rtol=1e-6)


def test_driver_steps_read_in_their_units() -> None:
    from cs_sim.models.drivers import _step

    row = pd.Series({"sd": 0.102})
    assert _step("seat_utilisation", row) == "seat_utilisation (10.2 pp)"
    assert _step("tenure_months", pd.Series({"sd": 28.3})) == "tenure_months (28.3 months)"
    assert _step("log_mrr", pd.Series({"sd": np.log(5.0)}), named=False) == "1.61, MRR x 5.0"
