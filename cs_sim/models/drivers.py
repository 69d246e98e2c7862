"""Churn drivers: a logistic model of churn on an account-month panel.

*The panel* (:func:`churn_panel`). One row per account and month in which the account
pays (MRR > 0), with ``churn = 1`` when it stops paying in one of the next ``horizon``
months. Rows whose next ``horizon`` months are not all in the data are left out, even
when a churn is already visible (keeping those would keep only the churners and
inflate the churn rate of the last months). Each row carries the raw metrics
and component scores of the configured health score (:func:`cs_sim.kpis.health_score`:
``seat_utilisation``, ``key_events_per_active_user``, ``tickets_per_seat``, ``nps``,
``mrr_change`` ... as configured; ``score`` and ``band``), the account's age in months
(``tenure_months``, from :func:`~cs_sim.models.account_lifetimes`), ``mrr`` and
``log_mrr``, and the ``accounts`` columns asked for.

*The model* (:func:`churn_drivers`). statsmodels ``Logit`` of ``churn`` on the drivers,
with standard errors clustered by account (an account's months are not independent).
A driver with missing values (no survey answered yet) is filled with its mean and
gets an indicator ``<driver>_missing``, so no row is lost. Each driver's effect is
reported in business terms: the average change in the churn probability for a
one-standard-deviation increase of the driver,
``AME × SD`` (the average marginal effect, as statsmodels'
``get_margeff(at="overall", dummy=True)`` defines it, its standard error scaled alike);
a 0/1 driver reports the change from 0 to 1. The effects and their delta-method
standard errors are computed in closed form (:func:`average_marginal_effects`: for a
logit ``dp/dx_j = p (1 - p) b_j``), which gives statsmodels' figures without its
numerical derivatives over every row (seconds on a large panel).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cs_sim.errors import ModelInputError
from cs_sim.format import fmt, percent
from cs_sim.models._base import FittedModel, check_formula, p_text, z_value

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from cs_sim.io import Dataset
    from cs_sim.kpis.health import HealthConfig

__all__ = ["ChurnDrivers", "average_marginal_effects", "churn_drivers", "churn_labels",
           "churn_panel", "fit_logit", "resolve_health_config"]

logger = logging.getLogger(__name__)

#: panel columns that are not drivers
_NOT_DRIVERS = {"account_id", "month", "churn", "band", "n_components", "score", "mrr",
                "last_month_known"}


def resolve_health_config(config: HealthConfig | str | Path | None) -> HealthConfig:
    """The health-score configuration: as given, read from a path, or the packaged one."""
    from cs_sim.kpis.health import HealthConfig, load_health_config

    return config if isinstance(config, HealthConfig) else load_health_config(config)


def churn_labels(mrr: pd.DataFrame, *, horizon: int = 1) -> pd.DataFrame:
    """``churn`` (0/1) for every paying account-month: stops paying within ``horizon`` months.

    Parameters
    ----------
    mrr : DataFrame
        Canonical mrr table.
    horizon : int, default 1
        Months ahead.

    Returns
    -------
    DataFrame
        ``account_id, month, mrr, churn`` for the rows whose outcome is known.
    """
    if not isinstance(horizon, int) or horizon < 1:
        raise ModelInputError(f"horizon must be a whole number of months >= 1, got {horizon!r}")
    for col in ("account_id", "month", "mrr"):
        if col not in mrr.columns:
            raise ModelInputError(f"mrr: column '{col}' is missing")
    month = pd.to_datetime(mrr["month"]).dt.to_period("M").dt.to_timestamp()
    amount = pd.to_numeric(mrr["mrr"], errors="coerce").fillna(0.0)
    wide = (pd.DataFrame({"a": mrr["account_id"].to_numpy(), "m": month, "v": amount})
            .pivot_table(index="a", columns="m", values="v", aggfunc="sum", fill_value=0.0))
    months = pd.date_range(wide.columns.min(), wide.columns.max(), freq="MS")
    wide = wide.reindex(columns=months, fill_value=0.0)
    paid = wide.to_numpy() > 0
    n = paid.shape[1]
    churn = np.full(paid.shape, np.nan)
    for j in range(n - horizon):  # only months whose whole horizon is in the data
        gone = (~paid[:, j + 1: j + 1 + horizon]).any(axis=1)
        churn[:, j] = np.where(paid[:, j], gone.astype(float), np.nan)
    out = pd.DataFrame({
        "account_id": np.repeat(wide.index.to_numpy(), n),
        "month": np.tile(months.to_numpy(), len(wide)),
        "mrr": wide.to_numpy().ravel(),
        "churn": churn.ravel(),
    })
    out = out[out["churn"].notna()].reset_index(drop=True)
    out["churn"] = out["churn"].astype(int)
    return out


def churn_panel(
    dataset: Dataset,
    *,
    horizon: int = 1,
    attributes: Sequence[str] = (),
    health_config: HealthConfig | str | None = None,
) -> pd.DataFrame:
    """The account-month panel of churn and its candidate drivers (see the module docstring).

    Parameters
    ----------
    dataset : Dataset
        Needs ``mrr``; ``usage``, ``tickets``, ``surveys`` feed the health metrics
        when present.
    horizon : int, default 1
        ``churn`` = stops paying within this many months.
    attributes : sequence of str
        ``accounts`` columns to add (e.g. ``("segment", "contract")``).
    health_config : HealthConfig or path, optional
        The health-score configuration (default: the packaged one).

    Returns
    -------
    DataFrame
        ``account_id, month, churn, mrr, log_mrr, tenure_months``, the health score
        columns (``score, band, <component>_score``, and each component's raw metric
        under its metric's name) and the ``attributes``.
    """
    from cs_sim.kpis.health import health_score
    from cs_sim.models.lifetimes import account_lifetimes

    labels = churn_labels(dataset.mrr, horizon=horizon)
    cfg = resolve_health_config(health_config)
    health = health_score(dataset.usage, dataset.mrr, tickets=dataset.tickets,
                          surveys=dataset.surveys, config=cfg)
    rename = {f"{c.name}_value": c.metric for c in cfg.components}
    health = health.rename(columns=rename)
    panel = labels.merge(health, on=["account_id", "month"], how="left")
    panel["log_mrr"] = np.log(panel["mrr"].clip(lower=1e-9))
    lives = account_lifetimes(dataset, by=list(attributes) or None)
    start = lives.set_index("account_id")["start_month"]
    s = start.reindex(panel["account_id"]).to_numpy()
    m = panel["month"].to_numpy()
    panel["tenure_months"] = (pd.DatetimeIndex(m).year - pd.DatetimeIndex(s).year) * 12 + \
        (pd.DatetimeIndex(m).month - pd.DatetimeIndex(s).month)
    for col in attributes:
        panel[col] = lives.set_index("account_id")[col].reindex(panel["account_id"]).to_numpy()
    return panel


#: churn events a logistic model needs per term (the usual rule of thumb)
EVENTS_PER_TERM = 10


def fit_logit(formula: str, frame: pd.DataFrame, groups: np.ndarray, *, where: str) -> Any:
    """statsmodels ``Logit`` from a checked formula, standard errors clustered by ``groups``.

    Raises
    ------
    ModelInputError
        When the fit does not converge or the outcome is perfectly predicted.
    """
    import warnings

    import statsmodels.formula.api as smf
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", PerfectSeparationWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            res = smf.logit(formula, data=frame).fit(
                disp=0, maxiter=200, cov_type="cluster", cov_kwds={"groups": groups})
        except (PerfectSeparationWarning, np.linalg.LinAlgError) as exc:
            raise ModelInputError(
                f"{where}: the logistic model cannot be fitted ({exc}); some driver predicts "
                "churn perfectly or the drivers are collinear - use fewer drivers or more "
                "history") from None
    if not res.mle_retvals.get("converged", False):
        raise ModelInputError(f"{where}: the logistic model did not converge; use fewer "
                              "drivers or more history")
    return res


def average_marginal_effects(res: Any, names: Sequence[str]) -> pd.DataFrame:
    """Average marginal effects of a fitted statsmodels ``Logit`` with delta-method errors.

    For a continuous regressor j, ``AME_j = mean(p (1 - p)) b_j``; for a 0/1 regressor
    the average change from 0 to 1, ``mean(F(x b | x_j = 1) - F(x b | x_j = 0))``
    (statsmodels' ``dummy=True``). Standard errors: ``G V G'`` with ``V`` the fit's
    covariance (clustered when the fit is) and ``G`` the exact gradient of the effects
    in ``b``; p-values from the normal distribution.

    Parameters
    ----------
    res : statsmodels LogitResults
    names : sequence of str
        Regressors (exog names) to report.

    Returns
    -------
    DataFrame
        Index ``names``: ``dy/dx, Std. Err., Pr(>|z|)`` (the columns of statsmodels'
        ``summary_frame``).
    """
    from scipy.special import expit
    from scipy.stats import norm

    x = np.asarray(res.model.exog, dtype=float)
    cols = list(res.model.exog_names)
    b = np.asarray(res.params, dtype=float)
    cov = np.asarray(res.cov_params(), dtype=float)
    p = expit(x @ b)
    f = p * (1 - p)
    mean_f = f.mean()
    slope_grad = (f * (1 - 2 * p)) @ x / len(x)
    rows = {}
    for name in names:
        j = cols.index(name)
        if np.isin(x[:, j], (0.0, 1.0)).all():
            xb0 = x @ b - x[:, j] * b[j]
            p0, p1 = expit(xb0), expit(xb0 + b[j])
            f0, f1 = p0 * (1 - p0), p1 * (1 - p1)
            effect = float((p1 - p0).mean())
            x1, x0 = x.copy(), x.copy()
            x1[:, j], x0[:, j] = 1.0, 0.0
            grad = (f1 @ x1 - f0 @ x0) / len(x)
        else:
            effect = float(mean_f * b[j])
            grad = b[j] * slope_grad
            grad[j] += mean_f
        se = float(np.sqrt(max(grad @ cov @ grad, 0.0)))
        pval = float(2 * norm.sf(abs(effect) / se)) if se > 0 else float("nan")
        rows[name] = {"dy/dx": effect, "Std. Err.": se, "Pr(>|z|)": pval}
    return pd.DataFrame.from_dict(rows, orient="index")


# ------------------------------------------------------------------------------- the model
@dataclass(frozen=True, eq=False)
class ChurnDrivers(FittedModel):
    """A fitted logistic churn-driver model (see :func:`churn_drivers`).

    Attributes
    ----------
    params, bse : Series
        Logit coefficients and their account-clustered standard errors.
    effects : DataFrame
        Per driver: ``sd, effect, std_err, ci_lower, ci_upper, p_value`` with
        ``effect`` the change in churn probability for a 1-SD increase (0 to 1 for a
        0/1 driver); ``kind`` is ``"per_sd"`` or ``"zero_to_one"``.
    results_ : statsmodels LogitResults
    base_rate : float
        Observed churn rate of the rows fitted.
    horizon : int
    """

    params: pd.Series
    bse: pd.Series
    effects: pd.DataFrame
    results_: Any = field(repr=False)
    base_rate: float = 0.0
    horizon: int = 1
    nobs: int = 0
    fill_values: dict[str, float] = field(default_factory=dict)

    def predict(self, panel: pd.DataFrame) -> pd.Series:
        """Churn probability for rows of a panel (missing drivers filled as in the fit)."""
        frame = _fill(panel, self.fill_values)
        return pd.Series(np.asarray(self.results_.predict(frame), dtype=float),
                         index=panel.index, name="churn_probability")

    def to_text(self) -> str:
        """Each driver's effect in plain words: a 1-SD step in the driver's own unit."""
        period = "month" if self.horizon == 1 else f"{self.horizon} months"
        lines = [f"Churn drivers (logistic model, {fmt(self.nobs, 'count')} account-months; "
                 f"churn within {period}: {percent(self.base_rate)})"]
        for name, row in self.effects.iterrows():
            what = f"1 SD more {_step(name, row)}" if row["kind"] == "per_sd" \
                else f"{name} (vs not)"
            real = "" if row["p_value"] < 0.05 else "; not distinguishable from no effect"
            lines.append(f"  {what}: {percent(row['effect'], diff=True)} churn probability "
                         f"({percent(row['ci_lower'], diff=True)} to "
                         f"{percent(row['ci_upper'], diff=True)}, {p_text(row['p_value'])}{real})")
        return "\n".join(lines)

    def plot(self, ax: Axes | None = None) -> Axes:
        """Horizontal bars of the effects with their intervals, labelled in business terms.

        Each bar is the change of the churn probability (percentage points) for one
        standard deviation more of the driver (the step is written in the driver's unit
        under its name), or from 0 to 1 for a yes/no driver; red raises churn, green
        lowers it; an interval that crosses 0 (hatched bar) is not distinguishable from
        no effect.

        Returns
        -------
        matplotlib.axes.Axes
        """
        e = self.effects
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(8, 1.5 + 0.5 * len(e)))
        y = np.arange(len(e))[::-1]
        colours = ["#e31a1c" if v > 0 else "#41ab5d" for v in e["effect"]]
        bars = ax.barh(y, e["effect"], color=colours,
                       xerr=[e["effect"] - e["ci_lower"], e["ci_upper"] - e["effect"]],
                       capsize=3)
        for bar, p in zip(bars, e["p_value"], strict=True):
            if not p < 0.05:
                bar.set_alpha(0.45)
                bar.set_hatch("//")
        ax.axvline(0, color="black", linewidth=0.8)
        labels = [f"{name.replace('_', ' ')}\n(+{_step(name, row, named=False)})"
                  if row["kind"] == "per_sd" else f"{name.replace('_', ' ')}\n(yes vs no)"
                  for name, row in e.iterrows()]
        ax.set_yticks(y, labels, fontsize="small")
        period = "next month" if self.horizon == 1 else f"within {self.horizon} months"
        ax.set_xlabel(f"change in the probability of churning {period} "
                      f"(base rate {percent(self.base_rate)})")
        from matplotlib.ticker import FuncFormatter

        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: percent(v, diff=True)))
        ax.set_title("What drives churn: effect of one standard deviation more")
        return ax


#: how a step of a panel column reads (unit of :func:`cs_sim.format.fmt`, as a difference)
_STEP_UNITS = {"seat_utilisation": "pct", "mrr_change": "pct", "fcr": "pct",
               "tenure_months": "months", "mrr": "money"}


def _step(name: str, row: pd.Series, *, named: bool = True) -> str:
    """One standard deviation of driver ``name`` in its unit, e.g. ``seat_utilisation
    (10.3 pp)``; ``log_mrr`` also as the factor it multiplies MRR by."""
    sd = float(row["sd"])
    unit = _STEP_UNITS.get(name)
    if unit == "pct":
        size = percent(sd, diff=True).lstrip("+")
    elif unit is not None:
        size = fmt(sd, unit)
    elif name == "log_mrr":
        size = f"{fmt(sd, 'number')}, MRR x {fmt(np.exp(sd), 'number', digits=1)}"
    else:
        size = fmt(sd, "number")
    return f"{name} ({size})" if named else size


def _fill(panel: pd.DataFrame, fill_values: dict[str, float]) -> pd.DataFrame:
    frame = panel.copy()
    for col, value in fill_values.items():
        if col in frame.columns:
            frame[f"{col}_missing"] = frame[col].isna().astype(float)
            frame[col] = frame[col].fillna(value)
    return frame


def _default_drivers(panel: pd.DataFrame) -> list[str]:
    from cs_sim.kpis.health import COMPONENTS

    metrics = [m for ms, _ in COMPONENTS.values() for m in ms]
    found = [m for m in metrics if m in panel.columns and panel[m].notna().any()]
    return [*found, "tenure_months", "log_mrr"]


def churn_drivers(
    data: Dataset | pd.DataFrame,
    *,
    drivers: Sequence[str] | None = None,
    controls: Sequence[str] = (),
    horizon: int = 1,
    alpha: float = 0.05,
) -> ChurnDrivers:
    """Fit a logistic churn-driver model and report each driver's effect in business terms.

    Parameters
    ----------
    data : Dataset or DataFrame
        A dataset (its :func:`churn_panel` is built) or a panel with a 0/1 ``churn``
        column and an ``account_id`` column.
    drivers : sequence of str, optional
        Numeric (or 0/1) panel columns. Default: the health metrics present, the
        account's tenure and log MRR.
    controls : sequence of str
        Categorical columns adjusted for but not reported as drivers (e.g.
        ``("segment",)``, entered as ``C(segment)``).
    horizon : int, default 1
        For a dataset: churn within this many months.
    alpha : float, default 0.05

    Returns
    -------
    ChurnDrivers

    Raises
    ------
    ModelInputError
        Unknown columns, a driver without variation, or a panel with no churn.
    """
    where = "churn_drivers"
    z = z_value(alpha)
    if isinstance(data, pd.DataFrame):
        panel = data
    else:
        panel = churn_panel(data, horizon=horizon, attributes=tuple(controls))
    for col in ("churn", "account_id"):
        if col not in panel.columns:
            raise ModelInputError(f"{where}: the panel needs a column {col!r}")
    names = list(drivers) if drivers is not None else _default_drivers(panel)
    missing = [c for c in [*names, *controls] if c not in panel.columns]
    if missing:
        raise ModelInputError(f"{where}: column(s) {', '.join(missing)} not in the panel; "
                              f"columns: {', '.join(map(str, panel.columns))}")
    churn = panel["churn"]
    if churn.sum() == 0 or churn.sum() == churn.notna().sum():
        raise ModelInputError(f"{where}: the panel has {int(churn.sum())} churn(s) in "
                              f"{int(churn.notna().sum())} rows; a driver model needs both "
                              "churned and retained account-months")
    fill_values: dict[str, float] = {}
    for col in names:
        values = pd.to_numeric(panel[col], errors="coerce")
        if values.isna().all() or values.std(ddof=0) == 0:
            raise ModelInputError(f"{where}: driver {col!r} has no variation (or no values); "
                                  "leave it out")
        if values.isna().any():
            fill_values[col] = float(values.mean())
    frame = _fill(panel[[*names, *controls, "churn", "account_id"]], fill_values)
    frame = frame.dropna(subset=["churn", *controls]).reset_index(drop=True)
    extra = [f"{c}_missing" for c in fill_values]
    terms = [*names, *extra, *[f"C({c})" for c in controls]]
    formula = check_formula("churn ~ " + " + ".join(terms), list(frame.columns), where=where)
    events = int(frame["churn"].sum())
    n_terms = len(terms) + sum(max(frame[c].nunique() - 2, 0) for c in controls)
    if events < EVENTS_PER_TERM * n_terms:
        raise ModelInputError(
            f"{where}: {events} churn event(s) for {n_terms} model terms; a logistic model "
            f"needs about {EVENTS_PER_TERM} events per term ({EVENTS_PER_TERM * n_terms} "
            "here) to give stable effects - use fewer drivers or more history")
    groups = pd.factorize(frame["account_id"])[0]
    res = fit_logit(formula, frame, groups, where=where)
    mframe = average_marginal_effects(res, [*names, *extra])
    rows = {}
    for col in [*names, *extra]:
        values = frame[col].astype(float)
        binary = set(np.unique(values)) <= {0.0, 1.0}
        sd = 1.0 if binary else float(values.std(ddof=1))
        dydx, se = float(mframe.loc[col, "dy/dx"]), float(mframe.loc[col, "Std. Err."])
        rows[col] = {"kind": "zero_to_one" if binary else "per_sd", "sd": sd,
                     "effect": dydx * sd, "std_err": se * sd,
                     "ci_lower": (dydx - z * se) * sd, "ci_upper": (dydx + z * se) * sd,
                     "p_value": float(mframe.loc[col, "Pr(>|z|)"])}
    effects = pd.DataFrame.from_dict(rows, orient="index")
    effects.index.name = "driver"
    idx = pd.Index(res.params.index, name="term")
    return ChurnDrivers(
        params=pd.Series(np.asarray(res.params), index=idx, name="estimate"),
        bse=pd.Series(np.asarray(res.bse), index=idx, name="std_err"),
        effects=effects, results_=res, base_rate=float(frame["churn"].mean()),
        horizon=horizon, nobs=int(res.nobs), fill_values=fill_values,
    )
