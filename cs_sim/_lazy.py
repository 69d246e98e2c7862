"""Lazy public names of a package: imported from their module on first use.

A package ``__init__`` that wants ``import cs_sim`` to stay cheap lists its public
names and the module of each, and takes its module ``__getattr__`` and ``__dir__``
(PEP 562) from :func:`lazy_exports`::

    _LAZY = {"simulate": "cs_sim.sim.runners", ...}
    __getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, names: Mapping[str, str], public: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return the ``__getattr__`` and ``__dir__`` of a package with lazy names.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : mapping of str to str
        Public name -> the module that defines it (under the same name), or the
        package's submodule of that name (``"models": "cs_sim.models"``), which is
        then the value itself.
    public : sequence of str
        The package's ``__all__`` (what ``dir(package)`` lists).

    Returns
    -------
    (callable, callable)
        ``__getattr__(name)`` imports the module of ``name`` on first use, caches the
        value in the package and returns it (AttributeError for other names);
        ``__dir__()`` returns ``public``, sorted.
    """

    def module_getattr(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        imported = importlib.import_module(module)
        # a name mapped to the subpackage of that name is the subpackage itself
        value = imported if module == f"{package}.{name}" else getattr(imported, name)
        setattr(sys.modules[package], name, value)
        return value

    def module_dir() -> list[str]:
        return sorted(public)

    return module_getattr, module_dir
