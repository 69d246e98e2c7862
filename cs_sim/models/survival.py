"""Survival of customers: Kaplan-Meier curves, log-rank tests, Cox regression.

The lives of a dataset's accounts come from
:func:`~cs_sim.models.lifetimes.account_lifetimes`.

*Kaplan-Meier* (:func:`kaplan_meier`): statsmodels' ``SurvfuncRight`` per group, with
pointwise 95% intervals on the complementary log-log scale,
``S^exp(±z se / (S log S))``, medians with the Brookmeyer-Crowley interval of
``SurvfuncRight.quantile_ci`` and the log-rank test of
``statsmodels.duration.survfunc.survdiff``.

*Cox* (:func:`cox`): statsmodels' ``PHReg`` through a formula, Efron's handling of
tied times by default (Breslow's on request).

*Proportions* (:func:`compare_proportions`): churn (or any) rates of groups with
Wilson intervals; two groups are compared with statsmodels'
``test_proportions_2indep`` and ``confint_proportions_2indep`` (Newcombe), more with
the chi-square test of ``proportions_chisquare``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cs_sim.errors import ModelInputError
from cs_sim.format import fmt, percent
from cs_sim.models._base import (
    FittedModel,
    as_float_array,
    axes,
    check_formula,
    p_text,
    z_value,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from statsmodels.duration.survfunc import SurvfuncRight


__all__ = [
    "CoxResult",
    "KaplanMeierResult",
    "ProportionComparison",
    "compare_proportions",
    "cox",
    "kaplan_meier",
]

MISSING_GROUP = "(missing)"

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- Kaplan-Meier
@dataclass(frozen=True)
class LogRank:
    """A log-rank test of equal survival curves."""

    statistic: float
    df: int
    p_value: float

    def verdict(self, alpha: float = 0.05) -> str:
        """The result in plain words."""
        if self.p_value < alpha:
            return (f"The survival curves differ (log-rank chi-square {self.statistic:.2f}, "
                    f"{self.df} df, {p_text(self.p_value)}): the difference is real at the "
                    f"{percent(alpha, digits=0)} level.")
        return (f"No real difference between the survival curves (log-rank chi-square "
                f"{self.statistic:.2f}, {self.df} df, {p_text(self.p_value)}): what differs "
                "could be chance.")


@dataclass(frozen=True)
class KaplanMeierResult:
    """Kaplan-Meier survival curves, one per group (see :func:`kaplan_meier`).

    Attributes
    ----------
    curves : mapping
        Group label -> fitted statsmodels ``SurvfuncRight`` (label ``None`` when
        ungrouped).
    alpha : float
        1 - confidence level of the intervals.
    data : DataFrame
        ``duration, event, entry, group`` as fitted (for the log-rank test).
    """

    curves: Mapping[Any, SurvfuncRight]
    alpha: float
    data: pd.DataFrame = field(repr=False)

    def table(self) -> pd.DataFrame:
        """The curves: ``group, time, at_risk, events, survival, std_err, ci_lower, ci_upper``."""
        z = z_value(self.alpha)
        frames = []
        for label, sf in self.curves.items():
            s = np.asarray(sf.surv_prob, dtype=float)
            se = np.asarray(sf.surv_prob_se, dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                half = z * se / (s * np.log(s))
                lo, hi = s ** np.exp(-half), s ** np.exp(half)
            edge = (s <= 0) | (s >= 1)
            frames.append(pd.DataFrame({
                "group": label,
                "time": np.asarray(sf.surv_times, dtype=float),
                "at_risk": np.asarray(sf.n_risk, dtype=float).astype(int),
                "events": np.asarray(sf.n_events, dtype=float).astype(int),
                "survival": s,
                "std_err": se,
                "ci_lower": np.where(edge, np.nan, np.minimum(lo, hi)),
                "ci_upper": np.where(edge, np.nan, np.maximum(lo, hi)),
            }))
        return pd.concat(frames, ignore_index=True)

    def survival_at(self, times: Sequence[float]) -> pd.DataFrame:
        """Survival probability of each group at ``times`` (the step function's value).

        Returns
        -------
        DataFrame
            Index the groups, one column per time.
        """
        rows = {}
        for label, sf in self.curves.items():
            t = np.asarray(sf.surv_times, dtype=float)
            s = np.asarray(sf.surv_prob, dtype=float)
            idx = np.searchsorted(t, np.asarray(times, dtype=float), side="right") - 1
            rows[label] = np.where(idx >= 0, s[np.maximum(idx, 0)], 1.0)
        return pd.DataFrame.from_dict(rows, orient="index", columns=list(times))

    def medians(self) -> pd.DataFrame:
        """Median survival time per group with its confidence interval.

        Returns
        -------
        DataFrame
            Index the groups; ``n, events, median, ci_lower, ci_upper`` (NaN where the
            curve never falls to one half: the median is not reached; an infinite
            upper bound means the interval is open-ended).
        """
        rows = {}
        for label, sf in self.curves.items():
            median = float(sf.quantile(0.5))
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                lo, hi = sf.quantile_ci(0.5, alpha=self.alpha, method="cloglog")
            sub = self.data if label is None else self.data[self.data["group"] == label]
            rows[label] = {"n": len(sub), "events": int(sub["event"].sum()),
                           "median": median, "ci_lower": float(lo), "ci_upper": float(hi)}
        return pd.DataFrame.from_dict(rows, orient="index")

    def logrank(self) -> LogRank | None:
        """Log-rank test that all groups share one survival curve (None if ungrouped)."""
        if len(self.curves) < 2:
            return None
        from statsmodels.duration.survfunc import survdiff

        d = self.data
        kwargs = {}
        if (d["entry"] > 0).any():
            kwargs["entry"] = d["entry"].to_numpy(dtype=float)
        stat, p = survdiff(d["duration"].to_numpy(dtype=float), d["event"].to_numpy(dtype=int),
                           d["group"].astype(str).to_numpy(), **kwargs)
        return LogRank(float(stat), len(self.curves) - 1, float(p))

    def summary(self) -> pd.DataFrame:
        """Medians per group (see :meth:`medians`); the log-rank test is in ``attrs``."""
        out = self.medians()
        test = self.logrank()
        if test is not None:
            out.attrs["logrank"] = {"statistic": test.statistic, "df": test.df,
                                    "p_value": test.p_value}
        return out

    def to_text(self) -> str:
        """The medians and the log-rank verdict, formatted for people."""
        lines = ["Kaplan-Meier survival"]
        for label, row in self.medians().iterrows():
            name = "all" if label is None else str(label)
            if np.isnan(row["median"]):
                med = "median not reached"
            else:
                hi = "open" if not np.isfinite(row["ci_upper"]) else _time(row["ci_upper"])
                med = f"median {_time(row['median'])} ({_time(row['ci_lower'])} to {hi})"
            lines.append(f"  {name}: {fmt(row['n'], 'count')} accounts, "
                         f"{fmt(row['events'], 'count')} events, {med}")
        test = self.logrank()
        if test is not None:
            lines.append(test.verdict(self.alpha))
        return "\n".join(lines)

    def plot(self, ax: Axes | None = None, *, ci: bool = True, xlabel: str = "time",
             title: str | None = None) -> Axes:
        """Step curves of survival per group (with shaded intervals when ``ci``).

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
        ci : bool, default True
            Shade each curve's pointwise confidence interval.
        xlabel : str, default "time"
            The time axis in words, with its unit (e.g. ``"months since first payment"``).
        title : str, optional

        Returns
        -------
        matplotlib.axes.Axes
            The legend names each group with its number of accounts.
        """
        ax = axes(ax)
        table = self.table()
        for label, sub in table.groupby("group", dropna=False, sort=False):
            t = np.r_[0.0, sub["time"].to_numpy()]
            s = np.r_[1.0, sub["survival"].to_numpy()]
            name = "all" if label is None or (isinstance(label, float) and np.isnan(label)) \
                else str(label)
            n = len(self.data) if len(self.curves) == 1 else int(self.data["group"].eq(label).sum())
            (line,) = ax.step(t, s, where="post", label=f"{name} ({fmt(n, 'count')} accounts)")
            if ci:
                lo = np.r_[1.0, sub["ci_lower"].fillna(sub["survival"]).to_numpy()]
                hi = np.r_[1.0, sub["ci_upper"].fillna(sub["survival"]).to_numpy()]
                ax.fill_between(t, lo, hi, step="post", alpha=0.2, color=line.get_color())
        ax.set_ylim(0, 1.02)
        ax.set_xlim(left=0)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("share still paying")
        if title:
            ax.set_title(title)
        from matplotlib.ticker import FuncFormatter

        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: percent(v, digits=0)))
        if len(self.curves) > 1:
            ax.legend(loc="lower left", fontsize="small")
        return ax


def _time(value: float) -> str:
    """A time for people: whole numbers without decimals."""
    return fmt(value, "count") if float(value).is_integer() else fmt(value, "number")


def _events(events: Any, n: int, where: str) -> np.ndarray:
    arr = np.asarray(events)
    if arr.dtype == bool:
        arr = arr.astype(int)
    arr = as_float_array(arr, name="events", where=where)
    if len(arr) != n:
        raise ModelInputError(f"{where}: events has {len(arr)} values but durations has {n}")
    if not np.isin(arr, (0, 1)).all():
        raise ModelInputError(f"{where}: events must be 0/1 or True/False (1 = the event, "
                              "e.g. churn, happened; 0 = censored)")
    return arr.astype(int)


def kaplan_meier(
    durations: Any,
    events: Any,
    *,
    groups: Any = None,
    entry: Any = None,
    alpha: float = 0.05,
) -> KaplanMeierResult:
    """Kaplan-Meier survival curves, by group, with medians and a log-rank test.

    Parameters
    ----------
    durations : array-like
        Time to the event or to censoring (>= 0), e.g. ``account_lifetimes(ds)["duration"]``.
    events : array-like of bool or 0/1
        Whether the event happened (1) or the time is censored (0).
    groups : array-like, optional
        A label per row (segment, cohort, plan); missing labels form the group
        ``"(missing)"``. One curve per group; without groups, one curve.
    entry : array-like, optional
        Entry times for left-truncated rows (0 when observed from the start), e.g.
        ``account_lifetimes(ds)["entry"]``.
    alpha : float, default 0.05
        1 - confidence level.

    Returns
    -------
    KaplanMeierResult
        ``table()``, ``medians()``, ``survival_at(times)``, ``logrank()``,
        ``summary()``, ``to_text()``, ``plot(ax=None)``.

    Raises
    ------
    ModelInputError
        If lengths differ, values are negative or missing, or a group is empty.
    """
    from statsmodels.duration.survfunc import SurvfuncRight

    where = "kaplan_meier"
    z_value(alpha)
    t = as_float_array(durations, name="durations", where=where)
    if len(t) == 0:
        raise ModelInputError(f"{where}: durations is empty")
    e = _events(events, len(t), where)
    ent = np.zeros(len(t)) if entry is None else as_float_array(entry, name="entry", where=where)
    if len(ent) != len(t):
        raise ModelInputError(f"{where}: entry has {len(ent)} values but durations has {len(t)}")
    if (ent > t).any():
        raise ModelInputError(f"{where}: entry must not exceed the duration; rows "
                              f"{np.flatnonzero(ent > t)[:5].tolist()}")
    if groups is None:
        g = pd.Series([None] * len(t), dtype=object)
    else:
        g = pd.Series(np.asarray(groups, dtype=object))
        if len(g) != len(t):
            raise ModelInputError(f"{where}: groups has {len(g)} values but durations has "
                                  f"{len(t)}")
        g = g.where(g.notna(), MISSING_GROUP)
    data = pd.DataFrame({"duration": t, "event": e, "entry": ent, "group": g})
    empty = (data["entry"] > 0).any() & (data["duration"] <= data["entry"])
    if empty.any():  # at risk for no time: no information, and statsmodels refuses them
        logger.info("%s: %d row(s) with duration = entry dropped", where, int(empty.sum()))
        data = data[~empty].reset_index(drop=True)
    curves: dict[Any, SurvfuncRight] = {}
    labels = [None] if groups is None else sorted(data["group"].unique(), key=str)
    for label in labels:
        sub = data if label is None else data[data["group"] == label]
        kwargs = {"entry": sub["entry"].to_numpy()} if (sub["entry"] > 0).any() else {}
        curves[label] = SurvfuncRight(sub["duration"].to_numpy(), sub["event"].to_numpy(),
                                      **kwargs)
    return KaplanMeierResult(curves, alpha, data)


# ---------------------------------------------------------------------------------- Cox
@dataclass(frozen=True, eq=False)
class CoxResult(FittedModel):
    """A fitted Cox proportional-hazards model (see :func:`cox`).

    Attributes
    ----------
    params, bse : Series
        Log hazard ratios and their standard errors, by term.
    results_ : statsmodels PHRegResults
        The statsmodels fit, for anything not wrapped here.
    ties : str
        ``"efron"`` or ``"breslow"``.
    nobs, events : int
        Rows used and events among them.
    """

    params: pd.Series
    bse: pd.Series
    results_: Any = field(repr=False)
    ties: str = "efron"
    nobs: int = 0
    events: int = 0
    formula: str = ""

    def hazard_ratios(self, alpha: float = 0.05) -> pd.DataFrame:
        """``exp(params)`` with their confidence intervals: ``hazard_ratio, ci_lower, ci_upper``."""
        ci = self.conf_int(alpha)
        return pd.DataFrame({"hazard_ratio": np.exp(self.params),
                             "ci_lower": np.exp(ci["lower"]), "ci_upper": np.exp(ci["upper"])})

    def summary(self, alpha: float = 0.05) -> pd.DataFrame:
        """Coefficients (log hazard ratios) with Wald tests, plus the hazard ratios."""
        out = super().summary(alpha)
        hr = self.hazard_ratios(alpha)
        out["hazard_ratio"] = hr["hazard_ratio"]
        out["hr_ci_lower"] = hr["ci_lower"]
        out["hr_ci_upper"] = hr["ci_upper"]
        return out

    def predict(self, data: pd.DataFrame, *, kind: str = "hazard_ratio",
                times: Sequence[float] | None = None) -> pd.Series | pd.DataFrame:
        """Predictions for new rows.

        Parameters
        ----------
        data : DataFrame
            Rows with the formula's columns.
        kind : {"hazard_ratio", "log_hazard_ratio", "survival"}
            ``exp(x'b)``, ``x'b`` (relative to all covariates at 0), or the survival
            probability ``exp(-H0(t) exp(x'b))`` at ``times`` (Breslow baseline
            cumulative hazard; unstratified models only).
        times : sequence of float, optional
            For ``kind="survival"``.

        Returns
        -------
        Series (one value per row) or DataFrame (rows x times).
        """
        kinds = {"hazard_ratio": "hr", "log_hazard_ratio": "lhr", "survival": "hr"}
        if kind not in kinds:
            raise ModelInputError(f"cox.predict: kind must be one of {', '.join(kinds)}, "
                                  f"got {kind!r}")
        pred = self.results_.predict(exog=data, pred_type=kinds[kind]).predicted_values
        values = pd.Series(np.asarray(pred, dtype=float), index=data.index)
        if kind != "survival":
            return values
        if times is None:
            raise ModelInputError("cox.predict: kind='survival' needs times, e.g. [3, 6, 12]")
        base = self.results_.baseline_cumulative_hazard
        if len(base) != 1:
            raise ModelInputError("cox.predict: survival predictions need an unstratified model")
        bt, bh = np.asarray(base[0][0]), np.asarray(base[0][1])
        idx = np.searchsorted(bt, np.asarray(times, dtype=float), side="right") - 1
        h0 = np.where(idx >= 0, bh[np.maximum(idx, 0)], 0.0)
        surv = np.exp(-np.outer(values.to_numpy(), h0))
        return pd.DataFrame(surv, index=data.index, columns=list(times))

    def plot(self, ax: Axes | None = None, *, alpha: float = 0.05) -> Axes:
        """Forest plot of the hazard ratios with their intervals (log scale).

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = axes(ax)
        hr = self.hazard_ratios(alpha)
        y = np.arange(len(hr))[::-1]
        ax.errorbar(hr["hazard_ratio"], y,
                    xerr=[hr["hazard_ratio"] - hr["ci_lower"], hr["ci_upper"] - hr["hazard_ratio"]],
                    fmt="o", capsize=3)
        ax.axvline(1.0, color="grey", linestyle="--", linewidth=0.8)
        ax.set_xscale("log")
        ax.set_yticks(y, [str(i) for i in hr.index])
        ax.set_xlabel("hazard ratio (1 = no effect)")
        return ax


def cox(
    data: pd.DataFrame,
    formula: str,
    *,
    duration: str = "duration",
    event: str = "event",
    ties: str = "efron",
    entry: str | None = None,
    strata: str | None = None,
) -> CoxResult:
    """Cox proportional-hazards regression of time to an event (statsmodels ``PHReg``).

    Parameters
    ----------
    data : DataFrame
        One row per subject (e.g. :func:`account_lifetimes` joined with covariates).
    formula : str
        The right-hand side, e.g. ``"age + C(segment)"`` (``"duration ~ ..."`` is
        accepted too; its left side then names the duration column). Only column
        names, numbers, operators and common patsy functions are allowed (see
        :func:`cs_sim.models._base.check_formula`).
    duration, event : str
        Columns of the time and of the event indicator (1/True = happened).
    ties : {"efron", "breslow"}, default "efron"
        Handling of tied event times. Efron's is the more accurate and R's default.
    entry : str, optional
        Column of entry times (left truncation), e.g. ``"entry"``.
    strata : str, optional
        Column whose levels get their own baseline hazard.

    Returns
    -------
    CoxResult

    Raises
    ------
    ModelInputError
        Unknown column, bad ties, no events, or a formula with disallowed names.
    """
    from statsmodels.duration.hazard_regression import PHReg

    where = "cox"
    if ties not in ("efron", "breslow"):
        raise ModelInputError(f"{where}: ties must be 'efron' or 'breslow', got {ties!r}")
    if not isinstance(data, pd.DataFrame):
        raise ModelInputError(f"{where}: data must be a pandas DataFrame")
    formula = check_formula(formula, list(data.columns), where=where)
    if "~" in formula:
        lhs, rhs = formula.split("~", 1)
        duration = lhs.strip() or duration
    else:
        rhs = formula
    for name, col in (("duration", duration), ("event", event), ("entry", entry),
                      ("strata", strata)):
        if col is not None and col not in data.columns:
            raise ModelInputError(f"{where}: {name} column {col!r} is not in the data; "
                                  f"columns: {', '.join(map(str, data.columns))}")
    needed = [c for c in (duration, event, entry, strata) if c is not None]
    frame = data.dropna(subset=needed)
    status = _events(frame[event].to_numpy(), len(frame), where)
    if status.sum() == 0:
        raise ModelInputError(f"{where}: column {event!r} has no events; a Cox model needs "
                              "at least one")
    as_float_array(frame[duration], name=f"column {duration!r}", where=where)
    kwargs: dict[str, Any] = {"status": status, "ties": ties}
    if entry is not None:
        kwargs["entry"] = frame[entry].to_numpy(dtype=float)
    if strata is not None:
        kwargs["strata"] = frame[strata].astype(str).to_numpy()
    model = PHReg.from_formula(f"{duration} ~ {rhs.strip()}", frame, **kwargs)
    res = model.fit()
    names = pd.Index(model.exog_names, name="term")
    return CoxResult(
        params=pd.Series(np.asarray(res.params, dtype=float), index=names, name="estimate"),
        bse=pd.Series(np.asarray(res.bse, dtype=float), index=names, name="std_err"),
        results_=res, ties=ties, nobs=int(model.exog.shape[0]),
        events=int(np.asarray(model.status).sum()), formula=f"{duration} ~ {rhs.strip()}",
    )


# ---------------------------------------------------------------------------- proportions
@dataclass(frozen=True)
class ProportionComparison:
    """Rates of several groups and a test that they are equal (see :func:`compare_proportions`).

    Attributes
    ----------
    table : DataFrame
        Per group ``successes, total, rate, ci_lower, ci_upper`` (Wilson).
    test : str
        The test used.
    statistic, p_value : float
    difference : tuple of float or None
        For two groups: (first - second, ci_lower, ci_upper) (Newcombe interval).
    """

    table: pd.DataFrame
    test: str
    statistic: float
    p_value: float
    difference: tuple[float, float, float] | None
    alpha: float = 0.05

    def verdict(self) -> str:
        """The result in plain words."""
        real = self.p_value < self.alpha
        head = ("The rates differ" if real else "No real difference between the rates")
        tail = ("the difference is real" if real else "what differs could be chance")
        extra = ""
        if self.difference is not None:
            d, lo, hi = self.difference
            names = list(self.table.index)
            extra = (f"; {names[0]} minus {names[1]}: {percent(d, diff=True)} "
                     f"({percent(lo, diff=True)} to {percent(hi, diff=True)})")
        return (f"{head} ({self.test}, {p_text(self.p_value)}{extra}): {tail} at the "
                f"{percent(self.alpha, digits=0)} level.")


def compare_proportions(
    successes: Sequence[int] | np.ndarray | pd.Series,
    totals: Sequence[int] | np.ndarray | pd.Series,
    *,
    labels: Sequence[Any] | None = None,
    alpha: float = 0.05,
) -> ProportionComparison:
    """Compare rates (e.g. churned / at risk) between groups with the right test.

    Two groups: the score test of statsmodels' ``test_proportions_2indep`` and a
    Newcombe interval for the difference; three or more: the chi-square test of
    ``proportions_chisquare``.

    Parameters
    ----------
    successes, totals : sequences of int
        Events and trials per group (a Series' index gives the labels).
    labels : sequence, optional
        Group names.
    alpha : float, default 0.05

    Returns
    -------
    ProportionComparison
    """
    from statsmodels.stats.proportion import (
        confint_proportions_2indep,
        proportion_confint,
        proportions_chisquare,
        test_proportions_2indep,
    )

    where = "compare_proportions"
    z_value(alpha)
    k = as_float_array(successes, name="successes", where=where)
    n = as_float_array(totals, name="totals", where=where)
    if len(k) != len(n) or len(k) < 2:
        raise ModelInputError(f"{where}: give successes and totals for at least two groups, "
                              f"of equal length (got {len(k)} and {len(n)})")
    if (n <= 0).any() or (k > n).any():
        raise ModelInputError(f"{where}: each total must be > 0 and at least its successes")
    if labels is None:
        labels = list(successes.index) if isinstance(successes, pd.Series) else \
            [f"group {i + 1}" for i in range(len(k))]
    lo, hi = proportion_confint(k, n, alpha=alpha, method="wilson")
    table = pd.DataFrame({"successes": k.astype(int), "total": n.astype(int), "rate": k / n,
                          "ci_lower": lo, "ci_upper": hi}, index=pd.Index(labels, name="group"))
    if len(k) == 2:
        res = test_proportions_2indep(k[0], n[0], k[1], n[1], method="score")
        dlo, dhi = confint_proportions_2indep(k[0], n[0], k[1], n[1], method="newcomb",
                                              alpha=alpha)
        return ProportionComparison(table, "score test of two proportions",
                                    float(res.statistic), float(res.pvalue),
                                    (float(k[0] / n[0] - k[1] / n[1]), float(dlo), float(dhi)),
                                    alpha)
    chi2, p, _ = proportions_chisquare(k, n)
    return ProportionComparison(table, "chi-square test of equal proportions", float(chi2),
                                float(p), None, alpha)
