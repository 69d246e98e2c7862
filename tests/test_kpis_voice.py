"""Voice-of-the-customer KPIs against published examples, hand calculations and a
second computation (the score functions applied to filtered subsets)."""

from __future__ import annotations

import filecmp
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cs_sim.kpis import (
    KpiConfigError,
    KpiInputError,
    average_handle_time,
    ces,
    code_feedback,
    csat,
    feedback_themes,
    first_contact_resolution,
    load_feedback_taxonomy,
    nps,
    voice_by_period,
)

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- NPS
def test_nps_published_example() -> None:
    # the classic worked example: 100 answers, 50 promoters, 30 passives, 20 detractors
    scores = [9] * 25 + [10] * 25 + [7] * 15 + [8] * 15 + [0] * 5 + [6] * 15
    r = nps(scores)
    assert r.nps == pytest.approx(30.0)
    assert (r.promoters, r.passives, r.detractors, r.n) == (50, 30, 20, 100)
    assert (r.pct_promoters, r.pct_detractors) == (50.0, 20.0)
    # CI, computed independently: each answer is +1 / 0 / -1, NPS/100 is its mean,
    # so the standard error is the population sd of those values / sqrt(n)
    x = np.array([1] * 50 + [0] * 30 + [-1] * 20, dtype=float)
    se = 100 * x.std(ddof=0) / math.sqrt(len(x))
    z = stats.norm.ppf(0.975)
    assert r.ci_low == pytest.approx(30 - z * se)
    assert r.ci_high == pytest.approx(30 + z * se)
    # by hand: var = (0.5 + 0.2 - 0.3^2) / 100 = 0.0061 -> half-width 1.96 x 7.81 = 15.31
    assert r.ci_high - r.nps == pytest.approx(15.31, abs=0.01)


def test_nps_confidence_and_clipping() -> None:
    r90 = nps([10] * 50 + [7] * 30 + [3] * 20, confidence=0.90)
    r95 = nps([10] * 50 + [7] * 30 + [3] * 20)
    assert r90.ci_high - r90.nps < r95.ci_high - r95.nps
    assert (r90.ci_high - r90.nps) / (r95.ci_high - r95.nps) == pytest.approx(
        stats.norm.ppf(0.95) / stats.norm.ppf(0.975))
    # 3 promoters, 1 detractor: NPS 75 - 25 = 50; var = (1 - 0.5^2) / 4 = 0.1875,
    # half-width 1.96 x 43.3 = 84.9 -> [-34.9, 134.9], clipped at 100
    small = nps([10, 10, 9, 3])
    assert small.nps == 50.0 and small.ci_high == 100.0
    assert small.ci_low == pytest.approx(50 - stats.norm.ppf(0.975) * 100 * math.sqrt(0.1875))
    allp = nps([9, 10])
    assert (allp.nps, allp.ci_low, allp.ci_high) == (100.0, 100.0, 100.0)


@pytest.mark.parametrize("bad", [[11], [-1], [7.5], [], [np.nan, 9], ["nine"]])
def test_nps_invalid_scores(bad) -> None:
    with pytest.raises(ValueError, match="nps"):
        nps(bad)


def test_nps_bad_confidence() -> None:
    with pytest.raises(KpiInputError, match="confidence"):
        nps([9], confidence=95)


# --------------------------------------------------------------------------- CSAT, CES
def test_csat_top_two_box() -> None:
    # 4 and 5 are satisfied: 3 of 6 -> 50%
    assert csat([5, 4, 3, 2, 1, 5]) == pytest.approx(50.0)
    # on a 1-7 scale the top two boxes are 6 and 7: 2 of 4
    assert csat([7, 6, 5, 1], scale=7) == pytest.approx(50.0)
    with pytest.raises(ValueError, match="csat"):
        csat([0, 5])
    with pytest.raises(ValueError, match="no scores"):
        csat([])


def test_ces_mean() -> None:
    assert ces([7, 6, 2, 5]) == pytest.approx(5.0)
    with pytest.raises(ValueError, match="1 to 7"):
        ces([8])


# --------------------------------------------------------------------------- by period
def surveys_frame() -> pd.DataFrame:
    rows = [
        # id, account, date, kind, score, comment, plan
        ("r1", "A", "2024-01-05", "nps", 10, "Great support team, very responsive", "pro"),
        ("r2", "A", "2024-01-20", "csat", 4, "Onboarding was confusing", "pro"),
        ("r3", "B", "2024-01-10", "nps", 3, "", "basic"),
        ("r4", "C", "2024-03-01", "ces", 6, None, "pro"),
        ("r5", "C", "2024-03-02", "nps", 8, "Too EXPENSIVE and slow loading", "pro"),
        ("r6", "B", "2024-03-05", "nps", 9, "It crashes often!", "basic"),
        ("r7", "A", "2024-03-09", "csat", 2, "debugging is hard", "pro"),
        ("r8", "B", "2024-04-02", "ces", 3, "Missing an export to Excel", "basic"),
    ]
    df = pd.DataFrame(rows, columns=["response_id", "account_id", "date", "kind", "score",
                                     "comment", "plan"])
    df["date"] = pd.to_datetime(df["date"])
    return df


def test_voice_by_period_hand() -> None:
    out = voice_by_period(surveys_frame()).set_index("period")
    assert list(out.index) == list(pd.date_range("2024-01-01", "2024-04-01", freq="MS"))
    # Jan: NPS answers 10, 3 -> 50% - 50% = 0; CSAT 4 -> 100%; no CES
    assert out.loc["2024-01-01", "nps"] == 0.0 and out.loc["2024-01-01", "nps_n"] == 2
    assert out.loc["2024-01-01", "csat"] == 100.0
    assert math.isnan(out.loc["2024-01-01", "ces"])
    # Feb: nothing at all, still a row
    assert out.loc["2024-02-01", ["nps_n", "csat_n", "ces_n"]].tolist() == [0, 0, 0]
    assert math.isnan(out.loc["2024-02-01", "nps"])
    # Mar: NPS 8, 9 -> 50 - 0 = 50; CSAT 2 -> 0%; CES 6
    assert out.loc["2024-03-01", "nps"] == 50.0
    assert out.loc["2024-03-01", "csat"] == 0.0
    assert out.loc["2024-03-01", "ces"] == 6.0


def test_voice_by_period_matches_score_functions_on_subsets() -> None:
    df = surveys_frame()
    q = voice_by_period(df, freq="Q", by="plan")
    for (plan, period), row in q.set_index(["plan", "period"]).iterrows():
        sub = df[(df["plan"] == plan) & (df["date"].dt.to_period("Q").dt.start_time == period)]
        n_sub = sub[sub["kind"] == "nps"]["score"]
        if len(n_sub):
            ref = nps(n_sub)
            assert row["nps"] == pytest.approx(ref.nps)
            assert row["nps_ci_low"] == pytest.approx(ref.ci_low)
        else:
            assert row["nps_n"] == 0 and math.isnan(row["nps"])
        c_sub = sub[sub["kind"] == "csat"]["score"]
        if len(c_sub):
            assert row["csat"] == pytest.approx(csat(c_sub))
    overall = voice_by_period(df, freq=None).iloc[0]
    assert overall["nps"] == pytest.approx(nps(df.loc[df["kind"] == "nps", "score"]).nps)
    assert overall["ces"] == pytest.approx(ces(df.loc[df["kind"] == "ces", "score"]))


def test_voice_by_period_invalid_scores() -> None:
    df = surveys_frame()
    df.loc[1, "score"] = 6  # csat above 5
    with pytest.raises(KpiInputError, match="'csat' score"):
        voice_by_period(df)
    with pytest.raises(KpiInputError, match="freq"):
        voice_by_period(surveys_frame(), freq="W")


# --------------------------------------------------------------------------- support
def tickets_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "ticket_id": ["t1", "t2", "t3", "t4", "t5"],
        "account_id": ["A", "A", "B", "C", "C"],
        "opened_at": pd.to_datetime(["2024-01-02", "2024-01-30", "2024-02-03", "2024-03-01",
                                     "2024-03-10"]),
        "resolved_at": pd.to_datetime(["2024-01-03", "2024-02-02", None, "2024-03-04",
                                       "2024-03-12"]),
        "contacts_to_resolve": [1, 2, 1, 1, 3],
        "category": ["bug", "billing", "bug", "how-to", "bug"],
        "handle_minutes": [10.0, 20.0, 5.0, 30.0, 45.0],
    })


def test_fcr_hand() -> None:
    out = first_contact_resolution(tickets_frame()).set_index("period")
    # by month resolved: Jan t1 (1 contact) -> 1/1; Feb t2 (2) -> 0/1; Mar t4 (1), t5 (3) -> 1/2
    # t3 is unresolved and left out
    assert out["resolved_tickets"].tolist() == [1, 1, 2]
    assert out["fcr"].tolist() == [1.0, 0.0, 0.5]
    by_cat = first_contact_resolution(tickets_frame(), by="category", freq=None).set_index(
        "category")
    # bug: t1 first contact, t5 not (t3 open) -> 1/2
    assert by_cat.loc["bug", "fcr"] == 0.5
    opened = first_contact_resolution(tickets_frame(), date_col="opened_at").set_index("period")
    # by month opened: Jan t1, t2 -> 1/2
    assert opened.loc["2024-01-01", "fcr"] == 0.5


def test_aht_hand() -> None:
    out = average_handle_time(tickets_frame()).set_index("period")
    # Jan (10 + 20) / 2 = 15; Feb 5; Mar (30 + 45) / 2 = 37.5
    assert out["aht"].tolist() == [15.0, 5.0, 37.5]
    total = average_handle_time(tickets_frame(), freq=None)
    assert total["aht"].item() == pytest.approx(110 / 5)
    bad = tickets_frame().assign(handle_minutes=[1.0, -2.0, 1.0, 1.0, 1.0])
    with pytest.raises(KpiInputError, match="handle_minutes"):
        average_handle_time(bad)


# --------------------------------------------------------------------------- themes
def test_feedback_themes_hand() -> None:
    out = feedback_themes(surveys_frame()).set_index("theme")
    # non-blank comments: r1, r2, r5, r6, r7, r8 -> 6
    assert (out["n_comments"] == 6).all()
    # r1 'support' + 'responsive' -> support (promoter: positive)
    assert out.loc["support", ["comments", "positive"]].tolist() == [1, 1]
    # r2 onboarding + confusing -> onboarding and ease_of_use (csat 4: positive)
    assert out.loc["onboarding", "comments"] == 1
    assert out.loc["ease_of_use", "comments"] == 1
    # r5 EXPENSIVE (case-insensitive) + slow loading -> pricing, performance; NPS 8 neutral
    assert out.loc["pricing", ["comments", "neutral"]].tolist() == [1, 1]
    assert out.loc["performance", "comments"] == 1
    # r6 'crashes' via crash* -> reliability
    assert out.loc["reliability", "comments"] == 1
    # r8 'Missing', 'export' -> missing_features; CES 3 negative
    assert out.loc["missing_features", ["comments", "negative"]].tolist() == [1, 1]
    # r7 'debugging' must NOT match 'bug*' (word boundary at the start) -> uncoded
    assert out.loc["uncoded", ["comments", "negative"]].tolist() == [1, 1]
    assert out.loc["pricing", "share"] == pytest.approx(1 / 6)
    assert list(out.index)[-1] == "uncoded"


def test_feedback_themes_by_segment_and_custom_taxonomy() -> None:
    tax = {"money": ["expensive", "price*"], "stability": ["crash*", "bug"]}
    out = feedback_themes(surveys_frame(), taxonomy=tax, by="plan")
    basic = out[out["plan"] == "basic"].set_index("theme")
    # basic comments: r6 (crashes), r8 (missing export) -> 2
    assert basic.loc["stability", "comments"] == 1
    assert basic.loc["uncoded", "comments"] == 1
    assert basic["n_comments"].iloc[0] == 2
    coded = code_feedback(["A bug.", "bugs", "debug", "Price-list", None], taxonomy=tax)
    assert coded["stability"].tolist() == [True, False, False, False, False]
    assert coded["money"].tolist() == [False, False, False, True, False]


def test_taxonomy_files(tmp_path: Path) -> None:
    packaged = ROOT / "cs_sim" / "resources" / "feedback_themes.yaml"
    assert filecmp.cmp(packaged, ROOT / "templates" / "feedback_themes.yaml", shallow=False)
    themes = load_feedback_taxonomy()
    assert {"onboarding", "pricing", "support", "reliability", "missing_features",
            "ease_of_use", "performance"} <= set(themes)
    bad = tmp_path / "t.yaml"
    bad.write_text("themes:\n  pricing: []\n")
    with pytest.raises(KpiConfigError, match=r"t\.yaml: themes\.pricing"):
        load_feedback_taxonomy(bad)
    bad.write_text("themes: [a, b\n")
    with pytest.raises(KpiConfigError, match="not valid YAML"):
        load_feedback_taxonomy(bad)
    bad.write_text("thems:\n  a: [b]\n")
    with pytest.raises(KpiConfigError, match="unknown key"):
        load_feedback_taxonomy(bad)


def test_fcr_without_resolved_tickets_is_empty() -> None:
    open_only = tickets_frame().assign(resolved_at=pd.NaT)
    out = first_contact_resolution(open_only)
    assert out.empty and list(out.columns) == ["period", "resolved_tickets", "first_contact",
                                               "fcr"]


def test_code_feedback_several_themes_and_phrases() -> None:
    coded = code_feedback(["I can't find the export and the UI is slow",
                           "Set   up took ages", "price"])
    first = coded.iloc[0]
    # "can't", "export" -> missing_features; "UI" -> ease_of_use; "slow" -> performance
    assert first[["missing_features", "ease_of_use", "performance"]].all()
    assert not first[["pricing", "support", "onboarding"]].any()
    # a phrase matches across any whitespace
    assert coded.loc[1, "onboarding"]
    assert coded.loc[2, "pricing"]
