"""What the what-if notebook shows of its comparisons: decisions, intervals, inputs, headlines.

``notebooks/06_what_if.ipynb`` compares each variant with the baseline
(:func:`cs_sim.compare`, paired on common random numbers). The functions here turn
those :class:`~cs_sim.sim.results.ComparisonResult` objects into what a reader needs,
every figure through :mod:`cs_sim.format` and every name (the user's scenario and play
names) HTML-escaped:

- :func:`decision_view`: one comparison's decision in words, with its notes;
- :func:`decision_table`: one row per variant with the money of the decision (revenue,
  gross profit, CS cost, profit, NPV with the terminal value; the ROI only where the
  variant costs more, the saving where it costs less; payback) and the probability that
  the variant is better;
- :func:`interval_table`: the two kinds of interval side by side, the *uncertainty of
  the mean difference* (Student-t) and the *range of outcomes* (quantiles of the
  per-replication differences);
- :func:`variants_table`: what each variant changes of the baseline;
- :func:`variant_inputs`: the variant's own numbers, the inputs a sensitivity analysis
  should vary first (:func:`cs_sim.sim.sensitivity.sensitivity`);
- :func:`headline_items`: the notebook's headline figures for ``cs-sim report``.

The definitions (profit, NPV, terminal value, ROI, payback) are those of
:mod:`cs_sim.sim.money`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from cs_sim.format import Table, fmt, percent

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.calibration import Backtest
    from cs_sim.sim.results import ComparisonResult
    from cs_sim.sim.scenario import Scenario

__all__ = ["DECISION_COLUMNS", "Shown", "decision_table", "decision_view", "headline_items",
           "interval_table", "variant_inputs", "variants_table"]

#: columns of :func:`decision_table`: column -> (unit, shown as a signed difference)
DECISION_COLUMNS: dict[str, tuple[str, bool]] = {
    "revenue": ("money", True),
    "gross profit": ("money", True),
    "CS cost": ("money", True),
    "profit": ("money", True),
    "NPV with terminal value": ("money", True),
    "ROI": ("ratio", False),
    "saving": ("money", False),
    "payback month": ("count", False),
    "P(profit better)": ("pct", False),
    "NRR, annualised": ("pct", True),
    "P(NRR better)": ("pct", False),
}
#: metrics of :func:`interval_table`
INTERVAL_METRICS = ("profit", "npv", "nrr_annualised")
#: where a variant's number sits decides how uncertain it is (see :func:`variant_inputs`)
_EFFECT_KEYS = ("effect", "decay")


def decision_table(comparisons: Mapping[str, ComparisonResult], *, level: float = 0.9
                   ) -> Table:
    """The money of each comparison: one row per variant (means of paired differences).

    Parameters
    ----------
    comparisons : mapping of str to ComparisonResult
        Variant name -> :func:`cs_sim.compare` result.
    level : float, default 0.9
        Coverage of the ROI's bootstrap interval (not shown here) and of the decision.

    Returns
    -------
    cs_sim.format.Table
        Columns of :data:`DECISION_COLUMNS`: the mean differences (variant - baseline)
        over the horizon (NPV: with the value after it when the scenario counts it);
        ``ROI`` = mean Δprofit / mean ΔCS cost, only where the variant costs more
        (``n/a`` otherwise); ``saving`` = the CS cost it saves, only where it costs
        less; ``payback month`` (``n/a``: not within the horizon); the share of paired
        replications in which the variant's profit (NRR) is higher.
    """
    rows = {}
    for name, cmp in comparisons.items():
        s = cmp.summary(level=level)
        dec = cmp.decision(level=level)
        rows[str(name)] = {
            "revenue": s.loc["revenue", "diff"],
            "gross profit": s.loc["gross_profit", "diff"],
            "CS cost": s.loc["total_cost", "diff"],
            "profit": s.loc["profit", "diff"],
            "NPV with terminal value": s.loc["npv", "diff"],
            "ROI": dec.roi if dec.case == "costs_more" else math.nan,
            "saving": -dec.extra_cost if dec.case == "saves" else math.nan,
            "payback month": math.nan if dec.payback_month is None else dec.payback_month,
            "P(profit better)": dec.prob_profit_better,
            "NRR, annualised": s.loc["nrr_annualised", "diff"],
            "P(NRR better)": dec.prob_nrr_better,
        }
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(DECISION_COLUMNS))
    frame.index.name = "variant"
    horizon = next((c.baseline.scenario.horizon_months for c in comparisons.values()), None)
    caption = ("Variant - baseline, means over the paired replications"
               + (f" ({horizon} months)" if horizon else ""))
    return Table(frame, {c: u for c, (u, _) in DECISION_COLUMNS.items()}, caption=caption,
                 diff_columns=tuple(c for c, (_, d) in DECISION_COLUMNS.items() if d),
                 note="ROI only where the variant costs more (profit gained per 1 of extra "
                      "cost, after paying for it); saving only where it costs less; n/a "
                      "payback: the cumulative profit difference is not positive by the "
                      "end of the horizon.")


class Shown:
    """Text shown as escaped HTML in a notebook and as plain text elsewhere."""

    def __init__(self, html: str, text: str) -> None:
        self.html, self.text = html, text

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return self.html


def decision_view(name: str, comparison: ComparisonResult, *, level: float = 0.9) -> Shown:
    """One comparison's decision in plain words, then what may keep the change from acting.

    Parameters
    ----------
    name : str
        The variant's name (shown as the heading, escaped).
    comparison : ComparisonResult
    level : float, default 0.9

    Returns
    -------
    Shown
        HTML: a heading, the sentences of
        :meth:`~cs_sim.sim.money.Decision.sentences` (ROI or saving, NPV, payback, the
        probability that the variant is better) and the comparison's notes.
    """
    from html import escape

    sentences = comparison.decision(level=level).sentences()
    notes = comparison.notes(level=level)
    html = [f"<h4>{escape(str(name))}</h4><ul>",
            *(f"<li>{escape(x)}</li>" for x in sentences), "</ul>"]
    text = [str(name), *(f"- {x}" for x in sentences)]
    if notes:
        html += ["<p><b>Read with care:</b></p><ul>",
                 *(f"<li>{escape(x)}</li>" for x in notes), "</ul>"]
        text += ["Read with care:", *(f"- {x}" for x in notes)]
    return Shown("".join(html), "\n".join(text))


def interval_table(comparisons: Mapping[str, ComparisonResult], *,
                   metrics: Sequence[str] = INTERVAL_METRICS, level: float = 0.9) -> Table:
    """The two kinds of interval of each variant's key differences, side by side.

    Parameters
    ----------
    comparisons : mapping of str to ComparisonResult
    metrics : sequence of str, default :data:`INTERVAL_METRICS`
        Metrics of :data:`cs_sim.sim.results.METRICS`.
    level : float, default 0.9

    Returns
    -------
    cs_sim.format.Table
        One row per variant and metric: the mean difference, the *uncertainty of the
        mean difference* (a Student-t ``level`` interval: where the true average effect
        lies; it narrows as replications are added) and the *range of outcomes* (the
        middle ``level`` of the per-replication differences: how differently one future
        may turn out; it does not narrow).
    """
    lvl = percent(level, digits=0)
    mean_col, ci_col, range_col = ("mean difference",
                                   f"uncertainty of the mean difference ({lvl} CI)",
                                   f"range of outcomes (middle {lvl} of replications)")
    rows = []
    for name, cmp in comparisons.items():
        frame = cmp.to_frame(level=level)
        for m in metrics:
            r = frame.loc[m]
            unit, digits = str(r["unit"]), (2 if r["unit"] == "pct" else None)

            def shown(v: Any, u: str = unit, d: int | None = digits) -> str:
                return fmt(v, u, diff=True, digits=d)

            rows.append({"variant": str(name), "metric": str(r["label"]),
                         mean_col: shown(r["diff"]),
                         ci_col: f"{shown(r['ci_lo'])} .. {shown(r['ci_hi'])}",
                         range_col: f"{shown(r['lo'])} .. {shown(r['hi'])}"})
    frame = pd.DataFrame(rows, columns=["variant", "metric", mean_col, ci_col, range_col])
    return Table(frame, caption="Two kinds of interval (variant - baseline)", index=False)


def variants_table(baseline: Scenario, variants: Sequence[Scenario], *,
                   limit: int = 6) -> Table:
    """What each variant changes of the baseline: its description and changed numbers.

    Parameters
    ----------
    baseline : Scenario
    variants : sequence of Scenario
    limit : int, default 6
        Changed numbers listed per variant (the rest are counted).

    Returns
    -------
    cs_sim.format.Table
        One row per variant: ``variant``, ``description``, ``changes`` (``path: baseline
        -> variant`` of its numbers, effects first; see :func:`variant_inputs`).
    """
    from cs_sim.sim.fields import get_path

    base = baseline.model_dump(mode="json")
    rows = []
    for v in variants:
        data = v.model_dump(mode="json")
        paths = _ranked_changes(baseline, v)
        shown = []
        for p in paths[:limit]:
            now = _number(get_path(data, p))
            try:
                shown.append(f"{p}: {_number(get_path(base, p))} \u2192 {now}")
            except (ValueError, KeyError, IndexError, TypeError):  # added by the variant
                shown.append(f"{p} = {now} (new)")
        if len(paths) > limit:
            shown.append(f"... and {len(paths) - limit} more")
        rows.append({"variant": v.name, "description": v.description or "",
                     "changes": "; ".join(shown) or "no number changes (rules or "
                                                     "switches only)"})
    return Table(pd.DataFrame(rows, columns=["variant", "description", "changes"]),
                 caption=f"The variants, each applied to the baseline \u201c{baseline.name}"
                         "\u201d", index=False)


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return fmt(value, "number", digits=0 if float(value).is_integer() else None)


def _changed_numbers(base: Any, var: Any, prefix: str = "") -> list[str]:
    """Dotted paths (:mod:`cs_sim.sim.fields`) of the numbers of ``var`` not in ``base``."""
    if isinstance(var, bool) or var is None or isinstance(var, str):
        return []
    if isinstance(var, (int, float)):
        same = (isinstance(base, (int, float)) and not isinstance(base, bool)
                and float(base) == float(var))
        return [] if same else [prefix]
    out: list[str] = []
    if isinstance(var, dict):
        for key, value in var.items():
            sub = base.get(key) if isinstance(base, dict) else None
            out += _changed_numbers(sub, value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(var, list):
        named = all(isinstance(it, dict) and "name" in it for it in var)
        before = {it.get("name"): it for it in base if isinstance(it, dict)} \
            if isinstance(base, list) else {}
        for i, item in enumerate(var):
            if named:
                out += _changed_numbers(before.get(item["name"]), item,
                                        f"{prefix}.{item['name']}")
            else:
                sub = base[i] if isinstance(base, list) and i < len(base) else None
                out += _changed_numbers(sub, item, f"{prefix}[{i}]")
    return out


def variant_inputs(baseline: Scenario, variant: Scenario, *,
                   limit: int | None = None) -> list[str]:
    """The variant's own numbers, as parameter paths, the most uncertain first.

    A what-if's numbers are assumptions typed into its file: how much a play cuts the
    churn risk and lifts health, how fast that effect fades, what it costs, how many
    CSMs a team gets. Unlike the calibrated baseline's parameters, estimated from the
    data with a standard error, nothing has measured them yet, so they are the inputs a
    sensitivity analysis (:func:`cs_sim.sim.sensitivity.sensitivity` with ``params=``)
    should vary first. Effects come first (the fields under a play's ``effect`` and
    ``decay``: guessed before the play has run), then thresholds and everything else in
    the file's order (costs, hours and headcounts are usually known or decided).

    Parameters
    ----------
    baseline, variant : Scenario
    limit : int, optional
        Return at most this many.

    Returns
    -------
    list of str
        Dotted paths (e.g. ``plays.save_play.effect.hazard_multiplier``) of the number
        fields the variant sets differently from the baseline, or adds, that can vary:
        not 0 and not a field that fixes the shape of a run (the horizon, the number
        of accounts).
    """
    from cs_sim.sim.fields import locate
    from cs_sim.sim.uncertainty import FIXED_PATHS, LAYOUT_PATHS

    data = variant.model_dump(mode="json")
    found = []
    for path in _ranked_changes(baseline, variant):
        slot = locate(data, path)[2]
        if slot.kind is None or path in FIXED_PATHS or path in LAYOUT_PATHS \
                or not slot.value:
            continue
        found.append(path)
    return found if limit is None else found[:limit]


def _ranked_changes(baseline: Scenario, variant: Scenario) -> list[str]:
    """The numbers ``variant`` sets differently from ``baseline`` (or adds, unless left
    at their defaults), effects first, then thresholds, then the rest in file order."""
    from cs_sim.sim.fields import get_path

    base = baseline.model_dump(mode="json")
    typed = variant.model_dump(mode="json", exclude_defaults=True)
    found = []
    for path in _changed_numbers(base, variant.model_dump(mode="json")):
        for source in (base, typed):
            try:
                get_path(source, path)
            except (ValueError, KeyError, IndexError, TypeError):  # not set there
                continue
            found.append(path)
            break
    parts = [set(p.replace("[", ".").split(".")) for p in found]
    order = sorted(range(len(found)),
                   key=lambda k: (0 if parts[k] & set(_EFFECT_KEYS) else
                                  1 if "condition" in parts[k] or "trigger" in parts[k]
                                  else 2, k))
    return [found[k] for k in order]


def headline_items(comparisons: Mapping[str, ComparisonResult], *,
                   gate: Backtest | None = None, calibrated: bool = False
                   ) -> list[tuple[str, str, Any, str]]:
    """The what-if notebook's headline figures, for :func:`cs_sim.report.headlines`.

    Parameters
    ----------
    comparisons : mapping of str to ComparisonResult
        Empty when the results were withheld.
    gate : Backtest, optional
        The backtest of the calibrated baseline (None: none was run).
    calibrated : bool, default False
        Whether the baseline was calibrated on the data.

    Returns
    -------
    list of (key, label, value, unit)
        ``baseline_calibrated`` and ``backtest_passed`` (flags; None when no backtest
        ran), then per variant ``<name>_profit_diff`` (money), ``<name>_npv_diff``
        (money), ``<name>_nrr_diff`` (annualised NRR, a difference of fractions) and
        ``<name>_prob_better`` (share of replications with a higher profit).
    """
    items: list[tuple[str, str, Any, str]] = [
        ("baseline_calibrated", "Baseline calibrated on the data", calibrated, "flag"),
        ("backtest_passed", "Backtest gate passed", None if gate is None else gate.passed,
         "flag"),
    ]
    for name, cmp in comparisons.items():
        dec = cmp.decision()
        nrr = float(cmp.summary().loc["nrr_annualised", "diff"])
        items += [
            (f"{name}_profit_diff", f"{name}: profit difference", dec.profit_change, "money"),
            (f"{name}_npv_diff", f"{name}: NPV difference (with terminal value)",
             dec.npv_change, "money"),
            (f"{name}_nrr_diff", f"{name}: NRR difference (annualised)", nrr, "pct"),
            (f"{name}_prob_better", f"{name}: probability profit is better",
             dec.prob_profit_better, "pct"),
        ]
    return items
