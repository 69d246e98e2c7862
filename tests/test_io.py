"""Tests of cs_sim.io and cs_sim.schema on valid data: parsing, dtypes, round trips.

The malformed datasets live in tests/test_validation_corpus.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
from _factories import BASE_FILES, hash_folder, large_tables, write_files
from pandas.testing import assert_frame_equal
from typer.testing import CliRunner

from cs_sim import schema
from cs_sim.cli import app
from cs_sim.errors import CsSimError, DataValidationError, MissingTableError, Problem
from cs_sim.io import Dataset, load_dataset, validate_dataset, write_dataset

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return write_files(tmp_path / "base", dict(BASE_FILES))


# ---------------------------------------------------------------------------------------
# parsing and dtypes


def test_loaded_dtypes_follow_the_contract(base: Path) -> None:
    ds = load_dataset(base)
    for name, frame in ds.tables().items():
        for spec in schema.COLUMNS[name]:
            if spec.name not in frame:
                assert not spec.required
                continue
            dtype = frame[spec.name].dtype
            expected = {
                "id": "str",
                "str": "str",
                "int": "int64",
                "float": "float64",
                "date": "datetime64[ns]",
                "month": "datetime64[ns]",
                "bool": "bool",
            }[spec.kind]
            assert str(dtype) == expected, (name, spec.name, dtype)
        # the typed pandera schema accepts what the loader produces
        schema.SCHEMAS[name].validate(frame)
        assert isinstance(frame.index, pd.RangeIndex)


def test_values_are_parsed_as_written(base: Path) -> None:
    ds = load_dataset(base)
    acc = ds.accounts.set_index("account_id")
    # "NA" is a region (North America style code), not a missing value, in a text column
    assert acc.loc["A2", "region"] == "NA"
    assert acc.loc["A3", "name"] == "Gamma, Inc."
    assert pd.isna(acc.loc["A2", "csm_id"])  # empty field -> missing
    assert acc.loc["A1", "employees"] == 120
    assert acc.loc["A1", "signup_date"] == pd.Timestamp("2023-01-15")
    assert list(ds.accounts.columns)[-1] == "segment"  # extra column kept
    assert acc.loc["A3", "segment"] == "ent"
    # months "2024-01" and "2024-01-01" are the same month
    a3 = ds.mrr[ds.mrr.account_id == "A3"]
    assert a3.month.tolist() == list(pd.date_range("2024-01-01", periods=3, freq="MS"))
    assert ds.mrr.mrr.sum() == pytest.approx(
        1000 + 1000 + 1200 + 100 + 100 + 0 + 5000 + 4500.5 + 4500.5 + 200 + 250
    )
    # an empty optional number is missing; times of day are kept
    assert np.isnan(ds.usage.dau.iloc[1])
    assert ds.tickets.opened_at.iloc[0] == pd.Timestamp("2024-01-05 09:00")
    assert pd.isna(ds.tickets.resolved_at.iloc[2])
    # the comment spanning two lines is one value
    assert ds.surveys.comment.iloc[1] == "slow,\nbuggy"
    assert ds.trials.converted.tolist() == [True, False, True]  # "true", "false", "Yes"


def test_month_of_any_day_is_normalised(tmp_path: Path) -> None:
    files = dict(BASE_FILES)
    files["costs.csv"] = (
        "month,cs_cost,support_cost,tooling_cost\n"
        "2024-01-31,1,2,3\n2024-02-01T00:00:00,1,2,3\n2024-03-15 13:45,1,2,3\n"
    )
    ds = load_dataset(write_files(tmp_path / "ds", files))
    assert ds.costs.month.tolist() == list(pd.date_range("2024-01-01", periods=3, freq="MS"))


def test_na_tokens_and_whitespace_in_number_columns(tmp_path: Path) -> None:
    files = dict(BASE_FILES)
    files["usage.csv"] = (
        "account_id,month,active_users,seats,sessions,minutes,key_feature_events,dau\n"
        "A1,2024-01, 40 ,50,900,12000.5,300,N/A\n"
        "A2,2024-01,5,10,60,8e2,12.0,null\n"
    )
    ds = load_dataset(write_files(tmp_path / "ds", files))
    assert ds.usage.active_users.tolist() == [40, 5]
    assert ds.usage.minutes.tolist() == [12000.5, 800.0]
    assert ds.usage.key_feature_events.tolist() == [300, 12]  # "12.0" is a whole number
    assert ds.usage.dau.isna().all()


@pytest.mark.parametrize(
    "transform",
    [
        pytest.param(lambda b: b"\xef\xbb\xbf" + b, id="utf8-bom"),
        pytest.param(lambda b: b.replace(b"\n", b"\r\n"), id="crlf"),
        pytest.param(lambda b: b.replace(b"\n", b"\n\n"), id="blank-lines"),
        pytest.param(lambda b: b.rstrip(b"\n"), id="no-final-newline"),
    ],
)
def test_harmless_file_variants_are_accepted(tmp_path: Path, transform) -> None:
    files = {name: transform(text.encode()) for name, text in BASE_FILES.items()}
    ds = load_dataset(write_files(tmp_path / "ds", files))
    ref = load_dataset(write_files(tmp_path / "ref", dict(BASE_FILES)))
    for name, frame in ref.tables().items():
        got = ds.tables()[name]
        if name == "surveys":  # a line break inside a quoted value is part of the value
            got = got.assign(comment=got.comment.str.replace(r"(\r?\n)+", "\n", regex=True))
        assert_frame_equal(got, frame)


def test_line_numbers_count_blank_lines_and_crlf(tmp_path: Path) -> None:
    # with a blank line after every line, data line k of the base is on line 2k-1
    files = {n: t.replace("\n", "\r\n\r\n") for n, t in BASE_FILES.items()}
    files["mrr.csv"] = files["mrr.csv"].replace("A2,2024-02,100", "A2,2024-02,-1")  # line 6
    (problem,) = validate_dataset(write_files(tmp_path / "ds", files))
    assert (problem.file, problem.column, problem.rows) == ("mrr.csv", "mrr", (11,))


def test_optional_tables_may_be_absent_or_empty(tmp_path: Path) -> None:
    files = {"accounts.csv": BASE_FILES["accounts.csv"], "mrr.csv": BASE_FILES["mrr.csv"]}
    files["usage.csv"] = BASE_FILES["usage.csv"].split("\n")[0] + "\n"  # header only
    ds = load_dataset(write_files(tmp_path / "ds", files))
    assert list(ds.tables()) == ["accounts", "mrr", "usage"]
    assert len(ds.usage) == 0
    assert str(ds.usage.seats.dtype) == "int64"
    assert str(ds.usage.month.dtype) == "datetime64[ns]"
    assert ds.tickets is None and ds.costs is None


def test_unrelated_files_are_ignored(base: Path) -> None:
    (base / "README.md").write_text("notes")
    (base / "mrr_2019_backup.csv").write_text("whatever,1\n")
    (base / "tickets.xlsx").write_bytes(b"PK\x03\x04")  # tickets.csv exists: ignored
    (base / "sub").mkdir()
    assert validate_dataset(base) == []


def test_parquet_problems_name_rows_not_lines(tmp_path: Path) -> None:
    ds = load_dataset(write_files(tmp_path / "csv", dict(BASE_FILES)))
    folder = write_dataset(ds, tmp_path / "pq", format="parquet")
    mrr = pd.read_parquet(folder / "mrr.parquet")
    mrr.loc[2, "mrr"] = -1.0  # the third row
    mrr.to_parquet(folder / "mrr.parquet", index=False)
    (problem,) = validate_dataset(folder)
    assert problem.render().startswith("mrr.parquet, column 'mrr', row 3:")


def test_parquet_with_date_objects_and_numeric_ids(tmp_path: Path) -> None:
    folder = tmp_path / "pq"
    folder.mkdir()
    pd.DataFrame(
        {
            "account_id": [1, 2],
            "name": ["a", "b"],
            "industry": ["x", "y"],
            "employees": [3, 4],
            "region": ["EMEA", None],
            "signup_date": [pd.Timestamp("2024-01-05").date(), pd.Timestamp("2024-02-05").date()],
            "plan": ["p", "p"],
            "contract": ["annual", "monthly"],
            "csm_id": [None, None],
        }
    ).to_parquet(folder / "accounts.parquet")
    pd.DataFrame(
        {"account_id": ["1", "2"], "month": pd.to_datetime(["2024-01-20", "2024-02-01"]),
         "mrr": [10, 20]}
    ).to_parquet(folder / "mrr.parquet")
    ds = load_dataset(folder)
    assert ds.accounts.account_id.tolist() == ["1", "2"]
    assert str(ds.accounts.signup_date.dtype) == "datetime64[ns]"
    assert ds.mrr.month.tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")]
    assert ds.mrr.mrr.dtype == np.float64


# ---------------------------------------------------------------------------------------
# writing and round trips


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_round_trip(tmp_path: Path, base: Path, fmt: str) -> None:
    ds = load_dataset(base)
    out = write_dataset(ds, tmp_path / "out", format=fmt)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{n}.{fmt}" for n in ds.tables()
    )
    back = load_dataset(out)
    assert list(back.tables()) == list(ds.tables())
    for name, frame in ds.tables().items():
        assert_frame_equal(back.tables()[name], frame, check_exact=True)


def test_write_refuses_to_mix_with_existing_tables(tmp_path: Path, base: Path) -> None:
    ds = load_dataset(base)
    out = write_dataset(ds, tmp_path / "out", format="csv")
    with pytest.raises(CsSimError, match="already holds table files"):
        write_dataset(ds, out, format="parquet")
    (out / "notes.txt").write_text("keep me")
    small = Dataset(accounts=ds.accounts, mrr=ds.mrr)
    write_dataset(small, out, format="parquet", overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == [
        "accounts.parquet",
        "mrr.parquet",
        "notes.txt",
    ]
    assert load_dataset(out).usage is None


def test_write_rejects_unknown_format(tmp_path: Path, base: Path) -> None:
    from cs_sim.errors import FileFormatError

    with pytest.raises(FileFormatError, match=r"format: must be 'csv' or 'parquet' \(got 'xlsx'\)"
                       ) as info:
        write_dataset(load_dataset(base), tmp_path / "x", format="xlsx")  # type: ignore[arg-type]
    assert isinstance(info.value, CsSimError) and isinstance(info.value, ValueError)
    assert not (tmp_path / "x").exists()  # checked before anything is written


def test_tables_module_is_the_one_source() -> None:
    """schema and io read the table list, formats and scales from cs_sim.tables."""
    from cs_sim import tables

    assert tables.TABLES == ("accounts", "mrr", "usage", "tickets", "surveys", "trials",
                             "interactions", "costs", "fx")
    assert tables.REQUIRED_TABLES == ("accounts", "mrr")
    assert tables.OPTIONAL_TABLES == ("usage", "tickets", "surveys", "trials", "interactions",
                                      "costs", "fx")
    assert tables.FILE_FORMATS == ("csv", "parquet")
    assert tables.CONTRACT_TYPES == ("monthly", "annual")
    assert tables.SURVEY_SCALES == {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
    assert tables.SURVEY_KINDS == ("nps", "csat", "ces")
    for name in ("TABLES", "REQUIRED_TABLES", "OPTIONAL_TABLES", "FILE_FORMATS",
                 "CONTRACT_TYPES", "SURVEY_SCALES"):
        assert getattr(schema, name) is getattr(tables, name), name
    assert tables.check_file_format("csv") == "csv"
    code = "import sys, cs_sim.tables; print(sorted({'pandas', 'pandera'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_large_dataset_round_trip(tmp_path: Path) -> None:
    # speed is measured in benchmarks/bench_io.py, not here
    tables = large_tables(2000, 36, seed=1)
    ds = Dataset(**tables)
    folder = write_dataset(ds, tmp_path / "big", format="csv")
    back = load_dataset(folder)
    assert len(back.mrr) == 72_000 and len(back.tickets) == 30_000
    for name, frame in tables.items():
        assert_frame_equal(back.tables()[name], frame, check_exact=True)


def test_large_dataset_problems_are_all_counted(tmp_path: Path) -> None:
    tables = large_tables(2000, 36, seed=2)
    tables["mrr"].loc[::7, "mrr"] = -1.0  # 10,286 bad rows: rows 0, 7, 14, ... -> lines 2, 9, ...
    folder = write_dataset(Dataset(**tables), tmp_path / "big")
    (problem,) = validate_dataset(folder)
    assert problem.n_rows == len(range(0, 72_000, 7))
    assert problem.rows[:3] == (2, 9, 16)


# ---------------------------------------------------------------------------------------
# Dataset, schema and errors


def test_dataset_tables_and_require(base: Path) -> None:
    ds = load_dataset(base)
    assert list(ds.tables()) == [t for t in schema.TABLES if t != "fx"]  # base has no fx
    assert ds.require("usage") is ds.usage
    small = Dataset(accounts=ds.accounts, mrr=ds.mrr, source="somewhere")
    with pytest.raises(MissingTableError) as info:
        small.require("usage")
    assert isinstance(info.value, CsSimError)
    assert "needs the optional table 'usage' (usage.csv or usage.parquet)" in str(info.value)
    assert "somewhere" in str(info.value)
    with pytest.raises(ValueError, match="unknown table"):
        small.require("usgae")
    assert repr(small) == (
        f"Dataset('somewhere', accounts: {len(ds.accounts)} rows, mrr: {len(ds.mrr)} rows)"
    )


def test_dataset_table_names_match_schema() -> None:
    fields = [f for f in Dataset.__dataclass_fields__
              if f not in ("source", "currency", "warnings")]
    assert tuple(fields) == schema.TABLES
    assert set(schema.REQUIRED_TABLES) | set(schema.OPTIONAL_TABLES) == set(schema.TABLES)
    assert set(schema.CHILD_TABLES) == {
        t for t in schema.TABLES if "account_id" in [c.name for c in schema.COLUMNS[t]]
    } - {"accounts"}


def test_typed_schema_rejects_wrong_dtypes_and_values() -> None:
    mrr = pd.DataFrame(
        {
            "account_id": pd.Series(["A", "A"], dtype="str"),
            "month": pd.to_datetime(["2024-01-01", "2024-01-15"]).astype("datetime64[ns]"),
            "mrr": [1.0, -2.0],
        }
    )
    with pytest.raises(pa.errors.SchemaErrors) as info:
        schema.MRR_SCHEMA.validate(mrr, lazy=True)
    checks = set(info.value.failure_cases["check"])
    assert checks == {"mrr.month.month_start", "mrr.mrr.ge0"}
    with pytest.raises(pa.errors.SchemaError):
        schema.MRR_SCHEMA.validate(mrr.assign(mrr=[1, 2]))  # int64, not float64


def test_problem_render_and_dict() -> None:
    p = Problem("mrr.csv", "bad", "fix it", column="mrr", rows=(4,), n_rows=1)
    assert p.render() == "mrr.csv, column 'mrr', line 4: bad\n    fix: fix it"
    assert p.to_dict() == {
        "file": "mrr.csv", "column": "mrr", "unit": "line", "rows": [4], "n_rows": 1,
        "message": "bad", "fix": "fix it",
    }
    assert Problem("f", "m", "x").render() == "f: m\n    fix: x"


def test_validation_error_lists_all(tmp_path: Path) -> None:
    err = DataValidationError([Problem("a", "m1", "f1"), Problem("b", "m2", "f2")], source="d")
    assert str(err) == (
        "2 problems found in dataset 'd':\n  - a: m1\n    fix: f1\n  - b: m2\n    fix: f2"
    )


def test_importing_io_does_not_import_pandera() -> None:
    code = "import sys, cs_sim.io; print('pandera' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------------------
# CLI


def test_cli_ok(base: Path) -> None:
    (base / "trials.csv").unlink()
    (base / "costs.csv").unlink()
    before = hash_folder(base)
    result = CliRunner().invoke(app, ["validate", str(base)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        f"OK: {base} (accounts: 5 rows, mrr: 11 rows, usage: 5 rows, tickets: 4 rows, "
        "surveys: 5 rows, interactions: 3 rows; optional tables absent: trials, costs)"
    )
    assert hash_folder(base) == before


def test_cli_json_ok_and_help(base: Path) -> None:
    result = CliRunner().invoke(app, ["validate", str(base), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []
    result = CliRunner().invoke(app, ["validate", "--help"])
    assert result.exit_code == 0
    assert "--json" in result.output


def test_example_dataset_loads() -> None:
    folder = REPO / "data" / "example"
    if not (folder / "accounts.csv").exists():
        pytest.skip("data/example not there yet")
    ds = load_dataset(folder)
    assert len(ds.accounts) >= 12
    assert validate_dataset(folder) == []


# ---------------------------------------------------------------------------------------
# required and optional columns, stated once


def test_readme_column_table_is_the_schema() -> None:
    """The README's table of required and optional columns says what schema.py says."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    rows = {}
    for line in readme.split("| table | required columns | optional columns |")[1].splitlines()[2:]:
        if not line.startswith("|"):
            break
        table, required, optional = (c.strip() for c in line.strip("|").split("|"))
        rows[table] = (required, optional)
    assert list(rows) == list(schema.TABLES)
    for table, specs in schema.COLUMNS.items():
        req = ", ".join(s.name for s in specs if s.required)
        opt = ", ".join(s.name for s in specs if not s.required) or "-"
        assert rows[table] == (req, opt), table
    for name in ("employees", "region", "industry", "plan", "csm_id"):
        spec = schema.column_spec("accounts", name)
        assert not spec.required and spec.needed_for, name


def test_accounts_with_only_the_required_columns_load(tmp_path: Path) -> None:
    files = dict(BASE_FILES)
    acc = pd.read_csv(write_files(tmp_path / "b", files) / "accounts.csv")
    files["accounts.csv"] = acc[["account_id", "signup_date", "contract"]].to_csv(index=False)
    ds = load_dataset(write_files(tmp_path / "ds", files))
    assert list(ds.accounts.columns) == ["account_id", "signup_date", "contract"]
    # an optional whole-number column with gaps is a nullable integer, not a float
    files["accounts.csv"] = acc.assign(employees=[120, None, 800, 40, 8]).to_csv(index=False)
    ds = load_dataset(write_files(tmp_path / "ds2", files))
    assert str(ds.accounts["employees"].dtype) == "Int64"
    assert ds.accounts["employees"].isna().tolist() == [False, True, False, False, False]


# ---------------------------------------------------------------------------------------
# money: currency and fx


def _with_currency(tmp_path: Path, codes: list[str], fx: str | None) -> Path:
    files = dict(BASE_FILES)
    mrr = pd.read_csv(write_files(tmp_path / "b", dict(BASE_FILES)) / "mrr.csv", dtype=str)
    files["mrr.csv"] = mrr.assign(currency=codes).to_csv(index=False)
    if fx is not None:
        files["fx.csv"] = fx
    return write_files(tmp_path / "ds", files)


def test_one_currency_is_the_dataset_currency(tmp_path: Path) -> None:
    ds = load_dataset(_with_currency(tmp_path, ["EUR"] * 11, None))
    assert ds.currency == "EUR" and "mrr_original" not in ds.mrr
    assert load_dataset(write_files(tmp_path / "none", dict(BASE_FILES))).currency is None


def test_fx_converts_to_the_reporting_currency(tmp_path: Path) -> None:
    # base mrr lines 2-12: A1 x3, A2 x3, A3 x3 (5000, 4500.5, 4500.5), A4 x2
    codes = ["USD"] * 6 + ["JPY"] * 3 + ["EUR"] * 2
    fx = ("currency,to_currency,rate,month\n"
          "JPY,USD,0.0070,2024-01\nJPY,USD,0.0068,2024-02\nJPY,USD,0.0066,2024-03\n"
          "EUR,USD,1.10,2024-02\nEUR,USD,1.08,2024-03\n")
    ds = load_dataset(_with_currency(tmp_path, codes, fx))
    assert ds.currency == "USD"
    a3 = ds.mrr[ds.mrr["account_id"] == "A3"]
    assert a3["mrr"].tolist() == pytest.approx([5000 * 0.0070, 4500.5 * 0.0068,
                                                4500.5 * 0.0066])
    assert a3["mrr_original"].tolist() == [5000, 4500.5, 4500.5]
    assert set(a3["currency_original"]) == {"JPY"} and set(ds.mrr["currency"]) == {"USD"}
    a4 = ds.mrr[ds.mrr["account_id"] == "A4"]
    assert a4["mrr"].tolist() == pytest.approx([200 * 1.10, 250 * 1.08])
    a1 = ds.mrr[ds.mrr["account_id"] == "A1"]
    assert a1["mrr"].tolist() == [1000, 1000, 1200]  # already in USD
    # one rate per currency, without months
    ds = load_dataset(_with_currency(tmp_path / "flat", codes,
                                     "currency,to_currency,rate\nJPY,USD,0.007\nEUR,USD,1.1\n"))
    assert ds.mrr.loc[ds.mrr["account_id"] == "A4", "mrr"].tolist() == pytest.approx(
        [220.0, 275.0])


def test_fx_problems_name_the_rows_and_the_fix(tmp_path: Path) -> None:
    codes = ["USD"] * 9 + ["EUR"] * 2
    fx = "currency,to_currency,rate\nEUR,USD,1.1\nEUR,GBP,0.85\n"
    problems = validate_dataset(_with_currency(tmp_path, codes, fx))
    assert len(problems) == 1
    assert problems[0].file == "fx.csv" and problems[0].rows == (3,)
    assert "fx converts to more than one currency" in problems[0].message


def test_gap_months_and_zero_closing_months_are_warnings(tmp_path: Path) -> None:
    files = dict(BASE_FILES)
    files["mrr.csv"] = ("account_id,month,mrr\nA1,2024-01,100\nA1,2024-03,100\n"
                        "A2,2024-03,50\nA1,2024-04,0\nA2,2024-04,0\n")
    ds = load_dataset(write_files(tmp_path / "ds", files))
    assert len(ds.warnings) == 2
    assert ds.warnings[0].startswith("mrr.csv has no rows for 2024-02 (the data run from "
                                     "2024-01 to 2024-04)")
    assert ds.warnings[1].startswith("mrr.csv: in the last month, 2024-04, every row has MRR "
                                     "0 (2 rows; 2 accounts paid in 2024-03)")
