"""Synthetic company generator: the simulator run over a past period, exported as data.

One behavioural model, two uses (DESIGN.md): a synthetic company *is* one replication
of the simulator run with the as-is policy over a past period, recorded account by
account (:func:`cs_sim.sim.run_history`) and written out as the canonical tables
(accounts, mrr, usage, tickets, surveys, trials, interactions, costs). Beside the
tables, ``ground_truth.json`` holds the parameters used (the full scenario, the seed,
the engine version and the behavioural parameters a calibration must recover).

What comes from the engine and what is added here
-------------------------------------------------
The engine's own numbers are exported unchanged: which accounts exist and when they
start, their segment, contract, employees, tier, monthly MRR (so the MRR bridge of the
``mrr`` table *is* the engine's bridge), active users and seats, tickets (first-contact
or not, contacts, handle time), NPS and CSAT answers, interventions delivered and the
CS costs. This module adds, from its own random streams (which never feed back into
the dynamics), what the engine has no opinion on:

- firmographics without effect: company names, industry, region, plan name (from the
  segment's price per seat), CSM ids (a named CSM per account in a tier served by CSM
  plays);
- dates inside a month (signup, tickets opened/resolved, survey answers, touchpoints);
- ticket categories and resolution delays; tickets whose resolution would fall after
  the period are left open (``resolved_at`` missing);
- customer-effort (CES) answers after resolved tickets, DAU/WAU;
- open comments on survey answers, drawn from ``resources/survey_comments.yaml`` by
  theme and sentiment (themes of the default feedback taxonomy; the state of the
  account makes some themes likelier: early tenure -> onboarding, failed tickets ->
  support and reliability, low usage -> ease of use);
- trials: every account won during the period had a trial ending in its first paid
  month; trial prospects that never converted are added to ``accounts`` (no MRR);
- support cost (handle time x an hourly rate).

Period and ids
--------------
Month 0 of the run is the first month of the data (``start_month``); every table covers
``months`` months. Customers of month 0 signed up earlier (``signup_date`` before the
period; their earlier history is not in the data, as in most exports). Account ids are
given in order of signup date.

Random numbers
--------------
The run uses the engine's streams for ``(seed, replication)``; the generator's own
streams are ``SeedSequence(seed, spawn_key=(replication, 2**33 + k))``, disjoint from
the engine's. Same seed and options, byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from cs_sim.errors import CsSimError, ScenarioError
from cs_sim.sim.rng import synth_generator

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.io import Dataset
    from cs_sim.sim.results import History
    from cs_sim.sim.scenario import Scenario

__all__ = [
    "DEFAULT_SCENARIO",
    "GENERATOR_VERSION",
    "SynthParams",
    "SyntheticCompany",
    "default_scenario_path",
    "generate",
    "generate_company",
    "headline_kpis_text",
    "load_ground_truth",
    "scenario_from_ground_truth",
    "write_company",
]

log = logging.getLogger(__name__)

#: version of the export rules of this module (bump when the exported files change)
GENERATOR_VERSION = "1"
#: default scenario, relative to the project root
DEFAULT_SCENARIO = "templates/scenarios/sample_company.yaml"
#: the canonical tables the generator writes, in order
TABLE_NAMES = ("accounts", "mrr", "usage", "tickets", "surveys", "trials", "interactions",
               "costs")
_PLAN_NAMES = {
    1: ("standard",),
    2: ("starter", "enterprise"),
    3: ("starter", "growth", "enterprise"),
    4: ("starter", "growth", "business", "enterprise"),
}
_THEMES = ("onboarding", "pricing", "support", "reliability", "missing_features",
           "ease_of_use", "performance")
_SENTIMENTS = ("negative", "neutral", "positive")


# ---------------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class SynthParams:
    """Parameters of what the generator adds to the engine's record (no feedback).

    All of them are written to ``ground_truth.json`` (``synthetic_details``).

    Attributes
    ----------
    industries : tuple of (str, float)
        Industry names and weights (no effect on behaviour).
    regions : tuple of (str, float)
        Sales regions and weights (no effect on behaviour).
    trial_days : int
        Length of a free trial; a won account's trial ends in its first paid month.
    support_cost_per_hour : float
        Support cost per agent hour (``costs.support_cost`` = handle hours x this).
    ces_response_rate : float
        Share of resolved tickets answered with a CES survey (1-7, 7 = very easy).
    ces_intercept, ces_per_extra_contact, ces_noise_sd : float
        ``CES = clip(round(intercept + per_extra_contact * (contacts - 1) + sd * Z), 1, 7)``.
    comment_rate : mapping of str to float
        Share of answers with an open comment, by survey kind.
    uncoded_share : float
        Share of comments that carry no theme ("Love it.").
    second_theme_rate : float
        Share of coded comments with a second sentence on another theme.
    theme_weights : mapping of str to tuple of float
        Base weight of each theme (order of :data:`_THEMES`) by sentiment.
    early_tenure_onboarding : float
        Onboarding weight multiplier while tenure < ``behaviour.churn.early_life_months``.
    failed_ticket_boost : float
        Support and reliability weight multiplier (negative and neutral comments) in a
        month with a ticket not solved at first contact.
    low_usage_share, low_usage_boost : float
        Ease-of-use weight multiplier (negative and neutral comments) when active users
        / seats < ``low_usage_share``.
    stickiness_intercept, stickiness_slope, stickiness_sd : float
        ``DAU / MAU = clip(intercept + slope * active share + sd * Z, 0.02, 0.95)``;
        ``WAU = DAU + wau_fill * (MAU - DAU)``.
    wau_fill : float
    """

    industries: tuple[tuple[str, float], ...] = (
        ("software", 0.22), ("retail", 0.14), ("healthcare", 0.12), ("finance", 0.12),
        ("manufacturing", 0.12), ("education", 0.10), ("logistics", 0.09), ("media", 0.09),
    )
    regions: tuple[tuple[str, float], ...] = (("AMER", 0.5), ("EMEA", 0.35), ("APAC", 0.15))
    trial_days: int = 14
    support_cost_per_hour: float = 45.0
    ces_response_rate: float = 0.1
    ces_intercept: float = 5.6
    ces_per_extra_contact: float = -0.8
    ces_noise_sd: float = 1.0
    comment_rate: Mapping[str, float] = field(
        default_factory=lambda: {"nps": 0.5, "csat": 0.2, "ces": 0.2}
    )
    uncoded_share: float = 0.08
    second_theme_rate: float = 0.15
    theme_weights: Mapping[str, tuple[float, ...]] = field(
        default_factory=lambda: {
            "negative": (0.6, 1.0, 0.9, 1.0, 1.0, 0.9, 0.6),
            "neutral": (0.6, 0.8, 0.7, 0.6, 1.2, 0.9, 0.6),
            "positive": (0.7, 0.4, 1.2, 0.5, 0.5, 1.5, 0.7),
        }
    )
    early_tenure_onboarding: float = 4.0
    failed_ticket_boost: float = 2.5
    low_usage_share: float = 0.35
    low_usage_boost: float = 2.5
    stickiness_intercept: float = 0.15
    stickiness_slope: float = 0.35
    stickiness_sd: float = 0.05
    wau_fill: float = 0.6

    def to_dict(self) -> dict[str, Any]:
        """Return the parameters as plain JSON-ready data."""
        return {
            "industries": dict(self.industries),
            "regions": dict(self.regions),
            "trial_days": self.trial_days,
            "support_cost_per_hour": self.support_cost_per_hour,
            "ces": {
                "response_rate": self.ces_response_rate,
                "model": "clip(round(intercept + per_extra_contact * (contacts_to_resolve - 1)"
                         " + noise_sd * Z), 1, 7), answered after resolved tickets",
                "intercept": self.ces_intercept,
                "per_extra_contact": self.ces_per_extra_contact,
                "noise_sd": self.ces_noise_sd,
            },
            "comments": {
                "rate_by_kind": dict(self.comment_rate),
                "uncoded_share": self.uncoded_share,
                "second_theme_rate": self.second_theme_rate,
                "themes": list(_THEMES),
                "theme_weights_by_sentiment": {k: list(v) for k, v in self.theme_weights.items()},
                "early_tenure_onboarding_multiplier": self.early_tenure_onboarding,
                "failed_ticket_multiplier_support_reliability": self.failed_ticket_boost,
                "low_usage_share": self.low_usage_share,
                "low_usage_multiplier_ease_of_use": self.low_usage_boost,
                "sentiment": "from the score: NPS 9-10 / 7-8 / 0-6, CSAT 4-5 / 3 / 1-2, "
                             "CES 5-7 / 4 / 1-3 = positive / neutral / negative",
                "templates": "cs_sim/resources/survey_comments.yaml",
            },
            "usage": {
                "dau_over_mau": "clip(intercept + slope * active_users / seats + sd * Z, "
                                "0.02, 0.95)",
                "stickiness_intercept": self.stickiness_intercept,
                "stickiness_slope": self.stickiness_slope,
                "stickiness_sd": self.stickiness_sd,
                "wau": "dau + wau_fill * (active_users - dau)",
                "wau_fill": self.wau_fill,
            },
            "tickets": {
                "categories_first_contact": dict(_CATEGORIES_OK),
                "categories_not_first_contact": dict(_CATEGORIES_FAIL),
                "resolution_days": "first contact: 0 (p=0.6) else 1-2; otherwise "
                                   "ceil(Gamma(shape=contacts_to_resolve, scale=1.2)); "
                                   "open (missing resolved_at) if after the period",
            },
        }


_CATEGORIES_OK = (("how-to", 0.45), ("billing", 0.15), ("account", 0.15), ("bug", 0.15),
                  ("integration", 0.10))
_CATEGORIES_FAIL = (("bug", 0.40), ("integration", 0.25), ("performance", 0.15),
                    ("how-to", 0.10), ("billing", 0.10))
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


# ---------------------------------------------------------------------------- results
@dataclass(frozen=True, eq=False)
class SyntheticCompany:
    """A generated company: its tables, the ground truth and the engine's record.

    Attributes
    ----------
    scenario : Scenario
        The scenario actually run (options applied).
    seed : int
    replication : int
        Which replication of the seed the company is (its numbers equal replication
        ``replication`` of ``cs_sim.simulate(scenario, seed=seed)``).
    dataset : cs_sim.io.Dataset
        The canonical tables (extra columns: ``accounts.segment``, ``accounts.tier``,
        ``interactions.intervention``).
    ground_truth : dict
        What ``ground_truth.json`` holds.
    history : cs_sim.sim.History
        The engine's per-account record the tables were made from.
    options : dict
        The generator options (for the manifest and the README).
    """

    scenario: Scenario
    seed: int
    replication: int
    dataset: Dataset
    ground_truth: dict[str, Any]
    history: History
    options: dict[str, Any]

    def write(
        self,
        path: str | os.PathLike[str],
        *,
        format: Literal["csv", "parquet"] = "csv",
        force: bool = False,
        command: str | None = None,
    ) -> Path:
        """Write the company to a folder (see :func:`write_company`)."""
        return write_company(self, path, format=format, force=force, command=command)


# ---------------------------------------------------------------------------- helpers
def default_scenario_path() -> Path:
    """Path of ``templates/scenarios/sample_company.yaml`` of this project.

    Looked up next to the package (a source checkout), then in the working directory.

    Raises
    ------
    cs_sim.errors.ScenarioError
        If neither exists (e.g. an installed package): pass a scenario explicitly.
    """
    here = Path(__file__).resolve().parents[1] / DEFAULT_SCENARIO
    for candidate in (here, Path.cwd() / DEFAULT_SCENARIO):
        if candidate.is_file():
            return candidate
    raise ScenarioError(
        f"the default scenario {DEFAULT_SCENARIO} was not found; pass a scenario YAML "
        "(e.g. --scenario templates/scenarios/baseline.yaml)"
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


def _plan_names(scenario: Scenario) -> dict[str, str]:
    prices = sorted({s.price_per_seat for s in scenario.segments})
    names = _PLAN_NAMES.get(len(prices))
    out = {}
    for s in scenario.segments:
        k = prices.index(s.price_per_seat)
        out[s.name] = names[k] if names else f"plan_{k + 1}"
    return out


def _csm_tiers(scenario: Scenario) -> list[str]:
    """Tiers whose accounts have a named CSM: a team and some CSM-owned play there."""
    from cs_sim.sim.policies import compile_plays

    plays = compile_plays(scenario)
    out = []
    for t, tier in enumerate(scenario.tiers):
        if tier.team.headcount <= 0:
            continue
        if any(p.tier_mask[t] and p.hours_by_tier[t] > 0 for p in plays):
            out.append(tier.name)
    return out


def _load_comments() -> dict[str, Any]:
    from importlib.resources import files

    import yaml

    text = files("cs_sim").joinpath("resources", "survey_comments.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def _sentiment(kind: np.ndarray, score: np.ndarray) -> np.ndarray:
    """0 negative, 1 neutral, 2 positive (the bands of cs_sim.kpis.feedback_themes)."""
    out = np.ones(score.size, dtype=np.int64)
    for name, pos, neg in (("nps", score >= 9, score <= 6), ("csat", score >= 4, score <= 2),
                           ("ces", score >= 5, score <= 3)):
        m = kind == name
        out[m & pos] = 2
        out[m & neg] = 0
    return out


# ---------------------------------------------------------------------------- export
def _accounts(
    sc: Scenario, seed: int, rep: int, h: History, start: np.datetime64, p: SynthParams
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """Customers and trial prospects; returns (accounts, slot -> id array, trials)."""
    acc = h.accounts.sort_values("slot", kind="stable").reset_index(drop=True)
    panel = h.panel
    last = panel.drop_duplicates("slot", keep="last").set_index("slot")
    n = len(acc)
    rng = synth_generator(seed, rep, "accounts")
    plans = _plan_names(sc)
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
    category = np.where(ok, _choice(rng, _CATEGORIES_OK, n), _choice(rng, _CATEGORIES_FAIL, n))
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
    allsv["comment"] = _comments(sc, h, allsv, seed, rep, p)
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


def _comments(
    sc: Scenario, h: History, sv: pd.DataFrame, seed: int, rep: int, p: SynthParams
) -> np.ndarray:
    """Open comments (None for answers without one) for the rows of ``sv``."""
    rng = synth_generator(seed, rep, "comments")
    lib = _load_comments()
    n = len(sv)
    kind = sv["kind"].to_numpy(dtype=object)
    score = sv["score"].to_numpy(dtype=np.int64)
    rate = np.array([p.comment_rate.get(k, 0.0) for k in kind], dtype=float)
    u = rng.random((6, n))  # fixed draws per answer: has, uncoded, theme, second, two picks
    has = u[0] < rate
    sent = _sentiment(kind, score)
    # the account's state in the answer's month
    pnl = h.panel.set_index(["slot", "month"])
    key = pd.MultiIndex.from_arrays([sv["_slot"].to_numpy(), sv["_month"].to_numpy()])
    state = pnl.reindex(key)
    failed = state["failed_tickets"].fillna(0).to_numpy(dtype=float) > 0
    seats = state["seats"].fillna(1).to_numpy(dtype=float)
    share = state["active_users"].fillna(0).to_numpy(dtype=float) / np.maximum(seats, 1)
    acq = h.accounts.set_index("slot")["acquired_month"]
    tenure = sv["_month"].to_numpy() - acq.reindex(sv["_slot"]).to_numpy()
    early = tenure < sc.behaviour.churn.early_life_months
    w = np.array([p.theme_weights[_SENTIMENTS[s]] for s in sent], dtype=float).reshape(n, -1)
    ti = {t: i for i, t in enumerate(_THEMES)}
    w[early, ti["onboarding"]] *= p.early_tenure_onboarding
    unhappy = sent < 2
    w[failed & unhappy, ti["support"]] *= p.failed_ticket_boost
    w[failed & unhappy, ti["reliability"]] *= p.failed_ticket_boost
    w[(share < p.low_usage_share) & unhappy, ti["ease_of_use"]] *= p.low_usage_boost
    cum = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
    cum[:, -1] = 1.0 + 1e-12
    theme = (u[2][:, None] >= cum).sum(axis=1)
    # second theme: drawn from the other themes with the same weights
    w2 = w.copy()
    w2[np.arange(n), theme] = 0.0
    cum2 = np.cumsum(w2 / w2.sum(axis=1, keepdims=True), axis=1)
    cum2[:, -1] = 1.0 + 1e-12
    theme2 = (u[3][:, None] >= cum2).sum(axis=1)
    second = rng.random(n) < p.second_theme_rate
    uncoded = u[1] < p.uncoded_share
    features = lib["features"]
    feat_u = rng.random(n)
    out = np.full(n, None, dtype=object)
    for j in np.flatnonzero(has):
        s = _SENTIMENTS[sent[j]]
        feature = features[int(feat_u[j] * len(features))]
        if uncoded[j]:
            lines = lib["uncoded"][s]
            out[j] = lines[int(u[4][j] * len(lines))]
            continue
        lines = lib["themes"][_THEMES[theme[j]]][s]
        text = lines[int(u[4][j] * len(lines))].format(feature=feature)
        if second[j]:
            lines2 = lib["themes"][_THEMES[theme2[j]]][s]
            text2 = lines2[int(u[5][j] * len(lines2))].format(feature=feature)
            text = f"{text} {text2}"
        out[j] = text[:1].upper() + text[1:]
    return out


def _interactions(
    h: History, ids: np.ndarray, start: np.datetime64, rng: np.random.Generator
) -> pd.DataFrame:
    iv = h.interventions
    months = iv["month"].to_numpy(dtype=np.int64)
    date = _day_in_month(rng, start, months, max_day=28)
    out = pd.DataFrame({
        "account_id": pd.array(ids[iv["slot"].to_numpy(dtype=np.int64)], dtype="str"),
        "date": _ts(date),
        "kind": pd.array(iv["interaction_kind"].to_numpy(dtype=object), dtype="str"),
        "owner_team": pd.array(iv["owner_team"].to_numpy(dtype=object), dtype="str"),
        "intervention": pd.array(iv["intervention"].to_numpy(dtype=object), dtype="str"),
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
        "cs_cost": np.round((mon["csm_cost"] + mon["intervention_cost"]).to_numpy(float), 2),
        "support_cost": np.round(handle.to_numpy(float) / 60.0 * p.support_cost_per_hour, 2),
        "tooling_cost": np.round(mon["programme_cost"].to_numpy(float), 2),
    })


# ---------------------------------------------------------------------------- ground truth
def _clean(value: Any) -> Any:
    """JSON-ready data: NaN/inf to None, numpy scalars to Python."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _engine_version() -> str:
    import cs_sim
    from cs_sim.sim import engine

    return str(getattr(engine, "ENGINE_VERSION", cs_sim.__version__))


def ground_truth(
    scenario: Scenario,
    seed: int,
    *,
    replication: int = 0,
    options: Mapping[str, Any] | None = None,
    params: SynthParams | None = None,
    outcomes: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ground truth of a synthetic company (what ``ground_truth.json`` holds).

    Parameters
    ----------
    scenario : Scenario
        The scenario run.
    seed : int
    replication : int, default 0
    options : mapping, optional
        Generator options to record.
    params : SynthParams, optional
        The generator's own parameters (default :class:`SynthParams`).
    outcomes : mapping, optional
        The engine's per-replication outcomes (for reference).

    Returns
    -------
    dict
        Keys: ``generator``, ``generator_version``, ``cs_sim_version``,
        ``engine_version``, ``seed``, ``replication``, ``options``, ``period``,
        ``scenario`` (the full scenario; :func:`scenario_from_ground_truth` rebuilds it),
        ``behaviour`` (the parameters a calibration must recover, with their
        equations), ``synthetic_details`` and ``outcomes``.
    """
    import cs_sim

    p = params or SynthParams()
    b = scenario.behaviour
    segs = scenario.segments
    per_seg = {
        s.name: {
            "share": s.share,
            "plan": _plan_names(scenario)[s.name],
            "employees_median": s.employees.median,
            "employees_sigma": s.employees.sigma,
            "seat_share": s.seat_share,
            "price_per_seat": s.price_per_seat,
            "annual_share": s.annual_share,
            "health_mean": s.health_mean,
            "health_sd": s.health_sd,
            "churn_intercept": s.churn_intercept,
            "involuntary_rate": s.involuntary_rate,
            "expansion_intercept": s.expansion_intercept,
            "expansion_size": s.expansion_size,
            "contraction_intercept": s.contraction_intercept,
            "contraction_size": s.contraction_size,
            "tickets_per_seat": s.tickets_per_seat,
            "active_share_intercept": s.active_share_intercept,
        }
        for s in segs
    }
    first = scenario.start_month or ""
    start = np.datetime64(first[:7], "M") if first else None
    period = {}
    if start is not None:
        last = start + np.timedelta64(scenario.horizon_months - 1, "M")
        period = {"first_month": str(start), "last_month": str(last),
                  "months": scenario.horizon_months}
    behaviour = {
        "notes": "x = (health - 50) / 10; sigma(v) = 1 / (1 + exp(-v)); the equations are "
                 "those of cs_sim.sim.engine (module docstring)",
        "segments": per_seg,
        "churn": {
            "model": "monthly voluntary hazard p = sigma(churn_intercept[segment] + "
                     "health_slope * x + early_life * [tenure < early_life_months] + "
                     "tenure_slope * min(tenure, 36) / 12) x play and programme "
                     "multipliers; involuntary q = involuntary_rate[segment]; annual "
                     "contracts decide only at 12-month anniversaries with 1-(1-p)^12",
            "intercept_by_segment": {s.name: s.churn_intercept for s in segs},
            "involuntary_rate_by_segment": {s.name: s.involuntary_rate for s in segs},
            "health_slope": b.churn.health_slope,
            "early_life": b.churn.early_life,
            "early_life_months": b.churn.early_life_months,
            "tenure_slope": b.churn.tenure_slope,
        },
        "expansion": {
            "model": "p = sigma(expansion_intercept[segment] + expansion_health_slope * x) "
                     "x play multipliers; seats = ceil(seats * (1 + expansion_size))",
            "intercept_by_segment": {s.name: s.expansion_intercept for s in segs},
            "size_by_segment": {s.name: s.expansion_size for s in segs},
            "health_slope": b.expansion.expansion_health_slope,
        },
        "contraction": {
            "model": "p = sigma(contraction_intercept[segment] + contraction_health_slope "
                     "* x); seats = max(1, floor(seats * (1 - contraction_size))); annual "
                     "contracts only at anniversaries",
            "intercept_by_segment": {s.name: s.contraction_intercept for s in segs},
            "size_by_segment": {s.name: s.contraction_size for s in segs},
            "health_slope": b.expansion.contraction_health_slope,
        },
        "health": {
            "model": "h = clip(h + reversion * (health_mean - h) + noise_sd * eps - "
                     "failed_ticket_penalty * failed_tickets - champion_leave_penalty * "
                     "champion_left, 0, 100) + play effects",
            **b.health.model_dump(mode="json"),
            "mean_by_segment": {s.name: s.health_mean for s in segs},
        },
        "usage": {
            "model": "active_share = sigma(active_share_intercept[segment] + health_slope "
                     "* x + noise_sd * eps), eps standard logistic scaled to unit variance; "
                     "active_users = round(seats * active_share)",
            **b.usage.model_dump(mode="json"),
            "active_share_intercept_by_segment": {s.name: s.active_share_intercept
                                                  for s in segs},
        },
        "support": {
            "model": "tickets ~ Poisson(tickets_per_seat[segment] * seats) a month, each "
                     "solved at first contact with probability fcr; else contacts_to_resolve "
                     "= 2 + Poisson(0.7); handle_minutes = Gamma(3, handle_minutes / 3) x "
                     "contacts",
            "fcr": b.support.fcr,
            "handle_minutes": b.support.handle_minutes,
            "champion_leave_rate": b.support.champion_leave_rate,
            "tickets_per_seat_by_segment": {s.name: s.tickets_per_seat for s in segs},
        },
        "nps": {
            "model": "answered with probability nps_response_rate a month; score = "
                     "clip(round(nps_intercept + nps_health_slope * x + nps_noise_sd * Z), "
                     "0, 10)",
            **{k: v for k, v in b.surveys.model_dump(mode="json").items()
               if k.startswith("nps")},
        },
        "csat": {
            "model": "one answer per ticket with probability csat_response_rate; score = "
                     "clip(round(csat_intercept + csat_health_slope * x + csat_first_contact"
                     " * first_contact + csat_noise_sd * Z), 1, 5)",
            **{k: v for k, v in b.surveys.model_dump(mode="json").items()
               if k.startswith("csat")},
        },
        "interventions": {
            iv.name: {"kind": iv.kind, "tiers": list(iv.tiers), "owner": iv.owner,
                      **iv.effect.model_dump(mode="json"),
                      "half_life_months": iv.decay.half_life_months}
            for iv in scenario.interventions
        },
        "onboarding": None if scenario.onboarding is None else {
            **scenario.onboarding.effect.model_dump(mode="json"),
            "half_life_months": scenario.onboarding.decay.half_life_months,
            "hours": dict(scenario.onboarding.hours),
        },
        "acquisition": scenario.acquisition.model_dump(mode="json"),
    }
    return _clean({
        "generator": "cs_sim.synth",
        "generator_version": GENERATOR_VERSION,
        "cs_sim_version": cs_sim.__version__,
        "engine_version": _engine_version(),
        "seed": int(seed),
        "replication": int(replication),
        "options": dict(options or {}),
        "period": period,
        "scenario": scenario.model_dump(mode="json"),
        "behaviour": behaviour,
        "synthetic_details": p.to_dict(),
        "outcomes": dict(outcomes or {}),
    })


def load_ground_truth(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read ``ground_truth.json`` (a file, or a folder holding one).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    dict

    Raises
    ------
    cs_sim.errors.CsSimError
        If the file is missing or not JSON.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "ground_truth.json"
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CsSimError(f"{p}: file not found (a synthetic company has one)") from None
    except json.JSONDecodeError as exc:
        raise CsSimError(f"{p}: not valid JSON ({exc})") from None


def scenario_from_ground_truth(truth: Mapping[str, Any] | str | os.PathLike[str]) -> Scenario:
    """Rebuild the :class:`~cs_sim.sim.Scenario` a synthetic company was generated with.

    Parameters
    ----------
    truth : mapping or path
        The ground truth (as returned by :func:`load_ground_truth`) or its file/folder.

    Returns
    -------
    Scenario
        Equal to :attr:`SyntheticCompany.scenario`.
    """
    from cs_sim.sim.scenario import scenario_from_dict

    data = truth if isinstance(truth, Mapping) else load_ground_truth(truth)
    if "scenario" not in data:
        raise CsSimError("ground truth: no 'scenario' key (not a cs_sim ground_truth.json?)")
    return scenario_from_dict(data["scenario"], source="ground_truth.json")


# ---------------------------------------------------------------------------- generate
def _resolve_scenario(scenario: Scenario | str | os.PathLike[str] | None) -> tuple[Scenario, str]:
    from cs_sim.sim.scenario import Scenario, load_scenario

    if scenario is None:
        path = default_scenario_path()
        return load_scenario(path), _display_path(path)
    if isinstance(scenario, Scenario):
        return scenario, scenario.name
    path = Path(scenario)
    return load_scenario(path), _display_path(path)


def _display_path(path: Path) -> str:
    root = Path(__file__).resolve().parents[1]
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return Path(path).as_posix()


def generate_company(
    scenario: Scenario | str | os.PathLike[str] | None = None,
    *,
    seed: int,
    n_accounts: int | None = None,
    months: int | None = None,
    start_month: str | None = None,
    replication: int = 0,
    params: SynthParams | None = None,
) -> SyntheticCompany:
    """Generate a synthetic company by running the simulator over a past period.

    Parameters
    ----------
    scenario : Scenario, path or None
        The as-is scenario (default ``templates/scenarios/sample_company.yaml``). Its
        population must be synthetic.
    seed : int
        Root seed: same seed and options, same company, byte for byte.
    n_accounts : int, optional
        Customers at the start of the period (``population.n_accounts``).
    months : int, optional
        Months of data (``horizon_months``), at least 2.
    start_month : str, optional
        First month of the data, ``YYYY-MM`` (default the scenario's, else 2023-01).
    replication : int, default 0
        Which replication of the seed to export.
    params : SynthParams, optional
        Parameters of the details the generator adds (comments, dates, ...).

    Returns
    -------
    SyntheticCompany

    Raises
    ------
    cs_sim.errors.ScenarioError
        For a bad scenario or option.

    Examples
    --------
    >>> company = generate_company("templates/scenarios/baseline.yaml", seed=7,
    ...                            n_accounts=200, months=12)  # doctest: +SKIP
    >>> company.dataset.mrr.head()  # doctest: +SKIP
    """
    from cs_sim.io import Dataset
    from cs_sim.sim.runners import resolve_seed, run_history

    sc, source = _resolve_scenario(scenario)
    seed = resolve_seed(seed)
    changes: dict[str, Any] = {}
    if n_accounts is not None:
        if isinstance(n_accounts, bool) or int(n_accounts) < 1:
            raise ScenarioError(f"accounts: must be an integer >= 1 (got {n_accounts!r})")
        changes["population"] = {"n_accounts": int(n_accounts)}
    if months is not None:
        if isinstance(months, bool) or int(months) < 2:
            raise ScenarioError(f"months: must be an integer >= 2 (got {months!r})")
        changes["horizon_months"] = int(months)
    if start_month is not None:
        changes["start_month"] = str(start_month)
    elif sc.start_month is None:
        changes["start_month"] = "2023-01"
    if changes:
        sc = sc.with_changes(changes)
    if sc.population.source != "synthetic":
        raise ScenarioError(
            f"{source}: population.source: the generator needs 'synthetic' (got "
            f"'{sc.population.source}')"
        )
    if sc.horizon_months < 2:
        raise ScenarioError(f"{source}: horizon_months: the generator needs >= 2 months")
    p = params or SynthParams()
    history = run_history(sc, seed, replication=replication)
    assert sc.start_month is not None
    start = np.datetime64(sc.start_month[:7], "M")
    n_months = sc.horizon_months
    end_day = (start + np.timedelta64(n_months, "M")).astype("datetime64[D]") - np.timedelta64(
        1, "D"
    )
    accounts, ids, trials = _accounts(sc, seed, replication, history, start, p)
    mrr = _mrr(history, ids, start)
    usage = _usage(history, ids, start, synth_generator(seed, replication, "usage"), p)
    tickets = _tickets(history, ids, start, end_day, synth_generator(seed, replication, "tickets"))
    surveys = _surveys(sc, history, ids, start, tickets, seed, replication, p)
    interactions = _interactions(
        history, ids, start, synth_generator(seed, replication, "interactions")
    )
    costs = _costs(history, tickets, start, n_months, p)
    tickets = tickets.drop(columns=["_month", "_slot"])
    dataset = Dataset(
        accounts=accounts, mrr=mrr, usage=usage, tickets=tickets, surveys=surveys,
        trials=trials, interactions=interactions, costs=costs,
        source=f"cs_sim.synth(seed={seed})",
    )
    options = {
        "scenario": source,
        "seed": int(seed),
        "accounts": sc.population.n_accounts,
        "months": n_months,
        "start_month": sc.start_month[:7],
        "replication": int(replication),
    }
    outcomes = _outcomes(sc, seed, replication, history)
    truth = ground_truth(sc, seed, replication=replication, options=options, params=p,
                         outcomes=outcomes)
    log.info("generated a company: %d accounts, %d months, seed %d", len(accounts), n_months,
             seed)
    return SyntheticCompany(sc, int(seed), int(replication), dataset, truth, history, options)


def _outcomes(sc: Scenario, seed: int, rep: int, h: History) -> dict[str, Any]:
    mon = h.monthly
    return {
        "customers_start": int(mon["accounts_start"].iloc[0]),
        "customers_end": int(mon["accounts_end"].iloc[-1]),
        "new_logos": int(mon["new_logos"].sum()),
        "churned_voluntary": int(mon["churned_voluntary"].sum()),
        "churned_involuntary": int(mon["churned_involuntary"].sum()),
        "mrr_end_first_month": float(mon["mrr_end"].iloc[0]),
        "mrr_end_last_month": float(mon["mrr_end"].iloc[-1]),
        "mean_monthly_logo_churn": float(mon["churned"].sum() / mon["accounts_start"].sum()),
        "interventions_delivered": {
            str(k): int(v) for k, v in h.interventions.groupby("intervention").size().items()
        },
    }


# ---------------------------------------------------------------------------- write
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _check_target(folder: Path, force: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise CsSimError(f"cannot write a company to '{folder}': it is a file, not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise CsSimError(
            f"'{folder}' is not empty; choose another folder or pass --force "
            "(force=True) to replace it"
        )


def write_company(
    company: SyntheticCompany,
    path: str | os.PathLike[str],
    *,
    format: Literal["csv", "parquet"] = "csv",
    force: bool = False,
    command: str | None = None,
) -> Path:
    """Write a company's tables, ``ground_truth.json``, ``manifest.json`` and ``README.md``.

    Everything is written into a temporary folder beside ``path`` and moved into place
    only when complete; with ``force`` an existing folder is replaced as a whole.

    Parameters
    ----------
    company : SyntheticCompany
    path : str or os.PathLike
        The folder to create.
    format : {"csv", "parquet"}, default "csv"
    force : bool, default False
        Replace ``path`` when it exists and is not empty.
    command : str, optional
        The command that regenerates the folder (shown in the README; default a
        ``cs-sim generate`` line built from the options).

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    cs_sim.errors.CsSimError
        If ``path`` is a file, or a non-empty folder and ``force`` is False.
    """
    from cs_sim.io import write_dataset

    if format not in ("csv", "parquet"):
        raise CsSimError(f"format: must be 'csv' or 'parquet' (got {format!r})")
    folder = Path(path)
    _check_target(folder, force)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".{folder.name}.partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        write_dataset(company.dataset, tmp, format=format)
        truth_text = json.dumps(company.ground_truth, indent=2, sort_keys=False) + "\n"
        (tmp / "ground_truth.json").write_text(truth_text, encoding="utf-8")
        options = {**company.options, "format": format}
        cmd = command or _command(folder, options)
        files = {}
        for name in [*(f"{t}.{format}" for t in TABLE_NAMES), "ground_truth.json"]:
            fp = tmp / name
            table = name.split(".")[0]
            rows = len(company.dataset.tables()[table]) if table in TABLE_NAMES else None
            files[name] = {"sha256": _sha256(fp), "bytes": fp.stat().st_size, "rows": rows}
        manifest = {
            "generator": "cs_sim.synth",
            "generator_version": GENERATOR_VERSION,
            "cs_sim_version": company.ground_truth["cs_sim_version"],
            "engine_version": company.ground_truth["engine_version"],
            "command": cmd,
            "options": options,
            "files": files,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n",
                                           encoding="utf-8")
        readme = _readme(company, files, cmd, format, folder.as_posix())
        (tmp / "README.md").write_text(readme, encoding="utf-8")
        _move_into_place(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _move_into_place(tmp: Path, folder: Path) -> None:
    old = None
    if folder.exists():
        old = folder.parent / f".{folder.name}.old-{os.getpid()}"
        if old.exists():
            shutil.rmtree(old)
        folder.rename(old)
    try:
        tmp.rename(folder)
    except BaseException:
        if old is not None:
            old.rename(folder)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _command(folder: Path, options: Mapping[str, Any]) -> str:
    parts = ["cs-sim generate", folder.as_posix(), f"--seed {options['seed']}"]
    if options.get("scenario") and str(options["scenario"]).endswith((".yaml", ".yml")):
        parts.append(f"--scenario {options['scenario']}")
    parts += [f"--accounts {options['accounts']}", f"--months {options['months']}",
              f"--start-month {options['start_month']}", f"--format {options['format']}"]
    return " ".join(parts)


def generate(
    path: str | os.PathLike[str],
    scenario: Scenario | str | os.PathLike[str] | None = None,
    *,
    seed: int,
    n_accounts: int | None = None,
    months: int | None = None,
    start_month: str | None = None,
    format: Literal["csv", "parquet"] = "csv",
    force: bool = False,
    command: str | None = None,
) -> SyntheticCompany:
    """Generate a company and write it to ``path`` (what ``cs-sim generate`` runs).

    The target is checked before the (slower) simulation: a non-empty folder without
    ``force`` is refused at once.

    Parameters
    ----------
    path : str or os.PathLike
    scenario : Scenario, path or None
    seed : int
    n_accounts, months, start_month
        See :func:`generate_company`.
    format : {"csv", "parquet"}, default "csv"
    force : bool, default False
    command : str, optional
        Regeneration command for the README.

    Returns
    -------
    SyntheticCompany
    """
    if format not in ("csv", "parquet"):
        raise CsSimError(f"format: must be 'csv' or 'parquet' (got {format!r})")
    _check_target(Path(path), force)
    company = generate_company(scenario, seed=seed, n_accounts=n_accounts, months=months,
                               start_month=start_month)
    write_company(company, path, format=format, force=force, command=command)
    return company


# ---------------------------------------------------------------------------- README
def _md_table(frame: pd.DataFrame) -> str:
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines)


def _pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{100 * x:.1f}%"


def _money(x: float) -> str:
    return f"{x:,.0f}"


def _rule_text(rule: Sequence[Any]) -> str:
    if not rule:
        return "all other accounts"
    return " and ".join(f"{c.attribute} {c.op} {c.value:,g}" if isinstance(c.value, (int, float))
                        else f"{c.attribute} {c.op} {c.value}" for c in rule)


def headline_kpis_text(dataset: Dataset) -> str:
    """The headline table of ``cs-sim kpis`` (default window) for a dataset.

    Parameters
    ----------
    dataset : cs_sim.io.Dataset

    Returns
    -------
    str
        The first block of :meth:`cs_sim.baseline.KpiBaseline.to_text` (title line and
        headline table), as printed by ``cs-sim kpis FOLDER``.
    """
    from cs_sim.baseline import kpi_baseline

    text = kpi_baseline(dataset).to_text()
    return text.split("\n\nMRR bridge")[0].rstrip()


def _readme(
    company: SyntheticCompany,
    files: Mapping[str, Mapping[str, Any]],
    command: str,
    fmt: str,
    folder: str,
) -> str:
    """The README.md of a generated company folder (every number from its own data)."""
    from cs_sim.kpis import mrr_bridge, revenue_retention

    sc, ds, h, opts = company.scenario, company.dataset, company.history, company.options
    acc = ds.accounts
    mrr = ds.mrr
    months = sorted(mrr["month"].unique())
    first, last = pd.Timestamp(months[0]), pd.Timestamp(months[-1])
    paying = set(mrr["account_id"])
    prospects = ~ds.trials["converted"] if ds.trials is not None else pd.Series(dtype=bool)
    prospect_ids = set(ds.trials.loc[prospects, "account_id"]) if ds.trials is not None else set()
    is_prospect = acc["account_id"].isin(prospect_ids).to_numpy()
    is_cust = ~is_prospect
    n_prospects = int(is_prospect.sum())
    n_gone = int((is_cust & ~acc["account_id"].isin(paying).to_numpy()).sum())
    at_first = mrr[mrr["month"] == first]
    at_last = mrr[mrr["month"] == last]
    bridge = mrr_bridge(mrr)
    window = revenue_retention(mrr, start=first, end=last).iloc[0]
    churned = int(bridge["churned_accounts"].sum())
    won = int(bridge["new_accounts"].sum())
    mon = h.monthly
    vol, inv = int(mon["churned_voluntary"].sum()), int(mon["churned_involuntary"].sum())
    early_months = sc.behaviour.churn.early_life_months
    pnl = h.panel.merge(h.accounts[["slot", "acquired_month"]], on="slot")
    at_risk = pnl[pnl["month"] - pnl["acquired_month"] >= 1]
    young = (at_risk["month"] - at_risk["acquired_month"]) < early_months
    lost = (at_risk["churn"] != "").to_numpy()
    early_rate = float(lost[young.to_numpy()].mean()) if young.any() else float("nan")
    late_rate = float(lost[~young.to_numpy()].mean()) if (~young).any() else float("nan")
    # segments -----------------------------------------------------------------------------
    plans = _plan_names(sc)
    cust = acc[is_cust]
    seg_rows = []
    last_ids = set(at_last["account_id"])
    mrr_last = at_last.merge(acc[["account_id", "segment"]], on="account_id")
    for s in sc.segments:
        c = cust[cust["segment"] == s.name]
        ids = set(c["account_id"])
        seg_churn = float("nan")
        sub = mrr[mrr["account_id"].isin(ids)]
        if len(sub):
            br = mrr_bridge(sub)
            if br["start_accounts"].sum() > 0:
                seg_churn = float(br["churned_accounts"].sum() / br["start_accounts"].sum())
        seg_rows.append({
            "segment": s.name,
            "plan": plans[s.name],
            "price per seat": f"{s.price_per_seat:g}",
            "customers (ever)": len(c),
            f"paying {last:%Y-%m}": len(ids & last_ids),
            "median employees": int(c["employees"].median()) if len(c) else 0,
            "annual contracts": _pct(float((c["contract"] == "annual").mean())) if len(c)
            else "n/a",
            "avg monthly logo churn": _pct(seg_churn),
            f"share of MRR {last:%Y-%m}": _pct(
                float(mrr_last.loc[mrr_last["segment"] == s.name, "mrr"].sum()
                      / max(mrr_last["mrr"].sum(), 1e-12))
            ),
        })
    tier_rows = []
    tier_last = acc.set_index("account_id")["tier"].reindex(sorted(last_ids))
    for t in sc.tiers:
        tier_rows.append({
            "tier": t.name,
            "rule": _rule_text(t.rule),
            "CSMs": t.team.headcount,
            f"accounts {last:%Y-%m}": int((tier_last == t.name).sum()),
        })
    delivered = (ds.interactions.groupby("intervention").size()
                 if ds.interactions is not None and len(ds.interactions) else pd.Series())
    plays = [{"intervention": "onboarding", "kind": "trigger (new account)",
              "tiers": "all", "delivered": int(delivered.get("onboarding", 0))}] \
        if sc.onboarding is not None else []
    for iv in sc.interventions:
        plays.append({"intervention": iv.name, "kind": iv.kind, "tiers": ", ".join(iv.tiers),
                      "delivered": int(delivered.get(iv.name, 0))})
    file_rows = [
        {"file": name, "rows": "" if meta.get("rows") is None else f"{meta['rows']:,}",
         "MB": f"{meta['bytes'] / 1e6:.2f}"}
        for name, meta in files.items()
    ]
    total_mb = sum(meta["bytes"] for meta in files.values()) / 1e6
    desc = " ".join(sc.description.split()) if sc.description else ""
    n_months = len(months)
    lines = [
        f"# Synthetic company `{sc.name}` (seed {company.seed})",
        "",
        "Generated by the cs_sim simulator (`cs_sim.synth`): one replication of the scenario "
        "below run with its as-is customer-success policy over a past period and exported as "
        "the canonical tables. Do not edit the files by hand: regenerate them (see the end).",
        "",
        desc,
        "",
        "## Files",
        "",
        _md_table(pd.DataFrame(file_rows)),
        "",
        f"Total {total_mb:.1f} MB ({fmt}). `ground_truth.json` holds the full scenario, the "
        "seed, the engine version and the behavioural parameters (churn hazard per segment, "
        "health slope, early-life effect, expansion and contraction, FCR, NPS model, ...) "
        "that a calibration of these data should recover; `manifest.json` holds the "
        "SHA-256 of every file.",
        "",
        "## The company",
        "",
        f"- Period: {first:%Y-%m} to {last:%Y-%m} ({n_months} months; every table covers "
        "these months).",
        f"- Accounts: {len(acc):,} rows = {int(is_cust.sum()):,} customers "
        f"({len(at_first):,} paying in {first:%Y-%m}, {won:,} won later) and "
        f"{n_prospects:,} trial prospects that never converted (in `accounts` and `trials`, "
        "no MRR). Customers of the first month signed up earlier; their earlier history is "
        f"not in the data ({n_gone:,} of them left in the first month itself: usage and "
        "tickets but no MRR row, since MRR is 0 from the month an account churns).",
        "- Extra columns: `accounts.segment` (the true segment), `accounts.tier` (last "
        "service tier), `interactions.intervention` (the play that caused the touchpoint).",
        "- Names, industries and regions are random and have no effect on behaviour; plans "
        "follow the segment's price per seat.",
        "",
        "Segments:",
        "",
        _md_table(pd.DataFrame(seg_rows)),
        "",
        "Service tiers (the first rule that holds wins; re-tiered at each 12-month "
        "anniversary):",
        "",
        _md_table(pd.DataFrame(tier_rows)),
        "",
        "Plays (interventions) and how often they were delivered:",
        "",
        _md_table(pd.DataFrame(plays)) if plays else "(none)",
        "",
        "## What happened",
        "",
        f"- Paying customers went from {len(at_first):,} in {first:%Y-%m} to "
        f"{len(at_last):,} in {last:%Y-%m}: {won:,} won and {churned:,} lost after the "
        "first month.",
        f"- MRR went from {_money(at_first['mrr'].sum())} to {_money(at_last['mrr'].sum())}. "
        f"Of the MRR of the first month's customers, {_pct(float(window['nrr']))} was still "
        f"there at the end (NRR over the period) and {_pct(float(window['grr']))} without "
        f"expansion (GRR); {_pct(float(window['logo_churn_rate']))} of those customers left.",
        f"- Average monthly logo churn {_pct(churned / max(bridge['start_accounts'].sum(), 1))}"
        f". By the engine's record (month 0 included): {vol:,} voluntary and {inv:,} "
        f"involuntary churns; monthly churn {_pct(early_rate)} in the first "
        f"{early_months} months of a customer's life and {_pct(late_rate)} later.",
        "",
        "## Headline KPIs",
        "",
        f"From `cs-sim kpis {folder}` (default window: the 12 months before the last month "
        "and the last month):",
        "",
        "```text",
        headline_kpis_text(replace(ds, source=folder)),
        "```",
        "",
        "## Regenerate",
        "",
        "```bash",
        command + " --force",
        "```",
        "",
        "Same seed and options give byte-identical files (cs_sim "
        f"{company.ground_truth['cs_sim_version']}, generator version {GENERATOR_VERSION}). "
        "Options: "
        + ", ".join(f"{k}={v}" for k, v in opts.items()) + ".",
        "",
    ]
    return "\n".join(lines)
