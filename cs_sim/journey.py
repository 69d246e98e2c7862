"""The customer journey map: lifecycle stages, touchpoints, hand-offs and stage metrics.

:func:`journey_map` follows every account through seven stages. Each stage is an
*episode* per account with an entry month and an outcome, defined from the data:

==================  ==========================  ===============================  ==========
stage               entry                       converted (exit)                 needs
==================  ==========================  ===============================  ==========
onboarding          first paid month (accounts  first value: first month with    accounts,
                    that start paying after     active users >= activation_share mrr
                    the data begin)             x seats (usage); without usage:  (+usage)
                                                still paying onboarding_months
                                                later
adoption            month of first value        adopted: adoption_months months  usage
                                                in a row at or above the
                                                activation share
training            first touchpoint of a       still paying follow_months       interactions
                    training kind               later
consulting          first touchpoint of a       still paying follow_months       interactions
                    consulting kind (qbr, ...)  later
service             first ticket opened         still paying follow_months       tickets
                                                later
renewal             three months before a       renewed (paying in the           accounts,
                    12-month anniversary of an  anniversary month)               mrr
                    annual contract up for
                    renewal (paying in the
                    month before)
expansion_advocacy  the month an account        first expansion (MRR up from     mrr
                    completes                   the month before) or promoter    (+surveys)
                    established_months paid     answer (NPS 9-10)
                    months
==================  ==========================  ===============================  ==========

An episode is **dropped** when the account stops paying (MRR 0) after entry and before
converting, and **in progress** when the data end first. ``conversion_rate`` and
``drop_off_rate`` are shares of the resolved episodes (converted + dropped); time in
stage is exit month minus entry month, over resolved episodes (0: the same month).
Annual contracts' anniversaries fall on the first paid month, or the signup month for
accounts already paying when the data begin (as :func:`cs_sim.kpis.renewal_rate`).

The *window* of an episode runs from its entry to its exit (to the end of the data while
in progress; ``follow_months`` after entry for training, consulting and service; the
three months up to the anniversary for renewal). A stage's **touchpoints** are the
interactions that fall in its windows (counted by ``kind``), its **owner team** the most
frequent ``owner_team`` among them (a documented default when none is recorded), and its
**NPS** that of the NPS answers given in its windows. A **hand-off** joins consecutive
stages; ``no_touch_share`` is the share of accounts entering the later stage that had no
touchpoint from its owner team in their window: customers who fell between teams.

With only ``accounts`` and ``mrr`` the map still shows onboarding (survival), renewal and
expansion; ``JourneyMap.unavailable`` says which stage needs which table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cs_sim.errors import StrategyInputError
from cs_sim.format import fmt, format_frame, style_frame, text_table, to_jsonable, write_files
from cs_sim.format import html_escaped as _escaped

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from cs_sim.io import Dataset

__all__ = ["STAGES", "JourneyMap", "definitions", "journey_map"]

#: the journey's stages in order, with their labels
STAGES: dict[str, str] = {
    "onboarding": "Onboarding", "adoption": "Adoption", "training": "Training",
    "consulting": "Consulting", "service": "Service", "renewal": "Renewal",
    "expansion_advocacy": "Expansion & advocacy",
}
#: the tables each stage needs (beyond accounts and mrr), and those that enrich it
NEEDS: dict[str, tuple[str, ...]] = {
    "onboarding": (), "adoption": ("usage",), "training": ("interactions",),
    "consulting": ("interactions",), "service": ("tickets",), "renewal": (),
    "expansion_advocacy": (),
}
#: owner team of a stage when no touchpoint says otherwise
DEFAULT_OWNERS: dict[str, str] = {
    "onboarding": "onboarding (CS)", "adoption": "CS", "training": "CS enablement",
    "consulting": "CS", "service": "support", "renewal": "sales / account management",
    "expansion_advocacy": "sales and marketing",
}
#: interaction kinds that start the training and the consulting stage
TRAINING_KINDS = ("training", "webinar", "enablement", "workshop", "certification")
CONSULTING_KINDS = ("qbr", "ebr", "business_review", "consulting", "success_plan",
                    "health_check")

#: short metric labels for the figure
SHORT = {"time_to_first_value_median": "time to first value (median)",
         "time_to_first_value_mean": "time to first value (mean)",
         "onboarding_completion": "completed onboarding", "onboarding_survival":
         "still paying after onboarding", "new_accounts": "new accounts",
         "activated_share": "activated accounts", "up_for_renewal": "up for renewal",
         "expansion_rate": "expanded", "expanded_after": "expanded afterwards",
         "fcr": "FCR", "aht_minutes": "handle time (min)",
         "days_to_resolve": "days to resolve (median)", "csat": "CSAT"}
_UNITS = {"entered": "count", "converted": "count", "dropped": "count",
          "in_progress": "count", "conversion_rate": "pct", "drop_off_rate": "pct",
          "median_months": "number", "nps": "score", "nps_responses": "count"}
_EPISODE_COLUMNS = ["stage", "account_id", "entry", "exit", "outcome", "window_end"]


@dataclass(frozen=True)
class JourneyMap:
    """The journey of a dataset's accounts through the stages (a result object).

    Attributes
    ----------
    stages : DataFrame
        One row per stage (index ``stage``): ``label, owner_team, owner_source
        (interactions/default), touchpoints`` (text), ``entered, converted, dropped,
        in_progress, conversion_rate, drop_off_rate, median_months, nps,
        nps_responses, status`` (computed / partial / not available) and ``needs``.
    metrics : DataFrame
        The stages' own metrics: ``stage, metric, label, value, unit``.
    touchpoints : DataFrame
        ``stage, kind, owner_team, interactions, accounts``.
    handoffs : DataFrame
        ``from_stage, to_stage, from_team, to_team, handoff`` (the team changes),
        ``accounts`` (entered both), ``no_touch_share``.
    episodes : DataFrame
        One row per account and stage: ``stage, account_id, entry_month, exit_month,
        outcome`` (converted / dropped / in_progress).
    unavailable : dict of str to str
        Stage -> what it could not compute and which table it needs.
    source : str or None
    """

    stages: pd.DataFrame
    metrics: pd.DataFrame
    touchpoints: pd.DataFrame
    handoffs: pd.DataFrame
    episodes: pd.DataFrame
    unavailable: dict[str, str] = field(default_factory=dict)
    source: str | None = None

    def __repr__(self) -> str:
        done = int((self.stages["status"] != "not available").sum())
        return f"JourneyMap({self.source or 'dataset'!r}, {done} of {len(self.stages)} stages)"

    def metric(self, stage: str, name: str) -> float:
        """The value of one stage metric (NaN when not computed)."""
        m = self.metrics[(self.metrics["stage"] == stage) & (self.metrics["metric"] == name)]
        return float(m["value"].iloc[0]) if len(m) else float("nan")

    def to_frame(self) -> pd.DataFrame:
        """The stage table (raw numbers)."""
        return self.stages.copy()

    def headline_items(self) -> list[tuple[str, str, Any, str]]:
        """``(key, label, value, unit)`` for :func:`cs_sim.report.headlines` (NaN: not
        computed): onboarding, adoption, renewal, worst drop-off, most untouched hand-off."""
        st, h, nan = self.stages, self.handoffs.dropna(subset=["no_touch_share"]), float("nan")
        drop = st["drop_off_rate"].dropna()
        worst, gap = (drop.idxmax() if len(drop) else None,
                      h.loc[h["no_touch_share"].idxmax()] if len(h) else None)
        return [
            ("onboarding_completion", "Onboarding completed (first value in time)",
             self.metric("onboarding", "onboarding_completion"), "pct"),
            ("time_to_first_value", "Time to first value (median)",
             self.metric("onboarding", "time_to_first_value_median"), "months"),
            ("adoption_conversion", "Adoption: accounts that adopted",
             float(st.loc["adoption", "conversion_rate"]), "pct"),
            ("renewal_rate", "Renewal: annual contracts renewed",
             self.metric("renewal", "renewal_rate"), "pct"),
            ("highest_drop_off", "Highest drop-off" + (f": {STAGES[worst]}" if worst else ""),
             nan if worst is None else float(drop[worst]), "pct"),
            ("handoff_no_touch", "Untouched after a hand-off" + ("" if gap is None else
                f": {STAGES[gap['from_stage']]} to {STAGES[gap['to_stage']]}"),
             nan if gap is None else float(gap["no_touch_share"]), "pct")]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary of raw numbers (NaN as None)."""
        return to_jsonable({
            "source": self.source,
            "stages": self.stages.reset_index().to_dict("records"),
            "metrics": self.metrics.to_dict("records"),
            "touchpoints": self.touchpoints.to_dict("records"),
            "handoffs": self.handoffs.to_dict("records"),
            "unavailable": dict(self.unavailable),
        })

    def metrics_shown(self) -> pd.DataFrame:
        """The stage metrics with each value shown in its unit (text)."""
        m = self.metrics
        shown = [fmt(v, u) for v, u in zip(m["value"], m["unit"], strict=True)]
        return m.assign(value=shown)[["stage", "label", "short", "value"]]

    def to_text(self) -> str:
        """The map as plain-text tables (figures shown by :mod:`cs_sim.format`)."""
        cols = ["owner_team", "entered", "converted", "dropped", "in_progress",
                "conversion_rate", "drop_off_rate", "median_months", "nps"]
        parts = [f"Customer journey of {self.source or 'dataset'}", "",
                 text_table(self.stages[cols], _UNITS), "", "Stage metrics",
                 self.metrics_shown().drop(columns="short").to_string(index=False)]
        if len(self.handoffs):
            parts += ["", "Hand-offs", text_table(self.handoffs, {"accounts": "count",
                                                                  "no_touch_share": "pct"},
                                                  index=False)]
        if self.unavailable:
            parts += ["", "Not available:"] + [f"  - {k}: {v}" for k, v in
                                               self.unavailable.items()]
        return "\n".join(parts)

    def view(self, name: str) -> Any:
        """One table of the map, styled for a notebook (figures in their units).

        Parameters
        ----------
        name : str
            ``stages``, ``metrics``, ``touchpoints``, ``handoffs`` or ``definitions``.

        Returns
        -------
        pandas.io.formats.style.Styler
        """
        tables = {
            "stages": (self.stages.drop(columns=["owner_source"]), _UNITS),
            "metrics": (self.metrics_shown().drop(columns="short"), {}),
            "touchpoints": (self.touchpoints, {"interactions": "count", "accounts": "count"}),
            "handoffs": (self.handoffs, {"accounts": "count", "no_touch_share": "pct"}),
            "definitions": (definitions(), {}),
        }
        if name not in tables:
            raise ValueError(f"unknown table {name!r}; use one of {', '.join(tables)}")
        frame, units = tables[name]
        return style_frame(_escaped(frame), units)  # owner teams, kinds: the user's text

    def _repr_html_(self) -> str:
        cols = ["label", "owner_team", "touchpoints", "entered", "conversion_rate",
                "drop_off_rate", "median_months", "nps", "status"]
        return style_frame(_escaped(self.stages[cols]), _UNITS,
                           caption="Customer journey").to_html()

    def plot(self, ax: Axes | None = None) -> Axes:
        """The journey-map figure (:func:`cs_sim.plotting.plot_journey`)."""
        from cs_sim.plotting import plot_journey

        return plot_journey(self.stages, self.metrics_shown(), ax=ax)

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write ``journey.json``, ``journey.txt``, the tables as CSV and ``journey.png``."""
        files = {"journey.json": json.dumps(self.to_dict(), indent=2) + "\n",
                 "journey.txt": self.to_text() + "\n",
                 "stages.csv": format_frame(self.stages, _UNITS).to_csv(),
                 "metrics.csv": self.metrics.to_csv(index=False),
                 "touchpoints.csv": self.touchpoints.to_csv(index=False),
                 "handoffs.csv": self.handoffs.to_csv(index=False)}
        written = write_files(out_dir, files)
        from matplotlib.figure import Figure

        fig = Figure(figsize=(15, 6.5))
        self.plot(ax=fig.add_subplot())
        fig.savefig(Path(out_dir) / "journey.png", dpi=110, bbox_inches="tight")
        return [*written, Path(out_dir) / "journey.png"]


def definitions() -> pd.DataFrame:
    """How each stage is entered and left, and the tables it needs (the module's table)."""
    rows = {
        "onboarding": ("first paid month (accounts that start paying after the data begin)",
                       "first value: a month with active users >= activation share x seats "
                       "(without usage: still paying onboarding_months later)"),
        "adoption": ("month of first value",
                     "adopted: adoption_months in a row at the activation share"),
        "training": (f"first touchpoint of a training kind ({', '.join(TRAINING_KINDS)})",
                     "still paying follow_months later"),
        "consulting": (f"first touchpoint of a consulting kind ({', '.join(CONSULTING_KINDS)})",
                       "still paying follow_months later"),
        "service": ("first ticket opened", "still paying follow_months later"),
        "renewal": ("three months before the anniversary of an annual contract up for renewal",
                    "renewed: paying in the anniversary month"),
        "expansion_advocacy": ("the month an account completes established_months paid months",
                               "first expansion, or a promoter answer (NPS 9-10)"),
    }
    return pd.DataFrame([{"stage": s, "entry": e, "converted": c,
                          "needs": ", ".join(("accounts", "mrr") + NEEDS[s])}
                         for s, (e, c) in rows.items()]).set_index("stage")


# ----------------------------------------------------------------------------- helpers
class _Grid:
    """Accounts x months matrices of one dataset (month positions 0..T-1)."""

    def __init__(self, dataset: Dataset) -> None:
        mrr = dataset.mrr
        self.months = pd.date_range(mrr["month"].min(), mrr["month"].max(), freq="MS")
        wide = mrr.pivot_table(index="account_id", columns="month", values="mrr",
                               aggfunc="sum").reindex(columns=self.months).fillna(0.0)
        self.accounts = wide.index
        self.mrr = wide.to_numpy(dtype=float)
        self.paid = self.mrr > 0
        self.T = len(self.months)
        self.col = np.arange(self.T)[None, :]

    def pos(self, dates: pd.Series) -> np.ndarray:
        """Month position of dates (may fall outside 0..T-1)."""
        d = pd.to_datetime(dates)
        m0 = self.months[0]
        return ((d.dt.year - m0.year) * 12 + d.dt.month - m0.month).to_numpy()

    def row(self, ids: pd.Series) -> np.ndarray:
        return self.accounts.get_indexer(ids)

    def first(self, mask: np.ndarray, start: np.ndarray, end: np.ndarray | None = None
              ) -> np.ndarray:
        """Per account, the first position >= start (and <= end) where mask; -1 if none."""
        ok = mask & (self.col >= start[:, None])
        if end is not None:
            ok &= self.col <= end[:, None]
        return np.where(ok.any(axis=1), ok.argmax(axis=1), -1)

    def matrix(self, frame: pd.DataFrame, values: np.ndarray) -> np.ndarray:
        """An accounts x months matrix from per-row (account_id, month) values (NaN else)."""
        out = np.full(self.mrr.shape, np.nan)
        r, c = self.row(frame["account_id"]), self.pos(frame["month"])
        ok = (r >= 0) & (c >= 0) & (c < self.T)
        out[r[ok], c[ok]] = values[ok]
        return out


def _episodes(g: _Grid, stage: str, rows: np.ndarray, entry: np.ndarray,
              exit_: np.ndarray, converted: np.ndarray, window_end: np.ndarray | None = None
              ) -> pd.DataFrame:
    """Episodes of accounts ``rows``: converted / dropped (at ``exit_``) / in progress."""
    drop = g.first(~g.paid[rows], entry)
    conv = converted & ((drop < 0) | (exit_ < drop))
    dropped = ~conv & (drop >= 0)
    outcome = np.where(conv, "converted", np.where(dropped, "dropped", "in_progress"))
    out_exit = np.where(conv, exit_, np.where(dropped, drop, -1))
    wend = np.where(out_exit >= 0, out_exit, g.T - 1) if window_end is None else window_end
    return pd.DataFrame({"stage": stage, "account_id": g.accounts[rows], "entry": entry,
                         "exit": out_exit, "outcome": outcome, "window_end": wend})


def _follow(g: _Grid, stage: str, frame: pd.DataFrame, date: str, follow: int
            ) -> pd.DataFrame:
    """Episodes that start at each account's first row of ``frame`` (by ``date``)."""
    pos = pd.Series(g.pos(frame[date]), index=frame.index)
    first = (frame.assign(_p=pos).groupby("account_id")["_p"].min())
    first = first[(first >= 0) & (first < g.T)]
    rows = g.row(first.index.to_series())
    keep = rows >= 0
    rows, entry = rows[keep], first.to_numpy()[keep]
    end = entry + follow
    return _episodes(g, stage, rows, entry, end, end <= g.T - 1,
                     window_end=np.minimum(end, g.T - 1))


def _rate(num: float, den: float) -> float:
    return float(num / den) if den else float("nan")


def _metric(rows: list[dict[str, Any]], stage: str, metric: str, label: str, value: Any,
            unit: str) -> None:
    rows.append({"stage": stage, "metric": metric, "label": label,
                 "short": SHORT.get(metric, metric.replace("_", " ")),
                 "value": float("nan") if value is None else float(value), "unit": unit})


def _in_windows(ep: pd.DataFrame, frame: pd.DataFrame, pos: np.ndarray) -> pd.DataFrame:
    """Rows of ``frame`` (with month positions ``pos``) inside the episodes' windows."""
    f = frame.assign(_pos=pos)
    m = f.merge(ep[["stage", "account_id", "entry", "window_end"]], on="account_id")
    return m[(m["_pos"] >= m["entry"]) & (m["_pos"] <= m["window_end"])]


# ------------------------------------------------------------------------------ stages
def _lifecycle(g: _Grid, ds: Dataset, p: dict[str, Any], metrics: list[dict[str, Any]]
               ) -> list[pd.DataFrame]:
    """Onboarding, adoption (usage) and renewal and expansion episodes."""
    out = []
    zero = np.zeros(len(g.accounts), dtype=int)
    first = g.first(g.paid, zero)
    share = None
    if ds.usage is not None:
        u = ds.usage
        ratio = np.where(u["seats"].to_numpy() > 0,
                         u["active_users"].to_numpy() / np.maximum(u["seats"].to_numpy(), 1),
                         np.nan)
        share = g.matrix(u, ratio)
        covered = g.pos(u["month"]).min()
        cohort = np.flatnonzero((first > 0) & (first >= covered))
        active = np.nan_to_num(share, nan=0.0) >= p["activation_share"]
        fv = g.first(active[cohort], first[cohort])
        on = _episodes(g, "onboarding", cohort, first[cohort], fv, fv >= 0)
        out.append(on)
        conv = on["outcome"].to_numpy() == "converted"
        ttfv = (on["exit"] - on["entry"])[conv]
        observable = conv | (on["entry"].to_numpy() + p["onboarding_months"] - 1 <= g.T - 1)
        done = conv & ((on["exit"] - on["entry"]).to_numpy() < p["onboarding_months"])
        _metric(metrics, "onboarding", "time_to_first_value_median",
                "Time to first value, median (months after the first paid month)",
                ttfv.median() if len(ttfv) else None, "months")
        _metric(metrics, "onboarding", "time_to_first_value_mean",
                "Time to first value, mean (months)", ttfv.mean() if len(ttfv) else None,
                "months")
        _metric(metrics, "onboarding", "onboarding_completion",
                f"Onboarding completion (first value within {p['onboarding_months']} months)",
                _rate(done.sum(), observable.sum()), "pct")
        # adoption: from first value, adoption_months in a row at the activation share
        rows = cohort[conv]
        start = on["exit"].to_numpy()[conv]
        run = np.zeros(len(rows), dtype=int)
        adopted = np.full(len(rows), -1)
        act = active[rows] & (g.col >= start[:, None])
        for t in range(g.T):
            run = np.where(act[:, t], run + 1, 0)
            adopted = np.where((adopted < 0) & (run >= p["adoption_months"]), t, adopted)
        out.append(_episodes(g, "adoption", rows, start, adopted, adopted >= 0))
        last = np.nan_to_num(share[:, -1], nan=0.0)
        paying = g.paid[:, -1]
        _metric(metrics, "adoption", "activated_share",
                f"Paying accounts at or above {fmt(p['activation_share'], 'pct', digits=0)} "
                "of seats active (last month)",
                _rate(((last >= p["activation_share"]) & paying).sum(), paying.sum()), "pct")
        seats = np.nansum(np.where(paying, g.matrix(u, u["seats"].to_numpy(float))[:, -1], 0))
        users = np.nansum(np.where(paying, g.matrix(u, u["active_users"].to_numpy(float))[:, -1],
                                   0))
        _metric(metrics, "adoption", "seat_utilisation", "Seat utilisation (last month)",
                _rate(users, seats), "pct")
    else:  # without usage: onboarding = still paying onboarding_months after the start
        cohort = np.flatnonzero(first > 0)
        end = first[cohort] + p["onboarding_months"]
        on = _episodes(g, "onboarding", cohort, first[cohort], end, end <= g.T - 1)
        out.append(on)
        _metric(metrics, "onboarding", "onboarding_survival",
                f"Still paying {p['onboarding_months']} months after the first paid month",
                _rate((on["outcome"] == "converted").sum(),
                      (on["outcome"] != "in_progress").sum()), "pct")
    _metric(metrics, "onboarding", "new_accounts", "New accounts (first paid in the data)",
            len(on), "count")
    out.append(_renewals(g, ds, metrics))
    # expansion and advocacy: from the month an account completes established_months
    count = np.cumsum(g.paid, axis=1)
    est = g.first(count >= p["established_months"], zero)
    rows = np.flatnonzero(est >= 0)
    prev = np.concatenate([np.zeros((len(g.accounts), 1)), g.mrr[:, :-1]], axis=1)
    grew = g.paid & (prev > 0) & (g.mrr > prev + 1e-9)
    if ds.surveys is not None:
        nps = ds.surveys[ds.surveys["kind"] == "nps"]
        prom = nps[nps["score"] >= 9].assign(month=pd.to_datetime(nps["date"]))
        grew = grew | (g.matrix(prom.assign(month=prom["month"].dt.to_period("M")
                                            .dt.to_timestamp()),
                                np.ones(len(prom))) > 0)
    exp = g.first(grew[rows], est[rows])
    ex = _episodes(g, "expansion_advocacy", rows, est[rows], exp, exp >= 0)
    out.append(ex)
    expanded = g.first((g.paid & (prev > 0) & (g.mrr > prev + 1e-9))[rows], est[rows]) >= 0
    _metric(metrics, "expansion_advocacy", "expansion_rate",
            f"Established accounts ({p['established_months']}+ paid months) that expanded",
            _rate(expanded.sum(), len(rows)), "pct")
    return out


def _renewals(g: _Grid, ds: Dataset, metrics: list[dict[str, Any]]) -> pd.DataFrame:
    """Renewal episodes: the three months up to each anniversary of an annual contract."""
    acc = ds.accounts.drop_duplicates("account_id").set_index("account_id")
    if "contract" not in acc:
        return pd.DataFrame(columns=_EPISODE_COLUMNS)
    annual = acc.index[(acc["contract"] == "annual").fillna(False).to_numpy(bool)]
    rows = g.row(annual.to_series())
    rows = rows[rows >= 0]
    rows = rows[g.paid[rows].any(axis=1)]
    first = g.first(g.paid[rows], np.zeros(len(rows), dtype=int))
    if "signup_date" in acc:  # contracts signed before the data: anniversary of signup
        signup = g.pos(pd.Series(pd.to_datetime(acc.loc[g.accounts[rows], "signup_date"])))
        first = np.where((first == 0) & (signup < 0), signup, first)
    parts = []
    for k in range(1, (g.T - int(first.min(initial=0))) // 12 + 2):
        a = first + 12 * k
        ok = (a >= 1) & (a < g.T)
        r, a = rows[ok], a[ok]
        up = g.paid[r, a - 1]
        parts.append(pd.DataFrame({"row": r[up], "month": a[up], "renewed": g.paid[r[up], a[up]]}))
    ev = pd.concat(parts, ignore_index=True)
    month = ev["month"].to_numpy(dtype=int)
    ren = ev["renewed"].to_numpy(dtype=bool)
    _metric(metrics, "renewal", "up_for_renewal", "Annual contracts up for renewal",
            len(ev), "count")
    _metric(metrics, "renewal", "renewal_rate", "Renewal rate (annual contracts)",
            _rate(ren.sum(), len(ren)), "pct")
    return pd.DataFrame({"stage": "renewal", "account_id": g.accounts[ev["row"].to_numpy(int)],
                         "entry": np.maximum(month - 3, 0), "exit": month,
                         "outcome": np.where(ren, "converted", "dropped"), "window_end": month})


def _touch_stages(g: _Grid, ds: Dataset, p: dict[str, Any], metrics: list[dict[str, Any]]
                  ) -> list[pd.DataFrame]:
    """Training, consulting (interactions) and service (tickets) episodes and metrics."""
    out = []
    if ds.interactions is not None:
        it = ds.interactions
        kind = it["kind"].astype(str).str.lower()
        pos = g.pos(it["date"])
        span = (pos >= 0) & (pos < g.T)
        lo, hi = (pos[span].min(), pos[span].max()) if span.any() else (0, g.T - 1)
        reach_den = int(g.paid[:, lo:hi + 1].any(axis=1).sum())
        for stage, kinds in (("training", TRAINING_KINDS), ("consulting", CONSULTING_KINDS)):
            ep = _follow(g, stage, it[kind.isin(kinds).to_numpy()], "date", p["follow_months"])
            out.append(ep)
            _metric(metrics, stage, "accounts", f"Accounts with a {stage} touchpoint", len(ep),
                    "count")
            _metric(metrics, stage, "reach", f"{stage.capitalize()} reach (share of accounts "
                    "paying while touchpoints were recorded)", _rate(len(ep), reach_den), "pct")
        cons = out[-1]
        if len(cons):
            rows = g.row(cons["account_id"])
            prev = np.concatenate([np.zeros((len(rows), 1)), g.mrr[rows, :-1]], axis=1)
            grew = g.paid[rows] & (prev > 0) & (g.mrr[rows] > prev + 1e-9)
            e = cons["entry"].to_numpy()
            hit = g.first(grew, e, e + p["follow_months"]) >= 0
            _metric(metrics, "consulting", "expanded_after",
                    f"Consulted accounts that expanded within {p['follow_months']} months",
                    _rate(hit.sum(), len(rows)), "pct")
    if ds.tickets is not None:
        tk = ds.tickets
        out.append(_follow(g, "service", tk, "opened_at", p["follow_months"]))
        from cs_sim.kpis import average_handle_time, first_contact_resolution

        fcr = first_contact_resolution(tk, freq=None)["fcr"].iloc[0] if len(tk) else None
        aht = average_handle_time(tk, freq=None)["aht"].iloc[0] if len(tk) else None
        days = (pd.to_datetime(tk["resolved_at"]) - pd.to_datetime(tk["opened_at"])).dt.days
        _metric(metrics, "service", "tickets", "Tickets", len(tk), "count")
        _metric(metrics, "service", "fcr", "First contact resolution", fcr, "pct")
        _metric(metrics, "service", "aht_minutes", "Average handle time (minutes)", aht,
                "number")
        _metric(metrics, "service", "days_to_resolve", "Days to resolve, median",
                days.median() if days.notna().any() else None, "number")
        if ds.surveys is not None:
            scores = ds.surveys.loc[ds.surveys["kind"] == "csat", "score"]
            from cs_sim.kpis import csat

            _metric(metrics, "service", "csat", "CSAT (top-2-box %)",
                    csat(scores) if len(scores) else None, "score")
    return out


def _owners(tp: pd.DataFrame) -> dict[str, str]:
    if tp.empty:
        return {}
    counts = tp.groupby(["stage", "owner_team"]).size().rename("n").reset_index()
    counts = counts.sort_values(["stage", "n", "owner_team"], ascending=[True, False, True])
    return counts.drop_duplicates("stage").set_index("stage")["owner_team"].to_dict()


def journey_map(
    dataset: Dataset,
    *,
    activation_share: float = 0.6,
    onboarding_months: int = 3,
    adoption_months: int = 3,
    follow_months: int = 3,
    established_months: int = 6,
) -> JourneyMap:
    """Map the customer journey of a dataset: stages, touchpoints, hand-offs, metrics.

    Parameters
    ----------
    dataset : Dataset
        Any dataset; stages whose table is missing are reported in ``unavailable``.
    activation_share : float, default 0.6
        Share of seats active in a month that counts as value (first value, adoption).
    onboarding_months : int, default 3
        Onboarding is complete when first value comes within this many months (without
        usage: the account still pays this many months after its first paid month).
    adoption_months : int, default 3
        Months in a row at the activation share that count as adopted.
    follow_months : int, default 3
        Window after a training, consulting or service touchpoint.
    established_months : int, default 6
        Paid months after which an account enters expansion and advocacy.

    Returns
    -------
    JourneyMap
        See the module docstring for each stage's entry and exit.
    """
    for name, v in (("onboarding_months", onboarding_months),
                    ("adoption_months", adoption_months), ("follow_months", follow_months),
                    ("established_months", established_months)):
        if int(v) != v or v < 1:
            raise StrategyInputError(f"journey_map: {name}: must be a whole number >= 1, "
                                     f"got {v!r}\n    fix: pass a positive number of months")
    if not 0 < activation_share <= 1:
        raise StrategyInputError(f"journey_map: activation_share: must be in (0, 1], got "
                                 f"{activation_share!r}\n    fix: pass a share such as 0.6")
    p = {"activation_share": activation_share, "onboarding_months": onboarding_months,
         "adoption_months": adoption_months, "follow_months": follow_months,
         "established_months": established_months}
    g = _Grid(dataset)
    rows: list[dict[str, Any]] = []
    parts = _lifecycle(g, dataset, p, rows) + _touch_stages(g, dataset, p, rows)
    ep = pd.concat([x for x in parts if len(x)], ignore_index=True) if any(
        len(x) for x in parts) else pd.DataFrame(columns=_EPISODE_COLUMNS)
    for c in ("entry", "exit", "window_end"):
        ep[c] = ep[c].astype(int)
    unavailable = {}
    for stage, tables in NEEDS.items():
        lack = [t for t in tables if getattr(dataset, t) is None]
        if lack:
            unavailable[stage] = (f"needs the optional table {', '.join(lack)} "
                                  f"({', '.join(t + '.csv' for t in lack)})")
    if dataset.usage is None:
        unavailable["onboarding: time to first value"] = (
            "needs the optional table usage; onboarding shown as survival instead")
    if dataset.interactions is None:
        unavailable["touchpoints, owner teams, hand-offs"] = (
            "need the optional table interactions; default owner teams shown")
    if dataset.surveys is None:
        unavailable["NPS by stage, advocacy"] = "need the optional table surveys"
    # touchpoints and NPS inside the episodes' windows
    tp = pd.DataFrame(columns=["stage", "kind", "owner_team", "account_id"])
    if dataset.interactions is not None and len(ep):
        tp = _in_windows(ep, dataset.interactions, g.pos(dataset.interactions["date"]))
    nps_in = pd.DataFrame(columns=["stage", "score"])
    if dataset.surveys is not None and len(ep):
        s = dataset.surveys[dataset.surveys["kind"] == "nps"]
        nps_in = _in_windows(ep, s, g.pos(s["date"]))
    owners = _owners(tp)
    for stage, kinds in (("training", TRAINING_KINDS), ("consulting", CONSULTING_KINDS)):
        if dataset.interactions is not None and not (ep["stage"] == stage).any():
            unavailable[stage] = (f"no touchpoints of a {stage} kind in interactions "
                                  f"({', '.join(kinds)})")
    from cs_sim.kpis import nps as nps_of

    table = []
    for stage, label in STAGES.items():
        e = ep[ep["stage"] == stage]
        res = e[e["outcome"] != "in_progress"]
        n_conv, n_drop = int((e["outcome"] == "converted").sum()), int(
            (e["outcome"] == "dropped").sum())
        t = tp[tp["stage"] == stage]
        kinds = t["kind"].value_counts()
        scores = nps_in.loc[nps_in["stage"] == stage, "score"]
        partial = stage == "onboarding" and dataset.usage is None
        table.append({
            "stage": stage, "label": label,
            "owner_team": owners.get(stage, DEFAULT_OWNERS[stage]),
            "owner_source": "interactions" if stage in owners else "default",
            "touchpoints": ", ".join(f"{k} {fmt(v, 'count')}" for k, v in kinds.items()),
            "entered": len(e), "converted": n_conv, "dropped": n_drop,
            "in_progress": len(e) - n_conv - n_drop,
            "conversion_rate": _rate(n_conv, len(res)), "drop_off_rate": _rate(n_drop, len(res)),
            "median_months": (float("nan") if stage == "renewal" or res.empty
                              else float((res["exit"] - res["entry"]).median())),
            "nps": nps_of(scores.astype(int)).nps if len(scores) else float("nan"),
            "nps_responses": len(scores),
            "status": ("not available" if any(getattr(dataset, x) is None
                                              for x in NEEDS[stage])
                       else "no data" if e.empty else "partial" if partial else "computed"),
            "needs": ", ".join(("accounts", "mrr") + NEEDS[stage]),
        })
    stages = pd.DataFrame(table).set_index("stage")
    metrics = pd.DataFrame(rows, columns=["stage", "metric", "label", "short", "value", "unit"])
    metrics = metrics.sort_values("stage", key=lambda s: s.map(list(STAGES).index),
                                  kind="stable").reset_index(drop=True)
    touch = (tp.groupby(["stage", "kind", "owner_team"])
             .agg(interactions=("account_id", "size"), accounts=("account_id", "nunique"))
             .reset_index() if len(tp) else
             pd.DataFrame(columns=["stage", "kind", "owner_team", "interactions", "accounts"]))
    hand = []
    order = [s for s in STAGES if stages.loc[s, "status"] not in ("not available", "no data")]
    for a, b in zip(order, order[1:], strict=False):
        ta, tb = stages.loc[a, "owner_team"], stages.loc[b, "owner_team"]
        into = ep[ep["stage"] == b]
        both = set(ep.loc[ep["stage"] == a, "account_id"]) & set(into["account_id"])
        share = float("nan")
        if stages.loc[b, "owner_source"] == "interactions" and len(into):
            touched = set(tp.loc[(tp["stage"] == b) & (tp["owner_team"] == tb), "account_id"])
            share = 1.0 - len(touched & set(into["account_id"])) / into["account_id"].nunique()
        hand.append({"from_stage": a, "to_stage": b, "from_team": ta, "to_team": tb,
                     "handoff": ta != tb, "accounts": len(both), "no_touch_share": share})
    episodes = ep.assign(entry_month=g.months[ep["entry"].clip(0, g.T - 1)],
                         exit_month=[g.months[x] if x >= 0 else pd.NaT for x in ep["exit"]])
    return JourneyMap(
        stages=stages,
        metrics=metrics,
        touchpoints=touch, handoffs=pd.DataFrame(hand, columns=[
            "from_stage", "to_stage", "from_team", "to_team", "handoff", "accounts",
            "no_touch_share"]),
        episodes=episodes[["stage", "account_id", "entry_month", "exit_month", "outcome"]],
        unavailable=unavailable, source=dataset.source)
