"""Every exception cs_sim raises on purpose, in one module.

Every error a user can cause derives from :class:`CsSimError`. The CLI catches it,
prints its message (never a traceback) and exits with status 2.

- :class:`DataValidationError` (with :class:`Problem` items) and
  :class:`MissingTableError`: a dataset folder is wrong or lacks a table;
- :class:`FileFormatError`: a file format other than csv or parquet was asked for;
- :class:`ScenarioError`: a scenario or a run's arguments are invalid;
- :class:`KpiInputError`, :class:`KpiConfigError`: a KPI function got input it cannot
  compute on, or a KPI configuration file is invalid;
- :class:`MappingError`: an import mapping (``cs-sim import --map``) is invalid or does
  not fit the files it names;
- :class:`ModelInputError`: a statistical model (:mod:`cs_sim.models`) got data it
  cannot be fitted on (too few periods or events, negative counts, ...);
- :class:`CalibrationError`: a dataset cannot be calibrated into a simulator baseline
  (too short, too few customers or churns, a table calibration needs is missing);
- :class:`StrategyInputError`: a strategy module (maturity questionnaire or answers,
  journey or plan options) got input it cannot use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "CalibrationError",
    "CsSimError",
    "DataValidationError",
    "FileFormatError",
    "KpiConfigError",
    "KpiInputError",
    "MappingError",
    "MissingTableError",
    "ModelInputError",
    "Problem",
    "ReportInputError",
    "ScenarioError",
    "StrategyInputError",
]

#: how many offending rows a message lists before it says "and N more"
MAX_ROWS_SHOWN = 5


class CsSimError(Exception):
    """Base class of every error caused by user input or configuration."""

    exit_code: int = 2


@dataclass(frozen=True)
class Problem:
    """One problem found in user input.

    Parameters
    ----------
    file : str
        The file where the problem is (e.g. ``'mrr.csv'``), or the dataset folder for
        problems that concern no single file.
    message : str
        What is wrong, in one sentence.
    fix : str
        What the user should do about it.
    column : str, optional
        The column concerned, if any (as spelled in the file).
    rows : sequence of int, optional
        The first offending places, as the user finds them in the file (see ``unit``).
        For a CSV file these are **line numbers in the file**: the header is line 1 and
        the first data row is line 2 (blank lines and values quoted over several lines
        are counted as a text editor counts them). For a Parquet file they are 1-based
        row numbers (the first row is row 1).
    n_rows : int, optional
        Total number of offending rows (``rows`` may hold only the first few).
    unit : {"line", "row"}, default "line"
        What the numbers in ``rows`` count: lines of a text file or rows of a table.

    Examples
    --------
    >>> p = Problem("mrr.csv", "MRR must not be negative", "correct the values",
    ...             column="mrr", rows=(4, 9, 11, 12, 15, 20), n_rows=8)
    >>> print(p.render())
    mrr.csv, column 'mrr', lines 4, 9, 11, 12, 15 (and 3 more): MRR must not be negative
        fix: correct the values
    """

    file: str
    message: str
    fix: str
    column: str | None = None
    rows: tuple[int, ...] = field(default_factory=tuple)
    n_rows: int | None = None
    unit: Literal["line", "row"] = "line"

    def location(self) -> str:
        """Return where the problem is, e.g. ``"mrr.csv, column 'mrr', lines 4, 9"``."""
        where = self.file
        if self.column is not None:
            where += f", column '{self.column}'"
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:MAX_ROWS_SHOWN])
            total = self.n_rows if self.n_rows is not None else len(self.rows)
            more = f" (and {total - MAX_ROWS_SHOWN} more)" if total > MAX_ROWS_SHOWN else ""
            unit = self.unit if total == 1 else f"{self.unit}s"
            where += f", {unit} {shown}{more}"
        return where

    def render(self) -> str:
        """Return the problem as a human-readable block of text."""
        return f"{self.location()}: {self.message}\n    fix: {self.fix}"

    def to_dict(self) -> dict[str, Any]:
        """Return the problem as a JSON-serialisable dict."""
        return {
            "file": self.file,
            "column": self.column,
            "unit": self.unit,
            "rows": list(self.rows),
            "n_rows": self.n_rows if self.n_rows is not None else len(self.rows),
            "message": self.message,
            "fix": self.fix,
        }


class DataValidationError(CsSimError):
    """A dataset failed validation; carries every problem found.

    Parameters
    ----------
    problems : sequence of Problem
        All problems found (validation reports them all at once).
    source : str, optional
        The dataset folder, for the headline.
    """

    def __init__(self, problems: Sequence[Problem], *, source: str | None = None) -> None:
        self.problems = tuple(problems)
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} found"
        if self.source:
            head += f" in dataset '{self.source}'"
        body = "\n".join(f"  - {p.render()}" for p in self.problems)
        return f"{head}:\n{body}"


class MissingTableError(DataValidationError):
    """An analysis needs an optional table that the dataset does not have.

    Parameters
    ----------
    table : str
        The missing table, e.g. ``"usage"``.
    source : str, optional
        The dataset folder.
    """

    def __init__(self, table: str, *, source: str | None = None) -> None:
        self.table = table
        where = f"dataset '{source}'" if source else "this dataset"
        problem = Problem(
            file=source or table,
            message=(
                f"this analysis needs the optional table '{table}' "
                f"({table}.csv or {table}.parquet), which {where} does not have"
            ),
            fix=f"add {table}.csv or {table}.parquet to the dataset folder, "
            "or skip this analysis",
        )
        super().__init__([problem], source=source)

    def _render(self) -> str:
        p = self.problems[0]
        return f"{p.message}\n    fix: {p.fix}"


class FileFormatError(CsSimError, ValueError):
    """A file format other than those tables are stored in (csv, parquet) was asked for.

    Also a :class:`ValueError`, the natural Python exception for a bad argument.
    """


class ScenarioError(CsSimError):
    """A scenario specification is invalid (unknown key, impossible value, ...)."""


class KpiInputError(CsSimError, ValueError):
    """A KPI function got input it cannot compute on (missing column, bad value, ...).

    It is both a :class:`CsSimError` (the CLI shows its message and exits 2) and a
    :class:`ValueError` (the natural Python exception for a bad argument).
    """


class KpiConfigError(CsSimError, ValueError):
    """A KPI configuration file (health score, feedback taxonomy) is invalid.

    The message names the file and the key at fault, e.g.
    ``templates/health_score.yaml: components.usage.weight: must be > 0, got -1``.
    """


class MappingError(CsSimError, ValueError):
    """An import mapping file is invalid, or does not fit the source files it names.

    The message names the mapping file and the key at fault (with the closest allowed
    key for a misspelled one), or the source file and column, e.g.
    ``map.yaml: tables.acounts: unknown key; did you mean 'accounts'?``. Also a
    :class:`ValueError`.
    """


class ModelInputError(CsSimError, ValueError):
    """A statistical model got data it cannot be fitted on.

    Raised by :mod:`cs_sim.models` (survival, churn drivers, CLV, forecasts) when the
    data are too short, have too few events, or hold impossible values. The message
    names the input (table or argument), the offending values and what to do, e.g.
    ``fit_sbg: survivors must not increase; period 3 has 470 > 468 at period 2``.
    Also a :class:`ValueError`.
    """


class CalibrationError(CsSimError, ValueError):
    """A dataset cannot be calibrated into a simulator baseline, or backtested.

    Raised by :mod:`cs_sim.calibration` when the data are too short (fewer months than
    the estimators or the backtest's held-out months need), hold too few customers or
    churns, or lack a table calibration needs. The message names the dataset, the
    table and column, what was found and what is needed, e.g. ``data/x: mrr.csv covers
    8 months (2025-01 .. 2025-08); a backtest holding out 12 months needs at least 24``.
    Also a :class:`ValueError`.
    """


class StrategyInputError(CsSimError, ValueError):
    """Input to a strategy module (:mod:`cs_sim.maturity`, :mod:`cs_sim.journey`,
    :mod:`cs_sim.plan`) is invalid: a questionnaire, an answers file, an option.

    The message names the file (or argument), the key at fault and the fix, e.g.
    ``answers.yaml: answers.metrics.kpi_definitions: 7 is out of range; fix: give a
    whole number from 1 to 5``. Also a :class:`ValueError`.
    """


class ReportInputError(CsSimError, ValueError):
    """Input to ``cs-sim report`` is invalid: a parameter file, a grid file, a stage's
    parameter, an earlier run to compare with.

    Found before any stage runs, so no report folder is written. The message names the
    file, the key at fault and the fix, e.g. ``report.yaml: stages.03_kpi_baseline.strat:
    unknown parameter (did you mean 'start'?); fix: use one of start, end, by``. Also a
    :class:`ValueError`.
    """
