"""Benchmark: engine="dask" with 1 and 2 local workers vs engine="local".

Case: the baseline scenario with 5,000 accounts x 24 months x 40 replications. Each
Dask run uses a LocalCluster of worker *processes* (one thread each), started before
the clock starts and warmed up with a small run (so that the workers have imported
cs_sim); the start-up time is reported separately. Every run must give the same
numbers, bit for bit, as the local engine (checked here).

Run: ``.venv/bin/python benchmarks/bench_dask.py [--replications 40] [--repeat 2]``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas.testing as pdt

import cs_sim

ROOT = Path(__file__).resolve().parents[1]
FRAMES = ("monthly", "tiers", "plays", "per_replication")


def _best(func, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--replications", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    sc = cs_sim.load_scenario(ROOT / "templates" / "scenarios" / "baseline.yaml").with_changes(
        {"population": {"n_accounts": args.accounts}, "horizon_months": args.months}
    )
    reps, seed = args.replications, 1
    cores = os.cpu_count()
    print(f"case: {args.accounts} accounts x {args.months} months x {reps} replications "
          f"(baseline scenario); machine: {cores} CPU cores"
          + (" -- only 2 cores, shared with other work: at most a 2x speed-up is possible"
             if cores is not None and cores <= 2 else ""))
    cs_sim.simulate(sc, replications=1, seed=seed)  # imports, caches
    t_local, local = _best(lambda: cs_sim.simulate(sc, replications=reps, seed=seed),
                           args.repeat)
    print(f"local            {t_local:7.2f} s   (1.00x)")
    for workers in (1, 2):
        t0 = time.perf_counter()
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=":0") as cluster, Client(cluster) as client:
            options = {"client": client}
            cs_sim.simulate(sc.with_changes({"horizon_months": 2}), replications=workers,
                            seed=seed, engine="dask", chunk_size=1,
                            engine_options=options)  # warm the workers up
            t_start = time.perf_counter() - t0
            t_dask, res = _best(
                lambda options=options: cs_sim.simulate(sc, replications=reps, seed=seed,
                                                        engine="dask",
                                                        engine_options=options),
                args.repeat,
            )
        for name in FRAMES:
            pdt.assert_frame_equal(getattr(res, name), getattr(local, name), check_exact=True)
        print(f"dask {workers} worker{'s' if workers > 1 else ' '}  {t_dask:7.2f} s   "
              f"({t_local / t_dask:.2f}x)   cluster start + warm-up {t_start:.1f} s; "
              "same numbers as local: yes")


if __name__ == "__main__":
    main()
