"""The one YAML reader of cs_sim: a mapping from a file, ``yaml.safe_load`` only.

Scenarios (:func:`cs_sim.sim.scenario.load_scenario`) and KPI configuration files
(health score, feedback taxonomy) are read with :func:`load_yaml_mapping`; each passes
its own error class, so a scenario file raises :class:`~cs_sim.errors.ScenarioError`
and a KPI file :class:`~cs_sim.errors.KpiConfigError`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

from cs_sim.errors import CsSimError

__all__ = ["dump_yaml_mapping", "load_yaml_mapping"]


class _Readable(Protocol):
    def read_text(self, encoding: str = ...) -> str: ...  # pragma: no cover


def load_yaml_mapping(
    path: str | os.PathLike[str] | _Readable,
    *,
    what: str = "file",
    source: str | None = None,
    error: type[CsSimError] = CsSimError,
) -> dict[str, Any]:
    """Read a YAML file whose top level is a mapping (``key: value``).

    Only ``yaml.safe_load`` is used: tags such as ``!!python/object`` are rejected,
    never executed. An empty file is an empty mapping.

    Parameters
    ----------
    path : str, os.PathLike or Traversable
        The file (a packaged resource from :mod:`importlib.resources` works too).
    what : str, default "file"
        What the file holds, for messages (e.g. ``"health score configuration"``).
    source : str, optional
        How messages name the file (default: ``str(path)``).
    error : type, default CsSimError
        The :class:`~cs_sim.errors.CsSimError` subclass to raise.

    Returns
    -------
    dict
        The mapping, as ``yaml.safe_load`` returns it.

    Raises
    ------
    CsSimError
        Of class ``error``, if the file cannot be read, is not valid YAML (the message
        gives the line and column, as an editor counts them) or is not a mapping.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.yaml"
    >>> _ = p.write_text("a: [1, 2\\n")
    >>> load_yaml_mapping(p, source="s.yaml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cs_sim.errors.CsSimError: s.yaml: not valid YAML at line 2, column 1: ...
    """
    import yaml  # lazy: keep ``import cs_sim`` light

    name = str(path) if source is None else source
    file = Path(path) if isinstance(path, (str, os.PathLike)) else path
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{name}: cannot read the {what}: file not found ({path})") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise error(f"{name}: cannot read the {what}: {reason}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error(f"{name}: not valid YAML{_where(exc)}: {_problem(exc)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise error(f"{name}: the {what} must be a YAML mapping (key: value) at the top "
                    f"level, got {type(data).__name__}")
    return data


def dump_yaml_mapping(data: dict[str, Any], *, header: str | None = None) -> str:
    """The text of a YAML file holding ``data`` (``yaml.safe_dump``, keys in order).

    Parameters
    ----------
    data : dict
        Plain data (dicts, lists, strings, numbers, booleans).
    header : str, optional
        Comment lines put first (each prefixed with ``# ``).

    Returns
    -------
    str
        Block-style YAML that :func:`load_yaml_mapping` reads back as ``data``.

    Examples
    --------
    >>> print(dump_yaml_mapping({"name": "x", "tiers": [{"name": "a"}]}, header="hi"), end="")
    # hi
    name: x
    tiers:
    - name: a
    """
    import yaml  # lazy: keep ``import cs_sim`` light

    body = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)
    lines = [f"# {line}".rstrip() for line in (header or "").splitlines()]
    return "".join(f"{line}\n" for line in lines) + body


def _where(exc: Exception) -> str:
    """`` at line L, column C`` (1-based) of a YAML error, or ``""`` without a mark."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return ""
    return f" at line {mark.line + 1}, column {mark.column + 1}"


def _problem(exc: Exception) -> str:
    """The YAML error in words, without the ``in "<unicode string>"`` position lines."""
    parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
    text = "; ".join(p for p in parts if p)
    return text or str(exc)
