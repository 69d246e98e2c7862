"""Warnings about the months of the ``mrr`` table that change the MRR bridge silently.

A valid ``mrr`` table can still hold months that change every revenue figure: a month
with no row at all between the first and the last (every account counts as MRR 0 that
month, so all churn and come back), and trailing months whose rows are all 0 (an export
cut before the month was billed makes every customer churn in it). The data are not
wrong in themselves, so these are warnings, not problems. Part of :mod:`cs_sim.io`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["mrr_warnings"]


def _list(months: pd.DatetimeIndex, limit: int = 4) -> str:
    shown = ", ".join(f"{m:%Y-%m}" for m in months[:limit])
    return shown + (f" and {len(months) - limit} more" if len(months) > limit else "")


def mrr_warnings(mrr: pd.DataFrame, *, file: str = "mrr") -> list[str]:
    """Warnings about missing months and all-zero closing months of an ``mrr`` table.

    Parameters
    ----------
    mrr : pandas.DataFrame
        A loaded ``mrr`` table (``month`` on the first of the month, ``mrr`` >= 0).
    file : str
        How the warnings name the file, e.g. ``"mrr.csv"``.

    Returns
    -------
    list of str
        One sentence each, naming the months and what to do; empty when nothing is odd.

    Examples
    --------
    >>> mrr = pd.DataFrame({"account_id": ["a", "a", "a"],
    ...                     "month": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-04-01"]),
    ...                     "mrr": [10.0, 10.0, 0.0]})
    >>> for w in mrr_warnings(mrr, file="mrr.csv"):
    ...     print(w)  # doctest: +NORMALIZE_WHITESPACE
    mrr.csv has no rows for 2024-02 (the data run from 2024-01 to 2024-04): a month
    without rows counts as MRR 0 for every account, so the MRR bridge shows everyone
    churning then and coming back after; add the rows of that month if it was billed.
    mrr.csv: in the last month, 2024-04, every row has MRR 0 (1 row; 1 account paid in
    2024-03): the MRR bridge counts every customer as churned then. If 2024-04 was not
    billed yet or was exported empty, remove its rows (or use --end 2024-03); if every
    customer really left, ignore this warning.
    """
    if not len(mrr):
        return []
    month = pd.DatetimeIndex(mrr["month"])
    paid = mrr["mrr"].to_numpy(dtype=float) > 0
    months = pd.date_range(month.min(), month.max(), freq="MS")
    present = pd.DatetimeIndex(month.unique())
    out: list[str] = []
    gaps = months.difference(present)
    if len(gaps):
        out.append(
            f"{file} has no rows for {_list(gaps)} (the data run from {months[0]:%Y-%m} to "
            f"{months[-1]:%Y-%m}): a month without rows counts as MRR 0 for every account, "
            "so the MRR bridge shows everyone churning then and coming back after; add the "
            f"rows of {'that month' if len(gaps) == 1 else 'those months'} if "
            f"{'it was' if len(gaps) == 1 else 'they were'} billed."
        )
    if not paid.any():
        return out
    last_paid = month[paid].max()
    closing = present[present > last_paid].sort_values()
    if len(closing):
        n_rows = int((month > last_paid).sum())
        n_paying = int(np.unique(mrr["account_id"].to_numpy()[paid & (month == last_paid)]).size)
        which = (f"in the last month, {closing[0]:%Y-%m}," if len(closing) == 1
                 else f"in the last {len(closing)} months, {_list(closing)},")
        out.append(
            f"{file}: {which} every row has MRR 0 ({n_rows:,} row{'s' if n_rows != 1 else ''}; "
            f"{n_paying:,} account{'s' if n_paying != 1 else ''} paid in {last_paid:%Y-%m}): "
            f"the MRR bridge counts every customer as churned then. If {closing[0]:%Y-%m} "
            f"was not billed yet or was exported empty, remove its rows (or use --end "
            f"{last_paid:%Y-%m}); if every customer really left, ignore this warning."
        )
    return out
