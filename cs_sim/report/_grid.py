"""Many report runs at once: ``cs-sim report --grid grid.yaml [--engine dask]``.

A grid file lists parameter sets (clients, scenarios), each run as one report::

    title: Clients this quarter          # optional: the comparison page's title
    base: report.yaml                    # optional: report parameters every run starts from
    runs:
      - name: sample_10pct               # folder-safe and unique: reports/<grid>/<name>/
        params: {data: data/sample, stages: {06_what_if: {replications: 5}}}
      - name: example
        params: {data: data/example}

- :func:`load_grid` reads and checks the file (``yaml.safe_load``; a frozen pydantic
  model, unknown keys refused with the closest allowed one) into a :class:`Grid`; a
  relative ``base`` is read next to the grid file, else from the repository root;
  :meth:`Grid.params_for` lays a run's ``params`` over it (mappings merged key by key,
  anything else replaced); the report runner checks the result against the notebooks.
- :func:`map_runs` runs a function over the parameter sets, here in order
  (``engine="local"``) or as tasks of a Dask cluster (``engine="dask"``: a scheduler
  address, the current client, or a :class:`distributed.LocalCluster`, see
  :func:`cs_sim.sim.dask.dask_client`); results come back in input order and a run that
  raises is returned as failed with its error, without losing the others.
- :func:`grid_page` writes the comparison page: one row per run linking its
  ``index.html``, one column per headline figure (stage and key), every figure in its
  unit (:func:`cs_sim.format.fmt`) and every text escaped (jinja2 autoescaping).
"""

from __future__ import annotations

import os
import re
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from cs_sim._pydantic import did_you_mean, format_loc
from cs_sim._yaml import load_yaml_mapping
from cs_sim.errors import CsSimError, ReportInputError
from cs_sim.format import UNITS, fmt

__all__ = [
    "ENGINES",
    "Grid",
    "GridRun",
    "RunOutcome",
    "grid_from_dict",
    "grid_page",
    "load_grid",
    "map_runs",
]

#: where :func:`map_runs` can run the parameter sets
ENGINES = ("local", "dask")
#: a run's name: letters, digits, ``_``, ``-`` and ``.``, starting with a letter or digit
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")
#: names Windows keeps for devices, refused as folder names everywhere
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
             *(f"lpt{i}" for i in range(1, 10))}
_EXAMPLE = "templates/report_grid.yaml"


# --------------------------------------------------------------------------- the file
class GridRun(BaseModel):
    """One parameter set of a grid: a name and the report parameters it changes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="folder-safe name, unique in the grid (letters, digits, "
                                  "'_', '-', '.'), e.g. 'sample_10pct'")
    params: dict[str, Any] = Field(default_factory=dict,
                                   description="report parameters laid over `base`")
    description: str | None = Field(None, description="a note shown on the comparison page")

    @field_validator("name")
    @classmethod
    def _folder_safe(cls, name: str) -> str:
        if not NAME_PATTERN.fullmatch(name) or name.endswith("."):
            raise ValueError(
                f"{name!r} cannot be a folder name; fix: use up to 80 letters, digits, "
                "'_', '-' and '.', starting with a letter or digit (e.g. 'sample_10pct')")
        if name.split(".")[0].lower() in _RESERVED:
            raise ValueError(f"{name!r} is a device name on Windows; fix: choose another name")
        return name


class Grid(BaseModel):
    """A grid file: the parameter sets to run, each as one report.

    Attributes
    ----------
    title : str or None
        The comparison page's title.
    base : pathlib.Path or None
        The report parameter file every run starts from (absolute once loaded by
        :func:`load_grid`).
    runs : list of GridRun
        At least one; names unique (also ignoring case, for case-insensitive disks).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str | None = Field(None, description="title of the comparison page")
    base: Path | None = Field(None, description="report parameter file every run starts "
                                                "from, relative to the grid file")
    runs: list[GridRun] = Field(min_length=1, description="the parameter sets, one report each")

    @model_validator(mode="after")
    def _unique_names(self) -> Grid:
        seen: dict[str, int] = {}
        for i, run in enumerate(self.runs):
            first = seen.setdefault(run.name.lower(), i)
            if first != i:
                other = self.runs[first].name
                same = "is also" if other == run.name else f"differs only in case from {other!r},"
                raise ValueError(f"runs[{i}].name: {run.name!r} {same} the name of "
                                 f"runs[{first}]; fix: give every run its own name (each "
                                 "becomes a folder)")
        return self

    @property
    def names(self) -> list[str]:
        """The runs' names, in order."""
        return [r.name for r in self.runs]

    def run(self, name: str) -> GridRun:
        """The run called ``name``."""
        for r in self.runs:
            if r.name == name:
                return r
        raise KeyError(f"no run {name!r} in the grid (runs: {', '.join(self.names)})")

    def base_params(self) -> dict[str, Any]:
        """The parameters of the ``base`` file (empty without one).

        Raises
        ------
        cs_sim.errors.ReportInputError
            If the file cannot be read or is not a YAML mapping.
        """
        if self.base is None:
            return {}
        return load_yaml_mapping(self.base, what="report parameter file",
                                 error=ReportInputError)

    def params_for(self, run: GridRun | str) -> dict[str, Any]:
        """A run's parameters laid over the base file's (a new dict).

        Mappings are merged key by key, at every depth; any other value of the run
        (a list, a number, a string, null) replaces the base's.

        Parameters
        ----------
        run : GridRun or str
            The run or its name.

        Returns
        -------
        dict

        Examples
        --------
        >>> g = Grid(runs=[{"name": "a", "params": {"stages": {"06_what_if": {"seed": 1}}}}])
        >>> g.params_for("a")
        {'stages': {'06_what_if': {'seed': 1}}}
        """
        r = self.run(run) if isinstance(run, str) else run
        return _merge(self.base_params(), r.params)


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, Mapping) and isinstance(over, Mapping):
        out = dict(base)
        for key, value in over.items():
            out[key] = _merge(base[key], value) if key in base else _merge(None, value)
        return out
    if isinstance(over, Mapping):
        return {k: _merge(None, v) for k, v in over.items()}
    if isinstance(over, list):
        return [_merge(None, v) for v in over]
    return over


def _allowed(loc: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] = GridRun if loc and loc[0] == "runs" else Grid
    return list(model.model_fields)


def _message(err: Mapping[str, Any]) -> str:
    kind = str(err.get("type", ""))
    loc = tuple(err.get("loc", ()))
    where = format_loc(loc)
    if kind == "missing":
        msg = f"required key is missing; fix: add {where.rsplit('.', 1)[-1]!r}"
        if where == "runs":
            msg += f" with a list of runs (see {_EXAMPLE})"
    elif kind == "extra_forbidden":
        msg = (f"unknown key{did_you_mean(Grid, loc)}; fix: use one of "
               f"{', '.join(_allowed(loc))} (see {_EXAMPLE})")
    elif kind == "too_short":
        msg = f"lists no run; fix: add at least one run with a name and params (see {_EXAMPLE})"
    elif kind == "value_error":
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        if not loc and ": " in msg:
            return msg  # the check put its own path first
    elif kind in ("dict_type", "model_type"):
        msg = "must be a mapping (key: value); fix: indent the keys below it"
    elif kind == "list_type":
        msg = "must be a list; fix: write each entry on its own line starting with '- '"
    elif kind == "string_type":
        msg = f"must be text (got {err.get('input')!r}); fix: put the value in quotes"
    else:
        msg = str(err.get("msg", kind))
        msg = msg[:1].lower() + msg[1:]
        if "input" in err and not isinstance(err["input"], (dict, list)):
            msg += f" (got {err['input']!r})"
    return f"{where}: {msg}" if where else msg


def grid_from_dict(data: Mapping[str, Any], *, source: str = "grid") -> Grid:
    """Check a grid given as a dict (as read from YAML).

    Parameters
    ----------
    data : mapping
    source : str, default "grid"
        How messages name the file.

    Returns
    -------
    Grid
        ``base`` as written (not resolved: see :func:`load_grid`).

    Raises
    ------
    cs_sim.errors.ReportInputError
        One line per problem: the file, the dotted key, what is wrong and the fix.

    Examples
    --------
    >>> grid_from_dict({"runs": [{"name": "a", "parms": {}}]}, source="g.yaml")
    Traceback (most recent call last):
    ...
    cs_sim.errors.ReportInputError: g.yaml: runs[0].parms: unknown key; did you mean \
'params'?; fix: use one of name, params, description (see templates/report_grid.yaml)
    """
    try:
        return Grid.model_validate(dict(data))
    except ValidationError as exc:
        lines = [f"{source}: {_message(e)}" for e in exc.errors(include_url=False)]
        raise ReportInputError("\n".join(lines)) from None


def load_grid(path: str | os.PathLike[str]) -> Grid:
    """Read a grid file (YAML) and check it, its ``base`` file included.

    Parameters
    ----------
    path : str or os.PathLike
        The grid file, e.g. ``templates/report_grid.yaml``.

    Returns
    -------
    Grid
        With ``base`` an absolute path: relative to the grid file's folder when it is
        there, else to the repository root (or the working directory).

    Raises
    ------
    cs_sim.errors.ReportInputError
        If the file is missing, not YAML, or not a valid grid (unknown key with the
        closest allowed one, a name that cannot be a folder or is used twice, no run),
        or its ``base`` file is missing or not a YAML mapping.
    """
    from cs_sim.paths import resolve_path

    source = str(path)
    file = Path(path)
    if not file.is_file():
        what = "is a folder" if file.is_dir() else "file not found"
        raise ReportInputError(f"{source}: cannot read the report grid: {what}; fix: give "
                               f"the path of a grid YAML file (see {_EXAMPLE})")
    data = load_yaml_mapping(file, what="report grid", source=source, error=ReportInputError)
    grid = grid_from_dict(data, source=source)
    if grid.base is None:
        return grid
    base = grid.base.expanduser()
    tried = [base] if base.is_absolute() else [file.parent / base, resolve_path(base)]
    found = next((p for p in tried if p.is_file()), None)
    if found is None:
        raise ReportInputError(
            f"{source}: base: report parameter file {str(grid.base)!r} not found (looked for "
            f"{' and '.join(str(p) for p in dict.fromkeys(tried))}); fix: give its path "
            "relative to the grid file or the repository root, or leave 'base' out")
    resolved = grid.model_copy(update={"base": found.resolve()})
    try:
        resolved.base_params()
    except ReportInputError as exc:
        raise ReportInputError(f"{source}: base: {exc}") from None
    return resolved


# --------------------------------------------------------------------------- running
@dataclass(frozen=True)
class RunOutcome:
    """What one parameter set gave: a value, or the error that stopped it.

    Attributes
    ----------
    index : int
        Its place in the input.
    value : Any
        What the function returned (None when it failed).
    error : str or None
        The error in words (a :class:`~cs_sim.errors.CsSimError`'s message as it is,
        otherwise ``"ExceptionType: message"``); None when the run succeeded.
    traceback : str or None
        The full traceback, for a log.
    """

    index: int
    value: Any = None
    error: str | None = None
    traceback: str | None = None

    @property
    def ok(self) -> bool:
        """True when the run returned a value."""
        return self.error is None

    @property
    def failed(self) -> bool:
        """True when the run raised an error."""
        return self.error is not None


def _failed(index: int, exc: BaseException) -> RunOutcome:
    text = str(exc) if isinstance(exc, CsSimError) else f"{type(exc).__name__}: {exc}"
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return RunOutcome(index=index, error=text, traceback=tb)


class _Guarded:
    """``fn`` turned into a task that returns a :class:`RunOutcome` instead of raising."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn

    def __call__(self, index: int, item: Any) -> RunOutcome:
        try:
            return RunOutcome(index=index, value=self.fn(item))
        except (Exception, SystemExit) as exc:  # one failed run must not stop the others
            return _failed(index, exc)


def map_runs(
    fn: Callable[[Any], Any],
    items: Iterable[Any],
    *,
    engine: Literal["local", "dask"] | str = "local",
    address: str | None = None,
    client: Any = None,
    n_workers: int | None = None,
    processes: bool = True,
    progress: Callable[[RunOutcome], None] | None = None,
) -> list[RunOutcome]:
    """Call ``fn`` on each item, here or on a Dask cluster; one outcome per item, in order.

    Parameters
    ----------
    fn : callable
        Takes one item, returns anything (picklable for ``engine="dask"`` with process
        workers: a module-level function).
    items : iterable
        The parameter sets.
    engine : {"local", "dask"}, default "local"
        ``local``: one after another in this process. ``dask``: one task per item on a
        Dask cluster: the scheduler at ``address``, else ``client``, else the current
        client of this process, else a :class:`distributed.LocalCluster` started and
        closed here.
    address : str, optional
        A Dask scheduler, e.g. ``"tcp://10.0.0.5:8786"`` (``engine="dask"`` only).
    client : distributed.Client, optional
        An existing client (left open).
    n_workers : int, optional
        Workers of the LocalCluster started when there is no client.
    processes : bool, default True
        LocalCluster workers as processes (True) or threads.
    progress : callable, optional
        Called with each :class:`RunOutcome` as it finishes (in completion order).

    Returns
    -------
    list of RunOutcome
        In the order of ``items``; a run that raised has ``failed`` True and its error.

    Raises
    ------
    cs_sim.errors.ReportInputError
        For an unknown engine, or an address given with ``engine="local"``.
    cs_sim.errors.CsSimError
        If the scheduler at ``address`` cannot be reached.

    Examples
    --------
    >>> out = map_runs(lambda x: 10 / x, [5, 0])
    >>> out[0].value, out[1].error
    (2.0, 'ZeroDivisionError: division by zero')
    """
    if engine not in ENGINES:
        raise ReportInputError(f"--engine: unknown engine {engine!r}; fix: use one of "
                               f"{', '.join(ENGINES)}")
    if engine == "local" and (address is not None or client is not None):
        raise ReportInputError("--address: a Dask scheduler needs --engine dask; fix: add "
                               "--engine dask or leave the address out")
    work = list(items)
    task = _Guarded(fn)
    if engine == "local":
        out = []
        for i, item in enumerate(work):
            res = task(i, item)
            out.append(res)
            if progress is not None:
                progress(res)
        return out
    return _map_dask(task, work, address=address, client=client, n_workers=n_workers,
                     processes=processes, progress=progress)


def _map_dask(task: _Guarded, work: list[Any], *, address: str | None, client: Any,
              n_workers: int | None, processes: bool,
              progress: Callable[[RunOutcome], None] | None) -> list[RunOutcome]:
    from distributed import as_completed

    from cs_sim.sim.dask import _default_client, dask_client

    if client is None and address is None:
        client = _default_client()
    out: list[RunOutcome | None] = [None] * len(work)
    token = uuid.uuid4().hex[:8]
    with dask_client(address=address, client=client, n_workers=n_workers,
                     processes=processes) as c:
        futures = [c.submit(task, i, item, key=f"cs-sim-report-run-{i}-{token}", pure=False)
                   for i, item in enumerate(work)]
        place = {f.key: i for i, f in enumerate(futures)}
        try:
            for fut in as_completed(futures, loop=c.loop):
                i = place[fut.key]
                try:
                    res = fut.result()
                except Exception as exc:  # the worker died, the task was cancelled, ...
                    res = _failed(i, exc)
                out[i] = res
                if progress is not None:
                    progress(res)
        finally:
            for fut in futures:
                fut.release()
    return [r if r is not None else RunOutcome(index=i, error="the run never finished")
            for i, r in enumerate(out)]


# --------------------------------------------------------------------------- the page
_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; vertical-align: top; }
thead th { background: #f3f3f3; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.failed { background: #fdecea; }
td.status.failed, td.status.partial { color: #a11; font-weight: 600; }
td.missing { color: #888; text-align: center; }
.error { font-family: monospace; white-space: pre-wrap; max-width: 40rem; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p>{{ summary }}</p>
<table class="cs-sim-grid">
<thead>
<tr><th rowspan="2">run</th><th rowspan="2">status</th>
{%- for stage, span in stages %}<th colspan="{{ span }}">{{ stage }}</th>{% endfor %}</tr>
<tr>{% for label in labels %}<th>{{ label }}</th>{% endfor %}</tr>
</thead>
<tbody>
{%- for row in rows %}
<tr class="{{ row.status_class }}">
<th>{% if row.href %}<a href="{{ row.href }}">{{ row.name }}</a>{% else %}{{ row.name }}\
{% endif %}{% if row.description %}<br><small>{{ row.description }}</small>{% endif %}</th>
<td class="status {{ row.status_class }}">{{ row.status }}
{%- if row.error %}<div class="error">{{ row.error }}</div>{% endif %}</td>
{%- if row.cells is none %}<td colspan="{{ labels|length }}" class="missing">no figures</td>
{%- else %}{% for text, cls in row.cells %}<td class="{{ cls }}">{{ text }}</td>{% endfor %}
{%- endif %}
</tr>
{%- endfor %}
</tbody>
</table>
</body>
</html>
"""


def _href(folder: str | os.PathLike[str] | None, page_dir: Path | None) -> str | None:
    if folder is None:
        return None
    target = Path(folder) / "index.html"
    if target.is_absolute():
        if page_dir is None:
            return target.as_uri()
        target = Path(os.path.relpath(target, Path(page_dir).resolve()))
    return quote(target.as_posix())


def grid_page(
    results: Sequence[Sequence[Any]],
    *,
    title: str | None = None,
    page_dir: str | os.PathLike[str] | None = None,
    descriptions: Mapping[str, str] | None = None,
) -> str:
    """The comparison page of a grid: one row per run, one column per headline figure.

    Parameters
    ----------
    results : sequence of tuple
        One per run, in the order shown: ``(name, folder, headlines)`` or
        ``(name, folder, headlines, error)``. ``folder`` is the run's report folder
        (its ``index.html`` is linked; relative paths are relative to the page; None:
        no link); ``headlines`` is ``{stage: headline dict or None}``, or None for a
        run that failed; ``error`` is the error text shown for it.
    title : str, optional
        The page's title (default "Report grid").
    page_dir : str or os.PathLike, optional
        The folder the page is written to: absolute run folders are linked relative
        to it (without it, as ``file://`` addresses).
    descriptions : mapping, optional
        A note per run name, shown under it.

    Returns
    -------
    str
        A complete HTML page; every name, label, error and figure is escaped. Columns
        are the headline items of every run, by stage (in chain order) and key, headed
        by the item's label; figures are shown in their unit (:func:`cs_sim.format.fmt`).

    Examples
    --------
    >>> page = grid_page([("a", "a", {"03_kpi_baseline": {"items": [
    ...     {"key": "nrr", "label": "NRR", "value": 0.9, "unit": "pct"}]}})])
    >>> '<a href="a/index.html">a</a>' in page, "90.0%" in page
    (True, True)
    """
    import jinja2

    pdir = Path(page_dir) if page_dir is not None else None
    columns: dict[tuple[str, str], str] = {}
    for res in results:
        heads = res[2] if len(res) > 2 else None
        for stage in sorted(heads or {}):
            for item in ((heads or {})[stage] or {}).get("items") or []:
                key = str(item.get("key", item.get("label")))
                columns.setdefault((str(stage), key), str(item.get("label", key)))
    order = sorted(columns, key=lambda sk: sk[0])  # stable: keeps item order within a stage
    stages: list[tuple[str, int]] = []
    for stage, _ in order:
        if stages and stages[-1][0] == stage:
            stages[-1] = (stage, stages[-1][1] + 1)
        else:
            stages.append((stage, 1))
    rows, n_failed = [], 0
    for res in results:
        name, folder = str(res[0]), res[1]
        heads = res[2] if len(res) > 2 else None
        error = str(res[3]) if len(res) > 3 and res[3] else None
        row: dict[str, Any] = {"name": name, "href": _href(folder, pdir), "error": error,
                               "description": (descriptions or {}).get(name)}
        if heads is None:
            n_failed += 1
            row.update(status="failed", status_class="failed", cells=None)
        else:
            missing = sorted(s for s, h in heads.items() if h is None)
            row.update(status=f"stages without figures: {', '.join(missing)}" if missing
                       else ("failed" if error else "complete"),
                       status_class="partial" if missing or error else "ok",
                       cells=[_cell(heads, stage, key) for stage, key in order])
        rows.append(row)
    n = len(results)
    summary = (f"{n} run{'s' if n != 1 else ''}, {n - n_failed} with figures"
               + (f", {n_failed} failed" if n_failed else "")
               + ". Each run's name opens its report.")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(_PAGE).render(
        title=title or "Report grid", summary=summary, stages=stages,
        labels=[columns[c] for c in order], rows=rows)


def _cell(heads: Mapping[str, Any], stage: str, key: str) -> tuple[str, str]:
    for item in (heads.get(stage) or {}).get("items") or []:
        if str(item.get("key", item.get("label"))) == key:
            unit = str(item.get("unit", "number"))
            return fmt(item.get("value"), unit if unit in UNITS else "number"), "num"
    return "—", "missing"
