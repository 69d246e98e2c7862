"""Personas per segment, and the targeting result that gathers STP in one object.

A persona summarises who the accounts of a segment are (firmographics from the accounts
and mrr tables), what they want (goals), what hurts (the feedback themes of their
unhappy survey comments), how success is measured for them and how they are reached.
Cards render as HTML (every piece of text escaped: comments are customer text) and as
plain text.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from html import escape
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
    MrrPanel,
    segment_accounts,
    segmentation_label,
    shown_path,
)
from cs_sim.segmentation._targeting import (
    ATTRACTIVENESS_UNITS,
    SERVICE_UNITS,
    attractiveness,
    attractiveness_parts,
    service_model,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from cs_sim.io import Dataset

__all__ = ["Persona", "PersonaCards", "Targeting", "personas", "personas_html", "targeting"]

#: goals and success metrics by service tier (what the segment's customers are after and
#: how their success is tracked)
_TIER_GOALS = {
    "high_touch": ["show a return on the investment to their executives",
                   "roll the product out across departments"],
    "low_touch": ["scale use across teams without extra admin",
                  "reach first value quickly after each new team starts"],
    "tech_touch": ["get value fast, on their own", "keep the tool simple and the bill small"],
}
_TIER_METRICS = {
    "high_touch": ["net revenue retention and expansion", "success-plan milestones met",
                   "executive sponsor engaged (business reviews held)"],
    "low_touch": ["gross revenue retention", "share of seats active",
                  "time to first value"],
    "tech_touch": ["logo churn", "activation in the first 30 days",
                   "customer effort (CES) after support contacts"],
}
_TIER_CHANNELS = {
    "high_touch": ["named CSM", "business reviews", "executive sponsor calls"],
    "low_touch": ["pooled CSM calls", "webinars", "email"],
    "tech_touch": ["in-app guides", "email", "help centre and community"],
}
_TIER_NAMES = {"high_touch": "high-touch", "low_touch": "low-touch", "tech_touch": "tech-touch"}


@dataclass(frozen=True)
class Persona:
    """One segment's persona (a card).

    Attributes
    ----------
    segment : str
        The segment label.
    tier : str
        Its service tier (``high_touch``, ``low_touch`` or ``tech_touch``).
    firmographics : dict of str to str
        Who they are, shown for people (accounts, employees, industries, ARPA...).
    goals, pain_points, success_metrics, channels : list of str
        What they want, what hurts (top feedback themes of unhappy answers), how their
        success is measured, how they are reached.
    quote : str or None
        An unhappy comment from the segment on its top pain point (customer text).
    """

    segment: str
    tier: str
    firmographics: dict[str, str]
    goals: list[str]
    pain_points: list[str]
    success_metrics: list[str]
    channels: list[str]
    quote: str | None = None

    def to_text(self) -> str:
        """The card as plain text."""
        lines = [f"{self.segment} ({_TIER_NAMES.get(self.tier, self.tier)})"]
        lines += [f"  {k}: {v}" for k, v in self.firmographics.items()]
        for title, items in self._sections():
            lines.append(f"  {title}:")
            lines += [f"    - {item}" for item in items] or ["    - n/a"]
        if self.quote:
            lines.append(f'  in their words: "{self.quote}"')
        return "\n".join(lines)

    def _sections(self) -> list[tuple[str, list[str]]]:
        return [("goals", self.goals), ("pain points", self.pain_points),
                ("success metrics", self.success_metrics), ("channels", self.channels)]

    def to_html(self) -> str:
        """The card as an HTML fragment; every piece of text is escaped."""
        facts = "".join(f"<tr><th style='text-align:left;padding-right:8px'>{escape(k)}</th>"
                        f"<td>{escape(v)}</td></tr>" for k, v in self.firmographics.items())
        parts = [
            "<div class='cs-persona' style='border:1px solid #bbb;border-radius:8px;"
            "padding:10px 14px;margin:6px;width:330px;display:inline-block;"
            "vertical-align:top;font-size:13px'>",
            f"<h4 style='margin:2px 0'>{escape(self.segment)}</h4>",
            f"<div style='color:#555'>{escape(_TIER_NAMES.get(self.tier, self.tier))}</div>",
            f"<table>{facts}</table>",
        ]
        for title, items in self._sections():
            li = "".join(f"<li>{escape(i)}</li>" for i in items) or "<li>n/a</li>"
            parts.append(f"<b>{escape(title.capitalize())}</b><ul style='margin:2px 0'>{li}</ul>")
        if self.quote:
            parts.append(f"<blockquote style='margin:4px 0;color:#444'>"
                         f"&ldquo;{escape(self.quote)}&rdquo;</blockquote>")
        parts.append("</div>")
        return "".join(parts)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return self.to_text()


def personas_html(cards: list[Persona]) -> str:
    """Persona cards side by side, as one HTML fragment."""
    return "<div class='cs-personas'>" + "".join(p.to_html() for p in cards) + "</div>"


class PersonaCards:
    """Persona cards for a notebook (HTML, side by side) or a terminal (text).

    Parameters
    ----------
    cards : list of Persona
    """

    def __init__(self, cards: list[Persona]) -> None:
        self.cards = list(cards)

    def to_text(self) -> str:
        """Every card as plain text."""
        return "\n\n".join(c.to_text() for c in self.cards) or "No personas."

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return personas_html(self.cards)


#: column headings of the targeting tables in notebooks
_HEADINGS = {
    "revenue": "MRR now", "revenue_share": "share of MRR", "arpa": "ARPA",
    "growth": "growth (NRR)", "risk": "risk (logo churn)",
    "cost_to_serve": "cost to serve a month", "cost_share": "cost / ARPA", "mrr": "MRR",
    "coverage_ratio": "accounts per CSM (coverage)", "csm_headcount": "CSMs (FTE)",
    "arr_per_csm": "ARR per CSM", "current_accounts_per_csm": "accounts per CSM today",
}


def _headed(frame: pd.DataFrame, units: dict[str, str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """``frame`` and ``units`` with the headings of :data:`_HEADINGS`."""
    return frame.rename(columns=_HEADINGS), {_HEADINGS.get(k, k): u for k, u in units.items()}


def _top(values: pd.Series, n: int = 2) -> str:
    shares = values.astype("string").fillna("(none)").value_counts(normalize=True).head(n)
    return ", ".join(f"{k} {fmt(v, 'pct', digits=0)}" for k, v in shares.items())


def _pain_points(dataset: Dataset, labels: pd.Series, taxonomy: Any,
                 ) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Per segment: top themes of unhappy comments, and one such comment."""
    from cs_sim.kpis import attach, code_feedback, feedback_themes

    surveys = dataset.surveys
    if surveys is None or "comment" not in surveys.columns:
        return {}, {}
    frame = pd.DataFrame({"account_id": labels.index, "_segment": labels.astype(str).to_numpy()})
    sv = attach(surveys[surveys["account_id"].isin(labels.index)], frame, "_segment")
    if not len(sv):
        return {}, {}
    themes = feedback_themes(sv, by="_segment", taxonomy=taxonomy)
    themes = themes[(themes["theme"] != "uncoded") & (themes["negative"] > 0)]
    out, quotes = {}, {}
    for seg, group in themes.groupby("_segment"):
        top = group.sort_values(["negative", "comments"], ascending=False, kind="stable").head(3)
        out[str(seg)] = [f"{t.replace('_', ' ')} ({fmt(n, 'count')} unhappy "
                         f"comment{'' if n == 1 else 's'})"
                         for t, n in zip(top["theme"], top["negative"], strict=True)]
        first = top["theme"].iloc[0]
        mine = sv[(sv["_segment"] == seg) & sv["comment"].notna()]
        coded = code_feedback(mine["comment"], taxonomy=taxonomy)
        unhappy = _unhappy(mine)
        pick = mine[coded[first].to_numpy() & unhappy]
        if len(pick):
            quotes[str(seg)] = str(pick.sort_values("date")["comment"].iloc[-1])
    return out, quotes


def _unhappy(surveys: pd.DataFrame) -> np.ndarray:
    """Negative answers: NPS 0-6, CSAT 1-2, CES 1-3 (the bands of the feedback themes)."""
    kind = surveys["kind"].astype(str).str.lower().to_numpy()
    score = surveys["score"].to_numpy(dtype=float)
    return (((kind == "nps") & (score <= 6)) | ((kind == "csat") & (score <= 2))
            | ((kind == "ces") & (score <= 3)))


def _channels(dataset: Dataset, labels: pd.Series) -> dict[str, list[str]]:
    inter = dataset.interactions
    if inter is None or not len(inter):
        return {}
    seg = inter["account_id"].map(labels.astype(str))
    out = {}
    for s, group in inter.assign(_s=seg.to_numpy()).dropna(subset=["_s"]).groupby("_s"):
        shares = group["kind"].astype(str).value_counts(normalize=True).head(3)
        out[str(s)] = [f"{k} ({fmt(v, 'pct', digits=0)} of touchpoints)" for k, v in shares.items()]
    return out


def personas(
    dataset: Dataset,
    by: str,
    *,
    research: Any = None,
    taxonomy: Any = None,
    service: pd.DataFrame | None = None,
    at: Any = None,
) -> list[Persona]:
    """One persona per segment: firmographics, goals, pain points, metrics, channels.

    Firmographics come from the accounts and mrr tables; pain points are the feedback
    themes most often raised in the segment's unhappy answers (NPS 0-6, CSAT 1-2, CES
    1-3; needs surveys with comments); channels are the segment's most frequent
    interaction kinds (needs interactions; otherwise those of its service tier); goals
    and success metrics follow the service tier (:func:`service_model`) and the data
    (activation, retention).

    Parameters
    ----------
    dataset : cs_sim.io.Dataset
    by : str
        A segmentation (:func:`segment_accounts`).
    research : cs_sim.research.ResearchResult, optional
        Its taxonomy is used to code the comments.
    taxonomy : mapping or path, optional
        Feedback taxonomy (the packaged default when None and no ``research``).
    service : pandas.DataFrame, optional
        The :func:`service_model` of ``by`` (computed when omitted).
    at : str or pandas.Timestamp, optional
        Reference month (the last month of the mrr data by default).

    Returns
    -------
    list of Persona
    """
    panel = MrrPanel.of(dataset)
    end = panel.month(at)
    labels = segment_accounts(dataset, by, at=end, panel=panel)
    service = service_model(dataset, by, at=end) if service is None else service
    attract = attractiveness(dataset, by, at=end)
    if taxonomy is None and research is not None:
        taxonomy = getattr(research, "taxonomy", None)
    pains, quotes = _pain_points(dataset, labels, taxonomy)
    channels = _channels(dataset, labels)
    acc = dataset.accounts.set_index("account_id").reindex(labels.index)
    activation = _activation(dataset, labels, end)
    out = []
    for seg in service.index:
        members = acc[labels.astype(str).to_numpy() == seg]
        paying = members.index.intersection(panel.matrix.index[panel.at(end) > 0])
        if len(paying):  # describe today's customers; a segment that churned, its past ones
            members = members.loc[paying]
        tier = str(service.loc[seg, "tier"])
        row = attract.loc[seg] if seg in attract.index else None
        firm = {
            "paying accounts": fmt(len(paying), "count"),
            "employees (median)": fmt(members["employees"].median(), "count"),
            "industries": _top(members["industry"]),
            "ARPA": fmt(service.loc[seg, "arpa"], "money") + " a month",
            "annual contracts": fmt((members["contract"] == "annual").mean(), "pct", digits=0),
        }
        if "region" in members:
            firm["regions"] = _top(members["region"])
        goals = list(_TIER_GOALS.get(tier, []))
        if seg in activation.index and activation[seg] < 0.6:
            goals.append(f"get more of the seats they pay for in use (now "
                         f"{fmt(activation[seg], 'pct', digits=0)} active)")
        metrics = list(_TIER_METRICS.get(tier, []))
        if row is not None and pd.notna(row["risk"]):
            metrics.append(f"today: logo churn {fmt(row['risk'], 'pct')} and NRR "
                           f"{fmt(row['growth'], 'pct')} over the last 12 months")
        out.append(Persona(
            segment=seg, tier=tier, firmographics=firm, goals=goals,
            pain_points=pains.get(seg, []), success_metrics=metrics,
            channels=channels.get(seg) or list(_TIER_CHANNELS.get(tier, [])),
            quote=quotes.get(seg),
        ))
    return out


def _activation(dataset: Dataset, labels: pd.Series, end: pd.Timestamp) -> pd.Series:
    """Share of seats active per segment over the last 3 usage months (empty without usage)."""
    from cs_sim.kpis import attach, seat_utilisation

    if dataset.usage is None:
        return pd.Series(dtype=float)
    frame = pd.DataFrame({"account_id": labels.index, "_segment": labels.astype(str).to_numpy()})
    usage = dataset.usage[dataset.usage["account_id"].isin(labels.index)]
    month = pd.to_datetime(usage["month"]).dt.to_period("M").dt.to_timestamp()
    usage = usage[((month > end - pd.DateOffset(months=3)) & (month <= end)).to_numpy()]
    if not len(usage):
        return pd.Series(dtype=float)
    util = seat_utilisation(attach(usage, frame, "_segment"), by="_segment")
    sums = util.groupby("_segment")[["active_users", "seats"]].sum()
    return sums["active_users"] / sums["seats"].where(sums["seats"] > 0)


# --------------------------------------------------------------------------- result
@dataclass(frozen=True, repr=False)
class Targeting:
    """Targeting and positioning of one segmentation (a result object).

    Attributes
    ----------
    by : str
        The segmentation.
    attractiveness : pandas.DataFrame
        :func:`attractiveness`.
    service : pandas.DataFrame
        :func:`service_model`.
    personas : list of Persona
    unavailable : dict of str to str
        What could not be computed -> why.
    source : str or None
    """

    by: str
    attractiveness: pd.DataFrame
    service: pd.DataFrame
    personas: list[Persona]
    unavailable: dict[str, str] = field(default_factory=dict)
    source: str | None = None

    def _title(self) -> str:
        return f"Targeting of {shown_path(self.source)} by {segmentation_label(self.by)}"

    def to_frame(self) -> pd.DataFrame:
        """Attractiveness and service model side by side, one row per segment."""
        return self.attractiveness.join(
            self.service[["tier", "coverage_ratio", "csm_headcount", "arr_per_csm"]])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (raw numbers)."""
        return to_jsonable({
            "source": self.source, "by": self.by,
            "attractiveness": self.attractiveness.reset_index().to_dict("records"),
            "service_model": self.service.reset_index().to_dict("records"),
            "csm_headcount": float(self.service["csm_headcount"].sum()),
            "personas": [asdict(p) for p in self.personas],
            "unavailable": dict(self.unavailable),
        })

    def to_text(self) -> str:
        """Plain text: the two tables, the headcount and the persona cards."""
        lines = [self._title(), "", "Attractiveness (score 0-100, priority 1 = first)",
                 text_table(self.attractiveness, ATTRACTIVENESS_UNITS), "",
                 "Service model", text_table(self.service, SERVICE_UNITS), "",
                 f"CSM headcount implied: {self._headcount()} full-time equivalents", "",
                 "Personas"]
        lines += [p.to_text() + "\n" for p in self.personas]
        if self.unavailable:
            lines += ["Not available:"]
            lines += [f"  - {what}: {why}" for what, why in self.unavailable.items()]
        return "\n".join(lines).rstrip()

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return (f"<Targeting: {self._title()}; {len(self.service)} segments, "
                f"{self._headcount()} CSMs>")

    def view(self, name: str) -> Table | PersonaCards:
        """One part of the result for notebooks.

        Parameters
        ----------
        name : str
            ``attractiveness``, ``service``, ``personas`` or ``unavailable``.

        Returns
        -------
        cs_sim.format.Table or PersonaCards
        """
        if name == "attractiveness":
            return Table(*_headed(self.attractiveness, ATTRACTIVENESS_UNITS), caption=(
                "Attractiveness: revenue now, growth (NRR) and risk (logo churn) over the last "
                "12 months, cost to serve per account and month; score 0-100"))
        if name == "service":
            service = self.service.assign(tier=self.service["tier"].map(
                lambda t: _TIER_NAMES.get(str(t), str(t))))
            return Table(*_headed(service, SERVICE_UNITS), caption=(
                "Service model: tier, accounts per CSM (coverage) and the CSM headcount it "
                "implies"), note=f"CSM headcount implied: {self._headcount()} full-time "
                "equivalents.")
        if name == "personas":
            return PersonaCards(self.personas)
        if name == "unavailable":
            frame = pd.DataFrame({"why": list(self.unavailable.values())},
                                 index=pd.Index(list(self.unavailable), name="analysis"))
            return Table(frame, caption="Not available with this dataset",
                         note=None if len(frame) else "Everything could be computed.")
        raise ValueError(f"unknown view {name!r}; use attractiveness, service, personas or "
                         "unavailable")

    def _headcount(self) -> str:
        return fmt(self.service["csm_headcount"].sum(), "number", digits=1)

    def outline(self) -> str:
        """One line: the segmentation and each segment's service tier (no figures)."""
        tiers = ", ".join(f"{seg} {_TIER_NAMES.get(str(t), str(t))}"
                          for seg, t in self.service["tier"].items())
        return f"Targeting by {segmentation_label(self.by)}: {tiers or 'no segments'}."

    def headline_items(self, tradeoffs: Any = None) -> list[tuple[str, str, float, str]]:
        """The headline figures of the segmentation, for :func:`cs_sim.report.headlines`.

        Parameters
        ----------
        tradeoffs : cs_sim.segmentation.SegmentationTradeoffs, optional
            Adds how much of the variation in churn and NRR the segmentation explains
            and how stable it is, when it is one of the candidates compared.

        Returns
        -------
        list of (key, label, value, unit)
        """
        label = segmentation_label(self.by)
        items: list[tuple[str, str, float, str]] = [
            ("segments", f"Segments ({label})", float(len(self.service)), "count")]
        table = getattr(tradeoffs, "table", None)
        if table is not None and self.by in table.index:
            row = table.loc[self.by]
            items += [("churn_explained", "Variation in churn explained", row["churn_explained"],
                       "pct"),
                      ("nrr_explained", "Variation in NRR explained", row["nrr_explained"], "pct"),
                      ("segment_stability", "Accounts keeping their segment", row["stability"],
                       "pct")]
        a = self.attractiveness
        if len(a) and a["score"].notna().any():
            top = a["score"].idxmax()
            items.append(("priority_segment_mrr_share", f"MRR share of the most attractive "
                          f"segment ({top})", a.loc[top, "revenue_share"], "pct"))
        items.append(("csm_headcount", "CSMs the service model implies (FTE)",
                      float(self.service["csm_headcount"].sum()), "number"))
        return items

    def attractiveness_parts(self) -> pd.DataFrame:
        """Points each criterion gives each segment's score (:func:`attractiveness_parts`)."""
        return attractiveness_parts(self.attractiveness)

    def plot_attractiveness(self) -> Figure:
        """Each segment's attractiveness score split into its criteria (stacked bars)."""
        from cs_sim.plotting import attractiveness_figure

        return attractiveness_figure(self.attractiveness_parts())

    def plot_map(self, *, ax: Axes | None = None) -> Axes:
        """Growth (NRR) against risk (logo churn) over the last 12 months; bubble = MRR."""
        from cs_sim.plotting import plot_segment_map

        ax = plot_segment_map(self.attractiveness, ax=ax)
        ax.set_xlabel("risk: logo churn over the last 12 months")
        ax.set_ylabel("growth: NRR over the last 12 months")
        return ax

    def plot_service(self, *, ax: Axes | None = None) -> Axes:
        """The CSMs each segment needs under its service model, coloured by tier."""
        from cs_sim.plotting import plot_service_model

        return plot_service_model(self.service, ax=ax)

    def _repr_html_(self) -> str:
        a = style_frame(html_escaped(self.attractiveness), ATTRACTIVENESS_UNITS,
                        caption=escape(f"{self._title()}: attractiveness")).to_html()
        s = style_frame(html_escaped(self.service), SERVICE_UNITS,
                        caption="Service model").to_html()
        head = self._headcount()
        extra = "".join(f"<li>{escape(k)}: {escape(v)}</li>" for k, v in self.unavailable.items())
        return (a + s + f"<p>CSM headcount implied: {escape(head)} full-time equivalents</p>"
                + personas_html(self.personas)
                + (f"<p>Not available:</p><ul>{extra}</ul>" if extra else ""))

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write ``targeting.json``, ``targeting.txt``, ``personas.html`` and the tables."""
        return write_files(out_dir, {
            "targeting.json": json.dumps(self.to_dict(), indent=2) + "\n",
            "targeting.txt": self.to_text() + "\n",
            "personas.html": personas_html(self.personas) + "\n",
            "attractiveness.csv": self.attractiveness.to_csv(),
            "service_model.csv": self.service.to_csv(),
        })


def targeting(
    dataset: Dataset,
    by: str,
    *,
    tiers: dict[str, str] | None = None,
    coverage: dict[str, float] | None = None,
    research: Any = None,
    taxonomy: Any = None,
    at: Any = None,
) -> Targeting:
    """Targeting (attractiveness), positioning (service model) and personas of ``by``.

    Parameters
    ----------
    dataset : cs_sim.io.Dataset
    by : str
        A segmentation (:func:`segment_accounts`), e.g. the one
        :func:`compare_segmentations` recommends.
    tiers, coverage
        As for :func:`service_model`.
    research, taxonomy
        As for :func:`personas`.
    at : str or pandas.Timestamp, optional
        Reference month.

    Returns
    -------
    Targeting
    """
    service = service_model(dataset, by, tiers=tiers, coverage=coverage, at=at)
    cards = personas(dataset, by, research=research, taxonomy=taxonomy, service=service, at=at)
    unavailable = {}
    if dataset.costs is None or (dataset.tickets is None and dataset.interactions is None):
        unavailable["cost to serve"] = (
            "needs the optional tables costs and tickets or interactions (the support and CS "
            "cost shared out over tickets and interactions)")
    if dataset.surveys is None:
        unavailable["persona pain points"] = (
            "needs the optional table 'surveys' with comments (surveys.csv or surveys.parquet)")
    if dataset.interactions is None:
        unavailable["persona channels from data"] = (
            "needs the optional table 'interactions'; the channels shown are those of the "
            "segment's service tier")
    if dataset.usage is None:
        unavailable["seat activation in persona goals"] = (
            "needs the optional table 'usage' (usage.csv or usage.parquet)")
    return Targeting(by, attractiveness(dataset, by, at=at), service, cards, unavailable,
                     dataset.source)
