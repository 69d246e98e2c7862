r"""Money of a simulation: discounting, NPV, terminal value, cost allocation, decisions.

Definitions (the scenario's ``money`` section sets ``d`` and switches the terminal
value; ``m = 0 .. H-1`` are the reported months, after any warm-up):

*Monthly discount rate* ``i = (1 + d) ** (1/12) - 1`` (:func:`cs_sim.kpis.formulas.
monthly_rate`), ``d`` the annual rate (default 10%).

*Profit* of month ``m``: ``π_m = margin x revenue_m - CS cost_m`` with ``revenue_m``
the MRR paid at the end of month ``m`` and CS cost = CSM teams + plays + programmes
(retention changes, loyalty, other costs).

*NPV over the horizon* (:func:`npv`): ``Σ_m π_m / (1 + i) ** (m + 1)`` (each month's
profit counts at the end of its month).

*Terminal value* (:func:`terminal_value`): the value after the horizon of the customers
paying at its end, segment by segment. Segment ``s``'s *end-state* monthly net revenue
retention ``r_s`` is the MRR its paying customers keep from one month to the next
(expansion and contraction included, churned MRR counted as lost), pooled over the last
:data:`END_STATE_MONTHS` reported months (all months of a shorter horizon)::

    r_s = Σ_end-state (MRR_start + expansion - contraction - churned) / Σ_end-state MRR_start

Its monthly profit ``π_s = margin x MRR_s,end - c_s`` (``MRR_s,end`` at the end of the
last month, ``c_s`` its mean monthly CS cost over the end-state months, allocated as
below) is carried on at that retention, capped at 1 (growth after the horizon is not
extrapolated: a segment growing faster than the discount rate would have an infinite
value), and discounted to today::

    TV_s = (1 + i) ** -H x π_s x Σ_{k=1..K} (min(r_s, 1) / (1 + i)) ** k
         = (1 + i) ** -H x π_s x q_s (1 - q_s ** K) / (1 - q_s),   q_s = min(r_s, 1) / (1 + i)

with ``K = 12 x money.terminal_years`` months (5 years by default: a strategy's effect
is not extrapolated forever; ``terminal_years: null`` counts all months, ``q_s / (1 -
q_s)``) (:func:`cs_sim.kpis.formulas.retained_value_factor` with ``first=1``; the same
series as the CLV). No new customers are counted after the horizon. ``NPV = NPV over the
horizon + Σ_s TV_s``; with ``terminal_value: false`` the terminal value is left out
(NaN) and the NPV is the horizon's.

*CLV* (:func:`customer_value`): :func:`cs_sim.kpis.formulas.clv_discounted` at the
end-state ARPA and ``min(r, 1)``: ``margin x ARPA x (1 + i) / (1 + i - min(r, 1))``,
the same series as the terminal value, counted from the current month.

*Cost by segment and tier* (:func:`allocate`): a play's cost belongs to the account
served. A tier's CSM team cost is its own; across segments the teams' cost is shared by
the CSM hours each segment used that month (by its accounts in a month without CSM
work). Programme and other costs are shared by accounts at the end of the month. The
shares of a month sum to 1, so segments and tiers add up to the total.

*A comparison* (:func:`decide`): paired differences ``Δ`` (variant - baseline) per
replication. When the variant costs more (mean ``ΔCS cost > 0``) its **ROI** is
``mean(Δprofit) / mean(ΔCS cost)`` over the horizon (a ratio of means: 0 means the
change pays for itself, -1 that its extra cost is lost, below -1 that gross profit fell
too), with a paired-bootstrap percentile interval (:func:`bootstrap_ratio`) from the
same replications, resampled together. A variant that costs less has no ROI: its
saving and its profit change are reported instead. **Payback** (:func:`payback_month`)
is the first month from which the cumulative mean paired monthly profit stays positive.
The **uncertainty of a mean difference** is a Student-t interval (:func:`t_interval`),
mean ``± t_{(1+level)/2, n-1} x sd / √n``; the **range of outcomes** is the quantiles of
the replications. The **probability that the variant is better** is the share of paired
replications whose difference is positive.
"""

# ruff: noqa: N806 (R, H, G: replications, months, groups)
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np

from cs_sim.format import fmt, percent
from cs_sim.kpis import formulas

__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "END_STATE_MONTHS",
    "Decision",
    "allocate",
    "bootstrap_ratio",
    "customer_value",
    "decide",
    "end_state_retention",
    "npv",
    "payback_month",
    "t_interval",
    "terminal_value",
]

#: reported months (at the end) whose pooled net retention is a segment's end state
END_STATE_MONTHS = 12
#: resamples of the paired bootstrap of the ROI
BOOTSTRAP_RESAMPLES = 2000


def discount_factors(horizon: int, monthly_discount: float) -> np.ndarray:
    """``(1 + i) ** -(m + 1)`` for months ``m = 0 .. horizon - 1`` (end of each month)."""
    return (1.0 + monthly_discount) ** -(np.arange(horizon, dtype=float) + 1.0)


def npv(monthly_profit: np.ndarray, monthly_discount: float) -> np.ndarray:
    """Net present value of each row of monthly profits: ``Σ_m π_m / (1 + i) ** (m + 1)``.

    Parameters
    ----------
    monthly_profit : ndarray
        ``(R, H)``: replications x months.
    monthly_discount : float
        Monthly discount rate ``i``.

    Returns
    -------
    ndarray
        ``(R,)``.
    """
    p = np.asarray(monthly_profit, dtype=float)
    # row by row (not a matrix product, whose rounding depends on the other rows): a
    # replication's NPV is the same whatever the chunk it ran in
    return (p * discount_factors(p.shape[1], monthly_discount)).sum(axis=1)


def end_state_slice(horizon: int) -> slice:
    """The months of the end state: the last :data:`END_STATE_MONTHS` (or all)."""
    return slice(max(0, horizon - END_STATE_MONTHS), horizon)


def end_state_retention(
    mrr_start: np.ndarray, mrr_end: np.ndarray, new_mrr: np.ndarray
) -> np.ndarray:
    """Monthly net revenue retention pooled over the end-state months.

    ``r = Σ (MRR_end - new MRR) / Σ MRR_start`` over the last :data:`END_STATE_MONTHS`
    months (:func:`cs_sim.kpis.formulas.nrr`): the MRR that the customers paying at the
    start of a month still pay at its end.

    Parameters
    ----------
    mrr_start, mrr_end, new_mrr : ndarray
        ``(R, H)`` or ``(R, H, G)``.

    Returns
    -------
    ndarray
        ``(R,)`` or ``(R, G)``; NaN where no MRR was paid.
    """
    w = end_state_slice(np.shape(mrr_start)[1])
    start = np.asarray(mrr_start, dtype=float)[:, w].sum(axis=1)
    kept = (np.asarray(mrr_end, dtype=float) - np.asarray(new_mrr, dtype=float))[:, w]
    return np.asarray(formulas.nrr(start, kept.sum(axis=1)), dtype=float)


def customer_value(
    arpa: Any, gross_margin: float, net_retention: Any, monthly_discount: float
) -> np.ndarray:
    """The simulator's CLV: :func:`cs_sim.kpis.formulas.clv_discounted` at ``min(r, 1)``.

    ``margin x ARPA x (1 + i) / (1 + i - min(r, 1))``: discounted, with expansion through
    the net revenue retention ``r``, whose growth above 100% is not extrapolated (as for
    the terminal value). NaN where ``r`` is undefined, or where ``i = 0`` and ``r >= 1``.
    """
    r = np.minimum(np.asarray(net_retention, dtype=float), 1.0)
    return np.asarray(formulas.clv_discounted(arpa, gross_margin, r, monthly_discount))


def terminal_value(
    last_profit: np.ndarray,
    net_retention: np.ndarray,
    monthly_discount: float,
    horizon: int,
    *,
    months: int | None = None,
) -> np.ndarray:
    """Present value of a monthly profit carried on after the horizon at net retention ``r``.

    ``TV = (1 + i) ** -H x π x Σ_{k=1..K} q ** k`` with ``q = min(r, 1) / (1 + i)`` and
    ``K = months`` (all months when None: ``q / (1 - q)``); see the module docstring.
    0 where ``π`` is 0 and NaN where ``r`` is undefined.

    Parameters
    ----------
    last_profit : ndarray
        Monthly profit ``π`` at the end of the horizon, e.g. ``(R, S)`` by segment.
    net_retention : ndarray
        End-state monthly net revenue retention ``r``, same shape.
    monthly_discount : float
        ``i``, which must be > 0.
    horizon : int
        Reported months ``H``.
    months : int, optional
        Months counted after the horizon (``12 x money.terminal_years``); None for all.

    Returns
    -------
    ndarray
        Same shape as the inputs.
    """
    if monthly_discount <= 0 and months is None:
        raise ValueError("an unlimited terminal value needs a monthly discount rate > 0")
    r = np.minimum(np.asarray(net_retention, dtype=float), 1.0)
    factor = formulas.retained_value_factor(r, monthly_discount, first=1, months=months)
    pi = np.asarray(last_profit, dtype=float)
    value = np.where(pi == 0.0, 0.0, pi * factor)
    return value * (1.0 + monthly_discount) ** -horizon


def allocate(total: np.ndarray, weights: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Share a monthly total among groups in proportion to ``weights``.

    Parameters
    ----------
    total : ndarray
        ``(R, H)``.
    weights, fallback : ndarray
        ``(R, H, G)``; a month whose weights sum to 0 uses ``fallback`` instead, and one
        whose fallback also sums to 0 shares equally.

    Returns
    -------
    ndarray
        ``(R, H, G)``, summing over groups to ``total``.
    """
    w = np.asarray(weights, dtype=float)
    f = np.asarray(fallback, dtype=float)
    G = w.shape[2]
    ws = w.sum(axis=2, keepdims=True)
    fs = f.sum(axis=2, keepdims=True)
    share = np.where(ws > 0, w / np.where(ws > 0, ws, 1.0),
                     np.where(fs > 0, f / np.where(fs > 0, fs, 1.0), 1.0 / max(G, 1)))
    return np.asarray(total, dtype=float)[:, :, None] * share


# ---------------------------------------------------------------------- intervals
@lru_cache(maxsize=256)
def t_quantile(level: float, n: int) -> float:
    """``t_{(1+level)/2, n-1}``, the Student-t multiplier of a ``level`` interval (NaN if n<2)."""
    if n < 2:
        return float("nan")
    from scipy import stats

    return float(stats.t.ppf(0.5 + level / 2.0, n - 1))


def t_interval(values: np.ndarray, level: float = 0.9) -> tuple[float, float, float, float]:
    """Mean, standard error and the Student-t ``level`` interval of the mean.

    Parameters
    ----------
    values : array-like
        Per-replication values (non-finite ones are left out).
    level : float, default 0.9

    Returns
    -------
    tuple of float
        ``(mean, se, lo, hi)`` with ``lo, hi = mean ± t_{(1+level)/2, n-1} x se``; the
        interval is NaN with fewer than 2 values, and ``(mean, mean)`` when every value
        is equal.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = v.size
    if n == 0:
        return (np.nan,) * 4
    mean = float(v.mean())
    if n < 2:
        return mean, np.nan, np.nan, np.nan
    se = float(v.std(ddof=1)) / np.sqrt(n)
    half = t_quantile(level, n) * se
    return mean, se, mean - half, mean + half


def bootstrap_ratio(
    numerator: np.ndarray,
    denominator: np.ndarray,
    *,
    level: float,
    generator: np.random.Generator,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> tuple[float, float]:
    """Paired-bootstrap percentile interval of ``mean(numerator) / mean(denominator)``.

    Each resample draws ``n`` replications with replacement and keeps their numerator
    and denominator together (paired); the interval is the ``(1 - level)/2`` and
    ``(1 + level)/2`` quantiles of the resampled ratios of means.

    Parameters
    ----------
    numerator, denominator : ndarray
        ``(n,)`` per-replication values (e.g. profit and cost differences).
    level : float
    generator : numpy.random.Generator
        From :func:`cs_sim.sim.rng.bootstrap_generator` (seeded by the comparison).
    resamples : int

    Returns
    -------
    tuple of float
        ``(lo, hi)``; NaN when a resample's mean denominator is not positive (the sign
        of the cost difference itself is uncertain: a ratio has no interval then).
    """
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    n = num.size
    if n == 0:
        return np.nan, np.nan
    idx = generator.integers(0, n, size=(resamples, n))
    den_b = den[idx].mean(axis=1)
    if (den_b <= 0).any():
        return np.nan, np.nan
    ratios = num[idx].mean(axis=1) / den_b
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(ratios, [tail, 1.0 - tail])
    return float(lo), float(hi)


def payback_month(monthly_differences: np.ndarray) -> int | None:
    """First month (1-based) from which the cumulative mean paired profit stays positive.

    Parameters
    ----------
    monthly_differences : ndarray
        ``(R, H)`` per replication and month: variant - baseline profit.

    Returns
    -------
    int or None
        None when the cumulative difference is not positive at the end of the horizon.
    """
    d = np.asarray(monthly_differences, dtype=float)
    if d.size == 0:
        return None
    cum = np.cumsum(d.mean(axis=0))
    if not cum[-1] > 0:
        return None
    not_positive = np.flatnonzero(cum <= 0)
    return 1 if not_positive.size == 0 else int(not_positive[-1]) + 2


# ---------------------------------------------------------------------- decisions
Case = Literal["costs_more", "saves", "same_cost"]


@dataclass(frozen=True)
class Decision:
    """What a comparison means for money (see the module docstring).

    Attributes
    ----------
    case : {"costs_more", "saves", "same_cost"}
        The sign of the mean CS-cost difference.
    replications, level, horizon_months : int, float, int
    extra_cost, extra_cost_lo, extra_cost_hi : float
        Mean CS-cost difference over the horizon and its t-interval (negative: a saving).
    profit_change, profit_change_lo, profit_change_hi : float
        Mean profit difference over the horizon (the expected profit difference).
    npv_change, npv_change_lo, npv_change_hi : float
        Mean difference of the NPV (with the terminal value when it is on).
    roi, roi_lo, roi_hi : float
        ``mean(Δprofit) / mean(ΔCS cost)`` and its paired-bootstrap interval; NaN unless
        the variant costs more.
    payback_month : int or None
        See :func:`payback_month`.
    prob_profit_better, prob_nrr_better : float
        Share of the paired replications whose profit (NRR) difference is positive.
    discount_rate : float
    terminal_value : bool
    """

    case: Case
    replications: int
    level: float
    horizon_months: int
    extra_cost: float
    extra_cost_lo: float
    extra_cost_hi: float
    profit_change: float
    profit_change_lo: float
    profit_change_hi: float
    npv_change: float
    npv_change_lo: float
    npv_change_hi: float
    roi: float
    roi_lo: float
    roi_hi: float
    payback_month: int | None
    prob_profit_better: float
    prob_nrr_better: float
    discount_rate: float
    terminal_value: bool

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dictionary (raw numbers)."""
        return asdict(self)

    def sentences(self) -> list[str]:
        """The decision in plain words, every figure in its unit."""
        H, lvl = self.horizon_months, percent(self.level, digits=0)

        def ci(lo: float, hi: float, unit: str = "money") -> str:
            if not np.isfinite(lo):
                return ""
            return f" ({lvl} CI {fmt(lo, unit, diff=True)} .. {fmt(hi, unit, diff=True)})"

        profit = (f"profit {'rises' if self.profit_change > 0 else 'falls'} by "
                  f"{fmt(abs(self.profit_change), 'money')}"
                  f"{ci(self.profit_change_lo, self.profit_change_hi)}")
        if self.case == "costs_more":
            first = (f"The variant costs {fmt(self.extra_cost, 'money')} more over the {H} "
                     f"months{ci(self.extra_cost_lo, self.extra_cost_hi)} and {profit}.")
            if np.isfinite(self.roi_lo):
                band = f" ({lvl} bootstrap interval {fmt(self.roi_lo, 'ratio')} .. " \
                       f"{fmt(self.roi_hi, 'ratio')})"
            else:
                band = " (no interval: the sign of the extra cost is uncertain)"
            roi = f"ROI {fmt(self.roi, 'ratio')}{band}: profit gained per 1 of extra cost"
            if self.roi < -1:
                roi += "; below -1, gross profit falls as well as the cost rising."
            elif self.roi < 0:
                roi += "; below 0, the change does not pay for its cost."
            else:
                roi += ", after paying for it."
            lines = [first, roi]
        elif self.case == "saves":
            verdict = ("cheaper and more profitable" if self.profit_change > 0 else
                       "the saving costs more gross profit than it saves")
            lines = [f"The variant saves {fmt(-self.extra_cost, 'money')} in CS cost over the "
                     f"{H} months and {profit}: {verdict}. No ROI: nothing extra is spent."]
        else:
            lines = [f"The variant costs the same and {profit}. No ROI: no extra cost."]
        tv = "with the value after the horizon" if self.terminal_value else "horizon only"
        lines.append(f"NPV of profit ({percent(self.discount_rate, digits=0)} a year, {tv}): "
                     f"{fmt(self.npv_change, 'money', diff=True)}"
                     f"{ci(self.npv_change_lo, self.npv_change_hi)}.")
        if self.terminal_value and self.profit_change > 0 > self.npv_change:
            lines.append("Profit over the horizon rises but the NPV with the value after it "
                         "falls: the change's lower end-state retention costs more later than "
                         "it earns now.")
        elif self.terminal_value and self.profit_change < 0 < self.npv_change:
            lines.append("Profit over the horizon falls but the NPV with the value after it "
                         "rises: the change's better end-state retention earns more later "
                         "than it costs now.")
        if self.payback_month is not None:
            lines.append(f"Payback: month {self.payback_month} (from then on the cumulative "
                         "profit difference stays positive).")
        elif self.case == "costs_more":
            lines.append(f"Payback: not within the {H} months.")
        lines.append(f"Probability that the variant is better: profit "
                     f"{percent(self.prob_profit_better, digits=0)}, NRR "
                     f"{percent(self.prob_nrr_better, digits=0)} of {self.replications} "
                     "paired replications.")
        return lines


def decide(
    differences: Any,
    monthly_profit_differences: np.ndarray,
    *,
    level: float,
    generator: np.random.Generator,
    horizon_months: int,
    discount_rate: float,
    terminal_value: bool,
) -> Decision:
    """The :class:`Decision` of paired differences.

    Parameters
    ----------
    differences : DataFrame
        One row per replication with ``total_cost``, ``profit``, ``npv`` and ``nrr``
        differences (variant - baseline).
    monthly_profit_differences : ndarray
        ``(R, H)`` monthly profit differences (for the payback month).
    level : float
    generator : numpy.random.Generator
        Seeded by the comparison (:func:`cs_sim.sim.rng.bootstrap_generator`).
    horizon_months : int
    discount_rate : float
    terminal_value : bool

    Returns
    -------
    Decision
    """
    dc = differences["total_cost"].to_numpy(dtype=float)
    dp = differences["profit"].to_numpy(dtype=float)
    cost = t_interval(dc, level)
    profit = t_interval(dp, level)
    value = t_interval(differences["npv"].to_numpy(dtype=float), level)
    tol = 1e-9 * max(1.0, float(np.abs(dc).max(initial=0.0)))
    case: Case = "costs_more" if cost[0] > tol else "saves" if cost[0] < -tol else "same_cost"
    roi = roi_lo = roi_hi = np.nan
    if case == "costs_more":
        roi = profit[0] / cost[0]
        roi_lo, roi_hi = bootstrap_ratio(dp, dc, level=level, generator=generator)
    dn = differences["nrr"].to_numpy(dtype=float)
    n = len(dp)
    return Decision(
        case=case, replications=n, level=level, horizon_months=horizon_months,
        extra_cost=cost[0], extra_cost_lo=cost[2], extra_cost_hi=cost[3],
        profit_change=profit[0], profit_change_lo=profit[2], profit_change_hi=profit[3],
        npv_change=value[0], npv_change_lo=value[2], npv_change_hi=value[3],
        roi=float(roi), roi_lo=roi_lo, roi_hi=roi_hi,
        payback_month=payback_month(monthly_profit_differences),
        prob_profit_better=float((dp > 0).mean()) if n else np.nan,
        prob_nrr_better=float((dn > 0).mean()) if n else np.nan,
        discount_rate=discount_rate, terminal_value=terminal_value,
    )
