"""The workbook notebooks: thin, committed clean, and executed end to end by papermill.

`make test` also runs every notebook under nbval (`--nbval-lax`), which executes the
committed notebook with its default parameters.
"""

from __future__ import annotations

import ast
import json
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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_thin_and_clean(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit without outputs"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters' for papermill"
    for cell in code:
        tree = ast.parse(cell.source.replace(";\n", "\n"))
        defs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)]
        assert not defs, "logic belongs in cs_sim, not in a notebook"


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
    # the headline table shows the hand-computed window NRR and the segment columns
    assert f"{EXPECTED['retention_window']['nrr']:.6f}" in joined
    assert "enterprise" in joined and "starter" in joined
    # a figure was drawn
    assert any(
        "image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", [])
    )


def test_what_if_notebook_reproduces_cs_sim_compare(tmp_path: Path) -> None:
    """The notebook's paired difference equals a direct cs_sim.compare with the same seed."""
    import papermill as pm

    import cs_sim

    scenarios = ROOT / "templates" / "scenarios"
    out = tmp_path / "02.ipynb"
    pm.execute_notebook(
        ROOT / "notebooks" / "06_what_if.ipynb",
        out,
        parameters={
            "baseline_path": str(scenarios / "baseline.yaml"),
            "variant_paths": [str(scenarios / "save_play.yaml")],
            "replications": 3,
            "seed": 11,
        },
        cwd=str(ROOT / "notebooks"),
        progress_bar=False,
        kernel_name="python3",
    )
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    direct = cs_sim.compare(
        scenarios / "baseline.yaml", scenarios / "save_play.yaml", replications=3, seed=11
    ).summary()
    shown = "\n".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    nrr_diff = direct.loc["nrr", "diff"]
    assert f"{nrr_diff:.6f}"[:7] in shown or f"{nrr_diff:.6e}"[:6] in shown


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
