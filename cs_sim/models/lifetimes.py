"""Customer lives from a dataset: when each account started, how long it lasted.

An account's life starts in its signup month (or its first paid month when that is
earlier or the signup date is missing) and ends when it stops paying: ``duration`` is
the number of months from the start to the first month with no MRR after its first
paid month (``churned = True``), or to the last month of the data (``churned =
False``, right-censored). So an account that paid January to March and nothing in
April has ``duration = 3`` and churned; one still paying in the last month ``M`` has
``duration = M - start`` (it is known to have survived that many monthly renewals).
Accounts already paying in the first month of the data entered the observation late:
``entry`` is their age then (left truncation), and survival models condition on
having survived to it. Reactivations after a churn are ignored (the first life
counts).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cs_sim.errors import ModelInputError

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.io import Dataset

__all__ = ["account_lifetimes"]


def _month_index(values: pd.Series) -> pd.Series:
    stamp = pd.to_datetime(values, errors="coerce")
    return stamp.dt.year * 12 + stamp.dt.month - 1


def account_lifetimes(dataset: Dataset, *, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """One row per customer: when its life started, how long it lasted, whether it ended.

    See the module docstring for the definitions.

    Parameters
    ----------
    dataset : Dataset
        Needs ``mrr``; ``accounts.signup_date`` (when present) dates the start of the
        accounts already paying in the first month.
    by : str or sequence of str, optional
        Columns of ``accounts`` to add (e.g. ``"segment"``, ``["plan", "contract"]``).

    Returns
    -------
    DataFrame
        ``account_id, start_month, first_paid_month, entry, duration, churned,
        last_mrr`` and the ``by`` columns; durations and entry in months.

    Raises
    ------
    ModelInputError
        If ``mrr`` has no paying month, or a ``by`` column is not in ``accounts``.
    """
    mrr = dataset.mrr
    for col in ("account_id", "month", "mrr"):
        if col not in mrr.columns:
            raise ModelInputError(f"mrr: column '{col}' is missing")
    month = _month_index(mrr["month"])
    paid_rows = pd.to_numeric(mrr["mrr"], errors="coerce").fillna(0).to_numpy() > 0
    if not paid_rows.any():
        raise ModelInputError("mrr: no account-month has MRR > 0; survival needs paying "
                              "customers")
    first, last = int(month.min()), int(month.max())
    codes, accounts = pd.factorize(mrr["account_id"], sort=True)
    col = (month - first).to_numpy(dtype=int)
    paid = np.zeros((len(accounts), last - first + 1), dtype=bool)
    amount = np.zeros(paid.shape)
    paid[codes[paid_rows], col[paid_rows]] = True
    amount[codes[paid_rows], col[paid_rows]] = pd.to_numeric(mrr["mrr"]).to_numpy()[paid_rows]
    ever = paid.any(axis=1)
    paid, amount, accounts = paid[ever], amount[ever], pd.Index(accounts)[ever]
    n_months = paid.shape[1]
    start = np.argmax(paid, axis=1)
    # first unpaid month after the start
    gap = (~paid) & (np.arange(n_months)[None, :] > start[:, None])
    churned = gap.any(axis=1)
    stop = np.where(churned, np.argmax(gap, axis=1), n_months - 1)
    duration = np.where(churned, stop - start, n_months - 1 - start)
    last_paid = np.where(churned, stop - 1, n_months - 1)
    last_mrr = amount[np.arange(len(accounts)), last_paid]
    entry = np.zeros(len(accounts), dtype=int)
    start_abs = start + first
    acc = dataset.accounts
    if "signup_date" in acc.columns:
        signup = _month_index(acc.set_index("account_id")["signup_date"]).reindex(accounts)
        signup = signup.to_numpy(dtype=float)
        earlier = (start == 0) & np.isfinite(signup) & (signup < first)
        entry = np.where(earlier, first - np.nan_to_num(signup), 0).astype(int)
        start_abs = np.where(earlier, np.nan_to_num(signup), start_abs).astype(int)
        duration = duration + entry
    out = pd.DataFrame({
        "account_id": accounts,
        "start_month": _to_stamp(start_abs),
        "first_paid_month": _to_stamp(start + first),
        "entry": entry,
        "duration": duration.astype(int),
        "churned": churned,
        "last_mrr": last_mrr,
    })
    if by is not None:
        cols = [by] if isinstance(by, str) else list(by)
        missing = [c for c in cols if c not in acc.columns]
        if missing:
            raise ModelInputError(f"accounts: column(s) {', '.join(missing)} not found; "
                                  f"columns: {', '.join(map(str, acc.columns))}")
        attrs = acc.drop_duplicates("account_id").set_index("account_id")[cols]
        out = out.join(attrs, on="account_id")
    return out


def _to_stamp(index: np.ndarray) -> pd.Series:
    idx = np.asarray(index, dtype=int)
    return pd.to_datetime(pd.DataFrame({"year": idx // 12, "month": idx % 12 + 1, "day": 1}))
