"""Benchmark: calibration and the backtest gate on the bundled sample.

Targets (issue 8, this machine, 2 cores): ``cs-sim calibrate data/sample --out
baseline.yaml`` under 30 s and ``cs-sim backtest data/sample`` (12 months held out, 100
replications with the estimates' uncertainty) under 60 s, each timed as a whole command
(a fresh process: imports included); the API calls are timed in this process too.
Run: ``.venv/bin/python benchmarks/bench_calibrate.py``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def _report(label: str, took: float, target: float) -> None:
    flag = "ok" if took < target else "SLOW"
    print(f"{label:44s} {took:7.2f} s   (target < {target:g} s) {flag}")


def _command(label: str, target: float, *args: str) -> None:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "cs_sim.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if done.returncode != 0:
        print(f"{label}: failed (exit {done.returncode})\n{done.stderr}")
        return
    _report(label, took, target)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _command("cs-sim calibrate data/sample --out ...", 30, "calibrate", str(SAMPLE),
                 "--out", str(Path(tmp) / "baseline.yaml"))
    _command("cs-sim backtest data/sample", 60, "backtest", str(SAMPLE), "--seed", "1",
             "--json")
    from cs_sim.calibration import backtest, calibrate
    from cs_sim.io import load_dataset

    ds = load_dataset(SAMPLE)
    start = time.perf_counter()
    calibrate(ds)
    _report("calibrate(dataset) in process", time.perf_counter() - start, 30)
    start = time.perf_counter()
    result = backtest(ds, seed=1)
    _report("backtest(dataset) in process", time.perf_counter() - start, 60)
    cov = ", ".join(f"{k} {v:.0%}" for k, v in result.coverage.items())
    print(f"{'':44s} passed: {result.passed}; coverage {cov}")


if __name__ == "__main__":
    main()
