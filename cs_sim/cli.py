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
from typer.core import TyperArgument, TyperGroup

from cs_sim.errors import CsSimError
from cs_sim.report._cli import report_command
from cs_sim.sim.registry import engine_names  # noqa: F401  (the engines of --engine)


def _plain_help(command: Any) -> Any:
    """Help in a user's words: ``PATH`` (not ``{path}`` or ``<path>``), flags without
    ``<bool>``. Arguments are named by their metavar, or their name in capitals; path
    options without a metavar are ``PATH`` (``DIR`` for ``--out``)."""
    for param in command.params:
        if isinstance(param, TyperArgument):
            if param.metavar is None:
                param.metavar = param.name.upper()
            more = "..." if param.nargs != 1 else ""
            param.display_type_rich = lambda ctx=None: None
            param._usage_display_name = (
                (lambda p=param, m=more: f"{p.metavar}{m}") if param.required
                else (lambda p=param, m=more: f"[{p.metavar}]{m}"))
        elif getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
        elif param.metavar is None and getattr(param.type_descriptor, "is_path", False):
            param.metavar = "DIR" if param.name in ("out", "out_dir") else "PATH"
        elif param.metavar is None and not param.type_descriptor.is_choice:
            words = {"int": "N", "float": "NUMBER", "str": "TEXT"}
            param.metavar = words.get(param.bare_type())
    get_help_option = command.get_help_option

    def help_option(ctx: Any, _get: Any = get_help_option) -> Any:
        option = _get(ctx)
        if option is not None and option.metavar is None:
            option.metavar = ""
        return option

    command.get_help_option = help_option
    return command


class _Group(TyperGroup):
    """The ``cs-sim`` group: every command's help shown with :func:`_plain_help`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _plain_help(self)
        for command in self.commands.values():
            _plain_help(command)


app = typer.Typer(
    name="cs-sim",
    help="Customer-success strategy workbook and simulator.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_Group,
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


def _version(value: bool) -> None:
    if value:
        from cs_sim import __version__

        typer.echo(f"cs-sim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True,
                     help="Show the version of cs-sim and exit."),
    ] = False,
) -> None:
    """Customer-success strategy workbook and simulator."""
    # a callback keeps `cs-sim validate PATH` a sub-command even while it is the only one


@app.command("validate")
@user_errors
def validate(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="PATH",
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
    Warnings (valid data that change figures silently, such as a month without rows)
    follow an OK.
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
    absent = [t for t in OPTIONAL_TABLES if t not in tables and t != "fx"]
    tail = f"; optional tables absent: {', '.join(absent)}" if absent else ""
    money = f"; money in {dataset.currency}" if dataset.currency else ""
    typer.echo(f"OK: {path} ({counts}{tail}{money})")
    for warning in dataset.warnings:
        typer.echo(f"warning: {warning}")


# --- kpis (KPI baseline: cs_sim.baseline) -------------------------------------------------


@app.command("kpis")
@user_errors
def kpis_command(
    path: Annotated[Path, typer.Argument(metavar="PATH",
                                         help="Dataset folder (see `cs-sim validate`).")],
    by: Annotated[
        str | None,
        typer.Option("--by", metavar="COLUMN",
                     help="Accounts column to segment by, e.g. plan, industry, region."),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(metavar="YYYY-MM", show_default="12 months before --end",
                     help="Opening month of the window: retention follows the accounts "
                     "paying then, and every figure covers the months after it up to --end."),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(metavar="YYYY-MM", show_default="the last month of the mrr data",
                     help="Last month of the window."),
    ] = None,
    gross_margin: Annotated[
        float, typer.Option(metavar="FRACTION",
                            help="Gross margin assumed for CLV, e.g. 0.8 for 80%.")
    ] = 0.8,
    conventions: Annotated[
        Literal["cs_sim", "chartmogul", "baremetrics"],
        typer.Option(help="Whose definitions of net MRR churn, logo churn, quick ratio and "
                     "CLV (see the README, 'Metric conventions')."),
    ] = "cs_sim",
    currency: Annotated[
        str | None,
        typer.Option(metavar="CODE", show_default="the currency column of the data",
                     help="Currency of the money figures when the data do not say, e.g. "
                     "USD."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the baseline as JSON.")] = False,
    out: Annotated[
        Path | None,
        typer.Option(metavar="DIR", show_default="nothing is written",
                     help="Also write baseline.json, baseline.txt and CSV tables here."),
    ] = None,
) -> None:
    """Print the KPI baseline of a dataset: revenue, retention, value, voice, usage, health.

    The window, the currency and the metric conventions are stated at the top; every
    figure that is n/a says why.
    """
    from cs_sim.baseline import kpi_baseline
    from cs_sim.io import load_dataset

    baseline = kpi_baseline(
        load_dataset(path), start=start, end=end, by=by, gross_margin=gross_margin,
        conventions=conventions, currency=currency,
    )
    if as_json:
        typer.echo(json.dumps(baseline.to_dict(), indent=2))
    else:
        typer.echo(baseline.to_text())
    if out is not None:
        written = baseline.write(out)
        typer.echo(f"wrote {len(written)} files to {out}", err=as_json)


# --- import (a client's exports into a dataset: cs_sim.io.intake) -------------------------


@app.command("import")
@user_errors
def import_command(
    source: Annotated[Path, typer.Argument(
        metavar="SOURCE_DIR", help="Folder holding the export files the mapping names "
        "(never modified).")],
    mapping: Annotated[Path, typer.Option(
        "--map", metavar="MAPPING", help="Import mapping YAML (template: "
        "templates/import_mapping.yaml).")],
    out: Annotated[Path, typer.Option(
        "--out", metavar="DATASET_DIR", help="Dataset folder to create (new or empty).")],
    fmt: Annotated[
        str, typer.Option("--format", metavar="FORMAT",
                          help="File format of the tables written: csv or parquet.")
    ] = "csv",
    force: Annotated[bool, typer.Option("--force", help="Replace DATASET_DIR if it holds "
                                        "files.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the import log as JSON.")
                       ] = False,
) -> None:
    """Turn a client's exports (CSV, Excel, Parquet) into a validated dataset folder.

    The mapping names, per table, the source file (and sheet), the source column of
    each canonical column, the date format, the decimal and thousands separators,
    currency symbols, texts meaning "missing", value maps and constant fills. The
    result is validated and moved into place only when valid; every transformation is
    logged with the rows it touched (import_log.txt and import_log.json in DATASET_DIR).
    """
    from cs_sim.io.intake import import_dataset
    from cs_sim.tables import check_file_format

    result = import_dataset(source, mapping, out, format=check_file_format(fmt), force=force)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    typer.echo(result.summary())
    for warning in result.warnings:
        typer.echo(f"warning: {warning}")


# --- simulate / compare / generate (simulator: cs_sim.sim, cs_sim.synth) -----------------

from cs_sim._cli_sim import (  # noqa: E402  (the simulator commands' shared options)
    _AddressOpt,
    _engine_options,
    _EngineOpt,
    _ReplicationsOpt,
    _SeedOpt,
    _sim_bar,
    _WorkersOpt,
)


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

    Money (revenue, costs, profit, NPV, CLV), retention, customers and team figures,
    then the main ones by segment and by tier. The range of outcomes is the 5% to 95%
    quantile of the replications' results: how much one future may differ from another
    (not the uncertainty of the mean).
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
                       engine_options=_engine_options(engine, address, workers),
                       progress=bar.update)
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
        typer.Option(help="Write each comparison (JSON, text, CSV tables, a forest chart "
                     "of the differences as PNG and SVG, both runs) into a folder named "
                     "after its variant here."),
    ] = None,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Progress bar on stderr.")
    ] = True,
) -> None:
    """Compare variants with the first scenario on common random numbers.

    Each variant runs with the same seed (and customers) as the baseline, so the paired
    difference per replication is the effect of the change. Prints the decision (the
    extra cost and profit change, the ROI (profit change / extra cost) only where the
    variant costs more, the saving where it costs less, NPV, payback, the probability
    that the variant is better), notes on changes that cannot act (an idle team, a play
    nobody is eligible for), then each mean difference with its uncertainty (the 90%
    Student-t interval of the mean difference), by tier and by segment.
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
                          engine_options=_engine_options(engine, address, workers),
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


def _names(text: str | None) -> list[str] | None:
    """A comma-separated option as a list of names (None when not given)."""
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


@app.command("sensitivity")
@user_errors
def sensitivity_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML (the baseline with --vs).")],
    vs: Annotated[
        Path | None,
        typer.Option("--vs", help="Variant YAML: measure variant - baseline, paired on "
                     "common random numbers."),
    ] = None,
    params: Annotated[
        str | None,
        typer.Option(help="Comma-separated parameter paths to vary, e.g. "
                     "segments.smb.churn_intercept,plays.qbr.effect.hazard_multiplier "
                     "(default: every parameter given as a distribution; one without a "
                     "distribution varies by +/- --spread)."),
    ] = None,
    metric: Annotated[
        str | None,
        typer.Option(help="Comma-separated outcome metrics (default: profit,nrr; the "
                     "metrics of `cs-sim simulate --json`)."),
    ] = None,
    replications: _ReplicationsOpt = 20,
    seed: _SeedOpt = None,
    spread: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Relative range of a --params parameter "
                            "without a distribution (0.2: value -/+ 20%).")
    ] = 0.2,
    sobol_samples: Annotated[
        int, typer.Option(min=0, help="Saltelli base sample N of the Sobol indices, a power "
                          "of 2 (runs N x (parameters + 2) points); 0 skips them.")
    ] = 32,
    sobol_replications: Annotated[
        int, typer.Option(min=1, help="Replications of each Sobol point.")
    ] = 4,
    engine: _EngineOpt = "local",
    workers: _WorkersOpt = None,
    address: _AddressOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the tornado charts (PNG, SVG), CSV tables, JSON and text "
                     "here."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Progress bar on stderr.")
    ] = True,
) -> None:
    """How much the outcome rests on each uncertain parameter: a tornado and Sobol indices.

    Tornado: each parameter at its low and high value (a distribution's 5% and 95%
    quantiles), the others central, on common random numbers. Sobol (SALib): the share
    of the outcome's variance each parameter explains, first order and total, with 95%
    confidence intervals.
    """
    from cs_sim.sim.runners import resolve_seed
    from cs_sim.sim.scenario_io import load_scenario
    from cs_sim.sim.sensitivity import sensitivity

    base = load_scenario(scenario)
    variant = None if vs is None else load_scenario(vs)
    s = resolve_seed(seed)
    with _sim_bar(None, "sensitivity", progress, unit="run") as bar:
        res = sensitivity(base, variant, params=_names(params), metrics=_names(metric),
                          replications=replications, seed=s, spread=spread,
                          sobol_samples=sobol_samples, sobol_replications=sobol_replications,
                          progress=bar.update, engine=engine,
                          engine_options=_engine_options(engine, address, workers))
    if as_json:
        typer.echo(json.dumps(res.to_dict(), indent=2))
    else:
        typer.echo(res.to_text())
    if out is not None:
        written = res.write(out)
        typer.echo(f"wrote {len(written)} files to {out}", err=as_json)


@app.command("panel")
@user_errors
def panel_command(
    scenario: Annotated[
        Path | None,
        typer.Argument(help="Baseline scenario YAML (default templates/scenarios/baseline.yaml)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port on 127.0.0.1 (default: a free one)."),
    ] = None,
    replications: Annotated[
        int, typer.Option("--replications", "-r", min=2, help="Replications of each run.")
    ] = 20,
    seed: _SeedOpt = None,
) -> None:
    """Serve the interactive what-if panel as a web page on this machine (Voila).

    Move a control (CSMs and cost per tier, tier ARR cut-offs, plays and their effect,
    onboarding hours, churn and expansion changes, horizon) and the page re-runs the
    comparison with the scenario on common random numbers and redraws the decision,
    the forest chart, the MRR fan chart and the teams by tier. "Save as scenario"
    writes a YAML file that extends SCENARIO, next to it. The code is hidden; Ctrl+C
    stops the server.
    """
    from cs_sim.sim.runners import resolve_seed
    from cs_sim.widgets.serve import serve_panel

    serve_panel(scenario, port=port, replications=replications, seed=resolve_seed(seed),
                announce=typer.echo)


# --- calibrate / backtest (a dataset into a simulator baseline: cs_sim.calibration) -------


@app.command("calibrate")
@user_errors
def calibrate_command(
    path: Annotated[Path, typer.Argument(metavar="PATH",
                                         help="Dataset folder (see `cs-sim validate`).")],
    out: Annotated[
        Path, typer.Option("--out", metavar="YAML",
                           help="Scenario YAML to write (e.g. baseline.yaml).")
    ] = Path("baseline.yaml"),
    segment_by: Annotated[
        str | None,
        typer.Option("--segment-by", metavar="COLUMN",
                     help="Accounts column whose labels are the segments (default: "
                     "segment, when the accounts have it)."),
    ] = None,
    uncertainty: Annotated[
        bool, typer.Option("--uncertainty", help="Write each estimate with a standard "
                           "error as a distribution (each replication draws it).")
    ] = False,
    horizon: Annotated[int, typer.Option(min=1, max=600, metavar="MONTHS",
                                         help="Months the baseline simulates.")] = 12,
    as_json: Annotated[bool, typer.Option("--json", help="Print the estimates as JSON.")
                       ] = False,
) -> None:
    """Estimate a simulator baseline from a dataset's history and write it as a scenario.

    Churn hazard by segment, tenure and health, health dynamics, expansion and
    contraction, tickets and surveys, acquisition and contract mix, each with its
    standard error and method (statsmodels). The scenario starts from the dataset's
    customers in its last month: `cs-sim simulate OUT` (or `--data PATH`) runs it as
    it is. Prints the estimates and what the data could not identify.
    """
    from cs_sim.calibration import calibrate

    if out.exists() and out.is_dir():
        raise CsSimError(f"--out {out}: is a folder; give the scenario file to write, e.g. "
                         f"{out / 'baseline.yaml'}")
    cal = calibrate(path, segment_by=segment_by, uncertainty=uncertainty,
                    horizon_months=horizon)
    cal.scenario_yaml(out)
    if as_json:
        typer.echo(json.dumps({**cal.to_dict(), "written": str(out)}, indent=2))
        return
    typer.echo(cal.to_text())
    typer.echo(f"\nwrote {out}: run it with `cs-sim simulate {out}`")


@app.command("backtest")
@user_errors
def backtest_command(
    path: Annotated[Path, typer.Argument(metavar="PATH",
                                         help="Dataset folder (see `cs-sim validate`).")],
    holdout: Annotated[int, typer.Option(min=1, metavar="MONTHS",
                                         help="Months held out at the end.")] = 12,
    replications: _ReplicationsOpt = 100,
    seed: _SeedOpt = None,
    segment_by: Annotated[
        str | None,
        typer.Option("--segment-by", metavar="COLUMN",
                     help="Accounts column whose labels are the segments."),
    ] = None,
    min_coverage: Annotated[
        float, typer.Option(min=0.01, max=1.0, metavar="FRACTION",
                            help="Share of held-out months each figure must cover to pass.")
    ] = 2 / 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print the backtest as JSON.")
                       ] = False,
    out: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="Also write backtest.json, .txt and .csv here."),
    ] = None,
) -> None:
    """Check the calibrated simulator on months it has not seen: the backtest gate.

    Calibrates on all but the last HOLDOUT months, simulates them from the customers
    paying at the cut and compares monthly logo churn, GRR and NRR with what happened:
    the gate passes when each lies in the simulated 90% range in at least 2 of 3 months
    (--min-coverage) and the customers lost over the months lie in their simulated
    range. Prints the verdict and its reasons; exits 0 when the gate passes, 1 when it
    fails (2 on bad input).
    """
    from cs_sim.calibration import backtest
    from cs_sim.sim.runners import resolve_seed

    s = resolve_seed(seed)
    res = backtest(path, holdout=holdout, replications=replications, seed=s,
                   segment_by=segment_by, min_coverage=min_coverage)
    if as_json:
        typer.echo(json.dumps(res.to_dict(), indent=2))
    else:
        typer.echo(res.to_text())
    if out is not None:
        written = res.write(out)
        typer.echo(f"wrote {len(written)} files to {out}", err=as_json)
    if not res.passed:
        raise typer.Exit(code=1)


app.command("report")(user_errors(report_command))  # in its own module: cs_sim.report


def main() -> None:
    """Entry point of the ``cs-sim`` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
