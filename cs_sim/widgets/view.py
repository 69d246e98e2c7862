"""The what-if panel's widgets: :func:`whatif_panel` and :class:`WhatIfPanel`.

The view draws the controls of a :class:`~cs_sim.widgets.model.PanelModel` (sliders,
check boxes, a scenario picker), passes every change to the model and asks the
:class:`~cs_sim.widgets.runner.BackgroundRunner` for a run; the runner re-simulates off
the UI thread and the view draws its result (:mod:`cs_sim.widgets.figures`): the
decision and the notes, the forest chart, the MRR fan chart and the table of the tiers.

Each widget that a test or a page may look for carries a CSS class: ``cs-sim-control-``
and its control key (dots as dashes, e.g. ``cs-sim-control-tier-high_touch-headcount``),
``cs-sim-status``, ``cs-sim-forest``, ``cs-sim-fan``, ``cs-sim-tiers``,
``cs-sim-decision``, ``cs-sim-save``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from cs_sim.errors import CsSimError
from cs_sim.sim.scenario import Scenario
from cs_sim.sim.scenario_io import load_scenario
from cs_sim.widgets.figures import Rendered, render
from cs_sim.widgets.model import Control, Job, PanelModel, scenario_files
from cs_sim.widgets.runner import DEBOUNCE_SECONDS, BackgroundRunner

__all__ = ["WhatIfPanel", "whatif_panel"]

log = logging.getLogger(__name__)

#: d3 number formats of the sliders' readouts, by unit
_READOUT = {"money": ",.0f", "pct": "+.0%", "ratio": ".2f", "number": ",.0f", "months": "d",
            "count": "d"}
#: control groups -> the tab that shows them
_TABS = {"Teams": "Teams and tiers", "Tiers": "Teams and tiers", "Plays": "Plays",
         "Onboarding": "Onboarding, churn", "Retention": "Onboarding, churn"}
_WIDE = {"description_width": "21em"}


def css_class(key: str) -> str:
    """The CSS class of the widget of control ``key`` (``cs-sim-control-...``)."""
    return "cs-sim-control-" + re.sub(r"[^A-Za-z0-9_-]", "-", key)


def _control_widget(control: Control, value: Any) -> widgets.DOMWidget:
    """A slider or check box for one control, set to ``value``."""
    if control.kind == "bool":
        w: widgets.DOMWidget = widgets.Checkbox(value=bool(value), description=control.label,
                                                indent=False)
    elif control.kind == "int":
        w = widgets.IntSlider(value=int(value), min=int(control.low),
                              max=max(int(control.high), int(value)), step=int(control.step),
                              description=control.label, continuous_update=False,
                              style=_WIDE, layout=widgets.Layout(width="46em"))
    else:
        w = widgets.FloatSlider(value=float(value), min=min(control.low, float(value)),
                                max=max(control.high, float(value)), step=control.step,
                                description=control.label, continuous_update=False,
                                readout_format=_READOUT.get(control.unit, ".2f"),
                                style=_WIDE, layout=widgets.Layout(width="46em"))
    w.add_class(css_class(control.key))
    return w


class WhatIfPanel(widgets.VBox):
    """The interactive what-if panel: an ipywidgets box (see :func:`whatif_panel`).

    Attributes
    ----------
    model : PanelModel
        The controls' values and the latest result (``model.result``).
    runner : BackgroundRunner
    controls : dict of str to ipywidgets.Widget
        The widget of each control key (:mod:`cs_sim.widgets.model`).
    rendered : Rendered or None
        What is drawn now.
    """

    def __init__(self, model: PanelModel, *, choices: dict[str, Callable[[], Scenario]],
                 scenario_dir: Path, debounce: float = DEBOUNCE_SECONDS,
                 initial: str = "baseline") -> None:
        self.model = model
        self.scenario_dir = scenario_dir
        self._choices = dict(choices)
        self.controls: dict[str, widgets.DOMWidget] = {}
        self.rendered: Rendered | None = None
        self._quiet = False
        base = model.baseline
        self.title = widgets.HTML(
            f"<h3>What-if panel: changes compared with the baseline "
            f"&ldquo;{escape(base.name)}&rdquo;</h3><p>Each change re-runs both scenarios "
            f"on common random numbers (seed {model.seed}): a difference is the change, "
            "not luck.</p>")
        self.picker = widgets.Dropdown(options=[(label, key) for key, label in
                                                self._labels().items()],
                                       value=initial, description="Start from",
                                       layout=widgets.Layout(width="34em"))
        self.picker.add_class("cs-sim-picker")
        self.picker.observe(self._on_pick, names="value")
        self.run_box = widgets.HBox()
        self.tabs = widgets.Tab()
        self.progress = widgets.IntProgress(value=0, min=0, max=1,
                                            layout=widgets.Layout(width="12em"))
        self.status = widgets.HTML("Starting...")
        self.status.add_class("cs-sim-status")
        self.save_name = widgets.Text(value="", placeholder="my_whatif.yaml",
                                      description="Save as", layout=widgets.Layout(width="28em"))
        self.save_button = widgets.Button(description="Save as scenario", icon="save")
        self.save_button.add_class("cs-sim-save")
        self.save_message = widgets.HTML("")
        self.save_message.add_class("cs-sim-save-message")
        self.save_button.on_click(self._on_save)
        self.decision = widgets.HTML("")
        self.decision.add_class("cs-sim-decision")
        self.forest = widgets.Image(format="png", layout=widgets.Layout(width="640px"))
        self.forest.add_class("cs-sim-forest")
        self.fan = widgets.Image(format="png", layout=widgets.Layout(width="640px"))
        self.fan.add_class("cs-sim-fan")
        self.tiers = widgets.HTML("")
        self.tiers.add_class("cs-sim-tiers")
        super().__init__(children=[
            self.title,
            widgets.HBox([self.picker, self.run_box]),
            self.tabs,
            widgets.HBox([self.progress, self.status]),
            widgets.HBox([self.save_name, self.save_button, self.save_message]),
            self.decision,
            widgets.HBox([widgets.VBox([self.forest]),
                          widgets.VBox([self.fan, self.tiers])]),
        ])
        self.add_class("cs-sim-panel")
        self.runner = BackgroundRunner(model, self._render, self._draw,
                                       on_start=self._on_start, on_progress=self._on_progress,
                                       on_error=self._on_error, debounce=debounce)
        self._build_controls()
        self.runner.submit(now=True)

    # ------------------------------------------------------------------ controls
    def _labels(self) -> dict[str, str]:
        return {key: self._label_of(key) for key in self._choices}

    def _label_of(self, key: str) -> str:
        if key == "baseline":
            return f"baseline: {self.model.baseline.name}"
        kind, _, rest = key.partition(":")
        if kind == "file":
            return f"your file: {os.path.relpath(rest, self.scenario_dir)}"
        if kind == "template":
            return f"template: {Path(rest).stem}"
        return f"{kind}: {rest}"

    def _build_controls(self) -> None:
        self._quiet = True
        try:
            values = self.model.values
            self.controls = {c.key: _control_widget(c, values[c.key])
                             for c in self.model.controls()}
            for key, w in self.controls.items():
                w.observe(lambda change, k=key: self._on_control(k, change), names="value")
                if key.endswith(".on"):
                    self._enable_play(key, bool(w.value))
            specs = self.model.controls()
            self.run_box.children = [self.controls[c.key] for c in specs if c.group == "Run"]
            pages: dict[str, list[widgets.DOMWidget]] = {}
            for c in specs:
                if c.group in _TABS:
                    pages.setdefault(_TABS[c.group], []).append(self.controls[c.key])
            self.tabs.children = [widgets.VBox(ws) for ws in pages.values()]
            self.tabs.titles = tuple(pages)
        finally:
            self._quiet = False

    def _enable_play(self, on_key: str, on: bool) -> None:
        """A play switched off greys out its effect and range sliders."""
        stem = on_key.removesuffix(".on")
        for part in (".effect", ".range"):
            if stem + part in self.controls:
                self.controls[stem + part].disabled = not on

    def _on_control(self, key: str, change: dict[str, Any]) -> None:
        if key.endswith(".on"):
            self._enable_play(key, bool(change["new"]))
        if self._quiet:
            return
        self.model.set(key, change["new"])
        self.runner.submit()

    def _on_pick(self, change: dict[str, Any]) -> None:
        key = change["new"]
        try:
            scenario = self._choices[key]()
        except CsSimError as exc:
            self._on_error(None, str(exc))
            return
        self.model.pick(scenario)
        self.save_name.value = ""
        self._build_controls()
        self.runner.submit(now=True)

    # ------------------------------------------------------------------ saving
    def _on_save(self, _button: Any = None) -> None:
        name = self.save_name.value.strip() or self.save_name.placeholder
        try:
            path = self.model.save(self.scenario_dir / name)
        except CsSimError as exc:
            self.save_message.value = f"<span style='color:#b2182b'>{escape(str(exc))}</span>"
            return
        key = f"file:{path}"
        if key not in self._choices:
            self._choices[key] = lambda p=path: load_scenario(p)
            self.picker.options = [*self.picker.options, (self._label_of(key), key)]
        self.save_message.value = (f"Saved <code>{escape(str(path))}</code>: run it with "
                                   f"<code>cs-sim simulate {escape(path.name)}</code>")

    def save(self, name: str) -> Path:
        """Save the current controls as ``name`` in the panel's folder (as the button does).

        Returns
        -------
        pathlib.Path

        Raises
        ------
        CsSimError
            As :meth:`PanelModel.save`.
        """
        return self.model.save(self.scenario_dir / name)

    # ------------------------------------------------------------------ runs (worker thread)
    def _render(self, job: Job, result: Any) -> Rendered:
        return render(result, self.model.notes(job))

    def _on_start(self, job: Job) -> None:
        self.progress.max = 2 * job.replications
        self.progress.value = 0
        self.status.value = (f"Simulating request {job.generation}: 2 x {job.replications} "
                             f"replications of {job.variant.horizon_months} months...")

    def _on_progress(self, job: Job, n: int) -> None:
        if self.model.is_current(job):
            self.progress.value = min(self.progress.max, self.progress.value + int(n))

    def _draw(self, job: Job, result: Any, rendered: Rendered) -> None:
        self.rendered = rendered
        self.forest.value = rendered.forest
        self.fan.value = rendered.fan
        self.tiers.value = rendered.tiers
        self.decision.value = rendered.decision
        self.progress.value = self.progress.max
        seconds = self.runner.last_seconds
        took = "" if seconds is None else f" in {seconds:.1f} s"
        self.status.value = (f"Up to date (request {job.generation}{took}): "
                             f"&ldquo;{escape(job.variant.name)}&rdquo; vs the baseline, "
                             f"{job.replications} replications, seed {job.seed}")

    def _on_error(self, job: Job | None, message: str) -> None:
        self.status.value = f"<span style='color:#b2182b'>{escape(message)}</span>"

    # ------------------------------------------------------------------ for scripts
    def set(self, key: str, value: Any) -> None:
        """Move control ``key`` to ``value`` as a person would (the change runs)."""
        self.controls[key].value = value

    def wait(self, timeout: float | None = 120.0) -> bool:
        """Block until the newest change is simulated and drawn (False on time-out)."""
        return self.runner.wait(timeout)


def _as_path(value: str | os.PathLike[str]) -> Path:
    from cs_sim.paths import resolve_path

    return resolve_path(value).resolve()


def _templates() -> list[Path]:
    from cs_sim.paths import repo_root

    root = repo_root()
    return [] if root is None else scenario_files([root / "templates" / "scenarios"])


def whatif_panel(
    baseline: Scenario | str | os.PathLike[str],
    *,
    variants: Sequence[Scenario | str | os.PathLike[str]] | None = None,
    replications: int = 20,
    seed: int = 2026,
    scenario_dir: str | os.PathLike[str] | None = None,
    templates: bool = True,
    debounce: float = DEBOUNCE_SECONDS,
    dataset: Any = None,
) -> WhatIfPanel:
    """An interactive what-if panel: move a control, see the comparison with the baseline.

    Controls: CSM headcount and cost per tier, the tiers' ARR cut-offs, each play on or
    off with its effect (churn-risk multiplier) and an uncertainty range, onboarding
    hours per tier, changes of the churn and expansion rates, the horizon and the
    replications; a picker starts the controls from the baseline, a variant, a
    template or a YAML file of ``scenario_dir``. Each change re-runs the comparison
    (:func:`cs_sim.compare`, common random numbers) off the UI thread, debounced, and
    redraws: the decision (profit, NPV, ROI or saving, payback, the probability the
    variant is better), notes on changes that cannot act, the forest chart of the
    differences, the MRR fan chart of both runs and the CSM teams by tier. "Save as
    scenario" writes the controls as a YAML file that ``extends`` the baseline.

    Parameters
    ----------
    baseline : Scenario or path
        What every variant is compared with; give its YAML file to be able to save.
    variants : sequence of Scenario or path, optional
        Starting points for the picker; the panel starts from the first one.
    replications : int, default 20
    seed : int, default 2026
    scenario_dir : path, optional
        The user's folder: its YAML files are offered by the picker and scenarios are
        saved there (default: the baseline file's folder, else the working directory).
    templates : bool, default True
        Offer the scenario templates of the repository (``templates/scenarios``).
    debounce : float, default 0.3
        Seconds the controls must rest before a run starts.
    dataset : cs_sim.io.Dataset, optional
        The starting customers of a baseline calibrated on a dataset
        (:func:`cs_sim.calibration.simulation_dataset`): both runs then start from the
        same customers on common random numbers.

    Returns
    -------
    WhatIfPanel
        An ``ipywidgets.VBox``: display it (the last line of a notebook cell).

    Raises
    ------
    cs_sim.errors.ScenarioError
        If a scenario file is missing or invalid.
    """
    baseline_path: Path | None = None
    if isinstance(baseline, Scenario):
        base = baseline
    else:
        baseline_path = _as_path(baseline)
        base = load_scenario(baseline_path)
    folder = (Path(scenario_dir).expanduser().resolve() if scenario_dir is not None
              else baseline_path.parent if baseline_path is not None else Path.cwd())
    choices: dict[str, Callable[[], Scenario]] = {"baseline": lambda: base}
    loaded: list[tuple[str, Scenario]] = []
    for v in variants or []:
        sc = v if isinstance(v, Scenario) else load_scenario(_as_path(v))
        key = f"variant:{sc.name}"
        choices[key] = lambda s=sc: s
        loaded.append((key, sc))
    skip = {baseline_path} | {_as_path(v) for v in variants or []
                              if not isinstance(v, Scenario)}
    for kind, paths in (("file", scenario_files([folder])),
                        ("template", _templates() if templates else [])):
        for path in paths:
            if path not in skip:
                skip.add(path)
                choices[f"{kind}:{path}"] = lambda p=path: load_scenario(p)
    initial, start = (loaded[0] if loaded else ("baseline", None))
    model = PanelModel(base, baseline_path, replications=replications, seed=seed, start=start,
                       dataset=dataset)
    return WhatIfPanel(model, choices=choices, scenario_dir=folder, debounce=debounce,
                       initial=initial)
