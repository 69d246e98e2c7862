"""Scenario fields by dotted path: find one, read or set its value, know its bounds.

A path names a field of a scenario's plain data (``Scenario.model_dump(mode="json")``
or YAML): items of named lists (segments, tiers, plays, retention changes) by their
name, other list items by index, mapping keys as they are:
``segments.smb.churn_intercept``, ``plays.qbr.effect.hazard_multiplier``,
``tiers.high_touch.rule[0].value``, ``onboarding.hours.high_touch``. Used by
:mod:`cs_sim.sim.uncertainty` (parameters given as distributions) and
:mod:`cs_sim.sim.sensitivity` (``--params``).
"""

from __future__ import annotations

import difflib
import math
import re
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel

__all__ = ["FieldSlot", "get_path", "locate", "set_path", "show_number"]


def show_number(x: float) -> str:
    """A number for a message: up to 6 significant digits, never in e-notation."""
    if not math.isfinite(x):
        return "inf" if x > 0 else ("-inf" if x < 0 else "nan")
    return np.format_float_positional(x, precision=6, unique=True, fractional=False, trim="-")


@dataclass(frozen=True)
class FieldSlot:
    """A numeric field of a scenario found by its path: its kind, bounds and value."""

    path: str
    kind: Literal["float", "int"] | None
    value: Any
    lo: float = -math.inf
    hi: float = math.inf
    lo_strict: bool = False
    hi_strict: bool = False

    def bounds_text(self) -> str:
        """The bounds as an interval, e.g. ``[0, 1]`` or ``(0, inf)``."""
        left = "(" if self.lo_strict or self.lo == -math.inf else "["
        right = ")" if self.hi_strict or self.hi == math.inf else "]"
        return f"{left}{show_number(self.lo)}, {show_number(self.hi)}{right}"

    def fit(self, x: Any) -> np.ndarray:
        """``x`` kept inside the bounds (guards rounding) and rounded for an integer field."""
        v = np.clip(np.asarray(x, dtype=float), self.lo, self.hi)
        if self.lo_strict:
            v = np.where(v <= self.lo, np.nextafter(self.lo, math.inf), v)
        if self.hi_strict:
            v = np.where(v >= self.hi, np.nextafter(self.hi, -math.inf), v)
        if self.kind == "int":
            lo = np.floor(self.lo) + 1 if self.lo_strict else np.ceil(self.lo)
            hi = np.ceil(self.hi) - 1 if self.hi_strict else np.floor(self.hi)
            v = np.clip(np.rint(v), lo, hi)
        return v


def _unwrap(ann: Any) -> tuple[Any, list[Any]]:
    """Strip ``Annotated`` (collecting its constraints) and ``None`` from a union."""
    meta: list[Any] = []
    while True:
        origin = typing.get_origin(ann)
        if origin is typing.Annotated:
            args = typing.get_args(ann)
            ann = args[0]
            for m in args[1:]:
                meta.extend(getattr(m, "metadata", None) or [m])
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            if len(args) != 1:
                return ann, meta
            ann = args[0]
        else:
            return ann, meta


def _is_model(ann: Any) -> bool:
    return isinstance(ann, type) and issubclass(ann, BaseModel)


def _numeric_kind(ann: Any) -> Literal["float", "int"] | None:
    args = typing.get_args(ann) if typing.get_origin(ann) in (typing.Union,
                                                              types.UnionType) else (ann,)
    if float in args:
        return "float"
    if int in args:
        return "int"
    return None


def _slot(path: str, ann: Any, meta: list[Any], value: Any) -> FieldSlot:
    ann, extra = _unwrap(ann)
    lo, hi, lo_s, hi_s = -math.inf, math.inf, False, False
    for m in [*meta, *extra]:
        if getattr(m, "ge", None) is not None:
            lo, lo_s = float(m.ge), False
        if getattr(m, "gt", None) is not None:
            lo, lo_s = float(m.gt), True
        if getattr(m, "le", None) is not None:
            hi, hi_s = float(m.le), False
        if getattr(m, "lt", None) is not None:
            hi, hi_s = float(m.lt), True
    return FieldSlot(path, _numeric_kind(ann), value, lo, hi, lo_s, hi_s)


_HEAD = re.compile(r"[^.\[]*")


def _name_match(rest: str, names: Iterable[str]) -> str | None:
    """The longest name that ``rest`` starts with, followed by nothing, '.' or '['."""
    hits = [n for n in names if rest == n or rest.startswith((n + ".", n + "["))]
    return max(hits, key=len) if hits else None


def _unknown(what: str, given: str, known: list[str], where: str) -> ValueError:
    close = difflib.get_close_matches(given, known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
    at = f" in {where}" if where else ""
    return ValueError(f"no {what} {given!r}{at}{hint} (known: {shown})")


def locate(data: Any, path: str) -> tuple[Any, Any, FieldSlot]:
    """Find the field at a dotted ``path`` in a scenario's plain data.

    Parameters
    ----------
    data : dict
        A scenario as plain data (``Scenario.model_dump(mode="json")`` or YAML).
    path : str
        E.g. ``segments.smb.churn_intercept`` (see the module docstring).

    Returns
    -------
    (container, key, FieldSlot)
        ``container[key]`` is the field's value.

    Raises
    ------
    ValueError
        If a part of the path does not exist (with a did-you-mean and the names known).
    """
    from cs_sim.sim.scenario import Scenario

    node: Any = data
    ann: Any = Scenario
    meta: list[Any] = []
    rest, done = path, ""
    container: Any = None
    key: Any = None
    while rest:
        ann, extra = _unwrap(ann)
        meta = [*meta, *extra]
        if isinstance(node, list):
            if rest.startswith("["):
                end = rest.find("]")
                text = rest[1:end] if end > 0 else ""
                if not text.isdigit() or int(text) >= len(node):
                    raise ValueError(f"{done}: no item {rest.split('.')[0]!r} (it has "
                                     f"{len(node)} items, [0] to [{len(node) - 1}])")
                key, used, label = int(text), end + 1, f"[{text}]"
            else:
                names = [str(it["name"]) for it in node if isinstance(it, dict) and "name" in it]
                name = _name_match(rest, names)
                if name is None:
                    raise _unknown("item named", rest.split(".")[0], names, done)
                key, used, label = names.index(name), len(name), "." + name
            args = typing.get_args(ann)
            container, node, ann, meta = node, node[key], (args[0] if args else None), []
        elif isinstance(node, dict):
            head = _HEAD.match(rest).group(0)  # type: ignore[union-attr]
            if _is_model(ann):
                field = ann.model_fields.get(head)
                if field is None:
                    raise _unknown("field", head, list(ann.model_fields), done)
                next_ann, meta = field.annotation, list(field.metadata)
            else:
                keys = [str(k) for k in node]
                head = _name_match(rest, keys) or head
                if head not in node:
                    raise _unknown("key", head, keys, done)
                args = typing.get_args(ann)
                next_ann, meta = (args[1] if len(args) == 2 else None), []
            key, used, label = head, len(head), "." + head
            container, node, ann = node, node.get(head), next_ann
        else:
            what = "is not set" if node is None else "is a single value"
            raise ValueError(f"{done} {what}: it has no {rest!r}")
        done = done + label if done else label.lstrip(".")
        rest = rest[used:]
        if rest.startswith("."):
            rest = rest[1:]
            if not rest:
                raise ValueError(f"{path}: a path does not end with '.'")
    if container is None:
        raise ValueError("empty parameter path")
    return container, key, _slot(path, ann, meta, node)


def get_path(data: Any, path: str) -> Any:
    """The value at a dotted ``path`` of a scenario's plain data (see :func:`locate`)."""
    container, key, _ = locate(data, path)
    return container[key]


def set_path(data: Any, path: str, value: Any) -> None:
    """Set the value at a dotted ``path`` of a scenario's plain data, in place."""
    container, key, _ = locate(data, path)
    container[key] = value
