"""Property tests of the MRR bridge on random histories (gaps, zeros, reactivations).

Besides the identities, every month is compared with a naive dict-and-loop
implementation of the definitions in CONTRACTS.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cs_sim.kpis import mrr_bridge, mrr_by_month

# an account-month cell: absent row, explicit zero, or an amount with cents
cell = st.one_of(
    st.just(None),
    st.just(0.0),
    st.integers(min_value=1, max_value=10**6).map(lambda c: c / 100),
)


@st.composite
def histories(draw: st.DrawFn) -> pd.DataFrame:
    n_accounts = draw(st.integers(1, 8))
    n_months = draw(st.integers(1, 14))
    months = pd.date_range("2023-11-01", periods=n_months, freq="MS")
    # some whole months may have no rows at all (a gap in the data), but keep the
    # first and last so the range is known
    dropped = draw(st.sets(st.integers(1, max(n_months - 2, 1)), max_size=3))
    rows = []
    for a in range(n_accounts):
        values = draw(st.lists(cell, min_size=n_months, max_size=n_months))
        for j, v in enumerate(values):
            if v is not None and j not in dropped:
                rows.append((f"a{a}", months[j], v))
    for m in sorted({months[0], months[-1]}):
        rows.append(("anchor", m, 0.0))
    return pd.DataFrame(rows, columns=["account_id", "month", "mrr"])


def naive_bridge(mrr: pd.DataFrame) -> pd.DataFrame:
    months = pd.date_range(mrr["month"].min(), mrr["month"].max(), freq="MS")
    value = {(a, m): v for a, m, v in mrr.itertuples(index=False)}
    accounts = sorted(set(mrr["account_id"]))
    out = []
    for j in range(1, len(months)):
        row = dict.fromkeys(["new", "expansion", "contraction", "churned", "reactivation"], 0.0)
        counts = dict.fromkeys(["new", "react", "churn", "start", "end"], 0)
        for a in accounts:
            prev = value.get((a, months[j - 1]), 0.0)
            cur = value.get((a, months[j]), 0.0)
            earlier = any(value.get((a, months[i]), 0.0) > 0 for i in range(j))
            counts["start"] += prev > 0
            counts["end"] += cur > 0
            if prev > 0 and cur == 0:
                row["churned"] += prev
                counts["churn"] += 1
            elif prev > 0 and cur > prev:
                row["expansion"] += cur - prev
            elif prev > 0 and cur < prev:
                row["contraction"] += prev - cur
            elif prev == 0 and cur > 0 and not earlier:
                row["new"] += cur
                counts["new"] += 1
            elif prev == 0 and cur > 0:
                row["reactivation"] += cur
                counts["react"] += 1
        row.update({"month": months[j], "start_accounts": counts["start"],
                    "end_accounts": counts["end"], "new_accounts": counts["new"],
                    "reactivated_accounts": counts["react"],
                    "churned_accounts": counts["churn"]})
        out.append(row)
    return pd.DataFrame(out)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_bridge_properties(mrr: pd.DataFrame) -> None:
    b = mrr_bridge(mrr)
    n_months = len(pd.date_range(mrr["month"].min(), mrr["month"].max(), freq="MS"))
    assert len(b) == n_months - 1
    if b.empty:
        return
    scale = max(1.0, float(b["end_mrr"].abs().max()))
    tol = 1e-12 * scale * 10
    # identity
    lhs = (b["start_mrr"] + b["new"] + b["expansion"] + b["reactivation"]
           - b["contraction"] - b["churned"])
    np.testing.assert_allclose(lhs, b["end_mrr"], rtol=0, atol=tol)
    # continuity (exact: both come from the same integer units)
    np.testing.assert_array_equal(b["end_mrr"].to_numpy()[:-1], b["start_mrr"].to_numpy()[1:])
    # movements are non-negative
    for col in ("new", "expansion", "contraction", "churned", "reactivation"):
        assert (b[col] >= 0).all(), col
    # logo counts
    np.testing.assert_array_equal(
        b["start_accounts"] + b["new_accounts"] + b["reactivated_accounts"]
        - b["churned_accounts"],
        b["end_accounts"],
    )
    np.testing.assert_array_equal(b["end_accounts"].to_numpy()[:-1],
                                  b["start_accounts"].to_numpy()[1:])
    # the total agrees with mrr_by_month
    totals = mrr_by_month(mrr).set_index("month")
    np.testing.assert_array_equal(b.set_index("month")["end_mrr"], totals["mrr"].iloc[1:])
    np.testing.assert_array_equal(b.set_index("month")["end_accounts"],
                                  totals["active_accounts"].iloc[1:])
    # and every movement agrees with the naive implementation
    ref = naive_bridge(mrr)
    for col in ("new", "expansion", "contraction", "churned", "reactivation"):
        np.testing.assert_allclose(b[col], ref[col], rtol=0, atol=tol, err_msg=col)
    for col in ("start_accounts", "end_accounts", "new_accounts", "reactivated_accounts",
                "churned_accounts"):
        np.testing.assert_array_equal(b[col], ref[col], err_msg=col)
