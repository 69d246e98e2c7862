"""Parameters given as distributions (cs_sim.sim.uncertainty).

Truth comes from outside the code under test: scipy.stats' distributions built here
from the textbook parametrisations (Kolmogorov-Smirnov tests on many draws), closed-form
moments (lognormal mean ``median * exp(sigma**2 / 2)``, triangular mean ``(low + mode +
high) / 3``, ...), an accounting identity (gross profit / revenue is the drawn gross
margin) and the common-random-numbers contract (a scenario compared with itself differs
by exactly 0).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

import cs_sim
from cs_sim.cli import app
from cs_sim.errors import ScenarioError
from cs_sim.sim.rng import param_uniform
from cs_sim.sim.scenario_io import load_scenario, scenario_from_dict
from cs_sim.sim.uncertainty import (
    Distribution,
    draw_scenario,
    draw_values,
    parameter_draws,
    parse_distribution,
)

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "templates" / "scenarios" / "baseline.yaml"
N_DRAWS = 3000

runner = CliRunner()


def small_yaml(folder: Path, body: str, name: str = "unc") -> Path:
    """A small scenario extending the baseline template, with ``body`` appended."""
    path = folder / f"{name}.yaml"
    path.write_text(
        f"extends: {BASELINE}\nname: {name}\nhorizon_months: 6\n"
        "population: {n_accounts: 150}\nacquisition: {new_logos_per_month: 4}\n" + body
    )
    return path


# ------------------------------------------------------------------- draws vs scipy.stats
#: (YAML of the distribution, field it is given to, the same law built in scipy here,
#:  its mean and variance in closed form)
LAWS = [
    ("{dist: normal, mean: -3.5, sd: 0.2}", "segments.smb.churn_intercept",
     stats.norm(loc=-3.5, scale=0.2), -3.5, 0.04),
    ("{dist: lognormal, median: 40, sigma: 0.3}", "acquisition.new_logos_per_month",
     stats.lognorm(s=0.3, scale=40), 40 * math.exp(0.045),
     40**2 * (math.exp(0.09) - 1) * math.exp(0.09)),
    ("{dist: beta, a: 8, b: 2, low: 0.5, high: 0.9}", "gross_margin",
     stats.beta(8, 2, loc=0.5, scale=0.4), 0.5 + 0.4 * 0.8, 0.4**2 * 16 / (100 * 11)),
    ("{dist: uniform, low: 0.4, high: 0.9}", "plays.qbr.effect.hazard_multiplier",
     stats.uniform(loc=0.4, scale=0.5), 0.65, 0.25 / 12),
    ("{dist: triangular, low: 1, mode: 2, high: 6}", "plays.qbr.decay.half_life_months",
     stats.triang(0.2, loc=1, scale=5), 3.0, (1 + 4 + 36 - 2 - 6 - 12) / 18),
]


def _set(path: str, text: str) -> str:
    """YAML that sets ``path`` (of the baseline's named lists) to ``text``."""
    parts = path.split(".")
    if parts[0] in ("segments", "plays"):
        inner = text
        for key in reversed(parts[2:]):
            inner = f"{{{key}: {inner}}}"
        return f"{parts[0]}:\n  - {{name: {parts[1]}, {inner[1:-1]}}}\n"
    inner = text
    for key in reversed(parts[1:]):
        inner = f"{{{key}: {inner}}}"
    return f"{parts[0]}: {inner}\n"


@pytest.fixture(scope="module")
def laws_scenario(tmp_path_factory):
    folder = tmp_path_factory.mktemp("laws")
    body = "".join(_set(path, text) for text, path, *_ in LAWS if not path.startswith("plays"))
    body += ("plays:\n  - name: qbr\n    effect: {hazard_multiplier: " + LAWS[3][0] + "}\n"
             "    decay: {half_life_months: " + LAWS[4][0] + "}\n")
    return load_scenario(small_yaml(folder, body))


@pytest.fixture(scope="module")
def laws_draws(laws_scenario):
    return parameter_draws(laws_scenario, 11, range(N_DRAWS))


@pytest.mark.parametrize("law", LAWS, ids=[law[0].split(",")[0][7:] for law in LAWS])
def test_draws_follow_the_distribution(laws_draws, law):
    _, path, rv, mean, var = law
    x = laws_draws[path].to_numpy()
    assert stats.kstest(x, rv.cdf).pvalue > 1e-3
    # closed-form moments: the mean within 4 standard errors, the variance within 15%
    assert abs(x.mean() - mean) < 4 * math.sqrt(var / N_DRAWS)
    assert x.var(ddof=1) == pytest.approx(var, rel=0.15)


def test_the_scenario_holds_the_median(laws_scenario):
    sc = laws_scenario
    assert sc.segments[0].churn_intercept == pytest.approx(-3.5)
    assert sc.acquisition.new_logos_per_month == pytest.approx(40)
    assert sc.gross_margin == pytest.approx(stats.beta(8, 2).median() * 0.4 + 0.5)
    qbr = next(p for p in sc.plays if p.name == "qbr")
    assert qbr.effect.hazard_multiplier == pytest.approx(0.65)
    # triangular median when the mode lies below it: high - sqrt((high - low)(high - mode)/2)
    assert qbr.decay.half_life_months == pytest.approx(6 - math.sqrt(5 * 4 / 2))


def test_each_parameter_has_its_own_stream(laws_scenario, laws_draws):
    u = laws_draws.drop(columns="replication").rank().to_numpy()
    corr = np.corrcoef(u, rowvar=False)
    off = corr[~np.eye(len(corr), dtype=bool)]
    assert np.abs(off).max() < 4 / math.sqrt(N_DRAWS)
    # a parameter's draws depend on its path only: removing the others changes nothing
    alone = laws_scenario.with_changes({"gross_margin": 0.8,
                                        "segments": [{"name": "smb", "churn_intercept": -3.5}]})
    assert "gross_margin" not in alone.uncertain
    mine = parameter_draws(alone, 11, range(50))
    path = "plays.qbr.effect.hazard_multiplier"
    np.testing.assert_array_equal(mine[path], laws_draws[path][:50])


def test_truncation_follows_scipy_truncnorm(tmp_path):
    sc = load_scenario(small_yaml(tmp_path, _set(
        "behaviour.support.fcr", "{dist: normal, mean: 0.95, sd: 0.1, truncate: true}")))
    x = parameter_draws(sc, 5, range(N_DRAWS))["behaviour.support.fcr"].to_numpy()
    assert x.max() <= 1.0 and x.min() >= 0.0
    law = stats.truncnorm((0 - 0.95) / 0.1, (1 - 0.95) / 0.1, loc=0.95, scale=0.1)
    assert stats.kstest(x, law.cdf).pvalue > 1e-3
    assert sc.behaviour.support.fcr == pytest.approx(law.median())


def test_integer_fields_take_rounded_draws(tmp_path):
    sc = load_scenario(small_yaml(tmp_path, "tiers:\n  - name: high_touch\n"
                                  "    team: {headcount: {dist: uniform, low: 1.5, high: 4.5}}\n"))
    x = parameter_draws(sc, 5, range(N_DRAWS))["tiers.high_touch.team.headcount"]
    assert x.dtype.kind == "i"
    share = x.value_counts(normalize=True).sort_index()
    assert list(share.index) == [2, 3, 4]  # 1.5..4.5 rounds to 2, 3 or 4, each a third
    assert np.abs(share.to_numpy() - 1 / 3).max() < 4 * math.sqrt(2 / 9 / N_DRAWS)
    assert draw_scenario(sc, 5, 0).tiers[0].team.headcount == x.iloc[0]


def test_a_draw_is_the_quantile_of_its_own_uniform():
    sc = scenario_from_dict({"gross_margin": {"dist": "uniform", "low": 0.5, "high": 0.9}})
    for rep in range(5):
        u = param_uniform(3, rep, "gross_margin")
        assert 0 < u < 1
        assert draw_values(sc, 3, rep)["gross_margin"] == pytest.approx(0.5 + 0.4 * u)


# ----------------------------------------------------------- runs with drawn parameters
@pytest.fixture(scope="module")
def margin_pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pair")
    base = small_yaml(folder, "gross_margin: {dist: uniform, low: 0.6, high: 0.9}\n"
                              "segments:\n  - {name: smb, churn_intercept: "
                              "{dist: normal, mean: -3.5, sd: 0.3}}\n")
    variant = folder / "variant.yaml"
    variant.write_text("extends: unc.yaml\nname: variant\n"
                       "plays:\n  - {name: qbr, effect: {hazard_multiplier: 0.5}}\n")
    return load_scenario(base), load_scenario(variant)


def test_each_replication_runs_its_draws(margin_pair, tmp_path):
    base, _ = margin_pair
    res = cs_sim.simulate(base, replications=5, seed=2)
    drawn = res.parameters  # kept on the result, and written with it
    assert drawn.columns.tolist() == ["replication", "gross_margin",
                                      "segments.smb.churn_intercept"]
    np.testing.assert_array_equal(drawn, parameter_draws(base, 2, range(5)))
    assert "parameters.csv" in {p.name for p in res.write(tmp_path)}
    pr = res.per_replication
    # gross profit = revenue x gross margin: the margin each replication drew
    np.testing.assert_allclose(pr["gross_profit"] / pr["revenue"], drawn["gross_margin"],
                               rtol=1e-12)
    assert drawn["gross_margin"].std() > 0.03
    # the same as running each replication's concrete scenario (one at a time, as it is)
    for rep in (0, 3):
        one = cs_sim.simulate(draw_scenario(base, 2, rep), replications=rep + 1, seed=2,
                              chunk_size=1)
        np.testing.assert_array_equal(
            one.per_replication.iloc[rep].to_numpy(), pr.iloc[rep].to_numpy())


def test_baseline_and_variant_draw_the_same_values(margin_pair):
    base, variant = margin_pair
    assert variant.uncertain == base.uncertain  # inherited through extends
    a, b = (parameter_draws(sc, 9, range(20)) for sc in (base, variant))
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
    cmp = cs_sim.compare(base, variant, replications=4, seed=9)
    ratio = [r.per_replication["gross_profit"] / r.per_replication["revenue"]
             for r in (cmp.baseline, cmp.variant)]
    np.testing.assert_allclose(ratio[0], ratio[1], rtol=1e-12)


def test_self_comparison_with_distributions_is_exactly_zero(margin_pair):
    base, _ = margin_pair
    cmp = cs_sim.compare(base, base, replications=4, seed=4)
    diffs = cmp.differences.drop(columns=["replication"]).select_dtypes("number")
    values = diffs.to_numpy(dtype=float)
    assert np.all((values == 0) | np.isnan(values))
    assert np.isfinite(values).sum() > 10


def test_with_changes_keeps_replaces_and_updates_distributions(margin_pair):
    base, _ = margin_pair
    kept = base.with_changes({"horizon_months": 4})
    assert kept.uncertain == base.uncertain
    fixed = base.with_changes({"gross_margin": 0.7})
    assert "gross_margin" not in fixed.uncertain and fixed.gross_margin == 0.7
    wider = base.with_changes({"segments": [{"name": "smb", "churn_intercept": {"sd": 0.5}}]})
    assert wider.uncertain["segments.smb.churn_intercept"] == Distribution(
        dist="normal", mean=-3.5, sd=0.5)
    other = base.with_changes({"gross_margin": {"dist": "triangular", "low": 0.6,
                                                "mode": 0.8, "high": 0.9}})
    assert other.uncertain["gross_margin"].dist == "triangular"


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_set("segments.smb.churn_intercept", "{dist: normal, mean: -3.5, sd: -0.2}"),
         "segments.smb.churn_intercept: sd must be > 0 (got -0.2), e.g. {dist: normal"),
        (_set("gross_margin", "{dist: uniform, low: 0.9, high: 0.6}"),
         "gross_margin: low must be < high (got low 0.9, high 0.6)"),
        (_set("gross_margin", "{dist: norml, mean: 0.8, sd: 0.1}"),
         "gross_margin: unknown distribution 'norml'; did you mean 'normal'?"),
        (_set("segments.smb.churn_intercept", "{dist: normal, mean: -3.5, std: 0.2}"),
         "segments.smb.churn_intercept: unknown key 'std' for a normal distribution; did you "
         "mean 'sd'?"),
        (_set("segments.smb.churn_intercept", "{dist: triangular, low: 1, high: 2}"),
         "segments.smb.churn_intercept: a triangular distribution needs 'mode'"),
        (_set("behaviour.support.fcr", "{dist: normal, mean: 0.7, sd: 0.1}"),
         "behaviour.support.fcr: normal(mean 0.7, sd 0.1) can draw values outside the "
         "field's bounds [0, 1]"),
        (_set("horizon_months", "{dist: uniform, low: 6, high: 12}"),
         "horizon_months: fixes the shape of a run"),
        (_set("description", "{dist: uniform, low: 6, high: 12}"),
         "description: is not a number field"),
        ("uncertain: {gross_margin: {dist: normal, mean: 0.8, sd: 0.01}}\n",
         "uncertain: not a key of a scenario file"),
        ("plays:\n  - name: usage_drop_call\n    kind: trigger\n    tiers: [high_touch]\n"
         "    trigger: {event: usage_drop, threshold: {dist: uniform, low: 0.2, high: 1.2}}\n",
         "plays.usage_drop_call.trigger.threshold: uniform(low 0.2, high 1.2) can draw 1.2, "
         "where the scenario is not valid"),
    ],
)
def test_bad_distributions_name_file_path_and_fix(tmp_path, body, message):
    path = small_yaml(tmp_path, body, name="bad")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert f"bad.yaml: {message}" in str(err.value)
    res = runner.invoke(app, ["simulate", str(path), "-r", "2", "--no-progress"])
    assert res.exit_code == 2, res.output
    assert message in res.stderr and "Traceback" not in res.output


def test_the_fix_for_a_probability_is_truncation(tmp_path):
    sc = load_scenario(small_yaml(tmp_path, _set(
        "behaviour.support.fcr", "{dist: normal, mean: 0.7, sd: 0.1, truncate: true}")))
    assert sc.uncertain["behaviour.support.fcr"].truncate


def test_distribution_checks_in_python_too():
    with pytest.raises(ValueError, match="sd must be > 0"):
        Distribution(dist="normal", mean=0.0, sd=0.0)
    with pytest.raises(ValueError, match="mode must lie in"):
        parse_distribution({"dist": "triangular", "low": 0, "mode": 3, "high": 2}, where="x")
    with pytest.raises(ValueError, match="gross_margin: normal.* can draw values outside"):
        cs_sim.Scenario(uncertain={"gross_margin": Distribution(dist="normal", mean=0.8,
                                                                 sd=0.1)})


def test_no_distribution_no_change(tmp_path):
    plain = load_scenario(BASELINE)
    assert plain.uncertain == {}
    assert "uncertain" not in plain.model_dump()
    assert "uncertain" not in cs_sim.sim.scenario_json_schema()["properties"]
    assert parameter_draws(plain, 1, range(3)).columns.tolist() == ["replication"]
