"""Running one stage: papermill in a kernel of its own, then its figures and its HTML.

Kernels start with a private IPython profile (:func:`kernel_profile`): the inline
backend emits every figure as PNG *and* SVG, and a start-up file gives each figure a
text alternative read from its titles and axis labels (the ``alt`` of the figure's
output metadata; figures without titles get "Figure N of <stage>: <section>" here).
Each kernel's own messages go to ``logs/<stage>.log`` of the run. Every kernel started
is known to a :class:`Kernels` registry, so an interrupted report stops them all.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import signal
import threading
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from cs_sim.report._headlines import read_headlines
from cs_sim.report._params import StagePlan

__all__ = ["Kernels", "StageResult", "execute_stage", "kernel_profile", "stage_html"]

#: the Python kernel (jupyter_client runs it with this interpreter)
KERNEL = "python3"

_KERNEL_CONFIG = """\
# written by cs-sim report: every figure as PNG (shown in HTML) and SVG (for documents)
c.InlineBackend.figure_formats = {"png", "svg"}
"""

_STARTUP = '''\
# written by cs-sim report: a text alternative (alt) for every figure, from its titles
def _cs_sim_report_alt():
    try:
        import matplotlib_inline.backend_inline as inline
        original = inline._fetch_figure_metadata
    except Exception:
        return

    def describe(fig):
        titles = []
        sup = getattr(fig, "_suptitle", None)
        if sup is not None and sup.get_text().strip():
            titles.append(sup.get_text().strip())
        axes = [ax for ax in fig.axes if ax.get_visible()]
        for ax in axes:
            for loc in ("left", "center", "right"):
                text = ax.get_title(loc).strip()
                if text and text not in titles:
                    titles.append(text)
        labels = []
        if len(axes) == 1 and axes[0].axison:
            x, y = axes[0].get_xlabel().strip(), axes[0].get_ylabel().strip()
            labels = [f"{k}: {v}" for k, v in (("x", x), ("y", y)) if v]
        if not titles and not labels:
            return None
        text = "Chart: " + "; ".join(titles[:4]) if titles else "Chart"
        if len(titles) > 4:
            text += f" and {len(titles) - 4} more panels"
        if labels:
            text += " (" + "; ".join(labels) + ")"
        return " ".join(text.replace("$", "").split())

    def fetch(fig):
        meta = original(fig) or {}
        try:
            alt = describe(fig)
        except Exception:
            alt = None
        if alt:
            meta = {**meta, "alt": alt}
        return meta or None

    inline._fetch_figure_metadata = fetch


_cs_sim_report_alt()
del _cs_sim_report_alt
'''


def kernel_profile(folder: str | os.PathLike[str]) -> Path:
    """Write the kernels' IPython profile into ``folder`` (used as ``IPYTHONDIR``).

    Returns
    -------
    pathlib.Path
        ``folder``.
    """
    folder = Path(folder)
    profile = folder / "profile_default"
    (profile / "startup").mkdir(parents=True, exist_ok=True)
    (profile / "ipython_kernel_config.py").write_text(_KERNEL_CONFIG, encoding="utf-8")
    (profile / "startup" / "50-cs-sim-report-alt.py").write_text(_STARTUP, encoding="utf-8")
    return folder


class Kernels:
    """The kernels of one report, so that they can all be stopped at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._managers: list[Any] = []
        self.stopping = False

    def add(self, manager: Any) -> None:
        with self._lock:
            self._managers.append(manager)

    def kill_all(self) -> None:
        """Kill every kernel still running (and anything it started)."""
        self.stopping = True
        with self._lock:
            managers = list(self._managers)
        for km in managers:
            prov = getattr(km, "provisioner", None)
            pid = getattr(prov, "pid", None)
            if not pid:
                continue
            try:
                os.killpg(getattr(prov, "pgid", None) or pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError, OSError):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def manager_class(self, env: dict[str, str], log: Path) -> type:
        """A kernel manager class that starts kernels with ``env``, their messages in
        ``log``, and registers them here."""
        from jupyter_client import AsyncKernelManager

        registry = self

        class _ReportKernelManager(AsyncKernelManager):  # type: ignore[misc]
            async def _async_pre_start_kernel(self, **kw: Any) -> Any:
                if registry.stopping:
                    raise KeyboardInterrupt("the report was interrupted")
                kw.setdefault("env", {**os.environ, **env})
                handle = log.open("ab")
                self._cs_sim_log = handle
                kw.setdefault("stdout", handle)
                kw.setdefault("stderr", handle)
                registry.add(self)
                return await super()._async_pre_start_kernel(**kw)

            async def _async_cleanup_resources(self, restart: bool = False) -> None:
                await super()._async_cleanup_resources(restart=restart)
                handle = getattr(self, "_cs_sim_log", None)
                if handle is not None and not restart:
                    handle.close()

        return _ReportKernelManager


@dataclass
class StageResult:
    """How one stage went.

    Attributes
    ----------
    name, title : str
    status : str
        ``"ok"`` or ``"failed"``.
    seconds : float
        Execution time (kernel start to last cell), without the HTML.
    error : str or None
        ``"ExceptionType: message"`` of the failure.
    error_cell : int or None
        The execution count of the cell that raised.
    headlines : dict or None
        The stage's headline figures (:func:`cs_sim.report.read_headlines`).
    figures : list of dict
        ``{"png", "svg", "alt"}`` paths relative to the run folder.
    notebook, html : str or None
        Paths of the executed notebook and its HTML, relative to the run folder.
    parameters : dict
        The parameters the notebook ran with (as injected).
    """

    name: str
    title: str
    status: str = "ok"
    seconds: float = 0.0
    error: str | None = None
    error_cell: int | None = None
    headlines: dict[str, Any] | None = None
    figures: list[dict[str, str]] = field(default_factory=list)
    notebook: str | None = None
    html: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "status": self.status, "seconds": round(self.seconds, 2),
                "error": self.error, "error_cell": self.error_cell,
                "notebook": self.notebook, "html": self.html,
                "figures": self.figures, "headlines": self.headlines is not None,
                "parameters": self.parameters}


def execute_stage(plan: StagePlan, run_dir: Path, *, kernels: Kernels, env: dict[str, str],
                  inject: dict[str, Any] | None = None, final_dir: Path | None = None,
                  timeout: int | None = None) -> StageResult:
    """Run one stage's notebook into ``run_dir`` and write its figures and HTML.

    Parameters
    ----------
    plan : StagePlan
    run_dir : pathlib.Path
        The (temporary) run folder: ``notebooks/``, ``html/``, ``figures/``, ``logs/``.
    kernels : Kernels
    env : dict
        Extra environment of the kernel (``IPYTHONDIR``, ...).
    inject : dict, optional
        Parameters added to the plan's (``out_dir``).
    final_dir : pathlib.Path, optional
        Where ``run_dir`` will be moved: paths to it in the notebook are rewritten.
    timeout : int, optional
        Seconds a cell may run.

    Returns
    -------
    StageResult
        A failed stage is a result (``status="failed"``), not an exception.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    name = plan.name
    params = {**plan.inject, **(inject or {})}
    result = StageResult(name=name, title=plan.stage.title, parameters=params)
    for sub in ("notebooks", "html", "figures", "logs"):
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
    out_nb = run_dir / "notebooks" / f"{name}.ipynb"
    km = kernels.manager_class(env, run_dir / "logs" / f"{name}.log")
    t0 = time.perf_counter()
    try:
        pm.execute_notebook(
            plan.stage.path, out_nb, parameters=params, cwd=str(run_dir),
            kernel_name=KERNEL, progress_bar=False, log_output=False,
            request_save_on_cell_execute=False, kernel_manager_class=km,
            execution_timeout=timeout)
    except PapermillExecutionError as exc:
        result.status = "failed"
        result.error = f"{exc.ename}: {exc.evalue}"
        result.error_cell = exc.exec_count
    except Exception as exc:  # a kernel that died or never started: the stage failed
        result.status = "failed"
        result.error = f"{type(exc).__name__}: {exc}".strip()
    result.seconds = time.perf_counter() - t0
    if not out_nb.is_file():
        return result
    nb = _read_notebook(out_nb, run_dir, final_dir)
    result.headlines = read_headlines(nb) if result.status == "ok" else None
    result.figures = _figures(nb, name, result.title, run_dir)
    import nbformat

    nbformat.write(nb, out_nb)
    result.notebook = f"notebooks/{name}.ipynb"
    html = run_dir / "html" / f"{name}.html"
    html.write_text(stage_html(nb, title=result.title), encoding="utf-8")
    result.html = f"html/{name}.html"
    return result


def _read_notebook(path: Path, run_dir: Path, final_dir: Path | None) -> Any:
    """The executed notebook, with the temporary run folder's path replaced by the final
    one (the run is moved there when complete)."""
    import nbformat

    text = path.read_text(encoding="utf-8")
    if final_dir is not None:
        for a, b in ((str(run_dir.resolve()), str(final_dir.resolve())),
                     (str(run_dir), str(final_dir))):
            text = text.replace(json.dumps(a)[1:-1], json.dumps(b)[1:-1])
    return nbformat.reads(text, as_version=4)


def _figures(nb: Any, stage: str, title: str, run_dir: Path) -> list[dict[str, str]]:
    """Write every image output as figures/<stage>-NN.png (and .svg); give each an alt."""
    found: list[dict[str, str]] = []
    heading = title
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                m = re.match(r"\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
                if m and m[1]:
                    heading = re.sub(r"[*_`$]", "", m[1]).strip()
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" not in data:
                continue
            n = len(found) + 1
            stem = f"{stage}-{n:02d}"
            meta = output.setdefault("metadata", {})
            alt = meta.get("alt") or (meta.get("image/png") or {}).get("alt")
            if not alt:
                alt = f"Figure {n} of {title}" + (f": {heading}" if heading != title else "")
                meta["alt"] = alt
            png = run_dir / "figures" / f"{stem}.png"
            png.write_bytes(base64.b64decode(data["image/png"]))
            entry = {"png": f"figures/{stem}.png", "alt": str(alt)}
            svg = data.get("image/svg+xml")
            if svg:
                text = svg if isinstance(svg, str) else "".join(svg)
                (run_dir / "figures" / f"{stem}.svg").write_text(text, encoding="utf-8")
                entry["svg"] = f"figures/{stem}.svg"
            found.append(entry)
    return found


def stage_html(nb: Any, *, title: str, index_href: str = "../index.html") -> str:
    """A stage's notebook as a page to hand over: code hidden, no prompts, a title, alt
    text on every figure (PNG shown; SVG kept in ``figures/``), formulas as MathML (no
    MathJax, no network) and a link to the index.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook (not modified).
    title : str
        The page's ``<title>``.
    index_href : str, default "../index.html"

    Returns
    -------
    str
    """
    from nbconvert import HTMLExporter

    from cs_sim.report._math import protect_math, restore_math

    page = copy.deepcopy(nb)
    page.metadata["title"] = title
    formulas: dict[str, str] = {}
    for cell in page.cells:
        if cell.cell_type == "markdown":
            cell.source = protect_math(cell.source, formulas)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                data.pop("image/svg+xml", None)
    folder = resources.files("cs_sim") / "resources" / "templates"
    exporter = HTMLExporter(template_name="lab", extra_template_paths=[str(folder)],
                            template_file="report_stage.html.j2")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(
        page, resources={"metadata": {"name": title}, "cs_sim_index": index_href})
    return restore_math(body, formulas)
