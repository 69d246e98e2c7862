"""The forest chart of a comparison's paired differences (re-exported by :mod:`cs_sim.plotting`).

Like every plot of :mod:`cs_sim.plotting`, :func:`plot_forest` takes ``ax=None`` and
returns its Axes; :func:`forest_figure` builds a figure without pyplot (no global
state), for ``cs-sim compare --out``. Ticks and labels show figures as
:mod:`cs_sim.format` does: money with thousands separators, rates in percentage points.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cs_sim.format import fmt

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["FOREST_PANELS", "forest_figure", "plot_forest"]


#: rows of the forest chart's panels (metrics of a comparison's ``to_frame``)
FOREST_PANELS: dict[str, tuple[str, ...]] = {
    "Money over the horizon": ("revenue", "gross_profit", "total_cost", "profit",
                               "npv_horizon"),
    "Value after the horizon, discounted": ("terminal_value", "npv"),
    "Retention and churn": ("grr_annualised", "nrr_annualised", "annual_logo_churn"),
}


def plot_forest(
    summary: pd.DataFrame,
    *,
    metrics: tuple[str, ...] | list[str] | None = None,
    level: float = 0.9,
    ax: Axes | None = None,
) -> Axes:
    """Forest chart of paired differences: each metric's mean difference and its interval.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``ComparisonResult.to_frame()``: indexed by metric, with ``label``, ``unit``,
        ``diff``, ``ci_lo`` and ``ci_hi`` (the uncertainty of the mean difference).
    metrics : sequence of str, optional
        Rows to draw, all in one unit (default: the money rows of
        :data:`FOREST_PANELS`); rows without a finite difference are left out.
    level : float, default 0.9
        Coverage of the intervals (for the labels).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        One row per metric, top to bottom; its label shows the difference and interval
        in the metric's unit (percentage points for rates, money with separators); the
        x ticks use the same unit and a dashed line marks no difference. Dark rows'
        intervals exclude 0, grey ones do not.
    """
    names = list(metrics) if metrics is not None else list(next(iter(FOREST_PANELS.values())))
    missing = [m for m in names if m not in summary.index]
    if missing:
        raise ValueError(f"metrics not in the summary: {', '.join(missing)}")
    rows = summary.loc[names]
    rows = rows[np.isfinite(rows["diff"].to_numpy(dtype=float))]
    units = sorted(set(rows["unit"]))
    if len(units) > 1:
        raise ValueError(f"plot_forest draws one unit per Axes; these metrics mix {units}: "
                         "draw each unit on its own Axes (see forest_figure)")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(8, 4))
    unit = units[0] if units else "number"
    digits = 2 if unit == "pct" else None
    y = np.arange(len(rows))[::-1]
    mean = rows["diff"].to_numpy(dtype=float)
    lo = np.where(np.isfinite(rows["ci_lo"]), rows["ci_lo"], mean).astype(float)
    hi = np.where(np.isfinite(rows["ci_hi"]), rows["ci_hi"], mean).astype(float)
    # dark: the interval excludes 0 (a clear change); grey: it may be no change
    colours = np.where((lo > 0) | (hi < 0), "#08519c", "#969696")
    ax.hlines(y, lo, hi, colors=colours, linewidth=2.5)
    ax.scatter(mean, y, color=colours, zorder=3, s=36)
    ax.axvline(0.0, color="grey", linewidth=0.8, linestyle="--")
    ci = f"{round(100 * level)}% CI"
    labels = [
        f"{label}\n{fmt(m, unit, diff=True, digits=digits)} "
        f"({ci} {fmt(a, unit, diff=True, digits=digits)} .. "
        f"{fmt(b, unit, diff=True, digits=digits)})"
        for label, m, a, b in zip(rows["label"], mean, lo, hi, strict=True)
    ]
    ax.set_yticks(y, labels, fontsize="small")
    ax.set_ylim(-0.6, len(rows) - 0.4)
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    span = float(np.max(np.abs(np.r_[lo, hi, 0.0])))
    if not span > 0:  # no difference in any row: a readable axis around 0 (1 pp, or 1)
        span = 0.01 if unit == "pct" else 1.0
        ax.set_xlim(-span, span)
    else:
        ax.set_xlim(min(-0.1 * span, 1.15 * float(np.min(np.r_[lo, 0.0]))),
                    max(0.1 * span, 1.15 * float(np.max(np.r_[hi, 0.0]))))
    locator = MaxNLocator(nbins=5)
    ax.xaxis.set_major_locator(locator)
    tick_digits = _tick_digits(locator.tick_values(*ax.get_xlim()), unit)
    ax.xaxis.set_major_formatter(FuncFormatter(
        lambda v, _pos: fmt(0.0 if abs(v) < 1e-12 * span else v, unit, diff=True,
                            digits=tick_digits)))
    ax.set_xlabel("difference: variant - baseline" + (" (percentage points)"
                                                      if unit == "pct" else ""))
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    return ax


def forest_figure(
    summary: pd.DataFrame, *, title: str | None = None, level: float = 0.9
) -> Figure:
    """A figure of :func:`plot_forest` panels: money, then retention and churn.

    Made without pyplot (no global state), ready for ``fig.savefig``; ``cs-sim compare
    --out`` writes it as ``forest.png`` and ``forest.svg``.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``ComparisonResult.to_frame()``.
    title : str, optional
    level : float, default 0.9

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    panels = [(name, [m for m in rows if m in summary.index
                      and np.isfinite(float(summary.loc[m, "diff"]))])
              for name, rows in FOREST_PANELS.items()]
    panels = [(name, rows) for name, rows in panels if rows]
    heights = [max(len(rows), 1) for _, rows in panels] or [1]
    fig = Figure(figsize=(9, 1.1 + 0.62 * sum(heights) + 0.9 * len(heights)),
                 layout="constrained")
    axes = fig.subplots(len(heights), 1, height_ratios=heights, squeeze=False)[:, 0]
    for ax, (name, rows) in zip(axes, panels, strict=False):
        plot_forest(summary, metrics=rows, level=level, ax=ax)
        ax.set_title(name, fontsize="medium", loc="left")
    if title:
        fig.suptitle(f"{title}: mean paired difference and the uncertainty of the mean "
                     f"({round(100 * level)}% CI; dark: excludes 0)", fontsize="medium")
    return fig


def _tick_digits(ticks: np.ndarray, unit: str) -> int | None:
    """Decimals that tell the ticks apart (percentage points for ``pct``)."""
    step = float(np.min(np.diff(ticks))) if len(ticks) > 1 else 0.0
    if unit == "pct":
        step *= 100.0
    if step <= 0 or step >= 1:
        return 0 if unit in ("pct", "money") else None
    return min(4, int(np.ceil(-np.log10(step) - 1e-9)))

