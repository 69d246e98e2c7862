"""The eight parts of the strategy plan, each built from the analyses (see cs_sim.plan).

Every figure here comes from the dataset or from an analysis passed to
:func:`cs_sim.plan.build_plan` (KPI baseline, segmentation, service model, research,
maturity, journey, simulator comparisons); the only fixed content is the service
promise and cadence of each tier and the playbook's list of plays, stated below as
module constants so a team can read (and change) them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cs_sim.format import fmt, format_frame

#: what a customer of each service tier can expect, and what the customer does
EXPECTATIONS: dict[str, tuple[str, str]] = {
    "high_touch": ("a named CSM, a success plan agreed at kick-off, monthly check-ins and a "
                   "quarterly business review",
                   "name an executive sponsor and a project owner, share the outcomes they "
                   "bought for, attend the reviews and roll the product out to the seats "
                   "bought"),
    "low_touch": ("a pooled CSM team, guided onboarding sessions, a check-in every quarter "
                  "and webinars",
                  "name an administrator, complete the onboarding sessions and answer the "
                  "quarterly check-in"),
    "tech_touch": ("self-service onboarding, in-app guides, a monthly product email, the "
                   "community and support",
                   "complete the in-app onboarding, keep an administrator on record and tell "
                   "us through surveys and support what is missing"),
}
#: communication cadence per tier: (channels, touches per account a year, CSM hours each)
CADENCE: dict[str, tuple[str, int, float]] = {
    "high_touch": ("monthly call, quarterly business review", 16, 1.5),
    "low_touch": ("quarterly check-in, webinars, onboarding sessions", 4, 0.75),
    "tech_touch": ("monthly email, in-app messages (automated)", 12, 0.0),
}
#: default KPI targets: KPI -> (change, kind) where kind is "points" (added to a rate)
#: or "relative" (a share of the baseline); capped at the KPI's natural limit
DEFAULT_TARGETS: dict[str, tuple[float, str]] = {
    "grr": (0.02, "points"), "nrr": (0.03, "points"), "logo_churn_rate": (-0.10, "relative"),
    "nps": (5.0, "points"),
}
_TARGET_LIMITS = {"grr": (0.0, 1.0), "nrr": (0.0, math.inf), "logo_churn_rate": (0.0, 1.0),
                  "nps": (-100.0, 100.0)}
_KPI_UNITS = {"grr": "pct", "nrr": "pct", "logo_churn_rate": "pct", "nps": "score"}
_KPI_LABELS = {"grr": "GRR", "nrr": "NRR", "logo_churn_rate": "Logo churn", "nps": "NPS"}
#: which way each target KPI should move ("up": higher is better)
DIRECTIONS = {"grr": "up", "nrr": "up", "logo_churn_rate": "down", "nps": "up"}
#: how table columns are headed in the rendered plan
COLUMN_LABELS = {"mrr": "MRR", "mrr_share": "share of MRR", "nrr": "NRR", "grr": "GRR",
                 "logo_churn_rate": "logo churn", "label": "segmentation",
                 "n_segments": "segments", "min_size": "smallest segment",
                 "churn_explained": "churn variation explained",
                 "nrr_explained": "NRR variation explained", "csm_headcount": "CSMs needed",
                 "ci_low": "90% CI low", "ci_high": "90% CI high", "kpi": "KPI",
                 "candidate": "candidate"}


@dataclass
class Figure:
    """One key figure of a part: the raw value, its unit and its label."""

    name: str
    label: str
    value: Any
    unit: str
    diff: bool = False

    @property
    def shown(self) -> str:
        return str(self.value) if self.unit == "text" else fmt(self.value, self.unit,
                                                                diff=self.diff)


@dataclass
class Table:
    """A table of a part: raw numbers and how each column is shown."""

    title: str
    frame: pd.DataFrame
    units: dict[str, str] = field(default_factory=dict)

    def shown(self) -> pd.DataFrame:
        """Every cell as text (units applied; missing values as 'n/a')."""
        out = format_frame(self.frame, self.units).astype(object)
        return out.where(out.notna(), "n/a").map(str).rename(columns=COLUMN_LABELS)


@dataclass
class Part:
    """One of the plan's eight parts."""

    key: str
    title: str
    intro: str
    paragraphs: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    def add(self, name: str, label: str, value: Any, unit: str, *, diff: bool = False) -> None:
        self.figures.append(Figure(name, label, value, unit, diff))

    def figure(self, name: str) -> Any:
        return next(f.value for f in self.figures if f.name == name)


# ------------------------------------------------------------------------------ context
@dataclass
class Context:
    """What every part reads: the dataset, its segments and the analyses."""

    dataset: Any
    by: str | None
    labels: pd.Series            # account_id -> segment
    baseline: Any                # KpiBaseline, whole company
    seg_kpis: pd.DataFrame       # KPI x segment (see segment_kpis)
    service: pd.DataFrame | None
    research: Any = None
    segmentation: Any = None
    maturity: Any = None
    journey: Any = None
    comparisons: dict[str, pd.DataFrame] = field(default_factory=dict)
    targets: dict[str, Any] = field(default_factory=dict)
    start: pd.Timestamp = pd.Timestamp("2026-01-01")
    period_months: int = 6
    last_month: pd.Timestamp = pd.Timestamp("2025-12-01")

    @property
    def segments(self) -> list[str]:
        return [str(s) for s in pd.unique(self.labels.dropna())]

    def kpi(self, name: str, segment: str = "all") -> float:
        head = self.baseline.headline if segment == "all" else self.seg_kpis
        if name not in head.index or segment not in head.columns:
            return float("nan")
        return float(head.loc[name, segment])

    def names(self, ids: pd.Index | pd.Series) -> list[str]:
        acc = self.dataset.accounts.drop_duplicates("account_id").set_index("account_id")
        col = acc["name"] if "name" in acc else acc.index.to_series()
        return [str(col.get(i, i)) for i in ids]

    def last_mrr(self) -> pd.Series:
        mrr = self.dataset.mrr
        last = mrr[mrr["month"] == self.last_month]
        return last.groupby("account_id")["mrr"].sum().loc[lambda s: s > 0]

    def tier_of(self) -> dict[str, str]:
        if self.service is None or "tier" not in self.service:
            return {}
        return {str(k): str(v) for k, v in self.service["tier"].items()}


def _rate(num: float, den: float) -> float:
    return float(num / den) if den else float("nan")


def segment_kpis(dataset: Any, labels: pd.Series, start: pd.Timestamp, end: pd.Timestamp
                 ) -> pd.DataFrame:
    """Per segment (columns): NRR, GRR, logo churn over ``start``..``end``
    (:func:`cs_sim.kpis.revenue_retention`), seat utilisation in ``end`` and the NPS of
    the answers in the window's months."""
    from cs_sim import kpis

    col = "plan_segment"
    seg = pd.DataFrame({"account_id": labels.index, col: labels.to_numpy()})
    mrr = kpis.attach(dataset.mrr, seg, col).dropna(subset=[col])
    ret = kpis.revenue_retention(mrr, start=start, end=end, by=col).set_index(col)
    out = ret[["nrr", "grr", "logo_churn_rate"]].T.copy()
    if dataset.usage is not None:
        u = kpis.attach(dataset.usage[dataset.usage["month"] == end], seg, col)
        g = u.groupby(col)[["active_users", "seats"]].sum()
        out.loc["seat_utilisation"] = (g["active_users"] / g["seats"].where(g["seats"] > 0))
    if dataset.surveys is not None:
        s = dataset.surveys
        month = pd.to_datetime(s["date"]).dt.to_period("M").dt.to_timestamp()
        s = kpis.attach(s[(s["kind"] == "nps") & (month > start) & (month <= end)], seg, col)
        out.loc["nps"] = s.groupby(col)["score"].apply(
            lambda x: kpis.nps(x.astype(int)).nps if len(x) else float("nan"))
    out.columns = [str(c) for c in out.columns]
    return out.astype(float)


# --------------------------------------------------------------------------- the parts
def segmentation(ctx: Context) -> Part:
    p = Part("segmentation", "Segmentation",
             "Which groups of customers the plan treats differently, and how they compare.")
    mrr = ctx.last_mrr()
    seg = ctx.labels.reindex(mrr.index)
    rows = []
    for s in ctx.segments:
        ids = seg.index[seg.astype(str) == s]
        rows.append({"segment": s, "accounts": len(ids), "mrr": float(mrr[ids].sum()),
                     "mrr_share": _rate(mrr[ids].sum(), mrr.sum()),
                     "nrr": ctx.kpi("nrr", s), "grr": ctx.kpi("grr", s),
                     "logo_churn_rate": ctx.kpi("logo_churn_rate", s)})
    table = pd.DataFrame(rows)
    p.add("segments", "Segments", len(table), "count")
    p.add("paying_accounts", "Paying accounts", len(mrr), "count")
    p.add("mrr", "MRR", float(mrr.sum()), "money")
    by = ctx.by or "one segment (no segmentation given)"
    p.paragraphs.append(f"Customers are segmented by {by}.")
    tr = ctx.segmentation
    if tr is not None and getattr(tr, "recommended", None):
        p.paragraphs.append(f"The segmentation trade-off analysis recommends "
                            f"'{tr.recommended}'. {getattr(tr, 'reason', '')}".strip())
        cols = [c for c in ("label", "n_segments", "min_size", "churn_explained",
                            "nrr_explained", "stability", "rank") if c in tr.table.columns]
        p.tables.append(Table("Candidate segmentations", tr.table[cols].reset_index(),
                              {"n_segments": "count", "min_size": "count",
                               "churn_explained": "pct", "nrr_explained": "pct",
                               "stability": "pct", "rank": "count"}))
    p.tables.append(Table("Segments (MRR of the last month; retention over the baseline "
                          "window)", table,
                          {"accounts": "count", "mrr": "money", "mrr_share": "pct",
                           "nrr": "pct", "grr": "pct", "logo_churn_rate": "pct"}))
    if ctx.research is not None and getattr(ctx.research, "pain_points", None):
        pains = ", ".join(map(str, ctx.research.pain_points[:3]))
        p.paragraphs.append(f"Top pain points raised by detractors (by MRR): {pains}.")
    return p


def orchestration(ctx: Context) -> Part:
    p = Part("orchestration", "Orchestration",
             "What each segment can expect from us, its success plan, and what the customer "
             "does in return.")
    jm = ctx.journey
    ttfv = jm.metric("onboarding", "time_to_first_value_median") if jm is not None else math.nan
    done = jm.metric("onboarding", "onboarding_completion") if jm is not None else math.nan
    if ttfv == ttfv:
        p.add("ttfv", "Time to first value (median)", ttfv, "months")
        p.add("onboarding_completion", "Onboarding completion", done, "pct")
    elif jm is not None:
        p.add("onboarding_survival", "Still paying after onboarding (no usage data for time "
              "to first value)", jm.metric("onboarding", "onboarding_survival"), "pct")
    tiers = ctx.tier_of()
    rows = []
    for s in ctx.segments:
        tier = tiers.get(s, "low_touch")
        expect, duty = EXPECTATIONS.get(tier, EXPECTATIONS["low_touch"])
        use = ctx.kpi("seat_utilisation", s)
        goals = ["agree the outcomes and their measures at kick-off"]
        if ttfv == ttfv:
            goals.append(f"first value within {fmt(max(ttfv, 0) + 1, 'months')}")
        if use == use:
            goals.append(f"seat utilisation from {fmt(use, 'pct')} to "
                         f"{fmt(min(use + 0.05, 1.0), 'pct')}")
        goal = "; ".join(goals)
        rows.append({"segment": s, "tier": tier, "we provide": expect, "success plan": goal,
                     "the customer": duty})
    p.tables.append(Table("Expectations and success plans per segment", pd.DataFrame(rows)))
    p.paragraphs.append("Success plans are agreed at onboarding and reviewed at each check-in "
                        "(see the measurement part for the dates).")
    return p


def interventions(ctx: Context) -> Part:
    p = Part("interventions", "Interventions",
             "The plays: time-based (a cadence), data-based (a metric crosses a threshold) "
             "and trigger-based (an event).")
    ds, mrr = ctx.dataset, ctx.last_mrr()
    seg = ctx.labels
    tiers = ctx.tier_of()
    high = [s for s, t in tiers.items() if t == "high_touch"]
    in_high = mrr.index[seg.reindex(mrr.index).astype(str).isin(high)]
    since = ctx.last_month - pd.DateOffset(months=2)  # the last three months
    reasons: dict[str, list[str]] = {}
    comments: dict[str, str] = {}
    plays = [{"kind": "time", "play": "Quarterly business review", "when": "every quarter",
              "accounts now": len(in_high), "mrr": float(mrr[in_high].sum())}]
    if ctx.journey is not None:
        new = ctx.journey.metric("onboarding", "new_accounts")
        months = max(len(pd.unique(ds.mrr["month"])) - 1, 1)
        plays.append({"kind": "time", "play": "Onboarding programme",
                      "when": "first three months (accounts: new a month)",
                      "accounts now": new / months,
                      "mrr": math.nan})
    if ds.usage is not None:
        from cs_sim.kpis import health_score

        h = health_score(ds.usage, ds.mrr, tickets=ds.tickets, surveys=ds.surveys)
        red = h[(h["month"] == ctx.last_month) & (h["band"] == "red")]["account_id"]
        red = pd.Index(red).intersection(mrr.index)
        p.add("red_accounts", "Accounts with red health", len(red), "count")
        p.add("red_mrr", "MRR of red accounts", float(mrr[red].sum()), "money")
        plays.append({"kind": "data", "play": "Save play: health turns red",
                      "when": "health score below the red band", "accounts now": len(red),
                      "mrr": float(mrr[red].sum())})
        for a in red:
            reasons.setdefault(a, []).append("red health")
    if ds.surveys is not None:
        s = ds.surveys
        det = s[(s["kind"] == "nps") & (s["score"] <= 6) & (pd.to_datetime(s["date"]) >= since)]
        det = det[det["account_id"].isin(mrr.index)].sort_values("date")
        ids = pd.Index(det["account_id"].unique())
        p.add("detractors", "Paying accounts with a detractor answer (last 3 months)",
              len(ids), "count")
        plays.append({"kind": "trigger", "play": "Detractor call-back",
                      "when": "NPS answer 0-6", "accounts now": len(ids),
                      "mrr": float(mrr[ids].sum())})
        for a, c in zip(det["account_id"], det["comment"].fillna(""), strict=True):
            reasons.setdefault(a, []).append("detractor")
            if c:
                comments[a] = str(c)
    if ds.tickets is not None:
        t = ds.tickets
        esc = t[(t["contacts_to_resolve"] >= 3) & (pd.to_datetime(t["opened_at"]) >= since)]
        ids = pd.Index(esc["account_id"].unique()).intersection(mrr.index)
        plays.append({"kind": "trigger", "play": "Escalation review",
                      "when": "a ticket needs 3+ contacts", "accounts now": len(ids),
                      "mrr": float(mrr[ids].sum())})
        for a in ids:
            reasons.setdefault(a, []).append("escalation")
    p.tables.append(Table("Plays and the accounts they reach now", pd.DataFrame(plays),
                          {"accounts now": "count", "mrr": "money"}))
    if reasons:
        ids = pd.Index(list(reasons)).intersection(mrr.index)
        top = mrr[ids].sort_values(ascending=False).head(10)
        act = pd.DataFrame({"account": ctx.names(top.index),
                            "segment": [str(seg.get(a, "")) for a in top.index],
                            "mrr": top.to_numpy(),
                            "why": [", ".join(dict.fromkeys(reasons[a])) for a in top.index],
                            "latest comment": [comments.get(a, "") for a in top.index]})
        p.tables.append(Table("Accounts to act on first (by MRR)", act, {"mrr": "money"}))
    for name, summ in ctx.comparisons.items():
        rows = [{"metric": m, "baseline": summ.loc[m, "baseline"],
                 "with the play": summ.loc[m, "variant"], "difference": summ.loc[m, "diff"],
                 "ci_low": summ.loc[m, "ci_lo"], "ci_high": summ.loc[m, "ci_hi"]}
                for m in ("grr", "nrr", "profit", "total_cost") if m in summ.index]
        units = {"grr": "pct", "nrr": "pct", "profit": "money", "total_cost": "money"}
        frame = pd.DataFrame(rows)
        for m, row in frame.set_index("metric").iterrows():
            p.add(f"sim_{name}_{m}", f"Simulated {name}: difference in {m}", row["difference"],
                  units[m])
        shown = frame.assign(**{c: [fmt(v, units[m], diff=c != "baseline" and
                                        c != "with the play")
                                    for v, m in zip(frame[c], frame["metric"], strict=True)]
                                for c in ("baseline", "with the play", "difference", "ci_low",
                                          "ci_high")})
        p.tables.append(Table(f"Simulated effect of {name} (paired comparison, 90% CI of "
                              "the mean difference)", shown))
    return p


def _period_values(ctx: Context, start: pd.Timestamp, end: pd.Timestamp) -> dict[str, float]:
    """Revenue and outcome metrics of the months after ``start`` up to ``end``."""
    from cs_sim import kpis

    ds = ctx.dataset
    out: dict[str, float] = {}
    ret = kpis.revenue_retention(ds.mrr, start=start, end=end)
    out["nrr"] = float(ret["nrr"].iloc[0]) if len(ret) else math.nan
    out["grr"] = float(ret["grr"].iloc[0]) if len(ret) else math.nan

    def within(frame: pd.DataFrame, col: str) -> pd.DataFrame:
        d = pd.to_datetime(frame[col]).dt.to_period("M").dt.to_timestamp()
        return frame[(d > start) & (d <= end)]

    if ds.usage is not None:
        u = within(ds.usage, "month")
        out["seat_utilisation"] = _rate(u["active_users"].sum(), u["seats"].sum())
    if ds.surveys is not None:
        s = within(ds.surveys, "date")
        n = s.loc[s["kind"] == "nps", "score"]
        out["nps"] = kpis.nps(n.astype(int)).nps if len(n) else math.nan
        c = s.loc[s["kind"] == "csat", "score"]
        out["csat"] = kpis.csat(c) if len(c) else math.nan
    if ds.tickets is not None:
        t = within(ds.tickets[ds.tickets["resolved_at"].notna()], "resolved_at")
        out["fcr"] = _rate((t["contacts_to_resolve"] == 1).sum(), len(t))
    return out


def measurement(ctx: Context) -> Part:
    p = Part("measurement", "Measurement",
             "Revenue retention beside a success vector of customer outcomes, and the goals "
             "per segment with milestones and check-ins.")
    for k in ("nrr", "grr", "logo_churn_rate"):
        p.add(k, f"{_KPI_LABELS[k]} (baseline window)", ctx.kpi(k), _KPI_UNITS[k])
    n = ctx.period_months
    mid = ctx.last_month - pd.DateOffset(months=n)
    first = mid - pd.DateOffset(months=n)
    earliest = pd.Timestamp(ctx.dataset.mrr["month"].min())
    if first >= earliest:
        before, after = _period_values(ctx, first, mid), _period_values(ctx, mid, ctx.last_month)
        labels = {"nrr": ("NRR", "pct", 1), "grr": ("GRR", "pct", 1),
                  "seat_utilisation": ("Seat utilisation", "pct", 1), "nps": ("NPS", "score", 1),
                  "csat": ("CSAT", "score", 1), "fcr": ("First contact resolution", "pct", 1)}
        rows = []
        for k, (label, unit, _) in labels.items():
            if k in after:
                rows.append({"metric": label, "kind": "revenue" if k in ("nrr", "grr")
                             else "outcome", "previous": before.get(k), "latest": after[k],
                             "change": after[k] - before.get(k, math.nan), "unit": unit})
        vec = pd.DataFrame(rows)
        shown = vec.assign(**{c: [fmt(v, u, diff=c == "change") for v, u in
                                  zip(vec[c], vec["unit"], strict=True)]
                              for c in ("previous", "latest", "change")}).drop(columns="unit")
        p.tables.append(Table(f"Success vector: the last {n} months against the {n} before",
                              shown))
        outcomes = vec[(vec["kind"] == "outcome") & vec["change"].notna()]
        worse = int((outcomes["change"] < 0).sum())
        nrr_change = float(vec.loc[vec["metric"] == "NRR", "change"].iloc[0])
        p.add("nrr_change", f"NRR change (last {n} months vs the {n} before)", nrr_change, "pct",
              diff=True)
        p.add("outcomes_worse", "Outcome metrics that got worse", worse, "count")
        if nrr_change > 0 and len(outcomes) and worse > len(outcomes) / 2:
            p.flags.append(f"Revenue retention improved ({fmt(nrr_change, 'pct', diff=True)}) "
                           f"while {worse} of {len(outcomes)} customer-outcome metrics got "
                           "worse: check whether revenue is growing at the customers' "
                           "expense (price rises, forced upgrades) before celebrating.")
    else:
        p.paragraphs.append(f"The success vector needs {2 * n} months of history; the data "
                            "hold fewer.")
    goals = goals_table(ctx)
    if len(goals):  # which way is better, beside each KPI
        better = {_KPI_LABELS.get(k, k): "\u2191 higher" if d == "up" else "\u2193 lower"
                  for k, d in DIRECTIONS.items()}
        goals.insert(2, "better", goals["kpi"].map(better).fillna(""))
        goals = goals.drop(columns="unit")
    p.tables.append(Table("Goals and KPI targets per segment: the baseline now, the milestone "
                          "of each check-in and the target", goals))
    dates = [d.date().isoformat() for d in checkin_dates(ctx)]
    p.paragraphs.append("Check-ins: " + ", ".join(dates) + " (a quarterly review of these "
                        "targets; the KPI baseline is re-run each month).")
    return p


def checkin_dates(ctx: Context) -> list[pd.Timestamp]:
    return [ctx.start + pd.DateOffset(months=3 * q) for q in range(1, 5)]


def targets_frame(ctx: Context) -> pd.DataFrame:
    """One row per segment and KPI with raw numbers: the baseline, the target, the way.

    Columns ``segment``, ``kpi`` (the KPI registry key: ``nrr``, ``grr``,
    ``logo_churn_rate``, ``nps``), ``label``, ``unit``, ``direction`` (``up`` when higher
    is better), ``baseline`` (the KPI over the baseline window), ``target`` (the rule of
    :data:`DEFAULT_TARGETS` or ``targets=``, capped at the KPI's limits) and one column
    per quarterly check-in (ISO date) with the milestone on a straight line to it.
    """
    rows = []
    dates = checkin_dates(ctx)
    for s in ["all", *ctx.segments]:
        for k, rule in {**DEFAULT_TARGETS, **ctx.targets}.items():
            base = ctx.kpi(k, s)
            if base != base:
                continue
            change, kind = rule
            target = base * (1 + change) if kind == "relative" else base + change
            lo, hi = _TARGET_LIMITS.get(k, (-math.inf, math.inf))
            target = min(max(target, lo), hi)
            row = {"segment": s, "kpi": k, "label": _KPI_LABELS.get(k, k),
                   "unit": _KPI_UNITS.get(k, "number"), "direction": DIRECTIONS.get(k, "up"),
                   "baseline": base, "target": target}
            for q, d in enumerate(dates, start=1):
                row[d.date().isoformat()] = base + (target - base) * q / 4
            rows.append(row)
    return pd.DataFrame(rows)


def goals_table(ctx: Context, targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per segment and KPI: baseline, quarterly milestones and the target (text)."""
    raw = targets_frame(ctx) if targets is None else targets
    dates = [d.date().isoformat() for d in checkin_dates(ctx)]
    rows = []
    for r in raw.to_dict("records"):
        u = r["unit"]
        row = {"segment": r["segment"], "kpi": r["label"], "baseline": fmt(r["baseline"], u)}
        row.update({d: fmt(r[d], u) for d in dates})
        row.update({"target": fmt(r["target"], u), "unit": u})
        rows.append(row)
    return pd.DataFrame(rows)


def expansion(ctx: Context) -> Part:
    p = Part("expansion", "Expansion",
             "Renewals, upsell and referrals, counted as part of the customer's success.")
    ds, mrr = ctx.dataset, ctx.last_mrr()
    p.add("renewal_rate", "Renewal rate (annual contracts)", ctx.kpi("renewal_rate"), "pct")
    bridge = ctx.baseline.bridge
    p.add("expansion_mrr", "Expansion MRR over the baseline window",
          float(bridge["expansion"].sum()), "money")
    acc = ds.accounts.drop_duplicates("account_id").set_index("account_id")
    rows = []
    if "contract" in acc:
        first = ds.mrr[ds.mrr["mrr"] > 0].groupby("account_id")["month"].min()
        annual = acc.index[acc["contract"] == "annual"].intersection(mrr.index)
        due = []
        for a in annual:
            f = first[a]
            months = (ctx.last_month.year - f.year) * 12 + ctx.last_month.month - f.month
            nxt = f + pd.DateOffset(months=12 * (months // 12 + 1))
            if nxt <= ctx.last_month + pd.DateOffset(months=3):
                due.append((a, nxt))
        ids = pd.Index([a for a, _ in due])
        p.add("renewals_due", "Annual renewals due in the next 3 months", len(ids), "count")
        p.add("renewals_due_mrr", "MRR up for renewal in the next 3 months",
              float(mrr[ids].sum()), "money")
        rows += [{"account": n, "segment": str(ctx.labels.get(a, "")), "mrr": mrr[a],
                  "opportunity": f"renewal {d.date().isoformat()[:7]}"}
                 for (a, d), n in zip(due, ctx.names(ids), strict=True)]
    if ds.usage is not None:
        u = ds.usage[ds.usage["month"] == ctx.last_month]
        full = u[(u["seats"] > 0) & (u["active_users"] >= 0.9 * u["seats"])]["account_id"]
        ids = pd.Index(full.unique()).intersection(mrr.index)
        p.add("upsell_candidates", "Accounts using 90%+ of their seats (upsell)", len(ids),
              "count")
        rows += [{"account": n, "segment": str(ctx.labels.get(a, "")), "mrr": mrr[a],
                  "opportunity": "seats nearly full"} for a, n in zip(ids, ctx.names(ids),
                                                                     strict=True)]
    if ds.surveys is not None:
        s = ds.surveys
        recent = s[(s["kind"] == "nps") & (pd.to_datetime(s["date"]) >= ctx.last_month
                                           - pd.DateOffset(months=11))]
        prom = pd.Index(recent.loc[recent["score"] >= 9, "account_id"].unique())
        prom = prom.intersection(mrr.index)
        p.add("promoters", "Paying promoters in the last 12 months (referrals)", len(prom),
              "count")
    if ctx.journey is not None:
        p.add("expansion_advocacy_conversion", "Established accounts that expanded or "
              "promoted", ctx.journey.stages.loc["expansion_advocacy", "conversion_rate"], "pct")
    if rows:
        top = pd.DataFrame(rows).sort_values("mrr", ascending=False).head(10)
        p.tables.append(Table("Largest opportunities", top, {"mrr": "money"}))
    return p


def communication(ctx: Context) -> Part:
    p = Part("communication", "Communication",
             "How often and through which channels each tier hears from us.")
    svc = ctx.service
    counts = (svc.groupby("tier")["accounts"].sum() if svc is not None
              else pd.Series({"low_touch": len(ctx.last_mrr())}))
    observed = {}
    if ctx.dataset.interactions is not None and svc is not None:
        it = ctx.dataset.interactions
        tier = ctx.labels.astype(str).map(ctx.tier_of())
        months = max(pd.to_datetime(it["date"]).dt.to_period("M").nunique(), 1)
        per = it.assign(tier=it["account_id"].map(tier)).groupby("tier").size()
        observed = {t: _rate(per.get(t, 0) * 12 / months, counts.get(t, 0)) for t in counts.index}
    rows = []
    for t, n in counts.items():
        channels, touches, hours = CADENCE.get(str(t), CADENCE["low_touch"])
        rows.append({"tier": t, "accounts": n, "channels": channels,
                     "touches per account a year": touches,
                     "observed touches per account a year": observed.get(t, math.nan),
                     "CSM hours a month": n * touches * hours / 12})
    table = pd.DataFrame(rows)
    p.add("csm_hours", "CSM hours a month the cadence needs",
          float(table["CSM hours a month"].sum()), "number")
    p.tables.append(Table("Cadence per tier", table, {
        "accounts": "count", "touches per account a year": "count",
        "observed touches per account a year": "number", "CSM hours a month": "number"}))
    return p


def instrumentation(ctx: Context) -> Part:
    from cs_sim.maturity import table_evidence

    p = Part("instrumentation", "Instrumentation",
             "The data collected about customers' experience, and the gaps to close.")
    ev = table_evidence(ctx.dataset)
    ev = ev[ev["table"].isin(["accounts", "mrr", "usage", "tickets", "surveys", "trials",
                              "interactions", "costs"])]
    p.add("tables", "Tables recorded (of 8)", int(ev["instrumented"].sum()), "count")
    p.add("months", "Months of MRR history", int(ev.set_index("table").loc["mrr", "months"]),
          "count")
    p.tables.append(Table("What is recorded", ev[["table", "instrumented", "rows", "accounts",
                                                  "months"]],
                          {"instrumented": "flag", "rows": "count", "accounts": "count",
                           "months": "count"}))
    gaps: dict[str, str] = {}
    for source in (ctx.baseline, ctx.journey, ctx.research, ctx.segmentation):
        gaps.update({str(k): str(v) for k, v in (getattr(source, "unavailable", None)
                                                 or {}).items()})
    if ctx.maturity is not None:
        bad = ctx.maturity.gates[ctx.maturity.gates["status"] != "pass"]
        gaps.update({f"maturity: {r.stage}": f"{r.requirement} ({r.evidence})"
                     for r in bad.itertuples()})
    acc = ctx.dataset.accounts
    for col in ("industry", "employees", "csm_id"):
        share = acc[col].isna().mean() if col in acc else 1.0
        if share > 0:
            gaps[f"accounts.{col}"] = f"missing for {fmt(share, 'pct')} of accounts"
    p.add("gaps", "Data gaps", len(gaps), "count")
    if gaps:
        p.tables.append(Table("Data gaps and what they block",
                              pd.DataFrame({"gap": list(gaps), "why": list(gaps.values())})))
    return p


def operationalisation(ctx: Context) -> Part:
    p = Part("operationalisation", "Operationalisation",
             "Roadmap, owners, cross-functional responsibilities, hiring, training and budget.")
    mat = ctx.maturity
    if mat is not None and len(mat.roadmap):
        p.add("stage", "Maturity stage", mat.stage, "text")
        p.add("roadmap_steps", f"Roadmap steps to {mat.next_stage}", len(mat.roadmap), "count")
        p.tables.append(Table(f"Roadmap to the {mat.next_stage} stage",
                              mat.roadmap[["step", "item", "owner", "due"]]))
    elif mat is not None:
        p.add("stage", "Maturity stage", mat.stage, "text")
    ren = ctx.kpi("renewal_rate")
    fcr = ctx.kpi("fcr")
    pains = ", ".join(map(str, (getattr(ctx.research, "pain_points", None) or [])[:3]))
    raci = [
        {"team": "Customer success", "responsible for": "success plans, plays and health "
         f"reviews; GRR from {fmt(ctx.kpi('grr'), 'pct')} to the targets above"},
        {"team": "Sales", "responsible for": "renewals ("
         + (f"rate {fmt(ren, 'pct')}" if ren == ren else "no annual contracts up yet")
         + ") and upsell, with CS; hand-off to onboarding at signature"},
        {"team": "Marketing", "responsible for": "tech-touch journeys, referral and advocacy "
         "programmes, webinars"},
        {"team": "Product", "responsible for": "fixing the top pain points"
         + (f" ({pains})" if pains else "") + "; in-app onboarding; usage instrumentation"},
        {"team": "Support", "responsible for": "first contact resolution ("
         + (f"now {fmt(fcr, 'pct')}" if fcr == fcr else "to be measured: needs tickets")
         + "), escalations to CS, CSAT after each ticket"},
    ]
    p.tables.append(Table("Cross-functional responsibilities", pd.DataFrame(raci)))
    svc = ctx.service
    if svc is not None and "csm_headcount" in svc:
        need = svc.groupby("tier")["csm_headcount"].sum()
        acc = ctx.dataset.accounts
        current = int(acc["csm_id"].dropna().nunique()) if "csm_id" in acc else 0
        needed = int(np.ceil(need.sum() - 1e-9))
        hires = max(needed - current, 0)
        p.add("csm_needed", "CSMs the service model needs", needed, "count")
        p.add("csm_current", "CSMs today (distinct csm_id)", current, "count")
        p.add("hires", "CSMs to hire", hires, "count")
        p.tables.append(Table("CSM headcount by tier", need.rename("csm_headcount").reset_index(),
                              {"csm_headcount": "number"}))
        p.paragraphs.append(f"Training: {hires} new CSM(s) through a four-week onboarding "
                            "curriculum (product, playbooks, commercial skills); the whole team "
                            "quarterly on product changes and on the plays of this plan.")
        costs = ctx.dataset.costs
        if costs is not None and len(costs):
            recent = costs.sort_values("month").tail(3)
            run = float(recent[["cs_cost", "support_cost", "tooling_cost"]].sum(axis=1).mean())
            per = _rate(float(recent["cs_cost"].mean()), current)
            p.add("cs_cost_month", "CS, support and tooling cost a month (last 3 months)", run,
                  "money")
            added = hires * per if per == per else math.nan
            p.add("added_cost_month", "Added cost a month of the hires", added, "money")
            p.add("budget_year", "Budget for the next 12 months", 12 * (run + np.nan_to_num(
                added)), "money")
        else:
            p.paragraphs.append("Budget: the costs table is missing, so the plan cannot price "
                                "the team; add costs.csv (cs_cost, support_cost, tooling_cost).")
    return p


PARTS = (segmentation, orchestration, interventions, measurement, expansion, communication,
         instrumentation, operationalisation)
