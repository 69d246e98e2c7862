"""Figures of the KPI baseline (re-exported by :mod:`cs_sim.plotting`).

The MRR bridge (monthly movements and the window's waterfall), the cohort heatmap,
KPIs by segment, model-based CLV by segment and the health-score validation. Like
every plot of :mod:`cs_sim.plotting`, each ``plot_*`` takes ``ax=None`` and returns its
Axes; the ``*_figure`` functions build a pyplot figure of several panels and return it
(in a notebook, end the cell with ``;`` so that it is shown once). Ticks and labels show
figures as :mod:`cs_sim.format` does: money with thousands separators (never a ``1e6``
offset), rates as percentages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cs_sim.format import fmt

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["health_validation_figure", "plot_clv_by_segment", "plot_cohort_heatmap",
           "plot_health_bands", "plot_health_weights", "plot_mrr_bridge",
           "plot_mrr_waterfall", "segment_kpis_figure"]

#: the bridge's movements: column, colour, sign (gains above zero, losses below)
MOVEMENTS = [
    ("new", "#2b8cbe", 1),
    ("expansion", "#41ab5d", 1),
    ("reactivation", "#a1d99b", 1),
    ("contraction", "#fd8d3c", -1),
    ("churned", "#e31a1c", -1),
]
_TOTAL = "#6c7a89"


def _axes(ax: Axes | None, size: tuple[float, float] = (8, 4)) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=size)
    return ax


def _ticks(axis: Any, unit: str, *, diff: bool = False, digits: int | None = None) -> None:
    """Label the ticks of ``axis`` (``ax.xaxis`` or ``ax.yaxis``) in ``unit``."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _p: fmt(v, unit, diff=diff,
                                                             digits=digits)))


def _money_label(text: str, currency: str | None) -> str:
    return f"{text} ({currency})" if currency else text


def _thin_labels(ax: Axes, labels: Sequence[str], *, most: int = 18) -> None:
    """Month labels on the x axis, every k-th one when there are many."""
    x = np.arange(len(labels))
    step = max(1, int(np.ceil(len(labels) / most)))
    ax.set_xticks(x[::step], [labels[i] for i in x[::step]], rotation=45, ha="right")


# --------------------------------------------------------------------------- MRR bridge
def plot_mrr_bridge(bridge: pd.DataFrame, *, currency: str | None = None,
                    ax: Axes | None = None) -> Axes:
    """Monthly MRR movements as stacked bars (gains up, losses down) and the net change.

    Parameters
    ----------
    bridge : pandas.DataFrame
        Output of :func:`cs_sim.kpis.mrr_bridge` (one row per month, no ``by``).
    currency : str, optional
        Named in the axis label.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        One bar per movement and month (new, expansion, reactivation above zero;
        contraction and churned below), a black marker for each month's net change;
        the limits leave room above the tallest and below the deepest bar, and the
        legend sits outside the plot, to the right.
    """
    ax = _axes(ax, (9, 4.5))
    months = pd.to_datetime(bridge["month"]).dt.strftime("%Y-%m").tolist()
    x = np.arange(len(months))
    up = np.zeros(len(x))
    down = np.zeros(len(x))
    for column, colour, sign in MOVEMENTS:
        values = bridge[column].to_numpy(dtype=float)
        base = up if sign > 0 else down
        ax.bar(x, sign * values, bottom=base, color=colour, label=column, width=0.7)
        if sign > 0:
            up = up + values
        else:
            down = down - values
    net = up + down
    ax.plot(x, net, color="black", marker="D", markersize=4, linewidth=1,
            label="net change")
    ax.axhline(0, color="black", linewidth=0.8)
    top, bottom = max(float(up.max(initial=0.0)), 0.0), min(float(down.min(initial=0.0)), 0.0)
    pad = 0.12 * max(top - bottom, 1.0)
    ax.set_ylim(bottom - pad, top + pad)
    ax.set_xlim(-0.6, len(x) - 0.4)
    _thin_labels(ax, months)
    ax.set_ylabel(_money_label("MRR movement in the month", currency))
    _ticks(ax.yaxis, "money")
    ax.grid(axis="y", color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_title("MRR bridge: where revenue moved each month")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return ax


def plot_mrr_waterfall(bridge: pd.DataFrame, *, currency: str | None = None,
                       ax: Axes | None = None) -> Axes:
    """The window's MRR bridge as a waterfall: opening MRR, each movement, ending MRR.

    Parameters
    ----------
    bridge : pandas.DataFrame
        Output of :func:`cs_sim.kpis.mrr_bridge` over the window's months (e.g.
        ``KpiBaseline.bridge``).
    currency : str, optional
        Named in the axis label.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        Seven bars: the opening MRR (``start_mrr`` of the first month), the window's
        new, expansion, reactivation (up), contraction and churned (down) MRR as
        floating bars, and the ending MRR (``end_mrr`` of the last month); each is
        labelled with its amount. The y axis is zoomed on the movements, so it does not
        start at zero (the label says where it starts).
    """
    ax = _axes(ax, (9, 4.5))
    start = float(bridge["start_mrr"].iloc[0])
    end = float(bridge["end_mrr"].iloc[-1])
    names, lows, heights, colours, texts = ["opening MRR"], [0.0], [start], [_TOTAL], [
        fmt(start, "money")]
    level = start
    for column, colour, sign in MOVEMENTS:
        value = float(bridge[column].sum())
        low = level if sign > 0 else level - value
        names.append(column)
        lows.append(low)
        heights.append(value)
        colours.append(colour)
        texts.append(fmt(sign * value, "money", diff=True))
        level += sign * value
    names.append("ending MRR")
    lows.append(0.0)
    heights.append(end)
    colours.append(_TOTAL)
    texts.append(fmt(end, "money"))
    x = np.arange(len(names))
    ax.bar(x, heights, bottom=lows, color=colours, width=0.65)
    tops = np.asarray(lows) + np.asarray(heights)
    for i in range(len(x) - 1):  # connectors at the running level
        ax.plot([x[i] + 0.33, x[i + 1] - 0.33], [tops[i] if i == 0 or MOVEMENTS[i - 1][2] > 0
                                                  else lows[i]] * 2,
                color="#999999", linewidth=0.8)
    moves = np.asarray(heights[1:-1])
    span = max(float(moves.sum()), 1.0)
    levels = np.r_[start, end, tops[1:-1], np.asarray(lows[1:-1])]
    lo = max(0.0, float(levels.min()) - 0.5 * span)
    if lo > 0:  # a round number, so that the zoom reads at a glance
        unit = 10.0 ** np.floor(np.log10(span))
        lo = float(np.floor(lo / unit) * unit)
    hi = float(levels.max()) + 0.35 * span
    ax.set_ylim(lo, hi)
    for xi, top, text in zip(x, tops, texts, strict=True):
        ax.text(xi, top + 0.04 * (hi - lo), text, ha="center", va="bottom", fontsize="small")
    ax.set_xticks(x, names)
    _ticks(ax.yaxis, "money")
    ax.set_ylabel(_money_label("MRR", currency))
    ax.grid(axis="y", color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    first = pd.Timestamp(bridge["month"].iloc[0]).strftime("%Y-%m")
    last = pd.Timestamp(bridge["month"].iloc[-1]).strftime("%Y-%m")
    ax.set_title(f"MRR waterfall, {first} .. {last} (y axis starts at {fmt(lo, 'money')})")
    return ax


# ------------------------------------------------------------------------------ cohorts
def plot_cohort_heatmap(table: pd.DataFrame, *, step: int = 1, freq: str = "M",
                        title: str | None = None, ax: Axes | None = None) -> Axes:
    """Cohort retention as a heatmap with each cell's percentage written in it.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`cs_sim.kpis.cohort_retention` (index cohort, columns months since start,
        fractions).
    step : int, default 1
        Draw every ``step``-th column (3: months 0, 3, 6, ...), so that the cells stay
        large enough to read.
    freq : {"M", "Q"}, default "M"
        How the cohorts are labelled: ``2025-01`` (monthly) or ``2025-Q1`` (quarterly).
    title : str, optional
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure sized to the table is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        Rows are cohorts (oldest on top), columns months since the cohort's start;
        empty cells are months after the end of the data.
    """
    cols = [c for c in table.columns[::max(1, int(step))] if table[c].notna().any()]
    data = table[cols].to_numpy(dtype=float)
    labels = [pd.Timestamp(c).to_period("Q").strftime("%Y-Q%q") if freq == "Q"
              else pd.Timestamp(c).strftime("%Y-%m") for c in table.index]
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(max(6.0, 0.62 * len(cols) + 2.2),
                                      max(3.0, 0.38 * len(labels) + 1.6)))
    low = float(np.nanmin(data)) if np.isfinite(data).any() else 0.0
    vmin = max(0.0, np.floor(10 * min(low, 0.9)) / 10 - 0.1)  # colours spread over the data
    image = ax.imshow(np.ma.masked_invalid(data), cmap="YlGnBu", vmin=vmin, vmax=1.0,
                      aspect="auto", interpolation="nearest")
    size = "small" if len(cols) <= 14 else "x-small"
    for (i, j), v in np.ndenumerate(data):
        if np.isfinite(v):
            ax.text(j, i, fmt(v, "pct", digits=0), ha="center", va="center", fontsize=size,
                    color="white" if (v - vmin) / (1.0 - vmin) > 0.6 else "black")
    ax.set_xticks(np.arange(len(cols)), [str(c) for c in cols])
    ax.set_yticks(np.arange(len(labels)), labels)
    ax.set_xlabel("months since the cohort's first month")
    ax.set_ylabel("cohort (first paid " + ("quarter)" if freq == "Q" else "month)"))
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    colourbar = ax.figure.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    _ticks(colourbar.ax.yaxis, "pct", digits=0)
    colourbar.set_label("share of the cohort still paying")
    ax.set_title(title or "Cohort retention")
    return ax


# ----------------------------------------------------------------------------- segments
def segment_kpis_figure(headline: pd.DataFrame,
                        kpis: Sequence[str] = ("nrr", "grr", "logo_churn_rate")) -> Figure:
    """KPIs of a baseline by segment, one panel of bars per KPI, the company's as a line.

    Parameters
    ----------
    headline : pandas.DataFrame
        ``KpiBaseline.headline`` of a baseline computed ``by`` a segment column (index
        KPI; ``label``, ``unit``, ``all`` and one column per segment).
    kpis : sequence of str
        Rows of ``headline`` to draw (default NRR, GRR and logo churn of the window).

    Returns
    -------
    matplotlib.figure.Figure
        :func:`cs_sim.plotting.segment_bar_panels` of the segments' figures, each bar
        labelled in the KPI's unit; the dashed line and the panel title give the whole
        company's figure.
    """
    from cs_sim._segment_plots import segment_bar_panels

    missing = [k for k in kpis if k not in headline.index]
    if missing:
        raise ValueError(f"KPIs not in the headline: {', '.join(missing)}")
    segs = [c for c in headline.columns if c not in ("label", "unit", "all")]
    if not segs:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(8, 1.0))
        fig.text(0.5, 0.5, "No segments: the baseline covers the whole company (set `by` to "
                 "an accounts column to compare segments).", ha="center", va="center")
        return fig
    frame = headline.loc[list(kpis), segs].T.astype(float)
    panels = [(k, str(headline.loc[k, "label"]), str(headline.loc[k, "unit"])) for k in kpis]
    return segment_bar_panels(frame, panels,
                              references={k: float(headline.loc[k, "all"]) for k in kpis})


# ----------------------------------------------------------------------------------- CLV
def plot_clv_by_segment(clv: Any, *, currency: str | None = None,
                        ax: Axes | None = None) -> Axes:
    """Model-based CLV of a new customer per segment, with its confidence interval.

    Parameters
    ----------
    clv : cs_sim.models.clv.ClvBySegment or cs_sim.calibration.Unavailable
        :func:`cs_sim.models.clv_by_segment` (its ``table``: ``clv, clv_lower,
        clv_upper``); an ``Unavailable`` draws why there is no fit.
    currency : str, optional
        Named in the axis label.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One bar per segment with its 95% interval, labelled with the CLV.
    """
    if not hasattr(clv, "table"):
        return clv.plot(ax=ax)
    t = clv.table
    ax = _axes(ax, (8, 1.4 + 0.55 * max(len(t), 2)))
    y = np.arange(len(t))[::-1]
    mid = t["clv"].to_numpy(dtype=float)
    lo, hi = t["clv_lower"].to_numpy(dtype=float), t["clv_upper"].to_numpy(dtype=float)
    positive = mid[np.isfinite(mid) & (mid > 0)]
    log = len(positive) > 1 and positive.max() / positive.min() > 30
    ax.barh(y, mid, color="#41ab5d", height=0.6,
            xerr=np.vstack([mid - lo, hi - mid]), capsize=4, ecolor="black")
    top = float(np.nanmax(hi)) if len(hi) else 1.0
    for yi, m, a, b in zip(y, mid, lo, hi, strict=True):
        ax.text(b * 1.08 if log else b + 0.02 * top, yi,
                f"{fmt(m, 'money')}\n({fmt(a, 'money')} to {fmt(b, 'money')})",
                va="center", fontsize="x-small")
    if log:
        ax.set_xscale("log")
        ax.set_xlim(float(np.nanmin(lo[lo > 0])) / 3, top * 12)
    else:
        ax.set_xlim(0, top * 1.35)
    ax.set_yticks(y, [str(s) for s in t.index])
    _ticks(ax.xaxis, "money")
    ax.set_xlabel(_money_label("CLV of a new customer (sBG model, discounted; bars: 95% "
                               "interval" + ("; log scale" if log else "") + ")", currency))
    ax.set_title("Model-based lifetime value by segment")
    return ax


# -------------------------------------------------------------------- health validation
def plot_health_bands(validation: Any, *, ax: Axes | None = None) -> Axes:
    """Observed churn by band of the configured health score (test months).

    Parameters
    ----------
    validation : cs_sim.models.health.HealthValidation
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One bar per band (red, yellow, green) labelled with its churn rate and the
        account-months behind it; a score that works shows churn falling from red to
        green.
    """
    ax = _axes(ax, (5, 3.5))
    bands = validation.calibration.get("bands")
    if bands is None or bands.empty:
        ax.text(0.5, 0.5, "no churn by band: too little churn to validate", ha="center",
                va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    colours = {"red": "#e31a1c", "yellow": "#fec44f", "green": "#41ab5d"}
    x = np.arange(len(bands))
    rate = bands["churn_rate"].to_numpy(dtype=float)
    ax.bar(x, np.nan_to_num(rate), color=[colours.get(str(b), "#2b8cbe")
                                          for b in bands["band"]], width=0.6)
    top = float(np.nanmax(rate)) if np.isfinite(rate).any() else 0.0
    for xi, r, n in zip(x, rate, bands["rows"], strict=True):
        ax.text(xi, (r if np.isfinite(r) else 0.0) + 0.03 * max(top, 1e-9),
                f"{fmt(r, 'pct')}\n({fmt(n, 'count')})", ha="center", va="bottom",
                fontsize="small")
    ax.set_ylim(0, max(top, 1e-9) * 1.35)
    ax.set_xticks(x, [str(b) for b in bands["band"]])
    _ticks(ax.yaxis, "pct")
    horizon = validation.split.get("horizon", 1)
    ax.set_ylabel(f"churned within {horizon} month{'s' if horizon != 1 else ''}")
    ax.set_title("Churn by health band (test months;\nin brackets: account-months)",
                 fontsize="medium")
    return ax


def plot_health_weights(validation: Any, *, ax: Axes | None = None) -> Axes:
    """The health score's configured weights beside the weights fitted on churn.

    Parameters
    ----------
    validation : cs_sim.models.health.HealthValidation
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Paired bars per component; a component whose fitted weight is 0 works the wrong
        way round (or not at all) in these data.
    """
    ax = _axes(ax, (5, 3.5))
    w = validation.weights
    if w.empty:
        ax.text(0.5, 0.5, "weights not fitted: too little churn", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    y = np.arange(len(w))[::-1]
    ax.barh(y + 0.2, w["configured_weight"].to_numpy(dtype=float), height=0.4,
            color="#9ecae1", label="configured")
    ax.barh(y - 0.2, w["fitted_weight"].to_numpy(dtype=float), height=0.4,
            color="#08519c", label="fitted on churn")
    ax.set_yticks(y, [f"{c}\n({d})" for c, d in zip(w.index, w["direction"], strict=True)],
                  fontsize="small")
    _ticks(ax.xaxis, "pct", digits=0)
    ax.set_xlim(0, max(1e-9, float(np.nanmax(w[["configured_weight", "fitted_weight"]]
                                             .to_numpy(dtype=float)))) * 1.15)
    ax.set_xlabel("weight in the score")
    ax.legend(loc="lower right", fontsize="x-small")
    ax.set_title("Weights: configured vs fitted", fontsize="medium")
    return ax


def health_validation_figure(validation: Any) -> Figure:
    """The health-score validation in three panels: ROC curves, churn by band, weights.

    Parameters
    ----------
    validation : HealthValidation, Unavailable or None
        :func:`cs_sim.models.validate_health_score`; with too little churn, an
        ``Unavailable`` (:func:`cs_sim.calibration.when_possible`) or None (not
        validated) the figure says so instead.

    Returns
    -------
    matplotlib.figure.Figure
        A pyplot figure (shown by a notebook at the end of the cell).
    """
    import matplotlib.pyplot as plt

    if not getattr(validation, "enough_data", False):
        import textwrap

        fig = plt.figure(figsize=(9, 1.6))
        ax = fig.add_subplot()
        text = (getattr(validation, "verdict", None)
                or getattr(validation, "to_text", lambda: "")()
                or "The health score was not validated against churn.")
        ax.text(0.5, 0.5, textwrap.fill(str(text), 110), ha="center", va="center",
                fontsize="small", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    fig = plt.figure(figsize=(15, 4.4), layout="constrained")
    roc, bands, weights = fig.subplots(1, 3, width_ratios=[1.0, 0.9, 1.1])
    validation.plot(ax=roc)
    roc.set_aspect("equal")
    _ticks(roc.xaxis, "pct", digits=0)
    _ticks(roc.yaxis, "pct", digits=0)
    roc.set_title("Does the score rank churners first? (ROC)", fontsize="medium")
    roc.legend(loc="lower right", fontsize="x-small")
    plot_health_bands(validation, ax=bands)
    plot_health_weights(validation, ax=weights)
    return fig
