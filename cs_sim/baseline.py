"""The KPI baseline of a dataset: the figures a CS strategy starts from.

:func:`kpi_baseline` gathers the KPI library (:mod:`cs_sim.kpis`) into one
:class:`KpiBaseline` over an analysis window: the headline KPIs (for the whole company
and, with ``by``, for each segment), the monthly series and the MRR bridge. Every
figure comes from a :mod:`cs_sim.kpis` function; nothing is computed here but the
choice of window, the averaging of monthly rates over it, and the layout.

What a missing optional table prevents is said plainly in ``KpiBaseline.unavailable``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cs_sim import kpis
from cs_sim.errors import CsSimError

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.io import Dataset

__all__ = ["HEADLINE_KPIS", "KpiBaseline", "kpi_baseline"]

#: the headline KPIs, in display order: name -> (label, unit)
HEADLINE_KPIS: dict[str, tuple[str, str]] = {
    "mrr": ("MRR at end of window", "money"),
    "arr": ("ARR (12 x MRR)", "money"),
    "active_accounts": ("Paying accounts", "count"),
    "arpa": ("ARPA (per month)", "money"),
    "nrr": ("Net revenue retention (window)", "pct"),
    "grr": ("Gross revenue retention (window)", "pct"),
    "logo_churn_rate": ("Logo churn (window)", "pct"),
    "quick_ratio": ("Quick ratio (window)", "ratio"),
    "avg_monthly_logo_churn": ("Average monthly logo churn", "pct"),
    "trailing_12m_nrr": ("Trailing-12-month NRR", "pct"),
    "trailing_12m_grr": ("Trailing-12-month GRR", "pct"),
    "clv": ("CLV (ARPA x margin / monthly churn)", "money"),
    "renewal_rate": ("Renewal rate (annual contracts)", "pct"),
    "crc": ("Customer retention cost (per account, month)", "money"),
    "nps": ("NPS", "score"),
    "nps_ci_low": ("NPS 95% CI, low", "score"),
    "nps_ci_high": ("NPS 95% CI, high", "score"),
    "csat": ("CSAT (top-2-box %)", "score"),
    "ces": ("CES (mean, 1-7)", "number"),
    "fcr": ("First contact resolution", "pct"),
    "aht_minutes": ("Average handle time (minutes)", "number"),
    "usage_rate": ("Product usage rate", "pct"),
    "seat_utilisation": ("Seat utilisation", "pct"),
    "minutes_per_active_user": ("Time on platform (min/user/month)", "number"),
    "stickiness": ("Stickiness (DAU/MAU)", "pct"),
    "trial_conversion": ("Free-trial conversion", "pct"),
    "health_green": ("Health: green share", "pct"),
    "health_yellow": ("Health: yellow share", "pct"),
    "health_red": ("Health: red share", "pct"),
}

# optional table -> the headline KPIs it feeds
_NEEDS = {
    "costs": ("crc",),
    "surveys": ("nps", "nps_ci_low", "nps_ci_high", "csat", "ces"),
    "tickets": ("fcr", "aht_minutes"),
    "usage": (
        "usage_rate",
        "seat_utilisation",
        "minutes_per_active_user",
        "stickiness",
        "health_green",
        "health_yellow",
        "health_red",
    ),
    "trials": ("trial_conversion",),
}


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
        One row per headline KPI (index ``kpi``, with ``label`` and ``unit``), one column
        ``all`` plus one per segment. Rates are fractions (0.25 = 25%); NPS and CSAT are
        on their usual 0-100 scales.
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

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary (NaN as ``None``, months as ``YYYY-MM``).

        Returns
        -------
        dict
        """
        segments = [c for c in self.headline.columns if c not in ("label", "unit")]
        headline = {
            kpi: {seg: _json_value(row[seg]) for seg in segments}
            for kpi, row in self.headline.iterrows()
        }
        return {
            "source": self.source,
            "window": {"start": _month(self.start), "end": _month(self.end)},
            "by": self.by,
            "gross_margin": self.gross_margin,
            "headline": headline,
            "monthly": _records(self.monthly),
            "mrr_bridge": _records(self.bridge),
            "feedback_themes": None if self.themes is None else _records(self.themes),
            "unavailable": dict(self.unavailable),
        }

    def to_text(self) -> str:
        """Render the baseline as plain-text tables for a terminal.

        Returns
        -------
        str
        """
        segments = [c for c in self.headline.columns if c not in ("label", "unit")]
        lines = [
            f"KPI baseline of {self.source or 'dataset'}: "
            f"window {_month(self.start)} .. {_month(self.end)}"
            + (f", by {self.by}" if self.by else ""),
            "",
        ]
        table = pd.DataFrame(
            {
                seg: [
                    _fmt(v, u)
                    for v, u in zip(self.headline[seg], self.headline["unit"], strict=True)
                ]
                for seg in segments
            },
            index=self.headline["label"].to_list(),
        )
        table.index.name = "KPI"
        lines.append(table.to_string())
        lines += ["", "MRR bridge"]
        bridge = self.bridge.copy()
        bridge["month"] = bridge["month"].dt.strftime("%Y-%m")
        cols = ["month", "start_mrr", "new", "expansion", "reactivation", "contraction"]
        cols += ["churned", "end_mrr"]
        lines.append(bridge[cols].to_string(index=False, float_format=lambda x: f"{x:,.2f}"))
        lines += ["", "Monthly"]
        monthly = self.monthly.copy()
        monthly["month"] = monthly["month"].dt.strftime("%Y-%m")
        lines.append(monthly.to_string(index=False, float_format=lambda x: f"{x:,.4f}"))
        if self.unavailable:
            lines += ["", "Not available:"]
            lines += [f"  - {what}: {why}" for what, why in self.unavailable.items()]
        lines.append("")
        lines.append(f"(CLV assumes a gross margin of {self.gross_margin:.0%}.)")
        return "\n".join(lines)

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
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = {
            "baseline.json": json.dumps(self.to_dict(), indent=2) + "\n",
            "baseline.txt": self.to_text() + "\n",
            "headline.csv": self.headline.to_csv(),
            "monthly.csv": self.monthly.to_csv(index=False, date_format="%Y-%m"),
            "mrr_bridge.csv": self.bridge.to_csv(index=False, date_format="%Y-%m"),
        }
        if self.themes is not None:
            files["feedback_themes.csv"] = self.themes.to_csv(index=False)
        written = []
        for name, text in files.items():
            path = out / name
            path.write_text(text, encoding="utf-8")
            written.append(path)
        return written


def _month(ts: pd.Timestamp) -> str:
    return pd.Timestamp(ts).strftime("%Y-%m")


def _json_value(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return _month(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _json_value(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _fmt(value: Any, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    if unit == "pct":
        return f"{100 * value:.1f}%"
    if unit == "money":
        return f"{value:,.2f}"
    if unit == "count":
        return f"{int(value):,}"
    if unit == "score":
        return f"{value:.1f}"
    return f"{value:,.2f}"


def _window_months(months: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    return (months > start) & (months <= end)


def _subset(dataset: Dataset, account_ids: pd.Index) -> Dataset:
    """The dataset restricted to some accounts (costs cannot be split and are dropped)."""
    tables: dict[str, Any] = {}
    for name, frame in dataset.tables().items():
        if name == "costs":
            continue
        tables[name] = frame[frame["account_id"].isin(account_ids)]
    return replace(dataset, costs=None, **tables)


def _mean(series: pd.Series) -> float:
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else float("nan")


def _headline(
    dataset: Dataset, start: pd.Timestamp, end: pd.Timestamp, *, gross_margin: float
) -> tuple[dict[str, float], pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Headline KPIs, monthly series, bridge and themes of one (sub)dataset."""
    h: dict[str, float] = dict.fromkeys(HEADLINE_KPIS, float("nan"))
    mrr = dataset.mrr
    by_month = kpis.mrr_by_month(mrr)
    at_end = by_month[by_month["month"] == end]
    if not at_end.empty:
        h["mrr"], h["arr"] = float(at_end["mrr"].iloc[0]), float(at_end["arr"].iloc[0])
        h["active_accounts"] = float(at_end["active_accounts"].iloc[0])
        h["arpa"] = float(at_end["arpa"].iloc[0])

    window = kpis.revenue_retention(mrr, start=start, end=end).iloc[0]
    for key in ("nrr", "grr", "logo_churn_rate", "quick_ratio"):
        h[key] = float(window[key])

    monthly_ret = kpis.retention_by_month(mrr, window_months=1)
    monthly_ret = monthly_ret[_window_months(monthly_ret["month"], start, end)]
    h["avg_monthly_logo_churn"] = _mean(monthly_ret["logo_churn_rate"])
    trailing = kpis.retention_by_month(mrr, window_months=12)
    trailing = trailing[trailing["month"] == end]
    if not trailing.empty:
        h["trailing_12m_nrr"] = float(trailing["nrr"].iloc[0])
        h["trailing_12m_grr"] = float(trailing["grr"].iloc[0])
    if h["avg_monthly_logo_churn"] > 0:
        h["clv"] = float(
            kpis.clv_simple(
                h["arpa"], gross_margin=gross_margin, churn_rate=h["avg_monthly_logo_churn"]
            )
        )

    renewals = kpis.renewal_rate(dataset.accounts, mrr)
    renewals = renewals[_window_months(renewals["month"], start, end)]
    if renewals["up_for_renewal"].sum() > 0:
        h["renewal_rate"] = float(renewals["renewed"].sum() / renewals["up_for_renewal"].sum())

    bridge = kpis.mrr_bridge(mrr)
    bridge = bridge[_window_months(bridge["month"], start, end)].reset_index(drop=True)
    monthly = by_month[_window_months(by_month["month"], start, end)][
        ["month", "mrr", "active_accounts", "arpa"]
    ].merge(
        monthly_ret[["month", "nrr", "grr", "logo_churn_rate", "quick_ratio"]],
        on="month",
        how="left",
    )

    if dataset.costs is not None:
        crc = kpis.customer_retention_cost(dataset.costs, mrr)
        crc = crc[_window_months(crc["month"], start, end)]
        crc_end = crc[crc["month"] == end]
        if len(crc_end):
            h["crc"] = float(crc_end["crc"].iloc[0])
        monthly = monthly.merge(crc[["month", "crc"]], on="month", how="left")

    themes = None
    in_window_end = end + pd.offsets.MonthEnd(0) + pd.Timedelta(days=1)
    if dataset.surveys is not None:
        surveys = dataset.surveys
        surveys = surveys[(surveys["date"] >= start) & (surveys["date"] < in_window_end)]
        if len(surveys):
            voice = kpis.voice_by_period(surveys, freq=None).iloc[0]
            for key in ("nps", "nps_ci_low", "nps_ci_high", "csat", "ces"):
                h[key] = float(voice[key])
            themes = kpis.feedback_themes(surveys)
    if dataset.tickets is not None:
        tickets = dataset.tickets
        tickets = tickets[(tickets["opened_at"] >= start) & (tickets["opened_at"] < in_window_end)]
        if len(tickets):
            h["fcr"] = float(kpis.first_contact_resolution(tickets, freq=None)["fcr"].iloc[0])
            aht = kpis.average_handle_time(tickets, freq=None)
            h["aht_minutes"] = float(aht["aht"].iloc[0])
    if dataset.usage is not None:
        usage = dataset.usage
        usage_end = usage[usage["month"] == end]
        if len(usage_end):
            rate = kpis.product_usage_rate(usage_end, mrr)
            h["usage_rate"] = float(rate["usage_rate"].iloc[0])
            seats = kpis.seat_utilisation(usage_end)
            h["seat_utilisation"] = float(seats["seat_utilisation"].iloc[0])
            top = kpis.time_on_platform(usage_end)
            h["minutes_per_active_user"] = float(top["minutes_per_active_user"].iloc[0])
            h["stickiness"] = float(kpis.active_users(usage_end)["stickiness"].iloc[0])
        rate = kpis.product_usage_rate(usage, mrr)
        monthly = monthly.merge(rate[["month", "usage_rate"]], on="month", how="left")
        health = kpis.health_score(usage, mrr, tickets=dataset.tickets, surveys=dataset.surveys)
        shares = kpis.health_band_shares(health[health["month"] == end])
        for band in ("green", "yellow", "red"):
            row = shares[shares["band"] == band]
            if len(row):
                h[f"health_{band}"] = float(row["share"].iloc[0])
    if dataset.trials is not None and len(dataset.trials):
        conv = kpis.trial_conversion(
            dataset.trials, as_of=in_window_end - pd.Timedelta(days=1), by_month=False
        )
        h["trial_conversion"] = float(conv["conversion_rate"].iloc[0])
    return h, monthly, bridge, themes


def kpi_baseline(
    dataset: Dataset,
    *,
    start: Any = None,
    end: Any = None,
    by: str | None = None,
    gross_margin: float = 0.8,
) -> KpiBaseline:
    """Compute the KPI baseline of a dataset over a window, overall and by segment.

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

    overall, monthly, bridge, themes = _headline(
        dataset, start_ts, end_ts, gross_margin=gross_margin
    )
    columns = {"all": overall}
    if by is not None:
        accounts = dataset.accounts
        for segment, group in accounts.groupby(accounts[by].fillna("(none)"), sort=True):
            sub = _subset(dataset, pd.Index(group["account_id"]))
            columns[str(segment)] = _headline(sub, start_ts, end_ts, gross_margin=gross_margin)[0]

    headline = pd.DataFrame(columns)
    headline.insert(0, "label", [HEADLINE_KPIS[k][0] for k in headline.index])
    headline.insert(1, "unit", [HEADLINE_KPIS[k][1] for k in headline.index])
    headline.index.name = "kpi"

    unavailable = {
        f"{table} KPIs ({', '.join(keys)})": (
            f"needs the optional table '{table}' ({table}.csv or {table}.parquet)"
        )
        for table, keys in _NEEDS.items()
        if getattr(dataset, table) is None
    }
    return KpiBaseline(
        source=dataset.source,
        start=start_ts,
        end=end_ts,
        by=by,
        headline=headline,
        monthly=monthly,
        bridge=bridge,
        themes=themes,
        unavailable=unavailable,
        gross_margin=gross_margin,
    )


def _parse_month(value: Any, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise CsSimError(
            f"{name} month {value!r} is not a date; fix: write it as YYYY-MM, e.g. 2025-01"
        ) from None
    return ts.to_period("M").to_timestamp()
