"""How a KPI baseline is shown: KPI groups, headline keys, per-segment and health-band tables.

:class:`cs_sim.baseline.KpiBaseline` hands these out (``view``, ``headline_items``,
``segment_kpis``, ``health_band_table``); the workbook's KPI notebook shows them and
passes them to :func:`cs_sim.report.headlines`. Nothing is computed here but the layout,
except the health-band table (:func:`health_bands`), whose figures come from
:mod:`cs_sim.kpis`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from cs_sim.format import Table, format_frame
from cs_sim.kpis import health_band_churn

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.baseline import KpiBaseline
    from cs_sim.kpis import KpiWindow

__all__ = ["HEADLINE_KEYS", "KPI_GROUPS", "SEGMENT_KEYS"]

#: the headline KPIs by group (title, KPI names); registered KPIs in none go to "other"
KPI_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "revenue": ("Revenue and value", ("mrr", "arr", "active_accounts", "arpa", "clv", "crc")),
    "retention": ("Retention and churn", (
        "nrr", "grr", "net_mrr_churn_rate", "logo_churn_rate", "avg_monthly_logo_churn",
        "quick_ratio", "trailing_12m_nrr", "trailing_12m_grr", "renewal_rate")),
    "engagement": ("Engagement and adoption", (
        "usage_rate", "seat_utilisation", "minutes_per_active_user", "stickiness",
        "trial_conversion")),
    "voice": ("Voice of the customer and support", (
        "nps", "nps_ci_low", "nps_ci_high", "csat", "ces", "fcr", "aht_minutes")),
    "health": ("Customer health", ("health_green", "health_yellow", "health_red")),
}
#: the stable keys of the baseline's headline figures (report key -> registered KPI)
HEADLINE_KEYS: dict[str, str] = {
    "nrr": "nrr", "grr": "grr", "logo_churn_monthly": "avg_monthly_logo_churn",
    "mrr_end": "mrr", "arpa": "arpa", "nps": "nps", "clv": "clv",
    "paying_accounts": "active_accounts",
}
#: the per-segment figures handed to the report (column -> registered KPI)
SEGMENT_KEYS: dict[str, str] = {
    "nrr": "nrr", "grr": "grr", "logo_churn_monthly": "avg_monthly_logo_churn",
    "arpa": "arpa", "paying_accounts": "active_accounts", "mrr_end": "mrr",
}
SEGMENT_LABELS = {"nrr": "NRR (window)", "grr": "GRR (window)",
                  "logo_churn_monthly": "logo churn a month", "arpa": "ARPA",
                  "paying_accounts": "paying accounts", "mrr_end": "MRR (end)"}
#: the health-band table's columns, their units and labels
BAND_UNITS = {"accounts": "count", "share": "pct", "account_months": "count",
              "churned": "count", "next_month_churn": "pct"}
BAND_LABELS = {"accounts": "accounts (end month)", "share": "share (end month)",
               "account_months": "scored account-months", "churned": "churned the month after",
               "next_month_churn": "next-month churn"}


def group_view(b: KpiBaseline, group: str | None) -> Table:
    """See :meth:`cs_sim.baseline.KpiBaseline.view`.

    Raises
    ------
    ValueError
        For an unknown group.
    """
    grouped = {k for _, names in KPI_GROUPS.values() for k in names}
    if group is None:
        names, title = list(b.headline.index), "Headline KPIs"
    elif group == "other":
        names, title = [k for k in b.headline.index if k not in grouped], "Other KPIs"
    elif group in KPI_GROUPS:
        title, wanted = KPI_GROUPS[group]
        names = [k for k in wanted if k in b.headline.index]
    else:
        raise ValueError(f"unknown KPI group {group!r}; use one of "
                         f"{', '.join([*KPI_GROUPS, 'other'])}")
    rows = b.headline.loc[names]
    table = rows.set_index("label")[b.segments]
    table.index.name, table.columns.name = None, None
    units = dict(zip(rows["label"], rows["unit"], strict=True))
    shown = format_frame(table, row_units=units, currency=b.currency)
    # one sentence per reason: the KPIs and the segments it applies to
    grouped_why: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for k in names:
        by_reason: dict[str, list[str]] = {}
        for seg, reason in b.reasons.get(k, {}).items():
            by_reason.setdefault(reason, []).append(seg)
        for reason, segs in by_reason.items():
            grouped_why.setdefault((reason, tuple(segs)), []).append(
                str(b.headline.loc[k, "label"]))
    why = [", ".join(labels) + ("" if segs == ("all",) else " (" + ", ".join(segs) + ")")
           + f": {reason}" for (reason, segs), labels in grouped_why.items()]
    return Table(shown, caption=f"{title} (window {b.window_label()})",
                 note=("n/a: " + "; ".join(why) + ".") if why else None)


def headline_items(b: KpiBaseline) -> list[tuple[str, str, float, str]]:
    """See :meth:`cs_sim.baseline.KpiBaseline.headline_items`."""
    out = []
    for key, kpi in HEADLINE_KEYS.items():
        if kpi in b.headline.index:
            row = b.headline.loc[kpi]
            out.append((key, str(row["label"]), float(row["all"]), str(row["unit"])))
    return out


def _segment_frame(b: KpiBaseline) -> tuple[pd.DataFrame, dict[str, str]] | None:
    """The per-segment figures under :data:`SEGMENT_KEYS` and their units."""
    segs = [s for s in b.segments if s != "all"]
    if not segs:
        return None
    keys = {c: k for c, k in SEGMENT_KEYS.items() if k in b.headline.index}
    frame = pd.DataFrame({c: b.headline.loc[k, segs].astype(float) for c, k in keys.items()})
    frame.index.name = "segment"
    return frame, {c: str(b.headline.loc[k, "unit"]) for c, k in keys.items()}


def segment_kpis(b: KpiBaseline) -> Table | None:
    """See :meth:`cs_sim.baseline.KpiBaseline.segment_kpis`."""
    found = _segment_frame(b)
    if found is None:
        return None
    frame, units = found
    shown = frame.rename(columns=SEGMENT_LABELS)
    return Table(shown, {SEGMENT_LABELS.get(c, c): u for c, u in units.items()},
                 caption=f"KPIs by {b.by} (window {b.window_label()})")


def health_band_table(b: KpiBaseline) -> Table | None:
    """See :meth:`cs_sim.baseline.KpiBaseline.health_band_table`."""
    if b.health_bands is None:
        return None
    return Table(b.health_bands.rename(columns=BAND_LABELS),
                 {BAND_LABELS[c]: u for c, u in BAND_UNITS.items()},
                 caption=f"Health bands: accounts in {b.end:%Y-%m}; churn in the month after "
                         f"each scored month of the window {b.window_label()}")


def report_tables(b: KpiBaseline) -> dict[str, Any]:
    """See :meth:`cs_sim.baseline.KpiBaseline.report_tables`."""
    seg = _segment_frame(b)
    return {"segments": None if seg is None else seg[0],
            "segment_units": None if seg is None else seg[1],
            "health_bands": b.health_bands,
            "health_band_units": None if b.health_bands is None else dict(BAND_UNITS)}


def not_measured(b: KpiBaseline) -> Table:
    """See :meth:`cs_sim.baseline.KpiBaseline.not_measured`."""
    rows = [("not available", what, why) for what, why in b.unavailable.items()]
    rows += [("note", "", n) for n in b.notes] + [("data warning", "", w) for w in b.warnings]
    frame = pd.DataFrame(rows, columns=["kind", "what", "why"])
    return Table(frame, caption="What the baseline could not measure, and notes on the data",
                 note=None if rows else "Every KPI group could be computed from these data.",
                 index=False)


def health_bands(window: KpiWindow) -> pd.DataFrame | None:
    """Accounts per health band at the end, and next-month churn per band in the window.

    Returns
    -------
    DataFrame or None
        Index ``band``: ``accounts, share`` (``end`` month), ``account_months, churned,
        next_month_churn`` (scored months of the window whose next month is known; see
        :func:`cs_sim.kpis.health_band_churn`). None without usage.
    """
    health = window.health
    shares = window.health_shares
    if health is None or shares is None:
        return None
    churn = health_band_churn(health, window.dataset.mrr, start=window.first_day,
                              end=window.end).set_index("band")
    out = churn.rename(columns={"churn_rate": "next_month_churn"})
    at_end = shares.set_index("band").reindex(out.index)
    out.insert(0, "share", at_end["share"])
    out.insert(0, "accounts", at_end["accounts"].fillna(0).astype("int64"))
    return out
