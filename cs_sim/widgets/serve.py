"""The what-if panel as a web page: Voila serves ``cs_sim/resources/panel.ipynb``.

``cs-sim panel [SCENARIO.yaml]`` calls :func:`serve_panel`: it checks the scenario,
puts what the page needs in environment variables (the Voila kernel inherits them),
and runs Voila on ``127.0.0.1`` with the code hidden. The page's one cell calls
:func:`panel_from_environment`, which builds :func:`~cs_sim.widgets.view.whatif_panel`
from those variables.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cs_sim.errors import CsSimError, ScenarioError

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.widgets.view import WhatIfPanel

__all__ = ["ENV", "HOST", "default_scenario", "free_port", "panel_from_environment",
           "panel_notebook", "serve_panel", "voila_argv"]

log = logging.getLogger(__name__)

#: the environment variables the page reads: option -> name
ENV = {"scenario": "CS_SIM_PANEL_SCENARIO", "replications": "CS_SIM_PANEL_REPLICATIONS",
       "seed": "CS_SIM_PANEL_SEED", "scenario_dir": "CS_SIM_PANEL_DIR"}
#: the page is served on this machine only
HOST = "127.0.0.1"


def panel_notebook() -> Path:
    """The packaged notebook Voila serves (``cs_sim/resources/panel.ipynb``)."""
    return Path(str(resources.files("cs_sim").joinpath("resources", "panel.ipynb")))


def default_scenario() -> Path:
    """The scenario of ``cs-sim panel`` without one: the repository's baseline template.

    Raises
    ------
    ScenarioError
        Outside a source checkout (an installed package has no templates folder).
    """
    from cs_sim.paths import repo_root

    root = repo_root()
    path = None if root is None else root / "templates" / "scenarios" / "baseline.yaml"
    if path is None or not path.is_file():
        raise ScenarioError("cs-sim panel: no scenario given and no templates/scenarios/"
                            "baseline.yaml here; give one: cs-sim panel path/to/scenario.yaml")
    return path


def free_port() -> int:
    """A TCP port of 127.0.0.1 that is free now (the system picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return True
    return False


def voila_argv(notebook: Path, port: int) -> list[str]:
    """Voila's command-line arguments: localhost only, this port, code hidden."""
    return [str(notebook), "--no-browser", f"--port={port}", f"--Voila.ip={HOST}",
            "--Voila.port_retries=0", "--strip_sources=True", "--show_tracebacks=False"]


def panel_from_environment() -> WhatIfPanel:
    """The panel of the page, built from the variables of :data:`ENV`.

    Returns
    -------
    WhatIfPanel
    """
    from cs_sim.widgets.view import whatif_panel

    scenario = os.environ.get(ENV["scenario"]) or str(default_scenario())
    folder = os.environ.get(ENV["scenario_dir"]) or None
    return whatif_panel(scenario, replications=int(os.environ.get(ENV["replications"], 20)),
                        seed=int(os.environ.get(ENV["seed"], 2026)), scenario_dir=folder)


def serve_panel(
    scenario: str | os.PathLike[str] | None = None,
    *,
    port: int | None = None,
    replications: int = 20,
    seed: int = 2026,
    scenario_dir: str | os.PathLike[str] | None = None,
    announce: Callable[[str], Any] | None = None,
) -> None:
    """Serve the what-if panel of ``scenario`` as a Voila page on localhost (blocks).

    Parameters
    ----------
    scenario : path, optional
        The baseline YAML (default :func:`default_scenario`); checked before serving.
    port : int, optional
        The port (default: a free one).
    replications : int, default 20
    seed : int, default 2026
    scenario_dir : path, optional
        Where the picker finds the user's files and saves go (default: the scenario's
        folder).
    announce : callable, optional
        Called with one line giving the page's address before the server starts
        (the CLI prints it).

    Raises
    ------
    ScenarioError
        If the scenario file is missing or invalid, or an option is out of range.
    CsSimError
        If the port is in use.
    """
    from cs_sim.paths import resolve_path
    from cs_sim.sim.runners import resolve_seed
    from cs_sim.sim.scenario_io import load_scenario

    path = default_scenario() if scenario is None else resolve_path(scenario).resolve()
    load_scenario(path)  # bad input stops here, with the file's own message
    if isinstance(replications, bool) or replications < 2:
        raise ScenarioError(f"replications: must be at least 2 (got {replications!r})")
    seed = resolve_seed(seed)
    if port is None:
        port = free_port()
    elif not 1 <= port <= 65535:
        raise CsSimError(f"--port: must be 1..65535 (got {port})")
    elif _port_in_use(port):
        raise CsSimError(f"--port: port {port} of {HOST} is in use; choose another, or leave "
                         "--port out to take a free one")
    folder = Path(scenario_dir).expanduser().resolve() if scenario_dir else path.parent
    os.environ.update({ENV["scenario"]: str(path), ENV["replications"]: str(replications),
                       ENV["seed"]: str(seed), ENV["scenario_dir"]: str(folder)})
    url = f"http://{HOST}:{port}/"
    if announce is not None:
        announce(f"cs-sim panel: the what-if panel of {path.name} (seed {seed}) at {url} "
                 "(Ctrl+C stops it)")
    log.info("serving the what-if panel of %s at %s", path, url)
    from voila.app import Voila

    Voila.launch_instance(argv=voila_argv(panel_notebook(), port))
