"""Running scenarios: the local runner, chunks for distributed runners, comparisons.

Replication ``r`` of seed ``s`` depends only on ``(s, r)``, so a run can be split into
chunks of replications anywhere (processes, Dask workers) and put back together:
:func:`run_chunk` is a pure function of ``(scenario, seed, replications)`` and
``combine_chunks(scenario, seed, [run_chunk(...), ...])`` equals
``simulate(scenario, replications=R, seed=s)`` exactly.

Other engines (e.g. a Dask runner) register themselves with :func:`register_engine`
and are chosen by ``simulate(..., engine=name)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cs_sim.errors import CsSimError, ScenarioError
from cs_sim.sim.results import (
    ChunkResult,
    ComparisonResult,
    History,
    SimulationResult,
    chunk_from_raw,
    combine_chunks,
    paired_differences,
)
from cs_sim.sim.scenario import Scenario, load_scenario

__all__ = [
    "compare",
    "register_engine",
    "resolve_seed",
    "run_chunk",
    "run_history",
    "simulate",
]

log = logging.getLogger(__name__)

#: an engine maps (scenario, seed, replication indices, options) to chunk results
EngineFn = Callable[..., Sequence[ChunkResult]]
_ENGINES: dict[str, EngineFn] = {}

#: the local runner batches at most this many account-slot x replication cells at once
MAX_CELLS_PER_BATCH = 4_000_000


def register_engine(name: str, fn: EngineFn) -> None:
    """Register a runner for ``simulate(..., engine=name)``.

    Parameters
    ----------
    name : str
    fn : callable
        ``fn(scenario, seed, replications, *, dataset, layout, record_rep) ->
        sequence of ChunkResult``; it should call :func:`run_chunk` on parts of
        ``replications``.
    """
    _ENGINES[name] = fn


def resolve_seed(seed: int | None) -> int:
    """Return ``seed`` or, when None, a fresh one from OS entropy (to be reported)."""
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**63))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ScenarioError(f"seed: must be a non-negative integer (got {seed!r})")
    return int(seed)


def _as_scenario(scenario: Scenario | str | Path) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, (str, Path)):
        return load_scenario(scenario)
    raise TypeError(f"expected a Scenario or a YAML path, got {type(scenario).__name__}")


def run_chunk(
    scenario: Scenario,
    seed: int,
    replications: Iterable[int],
    *,
    dataset: Any = None,
    layout: Any = None,
    record_rep: int | None = None,
) -> ChunkResult:
    """Run some replications of a scenario (a pure function, for Dask ``map``).

    Parameters
    ----------
    scenario : Scenario
    seed : int
        Root seed.
    replications : iterable of int
        Replication indices (any subset of ``range(R)``).
    dataset : cs_sim.io.Dataset, optional
        Starting customers when ``population.source`` is ``dataset``.
    layout : cs_sim.sim.engine.Layout, optional
        Shared slot layout (see :func:`compare`).
    record_rep : int, optional
        Record the per-account history of this replication (must be in the chunk).

    Returns
    -------
    ChunkResult
        Frames of these replications; the frames of chunks concatenate to those of a
        single run.
    """
    from cs_sim.sim.engine import run_engine

    reps = tuple(int(r) for r in replications)
    if not reps:
        raise ValueError("run_chunk needs at least one replication")
    raw = run_engine(scenario, int(seed), reps, layout=layout, dataset=dataset,
                     record_rep=record_rep)
    return chunk_from_raw(raw, scenario)


def _batches(scenario: Scenario, reps: tuple[int, ...], n_slots: int,
             chunk_size: int | None) -> list[tuple[int, ...]]:
    if chunk_size is None:
        chunk_size = max(1, MAX_CELLS_PER_BATCH // max(n_slots, 1))
    return [reps[i : i + chunk_size] for i in range(0, len(reps), chunk_size)]


def _local(
    scenario: Scenario,
    seed: int,
    replications: tuple[int, ...],
    *,
    dataset: Any = None,
    layout: Any = None,
    record_rep: int | None = None,
    chunk_size: int | None = None,
) -> list[ChunkResult]:
    from cs_sim.sim.engine import default_layout

    n0 = (
        scenario.population.n_accounts
        if scenario.population.source == "synthetic"
        else 10_000
    )
    n_slots = layout.n_total if layout is not None else default_layout(scenario, n0).n_total
    out = []
    for batch in _batches(scenario, replications, n_slots, chunk_size):
        rec = record_rep if record_rep in batch else None
        out.append(run_chunk(scenario, seed, batch, dataset=dataset, layout=layout,
                             record_rep=rec))
    return out


_ENGINES["local"] = _local


def simulate(
    scenario: Scenario | str | Path,
    *,
    replications: int = 20,
    seed: int | None = None,
    engine: str = "local",
    dataset: Any = None,
    record: bool | int = False,
    chunk_size: int | None = None,
    layout: Any = None,
    engine_options: Mapping[str, Any] | None = None,
) -> SimulationResult:
    """Run ``replications`` Monte Carlo replications of a scenario.

    Parameters
    ----------
    scenario : Scenario or path
        A scenario, or a YAML file to load.
    replications : int, default 20
    seed : int, optional
        Root seed; None draws one from OS entropy (see ``result.seed``). Same seed, same
        numbers, bit for bit, whatever the engine or chunking.
    engine : str, default "local"
        ``"local"`` (batched arrays in this process) or a registered engine.
    dataset : cs_sim.io.Dataset, optional
        Starting customers when ``population.source`` is ``dataset``.
    record : bool or int, default False
        Record the per-account history (``result.history``) of replication 0, or of
        the replication given.
    chunk_size : int, optional
        Replications per batch (local engine: default by memory; dask: per task).
    layout : cs_sim.sim.engine.Layout, optional
        Slot layout (used by :func:`compare`).
    engine_options : mapping, optional
        Options of the engine, e.g. for ``"dask"``: ``address`` (a scheduler such as
        ``"tcp://10.0.0.5:8786"``), ``client``, ``n_workers`` of the LocalCluster
        started when neither is given, ``processes``. They never change the numbers.

    Returns
    -------
    SimulationResult
    """
    sc = _as_scenario(scenario)
    if isinstance(replications, bool) or not isinstance(replications, (int, np.integer)) \
            or replications < 1:
        raise ScenarioError(f"replications: must be an integer >= 1 (got {replications!r})")
    s = resolve_seed(seed)
    reps = tuple(range(int(replications)))
    record_rep: int | None = None
    if record is not False and record is not None:
        record_rep = 0 if record is True else int(record)
        if record_rep not in reps:
            raise ScenarioError(f"record: replication {record_rep} is not run")
    if engine == "dask" and "dask" not in _ENGINES:
        import cs_sim.sim.dask_runner  # noqa: F401  (registers the "dask" engine)
    fn = _ENGINES.get(engine)
    if fn is None:
        raise CsSimError(
            f"engine: unknown engine '{engine}' (available: {', '.join(sorted(_ENGINES))})"
        )
    kwargs: dict[str, Any] = {"dataset": dataset, "layout": layout, "record_rep": record_rep}
    if chunk_size is not None or engine == "local":
        kwargs["chunk_size"] = chunk_size
    clash = set(kwargs) & set(engine_options or {})
    if clash:
        raise CsSimError(f"engine_options: {', '.join(sorted(clash))} are arguments of simulate")
    kwargs.update(engine_options or {})
    chunks = fn(sc, s, reps, **kwargs)
    log.info("simulated %s: %d replications, seed %d", sc.name, len(reps), s)
    return combine_chunks(sc, s, chunks)


def shared_layout(a: Scenario, b: Scenario, dataset: Any = None) -> tuple[Any, Any]:
    """A slot layout fitting both scenarios, so their random numbers line up (CRN)."""
    from cs_sim.sim.engine import Layout, default_layout, initial_population

    def n0(sc: Scenario) -> int:
        if sc.population.source == "synthetic":
            return sc.population.n_accounts
        if dataset is None:
            return -1
        return initial_population(sc, dataset, 1).n

    na, nb = n0(a), n0(b)
    if na < 0 or nb < 0 or na != nb or a.horizon_months != b.horizon_months:
        return None, None
    la, lb = default_layout(a, na), default_layout(b, nb)
    k = max(la.per_month, lb.per_month)
    lay = Layout(n_initial=na, per_month=k, horizon=a.horizon_months)
    return lay, lay


def compare(
    baseline: Scenario | str | Path,
    variant: Scenario | str | Path,
    *,
    replications: int = 20,
    seed: int | None = None,
    engine: str = "local",
    dataset: Any = None,
    engine_options: Mapping[str, Any] | None = None,
) -> ComparisonResult:
    """Run two scenarios on common random numbers and pair their outcomes.

    Both runs use the same seed and, when their populations have the same size and
    horizon, the same slot layout, so each replication of the variant sees the same
    customers and the same random draws as that of the baseline: the paired
    difference is the effect of the change, not noise. Comparing a scenario with
    itself gives exactly zero difference.

    Parameters
    ----------
    baseline, variant : Scenario or path
    replications : int, default 20
    seed : int, optional
    engine : str, default "local"
    dataset : cs_sim.io.Dataset, optional
    engine_options : mapping, optional
        Passed to :func:`simulate` for both runs (e.g. a Dask ``address``).

    Returns
    -------
    ComparisonResult
    """
    a, b = _as_scenario(baseline), _as_scenario(variant)
    s = resolve_seed(seed)
    la, lb = shared_layout(a, b, dataset)
    if la is None:
        log.warning("compare: populations or horizons differ; random numbers are only "
                    "partly shared")
    ra = simulate(a, replications=replications, seed=s, engine=engine, dataset=dataset,
                  layout=la, engine_options=engine_options)
    rb = simulate(b, replications=replications, seed=s, engine=engine, dataset=dataset,
                  layout=lb, engine_options=engine_options)
    return ComparisonResult(ra, rb, paired_differences(ra, rb))


def run_history(
    scenario: Scenario | str | Path,
    seed: int,
    *,
    replication: int = 0,
    dataset: Any = None,
) -> History:
    """Run one replication and return its per-account monthly :class:`History`.

    Parameters
    ----------
    scenario : Scenario or path
    seed : int
    replication : int, default 0
        Which replication (its numbers equal those of that replication in
        :func:`simulate` with the same seed).
    dataset : cs_sim.io.Dataset, optional

    Returns
    -------
    History
    """
    sc = _as_scenario(scenario)
    chunk = run_chunk(sc, resolve_seed(seed), (replication,), dataset=dataset,
                      record_rep=replication)
    assert chunk.history is not None
    return chunk.history
