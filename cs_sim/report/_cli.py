"""The ``cs-sim report`` command (registered by :mod:`cs_sim.cli`).

Kept in its own module, and light to import: typer only; the report machinery is
imported when the command runs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Literal

import typer

__all__ = ["report_command"]


def _quiet_papermill() -> None:
    # papermill warns "Passed unknown parameter" for names annotated `str | None`, which
    # it cannot parse; cs-sim report checks every parameter against the notebook itself
    logging.getLogger("papermill").setLevel(logging.ERROR)


def _command_line(ctx: typer.Context) -> list[str]:
    """The command as given: ``cs-sim report`` and the options set on the command line."""
    out = ["cs-sim", "report"]
    for param in ctx.command.params:
        source = ctx.get_parameter_source(param.name or "")
        if getattr(source, "name", None) != "COMMANDLINE":
            continue
        value = ctx.params.get(param.name or "")
        if getattr(param, "is_flag", False):
            opts = param.opts if value else (getattr(param, "secondary_opts", None)
                                             or param.opts)
            out.append(opts[0])
        else:
            out.extend([param.opts[0], str(value)])
    return out


def report_command(
    ctx: typer.Context,
    data: Annotated[Path | None, typer.Option(
        metavar="PATH", show_default="the parameter file's `data`, else data/sample",
        help="Dataset folder every stage reads (checked before any stage runs).")] = None,
    params: Annotated[Path | None, typer.Option(
        "--params", metavar="YAML", show_default="every notebook's defaults",
        help="Report parameter file: name, data, seed, only, jobs and each stage's "
        "notebook parameters (template: templates/report.yaml).")] = None,
    name: Annotated[str | None, typer.Option(
        metavar="NAME", show_default="the file's `name`, else the dataset folder's name",
        help="The report's folder: reports/NAME/RUN-ID/.")] = None,
    grid: Annotated[Path | None, typer.Option(
        metavar="YAML", help="Run every parameter set of a grid file, one report each, and "
        "write grid.html comparing them (template: templates/report_grid.yaml).")] = None,
    engine: Annotated[Literal["local", "dask"], typer.Option(
        help="With --grid: run the sets one after another here (local) or on a Dask "
        "cluster (dask; the workers must see this file system).")] = "local",
    address: Annotated[str | None, typer.Option(
        help="With --engine dask: scheduler address, e.g. tcp://10.0.0.5:8786 (default: "
        "a local cluster).")] = None,
    compare_to: Annotated[Path | None, typer.Option(
        "--compare-to", metavar="RUN_DIR",
        help="An earlier run, reports/NAME/RUN-ID: the index adds what moved since "
        "(KPIs, segments, health bands, plan targets met or missed).")] = None,
    out: Annotated[Path | None, typer.Option(
        metavar="DIR", show_default="reports/ of the repository (else of this folder)",
        help="Folder the reports go into: DIR/NAME/RUN-ID/.")] = None,
    jobs: Annotated[int | None, typer.Option(
        min=1, metavar="N", show_default="the number of CPUs",
        help="Stages run at once (each in its own kernel).")] = None,
    progress: Annotated[bool, typer.Option(
        "--progress/--no-progress", help="Progress bar of the stages on stderr.")] = True,
) -> None:
    """Run the workbook's notebooks into a report folder: pages, figures, plan, index.

    Checks the parameters (every stage and parameter against the notebooks, with their
    types) and the dataset first: on bad input it says what and where, writes nothing
    and exits 2. Then runs the stages with papermill, several at once, into
    reports/NAME/RUN-ID/: each executed notebook and its page (code hidden), figures
    as PNG and SVG, the strategy plan (Markdown, HTML), the what-if comparisons,
    headlines.json, manifest.json (parameters, data checksums, seeds, versions, timings),
    params.yaml (to run it again) and index.html. The folder appears only when complete.
    A stage that fails is shown as FAILED with its error, the others are kept, and the
    command exits 1.
    """
    _quiet_papermill()
    command = _command_line(ctx)
    try:
        if grid is not None:
            _grid(grid, params=params, engine=engine, address=address, name=name, data=data,
                  jobs=jobs, compare_to=compare_to, progress=progress, command=command,
                  reports_dir=out)
            return
        if engine != "local" or address is not None:
            from cs_sim.errors import ReportInputError

            raise ReportInputError("--engine/--address: they spread the sets of a grid; fix: "
                                   "add --grid FILE, or leave them out for one report")
        from cs_sim.report._params import ReportParams, load_params
        from cs_sim.report._runner import prepare, run_prepared

        loaded = load_params(params) if params is not None else ReportParams()
        prep = prepare(loaded, source=str(params or "report parameters"), data=data,
                       name=name, jobs=jobs, compare_to=compare_to)
        run = run_prepared(prep, reports_dir=out, progress=progress, command=command)
    except KeyboardInterrupt:
        typer.echo("interrupted: the stages were stopped and no report was written", err=True)
        raise typer.Exit(code=130) from None
    width = max(len(s.name) for s in run.stages)
    for s in run.stages:
        state = "complete" if s.status == "ok" else f"FAILED: {s.error}"
        typer.echo(f"  {s.name:<{width}}  {s.seconds:6.1f} s  {state}")
    if run.changes is not None:
        typer.echo(run.changes.headline())
    typer.echo(f"report: {run.index}")
    if run.failed:
        typer.echo(f"error: {len(run.failed)} of {len(run.stages)} stages failed "
                   f"({', '.join(s.name for s in run.failed)}); see {run.index}", err=True)
        raise typer.Exit(code=1)


def _grid(grid: Path, *, params: Path | None, **kw: object) -> None:
    from cs_sim.errors import ReportInputError
    from cs_sim.report._gridrun import run_grid

    if params is not None:
        raise ReportInputError("--params: a grid's sets take their parameters from the grid "
                               "file; fix: name the parameter file as `base:` in the grid")
    res = run_grid(grid, **kw)  # type: ignore[arg-type]
    for r in res.runs:
        typer.echo(f"  {r['name']}: {r['status']}" + (f" ({r['error']})" if r["error"] else ""))
    typer.echo(f"grid: {res.page}")
    if not res.ok:
        raise typer.Exit(code=1)
