"""`cs-sim import`: a client's messy exports, through a mapping, into a canonical dataset.

The independent truth is the fixture script ``tests/_messy_export.py``: it draws one set
of canonical tables and writes them twice, as a client's systems export them (dd/mm/yyyy
dates, "1,200", "$356.70", "n/a", "SMB"/"Mid-Market" labels, an extra segment column,
an Excel sheet and a Parquet file) and as the hand-cleaned canonical copy. Importing the
first must give exactly the second, and the same KPIs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _factories import hash_folder
from _messy_export import MAPPING, build
from pandas.testing import assert_frame_equal
from typer.testing import CliRunner

import cs_sim
from cs_sim.baseline import kpi_baseline
from cs_sim.cli import app
from cs_sim.errors import DataValidationError, MappingError
from cs_sim.io.intake import import_dataset
from cs_sim.io.mapping import load_mapping, mapping_from_dict, mapping_json_schema_text

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory):
    return build(tmp_path_factory.mktemp("export"))


@pytest.fixture(scope="module")
def imported(export, tmp_path_factory: pytest.TempPathFactory):
    before = hash_folder(export.messy)
    out = tmp_path_factory.mktemp("imported") / "dataset"
    result = import_dataset(export.messy, export.mapping, out)
    assert hash_folder(export.messy) == before  # the source is never modified
    return result


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[sorted(frame.columns)]


def test_messy_export_imports_to_the_hand_cleaned_copy(export, imported) -> None:
    ours = cs_sim.load_dataset(imported.out)
    clean = cs_sim.load_dataset(export.clean)
    assert set(ours.tables()) == set(clean.tables()) == {"accounts", "mrr", "surveys", "costs"}
    for name, frame in clean.tables().items():
        assert_frame_equal(_sorted(ours.tables()[name]), _sorted(frame), check_dtype=True)
    assert ours.currency == clean.currency == "USD"


@pytest.mark.parametrize("by", [None, "segment", "plan"])
def test_messy_export_gives_the_same_kpis(export, imported, by) -> None:
    ours = kpi_baseline(cs_sim.load_dataset(imported.out), by=by)
    clean = kpi_baseline(cs_sim.load_dataset(export.clean), by=by)
    assert_frame_equal(ours.headline, clean.headline)
    assert_frame_equal(ours.bridge, clean.bridge)
    assert_frame_equal(ours.monthly, clean.monthly)
    if by == "segment":  # the extra column, its labels mapped, segments the baseline
        assert ours.segments == ["all", "enterprise", "mid_market", "smb"]


def test_every_transformation_is_logged_with_its_rows(export, imported) -> None:
    truth = export.truth
    steps = {(s.table, s.action, s.column, s.detail): s for s in imported.steps}
    acc, mrr = truth["accounts"], truth["mrr"]
    # 'n/a' for the unknown regions and sizes: exactly the missing values of the truth
    assert steps[("accounts", "missing", "region", "'n/a' -> empty (missing)")].rows == int(
        acc["region"].isna().sum())
    assert steps[("accounts", "missing", "employees", "'n/a' -> empty (missing)")].rows == int(
        acc["employees"].isna().sum())
    assert steps[("accounts", "thousands", "employees",
                  "thousands separator ',' removed")].rows == int((acc["employees"] >= 1000).sum())
    assert steps[("accounts", "values", "segment", "'SMB' -> smb")].rows == int(
        (acc["segment"] == "smb").sum())
    assert steps[("accounts", "values", "segment", "'Mid-Market' -> mid_market")].rows == int(
        (acc["segment"] == "mid_market").sum())
    assert steps[("mrr", "symbols", "mrr", "'$' removed")].rows == len(mrr)
    assert steps[("mrr", "thousands", "mrr", "thousands separator ',' removed")].rows == int(
        (mrr["mrr"] >= 1000).sum())
    assert steps[("mrr", "dates", "month", "read as %d/%m/%Y -> YYYY-MM")].rows == len(mrr)
    assert steps[("mrr", "fill", "currency", "new column, every row = USD")].rows == len(mrr)
    rename = steps[("accounts", "rename", "segment", "'Segment' -> segment (extra column kept)")]
    assert rename.action == "rename"
    # rows are named as the source numbers them: CSV lines (header = 1), Excel sheet rows
    first_na = int(np.flatnonzero(acc["region"].isna().to_numpy())[0])
    assert steps[("accounts", "missing", "region", "'n/a' -> empty (missing)")].where[0] == \
        first_na + 2
    assert steps[("surveys", "values", "kind", "'NPS' -> nps")].unit == "row"
    # the logs in the output folder
    log = json.loads((imported.out / "import_log.json").read_text())
    assert log["rows"] == {"accounts": 200, "mrr": len(mrr), "surveys": 300, "costs": 24}
    assert len(log["steps"]) == len(imported.steps)
    text = (imported.out / "import_log.txt").read_text()
    assert f"symbols   mrr: '$' removed on {len(mrr):,} rows (lines 2, 3, 4, 5, 6, ...)" in text
    assert (imported.out / "import_mapping.yaml").read_text() == MAPPING


def test_import_problems_name_the_source_file_column_and_lines(export, tmp_path) -> None:
    messy = tmp_path / "messy"
    messy.mkdir()
    for f in export.messy.iterdir():
        (messy / f.name).write_bytes(f.read_bytes())
    acc = pd.read_csv(messy / "crm_accounts.csv", dtype=str, keep_default_na=False)
    acc.loc[3, "Billing"] = "Quarterly"  # not in the value map: line 5
    acc.loc[6, "Signup Date"] = "2023-02-30"  # not dd/mm/yyyy: line 8
    acc.to_csv(messy / "crm_accounts.csv", index=False)
    out = tmp_path / "out"
    with pytest.raises(DataValidationError) as err:
        import_dataset(messy, export.mapping, out)
    (p,) = err.value.problems
    assert (p.file, p.rows, p.unit) == ("crm_accounts.csv", (8,), "line")
    assert p.location() == "crm_accounts.csv, column 'Signup Date' -> 'signup_date', line 8"
    assert "do not match the date format '%d/%m/%Y' of the mapping: '2023-02-30'" in p.message
    assert not out.exists()
    acc.loc[6, "Signup Date"] = "28/02/2023"
    acc.to_csv(messy / "crm_accounts.csv", index=False)
    with pytest.raises(DataValidationError) as err:
        import_dataset(messy, export.mapping, out)
    (p,) = err.value.problems
    assert p.file == "crm_accounts.csv (accounts)" and p.rows == (5,)
    assert p.column == "Billing' -> 'contract"
    assert "contract must be 'monthly' or 'annual'" in p.message
    assert not out.exists() and not list(tmp_path.glob(".out.import-*"))


def test_mapping_errors_say_where_and_suggest(export, tmp_path) -> None:
    bad = MAPPING.replace("thousands:", "thousand:")
    with pytest.raises(MappingError, match=r"defaults.thousand: unknown key; did you mean "
                                           r"'thousands'\?"):
        mapping_from_dict(__import__("yaml").safe_load(bad), source="map.yaml")
    with pytest.raises(MappingError, match=r"tables.mrr.columns.revenue: not a column of mrr"):
        mapping_from_dict({"tables": {"accounts": {"file": "a.csv"}, "mrr": {
            "file": "m.csv", "columns": {"revenue": "MRR"}}}})
    (tmp_path / "map.yaml").write_text(MAPPING.replace("mrr: MRR}", "mrr: MMR}"))
    with pytest.raises(MappingError, match=r"'billing_mrr.csv' has no column 'MMR'; did you "
                                           r"mean 'MRR'\?"):
        import_dataset(export.messy, tmp_path / "map.yaml", tmp_path / "out")
    (tmp_path / "map2.yaml").write_text(MAPPING.replace("billing_mrr.csv", "billing.csv"))
    with pytest.raises(MappingError, match=r"tables.mrr.file: 'billing.csv' is not a file"):
        import_dataset(export.messy, tmp_path / "map2.yaml", tmp_path / "out")


def test_output_folder_is_replaced_only_with_force(export, tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(MappingError, match="is not empty; choose a new folder or use --force"):
        import_dataset(export.messy, export.mapping, out)
    assert (out / "keep.txt").exists()
    result = import_dataset(export.messy, export.mapping, out, format="parquet", force=True)
    assert not (out / "keep.txt").exists()
    assert (out / "mrr.parquet").exists() and not (out / "mrr.csv").exists()
    assert cs_sim.load_dataset(out).currency == "USD" and result.rows["accounts"] == 200


def test_cli_import(export, tmp_path) -> None:
    runner = CliRunner()
    out = tmp_path / "out"
    res = runner.invoke(app, ["import", str(export.messy), "--map", str(export.mapping),
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert res.output.startswith(f"imported 4 tables into {out} (accounts 200, mrr ")
    res = runner.invoke(app, ["import", str(export.messy), "--map", str(export.mapping),
                              "--out", str(out)])
    assert res.exit_code == 2 and "use --force" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["import", str(export.messy), "--map", str(ROOT / "nope.yaml"),
                              "--out", str(tmp_path / "o2")])
    assert res.exit_code == 2 and "file not found" in res.output


def test_template_is_valid_and_its_schema_is_current() -> None:
    committed = (TEMPLATES / "import_mapping.schema.json").read_text(encoding="utf-8")
    assert committed == mapping_json_schema_text(), (
        "regenerate: python -c \"from cs_sim.io.mapping import mapping_json_schema_text;"
        " open('templates/import_mapping.schema.json','w').write(mapping_json_schema_text())\""
    )
    mapping = load_mapping(TEMPLATES / "import_mapping.yaml")
    assert list(mapping.tables.present()) == ["accounts", "mrr", "surveys"]
    opts = mapping.tables.surveys.resolved(mapping.defaults)
    assert (opts.date_format, opts.thousands) == ("%Y-%m-%d", ",")  # own value, then default
    schema = json.loads(committed)
    assert schema["additionalProperties"] is False
