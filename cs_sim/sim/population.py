"""Accounts before the engine runs: the slot layout, the starting customers, tiers.

* :class:`Layout`: ``n_initial`` slots for the starting customers, then a block of
  ``per_month`` slots a month for new logos, over the warm-up and the horizon
  (:func:`default_layout` sizes the block).
* :class:`StartingPopulation`: the starting customers of each replication, drawn from
  the segments (:func:`synthetic_population`) or read from a dataset
  (:func:`initial_population`); :func:`starting_population` picks one as the scenario
  says.
* :func:`draw_accounts`: an account's attributes from four uniforms (starting customers
  and new logos alike): segment from the shares, employees ``~ LogNormal(median,
  sigma)``, contract annual with probability ``annual_share``, health ``~ N(health_mean,
  health_sd)`` clipped to 0-100, ``seats = max(1, round(seat_share * employees))``.
* :func:`tier_of`: the first tier whose rule holds (the last tier catches the rest).
* :class:`AccountSlots`: the accounts as ``(R, N)`` slot arrays (replications x slots),
  filled with the starting customers and the new-logo blocks, and born month by month;
  the engine's batch extends it with the model's dynamics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from cs_sim.errors import ScenarioError
from cs_sim.sim.numerics import norm_ppf, select
from cs_sim.sim.plays import OPERATORS
from cs_sim.sim.rng import component_generators
from cs_sim.sim.scenario import Scenario, TierCondition
from cs_sim.sim.starts import life_starts, month_index

__all__ = [
    "SLOT_PARAMETERS",
    "UNBORN",
    "AccountSlots",
    "Layout",
    "StartingPopulation",
    "born_logo_accounts",
    "default_layout",
    "draw_accounts",
    "initial_population",
    "new_logo_accounts",
    "segment_table",
    "slot_parameter_tables",
    "starting_population",
    "synthetic_population",
    "tier_inputs",
    "tier_of",
]

#: acquisition month of a slot not born (yet)
UNBORN = 10**6
#: segment parameters the engine holds per slot (``fail_rate = tickets_per_seat (1 - fcr)``)
SLOT_PARAMETERS = (
    "health_mean", "churn_intercept", "involuntary_rate", "expansion_intercept",
    "expansion_size", "contraction_intercept", "contraction_size", "tickets_per_seat",
    "active_share_intercept", "fail_rate",
)


# ----------------------------------------------------------------------------- layout
@dataclass(frozen=True)
class Layout:
    """Slot layout: ``n_initial`` starting slots, then ``per_month`` slots per month.

    A run's layout covers ``warmup`` months then ``horizon`` months; the engine runs
    each phase on a layout of its own (``warmup`` 0), the horizon's starting with the
    accounts the warm-up hands over.
    """

    n_initial: int
    per_month: int
    horizon: int
    warmup: int = 0

    @property
    def n_total(self) -> int:
        """Total number of slots (an upper bound with a warm-up: it compacts them)."""
        return self.n_initial + self.per_month * (self.warmup + self.horizon)

    def limit(self, month: int) -> int:
        """Number of slots that may be occupied by the end of ``month``."""
        return self.n_initial + self.per_month * (month + 1)


def default_layout(scenario: Scenario, n_initial: int, *, warmup: int | None = None) -> Layout:
    """Slot layout for ``scenario`` with ``n_initial`` starting accounts.

    The block per month is ``acquisition.max_per_month`` or, by default, the 1 - 1e-9
    quantile of the Poisson number of new logos at the base rate plus the referrals
    the whole population could make (so the cap is practically never reached).
    ``warmup`` months (default ``scenario.warmup()``) come before the horizon.
    """
    w = scenario.warmup() if warmup is None else int(warmup)
    acq = scenario.acquisition
    if acq.max_per_month is not None:
        k = acq.max_per_month
    else:
        lam = acq.new_logos_per_month
        if scenario.loyalty.enabled:
            months = w + scenario.horizon_months
            lam += scenario.loyalty.referral_rate * (n_initial + lam * months)
        k = 0 if lam <= 0 else int(math.ceil(lam + 6.0 * math.sqrt(lam) + 6.0))
    return Layout(n_initial=n_initial, per_month=k, horizon=scenario.horizon_months, warmup=w)


# ------------------------------------------------------------------------- population
@dataclass
class StartingPopulation:
    """Starting customers as ``(R, N0)`` arrays (one row per replication)."""

    seg: np.ndarray
    employees: np.ndarray
    annual: np.ndarray
    tenure: np.ndarray  # tenure at the month before the first simulated month
    seats: np.ndarray
    price: np.ndarray
    health: np.ndarray
    account_id: list[str] | None = None
    tier: np.ndarray | None = None  # starting tiers from a dataset's labels (else the rules)

    @property
    def n(self) -> int:
        """Number of starting accounts."""
        return int(self.seg.shape[1])


def segment_table(scenario: Scenario, attr: str) -> np.ndarray:
    """One float per segment of the segments' attribute ``attr``.

    ``employees_median`` and ``employees_sigma`` name the fields of ``employees``.
    """
    if attr.startswith("employees_"):
        sub = attr.removeprefix("employees_")
        return np.array([float(getattr(s.employees, sub)) for s in scenario.segments])
    return np.array([float(getattr(s, attr)) for s in scenario.segments])


def slot_parameter_tables(scenario: Scenario) -> dict[str, np.ndarray]:
    """Float32 tables (one value per segment) of the :data:`SLOT_PARAMETERS`."""
    tables = {k: segment_table(scenario, k) for k in SLOT_PARAMETERS if k != "fail_rate"}
    tables["fail_rate"] = tables["tickets_per_seat"] * (1.0 - scenario.behaviour.support.fcr)
    return {k: v.astype(np.float32) for k, v in tables.items()}


def _draw_segment(u: np.ndarray, shares: np.ndarray) -> np.ndarray:
    cum = np.cumsum(shares / shares.sum())
    cum[-1] = 1.0 + 1e-12
    return np.searchsorted(cum, u, side="right")


def draw_accounts(
    scenario: Scenario, u: np.ndarray, shares: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Accounts' attributes from 4 uniforms each.

    Parameters
    ----------
    scenario : Scenario
    u : ndarray
        Uniforms of shape ``(4, ...)``: segment, employees, contract, health.
    shares : ndarray
        Weight of each segment.

    Returns
    -------
    seg, employees, annual, seats, price, health : ndarray
        Each of shape ``u.shape[1:]``.
    """
    seg = _draw_segment(u[0], shares)
    med = np.log(segment_table(scenario, "employees_median"))[seg]
    sig = segment_table(scenario, "employees_sigma")[seg]
    employees = np.maximum(1.0, np.rint(np.exp(med + sig * norm_ppf(u[1]))))
    annual = u[2] < segment_table(scenario, "annual_share")[seg]
    seats = np.maximum(1.0, np.rint(segment_table(scenario, "seat_share")[seg] * employees))
    price = segment_table(scenario, "price_per_seat")[seg]
    hm = segment_table(scenario, "health_mean")[seg]
    hs = segment_table(scenario, "health_sd")[seg]
    health = np.clip(hm + hs * norm_ppf(u[3]), 0.0, 100.0)
    return seg, employees, annual, seats, price, health


def synthetic_population(
    scenario: Scenario, gens: list[np.random.Generator]
) -> StartingPopulation:
    """Draw the starting customers of each replication from its population stream.

    Five uniforms per account: the four of :func:`draw_accounts`, then tenure uniform
    on ``0 .. max_tenure_months``.
    """
    n = scenario.population.n_accounts
    u = np.stack([g.random((5, n)) for g in gens], axis=1)  # (5, R, n)
    shares = segment_table(scenario, "share")
    seg, employees, annual, seats, price, health = draw_accounts(scenario, u[:4], shares)
    tenure = np.floor(u[4] * (scenario.population.max_tenure_months + 1)).astype(np.int64)
    return StartingPopulation(seg, employees, annual, tenure, seats, price, health)


def new_logo_accounts(
    scenario: Scenario, acquisition: np.ndarray, per_month: int
) -> dict[str, np.ndarray]:
    """Attributes of every new-logo slot, drawn before the run.

    Parameters
    ----------
    scenario : Scenario
    acquisition : ndarray
        ``(R, months, 1 + 4 * per_month)`` uniforms of the acquisition stream; in month
        ``m`` the first decides the count, then four per slot of the month's block
        (segment, employees, contract, health).
    per_month : int
        Slots per month (``K``).

    Returns
    -------
    dict of str to ndarray
        ``seg``, ``annual``, ``employees``, ``seats``, ``price``, ``health`` and
        ``tier``, each ``(R, months * per_month)``; the segment comes from
        ``acquisition.segment_mix`` (default: the segments' shares).
    """
    R, H = acquisition.shape[:2]  # noqa: N806 (replications, months)
    K = per_month  # noqa: N806
    u = acquisition[:, :, 1:].reshape(R, H, 4, K).transpose(2, 0, 1, 3).reshape(4, R, H * K)
    return _new_logo_attributes(scenario, u)


def born_logo_accounts(
    scenario: Scenario, acquisition: np.ndarray, per_month: int, count: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """:func:`new_logo_accounts` of the slots that will be born only (``count`` known).

    ``count`` is ``(R, months)`` new logos; returns 1-D attributes of the born, in
    ``(row, month, slot)`` order, and ``(R, months)`` the index of each row's and month's
    first (the same values, per account, as the full table).
    """
    R, H = count.shape  # noqa: N806 (replications, months)
    K = per_month  # noqa: N806
    c = count.reshape(-1)
    first = np.cumsum(c) - c
    blk = np.repeat(np.arange(R * H), c)  # (row, month) of each account
    k = np.arange(blk.size) - first[blk]
    flat = acquisition.reshape(R * H, -1)
    u = np.stack([flat[blk, 1 + j * K + k] for j in range(4)])
    return _new_logo_attributes(scenario, u), first.reshape(R, H)


def _new_logo_attributes(scenario: Scenario, u: np.ndarray) -> dict[str, np.ndarray]:
    """New logos' attributes from their four uniforms each (``u``: ``(4, ...)``)."""
    acq, names = scenario.acquisition, scenario.segment_names()
    mix = (
        np.array([acq.segment_mix.get(s, 0.0) for s in names])
        if acq.segment_mix is not None
        else segment_table(scenario, "share")
    )
    seg, employees, annual, seats, price, health = draw_accounts(scenario, u, mix)
    tier = tier_of(scenario, mrr=seats * price, employees=employees, seats=seats, seg=seg,
                   health=health, annual=annual)
    return {"seg": seg, "annual": annual, "employees": employees, "seats": seats,
            "price": price, "health": health, "tier": tier}


def starting_population(
    scenario: Scenario, seed: int, reps: tuple[int, ...], dataset: Any = None
) -> StartingPopulation:
    """The starting customers of replications ``reps``, as ``scenario.population`` says.

    Parameters
    ----------
    scenario : Scenario
    seed : int
        Root seed (synthetic populations draw from each replication's population stream).
    reps : tuple of int
    dataset : cs_sim.io.Dataset, optional
        Starting customers when ``population.source`` is ``dataset`` (default: read
        ``population.dataset``).

    Returns
    -------
    StartingPopulation
    """
    if scenario.population.source != "dataset":
        gens = [component_generators(seed, r, ("population",))["population"] for r in reps]
        return synthetic_population(scenario, gens)
    if dataset is None:
        if scenario.population.dataset is None:
            raise ScenarioError(
                "population.source is 'dataset' but no dataset was given: pass "
                "dataset=... or set population.dataset to a folder"
            )
        from cs_sim.io import load_dataset

        dataset = load_dataset(scenario.population.dataset)
    return initial_population(scenario, dataset, len(reps))


# ------------------------------------------------------------------------------ tiers
def tier_of(
    scenario: Scenario,
    *,
    seg: np.ndarray,
    mrr: np.ndarray | None = None,
    employees: np.ndarray | None = None,
    seats: np.ndarray | None = None,
    health: np.ndarray | None = None,
    annual: np.ndarray | None = None,
) -> np.ndarray:
    """Tier index of each account: the first tier whose rule holds (ARR = 12 MRR).

    Only the attributes the tier rules use are needed (:func:`tier_inputs`).
    """
    values = {
        "arr": None if mrr is None else 12.0 * mrr,
        "mrr": mrr,
        "employees": employees,
        "seats": seats,
        "health": health,
    }
    return _first_match(
        [t.rule for t in scenario.tiers], scenario.segment_names(), values, seg, annual
    )


#: the slot array each tier-rule attribute reads
_TIER_INPUT = {"arr": "mrr", "mrr": "mrr", "employees": "employees", "seats": "seats",
               "health": "health", "contract": "annual"}


def tier_inputs(scenario: Scenario) -> tuple[str, ...]:
    """The :func:`tier_of` arguments (besides ``seg``) that the scenario's tier rules read."""
    used = {_TIER_INPUT[c.attribute] for t in scenario.tiers for c in t.rule
            if c.attribute in _TIER_INPUT}
    return tuple(sorted(used))


def _first_match(
    rules: list[list[TierCondition]],
    seg_names: list[str],
    values: dict[str, np.ndarray | None],
    seg: np.ndarray,
    annual: np.ndarray | None,
) -> np.ndarray:
    """Index of the first rule that holds (an empty rule holds; default the last)."""
    out = np.full(seg.shape, len(rules) - 1, dtype=np.intp)
    undecided = np.ones(seg.shape, dtype=bool)
    for t, rule in enumerate(rules):
        if not rule:  # an empty rule holds for every account still undecided
            out[undecided] = t
            break
        ok = undecided.copy()
        for c in rule:
            if c.attribute in ("segment", "contract"):
                wanted = c.value if isinstance(c.value, list) else [c.value]
                if c.attribute == "segment":
                    codes = [seg_names.index(str(w)) for w in wanted]
                    hit = np.isin(seg, codes)
                else:
                    assert annual is not None
                    hit = np.zeros(seg.shape, dtype=bool)
                    for w in wanted:
                        hit |= annual if w == "annual" else ~annual
                ok &= ~hit if c.op == "!=" else hit
            else:
                ok &= OPERATORS[c.op](values[c.attribute], float(c.value))  # type: ignore[arg-type]
        out[ok] = t
        undecided &= ~ok
    return out


# ---------------------------------------------------------------------------- dataset
def initial_population(
    scenario: Scenario, dataset: Any, n_reps: int
) -> StartingPopulation:
    """Starting customers from a :class:`cs_sim.io.Dataset` (the same in every replication).

    Accounts active (MRR > 0) in the dataset's last month become the population:
    segment from an accounts ``segment`` column (its labels renamed by
    ``population.segment_map`` must be the scenario's segments, else a
    :class:`~cs_sim.errors.ScenarioError` lists them), else from the segments'
    ``match`` rules (first match; a segment without rules matches all); starting tier
    from a ``tier`` column the same way (``population.tier_map``; not with
    ``population.retier_at_start``), else from the tier rules; contract from
    ``contract``; tenure from the first month with MRR > 0 (for an account already
    paying in the data's first month, from its ``signup_date``:
    :func:`cs_sim.sim.starts.life_starts`); seats from
    the usage table's last month when present, else ``seat_share * employees``; price
    per seat = MRR / seats; health from usage (inverting the active-share equation)
    when present, else the segment's mean.
    """
    import pandas as pd

    accounts = dataset.accounts
    mrr = dataset.mrr
    if mrr is None or len(mrr) == 0:
        raise ScenarioError("population: the dataset has no MRR rows to start from")
    months = pd.to_datetime(mrr["month"])
    last = months.max()
    cur = mrr.loc[(months == last) & (mrr["mrr"] > 0), ["account_id", "mrr"]]
    cur = cur.groupby("account_id", sort=True)["mrr"].sum()
    first_paid = (
        mrr.loc[mrr["mrr"] > 0]
        .assign(month=lambda d: pd.to_datetime(d["month"]))
        .groupby("account_id")["month"]
        .min()
    )
    acc = accounts.set_index("account_id").reindex(cur.index)
    ids = [str(a) for a in cur.index]
    n = len(ids)
    seg_names = scenario.segment_names()
    employees = pd.to_numeric(acc.get("employees"), errors="coerce").fillna(1.0).to_numpy()
    employees = np.maximum(employees.astype(float), 1.0)
    annual = (acc.get("contract", pd.Series(["monthly"] * n)).astype(str) == "annual").to_numpy()
    mrr_now = cur.to_numpy(dtype=float)
    pop = scenario.population
    where = f"{getattr(dataset, 'source', None) or 'the dataset'}: accounts"
    tier = None
    if "tier" in acc.columns and not pop.retier_at_start:
        tier = _label_codes(acc["tier"], ids, scenario.tier_names(), pop.tier_map,
                            what="tier", where=where)
    if "segment" in acc.columns:
        seg = _label_codes(acc["segment"], ids, seg_names, pop.segment_map, what="segment",
                           where=where)
    else:
        rules = [s.match for s in scenario.segments]
        if rules and rules[-1]:
            rules = [*rules, []]
        values = {"arr": 12 * mrr_now, "mrr": mrr_now, "employees": employees,
                  "seats": employees, "health": np.full(n, 50.0)}
        seg = _first_match(rules, seg_names, values, np.zeros(n, np.intp), annual)
        seg = np.minimum(seg, len(seg_names) - 1)
    signup = (accounts.drop_duplicates("account_id").set_index("account_id")["signup_date"]
              .reindex(first_paid.index) if "signup_date" in accounts.columns else None)
    start, _ = life_starts(month_index(first_paid).astype(np.int64), signup,
                           int(month_index([months.min()])[0]))
    last_index = last.year * 12 + last.month - 1
    tenure = (last_index - pd.Series(start, index=first_paid.index).reindex(cur.index)
              ).to_numpy(dtype=np.int64)
    seat_share = segment_table(scenario, "seat_share")[seg]
    seats = np.maximum(1.0, np.rint(seat_share * employees))
    health = segment_table(scenario, "health_mean")[seg].copy()
    usage = getattr(dataset, "usage", None)
    if usage is not None and len(usage):
        um = usage.loc[pd.to_datetime(usage["month"]) == last]
        um = um.groupby("account_id")[["active_users", "seats"]].sum().reindex(cur.index)
        s = um["seats"].to_numpy(dtype=float)
        au = um["active_users"].to_numpy(dtype=float)
        have = np.isfinite(s) & (s > 0)
        seats = np.where(have, s, seats)
        slope = scenario.behaviour.usage.health_slope
        if slope != 0:
            share = np.clip(np.where(have, au / np.where(have, s, 1), np.nan), 0.02, 0.98)
            logit = np.log(share / (1 - share))
            intercept = segment_table(scenario, "active_share_intercept")[seg]
            h = 50.0 + 10.0 * (logit - intercept) / slope
            health = np.where(have & np.isfinite(h), np.clip(h, 0, 100), health)
    price = mrr_now / seats

    def rep(a: np.ndarray) -> np.ndarray:
        return np.broadcast_to(a, (n_reps, n)).copy()

    return StartingPopulation(
        rep(seg), rep(employees), rep(annual), rep(tenure), rep(seats), rep(price), rep(health),
        account_id=ids, tier=None if tier is None else rep(tier),
    )


def _label_codes(
    labels: Any, ids: list[str], names: list[str], mapping: dict[str, str], *, what: str,
    where: str,
) -> np.ndarray:
    """Codes of a dataset's ``segment`` or ``tier`` labels, renamed by ``mapping``.

    Raises
    ------
    cs_sim.errors.ScenarioError
        If a label (after renaming) is not one of ``names``: the message lists the labels
        found, those expected, the first accounts of each unknown label and the
        ``population.<what>_map`` that would map them.
    """
    raw = ["" if v is None or v != v else str(v) for v in labels]  # v != v: NaN
    mapped = [mapping.get(v, v) for v in raw]
    code = {n: i for i, n in enumerate(names)}
    bad: dict[str, list[str]] = {}
    for account, label, name in zip(ids, raw, mapped, strict=True):
        if name not in code:
            bad.setdefault(label, []).append(account)
    if bad:
        found = sorted(set(raw))
        shown = "; ".join(
            f"{lbl or '(empty)'!r}: {len(acc)} account{'s' * (len(acc) != 1)} "
            f"(e.g. {', '.join(acc[:3])})"
            for lbl, acc in sorted(bad.items())
        )
        guess = {lbl: next((n for n in names if n.lower() == lbl.lower()), names[0])
                 for lbl in sorted(bad) if lbl}
        example = ", ".join(f"{k}: {v}" for k, v in guess.items()) or f"LABEL: {names[0]}"
        raise ScenarioError(
            f"{where}, column '{what}': {len(bad)} label(s) the scenario has no {what} for: "
            f"{shown}. Labels found: {', '.join(repr(x) for x in found)}; the scenario's "
            f"{what}s: {', '.join(names)}. Map each label to a {what} of the scenario, e.g. "
            f"population: {{{what}_map: {{{example}}}}}, or rename the {what}s in the "
            "scenario"
        )
    return np.array([code[n] for n in mapped], dtype=np.intp)


# ------------------------------------------------------------------------------ slots
class AccountSlots:
    """The accounts as ``(R, N)`` slot arrays, placed and born (see :class:`Layout`).

    Money (employees, seats, price, MRR) is float64; health, tenure and the per-slot
    segment parameters (:data:`SLOT_PARAMETERS`, in ``sp``) are float32.

    Parameters
    ----------
    scenario : Scenario
    layout : Layout
    n_reps : int
        Replication rows ``R``.
    """

    def __init__(self, scenario: Scenario, layout: Layout, n_reps: int) -> None:
        self.sc = scenario
        self.L = layout
        R, NT = n_reps, layout.n_total  # noqa: N806 (replications, slots)
        S, T = len(scenario.segments), len(scenario.tiers)  # noqa: N806
        f4 = np.float32
        self.alive = np.zeros((R, NT), dtype=bool)
        self.acq = np.full((R, NT), UNBORN, dtype=np.int32)  # acquisition month
        self.ten = np.full((R, NT), -float(UNBORN), dtype=f4)  # tenure (months, exact ints)
        # acquisition month % 12: anniversaries are the months m with m % 12 == phase
        self.phase = np.zeros((R, NT), dtype=np.int8)
        self.seg = np.zeros((R, NT), dtype=np.int8 if S < 128 else np.intp)
        self.tier = np.full((R, NT), T - 1, dtype=np.int8 if T < 128 else np.intp)
        self.annual = np.zeros((R, NT), dtype=bool)
        self.employees = np.ones((R, NT))
        self.seats = np.ones((R, NT))
        self.price = np.zeros((R, NT))
        self.mrr = np.zeros((R, NT))
        self.health = np.zeros((R, NT), dtype=f4)
        self.member = np.zeros((R, NT), dtype=bool)
        # the per-slot parameters in one block (a birth sets them in one go), by name
        self.sp_block = np.zeros((len(SLOT_PARAMETERS), R, NT), dtype=f4)
        self.sp = {k: self.sp_block[j] for j, k in enumerate(SLOT_PARAMETERS)}
        self.seg_tables = slot_parameter_tables(scenario)
        self.sp_table = np.stack([self.seg_tables[k] for k in SLOT_PARAMETERS])  # (10, S)
        self.pop_ids: list[str] | None = None
        self.mrr_initial = np.zeros((R, 0))  # the starting customers' MRR
        # contract term of each segment (months): annual contracts renew every term
        self.term_months = segment_table(scenario, "contract_months").astype(np.float32)

    def _put_seg_params(self, flat: np.ndarray, seg: np.ndarray) -> None:
        """Per-slot segment parameters of the cells ``flat`` (``r * N + i``), segments ``seg``."""
        size = self.sp_block[0].size
        every = (np.arange(len(SLOT_PARAMETERS))[:, None] * size + flat).reshape(-1)
        self.sp_block.reshape(-1)[every] = self.sp_table[:, seg].reshape(-1)

    def _set_seg_params(self, sl: Any) -> None:
        """Fill the per-slot segment parameters of the slots ``sl`` (a 2-D slice)."""
        seg = self.seg[sl].astype(np.intp)
        self.sp_block[(slice(None), *sl)] = self.sp_table[:, seg]

    def place_starting(self, pop: StartingPopulation, *, first_month: int = 0) -> None:
        """Put the starting customers in slots ``0 .. N0-1``, alive.

        ``pop.tenure`` is their tenure in the month before ``first_month``.
        """
        n0 = pop.n
        self.pop_ids = pop.account_id
        if n0 == 0:
            return
        sl = np.s_[:, :n0]
        self.alive[sl] = True
        self.acq[sl] = first_month - 1 - pop.tenure
        self.ten[sl] = pop.tenure  # incremented at the start of month 0
        self.phase[sl] = self.acq[sl] % 12
        self.seg[sl] = pop.seg
        self.annual[sl] = pop.annual
        self.employees[sl] = pop.employees
        self.seats[sl] = pop.seats
        self.price[sl] = pop.price
        self.mrr[sl] = pop.seats * pop.price
        self.health[sl] = pop.health
        self._set_seg_params(sl)
        if pop.tier is not None:  # a dataset's tier labels
            self.tier[sl] = pop.tier
        else:
            self.tier[sl] = tier_of(
                self.sc, mrr=self.mrr[sl], employees=self.employees[sl], seats=self.seats[sl],
                seg=self.seg[sl], health=self.health[sl], annual=self.annual[sl],
            )
        self.mrr_initial = self.mrr[sl].copy()

    def place_new_logos(self, acquisition: np.ndarray, count: np.ndarray | None = None) -> None:
        """Attributes of every new-logo slot (:func:`new_logo_accounts`); unborn until born.

        With ``count`` (``(R, months)`` new logos, when known in advance), only the slots
        that will be born get them: the others stay dead, with default attributes.
        """
        L, K = self.L, self.L.per_month  # noqa: N806 (layout, block)
        if K == 0:
            return
        if count is not None:
            attrs, first = born_logo_accounts(self.sc, acquisition, K, count)
            R, H = count.shape  # noqa: N806 (replications, months)
            c = count.reshape(-1)
            blk = np.repeat(np.arange(R * H), c)
            k = np.arange(blk.size) - first.reshape(-1)[blk]
            r, j = np.divmod(blk, H)
            flat = r * self.alive.shape[1] + L.n_initial + j * K + k
            for name, values in attrs.items():
                getattr(self, name).reshape(-1)[flat] = values
            seg = attrs["seg"]
            self._put_seg_params(flat, seg)
            return
        s = np.s_[:, L.n_initial : L.n_initial + L.horizon * K]
        for name, values in new_logo_accounts(self.sc, acquisition, K).items():
            getattr(self, name)[s] = values
        self._set_seg_params(s)

    def give_birth(self, m: int, count: np.ndarray, *, block: int | None = None) -> np.ndarray:
        """The first ``count[r]`` slots of a block come alive in row ``r``, in month ``m``.

        ``block`` is the block's index in the layout (default ``m``; a batch whose first
        month is not 0 passes its own). Returns the block's ``(R, K)`` mask of the born.
        """
        K = self.L.per_month  # noqa: N806 (block)
        b0 = self.L.n_initial + (m if block is None else block) * K
        born = np.arange(K)[None, :] < count[:, None]
        s = np.s_[:, b0 : b0 + K]
        self.alive[s] = born
        self.acq[s] = np.where(born, m, UNBORN)
        self.ten[s] = np.where(born, 0.0, -float(UNBORN))
        self.phase[s] = m % 12
        self.mrr[s] = np.where(born, self.seats[s] * self.price[s], 0.0)
        return born

    def give_birth_recycled(
        self, m: int, count: np.ndarray, attrs: dict[str, np.ndarray], used: np.ndarray, *,
        first: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """New logos of month ``m`` in free slots (a warm-up, which keeps no fixed layout).

        Row ``r``'s ``count[r]`` new accounts take the attributes of the first slots of
        the month's block (``attrs``: 1-D arrays, ``first[r]`` the index of row ``r``'s
        first new account of the month) and the row's first free slots:
        dead ones below ``used[r]`` (the row's slots in use, updated in place), in slot
        order, then new ones. A row's slots depend on that row alone.

        Returns
        -------
        rows, slots : ndarray
            The new accounts, row by row in block order.
        """
        R = count.shape[0]  # noqa: N806 (replications)
        nu = int(used.max()) if R else 0
        dead = ~self.alive[:, :nu]
        dead &= np.arange(nu)[None, :] < used[:, None]
        f = np.flatnonzero(dead)
        r_d, i_d = np.divmod(f, max(nu, 1))
        n_dead = np.bincount(r_d, minlength=R)
        rank = np.arange(f.size) - (np.cumsum(n_dead) - n_dead)[r_d]  # k within the row
        keep = rank < count[r_d]
        r_a, i_a, k_a = select(keep, r_d, i_d, rank)
        extra = np.maximum(count - n_dead, 0)
        if extra.any():  # the row's dead slots do not suffice: new slots after ``used``
            r_e = np.repeat(np.arange(R), extra)
            off = np.arange(r_e.size) - np.repeat(np.cumsum(extra) - extra, extra)
            i_e = used[r_e] + off
            k_e = np.minimum(count, n_dead)[r_e] + off
            used += extra
            r_a, i_a, k_a = (np.concatenate(a) for a in ((r_a, r_e), (i_a, i_e), (k_a, k_e)))
            order = np.argsort(r_a * (nu + int(extra.max())) + i_a, kind="stable")
            r_a, i_a, k_a = r_a[order], i_a[order], k_a[order]
        if r_a.size == 0:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
        flat = r_a * self.alive.shape[1] + i_a  # the arrays are C-contiguous (R, N)
        src = first[r_a] + k_a
        got = {name: values[src] for name, values in attrs.items()}
        for name, values in got.items():
            getattr(self, name).reshape(-1)[flat] = values
        for name, value in (("alive", True), ("acq", m), ("ten", 0.0), ("phase", m % 12),
                            ("member", False)):
            getattr(self, name).reshape(-1)[flat] = value
        self.mrr.reshape(-1)[flat] = got["seats"] * got["price"]
        seg = got["seg"]
        self._put_seg_params(flat, seg)
        return r_a, i_a

    def members_now(self) -> np.ndarray:
        """Loyalty members alive, per replication row."""
        return np.count_nonzero(self.member & self.alive, axis=1).astype(float)
