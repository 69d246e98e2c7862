"""The KPI baseline of a dataset: the figures a CS strategy starts from.

:func:`kpi_baseline` gathers the KPI library (:mod:`cs_sim.kpis`) into one
:class:`KpiBaseline` over an analysis window: the headline KPIs (for the whole company
and, with ``by``, for each segment), the monthly series and the MRR bridge. The
headline KPIs are those of the registry (:func:`cs_sim.kpis.register_kpi` adds one);
every figure comes from a :mod:`cs_sim.kpis` function; nothing is computed here but the
choice of window and the layout.

What a missing optional table prevents is said plainly in ``KpiBaseline.unavailable``.
The result renders itself: :meth:`KpiBaseline.to_text` (what ``cs-sim kpis`` prints),
``to_dict`` (its ``--json``), ``to_frame``, ``write`` (its ``--out``) and an HTML table
in notebooks, all with the figures shown by :mod:`cs_sim.format`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from cs_sim.errors import CsSimError, KpiInputError
from cs_sim.format import percent, style_frame, text_table, to_jsonable, write_files
from cs_sim.kpis import feedback_themes, product_usage_rate
from cs_sim.kpis._util import parse_month
from cs_sim.kpis.registry import KpiWindow, registered_kpis
from cs_sim.tables import OPTIONAL_TABLES

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.io import Dataset

__all__ = ["KpiBaseline", "kpi_baseline"]

#: units of the monthly series' and the bridge's columns
_MONTHLY_UNITS = {
    "month": "month", "mrr": "money", "active_accounts": "count", "arpa": "money",
    "nrr": "pct", "grr": "pct", "logo_churn_rate": "pct", "quick_ratio": "ratio",
    "crc": "money", "usage_rate": "pct",
}
_BRIDGE_COLUMNS = ("month", "start_mrr", "new", "expansion", "reactivation", "contraction",
                   "churned", "end_mrr")
_BRIDGE_UNITS = {c: ("month" if c == "month" else "money") for c in _BRIDGE_COLUMNS}


@dataclass(frozen=True)
class KpiBaseline:
    """The KPI baseline of one dataset over one window (a result object).

    Attributes
    ----------
    source : str or None
        The dataset folder.
    start, end : pandas.Timestamp
        The window: the cohort is taken at ``start``; monthly figures cover the months
        after ``start`` up to and including ``end``.
    by : str or None
        The account column segments were taken from.
    headline : pandas.DataFrame
        One row per registered KPI (index ``kpi``, with ``label`` and ``unit``), one
        column ``all`` plus one per segment. Rates are fractions (0.25 = 25%); NPS and
        CSAT are on their usual 0-100 scales.
    monthly : pandas.DataFrame
        Whole-company series, one row per month of the window.
    bridge : pandas.DataFrame
        The MRR bridge of the window's months (whole company).
    themes : pandas.DataFrame or None
        Coded feedback themes of the survey comments in the window.
    unavailable : dict of str to str
        KPI group -> why it could not be computed (a missing optional table).
    gross_margin : float
        The gross margin assumed for CLV.
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

    @property
    def segments(self) -> list[str]:
        """The value columns of ``headline``: ``all``, then one per segment."""
        return [c for c in self.headline.columns if c not in ("label", "unit")]

    def _title(self) -> str:
        return (
            f"KPI baseline of {self.source or 'dataset'}: window "
            f"{_month(self.start)} .. {_month(self.end)}" + (f", by {self.by}" if self.by else "")
        )

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
            ``source, window, by, gross_margin, headline`` (KPI -> label, unit and one
            value per segment), ``monthly, mrr_bridge, feedback_themes`` (lists of
            records) and ``unavailable``.
        """
        headline = {
            kpi: {"label": row["label"], "unit": row["unit"],
                  **{seg: row[seg] for seg in self.segments}}
            for kpi, row in self.headline.iterrows()
        }
        return to_jsonable({
            "source": self.source,
            "window": {"start": self.start, "end": self.end},
            "by": self.by,
            "gross_margin": self.gross_margin,
            "headline": headline,
            "monthly": self.monthly.to_dict("records"),
            "mrr_bridge": self.bridge.to_dict("records"),
            "feedback_themes": None if self.themes is None else self.themes.to_dict("records"),
            "unavailable": dict(self.unavailable),
        })

    def _headline_shown(self) -> tuple[pd.DataFrame, dict[str, str]]:
        """Headline values indexed by label, and the unit of each label."""
        table = self.headline.set_index("label")[self.segments]
        table.index.name, table.columns.name = None, "KPI"
        return table, dict(zip(self.headline["label"], self.headline["unit"], strict=True))

    def to_text(self) -> str:
        """Render the baseline as plain-text tables for a terminal (``cs-sim kpis``).

        Every figure is shown in its unit (:mod:`cs_sim.format`): percentages as %,
        money with thousands separators, counts as whole numbers.

        Returns
        -------
        str
        """
        table, units = self._headline_shown()
        lines = [self._title(), "", text_table(table, row_units=units)]
        bridge = self.bridge[list(_BRIDGE_COLUMNS)]
        lines += ["", "MRR bridge", text_table(bridge, _BRIDGE_UNITS, index=False)]
        lines += ["", "Monthly", text_table(self.monthly, _MONTHLY_UNITS, index=False)]
        if self.unavailable:
            lines += ["", "Not available:"]
            lines += [f"  - {what}: {why}" for what, why in self.unavailable.items()]
        lines += ["", f"(CLV assumes a gross margin of {percent(self.gross_margin, digits=0)}.)"]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        table, units = self._headline_shown()
        return style_frame(table, row_units=units, caption=self._title()).to_html()

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


def _month(ts: pd.Timestamp) -> str:
    return pd.Timestamp(ts).strftime("%Y-%m")


def _subset(dataset: Dataset, account_ids: pd.Index) -> Dataset:
    """The dataset restricted to some accounts (costs cannot be split and are dropped)."""
    tables: dict[str, Any] = {}
    for name, frame in dataset.tables().items():
        if name == "costs":
            continue
        tables[name] = frame[frame["account_id"].isin(account_ids)]
    return replace(dataset, costs=None, **tables)


def _headline(window: KpiWindow) -> dict[str, float]:
    """The registered KPIs of one (sub)dataset's window."""
    return {kpi.name: kpi.value(window) for kpi in registered_kpis()}


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


def kpi_baseline(
    dataset: Dataset,
    *,
    start: Any = None,
    end: Any = None,
    by: str | None = None,
    gross_margin: float = 0.8,
) -> KpiBaseline:
    """Compute the KPI baseline of a dataset over a window, overall and by segment.

    The headline holds every registered KPI (:func:`cs_sim.kpis.registered_kpis`).
    Window figures (NRR, GRR, logo churn, quick ratio) follow
    :func:`cs_sim.kpis.revenue_retention` from ``start`` to ``end``. Monthly rates are
    averaged over the months after ``start`` up to ``end``; CLV is
    ``ARPA(end) x gross_margin / average monthly logo churn``
    (:func:`cs_sim.kpis.clv_simple`); the renewal rate pools the renewals of those
    months; voice, support and trial figures pool the
    responses, tickets and trials dated in the window; MRR, ARPA, CRC, usage and health
    figures are those of the ``end`` month.

    Parameters
    ----------
    dataset : cs_sim.io.Dataset
        A validated dataset (:func:`cs_sim.load_dataset`).
    start, end : str or pandas.Timestamp, optional
        Window months (``"2025-01"``). ``end`` defaults to the last month of the mrr
        table and ``start`` to 12 months before ``end`` (or the first month, if later).
    by : str, optional
        A column of the accounts table to segment by (``plan``, ``industry``, ``region``
        or a column of your own). Costs cannot be split, so CRC is company-wide only.
    gross_margin : float
        Gross margin for CLV, a fraction in (0, 1].

    Returns
    -------
    KpiBaseline

    Raises
    ------
    cs_sim.errors.CsSimError
        If the window is outside the data or ``by`` is not an accounts column.
    """
    if not 0 < gross_margin <= 1:
        raise CsSimError(f"gross margin must be a fraction in (0, 1], got {gross_margin}")
    months = dataset.mrr["month"]
    first, last = months.min(), months.max()
    end_ts = last if end is None else _parse_month(end, "end")
    start_ts = (
        max(first, end_ts - pd.DateOffset(months=12))
        if start is None
        else _parse_month(start, "start")
    )
    if not first <= start_ts < end_ts <= last:
        raise CsSimError(
            f"window {_month(start_ts)} .. {_month(end_ts)} is not inside the mrr data "
            f"({_month(first)} .. {_month(last)}); fix: choose a start before the end, "
            "both within the data"
        )
    if by is not None and by not in dataset.accounts.columns:
        cols = ", ".join(c for c in dataset.accounts.columns if c not in ("account_id", "name"))
        raise CsSimError(
            f"cannot segment by '{by}': it is not a column of accounts; "
            f"fix: use one of {cols} (or add a column to accounts)"
        )

    window = KpiWindow(dataset, start_ts, end_ts, gross_margin=gross_margin)
    columns = {"all": _headline(window)}
    if by is not None:
        accounts = dataset.accounts
        for segment, group in accounts.groupby(accounts[by].fillna("(none)"), sort=True):
            sub = _subset(dataset, pd.Index(group["account_id"]))
            columns[str(segment)] = _headline(
                KpiWindow(sub, start_ts, end_ts, gross_margin=gross_margin)
            )

    kpis = registered_kpis()
    headline = pd.DataFrame(columns, index=pd.Index([k.name for k in kpis], name="kpi"))
    headline.insert(0, "label", [k.label for k in kpis])
    headline.insert(1, "unit", [k.unit for k in kpis])

    themes = None
    if window.surveys is not None and len(window.surveys):
        themes = feedback_themes(window.surveys)
    return KpiBaseline(
        source=dataset.source,
        start=start_ts,
        end=end_ts,
        by=by,
        headline=headline,
        monthly=_monthly(window),
        bridge=window.bridge,
        themes=themes,
        unavailable=_unavailable(dataset),
        gross_margin=gross_margin,
    )


def _parse_month(value: Any, name: str) -> pd.Timestamp:
    try:
        return parse_month(value, name=f"{name} month")
    except KpiInputError:
        raise CsSimError(
            f"{name} month {value!r} is not a date; fix: write it as YYYY-MM, e.g. 2025-01"
        ) from None
