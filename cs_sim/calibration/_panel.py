"""The account-month arrays calibration estimates from, and the usage health proxy.

:func:`build_panel` lays a :class:`~cs_sim.io.Dataset` out as ``(accounts, months)``
arrays over the months of its mrr table: MRR and whether the account pays, seats and
active users (usage), tickets and tickets not solved at first contact (``contacts_to_resolve
> 1``), NPS answers, the account's segment label, contract and the month its life
started (its first paid month; for an account already paying in the first month, its
``signup_date`` moved by the delay between signup and first payment that the accounts
starting inside the data show, never later than the first month).

*Health proxy.* Health is not in the data; the simulator ties it to usage,
``active_share = σ(a + b (h - 50) / 10 + s ε)``, and reads a dataset's starting health
by inverting that equation (:func:`cs_sim.sim.population.initial_population`):
``ĥ = 50 + 10 (logit(clip(active / seats, 0.02, 0.98)) - a) / b``. Calibration uses the
same inversion, with ``a`` = :data:`ACTIVE_SHARE_INTERCEPT` for every segment and ``b``
= :data:`USAGE_HEALTH_SLOPE` (the template values). Health has no unit of its own: its
zero and scale are conventions that these two numbers fix, and differences between
segments' usage show up as differences of their ``health_mean``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cs_sim.errors import CalibrationError
from cs_sim.sim.starts import life_starts, month_index

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.io import Dataset

__all__ = [
    "ACTIVE_SHARE_INTERCEPT",
    "UNLABELLED",
    "USAGE_HEALTH_SLOPE",
    "Panel",
    "build_panel",
    "health_proxy",
    "month_index",
]

#: the active-share intercept of every calibrated segment (the health scale's zero)
ACTIVE_SHARE_INTERCEPT = 0.6
#: the usage equation's health slope (the health scale's unit)
USAGE_HEALTH_SLOPE = 0.35
#: segment name of accounts without a label
UNLABELLED = "unlabelled"
#: share clip of the inversion (as the engine's)
_SHARE_CLIP = (0.02, 0.98)


def health_proxy(active: np.ndarray, seats: np.ndarray) -> np.ndarray:
    """``ĥ = 50 + 10 (logit(clip(active / seats)) - a) / b`` (NaN without usage)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.clip(active / seats, *_SHARE_CLIP)
        logit = np.log(share / (1.0 - share))
    out = 50.0 + 10.0 * (logit - ACTIVE_SHARE_INTERCEPT) / USAGE_HEALTH_SLOPE
    out[~(np.isfinite(seats) & (seats > 0) & np.isfinite(active))] = np.nan
    return out


@dataclass
class Panel:
    """A dataset as ``(N accounts, T months)`` arrays (see the module docstring).

    Attributes
    ----------
    ids : ndarray of str
        The customers (accounts with MRR > 0 in some month), sorted.
    first_month : int
        :func:`month_index` of the first month; column ``j`` is month ``first_month + j``.
    mrr, paid : ndarray
        MRR (0 when not paying) and ``mrr > 0``.
    seats, active : ndarray
        Usage (NaN without a usage row).
    tickets, failed : ndarray
        Tickets opened in the month and those not solved at first contact.
    nps : list of (rows, months, scores)
        NPS answers.
    seg : ndarray of int
        Segment code of each account (``segments[seg]``).
    segments : list of str
    annual : ndarray of bool
    start : ndarray of int
        Column of the month its life started (negative before the data).
    delay_days : int or None
        The signup-to-payment delay used for accounts already paying in the first month.
    source : str
        How messages name the dataset.
    label_column : str or None
        The accounts column the segments come from.
    """

    ids: np.ndarray
    first_month: int
    mrr: np.ndarray
    paid: np.ndarray
    seats: np.ndarray
    active: np.ndarray
    tickets: np.ndarray
    failed: np.ndarray
    nps: tuple[np.ndarray, np.ndarray, np.ndarray]
    seg: np.ndarray
    segments: list[str]
    annual: np.ndarray
    start: np.ndarray
    delay_days: int | None
    source: str
    label_column: str | None
    has_usage: bool = True
    has_tickets: bool = False
    has_contacts: bool = False
    accounts: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    _proxy: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_months(self) -> int:
        """Months of the panel."""
        return int(self.paid.shape[1])

    @property
    def proxy(self) -> np.ndarray:
        """The usage health proxy ``ĥ`` of every account-month (NaN without usage)."""
        if self._proxy is None:
            self._proxy = health_proxy(self.active, self.seats)
        return self._proxy

    def month_label(self, column: int) -> str:
        """``YYYY-MM`` of a column."""
        m = self.first_month + int(column)
        return f"{m // 12:04d}-{m % 12 + 1:02d}"

    def first_paid(self) -> np.ndarray:
        """Column of each account's first paid month."""
        return np.argmax(self.paid, axis=1)


def _rows(ids: pd.Index, values: Any) -> np.ndarray:
    return ids.get_indexer(pd.Series(values).astype(str))


def build_panel(dataset: Dataset, *, segment_by: str | None = None) -> Panel:
    """Lay a dataset out as account-month arrays (see the module docstring).

    Parameters
    ----------
    dataset : Dataset
    segment_by : str, optional
        The accounts column holding each account's segment label (default: ``segment``
        when the accounts have it, else one segment ``all``).

    Returns
    -------
    Panel

    Raises
    ------
    CalibrationError
        If ``segment_by`` is not a column of accounts, or no account ever pays.
    """
    source = str(getattr(dataset, "source", None) or "the dataset")
    acc = dataset.accounts.drop_duplicates("account_id").copy()
    acc["account_id"] = acc["account_id"].astype(str)
    acc = acc.set_index("account_id")
    if segment_by is not None and segment_by not in acc.columns:
        raise CalibrationError(
            f"{source}: accounts has no column {segment_by!r} to segment by (columns: "
            f"{', '.join(map(str, acc.columns))}); pass one of them as segment_by, or none")
    column = segment_by or ("segment" if "segment" in acc.columns else None)
    mrr = dataset.mrr
    amount = pd.to_numeric(mrr["mrr"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    mi = month_index(mrr["month"])
    pay = amount > 0
    if not pay.any():
        raise CalibrationError(f"{source}: mrr.csv has no month with MRR > 0; calibration "
                               "needs paying customers (column mrr)")
    first, last = int(np.nanmin(mi)), int(np.nanmax(mi))
    T = last - first + 1  # noqa: N806 (months)
    ids = pd.Index(np.unique(mrr.loc[pay, "account_id"].astype(str)))
    N = len(ids)  # noqa: N806 (accounts)
    rows = _rows(ids, mrr["account_id"])
    ok = (rows >= 0) & np.isfinite(mi)
    money = np.zeros((N, T))
    np.add.at(money, (rows[ok], (mi[ok] - first).astype(int)), amount[ok])
    paid = money > 0
    seats = np.full((N, T), np.nan)
    active = np.full((N, T), np.nan)
    usage = dataset.usage
    has_usage = usage is not None and len(usage) > 0
    if has_usage:
        ur = _rows(ids, usage["account_id"])
        um = month_index(usage["month"]) - first
        ok = (ur >= 0) & np.isfinite(um) & (um >= 0) & (um < T)
        seats[ur[ok], um[ok].astype(int)] = pd.to_numeric(usage["seats"]).to_numpy()[ok]
        active[ur[ok], um[ok].astype(int)] = pd.to_numeric(usage["active_users"]).to_numpy()[ok]
    tickets = np.zeros((N, T))
    failed = np.zeros((N, T))
    tk = dataset.tickets
    has_tickets = tk is not None and len(tk) > 0
    has_contacts = has_tickets and "contacts_to_resolve" in tk.columns
    if has_tickets:
        tr = _rows(ids, tk["account_id"])
        tm = month_index(tk["opened_at"]) - first
        ok = (tr >= 0) & np.isfinite(tm) & (tm >= 0) & (tm < T)
        np.add.at(tickets, (tr[ok], tm[ok].astype(int)), 1.0)
        if has_contacts:
            contacts = pd.to_numeric(tk["contacts_to_resolve"], errors="coerce").to_numpy()
            bad = ok & (contacts > 1)
            np.add.at(failed, (tr[bad], tm[bad].astype(int)), 1.0)
    nps = (np.zeros(0, int), np.zeros(0, int), np.zeros(0))
    sv = dataset.surveys
    if sv is not None and len(sv):
        sv = sv[sv["kind"].astype(str) == "nps"]
        sr = _rows(ids, sv["account_id"])
        sm = month_index(sv["date"]) - first
        score = pd.to_numeric(sv["score"], errors="coerce").to_numpy(dtype=float)
        ok = (sr >= 0) & np.isfinite(sm) & (sm >= 0) & (sm < T) & np.isfinite(score)
        nps = (sr[ok], sm[ok].astype(int), score[ok])
    seg, segments = _segments(acc, ids, column)
    contract = acc["contract"].reindex(ids) if "contract" in acc.columns else None
    annual = (np.zeros(N, bool) if contract is None
              else (contract.astype(str) == "annual").to_numpy())
    start, delay = _starts(acc, ids, paid, first)
    return Panel(ids=ids.to_numpy(), first_month=first, mrr=money, paid=paid, seats=seats,
                 active=active, tickets=tickets, failed=failed, nps=nps, seg=seg,
                 segments=segments, annual=annual, start=start, delay_days=delay,
                 source=source, label_column=column, has_usage=has_usage,
                 has_tickets=has_tickets, has_contacts=has_contacts,
                 accounts=acc.reindex(ids))


def _segments(acc: pd.DataFrame, ids: pd.Index, column: str | None
              ) -> tuple[np.ndarray, list[str]]:
    """Segment code of each customer and the segment names (labels as in the data)."""
    if column is None:
        return np.zeros(len(ids), dtype=int), ["all"]
    raw = acc[column].reindex(ids)
    labels = np.array(["" if v is None or v != v else str(v) for v in raw], dtype=object)
    names = sorted({lbl for lbl in labels if lbl})
    if (labels == "").any():
        names.append(UNLABELLED)
    code = {n: i for i, n in enumerate(names)}
    seg = np.array([code[lbl or UNLABELLED] for lbl in labels], dtype=int)
    return seg, names


def _starts(acc: pd.DataFrame, ids: pd.Index, paid: np.ndarray, first: int
            ) -> tuple[np.ndarray, int | None]:
    """Column of each account's start, and the signup-to-payment delay used (days)."""
    signup = acc["signup_date"].reindex(ids) if "signup_date" in acc.columns else None
    start, delay = life_starts(np.argmax(paid, axis=1) + first, signup, first)
    return start - first, delay
