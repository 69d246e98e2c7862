"""Reading, validating and writing cs_sim datasets.

A dataset is a folder holding one file per canonical table, ``<table>.csv`` (UTF-8,
comma-separated, a header line) or ``<table>.parquet``; see :mod:`cs_sim.schema` for
the tables and their columns. :func:`load_dataset` reads and checks such a folder
and returns a :class:`Dataset`; :func:`validate_dataset` only reports what is wrong;
:func:`write_dataset` writes a dataset back.

Validation reports **every** problem at once, each as a :class:`cs_sim.errors.Problem`
naming the file, the column, the first offending places and a fix. Places in a CSV
file are line numbers as a text editor shows them (the header is line 1, the first
data row line 2); places in a Parquet file are 1-based row numbers. Nothing is
repaired silently (a column named ``Account_ID`` is reported, not renamed) and input
files are only ever opened for reading.

Parsing rules (CSV; Parquet columns of the right type are taken as they are):

* ids and text are strings; an empty field is a missing value;
* numbers, dates and booleans treat an empty field and ``NA``, ``N/A``, ``NaN``,
  ``null``, ``None`` (any case) as missing;
* dates are ISO 8601 (``2024-03-15``, ``2024-03-15 14:30``, ``2024-03``);
* months accept any ISO date and are normalised to the first day of the month;
* booleans accept ``true/false``, ``yes/no``, ``1/0``, ``t/f``, ``y/n`` (any case);
* whole numbers may be written ``12`` or ``12.0`` but not ``12.5``.

Extra, non-canonical columns are kept as they are (strings when read from CSV).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io as _io
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from cs_sim.errors import CsSimError, DataValidationError, MissingTableError, Problem

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.schema import ColumnSpec

__all__ = ["Dataset", "load_dataset", "validate_dataset", "write_dataset"]

logger = logging.getLogger(__name__)

#: the canonical tables, in order (the same as :data:`cs_sim.schema.TABLES`; kept here
#: so that importing this module does not import pandera)
_TABLES: tuple[str, ...] = (
    "accounts",
    "mrr",
    "usage",
    "tickets",
    "surveys",
    "trials",
    "interactions",
    "costs",
)
#: how many offending places a Problem keeps (its n_rows gives the total)
MAX_ROWS_KEPT = 50
#: how many offending values a message quotes
_MAX_EXAMPLES = 3
#: text read as a missing value in number, date and boolean columns (lower-cased, stripped)
_NA_TOKENS = ("", "na", "n/a", "nan", "null", "none", "nat")
_TRUE = ("true", "t", "yes", "y", "1", "1.0")
_FALSE = ("false", "f", "no", "n", "0", "0.0")
_EXCEL_CSV = "in Excel: File > Save As > 'CSV UTF-8 (Comma delimited) (*.csv)'"


def _schema() -> ModuleType:
    """Import :mod:`cs_sim.schema` (and pandera) on first use."""
    from cs_sim import schema

    return schema


# ---------------------------------------------------------------------------------------
# the Dataset


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """The canonical tables of one company, as loaded by :func:`load_dataset`.

    Parameters
    ----------
    accounts, mrr : pandas.DataFrame
        The required tables.
    usage, tickets, surveys, trials, interactions, costs : pandas.DataFrame or None
        The optional tables; None when the dataset does not have them.
    source : str, optional
        Where the dataset was read from.

    Notes
    -----
    Frames are not copied; treat them as read-only. Two datasets are compared with
    ``is`` only (comparing DataFrames with ``==`` is ambiguous); compare tables with
    :func:`pandas.testing.assert_frame_equal`.
    """

    accounts: pd.DataFrame
    mrr: pd.DataFrame
    usage: pd.DataFrame | None = None
    tickets: pd.DataFrame | None = None
    surveys: pd.DataFrame | None = None
    trials: pd.DataFrame | None = None
    interactions: pd.DataFrame | None = None
    costs: pd.DataFrame | None = None
    source: str | None = field(default=None)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the tables present, by name, in canonical order.

        Returns
        -------
        dict of str to pandas.DataFrame
        """
        out: dict[str, pd.DataFrame] = {}
        for name in _TABLES:
            frame = getattr(self, name)
            if frame is not None:
                out[name] = frame
        return out

    def require(self, name: str) -> pd.DataFrame:
        """Return table ``name``, or explain that the analysis needs it.

        Parameters
        ----------
        name : str
            A canonical table name.

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        cs_sim.errors.MissingTableError
            If the dataset does not have this optional table (a :class:`CsSimError`).
        ValueError
            If ``name`` is not a canonical table.
        """
        if name not in _TABLES:
            raise ValueError(f"unknown table {name!r}; canonical tables: {', '.join(_TABLES)}")
        frame = getattr(self, name)
        if frame is None:
            raise MissingTableError(name, source=self.source)
        return frame

    def __repr__(self) -> str:
        parts = [f"{name}: {len(df)} rows" for name, df in self.tables().items()]
        src = f"{self.source!r}, " if self.source else ""
        return f"Dataset({src}{', '.join(parts)})"


# ---------------------------------------------------------------------------------------
# one file, read but not yet checked


@dataclass
class _Raw:
    """A table file read as it is: the frame and how to point the user at its rows."""

    table: str
    file: str
    frame: pd.DataFrame
    text: bool  # True for CSV: every column a string column
    record_lines: np.ndarray | None  # CSV: the line of each data record
    problems: list[Problem] = field(default_factory=list)

    @property
    def unit(self) -> Literal["line", "row"]:
        return "line" if self.record_lines is not None else "row"

    def places(self, positions: np.ndarray) -> tuple[int, ...]:
        """Turn 0-based row positions into the line (or row) numbers the user sees."""
        pos = np.asarray(positions, dtype=np.int64)[:MAX_ROWS_KEPT]
        if self.record_lines is not None:
            return tuple(int(x) for x in self.record_lines[pos])
        return tuple(int(x) + 1 for x in pos)

    def problem(
        self,
        message: str,
        fix: str,
        *,
        column: str | None = None,
        positions: np.ndarray | Sequence[int] | None = None,
    ) -> Problem:
        """Build a Problem about this file, with the places of ``positions``."""
        if positions is None or len(positions) == 0:
            return Problem(self.file, message, fix, column=column, unit=self.unit)
        pos = np.unique(np.asarray(positions, dtype=np.int64))
        return Problem(
            self.file,
            message,
            fix,
            column=column,
            rows=self.places(pos),
            n_rows=int(pos.size),
            unit=self.unit,
        )


def _lines_problem(
    file: str, message: str, fix: str, lines: Sequence[int], column: str | None = None
) -> Problem:
    kept = tuple(int(x) for x in lines[:MAX_ROWS_KEPT])
    return Problem(file, message, fix, column=column, rows=kept, n_rows=len(lines))


def _scan_plain(data: bytes) -> tuple[str, np.ndarray, np.ndarray]:
    """Lines and field counts of a CSV file without quote characters (vectorised).

    Returns the header line, the line number of each data record and its number of
    fields. Blank (whitespace-only) lines are skipped, as pandas does.
    """
    b = np.frombuffer(data, dtype=np.uint8)
    if not (b == 10).any():  # old Mac line ends
        b = np.where(b == 13, np.uint8(10), b)
    nl = np.flatnonzero(b == 10)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [b.size]))
    if starts[-1] == b.size:  # a final line break ends the last line, it starts none
        starts, ends = starts[:-1], ends[:-1]
    commas = np.flatnonzero(b == 44)
    nfields = np.searchsorted(commas, ends) - np.searchsorted(commas, starts) + 1
    # blank (whitespace-only) lines; only a line starting with whitespace can be one
    first = b[np.minimum(starts, b.size - 1)]
    maybe_blank = (ends == starts) | (first == 32) | (first == 9) | (first == 13)
    keep = np.ones(starts.size, dtype=bool)
    if maybe_blank.any():
        idx = np.flatnonzero(maybe_blank)
        content = np.flatnonzero((b != 32) & (b != 9) & (b != 13) & (b != 10))
        keep[idx] = np.searchsorted(content, ends[idx]) > np.searchsorted(content, starts[idx])
    lines = np.arange(1, starts.size + 1)[keep]
    nfields = nfields[keep]
    s0, e0 = int(starts[keep][0]), int(ends[keep][0])
    header = bytes(b[s0:e0]).decode("utf-8").rstrip("\r")
    return header, lines[1:], nfields[1:]


def _scan_quoted(text: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Records of a CSV file with quoted values: header, first line and field count of each.

    Raises
    ------
    csv.Error
        With the line number in ``args[1]`` when the file cannot be tokenised.
    """
    reader = csv.reader(_io.StringIO(text, newline=""))
    header: list[str] | None = None
    starts: list[int] = []
    counts: list[int] = []
    previous = 0
    try:
        for record in reader:
            start = previous + 1
            previous = reader.line_num
            if not record or (len(record) == 1 and not record[0].strip()):
                continue
            if header is None:
                header = record
                continue
            starts.append(start)
            counts.append(len(record))
    except csv.Error as exc:
        raise csv.Error(str(exc), reader.line_num) from None
    return header or [], np.asarray(starts, dtype=np.int64), np.asarray(counts, dtype=np.int64)


def _read_csv(path: Path, table: str) -> _Raw | list[Problem]:
    """Read one CSV file as strings, or return why it cannot be read."""
    file = path.name
    try:
        with open(path, "rb") as handle:  # read-only
            data = handle.read()
    except OSError as exc:
        return [
            Problem(
                file,
                f"the file cannot be opened ({exc.strerror or type(exc).__name__})",
                "check that the file is readable by you and not locked by another program",
            )
        ]
    stem = path.stem
    if not data.strip():
        what = "is empty (0 bytes)" if not data else "holds only blank lines"
        return [
            Problem(
                file,
                f"the file {what}: it needs a header line and data rows",
                f"export the {table} table again (this table is required)"
                if table in _schema().REQUIRED_TABLES
                else f"export the {table} table again, or delete {file} if you have no "
                f"{table} data",
            )
        ]
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return [
            Problem(
                file,
                "the file is an Excel workbook, not a CSV text file",
                f"open it in Excel and save it as CSV ({_EXCEL_CSV})",
            )
        ]
    if data.startswith(b"PAR1"):
        return [
            Problem(
                file,
                "the file is a Parquet file with a .csv name",
                f"rename it to {stem}.parquet",
            )
        ]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return [
            Problem(
                file,
                "the file is UTF-16 text; cs_sim reads UTF-8",
                f"re-save the file as UTF-8 ({_EXCEL_CSV})",
            )
        ]
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return [
            _lines_problem(
                file,
                f"the file is not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line} is not "
                "valid UTF-8 (the file was probably saved as Windows-1252/Latin-1)",
                f"re-save the file as UTF-8 ({_EXCEL_CSV})",
                [line],
            )
        ]

    # structure: header, ragged lines
    try:
        if b'"' in data:
            header, record_lines, nfields = _scan_quoted(text)
        else:
            header_line, record_lines, nfields = _scan_plain(data)
            header = header_line.split(",")
    except csv.Error as exc:
        line = exc.args[1] if len(exc.args) > 1 else None
        return [
            _lines_problem(
                file,
                f"the file cannot be read as CSV ({exc.args[0]})",
                "fix the quoting on this line: a value with commas, quotes or line breaks "
                'must be enclosed in double quotes, with inner quotes doubled ("")',
                [line] if line else [],
            )
        ]
    if len(header) == 1:
        for sep, sep_name in ((";", "semicolons"), ("\t", "tabs"), ("|", "'|'")):
            if sep in header[0]:
                return [
                    _lines_problem(
                        file,
                        f"the values are separated by {sep_name}, not commas",
                        f"save the file as comma-separated CSV ({_EXCEL_CSV})",
                        [1],
                    )
                ]
    ragged = np.flatnonzero(nfields != len(header))
    if ragged.size:
        first = int(ragged[0])
        return [
            _lines_problem(
                file,
                f"{ragged.size} line{'s do' if ragged.size > 1 else ' does'} not have one value "
                f"per header column: the header has {len(header)} columns, line "
                f"{int(record_lines[first])} has {int(nfields[first])} values",
                "make every line have exactly one value per header column (empty values "
                'are fine, as in "a,,c"); enclose values that contain commas in double '
                'quotes ("Acme, Inc.")',
                record_lines[ragged].tolist(),
            )
        ]

    try:
        frame = pd.read_csv(
            _io.BytesIO(data),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            index_col=False,
            encoding="utf-8",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        msg = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        found = re.search(r"line (\d+)", msg)
        return [
            _lines_problem(
                file,
                f"the file cannot be read as CSV ({msg})",
                "check the quoting and the number of values on that line",
                [int(found.group(1))] if found else [],
            )
        ]
    raw = _Raw(table, file, frame, True, record_lines)
    if len(record_lines) != len(frame):  # pragma: no cover - defensive
        logger.debug("%s: %d records scanned, %d read", file, len(record_lines), len(frame))
        raw.record_lines = None
    stripped = [h.strip() for h in header]
    dups = sorted({h for h in stripped if stripped.count(h) > 1})
    for name in dups:
        raw.problems.append(
            _lines_problem(
                file,
                f"column '{name}' appears more than once in the header",
                "remove or rename the duplicate columns",
                [1],
                column=name,
            )
        )
    return raw


def _read_parquet(path: Path, table: str) -> _Raw | list[Problem]:
    """Read one Parquet file, or return why it cannot be read."""
    file = path.name
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many kinds; none must become a traceback
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return [
            Problem(
                file,
                f"the file cannot be read as Parquet ({type(exc).__name__}: {reason})",
                f"export the {table} table again as Parquet (pandas: DataFrame.to_parquet), "
                f"or provide it as {table}.csv instead",
            )
        ]
    if not (isinstance(frame.index, pd.RangeIndex) and frame.index.name is None):
        frame = frame.reset_index()
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    raw = _Raw(table, file, frame, False, None)
    for name in sorted(set(frame.columns[frame.columns.duplicated()])):
        raw.problems.append(
            Problem(
                file,
                f"column '{name}' appears more than once",
                "remove or rename the duplicate columns",
                column=name,
            )
        )
    if raw.problems:
        raw.frame = frame.loc[:, ~frame.columns.duplicated()]
    return raw


# ---------------------------------------------------------------------------------------
# the folder


def _normal(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip()).lower()


def _locate(folder: Path) -> tuple[dict[str, Path], list[Problem]]:
    """Find the table files of a folder; report missing, doubled and misnamed ones."""
    schema = _schema()
    problems: list[Problem] = []
    found: dict[str, list[Path]] = {t: [] for t in schema.TABLES}
    others: list[Path] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or not entry.is_file():
            continue
        stem, _, ext = entry.name.rpartition(".")
        if stem in found and ext in schema.FILE_FORMATS:
            found[stem].append(entry)
        else:
            others.append(entry)

    located: dict[str, Path] = {}
    for table, paths in found.items():
        if len(paths) > 1:
            names = " and ".join(p.name for p in paths)
            problems.append(
                Problem(
                    str(folder),
                    f"both {names} exist: cs_sim cannot tell which one holds the {table} table",
                    "keep only one of them (move the other out of the folder)",
                )
            )
        elif paths:
            located[table] = paths[0]

    # files that look like a missing table under another name
    suggested: dict[str, list[Problem]] = {}
    for entry in others:
        stem, dot, ext = entry.name.rpartition(".")
        if not dot:
            stem, ext = entry.name, ""
        norm = _normal(stem)
        if norm in found:
            table = norm
        else:
            close = difflib.get_close_matches(norm, schema.TABLES, n=1, cutoff=0.8)
            if not close:
                continue
            table = close[0]
        if table in located or found[table]:
            continue
        needed = " (a required table)" if table in schema.REQUIRED_TABLES else ""
        if ext.lower() in schema.FILE_FORMATS:
            target = f"{table}.{ext.lower()}"
            if norm == table:
                message = (
                    f"file '{entry.name}' is not read: table files are named in lower case, "
                    f"'{target}'{needed}"
                )
            else:
                message = (
                    f"file '{entry.name}' is not a table name: did you mean '{target}'?"
                    f"{needed}"
                )
            fix = f"rename '{entry.name}' to '{target}'"
        elif ext.lower() in ("xlsx", "xls", "xlsm", "ods"):
            message = f"file '{entry.name}' is a spreadsheet; cs_sim reads CSV or Parquet"
            fix = f"export it as {table}.csv ({_EXCEL_CSV})"
        elif ext.lower() in ("pq", "parq"):
            message = f"file '{entry.name}' is not read: Parquet files must end in .parquet"
            fix = f"rename '{entry.name}' to '{table}.parquet'"
        else:
            message = f"file '{entry.name}' is not read: only .csv and .parquet files are read"
            fix = f"save it as comma-separated UTF-8 text named {table}.csv"
        suggested.setdefault(table, []).append(Problem(entry.name, message, fix))

    for table in schema.TABLES:
        if table in located or found[table]:
            continue
        if table in suggested:
            problems.extend(suggested[table])
        elif table in schema.REQUIRED_TABLES:
            problems.append(
                Problem(
                    str(folder),
                    f"the required table '{table}' is missing: expected {table}.csv or "
                    f"{table}.parquet in this folder",
                    f"add {table}.csv (or {table}.parquet); every dataset needs "
                    f"{' and '.join(schema.REQUIRED_TABLES)}",
                )
            )
    return located, problems


# ---------------------------------------------------------------------------------------
# columns


def _check_columns(raw: _Raw) -> tuple[list[str], list[Problem]]:
    """Return the canonical columns present, and problems with missing or misspelled ones."""
    schema = _schema()
    specs: tuple[ColumnSpec, ...] = schema.COLUMNS[raw.table]
    canonical = {s.name for s in specs}
    columns = [str(c) for c in raw.frame.columns]
    present = [s.name for s in specs if s.name in columns]
    # columns of the file that are not canonical, by normalised name
    extras = [c for c in columns if c not in canonical]
    by_normal = {}
    for c in extras:
        by_normal.setdefault(_normal(c), c)
    used: set[str] = set()
    problems: list[Problem] = []
    expected = ", ".join(s.name for s in specs if s.required)
    for spec in specs:
        if spec.name in columns:
            continue
        if _normal(spec.name) in by_normal:
            got = by_normal[_normal(spec.name)]
            used.add(got)
            problems.append(
                _lines_problem(
                    raw.file,
                    f"column '{got}' should be named '{spec.name}' (column names are lower "
                    "case, with no spaces around them)",
                    f"rename the column '{got}' to '{spec.name}' in the header",
                    [1] if raw.text else [],
                    column=got,
                )
            )
            continue
        if not spec.required:
            continue
        candidates = [c for c in extras if c not in used and _normal(c) not in canonical]
        close = difflib.get_close_matches(
            spec.name, {_normal(c): c for c in candidates}, n=1, cutoff=0.75
        )
        if close:
            got = {_normal(c): c for c in candidates}[close[0]]
            used.add(got)
            problems.append(
                _lines_problem(
                    raw.file,
                    f"column '{got}' — did you mean '{spec.name}'? The required column "
                    f"'{spec.name}' is missing",
                    f"rename the column '{got}' to '{spec.name}' in the header",
                    [1] if raw.text else [],
                    column=got,
                )
            )
        else:
            problems.append(
                _lines_problem(
                    raw.file,
                    f"the required column '{spec.name}' is missing (found: "
                    f"{', '.join(columns)})",
                    f"add a column '{spec.name}' ({spec.description}); {raw.table} needs the "
                    f"columns {expected}",
                    [1] if raw.text else [],
                    column=spec.name,
                )
            )
    return present, problems


# ---------------------------------------------------------------------------------------
# parsing


def _quote(values: Iterable[object]) -> str:
    out: list[str] = []
    for v in values:
        text = repr(v) if isinstance(v, str) else str(v)
        if text not in out:
            out.append(text)
        if len(out) == _MAX_EXAMPLES:
            break
    return ", ".join(out)


def _examples(raw: pd.Series, positions: np.ndarray) -> str:
    return _quote(raw.iloc[positions[: 5 * _MAX_EXAMPLES]].tolist())


def _is_text(s: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(s.dtype) or s.dtype == object


def _na_text(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    stripped = s.astype("str").str.strip()
    na = stripped.str.lower().isin(_NA_TOKENS).to_numpy(dtype=bool) | s.isna().to_numpy()
    return stripped, na


def _parse_number(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse to float64; return the values and a mask of unparseable entries."""
    if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
        values = s.astype("float64")
        bad = ~np.isfinite(values.to_numpy()) & values.notna().to_numpy()
        return values.where(~bad), bad
    if not _is_text(s):
        return pd.Series(np.nan, index=s.index, dtype="float64"), s.notna().to_numpy()
    stripped, na = _na_text(s)
    values = pd.to_numeric(stripped.where(~na), errors="coerce").astype("float64")
    arr = values.to_numpy()
    bad = ~na & ~np.isfinite(arr)
    return values.where(~bad), bad


_NS_MIN = pd.Timestamp.min.as_unit("ns")
_NS_MAX = pd.Timestamp.max.as_unit("ns")


def _parse_datetime(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse to datetime64[ns] (timezones dropped); return values and unparseable mask."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        values = s
    elif _is_text(s):
        stripped, na = _na_text(s)
        text = stripped.where(~na)
        try:
            values = pd.to_datetime(text, format="ISO8601", errors="coerce")
        except (ValueError, TypeError, OverflowError):
            values = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    else:
        try:
            values = pd.to_datetime(s, errors="coerce")
        except (ValueError, TypeError, OverflowError):
            values = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)
    in_range = values.isna() | ((values >= _NS_MIN) & (values <= _NS_MAX))
    values = values.where(in_range).astype("datetime64[ns]")
    bad = values.isna().to_numpy() & s.notna().to_numpy()
    if _is_text(s) and not pd.api.types.is_datetime64_any_dtype(s.dtype):
        bad &= ~_na_text(s)[1]
    return values, bad


def _parse_bool(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse to 1.0/0.0/NaN; return values and unparseable mask."""
    if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
        values = s.astype("float64")
        bad = values.notna().to_numpy() & ~values.isin((0.0, 1.0)).to_numpy()
        return values.where(~bad), bad
    stripped, na = _na_text(s)
    lower = stripped.str.lower()
    values = pd.Series(np.nan, index=s.index, dtype="float64")
    values[lower.isin(_TRUE).to_numpy()] = 1.0
    values[lower.isin(_FALSE).to_numpy()] = 0.0
    bad = ~na & values.isna().to_numpy()
    return values, bad


def _parse_text(s: pd.Series) -> pd.Series:
    """Strings with missing values for empty fields."""
    out = s if pd.api.types.is_string_dtype(s.dtype) else s.where(s.isna(), s.astype("str"))
    out = out.astype("str")
    return out.mask(out == "")


_PARSE_WORDS: dict[str, tuple[str, str]] = {
    "float": (
        "not a number",
        "write plain numbers with '.' as the decimal point, without currency symbols or "
        "thousands separators (e.g. 1234.5); leave the cell empty if unknown",
    ),
    "int": (
        "not a whole number",
        "write whole numbers without decimals, units or thousands separators (e.g. 12)",
    ),
    "date": (
        "not a date",
        "write dates as YYYY-MM-DD (ISO 8601, e.g. 2024-03-15; a time may follow, "
        "2024-03-15 14:30); in Excel, format the column as yyyy-mm-dd before saving",
    ),
    "month": (
        "not a month",
        "write months as YYYY-MM or YYYY-MM-DD (e.g. 2024-03 or 2024-03-01); any day is "
        "read as its month",
    ),
    "bool": ("not true or false", "write true or false (yes/no and 1/0 are accepted too)"),
}


def _parse_column(
    raw: _Raw, spec: ColumnSpec
) -> tuple[pd.Series, np.ndarray, list[Problem]]:
    """Parse one canonical column; return the values, the failed mask and problems."""
    s = raw.frame[spec.name]
    problems: list[Problem] = []
    if spec.kind in ("id", "str"):
        return _parse_text(s), np.zeros(len(s), dtype=bool), problems
    if spec.kind in ("int", "float"):
        values, bad = _parse_number(s)
        if spec.kind == "int":
            arr = values.to_numpy()
            frac = np.isfinite(arr) & (arr != np.round(arr))
            if frac.any():
                bad = bad | frac
                values = values.where(~frac)
    elif spec.kind in ("date", "month"):
        values, bad = _parse_datetime(s)
        if spec.kind == "month":
            values = pd.Series(
                values.to_numpy().astype("datetime64[M]").astype("datetime64[ns]"),
                index=values.index,
            )
    else:
        values, bad = _parse_bool(s)
    if bad.any():
        what, fix = _PARSE_WORDS[spec.kind]
        pos = np.flatnonzero(bad)
        n = pos.size
        problems.append(
            raw.problem(
                f"{n} value{'s are' if n > 1 else ' is'} {what}: {_examples(s, pos)}",
                fix,
                column=spec.name,
                positions=pos,
            )
        )
    return values, bad, problems


# ---------------------------------------------------------------------------------------
# checks with pandera


def _format_key(frame: pd.DataFrame, key: Sequence[str], positions: np.ndarray) -> str:
    rows = frame.iloc[positions[:_MAX_EXAMPLES]][list(key)]
    shown = []
    for rec in rows.itertuples(index=False):
        items = [_show(v) for v in rec]
        shown.append(items[0] if len(items) == 1 else "(" + ", ".join(items) + ")")
    return ", ".join(dict.fromkeys(shown))


def _run_pandera(
    raw: _Raw, work: pd.DataFrame, failed: dict[str, np.ndarray]
) -> list[Problem]:
    """Validate the parsed columns with the table's pandera schema; failures as Problems."""
    import pandera.pandas as pa

    schema = _schema()
    table_schema = schema.table_schema(raw.table, columns=list(work.columns), dtypes=False)
    try:
        table_schema.validate(work, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return []

    problems: list[Problem] = []
    index = pd.to_numeric(cases["index"], errors="coerce")
    cases = cases.assign(index=index)
    key = schema.UNIQUE_KEYS.get(raw.table, ())
    for check, group in cases.groupby("check", sort=False):
        check = str(check)
        if check in ("multiple_fields_uniqueness", "field_uniqueness"):
            pos = np.unique(group["index"].dropna().astype(np.int64).to_numpy())
            desc = key[0] if len(key) == 1 else "(" + ", ".join(key) + ")"
            what = f"{desc} pair" if len(key) == 2 else desc
            problems.append(
                raw.problem(
                    f"duplicate {what}: {pos.size} row{'s repeat' if pos.size > 1 else ' repeats'}"
                    f" a {what} of an earlier line, e.g. {_format_key(work, key, pos)}",
                    f"keep one row per {what}: delete or merge the duplicates",
                    column=key[0] if len(key) == 1 else None,
                    positions=pos,
                )
            )
            continue
        found_rule = schema.rule(check)
        if isinstance(found_rule, schema.TableRule):
            pos = np.unique(group["index"].dropna().astype(np.int64).to_numpy())
            rows = work.iloc[pos[:_MAX_EXAMPLES]]
            eg = "; ".join(
                ", ".join(f"{c}={_show(rows[c].iloc[i])}" for c in found_rule.needs)
                for i in range(len(rows))
            )
            problems.append(
                raw.problem(
                    f"{found_rule.message} (e.g. {eg})",
                    found_rule.fix,
                    column=found_rule.column,
                    positions=pos,
                )
            )
            continue
        for column, sub in group.groupby("column", sort=False):
            column = str(column)
            pos = np.unique(sub["index"].dropna().astype(np.int64).to_numpy())
            if check == "not_nullable":
                if column in failed:
                    pos = pos[~failed[column][pos]]
                if pos.size == 0:
                    continue
                problems.append(
                    raw.problem(
                        f"{pos.size} value{'s are' if pos.size > 1 else ' is'} missing; "
                        f"every row needs a value in {column}",
                        f"fill in {column} on these lines, or remove those rows",
                        column=column,
                        positions=pos,
                    )
                )
            elif found_rule is not None:
                problems.append(
                    raw.problem(
                        f"{found_rule.message} (found {_examples(raw.frame[column], pos)})",
                        found_rule.fix,
                        column=column,
                        positions=pos,
                    )
                )
            else:  # pragma: no cover - a pandera check without a registered rule
                values = _quote(sub["failure_case"].tolist())
                problems.append(
                    raw.problem(
                        f"failed the check {check} (found {values})",
                        "correct these values",
                        column=column,
                        positions=pos,
                    )
                )
    return problems


def _show(value: object) -> str:
    if isinstance(value, pd.Timestamp):
        return value.isoformat(sep=" ").removesuffix(" 00:00:00")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ---------------------------------------------------------------------------------------
# one table


@dataclass
class _Table:
    raw: _Raw
    work: pd.DataFrame  # parsed canonical columns (ints as float, bools as 0/1)
    problems: list[Problem]

    def final(self) -> pd.DataFrame:
        """The loaded table: parsed canonical columns, final dtypes, extras kept."""
        schema = _schema()
        specs = {s.name: s for s in schema.COLUMNS[self.raw.table]}
        out: dict[str, pd.Series] = {}
        for col in self.raw.frame.columns:
            if col in self.work.columns:
                values = self.work[col]
                kind = specs[col].kind
                if kind == "int":
                    values = values.astype("int64")
                elif kind == "bool":
                    values = values.astype(bool)
                out[col] = values
            elif self.raw.text:
                s = self.raw.frame[col]
                out[col] = s.mask(s == "")
            else:
                out[col] = self.raw.frame[col]
        return pd.DataFrame(out, index=pd.RangeIndex(len(self.raw.frame)))


def _check_table(raw: _Raw) -> _Table:
    schema = _schema()
    problems = list(raw.problems)
    present, col_problems = _check_columns(raw)
    problems.extend(col_problems)
    if len(raw.frame) == 0 and raw.table in schema.REQUIRED_TABLES:
        problems.append(
            _lines_problem(
                raw.file,
                "the file has a header but no data rows (this table is required)",
                f"add the {raw.table} rows, or check that the right file was exported",
                [],
            )
        )
    parsed: dict[str, pd.Series] = {}
    failed: dict[str, np.ndarray] = {}
    for name in present:
        values, bad, parse_problems = _parse_column(raw, schema.column_spec(raw.table, name))
        parsed[name] = values
        if bad.any():
            failed[name] = bad
        problems.extend(parse_problems)
    work = pd.DataFrame(parsed, index=pd.RangeIndex(len(raw.frame)))
    if len(work):
        problems.extend(_run_pandera(raw, work, failed))
    return _Table(raw, work, problems)


def _orphans(accounts: _Table, child: _Table) -> Problem | None:
    ids = child.work["account_id"]
    unknown = ids.notna().to_numpy() & ~ids.isin(accounts.work["account_id"]).to_numpy()
    if not unknown.any():
        return None
    pos = np.flatnonzero(unknown)
    distinct = pd.unique(ids.to_numpy()[pos])
    who = f"{pos.size} rows have an account_id" if pos.size > 1 else "1 row has an account_id"
    more = f" ({distinct.size} distinct ids)" if distinct.size > _MAX_EXAMPLES else ""
    return child.raw.problem(
        f"{who} not found in {accounts.raw.file}: {_quote(distinct.tolist())}{more}",
        f"add these accounts to {accounts.raw.file}, or correct or remove these rows",
        column="account_id",
        positions=pos,
    )


# ---------------------------------------------------------------------------------------
# public API


def _check(path: str | os.PathLike[str]) -> tuple[Dataset | None, list[Problem]]:
    folder = Path(path)
    source = str(path)
    if not folder.exists():
        return None, [
            Problem(
                source,
                "the dataset folder does not exist",
                "give the path of a folder holding accounts.csv and mrr.csv (and any "
                "optional tables); check the spelling and the current directory",
            )
        ]
    if not folder.is_dir():
        hint = (
            f"give the folder that holds it, '{folder.parent}'"
            if folder.suffix.lower() in (".csv", ".parquet")
            else "give the path of the folder holding the table files"
        )
        return None, [Problem(source, "this is a file, not a dataset folder", hint)]

    try:
        located, problems = _locate(folder)
    except OSError as exc:
        return None, [
            Problem(
                source,
                f"the dataset folder cannot be read ({exc.strerror or type(exc).__name__})",
                "check that the folder is readable by you",
            )
        ]
    tables: dict[str, _Table] = {}
    for name, file in located.items():
        reader = _read_csv if file.suffix == ".csv" else _read_parquet
        raw = reader(file, name)
        if isinstance(raw, list):
            problems.extend(raw)
            continue
        table = _check_table(raw)
        tables[name] = table
        problems.extend(table.problems)

    accounts = tables.get("accounts")
    if accounts is not None and "account_id" in accounts.work and len(accounts.work):
        for name in _schema().CHILD_TABLES:
            child = tables.get(name)
            if child is not None and "account_id" in child.work and len(child.work):
                orphan = _orphans(accounts, child)
                if orphan is not None:
                    problems.append(orphan)

    if problems:
        return None, problems
    frames = {name: table.final() for name, table in tables.items()}
    return Dataset(**frames, source=source), []


def validate_dataset(path: str | os.PathLike[str]) -> list[Problem]:
    """Check a dataset folder and return every problem found (empty when valid).

    Never raises on bad data: a missing folder, unreadable files, wrong columns,
    unparseable values, broken rules, duplicate keys and unknown accounts are all
    returned as :class:`cs_sim.errors.Problem` objects.

    Parameters
    ----------
    path : str or os.PathLike
        The dataset folder.

    Returns
    -------
    list of Problem
        In the order: folder and file problems, then per table (canonical order) its
        column, value and key problems, then unknown accounts.

    Examples
    --------
    >>> for problem in validate_dataset("data/example"):  # doctest: +SKIP
    ...     print(problem.render())
    """
    return _check(path)[1]


def load_dataset(path: str | os.PathLike[str]) -> Dataset:
    """Read and validate a dataset folder.

    Parameters
    ----------
    path : str or os.PathLike
        A folder with ``accounts`` and ``mrr`` and any optional tables, each as
        ``<table>.csv`` or ``<table>.parquet`` (not both).

    Returns
    -------
    Dataset
        Month columns are datetime64[ns] on the first of the month, date columns
        datetime64[ns], ids and text ``str``, counts int64, amounts float64, flags bool.
        Extra columns are kept.

    Raises
    ------
    cs_sim.errors.DataValidationError
        With every problem found, if the dataset is not valid.

    Examples
    --------
    >>> ds = load_dataset("data/example")  # doctest: +SKIP
    >>> ds.mrr.dtypes["month"]  # doctest: +SKIP
    dtype('<M8[ns]')
    """
    dataset, problems = _check(path)
    if dataset is None:
        raise DataValidationError(problems, source=str(path))
    logger.info("loaded %r", dataset)
    return dataset


def write_dataset(
    dataset: Dataset,
    path: str | os.PathLike[str],
    *,
    format: Literal["csv", "parquet"] = "csv",
    overwrite: bool = False,
) -> Path:
    """Write the tables of a dataset to a folder, one file per table.

    Parameters
    ----------
    dataset : Dataset
        The tables to write (absent optional tables are not written).
    path : str or os.PathLike
        The folder; created if needed.
    format : {"csv", "parquet"}, default "csv"
        CSV is UTF-8, comma-separated, with ISO dates; Parquet keeps the dtypes.
    overwrite : bool, default False
        Whether to replace the table files (of either format) already in the folder.
        Other files are never touched.

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    cs_sim.errors.CsSimError
        If the folder already holds table files and ``overwrite`` is False, or if
        ``path`` is a file.
    ValueError
        If ``format`` is not "csv" or "parquet".
    """
    if format not in ("csv", "parquet"):
        raise ValueError(f"format must be 'csv' or 'parquet', not {format!r}")
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise CsSimError(f"cannot write a dataset to '{folder}': it is a file, not a folder")
    existing = [
        folder / f"{t}.{ext}" for t in _TABLES for ext in ("csv", "parquet")
        if (folder / f"{t}.{ext}").exists()
    ]
    if existing and not overwrite:
        names = ", ".join(p.name for p in existing)
        raise CsSimError(
            f"'{folder}' already holds table files ({names}); choose an empty folder or "
            "pass overwrite=True"
        )
    folder.mkdir(parents=True, exist_ok=True)
    for old in existing:
        old.unlink()
    for name, frame in dataset.tables().items():
        target = folder / f"{name}.{format}"
        if format == "csv":
            frame.to_csv(target, index=False, encoding="utf-8")
        else:
            frame.to_parquet(target, index=False)
    return folder
