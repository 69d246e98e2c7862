"""The ``cs-sim`` command line: a thin typer layer over the package.

Every command catches :class:`cs_sim.errors.CsSimError`, prints its message to
stderr and exits with status 2; nothing here computes anything itself.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from cs_sim.errors import CsSimError

app = typer.Typer(
    name="cs-sim",
    help="Customer-success strategy workbook and simulator.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])


def user_errors(func: F) -> F:
    """Turn a :class:`CsSimError` into a clear message on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CsSimError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


# --- validate (data model: cs_sim.io) ----------------------------------------------------


@app.callback()
def _root() -> None:
    """Customer-success strategy workbook and simulator."""
    # a callback keeps `cs-sim validate PATH` a sub-command even while it is the only one


@app.command("validate")
@user_errors
def validate(
    path: Annotated[
        Path,
        typer.Argument(
            help="Dataset folder holding accounts and mrr (and optional tables), each as "
            "<table>.csv or <table>.parquet.",
            show_default=False,
        ),
    ],
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the problems as a JSON list (empty when valid)."),
    ] = False,
) -> None:
    """Check a dataset folder and report every problem at once.

    Exits 0 when the dataset is valid and 2 when it is not. Each problem names the
    file, the column, the first offending lines (the header is line 1) and a fix.
    """
    from cs_sim.errors import DataValidationError
    from cs_sim.io import load_dataset
    from cs_sim.schema import OPTIONAL_TABLES

    try:
        dataset = load_dataset(path)
    except DataValidationError as exc:
        if as_json:
            typer.echo(json.dumps([p.to_dict() for p in exc.problems], indent=2))
            raise typer.Exit(code=exc.exit_code) from None
        raise
    if as_json:
        typer.echo("[]")
        return
    tables = dataset.tables()
    counts = ", ".join(f"{name}: {len(frame)} rows" for name, frame in tables.items())
    absent = [t for t in OPTIONAL_TABLES if t not in tables]
    tail = f"; optional tables absent: {', '.join(absent)}" if absent else ""
    typer.echo(f"OK: {path} ({counts}{tail})")


# --- kpis (KPI baseline: cs_sim.baseline) -------------------------------------------------


@app.command("kpis")
@user_errors
def kpis_command(
    path: Annotated[Path, typer.Argument(help="Dataset folder (see `cs-sim validate`).")],
    by: Annotated[
        str | None,
        typer.Option("--by", help="Accounts column to segment by, e.g. plan, industry, region."),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(help="First month of the window (YYYY-MM); default 12 months before end."),
    ] = None,
    end: Annotated[
        str | None, typer.Option(help="Last month of the window (YYYY-MM); default the last.")
    ] = None,
    gross_margin: Annotated[
        float, typer.Option(help="Gross margin assumed for CLV, a fraction.")
    ] = 0.8,
    as_json: Annotated[bool, typer.Option("--json", help="Print the baseline as JSON.")] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="Also write baseline.json, baseline.txt and CSV tables here."),
    ] = None,
) -> None:
    """Print the KPI baseline of a dataset: revenue, retention, value, voice, usage, health."""
    from cs_sim.baseline import kpi_baseline
    from cs_sim.io import load_dataset

    baseline = kpi_baseline(
        load_dataset(path), start=start, end=end, by=by, gross_margin=gross_margin
    )
    if as_json:
        typer.echo(json.dumps(baseline.to_dict(), indent=2))
    else:
        typer.echo(baseline.to_text())
    if out is not None:
        written = baseline.write(out)
        typer.echo(f"wrote {len(written)} files to {out}", err=as_json)


def main() -> None:
    """Entry point of the ``cs-sim`` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
