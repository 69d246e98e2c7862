"""Money in one currency: the ``currency`` columns, the ``fx`` table and the conversion.

The money tables (``mrr``, ``costs``; :data:`cs_sim.tables.MONEY_COLUMNS`) may carry an
optional ``currency`` column (an ISO code per row). Amounts in different currencies
cannot be added up, so a dataset holding more than one currency is a problem, unless an
``fx`` table gives the rate of each currency to one reporting currency (``to_currency``):
then every amount is converted on load (the amount as written is kept in
``<column>_original``, its currency in ``currency_original``). A money table without a
``currency`` column is taken to be in the reporting currency. Part of :mod:`cs_sim.io`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cs_sim.errors import Problem
from cs_sim.io._check import CheckedTable
from cs_sim.tables import CURRENCY_CODE, MONEY_COLUMNS

__all__ = ["Money", "convert", "reconcile"]

_FX_COLUMNS = "currency, to_currency, rate and, when rates change, month"


@dataclass
class Money:
    """What :func:`reconcile` found: the reporting currency and the rate of each row."""

    currency: str | None = None
    #: table -> rate of each row to the reporting currency (1.0 where no conversion)
    rates: dict[str, np.ndarray] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def _counts(values: pd.Series) -> Counter[str]:
    return Counter(str(v) for v in values.dropna())


def _show(counts: Counter[str]) -> str:
    return ", ".join(f"{cur} on {n:,} row{'s' if n != 1 else ''}" for cur, n in
                     counts.most_common())


def _reporting(fx: CheckedTable | None, problems: list[Problem]) -> str | None:
    if fx is None or "to_currency" not in fx.work or not len(fx.work):
        return None
    targets = _counts(fx.work["to_currency"])
    if not targets:
        return None
    main = targets.most_common(1)[0][0]
    if len(targets) > 1:
        pos = np.flatnonzero(fx.work["to_currency"].notna().to_numpy()
                             & (fx.work["to_currency"] != main).to_numpy())
        problems.append(fx.raw.problem(
            f"fx converts to more than one currency ({_show(targets)}): a dataset reports "
            "all its money in one currency",
            f"give every row the same to_currency (e.g. {main}), converting the other rates",
            column="to_currency", positions=pos))
    return main


def _mixed(tables: dict[str, CheckedTable], used: dict[str, pd.Series],
           problems: list[Problem]) -> str | None:
    """Without fx: the one currency of the data, or a problem per table that mixes."""
    total: Counter[str] = Counter()
    for series in used.values():
        total.update(_counts(series))
    if not total:
        return None
    main = total.most_common(1)[0][0]
    if len(total) == 1:
        return main
    for name, series in used.items():
        other = series.notna().to_numpy() & (series != main).to_numpy()
        if not other.any():
            continue
        problems.append(tables[name].raw.problem(
            f"more than one currency in this dataset ({_show(total)}): amounts in "
            "different currencies cannot be added up",
            f"convert these amounts to {main} before loading, or add an fx table (fx.csv "
            f"with the columns {_FX_COLUMNS}) giving the rate of each currency to the "
            "reporting currency",
            column="currency", positions=np.flatnonzero(other)))
    return main


def _lookup(fx: CheckedTable, reporting: str, problems: list[Problem]
            ) -> tuple[pd.Series, bool]:
    """fx rates indexed by currency (and month when fx has months)."""
    work = fx.work
    ok = (work["to_currency"] == reporting).to_numpy() & work["rate"].notna().to_numpy()
    ok &= work["currency"].notna().to_numpy()
    by_month = "month" in work.columns
    keys = ["currency", "month"] if by_month else ["currency"]
    if by_month:
        ok &= work["month"].notna().to_numpy()
    rows = work[ok]
    if not by_month:
        dup = rows["currency"].duplicated(keep=False).to_numpy()
        if dup.any():
            names = ", ".join(sorted(set(rows["currency"][dup])))
            problems.append(fx.raw.problem(
                f"more than one rate for {names} and no month column to tell them apart",
                "keep one rate per currency, or add a month column (YYYY-MM) so that each "
                "rate applies to its month",
                column="currency", positions=rows.index.to_numpy()[dup]))
            rows = rows[~rows["currency"].duplicated()]
    rows = rows[~rows.duplicated(keys)]  # a repeated (currency, month) is reported by its key
    self_rate = rows[(rows["currency"] == reporting) & (rows["rate"] != 1.0)]
    if len(self_rate):
        problems.append(fx.raw.problem(
            f"the rate of the reporting currency {reporting} to itself must be 1",
            f"remove these rows or set their rate to 1 ({reporting} needs no rate)",
            column="rate", positions=self_rate.index.to_numpy()))
    return rows.set_index(keys)["rate"], by_month


def reconcile(tables: dict[str, CheckedTable]) -> Money:
    """Check the currencies of the money tables; find the rate of each row.

    Parameters
    ----------
    tables : dict of str to CheckedTable
        The tables read (values parsed).

    Returns
    -------
    Money
        The reporting currency (None when the data never say), the rates of the rows
        of each money table with a ``currency`` column, and any problems.
    """
    out = Money()
    fx = tables.get("fx")
    used = {}  # currency column per money table; malformed codes are reported already
    for name in MONEY_COLUMNS:
        if name in tables and "currency" in tables[name].work:
            codes = tables[name].work["currency"]
            used[name] = codes.where(codes.astype(str).str.fullmatch(CURRENCY_CODE))
    reporting = _reporting(fx, out.problems)
    if reporting is None:
        out.currency = _mixed(tables, used, out.problems)
        return out
    out.currency = reporting
    if not used:
        return out
    assert fx is not None
    rates, by_month = _lookup(fx, reporting, out.problems)
    for name, currency in used.items():
        work = tables[name].work
        rate = np.ones(len(work))
        foreign = currency.notna().to_numpy() & (currency != reporting).to_numpy()
        if not foreign.any():
            out.rates[name] = rate
            continue
        if by_month and "month" in work:
            keys = pd.MultiIndex.from_arrays([currency[foreign], work["month"][foreign]])
        else:
            keys = pd.Index(currency[foreign])
        found = rates.reindex(keys).to_numpy(dtype=float) if len(rates) else np.full(
            int(foreign.sum()), np.nan)
        rate[foreign] = found
        missing = np.flatnonzero(foreign)[np.isnan(found)]
        if missing.size:
            miss = work.iloc[missing]
            if by_month and "month" in work:
                pairs = sorted({f"{c} {m:%Y-%m}" for c, m in zip(
                    miss["currency"], miss["month"], strict=True) if pd.notna(m)})
                what = ", ".join(pairs[:4]) + (f" and {len(pairs) - 4} more" if len(
                    pairs) > 4 else "")
                fix = (f"add rows to fx.csv (currency, to_currency {reporting}, rate, month) "
                       f"for {what}")
            else:
                curs = sorted(set(miss["currency"]))
                what = ", ".join(curs)
                fix = f"add a row to fx.csv for each of {what} (to_currency {reporting}, rate)"
            out.problems.append(tables[name].raw.problem(
                f"no exchange rate to {reporting} for {what}: these amounts cannot be "
                f"converted to the reporting currency", fix, column="currency",
                positions=missing))
        out.rates[name] = rate
    return out


def convert(name: str, frame: pd.DataFrame, rates: np.ndarray, currency: str) -> pd.DataFrame:
    """Convert the money columns of one loaded table to the reporting currency.

    Rows already in ``currency`` keep their amounts; the amounts as written are kept in
    ``<column>_original`` and their currency in ``currency_original``.
    """
    if np.all(rates == 1.0):
        return frame
    out = frame.copy()
    for col in MONEY_COLUMNS[name]:
        out[f"{col}_original"] = frame[col]
        out[col] = frame[col].to_numpy(dtype=float) * rates
    out["currency_original"] = frame["currency"]
    out["currency"] = currency
    return out
