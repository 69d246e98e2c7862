"""Results of simulation runs: tidy frames, summaries, paired comparisons, histories.

Every frame is tidy (one row per replication and month, plus tier or intervention
where it applies). Intervals are 90% by default: ``lo``/``hi`` of a summary are the
5% and 95% quantiles of the replications' outcomes; for a comparison, ``ci_lo``/``ci_hi``
bound the *mean* paired difference (normal approximation, mean +- z * se) and
``lo``/``hi`` are the quantiles of the paired differences.
"""

# ruff: noqa: N806 (R, N, H, T, P, K: replications, slots, months, tiers, plays, block)
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.sim.engine import RawRun
    from cs_sim.sim.scenario import Scenario

__all__ = [
    "ChunkResult",
    "ComparisonResult",
    "History",
    "SimulationResult",
    "chunk_from_raw",
    "combine_chunks",
]

#: per-replication metrics compared by :func:`cs_sim.compare` (also in ``summary()``)
METRICS = (
    "logos_churned",
    "churned_voluntary",
    "churned_involuntary",
    "new_logos",
    "accounts_end",
    "monthly_logo_churn",
    "annual_logo_churn",
    "grr",
    "nrr",
    "grr_annualised",
    "nrr_annualised",
    "mrr_end",
    "revenue",
    "gross_profit",
    "arpa",
    "clv",
    "csm_cost",
    "intervention_cost",
    "programme_cost",
    "total_cost",
    "profit",
    "interventions_delivered",
    "interventions_dropped",
    "csm_utilisation",
    "mean_wait_months",
    "nps",
)


def _div(a: Any, b: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.asarray(b) != 0, np.asarray(a, dtype=float) / b, np.nan)


@dataclass(frozen=True)
class ChunkResult:
    """Frames of some replications (what :func:`cs_sim.sim.run_chunk` returns).

    Concatenating the chunks of all replications (in replication order) gives exactly
    the frames of a single local run: see :func:`combine_chunks`.
    """

    replications: tuple[int, ...]
    monthly: pd.DataFrame
    tiers: pd.DataFrame
    interventions: pd.DataFrame
    per_replication: pd.DataFrame
    history: History | None = None


def _month_labels(scenario: Scenario, horizon: int) -> pd.DatetimeIndex | None:
    if scenario.start_month is None:
        return None
    start = pd.Timestamp(scenario.start_month[:7] + "-01")
    return pd.date_range(start, periods=horizon, freq="MS")


def chunk_from_raw(raw: RawRun, scenario: Scenario) -> ChunkResult:
    """Build the tidy frames of a :class:`~cs_sim.sim.engine.RawRun`."""
    reps = np.asarray(raw.reps, dtype=np.int64)
    R, H = raw.monthly["mrr_end"].shape
    T, P = len(raw.tier_names), len(raw.play_names)
    gm = scenario.gross_margin
    # monthly ------------------------------------------------------------------
    m = {k: v.reshape(-1) for k, v in raw.monthly.items()}
    monthly = pd.DataFrame({"replication": np.repeat(reps, H), "month": np.tile(np.arange(H), R)})
    dates = _month_labels(scenario, H)
    if dates is not None:
        monthly["date"] = np.tile(dates.to_numpy(), R)
    int_cols = ("accounts_start", "new_logos", "churned_voluntary", "churned_involuntary",
                "accounts_end", "members", "nps_responses", "failed_tickets")
    for k in int_cols:
        monthly[k] = m[k].astype(np.int64)
    monthly["churned"] = (m["churned_voluntary"] + m["churned_involuntary"]).astype(np.int64)
    for k in ("mrr_start", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr",
              "mrr_end"):
        monthly[k] = m[k]
    start = m["mrr_start"]
    monthly["grr"] = _div(start - m["churned_mrr"] - m["contraction_mrr"], start)
    monthly["nrr"] = _div(
        start + m["expansion_mrr"] - m["contraction_mrr"] - m["churned_mrr"], start
    )
    churn_rate = _div(monthly["churned"].to_numpy(), m["accounts_start"])
    monthly["logo_churn_rate"] = churn_rate
    arpa = _div(m["mrr_end"], m["accounts_end"])
    monthly["arpa"] = arpa
    monthly["clv"] = _div(arpa * gm, churn_rate)
    monthly["csm_cost"] = m["csm_cost"]
    monthly["intervention_cost"] = m["intervention_cost"]
    monthly["programme_cost"] = m["programme_cost"]
    monthly["total_cost"] = m["csm_cost"] + m["intervention_cost"] + m["programme_cost"]
    monthly["nps"] = 100.0 * _div(m["nps_promoters"] - m["nps_detractors"], m["nps_responses"])
    monthly["mean_health"] = m["mean_health"]
    monthly["acquisition_capped"] = m["capped_acquisition"] > 0
    # tiers ---------------------------------------------------------------------
    headcount = np.array([t.team.headcount for t in scenario.tiers], dtype=float)
    t = {k: v.reshape(-1) for k, v in raw.tiers.items()}
    tiers = pd.DataFrame({
        "replication": np.repeat(reps, H * T),
        "month": np.tile(np.repeat(np.arange(H), T), R),
        "tier": pd.array(np.tile(np.array(raw.tier_names, dtype=object), R * H), dtype="str"),
    })
    tiers["accounts"] = t["accounts"].astype(np.int64)
    hc = np.tile(headcount, R * H)
    tiers["headcount"] = hc.astype(np.int64)
    tiers["coverage"] = _div(t["accounts"], hc)
    tiers["capacity_hours"] = t["capacity_hours"]
    tiers["hours_used"] = t["hours_used"]
    tiers["utilisation"] = _div(t["hours_used"], t["capacity_hours"])
    tiers["delivered"] = t["delivered"].astype(np.int64)
    tiers["dropped"] = t["dropped"].astype(np.int64)
    tiers["queued"] = t["queued"].astype(np.int64)
    tiers["mean_wait_months"] = _div(t["wait_sum"], t["delivered"])
    tiers["wait_sum_months"] = t["wait_sum"]
    tiers["mrr"] = t["mrr"]
    # interventions -------------------------------------------------------------
    p = {k: v.reshape(-1) for k, v in raw.plays.items()}
    plays = pd.DataFrame({
        "replication": np.repeat(reps, H * P),
        "month": np.tile(np.repeat(np.arange(H), P), R),
        "intervention": pd.array(
            np.tile(np.array(raw.play_names, dtype=object), R * H), dtype="str"
        ),
    })
    for k in ("requested", "delivered", "dropped"):
        plays[k] = p[k].astype(np.int64)
    plays["hours"] = p["hours"]
    plays["cost"] = p["cost"]
    per_rep = _per_replication(raw, monthly, tiers, scenario)
    history = None
    if raw.record is not None:
        history = History.from_record(raw, scenario, monthly)
    return ChunkResult(tuple(int(r) for r in reps), monthly, tiers, plays, per_rep, history)


def _per_replication(
    raw: RawRun, monthly: pd.DataFrame, tiers: pd.DataFrame, scenario: Scenario
) -> pd.DataFrame:
    H = scenario.horizon_months
    gm = scenario.gross_margin
    g = monthly.groupby("replication", sort=False)
    out = pd.DataFrame({"replication": np.asarray(raw.reps, dtype=np.int64)})
    s = g[["churned", "churned_voluntary", "churned_involuntary", "new_logos",
           "accounts_start", "mrr_end", "csm_cost", "intervention_cost", "programme_cost",
           "total_cost"]].sum()
    s = s.reindex(out["replication"])
    last = g[["accounts_end", "mrr_end"]].last().reindex(out["replication"])
    arpa = g["arpa"].mean().reindex(out["replication"])
    c = raw.cohort
    out["logos_churned"] = s["churned"].to_numpy()
    out["churned_voluntary"] = s["churned_voluntary"].to_numpy()
    out["churned_involuntary"] = s["churned_involuntary"].to_numpy()
    out["new_logos"] = s["new_logos"].to_numpy()
    out["accounts_end"] = last["accounts_end"].to_numpy()
    mlc = _div(s["churned"].to_numpy(), s["accounts_start"].to_numpy())
    out["monthly_logo_churn"] = mlc
    out["annual_logo_churn"] = 1.0 - (1.0 - mlc) ** 12
    out["grr"] = _div(c["cohort_mrr_kept"], c["cohort_mrr_start"])
    out["nrr"] = _div(c["cohort_mrr_end"], c["cohort_mrr_start"])
    out["grr_annualised"] = out["grr"] ** (12.0 / H)
    out["nrr_annualised"] = out["nrr"] ** (12.0 / H)
    out["mrr_end"] = last["mrr_end"].to_numpy()
    out["revenue"] = s["mrr_end"].to_numpy()
    out["gross_profit"] = out["revenue"] * gm
    out["arpa"] = arpa.to_numpy()
    out["clv"] = _div(out["arpa"].to_numpy() * gm, mlc)
    for k in ("csm_cost", "intervention_cost", "programme_cost", "total_cost"):
        out[k] = s[k].to_numpy()
    out["profit"] = out["gross_profit"] - out["total_cost"]
    tg = tiers.groupby("replication", sort=False)[
        ["delivered", "dropped", "hours_used", "capacity_hours", "wait_sum_months"]
    ].sum().reindex(out["replication"])
    plays = raw.plays
    out["interventions_delivered"] = plays["delivered"].sum(axis=(1, 2))
    out["interventions_dropped"] = plays["dropped"].sum(axis=(1, 2))
    out["csm_utilisation"] = _div(tg["hours_used"].to_numpy(), tg["capacity_hours"].to_numpy())
    out["mean_wait_months"] = _div(tg["wait_sum_months"].to_numpy(), tg["delivered"].to_numpy())
    mm = raw.monthly
    out["nps"] = 100.0 * _div(
        (mm["nps_promoters"] - mm["nps_detractors"]).sum(axis=1), mm["nps_responses"].sum(axis=1)
    )
    return out


def _summarise(frame: pd.DataFrame, columns: Sequence[str], level: float) -> pd.DataFrame:
    a = (1.0 - level) / 2.0
    rows = []
    for col in columns:
        v = frame[col].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        n = v.size
        if n == 0:
            rows.append((col, np.nan, np.nan, np.nan, np.nan, np.nan, 0))
            continue
        sd = float(v.std(ddof=1)) if n > 1 else np.nan
        rows.append((col, float(v.mean()), sd, sd / np.sqrt(n) if n > 1 else np.nan,
                     float(np.quantile(v, a)), float(np.quantile(v, 1 - a)), n))
    out = pd.DataFrame(rows, columns=["metric", "mean", "std", "se", "lo", "hi", "n"])
    return out.set_index("metric")


def combine_chunks(
    scenario: Scenario, seed: int, chunks: Sequence[ChunkResult]
) -> SimulationResult:
    """Concatenate chunk results (any order) into one :class:`SimulationResult`.

    Parameters
    ----------
    scenario : Scenario
    seed : int
    chunks : sequence of ChunkResult
        Disjoint sets of replications.

    Returns
    -------
    SimulationResult
        Frames sorted by replication, equal to those of a single local run.
    """
    chunks = sorted(chunks, key=lambda c: c.replications[0] if c.replications else -1)
    reps = tuple(r for c in chunks for r in c.replications)
    if len(set(reps)) != len(reps):
        raise ValueError("chunks overlap: a replication appears twice")
    order = np.argsort(np.asarray(reps), kind="stable")

    def cat(name: str) -> pd.DataFrame:
        frame = pd.concat([getattr(c, name) for c in chunks], ignore_index=True)
        if list(order) != list(range(len(order))):
            frame = frame.sort_values("replication", kind="stable", ignore_index=True)
        return frame

    history = next((c.history for c in chunks if c.history is not None), None)
    return SimulationResult(
        scenario=scenario,
        seed=seed,
        replications=tuple(sorted(reps)),
        monthly=cat("monthly"),
        tiers=cat("tiers"),
        interventions=cat("interventions"),
        per_replication=cat("per_replication"),
        history=history,
    )


@dataclass(frozen=True)
class SimulationResult:
    """Outcome of :func:`cs_sim.simulate`.

    Attributes
    ----------
    scenario : Scenario
    seed : int
        The root seed (drawn from fresh entropy when none was given).
    replications : tuple of int
    monthly : DataFrame
        Per replication and month: logos (start, new, churned voluntary/involuntary,
        end), the MRR bridge (start, new, expansion, contraction, churned, end), monthly
        GRR/NRR and logo churn rate, ARPA, CLV (ARPA x gross margin / monthly logo
        churn), costs (CSM, interventions, programmes, total), loyalty members, NPS,
        failed tickets, mean health.
    tiers : DataFrame
        Per replication, month and tier: accounts, headcount, coverage (accounts per
        CSM), capacity and hours used, utilisation, delivered, dropped, still queued,
        mean wait (months), MRR.
    interventions : DataFrame
        Per replication, month and intervention: requested, delivered, dropped, CSM
        hours, cost.
    per_replication : DataFrame
        One row per replication with the horizon metrics of :data:`METRICS` (GRR/NRR
        of the starting cohort over the horizon and annualised, churn, revenue, CLV,
        costs, profit, utilisation, waits, NPS).
    history : History or None
        The per-account panel of one replication when run with ``record``.
    """

    scenario: Scenario
    seed: int
    replications: tuple[int, ...]
    monthly: pd.DataFrame
    tiers: pd.DataFrame
    interventions: pd.DataFrame
    per_replication: pd.DataFrame
    history: History | None = None

    def summary(self, *, level: float = 0.9) -> pd.DataFrame:
        """Mean, standard deviation, standard error and a ``level`` interval per metric.

        Parameters
        ----------
        level : float, default 0.9
            Coverage of the ``lo``-``hi`` interval (quantiles over replications).

        Returns
        -------
        DataFrame
            Indexed by metric; columns ``mean, std, se, lo, hi, n``.
        """
        return _summarise(self.per_replication, METRICS, level)


@dataclass(frozen=True)
class ComparisonResult:
    """Outcome of :func:`cs_sim.compare`: both runs and their paired differences.

    Attributes
    ----------
    baseline, variant : SimulationResult
        Run on the same seed and slot layout (common random numbers).
    differences : DataFrame
        One row per replication: ``variant - baseline`` of each metric, and ``roi``
        = (difference of gross profit - difference of cost) / difference of cost.
    """

    baseline: SimulationResult
    variant: SimulationResult
    differences: pd.DataFrame

    def summary(self, *, level: float = 0.9) -> pd.DataFrame:
        """Paired differences with intervals.

        Parameters
        ----------
        level : float, default 0.9

        Returns
        -------
        DataFrame
            Indexed by metric; columns ``baseline, variant, diff, se, ci_lo, ci_hi`` (an
            interval of the mean difference), ``lo, hi`` (quantiles of the per-replication
            differences). The ``roi`` row's ``diff`` is the ROI of the mean differences.
        """
        z = NormalDist().inv_cdf(0.5 + level / 2.0)
        d = _summarise(self.differences, [*METRICS, "roi"], level)
        b = _summarise(self.baseline.per_replication, METRICS, level)["mean"]
        v = _summarise(self.variant.per_replication, METRICS, level)["mean"]
        out = pd.DataFrame(index=d.index)
        out["baseline"] = b
        out["variant"] = v
        out["diff"] = d["mean"]
        out["se"] = d["se"]
        out["ci_lo"] = d["mean"] - z * d["se"].fillna(0.0)
        out["ci_hi"] = d["mean"] + z * d["se"].fillna(0.0)
        out["lo"] = d["lo"]
        out["hi"] = d["hi"]
        dgp = self.differences["gross_profit"].mean()
        dcost = self.differences["total_cost"].mean()
        out.loc["roi", "diff"] = (dgp - dcost) / dcost if dcost != 0 else np.nan
        return out


def paired_differences(base: SimulationResult, var: SimulationResult) -> pd.DataFrame:
    """Per-replication ``variant - baseline`` of every metric, plus ``roi``."""
    b = base.per_replication.set_index("replication")
    v = var.per_replication.set_index("replication").reindex(b.index)
    d = v[list(METRICS)] - b[list(METRICS)]
    d["roi"] = _div(
        d["gross_profit"].to_numpy() - d["total_cost"].to_numpy(), d["total_cost"].to_numpy()
    )
    return d.reset_index()


# ------------------------------------------------------------------------- history
_CHURN_LABELS = np.array(["", "voluntary", "involuntary"], dtype=object)


@dataclass(frozen=True)
class History:
    """Per-account monthly panel of one replication (for the synthetic company).

    Months are integers from 0 (``start_month`` of the scenario when set, else the
    caller's choice); accounts are *slots* (``account_id`` is filled for starting
    customers that came from a dataset). Frames:

    - ``accounts``: slot, account_id, segment, contract, employees, acquired_month
      (month of the first paid month; negative for starting customers), initial
      (bool), first_tier, churn_month, churn_type;
    - ``panel``: slot, month, segment, tier, contract, mrr, seats, active_users,
      active_share, health, failed_tickets, champion_left, member, churn ('' /
      'voluntary' / 'involuntary': the account's MRR is 0 from that month);
    - ``usage``: slot, month, active_users, seats, sessions, minutes, key_feature_events;
    - ``tickets``: one row per ticket: slot, month, first_contact (bool),
      contacts_to_resolve, handle_minutes;
    - ``surveys``: slot, month, kind ('nps', 'csat'), score;
    - ``interventions``: slot, month, intervention, interaction_kind, owner_team, tier,
      wait_months;
    - ``acquisitions``: month, new_logos, lost_trials (trials that did not convert);
    - ``monthly``: the replication's monthly frame (costs, bridge).

    Usage activity, ticket details, CSAT answers and lost trials are drawn from the
    replication's ``record`` stream: they never feed back into the dynamics. Failed
    tickets, active users, health, NPS answers and interventions are the engine's own.
    """

    replication: int
    accounts: pd.DataFrame
    panel: pd.DataFrame
    usage: pd.DataFrame
    tickets: pd.DataFrame
    surveys: pd.DataFrame
    interventions: pd.DataFrame
    acquisitions: pd.DataFrame
    monthly: pd.DataFrame
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_record(cls, raw: RawRun, scenario: Scenario, monthly: pd.DataFrame) -> History:
        """Build the history from the engine's raw record (internal)."""
        from cs_sim.sim.rng import component_generator

        rec = raw.record
        assert rec is not None
        rep = int(rec["rep"])
        g = component_generator(raw.seed, rep, "record")
        seg_names = np.array(scenario.segment_names(), dtype=object)
        tier_names = np.array(scenario.tier_names(), dtype=object)
        rows = rec["rows"]
        cols = rows[0].keys() if rows else []
        cat = {k: np.concatenate([r[k] for r in rows]) for k in cols}
        b = scenario.behaviour
        if not rows:
            empty = pd.DataFrame()
            return cls(rep, empty, empty, empty, empty, empty, empty, empty,
                       monthly[monthly["replication"] == rep].reset_index(drop=True))
        panel = pd.DataFrame({
            "slot": cat["slot"].astype(np.int64),
            "month": cat["month"].astype(np.int64),
            "segment": pd.array(seg_names[cat["segment"]], dtype="str"),
            "tier": pd.array(tier_names[cat["tier"]], dtype="str"),
            "contract": pd.array(np.where(cat["annual"], "annual", "monthly"), dtype="str"),
            "mrr": cat["mrr"],
            "seats": cat["seats"].astype(np.int64),
            "active_users": cat["active_users"].astype(np.int64),
            "active_share": cat["active_share"],
            "health": cat["health"],
            "failed_tickets": cat["failed_tickets"].astype(np.int64),
            "champion_left": cat["champion_left"].astype(bool),
            "member": cat["member"].astype(bool),
            "churn": pd.array(_CHURN_LABELS[cat["churn"]], dtype="str"),
        })
        # accounts --------------------------------------------------------------
        first = panel.drop_duplicates("slot", keep="first").set_index("slot")
        ch = panel[panel["churn"] != ""].set_index("slot")
        slots = first.index.to_numpy()
        first_idx = np.unique(cat["slot"], return_index=True)[1]
        acquired = cat["acquired"][first_idx]
        ids = rec.get("account_id")
        account_id = pd.array(
            [ids[s] if ids is not None and s < len(ids) else None for s in slots], dtype="str"
        )
        accounts = pd.DataFrame({
            "slot": slots,
            "account_id": account_id,
            "segment": first["segment"].to_numpy(),
            "contract": first["contract"].to_numpy(),
            "employees": cat["employees"][first_idx].astype(np.int64),
            "acquired_month": acquired.astype(np.int64),
            "initial": acquired < 0,
            "first_tier": first["tier"].to_numpy(),
        })
        accounts["churn_month"] = ch["month"].reindex(slots).to_numpy()
        accounts["churn_type"] = pd.array(
            ch["churn"].reindex(slots).fillna("").to_numpy(), dtype="str"
        )
        # usage ------------------------------------------------------------------
        up = b.usage
        au = cat["active_users"]
        sessions = g.poisson(au * up.sessions_per_user)
        minutes = np.rint(g.gamma(2.0, 1.0, size=au.size) / 2.0 * sessions
                          * up.minutes_per_session)
        key_events = g.poisson(sessions * up.key_events_per_session)
        usage = pd.DataFrame({
            "slot": panel["slot"], "month": panel["month"],
            "active_users": panel["active_users"], "seats": panel["seats"],
            "sessions": sessions.astype(np.int64), "minutes": minutes.astype(np.int64),
            "key_feature_events": key_events.astype(np.int64),
        })
        # tickets -------------------------------------------------------------------
        sp = b.support
        lam_ok = cat["tickets_per_seat"] * cat["seats"] * sp.fcr
        n_ok = g.poisson(lam_ok)
        n_fail = cat["failed_tickets"].astype(np.int64)
        per_row = n_ok + n_fail
        t_slot = np.repeat(cat["slot"], per_row)
        t_month = np.repeat(cat["month"], per_row)
        first_contact = np.concatenate(
            [np.r_[np.ones(a, bool), np.zeros(f, bool)] for a, f in zip(n_ok, n_fail,
                                                                          strict=True)]
        ) if per_row.sum() else np.zeros(0, bool)
        contacts = np.where(first_contact, 1, 2 + g.poisson(0.7, size=first_contact.size))
        handle = np.round(g.gamma(3.0, sp.handle_minutes / 3.0, size=first_contact.size)
                          * contacts, 1)
        tickets = pd.DataFrame({
            "slot": t_slot.astype(np.int64), "month": t_month.astype(np.int64),
            "first_contact": first_contact, "contacts_to_resolve": contacts.astype(np.int64),
            "handle_minutes": handle,
        })
        # surveys --------------------------------------------------------------------
        nps_parts = [(i, np.full(i.size, m), s) for i, m, s in rec["surveys"]]
        nps = pd.DataFrame({
            "slot": np.concatenate([p[0] for p in nps_parts]).astype(np.int64),
            "month": np.concatenate([p[1] for p in nps_parts]).astype(np.int64),
            "kind": "nps",
            "score": np.concatenate([p[2] for p in nps_parts]).astype(np.int64),
        })
        csat_resp = g.random(first_contact.size) < b.surveys.csat_response_rate
        h_ticket = np.repeat(cat["health"], per_row)
        z = g.standard_normal(first_contact.size)
        sv = b.surveys
        csat_score = np.clip(np.rint(
            sv.csat_intercept + sv.csat_health_slope * (h_ticket - 50.0) / 10.0
            + sv.csat_first_contact * first_contact + sv.csat_noise_sd * z), 1, 5)
        csat = pd.DataFrame({
            "slot": t_slot[csat_resp].astype(np.int64), "month": t_month[csat_resp].astype(
                np.int64),
            "kind": "csat", "score": csat_score[csat_resp].astype(np.int64),
        })
        surveys = pd.concat([nps, csat], ignore_index=True).sort_values(
            ["month", "slot", "kind"], kind="stable", ignore_index=True
        )
        surveys["kind"] = surveys["kind"].astype("str")
        # interventions ----------------------------------------------------------------
        play_names = raw.play_names
        from cs_sim.sim.policies import compile_plays

        plays = compile_plays(scenario)
        dl = rec["deliveries"]
        if dl:
            d_slot = np.concatenate([d[0] for d in dl])
            d_month = np.concatenate([np.full(d[0].size, d[1]) for d in dl])
            d_play = np.concatenate([np.full(d[0].size, d[2]) for d in dl])
            d_tier = np.concatenate([d[3] for d in dl])
            d_wait = np.concatenate([d[4] for d in dl])
        else:
            d_slot = d_month = d_play = d_tier = np.zeros(0, np.int64)
            d_wait = np.zeros(0)
        owner = np.array(
            [p.owner_team if p.owner_team is not None else "" for p in plays], dtype=object
        )
        own = owner[d_play] if d_play.size else np.zeros(0, dtype=object)
        tier_lbl = tier_names[d_tier] if d_tier.size else np.zeros(0, dtype=object)
        own = np.where(own == "", tier_lbl, own)
        interventions = pd.DataFrame({
            "slot": d_slot.astype(np.int64), "month": d_month.astype(np.int64),
            "intervention": pd.array(np.array(play_names, dtype=object)[d_play] if d_play.size
                                     else [], dtype="str"),
            "interaction_kind": pd.array(
                np.array([p.interaction_kind for p in plays], dtype=object)[d_play]
                if d_play.size else [], dtype="str"),
            "owner_team": pd.array(own, dtype="str"),
            "tier": pd.array(tier_lbl, dtype="str"),
            "wait_months": d_wait.astype(float),
        }).sort_values(["month", "slot"], kind="stable", ignore_index=True)
        # acquisitions -----------------------------------------------------------------
        births = rec["births"]
        new = np.array([c for _, c in births], dtype=np.int64)
        conv = scenario.acquisition.trial_conversion
        lost = g.poisson(new * (1.0 - conv) / conv) if new.size else new
        acquisitions = pd.DataFrame({
            "month": np.array([m for m, _ in births], dtype=np.int64),
            "new_logos": new, "lost_trials": np.asarray(lost, dtype=np.int64),
        })
        mon = monthly[monthly["replication"] == rep].reset_index(drop=True)
        return cls(rep, accounts, panel, usage, tickets, surveys, interventions, acquisitions,
                   mon)
