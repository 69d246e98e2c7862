"""The KPI baseline and `cs-sim kpis` against the hand calculations of data/example.

Every expected number comes from data/example/expected_kpis.json, which was worked out by
hand (data/example/README.md shows the arithmetic) without using cs_sim.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from typer.testing import CliRunner

import cs_sim
from cs_sim.baseline import kpi_baseline
from cs_sim.cli import app
from cs_sim.errors import CsSimError

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "example"
EXPECTED = json.loads((EXAMPLE / "expected_kpis.json").read_text())


@pytest.fixture(scope="module")
def baseline():
    return kpi_baseline(cs_sim.load_dataset(EXAMPLE), start="2025-01")


def _hand() -> dict[str, float]:
    """The headline figures as the README computes them by hand."""
    june = EXPECTED["usage"][-1]
    assert june["month"] == "2025-06"
    mrr_june = EXPECTED["mrr_by_month"][-1]
    assert mrr_june["month"] == "2025-06"
    window = EXPECTED["retention_window"]
    t12 = EXPECTED["trailing_12m"][-1]
    return {
        "mrr": mrr_june["mrr"],
        "arr": 12 * mrr_june["mrr"],
        "active_accounts": mrr_june["active_accounts"],
        "arpa": EXPECTED["clv"]["arpa"],
        "nrr": window["nrr"],
        "grr": window["grr"],
        "logo_churn_rate": window["logo_churn_rate"],
        "quick_ratio": window["quick_ratio"],
        "avg_monthly_logo_churn": EXPECTED["clv"]["monthly_logo_churn"],
        "trailing_12m_nrr": t12["nrr"],
        "trailing_12m_grr": t12["grr"],
        "clv": EXPECTED["clv"]["clv_simple"],
        "renewal_rate": EXPECTED["renewals"]["renewal_rate"],
        "crc": EXPECTED["crc"][-1]["crc"],
        "nps": EXPECTED["nps"]["nps"],
        "nps_ci_low": EXPECTED["nps"]["ci_low"],
        "nps_ci_high": EXPECTED["nps"]["ci_high"],
        "csat": 100 * EXPECTED["csat"]["csat"],  # the hand sheet keeps a fraction
        "ces": EXPECTED["ces"]["ces"],
        "fcr": EXPECTED["support"]["fcr"],
        "aht_minutes": EXPECTED["support"]["aht"],
        "usage_rate": june["usage_rate"],
        "seat_utilisation": june["seat_utilisation"],
        "minutes_per_active_user": june["time_on_platform"],
        "stickiness": june["stickiness"],
        "trial_conversion": EXPECTED["trial_conversion"]["trial_conversion"],
    }


@pytest.mark.parametrize("kpi", list(_hand()))
def test_headline_matches_hand_calculation(baseline, kpi: str) -> None:
    assert baseline.headline.loc[kpi, "all"] == pytest.approx(_hand()[kpi], rel=1e-9)


def test_bridge_and_monthly_match_hand_calculation(baseline) -> None:
    hand = {row["month"]: row for row in EXPECTED["mrr_bridge"]}
    assert len(baseline.bridge) == 5
    for row in baseline.bridge.to_dict("records"):
        expected = hand[row["month"].strftime("%Y-%m")]
        for col in ("start_mrr", "new", "expansion", "contraction", "churned", "reactivation"):
            assert row[col] == pytest.approx(expected[col]), (row["month"], col)
    crc = {row["month"]: row["crc"] for row in EXPECTED["crc"]}
    for row in baseline.monthly.to_dict("records"):
        assert row["crc"] == pytest.approx(crc[row["month"].strftime("%Y-%m")])


def test_segments_partition_the_company() -> None:
    """By plan, segment MRR and accounts add up to the company's (an identity)."""
    b = kpi_baseline(cs_sim.load_dataset(EXAMPLE), start="2025-01", by="plan")
    segments = [c for c in b.headline.columns if c not in ("label", "unit", "all")]
    assert segments == ["enterprise", "growth", "starter"]
    for kpi in ("mrr", "active_accounts"):
        assert b.headline.loc[kpi, segments].sum() == pytest.approx(b.headline.loc[kpi, "all"])
    # company-wide costs cannot be split by segment
    assert b.headline.loc["crc", segments].isna().all()


def test_missing_optional_tables_are_named(tmp_path: Path) -> None:
    for name in ("accounts.csv", "mrr.csv"):
        (tmp_path / name).write_bytes((EXAMPLE / name).read_bytes())
    b = kpi_baseline(cs_sim.load_dataset(tmp_path), start="2025-01")
    assert b.headline.loc["nrr", "all"] == pytest.approx(EXPECTED["retention_window"]["nrr"])
    text = b.to_text()
    for table in ("costs", "surveys", "tickets", "usage", "trials"):
        assert f"needs the optional table '{table}'" in text
    assert b.themes is None


def test_bad_window_and_segment_are_user_errors() -> None:
    ds = cs_sim.load_dataset(EXAMPLE)
    with pytest.raises(CsSimError, match="not inside the mrr data"):
        kpi_baseline(ds, start="2025-06", end="2025-01")
    with pytest.raises(CsSimError, match="not a column of accounts"):
        kpi_baseline(ds, by="colour")
    with pytest.raises(CsSimError, match="YYYY-MM"):
        kpi_baseline(ds, start="sometime")


def test_cli_kpis_text_json_and_files(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["kpis", str(EXAMPLE), "--start", "2025-01"])
    assert res.exit_code == 0, res.output
    # figures as the README works them out, shown in their units (money in whole units)
    for shown in ("6,550", "92.4%", "67.6%", "6,675", "66.7%", "25.0", "75.0%"):
        assert shown in res.output
    assert "e+" not in res.output and "0.924" not in res.output  # no raw fractions
    out = tmp_path / "out"
    res = runner.invoke(app, ["kpis", str(EXAMPLE), "--start", "2025-01", "--json", "--out", out])
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data["window"] == {"start": "2025-01", "end": "2025-06"}
    assert data["headline"]["clv"]["all"] == pytest.approx(EXPECTED["clv"]["clv_simple"])
    assert sorted(p.name for p in out.iterdir()) == [
        "baseline.json",
        "baseline.txt",
        "feedback_themes.csv",
        "headline.csv",
        "monthly.csv",
        "mrr_bridge.csv",
    ]
    res = runner.invoke(app, ["kpis", str(EXAMPLE), "--by", "colour"])
    assert res.exit_code == 2
    assert "Traceback" not in res.output


def test_baseline_renders_itself(baseline, tmp_path: Path) -> None:
    """Text, JSON, frame, files and HTML show the same raw figures, each in its unit."""
    frame = baseline.to_frame()
    assert list(frame.columns[:2]) == ["label", "unit"] and frame.index.name == "kpi"
    assert frame.loc["nrr", "all"] == pytest.approx(EXPECTED["retention_window"]["nrr"])
    data = baseline.to_dict()
    assert json.loads(json.dumps(data)) == data  # plain JSON
    assert data["headline"]["nrr"] == {
        "label": "Net revenue retention (window)", "unit": "pct",
        "all": pytest.approx(EXPECTED["retention_window"]["nrr"]),
    }
    assert data["monthly"][0]["month"] == "2025-02"
    text = baseline.to_text()
    nrr_line = next(ln for ln in text.splitlines() if ln.startswith("Net revenue retention"))
    assert nrr_line.split()[-1] == f"{100 * EXPECTED['retention_window']['nrr']:.1f}%"
    # the bridge in whole money units with separators, the monthly series in its units
    feb = EXPECTED["mrr_bridge"][-5]
    bridge_line = next(ln for ln in text.splitlines() if ln.startswith(feb["month"]))
    assert bridge_line.split()[1] == f"{feb['start_mrr']:,.0f}"
    assert "e+" not in text and "0.9239" not in text
    assert "<table" in baseline._repr_html_() and "92.4%" in baseline._repr_html_()
    written = baseline.write(tmp_path)
    assert json.loads((tmp_path / "baseline.json").read_text()) == data
    assert (tmp_path / "baseline.txt").read_text() == text + "\n"
    assert len(written) == 6


@pytest.fixture
def expansion_share():
    """A KPI registered by a test (and removed afterwards): expansion / (new + expansion)."""
    from cs_sim.kpis import register_kpi, unregister_kpi

    kpi = register_kpi(
        "expansion_share",
        label="Expansion share of gained MRR",
        unit="pct",
        tables=("mrr",),
        compute=lambda w: w.bridge["expansion"].sum()
        / (w.bridge["new"].sum() + w.bridge["expansion"].sum()),
    )
    yield kpi
    unregister_kpi("expansion_share")


def test_a_registered_kpi_appears_in_cli_text_and_json(expansion_share) -> None:
    rows = EXPECTED["mrr_bridge"][-5:]  # the window's months, 2025-02 .. 2025-06
    expansion = sum(r["expansion"] for r in rows)
    hand = expansion / (sum(r["new"] for r in rows) + expansion)
    runner = CliRunner()
    res = runner.invoke(app, ["kpis", str(EXAMPLE), "--start", "2025-01"])
    assert res.exit_code == 0, res.output
    line = next(ln for ln in res.output.splitlines() if ln.startswith("Expansion share"))
    assert line.split()[-1] == f"{100 * hand:.1f}%"
    res = runner.invoke(app, ["kpis", str(EXAMPLE), "--start", "2025-01", "--json"])
    data = json.loads(res.stdout)["headline"]["expansion_share"]
    assert data["all"] == pytest.approx(hand) and data["unit"] == "pct"
    # by segment: each segment's own bridge
    b = kpi_baseline(cs_sim.load_dataset(EXAMPLE), start="2025-01", by="plan")
    assert b.headline.loc["expansion_share", "all"] == pytest.approx(hand)
    assert b.headline.loc["expansion_share", ["enterprise", "growth", "starter"]].notna().all()


def test_a_kpi_needing_a_missing_table_is_nan_and_named(tmp_path: Path) -> None:
    from cs_sim.kpis import register_kpi, unregister_kpi

    for name in ("accounts.csv", "mrr.csv"):
        (tmp_path / name).write_bytes((EXAMPLE / name).read_bytes())
    calls = []
    register_kpi("touches", label="Touchpoints", unit="count", tables=("interactions",),
                 compute=lambda w: calls.append(1) or len(w.dataset.interactions))
    try:
        b = kpi_baseline(cs_sim.load_dataset(tmp_path), start="2025-01")
        assert np.isnan(b.headline.loc["touches", "all"]) and not calls
        assert "interactions KPIs (touches)" in b.unavailable
    finally:
        unregister_kpi("touches")


def test_register_kpi_refuses_bad_entries() -> None:
    from cs_sim.errors import KpiConfigError
    from cs_sim.kpis import register_kpi, registered_kpis, unregister_kpi

    before = registered_kpis()
    with pytest.raises(KpiConfigError, match="already registered"):
        register_kpi("nrr", label="x", unit="pct", compute=lambda w: 0.0)
    with pytest.raises(KpiConfigError, match="unknown unit"):
        register_kpi("x_rate", label="x", unit="percent", compute=lambda w: 0.0)
    with pytest.raises(KpiConfigError, match="unknown table"):
        register_kpi("x_rate", label="x", unit="pct", tables=("invoices",),
                     compute=lambda w: 0.0)
    with pytest.raises(KpiConfigError, match="no KPI"):
        unregister_kpi("never_registered")
    assert registered_kpis() == before


def test_every_command_has_help() -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    commands = [c.name for c in app.registered_commands]
    assert {"validate", "kpis"} <= set(commands)
    for name in commands:
        res = runner.invoke(app, [name, "--help"])
        assert res.exit_code == 0, name
        assert "Usage" in res.output


def test_plot_mrr_bridge_draws_the_movements(baseline) -> None:
    import matplotlib.pyplot as plt

    from cs_sim.plotting import plot_mrr_bridge, plot_retention

    fig, ax = plt.subplots()
    assert plot_mrr_bridge(baseline.bridge, ax=ax) is ax
    # bars: 5 movements x 5 months; churn drawn below zero with the hand-computed height
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 25
    churned = [EXPECTED["mrr_bridge"][i]["churned"] for i in range(-5, 0)]
    assert heights[-5:] == pytest.approx([-c for c in churned])
    assert plot_retention(baseline.monthly, ax=ax) is ax
    plt.close(fig)
