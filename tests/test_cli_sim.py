"""`cs-sim simulate`, `cs-sim compare` and `cs-sim generate`.

Outputs are checked against the Python API run with the same seed (the CLI must only
present what the package computes) and against hand-checkable facts (a scenario
compared with itself differs by exactly 0).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import cs_sim
from cs_sim.cli import app

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "templates" / "scenarios"

runner = CliRunner()


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """A small baseline and a save-play variant of it (fast to run)."""
    folder = tmp_path_factory.mktemp("scenarios")
    small = folder / "small.yaml"
    small.write_text(
        f"extends: {SCENARIOS / 'baseline.yaml'}\nname: small\nhorizon_months: 6\n"
        "population: {n_accounts: 150}\nacquisition: {new_logos_per_month: 4}\n"
    )
    (folder / "small_save.yaml").write_text(
        "extends: small.yaml\nname: small_save\n"
        "plays:\n"
        "  - name: save_play\n    kind: data\n    tiers: [high_touch, low_touch]\n"
        "    condition: [{metric: health, op: '<', value: 45}]\n    hours: 4\n"
        "    cost: 100\n    effect: {hazard_multiplier: 0.6, health: 8}\n"
    )
    return small


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_help_of_every_command():
    for cmd in ("simulate", "compare", "generate"):
        res = invoke(cmd, "--help")
        assert res.exit_code == 0, res.output
        assert "Usage" in res.output


def test_simulate_prints_the_summary_of_the_api_run(small):
    res = invoke("simulate", small, "-r", 4, "--seed", 3, "--no-progress")
    assert res.exit_code == 0, res.output
    summary = cs_sim.simulate(small, replications=4, seed=3).summary()
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("Monthly logo churn"))
    row = summary.loc["monthly_logo_churn"]
    assert f"{100 * row['mean']:.1f}%" in line
    assert f"{100 * row['lo']:.1f}% .. {100 * row['hi']:.1f}%" in line
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("MRR at the end"))
    row = summary.loc["mrr_end"]
    assert f"{row['mean']:,.0f}" in line and f"{row['lo']:,.0f} .. {row['hi']:,.0f}" in line
    for label in ("GRR", "NRR", "CLV", "CS cost", "CSM utilisation", "NPS"):
        assert label in res.stdout
    # the interval is named for what it is; no raw fractions, no scientific notation
    assert "range of outcomes (5%-95% of replications)" in res.stdout
    assert "e+" not in res.stdout and "e-0" not in res.stdout
    assert f"{row['mean']:.4f}" not in res.stdout


def test_simulate_json_and_out(small, tmp_path):
    out = tmp_path / "run"
    res = invoke("simulate", small, "-r", 3, "--seed", 5, "--json", "--out", out)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    api = cs_sim.simulate(small, replications=3, seed=5)
    assert doc["seed"] == 5 and doc["replications"] == 3 and doc["scenario"] == "small"
    assert doc["summary"]["nrr"]["mean"] == pytest.approx(api.summary().loc["nrr", "mean"],
                                                          rel=1e-12)
    assert doc["engine"] == "local"
    assert json.loads((out / "summary.json").read_text()) == api.to_dict()
    assert {k: v for k, v in doc.items() if k != "engine"} == api.to_dict()
    assert doc["summary"]["nrr"]["unit"] == "pct"
    assert (out / "summary.txt").read_text() == api.to_text() + "\n"
    monthly = pd.read_csv(out / "monthly.csv")
    np.testing.assert_allclose(monthly["mrr_end"], api.monthly["mrr_end"], rtol=1e-12)
    for name in ("tiers", "plays", "per_replication", "summary"):
        assert (out / f"{name}.csv").exists()
    summary = pd.read_csv(out / "summary.csv", index_col=0)
    assert summary.loc["nrr", "mean"] == pytest.approx(api.summary().loc["nrr", "mean"])
    assert "rep" in res.stderr  # the tqdm bar, on stderr only


def test_simulate_on_a_dask_scheduler_address(small):
    import distributed

    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:
        res = invoke("simulate", small, "-r", 3, "--seed", 5, "--json", "--engine", "dask",
                     "--address", cluster.scheduler_address)
    assert res.exit_code == 0, res.output
    local = json.loads(invoke("simulate", small, "-r", 3, "--seed", 5, "--json").stdout)
    doc = json.loads(res.stdout)
    assert doc["engine"] == "dask"
    assert doc["summary"] == local["summary"]  # bit for bit


def test_compare_on_a_dask_scheduler_equals_local(small):
    import distributed

    variant = small.parent / "small_save.yaml"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:
        res = invoke("compare", small, variant, "-r", 3, "--seed", 4, "--json", "--engine",
                     "dask", "--address", cluster.scheduler_address)
    assert res.exit_code == 0, res.output
    local = json.loads(invoke("compare", small, variant, "-r", 3, "--seed", 4, "--json").stdout)
    doc = json.loads(res.stdout)
    assert doc["engine"] == "dask" and local["engine"] == "local"
    assert doc["comparisons"] == local["comparisons"]  # bit for bit


def test_compare_with_itself_is_exactly_zero(small):
    res = invoke("compare", small, small, "-r", 3, "--seed", 1, "--json")
    assert res.exit_code == 0, res.output
    (cmp,) = json.loads(res.stdout)["comparisons"]
    for metric, row in cmp["summary"].items():
        if metric == "roi":
            assert row["diff"] is None  # 0 / 0: no cost difference
            continue
        assert row["diff"] == 0 and row["baseline"] == row["variant"], metric


def test_compare_variants_with_the_baseline(small):
    variant = small.parent / "small_save.yaml"
    res = invoke("compare", small, variant, small, "-r", 3, "--seed", 2, "--no-progress")
    assert res.exit_code == 0, res.output
    heading = 'Scenario "{}" (variant) compared with scenario "small" (baseline)'
    assert heading.format("small_save") in res.stdout and heading.format("small") in res.stdout
    assert "uncertainty of the mean difference (90% CI)" in res.stdout
    lines = res.stdout.splitlines()
    assert sum(ln.startswith("ROI of the change") for ln in lines) == 2
    api = cs_sim.compare(small, variant, replications=3, seed=2).summary()
    d = api.loc["total_cost", "diff"]
    assert f"{d:+,.0f}" in res.stdout


def test_compare_text_json_and_out_match_the_api(small, tmp_path):
    variant = small.parent / "small_save.yaml"
    api = cs_sim.compare(small, variant, replications=3, seed=6)
    summary = api.summary()
    res = invoke("compare", small, variant, "-r", 3, "--seed", 6, "--no-progress")
    assert res.exit_code == 0, res.output
    assert res.stdout.rstrip("\n") == api.to_text()
    # differences: money signed with separators, rates in percentage points
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("GRR (starting"))
    row = summary.loc["grr"]
    assert f"{100 * row['baseline']:.1f}%" in line and f"{100 * row['diff']:+.2f} pp" in line
    assert f"{100 * row['ci_lo']:+.2f} pp .. {100 * row['ci_hi']:+.2f} pp" in line
    out = tmp_path / "cmp"
    res = invoke("compare", small, variant, small, "-r", 3, "--seed", 6, "--json", "--out", out)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["comparisons"][0] == api.to_dict()
    assert doc["comparisons"][0]["roi"] == pytest.approx(summary.loc["roi", "diff"])
    assert [c["variant"] for c in doc["comparisons"]] == ["small_save", "small"]
    assert json.loads((out / "small_save" / "comparison.json").read_text()) == api.to_dict()
    assert (out / "small_save" / "comparison.txt").read_text() == api.to_text() + "\n"
    diffs = pd.read_csv(out / "small_save" / "differences.csv")
    np.testing.assert_allclose(diffs["nrr"], api.differences["nrr"], rtol=1e-12)
    for run in ("baseline", "variant"):
        assert (out / "small_save" / run / "summary.json").exists()
    assert (out / "small" / "comparison.json").exists()


def test_compare_needs_two_scenarios(small):
    res = invoke("compare", small)
    assert res.exit_code == 2


def test_generate_writes_and_refuses_to_overwrite(small, tmp_path):
    out = tmp_path / "company"
    args = ("generate", out, "--scenario", small, "--seed", 4, "--months", 4,
            "--accounts", 60)
    res = invoke(*args)
    assert res.exit_code == 0, res.output
    ds = cs_sim.load_dataset(out)
    assert ds.mrr["month"].nunique() == 4
    assert json.loads((out / "ground_truth.json").read_text())["seed"] == 4
    first = (out / "mrr.csv").read_bytes()
    res = invoke(*args)
    assert res.exit_code == 2 and "not empty" in res.stderr and "--force" in res.stderr
    res = invoke(*args, "--force")
    assert res.exit_code == 0, res.output
    assert (out / "mrr.csv").read_bytes() == first
    res = invoke(*args[:2], "--format", "xlsx", "--force")
    assert res.exit_code == 2 and "must be 'csv' or 'parquet' (got 'xlsx')" in res.stderr


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("behaviour:\n  surveys: {nps_respons_rate: 0.1}\n",
         "behaviour.surveys.nps_respons_rate: unknown key"),
        ("behaviour:\n  support: {fcr: 1.5}\n", "behaviour.support.fcr: must be <= 1"),
    ],
)
def test_bad_scenario_exits_2_with_the_field_path(small, body, message):
    bad = small.parent / "bad.yaml"
    bad.write_text(f"extends: small.yaml\nname: bad\n{body}")
    for args in (("simulate", bad, "-r", 2), ("compare", small, bad, "-r", 2),
                 ("generate", small.parent / "never", "--scenario", bad)):
        res = invoke(*args)
        assert res.exit_code == 2, res.output
        assert f"bad.yaml: {message}" in res.stderr
        assert "Traceback" not in res.output
    assert not (small.parent / "never").exists()


def test_simulate_from_a_dataset(small):
    data = ROOT / "data" / "example"
    res = invoke("simulate", small, "-r", 2, "--seed", 8, "--json", "--data", data)
    assert res.exit_code == 0, res.output
    sc = cs_sim.load_scenario(small).with_changes({"population": {"source": "dataset"}})
    api = cs_sim.simulate(sc, replications=2, seed=8, dataset=cs_sim.load_dataset(data))
    doc = json.loads(res.stdout)
    assert doc["summary"]["mrr_end"]["mean"] == api.summary().loc["mrr_end", "mean"]
    # the example company's paying accounts of its last month start the run
    assert api.monthly["accounts_start"].iloc[0] < 20
