"""The canonical tables of a dataset, their file formats and coded values, in one place.

A light module (no pandas, no pandera) that :mod:`cs_sim.schema` (the column rules),
:mod:`cs_sim.io` (reading and writing) and :mod:`cs_sim.synth` (the generator) read
their lists from.

Examples
--------
>>> from cs_sim.tables import REQUIRED_TABLES, SURVEY_SCALES
>>> REQUIRED_TABLES
('accounts', 'mrr')
>>> TABLES[-1]
'fx'
>>> SURVEY_SCALES["csat"]
(1, 5)
"""

from __future__ import annotations

from typing import Literal

from cs_sim.errors import FileFormatError

__all__ = [
    "ACCOUNT_TABLES",
    "CONTRACT_TYPES",
    "CURRENCY_CODE",
    "FILE_FORMATS",
    "MONEY_COLUMNS",
    "OPTIONAL_TABLES",
    "REQUIRED_TABLES",
    "SURVEY_KINDS",
    "SURVEY_SCALES",
    "TABLES",
    "FileFormat",
    "check_file_format",
]

#: every canonical table, in the order they are read, written and reported
TABLES: tuple[str, ...] = (
    "accounts",
    "mrr",
    "usage",
    "tickets",
    "surveys",
    "trials",
    "interactions",
    "costs",
    "fx",
)
#: tables a dataset must have
REQUIRED_TABLES: tuple[str, ...] = ("accounts", "mrr")
#: tables a dataset may have (every analysis that needs one says so when it is absent)
OPTIONAL_TABLES: tuple[str, ...] = tuple(t for t in TABLES if t not in REQUIRED_TABLES)
#: tables with one row per account (or per account event): they have ``account_id``
ACCOUNT_TABLES: tuple[str, ...] = tuple(t for t in TABLES if t not in ("costs", "fx"))

#: what a currency code looks like (ISO 4217: three capital letters, e.g. USD, EUR, JPY)
CURRENCY_CODE = r"[A-Z]{3}"

#: table -> its money columns (amounts in the row's ``currency``, per month)
MONEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "mrr": ("mrr",),
    "costs": ("cs_cost", "support_cost", "tooling_cost"),
}

#: a file format a table can be stored in (the file suffix, without the dot)
FileFormat = Literal["csv", "parquet"]
#: file formats a table may be stored in: ``<table>.csv`` or ``<table>.parquet``
FILE_FORMATS: tuple[FileFormat, ...] = ("csv", "parquet")

#: allowed values of ``accounts.contract``
CONTRACT_TYPES: tuple[str, ...] = ("monthly", "annual")

#: survey kind -> (lowest, highest) score on its scale (``surveys.kind``, ``surveys.score``)
SURVEY_SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
#: allowed values of ``surveys.kind``
SURVEY_KINDS: tuple[str, ...] = tuple(SURVEY_SCALES)


def check_file_format(format: str) -> FileFormat:
    """Return ``format`` if tables can be stored in it, else raise :class:`FileFormatError`.

    Parameters
    ----------
    format : str
        A file format, e.g. ``"csv"``.

    Returns
    -------
    str
        ``format``, one of :data:`FILE_FORMATS`.

    Raises
    ------
    cs_sim.errors.FileFormatError
        If ``format`` is not one of :data:`FILE_FORMATS`.

    Examples
    --------
    >>> check_file_format("parquet")
    'parquet'
    """
    if format not in FILE_FORMATS:
        allowed = " or ".join(repr(f) for f in FILE_FORMATS)
        raise FileFormatError(f"format: must be {allowed} (got {format!r})")
    return format  # type: ignore[return-value]
