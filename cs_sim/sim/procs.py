"""The ``"processes"`` engine: the chunks of a run on this machine's cores.

The array engine's cost is mostly per simulated month, not per replication (a chunk of
10 replications takes nearly as long as one of 20), so this engine cuts a run into one
chunk per core and runs each in a worker process. The workers are started on the first
run (which pays their start-up, about a second: they are forked from a server that has
imported the engine) and kept for the later runs of this Python process, as an
interactive session or a sensitivity analysis makes them; they stop when Python exits
(or with :func:`shutdown_workers`). :func:`cs_sim.simulate` plans and combines the chunks,
so the numbers equal ``engine="local"``, bit for bit.

``cs_sim.simulate(sc, engine="processes")`` uses one worker per CPU;
``engine_options={"workers": 2}`` sets how many.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from cs_sim.errors import CsSimError
from cs_sim.sim.results import ChunkResult
from cs_sim.sim.runners import Progress, RunPlan

__all__ = ["ProcessEngine", "processes_engine", "shutdown_workers", "worker_pool"]

_LOCK = threading.Lock()
_POOL: ProcessPoolExecutor | None = None
_SIZE = 0


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["cs_sim.sim.engine"])  # workers start with it imported
        return ctx
    return multiprocessing.get_context("spawn")


def _prepare_worker() -> None:
    import cs_sim.sim.engine  # noqa: F401  (imported once per worker, not per chunk)


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """The kept pool of ``workers`` worker processes (started, or restarted, when needed).

    Parameters
    ----------
    workers : int

    Returns
    -------
    concurrent.futures.ProcessPoolExecutor
    """
    global _POOL, _SIZE
    with _LOCK:
        broken = _POOL is not None and getattr(_POOL, "_broken", False)
        if _POOL is None or _SIZE != workers or broken:
            if _POOL is not None:
                _POOL.shutdown(wait=False, cancel_futures=True)
            _POOL = ProcessPoolExecutor(max_workers=workers, mp_context=_context(),
                                        initializer=_prepare_worker)
            _SIZE = workers
        return _POOL


def shutdown_workers() -> None:
    """Stop the kept worker processes (the next run starts new ones)."""
    global _POOL, _SIZE
    with _LOCK:
        if _POOL is not None:
            _POOL.shutdown(wait=True, cancel_futures=True)
        _POOL, _SIZE = None, 0


atexit.register(shutdown_workers)


def _run(plan: RunPlan, chunk: tuple[int, ...]) -> ChunkResult:
    return plan.run(chunk)


class ProcessEngine:
    """Runs the chunks of a plan on a pool of worker processes, at most ``slots`` at once."""

    #: one chunk per worker: a smaller chunk saves little time (see the module docstring)
    chunks_per_slot = 1

    def __init__(self, pool: ProcessPoolExecutor, workers: int) -> None:
        self.pool = pool
        self.slots = workers

    def run(self, plan: RunPlan, progress: Progress | None = None) -> list[ChunkResult]:
        chunks: Sequence[tuple[int, ...]] = plan.chunks
        if len(chunks) == 1:  # nothing to share out: no transfer to a worker
            out = [plan.run(chunks[0])]
            if progress is not None:
                progress(len(chunks[0]))
            return out
        try:
            futures = {self.pool.submit(_run, plan, c): i for i, c in enumerate(chunks)}
            results: list[ChunkResult | None] = [None] * len(chunks)
            for future in as_completed(futures):
                i = futures[future]
                results[i] = future.result()
                if progress is not None:
                    progress(len(chunks[i]))
        except BrokenProcessPool:
            raise CsSimError("processes engine: a worker process stopped (out of memory?); "
                             "fix: run again with fewer replications per run, fewer "
                             "workers (engine_options={'workers': 1}) or engine='local'"
                             ) from None
        return [r for r in results if r is not None]


@contextmanager
def processes_engine(workers: int | None = None) -> Iterator[ProcessEngine]:
    """The ``"processes"`` engine (registered in :mod:`cs_sim.sim.registry`).

    Parameters
    ----------
    workers : int, optional
        Worker processes (default: the number of CPUs).

    Yields
    ------
    ProcessEngine

    Raises
    ------
    cs_sim.errors.CsSimError
        If ``workers`` is not a whole number of at least 1.
    """
    n = (os.cpu_count() or 1) if workers is None else workers
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise CsSimError(f"engine_options: workers = {workers!r}: give a whole number of "
                         "at least 1 (the worker processes), or leave it out for one per CPU")
    yield ProcessEngine(worker_pool(n), n)
