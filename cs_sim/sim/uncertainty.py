"""Parameters given as distributions: parsing, checking and drawing them.

Any numeric field of a scenario may be given as a distribution instead of a number,
in YAML a mapping with a ``dist`` key::

    segments:
      - name: smb
        churn_intercept: {dist: normal, mean: -3.5, sd: 0.2}
    plays:
      - name: save_call
        effect:
          hazard_multiplier: {dist: triangular, low: 0.4, mode: 0.7, high: 0.9}

==============  =========================================  ======================
``dist``        parameters                                 values drawn
==============  =========================================  ======================
``normal``      ``mean``, ``sd`` (> 0)                     any number
``lognormal``   ``median`` (> 0), ``sigma`` (> 0):         positive
                ``log X ~ Normal(log median, sigma)``
``beta``        ``a``, ``b`` (> 0); ``low``, ``high``      ``[low, high]``
                (default 0, 1): ``low + (high - low) B``
``uniform``     ``low`` < ``high``                         ``[low, high]``
``triangular``  ``low`` <= ``mode`` <= ``high``,           ``[low, high]``
                ``low`` < ``high``
==============  =========================================  ======================

**Paths.** A parameter is named by its dotted path, items of named lists (segments,
tiers, plays, retention changes) by their name and other list items by index:
``segments.smb.churn_intercept``, ``plays.qbr.effect.hazard_multiplier``,
``tiers.high_touch.rule[0].value``, ``onboarding.hours.high_touch``.

**Central value.** The scenario's field holds the distribution's *median* (its value
at quantile 0.5, after truncation and rounding); a run without draws (the central
case of a sensitivity analysis) uses it.

**Bounds.** Each field has its bounds (a probability 0..1, a multiplier > 0). A
distribution that can draw outside them is rejected with a message, unless it says
``truncate: true``: it is then truncated to the field's bounds (draws renormalised
inside them; clipping would pile probability on the bound). An integer field (e.g. a
team's ``headcount``) takes the draw rounded to the nearest integer. The fields that
fix the shape of a run (:data:`FIXED_PATHS`) take numbers only. The scenario must stay
valid at the most extreme value each parameter can draw (checked with the other
parameters at their central values), so a draw never fails validation on its own.

**Draws.** Replication ``r`` of seed ``s`` draws each parameter once, by inverse
transform: ``value = quantile(u)`` with ``u`` the parameter's own uniform
(:func:`cs_sim.sim.rng.param_uniform`, a stream keyed by the *path*). Baseline and
variant therefore draw the same value for a shared parameter with the same
distribution, and values of the same rank for different distributions (common random
numbers); adding or removing a parameter leaves the others' draws unchanged.
"""

from __future__ import annotations

import copy
import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from cs_sim.sim.fields import FieldSlot, locate, set_path
from cs_sim.sim.fields import show_number as _show
from cs_sim.sim.rng import param_stream_key, param_uniform

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from cs_sim.sim.scenario import Scenario

__all__ = [
    "DISTRIBUTIONS",
    "FIXED_PATHS",
    "LAYOUT_PATHS",
    "U_MAX",
    "U_MIN",
    "Distribution",
    "UncertainParameter",
    "central_scenario",
    "check_uncertain",
    "concrete_scenario",
    "draw_scenario",
    "draw_values",
    "extract_distributions",
    "layout_scenario",
    "parameter_draws",
    "parse_distribution",
    "scenario_data",
    "uncertain_parameters",
]

#: distribution -> its parameters (``beta``'s ``low``/``high`` are optional)
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "normal": ("mean", "sd"),
    "lognormal": ("median", "sigma"),
    "beta": ("a", "b", "low", "high"),
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
}
_DEFAULTS: dict[str, dict[str, float]] = {"beta": {"low": 0.0, "high": 1.0}}
_EXAMPLES = {
    "normal": "{dist: normal, mean: -3.5, sd: 0.2}",
    "lognormal": "{dist: lognormal, median: 40, sigma: 0.3}",
    "beta": "{dist: beta, a: 8, b: 2}",
    "uniform": "{dist: uniform, low: 0.5, high: 0.9}",
    "triangular": "{dist: triangular, low: 0.4, mode: 0.7, high: 0.9}",
}
#: fields that fix the shape of a run: numbers only
FIXED_PATHS = ("horizon_months", "warmup_months", "population.n_accounts",
               "acquisition.max_per_month")
#: fields the slot layout depends on (taken at their highest draw for the layout)
LAYOUT_PATHS = ("acquisition.new_logos_per_month", "loyalty.referral_rate")
#: the smallest and largest uniform a draw uses (:func:`cs_sim.sim.rng.param_uniform`)
U_MIN = 2.0**-53
U_MAX = 1.0 - 2.0**-53


# ------------------------------------------------------------------------ distributions
def _problem(kind: str, params: Mapping[str, float]) -> str | None:
    """What is wrong with the parameters of a ``kind`` distribution (None: nothing)."""
    p = {**_DEFAULTS.get(kind, {}), **params}
    missing = [n for n in DISTRIBUTIONS[kind] if n not in p]
    if missing:
        return (f"a {kind} distribution needs {', '.join(repr(m) for m in missing)}, "
                f"e.g. {_EXAMPLES[kind]}")
    checks: list[tuple[bool, str]] = []
    if kind == "normal":
        checks = [(p["sd"] > 0, f"sd must be > 0 (got {_show(p['sd'])})")]
    elif kind == "lognormal":
        checks = [(p["median"] > 0, f"median must be > 0 (got {_show(p['median'])})"),
                  (p["sigma"] > 0, f"sigma must be > 0 (got {_show(p['sigma'])})")]
    elif kind == "beta":
        checks = [(p["a"] > 0, f"a must be > 0 (got {_show(p['a'])})"),
                  (p["b"] > 0, f"b must be > 0 (got {_show(p['b'])})")]
    if kind in ("beta", "uniform", "triangular"):
        checks.append((p["low"] < p["high"], f"low must be < high (got low {_show(p['low'])}, "
                                              f"high {_show(p['high'])})"))
    if kind == "triangular":
        checks.append((p["low"] <= p["mode"] <= p["high"],
                       f"mode must lie in [low, high] (got {_show(p['mode'])} outside "
                       f"[{_show(p['low'])}, {_show(p['high'])}])"))
    bad = [msg for ok, msg in checks if not ok]
    if bad:
        return "; ".join(bad) + f", e.g. {_EXAMPLES[kind]}"
    return None


class Distribution(BaseModel):
    """One parameter's distribution (see the module's table).

    Build one with :func:`parse_distribution` (from YAML data, with clear messages) or
    directly, e.g. ``Distribution(dist="normal", mean=-3.5, sd=0.2)``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    dist: Literal["normal", "lognormal", "beta", "uniform", "triangular"]
    mean: float | None = None
    sd: float | None = None
    median: float | None = None
    sigma: float | None = None
    a: float | None = None
    b: float | None = None
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    truncate: bool = False

    @model_validator(mode="after")
    def _check(self) -> Distribution:
        given = self._given()
        extra = sorted(set(given) - set(DISTRIBUTIONS[self.dist]))
        if extra:
            raise ValueError(f"a {self.dist} distribution takes "
                             f"{', '.join(DISTRIBUTIONS[self.dist])}, not {', '.join(extra)}")
        problem = _problem(self.dist, given)
        if problem:
            raise ValueError(problem)
        return self

    def _given(self) -> dict[str, float]:
        names = ("mean", "sd", "median", "sigma", "a", "b", "low", "high", "mode")
        return {n: float(getattr(self, n)) for n in names if getattr(self, n) is not None}

    @property
    def params(self) -> dict[str, float]:
        """The parameters, defaults filled in (e.g. a beta's ``low`` 0 and ``high`` 1)."""
        return {**_DEFAULTS.get(self.dist, {}), **self._given()}

    def spec(self) -> dict[str, Any]:
        """The YAML mapping of this distribution (what :func:`parse_distribution` reads)."""
        out: dict[str, Any] = {"dist": self.dist, **self._given()}
        if self.truncate:
            out["truncate"] = True
        return out

    def describe(self) -> str:
        """A short text, e.g. ``normal(mean -3.5, sd 0.2)``."""
        inner = ", ".join(f"{k} {_show(v)}" for k, v in self.params.items())
        return f"{self.dist}({inner}{', truncated' if self.truncate else ''})"

    def frozen(self) -> Any:
        """The equivalent frozen ``scipy.stats`` distribution (not truncated)."""
        from scipy import stats

        p = self.params
        if self.dist == "normal":
            return stats.norm(loc=p["mean"], scale=p["sd"])
        if self.dist == "lognormal":
            return stats.lognorm(s=p["sigma"], scale=p["median"])
        width = p["high"] - p["low"]
        if self.dist == "beta":
            return stats.beta(p["a"], p["b"], loc=p["low"], scale=width)
        if self.dist == "uniform":
            return stats.uniform(loc=p["low"], scale=width)
        return stats.triang((p["mode"] - p["low"]) / width, loc=p["low"], scale=width)

    def support(self) -> tuple[float, float]:
        """The smallest and largest values the (untruncated) distribution can take."""
        if self.dist == "normal":
            return -math.inf, math.inf
        if self.dist == "lognormal":
            return 0.0, math.inf
        p = self.params
        return p["low"], p["high"]


def parse_distribution(spec: Mapping[str, Any], *, where: str) -> Distribution:
    """Read a ``{dist: ..., ...}`` mapping, with a clear message for every mistake.

    Parameters
    ----------
    spec : mapping
        As written in the scenario file.
    where : str
        The parameter's dotted path (the start of every message).

    Returns
    -------
    Distribution

    Raises
    ------
    ValueError
        ``where: problem, fix``: an unknown distribution or key (with a did-you-mean),
        a missing or non-numeric parameter, or an impossible value (``sd <= 0``,
        ``low >= high``, ...).
    """
    kind = spec.get("dist")
    if not isinstance(kind, str) or kind not in DISTRIBUTIONS:
        close = difflib.get_close_matches(str(kind), list(DISTRIBUTIONS), n=1, cutoff=0.5)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ValueError(f"{where}: unknown distribution {kind!r}{hint} (known: "
                         f"{', '.join(DISTRIBUTIONS)})")
    allowed = (*DISTRIBUTIONS[kind], "truncate")
    for key in spec:
        if key == "dist" or key in allowed:
            continue
        close = difflib.get_close_matches(str(key), list(allowed), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ValueError(f"{where}: unknown key {key!r} for a {kind} distribution{hint} "
                         f"(it takes {', '.join(allowed)}, e.g. {_EXAMPLES[kind]})")
    params: dict[str, float] = {}
    for key in DISTRIBUTIONS[kind]:
        if key not in spec:
            continue
        value = spec[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            raise ValueError(f"{where}: {kind} parameter {key!r} must be a finite number "
                             f"(got {value!r}), e.g. {_EXAMPLES[kind]}")
        params[key] = float(value)
    truncate = spec.get("truncate", False)
    if not isinstance(truncate, bool):
        raise ValueError(f"{where}: truncate must be true or false (got {truncate!r})")
    problem = _problem(kind, params)
    if problem:
        raise ValueError(f"{where}: {problem}")
    return Distribution(dist=kind, truncate=truncate, **params)  # type: ignore[arg-type]


def _is_spec(value: Any) -> bool:
    return isinstance(value, dict) and "dist" in value


def _find_specs(node: Any, path: str, out: list[tuple[Any, Any, str]]) -> None:
    """Append ``(container, key, path)`` of every ``{dist: ...}`` mapping under ``node``
    (items of named lists by name, others by index)."""
    items: Iterable[tuple[Any, Any, str]] = ()
    if isinstance(node, dict):
        items = ((k, v, f"{path}.{k}" if path else str(k)) for k, v in node.items())
    elif isinstance(node, list):
        named = all(isinstance(v, dict) and "name" in v for v in node)
        items = ((i, v, f"{path}.{v['name']}" if named else f"{path}[{i}]")
                 for i, v in enumerate(node))
    for key, value, here in items:
        if _is_spec(value):
            out.append((node, key, here))
        else:
            _find_specs(value, here, out)


# ----------------------------------------------------------------- uncertain parameters
@dataclass(frozen=True)
class UncertainParameter:
    """A scenario field given as a distribution, with the field's bounds."""

    path: str
    dist: Distribution
    slot: FieldSlot

    def _cdf_range(self) -> tuple[float, float]:
        if not self.dist.truncate:
            return 0.0, 1.0
        rv = self.dist.frozen()
        return float(rv.cdf(self.slot.lo)), float(rv.cdf(self.slot.hi))

    def ppf(self, q: Any) -> np.ndarray:
        """The values at quantiles ``q`` (truncated to the bounds if asked; rounded)."""
        a, b = self._cdf_range()
        q = np.asarray(q, dtype=float)
        return self.slot.fit(self.dist.frozen().ppf(a + q * (b - a)))

    def value(self, q: float) -> float | int:
        """The value at quantile ``q`` as a Python number (an int for an integer field)."""
        v = float(self.ppf(q))
        return int(v) if self.slot.kind == "int" else v

    def central(self) -> float | int:
        """The median: the value the scenario's field holds."""
        return self.value(0.5)

    def problem(self) -> str | None:
        """What makes this distribution unusable for its field (None: nothing)."""
        s, d = self.slot, self.dist
        if s.kind is None:
            return f"{self.path}: is not a number field; only numbers can take a distribution"
        if self.path in FIXED_PATHS:
            return (f"{self.path}: fixes the shape of a run ({', '.join(FIXED_PATHS)}) and "
                    "takes a number, not a distribution")
        lo, hi = d.support()
        if d.truncate:
            a, b = self._cdf_range()
            if not b - a > 1e-12:
                return (f"{self.path}: {d.describe()} has no probability inside the field's "
                        f"bounds {s.bounds_text()}: move it inside them")
        elif lo < s.lo or hi > s.hi:
            return (f"{self.path}: {d.describe()} can draw values outside the field's bounds "
                    f"{s.bounds_text()}: choose one inside them (beta, uniform or triangular "
                    f"with low/high in {s.bounds_text()}) or add 'truncate: true' to draw "
                    "only inside them")
        return None


def extract_distributions(
    data: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Distribution]]:
    """Replace every ``{dist: ...}`` mapping of scenario data by its central value.

    Parameters
    ----------
    data : mapping
        The merged scenario data (YAML after ``extends``), not yet validated.

    Returns
    -------
    (dict, dict)
        A copy of ``data`` with each distribution replaced by its median, and the
        distributions by dotted path (``Scenario.uncertain``).

    Raises
    ------
    ValueError
        ``path: problem, fix`` for a bad distribution, one given to a field that is not
        a number or that fixes the shape of a run, or one that can draw outside the
        field's bounds without ``truncate: true``.
    """
    out = copy.deepcopy(dict(data))
    specs: list[tuple[Any, Any, str]] = []
    _find_specs(out, "", specs)
    found: dict[str, Distribution] = {}
    for container, key, path in specs:
        dist = parse_distribution(container[key], where=path)
        try:
            slot = locate(out, path)[2]
        except ValueError:  # a misspelt or misplaced key: validation names it
            container[key] = float(dist.frozen().median())
            continue
        param = UncertainParameter(path, dist, slot)
        problem = param.problem()
        if problem:
            raise ValueError(problem)
        container[key] = param.central()
        found[path] = dist
    return out, found


def uncertain_parameters(scenario: Scenario) -> list[UncertainParameter]:
    """The scenario's uncertain parameters with their fields, in the order given."""
    data = scenario.model_dump(mode="json")
    return [UncertainParameter(p, d, locate(data, p)[2]) for p, d in scenario.uncertain.items()]


def check_uncertain(scenario: Scenario) -> None:
    """Check every uncertain parameter of a scenario (called when it is validated).

    Each path must name a number field, each distribution must fit the field's bounds
    (see the module docstring), and the scenario must be valid at each parameter's
    most extreme possible draws (the quantiles :data:`U_MIN` and :data:`U_MAX`), the
    others at their central values.

    Raises
    ------
    ValueError
        ``path: problem, fix`` for the first problem found.
    """
    from cs_sim.sim.scenario import Scenario

    data = scenario.model_dump(mode="json")
    keys: dict[int, str] = {}
    for path, dist in scenario.uncertain.items():
        try:
            slot = locate(data, path)[2]
        except ValueError as exc:
            raise ValueError(f"uncertain: {path}: {exc}") from None
        param = UncertainParameter(path, dist, slot)
        problem = param.problem()
        if problem:
            raise ValueError(problem)
        key = param_stream_key(path)
        if key in keys:
            raise ValueError(f"{path}: shares a random stream with {keys[key]} (a CRC-32 "
                             "collision): rename one of their items")
        keys[key] = path
        for u in (U_MIN, U_MAX):
            value = param.value(u)
            trial = copy.deepcopy(data)
            set_path(trial, path, value)
            try:
                Scenario.model_validate(trial)
            except ValidationError as exc:
                from cs_sim.sim.scenario_io import _format_error

                why = _format_error(exc.errors(include_url=False)[0])
                raise ValueError(
                    f"{path}: {dist.describe()} can draw {_show(float(value))}, where the "
                    f"scenario is not valid ({why}); narrow the distribution to valid values"
                ) from None


def scenario_data(scenario: Scenario) -> dict[str, Any]:
    """The scenario as plain data with each distribution back in place of its number.

    ``Scenario.with_changes`` merges changes over this, so a variant keeps the
    distributions it does not change (a number given at a path replaces its
    distribution).
    """
    data = scenario.model_dump(mode="json")
    for path, dist in scenario.uncertain.items():
        set_path(data, path, dist.spec())
    return data


def concrete_scenario(scenario: Scenario, values: Mapping[str, Any]) -> Scenario:
    """The scenario with no distributions: ``values`` at their paths, the rest central.

    Parameters
    ----------
    scenario : Scenario
    values : mapping of path to number
        E.g. one replication's draws (:func:`draw_values`); any number field may be set.

    Returns
    -------
    Scenario
        Validated, with ``uncertain`` empty.
    """
    from cs_sim.errors import ScenarioError
    from cs_sim.sim.scenario import Scenario

    data = scenario.model_dump(mode="json")
    for path, value in values.items():
        try:
            set_path(data, path, value)
        except ValueError as exc:
            raise ScenarioError(f"{scenario.name}: {path}: {exc}") from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        from cs_sim.sim.scenario_io import _scenario_error

        shown = ", ".join(f"{p} = {_show(float(v))}" for p, v in values.items())
        raise ScenarioError(f"{scenario.name} with {shown}:\n"
                            f"{_scenario_error(exc, scenario.name)}") from None


def draw_values(scenario: Scenario, seed: int, rep: int) -> dict[str, float | int]:
    """The values replication ``rep`` of ``seed`` draws for the uncertain parameters."""
    return {p.path: p.value(param_uniform(seed, rep, p.path))
            for p in uncertain_parameters(scenario)}


def draw_scenario(scenario: Scenario, seed: int, rep: int) -> Scenario:
    """The concrete scenario that replication ``rep`` of ``seed`` runs."""
    return concrete_scenario(scenario, draw_values(scenario, seed, rep))


def central_scenario(scenario: Scenario) -> Scenario:
    """The scenario with every uncertain parameter at its central value (the median)."""
    if not scenario.uncertain:
        return scenario
    return concrete_scenario(scenario, {p.path: p.central()
                                        for p in uncertain_parameters(scenario)})


def layout_scenario(scenario: Scenario) -> Scenario:
    """The scenario whose slot layout fits every draw (:data:`LAYOUT_PATHS` at their
    highest possible draw, the rest central); the scenario itself when nothing is uncertain.
    """
    if not scenario.uncertain:
        return scenario
    params = uncertain_parameters(scenario)
    return concrete_scenario(scenario, {
        p.path: p.value(U_MAX if p.path in LAYOUT_PATHS else 0.5) for p in params
    })


def parameter_draws(scenario: Scenario, seed: int, replications: Iterable[int]) -> pd.DataFrame:
    """The values each replication draws: one row per replication, one column per path.

    Parameters
    ----------
    scenario : Scenario
    seed : int
    replications : iterable of int

    Returns
    -------
    DataFrame
        ``replication`` and one column per uncertain parameter (none when the scenario
        has no distributions).
    """
    import pandas as pd

    reps = [int(r) for r in replications]
    params = uncertain_parameters(scenario)
    frame = pd.DataFrame({"replication": np.asarray(reps, dtype=np.int64)})
    for p in params:
        u = np.array([param_uniform(seed, r, p.path) for r in reps], dtype=float)
        values = p.ppf(u) if reps else np.array([], dtype=float)
        frame[p.path] = values.astype(np.int64) if p.slot.kind == "int" else values
    return frame
