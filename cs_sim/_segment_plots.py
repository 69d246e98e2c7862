"""Segment bars and the other figures of the research and segmentation notebooks.

Re-exported by :mod:`cs_sim.plotting`. Every ``plot_*`` function takes ``ax=None`` and
returns the Axes it drew on; the ``*_figure`` functions lay several panels out side by
side and return the Figure. Ticks and value labels show figures as :mod:`cs_sim.format`
does (percentages with %, money with thousands separators, never ``1e6``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cs_sim.format import fmt

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["attractiveness_figure", "plot_attractiveness", "plot_nps_mix",
           "plot_segment_bars", "plot_service_model", "segment_bar_panels",
           "theme_impact_figure"]

#: colours of the service tiers (most personal first)
TIER_COLOURS = {"high_touch": "#08519c", "low_touch": "#4292c6", "tech_touch": "#9ecae1"}
#: colours of the attractiveness criteria
CRITERION_COLOURS = {"revenue": "#2b8cbe", "growth": "#41ab5d", "risk": "#fd8d3c",
                     "cost_to_serve": "#984ea3"}
_CRITERION_NAMES = {"revenue": "revenue", "growth": "growth (NRR)",
                    "risk": "low risk (logo churn)", "cost_to_serve": "low cost to serve"}
_BAR = "#2b8cbe"


def _tick(value: float, unit: str) -> str:
    """A tick label: the unit's format with no needless decimals."""
    if not np.isfinite(value):
        return ""
    if unit == "pct":
        whole = abs(100 * value - round(100 * value)) < 1e-9
        return fmt(value, "pct", digits=0 if whole else 1)
    if unit in ("money", "count"):
        return fmt(value, unit)
    whole = abs(value - round(value)) < 1e-9
    return f"{value:,.0f}" if whole else f"{value:,.2f}".rstrip("0").rstrip(".")


def _format_axis(axis: object, unit: str, nbins: int = 5) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins=nbins))  # type: ignore[attr-defined]
    axis.set_major_formatter(FuncFormatter(  # type: ignore[attr-defined]
        lambda v, _pos: _tick(v, unit)))


def _new_axes(ax: Axes | None, rows: int, width: float = 8.0) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(width, 1.4 + 0.5 * max(rows, 1)), layout="constrained")
    return ax


def plot_segment_bars(
    values: pd.Series,
    *,
    unit: str = "number",
    title: str | None = None,
    xlabel: str | None = None,
    reference: float | None = None,
    labels: Sequence[str] | None = None,
    colours: str | Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Horizontal bars, one per segment (the index, first at the top), each labelled.

    Parameters
    ----------
    values : pandas.Series
        One figure per segment; NaN draws no bar and is labelled ``n/a``.
    unit : str, default "number"
        Unit of the figures (:data:`cs_sim.format.UNITS`): value labels and ticks.
    title, xlabel : str, optional
    reference : float, optional
        A value to compare with (e.g. the whole company's), drawn as a dashed line.
    labels : sequence of str, optional
        Text at the end of each bar instead of the formatted value.
    colours : str or sequence of str, optional
        One colour, or one per bar.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axis limits leave room for the value labels, so no bar or label is clipped.
    """
    ax = _new_axes(ax, len(values))
    v = values.to_numpy(dtype=float)
    y = np.arange(len(v))[::-1]
    ax.barh(y, np.nan_to_num(v), height=0.6, color=colours or _BAR)
    finite = v[np.isfinite(v)]
    points = np.r_[finite, 0.0]
    if reference is not None and np.isfinite(reference):
        points = np.r_[points, reference]
    lo, hi = float(points.min()), float(points.max())
    span = (hi - lo) or 1.0
    shown = list(labels) if labels is not None else [fmt(x, unit) for x in v]
    for yi, xi, text in zip(y, v, shown, strict=True):
        x = xi if np.isfinite(xi) else 0.0
        ax.text(x + (0.015 * span if x >= 0 else -0.015 * span), yi, text, va="center",
                ha="left" if x >= 0 else "right", fontsize="small", zorder=5,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.0})
    longest = max((len(t) for t in shown), default=4)
    room = min(0.6, 0.04 + 0.03 * longest) * span
    ax.set_xlim(lo - (room if lo < 0 else 0.0), hi + (room if hi > 0 else 0.02 * span))
    ax.set_ylim(-0.6, len(v) - 0.4)
    ax.set_yticks(y, [str(s) for s in values.index])
    _format_axis(ax.xaxis, unit, nbins=4)
    # ticks only over the data's range: the room for the labels carries none
    ticks = [t for t in ax.get_xticks() if lo - 1e-9 * span <= t <= hi + 1e-9 * span]
    if len(ticks) >= 2:
        ax.set_xticks(ticks)
    if reference is not None and np.isfinite(reference):
        ax.axvline(reference, color="black", linestyle="--", linewidth=0.9)
    ax.axvline(0.0, color="black", linewidth=0.6)
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    if xlabel:
        ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title, fontsize="medium")
    return ax


def segment_bar_panels(
    frame: pd.DataFrame,
    panels: Sequence[tuple[str, str, str]],
    *,
    references: Mapping[str, float] | None = None,
    title: str | None = None,
) -> Figure:
    """Several figures per segment side by side: one panel of bars each.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per segment (the index).
    panels : sequence of (column, title, unit)
        The columns to draw, each with its panel title and unit; columns missing from
        ``frame`` or without any value are left out.
    references : mapping of column to float, optional
        The whole company's figure of a column: a dashed line, and its value in the title.
    title : str, optional
        Title of the figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    panels = [p for p in panels if p[0] in frame.columns and frame[p[0]].notna().any()]
    if not panels:
        raise ValueError("segment_bar_panels: none of the panels' columns has a value")
    n = len(panels)
    fig, axes = plt.subplots(1, n, figsize=(max(3.3 * n, 6.0), 1.5 + 0.5 * len(frame)),
                             sharey=True, layout="constrained", squeeze=False)
    refs = dict(references or {})
    for i, (ax, (column, name, unit)) in enumerate(zip(axes[0], panels, strict=True)):
        ref = refs.get(column)
        ref = float(ref) if ref is not None and np.isfinite(float(ref)) else None
        heading = name if ref is None else f"{name}\n(company: {fmt(ref, unit)})"
        plot_segment_bars(frame[column], unit=unit, title=heading, reference=ref, ax=ax)
        if i:
            ax.tick_params(axis="y", left=False, labelleft=False)
    if title:
        fig.suptitle(title)
    return fig


def plot_nps_mix(distribution: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Detractors, passives and promoters of each segment as one 100% bar each.

    Parameters
    ----------
    distribution : pandas.DataFrame
        ``ResearchResult.survey_distribution``: index (``kind``, ``segment``), columns
        ``"0"`` .. ``"10"`` (share of the answers at each score).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Each segment's label carries its NPS (% promoters - % detractors).
    """
    if "nps" not in distribution.index.get_level_values(0):
        raise ValueError("plot_nps_mix: the distribution has no NPS answers")
    nps = distribution.xs("nps", level=0)
    shares = pd.DataFrame({
        "detractors (0-6)": nps[[str(s) for s in range(0, 7)]].sum(axis=1),
        "passives (7-8)": nps[["7", "8"]].sum(axis=1),
        "promoters (9-10)": nps[["9", "10"]].sum(axis=1),
    })
    ax = _new_axes(ax, len(shares))
    y = np.arange(len(shares))[::-1]
    left = np.zeros(len(shares))
    for (name, col), colour in zip(shares.items(), ("#e31a1c", "#bdbdbd", "#41ab5d"),
                                   strict=True):
        width = col.to_numpy(dtype=float)
        ax.barh(y, width, left=left, height=0.6, color=colour, label=name)
        for yi, x0, w in zip(y, left, width, strict=True):
            if w >= 0.06:
                ax.text(x0 + w / 2, yi, fmt(w, "pct", digits=0), ha="center", va="center",
                        fontsize="small", color="white" if colour != "#bdbdbd" else "black")
        left = left + width
    score = 100 * (shares["promoters (9-10)"] - shares["detractors (0-6)"])
    ax.set_yticks(y, [f"{seg}\nNPS {fmt(s, 'score')}" for seg, s in score.items()])
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, len(shares) - 0.4)
    _format_axis(ax.xaxis, "pct")
    ax.set_xlabel("share of the segment's NPS answers")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=3, frameon=False,
              fontsize="small")
    ax.set_title("Who answers what: detractors, passives and promoters by segment")
    return ax


def plot_attractiveness(parts: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """The attractiveness score of each segment, split into its criteria (stacked bars).

    Parameters
    ----------
    parts : pandas.DataFrame
        :func:`cs_sim.segmentation.attractiveness_parts`: index segment, one column of
        points per criterion (``revenue, growth, risk, cost_to_serve``); a row adds up
        to the segment's score.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The most attractive segment at the top, its score at the end of its bar.
    """
    total = parts.sum(axis=1, min_count=1)
    order = total.sort_values(ascending=False, kind="stable").index
    data = parts.loc[order]
    ax = _new_axes(ax, len(data))
    y = np.arange(len(data))[::-1]
    left = np.zeros(len(data))
    for col in data.columns:
        width = np.nan_to_num(data[col].to_numpy(dtype=float))
        ax.barh(y, width, left=left, height=0.6, color=CRITERION_COLOURS.get(col),
                label=_CRITERION_NAMES.get(col, col))
        left = left + width
    for yi, x, t in zip(y, left, total.loc[order].to_numpy(dtype=float), strict=True):
        ax.text(x + 1.0, yi, f"score {fmt(t, 'score')}", va="center", fontsize="small")
    ax.set_yticks(y, [str(s) for s in data.index])
    ax.set_xlim(0, max(float(np.nanmax(left)) if len(left) else 0.0, 1.0) * 1.25)
    ax.set_ylim(-0.6, len(data) - 0.4)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel("attractiveness score (points out of 100)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=4, frameon=False,
              fontsize="small")
    ax.set_title("What makes each segment attractive")
    return ax


def attractiveness_figure(parts: pd.DataFrame) -> Figure:
    """:func:`plot_attractiveness` on a figure of its own, sized for its segments."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.5, 2.0 + 0.55 * len(parts)), layout="constrained")
    plot_attractiveness(parts, ax=ax)
    return fig


def plot_service_model(service: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """CSMs each segment needs under its service model, bars coloured by tier.

    Parameters
    ----------
    service : pandas.DataFrame
        :func:`cs_sim.segmentation.service_model` (index segment; ``tier, accounts,
        coverage_ratio, csm_headcount``).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Each bar is labelled with its headcount and the accounts one CSM looks after.
    """
    from matplotlib.patches import Patch

    tiers = service["tier"].astype(str)
    labels = [f"{fmt(h, 'number', digits=1)} CSMs ({fmt(c, 'count')} accounts each)"
              for h, c in zip(service["csm_headcount"], service["coverage_ratio"], strict=True)]
    ax = plot_segment_bars(service["csm_headcount"], unit="number", labels=labels,
                           colours=[TIER_COLOURS.get(t, _BAR) for t in tiers],
                           xlabel="CSMs implied (full-time equivalents)", ax=ax)
    shown = [t for t in TIER_COLOURS if t in set(tiers)]
    ax.legend(handles=[Patch(color=TIER_COLOURS[t], label=t.replace("_", "-")) for t in shown],
              loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=3, frameon=False,
              fontsize="small")
    ax.set_title("Service model: the CSM team each segment needs")
    return ax


def theme_impact_figure(themes: pd.DataFrame, *, alpha: float = 0.05) -> Figure:
    """Two panels per feedback theme: the MRR behind its detractor comments and its churn lift.

    Parameters
    ----------
    themes : pandas.DataFrame
        ``ResearchResult.digest`` (ranked: ``priority``) or ``ResearchResult.themes``
        (``theme, detractor_mrr, churn_lift, churn_p_value``).
    alpha : float, default 0.05
        Churn lifts above 1 with a p-value under ``alpha`` are drawn dark red.

    Returns
    -------
    matplotlib.figure.Figure
        Themes in the digest's order (else by detractor MRR), the first at the top; the
        lift panel has a dashed line at 1 (churn like every commenting account).
    """
    import matplotlib.pyplot as plt

    data = themes.sort_values("priority" if "priority" in themes.columns else "detractor_mrr",
                              ascending="priority" in themes.columns, kind="stable")
    data = data.set_index(data["theme"].astype(str).str.replace("_", " "))
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 1.5 + 0.5 * len(data)), sharey=True,
                                      layout="constrained")
    plot_segment_bars(data["detractor_mrr"], unit="money", colours="#e31a1c",
                      title="MRR behind detractor comments",
                      xlabel="MRR (each comment counts its account's MRR)", ax=left)
    lift = data["churn_lift"].to_numpy(dtype=float)
    p = data["churn_p_value"].to_numpy(dtype=float)
    strong = (lift > 1) & (p < alpha)
    labels = [f"{fmt(x, 'ratio')} (p {fmt(q, 'pvalue')})" for x, q in zip(lift, p, strict=True)]
    plot_segment_bars(data["churn_lift"], unit="ratio", labels=labels, reference=1.0,
                      colours=["#99000d" if s else "#fcbba1" for s in strong],
                      title=f"Churn lift (dark: above 1 with p < {alpha:g})",
                      xlabel="churn of accounts raising it / churn of all commenting accounts",
                      ax=right)
    right.tick_params(axis="y", left=False, labelleft=False)
    return fig
