"""Engagement KPIs: active users (MAU, DAU, WAU, stickiness), product usage rate, seat
utilisation, time on platform, free-trial conversion.

Usage-based functions take the canonical ``usage`` table (one row per account and month).
Unlike MRR, a missing usage row is *no data*, not zero use: months without any usage row
(for a group) are absent from the output rather than reported as zero.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from cs_sim.kpis._util import (
    KpiInputError,
    by_columns,
    check_nonnegative,
    period_range,
    require_columns,
    safe_ratio,
    to_month,
)

__all__ = [
    "active_users",
    "product_usage_rate",
    "seat_utilisation",
    "time_on_platform",
    "trial_conversion",
]

logger = logging.getLogger(__name__)


def _usage_work(
    usage: pd.DataFrame, columns: list[str], by: str | None, *, optional: tuple[str, ...] = ()
) -> tuple[pd.DataFrame, list[str]]:
    """Validated working copy: keys, month, and numeric ``columns`` (optional ones if present)."""
    keys = by_columns(by, usage, "usage")
    require_columns(usage, ["account_id", "month", *columns], "usage")
    if len(usage) == 0:
        raise KpiInputError("usage: the table is empty")
    work = pd.DataFrame({"account_id": usage["account_id"].to_numpy(),
                         "month": to_month(usage["month"]).to_numpy()})
    if work.duplicated(["account_id", "month"]).any():
        n = int(work.duplicated(["account_id", "month"]).sum())
        raise KpiInputError(f"usage: (account_id, month) must be unique; {n} repeated row(s)")
    for c in columns:
        work[c] = check_nonnegative(usage[c], column=c, table="usage")
    for c in optional:
        if c in usage.columns:
            vals = pd.to_numeric(usage[c]).to_numpy(dtype=float)
            if (vals[~np.isnan(vals)] < 0).any():
                raise KpiInputError(f"usage: column {c!r} must be >= 0")
            work[c] = vals
    for k in keys:
        work[k] = usage[k].to_numpy()
    return work, keys


def _sorted(out: pd.DataFrame, keys: list[str], col: str = "month") -> pd.DataFrame:
    return out.sort_values([*keys, col], kind="stable").reset_index(drop=True)


def active_users(usage: pd.DataFrame, *, by: str | None = None) -> pd.DataFrame:
    """Monthly active users (MAU), DAU, WAU and stickiness per month.

    ``mau`` = sum of ``active_users`` (users active at least once in the month) over
    accounts; ``dau`` and ``wau`` = sums of the accounts' mean daily / weekly active
    users; ``stickiness = dau / mau`` (share of monthly users active on a typical day)
    and ``wau_mau = wau / mau``. Standard product-analytics definitions.

    DAU and WAU need the optional ``dau`` / ``wau`` columns. When a column is absent,
    or missing for any account in a group-month, the dependent columns are NaN (not
    zero) and an INFO message is logged: those figures are unavailable, not zero.

    Parameters
    ----------
    usage : DataFrame
        Canonical usage table (``account_id``, ``month``, ``active_users``; optional
        ``dau``, ``wau``).
    by : str, optional
        Column of ``usage`` to group by (e.g. a segment via :func:`~cs_sim.kpis.attach`).

    Returns
    -------
    DataFrame
        ``[by], month, accounts, mau, dau, wau, stickiness, wau_mau``; one row per
        (``by``, month) with usage data.
    """
    work, keys = _usage_work(usage, ["active_users"], by, optional=("dau", "wau"))
    agg: dict[str, Any] = {"accounts": ("account_id", "size"), "mau": ("active_users", "sum")}
    for c in ("dau", "wau"):
        if c in work.columns:
            work[f"{c}_na"] = work[c].isna()
            agg[c] = (c, "sum")
            agg[f"{c}_na"] = (f"{c}_na", "sum")
        else:
            logger.info("usage has no %r column: %s is reported as unavailable (NaN)", c,
                        c.upper())
    out = work.groupby([*keys, "month"], dropna=False).agg(**agg).reset_index()
    for c in ("dau", "wau"):
        if c in out.columns:
            out[c] = out[c].where(out.pop(f"{c}_na") == 0)
            if out[c].isna().any():
                logger.info("%s is missing for some accounts: NaN for those months", c)
        else:
            out[c] = np.nan
    out["accounts"] = out["accounts"].astype(np.int64)
    out["stickiness"] = safe_ratio(out["dau"], out["mau"])
    out["wau_mau"] = safe_ratio(out["wau"], out["mau"])
    cols = [*keys, "month", "accounts", "mau", "dau", "wau", "stickiness", "wau_mau"]
    return _sorted(out[cols], keys)


def product_usage_rate(
    usage: pd.DataFrame, mrr: pd.DataFrame, *, by: str | None = None
) -> pd.DataFrame:
    """Product usage rate: share of paying accounts that used the product in the month.

    ``usage_rate = paying accounts with active_users > 0 / paying accounts`` where
    paying means MRR > 0 that month. A paying account without a usage row counts as
    not using. Only months present in the usage table are reported (before or after
    the usage data, the rate is unknown, not zero).

    Parameters
    ----------
    usage : DataFrame
        Canonical usage table.
    mrr : DataFrame
        Canonical mrr table.
    by : str, optional
        Column of ``mrr`` to group by (the paying account's segment that month).

    Returns
    -------
    DataFrame
        ``[by], month, paying_accounts, using_accounts, usage_rate``.
    """
    work, _ = _usage_work(usage, ["active_users"], None)
    keys = by_columns(by, mrr, "mrr")
    require_columns(mrr, ["account_id", "month", "mrr"], "mrr")
    amounts = check_nonnegative(mrr["mrr"], column="mrr", table="mrr")
    paying = pd.DataFrame({"account_id": mrr["account_id"].to_numpy(),
                           "month": to_month(mrr["month"]).to_numpy()})
    for k in keys:
        paying[k] = mrr[k].to_numpy()
    paying = paying[amounts > 0]
    paying = paying[paying["month"].isin(work["month"].unique())]
    merged = paying.merge(work[["account_id", "month", "active_users"]],
                          on=["account_id", "month"], how="left")
    merged["using"] = merged["active_users"].fillna(0) > 0
    out = (
        merged.groupby([*keys, "month"], dropna=False)
        .agg(paying_accounts=("account_id", "size"), using_accounts=("using", "sum"))
        .reset_index()
    )
    out["paying_accounts"] = out["paying_accounts"].astype(np.int64)
    out["using_accounts"] = out["using_accounts"].astype(np.int64)
    out["usage_rate"] = safe_ratio(out["using_accounts"], out["paying_accounts"])
    return _sorted(out[[*keys, "month", "paying_accounts", "using_accounts", "usage_rate"]],
                   keys)


def seat_utilisation(usage: pd.DataFrame, *, by: str | None = None) -> pd.DataFrame:
    """Seat utilisation per month: active users / licensed seats.

    ``seat_utilisation = sum(active_users) / sum(seats)`` over the accounts of the group
    (a ratio of totals, so large accounts weigh more; NaN when there are no seats).
    Values above 1 mean more users than seats (shared or unlimited licences).

    Parameters
    ----------
    usage : DataFrame
        Canonical usage table (``active_users``, ``seats``).
    by : str, optional
        Column of ``usage`` to group by.

    Returns
    -------
    DataFrame
        ``[by], month, accounts, active_users, seats, seat_utilisation``.
    """
    work, keys = _usage_work(usage, ["active_users", "seats"], by)
    out = (
        work.groupby([*keys, "month"], dropna=False)
        .agg(accounts=("account_id", "size"), active_users=("active_users", "sum"),
             seats=("seats", "sum"))
        .reset_index()
    )
    out["accounts"] = out["accounts"].astype(np.int64)
    out["seat_utilisation"] = safe_ratio(out["active_users"], out["seats"])
    return _sorted(out, keys)


def time_on_platform(usage: pd.DataFrame, *, by: str | None = None) -> pd.DataFrame:
    """Time on platform per month: minutes per active user.

    ``minutes_per_active_user = sum(minutes) / sum(active_users)`` and
    ``sessions_per_active_user = sum(sessions) / sum(active_users)`` (NaN when no user
    was active). The ``sessions`` figures are NaN if the column is absent.

    Parameters
    ----------
    usage : DataFrame
        Canonical usage table (``active_users``, ``minutes``; ``sessions``).
    by : str, optional
        Column of ``usage`` to group by.

    Returns
    -------
    DataFrame
        ``[by], month, active_users, minutes, sessions, minutes_per_active_user,
        sessions_per_active_user``.
    """
    cols = ["active_users", "minutes"]
    work, keys = _usage_work(usage, cols, by, optional=("sessions",))
    if "sessions" not in work.columns:
        work["sessions"] = np.nan
    out = (
        work.groupby([*keys, "month"], dropna=False)
        .agg(active_users=("active_users", "sum"), minutes=("minutes", "sum"),
             sessions=("sessions", lambda s: s.sum(min_count=len(s))))
        .reset_index()
    )
    out["minutes_per_active_user"] = safe_ratio(out["minutes"], out["active_users"])
    out["sessions_per_active_user"] = safe_ratio(out["sessions"], out["active_users"])
    return _sorted(out, keys)


def trial_conversion(
    trials: pd.DataFrame,
    *,
    as_of: Any = None,
    since: Any = None,
    by_month: bool = True,
    by: str | None = None,
) -> pd.DataFrame:
    """Free-trial conversion rate: converted trials / trials ended.

    A trial counts once it has ended (``trial_end <= as_of``); trials still running are
    left out, since they may still convert. ``conversion_rate = converted / trials
    ended``. With ``since`` only the trials that ended on or after that date count
    (``since <= trial_end <= as_of``: the trials of a window). With ``by_month`` the
    trials are grouped by the month of ``trial_end``.

    Parameters
    ----------
    trials : DataFrame
        Canonical trials table (``trial_end``, ``converted``; ``by`` if given).
    as_of : date-like, optional
        Cut-off date (inclusive); default: the latest ``trial_end`` (every trial).
    since : date-like, optional
        First ``trial_end`` date counted (inclusive); default: every trial.
    by_month : bool, default True
        One row per month of trial end (every month between the first and the last,
        zeros included); False for one row per group.
    by : str, optional
        Column of ``trials`` to group by.

    Returns
    -------
    DataFrame
        ``[by], [month], trials_ended, converted, conversion_rate``.
    """
    keys = by_columns(by, trials, "trials")
    require_columns(trials, ["trial_end", "converted"], "trials")
    end = pd.to_datetime(trials["trial_end"]).astype("datetime64[ns]")
    if end.isna().any():
        raise KpiInputError("trials: trial_end has missing values")
    conv = trials["converted"]
    if conv.dtype == bool:
        converted = conv.to_numpy()
    else:
        vals = pd.Series(conv, dtype=object)
        ok = vals.isin([True, False, 0, 1])
        if not ok.all():
            raise KpiInputError(
                "trials: converted must be true/false; invalid value(s) e.g. "
                f"{vals[~ok].head(3).tolist()}"
            )
        converted = vals.astype(bool).to_numpy()
    cutoff = end.max() if as_of is None else pd.Timestamp(as_of)
    ended = (end <= cutoff).to_numpy()
    if since is not None:
        ended = ended & (end >= pd.Timestamp(since)).to_numpy()
    work = pd.DataFrame({"trials_ended": np.ones(int(ended.sum()), dtype=np.int64),
                         "converted": converted[ended].astype(np.int64)})
    for k in keys:
        work[k] = trials[k].to_numpy()[ended]
    if by_month:
        work["month"] = to_month(end[ended]).to_numpy() if ended.any() else pd.Series(
            [], dtype="datetime64[ns]")
        agg = work.groupby([*keys, "month"], dropna=False)[["trials_ended", "converted"]].sum()
        agg = agg.reset_index()
        if len(work):
            months = period_range(work["month"].min(), work["month"].max(), "M")
            grid = (agg[keys].drop_duplicates().merge(pd.DataFrame({"month": months}),
                                                      how="cross")
                    if keys else pd.DataFrame({"month": months}))
            agg = grid.merge(agg, on=[*keys, "month"], how="left")
        out = _sorted(agg, keys)
    elif keys:
        out = work.groupby(keys, dropna=False)[["trials_ended", "converted"]].sum().reset_index()
    else:
        out = pd.DataFrame({"trials_ended": [len(work)],
                            "converted": [int(work["converted"].sum())]})
    out["trials_ended"] = out["trials_ended"].fillna(0).astype(np.int64)
    out["converted"] = out["converted"].fillna(0).astype(np.int64)
    out["conversion_rate"] = safe_ratio(out["converted"], out["trials_ended"])
    return out[[*keys, *(["month"] if by_month else []), "trials_ended", "converted",
                "conversion_rate"]]
