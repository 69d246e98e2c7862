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
    assert [p.name for p in NOTEBOOKS][:1] == ["01_kpi_baseline.ipynb"]


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
        ROOT / "notebooks" / "01_kpi_baseline.ipynb",
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
        ROOT / "notebooks" / "02_what_if.ipynb",
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
