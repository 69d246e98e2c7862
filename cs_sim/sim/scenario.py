"""Scenario specification: a validated, immutable description of one what-if.

A :class:`Scenario` is a pydantic v2 model (``extra="forbid"``, frozen): the population,
the service tiers and their CSM teams, the behavioural parameters, acquisition and the
plays (time-, data- and trigger-based, :class:`Play`). It is usually written as YAML
(see ``templates/scenarios/``) and read with :func:`cs_sim.sim.scenario_io.load_scenario`,
which resolves ``extends`` and turns every validation problem into a
:class:`~cs_sim.errors.ScenarioError` naming the file and the dotted path of the bad
field; :mod:`cs_sim.sim.scenario_io` also holds the JSON Schema export.

Triggers and rules are structured data (metric, operator, value), never strings that
are evaluated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from cs_sim.sim.uncertainty import Distribution, check_uncertain, scenario_data
from cs_sim.tables import CONTRACT_TYPES

__all__ = [
    "Acquisition",
    "Behaviour",
    "Condition",
    "Decay",
    "Effect",
    "Loyalty",
    "Money",
    "Onboarding",
    "Play",
    "Population",
    "RetentionChange",
    "Scenario",
    "Schedule",
    "Segment",
    "Team",
    "TeamChange",
    "Tier",
    "TierCondition",
    "Trigger",
]

NumOp = Literal["<", "<=", ">", ">=", "==", "!="]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]

#: metrics a data-based play can test (all numeric, evaluated per account-month)
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
#: months of warm-up of a synthetic population when ``warmup_months`` is not given
DEFAULT_WARMUP_MONTHS = 36
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
    contract_months: int = Field(
        default=12, ge=1, le=120,
        description="term of an annual (or multi-year) contract, in months: it renews, or "
        "churns on the hazard accumulated over the term, every contract_months of tenure",
    )
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


class TeamChange(_Base):
    """A change of a team's headcount from a month of the horizon, with hiring and ramp-up.

    The new ``headcount`` arrives in month ``a = month + hiring_delay_months`` (paid from
    then). Hires ramp up linearly: in their ``j``-th month (``j = 0`` on arrival) each is
    ``min(1, (j + 1) / (ramp_months + 1))`` of a full CSM, so ``ramp_months`` months
    below full productivity; a reduction takes effect at once on arrival. Capacity in
    month ``m`` is ``hours_per_month * max(0, headcount(m) - Σ hires (1 - ramp))``; cost
    ``headcount(m) * cost_per_month`` (see :func:`cs_sim.sim.capacity.team_plan`).
    Changes never act during the warm-up (it runs the starting headcount).
    """

    month: int = Field(ge=0, description="month of the horizon the change is decided (0 = first)")
    headcount: int = Field(ge=0, description="headcount from the change on")
    hiring_delay_months: int = Field(default=0, ge=0, description="months until they start")
    ramp_months: int = Field(
        default=0, ge=0, description="months a hire needs to reach full productivity"
    )


class Team(_Base):
    """The CSM team serving one tier.

    ``changes`` plan headcount changes over the horizon (:class:`TeamChange`), e.g.
    ``changes: [{month: 6, headcount: 6, ramp_months: 3}]``.
    """

    headcount: int = Field(default=0, ge=0)
    hours_per_month: float = Field(default=120.0, ge=0)
    cost_per_month: NonNeg = Field(default=9000.0, description="fully loaded cost per CSM")
    changes: list[TeamChange] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_changes(self) -> Team:
        for j in range(1, len(self.changes)):
            a, b = self.changes[j - 1], self.changes[j]
            if b.month <= a.month:
                raise ValueError(f"changes[{j}].month: months must increase ({b.month} after "
                                 f"{a.month})")
            if b.month + b.hiring_delay_months < a.month + a.hiring_delay_months:
                raise ValueError(f"changes[{j}]: arrives (month + hiring_delay_months) before "
                                 f"changes[{j - 1}]; order the changes by arrival")
        return self


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
    """Cadence of a time-based play: due when tenure % every == offset."""

    every_months: int = Field(ge=1)
    offset_months: int = Field(default=0, ge=0)


class Trigger(_Base):
    """Event of a trigger-based play.

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


class Play(_Base):
    """A CS play: when it fires, who gets it, what it costs and what it does.

    ``kind`` is ``time`` (needs ``schedule``), ``data`` (needs ``condition``: all
    conditions must hold; fires at most once per ``cooldown_months``) or ``trigger``
    (needs ``trigger``). ``owner: csm`` work takes ``hours`` from the tier's CSM team
    and queues when the team is busy; work waiting more than ``max_wait_months`` is
    dropped and each month of waiting scales the effect by ``1 - wait_decay``.
    ``owner: automated`` (tech-touch) is delivered at once and takes no CSM hours.
    ``start_month`` rolls a play out at a month of the horizon: before it the play
    requests nothing (its random stream is drawn all the same).
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
    start_month: int | None = Field(
        default=None, ge=0,
        description="first month of the horizon the play runs (0 = the first); absent: it "
        "always runs, the warm-up included (part of the steady state)",
    )

    @model_validator(mode="after")
    def _check_kind(self) -> Play:
        if self.kind == "time" and self.schedule is None:
            raise ValueError("a time-based play needs a 'schedule'")
        if self.kind == "data" and not self.condition:
            raise ValueError("a data-based play needs a 'condition' (a list)")
        if self.kind == "trigger" and self.trigger is None:
            raise ValueError("a trigger-based play needs a 'trigger'")
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

    Compiled into a trigger-based play on ``new_account``: a tier whose
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


class Money(_Base):
    """How money is valued: the discount rate and the value beyond the horizon.

    Monthly profit is discounted at ``i = (1 + discount_rate) ** (1/12) - 1``; with
    ``terminal_value`` the NPV adds the value of the customers paying at the end,
    each segment's last-month profit carried on at its end-state net retention
    (formulas in :mod:`cs_sim.sim.money`).
    """

    discount_rate: float = Field(
        default=0.10, ge=0, lt=1, description="annual discount rate, e.g. 0.10 for 10%"
    )
    terminal_value: bool = Field(
        default=True,
        description="add the value beyond the horizon to the NPV (each segment's last-month "
        "profit at its end-state net retention)",
    )
    terminal_years: int | None = Field(
        default=5,
        ge=1,
        le=100,
        description="years after the horizon the terminal value counts (null: all years, a "
        "perpetuity, which needs a discount_rate > 0)",
    )

    @model_validator(mode="after")
    def _check_rate(self) -> Money:
        if self.terminal_value and self.terminal_years is None and self.discount_rate <= 0:
            raise ValueError(
                "terminal_value with terminal_years: null needs a discount_rate > 0 "
                "(undiscounted, a perpetuity is infinite): set discount_rate, e.g. 0.10, "
                "or terminal_years, e.g. 5"
            )
        return self


class Population(_Base):
    """Where the starting customers come from.

    ``synthetic``: ``n_accounts`` drawn per replication from the segments (tenure
    uniform on 0..``max_tenure_months``); ``dataset``: the customers of a
    :class:`cs_sim.io.Dataset` (passed to :func:`cs_sim.simulate` or read from
    ``dataset``, a folder relative to the scenario file) as of its last month.

    A dataset whose accounts carry ``segment`` (or ``tier``) labels must use the
    scenario's names; ``segment_map`` (``tier_map``) renames the dataset's labels, e.g.
    ``segment_map: {SMB: smb}``. A label the scenario lacks is an error. A dataset's
    tier labels are the starting tiers (re-tiered by the rules at each 12-month
    anniversary) unless ``retier_at_start`` puts every account in the tier its rules
    give at month 0 (a re-tiering what-if on real customers).
    """

    source: Literal["synthetic", "dataset"] = "synthetic"
    n_accounts: int = Field(default=1000, ge=0)
    max_tenure_months: int = Field(default=36, ge=0)
    dataset: str | None = None
    segment_map: dict[str, str] = Field(
        default_factory=dict, description="dataset segment label -> scenario segment name"
    )
    tier_map: dict[str, str] = Field(
        default_factory=dict, description="dataset tier label -> scenario tier name"
    )
    retier_at_start: bool = Field(
        default=False,
        description="ignore a dataset's tier labels: the tier rules place every account",
    )


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

    Build one with :func:`~cs_sim.sim.scenario_io.load_scenario` (YAML) or
    :func:`~cs_sim.sim.scenario_io.scenario_from_dict`; the fields are documented in
    ``templates/scenarios/scenario.schema.json`` and the templates. Instances are
    immutable; derive a variant with :meth:`with_changes`.

    A run simulates :meth:`warmup` months before the ``horizon_months`` it reports
    (months ``-W .. -1``, under the scenario's own policy; :func:`cs_sim.compare` runs
    the variant's on the baseline's), so that the horizon starts in a steady state.
    """

    name: str = "scenario"
    description: str = ""
    extends: str | None = Field(default=None, description="parent YAML (resolved on load)")
    horizon_months: int = Field(default=24, ge=1, le=600)
    warmup_months: int | None = Field(
        default=None, ge=0, le=600,
        description="months run before the reported horizon (burn-in, nothing reported) so "
        f"that the horizon starts in a steady state; default {DEFAULT_WARMUP_MONTHS} for a "
        "synthetic population, 0 for one from a dataset (its accounts are the real start)",
    )
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
    plays: list[Play] = Field(default_factory=list)
    retention_changes: list[RetentionChange] = Field(default_factory=list)
    loyalty: Loyalty = Loyalty()
    money: Money = Money()
    uncertain: SkipJsonSchema[dict[str, Distribution]] = Field(
        default_factory=dict, exclude=True,
        description="parameters given as distributions, by dotted path (the loader takes "
        "them from {dist: ...} mappings written in place of numbers; the fields hold their "
        "medians): see cs_sim.sim.uncertainty",
    )

    @model_validator(mode="after")
    def _check_references(self) -> Scenario:
        seg_names = [s.name for s in self.segments]
        tier_names = [t.name for t in self.tiers]
        _unique(seg_names, "segments")
        _unique(tier_names, "tiers")
        _unique([p.name for p in self.plays], "plays")
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
        for i, play in enumerate(self.plays):
            _check_names(play.tiers, tier_names, f"plays[{i}].tiers", "tier")
            if play.segments is not None:
                _check_names(play.segments, seg_names, f"plays[{i}].segments", "segment")
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
        pop = self.population
        for label, name in pop.segment_map.items():
            _check_names([name], seg_names, f"population.segment_map.{label}", "segment")
        for label, name in pop.tier_map.items():
            _check_names([name], tier_names, f"population.tier_map.{label}", "tier")
        if self.uncertain:
            check_uncertain(self)
        return self

    # convenience --------------------------------------------------------------------
    def warmup(self) -> int:
        """Months of warm-up before the horizon: ``warmup_months``, or its default.

        The default is :data:`DEFAULT_WARMUP_MONTHS` for a synthetic population and 0
        for a population from a dataset.
        """
        if self.warmup_months is not None:
            return int(self.warmup_months)
        return 0 if self.population.source == "dataset" else DEFAULT_WARMUP_MONTHS

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
            {"headcount": 8}}]}``; ``{"plays": [{"name": "qbr", "remove": True}]}``
            deletes a play.

        Returns
        -------
        Scenario
        """
        # scenario_io imports this module: import it here, when a variant is derived
        from cs_sim.sim.scenario_io import deep_merge, rename_deprecated_keys, scenario_from_dict

        base = scenario_data(self)  # distributions in place: a change may replace one
        changes = rename_deprecated_keys(changes, source=self.name)
        return scenario_from_dict(deep_merge(base, changes), source=self.name)


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
        _check_names([str(v) for v in values], list(CONTRACT_TYPES), f"{where}.value", "contract")


def _check_month(text: str) -> None:
    parts = text.split("-")
    ok = len(parts) in (2, 3) and all(p.isdigit() for p in parts)
    if ok:
        ok = 1 <= int(parts[1]) <= 12
    if not ok:
        raise ValueError(f"start_month: expected 'YYYY-MM' (got {text!r})")
