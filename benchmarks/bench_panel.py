"""What-if panel benchmark (not a timed test): control change to redrawn figure.

The interactive case: the baseline template scaled to 5,000 accounts x 24 months, 20
replications per run (three tiers, onboarding, four plays), in the panel
(:func:`cs_sim.widgets.whatif_panel`, no browser). Each step moves one control (the
high-touch headcount, to a new value each time) and waits until the panel has drawn
the new comparison: debounce, both runs on common random numbers, the forest and fan
charts as PNG and the tables. Reported as the median over the steps, with its parts
(the debounce, the comparison, the drawing) measured apart.

Target ("live feel"): median < 2 s on this machine (2 cores). Also shown, without a
target: the same step when a play's effect is given an uncertainty range (each
replication then runs with its own draw).

Run: ``python benchmarks/bench_panel.py`` (or ``make bench``); ``--quick`` takes fewer
steps and skips the uncertainty case.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_sim import bench_scenario  # noqa: E402

from cs_sim.widgets import whatif_panel  # noqa: E402
from cs_sim.widgets.figures import render  # noqa: E402
from cs_sim.widgets.runner import DEBOUNCE_SECONDS  # noqa: E402

TARGET_S = 2.0
KEY = "tier.high_touch.headcount"


def steps(panel, values: list[int]) -> tuple[list[float], list[float]]:
    """Seconds from each control change to the panel's redrawn figure, and of each the
    seconds the worker spent running and drawing."""
    out, worker = [], []
    for v in values:
        before = panel.rendered
        t0 = time.perf_counter()
        panel.set(KEY, v)
        if not panel.wait(600):
            raise RuntimeError("the panel did not finish")
        out.append(time.perf_counter() - t0)
        worker.append(panel.runner.last_seconds)
        assert panel.rendered is not before and panel.forest.value == panel.rendered.forest
    return out, worker


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 steps, no uncertainty case")
    args = parser.parse_args()

    base = bench_scenario(5000, 24)
    head = next(t.team.headcount for t in base.tiers if t.name == "high_touch")
    n = 3 if args.quick else 7
    values = [head + 1 + i for i in range(n)]
    print(f"scenario: {base.population.n_accounts} accounts x {base.horizon_months} months, "
          f"20 replications per run, {len(base.plays)} plays; {n} steps of {KEY} "
          f"({head} -> {values[0]} .. {values[-1]}), debounce {DEBOUNCE_SECONDS} s")
    t0 = time.perf_counter()
    panel = whatif_panel(base, replications=20, seed=1, templates=False)
    panel.wait(600)
    print(f"[0] first drawing (warm-up of the baseline, imports): "
          f"{time.perf_counter() - t0:.2f} s")

    wall, worker = steps(panel, values)
    median = statistics.median(wall)
    ok = "OK" if median < TARGET_S else "MISSED"
    print(f"[1] control change -> redrawn figure: median {median:.2f} s "
          f"(min {min(wall):.2f}, max {max(wall):.2f}; target < {TARGET_S:.0f} s: {ok}); "
          f"the worker's run and drawing: median {statistics.median(worker):.2f} s")

    # its parts, measured apart on the same comparison
    job = panel.model.request()
    sim, draw = [], []
    for _ in range(3):
        t = time.perf_counter()
        cmp = panel.model.run(job)
        sim.append(time.perf_counter() - t)
        t = time.perf_counter()
        render(cmp, panel.model.notes(job))
        draw.append(time.perf_counter() - t)
    panel.wait(600)
    print(f"    of which: debounce {DEBOUNCE_SECONDS:.2f} s, comparison (2 runs) median "
          f"{statistics.median(sim):.2f} s, figures and tables median "
          f"{statistics.median(draw):.2f} s")
    if args.quick:
        return 0
    panel.set("play.qbr.range", 0.1)
    panel.wait(600)
    t = time.perf_counter()
    panel.set("play.qbr.effect", 0.6)
    panel.wait(600)
    print(f"[2] the same step with an uncertain play effect (qbr 0.6 +/- 0.1): "
          f"{time.perf_counter() - t:.2f} s (no target)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
