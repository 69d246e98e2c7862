"""Customer value KPIs: ARPA, CLV, customer retention cost, renewal rate, and what a
retention improvement is worth in profit.

Three CLVs: :func:`clv_simple` (``ARPA x margin / churn``, the textbook figure),
:func:`clv_discounted` (discounted, with expansion: the definition the simulator reports,
from :func:`cs_sim.kpis.formulas.clv_discounted`) and :func:`clv_purchase` (for
non-subscription businesses).

Pure functions over the canonical tables (see :mod:`cs_sim.kpis.revenue` for how the
``mrr`` table is read: a missing account-month means MRR 0, active means MRR > 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

import cs_sim.kpis.formulas as formulas
from cs_sim.kpis._util import (
    KpiInputError,
    by_columns,
    check_nonnegative,
    require_columns,
    safe_ratio,
    to_month,
)
from cs_sim.kpis.conventions import Conventions, check_conventions
from cs_sim.kpis.revenue import _build_matrix, mrr_by_month, scale_churn_rate

__all__ = [
    "RetentionProfit",
    "arpa",
    "clv_by_convention",
    "clv_discounted",
    "clv_purchase",
    "clv_simple",
    "customer_retention_cost",
    "renewal_rate",
    "retention_profit",
]


def arpa(mrr: pd.DataFrame, *, by: str | None = None) -> pd.DataFrame:
    """Average revenue per account (ARPA) per month.

    ``arpa = total MRR / active accounts`` (accounts with MRR > 0), a common
    SaaS-analytics definition; NaN in a month with no active account.

    Parameters
    ----------
    mrr : DataFrame
        Canonical mrr table.
    by : str, optional
        Column of ``mrr`` to group by (see :func:`~cs_sim.kpis.mrr_by_month`).

    Returns
    -------
    DataFrame
        ``[by], month, mrr, active_accounts, arpa`` over the full month range.
    """
    out = mrr_by_month(mrr, by=by)
    return out.drop(columns="arr")


def _check_fraction(value: float, name: str, *, allow_zero: bool = True) -> None:
    arr = np.asarray(value, dtype=float)
    lo_ok = (arr >= 0) if allow_zero else (arr > 0)
    if np.isnan(arr).any() or not (lo_ok & (arr <= 1)).all():
        bound = "[0, 1]" if allow_zero else "(0, 1]"
        raise KpiInputError(f"{name} must be a fraction in {bound} (e.g. 0.8 for 80%), "
                            f"got {value!r}")


def clv_simple(
    arpa: float | np.ndarray | pd.Series,
    *,
    gross_margin: float,
    churn_rate: float | np.ndarray | pd.Series,
) -> float | np.ndarray | pd.Series:
    """Simple customer lifetime value: ``ARPA x gross margin / churn rate``.

    With a constant churn rate c per period, a customer's expected lifetime is 1/c
    periods (geometric distribution), so the lifetime gross margin is
    ``ARPA x margin x 1/c``. ARPA and churn must refer to the same period (monthly ARPA
    with monthly logo churn; convert with :func:`~cs_sim.kpis.scale_churn_rate`).
    The textbook SaaS formula (e.g. Skok, "SaaS Metrics 2.0"); undiscounted, no
    expansion: use :func:`retention_profit` for those.

    Parameters
    ----------
    arpa : float, array-like or Series
        Average revenue per account per period (>= 0).
    gross_margin : float
        Gross margin as a fraction in [0, 1].
    churn_rate : float, array-like or Series
        Logo churn rate per period, fraction in (0, 1].

    Returns
    -------
    float, ndarray or Series
        CLV in currency units (same shape as the inputs).
    """
    _check_fraction(gross_margin, "gross_margin")
    _check_fraction(churn_rate, "churn_rate", allow_zero=False)  # type: ignore[arg-type]
    if (np.asarray(arpa, dtype=float) < 0).any():
        raise KpiInputError(f"arpa must be >= 0, got {arpa!r}")
    result = formulas.clv(arpa, gross_margin, churn_rate)
    series = next((x for x in (arpa, churn_rate) if isinstance(x, pd.Series)), None)
    return result if series is None else pd.Series(result, index=series.index)


def clv_discounted(
    arpa: float | np.ndarray | pd.Series,
    *,
    gross_margin: float,
    monthly_churn: float | np.ndarray | pd.Series,
    monthly_expansion: float | np.ndarray | pd.Series = 0.0,
    discount_rate_annual: float = 0.10,
) -> float | np.ndarray | pd.Series:
    """Customer lifetime value, discounted and with expansion (the simulator's CLV).

    A customer's MRR is kept with probability ``1 - c`` a month (logo churn ``c``) and a
    kept MRR grows by ``g`` a month (net expansion: expansion minus contraction, as a
    fraction of the kept MRR), so the expected MRR ``k`` months on is ``ARPA x r ** k``
    with the monthly net revenue retention ``r = (1 - c) x (1 + g)``. Discounted at the
    monthly rate ``i = (1 + d) ** (1/12) - 1`` of the annual rate ``d``::

        CLV = margin x ARPA x sum_{k>=0} (r / (1 + i)) ** k
            = margin x ARPA x (1 + i) / (1 + i - r)

    (:func:`cs_sim.kpis.formulas.clv_discounted`, where the derivation and the source,
    Gupta and Lehmann 2003, are given). This month's payment counts (``k = 0``). With
    ``g = 0`` and ``d = 0`` it equals :func:`clv_simple`; it equals the ``clv_before``
    of :func:`retention_profit` without a horizon or costs.

    Parameters
    ----------
    arpa : float, array-like or Series
        Average revenue per account per month (>= 0).
    gross_margin : float
        Gross margin as a fraction in [0, 1].
    monthly_churn : float, array-like or Series
        Monthly logo churn rate, a fraction in [0, 1].
    monthly_expansion : float, array-like or Series, default 0
        Monthly net expansion of the customers who stay (> -1), e.g. 0.005.
    discount_rate_annual : float, default 0.10
        Annual discount rate (>= 0).

    Returns
    -------
    float, ndarray or Series
        CLV in currency units (same shape as the inputs).

    Raises
    ------
    KpiInputError
        If an input is out of range or the value is infinite (``r >= 1 + i``: revenue
        grows at least as fast as the discount rate, e.g. no churn and no discounting).

    Examples
    --------
    >>> round(clv_discounted(100.0, gross_margin=0.8, monthly_churn=0.02,
    ...                      discount_rate_annual=0.0), 6)
    4000.0
    """
    _check_fraction(gross_margin, "gross_margin")
    _check_fraction(monthly_churn, "monthly_churn")  # type: ignore[arg-type]
    if (np.asarray(arpa, dtype=float) < 0).any():
        raise KpiInputError(f"arpa must be >= 0, got {arpa!r}")
    g = np.asarray(monthly_expansion, dtype=float)
    if np.isnan(g).any() or (g <= -1).any():
        raise KpiInputError(f"monthly_expansion must be > -1, got {monthly_expansion!r}")
    if not (isinstance(discount_rate_annual, (int, float)) and math.isfinite(discount_rate_annual)
            and discount_rate_annual >= 0):
        raise KpiInputError(f"discount_rate_annual must be a finite number >= 0, "
                            f"got {discount_rate_annual!r}")
    i = formulas.monthly_rate(discount_rate_annual)
    r = (1.0 - np.asarray(monthly_churn, dtype=float)) * (1.0 + g)
    if (r >= 1.0 + i).any():
        raise KpiInputError(
            "lifetime value is infinite: monthly net retention (1 - churn) x (1 + expansion) "
            f"is at least 1 + the monthly discount rate ({1 + i:.4f}); raise "
            "discount_rate_annual or check the churn and expansion rates"
        )
    result = formulas.clv_discounted(arpa, gross_margin, r, i)
    series = next((x for x in (arpa, monthly_churn, monthly_expansion)
                   if isinstance(x, pd.Series)), None)
    return result if series is None else pd.Series(result, index=series.index)


def clv_by_convention(
    arpa: float | np.ndarray | pd.Series,
    *,
    churn_rate: float | np.ndarray | pd.Series,
    gross_margin: float,
    conventions: Conventions = "cs_sim",
) -> float | np.ndarray | pd.Series:
    """The simple CLV as a metric provider defines it: with or without the margin.

    ``cs_sim``: ``ARPA x gross margin / churn`` (:func:`clv_simple`, Skok's LTV, a
    lifetime gross profit); ``chartmogul`` and ``baremetrics``: ``ARPA / churn`` (a
    lifetime revenue; ``gross_margin`` is not used). Definitions and sources:
    :data:`cs_sim.kpis.conventions.DEFINITIONS`.

    Parameters
    ----------
    arpa : float, array-like or Series
        Average revenue per account per month (>= 0).
    churn_rate : float, array-like or Series
        Monthly logo churn rate, a fraction in (0, 1].
    gross_margin : float
        Gross margin, a fraction in [0, 1] (used by ``cs_sim`` only).
    conventions : {"cs_sim", "chartmogul", "baremetrics"}, default "cs_sim"

    Returns
    -------
    float, ndarray or Series
        CLV in currency units.

    Examples
    --------
    ChartMogul's example: ARPA $100, monthly customer churn 5%:

    >>> round(clv_by_convention(100.0, churn_rate=0.05, gross_margin=0.8,
    ...                         conventions="chartmogul"), 6)
    2000.0
    >>> round(clv_by_convention(100.0, churn_rate=0.05, gross_margin=0.8), 6)
    1600.0
    """
    check_conventions(conventions)
    margin = gross_margin if conventions == "cs_sim" else 1.0
    _check_fraction(gross_margin, "gross_margin")
    return clv_simple(arpa, gross_margin=margin, churn_rate=churn_rate)


def clv_purchase(
    purchase_value: float | np.ndarray | pd.Series,
    *,
    frequency: float | np.ndarray | pd.Series,
    lifespan: float | np.ndarray | pd.Series,
) -> float | np.ndarray | pd.Series:
    """Purchase-based customer lifetime value: ``value x frequency x lifespan``.

    The usual CLV for non-subscription businesses: average purchase value times
    purchases per period times the customer's expected lifespan in periods (e.g.
    $50 x 4 purchases/year x 5 years = $1,000). Revenue, not margin: multiply by the
    gross margin for a profit figure.

    Parameters
    ----------
    purchase_value : float, array-like or Series
        Average value of one purchase (>= 0).
    frequency : float, array-like or Series
        Purchases per period (>= 0).
    lifespan : float, array-like or Series
        Expected customer lifespan in the same periods (>= 0).

    Returns
    -------
    float, ndarray or Series
        CLV in currency units.
    """
    for name, v in (("purchase_value", purchase_value), ("frequency", frequency),
                    ("lifespan", lifespan)):
        a = np.asarray(v, dtype=float)
        if np.isnan(a).any() or (a < 0).any():
            raise KpiInputError(f"{name} must be >= 0, got {v!r}")
    result = purchase_value * frequency * lifespan
    return float(result) if np.ndim(result) == 0 else result


def customer_retention_cost(costs: pd.DataFrame, mrr: pd.DataFrame) -> pd.DataFrame:
    """Customer retention cost (CRC) per month.

    ``crc = (cs_cost + support_cost + tooling_cost) / active accounts`` where active
    accounts have MRR > 0 that month: what it costs per month to retain and engage one
    customer.

    Parameters
    ----------
    costs : DataFrame
        Canonical costs table (``month``, ``cs_cost``, ``support_cost``,
        ``tooling_cost``; one row per month).
    mrr : DataFrame
        Canonical mrr table.

    Returns
    -------
    DataFrame
        One row per month of ``costs``: ``month, cs_cost, support_cost, tooling_cost,
        total_cost, active_accounts, crc`` (NaN when no account is active, e.g. a
        month outside the mrr data).
    """
    parts = ["cs_cost", "support_cost", "tooling_cost"]
    require_columns(costs, ["month", *parts], "costs")
    month = to_month(costs["month"])
    if month.duplicated().any():
        raise KpiInputError("costs: month must be unique (one row per month)")
    out = pd.DataFrame({"month": month.to_numpy()})
    for p in parts:
        out[p] = check_nonnegative(costs[p], column=p, table="costs")
    out["total_cost"] = out[parts].sum(axis=1)
    active = mrr_by_month(mrr)[["month", "active_accounts"]]
    out = out.merge(active, on="month", how="left")
    out["active_accounts"] = out["active_accounts"].fillna(0).astype(np.int64)
    out["crc"] = safe_ratio(out["total_cost"], out["active_accounts"])
    return out.sort_values("month").reset_index(drop=True)


def renewal_rate(
    accounts: pd.DataFrame,
    mrr: pd.DataFrame,
    *,
    by: str | None = None,
) -> pd.DataFrame:
    """Renewal rate of annual contracts per month.

    ``renewal_rate = annual contracts renewed / annual contracts up for renewal``.
    An account with ``contract == 'annual'`` has a renewal date at each 12-month
    anniversary a = f + 12k (k = 1, 2, ...) of its first paid month f. Its contract is
    *up for renewal* at a when the account is active (MRR > 0) in the contract's last
    month a - 1; it is *renewed* when it is also active in month a. (An account already
    inactive at a - 1 left mid-term or did not renew earlier: it is not counted again;
    its loss shows in logo churn.)

    Accounts already paying in the first month of the data signed their contract
    before the data starts, so f is unknown there: when ``accounts`` has a
    ``signup_date`` earlier than the data, its month is taken as f (the contract is
    assumed to have started at signup), otherwise the first month of the data.

    Parameters
    ----------
    accounts : DataFrame
        Canonical accounts table (``account_id``, ``contract``, and ``by`` if given).
    mrr : DataFrame
        Canonical mrr table.
    by : str, optional
        Column of ``accounts`` to group by (e.g. ``'plan'``, ``'region'``).

    Returns
    -------
    DataFrame
        One row per (``by``, month) from the first possible anniversary (the 13th
        month of the data, or earlier for contracts signed before it) to the last:
        ``[by], month, up_for_renewal, renewed, renewal_rate`` (NaN where nothing was
        up for renewal). Sum the counts over months for a rate over a longer period.
    """
    keys = by_columns(by, accounts, "accounts")
    require_columns(accounts, ["account_id", "contract"], "accounts")
    m = _build_matrix(mrr, None)
    n_months = len(m.months)
    is_annual = (accounts["contract"] == "annual").fillna(False).astype(bool)
    annual = accounts.loc[is_annual]
    rows = m.accounts.get_indexer(pd.Index(annual["account_id"]))
    rows = rows[rows >= 0]
    paid = m.units[rows] > 0
    ever = paid.any(axis=1)
    first = np.argmax(paid, axis=1)
    if "signup_date" in annual.columns:
        # left-censored accounts: the contract started at signup, before the data
        signup = pd.to_datetime(annual.set_index("account_id")["signup_date"], errors="coerce")
        signup = signup.reindex(m.accounts[rows])
        signup_month = signup.dt.to_period("M").dt.to_timestamp()
        start = pd.Timestamp(m.months[0])
        offset = (signup_month.dt.year - start.year) * 12 + signup_month.dt.month - start.month
        censored = (first == 0) & (offset < 0).to_numpy()
        first = np.where(censored, offset.fillna(0).to_numpy(dtype=np.int64), first)
    records = []
    k_max = (n_months - int(first.min(initial=0))) // 12 + 1
    for k in range(1, k_max + 1):
        anniv = first + 12 * k
        r = np.flatnonzero(ever & (anniv >= 1) & (anniv < n_months))
        up = paid[r, anniv[r] - 1]
        renewed = up & paid[r, anniv[r]]
        records.append(pd.DataFrame({
            "account_id": m.accounts[rows[r]],
            "month": m.months[anniv[r]],
            "up_for_renewal": up.astype(np.int64),
            "renewed": renewed.astype(np.int64),
        }))
    events = pd.concat(records, ignore_index=True)
    # from the first month an anniversary can fall in (the 13th month of the data, or
    # earlier for contracts signed before the data)
    months = m.months[max(1, int(first.min(initial=0)) + 12):]
    if keys:
        lookup = annual.drop_duplicates("account_id").set_index("account_id")[by]
        events[by] = events["account_id"].map(lookup).to_numpy()
        segs = pd.DataFrame({by: annual[by].drop_duplicates().to_numpy()})
        grid = segs.merge(pd.DataFrame({"month": months}), how="cross")
    else:
        grid = pd.DataFrame({"month": months})
    agg = (
        events.groupby([*keys, "month"], dropna=False)[["up_for_renewal", "renewed"]]
        .sum()
        .reset_index()
    )
    out = grid.merge(agg, on=[*keys, "month"], how="left")
    out = out.sort_values([*keys, "month"], kind="stable").reset_index(drop=True)
    out["up_for_renewal"] = out["up_for_renewal"].fillna(0).astype(np.int64)
    out["renewed"] = out["renewed"].fillna(0).astype(np.int64)
    out["renewal_rate"] = safe_ratio(out["renewed"], out["up_for_renewal"])
    return out[[*keys, "month", "up_for_renewal", "renewed", "renewal_rate"]]


@dataclass(frozen=True)
class RetentionProfit:
    """Result of :func:`retention_profit` (all money in the currency of ``arpa``).

    Attributes
    ----------
    monthly_churn_before, monthly_churn_after : float
        Monthly logo churn rate without and with the retention gain.
    annual_retention_before, annual_retention_after : float
        ``(1 - monthly churn) ** 12``.
    expected_lifetime_months_before, expected_lifetime_months_after : float
        Expected number of paying months per customer (within the horizon, undiscounted).
    clv_before, clv_after : float
        Per-customer lifetime value: discounted sum of the monthly contribution
        (ARPA x gross margin - cost to serve) over the expected lifetime.
    profit_before, profit_after : float
        Cohort lifetime profit: ``customers x (clv - acquisition_cost)``.
    profit_change : float
        ``profit_after - profit_before``.
    profit_change_pct : float
        ``100 x profit_change / |profit_before|`` (NaN if profit_before is 0).
    clv_change_pct : float
        ``100 x (clv_after - clv_before) / |clv_before|`` (NaN if clv_before is 0).
    """

    customers: float
    horizon_months: int | None
    monthly_churn_before: float
    monthly_churn_after: float
    annual_retention_before: float
    annual_retention_after: float
    expected_lifetime_months_before: float
    expected_lifetime_months_after: float
    clv_before: float
    clv_after: float
    profit_before: float
    profit_after: float
    profit_change: float
    profit_change_pct: float
    clv_change_pct: float


def _geometric_sum(ratio: float, horizon: int | None) -> float:
    """``sum_{t=1..H} ratio**(t-1)``; H = None means an infinite sum (needs ratio < 1)."""
    if horizon is None:
        if ratio >= 1:
            raise KpiInputError(
                "lifetime value is infinite without a horizon: monthly survival x revenue "
                "growth / discount factor is >= 1 (e.g. churn 0 and no discounting); give "
                "horizon_months or a discount_rate_annual high enough"
            )
        return 1.0 / (1.0 - ratio)
    if ratio == 1.0:
        return float(horizon)
    return (1.0 - ratio**horizon) / (1.0 - ratio)


def retention_profit(
    *,
    customers: float,
    arpa: float,
    gross_margin: float,
    monthly_churn: float,
    retention_gain_pts: float,
    horizon_months: int | None = None,
    discount_rate_annual: float = 0.0,
    cost_per_customer_month: float = 0.0,
    extra_cost_per_customer_month: float = 0.0,
    acquisition_cost: float = 0.0,
    arpa_growth_monthly: float = 0.0,
    retention_basis: Literal["annual", "monthly"] = "annual",
) -> RetentionProfit:
    """What a retention improvement is worth in CLV and profit, for your own numbers.

    Reichheld and Sasser (1990, "Zero Defections", HBR) reported that 5 percentage
    points more retention raised profits by 25% to 95% in the businesses they studied.
    That range belongs to their data; this function computes the effect for yours.

    **The gain.** With ``retention_basis='annual'`` (default), ``retention_gain_pts``
    is added to the *annual* retention rate: monthly churn c gives annual retention
    ``R = (1 - c) ** 12``; the gain moves it to ``R + pts / 100`` (e.g. 80% -> 85% for
    ``pts=5``) and the new monthly churn is
    ``scale_churn_rate(1 - R', from_months=12, to_months=1)``. With
    ``retention_basis='monthly'`` the points are added to monthly retention
    (``c' = c - pts / 100``). Negative points model a retention loss.

    **The cohort model.** ``customers`` start together in month 1. A customer pays in
    month t (t = 1, 2, ...) with probability ``s ** (t - 1)``, s = 1 - c (constant
    monthly churn, i.e. geometric lifetimes). Its contribution in month t is
    ``arpa x (1 + g) ** (t - 1) x gross_margin - cost`` (g = ``arpa_growth_monthly``,
    expansion with tenure; cost = ``cost_per_customer_month`` plus, after the gain,
    ``extra_cost_per_customer_month``, the cost of the retention programme), discounted
    by ``(1 + i) ** -(t - 1)`` with monthly rate ``i = (1 + d) ** (1/12) - 1``. Hence,
    with ``S(x) = sum_{t=1..H} x ** (t - 1)`` (``1 / (1 - x)`` without a horizon)::

        CLV    = arpa x margin x S(s (1 + g) / (1 + i)) - cost x S(s / (1 + i))
        profit = customers x (CLV - acquisition_cost)

    With no growth, no discounting, no cost and no horizon, CLV = arpa x margin / c,
    the simple formula of :func:`clv_simple`. The relative profit change is large when
    the per-customer profit is thin (high acquisition cost, low margin), which is the
    mechanism behind Reichheld and Sasser's figures.

    Parameters
    ----------
    customers : float
        Cohort size (> 0), e.g. the current number of customers.
    arpa : float
        Monthly revenue per account (>= 0).
    gross_margin : float
        Gross margin, fraction in [0, 1].
    monthly_churn : float
        Current monthly logo churn rate, fraction in [0, 1].
    retention_gain_pts : float
        Retention improvement in percentage points (see above).
    horizon_months : int, optional
        Months to count (None: the whole lifetime).
    discount_rate_annual : float, default 0
        Annual discount rate (>= 0), e.g. 0.10.
    cost_per_customer_month : float, default 0
        Cost to serve one customer for a month (both scenarios).
    extra_cost_per_customer_month : float, default 0
        Added monthly cost per customer of achieving the gain (after-scenario only).
    acquisition_cost : float, default 0
        Cost of acquiring one customer (spent at the start, both scenarios).
    arpa_growth_monthly : float, default 0
        Monthly growth of a surviving customer's revenue (expansion), e.g. 0.005.
    retention_basis : {'annual', 'monthly'}, default 'annual'
        Which retention rate ``retention_gain_pts`` is added to.

    Returns
    -------
    RetentionProfit
        Frozen result with churn, retention, lifetime, CLV and profit before/after.

    Raises
    ------
    KpiInputError
        If an input is out of range, the improved retention exceeds 100% or falls
        below 0%, or the lifetime value is infinite.
    """
    if not customers > 0:
        raise KpiInputError(f"customers must be > 0, got {customers!r}")
    for name, v in (("arpa", arpa), ("cost_per_customer_month", cost_per_customer_month),
                    ("extra_cost_per_customer_month", extra_cost_per_customer_month),
                    ("acquisition_cost", acquisition_cost),
                    ("discount_rate_annual", discount_rate_annual)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
            raise KpiInputError(f"{name} must be a finite number >= 0, got {v!r}")
    _check_fraction(gross_margin, "gross_margin")
    _check_fraction(monthly_churn, "monthly_churn")
    if not (isinstance(arpa_growth_monthly, (int, float)) and arpa_growth_monthly > -1):
        raise KpiInputError(f"arpa_growth_monthly must be > -1, got {arpa_growth_monthly!r}")
    if horizon_months is not None and not (
        isinstance(horizon_months, (int, np.integer)) and horizon_months >= 1
    ):
        raise KpiInputError(f"horizon_months must be an integer >= 1 or None, "
                            f"got {horizon_months!r}")
    if retention_basis not in ("annual", "monthly"):
        raise KpiInputError(f"retention_basis must be 'annual' or 'monthly', "
                            f"got {retention_basis!r}")
    gain = retention_gain_pts / 100.0
    if retention_basis == "annual":
        before_ret = (1.0 - monthly_churn) ** 12
        after_ret = before_ret + gain
        if not 0.0 <= after_ret <= 1.0 + 1e-12:
            raise KpiInputError(
                f"annual retention {100 * before_ret:.2f}% + {retention_gain_pts} points = "
                f"{100 * after_ret:.2f}% is outside 0-100%"
            )
        after_ret = min(after_ret, 1.0)
        churn_after = scale_churn_rate(1.0 - after_ret, from_months=12, to_months=1)
    else:
        churn_after = monthly_churn - gain
        if not 0.0 <= churn_after <= 1.0:
            raise KpiInputError(
                f"monthly retention {100 * (1 - monthly_churn):.2f}% + {retention_gain_pts} "
                "points is outside 0-100%"
            )
    i = formulas.monthly_rate(discount_rate_annual)

    def scenario(churn: float, cost: float) -> tuple[float, float]:
        s = 1.0 - churn
        lifetime = _geometric_sum(s, horizon_months) if (s < 1 or horizon_months) else math.inf
        revenue = arpa * gross_margin * _geometric_sum(
            s * (1.0 + arpa_growth_monthly) / (1.0 + i), horizon_months
        )
        costs = cost * _geometric_sum(s / (1.0 + i), horizon_months) if cost else 0.0
        return lifetime, revenue - costs

    life_b, clv_b = scenario(monthly_churn, cost_per_customer_month)
    life_a, clv_a = scenario(
        float(churn_after), cost_per_customer_month + extra_cost_per_customer_month
    )
    profit_b = customers * (clv_b - acquisition_cost)
    profit_a = customers * (clv_a - acquisition_cost)

    def pct(new: float, old: float) -> float:
        return 100.0 * (new - old) / abs(old) if old != 0 else math.nan

    return RetentionProfit(
        customers=float(customers),
        horizon_months=horizon_months,
        monthly_churn_before=float(monthly_churn),
        monthly_churn_after=float(churn_after),
        annual_retention_before=(1.0 - monthly_churn) ** 12,
        annual_retention_after=(1.0 - float(churn_after)) ** 12,
        expected_lifetime_months_before=life_b,
        expected_lifetime_months_after=life_a,
        clv_before=clv_b,
        clv_after=clv_a,
        profit_before=profit_b,
        profit_after=profit_a,
        profit_change=profit_a - profit_b,
        profit_change_pct=pct(profit_a, profit_b),
        clv_change_pct=pct(clv_a, clv_b),
    )
