"""The workbook's report: headline figures of each notebook and ``cs-sim report``.

Importing this package is cheap: its public names load on first use.
"""

from __future__ import annotations

from cs_sim._lazy import lazy_exports

__all__ = ["MIME_TYPE", "Headlines", "ReportParams", "ReportRun", "headlines", "load_params",
           "read_headlines", "run_report"]

_LAZY = {
    "MIME_TYPE": "cs_sim.report._headlines",
    "Headlines": "cs_sim.report._headlines",
    "headlines": "cs_sim.report._headlines",
    "read_headlines": "cs_sim.report._headlines",
    "ReportParams": "cs_sim.report._params",
    "load_params": "cs_sim.report._params",
    "ReportRun": "cs_sim.report._runner",
    "run_report": "cs_sim.report._runner",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
