"""Packaging checks: pyproject.toml is the source of truth, environment.yml mirrors it."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

# conda-forge names that differ from the PyPI names
PYPI_TO_CONDA = {"dask[distributed]": ["dask", "distributed"]}


def _split(req: str) -> tuple[str, str]:
    """Split 'name[extra]>=1.2' into ('name[extra]', '>=1.2')."""
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+(?:\[[^\]]+\])?)\s*(.*)$", req)
    assert m, req
    return m.group(1).lower(), m.group(2).replace(" ", "")


def _pyproject_requirements() -> dict[str, str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"]) + list(meta["optional-dependencies"]["test"])
    out: dict[str, str] = {}
    for req in reqs:
        name, spec = _split(req)
        for conda_name in PYPI_TO_CONDA.get(name, [name]):
            out[conda_name] = spec
    return out


def _environment_requirements() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out: dict[str, str] = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            continue
        name, spec = _split(dep)
        if name in {"python", "pip"}:
            continue
        out[name] = spec
    return out


def test_environment_yml_mirrors_pyproject() -> None:
    assert _environment_requirements() == _pyproject_requirements()


def test_environment_yml_installs_the_package_with_test_extras() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    assert pip_sections == [["-e .[test]"]]
    assert "conda-forge" in env["channels"]


def test_python_floor_matches() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert meta["requires-python"] == ">=3.11"
    assert "python>=3.11" in env["dependencies"]


def test_import_is_cheap_and_side_effect_free() -> None:
    """Importing cs_sim must not pull in the heavy libraries."""
    code = (
        "import sys, cs_sim; "
        "heavy = {'pandas', 'statsmodels', 'simpy', 'dask', 'matplotlib', 'pandera', 'scipy'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_import_is_cheap() -> None:
    """`cs-sim --help` stays fast: the CLI lists the engines without importing the simulator."""
    code = (
        "import sys, cs_sim.cli; "
        "heavy = {'numpy', 'pandas', 'pydantic', 'simpy', 'dask', 'pandera', 'scipy'}; "
        "print(sorted(heavy & set(sys.modules)), cs_sim.cli.engine_names())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] ['dask', 'local', 'processes']"


def test_top_level_layout() -> None:
    for name in ["notebooks", "cs_sim", "templates", "data", "reports", "tests", "benchmarks"]:
        assert (ROOT / name).is_dir(), name
    for name in ["environment.yml", "README.md", "Makefile", ".ci/run", "pyproject.toml"]:
        assert (ROOT / name).is_file(), name
    assert "make test" in (ROOT / ".ci/run").read_text()


def test_lazy_names_match_all() -> None:
    import cs_sim

    assert set(cs_sim.__all__) - {"__version__"} == set(cs_sim._LAZY)


def _modules() -> list[str]:
    out = []
    for path in sorted((ROOT / "cs_sim").rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def test_every_module_imports_on_its_own() -> None:
    """No import cycle: each module imports first, with no other cs_sim module loaded."""
    code = (
        "import importlib, sys\n"
        "bad = []\n"
        f"for m in {_modules()!r}:\n"
        "    for k in [k for k in sys.modules if k.split('.')[0] == 'cs_sim']:\n"
        "        del sys.modules[k]\n"
        "    try:\n"
        "        importlib.import_module(m)\n"
        "    except Exception as exc:\n"
        "        bad.append(f'{m}: {exc!r}')\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_every_exception_is_defined_in_errors() -> None:
    import importlib

    import cs_sim.errors
    import cs_sim.kpis

    defined = []
    for name in _modules():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseException) \
                    and value.__module__ == name and name != "cs_sim.errors":
                defined.append(f"{name}.{value.__name__}")
    assert defined == []
    assert cs_sim.kpis.KpiInputError is cs_sim.errors.KpiInputError  # re-exported
    assert cs_sim.kpis.KpiConfigError is cs_sim.errors.KpiConfigError
    assert not hasattr(cs_sim.errors, "ReportError")  # never raised, removed


def test_lazy_names_of_the_simulator_package() -> None:
    import pytest

    import cs_sim.sim

    assert set(cs_sim.sim.__all__) == set(cs_sim.sim._LAZY)
    assert dir(cs_sim.sim) == sorted(cs_sim.sim.__all__)
    from cs_sim.sim.runners import simulate

    assert cs_sim.sim.simulate is simulate is cs_sim.simulate
    with pytest.raises(AttributeError, match="'cs_sim.sim' has no attribute 'nope'"):
        cs_sim.sim.nope  # noqa: B018
