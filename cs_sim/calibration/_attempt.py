"""``when_possible``: a model the data cannot support says why, instead of stopping.

Notebooks run on any dataset, the tiny hand-made example included. A model fitted on
data too short or too small for it raises a :class:`~cs_sim.errors.CsSimError` naming
what is missing; :func:`when_possible` turns that into an :class:`Unavailable` result
that shows the reason in plain words (text, HTML, an empty plot), so the notebook goes
on and the reader sees why that part is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from cs_sim.errors import CsSimError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["Unavailable", "when_possible"]

T = TypeVar("T")


@dataclass(frozen=True)
class Unavailable:
    """What could not be computed, and why (a result stand-in that is false)."""

    what: str
    reason: str

    def __bool__(self) -> bool:
        return False

    def to_text(self) -> str:
        """``<what>: not available: <reason>``."""
        return f"{self.what}: not available: {self.reason}"

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        from html import escape

        return f"<p><b>{escape(self.what)}</b>: not available: {escape(self.reason)}</p>"

    def plot(self, ax: Axes | None = None, **_: Any) -> Axes:
        """An empty plot that says what is missing and why.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import textwrap

        from cs_sim.models._base import axes

        ax = axes(ax)
        ax.text(0.5, 0.5, textwrap.fill(self.to_text(), width=60), ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return ax


def when_possible(func: Callable[..., T], /, *args: Any, what: str | None = None,
                  **kwargs: Any) -> T | Unavailable:
    """``func(*args, **kwargs)``, or :class:`Unavailable` with the reason it cannot run.

    Parameters
    ----------
    func : callable
        A cs_sim function (e.g. :func:`cs_sim.models.churn_drivers`).
    *args, **kwargs
        Its arguments.
    what : str, optional
        What it computes, in words (default: the function's name).

    Returns
    -------
    object or Unavailable
        The result, or why there is none (only :class:`~cs_sim.errors.CsSimError`,
        the errors a user's data cause, are caught).
    """
    try:
        return func(*args, **kwargs)
    except CsSimError as exc:
        return Unavailable(what or getattr(func, "__name__", "result"), str(exc))
