"""cs_sim: a customer-success strategy workbook and simulation framework.

Importing the package is cheap and has no side effects: the public names below are
loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "CsSimError": "cs_sim.errors",
    "DataValidationError": "cs_sim.errors",
    "ScenarioError": "cs_sim.errors",
    "ReportError": "cs_sim.errors",
    "Dataset": "cs_sim.io",
    "load_dataset": "cs_sim.io",
    "write_dataset": "cs_sim.io",
    "validate_dataset": "cs_sim.io",
}

__all__ = ["__version__", *_LAZY]

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.errors import CsSimError, DataValidationError, ReportError, ScenarioError
    from cs_sim.io import Dataset, load_dataset, validate_dataset, write_dataset


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'cs_sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
