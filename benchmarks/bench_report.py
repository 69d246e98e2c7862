"""Report benchmark (not a timed test): ``cs-sim report`` on data/sample, as ``make demo``.

Runs ``cs-sim report --params templates/report.yaml`` (the whole chain on
``data/sample``) in a fresh process, as ``make demo`` does, into a temporary reports
folder, and reports: the wall time of the command, the CPU time it and its kernels used
(their sum over the wall time says how many cores it kept busy), each stage's time
from the run's manifest, and their sum (what a run one stage after another would need
at the least). The load average before the run is shown: on a shared machine other
work slows the report down.

Target: the command under 60 s on this machine (2 cores).

Run: ``python benchmarks/bench_report.py`` (or ``make bench``); ``--jobs N`` runs the
stages N at once instead of one per CPU; ``--serial`` also times ``--jobs 1``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).parent / "cs-sim"
TARGET_S = 60.0


def run(jobs: int | None) -> tuple[float, float, dict]:
    """Wall seconds, CPU seconds (command and kernels) and the manifest of one report."""
    with tempfile.TemporaryDirectory(prefix="bench-report-") as out:
        cmd = [str(CLI), "report", "--params", "templates/report.yaml", "--out", out,
               "--no-progress"]
        if jobs is not None:
            cmd += ["--jobs", str(jobs)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout + proc.stderr)
            raise SystemExit(f"cs-sim report failed (exit {proc.returncode})")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        manifest = json.loads(next(Path(out).glob("*/*/manifest.json")).read_text())
    return wall, cpu, manifest


def show(label: str, wall: float, cpu: float, manifest: dict, *, target: bool) -> None:
    stages = manifest["stages"]
    total = sum(s["seconds"] for s in stages.values())
    verdict = (f"; target < {TARGET_S:.0f} s: {'OK' if wall < TARGET_S else 'MISSED'}"
               if target else "")
    print(f"[{label}] cs-sim report: {wall:.1f} s wall, {cpu:.1f} s CPU "
          f"({cpu / wall:.2f} cores busy), {manifest['jobs']} stages at once{verdict}")
    print(f"    stages (kernel start to last cell; sum {total:.1f} s): " + ", ".join(
        f"{name} {s['seconds']:.1f} s" for name, s in stages.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=None, help="stages at once")
    parser.add_argument("--serial", action="store_true", help="also time --jobs 1")
    args = parser.parse_args()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"data/sample, templates/report.yaml; {os.cpu_count()} CPUs; load average "
          f"before: {load}")
    wall, cpu, manifest = run(args.jobs)
    show("1", wall, cpu, manifest, target=True)
    if args.serial:
        wall, cpu, manifest = run(1)
        show("2", wall, cpu, manifest, target=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
