# Every target bootstraps .venv on a fresh clone; only Python 3.11+ and make are needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint lab bench panel mutation clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "cs_sim needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/cs-sim validate data/example
	$(BIN)/cs-sim kpis data/example --start 2025-01 --out reports/example-baseline
	$(BIN)/cs-sim report --params templates/report.yaml

test: $(VENV)/.installed-test
	$(BIN)/ruff check cs_sim tests benchmarks
	$(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax tests notebooks

lint: $(VENV)/.installed-test
	$(BIN)/ruff check cs_sim tests benchmarks

# JupyterLab rooted at the repository (data/, templates/, reports/ in its file browser),
# on the chain's index; works as root; ARGS passes flags, e.g. ARGS="--no-browser --port 9000"
ARGS ?=
lab: $(VENV)/.installed
	$(BIN)/jupyter lab --allow-root --ServerApp.root_dir="$(CURDIR)" $(ARGS) notebooks/00_index.ipynb

# the what-if panel as a web page on 127.0.0.1 (Voila); SCENARIO=path/to/file.yaml to choose
SCENARIO ?= templates/scenarios/baseline.yaml
panel: $(VENV)/.installed
	$(BIN)/cs-sim panel $(SCENARIO)

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_io.py
	$(BIN)/python benchmarks/bench_bridge.py
	$(BIN)/python benchmarks/bench_sim.py
	$(BIN)/python benchmarks/bench_dask.py
	$(BIN)/python benchmarks/bench_models.py
	$(BIN)/python benchmarks/bench_calibrate.py
	$(BIN)/python benchmarks/bench_sensitivity.py
	$(BIN)/python benchmarks/bench_panel.py
	$(BIN)/python benchmarks/bench_report.py

# named errors put into a copy of cs_sim: each must make a behavioural test fail (slow:
# several minutes, not part of `make test`); the table says which test caught which
mutation: $(VENV)/.installed-test
	$(BIN)/python tools/mutation_check.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
