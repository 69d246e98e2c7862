"""``cs-sim report --grid``: the grid file, running many parameter sets, the comparison page.

Independent truth: grid files written here with their faults known in advance, the
bundled template checked against the notebooks' own parameter cells, functions whose
results are known (squares, a division by zero), and figures formatted by hand
(0.934 is 93.4%, 1234567.8 money is 1,234,568).
"""

from __future__ import annotations

import doctest
import json
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pydantic import ValidationError

from cs_sim.errors import ReportInputError
from cs_sim.report import _grid
from cs_sim.report._grid import grid_page, load_grid, map_runs

ROOT = Path(__file__).resolve().parents[1]
EVIL = "<script>alert('x')</script>"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the file
def test_bundled_template_fits_the_data_and_the_notebooks() -> None:
    grid = load_grid(ROOT / "templates" / "report_grid.yaml")
    assert grid.names == ["sample", "sample_more_csms", "example"]
    for run in grid.runs:
        params = grid.params_for(run)
        assert (ROOT / params["data"] / "accounts.csv").is_file()
        for stage, values in params.get("stages", {}).items():
            nb = json.loads((ROOT / "notebooks" / f"{stage}.ipynb").read_text("utf-8"))
            cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
            declared = {line.split(":")[0].strip() for line in "".join(cell["source"]).splitlines()
                        if ":" in line and not line.startswith("#")}
            assert set(values) <= declared, (run.name, stage)
            for path in values.get("variant_paths", []):
                assert (ROOT / path).is_file()


def test_base_is_read_next_to_the_grid_and_merged_key_by_key(tmp_path) -> None:
    write(tmp_path / "report.yaml", "data: data/sample\nname: q3\n"
          "stages:\n  06_what_if: {replications: 10, seed: 1, variant_paths: [a.yaml, b.yaml]}\n")
    grid = load_grid(write(tmp_path / "grid.yaml", (
        "title: Q3\nbase: report.yaml\nruns:\n"
        "  - name: a\n"
        "    params: {stages: {06_what_if: {replications: 5, variant_paths: [c.yaml]}}}\n"
        "  - name: b\n    description: as the base\n")))
    assert grid.base == (tmp_path / "report.yaml").resolve()
    assert grid.params_for("a") == {
        "data": "data/sample", "name": "q3",
        "stages": {"06_what_if": {"replications": 5, "seed": 1, "variant_paths": ["c.yaml"]}}}
    assert grid.params_for(grid.runs[1]) == grid.base_params()
    assert grid.runs[0].params == {"stages": {"06_what_if": {"replications": 5,
                                                             "variant_paths": ["c.yaml"]}}}
    with pytest.raises(ValidationError):
        grid.title = "changed"  # frozen


def test_base_from_the_repository_root(tmp_path) -> None:
    grid = load_grid(write(tmp_path / "g.yaml", "base: templates/report_grid.yaml\n"
                                                "runs: [{name: a}]\n"))
    assert grid.base == (ROOT / "templates" / "report_grid.yaml").resolve()


def test_missing_base(tmp_path) -> None:
    g = write(tmp_path / "g.yaml", "base: nowhere.yaml\nruns: [{name: a}]\n")
    with pytest.raises(ReportInputError) as err:
        load_grid(g)
    msg = str(err.value)
    assert msg.startswith(f"{g}: base: report parameter file 'nowhere.yaml' not found")
    assert str(tmp_path / "nowhere.yaml") in msg
    assert "fix: give its path relative to the grid file or the repository root" in msg


@pytest.mark.parametrize(("text", "expected"), [
    ("runs:\n  - name: a\n    parms: {data: data/sample}\n",
     "g.yaml: runs[0].parms: unknown key; did you mean 'params'?; fix: use one of name, "
     "params, description (see templates/report_grid.yaml)"),
    ("bsae: report.yaml\nruns: [{name: a}]\n",
     "g.yaml: bsae: unknown key; did you mean 'base'?; fix: use one of title, base, runs"),
    ("runs: [{name: a}, {name: b}, {name: a}]\n",
     "g.yaml: runs[2].name: 'a' is also the name of runs[0]; fix: give every run its own "
     "name"),
    ("runs: [{name: Client}, {name: client}]\n",
     "g.yaml: runs[1].name: 'client' differs only in case from 'Client', the name of runs[0]"),
    ("runs: []\n", "g.yaml: runs: lists no run; fix: add at least one run"),
    ("title: x\n", "g.yaml: runs: required key is missing; fix: add 'runs' with a list of runs"),
    ("runs: [{params: {}}]\n", "g.yaml: runs[0].name: required key is missing"),
    ("runs: [{name: 2024}]\n", "g.yaml: runs[0].name: must be text (got 2024); fix: put the "
                               "value in quotes"),
    ("runs: [{name: a, params: [1]}]\n", "g.yaml: runs[0].params: must be a mapping"),
    ("runs: {name: a}\n", "g.yaml: runs: must be a list"),
    ("runs: [{name: a}\n", "g.yaml: not valid YAML at line 2, column 1"),
    ("- a\n", "g.yaml: the report grid must be a YAML mapping"),
])
def test_bad_grid_files(tmp_path, text, expected) -> None:
    g = write(tmp_path / "g.yaml", text)
    with pytest.raises(ReportInputError) as err:
        load_grid(g)
    assert str(err.value).replace(str(g), "g.yaml").startswith(expected)
    assert err.value.exit_code == 2


@pytest.mark.parametrize("name", ["a/b", "../up", "", ".hidden", "x.", "two words", "é",
                                  "a\\b", "x" * 81])
def test_names_that_cannot_be_folders(tmp_path, name) -> None:
    g = write(tmp_path / "g.yaml", f"runs:\n  - name: {json.dumps(name)}\n")
    with pytest.raises(ReportInputError) as err:
        load_grid(g)
    assert str(err.value) == (
        f"{g}: runs[0].name: {name!r} cannot be a folder name; fix: use up to 80 letters, "
        "digits, '_', '-' and '.', starting with a letter or digit (e.g. 'sample_10pct')")


def test_device_names_are_refused(tmp_path) -> None:
    with pytest.raises(ReportInputError, match=r"runs\[0\].name: 'NUL.txt' is a device name"):
        load_grid(write(tmp_path / "g.yaml", "runs: [{name: NUL.txt}]\n"))


def test_safe_names_pass(tmp_path) -> None:
    grid = load_grid(write(tmp_path / "g.yaml", "runs: [{name: sample_10pct}, {name: v1.2-b}, "
                                                "{name: '2024'}, {name: console}]\n"))
    assert grid.names == ["sample_10pct", "v1.2-b", "2024", "console"]


def test_missing_grid_file(tmp_path) -> None:
    with pytest.raises(ReportInputError) as err:
        load_grid(tmp_path / "nope.yaml")
    assert str(err.value) == (f"{tmp_path / 'nope.yaml'}: cannot read the report grid: file "
                              "not found; fix: give the path of a grid YAML file (see "
                              "templates/report_grid.yaml)")
    with pytest.raises(ReportInputError, match="is a folder"):
        load_grid(tmp_path)


# --------------------------------------------------------------------------- running
def square(x: int) -> int:
    if x == 3:
        raise ZeroDivisionError("three is not allowed")
    if x == 4:
        raise ReportInputError("run 4: stages.x: unknown stage; fix: remove it")
    if x == 0:
        time.sleep(0.2)  # finishes last, so completion order differs from input order
    return x * x


def test_local_runs_in_order_and_keeps_failures() -> None:
    seen: list[int] = []
    out = map_runs(square, [0, 1, 2, 3, 4, 5], progress=lambda r: seen.append(r.index))
    assert [r.value for r in out] == [0, 1, 4, None, None, 25]
    assert [r.index for r in out] == list(range(6)) and seen == list(range(6))
    assert out[3].failed and out[3].error == "ZeroDivisionError: three is not allowed"
    assert "three is not allowed" in out[3].traceback
    assert out[4].error == "run 4: stages.x: unknown stage; fix: remove it"  # as written
    assert all(r.ok for i, r in enumerate(out) if i not in (3, 4))


def test_unknown_engine_and_address_without_dask() -> None:
    with pytest.raises(ReportInputError, match="--engine: unknown engine 'spark'; fix: use one "
                                               "of local, dask"):
        map_runs(square, [1], engine="spark")
    with pytest.raises(ReportInputError, match="needs --engine dask"):
        map_runs(square, [1], address="tcp://127.0.0.1:8786")


distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as c:
        yield c


def test_dask_by_address_results_in_input_order(cluster) -> None:
    seen: list[int] = []
    out = map_runs(square, [0, 1, 2, 3, 4, 5], engine="dask",
                   address=cluster.scheduler_address, progress=lambda r: seen.append(r.index))
    assert [r.value for r in out] == [0, 1, 4, None, None, 25]
    assert [r.index for r in out] == list(range(6))
    assert sorted(seen) == list(range(6))
    assert out[3].error == "ZeroDivisionError: three is not allowed"
    assert out[4].error == "run 4: stages.x: unknown stage; fix: remove it"


def test_dask_with_a_client(cluster) -> None:
    with distributed.Client(cluster, set_as_default=False) as client:
        out = map_runs(square, [5, 3, 2], engine="dask", client=client)
        assert client.status == "running"  # a client given is left open
    assert [(r.value, r.failed) for r in out] == [(25, False), (None, True), (4, False)]


# --------------------------------------------------------------------------- the page
class Cells(HTMLParser):
    """The text of every header and data cell, row by row, and every link."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.links: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "a":
            self.links.append(dict(attrs)["href"])

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def item(key, label, value, unit):
    return {"key": key, "label": label, "value": value, "unit": unit}


def page_rows(tmp_path: Path) -> tuple[str, Cells]:
    a = {"03_kpi_baseline": {"items": [item("nrr", "NRR", 0.934, "pct"),
                                       item("mrr", "MRR", 1234567.8, "money")]},
         "01_research": {"items": [item("accounts", EVIL, 1200, "count")]}}
    b = {"03_kpi_baseline": {"items": [item("nrr", "NRR", 1.0123, "pct"),
                                       item("mrr", "MRR", 0.00001234, "money"),
                                       item("quick", "Quick ratio", 12345.678, "ratio")]},
         "06_what_if": None}
    results = [
        ("client_a", "client_a", a),
        ("client_b", tmp_path / "out" / "runs" / "client_b", b),
        ("client_c", "client_c", None, "ScenarioError: <b>bad</b> scenario"),
        (EVIL, None, {}),
    ]
    page = grid_page(results, title=f"Q3 {EVIL}", page_dir=tmp_path / "out",
                     descriptions={"client_a": "<i>first</i>"})
    cells = Cells()
    cells.feed(page)
    return page, cells


def test_page_rows_columns_and_figures(tmp_path) -> None:
    page, cells = page_rows(tmp_path)
    head1, head2, a, b, c, d = cells.rows
    # stages in chain order, items in order of first appearance within a stage
    assert head1 == ["run", "status", "01_research", "03_kpi_baseline"]
    assert head2 == [EVIL, "NRR", "MRR", "Quick ratio"]
    assert a == ["client_a<i>first</i>", "complete", "1,200", "93.4%", "1,234,568", "—"]
    assert b == ["client_b", "stages without figures: 06_what_if", "—", "101.2%", "0", "12,345.68"]
    assert c[:2] == ["client_c", "failedScenarioError: <b>bad</b> scenario"]
    assert c[2] == "no figures"
    assert d == [EVIL, "complete", "—", "—", "—", "—"]
    assert "e-0" not in page and "e+0" not in page


def test_page_links_are_relative(tmp_path) -> None:
    _, cells = page_rows(tmp_path)
    assert cells.links == ["client_a/index.html", "runs/client_b/index.html",
                           "client_c/index.html"]


def test_page_escapes_every_text(tmp_path) -> None:
    page, _ = page_rows(tmp_path)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page and "<b>" not in page and "<i>" not in page
    assert "<title>Q3 &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</title>" in page
    assert "&lt;b&gt;bad&lt;/b&gt;" in page
    assert "4 runs, 3 with figures, 1 failed" in page


def test_examples_in_docstrings() -> None:
    result = doctest.testmod(_grid, raise_on_error=False)
    assert result.attempted > 0 and result.failed == 0
