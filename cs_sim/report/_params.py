"""A report's parameters: the file ``cs-sim report --params`` reads, checked in full.

The file (template: ``templates/report.yaml``) is a YAML mapping::

    name: acme                   # the report's folder: reports/<name>/<run-id>/
    data: data/acme              # the dataset every stage reads
    seed: 7                      # optional: the seed of every stage with a `seed`
    only: [03_kpi_baseline]      # optional: run only these stages
    stages:                      # optional: parameters of each stage's notebook
      03_kpi_baseline: {by: segment, start: "2025-01"}

:func:`load_params` reads it into the frozen :class:`ReportParams` (unknown keys refused,
with the closest allowed one); :func:`plan_report` checks it against the notebooks
themselves (every stage name, every parameter name and its annotated type, every file a
path parameter names) and returns the :class:`ReportPlan` the runner executes. Both
raise :class:`~cs_sim.errors.ReportInputError` with one line per problem, before any
stage runs.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cs_sim._pydantic import did_you_mean, format_loc
from cs_sim._yaml import load_yaml_mapping
from cs_sim.errors import ReportInputError
from cs_sim.paths import repo_root, resolve_path
from cs_sim.report._stages import Stage, check_value, find_stages

__all__ = ["DEFAULT_DATA", "ReportParams", "ReportPlan", "StagePlan", "load_params",
           "params_from_dict", "plan_report"]

#: the dataset used when neither --data nor the file's `data` names one
DEFAULT_DATA = "data/sample"
#: set by ``cs-sim report`` itself; a parameter file may not give them per stage
RESERVED = {"data_path": "give the dataset once, as `data:` at the top (or --data)",
            "out_dir": "cs-sim report writes the stage's files into the report folder"}
#: stage parameters the report sets unless the file does (a report has no live kernel)
REPORT_DEFAULTS: dict[str, dict[str, Any]] = {"06_what_if": {"show_panel": False}}
_EXAMPLE = "templates/report.yaml"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")


class ReportParams(BaseModel):
    """The report parameter file (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = Field(None, description="the report's name: its folder under "
                             "reports/ (default: the dataset folder's name)")
    data: str | None = Field(None, description="dataset folder, relative to the repository "
                             f"root (default {DEFAULT_DATA})")
    seed: int | None = Field(None, ge=0, description="seed of every stage with a `seed` "
                             "parameter, unless the stage gives its own")
    notebooks: str | None = Field(None, description="folder of the chain's notebooks "
                                  "(default: notebooks/ of the repository)")
    only: list[str] | None = Field(None, min_length=1, description="run only these stages "
                                   "(default: every stage)")
    jobs: int | None = Field(None, ge=1, description="stages run at once (default: the "
                             "number of CPUs)")
    stages: dict[str, dict[str, Any] | None] = Field(
        default_factory=dict, description="parameters of each stage's notebook, by stage")

    @field_validator("name")
    @classmethod
    def _folder_safe(cls, name: str | None) -> str | None:
        if name is not None and (not _NAME.fullmatch(name) or name.endswith(".")):
            raise ValueError(f"{name!r} cannot be a folder name; fix: use up to 80 letters, "
                             "digits, '_', '-' and '.', starting with a letter or digit")
        return name

    def to_file_dict(self) -> dict[str, Any]:
        """The parameters as a parameter file holds them (keys left unset omitted)."""
        return self.model_dump(exclude_none=True, exclude_defaults=True)


def _message(err: Mapping[str, Any]) -> str:
    loc = tuple(err.get("loc", ()))
    where = format_loc(loc)
    kind = str(err.get("type", ""))
    if kind == "extra_forbidden":
        msg = (f"unknown key{did_you_mean(ReportParams, loc)}; fix: use one of "
               f"{', '.join(ReportParams.model_fields)} (see {_EXAMPLE})")
    elif kind == "value_error":
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
    elif kind in ("dict_type", "model_type"):
        msg = (f"must be a mapping (key: value), got {err.get('input')!r}; fix: indent the "
               "keys below it")
    elif kind == "list_type":
        msg = f"must be a list, got {err.get('input')!r}; fix: write [a, b]"
    else:
        text = str(err.get("msg", kind))
        msg = f"{text[:1].lower()}{text[1:]} (got {err.get('input')!r}); fix: see {_EXAMPLE}"
    return f"{where}: {msg}" if where else msg


def params_from_dict(data: Mapping[str, Any], *, source: str = "report parameters"
                     ) -> ReportParams:
    """Check report parameters given as a mapping (as read from YAML).

    Raises
    ------
    cs_sim.errors.ReportInputError
        One line per problem: the source, the dotted key, what is wrong and the fix.

    Examples
    --------
    >>> params_from_dict({"stagse": {}}, source="r.yaml")
    Traceback (most recent call last):
    ...
    cs_sim.errors.ReportInputError: r.yaml: stagse: unknown key; did you mean 'stages'?; \
fix: use one of name, data, seed, notebooks, only, jobs, stages (see templates/report.yaml)
    """
    try:
        return ReportParams.model_validate(dict(data))
    except ValidationError as exc:
        lines = [f"{source}: {_message(e)}" for e in exc.errors(include_url=False)]
        raise ReportInputError("\n".join(lines)) from None


def load_params(path: str | os.PathLike[str]) -> ReportParams:
    """Read and check a report parameter file (``yaml.safe_load``).

    Raises
    ------
    cs_sim.errors.ReportInputError
        If the file cannot be read, is not a YAML mapping or holds a wrong key or value.
    """
    data = load_yaml_mapping(path, what="report parameter file", error=ReportInputError)
    return params_from_dict(data, source=str(path))


@dataclass(frozen=True)
class StagePlan:
    """One stage to run: its notebook and the parameters papermill injects.

    Attributes
    ----------
    stage : Stage
    given : dict
        The parameters as the file gave them (plus the report's seed).
    inject : dict
        What the notebook receives: ``given`` with path parameters resolved, the dataset
        and the report's defaults (``out_dir`` is added by the runner).
    """

    stage: Stage
    given: dict[str, Any]
    inject: dict[str, Any]

    @property
    def name(self) -> str:
        return self.stage.name

    def effective(self) -> dict[str, Any]:
        """Every parameter of the notebook with the value it runs with."""
        out = {n: p.default for n, p in self.stage.parameters.items()}
        out.update(self.inject)
        return out


@dataclass(frozen=True)
class ReportPlan:
    """A checked report: what runs, on which data, under which name.

    Attributes
    ----------
    name : str
    data : pathlib.Path
        The dataset folder (absolute).
    params : ReportParams
        The parameters as given, with ``name`` and ``data`` filled in (what
        ``params.yaml`` of the run holds).
    stages : list of StagePlan
        In chain order.
    jobs : int
    notebooks : pathlib.Path
    """

    name: str
    data: Path
    params: ReportParams
    stages: list[StagePlan] = field(default_factory=list)
    jobs: int = 1
    notebooks: Path = Path("notebooks")

    def seeds(self) -> dict[str, Any]:
        """The ``seed`` each stage with one runs with."""
        return {s.name: s.effective()["seed"] for s in self.stages
                if "seed" in s.stage.parameters}


def _close(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _shown_path(path: Path) -> str:
    """A resolved path as a notebook's parameters should hold it: relative to the
    repository root when inside it (notebooks resolve against it), else absolute."""
    root = repo_root()
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return str(path.resolve())


def _resolve_paths(stage: str, name: str, value: Any, problems: list[str], source: str
                   ) -> Any:
    """Path parameters resolved and checked to exist (lists of paths too)."""
    if value is None:
        return None
    if isinstance(value, list):
        return [_resolve_paths(stage, name, v, problems, source) for v in value]
    if not isinstance(value, str):
        return value
    path = resolve_path(value)
    if not path.exists():
        problems.append(f"{source}: stages.{stage}.{name}: {value!r} not found (looked "
                        f"for {path}); fix: give a path relative to the repository root, "
                        "or an absolute one")
        return value
    return _shown_path(path)


def plan_report(params: ReportParams, *, source: str = "report parameters",
                data: str | os.PathLike[str] | None = None, name: str | None = None,
                jobs: int | None = None) -> ReportPlan:
    """Check the parameters against the notebooks and decide what runs.

    Parameters
    ----------
    params : ReportParams
    source : str
        How messages name the parameter file.
    data, name, jobs : optional
        Given on the command line: they win over the file's.

    Returns
    -------
    ReportPlan

    Raises
    ------
    cs_sim.errors.ReportInputError
        Every problem at once, one per line: an unknown stage or parameter (with the
        closest name), a value of the wrong type, a parameter the report sets itself, a
        file that does not exist, a name that cannot be a folder.
    """
    if params.notebooks is not None:
        folder = resolve_path(params.notebooks)
    elif repo_root() is not None:
        folder = repo_root() / "notebooks"  # type: ignore[operator]
    else:
        raise ReportInputError(f"{source}: notebooks: not given, and cs_sim does not run "
                               "from a checkout; fix: give the folder of the chain's "
                               "notebooks as `notebooks:`")
    chain = find_stages(folder)
    by_name = {s.name: s for s in chain}
    names = list(by_name)
    problems: list[str] = []
    for where, keys in (("stages", params.stages), ("only", params.only or [])):
        for key in keys:
            if key not in by_name:
                problems.append(f"{source}: {where}: unknown stage {key!r}"
                                f"{_close(key, names)}; fix: use one of {', '.join(names)}")
    selected = [s for s in chain if params.only is None or s.name in params.only]
    plans = []
    for stage in selected:
        given = dict(params.stages.get(stage.name) or {})
        if params.seed is not None and "seed" in stage.parameters:
            given.setdefault("seed", params.seed)
        inject: dict[str, Any] = {}
        for key, value in given.items():
            where = f"{source}: stages.{stage.name}.{key}"
            if key not in stage.parameters:
                problems.append(f"{where}: unknown parameter"
                                f"{_close(key, list(stage.parameters))}; fix: use one of "
                                f"{', '.join(n for n in stage.parameters if n not in RESERVED)}")
                continue
            if key in RESERVED:
                problems.append(f"{where}: set by cs-sim report; fix: leave it out "
                                f"({RESERVED[key]})")
                continue
            why = check_value(stage.parameters[key], value)
            if why is not None:
                problems.append(f"{where}: {why}; fix: give a value of that type "
                                f"({stage.parameters[key].help or 'see the notebook'})")
                continue
            inject[key] = (_resolve_paths(stage.name, key, value, problems, source)
                           if stage.parameters[key].is_path else value)
        for key, value in REPORT_DEFAULTS.get(stage.name, {}).items():
            if key in stage.parameters and key not in given:
                inject[key] = value
        plans.append(StagePlan(stage=stage, given=given, inject=inject))
    data_given = str(data) if data is not None else (params.data or DEFAULT_DATA)
    data_path = resolve_path(data_given)
    if not data_path.is_dir():
        problems.append(f"{'--data' if data is not None else f'{source}: data'}: "
                        f"{data_given!r} is not a folder (looked for {data_path}); fix: give "
                        "the dataset folder (see `cs-sim validate`)")
    report_name = name or params.name or data_path.name
    if not _NAME.fullmatch(report_name) or report_name.endswith("."):
        problems.append(f"--name: {report_name!r} cannot be a folder name; fix: use letters, "
                        "digits, '_', '-' and '.'")
    if problems:
        raise ReportInputError("\n".join(dict.fromkeys(problems)))
    for plan in plans:
        if "data_path" in plan.stage.parameters:
            plan.inject["data_path"] = _shown_path(data_path)
    n_jobs = jobs or params.jobs or os.cpu_count() or 1
    filled = params.model_copy(update={"name": report_name, "data": data_given})
    return ReportPlan(name=report_name, data=data_path.resolve(), params=filled,
                      stages=plans, jobs=max(1, min(n_jobs, len(plans) or 1)),
                      notebooks=folder)
