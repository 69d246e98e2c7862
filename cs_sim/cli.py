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
from typing import Annotated, Any, Literal, TypeVar

import typer

from cs_sim.errors import CsSimError
from cs_sim.sim.registry import engine_names

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


# --- simulate / compare / generate (simulator: cs_sim.sim, cs_sim.synth) -----------------

def _sim_bar(total: int, desc: str, enabled: bool, unit: str = "rep") -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=not enabled,
                leave=False)


_ReplicationsOpt = Annotated[
    int, typer.Option("--replications", "-r", min=1, help="Monte Carlo replications.")
]
_SeedOpt = Annotated[
    int | None, typer.Option(min=0, help="Root seed (default: fresh, and printed).")
]
#: the registered engines (cs_sim.sim.registry, which imports nothing heavy): the
#: choices of --engine
_EngineName = Literal[tuple(engine_names())]  # type: ignore[valid-type]
_EngineOpt = Annotated[
    _EngineName,
    typer.Option(help="Engine: local (this process), dask (a Dask cluster) or another "
                 "registered engine."),
]
_WorkersOpt = Annotated[
    int | None,
    typer.Option(min=1, help="Dask: workers of the local cluster started (n_workers)."),
]
_AddressOpt = Annotated[
    str | None, typer.Option(help="Dask: scheduler address, e.g. tcp://10.0.0.5:8786.")
]


def _engine_options(address: str | None, workers: int | None) -> dict[str, Any]:
    """The --address and --workers given, as ``engine_options`` of cs_sim.simulate."""
    given = {"address": address, "n_workers": workers}
    return {k: v for k, v in given.items() if v is not None}


@app.command("simulate")
@user_errors
def simulate_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML (see templates/scenarios).")],
    replications: _ReplicationsOpt = 20,
    seed: _SeedOpt = None,
    engine: _EngineOpt = "local",
    workers: _WorkersOpt = None,
    address: _AddressOpt = None,
    data: Annotated[
        Path | None,
        typer.Option(help="Dataset folder whose last month's customers start the run."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the tidy frames and the summary (CSV, JSON, text) here."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Progress bar on stderr.")
    ] = True,
) -> None:
    """Run a scenario's Monte Carlo replications and print each metric's mean and range.

    The range of outcomes is the 5% to 95% quantile of the replications' results: how
    much one future may differ from another (not the uncertainty of the mean).
    """
    from cs_sim.sim.runners import resolve_seed, simulate
    from cs_sim.sim.scenario_io import load_scenario

    sc = load_scenario(scenario)
    dataset = None
    if data is not None:
        from cs_sim.io import load_dataset

        dataset = load_dataset(data)
        if sc.population.source != "dataset":
            sc = sc.with_changes({"population": {"source": "dataset"}})
    s = resolve_seed(seed)
    with _sim_bar(replications, sc.name, progress) as bar:
        res = simulate(sc, replications=replications, seed=s, engine=engine, dataset=dataset,
                       engine_options=_engine_options(address, workers), progress=bar.update)
    if as_json:
        typer.echo(json.dumps({**res.to_dict(), "engine": engine}, indent=2))
    else:
        typer.echo(res.to_text())
    if out is not None:
        written = res.write(out)
        typer.echo(f"wrote {len(written)} files to {out}", err=as_json)


@app.command("compare")
@user_errors
def compare_command(
    scenarios: Annotated[
        list[Path],
        typer.Argument(help="Baseline YAML first, then one or more variants.", min=2),
    ],
    replications: _ReplicationsOpt = 20,
    seed: _SeedOpt = None,
    engine: _EngineOpt = "local",
    workers: _WorkersOpt = None,
    address: _AddressOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="Write each comparison (JSON, text, CSV, both runs) into a "
                     "folder named after its variant here."),
    ] = None,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Progress bar on stderr.")
    ] = True,
) -> None:
    """Compare variants with the first scenario on common random numbers.

    Each variant runs with the same seed (and customers) as the baseline, so the paired
    difference per replication is the effect of the change. Prints each mean difference
    with its uncertainty (the 90% confidence interval of the mean difference), and the
    ROI ((gross profit gained - extra cost) / extra cost).
    """
    from cs_sim.sim.runners import compare, resolve_seed
    from cs_sim.sim.scenario_io import load_scenario

    if len(scenarios) < 2:
        raise CsSimError("compare needs a baseline and at least one variant")
    loaded = [load_scenario(p) for p in scenarios]
    s = resolve_seed(seed)
    base = loaded[0]
    results = []
    runs = 2 * replications * (len(loaded) - 1)  # each comparison runs both scenarios
    with _sim_bar(runs, "compare", progress) as bar:
        for variant in loaded[1:]:
            cmp = compare(base, variant, replications=replications, seed=s, engine=engine,
                          engine_options=_engine_options(address, workers),
                          progress=bar.update)
            results.append(cmp)
    if as_json:
        doc = {"baseline": base.name, "seed": s, "replications": replications, "level": 0.9,
               "engine": engine, "comparisons": [cmp.to_dict() for cmp in results]}
        typer.echo(json.dumps(doc, indent=2))
    else:
        typer.echo("\n\n".join(cmp.to_text() for cmp in results))
    if out is not None:
        folders = _variant_folders(out, [cmp.variant.scenario.name for cmp in results])
        written = [path for cmp, folder in zip(results, folders, strict=True)
                   for path in cmp.write(folder)]
        typer.echo(f"wrote {len(written)} files to {out}", err=as_json)


def _variant_folders(out: Path, names: list[str]) -> list[Path]:
    """One folder per variant inside ``out``, named after it (``-2``, ... on repeats)."""
    folders: list[Path] = []
    for name in names:
        folder, n = out / name, 1
        while folder in folders:
            n += 1
            folder = out / f"{name}-{n}"
        folders.append(folder)
    return folders


@app.command("generate")
@user_errors
def generate_command(
    out: Annotated[Path, typer.Argument(help="Folder to create (must be empty or absent).")],
    scenario: Annotated[
        Path | None,
        typer.Option(help="As-is scenario YAML (default templates/scenarios/sample_company.yaml)."),
    ] = None,
    accounts: Annotated[
        int | None, typer.Option(min=1, help="Customers at the start of the period.")
    ] = None,
    months: Annotated[int | None, typer.Option(min=2, help="Months of data.")] = None,
    start_month: Annotated[
        str | None, typer.Option(help="First month of the data, YYYY-MM.")
    ] = None,
    seed: _SeedOpt = None,
    fmt: Annotated[
        str, typer.Option("--format", help="File format of the tables: csv or parquet.")
    ] = "csv",
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty folder.")] = False,
) -> None:
    """Generate a synthetic company: the simulator run over a past period, as data.

    Writes the canonical tables, ground_truth.json (the parameters used), manifest.json
    (checksums) and a README into OUT; the same seed and options give the same files.
    """
    from cs_sim.sim.runners import resolve_seed
    from cs_sim.synth import generate
    from cs_sim.tables import check_file_format

    file_format = check_file_format(fmt)
    s = resolve_seed(seed)
    company = generate(out, scenario, seed=s, n_accounts=accounts, months=months,
                       start_month=start_month, format=file_format, force=force)
    ds = company.dataset
    counts = ", ".join(f"{name} {len(frame):,}" for name, frame in ds.tables().items())
    typer.echo(f"wrote {out}: seed {s}, {company.scenario.horizon_months} months from "
               f"{company.options['start_month']} ({counts} rows)")


def main() -> None:
    """Entry point of the ``cs-sim`` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
