"""cs_sim.segmentation: segments, trade-offs, targeting and personas.

Truth comes from outside the code: the synthetic company of data/sample, whose true
segments and their churn parameters are in ground_truth.json; hand calculations on
data/example (its README) and on small datasets built here; and separable point clouds
for the clustering.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cs_sim
from cs_sim.errors import CsSimError, MissingTableError
from cs_sim.io import Dataset
from cs_sim.segmentation import (
    BehaviourModel,
    attractiveness,
    compare_segmentations,
    personas,
    personas_html,
    segment_accounts,
    service_model,
    targeting,
)
from cs_sim.segmentation._segments import MrrPanel, account_costs

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sample() -> Dataset:
    return cs_sim.load_dataset(ROOT / "data" / "sample")


@pytest.fixture(scope="module")
def example() -> Dataset:
    return cs_sim.load_dataset(ROOT / "data" / "example")


@pytest.fixture(scope="module")
def tradeoffs(sample: Dataset):
    return compare_segmentations(sample)


def _accounts(ids: list[str], **cols: list) -> pd.DataFrame:
    n = len(ids)
    base = {"account_id": ids, "name": ids, "industry": ["retail"] * n,
            "employees": [10] * n, "region": ["EMEA"] * n,
            "signup_date": pd.to_datetime(["2023-06-01"] * n), "plan": ["basic"] * n,
            "contract": ["monthly"] * n, "csm_id": [None] * n}
    base.update(cols)
    return pd.DataFrame(base)


def _mrr(paying: dict[str, list[str]]) -> pd.DataFrame:
    rows = [(a, pd.Timestamp(m), 100.0) for a, months in paying.items() for m in months]
    return pd.DataFrame(rows, columns=["account_id", "month", "mrr"])


# --------------------------------------------------------------------------- trade-offs
def test_true_segmentation_of_the_sample_ranks_first(tradeoffs, sample) -> None:
    truth = json.loads((ROOT / "data" / "sample" / "ground_truth.json").read_text())
    segments = truth["behaviour"]["segments"]
    assert set(sample.accounts["segment"]) == set(segments)
    print(tradeoffs.to_text())
    table = tradeoffs.table
    assert table.index[0] == "segment" and tradeoffs.recommended == "segment"
    assert table.loc["segment", "eligible"] and table.loc["segment", "score"] == 100
    # every other candidate explains less of both churn and NRR
    others = table.drop(index="segment")
    assert (others["churn_explained"] < table.loc["segment", "churn_explained"]).all()
    assert (others["nrr_explained"] < table.loc["segment", "nrr_explained"]).all()
    # the generator gives industry no effect: its differences are not statistically real
    assert not table.loc["industry", "eligible"]
    assert table.loc["industry", "churn_p_value"] > 0.05
    # the segment with the far highest churn intercept (smb) churns most; mid-market and
    # enterprise realise about the same churn once health settles, so their order is not
    # something the generator fixes
    seg = tradeoffs.segments_of("segment").set_index("segment")["logo_churn_rate"]
    riskiest = max(segments, key=lambda s: segments[s]["churn_intercept"])
    assert seg.idxmax() == riskiest
    assert "segment by the dataset's own segment column" in tradeoffs.reason


def test_tradeoff_figures_by_hand() -> None:
    # 20 accounts in two segments, all paying 2024-01 .. 2024-04; five of segment A stop
    # after 2024-04. Segments are assigned in 2024-03 (split 2024-04), outcomes to 2024-06.
    months = [f"2024-0{m}" for m in range(1, 7)]
    ids = [f"A{i:02d}" for i in range(20)]
    seg = ["A"] * 10 + ["B"] * 10
    paying = {a: months if not (s == "A" and i < 5) else months[:4]
              for i, (a, s) in enumerate(zip(ids, seg, strict=True))}
    ds = Dataset(accounts=_accounts(ids, segment=seg), mrr=_mrr(paying), source="hand")
    out = compare_segmentations(ds, candidates=["segment"], split="2024-04", min_size=5)
    row = out.table.loc["segment"]
    assert out.t0 == pd.Timestamp("2024-03-01") and out.end == pd.Timestamp("2024-06-01")
    # churn y: A = 0.5 mean, B = 0, overall 0.25. SS_total = 5 x 0.75^2 + 15 x 0.25^2
    # = 3.75; SS_between = 10 x 0.25^2 x 2 = 1.25; eta^2 = 1/3 (NRR ratio = 1 - churn here)
    assert row["churn_explained"] == pytest.approx(1 / 3)
    assert row["nrr_explained"] == pytest.approx(1 / 3)
    assert (row["n_segments"], row["min_size"], row["stability"]) == (2, 10, 1.0)
    # Yates-corrected chi-square of [[5, 5], [0, 10]]: expected 2.5/7.5 in each row,
    # (|5 - 2.5| - 0.5)^2 x (2/2.5 + 2/7.5) = 4 x 1.0667 = 4.267 -> p = 0.0389 (1 df)
    assert row["churn_p_value"] == pytest.approx(0.03888, abs=1e-4)
    # ANOVA F of NRR: (R2 / 1) / ((1 - R2) / 18) = 9, i.e. t = 3 on 18 df -> p = 0.00766;
    # p_value doubles the smaller p for testing two outcomes -> 0.0153
    assert row["nrr_p_value"] == pytest.approx(0.00766, abs=1e-4)
    assert row["p_value"] == pytest.approx(2 * row["nrr_p_value"])
    assert row["eligible"]
    segs = out.segments_of("segment").set_index("segment")
    assert segs.loc["A", "logo_churn_rate"] == 0.5 and segs.loc["B", "nrr"] == 1.0


def test_tradeoffs_need_enough_history_and_say_what_is_missing(example) -> None:
    short = Dataset(accounts=_accounts(["A1", "A2"]),
                    mrr=_mrr({"A1": ["2024-01", "2024-02"], "A2": ["2024-01"]}))
    out = compare_segmentations(short)
    assert out.recommended is None and "at least 4" in out.to_text()
    bare = Dataset(accounts=example.accounts, mrr=example.mrr, source="bare")
    out = compare_segmentations(bare)
    assert "usage band" in out.unavailable and "behaviour clusters" in out.unavailable
    assert "usage" in out.unavailable["usage band"]
    assert "cost to serve" in out.unavailable
    text = out.to_text()
    assert "Not available" in text and "e-0" not in text and "{" not in text
    # 12 paying accounts: nothing is big enough to be recommended, and it says so
    assert not out.table["eligible"].any()
    assert "no candidate passes the checks" in out.reason
    json.dumps(out.to_dict())


def test_tradeoffs_render_and_write(tradeoffs, tmp_path: Path) -> None:
    html = tradeoffs._repr_html_()
    assert "Recommendation" in html and "the dataset&#x27;s own segment column" in html
    files = {p.name for p in tradeoffs.write(tmp_path)}
    assert files == {"segmentation.json", "segmentation.txt", "segmentation_tradeoffs.csv",
                     "segmentation_segments.csv"}
    data = json.loads((tmp_path / "segmentation.json").read_text())
    assert data["recommended"] == "segment"


# --------------------------------------------------------------------------- segments
def test_segment_accounts_by_hand(example) -> None:
    size = segment_accounts(example, "size_band")
    # employees: A01 1,200; A03 300; A07 60; A10 12 (README); A13/A14 never paid
    assert size["A01"] == "1,000+ employees" and size["A03"] == "250-999 employees"
    assert size["A07"] == "50-249 employees" and size["A10"] == "1-49 employees"
    assert "A13" not in size.index and len(size) == 12
    stage = segment_accounts(example, "lifecycle_stage", at="2025-04")
    # A05 pays 0 in 2025-04 (paused): churned; A01 signed up 2024-02: 14 months
    assert stage["A05"] == "churned" and stage["A01"] == "established (12-23 months)"
    assert stage["A04"] == "adoption (3-11 months)"  # signed up 2025-01-06
    tier = segment_accounts(example, "arr_tier", at="2025-06")
    # last MRR paid up to 2025-06 (README table), 12 accounts ranked: A01 1,500, A12 1,200,
    # A02 1,000, A08 1,000, A04 750, A03 600, then six at 500 or less. Top 20%: ranks
    # 1-2 (2/12 <= 0.2 < 3/12); next 30%: ranks 3-6; bottom 50%: the other six
    assert tier[["A01", "A12"]].eq("top 20% by ARR").all()
    assert tier[["A02", "A08", "A04", "A03"]].eq("next 30% by ARR").all()
    assert (tier == "bottom 50% by ARR").sum() == 6
    plan = segment_accounts(example, "plan")
    assert plan["A01"] == "enterprise"
    with pytest.raises(CsSimError, match="cannot segment by 'colour'.*size_band"):
        segment_accounts(example, "colour")
    with pytest.raises(CsSimError, match="not a month of the mrr data"):
        segment_accounts(example, "arr_tier", at="2031-01")
    bare = Dataset(accounts=example.accounts, mrr=example.mrr)
    with pytest.raises(MissingTableError, match="usage"):
        segment_accounts(bare, "usage_band")


def test_behaviour_clusters_recover_separated_groups() -> None:
    # three clouds 10 standard deviations apart in the first two features
    rng = np.random.default_rng(7)
    centres = np.array([[0, 0, 0, 0], [10, 0, 0, 0], [0, 10, 0, 0]], dtype=float)
    truth = np.repeat([0, 1, 2], 40)
    x = centres[truth] + rng.normal(size=(120, 4))
    frame = pd.DataFrame(x, columns=["seats", "activation", "minutes_per_user",
                                     "feature_use_per_user"])
    model = BehaviourModel.fit(frame, seed=0)
    assert len(model.labels_) == 3  # k chosen by silhouette
    got = model.assign(frame).cat.codes.to_numpy()
    assert pd.crosstab(got, truth).gt(0).sum(axis=1).eq(1).all()  # each cluster one cloud
    again = BehaviourModel.fit(frame, seed=0)
    assert np.array_equal(again.centroids_, model.centroids_)  # seeded: reproducible
    # the cloud far out on seats is described as large teams
    assert any("large teams" in label for label in model.labels_)


def test_cost_to_serve_by_hand() -> None:
    accounts = _accounts(["A1", "A2"])
    mrr = _mrr({"A1": ["2024-01", "2024-02", "2024-03", "2024-04"],
                "A2": ["2024-01", "2024-02", "2024-03", "2024-04"]})
    tickets = pd.DataFrame({
        "ticket_id": ["T1", "T2", "T3"], "account_id": ["A1", "A2", "A1"],
        "opened_at": pd.to_datetime(["2024-02-03", "2024-03-04", "2024-01-10"]),
        "resolved_at": pd.to_datetime(["2024-02-03", "2024-03-05", "2024-01-10"]),
        "contacts_to_resolve": [1, 1, 1], "category": ["bug"] * 3,
        "handle_minutes": [60.0, 30.0, 500.0]})
    interactions = pd.DataFrame({
        "account_id": ["A1", "A2", "A2"], "date": pd.to_datetime(["2024-02-01", "2024-03-01",
                                                                  "2024-04-01"]),
        "kind": ["qbr", "email", "call"], "owner_team": ["cs"] * 3})
    costs = pd.DataFrame({"month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01",
                                                   "2024-04-01"]),
                          "cs_cost": [999.0, 200.0, 200.0, 200.0],
                          "support_cost": [999.0, 300.0, 300.0, 300.0],
                          "tooling_cost": [50.0] * 4})
    ds = Dataset(accounts=accounts, mrr=mrr, tickets=tickets, interactions=interactions,
                 costs=costs)
    panel = MrrPanel.of(ds)
    got, why = account_costs(ds, panel, pd.Timestamp("2024-01-01"), pd.Timestamp("2024-04-01"))
    assert why is None
    # window 2024-02 .. 2024-04: support 900 over 90 minutes = 10 per minute; CS 600 over
    # 3 interactions = 200 each. A1: 60 x 10 + 1 x 200 = 800; A2: 300 + 400 = 700
    assert got.loc["A1", "cost"] == pytest.approx(800) and got.loc["A2", "cost"] == 700
    assert got.loc["A1", "paying_months"] == 3


# --------------------------------------------------------------------------- targeting
def test_service_model_by_hand(example) -> None:
    out = service_model(example, "plan")
    # 2025-06 MRR (README): enterprise A01 1,500 + A12 1,200; growth A03 600, A04 750,
    # A07 250, A08 1,000, A11 500; starter A05 250, A09 500. Company ARPA = 6,550 / 9
    # = 727.8
    # enterprise ARPA 1,350 >= 1.5 x 727.8 -> high touch; growth 3,100 / 5 = 620 and
    # starter 750 / 2 = 375 are >= 0.5 x 727.8 = 363.9 -> low touch
    assert out["accounts"].tolist() == [2, 5, 2] and out["mrr"].sum() == 6550
    assert out.loc["starter", "arpa"] == 375
    assert out["tier"].tolist() == ["high_touch", "low_touch", "low_touch"]
    # headcount = accounts / coverage (40 accounts per high-touch CSM)
    assert out.loc["enterprise", "csm_headcount"] == pytest.approx(2 / 40)
    custom = service_model(example, "plan", tiers={"starter": "tech_touch"},
                           coverage={"tech_touch": 4})
    assert custom.loc["starter", "csm_headcount"] == pytest.approx(
        custom.loc["starter", "accounts"] / 4)
    with pytest.raises(CsSimError, match="unknown service tier"):
        service_model(example, "plan", tiers={"starter": "platinum"})


def test_attractiveness_ranks_the_sample_segments(sample) -> None:
    out = attractiveness(sample, "segment")
    assert out["revenue_share"].sum() == pytest.approx(1.0)
    # the generator's enterprise segment pays most and churns least -> most attractive
    assert out["score"].idxmax() == "enterprise" and out.loc["enterprise", "priority"] == 1
    assert out["risk"].idxmax() == "smb"
    assert out["score"].between(0, 100).all()


def test_personas_escape_customer_text(example) -> None:
    evil = "<script>alert('x')</script>"
    surveys = example.surveys.copy()
    surveys.loc[surveys["response_id"] == "S18", "comment"] = f"Bugs everywhere {evil}"
    accounts = example.accounts.copy()
    accounts.loc[accounts["plan"] == "enterprise", "plan"] = "<b>big</b>"
    ds = Dataset(**{**{k: getattr(example, k) for k in ("mrr", "usage", "tickets", "trials",
                                                       "interactions", "costs")},
                    "accounts": accounts, "surveys": surveys})
    cards = personas(ds, "plan")
    assert [c.segment for c in cards] == ["<b>big</b>", "growth", "starter"]
    big = cards[0]
    assert big.tier == "high_touch" and big.pain_points[0].startswith("reliability")
    assert evil in (big.quote or "") and "<script>" in big.to_text()
    html = personas_html(cards)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>big</b>" not in html and "&lt;b&gt;big&lt;/b&gt;" in html
    result = targeting(ds, "plan")
    page = result._repr_html_()
    assert "<script>" not in page and "<b>big</b>" not in page
    json.dumps(result.to_dict())


def test_targeting_on_a_dataset_with_only_accounts_and_mrr(sample, tmp_path: Path) -> None:
    bare = Dataset(accounts=sample.accounts, mrr=sample.mrr, source="bare")
    out = targeting(bare, "segment")
    assert out.attractiveness["cost_to_serve"].isna().all()
    assert {"cost to serve", "persona pain points", "persona channels from data"} <= set(
        out.unavailable)
    assert all(not p.pain_points for p in out.personas)
    assert out.personas[0].channels  # the tier's channels instead
    text = out.to_text()
    assert "Not available" in text and "e+0" not in text
    assert {p.name for p in out.write(tmp_path)} >= {"targeting.json", "personas.html"}


def test_tradeoff_chart_draws_the_table(tradeoffs) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert tradeoffs.plot(ax=ax) is ax
    n = len(tradeoffs.table)
    churn = [p.get_width() for p in ax.patches[:n]]
    assert churn == pytest.approx(tradeoffs.table["churn_explained"].iloc[::-1].tolist())
    hatched = [bool(p.get_hatch()) for p in ax.patches[:n]]
    assert hatched == (~tradeoffs.table["eligible"].iloc[::-1]).tolist()
    plt.close(fig)
