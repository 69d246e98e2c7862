"""Cohort retention tables: cohorts by signup month (or first paid month) x months since.

A pure function over the canonical ``mrr`` table (and, for signup cohorts, the
``accounts`` table), read as :mod:`cs_sim.kpis.revenue` reads it: a missing
account-month means MRR 0, an account is paying when its MRR is > 0.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from cs_sim.kpis._util import KpiInputError, month_numbers, require_columns
from cs_sim.kpis.revenue import _build_matrix

__all__ = ["cohort_retention"]


def _signup_offsets(accounts: pd.DataFrame, ids: pd.Index, first_month: pd.Timestamp
                    ) -> np.ndarray:
    """Signup month of each account in ``ids`` as an offset from ``first_month``.

    Accounts without a signup date get a sentinel the caller replaces.
    """
    require_columns(accounts, ["account_id", "signup_date"], "accounts")
    signup = accounts.drop_duplicates("account_id").set_index("account_id")["signup_date"]
    signup = pd.to_datetime(signup.reindex(ids), errors="coerce")
    known = signup.notna().to_numpy()
    out = np.full(len(ids), np.iinfo(np.int64).min, dtype=np.int64)
    if known.any():
        numbers = month_numbers(signup[known].astype("datetime64[ns]"), name="signup_date")
        base = month_numbers(pd.Series([first_month]))[0]
        out[known] = numbers - base
    return out


def cohort_retention(
    mrr: pd.DataFrame,
    *,
    kind: Literal["logo", "revenue"] = "logo",
    by: str | None = None,
    accounts: pd.DataFrame | None = None,
    freq: Literal["M", "Q"] = "M",
) -> pd.DataFrame:
    """Cohort retention table: cohorts x months since the cohort's start.

    An account's cohort is the month of its ``signup_date`` when ``accounts`` is given
    and has one, else its first month with MRR > 0. Only accounts that paid at some
    time are counted. For cohort c and k months later:

    - ``kind='logo'``: share of the cohort's accounts with MRR > 0 at c + k;
    - ``kind='revenue'``: the cohort's total MRR at c + k / its MRR at its first month
      with data and MRR (month 0 when it paid then: net revenue retention of the
      cohort, expansion and reactivation included).

    With first-paid cohorts, column 0 is 1.0 by construction, and accounts already
    paying in the first month of the data form that month's cohort although they may
    have started earlier (left-censored: read that row with care). Signup cohorts
    remove that blur: a 12-month export of customers who signed up over several years
    gives one row per signup month, and column 0 is the share paying in the signup
    month. Cells outside the months of the data (before its first month, after its
    last) are NaN: unknown, not zero.

    Parameters
    ----------
    mrr : DataFrame
        Canonical mrr table.
    kind : {'logo', 'revenue'}, default 'logo'
        Count accounts or revenue.
    by : str, optional
        A fixed per-account column to group by (see :func:`~cs_sim.kpis.mrr_bridge`);
        it becomes the first index level.
    accounts : DataFrame, optional
        The accounts table; its ``signup_date`` gives the cohorts.
    freq : {'M', 'Q'}, default 'M'
        Cohorts of a calendar month or of a quarter. Columns still count the months
        since each account's own start; a quarter cohort's cell is shown only when every
        account of the cohort is observed then (NaN at the edge of the data otherwise),
        so each cell describes the whole cohort.

    Returns
    -------
    DataFrame
        Index ``cohort`` (first day of the cohort's month or quarter; ``[by, cohort]``
        when grouped), columns ``0 .. n - 1`` named ``months_since_start``, values
        fractions.
    """
    if kind not in ("logo", "revenue"):
        raise KpiInputError(f"kind must be 'logo' or 'revenue', got {kind!r}")
    if freq not in ("M", "Q"):
        raise KpiInputError(f"freq must be 'M' (monthly cohorts) or 'Q' (quarterly), "
                            f"got {freq!r}")
    m = _build_matrix(mrr, by)
    mat = m.units
    n_months = mat.shape[1]
    paid = mat > 0
    ever = paid.any(axis=1)
    start = np.argmax(paid, axis=1).astype(np.int64)
    if accounts is not None and "signup_date" in accounts.columns:
        signup = _signup_offsets(accounts, m.accounts, m.months[0])
        known = signup != np.iinfo(np.int64).min
        start = np.where(known, signup, start)
    start = np.where(ever, start, 0)
    n_cols = n_months - int(start[ever].min(initial=0))
    idx = start[:, None] + np.arange(n_cols)[None, :]
    valid = (idx >= 0) & (idx < n_months)
    taken = np.take_along_axis(mat, np.clip(idx, 0, n_months - 1), axis=1).astype(float)
    if kind == "logo":
        values = np.where(valid, (taken > 0).astype(float), np.nan)
    else:
        values = np.where(valid, taken, np.nan)
    columns = pd.RangeIndex(n_cols, name="months_since_start")
    frame = pd.DataFrame(values, columns=columns)
    base_month = month_numbers(pd.Series(m.months[:1]))[0]
    frame["cohort"] = (base_month + start).astype("datetime64[M]").astype("datetime64[ns]")
    if freq == "Q":
        frame["cohort"] = frame["cohort"].dt.to_period("Q").dt.start_time
    keys: list[str] = []
    if by is not None:
        seg = np.empty(len(m.accounts), dtype=object)
        for label, rows in m.groups:
            seg[rows] = label
        frame[by] = seg
        keys = [by]
    frame = frame[ever]
    grouped = frame.groupby([*keys, "cohort"], dropna=False)
    summed = grouped[list(columns)].sum(min_count=1)
    # a cell describes the whole cohort: every account observed (always so monthly)
    summed = summed.where(grouped[list(columns)].count().eq(grouped.size(), axis=0))
    if kind == "logo":
        table = summed.div(grouped.size(), axis=0)
    else:
        base = summed.apply(lambda row: row[row > 0].iloc[0] if (row > 0).any() else np.nan,
                            axis=1)
        table = summed.div(base, axis=0)
    table.columns = columns
    return table
