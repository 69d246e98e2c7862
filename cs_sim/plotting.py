"""Figures. Every function takes ``ax=None`` and returns the matplotlib Axes it drew on.

Nothing here changes global matplotlib state; matplotlib is imported on first use. Axis
ticks show figures as :mod:`cs_sim.format` does (money with thousands separators,
percentages with %), like the tables next to them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cs_sim._forest import FOREST_PANELS, forest_figure, plot_forest
from cs_sim._plots_baseline import (
    health_validation_figure,
    plot_clv_by_segment,
    plot_cohort_heatmap,
    plot_health_bands,
    plot_health_weights,
    plot_mrr_bridge,
    plot_mrr_waterfall,
    segment_kpis_figure,
)
from cs_sim._plots_strategy import plot_journey, plot_maturity_gaps, plot_radar
from cs_sim._segment_plots import (
    attractiveness_figure,
    plot_attractiveness,
    plot_nps_mix,
    plot_segment_bars,
    plot_service_model,
    segment_bar_panels,
    theme_impact_figure,
)
from cs_sim.format import fmt

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.ticker import FuncFormatter

__all__ = ["plot_journey", "plot_mrr_bridge", "plot_radar", "plot_retention", "plot_simulation",
           "plot_tornado"]
# the comparison's forest chart (cs_sim._forest)
__all__ += ["FOREST_PANELS", "forest_figure", "plot_forest"]
# maturity and journey figures (cs_sim._plots_strategy)
__all__ += ["plot_maturity_gaps"]
# KPI-baseline figures (cs_sim._plots_baseline)
__all__ += ["health_validation_figure", "plot_clv_by_segment", "plot_cohort_heatmap",
            "plot_health_bands", "plot_health_weights", "plot_mrr_waterfall",
            "segment_kpis_figure"]
# research and segmentation figures (cs_sim.research, cs_sim.segmentation)
__all__ += ["plot_adoption", "plot_by_segment", "plot_message", "plot_segment_map",
            "plot_segmentation_tradeoffs", "plot_survey_intervals", "plot_themes"]
# segment bars and the other research and segmentation figures (cs_sim._segment_plots)
__all__ += ["attractiveness_figure", "plot_attractiveness", "plot_nps_mix", "plot_segment_bars",
            "plot_service_model", "segment_bar_panels", "theme_impact_figure"]


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


def _input_number(value: float) -> str:
    """A parameter's value with about 3 significant digits (no e-notation)."""
    v = abs(float(value))
    digits = 2 if v == 0 or not np.isfinite(v) else int(min(6, max(0, 2 - np.floor(np.log10(v)))))
    return fmt(value, "number", digits=digits)


def plot_tornado(
    frame: pd.DataFrame,
    *,
    unit: str | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Tornado chart: how far an outcome moves when each parameter goes low or high.

    Parameters
    ----------
    frame : pandas.DataFrame
        One metric's rows of ``SensitivityResult.tornado``: ``parameter``,
        ``low_change`` and ``high_change`` (change of the outcome from the central run
        at the parameter's low and high value) and, for the labels, ``low_input`` and
        ``high_input``.
    unit : str, optional
        Unit of the outcome (:data:`cs_sim.format.UNITS`; default ``"number"``); the
        changes are shown as differences (percentage points for ``pct``).
    title : str, optional
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        One row per parameter, the largest swing on top; each bar is labelled with its
        change and each row with the parameter's low .. high value.
    """
    if "metric" in frame.columns and frame["metric"].nunique() > 1:
        raise ValueError("plot_tornado draws one metric: select its rows first")
    unit = unit or "number"
    digits = 2 if unit == "pct" else None
    rows = frame.assign(_swing=(frame["high_change"] - frame["low_change"]).abs())
    rows = rows.sort_values("_swing", ascending=False, kind="stable")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(9, 1.6 + 0.45 * len(rows)), layout="constrained")
    y = np.arange(len(rows))[::-1]
    low = rows["low_change"].to_numpy(dtype=float)
    high = rows["high_change"].to_numpy(dtype=float)
    ax.barh(y + 0.18, low, height=0.36, color="#6baed6", label="parameter at its low value")
    ax.barh(y - 0.18, high, height=0.36, color="#fd8d3c", label="parameter at its high value")
    ax.axvline(0.0, color="black", linewidth=0.8)
    span = max(float(np.nanmax(np.abs(np.r_[low, high, 0.0]))), 1e-12)
    for yy, values in ((y + 0.18, low), (y - 0.18, high)):
        for yi, v in zip(yy, values, strict=True):
            if np.isfinite(v):
                ax.text(v + (0.02 * span if v >= 0 else -0.02 * span), yi,
                        fmt(v, unit, diff=True, digits=digits), va="center",
                        ha="left" if v >= 0 else "right", fontsize="x-small")
    labels = [str(p) for p in rows["parameter"]]
    if {"low_input", "high_input"} <= set(rows.columns):
        labels = [f"{p}\n{_input_number(a)} .. {_input_number(b)}" for p, a, b in
                  zip(labels, rows["low_input"], rows["high_input"], strict=True)]
    ax.set_yticks(y, labels, fontsize="small")
    ax.set_ylim(-0.7, len(rows) + 0.35)  # headroom above the bars for the legend
    ax.set_xlim(-1.3 * span, 1.3 * span)
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
    ax.xaxis.set_major_formatter(FuncFormatter(
        lambda v, _pos: fmt(v, unit, diff=True, digits=1 if unit == "pct" else None)))
    ax.set_xlabel("change from the central run" + (" (percentage points)" if unit == "pct"
                                                   else ""))
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.legend(loc="upper center", ncols=2, fontsize="small", frameon=False)
    if title:
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------- research
def plot_message(text: str, *, ax: Axes | None = None) -> Axes:
    """An empty chart that says why there is nothing to draw (e.g. a missing table).

    Parameters
    ----------
    text : str
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    import textwrap

    ax = _axes(ax)
    ax.text(0.5, 0.5, textwrap.fill(text, 60), ha="center", va="center", wrap=True)
    ax.set_axis_off()
    return ax


def plot_by_segment(frame: pd.DataFrame, *, x: str, metric: str, unit: str = "number",
                    segment: str = "segment", ax: Axes | None = None) -> Axes:
    """One line per segment of ``metric`` against ``x`` (e.g. usage by month).

    Parameters
    ----------
    frame : pandas.DataFrame
        Long table with columns ``segment``, ``x`` and ``metric``.
    x, metric : str
        Columns for the x and y axes.
    unit : str
        Unit of the y ticks (:data:`cs_sim.format.UNITS`).
    segment : str
        The segment column.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    for seg, group in frame.groupby(segment, sort=True):
        group = group.sort_values(x)
        ax.plot(group[x], group[metric].to_numpy(dtype=float), marker=".", label=str(seg))
    _ticks_in(ax, unit)
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel(metric.replace("_", " "))
    ax.legend(fontsize="small")
    return ax


def plot_adoption(adoption: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Adoption curves: share of seats active by months since signup, one line per segment.

    Parameters
    ----------
    adoption : pandas.DataFrame
        ``ResearchResult.adoption`` (``segment, months_since_signup, seat_utilisation``).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = plot_by_segment(adoption, x="months_since_signup", metric="seat_utilisation",
                         unit="pct", ax=ax)
    ax.set_title("Adoption curves")
    return ax


def plot_survey_intervals(surveys: pd.DataFrame, *, kind: str = "nps",
                          ax: Axes | None = None) -> Axes:
    """A survey score per segment with its confidence interval (points and error bars).

    Parameters
    ----------
    surveys : pandas.DataFrame
        ``ResearchResult.surveys`` (index segment; ``<kind>``, ``<kind>_ci_low``,
        ``<kind>_ci_high``).
    kind : {"nps", "csat", "ces"}
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    mid = surveys[kind].to_numpy(dtype=float)
    lo = mid - surveys[f"{kind}_ci_low"].to_numpy(dtype=float)
    hi = surveys[f"{kind}_ci_high"].to_numpy(dtype=float) - mid
    y = np.arange(len(surveys))
    ax.errorbar(mid, y, xerr=np.vstack([np.nan_to_num(lo), np.nan_to_num(hi)]), fmt="o",
                capsize=4)
    ax.set_yticks(y, [str(s) for s in surveys.index])
    ax.set_xlabel(f"{kind.upper()} with its 95% interval")
    if kind == "nps":
        ax.axvline(0, color="grey", linewidth=0.8, linestyle="--")
    ax.set_title(f"{kind.upper()} by segment")
    return ax


def plot_themes(themes: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Feedback themes as horizontal bars split into promoters, passives and detractors.

    Parameters
    ----------
    themes : pandas.DataFrame
        ``ResearchResult.themes`` (``theme, promoters, passives, detractors``).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Themes with the most mentions at the top.
    """
    ax = _axes(ax)
    data = themes.assign(_n=themes[["promoters", "passives", "detractors"]].sum(axis=1))
    data = data.sort_values("_n", kind="stable")
    y = np.arange(len(data))
    left = np.zeros(len(data))
    for col, colour in (("detractors", "#e31a1c"), ("passives", "#bdbdbd"),
                        ("promoters", "#41ab5d")):
        values = data[col].to_numpy(dtype=float)
        ax.barh(y, values, left=left, color=colour, label=col)
        left = left + values
    ax.set_yticks(y, [str(t).replace("_", " ") for t in data["theme"]])
    ax.xaxis.set_major_formatter(_formatter("count"))
    ax.set_xlabel("comments")
    ax.legend(fontsize="small", loc="lower right")
    ax.set_title("Feedback themes")
    return ax


def _formatter(unit: str) -> FuncFormatter:
    """A tick formatter showing values in ``unit``."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: fmt(v, unit))


# --------------------------------------------------------------------------- segmentation
def plot_segmentation_tradeoffs(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """The variation in churn and NRR each candidate segmentation explains (paired bars).

    Parameters
    ----------
    table : pandas.DataFrame
        ``SegmentationTradeoffs.table`` (``label, churn_explained, nrr_explained,
        eligible``), best first.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Candidates that fail the checks (too small or not significant) are hatched.
    """
    ax = _axes(ax)
    data = table.iloc[::-1]
    y = np.arange(len(data))
    for offset, col, colour, name in ((0.2, "churn_explained", "#e31a1c", "churn"),
                                      (-0.2, "nrr_explained", "#2b8cbe", "NRR")):
        bars = ax.barh(y + offset, data[col].to_numpy(dtype=float), height=0.4, color=colour,
                       label=f"variation in {name} explained")
        for bar, ok in zip(bars, data["eligible"].to_numpy(dtype=bool), strict=True):
            if not ok:
                bar.set_hatch("//")
                bar.set_alpha(0.5)
    ax.set_yticks(y, [str(v) for v in data["label"]])
    ax.xaxis.set_major_formatter(_formatter("pct"))
    ax.legend(fontsize="small", loc="lower right")
    ax.set_title("Segmentation trade-offs (hatched: fails the checks)")
    return ax


def plot_segment_map(attract: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Targeting map: growth (NRR) against risk (logo churn), bubble area = MRR.

    Parameters
    ----------
    attract : pandas.DataFrame
        :func:`cs_sim.segmentation.attractiveness` (index segment; ``growth, risk,
        revenue``).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The most attractive segments sit top left (high growth, low risk).
    """
    ax = _axes(ax)
    data = attract.dropna(subset=["growth", "risk"])
    mrr = data["revenue"].to_numpy(dtype=float)
    size = 2000 * mrr / mrr.max() if len(mrr) and mrr.max() > 0 else 100
    ax.scatter(data["risk"], data["growth"], s=size, alpha=0.5, color="#2b8cbe")
    for seg, row in data.iterrows():
        ax.annotate(str(seg), (row["risk"], row["growth"]), ha="center", va="center",
                    fontsize="small")
    ax.xaxis.set_major_formatter(_formatter("pct"))
    ax.yaxis.set_major_formatter(_formatter("pct"))
    ax.set_xlabel("risk: logo churn")
    ax.set_ylabel("growth: net revenue retention")
    ax.margins(0.2)
    ax.set_title("Segment attractiveness (bubble area = MRR)")
    return ax
