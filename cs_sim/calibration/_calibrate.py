"""``calibrate``: a dataset's history turned into the simulator's baseline ``Scenario``.

The estimators are described in :mod:`cs_sim.calibration._estimate` (health, churn,
expansion and contraction, through statsmodels) and
:mod:`cs_sim.calibration._descriptive` (rates, shares and means). What the tables do
not identify keeps the template's value and is said so in ``notes``:

* the health scale: health is latent; its zero and unit are fixed by the usage
  equation (``active_share_intercept`` 0.6 for every segment, ``usage.health_slope``
  0.35), so each segment's usage level appears in its ``health_mean``;
* ``churn.early_life_months`` (6), the champion-departure rate and penalty (no such
  event in the tables), the CSAT score model, hours and cost of CSM work, plays and
  their effects: the data show what the as-is plays achieved on average, which the
  calibrated hazards, health levels and expansion rates contain (the baseline has no
  plays: adding the as-is plays back would count them twice);
* involuntary churn, when the data do not separate it from voluntary churn (see
  :func:`cs_sim.calibration._estimate.churn_hazard`).

The baseline starts from the dataset's customers in its last month
(``population.source: dataset``, no warm-up), so ``cs-sim simulate --data`` on the same
dataset runs it as it is.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from cs_sim.calibration._descriptive import (
    accounts_and_acquisition,
    contract_terms,
    other_cost,
    support_and_surveys,
    tier_specs,
)
from cs_sim.calibration._estimate import (
    EARLY_LIFE_MONTHS,
    Estimate,
    alive_rows,
    churn_hazard,
    filtered_health,
    health_dynamics,
    resize,
)
from cs_sim.calibration._panel import (
    ACTIVE_SHARE_INTERCEPT,
    UNLABELLED,
    USAGE_HEALTH_SLOPE,
    Panel,
    build_panel,
)
from cs_sim.errors import CalibrationError

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.calibration._result import Calibration
    from cs_sim.io import Dataset
    from cs_sim.sim.scenario import Scenario

__all__ = ["MIN_CHURNS", "MIN_CUSTOMERS", "MIN_MONTHS", "apply_variant", "as_dataset",
           "calibrate", "readiness", "simulation_dataset"]

#: fewest months of mrr data calibration takes
MIN_MONTHS = 6
#: fewest paying customers
MIN_CUSTOMERS = 30
#: fewest churns (the churn model has an intercept per segment and three slopes)
MIN_CHURNS = 20


def as_dataset(dataset: Dataset | str | os.PathLike[str]) -> Dataset:
    """A dataset as given, or loaded from its folder (:func:`cs_sim.io.load_dataset`)."""
    if isinstance(dataset, (str, os.PathLike)):
        from cs_sim.io import load_dataset

        return load_dataset(dataset)
    return dataset


def _dataset_folder(ds: Dataset) -> str | None:
    src = getattr(ds, "source", None)
    if not src:
        return None
    path = Path(str(src))
    if not path.is_dir():
        from cs_sim.paths import resolve_path

        path = resolve_path(str(src))
    return str(path.resolve()) if path.is_dir() else None


def readiness(dataset: Dataset | str | os.PathLike[str], *,
              segment_by: str | None = None) -> list[str]:
    """What keeps a dataset from being calibrated, in plain words (empty: nothing).

    Parameters
    ----------
    dataset : Dataset or path
    segment_by : str, optional
        As for :func:`calibrate`.

    Returns
    -------
    list of str
        One sentence per shortfall (months, customers, churns), each with what is needed.
    """
    ds = as_dataset(dataset)
    try:
        return _shortfalls(build_panel(ds, segment_by=segment_by))
    except CalibrationError as exc:
        return [str(exc)]


def _shortfalls(p: Panel) -> list[str]:
    out = []
    span = f"{p.month_label(0)} .. {p.month_label(p.n_months - 1)}"
    if p.n_months < MIN_MONTHS:
        out.append(f"{p.source}: mrr.csv covers {p.n_months} months ({span}); calibration "
                   f"needs at least {MIN_MONTHS}: add earlier months")
    if len(p.ids) < MIN_CUSTOMERS:
        out.append(f"{p.source}: mrr.csv has {len(p.ids)} paying customers; calibration "
                   f"needs at least {MIN_CUSTOMERS}")
    churns = int(alive_rows(p)["churn"].sum()) if p.n_months >= 2 else 0
    if churns < MIN_CHURNS:
        out.append(f"{p.source}: mrr.csv shows {churns} churns over {span}; the churn "
                   f"model needs at least {MIN_CHURNS}: add history or customers")
    return out


def simulation_dataset(dataset: Dataset, calibration: Calibration) -> Dataset:
    """The dataset the calibrated baseline starts from, as the simulator reads it.

    The labels: the simulator reads a dataset's segments from its accounts' ``segment``
    column (and tiers from ``tier``); when the calibration took them from other columns,
    the copy's ``segment`` (``tier``) column holds them (in memory: the files are never
    changed). Both date each account's life the same way
    (:func:`cs_sim.sim.starts.life_starts`).

    Parameters
    ----------
    dataset : Dataset
        The dataset calibrated on.
    calibration : Calibration

    Returns
    -------
    Dataset
    """
    acc = dataset.accounts
    cols = {"segment": calibration.segment_column, "tier": calibration.tier_column}
    moves = {k: v for k, v in cols.items() if v is not None and v != k and v in acc.columns}
    changes: dict[str, Any] = {}
    if moves:
        acc = acc.copy()
        for target, column in moves.items():
            acc[target] = acc[column]
        changes["accounts"] = acc
    return replace(dataset, **changes) if changes else dataset


def calibrate(
    dataset: Dataset | str | os.PathLike[str],
    *,
    segment_by: str | None = None,
    tiers: str | Sequence[Any] | None = None,
    uncertainty: bool = False,
    horizon_months: int = 12,
) -> Calibration:
    """Estimate the simulator's baseline parameters from a company's history.

    Parameters
    ----------
    dataset : Dataset or path
        Needs ``accounts`` and ``mrr``; ``usage`` makes health (and the churn, expansion
        and NPS slopes on it) estimable, ``tickets``, ``surveys``, ``trials`` and
        ``costs`` their parameters.
    segment_by : str, optional
        The accounts column whose labels are the segments (default ``segment`` when
        present, else one segment ``all``).
    tiers : str or sequence, optional
        The accounts column of tier labels (default ``tier`` when present, else one
        tier), or tier specifications used as given (see
        :func:`cs_sim.calibration._descriptive.tier_specs`).
    uncertainty : bool, default False
        Give every estimate with a standard error to the scenario as a distribution,
        ``{dist: normal, mean: estimate, sd: draw_sd, truncate: true}`` (truncated to
        the field's bounds), so that each replication draws it (parameter uncertainty).
        Draws are independent; ``draw_sd`` is the standard error given the model's other
        estimates (:func:`cs_sim.calibration._estimate.conditional_se`), which keeps
        correlated estimates from spreading predictions more than the data allow.
    horizon_months : int, default 12
        Months the baseline simulates from the dataset's last month.

    Returns
    -------
    Calibration

    Raises
    ------
    CalibrationError
        If the dataset is too short or too small (see :func:`readiness`), or a column
        named does not exist.
    """
    from cs_sim.calibration._result import Calibration

    ds = as_dataset(dataset)
    panel = build_panel(ds, segment_by=segment_by)
    short = _shortfalls(panel)
    if short:
        raise CalibrationError("; ".join(short) + ". Calibration cannot estimate a baseline "
                               "from these data; start from a template scenario instead")
    notes: list[str] = []
    hd = health_dynamics(panel) if panel.has_usage else None
    if hd is None:
        notes.append("health: no usage table (or too few consecutive months of it); health "
                     "is not estimated and churn does not depend on it (health_slope 0)")
    health = filtered_health(panel, hd)
    terms, est, more = contract_terms(panel)
    notes += more
    est += hd.estimates if hd is not None else []
    churn, more = churn_hazard(panel, health, terms)
    est += churn
    notes += more
    sizes, more = resize(panel, health, terms)
    est += sizes
    notes += more
    mix_est, extra = accounts_and_acquisition(panel, ds)
    est += mix_est
    est += support_and_surveys(panel, ds, health)
    tier_list, more, retier = tier_specs(panel, ds, tiers)
    notes += more
    est += [
        Estimate(f"segments.{s}.active_share_intercept", ACTIVE_SHARE_INTERCEPT, math.nan,
                 "convention: the zero of the health scale", 0) for s in panel.segments
    ] + [Estimate("behaviour.usage.health_slope", USAGE_HEALTH_SLOPE, math.nan,
                  "convention: the unit of the health scale", 0)]
    if health is None:
        est.append(Estimate("behaviour.churn.health_slope", 0.0, math.nan,
                            "not estimable without usage", 0))
    notes.append("not in the tables, template values kept: early_life_months "
                 f"({EARLY_LIFE_MONTHS}), champion departures, the CSAT score model, CSM "
                 "hours; plays are not modelled: the rates contain the as-is plays' effect")
    frame = pd.DataFrame([e.row() for e in est],
                         columns=["path", "estimate", "std_err", "draw_sd", "method", "n"])
    frame = frame.drop_duplicates("path", keep="first").set_index("path")
    base = _scenario_data(panel, ds, frame, tier_list, retier, extra, horizon_months)
    tier_col = None if (tiers is not None and not isinstance(tiers, str)) else \
        (tiers or ("tier" if "tier" in panel.accounts.columns else None))
    return Calibration(
        data=base, estimates=frame, notes=notes, source=panel.source,
        months=(panel.month_label(0), panel.month_label(panel.n_months - 1)),
        n_customers=len(panel.ids), segment_column=panel.label_column,
        tier_column=tier_col, uncertainty=uncertainty,
        delay_days=panel.delay_days,
    )


def _scenario_data(p: Panel, ds: Dataset, est: pd.DataFrame, tier_list: list[dict[str, Any]],
                   retier: bool, extra: dict[str, Any], horizon: int) -> dict[str, Any]:
    """The baseline scenario as plain data (estimates at their paths, clipped to bounds)."""
    from cs_sim.sim.fields import locate
    from cs_sim.sim.scenario import Segment

    last = p.first_month + p.n_months - 1
    start = last + 1
    folder = _dataset_folder(ds)
    segments = []
    for name in p.segments:
        seg = Segment(name=name).model_dump(mode="json")
        seg.pop("match")
        segments.append(seg)
    pop: dict[str, Any] = {"source": "dataset", "retier_at_start": retier}
    if folder is not None:
        pop["dataset"] = folder
    if UNLABELLED in p.segments:
        pop["segment_map"] = {"": UNLABELLED}
    if not retier and len(tier_list) > 1 and _unlabelled_tiers(p, ds):
        pop["tier_map"] = {"": tier_list[-1]["name"]}
    data: dict[str, Any] = {
        "name": f"calibrated_{Path(p.source).name or 'dataset'}",
        "description": f"Baseline calibrated on {p.source} ({p.month_label(0)} .. "
                       f"{p.month_label(p.n_months - 1)}) by cs_sim.calibrate",
        "horizon_months": int(horizon),
        "start_month": f"{start // 12:04d}-{start % 12 + 1:02d}",
        "population": pop,
        "segments": segments,
        "tiers": tier_list,
        "behaviour": {"churn": {"early_life_months": EARLY_LIFE_MONTHS}},
        "acquisition": {"segment_mix": extra["segment_mix"]},
    }
    cost = other_cost(ds)
    if cost is not None:
        data["other_cost_per_month"] = round(cost, 2)
    from cs_sim.sim.scenario import Scenario

    data = Scenario.model_validate(data).model_dump(mode="json", exclude={"uncertain"})
    for path, row in est.iterrows():
        value = float(row["estimate"])
        if not math.isfinite(value):
            continue
        try:
            container, key, slot = locate(data, str(path))
        except ValueError:  # pragma: no cover (paths are built from the scenario)
            continue
        fitted = float(slot.fit(float(f"{value:.6g}")))  # 6 significant digits
        container[key] = int(fitted) if slot.kind == "int" else fitted
    for seg in data["segments"]:
        seg["match"] = []
    return data


def apply_variant(baseline: Scenario, variant: str | os.PathLike[str] | Mapping[str, Any]
                  ) -> Scenario:
    """A what-if on a calibrated baseline: the variant file's own changes applied to it.

    A what-if file (``templates/scenarios/save_play.yaml``) ``extends`` a template
    baseline and writes only what it changes. On a calibrated baseline the same
    changes apply: its keys other than ``extends`` are merged into ``baseline`` by
    :meth:`~cs_sim.sim.scenario.Scenario.with_changes` (named lists by name), and the
    variant keeps its name (the file's stem when it has none). Tiers, segments and plays
    the changes name must exist in the baseline, or be added by them.

    Parameters
    ----------
    baseline : Scenario
        E.g. :attr:`Calibration.scenario`.
    variant : path or mapping
        A what-if YAML file, or its changes as a mapping.

    Returns
    -------
    Scenario

    Raises
    ------
    cs_sim.errors.ScenarioError
        If the file cannot be read, or the changed scenario does not validate (the
        message names the file and the field).
    """
    from cs_sim._yaml import load_yaml_mapping
    from cs_sim.errors import ScenarioError

    if isinstance(variant, Mapping):
        changes = dict(variant)
        name = str(changes.get("name", "variant"))
    else:
        path = Path(variant)
        changes = load_yaml_mapping(path, what="scenario", source=path.name,
                                    error=ScenarioError)
        name = str(changes.get("name", path.stem))
    changes.pop("extends", None)
    changes["name"] = name
    return baseline.with_changes(changes)


def _unlabelled_tiers(p: Panel, ds: Dataset) -> bool:
    """Whether a customer paying in the last month has no tier label."""
    acc = ds.accounts
    if "tier" not in acc.columns:
        return False
    now = set(p.ids[p.paid[:, -1]])
    labels = acc.loc[acc["account_id"].astype(str).isin(now), "tier"]
    return bool(labels.isna().any() or (labels.astype(str) == "").any())


def scenario_with(data: dict[str, Any], est: pd.DataFrame, *, uncertainty: bool,
                  name: str | None = None) -> dict[str, Any]:
    """Scenario data with each estimate that has a standard error as a distribution."""
    import copy

    from cs_sim.sim.fields import locate

    out = copy.deepcopy(data)
    if name is not None:
        out["name"] = name
    if not uncertainty:
        return out
    for path, row in est.iterrows():
        se = float(row["draw_sd"])
        if not (math.isfinite(se) and se > 0):
            continue
        container, key, slot = locate(out, str(path))
        if slot.kind != "float":
            continue
        mean = float(container[key])
        if math.isfinite(slot.lo) and math.isfinite(slot.hi) and \
                se > (slot.hi - slot.lo):  # nothing to learn from the draw
            continue
        container[key] = {"dist": "normal", "mean": mean, "sd": se, "truncate": True}
    return out
