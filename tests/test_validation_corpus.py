"""A corpus of malformed datasets: each must give exit code 2 and one clear message.

Every case starts from the valid base dataset of ``tests/_factories.py`` (whose line
numbers are written next to its lines) and breaks one thing. The expected file,
column and line numbers below were read off that base by hand, so they are an
independent check of the line-number bookkeeping in :mod:`cs_sim.io`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from _factories import BASE_FILES, hash_folder, write_files
from typer.testing import CliRunner

from cs_sim.cli import app
from cs_sim.errors import DataValidationError
from cs_sim.io import load_dataset, validate_dataset

Files = dict[str, str | bytes]


def set_line(name: str, line: int, text: str) -> Callable[[Files], None]:
    """Replace line ``line`` (1 = header) of file ``name``."""

    def mutate(files: Files) -> None:
        lines = str(files[name]).split("\n")
        lines[line - 1] = text
        files[name] = "\n".join(lines)

    return mutate


def set_lines(*changes: tuple[str, int, str]) -> Callable[[Files], None]:
    def mutate(files: Files) -> None:
        for name, line, text in changes:
            set_line(name, line, text)(files)

    return mutate


def rename(old: str, new: str) -> Callable[[Files], None]:
    def mutate(files: Files) -> None:
        files[new] = files.pop(old)

    return mutate


def put(name: str, content: str | bytes, *, drop: str | None = None) -> Callable[[Files], None]:
    def mutate(files: Files) -> None:
        if drop is not None:
            del files[drop]
        files[name] = content

    return mutate


def drop(name: str) -> Callable[[Files], None]:
    def mutate(files: Files) -> None:
        del files[name]

    return mutate


@dataclass(frozen=True)
class Case:
    """One malformed dataset and what its message must say."""

    id: str
    mutate: Callable[[Files], None]
    where: str  # the start of the problem's location, as Problem.location() renders it
    says: tuple[str, ...]  # texts the message must contain
    fix: str  # a text the fix must contain
    file: str | None = None  # the file named in the JSON output (None: the folder)
    column: str | None = None
    rows: tuple[int, ...] = field(default_factory=tuple)


def with_currency(codes: dict[int, str], *, default: str = "USD") -> Callable[[Files], None]:
    """Add a currency column to mrr.csv: ``default`` on every line but those of ``codes``."""

    def mutate(files: Files) -> None:
        lines = str(files["mrr.csv"]).rstrip("\n").split("\n")
        out = [lines[0] + ",currency"]
        out += [f"{text},{codes.get(i, default)}" for i, text in enumerate(lines[1:], 2)]
        files["mrr.csv"] = "\n".join(out) + "\n"

    return mutate


CASES: list[Case] = [
    # money: one currency per dataset, unless fx converts (mrr.csv lines 8-10 are A3's)
    Case(
        "two_currencies_without_fx",
        with_currency({8: "JPY", 9: "JPY", 10: "JPY"}),
        "mrr.csv, column 'currency', lines 8, 9, 10:",
        ("more than one currency in this dataset (USD on 8 rows, JPY on 3 rows)",
         "cannot be added up"),
        "or add an fx table (fx.csv",
        file="mrr.csv", column="currency", rows=(8, 9, 10),
    ),
    Case(
        "currency_symbol_not_code",
        with_currency({5: "$"}),
        "mrr.csv, column 'currency', line 5:",
        ("not a currency code",),
        "ISO 4217 code in capitals",
        file="mrr.csv", column="currency", rows=(5,),
    ),
    Case(
        "fx_without_the_rate_needed",
        lambda files: (with_currency({11: "EUR", 12: "EUR"})(files),
                       files.__setitem__("fx.csv", "currency,to_currency,rate\nGBP,USD,1.27\n")),
        "mrr.csv, column 'currency', lines 11, 12:",
        ("no exchange rate to USD for EUR",),
        "add a row to fx.csv for each of EUR",
        file="mrr.csv", column="currency", rows=(11, 12),
    ),
    Case(
        "required_table_missing",
        drop("mrr.csv"),
        "{folder}:",
        ("required table 'mrr' is missing", "mrr.csv or mrr.parquet"),
        "add mrr.csv",
    ),
    Case(
        "misspelled_table_file",
        rename("accounts.csv", "acounts.csv"),
        "acounts.csv:",
        ("did you mean 'accounts.csv'?",),
        "rename 'acounts.csv' to 'accounts.csv'",
        file="acounts.csv",
    ),
    Case(
        "spreadsheet_instead_of_csv",
        put("accounts.xlsx", b"PK\x03\x04 not really a workbook", drop="accounts.csv"),
        "accounts.xlsx:",
        ("is a spreadsheet",),
        "export it as accounts.csv",
        file="accounts.xlsx",
    ),
    Case(
        "both_csv_and_parquet",
        put("accounts.parquet", b"PAR1"),
        "{folder}:",
        ("both accounts.csv and accounts.parquet exist",),
        "keep only one",
    ),
    Case(
        "misspelled_column",
        set_line(
            "accounts.csv",
            1,
            "acount_id,name,industry,employees,region,signup_date,plan,contract,csm_id,segment",
        ),
        "accounts.csv, column 'acount_id', line 1",
        ("did you mean 'account_id'?",),
        "rename the column 'acount_id' to 'account_id'",
        file="accounts.csv",
        column="acount_id",
        rows=(1,),
    ),
    Case(
        "column_case_differs",
        set_line("mrr.csv", 1, "account_id,month,MRR"),
        "mrr.csv, column 'MRR', line 1",
        ("should be named 'mrr'",),
        "rename the column 'MRR' to 'mrr'",
        file="mrr.csv",
        column="MRR",
        rows=(1,),
    ),
    Case(
        "optional_column_case_differs",
        set_line(
            "usage.csv",
            1,
            "account_id,month,active_users,seats,sessions,minutes,key_feature_events,DAU",
        ),
        "usage.csv, column 'DAU', line 1",
        ("should be named 'dau'",),
        "rename the column 'DAU' to 'dau'",
        file="usage.csv",
        column="DAU",
        rows=(1,),
    ),
    Case(
        "required_column_absent",
        set_lines(*[("costs.csv", i, t) for i, t in [
            (1, "month,cs_cost,support_cost"),
            (2, "2024-01,8000,3000"),
            (3, "2024-02,8000,3200"),
            (4, "2024-03,8500,3100"),
        ]]),
        "costs.csv, column 'tooling_cost', line 1",
        ("required column 'tooling_cost' is missing",),
        "add a column 'tooling_cost'",
        file="costs.csv",
        column="tooling_cost",
        rows=(1,),
    ),
    Case(
        "non_numeric_mrr",
        set_line("mrr.csv", 4, "A1,2024-03,abc"),
        "mrr.csv, column 'mrr', line 4:",
        ("is not a number", "'abc'"),
        "write plain numbers",
        file="mrr.csv",
        column="mrr",
        rows=(4,),
    ),
    Case(
        "non_integer_employees",
        set_line("accounts.csv", 3, "A2,Beta,retail,15.5,NA,2023-02-03,basic,monthly,,smb"),
        "accounts.csv, column 'employees', line 3:",
        ("not a whole number", "'15.5'"),
        "write whole numbers",
        file="accounts.csv",
        column="employees",
        rows=(3,),
    ),
    Case(
        "unparseable_date",
        set_line("accounts.csv", 5, "A4,Delta,software,40,EMEA,04/01/2023,basic,monthly,,smb"),
        "accounts.csv, column 'signup_date', line 5:",
        ("not a date", "'04/01/2023'"),
        "YYYY-MM-DD",
        file="accounts.csv",
        column="signup_date",
        rows=(5,),
    ),
    Case(
        "unparseable_months",
        set_lines(("mrr.csv", 2, "A1,March 2024,1000"), ("mrr.csv", 11, "A4,2024-13,200")),
        "mrr.csv, column 'month', lines 2, 11:",
        ("2 values are not a month", "'March 2024'", "'2024-13'"),
        "YYYY-MM",
        file="mrr.csv",
        column="month",
        rows=(2, 11),
    ),
    Case(
        "missing_required_value",
        set_line("mrr.csv", 6, ",2024-02,100"),
        "mrr.csv, column 'account_id', line 6:",
        ("missing",),
        "fill in account_id",
        file="mrr.csv",
        column="account_id",
        rows=(6,),
    ),
    Case(
        "negative_mrr",
        set_lines(("mrr.csv", 7, "A2,2024-03,-5"), ("mrr.csv", 9, "A3,2024-02-01,-4500.5")),
        "mrr.csv, column 'mrr', lines 7, 9:",
        ("MRR must not be negative", "'-5'", "'-4500.5'"),
        "correct the negative mrr values",
        file="mrr.csv",
        column="mrr",
        rows=(7, 9),
    ),
    Case(
        "negative_count",
        set_line("usage.csv", 4, "A2,2024-01,5,-10,60,800,12,2"),
        "usage.csv, column 'seats', line 4:",
        ("seats must not be negative", "'-10'"),
        "correct the negative seats values",
        file="usage.csv",
        column="seats",
        rows=(4,),
    ),
    Case(
        "nps_score_out_of_range",
        set_line("surveys.csv", 2, "R1,A1,2024-01-20,nps,11,great"),
        "surveys.csv, column 'score', line 2:",
        ("nps scores must be between 0 and 10", "score=11"),
        "whole numbers from 0 to 10",
        file="surveys.csv",
        column="score",
        rows=(2,),
    ),
    Case(
        # the comment of R2 spans lines 3-4, so R3 is on line 5
        "csat_score_out_of_range_after_multiline_value",
        set_line("surveys.csv", 5, "R3,A3,2024-02-02,csat,6,"),
        "surveys.csv, column 'score', line 5:",
        ("csat scores must be between 1 and 5",),
        "whole numbers from 1 to 5",
        file="surveys.csv",
        column="score",
        rows=(5,),
    ),
    Case(
        "ces_score_out_of_range",
        set_line("surveys.csv", 6, "R4,A1,2024-02-03,ces,0,"),
        "surveys.csv, column 'score', line 6:",
        ("ces scores must be between 1 and 7",),
        "whole numbers from 1 to 7",
        file="surveys.csv",
        column="score",
        rows=(6,),
    ),
    Case(
        "unknown_survey_kind",
        set_line("surveys.csv", 7, "R5,A4,2024-03-04,NPS,10,"),
        "surveys.csv, column 'kind', line 7:",
        ("unknown survey kind", "'NPS'"),
        "nps, csat or ces",
        file="surveys.csv",
        column="kind",
        rows=(7,),
    ),
    Case(
        "unknown_contract",
        set_line("accounts.csv", 2, "A1,Acme,software,120,EMEA,2023-01-15,pro,yearly,C1,mid"),
        "accounts.csv, column 'contract', line 2:",
        ("'monthly' or 'annual'", "'yearly'"),
        "monthly or annual",
        file="accounts.csv",
        column="contract",
        rows=(2,),
    ),
    Case(
        "contacts_to_resolve_below_one",
        set_line("tickets.csv", 4, "T3,A2,2024-02-11,,0,how-to,10"),
        "tickets.csv, column 'contacts_to_resolve', line 4:",
        ("must be at least 1", "'0'"),
        ">= 1",
        file="tickets.csv",
        column="contacts_to_resolve",
        rows=(4,),
    ),
    Case(
        "resolved_before_opened",
        set_line("tickets.csv", 3, "T2,A1,2024-02-10,2024-02-01,2,bug,60.5"),
        "tickets.csv, column 'resolved_at', line 3:",
        ("resolved_at is before opened_at", "opened_at=2024-02-10, resolved_at=2024-02-01"),
        "resolved_at must be on or after opened_at",
        file="tickets.csv",
        column="resolved_at",
        rows=(3,),
    ),
    Case(
        "trial_end_before_start",
        set_line("trials.csv", 3, "P5,2024-02-10,2024-02-01,false"),
        "trials.csv, column 'trial_end', line 3:",
        ("trial_end is before trial_start",),
        "trial_end must be on or after trial_start",
        file="trials.csv",
        column="trial_end",
        rows=(3,),
    ),
    Case(
        "unparseable_boolean",
        set_line("trials.csv", 2, "A4,2024-01-01,2024-01-31,maybe"),
        "trials.csv, column 'converted', line 2:",
        ("not true or false", "'maybe'"),
        "write true or false",
        file="trials.csv",
        column="converted",
        rows=(2,),
    ),
    Case(
        # 2024-02-15 is normalised to the month 2024-02, which line 11 already has
        "duplicate_mrr_account_month",
        set_line("mrr.csv", 12, "A4,2024-02-15,300"),
        "mrr.csv, line 12:",
        ("duplicate (account_id, month) pair", "(A4, 2024-02-01)"),
        "keep one row per (account_id, month)",
        file="mrr.csv",
        rows=(12,),
    ),
    Case(
        "duplicate_ticket_id",
        set_line("tickets.csv", 5, "T2,A3,2024-03-01,2024-03-01,1,,5"),
        "tickets.csv, column 'ticket_id', line 5:",
        ("duplicate ticket_id", "e.g. T2"),
        "keep one row per ticket_id",
        file="tickets.csv",
        column="ticket_id",
        rows=(5,),
    ),
    Case(
        "duplicate_costs_month",
        set_line("costs.csv", 3, "2024-01-20,8000,3200,500"),
        "costs.csv, column 'month', line 3:",
        ("duplicate month", "2024-01-01"),
        "keep one row per month",
        file="costs.csv",
        column="month",
        rows=(3,),
    ),
    Case(
        "orphan_account",
        set_line("usage.csv", 5, "Z9,2024-01,300,400,8000,90000,2500,150"),
        "usage.csv, column 'account_id', line 5:",
        ("not found in accounts.csv", "'Z9'"),
        "add these accounts to accounts.csv",
        file="usage.csv",
        column="account_id",
        rows=(5,),
    ),
    Case(
        "empty_file",
        put("mrr.csv", b""),
        "mrr.csv:",
        ("the file is empty (0 bytes)",),
        "export the mrr table again",
        file="mrr.csv",
    ),
    Case(
        "required_table_header_only",
        put("accounts.csv", BASE_FILES["accounts.csv"].split("\n")[0] + "\n"),
        "accounts.csv:",
        ("header but no data rows",),
        "add the accounts rows",
        file="accounts.csv",
    ),
    Case(
        "not_utf8",
        put(
            "accounts.csv",
            BASE_FILES["accounts.csv"].replace("finance", "finan\u00e7e").encode("latin-1"),
        ),
        "accounts.csv, line 4:",
        ("not UTF-8", "0xe7"),
        "re-save the file as UTF-8",
        file="accounts.csv",
        rows=(4,),
    ),
    Case(
        "ragged_rows",
        set_lines(
            ("tickets.csv", 3, "T2,A1,2024-02-10,2024-02-12,2,bug,60.5,extra"),
            ("tickets.csv", 5, "T4,A3,2024-03-01"),
        ),
        "tickets.csv, lines 3, 5:",
        ("header has 7 columns, line 3 has 8 values",),
        "one value per header column",
        file="tickets.csv",
        rows=(3, 5),
    ),
    Case(
        "ragged_row_in_quoted_file",
        set_line("surveys.csv", 6, "R4,A1,2024-02-03,ces"),
        "surveys.csv, line 6:",
        ("header has 6 columns, line 6 has 4 values",),
        "one value per header column",
        file="surveys.csv",
        rows=(6,),
    ),
    Case(
        "semicolon_separated",
        put("mrr.csv", BASE_FILES["mrr.csv"].replace(",", ";")),
        "mrr.csv, line 1:",
        ("separated by semicolons",),
        "comma-separated",
        file="mrr.csv",
        rows=(1,),
    ),
    Case(
        "duplicate_header_column",
        put("costs.csv", "month,cs_cost,support_cost,tooling_cost,cs_cost\n2024-01,1,2,3,4\n"),
        "costs.csv, column 'cs_cost', line 1:",
        ("appears more than once",),
        "remove or rename the duplicate",
        file="costs.csv",
        column="cs_cost",
        rows=(1,),
    ),
    Case(
        "unreadable_parquet",
        put("costs.parquet", b"PAR1 this is not a parquet file", drop="costs.csv"),
        "costs.parquet:",
        ("cannot be read as Parquet",),
        "export the costs table again",
        file="costs.parquet",
    ),
    Case(
        "workbook_named_csv",
        put("interactions.csv", b"PK\x03\x04\x14\x00\x06\x00"),
        "interactions.csv:",
        ("Excel workbook",),
        "save it as CSV",
        file="interactions.csv",
    ),
]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _build(tmp_path: Path, case: Case) -> Path:
    files: Files = dict(BASE_FILES)
    case.mutate(files)
    return write_files(tmp_path / "ds", files)


def test_base_dataset_is_valid(tmp_path: Path) -> None:
    # the corpus is only meaningful if the unbroken base passes
    assert validate_dataset(write_files(tmp_path / "ds", dict(BASE_FILES))) == []


def test_corpus_is_large_and_distinct() -> None:
    assert len(CASES) >= 15
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_cli_reports_case(tmp_path: Path, runner: CliRunner, case: Case) -> None:
    folder = _build(tmp_path, case)
    before = hash_folder(folder)

    result = runner.invoke(app, ["validate", str(folder)])

    assert result.exit_code == 2, result.output
    out = result.output
    assert "Traceback" not in out
    assert result.exception is None or isinstance(result.exception, SystemExit)
    # exactly one problem, rendered with its location, message and fix
    assert "1 problem found" in out, out
    where = case.where.format(folder=folder)
    assert f"- {where}" in out, out
    for text in case.says:
        assert text in out, out
    fix_line = next(line for line in out.splitlines() if line.strip().startswith("fix:"))
    assert case.fix in fix_line, out
    assert hash_folder(folder) == before  # input files untouched


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_json_reports_case(tmp_path: Path, runner: CliRunner, case: Case) -> None:
    folder = _build(tmp_path, case)

    result = runner.invoke(app, ["validate", str(folder), "--json"])

    assert result.exit_code == 2, result.output
    problems = json.loads(result.stdout)
    assert len(problems) == 1, problems
    (p,) = problems
    assert p["file"] == (case.file if case.file is not None else str(folder))
    assert p["column"] == case.column
    assert tuple(p["rows"]) == case.rows
    assert p["n_rows"] == len(case.rows)
    assert case.fix in p["fix"]


def test_load_dataset_raises_with_every_problem(tmp_path: Path) -> None:
    files: Files = dict(BASE_FILES)
    set_line("mrr.csv", 7, "A2,2024-03,-5")(files)  # negative MRR
    set_line("accounts.csv", 5, "A4,Delta,software,40,EMEA,04/01/2023,basic,monthly,,smb")(files)
    set_line("usage.csv", 1, "account_id,month,active_users,seats,sesions,minutes,"
             "key_feature_events,dau")(files)  # misspelled column
    set_line("surveys.csv", 7, "R5,Z1,2024-03-04,nps,12,")(files)  # orphan + out of range
    files["interactions.csv"] = BASE_FILES["interactions.csv"].replace("qbr", "qbr\u00e9").encode(
        "cp1252"
    )
    folder = write_files(tmp_path / "ds", files)
    before = hash_folder(folder)

    with pytest.raises(DataValidationError) as info:
        load_dataset(folder)

    found = {(p.file, p.column, p.rows) for p in info.value.problems}
    assert found == {
        ("mrr.csv", "mrr", (7,)),
        ("accounts.csv", "signup_date", (5,)),
        ("usage.csv", "sesions", (1,)),
        ("surveys.csv", "score", (7,)),
        ("surveys.csv", "account_id", (7,)),
        ("interactions.csv", None, (3,)),
    }
    assert str(info.value).startswith(f"6 problems found in dataset '{folder}'")
    assert hash_folder(folder) == before


def test_missing_folder(tmp_path: Path, runner: CliRunner) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "the dataset folder does not exist" in result.output
    assert "Traceback" not in result.output


def test_file_instead_of_folder(tmp_path: Path, runner: CliRunner) -> None:
    folder = write_files(tmp_path / "ds", dict(BASE_FILES))
    result = runner.invoke(app, ["validate", str(folder / "mrr.csv")])
    assert result.exit_code == 2
    assert "this is a file, not a dataset folder" in result.output
    assert f"give the folder that holds it, '{folder}'" in result.output


def test_many_offending_rows_are_counted(tmp_path: Path) -> None:
    # 30 bad lines: the message shows the first 5 and says how many more
    body = "".join(f"A1,2024-{m:02d},x\n" for m in range(1, 13)) + "".join(
        f"A2,20{y}-01,x\n" for y in range(10, 28)
    )
    files: Files = dict(BASE_FILES, **{"mrr.csv": "account_id,month,mrr\n" + body})
    (problem,) = validate_dataset(write_files(tmp_path / "ds", files))
    assert problem.n_rows == 30
    assert problem.rows == tuple(range(2, 32))
    assert problem.render().startswith("mrr.csv, column 'mrr', lines 2, 3, 4, 5, 6 (and 25 more)")
