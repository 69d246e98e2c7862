"""The backtest gate: `cs_sim.backtest` and `cs-sim backtest`.

The gate's threshold: each monthly figure (logo churn, GRR, NRR) must lie in the
simulated 90% range in at least 2/3 of the held-out months (8 of 12), and the customers
lost over them in the simulated range of that total. For a simulator whose ranges are
right, a figure covers 8 or more of 12 months with probability 0.996 (binomial, p = 0.9),
so on ``data/sample`` (made by the simulator itself) the gate must pass; a baseline whose
churn is wrong must fail it.

Actual monthly figures are checked against the KPI library's MRR bridge
(:func:`cs_sim.kpis.mrr_bridge`), a second implementation of the same definitions.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import cs_sim
from cs_sim.calibration import backtest, calibrate, simulation_dataset
from cs_sim.calibration._backtest import (
    _compare,
    _totals,
    _verdict,
    actual_monthly,
    truncate_dataset,
)
from cs_sim.calibration._panel import month_index
from cs_sim.cli import app
from cs_sim.errors import CalibrationError

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
EXAMPLE = ROOT / "data" / "example"
runner = CliRunner()


@pytest.fixture(scope="module")
def sample() -> cs_sim.Dataset:
    return cs_sim.load_dataset(SAMPLE)


@pytest.fixture(scope="module")
def result(sample):
    return backtest(sample, holdout=12, replications=100, seed=2024)


def test_backtest_passes_on_the_sample(result) -> None:
    assert result.passed, result.to_text()
    assert result.cut == "2024-12" and list(result.table.index)[0] == "2025-01"
    assert len(result.table) == 12
    assert all(v >= 2 / 3 for v in result.coverage.values())
    assert result.totals["lo"] <= result.totals["actual"] <= result.totals["hi"]
    assert len(result.reasons) == 4 and all(r.endswith("passes.") for r in result.reasons)


def test_truncation_keeps_what_was_known_at_the_cut(sample) -> None:
    cut = month_index(pd.Series([pd.Timestamp("2024-12-01")]))[0]
    train = truncate_dataset(sample, int(cut))
    for name, column in (("mrr", "month"), ("usage", "month"), ("tickets", "opened_at"),
                         ("surveys", "date"), ("costs", "month")):
        frame, full = getattr(train, name), getattr(sample, name)
        assert frame[column].max() < pd.Timestamp("2025-01-01")
        assert len(frame) == int((full[column] < pd.Timestamp("2025-01-01")).sum())
    assert len(train.accounts) == len(sample.accounts)


def test_actual_figures_match_the_kpi_bridge(sample, result) -> None:
    bridge = cs_sim.kpis.mrr_bridge(sample.mrr).set_index("month")
    bridge.index = bridge.index.strftime("%Y-%m")
    b = bridge.loc[result.table.index]
    start = b["start_mrr"]
    np.testing.assert_allclose(result.table[("logo_churn", "actual")],
                               b["churned_accounts"] / b["start_accounts"])
    np.testing.assert_allclose(result.table[("grr", "actual")],
                               (start - b["churned"] - b["contraction"]) / start)
    np.testing.assert_allclose(result.table[("nrr", "actual")],
                               (start + b["expansion"] - b["contraction"] - b["churned"]) / start)


def test_the_gate_fails_a_baseline_whose_churn_is_wrong(sample) -> None:
    """Churn hazards 60% too high (intercepts + 0.5): the held-out months fall outside."""
    cut = int(month_index(pd.Series([pd.Timestamp("2024-12-01")]))[0])
    train = truncate_dataset(sample, cut)
    cal = calibrate(train, horizon_months=12)
    wrong = cal.scenario.with_changes({"segments": [
        {"name": s.name, "churn_intercept": s.churn_intercept + 0.5}
        for s in cal.scenario.segments]})
    res = cs_sim.simulate(wrong, replications=40, seed=3, dataset=simulation_dataset(train, cal))
    actual = actual_monthly(sample, cut + 1, cut + 12)
    table, coverage = _compare(actual, res.monthly, 0.9)
    reasons, passed = _verdict(table, coverage, _totals(actual, res.monthly, 0.9), 2 / 3, 0.9)
    assert not passed
    assert "Monthly logo churn" in reasons[0] and reasons[0].endswith("fails.")
    assert "below the simulated mean" in reasons[0]


def test_verdict_counts_months_by_hand() -> None:
    idx = [f"2025-{m:02d}" for m in range(1, 4)]
    part = pd.DataFrame({"actual": [0.02, 0.05, 0.02], "mean": 0.02, "lo": 0.01, "hi": 0.03,
                         "covered": [True, False, True]}, index=idx)
    table = pd.concat({k: part for k in ("logo_churn", "grr", "nrr")}, axis=1)
    totals = {"actual": 10.0, "mean": 9.0, "lo": 5.0, "hi": 12.0}
    reasons, passed = _verdict(table, {}, totals, 2 / 3, 0.9)
    assert passed and "in 2 of 3 months (2 needed)" in reasons[0]
    reasons, passed = _verdict(table, {}, totals, 0.9, 0.9)
    assert not passed and "in only 2 of 3 months (3 needed)" in reasons[0]


def test_backtest_renders_itself(result, tmp_path) -> None:
    text = result.to_text()
    assert text.splitlines()[3].startswith("Backtest passed")
    assert "2025-01" in text and "e-0" not in text
    doc = json.loads(json.dumps(result.to_dict()))
    assert doc["passed"] is True and doc["coverage"] == pytest.approx(result.coverage)
    assert "Backtest passed" in result._repr_html_()
    names = sorted(p.name for p in result.write(tmp_path))
    assert names == ["backtest.csv", "backtest.json", "backtest.txt"]


def test_a_too_short_dataset_is_refused() -> None:
    with pytest.raises(CalibrationError, match="needs at least 24"):
        backtest(EXAMPLE)
    res = runner.invoke(app, ["backtest", str(EXAMPLE)])
    assert res.exit_code == 2
    assert "covers 17 months" in res.output and "--holdout" in res.output
    res = runner.invoke(app, ["backtest", str(SAMPLE), "--holdout", "0"])
    assert res.exit_code == 2


def test_cli_backtest_json_is_the_api_result() -> None:
    res = runner.invoke(app, ["backtest", str(SAMPLE), "-r", "20", "--seed", "9", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    direct = backtest(SAMPLE, replications=20, seed=9)
    assert doc["passed"] == direct.passed and doc["coverage"] == pytest.approx(direct.coverage)
    assert doc["totals"] == pytest.approx(direct.totals)


def test_cli_backtest_exits_1_when_the_gate_fails(tmp_path) -> None:
    """Every month covered, from 10 replications: fails on the sample (seed 1)."""
    res = runner.invoke(app, ["backtest", str(SAMPLE), "-r", "10", "--seed", "1",
                              "--min-coverage", "1", "--out", str(tmp_path)])
    assert res.exit_code == 1, res.output
    assert "Backtest FAILED" in res.output and "fails." in res.output
    assert json.loads((tmp_path / "backtest.json").read_text())["passed"] is False
