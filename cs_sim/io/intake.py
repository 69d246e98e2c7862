"""``cs-sim import``: a client's export files, through a mapping, into a canonical dataset.

:func:`import_dataset` reads each source file named by an :class:`~cs_sim.io.mapping.
ImportMapping` with pandas (CSV, Excel, Parquet; nothing is parsed by hand), renames
the columns, turns the cells into canonical values (missing-value texts, value maps,
currency symbols, thousands and decimal separators, dates in the mapping's format,
constant fills), writes the tables into a temporary folder, validates them with
:func:`cs_sim.io.load_dataset` and moves the folder into place only when it is valid.
A problem found on the way names the *source* file, column and rows. The source files
are only ever opened for reading.

Every transformation is logged with the rows it touched: ``import_log.json`` and
``import_log.txt`` in the output folder (and :class:`ImportResult`), next to a copy of
the mapping.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cs_sim.errors import DataValidationError, MappingError, Problem
from cs_sim.io._read import MAX_ROWS_KEPT, normal_name
from cs_sim.io.mapping import ImportMapping, ReadOptions, TableMapping, load_mapping
from cs_sim.tables import FileFormat, check_file_format

__all__ = ["ImportResult", "Step", "import_dataset"]

_EXCEL = (".xlsx", ".xlsm", ".xls")
_EXAMPLES = 5


@dataclass(frozen=True)
class Step:
    """One transformation of one table: what was done, to which column, on which rows.

    Attributes
    ----------
    table : str
        The canonical table.
    action : str
        ``read``, ``rename``, ``match``, ``drop``, ``strip``, ``missing``, ``values``,
        ``symbols``, ``thousands``, ``decimal``, ``dates`` or ``fill``.
    column : str or None
        The canonical (or kept extra) column.
    detail : str
        What was done, in words.
    rows : int
        How many rows it touched.
    where : tuple of int
        The first rows touched, as the source file numbers them (see ``unit``).
    unit : str
        ``line`` (CSV, the header is line 1) or ``row`` (Excel: the sheet's row number;
        Parquet: 1-based row).
    """

    table: str
    action: str
    column: str | None
    detail: str
    rows: int
    where: tuple[int, ...] = ()
    unit: str = "line"

    def to_dict(self) -> dict[str, Any]:
        """The step as JSON-ready data."""
        return {"table": self.table, "action": self.action, "column": self.column,
                "detail": self.detail, "rows": self.rows, "unit": self.unit,
                "first": list(self.where)}

    def render(self) -> str:
        """One line of the text log."""
        col = f"{self.column}: " if self.column else ""
        where = ""
        if self.where and self.action not in ("read", "rename", "match", "drop"):
            shown = ", ".join(str(x) for x in self.where)
            more = ", ..." if self.rows > len(self.where) else ""
            n = f"{self.rows:,} row{'s' if self.rows != 1 else ''}"
            where = f" on {n} ({self.unit}{'s' if self.rows != 1 else ''} {shown}{more})"
        return f"  {self.action:<9} {col}{self.detail}{where}"


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_dataset` did.

    Attributes
    ----------
    source : pathlib.Path
        The source folder.
    out : pathlib.Path
        The dataset folder written.
    mapping : str
        The mapping file.
    steps : tuple of Step
        Every transformation, table by table.
    rows : dict of str to int
        Rows written per table.
    warnings : tuple of str
        The warnings of the dataset written (:attr:`cs_sim.io.Dataset.warnings`).
    """

    source: Path
    out: Path
    mapping: str
    steps: tuple[Step, ...]
    rows: dict[str, int]
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (the content of ``import_log.json``)."""
        return {"source": str(self.source), "out": str(self.out), "mapping": self.mapping,
                "rows": dict(self.rows), "steps": [s.to_dict() for s in self.steps],
                "warnings": list(self.warnings)}

    def to_text(self) -> str:
        """The readable log (the content of ``import_log.txt``)."""
        lines = [f"Import of {self.source} into {self.out} (mapping {self.mapping})"]
        for table in self.rows:
            lines += ["", f"{table} ({self.rows[table]:,} rows)"]
            lines += [s.render() for s in self.steps if s.table == table]
        if self.warnings:
            lines += ["", "Warnings:", *(f"  - {w}" for w in self.warnings)]
        return "\n".join(lines)

    def summary(self) -> str:
        """One line for the terminal."""
        counts = ", ".join(f"{t} {n:,}" for t, n in self.rows.items())
        return (f"imported {len(self.rows)} tables into {self.out} ({counts} rows); "
                f"{len(self.steps)} steps logged in {self.out / 'import_log.txt'}")


# ------------------------------------------------------------------------- one table
@dataclass
class _Source:
    """One source file read, with how its rows are numbered for the user."""

    table: str
    path: Path
    label: str  # "billing.csv" or "crm.xlsx, sheet Accounts"
    frame: pd.DataFrame
    numbers: np.ndarray  # the source row number of each frame row
    unit: str
    steps: list[Step] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # output column -> source column

    def log(self, action: str, column: str | None, detail: str, mask: np.ndarray | None = None,
            rows: int | None = None) -> None:
        where: tuple[int, ...] = ()
        if mask is not None:
            hit = np.flatnonzero(mask)
            rows = int(hit.size)
            where = tuple(int(x) for x in self.numbers[hit[:_EXAMPLES]])
            if not rows:
                return
        self.steps.append(Step(self.table, action, column, detail, int(rows or 0), where,
                               self.unit))

    def column_label(self, column: str | None) -> str | None:
        """How a problem names a column: ``Billing' -> 'contract`` when renamed."""
        source = self.columns.get(column or "")
        if column is None or source is None or source == column:
            return column
        return f"{source}' -> '{column}"  # Problem renders it as column 'Billing' -> 'contract'

    def problem(self, column: str | None, mask: np.ndarray, message: str, fix: str) -> None:
        hit = np.flatnonzero(mask)
        self.problems.append(Problem(
            self.label, message, fix, column=self.column_label(column),
            rows=tuple(int(x) for x in self.numbers[hit[:MAX_ROWS_KEPT]]),
            n_rows=int(hit.size), unit=self.unit))


def _read(source_dir: Path, table: str, spec: TableMapping, opts: ReadOptions) -> _Source:
    path = source_dir / spec.file
    label = spec.file
    if not path.is_file():
        near = sorted(p.name for p in source_dir.iterdir()) if source_dir.is_dir() else []
        raise MappingError(f"tables.{table}.file: '{spec.file}' is not a file in "
                           f"'{source_dir}' (files there: {', '.join(near) or 'none'})")
    suffix = path.suffix.lower()
    try:
        if suffix in _EXCEL:
            sheet = 0 if spec.sheet is None else spec.sheet
            if spec.sheet is not None:
                label = f"{spec.file}, sheet {spec.sheet}"
            frame = pd.read_excel(path, sheet_name=sheet, dtype=str, keep_default_na=False,
                                  na_filter=False)
            numbers, unit = np.arange(len(frame)) + 2, "row"
        elif suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
            numbers, unit = np.arange(len(frame)) + 1, "row"
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False,
                                sep=opts.delimiter, encoding=opts.encoding,
                                skip_blank_lines=False, index_col=False)
            numbers, unit = np.arange(len(frame)) + 2, "line"
    except (OSError, ValueError, ImportError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MappingError(f"tables.{table}.file: '{spec.file}' cannot be read ({reason}); "
                           "check the file, its sheet, delimiter and encoding") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if suffix not in (".parquet", ".pq") and len(frame.columns):  # drop blank lines
        blank = (frame.astype(str).apply(lambda s: s.str.strip()) == "").all(axis=1).to_numpy()
        frame, numbers = frame[~blank], numbers[~blank]
    frame = frame.reset_index(drop=True)
    src = _Source(table, path, label, frame, numbers, unit)
    src.log("read", None, f"{label}: {len(frame):,} rows, {len(frame.columns)} columns",
            rows=len(frame))
    return src


def _select(src: _Source, spec: TableMapping) -> None:
    """Rename mapped columns to canonical names; keep or drop the others."""
    from cs_sim.schema import COLUMNS

    have = list(src.frame.columns)
    by_normal = {normal_name(c): c for c in have}
    out: dict[str, pd.Series] = {}
    for spec_col in COLUMNS[src.table]:
        name = spec_col.name
        wanted = spec.columns.get(name)
        if wanted is not None:
            got = wanted if wanted in have else by_normal.get(normal_name(wanted))
            if got is None:
                import difflib

                close = difflib.get_close_matches(wanted, have, n=1, cutoff=0.6)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise MappingError(
                    f"tables.{src.table}.columns.{name}: '{src.label}' has no column "
                    f"'{wanted}'{hint} (its columns: {', '.join(have)})")
            out[name] = src.frame[got]
            src.columns[name] = got
            src.log("rename", name, f"'{got}' -> {name}", rows=len(src.frame))
        elif normal_name(name) in by_normal:
            got = by_normal[normal_name(name)]
            out[name] = src.frame[got]
            src.columns[name] = got
            if got != name:
                src.log("match", name, f"'{got}' -> {name} (same name)", rows=len(src.frame))
    used = set(src.columns.values())
    for col in have:
        if col in used:
            continue
        if spec.extra_columns == "drop":
            src.log("drop", None, f"column '{col}' (not mapped; extra_columns: drop)",
                    rows=len(src.frame))
            continue
        name = normal_name(col)
        if name in out:
            raise MappingError(f"tables.{src.table}: the extra column '{col}' would be "
                               f"named '{name}', like another column; map or drop it")
        out[name] = src.frame[col]
        src.columns[name] = col
        if name != col:
            src.log("rename", name, f"'{col}' -> {name} (extra column kept)",
                    rows=len(src.frame))
    src.frame = pd.DataFrame(out, index=src.frame.index)


def _texts(s: pd.Series) -> bool:
    return s.dtype == object or pd.api.types.is_string_dtype(s.dtype)


def _clean_text(src: _Source, opts: ReadOptions, spec: TableMapping) -> None:
    """Strip spaces, blank out missing-value texts, apply value maps."""
    na = {t.strip().lower() for t in opts.na_values or []}
    for col in spec.values:
        if col not in src.frame.columns:
            raise MappingError(f"tables.{src.table}.values.{col}: the table has no column "
                               f"'{col}' (its columns: {', '.join(src.frame.columns)})")
    for col in list(src.frame.columns):
        s = src.frame[col]
        if not _texts(s):
            continue
        s = s.astype(str).where(s.notna(), "")
        stripped = s.str.strip()
        src.log("strip", col, "spaces around values removed",
                (stripped != s).to_numpy())
        is_na = stripped.str.lower().isin(na).to_numpy() & (stripped != "").to_numpy()
        for token in sorted(set(stripped[is_na])):
            src.log("missing", col, f"'{token}' -> empty (missing)",
                    (stripped == token).to_numpy())
        stripped = stripped.mask(is_na, "")
        mapping = spec.values.get(col)
        if mapping:
            lower = {str(k).strip().lower(): v for k, v in mapping.items()}
            key = stripped.str.lower()
            hit = key.isin(lower).to_numpy()
            for label in sorted(set(stripped[hit])):
                value = lower[label.lower()]
                src.log("values", col, f"'{label}' -> {value}", (stripped == label).to_numpy())
            stripped = stripped.where(~hit, key.map(lower).astype(str))
            left = sorted(set(stripped[~hit & (stripped != "").to_numpy()]))
            if left and len(left) <= 10:
                src.log("values", col, "not in the value map, kept as written: "
                        + ", ".join(repr(x) for x in left), rows=int((~hit).sum()))
        src.frame[col] = stripped


def _numbers(src: _Source, opts: ReadOptions, kinds: dict[str, str]) -> None:
    """Currency symbols, thousands and decimal separators out of number columns."""
    for col, kind in kinds.items():
        if kind not in ("int", "float") or col not in src.frame or not _texts(src.frame[col]):
            continue
        s = src.frame[col]
        for sym in opts.currency_symbols or []:
            has = s.str.contains(sym, regex=False).to_numpy()
            if has.any():
                src.log("symbols", col, f"'{sym}' removed", has)
                s = s.str.replace(sym, "", regex=False).str.strip()
        if opts.thousands:
            sep = opts.thousands
            has = s.str.contains(sep, regex=False).to_numpy()
            if has.any():
                src.log("thousands", col, f"thousands separator {sep!r} removed", has)
                s = s.str.replace(sep, "", regex=False)
        if opts.decimal == ",":
            has = s.str.contains(",", regex=False).to_numpy()
            if has.any():
                src.log("decimal", col, "decimal comma -> '.'", has)
                s = s.str.replace(",", ".", regex=False)
        src.frame[col] = s


def _dates(src: _Source, opts: ReadOptions, kinds: dict[str, str]) -> None:
    """Dates in the mapping's format -> ISO text (months as YYYY-MM)."""
    for col, kind in kinds.items():
        if kind not in ("date", "month") or col not in src.frame:
            continue
        fmt = (opts.month_format or opts.date_format) if kind == "month" else opts.date_format
        s = src.frame[col]
        if fmt is None or not _texts(s):
            continue
        filled = (s != "").to_numpy()
        parsed = pd.to_datetime(s.where(filled), format=fmt, errors="coerce")
        bad = filled & parsed.isna().to_numpy()
        key = "month_format" if kind == "month" else "date_format"
        iso = "YYYY-MM" if kind == "month" else "YYYY-MM-DD"
        if bad.any():
            examples = ", ".join(repr(v) for v in pd.unique(s[bad])[:3])
            src.problem(col, bad, f"{int(bad.sum())} value(s) do not match the date format "
                        f"{fmt!r} of the mapping: {examples}",
                        f"correct these dates, or change {key} for {src.table} in the "
                        "mapping")
        text = parsed.dt.strftime("%Y-%m" if kind == "month" else "%Y-%m-%d")
        src.frame[col] = text.where(filled & ~bad, s)
        src.log("dates", col, f"read as {fmt} -> {iso}", filled & ~bad)


def _fill(src: _Source, spec: TableMapping) -> None:
    for col, value in spec.fill.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if col not in src.frame.columns:
            src.frame[col] = text
            src.log("fill", col, f"new column, every row = {text}",
                    np.ones(len(src.frame), dtype=bool))
            continue
        s = src.frame[col]
        empty = (s.isna() | (s.astype(str).str.strip() == "")).to_numpy()
        src.frame[col] = s.where(~empty, text)
        src.log("fill", col, f"empty cells = {text}", empty)


def _transform(source_dir: Path, table: str, spec: TableMapping, defaults: ReadOptions
               ) -> _Source:
    from cs_sim.schema import COLUMNS

    opts = spec.resolved(defaults)
    src = _read(source_dir, table, spec, opts)
    _select(src, spec)
    kinds = {c.name: c.kind for c in COLUMNS[table]}
    _clean_text(src, opts, spec)
    _numbers(src, opts, kinds)
    _dates(src, opts, kinds)
    _fill(src, spec)
    return src


# ----------------------------------------------------------------------- the dataset
def _source_problem(p: Problem, sources: dict[str, _Source]) -> Problem:
    """A problem of a written table, told in the source file's terms."""
    table = p.file.rsplit(".", 1)[0]
    src = sources.get(table)
    if src is None:
        return p
    rows = tuple(int(src.numbers[r - 2]) for r in p.rows if 0 <= r - 2 < len(src.numbers))
    return Problem(f"{src.label} ({table})", p.message, p.fix, column=src.column_label(p.column),
                   rows=rows, n_rows=p.n_rows, unit=src.unit)


def _place(tmp: Path, out: Path, force: bool) -> None:
    """Move the finished folder into place (replacing ``out`` only with ``force``)."""
    if out.exists():
        if not out.is_dir():
            raise MappingError(f"--out '{out}' is a file; give a folder to create")
        if any(out.iterdir()):
            if not force:
                raise MappingError(f"--out '{out}' is not empty; choose a new folder or "
                                   "use --force to replace it")
            shutil.rmtree(out)
        else:
            out.rmdir()
    os.replace(tmp, out)


def import_dataset(
    source: str | os.PathLike[str],
    mapping: str | os.PathLike[str] | ImportMapping,
    out: str | os.PathLike[str],
    *,
    format: FileFormat = "csv",
    force: bool = False,
) -> ImportResult:
    """Turn a folder of export files into a canonical, validated dataset folder.

    Parameters
    ----------
    source : str or os.PathLike
        The folder holding the files the mapping names (never modified).
    mapping : str, os.PathLike or ImportMapping
        The mapping YAML file (see :mod:`cs_sim.io.mapping`) or a validated mapping.
    out : str or os.PathLike
        The dataset folder to create (it must not exist or be empty, unless ``force``).
    format : {"csv", "parquet"}, default "csv"
        File format of the tables written.
    force : bool, default False
        Replace ``out`` if it holds files.

    Returns
    -------
    ImportResult

    Raises
    ------
    cs_sim.errors.MappingError
        If the mapping is invalid or does not fit the files.
    cs_sim.errors.DataValidationError
        If the result is not a valid dataset: every problem, named by source file,
        column and rows. Nothing is written then.
    """
    from cs_sim.io import load_dataset, write_dataset

    check_file_format(format)
    source_dir = Path(source)
    if not source_dir.is_dir():
        raise MappingError(f"source folder '{source_dir}' does not exist or is not a folder")
    if isinstance(mapping, ImportMapping):
        spec, map_name, map_text = mapping, "(given in Python)", None
    else:
        spec, map_name = load_mapping(mapping), str(mapping)
        map_text = Path(mapping).read_text(encoding="utf-8")
    out_dir = Path(out)
    if out_dir.exists() and out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        raise MappingError(f"--out '{out_dir}' is not empty; choose a new folder or use "
                           "--force to replace it")
    sources = {table: _transform(source_dir, table, t, spec.defaults)
               for table, t in spec.tables.present().items()}
    problems = [p for src in sources.values() for p in src.problems]
    if problems:
        raise DataValidationError(problems, source=str(source_dir))

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.import-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        for table, src in sources.items():
            src.frame.to_csv(tmp / f"{table}.csv", index=False, encoding="utf-8")
        try:
            dataset = load_dataset(tmp)
        except DataValidationError as exc:
            raise DataValidationError([_source_problem(p, sources) for p in exc.problems],
                                      source=str(source_dir)) from None
        if format == "parquet":
            for table in sources:
                (tmp / f"{table}.csv").unlink()
            write_dataset(dataset, tmp, format="parquet")
        steps = tuple(s for src in sources.values() for s in src.steps)
        result = ImportResult(source_dir, out_dir, map_name, steps,
                              {t: len(src.frame) for t, src in sources.items()},
                              tuple(dataset.warnings))
        (tmp / "import_log.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n",
                                             encoding="utf-8")
        (tmp / "import_log.txt").write_text(result.to_text() + "\n", encoding="utf-8")
        if map_text is not None:
            (tmp / "import_mapping.yaml").write_text(map_text, encoding="utf-8")
        _place(tmp, out_dir, force)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return result
