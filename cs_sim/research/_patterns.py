"""Usage patterns, support tickets and survey scores by segment.

Every figure comes from a :mod:`cs_sim.kpis` function run on the table with the segment
attached (:func:`cs_sim.kpis.attach`), except the few that have no KPI of their own:
adoption by months since signup, key-feature events per active user, ticket repeat
patterns and the survey intervals other than the NPS one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cs_sim.kpis import (
    active_users,
    attach,
    average_handle_time,
    first_contact_resolution,
    product_usage_rate,
    seat_utilisation,
    time_on_platform,
    voice_by_period,
)

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.io import Dataset

__all__ = ["adoption_curve", "company_figures", "score_distribution", "survey_scores",
           "survey_trend", "ticket_analysis", "ticket_categories", "usage_patterns"]

#: column of the attached segment in the working frames
SEG = "segment"
#: a ticket counts as a repeat when the same account opens another in the same category
#: within this many days of the previous one's resolution
REPEAT_DAYS = 7


def _with(table: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    frame = pd.DataFrame({"account_id": labels.index, SEG: labels.astype(str).to_numpy()})
    out = attach(table[table["account_id"].isin(labels.index)], frame, SEG)
    return out


def usage_patterns(usage: pd.DataFrame, mrr: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Adoption by segment and month.

    ``usage_rate`` (paying accounts with active users / paying accounts,
    :func:`cs_sim.kpis.product_usage_rate`), ``seat_utilisation`` (active users / seats
    bought, :func:`cs_sim.kpis.seat_utilisation`), ``stickiness`` (DAU / MAU,
    :func:`cs_sim.kpis.active_users`; NaN without the optional ``dau`` column), minutes
    and sessions per active user (:func:`cs_sim.kpis.time_on_platform`) and
    ``feature_events_per_active_user`` (key-feature events / active users).

    Returns
    -------
    pandas.DataFrame
        ``segment, month, paying_accounts, using_accounts, usage_rate, seats,
        active_users, seat_utilisation, stickiness, minutes_per_active_user,
        sessions_per_active_user, feature_events_per_active_user``.
    """
    u = _with(usage, labels)
    rate = product_usage_rate(u, _with(mrr, labels), by=SEG)
    seats = seat_utilisation(u, by=SEG)[[SEG, "month", "seats", "active_users",
                                         "seat_utilisation"]]
    sticky = active_users(u, by=SEG)[[SEG, "month", "stickiness"]]
    time = time_on_platform(u, by=SEG)[[SEG, "month", "minutes_per_active_user",
                                        "sessions_per_active_user"]]
    month = pd.to_datetime(u["month"]).dt.to_period("M").dt.to_timestamp()
    feat = (u.assign(month=month.to_numpy()).groupby([SEG, "month"])
            [["key_feature_events", "active_users"]].sum())
    feat = (feat["key_feature_events"] / feat["active_users"].where(feat["active_users"] > 0)
            ).rename("feature_events_per_active_user").reset_index()
    out = rate.merge(seats, on=[SEG, "month"], how="outer").merge(sticky, on=[SEG, "month"],
                                                                  how="left")
    out = out.merge(time, on=[SEG, "month"], how="left")
    out = out.merge(feat, on=[SEG, "month"], how="left")
    return out.sort_values([SEG, "month"], kind="stable").reset_index(drop=True)


def adoption_curve(usage: pd.DataFrame, accounts: pd.DataFrame, labels: pd.Series,
                   *, max_months: int = 24) -> pd.DataFrame:
    """Seat utilisation by months since signup, per segment: how fast accounts adopt.

    Only accounts that signed up after the first usage month are used, so every curve
    starts at the account's beginning (older accounts would enter it half-way).

    Returns
    -------
    pandas.DataFrame
        ``segment, months_since_signup, accounts, seat_utilisation`` (empty when no
        account signed up inside the usage data).
    """
    u = _with(usage, labels)
    month = pd.to_datetime(u["month"]).dt.to_period("M").dt.to_timestamp()
    signup = pd.to_datetime(u["account_id"].map(
        accounts.set_index("account_id")["signup_date"])).dt.to_period("M").dt.to_timestamp()
    new = (signup >= month.min()).to_numpy()
    age = ((month.dt.year - signup.dt.year) * 12 + (month.dt.month - signup.dt.month))
    u = u.assign(months_since_signup=age.to_numpy())[new & (age <= max_months).to_numpy()
                                                     & (age >= 0).to_numpy()]
    if not len(u):
        return pd.DataFrame(columns=[SEG, "months_since_signup", "accounts",
                                     "seat_utilisation"])
    g = u.groupby([SEG, "months_since_signup"]).agg(
        accounts=("account_id", "nunique"), active_users=("active_users", "sum"),
        seats=("seats", "sum"))
    g["seat_utilisation"] = g["active_users"] / g["seats"].where(g["seats"] > 0)
    return g[["accounts", "seat_utilisation"]].reset_index()


def _repeats(t: pd.DataFrame) -> np.ndarray:
    """Whether each ticket follows a ticket of the same account and category that was
    resolved at most :data:`REPEAT_DAYS` days before it was opened."""
    key = t["category"].astype("string").fillna("(none)")
    work = pd.DataFrame({"a": t["account_id"].to_numpy(), "c": key.to_numpy(),
                         "o": pd.to_datetime(t["opened_at"]).to_numpy(),
                         "r": pd.to_datetime(t["resolved_at"]).to_numpy()},
                        index=t.index).sort_values(["a", "c", "o"], kind="stable")
    prev_r = work.groupby(["a", "c"])["r"].shift(1)
    gap = (work["o"] - prev_r).dt.days
    rep = (gap >= 0) & (gap <= REPEAT_DAYS)
    return rep.reindex(t.index).fillna(False).to_numpy(dtype=bool)


def ticket_analysis(tickets: pd.DataFrame, mrr: pd.DataFrame, labels: pd.Series
                    ) -> pd.DataFrame:
    """Support tickets per segment: volume, resolution, handle time and repeat patterns.

    ``tickets_per_100_accounts`` = tickets / paying account-months of the ticket period x
    100 (a monthly rate); ``fcr`` (:func:`cs_sim.kpis.first_contact_resolution`);
    ``aht`` minutes (:func:`cs_sim.kpis.average_handle_time`); ``multi_contact_share`` =
    resolved tickets that took two or more contacts / resolved tickets;
    ``repeat_share`` = tickets opened within 7 days of the resolution of the same
    account's previous ticket in the same category (a likely reopen: the first fix did
    not hold; accounts with many users also repeat for unrelated reasons);
    ``open_tickets`` not yet resolved; ``median_days_to_resolve``; ``top_category``.

    Returns
    -------
    pandas.DataFrame
        Index ``segment``.
    """
    t = _with(tickets, labels)
    fcr = first_contact_resolution(t, by=SEG, freq=None).set_index(SEG)["fcr"]
    aht = average_handle_time(t, by=SEG, freq=None).set_index(SEG)["aht"]
    resolved = pd.to_datetime(t["resolved_at"]).notna()
    opened = pd.to_datetime(t["opened_at"])
    days = (pd.to_datetime(t["resolved_at"]) - opened).dt.days
    t = t.assign(_resolved=resolved.to_numpy(),
                 _multi=(resolved & (t["contacts_to_resolve"] >= 2)).to_numpy(),
                 _repeat=_repeats(t), _days=days.to_numpy())
    g = t.groupby(SEG)
    out = pd.DataFrame({
        "tickets": g.size(),
        "accounts_with_tickets": g["account_id"].nunique(),
    })
    months = opened.dt.to_period("M").dt.to_timestamp()
    m = _with(mrr, labels)
    mm = pd.to_datetime(m["month"]).dt.to_period("M").dt.to_timestamp()
    inside = (m["mrr"] > 0).to_numpy() & ((mm >= months.min()) & (mm <= months.max())).to_numpy()
    account_months = m[inside].groupby(SEG).size()
    out["tickets_per_100_accounts"] = 100 * out["tickets"] / account_months.reindex(out.index)
    out["fcr"] = fcr.reindex(out.index)
    out["aht"] = aht.reindex(out.index)
    out["multi_contact_share"] = g["_multi"].sum() / g["_resolved"].sum().where(
        g["_resolved"].sum() > 0)
    out["repeat_share"] = g["_repeat"].mean()
    out["open_tickets"] = (g.size() - g["_resolved"].sum()).astype(np.int64)
    out["median_days_to_resolve"] = g["_days"].median()
    cat = t["category"].astype("string").fillna("(none)")
    out["top_category"] = t.assign(_cat=cat.to_numpy()).groupby(SEG)["_cat"].agg(
        lambda s: s.value_counts().index[0])
    out.index.name = SEG
    return out


def ticket_categories(tickets: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Tickets by segment and category: count, share of the segment's tickets, FCR, AHT
    and repeat share (as in :func:`ticket_analysis`).

    Returns
    -------
    pandas.DataFrame
        ``segment, category, tickets, share, fcr, aht, repeat_share``.
    """
    t = _with(tickets, labels)
    t = t.assign(category=t["category"].astype("string").fillna("(none)").to_numpy(),
                 _key=None)
    t["_key"] = t[SEG] + "\x1f" + t["category"]
    fcr = first_contact_resolution(t, by="_key", freq=None).set_index("_key")["fcr"]
    aht = average_handle_time(t, by="_key", freq=None).set_index("_key")["aht"]
    t["_repeat"] = _repeats(t)
    g = t.groupby("_key")
    out = pd.DataFrame({"tickets": g.size(), "repeat_share": g["_repeat"].mean()})
    out["fcr"], out["aht"] = fcr.reindex(out.index), aht.reindex(out.index)
    keys = out.index.to_series().str.split("\x1f", n=1, expand=True)
    out.insert(0, SEG, keys[0].to_numpy())
    out.insert(1, "category", keys[1].to_numpy())
    out["share"] = out["tickets"] / out.groupby(SEG)["tickets"].transform("sum")
    out = out.sort_values([SEG, "tickets"], ascending=[True, False], kind="stable")
    return out[[SEG, "category", "tickets", "share", "fcr", "aht", "repeat_share"]
               ].reset_index(drop=True)


def survey_scores(surveys: pd.DataFrame, labels: pd.Series, *,
                  confidence: float = 0.95) -> pd.DataFrame:
    """NPS, CSAT and CES per segment, each with a confidence interval, and the NPS trend.

    NPS and its interval come from :func:`cs_sim.kpis.voice_by_period`; CSAT's interval
    is the Wilson score interval of the top-2-box share
    (:func:`statsmodels.stats.proportion.proportion_confint`), CES's the t-interval of
    the mean. ``nps_trend`` is the change in NPS per quarter: the slope of an OLS of each
    answer's NPS value (+100 promoter, 0 passive, -100 detractor) on time in quarters,
    with its p-value ``nps_trend_p``.

    Returns
    -------
    pandas.DataFrame
        Index ``segment``: ``nps_n, nps, nps_ci_low, nps_ci_high, nps_trend, nps_trend_p,
        csat_n, csat, csat_ci_low, csat_ci_high, ces_n, ces, ces_ci_low, ces_ci_high``.
    """
    import statsmodels.api as sm
    from scipy import stats
    from statsmodels.stats.proportion import proportion_confint

    s = _with(surveys, labels)
    voice = voice_by_period(s, by=SEG, freq=None, confidence=confidence).set_index(SEG)
    kind = s["kind"].astype(str).str.lower()
    out = voice[["nps_n", "nps", "nps_ci_low", "nps_ci_high", "csat_n", "csat", "ces_n",
                 "ces"]].copy()
    for col in ("nps_trend", "nps_trend_p", "csat_ci_low", "csat_ci_high", "ces_ci_low",
                "ces_ci_high"):
        out[col] = np.nan
    when = pd.to_datetime(s["date"])
    quarters = ((when - when.min()).dt.days / 91.3125).to_numpy()
    for seg in out.index:
        mine = (s[SEG] == seg).to_numpy()
        n_sel = mine & (kind == "nps").to_numpy()
        if n_sel.sum() >= 10 and np.ptp(quarters[n_sel]) > 0:
            score = s["score"].to_numpy(dtype=float)[n_sel]
            y = np.where(score >= 9, 100.0, np.where(score <= 6, -100.0, 0.0))
            fit = sm.OLS(y, sm.add_constant(quarters[n_sel])).fit()
            out.loc[seg, ["nps_trend", "nps_trend_p"]] = [fit.params[1], fit.pvalues[1]]
        c_sel = mine & (kind == "csat").to_numpy()
        if c_sel.any():
            top = int((s["score"].to_numpy(dtype=float)[c_sel] >= 4).sum())
            lo, hi = proportion_confint(top, int(c_sel.sum()), alpha=1 - confidence,
                                        method="wilson")
            out.loc[seg, ["csat_ci_low", "csat_ci_high"]] = [100 * lo, 100 * hi]
        e_sel = mine & (kind == "ces").to_numpy()
        if e_sel.sum() >= 2:
            v = s["score"].to_numpy(dtype=float)[e_sel]
            half = stats.t.ppf(0.5 + confidence / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
            out.loc[seg, ["ces_ci_low", "ces_ci_high"]] = [v.mean() - half, v.mean() + half]
    order = ["nps_n", "nps", "nps_ci_low", "nps_ci_high", "nps_trend", "nps_trend_p", "csat_n",
             "csat", "csat_ci_low", "csat_ci_high", "ces_n", "ces", "ces_ci_low", "ces_ci_high"]
    out.index.name = SEG
    return out[order]


def survey_trend(surveys: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """NPS, CSAT and CES per segment and quarter (:func:`cs_sim.kpis.voice_by_period`)."""
    return voice_by_period(_with(surveys, labels), by=SEG, freq="Q")


def score_distribution(surveys: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """How answers spread over each survey's scale, per segment.

    Returns
    -------
    pandas.DataFrame
        Index (``kind``, ``segment``), one column per score (0-10; a kind's scores outside
        its scale are NaN), values the share of the segment's answers of that kind, and
        ``answers``.
    """
    s = _with(surveys, labels)
    kind = s["kind"].astype(str).str.lower()
    counts = pd.crosstab([kind.rename("kind"), s[SEG]], s["score"].astype(int).rename("score"))
    counts = counts.reindex(columns=range(0, 11), fill_value=0)
    answers = counts.sum(axis=1).astype(np.int64)
    shares = counts.div(answers, axis=0)
    for k, high in (("csat", 5), ("ces", 7)):
        rows = shares.index.get_level_values("kind") == k
        shares.loc[rows, [c for c in shares.columns if c < 1 or c > high]] = np.nan
    shares["answers"] = answers
    shares.columns = [str(c) for c in shares.columns]
    order = {"nps": 0, "csat": 1, "ces": 2}
    return shares.sort_index(key=lambda idx: idx.map(lambda v: order.get(v, 3))
                             if idx.name == "kind" else idx)


def company_figures(dataset: Dataset, ids: pd.Index, *, comments: int, uncoded: int,
             months: int = 3) -> dict[str, float]:
    """The whole company's figures: every account of ``ids`` as one segment.

    Computed as the segments' are (:func:`usage_patterns`, :func:`ticket_analysis`,
    :func:`cs_sim.kpis.voice_by_period`; usage: the mean of the last ``months`` months),
    so the company's figure is comparable with theirs.

    Returns
    -------
    dict of str to float
        ``usage_rate, seat_utilisation, stickiness, minutes_per_active_user,
        tickets_per_100_accounts, fcr, aht, repeat_share, nps, csat, ces`` and
        ``coded_comment_share`` (``1 - uncoded / comments``), each when its table allows.
    """
    everyone = pd.Series("all", index=ids, name="segment")
    out: dict[str, float] = {}
    if dataset.usage is not None and len(dataset.usage):
        usage = usage_patterns(dataset.usage, dataset.mrr, everyone)
        recent = usage[usage["month"] >= usage["month"].max() - pd.DateOffset(months=months - 1)]
        for key in ("usage_rate", "seat_utilisation", "stickiness", "minutes_per_active_user"):
            out[key] = float(recent[key].mean())
    if dataset.tickets is not None and len(dataset.tickets):
        row = ticket_analysis(dataset.tickets, dataset.mrr, everyone).iloc[0]
        for key in ("tickets_per_100_accounts", "fcr", "aht", "repeat_share"):
            out[key] = float(row[key])
    if dataset.surveys is not None and len(dataset.surveys):
        voice = voice_by_period(dataset.surveys[dataset.surveys["account_id"].isin(ids)],
                                freq=None).iloc[0]
        for key in ("nps", "csat", "ces"):
            out[key] = float(voice[key])
    if comments:
        out["coded_comment_share"] = 1 - uncoded / comments
    return {k: v for k, v in out.items() if v == v}  # NaN: nothing to measure
