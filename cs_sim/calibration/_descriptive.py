"""Calibrated parameters that are rates, shares and means of the data.

Each is the maximum-likelihood estimate of the engine's equation for it (a Poisson
rate is events / exposure, a Bernoulli probability a share), with its usual standard
error:

* segments (from the customers won inside the data, whose first month is seen; all
  customers when none was won): ``share`` and ``acquisition.segment_mix`` (the mix of new
  logos), ``employees`` (log-normal: median = exp(mean log), sigma = sd log),
  ``seat_share`` (OLS slope of first-month seats on employees, through 0),
  ``price_per_seat`` (first-month MRR / seats), ``annual_share``; ``contract_months``
  from the tenure at which annual contracts churn (the largest term most churns fall
  on a multiple of);
* acquisition: ``new_logos_per_month`` (customers whose first paid month is inside the
  data, after its first month), ``trial_conversion`` (trials table);
* support: ``tickets_per_seat`` (tickets / seat-months), ``fcr`` (share of tickets
  solved at the first contact), ``handle_minutes`` (minutes per contact);
* surveys: ``nps_response_rate`` (answers / account-months),
  ``csat_response_rate`` (CSAT answers / tickets), ``nps_intercept`` and
  ``nps_health_slope`` (OLS of the score on last month's health, clustered by account;
  rounding and the 0-10 clip pull the slope slightly towards 0), ``nps_noise_sd``;
* usage activity: sessions per active user, minutes per session, key events per
  session;
* tiers (:func:`tier_specs`): from the accounts' tier labels, ARR thresholds that
  reproduce them best, and each tier's CSM headcount (distinct ``csm_id``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cs_sim.calibration._estimate import Estimate, alive_rows
from cs_sim.calibration._panel import Panel

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.io import Dataset

__all__ = ["accounts_and_acquisition", "contract_terms", "other_cost", "support_and_surveys",
           "tier_specs"]

_SHARE = "share of the customers won inside the data"


def _seg_path(p: Panel, s: int, field: str) -> str:
    return f"segments.{p.segments[s]}.{field}"


def _binomial(k: float, n: float) -> tuple[float, float]:
    share = k / n if n else math.nan
    return share, math.sqrt(max(share * (1 - share), 0.0) / n) if n else math.nan


def contract_terms(p: Panel) -> tuple[np.ndarray, list[Estimate], list[str]]:
    """Each segment's ``contract_months``: the largest term most annual churns fall on.

    Returns
    -------
    (ndarray, list of Estimate, list of str)
        The term by segment (12 where it cannot be told), the estimates, notes.
    """
    terms = np.full(len(p.segments), 12, dtype=int)
    rows = alive_rows(p)
    ann = rows["churn"] & p.annual[rows["acc"]]
    ten, seg = rows["tenure"][ann], p.seg[rows["acc"][ann]]
    out: list[Estimate] = []
    notes: list[str] = []
    for s in range(len(p.segments)):
        t = ten[seg == s]
        if t.size < 10:
            continue
        best = 1
        for c in range(2, 61):
            if np.mean(t % c == 0) >= 0.8:
                best = c
        if best == 1:
            notes.append(f"{p.segments[s]}: annual contracts churn at any month; "
                         "contract_months kept at 12")
            continue
        terms[s] = best
        out.append(Estimate(_seg_path(p, s, "contract_months"), float(best), math.nan,
                            "largest term that 80% of annual churns fall on a multiple of",
                            int(t.size)))
    return terms, out, notes


def accounts_and_acquisition(p: Panel, dataset: Dataset) -> tuple[list[Estimate], dict[str, Any]]:
    """Segment attributes and acquisition (module docstring).

    Returns
    -------
    (list of Estimate, dict)
        The estimates and ``{"segment_mix": {name: share}}``.
    """
    import statsmodels.api as sm

    fp = p.first_paid()
    won = ~p.paid[:, 0]
    base = won if won.sum() >= 10 else np.ones(won.size, dtype=bool)
    how = _SHARE if base is won else "share of all customers"
    out: list[Estimate] = []
    S = len(p.segments)  # noqa: N806
    n_base = int(base.sum())
    mix = {}
    for s in range(S):
        k = int(np.sum(base & (p.seg == s)))
        share, se = _binomial(k, n_base)
        mix[p.segments[s]] = share
        out.append(Estimate(_seg_path(p, s, "share"), share, se, how, n_base))
    emp = pd.to_numeric(p.accounts["employees"], errors="coerce").to_numpy(dtype=float) \
        if "employees" in p.accounts.columns else np.full(len(p.ids), np.nan)
    first_seats = p.seats[np.arange(len(fp)), fp]
    first_mrr = p.mrr[np.arange(len(fp)), fp]
    for s in range(S):
        sel = base & (p.seg == s)
        e = emp[sel]
        e = e[np.isfinite(e) & (e > 0)]
        if e.size >= 5:
            lg = np.log(e)
            sd = float(np.std(lg, ddof=1))
            med = math.exp(float(lg.mean()))
            out.append(Estimate(_seg_path(p, s, "employees.median"), med,
                                med * sd / math.sqrt(e.size), "exp(mean log employees)",
                                int(e.size)))
            out.append(Estimate(_seg_path(p, s, "employees.sigma"), max(sd, 0.0),
                                sd / math.sqrt(2 * (e.size - 1)), "sd of log employees",
                                int(e.size)))
        ok = sel & np.isfinite(first_seats) & (first_seats > 0) & np.isfinite(emp) & (emp > 0)
        if ok.sum() >= 5:
            res = sm.OLS(first_seats[ok], emp[ok]).fit(cov_type="HC1")
            out.append(Estimate(_seg_path(p, s, "seat_share"), float(res.params[0]),
                                float(res.bse[0]), "OLS of first-month seats on employees "
                                "(through 0)", int(ok.sum())))
            price = first_mrr[ok] / first_seats[ok]
            out.append(Estimate(_seg_path(p, s, "price_per_seat"),
                                float(first_mrr[ok].sum() / first_seats[ok].sum()),
                                float(np.std(price, ddof=1) / math.sqrt(ok.sum())),
                                "first-month MRR / seats", int(ok.sum())))
        n = int(sel.sum())
        if n >= 5 and "contract" in p.accounts.columns:
            share, se = _binomial(float(np.sum(p.annual[sel])), n)
            out.append(Estimate(_seg_path(p, s, "annual_share"), share, se,
                                "share of annual contracts (" + how + ")", n))
    months = p.n_months - 1
    new = int(np.sum(won & (fp >= 1)))
    if months >= 1:
        rate = new / months
        out.append(Estimate("acquisition.new_logos_per_month", rate,
                            math.sqrt(max(rate, 0.0) / months),
                            "customers whose first paid month is inside the data / months",
                            months))
    trials = dataset.trials
    if trials is not None and len(trials) >= 10 and "converted" in trials.columns:
        conv = trials["converted"].astype(str).str.lower().isin(["true", "1", "yes"])
        share, se = _binomial(float(conv.sum()), float(len(conv)))
        if share > 0:
            out.append(Estimate("acquisition.trial_conversion", share, se,
                                "share of trials converted", int(len(conv))))
    return out, {"segment_mix": mix}


def support_and_surveys(p: Panel, dataset: Dataset, health: np.ndarray | None
                        ) -> list[Estimate]:
    """Tickets, first-contact resolution, survey answers and usage activity."""
    out: list[Estimate] = []
    alive = np.isfinite(p.seats) & (p.seats > 0)
    if p.has_tickets and alive.any():
        for s in range(len(p.segments)):
            rows = alive & (p.seg == s)[:, None]
            exposure = float(p.seats[rows].sum())
            k = float(p.tickets[rows].sum())
            if exposure > 0 and k > 0:
                out.append(Estimate(_seg_path(p, s, "tickets_per_seat"), k / exposure,
                                    math.sqrt(k) / exposure, "tickets / seat-months",
                                    int(rows.sum())))
    tk = dataset.tickets
    if tk is not None and len(tk) and "contacts_to_resolve" in tk.columns:
        contacts = pd.to_numeric(tk["contacts_to_resolve"], errors="coerce").dropna()
        contacts = contacts[contacts >= 1]
        if len(contacts):
            share, se = _binomial(float((contacts == 1).sum()), float(len(contacts)))
            out.append(Estimate("behaviour.support.fcr", share, se,
                                "share of tickets solved at the first contact", len(contacts)))
            if "handle_minutes" in tk.columns:
                hm = pd.to_numeric(tk["handle_minutes"], errors="coerce")
                ok = hm.notna() & tk["contacts_to_resolve"].notna()
                per = hm[ok] / pd.to_numeric(tk.loc[ok, "contacts_to_resolve"])
                if ok.sum() >= 10:
                    out.append(Estimate("behaviour.support.handle_minutes",
                                        float(hm[ok].sum() / pd.to_numeric(
                                            tk.loc[ok, "contacts_to_resolve"]).sum()),
                                        float(per.std(ddof=1) / math.sqrt(ok.sum())),
                                        "handle minutes per contact", int(ok.sum())))
    out += _surveys(p, dataset, health, alive)
    out += _usage_activity(dataset)
    return out


def _surveys(p: Panel, dataset: Dataset, health: np.ndarray | None, alive: np.ndarray
             ) -> list[Estimate]:

    out: list[Estimate] = []
    rows, months, score = p.nps
    exposure = float(alive.sum()) if p.has_usage else float(p.paid.sum())
    if exposure > 0 and rows.size:
        rate, se = _binomial(float(rows.size), exposure)
        out.append(Estimate("behaviour.surveys.nps_response_rate", rate, se,
                            "NPS answers / account-months", int(exposure)))
    if health is not None and rows.size >= 30:
        prev = np.where(months >= 1, months - 1, 0)
        x = (health[rows, prev] - 50.0) / 10.0
        ok = (months >= 1) & np.isfinite(x)
        if ok.sum() >= 30:
            out += _nps_model(score[ok], x[ok], p.seg[rows][ok])
    sv, tk = dataset.surveys, dataset.tickets
    if sv is not None and tk is not None and len(tk):
        k = float((sv["kind"].astype(str) == "csat").sum())
        if k:
            rate, se = _binomial(k, float(len(tk)))
            out.append(Estimate("behaviour.surveys.csat_response_rate", min(rate, 1.0), se,
                                "CSAT answers / tickets", int(len(tk))))
    return out


def _nps_model(score: np.ndarray, x: np.ndarray, seg: np.ndarray) -> list[Estimate]:
    """NPS intercept, health slope and noise from an ordered probit (interval regression).

    The engine draws ``clip(round(a + g x + s Z), 0, 10)``: score ``<= k`` exactly when
    ``Z < (k + 0.5 - a - g x) / s``, an ordered probit (statsmodels ``OrderedModel``)
    with coefficient ``g / s`` and thresholds ``c_k = (k + 0.5 - a) / s``. The
    thresholds between consecutive scores lie on a line in ``k + 0.5`` of slope
    ``1 / s`` and intercept ``-a / s`` (least squares); standard errors by the delta
    method. Unlike least squares on the score, rounding and the clip at 0 and 10 do not
    flatten the slope.

    The usage proxy's zero differs between segments by an unknown shift (their
    ``active_share_intercept``, not identified: module :mod:`._panel`), so the model has
    one intercept per segment (dummies ``β_j``: ``a_j = a_0 + s β_j``) and the slope is
    the within-segment one; pooled on one intercept, the segments' shifts (correlated
    with their health) would flatten it. The intercept reported is the answers-weighted
    mean of the ``a_j``: the simulator has one.
    """
    from statsmodels.miscmodels.ordinal_model import OrderedModel
    from statsmodels.tools.numdiff import approx_fprime

    labels = np.unique(score)
    if labels.size < 3:
        return []
    cat = pd.Series(pd.Categorical(score.astype(int), categories=labels.astype(int),
                                   ordered=True))
    present = np.unique(seg)
    dummies = [(seg == j).astype(float) for j in present[1:]]
    weights = np.array([np.mean(seg == j) for j in present])
    model = OrderedModel(cat, np.column_stack([x, *dummies]), distr="probit")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.fit(method="bfgs", disp=0, maxiter=500)
    cuts = labels[:-1] + 0.5
    consecutive = np.diff(labels) == 1
    if consecutive.sum() < 2:
        return []

    def abs_(params: np.ndarray) -> np.ndarray:
        c = model.transform_threshold_params(params)[1:-1][consecutive]
        slope, icept = np.polyfit(cuts[consecutive], c, 1)
        s = 1.0 / slope
        k = len(dummies)
        a = -icept * s + s * np.concatenate([[0.0], params[1:1 + k]])
        return np.array([float(weights @ a), params[0] * s, s])

    values = abs_(np.asarray(res.params))
    jac = approx_fprime(np.asarray(res.params), abs_, centered=True)
    se = np.sqrt(np.maximum(np.diag(jac @ np.asarray(res.cov_params()) @ jac.T), 0.0))
    method = "ordered probit of the NPS score on last month's health (thresholds on a line)"
    n = int(score.size)
    return [Estimate("behaviour.surveys.nps_intercept", float(values[0]), float(se[0]),
                     method, n),
            Estimate("behaviour.surveys.nps_health_slope", float(values[1]), float(se[1]),
                     method, n),
            Estimate("behaviour.surveys.nps_noise_sd", float(values[2]), float(se[2]),
                     method, n)]


def _usage_activity(dataset: Dataset) -> list[Estimate]:
    us = dataset.usage
    out: list[Estimate] = []
    if us is None or not len(us):
        return out
    pairs = (("sessions", "active_users", "sessions_per_user", "sessions / active users"),
             ("minutes", "sessions", "minutes_per_session", "minutes / sessions"),
             ("key_feature_events", "sessions", "key_events_per_session",
              "key-feature events / sessions"))
    for num, den, field, method in pairs:
        if num not in us.columns or den not in us.columns:
            continue
        a = pd.to_numeric(us[num], errors="coerce")
        b = pd.to_numeric(us[den], errors="coerce")
        ok = a.notna() & b.notna() & (b > 0)
        if ok.sum() < 10 or b[ok].sum() <= 0:
            continue
        value = float(a[ok].sum() / b[ok].sum())
        ratio = a[ok] / b[ok]
        out.append(Estimate(f"behaviour.usage.{field}", value,
                            float(ratio.std(ddof=1) / math.sqrt(ok.sum())), method,
                            int(ok.sum())))
    return out


# ------------------------------------------------------------------------------ tiers
def _threshold(hi: np.ndarray, lo: np.ndarray) -> tuple[float, float]:
    """The ARR cut that best separates ``hi`` (above) from ``lo`` (below), and accuracy."""
    values = np.unique(np.r_[hi, lo])
    best, acc = float(values.min()), -1.0
    n = hi.size + lo.size
    for v in values:
        a = (np.sum(hi >= v) + np.sum(lo < v)) / n
        if a > acc:
            best, acc = float(v), float(a)
    return float(f"{best:.2g}"), acc


def tier_specs(
    p: Panel, dataset: Dataset, tiers: str | Sequence[Any] | None
) -> tuple[list[dict[str, Any]], list[str], bool]:
    """The scenario's tiers (YAML data), notes, and whether the rules place accounts.

    Parameters
    ----------
    p : Panel
    dataset : Dataset
    tiers : str, sequence or None
        None: the accounts' ``tier`` column when present, else one tier ``all``; a
        string: the accounts column of tier labels; a sequence: tier specifications
        (mappings or :class:`~cs_sim.sim.scenario.Tier`), used as given (the rules
        then place every account: ``retier_at_start``).
    """
    if tiers is not None and not isinstance(tiers, str):
        specs = [t.model_dump(mode="json") if hasattr(t, "model_dump") else dict(t)
                 for t in tiers]
        return specs, ["tiers: as given; their rules place every account"], True
    column = tiers or ("tier" if "tier" in p.accounts.columns else None)
    if column is None:
        return [{"name": "all", "team": {"headcount": 0}}], [], False
    if column not in p.accounts.columns:
        from cs_sim.errors import CalibrationError

        raise CalibrationError(f"{p.source}: accounts has no column {column!r} of tier labels "
                               f"(columns: {', '.join(map(str, p.accounts.columns))})")
    last = p.paid.shape[1] - 1
    now = p.paid[:, last]
    labels = p.accounts[column].astype("string").fillna("").to_numpy(dtype=object)
    arr = 12.0 * p.mrr[:, last]
    names = sorted({str(v) for v in labels[now] if v})
    if not names:
        return [{"name": "all", "team": {"headcount": 0}}], [], False
    order = sorted(names, key=lambda n: -float(np.median(arr[now & (labels == n)])))
    heads = _headcounts(p, labels, order)
    cost = _cost_per_csm(dataset, sum(heads.values()))
    specs: list[dict[str, Any]] = []
    notes: list[str] = []
    for k, name in enumerate(order):
        team: dict[str, Any] = {"headcount": heads[name]}
        if cost is not None:
            team["cost_per_month"] = cost
        spec: dict[str, Any] = {"name": name, "team": team}
        if k < len(order) - 1:
            above = now & np.isin(labels, order[: k + 1])
            below = now & np.isin(labels, order[k + 1:])
            cut, acc = _threshold(arr[above & (labels == name)], arr[below])
            spec["rule"] = [{"attribute": "arr", "op": ">=", "value": cut}]
            if acc < 0.8:
                notes.append(f"tier {name}: an ARR threshold reproduces only {acc:.0%} of "
                             "its labels; review the rule")
        specs.append(spec)
    return specs, notes, False


def _headcounts(p: Panel, labels: np.ndarray, order: list[str]) -> dict[str, int]:
    if "csm_id" not in p.accounts.columns:
        return {n: 0 for n in order}
    csm = p.accounts["csm_id"].astype("string")
    return {n: int(csm[labels == n].dropna().nunique()) for n in order}


def _cost_per_csm(dataset: Dataset, headcount: int) -> float | None:
    costs = dataset.costs
    if costs is None or not len(costs) or headcount <= 0 or "cs_cost" not in costs.columns:
        return None
    mean = float(pd.to_numeric(costs["cs_cost"], errors="coerce").mean())
    return round(mean / headcount, 2) if math.isfinite(mean) and mean > 0 else None


def other_cost(dataset: Dataset) -> float | None:
    """Mean monthly ``tooling_cost`` of the costs table (the scenario's other cost)."""
    costs = dataset.costs
    if costs is None or "tooling_cost" not in costs.columns or not len(costs):
        return None
    value = float(pd.to_numeric(costs["tooling_cost"], errors="coerce").mean())
    return value if math.isfinite(value) and value >= 0 else None
