"""Each customer's life starts where its signup says, in the simulator and in calibration.

Hand example: data from 2025-01 to 2025-06. Three customers start inside the data, each
signing up 10 days before the first day of its first paid month (a 10-day trial from the
22nd of a 31-day month, or the 19th/21st of shorter ones): moving signups by 10 days (the
smallest delay that puts all three into their first paid month) dates them right. Two
customers pay from 2025-01: one signed up on 2023-06-25 (+10 days: 2023-07, so tenure
in 2025-06 is 23 months), one on 2024-12-28 (+10 days: 2025-01, tenure 5, not later than
the data's first month).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cs_sim.io import Dataset
from cs_sim.sim.population import initial_population
from cs_sim.sim.scenario_io import scenario_from_dict
from cs_sim.sim.starts import life_starts, month_index

MONTHS = pd.date_range("2025-01-01", "2025-06-01", freq="MS")


def _dataset() -> Dataset:
    signup = {"old": "2023-06-25", "edge": "2024-12-28", "n1": "2025-01-22",
              "n2": "2025-02-19", "n3": "2025-03-22"}
    first = {"old": 0, "edge": 0, "n1": 1, "n2": 2, "n3": 3}
    accounts = pd.DataFrame({
        "account_id": list(signup), "segment": "x", "contract": "annual", "employees": 20,
        "signup_date": pd.to_datetime(list(signup.values())),
    })
    rows = [(a, m, 100.0) for a, f in first.items() for m in MONTHS[f:]]
    mrr = pd.DataFrame(rows, columns=["account_id", "month", "mrr"])
    return Dataset(accounts=accounts, mrr=mrr)


def test_life_starts_by_hand() -> None:
    ds = _dataset()
    first_paid = ds.mrr.groupby("account_id", sort=False)["month"].min()
    signup = ds.accounts.set_index("account_id")["signup_date"].reindex(first_paid.index)
    start, delay = life_starts(month_index(first_paid).astype(int), signup,
                               int(month_index([MONTHS[0]])[0]))
    assert delay == 10
    want = {"old": 2023 * 12 + 6, "edge": 2025 * 12, "n1": 2025 * 12 + 1,
            "n2": 2025 * 12 + 2, "n3": 2025 * 12 + 3}
    assert dict(zip(first_paid.index, start.tolist(), strict=True)) == want


def test_starting_tenure_follows_the_signup_date() -> None:
    """Before, every account paying in 2025-01 had tenure 5: their renewals all fell in
    the same simulated month."""
    sc = scenario_from_dict({"population": {"source": "dataset"}, "segments": [{"name": "x"}]})
    pop = initial_population(sc, _dataset(), 1)
    got = dict(zip(pop.account_id, pop.tenure[0].tolist(), strict=True))
    assert got == {"edge": 5, "n1": 4, "n2": 3, "n3": 2, "old": 23}


def test_without_signup_dates_tenure_counts_from_the_first_payment() -> None:
    ds = _dataset()
    ds = Dataset(accounts=ds.accounts.drop(columns="signup_date"), mrr=ds.mrr)
    sc = scenario_from_dict({"population": {"source": "dataset"}, "segments": [{"name": "x"}]})
    pop = initial_population(sc, ds, 1)
    assert dict(zip(pop.account_id, pop.tenure[0].tolist(), strict=True))["old"] == 5
    assert np.all(pop.tenure >= 0)
