"""``index.html`` of a report run: every stage, its status, time, links and headlines.

Rendered by jinja2 with autoescaping from ``cs_sim/resources/templates/
report_index.html.j2``: figures are shown in their unit through
:func:`cs_sim.format.fmt`; every text that comes from data, parameters or an error is
escaped; the page has no script and loads nothing from elsewhere.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cs_sim.format import UNITS, fmt

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.report._execute import StageResult
    from cs_sim.report._runner import ReportRun

__all__ = ["render_index"]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_PLAN_FILES = (("strategy_plan.html", "the plan (HTML)"), ("strategy_plan.md", "Markdown"),
               ("plan.json", "JSON"))


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def _show(value: Any, unit: str | None, currency: str | None = None) -> str:
    if unit in UNITS:
        return fmt(value, unit, currency=currency if unit == "money" else None)
    if isinstance(value, bool) or value is None:
        return fmt(value, "flag") if isinstance(value, bool) else "n/a"
    if isinstance(value, int):
        return fmt(value, "count")
    if isinstance(value, float):
        return fmt(value, "number")
    return str(value)


_ACRONYMS = {"arpa", "arr", "ces", "clv", "crc", "csat", "csm", "fcr", "grr", "kpi", "mrr",
             "nps", "nrr", "roi", "npv", "auc", "fte", "id"}


def _heading(key: str) -> str:
    """A column key as a heading: ``logo_churn_monthly`` -> ``Logo churn monthly``."""
    words = [w.upper() if w.lower() in _ACRONYMS else w for w in str(key).split("_") if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _table(caption: str, table: dict[str, Any] | None) -> dict[str, Any] | None:
    if not table or not table.get("rows"):
        return None
    index = str(table.get("index", ""))
    units = table.get("units") or {}
    columns = [c for c in table["rows"][0] if c != index]
    rows = [[str(r.get(index, ""))] + [_show(r.get(c), units.get(c)) for c in columns]
            for r in table["rows"]]
    return {"caption": caption, "header": [_heading(c) for c in (index, *columns)],
            "rows": rows}


def _targets(targets: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    if not targets:
        return None
    rows = [[str(t.get("name", "")), str(t.get("metric", "")),
             _show(t.get("value"), t.get("unit")), _show(t.get("target"), t.get("unit")),
             "higher is better" if t.get("direction") == "up" else "lower is better"]
            for t in targets]
    return {"caption": f"Plan targets ({len(rows)})",
            "header": ["target", "metric", "now", "target", "direction"], "rows": rows}


def _href(path: str) -> str:
    return quote(path)


def _stage(s: StageResult, given: dict[str, Any], folder: Path) -> dict[str, Any]:
    heads = s.headlines or {}
    items = [{"label": str(i.get("label", i.get("key", ""))),
              "value": _show(i.get("value"), i.get("unit"), i.get("currency"))}
             for i in heads.get("items") or []]
    tables = [t for t in (_table("By segment", heads.get("segments")),
                          _table("By health band", heads.get("health_bands")),
                          _targets(heads.get("targets"))) if t]
    params = [{"name": k, "value": json.dumps(v, ensure_ascii=False),
               "note": "given" if k in given else "set by the report"}
              for k, v in s.parameters.items()]
    log = folder / "logs" / f"{s.name}.log"
    error = _ANSI.sub("", s.error) if s.error else None
    return {"name": s.name, "title": s.title, "failed": s.status != "ok",
            "time": _duration(s.seconds), "html": s.html and _href(s.html),
            "notebook": s.notebook and _href(s.notebook),
            "log": _href(f"logs/{s.name}.log") if log.is_file() and s.status != "ok" else None,
            "error": error, "error_cell": s.error_cell, "headline_items": items,
            "tables": tables,
            "figures": [{k: (_href(v) if k != "alt" else v) for k, v in f.items()}
                        for f in s.figures],
            "params": params}


def _what_if(folder: Path) -> list[dict[str, Any]]:
    base = folder / "what_if"
    if not base.is_dir():
        return []
    out = []
    for variant in sorted(p for p in base.iterdir() if p.is_dir()):
        files = sorted(p for p in variant.iterdir() if p.is_file())
        out.append({"name": variant.name, "files": [
            {"href": _href(p.relative_to(folder).as_posix()), "label": p.name} for p in files]})
    return out


def render_index(manifest: dict[str, Any], run: ReportRun, folder: Path) -> str:
    """The index page of a run whose files are in ``folder``.

    Parameters
    ----------
    manifest : dict
        The run's manifest (:func:`cs_sim.report._manifest.manifest`).
    run : ReportRun
    folder : pathlib.Path
        Where the run's files are now (the temporary folder while it is written).

    Returns
    -------
    str
    """
    import jinja2
    from markupsafe import Markup

    from cs_sim import __version__

    text = (resources.files("cs_sim") / "resources" / "templates" /
            "report_index.html.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    stages_given = manifest["params"].get("stages") or {}
    seed = manifest["params"].get("seed")
    stages = []
    for s in run.stages:
        given = dict(stages_given.get(s.name) or {})
        if seed is not None and "seed" in s.parameters:
            given.setdefault("seed", seed)
        stages.append(_stage(s, given, folder))
    plan_dir = folder / "plan"
    plan_files = [{"href": _href(f"plan/{name}"), "label": label}
                  for name, label in _PLAN_FILES if (plan_dir / name).is_file()]
    changes = None if run.changes is None else Markup(run.changes.to_html())
    return env.from_string(text).render(
        title=f"Report: {run.name}", run_id=run.run_id,
        started=manifest["started"].replace("T", " ")[:16], total_time=_duration(run.seconds),
        data=manifest["data"]["path"], stages=stages,
        failed=[s.name for s in run.failed], changes_html=changes,
        plan_files=plan_files, what_if=_what_if(folder),
        params_path=f"reports/{run.name}/{run.run_id}/params.yaml", version=__version__)
