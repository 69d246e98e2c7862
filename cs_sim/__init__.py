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
    # research and segmentation
    "ResearchResult": "cs_sim.research",
    "analyse_research": "cs_sim.research",
    "SegmentationTradeoffs": "cs_sim.segmentation",
    "compare_segmentations": "cs_sim.segmentation",
    "segment_accounts": "cs_sim.segmentation",
    # maturity, journey and the strategy plan
    "MaturityAssessment": "cs_sim.maturity",
    "assess_maturity": "cs_sim.maturity",
    "load_questionnaire": "cs_sim.maturity",
    "JourneyMap": "cs_sim.journey",
    "journey_map": "cs_sim.journey",
    "StrategyPlan": "cs_sim.plan",
    "build_plan": "cs_sim.plan",
    "resolve_path": "cs_sim.paths",
    # simulator
    "Scenario": "cs_sim.sim.scenario",
    "load_scenario": "cs_sim.sim.scenario_io",
    "simulate": "cs_sim.sim.runners",
    "compare": "cs_sim.sim.runners",
    "sensitivity": "cs_sim.sim.sensitivity",
    # statistical models (survival, churn drivers, CLV, health validation, forecasts)
    "models": "cs_sim.models",
    # calibration: a dataset into a simulator baseline, and the backtest gate
    "Calibration": "cs_sim.calibration",
    "calibrate": "cs_sim.calibration",
    "Backtest": "cs_sim.calibration",
    "backtest": "cs_sim.calibration",
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
    "ResearchResult",
    "analyse_research",
    "SegmentationTradeoffs",
    "compare_segmentations",
    "segment_accounts",
    "MaturityAssessment",
    "assess_maturity",
    "load_questionnaire",
    "JourneyMap",
    "journey_map",
    "StrategyPlan",
    "build_plan",
    "resolve_path",
    "Scenario",
    "load_scenario",
    "simulate",
    "compare",
    "sensitivity",
    "models",
    "Calibration",
    "calibrate",
    "Backtest",
    "backtest",
]

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim import models
    from cs_sim.baseline import KpiBaseline, kpi_baseline
    from cs_sim.calibration import Backtest, Calibration, backtest, calibrate
    from cs_sim.errors import CsSimError, DataValidationError, ScenarioError
    from cs_sim.io import Dataset, load_dataset, validate_dataset, write_dataset
    from cs_sim.journey import JourneyMap, journey_map
    from cs_sim.maturity import MaturityAssessment, assess_maturity, load_questionnaire
    from cs_sim.paths import resolve_path
    from cs_sim.plan import StrategyPlan, build_plan
    from cs_sim.research import ResearchResult, analyse_research
    from cs_sim.segmentation import (
        SegmentationTradeoffs,
        compare_segmentations,
        segment_accounts,
    )
    from cs_sim.sim.runners import compare, simulate
    from cs_sim.sim.scenario import Scenario
    from cs_sim.sim.scenario_io import load_scenario
    from cs_sim.sim.sensitivity import sensitivity


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
