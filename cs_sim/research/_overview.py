"""What a dataset holds, at a glance: its tables, their rows and months, the accounts,
the paying customers, the MRR at the end and the segments.

:func:`dataset_overview` is the first look at a dataset (the workbook's index notebook
shows it): it says which of the canonical tables are there, what each one feeds in the
workbook, and which months they cover, so a missing table or a short history is seen
before any analysis runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cs_sim.errors import CsSimError
from cs_sim.format import Table, fmt
from cs_sim.segmentation._segments import shown_path
from cs_sim.tables import REQUIRED_TABLES, TABLES

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.io import Dataset

__all__ = ["TABLE_DATES", "TABLE_FEEDS", "DatasetOverview", "dataset_overview"]

#: the date column that places each table's rows in time
TABLE_DATES: dict[str, str] = {
    "accounts": "signup_date", "mrr": "month", "usage": "month", "tickets": "opened_at",
    "surveys": "date", "trials": "trial_start", "interactions": "date", "costs": "month",
    "fx": "month",
}
#: what each table feeds in the workbook (notebooks 01-07)
TABLE_FEEDS: dict[str, str] = {
    "accounts": "every notebook: firmographics, contracts, signup dates, segments",
    "mrr": "every notebook: MRR bridge, retention, churn, CLV, segments, calibration",
    "usage": "adoption, seat utilisation, stickiness, health score, usage-based segments, "
             "journey adoption stage",
    "tickets": "FCR, handle time, ticket analysis, health score, cost to serve",
    "surveys": "NPS, CSAT, CES, feedback themes, persona pain points",
    "trials": "free-trial conversion, the journey's purchase stage",
    "interactions": "touchpoints, owner teams, cost to serve, persona channels",
    "costs": "customer retention cost, cost to serve",
    "fx": "converting more than one currency into the reporting one",
}
TABLE_UNITS = {"in dataset": "flag", "rows": "count", "accounts": "count", "from": "month",
               "to": "month", "months": "count"}
SEGMENT_UNITS = {"accounts": "count", "paying_accounts": "count", "mrr": "money",
                 "mrr_share": "pct"}
#: KPIs that also need an optional column: name -> (table, column)
_KPI_COLUMNS = {"stickiness": ("usage", "dau")}
_SEGMENT_HEADINGS = {"accounts": "accounts", "paying_accounts": "paying accounts",
                     "mrr": "MRR", "mrr_share": "share of MRR"}


def _months(dates: pd.Series) -> tuple[pd.Timestamp | None, pd.Timestamp | None, int]:
    """First and last month of ``dates`` and the months from one to the other."""
    when = pd.to_datetime(dates, errors="coerce").dropna()
    if not len(when):
        return None, None, 0
    first = when.min().to_period("M")
    last = when.max().to_period("M")
    return first.to_timestamp(), last.to_timestamp(), int((last - first).n + 1)


@dataclass(frozen=True, repr=False)
class DatasetOverview:
    """What a dataset holds (a result object: ``view``, ``to_text``, ``_repr_html_``).

    Attributes
    ----------
    tables : pandas.DataFrame
        One row per canonical table (index ``table``): ``in dataset``, ``rows``,
        ``accounts`` (distinct account ids), ``from``, ``to``, ``months`` (from the
        first to the last month of its date column, :data:`TABLE_DATES`) and ``feeds``
        (:data:`TABLE_FEEDS`).
    accounts : int
        Rows of the accounts table.
    paying_accounts : int
        Accounts with MRR above 0 in the last month of the mrr table.
    first_month, last_month : pandas.Timestamp
        The months of the mrr table.
    months : int
        Months from the first to the last month of the mrr table.
    mrr : float
        MRR in the last month.
    segments : pandas.DataFrame or None
        Per segment (index): ``accounts``, ``paying_accounts`` and ``mrr`` in the last
        month, ``mrr_share``; None when the accounts cannot be segmented.
    by : str or None
        The segmentation (the dataset's own ``segment`` column, else the company size
        band).
    currency : str or None
    warnings : tuple of str
        The dataset's warnings (months that change the MRR bridge silently).
    source : str or None
    notes : list of str
        Why something could not be shown.
    kpis : pandas.DataFrame or None
        The KPIs of the baseline (:func:`cs_sim.kpis.registered_kpis`; index ``kpi``):
        ``label``, ``needs`` (the tables) and ``available`` (whether the dataset has
        them).
    """

    tables: pd.DataFrame
    accounts: int
    paying_accounts: int
    first_month: pd.Timestamp
    last_month: pd.Timestamp
    months: int
    mrr: float
    segments: pd.DataFrame | None
    by: str | None
    currency: str | None = None
    warnings: tuple[str, ...] = ()
    source: str | None = None
    notes: list[str] = field(default_factory=list)
    kpis: pd.DataFrame | None = None

    def _summary(self) -> pd.DataFrame:
        rows = [
            ("Accounts in the accounts table", fmt(self.accounts, "count")),
            (f"Paying accounts in {fmt(self.last_month, 'month')}",
             fmt(self.paying_accounts, "count")),
            ("Months of MRR data", f"{fmt(self.months, 'count')} ("
             f"{fmt(self.first_month, 'month')} to {fmt(self.last_month, 'month')})"),
            (f"MRR in {fmt(self.last_month, 'month')}",
             fmt(self.mrr, "money", currency=self.currency)),
            ("Optional tables present", fmt(int(self.tables["in dataset"].sum())
                                            - len(REQUIRED_TABLES), "count")
             + f" of {fmt(len(TABLES) - len(REQUIRED_TABLES), 'count')}"),
        ]
        if self.segments is not None:
            from cs_sim.segmentation import segmentation_label

            rows.append((f"Segments ({segmentation_label(self.by or '')})",
                         ", ".join(str(s) for s in self.segments.index)))
        return pd.DataFrame(rows, columns=["figure", "value"])

    def view(self, name: str = "summary") -> Table:
        """One part of the overview as a :class:`cs_sim.format.Table`.

        Parameters
        ----------
        name : str
            ``summary`` (accounts, paying accounts, months, MRR, segments), ``tables``
            (each canonical table: rows, accounts, months, what it feeds) or
            ``segments`` (accounts, paying accounts and MRR by segment) or ``kpis``
            (the baseline's KPIs and whether the dataset has the tables each needs).

        Returns
        -------
        cs_sim.format.Table
        """
        where = shown_path(self.source)
        if name == "summary":
            return Table(self._summary(), caption=f"Dataset {where}",
                         note=" ".join(self.warnings) or None, index=False)
        if name == "tables":
            return Table(self.tables, TABLE_UNITS, caption=(
                "Tables: rows, distinct accounts, the months their dates cover, and what "
                "each feeds (accounts and mrr are required)"))
        if name == "segments":
            if self.segments is None:
                return Table(pd.DataFrame(), caption="Segments",
                             note="; ".join(self.notes) or "No segments.")
            frame = self.segments.rename(columns=_SEGMENT_HEADINGS)
            return Table(frame, {_SEGMENT_HEADINGS[k]: u for k, u in SEGMENT_UNITS.items()},
                         caption=(f"Segments: accounts, and the paying accounts and MRR of "
                                  f"{fmt(self.last_month, 'month')}"))
        if name == "kpis":
            frame = pd.DataFrame() if self.kpis is None else self.kpis
            return Table(frame, {"available": "flag"}, caption=(
                "The KPIs of the baseline (03_kpi_baseline), the tables each needs and "
                "whether this dataset has them"))
        raise ValueError(f"unknown view {name!r}; use summary, tables, segments or kpis")

    def headline_items(self) -> list[tuple[str, str, Any, str]]:
        """The dataset's headline figures, for :func:`cs_sim.report.headlines`."""
        end = fmt(self.last_month, "month")
        items: list[tuple[str, str, Any, str]] = [
            ("accounts", "Accounts", self.accounts, "count"),
            ("paying_accounts", f"Paying accounts ({end})", self.paying_accounts, "count"),
            ("months_covered", "Months of MRR data", self.months, "count"),
            ("mrr_at_end", f"MRR ({end})", self.mrr, "money"),
        ]
        if self.segments is not None:
            items.append(("segments", "Segments", len(self.segments), "count"))
        return items

    def outline(self) -> str:
        """One line: the tables, the months and the segments (no data-dependent sums)."""
        present = [str(t) for t in self.tables.index[self.tables["in dataset"]]]
        segs = ("" if self.segments is None
                else f"; segments: {', '.join(str(s) for s in self.segments.index)}")
        return (f"Tables: {', '.join(present)}; MRR months {fmt(self.first_month, 'month')} to "
                f"{fmt(self.last_month, 'month')} ({fmt(self.months, 'count')}){segs}.")

    def to_text(self) -> str:
        """The summary, the tables and the segments as plain text."""
        parts = [self.view("summary").to_text(), "", self.view("tables").to_text()]
        if self.segments is not None:
            parts += ["", self.view("segments").to_text()]
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"<DatasetOverview: {self.outline()}>"

    def _repr_html_(self) -> str:
        return self.view("summary")._repr_html_() + self.view("tables")._repr_html_()


def _order(dataset: Dataset, by: str, names: pd.Index) -> list[str]:
    """Segments in their natural order (a derived segmentation's bands), others sorted;
    labels in brackets (no value, never paid) last."""
    from cs_sim.segmentation import DERIVED
    from cs_sim.segmentation._segments import ARR_TIERS, LIFECYCLE_STAGES, SIZE_BANDS, USAGE_BANDS

    bands = {"size_band": SIZE_BANDS, "arr_tier": ARR_TIERS, "lifecycle_stage": LIFECYCLE_STAGES,
             "usage_band": USAGE_BANDS}.get(by, ()) if by in DERIVED else ()
    rank = {label: i for i, (label, _) in enumerate(bands)}
    return sorted((str(n) for n in names),
                  key=lambda n: (n.startswith("("), rank.get(n, len(rank)), n))


def _kpis(dataset: Dataset) -> pd.DataFrame:
    """The baseline's KPIs (confidence bounds left out), their tables, and availability."""
    from cs_sim.kpis import registered_kpis

    rows = []
    for k in registered_kpis():
        if k.name.endswith(("_ci_low", "_ci_high")):
            continue
        have = all(getattr(dataset, t) is not None for t in k.tables)
        needs = ", ".join(k.tables)
        column = _KPI_COLUMNS.get(k.name)
        if column is not None:
            table, col = column
            frame = getattr(dataset, table)
            have = have and frame is not None and col in frame.columns
            needs = needs.replace(table, f"{table} (with {col})")
        rows.append({"kpi": k.name, "label": k.label, "needs": needs, "available": have})
    return pd.DataFrame(rows, columns=["kpi", "label", "needs", "available"]).set_index("kpi")


def dataset_overview(dataset: Dataset, *, by: str | None = "segment") -> DatasetOverview:
    """What a dataset holds: tables, rows, months covered, accounts, MRR and segments.

    Parameters
    ----------
    dataset : cs_sim.io.Dataset
        A validated dataset (:func:`cs_sim.load_dataset`).
    by : str or None, default "segment"
        The segmentation to count accounts by: an accounts column or a derived one
        (:func:`cs_sim.segmentation.segment_accounts`); ``"segment"`` falls back to the
        company size band when the accounts table has no ``segment`` column.

    Returns
    -------
    DatasetOverview
    """
    from cs_sim.research._result import _labels, _resolve_by
    from cs_sim.segmentation._segments import MrrPanel

    rows = []
    for name in TABLES:
        frame = getattr(dataset, name)
        row: dict[str, Any] = {"table": name, "in dataset": frame is not None,
                               "feeds": TABLE_FEEDS[name]}
        if frame is not None:
            row["rows"] = len(frame)
            if "account_id" in frame.columns:
                row["accounts"] = int(frame["account_id"].nunique())
            date = TABLE_DATES[name]
            if date in frame.columns:
                row["from"], row["to"], row["months"] = _months(frame[date])
        rows.append(row)
    tables = pd.DataFrame(rows).set_index("table")
    tables = tables.reindex(columns=["in dataset", "rows", "accounts", "from", "to", "months",
                                     "feeds"])
    mrr = dataset.mrr
    month = pd.to_datetime(mrr["month"]).dt.to_period("M").dt.to_timestamp()
    first, last, months = _months(month)
    at_end = mrr[(month == last).to_numpy()]
    paying = at_end.loc[at_end["mrr"] > 0, "account_id"]
    end_mrr = at_end.groupby("account_id")["mrr"].sum()
    segments, notes, used = None, [], _resolve_by(dataset, by)
    if used is not None:
        try:
            labels = _labels(dataset, used, MrrPanel.of(dataset))
        except CsSimError as exc:
            notes.append(f"the accounts cannot be segmented by {used!r}: {exc}")
        else:
            seg = pd.DataFrame({"accounts": labels.value_counts()})
            pay = labels.reindex(pd.Index(paying.unique())).value_counts()
            money = end_mrr.groupby(labels.reindex(end_mrr.index).to_numpy()).sum()
            seg["paying_accounts"] = pay.reindex(seg.index).fillna(0).astype(np.int64)
            seg["mrr"] = money.reindex(seg.index).fillna(0.0)
            total = seg["mrr"].sum()
            seg["mrr_share"] = seg["mrr"] / total if total > 0 else np.nan
            seg.index.name = "segment"
            segments = seg.loc[_order(dataset, used, seg.index)]
    return DatasetOverview(kpis=_kpis(dataset),
        tables=tables, accounts=len(dataset.accounts),
        paying_accounts=int(paying.nunique()), first_month=first, last_month=last,
        months=months, mrr=float(at_end["mrr"].sum()), segments=segments, by=used,
        currency=dataset.currency, warnings=tuple(dataset.warnings), source=dataset.source,
        notes=notes,
    )
