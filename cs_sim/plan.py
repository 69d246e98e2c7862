"""The customer-success strategy plan, built from the analyses and rendered for people.

:func:`build_plan` assembles the eight parts of a CS plan from a dataset and whatever
analyses exist (each optional; what is missing is computed from the dataset or said
plainly):

1. **segmentation**: the segments (the recommended segmentation of
   :func:`cs_sim.segmentation.compare_segmentations` when given), their size, MRR and
   retention;
2. **orchestration**: per segment, the service tier, what the customer can expect, the
   success plan and the customer's own responsibilities;
3. **interventions**: time-, data- and trigger-based plays, the accounts each reaches
   now (red health, detractors, escalations) and, from simulator comparisons, the
   expected effect of each;
4. **measurement**: NRR and GRR beside a *success vector* of customer outcomes (seat
   utilisation, NPS, CSAT, first contact resolution), the last months against the ones
   before, **flagged when revenue improves while outcomes worsen**; goals and KPI
   targets per segment with quarterly milestones and check-in dates;
5. **expansion**: renewals due, upsell candidates, promoters for referrals;
6. **communication**: cadence per tier and the CSM hours it needs;
7. **instrumentation**: what is recorded and the data gaps, with what each blocks;
8. **operationalisation**: the maturity roadmap, owners, cross-functional
   responsibilities (sales, marketing, product, support), hiring, training and budget.

Every figure comes from the data or an analysis: targets follow the documented rules of
:data:`cs_sim._plan_parts.DEFAULT_TARGETS` (or ``targets=``), the service promise and
cadence of each tier are the constants of :mod:`cs_sim._plan_parts`.

The plan renders to Markdown and HTML from jinja2 templates
(``templates/strategy_plan.md.j2`` and ``.html.j2``; the packaged copies are used unless
another template is given). Customer-provided text (account names, comments, segment
labels) is escaped: HTML with autoescaping, Markdown by escaping ``<``, ``>``, ``&`` and
``|``.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from cs_sim import _plan_parts as parts_mod
from cs_sim._plan_parts import DEFAULT_TARGETS, Context, Part
from cs_sim.errors import StrategyInputError
from cs_sim.format import to_jsonable, write_files

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.baseline import KpiBaseline
    from cs_sim.io import Dataset
    from cs_sim.journey import JourneyMap
    from cs_sim.maturity import MaturityAssessment

__all__ = ["HEADLINE_KEYS", "PART_KEYS", "StrategyPlan", "build_plan"]

#: the eight parts, in order
PART_KEYS: tuple[str, ...] = ("segmentation", "orchestration", "interventions",
                              "measurement", "expansion", "communication", "instrumentation",
                              "operationalisation")
TEMPLATES = {"markdown": "strategy_plan.md.j2", "html": "strategy_plan.html.j2"}
#: plan KPI -> key of the same figure among the KPI baseline's headlines (03_kpi_baseline,
#: :data:`cs_sim._baseline_views.HEADLINE_KEYS`), so that ``cs-sim report --compare-to``
#: can tell a target met; the window's logo churn has none there (the baseline's headline
#: is the average monthly rate, another figure), so its target's ``metric`` is None
HEADLINE_KEYS: dict[str, str] = {"nrr": "nrr", "grr": "grr", "nps": "nps"}


def _md_escape(value: Any) -> str:
    """Text safe in Markdown: no raw HTML (``<``, ``>``, ``&``) and no table breaks (``|``)."""
    text = "" if value is None else str(value)
    text = html.escape(text, quote=False)
    return text.replace("|", "\\|").replace("\n", " ")


def _template(kind: str, path: str | os.PathLike[str] | None) -> Any:
    import jinja2

    if path is None:
        from importlib.resources import files

        text = files("cs_sim").joinpath("resources", "templates", TEMPLATES[kind]).read_text(
            "utf-8")
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise StrategyInputError(f"{path}: cannot read the plan template ({exc.strerror})"
                                     "\n    fix: give the path of a jinja2 template") from None
    if kind == "html":
        env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    else:
        env = jinja2.Environment(autoescape=False, finalize=_md_escape,
                                 undefined=jinja2.StrictUndefined)
    return env.from_string(text)


@dataclass(frozen=True)
class StrategyPlan:
    """The CS strategy plan (a result object; see :func:`build_plan`).

    Attributes
    ----------
    parts : dict of str to Part
        The eight parts by key (:data:`PART_KEYS`); each has ``title``, ``intro``,
        ``paragraphs``, ``figures`` (key figures with raw value and unit), ``tables``
        and ``flags`` (warnings, e.g. revenue up while outcomes worsen).
    goals : DataFrame
        KPI targets per segment with quarterly milestones (shown as text).
    checkins : list of pandas.Timestamp
        The quarterly check-in dates.
    title, company, source : str or None
    start : pandas.Timestamp
        When the plan starts (the month after the data's last month by default).
    by : str or None
        The segmentation.
    targets : DataFrame
        The goals with raw numbers, one row per segment and KPI
        (:func:`cs_sim._plan_parts.targets_frame`): ``segment, kpi, label, unit,
        direction, baseline, target`` and the milestone of each check-in.
    """

    parts: dict[str, Part]
    goals: pd.DataFrame
    checkins: list[pd.Timestamp]
    title: str
    company: str | None
    source: str | None
    start: pd.Timestamp
    by: str | None
    targets: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __repr__(self) -> str:
        flags = sum(len(p.flags) for p in self.parts.values())
        return (f"StrategyPlan({self.title!r}, start={self.start.date().isoformat()}, "
                f"by={self.by!r}, parts={len(self.parts)}, flags={flags})")

    def figure(self, part: str, name: str) -> Any:
        """The raw value of one key figure of a part."""
        return self.parts[part].figure(name)

    def to_frame(self) -> pd.DataFrame:
        """Every key figure: ``part, figure, label, value, unit`` (raw values)."""
        return pd.DataFrame([{"part": k, "figure": f.name, "label": f.label, "value": f.value,
                              "unit": f.unit}
                             for k, p in self.parts.items() for f in p.figures])

    def context(self) -> dict[str, Any]:
        """What the templates see: the plan with every figure and cell shown as text."""
        return {
            "title": self.title, "company": self.company, "source": self.source,
            "start": self.start.date().isoformat(), "by": self.by,
            "checkins": [d.date().isoformat() for d in self.checkins],
            "parts": [{
                "number": i, "key": p.key, "title": p.title, "intro": p.intro,
                "paragraphs": p.paragraphs, "flags": p.flags,
                "figures": [{"label": f.label, "value": f.shown} for f in p.figures],
                "tables": [{"title": t.title, "columns": [str(c) for c in shown.columns],
                            "rows": shown.to_numpy().tolist()}
                           for t in p.tables for shown in [t.shown()]],
            } for i, p in enumerate(self.parts.values(), start=1)],
        }

    def to_markdown(self, *, template: str | os.PathLike[str] | None = None) -> str:
        """The plan as Markdown (customer text escaped).

        Parameters
        ----------
        template : path, optional
            A jinja2 template; default the packaged ``strategy_plan.md.j2``.
        """
        return _template("markdown", template).render(plan=self.context())

    def to_html(self, *, template: str | os.PathLike[str] | None = None) -> str:
        """The plan as a standalone HTML page (autoescaped: customer text is escaped).

        Parameters
        ----------
        template : path, optional
            A jinja2 template; default the packaged ``strategy_plan.html.j2``.
        """
        return _template("html", template).render(plan=self.context())

    def to_text(self) -> str:
        """The plan as Markdown (readable in a terminal)."""
        return self.to_markdown()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary: raw key figures per part, goals, check-ins."""
        return to_jsonable({
            "title": self.title, "company": self.company, "source": self.source,
            "start": self.start.date().isoformat(), "by": self.by,
            "checkins": [d.date().isoformat() for d in self.checkins],
            "parts": {k: {"title": p.title, "flags": p.flags,
                          "figures": {f.name: {"label": f.label, "value": f.value,
                                               "unit": f.unit} for f in p.figures}}
                      for k, p in self.parts.items()},
            "goals": self.goals.to_dict("records"),
            "targets": self.targets.to_dict("records"),
        })

    def headline_items(self) -> list[tuple[str, str, Any, str]]:
        """The plan's headline figures for :func:`cs_sim.report.headlines`.

        Returns
        -------
        list of (key, label, value, unit)
            ``plan_parts``, ``plan_segments``, ``plan_flags`` (warnings such as revenue
            up while outcomes worsen), ``plan_targets`` (company-wide KPI targets) and
            ``plan_start`` (the month the plan starts).
        """
        whole = self.targets[self.targets["segment"] == "all"] if len(self.targets) else \
            self.targets
        segments = self.targets["segment"].nunique() - 1 if len(self.targets) else 0
        return [
            ("plan_parts", "Parts of the plan", len(self.parts), "count"),
            ("plan_segments", "Segments with their own targets", segments, "count"),
            ("plan_flags", "Warnings raised by the plan",
             sum(len(p.flags) for p in self.parts.values()), "count"),
            ("plan_targets", "Company-wide KPI targets", len(whole), "count"),
            ("plan_start", "Plan starts", self.start, "month"),
        ]

    def headline_targets(self, *, segments: bool = False) -> list[dict[str, Any]]:
        """The targets for :func:`cs_sim.report.headlines` (``targets=``).

        Parameters
        ----------
        segments : bool, default False
            Also each segment's targets (their ``metric`` is None: the KPI baseline's
            headlines are the whole company's).

        Returns
        -------
        list of dict
            ``name, metric`` (the key of the KPI baseline's headline, :data:`HEADLINE_KEYS`),
            ``target, value`` (the baseline now), ``unit`` and ``direction``.
        """
        out = []
        for r in self.targets.to_dict("records"):
            whole = r["segment"] == "all"
            if not (whole or segments):
                continue
            out.append({"name": r["label"] if whole else f"{r['label']} ({r['segment']})",
                        "metric": HEADLINE_KEYS.get(r["kpi"]) if whole else None,
                        "target": r["target"], "value": r["baseline"], "unit": r["unit"],
                        "direction": r["direction"]})
        return out

    def view(self, part: str, *, title: bool = True) -> Any:
        """One part of the plan as HTML for a notebook (customer text escaped).

        Parameters
        ----------
        part : str
            One of :data:`PART_KEYS`.
        title : bool, default True
            Start with the part's title (False under a heading of its own).

        Returns
        -------
        object
            Shown as HTML by Jupyter (``_repr_html_``).
        """
        if part not in self.parts:
            raise ValueError(f"unknown part {part!r}; use one of {', '.join(PART_KEYS)}")
        p = self.parts[part]
        text = "\n".join([p.title, *(f"- {f.label}: {f.shown}" for f in p.figures), *p.flags])
        return _Html(_part_html(p, title=title), text)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{i}</td><td style='text-align:left'>{html.escape(p.title)}</td>"
            "<td style='text-align:left'>"
            + html.escape("; ".join(f"{f.label}: {f.shown}" for f in p.figures[:3]))
            + "</td></tr>" for i, p in enumerate(self.parts.values(), start=1))
        return (f"<p><b>{html.escape(self.title)}</b></p><table><tr><th>#</th><th>part</th>"
                f"<th>key figures</th></tr>{rows}</table>")

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write ``strategy_plan.md``, ``strategy_plan.html``, ``plan.json``, ``goals.csv``."""
        return write_files(out_dir, {
            "strategy_plan.md": self.to_markdown(),
            "strategy_plan.html": self.to_html(),
            "plan.json": json.dumps(self.to_dict(), indent=2) + "\n",
            "goals.csv": self.goals.to_csv(index=False),
        })


@dataclass(frozen=True, repr=False)
class _Html:
    """HTML that Jupyter shows as such (and plain text elsewhere)."""

    html: str
    text: str

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return self.html


def _part_html(p: Part, *, title: bool = True) -> str:
    e = html.escape
    out = [f"<h3>{e(p.title)}</h3>"] if title else []
    out.append(f"<p><i>{e(p.intro)}</i></p>")
    out += [f"<p><b>Warning:</b> {e(f)}</p>" for f in p.flags]
    if p.figures:
        out.append("<ul>" + "".join(f"<li>{e(f.label)}: <b>{e(f.shown)}</b></li>"
                                    for f in p.figures) + "</ul>")
    out += [f"<p>{e(x)}</p>" for x in p.paragraphs]
    for t in p.tables:
        out.append(f"<p><b>{e(t.title)}</b></p>" + _table_html(t))
    return "\n".join(out)


def _table_html(t: Any) -> str:
    """A part's table: every cell escaped, words left-aligned and figures right-aligned."""
    import re

    figure = re.compile(r"^([+-]?[\d,.]+( ?%| pp| months)?|n/a|yes|no|\d{4}-\d{2}(-\d{2})?)$")
    shown = t.shown()
    words = [c for c in shown.columns
             if not all(figure.match(str(v).strip()) for v in shown[c])]
    styler = shown.style.format(escape="html").hide(axis="index")
    styler = styler.format_index(escape="html", axis="columns")
    if words:
        styler = styler.set_properties(subset=words, **{"text-align": "left"})
        styler = styler.set_table_styles(
            {c: [{"selector": "th", "props": "text-align: left"}] for c in words},
            overwrite=False)
    return styler.to_html()


def _summary(comparison: Any) -> pd.DataFrame:
    if isinstance(comparison, pd.DataFrame):
        return comparison
    if hasattr(comparison, "summary"):
        return comparison.summary()
    raise StrategyInputError(
        f"comparisons: expected cs_sim.compare results or their summary() tables, got "
        f"{type(comparison).__name__}\n    fix: pass {{name: cs_sim.compare(...)}}")


def _targets(targets: Mapping[str, Any] | None) -> dict[str, tuple[float, str]]:
    out: dict[str, tuple[float, str]] = {}
    for k, v in (targets or {}).items():
        if k not in DEFAULT_TARGETS:
            raise StrategyInputError(
                f"targets.{k}: unknown KPI\n    fix: use one of {', '.join(DEFAULT_TARGETS)}")
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[k] = (float(v), DEFAULT_TARGETS[k][1])
        elif (isinstance(v, (tuple, list)) and len(v) == 2
              and v[1] in ("points", "relative")):
            out[k] = (float(v[0]), str(v[1]))
        else:
            raise StrategyInputError(
                f"targets.{k}: {v!r} is not a change\n    fix: give a number (e.g. 0.02 for "
                "+2 points of a rate) or (change, 'points' | 'relative')")
    return out


def build_plan(
    dataset: Dataset,
    *,
    research: Any = None,
    segmentation: Any = None,
    service: pd.DataFrame | None = None,
    maturity: MaturityAssessment | None = None,
    journey: JourneyMap | None = None,
    baseline: KpiBaseline | None = None,
    comparisons: Mapping[str, Any] | None = None,
    targets: Mapping[str, Any] | None = None,
    by: str | None = None,
    start: Any = None,
    company: str | None = None,
    period_months: int = 6,
) -> StrategyPlan:
    """Build the eight-part CS strategy plan from a dataset and its analyses.

    Parameters
    ----------
    dataset : Dataset
    research : ResearchResult, optional
        :func:`cs_sim.research.analyse_research` (pain points, gaps).
    segmentation : SegmentationTradeoffs, optional
        :func:`cs_sim.segmentation.compare_segmentations`; its ``recommended``
        segmentation is used unless ``by`` is given.
    service : DataFrame, optional
        :func:`cs_sim.segmentation.service_model` (index segment: ``tier, accounts,
        csm_headcount``); computed for the segmentation when omitted.
    maturity : MaturityAssessment, optional
        :func:`cs_sim.maturity.assess_maturity` (roadmap, gates).
    journey : JourneyMap, optional
        :func:`cs_sim.journey.journey_map`; computed when omitted.
    baseline : KpiBaseline, optional
        :func:`cs_sim.kpi_baseline` of the whole company; computed when omitted.
    comparisons : mapping of str to ComparisonResult or DataFrame, optional
        Simulated plays (``cs_sim.compare`` results or their ``summary()``), by name.
    targets : mapping, optional
        KPI -> change overriding :data:`~cs_sim._plan_parts.DEFAULT_TARGETS` (``grr``,
        ``nrr``, ``logo_churn_rate``, ``nps``): a number, or ``(change, kind)``.
    by : str, optional
        The segmentation (an accounts column or a derived one of
        :func:`cs_sim.segmentation.segment_accounts`); default the recommended one, else
        the research's, else the accounts' ``segment`` or ``plan`` column.
    start : date-like, optional
        Start of the plan; default the month after the data's last month.
    company : str, optional
        The company's name, for the title.
    period_months : int, default 6
        Length of the two periods the success vector compares.

    Returns
    -------
    StrategyPlan
    """
    from cs_sim.baseline import kpi_baseline
    from cs_sim.segmentation import segment_accounts, service_model

    acc = dataset.accounts
    if by is None:
        by = (getattr(segmentation, "recommended", None) or getattr(research, "by", None)
              or next((c for c in ("segment", "plan") if c in acc), None))
    last = pd.Timestamp(dataset.mrr["month"].max())
    if by is None:
        labels = pd.Series("all", index=pd.Index(acc["account_id"].unique()))
    else:
        labels = segment_accounts(dataset, by).astype(str)
    baseline = baseline if baseline is not None else kpi_baseline(dataset)
    seg_kpis = parts_mod.segment_kpis(dataset, labels, baseline.start, baseline.end)
    if service is None and by is not None:
        service = service_model(dataset, by)
    if journey is None:
        from cs_sim.journey import journey_map

        journey = journey_map(dataset)
    when = pd.Timestamp(start) if start is not None else last + pd.offsets.MonthBegin(1)
    ctx = Context(dataset=dataset, by=by, labels=labels, baseline=baseline,
                  seg_kpis=seg_kpis, service=service, research=research,
                  segmentation=segmentation, maturity=maturity, journey=journey,
                  comparisons={str(k): _summary(v) for k, v in (comparisons or {}).items()},
                  targets=_targets(targets), start=when, period_months=period_months,
                  last_month=last)
    built = [make(ctx) for make in parts_mod.PARTS]
    name = company or getattr(maturity, "company", None)
    title = f"Customer-success strategy plan{f' for {name}' if name else ''}"
    targets = parts_mod.targets_frame(ctx)
    return StrategyPlan(parts={p.key: p for p in built},
                        goals=parts_mod.goals_table(ctx, targets),
                        checkins=parts_mod.checkin_dates(ctx), title=title, company=name,
                        source=dataset.source, start=when, by=by, targets=targets)
