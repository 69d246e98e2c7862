r"""The model's equations, one function per section, on ``(R, n)`` arrays.

Month ``m``; ``h`` health 0-100; ``x = (h - 50) / 10``; ``σ(v) = 1/(1+e^{-v})``;
segment parameters in the scenario's ``segments`` (held per slot by the engine), the
rest in ``behaviour``. The engine (:mod:`cs_sim.sim.engine`) keeps the state, the random
streams and the timeline, and calls these functions in the order of the sections below.
They work in place where the engine passes buffers (``out=``, ``tmp=``), in the dtypes
it passes (behaviour float32, money float64). Months of the warm-up (``warmup_months``
before the reported horizon) are numbered ``-W .. -1``; the equations are the same.

*Acquisition* (:func:`new_logos`). New logos ``n_m = min(K, F^{-1}_{Poisson(λ_m)}(u))``
with ``λ_m = new_logos_per_month + referral_rate * members_{m-1}``; each new slot draws
its segment from ``segment_mix``, employees ``~ LogNormal(median, sigma)``, contract
annual with probability ``annual_share``, health ``~ N(health_mean, health_sd)``
clipped to 0-100 (:func:`cs_sim.sim.population.draw_accounts`).
``seats = max(1, round(seat_share * employees))``, ``MRR = seats * price_per_seat``.
Starting customers draw the same (tenure uniform on 0..max_tenure_months) or come from
a dataset (:mod:`cs_sim.sim.population`).

*Tier* by the first tier rule that holds (ARR = 12 MRR, ...), at birth and at every
12-month anniversary of tenure (:func:`cs_sim.sim.population.tier_of`); a starting
customer from a dataset keeps the dataset's tier label until then.

*Usage* (:func:`logistic_shock`, :func:`active_users`). ``ε ~ Logistic`` scaled to unit
variance (one uniform per slot-month); ``active_share = σ(active_share_intercept +
health_slope * x + noise_sd * ε)`` with ``x`` from last month's health;
``active_users = round(seats * active_share)``; ``usage_change = active_users /
active_users_{m-1} - 1``.

*Support* (:func:`failed_tickets`). Tickets not solved at first contact ``F ~
Poisson(tickets_per_seat * seats * (1 - fcr))`` (inverse CDF of one uniform); those
solved at first contact, ``Poisson(tickets_per_seat * seats * fcr)``, only affect
recorded data.

*Champion leaves* (:func:`champion_left`) with probability ``champion_leave_rate`` a
month.

*NPS survey* (:func:`nps_survey`): answered with probability ``nps_response_rate`` (one
uniform ``u``: ``u < rate``); score ``clip(round(nps_intercept + nps_health_slope * x +
nps_noise_sd * Z), 0, 10)`` with ``Z = Φ^{-1}(u / rate) ~ N(0, 1)`` given an answer.

*Health* (:func:`update_health`): ``h_m = clip(h_{m-1} + reversion * (health_mean -
h_{m-1}) + noise_sd * ε - failed_ticket_penalty * F - champion_leave_penalty *
champion_left, 0, 100)`` (the same ε as usage: health evolves with usage), then ``+
effect.health * w`` for each play delivered this month (``w`` the wait factor below).

*Plays* (:func:`due_by_schedule`, :func:`cooled_down`, :func:`eligible`,
:func:`wait_factor`, :func:`deliver_effect`, :func:`decay_effects`). An eligible
account (alive, in an eligible tier and segment, no request of the play already queued)
is due when: time: ``tenure >= 1 and tenure % every == offset``; data: all conditions
hold and ``cooldown_months`` have passed since the play last fired; trigger: its event
happened this month; never before the play's ``start_month`` (none: always). It is
reached with probability ``reach``. Automated work (0 hours)
is delivered at once; CSM work queues (:mod:`cs_sim.sim.capacity`). A delivery after
``w`` months of waiting sets the play's effect level ``L = max(L, (1 - wait_decay)^w)``;
``L`` decays by ``0.5^(1/half_life)`` a month.

*Churn* (:func:`play_multipliers`, :func:`churn_hazards`, :func:`decide_churn`;
accounts with tenure >= 1): monthly voluntary hazard ``p = σ(churn_intercept +
health_slope * x + early_life * [tenure < early_life_months] + tenure_slope *
min(tenure, 36) / 12) * Π_plays (1 + (hazard_multiplier - 1) L) * retention-change
multipliers * loyalty multiplier`` (capped at 1); involuntary ``q = involuntary_rate *
multipliers``. Monthly contracts decide every month. An annual contract (term ``c =
contract_months`` of its segment, 12 by default) decides only at renewal, when tenure
is a multiple of ``c``, on the hazard accumulated over its term
(:func:`accumulate_term`): ``P = 1 - Π_{months of the term} (1 - p_month)`` and ``Q =
1 - Π (1 - q_month)``, each month's ``p`` with that month's health and play effects, so
a play's timing within the term matters only through its decayed effect. A term that
began before the first simulated month counts its earlier months at the first
month's hazard. One uniform ``u``: voluntary if ``u < p`` (``P`` at renewal), else
involuntary if ``u >= 1 - q`` (``Q``). A churned account's MRR is 0 from this month.

*Expansion / contraction* (:func:`expansion_probabilities`, :func:`decide_resize`,
:func:`resize_seats`; survivors with tenure >= 1): ``pe = σ(expansion_intercept +
expansion_health_slope * x) * Π (1 + (expansion_multiplier - 1) L) * multipliers``,
``pc = σ(contraction_intercept + contraction_health_slope * x) * multipliers`` (annual
contracts contract only at renewal, on the contraction hazard accumulated over the term,
``1 - Π (1 - pc_month)``, as for churn); one uniform ``u``: expansion if ``u < pe``
(``seats = ceil(seats * (1 + expansion_size))``), contraction if ``u >= 1 - pc``
(``seats = max(1, floor(seats * (1 - contraction_size)))``).

*Loyalty* (:func:`join_loyalty`, :func:`reprice`): a survey promoter (score >=
``join_min_score``) joins the programme when it is enabled; ``MRR = seats *
price_per_seat * (1 - discount * member)``.

*Books* (:class:`cs_sim.sim.books.Ledger`: logos and the MRR bridge by segment and
tier; :func:`book_costs`, :func:`book_voice`). Each event is booked by the account's
segment and tier at that moment. Costs a month: ``Σ_tiers headcount(m) *
cost_per_month + Σ deliveries * cost + Σ retention-change cost_per_month + members *
cost_per_member + other_cost_per_month`` (``headcount(m)`` from
:func:`cs_sim.sim.capacity.team_plan`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from cs_sim.sim.capacity import NO_REQUEST
from cs_sim.sim.numerics import (
    count_rows,
    nonzero_2d,
    norm_ppf,
    poisson_head,
    poisson_ppf,
    poisson_ppf_dense,
    poisson_ppf_head,
    put2,
    sigmoid_neg_,
    take2,
)
from cs_sim.sim.plays import CompiledPlay
from cs_sim.sim.rng import to_uniform
from cs_sim.sim.scenario import (
    Acquisition,
    ChurnParams,
    ExpansionParams,
    HealthParams,
    Loyalty,
    SurveyParams,
    UsageParams,
)

__all__ = [
    "accumulate_term", "active_users", "book_costs", "book_voice", "champion_left",
    "churn_hazards", "cooled_down", "decay_effects", "decide_churn", "decide_resize",
    "deliver_effect", "due_by_schedule", "eligible", "expansion_probabilities",
    "failed_tickets", "failed_tickets_kept", "health_term", "join_loyalty", "logistic_shock",
    "new_logos", "nps_survey", "play_multipliers", "reprice", "resize_seats", "ticket_head",
    "update_health", "wait_factor"]

_LOGISTIC_SCALE = math.sqrt(3.0) / math.pi
_ONE_MINUS = np.float32(1.0 - 2.0**-24)
Cells = tuple[np.ndarray, np.ndarray]  # rows and slots of some cells
FlatCells = tuple[np.ndarray, np.ndarray, np.ndarray]  # ... and flat indices r * N + i


# ------------------------------------------------------------------------ acquisition
def new_logos(
    u: np.ndarray, acquisition: Acquisition, loyalty: Loyalty,
    members: Callable[[], np.ndarray], cap: int,
) -> tuple[np.ndarray, np.ndarray]:
    """New logos ``n = min(K, F^{-1}_{Poisson(λ)}(u))``, ``λ = rate + referral_rate * members``.

    Parameters
    ----------
    u : ndarray
        One uniform per replication row.
    acquisition, loyalty
        The scenario's sections.
    members : callable
        Returns the loyalty members per row (called only when referrals count).
    cap : int
        ``K``, the slots of the month's block.

    Returns
    -------
    count, capped : ndarray
        New logos per row, and whether the Poisson draw exceeded ``K``.
    """
    lam = np.full(u.shape, float(acquisition.new_logos_per_month))
    if loyalty.enabled and loyalty.referral_rate > 0:
        lam += loyalty.referral_rate * members()
    count = poisson_ppf(u, lam)
    return np.minimum(count, cap), count > cap


def health_term(h: np.ndarray, *, out: np.ndarray) -> np.ndarray:
    """``x = (h - 50) / 10``, computed as ``0.1 h - 5``."""
    np.multiply(h, 0.1, out=out)
    out -= 5.0
    return out


# ------------------------------------------------------------------------------ usage
def logistic_shock(u: np.ndarray, *, out: np.ndarray) -> np.ndarray:
    """``ε = ln(u / (1 - u)) * √3 / π``: logistic with unit variance (``u`` is clamped below 1)."""
    if u.max() >= 1.0:  # k = 2**24 - 1 rounds up to 1.0 after the shift (rare: check first)
        np.minimum(u, _ONE_MINUS, out=u)
    np.subtract(1.0, u, out=out)
    np.divide(u, out, out=out)
    np.log(out, out=out)
    out *= _LOGISTIC_SCALE
    return out


def active_users(
    x: np.ndarray, eps: np.ndarray, seats: np.ndarray, alive: np.ndarray, intercept: np.ndarray,
    params: UsageParams, *, share_out: np.ndarray, users_out: np.ndarray | None,
    tmp: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:
    """``share = σ(intercept + health_slope x + noise_sd ε)``, ``users = round(seats share)``.

    Returns
    -------
    share, users : ndarray
        ``share_out`` and ``users_out`` (users 0 for dead slots; None without
        ``users_out``: nothing in the dynamics reads them unless a play looks at the
        change of usage).
    """
    w = share_out  # the negated argument, -v (each term negated exactly)
    np.multiply(x, -params.health_slope, out=w)
    w -= intercept
    if params.noise_sd:
        np.multiply(eps, params.noise_sd, out=tmp)
        w -= tmp
    share = sigmoid_neg_(w)
    users = users_out
    if users is None:
        return share, None
    np.multiply(seats, share, out=users)
    np.rint(users, out=users)
    users *= alive
    return share, users


# ---------------------------------------------------------------------------- support
def failed_tickets(
    u: np.ndarray, fail_rate: np.ndarray, seats: np.ndarray, alive: np.ndarray,
    *, lam: np.ndarray, w1: np.ndarray, w2: np.ndarray,
) -> np.ndarray:
    """``F = F^{-1}_{Poisson(fail_rate * seats)}(u)`` (0 for dead slots), int16.

    ``fail_rate = tickets_per_seat * (1 - fcr)``; ``lam``, ``w1``, ``w2`` are scratch.
    """
    np.multiply(fail_rate, seats, out=lam)
    lam *= alive
    return poisson_ppf_dense(u, lam, w1, w2)


def ticket_head(
    fail_rate: np.ndarray, seats: np.ndarray, *, lam: np.ndarray, p0: np.ndarray,
    cdf1: np.ndarray
) -> None:
    """Slots' ``λ = fail_rate * seats`` (float32), Poisson ``P(0)`` and ``P(X <= 1)``.

    Kept per slot by the engine (updated where seats change) for
    :func:`failed_tickets_kept`; 2-D, or 1-D for a few slots (the same numbers).
    """
    np.multiply(fail_rate, seats, out=lam)
    poisson_head(lam, p0=p0, cdf1=cdf1)


def failed_tickets_kept(
    u: np.ndarray, alive: np.ndarray, head: tuple[np.ndarray, np.ndarray, np.ndarray], *,
    out: np.ndarray, scratch: np.ndarray, defer: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """:func:`failed_tickets` from the slots' kept ``(λ, P(0), P(X <= 1))`` (:func:`ticket_head`).

    ``out`` (int16) receives the counts (0 for dead slots); ``scratch`` is boolean.
    ``defer``: as :func:`cs_sim.sim.numerics.poisson_ppf_head` (counts >= 2 left to
    :func:`cs_sim.sim.numerics.poisson_ppf_tail`).
    """
    return poisson_ppf_head(u, *head, alive, out=out, scratch=scratch, defer=defer)


# ---------------------------------------------------------------------------- events
def champion_left(words: np.ndarray, below: int, alive: np.ndarray) -> np.ndarray:
    """Champion leaves when ``u < champion_leave_rate``, i.e. ``k < below`` (24-bit words).

    (The same test, at the response rate, tells who answers the survey.)
    """
    champ = words < below
    champ &= alive
    return champ


def nps_survey(
    words: np.ndarray, below: int, alive: np.ndarray, x: np.ndarray, params: SurveyParams,
    *, cells: Cells | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Answered when ``u < rate``; score ``clip(round(a + b x + s Φ^{-1}(u / rate)), 0, 10)``.

    ``words``: the month's 24-bit words ``k`` (``u = to_uniform(k)``); ``below``:
    ``words_below(nps_response_rate)`` (``u < rate`` is ``k < below``; the answered
    cells are those of :func:`champion_left` with it, given as ``cells`` when known).

    Returns
    -------
    rows, slots, scores : ndarray
        The answers.
    """
    rr, ii = nonzero_2d(champion_left(words, below, alive)) if cells is None else cells
    z = (norm_ppf(to_uniform(take2(words, rr, ii)) / params.nps_response_rate) if rr.size
         else np.zeros(0))
    x_r = take2(x, rr, ii)
    score = np.clip(
        np.rint(params.nps_intercept + params.nps_health_slope * x_r + params.nps_noise_sd * z),
        0.0, 10.0,
    )
    return rr, ii, score


# ----------------------------------------------------------------------------- health
def update_health(
    h: np.ndarray, health_mean: np.ndarray, eps: np.ndarray, fail: np.ndarray, champ: Cells,
    params: HealthParams, *, dh: np.ndarray, tmp: np.ndarray
) -> None:
    """``h = clip(h + reversion (mean - h) + noise_sd ε - pen_F F - pen_C champ, 0, 100)``.

    In place on ``h``; ``eps`` is overwritten; ``champ`` are the cells whose champion left.
    """
    np.subtract(health_mean, h, out=dh)
    dh *= params.reversion
    if params.noise_sd:
        eps *= params.noise_sd
        dh += eps
    h += dh
    if params.failed_ticket_penalty:
        np.multiply(fail, params.failed_ticket_penalty, out=tmp)
        h -= tmp
    if params.champion_leave_penalty:
        cr, ci = champ
        h[cr, ci] -= params.champion_leave_penalty
    np.clip(h, 0.0, 100.0, out=h)


# ------------------------------------------------------------------------------ plays
def due_by_schedule(tenure: np.ndarray, every: int, offset: int) -> np.ndarray:
    """Time-based cadence: due when ``tenure >= 1`` and ``tenure % every == offset % every``."""
    return (tenure >= 1) & (tenure % every == offset % every)


def cooled_down(month: int, last_fire: np.ndarray, cooldown: int) -> np.ndarray:
    """Data-based: at least ``max(cooldown, 1)`` months since the play last fired."""
    return (month - last_fire) >= max(cooldown, 1)


def _gather(cells: Cells | FlatCells) -> Callable[[np.ndarray], np.ndarray]:
    """``a -> a[r, i]``; by flat index ``f = r * a.shape[1] + i`` (C-contiguous ``a``,
    several times faster) when the cells are ``(r, i, f)``."""
    if len(cells) == 3:
        return lambda a: a.reshape(-1)[cells[2]]
    return lambda a: a[cells[0], cells[1]]


def eligible(
    cells: Cells | FlatCells, *, alive: np.ndarray, tier: np.ndarray, seg: np.ndarray,
    tier_mask: np.ndarray, seg_mask: np.ndarray, pending: np.ndarray,
) -> np.ndarray:
    """Alive, in an eligible tier and segment, and no request of the play queued.

    ``cells``: ``(r, i)``, or ``(r, i, f)`` with flat indices into the (C-contiguous,
    equally wide) arrays.
    """
    at = _gather(cells)
    ok = at(alive) & tier_mask[at(tier)]
    ok &= at(pending) == NO_REQUEST
    if not seg_mask.all():
        ok &= seg_mask[at(seg)]
    return ok


def wait_factor(wait_decay: np.ndarray | float, wait: np.ndarray) -> np.ndarray:
    """Effect scale of a delivery after ``wait`` whole months: ``(1 - wait_decay) ** wait``."""
    return (1.0 - wait_decay) ** wait


def deliver_effect(
    health: np.ndarray, level: np.ndarray, cells: Cells | FlatCells, play: CompiledPlay,
    wf: np.ndarray
) -> None:
    """Delivery at wait factor ``w``: ``h = clip(h + effect.health w, 0, 100)``, ``L = max(L, w)``.

    ``level`` is the play's ``(R, N)`` effect level; both arrays change in place.
    ``cells``: ``(r, i)``, or ``(r, i, f)`` with flat indices (C-contiguous arrays).
    """
    if len(cells) == 3:
        f = cells[2]
        if play.health:
            hf = health.reshape(-1)
            hf[f] = np.clip(hf[f] + play.health * wf, 0.0, 100.0)
        lf = level.reshape(-1)
        lf[f] = np.maximum(lf[f], wf)
        return
    r, i = cells[0], cells[1]
    if play.health:
        health[r, i] = np.clip(health[r, i] + play.health * wf, 0.0, 100.0)
    level[r, i] = np.maximum(level[r, i], wf)


def decay_effects(
    plays: Sequence[CompiledPlay], level: np.ndarray, on: Sequence[bool], n: int
) -> None:
    """Month's end: ``L *= 0.5 ** (1 / half_life)`` for every play with an effect on."""
    for k, p in enumerate(plays):
        if on[k]:
            level[k, :, :n] *= p.decay_factor


def _times_effect(
    acc: np.ndarray | None, lv: np.ndarray, mult: float, out: np.ndarray, tmp: np.ndarray
) -> np.ndarray:
    """``acc * (1 + (mult - 1) lv)`` (``acc`` None: a product of one factor, in ``out``)."""
    if acc is None:
        np.multiply(lv, mult - 1.0, out=out)
        out += 1.0
        return out
    np.multiply(lv, mult - 1.0, out=tmp)
    tmp += 1.0
    acc *= tmp
    return acc


def play_multipliers(
    plays: Sequence[CompiledPlay], level: np.ndarray, on: Sequence[bool], n: int, *,
    hazard_out: np.ndarray, expansion_out: np.ndarray, tmp: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``Π_plays (1 + (hazard_multiplier - 1) L)`` and the same for expansion.

    Returns
    -------
    hazard, expansion : ndarray or None
        None when no play with such an effect is on (the product is 1).
    """
    hm = em = None
    for k, p in enumerate(plays):
        if not on[k]:
            continue
        lv = level[k, :, :n]
        if p.hazard_multiplier != 1.0:
            hm = _times_effect(hm, lv, p.hazard_multiplier, hazard_out, tmp)
        if p.expansion_multiplier != 1.0:
            em = _times_effect(em, lv, p.expansion_multiplier, expansion_out, tmp)
    return hm, em


# ------------------------------------------------------------------------------ churn
def churn_hazards(
    x: np.ndarray, tenure: np.ndarray, intercept: np.ndarray, involuntary_rate: np.ndarray,
    params: ChurnParams, *, cells: Cells, retention: dict[str, np.ndarray | None],
    play_hazard: np.ndarray | None, member: np.ndarray, loyalty: Loyalty, out: np.ndarray,
    tmp: np.ndarray, at_most_one: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Monthly hazards: voluntary ``p`` (capped at 1) and involuntary ``q``.

    ``p = σ(intercept + health_slope x + early_life [tenure < early_life_months] +
    tenure_slope min(tenure, 36) / 12) * play_hazard * retention multipliers * loyalty``;
    ``q = involuntary_rate * retention multiplier``.

    Parameters
    ----------
    x, tenure, intercept, involuntary_rate : ndarray
        ``(R, n)``; ``involuntary_rate`` is returned as ``q`` when no multiplier applies.
    params : ChurnParams
    cells : (ndarray, ndarray)
        ``(seg, tier)`` codes of the slots, to look up ``retention`` tables.
    retention : dict
        ``(segments, tiers)`` multiplier tables by target (None: all 1).
    play_hazard : ndarray or None
        From :func:`play_multipliers`.
    member : ndarray of bool
        Loyalty members (their hazard is multiplied when the programme is enabled).
    loyalty : Loyalty
    out, tmp : ndarray
        ``out`` receives ``p``.
    at_most_one : bool
        The caller knows that no multiplier exceeds 1 (then ``p <= 1`` already: a
        logistic times factors in ``(0, 1]``, each rounded product too), so the cap
        is skipped.
    """
    seg, tier = cells
    pv = out  # first the negated argument (each term negated exactly), then p
    np.multiply(x, -params.health_slope, out=pv)
    pv -= intercept
    if params.early_life and params.early_life_months > 0:
        np.less(tenure, params.early_life_months, out=tmp)
        tmp *= params.early_life
        pv -= tmp
    if params.tenure_slope:
        np.clip(tenure, -np.inf, 36.0, out=tmp)  # min(tenure, 36); clip is faster
        tmp *= params.tenure_slope / 12.0
        pv -= tmp
    sigmoid_neg_(pv)
    if play_hazard is not None:
        pv *= play_hazard
    if retention["voluntary_churn"] is not None:
        pv *= retention["voluntary_churn"][seg, tier]
    if retention["early_life_churn"] is not None:
        early = tenure < params.early_life_months
        pv *= np.where(early, retention["early_life_churn"][seg, tier], 1.0)
    if loyalty.enabled and loyalty.hazard_multiplier != 1.0:
        mr, mi = nonzero_2d(member)
        pv[mr, mi] *= loyalty.hazard_multiplier
    if not at_most_one:
        np.clip(pv, -np.inf, 1.0, out=pv)  # min(p, 1)
    q = involuntary_rate
    if retention["involuntary_churn"] is not None:
        q = np.minimum(q * retention["involuntary_churn"][seg, tier], 1.0)
    return pv, q


def accumulate_term(
    survival: Sequence[np.ndarray], hazards: Sequence[np.ndarray], *,
    in_term: np.ndarray, months: np.ndarray | None = None, tmp: np.ndarray
) -> None:
    """Annual contracts' survival over the term: ``S *= (1 - p)`` for each hazard ``p``.

    Parameters
    ----------
    survival : sequence of ndarray
        The products over the term's months so far (1 at its start), one per hazard,
        changed in place where ``in_term``: ``S`` and ``S_q`` of churn, ``S_c`` of
        contraction.
    hazards : sequence of ndarray
        This month's hazards: voluntary and involuntary churn (:func:`churn_hazards`),
        or contraction (:func:`expansion_probabilities`).
    in_term : ndarray of bool
        Accounts on an annual contract that count this month (active, tenure >= 1).
    months : ndarray, optional
        Months this step stands for (``(1 - p) ** months``): the first simulated month
        of a term that began earlier counts its earlier months at this month's hazard.
    tmp : ndarray
        Scratch.
    """
    weight = in_term.astype(tmp.dtype)  # 0 or 1: a float factor multiplies faster than a mask
    for s, p in zip(survival, hazards, strict=True):
        np.multiply(p, weight, out=tmp)  # 1 - p in the term, 1 elsewhere (faster than where=)
        np.subtract(1.0, tmp, out=tmp)
        if months is not None:
            np.power(tmp, months, out=tmp)
        s *= tmp


def decide_churn(
    u: np.ndarray, pv: np.ndarray, q: np.ndarray, *, active: np.ndarray, annual: np.ndarray,
    renew: np.ndarray, survival: Sequence[np.ndarray], renew_cells: Cells | None = None,
    tmp: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Voluntary if ``u < p``, else involuntary if ``u >= 1 - q``, for accounts that decide.

    Monthly contracts (``active & ~annual``) decide every month; annual ones only at
    renewal (``renew``), on the term's accumulated hazards ``1 - S`` and ``1 - S_q``
    (``survival``, from :func:`accumulate_term`, which then restart at 1 for the next
    term). ``pv`` changes in place, ``q`` does not. ``renew_cells`` are the cells of
    ``renew`` when the caller has them; ``tmp`` (optional scratch) receives ``1 - q``.

    Returns
    -------
    voluntary, involuntary : ndarray of bool
    """
    decide = np.greater(active, annual)  # active & ~annual
    rn_r, rn_i = nonzero_2d(renew) if renew_cells is None else renew_cells
    threshold = np.subtract(1.0, q, out=tmp)  # 1 - q
    if rn_r.size:
        sv, sq = survival
        decide |= renew
        put2(pv, rn_r, rn_i, 1.0 - take2(sv, rn_r, rn_i))
        put2(threshold, rn_r, rn_i, 1.0 - (1.0 - take2(sq, rn_r, rn_i)))  # 1 - q, q = 1 - S_q
        put2(sv, rn_r, rn_i, 1.0)
        put2(sq, rn_r, rn_i, 1.0)
    vol = u < pv
    vol &= decide
    inv = u >= threshold
    inv &= decide
    np.greater(inv, vol, out=inv)  # inv & ~vol
    return vol, inv


# -------------------------------------------------------------------------- expansion
def expansion_probabilities(
    x: np.ndarray, params: ExpansionParams, *, intercepts: tuple[np.ndarray, np.ndarray],
    cells: Cells, retention: dict[str, np.ndarray | None], play_expansion: np.ndarray | None,
    pe_out: np.ndarray, pc_out: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``pe = σ(a_e + b_e x) * play_expansion * mult``, ``pc = σ(a_c + b_c x) * mult``.

    ``intercepts`` are the expansion and contraction intercepts per slot; ``cells`` the
    ``(seg, tier)`` codes for the ``retention`` tables.
    """
    seg, tier = cells
    pe = pe_out  # the negated arguments first (each term negated exactly)
    np.multiply(x, -params.expansion_health_slope, out=pe)
    pe -= intercepts[0]
    sigmoid_neg_(pe)
    if play_expansion is not None:
        pe *= play_expansion
    if retention["expansion"] is not None:
        pe *= retention["expansion"][seg, tier]
    pc = pc_out
    np.multiply(x, -params.contraction_health_slope, out=pc)
    pc -= intercepts[1]
    sigmoid_neg_(pc)
    if retention["contraction"] is not None:
        pc *= retention["contraction"][seg, tier]
    return pe, pc


def decide_resize(
    u: np.ndarray, pe: np.ndarray, pc: np.ndarray, *, survivors: np.ndarray, annual: np.ndarray,
    renewal: np.ndarray, term: np.ndarray, renewal_cells: Cells | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Expansion if ``u < pe``, else contraction if ``u >= 1 - pc`` (``pc`` is overwritten).

    Annual contracts contract only at renewal, with the contraction hazard accumulated
    over the term, ``1 - S_c`` (``term``, from :func:`accumulate_term`, which restarts
    at 1 for the next term). ``renewal_cells`` are the cells of ``renewal`` when the
    caller has them.

    Returns
    -------
    expand, contract : ndarray of bool
    """
    rn_r, rn_i = nonzero_2d(renewal) if renewal_cells is None else renewal_cells
    if rn_r.size:
        put2(pc, rn_r, rn_i, 1.0 - take2(term, rn_r, rn_i))
        put2(term, rn_r, rn_i, 1.0)
    exp_ = u < pe
    exp_ &= survivors
    np.subtract(1.0, pc, out=pc)
    con = u >= pc
    con &= survivors
    np.greater(con, exp_, out=con)  # con & ~exp_
    con &= np.greater_equal(renewal, annual)  # ~annual | renewal
    return exp_, con


_RESIZE_TOL = 1e-6  #: seat rounding's relative tolerance (float32 error: 6e-8)


def resize_seats(
    seats: np.ndarray, expand: Cells, contract: Cells, expansion_size: np.ndarray,
    contraction_size: np.ndarray
) -> None:
    """``seats = ceil(seats (1 + expansion_size))`` or ``max(1, floor(seats (1 - size)))``,
    to a relative :data:`_RESIZE_TOL` (float32 sizes: 5 seats x 1.2 give 6, not 7)."""
    er, ei = expand
    cr, ci = contract
    if er.size:
        x = take2(seats, er, ei) * (1.0 + take2(expansion_size, er, ei).astype(np.float64))
        put2(seats, er, ei, np.ceil(x * (1.0 - _RESIZE_TOL)))
    if cr.size:
        x = take2(seats, cr, ci) * (1.0 - take2(contraction_size, cr, ci).astype(np.float64))
        put2(seats, cr, ci, np.maximum(1.0, np.floor(x * (1.0 + _RESIZE_TOL))))


# ---------------------------------------------------------------------------- loyalty
def join_loyalty(
    member: np.ndarray, answers: tuple[np.ndarray, np.ndarray, np.ndarray], loyalty: Loyalty
) -> Cells:
    """Survey promoters (score >= ``join_min_score``) join; returns the new members' cells."""
    rr, ii, score = answers
    join = (score >= loyalty.join_min_score) & ~take2(member, rr, ii)
    member[rr[join], ii[join]] = True
    return rr[join], ii[join]


def reprice(
    mrr: np.ndarray, cells: Cells, *, seats: np.ndarray, price: np.ndarray, member: np.ndarray,
    loyalty: Loyalty
) -> None:
    """``MRR = seats * price_per_seat * (1 - discount * member)`` on ``cells``."""
    r, i = cells
    if r.size:
        disc = 1.0 - loyalty.discount * take2(member, r, i) if loyalty.enabled else 1.0
        put2(mrr, r, i, take2(seats, r, i) * take2(price, r, i) * disc)


# ------------------------------------------------------------------------------ books
def book_costs(
    books: dict[str, np.ndarray], m: int, *, team_cost: float, play_cost: np.ndarray,
    programme_cost: float, loyalty: Loyalty, member: np.ndarray, alive: np.ndarray
) -> None:
    """Costs of month ``m``: CSM teams, plays' deliveries, programmes and loyalty members.

    ``programme_cost`` is the retention changes' plus the other monthly costs; members
    (``member & alive``) are counted only when loyalty is enabled.
    """
    books["csm_cost"][:, m] = team_cost
    books["play_cost"][:, m] = play_cost
    if loyalty.enabled:
        n_members = count_rows(member & alive)
    else:
        n_members = np.zeros(member.shape[0])
    books["members"][:, m] = n_members
    books["programme_cost"][:, m] = programme_cost + loyalty.cost_per_member * n_members


def book_voice(
    books: dict[str, np.ndarray], m: int, *, answers: tuple[np.ndarray, np.ndarray, np.ndarray],
    fail: np.ndarray, health: np.ndarray, alive: np.ndarray, n_alive: np.ndarray
) -> None:
    """NPS answers (promoters >= 9, detractors <= 6), failed tickets and mean health.

    Health is summed on a grid of 1e-4 points, exactly in float64, so a row's figure
    does not depend on the order of the sum nor on the dead slots beside it (a warm-up
    pads rows to a common width).
    """
    R = n_alive.shape[0]  # noqa: N806 (replications)
    rr, _, score = answers
    books["nps_responses"][:, m] = np.bincount(rr, minlength=R)
    books["nps_promoters"][:, m] = np.bincount(rr, weights=score >= 9, minlength=R)
    books["nps_detractors"][:, m] = np.bincount(rr, weights=score <= 6, minlength=R)
    books["failed_tickets"][:, m] = fail.sum(axis=1)
    grid = np.rint(health * np.float32(1e4))  # whole numbers < 2**24: exact in float32
    grid *= alive
    total = grid.sum(axis=1, dtype=np.float64) / 1e4  # sums of whole numbers: exact
    books["mean_health"][:, m] = total / np.maximum(n_alive, 1)
