"""Plots take ax=, return it, and draw the numbers they are given."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from cs_sim.plotting import plot_simulation

matplotlib.use("Agg")


def test_plot_simulation_draws_mean_and_band() -> None:
    import matplotlib.pyplot as plt

    # 3 replications x 4 months; the mean of month 2 is (10 + 20 + 60) / 3 = 30
    monthly = pd.DataFrame(
        {
            "replication": np.repeat([0, 1, 2], 4),
            "month": np.tile([1, 2, 3, 4], 3),
            "mrr_end": [1, 10, 5, 5, 2, 20, 5, 5, 3, 60, 5, 5],
        }
    )
    fig, ax = plt.subplots()
    assert plot_simulation(monthly, label="base", ax=ax) is ax
    line = ax.get_lines()[0]
    assert list(line.get_ydata()) == pytest.approx([2, 30, 5, 5])
    band = ax.collections[0].get_paths()[0].vertices
    # the band spans the 5th..95th percentile: month 2 -> 11 .. 56 by linear interpolation
    at_month_2 = band[np.isclose(band[:, 0], 2), 1]
    assert sorted(at_month_2)[0] == pytest.approx(11.0)
    assert sorted(at_month_2)[-1] == pytest.approx(56.0)
    with pytest.raises(ValueError, match="not a column"):
        plot_simulation(monthly, metric="nope", ax=ax)
    plt.close(fig)


def test_plot_ticks_show_units() -> None:
    import matplotlib.pyplot as plt

    from cs_sim.plotting import plot_retention

    monthly = pd.DataFrame({"replication": [0, 0], "month": [1, 2], "mrr_end": [1e6, 2e6]})
    fig, ax = plt.subplots()
    plot_simulation(monthly, unit="money", ax=ax)
    assert ax.yaxis.get_major_formatter()(1234567.0, 0) == "1,234,567"
    ax.clear()
    retention = pd.DataFrame({"month": pd.to_datetime(["2025-01-01", "2025-02-01"]),
                              "nrr": [1.02, 0.97], "grr": [0.95, 0.9]})
    plot_retention(retention, ax=ax)
    assert list(ax.get_lines()[0].get_ydata()) == pytest.approx([1.02, 0.97])  # fractions
    assert ax.yaxis.get_major_formatter()(0.925, 0) == "92.5%"
    plt.close(fig)
