"""Run Monte Carlo replications on a Dask ``distributed`` cluster (and with progress).

Replication ``r`` of seed ``s`` depends only on ``(s, r)`` (see :mod:`cs_sim.sim.engine`),
so the replications of a run can be cut into chunks, run anywhere with the pure
function :func:`cs_sim.sim.run_chunk`, and put back together with
:func:`cs_sim.sim.combine_chunks`. The result is the same, bit for bit, as
``simulate(..., engine="local")`` whatever the number of workers or the chunk size.

Three ways to run on Dask:

- ``cs_sim.simulate(sc, engine="dask")``: uses the current default
  :class:`distributed.Client` (the last one created in this process, e.g.
  ``Client("tcp://scheduler:8786")``) or, when there is none, starts a
  :class:`distributed.LocalCluster` and closes it at the end;
- :func:`simulate_dask` with ``address=`` (a scheduler address), ``client=`` (an
  existing client, left open) or ``n_workers=`` (the size of the LocalCluster it starts);
- :func:`simulate_with_progress` (what ``cs-sim simulate`` calls): either engine, with a
  callback told how many replications each finished chunk held (``tqdm.update`` fits).

Importing this module registers the ``"dask"`` engine (:func:`cs_sim.sim.register_engine`);
``simulate(..., engine="dask")`` imports it on demand.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cs_sim.errors import CsSimError, ScenarioError
from cs_sim.sim.results import ChunkResult, SimulationResult, combine_chunks
from cs_sim.sim.runners import MAX_CELLS_PER_BATCH, register_engine, resolve_seed, run_chunk
from cs_sim.sim.scenario import Scenario, load_scenario

if TYPE_CHECKING:  # pragma: no cover
    from distributed import Client

__all__ = [
    "dask_client",
    "dask_engine",
    "run_chunks_dask",
    "run_chunks_local",
    "simulate_dask",
    "simulate_with_progress",
    "split_replications",
]

log = logging.getLogger(__name__)

#: a progress callback: called with the number of replications a finished chunk held
Progress = Callable[[int], Any]

#: by default each Dask worker thread gets about this many chunks (load balancing)
CHUNKS_PER_THREAD = 2


# ------------------------------------------------------------------------------ chunks
def _slots(scenario: Scenario, layout: Any = None) -> int:
    """Number of account slots one replication needs (for chunk sizing by memory)."""
    from cs_sim.sim.engine import default_layout

    if layout is not None:
        return int(layout.n_total)
    n0 = (
        scenario.population.n_accounts
        if scenario.population.source == "synthetic"
        else 10_000
    )
    return int(default_layout(scenario, n0).n_total)


def _max_chunk(scenario: Scenario, layout: Any = None) -> int:
    return max(1, MAX_CELLS_PER_BATCH // max(_slots(scenario, layout), 1))


def split_replications(
    replications: Sequence[int],
    *,
    chunk_size: int | None = None,
    n_chunks: int | None = None,
) -> list[tuple[int, ...]]:
    """Cut replication indices into consecutive chunks.

    Parameters
    ----------
    replications : sequence of int
        Replication indices, in order.
    chunk_size : int, optional
        Replications per chunk (the last chunk may be smaller). Takes precedence.
    n_chunks : int, optional
        Number of chunks of (nearly) equal size when ``chunk_size`` is not given
        (default: one chunk).

    Returns
    -------
    list of tuple of int

    Examples
    --------
    >>> split_replications(range(5), chunk_size=2)
    [(0, 1), (2, 3), (4,)]
    >>> split_replications(range(5), n_chunks=2)
    [(0, 1, 2), (3, 4)]
    """
    reps = tuple(int(r) for r in replications)
    if not reps:
        return []
    if chunk_size is None:
        n = max(1, min(int(n_chunks or 1), len(reps)))
        chunk_size = math.ceil(len(reps) / n)
    if isinstance(chunk_size, bool) or int(chunk_size) < 1:
        raise ScenarioError(f"chunk_size: must be an integer >= 1 (got {chunk_size!r})")
    size = int(chunk_size)
    return [reps[i : i + size] for i in range(0, len(reps), size)]


def _progress_call(progress: Progress | None, n: int) -> None:
    if progress is not None:
        progress(n)


def run_chunks_local(
    scenario: Scenario,
    seed: int,
    chunks: Iterable[Sequence[int]],
    *,
    dataset: Any = None,
    layout: Any = None,
    record_rep: int | None = None,
    progress: Progress | None = None,
) -> list[ChunkResult]:
    """Run chunks of replications one after the other in this process.

    Parameters
    ----------
    scenario : Scenario
    seed : int
    chunks : iterable of sequences of int
        Disjoint replication indices (see :func:`split_replications`).
    dataset : cs_sim.io.Dataset, optional
        Starting customers when ``population.source`` is ``dataset``.
    layout : cs_sim.sim.engine.Layout, optional
        Shared slot layout (see :func:`cs_sim.compare`).
    record_rep : int, optional
        Replication whose per-account history is recorded.
    progress : callable, optional
        Called with the number of replications of each finished chunk.

    Returns
    -------
    list of ChunkResult
    """
    out = []
    for chunk in chunks:
        reps = tuple(int(r) for r in chunk)
        rec = record_rep if record_rep in reps else None
        out.append(run_chunk(scenario, seed, reps, dataset=dataset, layout=layout,
                             record_rep=rec))
        _progress_call(progress, len(reps))
    return out


# ------------------------------------------------------------------------------ client
@contextmanager
def dask_client(
    *,
    address: str | None = None,
    client: Client | None = None,
    n_workers: int | None = None,
    threads_per_worker: int = 1,
    processes: bool = True,
) -> Iterator[Client]:
    """Yield a :class:`distributed.Client`, closing only what this function opened.

    Parameters
    ----------
    address : str, optional
        Address of a running scheduler, e.g. ``"tcp://10.0.0.5:8786"``.
    client : distributed.Client, optional
        An existing client: yielded as it is and left open.
    n_workers : int, optional
        Workers of the :class:`distributed.LocalCluster` started when neither
        ``address`` nor ``client`` is given (default: the number of CPUs, at most 4).
    threads_per_worker : int, default 1
        Threads per local worker.
    processes : bool, default True
        Local workers as processes (True) or threads of this process (False: quicker to
        start, but they share the GIL).

    Yields
    ------
    distributed.Client

    Raises
    ------
    cs_sim.errors.CsSimError
        If both ``address`` and ``client`` are given, or the scheduler cannot be reached.
    """
    from distributed import Client, LocalCluster

    if client is not None:
        if address is not None:
            raise CsSimError("dask: give either an address or a client, not both")
        yield client
        return
    if address is not None:
        try:
            c = Client(address, timeout="10s")
        except OSError as exc:
            raise CsSimError(
                f"dask: cannot reach the scheduler at {address!r} ({exc}); start one with "
                "`dask scheduler` or leave the address out to use a local cluster"
            ) from None
        try:
            yield c
        finally:
            c.close()
        return
    n = n_workers if n_workers is not None else min(os.cpu_count() or 1, 4)
    if isinstance(n, bool) or int(n) < 1:
        raise CsSimError(f"dask: n_workers must be an integer >= 1 (got {n_workers!r})")
    cluster = LocalCluster(
        n_workers=int(n),
        threads_per_worker=int(threads_per_worker),
        processes=processes,
        dashboard_address=":0",
        silence_logs=logging.WARNING,
    )
    try:
        with Client(cluster) as c:
            yield c
    finally:
        cluster.close()


def _default_client() -> Client | None:
    """The current client (``Client.as_current()``) or the default one, if any."""
    from distributed import Client

    try:
        return Client.current(allow_global=True)
    except ValueError:
        return None


def _nthreads(client: Client) -> int:
    try:
        return max(1, int(sum(client.nthreads().values())))
    except Exception:
        return 1


def run_chunks_dask(
    scenario: Scenario,
    seed: int,
    chunks: Iterable[Sequence[int]],
    *,
    client: Client,
    dataset: Any = None,
    layout: Any = None,
    record_rep: int | None = None,
    progress: Progress | None = None,
) -> list[ChunkResult]:
    """Submit one :func:`~cs_sim.sim.run_chunk` task per chunk and gather the results.

    Parameters
    ----------
    scenario : Scenario
    seed : int
    chunks : iterable of sequences of int
        Disjoint replication indices.
    client : distributed.Client
    dataset : cs_sim.io.Dataset, optional
        Scattered once to the workers when given.
    layout : cs_sim.sim.engine.Layout, optional
    record_rep : int, optional
    progress : callable, optional
        Called with the number of replications of each chunk, as chunks finish.

    Returns
    -------
    list of ChunkResult
        In completion order (:func:`cs_sim.sim.combine_chunks` sorts them).
    """
    from distributed import as_completed

    chunk_list = [tuple(int(r) for r in c) for c in chunks]
    ds = client.scatter(dataset, broadcast=True) if dataset is not None else None
    futures = []
    for reps in chunk_list:
        rec = record_rep if record_rep in reps else None
        futures.append(
            client.submit(run_chunk, scenario, seed, reps, dataset=ds, layout=layout,
                          record_rep=rec, pure=False)
        )
    out: list[ChunkResult] = []
    try:
        for fut in as_completed(futures, loop=client.loop):
            res = fut.result()
            out.append(res)
            _progress_call(progress, len(res.replications))
    finally:
        for fut in futures:
            fut.release()
    return out


def _dask_chunks(
    scenario: Scenario,
    replications: Sequence[int],
    client: Client,
    *,
    chunk_size: int | None,
    layout: Any,
) -> list[tuple[int, ...]]:
    if chunk_size is not None:
        return split_replications(replications, chunk_size=chunk_size)
    per = math.ceil(len(replications) / (CHUNKS_PER_THREAD * _nthreads(client)))
    size = max(1, min(per, _max_chunk(scenario, layout)))
    return split_replications(replications, chunk_size=size)


def dask_engine(
    scenario: Scenario,
    seed: int,
    replications: Sequence[int],
    *,
    dataset: Any = None,
    layout: Any = None,
    record_rep: int | None = None,
    chunk_size: int | None = None,
    address: str | None = None,
    client: Client | None = None,
    n_workers: int | None = None,
    processes: bool = True,
    progress: Progress | None = None,
) -> list[ChunkResult]:
    """The ``"dask"`` engine of :func:`cs_sim.simulate` (see :func:`register_engine`).

    Without ``address`` or ``client`` it uses the current default client of this process
    and, when there is none, a :class:`distributed.LocalCluster` of ``n_workers`` that
    it starts and closes.

    Parameters
    ----------
    scenario : Scenario
    seed : int
    replications : sequence of int
    dataset, layout, record_rep
        As for :func:`cs_sim.sim.run_chunk`.
    chunk_size : int, optional
        Replications per task (default: about two tasks per worker thread, within the
        local engine's memory bound).
    address : str, optional
        Scheduler address.
    client : distributed.Client, optional
        Existing client (left open).
    n_workers : int, optional
        Size of the LocalCluster started when there is no client.
    processes : bool, default True
        LocalCluster workers as processes or threads.
    progress : callable, optional
        Called with the number of replications of each finished chunk.

    Returns
    -------
    list of ChunkResult
    """
    if client is None and address is None:
        client = _default_client()
    with dask_client(address=address, client=client, n_workers=n_workers,
                     processes=processes) as c:
        chunks = _dask_chunks(scenario, replications, c, chunk_size=chunk_size, layout=layout)
        log.info("dask: %d replications in %d chunks on %d threads", len(replications),
                 len(chunks), _nthreads(c))
        return run_chunks_dask(scenario, seed, chunks, client=c, dataset=dataset,
                               layout=layout, record_rep=record_rep, progress=progress)


register_engine("dask", dask_engine)


# ------------------------------------------------------------------------------ front ends
def _prepare(
    scenario: Scenario | str | Path, replications: int, seed: int | None, record: bool | int
) -> tuple[Scenario, int, tuple[int, ...], int | None]:
    if isinstance(scenario, (str, Path)):
        scenario = load_scenario(scenario)
    if not isinstance(scenario, Scenario):
        raise TypeError(f"expected a Scenario or a YAML path, got {type(scenario).__name__}")
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise ScenarioError(f"replications: must be an integer >= 1 (got {replications!r})")
    s = resolve_seed(seed)
    reps = tuple(range(replications))
    record_rep: int | None = None
    if record is not False and record is not None:
        record_rep = 0 if record is True else int(record)
        if record_rep not in reps:
            raise ScenarioError(f"record: replication {record_rep} is not run")
    return scenario, s, reps, record_rep


def simulate_dask(
    scenario: Scenario | str | Path,
    *,
    replications: int = 20,
    seed: int | None = None,
    address: str | None = None,
    client: Client | None = None,
    n_workers: int | None = None,
    processes: bool = True,
    chunk_size: int | None = None,
    dataset: Any = None,
    record: bool | int = False,
    layout: Any = None,
    progress: Progress | None = None,
) -> SimulationResult:
    """Run a scenario's replications on Dask; same numbers as ``engine="local"``.

    Parameters
    ----------
    scenario : Scenario or path
    replications : int, default 20
    seed : int, optional
        Root seed (None: fresh entropy, reported as ``result.seed``).
    address : str, optional
        Scheduler address, e.g. ``"tcp://127.0.0.1:8786"``.
    client : distributed.Client, optional
        Existing client (left open). Neither given: the default client or a LocalCluster.
    n_workers : int, optional
        Workers of the LocalCluster started when no client is found.
    processes : bool, default True
        LocalCluster workers as processes (True) or threads.
    chunk_size : int, optional
        Replications per task.
    dataset : cs_sim.io.Dataset, optional
        Starting customers when ``population.source`` is ``dataset``.
    record : bool or int, default False
        Record the per-account history of replication 0 (True) or of the one given.
    layout : cs_sim.sim.engine.Layout, optional
        Shared slot layout (comparisons).
    progress : callable, optional
        Called with the number of replications of each finished chunk.

    Returns
    -------
    SimulationResult

    Examples
    --------
    >>> from distributed import Client, LocalCluster  # doctest: +SKIP
    >>> with LocalCluster(n_workers=2) as cluster, Client(cluster) as client:  # doctest: +SKIP
    ...     res = simulate_dask("templates/scenarios/baseline.yaml", replications=40,
    ...                         seed=1, client=client)
    """
    sc, s, reps, record_rep = _prepare(scenario, replications, seed, record)
    chunks = dask_engine(sc, s, reps, dataset=dataset, layout=layout, record_rep=record_rep,
                         chunk_size=chunk_size, address=address, client=client,
                         n_workers=n_workers, processes=processes, progress=progress)
    return combine_chunks(sc, s, chunks)


def simulate_with_progress(
    scenario: Scenario | str | Path,
    *,
    replications: int = 20,
    seed: int | None = None,
    engine: str = "local",
    chunk_size: int | None = None,
    progress: Progress | None = None,
    dataset: Any = None,
    record: bool | int = False,
    address: str | None = None,
    client: Client | None = None,
    n_workers: int | None = None,
    processes: bool = True,
) -> SimulationResult:
    """:func:`cs_sim.simulate` in chunks, reporting each finished chunk.

    The numbers equal those of ``simulate(scenario, replications=..., seed=...)`` bit for
    bit (replications are independent of the chunking).

    Parameters
    ----------
    scenario : Scenario or path
    replications : int, default 20
    seed : int, optional
    engine : {"local", "dask"}, default "local"
    chunk_size : int, optional
        Replications per chunk (local default: a quarter of the run but at least 10,
        within the memory bound; Dask default: see :func:`dask_engine`).
    progress : callable, optional
        Called with the number of replications of each finished chunk.
    dataset : cs_sim.io.Dataset, optional
    record : bool or int, default False
    address, client, n_workers, processes
        Dask options (see :func:`simulate_dask`); ignored by the local engine.

    Returns
    -------
    SimulationResult
    """
    if engine == "dask":
        return simulate_dask(scenario, replications=replications, seed=seed, address=address,
                             client=client, n_workers=n_workers, processes=processes,
                             chunk_size=chunk_size, dataset=dataset, record=record,
                             progress=progress)
    if engine != "local":
        raise CsSimError(f"engine: unknown engine '{engine}' (available: dask, local)")
    sc, s, reps, record_rep = _prepare(scenario, replications, seed, record)
    if chunk_size is None:
        # a few chunks so that progress moves; small chunks cost speed (per-month overhead)
        chunk_size = max(1, min(max(math.ceil(len(reps) / 4), 10), _max_chunk(sc)))
    chunks = split_replications(reps, chunk_size=chunk_size)
    results = run_chunks_local(sc, s, chunks, dataset=dataset, record_rep=record_rep,
                               progress=progress)
    return combine_chunks(sc, s, results)
