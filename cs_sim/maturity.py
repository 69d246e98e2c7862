"""Customer-success maturity: questionnaire -> stage -> focus metrics and roadmap.

A team answers the questionnaire (``templates/maturity_questionnaire.yaml``; eight
dimensions, each question scored 1-5 against anchored descriptions). A dimension's
score is the mean of its questions' answers. :func:`assess_maturity` places the team on
a four-stage scale:

============  ================================================================
stage         what it looks like
============  ================================================================
reactive      "CPR": firefighting escalations and cancellations as they come
proactive     playbooks, onboarding and check-ins reach customers before they ask
predictive    a health score validated against churn warns ahead; data triggers plays
strategic     CS is a growth engine: NRR, expansion and CLV are company goals
============  ================================================================

**Score rules.** Each stage above reactive has, in the questionnaire's ``stages:``
section, a minimum mean score over the dimensions (``min_mean``), a minimum for every
dimension (``min_each``) and minimums for named dimensions (``requires``). The
*self-assessed* stage is the highest stage whose rules, and those of every stage below
it, hold.

**Evidence gates.** A stage is only *reached* when the data back the answers
(:data:`GATES`):

- proactive: product usage recorded per account for at least 3 months (``usage``) and
  a customer-experience signal (``tickets`` or ``surveys``);
- predictive: at least 12 months of MRR history and a **validated health score**:
  ``health_validation`` is any object (or mapping) with an ``auc`` and a
  ``predicts_churn`` or ``is_valid`` flag, or the
  :class:`~cs_sim.models.health.HealthValidation` of
  :func:`cs_sim.models.validate_health_score` (its configured score's out-of-sample AUC,
  which must beat chance at p < 0.05); it passes when the flag is true and
  ``auc >= min_auc`` (0.7 by default, the usual threshold of acceptable discrimination);
- strategic: touchpoints (``interactions``), survey answers (``surveys``) and CS costs
  (``costs``) recorded, so outcomes and the return on CS spend can be measured.

Without a dataset the data gates are *unknown* and block: the stage reached is then
reactive, and the assessment says what to pass. The stage reached is the lower of the
self-assessed stage and the highest stage whose gates (cumulatively) pass.

The assessment also gives the evidence per table (rows, accounts, months of history),
the focus metrics of the stage (logo churn and GRR first; NRR, expansion and CLV later;
when CES, NPS or dollar churn matter) with their current values when a dataset is
given, a roadmap to the next stage, and build / buy / partner for each missing
capability.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cs_sim._questionnaire import (
    STAGES,
    Answers,
    Questionnaire,
    StageRule,
    load_answers,
    load_questionnaire,
)
from cs_sim.errors import StrategyInputError
from cs_sim.format import fmt, style_frame, text_table, to_jsonable, write_files
from cs_sim.format import html_escaped as _escaped
from cs_sim.tables import TABLES

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from cs_sim.baseline import KpiBaseline
    from cs_sim.io import Dataset

__all__ = [
    "GATES",
    "STAGES",
    "MaturityAssessment",
    "Questionnaire",
    "assess_maturity",
    "load_answers",
    "load_questionnaire",
    "stage_scale",
    "table_evidence",
]



@dataclass(frozen=True)
class Gate:
    """An evidence gate: what the data must show before ``stage`` is reached."""

    key: str
    stage: str
    requirement: str
    capability: str
    owner: str
    recommend: str
    why: str


#: the evidence gates, in stage order (see the module docstring)
GATES: tuple[Gate, ...] = (
    Gate("usage_instrumented", "proactive",
         "product usage recorded per account for at least 3 months (usage table)",
         "Product-usage instrumentation per account", "CS operations with product", "buy",
         "product-analytics tools are mature; export active users and seats per account "
         "and month"),
    Gate("experience_signal", "proactive",
         "support tickets or survey answers recorded per account (tickets or surveys)",
         "Support and survey data per account", "Support with CS operations", "buy",
         "help-desk and survey tools export per-account data; join them to accounts"),
    Gate("history_12m", "predictive", "at least 12 months of MRR history",
         "Twelve months of revenue history", "Finance with CS operations", "build",
         "history cannot be bought: keep monthly MRR snapshots from now on"),
    Gate("validated_health", "predictive",
         "a health score validated against churn: AUC of at least min_auc (0.7 by "
         "default) and a validation that says it predicts churn",
         "A health score validated against churn", "CS operations with data", "build",
         "fit and validate the score on your own churn history (cs_sim.models); "
         "a vendor's generic score is not validated on your customers"),
    Gate("outcomes_and_cost", "strategic",
         "touchpoints, survey answers and CS costs recorded (interactions, surveys and "
         "costs tables)", "Outcome and CS-cost measurement", "CS operations with finance",
         "build", "join CS touchpoints and costs to outcomes to measure the return on "
         "each play"),
)


# ----------------------------------------------------------------------------- evidence
def stage_scale(questionnaire: Questionnaire | None = None) -> pd.DataFrame:
    """The documented stage scale: label, description, score rules and evidence gates.

    Parameters
    ----------
    questionnaire : Questionnaire, optional
        Default the packaged questionnaire.

    Returns
    -------
    DataFrame
        One row per stage: ``stage, label, description, min_mean, min_each, requires,
        evidence``.
    """
    q = questionnaire or load_questionnaire()
    rows = []
    for name in STAGES:
        r = q.stages[name]
        rows.append({"stage": name, "label": r.label, "description": r.description,
                     "min_mean": r.min_mean or None, "min_each": r.min_each or None,
                     "requires": ", ".join(f"{k} >= {v:g}" for k, v in r.requires.items()),
                     "evidence": "; ".join(g.requirement for g in GATES if g.stage == name)})
    return pd.DataFrame(rows)


def _health_facts(obj: Any, min_auc: float) -> tuple[bool, str]:
    """(passes, evidence) of a health-score validation object or mapping."""
    def get(name: str) -> Any:
        return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)

    auc, flag = get("auc"), None
    metrics = get("metrics")  # cs_sim.models.HealthValidation: its configured score's row
    if auc is None and isinstance(metrics, pd.DataFrame):
        if "configured" not in metrics.index or not metrics.loc["configured", "auc"] > 0:
            return False, "the health-score validation was inconclusive: " + " ".join(
                str(get("verdict") or "too little churn to validate").split())
        row = metrics.loc["configured"]
        auc = float(row["auc"])
        flag = bool(row.get("auc_p_value", 1.0) < 0.05)
    if isinstance(auc, np.floating):
        auc = float(auc)
    if auc is None or isinstance(auc, bool) or not isinstance(auc, (int, float)):
        raise StrategyInputError(
            f"health_validation: needs a numeric 'auc' (got {auc!r}) and a 'predicts_churn' "
            "or 'is_valid' flag\n    fix: pass the health-score validation result of "
            "cs_sim.models, or an object or mapping with those fields")
    flag = get("predicts_churn") if flag is None else flag
    flag = get("is_valid") if flag is None else flag
    ok = float(auc) >= min_auc and (flag is None or bool(flag))
    verdict = "it predicts" if flag else "it does not predict"
    said = "" if flag is None else f", the validation says {verdict} churn"
    return ok, f"health score AUC {float(auc):.2f} (needs >= {min_auc:.2f}){said}"


def table_evidence(dataset: Dataset) -> pd.DataFrame:
    """Which tables are instrumented, with rows, accounts and months of history.

    Parameters
    ----------
    dataset : Dataset

    Returns
    -------
    DataFrame
        One row per canonical table: ``table, instrumented, rows, accounts,
        first_month, last_month, months`` (months with at least one row).
    """
    dates = {"mrr": "month", "usage": "month", "tickets": "opened_at", "surveys": "date",
             "trials": "trial_start", "interactions": "date", "costs": "month",
             "accounts": "signup_date"}
    rows = []
    for name in TABLES:
        frame = getattr(dataset, name)
        row: dict[str, Any] = {"table": name, "instrumented": frame is not None,
                               "rows": 0, "accounts": 0, "first_month": pd.NaT,
                               "last_month": pd.NaT, "months": 0}
        if frame is not None:
            row["rows"] = len(frame)
            if "account_id" in frame:
                row["accounts"] = int(frame["account_id"].nunique())
            col = dates.get(name, "month")
            if col in frame and len(frame):
                months = pd.to_datetime(frame[col], errors="coerce").dt.to_period("M").dropna()
                if len(months):
                    row["first_month"] = months.min().to_timestamp()
                    row["last_month"] = months.max().to_timestamp()
                    row["months"] = int(months.nunique())
        rows.append(row)
    return pd.DataFrame(rows)


def _gates(dataset: Dataset | None, health_validation: Any, min_auc: float) -> pd.DataFrame:
    ev = None if dataset is None else table_evidence(dataset).set_index("table")
    rows = []
    for g in GATES:
        status, evidence = "unknown", "no dataset given: pass dataset= to check the data"
        if g.key == "validated_health":
            if health_validation is None:
                status = "fail"
                evidence = "no health-score validation given (pass health_validation=)"
            else:
                ok, evidence = _health_facts(health_validation, min_auc)
                status = "pass" if ok else "fail"
        elif ev is not None:
            if g.key == "usage_instrumented":
                n = int(ev.loc["usage", "months"])
                ok = bool(ev.loc["usage", "instrumented"]) and n >= 3
                evidence = (f"usage: {n} months" if ev.loc["usage", "instrumented"]
                            else "no usage table")
            elif g.key == "experience_signal":
                have = [t for t in ("tickets", "surveys") if ev.loc[t, "instrumented"]]
                ok, evidence = bool(have), ", ".join(have) or "no tickets or surveys table"
            elif g.key == "history_12m":
                n = int(ev.loc["mrr", "months"])
                ok, evidence = n >= 12, f"mrr: {n} months"
            else:
                need = ("interactions", "surveys", "costs")
                lack = [t for t in need if not ev.loc[t, "instrumented"]]
                ok = not lack
                evidence = "all recorded" if ok else f"missing: {', '.join(lack)}"
            status = "pass" if ok else "fail"
        rows.append({"gate": g.key, "stage": g.stage, "requirement": g.requirement,
                     "status": status, "evidence": evidence})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- scoring
def _rule_gaps(rule: StageRule, scores: pd.Series) -> dict[str, float]:
    """Dimension -> the score ``rule`` asks of it (only where the score is below)."""
    need = {d: max(rule.min_each, rule.requires.get(d, 0.0)) for d in scores.index}
    return {d: v for d, v in need.items() if scores[d] < v}


def _meets(rule: StageRule, scores: pd.Series) -> bool:
    return scores.mean() >= rule.min_mean - 1e-9 and not _rule_gaps(rule, scores)


def _focus(rule: StageRule, baseline: KpiBaseline | None) -> pd.DataFrame:
    """The stage's focus metrics with their current value (NaN when not measured)."""
    from cs_sim.kpis.registry import registered_kpis

    known = {k.name: k for k in registered_kpis()}
    head = None if baseline is None else baseline.headline
    rows = []
    for kpi, why in rule.focus:
        has = head is not None and kpi in head.index and "all" in head.columns
        rows.append({"metric": kpi, "label": known[kpi].label if kpi in known else kpi,
                     "why": why, "value": float(head.loc[kpi, "all"]) if has else float("nan"),
                     "unit": known[kpi].unit if kpi in known else "number"})
    return pd.DataFrame(rows, columns=["metric", "label", "why", "value", "unit"])


def _roadmap(q: Questionnaire, answers: Answers, scores: pd.Series, gates: pd.DataFrame,
             next_stage: str | None, start: dt.date, per_quarter: int
             ) -> tuple[pd.DataFrame, pd.Series]:
    """The steps to ``next_stage`` and the score each dimension is raised to."""
    rows: list[dict[str, Any]] = []
    if next_stage is None:
        return pd.DataFrame(columns=["step", "kind", "item", "from", "to", "action", "owner",
                                     "quarter", "due"]), scores.copy()
    upto = STAGES[: STAGES.index(next_stage) + 1]
    for _, g in gates[gates["stage"].isin(upto) & (gates["status"] != "pass")].iterrows():
        gate = next(x for x in GATES if x.key == g["gate"])
        rows.append({"kind": "evidence", "item": gate.capability, "from": g["evidence"],
                     "to": gate.requirement, "action": f"{gate.recommend}: {gate.why}",
                     "owner": gate.owner})
    floors: dict[str, float] = {}
    for s in upto[1:]:
        for d, v in _rule_gaps(q.stages[s], scores).items():
            floors[d] = max(floors.get(d, 0.0), v)
    hi = q.scale[1]
    level = {d: dict(a) for d, a in answers.scores.items()}

    def mean(d: str) -> float:
        return sum(level[d].values()) / len(level[d])

    def lift(d: str) -> bool:  # one answer of dimension d up one level (the lowest first)
        low = min(level[d], key=lambda k: level[d][k])
        if level[d][low] >= hi:
            return False
        level[d][low] += 1
        return True

    for d, v in floors.items():
        while mean(d) < v - 1e-9 and lift(d):
            pass
    while sum(mean(d) for d in level) / len(level) < q.stages[next_stage].min_mean - 1e-9:
        if not any(lift(d) for d in sorted(level, key=mean)):
            break
    raised = pd.Series({d: mean(d) for d in scores.index}, dtype=float)
    for d in sorted(scores.index, key=lambda k: (scores[k] - raised[k], k)):
        dim = q.dimension(d)
        for qu in dim.questions:
            have, want = answers.scores[d][qu.key], level[d][qu.key]
            if want > have:
                rows.append({"kind": "score", "item": f"{dim.label}: {qu.text}", "from": have,
                             "to": want, "action": qu.answers[want], "owner": dim.owner})
    out = pd.DataFrame(rows, columns=["kind", "item", "from", "to", "action", "owner"])
    out.insert(0, "step", range(1, len(out) + 1))
    out["quarter"] = [1 + i // per_quarter for i in range(len(out))]
    out["due"] = [(pd.Timestamp(start) + pd.DateOffset(months=3 * k)).date()
                  for k in out["quarter"]]
    return out, raised


# ------------------------------------------------------------------------------ result
@dataclass(frozen=True)
class MaturityAssessment:
    """The maturity of a CS team (a result object; see :func:`assess_maturity`).

    Attributes
    ----------
    stage : str
        The stage reached: the self-assessed stage, capped by the evidence gates.
    self_assessed_stage : str
        The stage the answers alone would give.
    stage_label : str
    overall : float
        Mean of the dimension scores.
    scores : DataFrame
        One row per dimension: ``dimension, label, score, next_stage_needs`` (the
        least the next stage's rules ask of it), ``target`` (the score the roadmap
        raises it to, enough for the next stage's mean as well) and ``comment``.
    answers : DataFrame
        One row per question: ``dimension, question, text, score, anchor``.
    gates : DataFrame
        ``gate, stage, requirement, status (pass/fail/unknown), evidence``.
    evidence : DataFrame
        Per table: instrumented, rows, accounts, months of history (empty without data).
    focus_metrics : DataFrame
        ``metric, label, why, value, unit`` for the stage reached (value NaN when not
        measured: no dataset, or its table is missing).
    roadmap : DataFrame
        Steps to the next stage: ``step, kind (evidence/score), item, from, to, action,
        owner, quarter, due``.
    build_buy_partner : DataFrame
        One row per missing capability: ``capability, recommend, why, build, buy,
        partner``.
    next_stage : str or None
    company : str or None
    assessed_on : datetime.date
    stage_scale : DataFrame
        The documented scale (:func:`stage_scale`).
    """

    stage: str
    self_assessed_stage: str
    stage_label: str
    overall: float
    scores: pd.DataFrame
    answers: pd.DataFrame
    gates: pd.DataFrame
    evidence: pd.DataFrame
    focus_metrics: pd.DataFrame
    roadmap: pd.DataFrame
    build_buy_partner: pd.DataFrame
    next_stage: str | None
    company: str | None
    assessed_on: dt.date
    stage_scale: pd.DataFrame
    unavailable: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"MaturityAssessment(stage={self.stage!r}, self_assessed_stage="
                f"{self.self_assessed_stage!r}, overall={self.overall:.2f}, "
                f"roadmap_steps={len(self.roadmap)})")

    @property
    def blocked_by(self) -> list[str]:
        """Requirements of the gates that keep the stage below the self-assessed one."""
        upto = STAGES[: STAGES.index(self.self_assessed_stage) + 1]
        bad = self.gates[self.gates["stage"].isin(upto) & (self.gates["status"] != "pass")]
        return [f"{r.stage}: {r.requirement} ({r.evidence})" for r in bad.itertuples()]

    def summary(self) -> str:
        """One paragraph: the stage, why, and what comes next."""
        who = f"{self.company}: " if self.company else ""
        text = (f"{who}stage {self.stage_label} (mean score {self.overall:.2f} of 5; "
                f"self-assessed {self.self_assessed_stage}).")
        if self.stage != self.self_assessed_stage:
            text += " Held back by missing evidence: " + "; ".join(self.blocked_by) + "."
        if self.next_stage:
            text += f" Next stage: {self.next_stage}, in {len(self.roadmap)} steps."
        return text

    def to_frame(self) -> pd.DataFrame:
        """The dimension scores (raw numbers)."""
        return self.scores.copy()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary of raw numbers (NaN as None)."""
        return to_jsonable({
            "company": self.company, "assessed_on": self.assessed_on.isoformat(),
            "stage": self.stage, "self_assessed_stage": self.self_assessed_stage,
            "next_stage": self.next_stage, "overall": self.overall,
            **{name: getattr(self, name).to_dict("records")
               for name in ("scores", "gates", "evidence", "focus_metrics", "roadmap",
                            "build_buy_partner")},
            "unavailable": dict(self.unavailable),
        })

    def _focus_shown(self) -> pd.DataFrame:
        f = self.focus_metrics
        shown = [fmt(v, u) for v, u in zip(f["value"], f["unit"], strict=True)]
        return f.assign(value=shown)[["label", "value", "why"]]

    def to_text(self) -> str:
        """The assessment as plain text (figures shown by :mod:`cs_sim.format`)."""
        parts = [self.summary(), "",
                 text_table(self.scores[["label", "score", "next_stage_needs", "target"]],
                            {"score": "score", "next_stage_needs": "score", "target": "score"},
                            index=False),
                 "", "Evidence gates", text_table(self.gates[["stage", "status", "evidence"]],
                                                  index=False),
                 "", "Focus metrics", text_table(self._focus_shown(), index=False)]
        if len(self.roadmap):
            parts += ["", f"Roadmap to {self.next_stage}",
                      text_table(self.roadmap[["step", "item", "action", "owner", "due"]],
                                 index=False)]
        if len(self.build_buy_partner):
            parts += ["", "Build, buy or partner",
                      text_table(self.build_buy_partner[["capability", "recommend"]],
                                 index=False)]
        return "\n".join(parts)

    def view(self, name: str) -> Any:
        """One table of the assessment, styled for a notebook (figures in their units).

        Parameters
        ----------
        name : str
            ``scores``, ``answers``, ``gates``, ``evidence``, ``focus_metrics``,
            ``roadmap``, ``build_buy_partner`` or ``stage_scale``.

        Returns
        -------
        pandas.io.formats.style.Styler
        """
        score = {"score": "score", "next_stage_needs": "score", "target": "score"}
        tables = {
            "scores": (self.scores, score), "answers": (self.answers, {"score": "count"}),
            "gates": (self.gates, {}),
            "evidence": (self.evidence, {"rows": "count", "accounts": "count",
                                         "first_month": "month", "last_month": "month",
                                         "months": "count"}),
            "focus_metrics": (self._focus_shown(), {}), "roadmap": (self.roadmap, {}),
            "build_buy_partner": (self.build_buy_partner, {}),
            "stage_scale": (self.stage_scale, {"min_mean": "number", "min_each": "number"}),
        }
        if name not in tables:
            raise ValueError(f"unknown table {name!r}; use one of {', '.join(tables)}")
        frame, units = tables[name]
        return style_frame(_escaped(frame), units).hide(axis="index")  # answers' text

    def _repr_html_(self) -> str:
        table = style_frame(self.scores.set_index("label")[["score", "next_stage_needs"]],
                            {"score": "score", "next_stage_needs": "score"},
                            caption="Scores by dimension (1-5)").to_html()
        return f"<p>{html.escape(self.summary())}</p>{table}"

    @property
    def stage_number(self) -> int:
        """The stage reached as a number: 1 reactive, 2 proactive, 3 predictive, 4 strategic."""
        return STAGES.index(self.stage) + 1

    def headline_items(self) -> list[tuple[str, str, Any, str]]:
        """``(key, label, value, unit)`` for :func:`cs_sim.report.headlines`: the stage
        reached and the self-assessed one (1 reactive .. 4 strategic), the overall score,
        the evidence gates passed and the roadmap's steps."""
        passed = int((self.gates["status"] == "pass").sum())
        return [
            ("maturity_stage", f"Stage reached: {self.stage_label} (1 reactive .. 4 "
             "strategic)", self.stage_number, "count"),
            ("maturity_self_assessed", f"Self-assessed stage: {self.self_assessed_stage}",
             STAGES.index(self.self_assessed_stage) + 1, "count"),
            ("maturity_score", "Overall score (mean of the dimensions, 1-5)", self.overall,
             "score"),
            ("evidence_gates_passed", f"Evidence gates passed (of {len(self.gates)})", passed,
             "count"),
            ("roadmap_steps", f"Roadmap steps to the {self.next_stage} stage" if self.next_stage
             else "Roadmap steps (top stage reached)", len(self.roadmap), "count")]

    def plot_radar(self, ax: Axes | None = None) -> Axes:
        """Radar chart of the dimension scores beside what the next stage needs.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            A polar Axes; a new figure is created when omitted.

        Returns
        -------
        matplotlib.axes.Axes
        """
        from cs_sim.plotting import plot_radar

        s = self.scores.set_index("label")
        nxt = self.next_stage
        title = f"Maturity: {self.stage_label}"
        if self.self_assessed_stage != self.stage:
            title += f" (self-assessed: {self.self_assessed_stage})"
        return plot_radar(s["score"], target=None if nxt is None else s["target"],
                          target_label=None if nxt is None else f"roadmap target ({nxt})",
                          needs=None if nxt is None else s["next_stage_needs"],
                          needs_label=None if nxt is None else f"least the {nxt} stage "
                          "needs of each dimension", title=title, ax=ax)

    def plot_gaps(self, ax: Axes | None = None) -> Axes:
        """Each dimension's score against the next stage's minimum (``plot_maturity_gaps``).

        Returns
        -------
        matplotlib.axes.Axes
        """
        from cs_sim.plotting import plot_maturity_gaps

        return plot_maturity_gaps(self.scores, next_stage=self.next_stage, ax=ax)

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write ``maturity.json``, ``maturity.txt``, the tables as CSV and ``radar.png``."""
        files = {"maturity.json": json.dumps(self.to_dict(), indent=2) + "\n",
                 "maturity.txt": self.to_text() + "\n"}
        for name in ("scores", "answers", "gates", "evidence", "focus_metrics", "roadmap",
                     "build_buy_partner"):
            files[f"{name}.csv"] = getattr(self, name).to_csv(index=False)
        written = write_files(out_dir, files)
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7, 7))
        self.plot_radar(ax=fig.add_subplot(projection="polar"))
        fig.tight_layout()
        fig.savefig(Path(out_dir) / "radar.png", dpi=110)
        return [*written, Path(out_dir) / "radar.png"]


def assess_maturity(
    answers: str | os.PathLike[str] | Mapping[str, Any] | Answers,
    *,
    dataset: Dataset | None = None,
    health_validation: Any = None,
    questionnaire: Questionnaire | str | os.PathLike[str] | None = None,
    baseline: KpiBaseline | None = None,
    min_auc: float = 0.7,
    assessed_on: Any = None,
    steps_per_quarter: int = 3,
) -> MaturityAssessment:
    """Score a team's answers to a maturity stage, checked against the data.

    Parameters
    ----------
    answers : path, mapping or Answers
        The team's answers (see :func:`load_answers`).
    dataset : Dataset, optional
        The company's data: evidence for the gates, and the current values of the
        focus metrics.
    health_validation : object or mapping, optional
        A health-score validation: anything with ``auc`` and ``predicts_churn`` or
        ``is_valid`` (attributes or keys), e.g. the validation result of
        :mod:`cs_sim.models`. Without it the stage cannot be predictive or above.
    questionnaire : Questionnaire or path, optional
        Default the packaged ``templates/maturity_questionnaire.yaml``.
    baseline : KpiBaseline, optional
        For the focus metrics' values; computed from ``dataset`` when omitted.
    min_auc : float, default 0.7
        Smallest AUC of a validated health score.
    assessed_on : date-like, optional
        Start of the roadmap; default the answers' ``assessed_on``, else the month after
        the dataset's last month, else today.
    steps_per_quarter : int, default 3
        Roadmap steps scheduled per quarter.

    Returns
    -------
    MaturityAssessment

    Raises
    ------
    cs_sim.errors.StrategyInputError
        Bad questionnaire, answers or health validation (the message names the fix).
    """
    q = (questionnaire if isinstance(questionnaire, Questionnaire)
         else load_questionnaire(questionnaire))
    ans = answers if isinstance(answers, Answers) else load_answers(answers, questionnaire=q)
    dims = [d.key for d in q.dimensions]
    scores = pd.Series({d: sum(ans.scores[d].values()) / len(ans.scores[d]) for d in dims},
                       dtype=float)
    self_idx = 0
    for i, name in enumerate(STAGES[1:], start=1):
        if not _meets(q.stages[name], scores):
            break
        self_idx = i
    gates = _gates(dataset, health_validation, min_auc)
    gate_idx = 0
    for i, name in enumerate(STAGES[1:], start=1):
        if (gates.loc[gates["stage"] == name, "status"] != "pass").any():
            break
        gate_idx = i
    idx = min(self_idx, gate_idx)
    stage = STAGES[idx]
    next_stage = STAGES[idx + 1] if idx + 1 < len(STAGES) else None
    when = assessed_on if assessed_on is not None else ans.assessed_on
    if when is None and dataset is not None:
        when = dataset.mrr["month"].max() + pd.offsets.MonthBegin(1)
    start = pd.Timestamp(when).date() if when is not None else dt.date.today()
    roadmap, raised = _roadmap(q, ans, scores, gates, next_stage, start, steps_per_quarter)
    need = pd.Series(dtype=float)
    if next_stage is not None:
        rule = q.stages[next_stage]
        need = pd.Series({d: max(rule.min_each, rule.requires.get(d, 0.0)) for d in dims})
    table = pd.DataFrame({
        "dimension": dims, "label": [q.dimension(d).label for d in dims],
        "score": scores.to_numpy(),
        "next_stage_needs": [need.get(d, float("nan")) for d in dims],
        "target": [float(raised[d]) if next_stage else float("nan") for d in dims],
        "comment": [ans.comments.get(d, "") for d in dims]})
    answered = pd.DataFrame([
        {"dimension": d.key, "question": x.key, "text": x.text,
         "score": ans.scores[d.key][x.key], "anchor": x.answers[ans.scores[d.key][x.key]]}
        for d in q.dimensions for x in d.questions])
    bbp_rows = []
    for item in dict.fromkeys(roadmap["item"]) if len(roadmap) else []:
        gate = next((g for g in GATES if g.capability == item), None)
        if gate is not None:
            bbp_rows.append({"capability": gate.capability, "recommend": gate.recommend,
                             "why": gate.why,
                             **{k: (gate.why if k == gate.recommend else "")
                                for k in ("build", "buy", "partner")}})
            continue
        dim = next(d for d in q.dimensions if item.startswith(f"{d.label}: "))
        if any(r["capability"] == dim.capability for r in bbp_rows):
            continue
        b = dim.build_buy_partner
        bbp_rows.append({"capability": dim.capability, "recommend": b.get("recommend", "build"),
                         "why": " ".join(b.get("why", "").split()), "build": b.get("build", ""),
                         "buy": b.get("buy", ""), "partner": b.get("partner", "")})
    unavailable: dict[str, str] = {}
    if baseline is None and dataset is not None:
        from cs_sim.baseline import kpi_baseline

        baseline = kpi_baseline(dataset)
    if baseline is None:
        unavailable["focus metric values"] = "no dataset given (pass dataset=)"
    evidence = (table_evidence(dataset) if dataset is not None
                else pd.DataFrame(columns=["table", "instrumented", "rows", "accounts",
                                           "first_month", "last_month", "months"]))
    return MaturityAssessment(
        stage=stage, self_assessed_stage=STAGES[self_idx],
        stage_label=q.stages[stage].label, overall=float(scores.mean()), scores=table,
        answers=answered, gates=gates, evidence=evidence,
        focus_metrics=_focus(q.stages[stage], baseline), roadmap=roadmap,
        build_buy_partner=pd.DataFrame(bbp_rows, columns=["capability", "recommend", "why",
                                                          "build", "buy", "partner"]),
        next_stage=next_stage, company=ans.company, assessed_on=start,
        stage_scale=stage_scale(q), unavailable=unavailable)
