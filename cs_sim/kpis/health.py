"""A configurable composite customer health score (0-100, with bands).

The score of an account in a month is a weighted mean of component scores, each a
signal turned into 0-1 by a normalisation:

=========== ====================================== ============================
component   metric (per account-month)             needs
=========== ====================================== ============================
usage       ``seat_utilisation``: active_users /   usage
            seats (NaN with 0 seats)
engagement  ``key_events_per_active_user``:        usage
            key_feature_events / active_users, or
            ``minutes_per_active_user`` (0 when no
            user was active)
support     ``tickets_per_seat``: tickets opened   tickets (+ usage for seats)
            in the month / seats (usually
            inverted), or ``fcr``: first-contact
            resolution of the month's resolved
            tickets
sentiment   ``nps`` or ``csat``: mean score of the surveys
            account's latest month with such an
            answer, if at most ``max_age_months``
            - 1 months old
financial   ``mrr_change``: MRR(m) / MRR(m - L) -   mrr
            1, L = ``lookback_months`` (NaN when
            MRR(m - L) = 0)
=========== ====================================== ============================

Normalisations: ``minmax`` (``(x - low) / (high - low)`` clipped to [0, 1], bounds
given in the config) and ``percentile`` (mid-rank percentile of x among the accounts
scored that month: ``(rank - 0.5) / n``, ties averaged); ``invert: true`` turns x into
1 - x (for signals where more is worse, like tickets).

Weights need not add up to 1: for each account-month they are renormalised over the
components *available* for it (a component is unavailable when its table is missing or
its metric is NaN), so ``score = 100 x sum(w_i s_i) / sum(w_i)`` over available i. An
account-month with fewer than ``min_components`` available components gets no score.
Bands are half-open intervals of the score: with the default
``red: 0, yellow: 40, green: 70``, red < 40 <= yellow < 70 <= green.

Weighted-scorecard health scores of this kind are the usual practice in customer
success; the weights and bounds are judgement calls to validate against churn (see
the survival and churn-driver models).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cs_sim._yaml import load_yaml_mapping
from cs_sim.kpis._util import (
    KpiConfigError,
    KpiInputError,
    by_columns,
    check_nonnegative,
    require_columns,
    resource_path,
    safe_ratio,
    to_month,
)
from cs_sim.kpis.revenue import _build_matrix

__all__ = [
    "Band",
    "ComponentConfig",
    "HealthConfig",
    "Normalisation",
    "health_band_churn",
    "health_band_shares",
    "health_config_from_dict",
    "health_score",
    "load_health_config",
]

#: name of the packaged default config (a copy lives in templates/ for users to edit)
CONFIG_FILE = "health_score.yaml"

#: component -> (allowed metrics, extra integer options with their defaults)
COMPONENTS: dict[str, tuple[tuple[str, ...], dict[str, int]]] = {
    "usage": (("seat_utilisation",), {}),
    "engagement": (("key_events_per_active_user", "minutes_per_active_user"), {}),
    "support": (("tickets_per_seat", "fcr"), {}),
    "sentiment": (("nps", "csat"), {"max_age_months": 12}),
    "financial": (("mrr_change",), {"lookback_months": 3}),
}
_METHODS = ("minmax", "percentile")


@dataclass(frozen=True)
class Normalisation:
    """How a component's metric becomes a 0-1 score (see the module docstring)."""

    method: str
    low: float | None = None
    high: float | None = None
    invert: bool = False


@dataclass(frozen=True)
class ComponentConfig:
    """One component of the health score."""

    name: str
    weight: float
    metric: str
    normalisation: Normalisation
    options: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Band:
    """A health band: scores from ``min`` (inclusive) up to the next band's ``min``."""

    name: str
    min: float


@dataclass(frozen=True)
class HealthConfig:
    """A validated health-score configuration (build it with :func:`load_health_config`)."""

    components: tuple[ComponentConfig, ...]
    bands: tuple[Band, ...]
    min_components: int = 1
    source: str = "<dict>"

    def component(self, name: str) -> ComponentConfig | None:
        """The component called ``name``, or None if it is not configured."""
        return next((c for c in self.components if c.name == name), None)


# --------------------------------------------------------------------------- config
def _num(value: Any, where: str, src: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise KpiConfigError(f"{src}: {where}: must be a number, got {value!r}")
    return float(value)


def _check_keys(data: Mapping[str, Any], allowed: set[str], where: str, src: str) -> None:
    unknown = sorted(set(map(str, data)) - allowed)
    if unknown:
        prefix = f"{where}." if where else ""
        raise KpiConfigError(
            f"{src}: {prefix}{unknown[0]}: unknown key; allowed here: {', '.join(sorted(allowed))}"
        )


def _normalisation(data: Any, where: str, src: str) -> Normalisation:
    if not isinstance(data, Mapping):
        raise KpiConfigError(f"{src}: {where}: must be a mapping with a 'method' "
                             f"({' or '.join(_METHODS)})")
    _check_keys(data, {"method", "low", "high", "invert"}, where, src)
    method = data.get("method")
    if method not in _METHODS:
        raise KpiConfigError(f"{src}: {where}.method: must be one of {', '.join(_METHODS)}, "
                             f"got {method!r}")
    invert = data.get("invert", False)
    if not isinstance(invert, bool):
        raise KpiConfigError(f"{src}: {where}.invert: must be true or false, got {invert!r}")
    if method == "minmax":
        for k in ("low", "high"):
            if k not in data:
                raise KpiConfigError(f"{src}: {where}.{k}: required for method minmax")
        low = _num(data["low"], f"{where}.low", src)
        high = _num(data["high"], f"{where}.high", src)
        if not high > low:
            raise KpiConfigError(f"{src}: {where}.high: must be greater than low ({low}), "
                                 f"got {high}")
        return Normalisation("minmax", low, high, invert)
    if "low" in data or "high" in data:
        raise KpiConfigError(f"{src}: {where}: low/high are not used by method percentile")
    return Normalisation("percentile", None, None, invert)


def health_config_from_dict(data: Mapping[str, Any], *, source: str = "<dict>") -> HealthConfig:
    """Validate a health-score configuration given as a mapping (a parsed YAML file).

    Parameters
    ----------
    data : mapping
        Keys ``components`` (mapping name -> component settings), ``bands`` (mapping
        band name -> lower bound, increasing, the first 0) and optionally
        ``min_components`` and ``description``. See ``templates/health_score.yaml``.
    source : str
        Name used in error messages (the file path).

    Returns
    -------
    HealthConfig

    Raises
    ------
    KpiConfigError
        Naming the source and the key: unknown component or key, unknown metric or
        normalisation method, weight not positive, bounds not increasing, bands not
        increasing or not starting at 0.
    """
    src = source
    if not isinstance(data, Mapping):
        raise KpiConfigError(f"{src}: must be a mapping with 'components' and 'bands'")
    _check_keys(data, {"components", "bands", "min_components", "description"}, "", src)
    comps = data.get("components")
    if not isinstance(comps, Mapping) or not comps:
        raise KpiConfigError(f"{src}: components: must be a non-empty mapping of component "
                             f"name to settings; components: {', '.join(COMPONENTS)}")
    components = []
    for name, spec in comps.items():
        where = f"components.{name}"
        if name not in COMPONENTS:
            raise KpiConfigError(f"{src}: {where}: unknown component; known components: "
                                 f"{', '.join(COMPONENTS)}")
        metrics, opts = COMPONENTS[name]
        if not isinstance(spec, Mapping):
            raise KpiConfigError(f"{src}: {where}: must be a mapping with weight, metric "
                                 "and normalisation")
        _check_keys(spec, {"weight", "metric", "normalisation", *opts}, where, src)
        if "weight" not in spec:
            raise KpiConfigError(f"{src}: {where}.weight: required")
        weight = _num(spec["weight"], f"{where}.weight", src)
        if not weight > 0:
            raise KpiConfigError(f"{src}: {where}.weight: must be > 0 (leave the component "
                                 f"out to drop it), got {spec['weight']!r}")
        metric = spec.get("metric", metrics[0])
        if metric not in metrics:
            raise KpiConfigError(f"{src}: {where}.metric: must be one of {', '.join(metrics)}, "
                                 f"got {metric!r}")
        if "normalisation" not in spec:
            raise KpiConfigError(f"{src}: {where}.normalisation: required")
        norm = _normalisation(spec["normalisation"], f"{where}.normalisation", src)
        options = {}
        for key, default in opts.items():
            value = spec.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise KpiConfigError(f"{src}: {where}.{key}: must be a whole number >= 1, "
                                     f"got {value!r}")
            options[key] = value
        components.append(ComponentConfig(str(name), weight, metric, norm, options))
    bands_spec = data.get("bands")
    if not isinstance(bands_spec, Mapping) or not bands_spec:
        raise KpiConfigError(f"{src}: bands: must be a mapping of band name to lower bound, "
                             "e.g. {red: 0, yellow: 40, green: 70}")
    bands = []
    prev = None
    for bname, lower in bands_spec.items():
        value = _num(lower, f"bands.{bname}", src)
        if prev is None and value != 0:
            raise KpiConfigError(f"{src}: bands.{bname}: the first band must start at 0, "
                                 f"got {value:g}")
        if prev is not None and not value > prev:
            raise KpiConfigError(f"{src}: bands.{bname}: lower bounds must be increasing; "
                                 f"{value:g} is not above {prev:g}")
        if not 0 <= value < 100:
            raise KpiConfigError(f"{src}: bands.{bname}: must be in [0, 100), got {value:g}")
        bands.append(Band(str(bname), value))
        prev = value
    min_components = data.get("min_components", 1)
    if (isinstance(min_components, bool) or not isinstance(min_components, int)
            or not 1 <= min_components <= len(components)):
        raise KpiConfigError(f"{src}: min_components: must be a whole number from 1 to the "
                             f"number of components ({len(components)}), "
                             f"got {min_components!r}")
    return HealthConfig(tuple(components), tuple(bands), min_components, src)


def load_health_config(path: str | Path | None = None) -> HealthConfig:
    """Read and validate a health-score configuration (YAML, read with ``safe_load``).

    Parameters
    ----------
    path : str or Path, optional
        The YAML file; default the packaged ``cs_sim/resources/health_score.yaml``
        (identical to ``templates/health_score.yaml``, the copy users edit).

    Returns
    -------
    HealthConfig

    Raises
    ------
    KpiConfigError
        If the file cannot be read, is not YAML, or fails validation (see
        :func:`health_config_from_dict`); the message names the file and the key.
    """
    src = resource_path(CONFIG_FILE) if path is None else path
    data = load_yaml_mapping(src, what="health score configuration", error=KpiConfigError)
    return health_config_from_dict(data, source=str(src))


def _resolve_config(config: Any) -> HealthConfig:
    if isinstance(config, HealthConfig):
        return config
    if config is None or isinstance(config, (str, Path)):
        return load_health_config(config)
    if isinstance(config, Mapping):
        return health_config_from_dict(config)
    raise KpiInputError("config must be None, a path, a mapping or a HealthConfig; got "
                        f"{type(config).__name__}")


# --------------------------------------------------------------------------- metrics
def _usage_metrics(usage: pd.DataFrame) -> pd.DataFrame:
    require_columns(usage, ["account_id", "month", "active_users", "seats", "minutes",
                            "key_feature_events"], "usage")
    out = pd.DataFrame({"account_id": usage["account_id"].to_numpy(),
                        "month": to_month(usage["month"]).to_numpy()})
    if out.duplicated(["account_id", "month"]).any():
        raise KpiInputError("usage: (account_id, month) must be unique")
    au = check_nonnegative(usage["active_users"], column="active_users", table="usage")
    seats = check_nonnegative(usage["seats"], column="seats", table="usage")
    minutes = check_nonnegative(usage["minutes"], column="minutes", table="usage")
    events = check_nonnegative(usage["key_feature_events"], column="key_feature_events",
                               table="usage")
    out["seats"] = seats
    out["seat_utilisation"] = safe_ratio(au, seats)
    out["key_events_per_active_user"] = np.where(au > 0, safe_ratio(events, au), 0.0)
    out["minutes_per_active_user"] = np.where(au > 0, safe_ratio(minutes, au), 0.0)
    return out


def _ticket_metrics(tickets: pd.DataFrame) -> pd.DataFrame:
    require_columns(tickets, ["account_id", "opened_at", "resolved_at", "contacts_to_resolve"],
                    "tickets")
    opened = pd.DataFrame({"account_id": tickets["account_id"].to_numpy(),
                           "month": to_month(tickets["opened_at"], name="opened_at").to_numpy()})
    n_open = opened.groupby(["account_id", "month"]).size().rename("tickets")
    resolved_at = pd.to_datetime(tickets["resolved_at"])
    res = resolved_at.notna().to_numpy()
    contacts = pd.to_numeric(tickets["contacts_to_resolve"]).to_numpy(dtype=float)
    solved = pd.DataFrame({
        "account_id": tickets["account_id"].to_numpy()[res],
        "month": to_month(resolved_at[res], name="resolved_at").to_numpy(),
        "first": (contacts[res] == 1).astype(float),
    })
    fcr = solved.groupby(["account_id", "month"])["first"].mean().rename("fcr")
    return pd.concat([n_open, fcr], axis=1).reset_index()


def _latest_survey(base: pd.DataFrame, surveys: pd.DataFrame, kind: str,
                   max_age: int) -> np.ndarray:
    require_columns(surveys, ["account_id", "date", "kind", "score"], "surveys")
    sub = surveys[surveys["kind"].astype("str").str.lower() == kind]
    if sub.empty:
        return np.full(len(base), np.nan)
    resp = pd.DataFrame({"account_id": sub["account_id"].to_numpy(),
                         "resp_month": to_month(sub["date"], name="date").to_numpy(),
                         "value": pd.to_numeric(sub["score"]).to_numpy(dtype=float)})
    resp = resp.groupby(["account_id", "resp_month"], as_index=False)["value"].mean()
    left = base[["account_id", "month"]].reset_index().sort_values("month")
    right = resp.sort_values("resp_month")
    merged = pd.merge_asof(left, right, left_on="month", right_on="resp_month",
                           by="account_id", direction="backward")
    age = ((merged["month"].dt.year - merged["resp_month"].dt.year) * 12
           + (merged["month"].dt.month - merged["resp_month"].dt.month))
    merged["value"] = merged["value"].where(age < max_age)
    return merged.set_index("index")["value"].reindex(base.index).to_numpy(dtype=float)


def _normalise(values: pd.Series, months: pd.Series, norm: Normalisation) -> np.ndarray:
    x = values.to_numpy(dtype=float)
    if norm.method == "minmax":
        assert norm.low is not None and norm.high is not None
        s = np.clip((x - norm.low) / (norm.high - norm.low), 0.0, 1.0)
    else:
        frame = pd.DataFrame({"x": x, "m": months.to_numpy()})
        ranks = frame.groupby("m")["x"].rank(method="average")
        n = frame.groupby("m")["x"].transform("count")
        s = ((ranks - 0.5) / n).to_numpy(dtype=float)
    s = np.where(np.isnan(x), np.nan, s)
    return 1.0 - s if norm.invert else s


def health_score(
    usage: pd.DataFrame | None,
    mrr: pd.DataFrame,
    *,
    tickets: pd.DataFrame | None = None,
    surveys: pd.DataFrame | None = None,
    config: HealthConfig | Mapping[str, Any] | str | Path | None = None,
) -> pd.DataFrame:
    """Composite customer health score per paying account and month.

    See the module docstring for the components, normalisations, weighting and bands.
    Scores are computed for every account-month with MRR > 0. A component whose table
    is not given (``usage``, ``tickets`` or ``surveys`` None) is unavailable everywhere
    and its weight goes to the others; so is a component whose metric is missing for
    an account-month (e.g. no usage row, no recent survey answer).

    Parameters
    ----------
    usage : DataFrame or None
        Canonical usage table (usage and engagement components; seats for support).
    mrr : DataFrame
        Canonical mrr table (which account-months to score; financial component).
    tickets : DataFrame, optional
        Canonical tickets table (support component).
    surveys : DataFrame, optional
        Canonical surveys table (sentiment component).
    config : HealthConfig, mapping, path or None
        The configuration; None for the packaged default (see
        ``templates/health_score.yaml``).

    Returns
    -------
    DataFrame
        ``account_id, month, score, band, n_components`` then, per configured component
        ``c``, ``c_score`` (0-100) and ``c_value`` (the raw metric); sorted by account
        and month. ``score`` is NaN and ``band`` missing where fewer than
        ``min_components`` components are available.
    """
    cfg = _resolve_config(config)
    m = _build_matrix(mrr, None)
    acc_idx, mon_idx = np.nonzero(m.units > 0)
    base = pd.DataFrame({"account_id": m.accounts[acc_idx], "month": m.months[mon_idx]})
    base = base.sort_values(["account_id", "month"]).reset_index(drop=True)

    if usage is not None:
        base = base.merge(_usage_metrics(usage), on=["account_id", "month"], how="left")
    if tickets is not None and cfg.component("support") is not None:
        base = base.merge(_ticket_metrics(tickets), on=["account_id", "month"], how="left")
        if "seats" in base:
            base["tickets_per_seat"] = safe_ratio(base["tickets"].fillna(0), base["seats"])
        else:
            base["tickets_per_seat"] = np.nan
    out = base[["account_id", "month"]].copy()
    weighted = np.zeros(len(base))
    weights = np.zeros(len(base))
    count = np.zeros(len(base), dtype=np.int64)
    for comp in cfg.components:
        if comp.name == "financial":
            lag = comp.options["lookback_months"]
            cur = m.units[acc_idx, mon_idx]
            prev = np.where(mon_idx >= lag, m.units[acc_idx, np.maximum(mon_idx - lag, 0)], 0)
            raw = pd.DataFrame({"account_id": m.accounts[acc_idx], "month": m.months[mon_idx],
                                "v": safe_ratio(cur, prev) - 1.0})
            value = base[["account_id", "month"]].merge(raw, how="left")["v"].to_numpy()
        elif comp.name == "sentiment":
            value = (np.full(len(base), np.nan) if surveys is None else
                     _latest_survey(base, surveys, comp.metric, comp.options["max_age_months"]))
        elif comp.metric in base.columns:
            value = base[comp.metric].to_numpy(dtype=float)
        else:  # its table was not given
            value = np.full(len(base), np.nan)
        value = np.asarray(value, dtype=float)
        s = _normalise(pd.Series(value), base["month"], comp.normalisation)
        ok = ~np.isnan(s)
        weighted += np.where(ok, comp.weight * np.nan_to_num(s), 0.0)
        weights += np.where(ok, comp.weight, 0.0)
        count += ok
        out[f"{comp.name}_score"] = 100.0 * s
        out[f"{comp.name}_value"] = value
    enough = count >= cfg.min_components
    score = np.where(enough, 100.0 * safe_ratio(weighted, weights), np.nan)
    edges = [b.min for b in cfg.bands]
    band_idx = np.searchsorted(edges, score, side="right") - 1
    names = np.array([b.name for b in cfg.bands], dtype=object)
    band = np.where(np.isnan(score), None, names[np.clip(band_idx, 0, len(names) - 1)])
    out.insert(2, "score", score)
    out.insert(3, "band", pd.Series(band, dtype="str"))
    out.insert(4, "n_components", count)
    return out


def health_band_shares(
    health: pd.DataFrame, *, by: str | None = None, config: HealthConfig | None = None
) -> pd.DataFrame:
    """Share of scored accounts in each health band per month.

    ``share = accounts in the band / accounts with a score`` for each (``by``, month).

    Parameters
    ----------
    health : DataFrame
        Output of :func:`health_score` (``month``, ``band``; ``by`` if given, e.g.
        joined with :func:`~cs_sim.kpis.attach`).
    by : str, optional
        Column to group by.
    config : HealthConfig, optional
        For the band order (default: the packaged configuration's bands).

    Returns
    -------
    DataFrame
        ``[by], month, band, accounts, share``, every band listed for every month.
    """
    keys = by_columns(by, health, "health")
    require_columns(health, ["month", "band"], "health")
    cfg = config or load_health_config()
    names = [b.name for b in cfg.bands]
    scored = health[health["band"].notna()]
    counts = (
        pd.crosstab([scored[c] for c in [*keys, "month"]], scored["band"])
        .reindex(columns=names, fill_value=0)
    )
    counts.columns.name = "band"
    long = counts.stack().rename("accounts").reset_index()
    totals = long.groupby([*keys, "month"], dropna=False)["accounts"].transform("sum")
    long["accounts"] = long["accounts"].astype(np.int64)
    long["share"] = safe_ratio(long["accounts"], totals)
    order = {n: i for i, n in enumerate(names)}
    long = long.sort_values([*keys, "month", "band"],
                            key=lambda s: s.map(order) if s.name == "band" else s)
    return long.reset_index(drop=True)


def health_band_churn(
    health: pd.DataFrame,
    mrr: pd.DataFrame,
    *,
    start: Any = None,
    end: Any = None,
    config: HealthConfig | None = None,
) -> pd.DataFrame:
    """Churn in the month after each scored month, by health band: does red mean risk?

    An account-month scored in band b (account paying in month m) *churned next month*
    when the account pays nothing in m + 1 (MRR 0 or no row). Account-months whose next
    month is after the last month of ``mrr`` have no known outcome and are left out.
    ``churn_rate = churned / account_months`` per band.

    Parameters
    ----------
    health : DataFrame
        Output of :func:`health_score` (``account_id, month, band``).
    mrr : DataFrame
        Canonical mrr table (the next month's payment).
    start, end : month-like, optional
        First and last scored month counted (inclusive); default every month.
    config : HealthConfig, optional
        For the band order (default: the packaged configuration's bands).

    Returns
    -------
    DataFrame
        ``band, account_months, churned, churn_rate``, one row per configured band in
        order (a band with no account-month has churn rate NaN).

    Examples
    --------
    >>> import pandas as pd
    >>> months = pd.to_datetime(["2025-01-01", "2025-02-01"])
    >>> mrr = pd.DataFrame({"account_id": ["a", "a", "b"], "month": [*months, months[0]],
    ...                     "mrr": [10.0, 10.0, 5.0]})
    >>> health = pd.DataFrame({"account_id": ["a", "b"], "month": [months[0]] * 2,
    ...                        "band": ["green", "red"]})
    >>> health_band_churn(health, mrr)[["band", "churned", "churn_rate"]].to_dict("list")
    {'band': ['red', 'yellow', 'green'], 'churned': [1, 0, 0], 'churn_rate': [1.0, nan, 0.0]}
    """
    require_columns(health, ["account_id", "month", "band"], "health")
    cfg = config or load_health_config()
    names = [b.name for b in cfg.bands]
    m = _build_matrix(mrr, None)
    scored = health[health["band"].notna()]
    month = to_month(scored["month"])
    keep = np.ones(len(scored), dtype=bool)
    if start is not None:
        keep &= (month >= pd.Timestamp(start)).to_numpy()
    if end is not None:
        keep &= (month <= pd.Timestamp(end)).to_numpy()
    col = m.months.get_indexer(month)
    row = m.accounts.get_indexer(scored["account_id"])
    keep &= (col >= 0) & (row >= 0) & (col + 1 < len(m.months))
    nxt = np.zeros(len(scored), dtype=bool)
    nxt[keep] = m.units[row[keep], col[keep] + 1] > 0
    frame = pd.DataFrame({"band": scored["band"].to_numpy()[keep],
                          "churned": (~nxt[keep]).astype(np.int64)})
    out = (frame.groupby("band")["churned"].agg(account_months="size", churned="sum")
           .reindex(names).fillna(0).astype(np.int64))
    out.index.name = "band"
    out = out.reset_index()
    out["churn_rate"] = safe_ratio(out["churned"], out["account_months"])
    return out
