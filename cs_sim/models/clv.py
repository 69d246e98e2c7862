r"""Contractual customer lifetime value: the shifted-beta-geometric (sBG) model.

Fader & Hardie (2007), "How to project customer retention", *Journal of Interactive
Marketing* 21(1), 76-90. Each customer renews at the end of every period with a
probability ``1 - θ`` of her own; ``θ`` varies across customers as ``Beta(α, β)``. With
``T`` the renewal at which a customer leaves (``T = 1`` when she does not renew after
the first period):

- ``P(T = t) = B(α + 1, β + t - 1) / B(α, β)``, ``t = 1, 2, ...``
- ``S(t) = P(T > t) = B(α, β + t) / B(α, β)`` (share of a cohort still there after t
  renewals; ``S(0) = 1``)
- retention rate ``r(t) = S(t) / S(t - 1) = (β + t - 1) / (α + β + t - 1)``, rising with
  t as the customers most likely to leave leave first.

Counts ``n_0 ≥ n_1 ≥ ... ≥ n_T`` alive at the start of periods 0..T (``n_0`` the cohort)
give the log-likelihood ``Σ_t (n_{t-1} - n_t) log P(T = t) + n_T log S(T)``
(:func:`fit_sbg`); account-level lives may start late (left truncation, ``entry``
renewals already survived), which divides by ``S(entry)``
(:func:`fit_sbg_lifetimes`). Fitted by maximum likelihood through statsmodels'
``GenericLikelihoodModel`` (:func:`cs_sim.models._base.fit_positive_mle`).

Lifetime quantities, counted in payments (one per period, the first at acquisition)
with ``z = 1 / (1 + d)`` and ``d`` the discount rate per period:

- expected lifetime ``E = Σ_{t≥0} S(t) = (α + β - 1) / (α - 1)`` (infinite when α ≤ 1);
- discounted expected lifetime of a new customer
  ``DEL(d) = Σ_{t≥0} S(t) z^t = ₂F₁(1, β; α + β; z)``;
- discounted expected residual lifetime of a customer who has survived ``n`` renewals
  and paid for the current period, counting the payments still to come,
  ``DERL(d, n) = Σ_{k≥1} [S(n + k) / S(n)] z^k = ₂F₁(1, β + n; α + β + n; z) - 1``
  (Fader & Hardie 2010, "Customer-base valuation in a contractual setting: the perils
  of ignoring heterogeneity", *Marketing Science* 29(1), with the current payment
  left out).

CLV = ARPA × gross margin × DEL; the residual value of the customers on the books is
``margin × Σ_i MRR_i × DERL(d, n_i)``. Intervals: delta method on the log scale from
the covariance of (log α, log β), with the sampling error of ARPA added.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.special import betaln, hyp2f1

from cs_sim.errors import ModelInputError
from cs_sim.format import fmt, percent, text_table
from cs_sim.models._base import PositiveMle, PositiveModel, as_float_array, axes, fit_positive_mle
from cs_sim.models._base import z_value as _z

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from cs_sim.io import Dataset

__all__ = ["ClvBySegment", "SbgResult", "clv_by_segment", "fit_sbg", "fit_sbg_lifetimes"]

#: alpha + beta above this: no heterogeneity left (the Beta is a spike: geometric churn)
HOMOGENEOUS = 1e4


def _sbg_loglikeobs(theta: np.ndarray, t: np.ndarray, entry: np.ndarray, event: np.ndarray,
                    weight: np.ndarray) -> np.ndarray:
    a, b = theta
    base = betaln(a, b)
    log_p = betaln(a + 1, b + np.maximum(t, 1) - 1) - base
    log_s = betaln(a, b + t) - base
    log_entry = betaln(a, b + entry) - base
    return weight * (np.where(event, log_p, log_s) - log_entry)


@dataclass(frozen=True, eq=False)
class SbgResult(PositiveModel):
    """A fitted shifted-beta-geometric retention model (see the module docstring).

    Attributes
    ----------
    fit_ : PositiveMle
        The maximum-likelihood fit (``params`` ``alpha``, ``beta``, ``bse``, ``llf``).
    observed : DataFrame
        ``period, survivors, share`` of the (first) cohort when fitted on counts;
        empty when fitted on account lives.
    rows : DataFrame
        ``t, entry, event, weight``: what entered the likelihood.
    """

    fit_: PositiveMle
    observed: pd.DataFrame = field(repr=False)
    rows: pd.DataFrame = field(repr=False)

    @property
    def alpha(self) -> float:
        """α of the Beta distribution of churn probabilities."""
        return float(self.params["alpha"])

    @property
    def beta(self) -> float:
        """β of the Beta distribution of churn probabilities."""
        return float(self.params["beta"])

    # --- the model's functions, at the estimates ----------------------------------------
    def survival(self, t: Any) -> np.ndarray:
        """``S(t)``: share of a new cohort still there after ``t`` renewals."""
        t = np.asarray(t, dtype=float)
        return np.exp(betaln(self.alpha, self.beta + t) - betaln(self.alpha, self.beta))

    def churn_probability(self, t: Any) -> np.ndarray:
        """``P(T = t)``: probability that a new customer leaves at renewal ``t`` (>= 1)."""
        t = np.asarray(t, dtype=float)
        return np.exp(betaln(self.alpha + 1, self.beta + t - 1) - betaln(self.alpha, self.beta))

    def retention_rate(self, t: Any) -> np.ndarray:
        """``r(t) = (β + t - 1) / (α + β + t - 1)``: share of those there at ``t - 1`` who renew."""
        t = np.asarray(t, dtype=float)
        return (self.beta + t - 1) / (self.alpha + self.beta + t - 1)

    def expected_lifetime(self) -> float:
        """Expected number of periods paid by a new customer (``inf`` when α ≤ 1)."""
        a, b = self.alpha, self.beta
        return (a + b - 1) / (a - 1) if a > 1 else math.inf

    def residual_lifetime(self, renewals: int = 0) -> float:
        """Expected further payments of a customer who has survived ``renewals`` renewals.

        ``(β + n) / (α - 1)``; ``inf`` when α ≤ 1 (the heavy tail of loyal customers).
        """
        a, b = self.alpha, self.beta
        return (b + renewals) / (a - 1) if a > 1 else math.inf

    def discounted_expected_lifetime(self, discount_rate: float) -> float:
        """``DEL(d)``: discounted payments of a new customer, the first undiscounted."""
        return float(_del(np.array([self.alpha, self.beta]), _check_rate(discount_rate)))

    def derl(self, discount_rate: float, *, renewals: Any = 0) -> np.ndarray | float:
        """``DERL(d, n)``: discounted payments still to come after ``n`` renewals survived."""
        n = np.asarray(renewals, dtype=float)
        out = _derl(np.array([self.alpha, self.beta]), _check_rate(discount_rate), n)
        return float(out) if out.ndim == 0 else out

    def interval(self, function: Callable[[float, float], float], *,
                 alpha: float = 0.05) -> tuple[float, float, float]:
        """A positive function of (α, β) with a delta-method interval on the log scale.

        Parameters
        ----------
        function : callable
            ``function(alpha, beta) -> float`` (> 0), e.g.
            ``lambda a, b: ...``.
        alpha : float, default 0.05

        Returns
        -------
        (value, lower, upper)
        """
        value, se = self.fit_.delta_method(lambda th: math.log(function(th[0], th[1])))
        z = _z(alpha)
        return math.exp(value), math.exp(value - z * se), math.exp(value + z * se)

    def predict(self, periods: int | Sequence[int] = 12, *,
                cohort_size: float | None = None) -> pd.DataFrame:
        """Expected survivors of a cohort.

        Parameters
        ----------
        periods : int or sequence of int, default 12
            ``0..periods`` or the given periods.
        cohort_size : float, optional
            Default: the fitted cohort's size (1.0 when fitted on account lives).

        Returns
        -------
        DataFrame
            ``period, survival, retention_rate, expected`` and ``observed`` where the
            fitted cohort has a count.
        """
        t = np.arange(periods + 1) if isinstance(periods, (int, np.integer)) else \
            np.asarray(periods, dtype=int)
        if cohort_size is None:
            cohort_size = float(self.observed["survivors"].iloc[0]) if len(self.observed) else 1.0
        out = pd.DataFrame({"period": t, "survival": self.survival(t)})
        out["retention_rate"] = np.where(t >= 1, self.retention_rate(np.maximum(t, 1)), np.nan)
        out["expected"] = cohort_size * out["survival"]
        if len(self.observed):
            out = out.merge(self.observed[["period", "survivors"]].rename(
                columns={"survivors": "observed"}), on="period", how="left")
        return out

    def to_text(self) -> str:
        """Estimates and what they mean, formatted for people."""
        ci = self.conf_int()
        lines = ["Shifted-beta-geometric retention model"]
        for name in ("alpha", "beta"):
            lines.append(f"  {name} = {fmt(self.params[name], 'number')} "
                         f"(95% CI {fmt(ci.loc[name, 'lower'], 'number')} to "
                         f"{fmt(ci.loc[name, 'upper'], 'number')})")
        mean = self.alpha / (self.alpha + self.beta)
        lines.append(f"  mean churn probability at the first renewal: {percent(mean)}; "
                     f"retention rate at renewal 1: {percent(self.retention_rate(1))}, "
                     f"at renewal 12: {percent(self.retention_rate(12))}")
        return "\n".join(lines)

    def plot(self, ax: Axes | None = None, *, periods: int | None = None) -> Axes:
        """Observed survivors (share of the cohort) and the fitted curve, projected.

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = axes(ax)
        last = int(self.observed["period"].max()) if len(self.observed) else \
            int(self.rows["t"].max())
        horizon = periods if periods is not None else max(2 * last, 12)
        t = np.arange(horizon + 1)
        ax.plot(t, self.survival(t), label="sBG fit", color="#2b8cbe")
        if len(self.observed):
            ax.plot(self.observed["period"], self.observed["share"], "o", color="black",
                    label="observed")
        ax.axvline(last, color="grey", linestyle=":", linewidth=0.8)
        ax.set_xlabel("renewals (periods since acquisition)")
        ax.set_ylabel("share of cohort still a customer")
        from matplotlib.ticker import FuncFormatter

        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: percent(v, digits=0)))
        ax.set_ylim(0, 1.02)
        ax.legend()
        return ax


def _check_rate(d: float) -> float:
    if not isinstance(d, (int, float)) or not 0 <= d < 10:
        raise ModelInputError(f"discount_rate must be a rate per period >= 0 (0.01 for 1%), "
                              f"got {d!r}")
    return float(d)


def _del(theta: np.ndarray, d: float) -> float:
    a, b = theta
    return float(hyp2f1(1.0, b, a + b, 1.0 / (1.0 + d)))


def _derl(theta: np.ndarray, d: float, n: np.ndarray) -> np.ndarray:
    a, b = theta
    return np.asarray(hyp2f1(1.0, b + n, a + b + n, 1.0 / (1.0 + d)) - 1.0)


def _fit_rows(rows: pd.DataFrame, observed: pd.DataFrame, where: str) -> SbgResult:
    rows = rows[rows["weight"] > 0].reset_index(drop=True)
    if rows.loc[rows["event"], "weight"].sum() == 0:
        raise ModelInputError(f"{where}: no customer left in the data; the sBG model needs "
                              "at least one churn to estimate how fast customers leave")
    if rows.loc[~rows["event"], "weight"].sum() == 0 and rows["t"].nunique() < 2:
        raise ModelInputError(f"{where}: every customer left at the same renewal; the data "
                              "cannot tell how churn varies between customers")
    t = rows["t"].to_numpy(dtype=float)
    entry = rows["entry"].to_numpy(dtype=float)
    event = rows["event"].to_numpy(dtype=bool)
    weight = rows["weight"].to_numpy(dtype=float)
    fit = fit_positive_mle(lambda th: _sbg_loglikeobs(th, t, entry, event, weight),
                           names=("alpha", "beta"), start=(1.0, 1.0), nobs=len(rows),
                           where=where)
    return SbgResult(fit, observed, rows)


def fit_sbg(survivors: Sequence[float] | np.ndarray | pd.Series | pd.DataFrame) -> SbgResult:
    """Fit the sBG model to counts of customers alive at the start of each period.

    Parameters
    ----------
    survivors : sequence, Series, 2-D array or DataFrame
        One cohort: ``[n_0, n_1, ..., n_T]`` with ``n_0`` the cohort size (e.g. Fader &
        Hardie's regular customers ``[1000, 631, 468, 382, 326, 289, 262, 241]``).
        Several cohorts: one row each, periods as columns, NaN after a cohort's last
        observed period (the layout of :func:`cs_sim.kpis.cohort_retention` times the
        cohort sizes).

    Returns
    -------
    SbgResult
        ``params`` ``alpha``, ``beta``; ``bse``; ``summary()``; ``survival``,
        ``retention_rate``, ``predict``, ``derl``, ``plot``.

    Raises
    ------
    ModelInputError
        If a cohort has fewer than two counts, counts rise, are negative or
        fractional beyond rounding, or no customer ever left.
    """
    where = "fit_sbg"
    arr = np.asarray(survivors, dtype=float)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ModelInputError(f"{where}: survivors must be one cohort (a sequence) or a "
                              f"table of cohorts x periods, got shape {arr.shape}")
    rows = []
    for i, counts in enumerate(arr):
        n = counts[~np.isnan(counts)]
        name = f"cohort {i + 1}" if arr.shape[0] > 1 else "survivors"
        if np.isnan(counts[: len(n)]).any():
            raise ModelInputError(f"{where}: {name}: missing values are allowed only after "
                                  "the last observed period")
        if len(n) < 2:
            raise ModelInputError(f"{where}: {name}: need the cohort size and at least one "
                                  f"later count, got {len(n)} value(s)")
        as_float_array(n, name=name, where=where)
        if n[0] <= 0:
            raise ModelInputError(f"{where}: {name}: the first count (cohort size) must be > 0")
        up = np.flatnonzero(np.diff(n) > 0)
        if up.size:
            k = int(up[0]) + 1
            raise ModelInputError(f"{where}: {name}: survivors must not increase; period {k} "
                                  f"has {n[k]:g} > {n[k - 1]:g} at period {k - 1}")
        periods = np.arange(1, len(n))
        rows.append(pd.DataFrame({"t": periods, "entry": 0, "event": True,
                                  "weight": n[:-1] - n[1:]}))
        rows.append(pd.DataFrame({"t": [len(n) - 1], "entry": [0], "event": [False],
                                  "weight": [n[-1]]}))
    first = arr[0][~np.isnan(arr[0])]
    observed = pd.DataFrame({"period": np.arange(len(first)), "survivors": first,
                             "share": first / first[0]})
    return _fit_rows(pd.concat(rows, ignore_index=True), observed, where)


def fit_sbg_lifetimes(
    durations: Any,
    churned: Any,
    *,
    entry: Any = None,
    period_months: int = 1,
) -> SbgResult:
    """Fit the sBG model to account lives (e.g. from :func:`account_lifetimes`).

    Parameters
    ----------
    durations : array-like of int
        Months from the start of the life to the month the account stopped paying
        (churned) or to the last month of the data (censored).
    churned : array-like of bool
        Whether the account left.
    entry : array-like of int, optional
        Months already survived when the account entered the data (left truncation).
    period_months : int, default 1
        Months per renewal period: 1 for monthly contracts, 12 for annual ones
        (durations and entries are then counted in whole periods).

    Returns
    -------
    SbgResult
    """
    where = "fit_sbg_lifetimes"
    if not isinstance(period_months, int) or period_months < 1:
        raise ModelInputError(f"{where}: period_months must be a whole number >= 1, got "
                              f"{period_months!r}")
    t = as_float_array(durations, name="durations", where=where)
    ev = np.asarray(churned, dtype=bool)
    ent = np.zeros(len(t)) if entry is None else as_float_array(entry, name="entry", where=where)
    if not len(t) == len(ev) == len(ent):
        raise ModelInputError(f"{where}: durations, churned and entry must have the same length")
    if len(t) == 0:
        raise ModelInputError(f"{where}: no account lives given")
    # an event at month t is a failed renewal at period ceil(t / p); a censored life
    # survived floor(t / p) renewals; entry counts renewals survived on entry
    p = float(period_months)
    tt = np.where(ev, np.ceil(t / p), np.floor(t / p))
    ee = np.floor(ent / p)
    bad = ev & (tt < 1)
    if bad.any():
        raise ModelInputError(f"{where}: a churned account must have duration >= 1; rows "
                              f"{np.flatnonzero(bad)[:5].tolist()}")
    if (ee > tt).any() or (ev & (ee >= tt)).any():
        raise ModelInputError(f"{where}: entry must be before the end of the life; rows "
                              f"{np.flatnonzero(ee > tt)[:5].tolist()}")
    rows = (pd.DataFrame({"t": tt, "entry": ee, "event": ev, "weight": 1.0})
            .groupby(["t", "entry", "event"], as_index=False)["weight"].sum())
    return _fit_rows(rows, pd.DataFrame(columns=["period", "survivors", "share"]), where)


# ----------------------------------------------------------------------- CLV by segment
@dataclass(frozen=True)
class ClvBySegment:
    """Model-based CLV per group (see :func:`clv_by_segment`).

    Attributes
    ----------
    table : DataFrame
        One row per group (columns documented in :func:`clv_by_segment`).
    fits : mapping
        Group -> :class:`SbgResult`.
    notes : tuple of str
        Groups skipped and why.
    """

    table: pd.DataFrame
    fits: Mapping[Any, SbgResult] = field(repr=False)
    notes: tuple[str, ...] = ()
    gross_margin: float = 0.0
    discount_rate: float = 0.0

    def to_frame(self) -> pd.DataFrame:
        """The table (raw numbers)."""
        return self.table.copy()

    def to_text(self) -> str:
        """The table formatted for people, with the assumptions."""
        t = self.table
        shown = pd.DataFrame({
            "customers": [fmt(v, "count") for v in t["customers"]],
            "churn month 1": [percent(1 - v) for v in t["retention_1"]],
            "churn month 12": [percent(1 - v) for v in t["retention_12"]],
            "ARPA": [fmt(v, "money") for v in t["arpa"]],
            "CLV": [fmt(v, "money") for v in t["clv"]],
            "CLV 95% CI": [f"{fmt(lo, 'money')} to {fmt(hi, 'money')}"
                           for lo, hi in zip(t["clv_lower"], t["clv_upper"], strict=True)],
            "base value": [fmt(v, "money") for v in t["base_value"]],
        }, index=t.index.astype(str))
        head = (f"Model-based CLV (sBG, monthly renewals; gross margin "
                f"{percent(self.gross_margin)}, discount {percent(self.discount_rate)} a year)")
        return "\n".join([head, text_table(shown), *self.notes])


def clv_by_segment(
    dataset: Dataset,
    *,
    gross_margin: float,
    by: str | None = "segment",
    discount_rate: float = 0.10,
    alpha: float = 0.05,
    min_customers: int = 30,
) -> ClvBySegment:
    """CLV and value of the current customers per segment (or tier, plan...), from an sBG fit.

    For each group the sBG model is fitted to the monthly account lives of
    :func:`~cs_sim.models.account_lifetimes` (accounts already paying in the first
    month of the data enter left-truncated at their age). Monthly contracts renew
    monthly; annual contracts can leave only at anniversaries, which a monthly sBG
    smooths over: fit them apart with ``fit_sbg_lifetimes(..., period_months=12)`` when
    their renewal pattern matters.

    Parameters
    ----------
    dataset : Dataset
        Needs ``mrr``; ``accounts`` for the ``by`` column and signup dates.
    gross_margin : float
        Gross margin as a fraction (0.8 for 80%).
    by : str or None, default "segment"
        An ``accounts`` column (``"segment"``, ``"tier"``, ``"plan"``); None for one group.
    discount_rate : float, default 0.10
        Annual discount rate; monthly ``d = (1 + rate)^(1/12) - 1``.
    alpha : float, default 0.05
        1 - confidence level.
    min_customers : int, default 30
        Groups with fewer customers (or no churn) are skipped, with a note.

    Returns
    -------
    ClvBySegment
        ``table`` indexed by group: ``customers, churned, active, alpha, beta,
        retention_1, retention_12`` (renewal rates at months 1 and 12),
        ``expected_lifetime`` (months, inf when α ≤ 1), ``del_months`` (discounted),
        ``arpa`` (mean MRR of the active customers), ``clv, clv_lower, clv_upper``
        (a new customer: ARPA × margin × DEL) and ``base_value, base_lower,
        base_upper`` (margin × Σ MRR × DERL over the active customers).
    """
    from cs_sim.models.lifetimes import account_lifetimes

    if not 0 <= gross_margin <= 1:
        raise ModelInputError(f"clv_by_segment: gross_margin must be a fraction in [0, 1] "
                              f"(0.8 for 80%), got {gross_margin!r}")
    if not 0 <= discount_rate < 1:
        raise ModelInputError(f"clv_by_segment: discount_rate must be an annual rate in [0, 1) "
                              f"(0.1 for 10%), got {discount_rate!r}")
    z = _z(alpha)
    d = (1 + discount_rate) ** (1 / 12) - 1
    lives = account_lifetimes(dataset, by=by)
    group_col = by if by is not None else "_all"
    if by is None:
        lives[group_col] = "all"
    rows, fits, notes = {}, {}, []
    for label, sub in lives.groupby(group_col, dropna=False, sort=True):
        name = "(missing)" if pd.isna(label) else label
        churned = int(sub["churned"].sum())
        if len(sub) < min_customers or churned == 0:
            notes.append(f"{name}: skipped ({len(sub)} customers, {churned} churned; the model "
                         f"needs at least {min_customers} customers and one churn)")
            continue
        fit = fit_sbg_lifetimes(sub["duration"], sub["churned"], entry=sub["entry"])
        fits[name] = fit
        if fit.alpha + fit.beta > HOMOGENEOUS:
            notes.append(f"{name}: churn looks the same for every customer (alpha and beta "
                         "run to their limit; the sBG model reduces to a constant rate)")
        active = sub[~sub["churned"]]
        mrr = (active if len(active) else sub)["last_mrr"].to_numpy(dtype=float)
        arpa = float(mrr.mean())
        arpa_se = float(mrr.std(ddof=1) / math.sqrt(len(mrr))) if len(mrr) > 1 else 0.0
        del_val, del_se_log = fit.fit_.delta_method(lambda th: math.log(_del(th, d)))
        del_val = math.exp(del_val)
        se_log = math.sqrt(del_se_log**2 + (arpa_se / arpa) ** 2) if arpa > 0 else math.nan
        clv = arpa * gross_margin * del_val
        n_act = active["duration"].to_numpy(dtype=float)
        w = active["last_mrr"].to_numpy(dtype=float)

        def base(th: np.ndarray, n_act: np.ndarray = n_act, w: np.ndarray = w) -> float:
            return math.log(max(float(np.sum(w * _derl(th, d, n_act))), 1e-300))

        if len(active):
            b_log, b_se = fit.fit_.delta_method(base)
            b_val = gross_margin * math.exp(b_log)
            b_lo, b_hi = b_val * math.exp(-z * b_se), b_val * math.exp(z * b_se)
        else:
            b_val = b_lo = b_hi = 0.0
        rows[name] = {
            "customers": len(sub), "churned": churned, "active": len(active),
            "alpha": fit.alpha, "beta": fit.beta,
            "retention_1": float(fit.retention_rate(1)),
            "retention_12": float(fit.retention_rate(12)),
            "expected_lifetime": fit.expected_lifetime(), "del_months": del_val,
            "arpa": arpa, "clv": clv,
            "clv_lower": clv * math.exp(-z * se_log), "clv_upper": clv * math.exp(z * se_log),
            "base_value": b_val, "base_lower": b_lo, "base_upper": b_hi,
        }
    if not rows:
        raise ModelInputError("clv_by_segment: no group has enough customers and churn to fit "
                              "the sBG model; " + "; ".join(notes))
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = by or "group"
    return ClvBySegment(table, fits, tuple(notes), gross_margin, discount_rate)
