"""Benchmark: the statistical models of ``cs_sim.models`` on the bundled sample.

Targets (issue 8; interactive use in the KPI-baseline notebook, 2 cores): each step
under 5 s on ``data/sample`` (about 3,300 customers x 36 months), the published fits
under 2 s.
Run: ``.venv/bin/python benchmarks/bench_models.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from cs_sim import models
from cs_sim.io import load_dataset

ROOT = Path(__file__).resolve().parents[1]


def _time(label: str, target: float, func) -> None:
    start = time.perf_counter()
    func()
    took = time.perf_counter() - start
    flag = "ok" if took < target else "SLOW"
    print(f"{label:38s} {took:7.3f} s   (target < {target:g} s) {flag}")


def main() -> None:
    # imports are not what is measured
    import statsmodels.formula.api  # noqa: F401

    ds = load_dataset(ROOT / "data" / "sample")
    cdnow = pd.read_csv(ROOT / "tests" / "data" / "cdnow_summary.csv")
    lives = models.account_lifetimes(ds, by="segment")
    _time("account_lifetimes", 5, lambda: models.account_lifetimes(ds, by="segment"))
    _time("kaplan_meier by segment + log-rank", 5,
          lambda: models.kaplan_meier(lives["duration"], lives["churned"],
                                      groups=lives["segment"], entry=lives["entry"]).logrank())
    _time("cox (segment, log MRR)", 5,
          lambda: models.cox(lives, "C(segment) + np.log(last_mrr)", event="churned",
                             entry="entry"))
    _time("churn_drivers (panel + logit)", 5,
          lambda: models.churn_drivers(ds, controls=("segment",)))
    _time("clv_by_segment (sBG x 3)", 5, lambda: models.clv_by_segment(ds, gross_margin=0.8))
    _time("validate_health_score (3 months)", 5, lambda: models.validate_health_score(ds))
    _time("forecast_mrr by segment", 5, lambda: models.forecast_mrr(ds, by="segment"))
    _time("forecast_renewals by segment", 5, lambda: models.forecast_renewals(ds, by="segment"))
    _time("fit_bgnbd on CDNOW (2,357)", 2,
          lambda: models.fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"]))
    _time("fit_gamma_gamma on CDNOW (946)", 2,
          lambda: models.fit_gamma_gamma(cdnow["x"], cdnow["zbar"]))


if __name__ == "__main__":
    main()
