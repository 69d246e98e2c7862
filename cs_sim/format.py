"""How figures are shown to people: one place for the CLI, notebooks and reports.

Units name how a raw value is shown:

==========  ======================  ====================  ======================
unit        raw value               shown                 as a difference
==========  ======================  ====================  ======================
``pct``     a fraction (0.925)      ``92.5%``             ``+1.2 pp``
``money``   an amount (12345.6)     ``12,346`` (+ cur.)   ``+12,346``
``count``   a whole number          ``1,234``             ``+12``
``score``   NPS, CSAT 0-100 scale   ``26.6``              ``+1.4``
``months``  a duration              ``2.5 months``        ``+0.5 months``
``ratio``   ROI, quick ratio        ``1.85``              ``+0.12``
``number``  anything else           ``1,234.57``          ``+0.12``
``month``   a month (Timestamp)     ``2025-01``           (not a difference)
``pvalue``  a test's p-value        ``0.042``, ``<0.001`` (not a difference)
``flag``    a yes/no value          ``yes``, ``no``       (not a difference)
==========  ======================  ====================  ======================

Missing values (None, NaN) show as ``n/a``; infinities as ``inf``/``-inf``. JSON keeps
raw numbers: :func:`to_jsonable` only turns numpy scalars into Python ones, NaN into
``None`` and timestamps into ``YYYY-MM``. Result objects render themselves with these
helpers: :func:`text_table` for the terminal, :func:`style_frame` for notebooks and
:func:`write_files` for an output folder.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "UNITS",
    "Table",
    "Unit",
    "count",
    "fmt",
    "format_frame",
    "html_escaped",
    "money",
    "percent",
    "style_frame",
    "text_sections",
    "text_table",
    "to_jsonable",
    "write_files",
]

Unit = Literal["pct", "money", "count", "score", "months", "ratio", "number", "month",
               "pvalue", "flag"]
#: the units :func:`fmt` knows
UNITS: tuple[str, ...] = (
    "pct", "money", "count", "score", "months", "ratio", "number", "month", "pvalue", "flag"
)

NA = "n/a"


def _finite(value: Any) -> float | str:
    """``float(value)``, or the text shown for a missing or infinite value."""
    if value is None:
        return NA
    try:
        v = float(value)
    except (TypeError, ValueError):
        return NA
    if math.isnan(v):
        return NA
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def percent(value: Any, *, digits: int = 1, diff: bool = False) -> str:
    """A fraction as a percentage (``0.925 -> '92.5%'``), or signed points with ``diff``.

    Examples
    --------
    >>> percent(0.9254)
    '92.5%'
    >>> percent(-0.0123, diff=True)
    '-1.2 pp'
    """
    v = _finite(value)
    if isinstance(v, str):
        return v
    if diff:
        return f"{100 * v:+.{digits}f} pp"
    return f"{100 * v:.{digits}f}%"


def money(value: Any, *, currency: str | None = None, digits: int = 0,
          diff: bool = False) -> str:
    """An amount with thousands separators and, when given, its currency.

    Examples
    --------
    >>> money(1234567.891)
    '1,234,568'
    >>> money(5500, currency="USD", digits=2)
    '5,500.00 USD'
    >>> money(-250, diff=True)
    '-250'
    """
    v = _finite(value)
    if isinstance(v, str):
        return v
    text = f"{v:+,.{digits}f}" if diff else f"{v:,.{digits}f}"
    if text in ("-0", "+0", "-0.00", "+0.00") or text.strip("+-0.,") == "":
        text = text.lstrip("+-") if not diff else "+" + text.lstrip("+-")
    return f"{text} {currency}" if currency else text


def count(value: Any, *, diff: bool = False) -> str:
    """A whole number with thousands separators (rounded half away from zero).

    Examples
    --------
    >>> count(1234.4)
    '1,234'
    >>> count(3, diff=True)
    '+3'
    """
    v = _finite(value)
    if isinstance(v, str):
        return v
    n = int(math.floor(abs(v) + 0.5)) * (1 if v >= 0 else -1)
    return f"{n:+,d}" if diff else f"{n:,d}"


def fmt(
    value: Any,
    unit: str,
    *,
    diff: bool = False,
    currency: str | None = None,
    digits: int | None = None,
) -> str:
    """Show ``value`` in ``unit`` (see the module's table); ``diff`` shows a signed change.

    Parameters
    ----------
    value : float, int or None
    unit : str
        One of :data:`UNITS` (``"pct"``, ``"money"``, ``"count"``, ``"score"``, ``"months"``,
        ``"ratio"``, ``"number"``, ``"month"``, ``"pvalue"``, ``"flag"``).
    diff : bool, default False
        Show a difference: signed, and percentages as percentage points (ignored for
        ``month``).
    currency : str, optional
        Shown after money figures.
    digits : int, optional
        Decimals instead of the unit's usual ones (ignored for counts and months), e.g.
        2 for small percentage-point differences.

    Returns
    -------
    str

    Examples
    --------
    >>> fmt(0.0213, "pct"), fmt(-0.0003, "pct", diff=True, digits=2)
    ('2.1%', '-0.03 pp')
    """
    if unit == "pct":
        return percent(value, diff=diff, digits=1 if digits is None else digits)
    if unit == "money":
        return money(value, currency=currency, diff=diff, digits=digits or 0)
    if unit == "count":
        return count(value, diff=diff)
    if unit == "month":
        return _month(value)
    if unit == "flag":
        return NA if value is None or value != value else ("yes" if value else "no")
    if unit == "pvalue":
        p = _finite(value)
        if isinstance(p, str):
            return p
        return "<0.001" if p < 0.001 else f"{p:.3f}"
    v = _finite(value)
    if isinstance(v, str):
        return v
    sign = "+" if diff else ""
    if unit == "score":
        return f"{v:{sign}.{1 if digits is None else digits}f}"
    if unit == "months":
        return f"{v:{sign}.{1 if digits is None else digits}f} months"
    if unit in ("ratio", "number"):
        return f"{v:{sign},.{2 if digits is None else digits}f}"
    raise ValueError(f"unknown unit {unit!r} (known: {', '.join(UNITS)})")


def _month(value: Any) -> str:
    """A month as ``YYYY-MM`` (``n/a`` when missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NA
    if hasattr(value, "strftime"):
        return NA if value != value else value.strftime("%Y-%m")  # NaT != NaT
    return str(value)[:7]


def format_frame(
    frame: pd.DataFrame,
    units: Mapping[str, str] | None = None,
    *,
    row_units: Mapping[Any, str] | None = None,
    diff_columns: tuple[str, ...] = (),
    currency: str | None = None,
) -> pd.DataFrame:
    """Return a copy of ``frame`` with the columns of ``units`` turned into text.

    Parameters
    ----------
    frame : DataFrame
    units : mapping of column to unit, optional
        Columns not named are left as they are.
    row_units : mapping of index label to unit, optional
        For tables with one metric per row: the numeric columns of those rows are shown
        in the row's unit.
    diff_columns : tuple of str
        Columns shown as signed differences.
    currency : str, optional

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"value": [0.925, 1234.5]}, index=["grr", "mrr"])
    >>> format_frame(frame, row_units={"grr": "pct", "mrr": "money"})["value"].tolist()
    ['92.5%', '1,234']
    """
    out = frame.copy()
    for col, unit in (units or {}).items():
        if col in out.columns:
            d = col in diff_columns
            out[col] = [fmt(v, unit, diff=d, currency=currency) for v in out[col]]
    if row_units:
        numeric = [c for c in frame.columns if frame[c].dtype.kind in "fiu"]
        for col in numeric:
            d = col in diff_columns
            out[col] = [
                fmt(v, row_units[label], diff=d, currency=currency)
                if label in row_units else v
                for label, v in zip(frame.index, frame[col], strict=True)
            ]
    return out


def text_table(
    frame: pd.DataFrame,
    units: Mapping[str, str] | None = None,
    *,
    row_units: Mapping[Any, str] | None = None,
    diff_columns: tuple[str, ...] = (),
    currency: str | None = None,
    index: bool = True,
) -> str:
    """``frame`` as an aligned plain-text table, each figure shown in its unit.

    Parameters
    ----------
    frame : DataFrame
    units, row_units, diff_columns, currency
        As for :func:`format_frame`.
    index : bool, default True
        Show the index (left-aligned, as row labels).

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"month": pd.to_datetime(["2025-01-01"]), "nrr": [1.031]})
    >>> print(text_table(frame, {"month": "month", "nrr": "pct"}, index=False))
      month    nrr
    2025-01 103.1%
    """
    shown = format_frame(
        frame, units, row_units=row_units, diff_columns=diff_columns, currency=currency
    )
    return shown.to_string(index=index)


def text_sections(sections: Sequence[tuple[str, pd.DataFrame]], *, gap: int = 2) -> str:
    """Titled tables of text whose columns line up from one section to the next.

    Each section is a title and a frame of already formatted text (see :func:`fmt`)
    whose index holds the row labels; all frames have the same columns. A section's
    first line is its title with the column headers, then one line per row: labels
    left-aligned, figures right-aligned; a blank line separates sections.

    Parameters
    ----------
    sections : sequence of (str, DataFrame)
    gap : int, default 2
        Spaces between columns.

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"mean": ["92.5%"]}, index=["GRR"])
    >>> b = pd.DataFrame({"mean": ["1,234,567"]}, index=["Revenue"])
    >>> print(text_sections([("Retention", a), ("Money", b)]))
    Retention       mean
    GRR            92.5%
    <BLANKLINE>
    Money           mean
    Revenue    1,234,567
    """
    if not sections:
        return ""
    columns = [str(c) for c in sections[0][1].columns]
    label_w = max(len(str(x)) for title, frame in sections for x in [title, *frame.index])
    widths = [
        max([len(c)] + [len(str(v)) for _, frame in sections for v in frame.iloc[:, j]])
        for j, c in enumerate(columns)
    ]
    pad = " " * gap
    blocks = []
    for title, frame in sections:
        lines = [(title.ljust(label_w) + "".join(pad + c.rjust(w)
                                                for c, w in zip(columns, widths, strict=True)))]
        for label, row in zip(frame.index, frame.itertuples(index=False), strict=True):
            cells = "".join(pad + str(v).rjust(w) for v, w in zip(row, widths, strict=True))
            lines.append((str(label).ljust(label_w) + cells).rstrip())
        blocks.append("\n".join(line.rstrip() for line in lines))
    return "\n\n".join(blocks)


def write_files(out_dir: str | Path, files: Mapping[str, str]) -> list[Path]:
    """Write texts into ``out_dir`` (created if needed) as UTF-8 files.

    Parameters
    ----------
    out_dir : str or pathlib.Path
    files : mapping of file name to text

    Returns
    -------
    list of pathlib.Path
        The files written, in the order given.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def style_frame(
    frame: pd.DataFrame,
    units: Mapping[str, str] | None = None,
    *,
    row_units: Mapping[Any, str] | None = None,
    diff_columns: tuple[str, ...] = (),
    currency: str | None = None,
    caption: str | None = None,
) -> Any:
    """A pandas ``Styler`` that shows each column (or row) in its unit, for notebooks.

    Parameters
    ----------
    frame : DataFrame
    units : mapping of column to unit, optional
    row_units : mapping of index label to unit, optional
        For tables with one metric per row; applies to every numeric column.
    diff_columns : tuple of str
        Columns shown as signed differences.
    currency : str, optional
    caption : str, optional

    Returns
    -------
    pandas.io.formats.style.Styler
    """
    styler = frame.style
    for col, unit in (units or {}).items():
        if col in frame.columns:
            d = col in diff_columns
            styler = styler.format(
                lambda v, u=unit, d=d: fmt(v, u, diff=d, currency=currency), subset=[col]
            )
    if row_units:
        numeric = [c for c in frame.columns if frame[c].dtype.kind in "fiu"]
        for label, unit in row_units.items():
            if label not in frame.index:
                continue
            for col in numeric:
                d = col in diff_columns
                styler = styler.format(
                    lambda v, u=unit, d=d: fmt(v, u, diff=d, currency=currency),
                    subset=([label], [col]),
                )
    if caption:
        styler = styler.set_caption(caption)
    return styler


def html_escaped(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and labels are HTML-escaped.

    pandas' ``Styler.to_html`` writes text as it is; customer text (comments, names,
    segment labels from the user's data) must be escaped before it goes into a page.
    Numbers are left as they are, so :func:`style_frame` still formats them.

    Examples
    --------
    >>> import pandas as pd
    >>> html_escaped(pd.DataFrame({"c": ["<b>hi</b>"]}))["c"].item()
    '&lt;b&gt;hi&lt;/b&gt;'
    """
    from html import escape

    def esc(v: Any) -> Any:
        return escape(v) if isinstance(v, str) else v

    out = frame.copy()
    for col in out.columns:
        if out[col].dtype.kind not in "fiub":
            out[col] = [esc(v) for v in out[col]]
    out.index = _escape_labels(out.index, esc)
    out.columns = _escape_labels(out.columns, esc)
    return out


def _escape_labels(labels: Any, esc: Any) -> Any:
    """An index with every text label escaped, each level of a MultiIndex too."""
    import pandas as pd

    if isinstance(labels, pd.MultiIndex):
        return pd.MultiIndex.from_tuples([tuple(esc(v) for v in t) for t in labels],
                                         names=labels.names)
    return labels.map(esc)


def to_jsonable(value: Any) -> Any:
    """JSON-ready data with raw numbers: numpy scalars to Python, NaN to None.

    Infinities become ``None`` as well; timestamps become ``YYYY-MM`` (month data) or
    ISO dates; mappings and sequences are converted recursively.

    Examples
    --------
    >>> import numpy as np
    >>> to_jsonable({"a": np.float64(0.5), "b": [np.nan, 1]})
    {'a': 0.5, 'b': [None, 1]}
    """
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "strftime") and hasattr(value, "day"):
        if getattr(value, "day", 1) == 1 and getattr(value, "hour", 0) == 0:
            return value.strftime("%Y-%m")
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class Table:
    """A table that shows its figures for people: in a terminal and in a notebook.

    Result objects hand parts of themselves to notebooks as a ``Table`` (``view(...)``),
    so that every figure is shown in its unit and customer text is escaped in HTML.

    Parameters
    ----------
    frame : pandas.DataFrame
        Raw numbers.
    units : mapping of column to unit, optional
        As for :func:`format_frame`.
    caption : str, optional
        Title shown above the table.
    note : str, optional
        Text shown below the table (or alone, when the frame is empty): e.g. why an
        analysis is not available.
    index : bool, default True
        Show the index.
    diff_columns : tuple of str, optional
        Columns of ``units`` shown as signed differences (``+1,234``, ``+0.5 pp``).

    Examples
    --------
    >>> import pandas as pd
    >>> print(Table(pd.DataFrame({"nrr": [1.031]}, index=["all"]), {"nrr": "pct"}))
            nrr
    all  103.1%
    """

    def __init__(self, frame: pd.DataFrame, units: Mapping[str, str] | None = None, *,
                 caption: str | None = None, note: str | None = None,
                 index: bool = True, diff_columns: tuple[str, ...] = ()) -> None:
        self.frame = frame
        self.units = dict(units or {})
        self.diff_columns = tuple(diff_columns)
        self.caption = caption
        self.note = note
        self.index = index

    def to_frame(self) -> pd.DataFrame:
        """The raw numbers (a copy)."""
        return self.frame.copy()

    def to_text(self) -> str:
        """Caption, table and note as plain text."""
        parts = [self.caption] if self.caption else []
        if len(self.frame):
            parts.append(text_table(self.frame, self.units, index=self.index,
                                    diff_columns=self.diff_columns))
        if self.note:
            parts.append(self.note)
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        from html import escape

        html = ""
        if len(self.frame):
            esc = html_escaped(self.frame)
            shown = dict(zip(self.frame.columns, esc.columns, strict=True))
            styler = style_frame(esc, {shown[c]: u for c, u in self.units.items()
                                       if c in shown},
                                 diff_columns=tuple(shown[c] for c in self.diff_columns
                                                    if c in shown),
                                 caption=escape(self.caption) if self.caption else None)
            # text reads from the left; months stay on one line
            text = [c for c in esc.columns if esc[c].dtype.kind == "O"]
            if text:
                styler = styler.set_properties(subset=text, **{"text-align": "left"})
            months = [c for c in esc.columns if esc[c].dtype.kind == "M"]
            if months:
                styler = styler.set_properties(subset=months, **{"white-space": "nowrap"})
            if not self.index:
                styler = styler.hide(axis="index")
            html = styler.to_html()
        elif self.caption:
            html = f"<p><b>{escape(self.caption)}</b></p>"
        if self.note:
            html += f"<p>{escape(self.note)}</p>"
        return html

