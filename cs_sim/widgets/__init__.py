"""The interactive what-if panel (ipywidgets), also served as a Voila page.

:func:`whatif_panel` builds the panel in a notebook; ``cs-sim panel`` serves it as a
web page (:mod:`cs_sim.widgets.serve`). The parts:

- :mod:`~cs_sim.widgets.model`: the controls and the variant they make, the stale-result
  rule, saving as a scenario file (no widgets: unit-tested on its own);
- :mod:`~cs_sim.widgets.runner`: debounced runs on a worker thread;
- :mod:`~cs_sim.widgets.figures`: what is drawn of a comparison (PNG, HTML);
- :mod:`~cs_sim.widgets.view`: the widgets.

Importing this package is cheap: the names below load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cs_sim._lazy import lazy_exports

_LAZY = {
    "whatif_panel": "cs_sim.widgets.view",
    "WhatIfPanel": "cs_sim.widgets.view",
    "PanelModel": "cs_sim.widgets.model",
    "scenario_changes": "cs_sim.widgets.changes",
    "serve_panel": "cs_sim.widgets.serve",
}
__all__ = ["PanelModel", "WhatIfPanel", "scenario_changes", "serve_panel", "whatif_panel"]

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.widgets.changes import scenario_changes
    from cs_sim.widgets.model import PanelModel
    from cs_sim.widgets.serve import serve_panel
    from cs_sim.widgets.view import WhatIfPanel, whatif_panel

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
