r"""Estimators of the simulator's health, churn and resize parameters (statsmodels).

Notation of :mod:`cs_sim.sim.model`: health ``h`` (0-100), ``x = (h - 50) / 10``; the
usage proxy ``ĥ`` of :mod:`cs_sim.calibration._panel`. In the engine, month ``m``'s usage
reads last month's health and this month's shock ``ε_m``, which also moves health:

.. math::

    ĥ_m = h_{m-1} + k ε_m, \qquad
    h_m = (1 - r) h_{m-1} + r μ_s - π F_m + σ_h ε_m

(``k = 10 s / b`` the usage noise in health points, ``F_m`` tickets not solved at first
contact, ``π`` their penalty; champion departures and plays add to the noise and the
level). Hence:

*Health dynamics* (:func:`health_dynamics`). ``ĥ_{m+1} = (1 - r) ĥ_m + r μ_s - π F_m +
u_{m+1}`` with ``u_{m+1} = (σ_h - (1 - r) k) ε_m + k ε_{m+1}``, which is correlated with
``ĥ_m``: ordinary least squares would be biased towards zero persistence. Two-stage
least squares with ``ĥ_{m-1}`` as the instrument of ``ĥ_m`` is consistent; standard
errors are clustered by account (statsmodels ``OLS`` for both stages, the second on
``y - X β + X̂ β`` so that its residuals are the structural ones). The residuals'
variance ``V = A² + k²`` and lag-1 covariance ``C = A k`` (``A = σ_h - (1 - r) k``) give
``k`` and ``σ_h`` in closed form (the root with ``k > |A|``), on accounts with at least
20 seats, whose active share is not blurred by rounding to whole users.

*Health the month's decisions see* (:func:`filtered_health`): substituting
``h_{m-1} = ĥ_m - k ε_m`` gives ``h_m = (1 - r) ĥ_m + r μ_s - π F_m + A ε_m``: the
usage of month ``m`` predicts the health behind that month's churn, expansion and
contraction with an error of sd ``|A|`` (a few points, against a spread of health of
10 or more), so the slopes below are only slightly attenuated.

*Churn* (:func:`churn_hazard`): the grouped hazard likelihood of
:mod:`cs_sim.calibration._hazard` on the account-months of each customer's first life,
``σ(churn_intercept_s + health_slope x + early_life [tenure < 6] + tenure_slope
min(tenure, 36) / 12)`` plus a constant involuntary hazard per segment (pooled, or
none, when the data do not separate it: the tables never say why an account left, so
it is identified only by its being flat in health and tenure).

*Expansion and contraction* (:func:`resize`): expansion a month is a statsmodels
``Logit`` (clustered by account) on the surviving account-months; contraction the
grouped hazard without the involuntary part (annual contracts contract only at
renewal). Sizes: the slope of the OLS of the MRR after an expansion (contraction) on
the MRR before, ``1 + expansion_size`` (``1 - contraction_size``); the intercept takes
the rounding of seats to whole numbers.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cs_sim.calibration._hazard import fit_term_hazard, group_decisions
from cs_sim.calibration._panel import Panel

__all__ = [
    "EARLY_LIFE_MONTHS",
    "conditional_se",
    "Estimate",
    "HealthDynamics",
    "alive_rows",
    "churn_hazard",
    "filtered_health",
    "health_dynamics",
    "resize",
]

#: months of "early life" (the churn model's indicator; the template's value)
EARLY_LIFE_MONTHS = 6
#: seats an account needs for the noise moments (rounding to whole users blurs fewer)
_MOMENT_SEATS = 20
#: fewest account-months the health regression needs
MIN_HEALTH_ROWS = 100


@dataclass(frozen=True)
class Estimate:
    """One calibrated parameter: where it goes in the scenario and how it was found."""

    path: str
    estimate: float
    std_err: float
    method: str
    n: int
    draw_sd: float = math.nan

    def row(self) -> dict[str, Any]:
        """As a row of :attr:`cs_sim.calibration.Calibration.estimates`."""
        draw = self.draw_sd if math.isfinite(self.draw_sd) else self.std_err
        return {"path": self.path, "estimate": float(self.estimate),
                "std_err": float(self.std_err), "draw_sd": float(draw),
                "method": self.method, "n": int(self.n)}


def conditional_se(cov: Any) -> np.ndarray:
    """Each estimate's standard error given the others: ``1 / sqrt(diag(Cov⁻¹))``.

    A scenario draws its uncertain parameters independently. Estimates of one model
    are correlated (a segment's churn intercept and its involuntary rate trade off), so
    independent draws with the marginal standard errors would spread a prediction far
    more than the data allow; with the conditional ones, each draw stays on the ridge
    of the likelihood, whose width in the directions a prediction depends on they
    follow much more closely. ``draw_sd`` of the estimates holds them.
    """
    c = np.asarray(cov, dtype=float)
    try:
        prec = np.linalg.inv(c)
    except np.linalg.LinAlgError:
        return np.sqrt(np.maximum(np.diag(c), 0.0))
    d = np.diag(prec)
    return np.where(d > 0, 1.0 / np.sqrt(np.where(d > 0, d, 1.0)), np.nan)


@dataclass(frozen=True)
class HealthDynamics:
    """The fitted health equation (see the module docstring)."""

    reversion: float
    mean: np.ndarray  # μ by segment
    penalty: float
    usage_noise: float  # k, health points
    noise_sd: float  # σ_h
    shock: float  # A = σ_h - (1 - r) k
    estimates: list[Estimate]


def _ols(y: np.ndarray, x: np.ndarray, groups: np.ndarray | None = None) -> Any:
    import statsmodels.api as sm

    model = sm.OLS(y, x)
    if groups is None:
        return model.fit(cov_type="HC1")
    return model.fit(cov_type="cluster", cov_kwds={"groups": groups})


def _seg_path(p: Panel, s: int, field: str) -> str:
    return f"segments.{p.segments[s]}.{field}"


def health_dynamics(p: Panel) -> HealthDynamics | None:
    """Reversion, level by segment, failed-ticket penalty and noises (module docstring).

    Returns
    -------
    HealthDynamics or None
        None without enough consecutive months of usage (:data:`MIN_HEALTH_ROWS`).
    """
    H = p.proxy  # noqa: N806 (the proxy matrix)
    fin = np.isfinite(H)
    both = fin[:, :-2] & fin[:, 1:-1] & fin[:, 2:]
    i, j = np.nonzero(both)
    if i.size < MIN_HEALTH_ROWS:
        return None
    m = j + 1
    S = len(p.segments)  # noqa: N806 (segments)
    y, x, z, f = H[i, m + 1], H[i, m], H[i, m - 1], p.failed[i, m]
    dummies = np.eye(S)[p.seg[i]]
    use_f = p.has_contacts and f.std() > 0
    cols = [dummies, x[:, None]] + ([f[:, None]] if use_f else [])
    X = np.column_stack(cols)  # noqa: N806
    Z = X.copy()  # noqa: N806 (instruments: the lagged proxy for the proxy)
    Z[:, S] = z
    first = _ols(x, Z)
    Xh = X.copy()  # noqa: N806
    Xh[:, S] = first.fittedvalues
    beta = np.linalg.lstsq(Xh, y, rcond=None)[0]
    second = _ols(y - X @ beta + Xh @ beta, Xh, groups=i)
    b, cov = np.asarray(second.params), np.asarray(second.cov_params())
    phi = float(b[S])
    r = float(np.clip(1.0 - phi, 1e-3, 1.0))
    se_r = float(math.sqrt(cov[S, S]))
    mu = np.clip(b[:S] / r, 0.0, 100.0)
    penalty = float(max(-b[S + 1], 0.0)) if use_f else 0.0
    n_rows = int(i.size)
    method = "2SLS of next month's usage health on this month's (instrument: last month's)"
    cond = conditional_se(cov)
    est = [Estimate("behaviour.health.reversion", r, se_r, method, n_rows, float(cond[S]))]
    for s in range(S):
        g = np.array([1.0 / r, b[s] / r**2])  # d mu / d (c_s, phi)
        sub = cov[np.ix_([s, S], [s, S])]
        n_s = int(np.sum(p.seg[i] == s))
        est.append(Estimate(_seg_path(p, s, "health_mean"), float(mu[s]),
                            float(math.sqrt(max(g @ sub @ g, 0.0))), method, n_s,
                            float(cond[s] / r)))
    if use_f:
        est.append(Estimate("behaviour.health.failed_ticket_penalty", penalty,
                            float(math.sqrt(cov[S + 1, S + 1])), method, n_rows,
                            float(cond[S + 1])))
    u = y - X @ b
    k, sigma, shock = _noise_moments(p, i, m, u, phi)
    est.append(Estimate("behaviour.health.noise_sd", sigma, math.nan,
                        "moments of the 2SLS residuals (variance, lag-1 covariance)", n_rows))
    est.append(Estimate("behaviour.usage.noise_sd", k * _slope() / 10.0, math.nan,
                        "moments of the 2SLS residuals (variance, lag-1 covariance)", n_rows))
    est += _health_sd(p, k)
    return HealthDynamics(r, mu, penalty, k, sigma, shock, est)


def _slope() -> float:
    from cs_sim.calibration._panel import USAGE_HEALTH_SLOPE

    return USAGE_HEALTH_SLOPE


def _noise_moments(p: Panel, i: np.ndarray, m: np.ndarray, u: np.ndarray, phi: float
                   ) -> tuple[float, float, float]:
    """``k``, ``σ_h`` and ``A`` from the residuals' variance and lag-1 covariance."""
    seats = p.seats
    big = (seats[i, m - 1] >= _MOMENT_SEATS) & (seats[i, m] >= _MOMENT_SEATS) & \
        (seats[i, m + 1] >= _MOMENT_SEATS)
    if big.sum() < MIN_HEALTH_ROWS:
        big = np.ones(i.size, dtype=bool)
    key = pd.Series(u[big], index=pd.MultiIndex.from_arrays([i[big], m[big]]))
    nxt = key.reindex(pd.MultiIndex.from_arrays([i[big], m[big] + 1])).to_numpy()
    pair = np.isfinite(nxt)
    v = float(np.mean(u[big] ** 2))
    c = float(np.mean(u[big][pair] * nxt[pair])) if pair.any() else 0.0
    hi, lo = math.sqrt(max(v - 2 * c, 0.0)), math.sqrt(max(v + 2 * c, 0.0))
    k = (hi + lo) / 2.0
    a = (lo - hi) / 2.0
    sigma = max(a + phi * k, 0.0)
    return k, sigma, a


def _rounding_variance(active: np.ndarray, seats: np.ndarray) -> np.ndarray:
    """What rounding active users to whole numbers adds to the proxy's variance.

    ``τ² = (10 / b)² / (12 seats² p² (1 - p)²)`` (delta method; ``p`` the active share
    kept in 0.05-0.95); 0 where there is no usage.
    """
    from cs_sim.calibration._panel import USAGE_HEALTH_SLOPE

    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.clip(active / seats, 0.05, 0.95)
        tau2 = (10.0 / USAGE_HEALTH_SLOPE) ** 2 / (12.0 * seats**2 * (share * (1 - share)) ** 2)
    return np.where(np.isfinite(tau2), tau2, 0.0)


def _health_sd(p: Panel, k: float) -> list[Estimate]:
    """Health spread of new customers: ``sd² = Var(ĥ in their first month) - k² - τ²``.

    Taken on the new customers with at least 20 seats when there are 30 of them (their
    share is barely blurred by rounding), else on all, less the rounding variance
    ``τ²``.
    """
    fp = p.first_paid()
    rows = np.arange(len(fp))
    new = ~p.paid[:, 0]
    h0 = p.proxy[rows, fp]
    seats = p.seats[rows, fp]
    tau2 = _rounding_variance(p.active[rows, fp], seats)
    out = []
    for s in range(len(p.segments)):
        sel = new & (p.seg == s) & np.isfinite(h0)
        big = sel & (seats >= _MOMENT_SEATS)
        if big.sum() >= 30:
            sel = big
        n = int(sel.sum())
        if n < 10:
            continue
        var = float(np.var(h0[sel], ddof=1)) - k**2 - float(np.mean(tau2[sel]))
        sd = math.sqrt(max(var, 1.0))
        out.append(Estimate(_seg_path(p, s, "health_sd"), sd, sd / math.sqrt(2 * n),
                            "spread of new customers' first-month usage health, less the "
                            "usage noise and rounding", n))
    return out


def filtered_health(p: Panel, hd: HealthDynamics | None) -> np.ndarray | None:
    """The health behind each month's decisions, predicted from that month's usage.

    ``h̃_m = (1 - r) ĥ_m + r μ_s - π F_m`` (module docstring) has an error of variance
    ``e = A² + (1 - r)² τ²``, where ``τ²`` is what rounding active users to whole
    numbers adds to the proxy (``(10 / b)² / (12 seats² p² (1 - p)²)``, large for small
    accounts). A slope fitted on a covariate measured with error is flattened by the
    share of its variance that is error; the regression-calibration estimate
    ``E[h | h̃] = m_s + λ (h̃ - m_s)``, ``λ = v_s / (v_s + e)`` (``m_s``, ``v_s`` the
    mean and error-free variance of health in the segment) removes that flattening to
    first order (Carroll et al., *Measurement Error in Nonlinear Models*, 2006, ch. 4).
    A month without usage takes the proxy of up to two months before. Clipped to 0-100.
    """
    if hd is None:
        return None
    proxy = pd.DataFrame(p.proxy).ffill(axis=1, limit=2).to_numpy()
    r = hd.reversion
    h = (1.0 - r) * proxy + r * hd.mean[p.seg][:, None] - hd.penalty * p.failed
    seats = pd.DataFrame(p.seats).ffill(axis=1, limit=2).to_numpy()
    active = pd.DataFrame(p.active).ffill(axis=1, limit=2).to_numpy()
    err = hd.shock**2 + (1.0 - r) ** 2 * _rounding_variance(active, seats)
    out = np.full(h.shape, np.nan)
    for s in range(len(p.segments)):
        rows = p.seg == s
        cells = np.isfinite(h[rows])
        if not cells.any():
            continue
        hs, es = h[rows], err[rows]
        m_s = float(np.mean(hs[cells]))
        total = float(np.var(hs[cells]))
        v_s = max(total - float(np.mean(es[cells])), 0.1 * total)
        out[rows] = m_s + v_s / (v_s + es) * (hs - m_s)
    return np.clip(out, 0.0, 100.0)


def alive_rows(p: Panel) -> dict[str, np.ndarray]:
    """The account-months of each customer's first life in which a decision can fall.

    Rows (sorted by account, then month) of months ``m >= 1`` of the data in which the
    account paid the month before and its tenure is at least 1; ``churn`` marks the
    month it stopped paying (its first life ends there; later months are left out).
    """
    N, T = p.paid.shape  # noqa: N806
    fp = p.first_paid()
    gap = (~p.paid) & (np.arange(T)[None, :] > fp[:, None])
    end = np.where(gap.any(axis=1), np.argmax(gap, axis=1), T)  # churn column (T: none)
    lo = np.maximum(fp + 1, 1)
    hi = np.minimum(end, T - 1)
    count = np.maximum(hi - lo + 1, 0)
    acc = np.repeat(np.arange(N), count)
    month = np.concatenate([np.arange(a, b + 1) for a, b in zip(lo, hi, strict=True)]) \
        if count.sum() else np.zeros(0, dtype=int)
    tenure = month - p.start[acc]
    keep = tenure >= 1
    acc, month, tenure = acc[keep], month[keep], tenure[keep]
    churn = month == end[acc]
    return {"acc": acc, "month": month, "tenure": tenure, "churn": churn}


def _varying(cols: list[np.ndarray], names: list[str], protect: int
             ) -> tuple[np.ndarray, list[str]]:
    """Stack columns, dropping those (after the first ``protect``) without variation."""
    keep = [k for k, c in enumerate(cols) if k < protect or np.nanstd(c) > 0]
    return np.column_stack([cols[k] for k in keep]), [names[k] for k in keep]


def _terms(p: Panel, acc: np.ndarray, tenure: np.ndarray, event: np.ndarray,
           contract_months: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where decisions fall and the months of their terms (module docstring)."""
    annual = p.annual[acc]
    c = contract_months[p.seg[acc]]
    at_renewal = tenure % c == 0
    decides = ~annual | at_renewal | event
    months = np.where(annual, np.where(at_renewal, c, tenure % c), 1)
    return decides, months.astype(float)


def churn_hazard(p: Panel, health: np.ndarray | None, contract_months: np.ndarray
                 ) -> tuple[list[Estimate], list[str]]:
    """Churn intercepts, slopes and involuntary rates (module docstring).

    Returns
    -------
    (list of Estimate, list of str)
        The estimates and notes on what could not be separated.
    """
    rows = alive_rows(p)
    acc, month, tenure, churn = rows["acc"], rows["month"], rows["tenure"], rows["churn"]
    notes: list[str] = []
    S = len(p.segments)  # noqa: N806
    cols = [(p.seg[acc] == s).astype(float) for s in range(S)]
    names = [_seg_path(p, s, "churn_intercept") for s in range(S)]
    if health is not None:
        x = (health[acc, month] - 50.0) / 10.0
        ok = np.isfinite(x)
        acc, month, tenure, churn, x = acc[ok], month[ok], tenure[ok], churn[ok], x[ok]
        cols = [c[ok] for c in cols] + [x]
        names.append("behaviour.churn.health_slope")
    cols += [(tenure < EARLY_LIFE_MONTHS).astype(float), np.minimum(tenure, 36) / 12.0]
    names += ["behaviour.churn.early_life", "behaviour.churn.tenure_slope"]
    design, names = _varying(cols, names, S)
    decides, months = _terms(p, acc, tenure, churn, contract_months)
    groups = group_decisions(acc, churn, decides, months, p.seg[acc])
    design = design[groups.keep]
    fit = None
    for mode in ("segment", "pooled", "none"):
        fit = fit_term_hazard(design, names, groups, n_seg=S, q_mode=mode)  # type: ignore[arg-type]
        if fit is not None and (mode == "none" or _q_identified(fit)):
            break
    if fit is None:
        return [], ["churn: the hazard model could not be fitted (too few churns)"]
    method = "grouped churn hazard (maximum likelihood, terms of annual contracts)"
    n = fit.n_decisions
    cond = pd.Series(conditional_se(fit.cov), index=fit.cov.index)
    out = [Estimate(nm, float(fit.params[nm]), float(fit.bse[nm]), method, n,
                    float(cond[nm])) for nm in names]
    out += _involuntary(p, fit, n, cond)
    if fit.q_mode == "pooled":
        notes.append("involuntary churn: one rate for all segments (the data do not "
                     "separate it by segment)")
    elif fit.q_mode == "none":
        notes.append("involuntary churn: not separable from voluntary churn in these data; "
                     "all churn is modelled as voluntary (involuntary_rate 0)")
    return out, notes


def _q_identified(fit: Any) -> bool:
    lq = [k for k in fit.params.index if k.startswith("log_q")]
    return bool(lq) and bool((fit.bse[lq] < 1.5).all())


def _involuntary(p: Panel, fit: Any, n: int, cond: pd.Series) -> list[Estimate]:
    S = len(p.segments)  # noqa: N806
    out = []
    for s in range(S):
        path = _seg_path(p, s, "involuntary_rate")
        if fit.q_mode == "none":
            out.append(Estimate(path, 0.0, math.nan, "not separable from voluntary churn", n))
            continue
        key = f"log_q[{s}]" if fit.q_mode == "segment" else "log_q"
        q = math.exp(float(fit.params[key]))
        method = "grouped churn hazard: constant hazard" + \
            ("" if fit.q_mode == "segment" else " (pooled over segments)")
        out.append(Estimate(path, q, q * float(fit.bse[key]), method, n,
                            q * float(cond[key])))
    return out


def resize(p: Panel, health: np.ndarray | None, contract_months: np.ndarray
           ) -> tuple[list[Estimate], list[str]]:
    """Expansion and contraction probabilities and sizes (module docstring)."""
    rows = alive_rows(p)
    acc, month, tenure = rows["acc"], rows["month"], rows["tenure"]
    keep = ~rows["churn"]
    acc, month, tenure = acc[keep], month[keep], tenure[keep]
    before, after = p.mrr[acc, month - 1], p.mrr[acc, month]
    up = after > before * (1 + 1e-9)
    down = after < before * (1 - 1e-9)
    S = len(p.segments)  # noqa: N806
    cols = [(p.seg[acc] == s).astype(float) for s in range(S)]
    notes: list[str] = []
    if health is not None:
        x = (health[acc, month] - 50.0) / 10.0
        ok = np.isfinite(x)
        acc, month, tenure, up, down, x = acc[ok], month[ok], tenure[ok], up[ok], down[ok], \
            x[ok]
        cols = [c[ok] for c in cols] + [x]
    out: list[Estimate] = []
    out += _expansion_logit(p, cols, up, acc, health is not None)
    names = [_seg_path(p, s, "contraction_intercept") for s in range(S)]
    if health is not None:
        names.append("behaviour.expansion.contraction_health_slope")
    decides, months = _terms(p, acc, tenure, down, contract_months)
    groups = group_decisions(acc, down, decides, months, p.seg[acc])
    fit = fit_term_hazard(np.column_stack(cols)[groups.keep], names, groups, n_seg=S)
    if fit is None:
        notes.append("contraction: too few contractions to fit; template values kept")
    else:
        method = "grouped contraction hazard (maximum likelihood, annual at renewal)"
        cond = pd.Series(conditional_se(fit.cov), index=fit.cov.index)
        out += [Estimate(nm, float(fit.params[nm]), float(fit.bse[nm]), method,
                         fit.n_decisions, float(cond[nm])) for nm in names]
    out += _sizes(p, acc, month, up, "expansion_size", +1)
    out += _sizes(p, acc, month, down, "contraction_size", -1)
    return out, notes


def _expansion_logit(p: Panel, cols: list[np.ndarray], up: np.ndarray, acc: np.ndarray,
                     with_health: bool) -> list[Estimate]:
    import statsmodels.api as sm

    S = len(p.segments)  # noqa: N806
    names = [_seg_path(p, s, "expansion_intercept") for s in range(S)]
    if with_health:
        names.append("behaviour.expansion.expansion_health_slope")
    if up.sum() < 5:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = sm.Logit(up.astype(float), np.column_stack(cols)).fit(
                disp=0, maxiter=200, cov_type="cluster", cov_kwds={"groups": acc})
        except (np.linalg.LinAlgError, ValueError):
            return []
    method = "logit of expansion on the surviving account-months (clustered by account)"
    n = int(res.nobs)
    cond = conditional_se(res.cov_params())
    return [Estimate(nm, float(b), float(se), method, n, float(c))
            for nm, b, se, c in zip(names, np.asarray(res.params), np.asarray(res.bse), cond,
                                    strict=True)]


def _sizes(p: Panel, acc: np.ndarray, month: np.ndarray, event: np.ndarray, field: str,
           sign: int) -> list[Estimate]:
    """``1 ± size``: the OLS slope of the MRR after on the MRR before, per segment."""
    import statsmodels.api as sm

    out = []
    ev_acc, ev_m = acc[event], month[event]
    before, after = p.mrr[ev_acc, ev_m - 1], p.mrr[ev_acc, ev_m]
    seg = p.seg[ev_acc]
    pooled = None
    for s in range(len(p.segments)):
        sel = seg == s
        use = sel if sel.sum() >= 10 else np.ones(seg.size, dtype=bool)
        if use.sum() < 10:
            continue
        if not sel.sum() >= 10:
            if pooled is None:
                pooled = sm.OLS(after, sm.add_constant(before, has_constant="add")).fit(
                    cov_type="HC1")
            res = pooled
        else:
            res = sm.OLS(after[use], sm.add_constant(before[use], has_constant="add")).fit(
                cov_type="HC1")
        size = sign * (float(res.params[1]) - 1.0)
        method = "OLS slope of MRR after on MRR before" + \
            ("" if sel.sum() >= 10 else " (pooled over segments)")
        out.append(Estimate(_seg_path(p, s, field), size, float(res.bse[1]), method,
                            int(use.sum())))
    return out
