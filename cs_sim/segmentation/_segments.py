"""Segments of accounts: from an accounts column, from firmographic and revenue bands, and
from a clustering of product behaviour.

:func:`segment_accounts` gives every account that has paid a segment label. A
segmentation is named either by a column of the accounts table (``industry``, ``plan``,
``region``, the dataset's own ``segment``...) or by one of the derived segmentations of
:data:`DERIVED`:

=================  =====================================================  ==========
name               segments                                               needs
=================  =====================================================  ==========
``size_band``      employees: 1-49, 50-249, 250-999, 1,000+               accounts
``arr_tier``       ARR (12 x the last MRR paid): top 20% of accounts,     mrr
                   next 30%, bottom 50%
``lifecycle_``     months since signup: onboarding (0-2), adoption        mrr
``stage``          (3-11), established (12-23), mature (24+); churned
``usage_band``     share of seats active over the last 3 months: below    usage
                   50%, 50-75%, 75% and more
``behaviour``      k-means clusters (:func:`scipy.cluster.vq.kmeans2`) on  usage
                   standardised behaviour over the last 6 months
=================  =====================================================  ==========
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cs_sim.errors import CsSimError, MissingTableError

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.io import Dataset

__all__ = [
    "DERIVED",
    "BehaviourModel",
    "MrrPanel",
    "account_costs",
    "candidate_names",
    "segment_accounts",
    "segmentation_label",
    "shown_path",
]

#: company size bands: (label, lowest employees)
SIZE_BANDS: tuple[tuple[str, int], ...] = (
    ("1-49 employees", 1), ("50-249 employees", 50), ("250-999 employees", 250),
    ("1,000+ employees", 1000),
)
#: ARR tiers: (label, cumulative share of accounts ranked by ARR, largest first)
ARR_TIERS: tuple[tuple[str, float], ...] = (
    ("top 20% by ARR", 0.2), ("next 30% by ARR", 0.5), ("bottom 50% by ARR", 1.0),
)
#: usage bands: (label, lowest share of seats active)
USAGE_BANDS: tuple[tuple[str, float], ...] = (
    ("under 50% of seats active", 0.0), ("50-75% of seats active", 0.5),
    ("75%+ of seats active", 0.75),
)
#: lifecycle stages: (label, lowest months since signup)
LIFECYCLE_STAGES: tuple[tuple[str, int], ...] = (
    ("onboarding (0-2 months)", 0), ("adoption (3-11 months)", 3),
    ("established (12-23 months)", 12), ("mature (24+ months)", 24),
)
#: lifecycle label of an account not paying at the reference month
CHURNED = "churned"
#: label of accounts without usage rows in the window of a usage-based segmentation
NO_USAGE = "no usage data"
#: label of accounts whose accounts-table value is missing
MISSING = "(none)"
#: derived segmentations -> the optional tables they need
DERIVED: dict[str, tuple[str, ...]] = {
    "size_band": (), "arr_tier": (), "lifecycle_stage": (), "usage_band": ("usage",),
    "behaviour": ("usage",),
}
#: how a segmentation is called in tables and text
_NAMES = {
    "size_band": "company size band", "arr_tier": "ARR tier", "lifecycle_stage":
    "lifecycle stage", "usage_band": "usage band", "behaviour": "behaviour clusters",
    "segment": "the dataset's own segment column",
}
#: months of usage a usage band / behaviour cluster is measured over
USAGE_MONTHS = 3
BEHAVIOUR_MONTHS = 6


def shown_path(path: str | None) -> str:
    """A dataset folder as people typed it: relative to the repository root when it lies
    inside it (``data/sample``), else as it is; ``"dataset"`` when there is none."""
    from pathlib import Path

    from cs_sim.paths import repo_root

    if not path:
        return "dataset"
    root = repo_root()
    try:
        return Path(path).resolve().relative_to(root).as_posix() if root else path
    except ValueError:
        return path


def segmentation_label(name: str) -> str:
    """How a segmentation is called for people (``"arr_tier"`` -> ``"ARR tier"``)."""
    return _NAMES.get(name, f"accounts column '{name}'")


def candidate_names(dataset: Dataset) -> list[str]:
    """The default candidates of :func:`~cs_sim.segmentation.compare_segmentations`.

    ``industry``, the derived segmentations and, when the accounts table has one, its own
    ``segment`` column.
    """
    names = ["industry", "size_band", "usage_band", "lifecycle_stage", "arr_tier", "behaviour"]
    if "segment" in dataset.accounts.columns:
        names.append("segment")
    return names


# --------------------------------------------------------------------------- MRR panel
@dataclass(frozen=True)
class MrrPanel:
    """MRR as an accounts x months matrix (0 where the mrr table has no row).

    Attributes
    ----------
    matrix : pandas.DataFrame
        Index ``account_id`` (accounts that ever paid), one column per month from the first
        to the last month of the mrr table.
    """

    matrix: pd.DataFrame

    @classmethod
    def of(cls, dataset: Dataset) -> MrrPanel:
        """The panel of ``dataset.mrr``."""
        mrr = dataset.mrr
        months = pd.to_datetime(mrr["month"]).dt.to_period("M").dt.to_timestamp()
        wide = (
            pd.DataFrame({"account_id": mrr["account_id"].to_numpy(), "month": months,
                          "mrr": mrr["mrr"].to_numpy(dtype=float)})
            .pivot_table(index="account_id", columns="month", values="mrr", aggfunc="sum",
                         fill_value=0.0)
        )
        full = pd.date_range(months.min(), months.max(), freq="MS")
        wide = wide.reindex(columns=full, fill_value=0.0)
        wide = wide[(wide > 0).any(axis=1)]
        wide.index.name, wide.columns.name = "account_id", "month"
        return cls(wide)

    @property
    def months(self) -> pd.DatetimeIndex:
        """The months, first to last."""
        return pd.DatetimeIndex(self.matrix.columns)

    def month(self, value: Any, name: str = "at") -> pd.Timestamp:
        """``value`` as a month of the panel (the last month when None)."""
        if value is None:
            return self.months[-1]
        try:
            ts = pd.Timestamp(value).to_period("M").to_timestamp()
        except (TypeError, ValueError):
            ts = pd.NaT
        if pd.isna(ts) or ts not in self.months:
            raise CsSimError(
                f"{name} month {value!r} is not a month of the mrr data "
                f"({self.months[0]:%Y-%m} .. {self.months[-1]:%Y-%m}); fix: write it as "
                "YYYY-MM within that range"
            )
        return ts

    def at(self, month: pd.Timestamp) -> pd.Series:
        """Each account's MRR in ``month``."""
        return self.matrix[month]

    def paid_by(self, month: pd.Timestamp) -> pd.Series:
        """Last MRR > 0 of each account that paid in some month up to ``month``."""
        part = self.matrix.loc[:, :month]
        paid = part.where(part > 0).ffill(axis=1).iloc[:, -1]
        return paid.dropna()


# --------------------------------------------------------------------------- bands
def _bands(values: pd.Series, bands: Sequence[tuple[str, float]]) -> pd.Categorical:
    edges = [low for _, low in bands]
    labels = [label for label, _ in bands]
    pos = np.searchsorted(np.asarray(edges, dtype=float), values.to_numpy(dtype=float),
                          side="right") - 1
    pos = np.clip(pos, 0, len(labels) - 1)
    return pd.Categorical.from_codes(pos, categories=labels, ordered=True)


def _size_band(dataset: Dataset, ids: pd.Index) -> pd.Series:
    emp = dataset.accounts.set_index("account_id")["employees"].reindex(ids)
    return pd.Series(_bands(emp.fillna(1), SIZE_BANDS), index=ids)


def _arr_tier(panel: MrrPanel, at: pd.Timestamp) -> pd.Series:
    arr = 12 * panel.paid_by(at)
    rank = arr.rank(ascending=False, method="first") / max(len(arr), 1)
    pos = np.searchsorted(np.array([s for _, s in ARR_TIERS]), rank.to_numpy(), side="left")
    pos = np.clip(pos, 0, len(ARR_TIERS) - 1)
    cats = pd.Categorical.from_codes(pos, categories=[t for t, _ in ARR_TIERS], ordered=True)
    return pd.Series(cats, index=arr.index)


def _lifecycle(dataset: Dataset, panel: MrrPanel, at: pd.Timestamp, ids: pd.Index) -> pd.Series:
    signup = pd.to_datetime(
        dataset.accounts.set_index("account_id")["signup_date"].reindex(ids)
    )
    months = ((at.year - signup.dt.year) * 12 + (at.month - signup.dt.month)).clip(lower=0)
    stage = pd.Series(_bands(months.fillna(0), LIFECYCLE_STAGES), index=ids)
    stage = stage.cat.add_categories([CHURNED])
    stage[panel.at(at).reindex(ids).fillna(0).to_numpy() <= 0] = CHURNED
    return stage


def _usage_window(dataset: Dataset, at: pd.Timestamp, months: int) -> pd.DataFrame:
    usage = dataset.usage
    if usage is None:
        raise MissingTableError("usage", source=dataset.source)
    month = pd.to_datetime(usage["month"]).dt.to_period("M").dt.to_timestamp()
    first = at - pd.DateOffset(months=months - 1)
    return usage[((month >= first) & (month <= at)).to_numpy()]


def _usage_band(dataset: Dataset, at: pd.Timestamp, ids: pd.Index) -> pd.Series:
    window = _usage_window(dataset, at, USAGE_MONTHS)
    sums = window.groupby("account_id")[["active_users", "seats"]].sum()
    share = (sums["active_users"] / sums["seats"].where(sums["seats"] > 0)).dropna()
    band = pd.Series(_bands(share, USAGE_BANDS), index=share.index).reindex(ids)
    band = band.cat.add_categories([NO_USAGE])
    return band.fillna(NO_USAGE)


# --------------------------------------------------------------------------- behaviour
#: behaviour features: name -> what it measures (log1p of per-account window totals)
BEHAVIOUR_FEATURES = {
    "seats": "seats licensed (log)",
    "activation": "share of seats active",
    "minutes_per_user": "minutes per active user (log)",
    "feature_use_per_user": "key-feature events per active user (log)",
    "tickets_per_seat": "support tickets per 10 seat-months (log)",
}


def behaviour_features(dataset: Dataset, at: pd.Timestamp,
                       *, months: int = BEHAVIOUR_MONTHS) -> pd.DataFrame:
    """Per-account behaviour over the ``months`` usage months up to ``at``.

    Columns of :data:`BEHAVIOUR_FEATURES` (``tickets_per_seat`` only with a tickets
    table); accounts without usage rows in the window are left out.
    """
    window = _usage_window(dataset, at, months)
    cols = ["active_users", "seats", "minutes", "key_feature_events"]
    sums = window.groupby("account_id")[cols].sum()
    n = window.groupby("account_id").size()
    sums = sums[sums["seats"] > 0]
    users = sums["active_users"].clip(lower=1)
    out = pd.DataFrame({
        "seats": np.log1p(sums["seats"] / n.reindex(sums.index)),
        "activation": sums["active_users"] / sums["seats"],
        "minutes_per_user": np.log1p(sums["minutes"] / users),
        "feature_use_per_user": np.log1p(sums["key_feature_events"] / users),
    })
    if dataset.tickets is not None:
        t = dataset.tickets
        opened = pd.to_datetime(t["opened_at"]).dt.to_period("M").dt.to_timestamp()
        first = at - pd.DateOffset(months=months - 1)
        inside = t[((opened >= first) & (opened <= at)).to_numpy()]
        count = inside.groupby("account_id").size().reindex(out.index, fill_value=0)
        out["tickets_per_seat"] = np.log1p(10 * count / sums["seats"])
    return out


@dataclass(frozen=True)
class BehaviourModel:
    """Behaviour clusters fitted by k-means: what assigns an account to a cluster.

    Attributes
    ----------
    features : tuple of str
        The feature columns (:func:`behaviour_features`).
    mean_, scale_ : numpy.ndarray
        Standardisation of each feature (mean and standard deviation of the fit data).
    centroids_ : numpy.ndarray
        One row per cluster, in standardised units, ordered by seats then activation.
    labels_ : tuple of str
        The cluster labels, e.g. ``"B1 small teams, many tickets"``: the team size and the
        most distinctive other feature of the cluster's centre.
    """

    features: tuple[str, ...]
    mean_: np.ndarray
    scale_: np.ndarray
    centroids_: np.ndarray
    labels_: tuple[str, ...]

    @classmethod
    def fit(cls, features: pd.DataFrame, *, clusters: int | None = None,
            seed: int = 0) -> BehaviourModel:
        """Cluster standardised ``features`` with :func:`scipy.cluster.vq.kmeans2`.

        Each k is run from 5 k-means++ starts drawn from one seeded generator
        (``numpy.random.default_rng(seed)``) and the start with the least within-cluster
        sum of squares kept. With ``clusters=None`` k is chosen from 2 to 6 by the mean
        silhouette width (Rousseeuw 1987) on at most 1,500 accounts.
        """
        from scipy.cluster.vq import kmeans2, vq

        x = features.to_numpy(dtype=float)
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[~(scale > 0)] = 1.0
        z = (x - mean) / scale
        rng = np.random.default_rng(seed)
        n = len(z)
        ks = [clusters] if clusters else list(range(2, min(6, n - 1) + 1))
        if not ks or ks[0] is None or n < 3:
            raise CsSimError(
                f"behaviour clusters need at least 3 accounts with usage, got {n}; fix: use "
                "more data or another segmentation"
            )
        best: tuple[float, np.ndarray] | None = None
        sample = rng.choice(n, size=min(n, 1500), replace=False)
        for k in ks:
            fits = []
            for _ in range(5):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # an empty cluster is simply worse
                    centroids, _ = kmeans2(z, k, minit="++", seed=rng)
                codes, dist = vq(z, centroids)
                fits.append((float((dist**2).sum()), centroids[np.unique(codes)]))
            centroids = min(fits, key=lambda f: f[0])[1]
            score = _silhouette(z[sample], vq(z[sample], centroids)[0]) if len(ks) > 1 else 0.0
            if best is None or score > best[0]:
                best = (score, centroids)
        assert best is not None
        centroids = best[1]
        order = np.lexsort((centroids[:, 1], centroids[:, 0]))
        centroids = centroids[order]
        labels = tuple(f"B{i + 1} {_describe(c, list(features.columns))}"
                       for i, c in enumerate(centroids))
        return cls(tuple(features.columns), mean, scale, centroids, labels)

    def assign(self, features: pd.DataFrame) -> pd.Series:
        """The cluster of each row of ``features`` (nearest centroid)."""
        from scipy.cluster.vq import vq

        z = (features[list(self.features)].to_numpy(dtype=float) - self.mean_) / self.scale_
        codes = vq(z, self.centroids_)[0] if len(z) else np.array([], dtype=int)
        cats = pd.Categorical.from_codes(codes, categories=list(self.labels_), ordered=True)
        return pd.Series(cats, index=features.index)


def _silhouette(z: np.ndarray, codes: np.ndarray) -> float:
    """Mean silhouette width of a clustering (-1 .. 1; higher = better separated)."""
    from scipy.spatial.distance import cdist

    labels = np.unique(codes)
    if len(labels) < 2:
        return -1.0
    d = cdist(z, z)
    mean_to = np.column_stack([d[:, codes == c].mean(axis=1) for c in labels])
    own = np.searchsorted(labels, codes)
    sizes = np.array([(codes == c).sum() for c in labels])
    a = mean_to[np.arange(len(z)), own] * sizes[own] / np.maximum(sizes[own] - 1, 1)
    other = mean_to.copy()
    other[np.arange(len(z)), own] = np.inf
    b = other.min(axis=1)
    s = np.where(sizes[own] > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(s.mean())


#: words for a cluster centre far below / above the average of a feature
_WORDS = {
    "seats": ("small teams", "large teams"),
    "activation": ("low activation", "high activation"),
    "minutes_per_user": ("little time per user", "much time per user"),
    "feature_use_per_user": ("light feature use", "heavy feature use"),
    "tickets_per_seat": ("few tickets", "many tickets"),
}


def _describe(centroid: np.ndarray, features: Sequence[str]) -> str:
    """Words for a cluster centre (in z units): its team size and its most distinctive
    other feature (``typical use`` when none is half a standard deviation off)."""
    z = dict(zip(features, centroid, strict=True))
    seats = z.get("seats", 0.0)
    size = ("small teams" if seats < -0.5 else "large teams" if seats > 0.5
            else "mid-size teams")
    others = {k: v for k, v in z.items() if k != "seats" and k in _WORDS}
    if not others:
        return size
    key = max(others, key=lambda k: abs(others[k]))
    if abs(others[key]) <= 0.5:
        return f"{size}, typical use"
    return f"{size}, {_WORDS[key][int(others[key] > 0)]}"


def _behaviour(dataset: Dataset, at: pd.Timestamp, ids: pd.Index, *, clusters: int | None,
               seed: int, model: BehaviourModel | None = None
               ) -> tuple[pd.Series, BehaviourModel | None]:
    features = behaviour_features(dataset, at).reindex(ids).dropna()
    if model is None:
        if len(features) < 3:
            return pd.Series(NO_USAGE, index=ids, dtype="category"), None
        model = BehaviourModel.fit(features, clusters=clusters, seed=seed)
    labels = model.assign(features).reindex(ids)
    labels = labels.cat.add_categories([NO_USAGE]).fillna(NO_USAGE)
    return labels, model


# --------------------------------------------------------------------------- public
def _check_by(dataset: Dataset, by: Any) -> str:
    cols = [c for c in dataset.accounts.columns if c not in ("account_id", "name")]
    if not isinstance(by, str) or (by not in DERIVED and by not in cols):
        raise CsSimError(
            f"cannot segment by {by!r}: it is neither a column of accounts nor a derived "
            f"segmentation; fix: use one of {', '.join(cols)} or {', '.join(DERIVED)}"
        )
    missing = [t for t in DERIVED.get(by, ()) if getattr(dataset, t) is None]
    if missing:
        raise MissingTableError(missing[0], source=dataset.source)
    return by


def segment_accounts(
    dataset: Dataset,
    by: str,
    *,
    at: Any = None,
    clusters: int | None = None,
    seed: int = 0,
    panel: MrrPanel | None = None,
) -> pd.Series:
    """The segment of every account that has paid, by a column or a derived segmentation.

    Parameters
    ----------
    dataset : cs_sim.io.Dataset
    by : str
        A column of the accounts table (``industry``, ``plan``, ``region``, ``segment``,
        ...) or a derived segmentation: ``size_band``, ``arr_tier``, ``lifecycle_stage``,
        ``usage_band`` or ``behaviour`` (see the module's table).
    at : str or pandas.Timestamp, optional
        Reference month for the segmentations that change over time (ARR tier, lifecycle
        stage, usage band, behaviour); the last month of the mrr data by default. Accounts
        that first paid after ``at`` are left out.
    clusters : int, optional
        Number of behaviour clusters (chosen by silhouette width when None).
    seed : int, default 0
        Seed of the clustering's random starts.
    panel : MrrPanel, optional
        The dataset's MRR panel, when the caller has built it already.

    Returns
    -------
    pandas.Series
        Categorical labels indexed by ``account_id``, named ``by``. Accounts with a missing
        column value are labelled ``"(none)"``; usage-based segmentations label accounts
        without usage rows ``"no usage data"``; ``lifecycle_stage`` labels accounts not
        paying at ``at`` ``"churned"``.

    Raises
    ------
    cs_sim.errors.CsSimError
        If ``by`` is unknown or ``at`` outside the data.
    cs_sim.errors.MissingTableError
        If ``by`` needs the usage table and the dataset has none.
    """
    by = _check_by(dataset, by)
    panel = panel or MrrPanel.of(dataset)
    month = panel.month(at)
    ids = panel.paid_by(month).index
    if by == "size_band":
        out = _size_band(dataset, ids)
    elif by == "arr_tier":
        out = _arr_tier(panel, month)
    elif by == "lifecycle_stage":
        out = _lifecycle(dataset, panel, month, ids)
    elif by == "usage_band":
        out = _usage_band(dataset, month, ids)
    elif by == "behaviour":
        out = _behaviour(dataset, month, ids, clusters=clusters, seed=seed)[0]
    else:
        col = dataset.accounts.set_index("account_id")[by].reindex(ids)
        text = col.astype("string").fillna(MISSING).astype(str)
        out = pd.Series(pd.Categorical(text, categories=sorted(text.unique())), index=ids)
    out = out.reindex(ids)
    out.index.name, out.name = "account_id", by
    if isinstance(out.dtype, pd.CategoricalDtype):
        out = out.cat.remove_unused_categories()
    return out


# --------------------------------------------------------------------------- cost to serve
def account_costs(
    dataset: Dataset, panel: MrrPanel, start: pd.Timestamp, end: pd.Timestamp
) -> tuple[pd.DataFrame | None, str | None]:
    """Cost to serve each account over the months after ``start`` up to ``end``.

    Activity-based: the support cost of those months is shared out over the tickets
    opened in them by handle minutes, and the CS cost over the interactions, one share
    each (``costs.support_cost / sum(handle_minutes)`` per minute,
    ``costs.cs_cost / interactions`` per interaction). Tooling cost is not allocated.

    Returns
    -------
    (DataFrame or None, str or None)
        Per account that paid in the window: ``cost`` (money over the window) and
        ``paying_months``; or None and the reason (a missing table).
    """
    if dataset.costs is None or (dataset.tickets is None and dataset.interactions is None):
        return None, ("needs the optional tables costs and tickets or interactions: the cost "
                      "to serve is the support and CS cost of the period shared out over "
                      "tickets and interactions")
    months = panel.months[(panel.months > start) & (panel.months <= end)]
    costs = dataset.costs
    cmonth = pd.to_datetime(costs["month"]).dt.to_period("M").dt.to_timestamp()
    in_costs = costs[cmonth.isin(months).to_numpy()]
    paying = (panel.matrix[months] > 0).sum(axis=1)
    paying = paying[paying > 0]
    cost = pd.Series(0.0, index=paying.index)

    def _in_window(dates: pd.Series) -> np.ndarray:
        m = pd.to_datetime(dates).dt.to_period("M").dt.to_timestamp()
        return m.isin(months).to_numpy()

    if dataset.tickets is not None:
        t = dataset.tickets[_in_window(dataset.tickets["opened_at"])]
        minutes = float(t["handle_minutes"].sum())
        if minutes > 0:
            rate = float(in_costs["support_cost"].sum()) / minutes
            per = t.groupby("account_id")["handle_minutes"].sum() * rate
            cost = cost.add(per.reindex(cost.index, fill_value=0.0), fill_value=0.0)
    if dataset.interactions is not None:
        i = dataset.interactions[_in_window(dataset.interactions["date"])]
        if len(i):
            rate = float(in_costs["cs_cost"].sum()) / len(i)
            per = i.groupby("account_id").size() * rate
            cost = cost.add(per.reindex(cost.index, fill_value=0.0), fill_value=0.0)
    return pd.DataFrame({"cost": cost, "paying_months": paying}), None
