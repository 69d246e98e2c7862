"""Segmentation, targeting and positioning (STP) of a customer base.

- :func:`segment_accounts`: the segment of every account, by an accounts column
  (``industry``, ``plan``, the dataset's own ``segment``...) or a derived segmentation
  (``size_band``, ``arr_tier``, ``lifecycle_stage``, ``usage_band``, ``behaviour``
  clusters); see :mod:`cs_sim.segmentation._segments`.
- :func:`compare_segmentations`: candidate segmentations side by side (size, variation
  in churn and NRR explained, significance, stability, cost to serve) and a
  recommendation (:class:`SegmentationTradeoffs`); see
  :mod:`cs_sim.segmentation._tradeoffs`.
- :func:`attractiveness`, :func:`service_model`: targeting (revenue, growth, risk, cost
  to serve) and positioning (high-, low- or tech-touch, coverage and CSM headcount);
  :func:`personas`: one persona card per segment; :func:`targeting` gathers the three
  into one result (:class:`Targeting`).

Every function works on a dataset with only accounts and mrr; what needs an optional
table says so in the result's ``unavailable``.
"""

from __future__ import annotations

from cs_sim.segmentation._personas import (
    Persona,
    PersonaCards,
    Targeting,
    personas,
    personas_html,
    targeting,
)
from cs_sim.segmentation._segments import (
    DERIVED,
    BehaviourModel,
    behaviour_features,
    candidate_names,
    segment_accounts,
    segmentation_label,
)
from cs_sim.segmentation._targeting import (
    ATTRACTIVENESS_WEIGHTS,
    COVERAGE,
    TIERS,
    attractiveness,
    attractiveness_parts,
    service_model,
)
from cs_sim.segmentation._tradeoffs import (
    SegmentationTradeoffs,
    compare_segmentations,
    segment_outcomes,
)

__all__ = [
    "ATTRACTIVENESS_WEIGHTS",
    "COVERAGE",
    "DERIVED",
    "TIERS",
    "BehaviourModel",
    "Persona",
    "PersonaCards",
    "SegmentationTradeoffs",
    "Targeting",
    "attractiveness",
    "attractiveness_parts",
    "behaviour_features",
    "candidate_names",
    "compare_segmentations",
    "personas",
    "personas_html",
    "segment_accounts",
    "segment_outcomes",
    "segmentation_label",
    "service_model",
    "targeting",
]
