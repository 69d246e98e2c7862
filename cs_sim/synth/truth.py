"""Ground truth of a synthetic company: what ``ground_truth.json`` holds.

The full scenario (so :func:`scenario_from_ground_truth` rebuilds it), the seed, the
engine version, the behavioural parameters a calibration of the data must recover with
their equations, the generator's own parameters and the run's outcomes. The equations
of the recorded data (tickets, CSAT) are read from :data:`cs_sim.sim.record.EQUATIONS`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cs_sim.errors import CsSimError
from cs_sim.format import to_jsonable
from cs_sim.sim.record import EQUATIONS
from cs_sim.synth.params import GENERATOR_VERSION, SynthParams
from cs_sim.synth.tables import plan_names

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.sim.record import History
    from cs_sim.sim.scenario import Scenario

__all__ = ["ground_truth", "load_ground_truth", "run_outcomes", "scenario_from_ground_truth"]


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
            "plan": plan_names(scenario)[s.name],
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
                  "months": scenario.horizon_months, "warmup_months": scenario.warmup()}
    behaviour = {
        "notes": "x = (health - 50) / 10; sigma(v) = 1 / (1 + exp(-v)); the equations are "
                 "those of cs_sim.sim.model (module docstring)",
        "segments": per_seg,
        "churn": {
            "model": "monthly voluntary hazard p = sigma(churn_intercept[segment] + "
                     "health_slope * x + early_life * [tenure < early_life_months] + "
                     "tenure_slope * min(tenure, 36) / 12) x play and programme "
                     "multipliers; involuntary q = involuntary_rate[segment]; annual "
                     "contracts decide only at renewal (every contract_months[segment] of "
                     "tenure) with 1 - prod over the term's months of (1 - p), and of (1 - q)",
            "intercept_by_segment": {s.name: s.churn_intercept for s in segs},
            "involuntary_rate_by_segment": {s.name: s.involuntary_rate for s in segs},
            "contract_months_by_segment": {s.name: s.contract_months for s in segs},
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
                     "contracts only at renewal, with 1 - prod over the term's months of "
                     "(1 - p)",
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
            "model": EQUATIONS["tickets"].text,
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
            "model": EQUATIONS["csat"].text,
            **{k: v for k, v in b.surveys.model_dump(mode="json").items()
               if k.startswith("csat")},
        },
        "plays": {
            play.name: {"kind": play.kind, "tiers": list(play.tiers), "owner": play.owner,
                        **play.effect.model_dump(mode="json"),
                        "half_life_months": play.decay.half_life_months}
            for play in scenario.plays
        },
        "onboarding": None if scenario.onboarding is None else {
            **scenario.onboarding.effect.model_dump(mode="json"),
            "half_life_months": scenario.onboarding.decay.half_life_months,
            "hours": dict(scenario.onboarding.hours),
        },
        "acquisition": scenario.acquisition.model_dump(mode="json"),
    }
    return to_jsonable({
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
    from cs_sim.sim.scenario_io import scenario_from_dict

    data = truth if isinstance(truth, Mapping) else load_ground_truth(truth)
    if "scenario" not in data:
        raise CsSimError("ground truth: no 'scenario' key (not a cs_sim ground_truth.json?)")
    return scenario_from_dict(data["scenario"], source="ground_truth.json")


def run_outcomes(h: History) -> dict[str, Any]:
    """The run's outcomes recorded in the ground truth, for reference.

    Parameters
    ----------
    h : cs_sim.sim.History
        The record of the replication.

    Returns
    -------
    dict
        Customers at start and end, new logos, voluntary and involuntary churns, MRR
        of the first and last month, mean monthly logo churn, plays delivered by name.
    """
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
        "plays_delivered": {
            str(k): int(v) for k, v in h.plays.groupby("play").size().items()
        },
    }
