"""Parameters of what the synthetic-company generator adds to the engine's record.

Nothing here feeds back into the dynamics: names, industries, dates inside a month,
ticket categories and resolution delays, CES answers, DAU/WAU and survey comments. All
of :class:`SynthParams` is written to ``ground_truth.json`` (``synthetic_details``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CATEGORIES_FAIL",
    "CATEGORIES_OK",
    "DEFAULT_SCENARIO",
    "GENERATOR_VERSION",
    "SENTIMENTS",
    "THEMES",
    "SynthParams",
]

#: version of the export rules of :mod:`cs_sim.synth` (bump when the exported files change)
GENERATOR_VERSION = "1"
#: default scenario, relative to the project root
DEFAULT_SCENARIO = "templates/scenarios/sample_company.yaml"
#: themes of survey comments (those of the default feedback taxonomy), in weight order
THEMES = ("onboarding", "pricing", "support", "reliability", "missing_features",
          "ease_of_use", "performance")
#: sentiments of survey answers, from their score (0, 1, 2)
SENTIMENTS = ("negative", "neutral", "positive")
#: ticket categories (and weights) of tickets solved at first contact
CATEGORIES_OK = (("how-to", 0.45), ("billing", 0.15), ("account", 0.15), ("bug", 0.15),
                 ("integration", 0.10))
#: ticket categories (and weights) of tickets not solved at first contact
CATEGORIES_FAIL = (("bug", 0.40), ("integration", 0.25), ("performance", 0.15),
                   ("how-to", 0.10), ("billing", 0.10))


@dataclass(frozen=True)
class SynthParams:
    """Parameters of what the generator adds to the engine's record (no feedback).

    All of them are written to ``ground_truth.json`` (``synthetic_details``).

    Attributes
    ----------
    industries : tuple of (str, float)
        Industry names and weights (no effect on behaviour).
    regions : tuple of (str, float)
        Sales regions and weights (no effect on behaviour).
    trial_days : int
        Length of a free trial; a won account's trial ends in its first paid month.
    support_cost_per_hour : float
        Support cost per agent hour (``costs.support_cost`` = handle hours x this).
    ces_response_rate : float
        Share of resolved tickets answered with a CES survey (1-7, 7 = very easy).
    ces_intercept, ces_per_extra_contact, ces_noise_sd : float
        ``CES = clip(round(intercept + per_extra_contact * (contacts - 1) + sd * Z), 1, 7)``.
    comment_rate : mapping of str to float
        Share of answers with an open comment, by survey kind.
    uncoded_share : float
        Share of comments that carry no theme ("Love it.").
    second_theme_rate : float
        Share of coded comments with a second sentence on another theme.
    theme_weights : mapping of str to tuple of float
        Base weight of each theme (order of :data:`THEMES`) by sentiment.
    early_tenure_onboarding : float
        Onboarding weight multiplier while tenure < ``behaviour.churn.early_life_months``.
    failed_ticket_boost : float
        Support and reliability weight multiplier (negative and neutral comments) in a
        month with a ticket not solved at first contact.
    low_usage_share, low_usage_boost : float
        Ease-of-use weight multiplier (negative and neutral comments) when active users
        / seats < ``low_usage_share``.
    stickiness_intercept, stickiness_slope, stickiness_sd : float
        ``DAU / MAU = clip(intercept + slope * active share + sd * Z, 0.02, 0.95)``;
        ``WAU = DAU + wau_fill * (MAU - DAU)``.
    wau_fill : float
    """

    industries: tuple[tuple[str, float], ...] = (
        ("software", 0.22), ("retail", 0.14), ("healthcare", 0.12), ("finance", 0.12),
        ("manufacturing", 0.12), ("education", 0.10), ("logistics", 0.09), ("media", 0.09),
    )
    regions: tuple[tuple[str, float], ...] = (("AMER", 0.5), ("EMEA", 0.35), ("APAC", 0.15))
    trial_days: int = 14
    support_cost_per_hour: float = 45.0
    ces_response_rate: float = 0.1
    ces_intercept: float = 5.6
    ces_per_extra_contact: float = -0.8
    ces_noise_sd: float = 1.0
    comment_rate: Mapping[str, float] = field(
        default_factory=lambda: {"nps": 0.5, "csat": 0.2, "ces": 0.2}
    )
    uncoded_share: float = 0.08
    second_theme_rate: float = 0.15
    theme_weights: Mapping[str, tuple[float, ...]] = field(
        default_factory=lambda: {
            "negative": (0.6, 1.0, 0.9, 1.0, 1.0, 0.9, 0.6),
            "neutral": (0.6, 0.8, 0.7, 0.6, 1.2, 0.9, 0.6),
            "positive": (0.7, 0.4, 1.2, 0.5, 0.5, 1.5, 0.7),
        }
    )
    early_tenure_onboarding: float = 4.0
    failed_ticket_boost: float = 2.5
    low_usage_share: float = 0.35
    low_usage_boost: float = 2.5
    stickiness_intercept: float = 0.15
    stickiness_slope: float = 0.35
    stickiness_sd: float = 0.05
    wau_fill: float = 0.6

    def to_dict(self) -> dict[str, Any]:
        """Return the parameters as plain JSON-ready data."""
        return {
            "industries": dict(self.industries),
            "regions": dict(self.regions),
            "trial_days": self.trial_days,
            "support_cost_per_hour": self.support_cost_per_hour,
            "ces": {
                "response_rate": self.ces_response_rate,
                "model": "clip(round(intercept + per_extra_contact * (contacts_to_resolve - 1)"
                         " + noise_sd * Z), 1, 7), answered after resolved tickets",
                "intercept": self.ces_intercept,
                "per_extra_contact": self.ces_per_extra_contact,
                "noise_sd": self.ces_noise_sd,
            },
            "comments": {
                "rate_by_kind": dict(self.comment_rate),
                "uncoded_share": self.uncoded_share,
                "second_theme_rate": self.second_theme_rate,
                "themes": list(THEMES),
                "theme_weights_by_sentiment": {k: list(v) for k, v in self.theme_weights.items()},
                "early_tenure_onboarding_multiplier": self.early_tenure_onboarding,
                "failed_ticket_multiplier_support_reliability": self.failed_ticket_boost,
                "low_usage_share": self.low_usage_share,
                "low_usage_multiplier_ease_of_use": self.low_usage_boost,
                "sentiment": "from the score: NPS 9-10 / 7-8 / 0-6, CSAT 4-5 / 3 / 1-2, "
                             "CES 5-7 / 4 / 1-3 = positive / neutral / negative",
                "templates": "cs_sim/resources/survey_comments.yaml",
            },
            "usage": {
                "dau_over_mau": "clip(intercept + slope * active_users / seats + sd * Z, "
                                "0.02, 0.95)",
                "stickiness_intercept": self.stickiness_intercept,
                "stickiness_slope": self.stickiness_slope,
                "stickiness_sd": self.stickiness_sd,
                "wau": "dau + wau_fill * (active_users - dau)",
                "wau_fill": self.wau_fill,
            },
            "tickets": {
                "categories_first_contact": dict(CATEGORIES_OK),
                "categories_not_first_contact": dict(CATEGORIES_FAIL),
                "resolution_days": "first contact: 0 (p=0.6) else 1-2; otherwise "
                                   "ceil(Gamma(shape=contacts_to_resolve, scale=1.2)); "
                                   "open (missing resolved_at) if after the period",
            },
        }
