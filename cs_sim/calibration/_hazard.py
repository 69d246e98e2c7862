r"""The simulator's churn (and contraction) hazard as a likelihood, for statsmodels.

The engine decides churn once a month for a monthly contract and once a term for an
annual one, on the hazard accumulated over the term (:mod:`cs_sim.sim.model`,
*Churn*). A *decision* is therefore a group of account-months ``k`` (one month for a
monthly contract; the months of the term for an annual one) with

.. math::

    P(\text{event}) = \min\Big(1,\ 1 - \prod_k (1 - p_k)^{w_k} + 1 - (1 - q)^{n}\Big),
    \qquad p_k = \sigma(x_k' \beta)

where ``w_k`` is the number of months row ``k`` stands for (the first observed month
of a term that began before the data counts the term's earlier months at its own
hazard, as the engine does), ``n`` the months of the term and ``q`` the constant
monthly involuntary hazard of the account's segment (log-scale parameter; absent for
contraction). :class:`TermHazard` is a statsmodels ``GenericLikelihoodModel`` with
this log-likelihood and its analytic score; the Hessian is the numerical derivative
of the score. Fitted by BFGS from a plain ``Logit`` start.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = ["Groups", "HazardFit", "fit_term_hazard", "group_decisions"]

_EPS = 1e-12


@dataclass(frozen=True)
class Groups:
    """Account-month rows grouped into decisions (see the module docstring).

    Attributes
    ----------
    keep : ndarray of bool
        Input rows that belong to a complete decision.
    gid : ndarray of int
        Decision of each kept row.
    weight : ndarray
        Months each kept row stands for.
    y : ndarray
        The event of each decision (0/1).
    months : ndarray
        Months of each decision's term (1 for a monthly contract).
    seg : ndarray of int
        Segment of each decision.
    """

    keep: np.ndarray
    gid: np.ndarray
    weight: np.ndarray
    y: np.ndarray
    months: np.ndarray
    seg: np.ndarray

    @property
    def n(self) -> int:
        """Number of decisions."""
        return int(self.y.size)


def group_decisions(
    account: np.ndarray, event: np.ndarray, decides: np.ndarray, term_months: np.ndarray,
    seg: np.ndarray,
) -> Groups:
    """Group account-month rows (sorted by account, then month) into decisions.

    Parameters
    ----------
    account : ndarray
        The account of each row.
    event : ndarray of bool
        Whether the event (churn, contraction) happened in the row's month.
    decides : ndarray of bool
        Whether a decision falls in the row's month (every month of a monthly
        contract; an annual one's renewal months and any month with an event).
    term_months : ndarray
        Months of the term ending at the row, for a deciding row (1 for monthly).
    seg : ndarray of int
        Segment of each row.

    Returns
    -------
    Groups
        Rows after an account's last decision are left out (their term is not over).
    """
    n = account.size
    if n == 0:
        z = np.zeros(0)
        return Groups(np.zeros(0, bool), z.astype(int), z, z, z, z.astype(int))
    new = np.ones(n, dtype=bool)
    new[1:] = (account[1:] != account[:-1]) | decides[:-1]
    gid = np.cumsum(new) - 1
    last = np.r_[gid[1:] != gid[:-1], True]
    complete = np.zeros(gid[-1] + 1, dtype=bool)
    complete[gid[last & decides]] = True
    keep = complete[gid]
    gid = np.unique(gid[keep], return_inverse=True)[1].astype(int)
    k_last = last[keep]
    k_first = new[keep]
    size = np.bincount(gid)
    months = np.ones(size.size)
    months[gid[k_last]] = term_months[keep][k_last]
    weight = np.ones(gid.size)
    # a term whose first months are not observed: the first row stands for them
    starts_account = np.r_[True, account[keep][1:] != account[keep][:-1]]
    extra = np.maximum(months - size, 0.0)
    first_rows = k_first & starts_account
    weight[first_rows] += extra[gid[first_rows]]
    y = np.zeros(size.size)
    np.maximum.at(y, gid, event[keep].astype(float))
    g_seg = np.zeros(size.size, dtype=int)
    g_seg[gid] = seg[keep]
    return Groups(keep, gid, weight, y, months, g_seg)


def _model_class() -> Any:
    from statsmodels.base.model import GenericLikelihoodModel

    class TermHazard(GenericLikelihoodModel):  # type: ignore[misc]
        """The grouped hazard likelihood (module docstring); ``exog`` are the rows."""

        def __init__(self, y: np.ndarray, rows: np.ndarray, groups: Groups,
                     q_mode: str, n_seg: int, names: Sequence[str]) -> None:
            super().__init__(y, None, extra_params_names=list(names))
            self.rows, self.g, self.q_mode, self.n_seg = rows, groups, q_mode, n_seg
            self.k = rows.shape[1]

        def _q(self, params: np.ndarray) -> np.ndarray:
            if self.q_mode == "none":
                return np.zeros(self.g.n)
            lq = params[self.k:]
            return np.exp(lq)[self.g.seg] if self.q_mode == "segment" else \
                np.full(self.g.n, np.exp(lq[0]))

        def _parts(self, params: np.ndarray) -> tuple[np.ndarray, ...]:
            eta = self.rows @ params[: self.k]
            with np.errstate(over="ignore"):
                p = 1.0 / (1.0 + np.exp(-eta))
            log_keep = -np.logaddexp(0.0, eta)  # log(1 - p)
            s = np.exp(np.bincount(self.g.gid, weights=self.g.weight * log_keep,
                                   minlength=self.g.n))
            q = self._q(params)
            sq = (1.0 - q) ** self.g.months
            prob = np.clip(2.0 - s - sq, _EPS, 1.0 - _EPS)
            return p, s, q, prob

        def loglikeobs(self, params: np.ndarray) -> np.ndarray:
            _, _, _, prob = self._parts(params)
            y = self.g.y
            return y * np.log(prob) + (1.0 - y) * np.log1p(-prob)

        def score(self, params: np.ndarray) -> np.ndarray:
            p, s, q, prob = self._parts(params)
            y = self.g.y
            dl = y / prob - (1.0 - y) / (1.0 - prob)
            f = (dl * s)[self.g.gid] * self.g.weight * p
            out = self.rows.T @ f
            if self.q_mode == "none":
                return out
            m = self.g.months
            dq = dl * m * (1.0 - q) ** (m - 1.0) * q
            if self.q_mode == "segment":
                return np.r_[out, np.bincount(self.g.seg, weights=dq, minlength=self.n_seg)]
            return np.r_[out, dq.sum()]

        def hessian(self, params: np.ndarray) -> np.ndarray:
            from statsmodels.tools.numdiff import approx_fprime

            h = approx_fprime(params, self.score, centered=True)
            return (h + h.T) / 2.0

    return TermHazard


@dataclass(frozen=True)
class HazardFit:
    """A fitted :class:`TermHazard`: estimates by name, covariance, fit statistics."""

    params: pd.Series
    bse: pd.Series
    cov: pd.DataFrame
    llf: float
    converged: bool
    n_decisions: int
    n_events: int
    q_mode: str


def fit_term_hazard(
    rows: np.ndarray, names: Sequence[str], groups: Groups, *, n_seg: int,
    q_mode: Literal["none", "segment", "pooled"] = "none",
    start: np.ndarray | None = None, q_start: float = 0.002,
) -> HazardFit | None:
    """Maximum likelihood of the grouped hazard model (module docstring).

    Parameters
    ----------
    rows : ndarray
        Design of the kept account-month rows (``groups.keep``), one column per name.
    names : sequence of str
        Names of the columns of ``rows``.
    groups : Groups
    n_seg : int
        Number of segments (codes in ``groups.seg``).
    q_mode : {"none", "segment", "pooled"}
        A constant involuntary hazard: none, one per segment, or one for all.
    start : ndarray, optional
        Starting coefficients of ``rows`` (default: a ``Logit`` of the rows' events).
    q_start : float
        Starting involuntary hazard.

    Returns
    -------
    HazardFit or None
        None when the fit fails or its covariance is not positive (not identified).
    """
    import statsmodels.api as sm

    if start is None:
        event_rows = np.zeros(groups.gid.size)
        last = np.r_[groups.gid[1:] != groups.gid[:-1], True]
        event_rows[last] = groups.y[groups.gid[last]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                start = np.asarray(sm.Logit(event_rows, rows).fit(disp=0, maxiter=100).params)
            except Exception:
                start = np.zeros(rows.shape[1])
    all_names = list(names)
    x0 = np.asarray(start, dtype=float)
    if q_mode == "segment":
        all_names += [f"log_q[{s}]" for s in range(n_seg)]
        x0 = np.r_[x0, np.full(n_seg, np.log(q_start))]
    elif q_mode == "pooled":
        all_names += ["log_q"]
        x0 = np.r_[x0, np.log(q_start)]
    model = _model_class()(groups.y, rows, groups, q_mode, n_seg, all_names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = model.fit(start_params=x0, method="bfgs", maxiter=1000, disp=0, gtol=1e-6)
            cov = np.asarray(res.cov_params(), dtype=float)
        except (np.linalg.LinAlgError, ValueError):
            return None
    se = np.sqrt(np.diag(cov)) if np.isfinite(cov).all() else np.full(len(all_names), np.nan)
    if not np.isfinite(se).all() or (np.diag(cov) <= 0).any():
        return None
    idx = pd.Index(all_names)
    return HazardFit(
        params=pd.Series(np.asarray(res.params), index=idx),
        bse=pd.Series(se, index=idx),
        cov=pd.DataFrame(cov, index=idx, columns=idx),
        llf=float(res.llf),
        converged=bool(res.mle_retvals.get("converged", False)),
        n_decisions=groups.n,
        n_events=int(groups.y.sum()),
        q_mode=q_mode,
    )
