"""The ``cs-sim`` command line: a thin typer layer over the package.

Every command catches :class:`cs_sim.errors.CsSimError`, prints its message to
stderr and exits with status 2; nothing here computes anything itself.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from cs_sim.errors import CsSimError

app = typer.Typer(
    name="cs-sim",
    help="Customer-success strategy workbook and simulator.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])


def user_errors(func: F) -> F:
    """Turn a :class:`CsSimError` into a clear message on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CsSimError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def main() -> None:
    """Entry point of the ``cs-sim`` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
