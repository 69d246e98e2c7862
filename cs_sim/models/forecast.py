"""Forecasts: MRR and paying accounts 12 months ahead, and the renewals coming due.

*MRR and logos* (:func:`forecast_mrr`, :func:`forecast_logos`). The monthly total (per
group when ``by`` is given) is modelled by statsmodels' ``ETSModel`` with additive
errors and a damped additive trend, on the log scale when every value is positive
(so the intervals stay positive and growth compounds), else on the original scale.
Forecast intervals are the model's analytic prediction intervals (no simulation, so
the same data always give the same numbers); on the log scale the central line is
the median. A series needs at least :data:`MIN_MONTHS` months.

*Renewals* (:func:`forecast_renewals`). Annual contracts (``accounts.contract ==
"annual"``) come up for renewal at each 12-month anniversary of their start
(:func:`~cs_sim.models.account_lifetimes`). The renewal rate is what happened at the
anniversaries in the data (renewed = still paying in the anniversary month), per
group, with a Wilson interval (statsmodels ``proportion_confint``). For each month
ahead: contracts due and their MRR, expected renewals ``due × rate`` and an interval
from ``due × rate × (1 - rate) + due² × Var(rate)`` (binomial noise plus the
uncertainty of the rate; normal approximation, clipped to 0..due).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cs_sim.errors import ModelInputError
from cs_sim.format import fmt, percent, text_table
from cs_sim.models._base import axes, z_value

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from cs_sim.io import Dataset

__all__ = ["Forecast", "RenewalForecast", "forecast_logos", "forecast_mrr",
           "forecast_renewals"]

logger = logging.getLogger(__name__)

#: fewest months of history a forecast accepts
MIN_MONTHS = 6


@dataclass(frozen=True)
class Forecast:
    """History and forecast of a monthly series, per group.

    Attributes
    ----------
    table : DataFrame
        ``group, month, kind`` (``"history"`` or ``"forecast"``), ``value, lower,
        upper`` (the interval only on forecast rows).
    fits : mapping
        Group -> statsmodels ``ETSResults``.
    what : str
        ``"mrr"`` or ``"logos"``.
    log_scale : mapping
        Group -> whether the model ran on the log scale.
    """

    table: pd.DataFrame
    fits: Mapping[Any, Any] = field(repr=False)
    what: str = "mrr"
    alpha: float = 0.05
    log_scale: Mapping[Any, bool] = field(default_factory=dict)

    def forecast(self) -> pd.DataFrame:
        """The forecast rows only."""
        return self.table[self.table["kind"] == "forecast"].reset_index(drop=True)

    @property
    def params(self) -> pd.Series:
        """The ETS parameters, indexed by (group, parameter)."""
        return self.summary().set_index(["group", "parameter"])["estimate"]

    @property
    def bse(self) -> pd.Series:
        """Their standard errors (NaN where statsmodels reports none)."""
        return self.summary().set_index(["group", "parameter"])["std_err"]

    def summary(self) -> pd.DataFrame:
        """Smoothing parameters per group: ``group, parameter, estimate, std_err``."""
        rows = []
        for group, res in self.fits.items():
            names = list(res.model.param_names)
            bse = np.asarray(getattr(res, "bse", np.full(len(names), np.nan)), dtype=float)
            for name, value, se in zip(names, np.asarray(res.params, dtype=float), bse,
                                       strict=True):
                rows.append({"group": group, "parameter": name, "estimate": value,
                             "std_err": se})
        return pd.DataFrame(rows)

    def to_text(self) -> str:
        """The last actual month and the forecast at 3, 6 and 12 months, per group."""
        unit = "money" if self.what == "mrr" else "count"
        level = percent(1 - self.alpha, digits=0)
        lines = [f"{'MRR' if self.what == 'mrr' else 'Paying accounts'} forecast "
                 f"({level} prediction intervals)"]
        for group, sub in self.table.groupby("group", sort=False, dropna=False):
            hist = sub[sub["kind"] == "history"]
            fc = sub[sub["kind"] == "forecast"].reset_index(drop=True)
            name = "all" if group is None or group == "all" else str(group)
            lines.append(f"  {name}: {fmt(hist['month'].iloc[-1], 'month')} "
                         f"{fmt(hist['value'].iloc[-1], unit)}")
            for k in (3, 6, 12):
                if k <= len(fc):
                    r = fc.iloc[k - 1]
                    lines.append(f"    +{k} months ({fmt(r['month'], 'month')}): "
                                 f"{fmt(r['value'], unit)} ({fmt(r['lower'], unit)} to "
                                 f"{fmt(r['upper'], unit)})")
        return "\n".join(lines)

    def plot(self, ax: Axes | None = None) -> Axes:
        """History as lines, forecasts dashed with shaded intervals.

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = axes(ax)
        for group, sub in self.table.groupby("group", sort=False, dropna=False):
            hist = sub[sub["kind"] == "history"]
            fc = sub[sub["kind"] == "forecast"]
            (line,) = ax.plot(hist["month"], hist["value"], label=str(group))
            ax.plot(fc["month"], fc["value"], linestyle="--", color=line.get_color())
            ax.fill_between(fc["month"], fc["lower"], fc["upper"], alpha=0.2,
                            color=line.get_color())
        from matplotlib.ticker import FuncFormatter

        unit = "money" if self.what == "mrr" else "count"
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt(v, unit)))
        ax.set_ylabel("MRR" if self.what == "mrr" else "paying accounts")
        if self.table["group"].nunique() > 1:
            ax.legend()
        return ax


def _monthly(dataset: Dataset, by: str | None, what: str) -> pd.DataFrame:
    mrr = dataset.mrr
    for col in ("account_id", "month", "mrr"):
        if col not in mrr.columns:
            raise ModelInputError(f"mrr: column '{col}' is missing")
    month = pd.to_datetime(mrr["month"]).dt.to_period("M").dt.to_timestamp()
    amount = pd.to_numeric(mrr["mrr"], errors="coerce").fillna(0.0)
    frame = pd.DataFrame({"account_id": mrr["account_id"].to_numpy(), "month": month,
                          "value": amount if what == "mrr" else (amount > 0).astype(float)})
    if by is None:
        frame["group"] = "all"
    else:
        acc = dataset.accounts
        if by not in acc.columns:
            raise ModelInputError(f"accounts: column {by!r} not found; columns: "
                                  f"{', '.join(map(str, acc.columns))}")
        labels = acc.drop_duplicates("account_id").set_index("account_id")[by]
        frame["group"] = labels.reindex(frame["account_id"]).fillna("(missing)").to_numpy()
    months = pd.date_range(frame["month"].min(), frame["month"].max(), freq="MS")
    wide = frame.pivot_table(index="month", columns="group", values="value", aggfunc="sum",
                             fill_value=0.0).reindex(months, fill_value=0.0)
    return wide


def _forecast(dataset: Dataset, by: str | None, horizon: int, alpha: float,
              what: str) -> Forecast:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    where = f"forecast_{what}"
    if not isinstance(horizon, int) or horizon < 1:
        raise ModelInputError(f"{where}: horizon must be a whole number of months >= 1, "
                              f"got {horizon!r}")
    z_value(alpha)
    wide = _monthly(dataset, by, what)
    if len(wide) < MIN_MONTHS:
        raise ModelInputError(f"{where}: the mrr table covers {len(wide)} month(s); a forecast "
                              f"needs at least {MIN_MONTHS}")
    frames, fits, logs = [], {}, {}
    future = pd.date_range(wide.index[-1] + pd.DateOffset(months=1), periods=horizon, freq="MS")
    for group in wide.columns:
        y = wide[group]
        active = y[y.ne(0).cumsum() > 0]  # from the group's first non-zero month
        if len(active) < MIN_MONTHS:
            logger.info("%s: group %s has %d month(s) of history; skipped", where, group,
                        len(active))
            continue
        log = bool((active > 0).all())
        series = np.log(active) if log else active.astype(float)
        series = pd.Series(series.to_numpy(), index=pd.DatetimeIndex(active.index, freq="MS"))
        model = ETSModel(series, error="add", trend="add", damped_trend=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # optimiser chatter on short series
            res = model.fit(disp=False, maxiter=1000)
            pred = res.get_prediction(start=len(series), end=len(series) + horizon - 1)
            band = pred.summary_frame(alpha=alpha)
        mean, lo, hi = (band[c].to_numpy(dtype=float) for c in ("mean", "pi_lower", "pi_upper"))
        if log:
            mean, lo, hi = np.exp(mean), np.exp(lo), np.exp(hi)
        else:
            lo = np.maximum(lo, 0.0)
        frames.append(pd.DataFrame({"group": group, "month": active.index, "kind": "history",
                                    "value": active.to_numpy(dtype=float), "lower": np.nan,
                                    "upper": np.nan}))
        frames.append(pd.DataFrame({"group": group, "month": future, "kind": "forecast",
                                    "value": mean, "lower": lo, "upper": hi}))
        fits[group], logs[group] = res, log
    if not frames:
        raise ModelInputError(f"{where}: no group has {MIN_MONTHS} months of history to "
                              "forecast from")
    return Forecast(pd.concat(frames, ignore_index=True), fits, what, alpha, logs)


def forecast_mrr(dataset: Dataset, *, by: str | None = None, horizon: int = 12,
                 alpha: float = 0.05) -> Forecast:
    """Forecast total MRR ``horizon`` months ahead, with prediction intervals.

    Parameters
    ----------
    dataset : Dataset
        Needs ``mrr`` (``accounts`` for ``by``).
    by : str, optional
        An ``accounts`` column to forecast each group apart (e.g. ``"segment"``).
    horizon : int, default 12
    alpha : float, default 0.05
        1 - level of the prediction intervals.

    Returns
    -------
    Forecast
    """
    return _forecast(dataset, by, horizon, alpha, "mrr")


def forecast_logos(dataset: Dataset, *, by: str | None = None, horizon: int = 12,
                   alpha: float = 0.05) -> Forecast:
    """Forecast the paying accounts ``horizon`` months ahead (see :func:`forecast_mrr`)."""
    return _forecast(dataset, by, horizon, alpha, "logos")


# ------------------------------------------------------------------------------- renewals
@dataclass(frozen=True)
class RenewalForecast:
    """Annual renewals coming due and how many are expected to renew.

    Attributes
    ----------
    table : DataFrame
        ``month, group, due, mrr_due, renewal_rate, expected_renewals, lower, upper,
        expected_mrr_renewed``.
    rates : DataFrame
        Per group, from the history: ``due, renewed, rate, ci_lower, ci_upper``.
    notes : tuple of str
    """

    table: pd.DataFrame
    rates: pd.DataFrame
    notes: tuple[str, ...] = ()
    alpha: float = 0.05

    def to_text(self) -> str:
        """The forecast by month, formatted for people."""
        lines = ["Annual renewals coming due"]
        if not self.rates.empty:
            for group, r in self.rates.iterrows():
                lines.append(f"  renewal rate {group}: {percent(r['rate'])} "
                             f"({percent(r['ci_lower'])} to {percent(r['ci_upper'])}; "
                             f"{fmt(r['renewed'], 'count')} of {fmt(r['due'], 'count')})")
        if not self.table.empty:
            t = self.table.groupby("month", as_index=True)[
                ["due", "mrr_due", "expected_renewals", "lower", "upper",
                 "expected_mrr_renewed"]].sum()
            shown = pd.DataFrame({
                "due": [fmt(v, "count") for v in t["due"]],
                "MRR due": [fmt(v, "money") for v in t["mrr_due"]],
                "expected renewals": [f"{v:,.1f}" for v in t["expected_renewals"]],
                "MRR renewed": [fmt(v, "money") for v in t["expected_mrr_renewed"]],
            }, index=[fmt(m, "month") for m in t.index])
            lines.append(text_table(shown))
        return "\n".join([*lines, *self.notes])


def forecast_renewals(dataset: Dataset, *, by: str | None = None, horizon: int = 12,
                      alpha: float = 0.05) -> RenewalForecast:
    """Forecast the annual renewals due in the next ``horizon`` months (see the module docstring).

    Parameters
    ----------
    dataset : Dataset
        Needs ``mrr`` and ``accounts`` with a ``contract`` column.
    by : str, optional
        An ``accounts`` column for group-specific renewal rates (e.g. ``"segment"``).
    horizon : int, default 12
    alpha : float, default 0.05

    Returns
    -------
    RenewalForecast
    """
    from statsmodels.stats.proportion import proportion_confint

    from cs_sim.models.lifetimes import account_lifetimes

    where = "forecast_renewals"
    z = z_value(alpha)
    if "contract" not in dataset.accounts.columns:
        raise ModelInputError(f"{where}: accounts has no 'contract' column (monthly/annual); "
                              "renewals are forecast for annual contracts")
    cols = ["contract", *([by] if by else [])]
    lives = account_lifetimes(dataset, by=cols)
    annual = lives[lives["contract"].astype(str).str.lower() == "annual"].copy()
    group = annual[by].fillna("(missing)") if by else pd.Series("all", index=annual.index)
    annual["group"] = group.to_numpy()
    months = pd.to_datetime(dataset.mrr["month"]).dt.to_period("M").dt.to_timestamp()
    first, last = months.min(), months.max()
    notes: list[str] = []
    # history: anniversaries k*12 inside the observed window, outcome known
    hist = []
    for row in annual.itertuples(index=False):
        for k in range(1, int(row.duration // 12) + 2):
            at = 12 * k
            month = row.start_month + pd.DateOffset(months=at)
            if at <= row.entry or month < first or month > last:
                continue
            renewed = at < row.duration or (at == row.duration and not row.churned)
            if row.churned and at > row.duration:
                continue
            hist.append({"group": row.group, "renewed": bool(renewed)})
    hist_frame = pd.DataFrame(hist, columns=["group", "renewed"])
    rates = hist_frame.groupby("group")["renewed"].agg(due="size", renewed="sum")
    if rates.empty:
        notes.append("No annual renewal has happened in the data yet: no renewal rate to "
                     "forecast with.")
    else:
        lo, hi = proportion_confint(rates["renewed"], rates["due"], alpha=alpha,
                                    method="wilson")
        rates["rate"] = rates["renewed"] / rates["due"]
        rates["ci_lower"], rates["ci_upper"] = lo, hi
    # due: active annual contracts, next anniversaries
    active = annual[~annual["churned"]]
    rows = []
    for row in active.itertuples(index=False):
        for k in range(1, horizon + 1):
            month = last + pd.DateOffset(months=k)
            age = (month.year - row.start_month.year) * 12 + month.month - row.start_month.month
            if age > 0 and age % 12 == 0:
                rows.append({"month": month, "group": row.group, "mrr_due": row.last_mrr})
    due = pd.DataFrame(rows, columns=["month", "group", "mrr_due"])
    table = (due.groupby(["month", "group"], as_index=False)
             .agg(due=("mrr_due", "size"), mrr_due=("mrr_due", "sum")))
    if len(table) and not rates.empty:
        r = rates.reindex(table["group"])
        p = r["rate"].to_numpy(dtype=float)
        var_p = ((r["ci_upper"] - r["ci_lower"]).to_numpy(dtype=float) / (2 * z)) ** 2
        n = table["due"].to_numpy(dtype=float)
        sd = np.sqrt(n * p * (1 - p) + n**2 * var_p)
        table["renewal_rate"] = p
        table["expected_renewals"] = n * p
        table["lower"] = np.clip(n * p - z * sd, 0, n)
        table["upper"] = np.clip(n * p + z * sd, 0, n)
        table["expected_mrr_renewed"] = table["mrr_due"] * p
        missing = table["renewal_rate"].isna()
        if missing.any():
            notes.append("No renewal history for: " + ", ".join(
                map(str, sorted(table.loc[missing, "group"].unique()))) + ".")
    elif len(table) == 0:
        notes.append(f"No annual contract comes up for renewal in the next {horizon} months.")
    return RenewalForecast(table, rates, tuple(notes), alpha)
