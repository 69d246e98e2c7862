"""How results are laid out for people: words for the intervals, tables, the mixin.

:class:`Renders` gives :class:`~cs_sim.sim.results.SimulationResult` and
:class:`~cs_sim.sim.results.ComparisonResult` their ``to_text``, ``_repr_html_`` and
``write`` from a heading, titled sections (:func:`cs_sim.format.text_sections`) and the
files; the helpers name the two kinds of interval the same way everywhere ("range of
outcomes" and "uncertainty of the mean difference").
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from cs_sim.format import fmt, percent, style_frame, text_sections, write_files

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.sim.scenario import Scenario

__all__ = ["WIDTH", "Renders", "change", "ci_words", "labelled", "money_words", "nested",
           "period", "range_words", "section_title", "wide"]

#: width of the wrapped text of headings and notes
WIDTH = 96


def range_words(level: float) -> str:
    """What ``lo``/``hi`` of a simulation summary are, in words."""
    tail = (1.0 - level) / 2.0
    return (f"range of outcomes ({percent(tail, digits=0)}-{percent(1.0 - tail, digits=0)} "
            "of replications)")


def ci_words(level: float) -> str:
    """What ``ci_lo``/``ci_hi`` of a comparison are, in words."""
    return f"uncertainty of the mean difference ({percent(level, digits=0)} CI)"


def period(sc: Scenario, *, each: bool = False) -> str:
    """``24 months (after a 36-month warm-up)``, the reported months; ``each`` after them."""
    warm = sc.warmup()
    tail = f" (after a {warm}-month warm-up)" if warm else ""
    return f"{sc.horizon_months} months{' each' if each else ''}{tail}"


def money_words(sc: Scenario) -> str:
    m = sc.money
    after = ("every year" if m.terminal_years is None
             else f"{m.terminal_years} year{'s' if m.terminal_years != 1 else ''}")
    tv = (f"plus the value of the customers paying at its end over {after} after it "
          "(terminal value)" if m.terminal_value else "no terminal value")
    return (f"Profit: revenue x {percent(sc.gross_margin, digits=0)} gross margin - CS cost. "
            f"NPV: profit discounted at {percent(m.discount_rate, digits=0)} a year over the "
            f"horizon, {tv}. CLV: discounted, with expansion.")


def labelled(summary: pd.DataFrame, rows: Mapping[str, tuple[str, str]]) -> pd.DataFrame:
    """``summary`` with the ``label`` and ``unit`` of each metric as first columns."""
    out = summary.copy()
    metrics = out.index.get_level_values("metric")
    out.insert(0, "label", [rows[m][0] for m in metrics])
    out.insert(1, "unit", [rows[m][1] for m in metrics])
    return out


def change(value: Any, unit: str) -> str:
    """A difference in ``unit`` (percentage points with 2 decimals: changes are small)."""
    return fmt(value, unit, diff=True, digits=2 if unit == "pct" else None)


def wide(frame: pd.DataFrame, key: str, rows: Sequence[str],
          metrics: Mapping[str, tuple[str, str]], column: str, *, diff: bool) -> pd.DataFrame:
    """Metric rows x group columns of one column of a ``(key, metric)`` frame, as text."""
    groups = list(dict.fromkeys(frame.index.get_level_values(key)))
    table = {}
    for g in groups:
        sub = frame.loc[g]
        table[g] = [(change if diff else fmt)(sub.loc[r, column], metrics[r][1])
                    if r in sub.index else "" for r in rows]
    return pd.DataFrame(table, index=[metrics[r][0] for r in rows])


class Renders:
    """``to_text``, ``_repr_html_`` and ``write`` from a heading, sections and files.

    Text and notebook show the same figures (each in its unit), so the CLI and a
    notebook read alike.
    """

    def _heading(self, level: float) -> list[str]:
        raise NotImplementedError

    def _sections(self, level: float) -> list[tuple[str, pd.DataFrame]]:
        raise NotImplementedError

    def _lead(self, level: float) -> list[str]:
        """Lines between the heading and the tables (each block ends with a blank line)."""
        return []

    def _extra(self, level: float) -> list[str]:
        return []

    def _files(self, level: float) -> dict[str, str]:
        raise NotImplementedError

    def to_text(self, *, level: float = 0.9) -> str:
        """The result as plain text: what the figures are, then titled tables.

        Parameters
        ----------
        level : float, default 0.9
            Coverage of the intervals.

        Returns
        -------
        str
            Every figure in its unit (:mod:`cs_sim.format`), at most about 100 columns.
        """
        heading = [textwrap.fill(t, width=WIDTH) for t in self._heading(level)]
        body = text_sections(self._sections(level))
        return "\n".join([*heading, "", *self._lead(level), body,
                          *self._extra(level)]).rstrip("\n")

    def _repr_html_(self) -> str:
        caption = " ".join(self._heading(0.9))
        frames = []
        for title, table in self._sections(0.9):
            t = table.copy()
            t.columns.name = title
            frames.append(style_frame(t).to_html())
        return f"<p>{caption}</p>" + "".join(frames)

    def write(self, out_dir: str | Path, *, level: float = 0.9) -> list[Path]:
        """Write the result (JSON, text, CSV tables) into ``out_dir`` (created if needed).

        Parameters
        ----------
        out_dir : str or pathlib.Path
        level : float, default 0.9

        Returns
        -------
        list of pathlib.Path
            The files written.
        """
        return write_files(out_dir, self._files(level))


def section_title(title: str, sc: Scenario) -> str:
    if title == "Money":
        return f"Money over the {sc.horizon_months} months"
    return title


def nested(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """``(group, metric)``-indexed frame -> group -> metric -> row."""
    out: dict[str, dict[str, Any]] = {}
    for (g, m), row in frame.iterrows():
        out.setdefault(str(g), {})[str(m)] = row.to_dict()
    return out
