"""The ``"dask"`` engine: the chunks of a run on a Dask ``distributed`` cluster.

:func:`cs_sim.simulate` plans the chunks and combines them (so the numbers equal
``engine="local"``, bit for bit, whatever the number of workers); this module only
finds a :class:`distributed.Client` and runs the chunks on it:

- ``cs_sim.simulate(sc, engine="dask")`` uses the current default client of this
  process (e.g. the last ``Client("tcp://scheduler:8786")`` created) or, when there is
  none, starts a :class:`distributed.LocalCluster` and closes it at the end;
- ``engine_options={"address": "tcp://10.0.0.5:8786"}`` connects to a scheduler,
  ``{"client": client}`` uses an existing client (left open), ``{"n_workers": 4}`` sizes
  the LocalCluster started.

The engine is registered in :mod:`cs_sim.sim.runners` as ``"cs_sim.sim.dask:dask_engine"``
and imported on its first use.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from distributed import Client, LocalCluster, as_completed

from cs_sim.errors import CsSimError
from cs_sim.sim.results import ChunkResult
from cs_sim.sim.runners import Progress, RunPlan, run_chunk

__all__ = ["DaskEngine", "dask_client", "dask_engine"]

log = logging.getLogger(__name__)


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


class DaskEngine:
    """The chunks of a run as tasks on a Dask client, one task per chunk.

    Parameters
    ----------
    client : distributed.Client
    """

    def __init__(self, client: Client) -> None:
        self.client = client
        try:
            self.slots = max(1, int(sum(client.nthreads().values())))
        except Exception:  # a scheduler that cannot say: plan for one thread
            self.slots = 1

    def run(self, plan: RunPlan, progress: Progress | None = None) -> list[ChunkResult]:
        """Submit one :func:`~cs_sim.sim.runners.run_chunk` task per chunk; gather the results.

        The dataset (if any) is scattered to the workers once.

        Parameters
        ----------
        plan : RunPlan
        progress : callable, optional
            Called with the number of replications of each chunk, as chunks finish.

        Returns
        -------
        list of ChunkResult
            In completion order (:func:`~cs_sim.sim.results.combine_chunks` sorts them).
        """
        c = self.client
        ds = c.scatter(plan.dataset, broadcast=True) if plan.dataset is not None else None
        futures = [
            c.submit(run_chunk, plan.scenario, plan.seed, chunk, dataset=ds, layout=plan.layout,
                     record_rep=plan.record_in(chunk), warmup=plan.warmup, pure=False)
            for chunk in plan.chunks
        ]
        out: list[ChunkResult] = []
        try:
            for fut in as_completed(futures, loop=c.loop):
                res = fut.result()
                out.append(res)
                if progress is not None:
                    progress(len(res.replications))
        finally:
            for fut in futures:
                fut.release()
        return out


@contextmanager
def dask_engine(
    *,
    address: str | None = None,
    client: Client | None = None,
    n_workers: int | None = None,
    processes: bool = True,
) -> Iterator[DaskEngine]:
    """The ``"dask"`` engine of :func:`cs_sim.simulate` (its ``engine_options``).

    Without ``address`` or ``client`` it uses the current default client of this process
    and, when there is none, a :class:`distributed.LocalCluster` of ``n_workers`` that
    it starts and closes.

    Parameters
    ----------
    address : str, optional
        Scheduler address.
    client : distributed.Client, optional
        Existing client (left open).
    n_workers : int, optional
        Size of the LocalCluster started when there is no client.
    processes : bool, default True
        LocalCluster workers as processes or threads.

    Yields
    ------
    DaskEngine
    """
    if client is None and address is None:
        client = _default_client()
    with dask_client(address=address, client=client, n_workers=n_workers,
                     processes=processes) as c:
        yield DaskEngine(c)


def _default_client() -> Client | None:
    """The current client (``Client.as_current()``) or the default one, if any."""
    try:
        return Client.current(allow_global=True)
    except ValueError:
        return None
