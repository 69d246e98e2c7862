"""Where a path a user typed points: the repository root in a checkout, else the cwd.

Notebooks run with their own folder (``notebooks/``) as the working directory, the CLI
and scripts with wherever they were started from. A relative path such as
``data/sample`` in a notebook's parameters should mean the same folder in both cases,
so :func:`resolve_path` reads a relative path

1. against the repository root when cs_sim runs from a source checkout (the folder
   above the ``cs_sim`` package holds the project's ``pyproject.toml``), and
2. against the current working directory otherwise (an installed package), or when
   the path exists there and not under the root.

An absolute path is returned as it is. Nothing is created or checked for existence
beyond choosing between the two readings.

Examples
--------
>>> from cs_sim.paths import resolve_path
>>> resolve_path("/tmp/data").as_posix()
'/tmp/data'
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

__all__ = ["repo_root", "resolve_path"]

#: the ``[project] name`` of this repository's pyproject.toml
_PROJECT = 'name = "cs-sim"'


@lru_cache(maxsize=1)
def repo_root() -> Path | None:
    """The root of the source checkout cs_sim runs from, or None for an installed package.

    Returns
    -------
    pathlib.Path or None
        The folder holding ``pyproject.toml`` (of the ``cs-sim`` project) and the
        ``cs_sim`` package, when the package is imported from a checkout (also an
        editable install); None when it is imported from ``site-packages``.
    """
    root = Path(__file__).resolve().parent.parent
    pyproject = root / "pyproject.toml"
    try:
        text = pyproject.read_text(encoding="utf-8")
    except OSError:
        return None
    return root if _PROJECT in text else None


def resolve_path(path: str | os.PathLike[str]) -> Path:
    """Return the path a user meant: relative to the repository root in a checkout.

    Parameters
    ----------
    path : str or os.PathLike
        A path as typed in a notebook's parameters or a script, e.g. ``"data/sample"``.

    Returns
    -------
    pathlib.Path
        ``path`` itself when absolute; else ``<repository root>/path`` when cs_sim runs
        from a checkout (unless only ``<cwd>/path`` exists), else ``<cwd>/path``.

    Examples
    --------
    >>> resolve_path("data/example").name
    'example'
    """
    p = Path(os.fspath(path)).expanduser()
    if p.is_absolute():
        return p
    here = Path.cwd() / p
    root = repo_root()
    if root is None:
        return here
    in_root = root / p
    if not in_root.exists() and here.exists():
        return here
    return in_root
