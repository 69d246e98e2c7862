"""The eight canonical tables of a synthetic company, made from the engine's record.

The engine's numbers (:class:`cs_sim.sim.History`) are exported unchanged: which
accounts exist and when they start, segment, contract, employees, tier, monthly MRR,
active users and seats, tickets, NPS and CSAT answers, plays delivered and CS costs.
What the engine has no opinion on is drawn here from the generator's own streams
(:func:`cs_sim.sim.rng.synth_generator`), with :class:`SynthParams`: firmographics
without effect, dates inside a month, ticket categories and resolution delays (tickets
resolved after the period stay open), CES answers, DAU/WAU, survey comments, trial
prospects that never converted, and the support cost. Account ids are given in order
of signup date.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cs_sim.sim.rng import synth_generator
from cs_sim.synth.comments import survey_comments
from cs_sim.synth.params import CATEGORIES_FAIL, CATEGORIES_OK, SynthParams

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.io import Dataset
    from cs_sim.sim.record import History
    from cs_sim.sim.scenario import Scenario

__all__ = ["build_dataset", "plan_names"]

_PLAN_NAMES = {
    1: ("standard",),
    2: ("starter", "enterprise"),
    3: ("starter", "growth", "enterprise"),
    4: ("starter", "growth", "business", "enterprise"),
}
_NAME_A = ("North", "Blue", "Silver", "Bright", "Red", "Green", "Iron", "Golden", "Clear",
           "Swift", "Summit", "River", "Stone", "Cedar", "Maple", "Harbor", "Eagle", "Pine",
           "Crystal", "Falcon", "Lake", "Sun", "Oak", "Atlas", "Nova", "Vertex", "Polar",
           "Coral", "Granite", "Orbit")
_NAME_B = ("wind", "peak", "field", "line", "bridge", "gate", "point", "works", "stream",
           "ridge", "forge", "light", "path", "side", "view", "bay", "wood", "hill", "star",
           "port")
_NAME_C = ("Labs", "Systems", "Group", "Partners", "Health", "Retail", "Logistics",
           "Analytics", "Foods", "Industries", "Media", "Software", "Holdings", "Studio",
           "Solutions", "Co", "Capital", "Networks", "Education", "Energy")


def build_dataset(
    sc: Scenario, history: History, seed: int, rep: int, p: SynthParams
) -> Dataset:
    """Export a replication's record as the canonical tables.

    Parameters
    ----------
    sc : Scenario
        The scenario run; ``start_month`` is month 0 of the record.
    history : cs_sim.sim.History
        The record of replication ``rep`` of ``seed``.
    seed, rep : int
        Root seed and replication (the generator's own streams).
    p : SynthParams

    Returns
    -------
    cs_sim.io.Dataset
        accounts, mrr, usage, tickets, surveys, trials, interactions and costs (extra
        columns: ``accounts.segment``, ``accounts.tier``, ``interactions.intervention``).
    """
    from cs_sim.io import Dataset

    assert sc.start_month is not None
    start = np.datetime64(sc.start_month[:7], "M")
    n_months = sc.horizon_months
    end_day = (start + np.timedelta64(n_months, "M")).astype("datetime64[D]") - np.timedelta64(
        1, "D"
    )
    accounts, ids, trials = _accounts(sc, seed, rep, history, start, p)
    mrr = _mrr(history, ids, start)
    usage = _usage(history, ids, start, synth_generator(seed, rep, "usage"), p)
    tickets = _tickets(history, ids, start, end_day, synth_generator(seed, rep, "tickets"))
    surveys = _surveys(sc, history, ids, start, tickets, seed, rep, p)
    interactions = _interactions(history, ids, start, synth_generator(seed, rep, "interactions"))
    costs = _costs(history, tickets, start, n_months, p)
    tickets = tickets.drop(columns=["_month", "_slot"])
    return Dataset(
        accounts=accounts, mrr=mrr, usage=usage, tickets=tickets, surveys=surveys,
        trials=trials, interactions=interactions, costs=costs,
        source=f"cs_sim.synth(seed={seed})",
    )


def _choice(rng: np.random.Generator, items: Sequence[tuple[str, float]], n: int) -> np.ndarray:
    names = np.array([k for k, _ in items], dtype=object)
    w = np.array([v for _, v in items], dtype=float)
    cum = np.cumsum(w / w.sum())
    cum[-1] = 1.0 + 1e-12
    return names[np.searchsorted(cum, rng.random(n), side="right")]


def _month_days(start: np.datetime64, months: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First day (datetime64[D]) and number of days of months ``start + months``."""
    m = start + months.astype("timedelta64[M]")
    first = m.astype("datetime64[D]")
    days = ((m + np.timedelta64(1, "M")).astype("datetime64[D]") - first).astype(np.int64)
    return first, days


def _day_in_month(
    rng: np.random.Generator, start: np.datetime64, months: np.ndarray, *, max_day: int = 31
) -> np.ndarray:
    first, days = _month_days(start, months)
    offset = np.floor(rng.random(months.size) * np.minimum(days, max_day)).astype(np.int64)
    return first + offset.astype("timedelta64[D]")


def _ts(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[ns]")


def plan_names(scenario: Scenario) -> dict[str, str]:
    """Plan name of each segment, from its price per seat (cheapest: ``starter``).

    Parameters
    ----------
    scenario : Scenario

    Returns
    -------
    dict of str to str
        Segment name -> plan name (``plan_1``, ``plan_2``, ... beyond four prices).
    """
    prices = sorted({s.price_per_seat for s in scenario.segments})
    names = _PLAN_NAMES.get(len(prices))
    out = {}
    for s in scenario.segments:
        k = prices.index(s.price_per_seat)
        out[s.name] = names[k] if names else f"plan_{k + 1}"
    return out


def _csm_tiers(scenario: Scenario) -> list[str]:
    """Tiers whose accounts have a named CSM: a team and some CSM-owned play there."""
    from cs_sim.sim.plays import compile_plays

    plays = compile_plays(scenario)
    out = []
    for t, tier in enumerate(scenario.tiers):
        if tier.team.headcount <= 0:
            continue
        if any(p.tier_mask[t] and p.hours_by_tier[t] > 0 for p in plays):
            out.append(tier.name)
    return out


def _accounts(
    sc: Scenario, seed: int, rep: int, h: History, start: np.datetime64, p: SynthParams
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """Customers and trial prospects; returns (accounts, slot -> id array, trials)."""
    acc = h.accounts.sort_values("slot", kind="stable").reset_index(drop=True)
    panel = h.panel
    last = panel.drop_duplicates("slot", keep="last").set_index("slot")
    n = len(acc)
    rng = synth_generator(seed, rep, "accounts")
    plans = plan_names(sc)
    # the trial ends in the first paid month (days 1-28); signup = trial start
    acquired = acc["acquired_month"].to_numpy(dtype=np.int64)
    first, _ = _month_days(start, acquired)
    trial_end = first + np.floor(rng.random(n) * 28).astype("timedelta64[D]")
    trial_start = trial_end - np.timedelta64(p.trial_days, "D")
    industry = _choice(rng, p.industries, n)
    region = _choice(rng, p.regions, n)
    name = _names(rng, n)
    tier = last["tier"].reindex(acc["slot"]).to_numpy(dtype=object)
    csm_tiers = _csm_tiers(sc)
    heads = {t.name: t.team.headcount for t in sc.tiers}
    csm_u = rng.random(n)
    csm = np.full(n, None, dtype=object)
    for t in csm_tiers:
        sel = tier == t
        k = np.floor(csm_u[sel] * heads[t]).astype(np.int64) + 1
        csm[sel] = [f"csm_{t}_{i:02d}" for i in k]
    customers = pd.DataFrame({
        "_slot": acc["slot"].to_numpy(dtype=np.int64),
        "_prospect": -1,
        "name": name,
        "industry": industry,
        "employees": acc["employees"].to_numpy(dtype=np.int64),
        "region": region,
        "signup_date": _ts(trial_start),
        "plan": acc["segment"].map(plans).to_numpy(dtype=object),
        "contract": acc["contract"].to_numpy(dtype=object),
        "csm_id": csm,
        "segment": acc["segment"].to_numpy(dtype=object),
        "tier": tier,
        "_trial_end": _ts(trial_end),
        "_won": acquired >= 0,
    })
    # prospects: lost trials of each month ------------------------------------------------
    rng = synth_generator(seed, rep, "prospects")
    acq = h.acquisitions
    months = np.repeat(acq["month"].to_numpy(dtype=np.int64),
                       acq["lost_trials"].to_numpy(dtype=np.int64))
    k = months.size
    mix = sc.acquisition.segment_mix
    seg_w = [(s.name, (mix.get(s.name, 0.0) if mix is not None else s.share))
             for s in sc.segments]
    seg = _choice(rng, seg_w, k)
    by_name = {s.name: s for s in sc.segments}
    med = np.array([by_name[s].employees.median for s in seg], dtype=float)
    sig = np.array([by_name[s].employees.sigma for s in seg], dtype=float)
    employees = np.maximum(1, np.rint(med * np.exp(sig * rng.standard_normal(k))))
    p_end = _day_in_month(rng, start, months, max_day=28)
    p_start = p_end - np.timedelta64(p.trial_days, "D")
    prospects = pd.DataFrame({
        "_slot": -1,
        "_prospect": np.arange(k, dtype=np.int64),
        "name": _names(rng, k),
        "industry": _choice(rng, p.industries, k),
        "employees": employees.astype(np.int64),
        "region": _choice(rng, p.regions, k),
        "signup_date": _ts(p_start),
        "plan": np.array([plans[s] for s in seg], dtype=object),
        "contract": "monthly",
        "csm_id": None,
        "segment": seg,
        "tier": None,
        "_trial_end": _ts(p_end),
        "_won": False,
    })
    both = pd.concat([customers, prospects], ignore_index=True)
    both = both.sort_values(["signup_date", "_prospect", "_slot"], kind="stable",
                            ignore_index=True)
    width = max(5, len(str(len(both))))
    both.insert(0, "account_id", [f"A{i:0{width}d}" for i in range(1, len(both) + 1)])
    n_slots = int(acc["slot"].max()) + 1 if n else 0
    ids = np.full(n_slots, None, dtype=object)
    cust = both["_slot"].to_numpy() >= 0
    ids[both.loc[cust, "_slot"].to_numpy(dtype=np.int64)] = both.loc[cust, "account_id"]
    # trials: won accounts' trials (ending in the period) and lost ones -------------------
    won = both["_won"].to_numpy(dtype=bool)
    tri = both.loc[won | ~cust, ["account_id", "signup_date", "_trial_end"]].copy()
    tri.columns = ["account_id", "trial_start", "trial_end"]
    tri["converted"] = won[won | ~cust]
    trials = tri.sort_values(["trial_end", "account_id"], kind="stable", ignore_index=True)
    accounts = both.drop(columns=["_slot", "_prospect", "_trial_end", "_won"])
    for col in ("account_id", "name", "industry", "region", "plan", "contract", "csm_id",
                "segment", "tier"):
        accounts[col] = pd.array(accounts[col].to_numpy(dtype=object), dtype="str")
    trials["account_id"] = pd.array(trials["account_id"].to_numpy(dtype=object), dtype="str")
    trials["converted"] = trials["converted"].astype(bool)
    return accounts, ids, trials


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    a = np.array(_NAME_A, dtype=object)[rng.integers(0, len(_NAME_A), n)]
    b = np.array(_NAME_B, dtype=object)[rng.integers(0, len(_NAME_B), n)]
    c = np.array(_NAME_C, dtype=object)[rng.integers(0, len(_NAME_C), n)]
    return np.array([f"{x}{y} {z}" for x, y, z in zip(a, b, c, strict=True)], dtype=object)


def _mrr(h: History, ids: np.ndarray, start: np.datetime64) -> pd.DataFrame:
    pnl = h.panel
    paid = pnl.loc[pnl["mrr"] > 0, ["slot", "month", "mrr"]]
    paid = paid.sort_values(["slot", "month"], kind="stable")
    first, _ = _month_days(start, paid["month"].to_numpy(dtype=np.int64))
    return pd.DataFrame({
        "account_id": pd.array(ids[paid["slot"].to_numpy(dtype=np.int64)], dtype="str"),
        "month": _ts(first),
        "mrr": paid["mrr"].to_numpy(dtype=float),
    }).sort_values(["account_id", "month"], kind="stable", ignore_index=True)


def _usage(
    h: History, ids: np.ndarray, start: np.datetime64, rng: np.random.Generator, p: SynthParams
) -> pd.DataFrame:
    u = h.usage.sort_values(["slot", "month"], kind="stable")
    au = u["active_users"].to_numpy(dtype=float)
    seats = u["seats"].to_numpy(dtype=float)
    share = np.where(seats > 0, au / np.maximum(seats, 1), 0.0)
    stick = np.clip(p.stickiness_intercept + p.stickiness_slope * share
                    + p.stickiness_sd * rng.standard_normal(au.size), 0.02, 0.95)
    dau = np.round(au * stick, 1)
    wau = np.round(dau + p.wau_fill * (au - dau), 1)
    first, _ = _month_days(start, u["month"].to_numpy(dtype=np.int64))
    return pd.DataFrame({
        "account_id": pd.array(ids[u["slot"].to_numpy(dtype=np.int64)], dtype="str"),
        "month": _ts(first),
        "active_users": u["active_users"].to_numpy(dtype=np.int64),
        "seats": u["seats"].to_numpy(dtype=np.int64),
        "sessions": u["sessions"].to_numpy(dtype=np.int64),
        "minutes": u["minutes"].to_numpy(dtype=float),
        "key_feature_events": u["key_feature_events"].to_numpy(dtype=np.int64),
        "dau": dau,
        "wau": wau,
    }).sort_values(["account_id", "month"], kind="stable", ignore_index=True)


def _tickets(
    h: History, ids: np.ndarray, start: np.datetime64, end_day: np.datetime64,
    rng: np.random.Generator,
) -> pd.DataFrame:
    t = h.tickets
    n = len(t)
    months = t["month"].to_numpy(dtype=np.int64)
    opened = _day_in_month(rng, start, months)
    ok = t["first_contact"].to_numpy(dtype=bool)
    contacts = t["contacts_to_resolve"].to_numpy(dtype=np.int64)
    same_day = rng.random(n) < 0.6
    quick = 1 + np.floor(rng.random(n) * 2).astype(np.int64)
    slow = np.ceil(rng.gamma(np.maximum(contacts, 1), 1.2)).astype(np.int64)
    delay = np.where(ok, np.where(same_day, 0, quick), np.maximum(slow, 1))
    resolved = opened + delay.astype("timedelta64[D]")
    category = np.where(ok, _choice(rng, CATEGORIES_OK, n), _choice(rng, CATEGORIES_FAIL, n))
    res = pd.Series(_ts(resolved))
    res[resolved > end_day] = pd.NaT
    out = pd.DataFrame({
        "account_id": pd.array(ids[t["slot"].to_numpy(dtype=np.int64)], dtype="str"),
        "opened_at": _ts(opened),
        "resolved_at": res.to_numpy(),
        "contacts_to_resolve": contacts,
        "category": pd.array(category, dtype="str"),
        "handle_minutes": t["handle_minutes"].to_numpy(dtype=float),
        "_month": months,
        "_slot": t["slot"].to_numpy(dtype=np.int64),
    })
    out = out.sort_values(["opened_at", "_slot"], kind="stable", ignore_index=True)
    out.insert(0, "ticket_id", pd.array([f"T{i:07d}" for i in range(1, n + 1)], dtype="str"))
    return out


def _surveys(
    sc: Scenario, h: History, ids: np.ndarray, start: np.datetime64, tickets: pd.DataFrame,
    seed: int, rep: int, p: SynthParams,
) -> pd.DataFrame:
    rng = synth_generator(seed, rep, "surveys")
    sv = h.surveys
    base = pd.DataFrame({
        "_slot": sv["slot"].to_numpy(dtype=np.int64),
        "_month": sv["month"].to_numpy(dtype=np.int64),
        "kind": sv["kind"].to_numpy(dtype=object),
        "score": sv["score"].to_numpy(dtype=np.int64),
    })
    base["date"] = _ts(_day_in_month(rng, start, base["_month"].to_numpy()))
    # CES after resolved tickets
    res = tickets[tickets["resolved_at"].notna()]
    answer = rng.random(len(res)) < p.ces_response_rate
    res = res[answer]
    z = rng.standard_normal(len(res))
    ces = np.clip(np.rint(p.ces_intercept + p.ces_per_extra_contact
                          * (res["contacts_to_resolve"].to_numpy() - 1) + p.ces_noise_sd * z),
                  1, 7).astype(np.int64)
    ces_frame = pd.DataFrame({
        "_slot": res["_slot"].to_numpy(dtype=np.int64),
        "_month": res["_month"].to_numpy(dtype=np.int64),
        "kind": "ces",
        "score": ces,
        "date": res["resolved_at"].to_numpy(),
    })
    allsv = pd.concat([base, ces_frame], ignore_index=True)
    allsv = allsv.sort_values(["date", "_slot", "kind"], kind="stable", ignore_index=True)
    allsv["comment"] = survey_comments(sc, h, allsv, seed, rep, p)
    n = len(allsv)
    out = pd.DataFrame({
        "response_id": pd.array([f"R{i:07d}" for i in range(1, n + 1)], dtype="str"),
        "account_id": pd.array(ids[allsv["_slot"].to_numpy(dtype=np.int64)], dtype="str"),
        "date": allsv["date"].to_numpy(),
        "kind": pd.array(allsv["kind"].to_numpy(dtype=object), dtype="str"),
        "score": allsv["score"].to_numpy(dtype=np.int64),
        "comment": pd.array(allsv["comment"].to_numpy(dtype=object), dtype="str"),
    })
    return out


def _interactions(
    h: History, ids: np.ndarray, start: np.datetime64, rng: np.random.Generator
) -> pd.DataFrame:
    iv = h.plays  # one row per delivered play; the dataset's column keeps its name
    months = iv["month"].to_numpy(dtype=np.int64)
    date = _day_in_month(rng, start, months, max_day=28)
    out = pd.DataFrame({
        "account_id": pd.array(ids[iv["slot"].to_numpy(dtype=np.int64)], dtype="str"),
        "date": _ts(date),
        "kind": pd.array(iv["interaction_kind"].to_numpy(dtype=object), dtype="str"),
        "owner_team": pd.array(iv["owner_team"].to_numpy(dtype=object), dtype="str"),
        "intervention": pd.array(iv["play"].to_numpy(dtype=object), dtype="str"),
        "_slot": iv["slot"].to_numpy(dtype=np.int64),
    })
    out = out.sort_values(["date", "_slot"], kind="stable", ignore_index=True)
    return out.drop(columns="_slot")


def _costs(
    h: History, tickets: pd.DataFrame, start: np.datetime64, months: int, p: SynthParams
) -> pd.DataFrame:
    mon = h.monthly.sort_values("month")
    handle = tickets.groupby("_month")["handle_minutes"].sum().reindex(range(months),
                                                                        fill_value=0.0)
    first, _ = _month_days(start, np.arange(months))
    return pd.DataFrame({
        "month": _ts(first),
        "cs_cost": np.round((mon["csm_cost"] + mon["play_cost"]).to_numpy(float), 2),
        "support_cost": np.round(handle.to_numpy(float) / 60.0 * p.support_cost_per_hour, 2),
        "tooling_cost": np.round(mon["programme_cost"].to_numpy(float), 2),
    })
