"""Is the health score any good? Out-of-sample validation against churn.

:func:`validate_health_score` takes the configured health score
(:func:`cs_sim.kpis.health_score`) and asks whether it predicts churn in the next
``horizon`` months (:func:`~cs_sim.models.drivers.churn_labels`), honestly:

*Time split.* The last ``test_months`` labelled months are the test period. Weights
are fitted only on months whose whole horizon ends before the test period starts, so
no outcome used for fitting lies in the test period.

*Fitted weights.* A logistic model (statsmodels ``Logit``, standard errors clustered by
account) of churn on the component scores (each 0-1; a missing component is filled
with its training mean). A component's fitted weight is its share of the negative
coefficients, ``w_i = max(-b_i, 0) / Σ_j max(-b_j, 0)`` (a higher score should mean
less churn); a component with a positive coefficient works the wrong way and gets
weight 0. The configured weights are shown normalised to sum to 1.

*Out of sample* (test months, account-months with a configured score):

- AUC of the configured score (risk = -score) and of the fitted model, with DeLong
  standard errors (midrank form of Sun & Xu 2014), the test of AUC = 0.5 and the
  paired DeLong test of the difference;
- top-decile lift: churn rate among the riskiest 10% / overall churn rate;
- calibration: observed churn by band of the configured score, and predicted vs
  observed churn by decile of the fitted model;
- lead time: for accounts that churned in the test period, whether the score was red
  in their last paid month and for how many months before churn it had been red
  without a break (the fitted model's "red" flags the same share of account-months
  as the configured red band did in the training months).

The verdict says in plain words whether the score predicts churn, whether the fitted
weights do better, and when there is too little churn to tell.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from cs_sim.errors import ModelInputError
from cs_sim.format import fmt, percent, text_table, to_jsonable
from cs_sim.models._base import axes, p_text, z_value

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from cs_sim.io import Dataset
    from cs_sim.kpis.health import HealthConfig

__all__ = ["HealthValidation", "auc_delong", "validate_health_score"]

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------ AUC
def _placements(score: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pos, neg = score[y == 1], score[y == 0]
    m, n = len(pos), len(neg)
    all_ranks = stats.rankdata(np.r_[pos, neg])
    v10 = (all_ranks[:m] - stats.rankdata(pos)) / n
    v01 = 1.0 - (all_ranks[m:] - stats.rankdata(neg)) / m
    return v10, v01


def auc_delong(y: Any, *scores: Any) -> tuple[np.ndarray, np.ndarray]:
    """AUCs of one or more risk scores and their DeLong covariance.

    Parameters
    ----------
    y : array-like of 0/1
        Outcomes (1 = churned).
    *scores : array-like
        Risk scores (higher = more likely to churn), each as long as ``y``.

    Returns
    -------
    (auc, cov)
        ``auc[k]`` the area under the ROC curve of score k (ties count one half) and
        ``cov`` their DeLong covariance matrix.
    """
    yy = np.asarray(y, dtype=int)
    m, n = int(yy.sum()), int((1 - yy).sum())
    if m == 0 or n == 0:
        raise ModelInputError("auc: need both outcomes (some churned, some not)")
    v10, v01 = zip(*(_placements(np.asarray(s, dtype=float), yy) for s in scores), strict=True)
    a10, a01 = np.vstack(v10), np.vstack(v01)
    auc = a10.mean(axis=1)
    cov = np.atleast_2d(np.cov(a10)) / m + np.atleast_2d(np.cov(a01)) / n
    return auc, cov


def _lift(risk: np.ndarray, y: np.ndarray, share: float = 0.1) -> float:
    k = max(int(math.ceil(share * len(y))), 1)
    top = np.argsort(-risk, kind="stable")[:k]
    base = y.mean()
    return float(y[top].mean() / base) if base > 0 else math.nan


# ------------------------------------------------------------------------------- result
@dataclass(frozen=True)
class HealthValidation:
    """The validation report of a health score (see :func:`validate_health_score`).

    Attributes
    ----------
    verdict : str
        The conclusion in plain words.
    weights : DataFrame
        Per component: ``metric, configured_weight, coef, std_err, p_value,
        fitted_weight, configured_rank, fitted_rank, direction`` (empty when there was
        too little churn to fit).
    metrics : DataFrame
        Rows ``configured`` and ``fitted``: ``auc, auc_lower, auc_upper,
        auc_p_value`` (test of 0.5), ``top_decile_lift``, ``red_share``,
        ``churners``, ``red_before_churn`` (share of churners red in their last paid
        month), ``median_lead_months``.
    calibration : dict of DataFrame
        ``"bands"`` (configured score: band, rows, churned, churn_rate) and
        ``"deciles"`` (fitted model: decile, rows, predicted, observed).
    comparison : dict
        ``auc_difference`` (fitted - configured), its ``lower``/``upper`` and
        ``p_value`` (paired DeLong).
    split : dict
        ``train_months``, ``test_months`` (first and last), ``horizon``, rows and
        churn events of each part.
    notes : tuple of str
    """

    verdict: str
    weights: pd.DataFrame
    metrics: pd.DataFrame
    calibration: dict[str, pd.DataFrame]
    comparison: dict[str, float]
    split: dict[str, Any]
    notes: tuple[str, ...] = ()
    roc: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def enough_data(self) -> bool:
        """Whether there was enough churn to validate."""
        return not self.metrics.empty and bool(np.isfinite(self.metrics["auc"]).any())

    def to_frame(self) -> pd.DataFrame:
        """The out-of-sample metrics (raw numbers)."""
        return self.metrics.copy()

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-ready data (raw numbers)."""
        return to_jsonable({
            "verdict": self.verdict,
            "split": self.split,
            "weights": self.weights.reset_index().to_dict(orient="records"),
            "metrics": self.metrics.reset_index().to_dict(orient="records"),
            "comparison": self.comparison,
            "calibration": {k: v.to_dict(orient="records") for k, v in self.calibration.items()},
            "notes": list(self.notes),
        })

    def to_text(self) -> str:
        """The report formatted for people."""
        parts = ["Health-score validation", self.verdict]
        if not self.weights.empty:
            w = self.weights
            shown = pd.DataFrame({
                "metric": w["metric"],
                "configured": [percent(v, digits=0) for v in w["configured_weight"]],
                "fitted": [percent(v, digits=0) for v in w["fitted_weight"]],
                "coefficient": [fmt(v, "number") for v in w["coef"]],
                "p": [p_text(v) for v in w["p_value"]],
                "direction": w["direction"],
            }, index=w.index)
            parts += ["", "Weights (fitted on the training months):", text_table(shown)]
        if self.enough_data:
            m = self.metrics
            shown = pd.DataFrame({
                "AUC": [f"{v:.3f}" if np.isfinite(v) else "n/a" for v in m["auc"]],
                "95% CI": [f"{lo:.3f} to {hi:.3f}" if np.isfinite(lo) else "n/a"
                           for lo, hi in zip(m["auc_lower"], m["auc_upper"], strict=True)],
                "top-decile lift": [fmt(v, "ratio") for v in m["top_decile_lift"]],
                "red before churn": [percent(v) for v in m["red_before_churn"]],
                "median lead": [fmt(v, "months") for v in m["median_lead_months"]],
            }, index=m.index)
            parts += ["", "Out of sample (test months):", text_table(shown)]
            bands = self.calibration.get("bands")
            if bands is not None and not bands.empty:
                shown = pd.DataFrame({
                    "account-months": [fmt(v, "count") for v in bands["rows"]],
                    "churn rate": [percent(v) for v in bands["churn_rate"]],
                }, index=bands["band"])
                parts += ["", f"Churn within {self.split['horizon']} month(s) by band:",
                          text_table(shown)]
        parts += [*self.notes]
        return "\n".join(parts)

    def plot(self, ax: Axes | None = None) -> Axes:
        """ROC curves of the configured and the fitted score on the test months.

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = axes(ax)
        for name, curve in self.roc.items():
            auc = self.metrics.loc[name, "auc"]
            ax.plot(curve["fpr"], curve["tpr"], label=f"{name} (AUC {auc:.2f})")
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=0.8, label="chance")
        ax.set_xlabel("share of retained account-months flagged")
        ax.set_ylabel("share of churned account-months flagged")
        ax.legend()
        return ax


def _roc(risk: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    order = np.argsort(-risk, kind="stable")
    ys = y[order]
    tpr = np.r_[0.0, np.cumsum(ys) / max(ys.sum(), 1)]
    fpr = np.r_[0.0, np.cumsum(1 - ys) / max((1 - ys).sum(), 1)]
    return pd.DataFrame({"fpr": fpr, "tpr": tpr})


def _lead_times(flags: pd.DataFrame, churners: pd.DataFrame) -> tuple[float, float]:
    """Share of churners red in their last paid month; median months red before churn."""
    if churners.empty:
        return math.nan, math.nan
    red = flags.set_index(["account_id", "month"])["red"]
    leads = []
    for acc, last in zip(churners["account_id"], churners["month"], strict=True):
        streak = 0
        month = last
        while red.get((acc, month), False):
            streak += 1
            month = month - pd.DateOffset(months=1)
        leads.append(streak)
    arr = np.asarray(leads, dtype=float)
    flagged = arr[arr > 0]
    return float((arr > 0).mean()), float(np.median(flagged)) if len(flagged) else math.nan


def _empty(verdict: str, split: dict[str, Any], notes: list[str],
           weights: pd.DataFrame | None = None) -> HealthValidation:
    return HealthValidation(verdict, weights if weights is not None else pd.DataFrame(),
                            pd.DataFrame(), {}, {}, split, tuple(notes))


def validate_health_score(
    dataset: Dataset,
    *,
    horizon: int = 3,
    config: HealthConfig | str | None = None,
    test_months: int | None = None,
    alpha: float = 0.05,
    min_events: int = 10,
) -> HealthValidation:
    """Validate the configured health score against churn, out of sample.

    See the module docstring for the method.

    Parameters
    ----------
    dataset : Dataset
        Needs ``mrr``; ``usage``, ``tickets``, ``surveys`` for the components.
    horizon : int, default 3
        Churn within this many months after the scored month.
    config : HealthConfig or path, optional
        The health-score configuration (default: the packaged one).
    test_months : int, optional
        Labelled months held out (default: 12 when there are at least 24, else a third).
    alpha : float, default 0.05
    min_events : int, default 10
        Churn events needed in each of the training and the test part; with fewer,
        the report says so instead of computing unstable figures.

    Returns
    -------
    HealthValidation
    """
    from cs_sim.kpis.health import health_score
    from cs_sim.models.drivers import churn_labels, fit_logit, resolve_health_config

    z = z_value(alpha)
    cfg = resolve_health_config(config)
    names = [c.name for c in cfg.components]
    labels = churn_labels(dataset.mrr, horizon=horizon)
    health = health_score(dataset.usage, dataset.mrr, tickets=dataset.tickets,
                          surveys=dataset.surveys, config=cfg)
    data = labels.merge(health, on=["account_id", "month"], how="inner")
    months = pd.DatetimeIndex(sorted(data["month"].unique()))
    notes: list[str] = []
    split: dict[str, Any] = {"horizon": horizon, "labelled_months": len(months)}
    if len(months) < horizon + 2:
        return _empty(f"Not enough history to validate the health score: {len(months)} "
                      f"month(s) with a known {horizon}-month outcome; at least "
                      f"{horizon + 2} are needed (a training part and a test part).", split,
                      notes)
    n_test = test_months if test_months is not None else (12 if len(months) >= 24
                                                          else max(len(months) // 3, 1))
    if not isinstance(n_test, int) or not 1 <= n_test < len(months) - horizon:
        raise ModelInputError(f"validate_health_score: test_months must be from 1 to "
                              f"{len(months) - horizon - 1} for this dataset, got {n_test!r}")
    test_start = months[-n_test]
    train_end = test_start - pd.DateOffset(months=horizon)
    train = data[data["month"] <= train_end]
    test = data[(data["month"] >= test_start) & data["score"].notna()]
    split.update({
        "train_months": [to_jsonable(months[0]), to_jsonable(train_end)],
        "test_months": [to_jsonable(test_start), to_jsonable(months[-1])],
        "train_rows": len(train), "train_events": int(train["churn"].sum()),
        "test_rows": len(test), "test_events": int(test["churn"].sum()),
    })
    period = f"{horizon} month" + ("s" if horizon != 1 else "")
    if split["test_events"] < min_events or split["train_events"] < min_events:
        return _empty(
            f"Not enough churn to validate the health score: {split['train_events']} churn "
            f"event(s) within {period} in the training months and {split['test_events']} in "
            f"the test months ({split['test_months'][0]} to {split['test_months'][1]}); at "
            f"least {min_events} in each are needed. Nothing can be said yet about whether "
            "the score predicts churn.", split, notes)

    # --- fitted weights (training months) ------------------------------------------------
    cols = [f"{n}_score" for n in names]
    fill = (train[cols] / 100.0).mean()
    usable = [c for c, v in zip(cols, fill, strict=True) if np.isfinite(v)
              and train[c].std(ddof=0) > 0]
    for c in cols:
        if c not in usable:
            notes.append(f"Component {c[:-6]} has no values (or no variation) in the training "
                         "months and is left out of the fitted weights.")
    if not usable:
        return _empty("No component of the health score has values in the training months, "
                      "so its weights cannot be checked against churn.", split, notes)
    frame = (train[usable] / 100.0).fillna(fill[usable])
    frame["churn"] = train["churn"].to_numpy()
    try:
        res = fit_logit("churn ~ " + " + ".join(usable), frame,
                        pd.factorize(train["account_id"])[0], where="validate_health_score")
    except ModelInputError as exc:
        return _empty(f"The weights of the health score could not be fitted from the training "
                      f"months ({exc}); with this little churn nothing can be said yet about "
                      "whether the score predicts it.", split, notes)
    coef = res.params.reindex(cols)
    total_cfg = sum(c.weight for c in cfg.components)
    neg = np.clip(-coef.fillna(0.0).to_numpy(), 0, None)
    fitted_w = neg / neg.sum() if neg.sum() > 0 else np.zeros(len(cols))
    weights = pd.DataFrame({
        "metric": [c.metric for c in cfg.components],
        "configured_weight": [c.weight / total_cfg for c in cfg.components],
        "coef": coef.to_numpy(),
        "std_err": res.bse.reindex(cols).to_numpy(),
        "p_value": res.pvalues.reindex(cols).to_numpy(),
        "fitted_weight": fitted_w,
    }, index=pd.Index(names, name="component"))
    weights["configured_rank"] = weights["configured_weight"].rank(ascending=False,
                                                                   method="min").astype(int)
    weights["fitted_rank"] = (-weights["coef"].fillna(np.inf)).rank(ascending=False,
                                                                    method="min").astype(int)
    weights["direction"] = np.where(weights["coef"].isna(), "not fitted",
                                    np.where(weights["coef"] < 0, "as expected", "wrong way"))

    # --- out of sample ------------------------------------------------------------------
    y = test["churn"].to_numpy(dtype=int)
    x_test = (test[usable] / 100.0).fillna(fill[usable])
    p_fit = np.asarray(res.predict(x_test), dtype=float)
    risk_cfg = -test["score"].to_numpy(dtype=float)
    auc, cov = auc_delong(y, risk_cfg, p_fit)
    se = np.sqrt(np.diag(cov))
    diff = float(auc[1] - auc[0])
    se_diff = float(math.sqrt(max(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1], 0.0)))
    p_diff = float(2 * stats.norm.sf(abs(diff) / se_diff)) if se_diff > 0 else math.nan
    p_auc = [float(stats.norm.sf((a - 0.5) / s)) if s > 0 else math.nan
             for a, s in zip(auc, se, strict=True)]

    # red flags: configured band; fitted: same share of red as configured in training
    red_name = cfg.bands[0].name
    red_share_train = float((train["band"] == red_name).mean())
    p_train = np.asarray(res.predict(frame[usable]), dtype=float)
    threshold = float(np.quantile(p_train, 1 - red_share_train)) if red_share_train > 0 \
        else math.inf
    everything = data[data["score"].notna()]
    x_all = (everything[usable] / 100.0).fillna(fill[usable])
    flags_cfg = pd.DataFrame({"account_id": everything["account_id"],
                              "month": everything["month"],
                              "red": (everything["band"] == red_name).to_numpy()})
    flags_fit = flags_cfg.assign(red=np.asarray(res.predict(x_all)) >= threshold)
    one = churn_labels(dataset.mrr, horizon=1)
    churners = one[(one["churn"] == 1) & (one["month"] >= test_start)]
    lead_cfg = _lead_times(flags_cfg, churners)
    lead_fit = _lead_times(flags_fit, churners)
    metrics = pd.DataFrame({
        "auc": auc, "auc_lower": auc - z * se, "auc_upper": auc + z * se,
        "auc_p_value": p_auc,
        "top_decile_lift": [_lift(risk_cfg, y), _lift(p_fit, y)],
        "red_share": [float((test["band"] == red_name).mean()),
                      float((p_fit >= threshold).mean())],
        "churners": [len(churners)] * 2,
        "red_before_churn": [lead_cfg[0], lead_fit[0]],
        "median_lead_months": [lead_cfg[1], lead_fit[1]],
    }, index=pd.Index(["configured", "fitted"], name="score"))
    bands = (test.groupby("band", sort=False)["churn"].agg(rows="size", churned="sum")
             .reindex([b.name for b in cfg.bands]).fillna(0).reset_index())
    bands["churn_rate"] = np.where(bands["rows"] > 0, bands["churned"] / bands["rows"].clip(1),
                                   np.nan)
    dec = pd.qcut(pd.Series(p_fit).rank(method="first"), 10, labels=False) + 1
    deciles = (pd.DataFrame({"decile": dec, "predicted": p_fit, "observed": y})
               .groupby("decile").agg(rows=("observed", "size"), predicted=("predicted", "mean"),
                                      observed=("observed", "mean")).reset_index())
    comparison = {"auc_difference": diff, "lower": diff - z * se_diff,
                  "upper": diff + z * se_diff, "p_value": p_diff}
    verdict = _verdict(metrics, weights, comparison, split, period, alpha)
    return HealthValidation(verdict, weights, metrics, {"bands": bands, "deciles": deciles},
                            comparison, split, tuple(notes),
                            {"configured": _roc(risk_cfg, y), "fitted": _roc(p_fit, y)})


def _verdict(metrics: pd.DataFrame, weights: pd.DataFrame, comparison: dict[str, float],
             split: dict[str, Any], period: str, alpha: float) -> str:
    cfg = metrics.loc["configured"]
    fit = metrics.loc["fitted"]
    auc_txt = (f"AUC {cfg['auc']:.2f} (95% CI {cfg['auc_lower']:.2f} to "
               f"{cfg['auc_upper']:.2f}; 0.5 is a coin flip)")
    where = (f"on the test months {split['test_months'][0]} to {split['test_months'][1]} "
             f"({fmt(split['test_events'], 'count')} churn events)")
    if not cfg["auc_p_value"] < alpha:
        first = (f"The configured health score does not predict churn within {period}: "
                 f"{where} its {auc_txt} is no better than chance.")
    elif cfg["auc"] < 0.6:
        first = (f"The configured health score predicts churn within {period} only weakly: "
                 f"{where} its {auc_txt}; the tenth of account-months it rates riskiest churn "
                 f"{fmt(cfg['top_decile_lift'], 'ratio')} times as often as average.")
    else:
        first = (f"The configured health score predicts churn within {period}: {where} its "
                 f"{auc_txt}.")
    ranked = weights.sort_values("fitted_rank")
    order = " > ".join(ranked.index[ranked["fitted_weight"].to_numpy() > 0])
    wrong = list(weights.index[weights["direction"] == "wrong way"])
    second = (f"Weights fitted on the training months ({order or 'no component helps'}) reach "
              f"AUC {fit['auc']:.2f} out of sample")
    d, p = comparison["auc_difference"], comparison["p_value"]
    if d > 0 and p < alpha:
        second += f", better than the configured weights (+{d:.2f}, {p_text(p)})."
    elif d < 0 and p < alpha:
        second += f", worse than the configured weights ({d:.2f}, {p_text(p)})."
    else:
        second += f", not distinguishable from the configured weights ({d:+.2f}, {p_text(p)})."
    if wrong:
        second += (" Higher " + " and ".join(wrong) + " scores went with more churn, not less "
                   f"(the wrong way round; {'it adds' if len(wrong) == 1 else 'they add'} "
                   "nothing here).")
    red = cfg["red_before_churn"]
    if np.isfinite(red):
        third = (f"Lead time: the score was red in the last paid month of "
                 f"{percent(red)} of the {fmt(cfg['churners'], 'count')} accounts that churned "
                 "in the test months")
        lead = cfg["median_lead_months"]
        third += (f", red for a median of {fmt(lead, 'months')} before they left."
                  if np.isfinite(lead) else "; it gave no warning before they left.")
        return f"{first} {second} {third}"
    return f"{first} {second}"
