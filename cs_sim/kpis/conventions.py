"""Metric conventions: the few SaaS definitions that differ between metric providers.

Most revenue KPIs mean the same everywhere; four do not. A ``conventions`` setting
(``"cs_sim"``, the default, ``"chartmogul"`` or ``"baremetrics"``) picks one set of
definitions, so that a baseline can be compared with a provider's dashboard:

=====================  ==================================================================
metric                 what differs
=====================  ==================================================================
net MRR churn rate     whether reactivation (and a cohort's returns) offset the losses
logo churn rate        whether an account that leaves and comes back counts as churned
quick ratio            whether reactivation counts as a gain
CLV                    whether the gross margin is applied
=====================  ==================================================================

:data:`DEFINITIONS` holds each definition with its formula, how it treats an account
that leaves and comes back, and its published source; the README's table is checked
against it. The formulas below work on window totals (plain numbers or arrays); the
table KPIs (:func:`~cs_sim.kpis.revenue_retention`, :func:`~cs_sim.kpis.quick_ratio`,
:func:`~cs_sim.kpis.clv_by_convention`) call them.

Window totals: a window runs from an opening month s to an end month e; ``start_mrr``
is the MRR at s; movements (``new``, ``expansion``, ``contraction``, ``churned``,
``reactivation``) are the MRR bridge summed over the months s+1..e; a *churn event* is
an account paying in one month and not in the next.

Examples
--------
ChartMogul's worked example of net MRR churn: $100 MRR at the start, $10 lost to churn,
$10 to contraction, $10 gained from one customer's expansion:

>>> net_mrr_churn_rate(start_mrr=100, churned=10, contraction=10, expansion=10,
...                    reactivation=0, cohort_end_mrr=90, conventions="chartmogul")
0.1
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from cs_sim.kpis._util import KpiInputError, safe_ratio

__all__ = [
    "CONVENTIONS",
    "DEFINITIONS",
    "Conventions",
    "Definition",
    "check_conventions",
    "definition",
    "logo_churn_rate",
    "net_mrr_churn_rate",
    "quick_ratio",
]

#: a set of metric definitions
Conventions = Literal["cs_sim", "chartmogul", "baremetrics"]
#: the conventions known, the default first
CONVENTIONS: tuple[str, ...] = ("cs_sim", "chartmogul", "baremetrics")

_CM_NET = ("ChartMogul Help Center, 'Chart: Net MRR Churn Rate' (Standard formula, B2B): "
           "help.chartmogul.com/hc/en-us/articles/4414075567250")
_CM_CUSTOMER = ("ChartMogul Help Center, 'Metric: Customer Churn rate' (B2B formula): "
                "help.chartmogul.com/hc/en-us/articles/203359321")
_CM_QUICK = ("ChartMogul blog, 'SaaS Quick Ratio: How efficient is your growth?' (2016, "
             "updated 2024): chartmogul.com/blog/saas-quick-ratio")
_CM_LTV = ("ChartMogul Help Center, 'Chart: Customer Lifetime Value (LTV)': "
           "help.chartmogul.com/hc/en-us/articles/203359061")
_BM_NET = "Baremetrics changelog, 'Net MRR Churn': changelog.baremetrics.com/net-mrr-churn-4htCw0"
_BM_USER = ("Baremetrics Help, 'User and Revenue Churn': help.baremetrics.com/en/articles/"
            "5380347; changelog 'Churn Update' (sign-ups that cancel in the window count)")
_BM_QUICK = ("Baremetrics changelog, 'New Quick Ratio Metric': "
             "changelog.baremetrics.com/new-quick-ratio-metric-4ohZDy")
_BM_LTV = "Baremetrics Help, 'LTV: Lifetime Value': help.baremetrics.com/en/articles/5380345"
_SKOK = "D. Skok, 'SaaS Metrics 2.0' (For Entrepreneurs): LTV = ARPA x gross margin % / churn"
_COHORT = ("cs_sim's cohort definition (cs_sim.kpis.revenue_retention: the accounts paying "
           "in the opening month, followed to the end; net dollar retention as usually "
           "defined)")


@dataclass(frozen=True)
class Definition:
    """One metric under one convention.

    Attributes
    ----------
    metric : str
        ``net_mrr_churn_rate``, ``logo_churn_rate``, ``quick_ratio`` or ``clv``.
    conventions : str
        One of :data:`CONVENTIONS`.
    formula : str
        The definition, in words a reader of the baseline understands.
    returns : str
        How an account that leaves and comes back is treated.
    source : str
        Where the definition is published.
    """

    metric: str
    conventions: str
    formula: str
    returns: str
    source: str


#: every (metric, conventions) definition, the docs table of the README in data
DEFINITIONS: tuple[Definition, ...] = (
    Definition("net_mrr_churn_rate", "cs_sim",
               "1 - NRR: (opening MRR - the same accounts' MRR at the end) / opening MRR",
               "a cohort account that left and came back by the end counts with its "
               "end MRR (its return offsets its loss); other reactivations do not count",
               _COHORT),
    Definition("net_mrr_churn_rate", "chartmogul",
               "(churned + contraction - expansion - reactivation) / opening MRR",
               "every reactivation in the window offsets churn", _CM_NET),
    Definition("net_mrr_churn_rate", "baremetrics",
               "(churned + contraction - expansion) / opening MRR",
               "reactivation does not offset churn", _BM_NET),
    Definition("logo_churn_rate", "cs_sim",
               "opening accounts not paying at the end / opening accounts",
               "an account that left and is paying again at the end counts as retained",
               _COHORT),
    Definition("logo_churn_rate", "chartmogul",
               "churn events in the window, except of accounts that joined in it / "
               "opening accounts",
               "each departure counts, even if the account comes back", _CM_CUSTOMER),
    Definition("logo_churn_rate", "baremetrics",
               "churn events in the window (accounts that joined in it included) / "
               "opening accounts",
               "each departure counts, even if the account comes back", _BM_USER),
    Definition("quick_ratio", "cs_sim",
               "(new + expansion) / (contraction + churned)",
               "reactivation is not a gain", "the SaaS quick ratio of M. Hamid (Social "
               "Capital, SaaStr 2015) as Baremetrics publishes it: " + _BM_QUICK),
    Definition("quick_ratio", "chartmogul",
               "(new + expansion + reactivation) / (contraction + churned)",
               "reactivation counts as a gain", _CM_QUICK),
    Definition("quick_ratio", "baremetrics",
               "(new + expansion) / (contraction + churned)",
               "reactivation is not a gain", _BM_QUICK),
    Definition("clv", "cs_sim", "ARPA x gross margin / monthly logo churn",
               "returns count as the monthly logo churn counts them", _SKOK),
    Definition("clv", "chartmogul", "ARPA / monthly logo churn (no margin)",
               "returns count as the monthly logo churn counts them", _CM_LTV),
    Definition("clv", "baremetrics", "ARPA / monthly logo churn (no margin)",
               "returns count as the monthly logo churn counts them", _BM_LTV),
)


def check_conventions(conventions: Any) -> Conventions:
    """Return ``conventions`` if known, else raise :class:`KpiInputError` (with a hint).

    Examples
    --------
    >>> check_conventions("chartmogul")
    'chartmogul'
    """
    if conventions in CONVENTIONS:
        return conventions  # type: ignore[no-any-return]
    close = difflib.get_close_matches(str(conventions).lower(), CONVENTIONS, n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise KpiInputError(
        f"unknown conventions {conventions!r}{hint} Use one of {', '.join(CONVENTIONS)} "
        "(cs_sim is the default)"
    )


def definition(metric: str, conventions: str = "cs_sim") -> Definition:
    """The :class:`Definition` of ``metric`` under ``conventions``.

    Raises
    ------
    KpiInputError
        For an unknown metric or conventions.
    """
    check_conventions(conventions)
    for d in DEFINITIONS:
        if d.metric == metric and d.conventions == conventions:
            return d
    metrics = sorted({d.metric for d in DEFINITIONS})
    raise KpiInputError(f"no convention-dependent metric {metric!r}; they are "
                        f"{', '.join(metrics)}")


def _out(value: Any) -> float | np.ndarray:
    return float(value) if np.ndim(value) == 0 else np.asarray(value)


def net_mrr_churn_rate(
    *,
    start_mrr: Any,
    churned: Any,
    contraction: Any,
    expansion: Any,
    reactivation: Any,
    cohort_end_mrr: Any,
    conventions: Conventions = "cs_sim",
) -> float | np.ndarray:
    """Net MRR churn rate of a window under ``conventions`` (NaN without opening MRR).

    Parameters
    ----------
    start_mrr : float or array-like
        MRR at the opening month.
    churned, contraction, expansion, reactivation : float or array-like
        Bridge movements summed over the window's months.
    cohort_end_mrr : float or array-like
        MRR at the end of the accounts paying at the opening (``cs_sim`` only).
    conventions : {"cs_sim", "chartmogul", "baremetrics"}

    Returns
    -------
    float or ndarray
        A fraction; negative when gains outweigh losses.

    Examples
    --------
    >>> net_mrr_churn_rate(start_mrr=100, churned=10, contraction=10, expansion=10,
    ...                    reactivation=5, cohort_end_mrr=90, conventions="baremetrics")
    0.1
    """
    check_conventions(conventions)
    start = np.asarray(start_mrr, dtype=float)
    if conventions == "cs_sim":
        return _out(safe_ratio(start - np.asarray(cohort_end_mrr, dtype=float), start))
    lost = np.asarray(churned, dtype=float) + np.asarray(contraction, dtype=float)
    won = np.asarray(expansion, dtype=float)
    if conventions == "chartmogul":
        won = won + np.asarray(reactivation, dtype=float)
    return _out(safe_ratio(lost - won, start))


def logo_churn_rate(
    *,
    start_accounts: Any,
    lost_accounts: Any,
    churn_events: Any,
    churn_events_of_joiners: Any,
    conventions: Conventions = "cs_sim",
) -> float | np.ndarray:
    """Logo churn rate of a window under ``conventions`` (NaN without opening accounts).

    Parameters
    ----------
    start_accounts : int or array-like
        Accounts paying at the opening month.
    lost_accounts : int or array-like
        Of those, the accounts not paying at the end (``cs_sim``).
    churn_events : int or array-like
        Every churn event in the window's months (``baremetrics``).
    churn_events_of_joiners : int or array-like
        Those of accounts whose first paid month is in the window (left out by
        ``chartmogul``: "customers who both joined and churned in the period").
    conventions : {"cs_sim", "chartmogul", "baremetrics"}

    Returns
    -------
    float or ndarray

    Examples
    --------
    ChartMogul's worked example: 100 customers at the start, 11 cancel, one of whom
    joined in the same period:

    >>> logo_churn_rate(start_accounts=100, lost_accounts=10, churn_events=11,
    ...                 churn_events_of_joiners=1, conventions="chartmogul")
    0.1
    """
    check_conventions(conventions)
    if conventions == "cs_sim":
        num = np.asarray(lost_accounts, dtype=float)
    elif conventions == "chartmogul":
        num = np.asarray(churn_events, dtype=float) - np.asarray(churn_events_of_joiners,
                                                                 dtype=float)
    else:
        num = np.asarray(churn_events, dtype=float)
    return _out(safe_ratio(num, start_accounts))


def quick_ratio(
    *,
    new: Any,
    expansion: Any,
    reactivation: Any,
    contraction: Any,
    churned: Any,
    conventions: Conventions = "cs_sim",
) -> float | np.ndarray:
    """SaaS quick ratio under ``conventions``: gains / losses of MRR.

    ``inf`` when something was gained and nothing lost, NaN with neither.

    Examples
    --------
    >>> quick_ratio(new=20, expansion=8, reactivation=2, contraction=3, churned=5)
    3.5
    >>> quick_ratio(new=20, expansion=8, reactivation=2, contraction=3, churned=5,
    ...             conventions="chartmogul")
    3.75
    """
    check_conventions(conventions)
    gain = np.asarray(new, dtype=float) + np.asarray(expansion, dtype=float)
    if conventions == "chartmogul":
        gain = gain + np.asarray(reactivation, dtype=float)
    loss = np.asarray(contraction, dtype=float) + np.asarray(churned, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(loss > 0, gain / np.where(loss > 0, loss, 1.0), np.nan)
    return _out(np.where((loss == 0) & (gain > 0), np.inf, out))
