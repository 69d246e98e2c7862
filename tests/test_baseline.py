"""The KPI baseline and `cs-sim kpis` against the hand calculations of data/example.

Every expected number comes from data/example/expected_kpis.json, which was worked out by
hand (data/example/README.md shows the arithmetic) without using cs_sim.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
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
    inside = EXPECTED["baseline_window"]  # records dated in the window's months only
    return {
        "mrr": mrr_june["mrr"],
        "arr": 12 * mrr_june["mrr"],
        "active_accounts": mrr_june["active_accounts"],
        "arpa": EXPECTED["clv"]["arpa"],
        "nrr": window["nrr"],
        "grr": window["grr"],
        "net_mrr_churn_rate": EXPECTED["conventions"]["cs_sim"]["net_mrr_churn_rate"],
        "logo_churn_rate": window["logo_churn_rate"],
        "quick_ratio": window["quick_ratio"],
        "avg_monthly_logo_churn": EXPECTED["clv"]["monthly_logo_churn"],
        "trailing_12m_nrr": t12["nrr"],
        "trailing_12m_grr": t12["grr"],
        "clv": EXPECTED["clv"]["clv_simple"],
        "renewal_rate": EXPECTED["renewals"]["renewal_rate"],
        "crc": EXPECTED["crc"][-1]["crc"],
        "nps": inside["nps"]["nps"],
        "nps_ci_low": inside["nps"]["ci_low"],
        "nps_ci_high": inside["nps"]["ci_high"],
        "csat": 100 * inside["csat"]["csat"],  # the hand sheet keeps a fraction
        "ces": inside["ces"]["ces"],
        "fcr": inside["support"]["fcr"],
        "aht_minutes": inside["support"]["aht"],
        "usage_rate": june["usage_rate"],
        "seat_utilisation": june["seat_utilisation"],
        "minutes_per_active_user": june["time_on_platform"],
        "stickiness": june["stickiness"],
        "trial_conversion": inside["trial_conversion"]["trial_conversion"],
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
    with pytest.raises(CsSimError, match=r"start month 2025-06 \(--start, the opening month\) "
                       r"must be before the end month 2025-01"):
        kpi_baseline(ds, start="2025-06", end="2025-01")
    with pytest.raises(CsSimError, match=r"before the data: the mrr data run from 2024-02 to "
                       r"2025-06; fix: use --start 2024-02 or later"):
        kpi_baseline(ds, start="2023-01")
    with pytest.raises(CsSimError, match=r"end month 2025-09 \(--end\) is outside the data"):
        kpi_baseline(ds, end="2025-09")
    with pytest.raises(CsSimError, match="not a column of accounts"):
        kpi_baseline(ds, by="colour")
    with pytest.raises(CsSimError, match="YYYY-MM"):
        kpi_baseline(ds, start="sometime")
    with pytest.raises(CsSimError, match="unknown conventions"):
        kpi_baseline(ds, conventions="profitwell")  # type: ignore[arg-type]


def test_cli_kpis_text_json_and_files(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["kpis", str(EXAMPLE), "--start", "2025-01"])
    assert res.exit_code == 0, res.output
    # figures as the README works them out, shown in their units (money in whole units)
    for shown in ("6,550 USD", "92.4%", "67.6%", "6,675 USD", "66.7%", "41.7", "50.0%"):
        assert shown in res.output
    assert "e+" not in res.output and "0.924" not in res.output  # no raw fractions
    assert res.output.count("Window: 2025-02 .. 2025-06 (5 months)") == 1
    out = tmp_path / "out"
    res = runner.invoke(app, ["kpis", str(EXAMPLE), "--start", "2025-01", "--json", "--out", out])
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data["window"] == {"opening_month": "2025-01", "first_month": "2025-02",
                              "last_month": "2025-06", "months": 5}
    assert data["currency"] == "USD" and data["conventions"] == "cs_sim"
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
    res = runner.invoke(app, ["--help"], env={"COLUMNS": "120"})
    assert res.exit_code == 0
    assert "--version" in res.output and "<bool>" not in res.output
    commands = [c.name for c in app.registered_commands]
    assert {"validate", "kpis", "import"} <= set(commands)
    for name in commands:
        res = runner.invoke(app, [name, "--help"], env={"COLUMNS": "120"})
        assert res.exit_code == 0, name
        assert "Usage" in res.output
        # metavars a user reads: PATH, SCENARIO, DIR; no {path}, <path> or <bool>
        for raw in ("{", "<bool>", "<path>"):
            assert raw not in res.output, (name, raw)
    usage = {name: runner.invoke(app, [name, "--help"]).output.split("\n\n")[0]
             for name in ("validate", "kpis", "import", "simulate")}
    assert "cs-sim kpis [OPTIONS] PATH" in " ".join(usage["kpis"].split())
    assert "cs-sim import [OPTIONS] SOURCE_DIR" in " ".join(usage["import"].split())
    assert "cs-sim simulate [OPTIONS] SCENARIO" in " ".join(usage["simulate"].split())
    kpis_help = runner.invoke(app, ["kpis", "--help"], env={"COLUMNS": "200"}).output
    for shown in ("YYYY-MM", "DIR", "12 months before --end", "[default: cs_sim]",
                  "[default: 0.8]"):
        assert shown in kpis_help, shown
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output == f"cs-sim {cs_sim.__version__}\n"


def test_messages_use_a_users_words() -> None:
    """No message of the data side tells a user to 'pass x=...' in Python's words."""
    import re

    pkg = ROOT / "cs_sim"
    files = [pkg / "cli.py", pkg / "baseline.py", *(pkg / "io").glob("*.py"),
             *(pkg / "kpis").glob("*.py")]
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"pass [a-z_]+=", text), path.name


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


# --------------------------------------------------------------------- windows, n/a, money
def _copy(tmp_path: Path, names: tuple[str, ...] = ("accounts.csv", "mrr.csv")) -> Path:
    for name in names:
        (tmp_path / name).write_bytes((EXAMPLE / name).read_bytes())
    return tmp_path


@pytest.mark.parametrize("conventions", ["cs_sim", "chartmogul", "baremetrics"])
def test_conventions_match_the_hand_sheet(conventions: str) -> None:
    """Section 20 of data/example/README.md, figure by figure."""
    hand = EXPECTED["conventions"][conventions]
    b = kpi_baseline(cs_sim.load_dataset(EXAMPLE), start="2025-01", conventions=conventions)
    for kpi in ("net_mrr_churn_rate", "logo_churn_rate", "quick_ratio", "clv"):
        assert b.headline.loc[kpi, "all"] == pytest.approx(hand[kpi], rel=1e-9), kpi
    # NRR and GRR are the same under every convention
    assert b.headline.loc["nrr", "all"] == pytest.approx(EXPECTED["retention_window"]["nrr"])
    text = b.to_text()
    assert f"Conventions: {conventions}" in text
    assert f"Definitions ({conventions} conventions):" in text
    if conventions == "cs_sim":  # how returns are treated, with the data's own count
        assert "1 account paying in 2025-01 left during the window and paid again" in text
    else:
        assert "counts each of the 4 churn events of 2025-02 .. 2025-06" in text


def test_every_window_figure_covers_the_same_months() -> None:
    """Dated records count from the first day of the month after the opening month."""
    ds = cs_sim.load_dataset(EXAMPLE)
    b = kpi_baseline(ds, start="2025-01", end="2025-06")
    assert [f"{m:%Y-%m}" for m in b.bridge["month"]] == [
        "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]
    assert list(b.monthly["month"]) == list(b.bridge["month"])
    # a survey answer and a ticket dated in January (the opening month) do not count
    inside = EXPECTED["baseline_window"]
    assert b.headline.loc["nps", "all"] == pytest.approx(inside["nps"]["nps"])
    assert inside["nps"]["n"] == 12 < EXPECTED["nps"]["n"]
    # moving the opening month one month later drops February's records as well
    later = kpi_baseline(ds, start="2025-02", end="2025-06")
    feb = ds.surveys[(ds.surveys["kind"] == "nps")
                     & (ds.surveys["date"] < pd.Timestamp("2025-03-01"))
                     & (ds.surveys["date"] >= pd.Timestamp("2025-02-01"))]
    assert len(feb) == 3  # S05, S06, S07: 10, 2, 9
    assert later.headline.loc["nps", "all"] == pytest.approx(100 * (5 - 1) / 9)


def test_default_window_is_twelve_months_and_says_so_when_shorter(tmp_path: Path) -> None:
    ds = cs_sim.load_dataset(EXAMPLE)  # 2024-02 .. 2025-06: 17 months
    b = kpi_baseline(ds)
    assert (f"{b.start:%Y-%m}", f"{b.end:%Y-%m}", b.n_months) == ("2024-06", "2025-06", 12)
    assert "Window: 2024-07 .. 2025-06 (12 months)" in b.to_text()
    # six months of data: the window is the five months after the first
    short = cs_sim.load_dataset(_copy(tmp_path))
    mrr = short.mrr[short.mrr["month"] >= pd.Timestamp("2025-01-01")]
    b = kpi_baseline(replace(short, mrr=mrr))
    assert b.n_months == 5
    assert any("The data start in 2025-01, so the window is shorter than the default 12 "
               "months" in n for n in b.notes)


def test_na_reasons_name_the_table_and_the_months(tmp_path: Path) -> None:
    folder = _copy(tmp_path, ("accounts.csv", "mrr.csv", "tickets.csv"))
    (folder / "surveys.csv").write_text("response_id,account_id,date,kind,score\n")
    b = kpi_baseline(cs_sim.load_dataset(folder), start="2025-01")
    why = {k: v["all"] for k, v in b.reasons.items()}
    assert why["nps"] == ("no survey answers dated 2025-02-01 .. 2025-06-30: the surveys "
                          "table has no rows")
    # trailing 12 months: the opening month 2024-06 is in the data, so it is measured
    assert "trailing_12m_nrr" not in why
    assert why["usage_rate"].startswith("needs the optional table 'usage'")
    text = b.to_text()
    assert "NPS: no survey answers dated 2025-02-01 .. 2025-06-30: the surveys table has no rows" \
        in text
    # tickets of the window exist; a window with none says where the tickets are
    b = kpi_baseline(cs_sim.load_dataset(folder), start="2024-06", end="2024-12")
    assert b.reasons["fcr"]["all"] == (
        "no tickets opened 2024-07-01 .. 2024-12-31 in tickets (its opened_at values run "
        "2025-01-08 .. 2025-06-25)")


def test_trailing_twelve_months_with_twelve_months_of_data(tmp_path: Path) -> None:
    ds = cs_sim.load_dataset(_copy(tmp_path))
    mrr = ds.mrr[ds.mrr["month"] >= pd.Timestamp("2024-07-01")]  # 2024-07 .. 2025-06
    b = kpi_baseline(replace(ds, mrr=mrr))
    assert np.isnan(b.headline.loc["trailing_12m_nrr", "all"])
    assert b.reasons["trailing_12m_nrr"]["all"] == (
        "a trailing-12-month figure needs 13 months of mrr data (the opening month 2024-06 "
        "and the 12 months 2024-07 .. 2025-06); the data have 12 months up to 2025-06, from "
        "2024-07")
    assert "Trailing-12-month NRR: a trailing-12-month figure needs 13 months" in b.to_text()


def test_one_month_dataset_says_so_in_plain_words(tmp_path: Path) -> None:
    (tmp_path / "accounts.csv").write_bytes((EXAMPLE / "accounts.csv").read_bytes())
    (tmp_path / "mrr.csv").write_text("account_id,month,mrr\nA01,2024-01,100\n")
    ds = cs_sim.load_dataset(tmp_path)
    with pytest.raises(CsSimError) as err:
        kpi_baseline(ds)
    assert str(err.value) == (
        "the mrr data cover one month (2024-01): a baseline compares each month with the "
        "month before, so it needs at least two months of mrr data; fix: add the months "
        "before 2024-01 to the mrr table")
    res = CliRunner().invoke(app, ["kpis", str(tmp_path)])
    assert res.exit_code == 2 and "cover one month (2024-01)" in res.output
    assert "Traceback" not in res.output


def test_segment_by_an_optional_column_the_data_lack(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    acc = pd.read_csv(folder / "accounts.csv").drop(columns=["region", "employees"])
    acc.to_csv(folder / "accounts.csv", index=False)
    ds = cs_sim.load_dataset(folder)  # optional columns may be absent
    with pytest.raises(CsSimError, match="'region' is an optional accounts column this "
                       "dataset does not have; fix: add a region column to accounts"):
        kpi_baseline(ds, by="region")


def test_every_money_figure_shows_the_currency(baseline) -> None:
    text = baseline.to_text()
    assert "Money: USD per month." in text
    units = dict(zip(baseline.headline["label"], baseline.headline["unit"], strict=True))
    for line in text.splitlines():
        label = line[:45].strip()
        if units.get(label) == "money":
            assert line.endswith(" USD"), line
    bridge = text.split("MRR bridge\n")[1].split("\n\n")[0].splitlines()[1:]
    assert bridge and all(row.count("USD") == 7 for row in bridge)  # 7 money columns
    assert "<table" in baseline._repr_html_() and "6,550 USD" in baseline._repr_html_()


def test_currency_option_names_unstated_money_and_refuses_a_mismatch(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    mrr = pd.read_csv(folder / "mrr.csv").drop(columns=["currency"])
    mrr.to_csv(folder / "mrr.csv", index=False)
    ds = cs_sim.load_dataset(folder)
    assert ds.currency is None
    b = kpi_baseline(ds, start="2025-01")
    assert "currency of the data (not stated" in b.to_text()
    assert "6,550 EUR" in kpi_baseline(ds, start="2025-01", currency="EUR").to_text()
    with pytest.raises(CsSimError, match="the data are in USD, not EUR"):
        kpi_baseline(cs_sim.load_dataset(EXAMPLE), currency="EUR")


def test_closing_zero_month_is_a_warning_in_the_baseline(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    mrr = pd.read_csv(folder / "mrr.csv")
    ids = mrr.loc[mrr["month"] == "2025-06", "account_id"]
    july = pd.DataFrame({"account_id": ids, "month": "2025-07", "mrr": 0, "currency": "USD"})
    pd.concat([mrr, july]).to_csv(folder / "mrr.csv", index=False)
    ds = cs_sim.load_dataset(folder)
    assert len(ds.warnings) == 1 and "in the last month, 2025-07, every row has MRR 0" \
        in ds.warnings[0]
    text = kpi_baseline(ds).to_text()
    assert "Warnings:" in text and "(or use --end 2025-06)" in text
    res = CliRunner().invoke(app, ["validate", str(folder)])
    assert res.exit_code == 0 and "warning: mrr.csv: in the last month, 2025-07" in res.output


def test_make_demo_output_is_formatted_for_people(tmp_path: Path) -> None:
    """The two commands of `make demo`: no raw fractions, four-decimal money or 1e+05."""
    import re

    runner = CliRunner()
    validate = runner.invoke(app, ["validate", str(EXAMPLE)])
    kpis = runner.invoke(app, ["kpis", str(EXAMPLE), "--start", "2025-01", "--out",
                               str(tmp_path / "out")])
    assert validate.exit_code == kpis.exit_code == 0
    for text in (validate.output, kpis.output, (tmp_path / "out" / "baseline.txt").read_text()):
        assert not re.search(r"(?<![\d.])0\.\d{3,}", text), "a raw fraction (0.9244)"
        assert not re.search(r"\d\.\d{4,}", text), "four or more decimals"
        assert not re.search(r"\d[eE][+-]?\d", text), "scientific notation"
        assert "nan" not in text.lower().split()
    head = kpi_baseline(cs_sim.load_dataset(EXAMPLE)).headline
    units = dict(zip(head["label"], head["unit"], strict=True))
    for line in kpis.output.splitlines():  # every rate a percentage with one decimal
        label = line[:45].strip()
        if units.get(label) == "pct":
            assert re.fullmatch(r"-?\d+\.\d%", line.split()[-1]), line
