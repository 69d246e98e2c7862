"""Results of simulation runs: tidy frames, summaries, paired comparisons.

Every frame is tidy (one row per replication and month, plus tier or play where
it applies). Ratios (GRR, NRR, logo churn, CLV, NPS) come from
:mod:`cs_sim.kpis.formulas`, the definitions the KPI library uses on real data.

Two kinds of interval, 90% by default:

- ``lo``/``hi`` of a simulation summary: the **range of outcomes**, the 5% and 95%
  quantiles of the replications' results (how much one future may differ from
  another);
- ``ci_lo``/``ci_hi`` of a comparison: the **uncertainty of the mean difference**, a
  90% confidence interval (normal approximation, mean +- z x se) that narrows as
  replications are added; its ``lo``/``hi`` are the quantiles of the paired
  differences.

Results render themselves (``to_frame``, ``to_dict``, ``to_text``, ``write`` and an
HTML table in notebooks), with figures shown by :mod:`cs_sim.format`; :data:`METRICS`
holds each metric's label and unit.
"""

# ruff: noqa: N806 (R, N, H, T, P, K: replications, slots, months, tiers, plays, block)
from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cs_sim.format import fmt, percent, style_frame, to_jsonable, write_files
from cs_sim.kpis import formulas
from cs_sim.kpis.formulas import ratio
from cs_sim.sim.record import History

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.sim.engine import RawRun
    from cs_sim.sim.scenario import Scenario

__all__ = [
    "ChunkResult",
    "ComparisonResult",
    "SimulationResult",
    "chunk_from_raw",
    "combine_chunks",
]

#: per-replication metrics compared by :func:`cs_sim.compare` (also in ``summary()``),
#: in display order: name -> (label, unit of :mod:`cs_sim.format`)
METRICS: dict[str, tuple[str, str]] = {
    "logos_churned": ("Logos churned (horizon)", "count"),
    "churned_voluntary": ("Voluntary churns (horizon)", "count"),
    "churned_involuntary": ("Involuntary churns (horizon)", "count"),
    "new_logos": ("New logos (horizon)", "count"),
    "accounts_end": ("Accounts at the end", "count"),
    "monthly_logo_churn": ("Monthly logo churn", "pct"),
    "annual_logo_churn": ("Annual logo churn", "pct"),
    "grr": ("GRR (starting customers, horizon)", "pct"),
    "nrr": ("NRR (starting customers, horizon)", "pct"),
    "grr_annualised": ("GRR, annualised", "pct"),
    "nrr_annualised": ("NRR, annualised", "pct"),
    "mrr_end": ("MRR at the end", "money"),
    "revenue": ("Revenue (horizon)", "money"),
    "gross_profit": ("Gross profit (horizon)", "money"),
    "arpa": ("ARPA (per month)", "money"),
    "clv": ("CLV (ARPA x margin / churn)", "money"),
    "csm_cost": ("CSM cost (horizon)", "money"),
    "play_cost": ("Play cost (horizon)", "money"),
    "programme_cost": ("Programme cost (horizon)", "money"),
    "total_cost": ("CS cost (horizon)", "money"),
    "profit": ("Gross profit - CS cost (horizon)", "money"),
    "plays_delivered": ("Plays delivered (horizon)", "count"),
    "plays_dropped": ("Plays dropped (horizon)", "count"),
    "csm_utilisation": ("CSM utilisation", "pct"),
    "mean_wait_months": ("Wait for a CSM (mean)", "months"),
    "nps": ("NPS", "score"),
}
#: the comparison's extra row: (label, unit)
ROI = ("ROI of the change", "ratio")


@dataclass(frozen=True)
class ChunkResult:
    """Frames of some replications (what :func:`cs_sim.sim.run_chunk` returns).

    Concatenating the chunks of all replications (in replication order) gives exactly
    the frames of a single local run: see :func:`combine_chunks`.
    """

    replications: tuple[int, ...]
    monthly: pd.DataFrame
    tiers: pd.DataFrame
    plays: pd.DataFrame
    per_replication: pd.DataFrame
    history: History | None = None


def _month_labels(scenario: Scenario, horizon: int) -> pd.DatetimeIndex | None:
    if scenario.start_month is None:
        return None
    start = pd.Timestamp(scenario.start_month[:7] + "-01")
    return pd.date_range(start, periods=horizon, freq="MS")


def chunk_from_raw(raw: RawRun, scenario: Scenario) -> ChunkResult:
    """Build the tidy frames of a :class:`~cs_sim.sim.engine.RawRun`."""
    reps = np.asarray(raw.reps, dtype=np.int64)
    R, H = raw.monthly["mrr_end"].shape
    T, P = len(raw.tier_names), len(raw.play_names)
    gm = scenario.gross_margin
    # monthly ------------------------------------------------------------------
    m = {k: v.reshape(-1) for k, v in raw.monthly.items()}
    monthly = pd.DataFrame({"replication": np.repeat(reps, H), "month": np.tile(np.arange(H), R)})
    dates = _month_labels(scenario, H)
    if dates is not None:
        monthly["date"] = np.tile(dates.to_numpy(), R)
    int_cols = ("accounts_start", "new_logos", "churned_voluntary", "churned_involuntary",
                "accounts_end", "members", "nps_responses", "failed_tickets")
    for k in int_cols:
        monthly[k] = m[k].astype(np.int64)
    monthly["churned"] = (m["churned_voluntary"] + m["churned_involuntary"]).astype(np.int64)
    for k in ("mrr_start", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr",
              "mrr_end"):
        monthly[k] = m[k]
    # the month's bridge: retained = start - churned - contraction, kept by the
    # month's starting customers = retained + expansion
    start = m["mrr_start"]
    monthly["grr"] = formulas.grr(start, start - m["churned_mrr"] - m["contraction_mrr"])
    monthly["nrr"] = formulas.nrr(
        start, start + m["expansion_mrr"] - m["contraction_mrr"] - m["churned_mrr"]
    )
    churn_rate = formulas.logo_churn(monthly["churned"].to_numpy(), m["accounts_start"])
    monthly["logo_churn_rate"] = churn_rate
    arpa = ratio(m["mrr_end"], m["accounts_end"])
    monthly["arpa"] = arpa
    monthly["clv"] = formulas.clv(arpa, gm, churn_rate)
    monthly["csm_cost"] = m["csm_cost"]
    monthly["play_cost"] = m["play_cost"]
    monthly["programme_cost"] = m["programme_cost"]
    monthly["total_cost"] = m["csm_cost"] + m["play_cost"] + m["programme_cost"]
    monthly["nps"] = formulas.nps(m["nps_promoters"], m["nps_detractors"], m["nps_responses"])
    monthly["mean_health"] = m["mean_health"]
    monthly["acquisition_capped"] = m["capped_acquisition"] > 0
    # tiers ---------------------------------------------------------------------
    headcount = np.array([t.team.headcount for t in scenario.tiers], dtype=float)
    t = {k: v.reshape(-1) for k, v in raw.tiers.items()}
    tiers = pd.DataFrame({
        "replication": np.repeat(reps, H * T),
        "month": np.tile(np.repeat(np.arange(H), T), R),
        "tier": pd.array(np.tile(np.array(raw.tier_names, dtype=object), R * H), dtype="str"),
    })
    tiers["accounts"] = t["accounts"].astype(np.int64)
    hc = np.tile(headcount, R * H)
    tiers["headcount"] = hc.astype(np.int64)
    tiers["coverage"] = ratio(t["accounts"], hc)
    tiers["capacity_hours"] = t["capacity_hours"]
    tiers["hours_used"] = t["hours_used"]
    tiers["utilisation"] = ratio(t["hours_used"], t["capacity_hours"])
    tiers["delivered"] = t["delivered"].astype(np.int64)
    tiers["dropped"] = t["dropped"].astype(np.int64)
    tiers["queued"] = t["queued"].astype(np.int64)
    tiers["mean_wait_months"] = ratio(t["wait_sum"], t["delivered"])
    tiers["wait_sum_months"] = t["wait_sum"]
    tiers["mrr"] = t["mrr"]
    # plays ---------------------------------------------------------------------
    p = {k: v.reshape(-1) for k, v in raw.plays.items()}
    plays = pd.DataFrame({
        "replication": np.repeat(reps, H * P),
        "month": np.tile(np.repeat(np.arange(H), P), R),
        "play": pd.array(
            np.tile(np.array(raw.play_names, dtype=object), R * H), dtype="str"
        ),
    })
    for k in ("requested", "delivered", "dropped"):
        plays[k] = p[k].astype(np.int64)
    plays["hours"] = p["hours"]
    plays["cost"] = p["cost"]
    per_rep = _per_replication(raw, monthly, tiers, scenario)
    history = None
    if raw.record is not None:
        history = History.from_record(raw, scenario, monthly)
    return ChunkResult(tuple(int(r) for r in reps), monthly, tiers, plays, per_rep, history)


def _per_replication(
    raw: RawRun, monthly: pd.DataFrame, tiers: pd.DataFrame, scenario: Scenario
) -> pd.DataFrame:
    H = scenario.horizon_months
    gm = scenario.gross_margin
    g = monthly.groupby("replication", sort=False)
    out = pd.DataFrame({"replication": np.asarray(raw.reps, dtype=np.int64)})
    s = g[["churned", "churned_voluntary", "churned_involuntary", "new_logos",
           "accounts_start", "mrr_end", "csm_cost", "play_cost", "programme_cost",
           "total_cost"]].sum()
    s = s.reindex(out["replication"])
    last = g[["accounts_end", "mrr_end"]].last().reindex(out["replication"])
    arpa = g["arpa"].mean().reindex(out["replication"])
    c = raw.cohort
    out["logos_churned"] = s["churned"].to_numpy()
    out["churned_voluntary"] = s["churned_voluntary"].to_numpy()
    out["churned_involuntary"] = s["churned_involuntary"].to_numpy()
    out["new_logos"] = s["new_logos"].to_numpy()
    out["accounts_end"] = last["accounts_end"].to_numpy()
    mlc = formulas.logo_churn(s["churned"].to_numpy(), s["accounts_start"].to_numpy())
    out["monthly_logo_churn"] = mlc
    out["annual_logo_churn"] = 1.0 - (1.0 - mlc) ** 12
    out["grr"] = formulas.grr(c["cohort_mrr_start"], c["cohort_mrr_kept"])
    out["nrr"] = formulas.nrr(c["cohort_mrr_start"], c["cohort_mrr_end"])
    out["grr_annualised"] = out["grr"] ** (12.0 / H)
    out["nrr_annualised"] = out["nrr"] ** (12.0 / H)
    out["mrr_end"] = last["mrr_end"].to_numpy()
    out["revenue"] = s["mrr_end"].to_numpy()
    out["gross_profit"] = out["revenue"] * gm
    out["arpa"] = arpa.to_numpy()
    out["clv"] = formulas.clv(out["arpa"].to_numpy(), gm, mlc)
    for k in ("csm_cost", "play_cost", "programme_cost", "total_cost"):
        out[k] = s[k].to_numpy()
    out["profit"] = out["gross_profit"] - out["total_cost"]
    tg = tiers.groupby("replication", sort=False)[
        ["delivered", "dropped", "hours_used", "capacity_hours", "wait_sum_months"]
    ].sum().reindex(out["replication"])
    plays = raw.plays
    out["plays_delivered"] = plays["delivered"].sum(axis=(1, 2))
    out["plays_dropped"] = plays["dropped"].sum(axis=(1, 2))
    out["csm_utilisation"] = ratio(tg["hours_used"].to_numpy(), tg["capacity_hours"].to_numpy())
    out["mean_wait_months"] = ratio(tg["wait_sum_months"].to_numpy(), tg["delivered"].to_numpy())
    mm = raw.monthly
    out["nps"] = formulas.nps(
        mm["nps_promoters"].sum(axis=1), mm["nps_detractors"].sum(axis=1),
        mm["nps_responses"].sum(axis=1),
    )
    return out


def _summarise(frame: pd.DataFrame, columns: Sequence[str], level: float) -> pd.DataFrame:
    a = (1.0 - level) / 2.0
    rows = []
    for col in columns:
        v = frame[col].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        n = v.size
        if n == 0:
            rows.append((col, np.nan, np.nan, np.nan, np.nan, np.nan, 0))
            continue
        sd = float(v.std(ddof=1)) if n > 1 else np.nan
        rows.append((col, float(v.mean()), sd, sd / np.sqrt(n) if n > 1 else np.nan,
                     float(np.quantile(v, a)), float(np.quantile(v, 1 - a)), n))
    out = pd.DataFrame(rows, columns=["metric", "mean", "std", "se", "lo", "hi", "n"])
    return out.set_index("metric")


def combine_chunks(
    scenario: Scenario, seed: int, chunks: Sequence[ChunkResult]
) -> SimulationResult:
    """Concatenate chunk results (any order) into one :class:`SimulationResult`.

    Parameters
    ----------
    scenario : Scenario
    seed : int
    chunks : sequence of ChunkResult
        Disjoint sets of replications.

    Returns
    -------
    SimulationResult
        Frames sorted by replication, equal to those of a single local run.
    """
    chunks = sorted(chunks, key=lambda c: c.replications[0] if c.replications else -1)
    reps = tuple(r for c in chunks for r in c.replications)
    if len(set(reps)) != len(reps):
        raise ValueError("chunks overlap: a replication appears twice")
    order = np.argsort(np.asarray(reps), kind="stable")

    def cat(name: str) -> pd.DataFrame:
        frame = pd.concat([getattr(c, name) for c in chunks], ignore_index=True)
        if list(order) != list(range(len(order))):
            frame = frame.sort_values("replication", kind="stable", ignore_index=True)
        return frame

    history = next((c.history for c in chunks if c.history is not None), None)
    return SimulationResult(
        scenario=scenario,
        seed=seed,
        replications=tuple(sorted(reps)),
        monthly=cat("monthly"),
        tiers=cat("tiers"),
        plays=cat("plays"),
        per_replication=cat("per_replication"),
        history=history,
    )


def _range_words(level: float) -> str:
    """What ``lo``/``hi`` of a simulation summary are, in words."""
    tail = (1.0 - level) / 2.0
    return (f"range of outcomes ({percent(tail, digits=0)}-{percent(1.0 - tail, digits=0)} "
            "of replications)")


def _ci_words(level: float) -> str:
    """What ``ci_lo``/``ci_hi`` of a comparison are, in words."""
    return f"uncertainty of the mean difference ({percent(level, digits=0)} CI)"


def _labelled(summary: pd.DataFrame, rows: Mapping[str, tuple[str, str]]) -> pd.DataFrame:
    """``summary`` with the ``label`` and ``unit`` of each metric as first columns."""
    out = summary.copy()
    out.insert(0, "label", [rows[m][0] for m in out.index])
    out.insert(1, "unit", [rows[m][1] for m in out.index])
    return out


def _change(value: Any, unit: str) -> str:
    """A difference in ``unit`` (percentage points with 2 decimals: changes are small)."""
    return fmt(value, unit, diff=True, digits=2 if unit == "pct" else None)


class _Renders:
    """``to_text``, ``_repr_html_`` and ``write`` from a heading, a table and files.

    Text and notebook show the same table of figures (each in its unit), so the CLI
    and a notebook read alike.
    """

    def _heading(self, level: float) -> list[str]:
        raise NotImplementedError

    def _table(self, level: float) -> pd.DataFrame:
        raise NotImplementedError

    def _files(self, level: float) -> dict[str, str]:
        raise NotImplementedError

    def to_text(self, *, level: float = 0.9) -> str:
        """The result as plain text: a heading that says what the figures are, a table.

        Parameters
        ----------
        level : float, default 0.9
            Coverage of the intervals.

        Returns
        -------
        str
            One line per metric, every figure in its unit (:mod:`cs_sim.format`).
        """
        heading = [textwrap.fill(t, width=96) for t in self._heading(level)]
        table = [line.rstrip() for line in self._table(level).to_string().splitlines()]
        return "\n".join([*heading, "", *table])

    def _repr_html_(self) -> str:
        caption = " ".join(self._heading(0.9))
        return style_frame(self._table(0.9), caption=caption).to_html()

    def write(self, out_dir: str | Path, *, level: float = 0.9) -> list[Path]:
        """Write the result (JSON, text, CSV tables) into ``out_dir`` (created if needed).

        Parameters
        ----------
        out_dir : str or pathlib.Path
        level : float, default 0.9

        Returns
        -------
        list of pathlib.Path
            The files written.
        """
        return write_files(out_dir, self._files(level))


@dataclass(frozen=True)
class SimulationResult(_Renders):
    """Outcome of :func:`cs_sim.simulate`.

    It renders itself: :meth:`to_text` (what ``cs-sim simulate`` prints),
    :meth:`to_dict` (``--json``), :meth:`to_frame`, :meth:`write` (``--out``) and an
    HTML table in notebooks. Its interval ``lo``-``hi`` is the **range of outcomes**:
    the 5% and 95% quantiles of the replications' results (at ``level=0.9``), how
    much one run of the future may differ from another, not the uncertainty of the
    mean.

    Attributes
    ----------
    scenario : Scenario
    seed : int
        The root seed (drawn from fresh entropy when none was given).
    replications : tuple of int
    monthly : DataFrame
        Per replication and month: logos (start, new, churned voluntary/involuntary,
        end), the MRR bridge (start, new, expansion, contraction, churned, end), monthly
        GRR/NRR and logo churn rate, ARPA, CLV (ARPA x gross margin / monthly logo
        churn), costs (CSM, plays, programmes, total), loyalty members, NPS,
        failed tickets, mean health.
    tiers : DataFrame
        Per replication, month and tier: accounts, headcount, coverage (accounts per
        CSM), capacity and hours used, utilisation, delivered, dropped, still queued,
        mean wait (months), MRR.
    plays : DataFrame
        Per replication, month and play: requested, delivered, dropped, CSM
        hours, cost.
    per_replication : DataFrame
        One row per replication with the horizon metrics of :data:`METRICS` (GRR/NRR
        of the starting cohort over the horizon and annualised, churn, revenue, CLV,
        costs, profit, utilisation, waits, NPS).
    history : History or None
        The per-account panel of one replication when run with ``record``.
    """

    scenario: Scenario
    seed: int
    replications: tuple[int, ...]
    monthly: pd.DataFrame
    tiers: pd.DataFrame
    plays: pd.DataFrame
    per_replication: pd.DataFrame
    history: History | None = None

    def summary(self, *, level: float = 0.9) -> pd.DataFrame:
        """Mean, standard deviation, standard error and the range of outcomes per metric.

        Parameters
        ----------
        level : float, default 0.9
            Share of the replications inside ``lo``-``hi`` (the range of outcomes:
            quantiles over replications, not an interval of the mean).

        Returns
        -------
        DataFrame
            Indexed by metric; columns ``mean, std, se, lo, hi, n``.
        """
        return _summarise(self.per_replication, list(METRICS), level)

    def to_frame(self, *, level: float = 0.9) -> pd.DataFrame:
        """:meth:`summary` (raw numbers) with each metric's ``label`` and ``unit`` first."""
        return _labelled(self.summary(level=level), METRICS)

    def to_dict(self, *, level: float = 0.9) -> dict[str, Any]:
        """A JSON-ready dictionary of raw numbers (NaN as ``None``).

        Keys ``scenario, seed, replications, horizon_months, level, intervals`` (what
        ``lo``/``hi`` mean) and ``summary`` (metric -> row of :meth:`to_frame`).
        """
        return to_jsonable({
            "scenario": self.scenario.name,
            "seed": self.seed,
            "replications": len(self.replications),
            "horizon_months": self.scenario.horizon_months,
            "level": level,
            "intervals": {"lo/hi": _range_words(level)},
            "summary": self.to_frame(level=level).to_dict(orient="index"),
        })

    def _heading(self, level: float) -> list[str]:
        sc = self.scenario
        return [
            f'Scenario "{sc.name}": {len(self.replications)} replications x '
            f"{sc.horizon_months} months, seed {self.seed}.",
            f"mean: the average over the replications; {_range_words(level)}: the middle "
            f"{percent(level, digits=0)} of the replications' results (how much one future "
            "may differ from another, not the uncertainty of the mean).",
        ]

    def _table(self, level: float) -> pd.DataFrame:
        frame = self.to_frame(level=level)
        rows = list(zip(frame["mean"], frame["lo"], frame["hi"], frame["unit"], strict=True))
        table = pd.DataFrame(
            {
                "mean": [fmt(m, u) for m, _, _, u in rows],
                _range_words(level): [f"{fmt(lo, u)} .. {fmt(hi, u)}" for _, lo, hi, u in rows],
            },
            index=frame["label"].to_list(),
        )
        table.columns.name = "metric"
        return table

    def _files(self, level: float) -> dict[str, str]:
        """``monthly, tiers, plays, per_replication, summary`` as CSV, and
        ``summary.json``, ``summary.txt``.
        """
        files = {
            f"{name}.csv": getattr(self, name).to_csv(index=False)
            for name in ("monthly", "tiers", "plays", "per_replication")
        }
        files["summary.csv"] = self.to_frame(level=level).to_csv()
        files["summary.json"] = json.dumps(self.to_dict(level=level), indent=2) + "\n"
        files["summary.txt"] = self.to_text(level=level) + "\n"
        return files


@dataclass(frozen=True)
class ComparisonResult(_Renders):
    """Outcome of :func:`cs_sim.compare`: both runs and their paired differences.

    It renders itself like :class:`SimulationResult`. Its interval ``ci_lo``-``ci_hi``
    is the **uncertainty of the mean difference** (a 90% confidence interval at
    ``level=0.9``: mean +- z x standard error of the paired differences), which
    narrows as replications are added; ``lo``-``hi`` is the range of the
    per-replication differences. :meth:`write` also writes both runs' files into
    ``baseline/`` and ``variant/``.

    Attributes
    ----------
    baseline, variant : SimulationResult
        Run on the same seed and slot layout (common random numbers).
    differences : DataFrame
        One row per replication: ``variant - baseline`` of each metric, and ``roi``
        = (difference of gross profit - difference of cost) / difference of cost.
    """

    baseline: SimulationResult
    variant: SimulationResult
    differences: pd.DataFrame

    def summary(self, *, level: float = 0.9) -> pd.DataFrame:
        """Paired differences with the uncertainty of their means.

        Parameters
        ----------
        level : float, default 0.9

        Returns
        -------
        DataFrame
            Indexed by metric; columns ``baseline, variant, diff, se, ci_lo, ci_hi`` (the
            uncertainty of the mean difference: a ``level`` confidence interval),
            ``lo, hi`` (range of the per-replication differences). The ``roi`` row's
            ``diff`` is the ROI of the mean differences.
        """
        z = NormalDist().inv_cdf(0.5 + level / 2.0)
        d = _summarise(self.differences, [*METRICS, "roi"], level)
        b = _summarise(self.baseline.per_replication, list(METRICS), level)["mean"]
        v = _summarise(self.variant.per_replication, list(METRICS), level)["mean"]
        out = pd.DataFrame(index=d.index)
        out["baseline"] = b
        out["variant"] = v
        out["diff"] = d["mean"]
        out["se"] = d["se"]
        out["ci_lo"] = d["mean"] - z * d["se"].fillna(0.0)
        out["ci_hi"] = d["mean"] + z * d["se"].fillna(0.0)
        out["lo"] = d["lo"]
        out["hi"] = d["hi"]
        dgp = self.differences["gross_profit"].mean()
        dcost = self.differences["total_cost"].mean()
        out.loc["roi", "diff"] = _roi(dgp, dcost)
        return out

    def to_frame(self, *, level: float = 0.9) -> pd.DataFrame:
        """:meth:`summary` (raw numbers) with each metric's ``label`` and ``unit`` first."""
        return _labelled(self.summary(level=level), {**METRICS, "roi": ROI})

    def to_dict(self, *, level: float = 0.9) -> dict[str, Any]:
        """A JSON-ready dictionary of raw numbers (NaN as ``None``).

        Keys ``baseline, variant`` (scenario names), ``seed, replications,
        horizon_months, level, intervals`` (what ``ci_lo``/``ci_hi`` and ``lo``/``hi``
        mean), ``roi`` and ``summary`` (metric -> row of :meth:`to_frame`).
        """
        frame = self.to_frame(level=level)
        return to_jsonable({
            "baseline": self.baseline.scenario.name,
            "variant": self.variant.scenario.name,
            "seed": self.baseline.seed,
            "replications": len(self.baseline.replications),
            "horizon_months": self.baseline.scenario.horizon_months,
            "level": level,
            "intervals": {
                "ci_lo/ci_hi": _ci_words(level),
                "lo/hi": "range of the per-replication differences "
                         + _range_words(level).removeprefix("range of outcomes "),
            },
            "roi": frame.loc["roi", "diff"],
            "summary": frame.to_dict(orient="index"),
        })

    def _heading(self, level: float) -> list[str]:
        b, v = self.baseline, self.variant
        return [
            f'Scenario "{v.scenario.name}" (variant) compared with scenario '
            f'"{b.scenario.name}" (baseline)',
            f"{len(b.replications)} replications x {b.scenario.horizon_months} months each, "
            f"seed {b.seed}, on common random numbers: replication r of both scenarios "
            "sees the same customers and chance events, so a difference is the change, "
            "not luck.",
            f"difference: variant - baseline, averaged over the replications; "
            f"{_ci_words(level)}: where the mean difference lies with "
            f"{percent(level, digits=0)} confidence (it narrows with more replications). "
            f"{ROI[0]}: (gross profit gained - extra cost) / extra cost.",
        ]

    def _table(self, level: float) -> pd.DataFrame:
        frame = self.to_frame(level=level)
        rows = frame.to_dict(orient="index")
        roi = rows.pop("roi")
        table = pd.DataFrame(
            {
                "baseline": [fmt(r["baseline"], r["unit"]) for r in rows.values()],
                "variant": [fmt(r["variant"], r["unit"]) for r in rows.values()],
                "difference": [_change(r["diff"], r["unit"]) for r in rows.values()],
                _ci_words(level): [
                    f"{_change(r['ci_lo'], r['unit'])} .. {_change(r['ci_hi'], r['unit'])}"
                    for r in rows.values()
                ],
            },
            index=[r["label"] for r in rows.values()],
        )
        no_cost = not np.isfinite(roi["diff"])
        table.loc[roi["label"]] = ["", "", "n/a" if no_cost else fmt(roi["diff"], roi["unit"]),
                                   "(no difference in cost)" if no_cost else ""]
        table.columns.name = "metric"
        return table

    def _files(self, level: float) -> dict[str, str]:
        return {
            "comparison.json": json.dumps(self.to_dict(level=level), indent=2) + "\n",
            "comparison.txt": self.to_text(level=level) + "\n",
            "summary.csv": self.to_frame(level=level).to_csv(),
            "differences.csv": self.differences.to_csv(index=False),
        }

    def write(self, out_dir: str | Path, *, level: float = 0.9) -> list[Path]:
        """Write the comparison and both runs into ``out_dir`` (created if needed).

        ``comparison.json``, ``comparison.txt``, ``summary.csv`` and ``differences.csv``,
        and each run's files (:meth:`SimulationResult.write`) in ``baseline/`` and
        ``variant/``.

        Parameters
        ----------
        out_dir : str or pathlib.Path
        level : float, default 0.9

        Returns
        -------
        list of pathlib.Path
            The files written.
        """
        out = Path(out_dir)
        return [*super().write(out, level=level),
                *self.baseline.write(out / "baseline", level=level),
                *self.variant.write(out / "variant", level=level)]


def _roi(gross_profit_gained: Any, extra_cost: Any) -> Any:
    """``(gross profit gained - extra cost) / extra cost``; NaN without extra cost."""
    return ratio(gross_profit_gained - extra_cost, extra_cost)


def paired_differences(base: SimulationResult, var: SimulationResult) -> pd.DataFrame:
    """Per-replication ``variant - baseline`` of every metric, plus ``roi``."""
    b = base.per_replication.set_index("replication")
    v = var.per_replication.set_index("replication").reindex(b.index)
    d = v[list(METRICS)] - b[list(METRICS)]
    d["roi"] = _roi(d["gross_profit"].to_numpy(), d["total_cost"].to_numpy())
    return d.reset_index()
