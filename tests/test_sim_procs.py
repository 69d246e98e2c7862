"""engine="processes": the same numbers, bit for bit, as engine="local" (cs_sim.sim.procs).

The independent source is the local engine itself: the worker processes only run
chunks of replications, so every frame must be identical whatever the number of
workers. The workers are real processes (forkserver), kept between the tests.
"""

from __future__ import annotations

from pathlib import Path

import pandas.testing as pdt
import pytest
from typer.testing import CliRunner

import cs_sim
from cs_sim.cli import app
from cs_sim.errors import CsSimError
from cs_sim.sim.procs import ProcessEngine, processes_engine, shutdown_workers
from cs_sim.sim.runners import plan_chunks

ROOT = Path(__file__).resolve().parents[1]
FRAMES = ("monthly", "tiers", "plays", "per_replication", "segments")
REPS, SEED = 5, 23


@pytest.fixture(scope="module")
def scenario() -> cs_sim.Scenario:
    sc = cs_sim.load_scenario(ROOT / "templates" / "scenarios" / "save_play.yaml")
    return sc.with_changes({"population": {"n_accounts": 150}, "horizon_months": 6,
                            "acquisition": {"new_logos_per_month": 4}})


@pytest.fixture(scope="module", autouse=True)
def _stop_workers():
    yield
    shutdown_workers()


def assert_same(a, b) -> None:
    assert a.seed == b.seed and a.replications == b.replications
    for name in FRAMES:
        if hasattr(a, name):
            pdt.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_equal_local_bit_for_bit(scenario, workers) -> None:
    seen: list[int] = []
    res = cs_sim.simulate(scenario, replications=REPS, seed=SEED, engine="processes",
                          engine_options={"workers": workers}, progress=seen.append)
    assert_same(res, cs_sim.simulate(scenario, replications=REPS, seed=SEED))
    # one chunk per worker, each reported once
    assert sorted(seen) == sorted(len(c) for c in plan_chunks(
        REPS, max_chunk=10**6, slots=workers, progress=True, per_slot=1))
    assert sum(seen) == REPS and len(seen) == workers


def test_history_comparison_and_dataset_via_processes(scenario) -> None:
    base = scenario.with_changes({"plays": [{"name": "save_play", "remove": True}]})
    cmp_p = cs_sim.compare(base, scenario, replications=4, seed=SEED, engine="processes",
                           engine_options={"workers": 2})
    cmp_l = cs_sim.compare(base, scenario, replications=4, seed=SEED)
    pdt.assert_frame_equal(cmp_p.differences, cmp_l.differences, check_exact=True)
    rec = cs_sim.simulate(scenario, replications=4, seed=SEED, engine="processes",
                          record=3, engine_options={"workers": 2})
    assert rec.history is not None and rec.history.replication == 3
    pdt.assert_frame_equal(rec.history.panel,
                           cs_sim.simulate(scenario, replications=4, seed=SEED,
                                           record=3).history.panel, check_exact=True)
    ds = cs_sim.load_dataset(ROOT / "data" / "example")
    sc = cs_sim.load_scenario(ROOT / "templates" / "scenarios" / "baseline.yaml").with_changes(
        {"population": {"source": "dataset"}, "horizon_months": 4})
    assert_same(cs_sim.simulate(sc, replications=3, seed=2, dataset=ds, engine="processes",
                                engine_options={"workers": 2}),
                cs_sim.simulate(sc, replications=3, seed=2, dataset=ds))


def test_sensitivity_on_processes_equals_local(scenario) -> None:
    from cs_sim.sim.sensitivity import sensitivity

    params = ["gross_margin", "segments.smb.churn_intercept"]
    kw = {"params": params, "replications": 2, "seed": 4, "sobol_samples": 0}
    a = sensitivity(scenario, engine="processes", engine_options={"workers": 2}, **kw)
    b = sensitivity(scenario, **kw)
    pdt.assert_frame_equal(a.tornado, b.tornado, check_exact=True)


@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_bad_worker_counts_are_refused(workers) -> None:
    with pytest.raises(CsSimError, match="workers"), processes_engine(workers):
        pass  # pragma: no cover


def test_default_is_one_worker_per_cpu(monkeypatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 3)
    with processes_engine() as eng:
        assert isinstance(eng, ProcessEngine) and eng.slots == 3 and eng.chunks_per_slot == 1


def test_cli_engine_processes(tmp_path) -> None:
    path = ROOT / "templates" / "scenarios" / "baseline.yaml"
    small = tmp_path / "small.yaml"
    small.write_text(f"extends: {path}\nname: small\npopulation: {{n_accounts: 120}}\n"
                     "horizon_months: 4\nwarmup_months: 0\n")
    runner = CliRunner()
    res = runner.invoke(app, ["simulate", str(small), "-r", "3", "--seed", "5", "--json",
                              "--engine", "processes", "--workers", "2", "--no-progress"])
    assert res.exit_code == 0, res.output
    local = runner.invoke(app, ["simulate", str(small), "-r", "3", "--seed", "5", "--json",
                                "--no-progress"])
    import json

    a, b = json.loads(res.stdout), json.loads(local.stdout)
    assert a["engine"] == "processes" and a.pop("engine") != b.pop("engine")
    assert a == b
    bad = runner.invoke(app, ["simulate", str(small), "--engine", "processes", "--address",
                              "tcp://x:1", "--no-progress"])
    assert bad.exit_code == 2 and "--address" in bad.output
