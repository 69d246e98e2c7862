"""The raw arrays of an engine run (:class:`RawRun`), before results shape them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cs_sim.sim.population import Layout

__all__ = ["RawRun"]


@dataclass
class RawRun:
    """Raw arrays of a run (replication rows in ``reps`` order); see results.py.

    Months are those of the reported horizon (``H``); the warm-up is not reported.

    Attributes
    ----------
    reps : tuple of int
        Replication indices, one per row.
    seed : int
    tier_names, play_names, segment_names : list of str
        Orders of the ``T`` tiers, ``P`` plays (onboarding first) and ``S`` segments.
    monthly : dict of str to ndarray
        ``(R, H)`` each: accounts_start, new_logos, churned_voluntary,
        churned_involuntary, accounts_end, the MRR bridge (mrr_start, new_mrr,
        expansion_mrr, contraction_mrr, churned_mrr, mrr_end; ``mrr_end = mrr_start +
        new_mrr + expansion_mrr - contraction_mrr - churned_mrr``), csm_cost, play_cost,
        programme_cost, members, nps_responses, nps_promoters, nps_detractors,
        failed_tickets, mean_health, capped_acquisition. The logo and MRR figures and
        play_cost are the sums of ``segments`` over segments.
    tiers : dict of str to ndarray
        ``(R, H, T)`` each. The CSM team: capacity_hours (``FTE(m) x hours_per_month``),
        hours_used, delivered (CSM deliveries of the team), dropped, queued, wait_sum
        (months waited by the deliveries); accounts and mrr alive at the month's end;
        and the books by the account's tier at each event: accounts_start, new_logos,
        churned, accounts_end, mrr_start, new_mrr, expansion_mrr, contraction_mrr,
        churned_mrr, mrr_end, play_cost (deliveries' cost, automated ones included).
        A tier's accounts_start and mrr_start are counted after the month's re-tiering
        at 12-month anniversaries, so they may differ from its previous month's end;
        the bridge holds within every month.
    plays : dict of str to ndarray
        ``(R, H, P)`` each: requested, delivered (CSM and automated), dropped, cost,
        hours, and eligible: accounts alive in the month (after its new logos) in the
        play's tiers and segments, 0 before its ``start_month`` (a play that cannot act
        shows 0).
    segments : dict of str to ndarray
        ``(R, H, S)`` each, by the account's segment: accounts_start, new_logos,
        churned, accounts_end, mrr_start, new_mrr, expansion_mrr, contraction_mrr,
        churned_mrr, mrr_end, play_cost, and hours_used (CSM hours), delivered (every
        delivery, automated ones included), dropped (CSM requests dropped).
    cohort : dict of str to ndarray
        ``(R,)`` each, the starting customers (alive when the horizon starts):
        cohort_mrr_start, cohort_mrr_end, cohort_mrr_kept (``Σ min(end, start)``, for
        GRR), cohort_accounts_start, cohort_accounts_end.
    cohort_segments, cohort_tiers : dict of str to ndarray
        The same keys, ``(R, S)`` by segment and ``(R, T)`` by the tier each starting
        customer had when the horizon started.
    record : dict, optional
        The recorded replication's per-account history (:class:`~cs_sim.sim.record.Recorder`).
    layout : Layout, optional
        The run's slot layout.
    warmup_months : int
        Months of warm-up run before the horizon.
    """

    reps: tuple[int, ...]
    seed: int
    tier_names: list[str]
    play_names: list[str]
    monthly: dict[str, np.ndarray]
    tiers: dict[str, np.ndarray]
    plays: dict[str, np.ndarray]
    cohort: dict[str, np.ndarray]
    record: dict[str, Any] | None = None
    layout: Layout | None = None
    segment_names: list[str] = field(default_factory=list)
    segments: dict[str, np.ndarray] = field(default_factory=dict)
    cohort_segments: dict[str, np.ndarray] = field(default_factory=dict)
    cohort_tiers: dict[str, np.ndarray] = field(default_factory=dict)
    warmup_months: int = 0
