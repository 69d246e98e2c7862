"""The KPI formulas over plain numbers and arrays: one definition of each ratio.

The table KPIs of :mod:`cs_sim.kpis` and the simulator's results
(:mod:`cs_sim.sim.results`) both compute GRR, NRR, logo churn, CLV and NPS through these
functions, so a definition changes in one place. They do no validation and never warn:
where a denominator is 0 the result is NaN (undefined), not an error or an infinity.
Inputs are numbers or numpy arrays of the same shape; a 0-d input gives a ``float``.

==================  ==================================================================
formula             definition
==================  ==================================================================
:func:`ratio`       ``num / den``; NaN where ``den == 0``
:func:`grr`         ``retained / start`` MRR of a cohort (expansion left out)
:func:`nrr`         ``end / start`` MRR of a cohort (expansion included)
:func:`logo_churn`  ``churned / starting`` accounts
:func:`clv`         ``ARPA x gross margin / churn rate`` (per period)
:func:`nps`         ``100 x (promoters - detractors) / responses``
==================  ==================================================================

Examples
--------
>>> grr(1000.0, 900.0), nrr(1000.0, 1050.0)
(0.9, 1.05)
>>> nps(50, 20, 100)
30.0
>>> clv(100.0, 0.8, 0.0)
nan
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cs_sim.kpis._util import safe_ratio

__all__ = ["clv", "grr", "logo_churn", "nps", "nrr", "ratio"]


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
