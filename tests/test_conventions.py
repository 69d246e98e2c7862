"""Metric conventions: each definition under each convention, against a published worked
example (ChartMogul's help pages) or a hand calculation written out in the test.

The figures of the bundled example company under each convention are checked in
``tests/test_example_dataset.py`` and ``tests/test_baseline.py`` (section 20 of
``data/example/README.md``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cs_sim import kpis
from cs_sim.kpis import conventions as conv

ROOT = Path(__file__).resolve().parents[1]
M = ["2024-01", "2024-02", "2024-03"]


def _mrr(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["account_id", "month", "mrr"])


def chartmogul_net_churn_example() -> pd.DataFrame:
    """ChartMogul's net MRR churn example as accounts, plus one reactivation of $5.

    $100 MRR at the start of the month; during it $10 lost to churn (B), $10 to
    contraction (A, 40 -> 30) and one customer (C) grows by $10 (50 -> 60). D paid $5
    before the month started, not at its start, and comes back during it.
    """
    return _mrr([
        ("A", M[0], 40), ("B", M[0], 10), ("C", M[0], 50), ("D", "2023-12", 5),
        ("A", M[1], 30), ("C", M[1], 60), ("D", M[1], 5),
    ])


@pytest.mark.parametrize(("conventions", "expected"), [
    # ChartMogul: ((10 + 10) - (10 + 5)) / 100; without D's $5 it is their published 10%
    ("chartmogul", 0.05),
    # Baremetrics: (churned + contraction - expansion) / start = (10 + 10 - 10) / 100
    ("baremetrics", 0.10),
    # cs_sim: 1 - NRR; the cohort A, B, C pays 30 + 0 + 60 = 90 of 100 at the end
    ("cs_sim", 0.10),
])
def test_net_mrr_churn_rate(conventions: str, expected: float) -> None:
    got = kpis.revenue_retention(chartmogul_net_churn_example(), start=M[0], end=M[1],
                                 conventions=conventions).iloc[0]
    assert got["net_mrr_churn_rate"] == pytest.approx(expected)
    # the published example itself, with the formula on window totals
    assert conv.net_mrr_churn_rate(start_mrr=100, churned=10, contraction=10, expansion=10,
                                   reactivation=0, cohort_end_mrr=90,
                                   conventions=conventions) == pytest.approx(0.10)


def chartmogul_customer_churn_example() -> pd.DataFrame:
    """ChartMogul's customer churn example over a two-month window.

    100 customers at the start (``c000``-``c099``); 11 cancel during the period: ten
    customers of the start and ``new`` who joined within the period (monthly snapshots
    cannot show a join and a cancellation inside one month, so the period is two
    months). ``c000`` cancels in the first month and comes back in the second.
    """
    rows = [(f"c{i:03d}", M[0], 10.0) for i in range(100)]
    rows += [(f"c{i:03d}", M[1], 10.0) for i in range(1, 100)]  # c000 leaves in M1 ...
    rows += [(f"c{i:03d}", M[2], 10.0) for i in range(0, 91)]  # back in M2; c091-099 leave
    rows += [("new", M[1], 10.0)]  # joins in M1, cancels in M2
    return _mrr(rows)


@pytest.mark.parametrize(("conventions", "expected"), [
    # ChartMogul: customers who churned in the period, except those who both joined and
    # churned in it, / customers at the start = 10 / 100 (their worked example: 10%)
    ("chartmogul", 0.10),
    # Baremetrics: every cancellation, sign-ups of the period included = 11 / 100
    ("baremetrics", 0.11),
    # cs_sim: customers of the start not paying at the end: c091-c099 = 9 / 100 (c000 is
    # back, so it counts as retained)
    ("cs_sim", 0.09),
])
def test_logo_churn_rate(conventions: str, expected: float) -> None:
    got = kpis.revenue_retention(chartmogul_customer_churn_example(), start=M[0], end=M[2],
                                 conventions=conventions).iloc[0]
    assert got["logo_churn_rate"] == pytest.approx(expected)
    assert (got["churn_events"], got["returned_accounts"]) == (11, 1)
    # the published figures as window totals
    assert conv.logo_churn_rate(start_accounts=100, lost_accounts=10, churn_events=11,
                                churn_events_of_joiners=1,
                                conventions="chartmogul") == pytest.approx(0.10)


def quick_ratio_example() -> pd.DataFrame:
    """One month: new 20, expansion 8, reactivation 2, churned 5, contraction 3."""
    return _mrr([
        ("keep", M[0], 100), ("grow", M[0], 10), ("shrink", M[0], 10), ("gone", M[0], 5),
        ("back", "2023-12", 7),
        ("keep", M[1], 100), ("grow", M[1], 18), ("shrink", M[1], 7), ("new", M[1], 20),
        ("back", M[1], 2),
    ])


@pytest.mark.parametrize(("conventions", "expected"), [
    ("cs_sim", (20 + 8) / (3 + 5)),  # 3.5: reactivation is not a gain
    ("baremetrics", (20 + 8) / (3 + 5)),  # Baremetrics' published formula
    ("chartmogul", (20 + 8 + 2) / (3 + 5)),  # 3.75: reactivation counts as a gain
])
def test_quick_ratio(conventions: str, expected: float) -> None:
    got = kpis.quick_ratio(quick_ratio_example(), conventions=conventions)
    feb = got[got["month"] == pd.Timestamp(M[1] + "-01")]
    assert feb["quick_ratio"].tolist() == pytest.approx([expected])
    window = kpis.revenue_retention(quick_ratio_example(), start=M[0], end=M[1],
                                    conventions=conventions).iloc[0]
    assert window["quick_ratio"] == pytest.approx(expected)


@pytest.mark.parametrize(("conventions", "expected"), [
    ("chartmogul", 2000.0),  # ChartMogul's example: ARPA $100 / 5% customer churn
    ("baremetrics", 2000.0),  # Baremetrics: ARPU / user churn, the same formula
    ("cs_sim", 1600.0),  # Skok: ARPA x gross margin / churn = 100 x 0.8 / 0.05
])
def test_clv_with_and_without_margin(conventions: str, expected: float) -> None:
    assert kpis.clv_by_convention(100.0, churn_rate=0.05, gross_margin=0.8,
                                  conventions=conventions) == pytest.approx(expected)


def test_unknown_conventions_suggest_the_closest() -> None:
    with pytest.raises(kpis.KpiInputError, match="did you mean 'chartmogul'"):
        conv.check_conventions("chartmoghul")
    with pytest.raises(kpis.KpiInputError, match="did you mean 'baremetrics'"):
        kpis.quick_ratio(quick_ratio_example(), conventions="bare_metrics")  # type: ignore


def test_every_metric_has_one_definition_per_convention() -> None:
    pairs = [(d.metric, d.conventions) for d in conv.DEFINITIONS]
    assert len(pairs) == len(set(pairs)) == 4 * len(conv.CONVENTIONS)
    assert conv.definition("quick_ratio", "chartmogul").formula.endswith(
        "/ (contraction + churned)")


def test_readme_table_shows_each_definition_and_its_source() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Metric conventions")[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    for d in conv.DEFINITIONS:
        hits = [r for r in rows if f"`{d.conventions}`" in r and d.formula in r]
        assert len(hits) == 1, (d.metric, d.conventions)
        assert d.source in hits[0] and d.returns in hits[0]
