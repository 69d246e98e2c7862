"""The backtest gate: does the calibrated simulator reproduce months it has not seen?

:func:`backtest` cuts the dataset ``holdout`` months before its end, calibrates on the
months up to the cut (every table truncated to them), simulates the held-out months
from the customers paying at the cut (``population.source: dataset``, no warm-up; by
default with the estimates' uncertainty, so each replication draws its parameters),
and compares three monthly figures with what happened, computed the same way on both
sides (:mod:`cs_sim.kpis.formulas`, the month's MRR bridge of the customers paying
the month before):

* logo churn: customers lost / customers at the start of the month;
* GRR: (start MRR - churned - contraction) / start MRR;
* NRR: (start MRR + expansion - contraction - churned) / start MRR.

For each figure the *coverage* is the share of held-out months whose actual value lies
in the simulated range (the 5%-95% quantiles of the replications at ``level`` 0.9).
The gate passes when every figure's coverage reaches ``min_coverage`` (default 2/3:
for a simulator whose ranges are right, at least 8 of 12 months fall inside a 90%
range with probability 0.996, so a failure is a signal, not bad luck) and the actual
number of customers lost over the held-out months lies in the simulated range of that
total. The reasons say, figure by figure, in plain words, what passed and what did not.
"""

from __future__ import annotations

import json
import math
import os
import textwrap
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cs_sim.calibration._calibrate import as_dataset, calibrate, simulation_dataset
from cs_sim.calibration._panel import build_panel, month_index
from cs_sim.errors import CalibrationError
from cs_sim.format import count, fmt, html_escaped, percent, style_frame, to_jsonable, write_files

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from cs_sim.calibration._result import Calibration
    from cs_sim.io import Dataset
    from cs_sim.sim.results import SimulationResult

__all__ = ["FIGURES", "MIN_TRAINING_MONTHS", "Backtest", "actual_monthly", "backtest",
           "backtest_readiness", "gate_note", "truncate_dataset"]

#: months calibration needs before the cut
MIN_TRAINING_MONTHS = 12
#: the figures compared: name -> (label, column of the simulation's monthly frame)
FIGURES: dict[str, tuple[str, str]] = {
    "logo_churn": ("Monthly logo churn", "logo_churn_rate"),
    "grr": ("Monthly GRR", "grr"),
    "nrr": ("Monthly NRR", "nrr"),
}
_WIDTH = 96

#: each table's date column (rows after the cut are dropped)
_DATE_COLUMNS = {"mrr": "month", "usage": "month", "tickets": "opened_at", "surveys": "date",
                 "trials": "trial_end", "interactions": "date", "costs": "month"}


def truncate_dataset(dataset: Dataset, last_month: int) -> Dataset:
    """The dataset as it was at the end of ``last_month`` (a :func:`month_index`).

    Every dated table keeps its rows up to that month; accounts keep their rows (those
    that start later have no MRR yet and are not customers at the cut).
    """
    changes: dict[str, Any] = {}
    for name, column in _DATE_COLUMNS.items():
        frame = getattr(dataset, name)
        if frame is None or column not in frame.columns:
            continue
        keep = month_index(frame[column]) <= last_month
        changes[name] = frame.loc[keep].reset_index(drop=True)
    return replace(dataset, **changes)


def actual_monthly(dataset: Dataset, first: int, last: int) -> pd.DataFrame:
    """The compared figures of the months ``first .. last`` (:func:`month_index` values).

    Returns
    -------
    DataFrame
        Index the months (``YYYY-MM``); columns ``accounts_start``, ``churned`` and the
        :data:`FIGURES`.
    """
    from cs_sim.kpis import formulas

    p = build_panel(dataset)
    rows = []
    for m in range(first, last + 1):
        j = m - p.first_month
        before, now = p.mrr[:, j - 1], p.mrr[:, j]
        start = before > 0
        lost = start & ~(now > 0)
        kept = start & (now > 0)
        start_mrr = float(before[start].sum())
        churned_mrr = float(before[lost].sum())
        expansion = float(np.maximum(now[kept] - before[kept], 0).sum())
        contraction = float(np.maximum(before[kept] - now[kept], 0).sum())
        rows.append({
            "month": p.month_label(j), "accounts_start": int(start.sum()),
            "churned": int(lost.sum()),
            "logo_churn": float(formulas.logo_churn(lost.sum(), start.sum())),
            "grr": float(formulas.grr(start_mrr, start_mrr - churned_mrr - contraction)),
            "nrr": float(formulas.nrr(start_mrr, start_mrr + expansion - contraction
                                      - churned_mrr)),
        })
    return pd.DataFrame(rows).set_index("month")


@dataclass(frozen=True)
class Backtest:
    """The result of :func:`backtest`: the gate, its reasons and the figures behind them.

    Attributes
    ----------
    passed : bool
    reasons : list of str
        One sentence per check, in plain words.
    table : DataFrame
        Per held-out month (index ``YYYY-MM``) and figure (column level 0): ``actual``,
        ``mean``, ``lo``, ``hi`` (the simulated range), ``covered``.
    coverage : dict of str to float
        Share of held-out months covered, by figure.
    totals : dict
        Customers lost over the held-out months: ``actual``, ``mean``, ``lo``, ``hi``.
    cut : str
        The last month calibrated on.
    holdout, replications, seed : int
    level, min_coverage : float
    calibration : Calibration
    simulation : SimulationResult
    """

    passed: bool
    reasons: list[str]
    table: pd.DataFrame
    coverage: dict[str, float]
    totals: dict[str, float]
    cut: str
    holdout: int
    replications: int
    seed: int
    level: float
    min_coverage: float
    calibration: Calibration
    simulation: SimulationResult

    def to_frame(self) -> pd.DataFrame:
        """The monthly comparison (a copy of :attr:`table`)."""
        return self.table.copy()

    def verdict(self) -> str:
        """One line: passed or failed, and on what."""
        where = f"{self.holdout} months after {self.cut}"
        if self.passed:
            return (f"Backtest passed: the calibrated simulator reproduces the {where} "
                    "within its ranges.")
        return (f"Backtest FAILED: the calibrated simulator does not reproduce the {where}; "
                "do not rely on what-if results built on this baseline.")

    def _shown(self) -> pd.DataFrame:
        cols = {}
        for key, (label, _) in FIGURES.items():
            t = self.table[key]
            cols[(label, "actual")] = [fmt(v, "pct") for v in t["actual"]]
            cols[(label, "simulated")] = [f"{fmt(a, 'pct')}-{fmt(b, 'pct')}"
                                          for a, b in zip(t["lo"], t["hi"], strict=True)]
            cols[(label, "in")] = ["yes" if c else "NO" for c in t["covered"]]
        out = pd.DataFrame(cols, index=self.table.index)
        out.index.name = "month"
        return out

    def to_text(self) -> str:
        """The verdict, its reasons, then the months side by side."""
        head = (f"Backtest of {self.calibration.source}: calibrated on the months up to "
                f"{self.cut}, {count(self.replications)} replications (seed {self.seed}); "
                f"simulated ranges are the {percent((1 - self.level) / 2, digits=0)}-"
                f"{percent(1 - (1 - self.level) / 2, digits=0)} quantiles of the "
                "replications.")
        lines = [textwrap.fill(head, width=_WIDTH), "", self.verdict()]
        lines += [textwrap.fill(f"- {r}", width=_WIDTH, subsequent_indent="  ")
                  for r in self.reasons]
        shown = self._shown()
        shown.columns = [f"{a[:12]} {b}" if b != "in" else f"{a[8:12]} in"
                         for a, b in shown.columns]
        lines += ["", shown.to_string()]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (raw numbers): the verdict, reasons, coverage, totals and months."""
        months = {}
        for month in self.table.index:
            months[month] = {k: {c: self.table.loc[month, (k, c)]
                                 for c in ("actual", "mean", "lo", "hi", "covered")}
                             for k in FIGURES}
        return to_jsonable({
            "source": self.calibration.source, "passed": self.passed,
            "reasons": list(self.reasons), "cut": self.cut, "holdout": self.holdout,
            "replications": self.replications, "seed": self.seed, "level": self.level,
            "min_coverage": self.min_coverage, "coverage": self.coverage,
            "totals": self.totals, "months": months,
        })

    def _repr_html_(self) -> str:
        from html import escape

        colour = "#1a7f37" if self.passed else "#cf222e"
        items = "".join(f"<li>{escape(r)}</li>" for r in self.reasons)
        return (f"<p style='color:{colour}'><b>{escape(self.verdict())}</b></p><ul>{items}</ul>"
                + style_frame(html_escaped(self._shown())).to_html())

    def write(self, out_dir: str | os.PathLike[str]) -> list[Path]:
        """Write backtest.json, backtest.txt and backtest.csv into ``out_dir``."""
        flat = self.table.copy()
        flat.columns = [f"{a}_{b}" for a, b in flat.columns]
        return write_files(Path(out_dir), {
            "backtest.json": json.dumps(self.to_dict(), indent=2) + "\n",
            "backtest.txt": self.to_text() + "\n",
            "backtest.csv": flat.to_csv(),
        })

    def plot(self, ax: Axes | None = None, *, figure: str = "logo_churn") -> Axes:
        """Actual values of one figure against the simulated range, month by month.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        figure : {"logo_churn", "grr", "nrr"}

        Returns
        -------
        matplotlib.axes.Axes
        """
        from matplotlib.ticker import FuncFormatter

        from cs_sim.models._base import axes

        ax = axes(ax)
        t = self.table[figure]
        x = np.arange(len(t))
        ax.fill_between(x, t["lo"], t["hi"], alpha=0.3, label="simulated range")
        ax.plot(x, t["mean"], label="simulated mean")
        ax.plot(x, t["actual"], "o", color="black", label="actual")
        ax.set_xticks(x, list(t.index), rotation=45, ha="right")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: percent(v)))
        ax.set_title(f"{FIGURES[figure][0]}: held-out months")
        ax.legend()
        return ax

    def __repr__(self) -> str:
        cov = ", ".join(f"{k} {v:.0%}" for k, v in self.coverage.items())
        return f"Backtest(passed={self.passed}, cut={self.cut!r}, coverage: {cov})"


def _span_problem(ds: Dataset, holdout: int) -> tuple[str | None, int, int]:
    """Why the data are too short for a backtest (None: they are not), first and last month."""
    source = str(getattr(ds, "source", None) or "the dataset")
    mi = month_index(ds.mrr["month"])
    first, last = int(np.nanmin(mi)), int(np.nanmax(mi))
    span = last - first + 1
    if span >= holdout + MIN_TRAINING_MONTHS:
        return None, first, last
    return (f"{source}: mrr.csv covers {span} months ({_label(first)} .. {_label(last)}); a "
            f"backtest holding out {holdout} months needs at least "
            f"{holdout + MIN_TRAINING_MONTHS} ({MIN_TRAINING_MONTHS} to calibrate on): "
            "add history or hold out fewer months (--holdout)"), first, last


def backtest_readiness(dataset: Dataset | str | os.PathLike[str], *, holdout: int = 12,
                       segment_by: str | None = None) -> list[str]:
    """What keeps a dataset from being backtested, in plain words (empty: nothing).

    The data must cover ``holdout`` + 12 months, and the months up to the cut must be
    calibratable (:func:`cs_sim.calibration.readiness`).
    """
    from cs_sim.calibration._calibrate import readiness

    ds = as_dataset(dataset)
    problem, _, last = _span_problem(ds, holdout)
    if problem is not None:
        return [problem]
    return readiness(truncate_dataset(ds, last - holdout), segment_by=segment_by)


def backtest(
    dataset: Dataset | str | os.PathLike[str],
    *,
    holdout: int = 12,
    replications: int = 100,
    seed: int | None = None,
    level: float = 0.9,
    min_coverage: float = 2 / 3,
    segment_by: str | None = None,
    tiers: str | None = None,
    uncertainty: bool = True,
) -> Backtest:
    """Calibrate on all but the last ``holdout`` months and check the simulator on them.

    See the module docstring for the comparison and the gate.

    Parameters
    ----------
    dataset : Dataset or path
    holdout : int, default 12
        Months held out at the end of the data.
    replications : int, default 100
    seed : int, optional
        Root seed of the simulation (default: fresh, see ``result.seed``).
    level : float, default 0.9
        Coverage of the simulated ranges.
    min_coverage : float, default 2/3
        Share of held-out months each figure must cover to pass.
    segment_by, tiers : str, optional
        As for :func:`cs_sim.calibrate`.
    uncertainty : bool, default True
        Simulate with the estimates' uncertainty (each replication draws them).

    Returns
    -------
    Backtest

    Raises
    ------
    CalibrationError
        If the dataset is shorter than ``holdout`` + 12 months, or the months up to the
        cut cannot be calibrated.
    """
    from cs_sim.sim.runners import resolve_seed, simulate

    if not isinstance(holdout, int) or holdout < 1:
        raise CalibrationError(f"holdout must be a whole number of months >= 1, got {holdout!r}")
    if not 0 < level < 1 or not 0 < min_coverage <= 1:
        raise CalibrationError("level and min_coverage must be fractions in (0, 1], e.g. "
                               "0.9 and 0.67")
    ds = as_dataset(dataset)
    problem, _, last = _span_problem(ds, holdout)
    if problem is not None:
        raise CalibrationError(problem)
    cut = last - holdout
    train = truncate_dataset(ds, cut)
    cal = calibrate(train, segment_by=segment_by, tiers=tiers, uncertainty=uncertainty,
                    horizon_months=holdout)
    s = resolve_seed(seed)
    with np.errstate(over="ignore"):  # a drawn slope may overflow exp() on unborn slots
        res = simulate(cal.scenario, replications=replications, seed=s,
                       dataset=simulation_dataset(train, cal))
    actual = actual_monthly(ds, cut + 1, last)
    table, coverage = _compare(actual, res.monthly, level)
    totals = _totals(actual, res.monthly, level)
    reasons, passed = _verdict(table, coverage, totals, min_coverage, level)
    return Backtest(passed=passed, reasons=reasons, table=table, coverage=coverage,
                    totals=totals, cut=_label(cut), holdout=holdout, replications=replications,
                    seed=s, level=level, min_coverage=min_coverage, calibration=cal,
                    simulation=res)


def _label(m: int) -> str:
    return f"{m // 12:04d}-{m % 12 + 1:02d}"


def _compare(actual: pd.DataFrame, monthly: pd.DataFrame, level: float
             ) -> tuple[pd.DataFrame, dict[str, float]]:
    tail = (1.0 - level) / 2.0
    parts = {}
    coverage = {}
    for key, (_, column) in FIGURES.items():
        wide = monthly.pivot(index="month", columns="replication", values=column)
        sim = wide.to_numpy(dtype=float)
        lo = np.nanquantile(sim, tail, axis=1)
        hi = np.nanquantile(sim, 1.0 - tail, axis=1)
        act = actual[key].to_numpy(dtype=float)
        covered = (act >= lo - 1e-12) & (act <= hi + 1e-12)
        parts[key] = pd.DataFrame({"actual": act, "mean": np.nanmean(sim, axis=1), "lo": lo,
                                   "hi": hi, "covered": covered}, index=actual.index)
        coverage[key] = float(covered.mean())
    return pd.concat(parts, axis=1), coverage


def _totals(actual: pd.DataFrame, monthly: pd.DataFrame, level: float) -> dict[str, float]:
    tail = (1.0 - level) / 2.0
    churned = monthly.groupby("replication")["churned"].sum().to_numpy(dtype=float)
    return {"actual": float(actual["churned"].sum()), "mean": float(churned.mean()),
            "lo": float(np.quantile(churned, tail)), "hi": float(np.quantile(churned, 1 - tail))}


def _verdict(table: pd.DataFrame, coverage: dict[str, float], totals: dict[str, float],
             min_coverage: float, level: float) -> tuple[list[str], bool]:
    reasons = []
    ok = True
    n = len(table)
    need = math.ceil(min_coverage * n - 1e-9)
    rng = f"simulated {percent(level, digits=0)} range"
    for key, (label, _) in FIGURES.items():
        t = table[key]
        inside = int(t["covered"].sum())
        good = inside >= need
        ok &= good
        bias = float(t["actual"].mean() - t["mean"].mean())
        if good:
            reasons.append(f"{label}: the actual value lay in the {rng} in {inside} of {n} "
                           f"months ({need} needed): passes.")
        else:
            side = "above" if bias > 0 else "below"
            reasons.append(f"{label}: the actual value lay in the {rng} in only {inside} of "
                           f"{n} months ({need} needed); on average it was "
                           f"{percent(abs(bias), diff=False, digits=2)} {side} the simulated "
                           "mean: fails.")
    a, lo, hi = totals["actual"], totals["lo"], totals["hi"]
    good = lo <= a <= hi
    ok &= good
    reasons.append(f"Customers lost over the {n} months: {count(a)} actually, {count(lo)} to "
                   f"{count(hi)} simulated (mean {count(totals['mean'])}): "
                   + ("passes." if good else "outside the simulated range: fails."))
    return reasons, bool(ok)


def gate_note(gate: Backtest | None, *, calibrated: bool, ignore_backtest: bool = False) -> str:
    """What the gate means for the results that follow, in plain words (Markdown).

    Parameters
    ----------
    gate : Backtest or None
        The backtest of the baseline (None: none was run).
    calibrated : bool
        Whether the baseline was calibrated on the data (else it is a template).
    ignore_backtest : bool, default False
        Whether results are shown although the gate failed.

    Returns
    -------
    str
        Whether results are shown, and why (the failed checks when it failed).
    """
    if not calibrated:
        return ("The what-ifs below start from the **template baseline**: its parameters "
                "are assumptions typed into a file, not estimates from your data, and no "
                "backtest vouches for them. Read the results as illustrations of the "
                "mechanics, not as estimates for this company.")
    if gate is None:
        return ("The baseline is calibrated on your data but could not be backtested (too "
                "little history to hold months out): the results below are shown, but "
                "nothing has checked that the simulator reproduces your recent months.")
    failed = " ".join(r for r in gate.reasons if r.endswith("fails."))
    if gate.passed:
        return (f"The calibrated baseline **passed the backtest gate**: the simulator "
                f"reproduced the {gate.holdout} months after {gate.cut} within its ranges. "
                "The comparisons below rest on it.")
    if ignore_backtest:
        return (f"**Warning: the calibrated baseline failed the backtest gate** ({failed}) "
                "The comparisons below are shown only because `ignore_backtest` is True: "
                "they rest on a simulator that did not reproduce your recent history, so "
                "treat them as rough directions, not as estimates to decide on.")
    return (f"**Results withheld: the calibrated baseline failed the backtest gate** "
            f"({failed}) A what-if built on a simulator that does not reproduce your recent "
            "history would give numbers you cannot trust, so no comparison is shown. Look "
            "at which figure missed and in which direction, check the data (a change of "
            "pricing, a one-off event), or hold out fewer months; set "
            "`ignore_backtest = True` to see the results anyway.")
