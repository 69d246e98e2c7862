"""Voice-of-the-customer and support KPIs: NPS, CSAT, CES, FCR, AHT, feedback themes.

Score functions (:func:`nps`, :func:`csat`, :func:`ces`) take a 1-D sequence of scores;
table functions take the canonical ``surveys`` or ``tickets`` table and return tidy
frames with one row per (``by``, period). Periods are calendar months (``freq='M'``),
quarters (``'Q'``) or years (``'Y'``), labelled by their first day in a ``period``
column; ``freq=None`` gives one row per group over the whole table. Every period
between the first and the last one of the data appears (with count 0 and NaN KPIs
when there is nothing to measure).

Scales (as in the canonical surveys table): NPS 0-10, CSAT 1-5 (configurable), CES 1-7
where a higher answer means *easier* ("how easy was it to ...").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

import cs_sim.kpis.formulas as formulas
from cs_sim._yaml import load_yaml_mapping
from cs_sim.kpis._util import (
    KpiConfigError,
    KpiInputError,
    as_float_array,
    by_columns,
    complete_grid,
    period_range,
    require_columns,
    resource_path,
    safe_ratio,
    to_period_start,
)

__all__ = [
    "NpsResult",
    "average_handle_time",
    "ces",
    "code_feedback",
    "csat",
    "feedback_themes",
    "first_contact_resolution",
    "load_feedback_taxonomy",
    "nps",
    "voice_by_period",
]

#: name of the packaged default taxonomy (a copy lives in templates/ for users to edit)
TAXONOMY_FILE = "feedback_themes.yaml"
#: theme label of comments that match no theme
UNCODED = "uncoded"


# --------------------------------------------------------------------------- scores
def _check_scores(
    values: Any, *, low: int, high: int, name: str, integer: bool = True
) -> np.ndarray:
    arr = as_float_array(values, name=name)
    if arr.size == 0:
        raise KpiInputError(f"{name}: no scores given; the KPI needs at least one answer")
    bad = np.isnan(arr) | (arr < low) | (arr > high)
    if integer:
        bad |= ~np.isnan(arr) & (arr != np.round(arr))
    if bad.any():
        kind = "whole numbers" if integer else "numbers"
        shown = ", ".join(f"{v:g}" for v in arr[bad][:5])
        raise KpiInputError(
            f"{name}: scores must be {kind} from {low} to {high}; {int(bad.sum())} invalid "
            f"value(s), e.g. {shown}"
        )
    return arr


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise KpiInputError(f"confidence must be in (0, 1), e.g. 0.95; got {confidence!r}")
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def _nps_ci(
    n_prom: Any, n_det: Any, n: Any, z: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NPS and its normal-approximation interval from counts (vectorised)."""
    n_arr = np.asarray(n, dtype=float)
    p_p = safe_ratio(n_prom, n_arr)
    p_d = safe_ratio(n_det, n_arr)
    score = np.asarray(formulas.nps(n_prom, n_det, n_arr), dtype=float)
    var = safe_ratio(p_p + p_d - (p_p - p_d) ** 2, n_arr)
    half = 100.0 * z * np.sqrt(np.maximum(var, 0.0))
    return score, np.clip(score - half, -100.0, 100.0), np.clip(score + half, -100.0, 100.0)


@dataclass(frozen=True)
class NpsResult:
    """Net Promoter Score with its counts and confidence interval.

    Attributes
    ----------
    nps : float
        %promoters - %detractors, in [-100, 100].
    promoters, passives, detractors, n : int
        Counts of answers 9-10, 7-8, 0-6 and in total.
    pct_promoters, pct_passives, pct_detractors : float
        The same as percentages of ``n``.
    ci_low, ci_high : float
        Confidence interval of the NPS (normal approximation, clipped to [-100, 100]).
    confidence : float
        Confidence level of the interval.
    """

    nps: float
    promoters: int
    passives: int
    detractors: int
    n: int
    pct_promoters: float
    pct_passives: float
    pct_detractors: float
    ci_low: float
    ci_high: float
    confidence: float


def nps(scores: Sequence[float] | np.ndarray | pd.Series, *, confidence: float = 0.95) -> NpsResult:
    """Net Promoter Score (Reichheld 2003, "The One Number You Need to Grow", HBR).

    On the 0-10 "how likely are you to recommend us?" question, promoters answer 9-10,
    passives 7-8, detractors 0-6; ``NPS = 100 x (p_P - p_D)`` with p the shares of
    promoters and detractors, from -100 to 100.

    The confidence interval treats each answer as +1 (promoter), 0 (passive) or -1
    (detractor), a trinomial variable with variance ``p_P + p_D - (p_P - p_D)^2``; the
    NPS/100 is its mean, so ``var(NPS/100) = (p_P + p_D - (p_P - p_D)^2) / n`` and the
    interval is ``NPS +- z x 100 x sqrt(var)`` (normal approximation; ``z`` the
    two-sided normal quantile of ``confidence``), clipped to [-100, 100]. The
    approximation is rough for small n (say below 30) or extreme shares.

    Parameters
    ----------
    scores : sequence of int
        Answers, whole numbers from 0 to 10.
    confidence : float, default 0.95
        Confidence level of the interval, in (0, 1).

    Returns
    -------
    NpsResult

    Raises
    ------
    KpiInputError
        (a ValueError) if there are no scores or a score is not a whole number in 0-10.

    Examples
    --------
    100 answers: 50 promoters, 30 passives, 20 detractors -> NPS = 50% - 20% = 30.
    """
    arr = _check_scores(scores, low=0, high=10, name="nps")
    z = _z(confidence)
    n = int(arr.size)
    prom = int((arr >= 9).sum())
    det = int((arr <= 6).sum())
    pas = n - prom - det
    score, lo, hi = _nps_ci(prom, det, n, z)
    return NpsResult(
        nps=float(score), promoters=prom, passives=pas, detractors=det, n=n,
        pct_promoters=100.0 * prom / n, pct_passives=100.0 * pas / n,
        pct_detractors=100.0 * det / n, ci_low=float(lo), ci_high=float(hi),
        confidence=confidence,
    )


def csat(scores: Sequence[float] | np.ndarray | pd.Series, *, scale: int = 5) -> float:
    """Customer satisfaction score: percentage of answers in the top two boxes.

    ``CSAT = 100 x (answers >= scale - 1) / answers``; on the usual 1-5 scale the
    satisfied answers are 4 ("satisfied") and 5 ("very satisfied"). Top-2-box is the
    common market-research convention for CSAT.

    Parameters
    ----------
    scores : sequence of int
        Answers, whole numbers from 1 to ``scale``.
    scale : int, default 5
        Highest answer of the scale (>= 3).

    Returns
    -------
    float
        CSAT in percent (0-100).
    """
    if not isinstance(scale, (int, np.integer)) or scale < 3:
        raise KpiInputError(f"scale must be an integer >= 3, got {scale!r}")
    arr = _check_scores(scores, low=1, high=int(scale), name="csat")
    return float(100.0 * (arr >= scale - 1).mean())


def ces(scores: Sequence[float] | np.ndarray | pd.Series, *, scale: int = 7) -> float:
    """Customer effort score: the mean answer to "how easy was it to ...?".

    ``CES = mean(score)`` on a 1-``scale`` scale (1-7 by default, 7 = very easy), as
    in the CES 2.0 question (Dixon, Freeman and Toman 2010, "Stop Trying to Delight
    Your Customers", HBR). Higher is better: less effort.

    Parameters
    ----------
    scores : sequence of number
        Answers from 1 to ``scale``.
    scale : int, default 7
        Highest answer of the scale.

    Returns
    -------
    float
        Mean score.
    """
    if not isinstance(scale, (int, np.integer)) or scale < 2:
        raise KpiInputError(f"scale must be an integer >= 2, got {scale!r}")
    arr = _check_scores(scores, low=1, high=int(scale), name="ces", integer=False)
    return float(arr.mean())


# --------------------------------------------------------------------------- tables
def _periods(dates: pd.Series, freq: str | None, name: str) -> pd.Series | None:
    if freq is None:
        return None
    return to_period_start(dates, freq, name=name)


def _aggregate(
    work: pd.DataFrame,
    keys: list[str],
    freq: str | None,
    sums: list[str],
) -> pd.DataFrame:
    """Sum ``sums`` per (keys, period) and complete the period grid with zeros."""
    if freq is None:
        if keys:
            out = work.groupby(keys, dropna=False, sort=True)[sums].sum().reset_index()
        else:
            out = work[sums].sum().to_frame().T.reset_index(drop=True)
        return out
    agg = work.groupby([*keys, "period"], dropna=False)[sums].sum().reset_index()
    valid = work["period"].dropna()
    if valid.empty:  # nothing to measure: an empty frame with the right columns
        return agg
    periods = period_range(valid.min(), valid.max(), freq)
    out = complete_grid(agg, keys, "period", periods, fill=dict.fromkeys(sums, 0))
    return out


def _validate_surveys(
    surveys: pd.DataFrame, *, csat_scale: int, ces_scale: int
) -> tuple[pd.Series, np.ndarray]:
    require_columns(surveys, ["kind", "score"], "surveys")
    kind = surveys["kind"].astype("str").str.lower()
    score = as_float_array(surveys["score"].to_numpy(), name="surveys score")
    ranges = {"nps": (0, 10, True), "csat": (1, csat_scale, True), "ces": (1, ces_scale, False)}
    for k, (lo, hi, integer) in ranges.items():
        mask = (kind == k).to_numpy()
        s = score[mask]
        bad = np.isnan(s) | (s < lo) | (s > hi)
        if integer:
            bad |= ~np.isnan(s) & (s != np.round(s))
        if bad.any():
            rows = surveys.index[mask][bad]
            raise KpiInputError(
                f"surveys: {int(bad.sum())} '{k}' score(s) outside {lo}-{hi}"
                f"{' (whole numbers)' if integer else ''}, first at row(s) "
                f"{', '.join(map(str, rows[:5]))}"
            )
    return kind, score


def voice_by_period(
    surveys: pd.DataFrame,
    *,
    freq: str | None = "M",
    by: str | None = None,
    confidence: float = 0.95,
    csat_scale: int = 5,
    ces_scale: int = 7,
) -> pd.DataFrame:
    """NPS, CSAT and CES per period (and segment) from the surveys table.

    Per group: ``nps = 100 x (promoters - detractors) / nps answers`` with its interval
    as in :func:`nps`; ``csat = 100 x top-2-box answers / csat answers`` as in
    :func:`csat`; ``ces = mean of ces answers`` as in :func:`ces`. A response belongs to
    the period of its ``date``. Rows of other ``kind`` values are ignored.

    Parameters
    ----------
    surveys : DataFrame
        Canonical surveys table (``date``, ``kind``, ``score``, and ``by`` if given).
    freq : {'M', 'Q', 'Y'} or None, default 'M'
        Period length; None for one row per group over the whole table.
    by : str, optional
        Column of ``surveys`` to group by (e.g. ``'plan'`` via
        :func:`~cs_sim.kpis.attach`).
    confidence : float, default 0.95
        Confidence level of the NPS interval.
    csat_scale, ces_scale : int
        Highest answer of the CSAT (default 5) and CES (default 7) scales.

    Returns
    -------
    DataFrame
        ``[by], [period], nps_n, promoters, detractors, nps, nps_ci_low, nps_ci_high,
        csat_n, csat, ces_n, ces``; a KPI is NaN where its count is 0.

    Raises
    ------
    KpiInputError
        On missing columns or scores outside their scale.
    """
    keys = by_columns(by, surveys, "surveys")
    require_columns(surveys, ["date"] if freq is not None else [], "surveys")
    kind, score = _validate_surveys(surveys, csat_scale=csat_scale, ces_scale=ces_scale)
    z = _z(confidence)
    is_nps = (kind == "nps").to_numpy()
    is_csat = (kind == "csat").to_numpy()
    is_ces = (kind == "ces").to_numpy()
    work = pd.DataFrame({
        "nps_n": is_nps.astype(np.int64),
        "promoters": (is_nps & (score >= 9)).astype(np.int64),
        "detractors": (is_nps & (score <= 6)).astype(np.int64),
        "csat_n": is_csat.astype(np.int64),
        "csat_top2": (is_csat & (score >= csat_scale - 1)).astype(np.int64),
        "ces_n": is_ces.astype(np.int64),
        "ces_sum": np.where(is_ces, score, 0.0),
    })
    for k in keys:
        work[k] = surveys[k].to_numpy()
    if freq is not None:
        work["period"] = _periods(surveys["date"], freq, "date").to_numpy()  # type: ignore[union-attr]
        work = work[(is_nps | is_csat | is_ces)]
    sums = ["nps_n", "promoters", "detractors", "csat_n", "csat_top2", "ces_n", "ces_sum"]
    out = _aggregate(work, keys, freq, sums)
    score_, lo, hi = _nps_ci(out["promoters"], out["detractors"], out["nps_n"], z)
    out["nps"], out["nps_ci_low"], out["nps_ci_high"] = score_, lo, hi
    out["csat"] = 100.0 * safe_ratio(out["csat_top2"], out["csat_n"])
    out["ces"] = safe_ratio(out["ces_sum"], out["ces_n"])
    for c in ("nps_n", "promoters", "detractors", "csat_n", "ces_n"):
        out[c] = out[c].astype(np.int64)
    cols = [*keys, *(["period"] if freq is not None else []), "nps_n", "promoters",
            "detractors", "nps", "nps_ci_low", "nps_ci_high", "csat_n", "csat", "ces_n", "ces"]
    return out[cols]


def first_contact_resolution(
    tickets: pd.DataFrame,
    *,
    by: str | None = None,
    freq: str | None = "M",
    date_col: str = "resolved_at",
) -> pd.DataFrame:
    """First contact resolution (FCR) rate per period.

    ``fcr = resolved tickets with contacts_to_resolve == 1 / resolved tickets``
    (a ticket is resolved when ``resolved_at`` is set; open tickets are left out
    because it is not yet known how many contacts they will take). The standard
    contact-centre definition.

    Parameters
    ----------
    tickets : DataFrame
        Canonical tickets table.
    by : str, optional
        Column of ``tickets`` to group by (e.g. ``'category'`` or a segment).
    freq : {'M', 'Q', 'Y'} or None, default 'M'
        Period length; None for one row per group.
    date_col : str, default 'resolved_at'
        Date that places a ticket in a period (``'opened_at'`` for the month opened).

    Returns
    -------
    DataFrame
        ``[by], [period], resolved_tickets, first_contact, fcr`` (fcr a fraction, NaN
        when no ticket was resolved).
    """
    keys = by_columns(by, tickets, "tickets")
    require_columns(tickets, ["resolved_at", "contacts_to_resolve", date_col], "tickets")
    resolved = pd.to_datetime(tickets["resolved_at"]).notna().to_numpy()
    contacts = as_float_array(tickets["contacts_to_resolve"].to_numpy(), name="tickets")
    bad = resolved & (np.isnan(contacts) | (contacts < 1))
    if bad.any():
        raise KpiInputError(
            f"tickets: contacts_to_resolve must be >= 1 for resolved tickets; "
            f"{int(bad.sum())} invalid, first at row(s) "
            f"{', '.join(map(str, tickets.index[bad][:5]))}"
        )
    work = pd.DataFrame({
        "resolved_tickets": resolved.astype(np.int64),
        "first_contact": (resolved & (contacts == 1)).astype(np.int64),
    })
    for k in keys:
        work[k] = tickets[k].to_numpy()
    if freq is not None:
        work["period"] = _periods(tickets[date_col], freq, date_col).to_numpy()  # type: ignore[union-attr]
    work = work[resolved]
    if freq is None and work.empty and not keys:
        work = pd.DataFrame({"resolved_tickets": [0], "first_contact": [0]})
    out = _aggregate(work, keys, freq, ["resolved_tickets", "first_contact"])
    out["resolved_tickets"] = out["resolved_tickets"].astype(np.int64)
    out["first_contact"] = out["first_contact"].astype(np.int64)
    out["fcr"] = safe_ratio(out["first_contact"], out["resolved_tickets"])
    return out[[*keys, *(["period"] if freq is not None else []),
                "resolved_tickets", "first_contact", "fcr"]]


def average_handle_time(
    tickets: pd.DataFrame,
    *,
    by: str | None = None,
    freq: str | None = "M",
    date_col: str = "opened_at",
) -> pd.DataFrame:
    """Average handle time (AHT) per period: mean agent minutes per ticket.

    ``aht = sum(handle_minutes) / tickets`` over all tickets placed in the period by
    ``date_col`` (the standard contact-centre definition, agent time only).

    Parameters
    ----------
    tickets : DataFrame
        Canonical tickets table.
    by : str, optional
        Column of ``tickets`` to group by.
    freq : {'M', 'Q', 'Y'} or None, default 'M'
        Period length; None for one row per group.
    date_col : str, default 'opened_at'
        Date that places a ticket in a period.

    Returns
    -------
    DataFrame
        ``[by], [period], tickets, handle_minutes, aht`` (NaN when there is no ticket).
    """
    keys = by_columns(by, tickets, "tickets")
    require_columns(tickets, ["handle_minutes", date_col], "tickets")
    minutes = as_float_array(tickets["handle_minutes"].to_numpy(), name="tickets")
    bad = np.isnan(minutes) | (minutes < 0)
    if bad.any():
        raise KpiInputError(
            f"tickets: handle_minutes must be a number >= 0; {int(bad.sum())} invalid, "
            f"first at row(s) {', '.join(map(str, tickets.index[bad][:5]))}"
        )
    work = pd.DataFrame({"tickets": np.ones(len(tickets), dtype=np.int64),
                         "handle_minutes": minutes})
    for k in keys:
        work[k] = tickets[k].to_numpy()
    if freq is not None:
        work["period"] = _periods(tickets[date_col], freq, date_col).to_numpy()  # type: ignore[union-attr]
        work = work[work["period"].notna()]
    out = _aggregate(work, keys, freq, ["tickets", "handle_minutes"])
    out["tickets"] = out["tickets"].astype(np.int64)
    out["handle_minutes"] = out["handle_minutes"].astype(float)
    out["aht"] = safe_ratio(out["handle_minutes"], out["tickets"])
    return out[[*keys, *(["period"] if freq is not None else []),
                "tickets", "handle_minutes", "aht"]]


# --------------------------------------------------------------------------- themes
def load_feedback_taxonomy(path: Any = None) -> dict[str, tuple[str, ...]]:
    """Read and validate a keyword taxonomy of feedback themes (YAML).

    The file holds ``themes:``, a mapping from theme name to a list of keywords or
    phrases (see ``templates/feedback_themes.yaml``). The default (``path=None``) is the
    packaged copy ``cs_sim/resources/feedback_themes.yaml``.

    Parameters
    ----------
    path : str or Path, optional
        YAML file to read.

    Returns
    -------
    dict
        Theme name -> tuple of keywords, in file order.

    Raises
    ------
    KpiConfigError
        If the file is unreadable, not YAML, or a theme has no keywords; the message
        names the file and the key.
    """
    src = resource_path(TAXONOMY_FILE) if path is None else path
    name = str(src)
    data = load_yaml_mapping(src, what="feedback taxonomy", error=KpiConfigError)
    unknown = sorted(set(data) - {"themes", "description"})
    if unknown:
        raise KpiConfigError(f"{name}: unknown key(s) {', '.join(unknown)}; expected 'themes'")
    return _check_taxonomy(data.get("themes"), source=name)


def _check_taxonomy(themes: Any, *, source: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(themes, Mapping) or not themes:
        raise KpiConfigError(f"{source}: themes: must be a non-empty mapping of theme name "
                             "to a list of keywords")
    out: dict[str, tuple[str, ...]] = {}
    for theme, words in themes.items():
        if not isinstance(theme, str) or not theme.strip():
            raise KpiConfigError(f"{source}: themes: theme names must be text, got {theme!r}")
        if theme == UNCODED:
            raise KpiConfigError(f"{source}: themes.{theme}: '{UNCODED}' is reserved")
        if isinstance(words, str) or not isinstance(words, Sequence) or not words:
            raise KpiConfigError(f"{source}: themes.{theme}: must be a non-empty list of "
                                 "keywords")
        clean = []
        for w in words:
            if not isinstance(w, str) or not w.strip().strip("*").strip():
                raise KpiConfigError(f"{source}: themes.{theme}: keywords must be non-empty "
                                     f"text, got {w!r}")
            clean.append(w.strip())
        out[theme] = tuple(clean)
    return out


def _keyword_pattern(words: Sequence[str]) -> str:
    """Regex matching any keyword as whole words; a trailing '*' matches a word ending."""
    parts = []
    for w in words:
        stem = w.rstrip("*")
        wildcard = w.endswith("*")
        body = r"\s+".join(re.escape(tok) for tok in stem.split())
        parts.append(body + (r"\w*" if wildcard else ""))
    return r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)"


def _resolve_taxonomy(taxonomy: Any) -> dict[str, tuple[str, ...]]:
    if taxonomy is None or isinstance(taxonomy, (str, bytes)) or hasattr(taxonomy, "__fspath__"):
        return load_feedback_taxonomy(taxonomy)
    return _check_taxonomy(taxonomy, source="taxonomy")


def code_feedback(
    comments: Sequence[str] | pd.Series,
    *,
    taxonomy: Mapping[str, Sequence[str]] | str | Any | None = None,
) -> pd.DataFrame:
    """Code open comments into themes with a keyword taxonomy.

    A comment carries a theme when it contains one of the theme's keywords as whole
    words, case-insensitively (``"bug"`` matches "Bug!" but not "debugging"; a trailing
    ``*`` matches word endings: ``"crash*"`` matches "crashes"; a phrase's words may be
    separated by any whitespace). A comment may carry several themes. This is simple
    dictionary-based content coding; review the taxonomy against a sample of comments.

    Parameters
    ----------
    comments : sequence of str or Series
        Comments; missing or blank ones carry no theme.
    taxonomy : mapping, path or None
        Theme -> keywords, or a YAML file (see :func:`load_feedback_taxonomy`); None
        for the packaged default.

    Returns
    -------
    DataFrame
        One boolean column per theme, indexed like ``comments``.
    """
    themes = _resolve_taxonomy(taxonomy)
    text = pd.Series(comments).astype("string").fillna("")
    return pd.DataFrame(
        {theme: text.str.contains(_keyword_pattern(words), case=False, regex=True)
         .fillna(False).astype(bool) for theme, words in themes.items()},
        index=text.index,
    )


def _sentiment(kind: pd.Series, score: np.ndarray, csat_scale: int) -> np.ndarray:
    """'positive' / 'neutral' / 'negative' from the survey's own scale (NA if unknown)."""
    out = np.full(len(score), None, dtype=object)
    k = kind.to_numpy()
    for name, pos, neg in (("nps", score >= 9, score <= 6),
                           ("csat", score >= csat_scale - 1, score <= 2),
                           ("ces", score >= 5, score <= 3)):
        m = k == name
        out[m] = np.where(pos[m], "positive", np.where(neg[m], "negative", "neutral"))
    return out


def feedback_themes(
    surveys: pd.DataFrame,
    *,
    taxonomy: Mapping[str, Sequence[str]] | str | Any | None = None,
    by: str | None = None,
    csat_scale: int = 5,
    ces_scale: int = 7,
) -> pd.DataFrame:
    """Count coded themes of open survey comments, with their sentiment split.

    Each non-blank ``comment`` is coded with :func:`code_feedback`. For each theme:
    ``comments`` = comments carrying it, ``share`` = comments / non-blank comments in
    the group (shares can add up to more than 1: a comment may carry several themes),
    and the split of those comments by the sentiment of the answer's score:
    positive / neutral / negative = NPS 9-10 / 7-8 / 0-6, CSAT top-2 / middle / 1-2,
    CES 5-7 / 4 / 1-3. A last row ``'uncoded'`` counts comments with no theme (a
    large share means the taxonomy needs more keywords).

    Parameters
    ----------
    surveys : DataFrame
        Canonical surveys table (``kind``, ``score``, ``comment``; ``by`` if given).
    taxonomy : mapping, path or None
        Theme -> keywords, or a YAML file; None for the packaged default.
    by : str, optional
        Column of ``surveys`` to group by.
    csat_scale, ces_scale : int
        Highest answers of the CSAT and CES scales.

    Returns
    -------
    DataFrame
        ``[by], theme, comments, share, positive, neutral, negative, n_comments`` in
        taxonomy order, ``'uncoded'`` last.
    """
    keys = by_columns(by, surveys, "surveys")
    require_columns(surveys, ["comment"], "surveys")
    kind, score = _validate_surveys(surveys, csat_scale=csat_scale, ces_scale=ces_scale)
    text = surveys["comment"].astype("string").fillna("").str.strip()
    has = (text != "").to_numpy()
    coded = code_feedback(text, taxonomy=taxonomy)
    coded[UNCODED] = ~coded.any(axis=1)
    themes = list(coded.columns)
    sent = _sentiment(kind, score, csat_scale)
    long = coded.loc[has].reset_index(drop=True)
    # answers of another survey kind have no sentiment band; they still count
    long["_sent"] = pd.Series(sent[has], dtype=object).fillna("unbanded").to_numpy()
    for k in keys:
        long[k] = surveys[k].to_numpy()[has]
    melted = long.melt(id_vars=[*keys, "_sent"], value_vars=themes, var_name="theme",
                       value_name="hit")
    melted = melted[melted["hit"].astype(bool)]
    counts = pd.crosstab(
        [melted[c] for c in [*keys, "theme"]], melted["_sent"], dropna=False
    ) if len(melted) else pd.DataFrame()
    bands = ["positive", "neutral", "negative"]
    if len(counts):
        counts = counts.reindex(columns=[*bands, "unbanded"], fill_value=0)
        counts["comments"] = counts.sum(axis=1)
        counts = counts.drop(columns="unbanded").reset_index()
    else:
        counts = pd.DataFrame(columns=[*keys, "theme", *bands, "comments"])
    if keys:
        totals = long.groupby(keys, dropna=False).size().rename("n_comments").reset_index()
        grid = totals.merge(pd.DataFrame({"theme": themes}), how="cross")
    else:
        grid = pd.DataFrame({"theme": themes, "n_comments": int(has.sum())})
    out = grid.merge(counts, on=[*keys, "theme"], how="left")
    for col in [*bands, "comments", "n_comments"]:
        out[col] = out[col].fillna(0).astype(np.int64)
    out["share"] = safe_ratio(out["comments"], out["n_comments"])
    out["_order"] = out["theme"].map({t: i for i, t in enumerate(themes)})
    out = out.sort_values([*keys, "_order"], kind="stable").reset_index(drop=True)
    return out[[*keys, "theme", "comments", "share", *bands, "n_comments"]]
