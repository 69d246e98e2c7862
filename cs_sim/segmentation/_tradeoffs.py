"""Segmentation trade-offs: which way of cutting the customer base is worth running.

:func:`compare_segmentations` puts candidate segmentations side by side on what makes a
segmentation useful and what makes it costly. The data are split in time: each account
paying at the end of the first part (month ``t0``) gets its segment from what was known
then, and the outcomes are measured afterwards, up to the last month ``T``:

- **size**: number of segments and accounts in the smallest (small segments are noisy
  and rarely worth a playbook of their own);
- **explained variation** in logo churn (``churned`` = paying at t0, not at T) and in net
  revenue retention (each account's MRR at T / MRR at t0, capped at 3): eta-squared, the
  R-squared of a one-way analysis of variance, from a statsmodels OLS of the outcome on
  the segment dummies (its adjusted R-squared enters the score, so that more segments do
  not look better by chance);
- **statistically real**: the chi-square test of independence of segment and churn
  (:func:`scipy.stats.chi2_contingency`) and the ANOVA F-test of NRR; ``p_value`` is the
  smaller of the two, doubled (Bonferroni: two outcomes tested);
- **stability over time**: the share of accounts still paying at T that are still in the
  same segment at T, and the agreement (Kendall's tau) of the segments' churn rates
  between the first and the second half of the outcome period;
- **cost to serve**: per account and month, cheapest and costliest segment (support and
  CS cost shared out over tickets and interactions; needs costs).

The score ranks candidates: ``mean(adjusted R2 of churn, adjusted R2 of NRR, floored at
0) x membership stability`` (halved when the churn ranking reverses), only for
candidates whose smallest segment has at least ``min_size`` accounts and whose
differences are significant at ``alpha`` (``p_value``); others rank below them. It is shown as an
index, the best candidate = 100.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cs_sim.format import (
    Table,
    fmt,
    html_escaped,
    style_frame,
    text_table,
    to_jsonable,
    write_files,
)
from cs_sim.segmentation._segments import (
    DERIVED,
    MrrPanel,
    _behaviour,
    account_costs,
    behaviour_features,
    candidate_names,
    segment_accounts,
    segmentation_label,
    shown_path,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from cs_sim.io import Dataset

__all__ = ["SegmentationTradeoffs", "compare_segmentations", "segment_outcomes"]

#: units of the trade-off table's columns (cs_sim.format)
TABLE_UNITS = {
    "n_segments": "count", "min_size": "count", "churn_explained": "pct",
    "nrr_explained": "pct", "churn_p_value": "pvalue", "nrr_p_value": "pvalue",
    "p_value": "pvalue",
    "stability": "pct", "rank_agreement": "ratio", "cost_to_serve_min": "money",
    "cost_to_serve_max": "money", "cost_to_serve": "money", "score": "score",
    "eligible": "flag",
}
#: units of the per-segment outcome table
SEGMENT_UNITS = {"accounts": "count", "start_mrr": "money", "logo_churn_rate": "pct",
                 "nrr": "pct", "cost_to_serve": "money"}
#: headings of the per-segment outcome table in notebooks
SEGMENT_HEADINGS = {"start_mrr": "MRR at the start", "logo_churn_rate": "logo churn",
                    "nrr": "NRR", "cost_to_serve": "cost to serve a month"}
#: columns shown to people, and their headings
_SHOWN = {"n_segments": "segments", "min_size": "smallest", "churn_explained": "churn explained",
          "nrr_explained": "NRR explained", "churn_p_value": "churn p", "nrr_p_value": "NRR p",
          "stability": "same segment later", "rank_agreement": "churn rank agreement",
          "cost_to_serve_min": "cost/account low", "cost_to_serve_max": "cost/account high",
          "score": "score", "eligible": "passes checks"}
_SHOWN_UNITS = {_SHOWN[k]: u for k, u in TABLE_UNITS.items() if k in _SHOWN}


@dataclass(frozen=True, repr=False)
class SegmentationTradeoffs:
    """Candidate segmentations side by side, and the one recommended (a result object).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per candidate (index ``candidate``), best first: ``label, n_segments,
        min_size, churn_explained, nrr_explained, churn_p_value, nrr_p_value, p_value,
        stability,
        rank_agreement, cost_to_serve_min, cost_to_serve_max, cost_to_serve`` (the gap
        between them), ``score`` (best = 100), ``eligible``, ``rank`` and ``note``. Shares
        are fractions.
    recommended : str or None
        The candidate ranked first (None when no candidate could be assessed).
    reason : str
        Why, in plain words.
    segments : pandas.DataFrame
        Per candidate and segment: ``accounts`` at t0, ``start_mrr``, ``logo_churn_rate``
        and ``nrr`` from t0 to T (:func:`cs_sim.kpis.revenue_retention`), ``cost_to_serve``
        per account and month.
    t0, end : pandas.Timestamp or None
        The month segments are assigned at and the last month of the outcomes.
    unavailable : dict of str to str
        What could not be assessed -> why.
    source : str or None
        The dataset folder.
    """

    table: pd.DataFrame
    recommended: str | None
    reason: str
    segments: pd.DataFrame
    t0: pd.Timestamp | None
    end: pd.Timestamp | None
    unavailable: dict[str, str] = field(default_factory=dict)
    source: str | None = None

    def _title(self) -> str:
        window = (f": segments at {fmt(self.t0, 'month')}, outcomes to {fmt(self.end, 'month')}"
                  if self.t0 is not None else "")
        return f"Segmentation trade-offs of {shown_path(self.source)}{window}"

    def to_frame(self) -> pd.DataFrame:
        """The trade-off table (raw numbers), best candidate first."""
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary: ``recommended``, ``reason``, ``table``, ``segments``..."""
        return to_jsonable({
            "source": self.source, "t0": self.t0, "end": self.end,
            "recommended": self.recommended, "reason": self.reason,
            "table": self.table.reset_index().to_dict("records"),
            "segments": self.segments.to_dict("records"),
            "unavailable": dict(self.unavailable),
        })

    def _shown(self) -> pd.DataFrame:
        shown = self.table.set_index("label")[list(_SHOWN)].rename(columns=_SHOWN)
        shown.index.name = None
        return shown

    def to_text(self) -> str:
        """Plain-text rendering: the table, the recommendation and what was not assessed."""
        lines = [self._title(), "", text_table(self._shown(), _SHOWN_UNITS), "",
                 f"Recommendation: {self.reason}"]
        if self.unavailable:
            lines += ["", "Not available:"]
            lines += [f"  - {what}: {why}" for what, why in self.unavailable.items()]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        from html import escape

        table = style_frame(html_escaped(self._shown()), _SHOWN_UNITS,
                            caption=escape(self._title())).to_html()

        extra = "".join(f"<li>{escape(k)}: {escape(v)}</li>" for k, v in self.unavailable.items())
        return (table + f"<p><b>Recommendation:</b> {escape(self.reason)}</p>"
                + (f"<p>Not available:</p><ul>{extra}</ul>" if extra else ""))

    def __repr__(self) -> str:
        return (f"<SegmentationTradeoffs: {len(self.table)} candidates, recommended "
                f"{self.recommended!r}>")

    def view(self, name: str = "table") -> Table:
        """One part of the result as a :class:`cs_sim.format.Table`, for notebooks.

        Parameters
        ----------
        name : str
            ``table`` (the trade-offs), ``segments`` (the recommended segmentation's
            segments: accounts, churn, NRR, cost to serve), ``recommendation`` or
            ``unavailable``.

        Returns
        -------
        cs_sim.format.Table
        """
        if name == "table":
            return Table(self._shown(), _SHOWN_UNITS, caption=self._title())
        if name == "segments":
            frame = (self.segments_of().set_index("segment") if self.recommended
                     else pd.DataFrame())
            label = segmentation_label(self.recommended) if self.recommended else "none"
            return Table(frame.rename(columns=SEGMENT_HEADINGS),
                         {SEGMENT_HEADINGS.get(k, k): u for k, u in SEGMENT_UNITS.items()},
                         caption=(
                f"Segments of {label}: accounts and MRR at {fmt(self.t0, 'month')}, logo "
                f"churn and NRR up to {fmt(self.end, 'month')}, cost to serve per account "
                "and month"))
        if name == "recommendation":
            return Table(pd.DataFrame(), caption="Recommendation", note=self.reason)
        if name == "unavailable":
            frame = pd.DataFrame({"why": list(self.unavailable.values())},
                                 index=pd.Index(list(self.unavailable), name="analysis"))
            return Table(frame, caption="Not available with this dataset",
                         note=None if len(frame) else "Every candidate could be assessed.")
        raise ValueError(f"unknown view {name!r}; use table, segments, recommendation or "
                         "unavailable")

    def segments_of(self, candidate: str | None = None) -> pd.DataFrame:
        """The per-segment outcomes of one candidate (the recommended one by default)."""
        name = candidate or self.recommended
        return self.segments[self.segments["candidate"] == name].drop(columns="candidate")

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write ``segmentation.json``, ``segmentation.txt`` and the tables as CSV."""
        return write_files(out_dir, {
            "segmentation.json": json.dumps(self.to_dict(), indent=2) + "\n",
            "segmentation.txt": self.to_text() + "\n",
            "segmentation_tradeoffs.csv": self.table.to_csv(),
            "segmentation_segments.csv": self.segments.to_csv(index=False),
        })

    def plot(self, *, ax: Axes | None = None) -> Axes:
        """Bar chart of the variation in churn and NRR each candidate explains."""
        from cs_sim.plotting import plot_segmentation_tradeoffs

        return plot_segmentation_tradeoffs(self.table, ax=ax)

    def plot_segments(self, candidate: str | None = None) -> Figure | Axes:
        """Each segment's logo churn, NRR and cost to serve (the recommended candidate's by
        default), one panel of bars each; the dashed line is the whole cohort's figure."""
        from cs_sim.plotting import plot_message, segment_bar_panels

        name = candidate or self.recommended
        frame = self.segments_of(name).set_index("segment") if name else pd.DataFrame()
        if not len(frame):
            return plot_message("No segmentation could be assessed on this dataset.")
        start = frame["start_mrr"].sum()
        ends = frame["nrr"] * frame["start_mrr"]
        refs = {"logo_churn_rate": float((frame["logo_churn_rate"] * frame["accounts"]).sum()
                                         / frame["accounts"].sum()),
                "nrr": float(ends.sum() / start) if start > 0 else float("nan")}
        window = f"{fmt(self.t0, 'month')} to {fmt(self.end, 'month')}"
        return segment_bar_panels(frame, [
            ("accounts", "Accounts at the start", "count"),
            ("logo_churn_rate", "Logo churn", "pct"),
            ("nrr", "Net revenue retention", "pct"),
            ("cost_to_serve", "Cost to serve a month", "money"),
        ], references=refs, title=f"Segments of {segmentation_label(name)}, {window}")


# --------------------------------------------------------------------------- helpers
def _split(panel: MrrPanel, split: Any) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]:
    """(t0, mid, T): t0 the month before ``split``; by default half the paying
    account-months lie up to t0."""
    months = panel.months
    n = len(months)
    if split is None:
        paying = (panel.matrix > 0).sum().to_numpy(dtype=float)
        cum = np.cumsum(paying) / paying.sum()
        i0 = int(np.argmax(cum >= 0.5))
    else:
        i0 = int(months.get_loc(panel.month(split, "split"))) - 1
    i0 = min(max(i0, 0), n - 3)
    return months[i0], months[(i0 + n - 1) // 2], months[-1]


def _ols(y: pd.Series, labels: pd.Series) -> tuple[float, float, float]:
    """(R2, adjusted R2, F-test p) of ``y`` on the dummies of ``labels``."""
    import statsmodels.api as sm

    x = sm.add_constant(pd.get_dummies(labels, drop_first=True, dtype=float), has_constant="add")
    if y.nunique() < 2:
        return 0.0, 0.0, float("nan")
    fit = sm.OLS(y.to_numpy(dtype=float), x.to_numpy()).fit()
    return float(fit.rsquared), float(fit.rsquared_adj), float(fit.f_pvalue)


def _chi2(labels: pd.Series, churned: pd.Series) -> float:
    from scipy.stats import chi2_contingency

    table = pd.crosstab(labels, churned)
    if table.shape[0] < 2 or table.shape[1] < 2:
        return float("nan")
    return float(chi2_contingency(table.to_numpy())[1])


def _kendall(a: pd.Series, b: pd.Series) -> float:
    from scipy.stats import kendalltau

    both = pd.concat([a, b], axis=1).dropna()
    if len(both) < 2 or both.iloc[:, 0].nunique() < 2 or both.iloc[:, 1].nunique() < 2:
        return float("nan")
    return float(kendalltau(both.iloc[:, 0], both.iloc[:, 1])[0])


def segment_outcomes(
    dataset: Dataset, labels: pd.Series, start: pd.Timestamp, end: pd.Timestamp,
    *, panel: MrrPanel | None = None,
) -> pd.DataFrame:
    """Per segment: accounts, MRR, logo churn and NRR from ``start`` to ``end``, and cost.

    Retention comes from :func:`cs_sim.kpis.revenue_retention` of the mrr table with the
    labels attached (:func:`cs_sim.kpis.attach`); the cost to serve per account and month
    from the activity-based allocation of support and CS cost (NaN without costs).

    Returns
    -------
    pandas.DataFrame
        ``segment, accounts, start_mrr, logo_churn_rate, nrr, cost_to_serve``.
    """
    from cs_sim.kpis import attach, revenue_retention

    panel = panel or MrrPanel.of(dataset)
    name = "_segment"
    frame = pd.DataFrame({"account_id": labels.index, name: labels.astype(str).to_numpy()})
    mrr = attach(dataset.mrr[dataset.mrr["account_id"].isin(labels.index)], frame, name)
    ret = revenue_retention(mrr, start=start, end=end, by=name)
    out = pd.DataFrame({
        "segment": ret[name].astype(str), "accounts": ret["start_accounts"].astype(np.int64),
        "start_mrr": ret["start_mrr"], "logo_churn_rate": ret["logo_churn_rate"],
        "nrr": ret["nrr"],
    })
    costs, _ = account_costs(dataset, panel, start, end)
    if costs is None:
        out["cost_to_serve"] = np.nan
    else:
        lab = labels.astype(str).reindex(costs.index)
        per = costs.groupby(lab.to_numpy()).sum()
        ratio = per["cost"] / per["paying_months"].where(per["paying_months"] > 0)
        out["cost_to_serve"] = out["segment"].map(ratio).to_numpy(dtype=float)
    order = [str(c) for c in (labels.cat.categories if isinstance(labels.dtype, pd.CategoricalDtype)
                              else sorted(labels.astype(str).unique()))]
    out["_o"] = out["segment"].map({s: i for i, s in enumerate(order)})
    out = out[out["accounts"] > 0].sort_values("_o", kind="stable").drop(columns="_o")
    return out.reset_index(drop=True)


def _assess(dataset: Dataset, panel: MrrPanel, name: str, t0: pd.Timestamp,
            mid: pd.Timestamp, end: pd.Timestamp, *, clusters: int | None,
            seed: int) -> tuple[dict[str, Any], pd.DataFrame]:
    m = panel.matrix
    cohort = m.index[m[t0] > 0]
    alive = cohort[m.loc[cohort, end] > 0]
    if name == "behaviour":
        lab0, model = _behaviour(dataset, t0, cohort, clusters=clusters, seed=seed)
        lab_end = (model.assign(behaviour_features(dataset, end).reindex(alive).dropna())
                   if model is not None else pd.Series(dtype=object))
    else:
        lab0 = segment_accounts(dataset, name, at=t0, panel=panel).reindex(cohort)
        lab_end = segment_accounts(dataset, name, at=end, panel=panel).reindex(alive)
    lab0 = lab0.cat.remove_unused_categories()
    text = lab0.astype(str)
    sizes = text.value_counts()
    churned = (m.loc[cohort, end] <= 0).astype(float)
    ratio = (m.loc[cohort, end] / m.loc[cohort, t0]).clip(0, 3)
    row: dict[str, Any] = {"n_segments": len(sizes), "min_size": int(sizes.min())}
    if len(sizes) >= 2:
        row["churn_explained"], row["_churn_adj"], _ = _ols(churned, text)
        row["nrr_explained"], row["_nrr_adj"], row["nrr_p_value"] = _ols(ratio, text)
        row["churn_p_value"] = _chi2(text, churned)
    common = lab_end.dropna().index
    if len(common):
        row["stability"] = float(
            (text.reindex(common) == lab_end.reindex(common).astype(str)).mean()
        )
    first = (m.loc[cohort, mid] <= 0).groupby(text).mean()
    later = cohort[m.loc[cohort, mid] > 0]
    second = (m.loc[later, end] <= 0).groupby(text.reindex(later)).mean()
    big = sizes.index[sizes >= 5]
    row["rank_agreement"] = _kendall(first.reindex(big), second.reindex(big))
    segs = segment_outcomes(dataset, lab0, t0, end, panel=panel)
    costs = segs["cost_to_serve"].dropna()
    if len(costs):
        row["cost_to_serve_min"], row["cost_to_serve_max"] = costs.min(), costs.max()
        row["cost_to_serve"] = costs.max() - costs.min()
    return row, segs


def _score(table: pd.DataFrame, *, min_size: int, alpha: float) -> pd.DataFrame:
    fit = (table["_churn_adj"].clip(lower=0).fillna(0)
           + table["_nrr_adj"].clip(lower=0).fillna(0)) / 2
    stable = table["stability"].fillna(1.0) * np.where(table["rank_agreement"] < 0, 0.5, 1.0)
    raw = fit * stable
    # either outcome, Bonferroni-corrected for testing two
    table["p_value"] = (2 * table[["churn_p_value", "nrr_p_value"]].min(axis=1)).clip(upper=1)
    significant = table["p_value"] < alpha
    table["eligible"] = ((table["n_segments"] >= 2) & (table["min_size"] >= min_size)
                         & significant)
    best = raw.max()
    table["score"] = 100 * raw / best if best > 0 else 0.0
    table["_order"] = raw + table["eligible"].astype(float) * 10.0
    return table


def _note(row: pd.Series, *, min_size: int, alpha: float) -> str:
    notes = []
    if row["n_segments"] < 2:
        notes.append("only one segment")
    elif row["min_size"] < min_size:
        notes.append(f"smallest segment under {min_size} accounts")
    if not row["p_value"] < alpha:
        notes.append(f"differences not significant at {alpha:g}")
    if row["rank_agreement"] < 0:
        notes.append("churn ranking reverses between halves")
    if row["stability"] < 0.7:
        notes.append("many accounts change segment")
    return "; ".join(notes)


def _reason(table: pd.DataFrame, t0: pd.Timestamp, end: pd.Timestamp) -> str:
    top = table.iloc[0]
    if not top["eligible"]:
        return (f"no candidate passes the checks (enough accounts per segment and "
                f"statistically real differences); {top['label']} comes closest "
                f"({top['note']}). Collect more history or use fewer, larger segments.")
    words = (f"{top['label']} ({fmt(top['n_segments'], 'count')} segments, the smallest with "
             f"{fmt(top['min_size'], 'count')} accounts). Segments assigned in "
             f"{fmt(t0, 'month')} explain {fmt(top['churn_explained'], 'pct')} of the variation "
             f"in churn and {fmt(top['nrr_explained'], 'pct')} of that in net revenue retention "
             f"up to {fmt(end, 'month')}")
    if len(table) > 1:
        nxt = table.iloc[1]
        words += (f", more than the runner-up, {nxt['label']} ({fmt(nxt['churn_explained'], 'pct')}"
                  f" and {fmt(nxt['nrr_explained'], 'pct')})")
    shown = fmt(top["p_value"], "pvalue")
    words += (f"; the differences are statistically real (p {shown.replace('<', '< ')})"
              if shown.startswith("<")
              else f"; the differences are statistically real (p = {shown})")
    if top["stability"] == top["stability"]:
        words += f", {fmt(top['stability'], 'pct')} of accounts keep their segment"
    if top["rank_agreement"] == top["rank_agreement"]:
        words += (", and the segments' churn ranking "
                  + ("repeats" if top["rank_agreement"] > 0 else "does not repeat")
                  + " between the two halves of the outcome period")
    if top["cost_to_serve_max"] == top["cost_to_serve_max"]:
        words += (f". Cost to serve runs from {fmt(top['cost_to_serve_min'], 'money')} to "
                  f"{fmt(top['cost_to_serve_max'], 'money')} per account and month across its "
                  "segments")
    return words + (". Account-level churn is mostly chance, so a few percent explained is a "
                    "strong segmentation.")


def compare_segmentations(
    dataset: Dataset,
    *,
    candidates: list[str] | None = None,
    split: Any = None,
    min_size: int = 30,
    alpha: float = 0.05,
    clusters: int | None = None,
    seed: int = 0,
) -> SegmentationTradeoffs:
    """Compare candidate segmentations on fit, significance, size, stability and cost.

    See the module docstring for each measure and the score.

    Parameters
    ----------
    dataset : cs_sim.io.Dataset
    candidates : list of str, optional
        Accounts columns or derived segmentations (:func:`segment_accounts`); by default
        industry, size band, usage band, lifecycle stage, ARR tier, behaviour clusters and
        the dataset's own ``segment`` column when it has one.
    split : str or pandas.Timestamp, optional
        First month of the outcome period (segments are assigned the month before); by
        default the month that halves the paying account-months.
    min_size : int, default 30
        Fewest accounts a segment needs for the segmentation to be recommended.
    alpha : float, default 0.05
        Significance level of the chi-square and F tests.
    clusters : int, optional
        Number of behaviour clusters (chosen by silhouette width when None).
    seed : int, default 0
        Seed of the clustering.

    Returns
    -------
    SegmentationTradeoffs
    """
    panel = MrrPanel.of(dataset)
    names = list(candidates) if candidates is not None else candidate_names(dataset)
    unavailable: dict[str, str] = {}
    if len(panel.months) < 4:
        unavailable["all candidates"] = (
            f"the mrr table covers {len(panel.months)} month(s); comparing segmentations "
            "needs at least 4 (segments first, outcomes after)")
        return SegmentationTradeoffs(pd.DataFrame(columns=["label", *TABLE_UNITS]), None,
                                     "not enough history to compare segmentations",
                                     pd.DataFrame(), None, None, unavailable, dataset.source)
    t0, mid, end = _split(panel, split)
    rows, seg_frames = {}, []
    for name in names:
        need = [t for t in DERIVED.get(name, ()) if getattr(dataset, t) is None]
        if need:
            unavailable[segmentation_label(name)] = (
                f"needs the optional table '{need[0]}' ({need[0]}.csv or {need[0]}.parquet)")
            continue
        row, segs = _assess(dataset, panel, name, t0, mid, end, clusters=clusters, seed=seed)
        rows[name] = row
        seg_frames.append(segs.assign(candidate=name))
    cols = ["n_segments", "min_size", "churn_explained", "nrr_explained", "churn_p_value",
            "nrr_p_value", "stability", "rank_agreement", "cost_to_serve_min",
            "cost_to_serve_max", "cost_to_serve", "_churn_adj", "_nrr_adj"]
    table = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=cols)
    table.index.name = "candidate"
    table.insert(0, "label", [segmentation_label(n) for n in table.index])
    if table["cost_to_serve"].isna().all() and len(table):
        _, why = account_costs(dataset, panel, t0, end)
        if why:
            unavailable["cost to serve"] = why
    table = _score(table, min_size=min_size, alpha=alpha)
    table["note"] = [_note(r, min_size=min_size, alpha=alpha) for _, r in table.iterrows()]
    table = table.sort_values("_order", ascending=False, kind="stable")
    table["rank"] = np.arange(1, len(table) + 1)
    table = table.drop(columns=["_order", "_churn_adj", "_nrr_adj"])
    first = ["label", "n_segments", "min_size", "churn_explained", "nrr_explained",
             "churn_p_value", "nrr_p_value", "p_value"]
    table = table[first + [c for c in table.columns if c not in first]]
    segments = (pd.concat(seg_frames, ignore_index=True) if seg_frames else pd.DataFrame())
    if len(segments):
        segments = segments[["candidate", *[c for c in segments.columns if c != "candidate"]]]
    recommended = str(table.index[0]) if len(table) else None
    reason = (_reason(table, t0, end) if len(table)
              else "no candidate could be assessed")
    if len(table) and table.iloc[0]["eligible"]:
        reason = f"segment by {reason}"
    return SegmentationTradeoffs(table, recommended, reason, segments, t0, end, unavailable,
                                 dataset.source)
