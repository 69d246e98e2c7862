"""Pydantic validation errors in a user's words: dotted paths and did-you-mean.

Shared by every validated YAML file (scenarios, import mappings).
"""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel

__all__ = ["did_you_mean", "format_loc"]


def format_loc(loc: tuple[Any, ...]) -> str:
    """A pydantic error location as a dotted path: ``tiers[2].team.headcount``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and ("[" in part or part.startswith("function-")):
            continue  # union / tagged-union branch names are noise for users
        else:
            out += ("." if out else "") + str(part)
    return out


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (through lists, dicts, unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def did_you_mean(root: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """Suggest the closest allowed key for an unknown key at ``loc`` under ``root``.

    Returns ``"; did you mean 'x'?"`` or an empty string.
    """
    models: list[type[BaseModel]] = [root]
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        models = [
            m
            for model in models
            if part in model.model_fields
            for m in _models_in(model.model_fields[part].annotation)
        ]
    allowed = sorted({name for model in models for name in model.model_fields})
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1) if loc else []
    return f"; did you mean '{close[0]}'?" if close else ""
