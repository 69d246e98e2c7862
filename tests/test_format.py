"""cs_sim.format: how figures are shown, checked against strings written by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from cs_sim.format import (
    UNITS,
    count,
    fmt,
    format_frame,
    money,
    percent,
    style_frame,
    text_table,
    to_jsonable,
    write_files,
)


@pytest.mark.parametrize(
    ("value", "unit", "diff", "shown"),
    [
        (0.9254, "pct", False, "92.5%"),
        (-0.0123, "pct", True, "-1.2 pp"),
        (1234567.891, "money", False, "1,234,568"),
        (-250.0, "money", True, "-250"),
        (1234.4, "count", False, "1,234"),
        (2.5, "count", False, "3"),  # half away from zero
        (-2.5, "count", True, "-3"),
        (26.64, "score", False, "26.6"),
        (1.4, "score", True, "+1.4"),
        (0.55, "months", False, "0.6 months"),
        (1.854, "ratio", False, "1.85"),
        (1234.567, "number", False, "1,234.57"),
        (pd.Timestamp("2025-01-01"), "month", False, "2025-01"),
        (float("nan"), "pct", False, "n/a"),
        (None, "money", False, "n/a"),
        (pd.NaT, "month", False, "n/a"),
        (float("inf"), "ratio", False, "inf"),
        (np.float64(0.5), "pct", False, "50.0%"),
    ],
)
def test_fmt_shows_each_unit(value, unit, diff, shown) -> None:
    assert fmt(value, unit, diff=diff) == shown


def test_digits_currency_and_zero() -> None:
    assert fmt(-0.0003, "pct", diff=True, digits=2) == "-0.03 pp"
    assert fmt(1.23456, "ratio", digits=3) == "1.235"
    assert money(5500, currency="USD", digits=2) == "5,500.00 USD"
    assert money(-0.2) == "0" and money(0.0, diff=True) == "+0"
    assert percent(0.05, digits=0) == "5%" and count(3, diff=True) == "+3"
    with pytest.raises(ValueError, match="unknown unit"):
        fmt(1.0, "furlongs")
    assert "month" in UNITS


def test_format_frame_by_column_and_by_row() -> None:
    frame = pd.DataFrame({"value": [0.925, 1234.5], "other": [0.01, 2.0]},
                         index=["grr", "mrr"])
    by_row = format_frame(frame, row_units={"grr": "pct", "mrr": "money"})
    assert by_row.loc["grr"].tolist() == ["92.5%", "1.0%"]
    assert by_row.loc["mrr"].tolist() == ["1,234", "2"]
    by_col = format_frame(frame, {"value": "pct"}, diff_columns=("value",))
    assert by_col["value"].tolist() == ["+92.5 pp", "+123450.0 pp"]
    assert by_col["other"].tolist() == [0.01, 2.0]  # unnamed columns are left alone
    assert frame["value"].tolist() == [0.925, 1234.5]  # the input is not changed


def test_text_table_aligns_figures() -> None:
    frame = pd.DataFrame({"month": pd.to_datetime(["2025-01-01", "2025-02-01"]),
                          "mrr": [5250.0, 15500.4], "nrr": [1.031, 0.9]})
    lines = text_table(frame, {"month": "month", "mrr": "money", "nrr": "pct"},
                       index=False).splitlines()
    assert lines[0].split() == ["month", "mrr", "nrr"]
    assert lines[1].split() == ["2025-01", "5,250", "103.1%"]
    assert lines[2].split() == ["2025-02", "15,500", "90.0%"]
    assert len({len(ln) for ln in lines}) == 1  # aligned columns


def test_style_frame_shows_units_in_html() -> None:
    frame = pd.DataFrame({"all": [0.925, 6550.0]}, index=["NRR", "MRR"])
    html = style_frame(frame, row_units={"NRR": "pct", "MRR": "money"}, caption="KPIs").to_html()
    assert "92.5%" in html and "6,550" in html and "KPIs" in html
    assert "0.925" not in html


def test_to_jsonable_keeps_raw_numbers() -> None:
    data = {"a": np.float64(0.5), "b": [np.nan, np.int64(3)], "c": float("inf"),
            "m": pd.Timestamp("2025-03-01"), "d": pd.Timestamp("2025-03-15 10:00")}
    out = to_jsonable(data)
    assert out == {"a": 0.5, "b": [None, 3], "c": None, "m": "2025-03",
                   "d": "2025-03-15T10:00:00"}
    assert json.loads(json.dumps(out, allow_nan=False)) == out
    assert type(out["b"][1]) is int and not math.isnan(out["a"])


def test_write_files(tmp_path) -> None:
    written = write_files(tmp_path / "new", {"a.txt": "x\n", "b.csv": "1,2\n"})
    assert [p.name for p in written] == ["a.txt", "b.csv"]
    assert (tmp_path / "new" / "b.csv").read_text() == "1,2\n"
