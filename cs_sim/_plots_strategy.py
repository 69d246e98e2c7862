"""Figures of the maturity assessment and the journey map (re-exported by :mod:`cs_sim.plotting`).

:func:`plot_radar` (the maturity profile), :func:`plot_maturity_gaps` (each
dimension's score against what the next stage needs) and :func:`plot_journey` (the
customer-journey map). Every function takes ``ax=None`` and returns the Axes it drew
on; figures are shown as :mod:`cs_sim.format` shows them. Text from the user's data
(owner teams, touchpoint kinds) is drawn as it is, never read as mathtext.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cs_sim.format import fmt

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["plot_journey", "plot_maturity_gaps", "plot_radar"]


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


# ----------------------------------------------------------------------------- maturity
def plot_radar(
    scores: pd.Series,
    *,
    target: pd.Series | None = None,
    target_label: str | None = None,
    needs: pd.Series | None = None,
    needs_label: str | None = None,
    scale: tuple[float, float] = (1, 5),
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Radar (spider) chart of scores by dimension, beside a target and a minimum profile.

    Parameters
    ----------
    scores : pandas.Series
        Score per dimension (the index gives the labels), e.g. the maturity scores.
    target : pandas.Series, optional
        A second profile on the same index (e.g. what the roadmap raises each score
        to), dashed orange. Where it equals ``scores`` everywhere, its legend says so.
    target_label : str, optional
        Legend label of ``target``.
    needs : pandas.Series, optional
        The least each dimension must score (e.g. the next stage's rule), dotted grey.
    needs_label : str, optional
        Legend label of ``needs``.
    scale : (float, float)
        Lowest and highest score; the rings are drawn at each whole number.
    title : str, optional
    ax : matplotlib.axes.Axes, optional
        A polar Axes (``fig.add_subplot(projection="polar")``); a new figure is created
        when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        Lines in this order: scores, target (if given), needs (if given); each score is
        written next to its point.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7.5, 7.5), subplot_kw={"projection": "polar"})
    elif ax.name != "polar":
        raise ValueError("plot_radar needs a polar Axes: fig.add_subplot(projection='polar')")
    values = scores.to_numpy(dtype=float)
    angles = np.linspace(0.0, 2.0 * np.pi, len(values), endpoint=False)
    loop = np.append(angles, angles[0])
    ax.set_theta_offset(np.pi / 2)
    ax.set_theta_direction(-1)
    ax.plot(loop, np.append(values, values[0]), color="#2b8cbe", marker="o", label="score")
    ax.fill(loop, np.append(values, values[0]), color="#2b8cbe", alpha=0.25)
    if target is not None:
        t = target.reindex(scores.index).to_numpy(dtype=float)
        label = target_label or "target"
        if np.allclose(t, values, equal_nan=True):
            label += " = the scores (no score to raise)"
        ax.plot(loop, np.append(t, t[0]), color="#e6550d", linestyle="--", marker=".",
                label=label)
    if needs is not None:
        need = needs.reindex(scores.index).to_numpy(dtype=float)
        ax.plot(loop, np.append(need, need[0]), color="#636363", linestyle=":", linewidth=1.5,
                label=needs_label or "minimum")
    for a, v in zip(angles, values, strict=True):
        ax.annotate(fmt(v, "score"), (a, v), xytext=(0, 7), textcoords="offset points",
                    ha="center", fontsize=8, color="#08519c")
    ax.set_xticks(angles, [_wrap(label, 16) for label in scores.index], fontsize=9)
    ax.tick_params(axis="x", pad=14)
    lo, hi = scale
    ax.set_ylim(0, hi)
    ax.set_yticks(np.arange(lo, hi + 1), [f"{v:g}" for v in np.arange(lo, hi + 1)],
                  fontsize=8, color="grey")
    if title:
        ax.set_title(title, pad=24)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncols=1, frameon=False,
              fontsize="small")
    return ax


def plot_maturity_gaps(scores: pd.DataFrame, *, next_stage: str | None = None,
                       scale: tuple[float, float] = (1, 5), ax: Axes | None = None) -> Axes:
    """Each dimension's score against what the next stage needs: where the gaps are.

    Parameters
    ----------
    scores : pandas.DataFrame
        ``MaturityAssessment.scores`` (``label, score, next_stage_needs, target``).
    next_stage : str, optional
        Named in the title and legend.
    scale : (float, float)
        Lowest and highest score.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One bar per dimension (red where it is below the next stage's minimum, blue
        where it meets it), a black tick at the minimum, an orange diamond at the
        roadmap's target where that is higher than the score; the gap is written at
        the end of each red bar.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(8, 1.4 + 0.45 * len(scores)))
    y = np.arange(len(scores))[::-1]
    s = scores["score"].to_numpy(dtype=float)
    need = scores["next_stage_needs"].to_numpy(dtype=float)
    target = scores["target"].to_numpy(dtype=float)
    short = np.isfinite(need) & (s < need - 1e-9)
    ax.barh(y, s, color=np.where(short, "#e31a1c", "#2b8cbe"), height=0.6)
    stage = next_stage or "next stage"
    if np.isfinite(need).any():
        ax.scatter(need, y, marker="|", s=400, color="black", zorder=3,
                   label=f"least the {stage} stage needs")
    raised = np.isfinite(target) & (target > s + 1e-9)
    if raised.any():
        ax.scatter(target[raised], y[raised], marker="D", s=30, color="#e6550d", zorder=4,
                   label="roadmap target")
    for yi, v, n, gap in zip(y, s, need, short, strict=True):
        text = fmt(v, "score") + (f"  (gap {fmt(v - n, 'score', diff=True)})" if gap else "")
        ax.text(scale[1] + 0.05, yi, text, va="center", fontsize="small",
                color="#e31a1c" if gap else "black")
    ax.set_xlim(0, scale[1] + 1.1)
    ax.set_xticks(np.arange(scale[0], scale[1] + 1))
    ax.set_yticks(y, [str(v) for v in scores["label"]])
    ax.axvline(scale[1], color="#d9d9d9", linewidth=0.8)
    ax.set_xlabel(f"score ({scale[0]:g} to {scale[1]:g}; mean of the dimension's answers)")
    title = f"Gaps to the {stage} stage" if next_stage else "Scores by dimension"
    if next_stage and not short.any():
        title += ": no dimension falls short of its minimum"
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=2, frameon=False,
                  fontsize="small")
    return ax


# ------------------------------------------------------------------------------ journey
_STATUS_COLOURS = {"computed": "#2b8cbe", "partial": "#74a9cf", "not available": "#bdbdbd",
                   "no data": "#bdbdbd"}
_OUTCOMES = (("converted", "#41ab5d"), ("dropped", "#e31a1c"), ("in_progress", "#bdbdbd"))


def plot_journey(stages: pd.DataFrame, metrics: pd.DataFrame | None = None, *,
                 ax: Axes | None = None) -> Axes:
    """The customer-journey map: one column per stage, left to right.

    Each column shows the stage and its owner team (the box; grey when the stage could
    not be computed), how many accounts entered it, its conversion, drop-off, time in
    stage and NPS, a bar of its episodes' outcomes (converted, dropped, still in
    progress), its touchpoints and, below, the stage's own metrics. An arrow between two
    stages is red where the owner team changes (a hand-off), grey where it does not.
    Row labels on the left name each band of the map.

    Parameters
    ----------
    stages : pandas.DataFrame
        ``JourneyMap.stages`` (index stage; ``label, owner_team, status, touchpoints,
        entered, converted, dropped, in_progress, conversion_rate, drop_off_rate,
        median_months, nps, nps_responses, needs``).
    metrics : pandas.DataFrame, optional
        ``JourneyMap.metrics_shown()`` (``stage, label, value`` as text; ``short``).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(16, 6.6))
    n = len(stages)
    ax.set_xlim(-0.62, n)
    ax.set_ylim(1.2, 10.05)
    ax.axis("off")
    rows = ((9.1, "stage\nand owner"), (7.4, "accounts"), (6.05, "outcome of\nepisodes"),
            (5.0, "touch-\npoints"), (3.0, "stage\nmetrics"))
    for yy, text in rows:
        ax.text(-0.58, yy, text, ha="left", va="center", fontsize=8.5, color="#636363",
                style="italic")
    for i, (stage, row) in enumerate(stages.iterrows()):
        status = str(row["status"])
        colour = _STATUS_COLOURS.get(status, "#2b8cbe")
        ax.add_patch(FancyBboxPatch((i + 0.05, 8.35), 0.9, 1.55, boxstyle="round,pad=0.02",
                                    facecolor=colour, edgecolor="none"))
        ax.text(i + 0.5, 9.4, _wrap(row["label"], 14), ha="center", va="center",
                color="white", fontsize=11, fontweight="bold")
        ax.text(i + 0.5, 8.7, _wrap(f"owner: {row['owner_team']}", 22), ha="center",
                va="center", color="white", fontsize=8.5, parse_math=False)
        computed = status not in ("not available", "no data")
        if status == "not available":
            lines = [_wrap(f"needs {row['needs'].split(', ')[-1]}", 22)]
        elif status == "no data":
            lines = ["no touchpoints", "of this kind"]
        else:
            lines = [f"entered {fmt(row['entered'], 'count')}",
                     f"converted {fmt(row['conversion_rate'], 'pct')}",
                     f"drop-off {fmt(row['drop_off_rate'], 'pct')}"]
            if row["median_months"] == row["median_months"]:  # not NaN
                lines.append(f"{fmt(row['median_months'], 'months')} in stage")
            if row["nps_responses"]:
                lines.append(f"NPS {fmt(row['nps'], 'score')} "
                             f"(n={fmt(row['nps_responses'], 'count')})")
        ax.text(i + 0.5, 8.15, "\n".join(lines), ha="center", va="top", fontsize=8.5,
                linespacing=1.35)
        entered = float(row.get("entered", 0) or 0)
        if computed and entered > 0:
            left = i + 0.1
            for col, c in _OUTCOMES:
                width = 0.8 * float(row.get(col, 0) or 0) / entered
                ax.add_patch(Rectangle((left, 5.9), width, 0.3, facecolor=c, edgecolor="none"))
                left += width
            ax.add_patch(Rectangle((i + 0.1, 5.9), 0.8, 0.3, facecolor="none",
                                   edgecolor="#969696", linewidth=0.6))
        if row["touchpoints"]:
            ax.text(i + 0.5, 5.55, _wrap(row["touchpoints"], 24), ha="center", va="top",
                    fontsize=8.5, color="#444444", parse_math=False)
        if metrics is not None:
            mine = metrics[metrics["stage"] == stage].head(4)
            text = "\n".join(_wrap(f"{getattr(m, 'short', m.label)}: {m.value}", 24)
                             for m in mine.itertuples())
            ax.text(i + 0.5, 3.85, text, ha="center", va="top", fontsize=8.5,
                    color="#08306b", linespacing=1.3)
        if i + 1 < n:
            change = stages["owner_team"].iloc[i + 1] != row["owner_team"]
            ax.add_patch(FancyArrowPatch((i + 0.93, 9.1), (i + 1.07, 9.1),
                                         arrowstyle="-|>", mutation_scale=14,
                                         color="#e31a1c" if change else "#636363"))
    ax.plot([-0.6, n - 0.02], [4.1, 4.1], color="#d9d9d9", linewidth=0.8)
    ax.text(n - 0.02, 1.25, "outcome bar: green converted, red dropped, grey still in "
            "progress (share of accounts entered)", ha="right", va="bottom", fontsize=8,
            color="#636363")
    ax.set_title("Customer journey map (red arrow: hand-off to another team; grey: same "
                 "team)", fontsize=12)
    return ax
