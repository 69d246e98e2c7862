"""The headline KPIs of a baseline, one entry each: name, label, unit, tables, function.

:func:`cs_sim.baseline.kpi_baseline` shows every registered KPI, in registration order,
for the whole company and for each segment. A KPI is a function of a
:class:`KpiWindow` (a dataset seen through an analysis window, with the tables the
built-in KPIs share computed once) that returns a number, or NaN when there is nothing
to measure. Adding a KPI is one call::

    from cs_sim.kpis import register_kpi

    register_kpi(
        "expansion_share",
        label="Expansion share of gained MRR",
        unit="pct",
        tables=("mrr",),
        compute=lambda w: w.bridge["expansion"].sum()
        / (w.bridge["new"].sum() + w.bridge["expansion"].sum()),
    )

A KPI whose ``tables`` include an optional table the dataset lacks is NaN, and the
baseline says which table it needs; its function is only called when every table it
names is present.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cs_sim.errors import KpiConfigError
from cs_sim.format import UNITS
from cs_sim.kpis.engagement import (
    active_users,
    product_usage_rate,
    seat_utilisation,
    time_on_platform,
    trial_conversion,
)
from cs_sim.kpis.health import health_band_shares, health_score
from cs_sim.kpis.revenue import mrr_bridge, mrr_by_month, retention_by_month, revenue_retention
from cs_sim.kpis.value import clv_simple, customer_retention_cost, renewal_rate
from cs_sim.kpis.voice import average_handle_time, first_contact_resolution, voice_by_period
from cs_sim.tables import TABLES

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.io import Dataset

__all__ = ["Kpi", "KpiWindow", "register_kpi", "registered_kpis", "unregister_kpi"]

NAN = float("nan")


class KpiWindow:
    """A dataset seen through an analysis window: what a registered KPI is computed from.

    The cohort is taken at ``start``; monthly figures cover the months after ``start``
    up to and including ``end``; dated records (survey answers, tickets, trials) count
    from the first day of ``start`` to the last day of ``end``. The tables below are
    computed on first use and shared by every KPI of the window.

    Parameters
    ----------
    dataset : cs_sim.io.Dataset
    start, end : pandas.Timestamp
        First days of the window's first and last months.
    gross_margin : float
        The gross margin assumed for CLV, a fraction.
    """

    def __init__(
        self, dataset: Dataset, start: pd.Timestamp, end: pd.Timestamp, *, gross_margin: float
    ) -> None:
        self.dataset = dataset
        self.start = start
        self.end = end
        self.gross_margin = gross_margin

    def in_window(self, months: pd.Series) -> pd.Series:
        """Mask of the months after ``start`` up to and including ``end``."""
        return (months > self.start) & (months <= self.end)

    @property
    def after_end(self) -> pd.Timestamp:
        """The first day after the window (dated records are before it)."""
        return self.end + pd.offsets.MonthEnd(0) + pd.Timedelta(days=1)

    def _dated(self, frame: pd.DataFrame | None, column: str) -> pd.DataFrame | None:
        if frame is None:
            return None
        return frame[(frame[column] >= self.start) & (frame[column] < self.after_end)]

    @cached_property
    def by_month(self) -> pd.DataFrame:
        """:func:`~cs_sim.kpis.mrr_by_month` of the whole data."""
        return mrr_by_month(self.dataset.mrr)

    @cached_property
    def at_end(self) -> pd.Series | None:
        """The ``by_month`` row of the ``end`` month (None when no one paid then)."""
        rows = self.by_month[self.by_month["month"] == self.end]
        return None if rows.empty else rows.iloc[0]

    @cached_property
    def retention(self) -> pd.Series:
        """:func:`~cs_sim.kpis.revenue_retention` from ``start`` to ``end`` (one row)."""
        return revenue_retention(self.dataset.mrr, start=self.start, end=self.end).iloc[0]

    @cached_property
    def monthly_retention(self) -> pd.DataFrame:
        """One-month :func:`~cs_sim.kpis.retention_by_month` of the window's months."""
        frame = retention_by_month(self.dataset.mrr, window_months=1)
        return frame[self.in_window(frame["month"])]

    @cached_property
    def trailing_retention(self) -> pd.Series | None:
        """Twelve-month retention ending at ``end`` (None without 12 months of data)."""
        frame = retention_by_month(self.dataset.mrr, window_months=12)
        rows = frame[frame["month"] == self.end]
        return None if rows.empty else rows.iloc[0]

    @cached_property
    def bridge(self) -> pd.DataFrame:
        """The MRR bridge of the window's months."""
        frame = mrr_bridge(self.dataset.mrr)
        return frame[self.in_window(frame["month"])].reset_index(drop=True)

    @cached_property
    def crc(self) -> pd.DataFrame | None:
        """Monthly customer retention cost of the window (None without costs)."""
        if self.dataset.costs is None:
            return None
        frame = customer_retention_cost(self.dataset.costs, self.dataset.mrr)
        return frame[self.in_window(frame["month"])]

    @cached_property
    def surveys(self) -> pd.DataFrame | None:
        """Survey answers dated in the window (None without the table)."""
        return self._dated(self.dataset.surveys, "date")

    @cached_property
    def voice(self) -> pd.Series | None:
        """:func:`~cs_sim.kpis.voice_by_period` of the window's answers (None if none)."""
        if self.surveys is None or not len(self.surveys):
            return None
        return voice_by_period(self.surveys, freq=None).iloc[0]

    @cached_property
    def tickets(self) -> pd.DataFrame | None:
        """Tickets opened in the window (None without the table)."""
        return self._dated(self.dataset.tickets, "opened_at")

    @cached_property
    def usage_end(self) -> pd.DataFrame | None:
        """Usage rows of the ``end`` month (None without usage or without such rows)."""
        usage = self.dataset.usage
        if usage is None:
            return None
        rows = usage[usage["month"] == self.end]
        return rows if len(rows) else None

    @cached_property
    def health_shares(self) -> pd.DataFrame | None:
        """Health band shares of the ``end`` month (None without usage)."""
        ds = self.dataset
        if ds.usage is None:
            return None
        health = health_score(ds.usage, ds.mrr, tickets=ds.tickets, surveys=ds.surveys)
        return health_band_shares(health[health["month"] == self.end])


@dataclass(frozen=True)
class Kpi:
    """One registered KPI.

    Attributes
    ----------
    name : str
        Key in tables and JSON (snake_case).
    label : str
        What people read.
    unit : str
        How it is shown (one of :data:`cs_sim.format.UNITS`).
    tables : tuple of str
        The tables it needs; without one of them it is NaN.
    compute : callable
        ``compute(window: KpiWindow) -> float`` (NaN or None when not measurable).
    """

    name: str
    label: str
    unit: str
    tables: tuple[str, ...]
    compute: Callable[[KpiWindow], Any]

    def value(self, window: KpiWindow) -> float:
        """The KPI of ``window``: NaN when a table it needs is missing."""
        if any(getattr(window.dataset, t) is None for t in self.tables):
            return NAN
        result = self.compute(window)
        return NAN if result is None else float(result)


_REGISTRY: dict[str, Kpi] = {}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def register_kpi(
    name: str,
    *,
    label: str,
    unit: str,
    compute: Callable[[KpiWindow], Any],
    tables: Sequence[str] = ("mrr",),
    replace: bool = False,
) -> Kpi:
    """Add a KPI to the baseline (shown after those registered before it).

    Parameters
    ----------
    name : str
        Snake_case key, e.g. ``"expansion_share"``.
    label : str
        What people read, e.g. ``"Expansion share of gained MRR"``.
    unit : str
        One of :data:`cs_sim.format.UNITS` (``"pct"`` for a fraction shown as %).
    compute : callable
        ``compute(window: KpiWindow) -> float``; return NaN (or None) when there is
        nothing to measure.
    tables : sequence of str, default ("mrr",)
        The tables it reads; with an optional one missing the KPI is NaN.
    replace : bool, default False
        Replace a KPI of the same name (keeping its place) instead of refusing.

    Returns
    -------
    Kpi

    Raises
    ------
    cs_sim.errors.KpiConfigError
        For a bad name, unit or table, or a name already registered.
    """
    if not _NAME.match(name):
        raise KpiConfigError(
            f"KPI name {name!r}: use snake_case letters, digits and '_', e.g. 'expansion_share'"
        )
    if unit not in UNITS:
        raise KpiConfigError(f"KPI {name!r}: unknown unit {unit!r}; use one of {', '.join(UNITS)}")
    unknown = [t for t in tables if t not in TABLES]
    if unknown:
        raise KpiConfigError(
            f"KPI {name!r}: unknown table(s) {', '.join(map(repr, unknown))}; "
            f"tables are {', '.join(TABLES)}"
        )
    if name in _REGISTRY and not replace:
        raise KpiConfigError(
            f"KPI {name!r} is already registered; fix: pick another name, pass "
            "replace=True, or unregister_kpi it first"
        )
    kpi = Kpi(name, label, unit, tuple(tables), compute)
    _REGISTRY[name] = kpi
    return kpi


def unregister_kpi(name: str) -> None:
    """Remove a registered KPI.

    Raises
    ------
    cs_sim.errors.KpiConfigError
        If no KPI of that name is registered.
    """
    if _REGISTRY.pop(name, None) is None:
        raise KpiConfigError(f"no KPI {name!r} is registered")


def registered_kpis() -> tuple[Kpi, ...]:
    """The registered KPIs, in display order.

    Returns
    -------
    tuple of Kpi
    """
    return tuple(_REGISTRY.values())


# ----------------------------------------------------------------------- built-in KPIs
def _get(row: pd.Series | None, key: str) -> float:
    return NAN if row is None else float(row[key])


def _mean(series: pd.Series) -> float:
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else NAN


def _avg_monthly_churn(w: KpiWindow) -> float:
    return _mean(w.monthly_retention["logo_churn_rate"])


def _clv(w: KpiWindow) -> float:
    churn = _avg_monthly_churn(w)
    if not churn > 0:
        return NAN
    return float(clv_simple(_get(w.at_end, "arpa"), gross_margin=w.gross_margin,
                            churn_rate=churn))


def _renewal_rate(w: KpiWindow) -> float:
    renewals = renewal_rate(w.dataset.accounts, w.dataset.mrr)
    renewals = renewals[w.in_window(renewals["month"])]
    due = renewals["up_for_renewal"].sum()
    return float(renewals["renewed"].sum() / due) if due > 0 else NAN


def _crc(w: KpiWindow) -> float:
    assert w.crc is not None
    rows = w.crc[w.crc["month"] == w.end]
    return float(rows["crc"].iloc[0]) if len(rows) else NAN


def _tickets_kpi(w: KpiWindow, function: Callable[..., pd.DataFrame], column: str) -> float:
    if w.tickets is None or not len(w.tickets):
        return NAN
    return float(function(w.tickets, freq=None)[column].iloc[0])


def _usage_kpi(
    w: KpiWindow, function: Callable[[pd.DataFrame], pd.DataFrame], column: str
) -> float:
    """``column`` of ``function(usage of the end month)``."""
    if w.usage_end is None:
        return NAN
    return float(function(w.usage_end)[column].iloc[0])


def _health(w: KpiWindow, band: str) -> float:
    shares = w.health_shares
    rows = None if shares is None else shares[shares["band"] == band]
    return float(rows["share"].iloc[0]) if rows is not None and len(rows) else NAN


def _trial_conversion(w: KpiWindow) -> float:
    trials = w.dataset.trials
    if trials is None or not len(trials):
        return NAN
    as_of = w.after_end - pd.Timedelta(days=1)
    return float(trial_conversion(trials, as_of=as_of, by_month=False)["conversion_rate"].iloc[0])


def _register_builtins() -> None:
    money, pct = "money", "pct"
    builtins: list[tuple[str, str, str, tuple[str, ...], Callable[[KpiWindow], Any]]] = [
        ("mrr", "MRR at end of window", money, ("mrr",), lambda w: _get(w.at_end, "mrr")),
        ("arr", "ARR (12 x MRR)", money, ("mrr",), lambda w: _get(w.at_end, "arr")),
        ("active_accounts", "Paying accounts", "count", ("mrr",),
         lambda w: _get(w.at_end, "active_accounts")),
        ("arpa", "ARPA (per month)", money, ("mrr",), lambda w: _get(w.at_end, "arpa")),
        ("nrr", "Net revenue retention (window)", pct, ("mrr",),
         lambda w: _get(w.retention, "nrr")),
        ("grr", "Gross revenue retention (window)", pct, ("mrr",),
         lambda w: _get(w.retention, "grr")),
        ("logo_churn_rate", "Logo churn (window)", pct, ("mrr",),
         lambda w: _get(w.retention, "logo_churn_rate")),
        ("quick_ratio", "Quick ratio (window)", "ratio", ("mrr",),
         lambda w: _get(w.retention, "quick_ratio")),
        ("avg_monthly_logo_churn", "Average monthly logo churn", pct, ("mrr",),
         _avg_monthly_churn),
        ("trailing_12m_nrr", "Trailing-12-month NRR", pct, ("mrr",),
         lambda w: _get(w.trailing_retention, "nrr")),
        ("trailing_12m_grr", "Trailing-12-month GRR", pct, ("mrr",),
         lambda w: _get(w.trailing_retention, "grr")),
        ("clv", "CLV (ARPA x margin / monthly churn)", money, ("mrr",), _clv),
        ("renewal_rate", "Renewal rate (annual contracts)", pct, ("accounts", "mrr"),
         _renewal_rate),
        ("crc", "Customer retention cost (per account, month)", money, ("costs", "mrr"), _crc),
        ("nps", "NPS", "score", ("surveys",), lambda w: _get(w.voice, "nps")),
        ("nps_ci_low", "NPS 95% CI, low", "score", ("surveys",),
         lambda w: _get(w.voice, "nps_ci_low")),
        ("nps_ci_high", "NPS 95% CI, high", "score", ("surveys",),
         lambda w: _get(w.voice, "nps_ci_high")),
        ("csat", "CSAT (top-2-box %)", "score", ("surveys",), lambda w: _get(w.voice, "csat")),
        ("ces", "CES (mean, 1-7)", "number", ("surveys",), lambda w: _get(w.voice, "ces")),
        ("fcr", "First contact resolution", pct, ("tickets",),
         lambda w: _tickets_kpi(w, first_contact_resolution, "fcr")),
        ("aht_minutes", "Average handle time (minutes)", "number", ("tickets",),
         lambda w: _tickets_kpi(w, average_handle_time, "aht")),
        ("usage_rate", "Product usage rate", pct, ("usage", "mrr"),
         lambda w: _usage_kpi(w, lambda u: product_usage_rate(u, w.dataset.mrr),
                              "usage_rate")),
        ("seat_utilisation", "Seat utilisation", pct, ("usage",),
         lambda w: _usage_kpi(w, seat_utilisation, "seat_utilisation")),
        ("minutes_per_active_user", "Time on platform (min/user/month)", "number", ("usage",),
         lambda w: _usage_kpi(w, time_on_platform, "minutes_per_active_user")),
        ("stickiness", "Stickiness (DAU/MAU)", pct, ("usage",),
         lambda w: _usage_kpi(w, active_users, "stickiness")),
        ("trial_conversion", "Free-trial conversion", pct, ("trials",), _trial_conversion),
    ]
    for band in ("green", "yellow", "red"):
        builtins.append((f"health_{band}", f"Health: {band} share", pct, ("usage", "mrr"),
                         lambda w, b=band: _health(w, b)))
    for name, label, unit, tables, compute in builtins:
        register_kpi(name, label=label, unit=unit, tables=tables, compute=compute)


_register_builtins()
