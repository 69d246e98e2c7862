"""The engine registry: engine names and where each engine lives.

It imports nothing heavy, so the CLI can list the engines (``cs-sim simulate
--engine``) without importing the simulator. An engine is stored as ``"module:function"``
and imported on first use; :func:`cs_sim.sim.runners.simulate` opens it through
:func:`get_engine`. What an engine is: :class:`cs_sim.sim.runners.Engine`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from cs_sim.errors import CsSimError

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.sim.runners import EngineFactory

__all__ = ["engine_names", "get_engine", "register_engine"]

#: name -> engine factory, or ``"module:function"`` imported on first use
_ENGINES: dict[str, EngineFactory | str] = {
    "local": "cs_sim.sim.runners:local_engine",
    "dask": "cs_sim.sim.dask:dask_engine",
    "processes": "cs_sim.sim.procs:processes_engine",
}


def register_engine(name: str, engine: EngineFactory | str) -> None:
    """Register an engine for ``simulate(..., engine=name)`` (and ``cs-sim --engine``).

    Parameters
    ----------
    name : str
    engine : callable or str
        A function of the engine's options (keyword arguments, given as
        ``engine_options``) returning a context manager that yields a
        :class:`cs_sim.sim.runners.Engine`; or ``"module:function"`` naming one,
        imported when the engine is first used.

    Examples
    --------
    >>> register_engine("ray", "my_package.ray_engine:ray_engine")  # doctest: +SKIP
    >>> simulate(scenario, replications=100, engine="ray")  # doctest: +SKIP
    """
    if not isinstance(name, str) or not name:
        raise CsSimError(f"engine: a name must be a non-empty string (got {name!r})")
    _ENGINES[name] = engine


def engine_names() -> list[str]:
    """Return the names of the registered engines, sorted (``"dask"``, ``"local"``, ...)."""
    return sorted(_ENGINES)


def get_engine(name: str) -> EngineFactory:
    """Return the engine registered as ``name``, importing it on first use.

    Raises
    ------
    cs_sim.errors.CsSimError
        If no engine has this name, or its module cannot be imported.
    """
    entry = _ENGINES.get(name)
    if entry is None:
        raise CsSimError(
            f"engine: unknown engine {name!r} (available: {', '.join(engine_names())})"
        )
    if isinstance(entry, str):
        module, _, attr = entry.partition(":")
        try:
            entry = getattr(importlib.import_module(module), attr)
        except ImportError as exc:
            raise CsSimError(f"engine {name!r}: cannot import {module} ({exc})") from None
        _ENGINES[name] = entry
    return entry
