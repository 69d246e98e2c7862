"""What the what-if panel shows of a comparison: figures as PNG, tables and text as HTML.

Everything here is a pure function of a :class:`~cs_sim.sim.results.ComparisonResult`,
run on the panel's worker thread. Figures are made without pyplot (no global state,
safe off the main thread) through :mod:`cs_sim.plotting`; figures and words go through
:mod:`cs_sim.format`; text is HTML-escaped (scenario and play names are the user's).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cs_sim.format import Table, fmt, percent
from cs_sim.widgets.changes import scenario_changes

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from cs_sim.sim.results import ComparisonResult

__all__ = ["PANEL_FOREST", "Rendered", "decision_html", "fan_png", "forest_png", "render",
           "tier_table"]

#: the panels of the forest chart: title -> metrics (each panel one unit)
PANEL_FOREST: dict[str, tuple[str, ...]] = {
    "Profit and NPV (horizon; NPV with the value after it)": (
        "total_cost", "profit", "npv_horizon", "npv"),
    "Customer lifetime value": ("clv",),
    "Retention and churn (annualised)": ("grr_annualised", "nrr_annualised",
                                         "annual_logo_churn"),
}
#: rows of the per-tier table: metric -> (label, unit)
TIER_ROWS: dict[str, tuple[str, str]] = {
    "headcount": ("CSMs", "count"),
    "csm_utilisation": ("Utilisation", "pct"),
    "mean_wait_months": ("Wait for a CSM", "months"),
    "plays_dropped": ("Plays dropped", "count"),
    "accounts_per_csm": ("Accounts per CSM", "number"),
}
#: dots per inch of the panel's PNG figures
DPI = 90


@dataclass(frozen=True)
class Rendered:
    """What the view draws of one comparison.

    Attributes
    ----------
    forest, fan : bytes
        PNG images: the forest chart of the differences, the MRR fan chart of both runs.
    tiers : str
        HTML table: per tier, baseline and variant CSMs, utilisation, waits, drops.
    decision : str
        HTML: the decision in words, the probability the variant is better, the notes
        on changes that cannot act.
    headline : str
        One line of text: the variant's profit and NRR difference (plain text).
    """

    forest: bytes
    fan: bytes
    tiers: str
    decision: str
    headline: str


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def forest_png(cmp: ComparisonResult, *, level: float = 0.9) -> bytes:
    """The forest chart of :data:`PANEL_FOREST` (mean paired differences, t-intervals).

    Parameters
    ----------
    cmp : ComparisonResult
    level : float, default 0.9

    Returns
    -------
    bytes
        A PNG image.
    """
    from matplotlib.figure import Figure

    from cs_sim.plotting import plot_forest

    frame = cmp.to_frame(level=level)
    if not scenario_changes(cmp.baseline.scenario, cmp.variant.scenario):
        from cs_sim.plotting import plot_message

        fig = Figure(figsize=(7.2, 1.6), layout="constrained")
        plot_message("The variant runs exactly as the baseline: move a control to see the "
                     "difference.", ax=fig.subplots())
        return _png(fig)
    cells = frame[["diff", "ci_lo", "ci_hi"]].to_numpy(dtype=float)
    drawn = {m for m, row in zip(frame.index, cells, strict=True)
             if np.isfinite(row[0]) and np.any(np.nan_to_num(row) != 0)}
    panels = [(title, [m for m in rows if m in drawn]) for title, rows in PANEL_FOREST.items()]
    panels = [(title, rows) for title, rows in panels if rows]
    same = [str(frame.loc[m, "label"]) for rows in PANEL_FOREST.values() for m in rows
            if m not in drawn and np.isfinite(float(frame.loc[m, "diff"]))]
    heights = [len(rows) for _, rows in panels] or [1]
    fig = Figure(figsize=(7.2, 1.0 + 0.5 * sum(heights) + 0.7 * len(heights)
                          + (0.3 if same else 0.0)), layout="constrained")
    axes = fig.subplots(len(heights), 1, height_ratios=heights, squeeze=False)[:, 0]
    for ax, (title, rows) in zip(axes, panels, strict=False):
        plot_forest(frame, metrics=rows, level=level, ax=ax)
        ax.tick_params(axis="x", labelsize="small")
        ax.set_title(title, fontsize="medium", loc="left")
    fig.suptitle(f"Variant - baseline: mean difference and its {percent(level, digits=0)} "
                 "CI (dark: excludes 0)", fontsize="medium")
    if same:  # exactly equal in every replication: no row to draw
        fig.supxlabel("No difference in any replication: " + ", ".join(same),
                      fontsize="small", wrap=True)
    return _png(fig)


def fan_png(cmp: ComparisonResult, *, level: float = 0.9) -> bytes:
    """The MRR fan chart of both runs: each mean and its range of outcomes.

    Returns
    -------
    bytes
        A PNG image.
    """
    from matplotlib.figure import Figure

    from cs_sim.plotting import plot_simulation

    fig = Figure(figsize=(7.2, 3.4), layout="constrained")
    ax = fig.subplots()
    plot_simulation(cmp.baseline.monthly, label=f"baseline: {cmp.baseline.scenario.name}",
                    level=level, unit="money", ax=ax)
    plot_simulation(cmp.variant.monthly, label=f"variant: {cmp.variant.scenario.name}",
                    level=level, unit="money", ax=ax)
    ax.set_ylabel("MRR at the end of the month")
    ax.set_title(f"MRR: mean and the middle {percent(level, digits=0)} of the replications",
                 fontsize="medium", loc="left")
    return _png(fig)


def tier_table(cmp: ComparisonResult) -> Table:
    """Per tier: CSMs, utilisation, wait, drops and accounts per CSM, baseline -> variant.

    Returns
    -------
    cs_sim.format.Table
        One row per tier, one column per metric of :data:`TIER_ROWS`; each cell
        ``"baseline → variant"`` (means over the replications, in the metric's unit).
    """
    frame = cmp.to_frame(by="tier")
    rows: dict[str, dict[str, str]] = {}
    if not frame.empty:
        for tier in dict.fromkeys(frame.index.get_level_values(0)):
            cells = {}
            for metric, (label, unit) in TIER_ROWS.items():
                if (tier, metric) in frame.index:
                    row = frame.loc[(tier, metric)]
                    cells[label] = (f"{fmt(row['baseline'], unit)} \u2192 "
                                    f"{fmt(row['variant'], unit)}")
            rows[str(tier)] = cells
    table = pd.DataFrame.from_dict(rows, orient="index",
                                   columns=[label for label, _ in TIER_ROWS.values()])
    table = table.rename_axis("tier").reset_index()
    return Table(table, caption="CSM teams by tier, baseline \u2192 variant (means over the "
                 "horizon)", index=False)


def _headline(cmp: ComparisonResult) -> str:
    dec = cmp.decision()
    nrr = cmp.summary().loc["nrr_annualised"]
    return (f"Profit {fmt(dec.profit_change, 'money', diff=True)}, NPV "
            f"{fmt(dec.npv_change, 'money', diff=True)}, NRR (annualised) "
            f"{fmt(nrr['diff'], 'pct', diff=True, digits=2)}; variant better in "
            f"{percent(dec.prob_profit_better, digits=0)} of the replications (profit)")


def decision_html(cmp: ComparisonResult, notes: list[str] | None = None) -> str:
    """The decision in words, then the notes on what cannot act, as escaped HTML.

    Parameters
    ----------
    cmp : ComparisonResult
    notes : list of str, optional
        More notes, put before the comparison's own (e.g. on the set-up).

    Returns
    -------
    str
    """
    if not scenario_changes(cmp.baseline.scenario, cmp.variant.scenario):
        return ("<p class='cs-sim-headline'><b>No change yet: the variant is the baseline."
                "</b></p><p>Move a control, or start from another scenario, to see what the "
                "change does to profit, NPV, retention and the teams.</p>")
    dec = cmp.decision()
    parts = [f"<p class='cs-sim-headline'><b>{escape(_headline(cmp))}</b></p>",
             f"<p class='cs-sim-probability'>Probability that the variant is better: "
             f"profit {escape(percent(dec.prob_profit_better, digits=0))}, NRR "
             f"{escape(percent(dec.prob_nrr_better, digits=0))} "
             f"({dec.replications} paired replications)</p>",
             "<ul class='cs-sim-decision'>"]
    parts += [f"<li>{escape(s)}</li>" for s in dec.sentences()
              if not s.startswith("Probability that the variant")]  # shown above
    parts.append("</ul>")
    all_notes = [*(notes or []), *cmp.notes()]
    if all_notes:
        parts.append("<p><b>Cannot act / read with care</b></p><ul class='cs-sim-notes'>")
        parts += [f"<li>{escape(n)}</li>" for n in all_notes]
        parts.append("</ul>")
    return "".join(parts)


def render(cmp: ComparisonResult, notes: list[str] | None = None) -> Rendered:
    """Everything the panel shows of ``cmp`` (:class:`Rendered`)."""
    return Rendered(forest=forest_png(cmp), fan=fan_png(cmp),
                    tiers=tier_table(cmp)._repr_html_(), decision=decision_html(cmp, notes),
                    headline=_headline(cmp))
