"""`cs_sim.calibrate` and `cs-sim calibrate`: estimators, recovery of the truth, the scenario.

Truth comes from outside the code under test: hand calculations (the health proxy, the
grouped hazard's decisions and likelihood), numerical derivatives (the hazard's score),
the simulator's own inversion of usage (``initial_population``), data drawn from known
parameters with numpy, and the generator's parameters of ``data/sample``
(``ground_truth.json``).

Recovery tolerances on ``data/sample`` and why (``z`` = (estimate - truth) / std. err.):

==============================  ==========================================================
parameter                       tolerance
==============================  ==========================================================
shares, employees, seat share,  ``|z| <= 3``: maximum-likelihood rates and shares of what the
annual share, tickets per seat, tables record directly
FCR, handle minutes, response
rates, new logos, trial
conversion, usage activity,
reversion, churn and resize
slopes
price per seat                  exact (every segment has one price)
expansion / contraction size    2% relative: OLS slope, standard error tiny; ceil/floor of
                                seats to whole numbers moves the intercept, not the slope
churn, expansion, contraction   ``|z| <= 3`` after mapping the truth to the calibrated health
intercepts; health mean         scale (see below); health mean within 6 points: the as-is
                                plays add health (QBR +4 a quarter for high-touch ...)
involuntary rate                ``|z| <= 3``: identified only by being flat in health and
                                tenure, hence its large standard error
failed-ticket penalty, health   15% relative: moment estimates without a standard error (or
noise, usage noise              one that ignores clipping at 0-100 and champion departures,
                                which add health noise the data cannot tell apart)
health sd of new customers      25% relative: a variance less two noise variances
NPS slope / noise               ``|z| <= 3`` / 10% relative (ordered probit)
NPS intercept                   0.3 points: one intercept for all segments on a health scale
                                whose zero differs by segment (below)
==============================  ==========================================================

*Health scale.* Health is latent: calibration fixes ``active_share_intercept`` = 0.6 for
every segment and the usage slope 0.35. The generator's segment ``s`` has intercept
``a_s``, so calibrated health is the true health plus ``10 δ_s``, ``δ_s = (a_s - 0.6) /
0.35``, and a logit intercept ``c`` with health slope ``β`` reads ``c - β δ_s`` on the
calibrated scale. Not identifiable from the tables (so not tested): ``active_share_intercept``
and the usage slope themselves, champion departures, the CSAT score model, plays.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import cs_sim
from cs_sim.calibration import Calibration, calibrate, readiness, simulation_dataset
from cs_sim.calibration._estimate import conditional_se
from cs_sim.calibration._hazard import _model_class, fit_term_hazard, group_decisions
from cs_sim.calibration._panel import health_proxy
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
def cal(sample) -> Calibration:
    return calibrate(sample)


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((SAMPLE / "ground_truth.json").read_text())["behaviour"]


def _delta(truth: dict) -> dict[str, float]:
    """``δ_s``: how far the calibrated health scale of segment s is from the true one (x)."""
    return {s: (v["active_share_intercept"] - 0.6) / 0.35 for s, v in truth["segments"].items()}


def _z(cal: Calibration, path: str, true: float) -> float:
    row = cal.estimates.loc[path]
    return (row["estimate"] - true) / row["std_err"]


# ------------------------------------------------------------------------- estimators
def test_health_proxy_inverts_the_usage_equation() -> None:
    x = np.array([-2.0, -0.5, 0.0, 1.0, 2.5])  # health 30, 45, 50, 60, 75
    share = 1.0 / (1.0 + np.exp(-(0.6 + 0.35 * x)))
    seats = np.full(x.size, 1e6)
    got = health_proxy(np.rint(share * seats), seats)
    np.testing.assert_allclose(got, 50.0 + 10.0 * x, atol=1e-3)
    assert np.isnan(health_proxy(np.array([3.0]), np.array([np.nan]))).all()


def test_health_proxy_is_the_simulators_own_inversion() -> None:
    """The engine reads a dataset's starting health the same way (initial_population)."""
    from cs_sim.io import Dataset
    from cs_sim.sim.population import initial_population
    from cs_sim.sim.scenario_io import scenario_from_dict

    accounts = pd.DataFrame({"account_id": ["a", "b", "c"], "segment": ["x", "x", "y"],
                             "contract": ["monthly"] * 3, "employees": [50, 80, 10]})
    month = pd.Timestamp("2025-03-01")
    mrr = pd.DataFrame({"account_id": ["a", "b", "c"], "month": [month] * 3,
                        "mrr": [100.0, 200.0, 50.0]})
    usage = pd.DataFrame({"account_id": ["a", "b", "c"], "month": [month] * 3,
                          "active_users": [7, 33, 1], "seats": [10, 40, 9]})
    ds = Dataset(accounts=accounts, mrr=mrr, usage=usage)
    sc = scenario_from_dict({"population": {"source": "dataset"},
                             "segments": [{"name": "x"}, {"name": "y"}]})
    pop = initial_population(sc, ds, 1)
    mine = health_proxy(usage["active_users"].to_numpy(float), usage["seats"].to_numpy(float))
    np.testing.assert_allclose(pop.health[0], np.clip(mine, 0, 100), rtol=1e-12)


def test_decisions_are_grouped_as_the_engine_decides() -> None:
    """Hand example: a monthly account churning in its 3rd month; an annual one renewing
    at tenure 12 with only its last 5 months of the term observed, then 2 months of an
    unfinished term."""
    account = np.array([0, 0, 0, 1, 1, 1, 1, 1, 1, 1])
    tenure = np.array([1, 2, 3, 8, 9, 10, 11, 12, 13, 14])
    event = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0], dtype=bool)
    annual = account == 1
    decides = ~annual | (tenure % 12 == 0) | event
    months = np.where(annual, np.where(tenure % 12 == 0, 12, tenure % 12), 1).astype(float)
    g = group_decisions(account, event, decides, months, np.zeros(10, dtype=int))
    assert g.n == 4  # three monthly decisions and one renewal; months 13-14 left out
    assert g.keep.tolist() == [True] * 8 + [False] * 2
    assert g.gid.tolist() == [0, 1, 2, 3, 3, 3, 3, 3]
    assert g.y.tolist() == [0, 0, 1, 0]
    assert g.months.tolist() == [1, 1, 1, 12]
    # the first observed month of the term stands for the 7 months before the data too
    assert g.weight.tolist() == [1, 1, 1, 8, 1, 1, 1, 1]


def test_term_hazard_likelihood_and_score() -> None:
    """Log-likelihood by hand on two decisions; analytic score = numerical gradient."""
    from statsmodels.tools.numdiff import approx_fprime

    rows = np.array([[1.0, 0.5], [1.0, -1.0], [1.0, 2.0]])
    g = group_decisions(np.array([0, 1, 1]), np.array([True, False, False]),
                        np.array([True, False, True]), np.array([1.0, 2.0, 2.0]),
                        np.array([0, 0, 0]))
    model = _model_class()(g.y, rows, g, "pooled", 1, ["a", "b", "log_q"])
    params = np.array([-2.0, 0.4, math.log(0.01)])
    p = 1 / (1 + np.exp(-(rows @ params[:2])))
    q = 0.01
    churn_first = p[0] + q  # a monthly decision
    stay_second = 1 - ((1 - (1 - p[1]) * (1 - p[2])) + (1 - (1 - q) ** 2))  # a 2-month term
    assert model.loglike(params) == pytest.approx(math.log(churn_first) + math.log(stay_second))
    np.testing.assert_allclose(model.score(params),
                               approx_fprime(params, model.loglike, centered=True), rtol=1e-5)


def test_term_hazard_recovers_known_parameters() -> None:
    """Decisions drawn with numpy from known (β, q): the fit is within 3 standard errors."""
    rng = np.random.default_rng(7)
    beta, q, term = np.array([-4.0, -0.5]), 0.004, 6
    acc, rows, events, decides, months = [], [], [], [], []
    for a in range(2500):
        annual = a % 3 == 0
        for t in range(1, 25):
            x = rng.normal()
            p = 1 / (1 + np.exp(-(beta[0] + beta[1] * x)))
            acc.append(a)
            rows.append([1.0, x])
            if annual:
                hist = [r for r, aa in zip(rows, acc, strict=True) if aa == a][-(t % term or term):]
                ps = [1 / (1 + np.exp(-(beta[0] + beta[1] * r[1]))) for r in hist]
                pv = 1 - np.prod(1 - np.array(ps)) + 1 - (1 - q) ** term
                dec = t % term == 0
            else:
                pv, dec = p + q, True
            ev = bool(dec and rng.random() < pv)
            events.append(ev)
            decides.append(dec)
            months.append(term if annual and dec else 1)
            if ev:
                break
    g = group_decisions(np.array(acc), np.array(events), np.array(decides),
                        np.array(months, dtype=float), np.zeros(len(acc), dtype=int))
    fit = fit_term_hazard(np.array(rows)[g.keep], ["a", "b"], g, n_seg=1, q_mode="pooled")
    assert fit is not None
    z = (fit.params[["a", "b"]].to_numpy() - beta) / fit.bse[["a", "b"]].to_numpy()
    assert np.all(np.abs(z) < 3), (fit.params, fit.bse)
    assert abs(fit.params["log_q"] - math.log(q)) < 3 * fit.bse["log_q"]


def test_conditional_standard_errors_by_hand() -> None:
    cov = np.array([[1.0, 0.9], [0.9, 1.0]])  # precision = [[1, -.9], [-.9, 1]] / 0.19
    np.testing.assert_allclose(conditional_se(cov), [math.sqrt(0.19)] * 2)


# ------------------------------------------------------------------- recovery: sample
def test_recovers_what_the_tables_record(cal, truth) -> None:
    seg = truth["segments"]
    paths = {}
    for s, v in seg.items():
        for f in ("share", "seat_share", "annual_share", "tickets_per_seat"):
            paths[f"segments.{s}.{f}"] = v[f]
        paths[f"segments.{s}.employees.median"] = v["employees_median"]
        paths[f"segments.{s}.employees.sigma"] = v["employees_sigma"]
    gt = json.loads((SAMPLE / "ground_truth.json").read_text())["scenario"]
    b = gt["behaviour"]
    paths.update({
        "behaviour.support.fcr": b["support"]["fcr"],
        "behaviour.support.handle_minutes": b["support"]["handle_minutes"],
        "behaviour.surveys.nps_response_rate": b["surveys"]["nps_response_rate"],
        "behaviour.surveys.csat_response_rate": b["surveys"]["csat_response_rate"],
        "behaviour.usage.sessions_per_user": b["usage"]["sessions_per_user"],
        "behaviour.usage.minutes_per_session": b["usage"]["minutes_per_session"],
        "behaviour.usage.key_events_per_session": b["usage"]["key_events_per_session"],
        "acquisition.new_logos_per_month": gt["acquisition"]["new_logos_per_month"],
        "acquisition.trial_conversion": gt["acquisition"]["trial_conversion"],
    })
    assert np.isfinite(cal.estimates.loc[list(paths), "std_err"]).all()
    far = {p: round(_z(cal, p, t), 2) for p, t in paths.items() if abs(_z(cal, p, t)) > 3}
    assert far == {}
    for s, v in seg.items():
        assert cal.estimates.loc[f"segments.{s}.price_per_seat", "estimate"] == \
            pytest.approx(v["price_per_seat"], rel=1e-9)
        for f in ("expansion_size", "contraction_size"):
            assert cal.estimates.loc[f"segments.{s}.{f}", "estimate"] == \
                pytest.approx(v[f], rel=0.02)
        assert cal.estimates.loc[f"segments.{s}.contract_months", "estimate"] == 12


def test_recovers_health_dynamics(cal, truth) -> None:
    gt = json.loads((SAMPLE / "ground_truth.json").read_text())["scenario"]["behaviour"]
    assert abs(_z(cal, "behaviour.health.reversion", gt["health"]["reversion"])) <= 3
    est = cal.estimates["estimate"]
    assert est["behaviour.health.failed_ticket_penalty"] == \
        pytest.approx(gt["health"]["failed_ticket_penalty"], rel=0.15)
    assert est["behaviour.health.noise_sd"] == pytest.approx(gt["health"]["noise_sd"], rel=0.15)
    assert est["behaviour.usage.noise_sd"] == pytest.approx(gt["usage"]["noise_sd"], rel=0.15)
    delta = _delta(truth)
    for s, v in truth["segments"].items():
        assert est[f"segments.{s}.health_mean"] == \
            pytest.approx(v["health_mean"] + 10 * delta[s], abs=6)
        assert est[f"segments.{s}.health_sd"] == pytest.approx(v["health_sd"], rel=0.25)


def test_recovers_churn_and_resize(cal, truth) -> None:
    churn, ex, co = truth["churn"], truth["expansion"], truth["contraction"]
    slopes = {
        "behaviour.churn.health_slope": churn["health_slope"],
        "behaviour.churn.early_life": churn["early_life"],
        "behaviour.churn.tenure_slope": churn["tenure_slope"],
        "behaviour.expansion.expansion_health_slope": ex["health_slope"],
        "behaviour.expansion.contraction_health_slope": co["health_slope"],
    }
    delta = _delta(truth)
    for s, v in truth["segments"].items():
        slopes[f"segments.{s}.churn_intercept"] = \
            v["churn_intercept"] - churn["health_slope"] * delta[s]
        slopes[f"segments.{s}.expansion_intercept"] = \
            v["expansion_intercept"] - ex["health_slope"] * delta[s]
        slopes[f"segments.{s}.contraction_intercept"] = \
            v["contraction_intercept"] - co["health_slope"] * delta[s]
        slopes[f"segments.{s}.involuntary_rate"] = v["involuntary_rate"]
    assert np.isfinite(cal.estimates.loc[list(slopes), "std_err"]).all()
    far = {p: round(_z(cal, p, t), 2) for p, t in slopes.items() if abs(_z(cal, p, t)) > 3}
    assert far == {}


def test_recovers_the_nps_model(cal, sample, truth) -> None:
    gt = json.loads((SAMPLE / "ground_truth.json").read_text())["scenario"]["behaviour"]
    nps = gt["surveys"]
    assert abs(_z(cal, "behaviour.surveys.nps_health_slope", nps["nps_health_slope"])) <= 3
    est = cal.estimates["estimate"]
    assert est["behaviour.surveys.nps_noise_sd"] == pytest.approx(nps["nps_noise_sd"], rel=0.1)
    sv = sample.surveys[sample.surveys["kind"] == "nps"]
    seg = sample.accounts.set_index("account_id")["segment"]
    weights = seg.reindex(sv["account_id"]).value_counts(normalize=True)
    delta = _delta(truth)
    shift = sum(w * delta[s] for s, w in weights.items())
    assert est["behaviour.surveys.nps_intercept"] == \
        pytest.approx(nps["nps_intercept"] - nps["nps_health_slope"] * shift, abs=0.3)


def test_what_is_not_identified_is_said(cal) -> None:
    est = cal.estimates
    conventions = est[est["method"].str.startswith("convention")]
    assert {"behaviour.usage.health_slope", "segments.smb.active_share_intercept"} <= \
        set(conventions.index)
    assert conventions["std_err"].isna().all()
    text = " ".join(cal.notes)
    assert "early_life_months" in text and "plays are not modelled" in text


# ------------------------------------------------------------------------ the scenario
def test_scenario_runs_on_the_dataset_with_its_own_labels(cal, sample) -> None:
    sc = cal.scenario
    assert sorted(sc.segment_names()) == sorted(sample.accounts["segment"].dropna().unique())
    assert set(sc.tier_names()) == {"high_touch", "low_touch", "tech_touch"}
    assert sc.population.source == "dataset" and sc.warmup() == 0
    assert sc.plays == [] and sc.start_month == "2026-01"
    res = cs_sim.simulate(sc, replications=2, seed=1,
                          dataset=simulation_dataset(sample, cal))
    paying = int((sample.mrr.loc[sample.mrr["month"] == sample.mrr["month"].max(),
                                 "mrr"] > 0).sum())
    assert (res.monthly.query("month == 0")["accounts_start"] == paying).all()


def test_scenario_yaml_round_trips_and_simulates_with_data(cal, tmp_path) -> None:
    path = tmp_path / "baseline.yaml"
    cal.scenario_yaml(path)
    loaded = cs_sim.load_scenario(path)
    assert loaded.model_dump() == cal.scenario.model_dump()
    res = runner.invoke(app, ["simulate", str(path), "--data", str(SAMPLE), "-r", "2",
                              "--seed", "5", "--no-progress", "--json"])
    assert res.exit_code == 0, res.output
    shown = json.loads(res.output)
    direct = cs_sim.simulate(path, replications=2, seed=5).to_dict()
    assert shown["summary"] == direct["summary"]


def test_uncertainty_gives_each_estimate_its_distribution(cal) -> None:
    sc = cal.to_scenario(uncertainty=True)
    row = cal.estimates.loc["segments.smb.churn_intercept"]
    dist = sc.uncertain["segments.smb.churn_intercept"]
    assert dist.dist == "normal" and dist.truncate
    assert dist.mean == pytest.approx(float(f"{row['estimate']:.6g}"))
    assert dist.sd == pytest.approx(row["draw_sd"]) and row["draw_sd"] <= row["std_err"]
    assert "segments.smb.active_share_intercept" not in sc.uncertain  # a convention
    from cs_sim.sim.uncertainty import parameter_draws

    draws = parameter_draws(sc, 3, range(50))["segments.smb.churn_intercept"]
    assert draws.std() == pytest.approx(row["draw_sd"], rel=0.35)


def test_segments_from_another_column(sample) -> None:
    by_plan = calibrate(sample, segment_by="plan")
    assert sorted(by_plan.segments) == ["enterprise", "growth", "starter"]
    ds = simulation_dataset(sample, by_plan)
    assert (ds.accounts["segment"] == sample.accounts["plan"]).all()
    res = cs_sim.simulate(by_plan.scenario, replications=1, seed=2, dataset=ds)
    assert len(res.monthly) == by_plan.scenario.horizon_months


def test_without_usage_health_is_not_estimated(sample) -> None:
    bare = replace(sample, usage=None, source="bare")
    c = calibrate(bare)
    assert c.estimates.loc["behaviour.churn.health_slope", "estimate"] == 0
    assert "behaviour.health.reversion" not in c.estimates.index
    assert any("no usage table" in n for n in c.notes)


# ------------------------------------------------------------------------------ errors
def test_a_dataset_too_small_is_refused_in_plain_words() -> None:
    why = readiness(EXAMPLE)
    assert any("churns" in w and "needs at least 20" in w for w in why)
    assert readiness(SAMPLE) == []
    with pytest.raises(CalibrationError, match="start from a template scenario"):
        calibrate(EXAMPLE)
    with pytest.raises(CalibrationError, match="no column 'region_x'"):
        calibrate(SAMPLE, segment_by="region_x")


def test_help_of_the_commands() -> None:
    for cmd in ("calibrate", "backtest"):
        res = runner.invoke(app, [cmd, "--help"])
        assert res.exit_code == 0 and "Usage" in res.output


def test_cli_calibrate_writes_a_scenario(tmp_path) -> None:
    out = tmp_path / "b.yaml"
    res = runner.invoke(app, ["calibrate", str(SAMPLE), "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["written"] == str(out) and out.exists()
    assert cs_sim.load_scenario(out).segment_names() == doc["segments"]
    est = doc["estimates"]["behaviour.churn.health_slope"]
    assert est["estimate"] < 0 and est["std_err"] > 0


def test_cli_calibrate_bad_input_exits_2(tmp_path) -> None:
    res = runner.invoke(app, ["calibrate", str(EXAMPLE), "--out", str(tmp_path / "x.yaml")])
    assert res.exit_code == 2
    assert "needs at least" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "x.yaml").exists()
    res = runner.invoke(app, ["calibrate", str(tmp_path / "missing")])
    assert res.exit_code == 2 and "does not exist" in res.output
    res = runner.invoke(app, ["calibrate", str(SAMPLE), "--out", str(tmp_path)])
    assert res.exit_code == 2 and "is a folder" in res.output
