"""`cs-sim report`: the notebook chain run into a report folder, end to end.

One full run of the chain (every stage) on a copy of data/example whose customer text
(account names, survey comments, segment labels) holds HTML; its files are checked
against independent sources: checksums recomputed with hashlib, package versions read
with importlib.metadata, notebook defaults read with papermill, headline figures read
from the executed notebooks' outputs, figures counted in them. Further runs: a stage
that fails on purpose (with --compare-to the full run), a grid, an interruption, and
bad input (exit 2, the message, no folder written, input untouched).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from importlib import metadata
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from typer.testing import CliRunner

from cs_sim.cli import app
from cs_sim.format import fmt
from cs_sim.report import MIME_TYPE
from cs_sim.report._params import load_params, params_from_dict, plan_report
from cs_sim.report._stages import Parameter, check_value, find_stages, python_type
from cs_sim.report._template import report_schema, report_template

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "example"
NOTEBOOKS = ROOT / "notebooks"
SCRIPT = "<script>alert(1)</script>"
BOLD = "<b>x</b>"
STAGES = [s.name for s in find_stages(NOTEBOOKS)]

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(app, ["report", *[str(a) for a in args], "--no-progress"])


def tree_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def runs_in(reports: Path) -> list[Path]:
    """Every folder and file written under a reports folder."""
    return sorted(reports.rglob("*")) if reports.exists() else []


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    """data/example with HTML in account names, survey comments and segment labels."""
    folder = tmp_path_factory.mktemp("data") / "hostile"
    shutil.copytree(EXAMPLE, folder)
    accounts = pd.read_csv(folder / "accounts.csv", dtype=str)
    accounts["name"] = [f"{SCRIPT} {n}" if i % 2 else f"{BOLD} {n}"
                        for i, n in enumerate(accounts["name"])]
    accounts["segment"] = [f"{SCRIPT} big" if p == "enterprise" else f"{BOLD} small"
                           for p in accounts["plan"]]
    accounts.to_csv(folder / "accounts.csv", index=False)
    surveys = pd.read_csv(folder / "surveys.csv", dtype=str)
    surveys["comment"] = [f"{SCRIPT} {BOLD} {c}" if isinstance(c, str) else c
                          for c in surveys["comment"]]
    surveys.to_csv(folder / "surveys.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def full_run(hostile, tmp_path_factory):
    """The whole chain, once, with light what-if settings; (result, run folder, out)."""
    out = tmp_path_factory.mktemp("reports")
    params = tmp_path_factory.mktemp("params") / "report.yaml"
    params.write_text(
        "name: hostile\nseed: 11\nstages:\n"
        "  03_kpi_baseline: {by: segment, start: '2025-01'}\n"
        "  06_what_if: {replications: 3, backtest_replications: 10, sensitivity_top: 0,"
        " variant_paths: [templates/scenarios/save_play.yaml]}\n")
    before = tree_digest(hostile)
    res = invoke("--params", params, "--data", hostile, "--out", out)
    assert tree_digest(hostile) == before, "the dataset must not be modified"
    folders = [p for p in (out / "hostile").iterdir()]
    assert len(folders) == 1, folders
    return res, folders[0], out


# --------------------------------------------------------------------------- full chain
def test_full_chain_writes_every_stage(full_run) -> None:
    res, run, _ = full_run
    assert res.exit_code == 0, res.output
    assert f"report: {run / 'index.html'}" in res.stdout
    assert not run.name.startswith(".") and not run.name.endswith(".partial")
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert list(manifest["stages"]) == STAGES
    for stage in STAGES:
        info = manifest["stages"][stage]
        assert info["status"] == "ok" and info["error"] is None
        assert (run / "notebooks" / f"{stage}.ipynb").is_file()
        assert (run / "html" / f"{stage}.html").is_file()
        assert info["seconds"] > 0
    for name in ("index.html", "headlines.json", "params.yaml", "plan/strategy_plan.md",
                 "plan/strategy_plan.html"):
        assert (run / name).is_file(), name
    assert [p.name for p in (run / "what_if").iterdir() if p.is_dir()] == ["save_play"]


def test_manifest_matches_independent_sources(full_run, hostile) -> None:
    _, run, _ = full_run
    manifest = json.loads((run / "manifest.json").read_text())
    files = {p.relative_to(hostile).as_posix(): p for p in hostile.rglob("*") if p.is_file()}
    assert set(manifest["data"]["files"]) == set(files)
    for rel, path in files.items():
        assert manifest["data"]["files"][rel]["sha256"] == \
            hashlib.sha256(path.read_bytes()).hexdigest()
        assert manifest["data"]["files"][rel]["bytes"] == path.stat().st_size
    assert Path(manifest["data"]["path"]) == hostile.resolve()
    for dist in ("cs-sim", "numpy", "pandas", "statsmodels", "simpy", "papermill",
                 "nbconvert"):
        assert manifest["versions"][dist] == metadata.version(dist)
    assert manifest["versions"]["python"].count(".") == 2
    # the report's seed goes to every stage with a seed parameter (papermill lists them)
    import papermill as pm

    seeded = [s for s in STAGES if "seed" in pm.inspect_notebook(NOTEBOOKS / f"{s}.ipynb")]
    assert manifest["seeds"] == dict.fromkeys(seeded, 11)
    assert manifest["params"]["stages"]["06_what_if"]["replications"] == 3
    for stage in seeded:  # and the notebook ran with it
        nb = nbformat.read(run / "notebooks" / f"{stage}.ipynb", as_version=4)
        injected = next(c for c in nb.cells
                        if "injected-parameters" in c.metadata.get("tags", []))
        assert re.search(r"^seed = 11$", injected.source, re.M)
    assert manifest["command"][:2] == ["cs-sim", "report"]
    assert manifest["command"][manifest["command"].index("--data") + 1] == str(hostile)


def test_params_yaml_runs_the_same_report(full_run, hostile) -> None:
    _, run, _ = full_run
    manifest = json.loads((run / "manifest.json").read_text())
    again = plan_report(load_params(run / "params.yaml"), source="params.yaml")
    assert again.data == hostile.resolve() and again.name == "hostile"
    for sp in again.stages:
        ran = dict(manifest["stages"][sp.name]["parameters"])
        ran.pop("out_dir", None)
        assert sp.inject == ran


def _mime_headlines(nb_path: Path):
    found = None
    for cell in nbformat.read(nb_path, as_version=4).cells:
        for output in cell.get("outputs", []):
            if MIME_TYPE in output.get("data", {}):
                found = output["data"][MIME_TYPE]
    return found


def test_headlines_come_from_the_notebooks_and_show_in_the_index(full_run) -> None:
    _, run, _ = full_run
    heads = json.loads((run / "headlines.json").read_text())
    assert list(heads) == STAGES
    index = (run / "index.html").read_text()
    for stage in STAGES:
        assert heads[stage] == _mime_headlines(run / "notebooks" / f"{stage}.ipynb")
        section = index.split(f'id="{stage}"', 1)[1].split("</section>", 1)[0]
        assert f'href="html/{stage}.html"' in section
        assert f'href="notebooks/{stage}.ipynb"' in section
        if heads[stage] is None:
            assert "No headline figures." in section
            continue
        for item in heads[stage]["items"]:
            shown = fmt(item["value"], item["unit"])
            assert (f'<span class="value">{shown}</span>' in section
                    or f'<span class="value">{shown.replace("<", "&lt;")}</span>' in section)
    assert "plan/strategy_plan.html" in index and "what_if/save_play/" in index


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.imgs: list[dict[str, str | None]] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.imgs.append(dict(attrs))
        self._in_title = tag == "title"

    def handle_data(self, data):
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag):
        self._in_title = False


def test_stage_pages_hide_code_have_titles_and_alt_text(full_run) -> None:
    _, run, _ = full_run
    for stage in STAGES:
        nb = nbformat.read(NOTEBOOKS / f"{stage}.ipynb", as_version=4)
        heading = next(line for c in nb.cells if c.cell_type == "markdown"
                       for line in c.source.splitlines() if line.startswith("# "))
        page = (run / "html" / f"{stage}.html").read_text()
        parser = _Images()
        parser.feed(page)
        assert parser.title.strip() == heading[2:].strip()
        assert not re.search(r'class="[^"]*(jp-InputPrompt|jp-OutputPrompt)', page)
        assert "In&nbsp;[" not in page and not re.search(r">\s*Out\[\d+\]", page)
        assert not re.search(r'class="[^"]*(jp-InputArea-editor|jp-CodeMirrorEditor)', page)
        assert 'class="highlight hl-ipython3"' not in page  # no code shown
        executed = nbformat.read(run / "notebooks" / f"{stage}.ipynb", as_version=4)
        pngs = [o for c in executed.cells for o in c.get("outputs", [])
                if "image/png" in o.get("data", {})]
        shown = [i for i in parser.imgs if (i.get("src") or "").startswith("data:image/png")]
        assert len(shown) == len(pngs)
        assert all((i.get("alt") or "").strip() for i in parser.imgs), stage
        assert 'href="../index.html"' in page


def test_figures_are_written_as_png_and_svg(full_run) -> None:
    _, run, _ = full_run
    manifest = json.loads((run / "manifest.json").read_text())
    for stage in STAGES:
        executed = nbformat.read(run / "notebooks" / f"{stage}.ipynb", as_version=4)
        pngs = [o["data"]["image/png"] for c in executed.cells for o in c.get("outputs", [])
                if "image/png" in o.get("data", {})]
        figures = manifest["stages"][stage]["figures"]
        assert len(figures) == len(pngs)
        for n, (fig, data) in enumerate(zip(figures, pngs, strict=True), start=1):
            assert fig["png"] == f"figures/{stage}-{n:02d}.png"
            assert (run / fig["png"]).read_bytes() == base64.b64decode(data)
            assert (run / fig["png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            root = ET.parse(run / fig["svg"]).getroot()
            assert root.tag.endswith("svg")
            assert fig["alt"]
    assert sum(len(manifest["stages"][s]["figures"]) for s in STAGES) > 5


def test_customer_text_is_escaped_in_every_html(full_run) -> None:
    _, run, _ = full_run
    pages = sorted(run.rglob("*.html"))
    assert {p.relative_to(run).as_posix() for p in pages} >= {
        "index.html", "plan/strategy_plan.html", *(f"html/{s}.html" for s in STAGES)}
    for page in pages:
        text = page.read_text()
        assert "<script>alert(1)" not in text, page
        assert BOLD not in text, page
    # the hostile labels did reach the pages, escaped
    index = (run / "index.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index or "&lt;b&gt;x" in index
    assert re.search(r"&lt;b&gt;x&lt;/b&gt;|&amp;lt;b&amp;gt;",
                     (run / "html" / "01_research.html").read_text())


def test_index_loads_nothing_from_elsewhere(full_run) -> None:
    _, run, _ = full_run
    index = (run / "index.html").read_text()
    assert "<script" not in index
    assert not re.search(r"""(src|href)=["']https?://""", index)
    for href in re.findall(r'href="([^"#]+)"', index):
        assert (run / href.replace("%20", " ")).exists(), href


def test_stage_pages_show_formulas_as_mathml_without_a_network(full_run) -> None:
    _, run, _ = full_run
    for stage in STAGES:
        nb = nbformat.read(NOTEBOOKS / f"{stage}.ipynb", as_version=4)
        md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        display = len(re.findall(r"\$\$.+?\$\$", md, flags=re.S))
        page = (run / "html" / f"{stage}.html").read_text()
        assert "CSSIMMATH" not in page, stage  # every placeholder restored
        assert not re.search(r"\$\$\S", page), stage  # no raw TeX left
        assert not re.search(r"""<script[^>]+src=["']https?://""", page), stage
        assert "MathJax" not in page, stage
        assert len(re.findall(r'<math [^>]*display="block"', page)) == display, stage


# --------------------------------------------------------------------------- failure
def test_a_failing_stage_is_shown_and_the_others_kept(full_run, hostile, tmp_path) -> None:
    _, previous, out = full_run
    params = tmp_path / "fail.yaml"
    params.write_text("name: failing\nonly: [03_kpi_baseline, 05_journey]\nstages:\n"
                      "  05_journey: {activation_share: 5.0}\n"
                      "  03_kpi_baseline: {by: segment, start: '2025-01'}\n")
    res = invoke("--params", params, "--data", hostile, "--out", out,
                 "--compare-to", previous)
    assert res.exit_code == 1, res.output
    assert "1 of 2 stages failed (05_journey)" in res.stderr
    run = next((out / "failing").iterdir())
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert manifest["stages"]["05_journey"]["status"] == "failed"
    assert "activation_share" in manifest["stages"]["05_journey"]["error"]
    assert manifest["stages"]["03_kpi_baseline"]["status"] == "ok"
    index = (run / "index.html").read_text()
    section = index.split('id="05_journey"', 1)[1].split("</section>", 1)[0]
    assert "FAILED" in section and "must be in (0, 1], got 5.0" in section
    assert (run / "html" / "05_journey.html").is_file()  # its page shows the traceback
    assert "StrategyInputError" in (run / "html" / "05_journey.html").read_text()
    # the earlier stage is complete, with its figures
    assert (run / "html" / "03_kpi_baseline.html").is_file()
    # --compare-to: what moved since the full run is in the index and in changes.json
    assert "What moved since the previous report" in index
    changes = json.loads((run / "changes.json").read_text())
    assert changes  # the comparison's own content is tested in test_report_compare.py


# --------------------------------------------------------------------------- bad input
@pytest.fixture()
def reports(tmp_path) -> Path:
    return tmp_path / "reports"


@pytest.mark.parametrize(("text", "expected"), [
    ("stages: [1, 2\n", "not valid YAML"),
    ("stagse: {}\n", "stagse: unknown key; did you mean 'stages'?"),
    ("stages: {03_kpi_baselin: {by: plan}}\n",
     "unknown stage '03_kpi_baselin' (did you mean '03_kpi_baseline'?)"),
    ("only: [07_plna]\n", "unknown stage '07_plna' (did you mean '07_plan'?)"),
    ("stages: {03_kpi_baseline: {strat: '2025-01'}}\n",
     "stages.03_kpi_baseline.strat: unknown parameter (did you mean 'start'?)"),
    ("stages: {06_what_if: {replications: ten}}\n",
     "stages.06_what_if.replications: 'ten' is not of type int"),
    ("stages: {04_maturity: {validate_health: 1}}\n",
     "stages.04_maturity.validate_health: 1 is not of type bool"),
    ("stages: {06_what_if: {variant_paths: templates/scenarios/save_play.yaml}}\n",
     "is not of type list[str]"),
    ("stages: {01_research: {data_path: data/sample}}\n",
     "stages.01_research.data_path: set by cs-sim report"),
    ("stages: {04_maturity: {answers_path: no/such/answers.yaml}}\n",
     "stages.04_maturity.answers_path: 'no/such/answers.yaml' not found"),
    ("seed: -1\n", "seed: input should be greater than or equal to 0"),
    ("name: ../escape\n", "cannot be a folder name"),
])
def test_bad_parameters_are_refused_before_anything_runs(tmp_path, reports, text,
                                                         expected) -> None:
    params = tmp_path / "report.yaml"
    params.write_text(text)
    before = params.read_bytes()
    res = invoke("--params", params, "--data", EXAMPLE, "--out", reports)
    assert res.exit_code == 2, res.output
    assert expected in res.stderr
    assert res.stderr.startswith("error: ")
    assert "Traceback" not in res.output
    assert runs_in(reports) == []
    assert params.read_bytes() == before


def test_every_problem_is_told_at_once(tmp_path, reports) -> None:
    params = tmp_path / "report.yaml"
    params.write_text("stages:\n  03_kpi_baseline: {strat: x}\n  06_what_if: {seed: x}\n")
    res = invoke("--params", params, "--data", EXAMPLE, "--out", reports)
    assert res.exit_code == 2
    assert "strat" in res.stderr and "06_what_if.seed" in res.stderr


def test_a_bad_dataset_is_refused(tmp_path, reports) -> None:
    data = tmp_path / "bad"
    shutil.copytree(EXAMPLE, data)
    mrr = (data / "mrr.csv").read_text().splitlines()
    mrr[3] = ",".join(mrr[3].split(",")[:2] + ["-5"])
    (data / "mrr.csv").write_text("\n".join(mrr) + "\n")
    before = tree_digest(data)
    res = invoke("--data", data, "--out", reports)
    assert res.exit_code == 2, res.output
    assert "mrr.csv" in res.stderr and "line 4" in res.stderr
    assert runs_in(reports) == [] and tree_digest(data) == before


@pytest.mark.parametrize(("args", "expected"), [
    (["--data", "no/such/folder"], "--data: 'no/such/folder' is not a folder"),
    (["--engine", "dask"], "--engine/--address: they spread the sets of a grid"),
    (["--name", "a/b"], "cannot be a folder name"),
])
def test_bad_options_are_refused(reports, args, expected) -> None:
    res = invoke(*args, "--out", reports)
    assert res.exit_code == 2, res.output
    assert expected in res.stderr
    assert runs_in(reports) == []


def test_compare_to_a_folder_that_is_no_run(tmp_path, reports) -> None:
    res = invoke("--data", EXAMPLE, "--compare-to", tmp_path, "--out", reports)
    assert res.exit_code == 2
    assert str(tmp_path) in res.stderr and "headlines.json" in res.stderr
    assert runs_in(reports) == []


# --------------------------------------------------------------------------- interrupted
def test_an_interrupted_report_leaves_no_folder_and_no_kernel(monkeypatch, reports) -> None:
    import os
    import time

    from cs_sim.report import _runner

    started: list = []

    class Recording(_runner.Kernels):
        def add(self, manager):
            started.append(manager)
            super().add(manager)

    real = _runner.execute_stage

    def stage(plan, tmp, **kw):
        if plan.name == "04_maturity":
            deadline = time.monotonic() + 60
            while not started and time.monotonic() < deadline:  # the other kernel is up
                time.sleep(0.2)
            time.sleep(1.0)
            raise KeyboardInterrupt
        return real(plan, tmp, **kw)

    monkeypatch.setattr(_runner, "Kernels", Recording)
    monkeypatch.setattr(_runner, "execute_stage", stage)
    params = params_from_dict({"only": ["04_maturity", "05_journey"], "jobs": 2})
    with pytest.raises(KeyboardInterrupt):
        _runner.run_report(params, data=EXAMPLE, reports_dir=reports, progress=False)
    assert started, "a kernel had started"
    for km in started:
        pid = km.provisioner.pid if km.provisioner is not None else None
        if pid:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
    assert [p.name for p in runs_in(reports)] in ([], ["example"])  # no run, no .partial


def test_ctrl_c_exits_130_with_a_message(monkeypatch, reports) -> None:
    from cs_sim.report import _runner

    def stage(plan, tmp, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(_runner, "execute_stage", stage)
    res = runner.invoke(app, ["report", "--data", str(EXAMPLE), "--out", str(reports),
                              "--no-progress"], catch_exceptions=False)
    assert res.exit_code == 130
    assert "interrupted" in res.stderr
    assert not list((reports / "example").iterdir())


# --------------------------------------------------------------------------- grid
def test_grid_runs_each_set_and_writes_the_comparison(tmp_path, reports) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text(
        "title: Two journeys\nruns:\n"
        f"  - name: strict\n    params: {{data: {EXAMPLE}, only: [05_journey],"
        " stages: {05_journey: {activation_share: 0.9}}}\n"
        f"  - name: broken\n    params: {{data: {EXAMPLE}, only: [05_journey],"
        " stages: {05_journey: {activation_share: 2.0}}}\n")
    res = invoke("--grid", grid, "--out", reports)
    assert res.exit_code == 1, res.output  # one set has a failed stage
    run = next((reports / "grid").iterdir())
    page = (run / "grid.html").read_text()
    assert "Two journeys" in page
    assert 'href="strict/index.html"' in page and 'href="broken/index.html"' in page
    for name in ("strict", "broken"):
        manifest = json.loads((run / name / "manifest.json").read_text())
        assert manifest["stages"]["05_journey"]["parameters"]["activation_share"] in (0.9, 2.0)
    grid_manifest = json.loads((run / "manifest.json").read_text())
    assert [(r["name"], r["status"]) for r in grid_manifest["runs"]] == [
        ("strict", "complete"), ("broken", "failed")]


def test_grid_sets_are_checked_before_any_runs(tmp_path, reports) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text("runs:\n  - name: a\n    params: {only: [05_journey]}\n"
                    "  - name: b\n    params: {stages: {05_journey: {adoption_monts: 2}}}\n")
    res = invoke("--grid", grid, "--out", reports)
    assert res.exit_code == 2
    assert "runs[1] (b): stages.05_journey.adoption_monts: unknown parameter" in res.stderr
    assert runs_in(reports) == []


# --------------------------------------------------------------------------- parts
def test_parameters_read_as_papermill_reads_them() -> None:
    """Where papermill can parse a parameter, it agrees on the name and the default."""
    import ast

    import papermill as pm

    for stage in find_stages(NOTEBOOKS):
        seen = pm.inspect_notebook(stage.path)
        assert set(seen) <= set(stage.parameters)
        for name, info in seen.items():
            default = info["default"]
            try:
                expected = ast.literal_eval(default)
            except ValueError:
                expected = eval(default, {"__builtins__": {}})  # e.g. 2 / 3
            assert stage.parameters[name].default == expected, (stage.name, name)
            assert stage.parameters[name].help == info["help"]


def test_types_are_checked_strictly() -> None:
    def p(annotation: str) -> Parameter:
        return Parameter("x", annotation, None, "")

    assert check_value(p("float"), 1) is None
    assert check_value(p("int"), 1.5) is not None
    assert check_value(p("int"), True) is not None
    assert check_value(p("bool"), "yes") is not None
    assert check_value(p("str | None"), None) is None
    assert check_value(p("Optional[str]"), 3) is not None
    assert check_value(p("Optional[list[str]]"), ["a"]) is None
    assert check_value(p("list[str]"), ["a", 2]) is not None
    assert check_value(p("SomethingElse"), object()) is None  # unknown types: not checked
    assert python_type("'Optional[int]'") == python_type("int | None")


def test_templates_are_up_to_date() -> None:
    stages = find_stages(NOTEBOOKS)
    fix = "regenerate with: python -m cs_sim.report._template"
    assert (ROOT / "templates" / "report.yaml").read_text() == report_template(stages), fix
    schema = json.loads((ROOT / "templates" / "report.schema.json").read_text())
    assert schema == json.loads(json.dumps(report_schema(stages))), fix
    plan = plan_report(load_params(ROOT / "templates" / "report.yaml"))
    assert [s.name for s in plan.stages] == STAGES


def test_template_validates_against_its_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    schema = json.loads((ROOT / "templates" / "report.schema.json").read_text())
    data = yaml.safe_load((ROOT / "templates" / "report.yaml").read_text())
    jsonschema.validate(data, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"stages": {"03_kpi_baseline": {"strat": 1}}}, schema)


def test_help() -> None:
    res = runner.invoke(app, ["report", "--help"])
    assert res.exit_code == 0
    for option in ("--data", "--params", "--name", "--grid", "--engine", "--compare-to"):
        assert option in res.stdout
