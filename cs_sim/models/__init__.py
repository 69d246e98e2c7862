"""Statistical models of a company's customers, all fitted with statsmodels (and scipy).

Every fitted object has one shape: ``params`` (a pandas Series named by the model's
parameters), ``bse`` (standard errors), ``conf_int()``, ``summary()`` (a DataFrame) and
its own ``predict``/``plot`` helpers (plots take ``ax=None`` and return the Axes).

- **Survival** (:mod:`~cs_sim.models.survival`): :func:`account_lifetimes` of a
  dataset (:mod:`~cs_sim.models.lifetimes`), :func:`kaplan_meier` curves by segment
  or cohort (medians with intervals, log-rank test), :func:`cox` proportional hazards
  (Efron ties), and :func:`compare_proportions` for churn rates of segments.
- **Churn drivers** (:mod:`~cs_sim.models.drivers`): the account-month
  :func:`churn_panel` and :func:`churn_drivers`, a logistic model whose effects read
  as the change in churn probability for a one-standard-deviation change.
- **Contractual CLV** (:mod:`~cs_sim.models.clv`): the shifted-beta-geometric model,
  :func:`fit_sbg` (cohort counts) and :func:`fit_sbg_lifetimes` (account lives), and
  :func:`clv_by_segment` with intervals.
- **Non-contractual CLV** (:mod:`~cs_sim.models.purchases`): :func:`fit_bgnbd`,
  :func:`fit_gamma_gamma`, :func:`summarise_transactions`, :func:`purchase_clv`.
- **Health-score validation** (:mod:`~cs_sim.models.health`):
  :func:`validate_health_score`, out of sample, in plain words.
- **Forecasts** (:mod:`~cs_sim.models.forecast`): :func:`forecast_mrr`,
  :func:`forecast_logos` (12 months, intervals, by segment) and
  :func:`forecast_renewals` of the annual contracts coming due.

Bad input raises :class:`cs_sim.errors.ModelInputError`. Names load lazily: importing
this package does not import statsmodels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cs_sim._lazy import lazy_exports

_LAZY = {
    "account_lifetimes": "cs_sim.models.lifetimes",
    "kaplan_meier": "cs_sim.models.survival",
    "cox": "cs_sim.models.survival",
    "compare_proportions": "cs_sim.models.survival",
    "KaplanMeierResult": "cs_sim.models.survival",
    "CoxResult": "cs_sim.models.survival",
    "ProportionComparison": "cs_sim.models.survival",
    "churn_labels": "cs_sim.models.drivers",
    "churn_panel": "cs_sim.models.drivers",
    "churn_drivers": "cs_sim.models.drivers",
    "ChurnDrivers": "cs_sim.models.drivers",
    "fit_sbg": "cs_sim.models.clv",
    "fit_sbg_lifetimes": "cs_sim.models.clv",
    "clv_by_segment": "cs_sim.models.clv",
    "SbgResult": "cs_sim.models.clv",
    "ClvBySegment": "cs_sim.models.clv",
    "fit_bgnbd": "cs_sim.models.purchases",
    "fit_gamma_gamma": "cs_sim.models.purchases",
    "summarise_transactions": "cs_sim.models.purchases",
    "purchase_clv": "cs_sim.models.purchases",
    "BgNbdResult": "cs_sim.models.purchases",
    "GammaGammaResult": "cs_sim.models.purchases",
    "validate_health_score": "cs_sim.models.health",
    "HealthValidation": "cs_sim.models.health",
    "forecast_mrr": "cs_sim.models.forecast",
    "forecast_logos": "cs_sim.models.forecast",
    "forecast_renewals": "cs_sim.models.forecast",
    "Forecast": "cs_sim.models.forecast",
    "RenewalForecast": "cs_sim.models.forecast",
}

__all__ = [
    "BgNbdResult",
    "ChurnDrivers",
    "ClvBySegment",
    "CoxResult",
    "Forecast",
    "GammaGammaResult",
    "HealthValidation",
    "KaplanMeierResult",
    "ProportionComparison",
    "RenewalForecast",
    "SbgResult",
    "account_lifetimes",
    "churn_drivers",
    "churn_labels",
    "churn_panel",
    "clv_by_segment",
    "compare_proportions",
    "cox",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "fit_sbg",
    "fit_sbg_lifetimes",
    "forecast_logos",
    "forecast_mrr",
    "forecast_renewals",
    "kaplan_meier",
    "purchase_clv",
    "summarise_transactions",
    "validate_health_score",
]

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.models.clv import (
        ClvBySegment,
        SbgResult,
        clv_by_segment,
        fit_sbg,
        fit_sbg_lifetimes,
    )
    from cs_sim.models.drivers import ChurnDrivers, churn_drivers, churn_labels, churn_panel
    from cs_sim.models.forecast import (
        Forecast,
        RenewalForecast,
        forecast_logos,
        forecast_mrr,
        forecast_renewals,
    )
    from cs_sim.models.health import HealthValidation, validate_health_score
    from cs_sim.models.lifetimes import account_lifetimes
    from cs_sim.models.purchases import (
        BgNbdResult,
        GammaGammaResult,
        fit_bgnbd,
        fit_gamma_gamma,
        purchase_clv,
        summarise_transactions,
    )
    from cs_sim.models.survival import (
        CoxResult,
        KaplanMeierResult,
        ProportionComparison,
        compare_proportions,
        cox,
        kaplan_meier,
    )

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
