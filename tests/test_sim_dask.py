"""engine="dask": the same numbers, bit for bit, as engine="local" (cs_sim.sim.dask_runner).

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
from cs_sim.sim.dask_runner import simulate_dask, simulate_with_progress, split_replications

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]
FRAMES = ("monthly", "tiers", "interventions", "per_replication")
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
    res = simulate_dask(scenario, replications=REPS, seed=SEED, client=client,
                        chunk_size=chunk_size)
    assert_same(res, local)


def test_one_worker_by_address_equals_local(scenario, local):
    with _cluster(1) as cluster:
        res = simulate_dask(scenario, replications=REPS, seed=SEED,
                            address=cluster.scheduler_address)  # default chunking
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
    with pytest.raises(cs_sim.CsSimError, match="arguments of simulate"):
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
    base = scenario.with_changes({"interventions": [{"name": "save_play", "remove": True}]})
    with client.as_current():
        cmp_d = cs_sim.compare(base, scenario, replications=3, seed=SEED, engine="dask")
    cmp_l = cs_sim.compare(base, scenario, replications=3, seed=SEED)
    pdt.assert_frame_equal(cmp_d.differences, cmp_l.differences, check_exact=True)
    rec_d = simulate_dask(scenario, replications=3, seed=SEED, client=client, chunk_size=1,
                          record=2)
    rec_l = cs_sim.simulate(scenario, replications=3, seed=SEED, record=2)
    assert rec_d.history is not None and rec_d.history.replication == 2
    pdt.assert_frame_equal(rec_d.history.panel, rec_l.history.panel, check_exact=True)


def test_dataset_population_is_shipped_to_workers(client):
    ds = cs_sim.load_dataset(ROOT / "data" / "example")
    sc = cs_sim.load_scenario(ROOT / "templates" / "scenarios" / "baseline.yaml").with_changes(
        {"population": {"source": "dataset"}, "horizon_months": 4})
    res = simulate_dask(sc, replications=3, seed=2, client=client, chunk_size=2, dataset=ds)
    assert_same(res, cs_sim.simulate(sc, replications=3, seed=2, dataset=ds))


def test_progress_reports_every_replication(scenario, local, client):
    seen: list[int] = []
    res = simulate_with_progress(scenario, replications=REPS, seed=SEED, chunk_size=2,
                                 progress=seen.append)
    assert sorted(seen) == [1, 2, 2]
    assert_same(res, local)
    seen.clear()
    res = simulate_with_progress(scenario, replications=REPS, seed=SEED, engine="dask",
                                 client=client, chunk_size=2, progress=seen.append)
    assert sorted(seen) == [1, 2, 2]
    assert_same(res, local)


def test_split_replications():
    assert split_replications(range(5), chunk_size=2) == [(0, 1), (2, 3), (4,)]
    assert split_replications(range(5), n_chunks=2) == [(0, 1, 2), (3, 4)]
    assert split_replications(range(3), n_chunks=10) == [(0,), (1,), (2,)]
    assert split_replications([]) == []
    with pytest.raises(cs_sim.ScenarioError, match="chunk_size"):
        split_replications(range(3), chunk_size=0)
