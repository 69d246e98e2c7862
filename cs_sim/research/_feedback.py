"""Qualitative feedback: open comments coded into themes, by segment and by sentiment, and
the product-team digest.

Comments are coded by :func:`cs_sim.kpis.code_feedback` with an editable taxonomy
(``templates/feedback_themes.yaml``: per theme, keywords and phrases). The sentiment of
a comment is that of its answer: **promoter** (positive) for NPS 9-10, CSAT 4-5, CES 5-7;
**detractor** (negative) for NPS 0-6, CSAT 1-2, CES 1-3; passive otherwise (the bands of
:func:`cs_sim.kpis.feedback_themes`).

The link of a theme to money and churn uses each account's last MRR paid and whether it
still pays in the last month of the mrr data: ``churn_rate_of_accounts`` is the share of
the accounts raising the theme that no longer pay, ``churn_lift`` that rate over the rate
of all commenting accounts, and ``churn_p_value`` Fisher's exact test
(:func:`scipy.stats.fisher_exact`) of raising the theme against churning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from cs_sim.kpis import code_feedback

__all__ = ["THEME_OWNERS", "code_comments", "digest", "pain_points", "theme_table",
           "themes_by_segment", "uncoded_comments"]

#: who acts on a theme (themes not listed go to product)
THEME_OWNERS: dict[str, str] = {
    "onboarding": "customer success", "pricing": "sales and finance", "support": "support",
    "reliability": "engineering", "missing_features": "product",
    "ease_of_use": "product design", "performance": "engineering",
}
_SENTIMENT = {"nps": (9, 6), "csat": (4, 2), "ces": (5, 3)}  # kind -> (positive >=, negative <=)


def code_comments(surveys: pd.DataFrame, labels: pd.Series, *, taxonomy: Any = None,
                  ) -> tuple[pd.DataFrame, list[str]]:
    """Non-blank comments with their segment, sentiment and themes.

    Returns
    -------
    (pandas.DataFrame, list of str)
        One row per comment (``response_id`` if present, ``account_id, date, kind, score,
        comment, segment, sentiment`` and one boolean column per theme) and the theme
        names in taxonomy order.
    """
    text = surveys["comment"].astype("string").str.strip()
    sv = surveys[(text.fillna("") != "").to_numpy()].copy()
    sv["comment"] = text[sv.index].astype(str)
    sv["segment"] = sv["account_id"].map(labels.astype(str)).fillna("(not a paying account)")
    kind = sv["kind"].astype(str).str.lower()
    score = sv["score"].to_numpy(dtype=float)
    sentiment = np.full(len(sv), "passive", dtype=object)
    for k, (pos, neg) in _SENTIMENT.items():
        m = (kind == k).to_numpy()
        sentiment[m & (score >= pos)] = "promoter"
        sentiment[m & (score <= neg)] = "detractor"
    sv["sentiment"] = sentiment
    coded = code_feedback(sv["comment"], taxonomy=taxonomy)
    themes = list(coded.columns)
    keep = [c for c in ("response_id", "account_id", "date", "kind", "score", "comment",
                        "segment", "sentiment") if c in sv.columns]
    return pd.concat([sv[keep], coded], axis=1).reset_index(drop=True), themes


def _quote(rows: pd.DataFrame, sentiment: str | None = None) -> str | None:
    """The latest comment of ``rows`` with ``sentiment``; without one, the latest
    detractor comment, else the latest comment."""
    if not len(rows):
        return None
    if sentiment is not None:
        pick = rows[rows["sentiment"] == sentiment]
    else:
        pick = rows[rows["sentiment"] == "detractor"]
        pick = pick if len(pick) else rows
    if not len(pick):
        return None
    return str(pick.sort_values("date", kind="stable")["comment"].iloc[-1])


def theme_table(coded: pd.DataFrame, themes: list[str], account_mrr: pd.Series,
                churned: pd.Series) -> pd.DataFrame:
    """One row per theme: mentions, sentiment split, MRR of the accounts, churn link.

    Parameters
    ----------
    coded : DataFrame
        :func:`code_comments`.
    themes : list of str
    account_mrr : Series
        Last MRR paid per account.
    churned : Series of bool
        Whether each account that paid no longer pays in the last month.

    Returns
    -------
    pandas.DataFrame
        ``theme, mentions, share, promoters, passives, detractors, accounts,
        mrr_of_accounts, detractor_mrr, churn_rate_of_accounts, churn_lift,
        churn_p_value, example_quote`` in taxonomy order.
    """
    from scipy.stats import fisher_exact

    n = len(coded)
    commenting = pd.Index(coded["account_id"].unique()).intersection(churned.index)
    base = float(churned.reindex(commenting).mean()) if len(commenting) else np.nan
    rows = []
    for theme in themes:
        hit = coded[coded[theme]]
        accounts = pd.Index(hit["account_id"].unique())
        paid = accounts.intersection(churned.index)
        det = hit[hit["sentiment"] == "detractor"]
        rate = float(churned.reindex(paid).mean()) if len(paid) else np.nan
        p = np.nan
        if len(paid) and len(commenting) > len(paid):
            yes = int(churned.reindex(paid).sum())
            rest = commenting.difference(paid)
            no_yes = int(churned.reindex(rest).sum())
            p = float(fisher_exact([[yes, len(paid) - yes],
                                    [no_yes, len(rest) - no_yes]])[1])
        rows.append({
            "theme": theme, "mentions": len(hit), "share": len(hit) / n if n else np.nan,
            "promoters": int((hit["sentiment"] == "promoter").sum()),
            "passives": int((hit["sentiment"] == "passive").sum()),
            "detractors": len(det), "accounts": len(accounts),
            "mrr_of_accounts": float(account_mrr.reindex(accounts).sum()),
            "detractor_mrr": float(account_mrr.reindex(det["account_id"]).fillna(0).sum()),
            "churn_rate_of_accounts": rate,
            "churn_lift": rate / base if base and base == base else np.nan,
            "churn_p_value": p, "example_quote": _quote(hit),
            "promoter_quote": _quote(hit, "promoter"),
            "detractor_quote": _quote(hit, "detractor"),
        })
    return pd.DataFrame(rows)


def themes_by_segment(coded: pd.DataFrame, themes: list[str]) -> pd.DataFrame:
    """Per segment and theme: mentions, share of the segment's comments, promoters,
    detractors and the latest quote of a promoter and of a detractor (themes without
    mentions left out)."""
    rows = []
    for seg, group in coded.groupby("segment", sort=True):
        for theme in themes:
            hit = group[group[theme]]
            if not len(hit):
                continue
            rows.append({
                "segment": seg, "theme": theme, "mentions": len(hit),
                "share": len(hit) / len(group),
                "promoters": int((hit["sentiment"] == "promoter").sum()),
                "detractors": int((hit["sentiment"] == "detractor").sum()),
                "promoter_quote": _quote(hit, "promoter"),
                "detractor_quote": _quote(hit, "detractor"),
            })
    cols = ["segment", "theme", "mentions", "share", "promoters", "detractors",
            "promoter_quote", "detractor_quote"]
    return pd.DataFrame(rows, columns=cols)


def uncoded_comments(coded: pd.DataFrame, themes: list[str]) -> pd.DataFrame:
    """Comments no theme matched (read them to grow the taxonomy), latest first."""
    none = ~coded[themes].any(axis=1) if themes else pd.Series(True, index=coded.index)
    cols = [c for c in ("date", "account_id", "segment", "kind", "score", "comment")
            if c in coded.columns]
    return coded.loc[none, cols].sort_values("date", ascending=False,
                                             kind="stable").reset_index(drop=True)


def pain_points(table: pd.DataFrame, *, top: int = 3) -> list[str]:
    """The themes with the most MRR behind detractor comments (at most ``top``)."""
    hurt = table[table["detractor_mrr"] > 0].sort_values(
        ["detractor_mrr", "detractors"], ascending=False, kind="stable")
    return [str(t) for t in hurt["theme"].head(top)]


def digest(table: pd.DataFrame, *, owners: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The product-team digest: themes ranked by the MRR raising them and their churn link.

    ``rank_mrr`` orders themes by the MRR of the accounts raising them in detractor
    comments (ties by all mentioning MRR), ``rank_churn`` by churn lift; ``priority`` is
    the order of their mean rank (ties: more detractor MRR first). ``owner`` is the team
    that acts on the theme (:data:`THEME_OWNERS`).

    Returns
    -------
    pandas.DataFrame
        ``priority, theme, owner, mentions, detractors, accounts, mrr_of_accounts,
        detractor_mrr, churn_rate_of_accounts, churn_lift, churn_p_value, rank_mrr,
        rank_churn, example_quote``; themes never mentioned are left out.
    """
    owner_of = {**THEME_OWNERS, **dict(owners or {})}
    d = table[table["mentions"] > 0].copy()
    d["rank_mrr"] = d[["detractor_mrr", "mrr_of_accounts"]].apply(tuple, axis=1).rank(
        ascending=False, method="min").astype(int)
    d["rank_churn"] = d["churn_lift"].rank(ascending=False, method="min", na_option="bottom"
                                           ).astype(int)
    d["_mean"] = (d["rank_mrr"] + d["rank_churn"]) / 2
    d = d.sort_values(["_mean", "detractor_mrr"], ascending=[True, False], kind="stable")
    d["priority"] = np.arange(1, len(d) + 1)
    d["owner"] = [owner_of.get(t, "product") for t in d["theme"]]
    cols = ["priority", "theme", "owner", "mentions", "detractors", "accounts",
            "mrr_of_accounts", "detractor_mrr", "churn_rate_of_accounts", "churn_lift",
            "churn_p_value", "rank_mrr", "rank_churn", "example_quote"]
    return d[cols].reset_index(drop=True)
