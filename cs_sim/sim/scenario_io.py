"""The file side of scenarios: YAML with ``extends``, validation errors, JSON Schema.

:func:`load_scenario` reads a scenario YAML file (``yaml.safe_load`` only, through
:func:`cs_sim._yaml.load_yaml_mapping`), resolves ``extends`` and validates the result
into a :class:`~cs_sim.sim.scenario.Scenario`; :func:`scenario_from_dict` validates plain
data. Every validation problem becomes one line of a
:class:`~cs_sim.errors.ScenarioError` naming the file and the dotted path of the bad
field, with a did-you-mean for a misspelt key, e.g.::

    save_play.yaml: plays[1].effect.hazard_multiplier: must be > 0 (got -0.2)

Inheritance (``extends``)
-------------------------
A variant may start with ``extends: baseline.yaml`` (a path relative to the variant's
file) and give only what changes. The parent (itself possibly extending another file)
is deep-merged with the variant (:func:`deep_merge`):

- mappings merge key by key, recursively; a scalar or a list in the variant replaces the
  parent's value;
- **lists of named items** (``segments``, ``tiers``, ``plays``, ``retention_changes``;
  any list whose items are all mappings with a ``name``) merge *by name*: an item whose
  name exists in the parent is deep-merged into it (keeping the parent's position), a
  new name is appended, and an item ``{name: X, remove: true}`` deletes X;
- every other list (e.g. a tier's ``rule``, a play's ``condition`` or ``tiers``) is
  replaced as a whole;
- a distribution ``{dist: ...}`` in the variant replaces the parent's value (number or
  distribution) as a whole; a mapping without ``dist`` over a parent's distribution
  changes only the parameters it gives (e.g. ``{sd: 0.3}``).

Distributions
-------------
Any number may be given as a distribution, ``{dist: normal, mean: -3.5, sd: 0.2}``
(:mod:`cs_sim.sim.uncertainty`): :func:`scenario_from_dict` takes each one out before
validation (a bad one is an error naming the file and the parameter's path), puts its
median in its place and keeps it in ``Scenario.uncertain`` by dotted path.

Renamed keys
------------
The top-level key ``plays`` was called ``interventions`` before. A file (or an
``extends`` parent) that still says ``interventions`` loads as before, with a logged
warning and a :class:`DeprecationWarning`; giving both keys is an error.
"""

from __future__ import annotations

import json
import logging
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cs_sim._pydantic import did_you_mean, format_loc
from cs_sim._yaml import load_yaml_mapping
from cs_sim.errors import ScenarioError
from cs_sim.sim.scenario import Scenario
from cs_sim.sim.uncertainty import FIXED_PATHS, Distribution, extract_distributions

__all__ = [
    "RENAMED_KEYS",
    "deep_merge",
    "load_scenario",
    "rename_deprecated_keys",
    "scenario_from_dict",
    "scenario_json_schema",
    "scenario_json_schema_text",
]

logger = logging.getLogger(__name__)

#: top-level scenario keys that were renamed: old name -> new name
RENAMED_KEYS: dict[str, str] = {"interventions": "plays"}


def rename_deprecated_keys(data: Mapping[str, Any], *, source: str) -> dict[str, Any]:
    """Return ``data`` with the old top-level keys of :data:`RENAMED_KEYS` renamed.

    Each old key found is logged as a warning and emitted as a
    :class:`DeprecationWarning`.

    Parameters
    ----------
    data : mapping
        One scenario (or one file of an ``extends`` chain) as plain data.
    source : str
        How messages name the file.

    Returns
    -------
    dict
        A shallow copy with the new key names (same position in the mapping).

    Raises
    ------
    ScenarioError
        If a file gives both the old and the new name of a key.
    """
    out = dict(data)
    for old, new in RENAMED_KEYS.items():
        if old not in out:
            continue
        if new in out:
            raise ScenarioError(
                f"{source}: both '{old}' and '{new}' are given; '{old}' is the old name of "
                f"'{new}': keep only '{new}'"
            )
        message = (f"{source}: '{old}' is now called '{new}'; rename the key (it will stop "
                   "working in a later release)")
        logger.warning(message)
        warnings.warn(message, DeprecationWarning, stacklevel=_outside_cs_sim())
        out = {(new if k == old else k): v for k, v in out.items()}
    return out


def _outside_cs_sim() -> int:
    """The ``stacklevel`` of the first caller outside cs_sim (so warnings point there)."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith("cs_sim."):
        level, frame = level + 1, frame.f_back
    return level


# ------------------------------------------------------------------- error formatting
_TEMPLATES = {
    "greater_than": "must be > {gt}",
    "greater_than_equal": "must be >= {ge}",
    "less_than": "must be < {lt}",
    "less_than_equal": "must be <= {le}",
    "too_short": "must have at least {min_length} item(s)",
    "string_too_short": "must not be empty",
    "literal_error": "must be one of {expected}",
}


def _format_error(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    loc = format_loc(tuple(err.get("loc", ())))
    if kind == "missing":
        msg = "required field is missing"
    elif kind == "extra_forbidden":
        msg = "unknown key" + did_you_mean(Scenario, tuple(err.get("loc", ())))
        msg += " (check the spelling; see templates/scenarios/scenario.schema.json)"
    elif kind in _TEMPLATES:
        try:
            msg = _TEMPLATES[kind].format(**{k: _num(v) for k, v in ctx.items()})
        except (KeyError, IndexError):
            msg = str(err.get("msg", kind))
    elif kind == "value_error":
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        # our cross-field checks put their own path first: "tiers[2].rule: ..."
        if ": " in msg and not loc:
            return msg
    else:
        msg = str(err.get("msg", kind))
        msg = msg[:1].lower() + msg[1:]
    if kind not in ("missing", "extra_forbidden") and "input" in err:
        value = err["input"]
        if not isinstance(value, (dict, list)) and "(got " not in msg:
            msg += f" (got {value!r})"
    return f"{loc}: {msg}" if loc else msg


def _num(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _scenario_error(exc: ValidationError, source: str) -> ScenarioError:
    lines = [f"{source}: {_format_error(e)}" for e in exc.errors(include_url=False)]
    return ScenarioError("\n".join(lines))


# ------------------------------------------------------------------------- loading
_REMOVE = "remove"


def _named_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) > 0
        and all(isinstance(v, dict) and "name" in v for v in value)
    )


def deep_merge(parent: Any, child: Any) -> Any:
    """Deep-merge ``child`` over ``parent`` with the ``extends`` rules (module docstring).

    Parameters
    ----------
    parent, child : Any
        Plain data (dicts, lists, scalars) as read from YAML.

    Returns
    -------
    Any
        A new merged structure; the inputs are not modified.
    """
    if isinstance(parent, dict) and isinstance(child, dict) and "dist" not in child:
        out = dict(parent)
        for key, value in child.items():
            out[key] = deep_merge(parent[key], value) if key in parent else _strip(value)
        return out
    if _named_list(child) and (_named_list(parent) or parent == []):
        out_list = [dict(p) for p in parent]
        index = {p["name"]: i for i, p in enumerate(out_list)}
        removed: set[str] = set()
        for item in child:
            if item.get(_REMOVE) is True:
                removed.add(item["name"])
                continue
            if item["name"] in index:
                out_list[index[item["name"]]] = deep_merge(out_list[index[item["name"]]], item)
            else:
                index[item["name"]] = len(out_list)
                out_list.append(_strip(item))
        return [p for p in out_list if p["name"] not in removed]
    return _strip(child)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip(v) for v in value if not (isinstance(v, dict) and v.get(_REMOVE) is True)]
    return value


def _resolve(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    source = path.name
    real = path.resolve()
    if real in seen:
        chain = " -> ".join(p.name for p in (*seen, real))
        raise ScenarioError(f"{source}: extends: circular inheritance ({chain})")
    data = load_yaml_mapping(path, what="scenario", source=source, error=ScenarioError)
    data = rename_deprecated_keys(data, source=source)
    parent_ref = data.get("extends")
    if parent_ref is None:
        return data
    if not isinstance(parent_ref, str):
        raise ScenarioError(f"{source}: extends: must be a file name (got {parent_ref!r})")
    parent_path = (path.parent / parent_ref).resolve()
    if not parent_path.exists():
        raise ScenarioError(f"{source}: extends: file not found ({parent_ref})")
    parent = _resolve(parent_path, (*seen, real))
    merged = deep_merge(parent, data)
    merged["extends"] = parent_ref
    merged["name"] = data.get("name", path.stem)  # a variant never inherits the name
    return merged


def scenario_from_dict(data: Mapping[str, Any], *, source: str = "scenario") -> Scenario:
    """Validate plain data into a :class:`Scenario`.

    Parameters
    ----------
    data : mapping
        The scenario as nested dicts/lists (e.g. from YAML or JSON). Old key names
        (:data:`RENAMED_KEYS`) are accepted with a deprecation warning.
    source : str, optional
        The name shown at the start of error messages.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        With one line ``source: dotted.path: problem (got value)`` per problem.
    """
    data = rename_deprecated_keys(data, source=source)
    if "uncertain" in data:
        raise ScenarioError(
            f"{source}: uncertain: not a key of a scenario file; write each distribution in "
            "place of the number it replaces, e.g. churn_intercept: {dist: normal, mean: "
            "-3.5, sd: 0.2}"
        )
    try:
        data, uncertain = extract_distributions(data)
    except ValueError as exc:
        raise ScenarioError(f"{source}: {exc}") from None
    if uncertain:
        data["uncertain"] = uncertain
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _scenario_error(exc, source) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario YAML file (``yaml.safe_load``), resolving ``extends``.

    Each file of the ``extends`` chain may still use an old key name
    (:data:`RENAMED_KEYS`): it is renamed, with a deprecation warning naming the file,
    before the files are merged.

    Parameters
    ----------
    path : str or Path
        The YAML file. A ``population.dataset`` given relative is made relative to it.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        If the file is missing, is not YAML, or does not validate; the message names the
        file and the dotted path of each bad field.
    """
    path = Path(path)
    data = _resolve(path, ())
    data.setdefault("name", path.stem)
    pop = data.get("population")
    if isinstance(pop, dict) and isinstance(pop.get("dataset"), str):
        ds = Path(pop["dataset"])
        if not ds.is_absolute():
            pop = dict(pop, dataset=str((path.parent / ds).resolve()))
            data["population"] = pop
    return scenario_from_dict(data, source=path.name)


def scenario_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of a scenario file (for editor completion).

    Returns
    -------
    dict
        A JSON Schema (draft 2020-12) as produced by pydantic, with a title and ``$id``;
        every number field also accepts a distribution (``$defs/Distribution``), but
        for the fields that fix the shape of a run.
    """
    schema = Scenario.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://cs-sim.invalid/scenario.schema.json"
    schema["title"] = "cs_sim scenario"
    dist = Distribution.model_json_schema()
    dist["description"] = ("A number given as a distribution: each replication draws it "
                           "once (see cs_sim.sim.uncertainty), e.g. {dist: normal, mean: "
                           "-3.5, sd: 0.2}")
    schema.setdefault("$defs", {})["Distribution"] = dist
    _allow_distributions(schema)
    return schema


_FIXED_NAMES = {path.rsplit(".", 1)[-1] for path in FIXED_PATHS}
_META = ("title", "description", "default", "examples")


def _takes_number(node: Mapping[str, Any]) -> bool:
    types = [node.get("type")] + [alt.get("type") for alt in node.get("anyOf", [])]
    return any(t in ("number", "integer") for t in types)


def _allow_distributions(node: Any) -> None:
    """Let every number property of a schema (in place) also be a Distribution."""
    if isinstance(node, list):
        for item in node:
            _allow_distributions(item)
        return
    if not isinstance(node, dict):
        return
    ref = {"$ref": "#/$defs/Distribution"}
    for key, value in node.items():
        if key == "Distribution":
            continue
        fixed = key in _FIXED_NAMES
        if key == "properties" and isinstance(value, dict):
            for name, prop in value.items():
                if isinstance(prop, dict) and _takes_number(prop) and name not in _FIXED_NAMES:
                    value[name] = _with_ref(prop, ref)
                else:
                    _allow_distributions(prop)
        elif key == "additionalProperties" and isinstance(value, dict) \
                and _takes_number(value) and not fixed:
            node[key] = _with_ref(value, ref)
        else:
            _allow_distributions(value)


def _with_ref(prop: dict[str, Any], ref: dict[str, str]) -> dict[str, Any]:
    if "anyOf" in prop:
        return {**prop, "anyOf": [*prop["anyOf"], ref]}
    core = {k: v for k, v in prop.items() if k not in _META}
    return {**{k: v for k, v in prop.items() if k in _META}, "anyOf": [core, ref]}


def scenario_json_schema_text() -> str:
    """Return :func:`scenario_json_schema` as the exact text of the committed file."""
    return json.dumps(scenario_json_schema(), indent=2, sort_keys=True) + "\n"
