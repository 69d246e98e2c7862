"""The workbook notebooks: thin, committed clean, and executed end to end by papermill.

`make test` also runs every notebook under nbval (`--nbval-lax`), which executes the
committed notebook with its default parameters.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = json.loads((ROOT / "data" / "example" / "expected_kpis.json").read_text())


def test_there_are_notebooks() -> None:
    names = [p.name for p in NOTEBOOKS]
    # the chain: research, segmentation, KPI baseline, maturity, journey, what-if, plan
    for expected in ("01_research", "02_segmentation", "03_kpi_baseline", "04_maturity",
                     "05_journey", "06_what_if", "07_plan"):
        assert f"{expected}.ipynb" in names
    assert len({n[:2] for n in names}) == len(names), "one notebook per chain number"


NBVAL = "# NBVAL_CHECK_OUTPUT"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_thin_and_clean(path: Path) -> None:
    """Committed without outputs but for the one nbval-checked cell; no logic in cells."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    checked = [c for c in code if c.source.startswith(NBVAL)]
    assert len(checked) == 1, f"exactly one cell whose first line is {NBVAL!r}"
    assert checked[0].outputs, f"the {NBVAL} cell is committed with the output nbval checks"
    assert all(o.get("output_type") == "stream" or set(o.get("data", {})) == {"text/plain"}
               for o in checked[0].outputs), "a short deterministic text, nothing else"
    # nbval refuses a cell with outputs but no execution count ("Unrun reference cell has
    # outputs"): the checked cell has one, every other cell none and no outputs
    assert isinstance(checked[0].execution_count, int), \
        f"the {NBVAL} cell needs an execution_count (nbval skips or refuses it otherwise)"
    others = [c for c in code if c is not checked[0]]
    assert all(c.execution_count is None for c in others), "no execution counts"
    assert all(not c.outputs for c in others), "commit without outputs"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters' for papermill"
    last = code[-1]
    assert "headlines" in last.metadata.get("tags", []), "the last code cell is tagged headlines"
    assert f'headlines("{path.stem}"' in last.source, "it hands the stage's figures on"
    for cell in code:
        tree = ast.parse(cell.source.replace(";\n", "\n"))
        defs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)]
        assert not defs, "logic belongs in cs_sim, not in a notebook"


def _parameters(path: Path) -> tuple[nbformat.NotebookNode, int, ast.Module]:
    """The notebook, the index of its parameters cell and that cell's syntax tree."""
    nb = nbformat.read(path, as_version=4)
    index = next(i for i, c in enumerate(nb.cells)
                 if "parameters" in c.metadata.get("tags", []))
    return nb, index, ast.parse(nb.cells[index].source)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_are_documented_typed_and_used(path: Path) -> None:
    """Every parameter: a type annotation papermill understands, a trailing comment (its
    help in ``papermill --help-notebook``) and a use in a later code cell."""
    import papermill as pm

    nb, index, tree = _parameters(path)
    assert tree.body and all(isinstance(n, ast.AnnAssign) for n in tree.body), \
        "every statement of the parameters cell is `name: type = value  # help`"
    names = [n.target.id for n in tree.body]  # type: ignore[attr-defined]
    lines = nb.cells[index].source.splitlines()
    for node, name in zip(tree.body, names, strict=True):
        last = lines[(node.end_lineno or node.lineno) - 1]
        assert " # " in last, f"{name}: no trailing comment (its help text)"
    inspected = pm.inspect_notebook(str(path))
    assert list(inspected) == names, "papermill reads every parameter (no `str | None`: it " \
                                     "reads \"Optional[str]\")"
    for name, info in inspected.items():
        assert info["inferred_type_name"] not in (None, "", "None", "Unknown type"), name
        assert info["help"].strip(), f"{name}: papermill shows no help"
        assert not str(info["default"]).strip("\"'").startswith("../"), \
            f"{name}: paths are relative to the repository root"
    used: set[str] = set()
    for cell in nb.cells[index + 1:]:
        if cell.cell_type == "code":
            used |= {n.id for n in ast.walk(ast.parse(cell.source)) if isinstance(n, ast.Name)}
    assert not [n for n in names if n not in used], "parameters never used"
    if "data_path" in names:
        sources = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert "resolve_path(data_path)" in sources


def test_kpi_baseline_notebook_runs_with_parameters(tmp_path: Path) -> None:
    import papermill as pm

    out = tmp_path / "01.ipynb"
    pm.execute_notebook(
        ROOT / "notebooks" / "03_kpi_baseline.ipynb",
        out,
        parameters={"data_path": str(ROOT / "data" / "example"), "start": "2025-01", "by": "plan"},
        cwd=str(ROOT / "notebooks"),
        progress_bar=False,
        kernel_name="python3",
    )
    nb = nbformat.read(out, as_version=4)
    texts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("data", {}).get("text/plain", ""))
            assert output.get("output_type") != "error"
    joined = "\n".join(texts)
    # the headline table shows the hand-computed window NRR (formatted, and raw in the
    # headline figures handed to the report) and the segment columns
    from cs_sim.format import fmt

    nrr = EXPECTED["retention_window"]["nrr"]
    assert fmt(nrr, "pct") in joined
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    items = {i["key"]: i["value"] for i in _headlines(outputs)["items"]}
    assert items["nrr"] == pytest.approx(nrr, abs=1e-9)
    assert "enterprise" in joined and "starter" in joined
    # a figure was drawn
    assert any(
        "image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", [])
    )
    # the models need more churn than the example has: each says so and the notebook goes on
    streams = "\n".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", [])
                        if o.get("output_type") == "stream")
    assert "Churn drivers: not available" in streams and "Kaplan-Meier survival" in streams


def test_what_if_notebook_reproduces_cs_sim_compare(tmp_path: Path) -> None:
    """Every figure of the notebook's comparison equals a direct cs_sim.compare's, exactly.

    The executed notebook writes its comparison (``out_dir``): ``comparison.json`` is
    :meth:`ComparisonResult.to_dict` (summary, segments, tiers, decision, notes; NaN as
    null) and ``differences.csv`` the paired differences of every replication.
    """
    import pandas as pd
    import papermill as pm

    import cs_sim

    scenarios = ROOT / "templates" / "scenarios"
    out, written = tmp_path / "06.ipynb", tmp_path / "written"
    pm.execute_notebook(
        ROOT / "notebooks" / "06_what_if.ipynb",
        out,
        parameters={
            "baseline_path": str(scenarios / "baseline.yaml"),
            "variant_paths": [str(scenarios / "save_play.yaml")],
            "replications": 3,
            "seed": 11,
            "out_dir": str(written),
            "data_path": None,  # the template baseline, as cs_sim.compare below
        },
        cwd=str(ROOT / "notebooks"),
        progress_bar=False,
        kernel_name="python3",
    )
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    direct = cs_sim.compare(scenarios / "baseline.yaml", scenarios / "save_play.yaml",
                            replications=3, seed=11)
    got = json.loads((written / "save_play" / "comparison.json").read_text())
    want = json.loads(json.dumps(direct.to_dict()))  # JSON floats round-trip exactly
    assert got == want

    def numbers(x: object) -> list[float]:
        if isinstance(x, dict):
            return [v for y in x.values() for v in numbers(y)]
        if isinstance(x, list):
            return [v for y in x for v in numbers(y)]
        return [x] if isinstance(x, float) else []

    assert len(numbers(got)) > 500 and got["summary"]["nrr"]["diff"] != 0.0
    diffs = pd.read_csv(written / "save_play" / "differences.csv")
    pd.testing.assert_frame_equal(diffs, direct.differences, check_exact=True,
                                  check_dtype=False)


def _texts(outputs: list[dict], kind: str) -> list[str]:
    """The outputs' texts of one kind: "stream" (printed), or a MIME type of results."""
    if kind == "stream":
        return [o.get("text", "") for o in outputs if o.get("output_type") == "stream"]
    return [o.get("data", {}).get(kind, "") for o in outputs if kind in o.get("data", {})]


def test_kpi_baseline_notebook_shows_the_models(tmp_path: Path) -> None:
    """Survival, churn drivers, model-based CLV and the health validation of cs_sim.models."""
    import cs_sim
    from cs_sim import models

    outputs = _run_from_root("03_kpi_baseline.ipynb", tmp_path,
                             {"data_path": "data/sample", "by": "segment"})
    printed = "\n".join(_texts(outputs, "stream"))
    ds = cs_sim.load_dataset(ROOT / "data" / "sample")
    lives = models.account_lifetimes(ds, by="segment")
    km = models.kaplan_meier(lives["duration"], lives["churned"], groups=lives["segment"],
                             entry=lives["entry"])
    assert km.to_text() in printed
    assert models.churn_drivers(ds, controls=("segment",)).to_text() in printed
    assert models.clv_by_segment(ds, gross_margin=0.8, by="segment").to_text() in printed
    assert models.validate_health_score(ds).to_text() in printed
    assert "not available" not in printed


@pytest.mark.parametrize("name", ["03_kpi_baseline.ipynb", "06_what_if.ipynb"])
def test_kpi_and_what_if_parameters_are_typed_and_commented(name: str) -> None:
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    lines = [ln for ln in cell.source.splitlines() if ln.strip() and not ln.startswith("#")]
    tree = ast.parse(cell.source)
    assert all(isinstance(n, ast.AnnAssign) for n in tree.body), "every name typed"
    assert len(lines) == len(tree.body) and all(" # " in ln for ln in lines), "commented"
    sources = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "resolve_path(" in sources


def test_what_if_notebook_starts_from_calibrate_and_the_gate(tmp_path: Path) -> None:
    """Calibration, then the backtest gate, then (and only then) the comparisons."""
    from cs_sim.calibration import backtest

    # 20 replications and half the months keep the test quick and the gate clear of the
    # threshold (the default, 50 and 2 out of 3, is the notebook's)
    gate_params = {"backtest_replications": 20, "seed": 2026, "min_coverage": 0.5}
    outputs = _run_from_root("06_what_if.ipynb", tmp_path, {
        "replications": 3, **gate_params, "sensitivity_top": 1, "sensitivity_replications": 2,
        "variant_paths": ["templates/scenarios/save_play.yaml"]})
    html = [t for t in _texts(outputs, "text/html") if t]
    order = [next(i for i, t in enumerate(html) if key in t)
             for key in ("Calibrated baseline of", "Backtest passed")]
    assert order == sorted(order)
    gate = backtest(ROOT / "data" / "sample", replications=20, seed=2026, min_coverage=0.5)
    assert gate.passed and gate.verdict() in html[order[1]]
    notes = "\n".join(_texts(outputs, "text/markdown"))
    assert "passed the backtest gate" in notes
    table = next(i for i, t in enumerate(html) if DECISION in t)
    assert table > order[1] and ">save_play<" in html[table]  # the comparison, after the gate
    plain = "\n".join(_texts(outputs, "text/plain"))
    assert "WhatIfPanel" in plain  # the interactive panel (show_panel defaults to True)


@pytest.mark.parametrize("ignore", [False, True])
def test_what_if_notebook_withholds_results_when_the_gate_fails(tmp_path: Path,
                                                                ignore: bool) -> None:
    """A strict gate (every month covered, 10 replications) fails on the sample: the
    comparisons are withheld, unless ignore_backtest, and then they come with a warning."""
    outputs = _run_from_root("06_what_if.ipynb", tmp_path, {
        "replications": 3, "backtest_replications": 10, "seed": 1, "min_coverage": 1.0,
        "variant_paths": ["templates/scenarios/save_play.yaml"], "ignore_backtest": ignore,
        "show_panel": False, "sensitivity_top": 1, "sensitivity_replications": 2})
    html = "\n".join(_texts(outputs, "text/html"))
    assert "Backtest FAILED" in html
    notes = "\n".join(_texts(outputs, "text/markdown"))
    plain = "\n".join(_texts(outputs, "text/plain"))
    if ignore:
        assert "Warning: the calibrated baseline failed the backtest gate" in notes
        assert DECISION in html and "<h4>save_play</h4>" in html
    else:
        assert "Results withheld" in notes and "ignore_backtest = True" in notes
        assert DECISION not in html and "<h4>save_play</h4>" not in html
        assert "WhatIfPanel" not in plain and "No sensitivity analysis" in notes
        heads = _headlines(outputs)
        assert [i["value"] for i in heads["items"]] == [True, False]  # calibrated, gate failed


def test_what_if_notebook_on_data_too_small_to_calibrate(tmp_path: Path) -> None:
    """data/example cannot be calibrated: the notebook says why and uses the template."""
    outputs = _run_from_root("06_what_if.ipynb", tmp_path, {
        "data_path": "data/example", "replications": 3, "show_panel": False,
        "variant_paths": ["templates/scenarios/save_play.yaml"], "sensitivity_top": 0})
    notes = "\n".join(_texts(outputs, "text/markdown"))
    assert "No calibrated baseline" in notes and "needs at least 20" in notes
    assert "template baseline" in notes
    assert DECISION in "\n".join(_texts(outputs, "text/html"))


#: the caption of the what-if notebook's decision table (cs_sim.whatif.decision_table)
DECISION = "Variant - baseline, means over the paired replications"


def _headlines(outputs: list[dict]) -> dict:
    """The headline figures among a notebook's outputs (the report's MIME type)."""
    from cs_sim.report import MIME_TYPE

    found = [o["data"][MIME_TYPE] for o in outputs if MIME_TYPE in o.get("data", {})]
    assert len(found) == 1, "one headlines output"
    return found[0]


def _run_from_root(name: str, tmp_path: Path, parameters: dict) -> list[dict]:
    """Execute a notebook with papermill from the repository root; return its outputs."""
    import papermill as pm

    out = tmp_path / name
    pm.execute_notebook(ROOT / "notebooks" / name, out, parameters=parameters, cwd=str(ROOT),
                        progress_bar=False, kernel_name="python3")
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    return outputs


def test_research_notebook_shows_the_package_figures(tmp_path: Path) -> None:
    import cs_sim
    from cs_sim.format import fmt
    from cs_sim.research import analyse_research

    outputs = _run_from_root("01_research.ipynb", tmp_path,
                             {"data_path": "data/example", "by": "plan"})
    direct = analyse_research(cs_sim.load_dataset(ROOT / "data" / "example"), by="plan")
    shown = [o.get("data", {}).get("text/plain", "") for o in outputs]
    tickets = next(t for t in shown if t.startswith("Support tickets by segment"))
    row = next(line for line in tickets.splitlines() if line.startswith("enterprise"))
    assert fmt(direct.tickets.loc["enterprise", "aht"], "number") in row  # 36.29
    assert fmt(direct.tickets.loc["enterprise", "fcr"], "pct") in row  # 33.3%
    assert "{" not in "\n".join(shown) and "e-0" not in "\n".join(shown)


def test_segmentation_notebook_shows_the_package_figures(tmp_path: Path) -> None:
    import cs_sim
    from cs_sim.format import fmt
    from cs_sim.segmentation import compare_segmentations

    outputs = _run_from_root("02_segmentation.ipynb", tmp_path, {"data_path": "data/example"})
    direct = compare_segmentations(cs_sim.load_dataset(ROOT / "data" / "example"))
    html = "\n".join(o.get("data", {}).get("text/html", "") for o in outputs)
    top = direct.table.iloc[0]
    assert f">{fmt(top['churn_explained'], 'pct')}<" in html
    assert "Recommendation" in html and "cs-persona" in html


STRATEGY_NOTEBOOKS = ["04_maturity.ipynb", "05_journey.ipynb", "07_plan.ipynb"]


@pytest.mark.parametrize("name", STRATEGY_NOTEBOOKS)
def test_strategy_notebook_parameters_are_typed_and_commented(name: str) -> None:
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    lines = [ln for ln in cell.source.splitlines() if ln.strip() and not ln.startswith("#")]
    tree = ast.parse(cell.source)
    assert all(isinstance(n, ast.AnnAssign) for n in tree.body), "every name typed"
    assert len(lines) == len(tree.body) and all(" # " in ln for ln in lines), "commented"
    sources = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "resolve_path(" in sources  # paths through cs_sim.paths


def test_maturity_notebook_shows_the_package_figures(tmp_path: Path) -> None:
    import cs_sim
    from cs_sim.format import fmt
    from cs_sim.maturity import assess_maturity
    from cs_sim.models import validate_health_score

    answers = "tests/data/maturity_predictive.yaml"
    outputs = _run_from_root("04_maturity.ipynb", tmp_path,
                             {"data_path": "data/example", "answers_path": answers})
    ds = cs_sim.load_dataset(ROOT / "data" / "example")
    direct = assess_maturity(ROOT / answers, dataset=ds,
                             health_validation=validate_health_score(ds))
    shown = "\n".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert repr(direct) in shown  # stage, self-assessed stage, mean score, roadmap steps
    html = "\n".join(o.get("data", {}).get("text/html", "") for o in outputs)
    grr = direct.focus_metrics.set_index("metric").loc["grr", "value"]
    assert f">{fmt(grr, 'pct')}<" in html


def test_journey_notebook_shows_the_package_figures(tmp_path: Path) -> None:
    import cs_sim
    from cs_sim.format import fmt
    from cs_sim.journey import journey_map

    outputs = _run_from_root("05_journey.ipynb", tmp_path, {"data_path": "data/example"})
    direct = journey_map(cs_sim.load_dataset(ROOT / "data" / "example"))
    html = "\n".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert f">{fmt(direct.stages.loc['adoption', 'conversion_rate'], 'pct')}<" in html  # 62.5%
    assert f">{fmt(direct.stages.loc['service', 'entered'], 'count')}<" in html


def test_plan_notebook_shows_the_package_figures(tmp_path: Path) -> None:
    import cs_sim
    from cs_sim.baseline import kpi_baseline
    from cs_sim.format import fmt

    out = tmp_path / "plan"
    outputs = _run_from_root("07_plan.ipynb", tmp_path,
                             {"data_path": "data/example", "out_dir": str(out)})
    ds = cs_sim.load_dataset(ROOT / "data" / "example")
    nrr = kpi_baseline(ds).headline.loc["nrr", "all"]
    html = "\n".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert f"NRR (baseline window): <b>{fmt(nrr, 'pct')}</b>" in html
    shown = "\n".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "parts=8" in shown
    written = (out / "strategy_plan.md").read_text()
    assert all(f"## {i}. " in written for i in range(1, 9))
    # the targets hand the baseline's own figures to the report, under its headline keys
    targets = {t["name"]: t for t in _headlines(outputs)["targets"]}
    assert targets["NRR"]["value"] == pytest.approx(nrr) and targets["NRR"]["metric"] == "nrr"
    assert targets["NRR"]["target"] == pytest.approx(nrr + 0.03)  # the default: +3 points
    assert targets["NRR"]["direction"] == "up" and targets["Logo churn"]["direction"] == "down"
    # the 03 notebook hands on the same figure under the same key
    from cs_sim._baseline_views import HEADLINE_KEYS

    assert all(HEADLINE_KEYS.get(t["metric"]) == t["metric"] for t in targets.values()
               if t["metric"] is not None)
    plan = json.loads((out / "plan.json").read_text())
    assert {t["kpi"] for t in plan["targets"]} == {"nrr", "grr", "logo_churn_rate", "nps"}


# ------------------------------------------------------------------ every notebook, non-default
#: for each notebook, parameters that differ from its defaults: the hand-made dataset (small,
#: fast) and one more value; paths relative to the repository root, run from the root
NON_DEFAULT: dict[str, dict] = {
    "00_index": {"data_path": "data/example"},
    "01_research": {"data_path": "data/example", "by": "plan"},
    "02_segmentation": {"data_path": "data/example", "min_size": 3},
    "03_kpi_baseline": {"data_path": "data/example", "by": "plan", "gross_margin": 0.7},
    "04_maturity": {"data_path": "data/example",
                    "answers_path": "tests/data/maturity_predictive.yaml"},
    "05_journey": {"data_path": "data/example", "activation_share": 0.5},
    "06_what_if": {"data_path": "data/example", "replications": 3, "seed": 5,
                   "variant_paths": ["templates/scenarios/more_csms.yaml"],
                   "sensitivity_replications": 2, "show_panel": False},
    "07_plan": {"data_path": "data/example", "company": "Example & Co"},
}


def test_every_notebook_has_non_default_parameters() -> None:
    assert sorted(NON_DEFAULT) == sorted(p.stem for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_from_the_root_with_other_parameters(path: Path, tmp_path: Path) -> None:
    """papermill, from the repository root, with parameters other than the defaults: no
    error, and the headline figures of the stage are handed on."""
    import papermill as pm

    params = NON_DEFAULT[path.stem]
    defaults = pm.inspect_notebook(str(path))
    for name, value in params.items():
        assert name in defaults, f"{path.name} has no parameter {name}"
        assert repr(value) != defaults[name]["default"] and \
            json.dumps(value) != defaults[name]["default"], f"{name} is its default"
    outputs = _execute(path.name, tmp_path, params)
    heads = _headlines(outputs)
    assert heads["stage"] == path.stem and heads["items"]
    assert all(set(i) == {"key", "label", "value", "unit"} for i in heads["items"])


def _execute(name: str, tmp_path: Path, parameters: dict) -> list[dict]:
    """Execute a notebook with papermill from the repository root; no error outputs."""
    import papermill as pm

    out = tmp_path / name
    pm.execute_notebook(ROOT / "notebooks" / name, out, parameters=parameters, cwd=str(ROOT),
                        progress_bar=False, kernel_name="python3")
    outputs = [o for c in nbformat.read(out, as_version=4).cells for o in c.get("outputs", [])]
    errors = [f"{o.get('ename')}: {o.get('evalue')}" for o in outputs
              if o.get("output_type") == "error"]
    assert not errors, errors
    return outputs


# ------------------------------------------------------------------ customer text stays text
#: markers put into the customer text of a copy of data/example: a shown marker must come out
#: escaped (``&lt;script&gt;``), never as a tag a browser would run
_SCRIPT = "<script>alert('{}')</script>"


@pytest.fixture(scope="session")
def hostile_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """data/example with HTML in account names, plan labels and survey comments."""
    import shutil

    import pandas as pd

    folder = tmp_path_factory.mktemp("hostile") / "data"
    shutil.copytree(ROOT / "data" / "example", folder)
    acc = pd.read_csv(folder / "accounts.csv")
    acc["name"] = acc["name"] + " " + _SCRIPT.format("name")
    acc["plan"] = acc["plan"].str.replace("growth", "growth" + _SCRIPT.format("plan"))
    acc.to_csv(folder / "accounts.csv", index=False)
    surveys = pd.read_csv(folder / "surveys.csv")
    surveys["comment"] = surveys["comment"].where(
        surveys["comment"].isna(), surveys["comment"] + " " + _SCRIPT.format("comment"))
    surveys.to_csv(folder / "surveys.csv", index=False)
    return folder


@pytest.mark.parametrize(("name", "params", "shown"), [
    ("01_research.ipynb", {"by": "plan"}, ("comment", "plan")),
    ("02_segmentation.ipynb", {"by": "plan", "min_size": 1}, ("plan",)),
    ("07_plan.ipynb", {"by": "plan", "company": _SCRIPT.format("company")},
     ("plan", "company")),
], ids=["01_research", "02_segmentation", "07_plan"])
def test_customer_text_is_escaped_in_html_outputs(hostile_dataset: Path, tmp_path: Path,
                                                  name: str, params: dict,
                                                  shown: tuple[str, ...]) -> None:
    """Customer text with HTML (comments, names, segment labels) is shown as text."""
    out = tmp_path / "plan"
    if name == "07_plan.ipynb":
        params = {**params, "out_dir": str(out)}
    outputs = _execute(name, tmp_path, {"data_path": str(hostile_dataset), **params})
    pages = [t for kind in ("text/html", "text/markdown") for t in _texts(outputs, kind)]
    if name == "07_plan.ipynb":
        pages.append((out / "strategy_plan.html").read_text(encoding="utf-8"))
    joined = "\n".join(pages)
    assert "<script>alert" not in joined, "customer text went into a page unescaped"
    for what in shown:  # the text is shown (escaped), not dropped
        assert re.search(rf"&lt;script&gt;alert\((&#x27;|&#39;|'){what}", joined), what
