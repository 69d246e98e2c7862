"""Calibration and backtest: a company's history turned into a trustworthy simulator baseline.

- :func:`calibrate` estimates the simulator's baseline parameters from a dataset
  (statsmodels throughout: the estimators are described in
  :mod:`cs_sim.calibration._estimate` and :mod:`cs_sim.calibration._descriptive`) and
  returns a :class:`Calibration`, whose ``scenario`` starts from the dataset's
  customers, with segments named by the dataset's own labels, and whose ``estimates``
  give each parameter's standard error and method; :func:`readiness` says in plain
  words what keeps a dataset from being calibrated; :func:`apply_variant` puts a what-if
  file's changes onto a calibrated baseline.
- :func:`backtest` calibrates on all but the last months, simulates the months held
  out from the customers at the cut, and checks that what happened lies in the
  simulated ranges (:class:`Backtest`, with ``passed`` and its reasons);
  :func:`backtest_readiness` says whether the data are long enough for it.
- :func:`when_possible` runs a model and, when the data cannot support it, returns an
  :class:`Unavailable` that says why (so a notebook goes on).

Importing this package does not import statsmodels.
"""

from __future__ import annotations

from cs_sim.calibration._attempt import Unavailable, when_possible
from cs_sim.calibration._backtest import Backtest, backtest, backtest_readiness, gate_note
from cs_sim.calibration._calibrate import apply_variant, calibrate, readiness, simulation_dataset
from cs_sim.calibration._result import Calibration

__all__ = ["Backtest", "Calibration", "Unavailable", "apply_variant", "backtest",
           "backtest_readiness", "calibrate", "gate_note", "readiness",
           "simulation_dataset", "when_possible"]
