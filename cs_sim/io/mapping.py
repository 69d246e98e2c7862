"""The import mapping: how a client's export files become the canonical tables.

A mapping is a YAML file (template: ``templates/import_mapping.yaml``; JSON Schema for
editors: ``templates/import_mapping.schema.json``) validated into the frozen pydantic
model :class:`ImportMapping`. Per canonical table it names the source file (CSV, Excel
or Parquet; for Excel the sheet), the source column of each canonical column, and how
to read the values: date format, decimal and thousands separators, currency symbols to
strip, text meaning "missing", value maps (labels to canonical values) and constant
fills. ``defaults`` apply to every table unless the table says otherwise.

An unknown or misspelled key is reported with the file, the dotted path and the
closest allowed key, as scenarios are. :func:`cs_sim.io.intake.import_dataset` runs a
mapping.

Examples
--------
>>> m = mapping_from_dict({"tables": {
...     "accounts": {"file": "crm.csv", "columns": {"account_id": "Customer ID"}},
...     "mrr": {"file": "billing.csv", "date_format": "%d/%m/%Y"}}})
>>> m.tables.mrr.resolved(m.defaults).date_format
'%d/%m/%Y'
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cs_sim._pydantic import did_you_mean, format_loc
from cs_sim._yaml import load_yaml_mapping
from cs_sim.errors import MappingError
from cs_sim.tables import TABLES

__all__ = [
    "ImportMapping",
    "ReadOptions",
    "TableMapping",
    "Tables",
    "load_mapping",
    "mapping_from_dict",
    "mapping_json_schema",
    "mapping_json_schema_text",
]

#: a cell value a value map or a fill may give
Scalar = str | int | float | bool
_SCHEMA_HINT = "see templates/import_mapping.yaml and import_mapping.schema.json"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReadOptions(_Frozen):
    """How values are written in the source files (every field may be left out).

    A table's own options win over ``defaults``; what neither gives takes the value
    documented here.
    """

    date_format: str | None = Field(
        None, description="strftime format of the dates, e.g. '%d/%m/%Y' for 31/01/2024 "
        "(default: ISO 8601, 2024-01-31)")
    month_format: str | None = Field(
        None, description="strftime format of month columns, e.g. '%m/%Y' or '%b %Y' "
        "(default: date_format, else ISO: 2024-01 or 2024-01-31)")
    decimal: Literal[".", ","] | None = Field(
        None, description="decimal separator of numbers (default '.')")
    thousands: Literal[",", ".", " ", "'", ""] | None = Field(
        None, description="thousands separator to remove from numbers, e.g. ',' for "
        "1,200 (default: none)")
    currency_symbols: list[str] | None = Field(
        None, description="symbols stripped from number columns, e.g. ['$'] for $356.70 "
        "(default: $, €, £, ¥)")
    na_values: list[str] | None = Field(
        None, description="cell texts that mean 'missing', compared without case "
        "(default: '', n/a, na, -, null, none)")
    delimiter: str | None = Field(
        None, min_length=1, max_length=1,
        description="CSV field separator (default ','); ';' for many European exports")
    encoding: str | None = Field(
        None, description="text encoding of CSV files (default utf-8; e.g. cp1252, latin-1)")


_READ_DEFAULTS: dict[str, Any] = {
    "date_format": None,
    "month_format": None,
    "decimal": ".",
    "thousands": "",
    "currency_symbols": ["$", "€", "£", "¥"],
    "na_values": ["", "n/a", "na", "-", "null", "none"],
    "delimiter": ",",
    "encoding": "utf-8",
}


class TableMapping(ReadOptions):
    """Where one canonical table comes from and how its columns are read."""

    file: str = Field(description="source file, relative to the source folder "
                      "(.csv, .xlsx/.xls or .parquet)")
    sheet: str | int | None = Field(
        None, description="Excel only: the sheet name or 0-based position (default the "
        "first)")
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="canonical column -> source column; a canonical column not named is "
        "taken from a source column of the same name (any case)")
    values: dict[str, dict[str, Scalar]] = Field(
        default_factory=dict,
        description="column -> {source label: canonical value}, e.g. contract: "
        "{Monthly: monthly}")
    fill: dict[str, Scalar] = Field(
        default_factory=dict,
        description="column -> constant for empty cells (the column is added when absent), "
        "e.g. currency: USD")
    extra_columns: Literal["keep", "drop"] = Field(
        "keep", description="keep source columns not mapped (renamed to snake_case, e.g. "
        "Segment -> segment) or drop them")

    def resolved(self, defaults: ReadOptions) -> ReadOptions:
        """The read options in force for this table: its own, else defaults, else built-in.

        Parameters
        ----------
        defaults : ReadOptions

        Returns
        -------
        ReadOptions
            Every field set.
        """
        out = {}
        for name in ReadOptions.model_fields:
            own = getattr(self, name)
            dflt = getattr(defaults, name)
            out[name] = own if own is not None else dflt if dflt is not None else \
                _READ_DEFAULTS[name]
        return ReadOptions(**out)


class Tables(_Frozen):
    """One entry per canonical table present in the source (accounts and mrr required)."""

    accounts: TableMapping
    mrr: TableMapping
    usage: TableMapping | None = None
    tickets: TableMapping | None = None
    surveys: TableMapping | None = None
    trials: TableMapping | None = None
    interactions: TableMapping | None = None
    costs: TableMapping | None = None
    fx: TableMapping | None = None

    @model_validator(mode="after")
    def _canonical_columns(self) -> Tables:
        from cs_sim.schema import COLUMNS

        for table in TABLES:
            spec = getattr(self, table)
            if spec is None:
                continue
            allowed = [c.name for c in COLUMNS[table]]
            for column in spec.columns:
                if column not in allowed:
                    close = difflib.get_close_matches(column, allowed, n=1)
                    hint = f"; did you mean '{close[0]}'?" if close else ""
                    raise ValueError(
                        f"tables.{table}.columns.{column}: not a column of {table}{hint} "
                        f"(its columns: {', '.join(allowed)}); map extra source columns "
                        "with extra_columns: keep instead"
                    )
        return self

    def present(self) -> dict[str, TableMapping]:
        """The tables the mapping gives, in canonical order."""
        return {t: getattr(self, t) for t in TABLES if getattr(self, t) is not None}


class ImportMapping(_Frozen):
    """A whole import mapping file."""

    version: Literal[1] = Field(1, description="mapping format version")
    defaults: ReadOptions = Field(default_factory=ReadOptions,
                                  description="read options for every table")
    tables: Tables


# ------------------------------------------------------------------- errors in words
def _message(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    loc = tuple(err.get("loc", ()))
    where = format_loc(loc)
    if kind == "missing":
        msg = "required key is missing"
    elif kind == "extra_forbidden":
        msg = f"unknown key{did_you_mean(ImportMapping, loc)} ({_SCHEMA_HINT})"
    elif kind == "literal_error":
        msg = f"must be one of {err.get('ctx', {}).get('expected')} (got {err.get('input')!r})"
    elif kind == "value_error":
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        if msg.startswith("tables."):
            return msg
    else:
        msg = str(err.get("msg", kind))
        msg = msg[:1].lower() + msg[1:]
        if "input" in err and not isinstance(err["input"], (dict, list)):
            msg += f" (got {err['input']!r})"
    return f"{where}: {msg}" if where else msg


def mapping_from_dict(data: Mapping[str, Any], *, source: str = "mapping") -> ImportMapping:
    """Validate a mapping given as a dict (as read from YAML).

    Parameters
    ----------
    data : mapping
    source : str
        How messages name the file.

    Returns
    -------
    ImportMapping

    Raises
    ------
    cs_sim.errors.MappingError
        With one line per problem: the file, the dotted key and what is wrong.
    """
    try:
        return ImportMapping.model_validate(dict(data))
    except ValidationError as exc:
        lines = [f"{source}: {_message(e)}" for e in exc.errors(include_url=False)]
        raise MappingError("\n".join(lines)) from None


def load_mapping(path: str | Path) -> ImportMapping:
    """Read and validate a mapping YAML file.

    Parameters
    ----------
    path : str or pathlib.Path

    Returns
    -------
    ImportMapping

    Raises
    ------
    cs_sim.errors.MappingError
        If the file cannot be read, is not YAML or does not validate.
    """
    data = load_yaml_mapping(path, what="import mapping", error=MappingError)
    return mapping_from_dict(data, source=str(path))


def mapping_json_schema() -> dict[str, Any]:
    """The JSON Schema of a mapping file (for editors; committed in ``templates/``).

    Returns
    -------
    dict
    """
    schema = ImportMapping.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://cs-sim.invalid/import_mapping.schema.json"
    schema["title"] = "cs_sim import mapping"
    return schema


def mapping_json_schema_text() -> str:
    """:func:`mapping_json_schema` as the exact text of the committed file.

    Returns
    -------
    str
    """
    return json.dumps(mapping_json_schema(), indent=2, sort_keys=True) + "\n"
