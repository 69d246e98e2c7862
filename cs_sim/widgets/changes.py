"""What a scenario changes of another: the inverse of the ``extends`` merge.

:func:`scenario_changes` gives the body of a scenario file that ``extends`` a baseline
and says only what differs: ``deep_merge(data(baseline), scenario_changes(baseline,
variant))`` (:func:`cs_sim.sim.scenario_io.deep_merge`) is the variant's data. The
what-if panel saves its scenarios with it; :func:`same_scenario` checks a saved file.
"""

from __future__ import annotations

from typing import Any

from cs_sim.sim.scenario import Scenario
from cs_sim.sim.uncertainty import scenario_data

__all__ = ["IDENTITY", "same_scenario", "scenario_changes"]

#: keys of a scenario that say what it is, not what it does (never compared or saved)
IDENTITY = ("name", "description", "extends")


def _named(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(v, dict) and "name" in v for v in value)


def _is_dist(value: Any) -> bool:
    return isinstance(value, dict) and "dist" in value


#: what :func:`_diff` returns when nothing changes (None is a value a field may take)
_SAME = object()


def _diff(parent: Any, child: Any) -> Any:
    """What ``child`` changes of ``parent`` under the ``extends`` merge (``_SAME``: nothing)."""
    if parent == child:
        return _SAME
    if isinstance(parent, dict) and isinstance(child, dict) and not _is_dist(child) \
            and not _is_dist(parent):
        out = {}
        for key, value in child.items():
            d = _diff(parent[key], value) if key in parent else value
            if d is not _SAME:
                out[key] = d
        return out or _SAME
    if _named(child) and (_named(parent) or parent == []):
        names = [p["name"] for p in parent]
        kept = [c["name"] for c in child if c["name"] in names]
        if kept != [n for n in names if n in kept]:
            return child  # reordered: the merge keeps the parent's order, so give it whole
        items: list[dict[str, Any]] = []
        by_name = {p["name"]: p for p in parent}
        for c in child:
            if c["name"] in by_name:
                d = _diff(by_name[c["name"]], c)
                if d is not _SAME:
                    items.append({"name": c["name"], **d})
            else:
                items.append(c)
        child_names = {c["name"] for c in child}
        items += [{"name": n, "remove": True} for n in names if n not in child_names]
        return items or _SAME
    return child


def scenario_changes(baseline: Scenario, variant: Scenario) -> dict[str, Any]:
    """What ``variant`` changes of ``baseline``, as the body of a file that extends it.

    The inverse of the ``extends`` merge (:func:`cs_sim.sim.scenario_io.deep_merge`):
    ``deep_merge(data(baseline), result)`` gives ``variant``'s data. Named items
    (tiers, plays, ...) are given by name with only what changes, a removed one as
    ``{name: X, remove: true}``; any other list or value that changes is given whole;
    a parameter given as a distribution is written as one. ``name``, ``description``
    and ``extends`` are left out.

    Parameters
    ----------
    baseline, variant : Scenario

    Returns
    -------
    dict
        Empty when the two do the same.
    """
    base, var = scenario_data(baseline), scenario_data(variant)
    for key in IDENTITY:
        base.pop(key, None)
        var.pop(key, None)
    out = _diff(base, var)
    return {} if out is _SAME else out


def _first_differences(a: Any, b: Any, path: str = "", limit: int = 3) -> list[str]:
    """Dotted paths where two plain-data trees differ (at most ``limit``)."""
    if a == b:
        return []
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in [*a, *(k for k in b if k not in a)]:
            out += _first_differences(a.get(key), b.get(key), f"{path}.{key}".lstrip("."),
                                      limit)
            if len(out) >= limit:
                break
        return out[:limit]
    return [path or "(top)"]


def same_scenario(a: Scenario, b: Scenario) -> list[str]:
    """Where two scenarios differ in what they do (name, description, extends aside).

    Parameters
    ----------
    a, b : Scenario

    Returns
    -------
    list of str
        The first dotted paths that differ (at most three); empty when the two do the
        same (distributions included).
    """
    da, db = scenario_data(a), scenario_data(b)
    for key in IDENTITY:
        da.pop(key, None)
        db.pop(key, None)
    return _first_differences(da, db)
