"""The ``cs-sim`` command line: a thin typer layer over the package.

Every command catches :class:`cs_sim.errors.CsSimError`, prints its message to
stderr and exits with status 2; nothing here computes anything itself.
"""

from __future__ import annotations

import enum
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


# --- simulate / compare / generate (simulator: cs_sim.sim, cs_sim.synth) -----------------

#: rows of the simulation summary: metric -> (label, unit)
_SIM_ROWS: dict[str, tuple[str, str]] = {
    "monthly_logo_churn": ("Monthly logo churn", "pct"),
    "annual_logo_churn": ("Annual logo churn", "pct"),
    "grr": ("GRR (starting customers, horizon)", "pct"),
    "nrr": ("NRR (starting customers, horizon)", "pct"),
    "clv": ("CLV (ARPA x margin / churn)", "money"),
    "mrr_end": ("MRR at the end", "money"),
    "revenue": ("Revenue (horizon)", "money"),
    "total_cost": ("CS cost (horizon)", "money"),
    "profit": ("Gross profit - CS cost", "money"),
    "csm_utilisation": ("CSM utilisation", "pct"),
}


def _sim_fmt(value: Any, unit: str, *, diff: bool = False) -> str:
    import math

    if value is None or not math.isfinite(float(value)):
        return "n/a"
    v = float(value)
    if unit == "pct":
        return f"{100 * v:+.2f} pp" if diff else f"{100 * v:.2f}%"
    return f"{v:+,.0f}" if diff else f"{v:,.0f}"


def _sim_json(value: Any) -> Any:
    import math

    if isinstance(value, dict):
        return {str(k): _sim_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_sim_json(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _sim_bar(total: int, desc: str, enabled: bool, unit: str = "rep") -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=not enabled,
                leave=False)


class _Engine(enum.StrEnum):
    local = "local"
    dask = "dask"


_EngineOpt = Annotated[
    _Engine, typer.Option(help="Run in this process (local) or on a Dask cluster.")
]
_WorkersOpt = Annotated[
    int | None, typer.Option(min=1, help="Dask: workers of the local cluster started.")
]
_AddressOpt = Annotated[
    str | None, typer.Option(help="Dask: scheduler address, e.g. tcp://10.0.0.5:8786.")
]


@app.command("simulate")
@user_errors
def simulate_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML (see templates/scenarios).")],
    replications: Annotated[
        int, typer.Option("--replications", "-r", min=1, help="Monte Carlo replications.")
    ] = 20,
    seed: Annotated[
        int | None, typer.Option(min=0, help="Root seed (default: fresh, and printed).")
    ] = None,
    engine: _EngineOpt = _Engine.local,
    workers: _WorkersOpt = None,
    address: _AddressOpt = None,
    data: Annotated[
        Path | None,
        typer.Option(help="Dataset folder whose last month's customers start the run."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the tidy frames (CSV) and summary.json into this folder."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Progress bar on stderr.")
    ] = True,
) -> None:
    """Run a scenario's Monte Carlo replications and print means and 90% intervals."""
    from cs_sim.sim.dask_runner import simulate_with_progress
    from cs_sim.sim.runners import resolve_seed
    from cs_sim.sim.scenario import load_scenario

    sc = load_scenario(scenario)
    dataset = None
    if data is not None:
        from cs_sim.io import load_dataset

        dataset = load_dataset(data)
        if sc.population.source != "dataset":
            sc = sc.with_changes({"population": {"source": "dataset"}})
    s = resolve_seed(seed)
    with _sim_bar(replications, sc.name, progress) as bar:
        res = simulate_with_progress(
            sc, replications=replications, seed=s, engine=engine.value, progress=bar.update,
            dataset=dataset, address=address, n_workers=workers,
        )
    summary = res.summary()
    doc = {
        "scenario": sc.name, "seed": s, "replications": replications, "engine": engine.value,
        "horizon_months": sc.horizon_months, "level": 0.9,
        "summary": _sim_json(summary.to_dict(orient="index")),
    }
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for name in ("monthly", "tiers", "interventions", "per_replication"):
            getattr(res, name).to_csv(out / f"{name}.csv", index=False)
        summary.to_csv(out / "summary.csv")
        (out / "summary.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(doc, indent=2))
    else:
        typer.echo(f"{sc.name}: {replications} replications x {sc.horizon_months} months, "
                   f"seed {s}, engine {engine.value}")
        typer.echo(f"{'metric':36s} {'mean':>14s}   90% interval")
        for key, (label, unit) in _SIM_ROWS.items():
            row = summary.loc[key]
            typer.echo(f"{label:36s} {_sim_fmt(row['mean'], unit):>14s}   "
                       f"[{_sim_fmt(row['lo'], unit)} .. {_sim_fmt(row['hi'], unit)}]")
    if out is not None:
        typer.echo(f"wrote the frames and summary.json to {out}", err=as_json)


@app.command("compare")
@user_errors
def compare_command(
    scenarios: Annotated[
        list[Path],
        typer.Argument(help="Baseline YAML first, then one or more variants.", min=2),
    ],
    replications: Annotated[
        int, typer.Option("--replications", "-r", min=1, help="Monte Carlo replications.")
    ] = 20,
    seed: Annotated[
        int | None, typer.Option(min=0, help="Root seed (default: fresh, and printed).")
    ] = None,
    engine: _EngineOpt = _Engine.local,
    workers: _WorkersOpt = None,
    address: _AddressOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Progress bar on stderr.")
    ] = True,
) -> None:
    """Compare variants with the first scenario on common random numbers.

    Each variant runs with the same seed (and customers) as the baseline, so the paired
    difference per replication is the effect of the change. Prints each difference with
    a 90% interval of its mean, and the ROI ((gross profit gained - extra cost) / extra
    cost).
    """
    import cs_sim
    from cs_sim.sim.runners import resolve_seed
    from cs_sim.sim.scenario import load_scenario

    if len(scenarios) < 2:
        raise CsSimError("compare needs a baseline and at least one variant")
    loaded = [load_scenario(p) for p in scenarios]
    s = resolve_seed(seed)
    options = {}
    if engine is _Engine.dask:
        options = {k: v for k, v in {"address": address, "n_workers": workers}.items() if v}
    base = loaded[0]
    results = []
    with _sim_bar(len(loaded) - 1, "variants", progress, unit="variant") as bar:
        for variant in loaded[1:]:
            cmp = cs_sim.compare(base, variant, replications=replications, seed=s,
                                 engine=engine.value, engine_options=options)
            results.append((variant, cmp.summary()))
            bar.update(1)
    doc = {
        "baseline": base.name, "seed": s, "replications": replications, "level": 0.9,
        "engine": engine.value,
        "comparisons": [
            {"variant": v.name, "summary": _sim_json(summary.to_dict(orient="index"))}
            for v, summary in results
        ],
    }
    if as_json:
        typer.echo(json.dumps(doc, indent=2))
        return
    typer.echo(f"baseline {base.name}: {replications} replications, seed {s}, common random "
               "numbers")
    for variant, summary in results:
        typer.echo("")
        typer.echo(f"{variant.name} vs {base.name}")
        typer.echo(f"{'metric':36s} {'baseline':>14s} {'variant':>14s} {'difference':>14s}"
                   "   90% CI of the difference")
        for key, (label, unit) in _SIM_ROWS.items():
            row = summary.loc[key]
            typer.echo(
                f"{label:36s} {_sim_fmt(row['baseline'], unit):>14s} "
                f"{_sim_fmt(row['variant'], unit):>14s} "
                f"{_sim_fmt(row['diff'], unit, diff=True):>14s}   "
                f"[{_sim_fmt(row['ci_lo'], unit, diff=True)} .. "
                f"{_sim_fmt(row['ci_hi'], unit, diff=True)}]"
            )
        roi = summary.loc["roi", "diff"]
        roi_text = "n/a (no cost difference)" if not roi == roi else f"{roi:.2f}"
        typer.echo(f"{'ROI (gain - extra cost) / extra cost':36s} {roi_text:>14s}")


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
    seed: Annotated[
        int | None, typer.Option(min=0, help="Root seed (default: fresh, and printed).")
    ] = None,
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

    if fmt not in ("csv", "parquet"):
        raise CsSimError(f"--format: must be csv or parquet (got {fmt!r})")
    s = resolve_seed(seed)
    company = generate(out, scenario, seed=s, n_accounts=accounts, months=months,
                       start_month=start_month, format=fmt, force=force)  # type: ignore[arg-type]
    ds = company.dataset
    counts = ", ".join(f"{name} {len(frame):,}" for name, frame in ds.tables().items())
    typer.echo(f"wrote {out}: seed {s}, {company.scenario.horizon_months} months from "
               f"{company.options['start_month']} ({counts} rows)")


def main() -> None:
    """Entry point of the ``cs-sim`` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
