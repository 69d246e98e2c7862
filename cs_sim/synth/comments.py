"""Open comments on survey answers, from ``resources/survey_comments.yaml``.

A share of answers (by survey kind) carries a comment: one sentence on a theme of the
default feedback taxonomy, sometimes a second on another theme, or an uncoded remark.
The sentiment follows the score (NPS 9-10 / 7-8 / 0-6, CSAT 4-5 / 3 / 1-2, CES 5-7 / 4 /
1-3 = positive / neutral / negative); the account's state makes some themes likelier:
early tenure -> onboarding, a ticket not solved at first contact -> support and
reliability, low usage -> ease of use. The weights are :class:`SynthParams`'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cs_sim.sim.rng import synth_generator
from cs_sim.synth.params import SENTIMENTS, THEMES, SynthParams

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.sim.record import History
    from cs_sim.sim.scenario import Scenario

__all__ = ["load_comment_templates", "sentiment", "survey_comments"]


def load_comment_templates() -> dict[str, Any]:
    """The packaged comment templates (``features``, ``themes``, ``uncoded``)."""
    from importlib.resources import files

    from cs_sim._yaml import load_yaml_mapping

    return load_yaml_mapping(files("cs_sim").joinpath("resources", "survey_comments.yaml"),
                             what="survey comment templates",
                             source="cs_sim/resources/survey_comments.yaml")


def sentiment(kind: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Sentiment of survey answers: 0 negative, 1 neutral, 2 positive.

    Parameters
    ----------
    kind : ndarray of str
        ``nps``, ``csat`` or ``ces`` per answer.
    score : ndarray of int

    Returns
    -------
    ndarray of int64
        The bands of :func:`cs_sim.kpis.feedback_themes` (neutral for other kinds).
    """
    out = np.ones(score.size, dtype=np.int64)
    for name, pos, neg in (("nps", score >= 9, score <= 6), ("csat", score >= 4, score <= 2),
                           ("ces", score >= 5, score <= 3)):
        m = kind == name
        out[m & pos] = 2
        out[m & neg] = 0
    return out


def survey_comments(
    sc: Scenario, h: History, sv: pd.DataFrame, seed: int, rep: int, p: SynthParams
) -> np.ndarray:
    """Open comments for survey answers, drawn from the ``comments`` stream.

    Parameters
    ----------
    sc : Scenario
        The scenario run (``behaviour.churn.early_life_months``).
    h : cs_sim.sim.History
        The record (the account's state in the answer's month).
    sv : DataFrame
        The answers: ``_slot``, ``_month``, ``kind``, ``score``.
    seed, rep : int
        Root seed and replication (the random stream).
    p : SynthParams

    Returns
    -------
    ndarray of object
        One comment per row of ``sv``, None for answers without one.
    """
    rng = synth_generator(seed, rep, "comments")
    lib = load_comment_templates()
    n = len(sv)
    kind = sv["kind"].to_numpy(dtype=object)
    score = sv["score"].to_numpy(dtype=np.int64)
    rate = np.array([p.comment_rate.get(k, 0.0) for k in kind], dtype=float)
    u = rng.random((6, n))  # fixed draws per answer: has, uncoded, theme, second, two picks
    has = u[0] < rate
    sent = sentiment(kind, score)
    # the account's state in the answer's month
    pnl = h.panel.set_index(["slot", "month"])
    key = pd.MultiIndex.from_arrays([sv["_slot"].to_numpy(), sv["_month"].to_numpy()])
    state = pnl.reindex(key)
    failed = state["failed_tickets"].fillna(0).to_numpy(dtype=float) > 0
    seats = state["seats"].fillna(1).to_numpy(dtype=float)
    share = state["active_users"].fillna(0).to_numpy(dtype=float) / np.maximum(seats, 1)
    acq = h.accounts.set_index("slot")["acquired_month"]
    tenure = sv["_month"].to_numpy() - acq.reindex(sv["_slot"]).to_numpy()
    early = tenure < sc.behaviour.churn.early_life_months
    w = np.array([p.theme_weights[SENTIMENTS[s]] for s in sent], dtype=float).reshape(n, -1)
    ti = {t: i for i, t in enumerate(THEMES)}
    w[early, ti["onboarding"]] *= p.early_tenure_onboarding
    unhappy = sent < 2
    w[failed & unhappy, ti["support"]] *= p.failed_ticket_boost
    w[failed & unhappy, ti["reliability"]] *= p.failed_ticket_boost
    w[(share < p.low_usage_share) & unhappy, ti["ease_of_use"]] *= p.low_usage_boost
    cum = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
    cum[:, -1] = 1.0 + 1e-12
    theme = (u[2][:, None] >= cum).sum(axis=1)
    # second theme: drawn from the other themes with the same weights
    w2 = w.copy()
    w2[np.arange(n), theme] = 0.0
    cum2 = np.cumsum(w2 / w2.sum(axis=1, keepdims=True), axis=1)
    cum2[:, -1] = 1.0 + 1e-12
    theme2 = (u[3][:, None] >= cum2).sum(axis=1)
    second = rng.random(n) < p.second_theme_rate
    uncoded = u[1] < p.uncoded_share
    features = lib["features"]
    feat_u = rng.random(n)
    out = np.full(n, None, dtype=object)
    for j in np.flatnonzero(has):
        s = SENTIMENTS[sent[j]]
        feature = features[int(feat_u[j] * len(features))]
        if uncoded[j]:
            lines = lib["uncoded"][s]
            out[j] = lines[int(u[4][j] * len(lines))]
            continue
        lines = lib["themes"][THEMES[theme[j]]][s]
        text = lines[int(u[4][j] * len(lines))].format(feature=feature)
        if second[j]:
            lines2 = lib["themes"][THEMES[theme2[j]]][s]
            text2 = lines2[int(u[5][j] * len(lines2))].format(feature=feature)
            text = f"{text} {text2}"
        out[j] = text[:1].upper() + text[1:]
    return out
