"""Shared helpers of the KPI library: input checks, month handling, grouping.

Everything here is private to :mod:`cs_sim.kpis` except :func:`attach`, which the
package re-exports (as it does :class:`~cs_sim.errors.KpiInputError` and
:class:`~cs_sim.errors.KpiConfigError`, defined in :mod:`cs_sim.errors` and imported
here for the KPI modules).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cs_sim.errors import KpiConfigError, KpiInputError

__all__ = ["KpiConfigError", "KpiInputError", "attach"]

#: money is handled internally in integer millionths of a currency unit, so that the
#: MRR bridge identity holds exactly (see :func:`cs_sim.kpis.revenue.mrr_bridge`)
MONEY_SCALE = 1_000_000
#: largest total that fits int64 after scaling, with a safety margin
_MAX_TOTAL = 2.0**62 / MONEY_SCALE

#: allowed ``freq`` values -> pandas period aliases
_FREQS = {"M": "M", "Q": "Q", "Y": "Y"}


def resource_path(name: str) -> Any:
    """Path (Traversable) of a packaged default file in ``cs_sim/resources``."""
    from importlib.resources import files

    return files("cs_sim").joinpath("resources", name)


def require_columns(frame: pd.DataFrame, columns: Iterable[str], table: str) -> None:
    """Raise :class:`KpiInputError` naming every column of ``columns`` missing from ``frame``."""
    if not isinstance(frame, pd.DataFrame):
        raise KpiInputError(
            f"{table}: expected a pandas DataFrame, got {type(frame).__name__}"
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns)) or "(none)"
        raise KpiInputError(
            f"{table}: missing column(s) {', '.join(missing)}; the table has: {have}"
        )


def by_columns(by: str | None, frame: pd.DataFrame, table: str) -> list[str]:
    """Return ``[by]`` (checked to be a column of ``frame``) or ``[]``."""
    if by is None:
        return []
    if not isinstance(by, str):
        raise KpiInputError(f"by must be a column name (str) or None, got {by!r}")
    if by not in frame.columns:
        raise KpiInputError(
            f"{table}: no column {by!r} to group by; join account attributes first, e.g. "
            f"attach({table}, accounts, {by!r})"
        )
    return [by]


def to_month(values: pd.Series | pd.Index | Sequence[Any], *, name: str = "month") -> pd.Series:
    """Return the first day of each value's month as ``datetime64[ns]``.

    Raises :class:`KpiInputError` if a value cannot be read as a date or is missing.
    """
    s = pd.Series(values)
    try:
        s = pd.to_datetime(s)
    except (ValueError, TypeError) as exc:
        raise KpiInputError(f"column {name!r} must hold dates: {exc}") from exc
    if s.isna().any():
        raise KpiInputError(f"column {name!r} has {int(s.isna().sum())} missing value(s)")
    return s.dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")


def month_numbers(values: pd.Series, *, name: str = "month") -> np.ndarray:
    """Months as int64 counts since 1970-01 (``2024-03`` -> 650), for fast grouping.

    A ``datetime64`` column is converted without parsing (the common case: a loaded
    table); anything else goes through :func:`to_month`. Raises :class:`KpiInputError`
    on missing or unreadable values.
    """
    if pd.api.types.is_datetime64_any_dtype(values.dtype) and not isinstance(
        values.dtype, pd.DatetimeTZDtype
    ):
        arr = values.to_numpy()
        if np.isnat(arr).any():
            raise KpiInputError(
                f"column {name!r} has {int(np.isnat(arr).sum())} missing value(s)"
            )
        return arr.astype("datetime64[M]").astype(np.int64)
    month = to_month(values, name=name)
    return month.to_numpy().astype("datetime64[M]").astype(np.int64)


def to_period_start(values: pd.Series, freq: str, *, name: str) -> pd.Series:
    """Return the start of each date's period (``freq`` 'M', 'Q' or 'Y') as ``datetime64[ns]``.

    Missing dates stay missing (NaT).
    """
    alias = check_freq(freq)
    s = pd.to_datetime(values)
    if not pd.api.types.is_datetime64_any_dtype(s):
        raise KpiInputError(f"column {name!r} must hold dates")
    return s.dt.to_period(alias).dt.to_timestamp().astype("datetime64[ns]")


def check_freq(freq: str) -> str:
    """Return the pandas period alias of ``freq`` or raise :class:`KpiInputError`."""
    if freq not in _FREQS:
        raise KpiInputError(f"freq must be one of {sorted(_FREQS)} (or None), got {freq!r}")
    return _FREQS[freq]


def period_range(start: pd.Timestamp, end: pd.Timestamp, freq: str) -> pd.DatetimeIndex:
    """All period starts from ``start`` to ``end`` (both period starts) inclusive."""
    alias = check_freq(freq)
    periods = pd.period_range(start, end, freq=alias)
    return pd.DatetimeIndex(periods.to_timestamp()).astype("datetime64[ns]")


def parse_month(value: Any, *, name: str) -> pd.Timestamp:
    """Read a month given as ``'2024-03'``, a date or a Timestamp; return its first day."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise KpiInputError(f"{name} must be a month such as '2024-03', got {value!r}") from exc
    if pd.isna(ts):
        raise KpiInputError(f"{name} must be a month such as '2024-03', got {value!r}")
    return ts.to_period("M").to_timestamp().as_unit("ns")


def check_nonnegative(values: pd.Series, *, column: str, table: str) -> np.ndarray:
    """Return ``values`` as float array; raise if missing or negative."""
    try:
        arr = pd.to_numeric(values).to_numpy(dtype=float)
    except (ValueError, TypeError) as exc:
        raise KpiInputError(f"{table}: column {column!r} must be numeric: {exc}") from exc
    bad = np.isnan(arr)
    if bad.any():
        raise KpiInputError(
            f"{table}: column {column!r} has {int(bad.sum())} missing value(s); "
            f"first at row(s) {_first_rows(values.index[bad])}"
        )
    bad = arr < 0
    if bad.any():
        raise KpiInputError(
            f"{table}: column {column!r} must be >= 0; {int(bad.sum())} negative value(s), "
            f"first at row(s) {_first_rows(values.index[bad])}"
        )
    return arr


def _first_rows(index: pd.Index, n: int = 5) -> str:
    shown = ", ".join(str(i) for i in index[:n])
    return shown + (f" (and {len(index) - n} more)" if len(index) > n else "")


def to_money_units(amounts: np.ndarray, *, table: str = "mrr") -> np.ndarray:
    """Convert non-negative money amounts to int64 millionths (rounded to nearest)."""
    if amounts.size and float(amounts.sum()) >= _MAX_TOTAL:
        raise KpiInputError(
            f"{table}: total amount {float(amounts.sum()):.3g} is too large to handle exactly "
            f"(limit {_MAX_TOTAL:.3g})"
        )
    return np.rint(amounts * MONEY_SCALE).astype(np.int64)


def safe_ratio(num: Any, den: Any) -> Any:
    """``num / den`` with NaN (not inf, not a warning) where ``den == 0``."""
    num_a = np.asarray(num, dtype=float)
    den_a = np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den_a != 0, num_a / np.where(den_a != 0, den_a, 1.0), np.nan)
    return out


def static_attribute(
    frame: pd.DataFrame, column: str, *, table: str, key: str = "account_id"
) -> pd.Series:
    """Per-account value of ``column``; raise if an account has more than one value.

    Missing values (NA) count as a value of their own (they form an NA group).
    """
    sub = frame[[key, column]].drop_duplicates()
    counts = sub.groupby(key, sort=False, dropna=False)[column].size()
    varying = counts.index[counts > 1]
    if len(varying):
        raise KpiInputError(
            f"{table}: column {column!r} must be a fixed attribute of each account for this "
            f"KPI, but it changes over time for {len(varying)} account(s), e.g. "
            f"{', '.join(map(str, varying[:5]))}. Use a per-account attribute, e.g. "
            f"attach({table}, accounts, {column!r}) from the accounts table."
        )
    return sub.set_index(key)[column]


def complete_grid(
    frame: pd.DataFrame,
    keys: list[str],
    period_col: str,
    periods: pd.DatetimeIndex,
    *,
    fill: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Reindex ``frame`` to every (group, period) combination, sorted by keys then period.

    ``keys`` are the grouping columns (possibly empty); groups are those present in
    ``frame``. Columns named in ``fill`` get that value in added rows, others NaN.
    """
    if keys:
        groups = frame[keys].drop_duplicates()
        grid = groups.merge(pd.DataFrame({period_col: periods}), how="cross")
    else:
        grid = pd.DataFrame({period_col: periods})
    out = grid.merge(frame, on=[*keys, period_col], how="left")
    for col, value in (fill or {}).items():
        out[col] = out[col].fillna(value)
    return out.sort_values([*keys, period_col], kind="stable").reset_index(drop=True)


def attach(
    table: pd.DataFrame,
    accounts: pd.DataFrame,
    columns: str | Sequence[str],
) -> pd.DataFrame:
    """Join account attributes onto a child table by ``account_id``.

    Use it to analyse any KPI by segment: ``mrr_bridge(attach(mrr, accounts, "plan"),
    by="plan")``.

    Parameters
    ----------
    table : DataFrame
        A child table with an ``account_id`` column (mrr, usage, tickets, surveys, ...).
    accounts : DataFrame
        The accounts table (one row per ``account_id``), or any frame keyed by
        ``account_id`` holding a custom segment.
    columns : str or sequence of str
        The account columns to add (e.g. ``"plan"``, ``["industry", "region"]``).

    Returns
    -------
    DataFrame
        A new frame: ``table``'s rows in the same order and index, plus ``columns``.
        Rows whose account is not in ``accounts`` get missing values (NA), which the
        KPI functions report as a group of their own.

    Raises
    ------
    KpiInputError
        If a column is missing from ``accounts``, already present in ``table``, or if
        ``accounts`` repeats an ``account_id``.
    """
    cols = [columns] if isinstance(columns, str) else list(columns)
    require_columns(table, ["account_id"], "table")
    require_columns(accounts, ["account_id", *cols], "accounts")
    clash = [c for c in cols if c in table.columns]
    if clash:
        raise KpiInputError(
            f"table already has column(s) {', '.join(clash)}; drop them first or group by "
            "the existing column"
        )
    if accounts["account_id"].duplicated().any():
        dup = accounts.loc[accounts["account_id"].duplicated(), "account_id"]
        raise KpiInputError(
            f"accounts: account_id must be unique; repeated: {', '.join(map(str, dup[:5]))}"
        )
    lookup = accounts.set_index("account_id")[cols]
    out = table.copy()
    for col in cols:
        out[col] = table["account_id"].map(lookup[col])
    return out


def as_float_array(values: Any, *, name: str) -> np.ndarray:
    """Scores -> 1-D float array; raise on missing or non-numeric values."""
    if isinstance(values, pd.DataFrame):
        raise KpiInputError(f"{name}: expected a 1-D sequence of scores, got a DataFrame")
    try:
        arr = np.asarray(pd.to_numeric(pd.Series(values, dtype=object)), dtype=float)
    except (ValueError, TypeError) as exc:
        raise KpiInputError(f"{name}: scores must be numbers: {exc}") from exc
    if arr.ndim != 1:
        raise KpiInputError(f"{name}: expected a 1-D sequence of scores")
    return arr

