"""Options shared by the simulator's commands (simulate, compare, sensitivity) of
:mod:`cs_sim.cli`: light to import (typer and the engine registry only)."""

from __future__ import annotations

import sys
from typing import Annotated, Any, Literal

import typer

from cs_sim.errors import CsSimError
from cs_sim.sim.registry import engine_names


def _sim_bar(total: int | None, desc: str, enabled: bool, unit: str = "rep") -> Any:
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
    typer.Option(help="Engine: local (this process), processes (this machine's cores), "
                 "dask (a Dask cluster) or another registered engine. The numbers do not "
                 "depend on it."),
]
_WorkersOpt = Annotated[
    int | None,
    typer.Option(min=1, help="processes: worker processes (default: one per CPU); dask: "
                 "workers of the local cluster started (n_workers)."),
]
_AddressOpt = Annotated[
    str | None, typer.Option(help="Dask: scheduler address, e.g. tcp://10.0.0.5:8786.")
]


def _engine_options(engine: str, address: str | None, workers: int | None) -> dict[str, Any]:
    """The --address and --workers given, as ``engine_options`` of cs_sim.simulate."""
    if engine == "processes":
        if address is not None:
            raise CsSimError("--address: the processes engine runs on this machine; fix: "
                             "leave --address out, or use --engine dask")
        return {} if workers is None else {"workers": workers}
    given = {"address": address, "n_workers": workers}
    return {k: v for k, v in given.items() if v is not None}
