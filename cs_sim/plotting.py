"""Figures. Every function takes ``ax=None`` and returns the matplotlib Axes it drew on.

Nothing here changes global matplotlib state; matplotlib is imported on first use. Axis
ticks show figures as :mod:`cs_sim.format` does (money with thousands separators,
percentages with %), like the tables next to them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cs_sim.format import fmt

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["plot_mrr_bridge", "plot_retention", "plot_simulation"]

_MOVEMENTS = [
    ("new", "#2b8cbe", 1),
    ("expansion", "#41ab5d", 1),
    ("reactivation", "#a1d99b", 1),
    ("contraction", "#fd8d3c", -1),
    ("churned", "#e31a1c", -1),
]


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(8, 4))
    return ax


def _ticks_in(axes: Axes, unit: str) -> None:
    """Label the y ticks of ``axes`` in ``unit`` (one of :data:`cs_sim.format.UNITS`)."""
    from matplotlib.ticker import FuncFormatter

    axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt(v, unit)))


def plot_mrr_bridge(bridge: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Plot the monthly MRR movements as stacked bars and the ending MRR as a line.

    Parameters
    ----------
    bridge : pandas.DataFrame
        Output of :func:`cs_sim.kpis.mrr_bridge` (one row per month, no ``by``).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        Gains are drawn above zero, losses (contraction, churn) below.
    """
    ax = _axes(ax)
    months = pd.to_datetime(bridge["month"]).dt.strftime("%Y-%m").to_numpy()
    x = np.arange(len(months))
    up = np.zeros(len(x))
    down = np.zeros(len(x))
    for column, colour, sign in _MOVEMENTS:
        values = bridge[column].to_numpy(dtype=float)
        base = up if sign > 0 else down
        ax.bar(x, sign * values, bottom=base, color=colour, label=column, width=0.7)
        if sign > 0:
            up = up + values
        else:
            down = down - values
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(x, months, rotation=45, ha="right")
    ax.set_ylabel("MRR movement")
    _ticks_in(ax, "money")
    twin = ax.twinx()
    twin.plot(
        x, bridge["end_mrr"].to_numpy(dtype=float), color="black", marker="o", label="end MRR"
    )
    twin.set_ylabel("ending MRR")
    _ticks_in(twin, "money")
    ax.set_title("MRR bridge")
    ax.legend(loc="upper left", fontsize="small", ncols=3)
    return ax


def plot_retention(
    monthly: pd.DataFrame, *, columns: tuple[str, ...] = ("nrr", "grr"), ax: Axes | None = None
) -> Axes:
    """Plot retention ratios over time, ticks as percentages.

    Parameters
    ----------
    monthly : pandas.DataFrame
        A frame with a ``month`` column and the ratio ``columns`` (fractions, 1.0 = 100%).
    columns : tuple of str
        The ratio columns to draw.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The lines hold the fractions; the ticks show them as percentages.
    """
    ax = _axes(ax)
    months = pd.to_datetime(monthly["month"]).dt.strftime("%Y-%m")
    for column in columns:
        ax.plot(months, monthly[column].to_numpy(dtype=float), marker="o", label=column.upper())
    ax.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
    _ticks_in(ax, "pct")
    ax.set_ylabel("share of starting MRR")
    ax.tick_params(axis="x", rotation=45)
    ax.legend()
    ax.set_title("Revenue retention")
    return ax


def plot_simulation(
    monthly: pd.DataFrame,
    *,
    metric: str = "mrr_end",
    label: str | None = None,
    level: float = 0.9,
    unit: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Fan chart of a simulated monthly metric: the mean and a band across replications.

    Call it once per scenario on the same ``ax`` to compare scenarios.

    Parameters
    ----------
    monthly : pandas.DataFrame
        ``SimulationResult.monthly`` (columns ``replication``, ``month`` and ``metric``;
        ``date`` is used for the x axis when present).
    metric : str
        The column to draw, e.g. ``"mrr_end"``, ``"accounts_end"``, ``"nrr"``.
    label : str, optional
        Legend label of the line.
    level : float
        Central share of replications inside the band (0.9: 5th to 95th percentile).
    unit : str, optional
        Show the y ticks in this unit of :data:`cs_sim.format.UNITS` (``"money"`` for
        MRR, ``"pct"`` for NRR, ``"count"`` for accounts).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if metric not in monthly.columns:
        raise ValueError(f"metric {metric!r} is not a column of the monthly results")
    ax = _axes(ax)
    x_col = "date" if "date" in monthly.columns and monthly["date"].notna().all() else "month"
    wide = monthly.pivot(index=x_col, columns="replication", values=metric).sort_index()
    values = wide.to_numpy(dtype=float)
    tail = (1 - level) / 2
    lo, hi = np.quantile(values, [tail, 1 - tail], axis=1)
    (line,) = ax.plot(wide.index, values.mean(axis=1), label=label)
    ax.fill_between(wide.index, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_ylabel(metric)
    if unit is not None:
        _ticks_in(ax, unit)
    ax.set_xlabel(x_col)
    if label is not None:
        ax.legend()
    return ax
