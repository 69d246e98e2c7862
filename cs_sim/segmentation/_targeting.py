"""Targeting and positioning: which segments to go after, and how to serve each.

:func:`attractiveness` scores segments on revenue, growth, risk and cost to serve;
:func:`service_model` gives each segment a service tier (high-, low- or tech-touch), the
coverage ratio of that tier and the CSM headcount it implies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cs_sim.errors import CsSimError
from cs_sim.segmentation._segments import MrrPanel, segment_accounts
from cs_sim.segmentation._tradeoffs import segment_outcomes

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.io import Dataset

__all__ = [
    "ATTRACTIVENESS_WEIGHTS",
    "COVERAGE",
    "TIERS",
    "attractiveness",
    "attractiveness_parts",
    "service_model",
]

#: service tiers, most personal first
TIERS = ("high_touch", "low_touch", "tech_touch")
#: default accounts per CSM of each tier (named CSM; pooled CSMs; one-to-many programmes)
COVERAGE: dict[str, float] = {"high_touch": 40.0, "low_touch": 200.0, "tech_touch": 1000.0}
#: default weights of the attractiveness score
ATTRACTIVENESS_WEIGHTS: dict[str, float] = {
    "revenue": 0.35, "growth": 0.25, "risk": 0.25, "cost_to_serve": 0.15,
}
#: a segment is high-touch when its ARPA is at least this multiple of the company's ARPA,
#: low-touch from the second multiple, tech-touch below
TIER_ARPA_MULTIPLES = (1.5, 0.5)

ATTRACTIVENESS_UNITS = {
    "accounts": "count", "revenue": "money", "revenue_share": "pct", "arpa": "money",
    "growth": "pct", "risk": "pct", "cost_to_serve": "money", "cost_share": "pct",
    "score": "score", "priority": "count",
}
SERVICE_UNITS = {
    "accounts": "count", "mrr": "money", "arpa": "money", "coverage_ratio": "count",
    "csm_headcount": "number", "arr_per_csm": "money", "current_accounts_per_csm": "number",
}


def _window(panel: MrrPanel, at: Any, months: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    end = panel.month(at)
    first = panel.months[0]
    start = max(first, end - pd.DateOffset(months=months))
    if start >= end:
        raise CsSimError(
            f"the mrr data end at {end:%Y-%m}, leaving no months before it to measure growth "
            "and churn; fix: use a dataset with at least two months"
        )
    return start, end


def _current(dataset: Dataset, labels: pd.Series, panel: MrrPanel,
             end: pd.Timestamp) -> pd.DataFrame:
    """Paying accounts, MRR and ARPA per segment in ``end`` (:func:`cs_sim.kpis.arpa`)."""
    from cs_sim.kpis import arpa, attach

    frame = pd.DataFrame({"account_id": labels.index, "_segment": labels.astype(str).to_numpy()})
    mrr = dataset.mrr[dataset.mrr["account_id"].isin(labels.index)]
    month = pd.to_datetime(mrr["month"]).dt.to_period("M").dt.to_timestamp()
    at_end = attach(mrr[(month == end).to_numpy()], frame, "_segment")
    out = arpa(at_end, by="_segment")
    out = out.rename(columns={"_segment": "segment", "active_accounts": "accounts"})
    return out[["segment", "accounts", "mrr", "arpa"]].set_index("segment")


def _order(labels: pd.Series) -> list[str]:
    if isinstance(labels.dtype, pd.CategoricalDtype):
        return [str(c) for c in labels.cat.categories]
    return sorted(labels.astype(str).unique())


def _minmax(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    v = values.astype(float)
    lo, hi = v.min(), v.max()
    if not np.isfinite(lo) or hi == lo:
        out = pd.Series(np.where(v.notna(), 1.0, np.nan), index=v.index)
    else:
        out = (v - lo) / (hi - lo)
    return out if higher_is_better else 1 - out


def attractiveness(
    dataset: Dataset,
    by: str,
    *,
    at: Any = None,
    months: int = 12,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """How attractive each segment is: revenue, growth, risk and cost to serve.

    Revenue is the segment's MRR in the reference month ``at`` (and its share); growth
    is its net revenue retention and risk its logo churn over the ``months`` before, for
    the accounts paying at the start of that window (:func:`cs_sim.kpis.revenue_retention`);
    the cost to serve is per account and month (support and CS cost shared out over
    tickets and interactions; NaN without costs) and ``cost_share`` that cost over ARPA.
    Each criterion is scaled 0-1 across segments (min-max; risk and cost reversed) and
    ``score = 100 x`` their weighted mean (weights of missing criteria are shared out).

    Parameters
    ----------
    dataset : cs_sim.io.Dataset
    by : str
        A segmentation (:func:`segment_accounts`).
    at : str or pandas.Timestamp, optional
        Reference month (the last month of the mrr data by default).
    months : int, default 12
        Length of the window growth and risk are measured over.
    weights : mapping, optional
        ``revenue, growth, risk, cost_to_serve`` weights (default
        :data:`ATTRACTIVENESS_WEIGHTS`).

    Returns
    -------
    pandas.DataFrame
        Index ``segment``: ``accounts, revenue`` (MRR in ``at``), ``revenue_share, arpa,
        growth, risk, cost_to_serve,
        cost_share, score, priority`` (1 = most attractive). Shares are fractions.
    """
    w = dict(ATTRACTIVENESS_WEIGHTS if weights is None else weights)
    unknown = sorted(set(w) - set(ATTRACTIVENESS_WEIGHTS))
    if unknown:
        raise CsSimError(f"weights: unknown criteria {', '.join(unknown)}; use "
                         f"{', '.join(ATTRACTIVENESS_WEIGHTS)}")
    panel = MrrPanel.of(dataset)
    start, end = _window(panel, at, months)
    labels_end = segment_accounts(dataset, by, at=end, panel=panel)
    labels_start = segment_accounts(dataset, by, at=start, panel=panel)
    current = _current(dataset, labels_end, panel, end)
    past = segment_outcomes(dataset, labels_start, start, end, panel=panel).set_index("segment")
    order = [s for s in _order(labels_end) if s in current.index or s in past.index]
    out = pd.DataFrame(index=pd.Index(order, name="segment"))
    out["accounts"] = current["accounts"].reindex(out.index).fillna(0).astype(np.int64)
    out["revenue"] = current["mrr"].reindex(out.index).fillna(0.0)
    total = out["revenue"].sum()
    out["revenue_share"] = out["revenue"] / total if total > 0 else np.nan
    out["arpa"] = current["arpa"].reindex(out.index)
    out["growth"] = past["nrr"].reindex(out.index)
    out["risk"] = past["logo_churn_rate"].reindex(out.index)
    out["cost_to_serve"] = past["cost_to_serve"].reindex(out.index)
    out["cost_share"] = out["cost_to_serve"] / out["arpa"]
    num = pd.Series(0.0, index=out.index)
    den = pd.Series(0.0, index=out.index)
    for key, scaled in _scaled(out).items():
        weight = float(w.get(key, 0.0))
        num += weight * scaled.fillna(0.0)
        den += weight * scaled.notna()
    out["score"] = 100 * num / den.where(den > 0)
    out["priority"] = out["score"].rank(ascending=False, method="min").astype("Int64")
    return out


def _scaled(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """Each criterion scaled 0-1 across segments (risk and cost reversed)."""
    return {
        "revenue": _minmax(frame["revenue"]), "growth": _minmax(frame["growth"]),
        "risk": _minmax(frame["risk"], higher_is_better=False),
        "cost_to_serve": _minmax(frame["cost_share"], higher_is_better=False),
    }


def attractiveness_parts(attract: pd.DataFrame,
                         weights: Mapping[str, float] | None = None) -> pd.DataFrame:
    """The points each criterion gives a segment's attractiveness score.

    With :math:`s_{k}` criterion *k* scaled 0-1 across segments and :math:`w_k` its
    weight, criterion *k* gives ``100 x w_k x s_k / sum(w_j)`` points, the sum running
    over the criteria the segment has a value for; a row's points add up to its
    ``score`` in :func:`attractiveness`.

    Parameters
    ----------
    attract : pandas.DataFrame
        :func:`attractiveness` (``revenue, growth, risk, cost_share``).
    weights : mapping, optional
        As given to :func:`attractiveness` (default :data:`ATTRACTIVENESS_WEIGHTS`).

    Returns
    -------
    pandas.DataFrame
        Index segment; ``revenue, growth, risk, cost_to_serve`` (points; NaN for a
        criterion without a value).
    """
    w = dict(ATTRACTIVENESS_WEIGHTS if weights is None else weights)
    scaled = _scaled(attract)
    den = sum(float(w.get(k, 0.0)) * v.notna() for k, v in scaled.items())
    out = pd.DataFrame({k: 100 * float(w.get(k, 0.0)) * v / den.where(den > 0)
                        for k, v in scaled.items()}, index=attract.index)
    return out


def _tier_of(arpa: float, company_arpa: float) -> str:
    if not np.isfinite(arpa) or not np.isfinite(company_arpa) or company_arpa <= 0:
        return "tech_touch"
    high, low = TIER_ARPA_MULTIPLES
    if arpa >= high * company_arpa:
        return "high_touch"
    return "low_touch" if arpa >= low * company_arpa else "tech_touch"


def service_model(
    dataset: Dataset,
    by: str,
    *,
    tiers: Mapping[str, str] | None = None,
    coverage: Mapping[str, float] | None = None,
    at: Any = None,
) -> pd.DataFrame:
    """The service model of each segment: its tier, coverage ratio and CSM headcount.

    By default a segment is **high-touch** (named CSM) when its ARPA is at least 1.5x the
    company's, **low-touch** (pooled CSMs) from 0.5x, and **tech-touch** (automated,
    one-to-many) below. ``csm_headcount = accounts / coverage_ratio`` (full-time
    equivalents) and ``arr_per_csm = 12 x MRR / csm_headcount``. Where accounts carry a
    ``csm_id``, ``current_accounts_per_csm`` shows today's coverage for comparison.

    Parameters
    ----------
    dataset : cs_sim.io.Dataset
    by : str
        A segmentation (:func:`segment_accounts`).
    tiers : mapping of segment to tier, optional
        Tiers to use instead of the rule (segments not named keep the rule's tier).
    coverage : mapping of tier to accounts per CSM, optional
        Overrides of :data:`COVERAGE`.
    at : str or pandas.Timestamp, optional
        Reference month (the last month of the mrr data by default).

    Returns
    -------
    pandas.DataFrame
        Index ``segment``: ``tier, accounts, mrr, arpa, coverage_ratio, csm_headcount,
        arr_per_csm, current_accounts_per_csm``.
    """
    cover = {**COVERAGE, **dict(coverage or {})}
    bad = [t for t in [*(tiers or {}).values(), *cover] if t not in TIERS]
    if bad:
        raise CsSimError(f"unknown service tier {bad[0]!r}; use one of {', '.join(TIERS)}")
    if any(not v > 0 for v in cover.values()):
        raise CsSimError("coverage: accounts per CSM must be positive numbers")
    panel = MrrPanel.of(dataset)
    end = panel.month(at)
    labels = segment_accounts(dataset, by, at=end, panel=panel)
    current = _current(dataset, labels, panel, end)
    company = current["mrr"].sum() / max(current["accounts"].sum(), 1)
    out = pd.DataFrame(index=pd.Index([s for s in _order(labels) if s in current.index],
                                      name="segment"))
    out["tier"] = [(tiers or {}).get(s) or _tier_of(current.loc[s, "arpa"], company)
                   for s in out.index]
    out["accounts"] = current["accounts"].reindex(out.index).astype(np.int64)
    out["mrr"] = current["mrr"].reindex(out.index)
    out["arpa"] = current["arpa"].reindex(out.index)
    out["coverage_ratio"] = out["tier"].map(cover).astype(float)
    out["csm_headcount"] = out["accounts"] / out["coverage_ratio"]
    out["arr_per_csm"] = 12 * out["mrr"] / out["csm_headcount"].where(out["csm_headcount"] > 0)
    csm = dataset.accounts.set_index("account_id")["csm_id"]
    paying = panel.at(end)
    ids = paying.index[paying > 0]
    held = pd.DataFrame({"segment": labels.reindex(ids).astype(str), "csm": csm.reindex(ids)})
    held = held[held["csm"].notna()]
    per = held.groupby("segment").agg(n=("csm", "size"), csms=("csm", "nunique"))
    out["current_accounts_per_csm"] = (per["n"] / per["csms"]).reindex(out.index)
    return out
