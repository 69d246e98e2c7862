"""Customer-success KPIs as pure functions over the canonical tables.

Every function takes pandas DataFrames with the canonical column names (see
``cs_sim.io``), never modifies them, and returns tidy DataFrames (one row per
(``by``, period)) or small frozen result objects. Analyse by segment by joining an
account attribute first::

    from cs_sim.kpis import attach, mrr_bridge
    bridge = mrr_bridge(attach(ds.mrr, ds.accounts, "plan"), by="plan")

Modules: :mod:`~cs_sim.kpis.revenue` (MRR, bridge, NRR/GRR, churn),
:mod:`~cs_sim.kpis.cohorts` (cohort tables, by signup month when known),
:mod:`~cs_sim.kpis.conventions` (the definitions that differ between metric providers:
``cs_sim``, ``chartmogul``, ``baremetrics``),
:mod:`~cs_sim.kpis.value` (ARPA, CLV, CRC, renewals, retention-to-profit),
:mod:`~cs_sim.kpis.voice` (NPS, CSAT, CES, FCR, AHT, feedback themes),
:mod:`~cs_sim.kpis.engagement` (active users, usage rate, seats, time, trials),
:mod:`~cs_sim.kpis.health` (composite health score),
:mod:`~cs_sim.kpis.formulas` (GRR, NRR, logo churn, CLV and NPS over plain numbers and
arrays: the one definition the table KPIs and the simulator share),
:mod:`~cs_sim.kpis.registry` (the headline KPIs of a baseline; :func:`register_kpi`
adds one).

Bad input raises :class:`KpiInputError`; a bad configuration file raises
:class:`KpiConfigError`; both are :class:`cs_sim.errors.CsSimError` and ``ValueError``.
"""

from __future__ import annotations

from cs_sim.kpis import conventions, formulas
from cs_sim.kpis._util import KpiConfigError, KpiInputError, attach
from cs_sim.kpis.cohorts import cohort_retention
from cs_sim.kpis.engagement import (
    active_users,
    product_usage_rate,
    seat_utilisation,
    time_on_platform,
    trial_conversion,
)
from cs_sim.kpis.health import (
    HealthConfig,
    health_band_churn,
    health_band_shares,
    health_config_from_dict,
    health_score,
    load_health_config,
)
from cs_sim.kpis.registry import (
    Kpi,
    KpiWindow,
    NotAvailable,
    register_kpi,
    registered_kpis,
    unregister_kpi,
)
from cs_sim.kpis.revenue import (
    mrr_bridge,
    mrr_by_month,
    quick_ratio,
    retention_by_month,
    revenue_retention,
    scale_churn_rate,
)
from cs_sim.kpis.value import (
    RetentionProfit,
    arpa,
    clv_by_convention,
    clv_discounted,
    clv_purchase,
    clv_simple,
    customer_retention_cost,
    renewal_rate,
    retention_profit,
)
from cs_sim.kpis.voice import (
    NpsResult,
    average_handle_time,
    ces,
    code_feedback,
    csat,
    feedback_themes,
    first_contact_resolution,
    load_feedback_taxonomy,
    nps,
    voice_by_period,
)

__all__ = [
    "HealthConfig",
    "Kpi",
    "KpiConfigError",
    "KpiInputError",
    "KpiWindow",
    "NotAvailable",
    "NpsResult",
    "RetentionProfit",
    "active_users",
    "arpa",
    "attach",
    "average_handle_time",
    "ces",
    "clv_by_convention",
    "clv_discounted",
    "clv_purchase",
    "clv_simple",
    "code_feedback",
    "cohort_retention",
    "conventions",
    "csat",
    "customer_retention_cost",
    "feedback_themes",
    "first_contact_resolution",
    "formulas",
    "health_band_churn",
    "health_band_shares",
    "health_config_from_dict",
    "health_score",
    "load_feedback_taxonomy",
    "load_health_config",
    "mrr_bridge",
    "mrr_by_month",
    "nps",
    "product_usage_rate",
    "quick_ratio",
    "register_kpi",
    "registered_kpis",
    "renewal_rate",
    "retention_by_month",
    "retention_profit",
    "revenue_retention",
    "scale_churn_rate",
    "seat_utilisation",
    "time_on_platform",
    "trial_conversion",
    "unregister_kpi",
    "voice_by_period",
]
