"""The result of ``cs-sim report --compare-to``: what moved between two report runs.

:func:`cs_sim.report._compare.compare_runs` builds a :class:`RunChanges`; this module
holds its parts and how they show themselves: :meth:`RunChanges.to_text` for a terminal,
:meth:`RunChanges.to_html` for the report's index (every label from the data escaped),
:meth:`RunChanges.to_dict` and :meth:`RunChanges.to_frame` with raw numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cs_sim.format import NA, fmt, text_sections, to_jsonable

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "DIFF_UNITS",
    "MET",
    "MISSED",
    "NOT_MEASURABLE",
    "TABLES",
    "Change",
    "PreviousRun",
    "RunChanges",
    "StageChanges",
    "TableChanges",
    "TargetCheck",
]

#: units whose values can be subtracted (the others show "changed" or nothing)
DIFF_UNITS = frozenset({"pct", "money", "count", "score", "months", "ratio", "number"})
#: the tables of a headline dict compared row by row, with their titles
TABLES = {"segments": "Segments", "health_bands": "Health bands"}
#: target statuses
MET, MISSED, NOT_MEASURABLE = "met", "missed", "not measurable"


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Change:
    """One figure found in both runs.

    Attributes
    ----------
    stage : str
        The notebook the figure comes from.
    key : str
        The item's key, or the table column.
    label : str
        How the figure is named now.
    unit : str
        Its unit now (:data:`cs_sim.format.UNITS`).
    before, after : float, str or None
        The raw values of the earlier and the current run.
    change : float or None
        ``after - before`` for units that can be subtracted; None otherwise, when a
        value is missing or when the unit changed between the runs.
    row : str or None
        The segment or band, for a table cell.
    note : str or None
        Why there is no change, when the unit changed.
    """

    stage: str
    key: str
    label: str
    unit: str
    before: Any
    after: Any
    change: float | None
    row: str | None = None
    note: str | None = None

    @property
    def moved(self) -> bool:
        """Whether the value differs between the runs."""
        if self.change is not None:
            return abs(self.change) > 1e-12 * max(1.0, abs(float(self.after)))
        return self.before != self.after

    def texts(self) -> tuple[str, str, str]:
        """Before, after and change as people read them (``"+3.0 pp"``)."""
        if self.change is not None:
            change = fmt(self.change, self.unit, diff=True)
        elif self.note:
            change = self.note
        elif self.unit in DIFF_UNITS:
            change = NA
        else:
            change = "changed" if self.moved else ""
        return _show(self.before, self.unit), _show(self.after, self.unit), change


@dataclass(frozen=True)
class TableChanges:
    """The rows of one stage's segments or health-band table, before and after.

    Attributes
    ----------
    stage : str
    table : str
        ``"segments"`` or ``"health_bands"``.
    index : str
        The column naming the rows now (e.g. ``"segment"``).
    cells : tuple of Change
        One per row and numeric column found in both runs (``Change.row`` is the row).
    added, removed : tuple of str
        Rows only in the current run, rows only in the earlier one.
    columns_added, columns_removed : tuple of str
        Numeric columns only in the current run, only in the earlier one.
    note : str or None
        Why the rows are not compared (e.g. the table is grouped another way now).
    """

    stage: str
    table: str
    index: str
    cells: tuple[Change, ...]
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    columns_added: tuple[str, ...] = ()
    columns_removed: tuple[str, ...] = ()
    note: str | None = None

    @property
    def title(self) -> str:
        """``"Segments"`` or ``"Health bands"``."""
        return TABLES.get(self.table, self.table)


@dataclass(frozen=True)
class StageChanges:
    """What moved in one stage's headline figures.

    Attributes
    ----------
    stage : str
    items : tuple of Change
        The items of both runs, in the current run's order.
    new, removed : tuple of dict
        Items (``{"key", "label", "value", "unit"}``) only now, only before.
    tables : tuple of TableChanges
        The segments and health-band tables found in both runs.
    """

    stage: str
    items: tuple[Change, ...]
    new: tuple[dict[str, Any], ...] = ()
    removed: tuple[dict[str, Any], ...] = ()
    tables: tuple[TableChanges, ...] = ()

    def table(self, name: str) -> TableChanges | None:
        """The changes of table ``name`` (``"segments"``, ``"health_bands"``), if any."""
        return next((t for t in self.tables if t.table == name), None)


@dataclass(frozen=True)
class TargetCheck:
    """A target of the earlier run's plan, measured now.

    Attributes
    ----------
    name, metric, unit, direction : str
        As the earlier plan gave them (``direction`` ``"up"``: higher is better).
    target : float or None
        The value the plan aimed at.
    baseline : float or None
        The value when that plan was made (the target's ``value`` then).
    now : float or None
        The value in the current run.
    source : str or None
        Where ``now`` comes from: ``"<stage> target"`` or ``"<stage> headline"``.
    status : str
        ``"met"``, ``"missed"`` or ``"not measurable"``.
    note : str or None
        Why the target is not measurable.
    """

    name: str
    metric: str
    unit: str
    direction: str
    target: Any
    baseline: Any
    now: Any
    source: str | None
    status: str
    note: str | None = None

    @property
    def progress(self) -> float | None:
        """Share of the way from the baseline to the target covered now (1.0: reached)."""
        if self.status == NOT_MEASURABLE or not _is_number(self.baseline):
            return None
        span = float(self.target) - float(self.baseline)
        if span == 0:
            return None
        return (float(self.now) - float(self.baseline)) / span


@dataclass(frozen=True)
class PreviousRun:
    """An earlier report run, as :func:`read_run` found it.

    Attributes
    ----------
    path : pathlib.Path
        The run folder.
    run_id : str
        From ``manifest.json`` (``run_id`` or ``id``), else the folder's name.
    created : str or None
        When the run was made, from the manifest (``created``, ``created_at``,
        ``started`` or ``finished``).
    headlines : dict
        ``{stage: headline dict or None}``, in chain order.
    manifest : dict
        The whole manifest (empty when the folder has none).
    """

    path: Path
    run_id: str
    created: str | None
    headlines: dict[str, dict[str, Any] | None]
    manifest: dict[str, Any]


@dataclass(frozen=True)
class RunChanges:
    """What moved between an earlier report run and the current one.

    Attributes
    ----------
    previous : PreviousRun
        The earlier run (its folder, id and creation time).
    stages : tuple of StageChanges
        The stages with headline figures in both runs, in chain order.
    stages_new, stages_missing : tuple of str
        Stages with figures only now, only before.
    targets : tuple of TargetCheck
        Every target of the earlier run's plan.
    """

    previous: PreviousRun
    stages: tuple[StageChanges, ...]
    stages_new: tuple[str, ...] = ()
    stages_missing: tuple[str, ...] = ()
    targets: tuple[TargetCheck, ...] = ()

    def stage(self, name: str) -> StageChanges | None:
        """The changes of stage ``name``, if it has figures in both runs."""
        return next((s for s in self.stages if s.stage == name), None)

    @property
    def segments(self) -> tuple[TableChanges, ...]:
        """The segment tables of every stage."""
        return tuple(t for s in self.stages for t in s.tables if t.table == "segments")

    @property
    def health_bands(self) -> tuple[TableChanges, ...]:
        """The health-band tables of every stage."""
        return tuple(t for s in self.stages for t in s.tables if t.table == "health_bands")

    def counts(self) -> dict[str, int]:
        """How many items moved and how many targets are met, missed, not measurable."""
        out = {"items_compared": sum(len(s.items) for s in self.stages),
               "items_moved": sum(c.moved for s in self.stages for c in s.items)}
        for status in (MET, MISSED, NOT_MEASURABLE):
            out[f"targets_{status.replace(' ', '_')}"] = sum(
                t.status == status for t in self.targets)
        return out

    # ---------------------------------------------------------------- raw numbers
    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-safe (raw numbers; NaN as None)."""
        prev = self.previous
        stages = []
        for s in self.stages:
            entry: dict[str, Any] = {
                "stage": s.stage, "items": [asdict(c) for c in s.items],
                "new": list(s.new), "removed": list(s.removed)}
            for name in TABLES:
                t = s.table(name)
                entry[name] = None if t is None else asdict(t)
            stages.append(entry)
        return to_jsonable({
            "previous": {"path": str(prev.path), "run_id": prev.run_id,
                         "created": prev.created},
            "summary": self.counts(),
            "stages": stages,
            "stages_new": list(self.stages_new),
            "stages_missing": list(self.stages_missing),
            "targets": [{**asdict(t), "progress": t.progress} for t in self.targets],
        })

    def to_frame(self, what: str = "items") -> pd.DataFrame:
        """A tidy table of raw numbers.

        Parameters
        ----------
        what : {"items", "segments", "health_bands", "targets"}
            ``items``: one row per headline item (``status`` ``both``, ``new`` or
            ``removed``); ``segments`` and ``health_bands``: one row per stage, row and
            column found in both runs; ``targets``: one row per target of the earlier
            plan.

        Returns
        -------
        pandas.DataFrame
        """
        import pandas as pd

        if what == "items":
            rows = []
            for s in self.stages:
                rows += [{"stage": c.stage, "key": c.key, "label": c.label, "unit": c.unit,
                          "before": c.before, "after": c.after, "change": c.change,
                          "status": "both"} for c in s.items]
                for status, before, items in (("new", False, s.new),
                                              ("removed", True, s.removed)):
                    rows += [{"stage": s.stage, "key": i["key"], "label": i["label"],
                              "unit": i["unit"], "before": i["value"] if before else None,
                              "after": None if before else i["value"], "change": None,
                              "status": status} for i in items]
            cols = ["stage", "key", "label", "unit", "before", "after", "change", "status"]
            return pd.DataFrame(rows, columns=cols)
        if what in TABLES:
            rows = [{"stage": t.stage, "index": t.index, "row": c.row, "column": c.key,
                     "unit": c.unit, "before": c.before, "after": c.after,
                     "change": c.change}
                    for s in self.stages for t in s.tables if t.table == what for c in t.cells]
            cols = ["stage", "index", "row", "column", "unit", "before", "after", "change"]
            return pd.DataFrame(rows, columns=cols)
        if what == "targets":
            cols = ["name", "metric", "unit", "direction", "target", "baseline", "now",
                    "source", "status", "progress"]
            return pd.DataFrame([{**asdict(t), "progress": t.progress} for t in self.targets],
                                columns=cols)
        raise ValueError(f"to_frame: unknown table {what!r}; use one of items, segments, "
                         "health_bands, targets")

    # ---------------------------------------------------------------- for people
    def headline(self) -> str:
        """One sentence: which run this is compared with, and the targets' tally."""
        prev = self.previous
        when = f", made {prev.created}" if prev.created else ""
        n = self.counts()
        text = f"What moved since run {prev.run_id}{when} ({prev.path})"
        if self.targets:
            text += (f". Plan targets: {n['targets_met']} met, {n['targets_missed']} missed, "
                     f"{n['targets_not_measurable']} not measurable")
        return text + "."

    def to_text(self) -> str:
        """A terminal summary: items, tables and targets, each figure in its unit."""
        cols = ["before", "after", "change"]
        sections: list[tuple[str, pd.DataFrame]] = []
        notes: list[str] = []
        for s in self.stages:
            if s.items:
                sections.append((s.stage, _text_frame(
                    [(c.label, *c.texts()) for c in s.items], cols)))
            notes += _item_notes(s)
            for t in s.tables:
                title = f"{t.title} ({s.stage}, by {t.index})"
                if t.cells:
                    sections.append((title, _text_frame(
                        [(f"{c.row} · {c.label}", *c.texts()) for c in t.cells], cols)))
                notes += [f"{title}: {line}" for line in _table_notes(t)]
        parts = [self.headline()]
        if sections:
            parts.append(text_sections(sections))
        if self.targets:
            parts.append(text_sections([("Plan targets (earlier plan)", _text_frame(
                [(t.name, *_target_texts(t)) for t in self.targets],
                ["target", "then", "now", "status"]))]))
        notes += _stage_notes(self)
        if notes:
            parts.append("\n".join(notes))
        if len(parts) == 1:
            parts.append("No headline figures to compare.")
        return "\n\n".join(parts)

    def __str__(self) -> str:
        return self.to_text()

    def to_html(self) -> str:
        """An HTML fragment (a ``<section>``) with one table per stage and the targets.

        Every label and value from the data is escaped, so customer-provided segment
        labels cannot inject markup into the report.
        """
        e = _esc
        out = [f"<section class='cs-sim-changes'><h2>What moved since the last report</h2>"
               f"<p>{e(self.headline())}</p>"]
        for s in self.stages:
            if not (s.items or s.tables or s.new or s.removed):
                continue
            out.append(f"<h3>{e(s.stage)}</h3>")
            if s.items:
                out.append(_html_table(["figure", "before", "after", "change"],
                                       [((c.label,), c) for c in s.items]))
            out += [f"<p class='note'>{e(n)}</p>" for n in _item_notes(s)]
            for t in s.tables:
                out.append(f"<h4>{e(t.title)} (by {e(t.index)})</h4>")
                if t.cells:
                    out.append(_html_table([t.index, "figure", "before", "after", "change"],
                                           [((c.row or "", c.label), c) for c in t.cells]))
                out += [f"<p class='note'>{e(n)}</p>" for n in _table_notes(t)]
        if self.targets:
            out.append("<h3>Plan targets of the earlier report</h3>"
                       "<table class='cs-sim-targets'><thead><tr><th>target</th>"
                       "<th>aim</th><th>then</th><th>now</th><th>status</th></tr></thead>"
                       "<tbody>")
            for t in self.targets:
                cells = "".join(f"<td class='num'>{e(v)}</td>" for v in _target_texts(t)[:3])
                cls = t.status.replace(" ", "-")
                title = f" title='{e(t.note)}'" if t.note else ""
                out.append(f"<tr><th>{e(t.name)}</th>{cells}"
                           f"<td class='{cls}'{title}>{e(t.status)}</td></tr>")
            out.append("</tbody></table>")
        out += [f"<p class='note'>{e(n)}</p>" for n in _stage_notes(self)]
        out.append("</section>")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        return self.to_html()

# --------------------------------------------------------------------------- helpers
def _is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _show(value: Any, unit: str) -> str:
    if isinstance(value, str) and unit in DIFF_UNITS:
        return value
    return fmt(value, unit)


def _target_texts(t: TargetCheck) -> tuple[str, str, str, str]:
    sign = "≥" if t.direction == "up" else "≤" if t.direction == "down" else ""
    aim = f"{sign} {_show(t.target, t.unit)}".strip()
    return aim, _show(t.baseline, t.unit), _show(t.now, t.unit), t.status


def _text_frame(rows: Sequence[tuple[str, ...]], columns: list[str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame([r[1:] for r in rows], index=[r[0] for r in rows], columns=columns)


def _names(items: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(f"{i['label']} ({fmt(i['value'], i['unit'])})" for i in items)


def _item_notes(s: StageChanges) -> list[str]:
    notes = []
    if s.new:
        notes.append(f"{s.stage}: new figures: {_names(s.new)}")
    if s.removed:
        notes.append(f"{s.stage}: figures no longer reported: {_names(s.removed)}")
    return notes


def _table_notes(t: TableChanges) -> list[str]:
    notes = [t.note] if t.note else []
    if t.added:
        notes.append(f"new {t.index} rows: {', '.join(t.added)}")
    if t.removed:
        notes.append(f"{t.index} rows gone: {', '.join(t.removed)}")
    if t.columns_added:
        notes.append(f"new columns: {', '.join(t.columns_added)}")
    if t.columns_removed:
        notes.append(f"columns gone: {', '.join(t.columns_removed)}")
    return notes


def _stage_notes(r: RunChanges) -> list[str]:
    notes = []
    if r.stages_new:
        notes.append(f"Stages with figures only now: {', '.join(r.stages_new)}")
    if r.stages_missing:
        notes.append(f"Stages with figures only in the earlier run: "
                     f"{', '.join(r.stages_missing)}")
    return notes


def _esc(value: Any) -> str:
    return escape(str(value), quote=True)


def _html_table(header: list[str], rows: Sequence[tuple[tuple[str, ...], Change]]) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = []
    for labels, c in rows:
        b, a, d = c.texts()
        moved = "same" if not c.moved else (
            "up" if (c.change or 0) > 0 else "down" if (c.change or 0) < 0 else "changed")
        names = "".join(f"<th>{_esc(x)}</th>" for x in labels)
        body.append(f"<tr>{names}<td class='num'>{_esc(b)}</td><td class='num'>{_esc(a)}</td>"
                    f"<td class='num {moved}'>{_esc(d)}</td></tr>")
    return (f"<table class='cs-sim-changes'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")
