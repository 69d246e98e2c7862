"""The stages of the report: the chain's notebooks and the parameters each declares.

A stage is a notebook ``notebooks/NN_name.ipynb`` (``NN`` from 01; ``00_index`` is the
chain's table of contents, not a stage). Its parameters are the names of its cell
tagged ``parameters``, each written ``name: type = default  # what it means``: the
type annotation is what a value given in a report parameter file is checked against
(:func:`check_value`), before any stage runs.

The cell is read with :mod:`ast` rather than ``papermill.inspect_notebook``: papermill
2.7 does not see parameters annotated with a ``|`` union (``str | None``), which the
chain uses alongside ``Optional[str]``; both spellings are understood here.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional, Union

from cs_sim.errors import ReportInputError

__all__ = ["Parameter", "Stage", "check_value", "find_stages", "read_stage"]

#: a stage notebook's file name: two digits, an underscore, a name
STAGE_FILE = re.compile(r"(?P<num>\d\d)_[A-Za-z0-9_]+\.ipynb")

_SCALARS: dict[str, Any] = {"str": str, "int": int, "float": float, "bool": bool,
                            "list": list, "dict": dict, "Any": Any, "None": type(None)}
_GENERIC = {"list": list, "List": list, "dict": dict, "Dict": dict}


@dataclass(frozen=True)
class Parameter:
    """One parameter of a stage notebook.

    Attributes
    ----------
    name : str
    annotation : str
        The type as written in the notebook (``"Optional[str]"``, ``"list[str]"``).
    default : Any
        The default value (a Python literal), or the source text when it is an expression
        other than a literal (e.g. ``2 / 3`` is evaluated; a call is kept as text).
    help : str
        The comment after the assignment.
    """

    name: str
    annotation: str
    default: Any
    help: str

    @property
    def is_path(self) -> bool:
        """True for a file or folder parameter (``*_path``, ``*_paths``, ``*_dir``)."""
        return self.name.endswith(("_path", "_paths", "_dir"))


@dataclass(frozen=True)
class Stage:
    """A notebook of the chain.

    Attributes
    ----------
    name : str
        The file name without ``.ipynb`` (``"03_kpi_baseline"``).
    path : pathlib.Path
    title : str
        The text of its first heading (the file name when it has none).
    parameters : dict of str to Parameter
        In the order of the parameters cell.
    """

    name: str
    path: Path
    title: str
    parameters: dict[str, Parameter] = field(default_factory=dict)


def find_stages(folder: str | Path) -> list[Stage]:
    """The stages in a notebooks folder, in chain order (``00_*`` left out).

    Parameters
    ----------
    folder : str or pathlib.Path

    Returns
    -------
    list of Stage

    Raises
    ------
    cs_sim.errors.ReportInputError
        If the folder does not exist or holds no stage notebook.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportInputError(f"notebooks: {folder} is not a folder; fix: give the folder "
                               "of the chain's notebooks (notebooks/ in the repository)")
    files = sorted(p for p in folder.iterdir()
                   if (m := STAGE_FILE.fullmatch(p.name)) and m["num"] != "00")
    if not files:
        raise ReportInputError(f"notebooks: {folder} holds no notebook named NN_name.ipynb; "
                               "fix: give the folder of the chain's notebooks")
    return [read_stage(p) for p in files]


def read_stage(path: str | Path) -> Stage:
    """Read a stage notebook's title and parameters.

    Parameters
    ----------
    path : str or pathlib.Path

    Returns
    -------
    Stage

    Raises
    ------
    cs_sim.errors.ReportInputError
        If the notebook cannot be read or has no single cell tagged ``parameters``.
    """
    path = Path(path)
    stat = path.stat()
    return _read_stage(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _read_stage(path: Path, mtime: int, size: int) -> Stage:
    import json

    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = nb["cells"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReportInputError(f"{path}: cannot read the notebook ({exc}); fix: restore it "
                               "from the repository") from None
    tagged = [c for c in cells if c.get("cell_type") == "code"
              and "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        raise ReportInputError(f"{path}: {len(tagged)} cells tagged 'parameters' (need "
                               "exactly one); fix: tag the cell of its parameters")
    name = path.stem
    return Stage(name=name, path=path, title=_title(cells) or name,
                 parameters=_parameters(_source(tagged[0]), path))


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _title(cells: list[dict[str, Any]]) -> str | None:
    """The text of the first Markdown heading, without its ``#`` and emphasis marks."""
    for cell in cells:
        if cell.get("cell_type") != "markdown":
            continue
        for line in _source(cell).splitlines():
            m = re.match(r"\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
            if m and m[1]:
                return re.sub(r"[*_`]", "", m[1]).strip()
    return None


def _parameters(source: str, path: Path) -> dict[str, Parameter]:
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ReportInputError(f"{path}: the parameters cell is not valid Python (line "
                               f"{exc.lineno}); fix: correct it") from None
    lines = source.splitlines()
    out: dict[str, Parameter] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            ann = node.annotation
            text = ann.value if (isinstance(ann, ast.Constant)
                                 and isinstance(ann.value, str)) else ast.unparse(ann)
            default: Any = None
            if node.value is not None:
                try:
                    default = ast.literal_eval(node.value)
                except ValueError:
                    default = _arith(node.value)
            rest = lines[(node.end_lineno or node.lineno) - 1][node.end_col_offset or 0:]
            comment = rest.split("#", 1)[1].strip() if "#" in rest else ""
            out[node.target.id] = Parameter(node.target.id, text, default, comment)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = Parameter(target.id, "Any", _arith(node.value), "")
    return out


def _arith(node: ast.expr) -> Any:
    """A default such as ``2 / 3`` as its number; any other expression as its text."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Mult, ast.Add,
                                                            ast.Sub)):
        try:
            a, b = ast.literal_eval(node.left), ast.literal_eval(node.right)
        except ValueError:
            return ast.unparse(node)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            ops = {ast.Div: lambda x, y: x / y, ast.Mult: lambda x, y: x * y,
                   ast.Add: lambda x, y: x + y, ast.Sub: lambda x, y: x - y}
            try:
                return ops[type(node.op)](a, b)
            except ZeroDivisionError:
                return ast.unparse(node)
    return ast.unparse(node)


def python_type(annotation: str) -> Any:
    """The Python type an annotation's text stands for (``"Optional[str]"`` -> ``str | None``).

    Understood: ``str``, ``int``, ``float``, ``bool``, ``list``, ``dict``, ``None``,
    ``Any``, ``list[X]``, ``dict[K, V]``, ``Optional[X]``, ``Union[X, Y]``, ``X | Y``
    and a quoted annotation of these. Anything else is ``Any`` (not checked).

    Examples
    --------
    >>> python_type("Optional[list[str]]")
    typing.Optional[list[str]]
    """
    try:
        return _convert(ast.parse(annotation, mode="eval").body)
    except (SyntaxError, ValueError):  # ValueError: a type _convert does not know
        return Any


def _convert(node: ast.expr) -> Any:
    if isinstance(node, ast.Constant):
        if node.value is None:
            return type(None)
        if isinstance(node.value, str):
            return _convert(ast.parse(node.value, mode="eval").body)
    if isinstance(node, ast.Name) and node.id in _SCALARS:
        return _SCALARS[node.id]
    if isinstance(node, ast.Attribute) and node.attr in _SCALARS:  # typing.Any
        return _SCALARS[node.attr]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return Union[_convert(node.left), _convert(node.right)]  # noqa: UP007
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        inner = [_convert(a) for a in args]
        head = node.value.id
        if head == "Optional" and len(inner) == 1:
            return Optional[inner[0]]  # noqa: UP045
        if head == "Union":
            return Union[tuple(inner)]  # noqa: UP007
        if head in _GENERIC:
            return _GENERIC[head][tuple(inner)] if len(inner) > 1 else \
                _GENERIC[head][inner[0]]
    raise ValueError(ast.unparse(node))


def check_value(param: Parameter, value: Any) -> str | None:
    """Why ``value`` does not fit the parameter's annotated type, or None when it does.

    Strict: ``"12"`` is not an ``int`` and ``1`` is not a ``bool``; an ``int`` is a
    ``float``.

    Parameters
    ----------
    param : Parameter
    value : Any
        The value as read from YAML.

    Returns
    -------
    str or None

    Examples
    --------
    >>> p = Parameter("replications", "int", 10, "")
    >>> check_value(p, "ten")
    "'ten' is not of type int"
    >>> check_value(Parameter("by", "Optional[str]", None, ""), None) is None
    True
    """
    from pydantic import ValidationError

    target = python_type(param.annotation)
    if target is Any:
        return None
    try:
        _adapter(target).validate_python(value, strict=True)
    except ValidationError:
        return f"{value!r} is not of type {param.annotation}"
    except Exception:  # a type pydantic cannot check is not checked
        return None
    return None


@lru_cache(maxsize=64)
def _adapter(target: Any) -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(target)
