"""Reading the files of a dataset folder as they are, before any check of their values.

:func:`locate` finds the table files of a folder (and reports missing, doubled and
misnamed ones); :func:`read_csv` and :func:`read_parquet` read one file into a
:class:`RawFile` (a CSV file as strings, with the line of each record), or return why
it cannot be read. Part of :mod:`cs_sim.io`.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io as _io
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from cs_sim.errors import Problem
from cs_sim.tables import FILE_FORMATS, REQUIRED_TABLES, TABLES

__all__ = ["MAX_ROWS_KEPT", "RawFile", "lines_problem", "locate", "normal_name", "read_csv",
           "read_parquet"]

logger = logging.getLogger(__name__)

#: how many offending places a Problem keeps (its n_rows gives the total)
MAX_ROWS_KEPT = 50
_EXCEL_CSV = "in Excel: File > Save As > 'CSV UTF-8 (Comma delimited) (*.csv)'"


# ---------------------------------------------------------------------------------------
# one file, read but not yet checked


@dataclass
class RawFile:
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


def lines_problem(
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


def read_csv(path: Path, table: str) -> RawFile | list[Problem]:
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
                if table in REQUIRED_TABLES
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
            lines_problem(
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
            lines_problem(
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
                    lines_problem(
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
            lines_problem(
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
            lines_problem(
                file,
                f"the file cannot be read as CSV ({msg})",
                "check the quoting and the number of values on that line",
                [int(found.group(1))] if found else [],
            )
        ]
    raw = RawFile(table, file, frame, True, record_lines)
    if len(record_lines) != len(frame):  # pragma: no cover - defensive
        logger.debug("%s: %d records scanned, %d read", file, len(record_lines), len(frame))
        raw.record_lines = None
    stripped = [h.strip() for h in header]
    dups = sorted({h for h in stripped if stripped.count(h) > 1})
    for name in dups:
        raw.problems.append(
            lines_problem(
                file,
                f"column '{name}' appears more than once in the header",
                "remove or rename the duplicate columns",
                [1],
                column=name,
            )
        )
    return raw


def read_parquet(path: Path, table: str) -> RawFile | list[Problem]:
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
    raw = RawFile(table, file, frame, False, None)
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


def normal_name(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip()).lower()


def locate(folder: Path) -> tuple[dict[str, Path], list[Problem]]:
    """Find the table files of a folder; report missing, doubled and misnamed ones."""
    problems: list[Problem] = []
    found: dict[str, list[Path]] = {t: [] for t in TABLES}
    others: list[Path] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or not entry.is_file():
            continue
        stem, _, ext = entry.name.rpartition(".")
        if stem in found and ext in FILE_FORMATS:
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
        norm = normal_name(stem)
        if norm in found:
            table = norm
        else:
            close = difflib.get_close_matches(norm, TABLES, n=1, cutoff=0.8)
            if not close:
                continue
            table = close[0]
        if table in located or found[table]:
            continue
        needed = " (a required table)" if table in REQUIRED_TABLES else ""
        if ext.lower() in FILE_FORMATS:
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

    for table in TABLES:
        if table in located or found[table]:
            continue
        if table in suggested:
            problems.extend(suggested[table])
        elif table in REQUIRED_TABLES:
            problems.append(
                Problem(
                    str(folder),
                    f"the required table '{table}' is missing: expected {table}.csv or "
                    f"{table}.parquet in this folder",
                    f"add {table}.csv (or {table}.parquet); every dataset needs "
                    f"{' and '.join(REQUIRED_TABLES)}",
                )
            )
    return located, problems
