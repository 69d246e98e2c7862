"""Benchmark: the MRR bridge on 3.6M account-months against the same query in DuckDB.

Target (issue "Bring your own data"): ``cs_sim.kpis.mrr_bridge`` at most 1.0x the time
of an equivalent DuckDB SQL query on a table of 100,000 accounts x 36 months (one row
per account and month, as a loaded ``mrr`` table: ``account_id`` text, ``month`` on the
first of the month, ``mrr`` float). Both run in a warm process on the same pandas
DataFrame; the best of several runs is reported, wall-clock and process CPU time. The
two results are compared column by column (they must agree exactly on this table).

The SQL uses ``lag`` over each account's months, which is equivalent to the bridge on a
table with a row for every account and month (missing account-months would need a
completed grid first; ``mrr_bridge`` handles them itself).

Run: ``python benchmarks/bench_bridge.py`` (or ``make bench``); ``--accounts`` and
``--months`` change the size.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from cs_sim.kpis import mrr_bridge

SQL = """
WITH t AS (
    SELECT month, mrr,
           lag(mrr, 1, 0) OVER w AS prev,
           coalesce(max(CASE WHEN mrr > 0 THEN 1 ELSE 0 END) OVER (
               PARTITION BY account_id ORDER BY month
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS ever
    FROM mrr
    WINDOW w AS (PARTITION BY account_id ORDER BY month)
)
SELECT month,
    sum(prev) AS start_mrr,
    sum(CASE WHEN mrr > 0 AND ever = 0 THEN mrr ELSE 0 END) AS new,
    sum(CASE WHEN prev > 0 AND mrr > prev THEN mrr - prev ELSE 0 END) AS expansion,
    sum(CASE WHEN prev > 0 AND mrr > 0 AND mrr < prev THEN prev - mrr ELSE 0 END)
        AS contraction,
    sum(CASE WHEN prev > 0 AND mrr = 0 THEN prev ELSE 0 END) AS churned,
    sum(CASE WHEN prev = 0 AND mrr > 0 AND ever = 1 THEN mrr ELSE 0 END) AS reactivation,
    sum(mrr) AS end_mrr,
    count(*) FILTER (WHERE prev > 0) AS start_accounts,
    count(*) FILTER (WHERE mrr > 0 AND ever = 0) AS new_accounts,
    count(*) FILTER (WHERE prev > 0 AND mrr > prev) AS expansion_accounts,
    count(*) FILTER (WHERE prev > 0 AND mrr > 0 AND mrr < prev) AS contraction_accounts,
    count(*) FILTER (WHERE prev > 0 AND mrr = 0) AS churned_accounts,
    count(*) FILTER (WHERE prev = 0 AND mrr > 0 AND ever = 1) AS reactivated_accounts,
    count(*) FILTER (WHERE mrr > 0) AS end_accounts
FROM t
WHERE month > (SELECT min(month) FROM mrr)
GROUP BY month
ORDER BY month
"""


def build_table(n_accounts: int, n_months: int, *, seed: int = 7) -> pd.DataFrame:
    """A loaded-looking mrr table: one row per account and month, zeros when not paying.

    Accounts start over the period, churn (some come back), expand and contract; MRR
    is in whole cents so that both engines add exactly the same numbers.
    """
    rng = np.random.default_rng(seed)
    start = rng.integers(0, n_months, n_accounts)
    start[: n_accounts // 2] = 0  # half the customers already pay in the first month
    base = np.round(rng.lognormal(6.0, 0.8, n_accounts), 2)
    months = np.arange(n_months)
    alive = months[None, :] >= start[:, None]
    churn = rng.random((n_accounts, n_months)) < 0.02
    back = rng.random((n_accounts, n_months)) < 0.10
    paying = np.zeros((n_accounts, n_months), dtype=bool)
    state = np.zeros(n_accounts, dtype=bool)
    for m in range(n_months):  # a two-state chain: paying -> churned -> maybe back
        state = np.where(state, ~churn[:, m], back[:, m]) | (start == m)
        paying[:, m] = state & alive[:, m]
    steps = rng.choice([0.8, 1.0, 1.0, 1.0, 1.25], size=(n_accounts, n_months))
    level = base[:, None] * np.cumprod(steps, axis=1)
    mrr = np.where(paying, np.round(level, 2), 0.0)
    ids = np.char.add("A", np.char.zfill(np.arange(n_accounts).astype(str), 7))
    month_values = pd.date_range("2022-01-01", periods=n_months, freq="MS").to_numpy()
    return pd.DataFrame({
        "account_id": np.repeat(ids, n_months).astype(object),
        "month": np.tile(month_values, n_accounts).astype("datetime64[ns]"),
        "mrr": mrr.ravel(),
    }).astype({"account_id": "str"})


def _best(func: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        result = func()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    try:
        import duckdb
    except ImportError:  # pragma: no cover - duckdb is in the test extra
        raise SystemExit("bench_bridge needs duckdb: pip install -e '.[test]'") from None

    mrr = build_table(args.accounts, args.months)
    con = duckdb.connect()
    con.register("mrr", mrr)

    def sql() -> pd.DataFrame:
        return con.execute(SQL).df()

    sql()
    mrr_bridge(mrr)  # warm both
    t_ours, c_ours, ours = _best(lambda: mrr_bridge(mrr), args.repeat)
    t_duck, c_duck, duck = _best(sql, args.repeat)
    assert isinstance(ours, pd.DataFrame) and isinstance(duck, pd.DataFrame)
    same = len(ours) == len(duck) and all(
        np.allclose(ours[c].to_numpy(dtype=float), duck[c].to_numpy(dtype=float),
                    rtol=0, atol=1e-6)
        for c in duck.columns if c != "month"
    )
    ratio = t_ours / t_duck
    print(f"table: {len(mrr):,} rows ({args.accounts:,} accounts x {args.months} months)")
    print(f"mrr_bridge  {t_ours:6.3f} s wall  {c_ours:6.3f} s CPU")
    print(f"DuckDB SQL  {t_duck:6.3f} s wall  {c_duck:6.3f} s CPU  (duckdb {duckdb.__version__})")
    print(f"ratio {ratio:.2f}x (target <= 1.0x: {'met' if ratio <= 1.0 else 'NOT met'}); "
          f"results agree: {same}")


if __name__ == "__main__":
    main()
