"""`cs_sim.sensitivity` and `cs-sim sensitivity`: tornado and Sobol indices.

Known answers: profit is gross margin x revenue - cost, and gross margin enters nothing
else, so a gross-margin bar of the profit tornado is exactly (margin change) x (mean
revenue of an independent central run) and its NRR bar is exactly 0; a higher churn
intercept can only lower NRR (bars of opposite sign); a parameter that explains
almost all of the variance must rank first by Sobol's total index; a variant equal to
its baseline differs by exactly 0 whatever the parameters (common random numbers).
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
from cs_sim.errors import ScenarioError
from cs_sim.sim.scenario_io import load_scenario
from cs_sim.sim.uncertainty import central_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "templates" / "scenarios" / "baseline.yaml"
SEED = 5
R = 3

runner = CliRunner()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sens")
    (folder / "toy.yaml").write_text(
        f"extends: {BASELINE}\nname: toy\nhorizon_months: 6\n"
        "population: {n_accounts: 150}\nacquisition: {new_logos_per_month: 4}\n"
        "gross_margin: {dist: uniform, low: 0.6, high: 0.9}\n"
        "segments:\n  - {name: smb, churn_intercept: {dist: normal, mean: -3.5, sd: 0.3}}\n"
        "plays:\n  - {name: qbr, cost: {dist: uniform, low: 40, high: 60}}\n"
    )
    (folder / "toy_qbr.yaml").write_text(
        "extends: toy.yaml\nname: toy_qbr\n"
        "plays:\n  - {name: qbr, schedule: {every_months: 1}, "
        "effect: {hazard_multiplier: 0.5}}\n"
    )
    (folder / "plain.yaml").write_text(
        f"extends: {BASELINE}\nname: plain\nhorizon_months: 6\n"
        "population: {n_accounts: 150}\nacquisition: {new_logos_per_month: 4}\n"
    )
    return folder


@pytest.fixture(scope="module")
def toy_result(folder):
    return cs_sim.sensitivity(folder / "toy.yaml", replications=R, seed=SEED,
                              sobol_samples=0)


def _row(result, metric: str, parameter: str) -> pd.Series:
    t = result.tornado
    return t[(t["metric"] == metric) & (t["parameter"] == parameter)].iloc[0]


def test_tornado_of_a_parameter_with_a_known_effect(folder, toy_result):
    # uniform(0.6, 0.9): 5% and 95% quantiles 0.615 and 0.885, median 0.75
    gm = _row(toy_result, "profit", "gross_margin")
    assert (gm["low_input"], gm["high_input"]) == pytest.approx((0.615, 0.885))
    central = central_scenario(load_scenario(folder / "toy.yaml"))
    assert central.gross_margin == pytest.approx(0.75)
    revenue = cs_sim.simulate(central, replications=R, seed=SEED).per_replication["revenue"]
    assert gm["low_change"] == pytest.approx((0.615 - 0.75) * revenue.mean(), rel=1e-9)
    assert gm["high_change"] == pytest.approx((0.885 - 0.75) * revenue.mean(), rel=1e-9)
    assert gm["low_change"] < 0 < gm["high_change"]


def test_a_parameter_that_cannot_act_gives_a_zero_bar(toy_result):
    gm = _row(toy_result, "nrr", "gross_margin")
    assert gm["low_change"] == 0.0 and gm["high_change"] == 0.0 and gm["swing"] == 0.0


def test_a_monotone_parameter_gives_bars_of_opposite_sign(toy_result):
    cost = _row(toy_result, "profit", "plays.qbr.cost")
    # profit falls as the cost per delivery rises, linearly (the cost changes nothing
    # else): uniform(40, 60) has 41 and 59 as 5% and 95% quantiles, 50 as median
    assert (cost["low_input"], cost["high_input"]) == pytest.approx((41, 59))
    assert cost["low_change"] > 0 > cost["high_change"]
    assert cost["low_change"] == pytest.approx(-cost["high_change"], rel=1e-9)
    assert _row(toy_result, "nrr", "plays.qbr.cost")["swing"] == 0.0
    churn = _row(toy_result, "nrr", "segments.smb.churn_intercept")
    assert churn["low_input"] < -3.5 < churn["high_input"] and churn["swing"] > 0


def test_variant_tornado_is_the_paired_difference(folder):
    res = cs_sim.sensitivity(folder / "toy.yaml", folder / "toy_qbr.yaml", metrics=["profit"],
                             replications=R, seed=SEED, sobol_samples=0)
    gm = _row(res, "profit", "gross_margin")
    base, var = (central_scenario(load_scenario(folder / f)) for f in ("toy.yaml",
                                                                        "toy_qbr.yaml"))
    cmp = cs_sim.compare(base, var, replications=R, seed=SEED)
    d_rev = cmp.differences["revenue"].mean()
    assert gm["central"] == pytest.approx(cmp.differences["profit"].mean(), rel=1e-9)
    # the profit difference moves with the margin only through the revenue difference
    assert gm["high_change"] == pytest.approx((0.885 - 0.75) * d_rev, rel=1e-6)


def test_a_variant_equal_to_its_baseline_differs_by_exactly_zero(folder):
    res = cs_sim.sensitivity(folder / "toy.yaml", folder / "toy.yaml", replications=2,
                             seed=SEED, sobol_samples=8, sobol_replications=1)
    values = res.tornado[["central", "low", "high", "low_change", "high_change"]].to_numpy()
    assert np.all(values == 0.0)
    assert res.sobol["ST"].isna().all()  # no variance to share out
    assert "n/a" in res.to_text()


def test_params_without_a_distribution_vary_by_the_spread(folder):
    plain = load_scenario(folder / "plain.yaml").with_changes(
        {"behaviour": {"support": {"fcr": 0.9}}})
    res = cs_sim.sensitivity(plain, params=["behaviour.support.fcr", "gross_margin"],
                             metrics=["profit"], replications=2, seed=SEED, spread=0.2,
                             sobol_samples=0)
    fcr = _row(res, "profit", "behaviour.support.fcr")
    # 0.9 x 0.8 = 0.72; 0.9 x 1.2 = 1.08, kept inside the field's bounds [0, 1]
    assert (fcr["low_input"], fcr["high_input"]) == pytest.approx((0.72, 1.0))
    gm = _row(res, "profit", "gross_margin")
    assert (gm["low_input"], gm["high_input"]) == pytest.approx((0.64, 0.96))
    assert set(res.parameters["kind"]) == {"spread"}


def test_sobol_ranks_the_dominant_parameter_first(folder):
    sc = load_scenario(folder / "plain.yaml").with_changes({
        "gross_margin": {"dist": "uniform", "low": 0.3, "high": 0.95},
        "plays": [{"name": "qbr", "cost": {"dist": "uniform", "low": 45, "high": 55}}],
    })
    res = cs_sim.sensitivity(sc, metrics=["profit"], replications=1, seed=SEED,
                             sobol_samples=16, sobol_replications=1)
    s = res.sobol.set_index("parameter")
    assert s.loc["gross_margin", "rank"] == 1
    assert s.loc["gross_margin", "ST"] > 0.9 and s.loc["gross_margin", "S1"] > 0.8
    assert s.loc["plays.qbr.cost", "ST"] < 0.05
    assert res.settings["runs"] == 16 * (2 + 2) + 1 + 2 * 2
    assert res.tornado["parameter"].iloc[0] == "gross_margin"


def test_result_renders_and_writes(toy_result, tmp_path):
    from cs_sim.sim.results import METRICS

    text = toy_result.to_text()
    assert METRICS["profit"][0] in text and METRICS["nrr"][0] in text
    assert "0.615 .. 0.885" in text
    assert "e+0" not in text and "e-0" not in text
    doc = json.loads(json.dumps(toy_result.to_dict()))
    assert doc["metrics"]["profit"]["tornado"][0]["parameter"] == "gross_margin"
    written = toy_result.write(tmp_path)
    names = {p.name for p in written}
    assert {"tornado.csv", "parameters.csv", "sensitivity.json", "sensitivity.txt",
            "tornado_profit.png", "tornado_profit.svg", "tornado_nrr.png"} <= names
    assert (tmp_path / "tornado_profit.png").read_bytes()[:4] == b"\x89PNG"
    back = pd.read_csv(tmp_path / "tornado.csv")
    np.testing.assert_allclose(back["low_change"], toy_result.tornado["low_change"])
    assert METRICS["profit"][0] in toy_result._repr_html_()


def test_plot_tornado_draws_the_changes(toy_result):
    from matplotlib.figure import Figure

    from cs_sim.plotting import plot_tornado

    frame = toy_result.tornado[toy_result.tornado["metric"] == "profit"]
    ax = plot_tornado(frame, unit="money", ax=Figure().add_subplot())
    widths = sorted(round(p.get_width(), 3) for p in ax.patches)
    expected = sorted(round(v, 3) for v in [*frame["low_change"], *frame["high_change"]])
    assert widths == expected
    top = max(zip(ax.get_yticks(), ax.get_yticklabels(), strict=True), key=lambda t: t[0])
    assert top[1].get_text().startswith("gross_margin\n0.615 .. 0.885")  # largest on top
    with pytest.raises(ValueError, match="one metric"):
        plot_tornado(toy_result.tornado)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"params": ["segments.smbb.churn_intercept"]},
         "no item named 'smbb' in segments; did you mean 'smb'?"),
        ({"metrics": ["proft"]}, "metrics: unknown metric(s) proft"),
        ({"sobol_samples": 12}, "sobol_samples: must be 0 (no Sobol indices) or a power of 2"),
        ({"params": ["population.n_accounts"]}, "fixes the shape of a run"),
    ],
)
def test_bad_arguments_are_scenario_errors(folder, kwargs, message):
    with pytest.raises(ScenarioError) as err:
        cs_sim.sensitivity(folder / "toy.yaml", replications=1, seed=1, **kwargs)
    assert message in str(err.value)


def test_cli_prints_json_of_the_api_run(folder, tmp_path):
    args = ["sensitivity", str(folder / "toy.yaml"), "--vs", str(folder / "toy_qbr.yaml"),
            "--metric", "profit", "-r", "2", "--seed", "3", "--sobol-samples", "0",
            "--no-progress"]
    res = runner.invoke(app, [*args, "--json", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    api = cs_sim.sensitivity(folder / "toy.yaml", folder / "toy_qbr.yaml", metrics=["profit"],
                             replications=2, seed=3, sobol_samples=0)
    assert doc == json.loads(json.dumps(api.to_dict()))
    assert (tmp_path / "tornado_profit.svg").exists()
    text = runner.invoke(app, args)
    assert text.exit_code == 0 and text.stdout.strip() == api.to_text().strip()


def test_cli_help():
    res = runner.invoke(app, ["sensitivity", "--help"])
    assert res.exit_code == 0 and "--vs" in res.output and "--sobol-samples" in res.output


def test_cli_exits_2_on_bad_input(folder):
    for extra, message in (
        (["--params", "gross_margn"], "did you mean 'gross_margin'?"),
        (["--metric", "nope"], "unknown metric(s) nope"),
    ):
        res = runner.invoke(app, ["sensitivity", str(folder / "toy.yaml"), "-r", "1",
                                  "--no-progress", *extra])
        assert res.exit_code == 2, res.output
        assert message in res.stderr and "Traceback" not in res.output
    res = runner.invoke(app, ["sensitivity", str(folder / "plain.yaml"), "--no-progress"])
    assert res.exit_code == 2
    assert "no parameter to vary" in res.stderr
