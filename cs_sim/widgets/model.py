"""The what-if panel's model: controls, the variant they make, results, saving.

Nothing here knows about widgets: :class:`PanelModel` holds the values of the panel's
controls and turns them into a variant :class:`~cs_sim.sim.scenario.Scenario` with
:meth:`~cs_sim.sim.scenario.Scenario.with_changes`; :mod:`cs_sim.widgets.view` draws
the controls and results, and :mod:`cs_sim.widgets.runner` runs the comparisons off the
UI thread.

Controls
--------
Each control has a key (:class:`Control`); :func:`panel_controls` lists those a
scenario offers and :func:`control_values` reads their values from it:

==============================  =========================================================
``horizon_months``              months reported (baseline and variant alike)
``replications``                replications of each run (not part of a scenario)
``tier.<T>.headcount``          CSMs of tier T at the start of the horizon
``tier.<T>.cost``               fully loaded cost of one of them a month
``tier.<T>.threshold``          the ARR cut-off of T's rule (a tier whose rule tests
                                ``arr >=`` or ``arr >``; the last tier has none)
``play.<P>.on``                 play P runs (off: the variant removes it)
``play.<P>.effect``             P's churn-hazard multiplier (0.8: 20% less churn risk)
``play.<P>.range``              +/- around the effect: uncertainty, drawn once per
                                replication from ``uniform(effect - r, effect + r)``
``onboarding.<T>``              CSM hours of onboarding in tier T (0: automated)
``retention.<target>``          change of a churn or expansion rate, e.g. -0.2 lowers
                                it by 20% (a retention change ``panel_<target>``)
==============================  =========================================================

The panel starts from a scenario (the baseline, or one picked: a template, a variant
or the user's own file); the variant is that scenario with every control that differs
from its value there (:meth:`PanelModel.changes`).

Results and staleness
---------------------
:meth:`PanelModel.request` numbers each request (a generation counter) and returns a
:class:`Job`; :meth:`PanelModel.accept` takes a finished job's result only while it is
the newest request, so a result that a later change has made stale is discarded and
never drawn over a newer one.

Saving
------
:meth:`PanelModel.save` writes the variant as a YAML file that ``extends`` the
baseline's file and gives only what differs (:func:`scenario_changes`, the inverse of
the ``extends`` merge), loads it back with :func:`cs_sim.load_scenario` and keeps it
only when it loads as the variant.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from cs_sim.errors import ScenarioError
from cs_sim.sim.scenario import Scenario
from cs_sim.sim.scenario_io import load_scenario
from cs_sim.widgets.changes import same_scenario, scenario_changes

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.sim.results import ComparisonResult

__all__ = [
    "RETENTION_TARGETS",
    "Control",
    "Job",
    "PanelModel",
    "control_values",
    "panel_controls",
    "scenario_files",
]

log = logging.getLogger(__name__)

#: retention-change targets the panel offers, with their labels
RETENTION_TARGETS: dict[str, str] = {
    "early_life_churn": "Early-life churn",
    "voluntary_churn": "Voluntary churn",
    "involuntary_churn": "Involuntary churn",
    "expansion": "Expansion",
    "contraction": "Contraction",
}
#: the name of the retention change a ``retention.<target>`` control writes
RETENTION_PREFIX = "panel_"
#: the smallest hazard multiplier an uncertainty range may reach (the field is > 0)
MIN_MULTIPLIER = 0.01

Kind = Literal["int", "float", "bool"]


@dataclass(frozen=True)
class Control:
    """One control of the panel: what it sets and how it may move.

    Attributes
    ----------
    key : str
        What it sets (see the module docstring), e.g. ``"tier.high_touch.headcount"``.
    label : str
        Its label for people.
    kind : {"int", "float", "bool"}
    group : str
        The section it is shown in: ``Run``, ``Teams``, ``Tiers``, ``Plays``,
        ``Onboarding`` or ``Retention``.
    low, high, step : float
        Its range and step (not for ``bool``).
    unit : str
        How its value is shown (a unit of :mod:`cs_sim.format`).
    """

    key: str
    label: str
    kind: Kind
    group: str
    low: float = 0.0
    high: float = 1.0
    step: float = 1.0
    unit: str = "number"


# ------------------------------------------------------------------ reading a scenario
def _arr_cutoff(rule: Sequence[Any]) -> int | None:
    """Index of the condition ``arr >= x`` (or ``>``) of a tier rule, if there is one."""
    for i, c in enumerate(rule):
        if c.attribute == "arr" and c.op in (">=", ">") and isinstance(c.value, (int, float)):
            return i
    return None


def _range_of(dist: Any) -> float:
    """The +/- of an effect given as a distribution: half its support or 90% interval."""
    lo, hi = dist.support()
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = (float(x) for x in dist.frozen().ppf([0.05, 0.95]))
    return round((hi - lo) / 2.0, 4)


def _span(value: float, floor: float, factor: float = 2.0) -> float:
    return float(max(floor, math.ceil(value * factor)))


def panel_controls(scenario: Scenario) -> list[Control]:
    """The controls the panel offers for ``scenario`` (its tiers, plays, onboarding).

    Parameters
    ----------
    scenario : Scenario

    Returns
    -------
    list of Control
        In display order: run, teams, tiers, plays, onboarding, retention.
    """
    out = [
        Control("horizon_months", "Horizon (months)", "int", "Run", 1,
                _span(scenario.horizon_months, 60), 1, "months"),
        Control("replications", "Replications", "int", "Run", 2, 200, 1, "count"),
    ]
    for t in scenario.tiers:
        out.append(Control(f"tier.{t.name}.headcount", f"{t.name}: CSMs", "int", "Teams", 0,
                           _span(t.team.headcount, 20, 3), 1, "count"))
        out.append(Control(f"tier.{t.name}.cost", f"{t.name}: monthly cost per CSM", "float",
                           "Teams", 0, _span(t.team.cost_per_month, 30000), 500, "money"))
    for t in scenario.tiers[:-1]:
        i = _arr_cutoff(t.rule)
        if i is not None:
            value = float(t.rule[i].value)  # type: ignore[arg-type]
            out.append(Control(f"tier.{t.name}.threshold", f"{t.name}: from ARR", "float",
                               "Tiers", 0, _span(value, 50000, 3), 1000, "money"))
    for p in scenario.plays:
        out += [
            Control(f"play.{p.name}.on", f"{p.name}", "bool", "Plays"),
            Control(f"play.{p.name}.effect", f"{p.name}: churn-risk factor", "float",
                    "Plays", 0.1, max(1.5, p.effect.hazard_multiplier), 0.05, "ratio"),
            Control(f"play.{p.name}.range", f"{p.name}: uncertainty +/-", "float", "Plays",
                    0.0, 0.5, 0.05, "ratio"),
        ]
    hours = scenario.onboarding.hours if scenario.onboarding is not None else {}
    for t in scenario.tiers:
        out.append(Control(f"onboarding.{t.name}", f"{t.name}: onboarding hours", "float",
                           "Onboarding", 0, _span(hours.get(t.name, 0.0), 40), 1, "number"))
    for target, label in RETENTION_TARGETS.items():
        out.append(Control(f"retention.{target}", f"{label}: change", "float", "Retention",
                           -0.5, 0.5, 0.05, "pct"))
    return out


def control_values(scenario: Scenario, *, replications: int = 20) -> dict[str, Any]:
    """The value of each of :func:`panel_controls`'s controls in ``scenario``.

    Parameters
    ----------
    scenario : Scenario
    replications : int, default 20
        The value of the ``replications`` control (not part of a scenario).

    Returns
    -------
    dict
        Control key -> value (a play's effect given as a distribution shows its median
        and its range, see :func:`_range_of`).
    """
    values: dict[str, Any] = {"horizon_months": scenario.horizon_months,
                              "replications": int(replications)}
    for t in scenario.tiers:
        values[f"tier.{t.name}.headcount"] = t.team.headcount
        values[f"tier.{t.name}.cost"] = float(t.team.cost_per_month)
    for t in scenario.tiers[:-1]:
        i = _arr_cutoff(t.rule)
        if i is not None:
            values[f"tier.{t.name}.threshold"] = float(t.rule[i].value)  # type: ignore[arg-type]
    for p in scenario.plays:
        dist = scenario.uncertain.get(f"plays.{p.name}.effect.hazard_multiplier")
        values[f"play.{p.name}.on"] = True
        values[f"play.{p.name}.effect"] = float(p.effect.hazard_multiplier)
        values[f"play.{p.name}.range"] = 0.0 if dist is None else _range_of(dist)
    hours = scenario.onboarding.hours if scenario.onboarding is not None else {}
    for t in scenario.tiers:
        values[f"onboarding.{t.name}"] = float(hours.get(t.name, 0.0))
    changes = {rc.name: rc for rc in scenario.retention_changes}
    for target in RETENTION_TARGETS:
        rc = changes.get(RETENTION_PREFIX + target)
        values[f"retention.{target}"] = 0.0 if rc is None else round(rc.multiplier - 1.0, 6)
    return values


# ------------------------------------------------------------------ building changes
def _effect(value: float, spread: float) -> float | dict[str, Any]:
    """A play's hazard multiplier: a number, or a uniform distribution around it."""
    if spread <= 0:
        return float(value)
    return {"dist": "uniform", "low": max(MIN_MULTIPLIER, float(value) - float(spread)),
            "high": float(value) + float(spread)}


def _changes(start: Scenario, values: Mapping[str, Any],
             start_values: Mapping[str, Any]) -> dict[str, Any]:
    """The ``with_changes`` mapping of the controls whose value differs from ``start``'s."""
    differ = {k for k, v in values.items() if k in start_values and start_values[k] != v}
    top: dict[str, Any] = {}
    tiers: dict[str, dict[str, Any]] = {}
    plays: dict[str, dict[str, Any]] = {}
    retention: list[dict[str, Any]] = []
    if "horizon_months" in differ:
        top["horizon_months"] = int(values["horizon_months"])
    for t in start.tiers:
        team: dict[str, Any] = {}
        if f"tier.{t.name}.headcount" in differ:
            team["headcount"] = int(values[f"tier.{t.name}.headcount"])
        if f"tier.{t.name}.cost" in differ:
            team["cost_per_month"] = float(values[f"tier.{t.name}.cost"])
        if team:
            tiers.setdefault(t.name, {})["team"] = team
        if f"tier.{t.name}.threshold" in differ:
            i = _arr_cutoff(t.rule)
            rule = [c.model_dump(mode="json") for c in t.rule]  # a rule is replaced whole
            assert i is not None
            rule[i]["value"] = float(values[f"tier.{t.name}.threshold"])
            tiers.setdefault(t.name, {})["rule"] = rule
    for p in start.plays:
        if not values.get(f"play.{p.name}.on", True):
            plays[p.name] = {"remove": True}
        elif f"play.{p.name}.effect" in differ or f"play.{p.name}.range" in differ:
            plays[p.name] = {"effect": {"hazard_multiplier": _effect(
                values[f"play.{p.name}.effect"], values[f"play.{p.name}.range"])}}
    hours = {t.name: float(values[f"onboarding.{t.name}"]) for t in start.tiers
             if f"onboarding.{t.name}" in differ}
    if hours:
        top["onboarding"] = {"hours": hours}
    existing = {rc.name for rc in start.retention_changes}
    for target in RETENTION_TARGETS:
        if f"retention.{target}" not in differ:
            continue
        name, change = RETENTION_PREFIX + target, float(values[f"retention.{target}"])
        if abs(change) < 1e-12:
            if name in existing:
                retention.append({"name": name, "remove": True})
            continue
        retention.append({"name": name, "target": target, "multiplier": 1.0 + change})
    if tiers:
        top["tiers"] = [{"name": n, **c} for n, c in tiers.items()]
    if plays:
        top["plays"] = [{"name": n, **c} for n, c in plays.items()]
    if retention:
        top["retention_changes"] = retention
    return top


# ------------------------------------------------------------------ the model
@dataclass(frozen=True)
class Job:
    """One requested comparison: what to run, and its place among the requests.

    Attributes
    ----------
    generation : int
        The request's number (1, 2, ...); only the newest is ever drawn.
    baseline, variant : Scenario
        The runs to pair (the baseline with the panel's horizon).
    replications, seed : int
    """

    generation: int
    baseline: Scenario
    variant: Scenario
    replications: int
    seed: int


@dataclass
class PanelModel:
    """The state of a what-if panel, without widgets (see the module docstring).

    Parameters
    ----------
    baseline : Scenario
        What every variant is compared with.
    baseline_path : pathlib.Path, optional
        Its YAML file: saved scenarios ``extends`` it (no saving without it).
    replications : int, default 20
    seed : int, default 2026
        The seed of every comparison (common random numbers with the baseline).
    start : Scenario, optional
        The scenario the controls start from (default: the baseline).
    dataset : cs_sim.io.Dataset, optional
        The starting customers of a baseline whose ``population.source`` is ``dataset``
        (e.g. :func:`cs_sim.calibration.simulation_dataset`); with it both runs share one
        slot layout (common random numbers), without it each loads its own.
    """

    baseline: Scenario
    baseline_path: Path | None = None
    replications: int = 20
    seed: int = 2026
    start: Scenario | None = None
    dataset: Any = None
    values: dict[str, Any] = field(init=False)
    start_values: dict[str, Any] = field(init=False)
    generation: int = field(init=False, default=0)
    shown: int = field(init=False, default=0)
    result: ComparisonResult | None = field(init=False, default=None)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.baseline_path is not None:
            self.baseline_path = Path(self.baseline_path).resolve()
        self.pick(self.start if self.start is not None else self.baseline)

    # controls -------------------------------------------------------------------------
    def controls(self) -> list[Control]:
        """The controls of the scenario the panel starts from (:func:`panel_controls`)."""
        assert self.start is not None
        return panel_controls(self.start)

    def pick(self, scenario: Scenario) -> None:
        """Start the controls from ``scenario`` (a template, a variant, a saved file)."""
        self.start = scenario
        self.start_values = control_values(scenario, replications=self.replications)
        self.values = dict(self.start_values)

    def set(self, key: str, value: Any) -> None:
        """Set one control (:func:`panel_controls` lists the keys).

        Raises
        ------
        KeyError
            If the scenario the panel starts from has no such control.
        """
        if key not in self.values:
            raise KeyError(f"no control {key!r} (known: {', '.join(self.values)})")
        self.values[key] = value
        if key == "replications":
            self.replications = int(value)

    def changes(self) -> dict[str, Any]:
        """The ``with_changes`` mapping of the controls moved from the start scenario."""
        assert self.start is not None
        return _changes(self.start, self.values, self.start_values)

    def variant(self) -> Scenario:
        """The scenario the controls describe: the start scenario with :meth:`changes`.

        Raises
        ------
        ScenarioError
            If the changes make an invalid scenario (the message says which field).
        """
        assert self.start is not None
        changes = self.changes()
        if not changes:
            return self.start
        name = self.start.name if self.start is not self.baseline else "what-if"
        return self.start.with_changes({**changes, "name": name})

    def baseline_run(self) -> Scenario:
        """The baseline as it runs: with the panel's horizon."""
        h = int(self.values["horizon_months"])
        if h == self.baseline.horizon_months:
            return self.baseline
        return self.baseline.with_changes({"horizon_months": h})

    # runs and results -----------------------------------------------------------------
    def request(self) -> Job:
        """A new comparison of the current controls; every earlier one is now stale.

        Raises
        ------
        ScenarioError
            If the controls make an invalid scenario (no request is made).
        """
        variant, base = self.variant(), self.baseline_run()
        with self._lock:
            self.generation += 1
            return Job(self.generation, base, variant, int(self.replications), int(self.seed))

    def is_current(self, job: Job) -> bool:
        """Whether ``job`` is still the newest request."""
        with self._lock:
            return job.generation == self.generation

    def accept(self, job: Job, result: ComparisonResult,
               draw: Callable[[], Any] | None = None) -> bool:
        """Take a finished job's result if it is still the newest request.

        Parameters
        ----------
        job : Job
        result : ComparisonResult
        draw : callable, optional
            Called (under the model's lock, so no newer result can slip in between)
            when the result is taken: e.g. the view's redraw.

        Returns
        -------
        bool
            False when a later request made it stale: it is discarded, never drawn.
        """
        with self._lock:
            if job.generation != self.generation or job.generation <= self.shown:
                log.debug("discarding the stale result of request %d (newest %d)",
                          job.generation, self.generation)
                return False
            self.shown, self.result = job.generation, result
            if draw is not None:
                draw()
            return True

    def run(self, job: Job, progress: Callable[[int], Any] | None = None) -> ComparisonResult:
        """Run ``job``'s comparison on common random numbers (:func:`cs_sim.compare`)."""
        from cs_sim.sim.runners import compare

        return compare(job.baseline, job.variant, replications=job.replications,
                       seed=job.seed, progress=progress, dataset=self.dataset)

    def notes(self, job: Job) -> list[str]:
        """Notes on the set-up of a comparison (before those of its result)."""
        from cs_sim.sim.runners import shared_warmup

        out = []
        if not shared_warmup(job.baseline, job.variant):
            out.append(f'"{job.variant.name}" has another population than the baseline: '
                       "each warms up on its own and the random numbers are only partly "
                       "shared, so differences include chance.")
        if job.variant.uncertain:
            paths = ", ".join(sorted(job.variant.uncertain))
            out.append(f"Parameters drawn once per replication: {paths}; the probability "
                       "that the variant is better includes that uncertainty.")
        return out

    # saving ---------------------------------------------------------------------------
    def yaml_text(self, *, name: str, description: str | None = None,
                  extends: str) -> str:
        """The text of the variant as a file that ``extends`` the baseline's file."""
        from cs_sim._yaml import dump_yaml_mapping

        variant = self.variant()
        body = scenario_changes(self.baseline, variant)
        desc = description if description is not None else (
            f"{self.baseline.name} with the changes made in the cs_sim what-if panel")
        head = {"extends": extends, "name": name, "description": desc}
        return dump_yaml_mapping({**head, **body}, header=(
            "Saved from the cs_sim what-if panel: the baseline with only what differs.\n"
            f"Run it with `cs-sim simulate {name}.yaml` or compare it with the baseline."))

    def save(self, path: str | os.PathLike[str], *, name: str | None = None,
             description: str | None = None, overwrite: bool = False) -> Path:
        """Write the variant as a scenario file that ``extends`` the baseline's file.

        The file is written next to its final place, loaded back with
        :func:`cs_sim.load_scenario` and moved into place only when it loads as the
        variant (all but name and description equal).

        Parameters
        ----------
        path : str or path-like
            The file to write (``.yaml`` is added when the name has no suffix).
        name : str, optional
            The scenario's name (default: the file's stem).
        description : str, optional
        overwrite : bool, default False
            Replace an existing file (never the baseline's own file).

        Returns
        -------
        pathlib.Path
            The file written.

        Raises
        ------
        ScenarioError
            If there is no baseline file to extend, the path is not a new ``.yaml``
            file in an existing folder, the controls make an invalid scenario, or the
            file would not load as the variant.
        """
        if self.baseline_path is None:
            raise ScenarioError(
                f"{self.baseline.name}: save as scenario needs the baseline's YAML file to "
                "extend: open the panel with the baseline's path (whatif_panel(\"path/to/"
                "baseline.yaml\") or cs-sim panel path/to/baseline.yaml)")
        target = Path(path).expanduser()
        if target.suffix == "":
            target = target.with_suffix(".yaml")
        if target.suffix not in (".yaml", ".yml"):
            raise ScenarioError(f"{target.name}: a scenario file ends in .yaml; choose a name "
                                "such as my_whatif.yaml")
        folder = target.parent.resolve()
        if not folder.is_dir():
            raise ScenarioError(f"{target.name}: folder {folder} does not exist; create it "
                                "or save into an existing folder")
        target = folder / target.name
        if target == self.baseline_path:
            raise ScenarioError(f"{target.name}: that is the baseline's own file; choose "
                                "another name (the baseline is never overwritten)")
        if target.exists() and not overwrite:
            raise ScenarioError(f"{target.name}: the file exists in {folder}; choose another "
                                "name")
        stem = name or target.stem
        variant = self.variant()
        text = self.yaml_text(name=stem, description=description,
                              extends=os.path.relpath(self.baseline_path, folder))
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=".yaml", dir=folder)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            try:
                loaded = load_scenario(tmp)
            except ScenarioError as exc:
                raise ScenarioError(f"{target.name}: the saved file does not load: "
                                    f"{exc}".replace(tmp.name, target.name)) from None
            differ = same_scenario(loaded, variant)
            if differ:
                raise ScenarioError(
                    f"{target.name}: the saved file would load as another scenario "
                    f"(differs at {', '.join(differ)}); nothing written. Save the full "
                    "scenario from Python instead (Scenario.model_dump)")
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()
        log.info("saved the panel's scenario %s to %s", stem, target)
        return target


def scenario_files(folders: Iterable[Path]) -> list[Path]:
    """The scenario YAML files of some folders (not recursive), sorted, no repeats."""
    seen: dict[Path, None] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            if not path.name.startswith("."):
                seen.setdefault(path.resolve(), None)
    return list(seen)
