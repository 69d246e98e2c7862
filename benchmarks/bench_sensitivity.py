"""Sensitivity benchmark (not a timed test): prints figures against their target.

Target (issue "decision-grade what-if"): a tornado over 10 parameters of the interactive
case (the baseline template scaled to 5,000 accounts x 24 months, 20 replications per
run, full scenario: three tiers, onboarding and four plays) in < 15 s on this machine.
The tornado runs 1 + 2 x 10 = 21 simulations. Also shown, without a target: the same
tornado of a variant against the baseline (twice the runs) and the Sobol indices at the
default sample size on a smaller case.

Run: ``python benchmarks/bench_sensitivity.py`` (or ``make bench``); ``--quick`` skips
the variant and Sobol figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_sim import bench_scenario  # noqa: E402

from cs_sim.sim.scenario import Scenario  # noqa: E402
from cs_sim.sim.sensitivity import sensitivity  # noqa: E402

TARGET_S = 15.0

#: ten uncertain parameters of the baseline template: path -> distribution
PARAMETERS = {
    "segments.smb.churn_intercept": {"dist": "normal", "mean": -3.5, "sd": 0.2},
    "segments.mid_market.churn_intercept": {"dist": "normal", "mean": -4.0, "sd": 0.2},
    "segments.enterprise.churn_intercept": {"dist": "normal", "mean": -4.6, "sd": 0.2},
    "behaviour.churn.health_slope": {"dist": "normal", "mean": -0.45, "sd": 0.05},
    "behaviour.support.fcr": {"dist": "beta", "a": 72, "b": 28},
    "gross_margin": {"dist": "uniform", "low": 0.75, "high": 0.85},
    "onboarding.effect.hazard_multiplier":
        {"dist": "triangular", "low": 0.6, "mode": 0.8, "high": 0.95},
    "plays.qbr.effect.hazard_multiplier":
        {"dist": "triangular", "low": 0.5, "mode": 0.7, "high": 0.9},
    "plays.low_usage_check.effect.hazard_multiplier":
        {"dist": "triangular", "low": 0.7, "mode": 0.85, "high": 0.95},
    "plays.champion_change.effect.hazard_multiplier":
        {"dist": "triangular", "low": 0.6, "mode": 0.8, "high": 0.95},
}


def _nest(path: str, value: object) -> dict:
    """``with_changes`` mapping that sets ``path`` (named list items by name)."""
    parts = path.split(".")
    if parts[0] in ("segments", "plays"):
        inner: object = value
        for key in reversed(parts[2:]):
            inner = {key: inner}
        return {parts[0]: [{"name": parts[1], **inner}]}  # type: ignore[dict-item]
    out: object = value
    for key in reversed(parts):
        out = {key: out}
    return out  # type: ignore[return-value]


def uncertain(sc: Scenario) -> Scenario:
    """``sc`` with the ten :data:`PARAMETERS` given as distributions."""
    for path, dist in PARAMETERS.items():
        sc = sc.with_changes(_nest(path, dist))
    return sc


def timed(label: str, fn, *, wall_only: bool = False) -> tuple[float, object]:
    """Seconds of ``fn()``: the smaller of wall and CPU time (other load on the machine
    stretches the wall time), or the wall time where the work runs in other processes."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"{label}: wall {wall:.2f} s, cpu {cpu:.2f} s (this process)")
    return (wall if wall_only else min(wall, cpu)), out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the target case")
    args = parser.parse_args()

    sc = uncertain(bench_scenario(5000, 24))
    assert len(sc.uncertain) == 10
    print(f"scenario: {sc.population.n_accounts} accounts, {sc.horizon_months} months, "
          f"{len(sc.uncertain)} uncertain parameters, {len(sc.plays)} plays")
    small = uncertain(bench_scenario(300, 6))
    sensitivity(small, replications=2, seed=1, sobol_samples=0)  # warm-up: imports, caches

    best, res = timed("[1] tornado, 10 parameters, 5,000 x 24 x 20 per run (21 runs)",
                      lambda: sensitivity(sc, replications=20, seed=1, sobol_samples=0))
    ok = "OK" if best < TARGET_S else "MISSED"
    print(f"    {best:.2f} s (target < {TARGET_S:.0f} s: {ok})")
    top = res.tornado[res.tornado["metric"] == "profit"].iloc[0]  # type: ignore[attr-defined]
    print(f"    largest profit swing: {top['parameter']} ({top['swing']:,.0f})")
    sensitivity(small, replications=2, seed=1, sobol_samples=0, engine="processes")
    best, _ = timed(f"[1b] the same tornado on the processes engine ({os.cpu_count()} worker "
                    "processes)", lambda: sensitivity(sc, replications=20, seed=1,
                                                     sobol_samples=0, engine="processes"),
                    wall_only=True)
    ok = "OK" if best < TARGET_S else "MISSED"
    print(f"    {best:.2f} s wall (target < {TARGET_S:.0f} s: {ok})")
    if args.quick:
        return 0
    variant = sc.with_changes({"tiers": [{"name": "low_touch", "team": {"headcount": 12}}]})
    timed("[2] the same tornado of a variant against the baseline (42 runs)",
          lambda: sensitivity(sc, variant, replications=20, seed=1, sobol_samples=0))
    mid = uncertain(bench_scenario(2000, 24))
    timed("[3] Sobol indices, default size (32 x 12 points of 4 replications), "
          "2,000 x 24", lambda: sensitivity(mid, replications=20, seed=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
