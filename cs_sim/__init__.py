"""cs_sim: a customer-success strategy workbook and simulation framework.

Importing the package is cheap and has no side effects: the public names below are
loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cs_sim._lazy import lazy_exports

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "CsSimError": "cs_sim.errors",
    "DataValidationError": "cs_sim.errors",
    "ScenarioError": "cs_sim.errors",
    "Dataset": "cs_sim.io",
    "load_dataset": "cs_sim.io",
    "write_dataset": "cs_sim.io",
    "validate_dataset": "cs_sim.io",
    "KpiBaseline": "cs_sim.baseline",
    "kpi_baseline": "cs_sim.baseline",
    # simulator
    "Scenario": "cs_sim.sim.scenario",
    "load_scenario": "cs_sim.sim.scenario_io",
    "simulate": "cs_sim.sim.runners",
    "compare": "cs_sim.sim.runners",
}

__all__ = [  # grouped as in _LAZY
    "__version__",
    "CsSimError",
    "DataValidationError",
    "ScenarioError",
    "Dataset",
    "load_dataset",
    "write_dataset",
    "validate_dataset",
    "KpiBaseline",
    "kpi_baseline",
    "Scenario",
    "load_scenario",
    "simulate",
    "compare",
]

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.baseline import KpiBaseline, kpi_baseline
    from cs_sim.errors import CsSimError, DataValidationError, ScenarioError
    from cs_sim.io import Dataset, load_dataset, validate_dataset, write_dataset
    from cs_sim.sim.runners import compare, simulate
    from cs_sim.sim.scenario import Scenario
    from cs_sim.sim.scenario_io import load_scenario


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
