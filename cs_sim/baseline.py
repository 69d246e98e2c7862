"""The KPI baseline of a dataset: the figures a CS strategy starts from.

:func:`kpi_baseline` gathers the KPI library (:mod:`cs_sim.kpis`) into one
:class:`KpiBaseline` over an analysis window: the headline KPIs (for the whole company
and, with ``by``, for each segment), the monthly series and the MRR bridge. The
headline KPIs are those of the registry (:func:`cs_sim.kpis.register_kpi` adds one);
every figure comes from a :mod:`cs_sim.kpis` function; nothing is computed here but the
choice of window and the layout.

The window (see :mod:`cs_sim.kpis.registry`) runs from an opening month to an end
month; every flow figure covers exactly the months after the opening month, and the
baseline states them once, at the top. Every "n/a" says why (a missing table, no
records in the window, a dataset shorter than the figure's window):
``KpiBaseline.reasons``. Money is in ``KpiBaseline.currency``, shown with every money
figure. Four definitions follow the ``conventions`` setting
(:mod:`cs_sim.kpis.conventions`).

The result renders itself: :meth:`KpiBaseline.to_text` (what ``cs-sim kpis`` prints),
``to_dict`` (its ``--json``), ``to_frame``, ``write`` (its ``--out``) and an HTML table
in notebooks, all with the figures shown by :mod:`cs_sim.format`.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

import cs_sim._baseline_views as _views
from cs_sim._baseline_views import HEADLINE_KEYS, KPI_GROUPS, SEGMENT_KEYS
from cs_sim.errors import CsSimError, KpiInputError
from cs_sim.format import (
    Table,
    html_escaped,
    percent,
    style_frame,
    text_table,
    to_jsonable,
    write_files,
)
from cs_sim.kpis import feedback_themes, product_usage_rate
from cs_sim.kpis._util import parse_month
from cs_sim.kpis.conventions import CONVENTIONS, DEFINITIONS, Conventions
from cs_sim.kpis.registry import KpiWindow, registered_kpis
from cs_sim.tables import ACCOUNT_TABLES, CURRENCY_CODE, OPTIONAL_TABLES

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.io import Dataset

__all__ = ["HEADLINE_KEYS", "KPI_GROUPS", "SEGMENT_KEYS", "KpiBaseline", "kpi_baseline"]

#: units of the monthly series' and the bridge's columns
_MONTHLY_UNITS = {
    "month": "month", "mrr": "money", "active_accounts": "count", "arpa": "money",
    "nrr": "pct", "grr": "pct", "logo_churn_rate": "pct", "quick_ratio": "ratio",
    "crc": "money", "usage_rate": "pct",
}
_BRIDGE_COLUMNS = ("month", "start_mrr", "new", "expansion", "reactivation", "contraction",
                   "churned", "end_mrr")
_BRIDGE_UNITS = {c: ("month" if c == "month" else "money") for c in _BRIDGE_COLUMNS}
_METRIC_LABELS = {"net_mrr_churn_rate": "Net MRR churn", "logo_churn_rate": "Logo churn",
                  "quick_ratio": "Quick ratio", "clv": "CLV"}



def _month(ts: pd.Timestamp) -> str:
    return pd.Timestamp(ts).strftime("%Y-%m")


def _wrap(text: str) -> str:
    """A paragraph wrapped for a terminal (lists are left long, one item a line)."""
    return textwrap.fill(text, width=92, break_on_hyphens=False, break_long_words=False)


@dataclass(frozen=True)
class KpiBaseline:
    """The KPI baseline of one dataset over one window (a result object).

    Attributes
    ----------
    source : str or None
        The dataset folder.
    start, end : pandas.Timestamp
        The opening month (cohorts are the accounts paying then) and the last month of
        the window; the window's months are those after ``start`` up to ``end``.
    by : str or None
        The account column segments were taken from.
    headline : pandas.DataFrame
        One row per registered KPI (index ``kpi``, with ``label`` and ``unit``), one
        column ``all`` plus one per segment. Rates are fractions (0.25 = 25%); NPS and
        CSAT are on their usual 0-100 scales; money in ``currency`` per month.
    monthly : pandas.DataFrame
        Whole-company series, one row per month of the window.
    bridge : pandas.DataFrame
        The MRR bridge of the window's months (whole company).
    themes : pandas.DataFrame or None
        Coded feedback themes of the survey comments in the window.
    unavailable : dict of str to str
        KPI group -> why it could not be computed (a missing optional table).
    gross_margin : float
        The gross margin assumed for CLV (``cs_sim`` conventions).
    conventions : str
        Whose metric definitions (:data:`cs_sim.kpis.conventions.CONVENTIONS`).
    currency : str or None
        The currency of every money figure (None when the data do not say).
    reasons : dict of str to dict of str to str
        KPI -> segment (``all`` or a segment) -> why the figure is n/a.
    notes : tuple of str
        How figures treat special cases in these data (e.g. accounts that came back).
    warnings : tuple of str
        The dataset's warnings (:attr:`cs_sim.io.Dataset.warnings`).
    health_bands : pandas.DataFrame or None
        Whole company, one row per health band (index ``band``): ``accounts`` and
        ``share`` of the scored accounts in the ``end`` month, and over the window's
        months ``account_months`` scored in the band, how many ``churned`` the month
        after and ``next_month_churn`` (:func:`cs_sim.kpis.health_band_churn`). None
        without usage.
    """

    source: str | None
    start: pd.Timestamp
    end: pd.Timestamp
    by: str | None
    headline: pd.DataFrame
    monthly: pd.DataFrame
    bridge: pd.DataFrame
    themes: pd.DataFrame | None
    unavailable: dict[str, str] = field(default_factory=dict)
    gross_margin: float = 0.8
    conventions: str = "cs_sim"
    currency: str | None = None
    reasons: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    health_bands: pd.DataFrame | None = None

    @property
    def segments(self) -> list[str]:
        """The value columns of ``headline``: ``all``, then one per segment."""
        return [c for c in self.headline.columns if c not in ("label", "unit")]

    @property
    def first_month(self) -> pd.Timestamp:
        """The first month of the window (the month after ``start``)."""
        return pd.Timestamp(self.start) + pd.DateOffset(months=1)

    @property
    def n_months(self) -> int:
        """How many months the window covers."""
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month

    def _title(self) -> str:
        return (
            f"KPI baseline of {self.source or 'dataset'}: window "
            f"{_month(self.first_month)} .. {_month(self.end)}"
            + (f", by {self.by}" if self.by else "")
        )

    def window_label(self) -> str:
        """The window's months, e.g. ``"2025-02 .. 2025-06"``."""
        if self.n_months == 1:
            return _month(self.end)
        return f"{_month(self.first_month)} .. {_month(self.end)}"

    def window_text(self) -> str:
        """The window in words, as the top of :meth:`to_text` states it.

        Returns
        -------
        str
        """
        n = self.n_months
        months = (_month(self.end) if n == 1
                  else f"{_month(self.first_month)} .. {_month(self.end)}")
        return (
            f"Window: {months} ({n} month{'s' if n != 1 else ''}). Rates, the bridge, "
            f"renewals, survey answers, tickets and trials cover these months; retention "
            f"follows the accounts paying in the opening month {_month(self.start)}; MRR, "
            f"ARPA, CRC, usage and health are those of {_month(self.end)}."
        )

    def _money_text(self) -> str:
        if self.currency:
            return f"Money: {self.currency} per month."
        return ("Money: per month, in the currency of the data (not stated: add a currency "
                "column to mrr, or use --currency).")

    def to_frame(self) -> pd.DataFrame:
        """The headline table: raw numbers, one row per KPI, with ``label`` and ``unit``.

        Returns
        -------
        pandas.DataFrame
            A copy of ``headline``.
        """
        return self.headline.copy()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary of raw numbers (NaN as ``None``, months YYYY-MM).

        Returns
        -------
        dict
            ``source, window`` (``opening_month``, ``first_month``, ``last_month``,
            ``months``), ``by, conventions, currency, gross_margin, headline`` (KPI ->
            label, unit and one value per segment), ``not_available`` (KPI -> segment ->
            why), ``monthly, mrr_bridge, feedback_themes`` (lists of records),
            ``unavailable, notes, warnings`` and ``definitions``.
        """
        headline = {
            kpi: {"label": row["label"], "unit": row["unit"],
                  **{seg: row[seg] for seg in self.segments}}
            for kpi, row in self.headline.iterrows()
        }
        return to_jsonable({
            "source": self.source,
            "window": {"opening_month": self.start, "first_month": self.first_month,
                       "last_month": self.end, "months": self.n_months},
            "by": self.by,
            "conventions": self.conventions,
            "currency": self.currency,
            "gross_margin": self.gross_margin,
            "headline": headline,
            "not_available": self.reasons,
            "monthly": self.monthly.to_dict("records"),
            "mrr_bridge": self.bridge.to_dict("records"),
            "feedback_themes": None if self.themes is None else self.themes.to_dict("records"),
            "unavailable": dict(self.unavailable),
            "notes": list(self.notes),
            "warnings": list(self.warnings),
            "definitions": {d.metric: {"formula": d.formula, "returns": d.returns,
                                       "source": d.source}
                            for d in DEFINITIONS if d.conventions == self.conventions},
        })

    def _headline_shown(self) -> tuple[pd.DataFrame, dict[str, str]]:
        """Headline values indexed by label, and the unit of each label."""
        table = self.headline.set_index("label")[self.segments]
        table.index.name, table.columns.name = None, "KPI"
        return table, dict(zip(self.headline["label"], self.headline["unit"], strict=True))

    def _reason_lines(self) -> list[str]:
        """One line per n/a figure: the company's reason, then segments' own reasons."""
        lines = []
        for kpi, by_segment in self.reasons.items():
            if any(r.startswith("needs the optional table") for r in by_segment.values()):
                continue  # said once per table under "Not available"
            label = self.headline.loc[kpi, "label"]
            if "all" in by_segment:
                every = len(by_segment) == len(self.segments) > 1
                lines.append(f"{label}{' (and every segment)' if every else ''}: "
                             f"{by_segment['all']}")
                continue
            lines += [f"{label} ({seg}): {why}" for seg, why in by_segment.items()]
        return [f"  - {line}" for line in lines]

    def _definitions(self) -> list[str]:
        out = []
        for d in DEFINITIONS:
            if d.conventions != self.conventions:
                continue
            formula = d.formula
            if d.metric == "clv" and "margin" in formula and "no margin" not in formula:
                formula += f" (gross margin {percent(self.gross_margin, digits=0)})"
            out.append(f"  - {_METRIC_LABELS[d.metric]}: {formula}; {d.returns}.")
        return out

    def to_text(self) -> str:
        """Render the baseline as plain-text tables for a terminal (``cs-sim kpis``).

        The window, the currency and the conventions are stated once at the top; every
        figure is shown in its unit (:mod:`cs_sim.format`): percentages with one
        decimal, money with thousands separators and the currency, counts as whole
        numbers. Every n/a is explained below the headline table.

        Returns
        -------
        str
        """
        table, units = self._headline_shown()
        lines = [
            f"KPI baseline of {self.source or 'dataset'}"
            + (f", by {self.by}" if self.by else ""),
            _wrap(self.window_text()),
            _wrap(f"{self._money_text()} Conventions: {self.conventions} (definitions "
                  "below)."),
            "",
            text_table(table, row_units=units, currency=self.currency),
        ]
        reasons = self._reason_lines()
        if reasons:
            lines += ["", "n/a (why):", *reasons]
        if self.notes:
            lines += ["", "Notes:", *(f"  - {n}" for n in self.notes)]
        bridge = self.bridge[list(_BRIDGE_COLUMNS)]
        lines += ["", "MRR bridge",
                  text_table(bridge, _BRIDGE_UNITS, index=False, currency=self.currency)]
        lines += ["", "Monthly",
                  text_table(self.monthly, _MONTHLY_UNITS, index=False, currency=self.currency)]
        if self.unavailable:
            lines += ["", "Not available:"]
            lines += [f"  - {what}: {why}" for what, why in self.unavailable.items()]
        lines += ["", f"Definitions ({self.conventions} conventions):", *self._definitions()]
        if self.warnings:
            lines += ["", "Warnings:", *(f"  - {w}" for w in self.warnings)]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        table, units = self._headline_shown()
        table.columns = html_escaped(table).columns  # segment labels are the user's text
        return style_frame(table, row_units=units, caption=self._title(),
                           currency=self.currency).to_html()

    def view(self, group: str | None = None) -> Table:
        """The headline KPIs of one group as a table for people (text and HTML).

        Parameters
        ----------
        group : str, optional
            A key of :data:`KPI_GROUPS` (``revenue``, ``retention``, ``engagement``,
            ``voice``, ``health``) or ``other`` (registered KPIs in no group); None for
            every KPI.

        Returns
        -------
        cs_sim.format.Table
            One row per KPI (its label), one column ``all`` and one per segment, each
            figure in its unit (money with the currency); the note says why any figure
            of the group is n/a.
        """
        return _views.group_view(self, group)

    def headline_items(self) -> list[tuple[str, str, float, str]]:
        """``(key, label, value, unit)`` of each KPI of :data:`HEADLINE_KEYS` (whole company),
        for :func:`cs_sim.report.headlines`."""
        return _views.headline_items(self)

    def segment_kpis(self) -> Table | None:
        """Per segment (index ``segment``): the KPIs of :data:`SEGMENT_KEYS`, with their
        units (None without ``by``)."""
        return _views.segment_kpis(self)

    def health_band_table(self) -> Table | None:
        """:attr:`health_bands` as a table for people (None without usage)."""
        return _views.health_band_table(self)

    def report_tables(self) -> dict[str, Any]:
        """``segments, segment_units, health_bands, health_band_units`` for
        :func:`cs_sim.report.headlines` (None where there is no such table)."""
        return _views.report_tables(self)

    def not_measured(self) -> Table:
        """Optional tables the KPIs needed and did not have, notes and data warnings."""
        return _views.not_measured(self)

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write ``baseline.json``, ``baseline.txt`` and the tables as CSV into ``out_dir``.

        Parameters
        ----------
        out_dir : str or pathlib.Path
            Folder to write into (created if needed).

        Returns
        -------
        list of pathlib.Path
            The files written.
        """
        files = {
            "baseline.json": json.dumps(self.to_dict(), indent=2) + "\n",
            "baseline.txt": self.to_text() + "\n",
            "headline.csv": self.to_frame().to_csv(),
            "monthly.csv": self.monthly.to_csv(index=False, date_format="%Y-%m"),
            "mrr_bridge.csv": self.bridge.to_csv(index=False, date_format="%Y-%m"),
        }
        if self.themes is not None:
            files["feedback_themes.csv"] = self.themes.to_csv(index=False)
        return write_files(out_dir, files)


def _subset(dataset: Dataset, account_ids: pd.Index) -> Dataset:
    """The dataset restricted to some accounts (costs cannot be split and are dropped).

    The mrr table keeps the months of the whole data: where the segment has no row in the
    first or the last month, one row of MRR 0 (an account not paying) is added, so that a
    window valid for the company is valid for every segment (a segment whose accounts
    started later has no cohort in an earlier opening month, and says so).
    """
    tables: dict[str, Any] = {}
    for name, frame in dataset.tables().items():
        if name in ACCOUNT_TABLES:
            tables[name] = frame[frame["account_id"].isin(account_ids)]
    mrr, months = tables["mrr"], dataset.mrr["month"]
    pad = [m for m in (months.min(), months.max()) if not (mrr["month"] == m).any()]
    if pad and len(mrr):
        rows = pd.DataFrame({"account_id": mrr["account_id"].iloc[0], "month": pad, "mrr": 0.0})
        tables["mrr"] = pd.concat([mrr, rows.astype({"month": mrr["month"].dtype})],
                                  ignore_index=True)
    return replace(dataset, costs=None, **tables)


def _headline(window: KpiWindow) -> tuple[dict[str, float], dict[str, str]]:
    """The registered KPIs of one (sub)dataset's window, and why any is n/a."""
    values, reasons = {}, {}
    for kpi in registered_kpis():
        value, why = kpi.evaluate(window)
        values[kpi.name] = value
        if why is not None:
            reasons[kpi.name] = why
    return values, reasons


def _monthly(window: KpiWindow) -> pd.DataFrame:
    """The whole-company monthly series of the window."""
    by_month = window.by_month
    monthly = by_month[window.in_window(by_month["month"])][
        ["month", "mrr", "active_accounts", "arpa"]
    ].merge(
        window.monthly_retention[["month", "nrr", "grr", "logo_churn_rate", "quick_ratio"]],
        on="month",
        how="left",
    )
    if window.crc is not None:
        monthly = monthly.merge(window.crc[["month", "crc"]], on="month", how="left")
    if window.dataset.usage is not None:
        rate = product_usage_rate(window.dataset.usage, window.dataset.mrr)
        monthly = monthly.merge(rate[["month", "usage_rate"]], on="month", how="left")
    return monthly


def _unavailable(dataset: Dataset) -> dict[str, str]:
    """KPI group -> the optional table it needs, for each table the dataset lacks."""
    out = {}
    for table in OPTIONAL_TABLES:
        if getattr(dataset, table) is not None:
            continue
        names = [k.name for k in registered_kpis() if table in k.tables]
        if names:
            out[f"{table} KPIs ({', '.join(names)})"] = (
                f"needs the optional table '{table}' ({table}.csv or {table}.parquet)"
            )
    return out


def _notes(window: KpiWindow) -> tuple[str, ...]:
    """How the window's logo churn treated accounts that left and came back."""
    row = window.retention
    if not row["start_accounts"] > 0:
        return ()
    end = _month(window.end)
    if window.conventions == "cs_sim":
        n = int(row["returned_accounts"])
        if not n:
            return ()
        who = "1 account" if n == 1 else f"{n} accounts"
        return (f"Logo churn (window): {who} paying in {_month(window.start)} left during "
                f"the window and paid again in {end}; counted as retained (cs_sim "
                "conventions; chartmogul and baremetrics count each departure).",)
    events = int(row["churn_events"])
    text = (f"Logo churn (window) counts each of the {events} churn events of "
            f"{window.months_text}, also of accounts that came back")
    if window.conventions == "chartmogul":
        kept = round(float(row["logo_churn_rate"]) * int(row["start_accounts"]))
        if events - kept:
            text += (f", except {events - kept} of accounts that joined in the window "
                     "(chartmogul conventions)")
    return (text + ".",)


def _plain_window(dataset: Dataset, start: Any, end: Any) -> tuple[pd.Timestamp,
                                                                     pd.Timestamp, str]:
    """The opening and last month of the window, checked, and a note on a short default."""
    months = pd.DatetimeIndex(dataset.mrr["month"])
    first, last = months.min(), months.max()
    if first == last:
        raise CsSimError(
            f"the mrr data cover one month ({_month(first)}): a baseline compares each "
            "month with the month before, so it needs at least two months of mrr data; "
            f"fix: add the months before {_month(first)} to the mrr table"
        )
    end_ts = last if end is None else _parse_month(end, "end")
    note = ""
    if start is None:
        start_ts = end_ts - pd.DateOffset(months=12)
        if start_ts < first:
            start_ts = first
            note = (f" The data start in {_month(first)}, so the window is shorter than "
                    "the default 12 months.")
    else:
        start_ts = _parse_month(start, "start")
    span = f"the mrr data run from {_month(first)} to {_month(last)}"
    if end_ts > last or end_ts <= first:
        raise CsSimError(
            f"end month {_month(end_ts)} (--end) is outside the data: {span}; fix: choose "
            f"an end month from {_month(first + pd.DateOffset(months=1))} to {_month(last)}"
        )
    if start_ts < first:
        raise CsSimError(
            f"start month {_month(start_ts)} (--start, the opening month) is before the "
            f"data: {span}; fix: use --start {_month(first)} or later"
        )
    if start_ts >= end_ts:
        raise CsSimError(
            f"start month {_month(start_ts)} (--start, the opening month) must be before "
            f"the end month {_month(end_ts)} (--end); the window is the months after the "
            f"opening month up to the end; fix: choose a start before {_month(end_ts)}"
        )
    return pd.Timestamp(start_ts), pd.Timestamp(end_ts), note


def _currency(dataset: Dataset, currency: str | None) -> str | None:
    if currency is None:
        return dataset.currency
    if not re.fullmatch(CURRENCY_CODE, currency):
        raise CsSimError(f"currency {currency!r} (--currency): write an ISO 4217 code in "
                         "capitals, e.g. USD or EUR")
    if dataset.currency is not None and dataset.currency != currency:
        raise CsSimError(
            f"the data are in {dataset.currency}, not {currency} (--currency only names the "
            "currency of data that do not say theirs); fix: leave --currency out, or "
            f"convert the data with an fx table whose to_currency is {currency}"
        )
    return currency


def kpi_baseline(
    dataset: Dataset,
    *,
    start: Any = None,
    end: Any = None,
    by: str | None = None,
    gross_margin: float = 0.8,
    conventions: Conventions = "cs_sim",
    currency: str | None = None,
) -> KpiBaseline:
    """Compute the KPI baseline of a dataset over a window, overall and by segment.

    The headline holds every registered KPI (:func:`cs_sim.kpis.registered_kpis`).
    The window runs from the opening month ``start`` to ``end``; its months are those
    after ``start``. Window figures (NRR, GRR, net MRR churn, logo churn, quick ratio)
    follow :func:`cs_sim.kpis.revenue_retention` from ``start`` to ``end``; monthly
    rates are averaged over the window's months; CLV is ``ARPA(end) x gross_margin /
    average monthly logo churn`` (:func:`cs_sim.kpis.clv_by_convention`); the renewal
    rate pools the renewals of the window's months; voice, support and trial figures
    pool the responses, tickets opened and trials ended in those months; MRR, ARPA, CRC,
    usage and health figures are those of the ``end`` month.

    Parameters
    ----------
    dataset : cs_sim.io.Dataset
        A validated dataset (:func:`cs_sim.load_dataset`).
    start, end : str or pandas.Timestamp, optional
        Opening and last month (``"2025-01"``). ``end`` defaults to the last month of
        the mrr table and ``start`` to 12 months before ``end`` (a 12-month window), or
        the first month of the data if later.
    by : str, optional
        A column of the accounts table to segment by (``plan``, ``industry``, ``region``
        or a column of your own). Costs cannot be split, so CRC is company-wide only.
    gross_margin : float
        Gross margin for CLV, a fraction in (0, 1].
    conventions : {"cs_sim", "chartmogul", "baremetrics"}, default "cs_sim"
        Whose definitions of net MRR churn, logo churn, quick ratio and CLV.
    currency : str, optional
        The currency of the money figures when the data do not say (an ISO code).

    Returns
    -------
    KpiBaseline

    Raises
    ------
    cs_sim.errors.CsSimError
        If the window is outside the data, the data have one month only, ``by`` is not
        an accounts column, or the options are invalid.
    """
    if not 0 < gross_margin <= 1:
        raise CsSimError(f"gross margin {gross_margin} (--gross-margin) must be a fraction "
                         "in (0, 1], e.g. 0.8 for 80%")
    if conventions not in CONVENTIONS:
        raise CsSimError(f"unknown conventions {conventions!r} (--conventions); use one of "
                         f"{', '.join(CONVENTIONS)}")
    money = _currency(dataset, currency)
    start_ts, end_ts, note = _plain_window(dataset, start, end)
    if by is not None and by not in dataset.accounts.columns:
        from cs_sim.schema import COLUMNS

        cols = ", ".join(c for c in dataset.accounts.columns if c not in ("account_id", "name"))
        optional = {s.name for s in COLUMNS["accounts"] if not s.required}
        what = (f"'{by}' is an optional accounts column this dataset does not have; fix: add "
                f"a {by} column to accounts" if by in optional
                else f"'{by}' is not a column of accounts; fix: use one of {cols} (or add a "
                "column to accounts)")
        raise CsSimError(f"cannot segment by '{by}': {what}")

    window = KpiWindow(dataset, start_ts, end_ts, gross_margin=gross_margin,
                       conventions=conventions)
    values, why = _headline(window)
    columns = {"all": values}
    reasons: dict[str, dict[str, str]] = {k: {"all": r} for k, r in why.items()}
    if by is not None:
        accounts = dataset.accounts
        split_costs = ({k.name for k in registered_kpis() if "costs" in k.tables}
                       if dataset.costs is not None else set())
        for segment, group in accounts.groupby(accounts[by].fillna("(none)"), sort=True):
            ids = pd.Index(group["account_id"])
            health = None if window.health is None else \
                window.health[window.health["account_id"].isin(ids)]
            seg_values, seg_why = _headline(  # the company's health scores of the segment
                KpiWindow(_subset(dataset, ids), start_ts, end_ts, gross_margin=gross_margin,
                          conventions=conventions, health=health)
            )
            columns[str(segment)] = seg_values
            for k, r in seg_why.items():
                if k in split_costs:
                    r = ("CS costs are company-wide (the costs table has no accounts), so "
                         "this figure is not split by segment")
                reasons.setdefault(k, {})[str(segment)] = r

    kpis = registered_kpis()
    headline = pd.DataFrame(columns, index=pd.Index([k.name for k in kpis], name="kpi"))
    headline.insert(0, "label", [k.label for k in kpis])
    headline.insert(1, "unit", [k.unit for k in kpis])

    themes = None
    unavailable = _unavailable(dataset)
    if window.surveys is not None and "comment" not in window.surveys.columns:
        unavailable["feedback themes"] = ("needs the optional column 'comment' of the "
                                          "surveys table")
    elif window.surveys is not None and len(window.surveys):
        themes = feedback_themes(window.surveys)
    return KpiBaseline(
        health_bands=_views.health_bands(window),
        source=dataset.source,
        start=start_ts,
        end=end_ts,
        by=by,
        headline=headline,
        monthly=_monthly(window),
        bridge=window.bridge,
        themes=themes,
        unavailable=unavailable,
        gross_margin=gross_margin,
        conventions=conventions,
        currency=money,
        reasons={k: v for k, v in reasons.items() if v},
        notes=((note.strip(),) if note else ()) + _notes(window),
        warnings=tuple(dataset.warnings),
    )


def _parse_month(value: Any, name: str) -> pd.Timestamp:
    try:
        return parse_month(value, name=f"{name} month")
    except KpiInputError:
        raise CsSimError(
            f"{name} month {value!r} (--{name}) is not a month; fix: write it as YYYY-MM, "
            "e.g. 2025-01"
        ) from None
