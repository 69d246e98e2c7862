"""engine="dask": the same numbers, bit for bit, as engine="local" (cs_sim.sim.dask).

The independent source is the local engine itself: Dask only moves chunks of
replications between processes, so every frame must be identical whatever the number
of workers or the chunk size. Clusters here run in-process (``processes=False``) to
stay fast.
"""

from __future__ import annotations

from pathlib import Path

import pandas.testing as pdt
import pytest

import cs_sim
from cs_sim.sim.runners import split_replications

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]
FRAMES = ("monthly", "tiers", "plays", "per_replication")
REPS, SEED = 5, 17


@pytest.fixture(scope="module")
def scenario() -> cs_sim.Scenario:
    sc = cs_sim.load_scenario(ROOT / "templates" / "scenarios" / "save_play.yaml")
    return sc.with_changes({"population": {"n_accounts": 150}, "horizon_months": 6,
                            "acquisition": {"new_logos_per_month": 4}})


@pytest.fixture(scope="module")
def local(scenario) -> cs_sim.sim.SimulationResult:
    return cs_sim.simulate(scenario, replications=REPS, seed=SEED)


def _cluster(n_workers: int) -> distributed.LocalCluster:
    return distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=False,
                                    dashboard_address=":0")


@pytest.fixture(scope="module")
def client():
    with _cluster(2) as cluster, distributed.Client(cluster, set_as_default=False) as c:
        yield c


def assert_same(a, b) -> None:
    assert a.seed == b.seed and a.replications == b.replications
    for name in FRAMES:
        pdt.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


@pytest.mark.parametrize("chunk_size", [1, 3])
def test_two_workers_equal_local_bit_for_bit(scenario, local, client, chunk_size):
    res = cs_sim.simulate(scenario, replications=REPS, seed=SEED, engine="dask",
                          chunk_size=chunk_size, engine_options={"client": client})
    assert_same(res, local)


def test_one_worker_by_address_equals_local(scenario, local):
    with _cluster(1) as cluster:
        res = cs_sim.simulate(scenario, replications=REPS, seed=SEED, engine="dask",
                              engine_options={"address": cluster.scheduler_address})
    assert_same(res, local)


def test_simulate_and_compare_reach_a_cluster_by_address(scenario, local):
    with _cluster(2) as cluster:
        options = {"address": cluster.scheduler_address}
        res = cs_sim.simulate(scenario, replications=REPS, seed=SEED, engine="dask",
                              chunk_size=2, engine_options=options)
        same = cs_sim.compare(scenario, scenario, replications=2, seed=SEED, engine="dask",
                              engine_options=options)
    assert_same(res, local)
    assert (same.differences.drop(columns=["replication", "roi"], errors="ignore") == 0).all(
        axis=None)
    with pytest.raises(cs_sim.CsSimError, match="dataset: give as argument"):
        cs_sim.simulate(scenario, replications=1, seed=1, engine_options={"dataset": None})


def test_simulate_engine_dask_uses_the_default_client(scenario, local, monkeypatch):
    def no_local_cluster(*args, **kwargs):
        raise AssertionError("a LocalCluster was started although a client exists")

    with _cluster(2) as cluster, distributed.Client(cluster) as c:  # the default client
        monkeypatch.setattr(distributed, "LocalCluster", no_local_cluster)
        res = cs_sim.simulate(scenario, replications=REPS, seed=SEED, engine="dask")
        assert c.status == "running"
    assert_same(res, local)


def test_history_and_comparison_via_dask(scenario, client):
    base = scenario.with_changes({"plays": [{"name": "save_play", "remove": True}]})
    with client.as_current():
        cmp_d = cs_sim.compare(base, scenario, replications=3, seed=SEED, engine="dask")
    cmp_l = cs_sim.compare(base, scenario, replications=3, seed=SEED)
    pdt.assert_frame_equal(cmp_d.differences, cmp_l.differences, check_exact=True)
    rec_d = cs_sim.simulate(scenario, replications=3, seed=SEED, engine="dask", chunk_size=1,
                            record=2, engine_options={"client": client})
    rec_l = cs_sim.simulate(scenario, replications=3, seed=SEED, record=2)
    assert rec_d.history is not None and rec_d.history.replication == 2
    pdt.assert_frame_equal(rec_d.history.panel, rec_l.history.panel, check_exact=True)


def test_dataset_population_is_shipped_to_workers(client):
    ds = cs_sim.load_dataset(ROOT / "data" / "example")
    sc = cs_sim.load_scenario(ROOT / "templates" / "scenarios" / "baseline.yaml").with_changes(
        {"population": {"source": "dataset"}, "horizon_months": 4})
    res = cs_sim.simulate(sc, replications=3, seed=2, engine="dask", chunk_size=2, dataset=ds,
                          engine_options={"client": client})
    assert_same(res, cs_sim.simulate(sc, replications=3, seed=2, dataset=ds))


def test_progress_reports_every_replication(scenario, local, client):
    seen: list[int] = []
    res = cs_sim.simulate(scenario, replications=REPS, seed=SEED, chunk_size=2,
                          progress=seen.append)
    assert sorted(seen) == [1, 2, 2]
    assert_same(res, local)
    seen.clear()
    res = cs_sim.simulate(scenario, replications=REPS, seed=SEED, engine="dask", chunk_size=2,
                          progress=seen.append, engine_options={"client": client})
    assert sorted(seen) == [1, 2, 2]
    assert_same(res, local)


def test_split_replications():
    assert split_replications(range(5), chunk_size=2) == [(0, 1), (2, 3), (4,)]
    assert split_replications(range(5), n_chunks=2) == [(0, 1, 2), (3, 4)]
    assert split_replications(range(3), n_chunks=10) == [(0,), (1,), (2,)]
    assert split_replications([]) == []
    with pytest.raises(cs_sim.ScenarioError, match="chunk_size"):
        split_replications(range(3), chunk_size=0)


# --- one run path: chunk planning, the engine registry --------------------------------------


def test_plan_chunks_rules():
    from cs_sim.sim.runners import plan_chunks

    sizes = lambda chunks: [len(c) for c in chunks]  # noqa: E731
    # several slots: about two chunks per slot, ceil(20 / (2 * 4)) = 3
    assert sizes(plan_chunks(20, max_chunk=1000, slots=4)) == [3, 3, 3, 3, 3, 3, 2]
    # one slot, no progress: one chunk, unless memory says otherwise
    assert plan_chunks(7, max_chunk=1000) == [tuple(range(7))]
    assert sizes(plan_chunks(7, max_chunk=3)) == [3, 3, 1]
    # one slot with progress: a quarter of the run, at least 10 per chunk
    assert sizes(plan_chunks(50, max_chunk=1000, progress=True)) == [13, 13, 13, 11]
    assert sizes(plan_chunks(25, max_chunk=1000, progress=True)) == [10, 10, 5]
    # the user's chunk size wins, even over the memory bound
    assert sizes(plan_chunks(5, max_chunk=1, slots=3, chunk_size=2)) == [2, 2, 1]
    with pytest.raises(cs_sim.ScenarioError, match="chunk_size"):
        cs_sim.simulate(ROOT / "templates" / "scenarios" / "baseline.yaml", replications=2,
                        seed=1, chunk_size=0)


def test_engine_registry_runs_a_new_engine(scenario, local):
    """An engine registered by name gets its options, plans by its slots, same numbers."""
    from contextlib import contextmanager

    from cs_sim.sim import registry

    seen: dict = {}

    class Reversed:  # runs the chunks last first, in this process
        def __init__(self, slots):
            self.slots = slots

        def run(self, plan, progress=None):
            seen["chunks"] = plan.chunks
            out = [plan.run(chunk) for chunk in reversed(plan.chunks)]
            for chunk in plan.chunks:
                progress(len(chunk))
            return out

    @contextmanager
    def reversed_engine(*, slots=1):
        seen["opened"] = True
        yield Reversed(slots)
        seen["closed"] = True

    registry.register_engine("reversed", reversed_engine)
    try:
        assert {"local", "dask", "reversed"} <= set(cs_sim.sim.engine_names())
        steps: list[int] = []
        res = cs_sim.simulate(scenario, replications=REPS, seed=SEED, engine="reversed",
                              engine_options={"slots": 2}, progress=steps.append)
        assert seen["opened"] and seen["closed"]
        assert seen["chunks"] == ((0, 1), (2, 3), (4,))  # ceil(5 / (2 * 2)) = 2
        assert sum(steps) == REPS
        assert_same(res, local)
        with pytest.raises(cs_sim.CsSimError, match="'reversed' engine takes slots"):
            cs_sim.simulate(scenario, replications=1, seed=1, engine="reversed",
                            engine_options={"address": "x"})
    finally:
        del registry._ENGINES["reversed"]
    with pytest.raises(cs_sim.CsSimError, match=r"unknown engine 'reversed' \(available: "
                                                 r"dask, local, processes\)"):
        cs_sim.simulate(scenario, replications=1, seed=1, engine="reversed")
    with pytest.raises(cs_sim.CsSimError, match="'local' engine takes no options"):
        cs_sim.simulate(scenario, replications=1, seed=1, engine_options={"n_workers": 2})


def test_local_progress_and_compare_progress(scenario, local):
    steps: list[int] = []
    res = cs_sim.simulate(scenario, replications=REPS, seed=SEED, progress=steps.append)
    assert steps == [REPS]  # 5 replications: one chunk (chunks hold at least 10)
    assert_same(res, local)
    steps.clear()
    cs_sim.compare(scenario, scenario, replications=3, seed=SEED, progress=steps.append)
    assert sum(steps) == 2 * 3


def test_starting_accounts_of_a_dataset_are_counted():
    """The memory plan counts the accounts a dataset run starts from (MRR > 0, last month)."""
    import pandas as pd

    from cs_sim.sim.runners import starting_accounts

    ds = cs_sim.load_dataset(ROOT / "data" / "example")
    mrr = ds.mrr.assign(month=pd.to_datetime(ds.mrr["month"]))
    last = mrr[(mrr["month"] == mrr["month"].max()) & (mrr["mrr"] > 0)]
    sc = cs_sim.load_scenario(ROOT / "templates" / "scenarios" / "baseline.yaml")
    assert starting_accounts(sc.with_changes({"population": {"source": "dataset"}}), ds) \
        == last["account_id"].nunique()
    assert starting_accounts(sc) == sc.population.n_accounts


def test_runners_do_not_import_dask_and_the_cli_lists_the_registry():
    import subprocess
    import sys

    code = ("import sys, cs_sim.sim.runners, cs_sim.sim.registry as r; "
            "print(r.engine_names(), sorted({'dask', 'distributed'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "['dask', 'local', 'processes'] []"
    from typer.testing import CliRunner

    from cs_sim.cli import app

    res = CliRunner().invoke(app, ["simulate", "--help"], env={"COLUMNS": "200"})
    assert "dask|local|processes" in res.output
    res = CliRunner().invoke(app, ["simulate", "x.yaml", "--engine", "nope"])
    assert res.exit_code == 2 and "--engine" in res.output  # a usage error
