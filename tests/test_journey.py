"""Customer journey map: each stage's episodes checked by hand on data/example.

The example company's accounts are described one by one in data/example/README.md;
the counts below follow from its usage, mrr, tickets, surveys and interactions files and
the stage definitions in the docstring of cs_sim.journey (worked out in each test).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import cs_sim
from cs_sim.errors import StrategyInputError
from cs_sim.journey import STAGES, journey_map
from cs_sim.kpis import renewal_rate

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = json.loads((ROOT / "data" / "example" / "expected_kpis.json").read_text())


@pytest.fixture(scope="module")
def example() -> cs_sim.Dataset:
    return cs_sim.load_dataset(ROOT / "data" / "example")


@pytest.fixture(scope="module")
def jm(example: cs_sim.Dataset):
    return journey_map(example)


@pytest.fixture(scope="module")
def sample() -> cs_sim.Dataset:
    return cs_sim.load_dataset(ROOT / "data" / "sample")


def counts(jm, stage: str) -> tuple[int, int, int, int]:
    row = jm.stages.loc[stage]
    return (row["entered"], row["converted"], row["dropped"], row["in_progress"])


def test_onboarding_and_time_to_first_value(jm) -> None:
    """New accounts with usage from their first paid month: A04..A09 (2025-01), A10, A11,
    A12. At 60% of seats active, A06 (5/10 in Jan, 3/4 in Feb) and A12 (30/60 in May,
    45/60 in Jun) reach first value one month after starting, the others in their first
    month (A05 and A07 exactly at 6/10 and 12/20)."""
    assert counts(jm, "onboarding") == (9, 9, 0, 0)
    assert jm.metric("onboarding", "time_to_first_value_median") == 0
    assert jm.metric("onboarding", "time_to_first_value_mean") == pytest.approx(2 / 9)
    assert jm.metric("onboarding", "onboarding_completion") == 1.0
    assert jm.metric("onboarding", "new_accounts") == 9


def test_adoption_needs_three_active_months_in_a_row(jm) -> None:
    """Adopted: A04, A07, A08, A09 (Jan-Mar), A11 (Apr-Jun). Dropped before adopting: A05
    (0.6, 0.4, 0 then churn in Apr), A06 (churns in Mar), A10 (0.8, 0.6, 0.4, churns in
    Jun). In progress: A12 (first value in Jun). Months in stage: 2 for the five adopters,
    3 (A05), 1 (A06), 4 (A10): median 2."""
    assert counts(jm, "adoption") == (9, 5, 3, 1)
    assert jm.stages.loc["adoption", "conversion_rate"] == pytest.approx(5 / 8)
    assert jm.stages.loc["adoption", "drop_off_rate"] == pytest.approx(3 / 8)
    assert jm.stages.loc["adoption", "median_months"] == 2
    adopted = jm.episodes[(jm.episodes["stage"] == "adoption")
                          & (jm.episodes["outcome"] == "converted")]
    assert sorted(adopted["account_id"]) == ["A04", "A07", "A08", "A09", "A11"]


def test_renewal_matches_the_hand_count_and_kpis(example: cs_sim.Dataset, jm) -> None:
    """A01 renews (2025-02), A02 does not (2025-03), A03 renews (2025-05)."""
    assert counts(jm, "renewal") == (3, 2, 1, 0)
    assert jm.metric("renewal", "renewal_rate") == pytest.approx(
        EXPECTED["renewals"]["renewal_rate"])
    by_kpis = renewal_rate(example.accounts, example.mrr)
    assert jm.metric("renewal", "up_for_renewal") == by_kpis["up_for_renewal"].sum()


def test_service_follow_window(jm) -> None:
    """First tickets: A01, A02, A05 (Jan), A04, A06, A08 (Feb), A07, A10 (Mar), A03, A09,
    A11 (Apr), A12 (May). Three months later A01, A04, A08 and A07 still pay; A02, A05,
    A06 and A10 have left; those from April on are still in the window."""
    assert counts(jm, "service") == (12, 4, 4, 4)
    assert jm.metric("service", "fcr") == pytest.approx(EXPECTED["support"]["fcr"])
    assert jm.metric("service", "aht_minutes") == pytest.approx(EXPECTED["support"]["aht"])
    assert jm.metric("service", "tickets") == EXPECTED["support"]["tickets"]


def test_training_and_consulting_from_interaction_kinds(jm) -> None:
    """QBRs: A01 (Jan), A03 (Feb), both still paying 3 months later; A01 expanded in Feb
    (1,200 -> 1,500), A03 did not: 1 of 2. Twelve accounts paid while interactions were
    recorded (2025-01 .. 2025-06), so reach is 2/12. Training: A01, A11 (Apr), A12 (May),
    all still within their window at the end of the data."""
    assert counts(jm, "consulting") == (2, 2, 0, 0)
    assert jm.metric("consulting", "expanded_after") == 0.5
    assert jm.metric("consulting", "reach") == pytest.approx(2 / 12)
    assert counts(jm, "training") == (3, 0, 0, 3)


def test_expansion_and_advocacy(example: cs_sim.Dataset, jm) -> None:
    """Established (6 paid months): A01, A02, A03 (2024) and A04, A07, A08, A09 (2025-06);
    A05 has only 4 paid months. Converted: A01 (promoter in Jan 2025, expansion in Feb),
    A04 and A08 (promoters in June), A09 (expansion in June); A02 leaves; A03 and A07 are
    still in the stage. Without surveys only the expansions count (A01, A09)."""
    assert counts(jm, "expansion_advocacy") == (7, 4, 1, 2)
    assert jm.metric("expansion_advocacy", "expansion_rate") == pytest.approx(2 / 7)
    minimal = journey_map(cs_sim.Dataset(accounts=example.accounts, mrr=example.mrr))
    assert counts(minimal, "expansion_advocacy") == (7, 2, 1, 4)


def test_touchpoints_owner_and_nps_by_stage(jm) -> None:
    """Onboarding windows hold the nine onboarding touchpoints, three training sessions of
    A11 and A12 and A06's support email; its NPS answers are A05's 6, A06's 2, A04's 8,
    A11's 9 and A12's 8: 1 promoter, 2 detractors of 5 -> NPS -20."""
    tp = jm.touchpoints[jm.touchpoints["stage"] == "onboarding"]
    assert tp.groupby("kind")["interactions"].sum().to_dict() == {
        "email": 1, "onboarding": 9, "training": 3}
    assert jm.stages.loc["onboarding", "owner_team"] == "cs"
    assert jm.stages.loc["onboarding", "owner_source"] == "interactions"
    assert jm.stages.loc["onboarding", "nps"] == pytest.approx(-20.0)
    assert jm.stages.loc["onboarding", "nps_responses"] == 5


def test_handoff_finds_the_account_between_teams(jm) -> None:
    """Of the nine accounts entering adoption only A06 (its window Feb-Mar holds a support
    email and no CS touchpoint) was not touched by the adoption owner, CS: 1/9."""
    h = jm.handoffs.set_index(["from_stage", "to_stage"]).loc[("onboarding", "adoption")]
    assert (h["from_team"], h["to_team"], bool(h["handoff"])) == ("cs", "cs", False)
    assert h["no_touch_share"] == pytest.approx(1 / 9)


def test_only_accounts_and_mrr(example: cs_sim.Dataset) -> None:
    """New accounts after the first month: A02, A03 (2024), A04..A12: 11. Still paying three
    months later: A02, A03, A04, A07, A08, A09, A10; A05 (0 in Apr) and A06 left; A11 and
    A12 started less than three months before the end."""
    jm = journey_map(cs_sim.Dataset(accounts=example.accounts, mrr=example.mrr, source="min"))
    assert counts(jm, "onboarding") == (11, 7, 2, 2)
    assert jm.stages.loc["onboarding", "status"] == "partial"
    assert jm.metric("onboarding", "onboarding_survival") == pytest.approx(7 / 9)
    for stage, table in (("adoption", "usage"), ("training", "interactions"),
                         ("consulting", "interactions"), ("service", "tickets")):
        assert jm.stages.loc[stage, "status"] == "not available"
        assert table in jm.unavailable[stage]
    assert jm.stages.loc["service", "owner_source"] == "default"
    assert counts(jm, "renewal") == (3, 2, 1, 0)
    assert "NPS by stage, advocacy" in jm.unavailable


def test_sample_runs_and_says_what_is_missing(sample: cs_sim.Dataset) -> None:
    jm = journey_map(sample)
    assert list(jm.stages.index) == list(STAGES)
    # the sample records no training touchpoints: the stage says so
    assert jm.stages.loc["training", "status"] == "no data"
    assert "training" in jm.unavailable
    # its renewals agree with the KPI library's renewal rate
    r = renewal_rate(sample.accounts, sample.mrr)
    assert jm.metric("renewal", "up_for_renewal") == r["up_for_renewal"].sum()
    assert jm.metric("renewal", "renewal_rate") == pytest.approx(
        r["renewed"].sum() / r["up_for_renewal"].sum())
    # every entered episode is resolved or in progress
    s = jm.stages
    assert (s["entered"] == s["converted"] + s["dropped"] + s["in_progress"]).all()


def test_bad_options_are_clear() -> None:
    ds = cs_sim.load_dataset(ROOT / "data" / "example")
    with pytest.raises(StrategyInputError, match="adoption_months: must be a whole number"):
        journey_map(ds, adoption_months=0)
    with pytest.raises(StrategyInputError, match="activation_share"):
        journey_map(ds, activation_share=1.5)


def test_renders_and_draws(jm, tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    text = jm.to_text()
    assert "62.5%" in text and "e+" not in text and "{" not in text
    assert json.dumps(jm.to_dict())
    files = {p.name for p in jm.write(tmp_path)}
    assert {"journey.json", "stages.csv", "journey.png"} <= files
    ax = jm.plot()
    labels = [t.get_text() for t in ax.texts]
    assert "Onboarding" in labels and any("converted 62.5%" in t for t in labels)
    # every text lies inside the figure (nothing clipped)
    fig = ax.figure
    fig.canvas.draw()
    box = fig.bbox
    for t in ax.texts:
        b = t.get_window_extent()
        assert box.x0 <= b.x0 and b.x1 <= box.x1 and box.y0 <= b.y0 and b.y1 <= box.y1
    plt.close("all")
    assert np.isfinite(jm.stages["entered"].to_numpy(dtype=float)).all()
