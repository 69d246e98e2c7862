"""Plays and retention changes of a scenario in array-friendly form.

A :class:`CompiledPlay` is the engine's view of one :class:`~cs_sim.sim.scenario.Play`
(or of the onboarding programme, compiled as the trigger-based play ``onboarding`` on
the ``new_account`` event). Conditions and triggers are structured data; they are
evaluated with :mod:`operator` functions on numpy arrays, never with ``eval``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from cs_sim.sim.rng import play_stream_key
from cs_sim.sim.scenario import Effect, Scenario

__all__ = [
    "OPERATORS",
    "RETENTION_TARGETS",
    "CompiledPlay",
    "compile_plays",
    "condition_mask",
    "retention_multipliers",
]

#: comparison operators a condition may use
OPERATORS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}

#: what a retention change may multiply
RETENTION_TARGETS = ("early_life_churn", "voluntary_churn", "involuntary_churn", "expansion",
                     "contraction")

#: name of the play compiled from ``Scenario.onboarding``
ONBOARDING = "onboarding"


@dataclass(frozen=True, eq=False)
class CompiledPlay:
    """One play in the engine's form.

    Attributes
    ----------
    name, kind : str
        As in the scenario (``kind`` is time, data or trigger).
    every, offset : int
        Time-based cadence: due when ``tenure % every == offset`` (and tenure >= 1).
    conditions : tuple of (metric, op, value)
        Data-based test (all must hold).
    cooldown : int
        Months before a data-based play may fire again for the same account.
    event : str or None
        Trigger-based event; ``threshold`` its parameter.
    tier_mask, seg_mask : ndarray of bool
        Eligible tiers (by tier index) and segments (by segment index).
    hours_by_tier : ndarray of float
        CSM hours one delivery takes in each tier; 0 means automated (no queue).
    cost, reach, priority, max_wait, wait_decay
        As in the scenario.
    hazard_multiplier, health, expansion_multiplier : float
        Effect at full strength.
    decay_factor : float
        Monthly factor of the effect level, ``0.5 ** (1 / half_life_months)``.
    owner_team, interaction_kind : str
        Labels for recorded interactions (owner_team ``None`` = the account's tier).
    stream_key : int
        Key of this play's random stream (a CRC-32 of its name), so that adding a play
        to a scenario does not shift the random numbers of the others.
    start : int or None
        First month of the horizon the play runs (None: always, the warm-up included).
    """

    name: str
    kind: str
    every: int
    offset: int
    conditions: tuple[tuple[str, str, float], ...]
    cooldown: int
    event: str | None
    threshold: float | None
    tier_mask: np.ndarray
    seg_mask: np.ndarray
    hours_by_tier: np.ndarray
    cost: float
    reach: float
    priority: int
    max_wait: int
    wait_decay: float
    hazard_multiplier: float
    health: float
    expansion_multiplier: float
    decay_factor: float
    owner_team: str | None
    interaction_kind: str
    stream_key: int
    start: int | None = None

    @property
    def uses_csm(self) -> bool:
        """True when some eligible tier needs CSM hours for this play."""
        return bool(np.any(self.hours_by_tier[self.tier_mask] > 0))

    def started(self, month: int) -> bool:
        """Whether the play runs in ``month`` (months of the warm-up are negative)."""
        return self.start is None or month >= self.start


def _effect_fields(effect: Effect, half_life: float) -> dict[str, float]:
    return {
        "hazard_multiplier": float(effect.hazard_multiplier),
        "health": float(effect.health),
        "expansion_multiplier": float(effect.expansion_multiplier),
        "decay_factor": float(0.5 ** (1.0 / half_life)),
    }


def compile_plays(scenario: Scenario) -> list[CompiledPlay]:
    """Compile the onboarding programme and the plays of ``scenario``.

    Parameters
    ----------
    scenario : Scenario

    Returns
    -------
    list of CompiledPlay
        Onboarding first (when the scenario has one), then the scenario's plays in order.
    """
    tiers = scenario.tier_names()
    segs = scenario.segment_names()
    t_index = {t: i for i, t in enumerate(tiers)}
    s_index = {s: i for i, s in enumerate(segs)}
    plays: list[CompiledPlay] = []
    ob = scenario.onboarding
    if ob is not None:
        hours = np.array([float(ob.hours.get(t, 0.0)) for t in tiers])
        plays.append(
            CompiledPlay(
                name=ONBOARDING,
                kind="trigger",
                every=1,
                offset=0,
                conditions=(),
                cooldown=0,
                event="new_account",
                threshold=None,
                tier_mask=np.ones(len(tiers), dtype=bool),
                seg_mask=np.ones(len(segs), dtype=bool),
                hours_by_tier=hours,
                cost=float(ob.cost),
                reach=1.0,
                priority=int(ob.priority),
                max_wait=int(ob.max_wait_months),
                wait_decay=float(ob.wait_decay),
                owner_team=None,
                interaction_kind="onboarding",
                stream_key=play_stream_key(ONBOARDING),
                **_effect_fields(ob.effect, ob.decay.half_life_months),
            )
        )
    for play in scenario.plays:
        tier_mask = np.zeros(len(tiers), dtype=bool)
        tier_mask[[t_index[t] for t in play.tiers]] = True
        seg_mask = np.ones(len(segs), dtype=bool)
        if play.segments is not None:
            seg_mask[:] = False
            seg_mask[[s_index[s] for s in play.segments]] = True
        hours = np.full(len(tiers), float(play.hours) if play.owner == "csm" else 0.0)
        threshold = None if play.trigger is None else play.trigger.threshold
        if play.trigger is not None and threshold is None:
            threshold = {"detractor": 6.0, "support_failure": 1.0}.get(play.trigger.event)
        plays.append(
            CompiledPlay(
                name=play.name,
                kind=play.kind,
                every=play.schedule.every_months if play.schedule else 1,
                offset=play.schedule.offset_months if play.schedule else 0,
                conditions=tuple((c.metric, c.op, float(c.value)) for c in play.condition),
                cooldown=int(play.cooldown_months),
                event=None if play.trigger is None else play.trigger.event,
                threshold=threshold,
                tier_mask=tier_mask,
                seg_mask=seg_mask,
                hours_by_tier=hours,
                cost=float(play.cost),
                reach=float(play.reach),
                priority=int(play.priority),
                max_wait=int(play.max_wait_months),
                wait_decay=float(play.wait_decay),
                owner_team=play.owner_team,
                interaction_kind=play.interaction_kind or play.name,
                stream_key=play_stream_key(play.name),
                start=play.start_month,
                **_effect_fields(play.effect, play.decay.half_life_months),
            )
        )
    return plays


def condition_mask(
    conditions: tuple[tuple[str, str, float], ...],
    metrics: Mapping[str, np.ndarray] | Any,
    shape: tuple[int, ...],
) -> np.ndarray:
    """Evaluate ``all(metric op value)`` on arrays; NaN never satisfies a condition.

    Parameters
    ----------
    conditions : tuple of (metric, op, value)
    metrics : mapping of str to ndarray
        Arrays of the metrics, all of ``shape``.
    shape : tuple of int

    Returns
    -------
    ndarray of bool
    """
    out = np.ones(shape, dtype=bool)
    for metric, op, value in conditions:
        v = metrics[metric]
        out &= OPERATORS[op](v, value) if op != "!=" else (v != value) & (v == v)  # NaN: no
    return out


def retention_multipliers(scenario: Scenario) -> dict[str, np.ndarray | None]:
    """Multipliers of the scenario's retention changes, by target.

    Returns
    -------
    dict of str to ndarray or None
        For each of :data:`RETENTION_TARGETS`, a ``(segments, tiers)`` table of the
        product of the multipliers of the changes on that target (None when all are 1).
    """
    names, segs = scenario.tier_names(), scenario.segment_names()
    out: dict[str, np.ndarray | None] = {}
    for tgt in RETENTION_TARGETS:
        tab = np.ones((len(segs), len(names)))
        for rc in scenario.retention_changes:
            if rc.target != tgt:
                continue
            si = [segs.index(s) for s in rc.segments] if rc.segments else range(len(segs))
            ti = [names.index(t) for t in rc.tiers] if rc.tiers else range(len(names))
            for s in si:
                for t in ti:
                    tab[s, t] *= rc.multiplier
        out[tgt] = None if np.all(tab == 1.0) else tab
    return out
