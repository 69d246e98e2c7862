"""The simulator: scenarios (pydantic), the SimPy array engine, results, runners.

Quick start::

    import cs_sim
    sc = cs_sim.load_scenario("templates/scenarios/baseline.yaml")
    res = cs_sim.simulate(sc, replications=20, seed=1)
    res.summary()
    cmp = cs_sim.compare(sc, "templates/scenarios/save_play.yaml", replications=20, seed=1)
    cmp.summary()

Scenario files (YAML, ``extends``) are read in :mod:`cs_sim.sim.scenario_io`; numbers
given as distributions in :mod:`cs_sim.sim.uncertainty`, and
:func:`cs_sim.sensitivity` (:mod:`cs_sim.sim.sensitivity`) ranks them. The
model's equations are documented in :mod:`cs_sim.sim.model`; capacity and queue
rules in :mod:`cs_sim.sim.capacity`. Names are loaded lazily (pydantic, SimPy and
pandas only when used).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cs_sim._lazy import lazy_exports

_LAZY = {
    "Scenario": "cs_sim.sim.scenario",
    "load_scenario": "cs_sim.sim.scenario_io",
    "scenario_from_dict": "cs_sim.sim.scenario_io",
    "scenario_json_schema": "cs_sim.sim.scenario_io",
    "simulate": "cs_sim.sim.runners",
    "compare": "cs_sim.sim.runners",
    "run_chunk": "cs_sim.sim.runners",
    "run_history": "cs_sim.sim.runners",
    "register_engine": "cs_sim.sim.registry",
    "engine_names": "cs_sim.sim.registry",
    "SimulationResult": "cs_sim.sim.results",
    "ComparisonResult": "cs_sim.sim.results",
    "ChunkResult": "cs_sim.sim.results",
    "History": "cs_sim.sim.record",
    "combine_chunks": "cs_sim.sim.results",
    "Distribution": "cs_sim.sim.uncertainty",
    "parameter_draws": "cs_sim.sim.uncertainty",
    "SensitivityResult": "cs_sim.sim.sensitivity",
}

__all__ = [
    "ChunkResult",
    "ComparisonResult",
    "Distribution",
    "History",
    "Scenario",
    "SimulationResult",
    "combine_chunks",
    "compare",
    "engine_names",
    "load_scenario",
    "register_engine",
    "run_chunk",
    "run_history",
    "scenario_from_dict",
    "scenario_json_schema",
    "SensitivityResult",
    "parameter_draws",
    "simulate",
]

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.sim.record import History
    from cs_sim.sim.registry import engine_names, register_engine
    from cs_sim.sim.results import (
        ChunkResult,
        ComparisonResult,
        SimulationResult,
        combine_chunks,
    )
    from cs_sim.sim.runners import (
        compare,
        run_chunk,
        run_history,
        simulate,
    )
    from cs_sim.sim.scenario import Scenario
    from cs_sim.sim.scenario_io import load_scenario, scenario_from_dict, scenario_json_schema
    from cs_sim.sim.sensitivity import SensitivityResult
    from cs_sim.sim.uncertainty import Distribution, parameter_draws


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
