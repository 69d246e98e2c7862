"""Checking one table read from a file: its columns, their values, its rules and keys.

:func:`check_table` parses the canonical columns of a :class:`~cs_sim.io._read.RawFile`
(see the parsing rules in :mod:`cs_sim.io`), runs the table's pandera schema
(:mod:`cs_sim.schema`) and turns every failure into a :class:`~cs_sim.errors.Problem`;
:func:`orphans` finds rows whose account is not in the accounts table. Part of
:mod:`cs_sim.io`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cs_sim.errors import Problem
from cs_sim.io._read import RawFile, lines_problem, normal_name
from cs_sim.tables import REQUIRED_TABLES

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.schema import ColumnSpec

__all__ = ["CheckedTable", "check_table", "orphans", "schema_module"]

#: how many offending values a message quotes
_MAX_EXAMPLES = 3
#: text read as a missing value in number, date and boolean columns (lower-cased, stripped)
_NA_TOKENS = ("", "na", "n/a", "nan", "null", "none", "nat")
_TRUE = ("true", "t", "yes", "y", "1", "1.0")
_FALSE = ("false", "f", "no", "n", "0", "0.0")


def schema_module() -> ModuleType:
    """Import :mod:`cs_sim.schema` (and pandera) on first use."""
    from cs_sim import schema

    return schema


# ---------------------------------------------------------------------------------------
# columns


def _check_columns(raw: RawFile) -> tuple[list[str], list[Problem]]:
    """Return the canonical columns present, and problems with missing or misspelled ones."""
    schema = schema_module()
    specs: tuple[ColumnSpec, ...] = schema.COLUMNS[raw.table]
    canonical = {s.name for s in specs}
    columns = [str(c) for c in raw.frame.columns]
    present = [s.name for s in specs if s.name in columns]
    # columns of the file that are not canonical, by normalised name
    extras = [c for c in columns if c not in canonical]
    by_normal = {}
    for c in extras:
        by_normal.setdefault(normal_name(c), c)
    used: set[str] = set()
    problems: list[Problem] = []
    expected = ", ".join(s.name for s in specs if s.required)
    for spec in specs:
        if spec.name in columns:
            continue
        if normal_name(spec.name) in by_normal:
            got = by_normal[normal_name(spec.name)]
            used.add(got)
            problems.append(
                lines_problem(
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
        candidates = [c for c in extras if c not in used and normal_name(c) not in canonical]
        close = difflib.get_close_matches(
            spec.name, {normal_name(c): c for c in candidates}, n=1, cutoff=0.75
        )
        if close:
            got = {normal_name(c): c for c in candidates}[close[0]]
            used.add(got)
            problems.append(
                lines_problem(
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
                lines_problem(
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
    raw: RawFile, spec: ColumnSpec
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
    raw: RawFile, work: pd.DataFrame, failed: dict[str, np.ndarray]
) -> list[Problem]:
    """Validate the parsed columns with the table's pandera schema; failures as Problems."""
    import pandera.pandas as pa

    schema = schema_module()
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
class CheckedTable:
    raw: RawFile
    work: pd.DataFrame  # parsed canonical columns (ints as float, bools as 0/1)
    problems: list[Problem]

    def final(self) -> pd.DataFrame:
        """The loaded table: parsed canonical columns, final dtypes, extras kept."""
        schema = schema_module()
        specs = {s.name: s for s in schema.COLUMNS[self.raw.table]}
        out: dict[str, pd.Series] = {}
        for col in self.raw.frame.columns:
            if col in self.work.columns:
                values = self.work[col]
                kind = specs[col].kind
                if kind == "int":
                    # a missing value in an optional whole-number column: nullable Int64
                    values = values.astype("Int64" if values.isna().any() else "int64")
                elif kind == "bool":
                    values = values.astype(bool)
                out[col] = values
            elif self.raw.text:
                s = self.raw.frame[col]
                out[col] = s.mask(s == "")
            else:
                out[col] = self.raw.frame[col]
        return pd.DataFrame(out, index=pd.RangeIndex(len(self.raw.frame)))


def check_table(raw: RawFile) -> CheckedTable:
    schema = schema_module()
    problems = list(raw.problems)
    present, col_problems = _check_columns(raw)
    problems.extend(col_problems)
    if len(raw.frame) == 0 and raw.table in REQUIRED_TABLES:
        problems.append(
            lines_problem(
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
    return CheckedTable(raw, work, problems)


def orphans(accounts: CheckedTable, child: CheckedTable) -> Problem | None:
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
