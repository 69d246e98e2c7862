"""Revenue KPIs: MRR by month, the MRR bridge, revenue retention, churn scaling.

All functions take the canonical ``mrr`` table (``account_id``, ``month``, ``mrr``; one row
per account and month; a missing account-month means MRR 0) and are pure: they never
modify their input.

Definitions (common SaaS-analytics definitions)
-----------------------------------------------
An account is *active* (a paying customer) in month m when MRR(m) > 0. For each month m
the bridge compares every account's MRR at m-1 and at m:

- new: MRR(m) of accounts active at m that were never active before m;
- reactivation: MRR(m) of accounts inactive at m-1, active at m, active some time before;
- expansion: MRR(m) - MRR(m-1) for accounts active at m-1 whose MRR grew;
- contraction: MRR(m-1) - MRR(m) for accounts active at both months whose MRR fell;
- churned: MRR(m-1) of accounts active at m-1 and inactive at m.

so that ``start_mrr + new + expansion + reactivation - contraction - churned == end_mrr``.
The bridge starts at the second month of the data: the first month only provides the
opening balance. Months without any row (a gap in the data) are months where every
account has MRR 0 (:func:`cs_sim.io.load_dataset` warns about them).

Net MRR churn, logo churn over a window and the quick ratio differ between metric
providers; the ``conventions`` option picks one set (:mod:`cs_sim.kpis.conventions`).
Cohort tables are in :mod:`cs_sim.kpis.cohorts`.

Segments (``by``)
-----------------
Functions built on the bridge or on cohorts (:func:`mrr_bridge`, :func:`quick_ratio`,
:func:`revenue_retention`, :func:`retention_by_month`, and
:func:`~cs_sim.kpis.cohort_retention`) need a
*fixed* attribute per account: a segment that changes over time would move MRR between
segments outside the bridge. They raise :class:`~cs_sim.kpis.KpiInputError` if an
account's ``by`` value varies; take the attribute from the accounts table with
:func:`~cs_sim.kpis.attach`. :func:`mrr_by_month` uses each row's own value and accepts
segments that change. Missing segment values form a group of their own (NA).

Exactness
---------
Amounts are converted to integer millionths of a currency unit for the computation, so
the bridge identity and ``end_mrr(m) == start_mrr(m+1)`` hold exactly on those integers;
the float columns returned are those integers divided by 10**6 (equal to the input sums
up to float rounding).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import pandas as pd

import cs_sim.kpis.conventions as conv
import cs_sim.kpis.formulas as formulas
from cs_sim.kpis._util import (
    MONEY_SCALE,
    KpiInputError,
    by_columns,
    check_nonnegative,
    complete_grid,
    month_numbers,
    parse_month,
    require_columns,
    safe_ratio,
    static_attribute,
    to_money_units,
    to_month,
)
from cs_sim.kpis.conventions import Conventions, check_conventions

__all__ = [
    "mrr_bridge",
    "mrr_by_month",
    "quick_ratio",
    "retention_by_month",
    "revenue_retention",
    "scale_churn_rate",
]

_BRIDGE_MONEY = ["start_mrr", "new", "expansion", "contraction", "churned", "reactivation",
                 "end_mrr"]
_BRIDGE_COUNTS = ["start_accounts", "new_accounts", "expansion_accounts",
                  "contraction_accounts", "churned_accounts", "reactivated_accounts",
                  "end_accounts"]


# --------------------------------------------------------------------------- internals
@dataclass(frozen=True)
class _Matrix:
    """MRR as a dense accounts x months matrix of int64 millionths."""

    accounts: pd.Index
    months: pd.DatetimeIndex
    units: np.ndarray
    #: (label, row indices) per group; one group labelled None when ungrouped
    groups: list[tuple[Any, np.ndarray]]


def _month_frame(mrr: pd.DataFrame) -> tuple[pd.Series, np.ndarray]:
    require_columns(mrr, ["account_id", "month", "mrr"], "mrr")
    if len(mrr) == 0:
        raise KpiInputError("mrr: the table is empty; revenue KPIs need at least one row")
    month = to_month(mrr["month"])
    amounts = check_nonnegative(mrr["mrr"], column="mrr", table="mrr")
    return month, to_money_units(amounts)


def _build_matrix(mrr: pd.DataFrame, by: str | None) -> _Matrix:
    """The accounts x months matrix of MRR in millionths (checks the table on the way).

    Cost is linear in the rows: months become integer month numbers without parsing
    (:func:`~cs_sim.kpis._util.month_numbers`), repeated (account, month) pairs are found
    by counting the cells of the matrix (``np.bincount``), not by hashing pairs.
    """
    keys = by_columns(by, mrr, "mrr")
    require_columns(mrr, ["account_id", "month", "mrr"], "mrr")
    if len(mrr) == 0:
        raise KpiInputError("mrr: the table is empty; revenue KPIs need at least one row")
    number = month_numbers(mrr["month"])
    units = to_money_units(check_nonnegative(mrr["mrr"], column="mrr", table="mrr"))
    if mrr["account_id"].isna().any():
        raise KpiInputError("mrr: column 'account_id' has missing values")
    first, last = int(number.min()), int(number.max())
    n_months = last - first + 1
    col = number - first
    codes, accounts = pd.factorize(mrr["account_id"], sort=True)
    cell = codes.astype(np.int64) * n_months + col
    counts = np.bincount(cell, minlength=len(accounts) * n_months)
    if counts.max(initial=0) > 1:
        dup = counts[cell] > 1
        rows = mrr.index[dup]
        shown = mrr.loc[rows[:3], "account_id"].tolist()
        months_shown = sorted({f"{m:%Y-%m}" for m in to_month(mrr.loc[rows[:3], "month"])})
        raise KpiInputError(
            f"mrr: (account_id, month) must be unique; {len(rows) - int((counts > 1).sum())} "
            f"repeated row(s), e.g. account(s) {', '.join(map(str, shown))} in "
            f"{', '.join(months_shown)}; keep one row per account and month"
        )
    months = pd.DatetimeIndex(
        np.arange(first, last + 1).astype("datetime64[M]").astype("datetime64[ns]")
    )
    mat = np.zeros(len(accounts) * n_months, dtype=np.int64)
    mat[cell] = units
    mat = mat.reshape(len(accounts), n_months)
    if keys:
        seg = static_attribute(mrr, by, table="mrr").reindex(accounts)  # type: ignore[arg-type]
        seg_codes, labels = pd.factorize(seg, use_na_sentinel=False)
        order = pd.Series(range(len(labels)), index=pd.Index(labels)).sort_index(
            na_position="last"
        )
        groups = [(lab, np.flatnonzero(seg_codes == code)) for lab, code in order.items()]
    else:
        groups = [(None, np.arange(len(accounts)))]
    return _Matrix(pd.Index(accounts), months, mat, groups)


def _bridge_units(mat: np.ndarray) -> dict[str, np.ndarray]:
    """Bridge movements (int64) for months 1..T-1 of an accounts x months matrix."""
    prev = mat[:, :-1]
    cur = mat[:, 1:]
    paid = mat > 0
    ever_before = np.logical_or.accumulate(paid, axis=1)[:, :-1]
    was = prev > 0
    now = cur > 0
    new = now & ~ever_before
    react = now & ~was & ever_before
    exp = was & (cur > prev)
    con = was & now & (cur < prev)
    churn = was & ~now
    diff = cur - prev
    return {
        "start_mrr": prev.sum(axis=0),
        "new": np.where(new, cur, 0).sum(axis=0),
        "expansion": np.where(exp, diff, 0).sum(axis=0),
        "contraction": np.where(con, -diff, 0).sum(axis=0),
        "churned": np.where(churn, prev, 0).sum(axis=0),
        "reactivation": np.where(react, cur, 0).sum(axis=0),
        "end_mrr": cur.sum(axis=0),
        "start_accounts": was.sum(axis=0),
        "new_accounts": new.sum(axis=0),
        "expansion_accounts": exp.sum(axis=0),
        "contraction_accounts": con.sum(axis=0),
        "churned_accounts": churn.sum(axis=0),
        "reactivated_accounts": react.sum(axis=0),
        "end_accounts": now.sum(axis=0),
    }


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True)


def _events(mat: np.ndarray, s_idx: np.ndarray, e_idx: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Per window s -> e: churn events of accounts that joined in it, returned accounts.

    A churn event is a month in s+1..e where an account paid in the month before and
    not in the month; an account *joined* in the window when its first paid month is in
    s+1..e; a *returned* account paid at s and at e but had a churn event in between.
    """
    paid = mat > 0
    n, t = paid.shape
    cum = np.zeros((n, t), dtype=np.int32)
    np.cumsum(paid[:, :-1] & ~paid[:, 1:], axis=1, out=cum[:, 1:])
    events = cum[:, e_idx] - cum[:, s_idx]  # accounts x windows
    first = np.where(paid.any(axis=1), paid.argmax(axis=1), t)[:, None]
    joined = (first > s_idx) & (first <= e_idx)
    returned = (events > 0) & paid[:, s_idx] & paid[:, e_idx]
    return (events * joined).sum(axis=0), returned.sum(axis=0)


def _window_stats(
    mat: np.ndarray,
    s_idx: np.ndarray,
    e_idx: np.ndarray,
    bridge: dict[str, np.ndarray],
    conventions: Conventions = "cs_sim",
) -> dict[str, np.ndarray]:
    """Retention of the cohort active at s over the window s -> e, for arrays of windows."""
    a = mat[:, s_idx]
    b = mat[:, e_idx]
    cohort = a > 0
    start = a.sum(axis=0)
    end = np.where(cohort, b, 0).sum(axis=0)
    retained = np.minimum(a, b).sum(axis=0)
    n_start = cohort.sum(axis=0)
    lost = (cohort & (b == 0)).sum(axis=0)

    def window_sum(name: str) -> np.ndarray:
        cum = np.concatenate([[0], np.cumsum(bridge[name])])  # cum[j] = months 1..j
        return cum[e_idx] - cum[s_idx]

    moves = {k: window_sum(k) for k in ("new", "expansion", "contraction", "churned",
                                        "reactivation")}
    events = window_sum("churned_accounts")
    joiner_events, returned = _events(mat, s_idx, e_idx)
    nrr = formulas.nrr(start, end)
    grr = formulas.grr(start, retained)
    return {
        "start_accounts": n_start,
        "start_mrr": start / MONEY_SCALE,
        "cohort_end_mrr": end / MONEY_SCALE,
        "retained_mrr": retained / MONEY_SCALE,
        "churned_accounts": lost,
        "returned_accounts": returned,
        "churn_events": events,
        **{k: v / MONEY_SCALE for k, v in moves.items()},
        "nrr": nrr,
        "grr": grr,
        "gross_mrr_churn_rate": 1.0 - grr,
        "net_mrr_churn_rate": conv.net_mrr_churn_rate(
            start_mrr=start, cohort_end_mrr=end, conventions=conventions, **{
                k: moves[k] for k in ("churned", "contraction", "expansion", "reactivation")}),
        "logo_churn_rate": conv.logo_churn_rate(
            start_accounts=n_start, lost_accounts=lost, churn_events=events,
            churn_events_of_joiners=joiner_events, conventions=conventions),
        "quick_ratio": conv.quick_ratio(conventions=conventions, **moves),
    }


def _frame(data: dict[str, Any], by: str | None, label: Any) -> pd.DataFrame:
    out = pd.DataFrame(data)
    if by is not None:
        out.insert(0, by, pd.Series([label] * len(out), dtype=object))
    return out


def _restore_by_dtype(out: pd.DataFrame, mrr: pd.DataFrame, by: str | None) -> pd.DataFrame:
    if by is not None and len(out):
        try:
            out[by] = out[by].astype(mrr[by].dtype)
        except (TypeError, ValueError):  # pragma: no cover - exotic dtypes stay object
            pass
    return out


# --------------------------------------------------------------------------- public API
def mrr_by_month(mrr: pd.DataFrame, *, by: str | None = None) -> pd.DataFrame:
    """Total MRR, active accounts, ARPA and ARR per month.

    Formulas: ``mrr`` = sum of MRR in the month; ``active_accounts`` = accounts with
    MRR > 0; ``arpa`` (average revenue per account) = mrr / active_accounts (NaN when no
    account is active); ``arr`` = 12 x mrr (annual run rate). Common SaaS-analytics
    definitions.

    Parameters
    ----------
    mrr : DataFrame
        Canonical mrr table (``account_id``, ``month``, ``mrr``).
    by : str, optional
        A column of ``mrr`` to group by (e.g. ``'plan'`` joined with
        :func:`~cs_sim.kpis.attach`). Each row's own value is used, so a segment may
        change over time.

    Returns
    -------
    DataFrame
        One row per (``by``, month) over the full month range of the data (gap months
        included with MRR 0): ``[by], month, mrr, active_accounts, arpa, arr``.
    """
    keys = by_columns(by, mrr, "mrr")
    month, units = _month_frame(mrr)
    work = pd.DataFrame({"month": month.to_numpy(), "units": units, "active": units > 0})
    for k in keys:
        work[k] = mrr[k].to_numpy()
    agg = (
        work.groupby([*keys, "month"], dropna=False, sort=False)
        .agg(units=("units", "sum"), active_accounts=("active", "sum"))
        .reset_index()
    )
    months = pd.date_range(month.min(), month.max(), freq="MS").astype("datetime64[ns]")
    out = complete_grid(agg, keys, "month", months, fill={"units": 0, "active_accounts": 0})
    out["mrr"] = out.pop("units").astype(np.int64) / MONEY_SCALE
    out["active_accounts"] = out["active_accounts"].astype(np.int64)
    out["arpa"] = safe_ratio(out["mrr"], out["active_accounts"])
    out["arr"] = 12.0 * out["mrr"]
    return out[[*keys, "month", "mrr", "active_accounts", "arpa", "arr"]]


def mrr_bridge(mrr: pd.DataFrame, *, by: str | None = None) -> pd.DataFrame:
    """The MRR bridge (MRR movements) month by month.

    ``start_mrr + new + expansion + reactivation - contraction - churned == end_mrr``
    for every month, and ``end_mrr`` of a month is ``start_mrr`` of the next. Movement
    definitions are in the module docstring (common SaaS-analytics definitions of the
    MRR bridge / "MRR waterfall"); all movements are >= 0.

    Parameters
    ----------
    mrr : DataFrame
        Canonical mrr table (``account_id``, ``month``, ``mrr``). A missing
        account-month means MRR 0; months missing entirely are filled in.
    by : str, optional
        A fixed per-account column of ``mrr`` (e.g. ``'plan'`` via
        :func:`~cs_sim.kpis.attach`); each segment gets its own bridge.

    Returns
    -------
    DataFrame
        One row per (``by``, month) from the second month of the data to the last:
        ``[by], month, start_mrr, new, expansion, contraction, churned, reactivation,
        end_mrr`` (money per month) and the logo counts ``start_accounts,
        new_accounts, expansion_accounts, contraction_accounts, churned_accounts,
        reactivated_accounts, end_accounts`` where
        ``start_accounts + new_accounts + reactivated_accounts - churned_accounts ==
        end_accounts``.

    Raises
    ------
    KpiInputError
        On missing columns, negative or missing MRR, repeated (account_id, month) rows,
        or a ``by`` value that changes over time for an account.
    """
    m = _build_matrix(mrr, by)
    frames = []
    for label, rows in m.groups:
        b = _bridge_units(m.units[rows])
        data: dict[str, Any] = {"month": m.months[1:]}
        for name in _BRIDGE_MONEY:
            data[name] = b[name] / MONEY_SCALE
        for name in _BRIDGE_COUNTS:
            data[name] = b[name].astype(np.int64)
        frames.append(_frame(data, by, label))
    return _restore_by_dtype(_concat(frames), mrr, by)


def quick_ratio(
    mrr: pd.DataFrame, *, by: str | None = None, conventions: Conventions = "cs_sim"
) -> pd.DataFrame:
    """SaaS quick ratio per month: MRR gained / MRR lost.

    With the default conventions (``cs_sim``, as Baremetrics) the ratio is
    ``(new + expansion) / (contraction + churned)``: reactivation is left out of the
    gains (it is won-back revenue, not growth from new business or existing
    customers); with ``conventions="chartmogul"`` reactivation counts as a gain (see
    :mod:`cs_sim.kpis.conventions`). A value above 1 means the business gains more
    recurring revenue than it loses; a common benchmark for growth-stage SaaS is 4.
    The ratio is ``inf`` in a month with gains but no losses, NaN with neither.

    Parameters
    ----------
    mrr : DataFrame
        Canonical mrr table.
    by : str, optional
        A fixed per-account column to group by (see :func:`mrr_bridge`).
    conventions : {"cs_sim", "chartmogul", "baremetrics"}, default "cs_sim"
        Whose definition of the quick ratio.

    Returns
    -------
    DataFrame
        ``[by], month, new, expansion, reactivation, contraction, churned,
        quick_ratio``.
    """
    check_conventions(conventions)
    bridge = mrr_bridge(mrr, by=by)
    keys = [by] if by is not None else []
    moves = ["new", "expansion", "reactivation", "contraction", "churned"]
    out = bridge[[*keys, "month", *moves]].copy()
    out["quick_ratio"] = conv.quick_ratio(
        conventions=conventions, **{k: out[k].to_numpy() for k in moves}
    )
    return out


def revenue_retention(
    mrr: pd.DataFrame,
    *,
    start: Any,
    end: Any,
    by: str | None = None,
    conventions: Conventions = "cs_sim",
) -> pd.DataFrame:
    """Net and gross revenue retention, churn rates and quick ratio over a window.

    The window runs from the opening month ``start`` (s) to ``end`` (e); its months are
    s+1..e. The cohort is the set of accounts with MRR > 0 at s; new business won
    after s is excluded. With MRR_s, MRR_e each cohort account's MRR at s and e:

    - ``nrr`` = sum(MRR_e) / sum(MRR_s) (net revenue retention; includes expansion and
      reactivation of cohort accounts);
    - ``grr`` = sum(min(MRR_e, MRR_s)) / sum(MRR_s) (gross revenue retention: expansion
      capped, so GRR <= 1 and GRR <= NRR); ``gross_mrr_churn_rate`` = 1 - grr.

    Three figures follow ``conventions`` (definitions and sources in
    :data:`cs_sim.kpis.conventions.DEFINITIONS`):

    - ``net_mrr_churn_rate``: ``cs_sim`` 1 - nrr (negative when expansion outweighs
      losses); ``chartmogul`` (churned + contraction - expansion - reactivation) /
      MRR_s; ``baremetrics`` (churned + contraction - expansion) / MRR_s, movements of
      the MRR bridge summed over s+1..e;
    - ``logo_churn_rate``: ``cs_sim`` cohort accounts with MRR 0 at e / cohort size (an
      account that left and came back by e is retained: ``returned_accounts`` counts
      them); ``chartmogul`` churn events in s+1..e, except those of accounts that
      joined in the window, / cohort size; ``baremetrics`` every churn event / cohort
      size (``churn_events``);
    - ``quick_ratio``: (new + expansion [+ reactivation for ``chartmogul``]) /
      (contraction + churned) of the window's bridge.

    NRR/GRR are the common SaaS-analytics definitions (also called net and gross dollar
    retention). Rates are fractions (0.95 = 95%); NaN when the cohort is empty.

    Parameters
    ----------
    mrr : DataFrame
        Canonical mrr table.
    start, end : str or Timestamp
        Opening and last month of the window (e.g. ``'2024-01'``, ``'2025-01'`` for the
        twelve months of 2024 after the opening balance of January), inside the data's
        month range, ``start < end``.
    by : str, optional
        A fixed per-account column to group by (see :func:`mrr_bridge`).
    conventions : {"cs_sim", "chartmogul", "baremetrics"}, default "cs_sim"
        Whose definitions of net MRR churn, logo churn and the quick ratio.

    Returns
    -------
    DataFrame
        One row (per ``by`` group): ``[by], start, end, start_accounts, start_mrr,
        cohort_end_mrr, retained_mrr, churned_accounts, returned_accounts,
        churn_events, new, expansion, contraction, churned, reactivation, nrr, grr,
        gross_mrr_churn_rate, net_mrr_churn_rate, logo_churn_rate, quick_ratio``.
    """
    check_conventions(conventions)
    s_ts = parse_month(start, name="start")
    e_ts = parse_month(end, name="end")
    if e_ts <= s_ts:
        raise KpiInputError(f"end ({e_ts:%Y-%m}) must be after start ({s_ts:%Y-%m})")
    m = _build_matrix(mrr, by)
    lo, hi = m.months[0], m.months[-1]
    for name, ts in (("start", s_ts), ("end", e_ts)):
        if ts < lo or ts > hi:
            raise KpiInputError(
                f"{name} month {ts:%Y-%m} is outside the data's months {lo:%Y-%m}..{hi:%Y-%m}"
            )
    s_idx = np.array([m.months.get_loc(s_ts)])
    e_idx = np.array([m.months.get_loc(e_ts)])
    frames = []
    for label, rows in m.groups:
        mat = m.units[rows]
        stats = _window_stats(mat, s_idx, e_idx, _bridge_units(mat), conventions)
        data = {"start": [s_ts], "end": [e_ts], **stats}
        frames.append(_frame(data, by, label))
    return _restore_by_dtype(_concat(frames), mrr, by)


def retention_by_month(
    mrr: pd.DataFrame,
    *,
    window_months: int = 1,
    by: str | None = None,
    conventions: Conventions = "cs_sim",
) -> pd.DataFrame:
    """Revenue retention per month over a trailing window (monthly or trailing-12).

    For each month m with ``m - window_months`` in the data, the window runs from
    ``s = m - window_months`` to ``e = m`` and the statistics are those of
    :func:`revenue_retention`. ``window_months=1`` gives monthly NRR/GRR and monthly
    logo and revenue churn rates; ``window_months=12`` gives trailing-twelve-month
    (annual) NRR/GRR at each month.

    Parameters
    ----------
    mrr : DataFrame
        Canonical mrr table.
    window_months : int, default 1
        Window length in months (>= 1).
    by : str, optional
        A fixed per-account column to group by (see :func:`mrr_bridge`).
    conventions : {"cs_sim", "chartmogul", "baremetrics"}, default "cs_sim"
        As for :func:`revenue_retention`.

    Returns
    -------
    DataFrame
        One row per (``by``, month) from month ``first + window_months`` on (months
        without a full window are left out): ``[by], month, start_month`` and the
        columns of :func:`revenue_retention` after ``end``.
    """
    check_conventions(conventions)
    if not isinstance(window_months, (int, np.integer)) or window_months < 1:
        raise KpiInputError(f"window_months must be an integer >= 1, got {window_months!r}")
    m = _build_matrix(mrr, by)
    n = len(m.months)
    e_idx = np.arange(window_months, n)
    s_idx = e_idx - window_months
    frames = []
    for label, rows in m.groups:
        mat = m.units[rows]
        stats = _window_stats(mat, s_idx, e_idx, _bridge_units(mat), conventions)
        data = {"month": m.months[e_idx], "start_month": m.months[s_idx], **stats}
        frames.append(_frame(data, by, label))
    return _restore_by_dtype(_concat(frames), mrr, by)


@overload
def scale_churn_rate(rate: float, *, from_months: float, to_months: float) -> float: ...
@overload
def scale_churn_rate(rate: pd.Series, *, from_months: float, to_months: float) -> pd.Series: ...
@overload
def scale_churn_rate(
    rate: np.ndarray | Sequence[float], *, from_months: float, to_months: float
) -> np.ndarray: ...
def scale_churn_rate(
    rate: float | pd.Series | np.ndarray | Sequence[float],
    *,
    from_months: float,
    to_months: float,
) -> float | pd.Series | np.ndarray:
    """Convert a churn rate between period lengths, assuming a constant hazard.

    ``r_T = 1 - (1 - r_t) ** (T / t)``: the share of customers surviving T months is the
    share surviving t months raised to the power T/t. Monthly 2% churn is annual
    ``1 - 0.98**12 = 21.5%`` (not 24%); annual 20% churn is monthly
    ``1 - 0.8**(1/12) = 1.84%``. Standard compounding of survival probabilities.

    Parameters
    ----------
    rate : float, array-like or Series
        Churn rate(s) per ``from_months`` period, as fractions in [0, 1].
    from_months : float
        Length of the period ``rate`` refers to, in months (> 0).
    to_months : float
        Length of the period wanted, in months (> 0).

    Returns
    -------
    float, ndarray or Series
        Churn rate(s) per ``to_months`` period, same shape and kind as ``rate``.
    """
    if not (from_months > 0 and to_months > 0):
        raise KpiInputError(
            f"from_months and to_months must be > 0, got {from_months!r}, {to_months!r}"
        )
    arr = np.asarray(rate, dtype=float)
    if np.isnan(arr).any() or (arr < 0).any() or (arr > 1).any():
        raise KpiInputError("churn rate(s) must be fractions in [0, 1] (e.g. 0.02 for 2%)")
    scaled = 1.0 - (1.0 - arr) ** (to_months / from_months)
    if isinstance(rate, pd.Series):
        return pd.Series(scaled, index=rate.index, name=rate.name)
    if arr.ndim == 0:
        return float(scaled)
    return scaled
