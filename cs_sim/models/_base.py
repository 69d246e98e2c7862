"""What every fitted model of :mod:`cs_sim.models` shares.

One shape for every result: ``params`` (a pandas Series named by the model's
parameters), ``bse`` (their standard errors), :meth:`FittedModel.conf_int` and
:meth:`FittedModel.summary` (a DataFrame), plus the model's own ``predict``/``plot``
helpers.

Models whose parameters must be positive (sBG, BG/NBD, Gamma-Gamma) are fitted by
maximum likelihood with statsmodels' ``GenericLikelihoodModel`` on the log of each
parameter (so the optimiser never leaves the allowed region; see
:func:`fit_positive_mle`). At the maximum the covariance of the parameters themselves
follows by the delta method, ``Cov(θ) = J Cov(log θ) J``, ``J = diag(θ)`` (which is
the inverse Hessian of the log-likelihood in θ, by invariance of the MLE). Confidence
intervals of such parameters are computed on the log scale and transformed back,
``exp(log θ ± z se(log θ))``, so they stay positive.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from cs_sim.errors import ModelInputError
from cs_sim.format import to_jsonable

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "FittedModel",
    "PositiveMle",
    "PositiveModel",
    "as_float_array",
    "axes",
    "check_formula",
    "fit_positive_mle",
    "p_text",
    "z_value",
]

logger = logging.getLogger(__name__)

#: log of a parameter value taken as "ran off to infinity" (a model at its limit)
BOUNDARY_LOG = math.log(1e4)


def z_value(alpha: float) -> float:
    """The two-sided normal quantile ``z_{1 - alpha/2}`` (1.96 for ``alpha=0.05``)."""
    if not 0 < alpha < 1:
        raise ModelInputError(f"alpha must be in (0, 1) (0.05 for 95% intervals), got {alpha!r}")
    return float(stats.norm.ppf(1 - alpha / 2))


def axes(ax: Axes | None) -> Axes:
    """``ax``, or the Axes of a new figure (matplotlib is imported only here)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(7, 4))
    return ax


def as_float_array(values: Any, *, name: str, where: str, nonnegative: bool = True,
                   allow_nan: bool = False) -> np.ndarray:
    """``values`` as a 1-D float array, or a :class:`ModelInputError` naming what is wrong.

    Parameters
    ----------
    values : array-like
        The input.
    name : str
        Its name in messages (the argument or column).
    where : str
        The function, in messages (``'fit_bgnbd'``).
    nonnegative : bool, default True
        Reject negative values.
    allow_nan : bool, default False
        Accept missing values.
    """
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ModelInputError(f"{where}: {name} must be numbers; {exc}") from None
    if arr.ndim != 1:
        raise ModelInputError(f"{where}: {name} must be one-dimensional, got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if allow_nan:
        bad &= ~np.isnan(arr)
    if bad.any():
        first = np.flatnonzero(bad)[:5].tolist()
        raise ModelInputError(f"{where}: {name} has {int(bad.sum())} missing or infinite "
                              f"value(s), at positions {first}; drop or fill them first")
    if nonnegative and (arr[~np.isnan(arr)] < 0).any():
        first = np.flatnonzero(arr < 0)[:5].tolist()
        raise ModelInputError(f"{where}: {name} must not be negative; negative at positions "
                              f"{first}")
    return arr


class FittedModel:
    """Mixin of results with ``params`` and ``bse`` (pandas Series by parameter name).

    Subclasses set ``params``, ``bse`` and, where the intervals are not symmetric on
    the parameter's own scale, override :meth:`conf_int`.
    """

    params: pd.Series
    bse: pd.Series

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald confidence intervals ``params ± z bse``.

        Parameters
        ----------
        alpha : float, default 0.05
            1 - confidence level.

        Returns
        -------
        DataFrame
            Index the parameter names, columns ``lower``, ``upper``.
        """
        z = z_value(alpha)
        return pd.DataFrame({"lower": self.params - z * self.bse,
                             "upper": self.params + z * self.bse})

    def summary(self, alpha: float = 0.05) -> pd.DataFrame:
        """The estimates in one table.

        Parameters
        ----------
        alpha : float, default 0.05
            1 - confidence level of the intervals.

        Returns
        -------
        DataFrame
            Index the parameter names; columns ``estimate``, ``std_err``, ``z``,
            ``p_value`` (Wald test of 0) and ``ci_lower``, ``ci_upper``.
        """
        ci = self.conf_int(alpha)
        z = self.params / self.bse
        return pd.DataFrame({
            "estimate": self.params,
            "std_err": self.bse,
            "z": z,
            "p_value": 2 * stats.norm.sf(np.abs(z)),
            "ci_lower": ci["lower"],
            "ci_upper": ci["upper"],
        })

    def to_dict(self) -> dict[str, Any]:
        """The estimates as a JSON-ready dict (raw numbers): parameter -> summary row."""
        frame = self.summary()
        return {str(k): to_jsonable(row.to_dict()) for k, row in frame.iterrows()}


# ------------------------------------------------------------------ positive-parameter MLE
@dataclass(frozen=True)
class PositiveMle:
    """A maximum-likelihood fit of positive parameters (see the module docstring).

    Attributes
    ----------
    params, bse : Series
        Estimates and standard errors on the parameters' own scale.
    cov : DataFrame
        Their covariance (delta method).
    log_params, log_cov
        The same on the log scale (what was optimised).
    llf : float
        The maximised log-likelihood.
    converged : bool
        Whether the optimiser reported convergence.
    nobs : int
        Number of rows that entered the likelihood.
    """

    params: pd.Series
    bse: pd.Series
    cov: pd.DataFrame
    log_params: pd.Series
    log_cov: pd.DataFrame
    llf: float
    converged: bool
    nobs: int

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Log-scale Wald intervals transformed back: ``exp(log θ ± z se(log θ))``."""
        z = z_value(alpha)
        se = np.sqrt(np.diag(self.log_cov.to_numpy()))
        lo = np.exp(self.log_params.to_numpy() - z * se)
        hi = np.exp(self.log_params.to_numpy() + z * se)
        return pd.DataFrame({"lower": lo, "upper": hi}, index=self.params.index)

    def delta_method(self, function: Callable[[np.ndarray], float]) -> tuple[float, float]:
        """``function(θ)`` at the estimate and its delta-method standard error.

        The gradient with respect to log θ is taken numerically (statsmodels'
        ``approx_fprime``, central differences), so ``se = sqrt(g' Cov(log θ) g)``.
        """
        from statsmodels.tools.numdiff import approx_fprime

        def on_log(log_theta: np.ndarray) -> float:
            return float(function(np.exp(log_theta)))

        at = self.log_params.to_numpy()
        value = on_log(at)
        grad = approx_fprime(at, on_log, centered=True).ravel()
        var = float(grad @ self.log_cov.to_numpy() @ grad)
        return value, math.sqrt(max(var, 0.0))


def fit_positive_mle(
    loglikeobs: Callable[[np.ndarray], np.ndarray],
    *,
    names: Sequence[str],
    start: Sequence[float],
    nobs: int,
    where: str,
) -> PositiveMle:
    """Maximise a log-likelihood of positive parameters with ``GenericLikelihoodModel``.

    Parameters
    ----------
    loglikeobs : callable
        ``loglikeobs(theta) -> ndarray``: the log-likelihood contribution of each row
        (already multiplied by any row weight) at the positive parameters ``theta``.
    names : sequence of str
        Parameter names, in the order of ``theta``.
    start : sequence of float
        Positive starting values.
    nobs : int
        Number of rows (``len(loglikeobs(theta))``).
    where : str
        The calling function, for messages.

    Returns
    -------
    PositiveMle

    Raises
    ------
    ModelInputError
        If the likelihood is not finite at the estimate or its Hessian is singular
        (the data do not identify the parameters).

    Notes
    -----
    Nelder-Mead from ``log(start)`` finds the neighbourhood of the maximum and BFGS
    polishes it; statsmodels then takes the Hessian numerically for the covariance.
    """
    from statsmodels.base.model import GenericLikelihoodModel

    class _LogScaleModel(GenericLikelihoodModel):  # type: ignore[misc]
        def loglikeobs(self, params: np.ndarray) -> np.ndarray:
            with np.errstate(all="ignore"):
                out = np.asarray(loglikeobs(np.exp(params)), dtype=float)
            return np.where(np.isnan(out), -np.inf, out)

        def loglike(self, params: np.ndarray) -> float:
            total = float(self.loglikeobs(params).sum())
            return total if np.isfinite(total) else -1e300

    log_names = [f"log_{n}" for n in names]
    model = _LogScaleModel(np.zeros(nobs), None, extra_params_names=log_names)
    x0 = np.log(np.asarray(start, dtype=float))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optimiser chatter; convergence is checked below
        rough = model.fit(start_params=x0, method="nm", maxiter=5000, disp=0)
        res = model.fit(start_params=rough.params, method="bfgs", maxiter=2000, disp=0,
                        gtol=1e-8)
    log_params = np.asarray(res.params, dtype=float)
    llf = float(res.llf)
    cov_log = np.asarray(res.cov_params(), dtype=float)
    if not np.isfinite(llf) or not np.isfinite(cov_log).all() or \
            (np.diag(cov_log) <= 0).any():
        raise ModelInputError(
            f"{where}: the maximum-likelihood fit failed (log-likelihood {llf}, "
            "covariance not positive); the data do not identify the parameters - check "
            "that there are enough periods, events and spread in the data")
    # BFGS may stop at gtol=1e-8 on the noise of its numerical gradient; the fit has
    # converged when the centred-difference gradient at the estimate is ~0
    from statsmodels.tools.numdiff import approx_fprime

    grad = approx_fprime(log_params, model.loglike, centered=True).ravel()
    converged = bool(res.mle_retvals.get("converged", False)) or \
        bool(np.max(np.abs(grad)) < 1e-3)
    if not converged:
        if np.max(log_params) > BOUNDARY_LOG:  # a parameter runs off to its limit
            logger.info("%s: a parameter runs to its limit (%s)", where,
                        dict(zip(names, np.exp(log_params).round(3), strict=True)))
        else:
            logger.warning("%s: the optimiser did not report convergence", where)
    theta = np.exp(log_params)
    jac = np.diag(theta)
    cov = jac @ cov_log @ jac
    idx = pd.Index(list(names), name="parameter")
    return PositiveMle(
        params=pd.Series(theta, index=idx, name="estimate"),
        bse=pd.Series(np.sqrt(np.diag(cov)), index=idx, name="std_err"),
        cov=pd.DataFrame(cov, index=idx, columns=idx),
        log_params=pd.Series(log_params, index=idx),
        log_cov=pd.DataFrame(cov_log, index=idx, columns=idx),
        llf=llf,
        converged=converged,
        nobs=nobs,
    )


class PositiveModel(FittedModel):
    """Mixin of results fitted by :func:`fit_positive_mle` (attribute ``fit_``)."""

    fit_: PositiveMle

    @property
    def params(self) -> pd.Series:  # type: ignore[override]
        """Maximum-likelihood estimates, by parameter name."""
        return self.fit_.params

    @property
    def bse(self) -> pd.Series:  # type: ignore[override]
        """Standard errors (delta method from the log scale)."""
        return self.fit_.bse

    @property
    def llf(self) -> float:
        """The maximised log-likelihood."""
        return self.fit_.llf

    def cov_params(self) -> pd.DataFrame:
        """Covariance of the estimates."""
        return self.fit_.cov

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Intervals computed on the log scale and transformed back (always positive)."""
        return self.fit_.conf_int(alpha)

    def summary(self, alpha: float = 0.05) -> pd.DataFrame:
        """Estimates, standard errors and (log-scale) confidence intervals.

        Returns
        -------
        DataFrame
            Index the parameter names; columns ``estimate``, ``std_err``,
            ``ci_lower``, ``ci_upper``. (No test of 0: the parameters are positive by
            definition.)
        """
        ci = self.conf_int(alpha)
        return pd.DataFrame({"estimate": self.params, "std_err": self.bse,
                             "ci_lower": ci["lower"], "ci_upper": ci["upper"]})


# ------------------------------------------------------------------------------ formulas
#: names a model formula may use besides the data's columns (patsy functions)
FORMULA_FUNCTIONS = frozenset({
    "C", "I", "Q", "Treatment", "Sum", "Poly", "reference", "levels",
    "np.log", "np.log1p", "np.sqrt", "np.exp", "center", "standardize", "scale",
})
_QUOTED = re.compile(r"'[^'\\]*'|\"[^\"\\]*\"")
_ALLOWED_CHARS = re.compile(r"^[\w\s+\-*/:~().,=]*$")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


def check_formula(formula: str, columns: Sequence[str], *, where: str) -> str:
    """Check a model formula before patsy evaluates it; return it stripped.

    Patsy evaluates the terms of a formula as Python expressions, so a formula is
    accepted only when it is made of the data's column names, numbers, the operators
    ``~ + - * / : ( ) , =``, quoted strings and the patsy functions in
    :data:`FORMULA_FUNCTIONS` (``C(segment, Treatment('smb'))``, ``np.log(mrr)``).

    Raises
    ------
    ModelInputError
        Naming the first name that is neither a column nor an allowed function.
    """
    if not isinstance(formula, str) or not formula.strip():
        raise ModelInputError(f"{where}: formula must be a non-empty string such as "
                              "'x1 + x2 + C(segment)'")
    bare = _QUOTED.sub("''", formula)
    if "__" in bare or not _ALLOWED_CHARS.match(bare):
        raise ModelInputError(f"{where}: formula {formula!r} may use only column names, "
                              "numbers, ~ + - * / : ( ) and the functions "
                              f"{', '.join(sorted(FORMULA_FUNCTIONS))}")
    known = set(map(str, columns))
    for name in _NAME.findall(bare):
        if name not in known and name not in FORMULA_FUNCTIONS:
            raise ModelInputError(
                f"{where}: formula {formula!r}: {name!r} is not a column of the data "
                f"(columns: {', '.join(sorted(known))}) nor an allowed function")
    return formula.strip()


def p_text(p: float) -> str:
    """A p-value for people: ``"p < 0.001"`` or ``"p = 0.032"``."""
    if not np.isfinite(p):
        return "p n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
