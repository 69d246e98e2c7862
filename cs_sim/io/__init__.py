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

Money: ``mrr`` and ``costs`` may say their currency in a ``currency`` column. More than
one currency is a problem unless an ``fx`` table converts them to one reporting
currency, which is then :attr:`Dataset.currency` (see :mod:`cs_sim.io._currency`).
Months that change the MRR bridge silently (a month without rows, closing months whose
rows are all 0) are reported in :attr:`Dataset.warnings`.

Reading the files as they are is :mod:`cs_sim.io._read`; checking their columns, values
and rules is :mod:`cs_sim.io._check`; money and currencies :mod:`cs_sim.io._currency`;
the months of ``mrr`` :mod:`cs_sim.io._gaps`. :mod:`cs_sim.io.intake` turns a client's
exports into a dataset (``cs-sim import``).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cs_sim.errors import CsSimError, DataValidationError, MissingTableError, Problem
from cs_sim.io._check import CheckedTable, check_table, orphans, schema_module
from cs_sim.io._currency import convert, reconcile
from cs_sim.io._gaps import mrr_warnings
from cs_sim.io._read import locate, read_csv, read_parquet
from cs_sim.tables import FILE_FORMATS, TABLES, FileFormat, check_file_format

__all__ = ["Dataset", "load_dataset", "validate_dataset", "write_dataset"]

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------
# the Dataset


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """The canonical tables of one company, as loaded by :func:`load_dataset`.

    Parameters
    ----------
    accounts, mrr : pandas.DataFrame
        The required tables.
    usage, tickets, surveys, trials, interactions, costs, fx : pandas.DataFrame or None
        The optional tables; None when the dataset does not have them.
    source : str, optional
        Where the dataset was read from.
    currency : str, optional
        The currency of every money figure (ISO code): the one currency of the data,
        or the reporting currency of ``fx``; None when the data do not say.
    warnings : tuple of str
        Things that are valid but change figures silently (see :mod:`cs_sim.io._gaps`).

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
    fx: pd.DataFrame | None = None
    source: str | None = field(default=None)
    currency: str | None = None
    warnings: tuple[str, ...] = ()

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the tables present, by name, in canonical order.

        Returns
        -------
        dict of str to pandas.DataFrame
        """
        out: dict[str, pd.DataFrame] = {}
        for name in TABLES:
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
        if name not in TABLES:
            raise ValueError(f"unknown table {name!r}; canonical tables: {', '.join(TABLES)}")
        frame = getattr(self, name)
        if frame is None:
            raise MissingTableError(name, source=self.source)
        return frame

    def __repr__(self) -> str:
        parts = [f"{name}: {len(df)} rows" for name, df in self.tables().items()]
        src = f"{self.source!r}, " if self.source else ""
        return f"Dataset({src}{', '.join(parts)})"


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
            if folder.suffix.lower().lstrip(".") in FILE_FORMATS
            else "give the path of the folder holding the table files"
        )
        return None, [Problem(source, "this is a file, not a dataset folder", hint)]

    try:
        located, problems = locate(folder)
    except OSError as exc:
        return None, [
            Problem(
                source,
                f"the dataset folder cannot be read ({exc.strerror or type(exc).__name__})",
                "check that the folder is readable by you",
            )
        ]
    tables: dict[str, CheckedTable] = {}
    for name, file in located.items():
        reader = read_csv if file.suffix == ".csv" else read_parquet
        raw = reader(file, name)
        if isinstance(raw, list):
            problems.extend(raw)
            continue
        table = check_table(raw)
        tables[name] = table
        problems.extend(table.problems)

    accounts = tables.get("accounts")
    if accounts is not None and "account_id" in accounts.work and len(accounts.work):
        for name in schema_module().CHILD_TABLES:
            child = tables.get(name)
            if child is not None and "account_id" in child.work and len(child.work):
                orphan = orphans(accounts, child)
                if orphan is not None:
                    problems.append(orphan)

    money = reconcile(tables)
    problems.extend(money.problems)
    if problems:
        return None, problems
    frames = {name: table.final() for name, table in tables.items()}
    if money.currency is not None:
        for name, rates in money.rates.items():
            frames[name] = convert(name, frames[name], rates, money.currency)
    warnings = tuple(mrr_warnings(frames["mrr"], file=located["mrr"].name))
    for warning in warnings:
        logger.warning(warning)
    return Dataset(**frames, source=source, currency=money.currency, warnings=warnings), []


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
    format: FileFormat = "csv",
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
    cs_sim.errors.FileFormatError
        If ``format`` is not "csv" or "parquet" (a :class:`CsSimError` and a
        :class:`ValueError`).
    """
    check_file_format(format)
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise CsSimError(f"cannot write a dataset to '{folder}': it is a file, not a folder")
    existing = [
        folder / f"{t}.{ext}" for t in TABLES for ext in FILE_FORMATS
        if (folder / f"{t}.{ext}").exists()
    ]
    if existing and not overwrite:
        names = ", ".join(p.name for p in existing)
        raise CsSimError(
            f"'{folder}' already holds table files ({names}); choose an empty folder "
            "(or, from Python, write_dataset(..., overwrite=True))"
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
