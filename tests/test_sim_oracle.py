"""The array engine agrees with the agent-per-process SimPy oracle (tests/sim_oracle.py).

Both implement the same model with independent random streams, so their outcomes must
agree in distribution. For each metric, over R replications of each, the test requires
``|mean_engine - mean_oracle| < 4 * sqrt(se_engine**2 + se_oracle**2)`` (a two-sample
z-test at about the 6e-5 level per metric; the seeds are fixed, so the test is
deterministic). With these sizes a bias of ~8% in logo churn would be detected.

The scenario exercises the model's time structure too: the default warm-up (36
months before the horizon), annual contracts deciding on their term's accumulated
hazard (12 months, 24 for enterprise), a play that starts at month 6 and a team that
grows, with a hiring delay and a ramp-up, during the horizon.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sim_oracle import run_oracle  # tests/ is on sys.path (rootdir-less test modules)

from cs_sim.sim import simulate
from cs_sim.sim.scenario import Scenario
from cs_sim.sim.scenario_io import load_scenario

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "scenarios"
R = 48


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """Baseline plays (time, data, trigger; CSM and automated), small and loaded teams."""
    return load_scenario(TEMPLATES / "baseline.yaml").with_changes({
        "population": {"n_accounts": 250},
        "horizon_months": 18,
        "acquisition": {"new_logos_per_month": 5},
        "segments": [{"name": "enterprise", "contract_months": 24}],
        "tiers": [
            {"name": "high_touch", "rule": [{"attribute": "arr", "op": ">=", "value": 40000}],
             "team": {"headcount": 1, "hours_per_month": 60, "changes": [
                 {"month": 4, "headcount": 2, "hiring_delay_months": 1, "ramp_months": 2}]}},
            {"name": "low_touch", "team": {"headcount": 1, "hours_per_month": 40}},
        ],
        "plays": [{"name": "low_usage_check", "condition": [
            {"metric": "active_share", "op": "<", "value": 0.5}]},
            {"name": "champion_change", "start_month": 6}],
        "retention_changes": [{"name": "rc", "target": "early_life_churn", "multiplier": 0.7}],
    })


@pytest.mark.slow
def test_engine_agrees_with_oracle(scenario: Scenario) -> None:
    oracle = run_oracle(scenario, seed=2024, replications=R)
    engine = simulate(scenario, replications=R, seed=2024).per_replication
    names = {"plays_delivered": "delivered", "plays_dropped": "dropped"}
    report = []
    for metric in ("churned_voluntary", "churned_involuntary", "logos_churned", "new_logos",
                   "grr", "nrr", "revenue", "mrr_end", "plays_delivered", "plays_dropped"):
        o = np.array([d[names.get(metric, metric)] for d in oracle])
        e = engine[metric].to_numpy(dtype=float)
        se = np.sqrt(o.var(ddof=1) / o.size + e.var(ddof=1) / e.size)
        z = (e.mean() - o.mean()) / se
        report.append(f"{metric}: engine {e.mean():.4g} oracle {o.mean():.4g} z={z:.2f}")
    for line in report:
        assert abs(float(line.rsplit("z=", 1)[1])) < 4, "\n".join(report)
    # the comparison has teeth: the oracle's churn is far from a 20% shifted engine
    o_churn = np.array([d["logos_churned"] for d in oracle])
    assert abs(engine["logos_churned"].mean() * 1.2 - o_churn.mean()) > 4 * o_churn.std() / R**0.5
