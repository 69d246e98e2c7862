"""``cs-sim report --grid grid.yaml``: many parameter sets, one report each, one page.

Every set of the grid (:func:`cs_sim.report._grid.load_grid`) is checked like a single
report (parameters against the notebooks, dataset, earlier run) before anything is
written. The sets then run through :func:`cs_sim.report._grid.map_runs` (one after
another here, or as tasks of a Dask cluster: the workers must see the same file system)
into ``reports/<grid-name>/<run-id>/<set-name>/``, each a complete report folder, and
``grid.html`` beside them compares their headline figures. As for one report, the grid
run is written into a temporary folder and renamed into place when complete.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cs_sim.errors import ReportInputError
from cs_sim.report._runner import PARTIAL, Prepared, new_run_id, prepare, reports_root

__all__ = ["GridResult", "GridTask", "run_grid", "run_one"]


@dataclass(frozen=True)
class GridTask:
    """One set of a grid, ready to run anywhere that sees the file system (picklable)."""

    name: str
    prep: Prepared
    tmp: Path
    final: Path
    run_id: str
    progress: bool = False
    command: tuple[str, ...] = ()


def run_one(task: GridTask) -> dict[str, Any]:
    """Run one set of a grid into its folder; its headline figures and status.

    Returns
    -------
    dict
        ``{"headlines": {stage: dict or None}, "status", "failed": [stage], "seconds"}``.
    """
    from cs_sim.report._runner import write_run

    run = write_run(task.prep, task.tmp, task.final, run_id=task.run_id,
                    progress=task.progress, command=list(task.command))
    return {"headlines": run.headlines(), "status": run.status,
            "failed": [s.name for s in run.failed], "seconds": round(run.seconds, 2)}


@dataclass
class GridResult:
    """A grid run written.

    Attributes
    ----------
    name, run_id : str
    folder : pathlib.Path
    runs : list of dict
        Per set: ``name``, ``status`` (``complete``, ``failed`` or ``error``), ``failed``
        stages, ``error`` (a set that did not run), ``seconds``.
    """

    name: str
    run_id: str
    folder: Path
    runs: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def page(self) -> Path:
        return self.folder / "grid.html"

    @property
    def ok(self) -> bool:
        return all(r["status"] == "complete" for r in self.runs)


def run_grid(path: str | os.PathLike[str], *, engine: str = "local",
             address: str | None = None, name: str | None = None,
             data: str | os.PathLike[str] | None = None, jobs: int | None = None,
             compare_to: str | os.PathLike[str] | None = None,
             reports_dir: str | os.PathLike[str] | None = None, progress: bool = True,
             command: Sequence[str] | None = None) -> GridResult:
    """Check every set of a grid file, run each as a report, write ``grid.html``.

    Parameters
    ----------
    path : path
        The grid file (see ``templates/report_grid.yaml``).
    engine : {"local", "dask"}, default "local"
    address : str, optional
        A Dask scheduler (``engine="dask"``).
    name : str, optional
        The grid run's folder under ``reports/`` (default: the grid file's name).
    data, jobs : optional
        For every set (``data`` wins over the sets' own).
    compare_to : path, optional
        An earlier grid run: each set is compared with the set of the same name there.
    reports_dir, progress, command
        As for :func:`cs_sim.report._runner.run_report`.

    Returns
    -------
    GridResult

    Raises
    ------
    cs_sim.errors.ReportInputError, cs_sim.errors.DataValidationError
        Before anything is written: every set's problems, one per line.
    """
    from cs_sim.report._grid import ENGINES, grid_page, load_grid, map_runs
    from cs_sim.report._params import _NAME, params_from_dict

    if engine not in ENGINES:
        raise ReportInputError(f"--engine: unknown engine {engine!r}; fix: use one of "
                               f"{', '.join(ENGINES)}")
    if engine == "local" and address is not None:
        raise ReportInputError("--address: a Dask scheduler needs --engine dask; fix: add "
                               "--engine dask or leave the address out")
    grid = load_grid(path)
    grid_name = name or Path(path).stem
    if not _NAME.fullmatch(grid_name):
        raise ReportInputError(f"--name: {grid_name!r} cannot be a folder name; fix: use "
                               "letters, digits, '_', '-' and '.'")
    preps: list[Prepared] = []
    problems: list[str] = []
    for i, run in enumerate(grid.runs):
        source = f"{path}: runs[{i}] ({run.name})"
        previous = None if compare_to is None else Path(compare_to) / run.name
        try:
            params = params_from_dict(grid.params_for(run), source=source)
            preps.append(prepare(params, source=source, data=data, name=run.name,
                                 jobs=jobs, compare_to=previous
                                 if previous is None or previous.is_dir() else None))
        except ReportInputError as exc:
            problems.append(str(exc))
    if problems:
        raise ReportInputError("\n".join(problems))
    parent = (Path(reports_dir) if reports_dir is not None else reports_root()) / grid_name
    parent.mkdir(parents=True, exist_ok=True)
    run_id = new_run_id(parent)
    tmp, final = parent / f".{run_id}{PARTIAL}", parent / run_id
    show = progress and engine == "local"
    tasks = [GridTask(name=r.name, prep=p, tmp=(tmp / r.name).resolve(),
                      final=(final / r.name).resolve(), run_id=f"{run_id}/{r.name}",
                      progress=show, command=tuple(command or sys.argv))
             for r, p in zip(grid.runs, preps, strict=True)]
    started = datetime.now().astimezone()
    t0 = time.perf_counter()
    try:
        tmp.mkdir(parents=True)

        def told(outcome: Any) -> None:
            if progress:
                what = outcome.error or outcome.value["status"]
                print(f"grid {grid_name}: {tasks[outcome.index].name}: {what}",
                      file=sys.stderr, flush=True)

        outcomes = map_runs(run_one, tasks, engine=engine, address=address, progress=told)
        result = GridResult(name=grid_name, run_id=run_id, folder=final,
                            seconds=time.perf_counter() - t0)
        rows = []
        for task, out in zip(tasks, outcomes, strict=True):
            value = out.value or {}
            status = "error" if out.failed else value["status"]
            error = out.error or (f"failed stages: {', '.join(value['failed'])}"
                                  if value.get("failed") else None)
            result.runs.append({"name": task.name, "status": status, "error": error,
                                "failed": value.get("failed", []),
                                "seconds": value.get("seconds")})
            if out.failed:
                shutil.rmtree(task.tmp, ignore_errors=True)
            rows.append((task.name, task.name if not out.failed else None,
                         value.get("headlines"), error))
        page = grid_page(rows, title=grid.title or f"Report grid: {grid_name}", page_dir=tmp,
                         descriptions={r.name: r.description for r in grid.runs
                                       if r.description})
        (tmp / "grid.html").write_text(page, encoding="utf-8")
        (tmp / "manifest.json").write_text(json.dumps({
            "grid": grid_name, "run_id": run_id, "file": str(Path(path).resolve()),
            "engine": engine, "address": address,
            "status": "complete" if result.ok else "failed",
            "started": started.isoformat(timespec="seconds"),
            "seconds": round(result.seconds, 2), "command": list(command or sys.argv),
            "runs": result.runs}, indent=2), encoding="utf-8")
        shutil.copyfile(path, tmp / "grid.yaml")
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return result
