"""The columns and value rules of the canonical tables of a cs_sim dataset, in one place.

A dataset is a folder with one file per table (``<table>.csv`` or ``<table>.parquet``).
``accounts`` and ``mrr`` are required; the other tables are optional and every
analysis that needs one says so. Within a table, each column is required or optional
(:attr:`ColumnSpec.required`); an optional column says what needs it
(:attr:`ColumnSpec.needed_for`). This module is the one statement of both; the README's
table of columns is checked against it. The table names, file formats, contract types and
survey scales come from :mod:`cs_sim.tables` (re-exported here). This module describes
each table column by column (:class:`ColumnSpec`), the keys, the foreign key to
``accounts`` and the value rules, and builds the pandera schemas from that description.

Two kinds of schema are built from the same description:

* :data:`SCHEMAS` (and the per-table constants such as :data:`MRR_SCHEMA`) check the
  *loaded* dtypes as well as the values: use them to check a frame produced in Python
  (for example by the synthetic generator) before writing it.
* :func:`table_schema` with ``dtypes=False`` checks values only; :mod:`cs_sim.io` uses
  it on freshly parsed files, where the dtypes are its own business.

Every value rule carries a message and a fix, so that a failure can be told to the
user in plain words (:func:`rule`). Extra, non-canonical columns are allowed
(``strict=False``).

Examples
--------
>>> from cs_sim.schema import COLUMNS, REQUIRED_TABLES
>>> REQUIRED_TABLES
('accounts', 'mrr')
>>> [c.name for c in COLUMNS["mrr"]]
['account_id', 'month', 'mrr']
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import pandas as pd
import pandera.pandas as pa

from cs_sim.tables import (
    CONTRACT_TYPES,
    CURRENCY_CODE,
    FILE_FORMATS,
    OPTIONAL_TABLES,
    REQUIRED_TABLES,
    SURVEY_KINDS,
    SURVEY_SCALES,
    TABLES,
)

__all__ = [
    "ACCOUNTS_SCHEMA",
    "CURRENCY_PATTERN",
    "CHILD_TABLES",
    "COLUMNS",
    "CONTRACT_TYPES",
    "COSTS_SCHEMA",
    "FILE_FORMATS",
    "FX_SCHEMA",
    "INTERACTIONS_SCHEMA",
    "MRR_SCHEMA",
    "OPTIONAL_TABLES",
    "REQUIRED_TABLES",
    "SCHEMAS",
    "SURVEYS_SCHEMA",
    "SURVEY_KINDS",
    "SURVEY_SCALES",
    "TABLES",
    "TICKETS_SCHEMA",
    "TRIALS_SCHEMA",
    "UNIQUE_KEYS",
    "USAGE_SCHEMA",
    "ColumnSpec",
    "Kind",
    "Rule",
    "TableRule",
    "column_spec",
    "rule",
    "table_rules",
    "table_schema",
]

#: tables whose ``account_id`` must exist in ``accounts.account_id``
CHILD_TABLES: tuple[str, ...] = ("mrr", "usage", "tickets", "surveys", "trials", "interactions")
#: columns whose combination must be unique in each table (tables not listed have no key)
UNIQUE_KEYS: dict[str, tuple[str, ...]] = {
    "accounts": ("account_id",),
    "mrr": ("account_id", "month"),
    "usage": ("account_id", "month"),
    "tickets": ("ticket_id",),
    "surveys": ("response_id",),
    "costs": ("month",),
    "fx": ("currency", "month"),
}
#: what a currency code looks like (ISO 4217: three capital letters, e.g. USD, EUR, JPY)
CURRENCY_PATTERN = rf"^{CURRENCY_CODE}$"

#: how a column is parsed and stored:
#: ``id``/``str`` -> string (``str`` dtype); ``int`` -> int64; ``float`` -> float64;
#: ``date`` -> datetime64[ns]; ``month`` -> datetime64[ns] on the first day of the month;
#: ``bool`` -> bool
Kind = Literal["id", "str", "int", "float", "date", "month", "bool"]

_DTYPES: dict[str, str | type] = {
    "id": str,
    "str": str,
    "int": "int64",
    "float": "float64",
    "date": "datetime64[ns]",
    "month": "datetime64[ns]",
    "bool": bool,
}


@dataclass(frozen=True)
class Rule:
    """A value rule on one column, with the words to explain a failure.

    Parameters
    ----------
    key : str
        Unique identifier; also the pandera check's ``error`` text, so that a failure
        case can be traced back to its rule.
    message : str
        What the failing values break, e.g. ``"MRR must not be negative"``.
    fix : str
        What the user should do.
    check : pandera.Check
        The element-wise check.
    """

    key: str
    message: str
    fix: str
    check: pa.Check


@dataclass(frozen=True)
class TableRule:
    """A rule across several columns of one row (e.g. ``resolved_at >= opened_at``).

    Parameters
    ----------
    key : str
        Unique identifier and pandera ``error`` text.
    column : str
        The column a failure is reported on.
    needs : tuple of str
        Columns the rule reads; it is skipped when one is absent.
    message, fix : str
        Words for the user, as in :class:`Rule`.
    func : callable
        ``func(frame) -> boolean Series``, True where the row is valid. Rows with a
        missing value in a column it reads must be True (missing values are reported
        by the not-null check instead).
    """

    key: str
    column: str
    needs: tuple[str, ...]
    message: str
    fix: str
    func: Callable[[pd.DataFrame], pd.Series]

    @property
    def check(self) -> pa.Check:
        """The pandera wide check of this rule."""
        return pa.Check(self.func, error=self.key, name=self.key)


@dataclass(frozen=True)
class ColumnSpec:
    """One canonical column.

    Parameters
    ----------
    name : str
        Column name (snake_case, case-sensitive).
    kind : Kind
        How it is parsed and stored (see :data:`Kind`).
    nullable : bool
        Whether a value may be missing.
    required : bool
        Whether the column must be present in the file.
    rules : tuple of Rule
        Value rules beyond the type.
    description : str
        One line for the documentation.
    needed_for : str
        For an optional column: which analyses need it (they say so when it is
        absent), e.g. ``"--by region"``.
    """

    name: str
    kind: Kind
    nullable: bool = False
    required: bool = True
    rules: tuple[Rule, ...] = ()
    description: str = ""
    needed_for: str = ""


# ---------------------------------------------------------------------------------------
# rules


def _ge(table: str, column: str, bound: int, what: str) -> Rule:
    if bound == 0:
        message = f"{what} must not be negative"
        fix = f"correct the negative {column} values (use 0 for none)"
    else:
        message = f"{what} must be at least {bound}"
        fix = f"correct the {column} values to whole numbers >= {bound}"
    return Rule(
        key=f"{table}.{column}.ge{bound}",
        message=message,
        fix=fix,
        check=pa.Check.ge(bound, error=f"{table}.{column}.ge{bound}"),
    )


def _month_start(table: str) -> Rule:
    key = f"{table}.month.month_start"

    def is_month_start(s: pd.Series) -> pd.Series:
        return (s.dt.day == 1) & (s == s.dt.normalize())

    return Rule(
        key=key,
        message="months must be the first day of the month at midnight",
        fix="write months as YYYY-MM (e.g. 2024-03); cs_sim.io.load_dataset does this for you",
        check=pa.Check(is_month_start, element_wise=False, error=key),
    )


def _currency_rule(table: str, column: str = "currency") -> Rule:
    key = f"{table}.{column}.iso_code"
    return Rule(
        key=key,
        message="not a currency code (three capital letters, e.g. USD, EUR, JPY)",
        fix=f"write {column} as an ISO 4217 code in capitals, e.g. USD (not $ or usd)",
        check=pa.Check.str_matches(CURRENCY_PATTERN, error=key),
    )


def _currency(table: str) -> ColumnSpec:
    return ColumnSpec(
        "currency",
        "str",
        required=False,
        rules=(_currency_rule(table),),
        description="currency of the amounts on the row (ISO code, e.g. USD)",
        needed_for="datasets in more than one currency (with an fx table); shown with "
        "every money figure",
    )


_RATE = Rule(
    key="fx.rate.gt0",
    message="an exchange rate must be greater than 0",
    fix="write the rate as the amount of to_currency one unit of currency buys (> 0)",
    check=pa.Check.gt(0, error="fx.rate.gt0"),
)

_CONTRACT = Rule(
    key="accounts.contract.isin",
    message=f"contract must be {' or '.join(repr(c) for c in CONTRACT_TYPES)}",
    fix=f"write the contract as {' or '.join(CONTRACT_TYPES)} (lower case)",
    check=pa.Check.isin(CONTRACT_TYPES, error="accounts.contract.isin"),
)
_SURVEY_KIND = Rule(
    key="surveys.kind.isin",
    message=f"unknown survey kind (allowed: {', '.join(SURVEY_KINDS)})",
    fix=f"write the survey kind as {', '.join(SURVEY_KINDS[:-1])} or {SURVEY_KINDS[-1]} "
    "(lower case); drop other surveys",
    check=pa.Check.isin(SURVEY_KINDS, error="surveys.kind.isin"),
)


def _score_rule(kind: str, lo: int, hi: int) -> TableRule:
    def valid(df: pd.DataFrame) -> pd.Series:
        return df["score"].isna() | (df["kind"] != kind) | df["score"].between(lo, hi)

    return TableRule(
        key=f"surveys.score.{kind}_range",
        column="score",
        needs=("kind", "score"),
        message=f"{kind} scores must be between {lo} and {hi}",
        fix=f"correct these {kind} scores to whole numbers from {lo} to {hi}, "
        "or check the kind of these responses",
        func=valid,
    )


def _not_before(table: str, later: str, earlier: str, what: str) -> TableRule:
    def valid(df: pd.DataFrame) -> pd.Series:
        return df[later].isna() | df[earlier].isna() | (df[later] >= df[earlier])

    return TableRule(
        key=f"{table}.{later}.not_before_{earlier}",
        column=later,
        needs=(earlier, later),
        message=f"{later} is before {earlier}: {what}",
        fix=f"correct {later} or {earlier} on these lines ({later} must be on or after "
        f"{earlier})",
        func=valid,
    )


# ---------------------------------------------------------------------------------------
# the tables


def _id(name: str, description: str) -> ColumnSpec:
    return ColumnSpec(name, "id", description=description)


def _account_id() -> ColumnSpec:
    return _id("account_id", "account identifier (must exist in accounts)")


def _count(table: str, name: str, what: str, description: str, *, minimum: int = 0
           ) -> ColumnSpec:
    return ColumnSpec(
        name, "int", rules=(_ge(table, name, minimum, what),), description=description
    )


def _amount(table: str, name: str, what: str, description: str, **kw: bool) -> ColumnSpec:
    return ColumnSpec(
        name, "float", rules=(_ge(table, name, 0, what),), description=description, **kw
    )


#: table -> its canonical columns, in order
COLUMNS: dict[str, tuple[ColumnSpec, ...]] = {
    "accounts": (
        _id("account_id", "unique account identifier"),
        ColumnSpec("name", "str", nullable=True, required=False,
                   description="account (company) name", needed_for="reading reports"),
        ColumnSpec("industry", "str", nullable=True, required=False, description="industry",
                   needed_for="--by industry"),
        ColumnSpec("employees", "int", nullable=True, required=False,
                   rules=(_ge("accounts", "employees", 1, "employees"),),
                   description="number of employees (>= 1)",
                   needed_for="the simulator's seats when a run starts from your data "
                   "(1 is assumed without it); --by employees"),
        ColumnSpec("region", "str", nullable=True, required=False, description="sales region",
                   needed_for="--by region"),
        ColumnSpec("signup_date", "date", description="date the account signed up "
                   "(cohorts and renewal dates start here)"),
        ColumnSpec("plan", "str", nullable=True, required=False, description="price plan",
                   needed_for="--by plan"),
        ColumnSpec("contract", "str", rules=(_CONTRACT,), description="monthly or annual "
                   "(the renewal rate counts annual contracts)"),
        ColumnSpec("csm_id", "str", nullable=True, required=False,
                   description="assigned CSM, if any", needed_for="--by csm_id"),
    ),
    "mrr": (
        _account_id(),
        ColumnSpec("month", "month", rules=(_month_start("mrr"),), description="month"),
        _amount("mrr", "mrr", "MRR", "monthly recurring revenue (>= 0)"),
        _currency("mrr"),
    ),
    "usage": (
        _account_id(),
        ColumnSpec("month", "month", rules=(_month_start("usage"),), description="month"),
        _count("usage", "active_users", "active users", "users active in the month"),
        _count("usage", "seats", "seats", "seats licensed"),
        _count("usage", "sessions", "sessions", "sessions in the month"),
        _amount("usage", "minutes", "minutes", "minutes on the platform in the month"),
        _count("usage", "key_feature_events", "key feature events", "key-feature uses"),
        ColumnSpec("dau", "float", nullable=True, required=False,
                   rules=(_ge("usage", "dau", 0, "DAU"),),
                   description="mean daily active users in the month",
                   needed_for="stickiness (DAU/MAU)"),
        ColumnSpec("wau", "float", nullable=True, required=False,
                   rules=(_ge("usage", "wau", 0, "WAU"),),
                   description="mean weekly active users in the month",
                   needed_for="WAU/MAU"),
    ),
    "tickets": (
        _id("ticket_id", "unique ticket identifier"),
        _account_id(),
        ColumnSpec("opened_at", "date", description="when the ticket was opened"),
        ColumnSpec("resolved_at", "date", nullable=True, description="when resolved (if so)"),
        _count("tickets", "contacts_to_resolve", "contacts_to_resolve",
               "contacts needed to resolve (>= 1)", minimum=1),
        ColumnSpec("category", "str", nullable=True, description="ticket category"),
        _amount("tickets", "handle_minutes", "handle minutes", "agent minutes spent (>= 0)"),
    ),
    "surveys": (
        _id("response_id", "unique response identifier"),
        _account_id(),
        ColumnSpec("date", "date", description="date of the response"),
        ColumnSpec("kind", "str", rules=(_SURVEY_KIND,), description="nps, csat or ces"),
        ColumnSpec("score", "int", description="score on the kind's scale"),
        ColumnSpec("comment", "str", nullable=True, required=False,
                   description="open comment", needed_for="feedback themes"),
    ),
    "trials": (
        _account_id(),
        ColumnSpec("trial_start", "date", description="first day of the trial"),
        ColumnSpec("trial_end", "date", description="last day of the trial"),
        ColumnSpec("converted", "bool", description="whether the trial became a paid plan"),
    ),
    "interactions": (
        _account_id(),
        ColumnSpec("date", "date", description="date of the touchpoint"),
        ColumnSpec("kind", "str", description="onboarding, qbr, training, email, call, ..."),
        ColumnSpec("owner_team", "str", nullable=True, description="team that owned it"),
    ),
    "costs": (
        ColumnSpec("month", "month", rules=(_month_start("costs"),), description="month"),
        _amount("costs", "cs_cost", "cs_cost", "customer-success cost of the month"),
        _amount("costs", "support_cost", "support_cost", "support cost of the month"),
        _amount("costs", "tooling_cost", "tooling_cost", "tooling cost of the month"),
        _currency("costs"),
    ),
    "fx": (
        ColumnSpec("currency", "str", rules=(_currency_rule("fx"),),
                   description="the currency converted from (ISO code)"),
        ColumnSpec("to_currency", "str", rules=(_currency_rule("fx", "to_currency"),),
                   description="the reporting currency (one for the whole table)"),
        ColumnSpec("rate", "float", rules=(_RATE,),
                   description="amount of to_currency that one unit of currency buys"),
        ColumnSpec("month", "month", required=False, rules=(_month_start("fx"),),
                   description="month the rate applies to (without it: every month)",
                   needed_for="rates that change from month to month"),
    ),
}

_TABLE_RULES: dict[str, tuple[TableRule, ...]] = {
    "tickets": (
        _not_before(
            "tickets", "resolved_at", "opened_at", "a ticket cannot be resolved before it opens"
        ),
    ),
    "surveys": tuple(_score_rule(k, lo, hi) for k, (lo, hi) in SURVEY_SCALES.items()),
    "trials": (
        _not_before("trials", "trial_end", "trial_start", "a trial cannot end before it starts"),
    ),
}


def table_rules(table: str) -> tuple[TableRule, ...]:
    """Return the row-level rules across columns of ``table``.

    Parameters
    ----------
    table : str
        A canonical table name.

    Returns
    -------
    tuple of TableRule
    """
    return _TABLE_RULES.get(table, ())


def column_spec(table: str, column: str) -> ColumnSpec:
    """Return the specification of a canonical column.

    Parameters
    ----------
    table : str
        A canonical table name.
    column : str
        One of its canonical columns.

    Returns
    -------
    ColumnSpec

    Raises
    ------
    KeyError
        If the table or column is not canonical.
    """
    for spec in COLUMNS[table]:
        if spec.name == column:
            return spec
    raise KeyError(f"{table!r} has no canonical column {column!r}")


def _all_rules() -> dict[str, Rule | TableRule]:
    out: dict[str, Rule | TableRule] = {}
    for table, specs in COLUMNS.items():
        for spec in specs:
            for r in spec.rules:
                out[r.key] = r
        for tr in table_rules(table):
            out[tr.key] = tr
    return out


_RULES = _all_rules()


def rule(key: str) -> Rule | TableRule | None:
    """Return the rule whose pandera ``error`` text is ``key`` (None if there is none).

    Parameters
    ----------
    key : str
        The ``check`` entry of a pandera failure case.

    Returns
    -------
    Rule or TableRule or None
    """
    return _RULES.get(key)


@functools.lru_cache(maxsize=256)
def _cached_schema(
    table: str, columns: frozenset[str] | None, dtypes: bool
) -> pa.DataFrameSchema:
    specs = [s for s in COLUMNS[table] if columns is None or s.name in columns]
    present = {s.name for s in specs}
    cols = {
        s.name: pa.Column(
            _DTYPES[s.kind] if dtypes else None,
            checks=[r.check for r in s.rules],
            nullable=s.nullable,
            required=s.required if columns is None else True,
            coerce=False,
        )
        for s in specs
    }
    key = UNIQUE_KEYS.get(table)
    unique = list(key) if key and set(key) <= present else None
    checks = [r.check for r in table_rules(table) if set(r.needs) <= present]
    return pa.DataFrameSchema(
        cols,
        checks=checks,
        unique=unique,
        report_duplicates="exclude_first",
        strict=False,
        name=table,
    )


def table_schema(
    table: str, *, columns: Iterable[str] | None = None, dtypes: bool = True
) -> pa.DataFrameSchema:
    """Build the pandera schema of a canonical table.

    Parameters
    ----------
    table : str
        A canonical table name (see :data:`TABLES`).
    columns : iterable of str, optional
        Restrict the schema to these canonical columns (the others are left out, as
        are the keys and row rules that need them). By default every canonical column,
        optional columns not required.
    dtypes : bool, default True
        Check the loaded dtypes (int64, float64, datetime64[ns], str, bool). With False
        only values are checked (nulls, ranges, allowed values, keys, row rules).

    Returns
    -------
    pandera.DataFrameSchema
        Allows extra columns; duplicates are reported after their first occurrence.

    Raises
    ------
    KeyError
        If ``table`` is not canonical.
    """
    if table not in COLUMNS:
        raise KeyError(f"unknown table {table!r}; canonical tables: {', '.join(TABLES)}")
    cols = None if columns is None else frozenset(columns)
    return _cached_schema(table, cols, dtypes)


#: table -> pandera schema checking the loaded dtypes and the values
SCHEMAS: dict[str, pa.DataFrameSchema] = {t: table_schema(t) for t in TABLES}
ACCOUNTS_SCHEMA = SCHEMAS["accounts"]
MRR_SCHEMA = SCHEMAS["mrr"]
USAGE_SCHEMA = SCHEMAS["usage"]
TICKETS_SCHEMA = SCHEMAS["tickets"]
SURVEYS_SCHEMA = SCHEMAS["surveys"]
TRIALS_SCHEMA = SCHEMAS["trials"]
INTERACTIONS_SCHEMA = SCHEMAS["interactions"]
COSTS_SCHEMA = SCHEMAS["costs"]
FX_SCHEMA = SCHEMAS["fx"]
