"""The headline KPIs of a baseline, one entry each: name, label, unit, tables, function.

:func:`cs_sim.baseline.kpi_baseline` shows every registered KPI, in registration order,
for the whole company and for each segment. A KPI is a function of a
:class:`KpiWindow` (a dataset seen through an analysis window, with the tables the
built-in KPIs share computed once) that returns a number, or :class:`NotAvailable`
saying why there is nothing to measure. Adding a KPI is one call::

    from cs_sim.kpis import register_kpi

    register_kpi(
        "expansion_share",
        label="Expansion share of gained MRR",
        unit="pct",
        tables=("mrr",),
        compute=lambda w: w.bridge["expansion"].sum()
        / (w.bridge["new"].sum() + w.bridge["expansion"].sum()),
    )

A KPI whose ``tables`` include an optional table the dataset lacks is n/a, and the
baseline says which table it needs; its function is only called when every table it
names is present. A function that returns NaN without a reason gets a generic one
("nothing to measure in the window"): the built-in KPIs always say why.

The window
----------
A window runs from an *opening month* (``start``: the balance the retention figures
start from; cohorts are the accounts paying then) to ``end``; its months are those
after the opening month up to and including ``end``. Every flow figure covers exactly
these months: monthly rates, the bridge, renewals, and the records dated in them
(survey answers, tickets opened, trials ended). Snapshot figures (MRR, ARPA, CRC,
usage, health) are those of the ``end`` month.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cs_sim.errors import KpiConfigError
from cs_sim.format import UNITS
from cs_sim.kpis.conventions import Conventions, check_conventions
from cs_sim.kpis.engagement import (
    active_users,
    product_usage_rate,
    seat_utilisation,
    time_on_platform,
    trial_conversion,
)
from cs_sim.kpis.health import health_band_shares, health_score
from cs_sim.kpis.revenue import mrr_bridge, mrr_by_month, retention_by_month, revenue_retention
from cs_sim.kpis.value import clv_by_convention, customer_retention_cost, renewal_rate
from cs_sim.kpis.voice import average_handle_time, first_contact_resolution, voice_by_period
from cs_sim.tables import TABLES

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.io import Dataset

__all__ = [
    "Kpi",
    "KpiWindow",
    "NotAvailable",
    "register_kpi",
    "registered_kpis",
    "unregister_kpi",
]

NAN = float("nan")
_GENERIC = "nothing to measure in the window"


@dataclass(frozen=True)
class NotAvailable:
    """A KPI's answer when it cannot be computed: why, in words a user understands.

    Parameters
    ----------
    reason : str
        E.g. ``"no NPS answers dated 2025-02-01 .. 2025-06-30 (surveys has no rows)"``.
    """

    reason: str


def _ym(ts: pd.Timestamp) -> str:
    return f"{pd.Timestamp(ts):%Y-%m}"


def _span(dates: pd.Series) -> str:
    d = pd.to_datetime(dates).dropna()
    if d.empty:
        return "no dates"
    lo, hi = d.min(), d.max()
    return f"{lo:%Y-%m-%d}" if lo == hi else f"{lo:%Y-%m-%d} .. {hi:%Y-%m-%d}"


class KpiWindow:
    """A dataset seen through an analysis window: what a registered KPI is computed from.

    See the module docstring for what the window covers. The tables below are computed
    on first use and shared by every KPI of the window.

    Parameters
    ----------
    dataset : cs_sim.io.Dataset
    start, end : pandas.Timestamp
        First days of the opening month and of the window's last month.
    gross_margin : float
        The gross margin assumed for CLV, a fraction.
    conventions : {"cs_sim", "chartmogul", "baremetrics"}, default "cs_sim"
        Whose definitions of net MRR churn, logo churn, quick ratio and CLV
        (:mod:`cs_sim.kpis.conventions`).
    health : DataFrame, optional
        The health scores to use (:func:`~cs_sim.kpis.health_score` rows of these
        accounts), e.g. the whole company's scores of a segment's accounts: a score
        normalised among all accounts does not change with the segmentation. Computed
        from ``dataset`` when omitted.
    """

    def __init__(
        self,
        dataset: Dataset,
        start: pd.Timestamp,
        end: pd.Timestamp,
        *,
        gross_margin: float,
        conventions: Conventions = "cs_sim",
        health: pd.DataFrame | None = None,
    ) -> None:
        self.dataset = dataset
        self.start = start
        self.end = end
        self.gross_margin = gross_margin
        self.conventions = check_conventions(conventions)
        if health is not None and dataset.usage is not None:
            self.__dict__["health"] = health  # the cached value of the property below

    # --- the months and days of the window
    def in_window(self, months: pd.Series) -> pd.Series:
        """Mask of the window's months: after ``start`` up to and including ``end``."""
        return (months > self.start) & (months <= self.end)

    @property
    def first_day(self) -> pd.Timestamp:
        """The first day of the window's first month (the month after ``start``)."""
        return self.start + pd.DateOffset(months=1)

    @property
    def after_end(self) -> pd.Timestamp:
        """The first day after the window (dated records are before it)."""
        return self.end + pd.DateOffset(months=1)

    @property
    def last_day(self) -> pd.Timestamp:
        """The last day of the window."""
        return self.after_end - pd.Timedelta(days=1)

    @property
    def n_months(self) -> int:
        """How many months the window covers."""
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month

    @property
    def months_text(self) -> str:
        """The window's months, e.g. ``"2025-02 .. 2025-06"``."""
        first = self.first_day
        return _ym(first) if first == self.end else f"{_ym(first)} .. {_ym(self.end)}"

    @property
    def days_text(self) -> str:
        """The window's days, e.g. ``"2025-02-01 .. 2025-06-30"``."""
        return f"{self.first_day:%Y-%m-%d} .. {self.last_day:%Y-%m-%d}"

    def _dated(self, frame: pd.DataFrame | None, column: str) -> pd.DataFrame | None:
        if frame is None:
            return None
        return frame[(frame[column] >= self.first_day) & (frame[column] < self.after_end)]

    def dated_reason(self, table: str, column: str, what: str) -> NotAvailable:
        """Why ``table`` has no ``what`` (e.g. "tickets opened") in the window's days."""
        frame = getattr(self.dataset, table)
        if frame is None or not len(frame):
            return NotAvailable(f"no {what} {self.days_text}: the {table} table has no rows")
        return NotAvailable(f"no {what} {self.days_text} in {table} (its {column} values "
                            f"run {_span(frame[column])})")

    # --- tables shared by the KPIs
    @cached_property
    def by_month(self) -> pd.DataFrame:
        """:func:`~cs_sim.kpis.mrr_by_month` of the whole data."""
        return mrr_by_month(self.dataset.mrr)

    @cached_property
    def at_end(self) -> pd.Series | None:
        """The ``by_month`` row of the ``end`` month (None when there is none)."""
        rows = self.by_month[self.by_month["month"] == self.end]
        return None if rows.empty else rows.iloc[0]

    @cached_property
    def retention(self) -> pd.Series:
        """:func:`~cs_sim.kpis.revenue_retention` from ``start`` to ``end`` (one row)."""
        return revenue_retention(self.dataset.mrr, start=self.start, end=self.end,
                                 conventions=self.conventions).iloc[0]

    @cached_property
    def monthly_retention(self) -> pd.DataFrame:
        """One-month :func:`~cs_sim.kpis.retention_by_month` of the window's months."""
        frame = retention_by_month(self.dataset.mrr, window_months=1,
                                   conventions=self.conventions)
        return frame[self.in_window(frame["month"])]

    @cached_property
    def trailing_retention(self) -> pd.Series | None:
        """Twelve-month retention ending at ``end`` (None without 13 months of data)."""
        frame = retention_by_month(self.dataset.mrr, window_months=12,
                                   conventions=self.conventions)
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

    def usage_reason(self) -> NotAvailable:
        """Why there is no usage of the ``end`` month."""
        usage = self.dataset.usage
        if usage is None or not len(usage):
            return NotAvailable(f"no usage rows for {_ym(self.end)}: the usage table is empty")
        return NotAvailable(f"no usage rows for {_ym(self.end)} (usage covers "
                            f"{_ym(usage['month'].min())} .. {_ym(usage['month'].max())})")

    @cached_property
    def health(self) -> pd.DataFrame | None:
        """:func:`~cs_sim.kpis.health_score` of every paying account-month (None without
        usage)."""
        ds = self.dataset
        if ds.usage is None:
            return None
        return health_score(ds.usage, ds.mrr, tickets=ds.tickets, surveys=ds.surveys)

    @cached_property
    def health_shares(self) -> pd.DataFrame | None:
        """Health band shares of the ``end`` month (None without usage)."""
        health = self.health
        if health is None:
            return None
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
        The tables it needs; without one of them it is n/a.
    compute : callable
        ``compute(window: KpiWindow) -> float | NotAvailable`` (NaN or None when not
        measurable).
    """

    name: str
    label: str
    unit: str
    tables: tuple[str, ...]
    compute: Callable[[KpiWindow], Any]

    def evaluate(self, window: KpiWindow) -> tuple[float, str | None]:
        """The KPI of ``window`` and, when it is n/a, why.

        Returns
        -------
        (float, str or None)
            The value (NaN when n/a) and the reason (None when there is a value).
        """
        missing = [t for t in self.tables if getattr(window.dataset, t) is None]
        if missing:
            t = missing[0]
            return NAN, (f"needs the optional table '{t}' ({t}.csv or {t}.parquet), which "
                         "this dataset does not have")
        result = self.compute(window)
        if isinstance(result, NotAvailable):
            return NAN, result.reason
        value = NAN if result is None else float(result)
        return value, (_GENERIC if math.isnan(value) else None)

    def value(self, window: KpiWindow) -> float:
        """The KPI of ``window``: NaN when it is n/a (see :meth:`evaluate` for why)."""
        return self.evaluate(window)[0]


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
        ``compute(window: KpiWindow) -> float``; return :class:`NotAvailable` (or NaN)
        when there is nothing to measure.
    tables : sequence of str, default ("mrr",)
        The tables it reads; with an optional one missing the KPI is n/a.
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
            f"KPI {name!r} is already registered; fix: pick another name, register it "
            "with replace=True, or unregister_kpi it first"
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
def _at_end(w: KpiWindow, key: str, *, paying: bool = False) -> float | NotAvailable:
    row = w.at_end
    if row is None:
        return NotAvailable(f"the mrr table has no month {_ym(w.end)}")
    if paying and not row["active_accounts"] > 0:
        return NotAvailable(f"no account paid in {_ym(w.end)}")
    return float(row[key])


def _window(w: KpiWindow, key: str) -> float | NotAvailable:
    row = w.retention
    if not row["start_accounts"] > 0:
        return NotAvailable(f"no account paid in the opening month {_ym(w.start)}, so there "
                            "is no cohort to follow")
    value = float(row[key])
    if math.isnan(value):
        return NotAvailable(f"no MRR was gained or lost in {w.months_text}")
    return value


def _mean(series: pd.Series) -> float:
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else NAN


def _avg_monthly_churn(w: KpiWindow) -> float | NotAvailable:
    value = _mean(w.monthly_retention["logo_churn_rate"])
    if math.isnan(value):
        return NotAvailable(f"no account paid in the months before {w.months_text}")
    return value


def _trailing(w: KpiWindow, key: str) -> float | NotAvailable:
    row = w.trailing_retention
    if row is None:
        first = pd.Timestamp(w.dataset.mrr["month"].min())
        have = (w.end.year - first.year) * 12 + w.end.month - first.month + 1
        opening = w.end - pd.DateOffset(months=12)
        return NotAvailable(
            f"a trailing-12-month figure needs 13 months of mrr data (the opening month "
            f"{_ym(opening)} and the 12 months {_ym(opening + pd.DateOffset(months=1))} .. "
            f"{_ym(w.end)}); the data have {have} month{'s' if have != 1 else ''} up to "
            f"{_ym(w.end)}, from {_ym(first)}")
    if not row["start_accounts"] > 0:
        return NotAvailable(f"no account paid in {_ym(row['start_month'])}, twelve months "
                            f"before {_ym(w.end)}")
    return float(row[key])


def _clv(w: KpiWindow) -> float | NotAvailable:
    churn = _avg_monthly_churn(w)
    if isinstance(churn, NotAvailable):
        return churn
    arpa = _at_end(w, "arpa", paying=True)
    if isinstance(arpa, NotAvailable):
        return arpa
    if not churn > 0:
        return NotAvailable(f"no logo churn in {w.months_text}: with a churn rate of 0 the "
                            "expected lifetime is not finite")
    return float(clv_by_convention(arpa, churn_rate=churn, gross_margin=w.gross_margin,
                                   conventions=w.conventions))


def _renewal_rate(w: KpiWindow) -> float | NotAvailable:
    accounts = w.dataset.accounts
    if not (accounts["contract"] == "annual").any():
        return NotAvailable("no account has an annual contract (accounts.contract)")
    renewals = renewal_rate(accounts, w.dataset.mrr)
    renewals = renewals[w.in_window(renewals["month"])]
    due = renewals["up_for_renewal"].sum()
    if not due > 0:
        return NotAvailable(f"no annual contract came up for renewal in {w.months_text}")
    return float(renewals["renewed"].sum() / due)


def _crc(w: KpiWindow) -> float | NotAvailable:
    assert w.crc is not None
    rows = w.crc[w.crc["month"] == w.end]
    costs = w.dataset.costs
    assert costs is not None
    if not len(rows):
        span = (f"costs cover {_ym(costs['month'].min())} .. {_ym(costs['month'].max())}"
                if len(costs) else "the costs table has no rows")
        return NotAvailable(f"costs has no row for {_ym(w.end)} ({span})")
    if not rows["active_accounts"].iloc[0] > 0:
        return NotAvailable(f"no account paid in {_ym(w.end)}")
    return float(rows["crc"].iloc[0])


_VOICE = {"nps": ("nps_n", "NPS answers"), "nps_ci_low": ("nps_n", "NPS answers"),
          "nps_ci_high": ("nps_n", "NPS answers"), "csat": ("csat_n", "CSAT answers"),
          "ces": ("ces_n", "CES answers")}


def _voice(w: KpiWindow, key: str) -> float | NotAvailable:
    count, what = _VOICE[key]
    if w.voice is None:
        return w.dated_reason("surveys", "date", "survey answers dated")
    if not w.voice[count] > 0:
        assert w.surveys is not None
        kinds = w.surveys["kind"].value_counts()
        have = ", ".join(f"{n:,} {k}" for k, n in kinds.items())
        return NotAvailable(f"no {what} dated {w.days_text}; surveys has {len(w.surveys):,} "
                            f"answers in the window ({have})")
    return float(w.voice[key])


def _tickets_kpi(w: KpiWindow, function: Callable[..., pd.DataFrame], column: str,
                 *, resolved: bool) -> float | NotAvailable:
    if w.tickets is None or not len(w.tickets):
        return w.dated_reason("tickets", "opened_at", "tickets opened")
    if resolved and not w.tickets["resolved_at"].notna().any():
        return NotAvailable(f"none of the {len(w.tickets)} tickets opened {w.days_text} is "
                            "resolved yet")
    return float(function(w.tickets, freq=None)[column].iloc[0])


def _usage_kpi(
    w: KpiWindow, function: Callable[[pd.DataFrame], pd.DataFrame], column: str
) -> float | NotAvailable:
    """``column`` of ``function(usage of the end month)``."""
    if w.usage_end is None:
        return w.usage_reason()
    value = float(function(w.usage_end)[column].iloc[0])
    if math.isnan(value) and column == "stickiness":
        if "dau" not in w.usage_end.columns:
            return NotAvailable("usage has no dau column (mean daily active users), which "
                                "stickiness needs")
        return NotAvailable(f"dau is missing for some accounts in {_ym(w.end)}")
    if math.isnan(value):
        return NotAvailable(f"no active users or seats in the usage of {_ym(w.end)}")
    return value


def _health(w: KpiWindow, band: str) -> float | NotAvailable:
    if w.usage_end is None:
        return w.usage_reason()
    shares = w.health_shares
    rows = None if shares is None else shares[shares["band"] == band]
    if rows is None or not len(rows):
        return NotAvailable(f"no paying account has a health score in {_ym(w.end)}")
    return float(rows["share"].iloc[0])


def _trial_conversion(w: KpiWindow) -> float | NotAvailable:
    trials = w.dataset.trials
    assert trials is not None
    ended = trials[(trials["trial_end"] >= w.first_day) & (trials["trial_end"] <= w.last_day)]
    if not len(ended):
        return w.dated_reason("trials", "trial_end", "trials that ended")
    out = trial_conversion(trials, as_of=w.last_day, since=w.first_day, by_month=False)
    return float(out["conversion_rate"].iloc[0])


def _register_builtins() -> None:
    money, pct = "money", "pct"
    builtins: list[tuple[str, str, str, tuple[str, ...], Callable[[KpiWindow], Any]]] = [
        ("mrr", "MRR at end of window", money, ("mrr",), lambda w: _at_end(w, "mrr")),
        ("arr", "ARR (12 x MRR)", money, ("mrr",), lambda w: _at_end(w, "arr")),
        ("active_accounts", "Paying accounts", "count", ("mrr",),
         lambda w: _at_end(w, "active_accounts")),
        ("arpa", "ARPA (per month)", money, ("mrr",),
         lambda w: _at_end(w, "arpa", paying=True)),
        ("nrr", "Net revenue retention (window)", pct, ("mrr",), lambda w: _window(w, "nrr")),
        ("grr", "Gross revenue retention (window)", pct, ("mrr",),
         lambda w: _window(w, "grr")),
        ("net_mrr_churn_rate", "Net MRR churn (window)", pct, ("mrr",),
         lambda w: _window(w, "net_mrr_churn_rate")),
        ("logo_churn_rate", "Logo churn (window)", pct, ("mrr",),
         lambda w: _window(w, "logo_churn_rate")),
        ("quick_ratio", "Quick ratio (window)", "ratio", ("mrr",),
         lambda w: _window(w, "quick_ratio")),
        ("avg_monthly_logo_churn", "Average monthly logo churn", pct, ("mrr",),
         _avg_monthly_churn),
        ("trailing_12m_nrr", "Trailing-12-month NRR", pct, ("mrr",),
         lambda w: _trailing(w, "nrr")),
        ("trailing_12m_grr", "Trailing-12-month GRR", pct, ("mrr",),
         lambda w: _trailing(w, "grr")),
        ("clv", "CLV (per customer)", money, ("mrr",), _clv),
        ("renewal_rate", "Renewal rate (annual contracts)", pct, ("accounts", "mrr"),
         _renewal_rate),
        ("crc", "Customer retention cost (per account, month)", money, ("costs", "mrr"), _crc),
        ("nps", "NPS", "score", ("surveys",), lambda w: _voice(w, "nps")),
        ("nps_ci_low", "NPS 95% CI, low", "score", ("surveys",),
         lambda w: _voice(w, "nps_ci_low")),
        ("nps_ci_high", "NPS 95% CI, high", "score", ("surveys",),
         lambda w: _voice(w, "nps_ci_high")),
        ("csat", "CSAT (top-2-box %)", "score", ("surveys",), lambda w: _voice(w, "csat")),
        ("ces", "CES (mean, 1-7)", "number", ("surveys",), lambda w: _voice(w, "ces")),
        ("fcr", "First contact resolution", pct, ("tickets",),
         lambda w: _tickets_kpi(w, first_contact_resolution, "fcr", resolved=True)),
        ("aht_minutes", "Average handle time (minutes)", "number", ("tickets",),
         lambda w: _tickets_kpi(w, average_handle_time, "aht", resolved=False)),
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
