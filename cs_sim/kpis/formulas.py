"""The KPI formulas over plain numbers and arrays: one definition of each ratio.

The table KPIs of :mod:`cs_sim.kpis` and the simulator's results
(:mod:`cs_sim.sim.results`) both compute GRR, NRR, logo churn, CLV and NPS through these
functions, so a definition changes in one place. They do no validation and never warn:
where a denominator is 0 the result is NaN (undefined), not an error or an infinity.
Inputs are numbers or numpy arrays of the same shape; a 0-d input gives a ``float``.

============================  ========================================================
formula                       definition
============================  ========================================================
:func:`ratio`                 ``num / den``; NaN where ``den == 0``
:func:`grr`                   ``retained / start`` MRR of a cohort (expansion left out)
:func:`nrr`                   ``end / start`` MRR of a cohort (expansion included)
:func:`logo_churn`            ``churned / starting`` accounts
:func:`clv`                   ``ARPA x gross margin / churn rate`` (undiscounted)
:func:`nps`                   ``100 x (promoters - detractors) / responses``
:func:`monthly_rate`          ``(1 + annual rate) ** (1/12) - 1``
:func:`retained_value_factor` ``sum_{k >= first} (r / (1 + i)) ** k`` at monthly net
                              retention ``r`` and discount rate ``i``
:func:`clv_discounted`        ``ARPA x margin x (1 + i) / (1 + i - r)``: discounted,
                              with expansion (through ``r``)
============================  ========================================================

The simulator's CLV and the terminal value of its NPV (:mod:`cs_sim.sim.money`) are both
:func:`retained_value_factor` times a monthly margin, so they rest on one definition.

Examples
--------
>>> grr(1000.0, 900.0), nrr(1000.0, 1050.0)
(0.9, 1.05)
>>> nps(50, 20, 100)
30.0
>>> clv(100.0, 0.8, 0.0)
nan
>>> round(clv_discounted(100.0, 0.8, 0.98, 0.0), 6)  # = clv(100, 0.8, 0.02)
4000.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cs_sim.kpis._util import safe_ratio

__all__ = [
    "clv",
    "clv_discounted",
    "grr",
    "logo_churn",
    "monthly_rate",
    "nps",
    "nrr",
    "ratio",
    "retained_value_factor",
]


def _out(value: np.ndarray) -> float | np.ndarray:
    return float(value) if np.ndim(value) == 0 else value


def ratio(num: Any, den: Any) -> float | np.ndarray:
    """``num / den``, NaN where ``den`` is 0 (no infinity, no warning).

    Parameters
    ----------
    num, den : float or array-like

    Returns
    -------
    float or ndarray
    """
    return _out(safe_ratio(num, den))


def grr(start_mrr: Any, retained_mrr: Any) -> float | np.ndarray:
    """Gross revenue retention: the share of a cohort's starting MRR it still pays.

    ``GRR = retained / start`` with ``retained = start - contraction - churned`` (per
    account ``min(MRR_start, MRR_end)``): expansion does not count, so GRR <= 1.

    Parameters
    ----------
    start_mrr : float or array-like
        MRR of the cohort at the start.
    retained_mrr : float or array-like
        The part of it still paid at the end.

    Returns
    -------
    float or ndarray
        A fraction (0.9 = 90%); NaN where ``start_mrr`` is 0.
    """
    return ratio(retained_mrr, start_mrr)


def nrr(start_mrr: Any, end_mrr: Any) -> float | np.ndarray:
    """Net revenue retention: a cohort's MRR at the end over its MRR at the start.

    ``NRR = end / start`` with ``end = start + expansion - contraction - churned`` of
    the accounts paying at the start (new customers do not count).

    Parameters
    ----------
    start_mrr : float or array-like
        MRR of the cohort at the start.
    end_mrr : float or array-like
        MRR of the same accounts at the end.

    Returns
    -------
    float or ndarray
        A fraction (1.05 = 105%); NaN where ``start_mrr`` is 0.
    """
    return ratio(end_mrr, start_mrr)


def logo_churn(churned: Any, start_accounts: Any) -> float | np.ndarray:
    """Logo churn rate: accounts lost over the accounts paying at the start.

    Parameters
    ----------
    churned : int, float or array-like
    start_accounts : int, float or array-like

    Returns
    -------
    float or ndarray
        A fraction per period of the counts; NaN where ``start_accounts`` is 0.
    """
    return ratio(churned, start_accounts)


def clv(arpa: Any, gross_margin: Any, churn_rate: Any) -> float | np.ndarray:
    """Customer lifetime value: ``ARPA x gross margin / churn rate``.

    With churn ``c`` per period a customer stays ``1/c`` periods on average, so the
    lifetime gross margin is ``ARPA x margin / c`` (undiscounted, no expansion). ARPA and
    churn refer to the same period. :func:`cs_sim.kpis.clv_simple` is the checked
    version for users.

    Parameters
    ----------
    arpa : float or array-like
        Average revenue per account per period.
    gross_margin : float or array-like
        A fraction.
    churn_rate : float or array-like
        Logo churn per period, a fraction.

    Returns
    -------
    float or ndarray
        Money; NaN where ``churn_rate`` is 0 (no churn: no finite lifetime).
    """
    return ratio(np.asarray(arpa, dtype=float) * gross_margin, churn_rate)


def nps(promoters: Any, detractors: Any, responses: Any) -> float | np.ndarray:
    """Net Promoter Score from counts: ``100 x (promoters - detractors) / responses``.

    Promoters answer 9-10 and detractors 0-6 on the 0-10 scale; the score runs from
    -100 to 100. :func:`cs_sim.kpis.nps` computes it (with its interval) from answers.

    Parameters
    ----------
    promoters, detractors, responses : int, float or array-like
        Counts of answers.

    Returns
    -------
    float or ndarray
        NaN where ``responses`` is 0.
    """
    return _out(100.0 * safe_ratio(np.asarray(promoters, dtype=float) - detractors, responses))


def monthly_rate(annual_rate: Any) -> float | np.ndarray:
    """The monthly rate compounding to ``annual_rate`` in a year: ``(1 + a) ** (1/12) - 1``.

    Parameters
    ----------
    annual_rate : float or array-like
        A fraction, e.g. 0.10 for 10% a year.

    Returns
    -------
    float or ndarray
        E.g. 0.10 a year -> 0.007974 a month.
    """
    return _out((1.0 + np.asarray(annual_rate, dtype=float)) ** (1.0 / 12.0) - 1.0)


def retained_value_factor(
    net_retention: Any, monthly_discount: Any, *, first: int = 0, months: int | None = None
) -> float | np.ndarray:
    """Discounted months of a payment kept at net retention ``r``: ``sum_{k>=first} q**k``.

    A payment of 1 this month (``k = 0``) is expected to be ``r ** k`` in ``k`` months,
    where ``r`` is the monthly net revenue retention of the paying customers (the MRR
    they keep, expansion and contraction included, churned MRR counted as 0). At the
    monthly discount rate ``i`` it is worth ``(r / (1 + i)) ** k`` today, so with
    ``q = r / (1 + i)`` the geometric series gives::

        sum_{k >= first} q ** k = q ** first / (1 - q)        (q < 1)

    and, counting only ``months`` terms (``k = first .. first + months - 1``)::

        sum q ** k = q ** first x (1 - q ** months) / (1 - q)   (q != 1; months if q == 1)

    Parameters
    ----------
    net_retention : float or array-like
        Monthly net revenue retention ``r`` (0.99 = 99% of the MRR kept a month).
    monthly_discount : float or array-like
        Monthly discount rate ``i`` (:func:`monthly_rate` of an annual rate).
    first : int, default 0
        First month counted: 0 includes this month's payment, 1 starts a month later
        (the value *beyond* a month already counted, as a terminal value does).
    months : int, optional
        Count only this many months (a finite horizon); None counts them all.

    Returns
    -------
    float or ndarray
        NaN where ``q >= 1`` (the series diverges: revenue grows at least as fast as the
        discount rate) or an input is NaN.
    """
    r = np.asarray(net_retention, dtype=float)
    q = r / (1.0 + np.asarray(monthly_discount, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if months is None:
            out = np.where((q < 1.0) & (q >= 0.0), q**first / (1.0 - q), np.nan)
        else:
            finite = q**first * (1.0 - q**months) / (1.0 - q)
            out = np.where(q == 1.0, float(months), np.where(q >= 0.0, finite, np.nan))
    return _out(out)


def clv_discounted(
    arpa: Any, gross_margin: Any, net_retention: Any, monthly_discount: Any
) -> float | np.ndarray:
    """Customer lifetime value, discounted, with expansion: the one CLV of the simulator.

    A customer paying ``ARPA`` this month keeps, in expectation, ``ARPA x r ** k`` of it
    ``k`` months later, where ``r`` is the monthly net revenue retention (churn,
    contraction and expansion together). Discounting each month at ``i`` and summing
    the gross margin over all months from this one (:func:`retained_value_factor`)::

        CLV = margin x ARPA x sum_{k>=0} (r / (1 + i)) ** k
            = margin x ARPA x (1 + i) / (1 + i - r)          (r < 1 + i)

    This is the retention-based CLV of Gupta and Lehmann ("Customers as assets",
    Journal of Interactive Marketing 17(1), 2003), ``m x r / (1 + i - r)``, plus this
    month's margin ``m`` (they count from the first *renewal*; here the current month
    counts too): ``m + m r / (1 + i - r) = m (1 + i) / (1 + i - r)``. With no discounting
    (``i = 0``) and no expansion (``r = 1 - c`` for logo churn ``c``) it is the simple
    ``ARPA x margin / c`` of :func:`clv`. :func:`cs_sim.kpis.clv_discounted` is the
    checked version for users (from churn and expansion rates).

    Parameters
    ----------
    arpa : float or array-like
        Average revenue per account per month.
    gross_margin : float or array-like
        A fraction.
    net_retention : float or array-like
        Monthly net revenue retention ``r``.
    monthly_discount : float or array-like
        Monthly discount rate ``i``.

    Returns
    -------
    float or ndarray
        Money; NaN where ``r >= 1 + i`` (no finite value) or an input is NaN.
    """
    factor = retained_value_factor(net_retention, monthly_discount)
    return _out(np.asarray(arpa, dtype=float) * np.asarray(gross_margin, dtype=float) * factor)
