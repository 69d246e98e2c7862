r"""The books by segment and by tier: logos and the MRR bridge, kept as events happen.

The engine books each event of a month by the account's segment and tier *at that
moment*: a new logo (its MRR), a churn (its MRR before churning), an expansion or a
contraction (the MRR change), a play's delivery (its cost; deliveries, CSM hours and
drops also by segment). The accounts alive in each (segment, tier) cell are kept
current, so the accounts eligible for a play are a sum over cells
(:meth:`Ledger.eligible`), and each segment's and tier's MRR at the end of month ``m``
is its start plus the month's flows::

    mrr_end = mrr_start + new_mrr + expansion_mrr - contraction_mrr - churned_mrr
    accounts_end = accounts_start + new_logos - churned

(in this order of additions, so the identity holds exactly). An account keeps its
segment for life; its tier may change at a 12-month anniversary, before the month
opens (:meth:`Ledger.move`), so a tier's ``mrr_start`` and ``accounts_start`` are
counted after the month's re-tiering and may differ from its previous ``mrr_end``.
The monthly totals are the sums over segments (so segments add up to them exactly;
tiers do to rounding, exactly when every MRR is a whole number).
"""

# ruff: noqa: N806 (R, S, T, H: replications, segments, tiers, months)
from __future__ import annotations

import numpy as np

from cs_sim.sim.numerics import nonzero_2d

__all__ = ["BRIDGE", "SEGMENT_ONLY", "Ledger"]

#: what is booked by segment and by tier, per month
BRIDGE = ("accounts_start", "new_logos", "churned", "accounts_end", "mrr_start", "new_mrr",
          "expansion_mrr", "contraction_mrr", "churned_mrr", "mrr_end", "play_cost")
#: what is booked by segment only (the tiers' team figures come from the queue)
SEGMENT_ONLY = ("hours_used", "delivered", "dropped")


class Ledger:
    """Books of ``months`` months by segment and tier for ``n_reps`` replication rows.

    Attributes
    ----------
    segments : dict of str to ndarray
        :data:`BRIDGE` and :data:`SEGMENT_ONLY` keys, each ``(R, H, S)``.
    tiers : dict of str to ndarray
        :data:`BRIDGE` keys, each ``(R, H, T)``.
    accounts : ndarray of int64
        ``(R, S, T)`` accounts alive now in each segment x tier cell.
    """

    def __init__(self, n_reps: int, n_segments: int, n_tiers: int, months: int) -> None:
        R, S, T, H = n_reps, n_segments, n_tiers, months
        self.R, self.S, self.T = R, S, T
        self.accounts = np.zeros((R, S, T), dtype=np.int64)
        self.mrr_s = np.zeros((R, S))
        self.mrr_t = np.zeros((R, T))
        self.segments = {k: np.zeros((R, H, S)) for k in BRIDGE + SEGMENT_ONLY}
        self.tiers = {k: np.zeros((R, H, T)) for k in BRIDGE}

    # ------------------------------------------------------------------ helpers
    def _cells(
        self, r: np.ndarray, s: np.ndarray, t: np.ndarray, w: np.ndarray | None = None
    ) -> np.ndarray:
        """``(R, S, T)`` sums of ``w`` (counts without) over the cells ``(r, s, t)``."""
        S, T = self.S, self.T
        key = (r * S + s) * T + t
        return np.bincount(key, weights=w, minlength=self.R * S * T).reshape(self.R, S, T)

    def _flow(self, m: int, name: str, cells: np.ndarray) -> None:
        self.segments[name][:, m, :] += cells.sum(axis=2)
        self.tiers[name][:, m, :] += cells.sum(axis=1)

    # ------------------------------------------------------------------ state
    def reset(self, alive: np.ndarray, seg: np.ndarray, tier: np.ndarray, mrr: np.ndarray) -> None:
        """Count the accounts alive now and their MRR (``(R, n)`` slot arrays)."""
        r, i = nonzero_2d(alive)
        s, t = seg[r, i].astype(np.intp), tier[r, i].astype(np.intp)
        self.accounts = self._cells(r, s, t).astype(np.int64)
        cells = self._cells(r, s, t, mrr[r, i])
        self.mrr_s = cells.sum(axis=2)
        self.mrr_t = cells.sum(axis=1)

    def move(
        self, r: np.ndarray, s: np.ndarray, t_from: np.ndarray, t_to: np.ndarray,
        mrr: np.ndarray,
    ) -> None:
        """Accounts ``(r, s)`` change tier from ``t_from`` to ``t_to`` (before the month opens)."""
        ch = t_from != t_to
        if not ch.any():
            return
        r, s, a, b, w = r[ch], s[ch], t_from[ch], t_to[ch], mrr[ch]
        self.accounts -= self._cells(r, s, a).astype(np.int64)
        self.accounts += self._cells(r, s, b).astype(np.int64)
        T = self.T
        self.mrr_t -= np.bincount(r * T + a, weights=w, minlength=self.R * T).reshape(self.R, T)
        self.mrr_t += np.bincount(r * T + b, weights=w, minlength=self.R * T).reshape(self.R, T)

    def open(self, m: int) -> None:
        """Book month ``m``'s starting accounts and MRR."""
        self.segments["accounts_start"][:, m, :] = self.accounts.sum(axis=2)
        self.tiers["accounts_start"][:, m, :] = self.accounts.sum(axis=1)
        self.segments["mrr_start"][:, m, :] = self.mrr_s
        self.tiers["mrr_start"][:, m, :] = self.mrr_t

    def close(self, m: int) -> None:
        """Book month ``m``'s ending accounts and MRR (start plus the month's flows)."""
        for out, state in ((self.segments, self.mrr_s), (self.tiers, self.mrr_t)):
            end = (out["mrr_start"][:, m] + out["new_mrr"][:, m] + out["expansion_mrr"][:, m]
                   - out["contraction_mrr"][:, m] - out["churned_mrr"][:, m])
            out["mrr_end"][:, m] = end
            state[:] = end
            out["accounts_end"][:, m] = (out["accounts_start"][:, m] + out["new_logos"][:, m]
                                         - out["churned"][:, m])

    # ------------------------------------------------------------------ events
    def new(self, m: int, r: np.ndarray, s: np.ndarray, t: np.ndarray, mrr: np.ndarray) -> None:
        """New logos ``(r, s, t)`` with their MRR."""
        n = self._cells(r, s, t)
        self.accounts += n.astype(np.int64)
        self._flow(m, "new_logos", n)
        self._flow(m, "new_mrr", self._cells(r, s, t, mrr))

    def churn(
        self, m: int, r: np.ndarray, s: np.ndarray, t: np.ndarray, mrr_before: np.ndarray
    ) -> None:
        """Churned accounts ``(r, s, t)`` with their MRR before churning."""
        n = self._cells(r, s, t)
        self.accounts -= n.astype(np.int64)
        self._flow(m, "churned", n)
        self._flow(m, "churned_mrr", self._cells(r, s, t, mrr_before))

    def resize(self, m: int, r: np.ndarray, s: np.ndarray, t: np.ndarray, d: np.ndarray) -> None:
        """MRR changes ``d`` of repriced accounts: expansion (> 0) and contraction (< 0)."""
        self._flow(m, "expansion_mrr", self._cells(r, s, t, np.maximum(d, 0.0)))
        self._flow(m, "contraction_mrr", self._cells(r, s, t, np.maximum(-d, 0.0)))

    def deliveries(
        self, m: int, r: np.ndarray, s: np.ndarray, t: np.ndarray, cost: float
    ) -> None:
        """Deliveries of one play to ``(r, s, t)`` at ``cost`` each."""
        n = self._cells(r, s, t)
        self.segments["delivered"][:, m, :] += n.sum(axis=2)
        if cost:
            self._flow(m, "play_cost", n * cost)

    def eligible(self, seg_mask: np.ndarray, tier_mask: np.ndarray) -> np.ndarray:
        """``(R, P)`` accounts alive now in the segments and tiers of each play.

        ``seg_mask`` is ``(P, S)`` and ``tier_mask`` ``(P, T)``, both boolean.
        """
        return np.einsum("rst,ps,pt->rp", self.accounts, seg_mask.astype(np.int64),
                         tier_mask.astype(np.int64))
