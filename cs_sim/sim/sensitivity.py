"""How much an answer rests on each uncertain parameter: a tornado and Sobol indices.

:func:`sensitivity` varies a scenario's uncertain parameters (those given as
distributions, :mod:`cs_sim.sim.uncertainty`, or those named in ``params``) and
measures an outcome: the mean of a metric of :data:`cs_sim.sim.results.METRICS` over
the replications (default: profit and NRR) or, with a variant, the mean paired
difference ``variant - baseline``. Every run uses the same seed and slot layout
(common random numbers), so a change of the outcome is the parameter's doing, not
noise.

**Tornado (one at a time).** Each parameter is set to its low and then its high
value, the others held at their central values (medians); a bar is the change of
the outcome from the central run. A parameter given as a distribution goes from its
5% to its 95% quantile (:data:`TORNADO_QUANTILES`); one named in ``params`` without a
distribution goes from ``value x (1 - spread)`` to ``value x (1 + spread)`` (default
+/- 20%), kept inside the field's bounds and rounded for an integer field.

**Sobol indices (variance-based).** All parameters vary together over Saltelli's
sample of the unit cube (``SALib.sample.sobol``, ``N x (D + 2)`` points for ``D``
parameters, no second-order terms); each coordinate ``u`` becomes a value by inverse
transform (a distribution over its whole range, a ``params`` parameter uniformly over
its +/- spread). Each point runs ``sobol_replications`` replications (fewer than the
tornado, to keep it quick). ``SALib.analyze.sobol`` gives each parameter's
first-order index ``S1`` (the share of the outcome's variance it explains alone) and
total index ``ST`` (alone and with others), with 95% bootstrap confidence intervals.
With a variant, a parameter varies in each scenario where it is uncertain (or, when
named in ``params``, where it exists); both scenarios run at every point.
"""

from __future__ import annotations

import json
import logging
import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cs_sim.errors import ScenarioError
from cs_sim.format import fmt, html_escaped, percent, style_frame, to_jsonable, write_files
from cs_sim.sim.fields import FieldSlot, locate
from cs_sim.sim.runners import (
    Progress,
    _as_scenario,
    compare,
    resolve_seed,
    simulate,
    starting_accounts,
)
from cs_sim.sim.uncertainty import (
    FIXED_PATHS,
    U_MAX,
    U_MIN,
    UncertainParameter,
    central_scenario,
    concrete_scenario,
    uncertain_parameters,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from cs_sim.sim.scenario import Scenario

__all__ = ["DEFAULT_METRICS", "TORNADO_QUANTILES", "SensitivityResult", "sensitivity"]

log = logging.getLogger(__name__)

#: outcomes measured when none are named
DEFAULT_METRICS = ("profit", "nrr")
#: quantiles of a distribution taken as its low and high value in the tornado
TORNADO_QUANTILES = (0.05, 0.95)


# ------------------------------------------------------------------------------ factors
@dataclass(frozen=True)
class _Spread:
    """A parameter without a distribution: uniform on ``value x (1 -/+ spread)``."""

    slot: FieldSlot
    lo: float
    hi: float
    spread: float

    def ppf(self, q: Any) -> np.ndarray:
        return self.slot.fit(self.lo + np.asarray(q, dtype=float) * (self.hi - self.lo))

    def value(self, q: float) -> float | int:
        v = float(self.ppf(q))
        return int(v) if self.slot.kind == "int" else v

    def tornado(self) -> tuple[float | int, float | int]:
        return self.value(0.0), self.value(1.0)

    def describe(self) -> str:
        return f"{_shown(self.slot.value)} +/- {percent(self.spread, digits=0)}"


@dataclass(frozen=True)
class _Dist:
    """A parameter given as a distribution (tornado at its 5% and 95% quantiles)."""

    param: UncertainParameter

    def value(self, q: float) -> float | int:
        return self.param.value(q)

    def tornado(self) -> tuple[float | int, float | int]:
        return self.value(TORNADO_QUANTILES[0]), self.value(TORNADO_QUANTILES[1])

    def describe(self) -> str:
        return self.param.dist.describe()


@dataclass(frozen=True)
class _Factor:
    """One parameter and how it varies in each scenario (None: fixed there)."""

    path: str
    ways: tuple[_Spread | _Dist | None, ...]

    @property
    def first(self) -> _Spread | _Dist:
        return next(w for w in self.ways if w is not None)


def _digits(value: Any) -> int:
    """Decimals that show about 3 significant digits of ``value`` (0 to 6)."""
    v = abs(float(value))
    if v == 0 or not math.isfinite(v):
        return 2
    return int(min(6, max(0, 2 - math.floor(math.log10(v)))))


def _shown(value: Any) -> str:
    """A parameter's value for people (through :mod:`cs_sim.format`)."""
    return fmt(value, "number", digits=_digits(value))


def _factors(
    centrals: Sequence[Scenario], sources: Sequence[Scenario], params: Sequence[str] | None,
    spread: float,
) -> list[_Factor]:
    dists = [{p.path: p for p in uncertain_parameters(sc)} for sc in sources]
    if params is None:
        paths = list(dict.fromkeys(p for d in dists for p in d))
    else:
        paths = list(dict.fromkeys(params))
    data = [sc.model_dump(mode="json") for sc in centrals]
    factors = []
    for path in paths:
        ways: list[_Spread | _Dist | None] = []
        errors = []
        for k, sc in enumerate(centrals):
            if path in dists[k]:
                ways.append(_Dist(dists[k][path]))
                continue
            try:
                slot = locate(data[k], path)[2]
            except ValueError as exc:
                ways.append(None)
                errors.append(f"{sc.name}: {exc}")
                continue
            ways.append(_spread(slot, spread, sc.name) if params is not None else None)
        if all(w is None for w in ways):
            raise ScenarioError(f"params: {path}: " + "; ".join(errors))
        factors.append(_Factor(path, tuple(ways)))
    return factors


def _spread(slot: FieldSlot, spread: float, name: str) -> _Spread:
    where = f"{name}: params: {slot.path}"
    if slot.kind is None or isinstance(slot.value, bool) \
            or not isinstance(slot.value, (int, float)):
        raise ScenarioError(f"{where}: is not a number field; name number fields only")
    if slot.path in FIXED_PATHS:
        raise ScenarioError(f"{where}: fixes the shape of a run and cannot vary")
    v = float(slot.value)
    if v == 0:
        raise ScenarioError(f"{where}: is 0, so a +/-{percent(spread, digits=0)} range is "
                            "empty: give it a distribution in the scenario file instead")
    lo, hi = sorted((v * (1 - spread), v * (1 + spread)))
    lo, hi = (float(x) for x in slot.fit([lo, hi]))
    return _Spread(slot, lo, hi, spread)


# ------------------------------------------------------------------------------ running
@dataclass
class _Runner:
    """Runs points (parameter values per scenario) on one seed and slot layout."""

    centrals: list[Scenario]
    metrics: list[str]
    seed: int
    dataset: Any
    progress: Progress | None
    layout: Any = None
    engine: str = "local"
    engine_options: Mapping[str, Any] | None = None

    def scenarios(self, factors: Sequence[_Factor], qs: Sequence[Any]) -> list[Scenario]:
        """The concrete scenarios of one point: factor ``i`` at quantile ``qs[i]`` (a
        float), at its tornado end ``qs[i] = ("end", 0 or 1)``, or central (None)."""
        out = []
        for k, central in enumerate(self.centrals):
            values = {f.path: _value(f.ways[k], q) for f, q in zip(factors, qs, strict=True)
                      if q is not None and f.ways[k] is not None}
            out.append(concrete_scenario(central, values) if values else central)
        return out

    def fit_layout(self, points: Sequence[Sequence[Scenario]]) -> None:
        """One slot layout for every run (the largest block of new logos needed)."""
        from dataclasses import replace

        from cs_sim.sim.population import default_layout

        n0 = starting_accounts(self.centrals[0], self.dataset)
        shapes = [replace(default_layout(c, starting_accounts(c, self.dataset)), per_month=0)
                  for c in self.centrals]
        if any(shape != shapes[0] for shape in shapes[1:]):
            log.warning("sensitivity: populations, horizons or warm-ups differ; random "
                        "numbers are only partly shared")
            return
        k = max(default_layout(sc, n0).per_month for point in points for sc in point)
        self.layout = replace(default_layout(self.centrals[0], n0), per_month=k)

    def outcome(self, point: Sequence[Scenario], replications: int) -> np.ndarray:
        """Mean of each metric (or of its paired difference) over the replications."""
        if len(point) == 1:
            res = simulate(point[0], replications=replications, seed=self.seed,
                           layout=self.layout, dataset=self.dataset, engine=self.engine,
                           engine_options=self.engine_options)
            values = res.per_replication[self.metrics].to_numpy(dtype=float)
        else:  # paired exactly as cs_sim.compare pairs them (warm-up, layout)
            cmp = compare(point[0], point[1], replications=replications, seed=self.seed,
                          dataset=self.dataset, layout=self.layout, engine=self.engine,
                          engine_options=self.engine_options)
            values = cmp.differences[self.metrics].to_numpy(dtype=float)
        if self.progress is not None:
            self.progress(len(point))
        with np.errstate(all="ignore"):
            return np.array([np.nanmean(col) if np.isfinite(col).any() else np.nan
                             for col in values.T])


# ------------------------------------------------------------------------------ the API
def sensitivity(
    scenario: Scenario | str | Path,
    variant: Scenario | str | Path | None = None,
    *,
    params: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    replications: int = 20,
    seed: int | None = None,
    spread: float = 0.2,
    sobol_samples: int = 32,
    sobol_replications: int = 4,
    dataset: Any = None,
    progress: Progress | None = None,
    engine: str = "local",
    engine_options: Mapping[str, Any] | None = None,
) -> SensitivityResult:
    """Tornado and Sobol indices of an outcome over the uncertain parameters.

    Parameters
    ----------
    scenario : Scenario or path
        The scenario (the baseline when ``variant`` is given).
    variant : Scenario or path, optional
        Measure ``variant - baseline`` (paired, common random numbers).
    params : sequence of str, optional
        Dotted paths of the parameters to vary (e.g. ``segments.smb.churn_intercept``);
        default: every parameter given as a distribution. Uncertain parameters not named
        stay at their central values.
    metrics : sequence of str, optional
        Metrics of :data:`cs_sim.sim.results.METRICS` (default :data:`DEFAULT_METRICS`).
    replications : int, default 20
        Replications of each tornado run.
    seed : int, optional
        Root seed (drawn from OS entropy when None; see ``result.seed``).
    spread : float, default 0.2
        Relative range of a parameter named in ``params`` without a distribution.
    sobol_samples : int, default 32
        Saltelli base sample ``N`` (a power of 2; 0 skips the Sobol indices): the Sobol
        part runs ``N x (D + 2)`` points.
    sobol_replications : int, default 4
        Replications of each Sobol point.
    dataset : cs_sim.io.Dataset, optional
        Starting customers when ``population.source`` is ``dataset``.
    progress : callable, optional
        Called after each point with the number of scenarios it ran (1, or 2 with a
        variant): ``result.settings["runs"]`` in all.
    engine : str, default "local"
        Where each run's replications run (:func:`cs_sim.simulate`): ``"processes"``
        shares them out over this machine's cores, ``"dask"`` over a cluster. The
        numbers do not depend on it.
    engine_options : mapping, optional
        Options of the engine (see :func:`cs_sim.simulate`).

    Returns
    -------
    SensitivityResult

    Raises
    ------
    cs_sim.errors.ScenarioError
        If there is no parameter to vary, a path or metric is unknown, or an argument
        is out of range.
    """
    from cs_sim.sim.results import METRICS

    scs = [_as_scenario(scenario)] + ([] if variant is None else [_as_scenario(variant)])
    chosen = list(DEFAULT_METRICS if metrics is None else dict.fromkeys(metrics))
    unknown = [m for m in chosen if m not in METRICS]
    if unknown or not chosen:
        raise ScenarioError(f"metrics: unknown metric(s) {', '.join(unknown) or '(none given)'}"
                            f" (known: {', '.join(METRICS)})")
    if not 0 < spread <= 1:
        raise ScenarioError(f"spread: must be in (0, 1], e.g. 0.2 for +/-20% (got {spread})")
    if sobol_samples < 0 or (sobol_samples & (sobol_samples - 1)) or sobol_samples == 1:
        raise ScenarioError(f"sobol_samples: must be 0 (no Sobol indices) or a power of 2 "
                            f">= 2, e.g. 32 or 64 (got {sobol_samples})")
    for name, value in (("replications", replications),
                        ("sobol_replications", sobol_replications)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ScenarioError(f"{name}: must be an integer >= 1 (got {value!r})")
    s = resolve_seed(seed)
    first = scs[0].population
    if dataset is None and first.source == "dataset" and first.dataset is not None:
        from cs_sim.io import load_dataset

        dataset = load_dataset(first.dataset)  # once, not once per run
    centrals = [central_scenario(sc) for sc in scs]
    factors = _factors(centrals, scs, params, spread)
    if not factors:
        raise ScenarioError(
            f"{scs[0].name}: no parameter to vary: give some as distributions in the "
            "scenario file (e.g. churn_intercept: {dist: normal, mean: -3.5, sd: 0.2}) or "
            "name them with params (--params)"
        )
    runner = _Runner(centrals, chosen, s, dataset, progress, engine=engine,
                     engine_options=engine_options)
    # tornado points: the central run, then each factor low and high
    d = len(factors)
    tornado_qs: list[list[Any]] = [[None] * d]
    for i in range(d):
        for end in (0, 1):
            qs: list[Any] = [None] * d
            qs[i] = ("end", end)
            tornado_qs.append(qs)
    t_points = [runner.scenarios(factors, qs) for qs in tornado_qs]
    s_points: list[list[Scenario]] = []
    sample = None
    if sobol_samples:
        from SALib.sample import sobol as sobol_sample

        sample = sobol_sample.sample(_problem(factors), sobol_samples, calc_second_order=False,
                                     scramble=True, seed=s % 2**32)
        sample = np.clip(sample, U_MIN, U_MAX)
        s_points = [runner.scenarios(factors, list(row)) for row in sample]
    runner.fit_layout([*t_points, *s_points])
    t_out = np.array([runner.outcome(p, replications) for p in t_points])
    tornado = _tornado_frame(factors, chosen, t_out)
    sobol = None
    if sample is not None:
        s_out = np.array([runner.outcome(p, sobol_replications) for p in s_points])
        sobol = _sobol_frame(factors, chosen, s_out, seed=s)
    log.info("sensitivity of %s: %d parameters, %d runs", scs[-1].name, d,
             len(scs) * (len(t_points) + len(s_points)))
    return SensitivityResult(
        scenario=scs[0].name,
        variant=None if variant is None else scs[1].name,
        seed=s,
        replications=replications,
        metrics=tuple(chosen),
        tornado=tornado,
        sobol=sobol,
        parameters=_parameter_frame(factors, [sc.name for sc in scs]),
        settings={"spread": spread, "tornado_quantiles": list(TORNADO_QUANTILES),
                  "sobol_samples": sobol_samples, "sobol_replications": sobol_replications,
                  "runs": len(scs) * (len(t_points) + len(s_points))},
    )


def _value(way: _Spread | _Dist, q: Any) -> float | int:
    """The value of a parameter at quantile ``q``, or at its tornado end ``("end", i)``."""
    if isinstance(q, tuple):
        return way.tornado()[q[1]]
    return way.value(float(q))


def _problem(factors: Sequence[_Factor]) -> dict[str, Any]:
    return {"num_vars": len(factors), "names": [f.path for f in factors],
            "bounds": [[0.0, 1.0]] * len(factors)}


def _tornado_frame(factors: Sequence[_Factor], metrics: list[str], out: np.ndarray
                   ) -> pd.DataFrame:
    rows = []
    for j, metric in enumerate(metrics):
        central = out[0, j]
        for i, f in enumerate(factors):
            low_in, high_in = f.first.tornado()
            low, high = out[1 + 2 * i, j], out[2 + 2 * i, j]
            rows.append({"metric": metric, "parameter": f.path, "low_input": low_in,
                         "high_input": high_in, "central": central, "low": low, "high": high,
                         "low_change": low - central, "high_change": high - central,
                         "swing": abs(high - low)})
    frame = pd.DataFrame(rows)
    frame = frame.sort_values(["metric", "swing"], ascending=[True, False], kind="stable")
    order = {m: k for k, m in enumerate(metrics)}
    frame = frame.sort_values("metric", key=lambda s: s.map(order), kind="stable")
    return frame.reset_index(drop=True)


def _sobol_frame(factors: Sequence[_Factor], metrics: list[str], out: np.ndarray, *,
                 seed: int) -> pd.DataFrame:
    import warnings

    from SALib.analyze import sobol as sobol_analyze

    problem = _problem(factors)
    rows = []
    for j, metric in enumerate(metrics):
        y = out[:, j]
        if not np.isfinite(y).all() or np.var(y) == 0:
            res = {k: np.full(len(factors), np.nan) for k in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                res = sobol_analyze.analyze(problem, y, calc_second_order=False,
                                            conf_level=0.95, seed=seed % 2**32,
                                            print_to_console=False)
        for i, f in enumerate(factors):
            rows.append({"metric": metric, "parameter": f.path, "S1": float(res["S1"][i]),
                         "S1_conf": float(res["S1_conf"][i]), "ST": float(res["ST"][i]),
                         "ST_conf": float(res["ST_conf"][i])})
    frame = pd.DataFrame(rows)
    frame["rank"] = frame.groupby("metric", sort=False)["ST"].rank(ascending=False,
                                                                   method="min")
    return frame


def _parameter_frame(factors: Sequence[_Factor], names: list[str]) -> pd.DataFrame:
    rows = []
    for f in factors:
        for name, way in zip(names, f.ways, strict=True):
            if way is None:
                continue
            low, high = way.tornado()
            kind = "distribution" if isinstance(way, _Dist) else "spread"
            rows.append({"parameter": f.path, "scenario": name, "kind": kind,
                         "distribution": way.describe(), "low": low,
                         "central": way.value(0.5), "high": high})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ result
@dataclass(frozen=True)
class SensitivityResult:
    """Outcome of :func:`sensitivity`: a tornado and Sobol indices per metric.

    It renders itself like the simulation results: :meth:`to_text` (what ``cs-sim
    sensitivity`` prints), :meth:`to_dict` (``--json``), :meth:`to_frame`,
    :meth:`write` (``--out``: tables, JSON, text and a tornado chart per metric) and an
    HTML table in notebooks.

    Attributes
    ----------
    scenario : str
        The scenario's name (the baseline's with a variant).
    variant : str or None
        The variant's name: the outcome is then ``variant - baseline``.
    seed, replications : int
    metrics : tuple of str
    tornado : DataFrame
        Per metric and parameter (largest swing first): ``low_input``, ``high_input``,
        ``central`` (outcome with every parameter central), ``low``, ``high``
        (outcome at the low and high input), ``low_change``, ``high_change`` (from
        central) and ``swing`` (``|high - low|``).
    sobol : DataFrame or None
        Per metric and parameter: ``S1``, ``ST`` and their 95% half-widths
        ``S1_conf``, ``ST_conf``; ``rank`` by ``ST``.
    parameters : DataFrame
        Each parameter per scenario: how it varies, its tornado low/high and centre.
    settings : dict
    """

    scenario: str
    variant: str | None
    seed: int
    replications: int
    metrics: tuple[str, ...]
    tornado: pd.DataFrame
    sobol: pd.DataFrame | None
    parameters: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The tornado (raw numbers) with the Sobol indices joined, label and unit first."""
        from cs_sim.sim.results import METRICS

        out = self.tornado.copy()
        if self.sobol is not None:
            out = out.merge(self.sobol, on=["metric", "parameter"], how="left")
        out.insert(1, "label", [METRICS[m][0] for m in out["metric"]])
        out.insert(2, "unit", [METRICS[m][1] for m in out["metric"]])
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary of raw numbers (NaN as ``None``).

        Keys ``scenario, variant, seed, replications, outcome`` (what is measured),
        ``settings``, ``parameters`` (list of rows) and ``metrics``: metric -> ``label,
        unit, central, tornado`` (rows) and ``sobol`` (rows, or None).
        """
        from cs_sim.sim.results import METRICS

        metrics = {}
        for m in self.metrics:
            t = self.tornado[self.tornado["metric"] == m].drop(columns="metric")
            s = None if self.sobol is None else \
                self.sobol[self.sobol["metric"] == m].drop(columns="metric")
            metrics[m] = {"label": METRICS[m][0], "unit": METRICS[m][1],
                          "central": t["central"].iloc[0] if len(t) else None,
                          "tornado": t.drop(columns="central").to_dict(orient="records"),
                          "sobol": None if s is None else s.to_dict(orient="records")}
        return to_jsonable({
            "scenario": self.scenario, "variant": self.variant, "seed": self.seed,
            "replications": self.replications, "outcome": self._outcome_words(),
            "settings": self.settings,
            "parameters": self.parameters.to_dict(orient="records"), "metrics": metrics,
        })

    def _outcome_words(self) -> str:
        if self.variant is None:
            return "mean over the replications"
        return "mean paired difference, variant - baseline, on common random numbers"

    def _heading(self) -> list[str]:
        what = (f'scenario "{self.scenario}"' if self.variant is None else
                f'"{self.variant}" - "{self.scenario}" (variant - baseline, paired)')
        lo, hi = (percent(q, digits=0) for q in TORNADO_QUANTILES)
        lines = [
            f"Sensitivity of {what}: {len(self.parameters['parameter'].unique())} "
            f"parameters, {self.replications} replications per run, seed {self.seed}, "
            f"{self.settings.get('runs', 0)} runs on common random numbers.",
            f"Tornado: each parameter at its low and its high value (a distribution's {lo} "
            f"and {hi} quantiles; a named parameter without one at "
            f"-/+{percent(self.settings.get('spread', 0.2), digits=0)}), the others "
            "central; 'at low'/'at high': change of the outcome from the central run.",
        ]
        if self.sobol is not None:
            lines.append(
                f"Sobol: share of the outcome's variance a parameter explains alone (first "
                f"order) and with its interactions (total), +/- the 95% confidence "
                f"half-width; {self.settings.get('sobol_samples')} x (parameters + 2) "
                f"points of {self.settings.get('sobol_replications')} replications."
            )
        return lines

    def _metric_table(self, metric: str) -> tuple[str, pd.DataFrame]:
        from cs_sim.sim.results import METRICS

        label, unit = METRICS[metric]
        t = self.tornado[self.tornado["metric"] == metric]
        central = t["central"].iloc[0]
        diff = self.variant is not None
        title = (f"{label}{', difference' if diff else ''}: central "
                 f"{fmt(central, unit, diff=diff, digits=2 if diff and unit == 'pct' else None)}")
        cols: dict[str, list[str]] = {
            "range (low .. high)": [f"{_shown(a)} .. {_shown(b)}"
                                    for a, b in zip(t["low_input"], t["high_input"],
                                                    strict=True)],
            "at low": [_change(v, unit) for v in t["low_change"]],
            "at high": [_change(v, unit) for v in t["high_change"]],
        }
        if self.sobol is not None:
            s = self.sobol[self.sobol["metric"] == metric].set_index("parameter")
            s = s.reindex(t["parameter"])
            cols["Sobol first order"] = [_index(v, c) for v, c in zip(s["S1"], s["S1_conf"],
                                                                      strict=True)]
            cols["Sobol total"] = [_index(v, c) for v, c in zip(s["ST"], s["ST_conf"],
                                                                strict=True)]
        table = pd.DataFrame(cols, index=t["parameter"].to_list())
        table.columns.name = "parameter"
        return title, table

    def to_text(self) -> str:
        """The result as plain text: a heading, then one table per metric."""
        parts = [textwrap.fill(line, width=96) for line in self._heading()]
        for metric in self.metrics:
            title, table = self._metric_table(metric)
            rows = [line.rstrip() for line in table.to_string().splitlines()]
            parts += ["", title, *rows]
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        from html import escape  # scenario and parameter names are the user's

        html = [f"<p>{escape(' '.join(self._heading()))}</p>"]
        for metric in self.metrics:
            title, table = self._metric_table(metric)
            html.append(style_frame(html_escaped(table), caption=escape(title)).to_html())
        return "\n".join(html)

    def plot(self, metric: str | None = None, *, ax: Axes | None = None) -> Axes:
        """The tornado chart of ``metric`` (default: the first) on ``ax``."""
        from cs_sim.plotting import plot_tornado
        from cs_sim.sim.results import METRICS

        metric = metric or self.metrics[0]
        label, unit = METRICS[metric]
        frame = self.tornado[self.tornado["metric"] == metric]
        diff = self.variant is not None
        central = fmt(frame["central"].iloc[0], unit, diff=diff,
                      digits=2 if diff and unit == "pct" else None)
        title = (f"{label}: {self.variant} - {self.scenario}, central {central}" if diff
                 else f"{label}: {self.scenario}, central {central}")
        return plot_tornado(frame, unit=unit, title=title, ax=ax)

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write ``sensitivity.json``, ``sensitivity.txt``, ``tornado.csv``, ``sobol.csv``,
        ``parameters.csv`` and ``tornado_<metric>.png`` / ``.svg`` into ``out_dir``.

        Returns
        -------
        list of pathlib.Path
            The files written.
        """
        from matplotlib.figure import Figure

        files = {
            "sensitivity.json": json.dumps(self.to_dict(), indent=2) + "\n",
            "sensitivity.txt": self.to_text() + "\n",
            "tornado.csv": self.tornado.to_csv(index=False),
            "parameters.csv": self.parameters.to_csv(index=False),
        }
        if self.sobol is not None:
            files["sobol.csv"] = self.sobol.to_csv(index=False)
        written = write_files(out_dir, files)
        n = len(self.parameters["parameter"].unique())
        for metric in self.metrics:
            fig = Figure(figsize=(9, 1.6 + 0.45 * n), layout="constrained")
            self.plot(metric, ax=fig.add_subplot())
            for ext in ("png", "svg"):
                path = Path(out_dir) / f"tornado_{metric}.{ext}"
                fig.savefig(path, dpi=150)
                written.append(path)
        return written


def _change(value: Any, unit: str) -> str:
    return fmt(value, unit, diff=True, digits=2 if unit == "pct" else None)


def _index(value: float, conf: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    return f"{fmt(value, 'ratio')} +/- {fmt(conf, 'ratio')}"

