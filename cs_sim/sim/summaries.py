"""The tidy frames of a run: monthly, by tier, by segment, by play, per replication.

:func:`chunk_from_raw` shapes a :class:`~cs_sim.sim.engine.RawRun` into a
:class:`ChunkResult`. Every frame is tidy (one row per replication and month, plus tier,
segment or play where it applies); the per-replication frames hold the horizon metrics
of :data:`METRICS` (the whole book), :data:`SEGMENT_METRICS` (each segment) and
:data:`TIER_METRICS` (each tier). Ratios (GRR, NRR, logo churn, CLV, NPS) come from
:mod:`cs_sim.kpis.formulas`, the definitions the KPI library uses on real data; money
(NPV, terminal value, cost allocation) from :mod:`cs_sim.sim.money`.

CLV is one definition, :func:`cs_sim.kpis.formulas.clv_discounted`: margin x ARPA x
``(1 + i) / (1 + i - r)`` with ``r`` the end-state monthly net revenue retention capped
at 1 (growth is not extrapolated forever) and ARPA over the same end-state months.
Two whole-book figures differ on purpose: ``clv`` (*pooled*) puts the pooled ARPA and
the pooled retention into the formula; ``clv_segments`` is the average of the segments'
CLVs weighted by their accounts at the end. CLV is convex in retention and high-ARPA
segments usually retain best, so the pooled figure (the product of averages) is lower
than the average of the segments' values (the average of products); the account-weighted
figure is the value of an average account, the pooled one is not any account's.
"""

# ruff: noqa: N806 (R, N, H, T, P, S, G: replications, slots, months, tiers, plays, segments)
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cs_sim.kpis import formulas
from cs_sim.kpis.formulas import ratio
from cs_sim.sim import money
from cs_sim.sim.record import History

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.sim.engine import RawRun
    from cs_sim.sim.scenario import Scenario

__all__ = [
    "METRICS",
    "ROI",
    "SECTIONS",
    "SEGMENT_METRICS",
    "TIER_METRICS",
    "ChunkResult",
    "chunk_from_raw",
    "paired_differences",
    "summarise",
]

#: per-replication metrics of the whole book (``per_replication``, ``summary()`` and
#: :func:`cs_sim.compare`): name -> (label, unit of :mod:`cs_sim.format`)
METRICS: dict[str, tuple[str, str]] = {
    "revenue": ("Revenue (horizon)", "money"),
    "gross_profit": ("Gross profit (horizon)", "money"),
    "csm_cost": ("CSM cost (horizon)", "money"),
    "play_cost": ("Play cost (horizon)", "money"),
    "programme_cost": ("Programmes, other cost (horizon)", "money"),
    "total_cost": ("CS cost (horizon)", "money"),
    "profit": ("Profit: gross profit - CS cost", "money"),
    "npv_horizon": ("NPV of profit (horizon)", "money"),
    "terminal_value": ("Terminal value (after horizon)", "money"),
    "npv": ("NPV with terminal value", "money"),
    "mrr_end": ("MRR at the end", "money"),
    "arpa": ("ARPA (per month, end state)", "money"),
    "clv": ("CLV, pooled", "money"),
    "clv_segments": ("CLV, segments weighted", "money"),
    "grr": ("GRR (starting customers, horizon)", "pct"),
    "nrr": ("NRR (starting customers, horizon)", "pct"),
    "grr_annualised": ("GRR, annualised", "pct"),
    "nrr_annualised": ("NRR, annualised", "pct"),
    "monthly_logo_churn": ("Monthly logo churn", "pct"),
    "annual_logo_churn": ("Annual logo churn", "pct"),
    "accounts_end": ("Accounts at the end", "count"),
    "new_logos": ("New logos (horizon)", "count"),
    "logos_churned": ("Logos churned (horizon)", "count"),
    "churned_voluntary": ("Voluntary churns (horizon)", "count"),
    "churned_involuntary": ("Involuntary churns (horizon)", "count"),
    "nps": ("NPS", "score"),
    "csm_utilisation": ("CSM utilisation", "pct"),
    "mean_wait_months": ("Wait for a CSM (mean)", "months"),
    "plays_delivered": ("Plays delivered (horizon)", "count"),
    "plays_dropped": ("Plays dropped (horizon)", "count"),
}
#: the comparison's extra row: (label, unit)
ROI = ("ROI of the change", "ratio")
#: display sections of :data:`METRICS`: title -> metrics (every metric in one section)
SECTIONS: dict[str, tuple[str, ...]] = {
    "Money": ("revenue", "gross_profit", "csm_cost", "play_cost", "programme_cost",
              "total_cost", "profit", "npv_horizon", "terminal_value", "npv", "mrr_end",
              "arpa", "clv", "clv_segments"),
    "Retention": ("grr", "nrr", "grr_annualised", "nrr_annualised", "monthly_logo_churn",
                  "annual_logo_churn"),
    "Customers": ("accounts_end", "new_logos", "logos_churned", "churned_voluntary",
                  "churned_involuntary", "nps"),
    "Team and plays": ("csm_utilisation", "mean_wait_months", "plays_delivered",
                       "plays_dropped"),
}

_GROUP_COMMON: dict[str, tuple[str, str]] = {
    "accounts_end": ("Accounts at the end", "count"),
    "new_logos": ("New logos (horizon)", "count"),
    "logos_churned": ("Logos churned (horizon)", "count"),
    "monthly_logo_churn": ("Monthly logo churn", "pct"),
    "annual_logo_churn": ("Annual logo churn", "pct"),
    "grr": ("GRR (starting customers, horizon)", "pct"),
    "nrr": ("NRR (starting customers, horizon)", "pct"),
    "grr_annualised": ("GRR, annualised", "pct"),
    "nrr_annualised": ("NRR, annualised", "pct"),
    "net_retention": ("Net retention a month (end state)", "pct"),
    "mrr_end": ("MRR at the end", "money"),
    "revenue": ("Revenue (horizon)", "money"),
    "arpa": ("ARPA (per month, end state)", "money"),
    "clv": ("CLV (discounted, with expansion)", "money"),
    "play_cost": ("Play cost (horizon)", "money"),
    "cs_cost": ("CS cost, allocated (horizon)", "money"),
    "profit": ("Profit (horizon)", "money"),
    "terminal_value": ("Terminal value (after horizon)", "money"),
    "plays_delivered": ("Plays delivered (horizon)", "count"),
    "plays_dropped": ("Plays dropped (horizon)", "count"),
    "csm_hours": ("CSM hours used (horizon)", "number"),
}
#: per-replication metrics of each segment (``per_segment``, ``to_frame(by="segment")``)
SEGMENT_METRICS: dict[str, tuple[str, str]] = dict(_GROUP_COMMON)
#: per-replication metrics of each tier (``per_tier``, ``to_frame(by="tier")``)
TIER_METRICS: dict[str, tuple[str, str]] = {
    **_GROUP_COMMON,
    "plays_delivered": ("CSM plays delivered (horizon)", "count"),
    "headcount": ("CSMs", "count"),
    "accounts_per_csm": ("Accounts per CSM", "number"),
    "csm_cost": ("CSM cost (horizon)", "money"),
    "csm_utilisation": ("CSM utilisation", "pct"),
    "mean_wait_months": ("Wait for a CSM (mean)", "months"),
    "queued_end": ("Plays waiting at the end", "count"),
}

_BRIDGE = ("accounts_start", "new_logos", "churned", "accounts_end", "mrr_start", "new_mrr",
           "expansion_mrr", "contraction_mrr", "churned_mrr", "mrr_end", "play_cost")


@dataclass(frozen=True)
class ChunkResult:
    """Frames of some replications (what :func:`cs_sim.sim.run_chunk` returns).

    Concatenating the chunks of all replications (in replication order) gives exactly
    the frames of a single local run: see :func:`cs_sim.sim.results.combine_chunks`.
    """

    replications: tuple[int, ...]
    monthly: pd.DataFrame
    tiers: pd.DataFrame
    plays: pd.DataFrame
    per_replication: pd.DataFrame
    history: History | None = None
    segments: pd.DataFrame | None = None
    per_segment: pd.DataFrame | None = None
    per_tier: pd.DataFrame | None = None


def _month_labels(scenario: Scenario, horizon: int) -> pd.DatetimeIndex | None:
    if scenario.start_month is None:
        return None
    start = pd.Timestamp(scenario.start_month[:7] + "-01")
    return pd.date_range(start, periods=horizon, freq="MS")


# ------------------------------------------------------------------ costs
def _team_plans(scenario: Scenario, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """``(H, T)`` headcount and CSM team cost of each tier (planned changes included)."""
    from cs_sim.sim.capacity import team_plan

    head = np.stack([team_plan(t.team, range(horizon))[0] for t in scenario.tiers], axis=1)
    cost = head * np.array([t.team.cost_per_month for t in scenario.tiers], dtype=float)
    return head, cost


def _tier_team_cost(raw: RawRun, planned: np.ndarray) -> np.ndarray:
    """``(R, H, T)`` CSM team cost of each tier, summing to the month's CSM cost.

    The engine's ``csm_cost`` by tier where it reports one, else the month's CSM cost
    shared in proportion to each tier's planned cost (headcount x cost per CSM).
    """
    if "csm_cost" in raw.tiers:
        return np.asarray(raw.tiers["csm_cost"], dtype=float)
    R, (H, T) = raw.monthly["csm_cost"].shape[0], planned.shape
    w = np.broadcast_to(planned, (R, H, T))
    return money.allocate(raw.monthly["csm_cost"], w, np.ones((R, H, T)))


# ------------------------------------------------------------------ per group metrics
def _group_metrics(
    a: dict[str, np.ndarray], cohort: dict[str, np.ndarray], cost: np.ndarray,
    scenario: Scenario,
) -> dict[str, np.ndarray]:
    """Horizon metrics of each group: ``(R, G)`` arrays named as :data:`_GROUP_COMMON`."""
    H = a["mrr_end"].shape[1]
    gm = scenario.gross_margin
    i = float(formulas.monthly_rate(scenario.money.discount_rate))
    w = money.end_state_slice(H)
    out: dict[str, np.ndarray] = {}
    out["accounts_end"] = a["accounts_end"][:, -1]
    out["new_logos"] = a["new_logos"].sum(axis=1)
    churned = a["churned"].sum(axis=1)
    out["logos_churned"] = churned
    mlc = np.asarray(formulas.logo_churn(churned, a["accounts_start"].sum(axis=1)))
    out["monthly_logo_churn"] = mlc
    out["annual_logo_churn"] = 1.0 - (1.0 - mlc) ** 12
    out["grr"] = np.asarray(formulas.grr(cohort["cohort_mrr_start"], cohort["cohort_mrr_kept"]))
    out["nrr"] = np.asarray(formulas.nrr(cohort["cohort_mrr_start"], cohort["cohort_mrr_end"]))
    out["grr_annualised"] = out["grr"] ** (12.0 / H)
    out["nrr_annualised"] = out["nrr"] ** (12.0 / H)
    r = money.end_state_retention(a["mrr_start"], a["mrr_end"], a["new_mrr"])
    out["net_retention"] = r
    out["mrr_end"] = a["mrr_end"][:, -1]
    out["revenue"] = a["mrr_end"].sum(axis=1)
    arpa = np.asarray(ratio(a["mrr_end"][:, w].sum(axis=1), a["accounts_end"][:, w].sum(axis=1)))
    out["arpa"] = arpa
    out["clv"] = money.customer_value(arpa, gm, r, i)
    out["play_cost"] = a["play_cost"].sum(axis=1)
    out["cs_cost"] = cost.sum(axis=1)
    out["profit"] = gm * out["revenue"] - out["cs_cost"]
    if scenario.money.terminal_value:
        last = gm * a["mrr_end"][:, -1] - cost[:, w].mean(axis=1)
        years = scenario.money.terminal_years
        out["terminal_value"] = money.terminal_value(
            last, r, i, H, months=None if years is None else 12 * years
        )
    else:
        out["terminal_value"] = np.full_like(out["revenue"], np.nan)
    out["plays_delivered"] = a["delivered"].sum(axis=1)
    out["plays_dropped"] = a["dropped"].sum(axis=1)
    out["csm_hours"] = a["hours_used"].sum(axis=1)
    return out


def _group_frame(
    reps: np.ndarray, key: str, names: Sequence[str], metrics: dict[str, np.ndarray],
    columns: Sequence[str],
) -> pd.DataFrame:
    """One row per replication and group from ``(R, G)`` arrays."""
    R, G = len(reps), len(names)
    cols: dict[str, Any] = {
        "replication": np.repeat(reps, G),
        key: pd.array(np.tile(np.array(names, dtype=object), R), dtype="str"),
    }
    for c in columns:
        cols[c] = np.asarray(metrics[c], dtype=float).reshape(-1)
    return pd.DataFrame(cols)


def _monthly_group_frame(
    reps: np.ndarray, key: str, names: Sequence[str], arrays: dict[str, np.ndarray],
    dates: pd.DatetimeIndex | None, *, integers: Sequence[str] = (),
) -> pd.DataFrame:
    """One row per replication, month and group from ``(R, H, G)`` arrays."""
    R, H, G = next(iter(arrays.values())).shape
    cols: dict[str, Any] = {
        "replication": np.repeat(reps, H * G),
        "month": np.tile(np.repeat(np.arange(H), G), R),
    }
    if dates is not None:
        cols["date"] = np.tile(np.repeat(dates.to_numpy(), G), R)
    cols[key] = pd.array(np.tile(np.array(names, dtype=object), R * H), dtype="str")
    for k, v in arrays.items():
        flat = np.asarray(v, dtype=float).reshape(-1)
        cols[k] = flat.astype(np.int64) if k in integers else flat
    return pd.DataFrame(cols)


# ------------------------------------------------------------------ the chunk
def chunk_from_raw(raw: RawRun, scenario: Scenario) -> ChunkResult:
    """Build the tidy frames of a :class:`~cs_sim.sim.engine.RawRun`."""
    reps = np.asarray(raw.reps, dtype=np.int64)
    R, H = raw.monthly["mrr_end"].shape
    T = len(raw.tier_names)
    gm = scenario.gross_margin
    i = float(formulas.monthly_rate(scenario.money.discount_rate))
    dates = _month_labels(scenario, H)
    # monthly ------------------------------------------------------------------
    m = {k: v.reshape(-1) for k, v in raw.monthly.items()}
    cols: dict[str, Any] = {"replication": np.repeat(reps, H), "month": np.tile(np.arange(H), R)}
    if dates is not None:
        cols["date"] = np.tile(dates.to_numpy(), R)
    for k in ("accounts_start", "new_logos", "churned_voluntary", "churned_involuntary",
              "accounts_end", "members", "nps_responses", "failed_tickets"):
        cols[k] = m[k].astype(np.int64)
    churned = m["churned_voluntary"] + m["churned_involuntary"]
    cols["churned"] = churned.astype(np.int64)
    for k in ("mrr_start", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr",
              "mrr_end"):
        cols[k] = m[k]
    # the month's bridge: retained = start - churned - contraction, kept by the
    # month's starting customers = retained + expansion
    start = m["mrr_start"]
    cols["grr"] = formulas.grr(start, start - m["churned_mrr"] - m["contraction_mrr"])
    nrr = formulas.nrr(start, start + m["expansion_mrr"] - m["contraction_mrr"]
                       - m["churned_mrr"])
    cols["nrr"] = nrr
    cols["logo_churn_rate"] = formulas.logo_churn(churned, m["accounts_start"])
    arpa = ratio(m["mrr_end"], m["accounts_end"])
    cols["arpa"] = arpa
    cols["clv"] = money.customer_value(arpa, gm, nrr, i)
    total_cost = m["csm_cost"] + m["play_cost"] + m["programme_cost"]
    cols.update(csm_cost=m["csm_cost"], play_cost=m["play_cost"],
                programme_cost=m["programme_cost"], total_cost=total_cost,
                revenue=m["mrr_end"], gross_profit=gm * m["mrr_end"],
                profit=gm * m["mrr_end"] - total_cost)
    cols["nps"] = formulas.nps(m["nps_promoters"], m["nps_detractors"], m["nps_responses"])
    cols["mean_health"] = m["mean_health"]
    cols["acquisition_capped"] = m["capped_acquisition"] > 0
    monthly = pd.DataFrame(cols)
    # segments and tiers: arrays, costs --------------------------------------------
    seg_names, seg_cohort, tier_cohort = list(raw.segment_names), raw.cohort_segments, \
        raw.cohort_tiers
    sa, ta = dict(raw.segments), dict(raw.tiers)
    S = len(seg_names)
    programme = raw.monthly["programme_cost"]
    plan_head, plan_cost = _team_plans(scenario, H)
    tier_team = _tier_team_cost(raw, plan_cost)
    seg_team = money.allocate(raw.monthly["csm_cost"], sa["hours_used"], sa["accounts_end"])
    ta["csm_cost"] = tier_team
    ta["cs_cost"] = (tier_team + ta["play_cost"]
                     + money.allocate(programme, ta["accounts"], np.ones((R, H, T))))
    sa["csm_cost"] = seg_team
    sa["cs_cost"] = (seg_team + sa["play_cost"]
                     + money.allocate(programme, sa["accounts_end"], np.ones((R, H, S))))
    # tiers (monthly) ------------------------------------------------------------
    hc = np.broadcast_to(plan_head, (R, H, T))
    tier_cols = {
        "accounts": ta["accounts"], "headcount": hc,
        "coverage": ratio(ta["accounts"], hc),
        "capacity_hours": ta["capacity_hours"], "hours_used": ta["hours_used"],
        "utilisation": ratio(ta["hours_used"], ta["capacity_hours"]),
        "delivered": ta["delivered"], "dropped": ta["dropped"], "queued": ta["queued"],
        "mean_wait_months": ratio(ta["wait_sum"], ta["delivered"]),
        "wait_sum_months": ta["wait_sum"], "mrr": ta["mrr"],
        **{k: ta[k] for k in (*_BRIDGE, "csm_cost", "cs_cost") if k != "accounts"},
    }
    tiers = _monthly_group_frame(reps, "tier", raw.tier_names, tier_cols, None,
                                 integers=("accounts", "headcount", "delivered", "dropped",
                                           "queued"))
    segments = _monthly_group_frame(reps, "segment", seg_names, sa, dates)
    # plays ---------------------------------------------------------------------
    plays = _monthly_group_frame(
        reps, "play", raw.play_names,
        {k: raw.plays[k] for k in ("eligible", "requested", "delivered", "dropped", "hours",
                                   "cost") if k in raw.plays},
        None, integers=("eligible", "requested", "delivered", "dropped"),
    )
    # per replication, segment and tier -------------------------------------------
    seg_m = _group_metrics(sa, seg_cohort, sa["cs_cost"], scenario)
    tier_m = _group_metrics(ta, tier_cohort, ta["cs_cost"], scenario)
    tier_m["headcount"] = hc.mean(axis=1)
    tier_m["accounts_per_csm"] = np.asarray(ratio(ta["accounts"].mean(axis=1),
                                                  tier_m["headcount"]))
    tier_m["csm_cost"] = tier_team.sum(axis=1)
    tier_m["csm_utilisation"] = np.asarray(ratio(ta["hours_used"].sum(axis=1),
                                                 ta["capacity_hours"].sum(axis=1)))
    tier_m["mean_wait_months"] = np.asarray(ratio(ta["wait_sum"].sum(axis=1),
                                                  ta["delivered"].sum(axis=1)))
    tier_m["queued_end"] = ta["queued"][:, -1]
    per_segment = _group_frame(reps, "segment", seg_names, seg_m, list(SEGMENT_METRICS))
    per_tier = _group_frame(reps, "tier", raw.tier_names, tier_m, list(TIER_METRICS))
    per_rep = _per_replication(raw, monthly, scenario, seg_m, sa)
    history = None
    if raw.record is not None:
        history = History.from_record(raw, scenario, monthly)
    return ChunkResult(tuple(int(r) for r in reps), monthly, tiers, plays, per_rep, history,
                       segments=segments, per_segment=per_segment, per_tier=per_tier)


def _per_replication(
    raw: RawRun, monthly: pd.DataFrame, scenario: Scenario,
    seg: dict[str, np.ndarray], sa: dict[str, np.ndarray],
) -> pd.DataFrame:
    mm = raw.monthly
    R, H = mm["mrr_end"].shape
    gm = scenario.gross_margin
    i = float(formulas.monthly_rate(scenario.money.discount_rate))
    tv_on = scenario.money.terminal_value
    w = money.end_state_slice(H)
    c = raw.cohort
    o: dict[str, Any] = {"replication": np.asarray(raw.reps, dtype=np.int64)}
    churned = mm["churned_voluntary"] + mm["churned_involuntary"]
    o["revenue"] = mm["mrr_end"].sum(axis=1)
    o["gross_profit"] = o["revenue"] * gm
    for k in ("csm_cost", "play_cost", "programme_cost"):
        o[k] = mm[k].sum(axis=1)
    o["total_cost"] = o["csm_cost"] + o["play_cost"] + o["programme_cost"]
    o["profit"] = o["gross_profit"] - o["total_cost"]
    o["npv_horizon"] = money.npv(monthly["profit"].to_numpy().reshape(R, H), i)
    o["terminal_value"] = seg["terminal_value"].sum(axis=1) if tv_on else np.full(R, np.nan)
    o["npv"] = o["npv_horizon"] + (o["terminal_value"] if tv_on else 0.0)
    o["mrr_end"] = mm["mrr_end"][:, -1]
    arpa = np.asarray(ratio(mm["mrr_end"][:, w].sum(axis=1), mm["accounts_end"][:, w].sum(axis=1)))
    o["arpa"] = arpa
    r = money.end_state_retention(mm["mrr_start"], mm["mrr_end"], mm["new_mrr"])
    o["clv"] = money.customer_value(arpa, gm, r, i)
    weights = np.where(np.isfinite(seg["clv"]), sa["accounts_end"][:, -1], 0.0)
    o["clv_segments"] = ratio((weights * np.nan_to_num(seg["clv"])).sum(axis=1),
                              weights.sum(axis=1))
    o["grr"] = np.asarray(formulas.grr(c["cohort_mrr_start"], c["cohort_mrr_kept"]))
    o["nrr"] = np.asarray(formulas.nrr(c["cohort_mrr_start"], c["cohort_mrr_end"]))
    o["grr_annualised"] = o["grr"] ** (12.0 / H)
    o["nrr_annualised"] = o["nrr"] ** (12.0 / H)
    mlc = np.asarray(formulas.logo_churn(churned.sum(axis=1), mm["accounts_start"].sum(axis=1)))
    o["monthly_logo_churn"] = mlc
    o["annual_logo_churn"] = 1.0 - (1.0 - mlc) ** 12
    o["accounts_end"] = mm["accounts_end"][:, -1]
    o["new_logos"] = mm["new_logos"].sum(axis=1)
    o["logos_churned"] = churned.sum(axis=1)
    o["churned_voluntary"] = mm["churned_voluntary"].sum(axis=1)
    o["churned_involuntary"] = mm["churned_involuntary"].sum(axis=1)
    o["nps"] = formulas.nps(mm["nps_promoters"].sum(axis=1), mm["nps_detractors"].sum(axis=1),
                            mm["nps_responses"].sum(axis=1))
    t = raw.tiers
    o["csm_utilisation"] = ratio(t["hours_used"].sum(axis=(1, 2)),
                                 t["capacity_hours"].sum(axis=(1, 2)))
    o["mean_wait_months"] = ratio(t["wait_sum"].sum(axis=(1, 2)), t["delivered"].sum(axis=(1, 2)))
    o["plays_delivered"] = raw.plays["delivered"].sum(axis=(1, 2))
    o["plays_dropped"] = raw.plays["dropped"].sum(axis=(1, 2))
    return pd.DataFrame({k: o[k] for k in ("replication", *METRICS)})


# ------------------------------------------------------------------ summaries
def summarise(frame: pd.DataFrame, columns: Sequence[str], level: float) -> pd.DataFrame:
    """Mean, sd, se, range of outcomes (quantiles) and the t-interval of each column.

    Returns
    -------
    DataFrame
        Indexed by metric: ``mean, std, se, lo, hi`` (the ``(1-level)/2`` and
        ``(1+level)/2`` quantiles: the range of outcomes), ``n``, ``ci_lo, ci_hi``
        (the Student-t interval of the mean, :func:`cs_sim.sim.money.t_interval`).
    """
    a = (1.0 - level) / 2.0
    rows = []
    for col in columns:
        v = frame[col].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        n = v.size
        if n == 0:
            rows.append((col, np.nan, np.nan, np.nan, np.nan, np.nan, 0, np.nan, np.nan))
            continue
        mean, se, lo, hi = money.t_interval(v, level)
        sd = float(v.std(ddof=1)) if n > 1 else np.nan
        if n > 1 and sd == 0.0:
            lo = hi = mean
        rows.append((col, mean, sd, se, float(np.quantile(v, a)), float(np.quantile(v, 1 - a)),
                     n, lo, hi))
    out = pd.DataFrame(rows, columns=["metric", "mean", "std", "se", "lo", "hi", "n",
                                      "ci_lo", "ci_hi"])
    return out.set_index("metric")


def summarise_groups(
    frame: pd.DataFrame, key: str, columns: Sequence[str], level: float
) -> pd.DataFrame:
    """:func:`summarise` of each group of ``frame[key]`` (in order of appearance).

    Returns
    -------
    DataFrame
        Indexed by ``(key, metric)``.
    """
    parts = {name: summarise(g, columns, level)
             for name, g in frame.groupby(key, sort=False)}
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, names=[key, "metric"])


def paired_differences(base: Any, var: Any) -> pd.DataFrame:
    """Per-replication ``variant - baseline`` of every metric, plus ``roi``.

    ``roi`` of a replication is its profit difference over its cost difference where
    the variant cost more in it (NaN elsewhere); the comparison's ROI is the ratio of
    the *means* (:func:`cs_sim.sim.money.decide`), not the mean of these.
    """
    b = base.per_replication.set_index("replication")
    v = var.per_replication.set_index("replication").reindex(b.index)
    d = v[list(METRICS)] - b[list(METRICS)]
    cost = d["total_cost"].to_numpy()
    d["roi"] = np.where(cost > 0, ratio(d["profit"].to_numpy(), np.where(cost > 0, cost, 1.0)),
                        np.nan)
    return d.reset_index()


def paired_group_differences(
    base: pd.DataFrame, var: pd.DataFrame, key: str, columns: Sequence[str]
) -> pd.DataFrame:
    """``variant - baseline`` per replication and group, for the groups in both runs."""
    b = base.set_index(["replication", key])
    v = var.set_index(["replication", key])
    common = b.index.intersection(v.index, sort=False)
    d = v.loc[common, list(columns)] - b.loc[common, list(columns)]
    return d.reset_index()
