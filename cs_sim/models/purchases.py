r"""Non-contractual CLV: BG/NBD purchase counts and Gamma-Gamma spend.

*BG/NBD* (Fader, Hardie & Lee 2005, "'Counting your customers' the easy way: an
alternative to the Pareto/NBD model", *Marketing Science* 24(2), 275-284). While
alive, a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after each
purchase she drops out with probability p ~ Beta(a, b). From a customer's repeat
purchases ``x``, the time of her last one ``t_x`` and her time observed ``T`` (all from
her first purchase), the likelihood (their eq. 6) is

``L = Γ(r+x) α^r / Γ(r) × [B(a, b+x)/B(a, b) (α+T)^-(r+x)
+ 1{x>0} B(a+1, b+x-1)/B(a, b) (α+t_x)^-(r+x)]``,

the probability she is still alive ``P = 1 / (1 + 1{x>0} a/(b+x-1) ((α+T)/(α+t_x))^(r+x))``
and her expected purchases in the next ``t`` (eq. 10)

``E[Y(t)] = (a+b+x-1)/(a-1) [1 - ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x-1; t/(α+T+t))] P``.

*Gamma-Gamma* (Fader & Hardie 2013, "The Gamma-Gamma model of monetary value",
brucehardie.com note 025). A customer's transaction values are Gamma(p, ν) with
ν ~ Gamma(q, γ) across customers; the mean ``m_x`` of her ``x`` repeat transactions has
density ``Γ(px+q) / (Γ(px) Γ(q)) γ^q m_x^(px-1) x^(px) / (γ + m_x x)^(px+q)`` and her
expected spend per transaction is ``p (γ + m_x x) / (px + q - 1)``, a weighted mean of
the population mean ``pγ/(q-1)`` and her own ``m_x``. It assumes spend and purchase
frequency are independent; only customers with ``x > 0`` enter.

Both are fitted by maximum likelihood through statsmodels' ``GenericLikelihoodModel``
on the log of the parameters (:func:`cs_sim.models._base.fit_positive_mle`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.special import betaln, gammaln, hyp2f1

from cs_sim.errors import ModelInputError
from cs_sim.format import fmt
from cs_sim.models._base import PositiveMle, PositiveModel, as_float_array, axes, fit_positive_mle

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "BgNbdResult",
    "GammaGammaResult",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "purchase_clv",
    "summarise_transactions",
]

logger = logging.getLogger(__name__)

#: time units of :func:`summarise_transactions`, in days
UNITS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}


def _rfm(frequency: Any, recency: Any, T: Any,  # noqa: N803 - the models' own name
         where: str) -> tuple[np.ndarray, ...]:
    x = as_float_array(frequency, name="frequency", where=where)
    tx = as_float_array(recency, name="recency", where=where)
    t_obs = as_float_array(T, name="T", where=where)
    if not len(x) == len(tx) == len(t_obs):
        raise ModelInputError(f"{where}: frequency, recency and T must have the same length "
                              f"(got {len(x)}, {len(tx)}, {len(t_obs)})")
    if (x != np.round(x)).any():
        raise ModelInputError(f"{where}: frequency must count whole repeat purchases")
    if (tx > t_obs + 1e-9).any():
        rows = np.flatnonzero(tx > t_obs + 1e-9)[:5].tolist()
        raise ModelInputError(f"{where}: recency must not exceed T (the last purchase lies "
                              f"inside the observation time); rows {rows}")
    if ((x == 0) & (tx != 0)).any():
        raise ModelInputError(f"{where}: recency must be 0 for customers with no repeat "
                              "purchase (frequency 0)")
    return x, tx, t_obs


# --------------------------------------------------------------------------------- BG/NBD
def _bgnbd_loglikeobs(theta: np.ndarray, x: np.ndarray, tx: np.ndarray,
                      t_obs: np.ndarray) -> np.ndarray:
    r, alpha, a, b = theta
    c = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    alive = c + betaln(a, b + x) - (r + x) * np.log(alpha + t_obs)
    with np.errstate(all="ignore"):
        dead = c + betaln(a + 1, b + x - 1) - (r + x) * np.log(alpha + tx)
        return np.where(x > 0, np.logaddexp(alive, dead), alive)


@dataclass(frozen=True, eq=False)
class BgNbdResult(PositiveModel):
    """A fitted BG/NBD model: parameters ``r``, ``alpha``, ``a``, ``b`` (module docstring)."""

    fit_: PositiveMle
    data: pd.DataFrame = field(repr=False)

    def _theta(self) -> tuple[float, float, float, float]:
        p = self.params
        return float(p["r"]), float(p["alpha"]), float(p["a"]), float(p["b"])

    def _odds_dead(self, x: np.ndarray, tx: np.ndarray, t_obs: np.ndarray) -> np.ndarray:
        r, alpha, a, b = self._theta()
        with np.errstate(all="ignore"):
            odds = (a / (b + x - 1)) * ((alpha + t_obs) / (alpha + tx)) ** (r + x)
        return np.where(x > 0, odds, 0.0)

    def probability_alive(self, frequency: Any, recency: Any,
                          T: Any) -> np.ndarray:  # noqa: N803
        """Probability that each customer is still active at the end of her ``T``."""
        x, tx, t_obs = _rfm(frequency, recency, T, "probability_alive")
        return 1.0 / (1.0 + self._odds_dead(x, tx, t_obs))

    def conditional_expected_purchases(self, t: float, frequency: Any, recency: Any,
                                       T: Any) -> np.ndarray:  # noqa: N803
        """Expected purchases of each customer in the next ``t`` time units (FHL eq. 10)."""
        x, tx, t_obs = _rfm(frequency, recency, T, "conditional_expected_purchases")
        if not np.isfinite(t) or t < 0:
            raise ModelInputError(f"conditional_expected_purchases: t must be >= 0, got {t!r}")
        r, alpha, a, b = self._theta()
        z = t / (alpha + t_obs + t)
        head = (a + b + x - 1) / (a - 1)
        tail = 1 - ((alpha + t_obs) / (alpha + t_obs + t)) ** (r + x) * \
            hyp2f1(r + x, b + x, a + b + x - 1, z)
        return head * tail / (1.0 + self._odds_dead(x, tx, t_obs))

    def expected_purchases(self, t: Any) -> np.ndarray:
        """Expected repeat purchases of a new customer in her first ``t`` (FHL eq. 9)."""
        t = np.asarray(t, dtype=float)
        r, alpha, a, b = self._theta()
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r *
                                        hyp2f1(r, b, a + b - 1, t / (alpha + t)))

    def predict(self, t: float) -> pd.DataFrame:
        """For the fitted customers: ``probability_alive`` and ``expected_purchases`` in ``t``."""
        d = self.data
        return pd.DataFrame({
            "probability_alive": self.probability_alive(d["frequency"], d["recency"], d["T"]),
            "expected_purchases": self.conditional_expected_purchases(
                t, d["frequency"], d["recency"], d["T"]),
        }, index=d.index)

    def to_text(self) -> str:
        """The estimates, formatted for people."""
        ci = self.conf_int()
        lines = ["BG/NBD purchase model"]
        for name, v in self.params.items():
            lines.append(f"  {name} = {fmt(v, 'number')} (95% CI "
                         f"{fmt(ci.loc[name, 'lower'], 'number')} to "
                         f"{fmt(ci.loc[name, 'upper'], 'number')})")
        return "\n".join(lines)

    def plot(self, ax: Axes | None = None, *, max_frequency: int = 7) -> Axes:
        """Observed vs expected number of customers by repeat purchases in the period.

        The expected count of customers with ``x`` repeat purchases in their own ``T``
        uses FHL's ``P(X(T) = x)`` (their eq. 8), summed over customers.

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = axes(ax)
        r, alpha, a, b = self._theta()
        d = self.data
        t_obs = d["T"].to_numpy(dtype=float)
        ks = np.arange(max_frequency + 1)
        expected = []
        for k in ks:
            c = (betaln(a, b + k) - betaln(a, b) + gammaln(r + k) - gammaln(r)
                 - gammaln(k + 1) + r * np.log(alpha / (alpha + t_obs))
                 + k * np.log(t_obs / (alpha + t_obs)))
            prob = np.exp(c)
            if k > 0:
                tail = np.zeros_like(t_obs)
                for j in range(k):
                    tail += np.exp(gammaln(r + j) - gammaln(r) - gammaln(j + 1)
                                   + j * np.log(t_obs / (alpha + t_obs)))
                prob += np.exp(betaln(a + 1, b + k - 1) - betaln(a, b)) * \
                    (1 - (alpha / (alpha + t_obs)) ** r * tail)
            expected.append(prob.sum())
        observed = [(d["frequency"] == k).sum() for k in ks[:-1]]
        observed.append((d["frequency"] >= max_frequency).sum())
        expected[-1] = len(d) - sum(expected[:-1])
        width = 0.4
        ax.bar(ks - width / 2, observed, width, label="observed", color="#999999")
        ax.bar(ks + width / 2, expected, width, label="BG/NBD", color="#2b8cbe")
        ax.set_xticks(ks, [*map(str, ks[:-1]), f"{max_frequency}+"])
        ax.set_xlabel("repeat purchases")
        ax.set_ylabel("customers")
        ax.legend()
        return ax


def fit_bgnbd(frequency: Any, recency: Any, T: Any) -> BgNbdResult:  # noqa: N803
    """Fit the BG/NBD model to each customer's repeat purchases, recency and time observed.

    Parameters
    ----------
    frequency : array-like
        Repeat purchases (purchases after the first), ``x``.
    recency : array-like
        Time from the first purchase to the last, ``t_x`` (0 when ``x = 0``).
    T : array-like
        Time from the first purchase to the end of the observation, in the same unit.

    Returns
    -------
    BgNbdResult
        ``params`` ``r, alpha, a, b``; ``bse``; ``summary()``;
        ``probability_alive``, ``conditional_expected_purchases``,
        ``expected_purchases``, ``predict``, ``plot``.

    Raises
    ------
    ModelInputError
        Mismatched lengths, negative values, recency above T, or no repeat buyer.
    """
    where = "fit_bgnbd"
    x, tx, t_obs = _rfm(frequency, recency, T, where)
    if len(x) < 2 or (x > 0).sum() == 0:
        raise ModelInputError(f"{where}: need at least two customers and one repeat purchase")
    fit = fit_positive_mle(lambda th: _bgnbd_loglikeobs(th, x, tx, t_obs),
                           names=("r", "alpha", "a", "b"), start=(1.0, 1.0, 1.0, 1.0),
                           nobs=len(x), where=where)
    data = pd.DataFrame({"frequency": x, "recency": tx, "T": t_obs})
    return BgNbdResult(fit, data)


# ---------------------------------------------------------------------------- Gamma-Gamma
def _gg_loglikeobs(theta: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    p, q, gamma = theta
    px = p * x
    return (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(gamma)
            + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(gamma + m * x))


@dataclass(frozen=True, eq=False)
class GammaGammaResult(PositiveModel):
    """A fitted Gamma-Gamma spend model (parameters ``p``, ``q``, ``gamma``)."""

    fit_: PositiveMle
    data: pd.DataFrame = field(repr=False)

    def mean_spend(self) -> float:
        """Population mean spend per transaction, ``pγ / (q - 1)`` (inf when q ≤ 1)."""
        p, q, g = (float(self.params[k]) for k in ("p", "q", "gamma"))
        return p * g / (q - 1) if q > 1 else float("inf")

    def conditional_expected_value(self, frequency: Any, monetary_value: Any) -> np.ndarray:
        """Expected spend per transaction of each customer, ``p(γ + m x) / (px + q - 1)``.

        Customers with no repeat purchase get the population mean.
        """
        where = "conditional_expected_value"
        x = as_float_array(frequency, name="frequency", where=where)
        m = as_float_array(monetary_value, name="monetary_value", where=where)
        if len(x) != len(m):
            raise ModelInputError(f"{where}: frequency and monetary_value differ in length")
        p, q, g = (float(self.params[k]) for k in ("p", "q", "gamma"))
        return np.where(x > 0, p * (g + m * x) / (p * x + q - 1), self.mean_spend())

    def predict(self) -> pd.Series:
        """Expected spend per transaction of the fitted customers."""
        d = self.data
        return pd.Series(self.conditional_expected_value(d["frequency"], d["monetary_value"]),
                         index=d.index, name="expected_value")

    def to_text(self) -> str:
        """The estimates, formatted for people."""
        ci = self.conf_int()
        lines = ["Gamma-Gamma spend model"]
        for name, v in self.params.items():
            lines.append(f"  {name} = {fmt(v, 'number')} (95% CI "
                         f"{fmt(ci.loc[name, 'lower'], 'number')} to "
                         f"{fmt(ci.loc[name, 'upper'], 'number')})")
        lines.append(f"  mean spend per transaction: {fmt(self.mean_spend(), 'money')}")
        return "\n".join(lines)

    def plot(self, ax: Axes | None = None, *, bins: int = 40) -> Axes:
        """Histogram of the customers' mean spend with the model's implied density.

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = axes(ax)
        d = self.data
        m = d["monetary_value"].to_numpy(dtype=float)
        ax.hist(m, bins=bins, density=True, color="#999999", label="observed")
        grid = np.linspace(max(m.min(), 1e-9), np.quantile(m, 0.99), 200)
        theta = self.params.to_numpy(dtype=float)
        dens = np.zeros_like(grid)
        counts = d["frequency"].value_counts(normalize=True)
        for x, share in counts.items():
            dens += share * np.exp(_gg_loglikeobs(theta, np.full_like(grid, x), grid))
        ax.plot(grid, dens, color="#2b8cbe", label="Gamma-Gamma")
        ax.set_xlabel("mean spend per repeat transaction")
        ax.set_ylabel("density")
        ax.legend()
        return ax


def fit_gamma_gamma(frequency: Any, monetary_value: Any) -> GammaGammaResult:
    """Fit the Gamma-Gamma model of spend per transaction.

    Parameters
    ----------
    frequency : array-like
        Repeat purchases per customer; customers with 0 are left out (they have no
        repeat spend), as in Fader & Hardie (2013).
    monetary_value : array-like
        Each customer's mean value of her repeat transactions (> 0 where frequency > 0).

    Returns
    -------
    GammaGammaResult
        ``params`` ``p, q, gamma``; ``bse``; ``summary()``;
        ``conditional_expected_value``, ``mean_spend``, ``predict``, ``plot``.
    """
    where = "fit_gamma_gamma"
    x = as_float_array(frequency, name="frequency", where=where)
    m = as_float_array(monetary_value, name="monetary_value", where=where)
    if len(x) != len(m):
        raise ModelInputError(f"{where}: frequency and monetary_value differ in length "
                              f"({len(x)} and {len(m)})")
    keep = x > 0
    if ((m <= 0) & keep).any():
        raise ModelInputError(f"{where}: monetary_value must be > 0 for customers with repeat "
                              f"purchases; rows {np.flatnonzero((m <= 0) & keep)[:5].tolist()}")
    if keep.sum() < 3:
        raise ModelInputError(f"{where}: need at least three customers with repeat purchases")
    if (~keep).any():
        logger.info("%s: %d customer(s) without repeat purchases left out", where,
                    int((~keep).sum()))
    xk, mk = x[keep], m[keep]
    fit = fit_positive_mle(lambda th: _gg_loglikeobs(th, xk, mk), names=("p", "q", "gamma"),
                           start=(1.0, 1.0, 1.0), nobs=int(keep.sum()), where=where)
    return GammaGammaResult(fit, pd.DataFrame({"frequency": xk, "monetary_value": mk}))


def purchase_clv(bgnbd: BgNbdResult, gamma_gamma: GammaGammaResult, *, frequency: Any,
                 recency: Any, T: Any, monetary_value: Any, horizon: float,  # noqa: N803
                 gross_margin: float) -> np.ndarray:
    """Undiscounted margin of each customer over the next ``horizon``.

    ``expected purchases in horizon (BG/NBD) × expected spend per purchase (Gamma-Gamma)
    × gross margin`` (the two models assume purchases and spend independent).
    """
    if not 0 <= gross_margin <= 1:
        raise ModelInputError(f"purchase_clv: gross_margin must be in [0, 1], got {gross_margin!r}")
    count = bgnbd.conditional_expected_purchases(horizon, frequency, recency, T)
    value = gamma_gamma.conditional_expected_value(frequency, monetary_value)
    return count * value * gross_margin


def summarise_transactions(
    transactions: pd.DataFrame,
    *,
    customer: str = "account_id",
    date: str = "date",
    value: str | None = None,
    end: Any = None,
    unit: str = "W",
) -> pd.DataFrame:
    """Summarise a transaction log to frequency / recency / T (and mean repeat spend).

    Purchases on the same day count as one (their values add up). Time is measured
    from each customer's first purchase.

    Parameters
    ----------
    transactions : DataFrame
        One row per transaction.
    customer, date : str
        Columns of the customer id and the transaction date.
    value : str, optional
        Column of the amount; adds ``monetary_value`` (mean of the repeat
        purchases, 0 when there is none).
    end : date-like, optional
        End of the observation (default: the last transaction date).
    unit : {"D", "W", "M"}, default "W"
        Days, weeks or months (365.25 / 12 days).

    Returns
    -------
    DataFrame
        Index the customers; ``frequency, recency, T`` (and ``monetary_value``).
    """
    where = "summarise_transactions"
    if unit not in UNITS:
        raise ModelInputError(f"{where}: unit must be one of {', '.join(UNITS)}, got {unit!r}")
    for col in (customer, date, *(() if value is None else (value,))):
        if col not in transactions.columns:
            raise ModelInputError(f"{where}: column {col!r} not in the transactions; columns: "
                                  f"{', '.join(map(str, transactions.columns))}")
    day = pd.to_datetime(transactions[date], errors="coerce").dt.normalize()
    if day.isna().any():
        rows = np.flatnonzero(day.isna())[:5].tolist()
        raise ModelInputError(f"{where}: column {date!r} has missing or unreadable dates "
                              f"at rows {rows}")
    frame = pd.DataFrame({"c": transactions[customer].to_numpy(), "d": day.to_numpy()})
    frame["v"] = 0.0 if value is None else pd.to_numeric(transactions[value]).to_numpy()
    daily = frame.groupby(["c", "d"], as_index=False)["v"].sum().sort_values(["c", "d"])
    end_day = daily["d"].max() if end is None else pd.Timestamp(end).normalize()
    if (daily["d"] > end_day).any():
        raise ModelInputError(f"{where}: end {end_day.date()} is before some transactions")
    g = daily.groupby("c")
    first, last, n = g["d"].min(), g["d"].max(), g.size()
    scale = UNITS[unit]
    out = pd.DataFrame({
        "frequency": (n - 1).astype(int),
        "recency": (last - first).dt.days / scale,
        "T": (end_day - first).dt.days / scale,
    })
    out.index.name = customer
    if value is not None:
        daily["first"] = daily["d"].eq(daily["c"].map(first))
        repeat = daily[~daily["first"]].groupby("c")["v"].mean()
        out["monetary_value"] = repeat.reindex(out.index).fillna(0.0)
    return out
