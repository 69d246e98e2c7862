"""The customer-research result: :func:`analyse_research` and :class:`ResearchResult`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from cs_sim.research import _feedback, _patterns
from cs_sim.segmentation import segment_accounts, segmentation_label
from cs_sim.segmentation._segments import MrrPanel, shown_path

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from cs_sim.io import Dataset

__all__ = ["ResearchResult", "analyse_research"]

USAGE_UNITS = {"month": "month", "paying_accounts": "count", "using_accounts": "count",
               "usage_rate": "pct", "seats": "count", "active_users": "count",
               "seat_utilisation": "pct", "stickiness": "pct",
               "minutes_per_active_user": "number",
               "sessions_per_active_user": "number", "feature_events_per_active_user": "number"}
TICKET_UNITS = {"tickets": "count", "accounts_with_tickets": "count",
                "tickets_per_100_accounts": "number", "fcr": "pct", "aht": "number",
                "multi_contact_share": "pct", "repeat_share": "pct", "open_tickets": "count",
                "median_days_to_resolve": "number", "share": "pct"}
SURVEY_UNITS = {"nps_n": "count", "nps": "score", "nps_ci_low": "score", "nps_ci_high": "score",
                "nps_trend": "score", "nps_trend_p": "pvalue", "csat_n": "count",
                "csat": "score", "csat_ci_low": "score", "csat_ci_high": "score",
                "ces_n": "count", "ces": "ratio", "ces_ci_low": "ratio", "ces_ci_high": "ratio"}
THEME_UNITS = {"mentions": "count", "share": "pct", "promoters": "count", "passives": "count",
               "detractors": "count", "accounts": "count", "mrr_of_accounts": "money",
               "detractor_mrr": "money", "churn_rate_of_accounts": "pct",
               "churn_lift": "ratio", "churn_p_value": "pvalue", "priority": "count",
               "rank_mrr": "count", "rank_churn": "count", "score": "count", "date": "month"}
_SURVEY_SHOWN = ["nps_n", "nps", "nps_ci_low", "nps_ci_high", "nps_trend", "nps_trend_p",
                 "csat_n", "csat", "csat_ci_low", "csat_ci_high", "ces_n", "ces", "ces_ci_low",
                 "ces_ci_high"]
_THEMES_SHOWN = ["theme", "mentions", "share", "promoters", "detractors", "accounts",
                 "mrr_of_accounts", "churn_rate_of_accounts", "churn_lift"]
_DIGEST_SHOWN = ["priority", "theme", "owner", "detractors", "detractor_mrr",
                 "churn_rate_of_accounts", "churn_lift", "example_quote"]
#: company-wide figures (``ResearchResult.company``): key -> (label, unit); the keys are
#: the headline keys of the research notebook
COMPANY_FIGURES: dict[str, tuple[str, str]] = {
    "usage_rate": ("Product usage rate (last 3 months)", "pct"),
    "seat_utilisation": ("Seat utilisation (last 3 months)", "pct"),
    "stickiness": ("Stickiness, DAU/MAU (last 3 months)", "pct"),
    "minutes_per_active_user": ("Minutes per active user a month (last 3 months)", "number"),
    "tickets_per_100_accounts": ("Tickets per 100 paying accounts a month", "number"),
    "fcr": ("First contact resolution", "pct"),
    "aht": ("Average handle time (minutes)", "number"),
    "nps": ("NPS", "score"),
    "csat": ("CSAT (% satisfied)", "score"),
    "ces": ("CES (1-7, 7 = easy)", "ratio"),
    "coded_comment_share": ("Comments coded into a theme", "pct"),
}
#: column headings of the notebook views (``ResearchResult.view``)
HEADINGS: dict[str, str] = {
    "paying_accounts": "paying accounts", "using_accounts": "using accounts",
    "usage_rate": "usage rate", "active_users": "active users",
    "seat_utilisation": "seat utilisation", "minutes_per_active_user": "minutes per active user",
    "sessions_per_active_user": "sessions per active user",
    "feature_events_per_active_user": "key-feature events per active user",
    "months_since_signup": "months since signup",
    "accounts_with_tickets": "accounts with tickets",
    "tickets_per_100_accounts": "per 100 accounts a month", "fcr": "FCR", "aht": "AHT (minutes)",
    "multi_contact_share": "multi-contact", "repeat_share": "repeats", "open_tickets": "open",
    "median_days_to_resolve": "median days to resolve", "top_category": "top category",
    "nps_n": "NPS answers", "nps": "NPS", "nps_ci_low": "NPS low", "nps_ci_high": "NPS high",
    "nps_trend": "NPS trend a quarter", "nps_trend_p": "trend p", "csat_n": "CSAT answers",
    "csat": "CSAT", "csat_ci_low": "CSAT low", "csat_ci_high": "CSAT high",
    "ces_n": "CES answers", "ces": "CES", "ces_ci_low": "CES low", "ces_ci_high": "CES high",
    "mrr_of_accounts": "MRR of accounts", "detractor_mrr": "detractor MRR",
    "churn_rate_of_accounts": "churn of accounts", "churn_lift": "churn lift",
    "churn_p_value": "churn p", "example_quote": "in their words",
    "promoter_quote": "a promoter's words", "detractor_quote": "a detractor's words",
}


def _readable(frame: pd.DataFrame, units: dict[str, str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """``frame`` and ``units`` with the column headings of :data:`HEADINGS` (missing text,
    such as a quote nobody wrote, shown empty)."""
    text = [c for c in frame.columns if frame[c].dtype.kind == "O"]
    out = frame.assign(**{c: frame[c].fillna("") for c in text}) if text else frame
    return (out.rename(columns=HEADINGS), {HEADINGS.get(k, k): u for k, u in units.items()})


#: the company-wide figures the research notebook hands to the report
HEADLINE_KEYS = ("nps", "csat", "ces", "seat_utilisation", "stickiness", "fcr",
                 "tickets_per_100_accounts", "coded_comment_share")


def _need(table: str, what: str) -> str:
    return f"needs the optional table '{table}' ({table}.csv or {table}.parquet) for {what}"


@dataclass(frozen=True, repr=False)
class ResearchResult:
    """Customer research on one dataset: usage, support, surveys and feedback themes.

    Attributes
    ----------
    by : str or None
        The segmentation (:func:`cs_sim.segmentation.segment_accounts`).
    usage : pandas.DataFrame or None
        Adoption by segment and month (usage rate, seats used vs bought, time and
        feature use per active user).
    adoption : pandas.DataFrame or None
        Seat utilisation by months since signup, per segment (adoption curves).
    tickets : pandas.DataFrame or None
        By segment: volume, FCR, handle time, multi-contact and repeat shares, open
        tickets, days to resolve, top category.
    ticket_categories : pandas.DataFrame or None
        By segment and category.
    surveys : pandas.DataFrame or None
        NPS, CSAT, CES by segment with intervals and the NPS trend per quarter.
    survey_trend : pandas.DataFrame or None
        NPS, CSAT, CES by segment and quarter.
    survey_distribution : pandas.DataFrame or None
        Share of answers at each score, by survey kind and segment.
    themes : pandas.DataFrame or None
        One row per theme: mentions, share, promoters, passives, detractors, accounts,
        mrr_of_accounts, detractor_mrr, churn_rate_of_accounts, churn_lift,
        churn_p_value, example_quote, promoter_quote, detractor_quote.
    themes_by_segment : pandas.DataFrame or None
        Mentions, promoters, detractors and a promoter's and a detractor's quote per
        segment and theme.
    pain_points : list of str
        Top themes by the MRR behind detractor comments.
    digest : pandas.DataFrame or None
        The product-team digest (:func:`cs_sim.research._feedback.digest`).
    uncoded : pandas.DataFrame or None
        Comments no theme matched.
    taxonomy : object
        The taxonomy the comments were coded with (None: the packaged default).
    unavailable : dict of str to str
        Analysis -> why it could not be done.
    source : str or None
    company : dict of str to float
        The same figures for the whole company (keys of :data:`COMPANY_FIGURES`; a figure
        whose table is missing is left out).
    """

    by: str | None
    usage: pd.DataFrame | None
    adoption: pd.DataFrame | None
    tickets: pd.DataFrame | None
    ticket_categories: pd.DataFrame | None
    surveys: pd.DataFrame | None
    survey_trend: pd.DataFrame | None
    survey_distribution: pd.DataFrame | None
    themes: pd.DataFrame | None
    themes_by_segment: pd.DataFrame | None
    pain_points: list[str]
    digest: pd.DataFrame | None
    uncoded: pd.DataFrame | None
    taxonomy: Any = None
    unavailable: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    company: dict[str, float] = field(default_factory=dict)

    # ---------------------------------------------------------------- views
    def _title(self) -> str:
        by = f", by {segmentation_label(self.by)}" if self.by else ""
        return f"Customer research of {shown_path(self.source)}{by}"

    def usage_summary(self, months: int = 3) -> pd.DataFrame | None:
        """Usage by segment, averaged over the last ``months`` months of usage data."""
        if self.usage is None or not len(self.usage):
            return None
        last = self.usage["month"].max() - pd.DateOffset(months=months - 1)
        recent = self.usage[self.usage["month"] >= last]
        cols = ["usage_rate", "seat_utilisation", "stickiness", "minutes_per_active_user",
                "sessions_per_active_user", "feature_events_per_active_user"]
        out = recent.groupby("segment")[[c for c in cols if c in recent.columns]].mean()
        return out.dropna(axis=1, how="all")  # stickiness needs the optional dau column

    def _tables(self) -> list[tuple[str, pd.DataFrame, dict[str, str]]]:
        out = []
        summary = self.usage_summary()
        if summary is not None:
            out.append(("Usage by segment (mean of the last 3 months)", summary, USAGE_UNITS))
        if self.tickets is not None:
            out.append(("Support tickets by segment (tickets per 100 paying accounts a month; "
                        "AHT in minutes)", self.tickets, TICKET_UNITS))
        if self.surveys is not None:
            out.append(("Surveys by segment (95% intervals; NPS trend in points per quarter)",
                        self.surveys[_SURVEY_SHOWN], SURVEY_UNITS))
        if self.themes is not None:
            out.append(("Feedback themes (promoters/detractors: comments on positive/negative "
                        "answers)", self.themes[_THEMES_SHOWN].set_index("theme"), THEME_UNITS))
        if self.digest is not None:
            out.append(("Product-team digest: themes ranked by the MRR raising them and their "
                        "link to churn", self.digest[_DIGEST_SHOWN].set_index("priority"),
                        THEME_UNITS))
        return out

    def to_frame(self) -> pd.DataFrame:
        """The feedback themes (raw numbers), or an empty frame without comments."""
        return self.themes.copy() if self.themes is not None else pd.DataFrame()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary of every table (lists of records) and ``unavailable``."""
        def records(frame: pd.DataFrame | None, index: bool = False) -> Any:
            if frame is None:
                return None
            return (frame.reset_index() if index else frame).to_dict("records")

        return to_jsonable({
            "source": self.source, "by": self.by,
            "usage": records(self.usage), "adoption": records(self.adoption),
            "tickets": records(self.tickets, True),
            "ticket_categories": records(self.ticket_categories),
            "surveys": records(self.surveys, True), "survey_trend": records(self.survey_trend),
            "survey_distribution": records(self.survey_distribution, True),
            "themes": records(self.themes), "themes_by_segment": records(self.themes_by_segment),
            "pain_points": list(self.pain_points), "digest": records(self.digest),
            "uncoded": records(self.uncoded), "unavailable": dict(self.unavailable),
        })

    def _pain_text(self) -> str:
        if not self.pain_points:
            return "Top pain points: none found (no detractor comments carry a theme)."
        return "Top pain points (MRR behind detractor comments): " + ", ".join(
            t.replace("_", " ") for t in self.pain_points) + "."

    def _uncoded_lines(self, n: int) -> list[str]:
        """The ``n`` most frequent uncoded comments, with how often each was written."""
        if self.uncoded is None:
            return []
        counts = self.uncoded["comment"].value_counts(sort=True)
        return [c + (f" ({fmt(k, 'count')} times)" if k > 1 else "")
                for c, k in counts.head(n).items()]

    def to_text(self, *, quotes: int = 10) -> str:
        """Plain text: every table, the pain points, uncoded comments and what is missing."""
        lines = [self._title()]
        for title, frame, units in self._tables():
            lines += ["", title, text_table(frame, units)]
        if self.themes is not None:
            lines += ["", self._pain_text()]
        if self.uncoded is not None:
            lines += ["", f"Uncoded comments: {fmt(len(self.uncoded), 'count')} (the most "
                      "frequent below; add keywords or phrases to the taxonomy to code them)"]
            lines += [f"  - {c}" for c in self._uncoded_lines(quotes)]
        if self.unavailable:
            lines += ["", "Not available:"]
            lines += [f"  - {what}: {why}" for what, why in self.unavailable.items()]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        parts = [f"<h4>{escape(self._title())}</h4>"]
        for title, frame, units in self._tables():
            parts.append(style_frame(html_escaped(frame), units, caption=escape(title)).to_html())
        if self.themes is not None:
            parts.append(f"<p>{escape(self._pain_text())}</p>")
        if self.uncoded is not None and len(self.uncoded):
            items = "".join(f"<li>{escape(c)}</li>" for c in self._uncoded_lines(10))
            parts.append(f"<p>Uncoded comments: {fmt(len(self.uncoded), 'count')} (the most "
                         f"frequent 10)</p><ul>{items}</ul>")
        if self.unavailable:
            items = "".join(f"<li>{escape(k)}: {escape(v)}</li>"
                            for k, v in self.unavailable.items())
            parts.append(f"<p>Not available:</p><ul>{items}</ul>")
        return "".join(parts)

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write ``research.json``, ``research.txt`` and each table as CSV into ``out_dir``."""
        files = {"research.json": json.dumps(self.to_dict(), indent=2) + "\n",
                 "research.txt": self.to_text() + "\n"}
        for name in ("usage", "adoption", "tickets", "ticket_categories", "surveys",
                     "survey_trend", "survey_distribution", "themes", "themes_by_segment",
                     "digest", "uncoded"):
            frame = getattr(self, name)
            if frame is not None:
                keep_index = name in ("tickets", "surveys", "survey_distribution")
                files[f"research_{name}.csv"] = frame.to_csv(index=keep_index,
                                                             date_format="%Y-%m-%d")
        return write_files(out_dir, files)

    # ---------------------------------------------------------------- notebook views
    def __repr__(self) -> str:
        parts = [name for name in ("usage", "tickets", "surveys", "themes")
                 if getattr(self, name) is not None]
        return (f"<ResearchResult: {self._title()}; {', '.join(parts) or 'nothing'} analysed, "
                f"{len(self.unavailable)} not available>")

    def _why(self, *keys: str) -> str:
        for key in keys:
            if key in self.unavailable:
                return f"Not available: {self.unavailable[key]}."
        return "Not available."

    def view(self, name: str) -> Table:
        """One part of the result as a :class:`cs_sim.format.Table`, for notebooks.

        Parameters
        ----------
        name : str
            ``company`` (the whole company's figures), ``usage`` (means of the last 3
            months by segment), ``usage_monthly``, ``adoption``,
            ``tickets``, ``ticket_categories``, ``surveys``, ``survey_distribution``,
            ``survey_trend``, ``themes``,
            ``themes_by_segment``, ``pain_points``, ``digest``, ``uncoded`` or
            ``unavailable``.

        Returns
        -------
        cs_sim.format.Table
            Renders as HTML in a notebook and as text with ``print``; says why when the
            analysis is not available.
        """
        def table(frame: pd.DataFrame | None, units: dict[str, str], caption: str,
                  why: tuple[str, ...], *, index: bool = True) -> Table:
            if frame is None:
                return Table(pd.DataFrame(), caption=caption, note=self._why(*why))
            frame, units = _readable(frame, units)
            return Table(frame, units, caption=caption, index=index)

        usage_why = ("usage patterns",)
        comments_why = ("feedback themes",)
        if name == "usage":
            return table(self.usage_summary(), USAGE_UNITS,
                         "Usage by segment, mean of the last 3 months", usage_why)
        if name == "usage_monthly":
            return table(self.usage, USAGE_UNITS, "Usage by segment and month", usage_why,
                         index=False)
        if name == "adoption":
            frame = None if self.adoption is None or not len(self.adoption) else self.adoption
            return table(frame, {"accounts": "count", "seat_utilisation": "pct"},
                         "Adoption: share of seats active by months since signup",
                         ("adoption curves", "usage patterns"), index=False)
        if name == "tickets":
            return table(self.tickets, TICKET_UNITS, "Support tickets by segment (tickets "
                         "per 100 paying accounts a month; AHT in minutes)", ("support tickets",))
        if name == "ticket_categories":
            return table(self.ticket_categories, TICKET_UNITS,
                         "Tickets by segment and category", ("support tickets",), index=False)
        if name == "surveys":
            frame = None if self.surveys is None else self.surveys[_SURVEY_SHOWN]
            return table(frame, SURVEY_UNITS, "Surveys by segment: NPS (-100..100), CSAT "
                         "(% satisfied), CES (1-7, 7 = easy), with 95% intervals; NPS trend "
                         "in points per quarter", ("surveys",))
        if name == "survey_distribution":
            frame = self.survey_distribution
            units = {c: "pct" for c in (frame.columns if frame is not None else [])}
            return table(frame, {**units, "answers": "count"}, "How answers spread over "
                         "each scale: share of a segment's answers at each score (NPS 0-10, "
                         "CSAT 1-5, CES 1-7)", ("surveys",))
        if name == "survey_trend":
            return table(self.survey_trend, {**SURVEY_UNITS, "period": "month"},
                         "Surveys by segment and quarter", ("surveys",), index=False)
        if name == "themes":
            frame = None if self.themes is None else self.themes[_THEMES_SHOWN].set_index("theme")
            return table(frame, THEME_UNITS, "Feedback themes (promoters / detractors: "
                         "comments on positive / negative answers)", comments_why)
        if name == "themes_by_segment":
            return table(self.themes_by_segment, THEME_UNITS,
                         "Feedback themes by segment, with a quote", comments_why, index=False)
        if name == "pain_points":
            frame = None
            if self.themes is not None:
                frame = (self.themes.set_index("theme").loc[self.pain_points,
                                                            ["detractors", "detractor_mrr"]]
                         if self.pain_points else pd.DataFrame())
            return Table(*_readable(pd.DataFrame() if frame is None else frame, THEME_UNITS),
                         caption="Top pain points: MRR behind detractor comments",
                         note=None if frame is not None and len(frame) else (
                             self._pain_text() if self.themes is not None
                             else self._why(*comments_why)))
        if name == "digest":
            frame = None if self.digest is None else self.digest[_DIGEST_SHOWN].set_index(
                "priority")
            return table(frame, THEME_UNITS, "Product-team digest: themes ranked by the MRR "
                         "raising them and their link to churn", comments_why)
        if name == "uncoded":
            if self.uncoded is None:
                return table(None, {}, "Uncoded comments", comments_why)
            counts = self.uncoded["comment"].value_counts().rename("times").head(20)
            frame = counts.rename_axis("comment").to_frame()
            return Table(frame, {"times": "count"},
                         caption=f"Uncoded comments: {fmt(len(self.uncoded), 'count')}, the "
                         "most frequent first (add keywords or phrases to the taxonomy)")
        if name == "unavailable":
            frame = pd.DataFrame({"why": list(self.unavailable.values())},
                                 index=pd.Index(list(self.unavailable), name="analysis"))
            return Table(frame, caption="Not available with this dataset",
                         note=None if len(frame) else "Every analysis could be done.")
        if name == "company":
            rows = [(COMPANY_FIGURES[k][0], fmt(v, COMPANY_FIGURES[k][1]))
                    for k, v in self.company.items() if k in COMPANY_FIGURES]
            frame = pd.DataFrame(rows, columns=["figure", "whole company"]).set_index("figure")
            return Table(frame, caption="The whole company at a glance",
                         note=None if len(frame) else "No usage, ticket or survey data.")
        raise ValueError(f"unknown view {name!r}; use company, usage, usage_monthly, adoption, "
                         "tickets, "
                         "ticket_categories, surveys, survey_distribution, survey_trend, "
                         "themes, themes_by_segment, pain_points, digest, uncoded or "
                         "unavailable")

    def headline_items(self) -> list[tuple[str, str, float, str]]:
        """The whole company's headline figures, for :func:`cs_sim.report.headlines`.

        Returns
        -------
        list of (key, label, value, unit)
            The figures of :data:`HEADLINE_KEYS` the dataset's tables allow.
        """
        return [(k, COMPANY_FIGURES[k][0], self.company[k], COMPANY_FIGURES[k][1])
                for k in HEADLINE_KEYS if k in self.company]

    def outline(self) -> str:
        """One line on what was analysed: the segments and the analyses done (no figures)."""
        segments = sorted({str(s) for frame in (self.tickets, self.surveys)
                           if frame is not None for s in frame.index})
        if not segments and self.usage is not None:
            segments = sorted(self.usage["segment"].astype(str).unique())
        done = [name for name, frame in (("usage", self.usage), ("tickets", self.tickets),
                                         ("surveys", self.surveys), ("themes", self.themes))
                if frame is not None]
        themes = ("" if self.themes is None else
                  f"; {fmt(int((self.themes['mentions'] > 0).sum()), 'count')} of "
                  f"{fmt(len(self.themes), 'count')} themes mentioned")
        by = segmentation_label(self.by) if self.by else "whole company"
        return (f"Research by {by}: segments {', '.join(segments) or 'none'}; analysed "
                f"{', '.join(done) or 'nothing'}{themes}.")

    def plot_usage_summary(self) -> Figure | Axes:
        """Usage by segment, mean of the last 3 months: one panel of bars per figure."""
        from cs_sim.plotting import plot_message, segment_bar_panels

        summary = self.usage_summary()
        if summary is None:
            return plot_message(self._why("usage patterns"))
        return segment_bar_panels(summary, [
            ("usage_rate", "Usage rate", "pct"),
            ("seat_utilisation", "Seat utilisation", "pct"),
            ("stickiness", "Stickiness (DAU/MAU)", "pct"),
            ("minutes_per_active_user", "Minutes per active user", "number"),
        ], references=self.company, title="Usage by segment, mean of the last 3 months")

    def plot_tickets(self) -> Figure | Axes:
        """Support by segment: volume, FCR, handle time and repeats, one panel each."""
        from cs_sim.plotting import plot_message, segment_bar_panels

        if self.tickets is None:
            return plot_message(self._why("support tickets"))
        return segment_bar_panels(self.tickets, [
            ("tickets_per_100_accounts", "Tickets per 100 accounts a month", "number"),
            ("fcr", "First contact resolution", "pct"),
            ("aht", "Handle time (minutes)", "number"),
            ("repeat_share", "Repeat tickets", "pct"),
        ], references=self.company, title="Support tickets by segment")

    def plot_nps_mix(self, *, ax: Axes | None = None) -> Axes:
        """Detractors, passives and promoters of each segment (or a note)."""
        from cs_sim.plotting import plot_message, plot_nps_mix

        dist = self.survey_distribution
        if dist is None or "nps" not in dist.index.get_level_values(0):
            return plot_message(self._why("surveys"), ax=ax)
        return plot_nps_mix(dist, ax=ax)

    def plot_theme_impact(self) -> Figure | Axes:
        """Each theme's detractor MRR and churn lift, in the digest's order (or a note)."""
        from cs_sim.plotting import plot_message, theme_impact_figure

        if self.digest is None or not len(self.digest):
            return plot_message(self._why("feedback themes"))
        return theme_impact_figure(self.digest)

    def plot_usage(self, *, metric: str = "seat_utilisation", ax: Axes | None = None) -> Axes:
        """Line chart of a usage metric by segment and month (a note when unavailable)."""
        from cs_sim.plotting import plot_by_segment, plot_message

        if self.usage is None:
            return plot_message(self._why("usage patterns"), ax=ax)
        ax = plot_by_segment(self.usage, x="month", metric=metric,
                             unit=USAGE_UNITS.get(metric, "number"), ax=ax)
        ax.set_title(metric.replace("_", " ").capitalize() + " by segment")
        return ax

    def plot_adoption(self, *, ax: Axes | None = None) -> Axes:
        """Adoption curves by segment (a note when unavailable)."""
        from cs_sim.plotting import plot_adoption, plot_message

        if self.adoption is None or not len(self.adoption):
            return plot_message(self._why("adoption curves", "usage patterns"), ax=ax)
        return plot_adoption(self.adoption, ax=ax)

    def plot_surveys(self, kind: str = "nps", *, ax: Axes | None = None) -> Axes:
        """A survey score per segment with its interval (a note when unavailable)."""
        from cs_sim.plotting import plot_message, plot_survey_intervals

        if self.surveys is None:
            return plot_message(self._why("surveys"), ax=ax)
        return plot_survey_intervals(self.surveys, kind=kind, ax=ax)

    def plot_survey_trend(self, kind: str = "nps", *, ax: Axes | None = None) -> Axes:
        """A survey score by quarter, one line per segment (a note when unavailable)."""
        from cs_sim.plotting import plot_by_segment, plot_message

        if self.survey_trend is None:
            return plot_message(self._why("surveys"), ax=ax)
        ax = plot_by_segment(self.survey_trend, x="period", metric=kind,
                             unit=SURVEY_UNITS.get(kind, "number"), ax=ax)
        ax.set_xlabel("quarter")
        ax.set_ylabel(kind.upper())
        ax.set_title(f"{kind.upper()} by quarter")
        return ax

    def plot_themes(self, *, ax: Axes | None = None) -> Axes:
        """Theme mentions split by promoters, passives and detractors (or a note)."""
        from cs_sim.plotting import plot_message, plot_themes

        if self.themes is None:
            return plot_message(self._why("feedback themes"), ax=ax)
        return plot_themes(self.themes, ax=ax)


# --------------------------------------------------------------------------- run
def _labels(dataset: Dataset, by: str | None, panel: MrrPanel) -> pd.Series:
    """Segment of every account (also those that never paid, for accounts columns)."""
    ids = pd.Index(dataset.accounts["account_id"])
    if by is None:
        return pd.Series("all", index=ids, name="segment")
    if by in dataset.accounts.columns:
        col = dataset.accounts.set_index("account_id")[by]
        return col.astype("string").fillna("(none)").astype(str).rename("segment")
    paid = segment_accounts(dataset, by, panel=panel).astype(str)
    return paid.reindex(ids).fillna("(never paid)").rename("segment")


def _resolve_by(dataset: Dataset, by: str | None) -> str | None:
    if by == "segment" and "segment" not in dataset.accounts.columns:
        return "size_band"
    return by


def analyse_research(
    dataset: Dataset,
    *,
    by: str | None = "segment",
    themes: Any = None,
    confidence: float = 0.95,
) -> ResearchResult:
    """Customer research: usage patterns, support tickets, surveys and feedback themes.

    Parameters
    ----------
    dataset : cs_sim.io.Dataset
    by : str or None, default "segment"
        The segmentation: an accounts column or a derived segmentation
        (:func:`cs_sim.segmentation.segment_accounts`). ``"segment"`` is the dataset's own
        segment column, or the company size band when the accounts table has none; None
        for the whole company.
    themes : mapping or path, optional
        The feedback taxonomy (``templates/feedback_themes.yaml`` or a dict of theme ->
        keywords and phrases); the packaged default when None.
    confidence : float, default 0.95
        Level of the survey intervals.

    Returns
    -------
    ResearchResult
        Analyses whose optional table is missing are None and explained in
        ``unavailable``.
    """
    by = _resolve_by(dataset, by)
    panel = MrrPanel.of(dataset)
    labels = _labels(dataset, by, panel)
    unavailable: dict[str, str] = {}
    usage = adoption = tickets = categories = surveys = trend = spread = None
    theme_rows = by_seg = dig = uncoded = coded_n = None
    pains: list[str] = []
    if dataset.usage is not None and len(dataset.usage):
        usage = _patterns.usage_patterns(dataset.usage, dataset.mrr, labels)
        adoption = _patterns.adoption_curve(dataset.usage, dataset.accounts, labels)
        if not len(adoption):
            unavailable["adoption curves"] = ("no account signed up after the usage data "
                                              "begin, so no curve starts at month 0")
    else:
        unavailable["usage patterns"] = _need("usage", "adoption, seats and feature use")
    if dataset.tickets is not None and len(dataset.tickets):
        tickets = _patterns.ticket_analysis(dataset.tickets, dataset.mrr, labels)
        categories = _patterns.ticket_categories(dataset.tickets, labels)
    else:
        unavailable["support tickets"] = _need("tickets", "volume, FCR, handle time, repeats")
    sv = dataset.surveys
    if sv is not None and len(sv):
        surveys = _patterns.survey_scores(sv, labels, confidence=confidence)
        trend = _patterns.survey_trend(sv, labels)
        spread = _patterns.score_distribution(sv, labels)
    else:
        unavailable["surveys"] = _need("surveys", "NPS, CSAT and CES")
    has_comments = (sv is not None and "comment" in sv.columns
                    and sv["comment"].astype("string").str.strip().fillna("").ne("").any())
    if has_comments:
        coded, names = _feedback.code_comments(sv, labels, taxonomy=themes)
        coded_n = len(coded)
        last = panel.months[-1]
        account_mrr = panel.paid_by(last)
        churned = panel.at(last).reindex(account_mrr.index) <= 0
        theme_rows = _feedback.theme_table(coded, names, account_mrr, churned)
        by_seg = _feedback.themes_by_segment(coded, names)
        pains = _feedback.pain_points(theme_rows)
        dig = _feedback.digest(theme_rows)
        uncoded = _feedback.uncoded_comments(coded, names)
    else:
        unavailable["feedback themes"] = _need("surveys", "open comments (a 'comment' column)")
    company = _patterns.company_figures(
        dataset, labels.index, comments=coded_n or 0,
        uncoded=0 if uncoded is None else len(uncoded))
    return ResearchResult(
        by=by, usage=usage, adoption=adoption, tickets=tickets, ticket_categories=categories,
        surveys=surveys, survey_trend=trend, survey_distribution=spread, themes=theme_rows,
        themes_by_segment=by_seg,
        pain_points=pains, digest=dig, uncoded=uncoded, taxonomy=themes,
        unavailable=unavailable, source=dataset.source, company=company,
    )
