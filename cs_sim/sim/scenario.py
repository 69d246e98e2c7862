"""Scenario specification: a validated, immutable description of one what-if.

A :class:`Scenario` is a pydantic v2 model (``extra="forbid"``, frozen). It is usually
written as YAML (see ``templates/scenarios/``) and read with :func:`load_scenario`,
which uses ``yaml.safe_load`` only and turns every validation problem into a
:class:`~cs_sim.errors.ScenarioError` whose message names the file and the dotted path
of the bad field, e.g.::

    save_play.yaml: interventions[1].effect.hazard_multiplier: must be > 0 (got -0.2)

Inheritance (``extends``)
-------------------------
A variant may start with ``extends: baseline.yaml`` (a path relative to the variant's
file) and give only what changes. The parent (itself possibly extending another file)
is deep-merged with the variant:

- mappings merge key by key, recursively; a scalar or a list in the variant replaces the
  parent's value;
- **lists of named items** (``segments``, ``tiers``, ``interventions``,
  ``retention_changes``; any list whose items are all mappings with a ``name``) merge
  *by name*: an item whose name exists in the parent is deep-merged into it (keeping
  the parent's position), a new name is appended, and an item ``{name: X, remove: true}``
  deletes X;
- every other list (e.g. a tier's ``rule``, an intervention's ``condition`` or
  ``tiers``) is replaced as a whole.

Triggers and rules are structured data (metric, operator, value), never strings that
are evaluated.
"""

from __future__ import annotations

import difflib
import json
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cs_sim._yaml import load_yaml_mapping
from cs_sim.errors import ScenarioError

__all__ = [
    "Acquisition",
    "Behaviour",
    "Condition",
    "Decay",
    "Effect",
    "Intervention",
    "Loyalty",
    "Onboarding",
    "Population",
    "RetentionChange",
    "Scenario",
    "Schedule",
    "Segment",
    "Team",
    "Tier",
    "TierCondition",
    "Trigger",
    "load_scenario",
    "scenario_from_dict",
    "scenario_json_schema",
]

NumOp = Literal["<", "<=", ">", ">=", "==", "!="]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]

#: metrics a data-based intervention can test (all numeric, evaluated per account-month)
DATA_METRICS = (
    "health",
    "active_share",
    "usage_change",
    "tenure_months",
    "mrr",
    "arr",
    "nps_score",
    "months_to_renewal",
    "failed_tickets",
)
#: attributes a tier rule (or a segment's ``match``) can test
TIER_ATTRIBUTES = ("arr", "mrr", "employees", "seats", "segment", "health", "contract")


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# ---------------------------------------------------------------------------- parts
class Condition(_Base):
    """A numeric test on one account metric: ``metric op value`` (e.g. health < 40).

    Metrics: ``health`` (0-100), ``active_share`` (active users / seats, 0-1),
    ``usage_change`` (relative change of active users on last month, e.g. -0.3),
    ``tenure_months``, ``mrr``, ``arr``, ``nps_score`` (latest NPS answer, NaN before any:
    a NaN never satisfies a condition), ``months_to_renewal`` (annual contracts; monthly
    ones have 0), ``failed_tickets`` (tickets not solved at first contact this month).
    """

    metric: Literal[DATA_METRICS]  # type: ignore[valid-type]
    op: NumOp
    value: float


class TierCondition(_Base):
    """A test on an account attribute, used by tier rules and segment matching.

    Numeric attributes (``arr``, ``mrr``, ``employees``, ``seats``, ``health``) take a
    comparison operator and a number; ``segment`` and ``contract`` take ``==``, ``!=``
    or ``in`` with a string or a list of strings.
    """

    attribute: Literal[TIER_ATTRIBUTES]  # type: ignore[valid-type]
    op: Literal["<", "<=", ">", ">=", "==", "!=", "in"]
    value: float | str | list[str]

    @model_validator(mode="after")
    def _check_types(self) -> TierCondition:
        categorical = self.attribute in ("segment", "contract")
        if categorical:
            if self.op not in ("==", "!=", "in"):
                raise ValueError(f"attribute '{self.attribute}' takes ==, != or in")
            if self.op == "in" and not isinstance(self.value, list):
                raise ValueError("op 'in' needs a list of values")
            if self.op != "in" and not isinstance(self.value, str):
                raise ValueError(f"attribute '{self.attribute}' compares with a string")
        else:
            if self.op == "in" or isinstance(self.value, (str, list)):
                raise ValueError(f"attribute '{self.attribute}' compares with a number")
        return self


class LogNormal(_Base):
    """A log-normal distribution given by its median and log-scale sigma."""

    median: float = Field(gt=0)
    sigma: float = Field(default=0.8, ge=0)


class Segment(_Base):
    """A customer segment and its behavioural parameters (see the engine's equations)."""

    name: str = Field(min_length=1)
    share: NonNeg = 1.0
    employees: LogNormal = LogNormal(median=50)
    seat_share: float = Field(default=0.3, gt=0, le=1)
    price_per_seat: float = Field(default=30.0, gt=0)
    annual_share: Probability = 0.3
    health_mean: float = Field(default=65.0, ge=0, le=100)
    health_sd: float = Field(default=12.0, ge=0)
    churn_intercept: float = -3.6
    involuntary_rate: float = Field(default=0.004, ge=0, lt=1)
    expansion_intercept: float = -3.4
    expansion_size: float = Field(default=0.2, ge=0)
    contraction_intercept: float = -4.0
    contraction_size: float = Field(default=0.15, ge=0, lt=1)
    tickets_per_seat: NonNeg = 0.02
    active_share_intercept: float = 0.6
    match: list[TierCondition] = Field(
        default_factory=list,
        description="when starting from a dataset without a 'segment' column: accounts "
        "matching all conditions belong to this segment (first match wins; empty = any)",
    )


class Team(_Base):
    """The CSM team serving one tier."""

    headcount: int = Field(default=0, ge=0)
    hours_per_month: float = Field(default=120.0, ge=0)
    cost_per_month: NonNeg = Field(default=9000.0, description="fully loaded cost per CSM")


class Tier(_Base):
    """A service tier: the rule that puts accounts in it and the team serving it.

    Rules are tested in the order the tiers are listed; the first tier whose conditions
    all hold wins. The last tier must have an empty rule (it catches every other
    account) and only the last may.
    """

    name: str = Field(min_length=1)
    rule: list[TierCondition] = Field(default_factory=list)
    team: Team = Team()


class Schedule(_Base):
    """Cadence of a time-based intervention: due when tenure % every == offset."""

    every_months: int = Field(ge=1)
    offset_months: int = Field(default=0, ge=0)


class Trigger(_Base):
    """Event of a trigger-based intervention.

    ``champion_left``: the customer's champion leaves (a random event per account-month);
    ``usage_drop``: active users fell by at least ``threshold`` (a fraction) on last
    month; ``detractor``: an NPS answer <= ``threshold`` (default 6) this month;
    ``support_failure``: at least ``threshold`` (default 1) tickets not solved at first
    contact this month; ``new_account``: the account was acquired this month.
    """

    event: Literal["champion_left", "usage_drop", "detractor", "support_failure", "new_account"]
    threshold: float | None = None

    @model_validator(mode="after")
    def _check_threshold(self) -> Trigger:
        if self.event == "usage_drop":
            if self.threshold is None or not 0 < self.threshold < 1:
                raise ValueError("usage_drop needs a threshold in (0, 1), e.g. 0.3 for -30%")
        elif self.event == "detractor":
            if self.threshold is not None and not 0 <= self.threshold <= 10:
                raise ValueError("detractor threshold is an NPS score in 0..10")
        elif self.event == "support_failure":
            if self.threshold is not None and self.threshold < 1:
                raise ValueError("support_failure threshold is a ticket count >= 1")
        elif self.threshold is not None:
            raise ValueError(f"event '{self.event}' takes no threshold")
        return self


class Effect(_Base):
    """Effect of one delivery: on churn hazard, on health (one-off) and on expansion."""

    hazard_multiplier: float = Field(default=1.0, gt=0)
    health: float = Field(default=0.0, ge=-100, le=100)
    expansion_multiplier: float = Field(default=1.0, gt=0)


class Decay(_Base):
    """How fast the hazard and expansion effects fade (exponential, by half-life)."""

    half_life_months: float = Field(default=3.0, gt=0)


class Intervention(_Base):
    """A CS play: when it fires, who gets it, what it costs and what it does.

    ``kind`` is ``time`` (needs ``schedule``), ``data`` (needs ``condition``: all
    conditions must hold; fires at most once per ``cooldown_months``) or ``trigger``
    (needs ``trigger``). ``owner: csm`` work takes ``hours`` from the tier's CSM team
    and queues when the team is busy; work waiting more than ``max_wait_months`` is
    dropped and each month of waiting scales the effect by ``1 - wait_decay``.
    ``owner: automated`` (tech-touch) is delivered at once and takes no CSM hours.
    """

    name: str = Field(min_length=1)
    kind: Literal["time", "data", "trigger"]
    schedule: Schedule | None = None
    condition: list[Condition] = Field(default_factory=list)
    cooldown_months: int = Field(default=3, ge=0)
    trigger: Trigger | None = None
    tiers: list[str] = Field(min_length=1, description="eligible tiers")
    segments: list[str] | None = Field(default=None, description="eligible segments (all)")
    owner: Literal["csm", "automated"] = "csm"
    owner_team: str | None = Field(
        default=None, description="label for the interactions table (default: the tier)"
    )
    interaction_kind: str | None = Field(default=None, description="default: the name")
    hours: NonNeg = 1.0
    cost: NonNeg = Field(default=0.0, description="money per delivery, beside CSM time")
    reach: float = Field(default=1.0, gt=0, le=1)
    priority: int = Field(default=5, ge=0, description="lower is served first")
    max_wait_months: int = Field(default=2, ge=0)
    wait_decay: float = Field(default=0.25, ge=0, le=1)
    effect: Effect = Effect()
    decay: Decay = Decay()

    @model_validator(mode="after")
    def _check_kind(self) -> Intervention:
        if self.kind == "time" and self.schedule is None:
            raise ValueError("a time-based intervention needs a 'schedule'")
        if self.kind == "data" and not self.condition:
            raise ValueError("a data-based intervention needs a 'condition' (a list)")
        if self.kind == "trigger" and self.trigger is None:
            raise ValueError("a trigger-based intervention needs a 'trigger'")
        if self.kind != "time" and self.schedule is not None:
            raise ValueError("'schedule' is only for kind: time")
        if self.kind != "data" and self.condition:
            raise ValueError("'condition' is only for kind: data")
        if self.kind != "trigger" and self.trigger is not None:
            raise ValueError("'trigger' is only for kind: trigger")
        if self.owner == "csm" and self.hours <= 0:
            raise ValueError("owner 'csm' needs hours > 0 (use owner: automated otherwise)")
        return self


class Onboarding(_Base):
    """The onboarding programme every new account goes through.

    Compiled into a trigger-based intervention on ``new_account``: a tier whose
    ``hours`` is 0 (or absent) onboards automatically, the others take CSM hours.
    """

    hours: dict[str, NonNeg] = Field(default_factory=dict, description="CSM hours by tier")
    cost: NonNeg = 0.0
    priority: int = Field(default=0, ge=0)
    max_wait_months: int = Field(default=2, ge=0)
    wait_decay: float = Field(default=0.25, ge=0, le=1)
    effect: Effect = Effect(hazard_multiplier=0.8, health=5.0)
    decay: Decay = Decay(half_life_months=4.0)


class RetentionChange(_Base):
    """A direct change of a behavioural rate, e.g. "lower early-life churn by 20%".

    ``target`` is one of ``early_life_churn`` (voluntary churn while tenure <
    ``behaviour.churn.early_life_months``), ``voluntary_churn``, ``involuntary_churn``,
    ``expansion``, ``contraction``; the rate's monthly probability is multiplied by
    ``multiplier`` for the accounts of the listed segments and tiers (all if absent).
    """

    name: str = Field(min_length=1)
    target: Literal[
        "early_life_churn", "voluntary_churn", "involuntary_churn", "expansion", "contraction"
    ]
    multiplier: float = Field(gt=0)
    segments: list[str] | None = None
    tiers: list[str] | None = None
    cost_per_month: NonNeg = 0.0


class Loyalty(_Base):
    """Loyalty / referral programme: promoters join, refer new logos and churn less."""

    enabled: bool = False
    join_min_score: int = Field(default=9, ge=0, le=10)
    hazard_multiplier: float = Field(default=0.9, gt=0)
    referral_rate: NonNeg = Field(default=0.02, description="referred new logos/member/month")
    discount: float = Field(default=0.0, ge=0, lt=1, description="share of member MRR")
    cost_per_member: NonNeg = 0.0


class Population(_Base):
    """Where the starting customers come from.

    ``synthetic``: ``n_accounts`` drawn per replication from the segments (tenure
    uniform on 0..``max_tenure_months``); ``dataset``: the customers of a
    :class:`cs_sim.io.Dataset` (passed to :func:`cs_sim.simulate` or read from
    ``dataset``, a folder relative to the scenario file) as of its last month.
    """

    source: Literal["synthetic", "dataset"] = "synthetic"
    n_accounts: int = Field(default=1000, ge=0)
    max_tenure_months: int = Field(default=36, ge=0)
    dataset: str | None = None


class Acquisition(_Base):
    """New logos: Poisson(``new_logos_per_month`` + referrals) a month."""

    new_logos_per_month: NonNeg = 0.0
    segment_mix: dict[str, NonNeg] | None = Field(
        default=None, description="share of new logos by segment (default: segment shares)"
    )
    max_per_month: int | None = Field(
        default=None, ge=0, description="slots reserved per month (default: from the rate)"
    )
    trial_conversion: float = Field(default=0.3, gt=0, le=1, description="for trials data")


class HealthParams(_Base):
    """Health dynamics (see :mod:`cs_sim.sim.model` for the equation)."""

    reversion: float = Field(default=0.15, ge=0, le=1)
    noise_sd: NonNeg = 4.0
    failed_ticket_penalty: NonNeg = 3.0
    champion_leave_penalty: NonNeg = 15.0


class UsageParams(_Base):
    """Usage: active share from health; recorded activity per active user."""

    health_slope: float = 0.35
    noise_sd: NonNeg = 0.25
    sessions_per_user: NonNeg = 12.0
    minutes_per_session: NonNeg = 18.0
    key_events_per_session: NonNeg = 2.0


class SupportParams(_Base):
    """Support: tickets Poisson per seat, solved at first contact with probability fcr."""

    fcr: Probability = 0.72
    handle_minutes: NonNeg = 25.0
    champion_leave_rate: Probability = 0.01


class SurveyParams(_Base):
    """Survey answers drawn from health."""

    nps_response_rate: Probability = 0.08
    nps_intercept: float = Field(default=7.0, description="mean score at health 50")
    nps_health_slope: float = Field(default=0.6, description="score points per 10 health")
    nps_noise_sd: NonNeg = 1.6
    csat_response_rate: Probability = Field(default=0.3, description="answers per ticket")
    csat_intercept: float = Field(
        default=2.6, description="mean CSAT (1-5) at health 50 when not solved at first contact"
    )
    csat_health_slope: float = Field(default=0.4, description="CSAT points per 10 health")
    csat_first_contact: float = Field(
        default=0.8, description="CSAT points added when solved at first contact"
    )
    csat_noise_sd: NonNeg = 0.8


class ChurnParams(_Base):
    """Churn hazard slopes (the intercepts are per segment)."""

    health_slope: float = -0.45
    early_life_months: int = Field(default=6, ge=0)
    early_life: float = 0.6
    tenure_slope: float = -0.1


class ExpansionParams(_Base):
    """Expansion / contraction slopes on health (intercepts and sizes per segment)."""

    expansion_health_slope: float = 0.3
    contraction_health_slope: float = -0.3


class Behaviour(_Base):
    """The model's behavioural parameters shared by all segments."""

    health: HealthParams = HealthParams()
    usage: UsageParams = UsageParams()
    support: SupportParams = SupportParams()
    surveys: SurveyParams = SurveyParams()
    churn: ChurnParams = ChurnParams()
    expansion: ExpansionParams = ExpansionParams()


def _default_tiers() -> list[Tier]:
    return [Tier(name="tech_touch")]


class Scenario(_Base):
    """A complete, validated what-if: population, tiers and teams, behaviour, plays.

    Build one with :func:`load_scenario` (YAML) or :func:`scenario_from_dict`; the
    fields are documented in ``templates/scenarios/scenario.schema.json`` and the
    templates. Instances are immutable; derive a variant with ``model_copy(update=...)``.
    """

    name: str = "scenario"
    description: str = ""
    extends: str | None = Field(default=None, description="parent YAML (resolved on load)")
    horizon_months: int = Field(default=24, ge=1, le=600)
    start_month: str | None = Field(
        default=None, description="first simulated month, 'YYYY-MM' (for dated output)"
    )
    gross_margin: float = Field(default=0.8, gt=0, le=1)
    other_cost_per_month: NonNeg = 0.0
    population: Population = Population()
    segments: list[Segment] = Field(default_factory=lambda: [Segment(name="all")], min_length=1)
    tiers: list[Tier] = Field(default_factory=_default_tiers, min_length=1)
    behaviour: Behaviour = Behaviour()
    acquisition: Acquisition = Acquisition()
    onboarding: Onboarding | None = None
    interventions: list[Intervention] = Field(default_factory=list)
    retention_changes: list[RetentionChange] = Field(default_factory=list)
    loyalty: Loyalty = Loyalty()

    @model_validator(mode="after")
    def _check_references(self) -> Scenario:
        seg_names = [s.name for s in self.segments]
        tier_names = [t.name for t in self.tiers]
        _unique(seg_names, "segments")
        _unique(tier_names, "tiers")
        _unique([i.name for i in self.interventions], "interventions")
        _unique([c.name for c in self.retention_changes], "retention_changes")
        if sum(s.share for s in self.segments) <= 0:
            raise ValueError("segments: the shares must not all be 0")
        for i, t in enumerate(self.tiers):
            last = i == len(self.tiers) - 1
            if last and t.rule:
                raise ValueError(
                    f"tiers[{i}].rule: the last tier must have an empty rule (it catches "
                    "every account no other tier takes)"
                )
            if not last and not t.rule:
                raise ValueError(f"tiers[{i}].rule: only the last tier may have an empty rule")
            for j, c in enumerate(t.rule):
                _check_categorical(c, seg_names, f"tiers[{i}].rule[{j}]")
        for i, s in enumerate(self.segments):
            for j, c in enumerate(s.match):
                _check_categorical(c, seg_names, f"segments[{i}].match[{j}]")
        for i, iv in enumerate(self.interventions):
            _check_names(iv.tiers, tier_names, f"interventions[{i}].tiers", "tier")
            if iv.segments is not None:
                _check_names(iv.segments, seg_names, f"interventions[{i}].segments", "segment")
        for i, rc in enumerate(self.retention_changes):
            if rc.tiers is not None:
                _check_names(rc.tiers, tier_names, f"retention_changes[{i}].tiers", "tier")
            if rc.segments is not None:
                _check_names(rc.segments, seg_names, f"retention_changes[{i}].segments", "segment")
        if self.onboarding is not None:
            _check_names(list(self.onboarding.hours), tier_names, "onboarding.hours", "tier")
        mix = self.acquisition.segment_mix
        if mix is not None:
            _check_names(list(mix), seg_names, "acquisition.segment_mix", "segment")
            if sum(mix.values()) <= 0:
                raise ValueError("acquisition.segment_mix: the shares must not all be 0")
        if self.start_month is not None:
            _check_month(self.start_month)
        return self

    # convenience --------------------------------------------------------------------
    def tier_names(self) -> list[str]:
        """Names of the tiers, in rule order."""
        return [t.name for t in self.tiers]

    def segment_names(self) -> list[str]:
        """Names of the segments."""
        return [s.name for s in self.segments]

    def with_changes(self, changes: Mapping[str, Any]) -> Scenario:
        """Return a validated copy with ``changes`` deep-merged (the ``extends`` rules).

        Parameters
        ----------
        changes : mapping
            Nested overrides, e.g. ``{"tiers": [{"name": "high_touch", "team":
            {"headcount": 8}}]}``.

        Returns
        -------
        Scenario
        """
        base = self.model_dump(mode="json")
        return scenario_from_dict(deep_merge(base, dict(changes)), source=self.name)


def _unique(names: list[str], where: str) -> None:
    seen: set[str] = set()
    for i, n in enumerate(names):
        if n in seen:
            raise ValueError(f"{where}[{i}].name: duplicate name '{n}'")
        seen.add(n)


def _check_names(given: list[str], known: list[str], where: str, what: str) -> None:
    for i, n in enumerate(given):
        if n not in known:
            raise ValueError(f"{where}[{i}]: unknown {what} '{n}' (known: {', '.join(known)})")


def _check_categorical(c: TierCondition, seg_names: list[str], where: str) -> None:
    values = c.value if isinstance(c.value, list) else [c.value]
    if c.attribute == "segment":
        _check_names([str(v) for v in values], seg_names, f"{where}.value", "segment")
    elif c.attribute == "contract":
        _check_names([str(v) for v in values], ["monthly", "annual"], f"{where}.value", "contract")


def _check_month(text: str) -> None:
    parts = text.split("-")
    ok = len(parts) in (2, 3) and all(p.isdigit() for p in parts)
    if ok:
        ok = 1 <= int(parts[1]) <= 12
    if not ok:
        raise ValueError(f"start_month: expected 'YYYY-MM' (got {text!r})")


# ------------------------------------------------------------------- error formatting
_TEMPLATES = {
    "greater_than": "must be > {gt}",
    "greater_than_equal": "must be >= {ge}",
    "less_than": "must be < {lt}",
    "less_than_equal": "must be <= {le}",
    "too_short": "must have at least {min_length} item(s)",
    "string_too_short": "must not be empty",
    "literal_error": "must be one of {expected}",
}


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and ("[" in part or part.startswith("function-")):
            continue  # union / tagged-union branch names are noise for users
        else:
            out += ("." if out else "") + str(part)
    return out


def _format_error(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    loc = _format_loc(tuple(err.get("loc", ())))
    if kind == "missing":
        msg = "required field is missing"
    elif kind == "extra_forbidden":
        msg = "unknown key" + _did_you_mean(tuple(err.get("loc", ())))
        msg += " (check the spelling; see templates/scenarios/scenario.schema.json)"
    elif kind in _TEMPLATES:
        try:
            msg = _TEMPLATES[kind].format(**{k: _num(v) for k, v in ctx.items()})
        except (KeyError, IndexError):
            msg = str(err.get("msg", kind))
    elif kind == "value_error":
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        # our cross-field checks put their own path first: "tiers[2].rule: ..."
        if ": " in msg and not loc:
            return msg
    else:
        msg = str(err.get("msg", kind))
        msg = msg[:1].lower() + msg[1:]
    if kind not in ("missing", "extra_forbidden") and "input" in err:
        value = err["input"]
        if not isinstance(value, (dict, list)) and "(got " not in msg:
            msg += f" (got {value!r})"
    return f"{loc}: {msg}" if loc else msg


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (through lists, dicts, unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _did_you_mean(loc: tuple[Any, ...]) -> str:
    """Suggest the closest allowed key for an unknown key at ``loc`` (or nothing)."""
    models: list[type[BaseModel]] = [Scenario]
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        models = [
            m
            for model in models
            if part in model.model_fields
            for m in _models_in(model.model_fields[part].annotation)
        ]
    allowed = sorted({name for model in models for name in model.model_fields})
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1) if loc else []
    return f"; did you mean '{close[0]}'?" if close else ""


def _num(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _scenario_error(exc: ValidationError, source: str) -> ScenarioError:
    lines = [f"{source}: {_format_error(e)}" for e in exc.errors(include_url=False)]
    return ScenarioError("\n".join(lines))


# ------------------------------------------------------------------------- loading
_REMOVE = "remove"


def _named_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) > 0
        and all(isinstance(v, dict) and "name" in v for v in value)
    )


def deep_merge(parent: Any, child: Any) -> Any:
    """Deep-merge ``child`` over ``parent`` with the ``extends`` rules (module docstring).

    Parameters
    ----------
    parent, child : Any
        Plain data (dicts, lists, scalars) as read from YAML.

    Returns
    -------
    Any
        A new merged structure; the inputs are not modified.
    """
    if isinstance(parent, dict) and isinstance(child, dict):
        out = dict(parent)
        for key, value in child.items():
            out[key] = deep_merge(parent[key], value) if key in parent else _strip(value)
        return out
    if _named_list(child) and (_named_list(parent) or parent == []):
        out_list = [dict(p) for p in parent]
        index = {p["name"]: i for i, p in enumerate(out_list)}
        removed: set[str] = set()
        for item in child:
            if item.get(_REMOVE) is True:
                removed.add(item["name"])
                continue
            if item["name"] in index:
                out_list[index[item["name"]]] = deep_merge(out_list[index[item["name"]]], item)
            else:
                index[item["name"]] = len(out_list)
                out_list.append(_strip(item))
        return [p for p in out_list if p["name"] not in removed]
    return _strip(child)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip(v) for v in value if not (isinstance(v, dict) and v.get(_REMOVE) is True)]
    return value


def _resolve(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    source = path.name
    real = path.resolve()
    if real in seen:
        chain = " -> ".join(p.name for p in (*seen, real))
        raise ScenarioError(f"{source}: extends: circular inheritance ({chain})")
    data = load_yaml_mapping(path, what="scenario", source=source, error=ScenarioError)
    parent_ref = data.get("extends")
    if parent_ref is None:
        return data
    if not isinstance(parent_ref, str):
        raise ScenarioError(f"{source}: extends: must be a file name (got {parent_ref!r})")
    parent_path = (path.parent / parent_ref).resolve()
    if not parent_path.exists():
        raise ScenarioError(f"{source}: extends: file not found ({parent_ref})")
    parent = _resolve(parent_path, (*seen, real))
    merged = deep_merge(parent, data)
    merged["extends"] = parent_ref
    merged["name"] = data.get("name", path.stem)  # a variant never inherits the name
    return merged


def scenario_from_dict(data: Mapping[str, Any], *, source: str = "scenario") -> Scenario:
    """Validate plain data into a :class:`Scenario`.

    Parameters
    ----------
    data : mapping
        The scenario as nested dicts/lists (e.g. from YAML or JSON).
    source : str, optional
        The name shown at the start of error messages.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        With one line ``source: dotted.path: problem (got value)`` per problem.
    """
    try:
        return Scenario.model_validate(dict(data))
    except ValidationError as exc:
        raise _scenario_error(exc, source) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario YAML file (``yaml.safe_load``), resolving ``extends``.

    Parameters
    ----------
    path : str or Path
        The YAML file. A ``population.dataset`` given relative is made relative to it.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        If the file is missing, is not YAML, or does not validate; the message names the
        file and the dotted path of each bad field.
    """
    path = Path(path)
    data = _resolve(path, ())
    data.setdefault("name", path.stem)
    pop = data.get("population")
    if isinstance(pop, dict) and isinstance(pop.get("dataset"), str):
        ds = Path(pop["dataset"])
        if not ds.is_absolute():
            pop = dict(pop, dataset=str((path.parent / ds).resolve()))
            data["population"] = pop
    return scenario_from_dict(data, source=path.name)


def scenario_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of a scenario file (for editor completion).

    Returns
    -------
    dict
        A JSON Schema (draft 2020-12) as produced by pydantic, with a title and ``$id``.
    """
    schema = Scenario.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://cs-sim.invalid/scenario.schema.json"
    schema["title"] = "cs_sim scenario"
    return schema


def scenario_json_schema_text() -> str:
    """Return :func:`scenario_json_schema` as the exact text of the committed file."""
    return json.dumps(scenario_json_schema(), indent=2, sort_keys=True) + "\n"
