"""The report parameter template and its JSON Schema, written from the notebooks.

``templates/report.yaml`` documents every key of a report parameter file and every
parameter of every stage (commented out, with the notebook's default, type and
comment); ``templates/report.schema.json`` is the JSON Schema of such a file (for an
editor's completion and checks), the stages' parameters included. Both follow from
the notebooks' parameters cells; after changing one, regenerate them::

    python -m cs_sim.report._template

(``tests/test_report.py`` checks that the committed files are up to date).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from cs_sim.report._params import DEFAULT_DATA, REPORT_DEFAULTS, RESERVED, ReportParams
from cs_sim.report._stages import Stage, find_stages, python_type

__all__ = ["report_schema", "report_template", "write_templates"]

_HEADER = """\
# Parameters of `cs-sim report`: copy this file, change what you need, then run
#
#   cs-sim report --params my_report.yaml        # writes reports/<name>/<run-id>/
#
# Every key is optional; a key not listed here is refused (with the closest allowed
# one). Relative paths are read from the repository root. Each stage's parameters are
# those of its notebook's `parameters` cell (shown commented out below with the
# notebook's default, type and comment): their names and types are checked before any
# stage runs. data_path and out_dir are set by the report itself (the dataset is
# `data`; out_dir is the report folder). Lists are written [a, b]; nothing is null.
# JSON Schema: templates/report.schema.json. Written from the notebooks by
# `python -m cs_sim.report._template` (run it after changing a notebook's parameters).
"""


def _yaml_value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if value is not None else "null"


def _stage_lines(stage: Stage) -> list[str]:
    lines = [f"  # {stage.title}", f"  {stage.name}:"]
    active = REPORT_DEFAULTS.get(stage.name, {})
    for p in stage.parameters.values():
        if p.name in RESERVED:
            continue
        note = f"({p.annotation}) {p.help}".strip()
        if p.name in active:
            lines.append(f"    {p.name}: {_yaml_value(active[p.name])}  # the report's "
                         f"default (notebook: {_yaml_value(p.default)}); {note}")
        else:
            lines.append(f"    # {p.name}: {_yaml_value(p.default)}  # {note}")
    return lines


def report_template(stages: list[Stage]) -> str:
    """The text of ``templates/report.yaml`` for these stages."""
    seeded = [s.name for s in stages if "seed" in s.parameters]
    lines = [
        _HEADER,
        "name: sample  # the report's folder: reports/<name>/<run-id>/ (--name wins; "
        "default: the dataset folder's name)",
        f"data: {DEFAULT_DATA}  # dataset folder every stage reads (--data wins)",
        f"# seed: 2026  # the seed of every stage with one ({', '.join(seeded)}), unless "
        "the stage sets its own",
        f"# only: [{stages[0].name}, {stages[-1].name}]  # run only these stages "
        "(default: every stage)",
        "# jobs: 2  # stages run at once, each in its own kernel (default: the number of CPUs)",
        "# notebooks: notebooks  # folder of the chain's notebooks",
        "",
        "stages:",
    ]
    for stage in stages:
        lines.extend(_stage_lines(stage))
    return "\n".join(lines) + "\n"


def _param_schema(annotation: str, default: Any, help_text: str) -> dict[str, Any]:
    from pydantic import TypeAdapter

    target = python_type(annotation)
    try:
        schema = dict(TypeAdapter(target).json_schema())
    except Exception:  # a type without a JSON Schema: any value
        schema = {}
    schema.pop("title", None)
    schema["description"] = help_text
    if default is None or isinstance(default, (str, int, float, bool, list)):
        schema["default"] = default
    return schema


def report_schema(stages: list[Stage]) -> dict[str, Any]:
    """The JSON Schema of a report parameter file, stage parameters included."""
    schema = ReportParams.model_json_schema()
    schema["title"] = "cs-sim report parameters"
    schema["description"] = ("Parameters of `cs-sim report --params FILE` (template: "
                             "templates/report.yaml).")
    names = [s.name for s in stages]
    schema["properties"]["only"] = {
        "anyOf": [{"type": "array", "items": {"enum": names}, "minItems": 1},
                  {"type": "null"}],
        "default": None, "description": schema["properties"]["only"].get("description")}
    props = {}
    for s in stages:
        params = {p.name: _param_schema(p.annotation, p.default, p.help)
                  for p in s.parameters.values() if p.name not in RESERVED}
        props[s.name] = {"description": s.title, "anyOf": [
            {"type": "object", "additionalProperties": False, "properties": params},
            {"type": "null"}]}
    schema["properties"]["stages"] = {
        "type": "object", "additionalProperties": False, "properties": props,
        "description": schema["properties"]["stages"].get("description")}
    return schema


def write_templates(root: str | Path, notebooks: str | Path | None = None) -> list[Path]:
    """Write ``templates/report.yaml`` and ``templates/report.schema.json`` under root."""
    root = Path(root)
    stages = find_stages(notebooks or root / "notebooks")
    yaml_file = root / "templates" / "report.yaml"
    schema_file = root / "templates" / "report.schema.json"
    yaml_file.write_text(report_template(stages), encoding="utf-8")
    schema_file.write_text(json.dumps(report_schema(stages), indent=2, ensure_ascii=False)
                           + "\n", encoding="utf-8")
    return [yaml_file, schema_file]


if __name__ == "__main__":  # pragma: no cover
    from cs_sim.paths import repo_root

    for path in write_templates(repo_root() or Path.cwd()):
        sys.stdout.write(f"wrote {path}\n")
