"""``cs-sim report --compare-to``: what moved between two report runs (cs_sim.report._compare).

Independent truth: hand-built headline figures of two runs whose differences are worked
out by hand in the comments (NRR 90.0% -> 93.0% is +3.0 pp; a target "NRR >= 92%, higher
is better" is met at 93%), and the JSON that :func:`cs_sim.report.headlines` writes.
"""

from __future__ import annotations

import doctest
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from cs_sim.errors import ReportInputError
from cs_sim.report import _changes, _compare, headlines
from cs_sim.report._compare import compare_runs, read_run

EVIL = "<script>alert('x')</script>"
GONE = "<img src=x onerror=alert(1)>"


def _item(key: str, label: str, value, unit: str) -> dict:
    return {"key": key, "label": label, "value": value, "unit": unit}


def previous_headlines() -> dict:
    return {
        "03_kpi_baseline": {
            "stage": "03_kpi_baseline",
            "items": [
                _item("nrr", "NRR", 0.90, "pct"),
                _item("mrr", "MRR", 10000.0, "money"),
                _item("accounts", "Accounts", 120, "count"),
                _item("nps", "NPS", 20.0, "score"),
                _item("arpa", "ARPA", 80.0, "money"),
                _item("last_month", "Last month", "2025-01", "month"),
                _item("quick_ratio", "Quick ratio", 1.5, "ratio"),
            ],
            "segments": {"index": "segment", "units": {"nrr": "pct", "mrr": "money"},
                         "rows": [{"segment": "smb", "nrr": 0.85, "mrr": 4000.0},
                                  {"segment": "mid", "nrr": 0.95, "mrr": 6000.0},
                                  {"segment": EVIL, "nrr": 0.80, "mrr": 100.0},
                                  {"segment": GONE, "nrr": 0.70, "mrr": 50.0}]},
            "health_bands": {"index": "band", "units": {"churn_rate": "pct", "accounts": "count"},
                             "rows": [{"band": "red", "churn_rate": 0.20, "accounts": 30},
                                      {"band": "green", "churn_rate": 0.02, "accounts": 90}]},
            "targets": None,
        },
        "05_journey": {"stage": "05_journey", "items": [_item("ttv", "Time to value", 2.0,
                                                             "months")]},
        "06_what_if": None,  # failed in the earlier run
        "07_plan": {
            "stage": "07_plan", "items": [],
            "targets": [
                {"name": "NRR", "metric": "nrr", "target": 0.92, "value": 0.90, "unit": "pct",
                 "direction": "up"},
                {"name": "Logo churn", "metric": "logo_churn_rate", "target": 0.09,
                 "value": 0.10, "unit": "pct", "direction": "down"},
                {"name": "NPS", "metric": "nps", "target": 25.0, "value": 20.0,
                 "unit": "score", "direction": "up"},
                {"name": "CSAT", "metric": "csat", "target": 0.9, "value": 0.8, "unit": "pct",
                 "direction": "up"},
            ],
        },
    }


def current_headlines() -> dict:
    return {
        "01_research": {"stage": "01_research", "items": [_item("n", "Accounts", 3, "count")]},
        "03_kpi_baseline": {
            "stage": "03_kpi_baseline",
            "items": [
                _item("nrr", "NRR", 0.93, "pct"),
                _item("mrr", "MRR", 10500.0, "money"),
                _item("accounts", "Accounts", 118, "count"),
                _item("nps", "NPS", 22.5, "score"),
                _item("arpa", "ARPA", 1.2, "ratio"),  # the unit changed: no difference
                _item("last_month", "Last month", "2025-06", "month"),
                _item("grr", "GRR", 0.95, "pct"),
            ],
            "segments": {"index": "segment", "units": {"nrr": "pct", "mrr": "money"},
                         "rows": [{"segment": "smb", "nrr": 0.88, "mrr": 4200.0},
                                  {"segment": "mid", "nrr": 0.94, "mrr": 6300.0},
                                  {"segment": EVIL, "nrr": 0.81, "mrr": 120.0},
                                  {"segment": "enterprise", "nrr": 1.05, "mrr": 9000.0}]},
            "health_bands": {"index": "band", "units": {"churn_rate": "pct", "accounts": "count"},
                             "rows": [{"band": "red", "churn_rate": 0.25, "accounts": 20},
                                      {"band": "green", "churn_rate": 0.03, "accounts": 98}]},
        },
        "06_what_if": {"stage": "06_what_if", "items": [_item("roi", "ROI", 1.8, "ratio")]},
        "07_plan": {
            "stage": "07_plan", "items": [],
            "targets": [{"name": "Logo churn", "metric": "logo_churn_rate", "target": 0.08,
                         "value": 0.095, "unit": "pct", "direction": "down"}],
        },
    }


def write_run(folder: Path, heads: dict, manifest: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "headlines.json").write_text(json.dumps(heads), encoding="utf-8")
    if manifest is not None:
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


@pytest.fixture
def changes(tmp_path: Path) -> _changes.RunChanges:
    run = write_run(tmp_path / "demo" / "run-1", previous_headlines(),
                    {"run_id": "run-1", "created": "2025-02-01T09:00:00", "parameters": {}})
    return compare_runs(run, current_headlines())


def by_key(stage: _changes.StageChanges) -> dict[str, _changes.Change]:
    return {c.key: c for c in stage.items}


def test_items_in_both_runs_with_their_change_in_the_unit(changes) -> None:
    kpi = by_key(changes.stage("03_kpi_baseline"))
    # NRR 0.90 -> 0.93: +0.03, shown as +3.0 percentage points
    assert kpi["nrr"].change == pytest.approx(0.03)
    assert kpi["nrr"].texts() == ("90.0%", "93.0%", "+3.0 pp")
    assert kpi["mrr"].change == pytest.approx(500.0)
    assert kpi["mrr"].texts() == ("10,000", "10,500", "+500")
    assert kpi["accounts"].change == -2 and kpi["accounts"].texts()[2] == "-2"
    assert kpi["nps"].texts() == ("20.0", "22.5", "+2.5")
    # a month cannot be subtracted: shown as changed; a changed unit gives no difference
    assert kpi["last_month"].change is None and kpi["last_month"].texts()[2] == "changed"
    assert kpi["arpa"].change is None and kpi["arpa"].note == "unit was money"
    assert [c.key for c in changes.stage("03_kpi_baseline").items] == [
        "nrr", "mrr", "accounts", "nps", "arpa", "last_month"]  # the current run's order


def test_new_and_removed_items_and_stages(changes) -> None:
    kpi = changes.stage("03_kpi_baseline")
    assert [i["key"] for i in kpi.new] == ["grr"]
    assert [i["key"] for i in kpi.removed] == ["quick_ratio"]
    assert changes.stages_new == ("01_research", "06_what_if")  # 06 failed before: no figures
    assert changes.stages_missing == ("05_journey",)
    assert [s.stage for s in changes.stages] == ["03_kpi_baseline", "07_plan"]


def test_segments_and_health_bands_row_by_row(changes) -> None:
    seg = changes.stage("03_kpi_baseline").table("segments")
    cells = {(c.row, c.key): c for c in seg.cells}
    assert cells[("smb", "nrr")].change == pytest.approx(0.03)  # 85% -> 88%
    assert cells[("smb", "mrr")].change == pytest.approx(200.0)  # 4,000 -> 4,200
    assert cells[("mid", "nrr")].texts() == ("95.0%", "94.0%", "-1.0 pp")
    assert cells[(EVIL, "mrr")].change == pytest.approx(20.0)
    assert seg.added == ("enterprise",) and seg.removed == (GONE,)
    assert len(seg.cells) == 3 * 2  # three rows in both runs, two columns
    bands = changes.health_bands[0]
    cells = {(c.row, c.key): c for c in bands.cells}
    assert cells[("red", "churn_rate")].texts() == ("20.0%", "25.0%", "+5.0 pp")
    assert cells[("green", "accounts")].change == 8  # 90 -> 98
    assert changes.segments == (seg,)


def test_targets_of_the_earlier_plan_met_missed_or_not_measurable(changes) -> None:
    t = {c.name: c for c in changes.targets}
    # NRR >= 92%, higher is better: 93% now (the 03 headline) -> met, 150% of the way
    assert (t["NRR"].status, t["NRR"].now, t["NRR"].source) == (
        "met", 0.93, "03_kpi_baseline headline")
    assert t["NRR"].progress == pytest.approx((0.93 - 0.90) / (0.92 - 0.90))
    # logo churn <= 9%, lower is better: the current plan measured 9.5% -> missed
    assert (t["Logo churn"].status, t["Logo churn"].now, t["Logo churn"].source) == (
        "missed", 0.095, "07_plan target")
    assert t["Logo churn"].progress == pytest.approx(0.5)  # 10% -> 9.5% of 10% -> 9%
    # NPS >= 25: 22.5 now -> missed, half way from 20
    assert t["NPS"].status == "missed" and t["NPS"].progress == pytest.approx(0.5)
    assert t["CSAT"].status == "not measurable" and t["CSAT"].now is None
    assert changes.counts()["targets_met"] == 1
    assert changes.counts()["targets_missed"] == 2


@pytest.mark.parametrize(("target", "direction", "now", "status"), [
    # a plan adds 20 points to 10%: 0.1 + 0.2 is 0.30000000000000004, and 30% meets it
    (0.1 + 0.2, "up", 0.3, "met"), (0.3, "up", 0.2999, "missed"),
    # lower is better, a target of 0.7 + 0.1, which is 0.7999999999999999; 80% meets it
    (0.7 + 0.1, "down", 0.8, "met"), (0.8, "down", 0.8001, "missed"),
    (0.3, "sideways", 0.95, "not measurable"), (0.3, "up", None, "not measurable"),
])
def test_target_status_at_the_edge(tmp_path, target, direction, now, status) -> None:
    spec = {"name": "NRR", "metric": "nrr", "target": target, "value": 0.1, "unit": "pct",
            "direction": direction}
    run = write_run(tmp_path / "r", {"07_plan": {"items": [], "targets": [spec]}})
    res = compare_runs(run, {"03_kpi_baseline": {"items": [_item("nrr", "NRR", now, "pct")]}})
    assert res.targets[0].status == status


def test_to_dict_is_json_with_raw_numbers(changes) -> None:
    d = json.loads(json.dumps(changes.to_dict(), allow_nan=False))
    assert d["previous"]["run_id"] == "run-1"
    assert d["previous"]["created"] == "2025-02-01T09:00:00"
    nrr = next(i for i in d["stages"][0]["items"] if i["key"] == "nrr")
    assert (nrr["before"], nrr["after"]) == (0.90, 0.93)
    assert d["stages"][0]["segments"]["added"] == ["enterprise"]
    assert d["summary"] == {"items_compared": 6, "items_moved": 6, "targets_met": 1,
                            "targets_missed": 2, "targets_not_measurable": 1}
    assert [t["status"] for t in d["targets"]] == ["met", "missed", "missed", "not measurable"]


def test_frames(changes) -> None:
    items = changes.to_frame("items")
    assert items["status"].value_counts().to_dict() == {"both": 6, "new": 1, "removed": 1}
    row = items.set_index("key").loc["grr"]
    assert row["after"] == 0.95 and pd.isna(row["before"])
    seg = changes.to_frame("segments").set_index(["row", "column"])
    assert seg.loc[("smb", "mrr"), "before"] == 4000.0
    assert seg.loc[("smb", "mrr"), "change"] == pytest.approx(200.0)
    assert len(changes.to_frame("health_bands")) == 4
    targets = changes.to_frame("targets")
    assert targets["status"].tolist() == ["met", "missed", "missed", "not measurable"]
    with pytest.raises(ValueError, match="unknown table"):
        changes.to_frame("kpis")


def test_text_summary(changes) -> None:
    text = changes.to_text()
    assert text.startswith("What moved since run run-1, made 2025-02-01T09:00:00")
    assert "Plan targets: 1 met, 2 missed, 1 not measurable" in text
    assert re.search(r"NRR\s+90\.0%\s+93\.0%\s+\+3\.0 pp", text)
    assert re.search(r"smb · nrr\s+85\.0%\s+88\.0%\s+\+3\.0 pp", text)
    assert re.search(r"NRR\s+≥ 92\.0%\s+90\.0%\s+93\.0%\s+met", text)
    assert "new figures: GRR (95.0%)" in text
    assert "Stages with figures only in the earlier run: 05_journey" in text
    assert not re.search(r"\de[+-]\d", text)  # no scientific notation


def test_html_escapes_every_label(changes) -> None:
    html = changes.to_html()
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # a row that is gone, in a note
    assert html.startswith("<section") and html.endswith("</section>")
    assert "<td class='num up'>+3.0 pp</td>" in html
    assert "<td class='met'>met</td>" in html


def test_html_escapes_item_and_target_labels(tmp_path) -> None:
    item = _item("k", EVIL, 1.0, "ratio")
    target = {"name": EVIL, "metric": "k", "target": 2.0, "value": 1.0, "unit": "ratio",
              "direction": "up"}
    run = write_run(tmp_path / "r", {"s": {"items": [item], "targets": [target]}})
    html = compare_runs(run, {"s": {"items": [{**item, "value": 2.5}]}}).to_html()
    assert "<script" not in html and html.count("&lt;script&gt;") == 2


def test_headlines_written_by_the_notebooks_round_trip(tmp_path) -> None:
    """The JSON of cs_sim.report.headlines(...) (what the notebooks emit) is read back."""
    seg = pd.DataFrame({"nrr": [0.9, 1.1]}, index=pd.Index(["smb", EVIL], name="segment"))
    before = headlines("03_kpi_baseline", [("nrr", "NRR", 0.9, "pct")], segments=seg,
                       segment_units={"nrr": "pct"})
    after = headlines("03_kpi_baseline", [("nrr", "NRR", 0.875, "pct")],
                      segments=seg.assign(nrr=[0.95, 1.0]), segment_units={"nrr": "pct"})
    run = write_run(tmp_path / "r", {"03_kpi_baseline": before.to_dict()})
    res = compare_runs(run, {"03_kpi_baseline": after})
    assert res.stage("03_kpi_baseline").items[0].texts() == ("90.0%", "87.5%", "-2.5 pp")
    cells = {c.row: c for c in res.segments[0].cells}
    assert cells["smb"].change == pytest.approx(0.05)
    assert cells[EVIL].change == pytest.approx(-0.10)
    assert res.previous.run_id == "r"  # no manifest: the folder's name


def test_table_grouped_another_way_is_not_compared_row_by_row(tmp_path) -> None:
    old = {"index": "plan", "units": {}, "rows": [{"plan": "pro", "nrr": 0.9}]}
    new = {"index": "segment", "units": {}, "rows": [{"segment": "smb", "nrr": 0.9}]}
    run = write_run(tmp_path / "r", {"s": {"items": [], "segments": old}})
    t = compare_runs(run, {"s": {"items": [], "segments": new}}).segments[0]
    assert t.cells == () and t.added == ("smb",) and t.removed == ("pro",)
    assert t.note == "grouped by plan before and by segment now: rows not compared"


def test_a_file_of_the_run_means_its_folder(tmp_path) -> None:
    run = write_run(tmp_path / "r", previous_headlines(), {"id": "abc", "started": "today"})
    prev = read_run(run / "headlines.json")
    assert (prev.path, prev.run_id, prev.created) == (run, "abc", "today")
    assert list(prev.headlines) == ["03_kpi_baseline", "05_journey", "06_what_if", "07_plan"]


def test_missing_folder(tmp_path) -> None:
    with pytest.raises(ReportInputError) as err:
        read_run(tmp_path / "nope")
    msg = str(err.value)
    assert msg.startswith(f"{tmp_path / 'nope'}: --compare-to: no such folder; fix: ")
    assert "reports/<name>/<run-id>/" in msg and "headlines.json" in msg
    assert err.value.exit_code == 2


def test_folder_without_headlines_names_the_newest_run_below(tmp_path) -> None:
    write_run(tmp_path / "demo" / "20250101", {})
    with pytest.raises(ReportInputError) as err:
        compare_runs(tmp_path / "demo", {})
    msg = str(err.value)
    assert "not a report run, it has no headlines.json" in msg
    assert f"(the newest run there is {tmp_path / 'demo' / '20250101'})" in msg
    assert "fix: give the folder of an earlier run" in msg


@pytest.mark.parametrize(("files", "expected"), [
    ({"headlines.json": "{\"a\": [1,"}, r"headlines.json: not valid JSON at line 1, column"),
    ({"headlines.json": "3"}, r"headlines.json: expected an object \{stage: headline "
                              r"figures\}, got int"),
    ({"headlines.json": "[1]"}, r"headlines.json: a list must hold stage objects"),
    ({"headlines.json": '{"s": []}'}, r"headlines.json: s: expected headline figures"),
    ({"headlines.json": '{"s": {"items": 3}}'}, r"headlines.json: s.items: expected a list"),
    ({"headlines.json": '{"s": {"items": [{"key": "a", "value": 1, "unit": "furlong"}]}}'},
     r"s.items\[0\].unit: unknown unit 'furlong'; fix: use one of pct, money"),
    ({"headlines.json": "{}", "manifest.json": "{oops"}, r"manifest.json: not valid JSON"),
    ({"headlines.json": "{}", "manifest.json": "[]"}, r"manifest.json: expected a JSON object"),
])
def test_not_a_run(tmp_path, files, expected) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(ReportInputError, match=expected) as err:
        read_run(tmp_path)
    assert str(tmp_path) in str(err.value)


def test_an_empty_comparison_says_so(tmp_path) -> None:
    res = compare_runs(write_run(tmp_path / "r", {}), {})
    assert res.to_text().endswith("No headline figures to compare.")
    assert res.counts()["items_compared"] == 0 and res.to_dict()["stages"] == []


def test_examples_in_docstrings() -> None:
    result = doctest.testmod(_compare, raise_on_error=False)
    assert result.attempted > 0 and result.failed == 0
