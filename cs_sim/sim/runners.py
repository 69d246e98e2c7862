"""Running scenarios: the one ``simulate`` path, the engine registry, comparisons.

Replication ``r`` of seed ``s`` depends only on ``(s, r)``, so a run can be cut into
chunks of replications, each run anywhere with the pure function :func:`run_chunk`, and
put back together with :func:`~cs_sim.sim.results.combine_chunks`: the result is the
same, bit for bit, whatever the engine or the chunking. :func:`simulate`

1. checks its arguments (replications, seed, record, engine and its options);
2. opens the engine (a context manager, so what it starts it also closes);
3. plans the chunks once (:func:`plan_chunks`), by memory and by how many chunks the
   engine runs at once;
4. hands the engine the :class:`RunPlan`; the engine runs every chunk with
   :func:`run_chunk` and calls ``progress`` with the size of each finished chunk;
5. combines the chunks into a :class:`~cs_sim.sim.results.SimulationResult`.

Engines live in one registry, :mod:`cs_sim.sim.registry` (``register_engine``,
``engine_names``): ``"local"`` (:func:`local_engine`) runs the chunks one after the
other in this process; ``"dask"`` (:mod:`cs_sim.sim.dask`) runs them on a Dask cluster.
An engine is imported on first use, so importing this module never imports Dask.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from cs_sim.errors import CsSimError, ScenarioError
from cs_sim.sim.record import History
from cs_sim.sim.registry import get_engine
from cs_sim.sim.results import (
    ChunkResult,
    ComparisonResult,
    SimulationResult,
    chunk_from_raw,
    combine_chunks,
    paired_differences,
)
from cs_sim.sim.scenario import Scenario
from cs_sim.sim.scenario_io import load_scenario

__all__ = [
    "Engine",
    "Progress",
    "RunPlan",
    "compare",
    "local_engine",
    "plan_chunks",
    "resolve_seed",
    "run_chunk",
    "run_history",
    "simulate",
    "split_replications",
    "starting_accounts",
]

log = logging.getLogger(__name__)

#: a progress callback: called with the number of replications a finished chunk held
#: (``tqdm.update`` fits)
Progress = Callable[[int], Any]

#: a chunk holds at most this many account-slot x replication cells (memory bound)
MAX_CELLS_PER_BATCH = 4_000_000
#: an engine running several chunks at once gets about this many chunks per slot
CHUNKS_PER_SLOT = 2
#: with a progress callback, a one-slot engine runs about this many chunks ...
PROGRESS_STEPS = 4
#: ... of at least this many replications (small chunks cost speed: per-month overhead)
MIN_PROGRESS_CHUNK = 10


# ------------------------------------------------------------------------------ chunks
def resolve_seed(seed: int | None) -> int:
    """Return ``seed`` or, when None, a fresh one from OS entropy (to be reported)."""
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**63))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ScenarioError(f"seed: must be a non-negative integer (got {seed!r})")
    return int(seed)


def _count(value: Any, name: str) -> int:
    """``value`` as an int >= 1, or a :class:`ScenarioError` naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ScenarioError(f"{name}: must be an integer >= 1 (got {value!r})")
    return int(value)


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
    warmup: Scenario | None = None,
) -> ChunkResult:
    """Run some replications of a scenario (a pure function, for any engine).

    Parameters
    ----------
    scenario : Scenario
    seed : int
        Root seed.
    replications : iterable of int
        Replication indices (any subset of ``range(R)``).
    dataset : cs_sim.io.Dataset, optional
        Starting customers when ``population.source`` is ``dataset``.
    layout : cs_sim.sim.population.Layout, optional
        Shared slot layout (see :func:`compare`).
    record_rep : int, optional
        Record the per-account history of this replication (must be in the chunk).
    warmup : Scenario, optional
        The scenario whose policy runs the warm-up (default ``scenario``; see
        :func:`compare`).

    Returns
    -------
    ChunkResult
        Frames of these replications; the frames of chunks concatenate to those of a
        single run. A scenario with parameters given as distributions runs each
        replication with the values it draws (:mod:`cs_sim.sim.uncertainty`).
    """
    from cs_sim.sim.engine import run_engine

    reps = tuple(int(r) for r in replications)
    if not reps:
        raise ValueError("run_chunk needs at least one replication")
    if scenario.uncertain or (warmup is not None and warmup.uncertain):
        return _run_uncertain(scenario, int(seed), reps, dataset=dataset, layout=layout,
                              record_rep=record_rep, warmup=warmup)
    raw = run_engine(scenario, int(seed), reps, layout=layout, dataset=dataset,
                     record_rep=record_rep, warmup=warmup)
    return chunk_from_raw(raw, scenario)


def _run_uncertain(
    scenario: Scenario,
    seed: int,
    reps: tuple[int, ...],
    *,
    dataset: Any,
    layout: Any,
    record_rep: int | None,
    warmup: Scenario | None = None,
) -> ChunkResult:
    """Run each replication with the parameter values it draws, one after the other.

    Replication ``r`` runs the concrete scenario of its draws
    (:func:`cs_sim.sim.uncertainty.draw_scenario`) on the slot layout that fits every
    draw (:func:`~cs_sim.sim.uncertainty.layout_scenario`) unless one is given.
    """
    from cs_sim.sim.population import default_layout
    from cs_sim.sim.uncertainty import draw_scenario, layout_scenario

    if layout is None:
        warm = scenario if warmup is None else warmup
        layout = default_layout(layout_scenario(scenario), starting_accounts(warm, dataset),
                                warmup=warm.warmup())
    parts = [run_chunk(draw_scenario(scenario, seed, r), seed, (r,), dataset=dataset,
                       layout=layout, record_rep=record_rep if record_rep == r else None,
                       warmup=None if warmup is None else draw_scenario(warmup, seed, r))
             for r in reps]
    return _concat_chunks(parts)


def _concat_chunks(parts: Sequence[ChunkResult]) -> ChunkResult:
    """One chunk of consecutive chunks: frames (and mappings of frames) concatenated."""
    import pandas as pd

    values: dict[str, Any] = {}
    for f in dataclasses.fields(ChunkResult):
        items = [getattr(p, f.name) for p in parts]
        if f.name == "replications":
            values[f.name] = tuple(r for p in parts for r in p.replications)
        elif all(isinstance(v, pd.DataFrame) for v in items):
            values[f.name] = pd.concat(items, ignore_index=True)
        elif all(isinstance(v, Mapping) for v in items) and items and all(
                isinstance(x, pd.DataFrame) for v in items for x in v.values()):
            values[f.name] = {k: pd.concat([v[k] for v in items], ignore_index=True)
                              for k in items[0]}
        else:  # e.g. the one recorded history
            values[f.name] = next((v for v in items if v is not None), None)
    return ChunkResult(**values)


def split_replications(
    replications: Iterable[int],
    *,
    chunk_size: int | None = None,
    n_chunks: int | None = None,
) -> list[tuple[int, ...]]:
    """Cut replication indices into consecutive chunks.

    Parameters
    ----------
    replications : iterable of int
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
    if chunk_size is not None:
        size = _count(chunk_size, "chunk_size")
    if not reps:
        return []
    if chunk_size is None:
        n = max(1, min(int(n_chunks or 1), len(reps)))
        size = math.ceil(len(reps) / n)
    return [reps[i : i + size] for i in range(0, len(reps), size)]


def plan_chunks(
    replications: int,
    *,
    max_chunk: int,
    slots: int = 1,
    chunk_size: int | None = None,
    progress: bool = False,
    per_slot: int = CHUNKS_PER_SLOT,
) -> list[tuple[int, ...]]:
    """Cut replications ``0 .. replications - 1`` into the chunks an engine runs.

    Parameters
    ----------
    replications : int
        Number of replications.
    max_chunk : int
        Most replications a chunk may hold (memory bound: :data:`MAX_CELLS_PER_BATCH`
        divided by the account slots of one replication).
    slots : int, default 1
        How many chunks the engine runs at once (``Engine.slots``).
    chunk_size : int, optional
        Replications per chunk, as the user asked (then the other rules do not apply).
    progress : bool, default False
        Whether progress is reported.
    per_slot : int, default CHUNKS_PER_SLOT
        Chunks per slot with several slots (an engine's ``chunks_per_slot``, if it has
        one: 1 where a smaller chunk saves little time).

    Returns
    -------
    list of tuple of int

    Notes
    -----
    Without ``chunk_size``, the chunk size is the smallest of ``max_chunk`` and: with
    several slots, ``ceil(R / (per_slot * slots))`` (load balancing); with one
    slot and progress, ``max(ceil(R / PROGRESS_STEPS), MIN_PROGRESS_CHUNK)`` (so that a
    progress bar moves); else ``R`` (one chunk is the fastest in one process). The
    numbers of a run never depend on its chunks.

    Examples
    --------
    >>> plan_chunks(20, max_chunk=1000, slots=4)  # chunks of ceil(20 / 8) = 3
    [(0, 1, 2), (3, 4, 5), (6, 7, 8), (9, 10, 11), (12, 13, 14), (15, 16, 17), (18, 19)]
    >>> plan_chunks(5, max_chunk=2)
    [(0, 1), (2, 3), (4,)]
    """
    if chunk_size is None:
        if slots > 1:
            size = math.ceil(replications / (per_slot * slots))
        elif progress:
            size = max(math.ceil(replications / PROGRESS_STEPS), MIN_PROGRESS_CHUNK)
        else:
            size = replications
        chunk_size = max(1, min(size, max_chunk))
    return split_replications(range(replications), chunk_size=chunk_size)


def starting_accounts(scenario: Scenario, dataset: Any = None) -> int:
    """Number of starting accounts of a run (the same in every replication).

    Parameters
    ----------
    scenario : Scenario
    dataset : cs_sim.io.Dataset, optional
        Starting customers when ``population.source`` is ``dataset`` (default: read
        ``population.dataset``).

    Returns
    -------
    int
        ``population.n_accounts`` for a synthetic population; for a dataset, the
        accounts the engine starts from (those active in its last month).
    """
    from cs_sim.sim.population import starting_population

    if scenario.population.source != "dataset":
        return int(scenario.population.n_accounts)
    return starting_population(scenario, 0, (0,), dataset).n


# ------------------------------------------------------------------------------ engines
@dataclass(frozen=True)
class RunPlan:
    """What an engine runs: the chunks of one scenario's run and what each chunk needs.

    Parameters
    ----------
    scenario : Scenario
    seed : int
        Root seed.
    chunks : tuple of tuple of int
        Disjoint replication indices, one tuple per chunk (:func:`plan_chunks`).
    dataset : cs_sim.io.Dataset, optional
        Starting customers when ``population.source`` is ``dataset``.
    layout : cs_sim.sim.population.Layout, optional
        Shared slot layout (see :func:`compare`).
    record_rep : int, optional
        The replication whose per-account history is recorded.
    warmup : Scenario, optional
        The scenario whose policy runs the warm-up (default: ``scenario``).
    """

    scenario: Scenario
    seed: int
    chunks: tuple[tuple[int, ...], ...]
    dataset: Any = None
    layout: Any = None
    record_rep: int | None = None
    warmup: Scenario | None = None

    def record_in(self, chunk: Sequence[int]) -> int | None:
        """``record_rep`` if it is in ``chunk``, else None (``run_chunk``'s argument)."""
        return self.record_rep if self.record_rep in chunk else None

    def run(self, chunk: Sequence[int]) -> ChunkResult:
        """Run one chunk in this process (:func:`run_chunk` with the plan's arguments)."""
        return run_chunk(self.scenario, self.seed, chunk, dataset=self.dataset,
                         layout=self.layout, record_rep=self.record_in(chunk),
                         warmup=self.warmup)


class Engine(Protocol):
    """An opened engine: it runs the chunks of a :class:`RunPlan`.

    An engine is registered as a function of its options (``engine_options`` of
    :func:`simulate`) returning a context manager that yields an ``Engine`` and closes
    what it started (a cluster, a client) on exit; see
    :func:`cs_sim.sim.registry.register_engine`.
    """

    #: how many chunks it runs at once (used to plan the chunks)
    slots: int

    def run(self, plan: RunPlan, progress: Progress | None = None) -> list[ChunkResult]:
        """Run every chunk of ``plan``; call ``progress(len(chunk))`` as each finishes."""
        ...  # pragma: no cover


#: an engine as registered: options -> context manager yielding an :class:`Engine`
EngineFactory = Callable[..., AbstractContextManager[Engine]]


class _LocalEngine:
    """The chunks one after the other, in this process."""

    slots = 1

    def run(self, plan: RunPlan, progress: Progress | None = None) -> list[ChunkResult]:
        out = []
        for chunk in plan.chunks:
            out.append(plan.run(chunk))
            if progress is not None:
                progress(len(chunk))
        return out


@contextmanager
def local_engine() -> Iterator[Engine]:
    """The ``"local"`` engine: batched arrays in this process (it takes no options)."""
    yield _LocalEngine()


def _open_engine(name: str, options: Mapping[str, Any]) -> AbstractContextManager[Engine]:
    factory = get_engine(name)
    clash = sorted(set(options) & set(inspect.signature(simulate).parameters))
    if clash:
        raise CsSimError(f"engine_options: {', '.join(clash)}: give as argument(s) of "
                         "simulate, not as engine options")
    try:
        inspect.signature(factory).bind(**options)
    except TypeError:
        params = [p for p in inspect.signature(factory).parameters if p != "self"]
        takes = f"takes {', '.join(params)}" if params else "takes no options"
        raise CsSimError(f"engine_options: the {name!r} engine {takes} "
                         f"(got {', '.join(sorted(options))})") from None
    return factory(**options)


# ------------------------------------------------------------------------------ running
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
    progress: Progress | None = None,
    warmup: Scenario | None = None,
) -> SimulationResult:
    """Run ``replications`` Monte Carlo replications of a scenario.

    The reported horizon follows a warm-up of ``scenario.warmup()`` months (by default
    36 for a synthetic population, none for a dataset) run with the scenario's own
    policy, or ``warmup``'s: nothing of it is reported, and the starting customers are
    those alive when the horizon starts.

    Parameters
    ----------
    scenario : Scenario or path
        A scenario, or a YAML file to load.
    replications : int, default 20
    seed : int, optional
        Root seed; None draws one from OS entropy (see ``result.seed``). Same seed, same
        numbers, bit for bit, whatever the engine or chunking.
    engine : str, default "local"
        A registered engine (:func:`cs_sim.sim.registry.engine_names`): ``"local"``
        (batched arrays in this process) or ``"dask"`` (a Dask cluster, see
        :mod:`cs_sim.sim.dask`).
    dataset : cs_sim.io.Dataset, optional
        Starting customers when ``population.source`` is ``dataset`` (default: read
        ``population.dataset`` once).
    record : bool or int, default False
        Record the per-account history (``result.history``) of replication 0, or of
        the replication given.
    chunk_size : int, optional
        Replications per chunk (default: see :func:`plan_chunks`).
    layout : cs_sim.sim.population.Layout, optional
        Slot layout (used by :func:`compare`).
    engine_options : mapping, optional
        Options of the engine, e.g. for ``"dask"``: ``address`` (a scheduler such as
        ``"tcp://10.0.0.5:8786"``), ``client``, ``n_workers`` of the LocalCluster
        started when neither is given, ``processes``. They never change the numbers.
    progress : callable, optional
        Called with the number of replications of each finished chunk (e.g. a tqdm
        bar's ``update``).
    warmup : Scenario, optional
        A scenario whose population, policy and warm-up length run the warm-up (same
        segments); :func:`compare` passes its baseline to the variant.

    Returns
    -------
    SimulationResult

    Raises
    ------
    cs_sim.errors.ScenarioError
        If ``replications``, ``seed``, ``record`` or ``chunk_size`` is invalid.
    cs_sim.errors.CsSimError
        If the engine is unknown or does not take ``engine_options``.
    """
    sc = _as_scenario(scenario)
    n_reps = _count(replications, "replications")
    s = resolve_seed(seed)
    record_rep: int | None = None
    if record is not False and record is not None:
        record_rep = 0 if record is True else int(record)
        if not 0 <= record_rep < n_reps:
            raise ScenarioError(f"record: replication {record_rep} is not run")
    if chunk_size is not None:
        _count(chunk_size, "chunk_size")
    if sc.population.source == "dataset" and dataset is None \
            and sc.population.dataset is not None:
        from cs_sim.io import load_dataset

        dataset = load_dataset(sc.population.dataset)  # once, not once per chunk
    if layout is None:
        from cs_sim.sim.population import default_layout
        from cs_sim.sim.uncertainty import layout_scenario

        warm = sc if warmup is None else warmup
        n_slots = default_layout(layout_scenario(sc), starting_accounts(warm, dataset),
                                 warmup=warm.warmup()).n_total
    else:
        n_slots = layout.n_total
    max_chunk = max(1, MAX_CELLS_PER_BATCH // max(n_slots, 1))
    with _open_engine(engine, engine_options or {}) as runner:
        chunks = plan_chunks(n_reps, max_chunk=max_chunk, slots=runner.slots,
                             chunk_size=chunk_size, progress=progress is not None,
                             per_slot=getattr(runner, "chunks_per_slot", CHUNKS_PER_SLOT))
        plan = RunPlan(sc, s, tuple(chunks), dataset=dataset, layout=layout,
                       record_rep=record_rep, warmup=warmup)
        log.info("%s: %d replications in %d chunks (engine %s, %d slots)", sc.name, n_reps,
                 len(chunks), engine, runner.slots)
        results = runner.run(plan, progress)
    log.info("simulated %s: %d replications, seed %d", sc.name, n_reps, s)
    return combine_chunks(sc, s, results)


def shared_warmup(a: Scenario, b: Scenario) -> bool:
    """Whether ``b`` can start its horizon from ``a``'s warm-up (see :func:`compare`).

    It can when both have the same population (specification) and segment names.
    """
    return a.population == b.population and a.segment_names() == b.segment_names()


def shared_layout(a: Scenario, b: Scenario, dataset: Any = None) -> tuple[Any, Any]:
    """A slot layout fitting both scenarios, so their random numbers line up (CRN).

    Both run ``a``'s warm-up (:func:`shared_warmup`); None, None when they cannot
    share one layout.
    """
    from cs_sim.sim.population import Layout, default_layout

    def n0(sc: Scenario) -> int:
        if sc.population.source == "dataset" and dataset is None:
            return -1
        return starting_accounts(sc, dataset)

    na, nb = n0(a), n0(b)
    if (na < 0 or nb < 0 or na != nb or a.horizon_months != b.horizon_months
            or not shared_warmup(a, b)):
        return None, None
    from cs_sim.sim.uncertainty import layout_scenario

    w = a.warmup()
    la = default_layout(layout_scenario(a), na, warmup=w)
    lb = default_layout(layout_scenario(b), nb, warmup=w)
    k = max(la.per_month, lb.per_month)
    lay = Layout(n_initial=na, per_month=k, horizon=a.horizon_months, warmup=w)
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
    progress: Progress | None = None,
    layout: Any = None,
) -> ComparisonResult:
    """Run two scenarios on common random numbers and pair their outcomes.

    Both runs use the same seed and, when their populations are the same (specification
    and segments) and their horizons equal, the same warm-up and slot layout: the
    variant's horizon starts from the state the *baseline's* warm-up reaches (its
    policy, its ``warmup_months``), so the change starts at month 0 of the horizon, as
    a rollout would, and each replication of the variant sees the same customers and
    the same random draws as that of the baseline: the paired difference is the effect
    of the change, not noise. (Run alone, a variant warms up under its own policy: its
    steady state.) Comparing a scenario with itself gives exactly zero difference.

    Parameters
    ----------
    baseline, variant : Scenario or path
    replications : int, default 20
    seed : int, optional
    engine : str, default "local"
    dataset : cs_sim.io.Dataset, optional
    engine_options : mapping, optional
        Passed to :func:`simulate` for both runs (e.g. a Dask ``address``).
    progress : callable, optional
        Called with the number of replications of each finished chunk of either run
        (``2 * replications`` in all).
    layout : cs_sim.sim.population.Layout, optional
        The slot layout of both runs, instead of :func:`shared_layout`'s (it must fit
        both; :func:`cs_sim.sensitivity` passes one layout to all its runs).

    Returns
    -------
    ComparisonResult
    """
    a, b = _as_scenario(baseline), _as_scenario(variant)
    s = resolve_seed(seed)
    la, lb = shared_layout(a, b, dataset) if layout is None else (layout, layout)
    if la is None:
        log.warning("compare: populations or horizons differ; each scenario warms up on "
                    "its own and random numbers are only partly shared")
    ra = simulate(a, replications=replications, seed=s, engine=engine, dataset=dataset,
                  layout=la, engine_options=engine_options, progress=progress)
    rb = simulate(b, replications=replications, seed=s, engine=engine, dataset=dataset,
                  layout=lb, engine_options=engine_options, progress=progress,
                  warmup=a if la is not None else None)
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
