"""The recording stream: one replication's per-account history, for synthetic data.

A run with ``record`` keeps, for one replication, the engine's per-account state of
every month (:class:`History`). What the engine has no use for but a dataset needs
(usage activity, tickets solved at first contact and the details of every ticket,
CSAT answers, trials that did not convert) is drawn here from the replication's
``record`` stream (:func:`cs_sim.sim.rng.component_generator`); it never feeds back
into the dynamics, so recording leaves every other number of the run unchanged.

Each of these recorded-data equations is written once, in :data:`EQUATIONS`: its text
(shown in the synthetic company's README and ``ground_truth.json``) sits next to the
function that draws it. Notation as in :mod:`cs_sim.sim.model`: ``x = (health - 50)
/ 10``, ``Z ~ N(0, 1)``; parameters come from the scenario's ``behaviour``,
``segments`` and ``acquisition``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.sim.engine import RawRun
    from cs_sim.sim.scenario import Scenario, SupportParams, SurveyParams, UsageParams

__all__ = [
    "EQUATIONS",
    "Equation",
    "History",
    "Recorder",
    "csat_answers",
    "csat_score",
    "lost_trials",
    "ticket_details",
    "usage_activity",
]

_F = TypeVar("_F", bound=Callable[..., Any])
_CHURN_LABELS = np.array(["", "voluntary", "involuntary"], dtype=object)
_CHURN_NONE, _CHURN_VOL, _CHURN_INVOL = 0, 1, 2


# ------------------------------------------------------------------------- equations
@dataclass(frozen=True)
class Equation:
    """A recorded-data equation: the text people read and the function that draws it.

    Attributes
    ----------
    name : str
    text : str
        The equation in words and symbols (the single text the docs show).
    function : callable
        The function of this module that computes it.
    """

    name: str
    text: str
    function: Callable[..., Any]


_EQUATIONS: dict[str, Equation] = {}
#: the recorded-data equations by name, in the order they are drawn
EQUATIONS: Mapping[str, Equation] = MappingProxyType(_EQUATIONS)


def _equation(name: str, text: str) -> Callable[[_F], _F]:
    """Register the decorated function as the computation of equation ``name``."""

    def register(function: _F) -> _F:
        _EQUATIONS[name] = Equation(name, text, function)
        return function

    return register


@_equation(
    "usage_activity",
    "sessions ~ Poisson(active_users * sessions_per_user); minutes = round(Gamma(2, 1) / 2 "
    "* sessions * minutes_per_session); key_feature_events ~ Poisson(sessions * "
    "key_events_per_session)",
)
def usage_activity(
    g: np.random.Generator, active_users: np.ndarray, usage: UsageParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw sessions, minutes and key-feature events of account-months.

    Parameters
    ----------
    g : numpy.random.Generator
        The ``record`` stream.
    active_users : ndarray
        Active users of each account-month (the engine's).
    usage : cs_sim.sim.scenario.UsageParams
        ``behaviour.usage``.

    Returns
    -------
    sessions, minutes, key_feature_events : ndarray of int64
    """
    sessions = g.poisson(active_users * usage.sessions_per_user)
    minutes = np.rint(g.gamma(2.0, 1.0, size=active_users.size) / 2.0 * sessions
                      * usage.minutes_per_session)
    key_events = g.poisson(sessions * usage.key_events_per_session)
    return (sessions.astype(np.int64), minutes.astype(np.int64),
            key_events.astype(np.int64))


@_equation(
    "tickets",
    "tickets ~ Poisson(tickets_per_seat[segment] * seats) a month, each solved at first "
    "contact with probability fcr; else contacts_to_resolve = 2 + Poisson(0.7); "
    "handle_minutes = Gamma(3, handle_minutes / 3) x contacts",
)
def ticket_details(
    g: np.random.Generator,
    tickets_per_seat: np.ndarray,
    seats: np.ndarray,
    failed: np.ndarray,
    support: SupportParams,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Draw the tickets of account-months and their contacts and handle times.

    The engine draws the tickets *not* solved at first contact, ``failed ~
    Poisson(tickets_per_seat * seats * (1 - fcr))``; the ones solved at first contact,
    ``Poisson(tickets_per_seat * seats * fcr)``, are drawn here (together a Poisson
    number of tickets, each solved at first contact with probability ``fcr``).

    Parameters
    ----------
    g : numpy.random.Generator
        The ``record`` stream.
    tickets_per_seat, seats, failed : ndarray
        Per account-month: the segment's tickets per seat, seats, and the engine's
        tickets not solved at first contact.
    support : cs_sim.sim.scenario.SupportParams
        ``behaviour.support``.

    Returns
    -------
    per_row : ndarray of int64
        Tickets of each account-month (first-contact ones first, then failed ones).
    first_contact : ndarray of bool
        Per ticket.
    contacts : ndarray of int64
        ``contacts_to_resolve`` per ticket.
    handle_minutes : ndarray of float
        Per ticket, rounded to 0.1 minute.
    """
    n_ok = g.poisson(tickets_per_seat * seats * support.fcr)
    n_fail = failed.astype(np.int64)
    per_row = n_ok + n_fail
    first_contact = np.concatenate(
        [np.r_[np.ones(a, bool), np.zeros(f, bool)] for a, f in zip(n_ok, n_fail,
                                                                      strict=True)]
    ) if per_row.sum() else np.zeros(0, bool)
    contacts = np.where(first_contact, 1, 2 + g.poisson(0.7, size=first_contact.size))
    handle = np.round(g.gamma(3.0, support.handle_minutes / 3.0, size=first_contact.size)
                      * contacts, 1)
    return per_row, first_contact, contacts.astype(np.int64), handle


def csat_score(
    health: np.ndarray, first_contact: np.ndarray, z: np.ndarray, surveys: SurveyParams
) -> np.ndarray:
    """CSAT score of tickets (the ``csat`` equation given ``Z``), as floats 1-5.

    Parameters
    ----------
    health : ndarray
        The account's health in the ticket's month.
    first_contact : ndarray of bool
    z : ndarray
        Standard normal draws.
    surveys : cs_sim.sim.scenario.SurveyParams
        ``behaviour.surveys``.

    Returns
    -------
    ndarray of float
    """
    return np.clip(np.rint(
        surveys.csat_intercept + surveys.csat_health_slope * (health - 50.0) / 10.0
        + surveys.csat_first_contact * first_contact + surveys.csat_noise_sd * z), 1, 5)


@_equation(
    "csat",
    "one answer per ticket with probability csat_response_rate; score = "
    "clip(round(csat_intercept + csat_health_slope * x + csat_first_contact"
    " * first_contact + csat_noise_sd * Z), 1, 5)",
)
def csat_answers(
    g: np.random.Generator, health: np.ndarray, first_contact: np.ndarray, surveys: SurveyParams
) -> tuple[np.ndarray, np.ndarray]:
    """Draw which tickets get a CSAT answer, and the score of every ticket.

    Parameters
    ----------
    g : numpy.random.Generator
        The ``record`` stream.
    health : ndarray
        Per ticket, the account's health in its month.
    first_contact : ndarray of bool
    surveys : cs_sim.sim.scenario.SurveyParams
        ``behaviour.surveys``.

    Returns
    -------
    answered : ndarray of bool
    score : ndarray of int64
        :func:`csat_score` (meaningful where ``answered``).
    """
    answered = g.random(first_contact.size) < surveys.csat_response_rate
    z = g.standard_normal(first_contact.size)
    return answered, csat_score(health, first_contact, z, surveys).astype(np.int64)


@_equation(
    "lost_trials",
    "trials that did not convert ~ Poisson(new_logos * (1 - trial_conversion) / "
    "trial_conversion) a month",
)
def lost_trials(
    g: np.random.Generator, new_logos: np.ndarray, trial_conversion: float
) -> np.ndarray:
    """Draw the trials of each month that did not convert (beside its new logos).

    Parameters
    ----------
    g : numpy.random.Generator
        The ``record`` stream.
    new_logos : ndarray of int
        New logos (converted trials) per month.
    trial_conversion : float
        ``acquisition.trial_conversion``.

    Returns
    -------
    ndarray of int64
    """
    if not new_logos.size:
        return new_logos.astype(np.int64)
    lam = new_logos * (1.0 - trial_conversion) / trial_conversion
    return np.asarray(g.poisson(lam), dtype=np.int64)


# ------------------------------------------------------------------------- recorder
class Recorder:
    """Collects the per-account rows of one replication row while the engine runs.

    Only the reported months are recorded (the warm-up is not). Slots are numbered as
    the replication's own accounts: the padding a warm-up hand-over puts after a row's
    accounts (``gap``) is left out, so a replication records the same slots whatever
    other replications share its batch.

    Parameters
    ----------
    row : int
        The replication row recorded.
    gap : (int, int), optional
        Start and length of the row's padding slots.
    ids : list of str or None, optional
        Account ids of the row's slots (starting customers from a dataset).
    """

    def __init__(
        self, row: int, *, gap: tuple[int, int] | None = None, ids: list[Any] | None = None
    ) -> None:
        self.row = row
        self.gap = gap
        self.ids = ids
        self.rows: list[dict[str, np.ndarray]] = []
        self.deliveries: list[tuple[np.ndarray, int, int, np.ndarray, np.ndarray]] = []
        self.surveys: list[tuple[np.ndarray, int, np.ndarray]] = []
        self.births: list[tuple[int, int]] = []
        self._alive_start = np.zeros(0, dtype=bool)
        self._seats_start = np.zeros(0)

    def slots(self, i: np.ndarray) -> np.ndarray:
        """The recorded numbers of the row's slots ``i`` (the padding left out)."""
        if self.gap is None or not self.gap[1]:
            return np.asarray(i).copy()
        g0, gl = self.gap
        return np.where(i >= g0, i - gl, i)

    def month_start(self, b: Any, m: int) -> None:
        """Before month ``m``'s births: who is a customer, and their seats."""
        r, n = self.row, b.n
        self._alive_start = b.alive[r, :n] & (b.acq[r, :n] < m)
        self._seats_start = b.seats[r, :n].copy()

    def delivered(
        self, i: np.ndarray, m: int, k: int, tier: np.ndarray, wait: np.ndarray
    ) -> None:
        """Play ``k`` delivered to the row's slots ``i`` in month ``m``."""
        self.deliveries.append((self.slots(i), m, k, tier, wait.copy()))

    def month_end(self, b: Any, m: int, j: int, vol: np.ndarray, inv: np.ndarray) -> None:
        """Append month ``m``'s panel rows and survey answers (``j``: the batch's month)."""
        r, n = self.row, b.n
        present = self._alive_start.copy()
        if b.new_row is not None:
            b0 = b.L.n_initial + j * b.L.per_month
            present[b0 : b0 + b.L.per_month] |= b.new_row
        idx = np.flatnonzero(present)
        churn = np.where(vol[r, idx], _CHURN_VOL, np.where(inv[r, idx], _CHURN_INVOL,
                                                           _CHURN_NONE))
        self.rows.append({
            "slot": self.slots(idx),
            "month": np.full(idx.size, m),
            "segment": b.seg[r, idx].copy(),
            "tier": b.tier[r, idx].copy(),
            "annual": b.annual[r, idx].copy(),
            "employees": b.employees[r, idx].copy(),
            "acquired": b.acq[r, idx].copy(),
            "mrr": b.mrr[r, :n][idx].copy(),
            "seats": self._seats_start[idx],
            "active_users": b.au[r, idx].copy(),
            "active_share": b.share[r, idx].copy(),
            "health": b.health[r, idx].copy(),
            "failed_tickets": b.fail[r, idx].copy(),
            "tickets_per_seat": b.sp["tickets_per_seat"][r, idx].copy(),
            "champion_left": b.champ[r, idx].copy(),
            "churn": churn,
            "member": b.member[r, idx].copy(),
        })
        rr, ii, score = b.resp
        sel = rr == r
        self.surveys.append((self.slots(ii[sel]), m, score[sel].copy()))

    def record(self, rep: int) -> dict[str, Any]:
        """What :meth:`History.from_record` reads (``RawRun.record``)."""
        return {"rows": self.rows, "deliveries": self.deliveries, "surveys": self.surveys,
                "births": self.births, "account_id": self.ids, "rep": rep}


# ------------------------------------------------------------------------- history
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
    - ``plays``: one row per delivered play: slot, month, play, interaction_kind,
      owner_team, tier, wait_months;
    - ``acquisitions``: month, new_logos, lost_trials (trials that did not convert);
    - ``monthly``: the replication's monthly frame (costs, bridge).

    Usage activity, ticket details, CSAT answers and lost trials are drawn from the
    replication's ``record`` stream by the :data:`EQUATIONS` of this module: they never
    feed back into the dynamics. Failed tickets, active users, health, NPS answers and
    plays delivered are the engine's own.
    """

    replication: int
    accounts: pd.DataFrame
    panel: pd.DataFrame
    usage: pd.DataFrame
    tickets: pd.DataFrame
    surveys: pd.DataFrame
    plays: pd.DataFrame
    acquisitions: pd.DataFrame
    monthly: pd.DataFrame

    @classmethod
    def from_record(cls, raw: RawRun, scenario: Scenario, monthly: pd.DataFrame) -> History:
        """Build the history from the engine's raw record.

        Parameters
        ----------
        raw : cs_sim.sim.engine.RawRun
            A run with a ``record``.
        scenario : Scenario
            The scenario run.
        monthly : DataFrame
            The run's monthly frame (all its replications).

        Returns
        -------
        History
        """
        from cs_sim.sim.rng import component_generator

        rec = raw.record
        if rec is None:
            raise ValueError("the run has no record (run it with record=...)")
        rep = int(rec["rep"])
        mon = monthly[monthly["replication"] == rep].reset_index(drop=True)
        rows = rec["rows"]
        if not rows:
            empty = pd.DataFrame()
            return cls(rep, empty, empty, empty, empty, empty, empty, empty, mon)
        g = component_generator(raw.seed, rep, "record")
        cat = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
        b = scenario.behaviour
        panel = _panel(cat, scenario)
        accounts = _accounts(cat, panel, rec.get("account_id"))
        # usage ------------------------------------------------------------------
        sessions, minutes, key_events = usage_activity(g, cat["active_users"], b.usage)
        usage = pd.DataFrame({
            "slot": panel["slot"], "month": panel["month"],
            "active_users": panel["active_users"], "seats": panel["seats"],
            "sessions": sessions, "minutes": minutes, "key_feature_events": key_events,
        })
        # tickets ----------------------------------------------------------------
        per_row, first_contact, contacts, handle = ticket_details(
            g, cat["tickets_per_seat"], cat["seats"], cat["failed_tickets"], b.support
        )
        t_slot = np.repeat(cat["slot"], per_row).astype(np.int64)
        t_month = np.repeat(cat["month"], per_row).astype(np.int64)
        tickets = pd.DataFrame({
            "slot": t_slot, "month": t_month, "first_contact": first_contact,
            "contacts_to_resolve": contacts, "handle_minutes": handle,
        })
        # surveys: the engine's NPS answers and CSAT after tickets -----------------
        nps_parts = [(i, np.full(i.size, m), s) for i, m, s in rec["surveys"]]
        nps = pd.DataFrame({
            "slot": np.concatenate([p[0] for p in nps_parts]).astype(np.int64),
            "month": np.concatenate([p[1] for p in nps_parts]).astype(np.int64),
            "kind": "nps",
            "score": np.concatenate([p[2] for p in nps_parts]).astype(np.int64),
        })
        answered, csat = csat_answers(g, np.repeat(cat["health"], per_row), first_contact,
                                      b.surveys)
        csat_frame = pd.DataFrame({
            "slot": t_slot[answered], "month": t_month[answered], "kind": "csat",
            "score": csat[answered],
        })
        surveys = pd.concat([nps, csat_frame], ignore_index=True).sort_values(
            ["month", "slot", "kind"], kind="stable", ignore_index=True
        )
        surveys["kind"] = surveys["kind"].astype("str")
        plays = _plays(raw, scenario, rec["deliveries"])
        # acquisitions -----------------------------------------------------------
        births = rec["births"]
        new = np.array([c for _, c in births], dtype=np.int64)
        acquisitions = pd.DataFrame({
            "month": np.array([m for m, _ in births], dtype=np.int64),
            "new_logos": new,
            "lost_trials": lost_trials(g, new, scenario.acquisition.trial_conversion),
        })
        return cls(rep, accounts, panel, usage, tickets, surveys, plays, acquisitions, mon)


def _panel(cat: Mapping[str, np.ndarray], scenario: Scenario) -> pd.DataFrame:
    seg_names = np.array(scenario.segment_names(), dtype=object)
    tier_names = np.array(scenario.tier_names(), dtype=object)
    return pd.DataFrame({
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


def _accounts(
    cat: Mapping[str, np.ndarray], panel: pd.DataFrame, ids: Any
) -> pd.DataFrame:
    first = panel.drop_duplicates("slot", keep="first").set_index("slot")
    ch = panel[panel["churn"] != ""].set_index("slot")
    slots = first.index.to_numpy()
    first_idx = np.unique(cat["slot"], return_index=True)[1]
    acquired = cat["acquired"][first_idx]
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
    return accounts


def _plays(raw: RawRun, scenario: Scenario, deliveries: list[Any]) -> pd.DataFrame:
    """One row per delivered play: slot, month, play, interaction kind, owner, tier, wait."""
    from cs_sim.sim.plays import compile_plays

    tier_names = np.array(scenario.tier_names(), dtype=object)
    plays = compile_plays(scenario)
    if deliveries:
        d_slot = np.concatenate([d[0] for d in deliveries])
        d_month = np.concatenate([np.full(d[0].size, d[1]) for d in deliveries])
        d_play = np.concatenate([np.full(d[0].size, d[2]) for d in deliveries])
        d_tier = np.concatenate([d[3] for d in deliveries])
        d_wait = np.concatenate([d[4] for d in deliveries])
    else:
        d_slot = d_month = d_play = d_tier = np.zeros(0, np.int64)
        d_wait = np.zeros(0)
    owner = np.array(
        [p.owner_team if p.owner_team is not None else "" for p in plays], dtype=object
    )
    own = owner[d_play] if d_play.size else np.zeros(0, dtype=object)
    tier_lbl = tier_names[d_tier] if d_tier.size else np.zeros(0, dtype=object)
    own = np.where(own == "", tier_lbl, own)
    return pd.DataFrame({
        "slot": d_slot.astype(np.int64), "month": d_month.astype(np.int64),
        "play": pd.array(np.array(raw.play_names, dtype=object)[d_play] if d_play.size
                         else [], dtype="str"),
        "interaction_kind": pd.array(
            np.array([p.interaction_kind for p in plays], dtype=object)[d_play]
            if d_play.size else [], dtype="str"),
        "owner_team": pd.array(own, dtype="str"),
        "tier": pd.array(tier_lbl, dtype="str"),
        "wait_months": d_wait.astype(float),
    }).sort_values(["month", "slot"], kind="stable", ignore_index=True)
