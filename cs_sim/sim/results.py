"""Results of simulation runs: :class:`SimulationResult` and :class:`ComparisonResult`.

The frames come from :mod:`cs_sim.sim.summaries` (tidy: one row per replication and
month, plus tier, segment or play; one row per replication, plus segment or tier, for
the horizon metrics), money and decisions from :mod:`cs_sim.sim.money`. Two kinds of
interval, 90% by default, always named apart:

- the **range of outcomes** (``lo``/``hi`` of a simulation summary): the 5% and 95%
  quantiles of the replications' results, how much one future may differ from another;
- the **uncertainty of the mean difference** (``ci_lo``/``ci_hi`` of a comparison): a
  Student-t interval of the mean paired difference, mean ± t x se, which narrows as
  replications are added (``lo``/``hi`` of a comparison are the quantiles of the paired
  differences). The ROI's interval is a paired bootstrap of the ratio of means.

Results render themselves (``to_frame``, ``to_dict``, ``to_text``, ``write`` and an
HTML table in notebooks), figures shown by :mod:`cs_sim.format`; ``to_frame(by=
"segment")`` and ``to_frame(by="tier")`` give every result by segment and by tier.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from cs_sim.format import fmt, percent, text_sections, to_jsonable
from cs_sim.sim import money
from cs_sim.sim.notes import comparison_notes
from cs_sim.sim.record import History
from cs_sim.sim.rendering import (
    WIDTH,
    Renders,
    change,
    ci_words,
    labelled,
    money_words,
    nested,
    period,
    range_words,
    section_title,
    wide,
)
from cs_sim.sim.rng import bootstrap_generator
from cs_sim.sim.summaries import (
    METRICS,
    ROI,
    SECTIONS,
    SEGMENT_METRICS,
    TIER_METRICS,
    ChunkResult,
    chunk_from_raw,
    paired_differences,
    paired_group_differences,
    summarise,
    summarise_groups,
)

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.sim.scenario import Scenario

__all__ = [
    "METRICS",
    "ROI",
    "ChunkResult",
    "ComparisonResult",
    "SimulationResult",
    "chunk_from_raw",
    "combine_chunks",
    "paired_differences",
]

By = Literal["segment", "tier"]
#: the per-group metrics of each breakdown
_GROUP_METRICS: dict[str, dict[str, tuple[str, str]]] = {
    "segment": SEGMENT_METRICS, "tier": TIER_METRICS
}
#: rows of the breakdown tables in the text output
_SEGMENT_ROWS = ("accounts_end", "annual_logo_churn", "grr_annualised", "nrr_annualised",
                 "net_retention", "arpa", "clv", "revenue", "cs_cost", "profit",
                 "plays_delivered")
_TIER_ROWS = ("headcount", "accounts_per_csm", "csm_utilisation", "mean_wait_months",
              "plays_delivered", "plays_dropped", "annual_logo_churn", "nrr_annualised",
              "clv", "cs_cost")
_SEGMENT_DIFF_ROWS = ("annual_logo_churn", "grr_annualised", "nrr_annualised", "clv",
                      "cs_cost", "profit")


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
        frames = [getattr(c, name) for c in chunks if getattr(c, name) is not None]
        if not frames:
            return pd.DataFrame()
        frame = pd.concat(frames, ignore_index=True)
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
        segments=cat("segments"),
        per_segment=cat("per_segment"),
        per_tier=cat("per_tier"),
    )


@dataclass(frozen=True)
class SimulationResult(Renders):
    """Outcome of :func:`cs_sim.simulate`.

    It renders itself: :meth:`to_text` (what ``cs-sim simulate`` prints),
    :meth:`to_dict` (``--json``), :meth:`to_frame` (also ``by="segment"`` or
    ``by="tier"``), :meth:`write` (``--out``) and HTML tables in notebooks. Its interval
    ``lo``-``hi`` is the **range of outcomes**: the 5% and 95% quantiles of the
    replications' results (at ``level=0.9``), how much one run of the future may
    differ from another, not the uncertainty of the mean (``ci_lo``-``ci_hi``).

    Attributes
    ----------
    scenario : Scenario
    seed : int
        The root seed (drawn from fresh entropy when none was given).
    replications : tuple of int
    monthly : DataFrame
        Per replication and reported month: logos (start, new, churned
        voluntary/involuntary, end), the MRR bridge, monthly GRR/NRR and logo churn,
        ARPA, CLV (:func:`cs_sim.sim.money.customer_value` at the month's net
        retention), revenue, gross profit, costs (CSM, plays, programmes, total),
        profit, loyalty members, NPS, failed tickets, mean health.
    tiers : DataFrame
        Per replication, month and tier: accounts, headcount, coverage, capacity and
        hours used, utilisation, delivered, dropped, still queued, mean wait (months),
        MRR, the MRR bridge, CSM cost and CS cost (allocated).
    plays : DataFrame
        Per replication, month and play: eligible (when the engine reports it),
        requested, delivered, dropped, CSM hours, cost.
    per_replication : DataFrame
        One row per replication with the horizon metrics of :data:`METRICS`.
    history : History or None
        The per-account panel of one replication when run with ``record``.
    segments : DataFrame
        Per replication, month and segment: the MRR bridge, play cost, CSM hours,
        deliveries, drops, CSM cost and CS cost (allocated).
    per_segment, per_tier : DataFrame
        One row per replication and segment (tier) with the horizon metrics of
        :data:`~cs_sim.sim.summaries.SEGMENT_METRICS` (``TIER_METRICS``).
    """

    scenario: Scenario
    seed: int
    replications: tuple[int, ...]
    monthly: pd.DataFrame
    tiers: pd.DataFrame
    plays: pd.DataFrame
    per_replication: pd.DataFrame
    history: History | None = None
    segments: pd.DataFrame = field(default_factory=pd.DataFrame)
    per_segment: pd.DataFrame = field(default_factory=pd.DataFrame)
    per_tier: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def parameters(self) -> pd.DataFrame:
        """The values each replication drew for the parameters given as distributions.

        One row per replication, one column per dotted path (only ``replication`` when
        the scenario has none); see :mod:`cs_sim.sim.uncertainty`.
        """
        from cs_sim.sim.uncertainty import parameter_draws

        return parameter_draws(self.scenario, self.seed, self.replications)

    def summary(self, *, level: float = 0.9, by: By | None = None) -> pd.DataFrame:
        """Mean, sd, se, the range of outcomes and the t-interval of the mean, per metric.

        Parameters
        ----------
        level : float, default 0.9
            Share of the replications inside ``lo``-``hi`` (the range of outcomes:
            quantiles over replications), and coverage of ``ci_lo``-``ci_hi`` (the
            Student-t interval of the mean).
        by : {"segment", "tier"}, optional
            Summarise each segment's (tier's) metrics instead of the whole book's.

        Returns
        -------
        DataFrame
            Indexed by metric (``(segment, metric)`` or ``(tier, metric)`` with ``by``);
            columns ``mean, std, se, lo, hi, n, ci_lo, ci_hi``.
        """
        if by is None:
            return summarise(self.per_replication, list(METRICS), level)
        frame, key = self._breakdown(by)
        return summarise_groups(frame, key, list(_GROUP_METRICS[key]), level)

    def _breakdown(self, by: str) -> tuple[pd.DataFrame, str]:
        if by == "segment":
            return self.per_segment, "segment"
        if by == "tier":
            return self.per_tier, "tier"
        raise ValueError(f"by must be 'segment' or 'tier' (got {by!r})")

    def to_frame(self, *, level: float = 0.9, by: By | None = None) -> pd.DataFrame:
        """:meth:`summary` (raw numbers) with each metric's ``label`` and ``unit`` first.

        ``by="segment"`` / ``by="tier"``: one block of rows per segment (tier), indexed
        by ``(segment, metric)``; the one way to get every result by segment or tier.
        """
        rows = METRICS if by is None else _GROUP_METRICS[self._breakdown(by)[1]]
        return labelled(self.summary(level=level, by=by), rows)

    def to_dict(self, *, level: float = 0.9) -> dict[str, Any]:
        """A JSON-ready dictionary of raw numbers (NaN as ``None``).

        Keys ``scenario, seed, replications, horizon_months, warmup_months, level,
        intervals`` (what ``lo``/``hi`` and ``ci_lo``/``ci_hi`` mean), ``money``
        (discount rate, terminal value), ``summary`` (metric -> row of :meth:`to_frame`)
        and ``segments``, ``tiers`` (name -> metric -> row).
        """
        sc = self.scenario
        return to_jsonable({
            "scenario": sc.name,
            "seed": self.seed,
            "replications": len(self.replications),
            "horizon_months": sc.horizon_months,
            "warmup_months": sc.warmup(),
            "level": level,
            "intervals": {"lo/hi": range_words(level),
                          "ci_lo/ci_hi": f"Student-t {percent(level, digits=0)} interval "
                                         "of the mean"},
            "money": {"gross_margin": sc.gross_margin, **sc.money.model_dump()},
            "summary": self.to_frame(level=level).to_dict(orient="index"),
            "segments": nested(self.to_frame(level=level, by="segment")),
            "tiers": nested(self.to_frame(level=level, by="tier")),
        })

    def _heading(self, level: float) -> list[str]:
        sc = self.scenario
        return [
            f'Scenario "{sc.name}": {len(self.replications)} replications x {period(sc)}, '
            f"seed {self.seed}.",
            f"mean: the average over the replications; {range_words(level)}: the middle "
            f"{percent(level, digits=0)} of the replications' results (how much one future "
            "may differ from another, not the uncertainty of the mean). " + money_words(sc),
        ]

    def _sections(self, level: float) -> list[tuple[str, pd.DataFrame]]:
        frame = self.to_frame(level=level)
        tail = (1.0 - level) / 2.0
        rng = f"range of outcomes ({percent(tail, digits=0)}-{percent(1 - tail, digits=0)})"
        out = []
        for title, names in SECTIONS.items():
            rows = frame.loc[list(names)]
            table = pd.DataFrame({
                "mean": [fmt(m, u) for m, u in zip(rows["mean"], rows["unit"], strict=True)],
                rng: [f"{fmt(lo, u)} .. {fmt(hi, u)}" for lo, hi, u in
                      zip(rows["lo"], rows["hi"], rows["unit"], strict=True)],
            }, index=rows["label"].to_list())
            out.append((section_title(title, self.scenario), table))
        return out

    def _extra(self, level: float) -> list[str]:
        lines = []
        for by, rows in (("segment", _SEGMENT_ROWS), ("tier", _TIER_ROWS)):
            frame, key = self._breakdown(by)
            if frame.empty:
                continue
            s = summarise_groups(frame, key, rows, level)
            table = wide(s, key, rows, _GROUP_METRICS[key], "mean", diff=False)
            lines += ["", text_sections([(f"By {key} (mean)", table)])]
        return lines

    def _files(self, level: float) -> dict[str, str]:
        """The frames as CSV (``monthly, tiers, segments, plays, per_replication,
        per_segment, per_tier``), the summaries (``summary.csv``,
        ``summary_segments.csv``, ``summary_tiers.csv``), ``summary.json`` and
        ``summary.txt``.
        """
        files = {
            f"{name}.csv": getattr(self, name).to_csv(index=False)
            for name in ("monthly", "tiers", "segments", "plays", "per_replication",
                         "per_segment", "per_tier")
        }
        files["summary.csv"] = self.to_frame(level=level).to_csv()
        files["summary_segments.csv"] = self.to_frame(level=level, by="segment").to_csv()
        files["summary_tiers.csv"] = self.to_frame(level=level, by="tier").to_csv()
        files["summary.json"] = json.dumps(self.to_dict(level=level), indent=2) + "\n"
        files["summary.txt"] = self.to_text(level=level) + "\n"
        if self.scenario.uncertain:  # the values each replication drew
            files["parameters.csv"] = self.parameters.to_csv(index=False)
        return files


@dataclass(frozen=True)
class ComparisonResult(Renders):
    """Outcome of :func:`cs_sim.compare`: both runs, their paired differences, a decision.

    It renders itself like :class:`SimulationResult`. Its interval ``ci_lo``-``ci_hi``
    is the **uncertainty of the mean difference** (a Student-t 90% interval at
    ``level=0.9``), which narrows as replications are added; ``lo``-``hi`` is the range
    of the per-replication differences. The ROI exists only where the variant costs
    more: ``mean(Δprofit) / mean(ΔCS cost)`` with a paired-bootstrap interval
    (:func:`cs_sim.sim.money.decide`); :meth:`decision` says what the comparison means
    for money. :meth:`write` also writes a forest chart and both runs' files.

    Attributes
    ----------
    baseline, variant : SimulationResult
        Run on the same seed and slot layout (common random numbers).
    differences : DataFrame
        One row per replication: ``variant - baseline`` of each metric, and ``roi``
        (that replication's profit difference over its cost difference where it cost
        more; the comparison's ROI is the ratio of the means).
    """

    baseline: SimulationResult
    variant: SimulationResult
    differences: pd.DataFrame

    def decision(self, *, level: float = 0.9) -> money.Decision:
        """What the comparison means for money: ROI or saving, NPV, payback, probabilities.

        The ROI's bootstrap draws from the comparison's own stream
        (:func:`cs_sim.sim.rng.bootstrap_generator` of the seed), so it is reproducible.
        """
        if level == 0.9:
            return self._decision_90
        return self._decide(level)

    @cached_property
    def _decision_90(self) -> money.Decision:
        return self._decide(0.9)

    def _decide(self, level: float) -> money.Decision:
        sc = self.baseline.scenario
        b, v = self.baseline.monthly, self.variant.monthly
        horizon = sc.horizon_months
        monthly = (v["profit"].to_numpy() - b["profit"].to_numpy()).reshape(-1, horizon)
        return money.decide(
            self.differences, monthly, level=level,
            generator=bootstrap_generator(self.baseline.seed), horizon_months=horizon,
            discount_rate=sc.money.discount_rate, terminal_value=sc.money.terminal_value,
        )

    def summary(self, *, level: float = 0.9, by: By | None = None) -> pd.DataFrame:
        """Paired differences with the uncertainty of their means.

        Parameters
        ----------
        level : float, default 0.9
        by : {"segment", "tier"}, optional
            Pair each segment's (tier's) metrics; groups in both runs only.

        Returns
        -------
        DataFrame
            Indexed by metric (``(group, metric)`` with ``by``); columns ``baseline,
            variant, diff, se, ci_lo, ci_hi`` (the uncertainty of the mean difference:
            a Student-t ``level`` interval), ``lo, hi`` (range of the per-replication
            differences). The ``roi`` row (whole book only) holds the ROI, a ratio of
            means, and its paired-bootstrap interval; NaN when the variant does not
            cost more.
        """
        if by is not None:
            return self._group_summary(by, level)
        d = summarise(self.differences, list(METRICS), level)
        out = pd.DataFrame(index=pd.Index([*METRICS, "roi"], name="metric"))
        out["baseline"] = summarise(self.baseline.per_replication, list(METRICS), level)["mean"]
        out["variant"] = summarise(self.variant.per_replication, list(METRICS), level)["mean"]
        out["diff"] = d["mean"]
        out["se"] = d["se"]
        out["ci_lo"] = d["ci_lo"]
        out["ci_hi"] = d["ci_hi"]
        out["lo"] = d["lo"]
        out["hi"] = d["hi"]
        dec = self.decision(level=level)
        out.loc["roi", ["diff", "ci_lo", "ci_hi"]] = [dec.roi, dec.roi_lo, dec.roi_hi]
        return out

    def _group_summary(self, by: str, level: float) -> pd.DataFrame:
        base, key = self.baseline._breakdown(by)
        var, _ = self.variant._breakdown(by)
        cols = list(_GROUP_METRICS[key])
        if base.empty or var.empty:
            return pd.DataFrame()
        d = summarise_groups(paired_group_differences(base, var, key, cols), key, cols, level)
        b = summarise_groups(base, key, cols, level)["mean"]
        v = summarise_groups(var, key, cols, level)["mean"]
        out = pd.DataFrame(index=d.index)
        out["baseline"] = b.reindex(d.index)
        out["variant"] = v.reindex(d.index)
        for c, src in (("diff", "mean"), ("se", "se"), ("ci_lo", "ci_lo"), ("ci_hi", "ci_hi"),
                       ("lo", "lo"), ("hi", "hi")):
            out[c] = d[src]
        return out

    def to_frame(self, *, level: float = 0.9, by: By | None = None) -> pd.DataFrame:
        """:meth:`summary` (raw numbers) with each metric's ``label`` and ``unit`` first."""
        if by is None:
            return labelled(self.summary(level=level), {**METRICS, "roi": ROI})
        key = self.baseline._breakdown(by)[1]
        s = self.summary(level=level, by=by)
        return s if s.empty else labelled(s, _GROUP_METRICS[key])

    def notes(self, *, level: float = 0.9) -> list[str]:
        """Why a change may not act: an idle or saturated team, a play nobody is eligible
        for or that is never delivered (:func:`cs_sim.sim.notes.comparison_notes`)."""
        return comparison_notes(self.baseline, self.variant)

    def to_dict(self, *, level: float = 0.9) -> dict[str, Any]:
        """A JSON-ready dictionary of raw numbers (NaN as ``None``).

        Keys ``baseline, variant`` (scenario names), ``seed, replications,
        horizon_months, level, intervals`` (what ``ci_lo``/``ci_hi`` and ``lo``/``hi``
        mean), ``roi``, ``decision`` (:meth:`decision`), ``notes``, ``summary`` (metric
        -> row of :meth:`to_frame`), ``segments`` and ``tiers`` (group -> metric -> row).
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
                "ci_lo/ci_hi": ci_words(level) + ": Student-t interval of the mean paired "
                               "difference; for roi a paired-bootstrap percentile interval",
                "lo/hi": "range of the per-replication differences "
                         + range_words(level).removeprefix("range of outcomes "),
            },
            "roi": frame.loc["roi", "diff"],
            "decision": self.decision(level=level).to_dict(),
            "notes": self.notes(level=level),
            "summary": frame.to_dict(orient="index"),
            "segments": nested(self.to_frame(level=level, by="segment")),
            "tiers": nested(self.to_frame(level=level, by="tier")),
        })

    def _heading(self, level: float) -> list[str]:
        b, v = self.baseline, self.variant
        lvl = percent(level, digits=0)
        return [
            f'Scenario "{v.scenario.name}" (variant) compared with scenario '
            f'"{b.scenario.name}" (baseline)',
            f"{len(b.replications)} replications x {period(b.scenario, each=True)}, seed {b.seed}, "
            "on common random numbers: replication r of both scenarios sees the same "
            "customers and chance events, so a difference is the change, not luck.",
            "difference: variant - baseline, averaged over the replications.",
            f"{ci_words(level)}: a Student-t interval holding the mean difference with "
            f"{lvl} confidence; it narrows with more replications (it is not the range of "
            "outcomes of one future). " + money_words(b.scenario),
        ]

    def _lead(self, level: float) -> list[str]:
        """The decision in words, then the notes on changes that cannot act."""
        lines = ["Decision"]
        for sentence in self.decision(level=level).sentences():
            lines.append(textwrap.fill(sentence, width=WIDTH, initial_indent="  ",
                                       subsequent_indent="    "))
        notes = self.notes(level=level)
        if notes:
            lines += ["", "Notes"]
            lines += [textwrap.fill(n, width=WIDTH, initial_indent="  - ",
                                    subsequent_indent="    ") for n in notes]
        return [*lines, ""]

    def _sections(self, level: float) -> list[tuple[str, pd.DataFrame]]:
        frame = self.to_frame(level=level)
        ci_col = f"{percent(level, digits=0)} CI, mean difference"
        out = []
        for title, names in SECTIONS.items():
            rows = frame.loc[list(names)]
            table = pd.DataFrame({
                "baseline": [fmt(x, u) for x, u in zip(rows["baseline"], rows["unit"],
                                                       strict=True)],
                "variant": [fmt(x, u) for x, u in zip(rows["variant"], rows["unit"],
                                                      strict=True)],
                "difference": [change(x, u) for x, u in zip(rows["diff"], rows["unit"],
                                                             strict=True)],
                ci_col: [f"{change(lo, u)} .. {change(hi, u)}" for lo, hi, u in
                         zip(rows["ci_lo"], rows["ci_hi"], rows["unit"], strict=True)],
            }, index=rows["label"].to_list())
            if title == "Money":
                table.loc[ROI[0]] = ["", "", *self._roi_cells(frame.loc["roi"], level)]
            out.append((section_title(title, self.baseline.scenario), table))
        tiers = self.to_frame(level=level, by="tier")
        if not tiers.empty:
            util = tiers.xs("csm_utilisation", level="metric")
            table = pd.DataFrame({
                "baseline": [fmt(x, "pct") for x in util["baseline"]],
                "variant": [fmt(x, "pct") for x in util["variant"]],
                "difference": [change(x, "pct") for x in util["diff"]],
                ci_col: [f"{change(lo, 'pct')} .. {change(hi, 'pct')}"
                         for lo, hi in zip(util["ci_lo"], util["ci_hi"], strict=True)],
            }, index=[f"{t} team" for t in util.index])
            out.append(("CSM utilisation by tier", table))
        return out

    def _roi_cells(self, row: pd.Series, level: float) -> list[str]:
        dec = self.decision(level=level)
        if dec.case == "saves":
            return ["n/a", "(saves money: no ROI)"]
        if dec.case == "same_cost":
            return ["n/a", "(no difference in cost)"]
        band = (f"{fmt(row['ci_lo'], 'ratio')} .. {fmt(row['ci_hi'], 'ratio')} (bootstrap)"
                if np.isfinite(row["ci_lo"]) else "(cost change uncertain)")
        return [fmt(row["diff"], "ratio"), band]

    def _extra(self, level: float) -> list[str]:
        seg = self.to_frame(level=level, by="segment")
        if seg.empty:
            return []
        table = wide(seg, "segment", _SEGMENT_DIFF_ROWS, SEGMENT_METRICS, "diff", diff=True)
        return ["", text_sections([("By segment: difference", table)])]

    def _files(self, level: float) -> dict[str, str]:
        return {
            "comparison.json": json.dumps(self.to_dict(level=level), indent=2) + "\n",
            "comparison.txt": self.to_text(level=level) + "\n",
            "summary.csv": self.to_frame(level=level).to_csv(),
            "summary_segments.csv": self.to_frame(level=level, by="segment").to_csv(),
            "summary_tiers.csv": self.to_frame(level=level, by="tier").to_csv(),
            "differences.csv": self.differences.to_csv(index=False),
        }

    def write(self, out_dir: str | Path, *, level: float = 0.9) -> list[Path]:
        """Write the comparison, a forest chart and both runs into ``out_dir``.

        ``comparison.json``, ``comparison.txt``, ``summary.csv``,
        ``summary_segments.csv``, ``summary_tiers.csv``, ``differences.csv``, the
        forest chart of the paired differences with their intervals
        (``forest.png``, ``forest.svg``: :func:`cs_sim.plotting.forest_figure`), and
        each run's files (:meth:`SimulationResult.write`) in ``baseline/`` and
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
        from cs_sim.plotting import forest_figure

        out = Path(out_dir)
        written = super().write(out, level=level)
        fig = forest_figure(self.to_frame(level=level),
                            title=f'"{self.variant.scenario.name}" - '
                                  f'"{self.baseline.scenario.name}"', level=level)
        for ext in ("png", "svg"):
            path = out / f"forest.{ext}"
            fig.savefig(path, dpi=150, bbox_inches="tight")
            written.append(path)
        return [*written,
                *self.baseline.write(out / "baseline", level=level),
                *self.variant.write(out / "variant", level=level)]
