"""What moved since an earlier report: ``cs-sim report --compare-to PREVIOUS_RUN``.

A report run folder (``reports/<name>/<run-id>/``) keeps the headline figures of every
stage in ``headlines.json`` (``{stage: headline dict}``, the JSON of
:mod:`cs_sim.report._headlines`) next to ``manifest.json``. :func:`read_run` reads such
a folder (refusing, with the fix, a folder that is not a run) and :func:`compare_runs`
sets its figures against the current run's:

- **headline items** present in both runs, matched by stage and ``key``: before, after
  and the change in the item's unit (percentage points for ``pct``); items that are new
  or gone;
- **segments** and **health bands**, per stage: each row (matched by its label) and
  numeric column, before, after and change; rows that appear or disappear;
- **plan targets** of the *earlier* run: the value now, found first among the current
  run's targets of the same name and metric, else among the current headline items whose
  ``key`` is the target's ``metric`` (the first stage in chain order); a target is *met*
  when the value now is at or beyond it in its ``direction`` (``"up"``: higher is
  better), *missed* when not, and *not measurable* when there is no value now.

The result, a :class:`RunChanges`, shows itself in a terminal (:meth:`RunChanges.to_text`)
and in the report's index (:meth:`RunChanges.to_html`, every label escaped), and keeps
raw numbers in :meth:`RunChanges.to_dict` and :meth:`RunChanges.to_frame`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cs_sim.errors import ReportInputError
from cs_sim.format import UNITS
from cs_sim.report._changes import (
    DIFF_UNITS,
    MET,
    MISSED,
    NOT_MEASURABLE,
    TABLES,
    Change,
    PreviousRun,
    RunChanges,
    StageChanges,
    TableChanges,
    TargetCheck,
    _is_number,
)

__all__ = [
    "Change",
    "PreviousRun",
    "RunChanges",
    "StageChanges",
    "TableChanges",
    "TargetCheck",
    "compare_runs",
    "read_run",
]

_FIX = ("give the folder of an earlier run, reports/<name>/<run-id>/, which holds "
        "headlines.json and manifest.json (written by `cs-sim report`)")


# --------------------------------------------------------------------------- reading
def read_run(path: str | Path) -> PreviousRun:
    """Read an earlier report run folder (``headlines.json``, ``manifest.json``).

    Call it before the chain runs, so a wrong ``--compare-to`` is refused at once.

    Parameters
    ----------
    path : str or pathlib.Path
        The run folder, ``reports/<name>/<run-id>/`` (its ``headlines.json``,
        ``manifest.json`` or ``index.html`` is taken to mean the folder).

    Returns
    -------
    PreviousRun

    Raises
    ------
    cs_sim.errors.ReportInputError
        If the folder is missing, has no ``headlines.json``, or a file is not valid
        JSON or not shaped as ``cs-sim report`` writes it. The message names the path
        and the fix (and the newest run under a report folder given by mistake).
    """
    folder = Path(path)
    if folder.is_file() and folder.name in ("headlines.json", "manifest.json", "index.html"):
        folder = folder.parent
    if not folder.is_dir():
        what = "a file, not a run folder" if folder.exists() else "no such folder"
        raise ReportInputError(f"{path}: --compare-to: {what}; fix: {_FIX}")
    file = folder / "headlines.json"
    if not file.is_file():
        runs = sorted((p.parent for p in folder.glob("*/headlines.json")),
                      key=lambda p: p.stat().st_mtime)
        hint = f" (the newest run there is {runs[-1]})" if runs else ""
        raise ReportInputError(f"{folder}: --compare-to: not a report run, it has no "
                               f"headlines.json{hint}; fix: {_FIX}")
    data = _read_json(file)
    if isinstance(data, list):  # a list of stage dicts is read too
        if not all(isinstance(d, dict) and "stage" in d for d in data):
            raise ReportInputError(f"{file}: a list must hold stage objects with a 'stage' "
                                   f"key; fix: {_FIX}")
        data = {str(d["stage"]): d for d in data}
    if not isinstance(data, dict):
        raise ReportInputError(f"{file}: expected an object {{stage: headline figures}}, "
                               f"got {type(data).__name__}; fix: {_FIX}")
    headlines = {str(k): _checked(v, str(k), file) for k, v in sorted(data.items())}
    manifest: dict[str, Any] = {}
    if (folder / "manifest.json").is_file():
        m = _read_json(folder / "manifest.json")
        if not isinstance(m, dict):
            raise ReportInputError(f"{folder / 'manifest.json'}: expected a JSON object, got "
                                   f"{type(m).__name__}; fix: {_FIX}")
        manifest = m
    run_id = next((str(manifest[k]) for k in ("run_id", "id") if manifest.get(k)), folder.name)
    created = next((str(manifest[k]) for k in ("created", "created_at", "started", "finished")
                    if manifest.get(k)), None)
    return PreviousRun(path=folder, run_id=run_id, created=created, headlines=headlines,
                       manifest=manifest)


def _read_json(file: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ReportInputError(f"{file}: not valid JSON at line {exc.lineno}, column "
                               f"{exc.colno}: {exc.msg}; fix: {_FIX}") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise ReportInputError(f"{file}: cannot be read: {reason}; fix: {_FIX}") from None


def _checked(value: Any, stage: str, file: Path | str) -> dict[str, Any] | None:
    """A headline dict checked for the shape compared here, or None (a failed stage)."""
    if value is None:
        return None
    if hasattr(value, "to_dict") and not isinstance(value, Mapping):
        value = value.to_dict()
    where = f"{file}: {stage}"
    if not isinstance(value, Mapping):
        raise ReportInputError(f"{where}: expected headline figures (an object with "
                               f"'items'), got {type(value).__name__}; fix: {_FIX}")
    items = value.get("items") or []
    if not isinstance(items, list):
        raise ReportInputError(f"{where}.items: expected a list; fix: {_FIX}")
    for n, item in enumerate(items):
        if not isinstance(item, Mapping) or not ({"key", "label"} & set(item)):
            raise ReportInputError(f"{where}.items[{n}]: expected an object with key, label, "
                                   f"value and unit; fix: {_FIX}")
        if item.get("unit", "number") not in UNITS:
            raise ReportInputError(f"{where}.items[{n}].unit: unknown unit "
                                   f"{item.get('unit')!r}; fix: use one of {', '.join(UNITS)}")
    for name in TABLES:
        table = value.get(name)
        if table is not None and not (isinstance(table, Mapping)
                                      and isinstance(table.get("rows", []), list)):
            raise ReportInputError(f"{where}.{name}: expected an object with index, units and "
                                   f"rows; fix: {_FIX}")
    targets = value.get("targets")
    if targets is not None and not (isinstance(targets, list)
                                    and all(isinstance(t, Mapping) for t in targets)):
        raise ReportInputError(f"{where}.targets: expected a list of objects; fix: {_FIX}")
    return dict(value)


# --------------------------------------------------------------------------- comparing
def compare_runs(previous: str | Path | PreviousRun,
                 current: Mapping[str, Any]) -> RunChanges:
    """What moved between an earlier report run and the current run's figures.

    Parameters
    ----------
    previous : str, pathlib.Path or PreviousRun
        The earlier run folder (read with :func:`read_run`), or what it returned.
    current : mapping
        ``{stage: headline dict}`` of the current run (a failed stage may map to None;
        :class:`~cs_sim.report.Headlines` objects are accepted too).

    Returns
    -------
    RunChanges

    Raises
    ------
    cs_sim.errors.ReportInputError
        If ``previous`` is not a report run (see :func:`read_run`).

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> run = pathlib.Path(tempfile.mkdtemp())
    >>> item = {"key": "nrr", "label": "NRR", "value": 0.90, "unit": "pct"}
    >>> _ = (run / "headlines.json").write_text(json.dumps({"03_kpi_baseline": {
    ...     "stage": "03_kpi_baseline", "items": [item]}}))
    >>> now = {"03_kpi_baseline": {"items": [{**item, "value": 0.93}]}}
    >>> compare_runs(run, now).stage("03_kpi_baseline").items[0].texts()
    ('90.0%', '93.0%', '+3.0 pp')
    """
    prev = previous if isinstance(previous, PreviousRun) else read_run(previous)
    now = {str(k): _checked(v, str(k), "current run") for k, v in current.items()}
    before = {k: v for k, v in prev.headlines.items() if v is not None}
    after = {k: v for k, v in now.items() if v is not None}
    order = sorted(set(before) | set(after))
    stages = tuple(_stage(s, before[s], after[s]) for s in order if s in before and s in after)
    return RunChanges(
        previous=prev, stages=stages,
        stages_new=tuple(s for s in order if s in after and s not in before),
        stages_missing=tuple(s for s in order if s in before and s not in after),
        targets=_targets(before, after),
    )


def _stage(stage: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> StageChanges:
    old = {_key(i): i for i in before.get("items") or []}
    new = {_key(i): i for i in after.get("items") or []}
    items = tuple(_change(stage, k, new[k].get("label", k), old[k].get("unit", "number"),
                          new[k].get("unit", "number"), old[k].get("value"),
                          new[k].get("value"))
                  for k in new if k in old)
    tables = tuple(t for name in TABLES
                   if (t := _table(stage, name, before.get(name), after.get(name))) is not None)
    return StageChanges(
        stage=stage, items=items,
        new=tuple(_plain(new[k]) for k in new if k not in old),
        removed=tuple(_plain(old[k]) for k in old if k not in new),
        tables=tables,
    )


def _key(item: Mapping[str, Any]) -> str:
    return str(item.get("key", item.get("label")))


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    return {"key": _key(item), "label": str(item.get("label", _key(item))),
            "value": item.get("value"), "unit": str(item.get("unit", "number"))}


def _change(stage: str, key: str, label: Any, unit_before: str, unit: str, before: Any,
            after: Any, row: str | None = None) -> Change:
    change, note = None, None
    if unit_before != unit:
        note = f"unit was {unit_before}"
    elif unit in DIFF_UNITS and _is_number(before) and _is_number(after):
        change = float(after) - float(before)
    return Change(stage=stage, key=str(key), label=str(label), unit=unit, before=before,
                  after=after, change=change, row=row, note=note)


def _table(stage: str, name: str, before: Mapping[str, Any] | None,
           after: Mapping[str, Any] | None) -> TableChanges | None:
    if before is None or after is None:
        return None
    index_b, index_a = str(before.get("index", "")), str(after.get("index", ""))
    rows_b = {str(r.get(index_b)): r for r in before.get("rows") or []}
    rows_a = {str(r.get(index_a)): r for r in after.get("rows") or []}
    if index_b != index_a:
        return TableChanges(stage=stage, table=name, index=index_a, cells=(),
                            added=tuple(rows_a), removed=tuple(rows_b),
                            note=f"grouped by {index_b} before and by {index_a} now: "
                                 "rows not compared")
    units_b, units_a = before.get("units") or {}, after.get("units") or {}
    cols_b, cols_a = _numeric_columns(rows_b, index_b), _numeric_columns(rows_a, index_a)
    cols = [c for c in cols_a if c in cols_b]
    cells = tuple(
        _change(stage, c, c, str(units_b.get(c, "number")), str(units_a.get(c, "number")),
                rows_b[r].get(c), rows_a[r].get(c), row=r)
        for r in rows_a if r in rows_b for c in cols
    )
    return TableChanges(
        stage=stage, table=name, index=index_a, cells=cells,
        added=tuple(r for r in rows_a if r not in rows_b),
        removed=tuple(r for r in rows_b if r not in rows_a),
        columns_added=tuple(c for c in cols_a if c not in cols_b),
        columns_removed=tuple(c for c in cols_b if c not in cols_a),
    )


def _numeric_columns(rows: Mapping[str, Mapping[str, Any]], index: str) -> list[str]:
    """Columns (in order of appearance) whose values are numbers or missing in every row."""
    cols: dict[str, bool] = {}
    for row in rows.values():
        for c, v in row.items():
            if c != index:
                cols[c] = cols.get(c, True) and (v is None or _is_number(v))
    return [c for c, ok in cols.items() if ok]


def _targets(before: Mapping[str, Mapping[str, Any]],
             after: Mapping[str, Mapping[str, Any]]) -> tuple[TargetCheck, ...]:
    current = [(s, t) for s, h in after.items() for t in h.get("targets") or []]
    out = []
    for stage in before:
        for t in before[stage].get("targets") or []:
            name, metric = str(t.get("name", t.get("metric"))), str(t.get("metric"))
            unit, direction = str(t.get("unit", "number")), str(t.get("direction", ""))
            now, source, unit_now = None, None, unit
            same = next(((s, c) for s, c in current
                         if str(c.get("name")) == name and str(c.get("metric")) == metric), None)
            if same is not None:
                now, source = same[1].get("value"), f"{same[0]} target"
                unit_now = str(same[1].get("unit", unit))
            else:
                for s, h in after.items():
                    item = next((i for i in h.get("items") or [] if _key(i) == metric), None)
                    if item is not None:
                        now, source = item.get("value"), f"{s} headline"
                        unit_now = str(item.get("unit", unit))
                        break
            status, note = _status(t.get("target"), now, direction, unit, unit_now, source)
            out.append(TargetCheck(name=name, metric=metric, unit=unit, direction=direction,
                                   target=t.get("target"), baseline=t.get("value"), now=now,
                                   source=source, status=status, note=note))
    return tuple(out)


def _status(target: Any, now: Any, direction: str, unit: str, unit_now: str,
            source: str | None) -> tuple[str, str | None]:
    if source is None:
        return NOT_MEASURABLE, "no figure of this metric in the current run"
    if unit_now != unit:
        return NOT_MEASURABLE, f"the figure now is in {unit_now}, the target in {unit}"
    if not (_is_number(target) and _is_number(now)):
        return NOT_MEASURABLE, "no value now" if not _is_number(now) else "no target value"
    if direction not in ("up", "down"):
        return NOT_MEASURABLE, f"direction {direction!r} is neither 'up' nor 'down'"
    tol = 1e-9 * max(1.0, abs(float(target)))
    gap = float(now) - float(target)
    met = gap >= -tol if direction == "up" else gap <= tol
    return (MET if met else MISSED), None
