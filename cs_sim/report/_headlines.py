"""Headline figures: what each workbook notebook hands to the report's index.

The last code cell of every notebook in the chain (tagged ``headlines``) calls
:func:`headlines`; the object it returns shows itself in the notebook as a small
table and carries the same figures, JSON-safe, under the MIME type
:data:`MIME_TYPE`. ``cs-sim report`` reads that output from each executed notebook
to build ``index.html``, ``headlines.json`` and the "what moved" comparison with an
earlier run (``--compare-to``). The JSON of one stage is::

    {"stage": "03_kpi_baseline",
     "items": [{"key": "nrr", "label": "NRR (window)", "value": 0.881, "unit": "pct"}],
     "segments": {"index": "segment", "units": {"nrr": "pct"},
                  "rows": [{"segment": "smb", "nrr": 0.9}]} | null,
     "health_bands": {"index": "band", "units": {...}, "rows": [...]} | null,
     "targets": [{"name": "...", "metric": "nrr", "target": 1.0, "value": 0.88,
                  "unit": "pct", "direction": "up"}] | null}

Units are those of :mod:`cs_sim.format` (``pct``, ``money``, ``count``, ...).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any

from cs_sim.format import UNITS, fmt, to_jsonable

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["MIME_TYPE", "Headlines", "headlines", "read_headlines"]

#: MIME type of the headline figures in an executed notebook's outputs
MIME_TYPE = "application/vnd.cs-sim.headlines+json"

_TARGET_KEYS = ("name", "metric", "target", "value", "unit", "direction")


def _table(frame: pd.DataFrame | None, units: Mapping[str, str] | None,
           what: str) -> dict[str, Any] | None:
    if frame is None:
        return None
    index = frame.index.name or what
    rows = frame.reset_index().rename(columns={"index": index})
    return {
        "index": str(index),
        "units": {str(k): str(v) for k, v in (units or {}).items() if k in frame.columns},
        "rows": to_jsonable(rows.to_dict(orient="records")),
    }


@dataclass(frozen=True)
class Headlines:
    """The headline figures of one stage (see the module docstring for the JSON).

    Attributes
    ----------
    stage : str
        The notebook's name without ``.ipynb`` (e.g. ``"03_kpi_baseline"``).
    items : list of dict
        ``{"key", "label", "value", "unit"}`` each, in the order given.
    segments, health_bands : dict or None
        A table as ``{"index", "units", "rows"}``.
    targets : list of dict or None
        The plan's targets: ``{"name", "metric", "target", "value", "unit", "direction"}``.
    """

    stage: str
    items: list[dict[str, Any]]
    segments: dict[str, Any] | None = None
    health_bands: dict[str, Any] | None = None
    targets: list[dict[str, Any]] | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe figures (NaN as ``None``)."""
        return {"stage": self.stage, "items": self.items, "segments": self.segments,
                "health_bands": self.health_bands, "targets": self.targets}

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{escape(str(i['label']))}</th>"
            f"<td style='text-align:right'>{escape(fmt(i['value'], i['unit']))}</td></tr>"
            for i in self.items
        )
        return (f"<table class='cs-sim-headlines'><caption>Headline figures</caption>"
                f"{rows}</table>")

    def __repr__(self) -> str:
        width = max((len(str(i["label"])) for i in self.items), default=0)
        lines = [f"{i['label']!s:<{width}}  {fmt(i['value'], i['unit'])}" for i in self.items]
        return "\n".join(["Headline figures", *lines])

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {MIME_TYPE: self.to_dict(), "text/html": self._repr_html_(),
                "text/plain": repr(self)}


def headlines(
    stage: str,
    items: Mapping[str, tuple[Any, str]] | Sequence[tuple[str, str, Any, str]],
    *,
    segments: pd.DataFrame | None = None,
    segment_units: Mapping[str, str] | None = None,
    health_bands: pd.DataFrame | None = None,
    health_band_units: Mapping[str, str] | None = None,
    targets: Sequence[Mapping[str, Any]] | None = None,
) -> Headlines:
    """Collect a stage's headline figures for the report (shown as a small table).

    Parameters
    ----------
    stage : str
        The notebook's name without ``.ipynb``.
    items : mapping or sequence
        ``{label: (value, unit)}``, the key then being the label; or a sequence of
        ``(key, label, value, unit)`` when a stable key is wanted (``--compare-to``
        matches figures of two runs by key).
    segments : DataFrame, optional
        One row per segment (the index), numeric columns.
    segment_units : mapping, optional
        Unit of each column of ``segments``.
    health_bands : DataFrame, optional
        One row per health band (the index).
    health_band_units : mapping, optional
    targets : sequence of mapping, optional
        The plan's targets, each with ``name``, ``metric``, ``target``, ``value``
        (the baseline when the plan was made), ``unit`` and ``direction`` (``"up"``
        when higher is better, else ``"down"``).

    Returns
    -------
    Headlines

    Raises
    ------
    ValueError
        For a unit :mod:`cs_sim.format` does not know or a target missing a field.

    Examples
    --------
    >>> h = headlines("03_kpi_baseline", {"NRR": (0.9, "pct"), "Accounts": (12, "count")})
    >>> print(repr(h))
    Headline figures
    NRR       90.0%
    Accounts  12
    """
    if isinstance(items, Mapping):
        rows = [(str(k), str(k), v, u) for k, (v, u) in items.items()]
    else:
        rows = [(str(k), str(lab), v, u) for k, lab, v, u in items]
    out = []
    for key, label, value, unit in rows:
        if unit not in UNITS:
            raise ValueError(f"headline {label!r}: unknown unit {unit!r}; use one of "
                             f"{', '.join(UNITS)}")
        v = to_jsonable(value)
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        out.append({"key": key, "label": label, "value": v, "unit": unit})
    tg = None
    if targets is not None:
        tg = []
        for t in targets:
            missing = [k for k in _TARGET_KEYS if k not in t]
            if missing:
                raise ValueError(f"target {t.get('name')!r} lacks {', '.join(missing)}")
            tg.append(to_jsonable({k: t[k] for k in _TARGET_KEYS}))
    return Headlines(
        stage=stage, items=out,
        segments=_table(segments, segment_units, "segment"),
        health_bands=_table(health_bands, health_band_units, "band"),
        targets=tg,
    )


def read_headlines(notebook: Any) -> dict[str, Any] | None:
    """The headline figures in an executed notebook (an ``nbformat`` node), or None.

    Parameters
    ----------
    notebook : nbformat.NotebookNode

    Returns
    -------
    dict or None
        The JSON of the last :data:`MIME_TYPE` output in the notebook.
    """
    found = None
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if MIME_TYPE in data:
                found = data[MIME_TYPE]
    return found
